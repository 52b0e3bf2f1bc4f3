//! The key pairs the emulator accepts.
//!
//! The emulator checks signatures the way the vendors do, so a client under
//! test must sign with a key pair the emulator knows. The defaults below are
//! public, made-up values (they grant nothing anywhere else), so tests and
//! CI jobs can use them without configuring anything; a user who wants to
//! check that their own credential plumbing reaches the wire sets their own.
//!
//! The secret halves are never printed: `Debug` shows `<redacted>`, and no
//! log line or error message of the emulator includes them.

use std::fmt;

/// Default Tencent `SecretId` of an emulator started without credentials.
pub const DEFAULT_TENCENT_SECRET_ID: &str = "AKIDEMULATOR0000000000000000000000000";
/// Default Tencent `SecretKey` (a public test value, not a secret).
pub const DEFAULT_TENCENT_SECRET_KEY: &str = "emulator-tencent-secret-key";
/// Default Alibaba `AccessKeyId` of an emulator started without credentials.
pub const DEFAULT_ALIBABA_ACCESS_KEY_ID: &str = "LTAIEMULATOR000000000000";
/// Default Alibaba `AccessKeySecret` (a public test value, not a secret).
pub const DEFAULT_ALIBABA_ACCESS_KEY_SECRET: &str = "emulator-alibaba-access-key-secret";

/// The one Tencent key pair (and optional session token) the emulator
/// accepts; any other `SecretId` gets `AuthFailure.SecretIdNotFound`.
#[derive(Clone, PartialEq, Eq)]
pub struct TencentCredentials {
    /// `SecretId`, sent in clear in the `Authorization` header, so not secret.
    pub secret_id: String,
    /// `SecretKey`, the HMAC key. Never printed.
    pub secret_key: String,
    /// With temporary credentials the client sends `X-TC-Token`; when set,
    /// the emulator requires exactly this token. Never printed.
    pub token: Option<String>,
}

impl TencentCredentials {
    /// A permanent key pair (no session token).
    pub fn new(secret_id: impl Into<String>, secret_key: impl Into<String>) -> Self {
        TencentCredentials {
            secret_id: secret_id.into(),
            secret_key: secret_key.into(),
            token: None,
        }
    }
}

impl Default for TencentCredentials {
    fn default() -> Self {
        TencentCredentials::new(DEFAULT_TENCENT_SECRET_ID, DEFAULT_TENCENT_SECRET_KEY)
    }
}

impl fmt::Debug for TencentCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TencentCredentials")
            .field("secret_id", &self.secret_id)
            .field("secret_key", &"<redacted>")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The one Alibaba key pair (and optional STS token) the emulator accepts;
/// any other `AccessKeyId` gets `InvalidAccessKeyId.NotFound`.
#[derive(Clone, PartialEq, Eq)]
pub struct AlibabaCredentials {
    /// `AccessKeyId` (an STS one starts with `STS.`), sent in clear.
    pub access_key_id: String,
    /// `AccessKeySecret`, the HMAC key. Never printed.
    pub access_key_secret: String,
    /// STS security token: when set, requests must carry it in
    /// `x-acs-security-token`. Never printed.
    pub security_token: Option<String>,
}

impl AlibabaCredentials {
    /// A permanent key pair (no STS token).
    pub fn new(access_key_id: impl Into<String>, access_key_secret: impl Into<String>) -> Self {
        AlibabaCredentials {
            access_key_id: access_key_id.into(),
            access_key_secret: access_key_secret.into(),
            security_token: None,
        }
    }
}

impl Default for AlibabaCredentials {
    fn default() -> Self {
        AlibabaCredentials::new(DEFAULT_ALIBABA_ACCESS_KEY_ID, DEFAULT_ALIBABA_ACCESS_KEY_SECRET)
    }
}

impl fmt::Debug for AlibabaCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AlibabaCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"<redacted>")
            .field("security_token", &self.security_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_secret_halves_and_tokens() {
        let mut t = TencentCredentials::new("AKIDvisible", "tencent-hidden-key");
        t.token = Some("tencent-hidden-token".into());
        let mut a = AlibabaCredentials::new("LTAIvisible", "alibaba-hidden-secret");
        a.security_token = Some("alibaba-hidden-token".into());
        let shown = format!("{t:?} {a:?}");
        assert!(shown.contains("AKIDvisible") && shown.contains("LTAIvisible"));
        for hidden in [
            "tencent-hidden-key",
            "tencent-hidden-token",
            "alibaba-hidden-secret",
            "alibaba-hidden-token",
        ] {
            assert!(!shown.contains(hidden), "{hidden} leaked into {shown}");
        }
    }
}
