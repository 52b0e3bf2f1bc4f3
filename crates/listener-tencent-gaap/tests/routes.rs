//! Routes and backends on GAAP end to end through the emulator: an HTTPS
//! listener with two hosts (one with its own certificate), three paths and
//! a default backend, and a TCP listener with one backend, get their rules
//! through `RuleProvider` (the rules the plan hands over: the routes, a
//! `/` per host, the root rule). A corpus of requests is then resolved by
//! the emulated GAAP's own matcher (`POST /_emulator/resolve`) and by
//! `listener_core::routing::resolve` on the file: endpoints and the
//! certificate served agree. A backend endpoint and a certificate are then
//! changed in place (`update_rule`), and the corpus agrees again; the
//! rules read back then equal what is wanted (nothing left to change).

mod common;

use std::collections::BTreeMap;

use common::{https, provider, start, LINK};
use listener_core::routes::{Backend, BackendEndpoint, Route};
use listener_core::{
    inline_pool_id, routing, Error, ListenerSpec, NewRule, PoolSpec, Ports, Protocol, Provider, ResourceId, RouteSpec,
    Rule, RuleProvider, Scheduler,
};
use listener_emulator::EmulatorHandle;
use listener_tencent_gaap::rules::{self, DEFAULT_DOMAIN};
use listener_tencent_gaap::GaapProvider;
use serde_json::{json, Value};

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

fn site() -> ListenerSpec {
    let mut s = https("site", 443);
    s.backend = Some("web".into());
    let mut api = Route::new("api.example.com", "/v1", "api");
    api.certificate = Some("web2".into());
    let mut reports = Route::new("api.example.com", "/v1/reports", "reports");
    reports.certificate = Some("web2".into());
    s.routes = vec![api, reports, Route::new("www.example.com", "/static", "static")];
    s
}

/// The rules the plan hands a `pools_on_rules` provider with route
/// certificates on rules (`src/plan/resources.rs`, `expand`): each route,
/// a `/` per host to the default backend, the root rule.
fn expand(spec: &ListenerSpec) -> Vec<RouteSpec> {
    let default = spec.backend.clone().expect("default backend");
    let cert_of = |host: &str| {
        spec.routes
            .iter()
            .find(|r| r.host == host && r.certificate.is_some())
            .and_then(|r| r.certificate.clone())
    };
    let mut out: Vec<RouteSpec> = spec
        .routes
        .iter()
        .map(|r| RouteSpec::new(Some(&r.host), r.path.clone(), r.backend.clone()).with_certificate(cert_of(&r.host)))
        .collect();
    let mut hosts: Vec<&str> = Vec::new();
    for r in &spec.routes {
        if !hosts.contains(&r.host.as_str()) {
            hosts.push(&r.host);
        }
    }
    for h in hosts {
        if !spec.routes.iter().any(|r| r.host == h && r.path == "/") {
            out.push(RouteSpec::new(Some(h), "/", default.clone()).with_certificate(cert_of(h)));
        }
    }
    out.push(RouteSpec::new(None, "/", default));
    out
}

fn pools(b: &BTreeMap<String, Backend>) -> BTreeMap<String, PoolSpec> {
    b.iter().map(|(n, x)| (n.clone(), x.to_pool_spec(n))).collect()
}

fn ids(specs: &[RouteSpec]) -> Vec<ResourceId> {
    specs.iter().map(|s| inline_pool_id(&s.backend)).collect()
}

fn new_rules<'a>(
    specs: &'a [RouteSpec],
    ids: &'a [ResourceId],
    pools: &'a BTreeMap<String, PoolSpec>,
) -> Vec<NewRule<'a>> {
    specs
        .iter()
        .zip(ids)
        .map(|(spec, backend)| NewRule {
            spec,
            backend,
            pool: pools.get(&spec.backend),
        })
        .collect()
}

fn corpus() -> Vec<(String, String)> {
    let hosts = [
        "api.example.com",
        "API.Example.com:443",
        "www.example.com",
        "other.org",
        "",
        "apix.example.com",
    ];
    let paths = [
        "/",
        "/v1",
        "/v1/",
        "/v1x",
        "/v1/users?id=3",
        "/v1/reports",
        "/v1/reports/2024",
        "/v1/report",
        "/static",
        "/static/app.css",
        "/staticx",
        "/v2",
    ];
    hosts
        .iter()
        .flat_map(|h| paths.iter().map(move |p| (h.to_string(), p.to_string())))
        .collect()
}

