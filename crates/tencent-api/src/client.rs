//! The API 3.0 client: one signed POST per attempt, envelopes to errors,
//! retries and a client-side rate limit around it.
//!
//! Requests look exactly like the official SDKs' (POST `/`, compact JSON,
//! `Content-Type: application/json`, the `X-TC-*` headers, `content-type`
//! and `host` signed), so anything the real API or the emulator accepts
//! from an SDK it accepts from us. The pieces are layered so each can be
//! read on its own: [`crate::retry`] decides what is repeated,
//! [`crate::errors`] what a code means, [`mod@crate::sign`] the signature; this
//! file only wires them to HTTP.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use listener_core::rate::{Limits, WindowLimiter};
use listener_core::retry;
use listener_core::{Error, ProfileConfig};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use serde_json::Value;
use tracing::field::Empty;
use tracing::Instrument;

use crate::credentials::{self, Credentials, LoadContext};
use crate::endpoint::{Endpoint, ResolvedEndpoint};
use crate::errors;
use crate::retry::RetryPolicy;
use crate::sign::{sign, SignInput};

/// The documented per-action limit of every listener action.
pub const DEFAULT_RATE_LIMIT_PER_SECOND: f64 = 20.0;
/// Language of vendor error messages when none is configured. The SDKs
/// default to `zh-CN`; our errors and logs are English, so are theirs.
pub const DEFAULT_LANGUAGE: &str = "en-US";
/// Per-attempt limit when none is configured.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The only content type sent and signed (the SDKs add no charset).
pub const CONTENT_TYPE_JSON: &str = "application/json";
/// Value of `X-TC-RequestClient`, so the vendor can tell our traffic apart.
pub const REQUEST_CLIENT: &str = concat!("cloud-listeners-tencent-api/", env!("CARGO_PKG_VERSION"));

/// Everything a client needs; built by hand or with
/// [`ClientConfig::from_profile`].
#[derive(Clone)]
pub struct ClientConfig {
    /// The adapter's API name, carried by every error (`tencent-gaap`,
    /// `tencent-clb`).
    pub vendor: &'static str,
    /// Service name for the host and the credential scope (`gaap`, `clb`).
    pub service: &'static str,
    /// API version sent as `X-TC-Version` (`2018-05-29` GAAP,
    /// `2018-03-17` CLB).
    pub version: &'static str,
    /// Where calls go.
    pub endpoint: Endpoint,
    /// Permit an `http://` endpoint (emulator only).
    pub allow_insecure_http: bool,
    /// Sent as `X-TC-Region` when set; GAAP is global, CLB needs one.
    pub region: Option<String>,
    /// The keys.
    pub credentials: Credentials,
    /// `X-TC-Language`; [`DEFAULT_LANGUAGE`] when `None`.
    pub language: Option<String>,
    /// Calls per second allowed per action, shared by all clones.
    pub rate_limit_per_second: f64,
    /// What is retried and for how long.
    pub retry: RetryPolicy,
    /// Limit of one attempt, connection included.
    pub request_timeout: Duration,
}

impl ClientConfig {
    /// A configuration with the defaults: the vendor's main endpoint, no
    /// region, 20 calls per second per action, the default retry policy.
    pub fn new(vendor: &'static str, service: &'static str, version: &'static str, credentials: Credentials) -> Self {
        ClientConfig {
            vendor,
            service,
            version,
            endpoint: Endpoint::Default,
            allow_insecure_http: false,
            region: None,
            credentials,
            language: None,
            rate_limit_per_second: DEFAULT_RATE_LIMIT_PER_SECOND,
            retry: RetryPolicy::default(),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }

    /// A configuration for a profile of the listeners file: endpoint,
    /// insecure-http permission and rate limit from the profile;
    /// credentials and region through the chain of [`crate::credentials`]
    /// over `ctx`.
    pub fn from_profile(
        profile: &ProfileConfig,
        service: &'static str,
        version: &'static str,
        vendor: &'static str,
        ctx: &LoadContext<'_>,
    ) -> Result<Self, Error> {
        let resolved = credentials::resolve(profile, ctx)?;
        tracing::debug!(vendor, source = ?resolved.source, "credentials resolved");
        let mut config = ClientConfig::new(vendor, service, version, resolved.credentials);
        config.region = resolved.region;
        config.endpoint = Endpoint::from_setting(profile.endpoint.as_deref());
        config.allow_insecure_http = profile.allow_insecure_http;
        if let Some(rate) = profile.rate_limit_per_second {
            config.rate_limit_per_second = rate;
        }
        Ok(config)
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("vendor", &self.vendor)
            .field("service", &self.service)
            .field("version", &self.version)
            .field("endpoint", &self.endpoint)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("region", &self.region)
            .field("credentials", &self.credentials)
            .field("language", &self.language)
            .field("rate_limit_per_second", &self.rate_limit_per_second)
            .field("retry", &self.retry)
            .field("request_timeout", &self.request_timeout)
            .finish()
    }
}

/// A successful answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse {
    /// The vendor's request id; CLB's task id for `DescribeTaskStatus`.
    pub request_id: String,
    /// The whole `Response` object (action fields and `RequestId`).
    pub body: Value,
}

