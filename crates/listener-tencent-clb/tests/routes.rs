//! Routes and backends on CLB end to end through the emulator, driving the
//! provider's `RuleProvider` as the plan engine does (the rules expanded
//! by `rules::expand`, each with its pool's endpoints): an HTTPS listener
//! with two hosts (one with its own certificate), three paths and a
//! default backend, and a TCP listener with a backend. A corpus of
//! requests is resolved by the emulated CLB's own matcher
//! (`POST /_emulator/resolve`) and by `listener_core::routing`, endpoints
//! and served certificate alike; then an endpoint and a certificate change
//! in place and the corpus agrees again; a second listing has nothing to
//! change.

mod common;

use std::collections::BTreeMap;

use common::{provider_with, start, LB};
use listener_core::routes::{Backend, BackendEndpoint, Route};
use listener_core::{
    inline_pool_id, routing, Error, ListenerId, ListenerSpec, NewRule, PoolSpec, Ports, ProfileConfig, Protocol,
    Provider, ResourceId, RouteSpec, Rule, Tls,
};
use listener_emulator::EmulatorHandle;
use listener_tencent_clb::{rules, ClbProvider};
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

fn profile(em: &EmulatorHandle, api_cert: &str) -> ProfileConfig {
    let mut p = common::profile(em);
    p.aliases.certificates.insert("api-cert".into(), api_cert.into());
    p
}

/// The HTTPS listener: `api.example.com` with its own certificate and two
/// paths, `*.example.com` with one, the default backend `web`.
fn site() -> ListenerSpec {
    let mut s = ListenerSpec::new("site", Protocol::Https, Ports::Single(443));
    s.tls = Some(Tls {
        certificates: vec!["web".into()],
        policy: None,
        http2: None,
        http3: None,
        sni: None,
        client_auth: None,
    });
    s.backend = Some("web".into());
    let mut v1 = Route::new("api.example.com", "/v1", "api");
    v1.certificate = Some("api-cert".into());
    s.routes = vec![
        v1,
        Route::new("api.example.com", "/v1/reports", "reports"),
        Route::new("*.example.com", "/static", "static"),
    ];
    s
}

fn db() -> ListenerSpec {
    let mut s = ListenerSpec::new("db", Protocol::Tcp, Ports::Single(5432));
    s.backend = Some("db".into());
    s
}

/// The listener as the plan creates it: routes and backend are rules.
fn bare(spec: &ListenerSpec) -> ListenerSpec {
    let mut s = spec.clone();
    s.routes.clear();
    s.backend = None;
    s
}

fn pools(backends: &BTreeMap<String, Backend>) -> BTreeMap<String, PoolSpec> {
    backends.iter().map(|(n, b)| (n.clone(), b.to_pool_spec(n))).collect()
}

/// The desired rules of a listener as the planner hands them.
struct Wanted {
    specs: Vec<RouteSpec>,
    ids: Vec<ResourceId>,
    pools: BTreeMap<String, PoolSpec>,
}

impl Wanted {
    fn of(spec: &ListenerSpec, backends: &BTreeMap<String, Backend>) -> Wanted {
        let specs = rules::expand(spec);
        let ids = specs.iter().map(|r| inline_pool_id(&r.backend)).collect();
        Wanted {
            specs,
            ids,
            pools: pools(backends),
        }
    }

    fn news(&self) -> Vec<NewRule<'_>> {
        self.specs
            .iter()
            .zip(&self.ids)
            .map(|(spec, backend)| NewRule {
                spec,
                backend,
                pool: self.pools.get(&spec.backend),
            })
            .collect()
    }
}

fn endpoints_of(r: &Rule) -> Vec<(String, u32, u32)> {
    let mut v: Vec<_> = r
        .pool
        .iter()
        .flatten()
        .map(|e| (e.address.clone(), e.port, e.weight))
        .collect();
    v.sort();
    v
}

fn endpoints_want(p: Option<&PoolSpec>) -> Vec<(String, u32, u32)> {
    let mut v: Vec<_> = p
        .iter()
        .flat_map(|p| &p.endpoints)
        .map(|e| (e.address.clone(), e.port, e.weight))
        .collect();
    v.sort();
    v
}

