//! Two instances of one API holding listeners on the same ports: whatever
//! is done through instance A's provider (delete and update by ID, apply
//! with prune, a replacement) never changes instance B, a write naming B's
//! listener through A is refused with a typed error before anything is
//! sent, and prune never deletes a listener the file names. One test per
//! adapter, each against the in-process emulator over HTTP on 127.0.0.1.
//!
//! The same holds for routes and pools (`routes_stay_apart`): rules,
//! domains and pools of B, and those of another owner on A, are never
//! touched by A's apply, prune or replacement, and A's rule writes naming
//! B's rules are refused.

mod common;

use std::sync::Arc;

use std::collections::BTreeMap;

use cloud_listeners::plan::{self, Action, ApplyOptions, ApplyReport, FileResources, Plan, Prune, ResourceOp};
use cloud_listeners::routes::{Backend, BackendEndpoint, Route};
use cloud_listeners::{
    provider_from_profile, BackendProtocol, Error, Forwarding, Listener, ListenerSpec, NewRule, Ports, ProfileConfig,
    Protocol, Provider, Rule, Tls,
};
use listener_emulator::{EmulatorHandle, InstanceSeed};

/// Instance B of each API (A is the one `common` seeds), and the server
/// group ALB needs on it.
fn other_instance(api: &str) -> (&'static str, Option<&'static str>) {
    match api {
        "tencent-gaap" => ("link-conf0002", None),
        "tencent-clb" => ("lb-conf00002", None),
        "alibaba-alb" => ("alb-conf0000002", Some("sgp-conf0000002")),
        "alibaba-ga" => ("ga-conf0000002", None),
        other => panic!("no second instance for {other}"),
    }
}

/// An emulator with both instances, and a provider bound to each.
struct Pair {
    api: &'static str,
    emu: EmulatorHandle,
    a: Arc<dyn Provider>,
    b: Arc<dyn Provider>,
    b_instance: &'static str,
    profile_a: ProfileConfig,
    profile_b: ProfileConfig,
}

impl Pair {
    async fn start(api: &'static str) -> Pair {
        let (service, _) = common::instance_of(api);
        let (b_instance, group) = other_instance(api);
        let emu = common::builder()
            .seed(
                service,
                InstanceSeed {
                    id: b_instance.to_string(),
                    server_groups: group.iter().map(|g| g.to_string()).collect(),
                },
            )
            .start()
            .await
            .expect("emulator starts on 127.0.0.1");
        let profile_a = common::profile(api, &emu.url());
        let mut profile_b = profile_a.clone();
        profile_b.instance = b_instance.to_string();
        if let Some(g) = group {
            profile_b.aliases.targets.insert("web-servers".into(), g.to_string());
        }
        Pair {
            api,
            a: provider_from_profile(&profile_a).expect("provider A"),
            b: provider_from_profile(&profile_b).expect("provider B"),
            emu,
            b_instance,
            profile_a,
            profile_b,
        }
    }

    /// Requests to actions that change something (anything but
    /// Describe/Get/List), as the emulator counted them for this API.
    fn writes(&self) -> u64 {
        let counts = self.emu.request_counts();
        let short = self.api.split_once('-').map_or(self.api, |(_, s)| s);
        counts.get(self.api).or_else(|| counts.get(short)).map_or(0, |actions| {
            actions
                .iter()
                .filter(|(action, _)| !["Describe", "Get", "List"].iter().any(|r| action.starts_with(r)))
                .map(|(_, c)| c.requests)
                .sum()
        })
    }

    /// A's refusal of B's listener: `NotOwned` naming B where the vendor
    /// reports the owner; on CLB, whose reads need the load balancer and
    /// so never see another one's listener, `NotFound` on A.
    fn assert_refused(&self, what: &str, e: &Error) {
        match e {
            Error::NotOwned { owner, instance, .. } if self.api != "tencent-clb" => {
                assert_eq!(owner.as_deref(), Some(self.b_instance), "{}: {what}", self.api);
                assert_eq!(instance, self.a.instance(), "{}: {what}", self.api);
            }
            Error::NotFound { .. } if self.api == "tencent-clb" => {}
            other => panic!("{}: {what}: expected the ownership refusal, got {other:?}", self.api),
        }
    }
}

