//! `--emulate`: the same command against an in-process emulator.
//!
//! A new user should be able to see the whole flow, with the real adapters,
//! signatures and vendor rules, without a cloud account. So the emulator is
//! started inside this process, seeded with exactly the instances (and ALB
//! server groups) the profiles name, and each profile is pointed at it with
//! the emulator's public test credentials. Those credentials live in memory
//! only; the file on disk is never changed. The emulator stops when the
//! command ends, so its state does not outlive the command.
//!
//! Rewriting a profile must not hide what is wrong with it: the endpoint,
//! `allow_insecure_http` and region set here would cover a profile the real
//! cloud path refuses. So every command checks each profile **as written**
//! (`Loaded::check_profile`, the same offline check `validate` runs) before
//! an emulator is started, and `--emulate` reports the same profile errors
//! a real run would.

use std::collections::BTreeSet;

use cloud_listeners::{InlineCredentials, ProfileConfig, Secret, WaitConfig};
use listener_emulator::{
    Emulator as Server, EmulatorHandle, InstanceSeed, DEFAULT_ALIBABA_ACCESS_KEY_ID, DEFAULT_ALIBABA_ACCESS_KEY_SECRET,
    DEFAULT_TENCENT_SECRET_ID, DEFAULT_TENCENT_SECRET_KEY,
};

use crate::diag::Failure;
use crate::load::runtime_failure;

/// How often to poll asynchronous work on the emulator when the profile
/// does not say: its tasks finish in a fraction of a second, and the
/// default one-second poll would make a demo crawl.
const EMULATED_POLL_MS: u64 = 100;
/// How long to wait for asynchronous work on the emulator by default.
const EMULATED_TIMEOUT_SECS: u64 = 60;

/// A running in-process emulator.
#[derive(Debug)]
pub struct Emulator {
    handle: EmulatorHandle,
}

/// The instance and server groups a profile needs to exist on the emulator.
pub fn seed_for(profile: &ProfileConfig) -> InstanceSeed {
    InstanceSeed {
        id: profile.instance.clone(),
        server_groups: profile.aliases.targets.values().cloned().collect(),
    }
}

/// `profile` pointed at an emulator at `url`: plain-HTTP endpoint allowed,
/// the emulator's test credentials inline (in memory), faster polling
/// unless the profile sets its own.
pub fn emulated_profile(profile: &ProfileConfig, url: &str) -> ProfileConfig {
    let mut p = profile.clone();
    p.endpoint = Some(url.to_string());
    p.allow_insecure_http = true;
    let (key_id, secret) = if p.api.starts_with("alibaba-") {
        (DEFAULT_ALIBABA_ACCESS_KEY_ID, DEFAULT_ALIBABA_ACCESS_KEY_SECRET)
    } else {
        (DEFAULT_TENCENT_SECRET_ID, DEFAULT_TENCENT_SECRET_KEY)
    };
    p.inline_credentials = Some(InlineCredentials {
        key_id: key_id.to_string(),
        secret: Secret::new(secret),
        token: None,
    });
    // The written profile passed the offline check, so an API that needs a
    // region found one (in the profile, the environment or the vendor's
    // CLI files). The emulator serves every region alike, so a profile
    // without its own gets a fixed one here rather than the one the
    // environment happens to hold.
    if p.region.is_none() {
        p.region = match p.api.as_str() {
            "tencent-clb" => Some("ap-guangzhou".to_string()),
            "alibaba-alb" | "alibaba-ga" => Some("cn-hangzhou".to_string()),
            _ => None,
        };
    }
    if p.wait.is_none() {
        p.wait = Some(WaitConfig::uniform(EMULATED_TIMEOUT_SECS, EMULATED_POLL_MS));
    }
    p
}

impl Emulator {
    /// Start an emulator seeded with every profile's instance. Must run
    /// inside a tokio runtime (the server's tasks are spawned on it).
    pub async fn start(profiles: &[(&str, &ProfileConfig)]) -> Result<Emulator, Failure> {
        let mut builder = Server::builder();
        let mut seen = BTreeSet::new();
        for (_, profile) in profiles {
            if seen.insert((profile.api.clone(), profile.instance.clone())) {
                builder = builder.seed(profile.api.clone(), seed_for(profile));
            }
        }
        let handle = builder
            .start()
            .await
            .map_err(|e| runtime_failure(format!("cannot start the emulator: {e}")))?;
        Ok(Emulator { handle })
    }

    /// The emulator's base URL.
    pub fn url(&self) -> String {
        self.handle.url()
    }

    /// `profile` as it must be to reach this emulator.
    pub fn profile(&self, profile: &ProfileConfig) -> ProfileConfig {
        emulated_profile(profile, &self.url())
    }

    /// Stop the server and wait for its tasks.
    pub async fn shutdown(self) {
        self.handle.shutdown().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emulated_profile_never_needs_a_real_region() {
        let mut alb = ProfileConfig::new("alibaba-alb", "alb-1");
        alb.region = None;
        assert_eq!(
            emulated_profile(&alb, "http://127.0.0.1:1").region.as_deref(),
            Some("cn-hangzhou")
        );
        let clb = ProfileConfig::new("tencent-clb", "lb-1");
        assert_eq!(
            emulated_profile(&clb, "http://127.0.0.1:1").region.as_deref(),
            Some("ap-guangzhou")
        );
        let mut own = ProfileConfig::new("alibaba-alb", "alb-1");
        own.region = Some("cn-shanghai".into());
        assert_eq!(
            emulated_profile(&own, "http://127.0.0.1:1").region.as_deref(),
            Some("cn-shanghai")
        );
    }

    #[test]
    fn emulated_profile_points_at_the_emulator_with_test_credentials() {
        let mut p = ProfileConfig::new("alibaba-alb", "alb-1");
        p.aliases.targets.insert("web".into(), "sgp-1".into());
        let e = emulated_profile(&p, "http://127.0.0.1:9");
        assert_eq!(e.endpoint.as_deref(), Some("http://127.0.0.1:9"));
        assert!(e.allow_insecure_http);
        let creds = e.inline_credentials.expect("inline credentials");
        assert_eq!(creds.key_id, DEFAULT_ALIBABA_ACCESS_KEY_ID);
        assert_eq!(e.wait.map(|w| w.poll_interval_ms), Some(EMULATED_POLL_MS));
        assert_eq!(seed_for(&p).server_groups, vec!["sgp-1".to_string()]);
        let t = emulated_profile(&ProfileConfig::new("tencent-clb", "lb-1"), "http://127.0.0.1:9");
        assert_eq!(
            t.inline_credentials.map(|c| c.key_id).as_deref(),
            Some(DEFAULT_TENCENT_SECRET_ID)
        );
    }

    #[test]
    fn a_profile_with_its_own_wait_settings_keeps_them() {
        let mut p = ProfileConfig::new("tencent-gaap", "link-1");
        p.wait = Some(WaitConfig::uniform(5, 7));
        assert_eq!(emulated_profile(&p, "http://x").wait, p.wait);
    }
}
