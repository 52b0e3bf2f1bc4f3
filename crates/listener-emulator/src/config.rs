//! The emulator's config file and the fault specs of the admin surface.
//!
//! The binary runs in other people's CI, where the only interface is a file
//! and a few flags; so everything the builder can set (credentials, seeded
//! instances, timing, rate limits, faults) can also come from one TOML
//! file. The fault part of that file has the same shape as the JSON the
//! admin endpoint `POST /_emulator/faults` accepts, so one description of
//! faults serves both.
//!
//! ```toml
//! verify_signatures = true
//!
//! [credentials.tencent]
//! secret_id = "AKIDexample"
//! secret_key = "example-key"
//!
//! [credentials.alibaba]
//! access_key_id = "LTAIexample"
//! access_key_secret = "example-secret"
//!
//! [timing]
//! create_ms = 500
//!
//! [rate_limits]
//! scale = 10.0
//! overrides = { "alb:CreateListener" = { requests = 5, per_secs = 1 } }
//!
//! [[instances]]
//! service = "tencent-gaap"
//! id = "link-abc123"
//!
//! [[faults.rules]]
//! action = "CreateListener"
//! fault = "lost_answer"
//!
//! [faults.random]
//! seed = 7
//! drop = 0.01
//! ```
//!
//! Secrets read from the file are kept in the credential types, which never
//! print them, and parse errors about credential fields leave the value out.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::credentials::{AlibabaCredentials, TencentCredentials};
use crate::faults::{Fault, FaultKind, FaultRule, RandomFaults};
use crate::rate_limit::{Rate, RateLimits};
use crate::service::{InstanceSeed, Timing};
use crate::EmulatorError;

/// Settings read from a config file; every part is optional and only what
/// is present overrides the builder's defaults.
#[derive(Debug, Clone, Default)]
pub struct EmulatorConfig {
    /// Whether signatures are checked.
    pub verify_signatures: Option<bool>,
    /// The accepted Tencent key pair.
    pub tencent: Option<TencentCredentials>,
    /// The accepted Alibaba key pair.
    pub alibaba: Option<AlibabaCredentials>,
    /// Asynchronous delays.
    pub timing: Option<Timing>,
    /// Rate table.
    pub rate_limits: Option<RateLimits>,
    /// Instances to seed, as (service or API name, instance).
    pub instances: Vec<(String, InstanceSeed)>,
    /// Scripted faults.
    pub fault_rules: Vec<FaultRule>,
    /// Random faults.
    pub random_faults: Option<RandomFaults>,
}

impl EmulatorConfig {
    /// Reads and checks a TOML config file.
    pub fn load(path: &Path) -> Result<Self, EmulatorError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| EmulatorError::Config(format!("cannot read {}: {e}", path.display())))?;
        EmulatorConfig::from_toml(&text)
    }

    /// Parses and checks TOML text.
    pub fn from_toml(text: &str) -> Result<Self, EmulatorError> {
        let file: FileConfig =
            toml::from_str(text).map_err(|e| EmulatorError::Config(describe_toml_error(text, &e)))?;
        file.into_config().map_err(EmulatorError::Config)
    }
}

/// Names of keys whose values must never be echoed in an error.
fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["secret", "key", "token"].iter().any(|w| key.contains(w))
}

