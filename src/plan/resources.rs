//! Pools and rules in a plan, beside the listeners.
//!
//! A provider that hands out [`PoolProvider`](listener_core::PoolProvider)
//! or [`RuleProvider`](listener_core::RuleProvider) (see
//! [`Provider::pools`] / [`Provider::rules`]) gets its backend pools and
//! its listeners' rules planned here, after the listeners, from the same
//! file and the same reading of the cloud:
//!
//! - **Identity comes from the file.** A pool is its name in `backends`; a
//!   rule is its listener (transport and ports, as listeners are matched)
//!   with its host and path.
//! - **Only what carries this owner's mark is ever matched, changed or
//!   deleted** ([`Pool::managed`], [`Rule::managed`]). A pool or rule
//!   without the mark, or with another owner's, is not even listed in the
//!   plan, whatever the prune mode: `--prune-unmanaged` reaches listeners
//!   only, since an unmarked pool may serve listeners the file does not
//!   know. A *mapped* backend (`target`) is the profile's alias for an
//!   existing vendor pool: it is planned as [`ResourceOp::Mapped`], its ID
//!   flows to the rules that use it, and it is never written.
//! - **Prune** follows the listener's modes for what is owned: an owned
//!   pool or rule the file no longer names is deleted with `--prune`
//!   (either mode) and left ([`ResourceOp::Unmanaged`]) without it. An
//!   owned pool that a listener of the file still names (one skipped on
//!   this profile) or that a rule left in place still forwards to is
//!   [`ResourceOp::Kept`]: the vendors refuse to delete a pool in use, and
//!   apply runs every delete before any update, so a pool that a rule
//!   leaves in this apply is deleted by the next one.
//! - **A listener's rules go with it.** Rules of a listener the plan
//!   deletes are not listed (every vendor removes them with the
//!   listener); rules of a replaced listener are replaced with it.
//!
//! Apply carries the pools and rules out through the graph engine
//! ([`super::graph`]), as kinds of their own around the listener.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use listener_core::routes::Backend;
use listener_core::{Aliases, Error, FieldChange, ListenerSpec, Pool, PoolSpec, Provider, ResourceId, RouteSpec, Rule};

use super::{Action, Plan, Prune};

/// The kind of a planned resource beside the listeners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    /// A backend pool (`backends.<name>`).
    Pool,
    /// A rule: one route of a listener.
    Rule,
}

impl ResourceKind {
    /// The kind as rows and events name it.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Pool => "pool",
            ResourceKind::Rule => "rule",
        }
    }
}

/// What apply does with a pool or a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceOp {
    /// Not on the cloud: create it.
    Create,
    /// Change in place (a pool's endpoints, a rule's backend).
    Update,
    /// Delete and create (its listener is replaced).
    Replace,
    /// Owned, not named by the file, and pruning was asked for.
    Delete,
    /// The cloud matches the file.
    Unchanged,
    /// Owned, not named by the file; kept because pruning is off.
    Unmanaged,
    /// Owned and not needed here, but a listener of the file names it or
    /// a rule left in place forwards to it: never deleted.
    Kept,
    /// A backend mapped to an existing vendor pool (`target`): used by ID,
    /// never changed.
    Mapped,
}

impl ResourceOp {
    /// Whether carrying it out changes the cloud.
    pub fn is_change(self) -> bool {
        matches!(
            self,
            ResourceOp::Create | ResourceOp::Update | ResourceOp::Replace | ResourceOp::Delete
        )
    }

    /// A one-word name, as listener actions have.
    pub fn verb(self) -> &'static str {
        match self {
            ResourceOp::Create => "create",
            ResourceOp::Update => "update",
            ResourceOp::Replace => "replace",
            ResourceOp::Delete => "delete",
            ResourceOp::Unchanged => "unchanged",
            ResourceOp::Unmanaged => "unmanaged",
            ResourceOp::Kept => "kept",
            ResourceOp::Mapped => "mapped",
        }
    }
}

/// What the file wants of a resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Wanted {
    /// A pool.
    Pool(PoolSpec),
    /// A rule.
    Rule(RouteSpec),
}

/// A resource as read from the cloud.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Found {
    /// A pool.
    Pool(Pool),
    /// A rule.
    Rule(Rule),
}

