//! The resource-graph engine over three kinds (pool, listener, rule),
//! driven against an in-memory provider that implements `Provider` and
//! the sibling `PoolProvider` and `RuleProvider` traits. It checks the
//! order of calls (parents first on create, children first on delete),
//! that IDs made by a parent's create reach its children, that a failed
//! parent's children are skipped and never sent, and that a second plan
//! after apply is empty and a second apply makes no call. Assertions are
//! on the recorded calls, not on messages.

use std::collections::BTreeSet;
use std::sync::Mutex;

use async_trait::async_trait;
use futures::future::BoxFuture;

use cloud_listeners::plan::graph::{
    apply_graph, plan_graph, Change, Desired, Executor, Graph, Kind, Live, NodeId, Op, Ran, Skipped, Verb, Work,
    LISTENER, POOL, RULE,
};
use cloud_listeners::{
    plan_change, Capabilities, ChangePlan, Endpoint, Error, Listener, ListenerId, ListenerSpec, ListenerStatus,
    NewRule, Pool, PoolProvider, PoolSpec, Ports, Protocol, Provider, Rejection, ResourceId, RouteSpec, Rule,
    RuleProvider,
};

/// Every call the double receives, reads included.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Call {
    ListPools,
    ListListeners,
    ListRules(String),
    CreatePools(Vec<String>),
    /// Listener port and the pool ID its default action forwards to.
    CreateListener(u32, Option<String>),
    /// Listener ID and (path, pool ID) per rule.
    CreateRules(String, Vec<(String, String)>),
    UpdatePool(String),
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
    calls: Vec<Call>,
    /// Listener ports whose create fails.
    failing_ports: BTreeSet<u32>,
    /// Rule paths whose delete fails.
    failing_rule_deletes: BTreeSet<String>,
}

impl State {
    fn id(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}-{}", self.next)
    }
}

/// One instance with pools, listeners and rules, in memory.
#[derive(Debug)]
struct Cloud {
    caps: Capabilities,
    state: Mutex<State>,
}

impl Cloud {
    fn new() -> Self {
        Cloud {
            caps: Capabilities {
                api: "memory",
                product: "in-memory test double",
                protocols: &Protocol::ALL,
                pools: true,
                rules: true,
                max_listeners_per_instance: 50,
                rate_limit_per_second: 100.0,
                ..Capabilities::BASE
            },
            state: Mutex::new(State::default()),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.lock().expect("state"))
    }

    fn take_calls(&self) -> Vec<Call> {
        self.with(|s| std::mem::take(&mut s.calls))
    }

    fn writes(&self) -> Vec<Call> {
        self.take_calls()
            .into_iter()
            .filter(|c| !matches!(c, Call::ListPools | Call::ListListeners | Call::ListRules(_)))
            .collect()
    }

    fn pool_id(&self, name: &str) -> String {
        self.with(|s| {
            s.pools
                .iter()
                .find(|p| p.spec.name == name)
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
}

fn not_found(what: String) -> Error {
    Error::NotFound { vendor: "memory", what }
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
            let pool = spec.forwarding.as_ref().and_then(|f| f.default_target.clone());
            s.calls.push(Call::CreateListener(port, pool));
            if s.failing_ports.contains(&port) {
                return Err(Error::Vendor {
                    vendor: "memory",
                    code: "QuotaExceeded".into(),
                    message: "no more listeners".into(),
                    request_id: String::new(),
                });
            }
            let l = Listener {
                id: ListenerId(s.id("l")),
                instance: "mem-1".into(),
                status: ListenerStatus::Running,
                spec: spec.clone(),
                owner: Some("default".into()),
                managed: true,
            };
            s.listeners.push(l.clone());
            Ok(vec![l])
        })
    }

    async fn get(&self, id: &ListenerId) -> cloud_listeners::Result<Listener> {
        self.with(|s| s.listeners.iter().find(|l| &l.id == id).cloned())
            .ok_or_else(|| not_found(format!("listener {id}")))
    }

