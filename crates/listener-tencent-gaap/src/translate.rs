//! From a neutral spec to GAAP's parameters and back, and every GAAP rule.
//!
//! Three directions live here so that a reader can check them against each
//! other in one file:
//!
//! * **rules** (`rule_*`): every reason GAAP refuses a spec, each written
//!   once with the vendor rule or error code it stands for, and each with a
//!   unit test below that asserts the rejected field and rule;
//! * **requests** ([`CreatePlan`], [`modify_plan`]): the exact parameters
//!   of `Create*Listener(s)` and `Modify*ListenerAttribute`;
//! * **read-back** ([`record_to_listener`]): a `Describe*Listeners` record
//!   as a spec, certificate IDs mapped back to aliases, so that a plan after
//!   an apply shows no change.
//!
//! Rule names are GAAP's error code where GAAP has one for the situation
//! (the code the emulator answers to the same request sent raw); a rule for
//! something GAAP has no parameter for at all gets a descriptive name,
//! because the vendor's only answer to it is the generic
//! `UnknownParameter`.

use std::ops::RangeInclusive;

use listener_core::{
    Aliases, BackendProtocol, ClientAuth, ClientIp, ClientIpMode, ClientVerify, CustomHealthCheck, Error, Forwarding,
    HealthCheck, HealthCheckKind, Listener, ListenerId, ListenerSpec, ListenerStatus, Ports, ProfileConfig, Protocol,
    Rejection, Rejections, Scheduler, Tls,
};
use listener_core::{Checked, CheckedSet, Warning};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::Instance;
use crate::API;

/// `InvalidParameterValue`: a value outside what GAAP accepts.
pub const INVALID_PARAMETER_VALUE: &str = "InvalidParameterValue";
/// `MissingParameter`: a parameter GAAP requires is absent.
pub const MISSING_PARAMETER: &str = "MissingParameter";
/// `InvalidParameter.ConflictParameters`: two parameters that GAAP does not
/// take together.
pub const CONFLICT_PARAMETERS: &str = "InvalidParameter.ConflictParameters";
/// `InvalidParameterValue.DuplicatedListenerPort`: the port is in use in
/// its port space on the connection.
pub const DUPLICATED_LISTENER_PORT: &str = "InvalidParameterValue.DuplicatedListenerPort";
/// `FailedOperation.LimitNumofListener`: more than 50 listeners on one
/// connection or group.
pub const LIMIT_NUM_OF_LISTENER: &str = "FailedOperation.LimitNumofListener";
/// `FailedOperation.NotSupportProxyGroup`: the action does not work on a
/// connection group.
pub const NOT_SUPPORT_PROXY_GROUP: &str = "FailedOperation.NotSupportProxyGroup";

/// GAAP's listener quota per connection (factsheet §3).
pub const MAX_LISTENERS_PER_INSTANCE: u64 = 50;
/// `DelayLoop`, the health-check interval, in seconds.
pub const DELAY_LOOP_SECS: RangeInclusive<u32> = 5..=300;
/// `ConnectTimeout`, the health-check response timeout, in seconds.
pub const CONNECT_TIMEOUT_SECS: RangeInclusive<u32> = 2..=60;
/// The scheduler sent when the spec names none: GAAP requires one on
/// layer-4 listeners. The console and Terraform default to `rr`, but under
/// `rr` GAAP binds every origin with weight 1, while the neutral model's
/// weights mean shares on every other cloud (CLB, ALB and GA weigh by
/// default). Weights are always sent (100 unless the file says), and `wrr`
/// over equal weights is round robin, so `wrr` keeps one meaning for a pool
/// with weights and changes nothing for one without. Listeners whose
/// origins are domain names get [`DEFAULT_DOMAIN_SCHEDULER`] instead.
pub const DEFAULT_SCHEDULER: &str = "wrr";
/// The scheduler sent when the spec names none and the listener's origins
/// are domain names (`RealServerType` `DOMAIN`): GAAP refuses `wrr` for
/// them on modify (factsheet §9), and a domain pool with different weights
/// is refused anyway (`gaap_domain_origins_unweighted`), so round robin
/// loses nothing.
pub const DEFAULT_DOMAIN_SCHEDULER: &str = "rr";
/// The only payload encoding GAAP takes for UDP port checks.
pub const CONTEXT_TYPE_TEXT: &str = "TEXT";

/// The four kinds of GAAP listener, each with its own actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GaapProtocol {
    /// `CreateHTTPListener`, `DescribeHTTPListeners`, `ModifyHTTPListenerAttribute`.
    Http,
    /// `CreateHTTPSListener`, `DescribeHTTPSListeners`, `ModifyHTTPSListenerAttribute`.
    Https,
    /// `CreateTCPListeners`, `DescribeTCPListeners`, `ModifyTCPListenerAttribute`.
    Tcp,
    /// `CreateUDPListeners`, `DescribeUDPListeners`, `ModifyUDPListenerAttribute`.
    Udp,
}

impl GaapProtocol {
    /// Every kind, in the order `get` probes them.
    pub const ALL: [GaapProtocol; 4] = [
        GaapProtocol::Http,
        GaapProtocol::Https,
        GaapProtocol::Tcp,
        GaapProtocol::Udp,
    ];

    /// The GAAP kind of a neutral protocol; `None` for QUIC and TCP_SSL,
    /// which GAAP does not offer.
    pub fn of(protocol: Protocol) -> Option<GaapProtocol> {
        match protocol {
            Protocol::Http => Some(GaapProtocol::Http),
            Protocol::Https => Some(GaapProtocol::Https),
            Protocol::Tcp => Some(GaapProtocol::Tcp),
            Protocol::Udp => Some(GaapProtocol::Udp),
            Protocol::Quic | Protocol::TcpSsl => None,
        }
    }

    /// The neutral protocol.
    pub fn protocol(self) -> Protocol {
        match self {
            GaapProtocol::Http => Protocol::Http,
            GaapProtocol::Https => Protocol::Https,
            GaapProtocol::Tcp => Protocol::Tcp,
            GaapProtocol::Udp => Protocol::Udp,
        }
    }

    /// The create action. TCP and UDP take a port list; HTTP and HTTPS
    /// one port per call.
    pub fn create_action(self) -> &'static str {
        match self {
            GaapProtocol::Http => "CreateHTTPListener",
            GaapProtocol::Https => "CreateHTTPSListener",
            GaapProtocol::Tcp => "CreateTCPListeners",
            GaapProtocol::Udp => "CreateUDPListeners",
        }
    }

    /// The describe action.
    pub fn describe_action(self) -> &'static str {
        match self {
            GaapProtocol::Http => "DescribeHTTPListeners",
            GaapProtocol::Https => "DescribeHTTPSListeners",
            GaapProtocol::Tcp => "DescribeTCPListeners",
            GaapProtocol::Udp => "DescribeUDPListeners",
        }
    }

    /// The modify action.
    pub fn modify_action(self) -> &'static str {
        match self {
            GaapProtocol::Http => "ModifyHTTPListenerAttribute",
            GaapProtocol::Https => "ModifyHTTPSListenerAttribute",
            GaapProtocol::Tcp => "ModifyTCPListenerAttribute",
            GaapProtocol::Udp => "ModifyUDPListenerAttribute",
        }
    }

    /// Whether the listener is layer 4 (scheduler, health check and origin
    /// type are set on the listener itself).
    pub fn is_layer4(self) -> bool {
        matches!(self, GaapProtocol::Tcp | GaapProtocol::Udp)
    }

    /// Whether one create call takes several ports.
    pub fn batch_create(self) -> bool {
        self.is_layer4()
    }
}

/// Origin type of a layer-4 listener (`RealServerType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum RealServerType {
    /// Origins are IP addresses (the default here).
    #[default]
    #[serde(rename = "IP")]
    Ip,
    /// Origins are domain names.
    #[serde(rename = "DOMAIN")]
    Domain,
}

impl RealServerType {
    /// GAAP's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            RealServerType::Ip => "IP",
            RealServerType::Domain => "DOMAIN",
        }
    }

    /// Read GAAP's word.
    pub fn parse(s: &str) -> Option<RealServerType> {
        match s {
            "IP" => Some(RealServerType::Ip),
            "DOMAIN" => Some(RealServerType::Domain),
            _ => None,
        }
    }
}

/// GAAP-only settings, written under `extensions.tencent-gaap` of a spec.
///
/// `RealServerType` is required by GAAP on every TCP and UDP listener but
/// has no neutral field; it defaults to `IP`. `FailoverSwitch` (primary and
/// backup origins) is GAAP's own too.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GaapOptions {
    /// `RealServerType` of a TCP/UDP listener; `IP` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub real_server_type: Option<RealServerType>,
    /// `FailoverSwitch` of a TCP/UDP listener: origins act as primary and
    /// backup. GAAP's default (off) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover_switch: Option<bool>,
}

impl GaapOptions {
    /// The options of `spec`, or the parse error as text.
    pub fn of(spec: &ListenerSpec) -> Result<GaapOptions, String> {
        spec.extensions.parse::<GaapOptions>(API).map(Option::unwrap_or_default)
    }

    /// The origin type in effect.
    pub fn real_server_type(&self) -> RealServerType {
        self.real_server_type.unwrap_or_default()
    }

    fn is_empty(&self) -> bool {
        self.real_server_type.is_none() && self.failover_switch.is_none()
    }
}

/// GAAP's scheduler word.
pub fn scheduler_word(s: Scheduler) -> &'static str {
    match s {
        Scheduler::RoundRobin => "rr",
        Scheduler::WeightedRoundRobin => "wrr",
        Scheduler::LeastConnections => "lc",
        Scheduler::LeastLatency => "lrtt",
    }
}

/// The neutral scheduler of GAAP's word.
pub fn scheduler_of(word: &str) -> Option<Scheduler> {
    match word {
        "rr" => Some(Scheduler::RoundRobin),
        "wrr" => Some(Scheduler::WeightedRoundRobin),
        "lc" => Some(Scheduler::LeastConnections),
        "lrtt" => Some(Scheduler::LeastLatency),
        _ => None,
    }
}

fn backend_word(p: BackendProtocol) -> &'static str {
    match p {
        BackendProtocol::Http => "HTTP",
        BackendProtocol::Https => "HTTPS",
    }
}

// ---------------------------------------------------------------------------
// check
// ---------------------------------------------------------------------------

/// The file's routes as GAAP domains and rules (`crate::rules`): exact
/// hosts only, 20 paths per host, 100 hosts, paths of 80 characters, one
/// certificate per host, certificates on HTTPS only; with routes, a
/// default that is a mapped target. Pools are checked when their rules
/// are written (the endpoints are not part of the listener).
pub fn rule_routes_expressible(spec: &ListenerSpec, protocol: GaapProtocol, r: &mut Rejections) {
    let routes: Vec<listener_core::RouteSpec> = spec.routes.iter().map(|x| x.to_route_spec()).collect();
    let found = crate::rules::check_routes(!protocol.is_layer4(), protocol == GaapProtocol::Https, &routes, |x| {
        x.certificate.as_deref()
    });
    for (_, x) in found {
        r.reject(x.field, x.rule, x.reason);
    }
    // Each route host's `/` goes to the listener's default: on GAAP that
    // must be a pool the rule carries, not a mapped target.
    let mapped_default = spec.forwarding.as_ref().is_some_and(|f| f.default_target.is_some());
    // A TCP/UDP listener's backend is its own origin set: nothing a target
    // could name, and nothing to record it on for the plan to read back.
    r.reject_if(
        protocol.is_layer4() && spec.backend.is_none() && mapped_default,
        "forwarding.default_target",
        crate::rules::MAPPED_BACKEND,
        "a GAAP TCP/UDP listener forwards to the origin servers bound on it; GAAP has no pool object a target could name: give the listener a `backend` with inline `endpoints`",
    );
    r.reject_if(
        !spec.routes.is_empty() && spec.backend.is_none() && mapped_default,
        "forwarding.default_target",
        crate::rules::MAPPED_BACKEND,
        "with routes, the default is the `/` rule of every route host: GAAP binds origin servers on rules and has no pool object a target could name; give the listener a `backend` with inline `endpoints`",
    );
}

/// Every reason GAAP cannot take `spec` on `profile`'s instance, found
/// without any call: the neutral rules, alias resolution, then GAAP's.
pub fn check(profile: &ProfileConfig, spec: &ListenerSpec) -> Vec<Rejection> {
    check_with_warnings(profile, spec).rejections
}

/// [`check`] with its warnings (a spec that alone passes the listener
/// quota).
pub fn check_with_warnings(profile: &ProfileConfig, spec: &ListenerSpec) -> Checked {
    let mut r = Rejections::preflight(&crate::capabilities(), &profile.aliases, spec);
    rule_instance_is_connection_or_group(&profile.instance, &mut r);
    let options = match GaapOptions::of(spec) {
        Ok(o) => o,
        Err(e) => {
            r.reject(format!("extensions.{API}"), listener_core::EXTENSION_INVALID, e);
            GaapOptions::default()
        }
    };
    let Some(protocol) = rule_protocol_offered(spec, &mut r) else {
        return r.into_checked();
    };
    rule_single_ports_only(spec, &mut r);
    rule_routes_expressible(spec, protocol, &mut r);
    warn_listener_quota_one_spec(spec, &mut r);
    rule_no_description(spec, &mut r);
    rule_name_with_mark(profile, spec, &mut r);
    rule_no_tags(spec, &mut r);
    rule_no_access(spec, &mut r);
    rule_no_stop_start(spec, &mut r);
    rule_no_session_persistence(spec, &mut r);
    rule_no_timeouts(spec, &mut r);
    rule_client_ip_tcp_only(spec, protocol, &mut r);
    rule_layer7_has_no_scheduler(spec, protocol, &mut r);
    rule_layer7_has_no_health_check(spec, protocol, &mut r);
    rule_layer4_options_only_on_layer4(&options, protocol, &mut r);
    rule_forward_protocol_only_on_https(spec, protocol, &mut r);
    if protocol == GaapProtocol::Https {
        rule_https_needs_forward_protocol(spec, &mut r);
        rule_https_needs_certificate(spec, &mut r);
        rule_https_one_server_certificate(spec, &mut r);
        rule_no_sni(spec, &mut r);
        rule_no_http2(spec, &mut r);
        rule_tls_policy_is_a_gaap_choice(spec, &mut r);
        rule_client_certificate_required(spec, &mut r);
        let (auth_type, cas) = auth_of(spec);
        rule_auth_type_matches_client_cas(auth_type, cas, &mut r);
    }
    if protocol.is_layer4() {
        if let Some(hc) = &spec.health_check {
            rule_delay_loop_range(hc.interval_secs, &mut r);
            rule_connect_timeout_range(hc.timeout_secs, &mut r);
            if protocol == GaapProtocol::Tcp {
                rule_tcp_probe_is_connect(hc, &mut r);
                rule_check_port_udp_only(hc, &mut r);
            } else {
                rule_ping_has_no_port_fields(hc.kind, has_port_fields(hc), &mut r);
            }
        }
        rule_failover_not_with_domain(&options, &mut r);
    }
    r.into_checked()
}

