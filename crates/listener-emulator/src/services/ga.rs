//! Emulated Alibaba Cloud Global Accelerator (GA), API version `2019-11-20`:
//! the listener actions of one account.
//!
//! Accelerators come from seeds (`ga-…`); listeners (`lsr-…`) live in
//! memory. Every rule the `alibaba-ga` adapter checks before sending is
//! enforced here again with GA's own error code, so a raw request gets the
//! vendor's answer:
//!
//! | rule | code |
//! |---|---|
//! | protocol not tcp/udp/http/https; custom routing with http/https | `ProtocalIllegal.Listener` (GA's spelling) |
//! | HTTP/HTTPS with more than one port | `PortRanges.MustOne` |
//! | start above end, ports outside 1–65535, overlapping ranges | `PortRangeIllegal.Listener` |
//! | ports 65500–65535 | `SystemPort.Listener` |
//! | UDP ports 250, 4789, 4790 | `PortRangeIllegal.UDP` |
//! | more than 300 ports in several ranges | `PortRangeIllegal.Count` |
//! | a second >300-port listener of one protocol on an accelerator | `PortRangeIllegal.ExceedGaAbility` |
//! | shared port (TCP/HTTP/HTTPS among themselves, UDP with UDP or with HTTPS+http3) | `PortConflict.Listener` |
//! | more listeners than the accelerator's quota (50) | `QuotaExceeded.Listener` |
//! | more ports on a TCP/UDP listener than the port quota (30) | `QuotaExceeded.ListenerPort` |
//! | unknown accelerator / listener | `NotExist.Accelerator` / `NotExist.Listener` |
//! | a write while another listener of the accelerator is changing | `StateError.Accelerator` |
//! | a write to a listener that is itself changing | `NotActive.Listener` |
//! | same `ClientToken`, other parameters | `IdempotentParameterMismatch` |
//! | name, description, certificates, HttpVersion, SecurityPolicyId, timeouts, XForwardedForConfig, ClientAffinity, Type, RegionId outside their rules | `InvalidParameter` (GA documents no finer code) |
//! | required parameter left out (also HTTPS without a certificate) | `MissingParameter` |
//!
//! Asynchronous states follow [`Context::timing`]: a new listener is `init`
//! until the create delay has passed, then `active`; UpdateListener puts it
//! in `updating`, DeleteListener in `deleting` until it vanishes. States are
//! worked out lazily from the call's clock. GA has no failure state, so a
//! failed task ([`Context::fail_task`]) shows the way GA's would: a failed
//! create vanishes, a failed update returns to `active` with the old
//! configuration, a failed delete returns to `active`.
//!
//! Answers keep GA's quirks that clients must tolerate: `Protocol` comes
//! back upper case (`TCP`) though requests use lower case, and
//! `BackendPorts` and `DescribeListener`'s `CreateTime` are strings
//! (`ListListeners`' `CreateTime` is a number, as in the vendor's model).
//!
//! Access control lists (CreateAcl, AddEntriesToAcl, RemoveEntriesFromAcl,
//! DeleteAcl, AssociateAclsWithListener, DissociateAclsFromListener,
//! GetAcl, ListAcls) live in `ga_acl.rs`, with their rules.
//!
//! Endpoint groups, forwarding rules, additional certificates and the
//! admin resolve call live in `ga_routes.rs`, with their rules; a listener
//! with endpoint groups or forwarding rules left is not deleted
//! (`Exist.EndpointGroup`, `Exist.ForwardingRule`), and while any group or
//! rule of an accelerator is changing, its listeners are not written
//! either (`StateError.Accelerator`).
//!
//! Parameters GA does not have (`CaEnabled`, health-check settings, ...)
//! are ignored, as GA's gateway ignores parameters an action does not
//! declare. The listener's `ProxyProtocol` is deprecated (endpoint groups
//! carry client-IP preservation now) but still accepted by CreateListener
//! and UpdateListener and still sent by Terraform: it is kept and
//! returned by DescribeListener.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use crate::idempotency::ClientTokens;

#[path = "ga_acl.rs"]
mod acl;
#[path = "ga_routes.rs"]
pub mod routes;
use crate::service::{ApiError, Call, Context, Family, InstanceSeed, Service};

/// GA's only API region.
const REGION: &str = "cn-hangzhou";
/// GA's default quota of listeners per accelerator.
pub const DEFAULT_LISTENER_QUOTA: usize = 50;
/// GA's default quota of ports per TCP/UDP listener.
pub const DEFAULT_PORT_QUOTA: u64 = 30;
/// Port count above which a listener is a "huge port" listener.
const HUGE_PORTS: u64 = 300;
const SECURITY_POLICIES: [&str; 5] = [
    "tls_cipher_policy_1_0",
    "tls_cipher_policy_1_1",
    "tls_cipher_policy_1_2",
    "tls_cipher_policy_1_2_strict",
    "tls_cipher_policy_1_2_strict_with_1_3",
];
const HTTP_VERSIONS: [&str; 3] = ["http1.1", "http2", "http3"];
const MAX_PAGE_SIZE: u32 = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proto {
    Tcp,
    Udp,
    Http,
    Https,
}

impl Proto {
    fn parse(s: &str) -> Option<Proto> {
        match s.to_ascii_lowercase().as_str() {
            "tcp" => Some(Proto::Tcp),
            "udp" => Some(Proto::Udp),
            "http" => Some(Proto::Http),
            "https" => Some(Proto::Https),
            _ => None,
        }
    }

    /// How DescribeListener spells it: upper case.
    fn answer(self) -> &'static str {
        match self {
            Proto::Tcp => "TCP",
            Proto::Udp => "UDP",
            Proto::Http => "HTTP",
            Proto::Https => "HTTPS",
        }
    }

    fn layer7(self) -> bool {
        matches!(self, Proto::Http | Proto::Https)
    }

    fn idle_range(self) -> (u32, u32) {
        match self {
            Proto::Tcp => (10, 900),
            Proto::Udp => (10, 20),
            Proto::Http | Proto::Https => (1, 60),
        }
    }

    fn default_idle(self) -> u32 {
        match self {
            Proto::Tcp => 900,
            Proto::Udp => 20,
            Proto::Http | Proto::Https => 15,
        }
    }
}

/// The five `XForwardedForConfig` switches, in GA's names.
const XFF_KEYS: [&str; 5] = [
    "XForwardedForGaIdEnabled",
    "XForwardedForGaApEnabled",
    "XForwardedForProtoEnabled",
    "XForwardedForPortEnabled",
    "XRealIpEnabled",
];

/// A listener's configuration, as GA keeps it.
#[derive(Debug, Clone, PartialEq)]
struct Config {
    name: String,
    description: String,
    protocol: Proto,
    ranges: Vec<(u32, u32)>,
    certificate: Option<String>,
    http_version: Option<String>,
    security_policy: Option<String>,
    client_affinity: String,
    idle_timeout: u32,
    request_timeout: Option<u32>,
    xff: [bool; 5],
    kind: String,
    proxy_protocol: bool,
    /// ACLs in use (AssociateAclsWithListener), in `ga_acl.rs`.
    acls: acl::AclUse,
    /// Additional certificates, domain → certificate ID (`ga_routes.rs`).
    additional: BTreeMap<String, String>,
}

impl Config {
    fn port_count(&self) -> u64 {
        self.ranges.iter().map(|(f, t)| u64::from(t - f) + 1).sum()
    }

    fn http3(&self) -> bool {
        self.protocol == Proto::Https && self.http_version.as_deref() == Some("http3")
    }
}

#[derive(Debug, Clone)]
enum Phase {
    Active,
    /// `init` until `until`; gone instead if the task fails.
    Creating {
        until: Instant,
        fail: bool,
    },
    /// `updating` until `until`; back to `previous` if the task fails.
    Updating {
        until: Instant,
        previous: Option<Box<Config>>,
    },
    /// `deleting` until `until`; back to `active` if the task fails.
    Deleting {
        until: Instant,
        fail: bool,
    },
}

