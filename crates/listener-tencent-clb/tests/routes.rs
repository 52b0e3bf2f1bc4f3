//! Routes and backends on CLB end to end through the emulator: an HTTP
//! listener with two hosts (one exact, one leading wildcard), three paths
//! and a default backend is created, its rules and targets synced by
//! `ClbProvider::sync_routes`, then a corpus of requests is resolved by the
//! emulated CLB's own matcher (`POST /_emulator/resolve`) and compared with
//! `listener_core::routing::resolve` on the spec. A second sync writes
//! nothing; a changed pool and a removed route converge the same way.

mod common;

use std::collections::BTreeMap;

use common::{provider, start, LB};
use listener_core::routes::{Backend, BackendEndpoint, Route};
use listener_core::{routing, Error, ListenerSpec, Ports, Protocol, Provider};
use listener_emulator::EmulatorHandle;
use listener_tencent_clb::rules;
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
    b
}

fn site() -> ListenerSpec {
    let mut s = ListenerSpec::new("site", Protocol::Http, Ports::Single(80));
    s.backend = Some("web".into());
    s.routes = vec![
        Route::new("api.example.com", "/v1", "api"),
        Route::new("api.example.com", "/v1/reports", "reports"),
        Route::new("*.example.com", "/static", "static"),
    ];
    s
}

fn bare(spec: &ListenerSpec) -> ListenerSpec {
    let mut s = spec.clone();
    s.routes.clear();
    s.backend = None;
    s
}

