//! Waiting for GAAP's asynchronous listener work.
//!
//! GAAP answers a create, modify or delete at once and does the work
//! afterwards; the only signal is the listener's `ListenerStatus` in
//! `Describe*Listeners` (0 running, 1 creating, 2 destroying, 3 origin
//! servers adjusting, 4 configuration changing). GAAP's own
//! `DescribeTaskStatus` is for connection operations, not listeners. So
//! every wait here is a poll of one listener by ID, bounded by the
//! profile's wait limit for the kind of write, with progress reported through `tracing`.

use listener_core::{Deadline, Error, Poll};
use serde_json::Value;

use crate::client::GaapClient;
use crate::translate::{field_str, field_u64, GaapProtocol};
use crate::API;

fn status_word(code: Option<u64>) -> String {
    match code {
        Some(0) => "running".into(),
        Some(1) => "creating".into(),
        Some(2) => "destroying".into(),
        Some(3) => "adjusting origin servers".into(),
        Some(4) => "changing configuration".into(),
        Some(n) => format!("status {n}"),
        None => "no status".into(),
    }
}

/// The error of a create whose listener never appeared. GAAP shows a new
/// listener (creating) as soon as it accepts the call, but a task that
/// fails before the first poll leaves no trace; the core poller's grace
/// ([`listener_core::wait::UNSEEN_GRACE`]) decides when that is the answer.
/// Found by the fault soak (`tests/soak.rs` of the workspace).
fn never_appeared(id: &str) -> Error {
    failed(
        id,
        "the listener never appeared after its create was accepted; the create failed",
    )
}

/// Wait until a new listener runs; its final record is returned. A
/// listener that was seen and then disappears (or starts being destroyed),
/// or that is never seen within the poller's grace, is a create that
/// failed.
pub async fn wait_running(
    client: &GaapClient,
    protocol: GaapProtocol,
    id: &str,
    deadline: &Deadline,
) -> Result<Value, Error> {
    let mut seen = false;
    deadline
        .poll(
            "listener",
            &format!("create of listener {id}"),
            || client.find(protocol, id),
            |record| {
                let Some(record) = record else {
                    if seen {
                        return Poll::Failed(failed(id, "the listener disappeared while being created"));
                    }
                    return Poll::NotSeen(never_appeared(id));
                };
                seen = true;
                match field_u64(&record, "ListenerStatus") {
                    Some(0) => Poll::Done(record),
                    Some(2) => Poll::Failed(failed(id, "the listener is being destroyed instead of starting")),
                    other => Poll::Pending(status_word(other)),
                }
            },
        )
        .await
}

/// Wait until every listener one create call made runs; their final
/// records are returned in the order of `ids`. One poll is one describe of
/// the instance's listeners of that kind, not one per ID: a call that made
/// ten listeners costs one read per poll, which matters when several
/// instances poll under the same per-action rate limit. The rules of
/// [`wait_running`] hold for each listener: seen and then gone, being
/// destroyed, or never seen within the grace, is a create that failed (a
/// listener not seen at some poll was not seen at any poll before, so
/// one grace for the whole call is each listener's grace).
pub async fn wait_all_running(
    client: &GaapClient,
    protocol: GaapProtocol,
    ids: &[String],
    deadline: &Deadline,
) -> Result<Vec<Value>, Error> {
    if let [one] = ids {
        return Ok(vec![wait_running(client, protocol, one, deadline).await?]);
    }
    let mut seen = vec![false; ids.len()];
    deadline
        .poll(
            "listeners",
            &format!("create of listeners {}", ids.join(", ")),
            || client.describe_all(protocol, None),
            |records| {
                let mut done = Vec::with_capacity(ids.len());
                let mut pending: Option<String> = None;
                let mut unseen: Option<&str> = None;
                for (id, seen) in ids.iter().zip(seen.iter_mut()) {
                    let Some(record) = records.iter().find(|r| field_str(r, "ListenerId") == Some(id.as_str())) else {
                        if *seen {
                            return Poll::Failed(failed(id, "the listener disappeared while being created"));
                        }
                        unseen.get_or_insert(id);
                        continue;
                    };
                    *seen = true;
                    match field_u64(record, "ListenerStatus") {
                        Some(0) => done.push(record.clone()),
                        Some(2) => {
                            return Poll::Failed(failed(id, "the listener is being destroyed instead of starting"))
                        }
                        other => {
                            pending.get_or_insert_with(|| format!("{id} {}", status_word(other)));
                        }
                    }
                }
                match (unseen, pending) {
                    (Some(id), _) => Poll::NotSeen(never_appeared(id)),
                    (None, Some(status)) => Poll::Pending(status),
                    (None, None) => Poll::Done(done),
                }
            },
        )
        .await
}

