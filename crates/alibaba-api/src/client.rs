//! The RPC client: one signed `POST /` per attempt, with retries, a
//! per-action rate limit and tracing around it.
//!
//! Requests look exactly like the official SDKs' (parameters flattened into
//! the query, empty body, `x-acs-*` headers, ACS3 signature), so the real
//! services and the emulator see the same bytes. What the SDKs leave to the
//! caller is made explicit here: a `ClientToken` is supplied by the caller
//! once per logical operation and repeated on every attempt, while the date
//! and nonce are fresh on every attempt; a lost answer is retried only when
//! that is safe.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use listener_core::rate::{Budget, Limits, WindowLimiter};
use listener_core::retry::{self, Bounds};
use listener_core::{Deadline, Error, ProfileConfig};
use rand::Rng;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::Url;
use serde_json::Value;
use tracing::Instrument;

use crate::credentials::{self, Credentials, Env};
use crate::errors::{map_error, ErrorAnswer};
use crate::params::flatten;
use crate::retry::RetryPolicy;
use crate::sign::{payload_hash, sign, SignInput};
use crate::token::{ClientToken, RandomTokens, TokenSource};

/// Calls per second per action for a product that documents no rate,
/// when the profile sets none: conservative, so the account's other users
/// (consoles, Terraform) stay unthrottled.
pub const DEFAULT_RATE_LIMIT_PER_SECOND: f64 = 3.0;

/// What the client needs to know of one product, given by its adapter:
/// the family client names no product, and each product's documented
/// limits and region rules live in its adapter's `config`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Product {
    /// The adapter's API name for errors and logs (`alibaba-alb`).
    pub vendor: &'static str,
    /// The product code (`alb`); the first label of the endpoint host.
    pub code: &'static str,
    /// The API version sent as `x-acs-version`.
    pub version: &'static str,
    /// Calls per second per action by default (a profile may override it).
    pub rate_limit_per_second: f64,
    /// Actions with a budget of their own (see [`Budget`]).
    pub action_limits: &'static [Budget],
    /// The one region the product's API is served from, for a product
    /// that has one: its endpoint host, and the region when no profile,
    /// variable or CLI file names one. `None`: one endpoint per region,
    /// and no guess (it would address the wrong instances).
    pub api_region: Option<&'static str>,
}

/// How long one attempt may take, connection and answer included.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Answers larger than this are refused rather than buffered: listener
/// answers are a few kilobytes, so anything huge is not the API talking.
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Everything a client needs; [`ClientConfig::new`] fills the defaults.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The adapter's API name for errors and logs: `alibaba-alb` or `alibaba-ga`.
    pub vendor: &'static str,
    /// The product code: `alb` or `ga`; picks the default endpoint.
    pub product: &'static str,
    /// The API version sent as `x-acs-version`: `2020-06-16` (ALB) or
    /// `2019-11-20` (GA).
    pub version: &'static str,
    /// Endpoint URL override (an emulator, a VPC endpoint); `None` uses the
    /// public endpoint of the product and region.
    pub endpoint: Option<String>,
    /// Accept an `http://` endpoint: emulators only, since signed requests
    /// would otherwise cross the network in clear text.
    pub allow_insecure_http: bool,
    /// The region; the endpoint is per region unless the product has one
    /// API region.
    pub region: String,
    /// The keys to sign with.
    pub credentials: Credentials,
    /// Client-side limit, calls per second per action, for every action
    /// without an entry in `action_limits`.
    pub rate_limit_per_second: f64,
    /// Actions with a budget of their own (see [`Budget`]).
    pub action_limits: Vec<Budget>,
    /// The product's one API region, if it has one (see [`Product`]).
    pub api_region: Option<&'static str>,
    /// Retry bounds.
    pub retry: RetryPolicy,
    /// Limit for one attempt.
    pub request_timeout: Duration,
    /// Where [`AlibabaClient::new_client_token`] takes tokens from.
    pub token_source: Arc<dyn TokenSource>,
}

impl ClientConfig {
    /// A configuration for `product` with its default endpoint and limits,
    /// the default retries and timeout, and random tokens.
    pub fn new(product: &Product, region: impl Into<String>, credentials: Credentials) -> Self {
        ClientConfig {
            vendor: product.vendor,
            product: product.code,
            version: product.version,
            endpoint: None,
            allow_insecure_http: false,
            region: region.into(),
            credentials,
            rate_limit_per_second: product.rate_limit_per_second,
            action_limits: product.action_limits.to_vec(),
            api_region: product.api_region,
            retry: RetryPolicy::default(),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            token_source: Arc::new(RandomTokens),
        }
    }
}

