//! The neutral listener specification.
//!
//! Every concept that two or more of the supported APIs share has a field
//! here; a knob only one vendor has lives in [`Extensions`], under the name of
//! the adapter that understands it. Certificates and forwarding targets are
//! named by **alias** (`"web-cert"`): each provider profile maps aliases to
//! that cloud's IDs, so the spec never changes when the cloud does.
//!
//! Field names are snake_case in every format (TOML, YAML, JSON) and unknown
//! fields are refused, so a typo is an error rather than a silently ignored
//! setting.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[cfg(test)]
use proptest_derive::Arbitrary;

/// The lowest port a listener may name. Port 0 means "any port" to a
/// socket API and is never a listener's port on any cloud.
///
/// This constant and [`PORT_MAX`] are the one statement of the port range:
/// the neutral validation checks it and the JSON Schema states it (through
/// `schemars(range(...))` attributes), so the two cannot disagree.
pub const PORT_MIN: u32 = 1;
/// The highest port a listener may name (ports are 16-bit).
pub const PORT_MAX: u32 = 65535;

/// A pattern (ECMA 262, as JSON Schema uses) that a value matches when it
/// holds a visible character: names, aliases and instance IDs must not be
/// blank, and the validation's `trim().is_empty()` test is this.
pub const NOT_BLANK: &str = r"\S";

/// Add the UPPER-CASE spelling of every lower-case name in a unit enum's
/// schema, because serde accepts both (`#[serde(alias = "HTTPS")]` on each
/// variant) and a schema that refused `"HTTPS"` would disagree with the
/// parser. A unit test deserializes every spelling the schema lists.
pub(crate) fn accept_upper_case(schema: &mut schemars::Schema) {
    let Some(variants) = schema.get_mut("oneOf").and_then(|v| v.as_array_mut()) else {
        return;
    };
    for variant in variants {
        let Some(obj) = variant.as_object_mut() else { continue };
        if let Some(serde_json::Value::String(name)) = obj.remove("const") {
            let upper = name.to_uppercase();
            obj.insert("enum".into(), serde_json::json!([name, upper]));
        }
    }
}

/// One listener: the front door of a load balancer or accelerator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate, JsonSchema)]
#[cfg_attr(test, derive(Arbitrary))]
#[serde(deny_unknown_fields)]
pub struct ListenerSpec {
    /// Listener name. Vendors add their own length and character rules.
    #[validate(length(min = 1, max = 255, message = "must be 1 to 255 characters"))]
    #[schemars(pattern(NOT_BLANK))]
    #[cfg_attr(test, proptest(strategy = "crate::spec::arb::name()"))]
    pub name: String,

    /// Free-text description, for vendors that keep one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(length(max = 256, message = "must be at most 256 characters"))]
    #[cfg_attr(test, proptest(strategy = "crate::spec::arb::opt_text()"))]
    pub description: Option<String>,

    /// The client-facing protocol.
    pub protocol: Protocol,

    /// The client-facing port(s).
    pub ports: Ports,

    /// Server certificates, TLS policy and mutual TLS (TLS protocols only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(nested)]
    pub tls: Option<Tls>,

    /// Where and how traffic goes behind the listener.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(nested)]
    pub forwarding: Option<Forwarding>,

    /// The listener's own backend: the name of a pool in the file's
    /// `backends`. On a layer-4 listener it is where every connection
    /// goes; on an HTTP/HTTPS listener it is the **default backend**, which
    /// takes every request no route matches. An existing vendor pool named
    /// by a target alias stays `forwarding.default_target`; a listener
    /// names one or the other. See `docs/routing.md`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, proptest(value = "None"))]
    pub backend: Option<String>,

    /// Host and path routes (HTTP and HTTPS listeners): a request goes to
    /// the backend of the most specific route that matches it, else to the
    /// default backend. Order in the file does not matter; the matching
    /// rules are in `docs/routing.md` and [`crate::routing`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(test, proptest(value = "Vec::new()"))]
    pub routes: Vec<crate::routes::Route>,

    /// Health checking of the backends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(nested)]
    pub health_check: Option<HealthCheck>,

    /// How connections are spread over backends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduler: Option<Scheduler>,

    /// Keep a client on the same backend (client affinity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(nested)]
    pub session_persistence: Option<SessionPersistence>,

    /// Idle and request timeouts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(nested)]
    pub timeouts: Option<Timeouts>,

