//! Shared setup of the integration tests: an emulator on 127.0.0.1 with one
//! CLB load balancer, a profile pointing at it, and providers built on it.
#![allow(dead_code)] // each test file uses a different subset

use std::time::Duration;

use listener_core::{Adapter, ProfileConfig, WaitConfig};
use listener_emulator::{
    Emulator, EmulatorBuilder, EmulatorHandle, InstanceSeed, Timing, DEFAULT_TENCENT_SECRET_ID,
    DEFAULT_TENCENT_SECRET_KEY,
};
use listener_tencent_clb::config::{SERVICE, VERSION};
use listener_tencent_clb::{ClbProvider, API};
use tencent_api::{ClientConfig, LoadContext, RetryPolicy, TencentClient};

pub const LB: &str = "lb-cuxw2rm0";

/// Short asynchronous delays: tasks finish after a few polls.
pub fn timing() -> Timing {
    Timing {
        create: Duration::from_millis(40),
        update: Duration::from_millis(40),
        delete: Duration::from_millis(40),
    }
}

/// The builder every test starts from: one seeded load balancer.
pub fn builder() -> EmulatorBuilder {
    Emulator::builder().timing(timing()).seed(
        "clb",
        InstanceSeed {
            id: LB.into(),
            server_groups: vec![],
        },
    )
}

pub async fn start() -> EmulatorHandle {
    builder().start().await.expect("emulator starts")
}

/// A profile for the emulator, with inline credentials (the emulator's
/// defaults) so no test reads the real environment, and certificate aliases.
pub fn profile(emulator: &EmulatorHandle) -> ProfileConfig {
    let mut p = ProfileConfig::new(API, LB);
    p.region = Some("ap-guangzhou".into());
    p.endpoint = Some(emulator.url());
    p.allow_insecure_http = true;
    p.wait = Some(WaitConfig::uniform(20, 15));
    p.inline_credentials = Some(listener_core::InlineCredentials {
        key_id: DEFAULT_TENCENT_SECRET_ID.into(),
        secret: listener_core::Secret::new(DEFAULT_TENCENT_SECRET_KEY),
        token: None,
    });
    for (alias, id) in [("web", "cert-web1"), ("ecc", "cert-ecc1"), ("ca", "ca-root1")] {
        p.aliases.certificates.insert(alias.into(), id.into());
    }
    p
}

fn no_env(_: &str) -> Option<String> {
    None
}

/// A client for the profile with quick retries (tests must not wait long
/// for backoffs) and the given policy.
pub fn api_client(profile: &ProfileConfig, retry: RetryPolicy) -> TencentClient {
    let ctx = LoadContext {
        env: &no_env,
        home: None,
    };
    let mut config = ClientConfig::from_profile(profile, SERVICE, VERSION, API, &ctx).expect("client config");
    config.retry = retry;
    TencentClient::new(config).expect("client")
}

pub fn quick_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 8,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        max_elapsed: Duration::from_secs(10),
    }
}

/// A provider on the emulator with quick retries.
pub fn provider(emulator: &EmulatorHandle) -> ClbProvider {
    provider_with(&profile(emulator))
}

/// A provider for `profile` (one of the emulator's) with quick retries.
pub fn provider_with(profile: &ProfileConfig) -> ClbProvider {
    ClbProvider::with_client(profile, api_client(profile, quick_retries())).expect("provider")
}

/// Listener count of the load balancer in the emulator's own state.
pub fn count(emulator: &EmulatorHandle) -> usize {
    emulator
        .listener_counts()
        .get(API)
        .and_then(|m| m.get(LB))
        .copied()
        .unwrap_or(0)
}
