//! Shared set-up for the cross-crate tests: one emulator hosting every
//! compiled API, with one instance per API, and a profile per API pointing
//! at it. Timings are short and vendor throttling is off; waits are polled
//! with bounds, never timed.
#![allow(dead_code)]

use std::time::Duration;

use cloud_listeners::{InlineCredentials, ProfileConfig, Secret, WaitConfig};
use listener_emulator::{
    Emulator, EmulatorBuilder, EmulatorHandle, InstanceSeed, RateLimits, Timing, DEFAULT_ALIBABA_ACCESS_KEY_ID,
    DEFAULT_ALIBABA_ACCESS_KEY_SECRET, DEFAULT_TENCENT_SECRET_ID, DEFAULT_TENCENT_SECRET_KEY,
};

/// The instance each API's profile manages, and the emulator service name.
pub fn instance_of(api: &str) -> (&'static str, &'static str) {
    match api {
        "tencent-gaap" => ("gaap", "link-conf0001"),
        "tencent-clb" => ("clb", "lb-conf00001"),
        "alibaba-alb" => ("alb", "alb-conf0000001"),
        "alibaba-ga" => ("ga", "ga-conf0000001"),
        other => panic!("no test instance for {other}"),
    }
}

/// The server group seeded on the ALB instance (target alias `web-servers`).
pub const SERVER_GROUP: &str = "sgp-conf0000001";

/// Short asynchronous delays.
pub fn timing() -> Timing {
    Timing {
        create: Duration::from_millis(30),
        update: Duration::from_millis(30),
        delete: Duration::from_millis(30),
    }
}

/// An emulator builder seeded with one instance per compiled API.
pub fn builder() -> EmulatorBuilder {
    let mut b = Emulator::builder().timing(timing()).rate_limits(RateLimits::disabled());
    for api in cloud_listeners::compiled_apis() {
        let (service, id) = instance_of(api);
        let server_groups = if api == "alibaba-alb" {
            vec![SERVER_GROUP.to_string()]
        } else {
            vec![]
        };
        b = b.seed(
            service,
            InstanceSeed {
                id: id.to_string(),
                server_groups,
            },
        );
    }
    b
}

/// A started emulator with every compiled API seeded.
pub async fn start() -> EmulatorHandle {
    builder().start().await.expect("emulator starts on 127.0.0.1")
}

/// Point an existing profile at the emulator with its credentials, fast
/// waits and a generous client rate (the emulator's limits are off).
pub fn aim(profile: &mut ProfileConfig, url: &str) {
    profile.endpoint = Some(url.to_string());
    profile.allow_insecure_http = true;
    let (id, secret) = if profile.api.starts_with("tencent") {
        (DEFAULT_TENCENT_SECRET_ID, DEFAULT_TENCENT_SECRET_KEY)
    } else {
        (DEFAULT_ALIBABA_ACCESS_KEY_ID, DEFAULT_ALIBABA_ACCESS_KEY_SECRET)
    };
    profile.inline_credentials = Some(InlineCredentials {
        key_id: id.to_string(),
        secret: Secret::new(secret),
        token: None,
    });
    profile.wait = Some(WaitConfig::uniform(30, 5));
    profile.rate_limit_per_second = Some(500.0);
}

/// A profile for `api` on its seeded instance, aimed at `url`, with the
/// certificate and target aliases the tests use.
pub fn profile(api: &str, url: &str) -> ProfileConfig {
    let (_, instance) = instance_of(api);
    let mut p = ProfileConfig::new(api, instance);
    p.region = Some(
        match api {
            "tencent-clb" => "ap-guangzhou",
            _ => "cn-hangzhou",
        }
        .to_string(),
    );
    if api == "tencent-gaap" {
        p.region = None;
    }
    for (alias, id) in [
        ("web-cert", "cert-web-rsa"),
        ("web-cert-ecc", "cert-web-ecc"),
        ("partners-ca", "ca-partners"),
        ("partners-ca-2", "ca-partners-2"),
    ] {
        let id = if api == "alibaba-ga" {
            format!("{id}-cn-hangzhou")
        } else {
            id.to_string()
        };
        p.aliases.certificates.insert(alias.into(), id);
    }
    p.aliases.targets.insert("web-servers".into(), SERVER_GROUP.into());
    aim(&mut p, url);
    p
}

/// An emulator builder with one instance (`id`) of `service`, seeded with
/// `server_groups` (ALB), every asynchronous delay `delay_ms`, vendor
/// throttling off: the set-up of the single-API route tests.
pub fn one_instance(service: &str, id: &str, server_groups: &[&str], delay_ms: u64) -> EmulatorBuilder {
    let delay = Duration::from_millis(delay_ms);
    Emulator::builder()
        .seed(
            service,
            InstanceSeed {
                id: id.to_string(),
                server_groups: server_groups.iter().map(|s| s.to_string()).collect(),
            },
        )
        .timing(Timing {
            create: delay,
            update: delay,
            delete: delay,
        })
        .rate_limits(RateLimits::disabled())
}