    /// How the client's address reaches the backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<ClientIp>,

    /// Tags on the listener (key to value), for ownership and cost
    /// reports. Absent or empty means "leave the listener's tags alone";
    /// present, it is the listener's whole set: a key missing here is
    /// removed. Vendors whose listeners carry no tags refuse it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[cfg_attr(test, proptest(value = "BTreeMap::new()"))]
    pub tags: BTreeMap<String, String>,

    /// Whether the listener serves traffic: `false` stops it (it keeps its
    /// settings and can be started again), `true` runs it. Absent means
    /// "leave it as it is". Vendors that cannot stop a listener refuse it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,

    /// Which client addresses the listener serves: only those listed
    /// (`mode = "allow"`) or all but those (`mode = "deny"`). Absent means
    /// no source-address control: a control the tool made earlier is
    /// removed. Vendors with no per-listener control refuse it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, proptest(value = "None"))]
    pub access: Option<Access>,

    /// Vendor-only settings, keyed by adapter API name (`tencent-clb`, ...).
    /// Each adapter parses its own section into a typed struct during
    /// `check`, so a typo there is reported like any other field error.
    #[serde(default, skip_serializing_if = "Extensions::is_empty")]
    #[cfg_attr(test, proptest(value = "Extensions::default()"))]
    pub extensions: Extensions,
}

/// The client-facing protocol of a listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(test, derive(Arbitrary))]
#[serde(rename_all = "snake_case")]
#[schemars(transform = accept_upper_case)]
pub enum Protocol {
    /// Plain TCP (layer 4).
    #[serde(alias = "TCP")]
    Tcp,
    /// UDP (layer 4).
    #[serde(alias = "UDP")]
    Udp,
    /// HTTP (layer 7).
    #[serde(alias = "HTTP")]
    Http,
    /// HTTPS: TLS terminated at the listener (layer 7).
    #[serde(alias = "HTTPS")]
    Https,
    /// QUIC (UDP-based, TLS 1.3 built in).
    #[serde(alias = "QUIC")]
    Quic,
    /// TLS over TCP terminated at the listener, forwarded as TCP.
    #[serde(alias = "TCP_SSL")]
    TcpSsl,
}

impl Protocol {
    /// All protocols, in declaration order.
    pub const ALL: [Protocol; 6] = [
        Protocol::Tcp,
        Protocol::Udp,
        Protocol::Http,
        Protocol::Https,
        Protocol::Quic,
        Protocol::TcpSsl,
    ];

    /// The name used in spec files.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Http => "http",
            Protocol::Https => "https",
            Protocol::Quic => "quic",
            Protocol::TcpSsl => "tcp_ssl",
        }
    }

    /// Whether the listener terminates TLS and so needs server certificates.
    pub fn terminates_tls(self) -> bool {
        matches!(self, Protocol::Https | Protocol::Quic | Protocol::TcpSsl)
    }

    /// Whether the listener understands HTTP (and so can add headers).
    pub fn is_layer7(self) -> bool {
        matches!(self, Protocol::Http | Protocol::Https | Protocol::Quic)
    }

    /// The transport whose port space the listener occupies.
    pub fn transport(self) -> Transport {
        match self {
            Protocol::Udp | Protocol::Quic => Transport::Udp,
            _ => Transport::Tcp,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A port space: TCP-based and UDP-based listeners do not collide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Transport {
    /// TCP, HTTP, HTTPS, TCP_SSL.
    Tcp,
    /// UDP, QUIC.
    Udp,
}

/// An inclusive range of ports, `from..=to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(test, derive(Arbitrary))]
#[serde(deny_unknown_fields)]
pub struct PortRange {
    /// First port of the range.
    #[schemars(range(min = PORT_MIN, max = PORT_MAX))]
    pub from: u32,
    /// Last port of the range (inclusive), not below `from`.
    #[schemars(range(min = PORT_MIN, max = PORT_MAX))]
    pub to: u32,
}

impl PortRange {
    /// A range holding one port.
    pub fn single(port: u32) -> Self {
        PortRange { from: port, to: port }
    }

    /// Number of ports in the range (0 when `from > to`).
    pub fn len(&self) -> u32 {
        if self.to >= self.from {
            self.to - self.from + 1
        } else {
            0
        }
    }

    /// Whether the range is empty (`from > to`).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the two ranges share a port.
    pub fn overlaps(&self, other: &PortRange) -> bool {
        self.from <= other.to && other.from <= self.to
    }

    /// Whether `port` lies inside the range.
    pub fn contains(&self, port: u32) -> bool {
        self.from <= port && port <= self.to
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.from == self.to {
            write!(f, "{}", self.from)
        } else {
            write!(f, "{}-{}", self.from, self.to)
        }
    }
}

/// One entry of a port list: a port or a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(test, derive(Arbitrary))]
#[serde(untagged, expecting = "a port number or a range { from, to }")]
pub enum PortEntry {
    /// A single port.
    Port(#[schemars(range(min = PORT_MIN, max = PORT_MAX))] u32),
    /// An inclusive range.
    Range(PortRange),
}

impl PortEntry {
    /// The entry as a range (a single port is a one-port range).
    pub fn range(&self) -> PortRange {
        match *self {
            PortEntry::Port(p) => PortRange::single(p),
            PortEntry::Range(r) => r,
        }
    }
}

/// The client-facing port(s): `443`, `[80, 8080]`, `{ from = 8000, to = 8100 }`
/// or a list mixing ports and ranges.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(test, derive(Arbitrary))]
#[serde(
    untagged,
    expecting = "a port number, a list of ports and ranges, or a range { from, to }"
)]
pub enum Ports {
    /// One port.
    Single(#[schemars(range(min = PORT_MIN, max = PORT_MAX))] u32),
    /// Several ports and/or ranges. Tried before `Range`: serde would also
    /// read a two-element list as a `{from, to}` struct.
    List(
        #[schemars(length(min = 1))]
        #[cfg_attr(
            test,
            proptest(strategy = "proptest::collection::vec(proptest::prelude::any::<PortEntry>(), 0..4)")
        )]
        Vec<PortEntry>,
    ),
    /// One inclusive range.
    Range(PortRange),
}

