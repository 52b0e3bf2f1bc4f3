//! The adapter's configuration, built from a profile of the listeners file.
//!
//! CLB is regional: every call carries `X-TC-Region`, so a profile without a
//! region (from the profile, `TENCENTCLOUD_REGION` or tccli's
//! `<profile>.configure`) is refused here rather than by the vendor later.
//! Credentials follow Tencent's own chain (see the `tencent-api` crate).

use listener_core::{Adapter, Error, ProfileConfig, WaitDefaults, Waits, WriteLock};
use tencent_api::{ClientConfig, LoadContext, TencentClient};

use crate::client::ClbClient;
use crate::{capabilities, ClbProvider, API};

/// The service name used in the host and the TC3 credential scope.
pub const SERVICE: &str = "clb";
/// The CLB API version (`X-TC-Version`).
pub const VERSION: &str = "2018-03-17";

/// Everything the provider needs besides the client.
#[derive(Debug, Clone)]
pub struct ClbConfig {
    /// The load balancer (`lb-…`) every call is scoped to.
    pub load_balancer_id: String,
    /// How long and how often to wait for a task (checked when read).
    pub wait: Waits,
}

/// CLB's wait limits when the profile sets none: twelve minutes for every
/// kind of write, about what Terraform's Tencent provider waits for a CLB
/// task (`DescribeTaskStatus`, factsheet `tencent.md`, "DescribeTaskStatus").
pub const WAIT_DEFAULTS: WaitDefaults = WaitDefaults::all(12 * 60);

impl ClbConfig {
    /// Read the profile's instance and wait settings. The instance must be a
    /// CLB ID (`lb-…`): a GAAP or Alibaba ID here is a profile mix-up that
    /// would otherwise surface as `InvalidParameter.LBIdNotFound`.
    pub fn from_profile(profile: &ProfileConfig) -> Result<Self, Error> {
        let id = profile.instance.trim();
        if !id.starts_with("lb-") || id.len() <= 3 {
            return Err(Error::Config {
                field: "instance".into(),
                message: format!("`{id}` is not a CLB load balancer ID (expected `lb-…`)"),
            });
        }
        let wait = profile.wait();
        wait.check()?;
        listener_core::mark::check_owner(profile.owner())?;
        Ok(ClbConfig {
            load_balancer_id: id.to_string(),
            wait: Waits::new(wait, WAIT_DEFAULTS),
        })
    }
}

/// Build the API client for a profile, with credentials and region read
/// through `ctx`. Refuses a profile that resolves to no region.
pub fn client_for(profile: &ProfileConfig, ctx: &LoadContext<'_>) -> Result<TencentClient, Error> {
    let config = ClientConfig::from_profile(profile, SERVICE, VERSION, API, ctx)?;
    require_region(config.region.as_deref())?;
    TencentClient::new(config)
}

/// The provider a profile names (credentials and region through Tencent's
/// own chain: profile, `TENCENTCLOUD_*`, `~/.tccli`, SDK file), or one
/// around a client built by hand (tests tune retries there).
impl Adapter for ClbProvider {
    type Api = TencentClient;

    fn api_from_profile(profile: &ProfileConfig) -> Result<TencentClient, Error> {
        ClbConfig::from_profile(profile)?;
        client_for(profile, &LoadContext::system())
    }

    fn with_client(profile: &ProfileConfig, api: TencentClient) -> Result<Self, Error> {
        let config = ClbConfig::from_profile(profile)?;
        let caps = capabilities();
        Ok(ClbProvider {
            writes: WriteLock::for_instance(&caps, api.endpoint().url.as_str(), &config.load_balancer_id),
            client: ClbClient::new(api, config.load_balancer_id.clone()),
            profile: profile.clone(),
            config,
            caps,
        })
    }
}

/// CLB is regional: every call carries `X-TC-Region`, and without one the
/// vendor answers `MissingParameter`; refused before any call instead.
fn require_region(region: Option<&str>) -> Result<(), Error> {
    if region.map(str::trim).unwrap_or("").is_empty() {
        return Err(Error::Config {
            field: "region".into(),
            message: "CLB is a regional API: set `region` in the profile or TENCENTCLOUD_REGION".into(),
        });
    }
    Ok(())
}

/// Every check building a provider for this profile makes that needs no
/// credentials and no network (load balancer ID, region by the vendor's
/// chain, endpoint, rate limit). `validate`, `plan` and `--emulate` call it
/// first, so a profile the real run refuses is refused there too.
pub fn check_profile(profile: &ProfileConfig) -> Result<(), Error> {
    check_profile_with(profile, &LoadContext::system())
}

/// [`check_profile`] with an injected environment.
pub fn check_profile_with(profile: &ProfileConfig, ctx: &LoadContext<'_>) -> Result<(), Error> {
    ClbConfig::from_profile(profile)?;
    let region = tencent_api::check_profile(profile, SERVICE, ctx)?;
    require_region(region.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_an_instance_that_is_not_a_load_balancer() {
        for bad in ["", "lb-", "link-123", "alb-1"] {
            let p = ProfileConfig::new(API, bad);
            match ClbConfig::from_profile(&p) {
                Err(Error::Config { field, .. }) => assert_eq!(field, "instance"),
                other => panic!("{bad}: {other:?}"),
            }
        }
        let ok = ClbConfig::from_profile(&ProfileConfig::new(API, "lb-abc123")).expect("valid");
        assert_eq!(ok.load_balancer_id, "lb-abc123");
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn offline_check_refuses_a_missing_region_and_bad_endpoints_without_credentials() {
        let ctx = LoadContext {
            env: &no_env,
            home: None,
        };
        let field = |p: &ProfileConfig| match check_profile_with(p, &ctx) {
            Err(Error::Config { field, .. }) => field,
            other => panic!("expected a config error, got {other:?}"),
        };
        let mut p = ProfileConfig::new(API, "lb-abc123");
        assert_eq!(field(&p), "region");
        p.region = Some("ap-guangzhou".into());
        assert!(check_profile_with(&p, &ctx).is_ok(), "credentials are not needed");
        p.endpoint = Some("http://127.0.0.1:9/".into());
        assert_eq!(field(&p), "endpoint");
        p.endpoint = Some("ftp://example.com/".into());
        p.allow_insecure_http = true;
        assert_eq!(field(&p), "endpoint");
    }

    #[test]
    fn refuses_a_profile_without_region() {
        let mut p = ProfileConfig::new(API, "lb-abc123");
        p.inline_credentials = Some(listener_core::InlineCredentials {
            key_id: "AKIDexample".into(),
            secret: listener_core::Secret::new("key"),
            token: None,
        });
        let ctx = LoadContext {
            env: &no_env,
            home: None,
        };
        match client_for(&p, &ctx) {
            Err(Error::Config { field, .. }) => assert_eq!(field, "region"),
            other => panic!("expected a region error, got {other:?}"),
        }
        p.region = Some("ap-guangzhou".into());
        let client = client_for(&p, &ctx).expect("client");
        assert_eq!(client.region(), Some("ap-guangzhou"));
        assert_eq!(client.endpoint().host, "clb.tencentcloudapi.com");
    }

    #[test]
    fn waits_default_to_the_documented_limit_for_every_operation() {
        use listener_core::WaitOp;
        let c = ClbConfig::from_profile(&ProfileConfig::new(API, "lb-1")).expect("valid");
        for op in WaitOp::ALL {
            assert_eq!(
                c.wait.limit(op),
                (std::time::Duration::from_secs(12 * 60), op.setting()),
                "{op}"
            );
        }
    }
}
