//! When a failed call is made again, and how long to wait first.
//!
//! The rule in one sentence: repeat only what the vendor certainly did not
//! act on, unless the caller says repeating is harmless. Throttled and busy
//! answers mean the vendor refused before doing anything; a connection that
//! never opened carried nothing. A request that was written but whose answer
//! was lost may have been applied, and no listener action here takes a
//! `ClientToken`, so a blind repeat of a create can fail with a port
//! conflict or act twice: the adapter reconciles it by reading back instead,
//! and only calls marked idempotent (reads, deletes by ID) are repeated.
//!
//! Waits use exponential backoff with full jitter (a uniform draw between
//! zero and the exponential ceiling), which spreads clients that failed
//! together. Both the number of attempts and the total time are bounded.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use listener_core::Error;
use rand::Rng;

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
        let factor = 1u32.checked_shl(retry.saturating_sub(1)).unwrap_or(u32::MAX);
        self.initial_backoff
            .checked_mul(factor)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff)
    }

    /// A full-jitter wait before retry number `retry`: uniform in
    /// `[0, ceiling(retry)]`.
    pub fn jittered_delay(&self, retry: u32) -> Duration {
        let ceiling = self.ceiling(retry);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        if nanos == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(rand::rng().random_range(0..=nanos))
    }
}

/// Whether a failed call may be made again.
///
/// `idempotent` is the caller's promise that repeating the call cannot
/// change anything a first success would not have (reads, deletes by ID,
/// modifies that set absolute values).
pub fn should_retry(error: &Error, idempotent: bool) -> bool {
    match error {
        Error::Throttled { .. } | Error::Busy { .. } => true,
        Error::Transport { maybe_applied, .. } => !*maybe_applied || idempotent,
        _ => false,
    }
}

/// Run `op` under `policy`. `op` gets the attempt number (1-based);
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
        if attempt >= policy.max_attempts || !should_retry(&error, idempotent) {
            return Err(error);
        }
        let delay = policy.jittered_delay(attempt);
        if started.elapsed().saturating_add(delay) > policy.max_elapsed {
            tracing::debug!(attempt, kind = error.kind(), "retry budget spent");
            return Err(error);
        }
        tracing::warn!(
            attempt,
            kind = error.kind(),
            code = error.vendor_code().unwrap_or(""),
            delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            "retrying"
        );
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
    fn retries_what_the_vendor_did_not_act_on() {
        let throttled = Error::Throttled {
            vendor: "t",
            code: "RequestLimitExceeded".into(),
            request_id: "r".into(),
            retry_after: None,
        };
        let busy = Error::Busy {
            vendor: "t",
            code: "FailedOperation.ResourceInOperating".into(),
            message: "m".into(),
            request_id: "r".into(),
        };
        for idempotent in [false, true] {
            assert!(should_retry(&throttled, idempotent));
            assert!(should_retry(&busy, idempotent));
            assert!(should_retry(&transport(false), idempotent));
        }
    }

    #[test]
    fn repeats_a_maybe_applied_request_only_when_idempotent() {
        assert!(!should_retry(&transport(true), false));
        assert!(should_retry(&transport(true), true));
    }

    #[test]
    fn never_retries_refusals() {
        let conflict = Error::Conflict {
            vendor: "t",
            code: "InvalidParameter.PortCheckFailed".into(),
            message: "m".into(),
            request_id: "r".into(),
        };
        let auth = Error::Authentication {
            vendor: "t",
            code: "AuthFailure.SignatureFailure".into(),
            message: "m".into(),
            request_id: "r".into(),
        };
        assert!(!should_retry(&conflict, true));
        assert!(!should_retry(&auth, true));
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
