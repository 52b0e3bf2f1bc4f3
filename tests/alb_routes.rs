//! Routes and backends on Alibaba ALB end to end: `examples/routes.toml`'s
//! site listener (as plain HTTP, so no certificates are needed) is planned
//! and applied through the facade to the in-process emulator; then a
//! corpus of requests is resolved by the emulated ALB's own matcher
//! (`POST /_emulator/resolve`) and by the neutral semantics
//! (`listener_core::routing::resolve`), which must agree on every one; a
//! second plan is empty. A file of inline pools only, with no server group
//! mapped, applies too: the pools go in the instance's VPC.

mod common;

use std::path::Path;
use std::sync::Arc;

use cloud_listeners::plan::{apply, plan_with_resources, ApplyOptions, FileResources, Prune, ResourceKind, ResourceOp};
use listener_alibaba_alb::AlbProvider;
use listener_core::config::ConfigFile;
use listener_core::routes::Route;
use listener_core::routing::{self, Destination};
use listener_core::{Adapter, Forwarding, InlineCredentials, Ports, Protocol, Provider, Secret, WaitConfig};
use listener_emulator::{
    EmulatorHandle, Fault, FaultRule, DEFAULT_ALIBABA_ACCESS_KEY_ID, DEFAULT_ALIBABA_ACCESS_KEY_SECRET,
};
use serde_json::{json, Value};

const LB: &str = "alb-routes000001";

/// What a request reaches: the server groups, or the endpoints of an
/// inline pool (address, port, weight), sorted.
#[derive(Debug, PartialEq, Eq)]
enum Reached {
    Group(String),
    Endpoints(Vec<(String, u32, u32)>),
}