fn http(name: &str, port: u32) -> ListenerSpec {
    let mut s = ListenerSpec::new(name, Protocol::Http, Ports::Single(port));
    s.forwarding = Some(Forwarding {
        backend_protocol: None,
        default_target: Some("web-servers".into()),
    });
    s
}

fn https(name: &str, port: u32) -> ListenerSpec {
    let mut s = ListenerSpec::new(name, Protocol::Https, Ports::Single(port));
    s.forwarding = Some(Forwarding {
        backend_protocol: Some(BackendProtocol::Http),
        default_target: Some("web-servers".into()),
    });
    s.tls = Some(Tls {
        certificates: vec!["web-cert".into()],
        policy: None,
        http2: None,
        http3: None,
        sni: None,
        client_auth: None,
    });
    s
}

/// The file both instances get: two listeners on the same ports.
fn file() -> Vec<ListenerSpec> {
    vec![http("web-http", 80), http("web-alt", 8080)]
}

/// Every listener of the instance, in a stable order.
async fn listing(p: &Arc<dyn Provider>) -> Vec<Listener> {
    let mut all = p.list().await.expect("list");
    all.sort_by(|x, y| x.id.cmp(&y.id));
    all
}

async fn plan_on(p: &Arc<dyn Provider>, desired: &[ListenerSpec], file: &[ListenerSpec], prune: bool) -> Plan {
    plan::plan_for_file(p.as_ref(), desired, file, prune)
        .await
        .expect("plan")
}

async fn apply(p: &Arc<dyn Provider>, planned: &Plan, allow_replace: bool) -> ApplyReport {
    let options = ApplyOptions {
        allow_replace,
        ..ApplyOptions::default()
    };
    let report = plan::apply(Arc::clone(p), planned, &options, &|_| {})
        .await
        .expect("apply runs");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    report
}

fn deleted_ids(planned: &Plan) -> Vec<String> {
    let mut ids: Vec<String> = planned
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Delete { current } => Some(current.id.0.clone()),
            _ => None,
        })
        .collect();
    ids.sort();
    ids
}

/// No delete in `planned` concerns a listener `file` names: same transport
/// and a shared port, or the same name.
fn assert_prunes_nothing_named(api: &str, planned: &Plan, file: &[ListenerSpec]) {
    for a in &planned.actions {
        if let Action::Delete { current } = a {
            for f in file {
                let shares_port = f.protocol.transport() == current.spec.protocol.transport()
                    && f.ports
                        .ranges()
                        .iter()
                        .any(|r| current.spec.ports.ranges().iter().any(|c| c.overlaps(r)));
                assert!(
                    !shares_port && f.name != current.spec.name,
                    "{api}: prune would delete {} which the file names as `{}`",
                    current.id,
                    f.name
                );
            }
        }
    }
}

