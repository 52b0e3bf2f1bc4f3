//! Plans and their execution: the cloud is the state.
//!
//! A plan compares the listeners a file declares with the listeners that
//! exist on the instance, matched by transport and port (the one identity
//! every vendor enforces: two listeners cannot share a port). There is no
//! state file to drift: running `apply` again after a crash re-reads the
//! cloud and plans only what is still missing, which is what makes an
//! interrupted apply converge.
//!
//! Prune deletes only what the file does not name. A live listener that
//! shares a port (same transport) or, where the vendor reads names back,
//! a name with *any* listener of the file is kept, even when the file's
//! listener is not managed in this plan (a profile that cannot take it
//! skips it): [`Action::Kept`], never [`Action::Delete`]. Callers that
//! manage only part of a file pass the whole file to
//! [`Plan::build_for_file`] / [`plan_for_file`] so this holds by
//! construction.
//!
//! Apply is the resource-graph engine ([`graph`]) on a graph of one kind:
//! node `i` is `plan.actions[i]`, and the listener executor below makes the
//! calls (batching, concurrency, read-back, cancel, events). Pools and
//! rules join the same graph as kinds of their own, ordered around the
//! listener, rather than through a second engine.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures::future::BoxFuture;
use serde::Serialize;

use listener_core::{
    plan_change, Capabilities, ChangePlan, Error, FieldChange, Listener, ListenerSpec, PortRange, Ports, Protocol,
    Provider, Transport,
};

pub mod graph;
pub mod resources;

use graph::{Executor, Graph, Kind, Node, NodeId, Op, Ran as GraphRan, Verb, Work};
pub use resources::{FileResources, Found, ResourceAction, ResourceKind, ResourceOp, ResourceSummary, Wanted};

/// What apply will do for one listener.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Nothing on the cloud matches: create it.
    Create {
        /// Index of the listener in the file.
        index: usize,
        /// The spec to create (one vendor listener's worth).
        spec: ListenerSpec,
    },
    /// Fields the vendor can change in place differ.
    Update {
        /// Index of the listener in the file.
        index: usize,
        /// The listener as it is.
        current: Listener,
        /// The spec it should match.
        desired: ListenerSpec,
        /// The differing fields.
        changes: Vec<FieldChange>,
    },
    /// A field the vendor cannot change differs: delete and create.
    Replace {
        /// Index of the listener in the file.
        index: usize,
        /// The listener as it is.
        current: Listener,
        /// The spec it should match.
        desired: ListenerSpec,
        /// The immutable fields that differ.
        fields: Vec<String>,
        /// Every differing field.
        changes: Vec<FieldChange>,
    },
    /// The cloud matches the file.
    Unchanged {
        /// Index of the listener in the file.
        index: usize,
        /// The listener.
        current: Listener,
    },
    /// On the cloud but not in the file, and pruning was asked for.
    Delete {
        /// The listener to delete.
        current: Listener,
    },
    /// On the cloud but not in the file; kept because pruning is off.
    Unmanaged {
        /// The listener left alone.
        current: Listener,
    },
    /// On the cloud, not managed by this plan, but a listener of the file
    /// names it (same transport and a shared port, or the same name):
    /// never deleted, with or without pruning. Typically the file's
    /// listener is skipped on this profile because the vendor cannot take
    /// one of its fields.
    Kept {
        /// Index of the file's listener that names it, in the file set
        /// given to planning (the file, for the command line).
        index: usize,
        /// The listener left alone.
        current: Listener,
        /// How the file names it.
        matched_by: MatchedBy,
    },
}

/// How a file listener names a live listener that prune must keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// Same transport and at least one shared port.
    Ports,
    /// The same name (only where the vendor reads names back).
    Name,
}

impl Action {
    /// Whether carrying out the action changes the cloud.
    pub fn is_change(&self) -> bool {
        matches!(
            self,
            Action::Create { .. } | Action::Update { .. } | Action::Replace { .. } | Action::Delete { .. }
        )
    }

    /// A one-word name (`create`, `update`, ...).
    pub fn verb(&self) -> &'static str {
        match self {
            Action::Create { .. } => "create",
            Action::Update { .. } => "update",
            Action::Replace { .. } => "replace",
            Action::Unchanged { .. } => "unchanged",
            Action::Delete { .. } => "delete",
            Action::Unmanaged { .. } => "unmanaged",
            Action::Kept { .. } => "kept",
        }
    }

    /// The spec (desired or current) the action is about.
    pub fn spec(&self) -> &ListenerSpec {
        match self {
            Action::Create { spec, .. } => spec,
            Action::Update { desired, .. } | Action::Replace { desired, .. } => desired,
            Action::Unchanged { current, .. }
            | Action::Delete { current }
            | Action::Unmanaged { current }
            | Action::Kept { current, .. } => &current.spec,
        }
    }
}

/// Counts of a plan's actions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Listeners to create.
    pub create: usize,
    /// Listeners to update in place.
    pub update: usize,
    /// Listeners to replace.
    pub replace: usize,
    /// Listeners to delete.
    pub delete: usize,
    /// Listeners that already match.
    pub unchanged: usize,
    /// Listeners on the cloud that the file does not manage.
    pub unmanaged: usize,
    /// Listeners on the cloud this plan does not manage but the file
    /// names; never pruned.
    pub kept: usize,
}

/// Everything apply would do on one instance.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Plan {
    /// The actions, deletes first, then replacements, updates and creates.
    pub actions: Vec<Action>,
    /// Pools and rules beside the listeners ([`resources`]): empty unless
    /// the provider exposes them and the file has backends or routes, and
    /// then left out of the JSON.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ResourceAction>,
}

/// The vendor listeners a spec becomes: one per port (or per range) on
/// vendors whose listeners hold one port, the spec itself otherwise.
pub fn expand(caps: &Capabilities, spec: &ListenerSpec) -> Vec<ListenerSpec> {
    if caps.multi_port_listener {
        return vec![spec.clone()];
    }
    spec.ports
        .ranges()
        .into_iter()
        .map(|r| {
            let mut s = spec.clone();
            s.ports = if r.from == r.to {
                Ports::Single(r.from)
            } else {
                Ports::Range(r)
            };
            s
        })
        .collect()
}

type Key = (Transport, Vec<PortRange>);

fn key(spec: &ListenerSpec) -> Key {
    let mut ranges = spec.ports.ranges();
    ranges.sort();
    (spec.protocol.transport(), ranges)
}

fn overlaps(a: &Key, b: &Key) -> bool {
    a.0 == b.0 && a.1.iter().any(|x| b.1.iter().any(|y| x.overlaps(y)))
}

/// The file listener that names `live`, if any: same transport and a
/// shared port, or (where the vendor reads names back) the same name.
fn named_in_file(caps: &Capabilities, file: &[ListenerSpec], live: &ListenerSpec) -> Option<(usize, MatchedBy)> {
    let k = key(live);
    if let Some(i) = file.iter().position(|s| overlaps(&key(s), &k)) {
        return Some((i, MatchedBy::Ports));
    }
    if caps.is_write_only("name") {
        return None;
    }
    file.iter()
        .position(|s| s.name == live.name)
        .map(|i| (i, MatchedBy::Name))
}

/// Which live listeners that the file does not name apply deletes.
///
/// Marks (see [`listener_core::mark`]) say who made a listener; on an
/// instance several teams share, only what this profile's owner made is
/// safe to delete by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Prune {
    /// Delete nothing (no `--prune`).
    #[default]
    Off,
    /// Delete listeners marked with this profile's owner (`--prune`).
    /// Unmarked listeners and other owners' are left alone.
    Managed,
    /// Delete every listener the file does not name, whoever made it
    /// (`--prune-unmanaged`).
    All,
}

impl From<bool> for Prune {
    /// `true` is `--prune`: [`Prune::Managed`].
    fn from(prune: bool) -> Prune {
        if prune {
            Prune::Managed
        } else {
            Prune::Off
        }
    }
}

