//! Following GA's asynchronous work.
//!
//! Every GA listener write returns at once and carries on in the background:
//! a new listener is `init` (or `configuring`), a changed one `updating`, a
//! deleted one `deleting`; DescribeListener shows the state. GA has **no
//! failure state**: a wait ends when the listener is `active`, when it is
//! gone (`NotExist.Listener`), or when our own deadline passes. A create or
//! update whose listener disappears is reported as a failed task.

use std::time::{Duration, Instant};

use listener_core::{Error, ListenerStatus, WaitConfig};
use serde_json::Value;

use crate::client::GaClient;
use crate::API;

/// The neutral status of GA's `State`.
pub fn status_of(state: &str) -> ListenerStatus {
    match state.to_ascii_lowercase().as_str() {
        "active" => ListenerStatus::Running,
        "init" => ListenerStatus::Creating,
        "configuring" | "updating" => ListenerStatus::Updating,
        "deleting" => ListenerStatus::Deleting,
        _ => ListenerStatus::Other(state.to_string()),
    }
}

/// Whether GA's `State` means no work is pending.
pub fn is_active(state: &str) -> bool {
    state.eq_ignore_ascii_case("active")
}

/// How long a listener may look untouched after GA accepted a write before
/// the write counts as failed. GA has no failure state: a task that fails
/// before the first poll leaves the listener exactly as it was, which looks
/// like a task that has not started. GA shows `updating` or `deleting` as
/// soon as it accepts a write, so a listener still untouched after a few
/// polls over a few seconds means the work is over; waiting out the whole
/// deadline (five minutes by default) would only delay the same answer.
/// Found by the fault soak (`tests/soak.rs` of the workspace).
pub const UNTOUCHED_GRACE: Duration = Duration::from_secs(3);
/// Polls that must have found the listener untouched, however long they took.
pub const UNTOUCHED_POLLS: u32 = 3;

/// Whether `polls` polls since `since` that all found the listener
/// untouched mean the write is over (see [`UNTOUCHED_GRACE`]).
pub fn untouched_long_enough(polls: u32, since: Instant) -> bool {
    polls >= UNTOUCHED_POLLS && since.elapsed() >= UNTOUCHED_GRACE
}

fn poll_interval(wait: &WaitConfig) -> Duration {
    Duration::from_millis(wait.poll_interval_ms.max(1))
}

fn timeout(operation: String, wait: &WaitConfig) -> Error {
    Error::Timeout {
        vendor: API,
        operation,
        after: Duration::from_secs(wait.timeout_secs),
    }
}

/// The end of a wait for `active`.
#[derive(Debug, Clone)]
pub struct Settled {
    /// The DescribeListener answer that showed `active`.
    pub answer: Value,
    /// Whether any poll saw the listener with work in progress (`init`,
    /// `updating`, ...). An update whose listener was never seen busy may
    /// simply not have started yet.
    pub saw_work: bool,
}

/// Poll DescribeListener until the listener is `active`.
///
/// Transient errors (throttling, busy, lost answers) are polled through; a
/// listener that vanishes means GA dropped the work (`TaskFailed`).
pub async fn wait_active(client: &GaClient, id: &str, operation: &str, wait: &WaitConfig) -> Result<Settled, Error> {
    let started = Instant::now();
    let limit = Duration::from_secs(wait.timeout_secs);
    let mut saw_work = false;
    loop {
        match client.describe_listener(id).await {
            Ok(answer) => {
                let state = answer.get("State").and_then(Value::as_str).unwrap_or("");
                if is_active(state) {
                    tracing::info!(listener = id, operation, "listener active");
                    return Ok(Settled { answer, saw_work });
                }
                saw_work = true;
                tracing::debug!(listener = id, operation, state, "waiting for the listener");
            }
            Err(Error::NotFound { .. }) => {
                return Err(Error::TaskFailed {
                    vendor: API,
                    task: id.to_string(),
                    message: format!("the listener disappeared during {operation} (GA dropped the work)"),
                })
            }
            Err(e) if e.is_retryable() => {
                tracing::debug!(listener = id, operation, error = %e, "transient error while waiting");
            }
            Err(e) => return Err(e),
        }
        if started.elapsed() >= limit {
            return Err(timeout(format!("{operation} of listener {id}"), wait));
        }
        tokio::time::sleep(poll_interval(wait)).await;
    }
}

/// Poll DescribeListener until GA answers `NotExist.Listener`.
///
/// A listener seen `deleting` and then `active` again was kept by GA (the
/// deletion was abandoned): that is a failed task, not something to wait
/// out. One that is still `active` before any `deleting` was seen may not
/// have started; that is waited for within [`UNTOUCHED_GRACE`], after
/// which the deletion failed before any poll could see it.
pub async fn wait_gone(client: &GaClient, id: &str, wait: &WaitConfig) -> Result<(), Error> {
    let started = Instant::now();
    let limit = Duration::from_secs(wait.timeout_secs);
    let mut saw_deleting = false;
    let mut untouched = 0u32;
    loop {
        match client.describe_listener(id).await {
            Err(Error::NotFound { .. }) => {
                tracing::info!(listener = id, "listener deleted");
                return Ok(());
            }
            Ok(answer) => {
                let state = answer.get("State").and_then(Value::as_str).unwrap_or("");
                if is_active(state) && saw_deleting {
                    return Err(Error::TaskFailed {
                        vendor: API,
                        task: id.to_string(),
                        message: "GA abandoned the deletion: the listener is active again".into(),
                    });
                }
                if is_active(state) {
                    untouched += 1;
                    if untouched_long_enough(untouched, started) {
                        return Err(Error::TaskFailed {
                            vendor: API,
                            task: id.to_string(),
                            message: format!(
                                "GA accepted the deletion but the listener stayed active ({untouched} polls); \
                                 the deletion did not happen"
                            ),
                        });
                    }
                }
                saw_deleting |= state.eq_ignore_ascii_case("deleting");
                tracing::debug!(listener = id, state, "waiting for the listener to go");
            }
            Err(e) if e.is_retryable() => {
                tracing::debug!(listener = id, error = %e, "transient error while waiting");
            }
            Err(e) => return Err(e),
        }
        if started.elapsed() >= limit {
            return Err(timeout(format!("deletion of listener {id}"), wait));
        }
        tokio::time::sleep(poll_interval(wait)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_map_to_neutral_statuses_in_any_case() {
        assert_eq!(status_of("active"), ListenerStatus::Running);
        assert_eq!(status_of("ACTIVE"), ListenerStatus::Running);
        assert_eq!(status_of("init"), ListenerStatus::Creating);
        assert_eq!(status_of("configuring"), ListenerStatus::Updating);
        assert_eq!(status_of("updating"), ListenerStatus::Updating);
        assert_eq!(status_of("deleting"), ListenerStatus::Deleting);
        assert_eq!(status_of("frozen"), ListenerStatus::Other("frozen".into()));
        assert!(is_active("Active"));
        assert!(!is_active("init"));
    }
}