/// What the planner would do with `listed` against `want`: the rules to
/// update (with their desired index), create and delete.
fn changes<'r>(listed: &'r [Rule], want: &Wanted) -> (Vec<(&'r Rule, usize)>, Vec<usize>, Vec<ResourceId>) {
    let mut update = Vec::new();
    let mut create = Vec::new();
    let mut seen = vec![false; listed.len()];
    for (i, w) in want.specs.iter().enumerate() {
        match listed
            .iter()
            .position(|r| r.managed && r.spec.host == w.host && r.spec.path == w.path)
        {
            Some(j) => {
                seen[j] = true;
                let r = &listed[j];
                if endpoints_of(r) != endpoints_want(want.pools.get(&w.backend)) || r.spec.certificate != w.certificate
                {
                    update.push((r, i));
                }
            }
            None => create.push(i),
        }
    }
    let delete = listed
        .iter()
        .zip(&seen)
        .filter(|(_, s)| !**s)
        .map(|(r, _)| r.id.clone())
        .collect();
    (update, create, delete)
}

fn corpus() -> Vec<(String, String)> {
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

async fn emulated(http: &reqwest::Client, em: &EmulatorHandle, port: u16, host: &str, path: &str) -> Value {
    http.post(format!("{}/_emulator/resolve", em.url()))
        .json(&json!({"service": "clb", "instance": LB, "port": port, "host": host, "path": path}))
        .send()
        .await
        .expect("resolve answers")
        .json()
        .await
        .expect("resolve is JSON")
}

fn ends_of(answer: &Value) -> Ends {
    listener_emulator::resolved_endpoints(answer)
}

fn neutral_ends(spec: &ListenerSpec, backends: &BTreeMap<String, Backend>, host: &str, path: &str) -> Ends {
    let mut v: Ends = routing::resolve(spec, backends, host, routing::normalize_path(path))
        .endpoints()
        .iter()
        .map(|e| (e.address.clone(), u64::from(e.port), u64::from(e.weight)))
        .collect();
    v.sort();
    v
}

/// Every request of the corpus on the HTTPS listener, plus the TCP
/// listener: the emulated CLB and the neutral semantics agree on the
/// endpoints and the certificate served. Returns how many were compared.
async fn agree(
    em: &EmulatorHandle,
    profile: &ProfileConfig,
    site: &ListenerSpec,
    db: &ListenerSpec,
    backends: &BTreeMap<String, Backend>,
) -> usize {
    let http = reqwest::Client::new();
    let corpus = corpus();
    let mut bad = Vec::new();
    for (host, path) in &corpus {
        let answer = emulated(&http, em, 443, host, path).await;
        let want = neutral_ends(site, backends, host, path);
        let own = &site.tls.as_ref().expect("https").certificates[0];
        let alias = routing::certificate_for(&site.routes, host).unwrap_or(own);
        let cert = profile.aliases.certificate(alias).unwrap_or(alias);
        if answer["status"] != json!(200) || ends_of(&answer) != want || answer["certificate"] != json!(cert) {
            bad.push(format!("{host} {path}: CLB {answer}, neutral {want:?} {cert}"));
        }
    }
    let tcp = emulated(&http, em, 5432, "", "/").await;
    if ends_of(&tcp) != neutral_ends(db, backends, "", "/") {
        bad.push(format!("tcp: CLB {tcp}"));
    }
    assert!(
        bad.is_empty(),
        "{} of {} disagree:\n{}",
        bad.len(),
        corpus.len() + 1,
        bad.join("\n")
    );
    corpus.len() + 1
}

async fn converge(p: &ClbProvider, id: &ListenerId, want: &Wanted) -> (usize, usize, usize) {
    let rp = p.rules().expect("CLB exposes rules");
    let listed = rp.list_rules(id).await.expect("listed");
    let (update, create, delete) = changes(&listed, want);
    let news = want.news();
    for (current, i) in &update {
        rp.update_rule(current, &news[*i]).await.expect("updated");
    }
    if !create.is_empty() {
        let batch: Vec<NewRule> = create.iter().map(|i| news[*i]).collect();
        let made = rp.create_rules(id, &batch).await.expect("created");
        assert_eq!(made.len(), batch.len());
    }
    if !delete.is_empty() {
        rp.delete_rules(id, &delete).await.expect("deleted");
    }
    (update.len(), create.len(), delete.len())
}

#[tokio::test]
async fn rules_resolve_as_the_neutral_semantics_and_change_in_place() {
    let em = start().await;
    let profile_a = profile(&em, "cert-api1");
    let p = provider_with(&profile_a);
    let (site, db) = (site(), db());
    let mut pools = backends();
    let site_id = p.create(&bare(&site)).await.expect("https listener")[0].id.clone();
    let db_id = p.create(&bare(&db)).await.expect("tcp listener")[0].id.clone();

    // api `/v1`, `/v1/reports`, `*.example.com` `/static`, the `/` of both
    // hosts and the default domain's.
    let want_site = Wanted::of(&site, &pools);
    assert_eq!(want_site.specs.len(), 6);
    assert_eq!(converge(&p, &site_id, &want_site).await, (0, 6, 0));
    assert_eq!(converge(&p, &db_id, &Wanted::of(&db, &pools)).await, (0, 1, 0));
    let listed_db = p.rules().unwrap().list_rules(&db_id).await.expect("listed");
    assert_eq!(listed_db.len(), 1);
    assert_eq!(listed_db[0].id.0, format!("{db_id}/targets"));
    assert!(listed_db[0].spec.is_root() && listed_db[0].managed);

    // SNI is on; the listener reads back with its own certificate.
    let back = p.get(&site_id).await.expect("listener");
    let tls = back.spec.tls.as_ref().expect("tls");
    assert_eq!(
        (tls.sni, tls.certificates.clone()),
        (Some(true), vec!["web".to_string()])
    );
    assert!(listener_core::diff::diff_specs(&back.spec, &bare(&site)).is_empty());

    assert!(agree(&em, &profile_a, &site, &db, &pools).await >= 50);
    for (id, spec) in [(&site_id, &site), (&db_id, &db)] {
        let listed = p.rules().unwrap().list_rules(id).await.expect("listed");
        let (u, c, d) = changes(&listed, &Wanted::of(spec, &pools));
        assert!(
            u.is_empty() && c.is_empty() && d.is_empty(),
            "{spec:?}: {u:?} {c:?} {d:?}"
        );
    }

    // An endpoint and a certificate change: the web pool gets another
    // weight and a new endpoint, db another endpoint, `api-cert` points
    // to a new certificate. All in place.
    pools.insert(
        "web".to_string(),
        Backend::inline(vec![ep("10.0.0.11", 8080, 30), ep("10.0.0.13", 8080, 70)]),
    );
    pools.insert("db".to_string(), Backend::inline(vec![ep("10.0.9.2", 5432, 100)]));
    let profile_b = profile(&em, "cert-api2");
    let p = provider_with(&profile_b);
    let want_site = Wanted::of(&site, &pools);
    let listed = p.rules().unwrap().list_rules(&site_id).await.expect("listed");
    let (update, _, _) = changes(&listed, &want_site);
    // the three `/` rules of web, and api's two rules on their certificate
    assert_eq!(update.len(), 5, "{update:?}");
    assert_eq!(converge(&p, &site_id, &want_site).await, (5, 0, 0));
    assert_eq!(converge(&p, &db_id, &Wanted::of(&db, &pools)).await, (1, 0, 0));
    agree(&em, &profile_b, &site, &db, &pools).await;
    assert_eq!(converge(&p, &site_id, &want_site).await, (0, 0, 0));
    assert_eq!(converge(&p, &db_id, &Wanted::of(&db, &pools)).await, (0, 0, 0));

    // A route goes away: its rule is deleted, nothing else.
    let mut fewer = site.clone();
    fewer.routes.remove(1);
    assert_eq!(converge(&p, &site_id, &Wanted::of(&fewer, &pools)).await, (0, 0, 1));
    agree(&em, &profile_b, &fewer, &db, &pools).await;
}

#[tokio::test]
async fn more_than_twenty_endpoints_go_in_batches_and_a_retried_create_does_not_double() {
    let em = start().await;
    let profile = common::profile(&em);
    let p = provider_with(&profile);
    let mut spec = site();
    spec.protocol = Protocol::Http;
    spec.ports = Ports::Single(80);
    spec.tls = None;
    spec.routes.truncate(1);
    spec.routes[0].certificate = None;
    let mut backends = backends();
    let many: Vec<BackendEndpoint> = (1..=45).map(|i| ep(&format!("10.1.0.{i}"), 80, 100)).collect();
    backends.insert("api".to_string(), Backend::inline(many));
    let id = p.create(&bare(&spec)).await.expect("listener")[0].id.clone();
    let want = Wanted::of(&spec, &backends);
    let before = em.request_counts();
    assert_eq!(converge(&p, &id, &want).await, (0, 3, 0));
    let calls = |action: &str| {
        let n = |c: &listener_emulator::RequestCounts| {
            c.get(listener_tencent_clb::API)
                .and_then(|m| m.get(action))
                .map_or(0, |a| a.requests)
        };
        n(&em.request_counts()) - n(&before)
    };
    assert_eq!(calls("CreateRule"), 1, "one CreateRule for the three rules");
    // default domain `/` (1 call of 2), api `/` (1), api `/v1` (3 of ≤20)
    assert_eq!(calls("RegisterTargets"), 5);
    // Creating again what is there (an apply stopped after CreateRule):
    // no second rule, only what is missing is filled in.
    let again = p
        .rules()
        .unwrap()
        .create_rules(&id, &want.news())
        .await
        .expect("create again");
    assert_eq!(again.len(), 3);
    assert_eq!(calls("CreateRule"), 1);
    assert_eq!(p.rules().unwrap().list_rules(&id).await.expect("listed").len(), 3);
}

#[tokio::test]
async fn refused_before_any_call_naming_the_field() {
    let em = start().await;
    let p = provider_with(&common::profile(&em));
    let mut backends = backends();
    backends.insert(
        "static".to_string(),
        Backend::inline(vec![ep("static.internal", 80, 100)]),
    );
    backends.insert("legacy".to_string(), Backend::mapped("legacy"));
    let pools = pools(&backends);
    let spec = RouteSpec::new(Some("a.example.com"), "/", "static");
    let legacy = RouteSpec::new(Some("b.example.com"), "/", "legacy");
    let inline = inline_pool_id("static");
    let target = ResourceId::from("lbtg-legacy");
    let news = [
        NewRule {
            spec: &spec,
            backend: &inline,
            pool: pools.get("static"),
        },
        NewRule {
            spec: &legacy,
            backend: &target,
            pool: None,
        },
    ];
    let before = em.request_counts();
    let err = p
        .rules()
        .unwrap()
        .create_rules(&ListenerId("lbl-nothere".into()), &news)
        .await
        .expect_err("refused");
    let Error::Unsupported { rejections: list, .. } = &err else {
        panic!("not a rejection: {err:?}");
    };
    let fields: Vec<&str> = list.iter().map(|r| r.field.as_str()).collect();
    assert!(fields.contains(&"backends.static.endpoints[0].address"), "{fields:?}");
    assert!(fields.contains(&"backends.legacy.target"), "{fields:?}");
    assert_eq!(em.request_counts(), before, "no call was made");

    // Offline, on the listener with its routes: nested wildcards.
    let mut nested = site();
    nested.routes.push(Route::new("*.a.example.com", "/x", "api"));
    let got = p.check(&nested);
    assert!(
        got.iter()
            .any(|r| r.field == "routes[3].host" && r.rule == rules::NESTED_WILDCARD),
        "{got:?}"
    );
}

#[tokio::test]
async fn rules_of_a_listener_without_our_mark_are_not_touched() {
    let em = start().await;
    let p = provider_with(&common::profile(&em));
    let backends = backends();
    // Made by hand: a name without the `--lctl` suffix.
    let raw = common::api_client(&common::profile(&em), common::quick_retries());
    let answer = raw
        .call(
            "CreateListener",
            &json!({"LoadBalancerId": LB, "Ports": [80], "Protocol": "HTTP", "ListenerNames": ["hand-made"]}),
            false,
        )
        .await
        .expect("raw create");
    let id = ListenerId(answer.body["ListenerIds"][0].as_str().expect("id").to_string());
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let mut spec = ListenerSpec::new("hand-made", Protocol::Http, Ports::Single(80));
    spec.backend = Some("web".into());
    let want = Wanted::of(&spec, &backends);
    let err = p
        .rules()
        .unwrap()
        .create_rules(&id, &want.news())
        .await
        .expect_err("not ours");
    assert!(matches!(err, Error::NotOwned { .. }), "{err:?}");
    assert!(p.rules().unwrap().list_rules(&id).await.expect("listed").is_empty());
}

/// `CreateRule` is never repeated blindly: after an answer lost once the
/// vendor acted, or a request dropped before it did, the rules are read
/// back by domain and URL and only the missing ones are sent again.
#[tokio::test]
async fn a_lost_or_dropped_create_rule_makes_each_rule_once() {
    use listener_emulator::{Fault, FaultRule};
    for fault in [Fault::LostAnswer, Fault::Drop] {
        let em = start().await;
        let profile = profile(&em, "cert-api1");
        let p = provider_with(&profile);
        let spec = site();
        let backends = backends();
        let id = p.create(&bare(&spec)).await.expect("listener")[0].id.clone();
        let db_id = p.create(&bare(&db())).await.expect("tcp listener")[0].id.clone();
        converge(&p, &db_id, &Wanted::of(&db(), &backends)).await;
        em.faults()
            .push_rule(FaultRule::new(fault).service("clb").action("CreateRule"));
        assert_eq!(converge(&p, &id, &Wanted::of(&spec, &backends)).await, (0, 6, 0));
        let listed = p.rules().unwrap().list_rules(&id).await.expect("listed");
        assert_eq!(listed.len(), 6, "{fault:?}: {listed:?}");
        let f = em.fault_counts();
        assert_eq!(f.lost_answer + f.drop, 1, "{fault:?} fired once");
        assert_eq!(converge(&p, &id, &Wanted::of(&spec, &backends)).await, (0, 0, 0));
        agree(&em, &profile, &spec, &db(), &backends).await;
        em.shutdown().await;
    }
}

/// Once SNI is on the listener's certificate lives on the domains: a
/// rotated listener certificate is one `ModifyDomainAttributes` per domain
/// that serves it, the route host keeps its own.
#[tokio::test]
async fn a_listener_certificate_rotates_on_its_domains_once_sni_is_on() {
    let em = start().await;
    let profile = profile(&em, "cert-api1");
    let p = provider_with(&profile);
    let (site, db) = (site(), db());
    let backends = backends();
    let id = p.create(&bare(&site)).await.expect("listener")[0].id.clone();
    let db_id = p.create(&bare(&db)).await.expect("tcp listener")[0].id.clone();
    converge(&p, &id, &Wanted::of(&site, &backends)).await;
    converge(&p, &db_id, &Wanted::of(&db, &backends)).await;
    let current = p.get(&id).await.expect("listener");
    let mut rotated = site.clone();
    rotated.tls.as_mut().unwrap().certificates = vec!["ecc".into()];
    let after = p.update(&current, &bare(&rotated)).await.expect("rotated");
    assert_eq!(after.spec.tls.as_ref().unwrap().certificates, vec!["ecc".to_string()]);
    assert!(listener_core::diff::diff_specs(&after.spec, &bare(&rotated)).is_empty());
    agree(&em, &profile, &rotated, &db, &backends).await;
    let listed = p.rules().unwrap().list_rules(&id).await.expect("listed");
    let (u, c, d) = changes(&listed, &Wanted::of(&rotated, &backends));
    assert!(u.is_empty() && c.is_empty() && d.is_empty(), "{u:?} {c:?} {d:?}");
}