/// What becomes of a live listener that no listener managed by this plan
/// matches: kept when a listener of `file` names it, deleted when `prune`
/// covers it (managed with [`Prune::Managed`], any with [`Prune::All`]),
/// left unmanaged otherwise. The one place the prune decision is made.
fn prune_decision(caps: &Capabilities, file: &[ListenerSpec], live: &Listener, prune: Prune) -> Action {
    let deletable = match prune {
        Prune::Off => false,
        Prune::Managed => live.managed,
        Prune::All => true,
    };
    match named_in_file(caps, file, &live.spec) {
        Some((index, matched_by)) => Action::Kept {
            index,
            current: live.clone(),
            matched_by,
        },
        None if deletable => Action::Delete { current: live.clone() },
        None => Action::Unmanaged { current: live.clone() },
    }
}

impl Plan {
    /// Compare the file's listeners with the cloud's, when `desired` is
    /// the whole file (see [`Plan::build_for_file`]), classifying each
    /// change by the capabilities' immutable fields alone.
    pub fn build(
        caps: &Capabilities,
        desired: &[ListenerSpec],
        existing: &[Listener],
        prune: impl Into<Prune>,
    ) -> Plan {
        Plan::build_for_file(caps, desired, desired, existing, prune)
    }

    /// Compare `desired` (the listeners to manage here, a subset of
    /// `file`) with the cloud's. A live listener no desired spec matches is
    /// deleted with `prune`, unmanaged without, except when a listener of
    /// `file` names it: then it is [`Action::Kept`] either way.
    pub fn build_for_file(
        caps: &Capabilities,
        desired: &[ListenerSpec],
        file: &[ListenerSpec],
        existing: &[Listener],
        prune: impl Into<Prune>,
    ) -> Plan {
        let change = |c: &ListenerSpec, d: &ListenerSpec| plan_change(caps, c, d);
        Plan::build_with(caps, &change, desired, file, existing, prune.into())
    }

    /// [`Plan::build_for_file`] classifying each change with the provider's
    /// own [`Provider::plan_change`], which an adapter overrides where a
    /// field is immutable in one direction only (CLB's SNI can be switched
    /// on in place, never off).
    pub fn build_for(
        provider: &dyn Provider,
        desired: &[ListenerSpec],
        file: &[ListenerSpec],
        existing: &[Listener],
        prune: impl Into<Prune>,
    ) -> Plan {
        let change = |c: &ListenerSpec, d: &ListenerSpec| provider.plan_change(c, d);
        Plan::build_with(provider.capabilities(), &change, desired, file, existing, prune.into())
    }

    fn build_with(
        caps: &Capabilities,
        change_of: &dyn Fn(&ListenerSpec, &ListenerSpec) -> ChangePlan,
        desired: &[ListenerSpec],
        file: &[ListenerSpec],
        existing: &[Listener],
        prune: Prune,
    ) -> Plan {
        let mut used: BTreeSet<usize> = BTreeSet::new();
        let mut replace_or_update = Vec::new();
        let mut creates = Vec::new();
        let mut unchanged = Vec::new();

        let wanted: Vec<(usize, ListenerSpec)> = desired
            .iter()
            .enumerate()
            .flat_map(|(i, s)| expand(caps, s).into_iter().map(move |e| (i, e)))
            .collect();

        for (index, spec) in wanted {
            let k = key(&spec);
            let exact = existing
                .iter()
                .enumerate()
                .find(|(j, l)| !used.contains(j) && key(&l.spec) == k);
            // A listener on overlapping ports blocks the create: it must be
            // changed (if the vendor can move ports) or replaced.
            let found = exact.or_else(|| {
                existing
                    .iter()
                    .enumerate()
                    .find(|(j, l)| !used.contains(j) && overlaps(&key(&l.spec), &k))
            });
            match found {
                None => creates.push(Action::Create { index, spec }),
                Some((j, current)) => {
                    used.insert(j);
                    if current.owner.is_some() && !current.managed {
                        // Another owner's mark: a team sharing the instance
                        // made it, and this plan never changes or replaces
                        // it (their next apply would only change it back).
                        // The file's listener cannot be made while it holds
                        // the port: shown as kept, with whose it is.
                        tracing::warn!(
                            listener = %spec.name,
                            holder = %current.id,
                            owner = current.owner.as_deref().unwrap_or(""),
                            "a listener of another owner holds this listener's ports; it is left alone"
                        );
                        unchanged.push(Action::Kept {
                            index,
                            current: current.clone(),
                            matched_by: MatchedBy::Ports,
                        });
                        continue;
                    }
                    let change = change_of(&current.spec, &spec);
                    if change.is_empty() {
                        unchanged.push(Action::Unchanged {
                            index,
                            current: current.clone(),
                        });
                    } else if change.needs_replace() {
                        replace_or_update.push(Action::Replace {
                            index,
                            current: current.clone(),
                            desired: spec,
                            fields: change.immutable,
                            changes: change.changes,
                        });
                    } else {
                        replace_or_update.push(Action::Update {
                            index,
                            current: current.clone(),
                            desired: spec,
                            changes: change.changes,
                        });
                    }
                }
            }
        }

        let mut actions: Vec<Action> = existing
            .iter()
            .enumerate()
            .filter(|(j, _)| !used.contains(j))
            .map(|(_, l)| prune_decision(caps, file, l, prune))
            .collect();
        actions.extend(replace_or_update);
        actions.extend(creates);
        actions.extend(unchanged);
        Plan {
            actions,
            resources: Vec::new(),
        }
    }

    /// Whether apply would change anything.
    pub fn has_changes(&self) -> bool {
        self.actions.iter().any(Action::is_change) || self.resources.iter().any(ResourceAction::is_change)
    }

    /// Counts per kind of action.
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for a in &self.actions {
            match a {
                Action::Create { .. } => s.create += 1,
                Action::Update { .. } => s.update += 1,
                Action::Replace { .. } => s.replace += 1,
                Action::Delete { .. } => s.delete += 1,
                Action::Unchanged { .. } => s.unchanged += 1,
                Action::Unmanaged { .. } => s.unmanaged += 1,
                Action::Kept { .. } => s.kept += 1,
            }
        }
        s
    }

    /// The replacements, which apply refuses unless allowed.
    pub fn replacements(&self) -> impl Iterator<Item = &Action> {
        self.actions.iter().filter(|a| matches!(a, Action::Replace { .. }))
    }
}

/// Read the instance and plan against it, `desired` being the whole file.
pub async fn plan(provider: &dyn Provider, desired: &[ListenerSpec], prune: impl Into<Prune>) -> Result<Plan, Error> {
    plan_for_file(provider, desired, desired, prune).await
}

/// Read the instance and plan `desired` (the part of `file` managed on
/// this instance) against it; nothing `file` names is pruned
/// ([`Plan::build_for_file`]).
pub async fn plan_for_file(
    provider: &dyn Provider,
    desired: &[ListenerSpec],
    file: &[ListenerSpec],
    prune: impl Into<Prune>,
) -> Result<Plan, Error> {
    let existing = provider.list().await?;
    Ok(Plan::build_for(provider, desired, file, &existing, prune))
}

