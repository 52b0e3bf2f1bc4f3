//! Shared setup of the integration tests: an emulator on 127.0.0.1 with one
//! GAAP connection and one connection group, profiles pointing at it, and
//! providers and raw clients built on them.
#![allow(dead_code)] // each test file uses a different subset

use std::time::Duration;

use listener_core::{
    Adapter, BackendProtocol, ClientAuth, ClientVerify, Error, Forwarding, InlineCredentials, ListenerSpec, PortEntry,
    Ports, ProfileConfig, Protocol, Secret, Tls, WaitConfig,
};
use listener_emulator::{
    Emulator, EmulatorBuilder, EmulatorHandle, InstanceSeed, RateLimits, Timing, DEFAULT_TENCENT_SECRET_ID,
    DEFAULT_TENCENT_SECRET_KEY,
};
use listener_tencent_gaap::config::{SERVICE, VERSION};
use listener_tencent_gaap::{GaapProvider, API};
use serde_json::Value;
use tencent_api::{ClientConfig, LoadContext, RetryPolicy, TencentClient};

pub const LINK: &str = "link-cuxw2rm0";
pub const GROUP: &str = "lg-5anbbou5";

/// Short asynchronous delays: work finishes after a few polls.
pub fn timing() -> Timing {
    Timing {
        create: Duration::from_millis(40),
        update: Duration::from_millis(40),
        delete: Duration::from_millis(40),
    }
}

/// The builder every test starts from: one connection and one group, the
/// emulator's own rate limits off (throttling comes from scripted faults
/// only, so tests are not slowed by their own polling).
pub fn builder() -> EmulatorBuilder {
    Emulator::builder()
        .timing(timing())
        .rate_limits(RateLimits {
            enabled: false,
            ..RateLimits::default()
        })
        .seed(
            "gaap",
            InstanceSeed {
                id: LINK.into(),
                server_groups: vec![],
            },
        )
        .seed(
            "gaap",
            InstanceSeed {
                id: GROUP.into(),
                server_groups: vec![],
            },
        )
}

pub async fn start() -> EmulatorHandle {
    builder().start().await.expect("emulator starts")
}

/// A profile for `instance` on the emulator, with inline credentials (the
/// emulator's defaults) so no test reads the real environment.
pub fn profile_for(emulator: &EmulatorHandle, instance: &str) -> ProfileConfig {
    let mut p = ProfileConfig::new(API, instance);
    p.endpoint = Some(emulator.url());
    p.allow_insecure_http = true;
    p.rate_limit_per_second = Some(200.0);
    p.wait = Some(WaitConfig::uniform(20, 15));
    p.inline_credentials = Some(InlineCredentials {
        key_id: DEFAULT_TENCENT_SECRET_ID.into(),
        secret: Secret::new(DEFAULT_TENCENT_SECRET_KEY),
        token: None,
    });
    for (alias, id) in [
        ("web", "cert-web1"),
        ("web2", "cert-web2"),
        ("ca1", "ca-root1"),
        ("ca2", "ca-root2"),
    ] {
        p.aliases.certificates.insert(alias.into(), id.into());
    }
    p
}

pub fn profile(emulator: &EmulatorHandle) -> ProfileConfig {
    profile_for(emulator, LINK)
}

fn no_env(_: &str) -> Option<String> {
    None
}

/// A client for the profile with the given retry policy.
pub fn api_client(profile: &ProfileConfig, retry: RetryPolicy) -> TencentClient {
    let ctx = LoadContext {
        env: &no_env,
        home: None,
    };
    let mut config = ClientConfig::from_profile(profile, SERVICE, VERSION, API, &ctx).expect("client config");
    config.retry = retry;
    TencentClient::new(config).expect("client")
}

/// Retries quick enough for tests.
pub fn quick_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 8,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        max_elapsed: Duration::from_secs(10),
    }
}

/// A provider on the emulator's connection with quick retries.
pub fn provider(emulator: &EmulatorHandle) -> GaapProvider {
    provider_on(&profile(emulator))
}

pub fn provider_on(profile: &ProfileConfig) -> GaapProvider {
    GaapProvider::with_client(profile, api_client(profile, quick_retries())).expect("provider")
}

/// A client that sends exactly what it is given, once: for raw requests
/// that bypass the adapter's `check`.
pub fn raw(emulator: &EmulatorHandle) -> TencentClient {
    api_client(&profile(emulator), RetryPolicy::none())
}

/// Send a raw request that must fail; the mapped error.
pub async fn raw_error(client: &TencentClient, action: &str, params: Value) -> Error {
    match client.call(action, &params, false).await {
        Ok(answer) => panic!("{action} {params} was accepted: {:?}", answer.body),
        Err(e) => e,
    }
}

/// Listener count of an instance in the emulator's own state.
pub fn count(emulator: &EmulatorHandle, instance: &str) -> usize {
    emulator
        .listener_counts()
        .get(API)
        .and_then(|m| m.get(instance))
        .copied()
        .unwrap_or(0)
}

pub fn ports(list: &[u32]) -> Ports {
    Ports::List(list.iter().copied().map(PortEntry::Port).collect())
}

/// An HTTPS spec with one server certificate, forwarding HTTP.
pub fn https(name: &str, port: u32) -> ListenerSpec {
    let mut s = ListenerSpec::new(name, Protocol::Https, Ports::Single(port));
    s.tls = Some(Tls {
        certificates: vec!["web".into()],
        policy: None,
        http2: None,
        http3: None,
        sni: None,
        client_auth: None,
    });
    s.forwarding = Some(Forwarding {
        backend_protocol: Some(BackendProtocol::Http),
        default_target: None,
    });
    s
}

/// HTTPS with mutual authentication against `cas` and HTTP3 on.
pub fn https_mutual(name: &str, port: u32, cas: &[&str]) -> ListenerSpec {
    let mut s = https(name, port);
    if let Some(t) = s.tls.as_mut() {
        t.http3 = Some(true);
        t.client_auth = Some(ClientAuth {
            verify: ClientVerify::Required,
            ca_certificates: cas.iter().map(|c| c.to_string()).collect(),
        });
    }
    s
}
