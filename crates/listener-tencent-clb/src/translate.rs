//! Spec → CLB parameters, CLB answer → spec, and every rule CLB enforces.
//!
//! Each rule is one function below with a doc comment naming the vendor's
//! rule and the error code CLB answers when it is broken; the rejection's
//! `rule` is that code, so a portability report and a vendor error read the
//! same. Neutral fields CLB has no parameter for are rejected under
//! [`UNSUPPORTED`] (there is no vendor code: nothing could be sent).
//!
//! Sources: the CreateListener seed (`tencent-clb-CreateListener.txt`, the
//! vendor's word), the Tencent factsheet §5 and §9, and the ModifyListener /
//! HealthCheck data-type docs it summarises. Where they differ, only what
//! every source says is rejected (see the crate README).

use listener_core::{
    AffinityKey, Capabilities, ChangePlan, ClientIpMode, ClientVerify, HealthCheck, HealthCheckKind, HttpHealthCheck,
    HttpMethod, Listener, ListenerId, ListenerSpec, ListenerStatus, PortRange, Ports, ProfileConfig, Protocol,
    Rejections, Scheduler, SessionPersistence, Timeouts, Tls,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::API;

/// Rule of a neutral field CLB cannot express on a listener.
pub const UNSUPPORTED: &str = "unsupported_field";
/// Rule of a neutral violation (the core's validation), reported as is.
pub const INVALID_SPEC: &str = "invalid_spec";
/// CLB's code for a value it refuses (out of range, wrong protocol).
pub const INVALID_VALUE: &str = "InvalidParameterValue";
/// CLB's code for a string of the wrong length.
pub const LENGTH: &str = "InvalidParameterValue.Length";
/// CLB's code for a malformed parameter (shape, format, combination).
pub const FORMAT: &str = "InvalidParameter.FormatError";
/// CLB's code for a required parameter left out.
pub const MISSING: &str = "MissingParameter";
/// CLB's code for a quota exceeded (50 listeners per load balancer).
pub const LIMIT: &str = "LimitExceeded";
/// CLB's code for a port check failure (port already used on the instance).
pub const PORT_CHECK: &str = "InvalidParameter.PortCheckFailed";

/// Listeners per load balancer (CLB default quota).
pub const MAX_LISTENERS: u32 = 50;
/// Longest listener name, in characters.
pub const MAX_NAME_CHARS: usize = 80;
/// Idle timeout bounds the pre-flight check holds to: 10 s, and the
/// loosest upper bound any source documents. CreateListener documents
/// 10–900 (shared, dedicated) and 10–1980 (LCU-supported); ModifyListener
/// adds "up to 3600 s by ticket". Which applies depends on the instance
/// and its tickets, which `check` cannot see, so the vendor answers.
pub const IDLE_RANGE: (u32, u32) = (10, 3600);

/// Vendor-only settings, under `extensions.tencent-clb` in a spec.
///
/// Only knobs with no neutral home live here; each maps to one
/// CreateListener/ModifyListener parameter, named in its doc.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClbOptions {
    /// `SnatEnable`: replace the client source IP (turns client-IP
    /// pass-through off). Not read back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snat: Option<bool>,
    /// `MaxConn`: connection cap on LCU instances, -1 = unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_conn: Option<i64>,
    /// `MaxCps`: new connections per second cap on LCU instances, -1 = unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_cps: Option<i64>,
    /// `TargetType` (TCP, UDP): bind nodes or a target group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_type: Option<TargetType>,
    /// `SessionType` (TCP, UDP; ModifyListener also TCP_SSL, QUIC): `normal`
    /// or `quic_cid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_type: Option<SessionType>,
    /// `KeepaliveEnable` (HTTP, HTTPS; beta): persistent backend connections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keepalive: Option<bool>,
    /// `DeregisterTargetRst` (TCP, UDP): reschedule when a backend is unbound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deregister_target_rst: Option<bool>,
    /// `RescheduleTargetZeroWeight` (TCP, UDP). Not read back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reschedule_target_zero_weight: Option<bool>,
    /// `RescheduleUnhealthy` (TCP, UDP). Not read back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reschedule_unhealthy: Option<bool>,
    /// `RescheduleExpandTarget` (TCP, UDP). Not read back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reschedule_expand_target: Option<bool>,
    /// `RescheduleStartTime` (TCP, UDP), 0–3600 s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reschedule_start_time: Option<u32>,
    /// `RescheduleInterval` (TCP, UDP), 0–3600 s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reschedule_interval: Option<u32>,
    /// The load balancer is LCU-supported. Informational: the idle-timeout
    /// check takes the loosest documented bound (3600 s) whatever it says.
    /// Local knowledge, never sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lcu: Option<bool>,
    /// `H2cSwitch` (HTTP on private networks): h2c towards backends. Fixed
    /// at creation, not read back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub h2c: Option<bool>,
    /// `SslCloseSwitch` (TCP_SSL): drop the SSL layer. Fixed at creation,
    /// not read back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssl_close: Option<bool>,
    /// `DataCompressMode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_compress_mode: Option<DataCompressMode>,
    /// `HealthCheck.HttpVersion` of an HTTP probe (`HTTP/1.1` is sent on
    /// TCP listeners when unset, where the vendor requires one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_http_version: Option<HttpVersion>,
    /// `HealthCheck.ContextType` of a custom probe (`TEXT` when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_context_type: Option<ContextType>,
    /// `HealthCheck.SourceIpType`: 0 probes from the VIP, 1 from 100.64/10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_source_ip_type: Option<u8>,
}

/// `TargetType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetType {
    /// `NODE`: ordinary backends.
    #[serde(alias = "NODE")]
    Node,
    /// `TARGETGROUP`: a target group.
    #[serde(alias = "TARGETGROUP")]
    TargetGroup,
}

impl TargetType {
    fn vendor(self) -> &'static str {
        match self {
            TargetType::Node => "NODE",
            TargetType::TargetGroup => "TARGETGROUP",
        }
    }
}

/// `SessionType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionType {
    /// `NORMAL`: affinity by client address.
    #[serde(alias = "NORMAL")]
    Normal,
    /// `QUIC_CID`: affinity by QUIC connection ID (UDP, WRR, IPv4 only).
    #[serde(alias = "QUIC_CID")]
    QuicCid,
}

impl SessionType {
    fn vendor(self) -> &'static str {
        match self {
            SessionType::Normal => "NORMAL",
            SessionType::QuicCid => "QUIC_CID",
        }
    }
}

/// `DataCompressMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataCompressMode {
    /// `transparent`: pass compression through.
    Transparent,
    /// `compatibility`: compatibility mode.
    Compatibility,
}

impl DataCompressMode {
    fn vendor(self) -> &'static str {
        match self {
            DataCompressMode::Transparent => "transparent",
            DataCompressMode::Compatibility => "compatibility",
        }
    }
}

/// `HealthCheck.HttpVersion`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HttpVersion {
    /// `HTTP/1.0`.
    #[serde(rename = "HTTP/1.0", alias = "http/1.0")]
    Http10,
    /// `HTTP/1.1`.
    #[serde(rename = "HTTP/1.1", alias = "http/1.1")]
    Http11,
}

impl HttpVersion {
    fn vendor(self) -> &'static str {
        match self {
            HttpVersion::Http10 => "HTTP/1.0",
            HttpVersion::Http11 => "HTTP/1.1",
        }
    }
}

/// `HealthCheck.ContextType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContextType {
    /// `TEXT`: visible ASCII.
    #[serde(alias = "TEXT")]
    Text,
    /// `HEX`: an even number of hex digits.
    #[serde(alias = "HEX")]
    Hex,
}

impl ContextType {
    fn vendor(self) -> &'static str {
        match self {
            ContextType::Text => "TEXT",
            ContextType::Hex => "HEX",
        }
    }
}

/// The CLB name of a protocol.
pub fn protocol_name(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "TCP",
        Protocol::Udp => "UDP",
        Protocol::Http => "HTTP",
        Protocol::Https => "HTTPS",
        Protocol::Quic => "QUIC",
        Protocol::TcpSsl => "TCP_SSL",
    }
}

/// The protocol of a CLB name (case-insensitive: the seed's own example
/// sends `tcp`).
pub fn protocol_from_name(name: &str) -> Option<Protocol> {
    Protocol::ALL
        .into_iter()
        .find(|p| protocol_name(*p).eq_ignore_ascii_case(name))
}

