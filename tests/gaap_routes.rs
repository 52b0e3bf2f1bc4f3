//! Routes and backends on Tencent GAAP end to end through the facade: an
//! HTTPS listener (two hosts, one with its own certificate, three paths, a
//! default backend) and a TCP listener with one backend are planned and
//! applied to the in-process emulator. A corpus of requests is resolved
//! by the emulated GAAP's own matcher (`POST /_emulator/resolve`) and by
//! the neutral semantics (`listener_core::routing`): endpoints and the
//! certificate served agree on every one, and a second plan is empty.
//! Then one backend endpoint and one certificate change in the file: the
//! plan updates rules in place only, the corpus agrees again, and the
//! plan after that is empty.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use cloud_listeners::plan::{
    apply, plan_with_resources, ApplyOptions, FileResources, Plan, Prune, ResourceKind, ResourceOp,
};
use listener_core::routes::{Backend, BackendEndpoint, Route};
use listener_core::{
    routing, Adapter, BackendProtocol, Forwarding, InlineCredentials, ListenerSpec, Ports, ProfileConfig, Protocol,
    Provider, Secret, Tls, WaitConfig,
};
use listener_emulator::{
    EmulatorHandle, Fault, FaultRule, RandomFaults, DEFAULT_TENCENT_SECRET_ID, DEFAULT_TENCENT_SECRET_KEY,
};
use listener_tencent_gaap::GaapProvider;
use serde_json::{json, Value};

const LINK: &str = "link-routes01";

fn ep(address: &str, port: u32, weight: u32) -> BackendEndpoint {
    let mut e = BackendEndpoint::new(address, port);
    e.weight = weight;
    e
}

fn backends() -> BTreeMap<String, Backend> {
    let mut b = BTreeMap::new();
    b.insert(
        "web".to_string(),
        Backend::inline(vec![ep("10.0.0.11", 8080, 50), ep("10.0.0.12", 8080, 50)]),
    );
    b.insert(
        "api".to_string(),
        Backend::inline(vec![ep("10.0.1.21", 9000, 100), ep("10.0.1.22", 9000, 100)]),
    );
    b.insert("reports".to_string(), Backend::inline(vec![ep("10.0.3.41", 9100, 100)]));
    b.insert("static".to_string(), Backend::inline(vec![ep("10.0.2.31", 8081, 100)]));
    b.insert("db".to_string(), Backend::inline(vec![ep("10.0.9.1", 5432, 100)]));
    b
}

fn listeners() -> Vec<ListenerSpec> {
    let mut site = ListenerSpec::new("site", Protocol::Https, Ports::Single(443));
    site.tls = Some(Tls {
        certificates: vec!["site-cert".into()],
        policy: None,
        http2: None,
        http3: None,
        sni: None,
        client_auth: None,
    });
    site.forwarding = Some(Forwarding {
        backend_protocol: Some(BackendProtocol::Http),
        default_target: None,
    });
    site.backend = Some("web".into());
    let with_cert = |mut r: Route| {
        r.certificate = Some("api-cert".into());
        r
    };
    site.routes = vec![
        with_cert(Route::new("api.example.com", "/v1", "api")),
        with_cert(Route::new("api.example.com", "/v1/reports", "reports")),
        Route::new("www.example.com", "/static", "static"),
    ];
    let mut db = ListenerSpec::new("db", Protocol::Tcp, Ports::Single(5432));
    db.backend = Some("db".into());
    vec![site, db]
}

fn profile(url: &str) -> ProfileConfig {
    let mut p = ProfileConfig::new("tencent-gaap", LINK);
    p.endpoint = Some(url.to_string());
    p.allow_insecure_http = true;
    p.rate_limit_per_second = Some(1000.0);
    p.wait = Some(WaitConfig::uniform(20, 10));
    p.inline_credentials = Some(InlineCredentials {
        key_id: DEFAULT_TENCENT_SECRET_ID.into(),
        secret: Secret::new(DEFAULT_TENCENT_SECRET_KEY),
        token: None,
    });
    for (alias, id) in [
        ("site-cert", "cert-site"),
        ("api-cert", "cert-api"),
        ("api-cert-2027", "cert-api-2027"),
    ] {
        p.aliases.certificates.insert(alias.into(), id.into());
    }
    p
}

async fn plan(
    provider: &GaapProvider,
    profile: &ProfileConfig,
    specs: &[ListenerSpec],
    b: &BTreeMap<String, Backend>,
) -> Plan {
    let resources = FileResources {
        backends: b,
        aliases: &profile.aliases,
    };
    plan_with_resources(provider, specs, specs, resources, Prune::Managed)
        .await
        .expect("plan")
}