/// Read the instance and plan `desired` (part of `file`, as
/// [`plan_for_file`]) with its pools and rules: the listeners as
/// [`plan_for_file`] plans them, then the pools the listeners name and the
/// rules of their routes, read through [`Provider::pools`] /
/// [`Provider::rules`] ([`resources::plan_resources`]). A provider that
/// exposes neither gets exactly [`plan_for_file`]. Where the provider
/// exposes rules, the listener part is planned without `routes`: rules are
/// their own resources, never a field of the listener. The exception is a
/// route's certificate where the listener carries it
/// (`route_certificates_on_rules` off): routes naming a certificate stay,
/// and the adapter attaches and compares those certificates as the
/// listener's.
pub async fn plan_with_resources(
    provider: &dyn Provider,
    desired: &[ListenerSpec],
    file: &[ListenerSpec],
    resources: FileResources<'_>,
    prune: impl Into<Prune>,
) -> Result<Plan, Error> {
    let prune = prune.into();
    if provider.pools().is_none() && provider.rules().is_none() {
        return plan_for_file(provider, desired, file, prune).await;
    }
    let strip = |specs: &[ListenerSpec]| -> Vec<ListenerSpec> {
        specs
            .iter()
            .map(|s| {
                let mut s = s.clone();
                if provider.rules().is_some() {
                    // Rules are their own resources. Where the listener
                    // carries route certificates (ALB, GA additional
                    // certificates), the routes that name one stay, for
                    // the adapter's listener translation and its
                    // `plan_change`; they are never rules of the listener.
                    if provider.capabilities().route_certificates_on_rules {
                        s.routes.clear();
                    } else {
                        s.routes.retain(|r| r.certificate.is_some());
                    }
                    // The root rule carries the default backend there.
                    // Certificate-carrying routes kept above keep it too:
                    // a listener with routes and no default backend is
                    // not a valid spec, and the adapter compares neither.
                    if provider.capabilities().pools_on_rules && s.routes.is_empty() {
                        s.backend = None;
                    }
                }
                // A default backend mapped to an existing vendor pool is
                // that pool's target alias, as `forwarding.default_target`
                // has always named it: the adapter resolves aliases, not
                // the file's `backends`.
                let mapped = s
                    .backend
                    .as_ref()
                    .and_then(|b| resources.backends.get(b))
                    .and_then(|b| b.target.clone());
                if let Some(alias) = mapped {
                    s.backend = None;
                    let backend_protocol = s.forwarding.take().and_then(|f| f.backend_protocol);
                    s.forwarding = Some(listener_core::Forwarding {
                        backend_protocol,
                        default_target: Some(alias),
                    });
                }
                s
            })
            .collect()
    };
    let (listeners, file_listeners) = (strip(desired), strip(file));
    let existing = provider.list().await?;
    let mut plan = Plan::build_for(provider, &listeners, &file_listeners, &existing, prune);
    plan.resources = resources::plan_resources(provider, &plan, desired, file, resources, prune).await?;
    Ok(plan)
}

/// How apply runs.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Carry out replacements (delete then create). Off by default:
    /// a replacement drops traffic on that port for a while.
    pub allow_replace: bool,
    /// Most writes in flight at once on one instance, for vendors that take
    /// concurrent writes (others get one at a time regardless).
    pub max_concurrency: usize,
    /// Hand creates to [`Provider::create_batch`] so the adapter can put
    /// several listeners in one call where the API allows it (in batches
    /// of what one call can hold, see `run_creates`). A batch stops at its
    /// first failure; apply then reads the instance back, counts what was
    /// made, and creates what is missing one by one.
    pub batch: bool,
    /// Once cancelled, apply starts no new step and returns when the steps
    /// in flight have ended; the rest are listed in
    /// [`ApplyReport::not_started`]. A replacement whose delete has run is
    /// still recreated, so a port is not left empty by the interrupt.
    pub cancel: Cancel,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            allow_replace: false,
            max_concurrency: 8,
            batch: true,
            cancel: Cancel::default(),
        }
    }
}

/// A request to stop starting new work, shared between whoever watches for
/// it (the CLI's Ctrl-C handler) and [`apply`]. A flag rather than a
/// future: apply checks it before each step, and a call in flight is never
/// cut off half-way, since the vendor may finish it anyway and the next
/// apply would then find a listener it does not expect.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// Ask apply to stop starting new steps; every clone sees it.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`Cancel::cancel`] was called on this flag or a clone.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

impl ApplyOptions {
    /// One call per listener, one at a time: the baseline the benchmarks
    /// compare against, and the safest mode when debugging a vendor.
    pub fn naive() -> Self {
        ApplyOptions {
            allow_replace: false,
            max_concurrency: 1,
            batch: false,
            cancel: Cancel::default(),
        }
    }
}

/// One step of an apply, named as its events name it: the delete and the
/// create of a replacement are two steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// `create`, `update` or `delete`.
    pub verb: &'static str,
    /// The listener name; the file's name for every listener the file names.
    pub name: String,
    /// The ports the step is about, as text: for a delete, the ports of the
    /// listener being deleted, which a replacement may change.
    pub ports: String,
}

impl Step {
    fn of(verb: &'static str, action: &Action) -> Step {
        let ports = match (verb, action) {
            ("delete", Action::Delete { current } | Action::Replace { current, .. }) => &current.spec.ports,
            _ => &action.spec().ports,
        };
        Step {
            verb,
            name: action.spec().name.clone(),
            ports: ports.to_string(),
        }
    }
}

impl Step {
    /// A pool or rule step: its name is the kind and the resource's name,
    /// without ports.
    fn resource(verb: &'static str, r: &ResourceAction) -> Step {
        Step {
            verb,
            name: format!("{} {}", r.kind.as_str(), r.name),
            ports: String::new(),
        }
    }
}

/// Record a pool or rule step in the report, as listener steps are.
fn resource_ran(report: &mut ApplyReport, r: &ResourceAction, verb: Verb, outcome: Option<graph::Outcome<Made>>) {
    match outcome {
        Some(Ok(made)) => {
            // The delete half of a replacement counts once, as its create.
            if !(verb == Verb::Delete && r.action == ResourceOp::Replace) {
                report.done += 1;
            }
            let id = match made {
                Made::Resource(Some(id)) => Some(id),
                _ => r.id.as_ref().map(|i| i.0.clone()),
            };
            report.resources.push(ResourceDone {
                kind: r.kind.as_str(),
                verb: verb.as_str(),
                name: r.name.clone(),
                id,
            });
        }
        Some(Err(e)) => report
            .failed
            .push(Failure::new(&format!("{} {}", r.kind.as_str(), r.name), &e)),
        None => {
            report.not_started.push(Step::resource(verb.as_str(), r));
            if verb == Verb::Delete && r.action == ResourceOp::Replace {
                report.not_started.push(Step::resource("create", r));
            }
        }
    }
}

/// Every step [`apply`] would take for `plan`, deletes first: what an
/// interrupted apply compares its progress with.
pub fn steps(plan: &Plan) -> Vec<Step> {
    let mut out = Vec::new();
    for a in &plan.actions {
        if matches!(a, Action::Delete { .. } | Action::Replace { .. }) {
            out.push(Step::of("delete", a));
        }
    }
    for a in &plan.actions {
        match a {
            Action::Update { .. } => out.push(Step::of("update", a)),
            Action::Create { .. } | Action::Replace { .. } => out.push(Step::of("create", a)),
            _ => {}
        }
    }
    out
}

/// Progress of an apply, for a display or a log.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// An action started.
    Started {
        /// `create`, `update`, `replace`, `delete`.
        verb: &'static str,
        /// The listener name.
        name: String,
        /// The ports, as text.
        ports: String,
    },
    /// An action finished.
    Finished {
        /// `create`, `update`, `replace`, `delete`.
        verb: &'static str,
        /// The listener name.
        name: String,
        /// The ports, as text (as in `Started`).
        ports: String,
        /// IDs of the listeners now in place (empty for a delete).
        ids: Vec<String>,
    },
    /// An action failed; apply goes on with independent actions.
    Failed {
        /// `create`, `update`, `replace`, `delete`.
        verb: &'static str,
        /// The listener name.
        name: String,
        /// The ports, as text (as in `Started`).
        ports: String,
        /// The error kind (see `Error::kind`).
        kind: &'static str,
        /// The error, displayed.
        message: String,
    },
    /// A step of a pool or a rule started, finished or failed.
    Resource {
        /// `pool` or `rule`.
        kind: &'static str,
        /// `started`, `finished` or `failed`.
        stage: &'static str,
        /// `create`, `update`, `delete`.
        verb: &'static str,
        /// The pool's name, or the rule's listener with its host and path.
        name: String,
        /// The ID now in place (a finished create or update).
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        /// The error kind of a failed step.
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<&'static str>,
        /// The error of a failed step, displayed.
        #[serde(skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
}

