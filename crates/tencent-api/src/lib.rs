#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod client;
pub mod credentials;
pub mod endpoint;
pub mod errors;
pub mod retry;
pub mod sign;

pub use client::{check_profile, ApiResponse, ClientConfig, ClientStats, TencentClient};
pub use credentials::{CredentialSource, Credentials, LoadContext};
pub use endpoint::{Endpoint, ResolvedEndpoint};
pub use retry::RetryPolicy;
pub use sign::{parse_authorization, sign, ParsedAuthorization, SignInput, Signed};