/// How a call may be repeated and what it should carry.
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    /// The call changes nothing (reads), so repeating it after a lost answer
    /// is harmless.
    pub idempotent: bool,
    /// Sent as `ClientToken` on every attempt; makes a repeated write return
    /// the first result instead of acting twice, so lost answers are retried.
    pub client_token: Option<ClientToken>,
    /// Send `DryRun=true` (ALB): the vendor checks the request without
    /// acting, and its `DryRunOperation` answer counts as success.
    pub dry_run: bool,
    /// Keep repeating (a write with its token) until this deadline, at its
    /// poll interval or the vendor's `retry_after`, instead of within the
    /// client's own bounds: for a write the vendor refuses as busy for as
    /// long as another change of the instance runs (GA), which the
    /// operation's wait would allow anyway.
    pub until: Option<Deadline>,
}

impl CallOptions {
    /// A read: idempotent, no token.
    pub fn read() -> Self {
        CallOptions {
            idempotent: true,
            ..CallOptions::default()
        }
    }

    /// A write protected by `token`.
    pub fn write(token: ClientToken) -> Self {
        CallOptions {
            client_token: Some(token),
            ..CallOptions::default()
        }
    }

    /// These options, repeated until `deadline` (see [`CallOptions::until`]).
    pub fn until(self, deadline: &Deadline) -> Self {
        CallOptions {
            until: Some(deadline.clone()),
            ..self
        }
    }

    /// The retry bounds of a call with these options: the client's own, or
    /// up to the deadline at its interval, without jitter (a fixed pace, as
    /// a wait polls).
    fn bounds(&self, own: &RetryPolicy, action: &str) -> Bounds {
        match &self.until {
            None => own.bounds(),
            Some(deadline) => Bounds {
                max_attempts: u32::MAX,
                initial: deadline.interval(),
                max: deadline.interval(),
                // Past the deadline: one attempt, no retry.
                max_elapsed: deadline.left(action).unwrap_or(Duration::ZERO),
                jitter: false,
            },
        }
    }
}

/// A successful answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse {
    /// The vendor's request id, for support tickets and log correlation.
    pub request_id: String,
    /// The answer's JSON object as sent (flat: the action's fields plus
    /// `RequestId`; for a dry run, the `DryRunOperation` answer).
    pub body: Value,
}

/// Counters since the client was built, shared by its clones: what a soak
/// test or a metrics endpoint reads to see retries happening.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Logical calls started.
    pub calls: u64,
    /// HTTP attempts made (calls plus retries).
    pub attempts: u64,
    /// Attempts that were repeats of a failed one.
    pub retries: u64,
    /// Attempts answered with throttling.
    pub throttled: u64,
    /// Calls that ended in an error.
    pub failures: u64,
}

#[derive(Default)]
struct Counters {
    calls: AtomicU64,
    attempts: AtomicU64,
    retries: AtomicU64,
    throttled: AtomicU64,
    failures: AtomicU64,
}

struct Inner {
    vendor: &'static str,
    product: &'static str,
    version: &'static str,
    region: String,
    /// `scheme://authority/`, the URL every request goes to.
    base_url: String,
    /// The `host` header exactly as sent and signed (with `:port` when not
    /// the scheme's default).
    host: String,
    credentials: Credentials,
    retry: RetryPolicy,
    token_source: Arc<dyn TokenSource>,
    http: reqwest::Client,
    /// Shared with every client of the same account, product, region,
    /// endpoint and limits in this process (see [`Limits::shared`]).
    limits: Arc<Limits>,
    counters: Counters,
}

/// The limits for `config` at `base_url`, shared by every client of the
/// process with the same account, product, region, endpoint and limits.
/// Alibaba counts its limits per account, API and region, so two profiles
/// of one account (two ALB instances applied at once by `apply
/// --all-profiles`) must share one budget, or together they send twice
/// the documented rate and meet `Throttling`. Clients with a different
/// rate override keep their own: the user asked for that rate.
fn shared_limits(config: &ClientConfig, base_url: &str) -> Result<Arc<Limits>, Error> {
    let key = format!(
        "{}\n{}\n{}\n{}",
        config.product, config.region, base_url, config.credentials.access_key_id,
    );
    Limits::shared(&key, config.rate_limit_per_second, &config.action_limits)
}

/// A client for one Alibaba RPC product in one region.
///
/// Cheap to clone: clones share the connection pool, the rate limiter and
/// the counters, so an adapter can hand copies to concurrent tasks without
/// multiplying its request rate. The rate limiter is also shared with every
/// other client of the same account, product, region, endpoint and limits
/// in the process, as the vendor counts calls.
#[derive(Clone)]
pub struct AlibabaClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for AlibabaClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlibabaClient")
            .field("vendor", &self.inner.vendor)
            .field("version", &self.inner.version)
            .field("region", &self.inner.region)
            .field("endpoint", &self.inner.base_url)
            .field("credentials", &self.inner.credentials)
            .finish_non_exhaustive()
    }
}

