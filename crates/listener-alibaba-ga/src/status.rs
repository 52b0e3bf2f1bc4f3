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
/// have started; that is waited for until the deadline.
pub async fn wait_gone(client: &GaClient, id: &str, wait: &WaitConfig) -> Result<(), Error> {
    let started = Instant::now();
    let limit = Duration::from_secs(wait.timeout_secs);
    let mut saw_deleting = false;
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