/// A parse error with its line number; when the line sets a credential,
/// the message (which may quote the value) is replaced by a neutral one.
fn describe_toml_error(text: &str, err: &toml::de::Error) -> String {
    let Some(span) = err.span() else {
        return err.message().to_string();
    };
    // Counted over bytes, so an offset inside a multi-byte character
    // cannot panic.
    let start = span.start.min(text.len());
    let line_no = text.as_bytes()[..start].iter().filter(|b| **b == b'\n').count() + 1;
    let line = text.lines().nth(line_no - 1).unwrap_or("");
    let key = line.split('=').next().unwrap_or("").trim();
    if is_secret_key(key) {
        format!("line {line_no}: invalid value for `{key}` (value not shown)")
    } else {
        format!("line {line_no}: {}", err.message())
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct FileConfig {
    verify_signatures: Option<bool>,
    credentials: CredentialsSection,
    timing: Option<TimingSection>,
    rate_limits: Option<RateLimitsSection>,
    instances: Vec<InstanceSection>,
    faults: FaultsSpec,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct CredentialsSection {
    tencent: Option<TencentSection>,
    alibaba: Option<AlibabaSection>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TencentSection {
    secret_id: String,
    secret_key: String,
    #[serde(default)]
    token: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AlibabaSection {
    access_key_id: String,
    access_key_secret: String,
    #[serde(default)]
    security_token: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct TimingSection {
    create_ms: Option<u64>,
    update_ms: Option<u64>,
    delete_ms: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RateLimitsSection {
    enabled: Option<bool>,
    scale: Option<f64>,
    tencent: Option<RateSpec>,
    alibaba: Option<RateSpec>,
    alb_writes: Option<RateSpec>,
    alb_reads: Option<RateSpec>,
    overrides: BTreeMap<String, RateSpec>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
struct RateSpec {
    requests: u32,
    per_secs: f64,
}

impl RateSpec {
    fn to_rate(self, name: &str) -> Result<Rate, String> {
        let per = Duration::try_from_secs_f64(self.per_secs)
            .map_err(|_| format!("rate `{name}`: per_secs must be a positive number of seconds"))?;
        Ok(Rate {
            requests: self.requests,
            per,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InstanceSection {
    service: String,
    id: String,
    #[serde(default)]
    server_groups: Vec<String>,
}

impl FileConfig {
    fn into_config(self) -> Result<EmulatorConfig, String> {
        let tencent = self.credentials.tencent.map(|t| TencentCredentials {
            secret_id: t.secret_id,
            secret_key: t.secret_key,
            token: t.token,
        });
        let alibaba = self.credentials.alibaba.map(|a| AlibabaCredentials {
            access_key_id: a.access_key_id,
            access_key_secret: a.access_key_secret,
            security_token: a.security_token,
        });
        let timing = self.timing.map(|t| {
            let base = Timing::default();
            let ms = |v: Option<u64>, d: Duration| v.map(Duration::from_millis).unwrap_or(d);
            Timing {
                create: ms(t.create_ms, base.create),
                update: ms(t.update_ms, base.update),
                delete: ms(t.delete_ms, base.delete),
            }
        });
        let rate_limits = match self.rate_limits {
            None => None,
            Some(r) => {
                let mut limits = RateLimits::default();
                if let Some(enabled) = r.enabled {
                    limits.enabled = enabled;
                }
                if let Some(scale) = r.scale {
                    limits.scale = scale;
                }
                let slots = [
                    ("tencent", r.tencent, &mut limits.tencent),
                    ("alibaba", r.alibaba, &mut limits.alibaba),
                    ("alb_writes", r.alb_writes, &mut limits.alb_writes),
                    ("alb_reads", r.alb_reads, &mut limits.alb_reads),
                ];
                for (name, spec, slot) in slots {
                    if let Some(spec) = spec {
                        *slot = spec.to_rate(name)?;
                    }
                }
                for (key, spec) in r.overrides {
                    let rate = spec.to_rate(&key)?;
                    limits.overrides.insert(key, rate);
                }
                limits.validate()?;
                Some(limits)
            }
        };
        let instances = self
            .instances
            .into_iter()
            .map(|i| {
                (
                    i.service,
                    InstanceSeed {
                        id: i.id,
                        server_groups: i.server_groups,
                    },
                )
            })
            .collect();
        let (fault_rules, random_faults) = self.faults.into_runtime()?;
        Ok(EmulatorConfig {
            verify_signatures: self.verify_signatures,
            tencent,
            alibaba,
            timing,
            rate_limits,
            instances,
            fault_rules,
            random_faults,
        })
    }
}

/// Faults as written in the config file (`[faults]`) and as sent to and
/// answered by the admin endpoint `/_emulator/faults` (JSON).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaultsSpec {
    /// Scripted rules, in order.
    pub rules: Vec<FaultRuleSpec>,
    /// Random faults; absent switches them off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub random: Option<RandomFaultsSpec>,
    /// Admin only: also set the fault counters back to zero.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub reset_counts: bool,
}

/// One scripted rule: `fault` is `throttle`, `server_error`, `drop`,
/// `slow` (needs `delay_ms`), `lost_answer` or `task_failure`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRuleSpec {
    /// Service or API name; absent for any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Action; absent for any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The fault kind's name.
    pub fault: String,
    /// Delay of a `slow` fault, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// Matching calls that get the fault (default 1).
    #[serde(default = "one")]
    pub times: u32,
    /// Matching calls that pass first (default 0).
    #[serde(default)]
    pub skip: u32,
}

fn one() -> u32 {
    1
}

/// Random faults: per-call probabilities (adding up to at most 1), the
/// per-task failure probability, the slow delay and the seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RandomFaultsSpec {
    /// Generator seed.
    pub seed: u64,
    /// Probability of `throttle`.
    pub throttle: f64,
    /// Probability of `server_error`.
    pub server_error: f64,
    /// Probability of `drop`.
    pub drop: f64,
    /// Probability of `slow`.
    pub slow: f64,
    /// Delay of a random `slow`, in milliseconds.
    pub slow_delay_ms: u64,
    /// Probability of `lost_answer`.
    pub lost_answer: f64,
    /// Probability that a task fails.
    pub task_failure: f64,
}

impl Default for RandomFaultsSpec {
    fn default() -> Self {
        RandomFaultsSpec::from(&RandomFaults::default())
    }
}

impl From<&RandomFaults> for RandomFaultsSpec {
    fn from(r: &RandomFaults) -> Self {
        RandomFaultsSpec {
            seed: r.seed,
            throttle: r.throttle,
            server_error: r.server_error,
            drop: r.drop,
            slow: r.slow,
            slow_delay_ms: u64::try_from(r.slow_delay.as_millis()).unwrap_or(u64::MAX),
            lost_answer: r.lost_answer,
            task_failure: r.task_failure,
        }
    }
}

impl From<&RandomFaultsSpec> for RandomFaults {
    fn from(r: &RandomFaultsSpec) -> Self {
        RandomFaults {
            seed: r.seed,
            throttle: r.throttle,
            server_error: r.server_error,
            drop: r.drop,
            slow: r.slow,
            slow_delay: Duration::from_millis(r.slow_delay_ms),
            lost_answer: r.lost_answer,
            task_failure: r.task_failure,
        }
    }
}

impl From<&FaultRule> for FaultRuleSpec {
    fn from(rule: &FaultRule) -> Self {
        let delay_ms = match rule.fault {
            Fault::Slow(d) => Some(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            _ => None,
        };
        FaultRuleSpec {
            service: rule.service.clone(),
            action: rule.action.clone(),
            fault: rule.fault.kind().as_str().to_string(),
            delay_ms,
            times: rule.times,
            skip: rule.skip,
        }
    }
}

impl TryFrom<&FaultRuleSpec> for FaultRule {
    type Error = String;

    fn try_from(spec: &FaultRuleSpec) -> Result<Self, String> {
        let kind = FaultKind::parse(&spec.fault).ok_or_else(|| {
            let names: Vec<_> = FaultKind::ALL.iter().map(|k| k.as_str()).collect();
            format!("unknown fault `{}`; expected one of {}", spec.fault, names.join(", "))
        })?;
        let fault = match (kind, spec.delay_ms) {
            (FaultKind::Slow, Some(ms)) => Fault::Slow(Duration::from_millis(ms)),
            (FaultKind::Slow, None) => return Err("fault `slow` needs `delay_ms`".to_string()),
            (_, Some(_)) => return Err(format!("`delay_ms` only applies to `slow`, not `{}`", spec.fault)),
            (FaultKind::Throttle, None) => Fault::Throttle,
            (FaultKind::ServerError, None) => Fault::ServerError,
            (FaultKind::Drop, None) => Fault::Drop,
            (FaultKind::LostAnswer, None) => Fault::LostAnswer,
            (FaultKind::TaskFailure, None) => Fault::TaskFailure,
        };
        Ok(FaultRule {
            service: spec.service.clone(),
            action: spec.action.clone(),
            fault,
            times: spec.times,
            skip: spec.skip,
        })
    }
}

impl FaultsSpec {
    /// The runtime rules and random settings, checked.
    pub fn into_runtime(self) -> Result<(Vec<FaultRule>, Option<RandomFaults>), String> {
        let rules = self
            .rules
            .iter()
            .map(FaultRule::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        let random = self.random.as_ref().map(RandomFaults::from);
        if let Some(r) = &random {
            r.validate()?;
        }
        Ok((rules, random))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
verify_signatures = false

[credentials.tencent]
secret_id = "AKIDfile"
secret_key = "file-tencent-key"

[credentials.alibaba]
access_key_id = "LTAIfile"
access_key_secret = "file-alibaba-secret"
security_token = "file-sts-token"

[timing]
create_ms = 1500

[rate_limits]
scale = 0.5
alb_writes = { requests = 10, per_secs = 60 }
overrides = { "ga:CreateListener" = { requests = 2, per_secs = 1 } }

[[instances]]
service = "tencent-gaap"
id = "link-abc"

[[instances]]
service = "alb"
id = "alb-1"
server_groups = ["sgp-1"]

[[faults.rules]]
service = "gaap"
action = "CreateHTTPListener"
fault = "slow"
delay_ms = 250
times = 2

[[faults.rules]]
fault = "task_failure"
skip = 1

[faults.random]
seed = 9
drop = 0.1
task_failure = 0.2
"#;

    #[test]
    fn full_file_sets_every_section() {
        let c = EmulatorConfig::from_toml(FULL).unwrap();
        assert_eq!(c.verify_signatures, Some(false));
        assert_eq!(c.tencent.as_ref().unwrap().secret_id, "AKIDfile");
        assert_eq!(
            c.alibaba.as_ref().unwrap().security_token.as_deref(),
            Some("file-sts-token")
        );
        let timing = c.timing.as_ref().unwrap();
        assert_eq!(timing.create, Duration::from_millis(1500));
        assert_eq!(timing.delete, Timing::default().delete);
        let limits = c.rate_limits.as_ref().unwrap();
        assert_eq!(limits.scale, 0.5);
        assert_eq!(limits.alb_writes, Rate::per_minute(10));
        assert_eq!(limits.overrides["ga:CreateListener"], Rate::per_second(2));
        assert_eq!(c.instances.len(), 2);
        assert_eq!(c.instances[1].1.server_groups, vec!["sgp-1".to_string()]);
        assert_eq!(
            c.fault_rules[0],
            FaultRule::new(Fault::Slow(Duration::from_millis(250)))
                .service("gaap")
                .action("CreateHTTPListener")
                .times(2)
        );
        assert_eq!(c.fault_rules[1], FaultRule::new(Fault::TaskFailure).skip(1));
        let random = c.random_faults.as_ref().unwrap();
        assert_eq!((random.seed, random.drop, random.task_failure), (9, 0.1, 0.2));
    }

    #[test]
    fn debug_of_loaded_config_hides_secrets() {
        let c = EmulatorConfig::from_toml(FULL).unwrap();
        let shown = format!("{c:?}");
        for secret in ["file-tencent-key", "file-alibaba-secret", "file-sts-token"] {
            assert!(!shown.contains(secret), "{secret} leaked");
        }
    }

    #[test]
    fn errors_on_credential_lines_do_not_quote_the_value() {
        let text = "[credentials.tencent]\nsecret_id = \"AKID\"\nsecret_key = 12345678\n";
        let err = EmulatorConfig::from_toml(text).unwrap_err().to_string();
        assert!(!err.contains("12345678"), "{err}");
        assert!(err.contains("line 3"), "{err}");
    }

    #[test]
    fn unknown_keys_and_bad_faults_are_refused() {
        assert!(EmulatorConfig::from_toml("verify = true").is_err());
        let unknown_fault = "[[faults.rules]]\nfault = \"explode\"\n";
        assert!(EmulatorConfig::from_toml(unknown_fault)
            .unwrap_err()
            .to_string()
            .contains("unknown fault"));
        let slow_without_delay = "[[faults.rules]]\nfault = \"slow\"\n";
        assert!(EmulatorConfig::from_toml(slow_without_delay).is_err());
        let delay_on_drop = "[[faults.rules]]\nfault = \"drop\"\ndelay_ms = 5\n";
        assert!(EmulatorConfig::from_toml(delay_on_drop).is_err());
        let too_likely = "[faults.random]\ndrop = 0.7\nthrottle = 0.7\n";
        assert!(EmulatorConfig::from_toml(too_likely).is_err());
        let zero_rate = "[rate_limits]\ntencent = { requests = 0, per_secs = 1 }\n";
        assert!(EmulatorConfig::from_toml(zero_rate).is_err());
        let negative_period = "[rate_limits]\ntencent = { requests = 1, per_secs = -1 }\n";
        assert!(EmulatorConfig::from_toml(negative_period).is_err());
    }

    #[test]
    fn fault_specs_round_trip_through_json() {
        let rules = vec![
            FaultRule::new(Fault::Slow(Duration::from_millis(40))).action("A"),
            FaultRule::new(Fault::LostAnswer).service("ga").times(3).skip(2),
        ];
        let spec = FaultsSpec {
            rules: rules.iter().map(FaultRuleSpec::from).collect(),
            random: Some(RandomFaultsSpec {
                seed: 3,
                lost_answer: 0.5,
                ..RandomFaultsSpec::default()
            }),
            reset_counts: false,
        };
        let json = serde_json::to_string(&spec).unwrap();
        let back: FaultsSpec = serde_json::from_str(&json).unwrap();
        let (parsed_rules, random) = back.into_runtime().unwrap();
        assert_eq!(parsed_rules, rules);
        assert_eq!(random.unwrap().lost_answer, 0.5);
    }
}
