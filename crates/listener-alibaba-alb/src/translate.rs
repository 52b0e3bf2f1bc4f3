//! Spec → ALB parameters, ALB answers → spec, and every rule the adapter
//! enforces before a call.
//!
//! Each rule is one function below with a doc comment naming its source
//! (the `CreateListener` seed, the factsheet, the vendor error code) and a
//! test next to it asserting the rejection's field and rule. [`check`] runs
//! the neutral rules, alias resolution, the typed extension section and then
//! every rule here; a vendor rejection that falls under a field the neutral
//! rules already refused is dropped, so one mistake is reported once.
//!
//! Parameters are built as nested JSON (`DefaultActions[0].Type`) and the
//! family client flattens them (`DefaultActions.1.Type`), exactly as the
//! official SDKs send them.

use std::collections::BTreeMap;
use std::net::IpAddr;

use listener_core::capabilities::path_within;
use listener_core::{
    AccessMode, ClientAuth, ClientIp, ClientIpMode, ClientVerify, ForwardedForMode, ForwardedHeaders, Forwarding,
    ListenerSpec, ListenerStatus, Ports, ProfileConfig, Protocol, Rejection, Rejections, Timeouts, Tls,
};
use listener_core::{Checked, CheckedSet, Warning};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::API;

/// Spec path of this adapter's extension section.
pub const EXTENSION_PATH: &str = "extensions.alibaba-alb";

/// Highest request or idle timeout any instance can have. The seed says
/// request 1–180 s and idle 1–60 s; the SDK model says 1–600 s for both,
/// "up to 3600 s after a quota increase". Whether this instance's quota
/// was raised cannot be known offline and an adjustable quota is the
/// vendor's to enforce (as GA's ports per listener are), so only what no
/// instance takes is refused: above 3600. Between 601 and 3600 the vendor
/// answers `InvalidParameter` where the quota is the default.
pub const MAX_TIMEOUT_SECS: u32 = 3600;

/// Default quota of listeners per ALB instance
/// (`ResourceQuotaExceeded.LoadBalancerListenersNum`).
pub const MAX_LISTENERS_PER_INSTANCE: usize = 50;

/// Length bounds of `ListenerDescription` (seed: 2–256 characters).
pub const DESCRIPTION_LEN: (usize, usize) = (2, 256);

/// Longest custom header name for the client-certificate headers (seed).
pub const MAX_HEADER_ALIAS_LEN: usize = 40;
/// Tags per listener (TagResources: "up to 20 tags").
pub const MAX_TAGS: usize = 20;
/// Longest tag key and value (`Tag.N.Key`/`Tag.N.Value`: at most 128
/// characters).
pub const MAX_TAG_LEN: usize = 128;
/// Prefixes reserved for the vendor's own tags; a key (and a value) must
/// not start with them.
pub const RESERVED_TAG_PREFIXES: [&str; 2] = ["aliyun", "acs:"];

// ---------------------------------------------------------------------------
// Extension options
// ---------------------------------------------------------------------------

/// Settings only ALB has, written under `extensions.alibaba-alb`.
///
/// Unknown fields are refused so a typo is reported by `check` like any
/// other field error rather than silently ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlbOptions {
    /// `GzipEnabled`: compress responses of certain content types
    /// (vendor default on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gzip: Option<bool>,
    /// `QuicConfig`: advertise an associated QUIC listener to HTTPS clients
    /// (HTTPS listeners only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quic_upgrade: Option<QuicUpgrade>,
    /// `XForwardedForSLBIdEnabled`: the `SLB-ID` header with the instance ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slb_id_header: Option<bool>,
    /// `XForwardedForClientSourceIps*`: take the client address from
    /// `X-Forwarded-For` when the request comes from a trusted proxy
    /// (HTTP and HTTPS listeners only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_source_ips: Option<ClientSourceIps>,
    /// `XForwardedForClientCert*`: pass client-certificate facts to the
    /// backends in headers (HTTPS listeners only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert_headers: Option<ClientCertHeaders>,
    /// `LogConfig` (UpdateListenerLogConfig): what the instance's access log
    /// records for this listener. The instance's access log must be on
    /// (EnableLoadBalancerAccessLog) for either setting to be switched on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_log: Option<AccessLogOptions>,
}

/// A listener's access-log settings (`LogConfig`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessLogOptions {
    /// `AccessLogRecordCustomizedHeadersEnabled`: record custom request
    /// headers in the access log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_customized_headers: Option<bool>,
    /// `AccessLogTracingConfig`: Xtrace (Zipkin) tracing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracing: Option<AccessLogTracing>,
}

/// `AccessLogTracingConfig`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessLogTracing {
    /// `TracingEnabled`.
    pub enabled: bool,
    /// `TracingSample`: sampling rate, 1 to 10000 (used when enabled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<u32>,
    /// `TracingType`: the tracing system; ALB documents `Zipkin` only.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "type")]
    pub kind: Option<String>,
}

/// The QUIC listener an HTTPS listener upgrades clients to.
///
/// Named by **port** (portable: the QUIC listener of the same instance on
/// that UDP port, typically the same number as the HTTPS port) or by
/// **listener ID** (`lsn-…`). Read back, both are filled, so either form
/// compares equal in a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuicUpgrade {
    /// `QuicUpgradeEnabled`. Defaults to on when the section is present;
    /// write `enabled = false` to switch an upgrade off (removing the section
    /// means "don't care", like every unset field).
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Port of the QUIC listener on the same instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u32>,
    /// ID of the QUIC listener; wins over `port` when both are given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listener_id: Option<String>,
}

fn default_true() -> bool {
    true
}

/// Trusted-proxy handling of `X-Forwarded-For`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSourceIps {
    /// `XForwardedForClientSourceIpsEnabled`.
    pub enabled: bool,
    /// `XForwardedForClientSourceIpsTrusted`: trusted proxy addresses or
    /// CIDR blocks (sent comma-separated).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted: Vec<String>,
}

/// The four client-certificate headers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientCertHeaders {
    /// Result of the client-certificate verification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_verify: Option<CertHeader>,
    /// Fingerprint of the client certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<CertHeader>,
    /// Issuer DN of the client certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_dn: Option<CertHeader>,
    /// Subject DN of the client certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_dn: Option<CertHeader>,
}

/// One client-certificate header: on/off and an optional custom name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertHeader {
    /// `XForwardedForClientCert…Enabled`.
    pub enabled: bool,
    /// `XForwardedForClientCert…Alias`: the header name to use instead of
    /// the vendor's (1–40 characters of `a–z 0–9 - _`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
}

impl ClientCertHeaders {
    /// `(spec key, ALB parameter infix, value)` for each header, in a fixed
    /// order so parameters and rejections come out the same every time.
    fn entries(&self) -> [(&'static str, &'static str, Option<&CertHeader>); 4] {
        [
            ("client_verify", "ClientVerify", self.client_verify.as_ref()),
            ("fingerprint", "Fingerprint", self.fingerprint.as_ref()),
            ("issuer_dn", "IssuerDN", self.issuer_dn.as_ref()),
            ("subject_dn", "SubjectDN", self.subject_dn.as_ref()),
        ]
    }
}

/// Parse the extension section, or the reason it is invalid.
pub fn options(spec: &ListenerSpec) -> Result<AlbOptions, String> {
    spec.extensions.parse::<AlbOptions>(API).map(Option::unwrap_or_default)
}

// ---------------------------------------------------------------------------
// check
// ---------------------------------------------------------------------------

/// Every reason ALB cannot take `spec`, without any network call.
pub fn check(profile: &ProfileConfig, spec: &ListenerSpec) -> Vec<Rejection> {
    let mut r = Rejections::preflight(&crate::capabilities(), &profile.aliases, spec);
    check_routes(profile, spec, &mut r);
    let opts = match options(spec) {
        Ok(o) => o,
        Err(e) => {
            r.reject(EXTENSION_PATH, listener_core::EXTENSION_INVALID, e);
            AlbOptions::default()
        }
    };
    let mut out = r.into_vec();
    // A field already refused by a neutral rule is not refused twice.
    let neutral: Vec<String> = out
        .iter()
        .filter(|rej| rej.rule == listener_core::check::INVALID_SPEC)
        .map(|rej| rej.field.clone())
        .collect();
    let vendor = vendor_rejections(spec, &opts);
    out.extend(
        vendor
            .into_iter()
            .filter(|rej| !neutral.iter().any(|path| path_within(&rej.field, path))),
    );
    out
}

/// The ALB rules alone (no neutral rules, no aliases), for `check` and for
/// the rule tests.
pub(crate) fn vendor_rejections(spec: &ListenerSpec, opts: &AlbOptions) -> Vec<Rejection> {
    let mut r = Rejections::new(API);
    reject_layer4_protocols(spec, &mut r);
    reject_several_ports(spec, &mut r);
    require_default_target(spec, &mut r);
    check_description_length(spec, &mut r);
    check_description_charset(spec, &mut r);
    check_request_timeout(spec, &mut r);
    check_idle_timeout(spec, &mut r);
    reject_https_only_tls_settings(spec, &mut r);
    require_default_certificate(spec, &mut r);
    reject_mutual_tls_outside_https(spec, &mut r);
    require_exactly_one_ca(spec, &mut r);
    reject_optional_client_verify(spec, &mut r);
    reject_sni_switch(spec, &mut r);
    reject_http3_switch(spec, &mut r);
    reject_quic_upgrade_outside_https(spec, opts, &mut r);
    require_quic_listener_reference(opts, &mut r);
    reject_client_cert_headers_outside_https(spec, opts, &mut r);
    reject_xff_settings_on_quic(spec, opts, &mut r);
    check_header_aliases(opts, &mut r);
    reject_xff_mode_without_xff(spec, &mut r);
    check_trusted_addresses(opts, &mut r);
    reject_x_real_ip(spec, &mut r);
    reject_proxy_protocol(spec, &mut r);
    reject_listener_health_check(spec, &mut r);
    reject_scheduler(spec, &mut r);
    reject_session_persistence(spec, &mut r);
    check_tag_count(spec, &mut r);
    check_tags(spec, &mut r);
    check_tracing_sample(opts, &mut r);
    check_tracing_type(opts, &mut r);
    r.into_vec()
}

/// At most 20 tags on one listener (TagResources: "up to 20 tags"; the
/// exact error code is not documented, the emulator answers
/// `QuotaExceeded.TagsNum`). Counting the listener's existing tags
/// is not needed: the spec's set is the whole set.
fn check_tag_count(spec: &ListenerSpec, r: &mut Rejections) {
    r.reject_if(
        spec.tags.len() + 1 > MAX_TAGS,
        "tags",
        "tag_count",
        format!(
            "an ALB listener carries at most {MAX_TAGS} tags, one of them the management mark \
             (`{}`), and this spec has {} of its own",
            listener_core::mark::TAG_KEY,
            spec.tags.len()
        ),
    );
}

/// `Tag.N.Key` is 1–128 characters and `Tag.N.Value` at most 128; neither
/// may start with `aliyun` or `acs:` nor contain `http://` or `https://`
/// (CreateListener and TagResources `Tag` rules, factsheet §4; the vendor
/// answers `InvalidParameter`). Each broken tag is reported at
/// `tags.<key>`.
fn check_tags(spec: &ListenerSpec, r: &mut Rejections) {
    for (key, value) in &spec.tags {
        if listener_core::mark::is_reserved_tag(key) {
            r.reject(
                format!("tags.{key}"),
                "tag_reserved",
                format!(
                    "tag keys starting with `{}` are the management mark's; the profile's `owner` sets it",
                    listener_core::mark::RESERVED_TAG_PREFIX
                ),
            );
            continue;
        }
        if let Some(why) = tag_text_problem(key, 1).or_else(|| tag_text_problem(value, 0)) {
            r.reject(format!("tags.{key}"), "tag_format", why);
        }
    }
}

/// Why a tag key (`min` 1) or value (`min` 0) breaks ALB's rule, if it does.
pub fn tag_text_problem(text: &str, min: usize) -> Option<String> {
    let n = text.chars().count();
    if n < min || n > MAX_TAG_LEN {
        return Some(format!(
            "ALB tag keys are 1 to {MAX_TAG_LEN} characters and values at most {MAX_TAG_LEN}; `{text}` has {n}"
        ));
    }
    if let Some(p) = RESERVED_TAG_PREFIXES.iter().find(|p| text.starts_with(**p)) {
        return Some(format!(
            "ALB tags must not start with `{p}` (reserved for the vendor's own tags)"
        ));
    }
    if text.contains("http://") || text.contains("https://") {
        return Some("ALB tags must not contain `http://` or `https://`".to_string());
    }
    None
}

/// The management mark is a listener tag on ALB: ALB listeners take tags
/// (`Tag.N` on CreateListener, TagResources), a tag is kept apart from
/// every setting the user manages, and it can be read back whole (the
/// description would do too, but its alphabet has no `:` and it is the
/// user's). Key [`listener_core::mark::TAG_KEY`], value the profile's
/// owner; read-back leaves it out of the spec's tags and reports the
/// owner ([`owner_from_attribute`]), and user tags under its prefix are
/// refused (`check_tags`), so no file can set or remove it.
pub fn tags_with_mark(profile: &ProfileConfig, tags: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut all = tags.clone();
    all.insert(listener_core::mark::TAG_KEY.to_string(), profile.owner().to_string());
    all
}

/// The owner of the listener's management mark tag, if it carries one
/// with a well-formed owner.
pub fn owner_from_attribute(attr: &Value) -> Option<String> {
    attr.get("Tags")?
        .as_array()?
        .iter()
        .find(|t| get_str(t, "Key") == Some(listener_core::mark::TAG_KEY))
        .and_then(|t| get_str(t, "Value"))
        .filter(|o| listener_core::mark::owner_problem(o).is_none())
        .map(str::to_string)
}