fn ext(field: &str) -> String {
    format!("extensions.{API}.{field}")
}

fn is_layer4(p: Protocol) -> bool {
    matches!(p, Protocol::Tcp | Protocol::Udp)
}

fn is_http(p: Protocol) -> bool {
    matches!(p, Protocol::Http | Protocol::Https)
}

fn sni_on(spec: &ListenerSpec) -> bool {
    spec.tls.as_ref().and_then(|t| t.sni) == Some(true)
}

/// The typed options of a spec; `Err` is the parse message.
pub fn options(spec: &ListenerSpec) -> Result<ClbOptions, String> {
    spec.extensions.parse::<ClbOptions>(API).map(Option::unwrap_or_default)
}

// ---------------------------------------------------------------------------
// check
// ---------------------------------------------------------------------------

/// Every reason CLB refuses `spec`, without any network call.
pub fn check(profile: &ProfileConfig, spec: &ListenerSpec) -> Vec<listener_core::Rejection> {
    check_with_warnings(profile, spec).rejections
}

/// [`check`] with its warnings (a spec that alone passes the listener
/// quota).
pub fn check_with_warnings(profile: &ProfileConfig, spec: &ListenerSpec) -> listener_core::Checked {
    let mut r = Rejections::preflight(&crate::capabilities(), &profile.aliases, spec);
    let opts = match options(spec) {
        Ok(o) => o,
        Err(e) => {
            r.reject(format!("extensions.{API}"), listener_core::EXTENSION_INVALID, e);
            ClbOptions::default()
        }
    };
    unsupported_neutral_fields(spec, &mut r);
    name_length(profile, spec, &mut r);
    listener_quota_of_one_spec(spec, &mut r);
    certificate_with_sni(spec, &mut r);
    check_routes(profile, spec, &mut r);
    several_certificates_on_quic(spec, &mut r);
    health_check_on_layer7(spec, &mut r);
    health_check_kind(spec, &mut r);
    health_check_http_domain_on_tcp(spec, &mut r);
    health_check_ranges(spec, &mut r);
    health_check_port_layer4(spec, &mut r);
    health_check_custom_context(spec, &opts, &mut r);
    health_check_option_kinds(spec, &opts, &mut r);
    session_persistence_rules(spec, &mut r);
    scheduler_rules(spec, &mut r);
    session_type_rules(spec, &opts, &mut r);
    keepalive_layer7(spec, &opts, &mut r);
    proxy_protocol_protocols(spec, &mut r);
    idle_timeout_rules(spec, &mut r);
    lcu_limits(spec, &opts, &mut r);
    layer4_only_options(spec, &opts, &mut r);
    creation_switches(spec, &opts, &mut r);
    r.into_checked()
}

/// [`check`] for an in-place change of `current` into `desired`.
/// ModifyListener changes only what it is sent, and [`health_check_param`]
/// sends no `TimeOut` or `IntervalTime` the spec leaves out, so the one left
/// out keeps the listener's *current* value: `TimeOut` < `IntervalTime`
/// (`InvalidParameterValue`) is checked against that, not against the
/// vendor defaults (2 s and 5 s) that [`check`] assumes for a create.
pub fn check_update(
    profile: &ProfileConfig,
    current: &ListenerSpec,
    desired: &ListenerSpec,
) -> Vec<listener_core::Rejection> {
    let mut effective = desired.clone();
    if let (Some(hc), Some(cur)) = (effective.health_check.as_mut(), current.health_check.as_ref()) {
        if hc.timeout_secs.is_none() {
            hc.timeout_secs = cur.timeout_secs;
        }
        if hc.interval_secs.is_none() {
            hc.interval_secs = cur.interval_secs;
        }
    }
    check(profile, &effective)
}

/// Neutral fields with no CLB listener parameter. CLB has no listener
/// description; TLS policies, HTTP/2 and HTTP/3 are set per domain on
/// forwarding rules, not on CreateListener; X-Forwarded headers are not
/// configurable (layer-7 CLB always adds `X-Forwarded-For`, so
/// `mode = "headers"` without a `headers` section is accepted on HTTP and
/// HTTPS); request timeouts and the backend protocol live on rules; a
/// listener has one client CA (`CertCaId`); QUIC listeners add no headers.
/// Tags: CLB tags the instance, not a listener. `enabled`: no CLB action
/// stops or starts a listener.
/// Nothing could be sent, so the rule is [`UNSUPPORTED`].
fn unsupported_neutral_fields(spec: &ListenerSpec, r: &mut Rejections) {
    r.reject_if(
        spec.description.is_some(),
        "description",
        UNSUPPORTED,
        "CLB listeners have no description",
    );
    // CLB tags the load balancer (`Tags` on CreateLoadBalancer,
    // ModifyResourceTags on the instance), never one listener.
    r.reject_if(
        !spec.tags.is_empty(),
        "tags",
        UNSUPPORTED,
        "CLB listeners carry no tags (CLB tags the load balancer instance); remove `tags`",
    );
    // CLB filters client addresses with the security groups bound to the
    // load balancer (SetLoadBalancerSecurityGroups,
    // ModifyLoadBalancerAttributes `LoadBalancerPassToTarget`): an
    // instance-wide control, and no listener action takes a source list.
    r.reject_if(
        spec.access.is_some(),
        "access",
        UNSUPPORTED,
        "CLB has no per-listener source-address control (access control is on the load balancer's security groups); remove `access`",
    );
    // No CLB action stops or starts a listener, so `false` cannot be
    // honoured. `true` is what every CLB listener is: accepted, and
    // write-only (never compared), so a portable file may state it.
    r.reject_if(
        spec.enabled == Some(false),
        "enabled",
        UNSUPPORTED,
        "CLB cannot stop or start a listener; set `enabled = false` only where listeners can be stopped",
    );
    if let Some(tls) = &spec.tls {
        r.reject_if(
            tls.policy.is_some(),
            "tls.policy",
            UNSUPPORTED,
            "CreateListener takes no TLS policy; CLB sets TLS versions and ciphers elsewhere",
        );
        r.reject_if(
            tls.http2.is_some(),
            "tls.http2",
            UNSUPPORTED,
            "CLB switches HTTP/2 per domain on forwarding rules, not on the listener",
        );
        // QUIC is off on a CLB listener until a forwarding rule's domain
        // turns it on, so `false` states what every CLB listener is:
        // accepted and write-only, like `enabled = true`. Only `true`,
        // which the listener cannot carry, is refused.
        r.reject_if(
            tls.http3 == Some(true),
            "tls.http3",
            UNSUPPORTED,
            "CLB switches HTTP/3 (QUIC) per domain on forwarding rules, not on the listener",
        );
        if let Some(ca) = &tls.client_auth {
            r.reject_if(
                ca.ca_certificates.len() > 1,
                "tls.client_auth.ca_certificates",
                UNSUPPORTED,
                "a CLB listener takes one client CA certificate (CertCaId)",
            );
        }
    }
    if let Some(t) = &spec.timeouts {
        r.reject_if(
            t.request_secs.is_some(),
            "timeouts.request_secs",
            UNSUPPORTED,
            "CLB has no request timeout on the listener",
        );
    }
    if let Some(ci) = &spec.client_ip {
        r.reject_if(
            ci.headers.is_some(),
            "client_ip.headers",
            UNSUPPORTED,
            "CLB does not let the forwarded headers be chosen",
        );
        r.reject_if(
            ci.mode == ClientIpMode::Headers && spec.protocol == Protocol::Quic,
            "client_ip.mode",
            UNSUPPORTED,
            "CLB QUIC listeners add no HTTP headers; use proxy_protocol",
        );
    }
    if let Some(sp) = &spec.session_persistence {
        r.reject_if(
            sp.timeout_secs.is_none(),
            "session_persistence.timeout_secs",
            UNSUPPORTED,
            "CLB session persistence is switched on by its duration (SessionExpireTime): set timeout_secs",
        );
    }
}

