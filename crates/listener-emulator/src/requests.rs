//! Requests counted per API and action, as the server saw them.
//!
//! Client-side counters only know what one client sent; a benchmark or a
//! CI check that wants "how many `CreateListener` calls did this apply
//! need" across several clients, and how many of them the rate limit
//! refused, asks the server. Counting happens once a call is
//! authenticated and routed (so a signature failure is not a call to an
//! action), before the rate limit decides.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::Serialize;

/// What one action of one API received.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ActionCounts {
    /// Authenticated requests to the action, throttled ones included.
    pub requests: u64,
    /// Requests refused by the rate limit (not by an injected fault).
    pub throttled: u64,
    /// Requests the service answered with an error code (busy, conflict,
    /// not found, ...), plus injected faults that answered an error.
    pub errors: u64,
}

/// Counts per API name (`tencent-clb`) and action (`CreateListener`).
pub type RequestCounts = BTreeMap<String, BTreeMap<String, ActionCounts>>;

/// The counter the connection tasks share.
#[derive(Debug, Default)]
pub(crate) struct RequestCounter {
    counts: Mutex<RequestCounts>,
}

impl RequestCounter {
    fn with(&self, api: &str, action: &str, f: impl FnOnce(&mut ActionCounts)) {
        let mut guard = match self.counts.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let entry = guard
            .entry(api.to_string())
            .or_default()
            .entry(action.to_string())
            .or_default();
        f(entry);
    }

    /// An authenticated request arrived.
    pub(crate) fn arrived(&self, api: &str, action: &str) {
        self.with(api, action, |c| c.requests += 1);
    }

    /// The rate limit refused it.
    pub(crate) fn throttled(&self, api: &str, action: &str) {
        self.with(api, action, |c| c.throttled += 1);
    }

    /// It was answered with an error code.
    pub(crate) fn errored(&self, api: &str, action: &str) {
        self.with(api, action, |c| c.errors += 1);
    }

    pub(crate) fn snapshot(&self) -> RequestCounts {
        match self.counts.lock() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub(crate) fn reset(&self) {
        let mut guard = match self.counts.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        guard.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_api_and_action_and_resets() {
        let c = RequestCounter::default();
        c.arrived("tencent-clb", "CreateListener");
        c.arrived("tencent-clb", "CreateListener");
        c.throttled("tencent-clb", "CreateListener");
        c.arrived("alibaba-ga", "DescribeListener");
        c.errored("alibaba-ga", "DescribeListener");
        let s = c.snapshot();
        assert_eq!(
            s["tencent-clb"]["CreateListener"],
            ActionCounts {
                requests: 2,
                throttled: 1,
                errors: 0
            }
        );
        assert_eq!(s["alibaba-ga"]["DescribeListener"].errors, 1);
        c.reset();
        assert!(c.snapshot().is_empty());
    }
}
