//! How persistent the Tencent client is with retryable failures.
//!
//! The policy itself (which errors may be repeated, backoff with jitter,
//! the vendor's `retry_after`, the process-wide retry budget, log levels)
//! is [`listener_core::retry`], shared with the Alibaba client; this module
//! holds Tencent's default bounds; the loop around one call is
//! [`listener_core::retry::run`], the same as Alibaba's. No listener
//! action here takes a `ClientToken`, so only calls marked idempotent
//! (reads, deletes by ID) are repeated after a lost answer; the adapter
//! reconciles a create by reading back instead.

use std::time::Duration;

use listener_core::retry::Bounds;

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

    /// These bounds in the shared policy's terms.
    pub fn bounds(&self) -> Bounds {
        Bounds {
            max_attempts: self.max_attempts,
            initial: self.initial_backoff,
            max: self.max_backoff,
            max_elapsed: self.max_elapsed,
            jitter: true,
        }
    }
}