#[derive(Debug, Clone)]
struct Listener {
    id: String,
    accelerator: String,
    seq: u64,
    created_ms: u128,
    config: Config,
    phase: Phase,
}

impl Listener {
    fn state(&self) -> &'static str {
        match self.phase {
            Phase::Active => "active",
            Phase::Creating { .. } => "init",
            Phase::Updating { .. } => "updating",
            Phase::Deleting { .. } => "deleting",
        }
    }

    /// A `ListListeners` item: `DescribeListener`'s answer, except that
    /// `CreateTime` is a number there (the SDKs' models differ: `int` in
    /// `ListListenersResponseBodyListeners`, `str` in
    /// `DescribeListenerResponseBody`).
    fn list_answer(&self) -> Value {
        let mut v = self.answer();
        v["CreateTime"] = json!(self.created_ms);
        // The SDK's ListListeners model has no ACL fields: only
        // DescribeListener reports them (the compat suite checks this).
        if let Some(m) = v.as_object_mut() {
            m.remove("RelatedAcls");
            m.remove("AclType");
        }
        v
    }

    fn answer(&self) -> Value {
        let c = &self.config;
        let mut m = Map::new();
        m.insert("ListenerId".into(), json!(self.id));
        m.insert("AcceleratorId".into(), json!(self.accelerator));
        m.insert("Name".into(), json!(c.name));
        m.insert("Description".into(), json!(c.description));
        m.insert("Protocol".into(), json!(c.protocol.answer()));
        m.insert("State".into(), json!(self.state()));
        m.insert(
            "PortRanges".into(),
            Value::Array(
                c.ranges
                    .iter()
                    .map(|(f, t)| json!({"FromPort": f, "ToPort": t}))
                    .collect(),
            ),
        );
        m.insert("ClientAffinity".into(), json!(c.client_affinity));
        m.insert("IdleTimeout".into(), json!(c.idle_timeout));
        m.insert("Type".into(), json!(c.kind));
        m.insert("ProxyProtocol".into(), json!(c.proxy_protocol));
        m.insert("ServiceManaged".into(), json!(false));
        let (related, acl_type) = acl::describe_parts(self);
        m.insert("RelatedAcls".into(), related);
        if let Some(t) = acl_type {
            m.insert("AclType".into(), json!(t));
        }
        // GA's quirk: this timestamp travels as a string.
        m.insert("CreateTime".into(), json!(self.created_ms.to_string()));
        if c.protocol.layer7() {
            if let Some(rt) = c.request_timeout {
                m.insert("RequestTimeout".into(), json!(rt));
            }
            let xff: Map<String, Value> = XFF_KEYS
                .iter()
                .zip(c.xff)
                .map(|(k, v)| ((*k).to_string(), json!(v)))
                .collect();
            m.insert("XForwardedForConfig".into(), Value::Object(xff));
            // Backend ports mirror the listener port; GA sends them as strings.
            let backend: Vec<Value> = c
                .ranges
                .iter()
                .map(|(f, t)| json!({"FromPort": f.to_string(), "ToPort": t.to_string()}))
                .collect();
            m.insert("BackendPorts".into(), Value::Array(backend));
        }
        if c.protocol == Proto::Https {
            let certs: Vec<Value> = c
                .certificate
                .iter()
                .map(|id| json!({"Id": id, "Type": "Server"}))
                .collect();
            m.insert("Certificates".into(), Value::Array(certs));
            if let Some(v) = &c.http_version {
                m.insert("HttpVersion".into(), json!(v));
            }
            if let Some(p) = &c.security_policy {
                m.insert("SecurityPolicyId".into(), json!(p));
            }
        } else {
            m.insert("Certificates".into(), json!([]));
        }
        Value::Object(m)
    }
}

#[derive(Debug, Default)]
struct State {
    accelerators: BTreeMap<String, ()>,
    listeners: BTreeMap<String, Listener>,
    /// Access control lists of the account (`ga_acl.rs`).
    acls: BTreeMap<String, acl::Acl>,
    /// Endpoint groups and forwarding rules (`ga_routes.rs`).
    routes: routes::Routes,
    tokens: ClientTokens,
    next: u64,
}

impl State {
    /// Finish whatever asynchronous work is due at `now`.
    fn settle(&mut self, now: Instant) {
        let mut gone = Vec::new();
        for (id, l) in self.listeners.iter_mut() {
            match &mut l.phase {
                Phase::Creating { until, fail } if now >= *until => {
                    if *fail {
                        gone.push(id.clone());
                    } else {
                        l.phase = Phase::Active;
                    }
                }
                Phase::Updating { until, previous } if now >= *until => {
                    if let Some(old) = previous.take() {
                        l.config = *old;
                    }
                    l.phase = Phase::Active;
                }
                Phase::Deleting { until, fail } if now >= *until => {
                    if *fail {
                        l.phase = Phase::Active;
                    } else {
                        gone.push(id.clone());
                    }
                }
                _ => {}
            }
        }
        for id in gone {
            self.listeners.remove(&id);
        }
        self.settle_routes(now);
    }

    fn on(&self, accelerator: &str) -> impl Iterator<Item = &Listener> {
        let accelerator = accelerator.to_string();
        self.listeners.values().filter(move |l| l.accelerator == accelerator)
    }

    /// `lsr-` and 17 lower-case letters and digits, like GA's IDs.
    fn new_id(&mut self) -> String {
        loop {
            self.next += 1;
            let mut x = self.next.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let mut id = String::from("lsr-");
            for _ in 0..17 {
                x ^= x >> 31;
                x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
                x ^= x >> 29;
                let d = (x % 36) as u32;
                id.push(char::from_digit(d, 36).unwrap_or('0'));
            }
            if !self.listeners.contains_key(&id) {
                return id;
            }
        }
    }
}

/// The emulated GA service.
#[derive(Debug)]
pub struct Ga {
    state: Mutex<State>,
    listener_quota: usize,
    port_quota: u64,
    default_group_quota: usize,
    virtual_group_quota: usize,
    endpoint_quota: usize,
    rule_quota: usize,
    certificate_quota: usize,
}

impl Default for Ga {
    fn default() -> Self {
        Ga::new()
    }
}

impl Ga {
    /// An empty GA with the default quotas (50 listeners per accelerator,
    /// 30 ports per TCP/UDP listener).
    pub fn new() -> Self {
        Ga {
            state: Mutex::new(State::default()),
            listener_quota: DEFAULT_LISTENER_QUOTA,
            port_quota: DEFAULT_PORT_QUOTA,
            default_group_quota: routes::DEFAULT_GROUPS_PER_LISTENER,
            virtual_group_quota: routes::VIRTUAL_GROUPS_PER_LISTENER,
            endpoint_quota: routes::ENDPOINTS_PER_GROUP,
            rule_quota: routes::RULES_PER_LISTENER,
            certificate_quota: routes::CERTIFICATES_PER_LISTENER,
        }
    }

    /// The same GA with another quota of additional certificates per
    /// listener (3 by default; raised on request).
    pub fn with_certificate_quota(mut self, certificates: usize) -> Self {
        self.certificate_quota = certificates;
        self
    }

    /// The same GA with another quota of virtual endpoint groups per
    /// listener (10 by default).
    pub fn with_virtual_group_quota(mut self, groups: usize) -> Self {
        self.virtual_group_quota = groups;
        self
    }

    /// The same GA with a raised (or lowered) per-listener port quota, as an
    /// account whose quota was adjusted would have: needed to make
    /// listeners of more than 300 ports at all.
    pub fn with_port_quota(mut self, ports: u64) -> Self {
        self.port_quota = ports;
        self
    }

    /// The same GA with another listener quota per accelerator.
    pub fn with_listener_quota(mut self, listeners: usize) -> Self {
        self.listener_quota = listeners;
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

// ---------------------------------------------------------------------------
// Parameter reading
// ---------------------------------------------------------------------------

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new("InvalidParameter", message)
}

fn text<'a>(params: &'a Value, key: &str) -> Option<&'a str> {
    params.get(key).and_then(Value::as_str)
}

