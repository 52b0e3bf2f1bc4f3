//! Routes, backends and per-host certificates on GA end to end, over real
//! HTTP against the emulator: an HTTPS listener with two route hosts (one
//! exact with its own certificate, one wildcard), three paths and a default
//! backend is made, its rules handed to the `RuleProvider` as the plan
//! expands them (routes, per-host `/` catch-alls, the root rule), and a
//! corpus of requests is resolved by the emulated GA's own matcher
//! (`POST /_emulator/resolve`: forwarding rules by priority, endpoint
//! groups, SNI certificate) and by `listener_core::routing`: endpoints and
//! certificate agree on every request. Then one endpoint and one
//! certificate change in place (same listener, same rules) and the corpus
//! agrees again.

mod common;

use std::collections::BTreeMap;

use common::{builder, Setup, ACC};
use listener_alibaba_ga::GaProvider;
use listener_core::routes::{Backend, BackendEndpoint, Route};
use listener_core::{
    inline_pool_id, routing, Adapter, Error, ListenerSpec, NewRule, PoolSpec, Provider, RouteSpec, RuleProvider,
};
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
    b.insert(
        "static".to_string(),
        Backend::inline(vec![ep("static.internal", 8081, 100)]),
    );
    b
}

fn site() -> ListenerSpec {
    let mut s = common::https_spec("site", 443);
    s.backend = Some("web".into());
    let mut api = Route::new("api.example.com", "/v1", "api");
    api.certificate = Some("web-2".into());
    let mut reports = Route::new("api.example.com", "/v1/reports", "reports");
    reports.certificate = Some("web-2".into());
    s.routes = vec![api, reports, Route::new("*.example.com", "/static", "static")];
    s
}

/// The rules the plan hands a `pools_on_rules` provider (the core's
/// expansion, `docs/routing.md`): each route, a `/` rule per host without
/// one to the default backend, and the root rule.
fn expand(spec: &ListenerSpec) -> Vec<RouteSpec> {
    let default = spec.backend.clone().expect("default backend");
    let mut out: Vec<RouteSpec> = spec.routes.iter().map(Route::to_route_spec).collect();
    let mut hosts: Vec<&str> = spec.routes.iter().map(|r| r.host.as_str()).collect();
    hosts.dedup();
    for h in hosts {
        if !spec.routes.iter().any(|r| r.host == h && r.path == "/") {
            out.push(RouteSpec::new(Some(h), "/", default.clone()));
        }
    }
    out.push(RouteSpec::new(None, "/", default));
    out
}

fn pools(b: &BTreeMap<String, Backend>) -> BTreeMap<String, PoolSpec> {
    b.iter().map(|(n, p)| (n.clone(), p.to_pool_spec(n))).collect()
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
        "/v1/reports/2026",
        "/v1/report",
        "/static",
        "/static/app.css",
        "/staticx",
        "/V1",
    ];
    hosts
        .iter()
        .flat_map(|h| paths.iter().map(move |p| (h.to_string(), p.to_string())))
        .collect()
}

type Ends = Vec<(String, u64, u64)>;