    async fn list(&self) -> cloud_listeners::Result<Vec<Listener>> {
        Ok(self.with(|s| {
            s.calls.push(Call::ListListeners);
            s.listeners.clone()
        }))
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
            s.calls.push(Call::DeleteListener(id.0.clone()));
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
        Ok(self.with(|s| {
            s.calls.push(Call::ListPools);
            s.pools.clone()
        }))
    }

    async fn create_pools(&self, pools: &[PoolSpec]) -> cloud_listeners::Result<Vec<Pool>> {
        Ok(self.with(|s| {
            s.calls
                .push(Call::CreatePools(pools.iter().map(|p| p.name.clone()).collect()));
            pools
                .iter()
                .map(|p| {
                    let pool = Pool {
                        id: ResourceId(s.id("p")),
                        spec: p.clone(),
                        owner: Some("default".into()),
                        managed: true,
                    };
                    s.pools.push(pool.clone());
                    pool
                })
                .collect()
        }))
    }

    async fn update_pool(&self, current: &Pool, desired: &PoolSpec) -> cloud_listeners::Result<Pool> {
        self.with(|s| {
            s.calls.push(Call::UpdatePool(current.id.0.clone()));
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
            s.calls.push(Call::DeletePool(id.0.clone()));
            if s.rules.iter().any(|r| &r.backend == id) {
                return Err(Error::Conflict {
                    vendor: "memory",
                    code: "ResourceInUse".into(),
                    message: "a rule forwards to this pool".into(),
                    request_id: String::new(),
                });
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
            s.calls.push(Call::ListRules(listener.0.clone()));
            // Backends are read back by pool name, as an adapter maps IDs
            // back to the file's names.
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
            s.calls.push(Call::CreateRules(
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
                    let rule = Rule {
                        id: ResourceId(s.id("r")),
                        listener: listener.clone(),
                        backend: r.backend.clone(),
                        spec: r.spec.clone(),
                        owner: Some("default".into()),
                        managed: true,
                        pool: None,
                        pool_health_check: None,
                    };
                    s.rules.push(rule.clone());
                    rule
                })
                .collect())
        })
    }

    async fn update_rule(&self, current: &Rule, _want: &NewRule<'_>) -> cloud_listeners::Result<Rule> {
        Err(not_found(format!("rule {}", current.id)))
    }

    async fn delete_rules(&self, listener: &ListenerId, rules: &[ResourceId]) -> cloud_listeners::Result<()> {
        self.with(|s| {
            s.calls.push(Call::DeleteRules(
                listener.0.clone(),
                rules.iter().map(|r| r.0.clone()).collect(),
            ));
            let refused = s
                .rules
                .iter()
                .any(|r| rules.contains(&r.id) && s.failing_rule_deletes.contains(&r.spec.path));
            if refused {
                return Err(Error::Conflict {
                    vendor: "memory",
                    code: "RuleLocked".into(),
                    message: "locked".into(),
                    request_id: String::new(),
                });
            }
            s.rules.retain(|r| !rules.contains(&r.id));
            Ok(())
        })
    }
}

/// A resource of the graph: what the file says, or what was read.
#[derive(Debug, Clone, PartialEq)]
enum Item {
    Pool(PoolSpec),
    Listener(Box<ListenerSpec>),
    Rule(RouteSpec),
}

