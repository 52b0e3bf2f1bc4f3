//! The HTTP server: builder, handle, connection loop and the call pipeline.
//!
//! Built on hyper directly rather than a web framework because two faults
//! need control below the level of a response: `Drop` and `LostAnswer`
//! must close the TCP connection without writing anything, which hyper does
//! when the service future returns an error.
//!
//! Every API call goes through the same steps, in the order a vendor
//! gateway applies them:
//! 1. family from the headers, action and version, routing to a service;
//! 2. signature check (unless switched off);
//! 3. parameters: Tencent JSON body, Alibaba query and form body, decoded
//!    as the gateways decode them (`crate::decode`);
//! 4. rate limit per (service, action);
//! 5. fault decision (scripted rule first, then the random draw);
//! 6. the service acts, and the answer is rendered in the family envelope.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::admin;
use crate::auth::{SignedRequest, Verifier};
use crate::config::EmulatorConfig;
use crate::context::CallContext;
use crate::credentials::{AlibabaCredentials, TencentCredentials};
use crate::envelope::{self, Body, Meta};
use crate::faults::{CallSite, Fault, FaultControl, FaultCounts, FaultRule, RandomFaults};
use crate::rate_limit::{RateLimiter, RateLimits};
use crate::requests::{RequestCounter, RequestCounts};
use crate::routing::{self, Registry};
use crate::service::{ApiError, Call, Family, InstanceSeed, Service, Timing};
use crate::EmulatorError;

/// Largest request body read (Tencent's documented POST limit, 10 MB).
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
/// `x-acs-retry-after` of an injected Alibaba throttling fault.
pub const FAULT_RETRY_AFTER: Duration = Duration::from_millis(100);
/// How long shutdown waits for calls in flight before cutting them off.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Entry point: `Emulator::builder()...start().await`.
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    /// A builder with the built-in services, default credentials, signature
    /// checks and vendor rate limits on, no faults, default timing, bound to
    /// `127.0.0.1:0` (a port the OS picks).
    pub fn builder() -> EmulatorBuilder {
        let mut registry = Registry::default();
        for service in crate::services::builtin() {
            registry.register(service);
        }
        EmulatorBuilder {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            registry,
            tencent: TencentCredentials::default(),
            alibaba: AlibabaCredentials::default(),
            verify_signatures: true,
            rate_limits: RateLimits::default(),
            timing: Timing::default(),
            fault_rules: Vec::new(),
            random_faults: None,
            seeds: Vec::new(),
        }
    }
}

/// Configures an emulator before it starts. See [`Emulator::builder`].
pub struct EmulatorBuilder {
    addr: SocketAddr,
    registry: Registry,
    tencent: TencentCredentials,
    alibaba: AlibabaCredentials,
    verify_signatures: bool,
    rate_limits: RateLimits,
    timing: Timing,
    fault_rules: Vec<FaultRule>,
    random_faults: Option<RandomFaults>,
    seeds: Vec<(String, InstanceSeed)>,
}

impl fmt::Debug for EmulatorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let services: Vec<String> = self
            .registry
            .all()
            .iter()
            .map(|s| s.family().api_name(s.name()))
            .collect();
        f.debug_struct("EmulatorBuilder")
            .field("addr", &self.addr)
            .field("services", &services)
            .field("tencent", &self.tencent)
            .field("alibaba", &self.alibaba)
            .field("verify_signatures", &self.verify_signatures)
            .field("rate_limits", &self.rate_limits)
            .field("timing", &self.timing)
            .field("fault_rules", &self.fault_rules)
            .field("random_faults", &self.random_faults)
            .field("seeds", &self.seeds.len())
            .finish()
    }
}

impl EmulatorBuilder {
    /// Listens on this address instead of `127.0.0.1:0`.
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Adds a service. It replaces a registered one of the same family with
    /// the same version or the same name, so a test can swap a built-in.
    pub fn with_service(mut self, service: Arc<dyn Service>) -> Self {
        self.registry.register(service);
        self
    }

