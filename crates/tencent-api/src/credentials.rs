//! Where Tencent Cloud credentials come from, in the vendor's own order.
//!
//! The chain follows what tccli, Terraform and the SDKs already do, so a
//! machine set up for them works here unchanged:
//!
//! 1. the profile's `inline_credentials` (explicit; unsafe, for throw-away
//!    setups);
//! 2. the environment, `TENCENTCLOUD_SECRET_ID` + `TENCENTCLOUD_SECRET_KEY`,
//!    with the session token from `TENCENTCLOUD_TOKEN` (tccli) or
//!    `TENCENTCLOUD_SECURITY_TOKEN` (Terraform); `TENCENTCLOUD_SESSION_TOKEN`
//!    is read only as a last alias because no official tool uses it;
//! 3. tccli's `<dir>/<profile>.credential` (JSON), where `<dir>` is
//!    `TENCENTCLOUD_SHARED_CREDENTIALS_DIR` or `~/.tccli` and `<profile>` is
//!    `TCCLI_PROFILE`, `TENCENTCLOUD_PROFILE` or `default`;
//! 4. the SDKs' INI file, `TENCENTCLOUD_CREDENTIALS_FILE` or
//!    `~/.tencentcloud/credentials`, section `[default]`.
//!
//! The region follows the same idea: the profile, then `TENCENTCLOUD_REGION`,
//! then `_sys_param.region` of tccli's `<profile>.configure`.
//!
//! Every source is a small function over a [`LoadContext`], which carries
//! the environment and the home directory, so tests inject both instead of
//! touching the process's own.

use std::fmt;
use std::path::{Path, PathBuf};

use listener_core::{Error, InlineCredentials, ProfileConfig, Secret};
use serde_json::Value;

/// Environment variable holding the SecretId.
pub const ENV_SECRET_ID: &str = "TENCENTCLOUD_SECRET_ID";
/// Environment variable holding the SecretKey.
pub const ENV_SECRET_KEY: &str = "TENCENTCLOUD_SECRET_KEY";
/// Session-token variables, in the order they are read: tccli's,
/// Terraform's, then our alias that no official tool reads.
pub const ENV_TOKENS: [&str; 3] = [
    "TENCENTCLOUD_TOKEN",
    "TENCENTCLOUD_SECURITY_TOKEN",
    "TENCENTCLOUD_SESSION_TOKEN",
];
/// Environment variable holding the default region.
pub const ENV_REGION: &str = "TENCENTCLOUD_REGION";
/// Profile-name variables, tccli's first, then Terraform's.
pub const ENV_PROFILES: [&str; 2] = ["TCCLI_PROFILE", "TENCENTCLOUD_PROFILE"];
/// Override of the tccli directory (Terraform's name for it).
pub const ENV_SHARED_CREDENTIALS_DIR: &str = "TENCENTCLOUD_SHARED_CREDENTIALS_DIR";
/// Override of the SDK INI file (the Go SDK's name for it).
pub const ENV_CREDENTIALS_FILE: &str = "TENCENTCLOUD_CREDENTIALS_FILE";

/// A SecretId/SecretKey pair, with a session token for temporary keys.
#[derive(Clone, PartialEq)]
pub struct Credentials {
    /// The SecretId; an identifier, safe to log, sent in every request.
    pub secret_id: String,
    /// The SecretKey; only ever used to derive signing keys.
    pub secret_key: Secret,
    /// Session token of temporary credentials, sent as `X-TC-Token`.
    pub token: Option<Secret>,
}

impl Credentials {
    /// Long-lived credentials without a token.
    pub fn new(secret_id: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Credentials {
            secret_id: secret_id.into(),
            secret_key: Secret::new(secret_key),
            token: None,
        }
    }

    /// The same credentials with a session token.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(Secret::new(token));
        self
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("secret_id", &self.secret_id)
            .field("secret_key", &"<redacted>")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Which source of the chain gave the credentials, for diagnostics
/// ("why is it using that key?").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// The profile's `inline_credentials`.
    Inline,
    /// `TENCENTCLOUD_SECRET_ID` / `TENCENTCLOUD_SECRET_KEY`.
    Environment,
    /// A tccli `<profile>.credential` file.
    TccliFile(PathBuf),
    /// The SDK INI file.
    SdkFile(PathBuf),
}