impl Ports {
    /// Every entry as a range, in the order written.
    pub fn ranges(&self) -> Vec<PortRange> {
        match self {
            Ports::Single(p) => vec![PortRange::single(*p)],
            Ports::Range(r) => vec![*r],
            Ports::List(entries) => entries.iter().map(PortEntry::range).collect(),
        }
    }

    /// The port when the spec names exactly one port (a list of one counts).
    pub fn as_single(&self) -> Option<u32> {
        match self.ranges().as_slice() {
            [r] if r.from == r.to => Some(r.from),
            _ => None,
        }
    }

    /// Whether any entry spans more than one port.
    pub fn has_range(&self) -> bool {
        self.ranges().iter().any(|r| r.from != r.to)
    }

    /// Total number of ports named.
    pub fn count(&self) -> u64 {
        self.ranges().iter().map(|r| u64::from(r.len())).sum()
    }

    /// Every single port, expanded. Callers use this only after checking
    /// that the spec names no large range.
    pub fn expand(&self) -> Vec<u32> {
        self.ranges().iter().flat_map(|r| r.from..=r.to).collect()
    }

    /// The spec path of entry `i` (for error messages).
    pub fn entry_path(&self, i: usize) -> String {
        match self {
            Ports::List(_) => format!("ports[{i}]"),
            _ => "ports".to_string(),
        }
    }
}

impl fmt::Display for Ports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.ranges().iter().map(|r| r.to_string()).collect();
        f.write_str(&parts.join(","))
    }
}

/// TLS settings of a listener that terminates TLS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate, JsonSchema)]
#[cfg_attr(test, derive(Arbitrary))]
#[serde(deny_unknown_fields)]
pub struct Tls {
    /// Server certificate aliases; the first is the default. Several
    /// certificates of different key algorithms (RSA and ECC) may be given.
    /// Each alias is named once and is not blank.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("uniqueItems" = true), inner(pattern(NOT_BLANK)))]
    #[cfg_attr(test, proptest(strategy = "crate::spec::arb::aliases()"))]
    pub certificates: Vec<String>,

    /// Vendor TLS security policy name (cipher suites and versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(length(min = 1, max = 128, message = "must be 1 to 128 characters"))]
    #[cfg_attr(test, proptest(strategy = "crate::spec::arb::opt_text()"))]
    pub policy: Option<String>,

    /// Offer HTTP/2 to clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http2: Option<bool>,

    /// Offer HTTP/3 (QUIC) on the same port number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http3: Option<bool>,

    /// Choose certificates per domain on forwarding rules instead of on the
    /// listener (server name indication).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sni: Option<bool>,

