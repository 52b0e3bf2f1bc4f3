//! The facade's plan and apply over pools and rules beside listeners,
//! driven end to end against an in-memory provider that implements
//! `Provider`, `PoolProvider` and `RuleProvider` and marks what it makes
//! with the owner `default`. It checks what plan proposes (creates,
//! in-place updates, deletes of pools and rules), the order of the writes
//! apply sends, that a foreign pool or rule is never touched, that a failed
//! pool create skips the rules that need it, and that a rerun converges.
//! Assertions are on plan actions and recorded writes, not on messages.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use cloud_listeners::plan::{
    apply, plan_with_resources, ApplyOptions, ApplyReport, FileResources, Plan, Prune, ResourceKind, ResourceOp,
};
use cloud_listeners::routes::{Backend, BackendEndpoint, Route};
use cloud_listeners::{
    plan_change, Aliases, Capabilities, ChangePlan, Error, Listener, ListenerId, ListenerSpec, ListenerStatus, NewRule,
    Pool, PoolProvider, PoolSpec, Ports, Protocol, Provider, Rejection, ResourceId, RouteSpec, Rule, RuleProvider,
};

/// Every write the double receives.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Write {
    CreatePools(Vec<String>),
    CreateListener(u32),
    /// Listener ID and (path, pool ID) per rule.
    CreateRules(String, Vec<(String, String)>),
    UpdatePool(String),
    /// Rule ID and the pool ID it now forwards to.
    UpdateRule(String, String),
    DeleteRules(String, Vec<String>),
    DeleteListener(String),
    DeletePool(String),
}

#[derive(Debug, Default)]
struct State {
    next: u32,
    pools: Vec<Pool>,
    listeners: Vec<Listener>,
    rules: Vec<Rule>,
    writes: Vec<Write>,
    /// Pool names whose create fails (the others of the call are made).
    failing_pools: BTreeSet<String>,
}

impl State {
    fn id(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}-{}", self.next)
    }
}

const OURS: &str = "default";

/// One instance in memory; what it makes carries the mark of `OURS`.
#[derive(Debug)]
struct Cloud {
    caps: Capabilities,
    state: Mutex<State>,
}

impl Cloud {
    fn new() -> Arc<Cloud> {
        Arc::new(Cloud {
            caps: Capabilities {
                api: "memory",
                product: "in-memory test double",
                protocols: &Protocol::ALL,
                pools: true,
                rules: true,
                routes: true,
                backends: true,
                immutable_fields: &["protocol"],
                max_listeners_per_instance: 50,
                rate_limit_per_second: 100.0,
                ..Capabilities::BASE
            },
            state: Mutex::new(State::default()),
        })
    }

    /// A cloud without pool objects: endpoints are bound on each rule, the
    /// default backend is the listener's root rule, certificates are the
    /// rules' (as CLB and GAAP).
    fn pools_on_rules() -> Arc<Cloud> {
        let cloud = Cloud::new();
        let mut caps = cloud.caps.clone();
        caps.pools = false;
        caps.pools_on_rules = true;
        caps.route_certificates_on_rules = true;
        Arc::new(Cloud {
            caps,
            state: Mutex::new(State::default()),
        })
    }

    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.lock().expect("state"))
    }

    fn writes(&self) -> Vec<Write> {
        self.with(|s| std::mem::take(&mut s.writes))
    }

    fn pool_id(&self, name: &str) -> String {
        self.with(|s| {
            s.pools
                .iter()
                .find(|p| p.spec.name == name && p.managed)
                .map(|p| p.id.0.clone())
                .expect("pool exists")
        })
    }

    fn listener_id(&self, port: u32) -> String {
        self.with(|s| {
            s.listeners
                .iter()
                .find(|l| l.spec.ports == Ports::Single(port))
                .map(|l| l.id.0.clone())
                .expect("listener exists")
        })
    }

    /// A pool made by someone else (`owner` `None`: by hand).
    fn seed_pool(&self, name: &str, owner: Option<&str>) -> String {
        self.with(|s| {
            let id = s.id("p");
            s.pools.push(Pool::new(
                ResourceId(id.clone()),
                PoolSpec::new(name, vec![]),
                owner.map(str::to_string),
                OURS,
            ));
            id
        })
    }

    /// A rule made by hand on a listener.
    fn seed_rule(&self, listener: &str, path: &str, pool: &str) -> String {
        self.with(|s| {
            let id = s.id("r");
            s.rules.push(Rule::new(
                ResourceId(id.clone()),
                ListenerId(listener.into()),
                ResourceId(pool.into()),
                RouteSpec::new(Some("hand.example.com"), path, pool),
                None,
                OURS,
            ));
            id
        })
    }

    fn has_pool(&self, id: &str) -> bool {
        self.with(|s| s.pools.iter().any(|p| p.id.0 == id))
    }

    fn has_rule(&self, id: &str) -> bool {
        self.with(|s| s.rules.iter().any(|r| r.id.0 == id))
    }
}

