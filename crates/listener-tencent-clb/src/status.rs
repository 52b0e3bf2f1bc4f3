//! Waiting for CLB's asynchronous tasks.
//!
//! CreateListener, ModifyListener and DeleteListener return at once; the
//! work is a task whose ID is the call's `RequestId`. `DescribeTaskStatus`
//! answers an integer: 0 succeeded, 1 failed, 2 still running. A write is
//! only finished when its task says 0: reporting success on the call alone
//! is the pitfall Terraform users hit (the task later failed).

use listener_core::{Deadline, Error, Poll};
use serde_json::Value;

use crate::client::ClbClient;
use crate::API;

/// What a task ended as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskState {
    /// Status 0.
    Succeeded,
    /// Status 1, with the vendor's reason when it gave one.
    Failed(String),
    /// Status 2.
    Running,
}

/// Read `DescribeTaskStatus`'s answer. An unknown status value is treated
/// as still running (the wait is bounded anyway) rather than as success.
pub fn task_state(body: &Value) -> TaskState {
    let status = body
        .get("Status")
        .and_then(|v| v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok())));
    match status {
        Some(0) => TaskState::Succeeded,
        Some(1) => TaskState::Failed(
            body.get("Message")
                .and_then(Value::as_str)
                .filter(|m| !m.is_empty())
                .unwrap_or("the vendor gave no reason")
                .to_string(),
        ),
        _ => TaskState::Running,
    }
}

/// Poll the task until it ends or the write's `deadline` passes. A
/// failed task is [`Error::TaskFailed`]; running out of time is
/// [`Error::Timeout`] naming `operation` and the task.
pub async fn wait_task(client: &ClbClient, task_id: &str, operation: &str, deadline: &Deadline) -> Result<(), Error> {
    let operation = format!("{operation} (task {task_id})");
    deadline
        .poll(
            "task",
            &operation,
            || client.describe_task_status(task_id),
            |answer| match task_state(&answer) {
                TaskState::Succeeded => Poll::Done(()),
                TaskState::Failed(message) => {
                    tracing::warn!(task_id, %message, "task failed");
                    Poll::Failed(Error::TaskFailed {
                        vendor: API,
                        task: task_id.to_string(),
                        message,
                    })
                }
                TaskState::Running => Poll::Pending("task running".into()),
            },
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integer_status_maps_to_states() {
        assert_eq!(task_state(&json!({"Status": 0})), TaskState::Succeeded);
        assert_eq!(task_state(&json!({"Status": 2})), TaskState::Running);
        assert_eq!(
            task_state(&json!({"Status": 1, "Message": "port busy"})),
            TaskState::Failed("port busy".into())
        );
        assert!(matches!(
            task_state(&json!({"Status": 1, "Message": null})),
            TaskState::Failed(_)
        ));
        // Unknown shapes never count as success.
        assert_eq!(task_state(&json!({})), TaskState::Running);
        assert_eq!(task_state(&json!({"Status": 7})), TaskState::Running);
    }
}
