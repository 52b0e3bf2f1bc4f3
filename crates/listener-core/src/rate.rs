//! The client-side rate limit every vendor client uses: at most the
//! documented number of calls per action in any window, shared by all the
//! clients of one account in the process.
//!
//! Vendors document their limits as "N requests per second" per action (and
//! Alibaba ALB some as "about 200 a minute") without saying how the window
//! is counted. A sliding window over the last calls is the one limit that
//! keeps every counting honest, fixed windows and sliding ones alike: no
//! window, wherever it starts, ever holds more than N of our calls. Unlike
//! spacing calls one period apart, it lets calls that arrive together go
//! out together (several instances polling at once, a plan reading four
//! listener kinds), which is what the vendors' own buckets allow; each only
//! waits once N calls already went out in the last window.
//!
//! Rates below one per second allow one call per `1 / rate` seconds;
//! fractional rates above one round down (3.5 per second is 3 per second).
//!
//! [`Limits`] is what a client holds: the per-action rate for every action,
//! and [`Budget`]s of their own for the actions a vendor counts apart (ALB's
//! writes). [`Limits::shared`] hands every client of the process with the
//! same account, service, region and endpoint (the caller's key) and the
//! same limits one [`Limits`], because vendors count per account: two
//! profiles of one account applied at once must share one budget, or
//! together they send twice the documented rate and meet throttling.
//! Clients with a different rate override keep their own: the user asked
//! for that rate.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use crate::Error;

/// The profile field a bad rate is reported under.
const RATE_FIELD: &str = "rate_limit_per_second";

/// At most `calls` calls per key in any `window`.
#[derive(Debug)]
pub struct WindowLimiter {
    calls: usize,
    window: Duration,
    log: Mutex<HashMap<String, VecDeque<Instant>>>,
}

fn config_error(field: &str, message: &str) -> Error {
    Error::Config {
        field: field.to_string(),
        message: message.to_string(),
    }
}

/// Admit a call at `now` into `log` (the call times still inside the
/// window, oldest first), or say how long until one leaves it.
fn admit(log: &mut VecDeque<Instant>, now: Instant, calls: usize, window: Duration) -> Result<(), Duration> {
    while log.front().is_some_and(|t| now.saturating_duration_since(*t) >= window) {
        log.pop_front();
    }
    if log.len() < calls {
        log.push_back(now);
        return Ok(());
    }
    let wait = log.front().map_or(Duration::ZERO, |t| {
        window.saturating_sub(now.saturating_duration_since(*t))
    });
    // Never zero: a zero wait would spin while the clock stands still.
    Err(wait.max(Duration::from_millis(1)))
}

impl WindowLimiter {
    /// A limiter for `rate` calls per second per key. Refuses rates that
    /// are not positive and finite, or so large the interval rounds to
    /// zero (field `rate_limit_per_second`).
    pub fn per_second(rate: f64) -> Result<Self, Error> {
        if !(rate.is_finite() && rate > 0.0) {
            return Err(config_error(RATE_FIELD, "must be a positive number"));
        }
        let interval =
            Duration::try_from_secs_f64(1.0 / rate).map_err(|_| config_error(RATE_FIELD, "is out of range"))?;
        if interval.is_zero() {
            return Err(config_error(
                RATE_FIELD,
                "is too large (the interval between calls rounds to zero)",
            ));
        }
        let (calls, window) = if rate >= 1.0 {
            // Saturates for absurd rates; the window log only ever holds
            // the calls actually made in the last second.
            (rate.floor().min(f64::from(u32::MAX)) as usize, Duration::from_secs(1))
        } else {
            (1, interval)
        };
        Ok(Self::new(calls, window))
    }

    /// At most `calls` per key in any `window` (both checked by the caller).
    fn new(calls: usize, window: Duration) -> Self {
        WindowLimiter {
            calls,
            window,
            log: Mutex::new(HashMap::new()),
        }
    }

    /// Admit a call for `key` at `now` and count it, or say how long until
    /// one may go (tests pass the clock).
    pub fn try_acquire_at(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        let entry = log.entry(key.to_string()).or_default();
        admit(entry, now, self.calls, self.window)
    }