/// One pool or rule of a plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceAction {
    /// Pool or rule.
    pub kind: ResourceKind,
    /// What apply does.
    pub action: ResourceOp,
    /// For humans and events: the pool's name, or the rule's listener
    /// (name and ports) with its host and path.
    pub name: String,
    /// Its identity in the plan (see the module docs).
    pub key: String,
    /// The vendor ID of the live resource (for a mapped pool, the ID its
    /// alias resolves to).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<ResourceId>,
    /// For a rule, the index of the file listener it belongs to (a
    /// position in the `desired` list given to planning, turned into a
    /// file position by callers as for listener actions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// What the file wants; absent for deletes and what is left alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desired: Option<Wanted>,
    /// What the cloud holds; absent for creates and mapped pools.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<Found>,
    /// The differing fields of an update.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    /// For a rule, its listener: an index into [`Plan::actions`].
    #[serde(skip)]
    pub listener: Option<usize>,
    /// For a rule, the pool it forwards to: an index into
    /// [`Plan::resources`]; `None` for a rule deleted whose pool the plan
    /// does not hold, or one whose backend is not a pool of the plan
    /// (`backend_id`).
    #[serde(skip)]
    pub pool: Option<usize>,
    /// For a rule of a `pools_on_rules` provider that forwards to an
    /// inline backend: the endpoints it binds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<PoolSpec>,
    /// For a rule whose backend is no pool of the plan: the vendor ID it
    /// forwards to (a `forwarding.default_target` alias resolved, or
    /// [`listener_core::inline_pool_id`] for endpoints on the rule).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend_id: Option<ResourceId>,
}

impl ResourceAction {
    /// Whether carrying it out changes the cloud.
    pub fn is_change(&self) -> bool {
        self.action.is_change()
    }
}

/// Counts of a plan's pool and rule actions, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ResourceSummary {
    /// To create.
    pub create: usize,
    /// To update in place.
    pub update: usize,
    /// To replace.
    pub replace: usize,
    /// To delete.
    pub delete: usize,
    /// Matching the file, or mapped.
    pub unchanged: usize,
    /// Owned but left alone (not in the file, pruning off, or still used).
    pub unmanaged: usize,
}

impl ResourceSummary {
    /// Count `actions` of `kind`.
    pub fn of(actions: &[ResourceAction], kind: ResourceKind) -> ResourceSummary {
        let mut s = ResourceSummary::default();
        for a in actions.iter().filter(|a| a.kind == kind) {
            match a.action {
                ResourceOp::Create => s.create += 1,
                ResourceOp::Update => s.update += 1,
                ResourceOp::Replace => s.replace += 1,
                ResourceOp::Delete => s.delete += 1,
                ResourceOp::Unchanged | ResourceOp::Mapped => s.unchanged += 1,
                ResourceOp::Unmanaged | ResourceOp::Kept => s.unmanaged += 1,
            }
        }
        s
    }
}

/// The file's side of resource planning: its backends, and the profile's
/// aliases that resolve mapped ones.
#[derive(Debug, Clone, Copy)]
pub struct FileResources<'a> {
    /// The file's `backends`.
    pub backends: &'a BTreeMap<String, Backend>,
    /// The profile's alias maps (`targets` resolves mapped backends).
    pub aliases: &'a Aliases,
}

/// The listener part of a rule's key: as listeners are matched.
pub(crate) fn listener_key(spec: &ListenerSpec) -> String {
    format!("{:?} {}", spec.protocol.transport(), spec.ports)
}

fn rule_key(listener: &str, host: Option<&str>, path: &str) -> String {
    format!("{listener} {}{path}", host.unwrap_or("*"))
}

fn rule_name(spec: &ListenerSpec, host: Option<&str>, path: &str) -> String {
    format!("{}:{} {}{path}", spec.name, spec.ports, host.unwrap_or("*"))
}

/// Endpoints compare as a set: the vendors list them in their own order.
fn sorted(pool: &PoolSpec) -> Vec<(String, u32, u32)> {
    let mut v: Vec<_> = pool
        .endpoints
        .iter()
        .map(|e| (e.address.clone(), e.port, e.weight))
        .collect();
    v.sort();
    v
}

fn pool_action(op: ResourceOp, name: &str) -> ResourceAction {
    ResourceAction {
        kind: ResourceKind::Pool,
        action: op,
        name: name.to_string(),
        key: name.to_string(),
        id: None,
        index: None,
        desired: None,
        current: None,
        changes: Vec::new(),
        listener: None,
        pool: None,
        endpoints: None,
        backend_id: None,
    }
}