    /// Removes every registered service, built-ins included, so a test
    /// hosts only the services it adds afterwards.
    pub fn without_services(mut self) -> Self {
        self.registry = Registry::default();
        self
    }

    /// The Tencent key pair the emulator accepts.
    pub fn tencent_credentials(mut self, secret_id: impl Into<String>, secret_key: impl Into<String>) -> Self {
        let token = self.tencent.token.take();
        self.tencent = TencentCredentials::new(secret_id, secret_key);
        self.tencent.token = token;
        self
    }

    /// Requires this `X-TC-Token` on Tencent calls (temporary credentials).
    pub fn tencent_token(mut self, token: impl Into<String>) -> Self {
        self.tencent.token = Some(token.into());
        self
    }

    /// The Alibaba key pair the emulator accepts.
    pub fn alibaba_credentials(
        mut self,
        access_key_id: impl Into<String>,
        access_key_secret: impl Into<String>,
    ) -> Self {
        let token = self.alibaba.security_token.take();
        self.alibaba = AlibabaCredentials::new(access_key_id, access_key_secret);
        self.alibaba.security_token = token;
        self
    }

    /// Requires this `x-acs-security-token` on Alibaba calls (STS).
    pub fn alibaba_security_token(mut self, token: impl Into<String>) -> Self {
        self.alibaba.security_token = Some(token.into());
        self
    }

    /// Switches signature checks on (default) or off. Off accepts any
    /// request, signed or not: meant for users' CI that only needs the API
    /// behaviour, never for testing a client's signer.
    pub fn verify_signatures(mut self, on: bool) -> Self {
        self.verify_signatures = on;
        self
    }

    /// The rate table (default: the vendors' documented rates).
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.rate_limits = limits;
        self
    }

    /// Asynchronous delays the services apply.
    pub fn timing(mut self, timing: Timing) -> Self {
        self.timing = timing;
        self
    }

    /// Replaces the scripted fault rules.
    pub fn fault_rules(mut self, rules: Vec<FaultRule>) -> Self {
        self.fault_rules = rules;
        self
    }

    /// Appends one scripted fault rule.
    pub fn fault_rule(mut self, rule: FaultRule) -> Self {
        self.fault_rules.push(rule);
        self
    }

    /// Random faults from the start.
    pub fn random_faults(mut self, random: RandomFaults) -> Self {
        self.random_faults = Some(random);
        self
    }

    /// Seeds an instance into the service with this name (`gaap`) or API
    /// name (`tencent-gaap`) at start; an unknown name fails the start.
    pub fn seed(mut self, service: impl Into<String>, instance: InstanceSeed) -> Self {
        self.seeds.push((service.into(), instance));
        self
    }

    /// Applies what a config file sets; later builder calls still override.
    pub fn config(mut self, config: &EmulatorConfig) -> Self {
        if let Some(on) = config.verify_signatures {
            self.verify_signatures = on;
        }
        if let Some(t) = &config.tencent {
            self.tencent = t.clone();
        }
        if let Some(a) = &config.alibaba {
            self.alibaba = a.clone();
        }
        if let Some(t) = &config.timing {
            self.timing = t.clone();
        }
        if let Some(r) = &config.rate_limits {
            self.rate_limits = r.clone();
        }
        self.seeds.extend(config.instances.iter().cloned());
        self.fault_rules.extend(config.fault_rules.iter().cloned());
        if let Some(r) = &config.random_faults {
            self.random_faults = Some(r.clone());
        }
        self
    }

    /// Checks the settings, seeds the services, binds and starts serving
    /// in background tasks of the current tokio runtime.
    pub async fn start(self) -> Result<EmulatorHandle, EmulatorError> {
        self.rate_limits.validate().map_err(EmulatorError::Config)?;
        let faults = FaultControl::new();
        faults.set_random(self.random_faults).map_err(EmulatorError::Config)?;
        faults.set_rules(self.fault_rules);
        for (name, instance) in self.seeds {
            let service = self
                .registry
                .find(&name)
                .ok_or_else(|| EmulatorError::UnknownService(name.clone()))?;
            service.seed(instance);
        }
        let listener = TcpListener::bind(self.addr)
            .await
            .map_err(|source| EmulatorError::Bind {
                addr: self.addr,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| EmulatorError::Bind {
            addr: self.addr,
            source,
        })?;
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            registry: self.registry,
            verifier: Verifier::new(self.verify_signatures, self.tencent, self.alibaba),
            limiter: RateLimiter::new(self.rate_limits),
            requests: RequestCounter::default(),
            faults,
            timing: self.timing,
            shutdown: shutdown_rx.clone(),
        });
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&shared), shutdown_rx));
        tracing::info!(%addr, verify_signatures = shared.verifier.enabled, "emulator started");
        Ok(EmulatorHandle {
            addr,
            shared,
            shutdown_tx,
            task: Some(task),
        })
    }
}

