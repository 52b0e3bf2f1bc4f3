//! Routes and backends on Alibaba GA end to end through the facade: an
//! HTTPS listener with an exact and a wildcard route host, three paths and
//! a default backend, and a TCP listener with one backend, are planned and
//! applied to the in-process emulator (GA has no pool object: every inline
//! backend rides on the rules, `pools_on_rules`). A corpus of requests is
//! resolved by the emulated GA's own matcher (`POST /_emulator/resolve`:
//! forwarding rules by priority, endpoint groups, port overrides) and by
//! `listener_core::routing::resolve`: they agree on every request. A
//! second plan is empty; an endpoint change is an in-place rule update,
//! after which they agree again and the plan is empty again.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use cloud_listeners::plan::{apply, plan_with_resources, ApplyOptions, FileResources, Prune, ResourceKind, ResourceOp};
use listener_alibaba_ga::GaProvider;
use listener_core::routes::{Backend, BackendEndpoint, Route};
use listener_core::{
    routing, Adapter, InlineCredentials, ListenerSpec, Ports, ProfileConfig, Protocol, Provider, Secret, Tls,
    WaitConfig,
};
use listener_emulator::{DEFAULT_ALIBABA_ACCESS_KEY_ID, DEFAULT_ALIBABA_ACCESS_KEY_SECRET};
use serde_json::{json, Value};

const ACC: &str = "ga-routes0000001";

fn ep(address: &str, port: u32, weight: u32) -> BackendEndpoint {
    let mut e = BackendEndpoint::new(address, port);
    e.weight = weight;
    e
}

fn backends() -> BTreeMap<String, Backend> {
    let mut b = BTreeMap::new();
    let mut web = Backend::inline(vec![ep("10.0.0.11", 8080, 50), ep("10.0.0.12", 8080, 50)]);
    web.health_check = Some(
        serde_json::from_value(json!({ "kind": "http", "interval_secs": 5, "http": { "path": "/healthz" } }))
            .expect("health check"),
    );
    b.insert("web".to_string(), web);
    b.insert(
        "api".to_string(),
        Backend::inline(vec![ep("10.0.1.21", 9000, 100), ep("10.0.1.22", 9000, 100)]),
    );
    b.insert("reports".to_string(), Backend::inline(vec![ep("10.0.3.41", 9100, 100)]));
    b.insert(
        "static".to_string(),
        Backend::inline(vec![ep("static.internal", 8081, 100)]),
    );
    b.insert("db".to_string(), Backend::inline(vec![ep("10.0.5.1", 6432, 100)]));
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
    site.backend = Some("web".into());
    site.routes = vec![
        Route::new("api.example.com", "/v1", "api"),
        Route::new("api.example.com", "/v1/reports", "reports"),
        Route::new("*.example.com", "/static", "static"),
    ];
    let mut db = ListenerSpec::new("db", Protocol::Tcp, Ports::Single(5432));
    db.backend = Some("db".into());
    vec![site, db]
}

type Ends = Vec<(String, u64, u64)>;

async fn resolve(url: &str, port: u32, host: &str, path: &str) -> (Value, Ends) {
    let answer: Value = reqwest::Client::new()
        .post(format!("{url}/_emulator/resolve"))
        .json(&json!({ "service": "ga", "instance": ACC, "port": port, "host": host, "path": path }))
        .send()
        .await
        .expect("resolve")
        .json()
        .await
        .expect("json");
    let e: Ends = listener_emulator::resolved_endpoints(&answer);
    (answer, e)
}

fn neutral(spec: &ListenerSpec, b: &BTreeMap<String, Backend>, host: &str, path: &str) -> Ends {
    let mut e: Ends = routing::resolve(spec, b, host, path)
        .endpoints()
        .iter()
        .map(|e| (e.address.clone(), u64::from(e.port), u64::from(e.weight)))
        .collect();
    e.sort();
    e
}

/// Every request of the corpus on both listeners: the emulated GA and the
/// neutral semantics agree. Returns (requests, taken by a rule).
async fn agree(url: &str, specs: &[ListenerSpec], b: &BTreeMap<String, Backend>) -> (usize, usize) {
    let hosts = [
        "api.example.com",
        "API.Example.com:443",
        "www.example.com",
        "a.b.example.com",
        "example.com",
        "other.org",
        "apix.example.com",
    ];
    let paths = [
        "/",
        "/v1",
        "/v1/",
        "/v1x",
        "/v1/users",
        "/v1/reports",
        "/v1/reports/2026",
        "/v1/report",
        "/static",
        "/static/app.css",
        "/staticx",
        "/V1",
    ];
    let (mut n, mut by_rule, mut bad) = (0, 0, Vec::new());
    for host in hosts {
        for path in paths {
            let (answer, got) = resolve(url, 443, host, path).await;
            let want = neutral(&specs[0], b, host, path);
            if got != want {
                bad.push(format!("{host}{path}: GA {answer}, neutral {want:?}"));
            }
            by_rule += usize::from(!answer["rule"].is_null());
            n += 1;
        }
    }
    // The TCP listener: every connection to its one backend.
    let (_, got) = resolve(url, 5432, "", "/").await;
    assert_eq!(got, neutral(&specs[1], b, "", "/"));
    assert!(bad.is_empty(), "{} of {n} disagree:\n{}", bad.len(), bad.join("\n"));
    (n + 1, by_rule)
}

