//! Alibaba Cloud credentials and where to find them.
//!
//! The chain follows the vendor's own order, so a machine already set up for
//! the `aliyun` CLI or an SDK works without extra configuration: the profile's
//! inline credentials (explicit, for throw-away setups), then the
//! environment, then the CLI's `~/.aliyun/config.json`, then the shared
//! `~/.alibabacloud/credentials` file. The vendor's remaining sources (OIDC
//! role, ECS instance role, credentials URI) need network calls and are not
//! followed.
//!
//! Every source is a small function over an injected [`Env`] (variable
//! lookup and home directory), so the chain is tested without touching the
//! real environment. Secrets are wrapped in [`Secret`] the moment they are
//! read, and no error message quotes a value from a file or variable.

use std::fmt;
use std::path::{Path, PathBuf};

use listener_core::{Error, InlineCredentials, Secret};
use serde::Deserialize;

/// Environment variable: AccessKey ID.
pub const ENV_ACCESS_KEY_ID: &str = "ALIBABA_CLOUD_ACCESS_KEY_ID";
/// Environment variable: AccessKey secret.
pub const ENV_ACCESS_KEY_SECRET: &str = "ALIBABA_CLOUD_ACCESS_KEY_SECRET";
/// Environment variable: STS security token.
pub const ENV_SECURITY_TOKEN: &str = "ALIBABA_CLOUD_SECURITY_TOKEN";
/// Environment variable: region (the CLI's name for it).
pub const ENV_REGION_ID: &str = "ALIBABA_CLOUD_REGION_ID";
/// Environment variable: profile name in the CLI and shared files.
pub const ENV_PROFILE: &str = "ALIBABA_CLOUD_PROFILE";
/// Environment variable: path of the CLI config file.
pub const ENV_CONFIG_FILE: &str = "ALIBABA_CLOUD_CONFIG_FILE";
/// Environment variable: path of the shared credentials file.
pub const ENV_CREDENTIALS_FILE: &str = "ALIBABA_CLOUD_CREDENTIALS_FILE";

/// An AccessKey pair, with an STS token for temporary credentials.
///
/// `Debug` shows the key id (it identifies, it does not authorise) and
/// `<redacted>` for the secret and token.
#[derive(Clone, PartialEq)]
pub struct Credentials {
    /// The AccessKey ID (`LTAI…`, or `STS.…` for temporary keys).
    pub access_key_id: String,
    /// The AccessKey secret: the HMAC key.
    pub access_key_secret: Secret,
    /// The STS security token, sent as `x-acs-security-token`.
    pub security_token: Option<Secret>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"<redacted>")
            .field("security_token", &self.security_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Credentials {
    /// Build and check credentials; `field` names where they came from, for
    /// the error.
    ///
    /// The id and token travel in HTTP headers, so they must be visible
    /// ASCII; a stray newline from a copied file would otherwise surface
    /// later as a confusing transport failure.
    pub fn new(
        access_key_id: impl Into<String>,
        access_key_secret: Secret,
        security_token: Option<Secret>,
        field: &str,
    ) -> Result<Self, Error> {
        let access_key_id = access_key_id.into().trim().to_string();
        let header_safe = |s: &str| !s.is_empty() && s.bytes().all(|b| (0x21..=0x7e).contains(&b));
        if !header_safe(&access_key_id) {
            return Err(config(
                field,
                "the AccessKey ID is empty or contains spaces or non-ASCII characters",
            ));
        }
        if access_key_secret.expose().trim().is_empty() {
            return Err(config(field, "the AccessKey secret is empty"));
        }
        if let Some(token) = &security_token {
            if !header_safe(token.expose().trim()) {
                return Err(config(
                    field,
                    "the security token is empty or contains spaces or non-ASCII characters",
                ));
            }
        }
        Ok(Credentials {
            access_key_id,
            access_key_secret: Secret::new(access_key_secret.expose().trim()),
            security_token: security_token.map(|t| Secret::new(t.expose().trim())),
        })
    }
}

fn config(field: impl Into<String>, message: impl Into<String>) -> Error {
    Error::Config {
        field: field.into(),
        message: message.into(),
    }
}

/// The environment a source reads: variables and the home directory,
/// injected so tests never depend on (or change) the real process.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    home: Option<&'a Path>,
}

