//! Routes and backends on CLB: the neutral routes of one HTTP/HTTPS
//! listener as CLB rules (`Domain` + `Url`) with targets bound to each
//! rule, read back from `DescribeTargets`, and the writes that take the
//! cloud from what it holds to what the file says.
//!
//! **How a pool maps.** CLB has no pool object when targets bind to rules
//! (`TargetType` `NODE`): a neutral pool is realised as the **target set of
//! every rule that forwards to it**. There is nothing to create, list or
//! delete for the pool itself; changing a pool's endpoints changes the
//! targets of each rule that uses it. (CLB target groups exist, but a rule
//! bound to a target group cannot also hold targets, and they are a
//! separate product surface; not used here.)
//!
//! **How a rule is recognised as ours.** A CLB rule has no name, tag or
//! description, so it cannot carry a mark. A rule is owned when its
//! listener is owned (the listener's name suffix, see [`crate`]): every
//! rule of an owned listener is ours, and the rules of a listener without
//! our mark are never read for a change nor written.
//!
//! **Translation** (docs/routing.md, "Tencent CLB"):
//! - each route is a rule with `Domain` = the host as written (`*.a.b` is
//!   CLB's leading wildcard) and `Url` = the path prefix as written (a plain
//!   URL is a prefix on CLB; no regular expressions are ever sent);
//! - every host without its own `/` route gets a rule `/` to the default
//!   pool (a matched CLB domain never falls through: 404 otherwise);
//! - unknown hosts go to the listener's *default domain*: the placeholder
//!   [`DEFAULT_DOMAIN`] whose only rule is `/` to the default pool;
//! - weights are always sent (CLB's default is 10).
//!
//! What CLB cannot express identically is refused by [`check`] before any
//! call: nested wildcard hosts, domain-name endpoints, per-host
//! certificates (not translated yet), backends mapped to
//! an existing vendor pool (a CLB target group; not supported yet), a
//! listener without a default backend, and more rules than the quota.

use std::collections::{BTreeMap, BTreeSet};

use listener_core::routes::Backend;
use listener_core::{routing, ListenerSpec, Protocol, Rejection};
use serde_json::{json, Value};

use crate::client::MAX_TARGETS_PER_CALL;
use crate::API;

/// The placeholder default domain: a name no client asks for (`.invalid`
/// is reserved, RFC 2606), whose only rule forwards `/` to the default pool,
/// so unknown hosts reach the default backend and no real host lends its
/// path rules to them.
pub const DEFAULT_DOMAIN: &str = "default.lctl.invalid";

/// Rules per listener (CLB's `TOTAL_LISTENER_RULE_QUOTA` default, and the
/// emulator's).
pub const MAX_RULES_PER_LISTENER: usize = 50;

/// Targets per rule (CLB's default quota).
pub const MAX_TARGETS_PER_RULE: usize = 100;

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
/// A backend the file does not declare.
pub const UNKNOWN_BACKEND: &str = "unknown_backend";
/// A per-host certificate (not translated yet).
pub const ROUTE_CERTIFICATE: &str = "route_certificate";
/// Routes on a listener that is not HTTP/HTTPS.
pub const NOT_HTTP: &str = "routes_need_http";

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
    fn key(&self) -> (&str, u32) {
        (&self.address, self.port)
    }
}

/// One CLB rule as wanted or as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClbRule {
    /// `LocationId` when read back.
    pub id: Option<String>,
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