/// The world a loader looks at: environment variables and the home
/// directory. Injected so that tests never read or change the real ones.
pub struct LoadContext<'a> {
    /// Looks up an environment variable.
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// The user's home directory (where `.tccli` and `.tencentcloud` live);
    /// `None` when it cannot be determined, which skips those files.
    pub home: Option<PathBuf>,
}

fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

impl LoadContext<'static> {
    /// The process environment and the home directory from `HOME`
    /// (`USERPROFILE` on Windows).
    pub fn system() -> Self {
        let home = process_env("HOME")
            .or_else(|| process_env("USERPROFILE"))
            .filter(|h| !h.is_empty())
            .map(PathBuf::from);
        LoadContext {
            env: &process_env,
            home,
        }
    }
}

impl<'a> LoadContext<'a> {
    /// A variable's value, with empty values treated as unset (as the
    /// vendor tools do: `export X=` does not select anything).
    pub fn var(&self, name: &str) -> Option<String> {
        (self.env)(name).filter(|v| !v.trim().is_empty())
    }

    /// The tccli profile name in effect.
    pub fn tccli_profile(&self) -> String {
        ENV_PROFILES
            .iter()
            .find_map(|name| self.var(name))
            .unwrap_or_else(|| "default".to_string())
    }

    /// The tccli directory in effect, if any.
    pub fn tccli_dir(&self) -> Option<PathBuf> {
        self.var(ENV_SHARED_CREDENTIALS_DIR)
            .map(PathBuf::from)
            .or_else(|| self.home.as_ref().map(|h| h.join(".tccli")))
    }

    /// The SDK INI file in effect, if any.
    pub fn sdk_file(&self) -> Option<PathBuf> {
        self.var(ENV_CREDENTIALS_FILE)
            .map(PathBuf::from)
            .or_else(|| self.home.as_ref().map(|h| h.join(".tencentcloud").join("credentials")))
    }
}

impl fmt::Debug for LoadContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadContext")
            .field("home", &self.home)
            .finish_non_exhaustive()
    }
}

/// Credentials and region resolved for a profile.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The credentials found.
    pub credentials: Credentials,
    /// Where they came from.
    pub source: CredentialSource,
    /// The region, if any source named one.
    pub region: Option<String>,
}

/// Run the whole chain for a profile: credentials and region.
pub fn resolve(profile: &ProfileConfig, ctx: &LoadContext<'_>) -> Result<Resolved, Error> {
    let (credentials, source) = load_chain(profile.inline_credentials.as_ref(), ctx)?;
    let region = resolve_region(profile.region.as_deref(), ctx)?;
    Ok(Resolved {
        credentials,
        source,
        region,
    })
}

/// The credential chain: the first source that has credentials wins. A
/// source that exists but is broken is an error, not a reason to fall
/// through to the next one, since silently using other keys than the ones
/// the user set up is worse than stopping.
pub fn load_chain(
    inline: Option<&InlineCredentials>,
    ctx: &LoadContext<'_>,
) -> Result<(Credentials, CredentialSource), Error> {
    if let Some(found) = from_inline(inline)? {
        return Ok((found, CredentialSource::Inline));
    }
    if let Some(found) = from_env(ctx)? {
        return Ok((found, CredentialSource::Environment));
    }
    if let Some((found, path)) = from_tccli(ctx)? {
        return Ok((found, CredentialSource::TccliFile(path)));
    }
    if let Some((found, path)) = from_sdk_file(ctx)? {
        return Ok((found, CredentialSource::SdkFile(path)));
    }

    let mut looked = vec![
        "the profile's inline_credentials".to_string(),
        format!("{ENV_SECRET_ID} and {ENV_SECRET_KEY}"),
    ];
    match ctx.tccli_dir() {
        Some(dir) => looked.push(format!(
            "the tccli file {}",
            dir.join(format!("{}.credential", ctx.tccli_profile())).display()
        )),
        None => looked.push("the tccli directory (no home directory known)".to_string()),
    }
    match ctx.sdk_file() {
        Some(file) => looked.push(format!("the SDK file {}", file.display())),
        None => looked.push("the SDK credentials file (no home directory known)".to_string()),
    }
    Err(Error::Config {
        field: "credentials".to_string(),
        message: format!("no Tencent Cloud credentials found; looked for {}", looked.join(", ")),
    })
}