fn profile_for(url: &str) -> ProfileConfig {
    let mut profile = ProfileConfig::new("alibaba-ga", ACC);
    profile.endpoint = Some(url.to_string());
    profile.allow_insecure_http = true;
    profile.rate_limit_per_second = Some(1000.0);
    profile.wait = Some(WaitConfig::uniform(10, 10));
    profile.inline_credentials = Some(InlineCredentials {
        key_id: DEFAULT_ALIBABA_ACCESS_KEY_ID.into(),
        secret: Secret::new(DEFAULT_ALIBABA_ACCESS_KEY_SECRET),
        token: None,
    });
    profile
        .aliases
        .certificates
        .insert("site-cert".into(), "449-cn-hangzhou".into());
    profile
}

/// A lost answer (the write is repeated with its token), a server error on
/// a read and a GA task that fails (the endpoint group vanishes) during
/// apply: apply reports what failed, a rerun makes the rest, and the
/// requests then route as the file says with an empty plan after.
/// The plan of `specs` with the pools `b`, without pruning.
async fn plan_of(
    provider: &GaProvider,
    specs: &[ListenerSpec],
    b: &BTreeMap<String, Backend>,
    profile: &ProfileConfig,
    what: &str,
) -> cloud_listeners::plan::Plan {
    let resources = FileResources {
        backends: b,
        aliases: &profile.aliases,
    };
    plan_with_resources(provider, specs, specs, resources, Prune::Off)
        .await
        .expect(what)
}

#[tokio::test]
async fn faults_during_apply_converge_on_a_rerun() {
    use listener_emulator::{Fault, FaultRule};
    let emulator = common::one_instance("ga", ACC, &[], 20)
        .fault_rule(
            FaultRule::new(Fault::LostAnswer)
                .service("ga")
                .action("CreateForwardingRules")
                .times(1),
        )
        .fault_rule(
            FaultRule::new(Fault::ServerError)
                .service("ga")
                .action("ListForwardingRules")
                .times(1),
        )
        .fault_rule(
            FaultRule::new(Fault::TaskFailure)
                .service("ga")
                .action("CreateEndpointGroup")
                .times(1),
        )
        .start()
        .await
        .expect("emulator starts");
    let profile = profile_for(&emulator.url());
    let provider = Arc::new(GaProvider::from_profile(&profile).expect("provider"));
    let specs = listeners();
    let b = backends();
    let plan_now = || {
        plan_with_resources(
            provider.as_ref(),
            &specs,
            &specs,
            FileResources {
                backends: &b,
                aliases: &profile.aliases,
            },
            Prune::Off,
        )
    };
    let plan = plan_now().await.expect("plan");
    let dynp: Arc<dyn Provider> = provider.clone();
    let first = apply(dynp, &plan, &ApplyOptions::default(), &|_| {})
        .await
        .expect("apply runs");
    assert!(!first.failed.is_empty(), "the failed group task is reported");
    let plan = plan_now().await.expect("plan of the rest");
    assert!(plan.has_changes());
    let dynp: Arc<dyn Provider> = provider.clone();
    let second = apply(dynp, &plan, &ApplyOptions::default(), &|_| {})
        .await
        .expect("rerun");
    assert!(second.failed.is_empty(), "{:?}", second.failed);
    agree(&emulator.url(), &specs, &b).await;
    let last = plan_now().await.expect("last plan");
    assert!(!last.has_changes(), "{last:?}");
    // Every rule once: the lost answer did not make a second rule.
    let rules = provider.rules().expect("rules");
    let mut total = 0;
    for l in provider.list().await.expect("listeners") {
        total += rules.list_rules(&l.id).await.expect("rules").len();
    }
    assert_eq!(total, 7, "six rules on site, one on db");
    emulator.shutdown().await;
}