fn required<'a>(params: &'a Value, key: &str) -> Result<&'a str, ApiError> {
    text(params, key)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::missing_parameter(key))
}

fn integer(params: &Value, key: &str) -> Result<Option<u32>, ApiError> {
    match text(params, key) {
        None => Ok(None),
        Some(s) => s
            .trim()
            .parse::<u32>()
            .map(Some)
            .map_err(|_| invalid(format!("The parameter {key} must be an integer, not `{s}`."))),
    }
}

fn boolean(value: &Value, key: &str) -> Result<Option<bool>, ApiError> {
    match value.get(key).and_then(Value::as_str) {
        None => Ok(None),
        Some(s) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(s) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(s) => Err(invalid(format!(
            "The parameter {key} must be true or false, not `{s}`."
        ))),
    }
}

fn check_region(params: &Value) -> Result<(), ApiError> {
    let region = required(params, "RegionId")?;
    if region != REGION {
        return Err(invalid(format!(
            "The specified RegionId `{region}` is invalid; GA is served from {REGION} only."
        )));
    }
    Ok(())
}

fn is_chinese(c: char) -> bool {
    matches!(c,
        '\u{4E00}'..='\u{9FFF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2A6DF}')
}

/// GA's current naming rule: 1–128 characters, a letter or Chinese
/// character first, then letters, Chinese characters, digits, `.`, `_`, `-`.
fn check_name(name: &str) -> Result<(), ApiError> {
    let n = name.chars().count();
    let mut it = name.chars();
    let first = it.next().is_some_and(|c| c.is_ascii_alphabetic() || is_chinese(c));
    let rest = it.all(|c| c.is_ascii_alphanumeric() || is_chinese(c) || matches!(c, '.' | '_' | '-'));
    if n == 0 || n > 128 || !first || !rest {
        return Err(invalid("The specified Name is invalid."));
    }
    Ok(())
}

fn check_description(d: &str) -> Result<(), ApiError> {
    if d.chars().count() > 200 || d.starts_with("http://") || d.starts_with("https://") {
        return Err(invalid("The specified Description is invalid."));
    }
    Ok(())
}

/// Read `PortRanges.N` and apply the per-listener port rules.
fn parse_ranges(params: &Value, protocol: Proto) -> Result<Vec<(u32, u32)>, ApiError> {
    let illegal = || {
        ApiError::new(
            "PortRangeIllegal.Listener",
            "The specified listener port range is invalid.",
        )
    };
    let items = match params.get("PortRanges") {
        Some(Value::Array(items)) if !items.is_empty() => items,
        Some(_) => return Err(illegal()),
        None => return Err(ApiError::missing_parameter("PortRanges")),
    };
    let mut ranges = Vec::with_capacity(items.len());
    for item in items {
        let from = integer(item, "FromPort").map_err(|_| illegal())?;
        let to = integer(item, "ToPort").map_err(|_| illegal())?;
        let (Some(from), Some(to)) = (from, to) else {
            return Err(illegal());
        };
        if from == 0 || to == 0 || from > 65535 || to > 65535 || from > to {
            return Err(illegal());
        }
        if to >= 65500 {
            return Err(ApiError::new(
                "SystemPort.Listener",
                "Ports 65500-65535 are system reserved ports.",
            ));
        }
        ranges.push((from, to));
    }
    if protocol.layer7() && (ranges.len() != 1 || ranges[0].0 != ranges[0].1) {
        return Err(ApiError::new(
            "PortRanges.MustOne",
            "The portRanges must be one for HTTPS and HTTP type listener.",
        ));
    }
    if protocol == Proto::Udp
        && ranges
            .iter()
            .any(|(f, t)| [250, 4789, 4790].iter().any(|p| f <= p && p <= t))
    {
        return Err(ApiError::new(
            "PortRangeIllegal.UDP",
            "UDP ports 250, 4789, and 4790 are system reserved ports.",
        ));
    }
    for (i, a) in ranges.iter().enumerate() {
        if ranges.iter().take(i).any(|b| a.0 <= b.1 && b.0 <= a.1) {
            return Err(illegal());
        }
    }
    let count: u64 = ranges.iter().map(|(f, t)| u64::from(t - f) + 1).sum();
    if count > HUGE_PORTS && ranges.len() > 1 {
        return Err(ApiError::new(
            "PortRangeIllegal.Count",
            "The hugePort listener only supports one port range.",
        ));
    }
    Ok(ranges)
}

/// The configuration a CreateListener (`base = None`) or UpdateListener
/// (`base = Some(current)`) asks for, with every per-listener rule applied.
///
/// On a protocol change, settings the new protocol does not have are
/// dropped and those it needs get GA's defaults unless the call sets them.
fn apply(params: &Value, base: Option<&Config>) -> Result<Config, ApiError> {
    let protocol = match text(params, "Protocol") {
        Some(p) => Proto::parse(p).ok_or_else(|| {
            ApiError::new(
                "ProtocalIllegal.Listener",
                "The specified listener protocol is invalid.",
            )
        })?,
        None => base.map_or(Proto::Tcp, |b| b.protocol),
    };
    let changed_protocol = base.is_some_and(|b| b.protocol != protocol);

    let kind = match base {
        // UpdateListener has no Type parameter: the routing type is fixed.
        Some(b) => b.kind.clone(),
        None => match text(params, "Type") {
            None => "Standard".to_string(),
            Some(t) if t == "Standard" || t == "CustomRouting" => t.to_string(),
            Some(t) => return Err(invalid(format!("The specified Type `{t}` is invalid."))),
        },
    };
    if kind == "CustomRouting" && protocol.layer7() {
        return Err(ApiError::new(
            "ProtocalIllegal.Listener",
            "The specified listener protocol is invalid: custom routing listeners are TCP or UDP.",
        ));
    }

    let ranges = match (params.get("PortRanges"), base) {
        (None, Some(b)) => {
            // Ports kept: they must still suit the (new) protocol.
            let kept = json!({
                "PortRanges": b.ranges.iter().map(|(f, t)| json!({"FromPort": f.to_string(), "ToPort": t.to_string()})).collect::<Vec<_>>()
            });
            parse_ranges(&kept, protocol)?
        }
        _ => parse_ranges(params, protocol)?,
    };

    let name = match text(params, "Name") {
        Some(n) => {
            check_name(n)?;
            n.to_string()
        }
        None => base.map(|b| b.name.clone()).unwrap_or_default(),
    };
    let description = match text(params, "Description") {
        Some(d) => {
            check_description(d)?;
            d.to_string()
        }
        None => base.map(|b| b.description.clone()).unwrap_or_default(),
    };
    let client_affinity = match text(params, "ClientAffinity") {
        Some(a) if a.is_empty() || a == "NONE" => "NONE".to_string(),
        Some("SOURCE_IP") => "SOURCE_IP".to_string(),
        Some(a) => return Err(invalid(format!("The specified ClientAffinity `{a}` is invalid."))),
        None => base.map_or_else(|| "NONE".to_string(), |b| b.client_affinity.clone()),
    };

    // Certificates: HTTPS only, exactly one.
    let certificate = match params.get("Certificates") {
        Some(Value::Array(items)) => {
            if protocol != Proto::Https {
                return Err(invalid("Certificates apply to HTTPS listeners only."));
            }
            if items.len() != 1 {
                return Err(invalid("An HTTPS listener takes exactly one default certificate."));
            }
            let id = text(&items[0], "Id").filter(|s| !s.is_empty());
            Some(
                id.ok_or_else(|| ApiError::missing_parameter("Certificates.1.Id"))?
                    .to_string(),
            )
        }
        Some(_) => return Err(invalid("The parameter Certificates is malformed.")),
        None if protocol == Proto::Https => base
            .and_then(|b| b.certificate.clone())
            .map(Some)
            .ok_or_else(|| ApiError::missing_parameter("Certificates.1.Id"))?,
        None => None,
    };

    let https_only = |key: &str, allowed: &[&str], default: Option<&str>, kept: Option<&String>| match text(params, key)
    {
        Some(v) => {
            if protocol != Proto::Https {
                return Err(invalid(format!("{key} applies to HTTPS listeners only.")));
            }
            if !allowed.contains(&v) {
                return Err(invalid(format!("The specified {key} `{v}` is invalid.")));
            }
            Ok(Some(v.to_string()))
        }
        None if protocol == Proto::Https => Ok(kept.cloned().or(default.map(str::to_string))),
        None => Ok(None),
    };
    let keep = |f: fn(&Config) -> Option<&String>| if changed_protocol { None } else { base.and_then(f) };
    let http_version = https_only(
        "HttpVersion",
        &HTTP_VERSIONS,
        Some("http2"),
        keep(|b| b.http_version.as_ref()),
    )?;
    let security_policy = https_only(
        "SecurityPolicyId",
        &SECURITY_POLICIES,
        Some("tls_cipher_policy_1_0"),
        keep(|b| b.security_policy.as_ref()),
    )?;

    let idle_timeout = match integer(params, "IdleTimeout")? {
        Some(v) => {
            let (lo, hi) = protocol.idle_range();
            if !(lo..=hi).contains(&v) {
                return Err(invalid(format!(
                    "The specified IdleTimeout {v} is invalid; {lo} to {hi} seconds for this protocol."
                )));
            }
            v
        }
        None => match base {
            Some(b) if !changed_protocol => b.idle_timeout,
            _ => protocol.default_idle(),
        },
    };
    let request_timeout = match integer(params, "RequestTimeout")? {
        Some(v) => {
            if !protocol.layer7() {
                return Err(invalid("RequestTimeout applies to HTTP and HTTPS listeners only."));
            }
            if !(1..=180).contains(&v) {
                return Err(invalid(format!(
                    "The specified RequestTimeout {v} is invalid; 1 to 180 seconds."
                )));
            }
            Some(v)
        }
        None if protocol.layer7() => Some(base.and_then(|b| b.request_timeout).unwrap_or(60)),
        None => None,
    };

    let mut xff = match base {
        Some(b) if protocol.layer7() => b.xff,
        _ => [false; 5],
    };
    if let Some(config) = params.get("XForwardedForConfig") {
        if !protocol.layer7() {
            return Err(invalid("XForwardedForConfig applies to HTTP and HTTPS listeners only."));
        }
        for (i, key) in XFF_KEYS.iter().enumerate() {
            if let Some(b) = boolean(config, key)? {
                xff[i] = b;
            }
        }
    }

    let proxy_protocol = match boolean(params, "ProxyProtocol")? {
        Some(v) => v,
        None => base.is_some_and(|b| b.proxy_protocol),
    };

    Ok(Config {
        name,
        description,
        protocol,
        ranges,
        certificate,
        http_version,
        security_policy,
        client_affinity,
        idle_timeout,
        request_timeout,
        xff,
        kind,
        proxy_protocol,
        acls: base.map(|b| b.acls.clone()).unwrap_or_default(),
        // Additional certificates stay while the listener stays HTTPS.
        additional: base
            .filter(|_| protocol == Proto::Https)
            .map(|b| b.additional.clone())
            .unwrap_or_default(),
    })
}

