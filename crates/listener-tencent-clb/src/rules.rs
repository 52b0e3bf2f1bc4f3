//! Routes and backends on CLB, the pure translation: one neutral rule
//! (`listener_core::RouteSpec`, as the plan expands a listener's routes)
//! as one CLB rule (`Domain` + `Url`) with the endpoints of its pool bound
//! to it as targets, read back from `DescribeTargets` and
//! `DescribeListeners`; no calls here (those are in [`crate::routes`]).
//!
//! **How a pool maps** (`pools_on_rules`). CLB has no pool object when
//! targets bind to rules (`TargetType` `NODE`): a neutral pool is realised
//! as the **target set of every rule that forwards to it**. The plan hands
//! each rule its pool's endpoints; changing a pool's endpoints changes the
//! targets of each rule that uses it (an in-place rule update). CLB target
//! groups exist, but a rule bound to a target group cannot also hold
//! targets and they are a separate product surface: a backend mapped to
//! an existing vendor pool (`backends.X.target`) is refused.
//!
//! **How a rule is recognised as ours.** A CLB rule has no name, tag or
//! description, so it cannot carry a mark. A rule is owned when its
//! listener is owned (the listener's name suffix, see [`crate`]): every
//! rule of an owned listener is ours, and the rules of a listener without
//! our mark are never written.
//!
//! **Translation** (docs/routing.md, "Tencent CLB"):
//! - a rule with a host is a CLB rule with `Domain` = the host as written
//!   (`*.a.b` is CLB's leading wildcard) and `Url` = the path prefix as
//!   written (a plain URL is a prefix on CLB; no regular expression is
//!   ever sent);
//! - the plan adds a `/` rule per host to the default pool (a matched CLB
//!   domain never falls through: 404 otherwise);
//! - the root rule (no host) on an HTTP/HTTPS listener is `/` on the
//!   placeholder [`DEFAULT_DOMAIN`], created with `DefaultServer`, so
//!   unknown hosts reach the default backend and no real host lends them
//!   its path rules;
//! - the root rule on a layer-4 listener (TCP, UDP, TCP_SSL, QUIC) is the
//!   targets registered on the listener itself (no `LocationId`); its ID
//!   is `<listener id>/targets` ([`listener_targets_id`]);
//! - a route certificate is the domain's certificate
//!   (`Certificate {SSLMode UNIDIRECTIONAL, CertId}`), which needs SNI on
//!   the listener: see [`crate::routes`] for how SNI gets switched on and
//!   which certificate the other domains get;
//! - weights are always sent (CLB's default is 10).
//!
//! What CLB cannot express identically is refused by [`check`] (over the
//! rules of a listener) and [`check_new`] (over the pool a rule carries)
//! before any call.

use std::collections::{BTreeMap, BTreeSet};

use listener_core::routes::Route;
use listener_core::{
    routing, Aliases, Endpoint, HealthCheck, HealthCheckKind, ListenerSpec, NewRule, PoolSpec, Protocol, Rejection,
    RouteSpec,
};
use serde_json::{json, Value};

use crate::client::MAX_TARGETS_PER_CALL;
use crate::API;

/// The placeholder default domain: a name no client asks for (`.invalid`
/// is reserved, RFC 2606), whose only rule forwards `/` to the default pool,
/// so unknown hosts reach the default backend and no real host lends its
/// path rules to them.
pub const DEFAULT_DOMAIN: &str = "default.lctl.invalid";

/// Rules per listener (CLB's `TOTAL_LISTENER_RULE_QUOTA` default, and the
/// emulator's; `LimitExceeded`).
pub const MAX_RULES_PER_LISTENER: usize = 50;

/// Targets per rule (CLB's `TOTAL_TARGET_BIND_QUOTA` default;
/// `LimitExceeded`).
pub const MAX_TARGETS_PER_RULE: usize = 100;

/// The largest target weight CLB takes (`Target.Weight`, 0–100).
pub const MAX_WEIGHT: u32 = 100;

/// The suffix of the ID of a layer-4 listener's root rule.
pub const LISTENER_TARGETS: &str = "/targets";

/// Rule names used in rejections.
pub const NESTED_WILDCARD: &str = "nested_wildcard";
/// A domain-name endpoint.
pub const DOMAIN_ENDPOINT: &str = "domain_endpoint";
/// A backend mapped to an existing vendor pool.
pub const MAPPED_BACKEND: &str = "mapped_backend";
/// No default backend on a listener with routes.
pub const NO_DEFAULT: &str = "default_backend_required";
/// Past a quota.
pub const QUOTA: &str = "LimitExceeded";
/// A value CLB refuses (`InvalidParameterValue`).
pub const INVALID_VALUE: &str = "InvalidParameterValue";
/// A route certificate CLB cannot take as written.
pub const ROUTE_CERTIFICATE: &str = "route_certificate";
/// Host routes on a listener that is not HTTP/HTTPS.
pub const NOT_HTTP: &str = "routes_need_http";
/// `tls.sni` written in a way that contradicts the routes.
pub const SNI: &str = "sni_for_route_certificates";
/// A pool's health check CLB cannot keep where the pool is bound: a
/// layer-4 listener's backend (the check there is the listener's own).
pub const HEALTH_CHECK_LAYER4: &str = "clb_pool_health_check_on_layer4";

/// The ID of a layer-4 listener's root rule: its targets, bound on the
/// listener (`<listener id>/targets`).
pub fn listener_targets_id(listener: &str) -> String {
    format!("{listener}{LISTENER_TARGETS}")
}

/// Whether CLB binds this protocol's targets on the listener (no rules).
pub fn targets_on_listener(p: Protocol) -> bool {
    !matches!(p, Protocol::Http | Protocol::Https)
}

/// The CLB domain of a rule: its host, or [`DEFAULT_DOMAIN`] for the root.
pub fn domain_of(spec: &RouteSpec) -> &str {
    spec.host.as_deref().unwrap_or(DEFAULT_DOMAIN)
}

/// The neutral host of a CLB rule read back: `None` for the default
/// domain's `/` (the root rule).
pub fn host_of(domain: &str, url: &str) -> Option<String> {
    (!(domain == DEFAULT_DOMAIN && url == "/")).then(|| domain.to_string())
}