/// What an apply did.
#[derive(Debug, Default, Serialize)]
pub struct ApplyReport {
    /// Listeners in place after the apply, with the index of the file
    /// listener each belongs to, in file order.
    pub listeners: Vec<(usize, Listener)>,
    /// Actions carried out successfully.
    pub done: usize,
    /// Actions that failed.
    pub failed: Vec<Failure>,
    /// Steps not started because [`ApplyOptions::cancel`] was set; empty
    /// when apply ran to the end.
    pub not_started: Vec<Step>,
    /// Steps not attempted because a resource they depend on failed (see
    /// [`graph::Skipped`]); always empty for a plan of listeners alone,
    /// which depend on nothing, and then left out of the JSON.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Step>,
    /// Pools and rules now in place by this apply's creates and updates,
    /// and deleted; absent from the JSON when the plan had none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ResourceDone>,
}

/// One pool or rule step that succeeded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceDone {
    /// `pool` or `rule`.
    pub kind: &'static str,
    /// `create`, `update`, `delete`.
    pub verb: &'static str,
    /// As in the plan.
    pub name: String,
    /// The ID in place (the deleted one for a delete).
    pub id: Option<String>,
}

/// One action that failed during apply.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    /// The listener name.
    pub name: String,
    /// The error kind (`Error::kind`), for scripts.
    pub kind: &'static str,
    /// The error, displayed.
    pub message: String,
}

impl Failure {
    fn new(name: &str, e: &Error) -> Self {
        Failure {
            name: name.to_string(),
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

/// A planned action and the graph node that names it.
type NodeAction<'a> = (NodeId, &'a Action);

/// One unit of work for the listener executor; each action with its node.
enum Job<'a> {
    Delete(NodeId, &'a Action),
    Update(NodeId, &'a Action),
    Create(Vec<NodeAction<'a>>),
}

/// A planned action with what names it in the graph, for the create
/// batching that works on both.
trait Planned {
    fn action(&self) -> &Action;
}

impl Planned for &Action {
    fn action(&self) -> &Action {
        self
    }
}

impl Planned for NodeAction<'_> {
    fn action(&self) -> &Action {
        self.1
    }
}

/// A node's item in the apply graph.
#[derive(Debug, Clone, Copy)]
enum Item<'p> {
    Listener(&'p Action),
    Resource(&'p ResourceAction),
}

/// A plan as a graph: node `i` is `plan.actions[i]` (listeners), node
/// `n + j` is `plan.resources[j]` (pools and rules), so the engine's node
/// IDs name actions without comparing addresses. A rule's parents are its
/// listener, then its pool.
fn plan_graph(plan: &Plan) -> Graph<Item<'_>> {
    let mut graph = Graph::default();
    for action in &plan.actions {
        let (op, id) = match action {
            Action::Create { .. } => (Op::Create, None),
            Action::Update { current, .. } => (Op::Update, Some(current.id.0.clone())),
            Action::Replace { current, .. } => (Op::Replace, Some(current.id.0.clone())),
            Action::Delete { current } => (Op::Delete, Some(current.id.0.clone())),
            Action::Unchanged { current, .. } | Action::Unmanaged { current } | Action::Kept { current, .. } => {
                (Op::Keep, Some(current.id.0.clone()))
            }
        };
        let spec = action.spec();
        // A listener whose default action forwards to a pool of the plan
        // is made after it (ALB needs the server group at create).
        let parents = spec
            .backend
            .as_ref()
            .and_then(|b| {
                plan.resources
                    .iter()
                    .position(|r| r.kind == ResourceKind::Pool && &r.key == b)
            })
            .map(|j| vec![NodeId(plan.actions.len() + j)])
            .unwrap_or_default();
        graph.add(Node {
            kind: &graph::LISTENER,
            key: format!("{:?} {}", spec.protocol.transport(), spec.ports),
            parents,
            op,
            id,
            item: Item::Listener(action),
        });
    }
    let n = plan.actions.len();
    for r in &plan.resources {
        let op = match r.action {
            ResourceOp::Create => Op::Create,
            ResourceOp::Update => Op::Update,
            ResourceOp::Replace => Op::Replace,
            ResourceOp::Delete => Op::Delete,
            ResourceOp::Unchanged | ResourceOp::Unmanaged | ResourceOp::Kept | ResourceOp::Mapped => Op::Keep,
        };
        let mut parents = Vec::new();
        parents.extend(r.listener.map(NodeId));
        parents.extend(r.pool.map(|p| NodeId(n + p)));
        graph.add(Node {
            kind: match r.kind {
                ResourceKind::Pool => &graph::POOL,
                ResourceKind::Rule => &graph::RULE,
            },
            key: r.key.clone(),
            parents,
            op,
            id: r.id.as_ref().map(|i| i.0.clone()),
            item: Item::Resource(r),
        });
    }
    graph
}

/// What a step of the apply graph left in place.
enum Made {
    Listeners(Vec<Listener>),
    Resource(Option<String>),
}

/// The executor of a whole plan: listener steps go to the listener
/// executor unchanged, pool and rule steps to [`resources::run_steps`].
struct PlanExecutor<'p> {
    listeners: ListenerExecutor<'p>,
}

impl<'g> Executor<Item<'g>> for PlanExecutor<'_> {
    type Made = Made;

    fn made_id(&self, made: &Made) -> Option<String> {
        match made {
            Made::Listeners(l) => l.first().map(|l| l.id.0.clone()),
            Made::Resource(id) => id.clone(),
        }
    }

    fn run<'a>(&'a self, kind: &'static Kind, work: Vec<Work<'a, Item<'g>>>) -> BoxFuture<'a, Vec<GraphRan<Made>>> {
        Box::pin(async move {
            if kind == &graph::LISTENER {
                let work: Vec<Work<'a, &'g Action>> = work
                    .into_iter()
                    .filter_map(|w| match w.item {
                        Item::Listener(a) => Some(Work {
                            node: w.node,
                            verb: w.verb,
                            op: w.op,
                            item: a,
                            id: w.id,
                            parent_ids: w.parent_ids,
                        }),
                        Item::Resource(_) => None,
                    })
                    .collect();
                return self
                    .listeners
                    .run(kind, work)
                    .await
                    .into_iter()
                    .map(|r| GraphRan {
                        node: r.node,
                        verb: r.verb,
                        outcome: r.outcome.map(|o| o.map(Made::Listeners)),
                    })
                    .collect();
            }
            let rkind = if kind == &graph::POOL {
                ResourceKind::Pool
            } else {
                ResourceKind::Rule
            };
            let steps: Vec<resources::Step> = work
                .into_iter()
                .filter_map(|w| match w.item {
                    Item::Resource(r) => Some(resources::Step {
                        node: w.node,
                        verb: w.verb,
                        action: r,
                        id: w.id.map(str::to_string),
                        parent_ids: w.parent_ids,
                    }),
                    Item::Listener(_) => None,
                })
                .collect();
            let l = &self.listeners;
            resources::run_steps(l.provider.as_ref(), rkind, steps, &l.options.cancel, l.on_event)
                .await
                .into_iter()
                .map(|(node, verb, outcome)| GraphRan {
                    node,
                    verb,
                    outcome: outcome.map(|o| o.map(Made::Resource)),
                })
                .collect()
        })
    }
}

/// The listener kind's executor: the calls, concurrency, create batching,
/// read-back after a failed batch, cancel checks and events of apply,
/// handed one phase's listener steps at a time by the graph engine.
struct ListenerExecutor<'p> {
    provider: &'p Arc<dyn Provider>,
    width: usize,
    options: &'p ApplyOptions,
    on_event: &'p (dyn Fn(Event) + Send + Sync),
}

