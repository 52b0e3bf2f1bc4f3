//! Shared set-up: an in-process emulator on 127.0.0.1:0 hosting the ALB
//! service (kept as an `Arc` so tests can read what it saw), a profile
//! pointing at it, and spec builders.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use alibaba_api::client::ClientConfig;
use alibaba_api::{AlibabaClient, Credentials, RetryPolicy};
use listener_alibaba_alb::{AlbProvider, API};
use listener_core::{
    Adapter, ClientAuth, ClientVerify, Error, Forwarding, InlineCredentials, ListenerSpec, Ports, ProfileConfig,
    Protocol, Secret, Tls, WaitConfig,
};
use listener_emulator::services::alb::Alb;
use listener_emulator::{
    Emulator, EmulatorHandle, FaultRule, InstanceSeed, RateLimits, Timing, DEFAULT_ALIBABA_ACCESS_KEY_ID,
    DEFAULT_ALIBABA_ACCESS_KEY_SECRET,
};
use serde_json::{json, Value};

/// The instance the provider is bound to.
pub const LB: &str = "alb-n5qw04uq8vavfe";
/// Another instance of the same account.
pub const OTHER_LB: &str = "alb-otherinstance01";

pub struct Env {
    pub emulator: EmulatorHandle,
    pub alb: Arc<Alb>,
    pub profile: ProfileConfig,
}

impl Env {
    pub async fn start() -> Env {
        Env::start_with(Vec::new(), Alb::new()).await
    }

    pub async fn start_with(faults: Vec<FaultRule>, service: Alb) -> Env {
        Env::start_timed(faults, service, Duration::from_millis(30)).await
    }

    pub async fn start_timed(faults: Vec<FaultRule>, service: Alb, delay: Duration) -> Env {
        let alb = Arc::new(service);
        let emulator = Emulator::builder()
            .with_service(alb.clone())
            .seed(
                "alb",
                InstanceSeed {
                    id: LB.into(),
                    server_groups: vec!["sgp-app".into(), "sgp-api".into()],
                },
            )
            .seed(
                "alb",
                InstanceSeed {
                    id: OTHER_LB.into(),
                    server_groups: vec!["sgp-other".into()],
                },
            )
            .timing(Timing {
                create: delay,
                update: delay,
                delete: delay,
            })
            .rate_limits(RateLimits::disabled())
            .fault_rules(faults)
            .start()
            .await
            .expect("emulator starts");
        let profile = profile(&emulator.url());
        Env { emulator, alb, profile }
    }

    pub fn provider(&self) -> AlbProvider {
        AlbProvider::from_profile(&self.profile).expect("provider builds")
    }

    /// A client without retries, for sending requests as they are.
    pub fn raw(&self) -> AlibabaClient {
        self.client_with(RetryPolicy::none())
    }

    /// A client for the emulator with its own retry policy.
    pub fn client_with(&self, retry: RetryPolicy) -> AlibabaClient {
        let creds = Credentials::new(
            DEFAULT_ALIBABA_ACCESS_KEY_ID,
            Secret::new(DEFAULT_ALIBABA_ACCESS_KEY_SECRET),
            None,
            "test",
        )
        .expect("credentials");
        let mut config = ClientConfig::new(&listener_alibaba_alb::config::ALB, "cn-hangzhou", creds);
        config.endpoint = Some(self.emulator.url());
        config.allow_insecure_http = true;
        config.retry = retry;
        config.rate_limit_per_second = 1000.0;
        AlibabaClient::new(config).expect("client builds")
    }

    pub fn count(&self) -> usize {
        let counts = self.emulator.listener_counts();
        let alb = counts.get("alibaba-alb").or_else(|| counts.get("alb"));
        alb.and_then(|c| c.get(LB)).copied().unwrap_or(0)
    }

    pub async fn stop(self) {
        self.emulator.shutdown().await;
    }
}

pub fn profile(url: &str) -> ProfileConfig {
    let mut p = ProfileConfig::new(API, LB);
    p.region = Some("cn-hangzhou".into());
    p.endpoint = Some(url.into());
    p.allow_insecure_http = true;
    p.rate_limit_per_second = Some(1000.0);
    p.wait = Some(WaitConfig::uniform(10, 10));
    p.inline_credentials = Some(InlineCredentials {
        key_id: DEFAULT_ALIBABA_ACCESS_KEY_ID.into(),
        secret: Secret::new(DEFAULT_ALIBABA_ACCESS_KEY_SECRET),
        token: None,
    });
    for (alias, id) in [
        ("web", "cert-web-0001"),
        ("web-ecc", "cert-ecc-0002"),
        ("web-old", "cert-old-0003"),
        ("client-ca", "cert-ca-0004"),
        ("client-ca-2", "cert-ca-0005"),
    ] {
        p.aliases.certificates.insert(alias.into(), id.into());
    }
    p.aliases.targets.insert("app".into(), "sgp-app".into());
    p.aliases.targets.insert("api".into(), "sgp-api".into());
    p
}

pub fn http(port: u32) -> ListenerSpec {
    let mut s = ListenerSpec::new(format!("http-{port}"), Protocol::Http, Ports::Single(port));
    s.forwarding = Some(Forwarding {
        backend_protocol: None,
        default_target: Some("app".into()),
    });
    s
}

pub fn tls_spec(protocol: Protocol, port: u32, certs: &[&str]) -> ListenerSpec {
    let mut s = http(port);
    s.name = format!("{protocol}-{port}");
    s.protocol = protocol;
    s.tls = Some(Tls {
        certificates: certs.iter().map(|c| c.to_string()).collect(),
        policy: None,
        http2: None,
        http3: None,
        sni: None,
        client_auth: None,
    });
    s
}

pub fn https(port: u32) -> ListenerSpec {
    tls_spec(Protocol::Https, port, &["web"])
}

pub fn quic(port: u32) -> ListenerSpec {
    tls_spec(Protocol::Quic, port, &["web"])
}

pub fn mutual_tls(spec: &mut ListenerSpec, cas: &[&str]) {
    if let Some(tls) = spec.tls.as_mut() {
        tls.client_auth = Some(ClientAuth {
            verify: ClientVerify::Required,
            ca_certificates: cas.iter().map(|c| c.to_string()).collect(),
        });
    }
}

pub fn ext(mut spec: ListenerSpec, value: Value) -> ListenerSpec {
    spec.extensions.0.insert(API.into(), value);
    spec
}

/// Raw `CreateListener` parameters of a valid listener, to break on purpose.
pub fn raw_params(protocol: &str, port: u32) -> Value {
    let mut p = json!({
        "LoadBalancerId": LB,
        "ListenerProtocol": protocol,
        "ListenerPort": port,
        "DefaultActions": [{
            "Type": "ForwardGroup",
            "ForwardGroupConfig": {"ServerGroupTuples": [{"ServerGroupId": "sgp-app"}]}
        }]
    });
    if protocol != "HTTP" {
        p["Certificates"] = json!([{"CertificateId": "cert-web-0001"}]);
    }
    p
}

/// The error's vendor code, including not-found answers (whose code is in
/// the description).
pub fn code_of(e: &Error) -> String {
    match e {
        Error::NotFound { what, .. } => what
            .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
            .find(|w| w.starts_with("ResourceNotFound."))
            .unwrap_or("")
            .to_string(),
        other => other.vendor_code().unwrap_or("").to_string(),
    }
}