/// Wait until a modified listener runs again with the change in place.
/// `applied` tells whether a record carries the change. Status 0 with the
/// change missing after the listener was seen changing (3 or 4) is a
/// modify that failed and was rolled back; status 0 without the change
/// before any change was seen is GAAP not having started yet, so the poll
/// goes on for the poller's grace: after that the modify failed before any
/// poll could see it.
pub async fn wait_modified(
    client: &GaapClient,
    protocol: GaapProtocol,
    id: &str,
    deadline: &Deadline,
    applied: &(dyn Fn(&Value) -> bool + Sync),
) -> Result<Value, Error> {
    let mut seen_changing = false;
    deadline
        .poll(
            "listener",
            &format!("change of listener {id}"),
            || client.find(protocol, id),
            |record| {
                let Some(record) = record else {
                    return Poll::Failed(Error::NotFound {
                        vendor: API,
                        what: format!("listener {id}, which disappeared while being changed"),
                    });
                };
                match field_u64(&record, "ListenerStatus") {
                    Some(0) if applied(&record) => Poll::Done(record),
                    Some(0) if seen_changing => Poll::Failed(failed(id, "the change was not applied")),
                    Some(0) => Poll::NotSeen(failed(
                        id,
                        "the listener runs unchanged and was never seen changing; the change was not applied",
                    )),
                    Some(2) => Poll::Failed(failed(id, "the listener is being destroyed")),
                    other => {
                        seen_changing = true;
                        Poll::Pending(status_word(other))
                    }
                }
            },
        )
        .await
}

/// Consecutive "running" answers after an accepted delete that mean the
/// delete failed, when GAAP never showed "destroying" (it normally does at
/// once; a few polls allow for a slow switch).
const RUNNING_AFTER_DELETE: u32 = 3;

/// Wait until a deleted listener is gone: no record, `ResourceNotFound`, or
/// GAAP's "Not Exist" answer (all three are [`GaapClient::find`]'s `None`).
/// Back in "running" after "destroying" is a delete that failed.
pub async fn wait_gone(
    client: &GaapClient,
    protocol: GaapProtocol,
    id: &str,
    deadline: &Deadline,
) -> Result<(), Error> {
    let mut seen_destroying = false;
    let mut running = 0u32;
    deadline
        .poll(
            "listener",
            &format!("delete of listener {id}"),
            || client.find(protocol, id),
            |record| {
                let Some(record) = record else {
                    return Poll::Done(());
                };
                let status = field_u64(&record, "ListenerStatus");
                match status {
                    Some(2) => {
                        seen_destroying = true;
                        running = 0;
                    }
                    Some(0) => {
                        running += 1;
                        if seen_destroying || running >= RUNNING_AFTER_DELETE {
                            return Poll::Failed(failed(
                                id,
                                "the listener is running again; the delete did not happen",
                            ));
                        }
                    }
                    _ => running = 0,
                }
                Poll::Pending(status_word(status))
            },
        )
        .await
}

fn failed(id: &str, message: &str) -> Error {
    Error::TaskFailed {
        vendor: API,
        task: id.to_string(),
        message: message.to_string(),
    }
}
