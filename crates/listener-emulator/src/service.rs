//! The contract between the emulator's HTTP framework and each emulated API.
//!
//! The framework (server, signature check, rate limits, fault injection,
//! routing) turns an HTTP request into a [`Call`] and hands it to the
//! [`Service`] whose family and version match; the service applies the
//! vendor's rules to its in-memory state and answers data or an [`ApiError`]
//! carrying the vendor's own error code. The framework renders either in the
//! vendor family's envelope, so a service never builds HTTP itself.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The two API families, which differ in signing and envelopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// Tencent Cloud API 3.0: JSON body, `X-TC-*` headers, TC3 signature,
    /// answers `{"Response": {...}}` with HTTP 200 even for errors.
    Tencent,
    /// Alibaba Cloud RPC: parameters in the query, `x-acs-*` headers, ACS3
    /// signature, flat JSON answers, errors as HTTP 4xx/5xx.
    Alibaba,
}

impl Family {
    /// The lower-case family word (`tencent`, `alibaba`), which prefixes a
    /// service name to make the API names the rest of the project uses
    /// (`tencent-gaap`, `alibaba-ga`).
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Tencent => "tencent",
            Family::Alibaba => "alibaba",
        }
    }

    /// The API name of a service of this family, e.g. `tencent-clb`. Seeds,
    /// the admin surface and the config file accept either this or the bare
    /// service name.
    pub fn api_name(self, service: &str) -> String {
        format!("{}-{}", self.as_str(), service)
    }
}

impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One authenticated API call, as a service sees it.
#[derive(Debug, Clone)]
pub struct Call {
    /// The action, e.g. `CreateHTTPSListener`.
    pub action: String,
    /// The parameters as JSON. Tencent: the body as sent. Alibaba: the
    /// flattened query and form body unflattened (`PortRanges.1.FromPort=80` becomes
    /// `{"PortRanges":[{"FromPort":"80"}]}`); scalar values stay strings.
    pub params: Value,
    /// Alibaba only: the flat parameters of query and form body, decoded
    /// (`crate::decode`), without the legacy signature's common parameters.
    pub flat: BTreeMap<String, String>,
    /// The region header/parameter when sent.
    pub region: Option<String>,
    /// The request id the framework assigned (echoed in the answer).
    pub request_id: String,
    /// Time of the call, from the framework's clock.
    pub now: Instant,
}

/// A vendor error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The vendor's code, e.g. `InvalidParameterValue.DuplicatedListenerPort`.
    pub code: String,
    /// A message in the vendor's style.
    pub message: String,
    /// HTTP status for families that use it (Alibaba); Tencent always 200.
    pub http_status: u16,
}

impl ApiError {
    /// A 400 error with `code`.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            code: code.into(),
            message: message.into(),
            http_status: 400,
        }
    }

    /// The same error with another HTTP status (Alibaba 404 etc.).
    pub fn status(mut self, status: u16) -> Self {
        self.http_status = status;
        self
    }

    /// The family's answer to an action the service does not know, so every
    /// service words it the same way: Tencent `InvalidAction`, Alibaba
    /// `InvalidAction.NotFound` (HTTP 404).
    pub fn unknown_action(family: Family, action: &str) -> Self {
        match family {
            Family::Tencent => ApiError::new(
                "InvalidAction",
                format!("The action `{action}` does not exist in this API version."),
            ),
            Family::Alibaba => ApiError::new(
                "InvalidAction.NotFound",
                format!("The API `{action}` is not found for this product and version."),
            )
            .status(404),
        }
    }

    /// The family's answer to a required parameter left out: both vendors
    /// use `MissingParameter` (HTTP 400 on Alibaba).
    pub fn missing_parameter(name: &str) -> Self {
        ApiError::new(
            "MissingParameter",
            format!("The request is missing the required parameter `{name}`."),
        )
    }

    /// The family's answer when the emulator itself fails (a service that
    /// panicked or returned something that is not an object): Tencent
    /// `InternalError`, Alibaba `InternalError` with HTTP 500. Clients treat
    /// both as transient, which is what a real server fault looks like.
    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new("InternalError", message).status(500)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (HTTP {}): {}", self.code, self.http_status, self.message)
    }
}

impl std::error::Error for ApiError {}

/// Knobs every service reads: asynchronous delays and task failures.
#[derive(Debug, Clone)]
pub struct Timing {
    /// How long a create stays in its creating/provisioning state.
    pub create: Duration,
    /// How long an update stays in its updating/configuring state.
    pub update: Duration,
    /// How long a delete stays in its deleting state.
    pub delete: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            create: Duration::from_millis(200),
            update: Duration::from_millis(200),
            delete: Duration::from_millis(200),
        }
    }
}

/// Instances an emulated service starts with.
#[derive(Debug, Clone, Default)]
pub struct InstanceSeed {
    /// Instance ID (`link-…`, `lg-…`, `lb-…`, `alb-…`, `ga-…`).
    pub id: String,
    /// Server groups or target groups that exist on it (ALB `sgp-…`).
    pub server_groups: Vec<String>,
}

/// Per-call context a service gets from the framework.
pub trait Context {
    /// Whether the asynchronous task started by this call should end in
    /// failure (fault injection). Consumes one scripted failure if any.
    fn fail_task(&mut self) -> bool;
    /// The configured asynchronous delays.
    fn timing(&self) -> &Timing;
}

/// One emulated vendor API.
pub trait Service: Send + Sync {
    /// Family, for signing and envelopes.
    fn family(&self) -> Family;
    /// The API version this service answers (`X-TC-Version` /
    /// `x-acs-version`), which is how the framework routes a call.
    fn version(&self) -> &'static str;
    /// The service name used in Tencent credential scopes (`gaap`, `clb`)
    /// or the Alibaba product code (`alb`, `ga`).
    fn name(&self) -> &'static str;
    /// Add a seeded instance.
    fn seed(&self, instance: InstanceSeed);
    /// Handle one call: the vendor's rules against the state.
    fn handle(&self, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError>;
    /// Listener count per instance, for tests that assert "exactly one".
    fn listener_counts(&self) -> BTreeMap<String, usize>;

    /// Where a request would go on this emulated cloud, by the vendor's own
    /// matcher (admin `POST /_emulator/resolve`); `None` for services that
    /// have no matcher. `now` settles pending tasks first.
    fn resolve(&self, _query: &Value, _now: std::time::Instant) -> Option<Result<Value, ApiError>> {
        None
    }
}