#[tokio::test]
async fn routes_toml_on_alb_routes_every_request_as_the_file_says() {
    let file = ConfigFile::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/routes.toml")).expect("loads");
    let emulator = common::one_instance("alb", LB, &["sgp-legacy00001"], 20)
        .start()
        .await
        .expect("emulator starts");

    let mut profile = file.profiles["alibaba-alb"].clone();
    profile.instance = LB.into();
    profile.endpoint = Some(emulator.url());
    profile.allow_insecure_http = true;
    profile.rate_limit_per_second = Some(1000.0);
    profile.wait = Some(WaitConfig::uniform(10, 10));
    profile.inline_credentials = Some(InlineCredentials {
        key_id: DEFAULT_ALIBABA_ACCESS_KEY_ID.into(),
        secret: Secret::new(DEFAULT_ALIBABA_ACCESS_KEY_SECRET),
        token: None,
    });

    // The site listener as HTTP on port 80: no certificates; its default
    // backend by the mapped `legacy` pool (ALB's listener needs its default
    // server group when it is made, before the plan's pools exist), and a
    // `/` route on www so the `web` pool is used too.
    let mut site = file.listeners.iter().find(|l| l.name == "site").expect("site").clone();
    site.protocol = Protocol::Http;
    site.ports = Ports::Single(80);
    site.tls = None;
    site.backend = None;
    site.forwarding = Some(Forwarding {
        backend_protocol: None,
        default_target: Some("legacy-servers".into()),
    });
    for r in &mut site.routes {
        r.certificate = None;
    }
    site.routes.push(Route::new("www.example.com", "/", "web"));
    let listeners = vec![site.clone()];

    let provider = Arc::new(AlbProvider::from_profile(&profile).expect("provider"));
    let resources = || FileResources {
        backends: &file.backends,
        aliases: &profile.aliases,
    };
    let plan = plan_with_resources(provider.as_ref(), &listeners, &listeners, resources(), Prune::Off)
        .await
        .expect("plan");
    let count = |kind: ResourceKind, op: ResourceOp| {
        plan.resources
            .iter()
            .filter(|a| a.kind == kind && a.action == op)
            .count()
    };
    // api, static and web made; legacy mapped; four routes and the
    // catch-all of api.example.com (its other paths go to the default).
    assert_eq!(count(ResourceKind::Pool, ResourceOp::Create), 3);
    assert_eq!(count(ResourceKind::Pool, ResourceOp::Mapped), 1);
    assert_eq!(count(ResourceKind::Rule, ResourceOp::Create), 5);
    let dynp: Arc<dyn Provider> = provider.clone();
    let report = apply(dynp, &plan, &ApplyOptions::default(), &|_| {})
        .await
        .expect("apply");
    assert!(report.failed.is_empty(), "{:?}", report.failed);

    // The corpus: hosts (with case and a port) times paths.
    let hosts = [
        "api.example.com",
        "API.Example.com:80",
        "www.example.com",
        "www.example.com:80",
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
        "/v2",
        "/static",
        "/static/app.css",
        "/staticx",
        "/reports",
    ];
    let http = reqwest::Client::new();
    let (mut checked, mut by_rule, mut by_default) = (0, 0, 0);
    for host in hosts {
        for path in paths {
            let neutral = routing::resolve(&site, &file.backends, host, path);
            let want = match neutral.destination {
                Destination::Backend { pool: Some(b), .. } => match &b.target {
                    Some(alias) => Reached::Group(profile.aliases.targets[alias].clone()),
                    None => {
                        let mut e: Vec<_> = b
                            .endpoints
                            .iter()
                            .map(|e| (e.address.clone(), e.port, e.weight))
                            .collect();
                        e.sort();
                        Reached::Endpoints(e)
                    }
                },
                Destination::Target { alias } => Reached::Group(profile.aliases.targets[alias].clone()),
                other => panic!("{host}{path}: unexpected destination {other:?}"),
            };
            let answer: Value = http
                .post(format!("{}/_emulator/resolve", emulator.url()))
                .json(&json!({ "service": "alb", "instance": LB, "port": 80, "host": host, "path": path }))
                .send()
                .await
                .expect("resolve")
                .json()
                .await
                .expect("json");
            let got = match &want {
                Reached::Group(_) => {
                    Reached::Group(answer["server_groups"][0]["id"].as_str().unwrap_or("").to_string())
                }
                Reached::Endpoints(_) => {
                    let mut e: Vec<_> = answer["endpoints"]
                        .as_array()
                        .expect("endpoints")
                        .iter()
                        .map(|e| {
                            (
                                e["address"].as_str().unwrap_or("").to_string(),
                                e["port"].as_u64().unwrap_or(0) as u32,
                                e["weight"].as_u64().unwrap_or(0) as u32,
                            )
                        })
                        .collect();
                    e.sort();
                    Reached::Endpoints(e)
                }
            };
            assert_eq!(got, want, "{host}{path}: emulator answered {answer}");
            if answer["rule"].is_null() {
                by_default += 1;
            } else {
                by_rule += 1;
            }
            checked += 1;
        }
    }
    eprintln!("ALB routes: {checked} requests, {by_rule} by a rule, {by_default} by the default");
    assert!(checked >= 50, "{checked} requests");
    assert!(
        by_rule > 0 && by_default > 0,
        "{by_rule} by a rule, {by_default} by the default"
    );
    let rules = provider
        .rules()
        .expect("rules")
        .list_rules(&report.listeners[0].1.id)
        .await
        .expect("rules");
    assert_eq!(rules.len(), 5);
    assert!(rules.iter().all(|r| r.managed));

    let again = plan_with_resources(provider.as_ref(), &listeners, &listeners, resources(), Prune::Off)
        .await
        .expect("second plan");
    assert!(!again.has_changes(), "second plan: {again:?}");

    // Change the file: `api` gets another endpoint set, the www `/`
    // route goes (so `web` is no longer used: www's `/` becomes the host's
    // catch-all to the default); with --prune the pool is deleted, and the
    // next plan is empty again.
    let mut backends = file.backends.clone();
    backends.get_mut("api").expect("api").endpoints.truncate(1);
    backends.remove("web");
    let mut changed = site.clone();
    changed.routes.retain(|r| r.backend != "web");
    let listeners = vec![changed.clone()];
    let resources = || FileResources {
        backends: &backends,
        aliases: &profile.aliases,
    };
    let plan = plan_with_resources(provider.as_ref(), &listeners, &listeners, resources(), Prune::Managed)
        .await
        .expect("plan of the change");
    let ops: Vec<(ResourceKind, ResourceOp)> = plan
        .resources
        .iter()
        .filter(|a| a.action.is_change())
        .map(|a| (a.kind, a.action))
        .collect();
    assert!(ops.contains(&(ResourceKind::Pool, ResourceOp::Update)), "{ops:?}");
    // www keeps its `/static` route, so its `/` becomes the host's
    // catch-all to the default backend: an in-place update.
    assert!(ops.contains(&(ResourceKind::Rule, ResourceOp::Update)), "{ops:?}");
    let dynp: Arc<dyn Provider> = provider.clone();
    let report = apply(dynp, &plan, &ApplyOptions::default(), &|_| {})
        .await
        .expect("apply of the change");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    // The pool the updated rule used goes with the next apply (see
    // `plan::resources`: deletes run before updates).
    let plan = plan_with_resources(provider.as_ref(), &listeners, &listeners, resources(), Prune::Managed)
        .await
        .expect("plan after the change");
    let dynp: Arc<dyn Provider> = provider.clone();
    apply(dynp, &plan, &ApplyOptions::default(), &|_| {})
        .await
        .expect("apply after the change");
    let plan = plan_with_resources(provider.as_ref(), &listeners, &listeners, resources(), Prune::Managed)
        .await
        .expect("final plan");
    assert!(!plan.has_changes(), "final plan: {plan:?}");
    let pools = provider.pools().expect("pools").list_pools().await.expect("pools");
    let mut names: Vec<&str> = pools.iter().map(|p| p.spec.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["api", "static"]);
    let api = pools.iter().find(|p| p.spec.name == "api").expect("api");
    assert_eq!(api.spec.endpoints.len(), 1);
    for (host, path) in [("www.example.com", "/"), ("api.example.com", "/v1/users")] {
        let answer: Value = http
            .post(format!("{}/_emulator/resolve", emulator.url()))
            .json(&json!({ "service": "alb", "instance": LB, "port": 80, "host": host, "path": path }))
            .send()
            .await
            .expect("resolve")
            .json()
            .await
            .expect("json");
        // Both requests now reach the mapped default pool: www's by its
        // catch-all rule, api's `/v1/users` by its `/v1` route to `api`.
        let neutral = routing::resolve(&changed, &backends, host, path);
        let to_default = matches!(neutral.destination, routing::Destination::Target { .. });
        assert_eq!(
            answer["server_groups"][0]["id"] == "sgp-legacy00001",
            to_default,
            "{host}{path}: {answer}"
        );
    }
    let endpoints = |a: &Value| a["endpoints"].as_array().map(Vec::len).unwrap_or(0);
    let api_answer: Value = http
        .post(format!("{}/_emulator/resolve", emulator.url()))
        .json(&json!({ "service": "alb", "instance": LB, "port": 80, "host": "api.example.com", "path": "/v1" }))
        .send()
        .await
        .expect("resolve")
        .json()
        .await
        .expect("json");
    assert_eq!(endpoints(&api_answer), 1, "{api_answer}");

    // A server group the adapter did not make is never written.
    match provider
        .pools()
        .expect("pools")
        .delete_pool(&listener_core::ResourceId::from("sgp-legacy00001"))
        .await
    {
        Err(listener_core::Error::NotOwned { .. }) => {}
        other => panic!("deleting a foreign server group: {other:?}"),
    }
    emulator.shutdown().await;
}