fn not_found(what: String) -> Error {
    Error::NotFound { vendor: "memory", what }
}

fn in_use() -> Error {
    Error::Conflict {
        vendor: "memory",
        code: "ResourceInUse".into(),
        message: "a rule forwards to this pool".into(),
        request_id: String::new(),
    }
}

#[async_trait]
impl Provider for Cloud {
    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    fn instance(&self) -> &str {
        "mem-1"
    }

    fn check(&self, _spec: &ListenerSpec) -> Vec<Rejection> {
        Vec::new()
    }

    async fn create(&self, spec: &ListenerSpec) -> cloud_listeners::Result<Vec<Listener>> {
        self.with(|s| {
            let port = match spec.ports {
                Ports::Single(p) => p,
                _ => 0,
            };
            s.writes.push(Write::CreateListener(port));
            let l = Listener {
                id: ListenerId(s.id("l")),
                instance: "mem-1".into(),
                status: ListenerStatus::Running,
                spec: spec.clone(),
                owner: None,
                managed: false,
            }
            .with_owner(Some(OURS.into()), OURS);
            s.listeners.push(l.clone());
            Ok(vec![l])
        })
    }

    async fn get(&self, id: &ListenerId) -> cloud_listeners::Result<Listener> {
        self.with(|s| s.listeners.iter().find(|l| &l.id == id).cloned())
            .ok_or_else(|| not_found(format!("listener {id}")))
    }

    async fn list(&self) -> cloud_listeners::Result<Vec<Listener>> {
        Ok(self.with(|s| s.listeners.clone()))
    }

    async fn update(&self, current: &Listener, desired: &ListenerSpec) -> cloud_listeners::Result<Listener> {
        self.with(|s| {
            let l = s
                .listeners
                .iter_mut()
                .find(|l| l.id == current.id)
                .ok_or_else(|| not_found(format!("listener {}", current.id)))?;
            l.spec = desired.clone();
            Ok(l.clone())
        })
    }

    async fn delete(&self, id: &ListenerId) -> cloud_listeners::Result<()> {
        self.with(|s| {
            s.writes.push(Write::DeleteListener(id.0.clone()));
            let before = s.listeners.len();
            s.listeners.retain(|l| &l.id != id);
            // As on the clouds: a listener's rules go with it.
            s.rules.retain(|r| &r.listener != id);
            if s.listeners.len() == before {
                return Err(not_found(format!("listener {id}")));
            }
            Ok(())
        })
    }

    fn plan_change(&self, current: &ListenerSpec, desired: &ListenerSpec) -> ChangePlan {
        plan_change(&self.caps, current, desired)
    }

    fn pools(&self) -> Option<&dyn PoolProvider> {
        if self.caps.pools_on_rules {
            return None;
        }
        Some(self)
    }

    fn rules(&self) -> Option<&dyn RuleProvider> {
        Some(self)
    }
}

#[async_trait]
impl PoolProvider for Cloud {
    fn check_pool(&self, _pool: &PoolSpec) -> Vec<Rejection> {
        Vec::new()
    }

    async fn list_pools(&self) -> cloud_listeners::Result<Vec<Pool>> {
        Ok(self.with(|s| s.pools.clone()))
    }