/// Everything the connection tasks share.
pub(crate) struct Shared {
    pub(crate) registry: Registry,
    pub(crate) verifier: Verifier,
    pub(crate) limiter: RateLimiter,
    pub(crate) requests: RequestCounter,
    pub(crate) faults: FaultControl,
    pub(crate) timing: Timing,
    shutdown: watch::Receiver<bool>,
}

impl Shared {
    /// Listener counts per API name (`tencent-gaap`), then per instance.
    /// Keyed by API name, not service name, because two families may host
    /// services of the same name (test services do).
    pub(crate) fn listener_counts(&self) -> BTreeMap<String, BTreeMap<String, usize>> {
        self.registry
            .all()
            .iter()
            .map(|s| (s.family().api_name(s.name()), s.listener_counts()))
            .collect()
    }

    /// Seeds an instance into a running service.
    pub(crate) fn seed(&self, service: &str, instance: InstanceSeed) -> Result<(), EmulatorError> {
        let found = self
            .registry
            .find(service)
            .ok_or_else(|| EmulatorError::UnknownService(service.to_string()))?;
        found.seed(instance);
        Ok(())
    }
}

/// A running emulator. Dropping it stops the server too (without waiting);
/// [`EmulatorHandle::shutdown`] stops it and waits until every task ended.
pub struct EmulatorHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown_tx: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl fmt::Debug for EmulatorHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorHandle")
            .field("addr", &self.addr)
            .field("running", &self.task.is_some())
            .finish()
    }
}

impl EmulatorHandle {
    /// The bound address (with the port the OS picked).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, the endpoint to give every client.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Listener counts per API name (`tencent-gaap`, `alibaba-ga`), then per
    /// instance, so a test can assert "exactly one listener was created".
    pub fn listener_counts(&self) -> BTreeMap<String, BTreeMap<String, usize>> {
        self.shared.listener_counts()
    }

    /// Listeners on one instance, `api` given as the API name
    /// (`tencent-gaap`) or the service's short name (`gaap`); 0 when the
    /// emulator knows neither.
    pub fn listener_count(&self, api: &str, instance: &str) -> usize {
        let counts = self.listener_counts();
        let short = api.split_once('-').map_or(api, |(_, s)| s);
        counts
            .get(api)
            .or_else(|| counts.get(short))
            .and_then(|m| m.get(instance))
            .copied()
            .unwrap_or(0)
    }

    /// Run-time control of the faults (rules, random faults, counters).
    pub fn faults(&self) -> &FaultControl {
        &self.shared.faults
    }

    /// Faults injected so far, per kind.
    pub fn fault_counts(&self) -> FaultCounts {
        self.shared.faults.counts()
    }

    /// Seeds an instance into a running service (service or API name).
    pub fn seed(&self, service: &str, instance: InstanceSeed) -> Result<(), EmulatorError> {
        self.shared.seed(service, instance)
    }

