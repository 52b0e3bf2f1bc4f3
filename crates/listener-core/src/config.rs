//! Provider profiles and the listeners file.
//!
//! One file holds named profiles (which API, region, instance, endpoint,
//! alias maps) and the listeners. Switching clouds is choosing another
//! profile; the listeners section does not change. Credentials come from the
//! environment or the vendors' CLI files; `inline_credentials` exists for
//! throw-away setups only and is documented as unsafe.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, Serializer};

use crate::aliases::Aliases;
use crate::parse::{self, Format, ParseError};
use crate::spec::ListenerSpec;
use crate::validate::{validate_listeners, Violation};

/// A secret value: never shown by `Debug`, `Display` or serialization.
#[derive(Clone, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct Secret(#[schemars(with = "String")] SecretString);

impl Secret {
    /// Wrap a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(SecretString::from(value.into()))
    }

    /// The secret itself, for signing only.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("<redacted>")
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

/// Credentials written into the file. **Unsafe**: the file ends up in
/// repositories and CI logs. Prefer the environment or the vendor CLI files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InlineCredentials {
    /// Access key ID / SecretId.
    pub key_id: String,
    /// Access key secret / SecretKey.
    pub secret: Secret,
    /// Session token for temporary credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret>,
}

/// How long and how often to wait for asynchronous work.
///
/// Each kind of write has its own limit because the vendors' own do: a
/// GA listener create can take many minutes while its update takes a few
/// (Terraform's GA provider allows 15, 3 and 10 minutes for create,
/// update and delete). The limit of an operation is its own setting
/// (`create_secs`, `update_secs`, `delete_secs`) when given, else
/// `timeout_secs` when given (one limit for every operation, as before the
/// per-operation settings existed), else the API's documented default
/// for that operation (each adapter declares its `WaitDefaults`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WaitConfig {
    /// One limit, in seconds, for every operation that has no limit of its
    /// own below; unset means the API's defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub timeout_secs: Option<u64>,
    /// The shortest pause between two polls, in milliseconds (later polls
    /// of a long wait are spaced further apart).
    #[serde(default = "default_poll_ms")]
    #[schemars(range(min = 1))]
    pub poll_interval_ms: u64,
    /// Give up waiting for a create after this many seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub create_secs: Option<u64>,
    /// Give up waiting for an update after this many seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub update_secs: Option<u64>,
    /// Give up waiting for a delete after this many seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub delete_secs: Option<u64>,
}

/// The kind of write a wait follows; each has its own time limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitOp {
    /// A listener (or a part of it) being made.
    Create,
    /// A change of an existing listener.
    Update,
    /// A listener being removed.
    Delete,
}

impl WaitOp {
    /// Every kind, in the order settings are listed.
    pub const ALL: [WaitOp; 3] = [WaitOp::Create, WaitOp::Update, WaitOp::Delete];

    /// The profile setting that sets this kind's limit, as a user writes
    /// it (`wait.create_secs`): timeout errors and validation name it.
    pub fn setting(self) -> &'static str {
        match self {
            WaitOp::Create => "wait.create_secs",
            WaitOp::Update => "wait.update_secs",
            WaitOp::Delete => "wait.delete_secs",
        }
    }

    /// `create`, `update` or `delete`.
    pub fn as_str(self) -> &'static str {
        match self {
            WaitOp::Create => "create",
            WaitOp::Update => "update",
            WaitOp::Delete => "delete",
        }
    }
}

impl fmt::Display for WaitOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An API's default wait limits, in seconds, declared by its adapter with
/// the vendor source it follows (the core names no vendor).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitDefaults {
    /// Limit of a create.
    pub create_secs: u64,
    /// Limit of an update.
    pub update_secs: u64,
    /// Limit of a delete.
    pub delete_secs: u64,
}

impl WaitDefaults {
    /// The same limit for every operation.
    pub const fn all(secs: u64) -> Self {
        WaitDefaults {
            create_secs: secs,
            update_secs: secs,
            delete_secs: secs,
        }
    }

    /// The default of `op`.
    pub fn secs(&self, op: WaitOp) -> u64 {
        match op {
            WaitOp::Create => self.create_secs,
            WaitOp::Update => self.update_secs,
            WaitOp::Delete => self.delete_secs,
        }
    }
}

/// The limit of a wait whose adapter gave no defaults (tests, callers of
/// the poller outside an adapter): five minutes, the longest write timeout
/// the Tencent and ALB Terraform providers use.
pub const FALLBACK_WAIT_SECS: u64 = 300;

fn default_poll_ms() -> u64 {
    1000
}

impl Default for WaitConfig {
    /// No limit set (the API's defaults apply), polled at most every second.
    fn default() -> Self {
        WaitConfig {
            timeout_secs: None,
            poll_interval_ms: default_poll_ms(),
            create_secs: None,
            update_secs: None,
            delete_secs: None,
        }
    }
}