    async fn create_pools(&self, pools: &[PoolSpec]) -> cloud_listeners::Result<Vec<Pool>> {
        self.with(|s| {
            s.writes
                .push(Write::CreatePools(pools.iter().map(|p| p.name.clone()).collect()));
            let mut made = Vec::new();
            let mut failed = false;
            for p in pools {
                if s.failing_pools.contains(&p.name) {
                    failed = true;
                    continue;
                }
                let pool = Pool::new(ResourceId(s.id("p")), p.clone(), Some(OURS.into()), OURS);
                s.pools.push(pool.clone());
                made.push(pool);
            }
            if failed {
                return Err(Error::Vendor {
                    vendor: "memory",
                    code: "QuotaExceeded".into(),
                    message: "no more pools".into(),
                    request_id: String::new(),
                });
            }
            Ok(made)
        })
    }

    async fn update_pool(&self, current: &Pool, desired: &PoolSpec) -> cloud_listeners::Result<Pool> {
        self.with(|s| {
            s.writes.push(Write::UpdatePool(current.id.0.clone()));
            let p = s
                .pools
                .iter_mut()
                .find(|p| p.id == current.id)
                .ok_or_else(|| not_found(format!("pool {}", current.id)))?;
            p.spec = desired.clone();
            Ok(p.clone())
        })
    }

    async fn delete_pool(&self, id: &ResourceId) -> cloud_listeners::Result<()> {
        self.with(|s| {
            s.writes.push(Write::DeletePool(id.0.clone()));
            if s.rules.iter().any(|r| &r.backend == id) {
                return Err(in_use());
            }
            s.pools.retain(|p| &p.id != id);
            Ok(())
        })
    }
}

#[async_trait]
impl RuleProvider for Cloud {
    fn check_rules(&self, _listener: &ListenerSpec, _rules: &[RouteSpec]) -> Vec<(usize, Rejection)> {
        Vec::new()
    }

    async fn list_rules(&self, listener: &ListenerId) -> cloud_listeners::Result<Vec<Rule>> {
        Ok(self.with(|s| {
            // Backends come back by pool name, as an adapter maps its own
            // pools' IDs back to the file's names.
            s.rules
                .iter()
                .filter(|r| &r.listener == listener)
                .map(|r| {
                    let mut r = r.clone();
                    if let Some(p) = s.pools.iter().find(|p| p.id == r.backend) {
                        r.spec.backend = p.spec.name.clone();
                    }
                    r
                })
                .collect()
        }))
    }

