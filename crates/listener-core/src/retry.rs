//! The one retry policy every vendor client follows.
//!
//! Three questions, kept apart:
//!
//! - **May** this error be retried at all? ([`may_retry`]) Throttled and
//!   busy answers mean the vendor refused before doing anything, and a
//!   connection that never opened carried nothing: those are always
//!   repeated. A request that was written but whose answer was lost (or a
//!   server fault) may have been applied, so it is repeated only when the
//!   caller says a repeat is safe: reads, deletes by ID, or writes carrying
//!   a `ClientToken` (the vendor then returns the first result instead of
//!   acting twice). A non-idempotent write without a token is never
//!   repeated blindly; its adapter reconciles by reading back instead.
//! - **How long** to wait? ([`delay`]) The vendor's `retry_after` when it
//!   gave one (honoured as given, even above the backoff cap), otherwise
//!   exponential backoff with full jitter (uniform in `[0, ceiling]`), which
//!   spreads clients that failed together.
//! - **Can the process afford** another retry? ([`RetryBudget`]) Every
//!   retry of every client in the process takes a token from one shared
//!   bucket ([`RetryBudget::global`]); when it is empty the error is
//!   returned at once. Per-call bounds (attempts, elapsed time) stop one
//!   call from hammering; the budget stops a failing region from turning
//!   hundreds of concurrent calls into a retry storm.
//!
//! Logging is one rule for all clients: each retry is logged at `info`
//! ([`log_retry`]; throttling and busy instances are routine and usually
//! pass), giving up on a retryable error is logged at `warn`
//! ([`log_give_up`]; the error then reaches the user), and an error that
//! was never retryable is left to the caller to report.

use std::future::Future;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use rand::Rng;

use crate::Error;

/// Whether a failed call may be made again.
///
/// `repeat_is_safe` is the caller's promise that repeating the call cannot
/// change anything a first success would not have: reads, deletes by ID,
/// modifies that set absolute values, or writes carrying a `ClientToken`.
pub fn may_retry(error: &Error, repeat_is_safe: bool) -> bool {
    match error {
        Error::Throttled { .. } | Error::Busy { .. } => true,
        Error::Transport { maybe_applied, .. } => !*maybe_applied || repeat_is_safe,
        _ => false,
    }
}

/// The backoff ceiling before retry number `retry` (1 for the first):
/// `initial * 2^(retry-1)`, capped at `max`.
pub fn ceiling(initial: Duration, max: Duration, retry: u32) -> Duration {
    let shift = retry.saturating_sub(1).min(31);
    initial.checked_mul(1u32 << shift).unwrap_or(max).min(max)
}

/// The wait before retry number `retry` after `error`, given a uniform
/// `fraction` in `[0, 1]`: the vendor's `retry_after` when the error
/// carries one, else `fraction` of [`ceiling`] (full jitter).
pub fn delay(error: &Error, initial: Duration, max: Duration, retry: u32, fraction: f64) -> Duration {
    if let Error::Throttled {
        retry_after: Some(wait),
        ..
    } = error
    {
        return *wait;
    }
    ceiling(initial, max, retry).mul_f64(fraction.clamp(0.0, 1.0))
}

/// A uniform random fraction in `[0, 1)` for [`delay`].
pub fn jitter() -> f64 {
    rand::rng().random()
}

/// Log one retry about to be made (after its wait was chosen).
pub fn log_retry(attempt: u32, error: &Error, delay: Duration) {
    tracing::info!(
        attempt,
        kind = error.kind(),
        code = error.vendor_code().unwrap_or(""),
        delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
        error = %error,
        "retrying"
    );
}

/// Log that a retryable error is being returned: attempts, time or the
/// process's retry budget ran out (`reason` says which).
pub fn log_give_up(attempt: u32, error: &Error, reason: &'static str) {
    tracing::warn!(
        attempt,
        kind = error.kind(),
        code = error.vendor_code().unwrap_or(""),
        reason,
        error = %error,
        "giving up retrying"
    );
}

/// Per-call bounds on retrying: attempts and total time, and the backoff
/// curve. Each vendor client keeps its own defaults and converts them.
///
/// Both bounds matter: attempts alone let a long `retry_after` stretch a
/// call to minutes; time alone lets fast failures hammer the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Attempts in total, the first included; 1 means never retry.
    pub max_attempts: u32,
    /// Backoff ceiling before the first retry; doubles on each retry.
    pub initial: Duration,
    /// Upper bound of one backoff (not of a vendor `retry_after`).
    pub max: Duration,
    /// No retry starts when its wait would end later than this after the
    /// first attempt began.
    pub max_elapsed: Duration,
    /// Whether a backoff is drawn uniformly from `[0, ceiling]` (full
    /// jitter, the default: clients that failed together spread out), or
    /// is the ceiling itself (a fixed pace, for a write re-sent with its
    /// token at the profile's poll interval until the wait deadline).
    pub jitter: bool,
}