/// The public endpoint of a product: one per region
/// (`<code>.<region>.aliyuncs.com`), or the one of its API region when the
/// product is served from a single region.
pub fn default_endpoint(code: &str, region: &str, api_region: Option<&str>) -> String {
    format!("https://{code}.{}.aliyuncs.com", api_region.unwrap_or(region))
}

/// Check an endpoint URL and derive the base URL and `host` header.
///
/// RPC requests always go to `/`, so a path, query or credentials in the
/// URL would be silently dropped or mis-signed: they are refused instead.
fn parse_endpoint(raw: &str, allow_insecure_http: bool) -> Result<(String, String), Error> {
    let field = "endpoint";
    // Quoted in messages only when it cannot hold `user:password@`, which
    // may be a secret.
    let shown = if raw.contains('@') {
        "the endpoint URL".to_string()
    } else {
        format!("`{raw}`")
    };
    let url = Url::parse(raw).map_err(|e| Error::Config {
        field: field.to_string(),
        message: format!("{shown} is not a URL: {e}"),
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::Config {
            field: field.to_string(),
            message: "the endpoint must not carry user credentials".to_string(),
        });
    }
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure_http => {}
        "http" => {
            return Err(Error::Config {
                field: field.to_string(),
                message: format!(
                    "{shown} is plain http; signed requests need https (set allow_insecure_http for an emulator)"
                ),
            })
        }
        other => {
            return Err(Error::Config {
                field: field.to_string(),
                message: format!("scheme `{other}` is not supported; use https"),
            })
        }
    }
    let Some(host) = url.host_str() else {
        return Err(Error::Config {
            field: field.to_string(),
            message: format!("{shown} names no host"),
        });
    };
    if !(url.path().is_empty() || url.path() == "/") || url.query().is_some() || url.fragment().is_some() {
        return Err(Error::Config {
            field: field.to_string(),
            message: format!("{shown} has a path, query or fragment; RPC calls always go to `/`"),
        });
    }
    // `Url::port` is `None` when the port is the scheme's default, which is
    // exactly when HTTP clients leave it out of the Host header.
    let authority = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    };
    Ok((format!("{}://{authority}/", url.scheme()), authority))
}

/// The region of a profile: the profile's, else `ALIBABA_CLOUD_REGION_ID`,
/// else the CLI profile's `region_id`, else the product's one API region
/// when it has one. Otherwise there is no fallback: guessing a region would
/// address the wrong instances.
fn resolve_region(profile: &ProfileConfig, api_region: Option<&str>, env: &Env<'_>) -> Result<String, Error> {
    if let Some(r) = profile.region.clone().filter(|r| !r.trim().is_empty()) {
        return Ok(r);
    }
    if let Some(r) = env.var(credentials::ENV_REGION_ID) {
        return Ok(r);
    }
    match credentials::cli_region(env)? {
        Some(r) => Ok(r),
        None => match api_region {
            Some(r) => Ok(r.to_string()),
            None => Err(Error::Config {
                field: "region".to_string(),
                message: format!(
                    "no region: set `region` in the profile, {} or region_id in the CLI profile",
                    credentials::ENV_REGION_ID
                ),
            }),
        },
    }
}

/// Every check [`AlibabaClient::from_profile_with_env`] makes on a profile
/// that needs no credentials and no network: the API name, the region (by
/// the same chain), the endpoint URL and the rate limit. `validate`, `plan`
/// and `--emulate` run it before anything else, so a profile the real run
/// would refuse is refused there too, even on a machine without
/// credentials. Returns the region the client would use.
pub fn check_profile(profile: &ProfileConfig, product: &Product, env: &Env<'_>) -> Result<String, Error> {
    let vendor = product.vendor;
    if profile.api != vendor {
        return Err(Error::Config {
            field: "api".to_string(),
            message: format!("the profile is for `{}`, not `{vendor}`", profile.api),
        });
    }
    let region = resolve_region(profile, product.api_region, env)?;
    let region = region.trim().to_string();
    check_region(&region)?;
    let endpoint = profile
        .endpoint
        .clone()
        .unwrap_or_else(|| default_endpoint(product.code, &region, product.api_region));
    parse_endpoint(&endpoint, profile.allow_insecure_http)?;
    if let Some(rate) = profile.rate_limit_per_second {
        WindowLimiter::per_second(rate)?;
    }
    Ok(region)
}

fn check_region(region: &str) -> Result<(), Error> {
    // The region becomes part of a host name; anything else would make a
    // different (or invalid) host than the user meant.
    if region.is_empty()
        || !region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(Error::Config {
            field: "region".to_string(),
            message: format!("`{region}` is not a region id (lower-case letters, digits and `-`)"),
        });
    }
    Ok(())
}