impl<'g> Executor<&'g Action> for ListenerExecutor<'_> {
    type Made = Vec<Listener>;

    fn made_id(&self, made: &Vec<Listener>) -> Option<String> {
        made.first().map(|l| l.id.0.clone())
    }

    fn run<'a>(
        &'a self,
        _kind: &'static Kind,
        work: Vec<Work<'a, &'g Action>>,
    ) -> BoxFuture<'a, Vec<GraphRan<Vec<Listener>>>> {
        Box::pin(async move {
            // The engine hands over one phase at a time: all deletes, or
            // updates and creates.
            let deleting = work.first().is_some_and(|w| w.verb == Verb::Delete);
            let verb_of = |action: &Action| match action {
                _ if deleting => Verb::Delete,
                Action::Update { .. } => Verb::Update,
                _ => Verb::Create,
            };
            // Updates first, then the creates (one batch job when batching),
            // each list in plan order: the order apply always queued them.
            let mut jobs: Vec<Job> = Vec::new();
            let mut creates: Vec<NodeAction> = Vec::new();
            for w in &work {
                match w.verb {
                    Verb::Delete => jobs.push(Job::Delete(w.node, w.item)),
                    Verb::Update => jobs.push(Job::Update(w.node, w.item)),
                    Verb::Create => creates.push((w.node, *w.item)),
                }
            }
            if self.options.batch && creates.len() > 1 {
                jobs.push(Job::Create(creates));
            } else {
                jobs.extend(creates.into_iter().map(|c| Job::Create(vec![c])));
            }
            run_jobs(self.provider, jobs, self.width, &self.options.cancel, self.on_event)
                .await
                .into_iter()
                .map(|(node, action, outcome)| GraphRan {
                    node,
                    verb: verb_of(action),
                    outcome,
                })
                .collect()
        })
    }
}

/// Carry out a plan. Refuses before any change when the plan replaces and
/// `allow_replace` is off. Deletes (and the delete half of replacements) go
/// first because they free ports; then updates and creates. Writes run one
/// at a time on vendors that serialise writes per instance, concurrently up
/// to `max_concurrency` elsewhere. Failures of single actions are collected
/// and do not stop independent ones; re-running apply retries what is left.
/// Once [`ApplyOptions::cancel`] is set no further step starts (a batch of
/// creates is checked call by call), steps in flight end normally, and the
/// report lists the rest in `not_started`.
///
/// The order comes from the resource graph engine ([`graph::apply_graph`]),
/// on a graph of one kind; the listener kind's executor makes the calls.
pub async fn apply(
    provider: Arc<dyn Provider>,
    plan: &Plan,
    options: &ApplyOptions,
    on_event: &(dyn Fn(Event) + Send + Sync),
) -> Result<ApplyReport, Error> {
    if !options.allow_replace {
        if let Some(Action::Replace { current, fields, .. }) = plan.replacements().next() {
            return Err(Error::ImmutableField {
                vendor: provider.capabilities().api,
                field: fields.join(", "),
                listener_id: current.id.0.clone(),
            });
        }
    }
    let width = if provider.capabilities().serial_writes {
        1
    } else {
        options.max_concurrency.max(1)
    };
    let mut report = ApplyReport::default();
    for action in &plan.actions {
        if let Action::Unchanged { index, current } = action {
            report.listeners.push((*index, current.clone()));
        }
    }

    let executor = PlanExecutor {
        listeners: ListenerExecutor {
            provider: &provider,
            width,
            options,
            on_event,
        },
    };
    let ran = graph::apply_graph(&plan_graph(plan), &executor).await?;
    let n = plan.actions.len();
    // Deletes come first in `ran`, then updates and creates; a replacement
    // whose delete did not succeed has no create step.
    for GraphRan { node, verb, outcome } in ran.ran {
        if node.0 >= n {
            resource_ran(&mut report, &plan.resources[node.0 - n], verb, outcome);
            continue;
        }
        let action = &plan.actions[node.0];
        let outcome = outcome.map(|o| {
            o.map(|made| match made {
                Made::Listeners(l) => l,
                Made::Resource(_) => Vec::new(),
            })
        });
        match (verb, outcome) {
            (Verb::Delete, Some(Ok(_))) => {
                // The delete half of a replacement counts once, as its create.
                if matches!(action, Action::Delete { .. }) {
                    report.done += 1;
                }
            }
            (_, Some(Ok(made))) => {
                report.done += 1;
                let index = action_index(action);
                report.listeners.extend(made.into_iter().map(|l| (index, l)));
            }
            (_, Some(Err(e))) => report.failed.push(Failure::new(&action.spec().name, &e)),
            (Verb::Delete, None) => {
                report.not_started.push(Step::of("delete", action));
                if matches!(action, Action::Replace { .. }) {
                    report.not_started.push(Step::of("create", action));
                }
            }
            (verb, None) => report.not_started.push(Step::of(verb.as_str(), action)),
        }
    }
    // A listener is skipped when the pool of its default action is not
    // in place; pools and rules when a parent is not.
    for s in ran.skipped {
        match s.node.0.checked_sub(n) {
            None => report.skipped.push(Step::of(s.verb.as_str(), &plan.actions[s.node.0])),
            Some(j) => report.skipped.push(Step::resource(s.verb.as_str(), &plan.resources[j])),
        }
    }
    report
        .listeners
        .sort_by(|(i, a), (j, b)| i.cmp(j).then(a.spec.ports.ranges().cmp(&b.spec.ports.ranges())));
    Ok(report)
}

/// The creates in batches of specs that differ only in name and ports:
/// the most any adapter puts in one call (CLB: a call takes names and
/// ports one to one and every other parameter once; GAAP: one name with a
/// port list), so no call is lost against one batch of everything, while
/// a cancel can stop apply between batches rather than only after all
/// creates (an adapter makes a batch's calls one after another without
/// looking at the flag). Batches keep the order of their first member,
/// QUIC ones first: an HTTPS listener may upgrade to a QUIC listener of
/// the same file (HTTP/3), which must then exist already; adapters that
/// create one listener per call get the same order, one call per create.
fn batch_groups<P: Planned>(creates: Vec<P>) -> Vec<Vec<P>> {
    fn shared(spec: &ListenerSpec) -> ListenerSpec {
        let mut s = spec.clone();
        s.name = String::new();
        s.ports = Ports::Single(0);
        s
    }
    let mut groups: Vec<(ListenerSpec, Vec<P>)> = Vec::new();
    for a in creates {
        let key = shared(a.action().spec());
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, g)) => g.push(a),
            None => groups.push((key, vec![a])),
        }
    }
    groups.sort_by_key(|(k, _)| k.protocol != Protocol::Quic);
    groups.into_iter().map(|(_, g)| g).collect()
}

fn action_index(a: &Action) -> usize {
    match a {
        Action::Create { index, .. }
        | Action::Update { index, .. }
        | Action::Replace { index, .. }
        | Action::Unchanged { index, .. } => *index,
        Action::Delete { .. } | Action::Unmanaged { .. } | Action::Kept { .. } => usize::MAX,
    }
}

/// Whether a listener the cloud made belongs to a desired spec: same
/// transport and its ports inside the spec's.
fn belongs(spec: &ListenerSpec, made: &ListenerSpec) -> bool {
    spec.protocol.transport() == made.protocol.transport()
        && made
            .ports
            .ranges()
            .iter()
            .all(|m| spec.ports.ranges().iter().any(|s| s.from <= m.from && m.to <= s.to))
}

/// The outcome of one action: the listeners it left in place, or why it
/// failed (shared: one error can be the outcome of several actions).
type Outcome = Result<Vec<Listener>, Arc<Error>>;

/// The outcome of one action that ran; `None` beside an action means it
/// was not started because apply was cancelled.
type Ran<'a> = Vec<(NodeId, &'a Action, Option<Outcome>)>;

/// Whether an action may start: any before a cancel; after it only the
/// create half of a replacement, whose delete has already freed the port
/// (leaving it empty until the next apply would turn an interrupt into an
/// outage).
fn may_start(cancel: &Cancel, verb: &str, action: &Action) -> bool {
    !cancel.is_cancelled() || (verb == "create" && matches!(action, Action::Replace { .. }))
}

