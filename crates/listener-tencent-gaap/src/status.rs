//! Waiting for GAAP's asynchronous listener work.
//!
//! GAAP answers a create, modify or delete at once and does the work
//! afterwards; the only signal is the listener's `ListenerStatus` in
//! `Describe*Listeners` (0 running, 1 creating, 2 destroying, 3 origin
//! servers adjusting, 4 configuration changing). GAAP's own
//! `DescribeTaskStatus` is for connection operations, not listeners. So
//! every wait here is a poll of one listener by ID, bounded by the
//! profile's `wait.timeout_secs`, with progress reported through `tracing`.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use listener_core::{Error, WaitConfig};
use serde_json::Value;

use crate::client::GaapClient;
use crate::translate::{field_str, field_u64, GaapProtocol};
use crate::API;

/// What one poll found.
#[derive(Debug)]
pub enum Poll<T> {
    /// The wait is over.
    Done(T),
    /// Not yet; the status text is logged.
    Pending(String),
}

/// Poll `step` every `wait.poll_interval_ms` until it is done, fails, or
/// `wait.timeout_secs` pass ([`Error::Timeout`] naming `operation`).
pub async fn poll_until<T, F, Fut>(operation: &str, wait: &WaitConfig, mut step: F) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Poll<T>, Error>>,
{
    let limit = Duration::from_secs(wait.timeout_secs);
    let interval = Duration::from_millis(wait.poll_interval_ms.max(1));
    let started = Instant::now();
    let mut polls: u64 = 0;
    loop {
        polls += 1;
        match step().await? {
            Poll::Done(value) => {
                tracing::info!(
                    operation,
                    polls,
                    elapsed_ms = elapsed_ms(started),
                    "GAAP listener work finished"
                );
                return Ok(value);
            }
            Poll::Pending(status) => {
                tracing::info!(
                    operation,
                    status = status.as_str(),
                    polls,
                    elapsed_ms = elapsed_ms(started),
                    "waiting for GAAP listener"
                );
            }
        }
        if started.elapsed() + interval > limit {
            return Err(Error::Timeout {
                vendor: API,
                operation: operation.to_string(),
                after: limit,
            });
        }
        tokio::time::sleep(interval).await;
    }
}

fn elapsed_ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

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

/// How long a wait may find no sign of the work it waits for (the new
/// listener not visible, the modified one running unchanged) before the
/// work counts as failed: at least [`UNSEEN_POLLS`] polls and at least this
/// long. GAAP shows a new listener (creating) and a change (status 4) as
/// soon as it accepts the call, but a task that fails before the first
/// poll leaves no trace at all: the listener is gone, or back as it was.
/// Waiting for a sign would wait out the whole deadline (five minutes by
/// default) for the same answer. Found by the fault soak (`tests/soak.rs`
/// of the workspace).
pub const UNSEEN_GRACE: Duration = Duration::from_secs(3);
/// Polls that must have found no sign of the work, however long they took.
pub const UNSEEN_POLLS: u32 = 3;

/// Polls of one wait that found no sign of its work, since the wait began.
struct Unseen {
    since: Instant,
    polls: AtomicU32,
}

impl Unseen {
    fn new() -> Self {
        Unseen {
            since: Instant::now(),
            polls: AtomicU32::new(0),
        }
    }

    /// Count one more poll without a sign; whether the grace is over.
    fn over(&self) -> bool {
        let polls = self.polls.fetch_add(1, Ordering::Relaxed) + 1;
        polls >= UNSEEN_POLLS && self.since.elapsed() >= UNSEEN_GRACE
    }
}

/// The error of a create whose listener never appeared.
fn never_appeared(id: &str) -> Error {
    failed(
        id,
        "the listener never appeared after its create was accepted; the create failed",
    )
}

