//! What the adapter takes from a profile.
//!
//! GAAP listeners hang off either a **connection** (`ProxyId`, `link-…`) or a
//! **connection group** (`GroupId`, `lg-…`), and every create, describe,
//! layer-4 modify and delete names exactly one of the two. The profile has a
//! single `instance` field, so its prefix decides which parameter is sent:
//! there is no way to send both, and an instance with neither prefix is
//! refused before any call.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use listener_core::{Adapter, Aliases, Error, ProfileConfig, WaitDefaults, Waits, WriteLock};
use serde_json::{Map, Value};
use tencent_api::{LoadContext, TencentClient};

use crate::client::GaapClient;
use crate::{capabilities, GaapProvider};

/// The API version every GAAP call is sent with.
pub const VERSION: &str = "2018-05-29";
/// The service name of the host and of the TC3 credential scope.
pub const SERVICE: &str = "gaap";
/// Prefix of connection IDs (sent as `ProxyId`).
pub const CONNECTION_PREFIX: &str = "link-";
/// Prefix of connection-group IDs (sent as `GroupId`).
pub const GROUP_PREFIX: &str = "lg-";

/// The GAAP object listeners are attached to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Instance {
    /// A connection (`link-…`), sent as `ProxyId`.
    Connection(String),
    /// A connection group (`lg-…`), sent as `GroupId`.
    Group(String),
}

impl Instance {
    /// Read an instance ID by its prefix; `None` for anything else.
    pub fn parse(id: &str) -> Option<Instance> {
        let id = id.trim();
        let has_body = |prefix: &str| id.len() > prefix.len() && id.starts_with(prefix);
        if has_body(CONNECTION_PREFIX) {
            Some(Instance::Connection(id.to_string()))
        } else if has_body(GROUP_PREFIX) {
            Some(Instance::Group(id.to_string()))
        } else {
            None
        }
    }

    /// The ID itself.
    pub fn id(&self) -> &str {
        match self {
            Instance::Connection(id) | Instance::Group(id) => id,
        }
    }

    /// The parameter name GAAP takes this ID as (`ProxyId` or `GroupId`).
    pub fn param(&self) -> &'static str {
        match self {
            Instance::Connection(_) => "ProxyId",
            Instance::Group(_) => "GroupId",
        }
    }

    /// Whether this is a connection group.
    pub fn is_group(&self) -> bool {
        matches!(self, Instance::Group(_))
    }

    /// Put the one instance parameter into a request body.
    pub fn insert_into(&self, params: &mut Map<String, Value>) {
        params.insert(self.param().to_string(), Value::String(self.id().to_string()));
    }
}

impl fmt::Display for Instance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// Everything the provider keeps from its profile besides the client.
#[derive(Debug, Clone)]
pub struct GaapConfig {
    /// The connection or group the provider is bound to.
    pub instance: Instance,
    /// Certificate aliases, for requests and read-back.
    pub aliases: Aliases,
    /// How long and how often to wait for listener status changes.
    pub wait: Waits,
}

/// GAAP's wait limits when the profile sets none: five minutes for every
/// kind of write, Terraform's Tencent provider's write timeout (factsheet
/// `tencent.md`, "Timeouts: reads 3 min, writes 5 min").
pub const WAIT_DEFAULTS: WaitDefaults = WaitDefaults::all(5 * 60);

impl GaapConfig {
    /// The adapter settings of a profile. Refuses an instance that is
    /// neither a connection nor a connection group.
    pub fn from_profile(profile: &ProfileConfig) -> Result<GaapConfig, Error> {
        let instance = Instance::parse(&profile.instance).ok_or_else(|| Error::Config {
            field: "instance".into(),
            message: format!(
                "a GAAP instance is a connection (`{CONNECTION_PREFIX}…`, sent as ProxyId) or a connection group \
                 (`{GROUP_PREFIX}…`, sent as GroupId); `{}` is neither",
                profile.instance
            ),
        })?;
        let wait = profile.wait();
        wait.check()?;
        listener_core::mark::check_owner(profile.owner())?;
        Ok(GaapConfig {
            instance,
            aliases: profile.aliases.clone(),
            wait: Waits::new(wait, WAIT_DEFAULTS),
        })
    }
}

