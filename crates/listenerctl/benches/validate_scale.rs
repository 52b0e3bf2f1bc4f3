//! How `listenerctl validate` grows with the number of listeners: the
//! whole path (read, size and depth limits, locator, parse, neutral rules,
//! every profile's offline check, the portability report) at 1,000, 10,000
//! and 50,000 listeners. Linear growth shows as a time per listener that
//! stays flat across the three sizes (criterion prints it as throughput).
//! Recorded in docs/performance.md; run with
//! `cargo bench -p listenerctl --bench validate_scale`, or
//! `bench/validate_scale.sh` for the release binary's wall time and ratios.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use listenerctl::load;
use listenerctl::report::Portability;

/// The file `bench/gen_listeners.py` writes: four profiles (one per API)
/// and `n` listeners mixing TCP, UDP, HTTP and HTTPS on distinct ports.
fn listeners_file(n: usize) -> String {
    let mut s = String::from(
        "[profiles.gaap]\napi = \"tencent-gaap\"\ninstance = \"link-00000001\"\ncertificates = { web = \"cert-1\" }\n\n\
         [profiles.clb]\napi = \"tencent-clb\"\nregion = \"ap-guangzhou\"\ninstance = \"lb-00000001\"\ncertificates = { web = \"cert-1\" }\n\n\
         [profiles.alb]\napi = \"alibaba-alb\"\nregion = \"cn-hangzhou\"\ninstance = \"alb-0000000001\"\ncertificates = { web = \"103705\" }\n\n\
         [profiles.ga]\napi = \"alibaba-ga\"\ninstance = \"ga-0000000001\"\ncertificates = { web = \"103705\" }\n\n",
    );
    for i in 0..n {
        let port = 1 + (i % 65000);
        let body = match i % 4 {
            0 => format!("protocol = \"tcp\"\nports = {port}\nhealth_check = {{ kind = \"tcp\", interval_secs = 10, timeout_secs = 3 }}\n"),
            1 => format!("protocol = \"udp\"\nports = {port}\n"),
            2 => format!("protocol = \"http\"\nports = {port}\ntimeouts = {{ idle_secs = 60, request_secs = 30 }}\n"),
            _ => format!("protocol = \"https\"\nports = {port}\ntls = {{ certificates = [\"web\"] }}\n"),
        };
        s.push_str(&format!("[[listeners]]\nname = \"svc-{i}\"\n{body}\n"));
    }
    s
}

fn validate_path(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("listenerctl-validate-scale-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut g = c.benchmark_group("validate");
    g.sample_size(10).warm_up_time(Duration::from_secs(1));
    for n in [1_000usize, 10_000, 50_000] {
        let path: PathBuf = dir.join(format!("listeners-{n}.toml"));
        std::fs::write(&path, listeners_file(n)).expect("write");
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("listeners", n), &path, |b, path| {
            b.iter(|| {
                let loaded = load::load(Some(black_box(path))).expect("valid file");
                let report = Portability::build(&loaded, None).expect("report");
                black_box(report.render_text().len())
            })
        });
    }
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, validate_path);
criterion_main!(benches);
