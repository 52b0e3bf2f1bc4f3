//! Per-action request rates, enforced as token buckets.
//!
//! Both vendors throttle per account, region and API action, and clients
//! must cope: a rate limiter that only ever exists in production is one a
//! client's retry logic has never met. So the emulator throttles by default
//! at the vendors' documented rates and answers each family's throttling
//! error (Tencent `RequestLimitExceeded`, Alibaba `Throttling.User` with
//! `x-acs-retry-after`).
//!
//! The documented rates (see `docs/emulator.md` for sources):
//! - Tencent GAAP and CLB: 20 requests per second per action.
//! - Alibaba ALB: writes about 200 per minute per API; `GetListenerAttribute`,
//!   `ListAsynJobs` and `ListListeners` 20 per second. The emulator treats
//!   every ALB action named `Get…`, `List…` or `Describe…` as a read.
//! - Alibaba GA: not published; the emulator assumes 20 per second per action.
//!
//! A bucket holds as many tokens as the rate allows per period (so a full
//! minute's ALB writes may come in one burst) and refills continuously.
//! [`RateLimits::scale`] multiplies every rate: benches keep 1.0 to meet the
//! vendor's real limits, unit tests raise it so they are never throttled
//! by accident, or lower it to be throttled quickly on purpose.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::service::Family;

/// A number of requests allowed per period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Requests allowed per `per`; also the burst size.
    pub requests: u32,
    /// The period.
    pub per: Duration,
}

impl Rate {
    /// `n` requests per second.
    pub const fn per_second(n: u32) -> Self {
        Rate {
            requests: n,
            per: Duration::from_secs(1),
        }
    }

    /// `n` requests per minute.
    pub const fn per_minute(n: u32) -> Self {
        Rate {
            requests: n,
            per: Duration::from_secs(60),
        }
    }
}

/// The rate table the emulator enforces.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimits {
    /// Off turns throttling off entirely (users' CI may not want it).
    pub enabled: bool,
    /// Multiplies every rate (and burst); must be positive and finite.
    pub scale: f64,
    /// Every action of a Tencent service: 20/s.
    pub tencent: Rate,
    /// Every action of an Alibaba service without a rule of its own (GA and
    /// test services): 20/s, an assumption for GA.
    pub alibaba: Rate,
    /// ALB actions that change something: 200/min.
    pub alb_writes: Rate,
    /// ALB `Get…`/`List…`/`Describe…` actions: 20/s.
    pub alb_reads: Rate,
    /// Overrides, keyed by service name (`"alb"`) or service and action
    /// (`"alb:CreateListener"`); the more specific key wins.
    pub overrides: BTreeMap<String, Rate>,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            enabled: true,
            scale: 1.0,
            tencent: Rate::per_second(20),
            alibaba: Rate::per_second(20),
            alb_writes: Rate::per_minute(200),
            alb_reads: Rate::per_second(20),
            overrides: BTreeMap::new(),
        }
    }
}

impl RateLimits {
    /// The vendor rates with throttling switched off.
    pub fn disabled() -> Self {
        RateLimits {
            enabled: false,
            ..RateLimits::default()
        }
    }

    /// The vendor rates multiplied by `scale`.
    pub fn scaled(scale: f64) -> Self {
        RateLimits {
            scale,
            ..RateLimits::default()
        }
    }

    /// Refuses tables a bucket cannot be built from, so a bad config file
    /// fails at start instead of throttling everything or nothing.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.scale.is_finite() && self.scale > 0.0) {
            return Err(format!(
                "rate limit scale must be positive and finite, got {}",
                self.scale
            ));
        }
        let named = [
            ("tencent", &self.tencent),
            ("alibaba", &self.alibaba),
            ("alb_writes", &self.alb_writes),
            ("alb_reads", &self.alb_reads),
        ];
        let overrides = self.overrides.iter().map(|(k, v)| (k.as_str(), v));
        for (name, rate) in named.into_iter().chain(overrides) {
            if rate.requests == 0 || rate.per.is_zero() {
                return Err(format!(
                    "rate `{name}` must allow at least one request in a non-zero period"
                ));
            }
        }
        Ok(())
    }

    /// The rate that applies to one action of one service.
    pub fn rate_for(&self, family: Family, service: &str, action: &str) -> Rate {
        if let Some(rate) = self.overrides.get(&format!("{service}:{action}")) {
            return *rate;
        }
        if let Some(rate) = self.overrides.get(service) {
            return *rate;
        }
        match family {
            Family::Tencent => self.tencent,
            Family::Alibaba if service == "alb" => {
                if is_read_action(action) {
                    self.alb_reads
                } else {
                    self.alb_writes
                }
            }
            Family::Alibaba => self.alibaba,
        }
    }
}

/// Reads are named `Get…`, `List…` or `Describe…` on every API here.
fn is_read_action(action: &str) -> bool {
    ["Get", "List", "Describe"]
        .iter()
        .any(|prefix| action.starts_with(prefix))
}

