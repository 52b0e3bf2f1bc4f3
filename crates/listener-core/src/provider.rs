//! The one trait every cloud adapter implements.
//!
//! The unit is the **listener**, not the load balancer: platform teams buy
//! load balancers and accelerators rarely and by hand, but change listeners
//! (ports, certificates, mutual TLS) every week, and the listener is where the
//! four APIs differ most. An adapter is bound to one instance (connection,
//! load balancer, accelerator) when it is built, so every call below is
//! scoped to that instance.
//!
//! `check` is pure and runs before anything is sent; `create` and `update`
//! call it again themselves, so a caller cannot skip it by accident.

use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::capabilities::Capabilities;
use crate::check::Rejection;
use crate::diff::{diff_specs, FieldChange};
use crate::error::{Error, Result};
use crate::resources::{PoolProvider, RuleProvider};
use crate::spec::ListenerSpec;

/// A vendor listener ID (`listener-…`, `lbl-…`, `lsn-…`, `lsr-…`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ListenerId(pub String);

impl ListenerId {
    /// The ID as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ListenerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for ListenerId {
    fn from(s: &str) -> Self {
        ListenerId(s.to_string())
    }
}

impl From<String> for ListenerId {
    fn from(s: String) -> Self {
        ListenerId(s)
    }
}

/// Lifecycle state of a listener, normalised across vendors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListenerStatus {
    /// Being created; not serving yet.
    Creating,
    /// Serving with its current configuration.
    Running,
    /// A change is being applied.
    Updating,
    /// Being deleted.
    Deleting,
    /// Created but switched off.
    Stopped,
    /// A state the adapter does not know; the vendor's word is kept.
    Other(String),
}

impl Listener {
    /// Record the owner read from the listener's mark, and whether it is
    /// `ours` (the profile's owner).
    pub fn with_owner(mut self, owner: Option<String>, ours: &str) -> Listener {
        self.managed = owner.as_deref() == Some(ours);
        self.owner = owner;
        self
    }
}

impl ListenerStatus {
    /// Whether no asynchronous work is pending on the listener.
    pub fn is_settled(&self) -> bool {
        matches!(self, ListenerStatus::Running | ListenerStatus::Stopped)
    }
}

/// A listener as the cloud reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Listener {
    /// The vendor's listener ID.
    pub id: ListenerId,
    /// The instance (connection, group, load balancer, accelerator) it is on.
    pub instance: String,
    /// Its lifecycle state.
    pub status: ListenerStatus,
    /// The configuration read back from the cloud, with certificate and
    /// target IDs mapped back to aliases where the profile knows them.
    /// The management mark is stripped (see [`crate::mark`]).
    pub spec: ListenerSpec,
    /// The owner of the listener's management mark, `None` when it carries
    /// none (made outside this crate, or exported and never re-created).
    pub owner: Option<String>,
    /// Whether the mark is this profile's owner's: what `--prune` may
    /// delete without `--prune-unmanaged`.
    pub managed: bool,
}

/// Plan for changing an existing listener into a desired spec.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangePlan {
    /// Every field whose desired value differs from the cloud's.
    pub changes: Vec<FieldChange>,
    /// The subset that the vendor cannot change in place.
    pub immutable: Vec<String>,
}

impl ChangePlan {
    /// Whether nothing differs.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Whether the change needs a replacement (delete and create).
    pub fn needs_replace(&self) -> bool {
        !self.immutable.is_empty()
    }
}

/// One cloud API's listeners on one instance.
#[async_trait]
pub trait Provider: Send + Sync + fmt::Debug {
    /// What this provider supports, declared once.
    fn capabilities(&self) -> &Capabilities;

    /// The instance this provider is bound to.
    fn instance(&self) -> &str;

    /// Every reason this vendor cannot take `spec`, without any network call.
    /// Includes neutral validation, alias resolution against the profile and
    /// every vendor rule. Empty means `create` will send the request.
    fn check(&self, spec: &ListenerSpec) -> Vec<Rejection>;