async fn run(provider: &Arc<GaapProvider>, plan: &Plan) {
    let dynp: Arc<dyn Provider> = provider.clone();
    let report = apply(dynp, plan, &ApplyOptions::default(), &|_| {})
        .await
        .expect("apply");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
}

type Ends = Vec<(String, u64, u64)>;

async fn resolve(http: &reqwest::Client, em: &EmulatorHandle, port: u32, host: &str, path: &str) -> Value {
    http.post(format!("{}/_emulator/resolve", em.url()))
        .json(&json!({"service": "gaap", "instance": LINK, "port": port, "host": host, "path": path}))
        .send()
        .await
        .expect("resolve answers")
        .json()
        .await
        .expect("resolve is JSON")
}

fn ends(answer: &Value) -> Ends {
    listener_emulator::resolved_endpoints(answer)
}

/// The corpus on both listeners agrees with the file; returns its size.
async fn agree(
    em: &EmulatorHandle,
    profile: &ProfileConfig,
    specs: &[ListenerSpec],
    b: &BTreeMap<String, Backend>,
) -> usize {
    let http = reqwest::Client::new();
    let hosts = [
        "api.example.com",
        "API.Example.com:443",
        "www.example.com",
        "www.example.com:443",
        "other.org",
        "",
        "apix.example.com",
        "example.com",
    ];
    let paths = [
        "/",
        "/v1",
        "/v1/",
        "/v1x",
        "/v1/users?id=3",
        "/v1/reports",
        "/v1/reports/2026",
        "/v1/report",
        "/static",
        "/static/app.css",
        "/staticx",
        "/v2",
    ];
    let mut bad = Vec::new();
    let mut n = 0;
    for (spec, port) in [(&specs[0], 443), (&specs[1], 5432)] {
        for host in hosts {
            for path in paths {
                let answer = resolve(&http, em, port, host, path).await;
                let mut want: Ends = routing::resolve(spec, b, host, routing::normalize_path(path))
                    .endpoints()
                    .iter()
                    .map(|e| (e.address.clone(), u64::from(e.port), u64::from(e.weight)))
                    .collect();
                want.sort();
                let want_cert = if spec.protocol == Protocol::Https {
                    let alias = routing::certificate_for(&spec.routes, host).unwrap_or("site-cert");
                    json!(profile.aliases.certificate(alias).unwrap_or(alias))
                } else {
                    Value::Null
                };
                if answer["status"] != json!(200) || ends(&answer) != want || answer["certificate"] != want_cert {
                    bad.push(format!(
                        "{port} {host}{path}: GAAP {answer}, neutral {want:?} {want_cert}"
                    ));
                }
                n += 1;
            }
        }
    }
    assert!(bad.is_empty(), "{} of {n} disagree:\n{}", bad.len(), bad.join("\n"));
    n
}

async fn emulator(faults: Option<RandomFaults>) -> EmulatorHandle {
    let mut b = common::one_instance("gaap", LINK, &[], 20);
    if let Some(f) = faults {
        // One scripted task failure on top of the random ones, so every
        // run meets the kind.
        b = b
            .random_faults(f)
            .fault_rule(FaultRule::new(Fault::TaskFailure).skip(3));
    }
    b.start().await.expect("emulator starts")
}