/// [`check`] for every spec, plus the rules that span the listeners of one
/// instance: shared port spaces (the listener quota is only a warning, see
/// [`check_set_with_warnings`]).
pub fn check_set(profile: &ProfileConfig, specs: &[ListenerSpec]) -> Vec<(usize, Rejection)> {
    check_set_with_warnings(profile, specs).rejections
}

/// [`check_set`] with the warnings: each spec's own, and the listener
/// quota counted over the whole connection ([`listener_quota_warnings`],
/// which replaces the per-spec count, so the quota is said once).
pub fn check_set_with_warnings(profile: &ProfileConfig, specs: &[ListenerSpec]) -> CheckedSet {
    let mut out = CheckedSet::each(specs, |s| check_with_warnings(profile, s));
    out.warnings.retain(|(_, w)| w.rule != LIMIT_NUM_OF_LISTENER);
    rule_port_spaces(specs, &mut out.rejections);
    out.rejections.sort_by_key(|(i, _)| *i);
    out.warn_all(specs, listener_quota_warnings(specs));
    out
}

/// GAAP needs exactly one of `ProxyId` / `GroupId` on every listener call
/// (factsheet §4, §9: "ProxyId with GroupId, or neither"); the instance's
/// prefix chooses, so "both" cannot happen and "neither" is an instance
/// that is not `link-…` or `lg-…`. Sending neither is GAAP's
/// `MissingParameter`.
pub fn rule_instance_is_connection_or_group(instance: &str, r: &mut Rejections) {
    r.reject_if(
        Instance::parse(instance).is_none(),
        "instance",
        MISSING_PARAMETER,
        format!("`{instance}` is neither a GAAP connection (link-…) nor a connection group (lg-…)"),
    );
}

/// GAAP listeners are HTTP, HTTPS, TCP or UDP; there is no QUIC or TCP_SSL
/// create action (the raw call is `InvalidAction`). Returns the GAAP kind
/// when offered.
pub fn rule_protocol_offered(spec: &ListenerSpec, r: &mut Rejections) -> Option<GaapProtocol> {
    let kind = GaapProtocol::of(spec.protocol);
    r.reject_if(
        kind.is_none(),
        "protocol",
        "protocol_unsupported",
        format!("GAAP offers HTTP, HTTPS, TCP and UDP listeners, not {}", spec.protocol),
    );
    kind
}

/// GAAP takes a list of single ports (`Port`, `Ports`), one listener per
/// port; a range is not a value `Ports` accepts (`InvalidParameterValue`).
pub fn rule_single_ports_only(spec: &ListenerSpec, r: &mut Rejections) {
    for (i, range) in spec.ports.ranges().iter().enumerate() {
        r.reject_if(
            range.from != range.to,
            spec.ports.entry_path(i),
            INVALID_PARAMETER_VALUE,
            format!("GAAP takes single ports, not the range {range}; list the ports one by one"),
        );
    }
}

/// 50 listeners per connection (factsheet §3,
/// `FailedOperation.LimitNumofListener`) is GAAP's default quota, raised
/// in the quota centre: the vendor's to enforce. A spec that alone names
/// more ports is a warning on `ports`, not a refusal.
pub fn warn_listener_quota_one_spec(spec: &ListenerSpec, r: &mut Rejections) {
    let count = spec.ports.count();
    if count > MAX_LISTENERS_PER_INSTANCE {
        r.warn(
            &spec.name,
            "ports",
            LIMIT_NUM_OF_LISTENER,
            format!("this spec makes {count} GAAP listeners, more than a connection's default quota of {MAX_LISTENERS_PER_INSTANCE}; it must have been raised"),
        );
    }
}

/// Longest layer-4 (TCP, UDP) listener name: 30 characters. Only
/// Terraform's `tencentcloud_gaap_layer4_listener` states it (factsheet);
/// GAAP's API pages give no length, so a longer name is a warning, and
/// the vendor answers.
pub const MAX_LAYER4_NAME_CHARS: usize = 30;

/// The management mark is a name suffix on GAAP (`web--lctl` for the
/// default owner, `web--lctl_team-a` otherwise): GAAP listeners have no
/// description and no tags (tags are on proxies and groups), and the name
/// is the one free text the vendor keeps and returns. A name of the
/// user's that already looks marked is refused, or it would read back
/// shortened. A layer-4 name that with its mark passes Terraform's 30
/// characters is warned about, not refused ([`MAX_LAYER4_NAME_CHARS`]).
pub fn rule_name_with_mark(profile: &ProfileConfig, spec: &ListenerSpec, r: &mut Rejections) {
    let n = spec.name.chars().count();
    let mark = listener_core::mark::name_mark_len(profile.owner());
    if matches!(spec.protocol, Protocol::Tcp | Protocol::Udp) && n + mark > MAX_LAYER4_NAME_CHARS {
        r.warn(
            &spec.name,
            "name",
            INVALID_PARAMETER_VALUE,
            format!(
                "Terraform holds GAAP TCP and UDP listener names to {MAX_LAYER4_NAME_CHARS} characters; with the \
                 management mark ({mark} characters for owner `{}`) this one has {}, so GAAP may refuse it; \
                 shorten the name or the profile's owner if it does",
                profile.owner(),
                n + mark
            ),
        );
    }
    r.reject_if(
        listener_core::mark::name_looks_marked(&spec.name),
        "name",
        INVALID_PARAMETER_VALUE,
        format!(
            "`{}` inside or `{}` at the end of a GAAP name is reserved for the management mark (it would be read back as one)",
            listener_core::mark::NAME_MARK,
            listener_core::mark::DEFAULT_NAME_MARK
        ),
    );
}

/// GAAP listeners have no description parameter.
pub fn rule_no_description(spec: &ListenerSpec, r: &mut Rejections) {
    r.reject_if(
        spec.description.is_some(),
        "description",
        "description_unsupported",
        "GAAP listeners have no description; remove it or put the text in the name",
    );
}

/// GAAP tags proxies and proxy groups (`TagSet` on `CreateProxy`), never a
/// listener: no Create*Listeners or Modify*Listener action takes tags.
pub fn rule_no_tags(spec: &ListenerSpec, r: &mut Rejections) {
    r.reject_if(
        !spec.tags.is_empty(),
        "tags",
        "tags_unsupported",
        "GAAP listeners carry no tags (GAAP tags the proxy, not its listeners); remove `tags`",
    );
}

/// GAAP's source-address control is the proxy's security policy
/// (`CreateSecurityPolicyDetail` with `ProxyId` and one `DefaultAction`
/// ACCEPT/DROP for the whole proxy; `CreateSecurityRules` adds rules with
/// `SourceCidr`, `Action`, `DestPortRange`, `Protocol`). One policy per
/// proxy, one default action for every listener of it, and rules shared with
/// whoever else manages the proxy: a listener's own allow list ("only these
/// sources, on this listener") would need a DROP rule for the listener's
/// ports ordered after its ACCEPT rules, and the policy's other rules and
/// default action, which this tool does not own, could still change what
/// reaches the listener. The per-listener meaning cannot be kept, so
/// `access` is refused here rather than approximated.
pub fn rule_no_access(spec: &ListenerSpec, r: &mut Rejections) {
    r.reject_if(
        spec.access.is_some(),
        "access",
        "access_unsupported",
        "GAAP controls source addresses per proxy (one security policy with one default action for all its listeners), not per listener; remove `access` and manage the proxy's security policy",
    );
}

/// GAAP has no action that stops or starts one listener (only whole
/// proxies close and open: CloseProxies/OpenProxies), so `enabled = false`
/// cannot be honoured. `true` is what every GAAP listener is, so it is
/// accepted and declared write-only (never compared): refusing it would
/// block a portable file that states it.
pub fn rule_no_stop_start(spec: &ListenerSpec, r: &mut Rejections) {
    r.reject_if(
        spec.enabled == Some(false),
        "enabled",
        "stop_start_unsupported",
        "GAAP cannot stop or start one listener (only a whole proxy); set `enabled = false` only where listeners can be stopped",
    );
}

/// No GAAP create or modify action takes session persistence (Describe
/// shows a `SessionPersist` flag, but it cannot be set through the listener
/// API).
pub fn rule_no_session_persistence(spec: &ListenerSpec, r: &mut Rejections) {
    r.reject_if(
        spec.session_persistence.is_some(),
        "session_persistence",
        "session_persistence_unsupported",
        "GAAP listeners cannot be given session persistence through the listener API",
    );
}

/// GAAP listeners have no idle or request timeout parameters.
pub fn rule_no_timeouts(spec: &ListenerSpec, r: &mut Rejections) {
    r.reject_if(
        spec.timeouts.is_some(),
        "timeouts",
        "timeouts_unsupported",
        "GAAP listeners have no idle or request timeout settings",
    );
}

/// `ClientIPMethod` (0 TOA, 1 Proxy Protocol) exists on TCP listeners only
/// (factsheet §9 "ClientIPMethod outside TCP"); UDP and layer-7 listeners
/// have no client-IP setting at all, so X-Forwarded headers cannot be
/// chosen either.
pub fn rule_client_ip_tcp_only(spec: &ListenerSpec, protocol: GaapProtocol, r: &mut Rejections) {
    r.reject_if(
        spec.client_ip.is_some() && protocol != GaapProtocol::Tcp,
        "client_ip",
        "client_ip_tcp_only",
        format!(
            "GAAP sets the client-IP method (TOA or Proxy Protocol) on TCP listeners only; {} listeners have no such setting",
            protocol.protocol()
        ),
    );
}

/// HTTP and HTTPS listeners take no `Scheduler`: on layer 7 it is set per
/// forwarding rule, outside this project's scope.
pub fn rule_layer7_has_no_scheduler(spec: &ListenerSpec, protocol: GaapProtocol, r: &mut Rejections) {
    r.reject_if(
        spec.scheduler.is_some() && !protocol.is_layer4(),
        "scheduler",
        "scheduler_layer4_only",
        "GAAP HTTP/HTTPS listeners schedule per forwarding rule, not on the listener",
    );
}

/// HTTP and HTTPS listeners take no health-check parameters: on layer 7
/// GAAP checks origins per forwarding rule.
pub fn rule_layer7_has_no_health_check(spec: &ListenerSpec, protocol: GaapProtocol, r: &mut Rejections) {
    r.reject_if(
        spec.health_check.is_some() && !protocol.is_layer4(),
        "health_check",
        "health_check_layer4_only",
        "GAAP HTTP/HTTPS listeners check origins per forwarding rule, not on the listener",
    );
}

/// `RealServerType` and `FailoverSwitch` are TCP/UDP parameters; the
/// layer-7 create actions do not take them.
pub fn rule_layer4_options_only_on_layer4(options: &GaapOptions, protocol: GaapProtocol, r: &mut Rejections) {
    if protocol.is_layer4() {
        return;
    }
    r.reject_if(
        options.real_server_type.is_some(),
        format!("extensions.{API}.real_server_type"),
        "layer4_option",
        "RealServerType applies to GAAP TCP/UDP listeners only",
    );
    r.reject_if(
        options.failover_switch.is_some(),
        format!("extensions.{API}.failover_switch"),
        "layer4_option",
        "FailoverSwitch applies to GAAP TCP/UDP listeners only",
    );
}

/// `ForwardProtocol` is an HTTPS listener parameter (factsheet §9: HTTPS
/// forwarding settings on a non-HTTPS listener). An HTTP listener always
/// forwards plain HTTP and has no such parameter.
pub fn rule_forward_protocol_only_on_https(spec: &ListenerSpec, protocol: GaapProtocol, r: &mut Rejections) {
    let set = spec.forwarding.as_ref().is_some_and(|f| f.backend_protocol.is_some());
    r.reject_if(
        set && protocol == GaapProtocol::Http,
        "forwarding.backend_protocol",
        "forward_protocol_https_only",
        "GAAP HTTP listeners always forward HTTP; only HTTPS listeners choose a forward protocol",
    );
}

/// `ForwardProtocol` is required by `CreateHTTPSListener` (seed; factsheet
/// §9 "HTTPS without … forward protocol"): GAAP answers `MissingParameter`.
/// There is no default to fall back on, so the spec must say it.
pub fn rule_https_needs_forward_protocol(spec: &ListenerSpec, r: &mut Rejections) {
    let set = spec.forwarding.as_ref().is_some_and(|f| f.backend_protocol.is_some());
    r.reject_if(
        !set,
        "forwarding.backend_protocol",
        MISSING_PARAMETER,
        "GAAP HTTPS listeners require the protocol towards the origin: set forwarding.backend_protocol to http or https",
    );
}

