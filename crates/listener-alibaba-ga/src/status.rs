//! Following GA's asynchronous work.
//!
//! Every GA listener write returns at once and carries on in the background:
//! a new listener is `init` (or `configuring`), a changed one `updating`, a
//! deleted one `deleting`; DescribeListener shows the state. GA has **no
//! failure state**: a wait ends when the listener is `active`, when it is
//! gone (`NotExist.Listener`), or when our own deadline passes. A create or
//! update whose listener disappears is reported as a failed task.

use listener_core::{Deadline, Error, ListenerStatus, Poll};
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

/// DescribeListener with GA's `NotExist.Listener` read as `None`: whether
/// a missing listener ends a wait well or badly is the wait's call.
pub async fn describe(client: &GaClient, id: &str) -> Result<Option<Value>, Error> {
    match client.describe_listener(id).await {
        Err(Error::NotFound { .. }) => Ok(None),
        other => other.map(Some),
    }
}

/// `State` of a DescribeListener answer.
pub fn state_of(answer: &Value) -> &str {
    answer.get("State").and_then(Value::as_str).unwrap_or("")
}

/// The error of a listener that vanished while GA worked on it: GA dropped
/// the work.
pub fn disappeared(id: &str, operation: &str) -> Error {
    Error::TaskFailed {
        vendor: API,
        task: id.to_string(),
        message: format!("the listener disappeared during {operation} (GA dropped the work)"),
    }
}

/// Poll DescribeListener until the listener is `active`; that answer is
/// returned. A listener that vanishes means GA dropped the work
/// (`TaskFailed`).
pub async fn wait_active(client: &GaClient, id: &str, operation: &str, deadline: &Deadline) -> Result<Value, Error> {
    deadline
        .poll(
            "listener",
            &format!("{operation} of listener {id}"),
            || describe(client, id),
            |answer| match answer {
                None => Poll::Failed(disappeared(id, operation)),
                Some(answer) if is_active(state_of(&answer)) => Poll::Done(answer),
                Some(answer) => Poll::Pending(state_of(&answer).to_string()),
            },
        )
        .await
}

/// Poll DescribeListener until GA answers `NotExist.Listener`.
///
/// A listener seen `deleting` and then `active` again was kept by GA (the
/// deletion was abandoned): that is a failed task, not something to wait
/// out. One that is still `active` before any `deleting` was seen may not
/// have started; that is waited for within the core poller's grace
/// ([`listener_core::wait::UNSEEN_GRACE`]), after which the deletion failed
/// before any poll could see it.
pub async fn wait_gone(client: &GaClient, id: &str, deadline: &Deadline) -> Result<(), Error> {
    let mut saw_deleting = false;
    let mut untouched = 0u32;
    deadline
        .poll(
            "listener",
            &format!("deletion of listener {id}"),
            || describe(client, id),
            |answer| {
                let Some(answer) = answer else {
                    tracing::info!(listener = id, "listener deleted");
                    return Poll::Done(());
                };
                let state = state_of(&answer);
                if is_active(state) && saw_deleting {
                    return Poll::Failed(Error::TaskFailed {
                        vendor: API,
                        task: id.to_string(),
                        message: "GA abandoned the deletion: the listener is active again".into(),
                    });
                }
                if is_active(state) {
                    untouched += 1;
                    return Poll::NotSeen(Error::TaskFailed {
                        vendor: API,
                        task: id.to_string(),
                        message: format!(
                            "GA accepted the deletion but the listener stayed active ({untouched} polls); \
                         the deletion did not happen"
                        ),
                    });
                }
                saw_deleting |= state.eq_ignore_ascii_case("deleting");
                Poll::Pending(state.to_string())
            },
        )
        .await
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