/// The file: pools, and listeners (by port) with their default pool and
/// routes.
struct File {
    pools: Vec<PoolSpec>,
    listeners: Vec<(u32, &'static str, Vec<RouteSpec>)>,
}

fn listener_key(port: u32) -> String {
    format!("http/{port}")
}

fn rule_key(port: u32, path: &str) -> String {
    format!("{} {path}", listener_key(port))
}

fn desired(file: &File) -> Vec<Desired<Item>> {
    let mut out: Vec<Desired<Item>> = file
        .pools
        .iter()
        .map(|p| Desired {
            kind: &POOL,
            key: p.name.clone(),
            parents: vec![],
            item: Item::Pool(p.clone()),
        })
        .collect();
    let pool_index = |name: &str| file.pools.iter().position(|p| p.name == name).expect("pool in file");
    for (port, pool, routes) in &file.listeners {
        let listener = out.len();
        out.push(Desired {
            kind: &LISTENER,
            key: listener_key(*port),
            parents: vec![pool_index(pool)],
            item: Item::Listener(Box::new(ListenerSpec::new(
                format!("web-{port}"),
                Protocol::Http,
                Ports::Single(*port),
            ))),
        });
        for r in routes {
            out.push(Desired {
                kind: &RULE,
                key: rule_key(*port, &r.path),
                parents: vec![listener, pool_index(&r.backend)],
                item: Item::Rule(r.clone()),
            });
        }
    }
    out
}

/// Read the instance through the provider and its sibling traits.
async fn live(provider: &dyn Provider) -> Vec<Live<Item>> {
    let pools = provider.pools().expect("pools claimed");
    let rules = provider.rules().expect("rules claimed");
    let mut out: Vec<Live<Item>> = pools
        .list_pools()
        .await
        .expect("list pools")
        .into_iter()
        .map(|p| Live {
            kind: &POOL,
            key: p.spec.name.clone(),
            parent: None,
            id: p.id.0,
            item: Item::Pool(p.spec),
        })
        .collect();
    for l in provider.list().await.expect("list listeners") {
        let port = match l.spec.ports {
            Ports::Single(p) => p,
            _ => 0,
        };
        for r in rules.list_rules(&l.id).await.expect("list rules") {
            out.push(Live {
                kind: &RULE,
                key: rule_key(port, &r.spec.path),
                parent: Some(listener_key(port)),
                id: r.id.0,
                item: Item::Rule(r.spec),
            });
        }
        out.push(Live {
            kind: &LISTENER,
            key: listener_key(port),
            parent: None,
            id: l.id.0,
            item: Item::Listener(Box::new(l.spec)),
        });
    }
    out
}

async fn plan(provider: &dyn Provider, file: &File) -> Graph<Item> {
    let caps = provider.capabilities().clone();
    let change = move |_: &'static Kind, current: &Item, desired: &Item| match (current, desired) {
        (Item::Listener(c), Item::Listener(d)) => {
            let p = plan_change(&caps, c, d);
            if p.is_empty() {
                Change::Same
            } else if p.needs_replace() {
                Change::Replace
            } else {
                Change::Update
            }
        }
        (c, d) if c == d => Change::Same,
        _ => Change::Update,
    };
    plan_graph(&desired(file), &live(provider).await, &change, &|_| true)
}

/// The executor a routes-and-backends apply will have: each kind through
/// its trait, creates batched per call where the trait takes several.
struct Driver<'p> {
    provider: &'p dyn Provider,
}

