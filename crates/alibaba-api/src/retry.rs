//! The Alibaba client's retry bounds.
//!
//! The policy itself (which errors may be repeated, backoff with jitter,
//! the vendor's `x-acs-retry-after`, the process-wide retry budget, log
//! levels) is [`listener_core::retry`], shared with the Tencent client;
//! this module holds Alibaba's default bounds in its own terms.

use std::time::Duration;

use listener_core::retry::Bounds;

/// Bounds on retrying one call: attempts and total time.
///
/// Both bounds matter: attempts alone let a long `retry-after` stretch a
/// call to minutes; time alone lets fast failures hammer the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included; 1 means never retry.
    pub max_attempts: u32,
    /// Backoff ceiling before the first retry; doubles on each retry.
    pub base_delay: Duration,
    /// Upper bound of a single backoff (not of a vendor `retry-after`).
    pub max_delay: Duration,
    /// No retry starts once waiting for it would pass this much time since
    /// the first attempt began.
    pub max_elapsed: Duration,
}

impl RetryPolicy {
    /// One attempt, no retries: for callers that run their own loop and
    /// for tests that want to see the first error.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            base_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
            max_elapsed: Duration::ZERO,
        }
    }

    /// These bounds in the shared policy's terms.
    pub fn bounds(&self) -> Bounds {
        Bounds {
            max_attempts: self.max_attempts,
            initial: self.base_delay,
            max: self.max_delay,
            max_elapsed: self.max_elapsed,
            jitter: true,
        }
    }
}

impl Default for RetryPolicy {
    /// Five attempts within a minute, backoff from 200 ms up to 5 s: enough
    /// to ride out throttling and a listener finishing its previous change,
    /// short enough that a stuck call surfaces.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            max_elapsed: Duration::from_secs(60),
        }
    }
}
