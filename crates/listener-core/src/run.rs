//! A run of creates on an instance that takes one write at a time, in
//! about one call per listener.
//!
//! Some APIs (ALB, GA) have no multi-listener create and refuse any write
//! while an earlier one on the same instance is still being carried out,
//! before doing anything (ALB `IncorrectStatus.LoadBalancer`, GA
//! `StateError.Accelerator`). Creating listener after listener the plain
//! way costs two calls each: the create, and at least one read that sees
//! it made. Two facts make most of those reads unnecessary, and this
//! module is where they are used, once, for every such adapter:
//!
//! - **Acceptance says the last write ended.** Once the instance accepts
//!   create *k+1*, create *k*'s work is over (made, or failed and gone).
//!   So create *k+1* is sent when the last similar create took to finish
//!   on this provider (the poller's memory, [`Deadline::remembered`]), not
//!   after a read. Sent too early, it is refused as busy, which changes
//!   nothing on the vendor's side: it is sent again with the same token,
//!   after the creates in flight are confirmed (or, with none in flight,
//!   after a poll interval).
//! - **One listing confirms several creates.** A listing of the bound
//!   instance shows every listener made so far with its status. Every
//!   [`CONFIRM_EVERY`] creates, before anything else is written, and at
//!   the end of the run (also after a cancel), the instance is listed on
//!   the poller's schedule until no listener in flight is still being
//!   made. The adapter turns a listing item into the listener's read-back
//!   and ownership proof; one the listing does not show is followed the
//!   plain way, so a failed create is reported failed.
//!
//! Only *plain* specs go this way, those whose read-back the listing gives
//! in full ([`SerialRun::plain`]); any other spec, and the first create on
//! a provider that has timed none yet, is created alone
//! ([`SerialRun::create_alone`]) after the creates in flight are
//! confirmed. The run holds the instance's write lock while its own
//! creates are in flight, as a plain create holds it across its wait, and
//! lets go for a create alone, which takes the lock itself.

use std::time::Instant;

use async_trait::async_trait;
use serde_json::Value;

use crate::lock::WriteLock;
use crate::provider::CreateTurns;
use crate::wait::{Deadline, Poll};
use crate::{Error, Listener, ListenerSpec, Result};

/// Creates sent between two listings of the instance: each listing
/// confirms this many creates. Two keeps the calls per listener near 1.5
/// (a create each, a listing every other one) while a finished create is
/// reported at most one create late.
pub const CONFIRM_EVERY: usize = 2;

/// The operation named in waits and timeouts.
pub const OPERATION: &str = "create listener";

/// The step of a create the poller remembers the duration of.
const STEP: &str = "listener";

/// A create the instance accepted and that is not confirmed yet.
pub struct InFlight<S> {
    /// Its position in the specs of the run.
    pub index: usize,
    /// The create's own deadline.
    pub deadline: Deadline,
    /// When the vendor accepted it.
    pub answered: Instant,
    /// What the vendor answered (the listener's ID, a job).
    pub sent: S,
}

/// What an adapter supplies for a run: how to send one create, how to list
/// the instance, and what a listing item means.
#[async_trait]
pub trait SerialRun: Sync {
    /// The parameters of one create.
    type Params: Send + Sync;
    /// The idempotency token of one create, made once, sent on every try.
    type Token: Send + Sync;
    /// What an accepted create answered.
    type Sent: Send + Sync;

    /// The bound instance's write lock.
    fn writes(&self) -> &WriteLock;

    /// A new create deadline (the profile's wait settings).
    fn deadline(&self) -> Deadline;

    /// The create parameters of a spec whose read-back the listing gives
    /// in full, `None` for any other spec (including one the adapter
    /// refuses: the create alone reports why).
    fn plain(&self, spec: &ListenerSpec) -> Option<Self::Params>;

    /// Create `spec` the plain way (its own wait and read-back).
    async fn create_alone(&self, spec: &ListenerSpec) -> Result<Vec<Listener>>;

    /// A new token for one create.
    fn token(&self) -> Self::Token;

    /// Send one create. [`Error::Busy`] means the instance is still
    /// working on an earlier write and nothing was done.
    async fn send(&self, params: &Self::Params, token: &Self::Token, deadline: &Deadline) -> Result<Self::Sent>;

    /// Every listener of the bound instance, as the listing gives them.
    async fn list(&self) -> Result<Vec<Value>>;

