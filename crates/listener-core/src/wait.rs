//! The one poller every adapter waits with.
//!
//! All four APIs answer a write at once and do the work afterwards, so every
//! adapter waits: for a task, a job, or a listener's status. What differs
//! between the vendors is only how to read the state and what it means; the
//! deadline, the interval, the grace for work that never shows, and what to
//! do about a failed read are the same everywhere and live here, once.
//!
//! An adapter supplies two things to [`Deadline::poll`]:
//! - *read the state*: an async closure making one call (a task status, a
//!   describe). It normalises "absent" into its own value (an `Option`),
//!   so a `NotFound` that means "done" or "failed" is the adapter's choice;
//! - *what the state means*: a closure turning that value into a [`Poll`].
//!
//! **Read errors.** An error [`Error::is_retryable`] calls transient
//! (throttled, busy, transport) is polled through until the deadline: the
//! client has already retried it, but a wait has its own deadline and the
//! next poll is just another look at the same state, so giving up a
//! five-minute wait over one throttled read would only turn a write that
//! will succeed into a reported failure. Any other error (authentication,
//! not found, a vendor error) is returned at once: looking again cannot
//! change it. This is the same for all four adapters.
//!
//! **Deadline.** A wait that has not ended by `wait.timeout_secs` is
//! [`Error::Timeout`] naming the operation; the last poll is made at the
//! deadline (the sleep before it is cut short), so a short timeout still
//! gets its final look. The interval is fixed (no backoff): the vendors'
//! rate limits are per action and the clients already pace calls.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::config::WaitConfig;
use crate::error::Error;

/// What one poll found.
#[derive(Debug)]
pub enum Poll<T> {
    /// The work is over; the wait returns this.
    Done(T),
    /// The work is visibly under way; the text is logged.
    Pending(String),
    /// No sign of the work yet (a new listener not visible, a changed one
    /// still as it was). Polled again for a grace period of at least
    /// [`UNSEEN_POLLS`] polls and [`UNSEEN_GRACE`]; after that the wait
    /// fails with this error.
    NotSeen(Error),
    /// The work failed; the wait returns this error.
    Failed(Error),
}

/// How long a wait may find no sign of the work it waits for before the
/// work counts as failed: at least [`UNSEEN_POLLS`] polls and at least this
/// long. The vendors show accepted work at once (a new listener creating,
/// a change or delete as a busy status), but a task that fails before the
/// first poll leaves no trace: the listener is missing, or as it was.
/// Waiting for a sign would wait out the whole deadline (five minutes by
/// default) for the same answer. Found by the fault soak (`tests/soak.rs`
/// of the workspace). A deadline shorter than the grace still ends the
/// wait as [`Error::Timeout`].
pub const UNSEEN_GRACE: Duration = Duration::from_secs(3);
/// Polls that must have found no sign of the work, however long they took.
pub const UNSEEN_POLLS: u32 = 3;

/// One deadline and poll interval for a logical operation; several waits
/// may share it (a job, then the listener's status), so the whole
/// operation never waits longer than the profile allows.
#[derive(Debug, Clone)]
pub struct Deadline {
    vendor: &'static str,
    started: Instant,
    limit: Duration,
    interval: Duration,
}

impl Deadline {
    /// A deadline starting now, `wait.timeout_secs` away, polling every
    /// `wait.poll_interval_ms`. The settings are checked once, when the
    /// profile is read ([`WaitConfig::check`]); a zero interval that got
    /// here anyway is read as 1 ms so that it never spins.
    pub fn start(vendor: &'static str, wait: &WaitConfig) -> Self {
        Deadline {
            vendor,
            started: Instant::now(),
            limit: Duration::from_secs(wait.timeout_secs),
            interval: Duration::from_millis(wait.poll_interval_ms.max(1)),
        }
    }

    /// The timeout error for `operation`.
    pub fn timeout(&self, operation: &str) -> Error {
        Error::Timeout {
            vendor: self.vendor,
            operation: operation.to_string(),
            after: self.limit,
        }
    }

    /// Sleep one interval, cut short at the deadline, or fail with
    /// [`Error::Timeout`] once the deadline has passed.
    pub async fn pause(&self, operation: &str) -> Result<(), Error> {
        let elapsed = self.started.elapsed();
        if elapsed >= self.limit {
            return Err(self.timeout(operation));
        }
        tokio::time::sleep(self.interval.min(self.limit - elapsed)).await;
        Ok(())
    }

    /// Poll until `meaning(read())` is done or failed, under this
    /// deadline; `operation` names the wait in logs and in the timeout.
    /// Read errors follow the module's policy: transient ones are polled
    /// through, others end the wait.
    pub async fn poll<S, T, R, Fut, M>(&self, operation: &str, mut read: R, mut meaning: M) -> Result<T, Error>
    where
        R: FnMut() -> Fut,
        Fut: Future<Output = Result<S, Error>>,
        M: FnMut(S) -> Poll<T>,
    {
        let since = Instant::now();
        let mut polls: u32 = 0;
        let mut unseen: u32 = 0;
        loop {
            polls = polls.saturating_add(1);
            match read().await {
                Ok(state) => match meaning(state) {
                    Poll::Done(value) => {
                        tracing::debug!(vendor = self.vendor, operation, polls, "wait over");
                        return Ok(value);
                    }
                    Poll::Failed(e) => {
                        tracing::debug!(vendor = self.vendor, operation, polls, kind = e.kind(), "work failed");
                        return Err(e);
                    }
                    Poll::Pending(status) => {
                        tracing::debug!(
                            vendor = self.vendor,
                            operation,
                            polls,
                            status = status.as_str(),
                            "waiting"
                        );
                    }
                    Poll::NotSeen(e) => {
                        unseen += 1;
                        if unseen >= UNSEEN_POLLS && since.elapsed() >= UNSEEN_GRACE {
                            return Err(e);
                        }
                        tracing::debug!(vendor = self.vendor, operation, polls, "no sign of the work yet");
                    }
                },
                Err(e) if e.is_retryable() => {
                    tracing::debug!(vendor = self.vendor, operation, error = %e, "poll failed; polling again");
                }
                Err(e) => return Err(e),
            }
            self.pause(operation).await?;
        }
    }
}

