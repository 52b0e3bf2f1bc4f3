//! Which host a call goes to, and the `Host` value the signature covers.
//!
//! The signature includes the `host` header, so the value signed must be
//! byte for byte the one sent: with the port when the URL names a
//! non-default one (an emulator on `127.0.0.1:PORT`), without it otherwise.
//! The client therefore sets `Host` itself from [`ResolvedEndpoint::host`]
//! instead of letting the HTTP stack derive it.

use listener_core::Error;
use reqwest::Url;

/// Domain suffix of every Tencent Cloud API 3.0 host.
pub const API_DOMAIN: &str = "tencentcloudapi.com";

/// Where to send calls.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Endpoint {
    /// `https://<service>.tencentcloudapi.com/` (the nearest region).
    #[default]
    Default,
    /// `https://<service>.intl.tencentcloudapi.com/`, for accounts on the
    /// international site.
    International,
    /// An explicit URL, e.g. a regional host or an emulator.
    Url(String),
}

impl Endpoint {
    /// Read a profile's `endpoint` setting: absent or `default` is
    /// [`Endpoint::Default`], `international` or `intl` is
    /// [`Endpoint::International`], anything else a URL.
    pub fn from_setting(setting: Option<&str>) -> Self {
        match setting.map(str::trim) {
            None | Some("") | Some("default") => Endpoint::Default,
            Some("international") | Some("intl") => Endpoint::International,
            Some(url) => Endpoint::Url(url.to_string()),
        }
    }

    /// The URL to post to and the `Host` header for `service`.
    ///
    /// Refused with [`Error::Config`] on field `endpoint`: an unparseable
    /// URL, a scheme other than `https` (or `http` with
    /// `allow_insecure_http`, which exists for the emulator: a plain-text
    /// channel would carry the signature and token readable), user
    /// information, a query or a fragment (the signature would not cover
    /// them the way the server expects).
    pub fn resolve(&self, service: &str, allow_insecure_http: bool) -> Result<ResolvedEndpoint, Error> {
        let text = match self {
            Endpoint::Default => format!("https://{service}.{API_DOMAIN}/"),
            Endpoint::International => format!("https://{service}.intl.{API_DOMAIN}/"),
            Endpoint::Url(url) => url.trim().to_string(),
        };
        let url = Url::parse(&text).map_err(|e| bad(&text, &format!("is not a valid URL ({e})")))?;
        // First, so that no later message quotes a password in the URL.
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad(&text, "must not carry user information"));
        }
        match url.scheme() {
            "https" => {}
            "http" if allow_insecure_http => {}
            "http" => {
                return Err(bad(
                    &text,
                    "uses plain http; set allow_insecure_http (for an emulator only) or use https",
                ))
            }
            other => return Err(bad(&text, &format!("has scheme `{other}`; only https is supported"))),
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad(&text, "must not carry a query or fragment"));
        }
        let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
            return Err(bad(&text, "has no host"));
        };
        // `port()` is `None` when the URL names the scheme's default port,
        // which is exactly when the Host header leaves it out.
        let host = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        };
        Ok(ResolvedEndpoint { url, host })
    }
}

/// An endpoint checked and ready for requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedEndpoint {
    /// The URL posted to; its path is the canonical URI (`/` normally).
    pub url: Url,
    /// The `Host` header value sent and signed.
    pub host: String,
}

/// A refusal of the endpoint setting. The URL is quoted only when it
/// cannot hold user information (`user:password@`), which may be a secret.
fn bad(url: &str, why: &str) -> Error {
    let message = if url.contains('@') {
        format!("the endpoint URL {why}")
    } else {
        format!("`{url}` {why}")
    };
    Error::Config {
        field: "endpoint".to_string(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_field(e: Error) -> String {
        match e {
            Error::Config { field, .. } => field,
            other => panic!("expected Config, got {other:?}"),
        }
    }

    #[test]
    fn default_and_international_hosts() {
        let gaap = Endpoint::Default.resolve("gaap", false).expect("valid");
        assert_eq!(gaap.url.as_str(), "https://gaap.tencentcloudapi.com/");
        assert_eq!(gaap.host, "gaap.tencentcloudapi.com");
        let clb = Endpoint::International.resolve("clb", false).expect("valid");
        assert_eq!(clb.url.as_str(), "https://clb.intl.tencentcloudapi.com/");
        assert_eq!(clb.host, "clb.intl.tencentcloudapi.com");
    }

    #[test]
    fn host_keeps_a_non_default_port_only() {
        let emu = Endpoint::Url("http://127.0.0.1:18080".into())
            .resolve("clb", true)
            .expect("valid");
        assert_eq!(emu.host, "127.0.0.1:18080");
        assert_eq!(emu.url.path(), "/");
        let explicit_default = Endpoint::Url("https://clb.ap-guangzhou.tencentcloudapi.com:443/".into())
            .resolve("clb", false)
            .expect("valid");
        assert_eq!(explicit_default.host, "clb.ap-guangzhou.tencentcloudapi.com");
        let v6 = Endpoint::Url("http://[::1]:9000/".into())
            .resolve("gaap", true)
            .expect("valid");
        assert_eq!(v6.host, "[::1]:9000");
    }

    #[test]
    fn refuses_plain_http_unless_allowed() {
        let e = Endpoint::Url("http://127.0.0.1:1/".into()).resolve("gaap", false);
        assert_eq!(config_field(e.expect_err("must refuse")), "endpoint");
    }

    #[test]
    fn refuses_unusable_urls() {
        for url in [
            "not a url",
            "ftp://example.com/",
            "https://user:pw@example.com/",
            "https://example.com/?a=1",
            "https://example.com/#x",
        ] {
            let e = Endpoint::Url(url.into()).resolve("gaap", true);
            assert_eq!(config_field(e.expect_err(url)), "endpoint", "{url}");
        }
    }

    #[test]
    fn refusals_never_quote_a_password_in_the_url() {
        for (url, insecure) in [
            ("http://user:hunter2@127.0.0.1:1/", false),
            ("ftp://user:hunter2@example.com/", true),
            ("https://user:hunter2@example.com/", true),
            ("https://user:hunter2@exa mple.com/", true),
        ] {
            match Endpoint::Url(url.into()).resolve("gaap", insecure) {
                Err(Error::Config { field, message }) => {
                    assert_eq!(field, "endpoint", "{url}");
                    assert!(!message.contains("hunter2"), "{url}: {message}");
                }
                other => panic!("{url}: expected a refusal, got {other:?}"),
            }
        }
    }

    #[test]
    fn settings_map_to_endpoints() {
        assert_eq!(Endpoint::from_setting(None), Endpoint::Default);
        assert_eq!(Endpoint::from_setting(Some("intl")), Endpoint::International);
        assert_eq!(
            Endpoint::from_setting(Some("http://127.0.0.1:1")),
            Endpoint::Url("http://127.0.0.1:1".into())
        );
    }
}