/// One target: an ENI IP, a port, a weight.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Target {
    /// The IP address (`EniIp`).
    pub address: String,
    /// The port.
    pub port: u32,
    /// The weight (0–100 on CLB; 1–100 from the file).
    pub weight: u32,
}

impl Target {
    /// As a `Targets` entry.
    pub fn to_param(&self) -> Value {
        json!({ "EniIp": self.address, "Port": self.port, "Weight": self.weight })
    }

    /// The same target whatever its weight (what a register is keyed on).
    pub fn key(&self) -> (&str, u32) {
        (&self.address, self.port)
    }

    /// As a neutral endpoint.
    pub fn to_endpoint(&self) -> Endpoint {
        let mut e = Endpoint::new(self.address.clone(), self.port);
        e.weight = self.weight;
        e
    }
}

/// One CLB rule as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClbRule {
    /// `LocationId`.
    pub id: String,
    /// `Domain`.
    pub domain: String,
    /// `Url`.
    pub url: String,
    /// Its targets, sorted.
    pub targets: Vec<Target>,
}

impl ClbRule {
    /// The rule's identity on its listener.
    pub fn key(&self) -> (&str, &str) {
        (&self.domain, &self.url)
    }
}

fn field(index: usize, sub: &str) -> String {
    format!("routes[{index}].{sub}")
}

/// The rules the plan hands a `pools_on_rules` provider for `listener`
/// (the neutral expansion of `docs/routing.md`, as the facade's planner
/// makes it): the routes, each with its host's certificate; a `/` rule per
/// route host without one, to the default backend; the root rule (no
/// host) to the default backend. For the offline check of a listener spec
/// with its routes ([`crate::check`]), so that the refusals come before
/// any plan.
pub fn expand(listener: &ListenerSpec) -> Vec<RouteSpec> {
    let cert_of = |host: &str| {
        listener
            .routes
            .iter()
            .find(|r| r.host == host && r.certificate.is_some())
            .and_then(|r| r.certificate.clone())
    };
    let mut out: Vec<RouteSpec> = listener
        .routes
        .iter()
        .map(|r| RouteSpec::new(Some(&r.host), r.path.clone(), r.backend.clone()).with_certificate(cert_of(&r.host)))
        .collect();
    let Some(default) = &listener.backend else {
        return out;
    };
    let mut hosts: Vec<&str> = Vec::new();
    for r in &listener.routes {
        if !hosts.contains(&r.host.as_str()) {
            hosts.push(&r.host);
        }
    }
    for host in hosts {
        if !listener.routes.iter().any(|r| r.host == host && r.path == "/") {
            out.push(RouteSpec::new(Some(host), "/", default.clone()).with_certificate(cert_of(host)));
        }
    }
    out.push(RouteSpec::new(None, "/", default.clone()));
    out
}

/// Every reason CLB cannot route `rules` (a listener's rules as the plan
/// expands them: the file's routes first, in order, so index `i` below
/// their count is `routes[i]`) on `listener` exactly as the neutral
/// semantics say, without a call.
///
/// - Host rules on a listener that is not HTTP/HTTPS: CLB rules exist on
///   HTTP and HTTPS listeners only (`InvalidParameterValue`).
/// - Host rules without a root rule (no default backend): CLB always has
///   a default domain (the first domain made) that takes unknown hosts, so
///   they would reach some host's rules instead of nothing.
/// - Nested wildcard hosts (`*.example.com` and `*.a.example.com`): CLB
///   ranks exact over wildcard but gives no order within the wildcard tier.
/// - A route certificate on a listener that is not HTTPS, or with
///   `tls.sni` written (see [`crate::routes`]), or the listener's own
///   certificate again (it would read back as the listener's).
/// - More than [`MAX_RULES_PER_LISTENER`] rules (`LimitExceeded`).
pub fn check(listener: &ListenerSpec, rules: &[RouteSpec], aliases: &Aliases) -> Vec<(usize, Rejection)> {
    let mut out = Vec::new();
    let hosts: Vec<(usize, &RouteSpec)> = rules.iter().enumerate().filter(|(_, r)| r.host.is_some()).collect();
    if targets_on_listener(listener.protocol) {
        for (i, _) in &hosts {
            out.push((
                *i,
                Rejection::new(
                    API,
                    field(*i, "host"),
                    NOT_HTTP,
                    "CLB rules exist on HTTP and HTTPS listeners only; a layer-4 listener forwards to its one backend",
                ),
            ));
        }
        return out;
    }
    if !hosts.is_empty() && !rules.iter().any(RouteSpec::is_root) {
        let target = listener.forwarding.as_ref().and_then(|f| f.default_target.as_ref());
        out.push((
            hosts[0].0,
            Rejection::new(
                API,
                "backend",
                NO_DEFAULT,
                match target {
                    Some(t) => format!(
                        "CLB needs a default backend for the hosts no route takes (its default domain otherwise lends them another host's rules); `forwarding.default_target` `{t}` would be a CLB target group, which this adapter does not bind: name a `backend`"
                    ),
                    None => "CLB needs a default backend for the hosts no route takes: its default domain otherwise lends them another host's rules".to_string(),
                },
            ),
        ));
    }
    let as_routes: Vec<Route> = hosts
        .iter()
        .map(|(_, r)| Route::new(r.host.clone().unwrap_or_default(), r.path.clone(), r.backend.clone()))
        .collect();
    for (a, b) in routing::nested_wildcards(&as_routes) {
        let (ia, ib) = (hosts[a].0, hosts[b].0);
        out.push((
            ib,
            Rejection::new(
                API,
                field(ib, "host"),
                NESTED_WILDCARD,
                format!(
                    "`{}` and `{}` (routes[{ia}]) are nested wildcards: CLB does not order matches within the wildcard tier",
                    as_routes[b].host, as_routes[a].host
                ),
            ),
        ));
    }
    let own = listener
        .tls
        .as_ref()
        .and_then(|t| t.certificates.first())
        .map(|a| aliases.certificate(a).unwrap_or(a).to_string());
    let mut sni_said = false;
    for (i, r) in rules.iter().enumerate() {
        let Some(cert) = &r.certificate else { continue };
        if listener.protocol != Protocol::Https {
            out.push((
                i,
                Rejection::new(
                    API,
                    field(i, "certificate"),
                    ROUTE_CERTIFICATE,
                    "a CLB domain takes a certificate on HTTPS listeners only (`InvalidParameterValue`)",
                ),
            ));
            continue;
        }
        if let Some(sni) = listener.tls.as_ref().and_then(|t| t.sni) {
            if !sni_said {
                sni_said = true;
                out.push((
                    i,
                    Rejection::new(
                        API,
                        "tls.sni",
                        SNI,
                        if sni {
                            "leave `tls.sni` out: with SNI on from the start CLB takes no listener certificate for the hosts without their own; listenerctl switches SNI on when the first route certificate is bound"
                        } else {
                            "route certificates need SNI, which CLB can never switch off again: `tls.sni: false` contradicts them"
                        },
                    ),
                ));
            }
        }
        if own.as_deref() == Some(aliases.certificate(cert).unwrap_or(cert)) {
            out.push((
                i,
                Rejection::new(
                    API,
                    field(i, "certificate"),
                    ROUTE_CERTIFICATE,
                    format!("`{cert}` is the listener's own certificate, which every host without one serves already: leave it out"),
                ),
            ));
        }
    }
    // CLB serves the matched domain's own certificate; the neutral
    // semantics give a host the most specific route host's that names one.
    // They differ for an exact host without a certificate under a wildcard
    // with one.
    for (i, r) in rules.iter().enumerate() {
        let Some(host) = r.host.as_deref().filter(|h| !h.starts_with('*')) else {
            continue;
        };
        if r.certificate.is_some() {
            continue;
        }
        let wild = rules.iter().find(|w| {
            w.certificate.is_some()
                && w.host
                    .as_deref()
                    .is_some_and(|wh| wh.starts_with("*.") && routing::host_match(wh, host).is_some())
        });
        if let Some(w) = wild {
            out.push((
                i,
                Rejection::new(
                    API,
                    field(i, "host"),
                    ROUTE_CERTIFICATE,
                    format!(
                        "`{host}` names no certificate but `{}` does: CLB would serve `{host}` its own domain's (the listener's), the neutral semantics the wildcard's; name the certificate on `{host}` too",
                        w.host.as_deref().unwrap_or("")
                    ),
                ),
            ));
        }
    }
    if rules.len() > MAX_RULES_PER_LISTENER {
        out.push((
            0,
            Rejection::new(
                API,
                "routes",
                QUOTA,
                format!(
                    "{} CLB rules (routes, a `/` rule per host and the default domain's); the quota is {MAX_RULES_PER_LISTENER} per listener",
                    rules.len()
                ),
            ),
        ));
    }
    out
}