/// Every reason CLB cannot route `listener`'s routes exactly as the
/// neutral semantics say, without a call. Fields are relative to the
/// listener (`routes[2].host`, `backend`, `backends.web.endpoints[0]`).
pub fn check(listener: &ListenerSpec, backends: &BTreeMap<String, Backend>) -> Vec<Rejection> {
    let mut out = Vec::new();
    if listener.routes.is_empty() && listener.backend.is_none() {
        return out;
    }
    if !matches!(listener.protocol, Protocol::Http | Protocol::Https) {
        if !listener.routes.is_empty() {
            out.push(Rejection::new(
                API,
                "routes",
                NOT_HTTP,
                "CLB rules exist on HTTP and HTTPS listeners only",
            ));
        }
        if listener.backend.is_some() {
            out.push(Rejection::new(
                API,
                "backend",
                MAPPED_BACKEND,
                "layer-4 CLB listeners with a backend are not translated yet (targets bound to the listener)",
            ));
        }
        return out;
    }
    let Some(default) = listener.backend.as_deref() else {
        out.push(Rejection::new(
            API,
            "backend",
            NO_DEFAULT,
            "CLB needs a default backend for the hosts and paths no route takes (the default domain and each host's `/` rule)",
        ));
        return out;
    };
    for (i, r) in listener.routes.iter().enumerate() {
        if r.certificate.is_some() {
            out.push(Rejection::new(
                API,
                field(i, "certificate"),
                ROUTE_CERTIFICATE,
                "per-host certificates (the domain's certificate on an SNI listener) are not translated for CLB yet",
            ));
        }
    }
    for (a, b) in routing::nested_wildcards(&listener.routes) {
        out.push(Rejection::new(
            API,
            field(b, "host"),
            NESTED_WILDCARD,
            format!(
                "`{}` and `{}` (routes[{a}]) are nested wildcards: CLB does not order matches within the wildcard tier",
                listener.routes[b].host, listener.routes[a].host
            ),
        ));
    }
    let mut names: Vec<(String, String)> = vec![("backend".into(), default.to_string())];
    names.extend(
        listener
            .routes
            .iter()
            .enumerate()
            .map(|(i, r)| (field(i, "backend"), r.backend.clone())),
    );
    let mut seen = BTreeSet::new();
    for (f, name) in &names {
        let Some(b) = backends.get(name) else {
            out.push(Rejection::new(
                API,
                f.clone(),
                UNKNOWN_BACKEND,
                format!("backend `{name}` is not declared in `backends`"),
            ));
            continue;
        };
        if !seen.insert(name.clone()) {
            continue;
        }
        if b.target.is_some() {
            out.push(Rejection::new(
                API,
                format!("backends.{name}.target"),
                MAPPED_BACKEND,
                "a backend mapped to an existing CLB pool (target group) is not supported yet; describe its endpoints inline",
            ));
        }
        for (j, e) in b.endpoints.iter().enumerate() {
            if e.address.parse::<std::net::IpAddr>().is_err() {
                out.push(Rejection::new(
                    API,
                    format!("backends.{name}.endpoints[{j}].address"),
                    DOMAIN_ENDPOINT,
                    format!(
                        "`{}`: CLB targets are instance or ENI IP addresses, not domain names",
                        e.address
                    ),
                ));
            }
        }
        if b.endpoints.len() > MAX_TARGETS_PER_RULE {
            out.push(Rejection::new(
                API,
                format!("backends.{name}.endpoints"),
                QUOTA,
                format!(
                    "{} endpoints; a CLB rule holds at most {MAX_TARGETS_PER_RULE}",
                    b.endpoints.len()
                ),
            ));
        }
    }
    if out.is_empty() {
        let n = desired(listener, backends).len();
        if n > MAX_RULES_PER_LISTENER {
            out.push(Rejection::new(
                API,
                "routes",
                QUOTA,
                format!(
                    "{n} CLB rules (routes, a `/` rule per host and the default domain's); the quota is {MAX_RULES_PER_LISTENER} per listener"
                ),
            ));
        }
    }
    out
}