    async fn create_rules(&self, listener: &ListenerId, rules: &[NewRule<'_>]) -> cloud_listeners::Result<Vec<Rule>> {
        self.with(|s| {
            s.writes.push(Write::CreateRules(
                listener.0.clone(),
                rules
                    .iter()
                    .map(|r| (r.spec.path.clone(), r.backend.0.clone()))
                    .collect(),
            ));
            if !s.listeners.iter().any(|l| &l.id == listener) {
                return Err(not_found(format!("listener {listener}")));
            }
            Ok(rules
                .iter()
                .map(|r| {
                    let id = ResourceId(s.id("r"));
                    let mut rule = Rule::new(
                        id,
                        listener.clone(),
                        r.backend.clone(),
                        r.spec.clone(),
                        Some(OURS.into()),
                        OURS,
                    );
                    if let Some(pool) = r.pool {
                        rule = rule.with_pool(pool.endpoints.clone());
                    }
                    s.rules.push(rule.clone());
                    rule
                })
                .collect())
        })
    }

    async fn update_rule(&self, current: &Rule, want: &NewRule<'_>) -> cloud_listeners::Result<Rule> {
        let (desired, backend) = (want.spec, want.backend);
        self.with(|s| {
            s.writes
                .push(Write::UpdateRule(current.id.0.clone(), backend.0.clone()));
            let r = s
                .rules
                .iter_mut()
                .find(|r| r.id == current.id)
                .ok_or_else(|| not_found(format!("rule {}", current.id)))?;
            r.spec = desired.clone();
            r.backend = backend.clone();
            r.pool = want.pool.map(|p| p.endpoints.clone());
            Ok(r.clone())
        })
    }

    async fn delete_rules(&self, listener: &ListenerId, rules: &[ResourceId]) -> cloud_listeners::Result<()> {
        self.with(|s| {
            s.writes.push(Write::DeleteRules(
                listener.0.clone(),
                rules.iter().map(|r| r.0.clone()).collect(),
            ));
            s.rules.retain(|r| !(rules.contains(&r.id) && &r.listener == listener));
            Ok(())
        })
    }
}

/// A file: backends, and one HTTP listener on port 80 with routes.
struct File {
    backends: BTreeMap<String, Backend>,
    listeners: Vec<ListenerSpec>,
    aliases: Aliases,
}

fn pool(endpoints: &[(&str, u32)]) -> Backend {
    Backend::inline(endpoints.iter().map(|(a, p)| BackendEndpoint::new(*a, *p)).collect())
}

/// `web` (default backend), `api` for `api.example.com/v1`, `legacy`
/// (mapped to the existing pool `sgp-legacy`) for `api.example.com/old`.
fn file() -> File {
    let mut backends = BTreeMap::new();
    backends.insert("web".to_string(), pool(&[("10.0.0.1", 8080), ("10.0.0.2", 8080)]));
    backends.insert("api".to_string(), pool(&[("10.0.1.1", 9000)]));
    backends.insert("legacy".to_string(), Backend::mapped("old-pool"));
    let mut l = ListenerSpec::new("shop", Protocol::Http, Ports::Single(80));
    l.backend = Some("web".into());
    l.routes = vec![
        Route::new("api.example.com", "/v1", "api"),
        Route::new("api.example.com", "/old", "legacy"),
        Route::new("www.example.com", "/", "web"),
    ];
    let mut aliases = Aliases::default();
    aliases.targets.insert("old-pool".into(), "sgp-legacy".into());
    File {
        backends,
        listeners: vec![l],
        aliases,
    }
}

async fn plan_of(cloud: &Arc<Cloud>, f: &File, prune: Prune) -> Plan {
    let res = FileResources {
        backends: &f.backends,
        aliases: &f.aliases,
    };
    plan_with_resources(cloud.as_ref(), &f.listeners, &f.listeners, res, prune)
        .await
        .expect("plan")
}

async fn apply_plan(cloud: &Arc<Cloud>, plan: &Plan) -> ApplyReport {
    let provider: Arc<dyn Provider> = cloud.clone();
    apply(provider, plan, &ApplyOptions::default(), &|_| {})
        .await
        .expect("apply")
}

/// Plan and apply; the writes sent.
async fn converge(cloud: &Arc<Cloud>, f: &File, prune: Prune) -> (Plan, ApplyReport, Vec<Write>) {
    let plan = plan_of(cloud, f, prune).await;
    let report = apply_plan(cloud, &plan).await;
    (plan, report, cloud.writes())
}

/// `(kind, action, name)` of every pool and rule the plan changes.
fn changes(plan: &Plan) -> Vec<(ResourceKind, ResourceOp, String)> {
    plan.resources
        .iter()
        .filter(|r| r.is_change())
        .map(|r| (r.kind, r.action, r.name.clone()))
        .collect()
}

async fn assert_converged(cloud: &Arc<Cloud>, f: &File, prune: Prune) {
    let plan = plan_of(cloud, f, prune).await;
    assert!(!plan.has_changes(), "second plan: {:?}", changes(&plan));
    apply_plan(cloud, &plan).await;
    assert_eq!(cloud.writes(), vec![], "a converged apply writes nothing");
}

#[tokio::test]
async fn creates_pools_then_listener_then_rules_and_a_second_plan_is_empty() {
    let cloud = Cloud::new();
    let f = file();
    let (plan, report, writes) = converge(&cloud, &f, Prune::Managed).await;
    assert_eq!(plan.summary().create, 1);
    let ops: Vec<_> = plan
        .resources
        .iter()
        .map(|r| (r.kind, r.action, r.name.as_str()))
        .collect();
    assert_eq!(
        ops,
        vec![
            (ResourceKind::Pool, ResourceOp::Create, "api"),
            (ResourceKind::Pool, ResourceOp::Mapped, "legacy"),
            (ResourceKind::Pool, ResourceOp::Create, "web"),
            (ResourceKind::Rule, ResourceOp::Create, "shop:80 api.example.com/v1"),
            (ResourceKind::Rule, ResourceOp::Create, "shop:80 api.example.com/old"),
            (ResourceKind::Rule, ResourceOp::Create, "shop:80 www.example.com/"),
            // The host's catch-all: a matched host never falls through.
            (ResourceKind::Rule, ResourceOp::Create, "shop:80 api.example.com/"),
        ]
    );
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.done, 1 + 2 + 4);
    let l = cloud.listener_id(80);
    let (api, web) = (cloud.pool_id("api"), cloud.pool_id("web"));
    assert_eq!(
        writes,
        vec![
            Write::CreatePools(vec!["api".into(), "web".into()]),
            Write::CreateListener(80),
            Write::CreateRules(
                l,
                vec![
                    ("/v1".into(), api),
                    ("/old".into(), "sgp-legacy".into()),
                    ("/".into(), web.clone()),
                    ("/".into(), web),
                ]
            ),
        ],
        "pools first, the listener's ID and the pools' IDs reach the rules, the mapped pool is used by ID"
    );
    // The listener was created without its routes: they are rules.
    assert!(cloud.with(|s| s.listeners[0].spec.routes.is_empty()));
    assert_converged(&cloud, &f, Prune::Managed).await;
}

