//! Routes and backends on GAAP: the neutral rules of one listener as GAAP
//! domains and forwarding rules with origin servers bound per rule, or,
//! on a TCP/UDP listener, as the listener's own origin servers.
//!
//! **How a rule maps** (docs/routing.md, "Tencent GAAP"; facts from
//! `shared/vendors/routing.md`):
//! - a rule with host `H` and path `P` is the GAAP rule (`CreateRule`) of
//!   domain `H` (`CreateDomain`, made with the first rule of the host and
//!   deleted with its last) and `Path` `P`;
//! - the root rule (host `None`) of an HTTP/HTTPS listener is the rule `/`
//!   of the placeholder domain [`DEFAULT_DOMAIN`], made with
//!   `IsDefaultServer`: every host no domain has reaches it, and no real
//!   host lends its paths to unknown hosts;
//! - the root rule of a TCP/UDP listener is the listener's origin set
//!   (`BindListenerRealServers`); its ID is [`l4_rule_id`];
//! - a route's certificate is its domain's `CertificateId` (the alias
//!   resolved through the profile); rotation is one `ModifyCertificate`,
//!   so the host keeps a certificate throughout; no certificate is the
//!   listener's (`default`).
//!
//! **How a pool maps.** GAAP has no pool object: the rule's origin set is
//! the pool (`pools_on_rules`). An endpoint is an origin server of the
//! account (project 0) by address, made with `AddRealServers` under a name
//! carrying the owner's mark (`origin--lctl`) when none exists and reused
//! by address otherwise (GAAP keeps one server per address), bound with
//! its port and weight; `BindRuleRealServers` replaces the whole set. A
//! pool of IP addresses is a rule of `RealServerType` `IP` scheduled
//! `wrr` (weights count); a pool of domain names is `DOMAIN` with `rr`
//! (GAAP allows no `wrr` for domain origins). Origin servers this owner
//! made and no rule uses any more are removed (`RemoveRealServers`; one
//! still bound elsewhere is left, GAAP refuses it).
//!
//! **Ownership.** Rules and domains carry no mark; they are the rules of
//! a listener, which is proven on the bound connection or group
//! ([`listener_core::ownership::prove`]) before every write, each rule ID
//! then proven under it from `DescribeRules`. Rules read back are managed
//! when their listener carries this owner's name mark.
//!
//! What GAAP cannot express identically is refused by [`check_routes`]
//! and [`check_pool`] before any call.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use listener_core::ownership::{self, OwnedPart, PartOf};
use listener_core::{
    Endpoint, Error, HealthCheck, ListenerId, ListenerSpec, NewRule, Owned, Poll, PoolSpec, Protocol, Rejection,
    Rejections, ResourceId, Result, RouteSpec, Rule, RuleProvider, WaitOp,
};
use serde_json::{json, Value};

use crate::translate::{field_str, field_u64, GaapProtocol};
use crate::{GaapProvider, API};

/// The placeholder default domain: a name no client asks for (`.invalid`
/// is reserved, RFC 2606), made with `IsDefaultServer`, whose only rule
/// is `/` to the listener's default backend.
pub const DEFAULT_DOMAIN: &str = "default.lctl.invalid";
/// Rules per domain (D-gaap-l7; `FailedOperation.LimitNumofRules`).
pub const MAX_RULES_PER_DOMAIN: usize = 20;
/// Domains per listener (`CreateDomainRequest.Domain`; `LimitExceeded.Domain`).
pub const MAX_DOMAINS: usize = 100;
/// Origins bound per rule or listener (D-gaap-l7; `FailedOperation.LimitRealServerNum`).
pub const MAX_ORIGINS: usize = 100;
/// Longest path (D-gaap-l7; `InvalidParameterValue`).
pub const MAX_PATH: usize = 80;
/// Weights GAAP binds (`RealServerBindSetReq.RealServerWeight`, 1–100).
pub const WEIGHTS: (u32, u32) = (1, 100);
/// The project origin servers are made in (the account's default).
pub const PROJECT: u64 = 0;
/// The name of every origin server this adapter makes, before the mark.
pub const ORIGIN_NAME: &str = "origin";

/// Rule names used in rejections.
pub const EXACT_HOSTS: &str = "gaap_exact_hosts";
/// More paths on one host than a GAAP domain holds.
pub const RULES_PER_DOMAIN: &str = "FailedOperation.LimitNumofRules";
/// More hosts than a listener holds.
pub const DOMAINS: &str = "LimitExceeded.Domain";
/// A value GAAP refuses (path length, weight).
pub const INVALID_VALUE: &str = "InvalidParameterValue";
/// More origins than a rule holds.
pub const ORIGINS: &str = "FailedOperation.LimitRealServerNum";
/// IP and domain-name endpoints in one pool.
pub const MIXED_ORIGINS: &str = "gaap_real_server_type_mixed";
/// Domain-name endpoints with different weights.
pub const UNWEIGHTED_DOMAINS: &str = "gaap_domain_origins_unweighted";
/// Routes on a TCP/UDP listener, or a certificate on a non-HTTPS one.
pub const NEEDS_L7: &str = "routes_need_http";
/// A pool health check behind a TCP/UDP listener, whose check is the
/// listener's own.
pub const HEALTH_CHECK_LAYER4: &str = "gaap_pool_health_check_on_layer4";
/// A pool health check field a GAAP rule's `RuleCheckParams` cannot say.
pub const RULE_CHECK: &str = "gaap_rule_check_unsupported";
/// One host named with two certificates.
pub const ONE_CERTIFICATE: &str = "gaap_one_certificate_per_domain";
/// A certificate alias the profile does not map.
pub const UNKNOWN_CERTIFICATE: &str = "unknown_certificate_alias";

/// The ID the root rule of a TCP/UDP listener is known by: its origin set
/// has no vendor ID of its own.
pub fn l4_rule_id(listener: &str) -> ResourceId {
    ResourceId(format!("{listener}/origins"))
}

/// The listener a layer-4 root rule ID stands for.
pub fn l4_listener_of(id: &ResourceId) -> Option<&str> {
    id.as_str().strip_suffix("/origins")
}

/// The GAAP domain of a rule's host.
pub fn domain_of(host: Option<&str>) -> &str {
    host.unwrap_or(DEFAULT_DOMAIN)
}

fn is_ip(address: &str) -> bool {
    address.parse::<std::net::IpAddr>().is_ok()
}

/// `RealServerType` of a pool: `DOMAIN` when its endpoints are names.
pub fn real_server_type(endpoints: &[Endpoint]) -> &'static str {
    if endpoints.iter().any(|e| !is_ip(&e.address)) {
        "DOMAIN"
    } else {
        "IP"
    }
}

/// The scheduler for a `RealServerType`: weighted round robin where GAAP
/// allows it (IP origins), round robin for domain origins.
pub fn scheduler_for(real_server_type: &str) -> &'static str {
    if real_server_type == "DOMAIN" {
        "rr"
    } else {
        "wrr"
    }
}

fn route_field(i: usize, sub: &str) -> String {
    format!("routes[{i}].{sub}")
}

/// Every reason GAAP cannot take `rules` on a listener of `protocol` with
/// the neutral meaning, each with the rule's index; no call. `https` says
/// whether the listener is HTTPS, `layer7` whether it is HTTP or HTTPS;
/// `certificate` gives each rule's certificate alias.
pub fn check_routes(
    layer7: bool,
    https: bool,
    rules: &[RouteSpec],
    certificate: impl Fn(&RouteSpec) -> Option<&str>,
) -> Vec<(usize, Rejection)> {
    let mut out = Vec::new();
    let mut per_host: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, r) in rules.iter().enumerate() {
        if !layer7 && r.host.is_some() {
            out.push((
                i,
                Rejection::new(
                    API,
                    route_field(i, "host"),
                    NEEDS_L7,
                    "GAAP domains and rules exist on HTTP and HTTPS listeners only",
                ),
            ));
            continue;
        }
        if let Some(h) = &r.host {
            // D-gaap-l7: a GAAP domain is an exact name; the emulated GAAP,
            // sent `*.…`, answers InvalidParameterValue.
            if h.contains('*') {
                out.push((
                    i,
                    Rejection::new(
                        API,
                        route_field(i, "host"),
                        EXACT_HOSTS,
                        format!("`{h}`: GAAP domains match exact host names only (no wildcards)"),
                    ),
                ));
            }
        }
        // D-gaap-l7: paths are 1-80 characters (InvalidParameterValue).
        if r.path.chars().count() > MAX_PATH {
            out.push((
                i,
                Rejection::new(
                    API,
                    route_field(i, "path"),
                    INVALID_VALUE,
                    format!(
                        "{} characters; a GAAP rule path holds at most {MAX_PATH}",
                        r.path.chars().count()
                    ),
                ),
            ));
        }
        if let Some(c) = certificate(r) {
            if !https {
                out.push((
                    i,
                    Rejection::new(
                        API,
                        route_field(i, "certificate"),
                        NEEDS_L7,
                        format!("certificate `{c}`: GAAP domain certificates exist on HTTPS listeners only"),
                    ),
                ));
            }
        }
        per_host.entry(domain_of(r.host.as_deref())).or_default().push(i);
    }
    for idx in per_host.values() {
        // D-gaap-l7: 20 rules per domain (FailedOperation.LimitNumofRules).
        if idx.len() > MAX_RULES_PER_DOMAIN {
            let i = idx[MAX_RULES_PER_DOMAIN];
            out.push((
                i,
                Rejection::new(
                    API,
                    route_field(i, "path"),
                    RULES_PER_DOMAIN,
                    format!(
                        "{} paths on host `{}`; a GAAP domain holds at most {MAX_RULES_PER_DOMAIN} rules",
                        idx.len(),
                        domain_of(rules[i].host.as_deref())
                    ),
                ),
            ));
        }
        // A domain has one certificate: its rules must agree.
        let first = idx[0];
        for &i in &idx[1..] {
            if certificate(&rules[i]) != certificate(&rules[first]) {
                out.push((
                    i,
                    Rejection::new(
                        API,
                        route_field(i, "certificate"),
                        ONE_CERTIFICATE,
                        format!(
                            "host `{}` is one GAAP domain with one certificate; routes[{first}] names another",
                            domain_of(rules[i].host.as_deref())
                        ),
                    ),
                ));
            }
        }
    }
    // CreateDomainRequest.Domain: 100 domains per listener (LimitExceeded.Domain).
    if per_host.len() > MAX_DOMAINS {
        let i = per_host.values().nth(MAX_DOMAINS).map_or(0, |v| v[0]);
        out.push((
            i,
            Rejection::new(
                API,
                route_field(i, "host"),
                DOMAINS,
                format!(
                    "{} GAAP domains (hosts and the default domain); a listener holds at most {MAX_DOMAINS}",
                    per_host.len()
                ),
            ),
        ));
    }
    out
}