/// `CertificateId` is required by `CreateHTTPSListener` (seed;
/// `MissingParameter`). The neutral spec allows an HTTPS listener without
/// certificates when `sni = true`; GAAP does not.
pub fn rule_https_needs_certificate(spec: &ListenerSpec, r: &mut Rejections) {
    r.reject_if(
        spec.server_certificates().is_empty(),
        "tls.certificates",
        MISSING_PARAMETER,
        "GAAP HTTPS listeners require a server certificate",
    );
}

/// `CertificateId` is a single ID: GAAP attaches one server certificate.
pub fn rule_https_one_server_certificate(spec: &ListenerSpec, r: &mut Rejections) {
    let n = spec.server_certificates().len();
    r.reject_if(
        n > 1,
        "tls.certificates",
        "single_server_certificate",
        format!("GAAP HTTPS listeners take one server certificate, not {n}"),
    );
}

/// GAAP HTTPS listeners have no SNI switch (domain certificates belong to
/// forwarding rules): the listener serves its one certificate to every
/// client. `sni = false` says just that, so it is accepted and write-only
/// (never compared, since nothing reads it back); `true` is refused.
pub fn rule_no_sni(spec: &ListenerSpec, r: &mut Rejections) {
    r.reject_if(
        spec.tls.as_ref().is_some_and(|t| t.sni == Some(true)),
        "tls.sni",
        "sni_unsupported",
        "GAAP HTTPS listeners have no SNI setting",
    );
}

/// GAAP HTTPS listeners have no HTTP/2 switch.
pub fn rule_no_http2(spec: &ListenerSpec, r: &mut Rejections) {
    r.reject_if(
        spec.tls.as_ref().is_some_and(|t| t.http2.is_some()),
        "tls.http2",
        "http2_unsupported",
        "GAAP HTTPS listeners have no HTTP/2 setting",
    );
}

/// The TLS versions `SetTlsVersion` takes in `TLSSupportVersion`, oldest
/// first (Terraform's `tls_support_versions`; GAAP's TLS document: TLS 1,
/// 1.1, 1.2 and 1.3, all on by default).
pub const TLS_VERSIONS: [&str; 4] = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];
/// The cipher suite families `SetTlsVersion` takes in `TLSCiphers`
/// (`GAAP_TLS_CIPHERS_WIDE` is the default).
pub const TLS_CIPHERS: [&str; 3] = [
    "GAAP_TLS_CIPHERS_STRICT",
    "GAAP_TLS_CIPHERS_GENERAL",
    "GAAP_TLS_CIPHERS_WIDE",
];
/// Rule of a TLS policy on a connection or group that does not offer the
/// choice (`IsSupportTLSChoice` 0 in DescribeProxies /
/// DescribeProxyGroupDetails): learned at run time, never offline.
pub const TLS_CHOICE_UNSUPPORTED: &str = "tls_choice_unsupported";

/// GAAP's TLS settings of an HTTPS listener: what `SetTlsVersion` sends
/// and `DescribeHTTPSListeners` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsChoice {
    /// `TLSSupportVersion`, oldest first.
    pub versions: Vec<&'static str>,
    /// `TLSCiphers`.
    pub ciphers: &'static str,
}

impl TlsChoice {
    /// The neutral policy name for a GAAP choice: `<oldest version>:<cipher
    /// family>` (`TLSv1.2:GAAP_TLS_CIPHERS_STRICT`) when the versions run
    /// from the oldest one up to TLS 1.3, which is every choice a policy can
    /// make. Any other set (made elsewhere, e.g. in the console) is spelled
    /// out (`TLSv1,TLSv1.2:…`): no spec asks for it, so `plan` shows it as a
    /// change, which `SetTlsVersion` repairs.
    pub fn policy_name(&self) -> String {
        let suffix = self
            .versions
            .first()
            .and_then(|first| TLS_VERSIONS.iter().position(|v| v == first))
            .filter(|&i| self.versions[..] == TLS_VERSIONS[i..]);
        let versions = match suffix {
            Some(_) => self.versions[0].to_string(),
            None => self.versions.join(","),
        };
        format!("{versions}:{}", self.ciphers)
    }
}

/// The GAAP choice a neutral policy name stands for: `<minimum TLS
/// version>:<cipher family>`, e.g. `TLSv1.2:GAAP_TLS_CIPHERS_STRICT`
/// (TLS 1.2 and 1.3 with the strict suites). `None` for any other text.
pub fn tls_choice(policy: &str) -> Option<TlsChoice> {
    let (min, ciphers) = policy.split_once(':')?;
    let from = TLS_VERSIONS.iter().position(|v| *v == min)?;
    let ciphers = TLS_CIPHERS.iter().find(|c| **c == ciphers)?;
    Some(TlsChoice {
        versions: TLS_VERSIONS[from..].to_vec(),
        ciphers,
    })
}

/// `SetTlsVersion` (HTTPS listeners): `TLSSupportVersion` from TLSv1 to
/// TLSv1.3 and `TLSCiphers` one of the three GAAP families (SDK model,
/// Terraform's `tls_support_versions` / `tls_ciphers`; GAAP answers
/// `InvalidParameterValue`). The neutral policy names them as
/// `<minimum version>:<family>` (see [`tls_choice`]).
pub fn rule_tls_policy_is_a_gaap_choice(spec: &ListenerSpec, r: &mut Rejections) {
    let Some(policy) = spec.tls.as_ref().and_then(|t| t.policy.as_deref()) else {
        return;
    };
    r.reject_if(
        tls_choice(policy).is_none(),
        "tls.policy",
        INVALID_PARAMETER_VALUE,
        format!(
            "GAAP TLS policies are `<minimum version>:<cipher family>`, the version one of {} and the family one of {} (e.g. `TLSv1.2:GAAP_TLS_CIPHERS_STRICT`)",
            TLS_VERSIONS.join(", "),
            TLS_CIPHERS.join(", ")
        ),
    );
}

/// Whether the connection or group lets its HTTPS listeners choose TLS
/// versions and ciphers: `IsSupportTLSChoice` of the instance's
/// description (DescribeProxies' `ProxySet`, or DescribeProxyGroupDetails'
/// `ProxyGroupDetail`). `None` when the answer does not say (GAAP may
/// return null): then nothing is refused and the vendor answers.
pub fn tls_choice_supported(instance: &Instance, describe_answer: &Value) -> Option<bool> {
    let detail = match instance {
        Instance::Connection(id) => describe_answer
            .get("ProxySet")
            .and_then(Value::as_array)?
            .iter()
            .find(|p| {
                field_str(p, "ProxyId") == Some(id.as_str()) || field_str(p, "InstanceId") == Some(id.as_str())
            })?,
        Instance::Group(_) => describe_answer.get("ProxyGroupDetail")?,
    };
    field_u64(detail, "IsSupportTLSChoice").map(|v| v == 1)
}

/// A TLS policy on a connection or group whose description says
/// `IsSupportTLSChoice` 0: `SetTlsVersion` is not offered there (Terraform
/// refuses the same before calling). Only known at run time, so `create`
/// and `update` apply this rule before any write, never `check`.
pub fn rule_tls_choice_offered(spec: &ListenerSpec, supported: Option<bool>, r: &mut Rejections) {
    r.reject_if(
        spec.tls.as_ref().is_some_and(|t| t.policy.is_some()) && supported == Some(false),
        "tls.policy",
        TLS_CHOICE_UNSUPPORTED,
        "this GAAP connection does not offer a choice of TLS versions and ciphers (IsSupportTLSChoice is 0)",
    );
}

/// The `SetTlsVersion` request for a listener.
pub fn set_tls_version_params(listener_id: &str, choice: &TlsChoice) -> Value {
    serde_json::json!({
        "ListenerId": listener_id,
        "TLSSupportVersion": choice.versions,
        "TLSCiphers": choice.ciphers,
    })
}

/// The TLS choice a `DescribeHTTPSListeners` record reports, as the neutral
/// policy name; `None` when the record carries none.
fn policy_of_record(record: &Value) -> Option<String> {
    let ciphers = field_str(record, "TLSCiphers")?;
    let ciphers = TLS_CIPHERS.iter().find(|c| **c == ciphers).copied()?;
    let versions: Vec<&'static str> = record
        .get("TLSSupportVersion")
        .and_then(Value::as_array)?
        .iter()
        .filter_map(Value::as_str)
        .filter_map(|v| TLS_VERSIONS.iter().find(|k| **k == v).copied())
        .collect();
    if versions.is_empty() {
        return None;
    }
    let mut sorted = versions;
    sorted.sort_by_key(|v| TLS_VERSIONS.iter().position(|k| k == v));
    Some(
        TlsChoice {
            versions: sorted,
            ciphers,
        }
        .policy_name(),
    )
}

/// `AuthType` is 0 (one-way) or 1 (mutual, the client certificate is
/// required); factsheet §9 "AuthType not 0/1". There is no "verify when
/// offered" value, so `verify = optional` would need an `AuthType` GAAP
/// refuses with `InvalidParameterValue`.
pub fn rule_client_certificate_required(spec: &ListenerSpec, r: &mut Rejections) {
    r.reject_if(
        spec.client_auth().is_some_and(|c| c.verify == ClientVerify::Optional),
        "tls.client_auth.verify",
        INVALID_PARAMETER_VALUE,
        "GAAP mutual authentication always requires the client certificate; use verify = required",
    );
}

/// Mutual authentication (`AuthType` 1) needs `ClientCertificateId` or
/// `PolyClientCertificateIds` (factsheet §4, §9: `MissingParameter`), and
/// client CAs only make sense with mutual authentication (factsheet §9
/// "client CAs with one-way": `InvalidParameter.ConflictParameters`). The
/// neutral spec keeps CAs inside `client_auth`, so the second case arises
/// only from requests built by hand; the rule guards the translation.
pub fn rule_auth_type_matches_client_cas(auth_type: u8, client_cas: &[String], r: &mut Rejections) {
    r.reject_if(
        auth_type == 1 && client_cas.is_empty(),
        "tls.client_auth.ca_certificates",
        MISSING_PARAMETER,
        "GAAP mutual authentication needs at least one client CA certificate",
    );
    r.reject_if(
        auth_type == 0 && !client_cas.is_empty(),
        "tls.client_auth.ca_certificates",
        CONFLICT_PARAMETERS,
        "client CA certificates apply to mutual authentication only",
    );
}

/// `DelayLoop` (seconds between probes) is 5–300 (factsheet §4, §9).
pub fn rule_delay_loop_range(interval: Option<u32>, r: &mut Rejections) {
    if let Some(v) = interval {
        r.reject_if(
            !DELAY_LOOP_SECS.contains(&v),
            "health_check.interval_secs",
            INVALID_PARAMETER_VALUE,
            format!("GAAP health-check interval (DelayLoop) is 5 to 300 seconds, not {v}"),
        );
    }
}

/// `ConnectTimeout` (seconds a probe may take) is 2–60 (factsheet §4, §9).
pub fn rule_connect_timeout_range(timeout: Option<u32>, r: &mut Rejections) {
    if let Some(v) = timeout {
        r.reject_if(
            !CONNECT_TIMEOUT_SECS.contains(&v),
            "health_check.timeout_secs",
            INVALID_PARAMETER_VALUE,
            format!("GAAP health-check timeout (ConnectTimeout) is 2 to 60 seconds, not {v}"),
        );
    }
}

/// `ConnectTimeout` must be less than `DelayLoop` (factsheet §4, §9). In a
/// spec both values are neutral fields and the neutral rule
/// `timeout_below_interval` already reports it; this rule compares the
/// values in effect after an update (the cloud's for fields the update
/// leaves alone), which the neutral rule cannot see.
pub fn rule_connect_timeout_below_delay_loop(
    delay_loop: Option<u32>,
    connect_timeout: Option<u32>,
    r: &mut Rejections,
) {
    if let (Some(d), Some(t)) = (delay_loop, connect_timeout) {
        r.reject_if(
            t >= d,
            "health_check.timeout_secs",
            INVALID_PARAMETER_VALUE,
            format!("GAAP needs the health-check timeout ({t}s) below the interval ({d}s)"),
        );
    }
}

/// A GAAP TCP health check is a TCP connect: `CreateTCPListeners` has no
/// `CheckType`, so HTTP or payload probes cannot be asked for.
pub fn rule_tcp_probe_is_connect(hc: &HealthCheck, r: &mut Rejections) {
    r.reject_if(
        matches!(hc.kind, Some(HealthCheckKind::Http | HealthCheckKind::Custom)),
        "health_check.kind",
        "tcp_check_kind",
        "GAAP TCP listeners probe origins with a TCP connect only",
    );
}

/// `CheckPort` is a UDP parameter; TCP probes use the origin's port.
pub fn rule_check_port_udp_only(hc: &HealthCheck, r: &mut Rejections) {
    r.reject_if(
        hc.port.is_some(),
        "health_check.port",
        "check_port_udp_only",
        "GAAP TCP listeners probe the origin's own port; a probe port is a UDP setting",
    );
}

fn has_port_fields(hc: &HealthCheck) -> bool {
    hc.port.is_some() || hc.custom.is_some()
}

/// `CheckPort`, `ContextType`, `SendContext` and `RecvContext` belong to
/// UDP `PORT` checks. The sources disagree on what GAAP does with them
/// under `PING`: factsheet §9 lists them as refused, the SDK model only
/// says "used only when the check type is PORT". Either way they mean
/// nothing with PING and are not read back, so a spec asking for them
/// would plan a change forever: refused under the adapter's own rule name
/// (not a vendor code, since the vendor's answer is not established), as
/// every neutral field the vendor cannot express is.
pub const PORT_FIELDS_NEED_PORT_CHECK: &str = "port_fields_need_port_check";

