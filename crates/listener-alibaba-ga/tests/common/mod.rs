//! Shared set-up: an emulator on 127.0.0.1 with one accelerator, a profile
//! pointing at it, and a raw GA client that bypasses the adapter's `check`.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use alibaba_api::{AlibabaClient, CallOptions};
use listener_alibaba_ga::{GaProvider, API};
use listener_core::{
    Adapter, Error, InlineCredentials, ListenerSpec, Ports, ProfileConfig, Protocol, Secret, Tls, WaitConfig,
};
use listener_emulator::services::ga::Ga;
use listener_emulator::{
    Emulator, EmulatorBuilder, EmulatorHandle, InstanceSeed, RateLimits, Timing, DEFAULT_ALIBABA_ACCESS_KEY_ID,
    DEFAULT_ALIBABA_ACCESS_KEY_SECRET,
};
use serde_json::{json, Value};

/// The seeded accelerator.
pub const ACC: &str = "ga-bp1odcab8tmno0hdq";
/// The certificate behind alias `web`.
pub const CERT: &str = "449-cn-hangzhou";

/// Short asynchronous delays so tests run fast; waits are polled, never timed.
pub fn timing() -> Timing {
    Timing {
        create: Duration::from_millis(30),
        update: Duration::from_millis(30),
        delete: Duration::from_millis(30),
    }
}

/// An emulator builder with the GA accelerator seeded, short timings and
/// vendor throttling off (a test that wants throttling scripts it).
pub fn builder() -> EmulatorBuilder {
    Emulator::builder()
        .timing(timing())
        .rate_limits(RateLimits::disabled())
        .seed(
            "ga",
            InstanceSeed {
                id: ACC.into(),
                server_groups: vec![],
            },
        )
}

/// The same with a GA service of the test's own making (raised quotas).
pub fn builder_with(ga: Ga) -> EmulatorBuilder {
    builder().with_service(Arc::new(ga))
}

/// A profile for the emulator at `url`.
pub fn profile(url: &str) -> ProfileConfig {
    let mut p = ProfileConfig::new(API, ACC);
    p.endpoint = Some(url.to_string());
    p.allow_insecure_http = true;
    p.inline_credentials = Some(InlineCredentials {
        key_id: DEFAULT_ALIBABA_ACCESS_KEY_ID.into(),
        secret: Secret::new(DEFAULT_ALIBABA_ACCESS_KEY_SECRET),
        token: None,
    });
    p.wait = Some(WaitConfig::uniform(20, 5));
    p.rate_limit_per_second = Some(500.0);
    p.aliases.certificates.insert("web".into(), CERT.into());
    p.aliases.certificates.insert("web-2".into(), "450-cn-hangzhou".into());
    p
}

/// A started emulator, its profile and a provider for it.
pub struct Setup {
    pub emu: EmulatorHandle,
    pub profile: ProfileConfig,
    pub provider: GaProvider,
}

impl Setup {
    pub async fn start(builder: EmulatorBuilder) -> Setup {
        let emu = builder.start().await.expect("emulator starts");
        let profile = profile(&emu.url());
        let provider = GaProvider::from_profile(&profile).expect("provider");
        Setup { emu, profile, provider }
    }

    /// Listeners the emulator holds on the accelerator.
    pub fn count(&self) -> usize {
        self.emu
            .listener_counts()
            .get(API)
            .and_then(|m| m.get(ACC))
            .copied()
            .unwrap_or(0)
    }

    /// A client that sends exactly what it is given: no `check`.
    pub fn raw(&self) -> AlibabaClient {
        AlibabaClient::from_profile(&self.profile, &listener_alibaba_ga::config::GA).expect("raw client")
    }

    /// CreateListener sent raw with `params` over the accelerator's base.
    pub async fn raw_create(&self, params: Value) -> Result<String, Error> {
        let mut p = json!({ "RegionId": "cn-hangzhou", "AcceleratorId": ACC });
        if let (Some(base), Value::Object(extra)) = (p.as_object_mut(), params) {
            base.extend(extra);
        }
        let raw = self.raw();
        let token = raw.new_client_token();
        let body = raw.call("CreateListener", &p, CallOptions::write(token)).await?.body;
        Ok(body["ListenerId"].as_str().unwrap_or_default().to_string())
    }

    pub async fn shutdown(self) {
        self.emu.shutdown().await;
    }
}

pub fn https_spec(name: &str, port: u32) -> ListenerSpec {
    let mut s = ListenerSpec::new(name, Protocol::Https, Ports::Single(port));
    s.tls = Some(Tls {
        certificates: vec!["web".into()],
        policy: None,
        http2: None,
        http3: None,
        sni: None,
        client_auth: None,
    });
    s
}