    /// Wait until a call for `key` may go out, and count it.
    pub async fn acquire(&self, key: &str) {
        while let Err(wait) = self.try_acquire_at(key, Instant::now()) {
            tracing::trace!(wait_ms = wait.as_millis() as u64, "rate limited locally");
            tokio::time::sleep(wait).await;
        }
    }
}

/// A budget of its own for one action: `calls` per `period`, all of which
/// may go at once. Vendors document some budgets per minute (ALB: about 200
/// writes a minute per API), which a per-second rate cannot express: 200
/// creates may go out at once, the 201st waits until the first is a minute
/// old.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// The action, e.g. `CreateListener`.
    pub action: &'static str,
    /// Calls allowed per period (also the burst).
    pub calls: u32,
    /// The period.
    pub period: Duration,
}

impl Budget {
    /// The limiter of this budget; refuses a budget allowing nothing
    /// (field `action_limits.<action>`).
    fn limiter(&self) -> Result<WindowLimiter, Error> {
        if self.calls == 0 || self.period.is_zero() {
            return Err(Error::Config {
                field: format!("action_limits.{}", self.action),
                message: format!(
                    "must allow at least one call per period, got {} per {:?}",
                    self.calls, self.period
                ),
            });
        }
        Ok(WindowLimiter::new(self.calls as usize, self.period))
    }
}

/// The client-side limits of one account on one service, region and
/// endpoint: the per-action rate, and the actions with a budget of their
/// own.
#[derive(Debug)]
pub struct Limits {
    per_action: WindowLimiter,
    budgets: Vec<(&'static str, WindowLimiter)>,
}

impl Limits {
    /// `rate` calls per second per action, and `budgets` for the actions
    /// counted apart. Refuses an unusable rate or an empty budget, naming
    /// the field.
    pub fn new(rate: f64, budgets: &[Budget]) -> Result<Self, Error> {
        Ok(Limits {
            per_action: WindowLimiter::per_second(rate)?,
            budgets: budgets
                .iter()
                .map(|b| b.limiter().map(|l| (b.action, l)))
                .collect::<Result<_, _>>()?,
        })
    }

    /// The limits for `key` (account, service, region, endpoint: whatever
    /// the vendor counts a budget by) at `rate` with `budgets`, shared with
    /// every other holder of the same key and limits in this process.
    pub fn shared(key: &str, rate: f64, budgets: &[Budget]) -> Result<Arc<Limits>, Error> {
        static SHARED: OnceLock<Mutex<HashMap<String, Weak<Limits>>>> = OnceLock::new();
        let key = format!("{key}\n{rate}\n{budgets:?}");
        let mut map = SHARED
            .get_or_init(|| Mutex::new(HashMap::new()))
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(live) = map.get(&key).and_then(Weak::upgrade) {
            return Ok(live);
        }
        let limits = Arc::new(Limits::new(rate, budgets)?);
        // Entries of clients all dropped go, so the map stays small.
        map.retain(|_, w| w.strong_count() > 0);
        map.insert(key, Arc::downgrade(&limits));
        Ok(limits)
    }

    /// Wait until a call of `action` may go out, and count it: under the
    /// action's own budget when it has one, else under the per-action rate.
    pub async fn acquire(&self, action: &str) {
        match self.budgets.iter().find(|(a, _)| *a == action) {
            Some((_, own)) => own.acquire(action).await,
            None => self.per_action.acquire(action).await,
        }
    }