/// `ListenerNames`: 1–80 characters (factsheet §5; the vendor answers
/// `InvalidParameterValue.Length`), counting the management mark the name
/// carries on CLB (see [`mark_name`]).
fn name_length(profile: &ProfileConfig, spec: &ListenerSpec, r: &mut Rejections) {
    let n = spec.name.chars().count();
    let mark = listener_core::mark::name_mark_len(profile.owner());
    r.reject_if(
        n == 0 || n + mark > MAX_NAME_CHARS,
        "name",
        LENGTH,
        format!(
            "CLB listener names are 1 to {MAX_NAME_CHARS} characters including the management mark \
             (`{}`, {mark} characters for owner `{}`), this one has {n} of its own",
            listener_core::mark::mark_name("", profile.owner()),
            profile.owner()
        ),
    );
    r.reject_if(
        listener_core::mark::name_looks_marked(&spec.name),
        "name",
        INVALID_SPEC,
        format!(
            "`{}` inside or `{}` at the end of a CLB name is reserved for the management mark (it would be read back as one)",
            listener_core::mark::NAME_MARK,
            listener_core::mark::DEFAULT_NAME_MARK
        ),
    );
}

/// The name CLB is sent for `name`: CLB listeners have no tags and no
/// description, so the management mark is a name suffix
/// (`web--lctl` for the default owner, `web--lctl_team-a`; letters, digits, `-` and `_` as CLB names take),
/// stripped again by [`listener_from_describe`].
pub fn mark_name(profile: &ProfileConfig, name: &str) -> String {
    listener_core::mark::mark_name(name, profile.owner())
}

/// 50 listeners per load balancer (`LimitExceeded`) is CLB's *default*
/// quota, raised in the quota centre; it is the vendor's to enforce, so a
/// spec that alone makes more is a warning on `ports`, not a refusal. Each
/// single port is one listener, each range one.
fn listener_quota_of_one_spec(spec: &ListenerSpec, r: &mut Rejections) {
    let n = spec.ports.ranges().len();
    if n > MAX_LISTENERS as usize {
        r.warn(
            &spec.name,
            "ports",
            LIMIT,
            format!("this spec makes {n} CLB listeners, more than the default quota of {MAX_LISTENERS}; the load balancer's quota must have been raised"),
        );
    }
}

/// `Certificate` / `MultiCertInfo` apply to TCP_SSL and to HTTPS with SNI
/// off; with SNI on, certificates belong to the domains of the rules
/// (CreateListener seed; `InvalidParameterValue`). The client CA is part of
/// the same `Certificate`, so mutual TLS is refused there too.
fn certificate_with_sni(spec: &ListenerSpec, r: &mut Rejections) {
    if spec.protocol != Protocol::Https || !sni_on(spec) {
        return;
    }
    r.reject_if(
        !spec.server_certificates().is_empty(),
        "tls.certificates",
        INVALID_VALUE,
        "with SNI on, CLB takes certificates per domain on forwarding rules, not on the listener",
    );
    r.reject_if(
        spec.client_auth().is_some(),
        "tls.client_auth",
        INVALID_VALUE,
        "with SNI on, CLB takes client CAs per domain on forwarding rules, not on the listener",
    );
}

/// The listener's routes and backend as CLB rules, checked offline as
/// the rule provider checks them ([`crate::rules::check`] over
/// [`crate::rules::expand`]).
fn check_routes(profile: &ProfileConfig, spec: &ListenerSpec, r: &mut Rejections) {
    if spec.routes.is_empty() {
        return;
    }
    let expanded = crate::rules::expand(spec);
    for (_, rejection) in crate::rules::check(spec, &expanded, &profile.aliases) {
        r.reject(rejection.field, rejection.rule, rejection.reason);
    }
}

/// `MultiCertInfo` (several server certificates of different algorithms)
/// applies to TCP_SSL and HTTPS only (CreateListener seed; ModifyListener
/// lists it for HTTPS only). A QUIC listener takes one `Certificate`
/// (`InvalidParameterValue`).
fn several_certificates_on_quic(spec: &ListenerSpec, r: &mut Rejections) {
    r.reject_if(
        spec.protocol == Protocol::Quic && spec.server_certificates().len() > 1,
        "tls.certificates",
        INVALID_VALUE,
        "a CLB QUIC listener takes one server certificate (MultiCertInfo is for HTTPS and TCP_SSL)",
    );
}

/// `HealthCheck` applies to TCP, UDP, TCP_SSL and QUIC; HTTP and HTTPS
/// listeners check health per forwarding rule (seed;
/// `InvalidParameterValue`).
fn health_check_on_layer7(spec: &ListenerSpec, r: &mut Rejections) {
    r.reject_if(
        spec.health_check.is_some() && is_http(spec.protocol),
        "health_check",
        INVALID_VALUE,
        format!(
            "CLB {} listeners check health on their forwarding rules, not on the listener",
            protocol_name(spec.protocol)
        ),
    );
}

/// Allowed `CheckType` per protocol (HealthCheck data type): UDP: PING,
/// CUSTOM; TCP: TCP, HTTP, CUSTOM; TCP_SSL and QUIC: TCP, HTTP
/// (`InvalidParameterValue`).
fn health_check_kind(spec: &ListenerSpec, r: &mut Rejections) {
    let Some(kind) = spec.health_check.as_ref().and_then(|h| h.kind) else {
        return;
    };
    use HealthCheckKind as K;
    let allowed: &[K] = match spec.protocol {
        Protocol::Udp => &[K::Ping, K::Custom],
        Protocol::Tcp => &[K::Tcp, K::Http, K::Custom],
        Protocol::TcpSsl | Protocol::Quic => &[K::Tcp, K::Http],
        Protocol::Http | Protocol::Https => return,
    };
    r.reject_if(
        !allowed.contains(&kind),
        "health_check.kind",
        INVALID_VALUE,
        format!(
            "CLB {} listeners do not support `{}` health checks",
            protocol_name(spec.protocol),
            check_type(kind)
        ),
    );
}

/// `HttpCheckDomain` is required for an HTTP check on a TCP listener
/// (HealthCheck data type; `MissingParameter`).
fn health_check_http_domain_on_tcp(spec: &ListenerSpec, r: &mut Rejections) {
    let Some(hc) = &spec.health_check else { return };
    let domain = hc.http.as_ref().and_then(|h| h.domain.as_ref());
    r.reject_if(
        spec.protocol == Protocol::Tcp && hc.kind == Some(HealthCheckKind::Http) && domain.is_none(),
        "health_check.http.domain",
        MISSING,
        "an HTTP health check on a CLB TCP listener needs `http.domain` (HttpCheckDomain)",
    );
}

/// HealthCheck ranges (`InvalidParameterValue`): `TimeOut` 2–60 s,
/// `IntervalTime` 2–300 s, `HealthNum` / `UnHealthNum` 2–10, and
/// `TimeOut` < `IntervalTime` counting the vendor defaults (2 s and 5 s),
/// so an interval of 2 s alone is refused too.
fn health_check_ranges(spec: &ListenerSpec, r: &mut Rejections) {
    if let Some(hc) = &spec.health_check {
        health_check_ranges_at(hc, "health_check", r);
    }
}

/// [`health_check_ranges`] of any `HealthCheck` object (a listener's, or
/// a rule's: `RuleInput.HealthCheck` is the same data type), with fields
/// under `at` (`health_check`, `backends.web.health_check`).
pub(crate) fn health_check_ranges_at(hc: &HealthCheck, at: &str, r: &mut Rejections) {
    if let Some(t) = hc.timeout_secs {
        r.reject_if(
            !(2..=60).contains(&t),
            format!("{at}.timeout_secs"),
            INVALID_VALUE,
            "CLB probe timeouts are 2 to 60 seconds",
        );
    }
    if let Some(i) = hc.interval_secs {
        r.reject_if(
            !(2..=300).contains(&i),
            format!("{at}.interval_secs"),
            INVALID_VALUE,
            "CLB probe intervals are 2 to 300 seconds",
        );
    }
    for (field, v) in [
        ("healthy_threshold", hc.healthy_threshold),
        ("unhealthy_threshold", hc.unhealthy_threshold),
    ] {
        if let Some(v) = v {
            r.reject_if(
                !(2..=10).contains(&v),
                format!("{at}.{field}"),
                INVALID_VALUE,
                "CLB health thresholds are 2 to 10",
            );
        }
    }
    if hc.timeout_secs.is_none() || hc.interval_secs.is_none() {
        let t = hc.timeout_secs.unwrap_or(2);
        let i = hc.interval_secs.unwrap_or(5);
        r.reject_if(
            t >= i,
            if hc.timeout_secs.is_some() {
                format!("{at}.timeout_secs")
            } else {
                format!("{at}.interval_secs")
            },
            INVALID_VALUE,
            format!("CLB needs the probe timeout ({t}s) below the interval ({i}s), defaults 2s and 5s included"),
        );
    }
}