/// The date as the signature expects it: UTC, seconds, no fraction.
fn acs_date(now: time::OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

/// 32 random hex characters: a reused nonce is refused (`SignatureNonceUsed`),
/// so every attempt draws a new one.
fn new_nonce() -> String {
    format!("{:032x}", rand::rng().random::<u128>())
}

/// What went wrong reading an attempt's answer, before mapping.
fn transport(vendor: &'static str, message: String, maybe_applied: bool) -> Error {
    Error::Transport {
        vendor,
        message,
        maybe_applied,
    }
}

/// An error and its sources in one line, without the URL (which holds the
/// parameters and would only add noise).
fn describe(e: &reqwest::Error) -> String {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    message
}

impl AlibabaClient {
    /// Build a client, checking every setting up front so a bad endpoint or
    /// rate fails at startup rather than on the first call.
    pub fn new(config: ClientConfig) -> Result<Self, Error> {
        check_region(&config.region)?;
        let endpoint = config
            .endpoint
            .clone()
            .unwrap_or_else(|| default_endpoint(config.product, &config.region, config.api_region));
        let (base_url, host) = parse_endpoint(&endpoint, config.allow_insecure_http)?;
        let limits = shared_limits(&config, &base_url)?;
        if config.retry.max_attempts == 0 {
            return Err(Error::Config {
                field: "retry.max_attempts".to_string(),
                message: "must be at least 1".to_string(),
            });
        }
        if config.request_timeout.is_zero() {
            return Err(Error::Config {
                field: "request_timeout".to_string(),
                message: "must be longer than zero".to_string(),
            });
        }
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout)
            .build()
            .map_err(|e| Error::Config {
                field: "http client".to_string(),
                message: describe(&e),
            })?;
        Ok(AlibabaClient {
            inner: Arc::new(Inner {
                vendor: config.vendor,
                product: config.product,
                version: config.version,
                region: config.region,
                base_url,
                host,
                credentials: config.credentials,
                retry: config.retry,
                token_source: config.token_source,
                http,
                limits,
                counters: Counters::default(),
            }),
        })
    }

    /// Build a client from a profile, finding credentials through the
    /// vendor's chain in the real environment.
    pub fn from_profile(profile: &ProfileConfig, product: &Product) -> Result<Self, Error> {
        credentials::with_process_env(|env| Self::from_profile_with_env(profile, product, env))
    }

    /// [`AlibabaClient::from_profile`] with an injected environment.
    ///
    /// The region is the profile's, else `ALIBABA_CLOUD_REGION_ID`, else the
    /// CLI profile's `region_id`, else the product's one API region when it
    /// has one; otherwise there is no fallback: guessing a region would
    /// address the wrong instances.
    pub fn from_profile_with_env(profile: &ProfileConfig, product: &Product, env: &Env<'_>) -> Result<Self, Error> {
        let vendor = product.vendor;
        if profile.api != vendor {
            return Err(Error::Config {
                field: "api".to_string(),
                message: format!("the profile is for `{}`, not `{vendor}`", profile.api),
            });
        }
        let resolved = credentials::resolve(profile.inline_credentials.as_ref(), env)?;
        tracing::debug!(vendor, source = ?resolved.source, "credentials found");
        let region = resolve_region(profile, product.api_region, env)?;
        let mut config = ClientConfig::new(product, region.trim(), resolved.credentials);
        config.endpoint = profile.endpoint.clone();
        config.allow_insecure_http = profile.allow_insecure_http;
        if let Some(rate) = profile.rate_limit_per_second {
            config.rate_limit_per_second = rate;
        }
        Self::new(config)
    }

    /// The adapter's API name this client reports errors under.
    pub fn vendor(&self) -> &'static str {
        self.inner.vendor
    }

    /// The product code (`alb`, `ga`).
    pub fn product(&self) -> &'static str {
        self.inner.product
    }

    /// The API version sent.
    pub fn version(&self) -> &'static str {
        self.inner.version
    }

    /// The region the client was built for.
    pub fn region(&self) -> &str {
        &self.inner.region
    }

    /// The URL requests go to (`scheme://host[:port]/`).
    pub fn endpoint(&self) -> &str {
        &self.inner.base_url
    }

    /// A token for one new logical operation, from the configured source.
    /// Call it once, before the call and its retries.
    pub fn new_client_token(&self) -> ClientToken {
        self.inner.token_source.next_token()
    }

    /// Counters so far, shared by every clone.
    pub fn stats(&self) -> ClientStats {
        let c = &self.inner.counters;
        ClientStats {
            calls: c.calls.load(Ordering::Relaxed),
            attempts: c.attempts.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            throttled: c.throttled.load(Ordering::Relaxed),
            failures: c.failures.load(Ordering::Relaxed),
        }
    }

    /// Call `action` with nested `params` (flattened here), retrying within
    /// the policy.
    ///
    /// `params` must be a JSON object (or `null` for none) and must not hold
    /// `ClientToken` or `DryRun`: those come from `opts`, because the retry
    /// rules depend on them.
    pub async fn call(&self, action: &str, params: &Value, opts: CallOptions) -> Result<ApiResponse, Error> {
        let inner = &self.inner;
        let query = self.prepare_query(action, params, &opts)?;
        inner.counters.calls.fetch_add(1, Ordering::Relaxed);
        let span = tracing::info_span!(
            "alibaba_call",
            vendor = inner.vendor,
            action,
            region = %inner.region,
            request_id = tracing::field::Empty,
            attempts = tracing::field::Empty,
        );
        let result = self.call_with_retries(action, &query, &opts).instrument(span).await;
        if result.is_err() {
            inner.counters.failures.fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    fn prepare_query(&self, action: &str, params: &Value, opts: &CallOptions) -> Result<Vec<(String, String)>, Error> {
        if action.is_empty() || !action.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(Error::Config {
                field: "action".to_string(),
                message: format!("`{action}` is not an API action name"),
            });
        }
        match params {
            Value::Null => {}
            Value::Object(fields) => {
                for reserved in ["ClientToken", "DryRun"] {
                    if fields.contains_key(reserved) {
                        return Err(Error::Config {
                            field: format!("params.{reserved}"),
                            message: "set it through CallOptions, which the retry rules depend on".to_string(),
                        });
                    }
                }
            }
            _ => {
                return Err(Error::Config {
                    field: "params".to_string(),
                    message: "must be a JSON object".to_string(),
                })
            }
        }
        let mut query = flatten(params);
        if let Some(token) = &opts.client_token {
            query.push(("ClientToken".to_string(), token.as_str().to_string()));
        }
        if opts.dry_run {
            query.push(("DryRun".to_string(), "true".to_string()));
        }
        Ok(query)
    }

    /// The one retry layer ([`retry::run`]): limit, attempt, decide, wait.
    async fn call_with_retries(
        &self,
        action: &str,
        query: &[(String, String)],
        opts: &CallOptions,
    ) -> Result<ApiResponse, Error> {
        let inner = &self.inner;
        let repeat_is_safe = opts.idempotent || opts.client_token.is_some();
        let mut attempts: u32 = 0;
        let result = retry::run(&opts.bounds(&inner.retry, action), repeat_is_safe, |attempt| {
            attempts = attempt.number;
            async move {
                inner.limits.acquire(action).await;
                inner.counters.attempts.fetch_add(1, Ordering::Relaxed);
                if attempt.number > 1 {
                    inner.counters.retries.fetch_add(1, Ordering::Relaxed);
                }
                // One child span per attempt: each attempt has its own
                // request id, and recording a field twice on one span would
                // repeat it.
                let attempt_span =
                    tracing::debug_span!("attempt", attempt = attempt.number, request_id = tracing::field::Empty);
                let outcome = self
                    .attempt(action, query, opts.dry_run, attempt.number, attempt.after)
                    .instrument(attempt_span)
                    .await;
                if let Err(Error::Throttled { .. }) = outcome {
                    inner.counters.throttled.fetch_add(1, Ordering::Relaxed);
                }
                outcome
            }
        })
        .await;
        let span = tracing::Span::current();
        span.record("attempts", attempts);
        match &result {
            Ok(response) => {
                span.record("request_id", response.request_id.as_str());
                tracing::debug!("call succeeded");
            }
            // Debug only: the error goes back to the caller, who decides
            // whether it matters (a delete waits for NotFound, for one); a
            // retryable error given up on was logged at warn by the shared
            // policy.
            Err(error) => tracing::debug!(
                attempt = attempts,
                kind = error.kind(),
                code = error.vendor_code().unwrap_or(""),
                error = %error,
                "call failed"
            ),
        }
        result
    }

    /// One signed HTTP exchange, its answer mapped to a response or error.
    async fn attempt(
        &self,
        action: &str,
        query: &[(String, String)],
        dry_run: bool,
        attempt: u32,
        last_delay: Duration,
    ) -> Result<ApiResponse, Error> {
        let inner = &self.inner;
        let vendor = inner.vendor;
        let date = acs_date(time::OffsetDateTime::now_utc());
        let nonce = new_nonce();
        let content_hash = payload_hash(b"");
        let retries = (attempt - 1).to_string();
        let delay_ms = last_delay.as_millis().to_string();

        let mut signed_headers: Vec<(&str, &str)> = vec![
            ("host", inner.host.as_str()),
            ("x-acs-action", action),
            ("x-acs-version", inner.version),
            ("x-acs-date", &date),
            ("x-acs-signature-nonce", &nonce),
            ("x-acs-content-sha256", &content_hash),
        ];
        let creds = &inner.credentials;
        if let Some(token) = &creds.security_token {
            signed_headers.push(("x-acs-security-token", token.expose()));
            signed_headers.push(("x-acs-accesskey-id", &creds.access_key_id));
        }
        if attempt > 1 {
            signed_headers.push(("x-acs-retry-attempts", &retries));
            signed_headers.push(("x-acs-retry-delay", &delay_ms));
        }
        let signed = sign(
            &SignInput {
                method: "POST",
                path: "/",
                query,
                headers: &signed_headers,
                payload: b"",
            },
            &creds.access_key_id,
            creds.access_key_secret.expose(),
        );

        let mut headers = HeaderMap::new();
        for (name, value) in signed_headers.iter().copied().chain([
            ("authorization", signed.authorization.as_str()),
            ("accept", "application/json"),
        ]) {
            let header_name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| Error::Config {
                field: name.to_string(),
                message: "not a valid header name".to_string(),
            })?;
            let mut header_value = HeaderValue::from_str(value).map_err(|_| Error::Config {
                field: name.to_string(),
                message: "value cannot be sent in an HTTP header".to_string(),
            })?;
            // Keeps the value out of any Debug output of the request.
            if matches!(name, "authorization" | "x-acs-security-token") {
                header_value.set_sensitive(true);
            }
            headers.insert(header_name, header_value);
        }
        let url = if signed.canonical_query.is_empty() {
            inner.base_url.clone()
        } else {
            format!("{}?{}", inner.base_url, signed.canonical_query)
        };

        tracing::debug!("sending request");
        let response = inner
            .http
            .post(url)
            .headers(headers)
            .body(Vec::<u8>::new())
            .send()
            .await
            .map_err(|e| {
                // Only a connection that was never made proves the vendor
                // never saw the request.
                let maybe_applied = !e.is_connect();
                transport(vendor, describe(&e.without_url()), maybe_applied)
            })?;

        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let retry_after = header("x-acs-retry-after");
        let header_request_id = header("x-acs-request-id");
        let body = read_body(response, vendor).await?;
        let json: Option<Value> = serde_json::from_slice(&body).ok().filter(Value::is_object);
        let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
        let request_id = json
            .as_ref()
            .and_then(|v| text(v, "RequestId"))
            .or(header_request_id)
            .unwrap_or_default();
        if !request_id.is_empty() {
            tracing::Span::current().record("request_id", request_id.as_str());
        }
        tracing::debug!(status, "answer received");

        if (200..300).contains(&status) {
            return match json {
                Some(body) => Ok(ApiResponse { request_id, body }),
                None => Err(transport(
                    vendor,
                    format!("HTTP {status} answer is not a JSON object"),
                    true,
                )),
            };
        }
        let code = json.as_ref().and_then(|v| text(v, "Code"));
        if dry_run && code.as_deref() == Some("DryRunOperation") {
            if let Some(body) = json {
                return Ok(ApiResponse { request_id, body });
            }
        }
        let message = json.as_ref().and_then(|v| text(v, "Message")).unwrap_or_default();
        match code {
            Some(code) => Err(map_error(
                vendor,
                &ErrorAnswer {
                    http_status: status,
                    code: &code,
                    message: &message,
                    request_id: &request_id,
                    retry_after_header: retry_after.as_deref(),
                },
            )),
            // Throttling is signalled by the header even without an envelope.
            None if retry_after.is_some() => Err(map_error(
                vendor,
                &ErrorAnswer {
                    http_status: status,
                    code: "",
                    message: "",
                    request_id: &request_id,
                    retry_after_header: retry_after.as_deref(),
                },
            )),
            None => Err(transport(
                vendor,
                format!("HTTP {status} without an error code in a JSON body"),
                true,
            )),
        }
    }
}