    /// [`Limits::acquire`] without waiting, as of `now` (tests).
    pub fn try_acquire_at(&self, action: &str, now: Instant) -> Result<(), Duration> {
        match self.budgets.iter().find(|(a, _)| *a == action) {
            Some((_, own)) => own.try_acquire_at(action, now),
            None => self.per_action.try_acquire_at(action, now),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_unusable_rates() {
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e300] {
            assert!(
                matches!(WindowLimiter::per_second(rate), Err(Error::Config { ref field, .. }) if field == "rate_limit_per_second"),
                "{rate}"
            );
        }
        assert!(WindowLimiter::per_second(0.5).is_ok());
        assert!(WindowLimiter::per_second(20.0).is_ok());
    }

    #[test]
    fn calls_that_come_together_go_together_up_to_the_rate() {
        let start = Instant::now();
        let second = Duration::from_secs(1);
        let mut log = VecDeque::new();
        for _ in 0..20 {
            assert!(admit(&mut log, start, 20, second).is_ok());
        }
        // The 21st waits for the first to leave the window.
        assert_eq!(admit(&mut log, start, 20, second), Err(second));
        let later = start + Duration::from_millis(400);
        assert_eq!(admit(&mut log, later, 20, second), Err(Duration::from_millis(600)));
        assert!(admit(&mut log, start + second, 20, second).is_ok());
    }

    #[test]
    fn no_window_ever_holds_more_than_the_rate() {
        // Calls wanted every 10 ms for 5 s at 20/s: whatever is admitted,
        // no one-second span holds more than 20.
        let start = Instant::now();
        let second = Duration::from_secs(1);
        let mut log = VecDeque::new();
        let mut admitted = Vec::new();
        for i in 0..500u64 {
            let now = start + Duration::from_millis(10 * i);
            if admit(&mut log, now, 20, second).is_ok() {
                admitted.push(now);
            }
        }
        for (i, t) in admitted.iter().enumerate() {
            let in_window = admitted[i..]
                .iter()
                .take_while(|u| u.duration_since(*t) < second)
                .count();
            assert!(in_window <= 20, "{in_window} calls in the second from call {i}");
        }
        assert!(admitted.len() >= 100, "the rate is used: {}", admitted.len());
    }

    #[test]
    fn slow_rates_allow_one_call_per_interval() {
        let limiter = WindowLimiter::per_second(0.5).expect("valid");
        assert_eq!((limiter.calls, limiter.window), (1, Duration::from_secs(2)));
        let limiter = WindowLimiter::per_second(3.5).expect("valid");
        assert_eq!((limiter.calls, limiter.window), (3, Duration::from_secs(1)));
    }

    #[test]
    fn an_action_budget_of_nothing_is_refused_naming_the_action() {
        for (calls, period) in [(0, Duration::from_secs(60)), (5, Duration::ZERO)] {
            let budget = Budget {
                action: "CreateListener",
                calls,
                period,
            };
            match Limits::new(20.0, &[budget]) {
                Err(Error::Config { field, .. }) => assert_eq!(field, "action_limits.CreateListener"),
                other => panic!("expected a config error, got {other:?}"),
            }
        }
    }

    #[test]
    fn a_budget_lets_its_whole_period_go_at_once_and_other_actions_keep_the_rate() {
        let budget = Budget {
            action: "CreateListener",
            calls: 200,
            period: Duration::from_secs(60),
        };
        let limits = Limits::new(20.0, &[budget]).expect("valid");
        let now = Instant::now();
        // The whole budget is available at once: 200 calls pass, the 201st
        // waits until the first is a minute old.
        for _ in 0..200 {
            assert!(limits.try_acquire_at("CreateListener", now).is_ok());
        }
        assert_eq!(
            limits.try_acquire_at("CreateListener", now),
            Err(Duration::from_secs(60))
        );
        assert!(limits
            .try_acquire_at("CreateListener", now + Duration::from_secs(60))
            .is_ok());
        // Other actions are counted per action at the rate.
        for _ in 0..20 {
            assert!(limits.try_acquire_at("GetListenerAttribute", now).is_ok());
        }
        assert!(limits.try_acquire_at("GetListenerAttribute", now).is_err());
        assert!(limits.try_acquire_at("ListListeners", now).is_ok());
    }

    #[test]
    fn clients_of_one_account_share_limits_and_others_do_not() {
        let key = "gaap\n\nhttp://127.0.0.1:1/\nAKID-shared-test";
        let a = Limits::shared(key, 20.0, &[]).expect("limits");
        let b = Limits::shared(key, 20.0, &[]).expect("limits");
        assert!(Arc::ptr_eq(&a, &b));
        let other_account = Limits::shared("gaap\n\nhttp://127.0.0.1:1/\nAKID-other-test", 20.0, &[]).expect("limits");
        assert!(!Arc::ptr_eq(&a, &other_account));
        let other_rate = Limits::shared(key, 5.0, &[]).expect("limits");
        assert!(!Arc::ptr_eq(&a, &other_rate));
        let budget = Budget {
            action: "CreateListener",
            calls: 200,
            period: Duration::from_secs(60),
        };
        let other_budgets = Limits::shared(key, 20.0, &[budget]).expect("limits");
        assert!(!Arc::ptr_eq(&a, &other_budgets));
    }
}