/// See [`PORT_FIELDS_NEED_PORT_CHECK`].
pub fn rule_ping_has_no_port_fields(kind: Option<HealthCheckKind>, port_fields: bool, r: &mut Rejections) {
    r.reject_if(
        kind == Some(HealthCheckKind::Ping) && port_fields,
        "health_check.port",
        PORT_FIELDS_NEED_PORT_CHECK,
        "a probe port and payloads belong to GAAP's PORT check (kind = custom), not to PING",
    );
}

/// `FailoverSwitch` cannot be used with `RealServerType` `DOMAIN`
/// (factsheet §4, §9).
pub fn rule_failover_not_with_domain(options: &GaapOptions, r: &mut Rejections) {
    r.reject_if(
        options.failover_switch == Some(true) && options.real_server_type() == RealServerType::Domain,
        format!("extensions.{API}.failover_switch"),
        CONFLICT_PARAMETERS,
        "GAAP primary/backup origins (FailoverSwitch) need RealServerType IP",
    );
}

/// `ModifyTCPListenerAttribute` refuses `wrr` and `lrtt` for a listener
/// with `DOMAIN` origins (factsheet §4, §9 "wrr/lrtt with DOMAIN on
/// modify"). Only the modify action documents this, so it is checked on
/// update only.
pub fn rule_domain_scheduler_on_modify(
    real_server_type: RealServerType,
    scheduler: Option<Scheduler>,
    r: &mut Rejections,
) {
    r.reject_if(
        real_server_type == RealServerType::Domain
            && matches!(scheduler, Some(Scheduler::WeightedRoundRobin | Scheduler::LeastLatency)),
        "scheduler",
        CONFLICT_PARAMETERS,
        "GAAP cannot switch a listener with DOMAIN origins to weighted round robin or least latency",
    );
}

/// `ModifyHTTPSListenerAttribute` does not work for connection groups
/// (factsheet §4), so an HTTPS listener on a group cannot be changed in place.
pub fn rule_https_modify_not_on_group(instance: &Instance, r: &mut Rejections) {
    r.reject_if(
        instance.is_group(),
        "instance",
        NOT_SUPPORT_PROXY_GROUP,
        "GAAP cannot modify HTTPS listeners of a connection group; replace the listener instead",
    );
}

/// The port spaces of one connection (factsheet §4 "Port rule"): HTTP,
/// HTTPS and TCP share the TCP space, UDP has its own, and an HTTPS
/// listener with HTTP3 also takes its port on the UDP side, in both
/// directions (UDP on an HTTP3 port, HTTP3 on a UDP port). A second claim
/// is `InvalidParameterValue.DuplicatedListenerPort`; it is reported on the
/// later listener.
pub fn rule_port_spaces(specs: &[ListenerSpec], out: &mut Vec<(usize, Rejection)>) {
    use std::collections::BTreeMap;
    let mut tcp: BTreeMap<u32, usize> = BTreeMap::new();
    let mut udp: BTreeMap<u32, usize> = BTreeMap::new();
    for (i, spec) in specs.iter().enumerate() {
        let Some(kind) = GaapProtocol::of(spec.protocol) else {
            continue;
        };
        let http3 = kind == GaapProtocol::Https && spec.tls.as_ref().and_then(|t| t.http3) == Some(true);
        for (k, range) in spec.ports.ranges().iter().enumerate() {
            if range.from != range.to {
                continue;
            }
            let port = range.from;
            let mut claim = |space: &mut BTreeMap<u32, usize>, what: &str| match space.get(&port) {
                Some(&j) if j != i => out.push((
                    i,
                    Rejection::new(
                        API,
                        spec.ports.entry_path(k),
                        DUPLICATED_LISTENER_PORT,
                        format!(
                            "port {port} is already taken on the {what} side by listeners[{j}] (`{}`)",
                            specs[j].name
                        ),
                    ),
                )),
                Some(_) => {}
                None => {
                    space.insert(port, i);
                }
            };
            match kind {
                GaapProtocol::Udp => claim(&mut udp, "UDP"),
                _ => {
                    claim(&mut tcp, "TCP");
                    if http3 {
                        claim(&mut udp, "UDP (HTTP3)");
                    }
                }
            }
        }
    }
}

/// Where the listeners of one connection go past GAAP's default quota of
/// 50 (`FailedOperation.LimitNumofListener`): the index of the spec that
/// crosses it, as a warning. Every port of every spec is one listener.
/// The quota is adjustable, so these are never refusals.
pub fn listener_quota_warnings(specs: &[ListenerSpec]) -> Vec<(usize, Warning)> {
    let mut out = Vec::new();
    let mut total: u64 = 0;
    for (i, spec) in specs.iter().enumerate() {
        let before = total;
        total = total.saturating_add(spec.ports.count());
        if before <= MAX_LISTENERS_PER_INSTANCE && total > MAX_LISTENERS_PER_INSTANCE {
            out.push((
                i,
                Warning::new(
                    API,
                    "listeners",
                    LIMIT_NUM_OF_LISTENER,
                    format!(
                        "these listeners make {total} GAAP listeners so far; a connection's default quota is {MAX_LISTENERS_PER_INSTANCE}, so it must have been raised"
                    ),
                ),
            ));
        }
    }
    out
}

/// `AuthType` and the client CA aliases a spec asks for.
fn auth_of(spec: &ListenerSpec) -> (u8, &[String]) {
    match spec.client_auth() {
        Some(ca) => (1, ca.ca_certificates.as_slice()),
        None => (0, &[]),
    }
}

// ---------------------------------------------------------------------------
// create
// ---------------------------------------------------------------------------

/// The HTTPS-only parameters of `CreateHTTPSListener`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpsParams {
    /// `CertificateId`, the server certificate.
    pub certificate_id: String,
    /// `ForwardProtocol`: `HTTP` or `HTTPS` towards the origin.
    pub forward_protocol: &'static str,
    /// `AuthType`: 0 one-way, 1 mutual.
    pub auth_type: u8,
    /// `PolyClientCertificateIds`: the client CAs (mutual only).
    pub client_cas: Vec<String>,
    /// `Http3Supported`, when the spec says.
    pub http3: Option<bool>,
}

/// The layer-4 parameters of `CreateTCPListeners` / `CreateUDPListeners`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer4Params {
    /// `Scheduler`.
    pub scheduler: &'static str,
    /// `RealServerType`.
    pub real_server_type: RealServerType,
    /// `HealthCheck` (required on TCP).
    pub health_check: bool,
    /// `DelayLoop`.
    pub delay_loop: Option<u32>,
    /// `ConnectTimeout`.
    pub connect_timeout: Option<u32>,
    /// `HealthyThreshold`.
    pub healthy_threshold: Option<u32>,
    /// `UnhealthyThreshold`.
    pub unhealthy_threshold: Option<u32>,
    /// `FailoverSwitch`.
    pub failover_switch: Option<bool>,
    /// `ClientIPMethod` (TCP only).
    pub client_ip_method: Option<u8>,
    /// `CheckType` (UDP only): `PORT` or `PING`.
    pub check_type: Option<&'static str>,
    /// `CheckPort` (UDP `PORT` only).
    pub check_port: Option<u32>,
    /// `SendContext` (UDP `PORT` only).
    pub send_context: Option<String>,
    /// `RecvContext` (UDP `PORT` only).
    pub recv_context: Option<String>,
}

/// One spec as GAAP create parameters, before the instance is added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatePlan {
    /// Which kind of listener.
    pub protocol: GaapProtocol,
    /// `ListenerName` (one name for every port).
    pub name: String,
    /// The ports, one listener each.
    pub ports: Vec<u32>,
    /// HTTPS parameters.
    pub https: Option<HttpsParams>,
    /// TCP/UDP parameters.
    pub layer4: Option<Layer4Params>,
}

/// One create call: the action, the ports it makes listeners for, the body.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateCall {
    /// `Create…Listener(s)`.
    pub action: &'static str,
    /// Ports the call makes listeners on.
    pub ports: Vec<u32>,
    /// The request body.
    pub params: Value,
}

/// UDP `CheckType` of a neutral probe kind: `ping` is `PING`, `custom`
/// (a probe on a port, optionally with payloads) is `PORT`.
fn udp_check_type(hc: &HealthCheck) -> Option<&'static str> {
    match hc.kind {
        Some(HealthCheckKind::Ping) => Some("PING"),
        Some(HealthCheckKind::Custom) => Some("PORT"),
        // Port fields without a kind can only mean a PORT check.
        None if has_port_fields(hc) => Some("PORT"),
        _ => None,
    }
}

impl CreatePlan {
    /// Translate a spec that passed [`check`]. Refuses (as
    /// [`Error::Unsupported`]) what `check` would refuse, so a caller that
    /// skipped it still sends nothing GAAP cannot take.
    pub fn from_spec(profile: &ProfileConfig, spec: &ListenerSpec) -> Result<CreatePlan, Error> {
        Rejections::from_vec(API, check(profile, spec)).into_result()?;
        let protocol = GaapProtocol::of(spec.protocol).ok_or_else(|| {
            Rejections::of(API, "protocol", "protocol_unsupported", "not a GAAP protocol").into_error()
        })?;
        let options = GaapOptions::of(spec).unwrap_or_default();
        let aliases = &profile.aliases;
        let https = (protocol == GaapProtocol::Https).then(|| {
            let (auth_type, cas) = auth_of(spec);
            HttpsParams {
                certificate_id: aliases
                    .certificate_ids(spec.server_certificates())
                    .into_iter()
                    .next()
                    .unwrap_or_default(),
                forward_protocol: spec
                    .forwarding
                    .as_ref()
                    .and_then(|f| f.backend_protocol)
                    .map(backend_word)
                    .unwrap_or("HTTP"),
                auth_type,
                client_cas: aliases.certificate_ids(cas),
                http3: spec.tls.as_ref().and_then(|t| t.http3),
            }
        });
        let layer4 = protocol.is_layer4().then(|| {
            let hc = spec.health_check.as_ref();
            let udp = protocol == GaapProtocol::Udp;
            let check_type = if udp { hc.and_then(udp_check_type) } else { None };
            let port_check = check_type == Some("PORT");
            Layer4Params {
                scheduler: spec.scheduler.map(scheduler_word).unwrap_or(
                    if options.real_server_type() == RealServerType::Domain {
                        DEFAULT_DOMAIN_SCHEDULER
                    } else {
                        DEFAULT_SCHEDULER
                    },
                ),
                real_server_type: options.real_server_type(),
                health_check: hc.is_some_and(|h| h.enabled),
                delay_loop: hc.and_then(|h| h.interval_secs),
                connect_timeout: hc.and_then(|h| h.timeout_secs),
                healthy_threshold: hc.and_then(|h| h.healthy_threshold),
                unhealthy_threshold: hc.and_then(|h| h.unhealthy_threshold),
                failover_switch: options.failover_switch,
                client_ip_method: if udp {
                    None
                } else {
                    spec.client_ip
                        .as_ref()
                        .map(|c| u8::from(c.mode == ClientIpMode::ProxyProtocol))
                },
                check_type,
                check_port: hc.and_then(|h| h.port).filter(|_| port_check),
                send_context: hc
                    .and_then(|h| h.custom.as_ref())
                    .and_then(|c| c.send.clone())
                    .filter(|_| port_check),
                recv_context: hc
                    .and_then(|h| h.custom.as_ref())
                    .and_then(|c| c.expect.clone())
                    .filter(|_| port_check),
            }
        });
        Ok(CreatePlan {
            protocol,
            name: listener_core::mark::mark_name(&spec.name, profile.owner()),
            ports: spec.ports.expand(),
            https,
            layer4,
        })
    }

    /// The calls that make the plan's listeners on `instance`: one call for
    /// all ports of a TCP/UDP spec (GAAP's batch create), one per port for
    /// HTTP and HTTPS.
    pub fn calls(&self, instance: &Instance) -> Vec<CreateCall> {
        if self.protocol.batch_create() {
            let mut m = self.base(instance);
            m.insert("Ports".into(), Value::from(self.ports.clone()));
            vec![CreateCall {
                action: self.protocol.create_action(),
                ports: self.ports.clone(),
                params: Value::Object(m),
            }]
        } else {
            self.ports
                .iter()
                .map(|&port| {
                    let mut m = self.base(instance);
                    m.insert("Port".into(), Value::from(port));
                    CreateCall {
                        action: self.protocol.create_action(),
                        ports: vec![port],
                        params: Value::Object(m),
                    }
                })
                .collect()
        }
    }

    /// The same calls for a subset of the ports (what is left to make after
    /// a partial create).
    pub fn calls_for(&self, instance: &Instance, ports: &[u32]) -> Vec<CreateCall> {
        let mut sub = self.clone();
        sub.ports.retain(|p| ports.contains(p));
        sub.calls(instance)
    }

    fn base(&self, instance: &Instance) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("ListenerName".into(), Value::from(self.name.clone()));
        instance.insert_into(&mut m);
        if let Some(h) = &self.https {
            m.insert("CertificateId".into(), Value::from(h.certificate_id.clone()));
            m.insert("ForwardProtocol".into(), Value::from(h.forward_protocol));
            m.insert("AuthType".into(), Value::from(h.auth_type));
            if !h.client_cas.is_empty() {
                m.insert("PolyClientCertificateIds".into(), Value::from(h.client_cas.clone()));
            }
            if let Some(on) = h.http3 {
                m.insert("Http3Supported".into(), Value::from(u8::from(on)));
            }
        }
        if let Some(l) = &self.layer4 {
            m.insert("Scheduler".into(), Value::from(l.scheduler));
            m.insert("RealServerType".into(), Value::from(l.real_server_type.as_str()));
            // Required on TCP, optional on UDP: sent on UDP only when a
            // check is asked for.
            if self.protocol == GaapProtocol::Tcp || l.health_check {
                m.insert("HealthCheck".into(), Value::from(u8::from(l.health_check)));
            }
            put_opt(&mut m, "DelayLoop", l.delay_loop);
            put_opt(&mut m, "ConnectTimeout", l.connect_timeout);
            put_opt(&mut m, "HealthyThreshold", l.healthy_threshold);
            put_opt(&mut m, "UnhealthyThreshold", l.unhealthy_threshold);
            if let Some(f) = l.failover_switch {
                m.insert("FailoverSwitch".into(), Value::from(u8::from(f)));
            }
            if let Some(c) = l.client_ip_method {
                m.insert("ClientIPMethod".into(), Value::from(c));
            }
            if let Some(t) = l.check_type {
                m.insert("CheckType".into(), Value::from(t));
            }
            put_opt(&mut m, "CheckPort", l.check_port);
            if l.send_context.is_some() || l.recv_context.is_some() {
                m.insert("ContextType".into(), Value::from(CONTEXT_TYPE_TEXT));
            }
            if let Some(s) = &l.send_context {
                m.insert("SendContext".into(), Value::from(s.clone()));
            }
            if let Some(s) = &l.recv_context {
                m.insert("RecvContext".into(), Value::from(s.clone()));
            }
        }
        m
    }
}