async fn two_instances_stay_apart(api: &'static str) {
    let pair = Pair::start(api).await;
    let (a, b) = (&pair.a, &pair.b);
    let file = file();

    // Both instances get the same file: listeners on the same ports.
    for p in [a, b] {
        let planned = plan_on(p, &file, &file, false).await;
        apply(p, &planned, false).await;
    }
    let a_before = listing(a).await;
    let b_before = listing(b).await;
    assert_eq!(a_before.len(), 2, "{api}");
    assert_eq!(b_before.len(), 2, "{api}");
    let ports = |l: &[Listener]| {
        let mut p: Vec<String> = l.iter().map(|x| x.spec.ports.to_string()).collect();
        p.sort();
        p
    };
    assert_eq!(ports(&a_before), ports(&b_before), "{api}: same ports on both");

    // B's IDs through A: refused with the typed error, nothing sent.
    let theirs = &b_before[0];
    pair.emu.reset_request_counts();
    let e = a.delete(&theirs.id).await.expect_err("delete of B's ID through A");
    pair.assert_refused("delete", &e);
    let mut hijack = theirs.spec.clone();
    hijack.name = "hijacked".into();
    let e = a.update(theirs, &hijack).await.expect_err("update of B's ID through A");
    pair.assert_refused("update", &e);
    let e = a.get(&theirs.id).await.expect_err("get of B's ID through A");
    pair.assert_refused("get", &e);
    assert_eq!(pair.writes(), 0, "{api}: no write was sent for B's ID");
    assert_eq!(listing(b).await, b_before, "{api}: B unchanged by A's refused writes");
    assert_eq!(listing(a).await, a_before, "{api}: A unchanged too");

    // An unknown ID: NotFound, nothing sent.
    pair.emu.reset_request_counts();
    let typo = "typo-id-123".into();
    assert!(
        matches!(a.delete(&typo).await, Err(Error::NotFound { .. })),
        "{api}: unknown ID"
    );
    assert_eq!(pair.writes(), 0, "{api}");

    // A listener the file does not name, on both instances; prune on A
    // deletes A's only.
    let extra = http("extra", 9090);
    let a_extra = a.create(&extra).await.expect("extra on A").remove(0);
    b.create(&extra).await.expect("extra on B");
    let b_before = listing(b).await;
    let pruning = plan_on(a, &file, &file, true).await;
    assert_eq!(deleted_ids(&pruning), vec![a_extra.id.0.clone()], "{api}");
    assert_prunes_nothing_named(api, &pruning, &file);
    apply(a, &pruning, false).await;
    assert_eq!(listing(a).await.len(), 2, "{api}");
    assert_eq!(listing(b).await, b_before, "{api}: B unchanged by A's prune");

    // A listener the file names but this plan does not manage (a profile
    // that skips it) is kept, never pruned.
    let skipping = plan_on(a, &file[..1], &file, true).await;
    assert!(deleted_ids(&skipping).is_empty(), "{api}: {:?}", skipping.actions);
    assert!(
        skipping
            .actions
            .iter()
            .any(|x| matches!(x, Action::Kept { index: 1, current, .. } if current.spec.ports == Ports::Single(8080))),
        "{api}: {:?}",
        skipping.actions
    );
    apply(a, &skipping, false).await;
    assert_eq!(listing(a).await.len(), 2, "{api}: the skipped listener survives");

    // Inside apply, a listener deleted meanwhile is done, not a failure.
    let gone = a.create(&http("gone", 9091)).await.expect("gone on A").remove(0);
    let stale = plan_on(a, &file, &file, true).await;
    assert_eq!(deleted_ids(&stale), vec![gone.id.0.clone()], "{api}");
    a.delete(&gone.id).await.expect("deleted behind the plan's back");
    let report = apply(a, &stale, false).await;
    assert_eq!(report.done, 1, "{api}");

    // A replacement (an update where the vendor changes the protocol in
    // place) on A leaves B alone.
    let changed = vec![https("web-http", 80), http("web-alt", 8080)];
    let replacing = plan_on(a, &changed, &changed, true).await;
    assert!(replacing.has_changes(), "{api}");
    assert_prunes_nothing_named(api, &replacing, &changed);
    apply(a, &replacing, true).await;
    let a_now = listing(a).await;
    assert!(
        a_now
            .iter()
            .any(|l| l.spec.protocol == Protocol::Https && l.spec.ports == Ports::Single(80)),
        "{api}: {a_now:?}"
    );
    assert_eq!(listing(b).await, b_before, "{api}: B unchanged by A's replacement");

    // On either instance, pruning to an empty plan of this file deletes
    // only what the file does not name.
    for p in [a, b] {
        let planned = plan_on(p, &[], &file, true).await;
        assert_prunes_nothing_named(api, &planned, &file);
    }
    let b_prune = plan_on(b, &[], &file, true).await;
    assert_eq!(deleted_ids(&b_prune).len(), 1, "{api}: only B's `extra`");

    pair.emu.shutdown().await;
}