/// [`Deadline::poll`] under a deadline of its own, starting now.
pub async fn poll<S, T, R, Fut, M>(
    vendor: &'static str,
    operation: &str,
    wait: &WaitConfig,
    read: R,
    meaning: M,
) -> Result<T, Error>
where
    R: FnMut() -> Fut,
    Fut: Future<Output = Result<S, Error>>,
    M: FnMut(S) -> Poll<T>,
{
    Deadline::start(vendor, wait).poll(operation, read, meaning).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn wait(ms: u64, secs: u64) -> WaitConfig {
        WaitConfig {
            timeout_secs: secs,
            poll_interval_ms: ms,
        }
    }

    fn failed(message: &str) -> Error {
        Error::TaskFailed {
            vendor: "test",
            task: "t-1".into(),
            message: message.into(),
        }
    }

    /// Run a wait named `operation` whose n-th read (from 1) answers
    /// `answer(n)`; the outcome and how many reads were made.
    async fn run<T>(
        operation: &str,
        w: WaitConfig,
        answer: impl Fn(u32) -> Result<u32, Error>,
        meaning: impl FnMut(u32) -> Poll<T>,
    ) -> (Result<T, Error>, u32) {
        let n = Cell::new(0);
        let read = || {
            n.set(n.get() + 1);
            let a = answer(n.get());
            async move { a }
        };
        let outcome = poll("test", operation, &w, read, meaning).await;
        (outcome, n.get())
    }

    #[tokio::test]
    async fn returns_the_value_once_done() {
        let (got, _) = run("t", wait(1, 5), Ok, |k| {
            if k < 3 {
                Poll::Pending("creating".into())
            } else {
                Poll::Done(k)
            }
        })
        .await;
        assert_eq!(got.expect("done"), 3);
    }

    #[tokio::test]
    async fn times_out_with_the_operation_named() {
        let (err, _) = run::<()>("create of listener x", wait(600, 1), Ok, |_| {
            Poll::Pending("creating".into())
        })
        .await;
        match err {
            Err(Error::Timeout { operation, after, .. }) => {
                assert_eq!(operation, "create of listener x");
                assert_eq!(after, Duration::from_secs(1));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_failed_state_ends_the_wait_with_its_error() {
        let (err, reads) = run::<()>("t", wait(1, 5), Ok, |_| Poll::Failed(failed("boom"))).await;
        assert_eq!(err.expect_err("failed").kind(), "task_failed");
        assert_eq!(reads, 1);
    }

    #[tokio::test]
    async fn transient_read_errors_are_polled_through() {
        let throttled_twice = |n| {
            if n < 3 {
                Err(Error::Throttled {
                    vendor: "test",
                    code: "Throttling".into(),
                    request_id: "r-1".into(),
                    retry_after: None,
                })
            } else {
                Ok(n)
            }
        };
        let (got, _) = run("t", wait(1, 5), throttled_twice, Poll::Done).await;
        assert_eq!(got.expect("polled through"), 3);
    }

    #[tokio::test]
    async fn permanent_read_errors_end_the_wait() {
        let not_found = |_| {
            Err(Error::NotFound {
                vendor: "test",
                what: "listener l-1".into(),
            })
        };
        let (err, reads) = run("t", wait(1, 5), not_found, Poll::Done).await;
        assert_eq!(err.expect_err("permanent").kind(), "not_found");
        assert_eq!(reads, 1, "a permanent error is not read again");
    }

    #[tokio::test]
    async fn unseen_work_fails_after_the_grace_not_before() {
        let (err, reads) = run::<()>("t", wait(1, 60), Ok, |_| Poll::NotSeen(failed("never appeared"))).await;
        assert_eq!(err.expect_err("grace over").kind(), "task_failed");
        // Polled every millisecond: far more than the minimum of polls,
        // which shows the time half of the grace held too.
        assert!(reads > UNSEEN_POLLS, "polled {reads} times");
    }

    #[tokio::test]
    async fn a_shared_deadline_that_has_passed_times_out_the_next_wait() {
        let d = Deadline::start("test", &wait(1, 0));
        let err = d
            .poll::<(), (), _, _, _>("second wait", || async { Ok(()) }, |_| Poll::Pending("x".into()))
            .await
            .expect_err("timeout");
        assert_eq!(err.kind(), "timeout");
    }

    #[test]
    fn wait_settings_refuse_zero_timeout_and_zero_interval_by_field() {
        assert!(wait(1000, 300).check().is_ok());
        for (w, field) in [
            (wait(10, 0), "wait.timeout_secs"),
            (wait(0, 5), "wait.poll_interval_ms"),
        ] {
            match w.check() {
                Err(Error::Config { field: f, .. }) => assert_eq!(f, field),
                other => panic!("expected a config error for {field}, got {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn pause_times_out_after_the_limit_and_a_zero_interval_does_not_spin() {
        match Deadline::start("test", &wait(1, 0)).pause("create listener").await {
            Err(Error::Timeout { operation, .. }) => assert_eq!(operation, "create listener"),
            other => panic!("expected a timeout, got {other:?}"),
        }
        assert!(Deadline::start("test", &wait(0, 5)).pause("x").await.is_ok());
    }
}