impl Driver<'_> {
    async fn run_pools(&self, work: Vec<Work<'_, Item>>) -> Vec<Ran<String>> {
        let pools = self.provider.pools().expect("pools");
        let mut out = Vec::new();
        let mut creates = Vec::new();
        for w in work {
            let Item::Pool(spec) = w.item else { unreachable!() };
            match w.verb {
                Verb::Create => creates.push((w.node, spec.clone())),
                Verb::Update => {
                    let current = Pool {
                        id: ResourceId(w.id.unwrap_or_default().into()),
                        spec: spec.clone(),
                        owner: Some("default".into()),
                        managed: true,
                    };
                    let r = pools.update_pool(&current, spec).await.map(|p| p.id.0);
                    out.push(ran(w.node, w.verb, r));
                }
                Verb::Delete => {
                    let r = pools
                        .delete_pool(&ResourceId(w.id.unwrap_or_default().into()))
                        .await
                        .map(|()| String::new());
                    out.push(ran(w.node, w.verb, r));
                }
            }
        }
        if !creates.is_empty() {
            let specs: Vec<PoolSpec> = creates.iter().map(|(_, s)| s.clone()).collect();
            match pools.create_pools(&specs).await {
                Ok(made) => {
                    for (node, spec) in creates {
                        let id = made.iter().find(|p| p.spec.name == spec.name).map(|p| p.id.0.clone());
                        out.push(ran(node, Verb::Create, id.ok_or_else(|| not_found(spec.name))));
                    }
                }
                Err(e) => {
                    let e = std::sync::Arc::new(e);
                    for (node, _) in creates {
                        out.push(Ran {
                            node,
                            verb: Verb::Create,
                            outcome: Some(Err(e.clone())),
                        });
                    }
                }
            }
        }
        out
    }

    async fn run_listeners(&self, work: Vec<Work<'_, Item>>) -> Vec<Ran<String>> {
        let mut out = Vec::new();
        for w in work {
            let Item::Listener(spec) = w.item else { unreachable!() };
            let r = match w.verb {
                Verb::Create => {
                    // The pool's ID, found or just made, becomes the
                    // listener's default action.
                    let mut spec = spec.clone();
                    spec.forwarding = Some(cloud_listeners::Forwarding {
                        backend_protocol: None,
                        default_target: w.parent_ids.first().cloned(),
                    });
                    self.provider
                        .create(&spec)
                        .await
                        .map(|made| made.into_iter().next().map(|l| l.id.0).unwrap_or_default())
                }
                Verb::Update => unreachable!("no listener updates in these plans"),
                Verb::Delete => self
                    .provider
                    .delete(&ListenerId(w.id.unwrap_or_default().into()))
                    .await
                    .map(|()| String::new()),
            };
            out.push(ran(w.node, w.verb, r));
        }
        out
    }

    async fn run_rules(&self, work: Vec<Work<'_, Item>>) -> Vec<Ran<String>> {
        let rules = self.provider.rules().expect("rules");
        let mut out = Vec::new();
        // One create call per listener, as vendors take several rules of
        // one listener in a call.
        let mut listeners: Vec<String> = Vec::new();
        for w in &work {
            if !listeners.contains(&w.parent_ids[0]) {
                listeners.push(w.parent_ids[0].clone());
            }
        }
        for listener in listeners {
            let mine: Vec<&Work<'_, Item>> = work.iter().filter(|w| w.parent_ids[0] == listener).collect();
            let lid = ListenerId(listener.clone());
            let (creates, deletes): (Vec<&&Work<'_, Item>>, Vec<&&Work<'_, Item>>) =
                mine.iter().partition(|w| w.verb == Verb::Create);
            if !deletes.is_empty() {
                let ids: Vec<ResourceId> = deletes
                    .iter()
                    .map(|w| ResourceId(w.id.unwrap_or_default().into()))
                    .collect();
                let r = rules.delete_rules(&lid, &ids).await.map_err(std::sync::Arc::new);
                for w in &deletes {
                    out.push(Ran {
                        node: w.node,
                        verb: Verb::Delete,
                        outcome: Some(r.clone().map(|()| String::new())),
                    });
                }
            }
            if !creates.is_empty() {
                let backends: Vec<ResourceId> = creates.iter().map(|w| ResourceId(w.parent_ids[1].clone())).collect();
                let new: Vec<NewRule<'_>> = creates
                    .iter()
                    .zip(&backends)
                    .map(|(w, backend)| {
                        let Item::Rule(spec) = w.item else { unreachable!() };
                        NewRule {
                            spec,
                            backend,
                            pool: None,
                        }
                    })
                    .collect();
                let r = rules.create_rules(&lid, &new).await.map_err(std::sync::Arc::new);
                for w in &creates {
                    let Item::Rule(spec) = w.item else { unreachable!() };
                    let outcome = r.clone().map(|made| {
                        made.iter()
                            .find(|m| m.spec.path == spec.path)
                            .map(|m| m.id.0.clone())
                            .unwrap_or_default()
                    });
                    out.push(Ran {
                        node: w.node,
                        verb: Verb::Create,
                        outcome: Some(outcome),
                    });
                }
            }
        }
        out
    }
}

fn ran(node: NodeId, verb: Verb, r: Result<String, Error>) -> Ran<String> {
    Ran {
        node,
        verb,
        outcome: Some(r.map_err(std::sync::Arc::new)),
    }
}

