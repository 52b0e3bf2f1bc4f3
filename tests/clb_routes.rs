//! Routes and backends on Tencent CLB end to end through the facade:
//! `examples/routes.toml` (an HTTPS listener with two hosts, one with its
//! own certificate, three paths and a default backend; a TCP listener with
//! a backend) is planned and applied to the in-process emulator; a corpus
//! of requests is resolved by the emulated CLB's own matcher
//! (`POST /_emulator/resolve`) and by the neutral semantics
//! (`listener_core::routing`), endpoints and served certificate alike; a
//! second plan is empty; then an endpoint, a certificate and a route
//! change, apply with prune converges, and the corpus agrees again.
//!
//! The file's `legacy` backend is mapped to an existing vendor pool, which
//! on CLB would be a target group: refused before any call (checked
//! here), so this test describes `legacy` inline. The `web` pool's health
//! check is each of its rules' `HealthCheck`: read back, then changed in
//! place by `ModifyRule`.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use cloud_listeners::plan::{apply, plan_with_resources, ApplyOptions, FileResources, Prune, ResourceKind, ResourceOp};
use listener_core::config::ConfigFile;
use listener_core::routes::{Backend, BackendEndpoint};
use listener_core::routing;
use listener_core::{Adapter, InlineCredentials, ListenerSpec, ProfileConfig, Provider, Secret, WaitConfig};
use listener_emulator::{EmulatorHandle, DEFAULT_TENCENT_SECRET_ID, DEFAULT_TENCENT_SECRET_KEY};
use listener_tencent_clb::ClbProvider;
use serde_json::{json, Value};

const LB: &str = "lb-web00001";

async fn emulator() -> EmulatorHandle {
    common::one_instance("clb", LB, &[], 20)
        .start()
        .await
        .expect("emulator starts")
}

fn profile_for(file: &ConfigFile, em: &EmulatorHandle) -> ProfileConfig {
    let mut profile = file.profiles["tencent-clb"].clone();
    profile.endpoint = Some(em.url());
    profile.allow_insecure_http = true;
    profile.rate_limit_per_second = Some(1000.0);
    profile.wait = Some(WaitConfig::uniform(10, 10));
    profile.inline_credentials = Some(InlineCredentials {
        key_id: DEFAULT_TENCENT_SECRET_ID.into(),
        secret: Secret::new(DEFAULT_TENCENT_SECRET_KEY),
        token: None,
    });
    profile
}

type Ends = Vec<(String, u64, u64)>;

fn sorted(v: impl Iterator<Item = (String, u64, u64)>) -> Ends {
    let mut v: Ends = v.collect();
    v.sort();
    v
}

