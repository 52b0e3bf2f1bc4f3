//! A local emulator of the four listener APIs: Tencent GAAP and CLB,
//! Alibaba ALB and GA, all on one HTTP port.
//!
//! Why an emulator and not mocks: the adapters' hardest code is not the
//! happy path but what happens around it: signatures, clock skew, replayed
//! nonces, throttling, answers lost after the server acted, asynchronous
//! tasks that fail. A mock answers what its author expected; the emulator
//! answers what the vendor would, over real HTTP, with the vendor's error
//! codes and envelopes, and can be told to misbehave in each of those ways.
//! The same emulator serves our tests, the CLI's `--emulate` mode and
//! users' own CI (through the `listener-emulator` binary).
//!
//! The crate is a framework plus services. The framework ([`Emulator`])
//! owns HTTP, routing by API version, signature checks, rate limits, fault
//! injection and envelopes; each vendor API is a [`Service`] that only
//! applies the vendor's rules to in-memory state. Built-in services are
//! listed in [`services::builtin`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), listener_emulator::EmulatorError> {
//! use listener_emulator::{Emulator, Fault, FaultRule};
//!
//! let emulator = Emulator::builder()
//!     .fault_rule(FaultRule::new(Fault::LostAnswer).action("CreateListener"))
//!     .start()
//!     .await?;
//! let endpoint = emulator.url(); // give this to every client
//! # let _ = endpoint;
//! // ... run the client ...
//! assert_eq!(emulator.fault_counts().lost_answer, 1);
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod admin;
mod auth;
pub mod config;
mod context;
pub mod credentials;
pub mod decode;
mod envelope;
pub mod faults;
#[cfg(test)]
mod golden;
pub mod idempotency;
pub mod rate_limit;
pub mod requests;
mod routing;
mod server;
pub mod service;
pub mod services;

pub use admin::resolved_endpoints;
pub use config::{EmulatorConfig, FaultRuleSpec, FaultsSpec, RandomFaultsSpec};
pub use context::ManualContext;
pub use credentials::{
    AlibabaCredentials, TencentCredentials, DEFAULT_ALIBABA_ACCESS_KEY_ID, DEFAULT_ALIBABA_ACCESS_KEY_SECRET,
    DEFAULT_TENCENT_SECRET_ID, DEFAULT_TENCENT_SECRET_KEY,
};
pub use faults::{Fault, FaultControl, FaultCounts, FaultKind, FaultRule, RandomFaults};
pub use rate_limit::{Rate, RateLimits};
pub use requests::{ActionCounts, RequestCounts};
pub use server::{Emulator, EmulatorBuilder, EmulatorHandle, FAULT_RETRY_AFTER, MAX_BODY_BYTES};
pub use service::{ApiError, Call, Context, Family, InstanceSeed, ResolveQuery, Service, Timing};

/// Why the emulator could not start or a run-time change was refused.
///
/// Messages never include secrets.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The address could not be bound (port in use, no permission).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A seed or setting named a service that is not registered.
    #[error(
        "no service named `{0}` is registered (use a service name like `gaap` or an API name like `tencent-gaap`)"
    )]
    UnknownService(String),
    /// A setting is invalid (config file, rate table, fault probabilities).
    #[error("invalid emulator configuration: {0}")]
    Config(String),
}