/// Every reason CLB cannot bind the pool `rule` forwards to, without a
/// call (the plan passes a pool's endpoints on the rule): a backend mapped
/// to an existing vendor pool (that is a CLB target group here, which this
/// adapter does not bind), then [`check_pool`].
pub fn check_new(rule: &NewRule<'_>) -> Vec<Rejection> {
    let name = &rule.spec.backend;
    let mut out = Vec::new();
    let Some(pool) = rule.pool else {
        out.push(Rejection::new(
            API,
            format!("backends.{name}.target"),
            MAPPED_BACKEND,
            format!(
                "`{name}` is mapped to an existing vendor pool ({}); on CLB that is a target group, which this adapter does not bind: describe its endpoints instead",
                rule.backend
            ),
        ));
        return out;
    };
    check_pool(pool)
}

/// Every reason CLB cannot bind the endpoints of inline pool `pool` on a
/// rule, offline (the facade's `check_backends` runs it over the file's
/// pools; [`check_new`] again before any write):
///
/// - a domain-name endpoint: CLB binds `EniIp` (an IP address) or a CVM
///   `InstanceId` (`InvalidParameterValue`);
/// - a weight above [`MAX_WEIGHT`] (`InvalidParameterValue`);
/// - more than [`MAX_TARGETS_PER_RULE`] endpoints (`LimitExceeded`).
pub fn check_pool(pool: &PoolSpec) -> Vec<Rejection> {
    let name = &pool.name;
    let mut out = Vec::new();
    for (i, e) in pool.endpoints.iter().enumerate() {
        if e.address.parse::<std::net::IpAddr>().is_err() {
            out.push(Rejection::new(
                API,
                format!("backends.{name}.endpoints[{i}].address"),
                DOMAIN_ENDPOINT,
                format!(
                    "`{}` is a domain name; CLB binds IP addresses (`EniIp`) only",
                    e.address
                ),
            ));
        }
        if e.weight > MAX_WEIGHT {
            out.push(Rejection::new(
                API,
                format!("backends.{name}.endpoints[{i}].weight"),
                INVALID_VALUE,
                format!("weight {} is above CLB's {MAX_WEIGHT}", e.weight),
            ));
        }
    }
    if let Some(hc) = &pool.health_check {
        out.extend(check_rule_health(hc, &format!("backends.{name}.health_check")));
    }
    if pool.endpoints.len() > MAX_TARGETS_PER_RULE {
        out.push(Rejection::new(
            API,
            format!("backends.{name}.endpoints"),
            QUOTA,
            format!(
                "{} endpoints; a CLB rule holds at most {MAX_TARGETS_PER_RULE}",
                pool.endpoints.len()
            ),
        ));
    }
    out
}

/// The targets a rule wants: its pool's endpoints, sorted.
pub fn targets_of(rule: &NewRule<'_>) -> Vec<Target> {
    let mut t: Vec<Target> = rule
        .pool
        .map(|p| {
            p.endpoints
                .iter()
                .map(|e| Target {
                    address: e.address.clone(),
                    port: e.port,
                    weight: e.weight,
                })
                .collect()
        })
        .unwrap_or_default();
    t.sort();
    t
}

/// What to deregister and register so that `have` becomes `want`. A
/// target whose weight differs is deregistered and registered again
/// (CLB's `ModifyTargetWeight` is a separate action; this keeps to two).
pub fn target_changes(have: &[Target], want: &[Target]) -> (Vec<Target>, Vec<Target>) {
    let gone = have.iter().filter(|t| !want.contains(t)).cloned().collect();
    let new = want.iter().filter(|t| !have.contains(t)).cloned().collect();
    (gone, new)
}