    /// The rate table in force.
    pub fn rate_limits(&self) -> RateLimits {
        self.shared.limiter.limits()
    }

    /// Replaces the rate table; buckets start full again.
    pub fn set_rate_limits(&self, limits: RateLimits) -> Result<(), EmulatorError> {
        limits.validate().map_err(EmulatorError::Config)?;
        self.shared.limiter.replace(limits);
        Ok(())
    }

    /// Requests per API name and action since start or the last
    /// [`EmulatorHandle::reset_request_counts`]: how many calls a client
    /// run needed, and how many the rate limit refused.
    pub fn request_counts(&self) -> RequestCounts {
        self.shared.requests.snapshot()
    }

    /// Starts the request counts from zero.
    pub fn reset_request_counts(&self) {
        self.shared.requests.reset();
    }

    /// The timing the services were given.
    pub fn timing(&self) -> &Timing {
        &self.shared.timing
    }

    /// Stops accepting, lets calls in flight finish (a `Slow` fault is cut
    /// short, its connection closed), and waits until every task ended.
    /// Calls still running after a grace period of five seconds are aborted.
    pub async fn shutdown(mut self) {
        self.shutdown_tx.send_replace(true);
        if let Some(task) = self.task.take() {
            if let Err(e) = task.await {
                tracing::warn!(error = %e, "emulator accept task ended abnormally");
            }
        }
        tracing::info!(addr = %self.addr, "emulator stopped");
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        self.shutdown_tx.send_replace(true);
    }
}

/// Resolves once shutdown is signalled (or the handle is gone).
async fn shutdown_signalled(rx: &mut watch::Receiver<bool>) {
    while !*rx.borrow_and_update() {
        if rx.changed().await.is_err() {
            return;
        }
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    connections.spawn(serve_connection(stream, Arc::clone(&shared), shutdown.clone()));
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off briefly
                    // instead of spinning, and keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            () = shutdown_signalled(&mut shutdown) => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        connections.abort_all();
        while connections.join_next().await.is_some() {}
    }
}

async fn serve_connection(stream: TcpStream, shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let io = TokioIo::new(stream);
    let service = service_fn(move |req| handle_request(Arc::clone(&shared), req));
    // No header-read timeout: it would also close idle keep-alive
    // connections, racing with clients that reuse them, and a local
    // emulator has no slow-client attack to fend off. Idle connections end
    // at shutdown.
    let mut builder = http1::Builder::new();
    builder.header_read_timeout(None);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        () = shutdown_signalled(&mut shutdown) => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        let injected = std::error::Error::source(&e)
            .map(|s| s.is::<ClosedOnPurpose>())
            .unwrap_or(false);
        if !injected {
            tracing::debug!(error = %e, "connection ended with an error");
        }
    }
}

/// The error a request future returns to make hyper close the connection
/// without answering (the `Drop` and `LostAnswer` faults).
#[derive(Debug)]
pub(crate) struct ClosedOnPurpose;

impl fmt::Display for ClosedOnPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection closed by an injected fault")
    }
}

impl std::error::Error for ClosedOnPurpose {}