/// Every reason GAAP cannot bind `pool` as the backend of the layer-4
/// listener `spec` identically, checked before any call (the binding
/// itself refuses the same at apply time, when the listener may already
/// exist). Fields are the listener's (`scheduler`).
///
/// Under any scheduler but `wrr` GAAP binds every origin with weight 1
/// (BindListenerRealServersRequest), so a pool whose weights differ would
/// lose its shares. A listener that names no scheduler gets `wrr`
/// ([`crate::translate::DEFAULT_SCHEDULER`]), so only an explicit other
/// scheduler is refused.
pub fn check_listener_pool(spec: &ListenerSpec, pool: &PoolSpec) -> Vec<Rejection> {
    let layer4 = matches!(spec.protocol, Protocol::Tcp | Protocol::Udp);
    if layer4 && pool.health_check.as_ref().is_some_and(|h| h.enabled) {
        return vec![layer4_health(&pool.name)];
    }
    let uneven = pool.endpoints.iter().any(|e| e.weight != pool.endpoints[0].weight);
    match spec.scheduler {
        Some(s) if layer4 && uneven && s != listener_core::Scheduler::WeightedRoundRobin => {
            vec![Rejection::new(
                API,
                "scheduler",
                WEIGHTS_NEED_WRR,
                format!(
                    "backend `{}` has endpoints of different weights; GAAP counts weights only under weighted \
                     round robin (`{}` binds every origin with weight 1): set `weighted_round_robin` or leave \
                     `scheduler` out",
                    pool.name,
                    crate::translate::scheduler_word(s)
                ),
            )]
        }
        _ => Vec::new(),
    }
}

/// Every reason GAAP cannot bind `pool` to one rule identically; fields
/// name the pool (`backends.<name>.endpoints[i].weight`).
pub fn check_pool(pool: &PoolSpec) -> Vec<Rejection> {
    let mut out = Vec::new();
    let at = |j: usize, sub: &str| format!("backends.{}.endpoints[{j}].{sub}", pool.name);
    for (j, e) in pool.endpoints.iter().enumerate() {
        // RealServerBindSetReq.RealServerWeight: 1-100 (InvalidParameterValue).
        if !(WEIGHTS.0..=WEIGHTS.1).contains(&e.weight) {
            out.push(Rejection::new(
                API,
                at(j, "weight"),
                INVALID_VALUE,
                format!(
                    "weight {}: GAAP binds origins with weights {} to {}",
                    e.weight, WEIGHTS.0, WEIGHTS.1
                ),
            ));
        }
    }
    let ips = pool.endpoints.iter().filter(|e| is_ip(&e.address)).count();
    if ips > 0 && ips < pool.endpoints.len() {
        // routing.md §4: a rule's RealServerType is IP xor DOMAIN, fixed.
        let j = pool
            .endpoints
            .iter()
            .position(|e| is_ip(&e.address) != is_ip(&pool.endpoints[0].address))
            .unwrap_or(0);
        out.push(Rejection::new(
            API,
            at(j, "address"),
            MIXED_ORIGINS,
            "IP addresses and domain names in one pool: a GAAP rule's RealServerType is IP or DOMAIN, not both",
        ));
    } else if ips == 0 && pool.endpoints.iter().any(|e| e.weight != pool.endpoints[0].weight) {
        // D-gaap-l7: domain origins cannot use wrr, so weights do not count.
        let j = pool
            .endpoints
            .iter()
            .position(|e| e.weight != pool.endpoints[0].weight)
            .unwrap_or(0);
        out.push(Rejection::new(
            API,
            at(j, "weight"),
            UNWEIGHTED_DOMAINS,
            "domain-name origins are scheduled round robin on GAAP (no wrr for DOMAIN): their weights must be equal",
        ));
    }
    if let Some(hc) = pool.health_check.as_ref().filter(|h| h.enabled) {
        out.extend(check_rule_health(hc, &format!("backends.{}.health_check", pool.name)));
    }
    // D-gaap-l7: 100 origins per rule (FailedOperation.LimitRealServerNum).
    if pool.endpoints.len() > MAX_ORIGINS {
        out.push(Rejection::new(
            API,
            format!("backends.{}.endpoints", pool.name),
            ORIGINS,
            format!(
                "{} endpoints; a GAAP rule binds at most {MAX_ORIGINS}",
                pool.endpoints.len()
            ),
        ));
    }
    out
}

/// One bound origin as read back.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Bound {
    /// `RealServerId`.
    pub id: String,
    /// `RealServerIP` (an address or a name).
    pub address: String,
    /// `RealServerPort`.
    pub port: u32,
    /// `RealServerWeight`.
    pub weight: u32,
}

impl Bound {
    /// As a neutral endpoint.
    pub fn endpoint(&self) -> Endpoint {
        let mut e = Endpoint::new(self.address.clone(), self.port);
        e.weight = self.weight;
        e
    }
}

/// One GAAP rule as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleState {
    /// `RuleId`.
    pub id: String,
    /// `Path`.
    pub path: String,
    /// `RealServerType`.
    pub real_server_type: String,
    /// `RuleStatus` (0 running).
    pub status: u64,
    /// Its origins, sorted.
    pub origins: Vec<Bound>,
    /// `HealthCheck` (1 on, 0 off).
    pub health_check: u64,
    /// `CheckParams` (`RuleCheckParams`).
    pub check_params: Value,
}

/// One GAAP domain as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct DomainState {
    /// `Domain`.
    pub name: String,
    /// `CertificateId`; `None` for the listener's (`default`) or on HTTP.
    pub certificate: Option<String>,
    /// `IsDefaultServer`.
    pub is_default: bool,
    /// `DomainStatus` (0 running).
    pub status: u64,
    /// Its rules.
    pub rules: Vec<RuleState>,
}

impl DomainState {
    /// Whether this domain and its rules are all running.
    pub fn settled(&self) -> bool {
        self.status == 0 && self.rules.iter().all(|r| r.status == 0)
    }
}