fn endpoint(address: &str, port: u32, weight: u32) -> BackendEndpoint {
    let mut e = BackendEndpoint::new(address, port);
    e.weight = weight;
    e
}

/// The pools of the routes file; `second` is the web pool's second address.
fn route_backends(second: &str) -> BTreeMap<String, Backend> {
    BTreeMap::from([
        (
            "web".to_string(),
            Backend::inline(vec![endpoint("10.0.0.1", 8080, 60), endpoint(second, 8080, 40)]),
        ),
        (
            "api".to_string(),
            Backend::inline(vec![endpoint("10.0.1.1", 9000, 100)]),
        ),
    ])
}

/// An HTTP listener on `port` with a default backend and `routes`.
fn routed(name: &str, port: u32, routes: &[(&str, &str, &str)]) -> ListenerSpec {
    let mut s = ListenerSpec::new(name, Protocol::Http, Ports::Single(port));
    s.backend = Some("web".into());
    s.routes = routes.iter().map(|(h, p, b)| Route::new(*h, *p, *b)).collect();
    s
}

const ROUTES: [(&str, &str, &str); 2] = [("api.example.com", "/v1", "api"), ("www.example.com", "/static", "api")];

/// Plan `specs` with their pools and rules on `p` and apply until the plan
/// is empty (at most three rounds); the last plan.
async fn converge_routes(
    p: &Arc<dyn Provider>,
    profile: &ProfileConfig,
    specs: &[ListenerSpec],
    backends: &BTreeMap<String, Backend>,
    prune: Prune,
) -> Plan {
    for _ in 0..3 {
        let resources = FileResources {
            backends,
            aliases: &profile.aliases,
        };
        let planned = plan::plan_with_resources(p.as_ref(), specs, specs, resources, prune)
            .await
            .expect("plan with resources");
        if !planned.has_changes() {
            return planned;
        }
        apply(p, &planned, true).await;
    }
    panic!("{}: no empty plan after three rounds", p.instance());
}

/// Every rule of every listener of `p`, in a stable order, with the
/// endpoints bound on each (`pools_on_rules` providers) and, on providers
/// with pool objects, every pool with its endpoints.
async fn routing_state(p: &Arc<dyn Provider>) -> (Vec<Rule>, Vec<String>) {
    let mut rules = Vec::new();
    if let Some(r) = p.rules() {
        for l in listing(p).await {
            rules.extend(r.list_rules(&l.id).await.expect("rules"));
        }
    }
    rules.sort_by(|x, y| x.id.cmp(&y.id));
    let mut pools = Vec::new();
    if let Some(pp) = p.pools() {
        pools = pp
            .list_pools()
            .await
            .expect("pools")
            .iter()
            .map(|x| format!("{x:?}"))
            .collect();
        pools.sort();
    }
    (rules, pools)
}

