//! The adapter's settings, read from a provider profile.
//!
//! A GA provider is bound to one accelerator (`instance = "ga-…"`). GA's API
//! is served from `cn-hangzhou` alone whatever regions the accelerator
//! covers, so the region is fixed; a profile naming another one is refused
//! rather than silently ignored, because it most likely belongs to an ALB
//! profile copied by mistake. Credentials are not read here: the Alibaba
//! client follows the vendor's chain (environment, CLI config file, shared
//! credentials file) or the profile's inline credentials.

use alibaba_api::client::DEFAULT_RATE_LIMIT_PER_SECOND;
use alibaba_api::{AlibabaClient, Product};
use listener_core::{Adapter, Aliases, Error, ProfileConfig, WaitDefaults, Waits, WriteLock};

use crate::client::GaClient;
use crate::translate::REGION;
use crate::{capabilities, GaProvider, API};

/// GA's API version.
pub const VERSION: &str = "2019-11-20";

/// GA's product code (endpoint `ga.cn-hangzhou.aliyuncs.com`).
pub const PRODUCT: &str = "ga";

/// GA as the family client needs to know it: served from [`REGION`] alone
/// (endpoint `ga.cn-hangzhou.aliyuncs.com`, and the region when nothing
/// names one), no documented rate (the family client's conservative
/// default).
pub const GA: Product = Product {
    vendor: API,
    code: PRODUCT,
    version: VERSION,
    rate_limit_per_second: DEFAULT_RATE_LIMIT_PER_SECOND,
    action_limits: &[],
    api_region: Some(REGION),
};

/// What the provider needs besides its client.
#[derive(Debug, Clone, PartialEq)]
pub struct GaConfig {
    /// The accelerator every call is scoped to (`ga-…`).
    pub accelerator_id: String,
    /// Certificate aliases (and targets, accepted but not sent).
    pub aliases: Aliases,
    /// How long and how often to wait, and what waits learned.
    pub wait: Waits,
    /// The owner whose management mark this profile's listeners carry.
    pub owner: String,
}

/// GA's wait limits when the profile sets none: 15 minutes for a create,
/// 3 for an update, 10 for a delete, as Terraform's GA listener resource
/// allows (GA listener creates can take many minutes; factsheet
/// `alibaba.md` §6, "Terraform timings").
pub const WAIT_DEFAULTS: WaitDefaults = WaitDefaults {
    create_secs: 15 * 60,
    update_secs: 3 * 60,
    delete_secs: 10 * 60,
};

impl GaConfig {
    /// Read and check the profile's GA settings; sends nothing.
    pub fn from_profile(profile: &ProfileConfig) -> Result<Self, Error> {
        if profile.api != API {
            return Err(Error::Config {
                field: "api".into(),
                message: format!("the profile is for `{}`, not `{API}`", profile.api),
            });
        }
        let accelerator_id = profile.instance.trim();
        if !accelerator_id.starts_with("ga-") || accelerator_id.len() <= 3 {
            return Err(Error::Config {
                field: "instance".into(),
                message: format!("`{accelerator_id}` is not a GA accelerator ID (`ga-…`)"),
            });
        }
        if let Some(region) = profile.region.as_deref().filter(|r| !r.trim().is_empty()) {
            if region.trim() != REGION {
                return Err(Error::Config {
                    field: "region".into(),
                    message: format!("GA's API is served from `{REGION}` only; remove `region` or set it to `{REGION}` (got `{region}`)"),
                });
            }
        }
        let wait = profile.wait();
        wait.check()?;
        listener_core::mark::check_owner(profile.owner())?;
        Ok(GaConfig {
            accelerator_id: accelerator_id.to_string(),
            aliases: profile.aliases.clone(),
            wait: Waits::new(wait, WAIT_DEFAULTS),
            owner: profile.owner().to_string(),
        })
    }
}

/// The provider a profile names (settings checked, credentials found the
/// way Alibaba's own tools do, or the profile's inline ones), or one around
/// a ready client (a pinned token source, a retry policy of the caller's
/// choice), which must be for GA.
impl Adapter for GaProvider {
    type Api = AlibabaClient;

    fn api_from_profile(profile: &ProfileConfig) -> Result<AlibabaClient, Error> {
        GaConfig::from_profile(profile)?;
        AlibabaClient::from_profile(profile, &GA)
    }

