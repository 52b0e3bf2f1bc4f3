//! How persistent the Tencent client is with retryable failures.
//!
//! The policy itself (which errors may be repeated, backoff with jitter,
//! the vendor's `retry_after`, the process-wide retry budget, log levels)
//! is [`listener_core::retry`], shared with the Alibaba client; this module
//! holds Tencent's default bounds and the loop around one call. No listener
//! action here takes a `ClientToken`, so only calls marked idempotent
//! (reads, deletes by ID) are repeated after a lost answer; the adapter
//! reconciles a create by reading back instead.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use listener_core::retry::{self, Bounds, RetryBudget};
use listener_core::Error;

/// How persistent the client is with retryable failures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included; at least 1.
    pub max_attempts: u32,
    /// Ceiling of the first wait; doubles with every retry.
    pub initial_backoff: Duration,
    /// Largest ceiling a wait can have.
    pub max_backoff: Duration,
    /// No retry starts once this much time has passed since the first
    /// attempt, or when its wait would end after it. An attempt already
    /// running may still take up to the request timeout.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    /// Six attempts over at most a minute: enough to ride out a CLB task
    /// holding an instance for a few seconds or a burst of throttling,
    /// short enough that a command-line user is not left waiting.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
            max_elapsed: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retries: for tests that need to see the first error.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            initial_backoff: Duration::ZERO,
            max_backoff: Duration::ZERO,
            max_elapsed: Duration::ZERO,
        }
    }

    /// The upper bound of the wait before retry number `retry` (1-based):
    /// `initial_backoff * 2^(retry-1)`, capped at `max_backoff`.
    pub fn ceiling(&self, retry: u32) -> Duration {
        retry::ceiling(self.initial_backoff, self.max_backoff, retry)
    }

    /// A full-jitter wait before retry number `retry`: uniform in
    /// `[0, ceiling(retry)]`.
    pub fn jittered_delay(&self, retry: u32) -> Duration {
        self.ceiling(retry).mul_f64(retry::jitter())
    }

    /// These bounds in the shared policy's terms.
    pub fn bounds(&self) -> Bounds {
        Bounds {
            max_attempts: self.max_attempts,
            initial: self.initial_backoff,
            max: self.max_backoff,
            max_elapsed: self.max_elapsed,
        }
    }
}

/// Run `op` under `policy` and the shared policy ([`retry::next_delay`]),
/// `idempotent` meaning a repeat is safe. `op` gets the attempt number (1-based);
/// `retries` is incremented once per retry made.
pub async fn run<T, F, Fut>(policy: &RetryPolicy, idempotent: bool, retries: &AtomicU64, mut op: F) -> Result<T, Error>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let started = Instant::now();
    let mut attempt = 1u32;
    loop {
        let error = match op(attempt).await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        let Some(delay) = retry::next_delay(
            &policy.bounds(),
            RetryBudget::global(),
            &error,
            attempt,
            started.elapsed(),
            idempotent,
        ) else {
            return Err(error);
        };
        retries.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(delay).await;
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transport(maybe_applied: bool) -> Error {
        Error::Transport {
            vendor: "t",
            message: "m".into(),
            maybe_applied,
        }
    }

    #[test]
    fn ceiling_doubles_and_caps() {
        let p = RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
            max_elapsed: Duration::from_secs(60),
        };
        assert_eq!(p.ceiling(1), Duration::from_millis(100));
        assert_eq!(p.ceiling(2), Duration::from_millis(200));
        assert_eq!(p.ceiling(4), Duration::from_millis(800));
        assert_eq!(p.ceiling(5), Duration::from_millis(1000));
        assert_eq!(p.ceiling(200), Duration::from_millis(1000));
        for retry in 1..8 {
            assert!(p.jittered_delay(retry) <= p.ceiling(retry));
        }
        assert_eq!(RetryPolicy::none().jittered_delay(3), Duration::ZERO);
    }

    #[tokio::test]
    async fn stops_at_max_attempts_and_counts_retries() {
        let policy = RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
            max_elapsed: Duration::from_secs(30),
        };
        let retries = AtomicU64::new(0);
        let mut seen = Vec::new();
        let result: Result<(), Error> = run(&policy, false, &retries, |n| {
            seen.push(n);
            async { Err(transport(false)) }
        })
        .await;
        assert!(matches!(result, Err(Error::Transport { .. })));
        assert_eq!(seen, [1, 2, 3]);
        assert_eq!(retries.load(Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn stops_when_the_time_budget_is_spent() {
        let policy = RetryPolicy {
            max_attempts: 100,
            initial_backoff: Duration::from_secs(10),
            max_backoff: Duration::from_secs(10),
            max_elapsed: Duration::ZERO,
        };
        let retries = AtomicU64::new(0);
        let mut calls = 0;
        let result: Result<(), Error> = run(&policy, true, &retries, |_| {
            calls += 1;
            async { Err(transport(true)) }
        })
        .await;
        assert!(result.is_err());
        // A zero budget leaves room for no wait (a draw of exactly zero
        // nanoseconds out of ten seconds aside), so the first error stands.
        assert_eq!(calls, 1);
        assert_eq!(retries.load(Ordering::Relaxed), 0);
    }
}
