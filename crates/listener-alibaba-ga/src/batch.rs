//! A run of creates on one GA accelerator in about one call per listener.
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
//!   [`CONFIRM_EVERY`] creates, and before anything else is written, the
//!   accelerator is listed (on the poller's schedule, first at the
//!   remembered time) until no listener in flight is still `init`. A
//!   listener found `active` is made: the listing item is its read-back
//!   (`DescribeListener`'s answer but the ACL fields) and, listed for the
//!   bound `AcceleratorId` and carrying it, its ownership proof. A listener
//!   missing from the listing is followed the plain way
//!   ([`status::wait_active`]): one that vanished is reported as a failed
//!   create, as GA shows it.
//!
//! Only specs without an access section go this way (ACLs are written
//! after the create and read back by describing the listener); any other
//! spec, and the first create on a provider that has timed none yet, is
//! created the plain way ([`Provider::create`]) after the creates in flight
//! are confirmed. Nothing is weaker than a plain create: each create has
//! its own `ClientToken` made once, each is reported made only once GA
//! lists it `active` on the bound accelerator, every create sent is
//! confirmed before the run returns (also after a cancel), and the cancel
//! flag is asked right before each create is sent.

use std::time::Instant;

use listener_core::ownership;
use listener_core::{
    CreateTurns, Deadline, Listener, ListenerId, ListenerSpec, Poll, Protocol, Provider, Result, WaitOp,
};
use serde_json::Value;

use crate::{status, translate, GaProvider, API};

/// Creates sent between two listings of the accelerator: each listing
/// confirms this many creates. Two keeps the calls per listener near 1.5
/// (a create each, a listing every other one) while a finished create is
/// reported at most one create late.
pub const CONFIRM_EVERY: usize = 2;

/// The operation named in waits and timeouts.
const OPERATION: &str = "creation";

/// A create GA accepted and that is not confirmed yet.
struct Sent {
    index: usize,
    id: String,
    deadline: Deadline,
    answered: Instant,
}

/// [`Provider::create_each`] for GA: see the module.
pub(crate) async fn create_each(p: &GaProvider, specs: &[ListenerSpec], turns: &dyn CreateTurns) {
    let mut pending: Vec<Sent> = Vec::new();
    // The run holds the accelerator's write lock while its own creates are in
    // flight, as a plain create holds it across its wait; it lets go for a
    // plain create, which takes the lock itself (the lock is not
    // re-entrant), after the creates in flight are confirmed.
    let mut writing = Some(p.writes.hold().await);
    for (index, spec) in specs.iter().enumerate() {
        let before = p.config.wait.start(API, WaitOp::Create);
        let (Some(params), Some(took)) = (plain_params(p, spec), before.remembered("listener")) else {
            confirm(p, std::mem::take(&mut pending), turns).await;
            if turns.may_start(index) {
                drop(writing.take());
                turns.ended(index, p.create(spec).await);
                writing = Some(p.writes.hold().await);
            }
            continue;
        };
        if pending.len() >= CONFIRM_EVERY {
            confirm(p, std::mem::take(&mut pending), turns).await;
        } else if let Some(last) = pending.last() {
            // The accelerator takes the next write once the last create is
            // over; a deadline that passes here is met by the send below.
            let _ = before.sleep_until_at(last.answered + took, OPERATION).await;
        }
        if !turns.may_start(index) {
            continue;
        }
        let deadline = p.config.wait.start(API, WaitOp::Create);
        let token = p.client.new_token();
        tracing::info!(listener = %spec.name, accelerator = %p.config.accelerator_id, token = %token, "creating GA listener (run)");
        match p.client.create_listener(&params, &token, &deadline).await {
            Ok(id) => pending.push(Sent {
                index,
                id,
                deadline,
                answered: Instant::now(),
            }),
            Err(e) => turns.ended(index, Err(e)),
        }
    }
    confirm(p, pending, turns).await;
    drop(writing);
}

/// The `CreateListener` parameters of a spec whose read-back the listing
/// gives in full (see the module), `None` for any other spec (including
/// one the adapter refuses: the plain create reports why).
fn plain_params(p: &GaProvider, spec: &ListenerSpec) -> Option<Value> {
    if spec.access.is_some() || p.refuse(spec).is_err() {
        return None;
    }
    let ports = spec.ports.count();
    if matches!(spec.protocol, Protocol::Tcp | Protocol::Udp) && ports > translate::DEFAULT_PORTS_PER_LISTENER {
        // The same warning as a plain create's, and the same choice: the
        // quota is adjustable, so GA decides.
        tracing::warn!(
            listener = %spec.name,
            ports,
            quota = translate::DEFAULT_PORTS_PER_LISTENER,
            "more ports than GA's default per-listener quota; GA answers QuotaExceeded.ListenerPort unless the quota was raised"
        );
    }
    Some(translate::create_params(
        &p.config.accelerator_id,
        spec,
        &p.config.aliases,
        &p.config.owner,
    ))
}

/// Confirm `pending` (oldest first) with listings of the accelerator, and
/// report each.
async fn confirm(p: &GaProvider, pending: Vec<Sent>, turns: &dyn CreateTurns) {
    let Some(last) = pending.last() else { return };
    let read = || p.client.list_listeners(&p.config.accelerator_id);
    let meaning = |items: Vec<Value>| {
        for s in &pending {
            if let Some(item) = find(&items, &s.id) {
                let state = status::state_of(item);
                if !status::is_active(state) {
                    return Poll::Pending(format!("listener {} {state}", s.id));
                }
            }
        }
        Poll::Done(items)
    };
    let items = match last.deadline.poll("listener", OPERATION, read, meaning).await {
        Ok(items) => items,
        Err(e) => {
            // Each is followed on its own: its own deadline, its own error.
            tracing::warn!(kind = e.kind(), error = %e, "listing the accelerator failed; confirming each create alone");
            for s in pending {
                turns.ended(s.index, settle_one(p, &s).await);
            }
            return;
        }
    };
    for s in &pending {
        let outcome = match find(&items, &s.id) {
            Some(item) => read_back(p, &s.id, item),
            None => settle_one(p, s).await,
        };
        turns.ended(s.index, outcome);
    }
}

/// An active listener from its listing item (or describe answer): the
/// ownership proof is the `AcceleratorId` it carries.
fn read_back(p: &GaProvider, id: &str, item: &Value) -> Result<Vec<Listener>> {
    ownership::claim(
        API,
        &p.config.accelerator_id,
        &ListenerId(id.to_string()),
        item.get("AcceleratorId").and_then(Value::as_str).or(Some("")),
    )?;
    Ok(vec![p.read(item)?])
}

/// A create the listing did not show: followed the plain way (a listener
/// that vanished is a failed create).
async fn settle_one(p: &GaProvider, s: &Sent) -> Result<Vec<Listener>> {
    let answer = status::wait_active(&p.client, &s.id, OPERATION, &s.deadline).await?;
    read_back(p, &s.id, &answer)
}

fn find<'a>(items: &'a [Value], id: &str) -> Option<&'a Value> {
    items
        .iter()
        .find(|l| l.get("ListenerId").and_then(Value::as_str) == Some(id))
}