/// Whether two listeners of one accelerator may not share a port.
fn collide(a: &Config, b: &Config) -> bool {
    let spaces = match (a.protocol, b.protocol) {
        (Proto::Udp, Proto::Udp) => true,
        (Proto::Udp, Proto::Https) => b.http3(),
        (Proto::Https, Proto::Udp) => a.http3(),
        (Proto::Udp, _) | (_, Proto::Udp) => false,
        _ => true,
    };
    spaces
        && a.ranges
            .iter()
            .any(|x| b.ranges.iter().any(|y| x.0 <= y.1 && y.0 <= x.1))
}

impl Ga {
    /// Rules between `config` and the other listeners of `accelerator`.
    fn check_against_others(
        &self,
        state: &State,
        accelerator: &str,
        config: &Config,
        itself: Option<&str>,
    ) -> Result<(), ApiError> {
        let others: Vec<&Listener> = state
            .on(accelerator)
            .filter(|l| Some(l.id.as_str()) != itself)
            .collect();
        if let Some(o) = others.iter().find(|o| o.config.kind != config.kind) {
            return Err(invalid(format!(
                "Every listener of an accelerator has the same Type; {} is {}.",
                o.id, o.config.kind
            )));
        }
        if config.port_count() > HUGE_PORTS
            && others
                .iter()
                .any(|o| o.config.protocol == config.protocol && o.config.port_count() > HUGE_PORTS)
        {
            return Err(ApiError::new(
                "PortRangeIllegal.ExceedGaAbility",
                "The listener port range is invalid. For each accelerator instance, you can only create a listener \
                 with port range over 300 for each protocol (TCP and UDP).",
            ));
        }
        if others.iter().any(|o| collide(&o.config, config)) {
            return Err(ApiError::new(
                "PortConflict.Listener",
                "The listener port configuration is in conflict.",
            ));
        }
        if matches!(config.protocol, Proto::Tcp | Proto::Udp) && config.port_count() > self.port_quota {
            return Err(ApiError::new(
                "QuotaExceeded.ListenerPort",
                "The maximum number of listener ports is exceeded.",
            ));
        }
        Ok(())
    }

    /// `StateError.Accelerator` while any listener of the accelerator other
    /// than `itself` has unfinished work: GA changes one at a time.
    fn check_idle(state: &State, accelerator: &str, itself: Option<&str>) -> Result<(), ApiError> {
        let busy = state
            .on(accelerator)
            .any(|l| Some(l.id.as_str()) != itself && !matches!(l.phase, Phase::Active))
            || state.routes_busy(accelerator);
        if busy {
            return Err(ApiError::new(
                "StateError.Accelerator",
                "The state of the accelerated instance is invalid.",
            ));
        }
        Ok(())
    }