fn targets_of(backends: &BTreeMap<String, Backend>, name: &str) -> Vec<Target> {
    let mut t: Vec<Target> = backends
        .get(name)
        .map(|b| {
            b.endpoints
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

/// The CLB rules that route `listener` as the neutral semantics say (see
/// the module docs), the default domain's first. Assumes [`check`] passed.
pub fn desired(listener: &ListenerSpec, backends: &BTreeMap<String, Backend>) -> Vec<ClbRule> {
    let Some(default) = listener.backend.as_deref() else {
        return Vec::new();
    };
    let rule = |domain: &str, url: &str, backend: &str| ClbRule {
        id: None,
        domain: domain.to_string(),
        url: url.to_string(),
        targets: targets_of(backends, backend),
    };
    let mut out = vec![rule(DEFAULT_DOMAIN, "/", default)];
    let mut hosts: Vec<&str> = Vec::new();
    for r in &listener.routes {
        if !hosts.contains(&r.host.as_str()) {
            hosts.push(&r.host);
        }
    }
    for host in hosts {
        let mine: Vec<_> = listener.routes.iter().filter(|r| r.host == host).collect();
        if !mine.iter().any(|r| r.path == "/") {
            out.push(rule(host, "/", default));
        }
        out.extend(mine.iter().map(|r| rule(host, &r.path, &r.backend)));
    }
    out
}

/// The rules of a `DescribeTargets` listener record, targets sorted.
pub fn read(record: &Value) -> Vec<ClbRule> {
    let Some(rules) = record.get("Rules").and_then(Value::as_array) else {
        return Vec::new();
    };
    rules
        .iter()
        .filter_map(|r| {
            let mut targets: Vec<Target> = r
                .get("Targets")
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
            Some(ClbRule {
                id: Some(r.get("LocationId")?.as_str()?.to_string()),
                domain: r.get("Domain")?.as_str()?.to_string(),
                url: r.get("Url")?.as_str()?.to_string(),
                targets,
            })
        })
        .collect()
}

/// The writes from `current` to `desired`, in the order they run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    /// Rules to delete (`LocationId`s): on the listener, not wanted.
    pub delete: Vec<String>,
    /// Rules to create (one `CreateRule` call), then fill with targets.
    pub create: Vec<ClbRule>,
    /// Per existing rule (`LocationId`): targets to deregister (wrong
    /// weight or not wanted), in calls of at most 20.
    pub deregister: Vec<(String, Vec<Target>)>,
    /// Per existing rule: targets to register, in calls of at most 20.
    pub register: Vec<(String, Vec<Target>)>,
}

impl Changes {
    /// Whether nothing is to be written.
    pub fn is_empty(&self) -> bool {
        self.delete.is_empty() && self.create.is_empty() && self.deregister.is_empty() && self.register.is_empty()
    }

    /// How many calls carrying these out takes (a create and the target
    /// calls of the rules it makes counted as one plus their batches).
    pub fn calls(&self) -> usize {
        let batches = |v: &[(String, Vec<Target>)]| -> usize {
            v.iter().map(|(_, t)| t.len().div_ceil(MAX_TARGETS_PER_CALL)).sum()
        };
        usize::from(!self.delete.is_empty())
            + usize::from(!self.create.is_empty())
            + self
                .create
                .iter()
                .map(|r| r.targets.len().div_ceil(MAX_TARGETS_PER_CALL))
                .sum::<usize>()
            + batches(&self.deregister)
            + batches(&self.register)
    }
}

/// What to write so that `current` (read back) becomes `desired`. A target
/// whose weight differs is deregistered and registered again (CLB's
/// `ModifyTargetWeight` is a separate action; this keeps to two).
pub fn diff(current: &[ClbRule], desired: &[ClbRule]) -> Changes {
    let mut out = Changes::default();
    let mut used = vec![false; current.len()];
    for want in desired {
        let found = current
            .iter()
            .enumerate()
            .find(|(i, c)| !used[*i] && c.key() == want.key() && c.id.is_some());
        let Some((i, have)) = found else {
            out.create.push(want.clone());
            continue;
        };
        used[i] = true;
        let id = have.id.clone().unwrap_or_default();
        let gone: Vec<Target> = have
            .targets
            .iter()
            .filter(|t| !want.targets.contains(t))
            .cloned()
            .collect();
        let new: Vec<Target> = want
            .targets
            .iter()
            .filter(|t| !have.targets.contains(t))
            .cloned()
            .collect();
        if !gone.is_empty() {
            out.deregister.push((id.clone(), gone));
        }
        if !new.is_empty() {
            out.register.push((id, new));
        }
    }
    for (i, c) in current.iter().enumerate() {
        if !used[i] {
            if let Some(id) = &c.id {
                out.delete.push(id.clone());
            }
        }
    }
    out
}

/// A `Rules` entry of `CreateRule` for `rule`; the default domain's rule
/// says `DefaultServer`.
pub fn create_param(rule: &ClbRule) -> Value {
    let mut v = json!({ "Domain": rule.domain, "Url": rule.url, "TargetType": "NODE" });
    if rule.domain == DEFAULT_DOMAIN {
        v["DefaultServer"] = json!(true);
    }
    v
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
    use listener_core::routes::{BackendEndpoint, Route};
    use listener_core::{Ports, Protocol};

    fn pools() -> BTreeMap<String, Backend> {
        let mut b = BTreeMap::new();
        b.insert(
            "web".into(),
            Backend::inline(vec![BackendEndpoint::new("10.0.0.1", 80)]),
        );
        b.insert(
            "api".into(),
            Backend::inline(vec![BackendEndpoint::new("10.0.0.2", 90)]),
        );
        b
    }

    fn spec(routes: Vec<Route>) -> ListenerSpec {
        let mut s = ListenerSpec::new("site", Protocol::Http, Ports::Single(80));
        s.backend = Some("web".into());
        s.routes = routes;
        s
    }

    #[test]
    fn every_host_gets_a_slash_rule_and_the_default_domain_comes_first() {
        let s = spec(vec![
            Route::new("a.example.com", "/v1", "api"),
            Route::new("*.example.com", "/", "api"),
        ]);
        let keys: Vec<(String, String)> = desired(&s, &pools())
            .iter()
            .map(|r| (r.domain.clone(), r.url.clone()))
            .collect();
        let k = |d: &str, u: &str| (d.to_string(), u.to_string());
        assert_eq!(
            keys,
            vec![
                k(DEFAULT_DOMAIN, "/"),
                k("a.example.com", "/"),
                k("a.example.com", "/v1"),
                k("*.example.com", "/"),
            ]
        );
        let params = create_param(&desired(&s, &pools())[0]);
        assert_eq!(params["DefaultServer"], json!(true));
        assert_eq!(params["TargetType"], json!("NODE"));
        assert!(create_param(&desired(&s, &pools())[1]).get("DefaultServer").is_none());
    }

    #[test]
    fn refusals_name_the_field_and_rule() {
        let mut p = pools();
        p.insert(
            "dns".into(),
            Backend::inline(vec![BackendEndpoint::new("svc.internal", 80)]),
        );
        p.insert("mapped".into(), Backend::mapped("legacy"));
        let s = spec(vec![
            Route::new("*.example.com", "/", "dns"),
            Route::new("*.a.example.com", "/", "mapped"),
            Route::new("b.example.com", "/", "nowhere"),
        ]);
        let got: Vec<(String, &str)> = check(&s, &p).into_iter().map(|r| (r.field, r.rule)).collect();
        for want in [
            ("routes[1].host".to_string(), NESTED_WILDCARD),
            ("backends.dns.endpoints[0].address".to_string(), DOMAIN_ENDPOINT),
            ("backends.mapped.target".to_string(), MAPPED_BACKEND),
            ("routes[2].backend".to_string(), UNKNOWN_BACKEND),
        ] {
            assert!(got.contains(&want), "{want:?} not in {got:?}");
        }
        let mut cert = Route::new("a.example.com", "/", "api");
        cert.certificate = Some("api-cert".into());
        let got = check(&spec(vec![cert]), &p);
        assert_eq!(
            (got[0].field.as_str(), got[0].rule),
            ("routes[0].certificate", ROUTE_CERTIFICATE)
        );
        let mut none = spec(vec![Route::new("a.example.com", "/", "api")]);
        none.backend = None;
        assert_eq!(check(&none, &p)[0].rule, NO_DEFAULT);
        let mut tcp = spec(vec![Route::new("a.example.com", "/", "api")]);
        tcp.protocol = Protocol::Tcp;
        assert_eq!(check(&tcp, &p)[0].rule, NOT_HTTP);
    }

    #[test]
    fn rule_quota_counts_the_added_rules() {
        // 25 hosts with one path each: 25 routes, 25 `/` rules, 1 default.
        let routes = (0..25)
            .map(|i| Route::new(format!("h{i}.example.com"), "/x", "api"))
            .collect();
        let got = check(&spec(routes), &pools());
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].field.as_str(), got[0].rule), ("routes", QUOTA));
        let routes = (0..24)
            .map(|i| Route::new(format!("h{i}.example.com"), "/x", "api"))
            .collect();
        assert!(check(&spec(routes), &pools()).is_empty());
    }

    fn t(a: &str, w: u32) -> Target {
        Target {
            address: a.into(),
            port: 80,
            weight: w,
        }
    }

    fn rule(id: Option<&str>, d: &str, u: &str, targets: Vec<Target>) -> ClbRule {
        ClbRule {
            id: id.map(str::to_string),
            domain: d.into(),
            url: u.into(),
            targets,
        }
    }

    #[test]
    fn diff_deletes_creates_and_moves_targets_only_where_needed() {
        let current = vec![
            rule(
                Some("loc-1"),
                "a.example.com",
                "/",
                vec![t("10.0.0.1", 100), t("10.0.0.2", 100)],
            ),
            rule(Some("loc-2"), "a.example.com", "/old", vec![t("10.0.0.1", 100)]),
        ];
        let desired = vec![
            rule(None, "a.example.com", "/", vec![t("10.0.0.1", 50), t("10.0.0.3", 100)]),
            rule(None, "a.example.com", "/new", vec![t("10.0.0.1", 100)]),
        ];
        let c = diff(&current, &desired);
        assert_eq!(c.delete, vec!["loc-2".to_string()]);
        assert_eq!(c.create.len(), 1);
        assert_eq!(c.create[0].url, "/new");
        assert_eq!(
            c.deregister,
            vec![("loc-1".to_string(), vec![t("10.0.0.1", 100), t("10.0.0.2", 100)])]
        );
        assert_eq!(
            c.register,
            vec![("loc-1".to_string(), vec![t("10.0.0.1", 50), t("10.0.0.3", 100)])]
        );
        assert!(diff(&current, &current).is_empty());
        // delete 1 + create 1 + its targets 1 + deregister 1 + register 1
        assert_eq!(c.calls(), 5);
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
    fn read_back_from_describe_targets() {
        let record = json!({
            "ListenerId": "lbl-1",
            "Rules": [
                {"LocationId": "loc-1", "Domain": "a.example.com", "Url": "/v1", "Targets": [
                    {"Type": "ENI", "InstanceId": null, "Port": 90, "Weight": 100, "PrivateIpAddresses": ["10.0.0.2"]},
                    {"Type": "CVM", "InstanceId": "ins-1", "Port": 80, "Weight": 10, "PrivateIpAddresses": []}
                ]},
                {"Domain": "no-id.example.com", "Url": "/"}
            ]
        });
        let got = read(&record);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].id.as_deref(), Some("loc-1"));
        assert_eq!(
            got[0].targets,
            vec![
                Target {
                    address: "10.0.0.2".into(),
                    port: 90,
                    weight: 100
                },
                Target {
                    address: "ins-1".into(),
                    port: 80,
                    weight: 10
                },
            ]
        );
        assert!(read(&json!({"ListenerId": "lbl-2", "Rules": null})).is_empty());
    }
}