fn corpus() -> Vec<(String, String)> {
    let hosts = [
        "api.example.com",
        "API.Example.com:80",
        "www.example.com",
        "a.b.example.com",
        "example.com",
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

fn expected(spec: &ListenerSpec, backends: &BTreeMap<String, Backend>, host: &str, path: &str) -> Ends {
    let mut v: Ends = routing::resolve(spec, backends, host, routing::normalize_path(path))
        .endpoints()
        .iter()
        .map(|e| (e.address.clone(), u64::from(e.port), u64::from(e.weight)))
        .collect();
    v.sort();
    v
}

async fn emulated(http: &reqwest::Client, em: &EmulatorHandle, host: &str, path: &str) -> (u64, Ends) {
    let answer: Value = http
        .post(format!("{}/_emulator/resolve", em.url()))
        .json(&json!({"service": "clb", "instance": LB, "port": 80, "host": host, "path": path}))
        .send()
        .await
        .expect("resolve answers")
        .json()
        .await
        .expect("resolve is JSON");
    let status = answer["status"].as_u64().unwrap_or(0);
    let mut v: Ends = answer["endpoints"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| {
            (
                e["address"].as_str().unwrap_or("").to_string(),
                e["port"].as_u64().unwrap_or(0),
                e["weight"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    v.sort();
    (status, v)
}

/// Every request of the corpus: the emulated CLB and the neutral resolve
/// agree. Returns how many were compared.
async fn agree(em: &EmulatorHandle, spec: &ListenerSpec, backends: &BTreeMap<String, Backend>) -> usize {
    let http = reqwest::Client::new();
    let corpus = corpus();
    let mut bad = Vec::new();
    for (host, path) in &corpus {
        let (status, got) = emulated(&http, em, host, path).await;
        let want = expected(spec, backends, host, path);
        if status != 200 || got != want {
            bad.push(format!("{host} {path}: CLB {status} {got:?}, neutral {want:?}"));
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

#[tokio::test]
async fn routes_resolve_as_the_neutral_semantics_and_converge() {
    let em = start().await;
    let p = provider(&em);
    let spec = site();
    let mut pools = backends();
    let made = p.create(&bare(&spec)).await.expect("listener created");
    let id = made[0].id.clone();

    let first = p.sync_routes(&id, &spec, &pools).await.expect("routes synced");
    // default domain's `/`, api.example.com `/` + 2, *.example.com `/` + 1
    assert_eq!(first.created, 6, "{first:?}");
    assert_eq!(first.deleted, 0);
    // web on three `/` rules, api 2, reports 1, static 1
    assert_eq!(first.registered, 2 * 3 + 2 + 1 + 1, "{first:?}");
    assert_eq!(first.writes, 1 + 6, "one CreateRule, one RegisterTargets per rule");
    assert_eq!(agree(&em, &spec, &pools).await, 96);

    let (_, again) = p.plan_routes(&id, &spec, &pools).await.expect("second plan");
    assert!(again.is_empty(), "second plan not empty: {again:?}");
    let second = p.sync_routes(&id, &spec, &pools).await.expect("second sync");
    assert_eq!(second.writes, 0);

    // A pool changes: one weight, one endpoint more. Only targets move.
    pools.insert(
        "web".to_string(),
        Backend::inline(vec![
            ep("10.0.0.11", 8080, 30),
            ep("10.0.0.12", 8080, 50),
            ep("10.0.0.13", 8080, 20),
        ]),
    );
    let third = p.sync_routes(&id, &spec, &pools).await.expect("pool change synced");
    assert_eq!((third.created, third.deleted), (0, 0), "{third:?}");
    assert!(third.registered > 0 && third.deregistered > 0, "{third:?}");
    agree(&em, &spec, &pools).await;

    // A route goes away: its rule is deleted, nothing else.
    let mut fewer = spec.clone();
    fewer.routes.remove(1);
    let fourth = p.sync_routes(&id, &fewer, &pools).await.expect("route removal synced");
    assert_eq!((fourth.created, fourth.deleted), (0, 1), "{fourth:?}");
    agree(&em, &fewer, &pools).await;
    let (_, last) = p.plan_routes(&id, &fewer, &pools).await.expect("plan");
    assert!(last.is_empty(), "{last:?}");
}

#[tokio::test]
async fn more_than_twenty_endpoints_go_in_batches() {
    let em = start().await;
    let p = provider(&em);
    let mut spec = site();
    spec.routes.truncate(1);
    let mut pools = backends();
    let many: Vec<BackendEndpoint> = (1..=45).map(|i| ep(&format!("10.1.0.{i}"), 80, 100)).collect();
    pools.insert("api".to_string(), Backend::inline(many));
    let id = p.create(&bare(&spec)).await.expect("listener")[0].id.clone();
    let r = p.sync_routes(&id, &spec, &pools).await.expect("synced");
    assert_eq!(r.registered, 2 + 2 + 45);
    // 1 create, default `/` (1 call), api `/` (1), api `/v1` (3 calls of ≤20)
    assert_eq!(r.writes, 1 + 1 + 1 + 3, "{r:?}");
    agree(&em, &spec, &pools).await;
}

#[tokio::test]
async fn refused_before_any_call_naming_the_field() {
    let em = start().await;
    let p = provider(&em);
    let mut spec = site();
    spec.routes.push(Route::new("*.a.example.com", "/x", "api"));
    let mut pools = backends();
    pools.insert(
        "static".to_string(),
        Backend::inline(vec![ep("static.internal", 80, 100)]),
    );
    let before = em.request_counts();
    let err = p
        .sync_routes(&listener_core::ListenerId("lbl-nothere".into()), &spec, &pools)
        .await
        .expect_err("refused");
    let Error::Unsupported { rejections: list, .. } = &err else {
        panic!("not a rejection: {err:?}");
    };
    let fields: Vec<&str> = list.iter().map(|r| r.field.as_str()).collect();
    assert!(fields.contains(&"routes[3].host"), "{fields:?}");
    assert!(fields.contains(&"backends.static.endpoints[0].address"), "{fields:?}");
    assert_eq!(em.request_counts(), before, "no call was made");
    let _ = rules::DEFAULT_DOMAIN;
}

#[tokio::test]
async fn a_listener_without_our_mark_is_not_touched() {
    let em = start().await;
    let p = provider(&em);
    let spec = site();
    let pools = backends();
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
    let id = answer.body["ListenerIds"][0].as_str().expect("id").to_string();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let err = p
        .sync_routes(&listener_core::ListenerId(id), &spec, &pools)
        .await
        .expect_err("not ours");
    assert!(matches!(err, Error::NotOwned { .. }), "{err:?}");
}

#[tokio::test]
async fn modify_rule_takes_proofs_and_keeps_targets() {
    use listener_core::ownership::{self, PartOf};
    let em = start().await;
    let p = provider(&em);
    let mut spec = site();
    spec.routes.truncate(1);
    let pools = backends();
    let id = p.create(&bare(&spec)).await.expect("listener")[0].id.clone();
    p.sync_routes(&id, &spec, &pools).await.expect("synced");
    let record = p
        .client()
        .describe_targets(id.as_str())
        .await
        .expect("read")
        .expect("listed");
    let rule = rules::read(&record)
        .into_iter()
        .find(|r| r.url == "/v1")
        .expect("the /v1 rule");
    let owned = ownership::claim(listener_tencent_clb::API, LB, &id, Some(LB)).expect("listener proof");
    let location = listener_core::ResourceId(rule.id.clone().expect("id"));
    let part = ownership::claim_part(
        listener_tencent_clb::API,
        PartOf::Listener(&owned),
        &location,
        Some(id.as_str()),
    )
    .expect("rule proof");
    let task = p
        .client()
        .modify_rule(&owned, &part, &json!({"Scheduler": "LEAST_CONN"}))
        .await
        .expect("modified");
    assert!(!task.is_empty());
    // Wait for the task as the provider does: until DescribeTaskStatus says 0.
    loop {
        let status = p.client().describe_task_status(&task).await.expect("task status");
        if status["Status"] == json!(0) {
            break;
        }
        assert_ne!(status["Status"], json!(1), "modify task failed: {status}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let listed = p
        .client()
        .describe_listeners(Some(std::slice::from_ref(&id.0)))
        .await
        .expect("listeners");
    let rules_back = listed[0]["Rules"].as_array().expect("rules");
    let back = rules_back
        .iter()
        .find(|r| r["LocationId"] == json!(location.as_str()))
        .expect("rule");
    assert_eq!(back["Scheduler"], json!("LEAST_CONN"));
    // The targets stayed: nothing to write.
    let (_, again) = p.plan_routes(&id, &spec, &pools).await.expect("plan");
    assert!(again.is_empty(), "{again:?}");
    // A rule reported under another listener is not ours to write.
    assert!(ownership::claim_part(
        listener_tencent_clb::API,
        PartOf::Listener(&owned),
        &location,
        Some("lbl-other")
    )
    .is_err());
}
