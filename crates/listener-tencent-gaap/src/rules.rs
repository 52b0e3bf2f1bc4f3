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

use listener_core::ownership::{self, OwnedPart, PartOf};
use listener_core::{Endpoint, Error, ListenerId, Owned, PoolSpec, Rejection, ResourceId, Result, RouteSpec};
use serde_json::{json, Value};

use crate::translate::{field_str, field_u64};
use crate::API;

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
/// when the route names one, the default-server flag for the placeholder.
pub fn create_domain_params(domain: &str, certificate_id: Option<&str>) -> Value {
    let mut v = json!({ "Domain": domain });
    if let Some(c) = certificate_id {
        v["CertificateId"] = json!(c);
    }
    if domain == DEFAULT_DOMAIN {
        v["IsDefaultServer"] = json!(true);
    }
    v
}

/// `CreateRule` parameters (without `ListenerId`) for `path` on `domain`
/// with origins of `real_server_type`. Health checks are off: the neutral
/// pool's health check is not translated for GAAP yet.
pub fn create_rule_params(domain: &str, path: &str, real_server_type: &str) -> Value {
    json!({
        "Domain": domain,
        "Path": path,
        "RealServerType": real_server_type,
        "Scheduler": scheduler_for(real_server_type),
        "HealthCheck": 0,
    })
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

/// The listener a rule write names, as text, for errors.
pub fn listener_text(id: &ListenerId) -> String {
    id.as_str().to_string()
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
    }

    #[test]
    fn kinds_and_schedulers_follow_the_pool() {
        assert_eq!(real_server_type(&[ep("10.0.0.1", 1)]), "IP");
        assert_eq!(real_server_type(&[ep("o.example.com", 1)]), "DOMAIN");
        let p = create_rule_params("a.example.com", "/v1", "DOMAIN");
        assert_eq!(p["Scheduler"], json!("rr"));
        assert_eq!(create_rule_params("a", "/", "IP")["Scheduler"], json!("wrr"));
        assert_eq!(
            create_domain_params(DEFAULT_DOMAIN, None)["IsDefaultServer"],
            json!(true)
        );
        assert_eq!(
            create_domain_params("a.example.com", Some("cert-1"))["CertificateId"],
            json!("cert-1")
        );
        assert!(create_domain_params("a.example.com", None)
            .get("IsDefaultServer")
            .is_none());
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