/// Wait until a new listener runs; its final record is returned. A
/// listener that was seen and then disappears (or starts being destroyed),
/// or that is never seen within [`UNSEEN_GRACE`], is a create that failed.
pub async fn wait_running(
    client: &GaapClient,
    protocol: GaapProtocol,
    id: &str,
    wait: &WaitConfig,
) -> Result<Value, Error> {
    let seen = AtomicBool::new(false);
    let unseen = Unseen::new();
    let (seen, unseen) = (&seen, &unseen);
    poll_until(&format!("create of listener {id}"), wait, move || async move {
        let Some(record) = client.find(protocol, id).await? else {
            if seen.load(Ordering::Relaxed) {
                return Err(failed(id, "the listener disappeared while being created"));
            }
            if unseen.over() {
                return Err(never_appeared(id));
            }
            return Ok(Poll::Pending("not visible yet".into()));
        };
        seen.store(true, Ordering::Relaxed);
        match field_u64(&record, "ListenerStatus") {
            Some(0) => Ok(Poll::Done(record)),
            Some(2) => Err(failed(id, "the listener is being destroyed instead of starting")),
            other => Ok(Poll::Pending(status_word(other))),
        }
    })
    .await
}

/// Wait until every listener one create call made runs; their final
/// records are returned in the order of `ids`. One poll is one describe of
/// the instance's listeners of that kind, not one per ID: a call that made
/// ten listeners costs one read per poll, which matters when several
/// instances poll under the same per-action rate limit. The rules of
/// [`wait_running`] hold for each listener: seen and then gone, being
/// destroyed, or never seen within [`UNSEEN_GRACE`], is a create that
/// failed.
pub async fn wait_all_running(
    client: &GaapClient,
    protocol: GaapProtocol,
    ids: &[String],
    wait: &WaitConfig,
) -> Result<Vec<Value>, Error> {
    if let [one] = ids {
        return Ok(vec![wait_running(client, protocol, one, wait).await?]);
    }
    let seen: Vec<AtomicBool> = ids.iter().map(|_| AtomicBool::new(false)).collect();
    let unseen: Vec<Unseen> = ids.iter().map(|_| Unseen::new()).collect();
    let (seen, unseen) = (&seen, &unseen);
    let operation = format!("create of listeners {}", ids.join(", "));
    poll_until(&operation, wait, move || async move {
        let records = client.describe_all(protocol, None).await?;
        let mut done = Vec::with_capacity(ids.len());
        let mut pending: Option<String> = None;
        for ((id, seen), unseen) in ids.iter().zip(seen).zip(unseen) {
            let Some(record) = records.iter().find(|r| field_str(r, "ListenerId") == Some(id.as_str())) else {
                if seen.load(Ordering::Relaxed) {
                    return Err(failed(id, "the listener disappeared while being created"));
                }
                if unseen.over() {
                    return Err(never_appeared(id));
                }
                pending.get_or_insert_with(|| format!("{id} not visible yet"));
                continue;
            };
            seen.store(true, Ordering::Relaxed);
            match field_u64(record, "ListenerStatus") {
                Some(0) => done.push(record.clone()),
                Some(2) => return Err(failed(id, "the listener is being destroyed instead of starting")),
                other => {
                    pending.get_or_insert_with(|| format!("{id} {}", status_word(other)));
                }
            }
        }
        Ok(match pending {
            None => Poll::Done(done),
            Some(status) => Poll::Pending(status),
        })
    })
    .await
}