/// The names of the backends `specs` refer to, own and routes'.
fn referenced(specs: &[ListenerSpec]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for s in specs {
        out.extend(s.backend.iter().cloned());
        out.extend(s.routes.iter().map(|r| r.backend.clone()));
    }
    out
}

/// The pool a rule forwards to, as planning knows it.
enum PoolRef {
    /// A pool action of this plan, by the backend's name.
    Name(String),
    /// A live pool, by vendor ID (a rule not in the file).
    Id(ResourceId),
}

/// A listener's default backend: a pool of `backends`, or the vendor pool
/// a `forwarding.default_target` alias names.
#[derive(Clone)]
enum DefaultBackend {
    Pool(String),
    Target(String),
}

/// The rules the plan hands a [`listener_core::RuleProvider`] for one
/// listener: the file's routes expanded into what every cloud expresses
/// natively (`docs/routing.md`, "Matching"):
///
/// - each route, with its host's certificate where the provider keeps
///   certificates on rules;
/// - a `/` rule per route host that has none, to the default backend, so a
///   matched host never falls through to another host's rules;
/// - on `pools_on_rules` providers, the root rule (no host, `/`) to the
///   default backend: what no host takes, or a layer-4 listener's one
///   backend.
///
/// A listener with neither routes nor `backend` gets no rules: its
/// `forwarding.default_target`, if any, stays a field of the listener, as
/// before routes existed.
fn expand(spec: &ListenerSpec, caps: &listener_core::Capabilities) -> Vec<(RouteSpec, DefaultOr)> {
    if spec.routes.is_empty() && spec.backend.is_none() {
        return Vec::new();
    }
    let default = match (
        &spec.backend,
        spec.forwarding.as_ref().and_then(|f| f.default_target.as_ref()),
    ) {
        (Some(b), _) => Some(DefaultBackend::Pool(b.clone())),
        (None, Some(t)) => Some(DefaultBackend::Target(t.clone())),
        (None, None) => None,
    };
    let cert_of = |host: &str| -> Option<String> {
        if !caps.route_certificates_on_rules {
            return None;
        }
        spec.routes
            .iter()
            .find(|r| r.host == host && r.certificate.is_some())
            .and_then(|r| r.certificate.clone())
    };
    let mut out: Vec<(RouteSpec, DefaultOr)> = Vec::new();
    let mut hosts: Vec<&str> = Vec::new();
    for r in &spec.routes {
        let want = RouteSpec::new(Some(&r.host), r.path.clone(), r.backend.clone()).with_certificate(cert_of(&r.host));
        out.push((want, DefaultOr::Route));
        if !hosts.contains(&r.host.as_str()) {
            hosts.push(&r.host);
        }
    }
    let Some(default) = default else {
        return out;
    };
    let default_name = match &default {
        DefaultBackend::Pool(b) => b.clone(),
        DefaultBackend::Target(t) => t.clone(),
    };
    for host in hosts {
        if !spec.routes.iter().any(|r| r.host == host && r.path == "/") {
            let want = RouteSpec::new(Some(host), "/", default_name.clone()).with_certificate(cert_of(host));
            out.push((want, DefaultOr::Default(default.clone())));
        }
    }
    if caps.pools_on_rules {
        out.push((RouteSpec::new(None, "/", default_name), DefaultOr::Default(default)));
    }
    out
}

/// Whether an expanded rule forwards to a route's backend or to the
/// listener's default one.
#[derive(Clone)]
enum DefaultOr {
    Route,
    Default(DefaultBackend),
}