type Ends = Vec<(String, u64, u64)>;

async fn emulated(
    http: &reqwest::Client,
    em: &EmulatorHandle,
    port: u32,
    host: &str,
    path: &str,
) -> (u64, Ends, Value) {
    let answer: Value = http
        .post(format!("{}/_emulator/resolve", em.url()))
        .json(&json!({"service": "gaap", "instance": LINK, "port": port, "host": host, "path": path}))
        .send()
        .await
        .expect("resolve answers")
        .json()
        .await
        .expect("resolve is JSON");
    let v: Ends = listener_emulator::resolved_endpoints(&answer);
    (answer["status"].as_u64().unwrap_or(0), v, answer["certificate"].clone())
}

/// The certificate ID the profile maps `alias` to.
fn cert_id(alias: &str) -> &'static str {
    match alias {
        "web" => "cert-web1",
        "web2" => "cert-web2",
        other => panic!("no certificate alias {other}"),
    }
}

/// Every request of the corpus: the emulated GAAP and the neutral resolve
/// agree on the endpoints and on the certificate served. Returns how many
/// were compared.
async fn agree(em: &EmulatorHandle, spec: &ListenerSpec, backends: &BTreeMap<String, Backend>) -> usize {
    let http = reqwest::Client::new();
    let corpus = corpus();
    let mut bad = Vec::new();
    for (host, path) in &corpus {
        let (status, got, cert) = emulated(&http, em, 443, host, path).await;
        let mut want: Ends = routing::resolve(spec, backends, host, routing::normalize_path(path))
            .endpoints()
            .iter()
            .map(|e| (e.address.clone(), u64::from(e.port), u64::from(e.weight)))
            .collect();
        want.sort();
        let want_cert = cert_id(routing::certificate_for(&spec.routes, host).unwrap_or("web"));
        if status != 200 || got != want || cert != json!(want_cert) {
            bad.push(format!(
                "{host} {path}: GAAP {status} {got:?} {cert}, neutral {want:?} {want_cert}"
            ));
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {} disagree:\n{}",
        bad.len(),
        corpus.len(),
        bad.join("\n")
    );
    corpus.len()
}

/// What is still to change: rules wanted and not read back with the same
/// endpoints and certificate (the planner's comparison, in short).
fn pending(live: &[Rule], want: &[RouteSpec], pools: &BTreeMap<String, PoolSpec>) -> Vec<String> {
    let mut out = Vec::new();
    for w in want {
        let found = live.iter().find(|r| r.spec.host == w.host && r.spec.path == w.path);
        let Some(r) = found else {
            out.push(format!("missing {:?}{}", w.host, w.path));
            continue;
        };
        let eps = pools.get(&w.backend).map(|p| p.endpoints.clone()).unwrap_or_default();
        if r.pool.as_ref().is_none_or(|p| rules::sorted(p) != rules::sorted(&eps)) {
            out.push(format!("endpoints of {:?}{}", w.host, w.path));
        }
        if r.spec.certificate != w.certificate {
            out.push(format!("certificate of {:?}{}", w.host, w.path));
        }
        assert!(r.managed, "rules of an owned listener are managed");
    }
    if live.len() != want.len() {
        out.push(format!("{} rules live, {} wanted", live.len(), want.len()));
    }
    out
}

/// Update every live rule whose wanted endpoints or certificate differ.
async fn converge(p: &GaapProvider, live: &[Rule], want: &[RouteSpec], pools: &BTreeMap<String, PoolSpec>) -> usize {
    let mut updates = 0;
    for w in want {
        let r = live
            .iter()
            .find(|r| r.spec.host == w.host && r.spec.path == w.path)
            .expect("rule exists");
        let pool = pools.get(&w.backend);
        let eps = pool.map(|x| x.endpoints.clone()).unwrap_or_default();
        let same_pool = r.pool.as_ref().is_some_and(|x| rules::sorted(x) == rules::sorted(&eps));
        if same_pool && r.spec.certificate == w.certificate {
            continue;
        }
        let backend = inline_pool_id(&w.backend);
        p.update_rule(
            r,
            &NewRule {
                spec: w,
                backend: &backend,
                pool,
            },
        )
        .await
        .expect("rule updated");
        updates += 1;
    }
    updates
}

fn bare(spec: &ListenerSpec) -> ListenerSpec {
    let mut s = spec.clone();
    s.routes.clear();
    s.backend = None;
    s
}

#[tokio::test]
async fn routes_resolve_as_the_neutral_semantics_and_change_in_place() {
    let em = start().await;
    let p = provider(&em);
    let mut spec = site();
    let mut files = backends();
    assert!(p.check(&spec).is_empty(), "{:?}", p.check(&spec));
    let made = p.create(&bare(&spec)).await.expect("listener created");
    let id = made[0].id.clone();

    let want = expand(&spec);
    assert_eq!(want.len(), 3 + 2 + 1, "three routes, two `/` per host, the root");
    let pool_specs = pools(&files);
    let backend_ids = ids(&want);
    let rules_in = new_rules(&want, &backend_ids, &pool_specs);
    let created = p.create_rules(&id, &rules_in).await.expect("rules created");
    assert_eq!(created.len(), want.len());
    let live = p.list_rules(&id).await.expect("rules listed");
    assert!(
        pending(&live, &want, &pool_specs).is_empty(),
        "{:?}",
        pending(&live, &want, &pool_specs)
    );
    assert_eq!(agree(&em, &spec, &files).await, 72);

    // One endpoint of the default pool changes, and the certificate of
    // api.example.com rotates: updated in place, same rule IDs.
    files.insert(
        "web".to_string(),
        Backend::inline(vec![ep("10.0.0.11", 8080, 30), ep("10.0.0.13", 8080, 50)]),
    );
    for r in &mut spec.routes {
        if r.host == "api.example.com" {
            r.certificate = Some("web".into());
        }
    }
    let want = expand(&spec);
    let pool_specs = pools(&files);
    let before: Vec<ResourceId> = live.iter().map(|r| r.id.clone()).collect();
    // web is the default: 2 host `/` rules and the root; the api host's
    // three rules change certificate (its `/` counted once).
    let updates = converge(&p, &live, &want, &pool_specs).await;
    assert_eq!(updates, 5, "only the rules that differ are written");
    let live = p.list_rules(&id).await.expect("rules listed");
    assert!(
        pending(&live, &want, &pool_specs).is_empty(),
        "{:?}",
        pending(&live, &want, &pool_specs)
    );
    let mut after: Vec<ResourceId> = live.iter().map(|r| r.id.clone()).collect();
    let mut b = before.clone();
    after.sort();
    b.sort();
    assert_eq!(after, b, "changed in place: no rule replaced");
    agree(&em, &spec, &files).await;
    // The origin server no rule uses any more was removed (it was ours).
    let origins = p.client().real_servers(rules::PROJECT).await.expect("origins");
    assert!(
        !origins.iter().any(|o| o["RealServerIP"] == json!("10.0.0.12")),
        "{origins:?}"
    );

    // A route goes: its rule is deleted; its host keeps its `/`.
    let gone = live
        .iter()
        .find(|r| r.spec.path == "/v1/reports")
        .map(|r| r.id.clone())
        .expect("reports rule");
    p.delete_rules(&id, &[gone]).await.expect("rule deleted");
    spec.routes.retain(|r| r.path != "/v1/reports");
    agree(&em, &spec, &files).await;

    // The whole www host goes: its domain goes with its last rule, and
    // www.example.com then reaches the default domain.
    let www: Vec<ResourceId> = p
        .list_rules(&id)
        .await
        .expect("rules")
        .into_iter()
        .filter(|r| r.spec.host.as_deref() == Some("www.example.com"))
        .map(|r| r.id)
        .collect();
    assert_eq!(www.len(), 2);
    p.delete_rules(&id, &www).await.expect("host deleted");
    spec.routes.retain(|r| r.host != "www.example.com");
    agree(&em, &spec, &files).await;
    let domains = rules::read_domains(&p.client().describe_rules(id.as_str()).await.expect("describe"));
    let mut names: Vec<&str> = domains.iter().map(|d| d.name.as_str()).collect();
    names.sort();
    assert_eq!(names, vec!["api.example.com", DEFAULT_DOMAIN]);

    // The listener goes, its domains and rules with it, and the origin
    // servers this owner made for it.
    p.delete(&id).await.expect("listener deleted");
    let left = p.client().real_servers(rules::PROJECT).await.expect("origins");
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
async fn a_tcp_listener_binds_its_one_backend_to_the_listener() {
    let em = start().await;
    let p = provider(&em);
    let mut spec = ListenerSpec::new("db", Protocol::Tcp, Ports::Single(5432));
    spec.backend = Some("db".into());
    spec.scheduler = Some(Scheduler::WeightedRoundRobin);
    assert!(p.check(&spec).is_empty(), "{:?}", p.check(&spec));
    let id = p.create(&bare(&spec)).await.expect("listener")[0].id.clone();
    let mut files = backends();
    let want = expand(&spec);
    assert_eq!(want.len(), 1);
    let pool_specs = pools(&files);
    let backend_ids = ids(&want);
    p.create_rules(&id, &new_rules(&want, &backend_ids, &pool_specs))
        .await
        .expect("bound");
    let http = reqwest::Client::new();
    let (status, got, _) = emulated(&http, &em, 5432, "", "/").await;
    assert_eq!((status, got), (200, vec![("10.0.9.1".to_string(), 5432, 100)]));
    let live = p.list_rules(&id).await.expect("listed");
    assert!(pending(&live, &want, &pool_specs).is_empty());
    files.insert(
        "db".to_string(),
        Backend::inline(vec![ep("10.0.9.1", 5432, 60), ep("10.0.9.2", 5432, 40)]),
    );
    let pool_specs = pools(&files);
    assert_eq!(converge(&p, &live, &want, &pool_specs).await, 1);
    let (_, got, _) = emulated(&http, &em, 5432, "", "/").await;
    assert_eq!(got.len(), 2);
    p.delete_rules(&id, &live.iter().map(|r| r.id.clone()).collect::<Vec<_>>())
        .await
        .expect("unbound");
    // Weights count only under wrr: a round-robin listener refuses a
    // weighted pool before any call.
    let mut rr = ListenerSpec::new("db-rr", Protocol::Tcp, Ports::Single(5433));
    rr.scheduler = Some(Scheduler::RoundRobin);
    let rr_id = p.create(&rr).await.expect("listener")[0].id.clone();
    let spec = RouteSpec::new(None, "/", "db");
    let backend = inline_pool_id("db");
    match p
        .create_rules(
            &rr_id,
            &[NewRule {
                spec: &spec,
                backend: &backend,
                pool: pool_specs.get("db"),
            }],
        )
        .await
    {
        Err(Error::Unsupported { rejections, .. }) => {
            assert_eq!(
                (rejections[0].field.as_str(), rejections[0].rule),
                ("scheduler", rules::WEIGHTS_NEED_WRR)
            );
        }
        other => panic!("a weighted pool on rr should be refused: {other:?}"),
    }
    assert!(p.list_rules(&id).await.expect("listed").is_empty());
    // Every origin was ours and unused: removed.
    assert!(p
        .client()
        .real_servers(rules::PROJECT)
        .await
        .expect("origins")
        .is_empty());
}

#[tokio::test]
async fn what_gaap_cannot_express_is_refused_before_any_call() {
    let em = start().await;
    let p = provider(&em);
    // Wildcard hosts: GAAP domains are exact (D-gaap-l7).
    let mut spec = site();
    spec.routes.push(Route::new("*.example.com", "/", "static"));
    let got = p.check(&spec);
    assert!(
        got.iter()
            .any(|r| r.field == "routes[3].host" && r.rule == rules::EXACT_HOSTS),
        "{got:?}"
    );
    // The emulated GAAP, asked raw, answers the vendor's code.
    let id = p.create(&bare(&site())).await.expect("listener")[0].id.clone();
    let raw = common::raw(&em);
    let e = common::raw_error(
        &raw,
        "CreateDomain",
        json!({"ListenerId": id.as_str(), "Domain": "*.example.com"}),
    )
    .await;
    assert_eq!(e.vendor_code(), Some("InvalidParameterValue"), "{e:?}");
    // More than 20 paths on one host (FailedOperation.LimitNumofRules).
    let mut many = site();
    many.routes = (0..21)
        .map(|i| Route::new("a.example.com", format!("/p{i}"), "api"))
        .collect();
    assert!(p
        .check(&many)
        .iter()
        .any(|r| r.field == "routes[20].path" && r.rule == rules::RULES_PER_DOMAIN));
    // A pool mixing IP and domain-name origins, refused on write with no
    // call: the request counter does not move.
    let mixed = PoolSpec::new("mixed", {
        let mut a = listener_core::Endpoint::new("10.0.0.1", 80);
        a.weight = 10;
        let mut b = listener_core::Endpoint::new("origin.example.com", 80);
        b.weight = 10;
        vec![a, b]
    });
    let spec = RouteSpec::new(Some("a.example.com"), "/", "mixed");
    let backend = inline_pool_id("mixed");
    let before = writes(&em);
    match p
        .create_rules(
            &id,
            &[NewRule {
                spec: &spec,
                backend: &backend,
                pool: Some(&mixed),
            }],
        )
        .await
    {
        Err(Error::Unsupported { rejections, .. }) => {
            assert!(
                rejections
                    .iter()
                    .any(|r| r.field == "backends.mixed.endpoints[1].address" && r.rule == rules::MIXED_ORIGINS),
                "{rejections:?}"
            );
        }
        other => panic!("mixed origins should be refused: {other:?}"),
    }
    // Only the ownership read went out (a describe), no write.
    assert_eq!(writes(&em), before);
}

/// GAAP requests of the emulator other than reads.
fn writes(em: &EmulatorHandle) -> u64 {
    em.request_counts()
        .values()
        .flat_map(|actions| actions.iter())
        .filter(|(action, _)| !action.starts_with("Describe"))
        .map(|(_, c)| c.requests)
        .sum()
}

/// Rules of a listener on another connection or group are never read for
/// a change nor written: every call proves the listener on the bound
/// instance first, and a foreign one is `NotOwned` before any write.
#[tokio::test]
async fn rules_of_a_listener_on_another_instance_are_not_owned() {
    let em = start().await;
    let ours = provider(&em);
    let theirs = common::provider_on(&common::profile_for(&em, common::GROUP));
    let mut spec = ListenerSpec::new("other", Protocol::Http, Ports::Single(8080));
    spec.backend = None;
    let foreign = theirs.create(&spec).await.expect("listener on the group")[0].id.clone();
    let files = backends();
    let pool_specs = pools(&files);
    let root = RouteSpec::new(None, "/", "web");
    let backend = inline_pool_id("web");
    let before = writes(&em);
    let rule = NewRule {
        spec: &root,
        backend: &backend,
        pool: pool_specs.get("web"),
    };
    assert!(matches!(
        ours.create_rules(&foreign, &[rule]).await,
        Err(Error::NotOwned { .. })
    ));
    assert!(matches!(ours.list_rules(&foreign).await, Err(Error::NotOwned { .. })));
    assert!(matches!(
        ours.delete_rules(&foreign, &[ResourceId::from("rule-any")]).await,
        Err(Error::NotOwned { .. })
    ));
    assert_eq!(writes(&em), before, "nothing written");
}

/// Each refusal of `rules` has its twin in the emulated GAAP: the same
/// request sent raw (bypassing the adapter's checks) gets the vendor's code
/// the rejection cites.
#[tokio::test]
async fn the_emulated_gaap_answers_the_codes_the_refusals_cite() {
    let em = start().await;
    let p = provider(&em);
    let raw = common::raw(&em);
    let id = p.create(&bare(&site())).await.expect("listener")[0].id.clone();
    let l = id.as_str();
    // Wait until every domain and rule of the listener runs again (the
    // connection takes one write at a time).
    let settle = || async {
        for _ in 0..500 {
            let body = raw
                .call("DescribeRules", &json!({"ListenerId": l}), true)
                .await
                .expect("describe")
                .body;
            if rules::read_domains(&body).iter().all(rules::DomainState::settled) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("rules never settled");
    };
    raw.call(
        "CreateDomain",
        &json!({"ListenerId": l, "Domain": "a.example.com"}),
        false,
    )
    .await
    .expect("domain");
    settle().await;
    let rule = |path: String| {
        json!({"ListenerId": l, "Domain": "a.example.com", "Path": path, "RealServerType": "IP",
               "Scheduler": "wrr", "HealthCheck": 0})
    };
    // Paths over 80 characters (rules::INVALID_VALUE).
    let e = common::raw_error(&raw, "CreateRule", rule(format!("/{}", "a".repeat(80)))).await;
    assert_eq!(e.vendor_code(), Some(rules::INVALID_VALUE));
    // Twenty rules per domain (rules::RULES_PER_DOMAIN).
    let mut first = String::new();
    for i in 0..20 {
        let made = raw
            .call("CreateRule", &rule(format!("/p{i}")), false)
            .await
            .expect("rule");
        if i == 0 {
            first = made.body["RuleId"].as_str().unwrap_or("").to_string();
        }
        settle().await;
    }
    let e = common::raw_error(&raw, "CreateRule", rule("/p20".into())).await;
    assert_eq!(e.vendor_code(), Some(rules::RULES_PER_DOMAIN));
    // Weights outside 1-100, and a domain-name origin on an IP rule (one
    // RealServerType per rule: rules::MIXED_ORIGINS).
    let added = raw
        .call(
            "AddRealServers",
            &json!({"ProjectId": 0, "RealServerIP": ["10.0.0.1", "origin.example.com"], "RealServerName": "x"}),
            false,
        )
        .await
        .expect("origins");
    let ids: Vec<String> = added.body["RealServerSet"]
        .as_array()
        .expect("set")
        .iter()
        .map(|r| r["RealServerId"].as_str().unwrap_or("").to_string())
        .collect();
    for (set, code) in [
        (
            json!([{"RealServerId": ids[0], "RealServerPort": 80, "RealServerWeight": 0}]),
            rules::INVALID_VALUE,
        ),
        (
            json!([{"RealServerId": ids[0], "RealServerPort": 80, "RealServerWeight": 101}]),
            rules::INVALID_VALUE,
        ),
        (
            json!([{"RealServerId": ids[1], "RealServerPort": 80}]),
            rules::INVALID_VALUE,
        ),
    ] {
        let e = common::raw_error(
            &raw,
            "BindRuleRealServers",
            json!({"RuleId": first, "RealServerBindSet": set}),
        )
        .await;
        assert_eq!(e.vendor_code(), Some(code), "{set}");
    }
}

/// BindListenerRealServersRequest: under any scheduler but `wrr`, GAAP binds
/// every origin with weight 1. A layer-4 listener that names another
/// scheduler and a pool with different weights is refused before any call
/// (field `scheduler`, `gaap_weights_need_wrr`); one that names none is
/// created `wrr`, so its weights count as on the other clouds.
#[test]
fn weighted_layer4_pools_need_wrr_before_any_call() {
    let weighted = Backend::inline(vec![ep("10.0.9.1", 5432, 60), ep("10.0.9.2", 5432, 40)]).to_pool_spec("db");
    let even = Backend::inline(vec![ep("10.0.9.1", 5432, 50), ep("10.0.9.2", 5432, 50)]).to_pool_spec("db");
    let tcp = |s: Option<Scheduler>| {
        let mut l = ListenerSpec::new("db", Protocol::Tcp, Ports::Single(5432));
        l.scheduler = s;
        l
    };
    for s in [
        Scheduler::RoundRobin,
        Scheduler::LeastConnections,
        Scheduler::LeastLatency,
    ] {
        let found = rules::check_listener_pool(&tcp(Some(s)), &weighted);
        assert_eq!(found.len(), 1, "{s:?}");
        assert_eq!(
            (found[0].field.as_str(), found[0].rule),
            ("scheduler", rules::WEIGHTS_NEED_WRR)
        );
        assert!(found[0].reason.contains("`db`"), "{}", found[0].reason);
        assert!(rules::check_listener_pool(&tcp(Some(s)), &even).is_empty(), "{s:?}");
    }
    assert!(rules::check_listener_pool(&tcp(None), &weighted).is_empty());
    assert!(rules::check_listener_pool(&tcp(Some(Scheduler::WeightedRoundRobin)), &weighted).is_empty());
    assert_eq!(listener_tencent_gaap::translate::DEFAULT_SCHEDULER, "wrr");
}