/// The profile of the emulated instance: certificates named after the
/// hosts they cover (the emulator's `id@name` convention), a mapped
/// server group.
fn sni_profile(emulator: &EmulatorHandle, instance: &str) -> listener_core::ProfileConfig {
    let mut p = listener_core::ProfileConfig::new("alibaba-alb", instance);
    p.region = Some("cn-hangzhou".into());
    p.endpoint = Some(emulator.url());
    p.allow_insecure_http = true;
    p.rate_limit_per_second = Some(1000.0);
    p.wait = Some(WaitConfig::uniform(10, 10));
    p.inline_credentials = Some(InlineCredentials {
        key_id: DEFAULT_ALIBABA_ACCESS_KEY_ID.into(),
        secret: Secret::new(DEFAULT_ALIBABA_ACCESS_KEY_SECRET),
        token: None,
    });
    for (alias, id) in [
        ("site-cert", "cert-site"),
        ("api-cert", "cert-api@api.example.com"),
        ("eu-cert", "cert-eu@*.eu.example.com"),
    ] {
        p.aliases.certificates.insert(alias.into(), id.into());
    }
    p.aliases
        .targets
        .insert("legacy-servers".into(), "sgp-sni0legacy01".into());
    p
}

/// What the emulated ALB answers for one request.
async fn ask(http: &reqwest::Client, emulator: &EmulatorHandle, instance: &str, host: &str, path: &str) -> Value {
    http.post(format!("{}/_emulator/resolve", emulator.url()))
        .json(&json!({ "service": "alb", "instance": instance, "port": 443, "host": host, "path": path }))
        .send()
        .await
        .expect("resolve")
        .json()
        .await
        .expect("json")
}

