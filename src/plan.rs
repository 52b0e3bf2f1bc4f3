//! Plans and their execution: the cloud is the state.
//!
//! A plan compares the listeners a file declares with the listeners that
//! exist on the instance, matched by transport and port (the one identity
//! every vendor enforces: two listeners cannot share a port). There is no
//! state file to drift: running `apply` again after a crash re-reads the
//! cloud and plans only what is still missing, which is what makes an
//! interrupted apply converge.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde::Serialize;

use listener_core::{
    plan_change, Capabilities, ChangePlan, Error, FieldChange, Listener, ListenerSpec, PortRange, Ports, Provider,
    Transport,
};

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
        }
    }

    /// The spec (desired or current) the action is about.
    pub fn spec(&self) -> &ListenerSpec {
        match self {
            Action::Create { spec, .. } => spec,
            Action::Update { desired, .. } | Action::Replace { desired, .. } => desired,
            Action::Unchanged { current, .. } | Action::Delete { current } | Action::Unmanaged { current } => {
                &current.spec
            }
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
}

/// Everything apply would do on one instance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// The actions, deletes first, then replacements, updates and creates.
    pub actions: Vec<Action>,
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

impl Plan {
    /// Compare the file's listeners with the cloud's, classifying each
    /// change by the capabilities' immutable fields alone.
    pub fn build(caps: &Capabilities, desired: &[ListenerSpec], existing: &[Listener], prune: bool) -> Plan {
        Plan::build_with(caps, &|c, d| plan_change(caps, c, d), desired, existing, prune)
    }

    /// [`Plan::build`] classifying each change with the provider's own
    /// [`Provider::plan_change`], which an adapter overrides where a field
    /// is immutable in one direction only (CLB's SNI can be switched on in
    /// place, never off).
    pub fn build_for(provider: &dyn Provider, desired: &[ListenerSpec], existing: &[Listener], prune: bool) -> Plan {
        let change = |c: &ListenerSpec, d: &ListenerSpec| provider.plan_change(c, d);
        Plan::build_with(provider.capabilities(), &change, desired, existing, prune)
    }

    fn build_with(
        caps: &Capabilities,
        change_of: &dyn Fn(&ListenerSpec, &ListenerSpec) -> ChangePlan,
        desired: &[ListenerSpec],
        existing: &[Listener],
        prune: bool,
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
            .map(|(_, l)| {
                if prune {
                    Action::Delete { current: l.clone() }
                } else {
                    Action::Unmanaged { current: l.clone() }
                }
            })
            .collect();
        actions.extend(replace_or_update);
        actions.extend(creates);
        actions.extend(unchanged);
        Plan { actions }
    }

    /// Whether apply would change anything.
    pub fn has_changes(&self) -> bool {
        self.actions.iter().any(Action::is_change)
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
            }
        }
        s
    }

    /// The replacements, which apply refuses unless allowed.
    pub fn replacements(&self) -> impl Iterator<Item = &Action> {
        self.actions.iter().filter(|a| matches!(a, Action::Replace { .. }))
    }
}