async fn handle_request(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Response<Body>, ClosedOnPurpose> {
    let path = req.uri().path();
    if path == "/_emulator" || path.starts_with("/_emulator/") {
        return Ok(admin::handle(&shared, req).await);
    }
    if path != "/" {
        return Ok(envelope::plain(
            StatusCode::NOT_FOUND,
            "The emulator serves API calls at `/` and its admin surface under `/_emulator/`.",
        ));
    }
    // A query too broken to decode still lets the headers name the family
    // (and the family's envelope then refuses the query).
    let detect_query = crate::decode::decode_query(req.uri().query().unwrap_or("")).unwrap_or_default();
    let Some(family) = routing::detect_family(req.headers(), &detect_query) else {
        return Ok(envelope::plain(
            StatusCode::BAD_REQUEST,
            "Not an API call: expected X-TC-Action/X-TC-Version (Tencent), x-acs-action/x-acs-version or Action/Version parameters (Alibaba).",
        ));
    };
    let (parts, body) = req.into_parts();
    let host = routing::header(&parts.headers, "host").unwrap_or("").to_string();
    let request_id = new_request_id(family);
    let meta = Meta {
        family,
        request_id: &request_id,
        host: &host,
        product: "",
    };
    let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            let err = ApiError::new(
                "RequestSizeLimitExceeded",
                format!("The request body is larger than {MAX_BODY_BYTES} bytes."),
            )
            .status(413);
            return Ok(envelope::error(&meta, &err, None));
        }
        // The client went away mid-body: nobody is left to answer.
        Err(_) => return Err(ClosedOnPurpose),
    };
    api_call(&shared, meta, &parts, body).await
}

fn new_request_id(family: Family) -> String {
    let id = uuid::Uuid::new_v4().hyphenated().to_string();
    match family {
        Family::Tencent => id,
        Family::Alibaba => id.to_ascii_uppercase(),
    }
}

/// How a call ended, for the log line.
enum Outcome<'a> {
    Answered(&'a str),
    Closed,
}

fn log_call(meta: &Meta<'_>, action: &str, fault: Option<Fault>, outcome: Outcome<'_>) {
    let fault = fault.map(|f| f.kind().as_str()).unwrap_or("none");
    match outcome {
        Outcome::Answered(code) => tracing::info!(
            family = %meta.family, service = meta.product, action, request_id = meta.request_id,
            code, fault, "call answered"
        ),
        Outcome::Closed => tracing::info!(
            family = %meta.family, service = meta.product, action, request_id = meta.request_id,
            fault, "connection closed without answer"
        ),
    }
}

