//! The adapter's settings, read from a provider profile.
//!
//! Credentials and region are resolved by the family client in the
//! vendor's own order (`ALIBABA_CLOUD_ACCESS_KEY_ID` /
//! `ALIBABA_CLOUD_ACCESS_KEY_SECRET` / `ALIBABA_CLOUD_SECURITY_TOKEN`, the
//! CLI's `~/.aliyun/config.json`, the shared `~/.alibabacloud/credentials`;
//! region from the profile, `ALIBABA_CLOUD_REGION_ID` or the CLI profile).
//! What is checked here is what only ALB cares about, before any client is
//! built.

use std::time::Duration;

use alibaba_api::{AlibabaClient, Product};
use listener_core::rate::Budget;
use listener_core::{Adapter, Error, ProfileConfig, Result, WaitDefaults, Waits, WriteLock};

use crate::client::{AlbClient, PRODUCT, VERSION};
use crate::{AlbProvider, API, CAPABILITIES};

/// ALB reads (`GetListenerAttribute`, `ListAsynJobs`, ...) are documented
/// at 20 calls a second per action.
pub const READS_PER_SECOND: f64 = 20.0;

/// The documented budget of each ALB write: about 200 calls a minute per
/// API and region, all of which may go at once (factsheet §4, "Rate
/// limits").
const WRITE_BUDGET: (u32, Duration) = (200, Duration::from_secs(60));

/// The ALB actions that write, each with that budget of its own
/// instead of the per-second rate of reads.
pub const WRITE_LIMITS: [Budget; 7] = [
    write_limit("CreateListener"),
    write_limit("UpdateListenerAttribute"),
    write_limit("DeleteListener"),
    write_limit("AssociateAdditionalCertificatesWithListener"),
    write_limit("DissociateAdditionalCertificatesFromListener"),
    write_limit("StartListener"),
    write_limit("StopListener"),
];

const fn write_limit(action: &'static str) -> Budget {
    Budget {
        action,
        calls: WRITE_BUDGET.0,
        period: WRITE_BUDGET.1,
    }
}

/// ALB as the family client needs to know it: one endpoint per region
/// (`alb.<region>.aliyuncs.com`), reads at [`READS_PER_SECOND`], writes
/// under [`WRITE_LIMITS`].
pub const ALB: Product = Product {
    vendor: API,
    code: PRODUCT,
    version: VERSION,
    rate_limit_per_second: READS_PER_SECOND,
    action_limits: &WRITE_LIMITS,
    api_region: None,
};

/// What the provider needs besides the client.
#[derive(Debug, Clone, PartialEq)]
pub struct AlbConfig {
    /// The ALB instance (`LoadBalancerId`, `alb-…`) the provider is bound to.
    pub instance: String,
    /// How long and how often to wait for jobs, and what waits learned.
    pub wait: Waits,
}

/// ALB's wait limits when the profile sets none: five minutes for every
/// kind of write, as Terraform's ALB listener resource allows (its
/// `timeouts` default to 5 min create, update and delete; factsheet
/// `alibaba.md` §6, "Terraform timings").
pub const WAIT_DEFAULTS: WaitDefaults = WaitDefaults::all(300);

impl AlbConfig {
    /// Check a profile meant for this adapter.
    pub fn from_profile(profile: &ProfileConfig) -> Result<Self> {
        if profile.api != API {
            return Err(Error::Config {
                field: "api".into(),
                message: format!("the profile is for `{}`, not `{API}`", profile.api),
            });
        }
        let instance = profile.instance.trim();
        if instance.is_empty() {
            return Err(Error::Config {
                field: "instance".into(),
                message: "name the ALB instance (`alb-…`) the listeners belong to".into(),
            });
        }
        let wait = profile.wait();
        wait.check()?;
        listener_core::mark::check_owner(profile.owner())?;
        Ok(AlbConfig {
            instance: instance.to_string(),
            wait: Waits::new(wait, WAIT_DEFAULTS),
        })
    }
}

/// Every check building a provider for this profile makes that needs no
/// credentials and no network (instance, wait, region by the vendor's
/// chain, endpoint, rate limit), reading the real environment for the
/// region. `validate`, `plan` and `--emulate` call it first.
pub fn check_profile(profile: &ProfileConfig) -> Result<()> {
    alibaba_api::credentials::with_process_env(|env| check_profile_with(profile, env))
}