impl Executor<Item> for Driver<'_> {
    type Made = String;

    fn made_id(&self, made: &String) -> Option<String> {
        (!made.is_empty()).then(|| made.clone())
    }

    fn run<'a>(&'a self, kind: &'static Kind, work: Vec<Work<'a, Item>>) -> BoxFuture<'a, Vec<Ran<String>>> {
        Box::pin(async move {
            if kind == &POOL {
                self.run_pools(work).await
            } else if kind == &LISTENER {
                self.run_listeners(work).await
            } else {
                self.run_rules(work).await
            }
        })
    }
}

fn shop() -> File {
    let pool = |name: &str, ip: &str| PoolSpec::new(name, vec![Endpoint::new(ip, 8080)]);
    File {
        pools: vec![pool("api", "10.0.0.1"), pool("static", "10.0.0.2")],
        listeners: vec![
            (
                80,
                "static",
                vec![
                    RouteSpec::new(Some("shop.example.com"), "/api", "api"),
                    RouteSpec::new(Some("shop.example.com"), "/img", "static"),
                ],
            ),
            (8080, "api", vec![RouteSpec::new(None, "/v1", "api")]),
        ],
    }
}

#[tokio::test]
async fn creates_run_parents_first_and_parent_ids_reach_children() {
    let cloud = Cloud::new();
    let graph = plan(&cloud, &shop()).await;
    cloud.take_calls();
    let report = apply_graph(&graph, &Driver { provider: &cloud }).await.expect("apply");
    assert!(report.skipped.is_empty());
    assert!(report.ran.iter().all(|r| matches!(r.outcome, Some(Ok(_)))));

    let (api, stat) = (cloud.pool_id("api"), cloud.pool_id("static"));
    let (l80, l8080) = (cloud.listener_id(80), cloud.listener_id(8080));
    assert_eq!(
        cloud.writes(),
        vec![
            Call::CreatePools(vec!["api".into(), "static".into()]),
            Call::CreateListener(80, Some(stat.clone())),
            Call::CreateListener(8080, Some(api.clone())),
            Call::CreateRules(l80, vec![("/api".into(), api.clone()), ("/img".into(), stat)]),
            Call::CreateRules(l8080, vec![("/v1".into(), api)]),
        ]
    );
}

#[tokio::test]
async fn a_second_plan_is_empty_and_a_second_apply_makes_no_call() {
    let cloud = Cloud::new();
    let first = plan(&cloud, &shop()).await;
    apply_graph(&first, &Driver { provider: &cloud }).await.expect("apply");

    let again = plan(&cloud, &shop()).await;
    assert!(!again.has_changes(), "{:?}", again.changes().collect::<Vec<_>>());
    assert!(again.nodes.iter().all(|n| n.op == Op::Keep && n.id.is_some()));
    cloud.take_calls();
    let report = apply_graph(&again, &Driver { provider: &cloud }).await.expect("apply");
    assert!(report.ran.is_empty() && report.skipped.is_empty());
    assert_eq!(cloud.take_calls(), Vec::<Call>::new());
}

#[tokio::test]
async fn a_failed_parent_skips_its_children_which_are_never_sent() {
    let cloud = Cloud::new();
    cloud.with(|s| {
        s.failing_ports.insert(8080);
    });
    let graph = plan(&cloud, &shop()).await;
    cloud.take_calls();
    let report = apply_graph(&graph, &Driver { provider: &cloud }).await.expect("apply");

    let node = |key: &str| NodeId(graph.nodes.iter().position(|n| n.key == key).expect("node"));
    let l8080 = node(&listener_key(8080));
    assert_eq!(
        report.skipped,
        vec![Skipped {
            node: node(&rule_key(8080, "/v1")),
            verb: Verb::Create,
            because: l8080,
        }]
    );
    let failed: Vec<NodeId> = report
        .ran
        .iter()
        .filter(|r| matches!(r.outcome, Some(Err(_))))
        .map(|r| r.node)
        .collect();
    assert_eq!(failed, vec![l8080]);
    let writes = cloud.writes();
    let rule_calls: Vec<&Call> = writes.iter().filter(|c| matches!(c, Call::CreateRules(..))).collect();
    // Only the listener that was made gets its rules; nothing is sent
    // for the rule of the listener that failed.
    assert_eq!(rule_calls.len(), 1);
    assert!(matches!(rule_calls[0], Call::CreateRules(l, _) if *l == cloud.listener_id(80)));

    // The next run creates what is missing, parents first.
    cloud.with(|s| s.failing_ports.clear());
    let rerun = plan(&cloud, &shop()).await;
    cloud.take_calls();
    apply_graph(&rerun, &Driver { provider: &cloud }).await.expect("apply");
    let (api, l8080) = (cloud.pool_id("api"), cloud.listener_id(8080));
    assert_eq!(
        cloud.writes(),
        vec![
            Call::CreateListener(8080, Some(api.clone())),
            Call::CreateRules(l8080, vec![("/v1".into(), api)]),
        ]
    );
}