/// Read the instance and plan against it.
pub async fn plan(provider: &dyn Provider, desired: &[ListenerSpec], prune: bool) -> Result<Plan, Error> {
    let existing = provider.list().await?;
    Ok(Plan::build_for(provider, desired, &existing, prune))
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
    /// Hand all creates to [`Provider::create_batch`] so the adapter can
    /// put several listeners in one call where the API allows it. A batch
    /// stops at its first failure; apply then reads the instance back,
    /// counts what was made, and creates what is missing one by one.
    pub batch: bool,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            allow_replace: false,
            max_concurrency: 8,
            batch: true,
        }
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
        }
    }
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
        /// IDs of the listeners now in place (empty for a delete).
        ids: Vec<String>,
    },
    /// An action failed; apply goes on with independent actions.
    Failed {
        /// `create`, `update`, `replace`, `delete`.
        verb: &'static str,
        /// The listener name.
        name: String,
        /// The error kind (see `Error::kind`).
        kind: &'static str,
        /// The error, displayed.
        message: String,
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

/// One unit of work for the executor.
enum Job<'a> {
    Delete(&'a Action),
    Update(&'a Action),
    Create(Vec<&'a Action>),
}

/// Carry out a plan. Refuses before any change when the plan replaces and
/// `allow_replace` is off. Deletes (and the delete half of replacements) go
/// first because they free ports; then updates and creates. Writes run one
/// at a time on vendors that serialise writes per instance, concurrently up
/// to `max_concurrency` elsewhere. Failures of single actions are collected
/// and do not stop independent ones; re-running apply retries what is left.
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

    // Phase 1: free ports.
    let deletes: Vec<Job> = plan
        .actions
        .iter()
        .filter(|a| matches!(a, Action::Delete { .. } | Action::Replace { .. }))
        .map(Job::Delete)
        .collect();
    // The replacements whose delete succeeded, by identity: a multi-port
    // spec expands into several replacements sharing one file index, and
    // only those whose port was freed may be created again.
    let mut replaced_ok: Vec<&Action> = Vec::new();
    for (action, outcome) in run_jobs(&provider, deletes, width, on_event).await {
        match (action, outcome) {
            (a @ Action::Replace { .. }, Ok(_)) => replaced_ok.push(a),
            (Action::Delete { .. }, Ok(_)) => report.done += 1,
            (a, Err(e)) => report.failed.push(Failure::new(&a.spec().name, &e)),
            _ => {}
        }
    }

    // Phase 2: updates and creates (including the create half of replacements
    // whose delete succeeded).
    let mut jobs: Vec<Job> = plan
        .actions
        .iter()
        .filter(|a| matches!(a, Action::Update { .. }))
        .map(Job::Update)
        .collect();
    let creates: Vec<&Action> = plan
        .actions
        .iter()
        .filter(|a| match a {
            Action::Create { .. } => true,
            Action::Replace { .. } => replaced_ok.iter().any(|r| std::ptr::eq(*r, *a)),
            _ => false,
        })
        .collect();
    if options.batch && creates.len() > 1 {
        jobs.push(Job::Create(creates));
    } else {
        jobs.extend(creates.into_iter().map(|a| Job::Create(vec![a])));
    }
    for (action, outcome) in run_jobs(&provider, jobs, width, on_event).await {
        match outcome {
            Ok(made) => {
                report.done += 1;
                let index = action_index(action);
                report.listeners.extend(made.into_iter().map(|l| (index, l)));
            }
            Err(e) => report.failed.push(Failure::new(&action.spec().name, &e)),
        }
    }
    report
        .listeners
        .sort_by(|(i, a), (j, b)| i.cmp(j).then(a.spec.ports.ranges().cmp(&b.spec.ports.ranges())));
    Ok(report)
}

fn action_index(a: &Action) -> usize {
    match a {
        Action::Create { index, .. }
        | Action::Update { index, .. }
        | Action::Replace { index, .. }
        | Action::Unchanged { index, .. } => *index,
        Action::Delete { .. } | Action::Unmanaged { .. } => usize::MAX,
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

/// Carry out one job; one outcome per action of the job, in its order.
async fn run_job(provider: &Arc<dyn Provider>, job: &Job<'_>) -> Vec<Outcome> {
    let one = |r: Result<Vec<Listener>, Error>| vec![r.map_err(Arc::new)];
    match job {
        Job::Delete(Action::Delete { current } | Action::Replace { current, .. }) => {
            one(provider.delete(&current.id).await.map(|()| Vec::new()))
        }
        Job::Update(Action::Update { current, desired, .. }) => {
            one(provider.update(current, desired).await.map(|l| vec![l]))
        }
        Job::Create(list) if list.len() == 1 => one(provider.create(list[0].spec()).await),
        Job::Create(list) => {
            let specs: Vec<ListenerSpec> = list.iter().map(|a| a.spec().clone()).collect();
            match provider.create_batch(&specs).await {
                Ok(made) => list
                    .iter()
                    .map(|a| Ok(made.iter().filter(|l| belongs(a.spec(), &l.spec)).cloned().collect()))
                    .collect(),
                Err(e) => settle_failed_batch(provider, list, Arc::new(e)).await,
            }
        }
        Job::Delete(_) | Job::Update(_) => vec![Ok(Vec::new())],
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
async fn settle_failed_batch(provider: &Arc<dyn Provider>, list: &[&Action], error: Arc<Error>) -> Vec<Outcome> {
    tracing::warn!(kind = error.kind(), "batch create failed; reading back what it made");
    let existing = match provider.list().await {
        Ok(existing) => existing,
        Err(e) => {
            tracing::warn!(kind = e.kind(), "read-back after a failed batch create failed");
            return list.iter().map(|_| Err(Arc::clone(&error))).collect();
        }
    };
    let mut out = Vec::with_capacity(list.len());
    for a in list {
        let spec = a.spec();
        let there: Vec<&Listener> = existing.iter().filter(|l| key(&l.spec) == key(spec)).collect();
        out.push(match there.as_slice() {
            [] => provider.create(spec).await.map_err(Arc::new),
            [l] if l.status.is_settled() && provider.plan_change(&l.spec, spec).is_empty() => Ok(vec![(*l).clone()]),
            _ => Err(Arc::clone(&error)),
        });
    }
    out
}

/// Run jobs, `width` at a time, reporting progress; one outcome per action.
async fn run_jobs<'a>(
    provider: &Arc<dyn Provider>,
    jobs: Vec<Job<'a>>,
    width: usize,
    on_event: &(dyn Fn(Event) + Send + Sync),
) -> Vec<(&'a Action, Outcome)> {
    use futures::stream::{self, StreamExt};
    let done: Vec<Vec<(&'a Action, Outcome)>> = stream::iter(jobs)
        .map(|job| async move {
            let actions: Vec<&'a Action> = match &job {
                Job::Delete(a) | Job::Update(a) => vec![*a],
                Job::Create(list) => list.clone(),
            };
            let verb = match &job {
                Job::Delete(_) => "delete",
                Job::Update(_) => "update",
                Job::Create(_) => "create",
            };
            for a in &actions {
                on_event(Event::Started {
                    verb,
                    name: a.spec().name.clone(),
                    ports: a.spec().ports.to_string(),
                });
            }
            let outcomes = run_job(provider, &job).await;
            for (a, outcome) in actions.iter().zip(&outcomes) {
                match outcome {
                    Ok(made) => on_event(Event::Finished {
                        verb,
                        name: a.spec().name.clone(),
                        ids: made.iter().map(|l| l.id.0.clone()).collect(),
                    }),
                    Err(e) => on_event(Event::Failed {
                        verb,
                        name: a.spec().name.clone(),
                        kind: e.kind(),
                        message: e.to_string(),
                    }),
                }
            }
            actions.into_iter().zip(outcomes).collect()
        })
        .buffer_unordered(width)
        .collect()
        .await;
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
            multi_port_listener: false,
            batch_create: false,
            port_ranges: true,
            port_limits: (1, 65535),
            mutual_tls: true,
            multiple_client_cas: true,
            multiple_server_certificates: true,
            tls_policy: false,
            http2: true,
            http3: true,
            sni: true,
            session_persistence: true,
            listener_health_check: true,
            serial_writes: true,
            idempotency_token: false,
            requires_default_target: false,
            immutable_fields: &["protocol", "ports"],
            write_only_fields: &[],
            max_listeners_per_instance: 50,
            rate_limit_per_second: 20.0,
        }
    }

    fn listener(id: &str, spec: ListenerSpec) -> Listener {
        Listener {
            id: ListenerId(id.into()),
            instance: "i-1".into(),
            status: ListenerStatus::Running,
            spec,
        }
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
