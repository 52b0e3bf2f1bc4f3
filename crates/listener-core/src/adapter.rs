//! How every adapter is built: one constructor shape for the four clouds.
//!
//! An adapter is three layers, named the same everywhere:
//!
//! - the **family client** (`TencentClient`, `AlibabaClient`): signs, rate
//!   limits ([`crate::rate`]) and retries ([`crate::retry`]) for every
//!   product of one vendor; the adapter's associated [`Adapter::Api`];
//! - the **adapter client** (`GaapClient`, `ClbClient`, `AlbClient`,
//!   `GaClient`): the product's actions over the family client; its `api()`
//!   returns the family client;
//! - the **provider** (`GaapProvider`, ...): implements [`crate::Provider`]
//!   over the adapter client; its `client()` returns the adapter client.
//!
//! Every provider is built either from a profile alone
//! ([`Adapter::from_profile`]: credentials and region through the vendor's
//! own chain) or around a family client the caller made
//! ([`Adapter::with_client`]: a retry policy or token source of its own, as
//! tests and the apply bench use). Both check the profile the same way and
//! send nothing.

use crate::{ProfileConfig, Provider, Result};

/// One constructor shape for every adapter's provider.
pub trait Adapter: Provider + Sized {
    /// The vendor family's signed client the adapter's calls go through.
    type Api: Clone + Send + Sync;

    /// The family client a profile names, credentials and region through
    /// the vendor's chain; refuses a profile the adapter would refuse
    /// before looking for credentials. Sends nothing.
    fn api_from_profile(profile: &ProfileConfig) -> Result<Self::Api>;

    /// The provider for `profile` over a family client built by the caller.
    /// Sends nothing.
    fn with_client(profile: &ProfileConfig, api: Self::Api) -> Result<Self>;

    /// The provider a profile names. Sends nothing.
    fn from_profile(profile: &ProfileConfig) -> Result<Self> {
        Self::with_client(profile, Self::api_from_profile(profile)?)
    }
}
