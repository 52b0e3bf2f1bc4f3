//! The neutral spec in GA's terms, both ways, and every rule GA imposes.
//!
//! Three parts, in the order a spec meets them:
//!
//! 1. **Rules** ([`check_rules`], [`check_accelerator`]): each rule GA
//!    documents (in the seed page of CreateListener, the current API pages or
//!    the project's factsheet) is one function below, with a doc comment
//!    naming its source and the vendor's error code, and a unit test next to
//!    it that asserts the rejection's field and rule. A neutral field GA has
//!    no parameter for is a rule too: it is refused with a reason rather than
//!    dropped, so a spec never means more than the listener GA makes.
//! 2. **Spec → parameters** ([`listener_params`], [`create_params`],
//!    [`update_params`]): nested JSON in GA's parameter names; the RPC
//!    client flattens it (`PortRanges.1.FromPort`).
//! 3. **Answer → spec** ([`listener_from_answer`]): DescribeListener and
//!    ListListeners items back into a [`ListenerSpec`], certificate IDs
//!    mapped back to aliases, so that `plan` after `apply` shows no change.
//!
//! Where the sources disagree, a rule rejects only what every source says
//! GA rejects; the disagreements are listed in the crate README.

use std::ops::RangeInclusive;

use listener_core::{
    Aliases, ClientIp, ClientIpMode, Error, ForwardedHeaders, ListenerSpec, PortEntry, PortRange, Ports, Protocol,
    Rejection, Rejections, SessionPersistence, Timeouts, Tls, Warning,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::API;

/// The only region GA's API serves; sent as `RegionId` on every call except
/// DeleteListener.
pub const REGION: &str = "cn-hangzhou";

/// Highest port a listener may use: 65500–65535 are GA's own.
pub const MAX_PORT: u32 = 65499;

/// Ports GA keeps for itself on every protocol (`SystemPort.Listener`).
pub const SYSTEM_PORTS: RangeInclusive<u32> = 65500..=65535;

/// UDP ports GA keeps for itself (`PortRangeIllegal.UDP`).
pub const UDP_RESERVED_PORTS: [u32; 3] = [250, 4789, 4790];

/// A listener with more ports than this is a "huge port" listener: one
/// range only, and one such listener per protocol per accelerator.
pub const HUGE_LISTENER_PORTS: u64 = 300;

/// GA's default quota of ports per TCP/UDP listener. Adjustable per
/// account, so the adapter only warns above it and lets GA decide.
pub const DEFAULT_PORTS_PER_LISTENER: u64 = 30;

/// GA's default quota of listeners per accelerator (`QuotaExceeded.Listener`).
pub const MAX_LISTENERS_PER_ACCELERATOR: usize = 50;

/// Longest listener name, in characters.
pub const NAME_MAX_CHARS: usize = 128;

/// Longest listener description, in characters.
pub const DESCRIPTION_MAX_CHARS: usize = 200;

/// The TLS security policies GA offers for HTTPS listeners.
pub const SECURITY_POLICIES: [&str; 5] = [
    "tls_cipher_policy_1_0",
    "tls_cipher_policy_1_1",
    "tls_cipher_policy_1_2",
    "tls_cipher_policy_1_2_strict",
    "tls_cipher_policy_1_2_strict_with_1_3",
];

/// `RequestTimeout` bounds, seconds (HTTP and HTTPS only).
pub const REQUEST_TIMEOUT_SECS: RangeInclusive<u32> = 1..=180;

/// Additional certificates per listener that every source allows at most
/// (`alibaba.md` §5: 25; the guide D-ga-cert: 3, 10 on request).
pub const MAX_ADDITIONAL_CERTIFICATES: usize = 25;

/// Rule names used as [`Rejection::rule`]: GA's error code where GA has
/// one, else a short name of the rule.
pub mod rule {
    /// A neutral rule (`ListenerSpec::violations`).
    pub const INVALID_SPEC: &str = "invalid_spec";
    /// The `extensions.alibaba-ga` section does not parse (the same rule
    /// name on every adapter).
    pub const EXTENSION_INVALID: &str = listener_core::EXTENSION_INVALID;
    /// Protocol other than tcp, udp, http, https (GA's spelling of the code).
    pub const PROTOCOL_ILLEGAL: &str = "ProtocalIllegal.Listener";
    /// HTTP/HTTPS listeners take exactly one port.
    pub const PORT_RANGES_MUST_ONE: &str = "PortRanges.MustOne";
    /// A range whose start is above its end, or ranges that overlap.
    pub const PORT_RANGE_ILLEGAL: &str = "PortRangeIllegal.Listener";
    /// Ports 65500–65535.
    pub const SYSTEM_PORT: &str = "SystemPort.Listener";
    /// UDP ports 250, 4789, 4790.
    pub const UDP_RESERVED: &str = "PortRangeIllegal.UDP";
    /// A listener of more than 300 ports with several ranges.
    pub const HUGE_PORT_COUNT: &str = "PortRangeIllegal.Count";
    /// A second listener of more than 300 ports for one protocol.
    pub const HUGE_PORT_EXCEEDS: &str = "PortRangeIllegal.ExceedGaAbility";
    /// Two listeners of one accelerator on a shared port.
    pub const PORT_CONFLICT: &str = "PortConflict.Listener";
    /// More listeners than the accelerator's quota.
    pub const LISTENER_QUOTA: &str = "QuotaExceeded.Listener";
    /// The listener-level `ProxyProtocol` is deprecated but still taken: a
    /// warning, not a refusal.
    pub const PROXY_PROTOCOL_DEPRECATED: &str = "proxy_protocol_deprecated";
    /// Name longer than 128 characters.
    pub const NAME_LENGTH: &str = "name_length";
    /// Name not starting with a letter or Chinese character, or with a
    /// character outside letters, digits, Chinese, `.`, `_`, `-`.
    pub const NAME_FORMAT: &str = "name_format";
    /// Description longer than 200 characters.
    pub const DESCRIPTION_LENGTH: &str = "description_length";
    /// Description starting with `http://` or `https://`.
    pub const DESCRIPTION_PREFIX: &str = "description_prefix";
    /// Description holding the management mark's opening.
    pub const DESCRIPTION_MARK: &str = "description_mark";
    /// Certificates, security policy or HTTP version on a non-HTTPS listener.
    pub const HTTPS_ONLY: &str = "https_only";
    /// HTTPS without exactly one server certificate.
    pub const CERTIFICATE_COUNT: &str = "certificate_count";
    /// A security policy GA does not offer.
    pub const SECURITY_POLICY: &str = "security_policy";
    /// HTTP/3 with HTTP/2 switched off: no `HttpVersion` says that.
    pub const HTTP_VERSION: &str = "http_version";
    /// SNI: GA binds extra certificates per domain outside the listener.
    pub const SNI: &str = "sni_unsupported";
    /// More hosts with their own certificate than every source allows.
    pub const ADDITIONAL_CERTIFICATES: &str = "ga_additional_certificate_quota";
    /// Mutual TLS: GA has no client-CA parameter.
    pub const MUTUAL_TLS: &str = "mutual_tls_unsupported";
    /// Affinity timeout: GA's affinity has no duration.
    pub const AFFINITY_TIMEOUT: &str = "affinity_timeout_unsupported";
    /// Idle timeout outside the protocol's range.
    pub const IDLE_TIMEOUT: &str = "idle_timeout_range";
    /// Request timeout outside 1–180.
    pub const REQUEST_TIMEOUT: &str = "request_timeout_range";
    /// A layer-7 setting on a TCP or UDP listener.
    pub const LAYER7_ONLY: &str = "layer7_only";
    /// Turning X-Forwarded-For off on HTTP/HTTPS: GA always adds it.
    pub const X_FORWARDED_FOR_ALWAYS: &str = "x_forwarded_for_always_on";
    /// A forwarded header GA cannot add.
    pub const HEADER: &str = "header_unsupported";
    /// Health checks: GA checks on endpoint groups.
    pub const HEALTH_CHECK: &str = "health_check_on_endpoint_group";
    /// Scheduler: GA spreads by endpoint weight on endpoint groups.
    pub const SCHEDULER: &str = "scheduler_unsupported";
    /// Backend protocol: set on GA endpoint groups.
    /// Custom routing with HTTP or HTTPS.
    pub const CUSTOM_ROUTING_LAYER4: &str = "custom_routing_layer4";
    /// Tags: GA's TagResources takes no listener resource type.
    pub const TAGS: &str = "tags_unsupported";
    /// `enabled`: GA has no action that stops or starts a listener.
    pub const STOP_START: &str = "stop_start_unsupported";
    /// Listeners of one accelerator with different routing types.
    pub const ROUTING_TYPE_MIXED: &str = "routing_type_mixed";
}

// ---------------------------------------------------------------------------
// Vendor words
// ---------------------------------------------------------------------------

/// GA's routing type of a listener (`Type`): fixed at creation, and the same
/// for every listener of one accelerator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoutingType {
    /// Intelligent routing (`Standard`), GA's default.
    #[default]
    Standard,
    /// Custom routing (`CustomRouting`): invite-only, TCP and UDP only.
    CustomRouting,
}

impl RoutingType {
    /// The value of GA's `Type` parameter.
    pub fn as_param(self) -> &'static str {
        match self {
            RoutingType::Standard => "Standard",
            RoutingType::CustomRouting => "CustomRouting",
        }
    }

    /// Read GA's `Type` in any case.
    pub fn from_param(s: &str) -> Option<RoutingType> {
        if s.eq_ignore_ascii_case("Standard") {
            Some(RoutingType::Standard)
        } else if s.eq_ignore_ascii_case("CustomRouting") {
            Some(RoutingType::CustomRouting)
        } else {
            None
        }
    }
}

/// Settings only GA has, under `extensions.alibaba-ga` in a spec.
///
/// Unknown fields are refused, so a typo is a rejection, not a setting that
/// silently does nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GaOptions {
    /// Routing type; GA's default (`standard`) when absent. Cannot change
    /// after creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_type: Option<RoutingType>,
    /// Add the `GA-ID` header (the accelerator's ID) on HTTP/HTTPS
    /// listeners (`XForwardedForConfig.XForwardedForGaIdEnabled`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ga_id_header: Option<bool>,
    /// Add the `GA-AP` header (the acceleration region) on HTTP/HTTPS
    /// listeners (`XForwardedForConfig.XForwardedForGaApEnabled`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ga_ap_header: Option<bool>,
}

impl GaOptions {
    /// The spec's GA section, or the defaults when it is absent or broken
    /// (a broken section is reported by `check`; the rules still run).
    pub fn of(spec: &ListenerSpec) -> GaOptions {
        spec.extensions
            .parse::<GaOptions>(API)
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    /// The routing type, defaulted.
    pub fn routing(&self) -> RoutingType {
        self.routing_type.unwrap_or_default()
    }
}

/// GA's `HttpVersion` of an HTTPS listener: the highest version offered.
///
/// The neutral spec has two switches (`tls.http2`, `tls.http3`); GA has one
/// ladder. `http3` = HTTP/3 offered (with HTTP/2 and 1.1 below it), `http2`
/// = HTTP/2 without HTTP/3, `http1.1` = neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpVersion {
    /// `http1.1`.
    Http1,
    /// `http2`, GA's default.
    Http2,
    /// `http3`.
    Http3,
}

impl HttpVersion {
    /// The value of GA's `HttpVersion` parameter.
    pub fn as_param(self) -> &'static str {
        match self {
            HttpVersion::Http1 => "http1.1",
            HttpVersion::Http2 => "http2",
            HttpVersion::Http3 => "http3",
        }
    }

    /// Read GA's `HttpVersion` in any case.
    pub fn from_param(s: &str) -> Option<HttpVersion> {
        match s.to_ascii_lowercase().as_str() {
            "http1.1" => Some(HttpVersion::Http1),
            "http2" => Some(HttpVersion::Http2),
            "http3" => Some(HttpVersion::Http3),
            _ => None,
        }
    }

    /// The version a TLS section asks for; `None` when it sets neither
    /// switch (GA's default applies) or asks for HTTP/3 without HTTP/2,
    /// which no version means (a rejection).
    pub fn of(tls: &Tls) -> Option<HttpVersion> {
        match (tls.http2, tls.http3) {
            (Some(false), Some(true)) => None,
            (_, Some(true)) => Some(HttpVersion::Http3),
            (Some(true), _) => Some(HttpVersion::Http2),
            (Some(false), _) => Some(HttpVersion::Http1),
            (None, _) => None,
        }
    }

    /// The neutral switches for this version: `(http2, http3)`.
    pub fn switches(self) -> (bool, bool) {
        match self {
            HttpVersion::Http1 => (false, false),
            HttpVersion::Http2 => (true, false),
            HttpVersion::Http3 => (true, true),
        }
    }
}