    /// Mutual TLS: require (or request) client certificates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(nested)]
    pub client_auth: Option<ClientAuth>,
}

/// Mutual TLS settings. Absent means client authentication is off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate, JsonSchema)]
#[cfg_attr(test, derive(Arbitrary))]
#[serde(deny_unknown_fields)]
pub struct ClientAuth {
    /// Whether a client certificate is required or only verified when sent.
    #[serde(default)]
    pub verify: ClientVerify,
    /// Aliases of the CA certificates that client certificates must chain to.
    /// Each alias is named once and is not blank.
    #[serde(default)]
    #[schemars(extend("uniqueItems" = true), inner(pattern(NOT_BLANK)))]
    #[cfg_attr(test, proptest(strategy = "crate::spec::arb::aliases()"))]
    pub ca_certificates: Vec<String>,
}

/// How strictly client certificates are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(test, derive(Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum ClientVerify {
    /// Connections without a valid client certificate are refused.
    #[default]
    Required,
    /// A client certificate is verified when offered, not demanded.
    Optional,
}

/// Forwarding behind the listener.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate, JsonSchema)]
#[cfg_attr(test, derive(Arbitrary))]
#[serde(deny_unknown_fields)]
pub struct Forwarding {
    /// Protocol towards the backends, for layer-7 listeners.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_protocol: Option<BackendProtocol>,
    /// Alias of the default target (server group, target group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(length(min = 1, max = 128, message = "must be 1 to 128 characters"))]
    #[cfg_attr(test, proptest(strategy = "crate::spec::arb::opt_alias()"))]
    pub default_target: Option<String>,
}

/// Protocol spoken to the backends by a layer-7 listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(test, derive(Arbitrary))]
#[serde(rename_all = "snake_case")]
#[schemars(transform = accept_upper_case)]
pub enum BackendProtocol {
    /// Plain HTTP to the backends.
    #[serde(alias = "HTTP")]
    Http,
    /// HTTPS to the backends.
    #[serde(alias = "HTTPS")]
    Https,
}

/// Backend health checking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate, JsonSchema)]
#[cfg_attr(test, derive(Arbitrary))]
#[serde(deny_unknown_fields)]
pub struct HealthCheck {
    /// Whether health checking is on.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// What a probe does; the vendor's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<HealthCheckKind>,
    /// Seconds between probes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(range(min = 1, max = 300, message = "must be 1 to 300 seconds"))]
    pub interval_secs: Option<u32>,
    /// Seconds a probe may take; must be less than the interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(range(min = 1, max = 60, message = "must be 1 to 60 seconds"))]
    pub timeout_secs: Option<u32>,
    /// Consecutive successes that mark a backend healthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(range(min = 1, max = 10, message = "must be 1 to 10"))]
    pub healthy_threshold: Option<u32>,
    /// Consecutive failures that mark a backend unhealthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(range(min = 1, max = 10, message = "must be 1 to 10"))]
    pub unhealthy_threshold: Option<u32>,
    /// Port probed; the backend's own port when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(range(min = PORT_MIN, max = PORT_MAX, message = "must be a port from 1 to 65535"))]
    pub port: Option<u32>,
    /// HTTP probe details (with `kind = "http"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(nested)]
    pub http: Option<HttpHealthCheck>,
    /// Payload probe details (with `kind = "custom"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(nested)]
    pub custom: Option<CustomHealthCheck>,
}

fn default_true() -> bool {
    true
}

/// What a health probe does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(test, derive(Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum HealthCheckKind {
    /// Open a TCP connection.
    Tcp,
    /// ICMP echo to the backend (UDP listeners).
    Ping,
    /// Send an HTTP request and check the status.
    Http,
    /// Send a payload and expect an answer (UDP, or TCP custom checks).
    Custom,
}

/// HTTP health probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate, JsonSchema)]
#[cfg_attr(test, derive(Arbitrary))]
#[serde(deny_unknown_fields)]
pub struct HttpHealthCheck {
    /// Path requested, starting with `/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(length(min = 1, max = 200, message = "must be 1 to 200 characters"))]
    #[cfg_attr(test, proptest(strategy = "crate::spec::arb::opt_text()"))]
    pub path: Option<String>,
    /// Host header sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(length(min = 1, max = 80, message = "must be 1 to 80 characters"))]
    #[cfg_attr(test, proptest(strategy = "crate::spec::arb::opt_text()"))]
    pub domain: Option<String>,
    /// Request method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<HttpMethod>,
    /// Status classes counted as healthy, e.g. `[2, 3]` for 2xx and 3xx.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(range(min = *STATUS_CLASSES.start(), max = *STATUS_CLASSES.end())))]
    #[cfg_attr(test, proptest(strategy = "proptest::collection::vec(0u8..8, 0..3)"))]
    pub healthy_status_classes: Vec<u8>,
}