fn read_targets(list: Option<&Value>) -> Vec<Target> {
    let mut targets: Vec<Target> = list
        .and_then(Value::as_array)
        .map(|ts| {
            ts.iter()
                .filter_map(|t| {
                    let address = t
                        .get("PrivateIpAddresses")
                        .and_then(Value::as_array)
                        .and_then(|a| a.first())
                        .and_then(Value::as_str)
                        .or_else(|| t.get("InstanceId").and_then(Value::as_str))?;
                    Some(Target {
                        address: address.to_string(),
                        port: t.get("Port").and_then(Value::as_u64)? as u32,
                        weight: t.get("Weight").and_then(Value::as_u64).unwrap_or(10) as u32,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    targets.sort();
    targets
}

/// The rules of a `DescribeTargets` listener record, targets sorted.
pub fn read(record: &Value) -> Vec<ClbRule> {
    let Some(rules) = record.get("Rules").and_then(Value::as_array) else {
        return Vec::new();
    };
    rules
        .iter()
        .filter_map(|r| {
            Some(ClbRule {
                id: r.get("LocationId")?.as_str()?.to_string(),
                domain: r.get("Domain")?.as_str()?.to_string(),
                url: r.get("Url")?.as_str()?.to_string(),
                targets: read_targets(r.get("Targets")),
            })
        })
        .collect()
}

/// The targets bound on a layer-4 listener (`DescribeTargets`' listener
/// `Targets`), sorted.
pub fn read_listener_targets(record: &Value) -> Vec<Target> {
    read_targets(record.get("Targets"))
}

/// The certificate ID of each domain of a `DescribeListeners` record
/// (`Rules[].Certificate.CertId`; every rule of a domain shares it).
pub fn domain_certificates(listener: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for r in listener.get("Rules").and_then(Value::as_array).into_iter().flatten() {
        let cert = r
            .get("Certificate")
            .and_then(|c| c.get("CertId"))
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty());
        if let (Some(d), Some(c)) = (r.get("Domain").and_then(Value::as_str), cert) {
            out.insert(d.to_string(), c.to_string());
        }
    }
    out
}

/// Whether a `DescribeListeners` record has SNI on.
pub fn sni_on(listener: &Value) -> bool {
    listener.get("SniSwitch").and_then(Value::as_i64) == Some(1)
}

/// The listener's own certificate in a `DescribeListeners` record: its
/// `Certificate.CertId` while SNI is off; once SNI is on CLB keeps no
/// listener certificate, and the default domain's certificate stands for
/// it (the hosts without their own serve it, see [`crate::routes`]).
pub fn listener_certificate(listener: &Value) -> Option<String> {
    let own = listener
        .get("Certificate")
        .and_then(|c| c.get("CertId"))
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty());
    if let Some(c) = own {
        return Some(c.to_string());
    }
    let default = listener
        .get("Rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|r| r.get("DefaultServer").and_then(Value::as_bool) == Some(true))?;
    default
        .get("Certificate")
        .and_then(|c| c.get("CertId"))
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
}

/// Mutual TLS on a certificate (`SSLMode` `MUTUAL`): the client CA's ID
/// and `SSLVerifyClient` (`ON` or `OPTIONAL`). With SNI off it sits on the
/// listener's certificate; with SNI on CLB keeps it per domain, so every
/// domain's certificate carries the listener's (factsheet §SNI: with SNI
/// on, certificates, and so their client CA, are set per domain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCa {
    /// `CertCaId`.
    pub ca: String,
    /// `SSLVerifyClient`.
    pub verify: String,
}

/// The client CA of a `Certificate` object, when it is `MUTUAL`.
pub fn client_ca_of(cert: &Value) -> Option<ClientCa> {
    if cert.get("SSLMode").and_then(Value::as_str) != Some("MUTUAL") {
        return None;
    }
    Some(ClientCa {
        ca: cert.get("CertCaId").and_then(Value::as_str)?.to_string(),
        verify: cert
            .get("SSLVerifyClient")
            .and_then(Value::as_str)
            .unwrap_or("ON")
            .to_string(),
    })
}

/// The listener's client CA in a `DescribeListeners` record: on its own
/// certificate while SNI is off, else on the default domain's (as
/// [`listener_certificate`]).
pub fn listener_client_ca(listener: &Value) -> Option<ClientCa> {
    if let Some(c) = listener.get("Certificate").filter(|c| c.is_object()) {
        return client_ca_of(c);
    }
    listener
        .get("Rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|r| r.get("DefaultServer").and_then(Value::as_bool) == Some(true))
        .and_then(|r| r.get("Certificate"))
        .and_then(client_ca_of)
}

/// Each domain's client CA (`None`: one-way), from a `DescribeListeners`
/// record.
pub fn domain_client_cas(listener: &Value) -> BTreeMap<String, Option<ClientCa>> {
    listener
        .get("Rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let d = r.get("Domain").and_then(Value::as_str)?;
            Some((d.to_string(), r.get("Certificate").and_then(client_ca_of)))
        })
        .collect()
}

/// The client CA `spec` asks for (`tls.client_auth`), its alias resolved.
pub fn wanted_client_ca(spec: &ListenerSpec, aliases: &Aliases) -> Option<ClientCa> {
    let auth = spec.tls.as_ref()?.client_auth.as_ref()?;
    let alias = auth.ca_certificates.first()?;
    Some(ClientCa {
        ca: aliases.certificate(alias).unwrap_or(alias).to_string(),
        verify: match auth.verify {
            listener_core::ClientVerify::Optional => "OPTIONAL",
            listener_core::ClientVerify::Required => "ON",
        }
        .to_string(),
    })
}

/// A domain's certificate (`Certificate` of `RuleInput` and
/// `ModifyDomainAttributes`): one-way, or `MUTUAL` with the listener's
/// client CA.
pub fn certificate_param(cert_id: &str, ca: Option<&ClientCa>) -> Value {
    match ca {
        None => json!({ "SSLMode": "UNIDIRECTIONAL", "CertId": cert_id }),
        Some(ca) => json!({
            "SSLMode": "MUTUAL", "CertId": cert_id, "CertCaId": ca.ca, "SSLVerifyClient": ca.verify,
        }),
    }
}

/// A `Rules` entry of `CreateRule` for `spec`: its domain and URL, the
/// root rule with `DefaultServer`, and `certificate` (an ID) on an SNI
/// listener.
pub fn create_param(
    spec: &RouteSpec,
    certificate: Option<&str>,
    ca: Option<&ClientCa>,
    health: Option<&HealthCheck>,
) -> Value {
    let mut v = json!({ "Domain": domain_of(spec), "Url": spec.path, "TargetType": "NODE" });
    if spec.is_root() {
        v["DefaultServer"] = json!(true);
    }
    if let Some(hc) = health {
        v["HealthCheck"] = rule_health_param(hc);
    }
    if let Some(c) = certificate {
        v["Certificate"] = certificate_param(c, ca);
    }
    v
}

/// Every reason CLB cannot run health check `hc` on a rule (the pool's
/// check, sent as `RuleInput.HealthCheck`), fields under `at`. The rule's
/// `HealthCheck` is the listener's data type, so its ranges are
/// [`crate::translate`]'s (`InvalidParameterValue`). Per that data type,
/// `PING` and `CUSTOM` probes are UDP's and TCP's, and `CheckPort` is
/// TCP's and UDP's: a layer-7 rule takes none of them. A `tcp` probe is
/// sent: the data type does not list it for layer-7 rules, but no source
/// says a rule refuses it (the emulated CLB does, from the factsheet's
/// reading), so the vendor is left to answer (docs/rejections.md).
pub fn check_rule_health(hc: &HealthCheck, at: &str) -> Vec<Rejection> {
    let mut r = listener_core::Rejections::new(API);
    crate::translate::health_check_ranges_at(hc, at, &mut r);
    if let Some(kind @ (HealthCheckKind::Ping | HealthCheckKind::Custom)) = hc.kind {
        r.reject(
            format!("{at}.kind"),
            INVALID_VALUE,
            format!(
                "a pool's health check runs on each CLB rule that uses it, and rules take HTTP probes, not {} \
                 (CheckType PING and CUSTOM are for UDP and TCP listeners)",
                crate::translate::check_type(kind)
            ),
        );
    }
    r.reject_if(
        hc.port.is_some(),
        format!("{at}.port"),
        INVALID_VALUE,
        "a pool's health check runs on each CLB rule that uses it, and rules probe each target's own port \
         (CheckPort is for TCP and UDP listeners)",
    );
    r.into_vec()
}

/// The rule's `HealthCheck` (`RuleInput.HealthCheck`, `ModifyRule`) for a
/// pool's health check: only what the file sets, so that CLB's defaults
/// stand for the rest as they do on a rule made without one.
pub fn rule_health_param(hc: &HealthCheck) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("HealthSwitch".into(), json!(u8::from(hc.enabled)));
    for (key, v) in [
        ("TimeOut", hc.timeout_secs),
        ("IntervalTime", hc.interval_secs),
        ("HealthNum", hc.healthy_threshold),
        ("UnHealthNum", hc.unhealthy_threshold),
    ] {
        if let Some(v) = v {
            m.insert(key.into(), json!(v));
        }
    }
    if hc.kind == Some(HealthCheckKind::Http) {
        m.insert("CheckType".into(), json!("HTTP"));
    }
    if hc.kind == Some(HealthCheckKind::Tcp) {
        m.insert("CheckType".into(), json!("TCP"));
    }
    if let Some(http) = hc
        .http
        .as_ref()
        .filter(|_| matches!(hc.kind, None | Some(HealthCheckKind::Http)))
    {
        crate::translate::http_probe_fields(http, &mut m);
    }
    Value::Object(m)
}

/// Each rule's health check in a `DescribeListeners` listener record, by
/// `LocationId`, in the neutral form.
pub fn rule_healths(listener: &Value) -> BTreeMap<String, HealthCheck> {
    listener
        .get("Rules")
        .and_then(Value::as_array)
        .map(|rules| {
            rules
                .iter()
                .filter_map(|r| {
                    let id = r.get("LocationId")?.as_str()?;
                    let hc = r.get("HealthCheck").filter(|h| h.is_object())?;
                    Some((id.to_string(), crate::translate::health_check_from_describe(hc)))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a rule's health check (`live`, read back) is what the pool's
/// `want` asks: every field [`rule_health_param`] sends for `want` has
/// that value on the rule. Without `want` the rule keeps CLB's defaults,
/// so nothing differs.
pub fn rule_health_matches(live: Option<&HealthCheck>, want: Option<&HealthCheck>) -> bool {
    let Some(want) = want else {
        return true;
    };
    let w = rule_health_param(want);
    let l = live
        .map(rule_health_param)
        .unwrap_or_else(|| json!({ "HealthSwitch": 0 }));
    w.as_object()
        .is_some_and(|w| w.iter().all(|(k, v)| l.get(k) == Some(v)))
}

/// Every reason CLB cannot bind `pool` as the backend of listener `spec`
/// identically, before any call; fields are the listener's. A layer-4
/// listener's targets are checked by the listener's own `HealthCheck`,
/// which `health_check` of the listener sets: a pool's check there would
/// be a second, competing setting of the same object, so it is refused.
pub fn check_listener_pool(spec: &ListenerSpec, pool: &PoolSpec) -> Vec<Rejection> {
    check_layer4_pool(spec.protocol, pool)
}

/// [`check_listener_pool`] by the listener's protocol (what the provider
/// knows when it binds a layer-4 listener's targets).
pub fn check_layer4_pool(protocol: Protocol, pool: &PoolSpec) -> Vec<Rejection> {
    if targets_on_listener(protocol) && pool.health_check.as_ref().is_some_and(|h| h.enabled) {
        return vec![Rejection::new(
            API,
            "backend",
            HEALTH_CHECK_LAYER4,
            format!(
                "backend `{}` has a health check; a CLB {} listener checks its targets with the listener's own \
                 health check: move it to this listener's `health_check`",
                pool.name,
                protocol.as_str()
            ),
        )];
    }
    Vec::new()
}

/// `targets` as `Targets` entries, in calls of at most 20, with no address
/// and port twice in one call.
pub fn batches(targets: &[Target]) -> Vec<Vec<Value>> {
    let mut seen = BTreeSet::new();
    let unique: Vec<&Target> = targets.iter().filter(|t| seen.insert(t.key())).collect();
    unique
        .chunks(MAX_TARGETS_PER_CALL)
        .map(|c| c.iter().map(|t| t.to_param()).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use listener_core::routes::Route;
    use listener_core::{ClientAuth, ClientVerify, PoolSpec, Ports, ResourceId, Tls};

    fn spec(protocol: Protocol, routes: Vec<Route>) -> ListenerSpec {
        let mut s = ListenerSpec::new("site", protocol, Ports::Single(443));
        s.backend = Some("web".into());
        s.routes = routes;
        if protocol == Protocol::Https {
            s.tls = Some(Tls {
                certificates: vec!["main".into()],
                policy: None,
                http2: None,
                http3: None,
                sni: None,
                client_auth: None,
            });
        }
        s
    }

    fn aliases() -> Aliases {
        let mut a = Aliases::default();
        a.certificates.insert("main".into(), "cert-main".into());
        a.certificates.insert("api".into(), "cert-api".into());
        a
    }

    fn with_cert(host: &str, path: &str, backend: &str, cert: &str) -> Route {
        let mut r = Route::new(host, path, backend);
        r.certificate = Some(cert.into());
        r
    }

    fn rules_of(s: &ListenerSpec) -> Vec<(usize, Rejection)> {
        check(s, &expand(s), &aliases())
    }

    fn has(got: &[(usize, Rejection)], field: &str, rule: &str) -> bool {
        got.iter().any(|(_, r)| r.field == field && r.rule == rule)
    }

    #[test]
    fn expansion_is_routes_then_a_slash_per_host_then_the_root() {
        let s = spec(
            Protocol::Https,
            vec![
                with_cert("a.example.com", "/v1", "api", "api"),
                Route::new("*.example.com", "/", "api"),
            ],
        );
        let got: Vec<(Option<String>, String, Option<String>)> = expand(&s)
            .into_iter()
            .map(|r| (r.host, r.path, r.certificate))
            .collect();
        let h = |s: &str| Some(s.to_string());
        assert_eq!(
            got,
            vec![
                (h("a.example.com"), "/v1".into(), h("api")),
                (h("*.example.com"), "/".into(), None),
                (h("a.example.com"), "/".into(), h("api")),
                (None, "/".into(), None),
            ]
        );
        assert!(rules_of(&s).is_empty(), "{:?}", rules_of(&s));
    }

    #[test]
    fn the_root_rule_is_the_default_domain_with_default_server() {
        let root = RouteSpec::new(None, "/", "web");
        let p = create_param(&root, Some("cert-main"), None, None);
        assert_eq!(p["Domain"], json!(DEFAULT_DOMAIN));
        assert_eq!(p["DefaultServer"], json!(true));
        assert_eq!(p["TargetType"], json!("NODE"));
        assert_eq!(
            p["Certificate"],
            json!({"SSLMode": "UNIDIRECTIONAL", "CertId": "cert-main"})
        );
        let host = create_param(&RouteSpec::new(Some("a.example.com"), "/v1", "api"), None, None, None);
        assert!(host.get("DefaultServer").is_none() && host.get("Certificate").is_none());
        assert_eq!(host_of(DEFAULT_DOMAIN, "/"), None);
        assert_eq!(host_of("a.example.com", "/"), Some("a.example.com".into()));
        assert_eq!(listener_targets_id("lbl-1"), "lbl-1/targets");
    }

    /// CLB ranks exact over wildcard domains but gives no order within the
    /// wildcard tier (no vendor error: a semantic refusal).
    #[test]
    fn refuses_nested_wildcards() {
        let s = spec(
            Protocol::Http,
            vec![
                Route::new("*.example.com", "/", "api"),
                Route::new("*.a.example.com", "/x", "api"),
            ],
        );
        assert!(has(&rules_of(&s), "routes[1].host", NESTED_WILDCARD));
    }

    /// Rules exist on HTTP/HTTPS listeners only (`InvalidParameterValue`);
    /// a layer-4 listener takes its root rule (its targets) only.
    #[test]
    fn refuses_host_rules_on_layer4_but_takes_its_backend() {
        let mut s = spec(Protocol::Tcp, vec![Route::new("a.example.com", "/", "api")]);
        assert!(has(&rules_of(&s), "routes[0].host", NOT_HTTP));
        s.routes.clear();
        assert!(check(&s, &[RouteSpec::new(None, "/", "web")], &aliases()).is_empty());
    }

    /// Without a root rule CLB's default domain (the first one made) would
    /// take unknown hosts into another host's rules.
    #[test]
    fn refuses_routes_without_a_default_backend() {
        let mut s = spec(Protocol::Http, vec![Route::new("a.example.com", "/", "api")]);
        s.backend = None;
        assert!(has(&rules_of(&s), "backend", NO_DEFAULT));
    }

    /// With SNI on, mutual TLS is per domain: a domain's certificate is
    /// `MUTUAL` with the listener's client CA (`CertCaId`,
    /// `SSLVerifyClient`), and the listener's client CA reads back from the
    /// default domain once the listener holds no certificate.
    #[test]
    fn domain_certificates_carry_the_listeners_client_ca() {
        let ca = ClientCa {
            ca: "ca-1".into(),
            verify: "OPTIONAL".into(),
        };
        let p = certificate_param("cert-1", Some(&ca));
        assert_eq!(
            p,
            json!({"SSLMode": "MUTUAL", "CertId": "cert-1", "CertCaId": "ca-1", "SSLVerifyClient": "OPTIONAL"})
        );
        assert_eq!(client_ca_of(&p), Some(ca.clone()));
        assert_eq!(client_ca_of(&certificate_param("cert-1", None)), None);
        let record = json!({
            "SniSwitch": 1,
            "Rules": [
                {"Domain": DEFAULT_DOMAIN, "DefaultServer": true, "Certificate": p},
                {"Domain": "a.example.com", "Certificate": certificate_param("cert-2", None)},
            ]
        });
        assert_eq!(listener_client_ca(&record), Some(ca.clone()));
        let cas = domain_client_cas(&record);
        assert_eq!(cas[DEFAULT_DOMAIN], Some(ca));
        assert_eq!(cas["a.example.com"], None);
    }

    /// A domain certificate applies to HTTPS listeners with SNI only
    /// (`InvalidParameterValue`); `tls.sni` written contradicts the switch
    /// listenerctl makes; the listener's own certificate again would read
    /// back as the listener's. Mutual TLS goes with them: the client CA is
    /// set on every domain.
    #[test]
    fn refuses_route_certificates_it_cannot_keep() {
        let http = spec(Protocol::Http, vec![with_cert("a.example.com", "/", "api", "api")]);
        assert!(has(&rules_of(&http), "routes[0].certificate", ROUTE_CERTIFICATE));
        for sni in [true, false] {
            let mut s = spec(Protocol::Https, vec![with_cert("a.example.com", "/", "api", "api")]);
            s.tls.as_mut().unwrap().sni = Some(sni);
            assert!(has(&rules_of(&s), "tls.sni", SNI), "sni {sni}");
        }
        let same = spec(Protocol::Https, vec![with_cert("a.example.com", "/", "api", "main")]);
        assert!(has(&rules_of(&same), "routes[0].certificate", ROUTE_CERTIFICATE));
        let mut mutual = spec(Protocol::Https, vec![with_cert("a.example.com", "/", "api", "api")]);
        mutual.tls.as_mut().unwrap().client_auth = Some(ClientAuth {
            verify: ClientVerify::Required,
            ca_certificates: vec!["ca".into()],
        });
        assert!(rules_of(&mutual).is_empty(), "{:?}", rules_of(&mutual));
        let shadowed = spec(
            Protocol::Https,
            vec![
                with_cert("*.example.com", "/", "api", "api"),
                Route::new("a.example.com", "/v1", "api"),
            ],
        );
        assert!(has(&rules_of(&shadowed), "routes[1].host", ROUTE_CERTIFICATE));
        let fine = spec(Protocol::Https, vec![with_cert("a.example.com", "/", "api", "api")]);
        assert!(rules_of(&fine).is_empty());
    }

    /// 50 rules per listener (`LimitExceeded`), counting the `/` rule per
    /// host and the default domain's.
    #[test]
    fn rule_quota_counts_the_added_rules() {
        let routes = |n: usize| {
            (0..n)
                .map(|i| Route::new(format!("h{i}.example.com"), "/x", "api"))
                .collect()
        };
        // 25 hosts: 25 routes, 25 `/` rules, the root: 51.
        assert!(has(&rules_of(&spec(Protocol::Http, routes(25))), "routes", QUOTA));
        assert!(rules_of(&spec(Protocol::Http, routes(24))).is_empty());
    }

    fn pool(endpoints: Vec<Endpoint>) -> PoolSpec {
        PoolSpec::new("web", endpoints)
    }

    fn check_pool(p: Option<&PoolSpec>) -> Vec<(String, &'static str)> {
        let spec = RouteSpec::new(Some("a.example.com"), "/", "web");
        let id = ResourceId::from(if p.is_some() { "inline:web" } else { "lbtg-1" });
        check_new(&NewRule {
            spec: &spec,
            backend: &id,
            pool: p,
        })
        .into_iter()
        .map(|r| (r.field, r.rule))
        .collect()
    }

    /// A mapped backend would be a CLB target group (not bound here); CLB
    /// binds IP addresses (`EniIp`, `InvalidParameterValue` otherwise) with
    /// weights 0–100 (`InvalidParameterValue`), 100 per rule
    /// (`LimitExceeded`).
    #[test]
    fn refuses_pools_clb_cannot_bind() {
        assert_eq!(
            check_pool(None),
            vec![("backends.web.target".to_string(), MAPPED_BACKEND)]
        );
        let mut heavy = Endpoint::new("10.0.0.2", 80);
        heavy.weight = 101;
        let got = check_pool(Some(&pool(vec![Endpoint::new("svc.internal", 80), heavy])));
        assert!(got.contains(&("backends.web.endpoints[0].address".to_string(), DOMAIN_ENDPOINT)));
        assert!(got.contains(&("backends.web.endpoints[1].weight".to_string(), INVALID_VALUE)));
        let many = (0..101)
            .map(|i| Endpoint::new(format!("10.0.{}.{}", i / 200, i % 200), 80))
            .collect();
        assert_eq!(
            check_pool(Some(&pool(many))),
            vec![("backends.web.endpoints".to_string(), QUOTA)]
        );
        assert!(check_pool(Some(&pool(vec![Endpoint::new("10.0.0.1", 80)]))).is_empty());
    }

    /// A pool's health check is each of its rules' `HealthCheck`
    /// (`RuleInput.HealthCheck`): what the file sets is sent, CLB's
    /// defaults stand for the rest, and a rule read back matches when it
    /// holds every value sent.
    #[test]
    fn a_pool_health_check_is_sent_on_its_rules_and_read_back() {
        let hc: HealthCheck = serde_json::from_value(json!({
            "kind": "http", "interval_secs": 10, "timeout_secs": 4, "healthy_threshold": 2,
            "http": { "path": "/healthz", "method": "GET", "healthy_status_classes": [2, 3] }
        }))
        .expect("health check");
        let checked = pool(vec![Endpoint::new("10.0.0.1", 80)]).with_health_check(Some(hc.clone()));
        assert!(check_pool(Some(&checked)).is_empty());
        let sent = rule_health_param(&hc);
        assert_eq!(
            sent,
            json!({
                "HealthSwitch": 1, "TimeOut": 4, "IntervalTime": 10, "HealthNum": 2, "CheckType": "HTTP",
                "HttpCheckPath": "/healthz", "HttpCheckMethod": "GET", "HttpCode": 6,
            })
        );
        let root = RouteSpec::new(None, "/", "web");
        assert_eq!(create_param(&root, None, None, Some(&hc))["HealthCheck"], sent);
        // Read back as CLB answers it: the defaults filled in.
        let record = json!({ "Rules": [{
            "LocationId": "loc-1", "Domain": DEFAULT_DOMAIN, "Url": "/",
            "HealthCheck": {
                "HealthSwitch": 1, "TimeOut": 4, "IntervalTime": 10, "HealthNum": 2, "UnHealthNum": 3,
                "HttpCode": 6, "HttpCheckPath": "/healthz", "HttpCheckMethod": "GET", "CheckType": "HTTP",
            },
        }]});
        let live = rule_healths(&record).remove("loc-1");
        assert!(rule_health_matches(live.as_ref(), Some(&hc)));
        // Another interval differs; no check in the file leaves the rule's.
        let slower = HealthCheck {
            interval_secs: Some(20),
            ..hc.clone()
        };
        assert!(!rule_health_matches(live.as_ref(), Some(&slower)));
        assert!(rule_health_matches(live.as_ref(), None));
        // A check switched off is HealthSwitch 0.
        let off: HealthCheck = serde_json::from_value(json!({ "enabled": false })).expect("health check");
        assert!(!rule_health_matches(live.as_ref(), Some(&off)));
        assert_eq!(rule_health_param(&off), json!({ "HealthSwitch": 0 }));
    }

    /// What a rule's `HealthCheck` cannot take (HealthCheck data type,
    /// `InvalidParameterValue`): ranges, PING/CUSTOM probes, `CheckPort`.
    #[test]
    fn rule_health_checks_clb_refuses_are_refused_offline() {
        let hc: HealthCheck = serde_json::from_value(json!({
            "kind": "ping", "interval_secs": 1, "timeout_secs": 2, "unhealthy_threshold": 1, "port": 8080
        }))
        .expect("health check");
        let checked = pool(vec![Endpoint::new("10.0.0.1", 80)]).with_health_check(Some(hc));
        let mut got = check_pool(Some(&checked));
        got.sort();
        assert_eq!(
            got,
            vec![
                ("backends.web.health_check.interval_secs".to_string(), INVALID_VALUE),
                ("backends.web.health_check.kind".to_string(), INVALID_VALUE),
                ("backends.web.health_check.port".to_string(), INVALID_VALUE),
                (
                    "backends.web.health_check.unhealthy_threshold".to_string(),
                    INVALID_VALUE
                ),
            ]
        );
    }

    /// A layer-4 listener's targets are checked by the listener's own
    /// health check: a pool's there is refused, naming the listener's
    /// `backend`; a routed HTTP listener takes it on its rules.
    #[test]
    fn a_pool_health_check_behind_a_layer4_listener_is_refused() {
        let hc: HealthCheck = serde_json::from_value(json!({ "kind": "tcp" })).expect("health check");
        let checked = pool(vec![Endpoint::new("10.0.0.1", 80)]).with_health_check(Some(hc));
        let tcp = ListenerSpec::new("db", Protocol::Tcp, Ports::Single(5432));
        let got: Vec<_> = check_listener_pool(&tcp, &checked)
            .into_iter()
            .map(|r| (r.field, r.rule))
            .collect();
        assert_eq!(got, vec![("backend".to_string(), HEALTH_CHECK_LAYER4)]);
        let http = ListenerSpec::new("web", Protocol::Http, Ports::Single(80));
        assert!(check_listener_pool(&http, &checked).is_empty());
    }

    fn t(a: &str, w: u32) -> Target {
        Target {
            address: a.into(),
            port: 80,
            weight: w,
        }
    }

    #[test]
    fn target_changes_move_only_what_differs() {
        let have = vec![t("10.0.0.1", 100), t("10.0.0.2", 100)];
        let want = vec![t("10.0.0.1", 50), t("10.0.0.3", 100)];
        let (gone, new) = target_changes(&have, &want);
        assert_eq!(gone, have);
        assert_eq!(new, want);
        assert_eq!(target_changes(&have, &have), (vec![], vec![]));
    }

    #[test]
    fn batches_hold_twenty_targets_and_no_duplicates() {
        let many: Vec<Target> = (0..45).map(|i| t(&format!("10.0.1.{i}"), 100)).collect();
        let b = batches(&many);
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), vec![20, 20, 5]);
        assert_eq!(batches(&[t("10.0.0.1", 10), t("10.0.0.1", 20)]).concat().len(), 1);
        assert_eq!(b[0][0], json!({"EniIp": "10.0.1.0", "Port": 80, "Weight": 100}));
    }

    #[test]
    fn read_back_from_describe_targets_and_describe_listeners() {
        let targets = json!({
            "ListenerId": "lbl-1",
            "Rules": [
                {"LocationId": "loc-1", "Domain": "a.example.com", "Url": "/v1", "Targets": [
                    {"Type": "ENI", "InstanceId": null, "Port": 90, "Weight": 100, "PrivateIpAddresses": ["10.0.0.2"]},
                    {"Type": "CVM", "InstanceId": "ins-1", "Port": 80, "Weight": 10, "PrivateIpAddresses": []}
                ]},
                {"Domain": "no-id.example.com", "Url": "/"}
            ]
        });
        let got = read(&targets);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].id, "loc-1");
        assert_eq!(got[0].targets[0].address, "10.0.0.2");
        assert_eq!(got[0].targets[1].address, "ins-1");
        let l4 = json!({"ListenerId": "lbl-2", "Rules": null, "Targets": [
            {"Type": "ENI", "Port": 5432, "Weight": 40, "PrivateIpAddresses": ["10.0.9.1"]}
        ]});
        assert!(read(&l4).is_empty());
        assert_eq!(
            read_listener_targets(&l4),
            vec![Target {
                address: "10.0.9.1".into(),
                port: 5432,
                weight: 40
            }]
        );
        // SNI on: no listener certificate, the default domain's stands for it.
        let listener = json!({
            "ListenerId": "lbl-1", "SniSwitch": 1, "Certificate": null,
            "Rules": [
                {"Domain": DEFAULT_DOMAIN, "DefaultServer": true, "Certificate": {"CertId": "cert-main"}},
                {"Domain": "a.example.com", "DefaultServer": false, "Certificate": {"CertId": "cert-api"}},
            ]
        });
        assert!(sni_on(&listener));
        assert_eq!(listener_certificate(&listener).as_deref(), Some("cert-main"));
        assert_eq!(domain_certificates(&listener)["a.example.com"], "cert-api");
        let off = json!({"SniSwitch": 0, "Certificate": {"CertId": "cert-own"}, "Rules": []});
        assert_eq!(listener_certificate(&off).as_deref(), Some("cert-own"));
    }
}