/// Requests of one action, over every API the emulator counted.
fn requests_of(emulator: &EmulatorHandle, action: &str) -> u64 {
    emulator
        .request_counts()
        .values()
        .filter_map(|a| a.get(action))
        .map(|c| c.requests)
        .sum()
}

/// An HTTPS listener with exact hosts under wildcards (nested too),
/// per-host certificates and a default backend by pool name: every
/// request of the corpus reaches the endpoints and gets the certificate
/// the neutral semantics say, through the emulated ALB's own matcher and
/// SNI choice. A certificate rotation is an in-place listener update that
/// associates the new certificate before the old one goes: with the
/// associate failing, the old one is still served and no dissociate was
/// sent.
#[tokio::test]
async fn overlapping_hosts_and_host_certificates_on_alb_agree_with_the_file() {
    const SNI_LB: &str = "alb-sni00000001";
    let emulator = common::one_instance("alb", SNI_LB, &["sgp-sni0legacy01"], 10)
        .start()
        .await
        .expect("emulator starts");
    let profile = sni_profile(&emulator, SNI_LB);
    let file = ConfigFile::from_text(
        r#"
[backends.web]
endpoints = [{ address = "10.0.0.11", port = 8080, weight = 50 }, { address = "10.0.0.12", port = 8080, weight = 50 }]
health_check = { kind = "http", interval_secs = 5, timeout_secs = 2, healthy_threshold = 2, http = { path = "/healthz", healthy_status_classes = [2, 3] } }
[backends.api]
endpoints = [{ address = "10.0.1.21", port = 9000 }]
[backends.static]
endpoints = [{ address = "10.0.2.31", port = 8081 }]
[backends.eu]
endpoints = [{ address = "10.0.3.41", port = 8082 }]
[backends.legacy]
target = "legacy-servers"

[[listeners]]
name = "site"
protocol = "https"
ports = 443
tls = { certificates = ["site-cert"] }
backend = "web"
routes = [
  { host = "api.example.com", path = "/v1", backend = "api", certificate = "api-cert" },
  { host = "api.example.com", path = "/v1/reports", backend = "legacy", certificate = "api-cert" },
  { host = "*.example.com", path = "/static", backend = "static" },
  { host = "*.eu.example.com", path = "/", backend = "eu", certificate = "eu-cert" },
  { host = "shop.eu.example.com", path = "/cart", backend = "api" },
]
"#,
        listener_core::Format::Toml,
        Path::new("sni.toml"),
    )
    .expect("file parses");
    let site = file.listeners[0].clone();
    let listeners = vec![site.clone()];
    let provider = Arc::new(AlbProvider::from_profile(&profile).expect("provider"));
    assert!(
        provider.check(&site).is_empty(),
        "overlapping hosts are expressed: {:?}",
        provider.check(&site)
    );
    let (backends, aliases) = (file.backends.clone(), profile.aliases.clone());
    let plan = plan_with_resources(
        provider.as_ref(),
        &listeners,
        &listeners,
        FileResources {
            backends: &backends,
            aliases: &aliases,
        },
        Prune::Off,
    )
    .await
    .expect("plan");
    let dynp: Arc<dyn Provider> = provider.clone();
    let report = apply(dynp, &plan, &ApplyOptions::default(), &|_| {})
        .await
        .expect("apply");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert!(report.skipped.is_empty() && report.not_started.is_empty(), "{report:?}");
    let listener = report.listeners[0].1.clone();
    assert_eq!(
        listener.spec.backend.as_deref(),
        Some("web"),
        "the default pool reads back by name"
    );
    // The pool's health check is the server group's.
    let pools = provider.pools().expect("pools").list_pools().await.expect("pools");
    let web = pools.iter().find(|p| p.spec.name == "web").expect("web");
    let hc = web.spec.health_check.as_ref().expect("health check read back");
    assert_eq!(
        (hc.interval_secs, hc.timeout_secs, hc.healthy_threshold),
        (Some(5), Some(2), Some(2))
    );
    assert_eq!(hc.http.as_ref().and_then(|h| h.path.as_deref()), Some("/healthz"));
    assert_eq!(
        hc.http.as_ref().map(|h| h.healthy_status_classes.clone()),
        Some(vec![2, 3])
    );

    let hosts = [
        "api.example.com",
        "API.example.com:443",
        "www.example.com",
        "x.y.example.com",
        "eu.example.com",
        "a.eu.example.com",
        "shop.eu.example.com",
        "b.c.eu.example.com",
        "example.com",
        "other.org",
    ];
    let paths = [
        "/",
        "/v1",
        "/v1/users",
        "/v1/reports/2026",
        "/static",
        "/static/app.css",
        "/cart",
        "/cart/1",
        "/x",
    ];
    let http = reqwest::Client::new();
    let cert_id = |profile: &listener_core::ProfileConfig, host: &str| {
        let alias = routing::certificate_for(&site.routes, host).unwrap_or("site-cert");
        profile.aliases.certificates[alias].clone()
    };
    let (mut checked, mut by_rule) = (0, 0);
    for host in hosts {
        for path in paths {
            let neutral = routing::resolve(&site, &file.backends, host, path);
            let want: Vec<(String, u64, u64)> = {
                let mut e: Vec<_> = neutral
                    .endpoints()
                    .iter()
                    .map(|e| (e.address.clone(), u64::from(e.port), u64::from(e.weight)))
                    .collect();
                e.sort();
                e
            };
            let answer = ask(&http, &emulator, SNI_LB, host, path).await;
            let mut got: Vec<(String, u64, u64)> = answer["endpoints"]
                .as_array()
                .expect("endpoints")
                .iter()
                .map(|e| {
                    (
                        e["address"].as_str().unwrap_or("").to_string(),
                        e["port"].as_u64().unwrap_or(0),
                        e["weight"].as_u64().unwrap_or(0),
                    )
                })
                .collect();
            got.sort();
            if neutral.destination.target_alias().is_some() {
                assert_eq!(
                    answer["server_groups"][0]["id"], "sgp-sni0legacy01",
                    "{host}{path}: {answer}"
                );
            } else {
                assert_eq!(got, want, "{host}{path}: {answer}");
            }
            assert_eq!(answer["certificate"], cert_id(&profile, host), "{host}{path}: {answer}");
            if neutral.route.is_some() {
                by_rule += 1;
            }
            checked += 1;
        }
    }
    eprintln!("ALB SNI: {checked} requests, {by_rule} by a route");
    assert!(
        checked >= 50 && by_rule > 10,
        "{checked} requests, {by_rule} by a route"
    );

    let again = plan_with_resources(
        provider.as_ref(),
        &listeners,
        &listeners,
        FileResources {
            backends: &backends,
            aliases: &aliases,
        },
        Prune::Off,
    )
    .await
    .expect("second plan");
    assert!(!again.has_changes(), "second plan: {again:?}");

    // Rotation: the alias points to a new certificate. One in-place
    // listener update, nothing else.
    let mut rotated = profile.clone();
    rotated
        .aliases
        .certificates
        .insert("api-cert".into(), "cert-api2@api.example.com".into());
    let provider = Arc::new(AlbProvider::from_profile(&rotated).expect("provider"));
    let plan_rotation = || async {
        plan_with_resources(
            provider.as_ref(),
            &listeners,
            &listeners,
            FileResources {
                backends: &backends,
                aliases: &rotated.aliases,
            },
            Prune::Off,
        )
        .await
        .expect("plan of the rotation")
    };
    let plan = plan_rotation().await;
    assert!(
        matches!(plan.actions.as_slice(), [cloud_listeners::plan::Action::Update { .. }]),
        "{:?}",
        plan.actions
    );
    assert!(
        plan.resources.iter().all(|r| !r.action.is_change()),
        "{:?}",
        plan.resources
    );

    // The new certificate's association fails: the old one must still be
    // there, since nothing is removed before the new one is in place.
    emulator.faults().push_rule(
        FaultRule::new(Fault::TaskFailure)
            .service("alb")
            .action("AssociateAdditionalCertificatesWithListener"),
    );
    let dynp: Arc<dyn Provider> = provider.clone();
    let report = apply(dynp, &plan, &ApplyOptions::default(), &|_| {})
        .await
        .expect("apply runs");
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert_eq!(
        requests_of(&emulator, "DissociateAdditionalCertificatesFromListener"),
        0
    );
    let answer = ask(&http, &emulator, SNI_LB, "api.example.com", "/v1").await;
    assert_eq!(answer["certificate"], "cert-api@api.example.com", "{answer}");

    // Again without the fault: added, then the old one removed.
    let plan = plan_rotation().await;
    let dynp: Arc<dyn Provider> = provider.clone();
    let report = apply(dynp, &plan, &ApplyOptions::default(), &|_| {})
        .await
        .expect("apply of the rotation");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(
        requests_of(&emulator, "DissociateAdditionalCertificatesFromListener"),
        1
    );
    for host in ["api.example.com", "shop.eu.example.com", "www.example.com"] {
        let answer = ask(&http, &emulator, SNI_LB, host, "/").await;
        assert_eq!(answer["certificate"], cert_id(&rotated, host), "{host}: {answer}");
    }
    let held = provider.get(&listener.id).await.expect("listener");
    assert!(
        !held.spec.server_certificates().iter().any(|c| c.contains("cert-api@")),
        "{:?}",
        held.spec.tls
    );
    let plan = plan_rotation().await;
    assert!(!plan.has_changes(), "after the rotation: {plan:?}");
    emulator.shutdown().await;
}