#[tokio::test]
async fn deletes_run_children_first() {
    let cloud = Cloud::new();
    let graph = plan(&cloud, &shop()).await;
    apply_graph(&graph, &Driver { provider: &cloud }).await.expect("apply");
    let (api, stat) = (cloud.pool_id("api"), cloud.pool_id("static"));
    let (l80, l8080) = (cloud.listener_id(80), cloud.listener_id(8080));
    let rule_ids: Vec<String> = cloud.with(|s| s.rules.iter().map(|r| r.id.0.clone()).collect());

    // Keep the `api` pool and the 8080 listener without its route; drop the rest.
    let smaller = File {
        pools: vec![PoolSpec::new("api", vec![Endpoint::new("10.0.0.1", 8080)])],
        listeners: vec![(8080, "api", vec![])],
    };
    let graph = plan(&cloud, &smaller).await;
    cloud.take_calls();
    let report = apply_graph(&graph, &Driver { provider: &cloud }).await.expect("apply");
    assert!(report.skipped.is_empty());
    assert_eq!(
        cloud.writes(),
        vec![
            // Rules, one call per listener, before their listener and pools.
            Call::DeleteRules(l80.clone(), vec![rule_ids[0].clone(), rule_ids[1].clone()]),
            Call::DeleteRules(l8080, vec![rule_ids[2].clone()]),
            Call::DeleteListener(l80),
            Call::DeletePool(stat),
        ]
    );
    assert!(cloud.with(|s| s.pools.len() == 1 && s.pools[0].id.0 == api && s.rules.is_empty()));
}

#[tokio::test]
async fn a_child_that_could_not_be_deleted_holds_its_parent() {
    let cloud = Cloud::new();
    let graph = plan(&cloud, &shop()).await;
    apply_graph(&graph, &Driver { provider: &cloud }).await.expect("apply");
    cloud.with(|s| {
        s.failing_rule_deletes.insert("/v1".into());
    });
    let empty = File {
        pools: vec![],
        listeners: vec![],
    };
    let graph = plan(&cloud, &empty).await;
    cloud.take_calls();
    let report = apply_graph(&graph, &Driver { provider: &cloud }).await.expect("apply");

    let node = |key: &str| NodeId(graph.nodes.iter().position(|n| n.key == key).expect("node"));
    let skipped: Vec<(NodeId, NodeId)> = report.skipped.iter().map(|s| (s.node, s.because)).collect();
    assert_eq!(skipped, vec![(node(&listener_key(8080)), node(&rule_key(8080, "/v1")))]);
    let l8080 = cloud.listener_id(8080);
    assert!(
        !cloud.writes().contains(&Call::DeleteListener(l8080)),
        "the listener whose rule stayed was not deleted"
    );
}

#[test]
fn the_double_exposes_what_it_claims_and_every_api_claims_rules() {
    assert_eq!(
        cloud_listeners::resources::exposes_what_it_claims(&Cloud::new()),
        Ok(())
    );
    for caps in cloud_listeners::all_capabilities() {
        let alb = caps.api == "alibaba-alb";
        // Only ALB has a pool object; the others bind endpoints on rules.
        assert_eq!((caps.pools, caps.rules), (alb, true), "{}", caps.api);
        assert_eq!(caps.pools_on_rules, !alb, "{}", caps.api);
    }
}