/// Counters for soak tests and diagnostics, since the client was built
/// (shared by clones).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Calls made through [`TencentClient::call`].
    pub calls: u64,
    /// HTTP requests sent or tried (first attempts and retries).
    pub attempts: u64,
    /// Retries made after a retryable failure.
    pub retries: u64,
}

/// A Tencent Cloud API 3.0 client for one service. Cheap to clone; clones
/// share the connection pool, the rate limiter and the counters. The rate
/// limiter is shared with every other client of the same account, service,
/// region, endpoint and rate in the process, as the vendor counts calls.
#[derive(Clone)]
pub struct TencentClient {
    inner: Arc<Inner>,
}

struct Inner {
    config: ClientConfig,
    endpoint: ResolvedEndpoint,
    /// Headers that are the same on every request, checked once.
    fixed_headers: HeaderMap,
    http: reqwest::Client,
    /// Shared with every client of the same account, service, region,
    /// endpoint and rate in this process (see [`Limits::shared`]).
    limiter: Arc<Limits>,
    calls: AtomicU64,
    attempts: AtomicU64,
    retries: AtomicU64,
}

fn config_error(field: &str, message: impl Into<String>) -> Error {
    Error::Config {
        field: field.to_string(),
        message: message.into(),
    }
}

/// A header value from configuration, refused (by field name, without
/// echoing the value) if it cannot be sent.
fn header_value(field: &str, value: &str) -> Result<HeaderValue, Error> {
    HeaderValue::from_str(value)
        .map_err(|_| config_error(field, "contains characters that cannot be sent in an HTTP header"))
}

/// Every check [`TencentClient::from_profile`] makes on a profile that
/// needs no credentials and no network: the region (by the same chain:
/// profile, `TENCENTCLOUD_REGION`, tccli's configure file) is sendable, the
/// endpoint is usable for `service`, the rate limit is positive. `validate`,
/// `plan` and `--emulate` run it before anything else, so what the real
/// run would refuse is refused there too, even without credentials.
/// Returns the region the client would send, if any.
pub fn check_profile(
    profile: &ProfileConfig,
    service: &'static str,
    ctx: &LoadContext<'_>,
) -> Result<Option<String>, Error> {
    let region = credentials::resolve_region(profile.region.as_deref(), ctx)?;
    Endpoint::from_setting(profile.endpoint.as_deref()).resolve(service, profile.allow_insecure_http)?;
    if let Some(rate) = profile.rate_limit_per_second {
        WindowLimiter::per_second(rate)?;
    }
    if let Some(region) = region.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        header_value("region", region)?;
    }
    Ok(region)
}