/// The HTTP status classes a health check may count as healthy (1xx to
/// 5xx); checked by the validation and stated by the schema.
pub const STATUS_CLASSES: std::ops::RangeInclusive<u8> = 1..=5;

/// HTTP method of a health probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(test, derive(Arbitrary))]
#[serde(rename_all = "snake_case")]
#[schemars(transform = accept_upper_case)]
pub enum HttpMethod {
    /// HEAD request.
    #[serde(alias = "HEAD")]
    Head,
    /// GET request.
    #[serde(alias = "GET")]
    Get,
}

impl HttpMethod {
    /// The method as every vendor writes it on the wire (`HEAD`, `GET`).
    pub fn as_upper(self) -> &'static str {
        match self {
            HttpMethod::Head => "HEAD",
            HttpMethod::Get => "GET",
        }
    }

    /// The method a vendor answered (`HEAD`, `GET`, any case), if known.
    pub fn from_upper(word: &str) -> Option<HttpMethod> {
        match word.to_ascii_uppercase().as_str() {
            "HEAD" => Some(HttpMethod::Head),
            "GET" => Some(HttpMethod::Get),
            _ => None,
        }
    }
}

/// Payload health probe (send, expect).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate, JsonSchema)]
#[cfg_attr(test, derive(Arbitrary))]
#[serde(deny_unknown_fields)]
pub struct CustomHealthCheck {
    /// Payload sent to the backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(length(min = 1, max = 500, message = "must be 1 to 500 characters"))]
    #[cfg_attr(test, proptest(strategy = "crate::spec::arb::opt_text()"))]
    pub send: Option<String>,
    /// Answer expected from the backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(length(min = 1, max = 500, message = "must be 1 to 500 characters"))]
    #[cfg_attr(test, proptest(strategy = "crate::spec::arb::opt_text()"))]
    pub expect: Option<String>,
}

/// Load-balancing algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(test, derive(Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum Scheduler {
    /// Plain round robin.
    RoundRobin,
    /// Round robin weighted by backend weight.
    WeightedRoundRobin,
    /// Fewest active connections.
    LeastConnections,
    /// Lowest measured latency.
    LeastLatency,
}

/// Client affinity: keep a client on one backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate, JsonSchema)]
#[cfg_attr(test, derive(Arbitrary))]
#[serde(deny_unknown_fields)]
pub struct SessionPersistence {
    /// What identifies a client.
    #[serde(default)]
    pub by: AffinityKey,
    /// How long affinity lasts, where the vendor lets it be set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(range(min = 1, max = 86400, message = "must be 1 to 86400 seconds"))]
    pub timeout_secs: Option<u32>,
}

/// What identifies a client for affinity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(test, derive(Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum AffinityKey {
    /// The client's source IP address.
    #[default]
    SourceIp,
}

/// Connection timeouts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate, JsonSchema)]
#[cfg_attr(test, derive(Arbitrary))]
#[serde(deny_unknown_fields)]
pub struct Timeouts {
    /// Seconds an idle connection is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(range(min = 1, max = 3600, message = "must be 1 to 3600 seconds"))]
    pub idle_secs: Option<u32>,
    /// Seconds a backend may take to answer a request (layer 7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(range(min = 1, max = 3600, message = "must be 1 to 3600 seconds"))]
    pub request_secs: Option<u32>,
}

/// Source-address access control on a listener.
///
/// Both modes need at least one CIDR: the vendors read an empty allow list
/// as "allow everyone" (ALB's `AssociateAclsWithListener`), which is not
/// what an empty allow list says, so the neutral rules refuse it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Access {
    /// Whether the CIDRs are the only sources served or the ones refused.
    pub mode: AccessMode,
    /// Source networks in canonical CIDR form (`10.0.0.0/8`,
    /// `2001:db8::/32`; a single address is `/32` or `/128`), each once.
    /// Compared as a set: order does not matter.
    #[schemars(length(min = 1))]
    pub cidrs: Vec<String>,
}