/// Plan the pools and rules of `desired` (with their routes; the
/// listener part of `plan` was built from the same listeners) against the
/// cloud, read through the provider's sibling traits. `file` is the whole
/// file's listeners: a pool one of them names is never pruned.
pub async fn plan_resources(
    provider: &dyn Provider,
    plan: &Plan,
    desired: &[ListenerSpec],
    file: &[ListenerSpec],
    resources: FileResources<'_>,
    prune: Prune,
) -> Result<Vec<ResourceAction>, Error> {
    let caps = provider.capabilities();
    let api = caps.api;
    let mut pools: Vec<ResourceAction> = Vec::new();
    let mut by_name: BTreeMap<String, usize> = BTreeMap::new();
    // Inline backends of a `pools_on_rules` provider: no pool object, the
    // rules carry the endpoints.
    let mut on_rules: BTreeMap<String, PoolSpec> = BTreeMap::new();
    let live_pools: Vec<Pool> = match provider.pools() {
        Some(p) => p.list_pools().await?.into_iter().filter(|p| p.managed).collect(),
        None => Vec::new(),
    };
    let mut pool_used = vec![false; live_pools.len()];

    for name in referenced(desired) {
        let Some(backend) = resources.backends.get(&name) else {
            return Err(Error::Config {
                field: format!("backends.{name}"),
                message: format!("a listener names backend `{name}`, which `backends` does not declare"),
            });
        };
        if let Some(alias) = &backend.target {
            let Some(id) = resources.aliases.target(alias) else {
                return Err(Error::Config {
                    field: format!("targets.{alias}"),
                    message: format!(
                        "backend `{name}` is mapped to target alias `{alias}`, which this profile does not map"
                    ),
                });
            };
            let mut a = pool_action(ResourceOp::Mapped, &name);
            a.id = Some(ResourceId(id.to_string()));
            by_name.insert(name.clone(), pools.len());
            pools.push(a);
            continue;
        }
        if caps.pools_on_rules {
            on_rules.insert(name.clone(), backend.to_pool_spec(&name));
            continue;
        }
        if provider.pools().is_none() {
            return Err(Error::Config {
                field: format!("backends.{name}"),
                message: format!(
                    "{api} does not manage backend pools; map the backend to an existing pool with `target`"
                ),
            });
        }
        let spec = backend.to_pool_spec(&name);
        if let Some(pp) = provider.pools() {
            listener_core::Rejections::from_vec(api, pp.check_pool(&spec)).into_result()?;
        }
        let found = live_pools
            .iter()
            .enumerate()
            .find(|(j, p)| !pool_used[*j] && p.spec.name == name);
        let a = match found {
            None => {
                let mut a = pool_action(ResourceOp::Create, &name);
                a.desired = Some(Wanted::Pool(spec));
                a
            }
            Some((j, live)) => {
                pool_used[j] = true;
                // The health check's fields the file sets, compared with
                // what the provider reads back (unset: the vendor's default).
                let check_changes = listener_core::diff::diff_values(
                    "health_check",
                    &serde_json::to_value(&live.spec.health_check).unwrap_or(Value::Null),
                    &serde_json::to_value(&spec.health_check).unwrap_or(Value::Null),
                );
                let same = sorted(&live.spec) == sorted(&spec) && check_changes.is_empty();
                let mut a = pool_action(
                    if same {
                        ResourceOp::Unchanged
                    } else {
                        ResourceOp::Update
                    },
                    &name,
                );
                a.changes.extend(check_changes);
                if sorted(&live.spec) != sorted(&spec) {
                    a.changes.push(FieldChange {
                        path: "endpoints".into(),
                        from: serde_json::to_value(&live.spec.endpoints).unwrap_or(Value::Null),
                        to: serde_json::to_value(&spec.endpoints).unwrap_or(Value::Null),
                    });
                }
                a.id = Some(live.id.clone());
                a.desired = Some(Wanted::Pool(spec));
                a.current = Some(Found::Pool(live.clone()));
                a
            }
        };
        by_name.insert(name.clone(), pools.len());
        pools.push(a);
    }

    // Rules, listener by listener, with the pool each needs.
    let mut rules: Vec<(ResourceAction, Option<PoolRef>)> = Vec::new();
    let mut in_use: BTreeSet<ResourceId> = BTreeSet::new();
    if let Some(rp) = provider.rules() {
        for (ai, action) in plan.actions.iter().enumerate() {
            let (index, live_id, replaced) = match action {
                Action::Create { index, .. } => (*index, None, false),
                Action::Update { index, current, .. } | Action::Unchanged { index, current } => {
                    (*index, Some(&current.id), false)
                }
                Action::Replace { index, current, .. } => (*index, Some(&current.id), true),
                Action::Delete { .. } | Action::Unmanaged { .. } | Action::Kept { .. } => continue,
            };
            let Some(file_spec) = desired.get(index) else {
                continue;
            };
            let spec = action.spec();
            let lkey = listener_key(spec);
            let wanted = expand(file_spec, caps);
            // What the vendor cannot take is refused here, before any
            // write, as the listener checks are.
            let specs: Vec<RouteSpec> = wanted.iter().map(|(w, _)| w.clone()).collect();
            let refused: Vec<listener_core::Rejection> =
                rp.check_rules(file_spec, &specs).into_iter().map(|(_, r)| r).collect();
            listener_core::Rejections::from_vec(api, refused).into_result()?;
            // A listener without rules to make has nothing to read unless
            // prune may remove what it holds.
            let live: Vec<Rule> = match live_id {
                Some(id) if !wanted.is_empty() || prune != Prune::Off => rp.list_rules(id).await?,
                _ => Vec::new(),
            };
            let mut matched = vec![false; live.len()];
            for (want, from) in wanted {
                let host = want.host.as_deref();
                let mut a = ResourceAction {
                    kind: ResourceKind::Rule,
                    action: ResourceOp::Create,
                    name: rule_name(spec, host, &want.path),
                    key: rule_key(&lkey, host, &want.path),
                    id: None,
                    index: Some(index),
                    desired: None,
                    current: None,
                    changes: Vec::new(),
                    listener: Some(ai),
                    pool: None,
                    endpoints: None,
                    backend_id: None,
                };
                // Where the rule forwards: a pool action of this plan, a
                // vendor pool by alias, or endpoints the rule carries.
                let mut pool_ref = None;
                match &from {
                    DefaultOr::Default(DefaultBackend::Target(alias)) => {
                        a.backend_id = Some(ResourceId(resources.aliases.target(alias).unwrap_or(alias).to_string()));
                    }
                    _ => match on_rules.get(&want.backend) {
                        Some(pool) => {
                            a.backend_id = Some(listener_core::inline_pool_id(&want.backend));
                            a.endpoints = Some(pool.clone());
                        }
                        None => pool_ref = Some(PoolRef::Name(want.backend.clone())),
                    },
                }
                let found = live
                    .iter()
                    .enumerate()
                    .find(|(j, r)| !matched[*j] && r.managed && r.spec.host == want.host && r.spec.path == want.path);
                if let Some((j, r)) = found {
                    matched[j] = true;
                    let pool_id = by_name
                        .get(&want.backend)
                        .and_then(|p| pools[*p].id.as_ref())
                        .or(a.backend_id.as_ref());
                    if let Some(pool) = &a.endpoints {
                        let live_eps = r.pool.as_ref().map(|eps| {
                            let mut v: Vec<_> = eps.iter().map(|e| (e.address.clone(), e.port, e.weight)).collect();
                            v.sort();
                            v
                        });
                        if live_eps.as_ref() != Some(&sorted(pool)) {
                            a.changes.push(FieldChange {
                                path: "endpoints".into(),
                                from: serde_json::to_value(&r.pool).unwrap_or(Value::Null),
                                to: serde_json::to_value(&pool.endpoints).unwrap_or(Value::Null),
                            });
                        }
                        // Where the vendor keeps the pool's health check
                        // with the rule's endpoints (GA's endpoint groups).
                        if rp.pool_health_differs(r, pool.health_check.as_ref()) {
                            a.changes.push(FieldChange {
                                path: "health_check".into(),
                                from: serde_json::to_value(&r.pool_health_check).unwrap_or(Value::Null),
                                to: serde_json::to_value(&pool.health_check).unwrap_or(Value::Null),
                            });
                        }
                    } else if r.spec.backend != want.backend && pool_id != Some(&r.backend) {
                        a.changes.push(FieldChange {
                            path: "backend".into(),
                            from: Value::String(r.spec.backend.clone()),
                            to: Value::String(want.backend.clone()),
                        });
                    }
                    if caps.route_certificates_on_rules && r.spec.certificate != want.certificate {
                        a.changes.push(FieldChange {
                            path: "certificate".into(),
                            from: serde_json::to_value(&r.spec.certificate).unwrap_or(Value::Null),
                            to: serde_json::to_value(&want.certificate).unwrap_or(Value::Null),
                        });
                    }
                    a.action = if replaced {
                        a.changes.clear();
                        ResourceOp::Replace
                    } else if a.changes.is_empty() {
                        ResourceOp::Unchanged
                    } else {
                        ResourceOp::Update
                    };
                    if !replaced {
                        // Still forwarding there until its update runs.
                        in_use.insert(r.backend.clone());
                    }
                    a.id = Some(r.id.clone());
                    a.current = Some(Found::Rule(r.clone()));
                }
                a.desired = Some(Wanted::Rule(want));
                rules.push((a, pool_ref));
            }
            for (r, _) in live.iter().zip(&matched).filter(|(_, m)| !**m) {
                if !r.managed {
                    in_use.insert(r.backend.clone());
                    continue;
                }
                let host = r.spec.host.as_deref();
                let op = if prune == Prune::Off && !replaced {
                    in_use.insert(r.backend.clone());
                    ResourceOp::Unmanaged
                } else {
                    ResourceOp::Delete
                };
                let a = ResourceAction {
                    kind: ResourceKind::Rule,
                    action: op,
                    name: rule_name(spec, host, &r.spec.path),
                    key: rule_key(&lkey, host, &r.spec.path),
                    id: Some(r.id.clone()),
                    index: Some(index),
                    desired: None,
                    current: Some(Found::Rule(r.clone())),
                    changes: Vec::new(),
                    listener: Some(ai),
                    pool: None,
                    endpoints: None,
                    backend_id: None,
                };
                rules.push((a, Some(PoolRef::Id(r.backend.clone()))));
            }
        }
    }

    // Owned pools the listeners managed here do not need.
    let named_in_file = referenced(file);
    for (live, _) in live_pools.iter().zip(&pool_used).filter(|(_, u)| !**u) {
        let op = if named_in_file.contains(&live.spec.name) || in_use.contains(&live.id) {
            ResourceOp::Kept
        } else if prune == Prune::Off {
            ResourceOp::Unmanaged
        } else {
            ResourceOp::Delete
        };
        let mut a = pool_action(op, &live.spec.name);
        a.id = Some(live.id.clone());
        a.current = Some(Found::Pool(live.clone()));
        pools.push(a);
    }

    let mut out = pools;
    let first_rule = out.len();
    for (mut a, pool) in rules {
        a.pool = match pool {
            Some(PoolRef::Name(n)) => by_name.get(&n).copied(),
            Some(PoolRef::Id(id)) => out[..first_rule].iter().position(|p| p.id.as_ref() == Some(&id)),
            None => None,
        };
        out.push(a);
    }
    Ok(out)
}

