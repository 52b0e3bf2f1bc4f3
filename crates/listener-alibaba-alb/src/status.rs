//! Waiting for ALB's asynchronous work.
//!
//! Every ALB listener write returns at once with a `JobId` while the change
//! is applied in the background (listener `Provisioning`, `Configuring`,
//! `Deleting`). The job says how it ended (`ListAsynJobs`: `Succeeded` or
//! `Failed` with an error code), and the listener's own status confirms it
//! (`Running`, or gone). Both are followed under one deadline taken from the
//! profile's `wait` settings, so a whole create (listener, then additional
//! certificates) never waits longer than the user allowed.

use std::time::{Duration, Instant};

use listener_core::{Error, Result, WaitConfig};
use serde_json::Value;

use crate::client::{AlbApi, JobStatus};
use crate::translate::get_str;
use crate::API;

/// One deadline and poll interval for a logical operation.
#[derive(Debug, Clone)]
pub struct Waiter {
    started: Instant,
    limit: Duration,
    poll: Duration,
}

impl Waiter {
    /// A waiter starting now, bounded by `wait.timeout_secs`, polling every
    /// `wait.poll_interval_ms` (at least 1 ms, so a zero never spins).
    pub fn new(wait: &WaitConfig) -> Self {
        Waiter {
            started: Instant::now(),
            limit: Duration::from_secs(wait.timeout_secs),
            poll: Duration::from_millis(wait.poll_interval_ms.max(1)),
        }
    }

    /// Sleep one poll interval, or fail with `Error::Timeout` once the
    /// deadline has passed.
    async fn pause(&self, operation: &str) -> Result<()> {
        let elapsed = self.started.elapsed();
        if elapsed >= self.limit {
            return Err(Error::Timeout {
                vendor: API,
                operation: operation.to_string(),
                after: self.limit,
            });
        }
        tokio::time::sleep(self.poll.min(self.limit - elapsed)).await;
        Ok(())
    }
}

/// Errors worth another poll: the client already retried them, but a poll
/// loop has its own deadline and can simply look again.
fn transient(e: &Error) -> bool {
    e.is_retryable()
}

/// Follow job `job_id` until it succeeds; a failed job is
/// `Error::TaskFailed` with the vendor's error code and message.
pub async fn wait_job(api: &AlbApi, waiter: &Waiter, job_id: &str, operation: &str) -> Result<()> {
    loop {
        match api.job(job_id).await {
            Ok(Some(job)) => match job.status {
                JobStatus::Succeeded => {
                    tracing::debug!(job_id, operation, "job succeeded");
                    return Ok(());
                }
                JobStatus::Failed => {
                    let message = match (job.error_code, job.error_message) {
                        (Some(c), Some(m)) => format!("{c}: {m}"),
                        (Some(c), None) => c,
                        (None, Some(m)) => m,
                        (None, None) => "the job failed without a reason".to_string(),
                    };
                    return Err(Error::TaskFailed {
                        vendor: API,
                        task: job_id.to_string(),
                        message,
                    });
                }
                JobStatus::Processing | JobStatus::Other(_) => {
                    tracing::debug!(job_id, operation, "job still processing");
                }
            },
            // Not listed yet: the job is registered asynchronously too.
            Ok(None) => tracing::debug!(job_id, operation, "job not listed yet"),
            Err(e) if transient(&e) => tracing::debug!(job_id, error = %e, "job poll failed; polling again"),
            Err(e) => return Err(e),
        }
        waiter.pause(operation).await?;
    }
}

/// Poll `GetListenerAttribute` until the listener is `Running` (or
/// `Stopped`, which is settled too) and return that answer.
pub async fn wait_running(api: &AlbApi, waiter: &Waiter, listener_id: &str, operation: &str) -> Result<Value> {
    loop {
        match api.get_listener(listener_id).await {
            Ok(attr) => {
                let status = get_str(&attr, "ListenerStatus").unwrap_or("");
                if matches!(status, "Running" | "Stopped") {
                    return Ok(attr);
                }
                tracing::debug!(listener_id, status, operation, "listener not settled yet");
            }
            Err(e) if transient(&e) => tracing::debug!(listener_id, error = %e, "status poll failed; polling again"),
            Err(e) => return Err(e),
        }
        waiter.pause(operation).await?;
    }
}

/// Poll `GetListenerAttribute` until it answers `ResourceNotFound.Listener`.
pub async fn wait_gone(api: &AlbApi, waiter: &Waiter, listener_id: &str, operation: &str) -> Result<()> {
    loop {
        match api.get_listener(listener_id).await {
            Err(Error::NotFound { .. }) => return Ok(()),
            Ok(attr) => {
                let status = get_str(&attr, "ListenerStatus").unwrap_or("");
                tracing::debug!(listener_id, status, operation, "listener still there");
            }
            Err(e) if transient(&e) => tracing::debug!(listener_id, error = %e, "status poll failed; polling again"),
            Err(e) => return Err(e),
        }
        waiter.pause(operation).await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pause_times_out_after_the_limit() {
        let w = Waiter::new(&WaitConfig {
            timeout_secs: 0,
            poll_interval_ms: 1,
        });
        match w.pause("create listener").await {
            Err(Error::Timeout { operation, .. }) => assert_eq!(operation, "create listener"),
            other => panic!("expected a timeout, got {other:?}"),
        }
        let w = Waiter::new(&WaitConfig {
            timeout_secs: 5,
            poll_interval_ms: 0,
        });
        assert!(w.pause("x").await.is_ok());
    }
}