fn started(on_event: &(dyn Fn(Event) + Send + Sync), verb: &'static str, action: &Action) {
    let step = Step::of(verb, action);
    on_event(Event::Started {
        verb,
        name: step.name,
        ports: step.ports,
    });
}

fn ended(on_event: &(dyn Fn(Event) + Send + Sync), verb: &'static str, action: &Action, outcome: &Outcome) {
    let step = Step::of(verb, action);
    on_event(match outcome {
        Ok(made) => Event::Finished {
            verb,
            name: step.name,
            ports: step.ports,
            ids: made.iter().map(|l| l.id.0.clone()).collect(),
        },
        Err(e) => Event::Failed {
            verb,
            name: step.name,
            ports: step.ports,
            kind: e.kind(),
            message: e.to_string(),
        },
    });
}

/// Carry out one job, reporting progress; one outcome per action.
async fn run_job<'a>(
    provider: &Arc<dyn Provider>,
    job: Job<'a>,
    cancel: &Cancel,
    on_event: &(dyn Fn(Event) + Send + Sync),
) -> Ran<'a> {
    let (verb, node, action) = match job {
        Job::Create(list) => return run_creates(provider, list, cancel, on_event).await,
        Job::Delete(node, a) => ("delete", node, a),
        Job::Update(node, a) => ("update", node, a),
    };
    if !may_start(cancel, verb, action) {
        return vec![(node, action, None)];
    }
    started(on_event, verb, action);
    let outcome: Outcome = match action {
        Action::Delete { current } | Action::Replace { current, .. } if verb == "delete" => {
            match provider.delete(&current.id).await {
                // Listed on this instance when planned, gone now: deleted
                // meanwhile, which is what was asked. (`NotOwned` is never
                // taken for this: it stays a failure.)
                Err(Error::NotFound { .. }) => {
                    tracing::info!(listener = %current.id, "already gone");
                    Ok(Vec::new())
                }
                other => other.map(|()| Vec::new()).map_err(Arc::new),
            }
        }
        Action::Update { current, desired, .. } => provider
            .update(current, desired)
            .await
            .map(|l| vec![l])
            .map_err(Arc::new),
        _ => Ok(Vec::new()),
    };
    ended(on_event, verb, action, &outcome);
    vec![(node, action, Some(outcome))]
}

/// Creates, in as few calls as the adapter can make of them: batches of
/// specs that differ only in name and ports (the most one call can hold
/// on any vendor) on adapters that declare `batch_create`; on the others,
/// one create call per listener anyway, one run handed to
/// [`Provider::create_each`] ([`run_each`]), which may confirm several
/// creates with one read.
/// The cancel flag is read before each batch, since an adapter runs a
/// batch's calls without looking at it. A failed batch stops here, as
/// `create_batch` stops at its first failure: what it and every later
/// batch should have made is settled by [`settle_failed_batch`].
async fn run_creates<'a>(
    provider: &Arc<dyn Provider>,
    list: Vec<NodeAction<'a>>,
    cancel: &Cancel,
    on_event: &(dyn Fn(Event) + Send + Sync),
) -> Ran<'a> {
    if !provider.capabilities().batch_create {
        let ordered: Vec<NodeAction<'a>> = batch_groups(list).into_iter().flatten().collect();
        return run_each(provider, ordered, cancel, on_event).await;
    }
    let chunks: Vec<Vec<NodeAction<'a>>> = batch_groups(list);
    let mut out: Ran<'a> = Vec::new();
    let mut chunks = chunks.into_iter();
    while let Some(chunk) = chunks.next() {
        let (run, skip): (Vec<NodeAction<'a>>, Vec<NodeAction<'a>>) =
            chunk.into_iter().partition(|(_, a)| may_start(cancel, "create", a));
        out.extend(skip.into_iter().map(|(node, a)| (node, a, None)));
        if run.is_empty() {
            continue;
        }
        for (_, a) in &run {
            started(on_event, "create", a);
        }
        let result = match run.as_slice() {
            [(_, one)] => provider.create(one.spec()).await,
            many => {
                let specs: Vec<ListenerSpec> = many.iter().map(|(_, a)| a.spec().clone()).collect();
                provider.create_batch(&specs).await
            }
        };
        match result {
            Ok(made) => {
                let single = run.len() == 1;
                for (node, a) in run {
                    let outcome: Outcome = Ok(if single {
                        made.clone()
                    } else {
                        made.iter().filter(|l| belongs(a.spec(), &l.spec)).cloned().collect()
                    });
                    ended(on_event, "create", a, &outcome);
                    out.push((node, a, Some(outcome)));
                }
            }
            Err(e) => {
                let announced = run.len();
                let mut rest = run;
                rest.extend(chunks.by_ref().flatten());
                out.extend(settle_failed_batch(provider, rest, announced, Arc::new(e), cancel, on_event).await);
            }
        }
    }
    out
}

/// Creates on an adapter with one listener per create call, handed over
/// as one run ([`Provider::create_each`]) so that the adapter may confirm
/// several with one read; the cancel flag is read and the start reported
/// right before each create is sent ([`Turns::may_start`]), so a cancel
/// still stops apply between creates. A create that failed is settled
/// after the run as after a failed batch (read back, then done, created
/// again once, or failed: [`settle_after_failure`]). One create alone goes
/// to [`Provider::create`], as before.
async fn run_each<'a>(
    provider: &Arc<dyn Provider>,
    list: Vec<NodeAction<'a>>,
    cancel: &Cancel,
    on_event: &(dyn Fn(Event) + Send + Sync),
) -> Ran<'a> {
    if let [(node, a)] = list.as_slice() {
        let (node, a) = (*node, *a);
        if !may_start(cancel, "create", a) {
            return vec![(node, a, None)];
        }
        started(on_event, "create", a);
        let outcome: Outcome = provider.create(a.spec()).await.map_err(Arc::new);
        ended(on_event, "create", a, &outcome);
        return vec![(node, a, Some(outcome))];
    }
    let specs: Vec<ListenerSpec> = list.iter().map(|(_, a)| a.spec().clone()).collect();
    let turns = Turns {
        actions: list.iter().map(|(_, a)| *a).collect(),
        cancel,
        on_event,
        outcomes: std::sync::Mutex::new(vec![Turn::NotStarted; list.len()]),
    };
    provider.create_each(&specs, &turns).await;
    let outcomes = turns.outcomes.into_inner().unwrap_or_else(|e| e.into_inner());
    // Failed creates are settled as after a failed batch: the instance is
    // read back once, and each is done, created again once, or failed.
    let mut existing: Option<Option<Vec<Listener>>> = None;
    let mut settled = Vec::with_capacity(outcomes.len());
    for ((_, a), turn) in list.iter().zip(outcomes) {
        settled.push(match turn {
            Turn::Failed(error) => {
                if existing.is_none() {
                    tracing::warn!(
                        kind = error.kind(),
                        "a create of the run failed; reading back what was made"
                    );
                    existing = Some(provider.list().await.ok());
                }
                let there = existing.as_ref().and_then(|e| e.as_deref());
                let outcome = settle_after_failure(provider, there, a.spec(), &error).await;
                ended(on_event, "create", a, &outcome);
                Turn::Ended(outcome)
            }
            other => other,
        });
    }
    list.into_iter()
        .zip(settled)
        .map(|((node, a), turn)| match turn {
            Turn::NotStarted => (node, a, None),
            Turn::Ended(outcome) => (node, a, Some(outcome)),
            Turn::Failed(error) => (node, a, Some(Err(error))),
            // Started but never reported: an adapter bug, never a success.
            Turn::Started => {
                let outcome: Outcome = Err(Arc::new(Error::Vendor {
                    vendor: provider.capabilities().api,
                    code: "NoOutcome".into(),
                    message: "the adapter started this create but reported no outcome; \
                              run plan to see whether the listener was made"
                        .into(),
                    request_id: String::new(),
                }));
                ended(on_event, "create", a, &outcome);
                (node, a, Some(outcome))
            }
        })
        .collect()
}