#[tokio::test]
async fn ga_routes_every_request_as_the_file_says_and_converges() {
    let emulator = common::one_instance("ga", ACC, &[], 20)
        .start()
        .await
        .expect("emulator starts");
    let profile = profile_for(&emulator.url());
    let provider = Arc::new(GaProvider::from_profile(&profile).expect("provider"));
    let specs = listeners();
    let mut b = backends();

    let plan = plan_of(provider.as_ref(), &specs, &b, &profile, "plan").await;
    let count = |plan: &cloud_listeners::plan::Plan, kind: ResourceKind, op: ResourceOp| {
        plan.resources
            .iter()
            .filter(|a| a.kind == kind && a.action == op)
            .count()
    };
    // No pool objects on GA; site: 3 routes, 2 host catch-alls, the root
    // rule; db: the root rule.
    assert_eq!(count(&plan, ResourceKind::Pool, ResourceOp::Create), 0);
    assert_eq!(count(&plan, ResourceKind::Rule, ResourceOp::Create), 7);
    let dynp: Arc<dyn Provider> = provider.clone();
    let report = apply(dynp, &plan, &ApplyOptions::default(), &|_| {})
        .await
        .expect("apply");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    // The pool's health check is its endpoint groups'.
    let site_id = report
        .listeners
        .iter()
        .find(|(_, l)| l.spec.name == "site")
        .map(|(_, l)| l.id.clone())
        .expect("site made");
    let groups = provider
        .client()
        .list_endpoint_groups(ACC, site_id.as_str())
        .await
        .expect("groups");
    let web: Vec<&Value> = groups.iter().filter(|g| g["Name"] == "pool-web").collect();
    assert_eq!(web.len(), 2, "the default group and the catch-alls' virtual group");
    assert!(web
        .iter()
        .all(|g| g["HealthCheckPath"] == "/healthz" && g["HealthCheckIntervalSeconds"] == 5));
    let (n, by_rule) = agree(&emulator.url(), &specs, &b).await;
    eprintln!("GA routes: {n} requests agree, {by_rule} by a forwarding rule");
    assert!(n >= 50 && by_rule > 0);

    let again = plan_of(provider.as_ref(), &specs, &b, &profile, "second plan").await;
    assert!(!again.has_changes(), "second plan: {again:?}");

    // `api` changes an endpoint and a weight: its two rules are updated in
    // place (the shared virtual group), nothing is created or deleted.
    b.insert(
        "api".to_string(),
        Backend::inline(vec![ep("10.0.1.21", 9000, 30), ep("10.0.1.23", 9000, 70)]),
    );
    let plan = plan_of(provider.as_ref(), &specs, &b, &profile, "plan of the change").await;
    assert_eq!(count(&plan, ResourceKind::Rule, ResourceOp::Update), 1, "{plan:?}");
    assert_eq!(count(&plan, ResourceKind::Rule, ResourceOp::Create), 0);
    let dynp: Arc<dyn Provider> = provider.clone();
    let report = apply(dynp, &plan, &ApplyOptions::default(), &|_| {})
        .await
        .expect("apply of the change");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    agree(&emulator.url(), &specs, &b).await;
    let last = plan_of(provider.as_ref(), &specs, &b, &profile, "last plan").await;
    assert!(!last.has_changes(), "plan after the change: {last:?}");

    // Only `web`'s health check changes: GA keeps it on the endpoint
    // groups, so the rules using them are updated in place and the groups
    // carry the new check (it once went unnoticed: the plan compared
    // endpoints only).
    let mut web = b["web"].clone();
    web.health_check = Some(
        serde_json::from_value(json!({ "kind": "http", "interval_secs": 10, "http": { "path": "/ready" } }))
            .expect("health check"),
    );
    b.insert("web".to_string(), web);
    let plan = plan_of(
        provider.as_ref(),
        &specs,
        &b,
        &profile,
        "plan of the health check change",
    )
    .await;
    let updated: Vec<_> = plan
        .resources
        .iter()
        .filter(|a| a.action == ResourceOp::Update)
        .collect();
    assert!(!updated.is_empty(), "{plan:?}");
    assert!(
        updated
            .iter()
            .all(|a| a.changes.iter().any(|c| c.path == "health_check")),
        "{updated:?}"
    );
    assert_eq!(count(&plan, ResourceKind::Rule, ResourceOp::Create), 0);
    assert_eq!(count(&plan, ResourceKind::Rule, ResourceOp::Replace), 0);
    let dynp: Arc<dyn Provider> = provider.clone();
    let report = apply(dynp, &plan, &ApplyOptions::default(), &|_| {})
        .await
        .expect("apply of the health check change");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    let groups = provider
        .client()
        .list_endpoint_groups(ACC, site_id.as_str())
        .await
        .expect("groups");
    let web: Vec<&Value> = groups.iter().filter(|g| g["Name"] == "pool-web").collect();
    assert_eq!(web.len(), 2);
    assert!(
        web.iter()
            .all(|g| g["HealthCheckPath"] == "/ready" && g["HealthCheckIntervalSeconds"] == 10),
        "{web:?}"
    );
    let last = plan_of(
        provider.as_ref(),
        &specs,
        &b,
        &profile,
        "plan after the health check change",
    )
    .await;
    assert!(!last.has_changes(), "plan after the health check change: {last:?}");
    emulator.shutdown().await;
}