impl fmt::Debug for Env<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Variable values may be secrets: show only the home directory.
        f.debug_struct("Env").field("home", &self.home).finish_non_exhaustive()
    }
}

impl<'a> Env<'a> {
    /// An environment made of a variable lookup and a home directory.
    pub fn new(lookup: &'a dyn Fn(&str) -> Option<String>, home: Option<&'a Path>) -> Self {
        Env { lookup, home }
    }

    /// A variable's value; empty counts as unset, as in the vendor's tools.
    pub fn var(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.trim().is_empty())
    }

    /// The home directory, where the CLI and shared files live by default.
    pub fn home(&self) -> Option<&Path> {
        self.home
    }
}

/// Run `f` with the real process environment and `$HOME`.
pub fn with_process_env<T>(f: impl FnOnce(&Env<'_>) -> T) -> T {
    let lookup = |name: &str| std::env::var(name).ok();
    let home = std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .map(PathBuf::from);
    let env = Env::new(&lookup, home.as_deref());
    f(&env)
}

/// Which source supplied the credentials, for logs and `explain` output
/// (never the values themselves).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// The profile's `inline_credentials`.
    Inline,
    /// `ALIBABA_CLOUD_ACCESS_KEY_ID` and friends.
    Environment,
    /// A profile of the CLI config file.
    CliConfig {
        /// The file read.
        path: PathBuf,
        /// The profile used.
        profile: String,
    },
    /// A section of the shared credentials file.
    SharedFile {
        /// The file read.
        path: PathBuf,
        /// The section used.
        profile: String,
    },
}

/// Credentials found by the chain, and where.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The credentials.
    pub credentials: Credentials,
    /// Where they came from.
    pub source: CredentialSource,
}

/// Credentials written into the profile (explicit; unsafe in shared files).
pub fn from_inline(inline: &InlineCredentials) -> Result<Credentials, Error> {
    Credentials::new(
        inline.key_id.clone(),
        inline.secret.clone(),
        inline.token.clone(),
        "inline_credentials",
    )
}

/// Credentials from the environment, `None` when neither key variable is set.
///
/// One key variable without the other is an error rather than a fall-through:
/// silently using the CLI file's keys instead would act under an identity
/// the user did not mean.
pub fn from_env(env: &Env<'_>) -> Result<Option<Credentials>, Error> {
    let id = env.var(ENV_ACCESS_KEY_ID);
    let secret = env.var(ENV_ACCESS_KEY_SECRET);
    match (id, secret) {
        (None, None) => {
            if env.var(ENV_SECURITY_TOKEN).is_some() {
                return Err(config(
                    ENV_SECURITY_TOKEN,
                    format!("is set but {ENV_ACCESS_KEY_ID} and {ENV_ACCESS_KEY_SECRET} are not"),
                ));
            }
            Ok(None)
        }
        (Some(_), None) => Err(config(
            ENV_ACCESS_KEY_SECRET,
            format!("is not set but {ENV_ACCESS_KEY_ID} is; set both or neither"),
        )),
        (None, Some(_)) => Err(config(
            ENV_ACCESS_KEY_ID,
            format!("is not set but {ENV_ACCESS_KEY_SECRET} is; set both or neither"),
        )),
        (Some(id), Some(secret)) => Credentials::new(
            id,
            Secret::new(secret),
            env.var(ENV_SECURITY_TOKEN).map(Secret::new),
            ENV_ACCESS_KEY_ID,
        )
        .map(Some),
    }
}

/// The CLI config file's shape; only the fields we use. Secrets are plain
/// strings only while parsing and are wrapped right after.
#[derive(Deserialize)]
struct CliFile {
    #[serde(default)]
    current: Option<String>,
    #[serde(default)]
    profiles: Vec<CliProfile>,
}

#[derive(Deserialize)]
struct CliProfile {
    #[serde(default)]
    name: String,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    access_key_id: String,
    #[serde(default)]
    access_key_secret: String,
    #[serde(default)]
    sts_token: String,
    #[serde(default)]
    region_id: String,
}