impl TencentClient {
    /// Check a configuration and build the client. Refuses (as
    /// [`Error::Config`] naming the field) an unusable endpoint, a
    /// non-positive rate, a zero attempt count or timeout, and values that
    /// cannot be sent as headers.
    pub fn new(config: ClientConfig) -> Result<Self, Error> {
        let endpoint = config.endpoint.resolve(config.service, config.allow_insecure_http)?;
        let limiter = Limits::shared(
            &format!(
                "{}\n{}\n{}\n{}",
                config.service,
                config.region.as_deref().unwrap_or_default(),
                endpoint.url,
                config.credentials.secret_id
            ),
            config.rate_limit_per_second,
            &[],
        )?;
        if config.retry.max_attempts == 0 {
            return Err(config_error("retry.max_attempts", "must be at least 1"));
        }
        if config.request_timeout.is_zero() {
            return Err(config_error("request_timeout", "must be positive"));
        }
        if config.credentials.secret_id.trim().is_empty() {
            return Err(config_error("credentials.secret_id", "is empty"));
        }
        if config.credentials.secret_key.expose().is_empty() {
            return Err(config_error("credentials.secret_key", "is empty"));
        }

        let mut fixed_headers = HeaderMap::new();
        fixed_headers.insert(HOST, header_value("endpoint", &endpoint.host)?);
        fixed_headers.insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE_JSON));
        fixed_headers.insert("x-tc-version", header_value("version", config.version)?);
        if let Some(region) = config.region.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
            fixed_headers.insert("x-tc-region", header_value("region", region)?);
        }
        if let Some(token) = &config.credentials.token {
            let mut value = header_value("credentials.token", token.expose())?;
            value.set_sensitive(true);
            fixed_headers.insert("x-tc-token", value);
        }
        let language = config.language.as_deref().unwrap_or(DEFAULT_LANGUAGE);
        fixed_headers.insert("x-tc-language", header_value("language", language)?);
        fixed_headers.insert("x-tc-requestclient", HeaderValue::from_static(REQUEST_CLIENT));
        // Checked here so that signing later cannot meet an unsendable id.
        header_value("credentials.secret_id", &config.credentials.secret_id)?;

        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout.min(Duration::from_secs(10)))
            .gzip(true)
            .deflate(true)
            .build()
            .map_err(|e| config_error("http_client", format!("cannot build the HTTP client: {e}")))?;

        Ok(TencentClient {
            inner: Arc::new(Inner {
                config,
                endpoint,
                fixed_headers,
                http,
                limiter,
                calls: AtomicU64::new(0),
                attempts: AtomicU64::new(0),
                retries: AtomicU64::new(0),
            }),
        })
    }

    /// A client for a profile, reading credentials and region from the
    /// process environment and the user's vendor CLI files.
    pub fn from_profile(
        profile: &ProfileConfig,
        service: &'static str,
        version: &'static str,
        vendor: &'static str,
    ) -> Result<Self, Error> {
        Self::new(ClientConfig::from_profile(
            profile,
            service,
            version,
            vendor,
            &LoadContext::system(),
        )?)
    }

    /// The adapter name errors carry.
    pub fn vendor(&self) -> &'static str {
        self.inner.config.vendor
    }

    /// The service name (`gaap`, `clb`).
    pub fn service(&self) -> &'static str {
        self.inner.config.service
    }

    /// The region sent, if any.
    pub fn region(&self) -> Option<&str> {
        self.inner.config.region.as_deref()
    }

    /// The resolved endpoint.
    pub fn endpoint(&self) -> &ResolvedEndpoint {
        &self.inner.endpoint
    }

    /// The counters so far.
    pub fn stats(&self) -> ClientStats {
        ClientStats {
            calls: self.inner.calls.load(Ordering::Relaxed),
            attempts: self.inner.attempts.load(Ordering::Relaxed),
            retries: self.inner.retries.load(Ordering::Relaxed),
        }
    }

    /// Call `action` with `params` (a JSON object; `null` sends `{}`).
    ///
    /// `idempotent` is the caller's promise that repeating the call is
    /// harmless; only then is a request whose answer was lost sent again
    /// (see [`crate::retry`]). Errors are [`Error`] variants decided by the
    /// vendor's code ([`crate::errors::classify`]).
    pub async fn call(&self, action: &str, params: &Value, idempotent: bool) -> Result<ApiResponse, Error> {
        let config = &self.inner.config;
        let span = tracing::info_span!(
            "tencent_api.call",
            vendor = config.vendor,
            action,
            region = config.region.as_deref().unwrap_or(""),
            request_id = Empty,
            attempt = Empty,
        );
        async move {
            self.inner.calls.fetch_add(1, Ordering::Relaxed);
            if action.is_empty() || !action.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(config_error(
                    "action",
                    "must be a non-empty ASCII alphanumeric action name",
                ));
            }
            let body = match params {
                Value::Null => b"{}".to_vec(),
                Value::Object(_) => serde_json::to_vec(params)
                    .map_err(|e| config_error("params", format!("cannot be serialised: {e}")))?,
                _ => return Err(config_error("params", "must be a JSON object")),
            };
            let mut attempts = 0u32;
            let result = retry::run(&config.retry.bounds(), idempotent, |attempt| {
                attempts = attempt.number;
                if attempt.number > 1 {
                    self.inner.retries.fetch_add(1, Ordering::Relaxed);
                }
                let span = tracing::debug_span!("attempt", attempt = attempt.number, request_id = Empty);
                self.attempt(action, &body).instrument(span)
            })
            .await;
            // Recorded once, when final, so each field appears once.
            let call_span = tracing::Span::current();
            call_span.record("attempt", attempts);
            let request_id = match &result {
                Ok(answer) => Some(answer.request_id.as_str()),
                Err(e) => request_id_of(e),
            };
            if let Some(request_id) = request_id {
                call_span.record("request_id", request_id);
            }
            match &result {
                Ok(_) => tracing::debug!("call succeeded"),
                Err(e) => tracing::debug!(kind = e.kind(), code = e.vendor_code().unwrap_or(""), "call failed"),
            }
            result
        }
        .instrument(span)
        .await
    }

    /// One signed request and the interpretation of its answer.
    async fn attempt(&self, action: &str, body: &[u8]) -> Result<ApiResponse, Error> {
        let inner = &self.inner;
        let config = &inner.config;

        inner.limiter.acquire(action).await;
        inner.attempts.fetch_add(1, Ordering::Relaxed);

        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        let signed = sign(
            &SignInput {
                method: "POST",
                path: inner.endpoint.url.path(),
                query: "",
                headers: &[("content-type", CONTENT_TYPE_JSON), ("host", &inner.endpoint.host)],
                payload: body,
                service: config.service,
                timestamp,
            },
            &config.credentials.secret_id,
            config.credentials.secret_key.expose(),
        );

        let mut headers = inner.fixed_headers.clone();
        headers.insert(HeaderName::from_static("x-tc-action"), header_value("action", action)?);
        headers.insert(HeaderName::from_static("x-tc-timestamp"), HeaderValue::from(timestamp));
        let mut authorization = header_value("credentials.secret_id", &signed.authorization)?;
        authorization.set_sensitive(true);
        headers.insert(AUTHORIZATION, authorization);

        tracing::debug!("sending");
        let sent = inner
            .http
            .post(inner.endpoint.url.clone())
            .headers(headers)
            .body(body.to_vec())
            .send()
            .await;
        let response = sent.map_err(|e| self.transport_error(&e))?;

        let status = response.status();
        if status != reqwest::StatusCode::OK {
            return Err(Error::Transport {
                vendor: config.vendor,
                message: format!("HTTP status {status} from {}", inner.endpoint.host),
                maybe_applied: true,
            });
        }
        let bytes = response.bytes().await.map_err(|e| self.transport_error(&e))?;
        let answer = interpret(config.vendor, &bytes);
        let request_id = match &answer {
            Ok(answer) => Some(answer.request_id.as_str()),
            Err(e) => request_id_of(e),
        };
        if let Some(request_id) = request_id {
            tracing::Span::current().record("request_id", request_id);
        }
        answer
    }

    /// A reqwest failure as a transport error. Only a connection that was
    /// never established certainly carried nothing; any later failure
    /// (timeout while waiting, reset, truncated body) may follow a request
    /// the server already acted on.
    fn transport_error(&self, e: &reqwest::Error) -> Error {
        let maybe_applied = !(e.is_connect() || e.is_builder());
        let mut message = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        Error::Transport {
            vendor: self.inner.config.vendor,
            message,
            maybe_applied,
        }
    }
}