async fn routes_stay_apart(api: &'static str) {
    let pair = Pair::start(api).await;
    let (a, b) = (&pair.a, &pair.b);
    let backends = route_backends("10.0.0.2");
    let file = vec![routed("site", 80, &ROUTES)];

    // The same routes on both instances, on the same port.
    converge_routes(a, &pair.profile_a, &file, &backends, Prune::Managed).await;
    converge_routes(b, &pair.profile_b, &file, &backends, Prune::Managed).await;
    // Another owner's listener with routes on A.
    let mut other = pair.profile_a.clone();
    other.owner = Some("other".into());
    let a_other = provider_from_profile(&other).expect("provider of the other owner");
    let theirs = vec![routed("theirs", 81, &ROUTES[..1])];
    converge_routes(&a_other, &other, &theirs, &backends, Prune::Managed).await;

    let b_before = routing_state(b).await;
    assert!(!b_before.0.is_empty(), "{api}: B has rules");
    let theirs_id = listing(a)
        .await
        .into_iter()
        .find(|l| l.spec.ports == Ports::Single(81))
        .expect("the other owner's listener")
        .id;
    let rules_of_theirs =
        |rules: &[Rule]| -> Vec<Rule> { rules.iter().filter(|r| r.listener == theirs_id).cloned().collect() };
    let theirs_before = rules_of_theirs(&routing_state(a).await.0);
    assert!(!theirs_before.is_empty(), "{api}: the other owner's rules exist");

    // B's rules through A: refused, nothing sent.
    let (rule_b, a_rules) = (b_before.0[0].clone(), a.rules().expect("A has rules"));
    pair.emu.reset_request_counts();
    assert!(
        a_rules
            .delete_rules(&rule_b.listener, std::slice::from_ref(&rule_b.id))
            .await
            .is_err(),
        "{api}: delete of B's rule through A"
    );
    let pools = backends
        .iter()
        .map(|(n, x)| (n.clone(), x.to_pool_spec(n)))
        .collect::<BTreeMap<_, _>>();
    let moved = cloud_listeners::RouteSpec::new(Some("api.example.com"), "/v2", "api");
    let backend_id = cloud_listeners::inline_pool_id("api");
    let hijack = NewRule {
        spec: &moved,
        backend: &backend_id,
        pool: pools.get("api"),
    };
    assert!(
        a_rules.update_rule(&rule_b, &hijack).await.is_err(),
        "{api}: update of B's rule through A"
    );
    assert_eq!(pair.writes(), 0, "{api}: no write was sent for B's rule");
    assert_eq!(
        routing_state(b).await,
        b_before,
        "{api}: B unchanged by A's refused rule writes"
    );

    // A changes a pool's endpoint, drops a route and prunes; then its
    // listener is replaced (HTTP to HTTPS) with its rules; then A is
    // emptied. B, and the other owner's listener on A, never change.
    let changed = route_backends("10.0.0.3");
    let fewer = vec![routed("site", 80, &ROUTES[..1])];
    let planned = converge_routes(a, &pair.profile_a, &fewer, &changed, Prune::Managed).await;
    assert!(
        !planned.resources.iter().any(|r| r.action == ResourceOp::Delete),
        "{api}: converged"
    );
    assert_eq!(routing_state(b).await, b_before, "{api}: B unchanged by A's prune");
    let mut https_file = fewer.clone();
    https_file[0].protocol = Protocol::Https;
    https_file[0].tls = https("x", 80).tls;
    https_file[0].forwarding = Some(Forwarding {
        backend_protocol: Some(BackendProtocol::Http),
        default_target: None,
    });
    converge_routes(a, &pair.profile_a, &https_file, &changed, Prune::Managed).await;
    assert_eq!(
        routing_state(b).await,
        b_before,
        "{api}: B unchanged by A's replacement"
    );
    converge_routes(a, &pair.profile_a, &[], &changed, Prune::Managed).await;
    let a_left = routing_state(a).await.0;
    assert_eq!(
        a_left
            .iter()
            .map(|r| &r.listener)
            .collect::<std::collections::BTreeSet<_>>(),
        std::iter::once(&theirs_id).collect(),
        "{api}: only the other owner's rules remain on A: {a_left:?}"
    );
    assert_eq!(
        rules_of_theirs(&a_left),
        theirs_before,
        "{api}: the other owner's rules unchanged"
    );
    assert_eq!(routing_state(b).await, b_before, "{api}: B unchanged by A's emptying");
    pair.emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tencent_gaap_routes_stay_apart() {
    routes_stay_apart("tencent-gaap").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tencent_clb_routes_stay_apart() {
    routes_stay_apart("tencent-clb").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alibaba_alb_routes_stay_apart() {
    routes_stay_apart("alibaba-alb").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alibaba_ga_routes_stay_apart() {
    routes_stay_apart("alibaba-ga").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tencent_gaap_instances_stay_apart() {
    two_instances_stay_apart("tencent-gaap").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tencent_clb_instances_stay_apart() {
    two_instances_stay_apart("tencent-clb").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alibaba_alb_instances_stay_apart() {
    two_instances_stay_apart("alibaba-alb").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alibaba_ga_instances_stay_apart() {
    two_instances_stay_apart("alibaba-ga").await;
}