#[tokio::test]
async fn a_file_with_routes_and_backends_applies_to_gaap_and_routes_as_it_says() {
    let em = emulator(None).await;
    let profile = profile(&em.url());
    let provider = Arc::new(GaapProvider::from_profile(&profile).expect("provider"));
    let mut specs = listeners();
    let mut b = backends();

    let first = plan(&provider, &profile, &specs, &b).await;
    let rules_made = first
        .resources
        .iter()
        .filter(|a| a.kind == ResourceKind::Rule && a.action == ResourceOp::Create)
        .count();
    // 3 routes + a `/` for each of the two hosts + the root rule, and the
    // TCP listener's root rule.
    assert_eq!(rules_made, 3 + 2 + 1 + 1, "{:?}", first.resources);
    assert!(
        first.resources.iter().all(|a| a.kind == ResourceKind::Rule),
        "no pool objects on GAAP"
    );
    run(&provider, &first).await;
    let counts = em.request_counts();
    let (mut reads, mut writes) = (0, 0);
    for (action, c) in counts.values().flat_map(|a| a.iter()) {
        if action.starts_with("Describe") {
            reads += c.requests;
        } else {
            writes += c.requests;
        }
    }
    eprintln!("GAAP routes: first apply took {writes} writes and {reads} reads");
    let n = agree(&em, &profile, &specs, &b).await;
    assert!(n >= 100, "{n} requests");
    let again = plan(&provider, &profile, &specs, &b).await;
    assert!(!again.has_changes(), "second plan: {:?}", again.resources);

    // One endpoint of `web` changes, and api.example.com's certificate
    // rotates: rules are updated in place, nothing else.
    b.insert(
        "web".to_string(),
        Backend::inline(vec![ep("10.0.0.11", 8080, 50), ep("10.0.0.13", 8080, 50)]),
    );
    for r in &mut specs[0].routes {
        if r.certificate.is_some() {
            r.certificate = Some("api-cert-2027".into());
        }
    }
    let change = plan(&provider, &profile, &specs, &b).await;
    let ops: Vec<ResourceOp> = change
        .resources
        .iter()
        .map(|a| a.action)
        .filter(|o| o.is_change())
        .collect();
    assert!(
        !ops.is_empty() && ops.iter().all(|o| *o == ResourceOp::Update),
        "{ops:?}"
    );
    assert!(change.actions.iter().all(|a| !a.is_change()), "listeners unchanged");
    run(&provider, &change).await;
    agree(&em, &profile, &specs, &b).await;
    let last = plan(&provider, &profile, &specs, &b).await;
    assert!(!last.has_changes(), "plan after the change: {:?}", last.resources);
}

/// Plan and apply until a plan has nothing to do, as a user reruns a
/// failed apply; bounded. Returns the rounds taken.
async fn converge(
    provider: &Arc<GaapProvider>,
    profile: &ProfileConfig,
    specs: &[ListenerSpec],
    b: &BTreeMap<String, Backend>,
) -> usize {
    for round in 1..=20 {
        let resources = FileResources {
            backends: b,
            aliases: &profile.aliases,
        };
        let Ok(planned) = plan_with_resources(provider.as_ref(), specs, specs, resources, Prune::Managed).await else {
            continue;
        };
        if !planned.has_changes() {
            return round;
        }
        let dynp: Arc<dyn Provider> = provider.clone();
        let _ = apply(dynp, &planned, &ApplyOptions::default(), &|_| {}).await;
    }
    panic!("no empty plan after 20 rounds");
}

/// Routes and backends under every kind of fault (throttling, server
/// errors, dropped connections, slow and lost answers, failed tasks):
/// rerunning apply converges, and then, faults off, the cloud holds the
/// file exactly: every request of the corpus agrees, each domain and
/// origin server once, nothing left to plan. Then the file changes (an
/// endpoint, a certificate, a route removed) and the same holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_and_backends_converge_under_faults() {
    let seed = std::env::var("SOAK_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(15);
    let faults = RandomFaults {
        seed,
        throttle: 0.03,
        server_error: 0.03,
        drop: 0.03,
        slow: 0.03,
        slow_delay: Duration::from_millis(20),
        lost_answer: 0.03,
        task_failure: 0.05,
    };
    let em = emulator(Some(faults.clone())).await;
    let mut profile = profile(&em.url());
    profile.wait = Some(WaitConfig::uniform(60, 10));
    let provider = Arc::new(GaapProvider::from_profile(&profile).expect("provider"));
    let mut specs = listeners();
    let mut b = backends();
    let first = converge(&provider, &profile, &specs, &b).await;
    em.faults().clear();
    em.faults().set_random(None).expect("faults off");
    agree(&em, &profile, &specs, &b).await;
    held_once(&provider).await;
    assert!(!plan(&provider, &profile, &specs, &b).await.has_changes());

    b.insert(
        "api".to_string(),
        Backend::inline(vec![ep("10.0.1.21", 9000, 60), ep("10.0.1.23", 9000, 40)]),
    );
    for r in &mut specs[0].routes {
        if r.certificate.is_some() {
            r.certificate = Some("api-cert-2027".into());
        }
    }
    specs[0].routes.retain(|r| r.path != "/static");
    em.faults()
        .set_random(Some(RandomFaults {
            seed: seed + 1,
            ..faults
        }))
        .expect("faults on");
    let second = converge(&provider, &profile, &specs, &b).await;
    em.faults().clear();
    em.faults().set_random(None).expect("faults off");
    agree(&em, &profile, &specs, &b).await;
    held_once(&provider).await;
    assert!(!plan(&provider, &profile, &specs, &b).await.has_changes());
    let injected = em.faults().counts();
    eprintln!("GAAP routes soak (seed {seed}): {first} + {second} rounds, faults {injected:?}");
}