/// The `Tag` list (`Tag.N.Key`, `Tag.N.Value` once flattened) of a tag set,
/// for CreateListener and TagResources.
pub fn tag_params(tags: &BTreeMap<String, String>) -> Value {
    Value::Array(tags.iter().map(|(k, v)| json!({ "Key": k, "Value": v })).collect())
}

/// ALB is layer 7: `ListenerProtocol` takes `HTTP`, `HTTPS` or `QUIC` only
/// (seed; factsheet §4). TCP, UDP and TCP_SSL belong to NLB/CLB.
fn reject_layer4_protocols(spec: &ListenerSpec, r: &mut Rejections) {
    r.reject_if(
        protocol_name(spec.protocol).is_none(),
        "protocol",
        "layer7_only",
        format!(
            "ALB listeners are HTTP, HTTPS or QUIC; {} needs a layer-4 load balancer",
            spec.protocol
        ),
    );
}

/// `ListenerPort` is one integer: an ALB listener has exactly one port, no
/// list and no range (seed). Write one listener per port.
fn reject_several_ports(spec: &ListenerSpec, r: &mut Rejections) {
    r.reject_if(
        spec.ports.as_single().is_none() && !spec.ports.ranges().is_empty(),
        "ports",
        "single_port",
        format!(
            "an ALB listener has exactly one port, not `{}`; write one listener per port",
            spec.ports
        ),
    );
}

/// `DefaultActions` is required on `CreateListener` (seed: Required = Yes,
/// `MissingParameter` without it): ALB forwards to a server group by default,
/// so the spec must name one.
/// A listener `backend` (an inline pool, whose server group the adapter
/// makes before the listener) names it as well.
fn require_default_target(spec: &ListenerSpec, r: &mut Rejections) {
    r.reject_if(
        spec.backend.is_none()
            && spec
                .forwarding
                .as_ref()
                .and_then(|f| f.default_target.as_ref())
                .is_none(),
        "forwarding.default_target",
        "MissingParameter",
        "ALB requires a default forward action: set `backend` to a pool of the file or `forwarding.default_target` to a server-group alias",
    );
}

/// `ListenerDescription` is 2–256 characters (seed).
fn check_description_length(spec: &ListenerSpec, r: &mut Rejections) {
    if let Some(d) = &spec.description {
        let n = d.chars().count();
        r.reject_if(
            n < DESCRIPTION_LEN.0 || n > DESCRIPTION_LEN.1,
            "description",
            "description_length",
            format!(
                "ALB descriptions are {} to {} characters, this one has {n}",
                DESCRIPTION_LEN.0, DESCRIPTION_LEN.1
            ),
        );
    }
}

/// `ListenerDescription` characters every source refuses: anything but
/// letters, digits, `-`, `/`, `.`, `_` (CreateListener seed) and `,` `;`
/// `@` and Chinese characters (which `UpdateListenerAttribute` also
/// documents). A spec may become an in-place update, so `check` takes the
/// update set; [`check_create`] adds the create rule
/// ([`check_description_charset_on_create`]) before a create is sent.
fn check_description_charset(spec: &ListenerSpec, r: &mut Rejections) {
    if let Some(d) = &spec.description {
        if let Some(bad) = d.chars().find(|c| !description_char_ok_on_update(*c)) {
            r.reject(
                "description",
                "description_charset",
                format!(
                    "ALB descriptions take letters, digits, Chinese characters, `-`, `/`, `.`, `_`, `,`, `;` and `@` only, not {bad:?}"
                ),
            );
        }
    }
}

/// `ListenerDescription` on `CreateListener` takes letters, digits, `-`,
/// `/`, `.` and `_` only (seed; `InvalidParameter`): the stricter set,
/// applied to creates (and so to the create half of a replacement).
fn check_description_charset_on_create(spec: &ListenerSpec, r: &mut Rejections) {
    if let Some(d) = &spec.description {
        if let Some(bad) = d.chars().find(|c| !description_char_ok(*c)) {
            r.reject(
                "description",
                "description_charset",
                format!(
                    "CreateListener takes letters, digits, `-`, `/`, `.` and `_` only in a description, not {bad:?} (UpdateListenerAttribute takes more: change it in place)"
                ),
            );
        }
    }
}

/// Whether `c` may appear in a `ListenerDescription` at creation.
pub fn description_char_ok(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '/' | '.' | '_')
}

/// Whether `c` may appear in a `ListenerDescription` sent by
/// `UpdateListenerAttribute`: the create set plus `,` `;` `@` and Chinese
/// characters.
pub fn description_char_ok_on_update(c: char) -> bool {
    description_char_ok(c) || matches!(c, ',' | ';' | '@') || ('\u{4e00}'..='\u{9fff}').contains(&c)
}

/// [`check`] plus the rules that hold for `CreateListener` only (the
/// description's stricter character set). What `create` refuses before
/// sending.
pub fn check_create(profile: &ProfileConfig, spec: &ListenerSpec) -> Vec<Rejection> {
    let mut out = check(profile, spec);
    if !out.iter().any(|r| r.field == "description") {
        let mut r = Rejections::new(API);
        check_description_charset_on_create(spec, &mut r);
        out.extend(r.into_vec());
    }
    out
}

/// What ALB rules cannot route as the neutral semantics say: route
/// hosts are ordered by priority (see `rules`), so overlapping hosts are
/// expressed; what stays refused is about certificates
/// ([`reject_overlapping_certificates`]).
fn check_routes(profile: &ProfileConfig, spec: &ListenerSpec, r: &mut Rejections) {
    let specs: Vec<listener_core::RouteSpec> = spec.routes.iter().map(|x| x.to_route_spec()).collect();
    for (_, rejection) in crate::rules::hostless(&specs) {
        r.reject(rejection.field, rejection.rule, rejection.reason);
    }
    reject_overlapping_certificates(profile, spec, r);
}

/// Whether one request host can match both route hosts `a` and `b` (two
/// different hosts): one is a wildcard whose suffix the other ends with
/// (`api.example.com` or `*.a.example.com` under `*.example.com`).
pub fn hosts_overlap(a: &str, b: &str) -> bool {
    let under = |wild: &str, other: &str| {
        wild.strip_prefix('*').is_some_and(|suffix| {
            let other = other.strip_prefix('*').unwrap_or(other);
            other.len() > suffix.len() && other.ends_with(suffix)
        })
    };
    a != b && (under(a, b) || under(b, a))
}

/// Two different certificates on route hosts that can match one request
/// host. ALB does not tie a certificate to a host: it matches the TLS
/// server name against the names of every certificate on the listener
/// (factsheet `routing.md` §5, D-alb-sni), and which of two matching
/// certificates it serves is undocumented (§5 "[silent]"; §7 refuses
/// "two attached certificates covering the same host"). A route
/// certificate is taken to cover its route host, so `api.example.com`
/// with one certificate and `*.example.com` with another would both cover
/// `api.example.com`: refused at the later route's `certificate`. Two
/// aliases of one certificate ID are one certificate.
fn reject_overlapping_certificates(profile: &ProfileConfig, spec: &ListenerSpec, r: &mut Rejections) {
    let id = |alias: &str| profile.aliases.certificate(alias).unwrap_or(alias).to_string();
    let certified: Vec<(usize, &str, String)> = spec
        .routes
        .iter()
        .enumerate()
        .filter_map(|(i, route)| Some((i, route.host.as_str(), id(route.certificate.as_deref()?))))
        .collect();
    for (n, (j, host, cert)) in certified.iter().enumerate() {
        let clash = certified[..n]
            .iter()
            .find(|(_, other, other_cert)| other_cert != cert && hosts_overlap(host, other));
        if let Some((i, other, _)) = clash {
            r.reject(
                format!("routes[{j}].certificate"),
                "alb_certificate_overlap",
                format!(
                    "`{host}` and `{other}` (routes[{i}]) can be one request host, and ALB picks among the listener's certificates by their names, not by route: two different certificates would both cover it, and which one ALB serves is undocumented; give both hosts the same certificate or none to one of them"
                ),
            );
        }
    }
}

/// Route certificate aliases of an HTTPS listener, each once, in the
/// order of the routes: ALB serves them as additional certificates of the
/// listener.
pub fn route_certificates(spec: &ListenerSpec) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if spec.protocol != Protocol::Https {
        return out;
    }
    for c in spec.routes.iter().filter_map(|r| r.certificate.as_ref()) {
        if !out.contains(c) {
            out.push(c.clone());
        }
    }
    out
}

/// The listener as ALB holds it: routes are rules of their own (made
/// through `RuleProvider`), and their certificates are listener
/// certificates. So `tls.certificates` becomes the default certificate
/// (the file's first) followed by every other certificate of the listener
/// (the file's further ones and the routes'), each once and sorted: ALB
/// keeps additional certificates as a set, in no order. `routes` is
/// emptied. Applied to the desired spec before create and update, and to
/// both sides of `plan_change`, so that adding or rotating a route
/// certificate is an in-place listener update.
pub fn as_attached(spec: &ListenerSpec) -> ListenerSpec {
    let mut out = spec.clone();
    let extra = route_certificates(spec);
    out.routes.clear();
    if let Some(tls) = out.tls.as_mut() {
        if let Some((first, rest)) = tls.certificates.split_first() {
            let mut others: Vec<String> = rest
                .iter()
                .chain(extra.iter())
                .filter(|c| *c != first)
                .cloned()
                .collect();
            others.sort();
            others.dedup();
            tls.certificates = std::iter::once(first.clone()).chain(others).collect();
        }
    }
    out
}

/// `RequestTimeout` above 3600 s is refused by every source (seed 1–180,
/// SDK model 1–600 raised by quota up to 3600); see [`MAX_TIMEOUT_SECS`].
fn check_request_timeout(spec: &ListenerSpec, r: &mut Rejections) {
    if let Some(t) = spec.timeouts.as_ref().and_then(|t| t.request_secs) {
        r.reject_if(
            t > MAX_TIMEOUT_SECS,
            "timeouts.request_secs",
            "request_timeout_range",
            format!("ALB request timeouts are 1 to {MAX_TIMEOUT_SECS} seconds, not {t}"),
        );
    }
}

/// `IdleTimeout` above 3600 s is refused by every source (seed 1–60, SDK
/// model 1–600 raised by quota up to 3600); see [`MAX_TIMEOUT_SECS`].
fn check_idle_timeout(spec: &ListenerSpec, r: &mut Rejections) {
    if let Some(t) = spec.timeouts.as_ref().and_then(|t| t.idle_secs) {
        r.reject_if(
            t > MAX_TIMEOUT_SECS,
            "timeouts.idle_secs",
            "idle_timeout_range",
            format!("ALB idle timeouts are 1 to {MAX_TIMEOUT_SECS} seconds, not {t}"),
        );
    }
}

/// `Http2Enabled` and `SecurityPolicyId`: "Only HTTPS listeners support this
/// parameter" (seed). A QUIC listener has neither.
fn reject_https_only_tls_settings(spec: &ListenerSpec, r: &mut Rejections) {
    if spec.protocol == Protocol::Https {
        return;
    }
    if let Some(tls) = &spec.tls {
        r.reject_if(
            tls.http2.is_some(),
            "tls.http2",
            "https_only",
            format!("ALB switches HTTP/2 on HTTPS listeners only, not {}", spec.protocol),
        );
        r.reject_if(
            tls.policy.is_some(),
            "tls.policy",
            "https_only",
            format!(
                "ALB security policies apply to HTTPS listeners only, not {}",
                spec.protocol
            ),
        );
    }
}

/// HTTPS and QUIC listeners need exactly one default server certificate
/// (`Certificates.1.CertificateId`, factsheet §4); ALB has no listener
/// without one (no SNI-only mode).
fn require_default_certificate(spec: &ListenerSpec, r: &mut Rejections) {
    if matches!(spec.protocol, Protocol::Https | Protocol::Quic) && spec.server_certificates().is_empty() {
        r.reject(
            "tls.certificates",
            "default_certificate_required",
            format!("ALB {} listeners need a default server certificate", spec.protocol),
        );
    }
}

/// `CaEnabled` (mutual TLS) exists on HTTPS listeners only; QUIC listeners
/// never verify client certificates (factsheet §4).
fn reject_mutual_tls_outside_https(spec: &ListenerSpec, r: &mut Rejections) {
    if spec.protocol != Protocol::Https && spec.client_auth().is_some() {
        r.reject(
            "tls.client_auth",
            "mutual_tls_https_only",
            format!("ALB offers mutual TLS on HTTPS listeners only, not {}", spec.protocol),
        );
    }
}

/// `CaEnabled=true` needs exactly one CA certificate
/// (`CaCertificates.1.CertificateId`, factsheet §4).
fn require_exactly_one_ca(spec: &ListenerSpec, r: &mut Rejections) {
    if let Some(ca) = spec.client_auth() {
        r.reject_if(
            ca.ca_certificates.len() != 1,
            "tls.client_auth.ca_certificates",
            "one_ca_certificate",
            format!(
                "ALB mutual TLS takes exactly one CA certificate, not {}",
                ca.ca_certificates.len()
            ),
        );
    }
}

/// ALB's `CaEnabled` always requires a valid client certificate; there is
/// no "verify when offered" mode.
fn reject_optional_client_verify(spec: &ListenerSpec, r: &mut Rejections) {
    r.reject_if(
        spec.client_auth().is_some_and(|c| c.verify == ClientVerify::Optional),
        "tls.client_auth.verify",
        "client_verify_optional",
        "ALB mutual TLS always requires a client certificate; `verify = \"optional\"` cannot be expressed",
    );
}