/// What to do after a failed attempt, before the budget is consulted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Wait this long, then try again.
    Retry(Duration),
    /// The error could be retried but a per-call bound is reached; the
    /// reason names which (`"attempts"`, `"time"`).
    GiveUp(&'static str),
    /// The error may not be retried ([`may_retry`] is false).
    NotRetryable,
}

impl Bounds {
    /// The decision after `attempt` attempts failed, the last with
    /// `error`, `elapsed` after the first began; `fraction` is the jitter
    /// draw (see [`delay`]). Pure: no clock, no budget, no logging.
    pub fn decide(
        &self,
        error: &Error,
        attempt: u32,
        elapsed: Duration,
        repeat_is_safe: bool,
        fraction: f64,
    ) -> Decision {
        if !may_retry(error, repeat_is_safe) {
            return Decision::NotRetryable;
        }
        if attempt >= self.max_attempts {
            return Decision::GiveUp("attempts");
        }
        let fraction = if self.jitter { fraction } else { 1.0 };
        let wait = delay(error, self.initial, self.max, attempt, fraction);
        if elapsed.saturating_add(wait) > self.max_elapsed {
            return Decision::GiveUp("time");
        }
        Decision::Retry(wait)
    }
}

/// The wait before the next attempt, or `None` to return `error` now: the
/// whole policy in one call, used by every vendor client. Decides under
/// `bounds` with a fresh jitter draw, takes a token from `budget` for a
/// retry, and logs as the module documents (a give-up is not logged when
/// `bounds` allow no retry at all: such callers run their own loop).
pub fn next_delay(
    bounds: &Bounds,
    budget: &RetryBudget,
    error: &Error,
    attempt: u32,
    elapsed: Duration,
    repeat_is_safe: bool,
) -> Option<Duration> {
    match bounds.decide(error, attempt, elapsed, repeat_is_safe, jitter()) {
        Decision::Retry(wait) if budget.try_take() => {
            log_retry(attempt, error, wait);
            Some(wait)
        }
        Decision::Retry(_) => {
            log_give_up(attempt, error, "retry budget");
            None
        }
        Decision::GiveUp(reason) => {
            if bounds.max_attempts > 1 {
                log_give_up(attempt, error, reason);
            }
            None
        }
        Decision::NotRetryable => None,
    }
}

/// One attempt about to be made by [`run`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    /// 1 for the first attempt, 2 for the first retry, ...
    pub number: u32,
    /// The wait before this attempt (zero for the first); Alibaba sends it
    /// as `x-acs-retry-delay`.
    pub after: Duration,
}

/// The one retry loop of every vendor client: run `op` until it succeeds or
/// [`next_delay`] says to stop (under `bounds`, the process-wide
/// [`RetryBudget::global`], `repeat_is_safe` as [`may_retry`] takes it),
/// sleeping the chosen delay between attempts. `op` is told which attempt
/// it makes; a retry is an attempt whose number is above 1.
pub async fn run<T, F, Fut>(bounds: &Bounds, repeat_is_safe: bool, mut op: F) -> Result<T, Error>
where
    F: FnMut(Attempt) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let started = Instant::now();
    let mut attempt = Attempt {
        number: 1,
        after: Duration::ZERO,
    };
    loop {
        let error = match op(attempt).await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        let Some(wait) = next_delay(
            bounds,
            RetryBudget::global(),
            &error,
            attempt.number,
            started.elapsed(),
            repeat_is_safe,
        ) else {
            return Err(error);
        };
        tokio::time::sleep(wait).await;
        attempt = Attempt {
            number: attempt.number + 1,
            after: wait,
        };
    }
}

/// A token bucket of retries shared by the clients of a process.
///
/// Full at the start; each retry takes one token; tokens come back at a
/// steady rate up to the capacity. An empty bucket means "return the error
/// now": the first attempt of a call never needs a token, so an exhausted
/// budget slows nothing that succeeds, it only stops repeats.
#[derive(Debug)]
pub struct RetryBudget {
    capacity: f64,
    refill_per_sec: f64,
    state: Mutex<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RetryBudget {
    /// Tokens in the process-wide bucket: a burst of 1,000 retries, ten
    /// times the retries of the whole short fault soak (107 over 1,068 calls
    /// on four clouds, every fault kind at a few percent of calls).
    pub const GLOBAL_CAPACITY: u32 = 1000;
    /// Refill of the process-wide bucket: 100 retries a second sustained,
    /// about five times the short soak's average (some 18 a second). A
    /// region failing every call is held to this rate instead of
    /// `calls x attempts`.
    pub const GLOBAL_REFILL_PER_SEC: f64 = 100.0;

    /// A full bucket of `capacity` tokens refilling `refill_per_sec`.
    pub fn new(capacity: u32, refill_per_sec: f64) -> Self {
        RetryBudget {
            capacity: f64::from(capacity),
            refill_per_sec: refill_per_sec.max(0.0),
            state: Mutex::new(Bucket {
                tokens: f64::from(capacity),
                at: Instant::now(),
            }),
        }
    }

    /// The bucket every vendor client in this process draws from.
    pub fn global() -> &'static RetryBudget {
        static GLOBAL: OnceLock<RetryBudget> = OnceLock::new();
        GLOBAL.get_or_init(|| RetryBudget::new(Self::GLOBAL_CAPACITY, Self::GLOBAL_REFILL_PER_SEC))
    }