/// Source 1: credentials written in the profile.
pub fn from_inline(inline: Option<&InlineCredentials>) -> Result<Option<Credentials>, Error> {
    let Some(inline) = inline else {
        return Ok(None);
    };
    if inline.key_id.trim().is_empty() {
        return Err(config("inline_credentials.key_id", "is empty"));
    }
    if inline.secret.expose().trim().is_empty() {
        return Err(config("inline_credentials.secret", "is empty"));
    }
    Ok(Some(Credentials {
        secret_id: inline.key_id.trim().to_string(),
        secret_key: inline.secret.clone(),
        token: inline.token.clone().filter(|t| !t.expose().trim().is_empty()),
    }))
}

/// Source 2: the environment. Both ID and key must be set; one without
/// the other is an error naming the missing variable.
pub fn from_env(ctx: &LoadContext<'_>) -> Result<Option<Credentials>, Error> {
    let id = ctx.var(ENV_SECRET_ID);
    let key = ctx.var(ENV_SECRET_KEY);
    let (id, key) = match (id, key) {
        (None, None) => return Ok(None),
        (Some(_), None) => {
            return Err(config(
                ENV_SECRET_KEY,
                &format!("is not set although {ENV_SECRET_ID} is"),
            ));
        }
        (None, Some(_)) => {
            return Err(config(
                ENV_SECRET_ID,
                &format!("is not set although {ENV_SECRET_KEY} is"),
            ));
        }
        (Some(id), Some(key)) => (id, key),
    };
    let token = ENV_TOKENS.iter().find_map(|name| ctx.var(name));
    Ok(Some(Credentials {
        secret_id: id.trim().to_string(),
        secret_key: Secret::new(key.trim()),
        token: token.map(|t| Secret::new(t.trim())),
    }))
}