    fn create(&self, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
        let p = &call.params;
        check_region(p)?;
        let accelerator = required(p, "AcceleratorId")?.to_string();
        let mut state = self.lock();
        state.settle(call.now);
        if let Some(answer) = state.tokens.replay(call)? {
            return Ok(answer);
        }
        if !state.accelerators.contains_key(&accelerator) {
            return Err(ApiError::new(
                "NotExist.Accelerator",
                "The accelerated instance does not exist.",
            ));
        }
        Self::check_idle(&state, &accelerator, None)?;
        let config = apply(p, None)?;
        if state.on(&accelerator).count() >= self.listener_quota {
            return Err(ApiError::new(
                "QuotaExceeded.Listener",
                "The maximum number of listeners is exceeded.",
            ));
        }
        self.check_against_others(&state, &accelerator, &config, None)?;
        let id = state.new_id();
        let seq = state.next;
        let fail = ctx.fail_task();
        let listener = Listener {
            id: id.clone(),
            accelerator,
            seq,
            created_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0),
            config,
            phase: Phase::Creating {
                until: call.now + ctx.timing().create,
                fail,
            },
        };
        state.listeners.insert(id.clone(), listener);
        let answer = json!({ "ListenerId": id });
        state.tokens.remember(call, &answer);
        Ok(answer)
    }

    fn describe(&self, call: &Call) -> Result<Value, ApiError> {
        check_region(&call.params)?;
        let id = required(&call.params, "ListenerId")?;
        let mut state = self.lock();
        state.settle(call.now);
        state
            .listeners
            .get(id)
            .map(Listener::answer)
            .ok_or_else(not_exist_listener)
    }

    fn list(&self, call: &Call) -> Result<Value, ApiError> {
        let p = &call.params;
        check_region(p)?;
        let page = integer(p, "PageNumber")?.unwrap_or(1).max(1);
        let size = integer(p, "PageSize")?.unwrap_or(10);
        if size == 0 || size > MAX_PAGE_SIZE {
            return Err(invalid(format!(
                "The specified PageSize {size} is invalid; 1 to {MAX_PAGE_SIZE}."
            )));
        }
        let protocol = match text(p, "Protocol") {
            Some(s) => Some(Proto::parse(s).ok_or_else(|| {
                ApiError::new(
                    "ProtocalIllegal.Listener",
                    "The specified listener protocol is invalid.",
                )
            })?),
            None => None,
        };
        let mut state = self.lock();
        state.settle(call.now);
        let accelerator = text(p, "AcceleratorId");
        if let Some(a) = accelerator {
            if !state.accelerators.contains_key(a) {
                return Err(ApiError::new(
                    "NotExist.Accelerator",
                    "The accelerated instance does not exist.",
                ));
            }
        }
        let mut matching: Vec<&Listener> = state
            .listeners
            .values()
            .filter(|l| accelerator.is_none_or(|a| l.accelerator == a))
            .filter(|l| protocol.is_none_or(|p| l.config.protocol == p))
            .collect();
        matching.sort_by_key(|l| l.seq);
        let total = matching.len();
        let skip = (page as usize - 1).saturating_mul(size as usize);
        let items: Vec<Value> = matching
            .into_iter()
            .skip(skip)
            .take(size as usize)
            .map(Listener::list_answer)
            .collect();
        Ok(json!({
            "Listeners": items,
            "TotalCount": total,
            "PageNumber": page,
            "PageSize": size,
        }))
    }

    fn update(&self, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
        let p = &call.params;
        check_region(p)?;
        let id = required(p, "ListenerId")?.to_string();
        let mut state = self.lock();
        state.settle(call.now);
        if let Some(answer) = state.tokens.replay(call)? {
            return Ok(answer);
        }
        let current = state.listeners.get(&id).cloned().ok_or_else(not_exist_listener)?;
        if !matches!(current.phase, Phase::Active) {
            return Err(ApiError::new(
                "NotActive.Listener",
                "The state of the listener is not active.",
            ));
        }
        Self::check_idle(&state, &current.accelerator, Some(&id))?;
        let config = apply(p, Some(&current.config))?;
        self.check_against_others(&state, &current.accelerator, &config, Some(&id))?;
        let fail = ctx.fail_task();
        let until = call.now + ctx.timing().update;
        if let Some(l) = state.listeners.get_mut(&id) {
            let previous = fail.then(|| Box::new(l.config.clone()));
            l.config = config;
            l.phase = Phase::Updating { until, previous };
        }
        let answer = json!({});
        state.tokens.remember(call, &answer);
        Ok(answer)
    }

    fn delete(&self, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
        let p = &call.params;
        let id = required(p, "ListenerId")?.to_string();
        let accelerator = required(p, "AcceleratorId")?.to_string();
        let mut state = self.lock();
        state.settle(call.now);
        if let Some(answer) = state.tokens.replay(call)? {
            return Ok(answer);
        }
        if !state.accelerators.contains_key(&accelerator) {
            return Err(ApiError::new(
                "NotExist.Accelerator",
                "The accelerated instance does not exist.",
            ));
        }
        let current = state
            .listeners
            .get(&id)
            .filter(|l| l.accelerator == accelerator)
            .cloned()
            .ok_or_else(not_exist_listener)?;
        if !matches!(current.phase, Phase::Active) {
            return Err(ApiError::new(
                "NotActive.Listener",
                "The state of the listener is not active.",
            ));
        }
        Self::check_idle(&state, &accelerator, Some(&id))?;
        state.routes_left(&id)?;
        let fail = ctx.fail_task();
        let until = call.now + ctx.timing().delete;
        if let Some(l) = state.listeners.get_mut(&id) {
            l.phase = Phase::Deleting { until, fail };
        }
        let answer = json!({});
        state.tokens.remember(call, &answer);
        Ok(answer)
    }
}

fn not_exist_listener() -> ApiError {
    ApiError::new("NotExist.Listener", "The listener does not exist.")
}

impl Service for Ga {
    fn family(&self) -> Family {
        Family::Alibaba
    }