/// Where a file lives: the override variable (which must then exist) or the
/// default under home (which may be absent).
fn locate(env: &Env<'_>, override_var: &str, default_rel: &str) -> Option<(PathBuf, bool)> {
    match env.var(override_var) {
        Some(p) => Some((PathBuf::from(p), true)),
        None => env.home().map(|h| (h.join(default_rel), false)),
    }
}

/// Read a file; `Ok(None)` when an optional default file does not exist.
fn read_optional(path: &Path, required: bool, field: &str) -> Result<Option<String>, Error> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => Ok(None),
        Err(e) => Err(config(field, format!("cannot read {}: {e}", path.display()))),
    }
}

fn load_cli_file(env: &Env<'_>) -> Result<Option<(PathBuf, CliFile)>, Error> {
    let Some((path, required)) = locate(env, ENV_CONFIG_FILE, ".aliyun/config.json") else {
        return Ok(None);
    };
    let Some(text) = read_optional(&path, required, ENV_CONFIG_FILE)? else {
        return Ok(None);
    };
    // serde's messages can quote the offending value, which may be a
    // secret: report the position only.
    let file: CliFile = serde_json::from_str(&text).map_err(|e| {
        config(
            path.display().to_string(),
            format!("not a valid CLI config file (line {}, column {})", e.line(), e.column()),
        )
    })?;
    Ok(Some((path, file)))
}

/// The profile name the CLI would use: `ALIBABA_CLOUD_PROFILE`, else the
/// file's `current`, else `default`.
fn cli_profile_name(env: &Env<'_>, file: &CliFile) -> String {
    env.var(ENV_PROFILE)
        .or_else(|| file.current.clone().filter(|c| !c.trim().is_empty()))
        .unwrap_or_else(|| "default".to_string())
}

/// Credentials from the `aliyun` CLI config file, `None` when the file or
/// the selected profile does not exist.
///
/// Modes `AK` (also an empty mode, as older files have) and `StsToken` are
/// used; role-based modes need calls to STS or the instance metadata
/// service, which this tool does not make, so they are refused by name.
pub fn from_cli_config(env: &Env<'_>) -> Result<Option<(Credentials, CredentialSource)>, Error> {
    let Some((path, file)) = load_cli_file(env)? else {
        return Ok(None);
    };
    let name = cli_profile_name(env, &file);
    let Some(profile) = file.profiles.iter().find(|p| p.name == name) else {
        return Ok(None);
    };
    let field = format!("{}: profile `{name}`", path.display());
    let token = match profile.mode.as_str() {
        "" | "AK" => None,
        "StsToken" => {
            if profile.sts_token.trim().is_empty() {
                return Err(config(field, "mode StsToken needs `sts_token`"));
            }
            Some(Secret::new(profile.sts_token.clone()))
        }
        other => {
            return Err(config(
                field,
                format!(
                    "mode `{other}` is not supported; use mode AK or StsToken, or set {ENV_ACCESS_KEY_ID} and {ENV_ACCESS_KEY_SECRET}"
                ),
            ))
        }
    };
    if profile.access_key_id.trim().is_empty() || profile.access_key_secret.trim().is_empty() {
        return Err(config(field, "needs `access_key_id` and `access_key_secret`"));
    }
    let credentials = Credentials::new(
        profile.access_key_id.clone(),
        Secret::new(profile.access_key_secret.clone()),
        token,
        &field,
    )?;
    Ok(Some((credentials, CredentialSource::CliConfig { path, profile: name })))
}

/// The region the CLI config file's selected profile names, if any.
pub fn cli_region(env: &Env<'_>) -> Result<Option<String>, Error> {
    let Some((_, file)) = load_cli_file(env)? else {
        return Ok(None);
    };
    let name = cli_profile_name(env, &file);
    Ok(file
        .profiles
        .iter()
        .find(|p| p.name == name)
        .map(|p| p.region_id.trim().to_string())
        .filter(|r| !r.is_empty()))
}

/// One `[section]` of an INI file: its name and `key = value` pairs.
struct IniSection {
    name: String,
    entries: Vec<(String, String)>,
}