/// Wait until a modified listener runs again with the change in place.
/// `applied` tells whether a record carries the change. Status 0 with the
/// change missing after the listener was seen changing (3 or 4) is a
/// modify that failed and was rolled back; status 0 without the change
/// before any change was seen is GAAP not having started yet, so the poll
/// goes on, for [`UNSEEN_GRACE`]: after that the modify failed before any
/// poll could see it.
pub async fn wait_modified(
    client: &GaapClient,
    protocol: GaapProtocol,
    id: &str,
    wait: &WaitConfig,
    applied: &(dyn Fn(&Value) -> bool + Sync),
) -> Result<Value, Error> {
    let seen_changing = AtomicBool::new(false);
    let unseen = Unseen::new();
    let (seen_changing, unseen) = (&seen_changing, &unseen);
    poll_until(&format!("change of listener {id}"), wait, move || async move {
        let Some(record) = client.find(protocol, id).await? else {
            return Err(Error::NotFound {
                vendor: API,
                what: format!("listener {id}, which disappeared while being changed"),
            });
        };
        match field_u64(&record, "ListenerStatus") {
            Some(0) if applied(&record) => Ok(Poll::Done(record)),
            Some(0) if seen_changing.load(Ordering::Relaxed) => Err(failed(id, "the change was not applied")),
            Some(0) if unseen.over() => Err(failed(
                id,
                "the listener runs unchanged and was never seen changing; the change was not applied",
            )),
            Some(0) => Ok(Poll::Pending("change not visible yet".into())),
            Some(2) => Err(failed(id, "the listener is being destroyed")),
            other => {
                seen_changing.store(true, Ordering::Relaxed);
                Ok(Poll::Pending(status_word(other)))
            }
        }
    })
    .await
}

/// Consecutive "running" answers after an accepted delete that mean the
/// delete failed, when GAAP never showed "destroying" (it normally does at
/// once; a few polls allow for a slow switch).
const RUNNING_AFTER_DELETE: u32 = 3;

/// Wait until a deleted listener is gone: no record, `ResourceNotFound`, or
/// GAAP's "Not Exist" answer (all three are [`GaapClient::find`]'s `None`).
/// Back in "running" after "destroying" is a delete that failed.
pub async fn wait_gone(client: &GaapClient, protocol: GaapProtocol, id: &str, wait: &WaitConfig) -> Result<(), Error> {
    let seen_destroying = AtomicBool::new(false);
    let running = AtomicU32::new(0);
    let (seen_destroying, running) = (&seen_destroying, &running);
    poll_until(&format!("delete of listener {id}"), wait, move || async move {
        let Some(record) = client.find(protocol, id).await? else {
            return Ok(Poll::Done(()));
        };
        let status = field_u64(&record, "ListenerStatus");
        match status {
            Some(2) => {
                seen_destroying.store(true, Ordering::Relaxed);
                running.store(0, Ordering::Relaxed);
            }
            Some(0) => {
                let n = running.fetch_add(1, Ordering::Relaxed) + 1;
                if seen_destroying.load(Ordering::Relaxed) || n >= RUNNING_AFTER_DELETE {
                    return Err(failed(id, "the listener is running again; the delete did not happen"));
                }
            }
            _ => running.store(0, Ordering::Relaxed),
        }
        Ok(Poll::Pending(status_word(status)))
    })
    .await
}

fn failed(id: &str, message: &str) -> Error {
    Error::TaskFailed {
        vendor: API,
        task: id.to_string(),
        message: message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait(ms: u64, secs: u64) -> WaitConfig {
        WaitConfig {
            timeout_secs: secs,
            poll_interval_ms: ms,
        }
    }

    #[tokio::test]
    async fn poll_returns_when_done() {
        let mut n = 0;
        let got = poll_until("t", &wait(1, 5), || {
            n += 1;
            let k = n;
            async move {
                Ok(if k < 3 {
                    Poll::Pending("creating".into())
                } else {
                    Poll::Done(k)
                })
            }
        })
        .await
        .expect("done");
        assert_eq!(got, 3);
    }

    #[tokio::test]
    async fn poll_times_out_with_the_operation_named() {
        let err = poll_until::<(), _, _>("create of listener x", &wait(600, 1), || async {
            Ok(Poll::Pending("creating".into()))
        })
        .await
        .expect_err("timeout");
        match err {
            Error::Timeout { operation, .. } => assert_eq!(operation, "create of listener x"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[tokio::test]
    async fn poll_passes_errors_through() {
        let err = poll_until::<(), _, _>("t", &wait(1, 5), || async { Err(failed("l", "boom")) })
            .await
            .expect_err("error");
        assert_eq!(err.kind(), "task_failed");
    }
}