    /// Rules that involve several listeners of one instance (shared port
    /// spaces, per-instance quotas). Each rejection is paired with the index
    /// of the spec it concerns. The default checks each spec alone.
    fn check_set(&self, specs: &[ListenerSpec]) -> Vec<(usize, Rejection)> {
        crate::check::check_each(specs, |s| self.check(s))
    }

    /// Create the listener(s) for `spec` and wait until they run. Vendors
    /// that make one listener per port return one entry per port. Safe to
    /// retry: a create whose answer was lost adopts what it made.
    async fn create(&self, spec: &ListenerSpec) -> Result<Vec<Listener>>;

    /// Create several specs, in as few calls as the API allows. The default
    /// creates them one by one; adapters whose create call takes several
    /// ports with a name each (CLB) merge specs that differ only in name and
    /// port. Returns every listener made, in no particular order.
    async fn create_batch(&self, specs: &[ListenerSpec]) -> Result<Vec<Listener>> {
        let mut out = Vec::new();
        for spec in specs {
            out.extend(self.create(spec).await?);
        }
        Ok(out)
    }

    /// Create `specs` one after another, on an instance that takes one
    /// write at a time (`serial_writes`), asking `turns` right before each
    /// create is sent ([`CreateTurns::may_start`]: a cancelled apply stops
    /// here, between creates) and telling it how each one ended
    /// ([`CreateTurns::ended`], exactly once for every create that
    /// started). Unlike [`Provider::create_batch`], a failure does not stop
    /// the run: each create has its own outcome.
    ///
    /// The default creates and waits for each in turn. An adapter may
    /// instead let the instance's acceptance of the next create confirm
    /// that the previous one's work is over, and confirm several creates
    /// with one read of the instance (fewer calls, the same time); it must
    /// still report a create as made only once the vendor shows it made,
    /// and confirm every create it sent before returning.
    async fn create_each(&self, specs: &[ListenerSpec], turns: &dyn CreateTurns) {
        for (index, spec) in specs.iter().enumerate() {
            if turns.may_start(index) {
                turns.ended(index, self.create(spec).await);
            }
        }
    }

    /// Read one listener.
    async fn get(&self, id: &ListenerId) -> Result<Listener>;

    /// Every listener on the instance.
    async fn list(&self) -> Result<Vec<Listener>>;

    /// Change `current` in place into `desired` and wait until it runs.
    /// Fails with [`Error::ImmutableField`] when a field the vendor cannot
    /// change differs. Like every write by ID, it first asks the vendor
    /// where `current.id` is and sends nothing unless that is the bound
    /// instance ([`crate::ownership`]): [`Error::NotFound`] when the vendor
    /// does not know it, [`Error::NotOwned`] when it is elsewhere.
    async fn update(&self, current: &Listener, desired: &ListenerSpec) -> Result<Listener>;

    /// Delete a listener of the bound instance and wait until it is gone.
    ///
    /// The ID must be on the bound instance ([`crate::ownership`]): one the
    /// vendor does not know there is [`Error::NotFound`], one it reports on
    /// another instance is [`Error::NotOwned`], and nothing is sent in
    /// either case. Once the delete was sent, a listener that disappears
    /// (a repeated call after a lost answer) is success. Callers that
    /// delete what they just listed (the plan engine) may take `NotFound`
    /// as "already gone"; never `NotOwned`.
    async fn delete(&self, id: &ListenerId) -> Result<()>;

    /// Compare a listener with a desired spec. Only fields set in `desired`
    /// are compared (unset means "vendor default, don't care"), and fields
    /// the vendor never reports back are skipped.
    fn plan_change(&self, current: &ListenerSpec, desired: &ListenerSpec) -> ChangePlan {
        plan_change(self.capabilities(), current, desired)
    }

    /// The backend pools of the instance, when the capabilities claim
    /// `pools`. A sibling trait rather than more methods here, so that an
    /// adapter gains a kind by implementing one trait and flipping one
    /// flag, and a caller never meets a method that exists but cannot work
    /// (see [`crate::resources`]).
    fn pools(&self) -> Option<&dyn PoolProvider> {
        None
    }

    /// The rules (routes) on the instance's listeners, when the
    /// capabilities claim `rules` (see [`crate::resources`]).
    fn rules(&self) -> Option<&dyn RuleProvider> {
        None
    }
}