/// GA's word for a neutral protocol, `None` for protocols GA lacks.
pub fn protocol_param(p: Protocol) -> Option<&'static str> {
    match p {
        Protocol::Tcp => Some("tcp"),
        Protocol::Udp => Some("udp"),
        Protocol::Http => Some("http"),
        Protocol::Https => Some("https"),
        Protocol::Quic | Protocol::TcpSsl => None,
    }
}

/// Read GA's protocol in either case: requests use `tcp`, DescribeListener
/// answers `TCP`.
pub fn protocol_from_param(s: &str) -> Option<Protocol> {
    match s.to_ascii_lowercase().as_str() {
        "tcp" => Some(Protocol::Tcp),
        "udp" => Some(Protocol::Udp),
        "http" => Some(Protocol::Http),
        "https" => Some(Protocol::Https),
        _ => None,
    }
}

/// `IdleTimeout` bounds of a protocol, seconds.
pub fn idle_timeout_secs(p: Protocol) -> RangeInclusive<u32> {
    match p {
        Protocol::Udp => 10..=20,
        Protocol::Http | Protocol::Https => 1..=60,
        _ => 10..=900,
    }
}

fn is_chinese(c: char) -> bool {
    matches!(c,
        '\u{4E00}'..='\u{9FFF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2A6DF}')
}

fn is_layer7(p: Protocol) -> bool {
    matches!(p, Protocol::Http | Protocol::Https)
}

// ---------------------------------------------------------------------------
// Rules of one listener
// ---------------------------------------------------------------------------

/// Every GA rule of one listener, in a fixed order. The neutral rules,
/// aliases and the options section are checked by the caller
/// ([`crate::check`]).
pub fn check_rules(spec: &ListenerSpec, opts: &GaOptions, r: &mut Rejections) {
    reject_unsupported_protocol(spec, r);
    reject_several_ports_on_layer7(spec, r);
    reject_reversed_or_overlapping_ranges(spec, r);
    reject_system_ports(spec, r);
    reject_reserved_udp_ports(spec, r);
    reject_huge_listener_with_several_ranges(spec, r);
    reject_bad_name(spec, r);
    reject_bad_description(spec, r);
    reject_tls_settings_off_https(spec, r);
    reject_https_without_one_certificate(spec, r);
    reject_unknown_security_policy(spec, r);
    reject_http3_without_http2(spec, r);
    reject_sni(spec, r);
    reject_too_many_route_certificates(spec, r);
    reject_route_rules(spec, r);
    reject_mutual_tls(spec, r);
    reject_affinity_timeout(spec, r);
    reject_idle_timeout_out_of_range(spec, r);
    reject_request_timeout(spec, r);
    reject_client_ip_settings(spec, opts, r);
    reject_health_check(spec, r);
    reject_scheduler(spec, r);
    reject_custom_routing_on_layer7(spec, opts, r);
    reject_tags(spec, r);
    reject_enabled(spec, r);
}

/// GA's listener actions are Create, Update, Delete, Describe and List
/// (API reference, Listener); none stops or starts a listener, so
/// `enabled = false` cannot be honoured. `true` is what every GA listener
/// is: accepted, and write-only (never compared), so a portable file may
/// state it.
pub fn reject_enabled(spec: &ListenerSpec, r: &mut Rejections) {
    r.reject_if(
        spec.enabled == Some(false),
        "enabled",
        rule::STOP_START,
        "GA cannot stop or start a listener; set `enabled = false` only where listeners can be stopped",
    );
}

/// GA's `TagResources` takes `ResourceType` `accelerator`,
/// `basicaccelerator`, `bandwidthpackage` or `acl` (API reference,
/// TagResources), and neither CreateListener nor UpdateListener takes a
/// `Tag` parameter: a GA listener carries no tags.
pub fn reject_tags(spec: &ListenerSpec, r: &mut Rejections) {
    r.reject_if(
        !spec.tags.is_empty(),
        "tags",
        rule::TAGS,
        "GA listeners carry no tags (TagResources tags accelerators, bandwidth plans and ACLs); remove `tags`",
    );
}

/// Entries one `CreateAcl` / `AddEntriesToAcl` / `RemoveEntriesFromAcl`
/// call carries ("up to 50 entries at a time", CreateAclRequest).
pub const ACL_ENTRIES_PER_CALL: usize = 50;
/// Entries one GA ACL holds by default (GetAcl: "at most 20"); an
/// adjustable quota, so past it [`crate::check_set`] warns and the vendor
/// answers.
pub const ACL_ENTRIES_PER_ACL: usize = 20;

/// `AclType` of `AssociateAclsWithListener`: `White` forwards only the
/// listed sources, `Black` none of them (AssociateAclsWithListener). The
/// neutral modes mean exactly that.
pub fn acl_type(mode: listener_core::AccessMode) -> &'static str {
    match mode {
        listener_core::AccessMode::Allow => "White",
        listener_core::AccessMode::Deny => "Black",
    }
}

/// `AddressIPVersion` of a canonical CIDR: a GA ACL holds entries of one IP
/// version (CreateAcl: `AddressIPVersion` IPv4 or IPv6, required), so a
/// list with both needs one ACL per version.
pub fn ip_version_of(cidr: &str) -> &'static str {
    if cidr.contains(':') {
        "IPv6"
    } else {
        "IPv4"
    }
}

/// A warning when one IP version of an access list passes the default
/// entries quota of a GA ACL ([`ACL_ENTRIES_PER_ACL`]).
pub fn acl_entries_warning(spec: &ListenerSpec) -> Option<String> {
    let cidrs = &spec.access.as_ref()?.cidrs;
    ["IPv4", "IPv6"].into_iter().find_map(|v| {
        let n = cidrs.iter().filter(|c| ip_version_of(c) == v).count();
        (n > ACL_ENTRIES_PER_ACL).then(|| {
            format!("a GA ACL holds {ACL_ENTRIES_PER_ACL} entries by default (an adjustable quota); this list has {n} {v} entries")
        })
    })
}

/// GA listeners speak tcp, udp, http or https; QUIC and TLS-over-TCP do not
/// exist on GA (seed CreateListener, `Protocol`; code
/// `ProtocalIllegal.Listener`, GA's spelling).
pub fn reject_unsupported_protocol(spec: &ListenerSpec, r: &mut Rejections) {
    r.reject_if(
        protocol_param(spec.protocol).is_none(),
        "protocol",
        rule::PROTOCOL_ILLEGAL,
        format!(
            "GA listeners are tcp, udp, http or https; {} does not exist on GA",
            spec.protocol
        ),
    );
}

/// An HTTP or HTTPS listener takes exactly one port: one range with
/// `FromPort = ToPort` (seed, `PortRanges.N.FromPort` note; code
/// `PortRanges.MustOne`).
pub fn reject_several_ports_on_layer7(spec: &ListenerSpec, r: &mut Rejections) {
    if is_layer7(spec.protocol) {
        r.reject_if(
            spec.ports.as_single().is_none(),
            "ports",
            rule::PORT_RANGES_MUST_ONE,
            format!(
                "GA {} listeners take exactly one port, not {}",
                spec.protocol, spec.ports
            ),
        );
    }
}

/// A range's start may not be above its end, and the ranges of one listener
/// may not overlap (seed, code `PortRangeIllegal.Listener`).
pub fn reject_reversed_or_overlapping_ranges(spec: &ListenerSpec, r: &mut Rejections) {
    let ranges = spec.ports.ranges();
    // Entries that overlap an earlier entry, found in `O(n log n)`.
    let overlapping: std::collections::BTreeSet<usize> =
        listener_core::validate::first_claims(ranges.iter().enumerate().map(|(k, r)| (k, (), *r)))
            .into_iter()
            .map(|(_, j)| j)
            .collect();
    for (i, a) in ranges.iter().enumerate() {
        let path = spec.ports.entry_path(i);
        if a.from > a.to {
            r.reject(
                path,
                rule::PORT_RANGE_ILLEGAL,
                format!("GA refuses a range whose start {} is above its end {}", a.from, a.to),
            );
            continue;
        }
        r.reject_if(
            overlapping.contains(&i),
            path,
            rule::PORT_RANGE_ILLEGAL,
            format!("GA refuses port ranges that overlap within one listener ({a})"),
        );
    }
}

/// Ports 65500–65535 are GA's own (seed, code `SystemPort.Listener`).
pub fn reject_system_ports(spec: &ListenerSpec, r: &mut Rejections) {
    for (i, range) in spec.ports.ranges().iter().enumerate() {
        let hits = range.from <= *SYSTEM_PORTS.end() && range.to >= *SYSTEM_PORTS.start();
        r.reject_if(
            hits && range.from <= range.to,
            spec.ports.entry_path(i),
            rule::SYSTEM_PORT,
            format!(
                "ports {}-{} are reserved by GA; {range} reaches into them (highest usable port {MAX_PORT})",
                SYSTEM_PORTS.start(),
                SYSTEM_PORTS.end()
            ),
        );
    }
}

/// UDP listeners cannot use ports 250, 4789 or 4790 (seed, code
/// `PortRangeIllegal.UDP`). A range that merely contains one is refused
/// too: GA does not skip reserved ports inside a standard listener's range.
pub fn reject_reserved_udp_ports(spec: &ListenerSpec, r: &mut Rejections) {
    if spec.protocol != Protocol::Udp {
        return;
    }
    for (i, range) in spec.ports.ranges().iter().enumerate() {
        let hit = UDP_RESERVED_PORTS.iter().find(|p| range.contains(**p));
        if let Some(p) = hit {
            r.reject(
                spec.ports.entry_path(i),
                rule::UDP_RESERVED,
                format!("UDP port {p} is reserved by GA (250, 4789 and 4790 are); {range} includes it"),
            );
        }
    }
}

/// A "huge port" listener (more than 300 ports in all) may hold only one
/// range (seed, code `PortRangeIllegal.Count`).
pub fn reject_huge_listener_with_several_ranges(spec: &ListenerSpec, r: &mut Rejections) {
    let ranges = spec.ports.ranges();
    r.reject_if(
        spec.ports.count() > HUGE_LISTENER_PORTS && ranges.len() > 1,
        "ports",
        rule::HUGE_PORT_COUNT,
        format!(
            "a GA listener of more than {HUGE_LISTENER_PORTS} ports ({} here) takes one range only, not {}",
            spec.ports.count(),
            ranges.len()
        ),
    );
}

/// Name: at most 128 characters, starting with a letter or a Chinese
/// character, then letters, Chinese characters, digits, `.`, `_`, `-`.
///
/// Sources disagree: the seed (older CreateListener page) says 2–128 and no
/// `.`; the current CreateListener/UpdateListener pages say 1–128 and allow
/// `.`. Only what BOTH refuse is rejected, which is the current pages' rule:
/// one-character names and dots pass (see README, "Where sources disagree").
pub fn reject_bad_name(spec: &ListenerSpec, r: &mut Rejections) {
    let name = &spec.name;
    let chars = name.chars().count();
    r.reject_if(
        chars > NAME_MAX_CHARS,
        "name",
        rule::NAME_LENGTH,
        format!("GA listener names are at most {NAME_MAX_CHARS} characters; this one has {chars}"),
    );
    let mut it = name.chars();
    let first_ok = it.next().is_some_and(|c| c.is_ascii_alphabetic() || is_chinese(c));
    let rest_ok = it.all(|c| c.is_ascii_alphanumeric() || is_chinese(c) || matches!(c, '.' | '_' | '-'));
    r.reject_if(
        chars > 0 && !(first_ok && rest_ok),
        "name",
        rule::NAME_FORMAT,
        "GA listener names start with a letter or Chinese character and hold only letters, Chinese \
         characters, digits, `.`, `_` and `-`",
    );
}

