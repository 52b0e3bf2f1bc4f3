//! Waiting for ALB's asynchronous work.
//!
//! Every ALB listener write returns at once with a `JobId` while the change
//! is applied in the background (listener `Provisioning`, `Configuring`,
//! `Deleting`). Two reads can follow it: the job (`ListAsynJobs`:
//! `Succeeded`, or `Failed` with an error code) and the listener itself
//! (`GetListenerAttribute`: `Running`, or gone). Each wait reads **one** of
//! them per poll, the one that answers its question, because polls are
//! calls and the account's rate budget is shared:
//! - a create follows the listener: `Running` ends the wait *and* is the
//!   read-back the caller returns (and the proof that the listener is on
//!   the bound instance). A failed create leaves no listener; only then is
//!   the job read once, for the vendor's reason;
//! - an update, a certificate change or a start/stop follows the job: a
//!   failed one leaves the listener `Running` with its old settings, which
//!   only the job tells apart from success;
//! - a delete follows the job too; without a job it waits for the listener
//!   to be gone.
//!
//! All waits of one logical write share one [`Deadline`] from the profile's
//! `wait` settings (the kind of write sets the limit), so a whole create
//! (listener, then additional certificates) never waits longer than the
//! user allowed.

use listener_core::{Deadline, Error, Poll, Result};
use serde_json::Value;

use crate::client::{AlbClient, Job, JobStatus};
use crate::translate::get_str;
use crate::API;

/// The error of a failed job: the vendor's code and message.
fn job_failed(job_id: &str, job: Job) -> Error {
    let message = match (job.error_code, job.error_message) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c,
        (None, Some(m)) => m,
        (None, None) => "the job failed without a reason".to_string(),
    };
    Error::TaskFailed {
        vendor: API,
        task: job_id.to_string(),
        message,
    }
}

/// Follow job `job_id` until it succeeds; a failed job is
/// `Error::TaskFailed` with the vendor's error code and message. A job not
/// listed yet is pending: ALB registers jobs asynchronously too. `step`
/// names the wait for the poller's memory of durations.
pub async fn wait_job(
    api: &AlbClient,
    deadline: &Deadline,
    step: &'static str,
    job_id: &str,
    operation: &str,
) -> Result<()> {
    deadline
        .poll(
            step,
            operation,
            || api.job(job_id),
            |job| match job {
                None => Poll::Pending("job not listed yet".into()),
                Some(job) => match job.status {
                    JobStatus::Succeeded => Poll::Done(()),
                    JobStatus::Failed => Poll::Failed(job_failed(job_id, job)),
                    JobStatus::Processing | JobStatus::Other(_) => Poll::Pending("job still processing".into()),
                },
            },
        )
        .await
}

/// What one poll of a new listener found.
enum Creating {
    /// `GetListenerAttribute` answered.
    Seen(Value),
    /// The listener is not there; the job, read once, says why (when the
    /// write gave one and the vendor lists it).
    Missing(Option<Job>),
}

/// Poll `GetListenerAttribute` until the new listener is `Running` (or
/// `Stopped`) and return that answer. A listener that is not there is
/// either not visible yet or a failed create (ALB removes it); the job
/// `job_id`, read only then, tells which and why.
pub async fn wait_created(
    api: &AlbClient,
    deadline: &Deadline,
    listener_id: &str,
    job_id: Option<&str>,
    operation: &str,
) -> Result<Value> {
    let read = || async {
        match api.get_listener(listener_id).await {
            Ok(attr) => Ok(Creating::Seen(attr)),
            Err(Error::NotFound { .. }) => match job_id {
                Some(job) => Ok(Creating::Missing(api.job(job).await?)),
                None => Ok(Creating::Missing(None)),
            },
            Err(e) => Err(e),
        }
    };
    deadline
        .poll("listener", operation, read, |found| match found {
            Creating::Seen(attr) => {
                let status = get_str(&attr, "ListenerStatus").unwrap_or("");
                if matches!(status, "Running" | "Stopped") {
                    Poll::Done(attr)
                } else {
                    Poll::Pending(format!("listener {status}"))
                }
            }
            Creating::Missing(Some(job)) if job.status == JobStatus::Failed => {
                Poll::Failed(job_failed(job_id.unwrap_or(listener_id), job))
            }
            Creating::Missing(_) => Poll::NotSeen(Error::TaskFailed {
                vendor: API,
                task: job_id.unwrap_or(listener_id).to_string(),
                message: format!("listener {listener_id} never appeared after its create was accepted"),
            }),
        })
        .await
}

/// Poll `GetListenerAttribute` until the listener is `Running` (or
/// `Stopped`, which is settled too) and return that answer: for a write
/// that gave no job to follow.
pub async fn wait_running(
    api: &AlbClient,
    deadline: &Deadline,
    step: &'static str,
    listener_id: &str,
    operation: &str,
) -> Result<Value> {
    deadline
        .poll(
            step,
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
pub async fn wait_gone(api: &AlbClient, deadline: &Deadline, listener_id: &str, operation: &str) -> Result<()> {
    let read = || async {
        match api.get_listener(listener_id).await {
            Err(Error::NotFound { .. }) => Ok(None),
            other => other.map(Some),
        }
    };
    deadline
        .poll("listener", operation, read, |attr| match attr {
            None => Poll::Done(()),
            Some(attr) => Poll::Pending(format!(
                "listener still there ({})",
                get_str(&attr, "ListenerStatus").unwrap_or("")
            )),
        })
        .await
}
