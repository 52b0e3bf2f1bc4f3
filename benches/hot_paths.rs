//! Criterion benchmarks of the hot paths: validating a spec, parsing a large
//! config, signing a request for each vendor family, and (as adapters land)
//! translating a spec for each vendor. Numbers are recorded in
//! docs/performance.md; run with `cargo bench --bench hot_paths`.

use std::hint::black_box;
use std::path::Path;

use cloud_listeners::{ConfigFile, Format, ListenerSpec};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn https_spec() -> ListenerSpec {
    let text = r#"
name = "partner-api"
description = "mutual TLS for partners"
protocol = "https"
ports = 8443
forwarding = { backend_protocol = "https", default_target = "api-servers" }
timeouts = { idle_secs = 60, request_secs = 30 }
client_ip = { mode = "headers", headers = { x_forwarded_for = true, x_forwarded_proto = true } }
[tls]
certificates = ["api-rsa", "api-ecc"]
http2 = true
client_auth = { verify = "required", ca_certificates = ["partners-ca"] }
"#;
    cloud_listeners::parse::from_str(text, Format::Toml).expect("valid bench spec")
}

/// A config with `n` listeners: TCP listeners on consecutive ports.
pub fn large_config(n: usize) -> String {
    let mut s = String::from("[profiles.p]\napi = \"tencent-clb\"\nregion = \"ap-guangzhou\"\ninstance = \"lb-1\"\n\n");
    for i in 0..n {
        s.push_str(&format!(
            "[[listeners]]\nname = \"svc-{i}\"\nprotocol = \"tcp\"\nports = {}\nscheduler = \"weighted_round_robin\"\nhealth_check = {{ kind = \"tcp\", interval_secs = 10, timeout_secs = 3 }}\n\n",
            10000 + i
        ));
    }
    s
}

fn validate(c: &mut Criterion) {
    let spec = https_spec();
    assert!(spec.violations().is_empty());
    c.bench_function("validate/https_mtls_spec", |b| b.iter(|| black_box(&spec).violations()));
}

fn parse(c: &mut Criterion) {
    let text = large_config(1000);
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Elements(1000));
    g.bench_function("config_1000_listeners_toml", |b| {
        b.iter(|| ConfigFile::from_text(black_box(&text), Format::Toml, Path::new("bench.toml")).expect("valid"))
    });
    g.finish();
}

fn sign(c: &mut Criterion) {
    let body = br#"{"LoadBalancerId":"lb-cuxw2rm0","Ports":[7572],"Protocol":"HTTPS","Certificate":{"SSLMode":"UNIDIRECTIONAL","CertId":"MsJyaXVm"}}"#;
    c.bench_function("sign/tencent_tc3", |b| {
        b.iter(|| {
            let headers = [
                ("content-type", "application/json"),
                ("host", "clb.tencentcloudapi.com"),
            ];
            let input = tencent_api::SignInput {
                method: "POST",
                path: "/",
                query: "",
                headers: &headers,
                payload: black_box(body),
                service: "clb",
                timestamp: 1_551_113_065,
            };
            tencent_api::sign(&input, "AKIDEXAMPLE", "secret-key-example")
        })
    });
    let params: Vec<(String, String)> = [
        ("LoadBalancerId", "alb-n5qw04uq8vavfe"),
        ("ListenerProtocol", "HTTPS"),
        ("ListenerPort", "443"),
        ("Certificates.1.CertificateId", "103705"),
        ("DefaultActions.1.Type", "ForwardGroup"),
        (
            "DefaultActions.1.ForwardGroupConfig.ServerGroupTuples.1.ServerGroupId",
            "sgp-8ilqs4axp6",
        ),
        ("ClientToken", "123e4567-e89b-12d3-a456-426655440000"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    c.bench_function("sign/alibaba_acs3", |b| {
        b.iter(|| {
            let headers = [
                ("host", "alb.cn-hangzhou.aliyuncs.com"),
                ("x-acs-action", "CreateListener"),
                (
                    "x-acs-content-sha256",
                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                ),
                ("x-acs-date", "2023-10-26T10:22:32Z"),
                ("x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"),
                ("x-acs-version", "2020-06-16"),
            ];
            let input = alibaba_api::sign::SignInput {
                method: "POST",
                path: "/",
                query: black_box(&params),
                headers: &headers,
                payload: b"",
            };
            alibaba_api::sign::sign(&input, "YourAccessKeyId", "YourAccessKeySecret")
        })
    });
}

/// The portable HTTPS listener and a profile per vendor mapping its aliases.
fn portable() -> (ListenerSpec, Vec<cloud_listeners::ProfileConfig>) {
    let file =
        ConfigFile::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/portable.toml")).expect("example loads");
    let spec = file
        .listeners
        .iter()
        .find(|l| l.name == "web-https")
        .expect("https listener")
        .clone();
    (spec, file.profiles.into_values().collect())
}

fn translate(c: &mut Criterion) {
    let (spec, profiles) = portable();
    let mut g = c.benchmark_group("check_and_translate");
    for profile in &profiles {
        assert!(cloud_listeners::check(profile, &spec).expect("compiled").is_empty());
        let spec = &spec;
        match profile.api.as_str() {
            "tencent-gaap" => {
                let instance = listener_tencent_gaap::config::Instance::parse(&profile.instance).expect("link-");
                g.bench_function("tencent_gaap", |b| {
                    b.iter(|| {
                        listener_tencent_gaap::translate::CreatePlan::from_spec(profile, black_box(spec))
                            .expect("translates")
                            .calls(&instance)
                    })
                });
            }
            "tencent-clb" => {
                g.bench_function("tencent_clb", |b| {
                    b.iter(|| {
                        assert!(listener_tencent_clb::check(profile, black_box(spec)).is_empty());
                        let ports = spec.ports.ranges();
                        listener_tencent_clb::translate::create_params(profile, &profile.instance, spec, &ports)
                    })
                });
            }
            "alibaba-alb" => {
                g.bench_function("alibaba_alb", |b| {
                    b.iter(|| {
                        assert!(listener_alibaba_alb::check(profile, black_box(spec)).is_empty());
                        let params = listener_alibaba_alb::translate::create_params(profile, spec, None);
                        alibaba_api::params::flatten(&params)
                    })
                });
            }
            "alibaba-ga" => {
                g.bench_function("alibaba_ga", |b| {
                    b.iter(|| {
                        assert!(listener_alibaba_ga::check(profile, black_box(spec)).is_empty());
                        let params = listener_alibaba_ga::translate::create_params(
                            &profile.instance,
                            spec,
                            &profile.aliases,
                            profile.owner(),
                        );
                        alibaba_api::params::flatten(&params)
                    })
                });
            }
            other => panic!("no translate bench for {other}"),
        }
    }
    g.finish();
}

criterion_group!(benches, validate, parse, sign, translate);
criterion_main!(benches);