/// `CheckPort` applies to TCP and UDP listeners only (HealthCheck data
/// type; `InvalidParameterValue`).
fn health_check_port_layer4(spec: &ListenerSpec, r: &mut Rejections) {
    let Some(hc) = &spec.health_check else { return };
    r.reject_if(
        hc.port.is_some() && matches!(spec.protocol, Protocol::TcpSsl | Protocol::Quic),
        "health_check.port",
        INVALID_VALUE,
        "CLB takes a health-check port (CheckPort) on TCP and UDP listeners only",
    );
}

/// CUSTOM probes: `SendContext` / `RecvContext` are visible ASCII; with
/// `ContextType` HEX an even number of hex digits
/// (`InvalidParameter.FormatError`). Length ≤ 500 is a neutral rule.
fn health_check_custom_context(spec: &ListenerSpec, opts: &ClbOptions, r: &mut Rejections) {
    let Some(custom) = spec.health_check.as_ref().and_then(|h| h.custom.as_ref()) else {
        return;
    };
    let hex = opts.health_check_context_type == Some(ContextType::Hex);
    for (field, value) in [
        ("health_check.custom.send", &custom.send),
        ("health_check.custom.expect", &custom.expect),
    ] {
        let Some(v) = value else { continue };
        if !context_ok(v, hex) {
            r.reject(
                field,
                FORMAT,
                if hex {
                    "CLB HEX probe payloads are an even number of hex digits 0-9A-F"
                } else {
                    "CLB probe payloads are visible ASCII characters"
                },
            );
        }
    }
}

/// Whether a probe payload is acceptable: visible ASCII, or even-length
/// hex digits with HEX.
pub fn context_ok(v: &str, hex: bool) -> bool {
    if hex {
        v.len().is_multiple_of(2) && v.bytes().all(|b| b.is_ascii_hexdigit())
    } else {
        v.bytes().all(|b| (0x20..0x7f).contains(&b))
    }
}

/// `HttpVersion` belongs to HTTP probes and `ContextType` to CUSTOM ones;
/// `SourceIpType` is 0 or 1 (`InvalidParameterValue`).
fn health_check_option_kinds(spec: &ListenerSpec, opts: &ClbOptions, r: &mut Rejections) {
    let kind = spec.health_check.as_ref().and_then(|h| h.kind);
    r.reject_if(
        opts.health_check_http_version.is_some() && kind != Some(HealthCheckKind::Http),
        ext("health_check_http_version"),
        INVALID_VALUE,
        "HttpVersion applies to HTTP health checks only",
    );
    r.reject_if(
        opts.health_check_context_type.is_some() && kind != Some(HealthCheckKind::Custom),
        ext("health_check_context_type"),
        INVALID_VALUE,
        "ContextType applies to CUSTOM health checks only",
    );
    if let Some(s) = opts.health_check_source_ip_type {
        r.reject_if(
            s > 1,
            ext("health_check_source_ip_type"),
            INVALID_VALUE,
            "SourceIpType is 0 (the VIP) or 1 (100.64.0.0/10)",
        );
        r.reject_if(
            spec.health_check.is_none(),
            ext("health_check_source_ip_type"),
            INVALID_VALUE,
            "SourceIpType needs a health_check section",
        );
    }
}

/// `SessionExpireTime`: TCP and UDP only, 30–3600 s (seed;
/// `InvalidParameterValue`).
fn session_persistence_rules(spec: &ListenerSpec, r: &mut Rejections) {
    let Some(sp) = &spec.session_persistence else { return };
    r.reject_if(
        !is_layer4(spec.protocol),
        "session_persistence",
        INVALID_VALUE,
        format!(
            "CLB keeps sessions on TCP and UDP listeners only (on {} it is set per forwarding rule)",
            protocol_name(spec.protocol)
        ),
    );
    if let Some(t) = sp.timeout_secs {
        r.reject_if(
            !(30..=3600).contains(&t),
            "session_persistence.timeout_secs",
            INVALID_VALUE,
            "CLB session persistence lasts 30 to 3600 seconds",
        );
    }
}

/// `Scheduler`: WRR or LEAST_CONN, on TCP, UDP, TCP_SSL and QUIC only
/// (seed; IP_HASH exists only on layer-7 rules; `InvalidParameterValue`).
fn scheduler_rules(spec: &ListenerSpec, r: &mut Rejections) {
    let Some(s) = spec.scheduler else { return };
    r.reject_if(
        is_http(spec.protocol),
        "scheduler",
        INVALID_VALUE,
        "CLB HTTP/HTTPS listeners schedule per forwarding rule, not on the listener",
    );
    r.reject_if(
        scheduler_name(s).is_none(),
        "scheduler",
        INVALID_VALUE,
        "CLB listeners schedule by weighted_round_robin (WRR) or least_connections (LEAST_CONN)",
    );
}

/// `SessionType`: not on HTTP or HTTPS (every source agrees), and
/// `QUIC_CID` needs protocol UDP and scheduler WRR (seed;
/// `InvalidParameterValue`). TCP_SSL and QUIC are accepted: CreateListener
/// documents TCP and UDP, but ModifyListener's SDK model documents
/// TCP/UDP/TCP_SSL/QUIC; the sources disagree, so the vendor answers.
fn session_type_rules(spec: &ListenerSpec, opts: &ClbOptions, r: &mut Rejections) {
    let Some(st) = opts.session_type else { return };
    let field = ext("session_type");
    r.reject_if(
        is_http(spec.protocol),
        field.clone(),
        INVALID_VALUE,
        "SessionType applies to TCP, UDP, TCP_SSL and QUIC listeners, not HTTP or HTTPS",
    );
    if st == SessionType::QuicCid {
        r.reject_if(
            matches!(spec.protocol, Protocol::Tcp | Protocol::TcpSsl | Protocol::Quic),
            field.clone(),
            INVALID_VALUE,
            "QUIC_CID session persistence needs protocol UDP (both CreateListener and ModifyListener say so)",
        );
        r.reject_if(
            spec.scheduler.is_some_and(|s| s != Scheduler::WeightedRoundRobin),
            field,
            INVALID_VALUE,
            "QUIC_CID session persistence needs the WRR scheduler",
        );
    }
}

/// `KeepaliveEnable` applies to HTTP and HTTPS only (seed;
/// `InvalidParameterValue`).
fn keepalive_layer7(spec: &ListenerSpec, opts: &ClbOptions, r: &mut Rejections) {
    r.reject_if(
        opts.keepalive.is_some() && !is_http(spec.protocol),
        ext("keepalive"),
        INVALID_VALUE,
        "KeepaliveEnable applies to HTTP and HTTPS listeners only",
    );
}

/// `ProxyProtocol` applies to TCP_SSL and QUIC only (seed;
/// `InvalidParameterValue`). CLB TCP and UDP pass the client address
/// through unchanged, so `proxy_protocol` there has no parameter.
fn proxy_protocol_protocols(spec: &ListenerSpec, r: &mut Rejections) {
    let pp = spec.client_ip.as_ref().map(|c| c.mode) == Some(ClientIpMode::ProxyProtocol);
    r.reject_if(
        pp && is_layer4(spec.protocol),
        "client_ip.mode",
        INVALID_VALUE,
        "CLB sends Proxy Protocol on TCP_SSL and QUIC listeners only",
    );
}

/// `IdleConnectTimeout`: TCP and UDP only (seed; `InvalidParameterValue`),
/// and within [`IDLE_RANGE`]. Only values no instance can take are
/// refused: 900 s (shared) or 1980 s (LCU) are defaults a ticket can raise
/// to 3600 s (ModifyListener's SDK model), so the vendor answers above them.
fn idle_timeout_rules(spec: &ListenerSpec, r: &mut Rejections) {
    let Some(idle) = spec.timeouts.as_ref().and_then(|t| t.idle_secs) else {
        return;
    };
    r.reject_if(
        !is_layer4(spec.protocol),
        "timeouts.idle_secs",
        INVALID_VALUE,
        "CLB takes an idle timeout on TCP and UDP listeners only",
    );
    r.reject_if(
        !(IDLE_RANGE.0..=IDLE_RANGE.1).contains(&idle),
        "timeouts.idle_secs",
        INVALID_VALUE,
        format!(
            "CLB idle timeouts are {} to {} seconds at most (above 900, or 1980 on LCU instances, only by ticket)",
            IDLE_RANGE.0, IDLE_RANGE.1
        ),
    );
}