/// ALB has no SNI switch: it always picks among the listener's certificates
/// by server name, so neither value of `tls.sni` can be sent or read back.
fn reject_sni_switch(spec: &ListenerSpec, r: &mut Rejections) {
    r.reject_if(
        spec.tls.as_ref().is_some_and(|t| t.sni.is_some()),
        "tls.sni",
        "sni_switch",
        "ALB has no SNI switch (it always selects certificates by server name); remove `tls.sni`",
    );
}

/// HTTP/3 on an ALB HTTPS listener is a separate QUIC listener plus the
/// QUIC upgrade (`QuicConfig`); there is no switch on the HTTPS listener.
fn reject_http3_switch(spec: &ListenerSpec, r: &mut Rejections) {
    r.reject_if(
        spec.protocol == Protocol::Https && spec.tls.as_ref().is_some_and(|t| t.http3.is_some()),
        "tls.http3",
        "http3_switch",
        "ALB offers HTTP/3 through a QUIC listener: create one and set \
         `extensions.alibaba-alb.quic_upgrade` instead of `tls.http3`",
    );
}

/// `QuicConfig.QuicUpgradeEnabled`: "Only HTTPS listeners support this
/// parameter" (seed).
fn reject_quic_upgrade_outside_https(spec: &ListenerSpec, opts: &AlbOptions, r: &mut Rejections) {
    r.reject_if(
        spec.protocol != Protocol::Https && opts.quic_upgrade.is_some(),
        format!("{EXTENSION_PATH}.quic_upgrade"),
        "quic_upgrade_https_only",
        format!("ALB QUIC upgrade is set on HTTPS listeners only, not {}", spec.protocol),
    );
}

/// `QuicConfig.QuicListenerId` "is required when QuicUpgradeEnabled is set
/// to true" (seed): the upgrade must name its QUIC listener, by port or ID.
fn require_quic_listener_reference(opts: &AlbOptions, r: &mut Rejections) {
    let Some(q) = &opts.quic_upgrade else { return };
    if q.enabled && q.port.is_none() && q.listener_id.as_deref().is_none_or(|s| s.trim().is_empty()) {
        r.reject(
            format!("{EXTENSION_PATH}.quic_upgrade"),
            "MissingParameter",
            "a QUIC upgrade needs the QUIC listener: set `port` (same instance) or `listener_id`",
        );
    }
    if let Some(p) = q.port {
        r.reject_if(
            !(1..=65535).contains(&p),
            format!("{EXTENSION_PATH}.quic_upgrade.port"),
            "port_range",
            format!("port {p} is outside 1 to 65535"),
        );
    }
}

/// `XForwardedForClientCert*`: "Only HTTPS listeners support this
/// parameter" (seed).
fn reject_client_cert_headers_outside_https(spec: &ListenerSpec, opts: &AlbOptions, r: &mut Rejections) {
    r.reject_if(
        spec.protocol != Protocol::Https && opts.client_cert_headers.is_some(),
        format!("{EXTENSION_PATH}.client_cert_headers"),
        "client_cert_headers_https_only",
        format!(
            "ALB adds client-certificate headers on HTTPS listeners only, not {}",
            spec.protocol
        ),
    );
}

/// `XForwardedForEnabled`, `…ProcessingMode`, `…ClientSrcPortEnabled` and
/// `…ClientSourceIps*`: "HTTP and HTTPS listeners support this parameter"
/// (seed, factsheet §4); a QUIC listener has none of them.
fn reject_xff_settings_on_quic(spec: &ListenerSpec, opts: &AlbOptions, r: &mut Rejections) {
    if spec.protocol != Protocol::Quic {
        return;
    }
    let reason = "ALB QUIC listeners have no such setting (HTTP and HTTPS only)";
    if let Some(h) = headers_of(spec) {
        r.reject_if(
            h.x_forwarded_for.is_some(),
            "client_ip.headers.x_forwarded_for",
            "xff_not_on_quic",
            reason,
        );
        r.reject_if(
            h.x_forwarded_for_mode.is_some(),
            "client_ip.headers.x_forwarded_for_mode",
            "xff_not_on_quic",
            reason,
        );
        r.reject_if(
            h.client_source_port.is_some(),
            "client_ip.headers.client_source_port",
            "xff_not_on_quic",
            reason,
        );
    }
    r.reject_if(
        opts.client_source_ips.is_some(),
        format!("{EXTENSION_PATH}.client_source_ips"),
        "xff_not_on_quic",
        reason,
    );
}

/// The custom client-certificate header names are 1–40 characters of
/// lower-case letters, digits, `-` and `_` (seed).
fn check_header_aliases(opts: &AlbOptions, r: &mut Rejections) {
    let Some(h) = &opts.client_cert_headers else { return };
    for (key, _, header) in h.entries() {
        if let Some(alias) = header.and_then(|h| h.alias.as_deref()) {
            r.reject_if(
                !header_alias_ok(alias),
                format!("{EXTENSION_PATH}.client_cert_headers.{key}.alias"),
                "header_alias_format",
                format!(
                    "header names are 1 to {MAX_HEADER_ALIAS_LEN} characters of a-z, 0-9, `-` and `_`, not `{alias}`"
                ),
            );
        }
    }
}