/// One pool or rule step handed over by the graph engine.
pub(crate) struct Step<'a> {
    pub node: super::NodeId,
    pub verb: super::Verb,
    pub action: &'a ResourceAction,
    pub id: Option<String>,
    pub parent_ids: Vec<String>,
}

/// How a step ended: the ID it left in place, or why it failed; `None`
/// when it was not started (apply was cancelled).
pub(crate) type StepOutcome = Option<Result<Option<String>, std::sync::Arc<Error>>>;

type Events<'e> = &'e (dyn Fn(super::Event) + Send + Sync);

fn event(
    on_event: Events<'_>,
    a: &ResourceAction,
    verb: super::Verb,
    outcome: Option<&Result<Option<String>, std::sync::Arc<Error>>>,
) {
    let (stage, id, error, message) = match outcome {
        None => ("started", None, None, None),
        Some(Ok(id)) => ("finished", id.clone(), None, None),
        Some(Err(e)) => ("failed", None, Some(e.kind()), Some(e.to_string())),
    };
    on_event(super::Event::Resource {
        kind: a.kind.as_str(),
        stage,
        verb: verb.as_str(),
        name: a.name.clone(),
        id,
        error,
        message,
    });
}

fn no_outcome(api: &'static str, what: &str) -> std::sync::Arc<Error> {
    std::sync::Arc::new(Error::Vendor {
        vendor: api,
        code: "NoOutcome".into(),
        message: format!("the create call succeeded but did not return {what}; run plan to see whether it was made"),
        request_id: String::new(),
    })
}