/// The management mark is a description suffix on GA
/// (`edge [cloud-listeners:team-a]`): GA listeners take no tags (tags are
/// on accelerators and other resources, not listeners), and the
/// description is free text up to 200 characters that GA keeps and
/// returns, where a name would have to follow GA's stricter name
/// alphabet. The description with its mark must fit the 200 characters,
/// and a description of the user's that already holds a mark is refused,
/// or it would read back shortened.
pub fn reject_description_without_room_for_the_mark(owner: &str, spec: &ListenerSpec, r: &mut Rejections) {
    let d = spec.description.as_deref();
    let own = d.map(|d| d.chars().count()).unwrap_or(0);
    let mark = listener_core::mark::description_mark_len(d, owner);
    r.reject_if(
        own <= DESCRIPTION_MAX_CHARS && own + mark > DESCRIPTION_MAX_CHARS,
        "description",
        rule::DESCRIPTION_LENGTH,
        format!(
            "GA listener descriptions are at most {DESCRIPTION_MAX_CHARS} characters including the management \
             mark ({mark} characters for owner `{owner}`); this one has {own} of its own"
        ),
    );
    r.reject_if(
        d.is_some_and(listener_core::mark::description_looks_marked),
        "description",
        rule::DESCRIPTION_MARK,
        "`[cloud-listeners:` in a GA description is reserved for the management mark (it would be read back as one)",
    );
}

/// The description GA is sent: the user's with `owner`'s mark.
pub fn marked_description(description: Option<&str>, owner: &str) -> String {
    listener_core::mark::mark_description(description, owner)
}

/// Description: at most 200 characters, not starting with `http://` or
/// `https://` (current CreateListener/UpdateListener pages; factsheet §5).
pub fn reject_bad_description(spec: &ListenerSpec, r: &mut Rejections) {
    let Some(d) = spec.description.as_deref() else {
        return;
    };
    let chars = d.chars().count();
    r.reject_if(
        chars > DESCRIPTION_MAX_CHARS,
        "description",
        rule::DESCRIPTION_LENGTH,
        format!("GA listener descriptions are at most {DESCRIPTION_MAX_CHARS} characters; this one has {chars}"),
    );
    r.reject_if(
        d.starts_with("http://") || d.starts_with("https://"),
        "description",
        rule::DESCRIPTION_PREFIX,
        "GA refuses descriptions starting with `http://` or `https://`",
    );
}

/// Certificates, security policy and HTTP version belong to HTTPS listeners
/// only (seed, `Certificates.N.Id` note; current pages for
/// `SecurityPolicyId` and `HttpVersion`).
pub fn reject_tls_settings_off_https(spec: &ListenerSpec, r: &mut Rejections) {
    if spec.protocol == Protocol::Https {
        return;
    }
    let Some(tls) = &spec.tls else {
        return;
    };
    let p = spec.protocol;
    for (field, set) in [
        ("tls.certificates", !tls.certificates.is_empty()),
        ("tls.policy", tls.policy.is_some()),
        ("tls.http2", tls.http2.is_some()),
        ("tls.http3", tls.http3.is_some()),
    ] {
        r.reject_if(
            set,
            field,
            rule::HTTPS_ONLY,
            format!("on GA only HTTPS listeners take this setting, not {p}"),
        );
    }
}

/// An HTTPS listener has exactly one server certificate at creation
/// (`Certificates.1.Id`, required for HTTPS). More certificates are bound
/// per domain with AssociateAdditionalCertificatesWithListener, outside
/// this project's scope.
pub fn reject_https_without_one_certificate(spec: &ListenerSpec, r: &mut Rejections) {
    if spec.protocol != Protocol::Https {
        return;
    }
    let n = spec.server_certificates().len();
    r.reject_if(
        n != 1,
        "tls.certificates",
        rule::CERTIFICATE_COUNT,
        format!("a GA HTTPS listener takes exactly one server certificate; {n} given"),
    );
}

/// `SecurityPolicyId` is one of GA's five TLS policies (current
/// CreateListener page; Terraform validates the same list).
pub fn reject_unknown_security_policy(spec: &ListenerSpec, r: &mut Rejections) {
    if spec.protocol != Protocol::Https {
        return;
    }
    if let Some(policy) = spec.tls.as_ref().and_then(|t| t.policy.as_deref()) {
        r.reject_if(
            !SECURITY_POLICIES.contains(&policy),
            "tls.policy",
            rule::SECURITY_POLICY,
            format!(
                "GA offers the TLS policies {}; not `{policy}`",
                SECURITY_POLICIES.join(", ")
            ),
        );
    }
}

/// GA's `HttpVersion` is a ladder (`http1.1` < `http2` < `http3`): HTTP/3
/// always comes with HTTP/2, so `http3 = true` with `http2 = false` cannot
/// be expressed.
pub fn reject_http3_without_http2(spec: &ListenerSpec, r: &mut Rejections) {
    if spec.protocol != Protocol::Https {
        return;
    }
    if let Some(tls) = &spec.tls {
        r.reject_if(
            tls.http2 == Some(false) && tls.http3 == Some(true),
            "tls.http2",
            rule::HTTP_VERSION,
            "GA's HttpVersion http3 also offers HTTP/2; HTTP/3 without HTTP/2 cannot be expressed",
        );
    }
}

/// SNI on the listener: GA binds per-domain certificates with
/// AssociateAdditionalCertificatesWithListener, not with a listener switch,
/// and that action is outside this project's scope.
pub fn reject_sni(spec: &ListenerSpec, r: &mut Rejections) {
    r.reject_if(
        spec.tls.as_ref().and_then(|t| t.sni) == Some(true) && crate::certs::wanted(spec).is_empty(),
        "tls.sni",
        rule::SNI,
        "GA has no SNI switch on listeners; per-host certificates come from `routes[].certificate` \
         (additional certificates by domain)",
    );
}

/// Additional certificates per listener: the sources disagree (the current
/// guide D-ga-cert: 3 by default, 10 on request; `alibaba.md` §5: up to
/// 25). Only what every source refuses is refused: more than 25 hosts with
/// a certificate of their own (GA's code `QuotaExceeded.Certificate`, name
/// assumed). Between 4 and 25 the account's quota decides.
pub fn reject_too_many_route_certificates(spec: &ListenerSpec, r: &mut Rejections) {
    let n = crate::certs::wanted(spec).len();
    r.reject_if(
        n > MAX_ADDITIONAL_CERTIFICATES,
        "routes",
        rule::ADDITIONAL_CERTIFICATES,
        format!(
            "{n} hosts name their own certificate; a GA listener takes at most {MAX_ADDITIONAL_CERTIFICATES} \
             additional certificates (QuotaExceeded.Certificate)"
        ),
    );
}

/// The route rules GA cannot express, as the plan expands them (routes,
/// per-host `/` catch-alls, the root rule for the default backend; see
/// `rules::check_rules`), refused here so `check` names them before any
/// call.
pub fn reject_route_rules(spec: &ListenerSpec, r: &mut Rejections) {
    if spec.routes.is_empty() && spec.backend.is_none() {
        return;
    }
    let mut rules: Vec<listener_core::RouteSpec> = spec.routes.iter().map(|x| x.to_route_spec()).collect();
    if let Some(b) = &spec.backend {
        for host in spec.routes.iter().map(|x| x.host.as_str()) {
            if !rules.iter().any(|x| x.host.as_deref() == Some(host) && x.path == "/") {
                rules.push(listener_core::RouteSpec::new(Some(host), "/", b.clone()));
            }
        }
        rules.push(listener_core::RouteSpec::new(None, "/", b.clone()));
    }
    for (_, x) in crate::rules::check_rules(spec, &rules) {
        r.reject(x.field, x.rule, x.reason);
    }
}

/// The plan of a change from `current` (read back, with the additional
/// certificates as certificate-carrying routes) to `desired`: the core's
/// field comparison without `routes` and `backend` (rules, and the
/// default endpoint group, are their own resources),
/// plus `routes.certificate` when the hosts' certificates differ. A
/// desired spec without routes says nothing about additional
/// certificates (the plan hands listeners without their routes to
/// providers with rules), so none are compared then.
pub fn plan_change(
    caps: &listener_core::Capabilities,
    current: &ListenerSpec,
    desired: &ListenerSpec,
) -> listener_core::ChangePlan {
    let (mut c, mut d) = (current.clone(), desired.clone());
    c.routes.clear();
    d.routes.clear();
    // The default backend is the root rule (the default endpoint group).
    c.backend = None;
    d.backend = None;
    for s in [&mut c, &mut d] {
        if let Some(tls) = s.tls.as_mut() {
            tls.sni = None;
        }
    }
    let mut plan = listener_core::plan_change(caps, &c, &d);
    if !desired.routes.is_empty() {
        let (have, want) = (crate::certs::wanted(current), crate::certs::wanted(desired));
        if have != want {
            plan.changes.push(listener_core::FieldChange {
                path: "routes.certificate".into(),
                from: serde_json::to_value(&have).unwrap_or(Value::Null),
                to: serde_json::to_value(&want).unwrap_or(Value::Null),
            });
        }
    }
    plan
}

/// Mutual TLS: no GA action has a client-CA or client-verification
/// parameter (factsheet §5, "No mutual TLS").
pub fn reject_mutual_tls(spec: &ListenerSpec, r: &mut Rejections) {
    r.reject_if(
        spec.client_auth().is_some(),
        "tls.client_auth",
        rule::MUTUAL_TLS,
        "GA cannot verify client certificates: it has no client-CA parameter",
    );
}

/// GA's client affinity (`ClientAffinity=SOURCE_IP`) has no duration; a
/// timeout cannot be expressed.
pub fn reject_affinity_timeout(spec: &ListenerSpec, r: &mut Rejections) {
    r.reject_if(
        spec.session_persistence.as_ref().and_then(|s| s.timeout_secs).is_some(),
        "session_persistence.timeout_secs",
        rule::AFFINITY_TIMEOUT,
        "GA's client affinity (SOURCE_IP) has no timeout",
    );
}

/// `IdleTimeout`: TCP 10–900 s, UDP 10–20 s, HTTP/HTTPS 1–60 s (current
/// CreateListener page).
pub fn reject_idle_timeout_out_of_range(spec: &ListenerSpec, r: &mut Rejections) {
    if let Some(idle) = spec.timeouts.as_ref().and_then(|t| t.idle_secs) {
        let range = idle_timeout_secs(spec.protocol);
        r.reject_if(
            !range.contains(&idle),
            "timeouts.idle_secs",
            rule::IDLE_TIMEOUT,
            format!(
                "GA {} listeners take an idle timeout of {} to {} seconds, not {idle}",
                spec.protocol,
                range.start(),
                range.end()
            ),
        );
    }
}

/// `RequestTimeout`: HTTP and HTTPS only, 1–180 s (current CreateListener
/// page).
pub fn reject_request_timeout(spec: &ListenerSpec, r: &mut Rejections) {
    let Some(req) = spec.timeouts.as_ref().and_then(|t| t.request_secs) else {
        return;
    };
    if !is_layer7(spec.protocol) {
        r.reject(
            "timeouts.request_secs",
            rule::LAYER7_ONLY,
            format!(
                "GA takes a request timeout on HTTP and HTTPS listeners only, not {}",
                spec.protocol
            ),
        );
    } else {
        r.reject_if(
            !REQUEST_TIMEOUT_SECS.contains(&req),
            "timeouts.request_secs",
            rule::REQUEST_TIMEOUT,
            format!(
                "GA takes a request timeout of {} to {} seconds, not {req}",
                REQUEST_TIMEOUT_SECS.start(),
                REQUEST_TIMEOUT_SECS.end()
            ),
        );
    }
}