#[tokio::test]
async fn a_changed_endpoint_updates_the_pool_in_place() {
    let cloud = Cloud::new();
    let mut f = file();
    converge(&cloud, &f, Prune::Managed).await;
    f.backends
        .insert("api".into(), pool(&[("10.0.1.1", 9000), ("10.0.1.2", 9000)]));
    let (plan, report, writes) = converge(&cloud, &f, Prune::Managed).await;
    assert_eq!(
        changes(&plan),
        vec![(ResourceKind::Pool, ResourceOp::Update, "api".to_string())]
    );
    let api = plan.resources.iter().find(|r| r.name == "api").expect("api");
    assert_eq!(api.changes[0].path, "endpoints");
    assert!(!plan.actions.iter().any(|a| a.is_change()), "the listener is untouched");
    assert!(report.failed.is_empty());
    assert_eq!(writes, vec![Write::UpdatePool(cloud.pool_id("api"))]);
    assert_converged(&cloud, &f, Prune::Managed).await;
}

#[tokio::test]
async fn a_changed_health_check_alone_updates_the_pool_and_unset_fields_are_the_vendors() {
    let cloud = Cloud::new();
    let mut f = file();
    let check = |interval: u32| -> cloud_listeners::HealthCheck {
        serde_json::from_value(serde_json::json!({ "kind": "http", "interval_secs": interval }))
            .expect("a health check")
    };
    f.backends.get_mut("api").expect("api").health_check = Some(check(5));
    converge(&cloud, &f, Prune::Managed).await;
    // The cloud filled in a default the file leaves unset: not a change.
    cloud.with(|s| {
        for p in s.pools.iter_mut().filter(|p| p.spec.name == "api") {
            let mut hc = p.spec.health_check.clone().expect("stored");
            hc.timeout_secs = Some(3);
            p.spec.health_check = Some(hc);
        }
    });
    assert_converged(&cloud, &f, Prune::Managed).await;
    f.backends.get_mut("api").expect("api").health_check = Some(check(10));
    let (plan, report, writes) = converge(&cloud, &f, Prune::Managed).await;
    assert!(report.failed.is_empty());
    let api = plan.resources.iter().find(|r| r.name == "api").expect("api");
    assert_eq!(api.action, ResourceOp::Update);
    let paths: Vec<&str> = api.changes.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(paths, vec!["health_check.interval_secs"]);
    assert_eq!(writes, vec![Write::UpdatePool(cloud.pool_id("api"))]);
    assert_converged(&cloud, &f, Prune::Managed).await;
}

