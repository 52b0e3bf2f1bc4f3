//! Interrupting an apply of routes and backends converges, on GAAP and on
//! GA: `listenerctl apply` is killed (SIGKILL) once some but not all of a
//! listener's rules exist, then run again to completion. The listener must
//! then hold exactly the file's rules (each host and path once, with the
//! pool's endpoints), every request of a corpus must reach what the file
//! says, and `plan` must exit 0.
//!
//! GAAP writes one domain, rule or binding at a time, each waited for, so
//! an apply of a listener with eight hosts takes seconds and a kill lands
//! in its middle once a third of the rules are listed. GA makes a
//! listener's routes in one go: the default endpoint group, one virtual
//! group per pool the routes use (each waited for), then every forwarding
//! rule in one `CreateForwardingRules`; the kill lands after the default
//! group and at least one virtual group were asked for and before any
//! forwarding rule was, so the rerun meets a half-made set of groups.

#[allow(dead_code)] // the shared child helpers; this test uses part of them
mod child;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use child::{output, own_provider, run, spawn, Emu, BOUND};
use cloud_listeners::routing;
use serde_json::{json, Value};

/// Route hosts in the file; each has `/v1` and `/static`, and gets a `/`.
const HOSTS: usize = 8;

/// When the first apply is killed.
#[derive(Debug, Clone, Copy)]
enum KillAt {
    /// Once this share (1/n) of the wanted rules is listed.
    RulesListed { one_in: usize },
    /// Once `action` reached the emulator `at_least` times and `not_yet`
    /// never did.
    Requests {
        action: &'static str,
        at_least: u64,
        not_yet: &'static str,
    },
}

/// One API the test runs on.
struct Case {
    api: &'static str,
    instance: &'static str,
    /// The emulated service `/_emulator/resolve` names.
    service: &'static str,
    /// The profile's `region` line, where the API needs one.
    region: Option<&'static str>,
    /// Every asynchronous change takes this long on the emulator.
    delay: Duration,
    kill: KillAt,
}

const GAAP: Case = Case {
    api: "tencent-gaap",
    instance: "link-killrt01",
    service: "gaap",
    region: None,
    delay: Duration::from_millis(60),
    kill: KillAt::RulesListed { one_in: 3 },
};

/// GA: four endpoint groups (the default `web`, virtual `api`, `static`
/// and `web`), each waited for, before the one rule call; the delay keeps
/// the window between the second group and the rules wide.
const GA: Case = Case {
    api: "alibaba-ga",
    instance: "ga-killrt0001",
    service: "ga",
    region: Some("cn-hangzhou"),
    delay: Duration::from_millis(150),
    kill: KillAt::Requests {
        action: "CreateEndpointGroup",
        at_least: 2,
        not_yet: "CreateForwardingRules",
    },
};

fn file(case: &Case, url: &str) -> String {
    let (api, instance) = (case.api, case.instance);
    let region = case.region.map_or(String::new(), |r| format!("region = \"{r}\"\n"));
    let mut text = format!(
        "[profiles.p]\napi = \"{api}\"\n{region}instance = \"{instance}\"\nendpoint = \"{url}\"\n\
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

/// Requests of `action` the emulator counted, over every service.
fn requests_of(emu: &Emu, action: &str) -> u64 {
    emu.handle()
        .request_counts()
        .values()
        .filter_map(|a| a.get(action))
        .map(|c| c.requests)
        .sum()
}

#[test]
fn killed_apply_of_gaap_routes_converges_on_rerun() {
    killed_apply_converges_on_rerun(&GAAP);
}

#[test]
fn killed_apply_of_ga_routes_converges_on_rerun() {
    killed_apply_converges_on_rerun(&GA);
}

fn killed_apply_converges_on_rerun(case: &Case) {
    let (api, instance) = (case.api, case.instance);
    let emu = Emu::start(api, instance, &[], case.delay);
    let scratch = tempfile::tempdir().expect("temp dir");
    let dir = scratch.path();
    let path: PathBuf = dir.join("routes.toml");
    std::fs::write(&path, file(case, &emu.handle().url())).expect("write file");
    let path_arg = path.to_str().expect("utf-8 path");
    let args = ["apply", "-f", path_arg, "--profile", "p"];
    let provider = own_provider(&path, api);
    let rules_of = |provider: &dyn cloud_listeners::Provider| -> Vec<(Option<String>, String)> {
        let Ok(listeners) = emu.runtime.block_on(provider.list()) else {
            return Vec::new();
        };
        let Some(l) = listeners.first() else {
            return Vec::new();
        };
        let rules = provider.rules().expect("the API manages rules");
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
        let due = match case.kill {
            KillAt::RulesListed { one_in } => n >= wanted / one_in,
            KillAt::Requests {
                action,
                at_least,
                not_yet,
            } => {
                let (done, later) = (requests_of(&emu, action), requests_of(&emu, not_yet));
                assert_eq!(
                    later,
                    0,
                    "{not_yet} was sent before {at_least} {action} were seen\n{}",
                    output(dir, "first")
                );
                done >= at_least
            }
        };
        if due {
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
    let at_kill = match case.kill {
        KillAt::RulesListed { .. } => format!("{at_kill}/{wanted} rules"),
        KillAt::Requests { action, not_yet, .. } => format!(
            "{at_kill}/{wanted} rules, {} {action}, {} {not_yet}",
            requests_of(&emu, action),
            requests_of(&emu, not_yet)
        ),
    };
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
    assert_eq!(emu.count(api, instance), 1, "one listener");

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
                .json(&json!({"service": case.service, "instance": instance, "port": 80, "host": h, "path": p}))
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
        "{api}: killed apply at {at_kill} ({after_kill} rules after the kill); rerun converged, \
         {checked} requests agree, plan empty"
    );
}