/// Where one create of a [`run_each`] run stands.
#[derive(Clone)]
enum Turn {
    NotStarted,
    Started,
    Ended(Outcome),
    /// Failed; reported once settled ([`settle_after_failure`]).
    Failed(Arc<Error>),
}

/// Apply's side of [`Provider::create_each`]: the cancel flag, the events
/// and the outcomes of one run of creates.
struct Turns<'a, 'e> {
    actions: Vec<&'a Action>,
    cancel: &'e Cancel,
    on_event: &'e (dyn Fn(Event) + Send + Sync),
    outcomes: std::sync::Mutex<Vec<Turn>>,
}

impl listener_core::CreateTurns for Turns<'_, '_> {
    fn may_start(&self, index: usize) -> bool {
        let Some(a) = self.actions.get(index).copied() else {
            return false;
        };
        if !may_start(self.cancel, "create", a) {
            return false;
        }
        started(self.on_event, "create", a);
        let mut outcomes = self.outcomes.lock().unwrap_or_else(|e| e.into_inner());
        outcomes[index] = Turn::Started;
        true
    }

    fn ended(&self, index: usize, outcome: listener_core::Result<Vec<Listener>>) {
        let Some(a) = self.actions.get(index).copied() else {
            return;
        };
        let turn = match outcome {
            Ok(made) => {
                let outcome: Outcome = Ok(made);
                ended(self.on_event, "create", a, &outcome);
                Turn::Ended(outcome)
            }
            // Reported after the run, once settled.
            Err(e) => Turn::Failed(Arc::new(e)),
        };
        let mut outcomes = self.outcomes.lock().unwrap_or_else(|e| e.into_inner());
        outcomes[index] = turn;
    }
}

/// A batch create stops at its first failure, and its error says nothing
/// about the other specs: some were made before it, some never sent. So
/// the instance is read back. A spec whose listener is there, settled and
/// as desired is done; one whose listener is there but unsettled or
/// different (left half-made by the failure) carries the batch's error, for
/// the next apply to finish; the rest are created one by one, so that one
/// failure does not stop independent creates. If the read-back fails too,
/// every spec carries the batch's error and the next apply sorts it out.
/// The first `announced` actions of `list` were in the failed call (their
/// start already reported); the others start here, unless apply was
/// cancelled.
async fn settle_failed_batch<'a>(
    provider: &Arc<dyn Provider>,
    list: Vec<NodeAction<'a>>,
    announced: usize,
    error: Arc<Error>,
    cancel: &Cancel,
    on_event: &(dyn Fn(Event) + Send + Sync),
) -> Ran<'a> {
    tracing::warn!(kind = error.kind(), "batch create failed; reading back what it made");
    let existing = match provider.list().await {
        Ok(existing) => Some(existing),
        Err(e) => {
            tracing::warn!(kind = e.kind(), "read-back after a failed batch create failed");
            None
        }
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, (node, a)) in list.into_iter().enumerate() {
        if i >= announced {
            if !may_start(cancel, "create", a) {
                out.push((node, a, None));
                continue;
            }
            started(on_event, "create", a);
        }
        let outcome = settle_after_failure(provider, existing.as_deref(), a.spec(), &error).await;
        ended(on_event, "create", a, &outcome);
        out.push((node, a, Some(outcome)));
    }
    out
}

/// What a create that failed (`error`) comes to, given the instance as
/// read back afterwards (`None`: the read-back failed too): its listener
/// there, settled and as desired, is done; none there (a failed job that
/// the vendor removed, a create never made) is created again, once, the
/// plain way; anything else (left half-made, or several) keeps the error
/// for the next apply.
async fn settle_after_failure(
    provider: &Arc<dyn Provider>,
    existing: Option<&[Listener]>,
    spec: &ListenerSpec,
    error: &Arc<Error>,
) -> Outcome {
    let Some(existing) = existing else {
        return Err(Arc::clone(error));
    };
    let there: Vec<&Listener> = existing.iter().filter(|l| key(&l.spec) == key(spec)).collect();
    match there.as_slice() {
        [] => provider.create(spec).await.map_err(Arc::new),
        [l] if l.status.is_settled() && provider.plan_change(&l.spec, spec).is_empty() => Ok(vec![(*l).clone()]),
        _ => Err(Arc::clone(error)),
    }
}