/// Source 3: tccli's `<profile>.credential`. Missing file: `None` for the
/// default profile, an error when a profile was named explicitly (the user
/// asked for it).
pub fn from_tccli(ctx: &LoadContext<'_>) -> Result<Option<(Credentials, PathBuf)>, Error> {
    let Some(dir) = ctx.tccli_dir() else {
        return Ok(None);
    };
    let profile = ctx.tccli_profile();
    let chosen_by = ENV_PROFILES.iter().find(|name| ctx.var(name).is_some());
    let path = dir.join(format!("{profile}.credential"));
    let Some(text) = read_optional(&path)? else {
        if let Some(variable) = chosen_by {
            return Err(Error::Config {
                field: (*variable).to_string(),
                message: format!("profile `{profile}` was chosen but {} does not exist", path.display()),
            });
        }
        return Ok(None);
    };
    let json: Value = serde_json::from_str(&text).map_err(|e| Error::Config {
        field: path.display().to_string(),
        // serde_json's message names line and column, never the content.
        message: format!("not valid JSON: {e}"),
    })?;
    let field = |name: &str| {
        json.get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let kind = field("type");
    let (Some(id), Some(key)) = (field("secretId"), field("secretKey")) else {
        let message = match kind {
            Some(kind) => format!(
                "credential type `{kind}` is not supported; only secretId/secretKey (with an optional token) are read"
            ),
            None => "needs both `secretId` and `secretKey`".to_string(),
        };
        return Err(Error::Config {
            field: path.display().to_string(),
            message,
        });
    };
    let credentials = Credentials {
        secret_id: id,
        secret_key: Secret::new(key),
        token: field("token").map(Secret::new),
    };
    Ok(Some((credentials, path)))
}

/// Source 4: the SDKs' INI file, section `[default]`, keys `secret_id`
/// and `secret_key`. A file named by `TENCENTCLOUD_CREDENTIALS_FILE` must
/// exist; the default one may be absent.
pub fn from_sdk_file(ctx: &LoadContext<'_>) -> Result<Option<(Credentials, PathBuf)>, Error> {
    let explicit = ctx.var(ENV_CREDENTIALS_FILE).is_some();
    let Some(path) = ctx.sdk_file() else {
        return Ok(None);
    };
    let Some(text) = read_optional(&path)? else {
        if explicit {
            return Err(Error::Config {
                field: ENV_CREDENTIALS_FILE.to_string(),
                message: format!("{} does not exist", path.display()),
            });
        }
        return Ok(None);
    };
    let section = ini_section(&text, "default");
    let get = |key: &str| {
        section
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    match (get("secret_id"), get("secret_key")) {
        (Some(id), Some(key)) => Ok(Some((Credentials::new(id, key), path))),
        _ => Err(Error::Config {
            field: path.display().to_string(),
            message: "needs `secret_id` and `secret_key` in section [default]".to_string(),
        }),
    }
}

/// The region: the profile's, then `TENCENTCLOUD_REGION`, then the
/// `_sys_param.region` of tccli's `<profile>.configure`.
pub fn resolve_region(explicit: Option<&str>, ctx: &LoadContext<'_>) -> Result<Option<String>, Error> {
    if let Some(region) = explicit.map(str::trim).filter(|r| !r.is_empty()) {
        return Ok(Some(region.to_string()));
    }
    if let Some(region) = ctx.var(ENV_REGION) {
        return Ok(Some(region.trim().to_string()));
    }
    tccli_region(ctx)
}

/// The region in tccli's `<profile>.configure`, if the file exists and
/// names one.
pub fn tccli_region(ctx: &LoadContext<'_>) -> Result<Option<String>, Error> {
    let Some(dir) = ctx.tccli_dir() else {
        return Ok(None);
    };
    let path = dir.join(format!("{}.configure", ctx.tccli_profile()));
    let Some(text) = read_optional(&path)? else {
        return Ok(None);
    };
    let json: Value = serde_json::from_str(&text).map_err(|e| Error::Config {
        field: path.display().to_string(),
        message: format!("not valid JSON: {e}"),
    })?;
    Ok(json
        .pointer("/_sys_param/region")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string))
}

fn config(field: &str, message: &str) -> Error {
    Error::Config {
        field: field.to_string(),
        message: message.to_string(),
    }
}

/// A file's text, `None` if it does not exist, an error naming the path
/// for any other failure (permissions, a directory, invalid UTF-8).
fn read_optional(path: &Path) -> Result<Option<String>, Error> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::Config {
            field: path.display().to_string(),
            message: format!("cannot be read: {e}"),
        }),
    }
}

/// The `key = value` pairs of one INI section. Comments start with `#` or
/// `;`; keys are case-sensitive as in the SDKs; the last duplicate wins.
fn ini_section(text: &str, wanted: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            inside = name.trim() == wanted;
            continue;
        }
        if !inside {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            let key = key.trim().to_string();
            let value = value.trim().to_string();
            out.retain(|(k, _)| *k != key);
            out.push((key, value));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_reads_only_the_wanted_section() {
        let text =
            "# comment\n[other]\nsecret_id = X\n[default]\n; note\nsecret_id = AKID1\nsecret_key=key = with equals\n";
        let section = ini_section(text, "default");
        assert_eq!(
            section,
            vec![
                ("secret_id".to_string(), "AKID1".to_string()),
                ("secret_key".to_string(), "key = with equals".to_string()),
            ]
        );
    }

    #[test]
    fn debug_hides_key_and_token() {
        let c = Credentials::new("AKIDshown", "hidden-key").with_token("hidden-token");
        let shown = format!("{c:?}");
        assert!(shown.contains("AKIDshown"));
        assert!(!shown.contains("hidden-key"));
        assert!(!shown.contains("hidden-token"));
    }
}
