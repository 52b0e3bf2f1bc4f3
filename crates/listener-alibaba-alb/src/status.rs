//! Waiting for ALB's asynchronous work.
//!
//! Every ALB listener write returns at once with a `JobId` while the change
//! is applied in the background (listener `Provisioning`, `Configuring`,
//! `Deleting`). The job says how it ended (`ListAsynJobs`: `Succeeded` or
//! `Failed` with an error code), and the listener's own status confirms it
//! (`Running`, or gone). Both are followed under one deadline taken from the
//! profile's `wait` settings, so a whole create (listener, then additional
//! certificates) never waits longer than the user allowed.

use listener_core::{Deadline, Error, Poll, Result};
use serde_json::Value;

use crate::client::{AlbApi, JobStatus};
use crate::translate::get_str;
use crate::API;

/// Follow job `job_id` until it succeeds; a failed job is
/// `Error::TaskFailed` with the vendor's error code and message. A job not
/// listed yet is pending: ALB registers jobs asynchronously too.
pub async fn wait_job(api: &AlbApi, deadline: &Deadline, job_id: &str, operation: &str) -> Result<()> {
    deadline
        .poll(
            operation,
            || api.job(job_id),
            |job| match job {
                None => Poll::Pending("job not listed yet".into()),
                Some(job) => match job.status {
                    JobStatus::Succeeded => Poll::Done(()),
                    JobStatus::Failed => {
                        let message = match (job.error_code, job.error_message) {
                            (Some(c), Some(m)) => format!("{c}: {m}"),
                            (Some(c), None) => c,
                            (None, Some(m)) => m,
                            (None, None) => "the job failed without a reason".to_string(),
                        };
                        Poll::Failed(Error::TaskFailed {
                            vendor: API,
                            task: job_id.to_string(),
                            message,
                        })
                    }
                    JobStatus::Processing | JobStatus::Other(_) => Poll::Pending("job still processing".into()),
                },
            },
        )
        .await
}

/// Poll `GetListenerAttribute` until the listener is `Running` (or
/// `Stopped`, which is settled too) and return that answer.
pub async fn wait_running(api: &AlbApi, deadline: &Deadline, listener_id: &str, operation: &str) -> Result<Value> {
    deadline
        .poll(
            operation,
            || api.get_listener(listener_id),
            |attr| {
                let status = get_str(&attr, "ListenerStatus").unwrap_or("");
                if matches!(status, "Running" | "Stopped") {
                    Poll::Done(attr)
                } else {
                    Poll::Pending(format!("listener {status}"))
                }
            },
        )
        .await
}

/// Poll `GetListenerAttribute` until it answers `ResourceNotFound.Listener`.
pub async fn wait_gone(api: &AlbApi, deadline: &Deadline, listener_id: &str, operation: &str) -> Result<()> {
    let read = || async {
        match api.get_listener(listener_id).await {
            Err(Error::NotFound { .. }) => Ok(None),
            other => other.map(Some),
        }
    };
    deadline
        .poll(operation, read, |attr| match attr {
            None => Poll::Done(()),
            Some(attr) => Poll::Pending(format!(
                "listener still there ({})",
                get_str(&attr, "ListenerStatus").unwrap_or("")
            )),
        })
        .await
}