/// [`check_profile`] with an injected environment.
pub fn check_profile_with(profile: &ProfileConfig, env: &alibaba_api::credentials::Env<'_>) -> Result<()> {
    AlbConfig::from_profile(profile)?;
    alibaba_api::check_profile(profile, &ALB, env)?;
    Ok(())
}

/// The provider a profile names (credentials and region through the
/// vendor's chain, endpoint `alb.<region>.aliyuncs.com` unless the profile
/// sets one), or one around a family client made elsewhere (custom retry
/// policy or token source, as tests use).
impl Adapter for AlbProvider {
    type Api = AlibabaClient;

    fn api_from_profile(profile: &ProfileConfig) -> Result<AlibabaClient> {
        AlbConfig::from_profile(profile)?;
        AlibabaClient::from_profile(profile, &ALB)
    }

    fn with_client(profile: &ProfileConfig, api: AlibabaClient) -> Result<Self> {
        let config = AlbConfig::from_profile(profile)?;
        Ok(AlbProvider {
            writes: WriteLock::for_instance(&CAPABILITIES, api.endpoint(), &config.instance),
            config,
            profile: profile.clone(),
            client: AlbClient::new(api),
            vpc: tokio::sync::OnceCell::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_have_a_per_minute_budget_and_reads_the_documented_rate() {
        assert_eq!(ALB.rate_limit_per_second, 20.0);
        assert_eq!(ALB.action_limits.len(), WRITE_LIMITS.len());
        for w in ALB.action_limits {
            assert_eq!((w.calls, w.period), (200, Duration::from_secs(60)), "{}", w.action);
        }
        assert!(ALB.action_limits.iter().any(|w| w.action == "CreateListener"));
        assert_eq!(ALB.api_region, None);
    }

    #[test]
    fn offline_check_refuses_a_missing_region_and_plain_http_without_credentials() {
        let lookup = |_: &str| None;
        let env = alibaba_api::credentials::Env::new(&lookup, None);
        let field = |p: &ProfileConfig| match check_profile_with(p, &env) {
            Err(Error::Config { field, .. }) => field,
            other => panic!("expected a config error, got {other:?}"),
        };
        let mut p = ProfileConfig::new(API, "alb-1");
        assert_eq!(field(&p), "region");
        p.region = Some("cn-hangzhou".into());
        assert!(check_profile_with(&p, &env).is_ok(), "credentials are not needed");
        p.endpoint = Some("http://127.0.0.1:9".into());
        assert_eq!(field(&p), "endpoint");
    }

    #[test]
    fn refuses_other_apis_blank_instances_and_zero_waits() {
        let ok = ProfileConfig::new(API, " alb-1 ");
        assert_eq!(AlbConfig::from_profile(&ok).expect("valid").instance, "alb-1");
        for (p, field) in [
            (ProfileConfig::new("alibaba-ga", "alb-1"), "api"),
            (ProfileConfig::new(API, "  "), "instance"),
            (
                ProfileConfig {
                    wait: Some(listener_core::WaitConfig::uniform(0, 10)),
                    ..ProfileConfig::new(API, "alb-1")
                },
                "wait.timeout_secs",
            ),
            (
                ProfileConfig {
                    wait: Some(listener_core::WaitConfig {
                        create_secs: Some(0),
                        ..Default::default()
                    }),
                    ..ProfileConfig::new(API, "alb-1")
                },
                "wait.create_secs",
            ),
        ] {
            match AlbConfig::from_profile(&p) {
                Err(Error::Config { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn waits_default_to_terraforms_five_minutes_and_follow_the_profile() {
        use listener_core::WaitOp;
        use std::time::Duration;
        let config = AlbConfig::from_profile(&ProfileConfig::new(API, "alb-1")).expect("valid");
        for op in WaitOp::ALL {
            assert_eq!(config.wait.limit(op).0, Duration::from_secs(300), "{op}");
        }
        let mut p = ProfileConfig::new(API, "alb-1");
        p.wait = Some(listener_core::WaitConfig {
            update_secs: Some(42),
            ..Default::default()
        });
        let config = AlbConfig::from_profile(&p).expect("valid");
        assert_eq!(
            config.wait.limit(WaitOp::Update),
            (Duration::from_secs(42), "wait.update_secs")
        );
        assert_eq!(config.wait.limit(WaitOp::Create).0, Duration::from_secs(300));
    }
}
