//! A run of creates on one GA accelerator in about one call per listener:
//! GA's part of [`listener_core::run`], which drives the run.
//!
//! GA changes one listener of an accelerator at a time: while any of its
//! listeners is `init`, `updating`, `configuring` or `deleting`, a create
//! is refused with `StateError.Accelerator` before anything is done (vendor
//! factsheet §6 and §8; the emulator's `check_idle`). Creating listener
//! after listener the plain way therefore costs two calls each: the create,
//! and at least one `DescribeListener` that sees it `active`.
//!
//! Two facts make most of those reads unnecessary:
//! - **Acceptance is a confirmation that the work ended.** Once the
//!   accelerator accepts create *k+1*, create *k* is over: `active`, or
//!   dropped (GA has no failure state; a failed create vanishes). So create
//!   *k+1* is sent when the last similar create took to finish on this
//!   provider (the poller's memory, [`Deadline::remembered`]), not after a
//!   read. Sent too early, it is refused as busy, which changes nothing on
//!   GA's side, and the client sends it again with the same `ClientToken`
//!   every poll interval until the deadline (as every GA write does).
//! - **One listing confirms several creates.** `ListListeners` of the bound
//!   accelerator (up to 50 a page, GA's maximum and its default listener
//!   quota) shows every listener made so far with its `State`. Every
//!   [`run::CONFIRM_EVERY`] creates, and before anything else is written, the
//!   accelerator is listed (on the poller's schedule, first at the
//!   remembered time) until no listener in flight is still `init`. A
//!   listener found `active` is made: the listing item is its read-back
//!   (`DescribeListener`'s answer but the ACL fields) and, listed for the
//!   bound `AcceleratorId` and carrying it, its ownership proof. A listener
//!   missing from the listing is followed the plain way
//!   ([`status::wait_active`]): one that vanished is reported as a failed
//!   create, as GA shows it.
//!
//! Only specs without an access section and without additional
//! certificates go this way (ACLs and certificates are written after the
//! create, and ACLs read back by describing the listener); any other
//! spec, and the first create on a provider that has timed none yet, is
//! created the plain way ([`Provider::create`]) after the creates in flight
//! are confirmed. Nothing is weaker than a plain create: each create has
//! its own `ClientToken` made once, each is reported made only once GA
//! lists it `active` on the bound accelerator, every create sent is
//! confirmed before the run returns (also after a cancel), and the cancel
//! flag is asked right before each create is sent.

use alibaba_api::ClientToken;
use async_trait::async_trait;
use listener_core::ownership;
use listener_core::run::{self, InFlight, SerialRun};
use listener_core::{CreateTurns, Deadline, Listener, ListenerId, ListenerSpec, Provider, Result, WaitOp, WriteLock};
use serde_json::Value;

use crate::{certs, status, translate, GaProvider, API};

/// [`Provider::create_each`] for GA: see the module.
pub(crate) async fn create_each(p: &GaProvider, specs: &[ListenerSpec], turns: &dyn CreateTurns) {
    run::create_each(&Run(p), specs, turns).await
}

/// The GA side of a run of creates.
struct Run<'a>(&'a GaProvider);

#[async_trait]
impl SerialRun for Run<'_> {
    type Params = Value;
    type Token = ClientToken;
    /// The new `ListenerId`.
    type Sent = String;

    fn writes(&self) -> &WriteLock {
        &self.0.writes
    }

    fn deadline(&self) -> Deadline {
        self.0.config.wait.start(API, WaitOp::Create)
    }

    /// Any spec without an access section (ACLs are written after the
    /// create and read back by describing the listener) and without
    /// additional certificates (associated after the create, as ACLs).
    fn plain(&self, spec: &ListenerSpec) -> Option<Value> {
        let p = self.0;
        let certificates = certs::takes_certificates(spec) && !certs::wanted(spec).is_empty();
        if spec.access.is_some() || certificates || p.refuse(spec).is_err() {
            return None;
        }
        translate::log_port_quota(spec);
        Some(translate::create_params(
            &p.config.accelerator_id,
            spec,
            &p.config.aliases,
            &p.config.owner,
        ))
    }

    async fn create_alone(&self, spec: &ListenerSpec) -> Result<Vec<Listener>> {
        self.0.create(spec).await
    }

    fn token(&self) -> ClientToken {
        let token = self.0.client.new_token();
        tracing::info!(accelerator = %self.0.config.accelerator_id, token = %token, "creating GA listener (run)");
        token
    }

    /// GA's client sends a busy-refused write again every poll interval
    /// until the deadline, as every GA write.
    async fn send(&self, params: &Value, token: &ClientToken, deadline: &Deadline) -> Result<String> {
        self.0.client.create_listener(params, token, deadline).await
    }

    async fn list(&self) -> Result<Vec<Value>> {
        self.0.client.list_listeners(&self.0.config.accelerator_id).await
    }

    fn find<'a>(&self, items: &'a [Value], sent: &String) -> Option<&'a Value> {
        items
            .iter()
            .find(|l| l.get("ListenerId").and_then(Value::as_str) == Some(sent.as_str()))
    }

    fn unsettled(&self, item: &Value) -> Option<String> {
        let state = status::state_of(item);
        (!status::is_active(state)).then(|| state.to_string())
    }

    async fn read_back(&self, id: &String, item: &Value, _items: &[Value]) -> Result<Vec<Listener>> {
        self.proved(id, item)
    }

    /// A create the listing did not show: followed the plain way (a
    /// listener that vanished is a failed create).
    async fn settle_one(&self, s: &InFlight<String>) -> Result<Vec<Listener>> {
        let answer = status::wait_active(&self.0.client, &s.sent, run::OPERATION, &s.deadline).await?;
        self.proved(&s.sent, &answer)
    }
}

impl Run<'_> {
    /// An active listener from its listing item (or describe answer): the
    /// ownership proof is the `AcceleratorId` it carries.
    fn proved(&self, id: &str, item: &Value) -> Result<Vec<Listener>> {
        let p = self.0;
        ownership::claim(
            API,
            &p.config.accelerator_id,
            &ListenerId(id.to_string()),
            item.get("AcceleratorId").and_then(Value::as_str).or(Some("")),
        )?;
        Ok(vec![p.read(item)?])
    }
}