/// Whether `alias` is a valid custom header name.
pub fn header_alias_ok(alias: &str) -> bool {
    (1..=MAX_HEADER_ALIAS_LEN).contains(&alias.len())
        && alias
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// `XForwardedForProcessingMode` applies "only with XForwardedForEnabled"
/// (factsheet §4; the SDK model says the mode is ignored without it, which
/// is not a refusal). Checked and kept, as the adapter's own rule (not a
/// vendor code): a mode with `x_forwarded_for = false` has no effect and
/// is not read back (the mode is read only while X-Forwarded-For is on),
/// so a spec asking for it would plan a change after every apply.
fn reject_xff_mode_without_xff(spec: &ListenerSpec, r: &mut Rejections) {
    if let Some(h) = headers_of(spec) {
        r.reject_if(
            h.x_forwarded_for_mode.is_some() && h.x_forwarded_for == Some(false),
            "client_ip.headers.x_forwarded_for_mode",
            "xff_mode_needs_xff",
            "an X-Forwarded-For mode needs `x_forwarded_for` on",
        );
    }
}

/// `XForwardedForClientSourceIpsTrusted` holds IP addresses or CIDR blocks.
fn check_trusted_addresses(opts: &AlbOptions, r: &mut Rejections) {
    let Some(ips) = &opts.client_source_ips else { return };
    for (i, entry) in ips.trusted.iter().enumerate() {
        r.reject_if(
            !address_or_cidr_ok(entry),
            format!("{EXTENSION_PATH}.client_source_ips.trusted[{i}]"),
            "trusted_address_format",
            format!("`{entry}` is not an IP address or CIDR block"),
        );
    }
}

/// Whether `s` is an IPv4/IPv6 address or CIDR block.
pub fn address_or_cidr_ok(s: &str) -> bool {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let Ok(ip) = addr.parse::<IpAddr>() else { return false };
    match prefix {
        None => true,
        Some(p) => {
            let max = if ip.is_ipv4() { 32 } else { 128 };
            !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u32>().is_ok_and(|n| n <= max)
        }
    }
}

/// ALB has no `X-Real-IP` header option (the client address travels in
/// `X-Forwarded-For`); `x_real_ip = false` is what ALB does anyway.
fn reject_x_real_ip(spec: &ListenerSpec, r: &mut Rejections) {
    r.reject_if(
        headers_of(spec).is_some_and(|h| h.x_real_ip == Some(true)),
        "client_ip.headers.x_real_ip",
        "x_real_ip",
        "ALB cannot add X-Real-IP; it passes the client address in X-Forwarded-For",
    );
}

/// ALB is layer 7 and has no Proxy Protocol on its listeners.
fn reject_proxy_protocol(spec: &ListenerSpec, r: &mut Rejections) {
    r.reject_if(
        spec.client_ip
            .as_ref()
            .is_some_and(|c| c.mode == ClientIpMode::ProxyProtocol),
        "client_ip.mode",
        "proxy_protocol",
        "ALB listeners pass the client address in headers; Proxy Protocol is not available",
    );
}

/// ALB health checks belong to server groups (CreateServerGroup
/// `HealthCheckConfig`), not to listeners.
fn reject_listener_health_check(spec: &ListenerSpec, r: &mut Rejections) {
    r.reject_if(
        spec.health_check.is_some(),
        "health_check",
        "health_check_on_server_group",
        "ALB checks health on the server group, not on the listener",
    );
}

/// The ALB scheduler is a server-group setting (CreateServerGroup
/// `Scheduler`).
fn reject_scheduler(spec: &ListenerSpec, r: &mut Rejections) {
    r.reject_if(
        spec.scheduler.is_some(),
        "scheduler",
        "scheduler_on_server_group",
        "ALB sets the scheduling algorithm on the server group, not on the listener",
    );
}

/// ALB session persistence is a server-group setting (CreateServerGroup
/// `StickySessionConfig`).
fn reject_session_persistence(spec: &ListenerSpec, r: &mut Rejections) {
    r.reject_if(
        spec.session_persistence.is_some(),
        "session_persistence",
        "session_persistence_on_server_group",
        "ALB sets session persistence on the server group, not on the listener",
    );
}

fn headers_of(spec: &ListenerSpec) -> Option<&ForwardedHeaders> {
    spec.client_ip.as_ref().and_then(|c| c.headers.as_ref())
}

// ---------------------------------------------------------------------------
// check_set
// ---------------------------------------------------------------------------

/// Rules over every listener of one instance, plus each listener's own.
pub fn check_set(profile: &ProfileConfig, specs: &[ListenerSpec]) -> Vec<(usize, Rejection)> {
    let mut out = listener_core::check::check_each(specs, |s| check(profile, s));
    reject_shared_ports(specs, &mut out);
    for spec in specs {
        if let Some(message) = acl_entries_warning(spec) {
            tracing::warn!(listener = %spec.name, "{message}");
        }
    }
    check_quic_associations(specs, &mut out);
    out
}

/// [`check`] with its warnings (ALB has none for one listener alone).
pub fn check_with_warnings(profile: &ProfileConfig, spec: &ListenerSpec) -> Checked {
    Checked {
        rejections: check(profile, spec),
        warnings: Vec::new(),
    }
}

/// [`check_set`] with the warnings past the instance's default listener
/// quota ([`listener_quota_warnings`]).
pub fn check_set_with_warnings(profile: &ProfileConfig, specs: &[ListenerSpec]) -> CheckedSet {
    let mut out = CheckedSet {
        rejections: check_set(profile, specs),
        warnings: Vec::new(),
    };
    out.warn_all(specs, listener_quota_warnings(specs));
    out
}

/// One listener per port and transport on an instance
/// (`ResourceAlreadyExist.Listener`). HTTP and HTTPS share the TCP port
/// space; QUIC uses UDP, so a QUIC and an HTTPS listener may both take 443.
fn reject_shared_ports(specs: &[ListenerSpec], out: &mut Vec<(usize, Rejection)>) {
    let mut seen: BTreeMap<(bool, u32), usize> = BTreeMap::new();
    for (i, s) in specs.iter().enumerate() {
        let Some(port) = s.ports.as_single() else { continue };
        let key = (s.protocol == Protocol::Quic, port);
        match seen.get(&key) {
            Some(first) => out.push((
                i,
                Rejection::new(
                    API,
                    "ports",
                    "ResourceAlreadyExist.Listener",
                    format!("listeners[{first}] already takes port {port} on this instance"),
                ),
            )),
            None => {
                seen.insert(key, i);
            }
        }
    }
}

/// Listeners past the default quota of [`MAX_LISTENERS_PER_INSTANCE`] per
/// instance (`ResourceQuotaExceeded.LoadBalancerListenersNum`): a warning on
/// each, with its index. The quota is adjustable in the quota centre, so
/// it is never a refusal: the vendor answers.
pub fn listener_quota_warnings(specs: &[ListenerSpec]) -> Vec<(usize, Warning)> {
    (MAX_LISTENERS_PER_INSTANCE..specs.len())
        .map(|i| {
            (
                i,
                Warning::new(
                    API,
                    "listeners",
                    LISTENER_QUOTA,
                    format!(
                        "an ALB instance holds {MAX_LISTENERS_PER_INSTANCE} listeners by default; this is number {}, so the instance's quota must have been raised",
                        i + 1
                    ),
                ),
            )
        })
        .collect()
}

/// ALB's answer past the listener quota, the rule of its warning.
pub const LISTENER_QUOTA: &str = "ResourceQuotaExceeded.LoadBalancerListenersNum";

/// A QUIC listener serves one HTTPS listener's upgrade
/// (`ResourceAlreadyAssociated.Listener`), and a QUIC listener named by port
/// in the same file must come before the HTTPS listener that upgrades to it,
/// since it has to exist when that one is created.
fn check_quic_associations(specs: &[ListenerSpec], out: &mut Vec<(usize, Rejection)>) {
    let field = format!("{EXTENSION_PATH}.quic_upgrade");
    let mut taken: BTreeMap<String, usize> = BTreeMap::new();
    // The last QUIC listener on each single port, so "is there one later?"
    // is a lookup, not a scan of the rest of the file per HTTPS listener.
    let mut last_quic: BTreeMap<u32, usize> = BTreeMap::new();
    for (j, o) in specs.iter().enumerate() {
        if let (Protocol::Quic, Some(p)) = (o.protocol, o.ports.as_single()) {
            last_quic.insert(p, j);
        }
    }
    for (i, s) in specs.iter().enumerate() {
        if s.protocol != Protocol::Https {
            continue;
        }
        let Ok(opts) = options(s) else { continue };
        let Some(q) = opts.quic_upgrade.filter(|q| q.enabled) else {
            continue;
        };
        let target = match (&q.listener_id, q.port) {
            (Some(id), _) => format!("id:{id}"),
            (None, Some(p)) => format!("port:{p}"),
            (None, None) => continue,
        };
        if let Some(first) = taken.get(&target) {
            out.push((
                i,
                Rejection::new(
                    API,
                    field.clone(),
                    "ResourceAlreadyAssociated.Listener",
                    format!(
                        "listeners[{first}] already upgrades to this QUIC listener; each serves one HTTPS listener"
                    ),
                ),
            ));
        } else {
            taken.insert(target, i);
        }
        if let (None, Some(p)) = (&q.listener_id, q.port) {
            if let Some(&j) = last_quic.get(&p).filter(|&&j| j > i) {
                out.push((
                    i,
                    Rejection::new(
                        API,
                        field.clone(),
                        "quic_listener_order",
                        format!("the QUIC listener on port {p} (listeners[{j}]) must be listed before this one"),
                    ),
                ));
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Spec → parameters
// ---------------------------------------------------------------------------

/// ALB's name for a protocol, `None` for protocols ALB does not have.
pub fn protocol_name(p: Protocol) -> Option<&'static str> {
    match p {
        Protocol::Http => Some("HTTP"),
        Protocol::Https => Some("HTTPS"),
        Protocol::Quic => Some("QUIC"),
        _ => None,
    }
}

/// The protocol an ALB name stands for (case-insensitive).
pub fn protocol_from_name(name: &str) -> Option<Protocol> {
    match name.to_ascii_uppercase().as_str() {
        "HTTP" => Some(Protocol::Http),
        "HTTPS" => Some(Protocol::Https),
        "QUIC" => Some(Protocol::Quic),
        _ => None,
    }
}

/// `CreateListener` parameters for a spec that passed [`check`].
/// `quic_listener_id` is the resolved ID of the QUIC listener named in
/// `quic_upgrade` (the provider looks it up by port when needed).
/// `ClientToken` and `DryRun` are added by the client.
pub fn create_params(profile: &ProfileConfig, spec: &ListenerSpec, quic_listener_id: Option<&str>) -> Value {
    let opts = options(spec).unwrap_or_default();
    let mut p = Map::new();
    p.insert("LoadBalancerId".into(), json!(profile.instance));
    p.insert(
        "ListenerProtocol".into(),
        json!(protocol_name(spec.protocol).unwrap_or(spec.protocol.as_str())),
    );
    if let Some(port) = spec.ports.as_single() {
        p.insert("ListenerPort".into(), json!(port));
    }
    p.extend(settings_params(profile, spec, &opts, quic_listener_id));
    p.insert("Tag".into(), tag_params(&tags_with_mark(profile, &spec.tags)));
    Value::Object(p)
}

/// The changeable settings of a listener as ALB parameters: everything
/// `UpdateListenerAttribute` takes, which is also what `CreateListener`
/// takes besides instance, protocol and port.
pub fn settings_params(
    profile: &ProfileConfig,
    spec: &ListenerSpec,
    opts: &AlbOptions,
    quic_listener_id: Option<&str>,
) -> Map<String, Value> {
    let mut p = Map::new();
    let https = spec.protocol == Protocol::Https;
    if let Some(d) = &spec.description {
        p.insert("ListenerDescription".into(), json!(d));
    }
    if let Some(t) = &spec.timeouts {
        if let Some(s) = t.request_secs {
            p.insert("RequestTimeout".into(), json!(s));
        }
        if let Some(s) = t.idle_secs {
            p.insert("IdleTimeout".into(), json!(s));
        }
    }
    if let Some(g) = opts.gzip {
        p.insert("GzipEnabled".into(), json!(g));
    }
    if let Some(tls) = &spec.tls {
        if https {
            if let Some(h2) = tls.http2 {
                p.insert("Http2Enabled".into(), json!(h2));
            }
            if let Some(policy) = &tls.policy {
                p.insert("SecurityPolicyId".into(), json!(policy));
            }
        }
        if let Some(first) = tls.certificates.first() {
            let id = profile.aliases.certificate(first).unwrap_or(first);
            p.insert("Certificates".into(), json!([{ "CertificateId": id }]));
        }
    }
    if https {
        match spec.client_auth() {
            Some(ca) => {
                p.insert("CaEnabled".into(), json!(true));
                let ids = profile.aliases.certificate_ids(&ca.ca_certificates);
                let list: Vec<Value> = ids.iter().map(|id| json!({ "CertificateId": id })).collect();
                p.insert("CaCertificates".into(), Value::Array(list));
            }
            // No `client_auth` means mutual TLS is off (see the core's
            // `ABSENCE_MEANS_OFF`), on update as on create; the update diff
            // drops it again when the listener already has it off.
            None => {
                p.insert("CaEnabled".into(), json!(false));
            }
        }
    }
    let xff = xff_params(spec, opts);
    if !xff.is_empty() {
        p.insert("XForwardedForConfig".into(), Value::Object(xff));
    }
    if let (true, Some(q)) = (https, &opts.quic_upgrade) {
        let mut quic = Map::new();
        quic.insert("QuicUpgradeEnabled".into(), json!(q.enabled));
        if let Some(id) = quic_listener_id.or(q.listener_id.as_deref()) {
            quic.insert("QuicListenerId".into(), json!(id));
        }
        p.insert("QuicConfig".into(), Value::Object(quic));
    }
    if let Some(target) = spec.forwarding.as_ref().and_then(|f| f.default_target.as_ref()) {
        let id = profile.aliases.target(target).unwrap_or(target);
        p.insert("DefaultActions".into(), default_actions(id));
    }
    p
}

/// The spec with its default backend, the pool named by `backend`, as the
/// server group `group` that the adapter made for it: ALB's default action
/// names a server group (`DefaultActions`, required on `CreateListener`),
/// which [`settings_params`] takes from `forwarding.default_target` (an ID
/// that is no alias passes as it is).
pub fn with_default_group(spec: &ListenerSpec, group: &str) -> ListenerSpec {
    let mut out = spec.clone();
    let f = out.forwarding.get_or_insert(Forwarding {
        backend_protocol: None,
        default_target: None,
    });
    f.default_target = Some(group.to_string());
    out.backend = None;
    out
}

/// Read back a default server group that is one of the adapter's pools
/// (`pool`, its name) as the listener's `backend`, as the file says it,
/// instead of a `forwarding.default_target`.
pub fn default_group_as_backend(spec: &mut ListenerSpec, pool: &str) {
    spec.backend = Some(pool.to_string());
    if let Some(f) = spec.forwarding.as_mut() {
        f.default_target = None;
        if f.backend_protocol.is_none() {
            spec.forwarding = None;
        }
    }
}

/// The server group of a listener's default action (`GetListenerAttribute`).
pub fn default_group_id(attr: &Value) -> Option<&str> {
    attr.get("DefaultActions")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(|a| a.pointer("/ForwardGroupConfig/ServerGroupTuples/0/ServerGroupId"))
        .and_then(Value::as_str)
}

/// `DefaultActions` forwarding everything to one server group.
pub fn default_actions(server_group_id: &str) -> Value {
    json!([{
        "Type": "ForwardGroup",
        "ForwardGroupConfig": { "ServerGroupTuples": [{ "ServerGroupId": server_group_id }] }
    }])
}

/// `XForwardedForConfig` entries from `client_ip` and the extension options.
fn xff_params(spec: &ListenerSpec, opts: &AlbOptions) -> Map<String, Value> {
    let mut x = Map::new();
    let quic = spec.protocol == Protocol::Quic;
    let mut set = |k: &str, v: Value| {
        x.insert(k.to_string(), v);
    };
    if let Some(ci) = &spec.client_ip {
        match (ci.mode, &ci.headers) {
            (ClientIpMode::None, _) => {
                // "Nothing is added": every header ALB would add by itself
                // (X-Forwarded-For is on by default) is switched off.
                if !quic {
                    set("XForwardedForEnabled", json!(false));
                    set("XForwardedForClientSrcPortEnabled", json!(false));
                }
                set("XForwardedForProtoEnabled", json!(false));
                set("XForwardedForSLBPortEnabled", json!(false));
                set("XForwardedForHostEnabled", json!(false));
            }
            (ClientIpMode::Headers, Some(h)) => {
                if let Some(v) = h.x_forwarded_for {
                    set("XForwardedForEnabled", json!(v));
                }
                if let Some(m) = h.x_forwarded_for_mode {
                    let mode = match m {
                        ForwardedForMode::Append => "append",
                        ForwardedForMode::Remove => "remove",
                    };
                    set("XForwardedForProcessingMode", json!(mode));
                }
                if let Some(v) = h.x_forwarded_proto {
                    set("XForwardedForProtoEnabled", json!(v));
                }
                if let Some(v) = h.x_forwarded_port {
                    set("XForwardedForSLBPortEnabled", json!(v));
                }
                if let Some(v) = h.x_forwarded_host {
                    set("XForwardedForHostEnabled", json!(v));
                }
                if let Some(v) = h.client_source_port {
                    set("XForwardedForClientSrcPortEnabled", json!(v));
                }
            }
            _ => {}
        }
    }
    if let Some(v) = opts.slb_id_header {
        set("XForwardedForSLBIdEnabled", json!(v));
    }
    if let Some(ips) = &opts.client_source_ips {
        set("XForwardedForClientSourceIpsEnabled", json!(ips.enabled));
        if !ips.trusted.is_empty() {
            set("XForwardedForClientSourceIpsTrusted", json!(ips.trusted.join(",")));
        }
    }
    if let Some(h) = &opts.client_cert_headers {
        for (_, infix, header) in h.entries() {
            if let Some(header) = header {
                set(&format!("XForwardedForClientCert{infix}Enabled"), json!(header.enabled));
                if let Some(alias) = &header.alias {
                    set(&format!("XForwardedForClientCert{infix}Alias"), json!(alias));
                }
            }
        }
    }
    x
}

/// What an update must send: changed settings for
/// `UpdateListenerAttribute`, and additional certificates to dissociate and
/// associate.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdatePlan {
    /// Changed parameters (without `ListenerId`); empty = no call.
    pub params: Map<String, Value>,
    /// Additional certificate IDs to remove.
    pub dissociate: Vec<String>,
    /// Additional certificate IDs to add.
    pub associate: Vec<String>,
    /// Tags to add or overwrite (TagResources).
    pub tag: BTreeMap<String, String>,
    /// Tag keys to remove (UnTagResources).
    pub untag: Vec<String>,
    /// Start (`true`) or stop (`false`) the listener.
    pub switch: Option<bool>,
}

impl UpdatePlan {
    /// Whether nothing needs sending.
    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
            && self.dissociate.is_empty()
            && self.associate.is_empty()
            && self.tag.is_empty()
            && self.untag.is_empty()
            && self.switch.is_none()
    }
}

/// Compare the listener as read back with the desired spec and keep only
/// the parameters that differ. Only fields set in `desired` are considered,
/// matching how plans compare specs.
pub fn update_plan(
    profile: &ProfileConfig,
    current: &ListenerSpec,
    desired: &ListenerSpec,
    desired_quic_id: Option<&str>,
) -> UpdatePlan {
    let want_opts = options(desired).unwrap_or_default();
    let have_opts = options(current).unwrap_or_default();
    let have_quic_id = have_opts.quic_upgrade.as_ref().and_then(|q| q.listener_id.clone());
    let want = settings_params(profile, desired, &want_opts, desired_quic_id);
    let have = settings_params(profile, current, &have_opts, have_quic_id.as_deref());

    let mut params = Map::new();
    for (k, v) in &want {
        match (k.as_str(), v, have.get(k)) {
            ("XForwardedForConfig", Value::Object(w), h) => {
                let h = h.and_then(Value::as_object);
                let changed: Map<String, Value> = w
                    .iter()
                    .filter(|(sk, sv)| h.and_then(|h| h.get(*sk)) != Some(*sv))
                    .map(|(sk, sv)| (sk.clone(), sv.clone()))
                    .collect();
                if !changed.is_empty() {
                    params.insert(k.clone(), Value::Object(changed));
                }
            }
            (_, v, h) if h != Some(v) => {
                params.insert(k.clone(), v.clone());
            }
            _ => {}
        }
    }
    // The CA list only means something together with the switch.
    if params.contains_key("CaCertificates") || params.contains_key("CaEnabled") {
        for k in ["CaEnabled", "CaCertificates"] {
            if let Some(v) = want.get(k) {
                params.insert(k.to_string(), v.clone());
            }
        }
    }

    let mut plan = UpdatePlan {
        params,
        ..UpdatePlan::default()
    };
    let want_certs = desired.server_certificates();
    if !want_certs.is_empty() {
        let want_default = profile.aliases.certificate_ids(&want_certs[..1]);
        let want_extra = additional_certificate_ids(profile, desired);
        let have_all = profile.aliases.certificate_ids(current.server_certificates());
        let have_extra: Vec<String> = have_all.iter().skip(1).cloned().collect();
        // The new default certificate leaves the additional ones by being
        // made the default; it is not dissociated.
        plan.dissociate = have_extra
            .iter()
            .filter(|id| !want_extra.contains(id) && !want_default.contains(id))
            .cloned()
            .collect();
        plan.associate = want_extra
            .iter()
            .filter(|id| !have_extra.contains(id))
            .cloned()
            .collect();
    }
    // A tag set in the spec is the listener's whole set; none means leave
    // the tags alone.
    if !desired.tags.is_empty() {
        plan.tag = desired
            .tags
            .iter()
            .filter(|(k, v)| current.tags.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        plan.untag = current
            .tags
            .keys()
            .filter(|k| !desired.tags.contains_key(*k))
            .cloned()
            .collect();
    }
    // StartListener/StopListener, only when the state differs (the vendor
    // refuses to stop a stopped listener).
    plan.switch = desired.enabled.filter(|want| current.enabled.unwrap_or(true) != *want);
    plan
}

/// IDs of the additional (non-default) certificates a spec asks for.
/// Each ID once, and never the default certificate's (two aliases may
/// name one certificate).
pub fn additional_certificate_ids(profile: &ProfileConfig, spec: &ListenerSpec) -> Vec<String> {
    let certs = spec.server_certificates();
    if certs.len() < 2 {
        return Vec::new();
    }
    let ids = profile.aliases.certificate_ids(certs);
    let mut out: Vec<String> = Vec::new();
    for id in &ids[1..] {
        if *id != ids[0] && !out.contains(id) {
            out.push(id.clone());
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Answers → spec
// ---------------------------------------------------------------------------

/// A boolean the vendor may send as `true` or `"true"`.
pub(crate) fn get_bool(v: &Value, key: &str) -> Option<bool> {
    match v.get(key)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// A number the vendor may send as `80` or `"80"`.
pub(crate) fn get_u32(v: &Value, key: &str) -> Option<u32> {
    match v.get(key)? {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A non-empty string field.
pub(crate) fn get_str<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// `ListenerStatus` in neutral terms.
pub fn status_from_vendor(s: &str) -> ListenerStatus {
    match s {
        "Provisioning" => ListenerStatus::Creating,
        "Running" => ListenerStatus::Running,
        "Configuring" => ListenerStatus::Updating,
        "Stopped" => ListenerStatus::Stopped,
        "Deleting" => ListenerStatus::Deleting,
        other => ListenerStatus::Other(other.to_string()),
    }
}

/// What besides `GetListenerAttribute` a faithful read-back needs.
#[derive(Debug, Clone, Default)]
pub struct ReadBackExtras {
    /// Additional server certificate IDs (ListListenerCertificates), in the
    /// vendor's order.
    pub additional_certificates: Vec<String>,
    /// Port of the associated QUIC listener, when the upgrade is on.
    pub quic_port: Option<u32>,
}

/// The spec of a listener from its `GetListenerAttribute` answer, IDs mapped
/// back to the profile's aliases. `None` when the answer is not an ALB
/// listener this adapter can describe (unknown protocol, no port).
pub fn spec_from_attribute(profile: &ProfileConfig, attr: &Value, extras: &ReadBackExtras) -> Option<ListenerSpec> {
    let protocol = protocol_from_name(get_str(attr, "ListenerProtocol")?)?;
    let port = get_u32(attr, "ListenerPort")?;
    let https = protocol == Protocol::Https;
    let quic = protocol == Protocol::Quic;
    // ALB listeners have no name; the console's "name" is the description,
    // which has its own field here, so the name is made from what
    // identifies a listener on its instance.
    let mut spec = ListenerSpec::new(format!("{}-{port}", protocol.as_str()), protocol, Ports::Single(port));
    spec.description = get_str(attr, "ListenerDescription").map(str::to_string);

    let request = get_u32(attr, "RequestTimeout");
    let idle = get_u32(attr, "IdleTimeout");
    if request.is_some() || idle.is_some() {
        spec.timeouts = Some(Timeouts {
            idle_secs: idle,
            request_secs: request,
        });
    }

    if https || quic {
        let mut certs: Vec<String> = Vec::new();
        if let Some(list) = attr.get("Certificates").and_then(Value::as_array) {
            // The default certificate first, whatever order the answer has.
            let mut entries: Vec<&Value> = list.iter().collect();
            entries.sort_by_key(|c| !get_bool(c, "IsDefault").unwrap_or(true));
            if let Some(id) = entries.first().and_then(|c| get_str(c, "CertificateId")) {
                certs.push(id.to_string());
            }
        }
        for id in &extras.additional_certificates {
            if !certs.contains(id) {
                certs.push(id.clone());
            }
        }
        let client_auth = if https && get_bool(attr, "CaEnabled") == Some(true) {
            let cas: Vec<String> = attr
                .get("CaCertificates")
                .and_then(Value::as_array)
                .map(|l| {
                    l.iter()
                        .filter_map(|c| get_str(c, "CertificateId"))
                        .map(|id| profile.aliases.certificate_alias_of(id))
                        .collect()
                })
                .unwrap_or_default();
            Some(ClientAuth {
                verify: ClientVerify::Required,
                ca_certificates: cas,
            })
        } else {
            None
        };
        spec.tls = Some(Tls {
            certificates: certs
                .iter()
                .map(|id| profile.aliases.certificate_alias_of(id))
                .collect(),
            policy: if https {
                get_str(attr, "SecurityPolicyId").map(str::to_string)
            } else {
                None
            },
            http2: if https { get_bool(attr, "Http2Enabled") } else { None },
            http3: None,
            sni: None,
            client_auth,
        });
    }

    if let Some(id) = default_group_id(attr) {
        spec.forwarding = Some(Forwarding {
            backend_protocol: None,
            default_target: Some(profile.aliases.target_alias_of(id)),
        });
    }

    let empty = Value::Object(Map::new());
    let xff = attr.get("XForwardedForConfig").unwrap_or(&empty);
    spec.client_ip = Some(client_ip_from(xff, quic));

    let mut opts = AlbOptions {
        gzip: get_bool(attr, "GzipEnabled"),
        slb_id_header: Some(get_bool(xff, "XForwardedForSLBIdEnabled").unwrap_or(false)),
        ..AlbOptions::default()
    };
    if !quic {
        opts.client_source_ips = Some(ClientSourceIps {
            enabled: get_bool(xff, "XForwardedForClientSourceIpsEnabled").unwrap_or(false),
            trusted: get_str(xff, "XForwardedForClientSourceIpsTrusted")
                .map(|s| {
                    s.split(',')
                        .map(|t| t.trim().to_string())
                        .filter(|t| !t.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    if https {
        let header = |infix: &str| {
            Some(CertHeader {
                enabled: get_bool(xff, &format!("XForwardedForClientCert{infix}Enabled")).unwrap_or(false),
                alias: get_str(xff, &format!("XForwardedForClientCert{infix}Alias")).map(str::to_string),
            })
        };
        opts.client_cert_headers = Some(ClientCertHeaders {
            client_verify: header("ClientVerify"),
            fingerprint: header("Fingerprint"),
            issuer_dn: header("IssuerDN"),
            subject_dn: header("SubjectDN"),
        });
        let q = attr.get("QuicConfig").unwrap_or(&empty);
        let enabled = get_bool(q, "QuicUpgradeEnabled").unwrap_or(false);
        opts.quic_upgrade = Some(QuicUpgrade {
            enabled,
            port: if enabled { extras.quic_port } else { None },
            listener_id: if enabled {
                get_str(q, "QuicListenerId").map(str::to_string)
            } else {
                None
            },
        });
    }
    opts.access_log = access_log_from(attr);
    spec.extensions.insert(API, &opts);
    spec.tags = tags_from(attr);
    // Start/StopListener leave the listener `Running` or `Stopped`.
    spec.enabled = Some(get_str(attr, "ListenerStatus") != Some("Stopped"));
    Some(spec)
}

/// The user's tags from the `Tags` list of `GetListenerAttribute`; the
/// vendor's own (`aliyun…`, `acs:…` keys) and the management mark are not
/// the user's to manage and are left out, so they never show as drift.
fn tags_from(attr: &Value) -> BTreeMap<String, String> {
    attr.get("Tags")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|t| {
                    let k = get_str(t, "Key")?;
                    let v = t.get("Value").and_then(Value::as_str).unwrap_or("");
                    Some((k.to_string(), v.to_string()))
                })
                .filter(|(k, _)| !RESERVED_TAG_PREFIXES.iter().any(|p| k.starts_with(p)))
                .filter(|(k, _)| !listener_core::mark::is_reserved_tag(k))
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Access control (ACLs) and access-log settings
// ---------------------------------------------------------------------------

/// Entries one `AddEntriesToAcl` call takes ("at most 20 entries in each
/// call", AddEntriesToAclRequest); `RemoveEntriesFromAcl` takes the same.
pub const ACL_ENTRIES_PER_CALL: usize = 20;
/// Entries one ACL holds by default (AddEntriesToAcl: "each ACL can contain
/// 1,000"; one translation of the page says 500, so the looser bound is
/// taken). An adjustable quota: past it [`check_set`] warns and the vendor
/// answers.
pub const ACL_ENTRIES_PER_ACL: usize = 1000;
/// `TracingSample`'s range (UpdateListenerLogConfig,
/// `AccessLogTracingConfig.TracingSample`: "1 to 10000").
pub const TRACING_SAMPLE: (u32, u32) = (1, 10_000);
/// The one `TracingType` ALB documents.
pub const TRACING_TYPE: &str = "Zipkin";

/// `AclType` of `AssociateAclsWithListener`: `White` serves only the
/// listed sources, `Black` refuses them (AssociateAclsWithListenerRequest).
/// The neutral modes say exactly that, so the mapping is one to one.
pub fn acl_type(mode: AccessMode) -> &'static str {
    match mode {
        AccessMode::Allow => "White",
        AccessMode::Deny => "Black",
    }
}

/// The neutral mode of an `AclType` read back.
pub fn access_mode_from(acl_type: &str) -> Option<AccessMode> {
    match acl_type {
        t if t.eq_ignore_ascii_case("White") => Some(AccessMode::Allow),
        t if t.eq_ignore_ascii_case("Black") => Some(AccessMode::Deny),
        _ => None,
    }
}

/// `AclEntries` lists for `AddEntriesToAcl`, [`ACL_ENTRIES_PER_CALL`] per
/// call, each entry described so a reader of the console knows who put it
/// there.
pub fn acl_entry_batches(cidrs: &[String]) -> Vec<Value> {
    cidrs
        .chunks(ACL_ENTRIES_PER_CALL)
        .map(|chunk| {
            Value::Array(
                chunk
                    .iter()
                    .map(|c| json!({ "Entry": c, "Description": "managed-by-listenerctl" }))
                    .collect(),
            )
        })
        .collect()
}

/// A warning when a listener's access list passes the default entries
/// quota of one ACL ([`ACL_ENTRIES_PER_ACL`]): adjustable, so not refused.
pub fn acl_entries_warning(spec: &ListenerSpec) -> Option<String> {
    let n = spec.access.as_ref()?.cidrs.len();
    (n > ACL_ENTRIES_PER_ACL).then(|| {
        format!("an ALB ACL holds {ACL_ENTRIES_PER_ACL} entries by default (an adjustable quota); this list has {n}")
    })
}

/// `TracingSample` is 1 to 10000 (UpdateListenerLogConfig; the vendor
/// answers `InvalidParameter`).
fn check_tracing_sample(opts: &AlbOptions, r: &mut Rejections) {
    let sample = opts
        .access_log
        .as_ref()
        .and_then(|a| a.tracing.as_ref())
        .and_then(|t| t.sample);
    let (lo, hi) = TRACING_SAMPLE;
    if let Some(n) = sample.filter(|n| !(lo..=hi).contains(n)) {
        r.reject(
            format!("{EXTENSION_PATH}.access_log.tracing.sample"),
            "tracing_sample_range",
            format!("ALB's tracing sample rate is {lo} to {hi}, not {n}"),
        );
    }
}

/// `TracingType` takes `Zipkin` only (UpdateListenerLogConfig: "Set the
/// value to Zipkin"; the vendor answers `InvalidParameter`).
fn check_tracing_type(opts: &AlbOptions, r: &mut Rejections) {
    let kind = opts
        .access_log
        .as_ref()
        .and_then(|a| a.tracing.as_ref())
        .and_then(|t| t.kind.as_deref());
    if let Some(k) = kind.filter(|k| *k != TRACING_TYPE) {
        r.reject(
            format!("{EXTENSION_PATH}.access_log.tracing.type"),
            "tracing_type",
            format!("ALB traces with `{TRACING_TYPE}` only, not `{k}`"),
        );
    }
}

/// The `UpdateListenerLogConfig` parameters that move `have` to `want`
/// (fields `want` leaves unset are not sent); `None` when nothing differs.
pub fn log_config_params(
    want: Option<&AccessLogOptions>,
    have: Option<&AccessLogOptions>,
) -> Option<Map<String, Value>> {
    let want = want?;
    let have = have.cloned().unwrap_or_default();
    let mut p = Map::new();
    if let Some(h) = want.record_customized_headers {
        if have.record_customized_headers.unwrap_or(false) != h {
            p.insert("AccessLogRecordCustomizedHeadersEnabled".into(), json!(h));
        }
    }
    if let Some(t) = &want.tracing {
        let had = have.tracing.clone();
        let differs = match &had {
            None => t.enabled || t.sample.is_some() || t.kind.is_some(),
            Some(h) => {
                h.enabled != t.enabled
                    || (t.sample.is_some() && h.sample != t.sample)
                    || (t.kind.is_some() && h.kind != t.kind)
            }
        };
        if differs {
            let mut tc = Map::new();
            tc.insert("TracingEnabled".into(), json!(t.enabled));
            if let Some(n) = t.sample {
                tc.insert("TracingSample".into(), json!(n));
            }
            if t.enabled || t.kind.is_some() {
                tc.insert(
                    "TracingType".into(),
                    json!(t.kind.clone().unwrap_or_else(|| TRACING_TYPE.to_string())),
                );
            }
            p.insert("AccessLogTracingConfig".into(), Value::Object(tc));
        }
    }
    (!p.is_empty()).then_some(p)
}

/// The access-log settings of a `GetListenerAttribute` answer
/// (`LogConfig`); `None` when the answer has none.
pub fn access_log_from(attr: &Value) -> Option<AccessLogOptions> {
    let log = attr.get("LogConfig")?;
    let tracing = log.get("AccessLogTracingConfig").map(|t| AccessLogTracing {
        enabled: get_bool(t, "TracingEnabled").unwrap_or(false),
        sample: get_u32(t, "TracingSample").filter(|n| *n > 0),
        kind: get_str(t, "TracingType").map(str::to_string),
    });
    Some(AccessLogOptions {
        record_customized_headers: Some(get_bool(log, "AccessLogRecordCustomizedHeadersEnabled").unwrap_or(false)),
        tracing: tracing.or(Some(AccessLogTracing {
            enabled: false,
            sample: None,
            kind: None,
        })),
    })
}

/// `client_ip` from `XForwardedForConfig`: `headers` when ALB adds any of
/// the neutral headers, `none` otherwise.
fn client_ip_from(xff: &Value, quic: bool) -> ClientIp {
    let flag = |k: &str| get_bool(xff, k).unwrap_or(false);
    let xff_on = !quic && flag("XForwardedForEnabled");
    let headers = ForwardedHeaders {
        x_forwarded_for: if quic { None } else { Some(xff_on) },
        x_forwarded_for_mode: if xff_on {
            Some(match get_str(xff, "XForwardedForProcessingMode") {
                Some(m) if m.eq_ignore_ascii_case("remove") => ForwardedForMode::Remove,
                _ => ForwardedForMode::Append,
            })
        } else {
            None
        },
        x_forwarded_proto: Some(flag("XForwardedForProtoEnabled")),
        x_forwarded_port: Some(flag("XForwardedForSLBPortEnabled")),
        x_forwarded_host: Some(flag("XForwardedForHostEnabled")),
        x_real_ip: Some(false),
        client_source_port: if quic {
            None
        } else {
            Some(flag("XForwardedForClientSrcPortEnabled"))
        },
    };
    let any = [
        headers.x_forwarded_for,
        headers.x_forwarded_proto,
        headers.x_forwarded_port,
        headers.x_forwarded_host,
        headers.client_source_port,
    ]
    .into_iter()
    .any(|v| v == Some(true));
    if any {
        ClientIp {
            mode: ClientIpMode::Headers,
            headers: Some(headers),
        }
    } else {
        ClientIp {
            mode: ClientIpMode::None,
            headers: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use listener_core::{PortEntry, PortRange};

    fn profile() -> ProfileConfig {
        let mut p = ProfileConfig::new(API, "alb-test");
        p.aliases.certificates.insert("web".into(), "cert-web".into());
        p.aliases.certificates.insert("web-ecc".into(), "cert-ecc".into());
        p.aliases.certificates.insert("ca".into(), "cert-ca".into());
        p.aliases.certificates.insert("ca2".into(), "cert-ca2".into());
        p.aliases.targets.insert("app".into(), "sgp-app".into());
        p
    }

    fn http() -> ListenerSpec {
        let mut s = ListenerSpec::new("web", Protocol::Http, Ports::Single(80));
        s.forwarding = Some(Forwarding {
            backend_protocol: None,
            default_target: Some("app".into()),
        });
        s
    }

    fn with_tls(mut s: ListenerSpec, protocol: Protocol) -> ListenerSpec {
        s.protocol = protocol;
        s.ports = Ports::Single(443);
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

    fn https() -> ListenerSpec {
        with_tls(http(), Protocol::Https)
    }

    fn quic() -> ListenerSpec {
        with_tls(http(), Protocol::Quic)
    }

    fn ext(mut s: ListenerSpec, v: Value) -> ListenerSpec {
        s.extensions.0.insert(API.into(), v);
        s
    }

    fn headers(s: &mut ListenerSpec, h: ForwardedHeaders) {
        s.client_ip = Some(ClientIp {
            mode: ClientIpMode::Headers,
            headers: Some(h),
        });
    }

    /// The vendor rules alone, for asserting rule and field even where the
    /// neutral rules would also complain.
    fn vendor(s: &ListenerSpec) -> Vec<(String, &'static str)> {
        let opts = options(s).expect("extension parses");
        vendor_rejections(s, &opts)
            .into_iter()
            .map(|r| (r.field, r.rule))
            .collect()
    }

    fn rejected(s: &ListenerSpec, field: &str, rule: &str) -> bool {
        vendor(s).iter().any(|(f, r)| f == field && *r == rule)
    }

    fn check_has(s: &ListenerSpec, field: &str, rule: &str) -> bool {
        check(&profile(), s).iter().any(|r| r.field == field && r.rule == rule)
    }

    #[test]
    fn valid_specs_pass_check() {
        for s in [http(), https(), quic()] {
            assert!(check(&profile(), &s).is_empty(), "{s:?}: {:?}", check(&profile(), &s));
        }
    }

    #[test]
    fn rejects_tcp_udp_and_tcp_ssl() {
        for p in [Protocol::Tcp, Protocol::Udp, Protocol::TcpSsl] {
            let mut s = http();
            s.protocol = p;
            assert!(rejected(&s, "protocol", "layer7_only"), "{p}");
            assert!(check_has(&s, "protocol", "layer7_only"), "{p}");
        }
    }

    #[test]
    fn rejects_port_lists_and_ranges() {
        let mut s = http();
        s.ports = Ports::List(vec![PortEntry::Port(80), PortEntry::Port(8080)]);
        assert!(check_has(&s, "ports", "single_port"));
        s.ports = Ports::Range(PortRange { from: 80, to: 90 });
        assert!(check_has(&s, "ports", "single_port"));
        s.ports = Ports::List(vec![PortEntry::Port(80)]);
        assert!(!rejected(&s, "ports", "single_port"));
    }

    #[test]
    fn rejects_missing_default_target() {
        let mut s = http();
        s.forwarding = None;
        assert!(check_has(&s, "forwarding.default_target", "MissingParameter"));
    }

    /// ALB sets the backend protocol on the server group (CreateServerGroup
    /// `Protocol`), not on the listener: like the other clouds that bind the
    /// backend side elsewhere, the field is accepted, not sent, not read back.
    #[test]
    fn accepts_backend_protocol_without_sending_it() {
        let mut s = http();
        s.forwarding.as_mut().unwrap().backend_protocol = Some(listener_core::BackendProtocol::Https);
        assert!(!check_has(
            &s,
            "forwarding.backend_protocol",
            "backend_protocol_on_server_group"
        ));
        assert!(crate::capabilities().is_write_only("forwarding.backend_protocol"));
    }

    #[test]
    fn rejects_description_length() {
        let mut s = http();
        s.description = Some("a".into());
        assert!(check_has(&s, "description", "description_length"));
        s.description = Some("ab".into());
        assert!(check(&profile(), &s).is_empty());
        // 257 characters is caught by the neutral length rule first; the
        // vendor rule says the same.
        s.description = Some("a".repeat(257));
        assert!(rejected(&s, "description", "description_length"));
        assert!(!check(&profile(), &s).is_empty());
    }

    #[test]
    fn rejects_description_characters() {
        let mut s = http();
        for bad in ["web listener", "a#b", "a|b"] {
            s.description = Some(bad.into());
            assert!(check_has(&s, "description", "description_charset"), "{bad}");
        }
        s.description = Some("Web-1/a.b_c".into());
        assert!(check(&profile(), &s).is_empty());
        assert!(check_create(&profile(), &s).is_empty());
    }

    /// UpdateListenerAttribute documents `,` `;` `@` and Chinese
    /// characters too: `check` (a spec may be an in-place update) accepts
    /// them, `check_create` keeps CreateListener's narrower set.
    #[test]
    fn accepts_update_only_description_characters_except_on_create() {
        let mut s = http();
        for ok in ["a,b", "名字ab", "a@b;c"] {
            s.description = Some(ok.into());
            assert!(check(&profile(), &s).is_empty(), "{ok}");
            assert!(
                check_create(&profile(), &s)
                    .iter()
                    .any(|r| r.field == "description" && r.rule == "description_charset"),
                "{ok}"
            );
        }
    }

    #[test]
    fn rejects_request_timeout_above_3600_only() {
        let mut s = http();
        s.timeouts = Some(Timeouts {
            idle_secs: None,
            request_secs: Some(3601),
        });
        // The neutral model caps timeouts at 3600 too, so `check` reports
        // the neutral rule and the vendor rule stands behind it.
        assert!(rejected(&s, "timeouts.request_secs", "request_timeout_range"));
        assert!(check_has(
            &s,
            "timeouts.request_secs",
            listener_core::check::INVALID_SPEC
        ));
        for ok in [600, 601, 3600] {
            s.timeouts.as_mut().unwrap().request_secs = Some(ok);
            assert!(
                check(&profile(), &s).is_empty(),
                "{ok}: the quota can be raised to 3600"
            );
        }
    }

    #[test]
    fn rejects_idle_timeout_above_3600_only() {
        let mut s = http();
        s.timeouts = Some(Timeouts {
            idle_secs: Some(3601),
            request_secs: None,
        });
        // The neutral model caps timeouts at 3600 too, so `check` reports
        // the neutral rule and the vendor rule stands behind it.
        assert!(rejected(&s, "timeouts.idle_secs", "idle_timeout_range"));
        assert!(check_has(&s, "timeouts.idle_secs", listener_core::check::INVALID_SPEC));
        for ok in [600, 601, 3600] {
            s.timeouts.as_mut().unwrap().idle_secs = Some(ok);
            assert!(
                check(&profile(), &s).is_empty(),
                "{ok}: the quota can be raised to 3600"
            );
        }
    }

    #[test]
    fn rejects_http2_and_policy_outside_https() {
        let mut s = quic();
        s.tls.as_mut().unwrap().http2 = Some(true);
        s.tls.as_mut().unwrap().policy = Some("tls_cipher_policy_1_2".into());
        assert!(rejected(&s, "tls.http2", "https_only"));
        assert!(check_has(&s, "tls.policy", "https_only"));
        // On HTTP the whole `tls` section is refused by the neutral rules.
        let mut h = http();
        h.tls = https().tls;
        h.tls.as_mut().unwrap().policy = Some("p".into());
        assert!(rejected(&h, "tls.policy", "https_only"));
        assert!(check_has(&h, "tls", "invalid_spec"));
        let mut ok = https();
        ok.tls.as_mut().unwrap().http2 = Some(false);
        ok.tls.as_mut().unwrap().policy = Some("tls_cipher_policy_1_2".into());
        assert!(check(&profile(), &ok).is_empty());
    }

    #[test]
    fn rejects_https_and_quic_without_default_certificate() {
        for mut s in [https(), quic()] {
            let tls = s.tls.as_mut().unwrap();
            tls.certificates.clear();
            // With `sni = true` the neutral rules let an empty list pass;
            // ALB still needs a default certificate.
            tls.sni = Some(true);
            assert!(check_has(&s, "tls.certificates", "default_certificate_required"));
        }
    }

    #[test]
    fn rejects_mutual_tls_on_quic() {
        let mut s = quic();
        s.tls.as_mut().unwrap().client_auth = Some(ClientAuth {
            verify: ClientVerify::Required,
            ca_certificates: vec!["ca".into()],
        });
        assert!(check_has(&s, "tls.client_auth", "mutual_tls_https_only"));
    }

    #[test]
    fn rejects_mutual_tls_without_exactly_one_ca() {
        let mut s = https();
        s.tls.as_mut().unwrap().client_auth = Some(ClientAuth {
            verify: ClientVerify::Required,
            ca_certificates: vec!["ca".into(), "ca2".into()],
        });
        assert!(check_has(&s, "tls.client_auth.ca_certificates", "one_ca_certificate"));
        s.tls
            .as_mut()
            .unwrap()
            .client_auth
            .as_mut()
            .unwrap()
            .ca_certificates
            .clear();
        assert!(rejected(&s, "tls.client_auth.ca_certificates", "one_ca_certificate"));
        s.tls.as_mut().unwrap().client_auth.as_mut().unwrap().ca_certificates = vec!["ca".into()];
        assert!(check(&profile(), &s).is_empty());
    }

    #[test]
    fn rejects_optional_client_verification() {
        let mut s = https();
        s.tls.as_mut().unwrap().client_auth = Some(ClientAuth {
            verify: ClientVerify::Optional,
            ca_certificates: vec!["ca".into()],
        });
        assert!(check_has(&s, "tls.client_auth.verify", "client_verify_optional"));
    }

    #[test]
    fn rejects_sni_switch() {
        let mut s = https();
        s.tls.as_mut().unwrap().sni = Some(false);
        assert!(check_has(&s, "tls.sni", "sni_switch"));
    }

    #[test]
    fn rejects_http3_switch_on_https() {
        let mut s = https();
        s.tls.as_mut().unwrap().http3 = Some(true);
        assert!(check_has(&s, "tls.http3", "http3_switch"));
    }

    #[test]
    fn rejects_quic_upgrade_outside_https() {
        for base in [http(), quic()] {
            let s = ext(base, json!({"quic_upgrade": {"port": 443}}));
            assert!(check_has(
                &s,
                "extensions.alibaba-alb.quic_upgrade",
                "quic_upgrade_https_only"
            ));
        }
        let ok = ext(https(), json!({"quic_upgrade": {"port": 443}}));
        assert!(check(&profile(), &ok).is_empty());
    }

    #[test]
    fn rejects_quic_upgrade_without_a_quic_listener() {
        let s = ext(https(), json!({"quic_upgrade": {}}));
        assert!(check_has(&s, "extensions.alibaba-alb.quic_upgrade", "MissingParameter"));
        let off = ext(https(), json!({"quic_upgrade": {"enabled": false}}));
        assert!(check(&profile(), &off).is_empty());
        let bad_port = ext(https(), json!({"quic_upgrade": {"port": 70000}}));
        assert!(check_has(
            &bad_port,
            "extensions.alibaba-alb.quic_upgrade.port",
            "port_range"
        ));
    }

    #[test]
    fn rejects_client_cert_headers_outside_https() {
        for base in [http(), quic()] {
            let s = ext(base, json!({"client_cert_headers": {"fingerprint": {"enabled": true}}}));
            assert!(check_has(
                &s,
                "extensions.alibaba-alb.client_cert_headers",
                "client_cert_headers_https_only"
            ));
        }
    }

    #[test]
    fn rejects_xff_switches_on_quic() {
        let mut s = quic();
        headers(
            &mut s,
            ForwardedHeaders {
                x_forwarded_for: Some(true),
                x_forwarded_for_mode: Some(ForwardedForMode::Append),
                client_source_port: Some(true),
                x_forwarded_proto: Some(true),
                ..ForwardedHeaders::default()
            },
        );
        let s = ext(s, json!({"client_source_ips": {"enabled": true}}));
        for field in [
            "client_ip.headers.x_forwarded_for",
            "client_ip.headers.x_forwarded_for_mode",
            "client_ip.headers.client_source_port",
            "extensions.alibaba-alb.client_source_ips",
        ] {
            assert!(check_has(&s, field, "xff_not_on_quic"), "{field}");
        }
        // Proto, port and host headers are fine on QUIC.
        assert!(!check(&profile(), &s)
            .iter()
            .any(|r| r.field == "client_ip.headers.x_forwarded_proto"));
    }

    #[test]
    fn rejects_bad_header_aliases() {
        for bad in ["", "Upper", "has space", &"a".repeat(41)] {
            let s = ext(
                https(),
                json!({"client_cert_headers": {"subject_dn": {"enabled": true, "alias": bad}}}),
            );
            assert!(
                check_has(
                    &s,
                    "extensions.alibaba-alb.client_cert_headers.subject_dn.alias",
                    "header_alias_format"
                ),
                "{bad:?}"
            );
        }
        let ok = ext(
            https(),
            json!({"client_cert_headers": {"subject_dn": {"enabled": true, "alias": "test_subject-dn-alias_123456"}}}),
        );
        assert!(check(&profile(), &ok).is_empty());
    }

    #[test]
    fn rejects_xff_mode_with_xff_off() {
        let mut s = http();
        headers(
            &mut s,
            ForwardedHeaders {
                x_forwarded_for: Some(false),
                x_forwarded_for_mode: Some(ForwardedForMode::Remove),
                ..ForwardedHeaders::default()
            },
        );
        assert!(check_has(
            &s,
            "client_ip.headers.x_forwarded_for_mode",
            "xff_mode_needs_xff"
        ));
    }

    #[test]
    fn rejects_bad_trusted_addresses() {
        let s = ext(
            http(),
            json!({"client_source_ips": {"enabled": true, "trusted": ["10.0.0.0/8", "10.1.2.3", "300.1.1.1", "10.0.0.0/33"]}}),
        );
        let r = check(&profile(), &s);
        let fields: Vec<_> = r
            .iter()
            .filter(|r| r.rule == "trusted_address_format")
            .map(|r| r.field.as_str())
            .collect();
        assert_eq!(
            fields,
            vec![
                "extensions.alibaba-alb.client_source_ips.trusted[2]",
                "extensions.alibaba-alb.client_source_ips.trusted[3]"
            ]
        );
        assert!(address_or_cidr_ok("2001:db8::/32"));
    }

    #[test]
    fn rejects_x_real_ip() {
        let mut s = http();
        headers(
            &mut s,
            ForwardedHeaders {
                x_real_ip: Some(true),
                ..ForwardedHeaders::default()
            },
        );
        assert!(check_has(&s, "client_ip.headers.x_real_ip", "x_real_ip"));
        headers(
            &mut s,
            ForwardedHeaders {
                x_real_ip: Some(false),
                ..ForwardedHeaders::default()
            },
        );
        assert!(check(&profile(), &s).is_empty());
    }

    #[test]
    fn rejects_proxy_protocol() {
        let mut s = quic();
        s.client_ip = Some(ClientIp {
            mode: ClientIpMode::ProxyProtocol,
            headers: None,
        });
        assert!(check_has(&s, "client_ip.mode", "proxy_protocol"));
    }

    #[test]
    fn rejects_listener_health_check() {
        let mut s = http();
        s.health_check = Some(listener_core::HealthCheck {
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
        assert!(check_has(&s, "health_check", "health_check_on_server_group"));
    }

    #[test]
    fn rejects_more_than_twenty_tags() {
        let mut s = http();
        for i in 0..=MAX_TAGS {
            s.tags.insert(format!("k{i}"), "v".into());
        }
        assert!(rejected(&s, "tags", "tag_count"));
        // Nineteen of the user's and the management mark make twenty.
        s.tags.remove("k0");
        s.tags.remove("k1");
        assert!(!rejected(&s, "tags", "tag_count"));
    }

    #[test]
    fn rejects_reserved_long_or_url_tags() {
        let mut s = http();
        s.tags.insert("team".into(), "web".into());
        s.tags.insert("empty-value".into(), String::new());
        assert!(vendor(&s).is_empty(), "{:?}", vendor(&s));
        s.tags.insert("aliyun-x".into(), "v".into());
        s.tags.insert("acs:x".into(), "v".into());
        s.tags.insert("k".repeat(MAX_TAG_LEN + 1), "v".into());
        s.tags.insert("site".into(), "https://example.com".into());
        s.tags.insert(String::new(), "v".into());
        for key in ["aliyun-x", "acs:x", "site", ""] {
            assert!(rejected(&s, &format!("tags.{key}"), "tag_format"), "{key}");
        }
        assert!(rejected(
            &s,
            &format!("tags.{}", "k".repeat(MAX_TAG_LEN + 1)),
            "tag_format"
        ));
        assert!(!rejected(&s, "tags.team", "tag_format"));
    }

    #[test]
    fn tags_go_on_create_and_come_back_without_the_vendors_own() {
        let mut s = http();
        s.tags.insert("team".into(), "web".into());
        let p = create_params(&profile(), &s, None);
        assert_eq!(
            p["Tag"],
            json!([{ "Key": "cloud-listeners:managed", "Value": "default" }, { "Key": "team", "Value": "web" }])
        );
        let attr = json!({
            "ListenerProtocol": "HTTP", "ListenerPort": 80,
            "Tags": [{ "Key": "team", "Value": "web" }, { "Key": "acs:rm:rgId", "Value": "rg-1" },
                     { "Key": "cloud-listeners:managed", "Value": "default" }]
        });
        let back = spec_from_attribute(&profile(), &attr, &ReadBackExtras::default()).unwrap();
        assert_eq!(back.tags, s.tags);
        assert_eq!(owner_from_attribute(&attr).as_deref(), Some("default"));
    }

    #[test]
    fn the_mark_tag_carries_the_profiles_owner_and_reads_back_apart() {
        let mut p = profile();
        p.owner = Some("team-a".into());
        let params = create_params(&p, &http(), None);
        assert_eq!(
            params["Tag"],
            json!([{ "Key": "cloud-listeners:managed", "Value": "team-a" }])
        );
        let unmarked = json!({ "ListenerProtocol": "HTTP", "ListenerPort": 80, "Tags": [] });
        assert_eq!(owner_from_attribute(&unmarked), None);
        let odd = json!({ "Tags": [{ "Key": "cloud-listeners:managed", "Value": "Not An Owner" }] });
        assert_eq!(owner_from_attribute(&odd), None);
        // The mark never shows as a tag change: read back without it, the
        // current tags equal the file's.
        let attr = json!({
            "ListenerProtocol": "HTTP", "ListenerPort": 80,
            "Tags": [{ "Key": "cloud-listeners:managed", "Value": "team-b" }]
        });
        let current = spec_from_attribute(&p, &attr, &ReadBackExtras::default()).unwrap();
        assert!(current.tags.is_empty());
        let plan = update_plan(&p, &current, &http(), None);
        assert!(plan.tag.is_empty() && plan.untag.is_empty());
    }

    #[test]
    fn rejects_user_tags_under_the_mark_prefix_and_counts_the_mark() {
        let mut s = http();
        s.tags.insert("cloud-listeners:managed".into(), "team-b".into());
        assert!(rejected(&s, "tags.cloud-listeners:managed", "tag_reserved"));
        let mut s = http();
        for i in 0..MAX_TAGS - 1 {
            s.tags.insert(format!("k{i}"), "v".into());
        }
        assert!(!rejected(&s, "tags", "tag_count"));
        s.tags.insert("one-more".into(), "v".into());
        assert!(rejected(&s, "tags", "tag_count"));
    }

    #[test]
    fn tag_changes_add_overwrite_and_remove_only_with_tags_in_the_spec() {
        let mut current = http();
        current.tags.insert("team".into(), "web".into());
        current.tags.insert("old".into(), "x".into());
        let mut desired = current.clone();
        desired.tags.remove("old");
        desired.tags.insert("team".into(), "api".into());
        desired.tags.insert("cost".into(), "ops".into());
        let plan = update_plan(&profile(), &current, &desired, None);
        assert_eq!(plan.untag, vec!["old".to_string()]);
        assert_eq!(plan.tag.len(), 2);
        assert_eq!(plan.tag["team"], "api");
        assert!(plan.params.is_empty());
        desired.tags.clear();
        assert!(update_plan(&profile(), &current, &desired, None).is_empty());
    }

    #[test]
    fn enabled_switches_only_when_the_state_differs_and_is_read_from_the_status() {
        let mut current = http();
        current.enabled = Some(true);
        let mut desired = current.clone();
        assert_eq!(update_plan(&profile(), &current, &desired, None).switch, None);
        desired.enabled = Some(false);
        assert_eq!(update_plan(&profile(), &current, &desired, None).switch, Some(false));
        desired.enabled = None;
        assert!(update_plan(&profile(), &current, &desired, None).is_empty());
        let attr = |status: &str| json!({ "ListenerProtocol": "HTTP", "ListenerPort": 80, "ListenerStatus": status });
        let read = |status: &str| spec_from_attribute(&profile(), &attr(status), &ReadBackExtras::default()).unwrap();
        assert_eq!(read("Stopped").enabled, Some(false));
        assert_eq!(read("Running").enabled, Some(true));
    }

    #[test]
    fn rejects_scheduler() {
        let mut s = http();
        s.scheduler = Some(listener_core::Scheduler::RoundRobin);
        assert!(check_has(&s, "scheduler", "scheduler_on_server_group"));
    }

    #[test]
    fn rejects_session_persistence() {
        let mut s = http();
        s.session_persistence = Some(listener_core::SessionPersistence {
            by: listener_core::AffinityKey::SourceIp,
            timeout_secs: None,
        });
        assert!(check_has(
            &s,
            "session_persistence",
            "session_persistence_on_server_group"
        ));
    }

    #[test]
    fn rejects_unknown_extension_fields() {
        let s = ext(http(), json!({"gzip": true, "gzipp": false}));
        assert!(check_has(&s, "extensions.alibaba-alb", "extension_invalid"));
        // Other adapters' sections are not ours to judge.
        let mut other = http();
        other.extensions.0.insert("alibaba-ga".into(), json!({"anything": 1}));
        assert!(check(&profile(), &other).is_empty());
    }

    #[test]
    fn unknown_aliases_are_rejected() {
        let mut s = https();
        s.tls.as_mut().unwrap().certificates = vec!["nope".into()];
        assert!(check_has(&s, "tls.certificates[0]", "alias_unknown"));
    }

    #[test]
    fn neutral_violations_become_invalid_spec() {
        let mut s = http();
        s.ports = Ports::Single(0);
        assert!(check_has(&s, "ports", "invalid_spec"));
    }

    #[test]
    fn set_rejects_shared_ports_per_transport() {
        let a = https();
        let mut b = https();
        b.name = "b".into();
        let q = quic();
        let r = check_set(&profile(), &[a, q, b]);
        let hits: Vec<_> = r
            .iter()
            .filter(|(_, r)| r.rule == "ResourceAlreadyExist.Listener")
            .map(|(i, r)| (*i, r.field.as_str()))
            .collect();
        // QUIC 443 and HTTPS 443 coexist; the second HTTPS 443 does not.
        assert_eq!(hits, vec![(2, "ports")]);
    }

    #[test]
    fn set_warns_past_fifty_listeners_and_does_not_refuse() {
        let specs: Vec<ListenerSpec> = (0..51)
            .map(|i| {
                let mut s = http();
                s.name = format!("l{i}");
                s.ports = Ports::Single(1000 + i);
                s
            })
            .collect();
        assert!(check_set(&profile(), &specs).is_empty());
        let set = check_set_with_warnings(&profile(), &specs);
        let hits: Vec<(usize, &str, &str)> = set
            .warnings
            .iter()
            .map(|(i, w)| (*i, w.field.as_str(), w.rule))
            .collect();
        assert_eq!(hits, vec![(50, "listeners", LISTENER_QUOTA)]);
        assert!(set.rejections.is_empty());
    }

    #[test]
    fn set_rejects_two_upgrades_to_one_quic_listener_and_wrong_order() {
        let q = quic();
        let a = ext(https(), json!({"quic_upgrade": {"port": 443}}));
        let mut b = ext(https(), json!({"quic_upgrade": {"port": 443}}));
        b.ports = Ports::Single(8443);
        b.name = "b".into();
        let r = check_set(&profile(), &[q.clone(), a.clone(), b]);
        assert!(r.iter().any(|(i, r)| *i == 2
            && r.rule == "ResourceAlreadyAssociated.Listener"
            && r.field == "extensions.alibaba-alb.quic_upgrade"));
        let r = check_set(&profile(), &[a, q]);
        assert!(r.iter().any(|(i, r)| *i == 0 && r.rule == "quic_listener_order"));
    }

    #[test]
    fn http_params_carry_xff_gzip_and_the_default_action() {
        let mut s = ext(http(), json!({"gzip": false, "slb_id_header": true}));
        s.description = Some("web".into());
        headers(
            &mut s,
            ForwardedHeaders {
                x_forwarded_for: Some(true),
                x_forwarded_for_mode: Some(ForwardedForMode::Remove),
                x_forwarded_port: Some(true),
                ..ForwardedHeaders::default()
            },
        );
        let p = create_params(&profile(), &s, None);
        assert_eq!(
            p,
            json!({
                "LoadBalancerId": "alb-test",
                "ListenerProtocol": "HTTP",
                "ListenerPort": 80,
                "ListenerDescription": "web",
                "GzipEnabled": false,
                "XForwardedForConfig": {
                    "XForwardedForEnabled": true,
                    "XForwardedForProcessingMode": "remove",
                    "XForwardedForSLBPortEnabled": true,
                    "XForwardedForSLBIdEnabled": true
                },
                "DefaultActions": [{
                    "Type": "ForwardGroup",
                    "ForwardGroupConfig": {"ServerGroupTuples": [{"ServerGroupId": "sgp-app"}]}
                }],
                "Tag": [{"Key": "cloud-listeners:managed", "Value": "default"}]
            })
        );
    }

    #[test]
    fn https_params_resolve_certificates_and_mutual_tls() {
        let mut s = https();
        let tls = s.tls.as_mut().unwrap();
        tls.certificates.push("web-ecc".into());
        tls.client_auth = Some(ClientAuth {
            verify: ClientVerify::Required,
            ca_certificates: vec!["ca".into()],
        });
        let p = create_params(&profile(), &s, None);
        assert_eq!(p["Certificates"], json!([{"CertificateId": "cert-web"}]));
        assert_eq!(p["CaEnabled"], json!(true));
        assert_eq!(p["CaCertificates"], json!([{"CertificateId": "cert-ca"}]));
        assert_eq!(additional_certificate_ids(&profile(), &s), vec!["cert-ecc".to_string()]);
    }

    #[test]
    fn mode_none_switches_every_header_off() {
        let mut s = quic();
        s.client_ip = Some(ClientIp {
            mode: ClientIpMode::None,
            headers: None,
        });
        let p = create_params(&profile(), &s, None);
        assert_eq!(
            p["XForwardedForConfig"],
            json!({"XForwardedForProtoEnabled": false, "XForwardedForSLBPortEnabled": false, "XForwardedForHostEnabled": false})
        );
    }

    fn attribute_of(p: &Value, status: &str) -> Value {
        // What the vendor would answer for a listener made from `p`.
        let mut a = p.clone();
        let o = a.as_object_mut().unwrap();
        o.insert("ListenerStatus".into(), json!(status));
        o.insert("ListenerId".into(), json!("lsn-1"));
        a
    }

    #[test]
    fn read_back_round_trips_without_plan_changes() {
        let mut s = ext(
            https(),
            json!({"gzip": true, "quic_upgrade": {"port": 443}, "client_cert_headers": {"fingerprint": {"enabled": true, "alias": "fp"}}}),
        );
        s.description = Some("web".into());
        s.timeouts = Some(Timeouts {
            idle_secs: Some(30),
            request_secs: Some(90),
        });
        let tls = s.tls.as_mut().unwrap();
        tls.certificates.push("web-ecc".into());
        tls.http2 = Some(true);
        tls.policy = Some("tls_cipher_policy_1_2".into());
        tls.client_auth = Some(ClientAuth {
            verify: ClientVerify::Required,
            ca_certificates: vec!["ca".into()],
        });
        headers(
            &mut s,
            ForwardedHeaders {
                x_forwarded_for: Some(true),
                x_forwarded_proto: Some(true),
                ..ForwardedHeaders::default()
            },
        );
        let p = create_params(&profile(), &s, Some("lsn-quic"));
        let attr = attribute_of(&p, "Running");
        let extras = ReadBackExtras {
            additional_certificates: vec!["cert-ecc".into()],
            quic_port: Some(443),
        };
        let back = spec_from_attribute(&profile(), &attr, &extras).expect("readable");
        let plan = listener_core::plan_change(&crate::capabilities(), &back, &s);
        assert!(plan.is_empty(), "{:?}", plan.changes);
        // And the update computed from it sends nothing.
        assert!(update_plan(&profile(), &back, &s, Some("lsn-quic")).is_empty());
        assert_eq!(status_from_vendor("Provisioning"), ListenerStatus::Creating);
    }

    #[test]
    fn update_sends_only_what_changed() {
        let current_params = create_params(&profile(), &https(), None);
        let current = spec_from_attribute(
            &profile(),
            &attribute_of(&current_params, "Running"),
            &ReadBackExtras::default(),
        )
        .unwrap();
        let mut desired = https();
        desired.description = Some("new".into());
        desired.tls.as_mut().unwrap().certificates = vec!["web".into(), "web-ecc".into()];
        headers(
            &mut desired,
            ForwardedHeaders {
                x_forwarded_host: Some(true),
                ..ForwardedHeaders::default()
            },
        );
        let plan = update_plan(&profile(), &current, &desired, None);
        assert_eq!(
            Value::Object(plan.params.clone()),
            json!({"ListenerDescription": "new", "XForwardedForConfig": {"XForwardedForHostEnabled": true}})
        );
        assert_eq!(plan.associate, vec!["cert-ecc".to_string()]);
        assert!(plan.dissociate.is_empty());
    }
    fn routed_https() -> ListenerSpec {
        let mut s = https();
        let mut api = listener_core::routes::Route::new("api.example.com", "/v1", "api");
        api.certificate = Some("web-ecc".into());
        s.routes = vec![
            api,
            listener_core::routes::Route::new("api.example.com", "/", "web"),
            listener_core::routes::Route::new("*.example.com", "/static", "web"),
        ];
        s
    }

    #[test]
    fn route_certificates_pass_and_overlapping_hosts_are_expressed() {
        let s = routed_https();
        assert!(check(&profile(), &s).is_empty(), "{:?}", check(&profile(), &s));
    }

    #[test]
    fn rejects_two_certificates_covering_one_host() {
        let mut s = routed_https();
        s.routes[2].certificate = Some("wild".into());
        let mut p = profile();
        p.aliases.certificates.insert("wild".into(), "cert-wild".into());
        let got = check(&p, &s);
        assert!(
            got.iter()
                .any(|r| r.field == "routes[2].certificate" && r.rule == "alb_certificate_overlap"),
            "{got:?}"
        );
        // One certificate for both hosts is one certificate: accepted.
        p.aliases.certificates.insert("wild".into(), "cert-ecc".into());
        assert!(check(&p, &s).is_empty());
        // Nested wildcards overlap too; unrelated hosts do not.
        assert!(hosts_overlap("*.a.example.com", "*.example.com"));
        assert!(hosts_overlap("*.example.com", "api.example.com"));
        assert!(!hosts_overlap("*.example.com", "example.com"));
        assert!(!hosts_overlap("a.example.com", "b.example.com"));
        assert!(!hosts_overlap("*.example.com", "*.example.org"));
    }

    #[test]
    fn route_certificates_become_additional_certificates() {
        let mut s = routed_https();
        s.tls.as_mut().unwrap().certificates.push("zz".into());
        let held = as_attached(&s);
        assert!(held.routes.is_empty());
        assert_eq!(held.server_certificates(), ["web", "web-ecc", "zz"]);
        // A route naming the default certificate adds nothing.
        let mut s = routed_https();
        s.routes[0].certificate = Some("web".into());
        assert_eq!(as_attached(&s).server_certificates(), ["web"]);
        // HTTP listeners have none (the core refuses the field there).
        let mut s = routed_https();
        s.protocol = Protocol::Http;
        assert!(route_certificates(&s).is_empty());
    }

    #[test]
    fn adding_or_rotating_a_route_certificate_is_an_in_place_update() {
        let p = profile();
        let mut current = as_attached(&routed_https());
        current.tls.as_mut().unwrap().certificates = vec!["web".into()];
        let desired = as_attached(&routed_https());
        let plan = update_plan(&p, &current, &desired, None);
        assert_eq!(plan.associate, ["cert-ecc"]);
        assert!(plan.dissociate.is_empty());
        // Rotation: the alias points to another certificate.
        let mut rotated = p.clone();
        rotated
            .aliases
            .certificates
            .insert("web-ecc".into(), "cert-ecc-2".into());
        let plan = update_plan(&rotated, &as_attached(&routed_https()), &desired, None);
        assert!(plan.is_empty(), "same aliases, read back as aliases: {plan:?}");
        let mut have = as_attached(&routed_https());
        have.tls.as_mut().unwrap().certificates[1] = "cert-ecc".into();
        let plan = update_plan(&rotated, &have, &desired, None);
        assert_eq!(plan.associate, ["cert-ecc-2"]);
        assert_eq!(plan.dissociate, ["cert-ecc"]);
    }
}

#[cfg(test)]
mod access_tests {
    use super::*;
    use listener_core::Access;

    fn http_with(ext: Value) -> ListenerSpec {
        let mut s = ListenerSpec::new("web", Protocol::Http, Ports::Single(80));
        s.forwarding = Some(Forwarding {
            backend_protocol: None,
            default_target: Some("app".into()),
        });
        s.extensions.0.insert(API.into(), ext);
        s
    }

    fn vendor(s: &ListenerSpec) -> Vec<(String, &'static str)> {
        let opts = options(s).expect("extension parses");
        vendor_rejections(s, &opts)
            .into_iter()
            .map(|r| (r.field, r.rule))
            .collect()
    }

    #[test]
    fn allow_is_a_white_list_and_deny_a_black_list() {
        assert_eq!(acl_type(AccessMode::Allow), "White");
        assert_eq!(acl_type(AccessMode::Deny), "Black");
        assert_eq!(access_mode_from("White"), Some(AccessMode::Allow));
        assert_eq!(access_mode_from("black"), Some(AccessMode::Deny));
        assert_eq!(access_mode_from("Grey"), None);
    }

    #[test]
    fn entries_are_sent_twenty_per_call() {
        let cidrs: Vec<String> = (0..41).map(|i| format!("10.0.{i}.0/24")).collect();
        let batches = acl_entry_batches(&cidrs);
        let sizes: Vec<usize> = batches.iter().map(|b| b.as_array().unwrap().len()).collect();
        assert_eq!(sizes, vec![20, 20, 1]);
        assert_eq!(batches[2][0]["Entry"], "10.0.40.0/24");
    }

    #[test]
    fn more_entries_than_the_default_quota_warn_and_are_not_refused() {
        let mut s = http_with(json!({}));
        s.access = Some(Access {
            mode: AccessMode::Allow,
            cidrs: (0..1001).map(|i| format!("10.{}.{}.0/24", i / 256, i % 256)).collect(),
        });
        assert!(acl_entries_warning(&s).is_some());
        assert!(vendor(&s).is_empty());
        s.access.as_mut().unwrap().cidrs.truncate(ACL_ENTRIES_PER_ACL);
        assert!(acl_entries_warning(&s).is_none());
    }

    #[test]
    fn rejects_tracing_sample_outside_1_to_10000() {
        for n in [0, 10_001] {
            let s = http_with(json!({"access_log": {"tracing": {"enabled": true, "sample": n}}}));
            assert_eq!(
                vendor(&s),
                vec![(
                    "extensions.alibaba-alb.access_log.tracing.sample".to_string(),
                    "tracing_sample_range"
                )]
            );
        }
        let s = http_with(json!({"access_log": {"tracing": {"enabled": true, "sample": 10000}}}));
        assert!(vendor(&s).is_empty());
    }

    #[test]
    fn rejects_tracing_types_other_than_zipkin() {
        let s = http_with(json!({"access_log": {"tracing": {"enabled": true, "type": "Jaeger"}}}));
        assert_eq!(
            vendor(&s),
            vec![(
                "extensions.alibaba-alb.access_log.tracing.type".to_string(),
                "tracing_type"
            )]
        );
    }

    #[test]
    fn log_parameters_carry_only_what_changed() {
        let want: AccessLogOptions = serde_json::from_value(json!({
            "record_customized_headers": true,
            "tracing": {"enabled": true, "sample": 50}
        }))
        .unwrap();
        let p = log_config_params(Some(&want), None).expect("a change");
        assert_eq!(p["AccessLogRecordCustomizedHeadersEnabled"], true);
        assert_eq!(p["AccessLogTracingConfig"]["TracingSample"], 50);
        assert_eq!(p["AccessLogTracingConfig"]["TracingType"], TRACING_TYPE);
        let read_back = access_log_from(&json!({"LogConfig": {
            "AccessLogRecordCustomizedHeadersEnabled": true,
            "AccessLogTracingConfig": {"TracingEnabled": true, "TracingSample": 50, "TracingType": "Zipkin"}
        }}));
        assert_eq!(log_config_params(Some(&want), read_back.as_ref()), None);
        assert_eq!(log_config_params(None, read_back.as_ref()), None);
    }
}
