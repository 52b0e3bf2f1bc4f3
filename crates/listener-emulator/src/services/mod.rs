//! The built-in vendor services the emulator hosts by default.
//!
//! Each vendor API is one module implementing [`Service`]: its own state,
//! its own rules, its own error codes. The framework (server, signatures,
//! rate limits, faults, envelopes) stays out of them, and they stay out of
//! HTTP. [`Emulator::builder`](crate::Emulator::builder) registers every
//! service [`builtin`] returns.

use std::sync::Arc;

use crate::service::Service;

// Vendor service modules, one per API (rustfmt keeps them sorted):
// alb = Alibaba ALB 2020-06-16, clb = Tencent CLB 2018-03-17,
// ga = Alibaba GA 2019-11-20, gaap = Tencent GAAP 2018-05-29.
pub mod alb;
mod clb;
pub mod ga;
pub mod gaap;

/// Every built-in vendor service, freshly created (empty state).
///
/// Engineers adding a service: declare its module above and push one
/// `Arc::new(...)` of it into this list. Nothing else in the framework
/// needs to change: routing is by `family()` and `version()`, seeding and
/// fault rules by `name()`.
pub fn builtin() -> Vec<Arc<dyn Service>> {
    let services: Vec<Arc<dyn Service>> = vec![
        Arc::new(gaap::Gaap::new()),
        Arc::new(clb::Clb::new()),
        Arc::new(alb::Alb::new()),
        Arc::new(ga::Ga::new()),
    ];
    services
}