/// A minimal INI reader: `[section]`, `key = value`, comments with `#` or
/// `;`. Malformed lines are reported by number only (the line may hold a
/// secret).
fn parse_ini(text: &str, field: &str) -> Result<Vec<IniSection>, Error> {
    let mut sections: Vec<IniSection> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(inner) = line.strip_prefix('[') {
            let Some(name) = inner.strip_suffix(']') else {
                return Err(config(field, format!("line {}: unclosed section header", i + 1)));
            };
            sections.push(IniSection {
                name: name.trim().to_string(),
                entries: Vec::new(),
            });
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(config(field, format!("line {}: expected `key = value`", i + 1)));
        };
        let Some(section) = sections.last_mut() else {
            return Err(config(field, format!("line {}: a key before any [section]", i + 1)));
        };
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        section.entries.push((key.trim().to_string(), value.to_string()));
    }
    Ok(sections)
}

/// Credentials from the shared credentials file, `None` when the file or the
/// section (`ALIBABA_CLOUD_PROFILE`, else `default`) does not exist.
///
/// Only `type = access_key` is used (a missing type is taken as that);
/// other types need network calls and are refused by name.
pub fn from_shared_file(env: &Env<'_>) -> Result<Option<(Credentials, CredentialSource)>, Error> {
    let Some((path, required)) = locate(env, ENV_CREDENTIALS_FILE, ".alibabacloud/credentials") else {
        return Ok(None);
    };
    let Some(text) = read_optional(&path, required, ENV_CREDENTIALS_FILE)? else {
        return Ok(None);
    };
    let file_field = path.display().to_string();
    let sections = parse_ini(&text, &file_field)?;
    let name = env.var(ENV_PROFILE).unwrap_or_else(|| "default".to_string());
    let Some(section) = sections.iter().rev().find(|s| s.name == name) else {
        return Ok(None);
    };
    let get = |key: &str| {
        section
            .entries
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let field = format!("{file_field}: [{name}]");
    match get("type") {
        None | Some("access_key") => {}
        Some(other) => {
            return Err(config(
                field,
                format!("type `{other}` is not supported; use type access_key"),
            ))
        }
    }
    let (Some(id), Some(secret)) = (get("access_key_id"), get("access_key_secret")) else {
        return Err(config(field, "needs `access_key_id` and `access_key_secret`"));
    };
    let credentials = Credentials::new(id, Secret::new(secret), None, &field)?;
    Ok(Some((
        credentials,
        CredentialSource::SharedFile { path, profile: name },
    )))
}

/// Walk the chain: inline, environment, CLI config file, shared file.
///
/// The first source that has credentials wins; a source that is present but
/// broken stops the walk with its error (falling through would pick another
/// identity silently). Nothing found is an `Error::Config` listing every
/// place that was looked at.
pub fn resolve(inline: Option<&InlineCredentials>, env: &Env<'_>) -> Result<Resolved, Error> {
    if let Some(inline) = inline {
        return Ok(Resolved {
            credentials: from_inline(inline)?,
            source: CredentialSource::Inline,
        });
    }
    if let Some(credentials) = from_env(env)? {
        return Ok(Resolved {
            credentials,
            source: CredentialSource::Environment,
        });
    }
    if let Some((credentials, source)) = from_cli_config(env)? {
        return Ok(Resolved { credentials, source });
    }
    if let Some((credentials, source)) = from_shared_file(env)? {
        return Ok(Resolved { credentials, source });
    }
    let cli = locate(env, ENV_CONFIG_FILE, ".aliyun/config.json")
        .map(|(p, _)| p.display().to_string())
        .unwrap_or_else(|| "~/.aliyun/config.json (no home directory)".to_string());
    let shared = locate(env, ENV_CREDENTIALS_FILE, ".alibabacloud/credentials")
        .map(|(p, _)| p.display().to_string())
        .unwrap_or_else(|| "~/.alibabacloud/credentials (no home directory)".to_string());
    Err(config(
        "credentials",
        format!(
            "no Alibaba Cloud credentials found; looked at the profile's inline_credentials, \
             {ENV_ACCESS_KEY_ID}/{ENV_ACCESS_KEY_SECRET}, the CLI config file {cli} and the \
             shared credentials file {shared}"
        ),
    ))
}
