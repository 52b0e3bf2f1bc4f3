//! Interrupting an apply of routes and backends converges, on GAAP:
//! `listenerctl apply` is killed (SIGKILL) once some but not all of a
//! listener's rules exist, then run again to completion. The listener must
//! then hold exactly the file's rules (each host and path once, with the
//! pool's endpoints), every request of a corpus must reach what the file
//! says, and `plan` must exit 0. GAAP writes one domain, rule or binding at
//! a time, each waited for, so an apply of a listener with eight hosts takes
//! seconds and a kill lands in its middle.

#[allow(dead_code)] // the shared child helpers; this test uses part of them
mod child;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use child::{output, own_provider, run, spawn, Emu, BOUND};
use cloud_listeners::routing;
use serde_json::{json, Value};

const API: &str = "tencent-gaap";
const LINK: &str = "link-killrt01";
/// Route hosts in the file; each has `/v1` and `/static`, and gets a `/`.
const HOSTS: usize = 8;
/// Every asynchronous change takes this long on the emulator.
const DELAY: Duration = Duration::from_millis(60);

fn file(url: &str) -> String {
    let mut text = format!(
        "[profiles.p]\napi = \"{API}\"\ninstance = \"{LINK}\"\nendpoint = \"{url}\"\n\
         allow_insecure_http = true\nwait = {{ timeout_secs = 60, poll_interval_ms = 20 }}\n\n\
         [backends.web]\nendpoints = [{{ address = \"10.0.0.11\", port = 8080, weight = 50 }}, \
         {{ address = \"10.0.0.12\", port = 8080, weight = 50 }}]\n\n\
         [backends.api]\nendpoints = [{{ address = \"10.0.1.21\", port = 9000 }}]\n\n\
         [backends.static]\nendpoints = [{{ address = \"10.0.2.31\", port = 8081 }}]\n\n\
         [[listeners]]\nname = \"site\"\nprotocol = \"http\"\nports = 80\nbackend = \"web\"\nroutes = [\n"
    );
    for h in 0..HOSTS {
        text.push_str(&format!(
            "  {{ host = \"h{h}.example.com\", path = \"/v1\", backend = \"api\" }},\n  \
             {{ host = \"h{h}.example.com\", path = \"/static\", backend = \"static\" }},\n"
        ));
    }
    text.push_str("]\n");
    text
}

#[test]
fn killed_apply_of_gaap_routes_converges_on_rerun() {
    let emu = Emu::start(API, LINK, &[], DELAY);
    let scratch = tempfile::tempdir().expect("temp dir");
    let dir = scratch.path();
    let path: PathBuf = dir.join("routes.toml");
    std::fs::write(&path, file(&emu.handle().url())).expect("write file");
    let path_arg = path.to_str().expect("utf-8 path");
    let args = ["apply", "-f", path_arg, "--profile", "p"];
    let provider = own_provider(&path, API);
    let rules_of = |provider: &dyn cloud_listeners::Provider| -> Vec<(Option<String>, String)> {
        let Ok(listeners) = emu.runtime.block_on(provider.list()) else {
            return Vec::new();
        };
        let Some(l) = listeners.first() else {
            return Vec::new();
        };
        let rules = provider.rules().expect("GAAP manages rules");
        emu.runtime
            .block_on(rules.list_rules(&l.id))
            .unwrap_or_default()
            .into_iter()
            .map(|r| (r.spec.host.clone(), r.spec.path.clone()))
            .collect()
    };
    // The file's routes, a `/` per host and the root rule.
    let wanted = HOSTS * 3 + 1;

    // First run: killed once some, but not all, rules exist.
    let mut first = spawn(dir, "first", &args);
    let deadline = Instant::now() + BOUND;
    let at_kill = loop {
        let n = rules_of(provider.as_ref()).len();
        if n >= wanted / 3 {
            break n;
        }
        if let Some(status) = first.0.try_wait().expect("try_wait") {
            panic!(
                "apply ended ({status}) before it could be killed, with {n} rules\n{}",
                output(dir, "first")
            );
        }
        assert!(Instant::now() < deadline, "apply made no progress within {BOUND:?}");
        std::thread::sleep(Duration::from_millis(10));
    };
    first.0.kill().expect("SIGKILL");
    let status = first.wait_bounded();
    drop(first);
    assert!(
        !status.success(),
        "the first apply finished before the kill\n{}",
        output(dir, "first")
    );
    let after_kill = rules_of(provider.as_ref()).len();
    assert!(
        after_kill < wanted,
        "every rule was made before the kill ({after_kill})"
    );

    // Second run: to completion, then nothing left to plan.
    let (status, out) = run(dir, "second", &args);
    assert!(status.success(), "the rerun failed ({status})\n{out}");
    let (status, out) = run(dir, "plan", &["plan", "-f", path_arg, "--profile", "p"]);
    assert_eq!(status.code(), Some(0), "plan after the rerun\n{out}");

    // Exactly the file's rules, each once.
    let live = rules_of(provider.as_ref());
    let distinct: BTreeSet<_> = live.iter().cloned().collect();
    assert_eq!(distinct.len(), live.len(), "a rule twice: {live:?}");
    assert_eq!(live.len(), wanted, "{live:?}");
    assert_eq!(emu.count(API, LINK), 1, "one listener");

    // Every request reaches what the file says.
    let loaded = cloud_listeners::ConfigFile::load(&path).expect("file loads");
    let spec = &loaded.listeners[0];
    let http = reqwest::Client::new();
    let mut checked = 0;
    for h in (0..HOSTS)
        .map(|h| format!("h{h}.example.com"))
        .chain(["other.org".to_string()])
    {
        for p in ["/", "/v1", "/v1/x", "/static/a.css", "/v2"] {
            let ask = http
                .post(format!("{}/_emulator/resolve", emu.handle().url()))
                .json(&json!({"service": "gaap", "instance": LINK, "port": 80, "host": h, "path": p}))
                .send();
            let answer: Value = emu
                .runtime
                .block_on(async { ask.await?.json().await })
                .expect("resolve");
            let mut got: Vec<(String, u64)> = answer["endpoints"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|e| {
                    (
                        e["address"].as_str().unwrap_or("").to_string(),
                        e["port"].as_u64().unwrap_or(0),
                    )
                })
                .collect();
            got.sort();
            let mut want: Vec<(String, u64)> = routing::resolve(spec, &loaded.backends, &h, p)
                .endpoints()
                .iter()
                .map(|e| (e.address.clone(), u64::from(e.port)))
                .collect();
            want.sort();
            assert_eq!(got, want, "{h}{p}: {answer}");
            checked += 1;
        }
    }
    println!(
        "{API}: killed apply at {at_kill}/{wanted} rules ({after_kill} after the kill); rerun converged, \
         {checked} requests agree, plan empty"
    );
}