#[tokio::test]
async fn a_route_moved_to_another_backend_updates_the_rule_and_the_old_pool_goes_next() {
    let cloud = Cloud::new();
    let mut f = file();
    converge(&cloud, &f, Prune::Managed).await;
    let old_api = cloud.pool_id("api");
    f.listeners[0].routes[0].backend = "web".into();
    let (plan, report, writes) = converge(&cloud, &f, Prune::Managed).await;
    assert_eq!(
        changes(&plan),
        vec![(
            ResourceKind::Rule,
            ResourceOp::Update,
            "shop:80 api.example.com/v1".to_string()
        )]
    );
    // Still used by the rule until its update runs: kept this time.
    let api = plan.resources.iter().find(|r| r.name == "api").expect("api");
    assert_eq!(api.action, ResourceOp::Kept);
    assert!(report.failed.is_empty());
    let rule = cloud.with(|s| s.rules[0].id.0.clone());
    assert_eq!(writes, vec![Write::UpdateRule(rule, cloud.pool_id("web"))]);
    // The next plan deletes the pool nothing uses any more.
    let (plan, report, writes) = converge(&cloud, &f, Prune::Managed).await;
    assert_eq!(
        changes(&plan),
        vec![(ResourceKind::Pool, ResourceOp::Delete, "api".to_string())]
    );
    assert!(report.failed.is_empty());
    assert_eq!(writes, vec![Write::DeletePool(old_api)]);
    assert_converged(&cloud, &f, Prune::Managed).await;
}

#[tokio::test]
async fn a_removed_route_deletes_its_rule_then_its_unused_pool() {
    let cloud = Cloud::new();
    let mut f = file();
    converge(&cloud, &f, Prune::Managed).await;
    let (api, l) = (cloud.pool_id("api"), cloud.listener_id(80));
    let rule = cloud.with(|s| s.rules[0].id.0.clone());
    f.listeners[0].routes.remove(0);
    f.backends.remove("api");
    // Without prune nothing is deleted.
    let kept = plan_of(&cloud, &f, Prune::Off).await;
    assert!(!kept.has_changes(), "{:?}", changes(&kept));
    let (plan, report, writes) = converge(&cloud, &f, Prune::Managed).await;
    assert_eq!(
        changes(&plan),
        vec![
            (ResourceKind::Pool, ResourceOp::Delete, "api".to_string()),
            (
                ResourceKind::Rule,
                ResourceOp::Delete,
                "shop:80 api.example.com/v1".to_string()
            ),
        ]
    );
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(
        writes,
        vec![Write::DeleteRules(l, vec![rule]), Write::DeletePool(api)],
        "the rule goes before the pool it used"
    );
    assert_converged(&cloud, &f, Prune::Managed).await;
}

#[tokio::test]
async fn foreign_pools_and_rules_are_never_touched_whatever_the_prune_mode() {
    let cloud = Cloud::new();
    let f = file();
    converge(&cloud, &f, Prune::Managed).await;
    let l = cloud.listener_id(80);
    let by_hand = cloud.seed_pool("web", None);
    let theirs = cloud.seed_pool("reports", Some("team-b"));
    let hand_rule = cloud.seed_rule(&l, "/hand", &by_hand);
    for prune in [Prune::Off, Prune::Managed, Prune::All] {
        let plan = plan_of(&cloud, &f, prune).await;
        assert!(!plan.has_changes(), "{prune:?}: {:?}", changes(&plan));
        let ids: Vec<_> = plan
            .resources
            .iter()
            .filter_map(|r| r.id.as_ref())
            .map(|i| i.0.clone())
            .collect();
        for foreign in [&by_hand, &theirs, &hand_rule] {
            assert!(!ids.contains(foreign), "{prune:?}: {foreign} is not even planned");
        }
        apply_plan(&cloud, &plan).await;
        assert_eq!(cloud.writes(), vec![]);
    }
    assert!(cloud.has_pool(&by_hand) && cloud.has_pool(&theirs) && cloud.has_rule(&hand_rule));
    // Our own `web` is still the one rules use: the unmarked namesake was
    // never matched.
    assert_ne!(cloud.pool_id("web"), by_hand);
}