async fn api_call(
    shared: &Shared,
    mut meta: Meta<'_>,
    parts: &hyper::http::request::Parts,
    body: Bytes,
) -> Result<Response<Body>, ClosedOnPurpose> {
    let family = meta.family;
    let refuse = |meta: &Meta<'_>, action: &str, err: ApiError, retry_after: Option<Duration>| {
        log_call(meta, action, None, Outcome::Answered(&err.code));
        Ok(envelope::error(meta, &err, retry_after))
    };
    let query = parts.uri.query().unwrap_or("");
    // Alibaba signs the decoded query pairs (and, with the legacy
    // signature, the form body's); Tencent signs the raw query string
    // (empty for POST) and takes its parameters from the body.
    let (query_pairs, form_pairs) = match family {
        Family::Tencent => (Vec::new(), Vec::new()),
        Family::Alibaba => {
            let query_pairs = match crate::decode::decode_query(query) {
                Ok(pairs) => pairs,
                Err(err) => return refuse(&meta, "", err, None),
            };
            let form_pairs = if crate::decode::is_form_body(&parts.headers) {
                match crate::decode::decode_form(&body) {
                    Ok(pairs) => pairs,
                    Err(err) => return refuse(&meta, "", err, None),
                }
            } else {
                Vec::new()
            };
            (query_pairs, form_pairs)
        }
    };
    let (action, version) = match routing::action_and_version(family, &parts.headers, &query_pairs) {
        Ok(found) => found,
        Err(err) => return refuse(&meta, "", err, None),
    };
    let service = match shared.registry.route(family, &version) {
        Ok(service) => Arc::clone(service),
        Err(err) => return refuse(&meta, &action, err, None),
    };
    meta.product = service.name();

    let signed = SignedRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query,
        query_pairs: &query_pairs,
        form_pairs: &form_pairs,
        headers: &parts.headers,
        body: &body,
    };
    let verified = match family {
        Family::Tencent => shared.verifier.verify_tencent(&signed, service.name()),
        Family::Alibaba => shared.verifier.verify_alibaba(&signed),
    };
    if let Err(err) = verified {
        return refuse(&meta, &action, err, None);
    }

    let (params, flat, region) = match family {
        Family::Tencent => {
            if parts.method != Method::POST {
                let err = ApiError::new(
                    "UnsupportedProtocol",
                    "The emulator accepts Tencent calls as POST with a JSON body only.",
                );
                return refuse(&meta, &action, err, None);
            }
            match routing::tencent_params(&body) {
                Ok(params) => {
                    let region = routing::header(&parts.headers, "x-tc-region").map(str::to_string);
                    (params, BTreeMap::new(), region)
                }
                Err(err) => return refuse(&meta, &action, err, None),
            }
        }
        Family::Alibaba => {
            if parts.method != Method::POST && parts.method != Method::GET {
                let err = ApiError::new("UnsupportedHTTPMethod", "RPC calls are sent as POST or GET.");
                return refuse(&meta, &action, err, None);
            }
            let mut pairs = query_pairs;
            pairs.extend(form_pairs);
            let (params, flat) = routing::alibaba_params(&pairs);
            let region = flat.get("RegionId").cloned();
            (params, flat, region)
        }
    };

    let api = family.api_name(service.name());
    shared.requests.arrived(&api, &action);
    if let Err(wait) = shared.limiter.check(family, service.name(), &action, Instant::now()) {
        shared.requests.throttled(&api, &action);
        return refuse(&meta, &action, envelope::throttling_error(family), Some(wait));
    }

    let site = CallSite {
        service: service.name(),
        api: &api,
        action: &action,
    };
    let fault = shared.faults.on_arrival(&site);
    match fault {
        Some(Fault::Throttle) => {
            shared.requests.errored(&api, &action);
            let err = envelope::throttling_error(family);
            log_call(&meta, &action, fault, Outcome::Answered(&err.code));
            return Ok(envelope::error(&meta, &err, Some(FAULT_RETRY_AFTER)));
        }
        Some(Fault::ServerError) => {
            shared.requests.errored(&api, &action);
            log_call(&meta, &action, fault, Outcome::Answered("ServerError"));
            return Ok(envelope::server_failure(&meta));
        }
        Some(Fault::Drop) => {
            log_call(&meta, &action, fault, Outcome::Closed);
            return Err(ClosedOnPurpose);
        }
        Some(Fault::Slow(delay)) => {
            let mut shutdown = shared.shutdown.clone();
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = shutdown_signalled(&mut shutdown) => {
                    log_call(&meta, &action, fault, Outcome::Closed);
                    return Err(ClosedOnPurpose);
                }
            }
        }
        Some(Fault::LostAnswer) | Some(Fault::TaskFailure) | None => {}
    }

    let call = Call {
        action: action.clone(),
        params,
        flat,
        region,
        request_id: meta.request_id.to_string(),
        now: Instant::now(),
    };
    let mut ctx = CallContext {
        timing: &shared.timing,
        faults: &shared.faults,
        site,
    };
    // A panicking service is a bug in the emulator, not in the client: answer
    // InternalError (as a failing vendor backend would) and keep serving.
    let answer = catch_unwind(AssertUnwindSafe(|| service.handle(&mut ctx, &call))).unwrap_or_else(|_| {
        tracing::error!(service = service.name(), action = %action, "service panicked");
        Err(ApiError::internal(
            "The emulated service failed while handling the call.",
        ))
    });
    if fault == Some(Fault::LostAnswer) {
        log_call(&meta, &action, fault, Outcome::Closed);
        return Err(ClosedOnPurpose);
    }
    match answer {
        Ok(fields) => {
            log_call(&meta, &action, fault, Outcome::Answered("ok"));
            Ok(envelope::success(&meta, fields))
        }
        Err(err) => {
            shared.requests.errored(&api, &action);
            log_call(&meta, &action, fault, Outcome::Answered(&err.code));
            Ok(envelope::error(&meta, &err, None))
        }
    }
}