/// `MaxConn` / `MaxCps`: TCP, UDP, TCP_SSL and QUIC only, -1 (unlimited)
/// or more (seed; `InvalidParameterValue`).
fn lcu_limits(spec: &ListenerSpec, opts: &ClbOptions, r: &mut Rejections) {
    for (field, v) in [("max_conn", opts.max_conn), ("max_cps", opts.max_cps)] {
        let Some(v) = v else { continue };
        r.reject_if(
            is_http(spec.protocol),
            ext(field),
            INVALID_VALUE,
            "MaxConn and MaxCps apply to TCP, UDP, TCP_SSL and QUIC listeners only",
        );
        r.reject_if(
            v < -1,
            ext(field),
            INVALID_VALUE,
            "-1 means unlimited; lower values are invalid",
        );
    }
}

/// `TargetType`, `DeregisterTargetRst` and the rescheduling options apply
/// to TCP and UDP only; rescheduling times are 0–3600 s (seed;
/// `InvalidParameterValue`).
fn layer4_only_options(spec: &ListenerSpec, opts: &ClbOptions, r: &mut Rejections) {
    let l4 = is_layer4(spec.protocol);
    for (field, set) in [
        ("target_type", opts.target_type.is_some()),
        ("deregister_target_rst", opts.deregister_target_rst.is_some()),
        (
            "reschedule_target_zero_weight",
            opts.reschedule_target_zero_weight.is_some(),
        ),
        ("reschedule_unhealthy", opts.reschedule_unhealthy.is_some()),
        ("reschedule_expand_target", opts.reschedule_expand_target.is_some()),
        ("reschedule_start_time", opts.reschedule_start_time.is_some()),
        ("reschedule_interval", opts.reschedule_interval.is_some()),
    ] {
        r.reject_if(
            set && !l4,
            ext(field),
            INVALID_VALUE,
            "this option applies to TCP and UDP listeners only",
        );
    }
    for (field, v) in [
        ("reschedule_start_time", opts.reschedule_start_time),
        ("reschedule_interval", opts.reschedule_interval),
    ] {
        r.reject_if(
            v.is_some_and(|v| v > 3600),
            ext(field),
            INVALID_VALUE,
            "rescheduling times are 0 to 3600 seconds",
        );
    }
}

/// `H2cSwitch` applies to HTTP and `SslCloseSwitch` to TCP_SSL listeners
/// (seed; `InvalidParameterValue`). Both are fixed at creation.
fn creation_switches(spec: &ListenerSpec, opts: &ClbOptions, r: &mut Rejections) {
    r.reject_if(
        opts.h2c.is_some() && spec.protocol != Protocol::Http,
        ext("h2c"),
        INVALID_VALUE,
        "H2cSwitch applies to HTTP listeners only",
    );
    r.reject_if(
        opts.ssl_close.is_some() && spec.protocol != Protocol::TcpSsl,
        ext("ssl_close"),
        INVALID_VALUE,
        "SslCloseSwitch applies to TCP_SSL listeners only",
    );
}

/// Where the listeners of one load balancer go past CLB's default quota of
/// 50 (`LimitExceeded`): a warning on the spec that crosses it, with its
/// index. The quota is adjustable in the quota centre, so this is a
/// warning, not a refusal; the vendor answers if the quota of this load
/// balancer was not raised.
pub fn listener_quota_warnings(specs: &[ListenerSpec]) -> Vec<(usize, listener_core::Warning)> {
    let mut out = Vec::new();
    let mut total: usize = 0;
    for (i, s) in specs.iter().enumerate() {
        let before = total;
        total = total.saturating_add(s.ports.ranges().len());
        if before <= MAX_LISTENERS as usize && total > MAX_LISTENERS as usize {
            out.push((
                i,
                listener_core::Warning::new(
                    API,
                    "listeners",
                    LIMIT,
                    format!(
                        "with this spec the load balancer would hold {total} listeners; CLB's default quota is {MAX_LISTENERS}, so it must have been raised"
                    ),
                ),
            ));
        }
    }
    out
}

/// Rules over the listeners of one load balancer: one listener per port
/// per transport (HTTP, HTTPS, TCP and TCP_SSL share the TCP side; UDP and
/// QUIC the UDP side; `InvalidParameter.PortCheckFailed`). The quota of 50
/// is only a warning ([`listener_quota_warnings`]).
pub fn check_set(specs: &[ListenerSpec]) -> Vec<(usize, listener_core::Rejection)> {
    let mut out = Vec::new();
    for (i, j) in listener_core::validate::port_clashes(specs) {
        let (a, b) = (&specs[i], &specs[j]);
        out.push((
            j,
            listener_core::Rejection::new(
                API,
                "ports",
                PORT_CHECK,
                format!(
                    "ports {} overlap listener `{}` (ports {}) on the same CLB port space",
                    b.ports, a.name, a.ports
                ),
            ),
        ));
    }
    out
}

// ---------------------------------------------------------------------------
// spec → parameters
// ---------------------------------------------------------------------------

/// The CLB name of a neutral scheduler, `None` when CLB has none.
pub fn scheduler_name(s: Scheduler) -> Option<&'static str> {
    match s {
        Scheduler::WeightedRoundRobin => Some("WRR"),
        Scheduler::LeastConnections => Some("LEAST_CONN"),
        Scheduler::RoundRobin | Scheduler::LeastLatency => None,
    }
}

pub(crate) fn check_type(k: HealthCheckKind) -> &'static str {
    match k {
        HealthCheckKind::Tcp => "TCP",
        HealthCheckKind::Ping => "PING",
        HealthCheckKind::Http => "HTTP",
        HealthCheckKind::Custom => "CUSTOM",
    }
}

/// `HttpCode` bitmask from status classes: 1xx = 1, 2xx = 2, 3xx = 4,
/// 4xx = 8, 5xx = 16.
pub fn http_code_mask(classes: &[u8]) -> u32 {
    classes
        .iter()
        .filter(|c| (1..=5).contains(*c))
        .fold(0, |m, c| m | (1u32 << (c - 1)))
}

/// Status classes from an `HttpCode` bitmask, ascending.
pub fn http_code_classes(mask: u64) -> Vec<u8> {
    (1u8..=5).filter(|c| mask & (1u64 << (c - 1)) != 0).collect()
}

/// An HTTP probe's fields of a `HealthCheck` object (a listener's or a
/// rule's): `HttpCheckPath`, `HttpCheckDomain`, `HttpCheckMethod`,
/// `HttpCode`, each only when set.
pub(crate) fn http_probe_fields(http: &HttpHealthCheck, m: &mut Map<String, Value>) {
    if let Some(p) = &http.path {
        m.insert("HttpCheckPath".into(), json!(p));
    }
    if let Some(d) = &http.domain {
        m.insert("HttpCheckDomain".into(), json!(d));
    }
    if let Some(method) = http.method {
        m.insert("HttpCheckMethod".into(), json!(method.as_upper()));
    }
    if !http.healthy_status_classes.is_empty() {
        m.insert("HttpCode".into(), json!(http_code_mask(&http.healthy_status_classes)));
    }
}