/// The corpus on the HTTPS listener and one request to the TCP one: the
/// emulated CLB and the neutral semantics agree on every answer. Returns
/// (requests, taken by a route, taken by the default).
async fn agree(
    em: &EmulatorHandle,
    profile: &ProfileConfig,
    listeners: &[ListenerSpec],
    backends: &BTreeMap<String, Backend>,
) -> (usize, usize, usize) {
    let http = reqwest::Client::new();
    let hosts = [
        "api.example.com",
        "API.Example.com:443",
        "www.example.com",
        "www.example.com:443",
        "other.example.com",
        "example.com",
        "x.api.example.com",
    ];
    let paths = [
        "/",
        "/v1",
        "/v1/",
        "/v1/users",
        "/v1/reports",
        "/v1/reports/2026",
        "/v1/report",
        "/v1x",
        "/V1",
        "/static",
        "/static/app.css",
        "/staticx",
    ];
    let (mut checked, mut by_route, mut by_default) = (0, 0, 0);
    let mut bad = Vec::new();
    for spec in listeners {
        let port = spec.ports.ranges()[0].from;
        let (hosts, paths): (&[&str], &[&str]) = if spec.routes.is_empty() && spec.tls.is_none() {
            (&[""], &["/"])
        } else {
            (&hosts, &paths)
        };
        for host in hosts {
            for path in paths {
                let neutral = routing::resolve(spec, backends, host, routing::normalize_path(path));
                let want = sorted(
                    neutral
                        .endpoints()
                        .iter()
                        .map(|e| (e.address.clone(), u64::from(e.port), u64::from(e.weight))),
                );
                let want_cert = spec.tls.as_ref().map(|t| {
                    let alias = routing::certificate_for(&spec.routes, host).unwrap_or(&t.certificates[0]);
                    profile.aliases.certificate(alias).unwrap_or(alias).to_string()
                });
                let answer: Value = http
                    .post(format!("{}/_emulator/resolve", em.url()))
                    .json(&json!({ "service": "clb", "instance": LB, "port": port, "host": host, "path": path }))
                    .send()
                    .await
                    .expect("resolve")
                    .json()
                    .await
                    .expect("json");
                let got = listener_emulator::resolved_endpoints(&answer);
                let got_cert = answer["certificate"].as_str().map(str::to_string);
                if answer["status"] != json!(200) || got != want || got_cert != want_cert {
                    bad.push(format!(
                        "{}:{port} {host}{path}: CLB {answer}, neutral {want:?} {want_cert:?}",
                        spec.name
                    ));
                }
                if neutral.route.is_some() {
                    by_route += 1;
                } else {
                    by_default += 1;
                }
                checked += 1;
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {checked} disagree:\n{}",
        bad.len(),
        bad.join("\n")
    );
    (checked, by_route, by_default)
}

async fn plan_and_apply(
    provider: &Arc<ClbProvider>,
    listeners: &[ListenerSpec],
    backends: &BTreeMap<String, Backend>,
    profile: &ProfileConfig,
    prune: Prune,
) -> cloud_listeners::plan::Plan {
    let resources = FileResources {
        backends,
        aliases: &profile.aliases,
    };
    let plan = plan_with_resources(provider.as_ref(), listeners, listeners, resources, prune)
        .await
        .expect("plan");
    let dynp: Arc<dyn Provider> = provider.clone();
    let report = apply(dynp, &plan, &ApplyOptions::default(), &|_| {})
        .await
        .expect("apply");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    plan
}

/// The rules of listener `name` as read back: host, path, health check.
async fn rule_healths(
    provider: &Arc<ClbProvider>,
    name: &str,
) -> Vec<(Option<String>, String, Option<listener_core::HealthCheck>)> {
    let listener = provider
        .list()
        .await
        .expect("list")
        .into_iter()
        .find(|l| l.spec.name == name)
        .expect("listener");
    let rules = provider.rules().expect("rules");
    rules
        .list_rules(&listener.id)
        .await
        .expect("rules")
        .into_iter()
        .map(|r| (r.spec.host, r.spec.path, r.pool_health_check))
        .collect()
}

fn count(plan: &cloud_listeners::plan::Plan, kind: ResourceKind, op: ResourceOp) -> usize {
    plan.resources
        .iter()
        .filter(|a| a.kind == kind && a.action == op)
        .count()
}

#[tokio::test]
async fn routes_toml_on_clb_routes_every_request_as_the_file_says() {
    let file = ConfigFile::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/routes.toml")).expect("loads");
    let em = emulator().await;
    let profile = profile_for(&file, &em);
    let refused: Vec<(String, &str)> = cloud_listeners::check_backends(&profile, &file.listeners, &file.backends)
        .expect("check")
        .into_iter()
        .map(|(_, r)| (r.field, r.rule))
        .collect();
    assert!(
        !refused
            .iter()
            .any(|(field, _)| field.starts_with("backends.web.health_check")),
        "{refused:?}"
    );
    assert!(
        refused.contains(&("routes[1].backend".to_string(), "mapped_backend_on_rule")),
        "{refused:?}"
    );
    let mut backends = file.backends.clone();
    backends.insert(
        "legacy".into(),
        Backend::inline(vec![BackendEndpoint::new("10.0.4.51", 8000)]),
    );
    // A health check on the TCP listener's pool would compete with the
    // listener's own: refused at the listener's `backend`.
    let mut checked = backends.clone();
    checked.get_mut("legacy").expect("legacy").health_check = backends["web"].health_check.clone();
    let refused: Vec<(usize, String, &str)> = cloud_listeners::check_backends(&profile, &file.listeners, &checked)
        .expect("check")
        .into_iter()
        .map(|(i, r)| (i, r.field, r.rule))
        .collect();
    assert!(
        refused.contains(&(1, "backend".to_string(), "clb_pool_health_check_on_layer4")),
        "{refused:?}"
    );
    let listeners = file.listeners.clone();
    let provider = Arc::new(ClbProvider::from_profile(&profile).expect("provider"));

    let plan = plan_and_apply(&provider, &listeners, &backends, &profile, Prune::Off).await;
    // No pool objects on CLB: the rules carry the endpoints. Site: three
    // routes, the `/` of both hosts, the default domain's; db: its targets.
    assert_eq!(count(&plan, ResourceKind::Pool, ResourceOp::Create), 0);
    assert_eq!(count(&plan, ResourceKind::Rule, ResourceOp::Create), 7);

    let (checked, by_route, by_default) = agree(&em, &profile, &listeners, &backends).await;
    eprintln!("CLB routes: {checked} requests, {by_route} by a route, {by_default} by the default");
    assert!(checked >= 50, "{checked} requests");
    assert!(by_route > 0 && by_default > 0);

    let resources = FileResources {
        backends: &backends,
        aliases: &profile.aliases,
    };
    let again = plan_with_resources(provider.as_ref(), &listeners, &listeners, resources, Prune::Managed)
        .await
        .expect("second plan");
    assert!(!again.has_changes(), "second plan: {again:?}");
    // `web`'s check is on the rules that forward to it (the default
    // domain's and each host's `/`), as the file says; the others keep
    // CLB's defaults.
    let web = backends["web"].health_check.clone().expect("web has a health check");
    let site = rule_healths(&provider, "site").await;
    let on_web: Vec<_> = site.iter().filter(|(_, path, _)| path == "/").collect();
    assert_eq!(on_web.len(), 3, "{site:?}");
    for (host, _, hc) in &on_web {
        let hc = hc.as_ref().expect("read back");
        assert_eq!(
            (
                hc.interval_secs,
                hc.timeout_secs,
                hc.http.as_ref().and_then(|h| h.path.as_deref())
            ),
            (web.interval_secs, web.timeout_secs, Some("/healthz")),
            "{host:?}"
        );
    }
    // A slower probe on `web`: its three rules are updated in place, and
    // nothing else.
    let mut slower = backends.clone();
    slower
        .get_mut("web")
        .expect("web")
        .health_check
        .as_mut()
        .expect("check")
        .interval_secs = Some(10);
    let plan = plan_and_apply(&provider, &listeners, &slower, &profile, Prune::Managed).await;
    assert_eq!(
        count(&plan, ResourceKind::Rule, ResourceOp::Update),
        3,
        "{:#?}",
        plan.resources
    );
    let changed = plan
        .resources
        .iter()
        .filter(|a| a.action != ResourceOp::Unchanged)
        .count();
    assert_eq!(changed, 3, "{:#?}", plan.resources);
    assert!(plan.actions.iter().all(|a| !a.is_change()), "listeners stay");
    let site = rule_healths(&provider, "site").await;
    assert!(
        site.iter()
            .filter(|(_, path, _)| path == "/")
            .all(|(_, _, hc)| hc.as_ref().and_then(|h| h.interval_secs) == Some(10)),
        "{site:?}"
    );
    let resources = FileResources {
        backends: &slower,
        aliases: &profile.aliases,
    };
    let settled = plan_with_resources(provider.as_ref(), &listeners, &listeners, resources, Prune::Managed)
        .await
        .expect("plan after the health check change");
    assert!(!settled.has_changes(), "{settled:?}");
    let backends = slower;

    // Change the file: api keeps one endpoint, `api-cert` is a new
    // certificate, www's `/static` route goes. With prune: the three api
    // rules are updated in place, www's two rules deleted.
    let mut backends = backends.clone();
    backends.get_mut("api").expect("api").endpoints.truncate(1);
    let mut profile = profile.clone();
    profile
        .aliases
        .certificates
        .insert("api-cert".into(), "cert-clb-api-2".into());
    let provider = Arc::new(ClbProvider::from_profile(&profile).expect("provider"));
    let mut changed = listeners.clone();
    changed[0].routes.retain(|r| r.path != "/static");
    let plan = plan_and_apply(&provider, &changed, &backends, &profile, Prune::Managed).await;
    // api `/v1` (endpoints and certificate), api `/v1/reports` and api `/`
    // (certificate); www has no route left, so its `/static` and its
    // catch-all `/` go.
    assert_eq!(
        count(&plan, ResourceKind::Rule, ResourceOp::Update),
        3,
        "{:#?}",
        plan.resources
    );
    assert_eq!(count(&plan, ResourceKind::Rule, ResourceOp::Delete), 2);
    assert!(
        plan.actions.iter().all(|a| !a.is_change()),
        "listeners change in place only"
    );
    agree(&em, &profile, &changed, &backends).await;
    let resources = FileResources {
        backends: &backends,
        aliases: &profile.aliases,
    };
    let last = plan_with_resources(provider.as_ref(), &changed, &changed, resources, Prune::Managed)
        .await
        .expect("last plan");
    assert!(!last.has_changes(), "plan after the change: {last:?}");
}