/// The provider a profile names, with credentials and region read the way
/// Tencent's own tools read them (see `tencent-api`), or one over a client
/// built by the caller (a custom retry policy or credentials, e.g. in
/// tests).
impl Adapter for GaapProvider {
    type Api = TencentClient;

    fn api_from_profile(profile: &ProfileConfig) -> Result<TencentClient, Error> {
        GaapConfig::from_profile(profile)?;
        TencentClient::from_profile(profile, SERVICE, VERSION, crate::API)
    }

    fn with_client(profile: &ProfileConfig, api: TencentClient) -> Result<Self, Error> {
        let config = GaapConfig::from_profile(profile)?;
        let caps = capabilities();
        Ok(GaapProvider {
            writes: WriteLock::for_instance(&caps, api.endpoint().url.as_str(), config.instance.id()),
            client: GaapClient::new(api, config.instance.clone()),
            kinds: Mutex::new(HashMap::new()),
            profile: profile.clone(),
            config,
            caps,
        })
    }
}

/// Every check building a provider for this profile makes that needs no
/// credentials and no network (instance kind, wait settings, endpoint,
/// region, rate limit), reading the region chain from the real
/// environment. `validate`, `plan` and `--emulate` call it first.
pub fn check_profile(profile: &ProfileConfig) -> Result<(), Error> {
    check_profile_with(profile, &LoadContext::system())
}

/// [`check_profile`] with an injected environment.
pub fn check_profile_with(profile: &ProfileConfig, ctx: &LoadContext<'_>) -> Result<(), Error> {
    GaapConfig::from_profile(profile)?;
    tencent_api::check_profile(profile, SERVICE, ctx)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_decides_proxy_or_group() {
        assert_eq!(Instance::parse("link-abc").map(|i| i.param()), Some("ProxyId"));
        assert_eq!(Instance::parse("lg-abc").map(|i| i.param()), Some("GroupId"));
        assert_eq!(Instance::parse("lb-abc"), None);
        assert_eq!(Instance::parse("link-"), None);
        assert_eq!(Instance::parse(""), None);
    }

    #[test]
    fn profile_with_foreign_instance_is_a_config_error() {
        let p = ProfileConfig::new("tencent-gaap", "lb-123");
        match GaapConfig::from_profile(&p) {
            Err(Error::Config { field, .. }) => assert_eq!(field, "instance"),
            other => panic!("expected config error, got {other:?}"),
        }
    }

    #[test]
    fn offline_check_refuses_endpoint_and_instance_without_credentials() {
        let no_env = |_: &str| None;
        let ctx = LoadContext {
            env: &no_env,
            home: None,
        };
        let mut p = ProfileConfig::new("tencent-gaap", "link-1");
        assert!(
            check_profile_with(&p, &ctx).is_ok(),
            "no credentials and no region are fine for GAAP"
        );
        p.endpoint = Some("http://127.0.0.1:9/".into());
        match check_profile_with(&p, &ctx) {
            Err(Error::Config { field, .. }) => assert_eq!(field, "endpoint"),
            other => panic!("expected an endpoint error, got {other:?}"),
        }
        p.endpoint = None;
        p.instance = "lb-1".into();
        match check_profile_with(&p, &ctx) {
            Err(Error::Config { field, .. }) => assert_eq!(field, "instance"),
            other => panic!("expected an instance error, got {other:?}"),
        }
    }

    #[test]
    fn instance_param_goes_into_body() {
        let mut m = Map::new();
        Instance::Group("lg-1".into()).insert_into(&mut m);
        assert_eq!(m.get("GroupId"), Some(&Value::String("lg-1".into())));
        assert!(m.get("ProxyId").is_none());
    }

    #[test]
    fn waits_default_to_the_documented_limit_for_every_operation() {
        use listener_core::WaitOp;
        let c = GaapConfig::from_profile(&ProfileConfig::new(crate::API, "link-1")).expect("valid");
        for op in WaitOp::ALL {
            assert_eq!(
                c.wait.limit(op),
                (std::time::Duration::from_secs(5 * 60), op.setting()),
                "{op}"
            );
        }
    }
}