impl WaitConfig {
    /// A wait of `timeout_secs` for every operation, polled at most every
    /// `poll_interval_ms`: what tests and emulated profiles use.
    pub fn uniform(timeout_secs: u64, poll_interval_ms: u64) -> Self {
        WaitConfig {
            timeout_secs: Some(timeout_secs),
            poll_interval_ms,
            ..WaitConfig::default()
        }
    }

    /// The setting for `op` alone, if the user wrote one.
    pub fn op_secs(&self, op: WaitOp) -> Option<u64> {
        match op {
            WaitOp::Create => self.create_secs,
            WaitOp::Update => self.update_secs,
            WaitOp::Delete => self.delete_secs,
        }
    }

    /// The limit of `op` under `defaults`: its own setting, else
    /// `timeout_secs`, else the default; with the setting that decided it
    /// (named in timeout errors, so the user knows what to raise).
    pub fn limit(&self, op: WaitOp, defaults: &WaitDefaults) -> (std::time::Duration, &'static str) {
        let (secs, setting) = match (self.op_secs(op), self.timeout_secs) {
            (Some(s), _) => (s, op.setting()),
            (None, Some(s)) => (s, "wait.timeout_secs"),
            (None, None) => (defaults.secs(op), op.setting()),
        };
        (std::time::Duration::from_secs(secs), setting)
    }

    /// The one check of the wait settings, made when a profile is read by
    /// every adapter and by the offline profile check; the error names the
    /// field (`wait.create_secs`; listenerctl puts the profile's path in
    /// front). A zero limit is refused, not clamped: every write of every
    /// supported API finishes asynchronously, so a wait of zero seconds
    /// could only report a timeout after the change was already sent. A
    /// zero interval is refused too: it would poll without pause.
    pub fn check(&self) -> Result<(), crate::Error> {
        let limits = [
            ("wait.timeout_secs", self.timeout_secs),
            (WaitOp::Create.setting(), self.create_secs),
            (WaitOp::Update.setting(), self.update_secs),
            (WaitOp::Delete.setting(), self.delete_secs),
        ];
        for (field, secs) in limits {
            if secs == Some(0) {
                return Err(crate::Error::Config {
                    field: field.into(),
                    message: "must be at least 1 second: every write finishes asynchronously and is waited for".into(),
                });
            }
        }
        if self.poll_interval_ms == 0 {
            return Err(crate::Error::Config {
                field: "wait.poll_interval_ms".into(),
                message: "must be at least 1 millisecond".into(),
            });
        }
        Ok(())
    }
}

/// One provider profile: which API, where, and how aliases resolve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileConfig {
    /// The API: `tencent-gaap`, `tencent-clb`, `alibaba-alb` or `alibaba-ga`.
    pub api: String,
    /// Region; some APIs need it (CLB, ALB), GAAP is global, GA is `cn-hangzhou`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The instance: GAAP connection (`link-…`) or group (`lg-…`), CLB load
    /// balancer (`lb-…`), ALB instance (`alb-…`), GA accelerator (`ga-…`).
    #[schemars(pattern(crate::spec::NOT_BLANK))]
    pub instance: String,
    /// Endpoint URL override (e.g. an emulator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Allow a plain `http://` endpoint (emulators only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_insecure_http: bool,
    /// Alias maps.
    #[serde(default, flatten)]
    pub aliases: Aliases,
    /// Waiting for asynchronous work.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<WaitConfig>,
    /// Client-side rate limit override, calls per second; above zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub rate_limit_per_second: Option<f64>,
    /// Credentials in the file. Unsafe; see [`InlineCredentials`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline_credentials: Option<InlineCredentials>,
    /// Who the listeners this profile creates belong to: the management
    /// mark they carry, and what `--prune` deletes (see [`crate::mark`]).
    /// 1–12 lower-case letters, digits and `-`; `default` when unset.
    /// Teams sharing an instance each set their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 12), pattern(r"^[a-z][a-z0-9-]*$"))]
    pub owner: Option<String>,
}

impl ProfileConfig {
    /// A profile for `api` on `instance` with everything else default.
    pub fn new(api: impl Into<String>, instance: impl Into<String>) -> Self {
        ProfileConfig {
            api: api.into(),
            region: None,
            instance: instance.into(),
            endpoint: None,
            allow_insecure_http: false,
            aliases: Aliases::default(),
            wait: None,
            rate_limit_per_second: None,
            inline_credentials: None,
            owner: None,
        }
    }

    /// The owner whose mark this profile's listeners carry, defaulted.
    pub fn owner(&self) -> &str {
        self.owner.as_deref().unwrap_or(crate::mark::DEFAULT_OWNER)
    }

    /// The wait settings, defaulted.
    pub fn wait(&self) -> WaitConfig {
        self.wait.clone().unwrap_or_default()
    }
}