/// The vendor's request id an error carries, if the vendor answered.
fn request_id_of(e: &Error) -> Option<&str> {
    match e {
        Error::Vendor { request_id, .. }
        | Error::Throttled { request_id, .. }
        | Error::Busy { request_id, .. }
        | Error::Authentication { request_id, .. }
        | Error::Conflict { request_id, .. } => Some(request_id.as_str()),
        _ => None,
    }
}

/// Read a 200 answer's envelope: `Response.Error` is a failure mapped by
/// code, anything else with a `RequestId` is success. An envelope we cannot
/// read is a transport fault that may follow an applied request.
pub fn interpret(vendor: &'static str, bytes: &[u8]) -> Result<ApiResponse, Error> {
    let unreadable = |why: &str| Error::Transport {
        vendor,
        message: format!("unreadable answer: {why}"),
        maybe_applied: true,
    };
    let json: Value = serde_json::from_slice(bytes).map_err(|e| unreadable(&format!("not JSON ({e})")))?;
    let Some(Value::Object(response)) = json.get("Response") else {
        return Err(unreadable("no `Response` object"));
    };
    let request_id = response.get("RequestId").and_then(Value::as_str).unwrap_or("");
    if let Some(error) = response.get("Error") {
        let Some(code) = error.get("Code").and_then(Value::as_str) else {
            return Err(unreadable("`Response.Error` without a `Code`"));
        };
        let message = error.get("Message").and_then(Value::as_str).unwrap_or("");
        return Err(errors::vendor_error(vendor, code, message, request_id));
    }
    if request_id.is_empty() {
        return Err(unreadable("no `Response.RequestId`"));
    }
    Ok(ApiResponse {
        request_id: request_id.to_string(),
        body: Value::Object(response.clone()),
    })
}