/// One bucket: tokens left and when they were last topped up.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// The buckets of every (service, action) seen, under one table.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    limits: RwLock<RateLimits>,
    buckets: Mutex<HashMap<(String, String), Bucket>>,
}

impl RateLimiter {
    pub(crate) fn new(limits: RateLimits) -> Self {
        RateLimiter {
            limits: RwLock::new(limits),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Replaces the table and empties the buckets, so the new rates apply
    /// from a full bucket.
    pub(crate) fn replace(&self, limits: RateLimits) {
        *self.limits.write().unwrap_or_else(|e| e.into_inner()) = limits;
        self.buckets.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    pub(crate) fn limits(&self) -> RateLimits {
        self.limits.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Takes one token for the call, or says how long until one is there.
    pub(crate) fn check(&self, family: Family, service: &str, action: &str, now: Instant) -> Result<(), Duration> {
        let (capacity, per_second) = {
            let limits = self.limits.read().unwrap_or_else(|e| e.into_inner());
            if !limits.enabled {
                return Ok(());
            }
            let rate = limits.rate_for(family, service, action);
            let allowed = f64::from(rate.requests) * limits.scale;
            (allowed.max(1.0), allowed / rate.per.as_secs_f64())
        };
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let bucket = buckets
            .entry((service.to_string(), action.to_string()))
            .or_insert(Bucket {
                tokens: capacity,
                updated: now,
            });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / per_second;
            Err(Duration::from_secs_f64(wait.clamp(0.001, 3600.0)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uses_the_documented_vendor_rates() {
        let limits = RateLimits::default();
        assert_eq!(
            limits.rate_for(Family::Tencent, "gaap", "CreateHTTPListener"),
            Rate::per_second(20)
        );
        assert_eq!(
            limits.rate_for(Family::Alibaba, "alb", "CreateListener"),
            Rate::per_minute(200)
        );
        for read in ["GetListenerAttribute", "ListAsynJobs", "ListListeners"] {
            assert_eq!(limits.rate_for(Family::Alibaba, "alb", read), Rate::per_second(20));
        }
        assert_eq!(
            limits.rate_for(Family::Alibaba, "ga", "CreateListener"),
            Rate::per_second(20)
        );
    }

    #[test]
    fn action_override_beats_service_override() {
        let mut limits = RateLimits::default();
        limits.overrides.insert("alb".into(), Rate::per_second(5));
        limits
            .overrides
            .insert("alb:CreateListener".into(), Rate::per_second(1));
        assert_eq!(
            limits.rate_for(Family::Alibaba, "alb", "CreateListener"),
            Rate::per_second(1)
        );
        assert_eq!(
            limits.rate_for(Family::Alibaba, "alb", "DeleteListener"),
            Rate::per_second(5)
        );
    }

    #[test]
    fn bucket_allows_a_burst_then_refuses_until_refilled() {
        let limiter = RateLimiter::new(RateLimits::default());
        let start = Instant::now();
        for _ in 0..20 {
            assert!(limiter.check(Family::Tencent, "clb", "CreateListener", start).is_ok());
        }
        let wait = limiter
            .check(Family::Tencent, "clb", "CreateListener", start)
            .expect_err("21st call in the same instant is over 20/s");
        assert!(wait > Duration::ZERO && wait <= Duration::from_millis(50));
        // Another action has its own bucket.
        assert!(limiter.check(Family::Tencent, "clb", "ModifyListener", start).is_ok());
        // A twentieth of a second later one token is back.
        let later = start + Duration::from_millis(50);
        assert!(limiter.check(Family::Tencent, "clb", "CreateListener", later).is_ok());
        assert!(limiter.check(Family::Tencent, "clb", "CreateListener", later).is_err());
    }

    #[test]
    fn scale_shrinks_the_burst_but_never_below_one() {
        let limiter = RateLimiter::new(RateLimits::scaled(0.01));
        let now = Instant::now();
        assert!(limiter.check(Family::Alibaba, "ga", "CreateListener", now).is_ok());
        let wait = limiter
            .check(Family::Alibaba, "ga", "CreateListener", now)
            .expect_err("0.2 requests per second allows one burst call");
        assert!(wait >= Duration::from_secs(4));
    }

    #[test]
    fn disabled_limits_never_throttle() {
        let limiter = RateLimiter::new(RateLimits::disabled());
        let now = Instant::now();
        for _ in 0..1000 {
            assert!(limiter.check(Family::Tencent, "gaap", "X", now).is_ok());
        }
    }

    #[test]
    fn validation_refuses_zero_rates_and_bad_scales() {
        assert!(RateLimits::default().validate().is_ok());
        assert!(RateLimits::scaled(0.0).validate().is_err());
        assert!(RateLimits::scaled(f64::NAN).validate().is_err());
        let mut limits = RateLimits::default();
        limits.overrides.insert(
            "ga".into(),
            Rate {
                requests: 0,
                per: Duration::from_secs(1),
            },
        );
        assert!(limits.validate().is_err());
    }
}