fn not_exposed(kind: ResourceKind) -> std::sync::Arc<Error> {
    std::sync::Arc::new(Error::Config {
        field: "plan.resources".into(),
        message: format!("the provider does not expose {}s", kind.as_str()),
    })
}

/// Run one kind's steps of one phase: deletes, or updates then creates.
/// Pool creates go in one `create_pools` call, rule creates and deletes
/// in one call per listener. A failed create call is settled by reading
/// back: what is there as desired is done, the rest carries the error for
/// the next apply. The cancel flag is read before each call.
pub(crate) async fn run_steps(
    provider: &dyn Provider,
    kind: ResourceKind,
    steps: Vec<Step<'_>>,
    cancel: &super::Cancel,
    on_event: Events<'_>,
) -> Vec<(super::NodeId, super::Verb, StepOutcome)> {
    use super::Verb;
    use std::sync::Arc;
    let api = provider.capabilities().api;
    let mut out: Vec<(super::NodeId, Verb, StepOutcome)> = Vec::new();
    let (deletes, rest): (Vec<Step>, Vec<Step>) = steps.into_iter().partition(|s| s.verb == Verb::Delete);
    let (updates, creates): (Vec<Step>, Vec<Step>) = rest.into_iter().partition(|s| s.verb == Verb::Update);
    match kind {
        ResourceKind::Pool => {
            let Some(pp) = provider.pools() else {
                for s in deletes.iter().chain(&updates).chain(&creates) {
                    finish(&mut out, on_event, s, Err(not_exposed(kind)));
                }
                return out;
            };
            for s in deletes.iter().chain(&updates) {
                if cancel.is_cancelled() {
                    out.push((s.node, s.verb, None));
                    continue;
                }
                event(on_event, s.action, s.verb, None);
                let id = ResourceId(s.id.clone().unwrap_or_default());
                let outcome = match (s.verb, &s.action.current, &s.action.desired) {
                    (Verb::Delete, _, _) => match pp.delete_pool(&id).await {
                        Ok(()) | Err(Error::NotFound { .. }) => Ok(None),
                        Err(e) => Err(Arc::new(e)),
                    },
                    (_, Some(Found::Pool(current)), Some(Wanted::Pool(spec))) => pp
                        .update_pool(current, spec)
                        .await
                        .map(|p| Some(p.id.0))
                        .map_err(Arc::new),
                    _ => Err(not_exposed(kind)),
                };
                finish(&mut out, on_event, s, outcome);
            }
            let specs: Vec<PoolSpec> = creates
                .iter()
                .filter_map(|s| match &s.action.desired {
                    Some(Wanted::Pool(p)) => Some(p.clone()),
                    _ => None,
                })
                .collect();
            if creates.is_empty() {
                return out;
            }
            if cancel.is_cancelled() {
                out.extend(creates.iter().map(|s| (s.node, s.verb, None)));
                return out;
            }
            for s in &creates {
                event(on_event, s.action, s.verb, None);
            }
            let made = match pp.create_pools(&specs).await {
                Ok(made) => Ok(made),
                Err(e) => {
                    tracing::warn!(kind = e.kind(), "pool create failed; reading back what it made");
                    Err((Arc::new(e), pp.list_pools().await.ok()))
                }
            };
            for s in &creates {
                let name = &s.action.name;
                let outcome = match &made {
                    Ok(made) => made
                        .iter()
                        .find(|p| &p.spec.name == name)
                        .map(|p| Some(p.id.0.clone()))
                        .ok_or_else(|| no_outcome(api, &format!("pool {name}"))),
                    Err((e, back)) => {
                        let want = match &s.action.desired {
                            Some(Wanted::Pool(p)) => Some(sorted(p)),
                            _ => None,
                        };
                        back.iter()
                            .flatten()
                            .find(|p| p.managed && &p.spec.name == name && Some(sorted(&p.spec)) == want)
                            .map(|p| Some(p.id.0.clone()))
                            .ok_or_else(|| Arc::clone(e))
                    }
                };
                finish(&mut out, on_event, s, outcome);
            }
        }
        ResourceKind::Rule => {
            let Some(rp) = provider.rules() else {
                for s in deletes.iter().chain(&updates).chain(&creates) {
                    finish(&mut out, on_event, s, Err(not_exposed(kind)));
                }
                return out;
            };
            let listener_of = |s: &Step| listener_core::ListenerId(s.parent_ids.first().cloned().unwrap_or_default());
            // Deletes, one call per listener.
            for group in group_by_listener(&deletes) {
                if cancel.is_cancelled() {
                    out.extend(group.iter().map(|s| (s.node, s.verb, None)));
                    continue;
                }
                for s in &group {
                    event(on_event, s.action, s.verb, None);
                }
                let ids: Vec<ResourceId> = group
                    .iter()
                    .map(|s| ResourceId(s.id.clone().unwrap_or_default()))
                    .collect();
                let outcome = match rp.delete_rules(&listener_of(group[0]), &ids).await {
                    Ok(()) | Err(Error::NotFound { .. }) => Ok(None),
                    Err(e) => Err(Arc::new(e)),
                };
                for s in group {
                    finish(&mut out, on_event, s, outcome.clone());
                }
            }
            for s in &updates {
                if cancel.is_cancelled() {
                    out.push((s.node, s.verb, None));
                    continue;
                }
                event(on_event, s.action, s.verb, None);
                let backend = backend_of(s);
                let outcome = match (&s.action.current, &s.action.desired) {
                    (Some(Found::Rule(current)), Some(Wanted::Rule(spec))) => {
                        let want = listener_core::NewRule {
                            spec,
                            backend: &backend,
                            pool: s.action.endpoints.as_ref(),
                        };
                        rp.update_rule(current, &want)
                            .await
                            .map(|r| Some(r.id.0))
                            .map_err(Arc::new)
                    }
                    _ => Err(not_exposed(kind)),
                };
                finish(&mut out, on_event, s, outcome);
            }
            // Creates, one call per listener.
            for group in group_by_listener(&creates) {
                if cancel.is_cancelled() {
                    out.extend(group.iter().map(|s| (s.node, s.verb, None)));
                    continue;
                }
                let listener = listener_of(group[0]);
                let backends: Vec<ResourceId> = group.iter().map(|s| backend_of(s)).collect();
                let specs: Vec<RouteSpec> = group
                    .iter()
                    .map(|s| match &s.action.desired {
                        Some(Wanted::Rule(r)) => r.clone(),
                        _ => RouteSpec::new(None, "/", String::new()),
                    })
                    .collect();
                let news: Vec<listener_core::NewRule> = specs
                    .iter()
                    .zip(&backends)
                    .zip(&group)
                    .map(|((spec, backend), s)| listener_core::NewRule {
                        spec,
                        backend,
                        pool: s.action.endpoints.as_ref(),
                    })
                    .collect();
                for s in &group {
                    event(on_event, s.action, s.verb, None);
                }
                let made = match rp.create_rules(&listener, &news).await {
                    Ok(made) => Ok(made),
                    Err(e) => {
                        tracing::warn!(kind = e.kind(), "rule create failed; reading back what it made");
                        Err((Arc::new(e), rp.list_rules(&listener).await.ok()))
                    }
                };
                for ((s, spec), backend) in group.iter().zip(&specs).zip(&backends) {
                    let matches = |r: &&Rule| r.spec.host == spec.host && r.spec.path == spec.path;
                    let outcome = match &made {
                        Ok(made) => made
                            .iter()
                            .find(matches)
                            .map(|r| Some(r.id.0.clone()))
                            .ok_or_else(|| no_outcome(api, &format!("rule {}", s.action.name))),
                        Err((e, back)) => back
                            .iter()
                            .flatten()
                            .filter(|r| r.managed && (&r.backend == backend || s.action.endpoints.is_some()))
                            .find(matches)
                            .map(|r| Some(r.id.0.clone()))
                            .ok_or_else(|| Arc::clone(e)),
                    };
                    finish(&mut out, on_event, s, outcome);
                }
            }
        }
    }
    out
}