/// A file with only inline pools and a profile that maps no server group:
/// apply makes the pools in the instance's VPC (as `GetLoadBalancerAttribute`
/// reports it, asked once), the listener and its route, and a second plan
/// is empty.
#[tokio::test]
async fn inline_backends_without_targets_apply_in_the_instance_vpc() {
    const VPC_LB: &str = "alb-vpc000000001";
    let emulator = common::one_instance("alb", VPC_LB, &["sgp-vpcseeded001"], 10)
        .start()
        .await
        .expect("emulator starts");
    let mut profile = sni_profile(&emulator, VPC_LB);
    profile.aliases.targets.clear();
    let file = ConfigFile::from_text(
        r#"
[backends.web]
endpoints = [{ address = "10.0.0.11", port = 8080 }]
[backends.api]
endpoints = [{ address = "10.0.1.21", port = 9000 }]

[[listeners]]
name = "site"
protocol = "http"
ports = 80
backend = "web"
routes = [{ host = "api.example.com", path = "/", backend = "api" }]
"#,
        listener_core::Format::Toml,
        Path::new("inline.toml"),
    )
    .expect("file parses");
    let listeners = file.listeners.clone();
    let provider = Arc::new(AlbProvider::from_profile(&profile).expect("provider"));
    let resources = || FileResources {
        backends: &file.backends,
        aliases: &profile.aliases,
    };
    let plan = plan_with_resources(provider.as_ref(), &listeners, &listeners, resources(), Prune::Off)
        .await
        .expect("plan");
    let dynp: Arc<dyn Provider> = provider.clone();
    let report = apply(dynp, &plan, &ApplyOptions::default(), &|_| {})
        .await
        .expect("apply");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert!(report.skipped.is_empty() && report.not_started.is_empty(), "{report:?}");

    let instance = provider.client().get_load_balancer(VPC_LB).await.expect("instance");
    let vpc = instance["VpcId"].as_str().expect("VpcId").to_string();
    let groups = provider.client().list_server_groups(&[]).await.expect("groups");
    let seeded = groups
        .iter()
        .find(|g| g["ServerGroupId"] == "sgp-vpcseeded001")
        .expect("seeded group");
    assert_eq!(seeded["VpcId"], json!(vpc), "the instance's VPC is its seeded groups'");
    let made: Vec<&Value> = groups
        .iter()
        .filter(|g| g["ServerGroupName"].as_str().is_some_and(|n| n.starts_with("cl-")))
        .collect();
    assert_eq!(made.len(), 2, "{groups:?}");
    for g in made {
        assert_eq!(g["VpcId"], json!(vpc), "{g}");
    }
    // Asked once by the apply, once above.
    assert_eq!(requests_of(&emulator, "GetLoadBalancerAttribute"), 2);

    let again = plan_with_resources(provider.as_ref(), &listeners, &listeners, resources(), Prune::Off)
        .await
        .expect("second plan");
    assert!(!again.has_changes(), "second plan: {again:?}");
    emulator.shutdown().await;
}