/// The listeners file: profiles and listeners. A file with neither is
/// refused: it is almost always the wrong file or an unsaved one, and
/// `apply --prune` with it would mean "delete everything".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("anyOf" = [
    { "required": ["listeners"], "properties": { "listeners": { "minItems": 1 } } },
    { "required": ["profiles"], "properties": { "profiles": { "minProperties": 1 } } },
]))]
pub struct ConfigFile {
    /// Profile used when none is chosen on the command line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_profile: Option<String>,
    /// Named provider profiles.
    #[serde(default)]
    pub profiles: BTreeMap<String, ProfileConfig>,
    /// Named backend pools that listeners and routes forward to, the same
    /// on every cloud: endpoints described here, or an existing vendor
    /// pool named by a target alias of each profile.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("propertyNames" = {
        "pattern": crate::routes::BACKEND_NAME_PATTERN,
        "maxLength": crate::routes::BACKEND_NAME_MAX,
    }))]
    pub backends: BTreeMap<String, crate::routes::Backend>,
    /// The listeners, the same on every cloud.
    #[serde(default)]
    pub listeners: Vec<ListenerSpec>,
}

/// Why a file could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LoadError {
    /// The file could not be read.
    Io {
        /// The file.
        file: PathBuf,
        /// The OS error.
        message: String,
    },
    /// The extension names no known format.
    UnknownFormat {
        /// The file.
        file: PathBuf,
    },
    /// The text is not a valid document of the expected shape.
    Parse {
        /// The file.
        file: PathBuf,
        /// Every problem the parsers could recover from, in the order
        /// found; at least one.
        errors: Vec<ParseError>,
    },
    /// The document parsed but breaks rules.
    Invalid {
        /// The file.
        file: PathBuf,
        /// Every violation.
        violations: Vec<Violation>,
    },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Io { file, message } => write!(f, "{}: {message}", file.display()),
            LoadError::UnknownFormat { file } => write!(
                f,
                "{}: unknown file type; use .toml, .yaml, .yml or .json",
                file.display()
            ),
            LoadError::Parse { file, errors } => {
                let mut first = true;
                for e in errors {
                    if !first {
                        f.write_str("\n")?;
                    }
                    first = false;
                    write!(f, "{}: {e}", file.display())?;
                }
                Ok(())
            }
            LoadError::Invalid { file, violations } => {
                write!(f, "{}: {} problem(s)", file.display(), violations.len())?;
                for v in violations {
                    write!(f, "\n  {v}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for LoadError {}

impl ConfigFile {
    /// Read, parse and validate a file; the format follows the extension.
    pub fn load(path: &Path) -> Result<ConfigFile, LoadError> {
        let format = Format::from_path(path).ok_or_else(|| LoadError::UnknownFormat {
            file: path.to_path_buf(),
        })?;
        let text = parse::read_file(path, format)
            .map_err(|e| LoadError::Io {
                file: path.to_path_buf(),
                message: e.to_string(),
            })?
            .map_err(|e| LoadError::Parse {
                file: path.to_path_buf(),
                errors: vec![e],
            })?;
        Self::from_text(&text, format, path)
    }

    /// Parse and validate text already in memory; `path` is used in messages.
    pub fn from_text(text: &str, format: Format, path: &Path) -> Result<ConfigFile, LoadError> {
        let file = parse::config_from_str(text, format).map_err(|errors| LoadError::Parse {
            file: path.to_path_buf(),
            errors,
        })?;
        let violations = file.violations();
        if violations.is_empty() {
            Ok(file)
        } else {
            Err(LoadError::Invalid {
                file: path.to_path_buf(),
                violations,
            })
        }
    }

    /// Every neutral rule the file breaks.
    pub fn violations(&self) -> Vec<Violation> {
        let mut out = validate_listeners(&self.listeners);
        out.extend(crate::routes::file_violations(&self.backends, &self.listeners));
        if self.listeners.is_empty() && self.profiles.is_empty() {
            out.push(Violation::new(
                "listeners",
                "file_empty",
                "the file defines no listeners and no profiles",
            ));
        }
        for (name, p) in &self.profiles {
            if p.instance.trim().is_empty() {
                out.push(Violation::new(
                    format!("profiles.{name}.instance"),
                    "required",
                    "must name the instance",
                ));
            }
            if let Some(rate) = p.rate_limit_per_second {
                if !(rate > 0.0 && rate.is_finite()) {
                    out.push(Violation::new(
                        format!("profiles.{name}.rate_limit_per_second"),
                        "range",
                        "must be a positive number",
                    ));
                }
            }
        }
        if let Some(d) = &self.default_profile {
            if !self.profiles.contains_key(d) {
                out.push(Violation::new(
                    "default_profile",
                    "profile_unknown",
                    format!("no profile is named `{d}`"),
                ));
            }
        }
        out
    }

    /// The profile called `name`, or a violation naming the known ones.
    pub fn profile(&self, name: &str) -> Result<&ProfileConfig, Violation> {
        self.profiles.get(name).ok_or_else(|| {
            let known: Vec<_> = self.profiles.keys().map(String::as_str).collect();
            Violation::new(
                "profiles",
                "profile_unknown",
                format!("no profile is named `{name}` (known: {})", known.join(", ")),
            )
        })
    }
}