/// The `HealthCheck` object for a spec, `None` when it has no health check.
pub fn health_check_param(spec: &ListenerSpec, opts: &ClbOptions) -> Option<Value> {
    let hc = spec.health_check.as_ref()?;
    let mut m = Map::new();
    m.insert("HealthSwitch".into(), json!(if hc.enabled { 1 } else { 0 }));
    if let Some(t) = hc.timeout_secs {
        m.insert("TimeOut".into(), json!(t));
    }
    if let Some(i) = hc.interval_secs {
        m.insert("IntervalTime".into(), json!(i));
    }
    if let Some(n) = hc.healthy_threshold {
        m.insert("HealthNum".into(), json!(n));
    }
    if let Some(n) = hc.unhealthy_threshold {
        m.insert("UnHealthNum".into(), json!(n));
    }
    if let Some(p) = hc.port {
        m.insert("CheckPort".into(), json!(p));
    }
    if let Some(k) = hc.kind {
        m.insert("CheckType".into(), json!(check_type(k)));
    }
    if hc.kind == Some(HealthCheckKind::Http) {
        if let Some(http) = &hc.http {
            http_probe_fields(http, &mut m);
        }
        let version = opts
            .health_check_http_version
            .or((spec.protocol == Protocol::Tcp).then_some(HttpVersion::Http11));
        if let Some(v) = version {
            m.insert("HttpVersion".into(), json!(v.vendor()));
        }
    }
    if hc.kind == Some(HealthCheckKind::Custom) {
        m.insert(
            "ContextType".into(),
            json!(opts.health_check_context_type.unwrap_or(ContextType::Text).vendor()),
        );
        if let Some(c) = &hc.custom {
            if let Some(s) = &c.send {
                m.insert("SendContext".into(), json!(s));
            }
            if let Some(e) = &c.expect {
                m.insert("RecvContext".into(), json!(e));
            }
        }
    }
    if let Some(s) = opts.health_check_source_ip_type {
        m.insert("SourceIpType".into(), json!(s));
    }
    Some(Value::Object(m))
}

/// The certificate parameter: `("Certificate", …)` for one server
/// certificate, `("MultiCertInfo", …)` for several (of different key
/// algorithms), never both; `None` without certificates (SNI on).
pub fn certificate_param(profile: &ProfileConfig, spec: &ListenerSpec) -> Option<(&'static str, Value)> {
    let tls = spec.tls.as_ref()?;
    let certs = profile.aliases.certificate_ids(&tls.certificates);
    if certs.is_empty() {
        return None;
    }
    let ca = tls.client_auth.as_ref().map(|ca| {
        let ids = profile.aliases.certificate_ids(&ca.ca_certificates);
        let verify = match ca.verify {
            ClientVerify::Required => "ON",
            ClientVerify::Optional => "OPTIONAL",
        };
        (ids.into_iter().next(), verify)
    });
    let mode = if ca.is_some() { "MUTUAL" } else { "UNIDIRECTIONAL" };
    let mut m = Map::new();
    m.insert("SSLMode".into(), json!(mode));
    if let Some((_, verify)) = &ca {
        m.insert("SSLVerifyClient".into(), json!(verify));
    }
    if certs.len() == 1 {
        m.insert("CertId".into(), json!(certs[0]));
        if let Some((Some(ca_id), _)) = &ca {
            m.insert("CertCaId".into(), json!(ca_id));
        }
        Some(("Certificate", Value::Object(m)))
    } else {
        let mut list: Vec<Value> = certs.iter().map(|c| json!({ "CertId": c })).collect();
        if let Some((Some(ca_id), _)) = &ca {
            list.push(json!({ "CertId": ca_id }));
        }
        m.insert("CertList".into(), Value::Array(list));
        Some(("MultiCertInfo", Value::Object(m)))
    }
}

/// Parameters that CreateListener and ModifyListener share, for the fields
/// of `spec` that are set.
fn common_params(profile: &ProfileConfig, spec: &ListenerSpec, opts: &ClbOptions, m: &mut Map<String, Value>) {
    let p = spec.protocol;
    if let Some(hc) = health_check_param(spec, opts) {
        m.insert("HealthCheck".into(), hc);
    }
    if let Some((key, cert)) = certificate_param(profile, spec) {
        m.insert(key.into(), cert);
    }
    if let Some(t) = spec.session_persistence.as_ref().and_then(|s| s.timeout_secs) {
        m.insert("SessionExpireTime".into(), json!(t));
    }
    if let Some(name) = spec.scheduler.and_then(scheduler_name) {
        m.insert("Scheduler".into(), json!(name));
    }
    if let Some(idle) = spec.timeouts.as_ref().and_then(|t| t.idle_secs) {
        m.insert("IdleConnectTimeout".into(), json!(idle));
    }
    if let Some(ci) = &spec.client_ip {
        if matches!(p, Protocol::TcpSsl | Protocol::Quic) {
            m.insert("ProxyProtocol".into(), json!(ci.mode == ClientIpMode::ProxyProtocol));
        }
    }
    if let Some(v) = opts.snat {
        m.insert("SnatEnable".into(), json!(v));
    }
    if let Some(v) = opts.max_conn {
        m.insert("MaxConn".into(), json!(v));
    }
    if let Some(v) = opts.max_cps {
        m.insert("MaxCps".into(), json!(v));
    }
    if let Some(v) = opts.target_type {
        m.insert("TargetType".into(), json!(v.vendor()));
    }
    if let Some(v) = opts.session_type {
        m.insert("SessionType".into(), json!(v.vendor()));
    }
    if let Some(v) = opts.keepalive {
        m.insert("KeepaliveEnable".into(), json!(if v { 1 } else { 0 }));
    }
    for (key, v) in [
        ("DeregisterTargetRst", opts.deregister_target_rst),
        ("RescheduleTargetZeroWeight", opts.reschedule_target_zero_weight),
        ("RescheduleUnhealthy", opts.reschedule_unhealthy),
        ("RescheduleExpandTarget", opts.reschedule_expand_target),
    ] {
        if let Some(v) = v {
            m.insert(key.into(), json!(v));
        }
    }
    if let Some(v) = opts.reschedule_start_time {
        m.insert("RescheduleStartTime".into(), json!(v));
    }
    if let Some(v) = opts.reschedule_interval {
        m.insert("RescheduleInterval".into(), json!(v));
    }
    if let Some(v) = opts.data_compress_mode {
        m.insert("DataCompressMode".into(), json!(v.vendor()));
    }
}

/// CreateListener parameters for the given port entries of `spec` (all of
/// them, or the ones still missing after a lost answer), every listener
/// named after the spec. See [`create_params_named`].
///
/// Total on any spec (a spec `check` refuses still translates), so raw
/// requests can be built for tests.
pub fn create_params(
    profile: &ProfileConfig,
    load_balancer_id: &str,
    spec: &ListenerSpec,
    ports: &[PortRange],
) -> Value {
    let named: Vec<(PortRange, String)> = ports.iter().map(|r| (*r, spec.name.clone())).collect();
    create_params_named(profile, load_balancer_id, spec, &named)
}

/// CreateListener parameters making one listener per port entry, each
/// with its own name: `ListenerNames` pairs one to one with `Ports`, which
/// is what lets one call make the listeners of several file entries (see
/// [`create_groups`]). Everything but the names and ports comes from
/// `spec`. Single ports go in `Ports`; one range is `Ports` = its start
/// plus `EndPort`; several ranges are their starts plus `FullEndPorts`.
pub fn create_params_named(
    profile: &ProfileConfig,
    load_balancer_id: &str,
    spec: &ListenerSpec,
    ports: &[(PortRange, String)],
) -> Value {
    let opts = options(spec).unwrap_or_default();
    let mut m = Map::new();
    m.insert("LoadBalancerId".into(), json!(load_balancer_id));
    m.insert(
        "Ports".into(),
        Value::Array(ports.iter().map(|(r, _)| json!(r.from)).collect()),
    );
    m.insert("Protocol".into(), json!(protocol_name(spec.protocol)));
    m.insert(
        "ListenerNames".into(),
        Value::Array(ports.iter().map(|(_, name)| json!(mark_name(profile, name))).collect()),
    );
    if ports.iter().any(|(r, _)| r.from != r.to) {
        if ports.len() == 1 {
            m.insert("EndPort".into(), json!(ports[0].0.to));
        } else {
            m.insert(
                "FullEndPorts".into(),
                Value::Array(ports.iter().map(|(r, _)| json!(r.to)).collect()),
            );
        }
    }
    if spec.protocol == Protocol::Https {
        m.insert("SniSwitch".into(), json!(if sni_on(spec) { 1 } else { 0 }));
    }
    common_params(profile, spec, &opts, &mut m);
    if let Some(v) = opts.h2c {
        m.insert("H2cSwitch".into(), json!(v));
    }
    if let Some(v) = opts.ssl_close {
        m.insert("SslCloseSwitch".into(), json!(v));
    }
    Value::Object(m)
}

/// Most listeners one CreateListener call is asked to make. CLB documents
/// no limit on `Ports` beyond the load balancer's quota (a call can never
/// make more listeners than the instance may hold), so the quota is the cap.
pub const MAX_PORTS_PER_CALL: usize = MAX_LISTENERS as usize;