/// No domain twice on a listener and no origin server twice in the project.
async fn held_once(provider: &GaapProvider) {
    let origins = provider
        .client()
        .real_servers(listener_tencent_gaap::rules::PROJECT)
        .await
        .expect("origins");
    let mut addresses: Vec<&str> = origins.iter().filter_map(|o| o["RealServerIP"].as_str()).collect();
    let n = addresses.len();
    addresses.sort_unstable();
    addresses.dedup();
    assert_eq!(addresses.len(), n, "an origin server twice: {origins:?}");
    for l in provider.list().await.expect("listeners") {
        if l.spec.protocol != Protocol::Https {
            continue;
        }
        let body = provider.client().describe_rules(l.id.as_str()).await.expect("rules");
        let domains = listener_tencent_gaap::rules::read_domains(&body);
        let mut names: Vec<&str> = domains.iter().map(|d| d.name.as_str()).collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n, "a domain twice: {names:?}");
        for d in &domains {
            let mut paths: Vec<&str> = d.rules.iter().map(|r| r.path.as_str()).collect();
            let n = paths.len();
            paths.dedup();
            assert_eq!(paths.len(), n, "a rule twice on {}", d.name);
        }
    }
}

/// A pool's health check is the `RuleCheckParams` of every rule that
/// forwards to it: sent at `CreateRule`, read back, and changed in place
/// by `ModifyRuleAttribute` (the plan asks `pool_health_differs`).
#[tokio::test]
async fn a_pools_health_check_is_its_rules_check_and_changes_in_place() {
    let em = emulator(None).await;
    let profile = profile(&em.url());
    let provider = Arc::new(GaapProvider::from_profile(&profile).expect("provider"));
    let specs = listeners();
    let mut b = backends();
    let check = |interval: u32| -> listener_core::HealthCheck {
        serde_json::from_value(json!({
            "kind": "http", "interval_secs": interval, "timeout_secs": 3, "http": { "path": "/healthz" }
        }))
        .expect("health check")
    };
    b.get_mut("web").expect("web").health_check = Some(check(10));
    run(&provider, &plan(&provider, &profile, &specs, &b).await).await;
    assert!(!plan(&provider, &profile, &specs, &b).await.has_changes());

    // The rules whose origins are `web`'s carry its check; the others none.
    let web: Vec<(String, u32)> = b["web"].endpoints.iter().map(|e| (e.address.clone(), e.port)).collect();
    let intervals = |rules: Vec<listener_core::Rule>| -> Vec<(bool, Option<u32>)> {
        rules
            .into_iter()
            .map(|r| {
                let mut ends: Vec<(String, u32)> = r
                    .pool
                    .unwrap_or_default()
                    .into_iter()
                    .map(|e| (e.address, e.port))
                    .collect();
                ends.sort();
                (ends == web, r.pool_health_check.and_then(|h| h.interval_secs))
            })
            .collect()
    };
    let site = provider
        .list()
        .await
        .expect("list")
        .into_iter()
        .find(|l| l.spec.name == "site")
        .expect("site");
    let rules = provider.rules().expect("rules");
    let read = intervals(rules.list_rules(&site.id).await.expect("rules"));
    let on_web = read.iter().filter(|(w, _)| *w).count();
    assert!(on_web >= 1, "{read:?}");
    assert!(
        read.iter().all(|(w, i)| if *w { *i == Some(10) } else { i.is_none() }),
        "{read:?}"
    );

    // A slower probe: the same rules are updated in place, nothing else.
    b.get_mut("web").expect("web").health_check = Some(check(20));
    let change = plan(&provider, &profile, &specs, &b).await;
    let changed: Vec<_> = change.resources.iter().filter(|a| a.action.is_change()).collect();
    assert_eq!(changed.len(), on_web, "{changed:?}");
    assert!(changed
        .iter()
        .all(|a| a.kind == ResourceKind::Rule && a.action == ResourceOp::Update));
    run(&provider, &change).await;
    let read = intervals(rules.list_rules(&site.id).await.expect("rules"));
    assert!(
        read.iter().all(|(w, i)| if *w { *i == Some(20) } else { i.is_none() }),
        "{read:?}"
    );
    assert!(em
        .request_counts()
        .values()
        .any(|a| a.contains_key("ModifyRuleAttribute")));
    assert!(!plan(&provider, &profile, &specs, &b).await.has_changes());
}