/// What an [`Access`] list means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccessMode {
    /// Serve only clients whose address is in one of the CIDRs.
    Allow,
    /// Serve every client except those whose address is in one of the CIDRs.
    Deny,
}

impl fmt::Display for AccessMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AccessMode::Allow => "allow",
            AccessMode::Deny => "deny",
        })
    }
}

/// The canonical text of a CIDR (`10.0.0.0/8`, `2001:db8::/32`), or why
/// `text` is not one: an address and a prefix length within the family's
/// width, with no bits set past the prefix. Adapters compare read-back
/// entries in this form, so `10.0.0.1` from a vendor becomes `10.0.0.1/32`.
pub fn canonical_cidr(text: &str) -> std::result::Result<String, String> {
    let (addr, len) = match text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (text, None),
    };
    let ip: std::net::IpAddr = addr
        .parse()
        .map_err(|_| format!("`{text}` is not an IPv4 or IPv6 address with a prefix length"))?;
    let width: u8 = if ip.is_ipv4() { 32 } else { 128 };
    let len: u8 = match len {
        None => width,
        Some(l) => l
            .parse()
            .ok()
            .filter(|n| *n <= width && !l.starts_with('+'))
            .ok_or_else(|| format!("`{text}`: the prefix length must be 0 to {width}"))?,
    };
    let network = match ip {
        std::net::IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            std::net::IpAddr::V4((bits & mask).into())
        }
        std::net::IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let mask = if len == 0 { 0 } else { u128::MAX << (128 - len) };
            std::net::IpAddr::V6((bits & mask).into())
        }
    };
    if network != ip {
        return Err(format!(
            "`{text}` has address bits set past the prefix; the network is `{network}/{len}`"
        ));
    }
    Ok(format!("{network}/{len}"))
}

/// How the client's address reaches the backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(test, derive(Arbitrary))]
#[serde(deny_unknown_fields)]
pub struct ClientIp {
    /// The mechanism.
    pub mode: ClientIpMode,
    /// Which headers are added, with `mode = "headers"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<ForwardedHeaders>,
}

/// Mechanism that carries the client address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(test, derive(Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum ClientIpMode {
    /// Nothing is added; backends see the load balancer's address (or the
    /// vendor's transparent default).
    None,
    /// A PROXY protocol header precedes the stream (layer 4).
    ProxyProtocol,
    /// HTTP headers such as `X-Forwarded-For` (layer 7).
    Headers,
}

/// Headers a layer-7 listener adds. Unset means the vendor's default.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(test, derive(Arbitrary))]
#[serde(deny_unknown_fields)]
pub struct ForwardedHeaders {
    /// `X-Forwarded-For` with the client address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_forwarded_for: Option<bool>,
    /// What to do with an `X-Forwarded-For` the client sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_forwarded_for_mode: Option<ForwardedForMode>,
    /// `X-Forwarded-Proto` with the listener protocol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_forwarded_proto: Option<bool>,
    /// `X-Forwarded-Port` with the listener port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_forwarded_port: Option<bool>,
    /// `X-Forwarded-Host` with the requested host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_forwarded_host: Option<bool>,
    /// `X-Real-IP` with the client address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_real_ip: Option<bool>,
    /// The client's source port in a header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_source_port: Option<bool>,
}

/// Handling of an incoming `X-Forwarded-For` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(test, derive(Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum ForwardedForMode {
    /// Append the client address to what the client sent.
    Append,
    /// Drop what the client sent.
    Remove,
}

/// Vendor-only settings, one section per adapter (key = adapter API name).
///
/// The core cannot name vendors, so it keeps each section as parsed data;
/// the adapter that owns a key deserializes it into its typed options struct
/// (with unknown fields refused) during `check`. Keys that no compiled
/// adapter owns are reported by the facade.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct Extensions(pub BTreeMap<String, serde_json::Value>);

impl Extensions {
    /// Whether no section is present.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The raw section for `key`.
    pub fn get(&self, key: &str) -> Option<&serde_json::Value> {
        self.0.get(key)
    }

    /// Parse the section `key` into the adapter's typed options. `Ok(None)`
    /// when absent; on error, the message names the field inside the section.
    pub fn parse<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<Option<T>, String> {
        match self.0.get(key) {
            None => Ok(None),
            Some(v) => serde_path_to_error::deserialize::<_, T>(v.clone())
                .map(Some)
                .map_err(|e| {
                    let path = e.path().to_string();
                    if path == "." || path.is_empty() {
                        e.inner().to_string()
                    } else {
                        format!("{path}: {}", e.inner())
                    }
                }),
        }
    }