/// How the client address reaches the backends.
///
/// - Proxy Protocol: the listener-level `ProxyProtocol` of the seed is
///   deprecated in favour of the endpoint groups' `EnableProxyProtocol`,
///   but CreateListener and UpdateListener still accept it and Terraform's
///   `alicloud_ga_listener` still sends it, so it is accepted (and sent,
///   and read back) with a deprecation warning
///   ([`warn_deprecated_proxy_protocol`]).
/// - HTTP/HTTPS listeners always add `X-Forwarded-For` (GA's "preserve
///   client IP" for layer 7 is on by default and has no listener switch):
///   `mode = "none"` or `x_forwarded_for = false` cannot be expressed.
/// - `XForwardedForConfig` (proto, port, real IP, GA-ID, GA-AP) exists on
///   HTTP/HTTPS listeners only (current CreateListener page).
/// - GA cannot add `X-Forwarded-Host` or the client's source port, and has
///   no append/remove choice for an incoming `X-Forwarded-For`.
pub fn reject_client_ip_settings(spec: &ListenerSpec, opts: &GaOptions, r: &mut Rejections) {
    let p = spec.protocol;
    let l7 = is_layer7(p);
    for (field, set) in [
        (format!("extensions.{API}.ga_id_header"), opts.ga_id_header.is_some()),
        (format!("extensions.{API}.ga_ap_header"), opts.ga_ap_header.is_some()),
    ] {
        r.reject_if(
            set && !l7,
            field,
            rule::LAYER7_ONLY,
            format!("GA adds headers on HTTP and HTTPS listeners only, not {p}"),
        );
    }
    let Some(ci) = &spec.client_ip else {
        return;
    };
    match ci.mode {
        ClientIpMode::ProxyProtocol => warn_deprecated_proxy_protocol(spec, r),
        ClientIpMode::None if l7 => r.reject(
            "client_ip.mode",
            rule::X_FORWARDED_FOR_ALWAYS,
            format!("GA {p} listeners always pass the client address in X-Forwarded-For"),
        ),
        _ => {}
    }
    let Some(h) = &ci.headers else {
        return;
    };
    if !l7 {
        r.reject(
            "client_ip.headers",
            rule::LAYER7_ONLY,
            format!("GA adds headers on HTTP and HTTPS listeners only, not {p}"),
        );
        return;
    }
    r.reject_if(
        h.x_forwarded_for == Some(false),
        "client_ip.headers.x_forwarded_for",
        rule::X_FORWARDED_FOR_ALWAYS,
        "GA HTTP/HTTPS listeners always add X-Forwarded-For; it cannot be switched off",
    );
    r.reject_if(
        h.x_forwarded_for_mode.is_some(),
        "client_ip.headers.x_forwarded_for_mode",
        rule::HEADER,
        "GA has no setting for an incoming X-Forwarded-For (append or remove)",
    );
    r.reject_if(
        h.x_forwarded_host == Some(true),
        "client_ip.headers.x_forwarded_host",
        rule::HEADER,
        "GA cannot add X-Forwarded-Host",
    );
    r.reject_if(
        h.client_source_port == Some(true),
        "client_ip.headers.client_source_port",
        rule::HEADER,
        "GA cannot add the client's source port (GA-X-Forward-Port carries the listener port)",
    );
}

/// Health checks: GA checks endpoints on endpoint groups
/// (CreateEndpointGroup), not on listeners.
pub fn reject_health_check(spec: &ListenerSpec, r: &mut Rejections) {
    r.reject_if(
        spec.health_check.is_some(),
        "health_check",
        rule::HEALTH_CHECK,
        "GA configures health checks on endpoint groups, not listeners",
    );
}

/// Scheduler: GA spreads traffic by endpoint weight and traffic dial on
/// endpoint groups; a listener has no algorithm to choose.
pub fn reject_scheduler(spec: &ListenerSpec, r: &mut Rejections) {
    r.reject_if(
        spec.scheduler.is_some(),
        "scheduler",
        rule::SCHEDULER,
        "GA listeners have no load-balancing algorithm; weights live on endpoint groups",
    );
}

/// Custom routing listeners are TCP or UDP only (current CreateListener
/// page, `Type`).
pub fn reject_custom_routing_on_layer7(spec: &ListenerSpec, opts: &GaOptions, r: &mut Rejections) {
    r.reject_if(
        opts.routing() == RoutingType::CustomRouting && is_layer7(spec.protocol),
        format!("extensions.{API}.routing_type"),
        rule::CUSTOM_ROUTING_LAYER4,
        format!("GA custom routing listeners are tcp or udp, not {}", spec.protocol),
    );
}

// ---------------------------------------------------------------------------
// Rules across the listeners of one accelerator
// ---------------------------------------------------------------------------

/// Whether two listeners of one accelerator may not share a port: TCP, HTTP
/// and HTTPS share one port space; UDP has its own, except that an HTTPS
/// listener offering HTTP/3 also takes its port on UDP (factsheet §5, "GA
/// port rules"; code `PortConflict.Listener`).
pub fn port_spaces_collide(a: Protocol, a_http3: bool, b: Protocol, b_http3: bool) -> bool {
    match (a, b) {
        (Protocol::Udp, Protocol::Udp) => true,
        (Protocol::Udp, Protocol::Https) => b_http3,
        (Protocol::Https, Protocol::Udp) => a_http3,
        (Protocol::Udp, _) | (_, Protocol::Udp) => false,
        _ => true,
    }
}

fn offers_http3(spec: &ListenerSpec) -> bool {
    spec.protocol == Protocol::Https && spec.tls.as_ref().and_then(|t| t.http3) == Some(true)
}

/// Listeners past GA's default quota of [`MAX_LISTENERS_PER_ACCELERATOR`]
/// (`QuotaExceeded.Listener`; older pages said 10, the current quota page
/// says 50, adjustable): a warning on each, with its index, never a
/// refusal (as the 30 ports per listener already are); returned by
/// [`crate::check_set_with_warnings`].
pub fn listener_quota_warnings(specs: &[ListenerSpec]) -> Vec<(usize, Warning)> {
    (MAX_LISTENERS_PER_ACCELERATOR..specs.len())
        .map(|j| {
            (
                j,
                Warning::new(
                    API,
                    "listeners",
                    rule::LISTENER_QUOTA,
                    format!(
                        "an accelerator holds {MAX_LISTENERS_PER_ACCELERATOR} listeners by default; this is number {}, so the accelerator's quota must have been raised",
                        j + 1
                    ),
                ),
            )
        })
        .collect()
}

/// Logs a TCP or UDP listener of more ports than GA's default quota
/// ([`DEFAULT_PORTS_PER_LISTENER`], `QuotaExceeded.ListenerPort`) before
/// its create. The quota is adjustable, so GA decides; it is logged, not a
/// pre-flight warning, because the sources disagree on whether it counts
/// ports or port ranges.
pub fn log_port_quota(spec: &ListenerSpec) {
    let ports = spec.ports.count();
    if matches!(spec.protocol, Protocol::Tcp | Protocol::Udp) && ports > DEFAULT_PORTS_PER_LISTENER {
        tracing::warn!(
            listener = %spec.name,
            ports,
            quota = DEFAULT_PORTS_PER_LISTENER,
            "more ports than GA's default per-listener quota; GA answers QuotaExceeded.ListenerPort unless the quota was raised"
        );
    }
}

/// Warns that the listener's `ProxyProtocol` is deprecated (GA moved
/// client-IP preservation to endpoint groups, `EnableProxyProtocol`). The
/// vendor still takes it, so it is sent; the warning tells the user where
/// the setting lives now.
pub fn warn_deprecated_proxy_protocol(spec: &ListenerSpec, r: &mut Rejections) {
    r.warn(
        &spec.name,
        "client_ip.mode",
        rule::PROXY_PROTOCOL_DEPRECATED,
        "GA's listener-level ProxyProtocol is deprecated (set EnableProxyProtocol on the endpoint group instead); it is still sent",
    );
}

/// Rules that span the listeners of one accelerator, as `(index, rejection)`.
///
/// - `PortConflict.Listener`: two listeners on a shared port (see
///   [`port_spaces_collide`]).
/// - `PortRangeIllegal.ExceedGaAbility`: a second listener of more than 300
///   ports for the same protocol (TCP, UDP).
/// - `QuotaExceeded.Listener` (more than 50 listeners) is GA's default
///   quota, adjustable in the quota centre: a warning
///   ([`listener_quota_warnings`]), the vendor answers.
/// - `routing_type_mixed`: every listener of an accelerator has the same
///   routing type (current CreateListener page, `Type`).
pub fn check_accelerator(specs: &[ListenerSpec]) -> Vec<(usize, Rejection)> {
    let mut r: Vec<(usize, Rejection)> = Vec::new();
    let mut push = |i: usize, field: String, rule: &'static str, reason: String| {
        r.push((i, Rejection::new(API, field, rule, reason)));
    };
    // Which port spaces each listener takes (see `port_spaces_collide`:
    // two listeners collide exactly when they share a space), so the clash
    // search is the core's `O(n log n)` one instead of every pair.
    let claims = specs.iter().enumerate().flat_map(|(i, s)| {
        let tcp = s.protocol != Protocol::Udp;
        let udp = s.protocol == Protocol::Udp || offers_http3(s);
        let spaces = [(tcp, false), (udp, true)];
        s.ports.ranges().into_iter().flat_map(move |range| {
            spaces
                .into_iter()
                .filter(|(taken, _)| *taken)
                .map(move |(_, space)| (i, space, range))
        })
    });
    for (i, j) in listener_core::validate::first_claims(claims) {
        let (a, b) = (&specs[i], &specs[j]);
        push(
            j,
            "ports".into(),
            rule::PORT_CONFLICT,
            format!(
                "{} ports {} share a port with listener {i} (`{}`, {} ports {}) on this accelerator",
                b.protocol, b.ports, a.name, a.protocol, a.ports
            ),
        );
    }
    for proto in [Protocol::Tcp, Protocol::Udp] {
        let huge: Vec<usize> = specs
            .iter()
            .enumerate()
            .filter(|(_, s)| s.protocol == proto && s.ports.count() > HUGE_LISTENER_PORTS)
            .map(|(i, _)| i)
            .collect();
        for &j in huge.iter().skip(1) {
            push(
                j,
                "ports".into(),
                rule::HUGE_PORT_EXCEEDS,
                format!(
                    "an accelerator holds one {proto} listener of more than {HUGE_LISTENER_PORTS} ports; listener {} is already one",
                    huge[0]
                ),
            );
        }
    }
    if let Some(first) = specs.first() {
        let kind = GaOptions::of(first).routing();
        for (j, s) in specs.iter().enumerate().skip(1) {
            let other = GaOptions::of(s).routing();
            if other != kind {
                push(
                    j,
                    format!("extensions.{API}.routing_type"),
                    rule::ROUTING_TYPE_MIXED,
                    format!(
                        "every listener of a GA accelerator has the same routing type; listener 0 is {}, this one {}",
                        kind.as_param(),
                        other.as_param()
                    ),
                );
            }
        }
    }
    r
}

// ---------------------------------------------------------------------------
// Spec → parameters
// ---------------------------------------------------------------------------

/// The listener's configuration as GA parameters, nested (the client
/// flattens). Only what the spec sets is present; `RegionId`,
/// `AcceleratorId`, `ListenerId` and `ClientToken` are added by the caller.
///
/// Assumes `check` passed: unknown certificate aliases pass through as IDs,
/// and protocols GA lacks are left out.
pub fn listener_params(spec: &ListenerSpec, opts: &GaOptions, aliases: &Aliases) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("Name".into(), json!(spec.name));
    if let Some(d) = &spec.description {
        m.insert("Description".into(), json!(d));
    }
    if let Some(p) = protocol_param(spec.protocol) {
        m.insert("Protocol".into(), json!(p));
    }
    let ranges: Vec<Value> = spec
        .ports
        .ranges()
        .iter()
        .map(|r| json!({"FromPort": r.from, "ToPort": r.to}))
        .collect();
    m.insert("PortRanges".into(), Value::Array(ranges));
    if spec.protocol == Protocol::Https {
        if let Some(tls) = &spec.tls {
            if let Some(first) = tls.certificates.first() {
                let id = aliases.certificate(first).unwrap_or(first);
                m.insert("Certificates".into(), json!([{ "Id": id }]));
            }
            if let Some(policy) = &tls.policy {
                m.insert("SecurityPolicyId".into(), json!(policy));
            }
            if let Some(v) = HttpVersion::of(tls) {
                m.insert("HttpVersion".into(), json!(v.as_param()));
            }
        }
    }
    if spec.session_persistence.is_some() {
        m.insert("ClientAffinity".into(), json!("SOURCE_IP"));
    }
    // Deprecated but accepted (see `reject_client_ip_settings`): on for
    // proxy_protocol, off for an explicit "none" on TCP/UDP.
    match spec.client_ip.as_ref().map(|c| c.mode) {
        Some(ClientIpMode::ProxyProtocol) => {
            m.insert("ProxyProtocol".into(), json!(true));
        }
        Some(ClientIpMode::None) if !is_layer7(spec.protocol) => {
            m.insert("ProxyProtocol".into(), json!(false));
        }
        _ => {}
    }
    if let Some(t) = &spec.timeouts {
        if let Some(idle) = t.idle_secs {
            m.insert("IdleTimeout".into(), json!(idle));
        }
        if let Some(req) = t.request_secs {
            m.insert("RequestTimeout".into(), json!(req));
        }
    }
    let mut xff = Map::new();
    if let Some(h) = spec.client_ip.as_ref().and_then(|c| c.headers.as_ref()) {
        for (name, v) in [
            ("XForwardedForProtoEnabled", h.x_forwarded_proto),
            ("XForwardedForPortEnabled", h.x_forwarded_port),
            ("XRealIpEnabled", h.x_real_ip),
        ] {
            if let Some(b) = v {
                xff.insert(name.into(), json!(b));
            }
        }
    }
    for (name, v) in [
        ("XForwardedForGaIdEnabled", opts.ga_id_header),
        ("XForwardedForGaApEnabled", opts.ga_ap_header),
    ] {
        if let Some(b) = v {
            xff.insert(name.into(), json!(b));
        }
    }
    if !xff.is_empty() {
        m.insert("XForwardedForConfig".into(), Value::Object(xff));
    }
    if let Some(t) = opts.routing_type {
        m.insert("Type".into(), json!(t.as_param()));
    }
    m
}