    /// The listing item of an accepted create, if it is listed.
    fn find<'a>(&self, items: &'a [Value], sent: &Self::Sent) -> Option<&'a Value>;

    /// The state of a listed listener whose work is not over, `None` once
    /// it is made.
    fn unsettled(&self, item: &Value) -> Option<String>;

    /// The made listener from its listing item (`items` is the whole
    /// listing): its read-back and its ownership proof.
    async fn read_back(&self, sent: &Self::Sent, item: &Value, items: &[Value]) -> Result<Vec<Listener>>;

    /// Follow a create the listing did not show the plain way, until its
    /// deadline: made (its read-back), or why it failed.
    async fn settle_one(&self, in_flight: &InFlight<Self::Sent>) -> Result<Vec<Listener>>;
}

/// [`crate::Provider::create_each`] for an adapter with one write at a
/// time per instance: see the module.
pub async fn create_each<R: SerialRun + ?Sized>(r: &R, specs: &[ListenerSpec], turns: &dyn CreateTurns) {
    let mut pending: Vec<InFlight<R::Sent>> = Vec::new();
    let mut writing = Some(r.writes().hold().await);
    for (index, spec) in specs.iter().enumerate() {
        let before = r.deadline();
        let (Some(params), Some(took)) = (r.plain(spec), before.remembered(STEP)) else {
            confirm(r, std::mem::take(&mut pending), turns).await;
            if turns.may_start(index) {
                // The lock is not re-entrant: the create alone takes it.
                drop(writing.take());
                turns.ended(index, r.create_alone(spec).await);
                writing = Some(r.writes().hold().await);
            }
            continue;
        };
        if pending.len() >= CONFIRM_EVERY {
            confirm(r, std::mem::take(&mut pending), turns).await;
        } else if let Some(last) = pending.last() {
            // The instance takes the next write once the last create is
            // over; a deadline that passes here is met by the send below.
            let _ = before.sleep_until_at(last.answered + took, OPERATION).await;
        }
        if !turns.may_start(index) {
            continue;
        }
        let deadline = r.deadline();
        match send(r, &params, &deadline, &mut pending, turns).await {
            Ok(sent) => pending.push(InFlight {
                index,
                deadline,
                answered: Instant::now(),
                sent,
            }),
            Err(e) => turns.ended(index, Err(e)),
        }
    }
    confirm(r, pending, turns).await;
    drop(writing);
}

/// One create with one token for every try. A busy refusal that outlasts
/// the client's own retries: the creates in flight are confirmed (the
/// instance is then idle as far as this run goes), or, with none in
/// flight, the poll interval is waited; then the same request again, until
/// the deadline.
async fn send<R: SerialRun + ?Sized>(
    r: &R,
    params: &R::Params,
    deadline: &Deadline,
    pending: &mut Vec<InFlight<R::Sent>>,
    turns: &dyn CreateTurns,
) -> Result<R::Sent> {
    let token = r.token();
    loop {
        match r.send(params, &token, deadline).await {
            Err(Error::Busy { .. }) if !pending.is_empty() => confirm(r, std::mem::take(pending), turns).await,
            Err(Error::Busy { .. }) => deadline.pause(OPERATION).await?,
            other => return other,
        }
    }
}

/// Confirm `pending` (oldest first) with listings of the instance, and
/// report each.
async fn confirm<R: SerialRun + ?Sized>(r: &R, pending: Vec<InFlight<R::Sent>>, turns: &dyn CreateTurns) {
    let Some(last) = pending.last() else { return };
    let read = || r.list();
    let meaning = |items: Vec<Value>| {
        for p in &pending {
            if let Some(state) = r.find(&items, &p.sent).and_then(|item| r.unsettled(item)) {
                return Poll::Pending(format!("listener {state}"));
            }
        }
        Poll::Done(items)
    };
    let items = match last.deadline.poll(STEP, OPERATION, read, meaning).await {
        Ok(items) => items,
        Err(e) => {
            // Each is followed on its own: its own deadline, its own error.
            tracing::warn!(kind = e.kind(), error = %e, "listing the instance failed; confirming each create alone");
            for p in pending {
                turns.ended(p.index, r.settle_one(&p).await);
            }
            return;
        }
    };
    for p in &pending {
        let outcome = match r.find(&items, &p.sent) {
            Some(item) => r.read_back(&p.sent, item, &items).await,
            None => r.settle_one(p).await,
        };
        turns.ended(p.index, outcome);
    }
}