type Ended = Vec<(super::NodeId, super::Verb, StepOutcome)>;

/// The vendor ID a rule step forwards to: its pool parent's (found or
/// just made), else the one planning resolved.
fn backend_of(s: &Step) -> ResourceId {
    match (s.parent_ids.get(1), &s.action.backend_id) {
        (Some(id), _) => ResourceId(id.clone()),
        (None, Some(id)) => id.clone(),
        (None, None) => ResourceId(String::new()),
    }
}

fn finish(out: &mut Ended, on_event: Events<'_>, s: &Step, outcome: Result<Option<String>, std::sync::Arc<Error>>) {
    event(on_event, s.action, s.verb, Some(&outcome));
    out.push((s.node, s.verb, Some(outcome)));
}

/// Steps grouped by their listener (first parent ID), in first-seen order.
fn group_by_listener<'s, 'a>(steps: &'s [Step<'a>]) -> Vec<Vec<&'s Step<'a>>> {
    let mut groups: Vec<(String, Vec<&Step>)> = Vec::new();
    for s in steps {
        let l = s.parent_ids.first().cloned().unwrap_or_default();
        match groups.iter_mut().find(|(k, _)| *k == l) {
            Some((_, g)) => g.push(s),
            None => groups.push((l, vec![s])),
        }
    }
    groups.into_iter().map(|(_, g)| g).collect()
}
