//! When and how long to wait before sending a failed call again.
//!
//! Two questions, kept apart: *may* this error be retried at all
//! ([`may_retry`], which depends on whether a repeat is safe), and *how
//! long* to wait ([`RetryPolicy::delay`]: the vendor's `x-acs-retry-after`
//! when given, else exponential backoff with full jitter so that many
//! clients that failed together do not come back together).

use std::time::Duration;

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
        if let Some(wait) = retry_after {
            return wait;
        }
        let shift = retry.saturating_sub(1).min(31);
        let ceiling = self
            .base_delay
            .checked_mul(1u32 << shift)
            .unwrap_or(self.max_delay)
            .min(self.max_delay);
        ceiling.mul_f64(fraction.clamp(0.0, 1.0))
    }

    /// The wait before the next attempt, or `None` to give up: after
    /// `attempt` attempts have failed with `error`, `elapsed` after the
    /// first began. `repeat_is_safe` says whether the call is idempotent or
    /// carries a `ClientToken`.
    pub fn next_delay(
        &self,
        error: &Error,
        attempt: u32,
        elapsed: Duration,
        repeat_is_safe: bool,
        fraction: f64,
    ) -> Option<Duration> {
        if attempt >= self.max_attempts || !may_retry(error, repeat_is_safe) {
            return None;
        }
        let retry_after = match error {
            Error::Throttled { retry_after, .. } => *retry_after,
            _ => None,
        };
        let wait = self.delay(attempt, retry_after, fraction);
        if elapsed.saturating_add(wait) > self.max_elapsed {
            return None;
        }
        Some(wait)
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

/// Whether an error may be retried at all.
///
/// Throttling and busy answers mean nothing was done, so they are always
/// retried, as are connections that were never made. A lost answer or a
/// server fault may hide a change that did happen: repeating it is only
/// safe for reads (`idempotent`) or writes carrying a `ClientToken`, which
/// makes the vendor return the first result instead of acting twice.
pub fn may_retry(error: &Error, repeat_is_safe: bool) -> bool {
    match error {
        Error::Throttled { .. } | Error::Busy { .. } => true,
        Error::Transport { maybe_applied, .. } => !maybe_applied || repeat_is_safe,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transport(maybe_applied: bool) -> Error {
        Error::Transport {
            vendor: "v",
            message: "m".into(),
            maybe_applied,
        }
    }

    fn busy() -> Error {
        Error::Busy {
            vendor: "v",
            code: "SystemBusy".into(),
            message: "m".into(),
            request_id: "r".into(),
        }
    }

    #[test]
    fn lost_answers_are_retried_only_when_a_repeat_is_safe() {
        assert!(may_retry(&transport(false), false));
        assert!(!may_retry(&transport(true), false));
        assert!(may_retry(&transport(true), true));
        assert!(may_retry(&busy(), false));
        let conflict = Error::Conflict {
            vendor: "v",
            code: "PortConflict.Listener".into(),
            message: "m".into(),
            request_id: "r".into(),
        };
        assert!(!may_retry(&conflict, true));
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