    fn with_client(profile: &ProfileConfig, api: AlibabaClient) -> Result<Self, Error> {
        if api.product() != PRODUCT || api.version() != VERSION {
            return Err(Error::Config {
                field: "client".into(),
                message: format!(
                    "the client is for {} {}, not {PRODUCT} {VERSION}",
                    api.product(),
                    api.version()
                ),
            });
        }
        let config = GaConfig::from_profile(profile)?;
        let caps = capabilities();
        Ok(GaProvider {
            writes: WriteLock::for_instance(&caps, api.endpoint(), &config.accelerator_id),
            config,
            profile: profile.clone(),
            client: GaClient::new(api),
            caps,
        })
    }
}

/// Every check building a provider for this profile makes that needs no
/// credentials and no network (accelerator ID, fixed region, wait,
/// endpoint, rate limit). `validate`, `plan` and `--emulate` call it first.
pub fn check_profile(profile: &ProfileConfig) -> Result<(), Error> {
    alibaba_api::credentials::with_process_env(|env| check_profile_with(profile, env))
}

/// [`check_profile`] with an injected environment.
pub fn check_profile_with(profile: &ProfileConfig, env: &alibaba_api::credentials::Env<'_>) -> Result<(), Error> {
    GaConfig::from_profile(profile)?;
    alibaba_api::check_profile(profile, &GA, env)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_ga_profile_and_fixes_the_region() {
        let p = ProfileConfig::new(API, "ga-bp1odcab8tmno0hdq");
        let c = GaConfig::from_profile(&p).unwrap();
        assert_eq!(c.accelerator_id, "ga-bp1odcab8tmno0hdq");
        let mut q = p.clone();
        q.region = Some(REGION.into());
        assert!(GaConfig::from_profile(&q).is_ok());
    }

    #[test]
    fn offline_check_refuses_a_foreign_endpoint_scheme_without_credentials() {
        let lookup = |_: &str| None;
        let env = alibaba_api::credentials::Env::new(&lookup, None);
        let mut p = ProfileConfig::new(API, "ga-1");
        assert!(
            check_profile_with(&p, &env).is_ok(),
            "no region and no credentials are fine for GA"
        );
        p.endpoint = Some("ftp://ga.example.com".into());
        p.allow_insecure_http = true;
        match check_profile_with(&p, &env) {
            Err(Error::Config { field, .. }) => assert_eq!(field, "endpoint"),
            other => panic!("expected an endpoint error, got {other:?}"),
        }
    }

    #[test]
    fn refuses_other_regions_instances_and_apis_naming_the_field() {
        let mut p = ProfileConfig::new(API, "ga-1");
        p.region = Some("cn-shanghai".into());
        let field = |r: Result<GaConfig, Error>| match r {
            Err(Error::Config { field, .. }) => field,
            other => panic!("expected a config error, got {other:?}"),
        };
        assert_eq!(field(GaConfig::from_profile(&p)), "region");
        assert_eq!(
            field(GaConfig::from_profile(&ProfileConfig::new(API, "alb-1"))),
            "instance"
        );
        assert_eq!(
            field(GaConfig::from_profile(&ProfileConfig::new("alibaba-alb", "ga-1"))),
            "api"
        );
    }

    #[test]
    fn waits_default_to_terraforms_ga_timeouts_per_operation() {
        use listener_core::WaitOp;
        use std::time::Duration;
        let c = GaConfig::from_profile(&ProfileConfig::new(API, "ga-1")).expect("valid");
        let limit = |op| c.wait.limit(op).0;
        assert_eq!(limit(WaitOp::Create), Duration::from_secs(15 * 60));
        assert_eq!(limit(WaitOp::Update), Duration::from_secs(3 * 60));
        assert_eq!(limit(WaitOp::Delete), Duration::from_secs(10 * 60));
        let mut p = ProfileConfig::new(API, "ga-1");
        p.wait = Some(listener_core::WaitConfig {
            delete_secs: Some(0),
            ..Default::default()
        });
        match GaConfig::from_profile(&p) {
            Err(Error::Config { field, .. }) => assert_eq!(field, "wait.delete_secs"),
            other => panic!("expected a config error, got {other:?}"),
        }
    }
}
