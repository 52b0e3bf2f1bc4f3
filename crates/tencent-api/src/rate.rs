//! The client-side rate limit: at most the documented number of calls per
//! action in any one-second window.
//!
//! Tencent documents its limits as "N requests per second" per action
//! without saying how the second is counted. A sliding window over the
//! last calls is the one limit that keeps every counting honest, fixed
//! windows and sliding ones alike: no one-second span, wherever it starts,
//! ever holds more than N of our calls. Unlike spacing calls one period
//! apart, it lets calls that arrive together go out together (several
//! instances polling at once, a plan reading four listener kinds), which
//! is what the vendor's own bucket allows; each only waits once N calls
//! already went out in the last second.
//!
//! Rates below one per second allow one call per `1 / rate` seconds;
//! fractional rates above one round down (3.5 per second is 3 per second).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use listener_core::Error;

/// At most `calls` calls per key in any `window`.
#[derive(Debug)]
pub(crate) struct WindowLimiter {
    calls: usize,
    window: Duration,
    log: Mutex<HashMap<String, VecDeque<Instant>>>,
}

fn config_error(message: &str) -> Error {
    Error::Config {
        field: "rate_limit_per_second".to_string(),
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
    /// are not positive and finite, or so large the interval rounds to zero.
    pub(crate) fn new(rate: f64) -> Result<Self, Error> {
        if !(rate.is_finite() && rate > 0.0) {
            return Err(config_error("must be a positive number"));
        }
        let interval = Duration::try_from_secs_f64(1.0 / rate).map_err(|_| config_error("is out of range"))?;
        if interval.is_zero() {
            return Err(config_error("is too large (the interval between calls rounds to zero)"));
        }
        let (calls, window) = if rate >= 1.0 {
            // Saturates for absurd rates; the window log only ever holds
            // the calls actually made in the last second.
            (rate.floor().min(f64::from(u32::MAX)) as usize, Duration::from_secs(1))
        } else {
            (1, interval)
        };
        Ok(WindowLimiter {
            calls,
            window,
            log: Mutex::new(HashMap::new()),
        })
    }

    /// Wait until a call for `key` may go out, and count it.
    pub(crate) async fn acquire(&self, key: &str) {
        loop {
            let decision = {
                let mut log = match self.log.lock() {
                    Ok(g) => g,
                    Err(poisoned) => poisoned.into_inner(),
                };
                let entry = log.entry(key.to_string()).or_default();
                admit(entry, Instant::now(), self.calls, self.window)
            };
            match decision {
                Ok(()) => return,
                Err(wait) => {
                    tracing::trace!(wait_ms = wait.as_millis() as u64, "rate limited locally");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}

/// The limiter of one account on one service, region and endpoint, at one
/// rate, shared by every client of the process that has them all in
/// common. Tencent counts its limits per account and action, so two
/// profiles of one account (two GAAP connections, say, applied at once by
/// `apply --all-profiles`) must share one budget, or together they send
/// twice the documented rate and meet `RequestLimitExceeded`. Clients with
/// a different rate override keep their own: the user asked for that rate.
pub(crate) fn shared(key: &str, rate: f64) -> Result<Arc<WindowLimiter>, Error> {
    static SHARED: OnceLock<Mutex<HashMap<String, Weak<WindowLimiter>>>> = OnceLock::new();
    let key = format!("{key}\n{rate}");
    let mut map = SHARED
        .get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(live) = map.get(&key).and_then(Weak::upgrade) {
        return Ok(live);
    }
    let limiter = Arc::new(WindowLimiter::new(rate)?);
    // Entries of clients all dropped go, so the map stays small.
    map.retain(|_, w| w.strong_count() > 0);
    map.insert(key, Arc::downgrade(&limiter));
    Ok(limiter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_unusable_rates() {
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e300] {
            assert!(
                matches!(WindowLimiter::new(rate), Err(Error::Config { ref field, .. }) if field == "rate_limit_per_second"),
                "{rate}"
            );
        }
        assert!(WindowLimiter::new(0.5).is_ok());
        assert!(WindowLimiter::new(20.0).is_ok());
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
        let limiter = WindowLimiter::new(0.5).expect("valid");
        assert_eq!((limiter.calls, limiter.window), (1, Duration::from_secs(2)));
        let limiter = WindowLimiter::new(3.5).expect("valid");
        assert_eq!((limiter.calls, limiter.window), (3, Duration::from_secs(1)));
    }

    #[test]
    fn clients_of_one_account_share_a_limiter_and_others_do_not() {
        let a = shared("gaap\n\nhttp://127.0.0.1:1/\nAKID-shared-test", 20.0).expect("limiter");
        let b = shared("gaap\n\nhttp://127.0.0.1:1/\nAKID-shared-test", 20.0).expect("limiter");
        assert!(Arc::ptr_eq(&a, &b));
        let other_account = shared("gaap\n\nhttp://127.0.0.1:1/\nAKID-other-test", 20.0).expect("limiter");
        assert!(!Arc::ptr_eq(&a, &other_account));
        let other_rate = shared("gaap\n\nhttp://127.0.0.1:1/\nAKID-shared-test", 5.0).expect("limiter");
        assert!(!Arc::ptr_eq(&a, &other_rate));
    }
}