/// The origins of a `RealServerSet` / `BindRealServerSet`, sorted.
pub fn read_bound(set: Option<&Value>) -> Vec<Bound> {
    let mut out: Vec<Bound> = set
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|b| {
                    Some(Bound {
                        id: field_str(b, "RealServerId")?.to_string(),
                        address: field_str(b, "RealServerIP")?.to_string(),
                        port: u32::try_from(field_u64(b, "RealServerPort")?).ok()?,
                        weight: field_u64(b, "RealServerWeight")
                            .and_then(|w| u32::try_from(w).ok())
                            .unwrap_or(1),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// The domains of a `DescribeRules` answer.
pub fn read_domains(body: &Value) -> Vec<DomainState> {
    body.get("DomainRuleSet")
        .and_then(Value::as_array)
        .map(|set| {
            set.iter()
                .filter_map(|d| {
                    let rules = d
                        .get("RuleSet")
                        .and_then(Value::as_array)
                        .map(|rs| {
                            rs.iter()
                                .filter_map(|r| {
                                    Some(RuleState {
                                        id: field_str(r, "RuleId")?.to_string(),
                                        path: field_str(r, "Path")?.to_string(),
                                        real_server_type: field_str(r, "RealServerType").unwrap_or("IP").to_string(),
                                        status: field_u64(r, "RuleStatus").unwrap_or(0),
                                        origins: read_bound(r.get("RealServerSet")),
                                        health_check: field_u64(r, "HealthCheck").unwrap_or(0),
                                        check_params: r.get("CheckParams").cloned().unwrap_or(Value::Null),
                                    })
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    Some(DomainState {
                        name: field_str(d, "Domain")?.to_string(),
                        certificate: field_str(d, "CertificateId")
                            .filter(|c| *c != "default")
                            .map(str::to_string),
                        is_default: d.get("IsDefaultServer").and_then(Value::as_bool).unwrap_or(false),
                        status: field_u64(d, "DomainStatus").unwrap_or(0),
                        rules,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The host a domain stands for: `None` for the placeholder default domain.
pub fn host_of(domain: &str) -> Option<String> {
    (domain != DEFAULT_DOMAIN).then(|| domain.to_string())
}

/// `CreateDomain` parameters (without `ListenerId`): the certificate ID
/// when the route names one, the default-server flag for the placeholder,
/// and HTTP/3 when the listener offers it (a GAAP domain starts without
/// it, `CreateDomainRequest.Http3Supported`, so its host would lose it).
pub fn create_domain_params(domain: &str, certificate_id: Option<&str>, http3: bool) -> Value {
    let mut v = json!({ "Domain": domain });
    if http3 {
        v["Http3Supported"] = json!(1);
    }
    if let Some(c) = certificate_id {
        v["CertificateId"] = json!(c);
    }
    if domain == DEFAULT_DOMAIN {
        v["IsDefaultServer"] = json!(true);
    }
    v
}

/// `CreateRule` parameters (without `ListenerId`) for `path` on `domain`
/// with origins of `real_server_type` and the pool's health check
/// ([`rule_check`]; off without one, as before pools had checks).
pub fn create_rule_params(domain: &str, path: &str, real_server_type: &str, health: Option<&HealthCheck>) -> Value {
    let mut v = json!({
        "Domain": domain,
        "Path": path,
        "RealServerType": real_server_type,
        "Scheduler": scheduler_for(real_server_type),
    });
    for (k, x) in rule_check(health) {
        v[k] = x;
    }
    v
}

/// A pool's health check as a GAAP rule says it (routing factsheet §4:
/// origins are checked per rule): `HealthCheck` 1 or 0 and, when on,
/// `CheckParams` (`RuleCheckParams`) with only what the file sets:
/// `DelayLoop` (interval), `ConnectTimeout`, `Path`, `Method`,
/// `StatusCode` (status classes as 100, 200, ...). No check: `HealthCheck`
/// 0, as rules were made before pools had checks.
pub fn rule_check(health: Option<&HealthCheck>) -> Vec<(&'static str, Value)> {
    let Some(hc) = health.filter(|h| h.enabled) else {
        return vec![("HealthCheck", json!(0))];
    };
    let mut m = serde_json::Map::new();
    if let Some(i) = hc.interval_secs {
        m.insert("DelayLoop".into(), json!(i));
    }
    if let Some(t) = hc.timeout_secs {
        m.insert("ConnectTimeout".into(), json!(t));
    }
    if let Some(http) = &hc.http {
        if let Some(p) = &http.path {
            m.insert("Path".into(), json!(p));
        }
        if let Some(method) = http.method {
            m.insert("Method".into(), json!(method.as_upper()));
        }
        if !http.healthy_status_classes.is_empty() {
            let codes: Vec<u32> = http
                .healthy_status_classes
                .iter()
                .map(|c| u32::from(*c) * 100)
                .collect();
            m.insert("StatusCode".into(), json!(codes));
        }
    }
    vec![("HealthCheck", json!(1)), ("CheckParams", Value::Object(m))]
}

/// A rule's health check read back (`HealthCheck`, `CheckParams` of
/// `DescribeRules`), in the neutral form; `None` when it is off.
pub fn rule_health_of(rule: &RuleState) -> Option<HealthCheck> {
    if rule.health_check != 1 {
        return None;
    }
    let p = &rule.check_params;
    let u = |k: &str| p.get(k).and_then(Value::as_u64).and_then(|v| u32::try_from(v).ok());
    let classes: Vec<u8> = p
        .get("StatusCode")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_u64)
                .filter_map(|c| u8::try_from(c / 100).ok())
                .collect()
        })
        .unwrap_or_default();
    Some(HealthCheck {
        enabled: true,
        kind: Some(listener_core::HealthCheckKind::Http),
        interval_secs: u("DelayLoop"),
        timeout_secs: u("ConnectTimeout"),
        healthy_threshold: None,
        unhealthy_threshold: None,
        port: None,
        http: Some(listener_core::HttpHealthCheck {
            path: field_str(p, "Path").map(str::to_string),
            domain: None,
            method: field_str(p, "Method").and_then(listener_core::HttpMethod::from_upper),
            healthy_status_classes: classes,
        }),
        custom: None,
    })
}

/// Whether a rule's check (`live`, read back) is what the pool's `want`
/// says: every value [`rule_check`] sends for `want` is the rule's.
/// Without `want` the rule is left as it is, so nothing differs.
pub fn rule_check_matches(live: Option<&HealthCheck>, want: Option<&HealthCheck>) -> bool {
    if want.is_none() {
        return true;
    }
    let l: BTreeMap<&str, Value> = rule_check(live).into_iter().collect();
    rule_check(want).into_iter().all(|(k, w)| match (k, l.get(k)) {
        ("CheckParams", Some(have)) => w
            .as_object()
            .is_some_and(|w| w.iter().all(|(wk, wv)| have.get(wk) == Some(wv))),
        (_, have) => have == Some(&w),
    })
}

/// Every reason a GAAP rule cannot run health check `hc` of a pool
/// (`RuleCheckParams`; the ranges the emulated GAAP, GAAP's console and
/// Terraform use: `InvalidParameterValue`), fields under `at`. A rule
/// probes its origins by HTTP on their own port, counts no thresholds
/// (only passive failure counting), and sets its check domain only at
/// creation (`ModifyRuleAttribute` refuses `CheckParams.Domain`): a file
/// could not change that domain in place, so it is not taken at all.
pub fn check_rule_health(hc: &HealthCheck, at: &str) -> Vec<Rejection> {
    let mut r = Rejections::new(API);
    if let Some(k) = hc.kind.filter(|k| *k != listener_core::HealthCheckKind::Http) {
        r.reject(
            format!("{at}.kind"),
            RULE_CHECK,
            format!("a GAAP rule checks its origins by HTTP (RuleCheckParams), not {k:?}"),
        );
    }
    r.reject_if(
        hc.port.is_some(),
        format!("{at}.port"),
        RULE_CHECK,
        "a GAAP rule checks each origin on its own port (RuleCheckParams has no port)",
    );
    for (field, v) in [
        ("healthy_threshold", hc.healthy_threshold),
        ("unhealthy_threshold", hc.unhealthy_threshold),
    ] {
        r.reject_if(
            v.is_some(),
            format!("{at}.{field}"),
            RULE_CHECK,
            "a GAAP rule's check counts no thresholds (RuleCheckParams)",
        );
    }
    r.reject_if(
        hc.http.as_ref().is_some_and(|h| h.domain.is_some()),
        format!("{at}.http.domain"),
        RULE_CHECK,
        "GAAP sets a rule's check domain only when it makes the rule (ModifyRuleAttribute refuses CheckParams.Domain), \
         so it could not follow the file: leave it out",
    );
    let interval = hc.interval_secs.unwrap_or(5);
    let timeout = hc.timeout_secs.unwrap_or(2);
    r.reject_if(
        !(5..=300).contains(&interval),
        format!("{at}.interval_secs"),
        INVALID_VALUE,
        "GAAP rule checks run every 5 to 300 seconds (CheckParams.DelayLoop)",
    );
    r.reject_if(
        !(2..=60).contains(&timeout),
        format!("{at}.timeout_secs"),
        INVALID_VALUE,
        "GAAP rule check timeouts are 2 to 60 seconds (CheckParams.ConnectTimeout)",
    );
    r.reject_if(
        (5..=300).contains(&interval) && (2..=60).contains(&timeout) && timeout >= interval,
        format!("{at}.timeout_secs"),
        INVALID_VALUE,
        format!(
            "GAAP needs the check timeout ({timeout}s) below the interval ({interval}s), defaults 2s and 5s included"
        ),
    );
    r.into_vec()
}

/// A `RealServerBindSet` for `endpoints`, origin IDs by address from `ids`.
/// Every weight is sent (GAAP's default is 1).
pub fn bind_set(endpoints: &[Endpoint], ids: &BTreeMap<String, String>) -> Result<Vec<Value>> {
    endpoints
        .iter()
        .map(|e| {
            let id = ids.get(&e.address).ok_or_else(|| Error::Transport {
                vendor: API,
                message: format!("no origin server for `{}` after adding it", e.address),
                maybe_applied: true,
            })?;
            Ok(json!({
                "RealServerId": id,
                "RealServerIP": e.address,
                "RealServerPort": e.port,
                "RealServerWeight": e.weight,
            }))
        })
        .collect()
}

/// Endpoints in a canonical order, for comparing a pool with its origins.
pub fn sorted(endpoints: &[Endpoint]) -> Vec<(String, u32, u32)> {
    let mut v: Vec<(String, u32, u32)> = endpoints
        .iter()
        .map(|e| (e.address.clone(), e.port, e.weight))
        .collect();
    v.sort();
    v
}

/// Whether origins read back are `endpoints`.
pub fn same_origins(origins: &[Bound], endpoints: &[Endpoint]) -> bool {
    sorted(&origins.iter().map(Bound::endpoint).collect::<Vec<_>>()) == sorted(endpoints)
}

/// Prove each rule ID under the owned listener from a `DescribeRules`
/// answer; IDs GAAP no longer lists are left out (already gone).
pub fn own_rules(listener: &Owned, domains: &[DomainState], ids: &[ResourceId]) -> Result<Vec<(OwnedPart, String)>> {
    let mut out = Vec::new();
    for id in ids {
        let found = domains
            .iter()
            .find_map(|d| d.rules.iter().find(|r| r.id == id.as_str()).map(|_| d.name.clone()));
        let reported = found.as_ref().map(|_| listener.as_str());
        match ownership::claim_part(API, PartOf::Listener(listener), id, reported) {
            Ok(p) => out.push((p, found.unwrap_or_default())),
            Err(Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// Origin servers by address, with the owner of their name mark.
pub fn origins_by_address(list: &[Value]) -> BTreeMap<String, (String, Option<String>)> {
    list.iter()
        .filter_map(|r| {
            let id = field_str(r, "RealServerId")?.to_string();
            let address = field_str(r, "RealServerIP")?.to_string();
            let owner = field_str(r, "RealServerName").and_then(|n| listener_core::mark::split_name(n).1);
            Some((address, (id, owner)))
        })
        .collect()
}

/// The origin-server IDs bound anywhere in `domains` (for removal of
/// the ones no rule uses any more).
pub fn bound_ids(domains: &[DomainState]) -> BTreeSet<String> {
    domains
        .iter()
        .flat_map(|d| d.rules.iter())
        .flat_map(|r| r.origins.iter().map(|o| o.id.clone()))
        .collect()
}

/// A mapped backend (an existing vendor pool): GAAP has no pool object.
pub const MAPPED_BACKEND: &str = "gaap_mapped_backend";
/// Unequal weights on a TCP/UDP listener not scheduled `wrr`.
pub const WEIGHTS_NEED_WRR: &str = "gaap_weights_need_wrr";
/// A layer-4 pool whose kind differs from the listener's `RealServerType`.
pub const LISTENER_KIND: &str = "gaap_listener_real_server_type";

/// The suffix of the placeholder domain that records a mapped default
/// target (`forwarding.default_target`) on an HTTP/HTTPS listener.
pub const TARGET_SUFFIX: &str = ".target.lctl.invalid";

/// The placeholder domain recording a mapped default target `id`.
///
/// GAAP has no pool object a target could name: the default target has
/// always been accepted and not sent (`write_only_fields`). With rules,
/// the plan hands it over as the root rule to a vendor ID; so that plan
/// reads it back and converges, the adapter records it as a default
/// domain without rules named `<id>.target.lctl.invalid` (unknown hosts
/// get a 404 there, as they did with no domain at all). `None` when the ID
/// does not fit a GAAP domain name.
pub fn target_domain(id: &str) -> Option<String> {
    let name = format!("{id}{TARGET_SUFFIX}");
    let ok = !id.is_empty()
        && name.len() <= 80
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'));
    ok.then_some(name)
}

/// The target ID a marker domain records.
pub fn target_of_domain(name: &str) -> Option<&str> {
    name.strip_suffix(TARGET_SUFFIX)
}

/// The ID the root rule of a mapped default target is known by.
pub fn target_rule_id(listener: &str) -> ResourceId {
    ResourceId(format!("{listener}/target"))
}

/// A pool with a health check behind a TCP/UDP listener: the listener's
/// own check (`DelayLoop`, `ConnectTimeout`, thresholds) is what GAAP
/// runs there, set by the listener's `health_check`.
fn layer4_health(pool: &str) -> Rejection {
    Rejection::new(
        API,
        "backend",
        HEALTH_CHECK_LAYER4,
        format!(
            "backend `{pool}` has a health check; a GAAP TCP or UDP listener checks its origins with the \
             listener's own health check: move it to this listener's `health_check`"
        ),
    )
}

/// Every reason a [`NewRule`] cannot be written, before any call: the
/// rules' own ([`check_routes`]), the pool's ([`check_pool`]), a mapped
/// backend other than the default target of an HTTP/HTTPS listener; a pool with a health check behind a TCP/UDP listener.
/// `layer7`/`https` describe the listener; a pool with a health check behind a TCP/UDP listener.
pub fn check_new(layer7: bool, https: bool, rules: &[NewRule<'_>]) -> Vec<Rejection> {
    let specs: Vec<RouteSpec> = rules.iter().map(|r| r.spec.clone()).collect();
    let mut out: Vec<Rejection> = check_routes(layer7, https, &specs, |r| r.certificate.as_deref())
        .into_iter()
        .map(|(_, r)| r)
        .collect();
    let mut seen = BTreeSet::new();
    for (i, r) in rules.iter().enumerate() {
        match r.pool {
            None if layer7 && r.spec.host.is_none() && target_domain(r.backend.as_str()).is_some() => {}
            None => out.push(Rejection::new(
                API,
                route_field(i, "backend"),
                MAPPED_BACKEND,
                format!(
                    "backend `{}` is mapped to an existing pool (`{}`); GAAP has no pool object, describe its endpoints inline",
                    r.spec.backend, r.backend
                ),
            )),
            Some(pool) if seen.insert(pool.name.clone()) => {
                out.extend(check_pool(pool));
                if !layer7 && pool.health_check.as_ref().is_some_and(|h| h.enabled) {
                    out.push(layer4_health(&pool.name));
                }
            }
            Some(_) => {}
        }
    }
    out
}

impl GaapProvider {
    /// The owner of a listener record's name mark.
    fn listener_owner(record: &Value) -> Option<String> {
        field_str(record, "ListenerName").and_then(|n| listener_core::mark::split_name(n).1)
    }

    async fn domains(&self, listener: &str) -> Result<Vec<DomainState>> {
        Ok(read_domains(&self.client.describe_rules(listener).await?))
    }

    /// Poll `DescribeRules` until every domain and rule of the listener
    /// runs and `done` holds; a change that never shows is a failed task.
    async fn settle(
        &self,
        listener: &str,
        op: WaitOp,
        what: &str,
        done: impl Fn(&[DomainState]) -> bool,
    ) -> Result<Vec<DomainState>> {
        let deadline = self.config.wait.start(API, op);
        let what = what.to_string();
        deadline
            .poll(
                "rules",
                &what,
                || self.domains(listener),
                |d| {
                    if !d.iter().all(DomainState::settled) {
                        Poll::Pending("domains or rules changing".into())
                    } else if done(&d) {
                        Poll::Done(d)
                    } else {
                        Poll::NotSeen(Error::Transport {
                            vendor: API,
                            message: format!("{what}: the change did not take effect (the task failed)"),
                            maybe_applied: true,
                        })
                    }
                },
            )
            .await
    }

    /// Poll a TCP/UDP listener until it runs with `want` bound.
    async fn settle_l4(&self, kind: GaapProtocol, listener: &str, want: &[Endpoint]) -> Result<Vec<Bound>> {
        let deadline = self.config.wait.start(API, WaitOp::Update);
        let read = || async {
            let record = self.client.find(kind, listener).await?;
            let running = record.as_ref().and_then(|r| field_u64(r, "ListenerStatus")) == Some(0);
            let bound = if running {
                read_bound(Some(&Value::Array(self.client.listener_real_servers(listener).await?)))
            } else {
                Vec::new()
            };
            Ok::<_, Error>((running, bound))
        };
        deadline
            .poll(
                "origins",
                &format!("origins of listener {listener}"),
                read,
                |(running, bound)| {
                    if !running {
                        Poll::Pending("origin servers adjusting".into())
                    } else if same_origins(&bound, want) {
                        Poll::Done(bound)
                    } else {
                        Poll::NotSeen(Error::Transport {
                            vendor: API,
                            message: format!("origins of listener {listener}: the bind did not take effect"),
                            maybe_applied: true,
                        })
                    }
                },
            )
            .await
    }

    /// Origin-server IDs by address for `endpoints`: existing servers of
    /// the project reused, the missing ones added under this owner's mark.
    async fn origin_ids(&self, endpoints: &[Endpoint]) -> Result<BTreeMap<String, String>> {
        let want: BTreeSet<&str> = endpoints.iter().map(|e| e.address.as_str()).collect();
        let mut have = origins_by_address(&self.client.real_servers(PROJECT).await?);
        let missing: Vec<String> = want
            .iter()
            .filter(|a| !have.contains_key(**a))
            .map(|a| a.to_string())
            .collect();
        if !missing.is_empty() {
            let name = listener_core::mark::mark_name(ORIGIN_NAME, self.profile.owner());
            tracing::info!(count = missing.len(), "adding GAAP origin servers");
            match self.client.add_real_servers(PROJECT, &missing, &name).await {
                Ok(made) => {
                    for (id, address) in made {
                        have.insert(address, (id, Some(self.profile.owner().to_string())));
                    }
                }
                // A lost answer, or a repeat of one: read the list again.
                Err(Error::Transport {
                    maybe_applied: true, ..
                }) => {
                    have = origins_by_address(&self.client.real_servers(PROJECT).await?);
                }
                Err(Error::Vendor { code, .. }) if code == "InvalidParameterValue.DuplicateRS" => {
                    have = origins_by_address(&self.client.real_servers(PROJECT).await?);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(have.into_iter().map(|(a, (id, _))| (a, id)).collect())
    }

    /// Remove the origin servers among `candidates` that carry this owner's
    /// mark and that nothing on `domains` binds any more. One still bound
    /// elsewhere (another listener, another tool) is left: GAAP refuses it.
    async fn remove_unused_origins(&self, candidates: BTreeSet<String>, domains: &[DomainState]) -> Result<()> {
        let still = bound_ids(domains);
        let unused: Vec<String> = candidates.into_iter().filter(|c| !still.contains(c)).collect();
        if unused.is_empty() {
            return Ok(());
        }
        let listed = self.client.real_servers(PROJECT).await?;
        for id in unused {
            let owner = listed
                .iter()
                .find(|r| field_str(r, "RealServerId") == Some(id.as_str()))
                .map(|r| field_str(r, "RealServerName").and_then(|n| listener_core::mark::split_name(n).1));
            // Proof: the vendor reports the server under this owner's mark.
            let reported = owner.map(|o| o.unwrap_or_default());
            let part = match ownership::claim_part(
                API,
                PartOf::Instance(self.profile.owner()),
                &ResourceId(id.clone()),
                reported.as_deref(),
            ) {
                Ok(p) => p,
                Err(Error::NotFound { .. } | Error::NotOwned { .. }) => continue,
                Err(e) => return Err(e),
            };
            match self.client.remove_real_server(&part).await {
                Ok(()) => tracing::info!(origin = %id, "removed an unused GAAP origin server"),
                Err(Error::Vendor { code, .. }) if code == "FailedOperation.RealServerAlreadyBound" => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn rule_of(&self, listener: &ListenerId, owner: &Option<String>, d: &DomainState, r: &RuleState) -> Rule {
        let spec = RouteSpec::new(host_of(&d.name).as_deref(), r.path.clone(), format!("origins:{}", r.id))
            .with_certificate(
                d.certificate
                    .as_ref()
                    .map(|c| self.config.aliases.certificate_alias_of(c)),
            );
        Rule::new(
            ResourceId(r.id.clone()),
            listener.clone(),
            ResourceId(format!("origins:{}", r.id)),
            spec,
            owner.clone(),
            self.profile.owner(),
        )
        .with_pool(r.origins.iter().map(Bound::endpoint).collect())
        .with_pool_health_check(rule_health_of(r))
    }

    fn l4_rule(&self, listener: &ListenerId, owner: &Option<String>, bound: &[Bound]) -> Rule {
        let id = l4_rule_id(listener.as_str());
        Rule::new(
            id.clone(),
            listener.clone(),
            id.clone(),
            RouteSpec::new(None, "/", id.0.clone()),
            owner.clone(),
            self.profile.owner(),
        )
        .with_pool(bound.iter().map(Bound::endpoint).collect())
    }

    fn rules_of(&self, listener: &ListenerId, owner: &Option<String>, domains: &[DomainState]) -> Vec<Rule> {
        let mut out: Vec<Rule> = domains
            .iter()
            .flat_map(|d| d.rules.iter().map(move |r| (d, r)))
            .map(|(d, r)| self.rule_of(listener, owner, d, r))
            .collect();
        // A mapped default target, recorded as a marker domain.
        for d in domains.iter().filter(|d| d.rules.is_empty()) {
            if let Some(target) = target_of_domain(&d.name) {
                out.push(Rule::new(
                    target_rule_id(listener.as_str()),
                    listener.clone(),
                    ResourceId(target.to_string()),
                    RouteSpec::new(None, "/", target),
                    owner.clone(),
                    self.profile.owner(),
                ));
            }
        }
        out
    }

    /// The certificate ID a domain should have: the route's alias
    /// resolved, or `default` (the listener's).
    fn certificate_id(&self, spec: &RouteSpec) -> String {
        match &spec.certificate {
            Some(alias) => self.config.aliases.certificate(alias).unwrap_or(alias).to_string(),
            None => "default".to_string(),
        }
    }

    /// Bind `endpoints` to the rule `part` and wait until GAAP shows them.
    async fn bind_and_wait(
        &self,
        owned: &Owned,
        part: &OwnedPart,
        endpoints: &[Endpoint],
        known: Option<&BTreeMap<String, String>>,
    ) -> Result<Vec<DomainState>> {
        let looked_up;
        let ids = match known {
            Some(k) if endpoints.iter().all(|e| k.contains_key(&e.address)) => k,
            _ => {
                looked_up = self.origin_ids(endpoints).await?;
                &looked_up
            }
        };
        let set = bind_set(endpoints, ids)?;
        tracing::info!(rule = part.as_str(), count = set.len(), "binding GAAP origin servers");
        self.client.bind_rule(part, &set).await?;
        let id = part.as_str().to_string();
        self.settle(owned.as_str(), WaitOp::Update, &format!("origins of rule {id}"), |d| {
            d.iter()
                .flat_map(|x| x.rules.iter())
                .any(|r| r.id == id && same_origins(&r.origins, endpoints))
        })
        .await
    }

    /// Create the rule `spec` on `domain` with origins of `rs_type` (the
    /// domain exists), reading back after a lost answer; its proof.
    async fn create_one(
        &self,
        owned: &Owned,
        (domain, path): (&str, &str),
        rs_type: &str,
        health: Option<&HealthCheck>,
    ) -> Result<OwnedPart> {
        let params = create_rule_params(domain, path, rs_type, health);
        tracing::info!(listener = owned.as_str(), domain, path, "creating GAAP rule");
        let made = match self.client.create_rule(owned, &params).await {
            Ok(id) => Some(id),
            Err(Error::Transport {
                maybe_applied: true, ..
            }) => None,
            Err(Error::Vendor { code, .. }) if code == "FailedOperation.RuleAlreadyExisted" => None,
            Err(e) => return Err(e),
        };
        let (d, p) = (domain.to_string(), path.to_string());
        let domains = self
            .settle(owned.as_str(), WaitOp::Create, &format!("rule {domain}{path}"), |x| {
                x.iter().any(|dd| dd.name == d && dd.rules.iter().any(|r| r.path == p))
            })
            .await?;
        let id = made.or_else(|| {
            domains
                .iter()
                .find(|x| x.name == domain)
                .and_then(|x| x.rules.iter().find(|r| r.path == path))
                .map(|r| r.id.clone())
        });
        let id = ResourceId(id.unwrap_or_default());
        let reported = domains
            .iter()
            .any(|x| x.rules.iter().any(|r| r.id == id.as_str()))
            .then(|| owned.as_str());
        ownership::claim_part(API, PartOf::Listener(owned), &id, reported)
    }

    /// Make the domain of `spec` exist with its certificate and, for the
    /// placeholder, the default-server flag.
    async fn ensure_domain(
        &self,
        owned: &Owned,
        (https, http3): (bool, bool),
        spec: &RouteSpec,
        domains: &[DomainState],
    ) -> Result<()> {
        let name = domain_of(spec.host.as_deref()).to_string();
        let cert = https.then(|| self.certificate_id(spec));
        match domains.iter().find(|d| d.name == name) {
            None => {
                let c = cert.as_deref().filter(|c| *c != "default");
                tracing::info!(listener = owned.as_str(), domain = %name, "creating GAAP domain");
                match self
                    .client
                    .create_domain(owned, &create_domain_params(&name, c, http3))
                    .await
                {
                    Ok(()) => {}
                    Err(Error::Transport {
                        maybe_applied: true, ..
                    }) => {}
                    Err(Error::Vendor { code, .. }) if code == "FailedOperation.DomainAlreadyExisted" => {}
                    Err(e) => return Err(e),
                }
                let n = name.clone();
                self.settle(owned.as_str(), WaitOp::Create, &format!("domain {name}"), |d| {
                    d.iter().any(|x| x.name == n)
                })
                .await?;
                Ok(())
            }
            Some(d) => {
                if name == DEFAULT_DOMAIN && !d.is_default {
                    self.client.set_default_domain(owned, &name).await?;
                    let n = name.clone();
                    self.settle(owned.as_str(), WaitOp::Update, "default domain", |d| {
                        d.iter().any(|x| x.name == n && x.is_default)
                    })
                    .await?;
                }
                if let Some(c) = cert {
                    self.rotate(owned, &name, d.certificate.as_deref().unwrap_or("default"), &c)
                        .await?;
                }
                Ok(())
            }
        }
    }

    /// Put certificate `want` on domain `name` in place (one
    /// `ModifyCertificate`: the old certificate serves until the new one
    /// does, so the host is never without one).
    async fn rotate(&self, owned: &Owned, name: &str, have: &str, want: &str) -> Result<()> {
        if have == want {
            return Ok(());
        }
        tracing::info!(
            listener = owned.as_str(),
            domain = name,
            "changing the GAAP domain certificate"
        );
        self.client.modify_certificate(owned, name, want).await?;
        let (n, w) = (name.to_string(), want.to_string());
        self.settle(owned.as_str(), WaitOp::Update, &format!("certificate of {name}"), |d| {
            d.iter()
                .any(|x| x.name == n && x.certificate.as_deref().unwrap_or("default") == w)
        })
        .await?;
        Ok(())
    }

    /// The origin servers bound on a listener about to be deleted: on the
    /// listener itself for TCP/UDP (its record lists them, no call), on
    /// its rules for HTTP/HTTPS (one `DescribeRules`). Best effort: a read
    /// that fails leaves them, never the delete.
    pub(crate) async fn bound_origins(&self, kind: GaapProtocol, id: &ListenerId, record: &Value) -> BTreeSet<String> {
        if kind.is_layer4() {
            return read_bound(record.get("RealServerSet"))
                .into_iter()
                .map(|b| b.id)
                .collect();
        }
        match self.domains(id.as_str()).await {
            Ok(d) => bound_ids(&d),
            Err(_) => BTreeSet::new(),
        }
    }

    /// After a listener is gone: remove the origin servers it bound that
    /// this owner made and nothing else binds. A failure is logged, not
    /// returned: the listener's delete is done.
    pub(crate) async fn remove_origins_of_deleted(&self, candidates: BTreeSet<String>) {
        if candidates.is_empty() {
            return;
        }
        if let Err(e) = self.remove_unused_origins(candidates, &[]).await {
            tracing::warn!(
                kind = e.kind(),
                "unused GAAP origin servers were left after a listener delete"
            );
        }
    }

    /// The listener's kind, proven owned, and the owner of its mark.
    async fn own_listener(&self, listener: &ListenerId) -> Result<(Owned, GaapProtocol, Value)> {
        let (owned, (kind, record)) = self.own(listener).await?;
        Ok((owned, kind, record))
    }

    async fn bind_l4(
        &self,
        owned: &Owned,
        kind: GaapProtocol,
        record: &Value,
        endpoints: &[Endpoint],
    ) -> Result<Vec<Bound>> {
        let have_type = field_str(record, "RealServerType").unwrap_or("IP");
        if !endpoints.is_empty() && real_server_type(endpoints) != have_type {
            return Err(Error::Unsupported {
                vendor: API,
                rejections: vec![Rejection::new(
                    API,
                    "backend",
                    LISTENER_KIND,
                    format!(
                        "the listener's origins are of RealServerType {have_type} (fixed at creation, `extensions.tencent-gaap.real_server_type`); the pool's are {}",
                        real_server_type(endpoints)
                    ),
                )],
            });
        }
        // Weights count only under wrr (BindListenerRealServersRequest:
        // other schedulers bind every origin with weight 1).
        let scheduler = field_str(record, "Scheduler").unwrap_or("rr");
        if scheduler != "wrr" && endpoints.iter().any(|e| e.weight != endpoints[0].weight) {
            return Err(Error::Unsupported {
                vendor: API,
                rejections: vec![Rejection::new(
                    API,
                    "scheduler",
                    WEIGHTS_NEED_WRR,
                    format!(
                        "the pool's endpoints have different weights; the listener's scheduler is `{scheduler}`, and GAAP counts weights only with weighted round robin"
                    ),
                )],
            });
        }
        let ids = self.origin_ids(endpoints).await?;
        let set = bind_set(endpoints, &ids)?;
        tracing::info!(
            listener = owned.as_str(),
            count = set.len(),
            "binding GAAP listener origin servers"
        );
        self.client.bind_listener(owned, &set).await?;
        self.settle_l4(kind, owned.as_str(), endpoints).await
    }
}

impl GaapProvider {
    /// [`RuleProvider::create_rules`] under the write lock the caller holds.
    async fn create_inner(
        &self,
        listener: &ListenerId,
        owned: &Owned,
        kind: GaapProtocol,
        record: &Value,
        rules: &[NewRule<'_>],
    ) -> Result<Vec<Rule>> {
        let owner = Self::listener_owner(record);
        let https = kind == GaapProtocol::Https;
        if kind.is_layer4() {
            let mut out = Vec::new();
            for r in rules {
                let endpoints = r.pool.map(|p| p.endpoints.clone()).unwrap_or_default();
                let bound = self.bind_l4(owned, kind, record, &endpoints).await?;
                out.push(self.l4_rule(listener, &owner, &bound));
            }
            return Ok(out);
        }
        let http3 = field_u64(record, "Http3Supported") == Some(1);
        let mut made: Vec<String> = Vec::new();
        let mut domains = self.domains(listener.as_str()).await?;
        // Domains first (each host's certificate with it), then rules.
        for r in rules {
            match r.pool {
                Some(_) => self.ensure_domain(owned, (https, http3), r.spec, &domains).await?,
                None => {
                    let name = target_domain(r.backend.as_str()).unwrap_or_default();
                    self.ensure_marker(owned, &name, &domains).await?;
                    made.push(target_rule_id(listener.as_str()).0);
                }
            }
            domains = self.domains(listener.as_str()).await?;
        }
        // Every pool's origin servers in one listing (and one add).
        let all: Vec<Endpoint> = rules
            .iter()
            .filter_map(|r| r.pool)
            .flat_map(|p| p.endpoints.iter().cloned())
            .collect();
        let ids = if all.is_empty() {
            BTreeMap::new()
        } else {
            self.origin_ids(&all).await?
        };
        for r in rules {
            let Some(pool) = r.pool else { continue };
            let domain = domain_of(r.spec.host.as_deref());
            let endpoints = pool.endpoints.clone();
            let existing = domains
                .iter()
                .find(|d| d.name == domain)
                .and_then(|d| d.rules.iter().find(|x| x.path == r.spec.path))
                .map(|x| x.id.clone());
            let part = match existing {
                Some(id) => ownership::claim_part(API, PartOf::Listener(owned), &ResourceId(id), Some(owned.as_str()))?,
                None => {
                    let health = pool.health_check.as_ref();
                    self.create_one(owned, (domain, &r.spec.path), real_server_type(&endpoints), health)
                        .await?
                }
            };
            made.push(part.as_str().to_string());
            domains = if endpoints.is_empty() {
                self.domains(listener.as_str()).await?
            } else {
                self.bind_and_wait(owned, &part, &endpoints, Some(&ids)).await?
            };
        }
        Ok(self
            .rules_of(listener, &owner, &domains)
            .into_iter()
            .filter(|r| made.contains(&r.id.0))
            .collect())
    }

    /// The placeholder domain that records a mapped default target (see
    /// [`target_domain`]), as the listener's default domain.
    async fn ensure_marker(&self, owned: &Owned, name: &str, domains: &[DomainState]) -> Result<()> {
        if domains.iter().any(|d| d.name == name) {
            return Ok(());
        }
        tracing::info!(
            listener = owned.as_str(),
            domain = name,
            "recording the mapped default target"
        );
        let params = json!({ "Domain": name, "IsDefaultServer": true });
        match self.client.create_domain(owned, &params).await {
            Ok(()) => {}
            Err(Error::Transport {
                maybe_applied: true, ..
            }) => {}
            Err(Error::Vendor { code, .. }) if code == "FailedOperation.DomainAlreadyExisted" => {}
            Err(e) => return Err(e),
        }
        let n = name.to_string();
        self.settle(owned.as_str(), WaitOp::Create, &format!("domain {name}"), |d| {
            d.iter().any(|x| x.name == n)
        })
        .await?;
        Ok(())
    }

    /// [`RuleProvider::delete_rules`] under the write lock the caller holds.
    async fn delete_inner(
        &self,
        listener: &ListenerId,
        owned: &Owned,
        kind: GaapProtocol,
        record: &Value,
        rules: &[ResourceId],
    ) -> Result<()> {
        if kind.is_layer4() {
            if rules.iter().any(|r| l4_listener_of(r) == Some(listener.as_str())) {
                let before = self.client.listener_real_servers(listener.as_str()).await?;
                let candidates: BTreeSet<String> = read_bound(Some(&Value::Array(before)))
                    .into_iter()
                    .map(|b| b.id)
                    .collect();
                self.bind_l4(owned, kind, record, &[]).await?;
                self.remove_unused_origins(candidates, &[]).await?;
            }
            return Ok(());
        }
        let mut domains = self.domains(listener.as_str()).await?;
        let mut touched: BTreeSet<String> = BTreeSet::new();
        if rules.contains(&target_rule_id(listener.as_str())) {
            touched.extend(
                domains
                    .iter()
                    .filter(|d| target_of_domain(&d.name).is_some())
                    .map(|d| d.name.clone()),
            );
        }
        let parts = own_rules(owned, &domains, rules)?;
        let mut candidates = BTreeSet::new();
        for (part, domain) in &parts {
            if let Some(r) = domains
                .iter()
                .flat_map(|d| d.rules.iter())
                .find(|r| r.id == part.as_str())
            {
                candidates.extend(r.origins.iter().map(|o| o.id.clone()));
            }
            tracing::info!(rule = part.as_str(), "deleting GAAP rule");
            self.client.delete_rule(owned, part).await?;
            let gone = part.as_str().to_string();
            domains = self
                .settle(owned.as_str(), WaitOp::Delete, &format!("delete of rule {gone}"), |d| {
                    !d.iter().any(|x| x.rules.iter().any(|r| r.id == gone))
                })
                .await?;
            touched.insert(domain.clone());
        }
        // A domain whose last rule went goes too: a host the file no longer
        // routes must reach the default domain, not a 404.
        for name in touched {
            if domains.iter().any(|d| d.name == name && d.rules.is_empty()) {
                tracing::info!(domain = %name, "deleting GAAP domain without rules");
                self.client.delete_domain(owned, &name).await?;
                let n = name.clone();
                domains = self
                    .settle(
                        owned.as_str(),
                        WaitOp::Delete,
                        &format!("delete of domain {name}"),
                        |d| !d.iter().any(|x| x.name == n),
                    )
                    .await?;
            }
        }
        self.remove_unused_origins(candidates, &domains).await
    }
}

#[async_trait]
impl RuleProvider for GaapProvider {
    fn pool_health_differs(&self, live: &Rule, want: Option<&HealthCheck>) -> bool {
        !rule_check_matches(live.pool_health_check.as_ref(), want)
    }

    fn check_rules(&self, listener: &ListenerSpec, rules: &[RouteSpec]) -> Vec<(usize, Rejection)> {
        let layer7 = matches!(listener.protocol, Protocol::Http | Protocol::Https);
        check_routes(layer7, listener.protocol == Protocol::Https, rules, |r| {
            r.certificate.as_deref()
        })
    }

    async fn list_rules(&self, listener: &ListenerId) -> Result<Vec<Rule>> {
        let (_, kind, record) = self.own_listener(listener).await?;
        let owner = Self::listener_owner(&record);
        if kind.is_layer4() {
            let bound = read_bound(Some(&Value::Array(
                self.client.listener_real_servers(listener.as_str()).await?,
            )));
            return Ok(if bound.is_empty() {
                Vec::new()
            } else {
                vec![self.l4_rule(listener, &owner, &bound)]
            });
        }
        let domains = self.domains(listener.as_str()).await?;
        Ok(self.rules_of(listener, &owner, &domains))
    }

    async fn create_rules(&self, listener: &ListenerId, rules: &[NewRule<'_>]) -> Result<Vec<Rule>> {
        if rules.is_empty() {
            return Ok(Vec::new());
        }
        let (owned, kind, record) = self.own_listener(listener).await?;
        Rejections::from_vec(API, check_new(!kind.is_layer4(), kind == GaapProtocol::Https, rules)).into_result()?;
        let _writing = self.writes.hold().await;
        self.create_inner(listener, &owned, kind, &record, rules).await
    }

    async fn update_rule(&self, current: &Rule, desired: &NewRule<'_>) -> Result<Rule> {
        let listener = &current.listener;
        let (owned, kind, record) = self.own_listener(listener).await?;
        let https = kind == GaapProtocol::Https;
        Rejections::from_vec(API, check_new(!kind.is_layer4(), https, std::slice::from_ref(desired))).into_result()?;
        let owner = Self::listener_owner(&record);
        let _writing = self.writes.hold().await;
        let Some(pool) = desired.pool.filter(|_| !kind.is_layer4()) else {
            if kind.is_layer4() {
                let endpoints = desired.pool.map(|p| p.endpoints.clone()).unwrap_or_default();
                let bound = self.bind_l4(&owned, kind, &record, &endpoints).await?;
                return Ok(self.l4_rule(listener, &owner, &bound));
            }
            // Now a mapped default target: the root rule's domain goes, the
            // marker comes.
            self.delete_inner(listener, &owned, kind, &record, std::slice::from_ref(&current.id))
                .await?;
            let made = self
                .create_inner(listener, &owned, kind, &record, std::slice::from_ref(desired))
                .await?;
            return made.into_iter().next().ok_or_else(|| Error::Transport {
                vendor: API,
                message: "the default target's marker domain is not listed after its creation".into(),
                maybe_applied: true,
            });
        };
        if current.id == target_rule_id(listener.as_str()) {
            // Was a mapped default target: its marker goes, the rule comes.
            self.delete_inner(listener, &owned, kind, &record, std::slice::from_ref(&current.id))
                .await?;
            let made = self
                .create_inner(listener, &owned, kind, &record, std::slice::from_ref(desired))
                .await?;
            return made.into_iter().next().ok_or_else(|| Error::Transport {
                vendor: API,
                message: "the root rule is not listed after its creation".into(),
                maybe_applied: true,
            });
        }
        let endpoints = pool.endpoints.clone();
        let domains = self.domains(listener.as_str()).await?;
        let parts = own_rules(&owned, &domains, std::slice::from_ref(&current.id))?;
        let Some((part, domain)) = parts.into_iter().next() else {
            return Err(Error::NotFound {
                vendor: API,
                what: format!("rule {} on listener {listener}", current.id),
            });
        };
        let found = domains
            .iter()
            .find(|d| d.name == domain)
            .and_then(|d| Some((d.clone(), d.rules.iter().find(|r| r.id == part.as_str())?.clone())));
        let Some((live, rule)) = found else {
            return Err(Error::NotFound {
                vendor: API,
                what: format!("rule {} on listener {listener}", current.id),
            });
        };
        // The certificate first: it is the host's, whatever the pool.
        if https {
            let want = self.certificate_id(desired.spec);
            self.rotate(&owned, &domain, live.certificate.as_deref().unwrap_or("default"), &want)
                .await?;
        }
        let candidates: BTreeSet<String> = rule.origins.iter().map(|o| o.id.clone()).collect();
        let want_type = real_server_type(&endpoints);
        let (part, domains) = if !endpoints.is_empty() && want_type != rule.real_server_type {
            // RealServerType is fixed per rule: a pool of the other kind is
            // a new rule (its origins unbound with it).
            tracing::info!(
                rule = part.as_str(),
                "replacing GAAP rule: the pool's origin kind changed"
            );
            self.client.delete_rule(&owned, &part).await?;
            let gone = part.as_str().to_string();
            self.settle(owned.as_str(), WaitOp::Delete, &format!("delete of rule {gone}"), |d| {
                !d.iter().any(|x| x.rules.iter().any(|r| r.id == gone))
            })
            .await?;
            let fresh = self
                .create_one(&owned, (&domain, &rule.path), want_type, pool.health_check.as_ref())
                .await?;
            let d = self.bind_and_wait(&owned, &fresh, &endpoints, None).await?;
            (fresh, d)
        } else if !same_origins(&rule.origins, &endpoints) {
            let d = self.bind_and_wait(&owned, &part, &endpoints, None).await?;
            (part, d)
        } else {
            (part, self.domains(listener.as_str()).await?)
        };
        // The pool's health check is the rule's: one ModifyRuleAttribute
        // when the rule's differs (a replaced rule was made with it).
        let want = pool.health_check.as_ref();
        let live = domains
            .iter()
            .flat_map(|d| d.rules.iter())
            .find(|r| r.id == part.as_str())
            .and_then(rule_health_of);
        let domains = if rule_check_matches(live.as_ref(), want) {
            domains
        } else {
            let mut params = json!({});
            for (k, v) in rule_check(want) {
                params[k] = v;
            }
            tracing::info!(rule = part.as_str(), "changing the GAAP rule's health check");
            self.client.modify_rule(&owned, &part, &params).await?;
            let id = part.as_str().to_string();
            self.settle(
                owned.as_str(),
                WaitOp::Update,
                &format!("health check of rule {id}"),
                |d| {
                    d.iter()
                        .flat_map(|x| x.rules.iter())
                        .any(|r| r.id == id && rule_check_matches(rule_health_of(r).as_ref(), want))
                },
            )
            .await?
        };
        self.remove_unused_origins(candidates, &domains).await?;
        self.rules_of(listener, &owner, &domains)
            .into_iter()
            .find(|r| r.id.as_str() == part.as_str())
            .ok_or_else(|| Error::Transport {
                vendor: API,
                message: format!("rule {} is not listed after its update", part.as_str()),
                maybe_applied: true,
            })
    }

    async fn delete_rules(&self, listener: &ListenerId, rules: &[ResourceId]) -> Result<()> {
        if rules.is_empty() {
            return Ok(());
        }
        let (owned, kind, record) = self.own_listener(listener).await?;
        let _writing = self.writes.hold().await;
        self.delete_inner(listener, &owned, kind, &record, rules).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(host: Option<&str>, path: &str) -> RouteSpec {
        RouteSpec::new(host, path, "web")
    }

    fn ep(a: &str, w: u32) -> Endpoint {
        let mut e = Endpoint::new(a, 80);
        e.weight = w;
        e
    }

    fn none(_: &RouteSpec) -> Option<&str> {
        None
    }

    #[test]
    fn wildcard_hosts_are_refused_gaap_is_exact_only() {
        let got = check_routes(
            true,
            false,
            &[r(Some("*.example.com"), "/"), r(Some("a.example.com"), "/")],
            none,
        );
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].0, got[0].1.field.as_str(), got[0].1.rule),
            (0, "routes[0].host", EXACT_HOSTS)
        );
    }

    #[test]
    fn more_than_twenty_paths_on_a_host_are_refused() {
        let many: Vec<RouteSpec> = (0..21).map(|i| r(Some("a.example.com"), &format!("/p{i}"))).collect();
        let got = check_routes(true, false, &many, none);
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].0, got[0].1.rule), (20, RULES_PER_DOMAIN));
        assert!(check_routes(true, false, &many[..20], none).is_empty());
    }

    #[test]
    fn long_paths_and_layer4_hosts_are_refused() {
        let long = format!("/{}", "a".repeat(80));
        let got = check_routes(true, false, &[r(Some("a.example.com"), &long)], none);
        assert_eq!(
            (got[0].1.field.as_str(), got[0].1.rule),
            ("routes[0].path", INVALID_VALUE)
        );
        let got = check_routes(false, false, &[r(Some("a.example.com"), "/"), r(None, "/")], none);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].1.rule, NEEDS_L7);
    }

    #[test]
    fn a_host_has_one_certificate_and_only_on_https() {
        let rules = [r(Some("a.example.com"), "/"), r(Some("a.example.com"), "/v1")];
        fn cert(x: &RouteSpec) -> Option<&str> {
            (x.path == "/v1").then_some("web2")
        }
        fn all(_: &RouteSpec) -> Option<&str> {
            Some("web2")
        }
        let got = check_routes(true, true, &rules, cert);
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].1.field.as_str(), got[0].1.rule),
            ("routes[1].certificate", ONE_CERTIFICATE)
        );
        assert!(check_routes(true, true, &rules, all).is_empty());
        let got = check_routes(true, false, &rules, all);
        assert!(got.iter().all(|(_, x)| x.rule == NEEDS_L7) && got.len() == 2);
    }

    #[test]
    fn more_than_one_hundred_domains_are_refused() {
        let many: Vec<RouteSpec> = (0..100)
            .map(|i| r(Some(&format!("h{i}.example.com")), "/"))
            .chain([r(None, "/")])
            .collect();
        let got = check_routes(true, false, &many, none);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].1.rule, DOMAINS);
    }

    #[test]
    fn pools_need_weights_in_range_and_one_kind_of_origin() {
        let p = PoolSpec::new("web", vec![ep("10.0.0.1", 0), ep("10.0.0.2", 101), ep("10.0.0.3", 100)]);
        let got: Vec<(String, &str)> = check_pool(&p).into_iter().map(|x| (x.field, x.rule)).collect();
        assert_eq!(
            got,
            vec![
                ("backends.web.endpoints[0].weight".to_string(), INVALID_VALUE),
                ("backends.web.endpoints[1].weight".to_string(), INVALID_VALUE),
            ]
        );
        let mixed = PoolSpec::new("m", vec![ep("10.0.0.1", 10), ep("origin.example.com", 10)]);
        let got = check_pool(&mixed);
        assert_eq!(
            (got[0].field.as_str(), got[0].rule),
            ("backends.m.endpoints[1].address", MIXED_ORIGINS)
        );
        let names = PoolSpec::new("n", vec![ep("a.example.com", 10), ep("b.example.com", 20)]);
        assert_eq!(check_pool(&names)[0].rule, UNWEIGHTED_DOMAINS);
        let even = PoolSpec::new("n", vec![ep("a.example.com", 10), ep("b.example.com", 10)]);
        assert!(check_pool(&even).is_empty());
        let big = PoolSpec::new("b", (0..101).map(|i| ep(&format!("10.0.1.{i}"), 1)).collect());
        assert_eq!(check_pool(&big)[0].rule, ORIGINS);
        let mut hc = listener_core::HealthCheck {
            enabled: true,
            kind: None,
            interval_secs: None,
            timeout_secs: None,
            healthy_threshold: None,
            unhealthy_threshold: None,
            port: None,
            http: None,
            custom: None,
        };
        // A plain check is taken (on each rule that uses the pool).
        let checked = PoolSpec::new("h", vec![ep("10.0.0.1", 1)]).with_health_check(Some(hc.clone()));
        assert!(check_pool(&checked).is_empty());
        hc.enabled = false;
        assert!(check_pool(&PoolSpec::new("h", vec![ep("10.0.0.1", 1)]).with_health_check(Some(hc))).is_empty());
    }

    /// What `RuleCheckParams` cannot say, refused at the pool's field:
    /// non-HTTP probes, a port, thresholds, a check domain (set only at
    /// creation), and the ranges (`InvalidParameterValue`: DelayLoop
    /// 5–300 s, ConnectTimeout 2–60 s and below it).
    #[test]
    fn rule_checks_gaap_cannot_say_are_refused() {
        let hc: HealthCheck = serde_json::from_value(json!({
            "kind": "tcp", "port": 81, "healthy_threshold": 3, "interval_secs": 3,
            "http": { "domain": "check.example.com" }
        }))
        .expect("health check");
        let mut got: Vec<(String, &str)> = check_rule_health(&hc, "backends.h.health_check")
            .into_iter()
            .map(|x| (x.field, x.rule))
            .collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                ("backends.h.health_check.healthy_threshold".to_string(), RULE_CHECK),
                ("backends.h.health_check.http.domain".to_string(), RULE_CHECK),
                ("backends.h.health_check.interval_secs".to_string(), INVALID_VALUE),
                ("backends.h.health_check.kind".to_string(), RULE_CHECK),
                ("backends.h.health_check.port".to_string(), RULE_CHECK),
            ]
        );
        let slow: HealthCheck =
            serde_json::from_value(json!({ "interval_secs": 10, "timeout_secs": 10 })).expect("health check");
        let got = check_rule_health(&slow, "h");
        assert_eq!((got[0].field.as_str(), got[0].rule), ("h.timeout_secs", INVALID_VALUE));
        // Behind a TCP listener the listener's check is GAAP's.
        let tcp = ListenerSpec::new("db", Protocol::Tcp, listener_core::Ports::Single(5432));
        let pool = PoolSpec::new("h", vec![ep("10.0.0.1", 1)]).with_health_check(Some(slow));
        assert_eq!(check_listener_pool(&tcp, &pool)[0].rule, HEALTH_CHECK_LAYER4);
    }

    /// A pool's check is each rule's `HealthCheck` 1 with `CheckParams`,
    /// read back from `DescribeRules` with GAAP's defaults filled in.
    #[test]
    fn a_pool_health_check_is_sent_on_the_rule_and_read_back() {
        let hc: HealthCheck = serde_json::from_value(json!({
            "kind": "http", "interval_secs": 10, "timeout_secs": 3,
            "http": { "path": "/healthz", "method": "GET", "healthy_status_classes": [2, 3] }
        }))
        .expect("health check");
        let p = create_rule_params("a.example.com", "/v1", "IP", Some(&hc));
        assert_eq!(p["HealthCheck"], json!(1));
        assert_eq!(
            p["CheckParams"],
            json!({ "DelayLoop": 10, "ConnectTimeout": 3, "Path": "/healthz", "Method": "GET", "StatusCode": [200, 300] })
        );
        assert_eq!(create_rule_params("a", "/", "IP", None)["HealthCheck"], json!(0));
        let live = RuleState {
            id: "rule-1".into(),
            path: "/v1".into(),
            real_server_type: "IP".into(),
            status: 0,
            origins: Vec::new(),
            health_check: 1,
            check_params: json!({
                "DelayLoop": 10, "ConnectTimeout": 3, "Path": "/healthz", "Method": "GET",
                "StatusCode": [200, 300], "Domain": null, "FailedCountInter": 0,
            }),
        };
        let back = rule_health_of(&live);
        assert!(rule_check_matches(back.as_ref(), Some(&hc)));
        assert!(rule_check_matches(back.as_ref(), None));
        let other = HealthCheck {
            interval_secs: Some(20),
            ..hc.clone()
        };
        assert!(!rule_check_matches(back.as_ref(), Some(&other)));
        let off = RuleState {
            health_check: 0,
            ..live
        };
        assert_eq!(rule_health_of(&off), None);
        assert!(!rule_check_matches(None, Some(&hc)));
    }

    #[test]
    fn kinds_and_schedulers_follow_the_pool() {
        assert_eq!(real_server_type(&[ep("10.0.0.1", 1)]), "IP");
        assert_eq!(real_server_type(&[ep("o.example.com", 1)]), "DOMAIN");
        let p = create_rule_params("a.example.com", "/v1", "DOMAIN", None);
        assert_eq!(p["Scheduler"], json!("rr"));
        assert_eq!(create_rule_params("a", "/", "IP", None)["Scheduler"], json!("wrr"));
        let default = create_domain_params(DEFAULT_DOMAIN, None, false);
        assert_eq!(default["IsDefaultServer"], json!(true));
        let named = create_domain_params("a.example.com", Some("cert-1"), false);
        assert_eq!(named["CertificateId"], json!("cert-1"));
        assert!(named.get("IsDefaultServer").is_none() && named.get("Http3Supported").is_none());
        assert_eq!(
            create_domain_params("a.example.com", None, true)["Http3Supported"],
            json!(1)
        );
    }

    #[test]
    fn read_back_of_describe_rules() {
        let body = json!({"TotalCount": 1, "DomainRuleSet": [
            {"Domain": "a.example.com", "CertificateId": "default", "IsDefaultServer": false, "DomainStatus": 0,
             "RuleSet": [{"RuleId": "rule-1", "Path": "/v1", "RealServerType": "IP", "RuleStatus": 3,
                          "RealServerSet": [{"RealServerId": "rs-2", "RealServerIP": "10.0.0.2", "RealServerPort": 90, "RealServerWeight": 5},
                                            {"RealServerId": "rs-1", "RealServerIP": "10.0.0.1", "RealServerPort": 80}]}]},
            {"Domain": DEFAULT_DOMAIN, "CertificateId": "cert-9", "IsDefaultServer": true, "DomainStatus": 1, "RuleSet": []}
        ]});
        let d = read_domains(&body);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].certificate, None);
        assert_eq!(d[1].certificate.as_deref(), Some("cert-9"));
        assert!(!d[0].settled() && !d[1].settled());
        assert_eq!(d[0].rules[0].origins[0].weight, 1, "sorted, default weight 1");
        assert!(same_origins(
            &d[0].rules[0].origins,
            &[ep("10.0.0.1", 1), {
                let mut e = Endpoint::new("10.0.0.2", 90);
                e.weight = 5;
                e
            }]
        ));
        assert_eq!(host_of(DEFAULT_DOMAIN), None);
        assert_eq!(l4_listener_of(&l4_rule_id("listener-1")), Some("listener-1"));
    }
}