    fn version(&self) -> &'static str {
        "2019-11-20"
    }

    fn name(&self) -> &'static str {
        "ga"
    }

    fn seed(&self, instance: InstanceSeed) {
        self.lock().accelerators.insert(instance.id, ());
    }

    fn handle(&self, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
        match call.action.as_str() {
            "CreateListener" => self.create(ctx, call),
            "DescribeListener" => self.describe(call),
            "ListListeners" => self.list(call),
            "UpdateListener" => self.update(ctx, call),
            "DeleteListener" => self.delete(ctx, call),
            "CreateAcl" => self.create_acl(ctx, call),
            "AddEntriesToAcl" => self.change_acl_entries(ctx, call, true),
            "RemoveEntriesFromAcl" => self.change_acl_entries(ctx, call, false),
            "DeleteAcl" => self.delete_acl(ctx, call),
            "AssociateAclsWithListener" => self.acl_association(ctx, call, true),
            "DissociateAclsFromListener" => self.acl_association(ctx, call, false),
            "GetAcl" => self.get_acl(call),
            "ListAcls" => self.list_acls(call),
            "CreateEndpointGroup" => self.create_group(ctx, call),
            "CreateEndpointGroups" => self.create_groups(ctx, call),
            "UpdateEndpointGroup" => self.update_group(ctx, call),
            "DeleteEndpointGroup" => self.delete_group(ctx, call),
            "DescribeEndpointGroup" => self.describe_group(call),
            "ListEndpointGroups" => self.list_groups(call),
            "CreateForwardingRules" => self.create_rules(ctx, call),
            "UpdateForwardingRules" => self.update_rules(ctx, call),
            "DeleteForwardingRules" => self.delete_rules(ctx, call),
            "ListForwardingRules" => self.list_rules(call),
            "AssociateAdditionalCertificatesWithListener" => self.associate_certificates(ctx, call),
            "UpdateAdditionalCertificateWithListener" => self.update_certificate(ctx, call),
            "DissociateAdditionalCertificatesWithListener" | "DissociateAdditionalCertificatesFromListener" => {
                self.dissociate_certificates(ctx, call)
            }
            "ListListenerCertificates" => self.list_certificates(call),
            other => Err(ApiError::unknown_action(Family::Alibaba, other)),
        }
    }

    fn resolve(&self, query: &crate::service::ResolveQuery, now: Instant) -> Option<Result<Value, ApiError>> {
        Some(self.resolve_request(query, now))
    }

    fn listener_counts(&self) -> BTreeMap<String, usize> {
        let mut state = self.lock();
        state.settle(Instant::now());
        let mut counts: BTreeMap<String, usize> = state.accelerators.keys().map(|a| (a.clone(), 0)).collect();
        for l in state.listeners.values() {
            *counts.entry(l.accelerator.clone()).or_insert(0) += 1;
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ManualContext;
    use crate::service::Timing;
    use std::time::Duration;

    const ACC: &str = "ga-bp1odcab8tmno0hdq";

    fn timing() -> Timing {
        Timing {
            create: Duration::from_millis(50),
            update: Duration::from_millis(50),
            delete: Duration::from_millis(50),
        }
    }

    fn ga() -> Ga {
        let ga = Ga::new();
        ga.seed(InstanceSeed {
            id: ACC.into(),
            server_groups: vec![],
        });
        ga
    }

    fn call_at(action: &str, pairs: &[(&str, &str)], now: Instant) -> Call {
        let flat: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let list: Vec<(String, String)> = flat.clone().into_iter().collect();
        Call {
            action: action.into(),
            params: crate::decode::unflatten(&list),
            flat,
            region: Some(REGION.into()),
            request_id: "req".into(),
            now,
        }
    }

    struct Run {
        ga: Ga,
        ctx: ManualContext,
        now: Instant,
    }

    impl Run {
        fn new() -> Self {
            Run {
                ga: ga(),
                ctx: ManualContext::new(timing()),
                now: Instant::now(),
            }
        }

        fn call(&mut self, action: &str, pairs: &[(&str, &str)]) -> Result<Value, ApiError> {
            let call = call_at(action, pairs, self.now);
            self.ga.handle(&mut self.ctx, &call)
        }

        fn later(&mut self) {
            self.now += Duration::from_millis(100);
        }

        fn create(&mut self, extra: &[(&str, &str)]) -> Result<String, ApiError> {
            let mut pairs = vec![("RegionId", REGION), ("AcceleratorId", ACC), ("Name", "l1")];
            pairs.extend_from_slice(extra);
            self.call("CreateListener", &pairs)
                .map(|v| v["ListenerId"].as_str().unwrap_or_default().to_string())
        }

        fn code(&mut self, extra: &[(&str, &str)]) -> String {
            match self.create(extra) {
                Ok(id) => format!("ok {id}"),
                Err(e) => e.code,
            }
        }

        fn describe(&mut self, id: &str) -> Result<Value, ApiError> {
            self.call("DescribeListener", &[("RegionId", REGION), ("ListenerId", id)])
        }
    }

    const TCP_80: [(&str, &str); 2] = [("PortRanges.1.FromPort", "80"), ("PortRanges.1.ToPort", "80")];

    #[test]
    fn create_goes_from_init_to_active_and_answers_upper_case() {
        let mut r = Run::new();
        let id = r
            .create(&[
                ("Protocol", "tcp"),
                ("PortRanges.1.FromPort", "80"),
                ("PortRanges.1.ToPort", "90"),
                ("PortRanges.2.FromPort", "443"),
                ("PortRanges.2.ToPort", "443"),
            ])
            .unwrap();
        assert!(id.starts_with("lsr-") && id.len() == 21, "{id}");
        let v = r.describe(&id).unwrap();
        assert_eq!(v["State"], "init");
        assert_eq!(v["Protocol"], "TCP");
        assert_eq!(
            v["PortRanges"],
            json!([{"FromPort": 80, "ToPort": 90}, {"FromPort": 443, "ToPort": 443}])
        );
        assert_eq!(v["IdleTimeout"], 900);
        r.later();
        assert_eq!(r.describe(&id).unwrap()["State"], "active");
        assert_eq!(r.ga.listener_counts()[ACC], 1);
    }

    #[test]
    fn unknown_accelerator_and_listener() {
        let mut r = Run::new();
        let e = r
            .call(
                "CreateListener",
                &[("RegionId", REGION), ("AcceleratorId", "ga-nope"), TCP_80[0], TCP_80[1]],
            )
            .unwrap_err();
        assert_eq!(e.code, "NotExist.Accelerator");
        assert_eq!(r.describe("lsr-nope").unwrap_err().code, "NotExist.Listener");
    }

    #[test]
    fn port_rules_answer_the_seed_codes() {
        let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
            (
                vec![
                    ("Protocol", "http"),
                    ("PortRanges.1.FromPort", "80"),
                    ("PortRanges.1.ToPort", "81"),
                ],
                "PortRanges.MustOne",
            ),
            (
                vec![
                    ("Protocol", "https"),
                    ("PortRanges.1.FromPort", "443"),
                    ("PortRanges.1.ToPort", "443"),
                    ("PortRanges.2.FromPort", "8443"),
                    ("PortRanges.2.ToPort", "8443"),
                    ("Certificates.1.Id", "c"),
                ],
                "PortRanges.MustOne",
            ),
            (
                vec![("PortRanges.1.FromPort", "90"), ("PortRanges.1.ToPort", "80")],
                "PortRangeIllegal.Listener",
            ),
            (
                vec![("PortRanges.1.FromPort", "x"), ("PortRanges.1.ToPort", "80")],
                "PortRangeIllegal.Listener",
            ),
            (
                vec![("PortRanges.1.FromPort", "65500"), ("PortRanges.1.ToPort", "65500")],
                "SystemPort.Listener",
            ),
            (
                vec![
                    ("Protocol", "udp"),
                    ("PortRanges.1.FromPort", "4789"),
                    ("PortRanges.1.ToPort", "4789"),
                ],
                "PortRangeIllegal.UDP",
            ),
            (
                vec![
                    ("Protocol", "udp"),
                    ("PortRanges.1.FromPort", "200"),
                    ("PortRanges.1.ToPort", "260"),
                ],
                "PortRangeIllegal.UDP",
            ),
            (
                vec![
                    ("PortRanges.1.FromPort", "1000"),
                    ("PortRanges.1.ToPort", "1300"),
                    ("PortRanges.2.FromPort", "2000"),
                    ("PortRanges.2.ToPort", "2000"),
                ],
                "PortRangeIllegal.Count",
            ),
            (
                vec![
                    ("PortRanges.1.FromPort", "80"),
                    ("PortRanges.1.ToPort", "90"),
                    ("PortRanges.2.FromPort", "85"),
                    ("PortRanges.2.ToPort", "85"),
                ],
                "PortRangeIllegal.Listener",
            ),
            (
                vec![("PortRanges.1.FromPort", "1000"), ("PortRanges.1.ToPort", "1030")],
                "QuotaExceeded.ListenerPort",
            ),
            (
                vec![("Protocol", "quic"), TCP_80[0], TCP_80[1]],
                "ProtocalIllegal.Listener",
            ),
            (vec![], "MissingParameter"),
        ];
        for (params, code) in cases {
            let mut r = Run::new();
            assert_eq!(r.code(&params), code, "{params:?}");
        }
    }

    #[test]
    fn field_rules_answer_invalid_parameter() {
        let https = [
            ("Protocol", "https"),
            ("PortRanges.1.FromPort", "443"),
            ("PortRanges.1.ToPort", "443"),
        ];
        fn with<'a>(extra: &[(&'a str, &'a str)], base: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
            let mut v: Vec<(&str, &str)> = base.to_vec();
            v.extend_from_slice(extra);
            v
        }
        let long_name = "a".repeat(129);
        let long_description = "d".repeat(201);
        let tcp = TCP_80.to_vec();
        let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
            (with(&[("Name", "1abc")], &tcp), "InvalidParameter"),
            (with(&[("Name", long_name.as_str())], &tcp), "InvalidParameter"),
            (with(&[("Description", "https://x")], &tcp), "InvalidParameter"),
            (
                with(&[("Description", long_description.as_str())], &tcp),
                "InvalidParameter",
            ),
            (with(&[("Certificates.1.Id", "c")], &tcp), "InvalidParameter"),
            (
                with(&[("SecurityPolicyId", "tls_cipher_policy_1_2")], &tcp),
                "InvalidParameter",
            ),
            (with(&[("HttpVersion", "http2")], &tcp), "InvalidParameter"),
            (
                with(&[("XForwardedForConfig.XRealIpEnabled", "true")], &tcp),
                "InvalidParameter",
            ),
            (with(&[("RequestTimeout", "30")], &tcp), "InvalidParameter"),
            (with(&[("IdleTimeout", "901")], &tcp), "InvalidParameter"),
            (with(&[("IdleTimeout", "9")], &tcp), "InvalidParameter"),
            (with(&[("ClientAffinity", "COOKIE")], &tcp), "InvalidParameter"),
            (with(&[("Type", "Fancy")], &tcp), "InvalidParameter"),
            (with(&[], &https), "MissingParameter"),
            (
                with(&[("Certificates.1.Id", "a"), ("Certificates.2.Id", "b")], &https),
                "InvalidParameter",
            ),
            (
                with(
                    &[("Certificates.1.Id", "a"), ("SecurityPolicyId", "tls_cipher_policy_9")],
                    &https,
                ),
                "InvalidParameter",
            ),
            (
                with(&[("Certificates.1.Id", "a"), ("HttpVersion", "http4")], &https),
                "InvalidParameter",
            ),
            (
                with(&[("Certificates.1.Id", "a"), ("IdleTimeout", "61")], &https),
                "InvalidParameter",
            ),
            (
                with(&[("Certificates.1.Id", "a"), ("RequestTimeout", "181")], &https),
                "InvalidParameter",
            ),
            (
                with(&[("Certificates.1.Id", "a"), ("Type", "CustomRouting")], &https),
                "ProtocalIllegal.Listener",
            ),
        ];
        for (params, code) in cases {
            let mut r = Run::new();
            assert_eq!(r.code(&params), code, "{params:?}");
        }
        // The current naming rule: one character and dots are fine.
        let mut r = Run::new();
        assert!(r.code(&with(&[("Name", "a.b")], &tcp)).starts_with("ok"));
        let mut r = Run::new();
        assert!(r.code(&with(&[("Name", "a")], &tcp)).starts_with("ok"));
    }

    #[test]
    fn region_must_be_hangzhou() {
        let mut r = Run::new();
        let e = r
            .call(
                "CreateListener",
                &[
                    ("RegionId", "cn-shanghai"),
                    ("AcceleratorId", ACC),
                    TCP_80[0],
                    TCP_80[1],
                ],
            )
            .unwrap_err();
        assert_eq!(e.code, "InvalidParameter");
        let e = r
            .call("CreateListener", &[("AcceleratorId", ACC), TCP_80[0], TCP_80[1]])
            .unwrap_err();
        assert_eq!(e.code, "MissingParameter");
    }

    #[test]
    fn ports_conflict_across_listeners_by_port_space() {
        let mut r = Run::new();
        r.create(&[("PortRanges.1.FromPort", "80"), ("PortRanges.1.ToPort", "90")])
            .unwrap();
        r.later();
        assert_eq!(
            r.code(&[
                ("Protocol", "http"),
                ("PortRanges.1.FromPort", "85"),
                ("PortRanges.1.ToPort", "85")
            ]),
            "PortConflict.Listener"
        );
        // UDP has its own port space.
        assert!(r
            .code(&[
                ("Protocol", "udp"),
                ("PortRanges.1.FromPort", "85"),
                ("PortRanges.1.ToPort", "85")
            ])
            .starts_with("ok"));
        r.later();
        assert_eq!(
            r.code(&[
                ("Protocol", "udp"),
                ("PortRanges.1.FromPort", "85"),
                ("PortRanges.1.ToPort", "85")
            ]),
            "PortConflict.Listener"
        );
        // HTTPS with http3 takes its port on UDP too.
        assert_eq!(
            r.code(&[
                ("Protocol", "https"),
                ("PortRanges.1.FromPort", "85"),
                ("PortRanges.1.ToPort", "85"),
                ("Certificates.1.Id", "c"),
                ("HttpVersion", "http3")
            ]),
            "PortConflict.Listener"
        );
    }

    #[test]
    fn udp_against_https_http3_conflicts() {
        let mut r = Run::new();
        r.create(&[
            ("Protocol", "https"),
            ("PortRanges.1.FromPort", "443"),
            ("PortRanges.1.ToPort", "443"),
            ("Certificates.1.Id", "c"),
            ("HttpVersion", "http3"),
        ])
        .unwrap();
        r.later();
        assert_eq!(
            r.code(&[
                ("Protocol", "udp"),
                ("PortRanges.1.FromPort", "443"),
                ("PortRanges.1.ToPort", "443")
            ]),
            "PortConflict.Listener"
        );
    }

    #[test]
    fn second_huge_listener_of_a_protocol_exceeds_ga_ability() {
        let mut r = Run::new();
        r.ga = Ga::new().with_port_quota(100_000);
        r.ga.seed(InstanceSeed {
            id: ACC.into(),
            server_groups: vec![],
        });
        r.create(&[("PortRanges.1.FromPort", "1000"), ("PortRanges.1.ToPort", "2000")])
            .unwrap();
        r.later();
        assert_eq!(
            r.code(&[("PortRanges.1.FromPort", "3000"), ("PortRanges.1.ToPort", "4000")]),
            "PortRangeIllegal.ExceedGaAbility"
        );
        assert!(r
            .code(&[
                ("Protocol", "udp"),
                ("PortRanges.1.FromPort", "3000"),
                ("PortRanges.1.ToPort", "4000")
            ])
            .starts_with("ok"));
    }

    #[test]
    fn listener_quota_and_routing_type_are_per_accelerator() {
        let mut r = Run::new();
        r.ga = Ga::new().with_listener_quota(2);
        r.ga.seed(InstanceSeed {
            id: ACC.into(),
            server_groups: vec![],
        });
        r.create(&[("PortRanges.1.FromPort", "1"), ("PortRanges.1.ToPort", "1")])
            .unwrap();
        r.later();
        assert_eq!(
            r.code(&[
                ("Type", "CustomRouting"),
                ("PortRanges.1.FromPort", "2"),
                ("PortRanges.1.ToPort", "2")
            ]),
            "InvalidParameter"
        );
        r.create(&[("PortRanges.1.FromPort", "2"), ("PortRanges.1.ToPort", "2")])
            .unwrap();
        r.later();
        assert_eq!(
            r.code(&[("PortRanges.1.FromPort", "3"), ("PortRanges.1.ToPort", "3")]),
            "QuotaExceeded.Listener"
        );
    }

    #[test]
    fn one_change_at_a_time_per_accelerator() {
        let mut r = Run::new();
        let first = r.create(&TCP_80).unwrap();
        assert_eq!(
            r.code(&[("PortRanges.1.FromPort", "81"), ("PortRanges.1.ToPort", "81")]),
            "StateError.Accelerator"
        );
        let e = r
            .call(
                "UpdateListener",
                &[("RegionId", REGION), ("ListenerId", &first), ("Name", "x")],
            )
            .unwrap_err();
        assert_eq!(e.code, "NotActive.Listener");
        r.later();
        let second = r
            .create(&[("PortRanges.1.FromPort", "81"), ("PortRanges.1.ToPort", "81")])
            .unwrap();
        let e = r
            .call(
                "UpdateListener",
                &[("RegionId", REGION), ("ListenerId", &first), ("Name", "x")],
            )
            .unwrap_err();
        assert_eq!(e.code, "StateError.Accelerator");
        let e = r
            .call("DeleteListener", &[("AcceleratorId", ACC), ("ListenerId", &first)])
            .unwrap_err();
        assert_eq!(e.code, "StateError.Accelerator");
        r.later();
        assert_eq!(r.describe(&second).unwrap()["State"], "active");
    }

    #[test]
    fn client_token_returns_the_first_result_or_refuses_other_parameters() {
        let mut r = Run::new();
        let mut params = vec![("ClientToken", "tok-1")];
        params.extend_from_slice(&TCP_80);
        let a = r.create(&params).unwrap();
        // A repeat while the first is still in progress: same answer, no new
        // listener, no busy error.
        let b = r.create(&params).unwrap();
        assert_eq!(a, b);
        assert_eq!(r.ga.listener_counts()[ACC], 1);
        let mut other = vec![("ClientToken", "tok-1")];
        other.extend_from_slice(&[("PortRanges.1.FromPort", "81"), ("PortRanges.1.ToPort", "81")]);
        assert_eq!(r.code(&other), "IdempotentParameterMismatch");
    }

    #[test]
    fn update_changes_protocol_and_ports_in_place() {
        let mut r = Run::new();
        let id = r
            .create(&[
                ("XForwardedForConfig.XRealIpEnabled", "true"),
                ("Protocol", "http"),
                TCP_80[0],
                TCP_80[1],
            ])
            .unwrap();
        r.later();
        r.call(
            "UpdateListener",
            &[
                ("RegionId", REGION),
                ("ListenerId", &id),
                ("Protocol", "https"),
                ("PortRanges.1.FromPort", "443"),
                ("PortRanges.1.ToPort", "443"),
                ("Certificates.1.Id", "cert-1"),
            ],
        )
        .unwrap();
        let v = r.describe(&id).unwrap();
        assert_eq!(v["State"], "updating");
        assert_eq!(v["Protocol"], "HTTPS");
        assert_eq!(v["HttpVersion"], "http2");
        assert_eq!(v["XForwardedForConfig"]["XRealIpEnabled"], true);
        r.later();
        assert_eq!(r.describe(&id).unwrap()["State"], "active");
        // Back to TCP: TLS and headers go, the idle timeout takes TCP's default.
        r.call(
            "UpdateListener",
            &[
                ("RegionId", REGION),
                ("ListenerId", &id),
                ("Protocol", "tcp"),
                ("PortRanges.1.FromPort", "80"),
                ("PortRanges.1.ToPort", "90"),
                ("PortRanges.2.FromPort", "100"),
                ("PortRanges.2.ToPort", "100"),
            ],
        )
        .unwrap();
        r.later();
        let v = r.describe(&id).unwrap();
        assert_eq!(v["Protocol"], "TCP");
        assert_eq!(v["Certificates"], json!([]));
        assert!(v.get("XForwardedForConfig").is_none());
        assert_eq!(v["IdleTimeout"], 900);
    }

    #[test]
    fn update_applies_the_same_rules() {
        let mut r = Run::new();
        let a = r.create(&TCP_80).unwrap();
        r.later();
        let b = r
            .create(&[("PortRanges.1.FromPort", "81"), ("PortRanges.1.ToPort", "81")])
            .unwrap();
        r.later();
        let upd = |r: &mut Run, id: &str, extra: &[(&str, &str)]| {
            let mut p = vec![("RegionId", REGION), ("ListenerId", id)];
            p.extend_from_slice(extra);
            r.call("UpdateListener", &p).map(|_| ()).map_err(|e| e.code)
        };
        assert_eq!(
            upd(
                &mut r,
                &b,
                &[("PortRanges.1.FromPort", "80"), ("PortRanges.1.ToPort", "80")]
            ),
            Err("PortConflict.Listener".into())
        );
        assert_eq!(
            upd(
                &mut r,
                &a,
                &[
                    ("Protocol", "http"),
                    ("PortRanges.1.FromPort", "80"),
                    ("PortRanges.1.ToPort", "82")
                ]
            ),
            Err("PortRanges.MustOne".into())
        );
        assert_eq!(
            upd(&mut r, &a, &[("Protocol", "https")]),
            Err("MissingParameter".into())
        );
        assert_eq!(
            upd(&mut r, &a, &[("RequestTimeout", "5")]),
            Err("InvalidParameter".into())
        );
        assert_eq!(
            upd(&mut r, "lsr-none", &[("Name", "x")]),
            Err("NotExist.Listener".into())
        );
        // Type is not an UpdateListener parameter: ignored, never changed.
        assert_eq!(upd(&mut r, &a, &[("Type", "CustomRouting")]), Ok(()));
        r.later();
        assert_eq!(r.describe(&a).unwrap()["Type"], "Standard");
    }

    #[test]
    fn failed_tasks_end_the_way_ga_shows_them() {
        let mut r = Run::new();
        r.ctx = ManualContext::new(timing()).failing_tasks(1);
        let id = r.create(&TCP_80).unwrap();
        r.later();
        assert_eq!(r.describe(&id).unwrap_err().code, "NotExist.Listener");
        let id = r.create(&TCP_80).unwrap();
        r.later();
        r.ctx = ManualContext::new(timing()).failing_tasks(1);
        r.call(
            "UpdateListener",
            &[("RegionId", REGION), ("ListenerId", &id), ("Name", "renamed")],
        )
        .unwrap();
        assert_eq!(r.describe(&id).unwrap()["Name"], "renamed");
        r.later();
        let v = r.describe(&id).unwrap();
        assert_eq!((v["State"].as_str(), v["Name"].as_str()), (Some("active"), Some("l1")));
        r.ctx = ManualContext::new(timing()).failing_tasks(1);
        r.call("DeleteListener", &[("AcceleratorId", ACC), ("ListenerId", &id)])
            .unwrap();
        r.later();
        assert_eq!(r.describe(&id).unwrap()["State"], "active");
    }

    #[test]
    fn delete_goes_through_deleting_to_not_exist() {
        let mut r = Run::new();
        let id = r.create(&TCP_80).unwrap();
        r.later();
        let e = r.call("DeleteListener", &[("ListenerId", &id)]).unwrap_err();
        assert_eq!(e.code, "MissingParameter");
        r.call(
            "DeleteListener",
            &[("AcceleratorId", ACC), ("ListenerId", &id), ("ClientToken", "d1")],
        )
        .unwrap();
        assert_eq!(r.describe(&id).unwrap()["State"], "deleting");
        // The same token again: the first answer, not NotActive.
        r.call(
            "DeleteListener",
            &[("AcceleratorId", ACC), ("ListenerId", &id), ("ClientToken", "d1")],
        )
        .unwrap();
        r.later();
        assert_eq!(r.describe(&id).unwrap_err().code, "NotExist.Listener");
        assert_eq!(r.ga.listener_counts()[ACC], 0);
        let e = r
            .call("DeleteListener", &[("AcceleratorId", ACC), ("ListenerId", &id)])
            .unwrap_err();
        assert_eq!(e.code, "NotExist.Listener");
    }

    #[test]
    fn list_pages_and_filters() {
        let mut r = Run::new();
        r.ga = Ga::new().with_listener_quota(100);
        r.ga.seed(InstanceSeed {
            id: ACC.into(),
            server_groups: vec![],
        });
        let mut ids = Vec::new();
        for port in 1..=12u32 {
            let p = port.to_string();
            ids.push(
                r.create(&[
                    ("PortRanges.1.FromPort", p.as_str()),
                    ("PortRanges.1.ToPort", p.as_str()),
                ])
                .unwrap(),
            );
            r.later();
        }
        let page = |r: &mut Run, n: &str, size: &str| {
            r.call(
                "ListListeners",
                &[
                    ("RegionId", REGION),
                    ("AcceleratorId", ACC),
                    ("PageNumber", n),
                    ("PageSize", size),
                ],
            )
            .unwrap()
        };
        let p1 = page(&mut r, "1", "5");
        assert_eq!(p1["TotalCount"], 12);
        assert_eq!(p1["Listeners"].as_array().unwrap().len(), 5);
        assert_eq!(p1["Listeners"][0]["ListenerId"], json!(ids[0]));
        let p3 = page(&mut r, "3", "5");
        assert_eq!(p3["Listeners"].as_array().unwrap().len(), 2);
        assert_eq!(p3["Listeners"][1]["ListenerId"], json!(ids[11]));
        let e = r
            .call(
                "ListListeners",
                &[("RegionId", REGION), ("AcceleratorId", ACC), ("PageSize", "51")],
            )
            .unwrap_err();
        assert_eq!(e.code, "InvalidParameter");
        let udp = r
            .call(
                "ListListeners",
                &[("RegionId", REGION), ("AcceleratorId", ACC), ("Protocol", "UDP")],
            )
            .unwrap();
        assert_eq!(udp["TotalCount"], 0);
    }

    #[test]
    fn unknown_actions_and_odd_parameters_do_not_panic() {
        let mut r = Run::new();
        assert_eq!(
            r.call("CreateAccelerator", &[]).unwrap_err().code,
            "InvalidAction.NotFound"
        );
        let odd = [
            vec![("PortRanges", "[{\"FromPort\":1}]")],
            vec![("PortRanges.1", "80")],
            vec![("PortRanges.1.FromPort", "99999999999"), ("PortRanges.1.ToPort", "1")],
            vec![("Certificates", "x"), TCP_80[0], TCP_80[1]],
            vec![("XForwardedForConfig", "x"), ("Protocol", "http"), TCP_80[0], TCP_80[1]],
        ];
        for params in odd {
            let mut r = Run::new();
            let _ = r.code(&params);
        }
    }

    #[test]
    fn create_time_is_a_number_in_list_listeners_and_a_string_in_describe() {
        // Regression: `ListListeners` answered the string form, which the
        // SDKs' model (`create_time: int`) and typed SDKs reject.
        let mut r = Run::new();
        let id = r.create(&[("Protocol", "tcp"), TCP_80[0], TCP_80[1]]).unwrap();
        let listed = r
            .call("ListListeners", &[("RegionId", REGION), ("AcceleratorId", ACC)])
            .unwrap();
        let item = &listed["Listeners"][0];
        assert_eq!(item["ListenerId"], json!(id));
        assert!(item["CreateTime"].is_u64(), "{item}");
        assert!(r.describe(&id).unwrap()["CreateTime"].is_string());
    }
}