    /// Take a token for one retry now; `false` means the budget is spent.
    pub fn try_take(&self) -> bool {
        self.try_take_at(Instant::now())
    }

    /// [`try_take`](Self::try_take) as of `now` (tests pass the clock).
    pub fn try_take_at(&self, now: Instant) -> bool {
        let mut bucket = self.state.lock().unwrap_or_else(|p| p.into_inner());
        Self::refill(&mut bucket, now, self.capacity, self.refill_per_sec);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Whole tokens left as of `now`.
    pub fn available_at(&self, now: Instant) -> u32 {
        let mut bucket = self.state.lock().unwrap_or_else(|p| p.into_inner());
        Self::refill(&mut bucket, now, self.capacity, self.refill_per_sec);
        bucket.tokens as u32
    }

    fn refill(bucket: &mut Bucket, now: Instant, capacity: f64, rate: f64) {
        // A `now` before the last update (clocks passed by tests, threads
        // racing) adds nothing rather than going backwards.
        let gained = now.saturating_duration_since(bucket.at).as_secs_f64() * rate;
        if now > bucket.at {
            bucket.at = now;
        }
        bucket.tokens = (bucket.tokens + gained).min(capacity);
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

    fn throttled(retry_after: Option<Duration>) -> Error {
        Error::Throttled {
            vendor: "v",
            code: "Throttling".into(),
            request_id: "r".into(),
            retry_after,
        }
    }

    #[test]
    fn what_the_vendor_did_not_act_on_is_always_retried() {
        let busy = Error::Busy {
            vendor: "v",
            code: "SystemBusy".into(),
            message: "m".into(),
            request_id: "r".into(),
        };
        for safe in [false, true] {
            assert!(may_retry(&throttled(None), safe));
            assert!(may_retry(&busy, safe));
            assert!(may_retry(&transport(false), safe));
        }
    }

    #[test]
    fn a_maybe_applied_request_is_repeated_only_when_safe() {
        assert!(!may_retry(&transport(true), false));
        assert!(may_retry(&transport(true), true));
    }

    #[test]
    fn refusals_are_never_retried() {
        let conflict = Error::Conflict {
            vendor: "v",
            code: "PortConflict".into(),
            message: "m".into(),
            request_id: "r".into(),
        };
        let auth = Error::Authentication {
            vendor: "v",
            code: "AuthFailure".into(),
            message: "m".into(),
            request_id: "r".into(),
        };
        assert!(!may_retry(&conflict, true));
        assert!(!may_retry(&auth, true));
    }

    #[test]
    fn backoff_doubles_caps_and_jitter_scales_it() {
        let (a, b) = (Duration::from_millis(100), Duration::from_millis(1000));
        assert_eq!(ceiling(a, b, 1), Duration::from_millis(100));
        assert_eq!(ceiling(a, b, 4), Duration::from_millis(800));
        assert_eq!(ceiling(a, b, 5), b);
        assert_eq!(ceiling(a, b, 200), b);
        let e = transport(false);
        assert_eq!(delay(&e, a, b, 3, 0.5), Duration::from_millis(200));
        assert_eq!(delay(&e, a, b, 3, 0.0), Duration::ZERO);
        for retry in 1..8 {
            assert!(delay(&e, a, b, retry, jitter()) <= ceiling(a, b, retry));
        }
    }

    #[test]
    fn the_vendors_retry_after_wins_even_above_the_cap() {
        let e = throttled(Some(Duration::from_secs(3)));
        let (a, b) = (Duration::from_millis(100), Duration::from_millis(1000));
        assert_eq!(delay(&e, a, b, 1, 0.1), Duration::from_secs(3));
        assert_eq!(delay(&throttled(None), a, b, 1, 1.0), a);
    }

    fn bounds(max_attempts: u32) -> Bounds {
        Bounds {
            max_attempts,
            initial: Duration::from_millis(100),
            max: Duration::from_millis(100),
            max_elapsed: Duration::from_secs(1),
            jitter: true,
        }
    }

    #[test]
    fn without_jitter_the_pace_is_the_ceiling() {
        let b = Bounds {
            jitter: false,
            ..bounds(10)
        };
        let e = transport(false);
        assert_eq!(
            b.decide(&e, 1, Duration::ZERO, false, 0.0),
            Decision::Retry(Duration::from_millis(100))
        );
    }

    #[tokio::test]
    async fn the_loop_stops_at_max_attempts_and_numbers_each_attempt() {
        let b = Bounds {
            initial: Duration::from_millis(1),
            max: Duration::from_millis(2),
            ..bounds(3)
        };
        let mut seen = Vec::new();
        let result: Result<(), Error> = run(&b, false, |a| {
            seen.push(a.number);
            async { Err(transport(false)) }
        })
        .await;
        assert!(matches!(result, Err(Error::Transport { .. })));
        assert_eq!(seen, [1, 2, 3]);
    }

    #[tokio::test]
    async fn the_loop_returns_an_error_it_may_not_repeat_at_once() {
        let mut calls = 0;
        let result: Result<(), Error> = run(&bounds(5), false, |_| {
            calls += 1;
            async { Err(transport(true)) }
        })
        .await;
        assert!(result.is_err());
        assert_eq!(calls, 1);
    }

    #[test]
    fn attempts_and_total_time_are_bounded() {
        let b = bounds(3);
        let e = transport(false);
        assert_eq!(
            b.decide(&e, 1, Duration::ZERO, false, 1.0),
            Decision::Retry(Duration::from_millis(100))
        );
        assert_eq!(
            b.decide(&e, 2, Duration::ZERO, false, 1.0),
            Decision::Retry(Duration::from_millis(100))
        );
        assert_eq!(
            b.decide(&e, 3, Duration::ZERO, false, 1.0),
            Decision::GiveUp("attempts")
        );
        assert_eq!(
            b.decide(&e, 1, Duration::from_millis(950), false, 1.0),
            Decision::GiveUp("time")
        );
        // A vendor wait longer than the time left is not waited for.
        let slow = throttled(Some(Duration::from_secs(2)));
        assert_eq!(b.decide(&slow, 1, Duration::ZERO, false, 0.0), Decision::GiveUp("time"));
        assert_eq!(
            b.decide(&transport(true), 1, Duration::ZERO, false, 1.0),
            Decision::NotRetryable
        );
    }

    #[test]
    fn each_retry_takes_a_token_and_an_empty_budget_returns_the_error_at_once() {
        let b = bounds(10);
        let budget = RetryBudget::new(2, 0.0);
        let e = transport(false);
        assert!(next_delay(&b, &budget, &e, 1, Duration::ZERO, false).is_some());
        assert!(next_delay(&b, &budget, &e, 2, Duration::ZERO, false).is_some());
        assert_eq!(budget.available_at(Instant::now()), 0);
        assert_eq!(next_delay(&b, &budget, &e, 3, Duration::ZERO, false), None);
        // Errors that are not retried, and the first attempt, cost nothing.
        let budget = RetryBudget::new(1, 0.0);
        assert_eq!(
            next_delay(&b, &budget, &transport(true), 1, Duration::ZERO, false),
            None
        );
        assert_eq!(next_delay(&bounds(1), &budget, &e, 1, Duration::ZERO, false), None);
        assert_eq!(budget.available_at(Instant::now()), 1);
    }

    #[test]
    fn an_exhausted_budget_refuses_at_once() {
        let budget = RetryBudget::new(3, 0.0);
        let now = Instant::now();
        assert!(budget.try_take_at(now));
        assert!(budget.try_take_at(now));
        assert!(budget.try_take_at(now));
        assert!(!budget.try_take_at(now));
        assert_eq!(budget.available_at(now), 0);
    }

    #[test]
    fn the_budget_refills_at_its_rate_up_to_capacity() {
        let budget = RetryBudget::new(2, 4.0);
        let start = Instant::now();
        assert!(budget.try_take_at(start));
        assert!(budget.try_take_at(start));
        assert!(!budget.try_take_at(start));
        // A quarter of a second at four a second: one token back.
        let later = start + Duration::from_millis(250);
        assert!(budget.try_take_at(later));
        assert!(!budget.try_take_at(later));
        // An hour later the bucket is full, not fuller.
        let much_later = later + Duration::from_secs(3600);
        assert_eq!(budget.available_at(much_later), 2);
        // A clock from the past adds nothing.
        assert_eq!(budget.available_at(start), 2);
    }

    #[test]
    fn the_global_budget_is_sized_as_documented() {
        let g = RetryBudget::global();
        assert!(std::ptr::eq(g, RetryBudget::global()));
        assert!(g.available_at(Instant::now()) <= RetryBudget::GLOBAL_CAPACITY);
    }
}