#[tokio::test]
async fn a_failed_pool_create_skips_its_rules_and_a_rerun_converges() {
    let cloud = Cloud::new();
    let f = file();
    cloud.with(|s| {
        s.failing_pools.insert("api".into());
    });
    let (_, report, writes) = converge(&cloud, &f, Prune::Managed).await;
    let failed: Vec<_> = report.failed.iter().map(|x| (x.name.as_str(), x.kind)).collect();
    assert_eq!(failed, vec![("pool api", "vendor")]);
    let skipped: Vec<_> = report.skipped.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(skipped, vec!["rule shop:80 api.example.com/v1"]);
    // `web` was made by the failed call and found by the read-back: its
    // rule and the mapped one are created; the skipped one is never sent.
    let l = cloud.listener_id(80);
    let web = cloud.pool_id("web");
    assert_eq!(
        writes,
        vec![
            Write::CreatePools(vec!["api".into(), "web".into()]),
            Write::CreateListener(80),
            Write::CreateRules(
                l.clone(),
                vec![
                    ("/old".into(), "sgp-legacy".into()),
                    ("/".into(), web.clone()),
                    ("/".into(), web)
                ]
            ),
        ]
    );
    cloud.with(|s| s.failing_pools.clear());
    let (plan, report, writes) = converge(&cloud, &f, Prune::Managed).await;
    assert_eq!(
        changes(&plan),
        vec![
            (ResourceKind::Pool, ResourceOp::Create, "api".to_string()),
            (
                ResourceKind::Rule,
                ResourceOp::Create,
                "shop:80 api.example.com/v1".to_string()
            ),
        ]
    );
    assert!(report.failed.is_empty());
    assert_eq!(
        writes,
        vec![
            Write::CreatePools(vec!["api".into()]),
            Write::CreateRules(l, vec![("/v1".into(), cloud.pool_id("api"))]),
        ]
    );
    assert_converged(&cloud, &f, Prune::Managed).await;
}

#[tokio::test]
async fn a_replaced_listener_takes_its_rules_with_it_and_gets_them_back() {
    let cloud = Cloud::new();
    let mut f = file();
    converge(&cloud, &f, Prune::Managed).await;
    let old = cloud.listener_id(80);
    f.listeners[0].protocol = Protocol::Https;
    let plan = plan_of(&cloud, &f, Prune::Managed).await;
    assert_eq!(plan.summary().replace, 1);
    assert!(plan
        .resources
        .iter()
        .filter(|r| r.kind == ResourceKind::Rule)
        .all(|r| r.action == ResourceOp::Replace));
    let provider: Arc<dyn Provider> = cloud.clone();
    let options = ApplyOptions {
        allow_replace: true,
        ..ApplyOptions::default()
    };
    let report = apply(provider, &plan, &options, &|_| {}).await.expect("apply");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    let writes = cloud.writes();
    let new = cloud.listener_id(80);
    assert!(matches!(&writes[0], Write::DeleteRules(l, ids) if *l == old && ids.len() == 4));
    assert_eq!(writes[1], Write::DeleteListener(old));
    assert_eq!(writes[2], Write::CreateListener(80));
    assert!(matches!(&writes[3], Write::CreateRules(l, rules) if *l == new && rules.len() == 4));
    assert_eq!(writes.len(), 4);
    assert_converged(&cloud, &f, Prune::Managed).await;
}

#[tokio::test]
async fn an_unmapped_target_alias_is_refused_naming_the_field() {
    let cloud = Cloud::new();
    let mut f = file();
    f.aliases.targets.clear();
    let res = FileResources {
        backends: &f.backends,
        aliases: &f.aliases,
    };
    match plan_with_resources(cloud.as_ref(), &f.listeners, &f.listeners, res, Prune::Off).await {
        Err(Error::Config { field, .. }) => assert_eq!(field, "targets.old-pool"),
        other => panic!("{other:?}"),
    }
    assert_eq!(cloud.writes(), vec![]);
}

#[tokio::test]
async fn a_cancelled_apply_starts_no_pool_or_rule_step_and_lists_them() {
    let cloud = Cloud::new();
    let f = file();
    let plan = plan_of(&cloud, &f, Prune::Managed).await;
    let options = ApplyOptions::default();
    options.cancel.cancel();
    let provider: Arc<dyn Provider> = cloud.clone();
    let report = apply(provider, &plan, &options, &|_| {}).await.expect("apply");
    assert_eq!(cloud.writes(), vec![]);
    let not_started: Vec<_> = report.not_started.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(not_started, vec!["pool api", "pool web"]);
    // Their children are skipped, never sent: the listener (its default
    // backend is `web`) and its four rules.
    assert_eq!(report.skipped.len(), 5);
    // A rerun without the cancel converges.
    converge(&cloud, &f, Prune::Managed).await;
    assert_converged(&cloud, &f, Prune::Managed).await;
}