/// Run jobs, `width` at a time; one outcome per action, `None` for an
/// action not started because `cancel` was set. The flag is read when a
/// job is about to start (`buffer_unordered` starts a job only when a slot
/// frees), so a cancel stops every job still queued.
///
/// The jobs' futures are made (not started: a future does nothing until
/// polled) before the stream, as boxed values: the listener executor's
/// future must be `Send`, and rustc cannot prove that for a stream that
/// maps borrowed jobs through a closure ("FnOnce is not general enough").
async fn run_jobs<'a: 'r, 'r>(
    provider: &'r Arc<dyn Provider>,
    jobs: Vec<Job<'a>>,
    width: usize,
    cancel: &'r Cancel,
    on_event: &'r (dyn Fn(Event) + Send + Sync),
) -> Ran<'a> {
    use futures::stream::{self, StreamExt};
    let futures: Vec<BoxFuture<'r, Ran<'a>>> = jobs
        .into_iter()
        .map(|job| -> BoxFuture<'r, Ran<'a>> { Box::pin(run_job(provider, job, cancel, on_event)) })
        .collect();
    let done: Vec<Ran<'a>> = stream::iter(futures).buffer_unordered(width).collect().await;
    done.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use listener_core::{ListenerId, ListenerStatus, PortEntry, Protocol};

    fn caps(multi: bool) -> Capabilities {
        // Only the fields the planner reads matter here.
        let mut c = test_caps();
        c.multi_port_listener = multi;
        c
    }

    fn test_caps() -> Capabilities {
        Capabilities {
            api: "test",
            product: "test",
            protocols: &Protocol::ALL,
            port_ranges: true,
            mutual_tls: true,
            multiple_client_cas: true,
            multiple_server_certificates: true,
            http2: true,
            http3: true,
            sni: true,
            session_persistence: true,
            listener_health_check: true,
            serial_writes: true,
            immutable_fields: &["protocol", "ports"],
            max_listeners_per_instance: 50,
            rate_limit_per_second: 20.0,
            ..Capabilities::BASE
        }
    }

    fn listener(id: &str, spec: ListenerSpec) -> Listener {
        Listener {
            id: ListenerId(id.into()),
            instance: "i-1".into(),
            status: ListenerStatus::Running,
            spec,
            owner: None,
            managed: false,
        }
        .with_owner(Some("default".into()), "default")
    }

    fn owned_by(id: &str, spec: ListenerSpec, owner: Option<&str>) -> Listener {
        listener(id, spec).with_owner(owner.map(String::from), "team-a")
    }

    #[test]
    fn prune_deletes_only_this_owners_listeners_unless_asked_for_all() {
        let c = caps(false);
        let existing = vec![
            owned_by(
                "l-mine",
                ListenerSpec::new("mine", Protocol::Tcp, Ports::Single(80)),
                Some("team-a"),
            ),
            owned_by(
                "l-theirs",
                ListenerSpec::new("theirs", Protocol::Tcp, Ports::Single(81)),
                Some("team-b"),
            ),
            owned_by(
                "l-hand",
                ListenerSpec::new("hand", Protocol::Tcp, Ports::Single(82)),
                None,
            ),
        ];
        let deleted = |prune: Prune| -> Vec<String> {
            Plan::build(&c, &[], &existing, prune)
                .actions
                .iter()
                .filter_map(|a| match a {
                    Action::Delete { current } => Some(current.id.0.clone()),
                    _ => None,
                })
                .collect()
        };
        assert!(deleted(Prune::Off).is_empty());
        assert_eq!(deleted(Prune::Managed), vec!["l-mine"]);
        assert_eq!(deleted(Prune::All), vec!["l-mine", "l-theirs", "l-hand"]);
        assert_eq!(Prune::from(true), Prune::Managed);
        assert_eq!(Prune::from(false), Prune::Off);
        // What the file names is kept even with `All`.
        let file = vec![ListenerSpec::new("theirs", Protocol::Tcp, Ports::Single(81))];
        let plan = Plan::build_for_file(&c, &[], &file, &existing, Prune::All);
        assert_eq!(plan.summary().kept, 1);
        assert_eq!(plan.summary().delete, 2);
    }

    #[test]
    fn one_listener_per_port_vendors_expand_port_lists() {
        let spec = ListenerSpec::new(
            "t",
            Protocol::Tcp,
            Ports::List(vec![
                PortEntry::Port(80),
                PortEntry::Range(PortRange { from: 90, to: 99 }),
            ]),
        );
        let out = expand(&caps(false), &spec);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].ports, Ports::Single(80));
        assert_eq!(out[1].ports, Ports::Range(PortRange { from: 90, to: 99 }));
        assert_eq!(expand(&caps(true), &spec).len(), 1);
    }

    #[test]
    fn plan_matches_by_port_and_classifies() {
        let c = caps(false);
        let a = ListenerSpec::new("a", Protocol::Tcp, Ports::Single(80));
        let mut b = ListenerSpec::new("b", Protocol::Tcp, Ports::Single(81));
        let existing = vec![
            listener("l-a", a.clone()),
            listener("l-b", b.clone()),
            listener("l-x", ListenerSpec::new("x", Protocol::Udp, Ports::Single(53))),
        ];
        b.name = "b2".into();
        let c_spec = ListenerSpec::new("c", Protocol::Http, Ports::Single(8080));
        let plan = Plan::build(&c, &[a, b, c_spec], &existing, false);
        let verbs: Vec<_> = plan.actions.iter().map(Action::verb).collect();
        assert_eq!(verbs, vec!["unmanaged", "update", "create", "unchanged"]);
        assert!(plan.has_changes());
        let pruned = Plan::build(&c, &[], &existing, true);
        assert_eq!(pruned.summary().delete, 3);
    }

    #[test]
    fn prune_keeps_what_a_skipped_file_listener_names_by_ports() {
        let c = caps(false);
        let shop = ListenerSpec::new("shop-https", Protocol::Https, Ports::Single(443));
        let ssh = ListenerSpec::new("ssh", Protocol::Tcp, Ports::Single(22));
        let mut live_shop = shop.clone();
        // Read back under another name: the ports still name it.
        live_shop.name = "renamed-by-hand".into();
        let existing = vec![
            listener("l-shop", live_shop),
            listener("l-ssh", ssh.clone()),
            listener("l-old", ListenerSpec::new("old", Protocol::Tcp, Ports::Single(8080))),
        ];
        // `shop` is skipped on this profile: in the file, not managed here.
        let file = vec![shop, ssh.clone()];
        let plan = Plan::build_for_file(&c, &[ssh], &file, &existing, true);
        let kept: Vec<_> = plan
            .actions
            .iter()
            .filter_map(|a| match a {
                Action::Kept {
                    index,
                    current,
                    matched_by,
                } => Some((*index, current.id.as_str(), *matched_by)),
                _ => None,
            })
            .collect();
        assert_eq!(kept, vec![(0, "l-shop", MatchedBy::Ports)]);
        let deleted: Vec<_> = plan
            .actions
            .iter()
            .filter_map(|a| match a {
                Action::Delete { current } => Some(current.id.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(deleted, vec!["l-old"], "only what the file does not name is pruned");
        assert_eq!(plan.summary().kept, 1);
        // A kept listener is not a change.
        let only_kept = Plan::build_for_file(&c, &[], &file[..1], &existing[..1], true);
        assert!(!only_kept.has_changes());
    }

    #[test]
    fn another_owners_listener_on_the_files_ports_is_kept_never_changed() {
        let c = caps(false);
        let file = vec![ListenerSpec::new("web", Protocol::Http, Ports::Single(80))];
        // Team B's listener on port 80, with other settings than the file's.
        let theirs = listener("l-b", ListenerSpec::new("theirs", Protocol::Http, Ports::Single(80)))
            .with_owner(Some("team-b".into()), "default");
        for prune in [Prune::Off, Prune::Managed, Prune::All] {
            let plan = Plan::build(&c, &file, std::slice::from_ref(&theirs), prune);
            assert!(!plan.has_changes(), "{prune:?}: {plan:?}");
            assert!(
                plan.actions
                    .iter()
                    .any(|a| matches!(a, Action::Kept { index: 0, current, .. } if current.id.0 == "l-b")),
                "{prune:?}: {plan:?}"
            );
        }
        // An unmarked listener (made by hand, or exported) is still taken
        // over by the file that names its ports: that is how an exported
        // file plans nothing.
        let mut unmarked = theirs.clone();
        unmarked.owner = None;
        let plan = Plan::build(&c, &file, &[unmarked], Prune::Off);
        assert!(plan.has_changes());
    }

    #[test]
    fn prune_keeps_a_listener_named_in_the_file_where_names_are_read_back() {
        let c = caps(false);
        let file = vec![ListenerSpec::new("web", Protocol::Http, Ports::Single(80))];
        // The file moved `web` to another port on a vendor whose ports are
        // fixed: the old listener keeps the name, so prune keeps it.
        let existing = vec![listener(
            "l-web",
            ListenerSpec::new("web", Protocol::Http, Ports::Single(81)),
        )];
        let plan = Plan::build(&c, &file, &existing, true);
        assert!(plan.actions.iter().any(|a| matches!(
            a,
            Action::Kept {
                matched_by: MatchedBy::Name,
                ..
            }
        )));
        assert_eq!(plan.summary().delete, 0);
        // Where the vendor never reads the name back, a name proves nothing.
        let mut nameless = caps(false);
        nameless.write_only_fields = &["name"];
        let plan = Plan::build(&nameless, &file, &existing, true);
        assert_eq!(plan.summary().delete, 1);
    }

    #[test]
    fn kept_serializes_as_its_own_action_with_the_file_index() {
        let c = caps(false);
        let file = vec![ListenerSpec::new("shop", Protocol::Https, Ports::Single(443))];
        let existing = vec![listener("l-shop", file[0].clone())];
        let plan = Plan::build_for_file(&c, &[], &file, &existing, true);
        let v = serde_json::to_value(&plan.actions[0]).expect("json");
        assert_eq!(v["action"], "kept");
        assert_eq!(v["index"], 0);
        assert_eq!(v["matched_by"], "ports");
        assert_eq!(v["current"]["id"], "l-shop");
    }

    #[test]
    fn creates_are_batched_by_everything_but_name_and_ports_quic_first() {
        let tcp = |name: &str, port: u32| ListenerSpec::new(name, Protocol::Tcp, Ports::Single(port));
        let mut slow = tcp("c", 82);
        slow.description = Some("different".into());
        let specs = [
            tcp("a", 80),
            ListenerSpec::new("h3", Protocol::Quic, Ports::Single(443)),
            slow,
            tcp("b", 81),
        ];
        let actions: Vec<Action> = specs
            .iter()
            .enumerate()
            .map(|(index, spec)| Action::Create {
                index,
                spec: spec.clone(),
            })
            .collect();
        let groups = batch_groups(actions.iter().collect());
        let names: Vec<Vec<&str>> = groups
            .iter()
            .map(|g| g.iter().map(|a| a.spec().name.as_str()).collect())
            .collect();
        assert_eq!(names, vec![vec!["h3"], vec!["a", "b"], vec!["c"]]);
    }

    #[test]
    fn immutable_change_plans_a_replacement() {
        let c = caps(false);
        let current = ListenerSpec::new("a", Protocol::Http, Ports::Single(80));
        let mut desired = current.clone();
        desired.protocol = Protocol::Tcp;
        let plan = Plan::build(&c, &[desired], &[listener("l-a", current)], false);
        match &plan.actions[0] {
            Action::Replace { fields, .. } => assert_eq!(fields, &vec!["protocol".to_string()]),
            other => panic!("expected replace, got {other:?}"),
        }
    }
}