/// The listeners one CreateListener call makes: specs that are identical
/// except their names and ports, one listener per port entry.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateGroup {
    /// The first member's spec; everything but its name and ports is what
    /// every member shares, and what the call sends.
    pub spec: ListenerSpec,
    /// Each port entry with the name of the spec it came from.
    pub ports: Vec<(PortRange, String)>,
}

impl CreateGroup {
    /// The port entries alone.
    pub fn ranges(&self) -> Vec<PortRange> {
        self.ports.iter().map(|(r, _)| *r).collect()
    }

    /// The named entries among `ranges` (what is left to make after a
    /// lost answer).
    pub fn only(&self, ranges: &[PortRange]) -> Vec<(PortRange, String)> {
        self.ports.iter().filter(|(r, _)| ranges.contains(r)).cloned().collect()
    }
}

/// `spec` with its name and ports blanked: two specs that compare equal
/// this way can share one CreateListener call.
fn shared_part(spec: &ListenerSpec) -> ListenerSpec {
    let mut s = spec.clone();
    s.name = String::new();
    s.ports = Ports::Single(0);
    s
}

/// Put specs into as few CreateListener calls as CLB allows: one call
/// takes `Ports` with `ListenerNames` one to one and every other parameter
/// once, so specs that differ only in name and ports share a call, up to
/// `max_per_call` listeners. Single ports and ranges never share one:
/// `FullEndPorts` needs every entry to be a range. Order is kept: members
/// appear in the order of `specs`, groups in the order of their first member.
pub fn create_groups(specs: &[ListenerSpec], max_per_call: usize) -> Vec<CreateGroup> {
    let max = max_per_call.max(1);
    let mut groups: Vec<(ListenerSpec, bool, CreateGroup)> = Vec::new();
    for spec in specs {
        let key = shared_part(spec);
        for r in spec.ports.ranges() {
            let is_range = r.from != r.to;
            let open = groups
                .iter_mut()
                .find(|(k, range, g)| *range == is_range && g.ports.len() < max && *k == key);
            match open {
                Some((_, _, g)) => g.ports.push((r, spec.name.clone())),
                None => groups.push((
                    key.clone(),
                    is_range,
                    CreateGroup {
                        spec: spec.clone(),
                        ports: vec![(r, spec.name.clone())],
                    },
                )),
            }
        }
    }
    groups.into_iter().map(|(_, _, g)| g).collect()
}

/// Whether `desired` turns SNI on for a listener that has it off: the one
/// direction ModifyListener's `SniSwitch` allows in place ("a listener
/// without SNI can switch it on; a listener with SNI cannot switch it
/// off", ModifyListener SDK model; factsheet: `SniSwitch` 0 to 1 only).
pub fn sni_switched_on(current: &ListenerSpec, desired: &ListenerSpec) -> bool {
    current.protocol == Protocol::Https && !sni_on(current) && sni_on(desired)
}

/// [`listener_core::plan_change`] with `tls.sni` immutable in one
/// direction only. `tls.sni` stays in the declared immutable fields (so
/// switching SNI off plans a replacement, as every source agrees), and
/// switching it on is taken out of the replacement list: ModifyListener
/// sends `SniSwitch = 1` in place.
pub fn plan_change(caps: &Capabilities, current: &ListenerSpec, desired: &ListenerSpec) -> ChangePlan {
    let mut plan = listener_core::plan_change(caps, current, desired);
    if sni_switched_on(current, desired) {
        plan.immutable.retain(|f| f != "tls.sni");
    }
    plan
}

/// [`listener_core::refuse_immutable`] under [`plan_change`]'s rule, for
/// `update` to return before anything is sent.
pub fn refuse_immutable(caps: &Capabilities, current: &Listener, desired: &ListenerSpec) -> listener_core::Result<()> {
    match plan_change(caps, &current.spec, desired).immutable.into_iter().next() {
        Some(field) => Err(listener_core::Error::ImmutableField {
            vendor: caps.api,
            field,
            listener_id: current.id.0.clone(),
        }),
        None => Ok(()),
    }
}

/// ModifyListener parameters turning `current` into `desired`: only the
/// fields that differ, plus the write-only ones `desired` sets (they cannot
/// be compared and setting them again is harmless). `None` when there is
/// nothing to send. Immutable fields are refused before this is called.
pub fn modify_params(
    profile: &ProfileConfig,
    load_balancer_id: &str,
    listener_id: &str,
    current: &ListenerSpec,
    desired: &ListenerSpec,
) -> Option<Value> {
    let opts = options(desired).unwrap_or_default();
    let cur_opts = options(current).unwrap_or_default();
    let changed: Vec<String> = listener_core::diff::diff_specs(current, desired)
        .into_iter()
        .map(|c| c.path)
        .collect();
    let touched = |root: &str| {
        changed
            .iter()
            .any(|p| listener_core::capabilities::path_within(p, root))
    };
    let mut all = Map::new();
    common_params(profile, desired, &opts, &mut all);
    if desired.session_persistence.is_none() {
        // Absent means off (the core's `ABSENCE_MEANS_OFF`); 0 is CLB's off.
        all.insert("SessionExpireTime".into(), json!(0));
    }
    let mut m = Map::new();
    if touched("name") {
        m.insert("ListenerName".into(), json!(mark_name(profile, &desired.name)));
    }
    if sni_switched_on(current, desired) {
        // Only 0 -> 1 reaches here: 1 -> 0 is refused as immutable.
        m.insert("SniSwitch".into(), json!(1));
    }
    let mut take = |key: &str, changed: bool| {
        if changed {
            if let Some(v) = all.get(key) {
                m.insert(key.to_string(), v.clone());
            }
        }
    };
    let hc_opts_changed = opts.health_check_http_version != cur_opts.health_check_http_version
        && opts.health_check_http_version.is_some()
        || opts.health_check_context_type != cur_opts.health_check_context_type
            && opts.health_check_context_type.is_some()
        || opts.health_check_source_ip_type != cur_opts.health_check_source_ip_type
            && opts.health_check_source_ip_type.is_some();
    take("HealthCheck", touched("health_check") || hc_opts_changed);
    let certs = touched("tls.certificates") || touched("tls.client_auth");
    take("Certificate", certs);
    take("MultiCertInfo", certs);
    take("SessionExpireTime", touched("session_persistence"));
    take("Scheduler", touched("scheduler"));
    take("IdleConnectTimeout", touched("timeouts.idle_secs"));
    // Write-only: never read back, so sent whenever desired sets them.
    take("ProxyProtocol", true);
    take("SnatEnable", true);
    take("RescheduleTargetZeroWeight", true);
    take("RescheduleUnhealthy", true);
    take("RescheduleExpandTarget", true);
    for (key, field) in [
        ("MaxConn", "max_conn"),
        ("MaxCps", "max_cps"),
        ("TargetType", "target_type"),
        ("SessionType", "session_type"),
        ("KeepaliveEnable", "keepalive"),
        ("DeregisterTargetRst", "deregister_target_rst"),
        ("RescheduleStartTime", "reschedule_start_time"),
        ("RescheduleInterval", "reschedule_interval"),
        ("DataCompressMode", "data_compress_mode"),
    ] {
        take(key, touched(&ext(field)));
    }
    if m.is_empty() {
        return None;
    }
    m.insert("LoadBalancerId".into(), json!(load_balancer_id));
    m.insert("ListenerId".into(), json!(listener_id));
    Some(Value::Object(m))
}

// ---------------------------------------------------------------------------
// answer → spec
// ---------------------------------------------------------------------------

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|x| !x.is_empty())
}

fn n(v: &Value, key: &str) -> Option<i64> {
    v.get(key)
        .and_then(|x| x.as_i64().or_else(|| x.as_str().and_then(|s| s.parse().ok())))
}

fn u(v: &Value, key: &str) -> Option<u32> {
    n(v, key).and_then(|x| u32::try_from(x).ok())
}

fn b(v: &Value, key: &str) -> Option<bool> {
    v.get(key)
        .and_then(|x| x.as_bool().or_else(|| x.as_i64().map(|i| i != 0)))
}