fn put_opt(m: &mut Map<String, Value>, key: &str, v: Option<u32>) {
    if let Some(v) = v {
        m.insert(key.into(), Value::from(v));
    }
}

// ---------------------------------------------------------------------------
// read-back
// ---------------------------------------------------------------------------

/// A string field of a record; `None` when absent, null or empty.
pub fn field_str<'a>(record: &'a Value, key: &str) -> Option<&'a str> {
    record.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// An integer field of a record, also when sent as a numeric string.
pub fn field_u64(record: &Value, key: &str) -> Option<u64> {
    match record.get(key)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn field_u32(record: &Value, key: &str) -> Option<u32> {
    field_u64(record, key).and_then(|v| u32::try_from(v).ok())
}

/// GAAP `ListenerStatus` in neutral words: 0 running, 1 creating,
/// 2 destroying, 3 origin servers adjusting, 4 configuration changing.
pub fn status_of(code: Option<u64>) -> ListenerStatus {
    match code {
        Some(0) => ListenerStatus::Running,
        Some(1) => ListenerStatus::Creating,
        Some(2) => ListenerStatus::Deleting,
        Some(3) | Some(4) => ListenerStatus::Updating,
        Some(n) => ListenerStatus::Other(n.to_string()),
        None => ListenerStatus::Other("unknown".into()),
    }
}

/// The client CA IDs of an HTTPS record: the list of
/// `PolyClientCertificateAliasInfo`, or the legacy single
/// `ClientCertificateId` when the list is empty.
fn client_ca_ids(record: &Value) -> Vec<String> {
    let poly: Vec<String> = record
        .get("PolyClientCertificateAliasInfo")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|e| field_str(e, "CertificateId").map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if poly.is_empty() {
        field_str(record, "ClientCertificateId")
            .map(|s| vec![s.to_string()])
            .unwrap_or_default()
    } else {
        poly
    }
}

/// A `Describe*Listeners` record as a [`Listener`]: every field GAAP
/// reports goes into the spec, certificate IDs become aliases where the
/// profile knows them. `None` when the record lacks an ID or a port.
pub fn record_to_listener(
    protocol: GaapProtocol,
    record: &Value,
    aliases: &Aliases,
    instance: &str,
) -> Option<Listener> {
    let id = field_str(record, "ListenerId")?.to_string();
    let port = field_u32(record, "Port")?;
    let (name, owner) =
        listener_core::mark::split_name(record.get("ListenerName").and_then(Value::as_str).unwrap_or(""));
    let mut spec = ListenerSpec::new(name, protocol.protocol(), Ports::Single(port));
    match protocol {
        GaapProtocol::Http => {}
        GaapProtocol::Https => {
            let client_auth = (field_u64(record, "AuthType") == Some(1)).then(|| ClientAuth {
                verify: ClientVerify::Required,
                ca_certificates: client_ca_ids(record)
                    .iter()
                    .map(|id| aliases.certificate_alias_of(id))
                    .collect(),
            });
            spec.tls = Some(Tls {
                certificates: field_str(record, "CertificateId")
                    .map(|id| vec![aliases.certificate_alias_of(id)])
                    .unwrap_or_default(),
                policy: policy_of_record(record),
                http2: None,
                http3: Some(field_u64(record, "Http3Supported") == Some(1)),
                sni: None,
                client_auth,
            });
            spec.forwarding = Some(Forwarding {
                backend_protocol: match field_str(record, "ForwardProtocol") {
                    Some("HTTP") => Some(BackendProtocol::Http),
                    Some("HTTPS") => Some(BackendProtocol::Https),
                    _ => None,
                },
                default_target: None,
            });
        }
        GaapProtocol::Tcp | GaapProtocol::Udp => {
            spec.scheduler = field_str(record, "Scheduler").and_then(scheduler_of);
            let in_range = |v: Option<u32>, r: RangeInclusive<u32>| v.filter(|v| r.contains(v));
            let udp = protocol == GaapProtocol::Udp;
            let check_type = field_str(record, "CheckType");
            let port_check = udp && check_type == Some("PORT");
            let send = field_str(record, "SendContext").map(str::to_string);
            let expect = field_str(record, "RecvContext").map(str::to_string);
            spec.health_check = Some(HealthCheck {
                enabled: field_u64(record, "HealthCheck") == Some(1),
                kind: if udp {
                    match check_type {
                        Some("PING") => Some(HealthCheckKind::Ping),
                        Some("PORT") => Some(HealthCheckKind::Custom),
                        _ => None,
                    }
                } else {
                    Some(HealthCheckKind::Tcp)
                },
                interval_secs: in_range(field_u32(record, "DelayLoop"), 1..=300),
                timeout_secs: in_range(field_u32(record, "ConnectTimeout"), 1..=60),
                healthy_threshold: in_range(field_u32(record, "HealthyThreshold"), 1..=10),
                unhealthy_threshold: in_range(field_u32(record, "UnhealthyThreshold"), 1..=10),
                port: if port_check {
                    in_range(field_u32(record, "CheckPort"), 1..=65535)
                } else {
                    None
                },
                http: None,
                custom: (port_check && (send.is_some() || expect.is_some()))
                    .then_some(CustomHealthCheck { send, expect }),
            });
            if !udp {
                spec.client_ip = Some(ClientIp {
                    mode: if field_u64(record, "ClientIPMethod") == Some(1) {
                        ClientIpMode::ProxyProtocol
                    } else {
                        ClientIpMode::None
                    },
                    headers: None,
                });
            }
            let options = GaapOptions {
                real_server_type: field_str(record, "RealServerType").and_then(RealServerType::parse),
                failover_switch: field_u64(record, "FailoverSwitch").map(|v| v == 1),
            };
            if !options.is_empty() {
                spec.extensions.insert(API, &options);
            }
        }
    }
    // The owner is recorded here; whether it is this profile's is the
    // caller's to say (`Listener::with_owner`).
    Some(Listener {
        id: ListenerId(id),
        instance: instance.to_string(),
        status: status_of(field_u64(record, "ListenerStatus")),
        spec,
        owner,
        managed: false,
    })
}

// ---------------------------------------------------------------------------
// modify
// ---------------------------------------------------------------------------

/// One `Modify*ListenerAttribute` call and the spec paths it changes.
#[derive(Debug, Clone, PartialEq)]
pub struct ModifyPlan {
    /// The action.
    pub action: &'static str,
    /// The request body.
    pub params: Value,
    /// Spec paths the call changes, for checking the plan covers every
    /// differing field (with `tls.policy` when [`ModifyPlan::tls`] is set).
    pub fields: Vec<String>,
    /// The `SetTlsVersion` request, when the TLS policy changes: GAAP sets
    /// TLS versions and ciphers with their own action, after the modify.
    pub tls: Option<Value>,
}

impl ModifyPlan {
    /// Whether the `Modify*ListenerAttribute` call itself has anything to
    /// change (a plan may carry only a `SetTlsVersion`).
    pub fn modifies_attributes(&self) -> bool {
        self.fields.iter().any(|f| f != "tls.policy")
    }
}

/// The modify call that turns `current` (read back from GAAP) into
/// `desired`, sending only what changed and only what GAAP's modify action
/// takes (factsheet §4): HTTP the name; HTTPS name, forward protocol,
/// certificate and client CAs; TCP name, scheduler, health check and
/// failover; UDP also the probe type, port and payloads. `Ok(None)` when
/// nothing changeable differs. Fields set in `desired` are compared, unset
/// ones left as they are (the planner's rule). Rules that depend on the
/// cloud's current values are checked here and refused as
/// [`Error::Unsupported`].
pub fn modify_plan(
    protocol: GaapProtocol,
    instance: &Instance,
    current: &Listener,
    desired: &ListenerSpec,
    aliases: &Aliases,
    owner: &str,
) -> Result<Option<ModifyPlan>, Error> {
    let marked_name = listener_core::mark::mark_name(&desired.name, owner);
    let mut m = Map::new();
    let mut fields: Vec<String> = Vec::new();
    let cur = &current.spec;
    m.insert("ListenerId".into(), Value::from(current.id.0.clone()));
    let name_changed = desired.name != cur.name;
    let mut r = Rejections::new(API);
    let mut tls: Option<Value> = None;

    match protocol {
        GaapProtocol::Http => {
            // ListenerName is required by this action, changed or not.
            m.insert("ListenerName".into(), Value::from(marked_name.clone()));
            if let Instance::Connection(id) = instance {
                m.insert("ProxyId".into(), Value::from(id.clone()));
            }
            if name_changed {
                fields.push("name".into());
            }
        }
        GaapProtocol::Https => {
            instance.insert_into(&mut m);
            if name_changed {
                m.insert("ListenerName".into(), Value::from(marked_name.clone()));
                fields.push("name".into());
            }
            let want_fp = desired.forwarding.as_ref().and_then(|f| f.backend_protocol);
            let cur_fp = cur.forwarding.as_ref().and_then(|f| f.backend_protocol);
            if let Some(fp) = want_fp.filter(|fp| Some(*fp) != cur_fp) {
                m.insert("ForwardProtocol".into(), Value::from(backend_word(fp)));
                fields.push("forwarding.backend_protocol".into());
            }
            let want_certs = desired.server_certificates();
            if !want_certs.is_empty() && want_certs != cur.server_certificates() {
                let id = aliases
                    .certificate_ids(want_certs)
                    .into_iter()
                    .next()
                    .unwrap_or_default();
                m.insert("CertificateId".into(), Value::from(id));
                fields.push("tls.certificates".into());
            }
            if let (Some(want), Some(have)) = (desired.client_auth(), cur.client_auth()) {
                if want.ca_certificates != have.ca_certificates {
                    rule_auth_type_matches_client_cas(1, &want.ca_certificates, &mut r);
                    m.insert(
                        "PolyClientCertificateIds".into(),
                        Value::from(aliases.certificate_ids(&want.ca_certificates)),
                    );
                    fields.push("tls.client_auth.ca_certificates".into());
                }
            }
            if !fields.is_empty() {
                rule_https_modify_not_on_group(instance, &mut r);
            }
            // SetTlsVersion works on groups too (Terraform calls it for
            // both), so it is left out of the group rule above.
            let want_policy = desired.tls.as_ref().and_then(|t| t.policy.as_deref());
            let cur_policy = cur.tls.as_ref().and_then(|t| t.policy.as_deref());
            if let Some(choice) = want_policy.filter(|p| Some(*p) != cur_policy).and_then(tls_choice) {
                tls = Some(set_tls_version_params(&current.id.0, &choice));
                fields.push("tls.policy".into());
            }
        }
        GaapProtocol::Tcp | GaapProtocol::Udp => {
            instance.insert_into(&mut m);
            if name_changed {
                m.insert("ListenerName".into(), Value::from(marked_name.clone()));
                fields.push("name".into());
            }
            let cur_opts = GaapOptions::of(cur).unwrap_or_default();
            let want_opts = GaapOptions::of(desired).unwrap_or_default();
            if let Some(s) = desired.scheduler.filter(|s| Some(*s) != cur.scheduler) {
                rule_domain_scheduler_on_modify(cur_opts.real_server_type(), Some(s), &mut r);
                m.insert("Scheduler".into(), Value::from(scheduler_word(s)));
                fields.push("scheduler".into());
            }
            if let Some(f) = want_opts
                .failover_switch
                .filter(|f| Some(*f) != cur_opts.failover_switch)
            {
                let effective = GaapOptions {
                    real_server_type: cur_opts.real_server_type,
                    failover_switch: Some(f),
                };
                rule_failover_not_with_domain(&effective, &mut r);
                m.insert("FailoverSwitch".into(), Value::from(u8::from(f)));
                fields.push(format!("extensions.{API}.failover_switch"));
            }
            if let Some(want) = &desired.health_check {
                health_changes(protocol, cur.health_check.as_ref(), want, &mut m, &mut fields, &mut r);
            }
        }
    }
    r.into_result()?;
    if fields.is_empty() {
        return Ok(None);
    }
    Ok(Some(ModifyPlan {
        action: protocol.modify_action(),
        params: Value::Object(m),
        fields,
        tls,
    }))
}

/// The health-check part of a layer-4 modify, with the rules on the values
/// in effect afterwards.
fn health_changes(
    protocol: GaapProtocol,
    have: Option<&HealthCheck>,
    want: &HealthCheck,
    m: &mut Map<String, Value>,
    fields: &mut Vec<String>,
    r: &mut Rejections,
) {
    let changed = |w: Option<u32>, h: Option<u32>| w.filter(|w| Some(*w) != h);
    if have.map(|h| h.enabled) != Some(want.enabled) {
        m.insert("HealthCheck".into(), Value::from(u8::from(want.enabled)));
        fields.push("health_check.enabled".into());
    }
    let numeric = [
        (
            "DelayLoop",
            "health_check.interval_secs",
            want.interval_secs,
            have.and_then(|h| h.interval_secs),
        ),
        (
            "ConnectTimeout",
            "health_check.timeout_secs",
            want.timeout_secs,
            have.and_then(|h| h.timeout_secs),
        ),
        (
            "HealthyThreshold",
            "health_check.healthy_threshold",
            want.healthy_threshold,
            have.and_then(|h| h.healthy_threshold),
        ),
        (
            "UnhealthyThreshold",
            "health_check.unhealthy_threshold",
            want.unhealthy_threshold,
            have.and_then(|h| h.unhealthy_threshold),
        ),
    ];
    for (param, path, w, h) in numeric {
        if let Some(v) = changed(w, h) {
            m.insert(param.into(), Value::from(v));
            fields.push(path.into());
        }
    }
    let delay = want.interval_secs.or(have.and_then(|h| h.interval_secs));
    let timeout = want.timeout_secs.or(have.and_then(|h| h.timeout_secs));
    if want.interval_secs.is_some() || want.timeout_secs.is_some() {
        rule_connect_timeout_below_delay_loop(delay, timeout, r);
    }
    if protocol != GaapProtocol::Udp {
        return;
    }
    let have_kind = have.and_then(|h| h.kind);
    if let Some(k) = want.kind.filter(|k| Some(*k) != have_kind) {
        let word = if k == HealthCheckKind::Ping { "PING" } else { "PORT" };
        m.insert("CheckType".into(), Value::from(word));
        fields.push("health_check.kind".into());
    }
    let kind = want.kind.or(have_kind);
    let mut port_fields = false;
    if let Some(p) = changed(want.port, have.and_then(|h| h.port)) {
        m.insert("CheckPort".into(), Value::from(p));
        fields.push("health_check.port".into());
        port_fields = true;
    }
    if let Some(c) = &want.custom {
        let have_c = have.and_then(|h| h.custom.as_ref());
        let send_changed = c.send.is_some() && c.send.as_ref() != have_c.and_then(|h| h.send.as_ref());
        let recv_changed = c.expect.is_some() && c.expect.as_ref() != have_c.and_then(|h| h.expect.as_ref());
        if send_changed || recv_changed {
            m.insert("ContextType".into(), Value::from(CONTEXT_TYPE_TEXT));
            port_fields = true;
        }
        if send_changed {
            m.insert("SendContext".into(), Value::from(c.send.clone()));
            fields.push("health_check.custom.send".into());
        }
        if recv_changed {
            m.insert("RecvContext".into(), Value::from(c.expect.clone()));
            fields.push("health_check.custom.expect".into());
        }
    }
    rule_ping_has_no_port_fields(kind, port_fields, r);
}

#[cfg(test)]
mod tests {
    use super::*;
    use listener_core::mark::DEFAULT_OWNER;
    use listener_core::{PortEntry, PortRange, SessionPersistence, Timeouts};
    use serde_json::json;

    fn profile() -> ProfileConfig {
        let mut p = ProfileConfig::new(API, "link-test0001");
        for (a, id) in [
            ("web", "cert-web"),
            ("web2", "cert-web2"),
            ("ca1", "cert-ca1"),
            ("ca2", "cert-ca2"),
        ] {
            p.aliases.certificates.insert(a.into(), id.into());
        }
        p
    }

    fn https(port: u32) -> ListenerSpec {
        let mut s = ListenerSpec::new("web", Protocol::Https, Ports::Single(port));
        s.tls = Some(Tls {
            certificates: vec!["web".into()],
            policy: None,
            http2: None,
            http3: None,
            sni: None,
            client_auth: None,
        });
        s.forwarding = Some(Forwarding {
            backend_protocol: Some(BackendProtocol::Http),
            default_target: None,
        });
        s
    }

    fn tcp(ports: Ports) -> ListenerSpec {
        ListenerSpec::new("l4", Protocol::Tcp, ports)
    }

    fn udp(port: u32) -> ListenerSpec {
        ListenerSpec::new("dns", Protocol::Udp, Ports::Single(port))
    }

    fn hc() -> HealthCheck {
        HealthCheck {
            enabled: true,
            kind: None,
            interval_secs: None,
            timeout_secs: None,
            healthy_threshold: None,
            unhealthy_threshold: None,
            port: None,
            http: None,
            custom: None,
        }
    }

    fn rejected(spec: &ListenerSpec) -> Vec<(String, &'static str)> {
        check(&profile(), spec).into_iter().map(|r| (r.field, r.rule)).collect()
    }

    #[track_caller]
    fn assert_rejects(spec: &ListenerSpec, field: &str, rule: &str) {
        let got = rejected(spec);
        assert!(
            got.iter().any(|(f, r)| f == field && *r == rule),
            "expected {field} [{rule}], got {got:?}"
        );
    }

    #[test]
    fn accepts_plain_specs_of_every_gaap_protocol() {
        for spec in [
            ListenerSpec::new("h", Protocol::Http, Ports::Single(80)),
            https(443),
            tcp(Ports::List(vec![PortEntry::Port(80), PortEntry::Port(81)])),
            udp(53),
        ] {
            assert_eq!(rejected(&spec), vec![], "{spec:?}");
        }
    }

    #[test]
    fn names_carry_the_owner_mark_and_read_back_without_it() {
        let mut p = profile();
        p.owner = Some("team-a".into());
        let s = tcp(Ports::Single(80));
        let plan = CreatePlan::from_spec(&p, &s).expect("valid");
        let params = &plan.calls(&Instance::Connection("link-1".into()))[0].params;
        assert_eq!(params["ListenerName"], json!(format!("{}--lctl_team-a", s.name)));
        let record =
            json!({"ListenerId": "listener-1", "ListenerName": format!("{}--lctl_team-a", s.name), "Port": 80});
        let l = record_to_listener(GaapProtocol::Tcp, &record, &p.aliases, "link-1").expect("record");
        assert_eq!(l.spec.name, s.name);
        assert_eq!(l.owner.as_deref(), Some("team-a"));
        let hand = json!({"ListenerId": "listener-2", "ListenerName": "by-hand", "Port": 81});
        let l = record_to_listener(GaapProtocol::Tcp, &hand, &p.aliases, "link-1").expect("record");
        assert_eq!((l.spec.name.as_str(), l.owner), ("by-hand", None));
    }

    #[test]
    fn a_rename_keeps_the_mark() {
        let inst = Instance::Connection("link-1".into());
        let record = json!({"ListenerId": "listener-1", "ListenerName": "web--lctl_team-a", "Port": 80,
            "ListenerStatus": 0, "Protocol": "HTTP"});
        let current = record_to_listener(GaapProtocol::Http, &record, &Aliases::default(), "link-1").expect("record");
        let mut desired = current.spec.clone();
        desired.name = "site".into();
        let plan = modify_plan(
            GaapProtocol::Http,
            &inst,
            &current,
            &desired,
            &Aliases::default(),
            "team-a",
        )
        .expect("ok")
        .expect("a change");
        assert_eq!(plan.params["ListenerName"], json!("site--lctl_team-a"), "{plan:?}");
    }

    #[test]
    fn warns_of_a_layer4_name_too_long_with_its_mark_and_sends_it() {
        let mut p = profile();
        p.owner = Some("team-a".into());
        // 30 characters in all: 17 of the name and 13 of the mark.
        let mut s = tcp(Ports::Single(80));
        s.name = "n".repeat(17);
        let c = check_with_warnings(&p, &s);
        assert!(c.rejections.is_empty() && c.warnings.is_empty(), "{c:?}");
        // Only Terraform states the 30: a warning, never a refusal.
        s.name = "n".repeat(18);
        let c = check_with_warnings(&p, &s);
        assert!(c.rejections.is_empty(), "{c:?}");
        assert!(
            c.warnings
                .iter()
                .any(|w| w.field == "name" && w.rule == INVALID_PARAMETER_VALUE),
            "{c:?}"
        );
        // The default owner's mark is 6 characters: 24 are left.
        let c = check_with_warnings(&profile(), &tcp_named(&"n".repeat(24)));
        assert!(c.warnings.is_empty(), "{c:?}");
        // Layer 7 names have no documented bound here.
        let mut h = https(443);
        h.name = "n".repeat(40);
        assert!(check_with_warnings(&p, &h).warnings.is_empty());
    }

    fn tcp_named(name: &str) -> ListenerSpec {
        let mut s = tcp(Ports::Single(80));
        s.name = name.to_string();
        s
    }

    #[test]
    fn rejects_a_name_that_would_read_back_as_marked() {
        let mut s = tcp(Ports::Single(80));
        s.name = "a--lctl_b".into();
        let r = check(&profile(), &s);
        assert!(
            r.iter().any(|r| r.field == "name" && r.rule == INVALID_PARAMETER_VALUE),
            "{r:?}"
        );
    }

    #[test]
    fn accepts_default_target_without_sending_it() {
        let mut p = profile();
        p.aliases.targets.insert("pool".into(), "origin-pool-1".into());
        let mut s = https(443);
        if let Some(f) = s.forwarding.as_mut() {
            f.default_target = Some("pool".into());
        }
        assert!(check(&p, &s).is_empty());
        let plan = CreatePlan::from_spec(&p, &s).expect("valid");
        let params = &plan.calls(&Instance::Connection("link-1".into()))[0].params;
        assert!(!params.to_string().contains("origin-pool-1"));
        assert!(crate::capabilities().is_write_only("forwarding.default_target"));
    }

    #[test]
    fn routes_need_a_backend_not_a_mapped_default_target() {
        let mut p = profile();
        p.aliases.targets.insert("pool".into(), "origin-pool-1".into());
        let mut s = https(443);
        if let Some(f) = s.forwarding.as_mut() {
            f.default_target = Some("pool".into());
        }
        s.routes = vec![listener_core::Route::new("a.example.com", "/v1", "api")];
        let got = check(&p, &s);
        assert!(
            got.iter()
                .any(|r| r.field == "forwarding.default_target" && r.rule == crate::rules::MAPPED_BACKEND),
            "{got:?}"
        );
        if let Some(f) = s.forwarding.as_mut() {
            f.default_target = None;
        }
        s.backend = Some("web".into());
        assert!(check(&p, &s).is_empty(), "{:?}", check(&p, &s));
        s.routes.push(listener_core::Route::new("*.example.com", "/", "api"));
        assert!(check(&p, &s)
            .iter()
            .any(|r| r.field == "routes[1].host" && r.rule == crate::rules::EXACT_HOSTS));
        let mut tcp = ListenerSpec::new("db", Protocol::Tcp, Ports::Single(5432));
        tcp.forwarding = Some(Forwarding {
            backend_protocol: None,
            default_target: Some("pool".into()),
        });
        assert!(check(&p, &tcp)
            .iter()
            .any(|r| r.field == "forwarding.default_target" && r.rule == crate::rules::MAPPED_BACKEND));
    }

    #[test]
    fn rejects_instance_that_is_neither_connection_nor_group() {
        let p = ProfileConfig::new(API, "lb-123");
        let got: Vec<_> = check(&p, &udp(53)).into_iter().map(|r| (r.field, r.rule)).collect();
        assert_eq!(got, vec![("instance".to_string(), MISSING_PARAMETER)]);
    }

    #[test]
    fn rejects_quic_and_tcp_ssl() {
        let mut s = https(443);
        s.protocol = Protocol::Quic;
        assert_rejects(&s, "protocol", "protocol_unsupported");
        s.protocol = Protocol::TcpSsl;
        assert_rejects(&s, "protocol", "protocol_unsupported");
    }

    #[test]
    fn rejects_port_ranges() {
        let s = tcp(Ports::List(vec![
            PortEntry::Port(80),
            PortEntry::Range(PortRange { from: 8000, to: 8010 }),
        ]));
        assert_rejects(&s, "ports[1]", INVALID_PARAMETER_VALUE);
        assert_rejects(
            &tcp(Ports::Range(PortRange { from: 1, to: 2 })),
            "ports",
            INVALID_PARAMETER_VALUE,
        );
    }

    #[test]
    fn rejects_repeated_ports_through_the_neutral_rule() {
        let s = tcp(Ports::List(vec![PortEntry::Port(80), PortEntry::Port(80)]));
        assert_rejects(&s, "ports[1]", "invalid_spec");
    }

    #[test]
    fn more_than_fifty_ports_in_one_spec_are_a_warning_not_a_refusal() {
        let s = tcp(Ports::List((1000..1051).map(PortEntry::Port).collect()));
        assert_eq!(rejected(&s), vec![]);
        assert_eq!(listener_quota_warnings(std::slice::from_ref(&s)).len(), 1);
        let alone = check_with_warnings(&profile(), &s).warnings;
        let got: Vec<_> = alone.iter().map(|w| (w.field.as_str(), w.rule)).collect();
        assert_eq!(got, vec![("ports", LIMIT_NUM_OF_LISTENER)]);
        let ok = tcp(Ports::List((1000..1050).map(PortEntry::Port).collect()));
        assert!(listener_quota_warnings(std::slice::from_ref(&ok)).is_empty());
        assert!(check_with_warnings(&profile(), &ok).warnings.is_empty());
    }

    #[test]
    fn rejects_description() {
        let mut s = udp(53);
        s.description = Some("x".into());
        assert_rejects(&s, "description", "description_unsupported");
    }

    #[test]
    fn rejects_access_which_gaap_keeps_per_proxy() {
        let mut s = udp(53);
        s.access = Some(listener_core::Access {
            mode: listener_core::AccessMode::Allow,
            cidrs: vec!["10.0.0.0/8".into()],
        });
        assert_rejects(&s, "access", "access_unsupported");
    }

    #[test]
    fn rejects_tags() {
        let mut s = udp(53);
        s.tags.insert("team".into(), "web".into());
        assert_rejects(&s, "tags", "tags_unsupported");
    }

    #[test]
    fn rejects_enabled_false_and_accepts_true() {
        let mut s = udp(53);
        s.enabled = Some(false);
        assert_rejects(&s, "enabled", "stop_start_unsupported");
        s.enabled = Some(true);
        assert!(rejected(&s).iter().all(|(f, _)| f != "enabled"));
    }

    #[test]
    fn rejects_session_persistence() {
        let mut s = udp(53);
        s.session_persistence = Some(SessionPersistence {
            by: Default::default(),
            timeout_secs: None,
        });
        assert_rejects(&s, "session_persistence", "session_persistence_unsupported");
    }

    #[test]
    fn rejects_timeouts() {
        let mut s = tcp(Ports::Single(80));
        s.timeouts = Some(Timeouts {
            idle_secs: Some(60),
            request_secs: None,
        });
        assert_rejects(&s, "timeouts", "timeouts_unsupported");
    }

    #[test]
    fn rejects_client_ip_outside_tcp() {
        let mut s = udp(53);
        s.client_ip = Some(ClientIp {
            mode: ClientIpMode::ProxyProtocol,
            headers: None,
        });
        assert_rejects(&s, "client_ip", "client_ip_tcp_only");
        let mut h = https(443);
        h.client_ip = Some(ClientIp {
            mode: ClientIpMode::Headers,
            headers: None,
        });
        assert_rejects(&h, "client_ip", "client_ip_tcp_only");
        let mut t = tcp(Ports::Single(80));
        t.client_ip = Some(ClientIp {
            mode: ClientIpMode::ProxyProtocol,
            headers: None,
        });
        assert_eq!(rejected(&t), vec![]);
    }

    #[test]
    fn rejects_scheduler_on_layer7() {
        let mut s = ListenerSpec::new("h", Protocol::Http, Ports::Single(80));
        s.scheduler = Some(Scheduler::RoundRobin);
        assert_rejects(&s, "scheduler", "scheduler_layer4_only");
    }

    #[test]
    fn rejects_health_check_on_layer7() {
        let mut s = https(443);
        s.health_check = Some(hc());
        assert_rejects(&s, "health_check", "health_check_layer4_only");
    }

    #[test]
    fn rejects_layer4_options_on_layer7() {
        let mut s = ListenerSpec::new("h", Protocol::Http, Ports::Single(80));
        s.extensions.insert(
            API,
            &GaapOptions {
                real_server_type: Some(RealServerType::Ip),
                failover_switch: Some(true),
            },
        );
        assert_rejects(&s, "extensions.tencent-gaap.real_server_type", "layer4_option");
        assert_rejects(&s, "extensions.tencent-gaap.failover_switch", "layer4_option");
    }

    #[test]
    fn rejects_unknown_extension_fields() {
        let mut s = tcp(Ports::Single(80));
        s.extensions.0.insert(API.into(), json!({"real_server_typ": "IP"}));
        assert_rejects(&s, "extensions.tencent-gaap", listener_core::EXTENSION_INVALID);
        // Other adapters' sections are not ours to judge.
        let mut s = tcp(Ports::Single(80));
        s.extensions.0.insert("alibaba-ga".into(), json!({"anything": 1}));
        assert_eq!(rejected(&s), vec![]);
    }

    #[test]
    fn rejects_forward_protocol_on_http() {
        let mut s = ListenerSpec::new("h", Protocol::Http, Ports::Single(80));
        s.forwarding = Some(Forwarding {
            backend_protocol: Some(BackendProtocol::Https),
            default_target: None,
        });
        assert_rejects(&s, "forwarding.backend_protocol", "forward_protocol_https_only");
    }

    #[test]
    fn rejects_https_without_forward_protocol() {
        let mut s = https(443);
        s.forwarding = None;
        assert_rejects(&s, "forwarding.backend_protocol", MISSING_PARAMETER);
    }

    #[test]
    fn rejects_https_without_certificate() {
        let mut s = https(443);
        if let Some(t) = s.tls.as_mut() {
            t.certificates.clear();
            t.sni = Some(true);
        }
        assert_rejects(&s, "tls.certificates", MISSING_PARAMETER);
        assert_rejects(&s, "tls.sni", "sni_unsupported");
    }

    #[test]
    fn accepts_sni_false_which_every_gaap_listener_is() {
        let mut s = https(443);
        if let Some(t) = s.tls.as_mut() {
            t.sni = Some(false);
        }
        assert!(check(&profile(), &s).is_empty(), "{:?}", check(&profile(), &s));
    }

    #[test]
    fn rejects_several_server_certificates() {
        let mut s = https(443);
        if let Some(t) = s.tls.as_mut() {
            t.certificates.push("web2".into());
        }
        assert_rejects(&s, "tls.certificates", "single_server_certificate");
    }

    #[test]
    fn rejects_http2_switch_and_a_tls_policy_gaap_cannot_choose() {
        let mut s = https(443);
        if let Some(t) = s.tls.as_mut() {
            t.http2 = Some(true);
            t.policy = Some("tls-1-2".into());
        }
        assert_rejects(&s, "tls.http2", "http2_unsupported");
        assert_rejects(&s, "tls.policy", INVALID_PARAMETER_VALUE);
        for bad in [
            "TLSv1.2:GAAP_TLS_CIPHERS_BOGUS",
            "TLSv1.4:GAAP_TLS_CIPHERS_STRICT",
            "GAAP_TLS_CIPHERS_STRICT",
        ] {
            s.tls.as_mut().unwrap().policy = Some(bad.into());
            assert_rejects(&s, "tls.policy", INVALID_PARAMETER_VALUE);
        }
    }

    /// SetTlsVersion exists (SDK model, Terraform's `tls_support_versions`
    /// and `tls_ciphers`): a GAAP choice is accepted offline, whatever the
    /// connection offers, which only its description tells at run time.
    #[test]
    fn accepts_a_tls_policy_naming_a_minimum_version_and_cipher_family() {
        let mut s = https(443);
        s.tls.as_mut().unwrap().policy = Some("TLSv1.2:GAAP_TLS_CIPHERS_STRICT".into());
        assert!(check(&profile(), &s).is_empty(), "{:?}", check(&profile(), &s));
        let choice = tls_choice("TLSv1.2:GAAP_TLS_CIPHERS_STRICT").expect("choice");
        assert_eq!(choice.versions, vec!["TLSv1.2", "TLSv1.3"]);
        assert_eq!(
            set_tls_version_params("listener-1", &choice),
            json!({"ListenerId": "listener-1", "TLSSupportVersion": ["TLSv1.2", "TLSv1.3"],
                   "TLSCiphers": "GAAP_TLS_CIPHERS_STRICT"})
        );
        assert_eq!(choice.policy_name(), "TLSv1.2:GAAP_TLS_CIPHERS_STRICT");
    }

    #[test]
    fn tls_choice_is_read_back_as_the_same_policy_name() {
        let record = json!({"ListenerId": "listener-1", "ListenerName": "h", "Port": 443, "ListenerStatus": 0,
            "CertificateId": "cert-1", "ForwardProtocol": "HTTP", "AuthType": 0,
            "TLSSupportVersion": ["TLSv1.3", "TLSv1.2"], "TLSCiphers": "GAAP_TLS_CIPHERS_STRICT"});
        let l = record_to_listener(GaapProtocol::Https, &record, &Aliases::default(), "link-1").expect("record");
        assert_eq!(
            l.spec.tls.as_ref().and_then(|t| t.policy.as_deref()),
            Some("TLSv1.2:GAAP_TLS_CIPHERS_STRICT")
        );
        let mut odd = record.clone();
        odd["TLSSupportVersion"] = json!(["TLSv1", "TLSv1.2"]);
        let l = record_to_listener(GaapProtocol::Https, &odd, &Aliases::default(), "link-1").expect("record");
        assert_eq!(
            l.spec.tls.and_then(|t| t.policy).as_deref(),
            Some("TLSv1,TLSv1.2:GAAP_TLS_CIPHERS_STRICT"),
            "a set no policy makes is spelled out, so it plans as a change"
        );
    }

    #[test]
    fn tls_policy_change_is_a_set_tls_version_call_also_on_groups() {
        let record = json!({"ListenerId": "listener-1", "ListenerName": "h", "Port": 443, "ListenerStatus": 0,
            "CertificateId": "cert-1", "ForwardProtocol": "HTTP", "AuthType": 0,
            "TLSSupportVersion": ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"], "TLSCiphers": "GAAP_TLS_CIPHERS_WIDE"});
        let current = record_to_listener(GaapProtocol::Https, &record, &Aliases::default(), "lg-1").expect("record");
        let mut desired = current.spec.clone();
        desired.tls.as_mut().unwrap().policy = Some("TLSv1.2:GAAP_TLS_CIPHERS_GENERAL".into());
        let inst = Instance::Group("lg-1".into());
        let plan = modify_plan(
            GaapProtocol::Https,
            &inst,
            &current,
            &desired,
            &Aliases::default(),
            DEFAULT_OWNER,
        )
        .expect("not refused on a group")
        .expect("a change");
        assert!(!plan.modifies_attributes());
        assert_eq!(plan.fields, vec!["tls.policy".to_string()]);
        assert_eq!(
            plan.tls,
            Some(
                json!({"ListenerId": "listener-1", "TLSSupportVersion": ["TLSv1.2", "TLSv1.3"],
                        "TLSCiphers": "GAAP_TLS_CIPHERS_GENERAL"})
            )
        );
    }

    #[test]
    fn tls_choice_is_refused_only_where_the_instance_says_it_has_none() {
        let mut s = https(443);
        s.tls.as_mut().unwrap().policy = Some("TLSv1.2:GAAP_TLS_CIPHERS_STRICT".into());
        let link = Instance::Connection("link-1".into());
        let answer = |v: Value| json!({"TotalCount": 1, "ProxySet": [{"ProxyId": "link-1", "IsSupportTLSChoice": v}]});
        for (v, supported, refused) in [
            (json!(1), Some(true), false),
            (json!(0), Some(false), true),
            (Value::Null, None, false),
        ] {
            let got = tls_choice_supported(&link, &answer(v));
            assert_eq!(got, supported);
            let mut r = Rejections::new(API);
            rule_tls_choice_offered(&s, got, &mut r);
            let list = r.into_vec();
            assert_eq!(
                list.iter()
                    .any(|x| x.field == "tls.policy" && x.rule == TLS_CHOICE_UNSUPPORTED),
                refused
            );
        }
        let group = json!({"ProxyGroupDetail": {"GroupId": "lg-1", "IsSupportTLSChoice": 0}});
        assert_eq!(
            tls_choice_supported(&Instance::Group("lg-1".into()), &group),
            Some(false)
        );
    }

    #[test]
    fn rejects_optional_client_verification() {
        let mut s = https(443);
        if let Some(t) = s.tls.as_mut() {
            t.client_auth = Some(ClientAuth {
                verify: ClientVerify::Optional,
                ca_certificates: vec!["ca1".into()],
            });
        }
        assert_rejects(&s, "tls.client_auth.verify", INVALID_PARAMETER_VALUE);
    }

    #[test]
    fn rejects_mutual_auth_without_ca() {
        let mut s = https(443);
        if let Some(t) = s.tls.as_mut() {
            t.client_auth = Some(ClientAuth {
                verify: ClientVerify::Required,
                ca_certificates: vec![],
            });
        }
        assert_rejects(&s, "tls.client_auth.ca_certificates", MISSING_PARAMETER);
    }

    #[test]
    fn rejects_client_cas_with_one_way_auth() {
        let mut r = Rejections::new(API);
        rule_auth_type_matches_client_cas(0, &["cert-ca1".to_string()], &mut r);
        let got: Vec<_> = r.into_vec().into_iter().map(|r| (r.field, r.rule)).collect();
        assert_eq!(
            got,
            vec![("tls.client_auth.ca_certificates".to_string(), CONFLICT_PARAMETERS)]
        );
        let mut ok = Rejections::new(API);
        rule_auth_type_matches_client_cas(1, &["a".into(), "b".into()], &mut ok);
        rule_auth_type_matches_client_cas(0, &[], &mut ok);
        assert!(ok.into_vec().is_empty());
    }

    #[test]
    fn rejects_http3_on_non_https_through_the_neutral_rule() {
        let mut s = ListenerSpec::new("h", Protocol::Http, Ports::Single(80));
        s.tls = https(80).tls;
        if let Some(t) = s.tls.as_mut() {
            t.http3 = Some(true);
        }
        assert_rejects(&s, "tls", "invalid_spec");
    }

    #[test]
    fn rejects_delay_loop_outside_5_to_300() {
        let mut s = tcp(Ports::Single(80));
        s.health_check = Some(HealthCheck {
            interval_secs: Some(4),
            ..hc()
        });
        assert_rejects(&s, "health_check.interval_secs", INVALID_PARAMETER_VALUE);
        s.health_check = Some(HealthCheck {
            interval_secs: Some(5),
            ..hc()
        });
        assert_eq!(rejected(&s), vec![]);
    }

    #[test]
    fn rejects_connect_timeout_outside_2_to_60() {
        let mut s = udp(53);
        s.health_check = Some(HealthCheck {
            timeout_secs: Some(1),
            ..hc()
        });
        assert_rejects(&s, "health_check.timeout_secs", INVALID_PARAMETER_VALUE);
    }

    #[test]
    fn rejects_connect_timeout_not_below_delay_loop() {
        let mut s = tcp(Ports::Single(80));
        s.health_check = Some(HealthCheck {
            interval_secs: Some(10),
            timeout_secs: Some(10),
            ..hc()
        });
        // In one spec the neutral rule reports it.
        assert_rejects(&s, "health_check.timeout_secs", "invalid_spec");
        // Against the values in effect after an update, GAAP's rule does.
        let mut r = Rejections::new(API);
        rule_connect_timeout_below_delay_loop(Some(10), Some(10), &mut r);
        rule_connect_timeout_below_delay_loop(Some(10), None, &mut r);
        let got: Vec<_> = r.into_vec().into_iter().map(|r| (r.field, r.rule)).collect();
        assert_eq!(
            got,
            vec![("health_check.timeout_secs".to_string(), INVALID_PARAMETER_VALUE)]
        );
    }

    #[test]
    fn rejects_thresholds_outside_1_to_10_through_the_neutral_rule() {
        let mut s = tcp(Ports::Single(80));
        s.health_check = Some(HealthCheck {
            healthy_threshold: Some(11),
            unhealthy_threshold: Some(0),
            ..hc()
        });
        assert_rejects(&s, "health_check.healthy_threshold", "invalid_spec");
        assert_rejects(&s, "health_check.unhealthy_threshold", "invalid_spec");
    }

    #[test]
    fn rejects_http_or_payload_probe_on_tcp() {
        let mut s = tcp(Ports::Single(80));
        s.health_check = Some(HealthCheck {
            kind: Some(HealthCheckKind::Custom),
            ..hc()
        });
        assert_rejects(&s, "health_check.kind", "tcp_check_kind");
    }

    #[test]
    fn rejects_probe_port_on_tcp() {
        let mut s = tcp(Ports::Single(80));
        s.health_check = Some(HealthCheck {
            port: Some(8080),
            ..hc()
        });
        assert_rejects(&s, "health_check.port", "check_port_udp_only");
    }

    #[test]
    fn rejects_port_fields_with_ping_as_meaningless_not_as_a_vendor_code() {
        let mut s = udp(53);
        s.health_check = Some(HealthCheck {
            kind: Some(HealthCheckKind::Ping),
            port: Some(53),
            ..hc()
        });
        assert_rejects(&s, "health_check.port", PORT_FIELDS_NEED_PORT_CHECK);
        s.health_check = Some(HealthCheck {
            kind: Some(HealthCheckKind::Custom),
            port: Some(53),
            ..hc()
        });
        assert_eq!(rejected(&s), vec![]);
    }

    #[test]
    fn rejects_failover_with_domain_origins() {
        let mut s = tcp(Ports::Single(80));
        s.extensions.insert(
            API,
            &GaapOptions {
                real_server_type: Some(RealServerType::Domain),
                failover_switch: Some(true),
            },
        );
        assert_rejects(&s, "extensions.tencent-gaap.failover_switch", CONFLICT_PARAMETERS);
    }

    #[test]
    fn rejects_weighted_or_latency_scheduler_with_domain_on_modify() {
        for (s, bad) in [
            (Scheduler::WeightedRoundRobin, true),
            (Scheduler::LeastLatency, true),
            (Scheduler::RoundRobin, false),
            (Scheduler::LeastConnections, false),
        ] {
            let mut r = Rejections::new(API);
            rule_domain_scheduler_on_modify(RealServerType::Domain, Some(s), &mut r);
            rule_domain_scheduler_on_modify(RealServerType::Ip, Some(s), &mut r);
            let got: Vec<_> = r.into_vec().into_iter().map(|r| (r.field, r.rule)).collect();
            let want = if bad {
                vec![("scheduler".to_string(), CONFLICT_PARAMETERS)]
            } else {
                vec![]
            };
            assert_eq!(got, want, "{s:?}");
        }
    }

    #[test]
    fn rejects_https_modify_on_groups() {
        let mut r = Rejections::new(API);
        rule_https_modify_not_on_group(&Instance::Group("lg-1".into()), &mut r);
        rule_https_modify_not_on_group(&Instance::Connection("link-1".into()), &mut r);
        let got: Vec<_> = r.into_vec().into_iter().map(|r| (r.field, r.rule)).collect();
        assert_eq!(got, vec![("instance".to_string(), NOT_SUPPORT_PROXY_GROUP)]);
    }

    #[test]
    fn check_set_rejects_udp_on_an_http3_port_and_back() {
        let mut h3 = https(443);
        if let Some(t) = h3.tls.as_mut() {
            t.http3 = Some(true);
        }
        let got = check_set(&profile(), &[h3.clone(), udp(443)]);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(
            (got[0].0, got[0].1.field.as_str(), got[0].1.rule),
            (1, "ports", DUPLICATED_LISTENER_PORT)
        );
        let got = check_set(&profile(), &[udp(443), h3]);
        assert_eq!((got[0].0, got[0].1.rule), (1, DUPLICATED_LISTENER_PORT));
        // Without HTTP3, HTTPS and UDP live in different spaces.
        assert!(check_set(&profile(), &[https(443), udp(443)]).is_empty());
    }

    #[test]
    fn check_set_rejects_http_https_tcp_sharing_a_port() {
        let got = check_set(
            &profile(),
            &[
                ListenerSpec::new("h", Protocol::Http, Ports::Single(80)),
                tcp(Ports::List(vec![PortEntry::Port(81), PortEntry::Port(80)])),
            ],
        );
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].0, got[0].1.field.as_str(), got[0].1.rule),
            (1, "ports[1]", DUPLICATED_LISTENER_PORT)
        );
    }

    #[test]
    fn check_set_warns_past_fifty_listeners_and_does_not_refuse() {
        let a = tcp(Ports::List((1000..1030).map(PortEntry::Port).collect()));
        let mut b = udp(0);
        b.ports = Ports::List((2000..2021).map(PortEntry::Port).collect());
        let specs = [a, b];
        assert_eq!(check_set(&profile(), &specs), vec![]);
        let warned = check_set_with_warnings(&profile(), &specs).warnings;
        let got: Vec<_> = warned.iter().map(|(i, w)| (*i, w.field.as_str(), w.rule)).collect();
        assert_eq!(got, vec![(1, "listeners", LIMIT_NUM_OF_LISTENER)]);
    }

    #[test]
    fn https_mutual_with_two_cas_and_http3_becomes_gaap_parameters() {
        let mut s = https(443);
        if let Some(t) = s.tls.as_mut() {
            t.http3 = Some(true);
            t.client_auth = Some(ClientAuth {
                verify: ClientVerify::Required,
                ca_certificates: vec!["ca1".into(), "ca2".into()],
            });
        }
        let plan = CreatePlan::from_spec(&profile(), &s).expect("valid");
        let calls = plan.calls(&Instance::Connection("link-test0001".into()));
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].action, "CreateHTTPSListener");
        assert_eq!(
            calls[0].params,
            json!({
                "ListenerName": "web--lctl", "ProxyId": "link-test0001", "Port": 443,
                "CertificateId": "cert-web", "ForwardProtocol": "HTTP", "AuthType": 1,
                "PolyClientCertificateIds": ["cert-ca1", "cert-ca2"], "Http3Supported": 1
            })
        );
    }

    #[test]
    fn tcp_with_two_ports_is_one_call_on_a_group() {
        let mut s = tcp(Ports::List(vec![PortEntry::Port(80), PortEntry::Port(81)]));
        s.client_ip = Some(ClientIp {
            mode: ClientIpMode::ProxyProtocol,
            headers: None,
        });
        s.health_check = Some(HealthCheck {
            interval_secs: Some(10),
            timeout_secs: Some(3),
            ..hc()
        });
        let mut p = profile();
        p.instance = "lg-g1".into();
        let plan = CreatePlan::from_spec(&p, &s).expect("valid");
        let calls = plan.calls(&Instance::Group("lg-g1".into()));
        assert_eq!(calls.len(), 1);
        assert_eq!(
            calls[0].params,
            json!({
                "ListenerName": "l4--lctl", "GroupId": "lg-g1", "Ports": [80, 81], "Scheduler": "wrr",
                "RealServerType": "IP", "HealthCheck": 1, "DelayLoop": 10, "ConnectTimeout": 3,
                "ClientIPMethod": 1
            })
        );
    }

    #[test]
    fn udp_custom_probe_is_a_port_check_with_text_payloads() {
        let mut s = udp(53);
        s.health_check = Some(HealthCheck {
            kind: Some(HealthCheckKind::Custom),
            port: Some(5353),
            custom: Some(CustomHealthCheck {
                send: Some("ping".into()),
                expect: Some("pong".into()),
            }),
            ..hc()
        });
        let plan = CreatePlan::from_spec(&profile(), &s).expect("valid");
        let params = &plan.calls(&Instance::Connection("link-1".into()))[0].params;
        assert_eq!(params["CheckType"], "PORT");
        assert_eq!(params["CheckPort"], 5353);
        assert_eq!(params["ContextType"], "TEXT");
        assert_eq!(params["SendContext"], "ping");
        assert_eq!(params["RecvContext"], "pong");
    }

    #[test]
    fn read_back_of_what_was_sent_plans_no_change() {
        let mut s = https(443);
        if let Some(t) = s.tls.as_mut() {
            t.http3 = Some(true);
            t.client_auth = Some(ClientAuth {
                verify: ClientVerify::Required,
                ca_certificates: vec!["ca1".into(), "ca2".into()],
            });
        }
        let record = json!({
            "ListenerId": "listener-1", "ListenerName": "web", "Port": 443, "Protocol": "HTTPS",
            "ListenerStatus": 0, "CertificateId": "cert-web", "ForwardProtocol": "HTTP", "AuthType": 1,
            "PolyClientCertificateAliasInfo": [{"CertificateId": "cert-ca1"}, {"CertificateId": "cert-ca2"}],
            "Http3Supported": 1, "ProxyId": "link-test0001", "GroupId": null
        });
        let l = record_to_listener(GaapProtocol::Https, &record, &profile().aliases, "link-test0001").expect("record");
        assert_eq!(l.status, ListenerStatus::Running);
        let caps = crate::capabilities();
        assert!(listener_core::plan_change(&caps, &l.spec, &s).is_empty());

        let mut t = udp(53);
        t.scheduler = Some(Scheduler::LeastConnections);
        t.health_check = Some(HealthCheck {
            kind: Some(HealthCheckKind::Ping),
            interval_secs: Some(10),
            ..hc()
        });
        t.extensions.insert(
            API,
            &GaapOptions {
                real_server_type: Some(RealServerType::Ip),
                failover_switch: None,
            },
        );
        let record = json!({
            "ListenerId": "listener-2", "ListenerName": "dns", "Port": "53", "ListenerStatus": 1,
            "Scheduler": "lc", "RealServerType": "IP", "HealthCheck": 1, "DelayLoop": 10, "ConnectTimeout": 2,
            "HealthyThreshold": 3, "UnhealthyThreshold": 3, "FailoverSwitch": 0, "CheckType": "PING"
        });
        let l = record_to_listener(GaapProtocol::Udp, &record, &profile().aliases, "link-test0001").expect("record");
        assert_eq!(l.status, ListenerStatus::Creating);
        assert!(listener_core::plan_change(&caps, &l.spec, &t).is_empty());
    }

    #[test]
    fn modify_sends_only_changed_mutable_fields() {
        let record = json!({
            "ListenerId": "listener-3", "ListenerName": "l4", "Port": 80, "ListenerStatus": 0,
            "Scheduler": "rr", "RealServerType": "DOMAIN", "HealthCheck": 1, "DelayLoop": 10, "ConnectTimeout": 5,
            "HealthyThreshold": 3, "UnhealthyThreshold": 3, "FailoverSwitch": 0, "ClientIPMethod": 0
        });
        let current = record_to_listener(GaapProtocol::Tcp, &record, &Aliases::default(), "link-1").expect("record");
        let inst = Instance::Connection("link-1".into());
        let mut desired = tcp(Ports::Single(80));
        desired.scheduler = Some(Scheduler::LeastConnections);
        let plan = modify_plan(
            GaapProtocol::Tcp,
            &inst,
            &current,
            &desired,
            &Aliases::default(),
            DEFAULT_OWNER,
        )
        .expect("ok")
        .expect("a change");
        assert_eq!(plan.action, "ModifyTCPListenerAttribute");
        assert_eq!(
            plan.params,
            json!({"ListenerId": "listener-3", "ProxyId": "link-1", "Scheduler": "lc"})
        );
        assert_eq!(plan.fields, vec!["scheduler".to_string()]);

        // DOMAIN origins refuse wrr on modify.
        desired.scheduler = Some(Scheduler::WeightedRoundRobin);
        let err = modify_plan(
            GaapProtocol::Tcp,
            &inst,
            &current,
            &desired,
            &Aliases::default(),
            DEFAULT_OWNER,
        )
        .expect_err("refused");
        assert!(matches!(err, Error::Unsupported { ref rejections, .. } if rejections[0].rule == CONFLICT_PARAMETERS));

        // A timeout at or above the cloud's interval is refused.
        desired.scheduler = None;
        desired.health_check = Some(HealthCheck {
            timeout_secs: Some(10),
            ..hc()
        });
        let err = modify_plan(
            GaapProtocol::Tcp,
            &inst,
            &current,
            &desired,
            &Aliases::default(),
            DEFAULT_OWNER,
        )
        .expect_err("refused");
        assert!(matches!(err, Error::Unsupported { ref rejections, .. }
            if rejections[0].field == "health_check.timeout_secs" && rejections[0].rule == INVALID_PARAMETER_VALUE));

        // Nothing set that differs: no call.
        let same = tcp(Ports::Single(80));
        assert_eq!(
            modify_plan(
                GaapProtocol::Tcp,
                &inst,
                &current,
                &same,
                &Aliases::default(),
                DEFAULT_OWNER
            )
            .expect("ok"),
            None
        );
    }

    #[test]
    fn status_codes_map_to_neutral_states() {
        assert_eq!(status_of(Some(0)), ListenerStatus::Running);
        assert_eq!(status_of(Some(1)), ListenerStatus::Creating);
        assert_eq!(status_of(Some(2)), ListenerStatus::Deleting);
        assert_eq!(status_of(Some(3)), ListenerStatus::Updating);
        assert_eq!(status_of(Some(4)), ListenerStatus::Updating);
        assert_eq!(status_of(Some(9)), ListenerStatus::Other("9".into()));
    }
}