/// Read an answer body up to [`MAX_BODY_BYTES`].
async fn read_body(mut response: reqwest::Response, vendor: &'static str) -> Result<Vec<u8>, Error> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(transport(
                        vendor,
                        format!("answer larger than {MAX_BODY_BYTES} bytes"),
                        true,
                    ));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(transport(vendor, describe(&e.without_url()), true)),
        }
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use listener_core::Secret;

    /// A regional product, as an adapter describes it.
    pub(super) const ALB: Product = Product {
        vendor: "alibaba-alb",
        code: "alb",
        version: "2020-06-16",
        rate_limit_per_second: 20.0,
        action_limits: &[],
        api_region: None,
    };

    /// A product served from one region.
    pub(super) const GA: Product = Product {
        vendor: "alibaba-ga",
        code: "ga",
        version: "2019-11-20",
        rate_limit_per_second: DEFAULT_RATE_LIMIT_PER_SECOND,
        action_limits: &[],
        api_region: Some("cn-hangzhou"),
    };

    fn creds() -> Credentials {
        Credentials::new("id", Secret::new("secret"), None, "test").expect("valid")
    }

    /// Two profiles of one account on one product and region (two ALB
    /// instances) share one budget, as Alibaba counts it; another account,
    /// region or rate override has its own.
    #[test]
    fn clients_of_one_account_share_their_limits() {
        let client = |key_id: &str, region: &str, rate: Option<f64>| {
            let creds = Credentials::new(key_id, Secret::new("secret"), None, "test").expect("valid");
            let mut config = ClientConfig::new(&ALB, region, creds);
            config.endpoint = Some("http://127.0.0.1:9/".into());
            config.allow_insecure_http = true;
            if let Some(r) = rate {
                config.rate_limit_per_second = r;
            }
            AlibabaClient::new(config).expect("client")
        };
        let a = client("LTAI-share-a", "cn-hangzhou", None);
        let b = client("LTAI-share-a", "cn-hangzhou", None);
        assert!(Arc::ptr_eq(&a.inner.limits, &b.inner.limits));
        for other in [
            client("LTAI-share-b", "cn-hangzhou", None),
            client("LTAI-share-a", "cn-beijing", None),
            client("LTAI-share-a", "cn-hangzhou", Some(5.0)),
        ] {
            assert!(!Arc::ptr_eq(&a.inner.limits, &other.inner.limits));
        }
    }

    #[test]
    fn default_endpoints_follow_the_product() {
        assert_eq!(
            default_endpoint("alb", "cn-beijing", None),
            "https://alb.cn-beijing.aliyuncs.com"
        );
        assert_eq!(
            default_endpoint("ga", "us-west-1", Some("cn-hangzhou")),
            "https://ga.cn-hangzhou.aliyuncs.com"
        );
    }

    #[test]
    fn endpoint_host_keeps_only_non_default_ports() {
        assert_eq!(
            parse_endpoint("https://alb.cn-hangzhou.aliyuncs.com", false).expect("ok"),
            (
                "https://alb.cn-hangzhou.aliyuncs.com/".to_string(),
                "alb.cn-hangzhou.aliyuncs.com".to_string()
            )
        );
        assert_eq!(
            parse_endpoint("https://example.test:443/", false).expect("ok").1,
            "example.test"
        );
        assert_eq!(
            parse_endpoint("http://127.0.0.1:8080", true).expect("ok"),
            ("http://127.0.0.1:8080/".to_string(), "127.0.0.1:8080".to_string())
        );
    }

    #[test]
    fn endpoint_rules_refuse_plain_http_paths_and_junk() {
        for (raw, insecure) in [
            ("http://127.0.0.1:8080", false),
            ("ftp://x", true),
            ("not a url", true),
            ("https://x/api", false),
            ("https://x/?a=b", false),
            ("https://u:p@x/", false),
        ] {
            match parse_endpoint(raw, insecure) {
                Err(Error::Config { field, .. }) => assert_eq!(field, "endpoint", "{raw}"),
                other => panic!("{raw}: {other:?}"),
            }
        }
    }

    #[test]
    fn endpoint_refusals_never_quote_a_password() {
        for (raw, insecure) in [
            ("http://user:hunter2@127.0.0.1:8080", false),
            ("ftp://user:hunter2@x", true),
            ("https://user:hunter2@x/api", true),
            ("https://user:hunter2@x y/", true),
        ] {
            match parse_endpoint(raw, insecure) {
                Err(Error::Config { field, message }) => {
                    assert_eq!(field, "endpoint", "{raw}");
                    assert!(!message.contains("hunter2"), "{raw}: {message}");
                }
                other => panic!("{raw}: {other:?}"),
            }
        }
    }

    #[test]
    fn acs_date_is_utc_seconds_without_fraction() {
        let t = time::macros::datetime!(2023-10-26 10:22:32.987 UTC);
        assert_eq!(acs_date(t), "2023-10-26T10:22:32Z");
    }

    #[test]
    fn nonces_are_32_hex_and_fresh() {
        let a = new_nonce();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, new_nonce());
    }

    #[test]
    fn bad_settings_are_config_errors_naming_the_field() {
        let cases: Vec<(ClientConfig, &str)> = vec![
            (
                {
                    let mut c = ClientConfig::new(&ALB, "cn-hangzhou", creds());
                    c.rate_limit_per_second = 0.0;
                    c
                },
                "rate_limit_per_second",
            ),
            (
                {
                    let mut c = ClientConfig::new(&ALB, "cn-hangzhou", creds());
                    c.rate_limit_per_second = f64::NAN;
                    c
                },
                "rate_limit_per_second",
            ),
            (ClientConfig::new(&ALB, "cn hangzhou", creds()), "region"),
            (
                {
                    let mut c = ClientConfig::new(&ALB, "cn-hangzhou", creds());
                    c.retry.max_attempts = 0;
                    c
                },
                "retry.max_attempts",
            ),
        ];
        for (config, expected) in cases {
            match AlibabaClient::new(config) {
                Err(Error::Config { field, .. }) => assert_eq!(field, expected),
                other => panic!("{expected}: {other:?}"),
            }
        }
    }

    #[test]
    fn reserved_params_and_bad_actions_are_refused_before_sending() {
        let client = AlibabaClient::new(ClientConfig::new(&ALB, "cn-hangzhou", creds())).expect("client");
        let field = |r: Result<Vec<(String, String)>, Error>| match r {
            Err(Error::Config { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        let opts = CallOptions::default();
        assert_eq!(
            field(client.prepare_query("CreateListener", &serde_json::json!({"ClientToken": "x"}), &opts)),
            "params.ClientToken"
        );
        assert_eq!(
            field(client.prepare_query("CreateListener", &serde_json::json!({"DryRun": true}), &opts)),
            "params.DryRun"
        );
        assert_eq!(
            field(client.prepare_query("CreateListener", &serde_json::json!([1]), &opts)),
            "params"
        );
        assert_eq!(
            field(client.prepare_query("Create Listener", &Value::Null, &opts)),
            "action"
        );
        let q = client
            .prepare_query(
                "CreateListener",
                &serde_json::json!({"A": 1}),
                &CallOptions {
                    idempotent: false,
                    client_token: Some(ClientToken::new("tok").expect("valid")),
                    dry_run: true,
                    until: None,
                },
            )
            .expect("valid");
        assert_eq!(
            q,
            vec![
                ("A".to_string(), "1".to_string()),
                ("ClientToken".to_string(), "tok".to_string()),
                ("DryRun".to_string(), "true".to_string())
            ]
        );
    }
}

#[cfg(test)]
mod profile_check_tests {
    use super::tests::{ALB, GA};
    use super::*;

    fn field(r: Result<String, Error>) -> String {
        match r {
            Err(Error::Config { field, .. }) => field,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    /// No variables and no home: no credentials anywhere, which the offline
    /// check must not mind.
    fn bare<T>(f: impl FnOnce(&Env<'_>) -> T) -> T {
        let lookup = |_: &str| None;
        f(&Env::new(&lookup, None))
    }

    #[test]
    fn offline_check_needs_no_credentials_and_resolves_the_region() {
        let mut alb = ProfileConfig::new("alibaba-alb", "alb-1");
        alb.region = Some("cn-shanghai".into());
        assert_eq!(bare(|env| check_profile(&alb, &ALB, env)).unwrap(), "cn-shanghai");
        let ga = ProfileConfig::new("alibaba-ga", "ga-1");
        assert_eq!(bare(|env| check_profile(&ga, &GA, env)).unwrap(), "cn-hangzhou");
        let lookup = |name: &str| (name == credentials::ENV_REGION_ID).then(|| "cn-beijing".to_string());
        let env = Env::new(&lookup, None);
        let mut no_region = alb.clone();
        no_region.region = None;
        assert_eq!(check_profile(&no_region, &ALB, &env).unwrap(), "cn-beijing");
    }

    #[test]
    fn offline_check_refuses_what_the_client_would_refuse() {
        let mut p = ProfileConfig::new("alibaba-alb", "alb-1");
        assert_eq!(field(bare(|env| check_profile(&p, &ALB, env))), "region");
        p.region = Some("cn-hangzhou".into());
        for url in ["http://127.0.0.1:1", "ftp://example.com", "https://example.com/path"] {
            p.endpoint = Some(url.into());
            assert_eq!(field(bare(|env| check_profile(&p, &ALB, env))), "endpoint", "{url}");
        }
        p.allow_insecure_http = true;
        p.endpoint = Some("http://127.0.0.1:1".into());
        assert!(bare(|env| check_profile(&p, &ALB, env)).is_ok());
        p.rate_limit_per_second = Some(0.0);
        assert_eq!(field(bare(|env| check_profile(&p, &ALB, env))), "rate_limit_per_second");
        p.rate_limit_per_second = None;
        p.region = Some("CN Hangzhou".into());
        assert_eq!(field(bare(|env| check_profile(&p, &ALB, env))), "region");
    }
}
