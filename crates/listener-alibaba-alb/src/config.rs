//! The adapter's settings, read from a provider profile.
//!
//! Credentials and region are resolved by the family client in the
//! vendor's own order (`ALIBABA_CLOUD_ACCESS_KEY_ID` /
//! `ALIBABA_CLOUD_ACCESS_KEY_SECRET` / `ALIBABA_CLOUD_SECURITY_TOKEN`, the
//! CLI's `~/.aliyun/config.json`, the shared `~/.alibabacloud/credentials`;
//! region from the profile, `ALIBABA_CLOUD_REGION_ID` or the CLI profile).
//! What is checked here is what only ALB cares about, before any client is
//! built.

use alibaba_api::AlibabaClient;
use listener_core::{Error, ProfileConfig, Result, WaitConfig};

use crate::client::{PRODUCT, VERSION};
use crate::API;

/// What the provider needs besides the client.
#[derive(Debug, Clone, PartialEq)]
pub struct AlbConfig {
    /// The ALB instance (`LoadBalancerId`, `alb-…`) the provider is bound to.
    pub instance: String,
    /// How long and how often to wait for jobs.
    pub wait: WaitConfig,
}

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
        if wait.timeout_secs == 0 {
            return Err(Error::Config {
                field: "wait.timeout_secs".into(),
                message: "must be at least 1 second: ALB applies every change asynchronously".into(),
            });
        }
        Ok(AlbConfig {
            instance: instance.to_string(),
            wait,
        })
    }
}

/// A family client for ALB from a profile (endpoint
/// `alb.<region>.aliyuncs.com` unless the profile overrides it).
pub fn client_from_profile(profile: &ProfileConfig) -> Result<AlibabaClient> {
    AlibabaClient::from_profile(profile, PRODUCT, VERSION, API)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_other_apis_blank_instances_and_zero_waits() {
        let ok = ProfileConfig::new(API, " alb-1 ");
        assert_eq!(AlbConfig::from_profile(&ok).expect("valid").instance, "alb-1");
        for (p, field) in [
            (ProfileConfig::new("alibaba-ga", "alb-1"), "api"),
            (ProfileConfig::new(API, "  "), "instance"),
            (
                ProfileConfig {
                    wait: Some(WaitConfig {
                        timeout_secs: 0,
                        poll_interval_ms: 10,
                    }),
                    ..ProfileConfig::new(API, "alb-1")
                },
                "wait.timeout_secs",
            ),
        ] {
            match AlbConfig::from_profile(&p) {
                Err(Error::Config { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }
}