/// One entry of DescribeListeners' `Listeners` as a [`Listener`], with
/// certificate IDs mapped back to the profile's aliases. `None` when the
/// entry lacks an ID, a known protocol or a port.
pub fn listener_from_describe(profile: &ProfileConfig, load_balancer_id: &str, v: &Value) -> Option<Listener> {
    let id = s(v, "ListenerId")?;
    let protocol = protocol_from_name(s(v, "Protocol")?)?;
    let port = u(v, "Port")?;
    let end = u(v, "EndPort").unwrap_or(0);
    let ports = if end > port {
        Ports::Range(PortRange { from: port, to: end })
    } else {
        Ports::Single(port)
    };
    let (name, owner) = listener_core::mark::split_name(s(v, "ListenerName").unwrap_or(""));
    let mut spec = ListenerSpec::new(name, protocol, ports);
    spec.tls = tls_from_describe(profile, protocol, v);
    let l4_or_tls = !is_http(protocol);
    if l4_or_tls {
        if let Some(hc) = v.get("HealthCheck").filter(|h| h.is_object()) {
            spec.health_check = Some(health_check_from_describe(hc));
        }
        spec.scheduler = match s(v, "Scheduler") {
            Some("WRR") => Some(Scheduler::WeightedRoundRobin),
            Some("LEAST_CONN") => Some(Scheduler::LeastConnections),
            _ => None,
        };
    }
    if let Some(t) = u(v, "SessionExpireTime").filter(|t| *t > 0) {
        spec.session_persistence = Some(SessionPersistence {
            by: AffinityKey::SourceIp,
            timeout_secs: Some(t),
        });
    }
    if is_layer4(protocol) {
        if let Some(idle) = u(v, "IdleConnectTimeout").filter(|i| *i > 0) {
            spec.timeouts = Some(Timeouts {
                idle_secs: Some(idle),
                request_secs: None,
            });
        }
    }
    let opts = options_from_describe(protocol, v);
    if opts != ClbOptions::default() {
        spec.extensions.insert(API, &opts);
    }
    Some(
        Listener {
            id: ListenerId(id.to_string()),
            instance: load_balancer_id.to_string(),
            status: ListenerStatus::Running,
            spec,
            owner: None,
            managed: false,
        }
        .with_owner(owner, profile.owner()),
    )
}

fn tls_from_describe(profile: &ProfileConfig, protocol: Protocol, v: &Value) -> Option<Tls> {
    if !protocol.terminates_tls() {
        return None;
    }
    let cert = v.get("Certificate").filter(|c| c.is_object());
    let mut certificates = Vec::new();
    let mut client_auth = None;
    if let Some(c) = cert {
        if let Some(id) = s(c, "CertId") {
            certificates.push(profile.aliases.certificate_alias_of(id));
        }
        if let Some(ext) = c.get("ExtCertIds").and_then(Value::as_array) {
            certificates.extend(
                ext.iter()
                    .filter_map(Value::as_str)
                    .filter(|x| !x.is_empty())
                    .map(|x| profile.aliases.certificate_alias_of(x)),
            );
        }
        if s(c, "SSLMode") == Some("MUTUAL") {
            client_auth = Some(listener_core::ClientAuth {
                verify: if s(c, "SSLVerifyClient") == Some("OPTIONAL") {
                    ClientVerify::Optional
                } else {
                    ClientVerify::Required
                },
                ca_certificates: s(c, "CertCaId")
                    .map(|x| vec![profile.aliases.certificate_alias_of(x)])
                    .unwrap_or_default(),
            });
        }
    }
    if certificates.is_empty() && protocol == Protocol::Https && n(v, "SniSwitch") == Some(1) {
        // With SNI on CLB keeps no listener certificate; the default
        // domain's stands for it (see `crate::routes`), client CA included.
        certificates.extend(crate::rules::listener_certificate(v).map(|id| profile.aliases.certificate_alias_of(&id)));
        if let Some(ca) = crate::rules::listener_client_ca(v) {
            client_auth = Some(listener_core::ClientAuth {
                verify: if ca.verify == "OPTIONAL" {
                    ClientVerify::Optional
                } else {
                    ClientVerify::Required
                },
                ca_certificates: vec![profile.aliases.certificate_alias_of(&ca.ca)],
            });
        }
    }
    Some(Tls {
        certificates,
        policy: None,
        http2: None,
        http3: None,
        sni: (protocol == Protocol::Https).then(|| n(v, "SniSwitch") == Some(1)),
        client_auth,
    })
}

pub(crate) fn health_check_from_describe(hc: &Value) -> HealthCheck {
    let kind = match s(hc, "CheckType") {
        Some("TCP") => Some(HealthCheckKind::Tcp),
        Some("HTTP") => Some(HealthCheckKind::Http),
        Some("PING") => Some(HealthCheckKind::Ping),
        Some("CUSTOM") => Some(HealthCheckKind::Custom),
        _ => None,
    };
    let http = (kind == Some(HealthCheckKind::Http)).then(|| HttpHealthCheck {
        path: s(hc, "HttpCheckPath").map(str::to_string),
        domain: s(hc, "HttpCheckDomain").map(str::to_string),
        method: s(hc, "HttpCheckMethod").and_then(HttpMethod::from_upper),
        healthy_status_classes: n(hc, "HttpCode")
            .and_then(|m| u64::try_from(m).ok())
            .map(http_code_classes)
            .unwrap_or_default(),
    });
    let custom = (kind == Some(HealthCheckKind::Custom)).then(|| listener_core::CustomHealthCheck {
        send: s(hc, "SendContext").map(str::to_string),
        expect: s(hc, "RecvContext").map(str::to_string),
    });
    HealthCheck {
        enabled: n(hc, "HealthSwitch") != Some(0),
        kind,
        interval_secs: u(hc, "IntervalTime"),
        timeout_secs: u(hc, "TimeOut"),
        healthy_threshold: u(hc, "HealthNum"),
        unhealthy_threshold: u(hc, "UnHealthNum"),
        port: u(hc, "CheckPort").filter(|p| *p > 0),
        http,
        custom,
    }
}

fn options_from_describe(protocol: Protocol, v: &Value) -> ClbOptions {
    let l4 = is_layer4(protocol);
    let hc = v.get("HealthCheck").filter(|h| h.is_object() && !is_http(protocol));
    let check_type = hc.and_then(|h| s(h, "CheckType"));
    ClbOptions {
        max_conn: if is_http(protocol) { None } else { n(v, "MaxConn") },
        max_cps: if is_http(protocol) { None } else { n(v, "MaxCps") },
        target_type: match (l4, s(v, "TargetType")) {
            (true, Some("NODE")) => Some(TargetType::Node),
            (true, Some("TARGETGROUP")) => Some(TargetType::TargetGroup),
            _ => None,
        },
        // Read wherever ModifyListener can set it (TCP, UDP, TCP_SSL, QUIC).
        session_type: match (!is_http(protocol), s(v, "SessionType")) {
            (true, Some("NORMAL")) => Some(SessionType::Normal),
            (true, Some("QUIC_CID")) => Some(SessionType::QuicCid),
            _ => None,
        },
        keepalive: if is_http(protocol) {
            n(v, "KeepaliveEnable").map(|k| k == 1)
        } else {
            None
        },
        deregister_target_rst: if l4 { b(v, "DeregisterTargetRst") } else { None },
        reschedule_start_time: if l4 { u(v, "RescheduleStartTime") } else { None },
        reschedule_interval: if l4 { u(v, "RescheduleInterval") } else { None },
        data_compress_mode: match s(v, "DataCompressMode") {
            Some("transparent") => Some(DataCompressMode::Transparent),
            Some("compatibility") => Some(DataCompressMode::Compatibility),
            _ => None,
        },
        health_check_http_version: match (check_type, hc.and_then(|h| s(h, "HttpVersion"))) {
            (Some("HTTP"), Some("HTTP/1.0")) => Some(HttpVersion::Http10),
            (Some("HTTP"), Some("HTTP/1.1")) => Some(HttpVersion::Http11),
            _ => None,
        },
        health_check_context_type: match (check_type, hc.and_then(|h| s(h, "ContextType"))) {
            (Some("CUSTOM"), Some("HEX")) => Some(ContextType::Hex),
            (Some("CUSTOM"), Some("TEXT")) => Some(ContextType::Text),
            _ => None,
        },
        health_check_source_ip_type: hc.and_then(|h| n(h, "SourceIpType")).and_then(|x| u8::try_from(x).ok()),
        ..ClbOptions::default()
    }
}

#[cfg(test)]
#[path = "translate_tests.rs"]
mod tests;
