//! The Alibaba Cloud RPC client shared by the ALB and GA adapters.
//!
//! ALB (`2020-06-16`) and GA (`2019-11-20`) speak the same RPC dialect:
//! parameters flattened into the query of a `POST /`, `x-acs-*` headers, an
//! ACS3-HMAC-SHA256 signature, flat JSON answers and HTTP 4xx/5xx errors with
//! a `Code`. Everything that dialect needs lives here once, so the two
//! adapters only translate specs and the emulator verifies requests with the
//! same signer the client uses:
//!
//! - [`sign`]: the signature as pure functions, tested against the vendor's
//!   published vector;
//! - [`params`]: flattening nested parameters the way the SDKs do, and back;
//! - [`credentials`]: the vendor's credential chain over an injectable
//!   environment;
//! - [`client`]: [`AlibabaClient::call`] with retries ([`retry`]), a
//!   per-action rate limit, idempotency tokens ([`token`]) and error mapping
//!   ([`errors`]).
#![warn(missing_docs)]

pub mod client;
pub mod credentials;
pub mod errors;
pub mod params;
pub mod retry;
pub mod sign;
pub mod token;

pub use client::{check_profile, AlibabaClient, ApiResponse, CallOptions, ClientConfig, ClientStats, Product};
pub use credentials::Credentials;
pub use retry::RetryPolicy;
pub use token::{ClientToken, TokenSource};