impl fmt::Debug for TencentClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TencentClient")
            .field("config", &self.inner.config)
            .field("host", &self.inner.endpoint.host)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn config_field(r: Result<Option<String>, Error>) -> String {
        match r {
            Err(Error::Config { field, .. }) => field,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn offline_profile_check_needs_no_credentials() {
        let ctx = LoadContext {
            env: &no_env,
            home: None,
        };
        let mut p = ProfileConfig::new("tencent-clb", "lb-1");
        assert_eq!(check_profile(&p, "clb", &ctx).expect("no credentials needed"), None);
        p.region = Some("ap-guangzhou".into());
        assert_eq!(
            check_profile(&p, "clb", &ctx).expect("valid").as_deref(),
            Some("ap-guangzhou")
        );
        let region_env = |name: &str| (name == credentials::ENV_REGION).then(|| "ap-beijing".to_string());
        let from_env = LoadContext {
            env: &region_env,
            home: None,
        };
        p.region = None;
        assert_eq!(
            check_profile(&p, "clb", &from_env).expect("valid").as_deref(),
            Some("ap-beijing")
        );
    }

    #[test]
    fn offline_profile_check_refuses_what_the_client_would_refuse() {
        let ctx = LoadContext {
            env: &no_env,
            home: None,
        };
        let mut p = ProfileConfig::new("tencent-gaap", "link-1");
        for url in ["http://127.0.0.1:1/", "ftp://example.com/", "https://example.com/?a=1"] {
            p.endpoint = Some(url.into());
            assert_eq!(config_field(check_profile(&p, "gaap", &ctx)), "endpoint", "{url}");
        }
        p.allow_insecure_http = true;
        p.endpoint = Some("http://127.0.0.1:1/".into());
        assert!(check_profile(&p, "gaap", &ctx).is_ok());
        p.rate_limit_per_second = Some(0.0);
        assert_eq!(config_field(check_profile(&p, "gaap", &ctx)), "rate_limit_per_second");
        p.rate_limit_per_second = None;
        p.region = Some("ap-guang\nzhou".into());
        assert_eq!(config_field(check_profile(&p, "gaap", &ctx)), "region");
    }

    #[test]
    fn success_envelope_gives_request_id_and_body() {
        let answer = interpret(
            "tencent-gaap",
            br#"{"Response":{"ListenerId":"listener-1","RequestId":"rid"}}"#,
        )
        .expect("success");
        assert_eq!(answer.request_id, "rid");
        assert_eq!(answer.body["ListenerId"], "listener-1");
    }

    #[test]
    fn unreadable_envelopes_are_maybe_applied_transport_faults() {
        for body in [
            &b"<html>"[..],
            br#"{"NoResponse":{}}"#,
            br#"{"Response":{"ListenerId":"x"}}"#,
            br#"{"Response":{"Error":{"Message":"no code"},"RequestId":"r"}}"#,
        ] {
            match interpret("tencent-clb", body) {
                Err(Error::Transport { maybe_applied, .. }) => assert!(maybe_applied),
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn error_envelope_maps_by_code() {
        let e = interpret(
            "tencent-clb",
            br#"{"Response":{"Error":{"Code":"InvalidParameter.PortCheckFailed","Message":"port used"},"RequestId":"r1"}}"#,
        )
        .expect_err("failure");
        assert_eq!(e.vendor_code(), Some("InvalidParameter.PortCheckFailed"));
        assert_eq!(e.kind(), "conflict");
    }
}