/// Every request: the emulated GA and the neutral semantics agree on the
/// endpoints and the certificate. Returns (requests, taken by a rule).
async fn agree(
    emu: &listener_emulator::EmulatorHandle,
    aliases: &listener_core::Aliases,
    spec: &ListenerSpec,
    backends: &BTreeMap<String, Backend>,
) -> (usize, usize) {
    let http = reqwest::Client::new();
    let mut bad = Vec::new();
    let mut by_rule = 0;
    let corpus = corpus();
    for (host, path) in &corpus {
        let mut want: Ends = routing::resolve(spec, backends, host, routing::normalize_path(path))
            .endpoints()
            .iter()
            .map(|e| (e.address.clone(), u64::from(e.port), u64::from(e.weight)))
            .collect();
        want.sort();
        let alias = routing::certificate_for(&spec.routes, host)
            .map(str::to_string)
            .unwrap_or_else(|| spec.tls.as_ref().expect("tls").certificates[0].clone());
        let want_cert = aliases.certificate(&alias).expect("alias").to_string();
        let answer: Value = http
            .post(format!("{}/_emulator/resolve", emu.url()))
            .json(&json!({"service": "ga", "instance": ACC, "port": 443, "host": host, "path": path}))
            .send()
            .await
            .expect("resolve answers")
            .json()
            .await
            .expect("resolve is JSON");
        let got: Ends = listener_emulator::resolved_endpoints(&answer);
        let cert = answer["certificate"].as_str().unwrap_or("");
        if got != want || cert != want_cert {
            bad.push(format!(
                "{host} {path}: GA {got:?} {cert}, neutral {want:?} {want_cert}"
            ));
        }
        if !answer["rule"].is_null() {
            by_rule += 1;
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {} disagree:\n{}",
        bad.len(),
        corpus.len(),
        bad.join("\n")
    );
    (corpus.len(), by_rule)
}

fn action_count(setup: &Setup, action: &str) -> u64 {
    setup
        .emu
        .request_counts()
        .get("alibaba-ga")
        .and_then(|m| m.get(action))
        .map_or(0, |c| c.requests)
}

#[tokio::test]
async fn routes_and_certificates_resolve_as_the_neutral_semantics_and_change_in_place() {
    let setup = Setup::start(builder()).await;
    let p = &setup.provider;
    let spec = site();
    let mut b = backends();
    assert!(p.check(&spec).is_empty(), "{:?}", p.check(&spec));
    let listener = p.create(&spec).await.expect("listener created").remove(0);
    // The route certificate is an additional certificate, read back.
    assert!(p.plan_change(&listener.spec, &spec).is_empty());

    let wanted = expand(&spec);
    assert_eq!(wanted.len(), 3 + 2 + 1);
    let by_name = pools(&b);
    let ids: Vec<_> = wanted.iter().map(|r| inline_pool_id(&r.backend)).collect();
    let news: Vec<NewRule> = wanted
        .iter()
        .zip(&ids)
        .map(|(spec, backend)| NewRule {
            spec,
            backend,
            pool: by_name.get(&spec.backend),
        })
        .collect();
    let made = p.create_rules(&listener.id, &news).await.expect("rules made");
    assert_eq!(made.len(), 6, "{made:?}");
    let listed = p.list_rules(&listener.id).await.expect("listed");
    assert_eq!(listed.len(), 6);
    assert!(listed.iter().all(|r| r.managed && r.pool.is_some()));
    // web (default group), and virtual groups for api, reports, static, web.
    let groups = p
        .client()
        .list_endpoint_groups(ACC, listener.id.as_str())
        .await
        .expect("groups");
    assert_eq!(groups.len(), 5);
    let (n, by_rule) = agree(&setup.emu, &setup.profile.aliases, &spec, &b).await;
    assert!(n >= 50 && by_rule > 0, "{n} {by_rule}");

    // One endpoint of `api` changes: the rules forwarding there are
    // updated in place (their shared group's endpoint set).
    b.insert(
        "api".to_string(),
        Backend::inline(vec![ep("10.0.1.21", 9000, 30), ep("10.0.1.23", 9000, 70)]),
    );
    let by_name = pools(&b);
    for rule in listed.iter().filter(|r| r.spec.backend == "api") {
        let id = inline_pool_id("api");
        let want = NewRule {
            spec: &rule.spec,
            backend: &id,
            pool: by_name.get("api"),
        };
        let updated = p.update_rule(rule, &want).await.expect("rule updated");
        assert_eq!(updated.id, rule.id, "in place");
    }
    // And the default pool: the root rule and the catch-alls share it.
    b.insert(
        "web".to_string(),
        Backend::inline(vec![ep("10.0.0.11", 8080, 50), ep("10.0.0.13", 8080, 50)]),
    );
    let by_name = pools(&b);
    for rule in listed.iter().filter(|r| r.spec.backend == "web") {
        let id = inline_pool_id("web");
        let want = NewRule {
            spec: &rule.spec,
            backend: &id,
            pool: by_name.get("web"),
        };
        assert_eq!(p.update_rule(rule, &want).await.expect("updated").id, rule.id);
    }

    // The certificate of api.example.com rotates: one in-place call on the
    // listener, no dissociation.
    let mut profile = setup.profile.clone();
    profile
        .aliases
        .certificates
        .insert("web-3".into(), "451-cn-hangzhou".into());
    let p3 = GaProvider::from_profile(&profile).expect("provider");
    let mut rotated = spec.clone();
    for r in &mut rotated.routes {
        if r.host == "api.example.com" {
            r.certificate = Some("web-3".into());
        }
    }
    let current = p3.get(&listener.id).await.expect("read back");
    let plan = p3.plan_change(&current.spec, &rotated);
    assert_eq!(
        plan.changes.iter().map(|c| c.path.as_str()).collect::<Vec<_>>(),
        vec!["routes.certificate"]
    );
    let (swaps, drops) = (
        action_count(&setup, "UpdateAdditionalCertificateWithListener"),
        action_count(&setup, "DissociateAdditionalCertificatesFromListener"),
    );
    let after = p3.update(&current, &rotated).await.expect("rotated");
    assert_eq!(after.id, listener.id);
    assert!(p3.plan_change(&after.spec, &rotated).is_empty());
    assert_eq!(
        action_count(&setup, "UpdateAdditionalCertificateWithListener"),
        swaps + 1
    );
    assert_eq!(
        action_count(&setup, "DissociateAdditionalCertificatesFromListener"),
        drops
    );
    let after_rules = p.list_rules(&listener.id).await.expect("listed");
    let mut before_ids: Vec<_> = listed.iter().map(|r| r.id.clone()).collect();
    let mut after_ids: Vec<_> = after_rules.iter().map(|r| r.id.clone()).collect();
    before_ids.sort();
    after_ids.sort();
    assert_eq!(before_ids, after_ids, "rules changed in place");

    agree(&setup.emu, &profile.aliases, &rotated, &b).await;

    // A route goes: its rule is deleted; its pool's group with it.
    let gone: Vec<_> = after_rules
        .iter()
        .filter(|r| r.spec.backend == "reports")
        .map(|r| r.id.clone())
        .collect();
    p3.delete_rules(&listener.id, &gone).await.expect("deleted");
    let mut fewer = rotated.clone();
    fewer.routes.retain(|r| r.backend != "reports");
    agree(&setup.emu, &profile.aliases, &fewer, &b).await;
    let groups = p
        .client()
        .list_endpoint_groups(ACC, listener.id.as_str())
        .await
        .expect("groups");
    assert_eq!(groups.len(), 4, "the reports group went with its last rule");

    // The listener goes with its rules and groups.
    p3.delete(&listener.id).await.expect("listener deleted");
    assert_eq!(setup.count(), 0);
    setup.shutdown().await;
}

/// Refused before any call, naming the field and citing GA's code: a pool
/// whose endpoints use different ports (one `PortOverrides` port per
/// group, `QuotaExceeded.PortOverride`), and a route to a mapped pool (GA
/// endpoint groups belong to one listener).
#[tokio::test]
async fn pools_ga_cannot_express_are_refused_before_any_call() {
    let setup = Setup::start(builder()).await;
    let p = &setup.provider;
    let listener = p
        .create(&common::https_spec("site", 443))
        .await
        .expect("listener")
        .remove(0);
    let mixed = PoolSpec::new(
        "web",
        vec![
            listener_core::Endpoint::new("10.0.0.1", 80),
            listener_core::Endpoint::new("10.0.0.2", 81),
        ],
    );
    let root = RouteSpec::new(None, "/", "web");
    let route = RouteSpec::new(Some("a.example.com"), "/", "legacy");
    let id = inline_pool_id("web");
    let mapped_id = listener_core::ResourceId::from("epg-elsewhere");
    let before = setup.emu.request_counts();
    for (rule, field, code) in [
        (
            NewRule {
                spec: &root,
                backend: &id,
                pool: Some(&mixed),
            },
            "backends.web.endpoints",
            listener_alibaba_ga::rules::rule::POOL_PORTS,
        ),
        (
            NewRule {
                spec: &route,
                backend: &mapped_id,
                pool: None,
            },
            "backends.legacy",
            listener_alibaba_ga::rules::rule::MAPPED_BACKEND,
        ),
    ] {
        match p.create_rules(&listener.id, &[rule]).await {
            Err(Error::Unsupported { rejections, .. }) => {
                assert_eq!((rejections[0].field.as_str(), rejections[0].rule), (field, code));
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
    assert_eq!(setup.emu.request_counts(), before, "no call was made");
    setup.shutdown().await;
}

/// Groups and rules without this owner's mark are read back unmanaged and
/// never written: a default group made by hand makes the root rule
/// `NotOwned`, and a hand-made forwarding rule cannot be deleted.
#[tokio::test]
async fn groups_and_rules_without_our_mark_are_not_touched() {
    let setup = Setup::start(builder()).await;
    let p = &setup.provider;
    let listener = p
        .create(&common::https_spec("site", 443))
        .await
        .expect("listener")
        .remove(0);
    let raw = setup.raw();
    let call = |action: &'static str, params: Value| {
        let raw = raw.clone();
        async move {
            let token = raw.new_client_token();
            raw.call(action, &params, alibaba_api::CallOptions::write(token))
                .await
                .expect(action)
                .body
        }
    };
    let base = json!({ "RegionId": "cn-hangzhou", "AcceleratorId": ACC, "ListenerId": listener.id.as_str() });
    let mut g = base.clone();
    g["EndpointGroupRegion"] = json!("cn-hangzhou");
    g["Name"] = json!("pool-web");
    g["EndpointConfigurations"] = json!([{ "Type": "Ip", "Endpoint": "10.9.9.9", "Weight": 10 }]);
    call("CreateEndpointGroup", g.clone()).await;
    let mut v = g.clone();
    v["EndpointGroupType"] = json!("virtual");
    v["Name"] = json!("pool-theirs");
    // GA takes one write at a time: wait for the first group.
    let wait = || async {
        for _ in 0..200 {
            let groups = p
                .client()
                .list_endpoint_groups(ACC, listener.id.as_str())
                .await
                .expect("groups");
            if groups.iter().all(|g| g["State"] == "active") {
                return groups;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("groups never settled");
    };
    wait().await;
    let virt = call("CreateEndpointGroup", v).await["EndpointGroupId"]
        .as_str()
        .expect("id")
        .to_string();
    wait().await;
    let mut r = base.clone();
    r["ForwardingRules"] = json!([{
        "Priority": 1,
        "RuleConditions": [{ "RuleConditionType": "Host", "RuleConditionValue": "[\"a.example.com\"]" },
                           { "RuleConditionType": "Path", "RuleConditionValue": "[\"/*\"]" }],
        "RuleActions": [{ "RuleActionType": "ForwardGroup",
                          "RuleActionValue": json!([{ "type": "endpointgroup", "value": virt }]).to_string() }],
    }]);
    let rule = call("CreateForwardingRules", r).await["ForwardingRules"][0]["ForwardingRuleId"]
        .as_str()
        .expect("rule")
        .to_string();
    wait().await;

    let listed = p.list_rules(&listener.id).await.expect("listed");
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|r| !r.managed), "{listed:?}");
    let before = setup.emu.request_counts();
    let writes = |c: &listener_emulator::RequestCounts| {
        c.get("alibaba-ga")
            .map(|m| {
                m.iter()
                    .filter(|(a, _)| !a.starts_with("List") && !a.starts_with("Describe"))
                    .map(|(_, x)| x.requests)
                    .sum::<u64>()
            })
            .unwrap_or(0)
    };
    let err = p
        .delete_rules(&listener.id, &[listener_core::ResourceId(rule)])
        .await
        .expect_err("not ours");
    assert!(matches!(err, Error::NotOwned { .. }), "{err:?}");
    let root = RouteSpec::new(None, "/", "web");
    let id = inline_pool_id("web");
    let pool = PoolSpec::new("web", vec![listener_core::Endpoint::new("10.0.0.1", 80)]);
    let err = p
        .create_rules(
            &listener.id,
            &[NewRule {
                spec: &root,
                backend: &id,
                pool: Some(&pool),
            }],
        )
        .await
        .expect_err("the default group is not ours");
    assert!(matches!(err, Error::NotOwned { .. }), "{err:?}");
    assert_eq!(writes(&setup.emu.request_counts()), writes(&before), "nothing written");
    setup.shutdown().await;
}
