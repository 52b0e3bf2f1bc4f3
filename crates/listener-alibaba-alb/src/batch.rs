//! A run of creates on one ALB instance in about one call per listener.
//!
//! ALB takes one write at a time per instance: while a listener of the
//! instance is `Provisioning` or `Configuring`, any other write is refused
//! with `IncorrectStatus.LoadBalancer` before anything is done (vendor
//! factsheet §6 and §8; the emulator's `instance_busy`). Creating listener
//! after listener the plain way therefore costs two calls each: the create,
//! and at least one `GetListenerAttribute` that sees it `Running`.
//!
//! Two facts make most of those reads unnecessary:
//! - **Acceptance is a confirmation that the work ended.** Once the
//!   instance accepts create *k+1*, create *k*'s job is over: succeeded, or
//!   failed (ALB then removes the listener). So create *k+1* is sent when
//!   the last similar create took to finish on this provider (the poller's
//!   memory, [`Deadline::remembered`]), not after a read. Sent too early,
//!   it is refused as busy, which changes nothing on the vendor's side; the
//!   client repeats it (same `ClientToken`), and a refusal that outlasts
//!   the client's retries makes this run read the instance until the
//!   creates in flight are over, then send it again.
//! - **One listing confirms several creates.** `ListListeners` of the bound
//!   instance (up to 100 a page) shows every listener made so far with its
//!   status. Every [`CONFIRM_EVERY`] creates, and before anything else is
//!   written, the instance is listed (on the poller's schedule, first at the
//!   remembered time) until no listener in flight is still provisioning.
//!   A listener found `Running` is made: the listing item is its read-back,
//!   and, filtered by the bound `LoadBalancerIds` and carrying
//!   `LoadBalancerId`, its ownership proof. A listener missing from the
//!   listing is followed the plain way ([`wait_created`]): a failed create
//!   is reported with the job's reason, one not visible yet gets the
//!   poller's grace.
//!
//! The listing carries everything the read-back of an HTTP listener needs,
//! but no certificates and no ACLs (`ListListeners`' model has neither). So
//! only *plain* specs go this way: HTTP, no additional certificates, no
//! access section, no access log, not stopped (those need writes after the
//! create, which a separate read-back follows anyway). Any other spec, and
//! the first create on a provider that has timed none yet, is created the
//! plain way ([`Provider::create`]) after the creates in flight are
//! confirmed. Nothing is weaker than a plain create: each create has its
//! own `ClientToken` made once, each is reported made only once the vendor
//! lists it `Running` on the bound instance, every create sent is confirmed
//! before the run returns (also after a cancel), and the cancel flag is
//! asked right before each create is sent.

use std::collections::BTreeMap;
use std::time::Instant;

use listener_core::ownership;
use listener_core::{
    CreateTurns, Deadline, Error, Listener, ListenerId, ListenerSpec, Poll, Protocol, Provider, Result, WaitOp,
};
use serde_json::Value;

use crate::client::Created;
use crate::status::wait_created;
use crate::translate::{self, get_str, get_u32};
use crate::{AlbProvider, API};

/// Creates sent between two listings of the instance: each listing
/// confirms this many creates. Two keeps the calls per listener near 1.5
/// (a create each, a listing every other one) while a finished create is
/// reported at most one create late.
pub const CONFIRM_EVERY: usize = 2;

/// The operation named in waits and timeouts.
const OPERATION: &str = "create listener";

/// A create the instance accepted and that is not confirmed yet.
struct Sent {
    index: usize,
    id: String,
    job: Option<String>,
    deadline: Deadline,
    answered: Instant,
}