    /// Store a typed section under `key` (used when reading a listener back).
    pub fn insert<T: Serialize>(&mut self, key: &str, value: &T) {
        if let Ok(v) = serde_json::to_value(value) {
            self.0.insert(key.to_string(), v);
        }
    }
}

impl ListenerSpec {
    /// A minimal spec, for building in code: name, protocol, ports.
    pub fn new(name: impl Into<String>, protocol: Protocol, ports: Ports) -> Self {
        ListenerSpec {
            name: name.into(),
            description: None,
            protocol,
            ports,
            tls: None,
            forwarding: None,
            backend: None,
            routes: Vec::new(),
            health_check: None,
            scheduler: None,
            session_persistence: None,
            timeouts: None,
            client_ip: None,
            tags: BTreeMap::new(),
            enabled: None,
            access: None,
            extensions: Extensions::default(),
        }
    }

    /// Server certificate aliases (empty without TLS).
    pub fn server_certificates(&self) -> &[String] {
        self.tls.as_ref().map(|t| t.certificates.as_slice()).unwrap_or(&[])
    }

    /// Client CA aliases when mutual TLS is on.
    pub fn client_auth(&self) -> Option<&ClientAuth> {
        self.tls.as_ref().and_then(|t| t.client_auth.as_ref())
    }

    /// The same spec with one port, for vendors that make one listener per port.
    pub fn with_port(&self, port: u32) -> ListenerSpec {
        let mut s = self.clone();
        s.ports = Ports::Single(port);
        s
    }
}

#[cfg(test)]
pub(crate) mod arb {
    //! Strategies for property tests: strings that are plausible but include
    //! the awkward characters (quotes, backslashes, non-ASCII).
    use proptest::prelude::*;

    pub fn name() -> impl Strategy<Value = String> {
        prop_oneof!["[a-z][a-z0-9-]{0,20}", "\\PC{0,12}"]
    }
    pub fn opt_text() -> impl Strategy<Value = Option<String>> {
        proptest::option::of("\\PC{0,16}")
    }
    pub fn opt_alias() -> impl Strategy<Value = Option<String>> {
        proptest::option::of("[a-z][a-z0-9-]{0,10}")
    }
    pub fn aliases() -> impl Strategy<Value = Vec<String>> {
        proptest::collection::vec("[a-z][a-z0-9-]{0,10}", 0..3)
    }
}

#[cfg(test)]
mod schema_tests {
    use super::*;

    /// Every string the schema of `T` lists, per variant.
    fn spellings<T: JsonSchema>() -> Vec<Vec<String>> {
        let schema = schemars::schema_for!(T);
        schema
            .get("oneOf")
            .and_then(|v| v.as_array())
            .expect("a unit enum's schema is a oneOf")
            .iter()
            .map(|v| {
                v["enum"]
                    .as_array()
                    .expect("each variant lists its spellings")
                    .iter()
                    .map(|s| s.as_str().expect("a string").to_string())
                    .collect()
            })
            .collect()
    }

    fn parses<T: serde::de::DeserializeOwned>(s: &str) -> bool {
        serde_json::from_value::<T>(serde_json::Value::String(s.to_string())).is_ok()
    }

    #[test]
    fn every_spelling_the_schema_lists_is_accepted_by_serde() {
        for variant in spellings::<Protocol>() {
            assert_eq!(variant.len(), 2, "{variant:?}");
            for s in &variant {
                assert!(parses::<Protocol>(s), "schema lists {s} but the parser refuses it");
            }
        }
        for s in spellings::<BackendProtocol>().concat() {
            assert!(parses::<BackendProtocol>(&s), "{s}");
        }
        for s in spellings::<HttpMethod>().concat() {
            assert!(parses::<HttpMethod>(&s), "{s}");
        }
        assert_eq!(spellings::<Protocol>().len(), Protocol::ALL.len());
    }

    #[test]
    fn spellings_the_schema_does_not_list_are_refused_by_serde() {
        for s in ["Https", "hTTP", "tcp-ssl", "TCP-SSL", ""] {
            assert!(!parses::<Protocol>(s), "{s} parses but the schema refuses it");
        }
    }
}