/// The full CreateListener parameters (without `ClientToken`, which the
/// client adds from the call's options).
pub fn create_params(accelerator: &str, spec: &ListenerSpec, aliases: &Aliases, owner: &str) -> Value {
    let mut m = Map::new();
    m.insert("RegionId".into(), json!(REGION));
    m.insert("AcceleratorId".into(), json!(accelerator));
    m.extend(listener_params(spec, &GaOptions::of(spec), aliases));
    m.insert(
        "Description".into(),
        json!(marked_description(spec.description.as_deref(), owner)),
    );
    Value::Object(m)
}

/// The UpdateListener parameters that take `current` to `desired`, or
/// `None` when nothing GA can change differs.
///
/// Only fields the desired spec sets are compared (unset means "GA's
/// default, don't care", as in `plan`), and only differing ones are sent:
/// an object parameter (`XForwardedForConfig`) carries only its changed
/// members, a list (`PortRanges`) is sent whole. `Type` is never sent (it
/// cannot change; `update` refuses that first).
pub fn update_params(
    listener_id: &str,
    current: &ListenerSpec,
    desired: &ListenerSpec,
    aliases: &Aliases,
    owner: &str,
) -> Option<Value> {
    // Both sides carry this owner's mark: the read-back stripped the
    // current one, so only a changed description is sent, and then marked.
    let marked = |spec: &ListenerSpec| {
        let mut m = listener_params(spec, &GaOptions::of(spec), aliases);
        m.insert(
            "Description".into(),
            json!(marked_description(spec.description.as_deref(), owner)),
        );
        m
    };
    let have = marked(current);
    let want = marked(desired);
    let mut changed = Map::new();
    for (key, value) in want {
        if key == "Type" {
            continue;
        }
        match (have.get(&key), &value) {
            (Some(Value::Object(old)), Value::Object(new)) => {
                let delta: Map<String, Value> = new
                    .iter()
                    .filter(|(k, v)| old.get(*k) != Some(*v))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                if !delta.is_empty() {
                    changed.insert(key, Value::Object(delta));
                }
            }
            (old, new) if old != Some(new) => {
                changed.insert(key, value);
            }
            _ => {}
        }
    }
    // Affinity removed from the file means off (the core's
    // `ABSENCE_MEANS_OFF`): GA's explicit "no affinity" is `NONE`.
    if have.contains_key("ClientAffinity") && desired.session_persistence.is_none() {
        changed.insert("ClientAffinity".into(), json!("NONE"));
    }
    if changed.is_empty() {
        return None;
    }
    let mut m = Map::new();
    m.insert("RegionId".into(), json!(REGION));
    m.insert("ListenerId".into(), json!(listener_id));
    m.extend(changed);
    Some(Value::Object(m))
}

// ---------------------------------------------------------------------------
// Answer → spec
// ---------------------------------------------------------------------------

/// One GA listener as DescribeListener or a ListListeners item reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct GaListener {
    /// `lsr-…`.
    pub id: String,
    /// `ga-…`; empty when the answer did not say.
    pub accelerator: String,
    /// GA's `State` as sent (`init`, `active`, `configuring`, `updating`,
    /// `deleting`).
    pub state: String,
    /// The configuration as a neutral spec, its description without the
    /// management mark.
    pub spec: ListenerSpec,
    /// The owner of the description's management mark, if it carries one.
    pub owner: Option<String>,
}

fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A number GA may send as a number or as a string (`"80"`).
fn number(v: &Value, key: &str) -> Option<u32> {
    match v.get(key)? {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A boolean GA may send as a boolean or as a string (`"true"`).
fn boolean(v: &Value, key: &str) -> Option<bool> {
    match v.get(key)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn malformed(what: &str) -> Error {
    Error::Transport {
        vendor: API,
        message: format!("GA answered a listener without a usable {what}"),
        maybe_applied: false,
    }
}

/// Read one listener of a DescribeListener answer or ListListeners item.
///
/// Lenient where GA is inconsistent (protocol case, numbers as strings);
/// strict where a missing field would make the spec lie (ID, protocol,
/// ports), which is reported as a malformed answer.
pub fn listener_from_answer(v: &Value, aliases: &Aliases) -> Result<GaListener, Error> {
    let id = text(v, "ListenerId")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| malformed("ListenerId"))?;
    let protocol = text(v, "Protocol")
        .as_deref()
        .and_then(protocol_from_param)
        .ok_or_else(|| malformed("Protocol"))?;
    let ranges: Vec<PortRange> = v
        .get("PortRanges")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|r| {
                    Some(PortRange {
                        from: number(r, "FromPort")?,
                        to: number(r, "ToPort")?,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let ports = match ranges.as_slice() {
        [] => return Err(malformed("PortRanges")),
        [r] if r.from == r.to => Ports::Single(r.from),
        [r] => Ports::Range(*r),
        many => Ports::List(
            many.iter()
                .map(|r| {
                    if r.from == r.to {
                        PortEntry::Port(r.from)
                    } else {
                        PortEntry::Range(*r)
                    }
                })
                .collect(),
        ),
    };

    let mut spec = ListenerSpec::new(text(v, "Name").unwrap_or_default(), protocol, ports);
    let (description, owner) = listener_core::mark::split_description(&text(v, "Description").unwrap_or_default());
    spec.description = description;

    if protocol == Protocol::Https {
        let certificates = v
            .get("Certificates")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter(|c| text(c, "Type").is_none_or(|t| t.eq_ignore_ascii_case("server")))
                    .filter_map(|c| text(c, "Id"))
                    .map(|id| aliases.certificate_alias_of(&id))
                    .collect()
            })
            .unwrap_or_default();
        let version = text(v, "HttpVersion").as_deref().and_then(HttpVersion::from_param);
        let (http2, http3) = match version {
            Some(ver) => {
                let (h2, h3) = ver.switches();
                (Some(h2), Some(h3))
            }
            None => (None, None),
        };
        spec.tls = Some(Tls {
            certificates,
            policy: text(v, "SecurityPolicyId").filter(|p| !p.is_empty()),
            http2,
            http3,
            sni: Some(false),
            client_auth: None,
        });
    }

    if text(v, "ClientAffinity").is_some_and(|a| a.eq_ignore_ascii_case("SOURCE_IP")) {
        spec.session_persistence = Some(SessionPersistence {
            by: Default::default(),
            timeout_secs: None,
        });
    }

    let idle = number(v, "IdleTimeout").filter(|n| *n > 0);
    let request = number(v, "RequestTimeout").filter(|n| *n > 0 && is_layer7(protocol));
    if idle.is_some() || request.is_some() {
        spec.timeouts = Some(Timeouts {
            idle_secs: idle,
            request_secs: request,
        });
    }

    let xff = v.get("XForwardedForConfig").cloned().unwrap_or(Value::Null);
    let flag = |key: &str| boolean(&xff, key).unwrap_or(false);
    let mut opts = GaOptions {
        routing_type: Some(
            text(v, "Type")
                .as_deref()
                .and_then(RoutingType::from_param)
                .unwrap_or_default(),
        ),
        ..GaOptions::default()
    };
    if is_layer7(protocol) {
        spec.client_ip = Some(ClientIp {
            mode: ClientIpMode::Headers,
            headers: Some(ForwardedHeaders {
                x_forwarded_for: Some(true),
                x_forwarded_for_mode: None,
                x_forwarded_proto: Some(flag("XForwardedForProtoEnabled")),
                x_forwarded_port: Some(flag("XForwardedForPortEnabled")),
                x_forwarded_host: Some(false),
                x_real_ip: Some(flag("XRealIpEnabled")),
                client_source_port: Some(false),
            }),
        });
        opts.ga_id_header = Some(flag("XForwardedForGaIdEnabled"));
        opts.ga_ap_header = Some(flag("XForwardedForGaApEnabled"));
    } else {
        spec.client_ip = Some(ClientIp {
            mode: if boolean(v, "ProxyProtocol") == Some(true) {
                ClientIpMode::ProxyProtocol
            } else {
                ClientIpMode::None
            },
            headers: None,
        });
    }
    spec.extensions.insert(API, &opts);

    Ok(GaListener {
        id,
        accelerator: text(v, "AcceleratorId").unwrap_or_default(),
        state: text(v, "State").unwrap_or_default(),
        spec,
        owner,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use listener_core::mark::DEFAULT_OWNER;
    use listener_core::{AffinityKey, ClientAuth, ClientVerify, Forwarding, HealthCheck, ProfileConfig, Scheduler};

    const CERT_ID: &str = "449-cn-hangzhou";

    fn profile() -> ProfileConfig {
        let mut p = ProfileConfig::new(API, "ga-bp1odcab8tmno0hdq");
        p.aliases.certificates.insert("web".into(), CERT_ID.into());
        p.aliases.certificates.insert("other".into(), "450-cn-hangzhou".into());
        p
    }

    fn tcp(ports: Ports) -> ListenerSpec {
        ListenerSpec::new("tcp-listener", Protocol::Tcp, ports)
    }

    fn https() -> ListenerSpec {
        let mut s = ListenerSpec::new("web", Protocol::Https, Ports::Single(443));
        s.tls = Some(Tls {
            certificates: vec!["web".into()],
            policy: None,
            http2: None,
            http3: None,
            sni: None,
            client_auth: None,
        });
        s
    }

    fn range(from: u32, to: u32) -> PortEntry {
        PortEntry::Range(PortRange { from, to })
    }

    /// Every (field, rule) `check` reports for the spec.
    fn rejected(spec: &ListenerSpec) -> Vec<(String, &'static str)> {
        crate::check(&profile(), spec)
            .into_iter()
            .map(|r| (r.field, r.rule))
            .collect()
    }

    fn has(spec: &ListenerSpec, field: &str, rule: &str) -> bool {
        rejected(spec).iter().any(|(f, r)| f == field && *r == rule)
    }

    #[track_caller]
    fn assert_rejects(spec: &ListenerSpec, field: &str, rule: &str) {
        let all = rejected(spec);
        assert!(
            all.iter().any(|(f, r)| f == field && *r == rule),
            "expected {field} [{rule}], got {all:?}"
        );
    }

    #[track_caller]
    fn assert_clean(spec: &ListenerSpec) {
        let all = rejected(spec);
        assert!(all.is_empty(), "expected no rejection, got {all:?}");
    }

    #[test]
    fn access_lists_split_by_ip_version_and_warn_past_the_default_quota() {
        assert_eq!(acl_type(listener_core::AccessMode::Allow), "White");
        assert_eq!(acl_type(listener_core::AccessMode::Deny), "Black");
        assert_eq!(ip_version_of("10.0.0.0/8"), "IPv4");
        assert_eq!(ip_version_of("2001:db8::/32"), "IPv6");
        let mut s = ListenerSpec::new("dns", Protocol::Udp, Ports::Single(53));
        s.access = Some(listener_core::Access {
            mode: listener_core::AccessMode::Allow,
            cidrs: (0..21).map(|i| format!("10.0.{i}.0/24")).collect(),
        });
        assert!(acl_entries_warning(&s).is_some());
        assert_clean(&s);
        s.access.as_mut().unwrap().cidrs.truncate(20);
        s.access.as_mut().unwrap().cidrs.push("2001:db8::/32".into());
        assert!(acl_entries_warning(&s).is_none());
    }

    #[test]
    fn rejects_tags_which_ga_listeners_cannot_carry() {
        let mut s = ListenerSpec::new("dns", Protocol::Udp, Ports::Single(53));
        s.tags.insert("team".into(), "web".into());
        assert_rejects(&s, "tags", rule::TAGS);
    }

    #[test]
    fn rejects_enabled_false_which_ga_cannot_switch_and_accepts_true() {
        let mut s = ListenerSpec::new("dns", Protocol::Udp, Ports::Single(53));
        s.enabled = Some(false);
        assert_rejects(&s, "enabled", rule::STOP_START);
        s.enabled = Some(true);
        assert!(
            rejected(&s).iter().all(|(f, _)| f != "enabled"),
            "true is what GA listeners are"
        );
    }

    #[test]
    fn accepts_the_four_listeners_of_the_issue() {
        assert_clean(&tcp(Ports::List(vec![range(80, 90), PortEntry::Port(443)])));
        assert_clean(&ListenerSpec::new("dns", Protocol::Udp, Ports::Single(53)));
        assert_clean(&ListenerSpec::new("plain", Protocol::Http, Ports::Single(80)));
        let mut s = https();
        s.session_persistence = Some(SessionPersistence {
            by: AffinityKey::SourceIp,
            timeout_secs: None,
        });
        assert_clean(&s);
    }

    #[test]
    fn rejects_quic_and_tcp_ssl() {
        assert_rejects(
            &ListenerSpec::new("q", Protocol::Quic, Ports::Single(443)),
            "protocol",
            rule::PROTOCOL_ILLEGAL,
        );
        assert_rejects(
            &ListenerSpec::new("t", Protocol::TcpSsl, Ports::Single(443)),
            "protocol",
            rule::PROTOCOL_ILLEGAL,
        );
    }

    #[test]
    fn rejects_several_ports_or_a_range_on_http_and_https() {
        let two = ListenerSpec::new(
            "h",
            Protocol::Http,
            Ports::List(vec![PortEntry::Port(80), PortEntry::Port(81)]),
        );
        assert_rejects(&two, "ports", rule::PORT_RANGES_MUST_ONE);
        let mut ranged = https();
        ranged.ports = Ports::Range(PortRange { from: 443, to: 444 });
        assert_rejects(&ranged, "ports", rule::PORT_RANGES_MUST_ONE);
        // A list of one port is one port.
        let one = ListenerSpec::new("h", Protocol::Http, Ports::List(vec![PortEntry::Port(80)]));
        assert_clean(&one);
    }

    #[test]
    fn rejects_a_reversed_range() {
        let s = tcp(Ports::Range(PortRange { from: 90, to: 80 }));
        assert_rejects(&s, "ports", rule::PORT_RANGE_ILLEGAL);
    }

    #[test]
    fn rejects_overlapping_ranges_of_one_listener() {
        let s = tcp(Ports::List(vec![range(80, 90), range(85, 95)]));
        assert_rejects(&s, "ports[1]", rule::PORT_RANGE_ILLEGAL);
    }

    #[test]
    fn rejects_system_ports() {
        assert_rejects(&tcp(Ports::Single(65500)), "ports", rule::SYSTEM_PORT);
        assert_rejects(
            &tcp(Ports::List(vec![PortEntry::Port(80), range(65490, 65510)])),
            "ports[1]",
            rule::SYSTEM_PORT,
        );
        assert_clean(&tcp(Ports::Single(MAX_PORT)));
    }

    #[test]
    fn rejects_reserved_udp_ports() {
        for p in UDP_RESERVED_PORTS {
            assert_rejects(
                &ListenerSpec::new("u", Protocol::Udp, Ports::Single(p)),
                "ports",
                rule::UDP_RESERVED,
            );
        }
        let ranged = ListenerSpec::new(
            "u",
            Protocol::Udp,
            Ports::List(vec![PortEntry::Port(53), range(4780, 4800)]),
        );
        assert_rejects(&ranged, "ports[1]", rule::UDP_RESERVED);
        // The same ports are fine on TCP.
        assert_clean(&tcp(Ports::Single(4789)));
    }

    #[test]
    fn rejects_a_huge_listener_with_several_ranges() {
        let s = tcp(Ports::List(vec![range(1000, 1300), range(2000, 2000)]));
        assert_rejects(&s, "ports", rule::HUGE_PORT_COUNT);
        assert!(!has(
            &tcp(Ports::Range(PortRange { from: 1000, to: 2000 })),
            "ports",
            rule::HUGE_PORT_COUNT
        ));
    }

    #[test]
    fn name_rule_is_the_one_every_source_shares() {
        // Refused by every source.
        assert_rejects(&tcp(Ports::Single(80)).renamed("1abc"), "name", rule::NAME_FORMAT);
        assert_rejects(&tcp(Ports::Single(80)).renamed("_abc"), "name", rule::NAME_FORMAT);
        assert_rejects(&tcp(Ports::Single(80)).renamed("has space"), "name", rule::NAME_FORMAT);
        assert_rejects(
            &tcp(Ports::Single(80)).renamed(&"a".repeat(129)),
            "name",
            rule::NAME_LENGTH,
        );
        // Refused by the seed only (2-128, no dots): accepted.
        assert_clean(&tcp(Ports::Single(80)).renamed("a"));
        assert_clean(&tcp(Ports::Single(80)).renamed("web.v2"));
        // Chinese first and inside.
        assert_clean(&tcp(Ports::Single(80)).renamed("监听-1_a"));
        assert_clean(&tcp(Ports::Single(80)).renamed(&"a".repeat(128)));
    }

    trait Renamed {
        fn renamed(self, name: &str) -> Self;
    }
    impl Renamed for ListenerSpec {
        fn renamed(mut self, name: &str) -> Self {
            self.name = name.into();
            self
        }
    }

    #[test]
    fn descriptions_carry_the_owner_mark_and_read_back_without_it() {
        let mut s = tcp(Ports::Single(80));
        s.description = Some("edge".into());
        let v = create_params("ga-1", &s, &Aliases::default(), "team-a");
        assert_eq!(v["Description"], json!("edge [cloud-listeners:team-a]"));
        // No description of the user's: the mark alone.
        let bare = tcp(Ports::Single(81));
        let v = create_params("ga-1", &bare, &Aliases::default(), "team-a");
        assert_eq!(v["Description"], json!("[cloud-listeners:team-a]"));
        let answer = json!({"ListenerId": "lsr-1", "Protocol": "tcp", "Name": "t",
            "PortRanges": [{"FromPort": 80, "ToPort": 80}], "Description": "edge [cloud-listeners:team-a]"});
        let back = listener_from_answer(&answer, &Aliases::default()).unwrap();
        assert_eq!(
            (back.spec.description.as_deref(), back.owner.as_deref()),
            (Some("edge"), Some("team-a"))
        );
        let hand = json!({"ListenerId": "lsr-2", "Protocol": "tcp", "Name": "t",
            "PortRanges": [{"FromPort": 81, "ToPort": 81}], "Description": ""});
        let back = listener_from_answer(&hand, &Aliases::default()).unwrap();
        assert_eq!((back.spec.description, back.owner), (None, None));
    }

    #[test]
    fn an_update_sends_the_description_with_the_mark_only_when_it_changes() {
        let current = tcp(Ports::Single(80));
        let mut desired = current.clone();
        assert!(update_params("lsr-1", &current, &desired, &Aliases::default(), "team-a").is_none());
        desired.description = Some("new".into());
        let v = update_params("lsr-1", &current, &desired, &Aliases::default(), "team-a").expect("a change");
        assert_eq!(v["Description"], json!("new [cloud-listeners:team-a]"));
    }

    #[test]
    fn rejects_a_description_without_room_for_the_mark() {
        let check = |d: &str| {
            let mut s = tcp(Ports::Single(80));
            s.description = Some(d.into());
            let mut r = Rejections::new(API);
            reject_description_without_room_for_the_mark("team-a", &s, &mut r);
            r.into_checked().rejections
        };
        // " [cloud-listeners:team-a]" is 25 characters: 175 of the user's fit.
        assert!(check(&"d".repeat(175)).is_empty());
        let r = check(&"d".repeat(176));
        assert_eq!(
            (r[0].field.as_str(), r[0].rule),
            ("description", rule::DESCRIPTION_LENGTH)
        );
        let r = check("x [cloud-listeners:team-b]");
        assert_eq!(
            (r[0].field.as_str(), r[0].rule),
            ("description", rule::DESCRIPTION_MARK)
        );
    }

    #[test]
    fn rejects_long_description() {
        let mut s = tcp(Ports::Single(80));
        s.description = Some("d".repeat(201));
        assert_rejects(&s, "description", rule::DESCRIPTION_LENGTH);
        // 200 in all with the mark ` [cloud-listeners:default]` (26).
        s.description = Some("d".repeat(175));
        assert_rejects(&s, "description", rule::DESCRIPTION_LENGTH);
        s.description = Some("d".repeat(174));
        assert_clean(&s);
    }

    #[test]
    fn rejects_description_starting_with_a_url_scheme() {
        let mut s = tcp(Ports::Single(80));
        s.description = Some("https://example.com".into());
        assert_rejects(&s, "description", rule::DESCRIPTION_PREFIX);
        s.description = Some("http://example.com".into());
        assert_rejects(&s, "description", rule::DESCRIPTION_PREFIX);
        s.description = Some("see http://example.com".into());
        assert_clean(&s);
    }

    #[test]
    fn rejects_tls_settings_on_non_https_listeners() {
        let mut s = ListenerSpec::new("h", Protocol::Http, Ports::Single(80));
        s.tls = Some(Tls {
            certificates: vec!["web".into()],
            policy: Some("tls_cipher_policy_1_2".into()),
            http2: Some(true),
            http3: None,
            sni: None,
            client_auth: None,
        });
        assert_rejects(&s, "tls.certificates", rule::HTTPS_ONLY);
        assert_rejects(&s, "tls.policy", rule::HTTPS_ONLY);
        assert_rejects(&s, "tls.http2", rule::HTTPS_ONLY);
    }

    #[test]
    fn rejects_https_without_exactly_one_certificate() {
        let mut two = https();
        two.tls.as_mut().unwrap().certificates.push("other".into());
        assert_rejects(&two, "tls.certificates", rule::CERTIFICATE_COUNT);
        let mut none = https();
        let tls = none.tls.as_mut().unwrap();
        tls.certificates.clear();
        tls.sni = Some(true);
        assert_rejects(&none, "tls.certificates", rule::CERTIFICATE_COUNT);
    }

    #[test]
    fn rejects_unknown_security_policy() {
        let mut s = https();
        s.tls.as_mut().unwrap().policy = Some("tls_cipher_policy_9".into());
        assert_rejects(&s, "tls.policy", rule::SECURITY_POLICY);
        s.tls.as_mut().unwrap().policy = Some("tls_cipher_policy_1_2_strict_with_1_3".into());
        assert_clean(&s);
    }

    #[test]
    fn rejects_http3_without_http2() {
        let mut s = https();
        let tls = s.tls.as_mut().unwrap();
        tls.http2 = Some(false);
        tls.http3 = Some(true);
        assert_rejects(&s, "tls.http2", rule::HTTP_VERSION);
    }

    #[test]
    fn http_switches_map_to_one_http_version() {
        let tls = |h2, h3| Tls {
            certificates: vec![],
            policy: None,
            http2: h2,
            http3: h3,
            sni: None,
            client_auth: None,
        };
        assert_eq!(HttpVersion::of(&tls(None, None)), None);
        assert_eq!(HttpVersion::of(&tls(Some(false), None)), Some(HttpVersion::Http1));
        assert_eq!(
            HttpVersion::of(&tls(Some(false), Some(false))),
            Some(HttpVersion::Http1)
        );
        assert_eq!(HttpVersion::of(&tls(Some(true), None)), Some(HttpVersion::Http2));
        assert_eq!(HttpVersion::of(&tls(None, Some(false))), None);
        assert_eq!(HttpVersion::of(&tls(None, Some(true))), Some(HttpVersion::Http3));
        assert_eq!(HttpVersion::of(&tls(Some(true), Some(true))), Some(HttpVersion::Http3));
        assert_eq!(HttpVersion::of(&tls(Some(false), Some(true))), None);
        for v in [HttpVersion::Http1, HttpVersion::Http2, HttpVersion::Http3] {
            let (h2, h3) = v.switches();
            assert_eq!(HttpVersion::of(&tls(Some(h2), Some(h3))), Some(v));
            assert_eq!(HttpVersion::from_param(v.as_param()), Some(v));
        }
    }

    #[test]
    fn rejects_sni() {
        let mut s = https();
        s.tls.as_mut().unwrap().sni = Some(true);
        assert_rejects(&s, "tls.sni", rule::SNI);
    }

    #[test]
    fn rejects_mutual_tls() {
        let mut s = https();
        s.tls.as_mut().unwrap().client_auth = Some(ClientAuth {
            verify: ClientVerify::Required,
            ca_certificates: vec!["other".into()],
        });
        assert_rejects(&s, "tls.client_auth", rule::MUTUAL_TLS);
    }

    #[test]
    fn rejects_affinity_timeout() {
        let mut s = tcp(Ports::Single(80));
        s.session_persistence = Some(SessionPersistence {
            by: AffinityKey::SourceIp,
            timeout_secs: Some(300),
        });
        assert_rejects(&s, "session_persistence.timeout_secs", rule::AFFINITY_TIMEOUT);
    }

    #[test]
    fn rejects_idle_timeout_outside_the_protocols_range() {
        let cases = [
            (Protocol::Tcp, 9, false),
            (Protocol::Tcp, 10, true),
            (Protocol::Tcp, 900, true),
            (Protocol::Tcp, 901, false),
            (Protocol::Udp, 21, false),
            (Protocol::Udp, 20, true),
            (Protocol::Http, 61, false),
            (Protocol::Http, 1, true),
        ];
        for (p, idle, ok) in cases {
            let mut s = ListenerSpec::new("x", p, Ports::Single(80));
            s.timeouts = Some(Timeouts {
                idle_secs: Some(idle),
                request_secs: None,
            });
            assert_eq!(!has(&s, "timeouts.idle_secs", rule::IDLE_TIMEOUT), ok, "{p} {idle}");
        }
        let mut s = https();
        s.timeouts = Some(Timeouts {
            idle_secs: Some(61),
            request_secs: None,
        });
        assert_rejects(&s, "timeouts.idle_secs", rule::IDLE_TIMEOUT);
    }

    #[test]
    fn rejects_request_timeout_out_of_range() {
        let mut s = ListenerSpec::new("h", Protocol::Http, Ports::Single(80));
        s.timeouts = Some(Timeouts {
            idle_secs: None,
            request_secs: Some(181),
        });
        assert_rejects(&s, "timeouts.request_secs", rule::REQUEST_TIMEOUT);
        s.timeouts.as_mut().unwrap().request_secs = Some(180);
        assert_clean(&s);
    }

    #[test]
    fn rejects_request_timeout_on_tcp_and_udp() {
        for p in [Protocol::Tcp, Protocol::Udp] {
            let mut s = ListenerSpec::new("x", p, Ports::Single(80));
            s.timeouts = Some(Timeouts {
                idle_secs: None,
                request_secs: Some(30),
            });
            assert_rejects(&s, "timeouts.request_secs", rule::LAYER7_ONLY);
        }
    }

    fn headers(h: ForwardedHeaders) -> Option<ClientIp> {
        Some(ClientIp {
            mode: ClientIpMode::Headers,
            headers: Some(h),
        })
    }

    #[test]
    fn rejects_forwarded_headers_on_tcp_and_udp() {
        for p in [Protocol::Tcp, Protocol::Udp] {
            let mut s = ListenerSpec::new("x", p, Ports::Single(80));
            s.client_ip = headers(ForwardedHeaders {
                x_real_ip: Some(true),
                ..ForwardedHeaders::default()
            });
            assert_rejects(&s, "client_ip.headers", rule::LAYER7_ONLY);
            let mut g = ListenerSpec::new("x", p, Ports::Single(80));
            g.extensions.insert(
                API,
                &GaOptions {
                    ga_id_header: Some(true),
                    ga_ap_header: Some(false),
                    ..GaOptions::default()
                },
            );
            assert_rejects(&g, "extensions.alibaba-ga.ga_id_header", rule::LAYER7_ONLY);
            assert_rejects(&g, "extensions.alibaba-ga.ga_ap_header", rule::LAYER7_ONLY);
        }
    }

    #[test]
    fn accepts_the_headers_ga_can_add() {
        let mut s = ListenerSpec::new("h", Protocol::Http, Ports::Single(80));
        s.client_ip = headers(ForwardedHeaders {
            x_forwarded_for: Some(true),
            x_forwarded_proto: Some(true),
            x_forwarded_port: Some(false),
            x_real_ip: Some(true),
            x_forwarded_host: Some(false),
            client_source_port: Some(false),
            x_forwarded_for_mode: None,
        });
        s.extensions.insert(
            API,
            &GaOptions {
                ga_id_header: Some(true),
                ga_ap_header: Some(true),
                ..GaOptions::default()
            },
        );
        assert_clean(&s);
    }

    #[test]
    fn rejects_headers_ga_cannot_add_or_remove() {
        let mut s = ListenerSpec::new("h", Protocol::Http, Ports::Single(80));
        s.client_ip = headers(ForwardedHeaders {
            x_forwarded_for: Some(false),
            x_forwarded_for_mode: Some(listener_core::ForwardedForMode::Remove),
            x_forwarded_host: Some(true),
            client_source_port: Some(true),
            ..ForwardedHeaders::default()
        });
        assert_rejects(&s, "client_ip.headers.x_forwarded_for", rule::X_FORWARDED_FOR_ALWAYS);
        assert_rejects(&s, "client_ip.headers.x_forwarded_for_mode", rule::HEADER);
        assert_rejects(&s, "client_ip.headers.x_forwarded_host", rule::HEADER);
        assert_rejects(&s, "client_ip.headers.client_source_port", rule::HEADER);
    }

    #[test]
    fn rejects_no_client_ip_on_http() {
        let mut s = ListenerSpec::new("h", Protocol::Http, Ports::Single(80));
        s.client_ip = Some(ClientIp {
            mode: ClientIpMode::None,
            headers: None,
        });
        assert_rejects(&s, "client_ip.mode", rule::X_FORWARDED_FOR_ALWAYS);
        // On TCP "none" is what a GA listener does.
        let mut t = tcp(Ports::Single(80));
        t.client_ip = s.client_ip.clone();
        assert_clean(&t);
    }

    #[test]
    fn accepts_the_deprecated_listener_proxy_protocol_and_sends_it() {
        let mut s = tcp(Ports::Single(80));
        s.client_ip = Some(ClientIp {
            mode: ClientIpMode::ProxyProtocol,
            headers: None,
        });
        assert_clean(&s);
        let m = listener_params(&s, &GaOptions::of(&s), &Aliases::default());
        assert_eq!(m.get("ProxyProtocol"), Some(&json!(true)));
        let mut off = s.clone();
        off.client_ip.as_mut().unwrap().mode = ClientIpMode::None;
        let m = listener_params(&off, &GaOptions::of(&off), &Aliases::default());
        assert_eq!(m.get("ProxyProtocol"), Some(&json!(false)));
        let v = update_params("lsr-1", &off, &s, &Aliases::default(), DEFAULT_OWNER).expect("a change");
        assert_eq!(v["ProxyProtocol"], json!(true));
    }

    #[test]
    fn deprecated_listener_proxy_protocol_is_a_warning_on_client_ip_mode() {
        let mut s = tcp(Ports::Single(80));
        s.client_ip = Some(ClientIp {
            mode: ClientIpMode::ProxyProtocol,
            headers: None,
        });
        let mut r = Rejections::new(API);
        check_rules(&s, &GaOptions::of(&s), &mut r);
        let got: Vec<_> = r
            .warnings()
            .iter()
            .map(|w| (w.field.as_str(), w.rule, w.vendor))
            .collect();
        assert_eq!(got, vec![("client_ip.mode", rule::PROXY_PROTOCOL_DEPRECATED, API)]);
        assert!(r.into_result().is_ok(), "a deprecation is not a refusal");
        let mut off = s.clone();
        off.client_ip.as_mut().unwrap().mode = ClientIpMode::None;
        let mut r = Rejections::new(API);
        check_rules(&off, &GaOptions::of(&off), &mut r);
        assert!(r.warnings().is_empty());
    }

    #[test]
    fn rejects_health_check_and_scheduler_but_accepts_backend_protocol() {
        let mut s = ListenerSpec::new("h", Protocol::Http, Ports::Single(80));
        s.health_check = Some(HealthCheck {
            enabled: true,
            kind: None,
            interval_secs: None,
            timeout_secs: None,
            healthy_threshold: None,
            unhealthy_threshold: None,
            port: None,
            http: None,
            custom: None,
        });
        s.scheduler = Some(Scheduler::RoundRobin);
        s.forwarding = Some(Forwarding {
            backend_protocol: Some(listener_core::BackendProtocol::Https),
            default_target: None,
        });
        assert_rejects(&s, "health_check", rule::HEALTH_CHECK);
        assert_rejects(&s, "scheduler", rule::SCHEDULER);
        // The backend protocol lives on endpoint groups; like the default
        // target it is accepted (so one file serves every cloud) and not sent.
        assert!(!crate::check(&profile(), &s)
            .iter()
            .any(|r| r.field.starts_with("forwarding")));
    }

    #[test]
    fn accepts_default_target_without_sending_it() {
        let mut p = profile();
        p.aliases.targets.insert("pool".into(), "epg-1".into());
        let mut s = ListenerSpec::new("h", Protocol::Http, Ports::Single(80));
        s.forwarding = Some(Forwarding {
            backend_protocol: Some(listener_core::BackendProtocol::Https),
            default_target: Some("pool".into()),
        });
        assert!(crate::check(&p, &s).is_empty());
        let params = create_params("ga-1", &s, &p.aliases, DEFAULT_OWNER);
        assert!(!params.to_string().contains("epg-1"));
        assert!(!params.to_string().to_lowercase().contains("https"));
    }

    #[test]
    fn rejects_custom_routing_on_http_and_https() {
        let mut s = https();
        s.extensions.insert(
            API,
            &GaOptions {
                routing_type: Some(RoutingType::CustomRouting),
                ..GaOptions::default()
            },
        );
        assert_rejects(&s, "extensions.alibaba-ga.routing_type", rule::CUSTOM_ROUTING_LAYER4);
        let mut t = tcp(Ports::Single(80));
        t.extensions = s.extensions.clone();
        assert_clean(&t);
    }

    #[test]
    fn rejects_unknown_extension_fields_and_ignores_other_vendors() {
        let mut s = tcp(Ports::Single(80));
        s.extensions.0.insert(API.into(), json!({"routing": "standard"}));
        assert_rejects(&s, "extensions.alibaba-ga", rule::EXTENSION_INVALID);
        let mut other = tcp(Ports::Single(80));
        other.extensions.0.insert("tencent-clb".into(), json!({"anything": 1}));
        assert_clean(&other);
    }

    #[test]
    fn neutral_violations_come_first_as_invalid_spec() {
        let s = tcp(Ports::Single(0));
        assert_rejects(&s, "ports", rule::INVALID_SPEC);
    }

    #[test]
    fn unknown_certificate_alias_is_rejected() {
        let mut s = https();
        s.tls.as_mut().unwrap().certificates = vec!["nope".into()];
        assert_rejects(&s, "tls.certificates[0]", "alias_unknown");
    }

    // --- accelerator-wide rules -------------------------------------------------

    fn set_rules(specs: &[ListenerSpec]) -> Vec<(usize, String, &'static str)> {
        check_accelerator(specs)
            .into_iter()
            .map(|(i, r)| (i, r.field, r.rule))
            .collect()
    }

    #[test]
    fn rejects_tcp_http_https_sharing_a_port() {
        let a = tcp(Ports::List(vec![range(80, 90)]));
        let b = ListenerSpec::new("h", Protocol::Http, Ports::Single(85));
        let c = https();
        let d = tcp(Ports::Single(443));
        let got = set_rules(&[a, b, c, d]);
        assert!(got.contains(&(1, "ports".into(), rule::PORT_CONFLICT)), "{got:?}");
        assert!(got.contains(&(3, "ports".into(), rule::PORT_CONFLICT)), "{got:?}");
        assert_eq!(got.len(), 2, "{got:?}");
    }

    #[test]
    fn udp_shares_ports_except_with_https_offering_http3() {
        let u = ListenerSpec::new("u", Protocol::Udp, Ports::Single(443));
        assert!(set_rules(&[https(), u.clone()]).is_empty());
        assert!(set_rules(&[tcp(Ports::Single(443)), u.clone()]).is_empty());
        let mut h3 = https();
        h3.tls.as_mut().unwrap().http3 = Some(true);
        assert_eq!(
            set_rules(&[h3, u.clone()]),
            vec![(1, "ports".into(), rule::PORT_CONFLICT)]
        );
        assert_eq!(
            set_rules(&[u.clone(), u]),
            vec![(1, "ports".into(), rule::PORT_CONFLICT)]
        );
    }

    #[test]
    fn rejects_a_second_huge_listener_of_one_protocol() {
        let a = tcp(Ports::Range(PortRange { from: 1000, to: 2000 }));
        let b = tcp(Ports::Range(PortRange { from: 3000, to: 4000 }));
        let u = ListenerSpec::new("u", Protocol::Udp, Ports::Range(PortRange { from: 1000, to: 2000 }));
        let got = set_rules(&[a, u, b]);
        assert_eq!(got, vec![(2, "ports".into(), rule::HUGE_PORT_EXCEEDS)]);
    }

    #[test]
    fn warns_past_fifty_listeners_and_does_not_refuse() {
        let specs: Vec<ListenerSpec> = (0..52u32)
            .map(|i| tcp(Ports::Single(1000 + i)).renamed(&format!("l{i}")))
            .collect();
        assert_eq!(set_rules(&specs), vec![]);
        let warnings = listener_quota_warnings(&specs);
        let warned: Vec<(usize, &str, &str)> = warnings.iter().map(|(i, w)| (*i, w.field.as_str(), w.rule)).collect();
        assert_eq!(
            warned,
            vec![
                (50, "listeners", rule::LISTENER_QUOTA),
                (51, "listeners", rule::LISTENER_QUOTA)
            ]
        );
    }

    /// Kept after checking (issue 17): GA's listener FAQ says UDP listeners
    /// may share a port with TCP, HTTP and HTTPS listeners, but the current
    /// CreateListener rules name the one exception, an HTTPS listener with
    /// `HttpVersion` http3, whose QUIC side takes the same port on UDP
    /// (`PortConflict.Listener`). The FAQ does not speak about HTTP/3, so
    /// it does not contradict the exception.
    #[test]
    fn udp_shares_ports_with_https_except_http3() {
        assert!(!port_spaces_collide(Protocol::Udp, false, Protocol::Https, false));
        assert!(!port_spaces_collide(Protocol::Udp, false, Protocol::Tcp, false));
        assert!(port_spaces_collide(Protocol::Udp, false, Protocol::Https, true));
        assert!(port_spaces_collide(Protocol::Https, true, Protocol::Udp, false));
    }

    #[test]
    fn rejects_mixed_routing_types() {
        let a = tcp(Ports::Single(80));
        let mut b = tcp(Ports::Single(81));
        b.extensions.insert(
            API,
            &GaOptions {
                routing_type: Some(RoutingType::CustomRouting),
                ..GaOptions::default()
            },
        );
        assert_eq!(
            set_rules(&[a, b]),
            vec![(1, "extensions.alibaba-ga.routing_type".into(), rule::ROUTING_TYPE_MIXED)]
        );
    }

    #[test]
    fn check_set_includes_single_listener_rules_and_set_rules() {
        let a = tcp(Ports::Single(80));
        let b = ListenerSpec::new("q", Protocol::Quic, Ports::Single(80));
        let got = crate::check_set(&profile(), &[a, b]);
        assert!(got.iter().any(|(i, r)| *i == 1 && r.rule == rule::PROTOCOL_ILLEGAL));
    }

    // --- translation ---------------------------------------------------------

    #[test]
    fn create_params_match_the_factsheet_example() {
        let s = ListenerSpec::new(
            "Listener",
            Protocol::Tcp,
            Ports::List(vec![range(80, 90), PortEntry::Port(443)]),
        );
        let v = create_params("ga-bp1odcab8tmno0hdq", &s, &profile().aliases, DEFAULT_OWNER);
        let flat = alibaba_api::params::flatten(&v);
        // Beside the example's parameters, the management mark.
        let mut got: Vec<String> = flat
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .filter(|p| p != "Description=[cloud-listeners:default]")
            .collect();
        assert_eq!(got.len() + 1, flat.len());
        got.sort();
        assert_eq!(
            got,
            vec![
                "AcceleratorId=ga-bp1odcab8tmno0hdq",
                "Name=Listener",
                "PortRanges.1.FromPort=80",
                "PortRanges.1.ToPort=90",
                "PortRanges.2.FromPort=443",
                "PortRanges.2.ToPort=443",
                "Protocol=tcp",
                "RegionId=cn-hangzhou",
            ]
        );
    }

    fn full_https() -> ListenerSpec {
        let mut s = https();
        s.description = Some("front door".into());
        let tls = s.tls.as_mut().unwrap();
        tls.policy = Some("tls_cipher_policy_1_2".into());
        tls.http3 = Some(true);
        s.session_persistence = Some(SessionPersistence {
            by: AffinityKey::SourceIp,
            timeout_secs: None,
        });
        s.timeouts = Some(Timeouts {
            idle_secs: Some(30),
            request_secs: Some(90),
        });
        s.client_ip = headers(ForwardedHeaders {
            x_forwarded_proto: Some(true),
            x_real_ip: Some(true),
            ..ForwardedHeaders::default()
        });
        s.extensions.insert(
            API,
            &GaOptions {
                ga_id_header: Some(true),
                ..GaOptions::default()
            },
        );
        s
    }

    #[test]
    fn https_params_carry_every_setting() {
        let v = create_params("ga-1", &full_https(), &profile().aliases, DEFAULT_OWNER);
        assert_eq!(v["Protocol"], "https");
        assert_eq!(v["Certificates"], json!([{"Id": CERT_ID}]));
        assert_eq!(v["SecurityPolicyId"], "tls_cipher_policy_1_2");
        assert_eq!(v["HttpVersion"], "http3");
        assert_eq!(v["ClientAffinity"], "SOURCE_IP");
        assert_eq!(v["IdleTimeout"], 30);
        assert_eq!(v["RequestTimeout"], 90);
        assert_eq!(
            v["XForwardedForConfig"],
            json!({"XForwardedForProtoEnabled": true, "XRealIpEnabled": true, "XForwardedForGaIdEnabled": true})
        );
        assert!(v.get("ProxyProtocol").is_none());
        assert!(v.get("Type").is_none());
    }

    /// What GA would answer for a listener made from `spec`: the parameters
    /// sent, GA's defaults filled in, protocol upper case, numbers as
    /// strings where GA sends strings.
    fn answer_for(spec: &ListenerSpec) -> Value {
        let p = create_params("ga-1", spec, &profile().aliases, DEFAULT_OWNER);
        let proto = p["Protocol"].as_str().unwrap().to_ascii_uppercase();
        let layer7 = proto.starts_with("HTTP");
        let xff = p.get("XForwardedForConfig").cloned().unwrap_or(json!({}));
        let flag = |k: &str| xff.get(k).cloned().unwrap_or(json!(false));
        let ranges: Vec<Value> = p["PortRanges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| json!({"FromPort": r["FromPort"].to_string(), "ToPort": r["ToPort"]}))
            .collect();
        let mut a = json!({
            "ListenerId": "lsr-bp1bpn0kn908w4nbw",
            "AcceleratorId": "ga-1",
            "State": "active",
            "Name": p["Name"],
            "Description": p.get("Description").cloned().unwrap_or(json!("")),
            "Protocol": proto,
            "PortRanges": ranges,
            "ClientAffinity": p.get("ClientAffinity").cloned().unwrap_or(json!("NONE")),
            "IdleTimeout": p.get("IdleTimeout").cloned().unwrap_or(json!(900)),
            "Type": "Standard",
            "CreateTime": "1577808000000",
        });
        if layer7 {
            a["RequestTimeout"] = p.get("RequestTimeout").cloned().unwrap_or(json!(60));
            a["XForwardedForConfig"] = json!({
                "XForwardedForGaIdEnabled": flag("XForwardedForGaIdEnabled"),
                "XForwardedForGaApEnabled": flag("XForwardedForGaApEnabled"),
                "XForwardedForProtoEnabled": flag("XForwardedForProtoEnabled"),
                "XForwardedForPortEnabled": flag("XForwardedForPortEnabled"),
                "XRealIpEnabled": flag("XRealIpEnabled"),
            });
        }
        if proto == "HTTPS" {
            a["Certificates"] = json!([{"Id": CERT_ID, "Type": "Server"}]);
            a["HttpVersion"] = p.get("HttpVersion").cloned().unwrap_or(json!("http2"));
            a["SecurityPolicyId"] = p
                .get("SecurityPolicyId")
                .cloned()
                .unwrap_or(json!("tls_cipher_policy_1_0"));
        }
        a
    }

    #[test]
    fn read_back_shows_no_change_against_the_spec() {
        let caps = crate::capabilities();
        let specs = [
            full_https(),
            https(),
            tcp(Ports::List(vec![range(80, 90), PortEntry::Port(443)])),
            ListenerSpec::new("dns", Protocol::Udp, Ports::Single(53)),
            ListenerSpec::new("plain", Protocol::Http, Ports::Single(80)),
        ];
        for spec in specs {
            let back = listener_from_answer(&answer_for(&spec), &profile().aliases).unwrap();
            let plan = listener_core::plan_change(&caps, &back.spec, &spec);
            assert!(plan.is_empty(), "{}: {:?}", spec.name, plan.changes);
            assert_eq!(back.state, "active");
            assert_eq!(back.accelerator, "ga-1");
        }
    }

    #[test]
    fn read_back_maps_certificate_ids_to_aliases_and_accepts_lower_case() {
        let mut a = answer_for(&https());
        a["Protocol"] = json!("https");
        let back = listener_from_answer(&a, &profile().aliases).unwrap();
        assert_eq!(back.spec.protocol, Protocol::Https);
        assert_eq!(back.spec.server_certificates(), ["web".to_string()]);
        let tls = back.spec.tls.unwrap();
        assert_eq!((tls.http2, tls.http3), (Some(true), Some(false)));
        assert_eq!(back.spec.ports.as_single(), Some(443));
    }

    #[test]
    fn read_back_refuses_an_answer_without_ports_or_protocol() {
        let mut a = answer_for(&tcp(Ports::Single(80)));
        a["PortRanges"] = json!([]);
        assert!(matches!(
            listener_from_answer(&a, &Aliases::default()),
            Err(Error::Transport { .. })
        ));
        let mut b = answer_for(&tcp(Ports::Single(80)));
        b["Protocol"] = json!("SCTP");
        assert!(listener_from_answer(&b, &Aliases::default()).is_err());
    }

    #[test]
    fn update_sends_only_what_changed() {
        let aliases = profile().aliases;
        let current = listener_from_answer(&answer_for(&full_https()), &aliases).unwrap().spec;
        assert!(update_params("lsr-1", &current, &full_https(), &aliases, DEFAULT_OWNER).is_none());

        let mut desired = full_https();
        desired.description = Some("new".into());
        desired.client_ip = headers(ForwardedHeaders {
            x_forwarded_proto: Some(true),
            x_real_ip: Some(false),
            ..ForwardedHeaders::default()
        });
        let v = update_params("lsr-1", &current, &desired, &aliases, DEFAULT_OWNER).unwrap();
        assert_eq!(
            v,
            json!({
                "RegionId": REGION,
                "ListenerId": "lsr-1",
                "Description": "new [cloud-listeners:default]",
                "XForwardedForConfig": {"XRealIpEnabled": false},
            })
        );
    }

    #[test]
    fn update_changes_protocol_and_ports_in_place() {
        let aliases = profile().aliases;
        let current = listener_from_answer(&answer_for(&tcp(Ports::Single(8080))), &aliases)
            .unwrap()
            .spec;
        let mut desired = https();
        desired.name = current.name.clone();
        let v = update_params("lsr-1", &current, &desired, &aliases, DEFAULT_OWNER).unwrap();
        assert_eq!(v["Protocol"], "https");
        assert_eq!(v["PortRanges"], json!([{"FromPort": 443, "ToPort": 443}]));
        assert_eq!(v["Certificates"], json!([{"Id": CERT_ID}]));
        assert!(v.get("Name").is_none());
    }

    #[test]
    fn no_panic_on_odd_answers() {
        for a in [
            json!(null),
            json!([]),
            json!({"ListenerId": 5, "Protocol": ["x"], "PortRanges": {"a": 1}}),
            json!({"ListenerId": "lsr-1", "Protocol": "TCP", "PortRanges": [{"FromPort": "x", "ToPort": -1}]}),
        ] {
            let _ = listener_from_answer(&a, &Aliases::default());
        }
    }
}