/// `(host, path, backend ID, endpoints, certificate)` of a rule held.
type Held = (Option<String>, String, String, usize, Option<String>);

/// Every rule held, sorted.
fn held(cloud: &Cloud) -> Vec<Held> {
    let mut v: Vec<_> = cloud.with(|s| {
        s.rules
            .iter()
            .map(|r| {
                (
                    r.spec.host.clone(),
                    r.spec.path.clone(),
                    r.backend.0.clone(),
                    r.pool.as_ref().map_or(0, Vec::len),
                    r.spec.certificate.clone(),
                )
            })
            .collect()
    });
    v.sort();
    v
}

#[tokio::test]
async fn without_pool_objects_rules_carry_endpoints_and_the_root_rule_the_default() {
    let cloud = Cloud::pools_on_rules();
    let mut f = file();
    f.listeners[0].routes[0].certificate = Some("api-cert".into());
    let (plan, report, _) = converge(&cloud, &f, Prune::Managed).await;
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert!(
        plan.resources
            .iter()
            .all(|r| r.kind == ResourceKind::Rule || r.action == ResourceOp::Mapped),
        "no pool is made on a cloud without pool objects; the mapped one is used by ID"
    );
    let api = Some("api.example.com".to_string());
    let www = Some("www.example.com".to_string());
    let cert = Some("api-cert".to_string());
    assert_eq!(
        held(&cloud),
        vec![
            // The root rule: what no host takes goes to the default backend.
            (None, "/".into(), "inline:web".into(), 2, None),
            // The host's catch-all and its paths all serve its certificate.
            (api.clone(), "/".into(), "inline:web".into(), 2, cert.clone()),
            (api.clone(), "/old".into(), "sgp-legacy".into(), 0, cert.clone()),
            (api.clone(), "/v1".into(), "inline:api".into(), 1, cert.clone()),
            (www.clone(), "/".into(), "inline:web".into(), 2, None),
        ]
    );
    // The listener itself carries neither routes nor its backend.
    assert!(cloud.with(|s| s.listeners[0].spec.routes.is_empty() && s.listeners[0].spec.backend.is_none()));
    assert_converged(&cloud, &f, Prune::Managed).await;

    // A changed endpoint updates every rule that binds the pool, in place.
    f.backends.insert("web".into(), pool(&[("10.0.0.1", 8080)]));
    let (plan, report, writes) = converge(&cloud, &f, Prune::Managed).await;
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    let updated: Vec<_> = plan
        .resources
        .iter()
        .filter(|r| r.action == ResourceOp::Update)
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(
        updated,
        vec!["shop:80 www.example.com/", "shop:80 api.example.com/", "shop:80 */"]
    );
    assert_eq!(writes.len(), 3);
    assert!(writes
        .iter()
        .all(|w| matches!(w, Write::UpdateRule(_, b) if b == "inline:web")));
    assert_converged(&cloud, &f, Prune::Managed).await;

    // A rotated certificate is an in-place update of the host's rules.
    f.listeners[0].routes[0].certificate = Some("api-cert-2".into());
    let (plan, _, _) = converge(&cloud, &f, Prune::Managed).await;
    let rotated = plan
        .resources
        .iter()
        .filter(|r| r.action == ResourceOp::Update)
        .all(|r| r.changes.iter().any(|c| c.path == "certificate"));
    let count = plan.resources.iter().filter(|r| r.action == ResourceOp::Update).count();
    assert!(rotated && count == 3, "{:?}", changes(&plan));
    assert_converged(&cloud, &f, Prune::Managed).await;
}

#[tokio::test]
async fn a_default_backend_mapped_to_a_vendor_pool_reaches_the_listener_as_its_target_alias() {
    let cloud = Cloud::new();
    let mut f = file();
    f.listeners[0].backend = Some("legacy".into());
    let (_, report, _) = converge(&cloud, &f, Prune::Managed).await;
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    let (backend, target) = cloud.with(|s| {
        let l = &s.listeners[0].spec;
        (
            l.backend.clone(),
            l.forwarding.as_ref().and_then(|f| f.default_target.clone()),
        )
    });
    assert_eq!((backend, target.as_deref()), (None, Some("old-pool")));
    assert_converged(&cloud, &f, Prune::Managed).await;
}