/// What [`Provider::create_each`] asks and tells its caller (apply), one
/// create at a time; `index` is the position in the specs it was given.
pub trait CreateTurns: Send + Sync {
    /// Whether create `index` may be sent now; asked right before it is
    /// sent, once. `false` (apply was cancelled) means it is not sent and
    /// has no outcome; `true` means it started.
    fn may_start(&self, index: usize) -> bool;

    /// How create `index` ended: the listeners it made, or why it failed.
    fn ended(&self, index: usize, outcome: Result<Vec<Listener>>);
}

/// [`Provider::plan_change`] for a given set of capabilities.
pub fn plan_change(caps: &Capabilities, current: &ListenerSpec, desired: &ListenerSpec) -> ChangePlan {
    let own_extension = format!("extensions.{}", caps.api);
    let changes: Vec<FieldChange> = diff_specs(current, desired)
        .into_iter()
        .filter(|c| !caps.is_write_only(&c.path))
        // A portable file carries sections for other clouds' adapters; they
        // mean nothing here and must never show as drift.
        .filter(|c| {
            !crate::capabilities::path_within(&c.path, "extensions")
                || crate::capabilities::path_within(&c.path, &own_extension)
        })
        .collect();
    let immutable = changes
        .iter()
        .filter(|c| caps.is_immutable(&c.path))
        .map(|c| c.path.clone())
        .collect();
    ChangePlan { changes, immutable }
}

/// The first immutable change as an [`Error::ImmutableField`], for adapters'
/// `update` to return before sending anything.
pub fn refuse_immutable(caps: &Capabilities, current: &Listener, desired: &ListenerSpec) -> Result<()> {
    let plan = plan_change(caps, &current.spec, desired);
    match plan.immutable.into_iter().next() {
        Some(field) => Err(Error::ImmutableField {
            vendor: caps.api,
            field,
            listener_id: current.id.0.clone(),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Ports, Protocol};

    fn caps() -> Capabilities {
        Capabilities {
            api: "cloud-a",
            immutable_fields: &["ports"],
            write_only_fields: &["forwarding.default_target"],
            ..crate::capabilities::tests::sample()
        }
    }

    #[test]
    fn other_clouds_extension_sections_never_drift() {
        let current = ListenerSpec::new("a", Protocol::Tcp, Ports::Single(80));
        let mut desired = current.clone();
        desired.extensions.insert("cloud-b", &serde_json::json!({"knob": 1}));
        assert!(plan_change(&caps(), &current, &desired).is_empty());
        desired.extensions.insert("cloud-a", &serde_json::json!({"knob": 2}));
        let plan = plan_change(&caps(), &current, &desired);
        assert_eq!(plan.changes.len(), 1);
        assert_eq!(plan.changes[0].path, "extensions.cloud-a.knob");
    }

    #[test]
    fn write_only_and_immutable_fields_are_classified() {
        let current = ListenerSpec::new("a", Protocol::Tcp, Ports::Single(80));
        let mut desired = current.clone();
        desired.forwarding = Some(crate::spec::Forwarding {
            backend_protocol: None,
            default_target: Some("pool".into()),
        });
        assert!(plan_change(&caps(), &current, &desired).is_empty());
        desired.ports = Ports::Single(81);
        let plan = plan_change(&caps(), &current, &desired);
        assert!(plan.needs_replace());
        assert_eq!(plan.immutable, vec!["ports".to_string()]);
    }

    #[test]
    fn write_only_target_alias_is_not_required() {
        let mut spec = ListenerSpec::new("a", Protocol::Http, Ports::Single(80));
        spec.forwarding = Some(crate::spec::Forwarding {
            backend_protocol: None,
            default_target: Some("pool".into()),
        });
        let aliases = crate::Aliases::default();
        let mut r = crate::Rejections::new("cloud-a");
        aliases.check_spec_for(&caps(), &spec, &mut r);
        assert!(r.into_vec().is_empty());
        let mut r = crate::Rejections::new("cloud-a");
        aliases.check_spec(&spec, &mut r);
        assert_eq!(r.into_vec()[0].field, "forwarding.default_target");
    }
}
