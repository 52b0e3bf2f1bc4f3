//! The Alibaba client's retry bounds.
//!
//! The policy itself (which errors may be repeated, backoff with jitter,
//! the vendor's `x-acs-retry-after`, the process-wide retry budget, log
//! levels) is [`listener_core::retry`], shared with the Tencent client;
//! this module holds Alibaba's default bounds in its own terms.

use std::time::Duration;

use listener_core::retry::{self, Bounds, Decision};
use listener_core::Error;

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

    /// The backoff before retry number `retry` (1 for the first retry),
    /// given a uniform random `fraction` in `[0, 1]`: full jitter over
    /// `[0, min(max_delay, base_delay * 2^(retry-1))]`. A vendor
    /// `retry_after` is honoured as given instead.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>, fraction: f64) -> Duration {
        match retry_after {
            Some(wait) => wait,
            None => retry::ceiling(self.base_delay, self.max_delay, retry).mul_f64(fraction.clamp(0.0, 1.0)),
        }
    }

    /// The wait before the next attempt, or `None` to give up: after
    /// `attempt` attempts have failed with `error`, `elapsed` after the
    /// first began. `repeat_is_safe` says whether the call is idempotent or
    /// carries a `ClientToken`. Pure (no budget, no logging): the client
    /// goes through [`retry::next_delay`].
    pub fn next_delay(
        &self,
        error: &Error,
        attempt: u32,
        elapsed: Duration,
        repeat_is_safe: bool,
        fraction: f64,
    ) -> Option<Duration> {
        match self.bounds().decide(error, attempt, elapsed, repeat_is_safe, fraction) {
            Decision::Retry(wait) => Some(wait),
            Decision::GiveUp(_) | Decision::NotRetryable => None,
        }
    }

    /// These bounds in the shared policy's terms.
    pub fn bounds(&self) -> Bounds {
        Bounds {
            max_attempts: self.max_attempts,
            initial: self.base_delay,
            max: self.max_delay,
            max_elapsed: self.max_elapsed,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn busy() -> Error {
        Error::Busy {
            vendor: "v",
            code: "SystemBusy".into(),
            message: "m".into(),
            request_id: "r".into(),
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitter_scales_it() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            max_elapsed: Duration::from_secs(60),
        };
        assert_eq!(p.delay(1, None, 1.0), Duration::from_millis(100));
        assert_eq!(p.delay(2, None, 1.0), Duration::from_millis(200));
        assert_eq!(p.delay(4, None, 1.0), Duration::from_millis(800));
        assert_eq!(p.delay(5, None, 1.0), Duration::from_millis(1000));
        assert_eq!(p.delay(40, None, 1.0), Duration::from_millis(1000));
        assert_eq!(p.delay(3, None, 0.5), Duration::from_millis(200));
        assert_eq!(p.delay(3, None, 0.0), Duration::ZERO);
        // The vendor's wait wins over the backoff, even above the cap.
        assert_eq!(p.delay(1, Some(Duration::from_secs(3)), 0.1), Duration::from_secs(3));
    }

    #[test]
    fn attempts_and_total_time_are_bounded() {
        let p = RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(100),
            max_elapsed: Duration::from_secs(1),
        };
        assert!(p.next_delay(&busy(), 1, Duration::ZERO, false, 1.0).is_some());
        assert!(p.next_delay(&busy(), 2, Duration::ZERO, false, 1.0).is_some());
        assert!(p.next_delay(&busy(), 3, Duration::ZERO, false, 1.0).is_none());
        assert!(p
            .next_delay(&busy(), 1, Duration::from_millis(950), false, 1.0)
            .is_none());
        let throttled = Error::Throttled {
            vendor: "v",
            code: "Throttling".into(),
            request_id: "r".into(),
            retry_after: Some(Duration::from_secs(2)),
        };
        assert!(p.next_delay(&throttled, 1, Duration::ZERO, false, 0.0).is_none());
        assert!(RetryPolicy::none()
            .next_delay(&busy(), 1, Duration::ZERO, true, 0.0)
            .is_none());
    }
}