/// [`Provider::create_each`] for ALB: see the module.
pub(crate) async fn create_each(p: &AlbProvider, specs: &[ListenerSpec], turns: &dyn CreateTurns) {
    let mut pending: Vec<Sent> = Vec::new();
    // The run holds the instance's write lock while its own creates are in
    // flight, as a plain create holds it across its wait; it lets go for a
    // plain create, which takes the lock itself (the lock is not
    // re-entrant), after the creates in flight are confirmed.
    let mut writing = Some(p.writes.hold().await);
    for (index, spec) in specs.iter().enumerate() {
        let before = p.waiter(WaitOp::Create);
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
            // The instance takes the next write once the last create is
            // over; a deadline that passes here is met by the send below.
            let _ = before.sleep_until_at(last.answered + took, OPERATION).await;
        }
        if !turns.may_start(index) {
            continue;
        }
        let deadline = p.waiter(WaitOp::Create);
        match send(p, &params, &deadline, &mut pending, turns).await {
            Ok(created) => pending.push(Sent {
                index,
                id: created.listener_id,
                job: created.job_id,
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
fn plain_params(p: &AlbProvider, spec: &ListenerSpec) -> Option<Value> {
    if spec.protocol != Protocol::Http
        || spec.access.is_some()
        || spec.enabled == Some(false)
        || !translate::check_create(&p.profile, spec).is_empty()
        || !translate::additional_certificate_ids(&p.profile, spec).is_empty()
    {
        return None;
    }
    let opts = p.refuse(spec).ok()?;
    if translate::log_config_params(opts.access_log.as_ref(), None).is_some() {
        return None;
    }
    Some(translate::create_params(&p.profile, spec, None))
}

/// `CreateListener` with one token for every attempt. A busy refusal that
/// outlasts the client's retries: the creates in flight are confirmed
/// (the instance is then idle as far as this run goes), or, with none in
/// flight, the poll interval is waited; then the same request again,
/// until the deadline.
async fn send(
    p: &AlbProvider,
    params: &Value,
    deadline: &Deadline,
    pending: &mut Vec<Sent>,
    turns: &dyn CreateTurns,
) -> Result<Created> {
    let token = p.client.new_token();
    tracing::info!(instance = %p.config.instance, client_token = %token, "creating ALB listener (run)");
    loop {
        match p.client.create_listener(params, token.clone()).await {
            Err(Error::Busy { .. }) if !pending.is_empty() => confirm(p, std::mem::take(pending), turns).await,
            Err(Error::Busy { .. }) => deadline.pause(OPERATION).await?,
            other => return other,
        }
    }
}

/// Confirm `pending` (oldest first) with listings of the instance, and
/// report each.
async fn confirm(p: &AlbProvider, pending: Vec<Sent>, turns: &dyn CreateTurns) {
    let Some(last) = pending.last() else { return };
    let read = || p.client.list_listeners(&p.config.instance, None);
    let meaning = |items: Vec<Value>| {
        for s in &pending {
            if let Some(item) = find(&items, &s.id) {
                let status = get_str(item, "ListenerStatus").unwrap_or("");
                if !settled(status) {
                    return Poll::Pending(format!("listener {} {status}", s.id));
                }
            }
        }
        Poll::Done(items)
    };
    let items = match last.deadline.poll("listener", OPERATION, read, meaning).await {
        Ok(items) => items,
        Err(e) => {
            // Each is followed on its own: its own deadline, its own error.
            tracing::warn!(kind = e.kind(), error = %e, "listing the instance failed; confirming each create alone");
            for s in pending {
                turns.ended(s.index, settle_one(p, &s).await);
            }
            return;
        }
    };
    let ports: BTreeMap<String, u32> = items
        .iter()
        .filter_map(|l| Some((get_str(l, "ListenerId")?.to_string(), get_u32(l, "ListenerPort")?)))
        .collect();
    for s in &pending {
        let outcome = match find(&items, &s.id) {
            Some(item) => read_back(p, &s.id, item, &ports).await,
            None => settle_one(p, s).await,
        };
        turns.ended(s.index, outcome);
    }
}

/// A settled listener from its listing item: the ownership proof is the
/// item's `LoadBalancerId` (the listing was of the bound instance).
async fn read_back(p: &AlbProvider, id: &str, item: &Value, ports: &BTreeMap<String, u32>) -> Result<Vec<Listener>> {
    ownership::claim(
        API,
        &p.config.instance,
        &ListenerId(id.to_string()),
        get_str(item, "LoadBalancerId").or(Some("")),
    )?;
    tracing::info!(listener_id = id, "ALB listener running");
    Ok(vec![p.listener_from(item, Some(ports)).await?])
}

/// A create the listing did not show: followed the plain way.
async fn settle_one(p: &AlbProvider, s: &Sent) -> Result<Vec<Listener>> {
    let attr = wait_created(&p.client, &s.deadline, &s.id, s.job.as_deref(), OPERATION).await?;
    read_back(p, &s.id, &attr, &BTreeMap::new()).await
}

fn find<'a>(items: &'a [Value], id: &str) -> Option<&'a Value> {
    items.iter().find(|l| get_str(l, "ListenerId") == Some(id))
}

fn settled(status: &str) -> bool {
    matches!(status, "Running" | "Stopped")
}
