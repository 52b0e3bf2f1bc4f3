//! Routes and backends as GA endpoint groups and forwarding rules
//! (`RuleProvider`, `pools_on_rules`).
//!
//! GA has no pool object of its own: endpoints live in **endpoint groups**
//! that belong to one listener. So, per listener:
//!
//! - the **root rule** (no host, `/`: the listener's default backend) is
//!   the listener's *default* endpoint group, which takes what no
//!   forwarding rule takes, and on a TCP/UDP listener everything;
//! - each distinct inline pool that a route (or a host's `/` catch-all)
//!   forwards to is one *virtual* endpoint group, shared by the rules that
//!   use it, made when the first such rule is made and deleted with the
//!   last;
//! - each route is one **forwarding rule**: a Host condition with the
//!   route's host as written, a Path condition `P*` for prefix `P` (`/` is
//!   `/*`) and a `ForwardGroup` action to the pool's virtual group.
//!
//! Groups carry the pool's name in their `Name` (`pool-<name>`) and the
//! owner's mark in their `Description`; rules carry the mark in their name
//! (`route--lctl`). Only marked objects under a listener proven owned
//! ([`listener_core::ownership`]) are written.
//!
//! GA has no per-endpoint port: the pool's one port is the group's
//! `PortOverrides` (listener port → pool port), so a pool whose endpoints
//! use different ports is refused ([`check_pool`]).
//!
//! **Order.** GA tries forwarding rules by `Priority`, smaller first
//! (routing factsheet §2; the 2021 reference disagreed, the current SDK
//! and guide order by priority). [`evaluation_key`] orders rules as the
//! neutral semantics need: exact hosts before wildcard hosts, a longer
//! wildcard suffix first, within a host the longest path first (the host's
//! `/` catch-all, planned by the core, comes last). [`priorities`] keeps
//! the numbers of rules already there where the new ones fit between
//! them, and renumbers the listener's rules in place (one
//! `UpdateForwardingRules`) where they do not.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use listener_core::ownership::{self, OwnedPart, PartOf};
use listener_core::{
    Deadline, Endpoint, Error, ListenerId, ListenerSpec, NewRule, Owned, Poll, PoolSpec, Protocol, Rejection,
    ResourceId, Result, RouteSpec, Rule, RuleProvider, WaitOp,
};
use serde_json::{json, Value};

use crate::translate::REGION;
use crate::{GaProvider, API};

/// GA's highest forwarding-rule priority (SDK model: 1–10000).
pub const MAX_PRIORITY: u32 = 10_000;
/// The gap left between priorities where there is room.
pub const STEP: u32 = 10;
/// Virtual endpoint groups per listener (routing factsheet §4, D-ga-eg:
/// 10; the 2021 reference said 1, so only what both refuse, past 10, is
/// refused).
pub const VIRTUAL_GROUPS_PER_LISTENER: usize = 10;
/// Endpoint weights GA takes (SDK model `EndpointConfigurations.Weight`).
pub const WEIGHT_RANGE: (u32, u32) = (0, 255);
/// The name of every forwarding rule, before the owner's mark.
const RULE_NAME: &str = "route";
/// Endpoint groups are named after their pool: `pool-<name>`.
const GROUP_PREFIX: &str = "pool-";
/// The default group standing for a mapped default backend is named after
/// its target alias: `target-<alias>`.
const TARGET_PREFIX: &str = "target-";

/// Rule names of this module's refusals.
pub mod rule {
    /// A pool whose endpoints use different ports (GA: one port per group,
    /// `PortOverrides`; code `QuotaExceeded.PortOverride` past one).
    pub const POOL_PORTS: &str = "ga_pool_ports_differ";
    /// A weight outside 0–255 (`InvalidParameter`).
    pub const WEIGHT: &str = "ga_weight_range";
    /// More virtual groups than the quota (`QuotaExceeded.EndpointGroup`).
    pub const VIRTUAL_GROUPS: &str = "ga_virtual_group_quota";
    /// A mapped (`target`) backend: GA endpoint groups belong to one
    /// listener and cannot be shared (`NotExist.EndPointGroup` for a group
    /// of another listener).
    pub const MAPPED_BACKEND: &str = "ga_mapped_backend";
    /// A backend on a TCP/UDP listener of several ports: one group port
    /// override per listener port would be needed.
    pub const MULTI_PORT_BACKEND: &str = "ga_backend_multi_port";
    /// A host-less rule other than the root rule.
    pub const HOST_REQUIRED: &str = "ga_host_required";
    /// A health check GA's endpoint group cannot express: ICMP or custom
    /// probes, a probe timeout, different healthy and unhealthy
    /// thresholds, HTTP methods or status classes.
    pub const HEALTH_CHECK: &str = "ga_health_check_unsupported";
    /// A threshold outside 2–10 (`ThresholdCount`, `InvalidParameter`).
    pub const HEALTH_CHECK_THRESHOLD: &str = "ga_health_check_threshold";
}

/// GA's path value for prefix `path`.
pub fn path_value(path: &str) -> String {
    if path == "/" {
        "/*".to_string()
    } else {
        format!("{path}*")
    }
}

/// Where a rule of `host` + `path` sorts in evaluation order: exact hosts
/// first, then wildcards by decreasing suffix length, ties by name; within
/// a host the longest path first.
pub fn evaluation_key(host: &str, path: &str) -> (u8, usize, String, usize, String) {
    let (tier, suffix) = match host.strip_prefix('*') {
        Some(s) => (1, usize::MAX - s.len()),
        None => (0, 0),
    };
    (
        tier,
        suffix,
        host.to_string(),
        usize::MAX - path.len(),
        path.to_string(),
    )
}

/// Priorities for rules `new` (host, path) on a listener holding `have`
/// (host, path, priority): the new rules' numbers, and the rules of `have`
/// (by index) whose number must change first. New rules take free numbers
/// between their neighbours in evaluation order (steps of [`STEP`] where
/// there is room); when a gap is too small, or the numbers there are not
/// in evaluation order, every rule is renumbered.
pub fn priorities(have: &[(String, String, u32)], new: &[(String, String)]) -> (Vec<u32>, Vec<(usize, u32)>) {
    // Entries: (key, Some(have index) | None with new index).
    let mut all: Vec<(_, Result<usize, usize>)> = have
        .iter()
        .enumerate()
        .map(|(i, h)| (evaluation_key(&h.0, &h.1), Ok(i)))
        .chain(
            new.iter()
                .enumerate()
                .map(|(i, n)| (evaluation_key(&n.0, &n.1), Err(i))),
        )
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = vec![0; new.len()];
    let existing: Vec<u32> = all.iter().filter_map(|(_, e)| e.ok().map(|i| have[i].2)).collect();
    let ordered = existing.windows(2).all(|w| w[0] < w[1]);
    if ordered {
        let mut fits = true;
        let mut lo = 0u32;
        let mut run: Vec<usize> = Vec::new();
        let place = |lo: u32, hi: u32, run: &mut Vec<usize>, out: &mut Vec<u32>| -> bool {
            if run.is_empty() {
                return true;
            }
            let k = run.len() as u32;
            let room = hi.saturating_sub(lo).saturating_sub(1);
            if room < k {
                return false;
            }
            let step = if hi > MAX_PRIORITY && lo + STEP * k <= MAX_PRIORITY {
                STEP
            } else {
                ((hi - lo) / (k + 1)).clamp(1, STEP)
            };
            for (j, i) in run.drain(..).enumerate() {
                out[i] = lo + step * (j as u32 + 1);
            }
            true
        };
        for (_, e) in &all {
            match e {
                Ok(i) => {
                    let p = have[*i].2;
                    fits &= place(lo, p, &mut run, &mut out);
                    lo = p;
                }
                Err(i) => run.push(*i),
            }
        }
        fits &= place(lo, MAX_PRIORITY + 1, &mut run, &mut out);
        if fits {
            return (out, Vec::new());
        }
    }
    // Renumber everything, in evaluation order.
    let n = all.len().max(1) as u32;
    let step = (MAX_PRIORITY / n).clamp(1, STEP);
    let mut moved = Vec::new();
    for (pos, (_, e)) in all.iter().enumerate() {
        let p = step * (pos as u32 + 1);
        match e {
            Ok(i) if have[*i].2 != p => moved.push((*i, p)),
            Ok(_) => {}
            Err(i) => out[*i] = p,
        }
    }
    (out, moved)
}

/// Every reason GA cannot bind `pool` on a listener with `listener_ports`
/// (the ports of a TCP/UDP listener, one for HTTP/HTTPS); `field` names
/// the backend (`backends.<name>`).
///
/// - Endpoints of one pool on different ports: a GA endpoint group has no
///   per-endpoint port, only `PortOverrides` (listener port → one endpoint
///   port; routing factsheet §4 "Port", TF-ga-eg: one mapping), and a
///   second mapping of one listener port is `QuotaExceeded.PortOverride`.
/// - Weights outside 0–255 (SDK model `EndpointConfigurations.Weight`,
///   `InvalidParameter`). The neutral model's 1–100 always fits; the rule
///   guards the translation.
pub fn check_pool(pool: &PoolSpec) -> Vec<Rejection> {
    let mut out = Vec::new();
    let field = format!("backends.{}", pool.name);
    let ports: BTreeSet<u32> = pool.endpoints.iter().map(|e| e.port).collect();
    if ports.len() > 1 {
        out.push(Rejection::new(
            API,
            format!("{field}.endpoints"),
            rule::POOL_PORTS,
            format!(
                "endpoints use ports {ports:?}; a GA endpoint group forwards to one port (PortOverrides; \
                 QuotaExceeded.PortOverride past one mapping)"
            ),
        ));
    }
    if let Some(hc) = &pool.health_check {
        out.extend(check_health(&field, hc));
    }
    for (i, e) in pool.endpoints.iter().enumerate() {
        if e.weight > WEIGHT_RANGE.1 {
            out.push(Rejection::new(
                API,
                format!("{field}.endpoints[{i}].weight"),
                rule::WEIGHT,
                format!("GA takes weights 0 to 255 (InvalidParameter), not {}", e.weight),
            ));
        }
    }
    out
}

/// What GA's endpoint-group health check cannot say (SDK model
/// CreateEndpointGroupRequest: `HealthCheckProtocol` tcp/http/https,
/// `HealthCheckPath`, `HealthCheckHost`, `HealthCheckPort`,
/// `HealthCheckIntervalSeconds`, one `ThresholdCount` of 2–10; no probe
/// timeout, method or status codes).
fn check_health(field: &str, hc: &listener_core::HealthCheck) -> Vec<Rejection> {
    use listener_core::HealthCheckKind;
    let mut out = Vec::new();
    let at = format!("{field}.health_check");
    let mut no = |sub: &str, why: &str| {
        out.push(Rejection::new(
            API,
            format!("{at}{sub}"),
            rule::HEALTH_CHECK,
            why.to_string(),
        ));
    };
    if matches!(hc.kind, Some(HealthCheckKind::Ping) | Some(HealthCheckKind::Custom)) {
        no(".kind", "GA endpoint groups probe with TCP or HTTP(S) only");
    }
    if hc.timeout_secs.is_some() {
        no(".timeout_secs", "GA endpoint groups have no probe timeout setting");
    }
    if let (Some(a), Some(b)) = (hc.healthy_threshold, hc.unhealthy_threshold) {
        if a != b {
            no(
                ".unhealthy_threshold",
                "GA has one ThresholdCount for both directions; give both thresholds the same value",
            );
        }
    }
    if let Some(h) = &hc.http {
        if h.method.is_some() {
            no(".http.method", "GA's HTTP health check has no method setting");
        }
        if !h.healthy_status_classes.is_empty() {
            no(
                ".http.healthy_status_classes",
                "GA's HTTP health check has no status-code setting",
            );
        }
    }
    for (sub, t) in [
        (".healthy_threshold", hc.healthy_threshold),
        (".unhealthy_threshold", hc.unhealthy_threshold),
    ] {
        if let Some(t) = t.filter(|t| !(2..=10).contains(t)) {
            out.push(Rejection::new(
                API,
                format!("{at}{sub}"),
                rule::HEALTH_CHECK_THRESHOLD,
                format!("GA's ThresholdCount is 2 to 10 (InvalidParameter), not {t}"),
            ));
        }
    }
    out
}

/// The health-check fields of a group for `hc` (see [`check_health`]).
fn health_fields(hc: &listener_core::HealthCheck, m: &mut serde_json::Map<String, Value>) {
    use listener_core::HealthCheckKind;
    m.insert("HealthCheckEnabled".into(), json!(hc.enabled));
    if !hc.enabled {
        return;
    }
    match hc.kind {
        Some(HealthCheckKind::Tcp) => {
            m.insert("HealthCheckProtocol".into(), json!("tcp"));
        }
        Some(HealthCheckKind::Http) => {
            m.insert("HealthCheckProtocol".into(), json!("http"));
        }
        _ => {}
    }
    if let Some(i) = hc.interval_secs {
        m.insert("HealthCheckIntervalSeconds".into(), json!(i));
    }
    if let Some(t) = hc.healthy_threshold.or(hc.unhealthy_threshold) {
        m.insert("ThresholdCount".into(), json!(t));
    }
    if let Some(p) = hc.port {
        m.insert("HealthCheckPort".into(), json!(p));
    }
    if let Some(h) = &hc.http {
        if let Some(p) = &h.path {
            m.insert("HealthCheckPath".into(), json!(p));
        }
        if let Some(d) = &h.domain {
            m.insert("HealthCheckHost".into(), json!(d));
        }
    }
}

/// Every reason GA cannot take `rules` (as the core expands them) on
/// `listener`, each with the index of the rule:
///
/// - more distinct pools behind forwarding rules than virtual groups per
///   listener ([`VIRTUAL_GROUPS_PER_LISTENER`], `QuotaExceeded.EndpointGroup`);
/// - a backend on a TCP/UDP listener of several ports (one port override
///   per listener port; refused rather than guessed);
/// - a host-less rule that is not the root rule (`/`).
pub fn check_rules(listener: &ListenerSpec, rules: &[RouteSpec]) -> Vec<(usize, Rejection)> {
    let mut out = Vec::new();
    let mut pools: Vec<&str> = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        match &r.host {
            None if r.path != "/" => out.push((
                i,
                Rejection::new(
                    API,
                    format!("routes[{i}].host"),
                    rule::HOST_REQUIRED,
                    "a GA forwarding rule here always carries a host; only the root `/` rule is host-less",
                ),
            )),
            None => {
                if !is_layer7(listener.protocol) && listener.ports.count() > 1 {
                    out.push((
                        i,
                        Rejection::new(
                            API,
                            "backend",
                            rule::MULTI_PORT_BACKEND,
                            "a backend of a TCP/UDP listener of several ports would need a port override per \
                             listener port; give the listener one port",
                        ),
                    ));
                }
            }
            Some(_) => {
                if !pools.contains(&r.backend.as_str()) {
                    pools.push(&r.backend);
                    if pools.len() > VIRTUAL_GROUPS_PER_LISTENER {
                        out.push((
                            i,
                            Rejection::new(
                                API,
                                format!("routes[{i}].backend"),
                                rule::VIRTUAL_GROUPS,
                                format!(
                                    "the routes of one GA listener forward to at most {VIRTUAL_GROUPS_PER_LISTENER} \
                                     pools (one virtual endpoint group each; QuotaExceeded.EndpointGroup)"
                                ),
                            ),
                        ));
                    }
                }
            }
        }
    }
    out
}

fn is_layer7(p: Protocol) -> bool {
    matches!(p, Protocol::Http | Protocol::Https)
}

/// The group name of pool `name`.
pub fn group_name(name: &str) -> String {
    format!("{GROUP_PREFIX}{name}")
}

/// GA's endpoint type for an address.
fn endpoint_type(address: &str) -> &'static str {
    if address.parse::<std::net::IpAddr>().is_ok() {
        "Ip"
    } else {
        "Domain"
    }
}

/// The fields of a group holding `pool` on a listener of `port`.
pub fn group_fields(pool: &PoolSpec, port: u32) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    let endpoints: Vec<Value> = pool
        .endpoints
        .iter()
        .map(|e| json!({ "Type": endpoint_type(&e.address), "Endpoint": e.address, "Weight": e.weight }))
        .collect();
    m.insert("EndpointConfigurations".into(), Value::Array(endpoints));
    if let Some(to) = pool.endpoints.first().map(|e| e.port) {
        m.insert(
            "PortOverrides".into(),
            json!([{ "ListenerPort": port, "EndpointPort": to }]),
        );
    }
    if let Some(hc) = &pool.health_check {
        health_fields(hc, &mut m);
    }
    m
}

/// The conditions of a forwarding rule for `host` + `path`.
pub fn conditions(host: &str, path: &str) -> Value {
    json!([
        { "RuleConditionType": "Host", "RuleConditionValue": json!([host]).to_string() },
        { "RuleConditionType": "Path", "RuleConditionValue": json!([path_value(path)]).to_string() },
    ])
}

/// The action forwarding to `group`.
pub fn actions(group: &str) -> Value {
    json!([{
        "Order": 1,
        "RuleActionType": "ForwardGroup",
        "RuleActionValue": json!([{ "type": "endpointgroup", "value": group }]).to_string(),
    }])
}

fn get_str<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn get_u32(v: &Value, key: &str) -> Option<u32> {
    match v.get(key)? {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Values of a condition in either encoding.
fn condition_values(c: &Value, config: &str) -> Option<Vec<String>> {
    if let Some(raw) = get_str(c, "RuleConditionValue") {
        return serde_json::from_str(raw).ok();
    }
    let values = c.get(config)?.get("Values")?.as_array()?;
    Some(values.iter().filter_map(Value::as_str).map(str::to_string).collect())
}

/// Host, path prefix and endpoint group of a `ListForwardingRules` entry
/// with the shape this adapter writes (one host, one `P*` path, one
/// group).
pub fn route_of(rule: &Value) -> Option<(String, String, String)> {
    let (mut host, mut path) = (None, None);
    for c in rule.get("RuleConditions")?.as_array()? {
        match get_str(c, "RuleConditionType")? {
            "Host" => {
                let [h] = condition_values(c, "HostConfig")?.try_into().ok()?;
                host = Some(h);
            }
            "Path" => {
                let [p]: [String; 1] = condition_values(c, "PathConfig")?.try_into().ok()?;
                let p = p.strip_suffix('*')?;
                path = Some(if p == "/" || p.is_empty() {
                    "/".to_string()
                } else {
                    p.to_string()
                });
            }
            _ => return None,
        }
    }
    let [a] = rule.get("RuleActions")?.as_array()?.as_slice() else {
        return None;
    };
    let group = match get_str(a, "RuleActionValue") {
        Some(raw) => {
            let v: Value = serde_json::from_str(raw).ok()?;
            let item = v.as_array().and_then(|a| a.first()).cloned().unwrap_or(v);
            get_str(&item, "value")?.to_string()
        }
        None => get_str(
            a.get("ForwardGroupConfig")?
                .get("ServerGroupTuples")?
                .as_array()?
                .first()?,
            "EndpointGroupId",
        )?
        .to_string(),
    };
    Some((host?, path?, group))
}

/// An endpoint group as read back: its pool name (if ours by name), the
/// owner of its mark, whether it is virtual, its endpoints (each port as
/// the override of `listener_port` says).
#[derive(Debug, Clone)]
pub struct GroupView {
    /// `epg-…`.
    pub id: String,
    /// The pool name from `pool-<name>`; `None` for another name.
    pub pool: Option<String>,
    /// The target alias from `target-<alias>` (a mapped default backend).
    pub target: Option<String>,
    /// The owner of the description's mark.
    pub owner: Option<String>,
    /// A virtual group (else the default one).
    pub virtual_group: bool,
    /// GA's state.
    pub state: String,
    /// Endpoints.
    pub endpoints: Vec<Endpoint>,
    /// Its health check, read back ([`health_of`]).
    pub health: Option<listener_core::HealthCheck>,
}

/// Read a `ListEndpointGroups` / `DescribeEndpointGroup` item.
pub fn group_of(v: &Value, listener_port: u32) -> Option<GroupView> {
    let id = get_str(v, "EndpointGroupId")?.to_string();
    let port = v
        .get("PortOverrides")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|o| get_u32(o, "ListenerPort") == Some(listener_port))
        .and_then(|o| get_u32(o, "EndpointPort"))
        .unwrap_or(listener_port);
    let endpoints = v
        .get("EndpointConfigurations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let mut ep = Endpoint::new(get_str(e, "Endpoint")?, port);
            ep.weight = get_u32(e, "Weight")?;
            Some(ep)
        })
        .collect();
    let (_, owner) = listener_core::mark::split_description(get_str(v, "Description").unwrap_or(""));
    Some(GroupView {
        id,
        pool: get_str(v, "Name")
            .and_then(|n| n.strip_prefix(GROUP_PREFIX))
            .map(str::to_string),
        target: get_str(v, "Name")
            .and_then(|n| n.strip_prefix(TARGET_PREFIX))
            .map(str::to_string),
        owner,
        virtual_group: get_str(v, "EndpointGroupType").is_some_and(|t| t.eq_ignore_ascii_case("virtual")),
        state: get_str(v, "State").unwrap_or("").to_string(),
        endpoints,
        health: health_of(v),
    })
}

/// A group's health check in the neutral form: the inverse of
/// [`health_fields`] over what GA can say (one `ThresholdCount` for both
/// thresholds, `https` probes as `http`); `None` when the group reports no
/// `HealthCheckEnabled`.
pub fn health_of(v: &Value) -> Option<listener_core::HealthCheck> {
    use listener_core::{HealthCheckKind, HttpHealthCheck};
    let enabled = v.get("HealthCheckEnabled").and_then(Value::as_bool)?;
    let threshold = get_u32(v, "ThresholdCount");
    let path = get_str(v, "HealthCheckPath").map(str::to_string);
    let domain = get_str(v, "HealthCheckHost").map(str::to_string);
    let kind = match get_str(v, "HealthCheckProtocol")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("tcp") => Some(HealthCheckKind::Tcp),
        Some("http" | "https") => Some(HealthCheckKind::Http),
        _ => None,
    };
    Some(listener_core::HealthCheck {
        enabled,
        kind,
        interval_secs: get_u32(v, "HealthCheckIntervalSeconds"),
        timeout_secs: None,
        healthy_threshold: threshold,
        unhealthy_threshold: threshold,
        port: get_u32(v, "HealthCheckPort"),
        http: (path.is_some() || domain.is_some()).then(|| HttpHealthCheck {
            path,
            domain,
            method: None,
            healthy_status_classes: Vec::new(),
        }),
        custom: None,
    })
}

/// Whether a group's health check (`live`, read back) is what `want`
/// asks, as GA says it: every field [`health_fields`] sends for `want` has
/// that value on the group. Without `want` the group's check is left as
/// it is (GA's defaults), so nothing differs.
pub fn health_matches(live: Option<&listener_core::HealthCheck>, want: Option<&listener_core::HealthCheck>) -> bool {
    let Some(want) = want else {
        return true;
    };
    let (mut w, mut l) = (serde_json::Map::new(), serde_json::Map::new());
    health_fields(want, &mut w);
    match live {
        Some(h) => health_fields(h, &mut l),
        None => {
            l.insert("HealthCheckEnabled".into(), json!(false));
        }
    }
    w.iter().all(|(k, v)| l.get(k) == Some(v))
}

fn sorted(endpoints: &[Endpoint]) -> Vec<(String, u32, u32)> {
    let mut v: Vec<_> = endpoints
        .iter()
        .map(|e| (e.address.clone(), e.port, e.weight))
        .collect();
    v.sort();
    v
}

/// What one listener holds: its port and protocol, groups and rules.
struct Snapshot {
    port: u32,
    groups: Vec<GroupView>,
    rules: Vec<Value>,
}

impl Snapshot {
    fn settled(&self) -> bool {
        self.groups.iter().all(|g| g.state.eq_ignore_ascii_case("active"))
            && self
                .rules
                .iter()
                .all(|r| get_str(r, "ForwardingRuleStatus").is_some_and(|s| s.eq_ignore_ascii_case("active")))
    }

    /// Owned group of `pool` (virtual or default).
    fn group(&self, pool: &str, virtual_group: bool, owner: &str) -> Option<&GroupView> {
        self.groups.iter().find(|g| {
            g.virtual_group == virtual_group && g.pool.as_deref() == Some(pool) && g.owner.as_deref() == Some(owner)
        })
    }

    fn default_group(&self) -> Option<&GroupView> {
        self.groups.iter().find(|g| !g.virtual_group)
    }
}

impl GaProvider {
    /// The endpoint groups' region: the profile's `region`, else GA's own.
    fn group_region(&self) -> String {
        self.profile.region.clone().unwrap_or_else(|| REGION.to_string())
    }

    async fn snapshot(&self, listener: &str, answer: &Value) -> Result<Snapshot> {
        let port = answer
            .get("PortRanges")
            .and_then(Value::as_array)
            .and_then(|r| r.first())
            .and_then(|r| get_u32(r, "FromPort"))
            .unwrap_or(0);
        let groups = self
            .client
            .list_endpoint_groups(&self.config.accelerator_id, listener)
            .await?
            .iter()
            .filter_map(|g| group_of(g, port))
            .collect();
        let layer7 = get_str(answer, "Protocol")
            .is_some_and(|p| p.eq_ignore_ascii_case("http") || p.eq_ignore_ascii_case("https"));
        let rules = if layer7 {
            self.client
                .list_forwarding_rules(&self.config.accelerator_id, listener)
                .await?
        } else {
            Vec::new()
        };
        Ok(Snapshot { port, groups, rules })
    }

    /// Wait until the listener's groups and rules are all `active` and
    /// `done` holds for what GA reports. GA has no failure state: a
    /// settled snapshot where `done` fails after work was seen is the
    /// task's failure.
    async fn wait_routes(
        &self,
        listener: &str,
        what: &str,
        deadline: &Deadline,
        done: impl Fn(&Snapshot) -> bool,
    ) -> Result<()> {
        let mut saw_work = false;
        deadline
            .poll(
                "routes",
                &format!("{what} on listener {listener}"),
                || async {
                    let answer = self.client.describe_listener(listener).await?;
                    self.snapshot(listener, &answer).await
                },
                |s| {
                    if !s.settled() {
                        saw_work = true;
                        return Poll::Pending("configuring".to_string());
                    }
                    if done(&s) {
                        return Poll::Done(());
                    }
                    let failed = Error::TaskFailed {
                        vendor: API,
                        task: listener.to_string(),
                        message: format!("GA finished {what} but does not show it"),
                    };
                    if saw_work {
                        Poll::Failed(failed)
                    } else {
                        Poll::NotSeen(failed)
                    }
                },
            )
            .await
    }

    /// The rules of `listener` read back: the root rule from the owned
    /// default group, one per forwarding rule of this adapter's shape.
    fn rules_of(&self, listener: &ListenerId, s: &Snapshot) -> Vec<Rule> {
        let owner = self.config.owner.as_str();
        let mut out = Vec::new();
        if let Some(g) = s.default_group() {
            let name = g
                .pool
                .clone()
                .or_else(|| g.target.clone())
                .unwrap_or_else(|| g.id.clone());
            let rule = Rule::new(
                ResourceId(g.id.clone()),
                listener.clone(),
                ResourceId(g.id.clone()),
                RouteSpec::new(None, "/", name),
                g.owner.clone(),
                owner,
            );
            // A mapped default's endpoints are not the tool's to compare.
            out.push(if g.target.is_some() {
                rule
            } else {
                rule.with_pool(g.endpoints.clone())
                    .with_pool_health_check(g.health.clone())
            });
        }
        for r in &s.rules {
            let (Some(id), Some((host, path, group))) = (get_str(r, "ForwardingRuleId"), route_of(r)) else {
                continue;
            };
            let rule_owner = get_str(r, "ForwardingRuleName").and_then(|n| listener_core::mark::split_name(n).1);
            let g = s.groups.iter().find(|g| g.id == group);
            let backend = g.and_then(|g| g.pool.clone()).unwrap_or_else(|| group.clone());
            let mut rule = Rule::new(
                ResourceId(id.to_string()),
                listener.clone(),
                ResourceId(group.clone()),
                RouteSpec::new(Some(&host), path, backend),
                rule_owner,
                owner,
            );
            if let Some(g) = g {
                rule = rule
                    .with_pool(g.endpoints.clone())
                    .with_pool_health_check(g.health.clone());
            }
            out.push(rule);
        }
        out
    }

    /// The listener proven owned, its answer, and its snapshot.
    async fn owned_snapshot(&self, listener: &ListenerId) -> Result<(Owned, Value, Snapshot)> {
        let (owned, answer) = self.own(listener).await?;
        let s = self.snapshot(owned.as_str(), &answer).await?;
        Ok((owned, answer, s))
    }

    /// Prove a group of the owned listener carries this owner's mark.
    fn own_group(&self, listener: &Owned, g: &GroupView) -> Result<OwnedPart> {
        let reported = if g.owner.as_deref() == Some(self.config.owner.as_str()) {
            listener.as_str().to_string()
        } else {
            String::new()
        };
        ownership::claim_part(
            API,
            PartOf::Listener(listener),
            &ResourceId(g.id.clone()),
            Some(&reported),
        )
    }

    /// Prove forwarding rules are on the owned listener with our mark;
    /// rules already gone are left out.
    fn own_rules(&self, listener: &Owned, s: &Snapshot, ids: &[ResourceId]) -> Result<Vec<OwnedPart>> {
        let mut out = Vec::new();
        for id in ids {
            let reported = s
                .rules
                .iter()
                .find(|r| get_str(r, "ForwardingRuleId") == Some(id.as_str()))
                .map(|r| {
                    let ours = get_str(r, "ForwardingRuleName").and_then(|n| listener_core::mark::split_name(n).1);
                    if ours.as_deref() == Some(self.config.owner.as_str()) {
                        get_str(r, "ListenerId").unwrap_or(listener.as_str()).to_string()
                    } else {
                        String::new()
                    }
                });
            match ownership::claim_part(API, PartOf::Listener(listener), id, reported.as_deref()) {
                Ok(p) => out.push(p),
                Err(Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Make (or bring up to date) the owned group of `pool` on the
    /// listener: its ID. Waits until GA shows it.
    async fn ensure_group(
        &self,
        owned: &Owned,
        s: &Snapshot,
        pool: &PoolSpec,
        virtual_group: bool,
        deadline: &Deadline,
    ) -> Result<String> {
        let listener = owned.as_str();
        let fields = group_fields(pool, s.port);
        if let Some(g) = s.group(&pool.name, virtual_group, &self.config.owner) {
            let health = pool.health_check.clone();
            if sorted(&g.endpoints) == sorted(&pool.endpoints) && health_matches(g.health.as_ref(), health.as_ref()) {
                return Ok(g.id.clone());
            }
            let part = self.own_group(owned, g)?;
            let token = self.client.new_token();
            tracing::info!(listener_id = listener, group = %part.id(), "updating GA endpoint group");
            self.client
                .update_endpoint_group(&part, &fields, &token, deadline)
                .await?;
            let want = sorted(&pool.endpoints);
            let id = g.id.clone();
            self.wait_routes(listener, "the endpoint group update", deadline, |now| {
                now.groups.iter().any(|x| {
                    x.id == id && sorted(&x.endpoints) == want && health_matches(x.health.as_ref(), health.as_ref())
                })
            })
            .await?;
            return Ok(g.id.clone());
        }
        if !virtual_group {
            if let Some(other) = s.default_group() {
                // The listener's default group is someone else's (or of
                // another pool name): never rewritten.
                return Err(Error::NotOwned {
                    vendor: API,
                    listener_id: other.id.clone(),
                    instance: listener.to_string(),
                    owner: other.owner.clone(),
                });
            }
        }
        let mut params = fields;
        params.insert("RegionId".into(), json!(REGION));
        params.insert("AcceleratorId".into(), json!(owned.instance()));
        params.insert("ListenerId".into(), json!(listener));
        params.insert("EndpointGroupRegion".into(), json!(self.group_region()));
        params.insert(
            "EndpointGroupType".into(),
            json!(if virtual_group { "virtual" } else { "default" }),
        );
        params.insert("Name".into(), json!(group_name(&pool.name)));
        params.insert(
            "Description".into(),
            json!(listener_core::mark::mark_description(None, &self.config.owner)),
        );
        let token = self.client.new_token();
        tracing::info!(listener_id = listener, pool = %pool.name, virtual_group, "creating GA endpoint group");
        let id = self
            .client
            .create_endpoint_group(owned, &Value::Object(params), &token, deadline)
            .await?;
        let made = id.clone();
        self.wait_routes(listener, "the endpoint group creation", deadline, |now| {
            now.groups.iter().any(|g| g.id == made)
        })
        .await?;
        Ok(id)
    }

    /// The listener's default group for a mapped default backend
    /// (`forwarding.default_target`): GA has no pool to point at, so the
    /// default group is made empty and named `target-<alias>`; its
    /// endpoints are managed outside the tool and never changed here.
    async fn ensure_target_group(&self, owned: &Owned, s: &Snapshot, alias: &str, deadline: &Deadline) -> Result<()> {
        if let Some(g) = s.default_group() {
            if g.target.as_deref() == Some(alias) && g.owner.as_deref() == Some(self.config.owner.as_str()) {
                return Ok(());
            }
            return Err(Error::NotOwned {
                vendor: API,
                listener_id: g.id.clone(),
                instance: owned.as_str().to_string(),
                owner: g.owner.clone(),
            });
        }
        let params = json!({
            "RegionId": REGION,
            "EndpointGroupRegion": self.group_region(),
            "EndpointGroupType": "default",
            "Name": format!("{TARGET_PREFIX}{alias}"),
            "Description": listener_core::mark::mark_description(None, &self.config.owner),
        });
        let token = self.client.new_token();
        tracing::info!(listener_id = %owned.as_str(), target = alias, "creating the GA default group of a mapped backend");
        let id = self
            .client
            .create_endpoint_group(owned, &params, &token, deadline)
            .await?;
        self.wait_routes(owned.as_str(), "the endpoint group creation", deadline, |now| {
            now.groups.iter().any(|g| g.id == id)
        })
        .await
    }

    /// The root rule moves to another mapped backend: the default group is
    /// renamed; its endpoints stay as they are. From an inline pool to a
    /// mapped one is refused (the group would keep the pool's endpoints).
    async fn update_target_root(&self, current: &Rule, desired: &NewRule<'_>) -> Result<Rule> {
        let (owned, _, s) = self.owned_snapshot(&current.listener).await?;
        let g = s
            .groups
            .iter()
            .find(|g| g.id == current.id.0)
            .ok_or_else(|| Error::NotFound {
                vendor: API,
                what: format!("endpoint group {} on listener {}", current.id, current.listener),
            })?;
        if g.target.is_none() {
            return Err(refuse_mapped(desired)
                .err()
                .unwrap_or_else(|| crate::client::unexpected("no refusal")));
        }
        let part = self.own_group(&owned, g)?;
        if g.target.as_deref() != Some(desired.spec.backend.as_str()) {
            let _writing = self.writes.hold().await;
            let deadline = self.config.wait.start(API, WaitOp::Update);
            let mut fields = serde_json::Map::new();
            fields.insert("Name".into(), json!(format!("{TARGET_PREFIX}{}", desired.spec.backend)));
            let token = self.client.new_token();
            self.client
                .update_endpoint_group(&part, &fields, &token, &deadline)
                .await?;
            let (id, alias) = (g.id.clone(), desired.spec.backend.clone());
            self.wait_routes(owned.as_str(), "the default group rename", &deadline, |now| {
                now.groups
                    .iter()
                    .any(|x| x.id == id && x.target.as_deref() == Some(alias.as_str()))
            })
            .await?;
        }
        let answer = self.client.describe_listener(owned.as_str()).await?;
        let after = self.snapshot(owned.as_str(), &answer).await?;
        self.rules_of(&current.listener, &after)
            .into_iter()
            .find(|r| r.spec.is_root())
            .ok_or_else(|| crate::client::unexpected("an updated rule is not listed"))
    }

    /// Delete owned virtual groups no forwarding rule uses any more.
    async fn drop_unused_groups(&self, owned: &Owned, deadline: &Deadline) -> Result<()> {
        let answer = self.client.describe_listener(owned.as_str()).await?;
        let s = self.snapshot(owned.as_str(), &answer).await?;
        let used: BTreeSet<String> = s.rules.iter().filter_map(route_of).map(|r| r.2).collect();
        for g in s
            .groups
            .iter()
            .filter(|g| g.virtual_group && g.pool.is_some() && !used.contains(&g.id))
        {
            if g.owner.as_deref() != Some(self.config.owner.as_str()) {
                continue;
            }
            let part = self.own_group(owned, g)?;
            self.delete_group(owned, &part, deadline).await?;
        }
        Ok(())
    }

    async fn delete_group(&self, owned: &Owned, part: &OwnedPart, deadline: &Deadline) -> Result<()> {
        let token = self.client.new_token();
        tracing::info!(listener_id = %owned.as_str(), group = %part.id(), "deleting GA endpoint group");
        match self.client.delete_endpoint_group(owned, part, &token, deadline).await {
            Ok(()) | Err(Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
        let id = part.id().0.clone();
        self.wait_routes(owned.as_str(), "the endpoint group deletion", deadline, |now| {
            !now.groups.iter().any(|g| g.id == id)
        })
        .await
    }

    /// Renumber rules (by ID) in one call, then wait.
    async fn renumber(&self, owned: &Owned, moves: &[(String, u32)], deadline: &Deadline) -> Result<()> {
        if moves.is_empty() {
            return Ok(());
        }
        let items: Vec<Value> = moves
            .iter()
            .map(|(id, p)| json!({ "ForwardingRuleId": id, "Priority": p }))
            .collect();
        let token = self.client.new_token();
        tracing::info!(listener_id = %owned.as_str(), count = moves.len(), "renumbering GA forwarding rules");
        self.client
            .update_forwarding_rules(owned, &items, &token, deadline)
            .await?;
        let want: BTreeMap<String, u32> = moves.iter().cloned().collect();
        self.wait_routes(owned.as_str(), "the renumbering", deadline, |now| {
            want.iter().all(|(id, p)| {
                now.rules
                    .iter()
                    .any(|r| get_str(r, "ForwardingRuleId") == Some(id.as_str()) && get_u32(r, "Priority") == Some(*p))
            })
        })
        .await
    }

    /// Delete the owned forwarding rules and endpoint groups of a listener
    /// (before the listener itself: GA refuses `Exist.ForwardingRule`,
    /// `Exist.EndpointGroup` otherwise).
    pub(crate) async fn clear_routes(&self, owned: &Owned, deadline: &Deadline) -> Result<()> {
        let answer = self.client.describe_listener(owned.as_str()).await?;
        let s = self.snapshot(owned.as_str(), &answer).await?;
        let ids: Vec<ResourceId> = s
            .rules
            .iter()
            .filter_map(|r| get_str(r, "ForwardingRuleId"))
            .map(ResourceId::from)
            .collect();
        let parts = self.own_rules(owned, &s, &ids)?;
        if !parts.is_empty() {
            let token = self.client.new_token();
            self.client
                .delete_forwarding_rules(owned, &parts, &token, deadline)
                .await?;
            let gone: BTreeSet<String> = parts.iter().map(|p| p.id().0.clone()).collect();
            self.wait_routes(owned.as_str(), "the rule deletion", deadline, |now| {
                !now.rules
                    .iter()
                    .any(|r| get_str(r, "ForwardingRuleId").is_some_and(|i| gone.contains(i)))
            })
            .await?;
        }
        for g in &s.groups {
            if g.owner.as_deref() == Some(self.config.owner.as_str()) {
                let part = self.own_group(owned, g)?;
                self.delete_group(owned, &part, deadline).await?;
            }
        }
        Ok(())
    }
}

/// Refuse a rule that names no inline pool (a mapped backend).
fn refuse_mapped<'a>(rule: &NewRule<'a>) -> Result<&'a PoolSpec> {
    rule.pool.ok_or_else(|| Error::Unsupported {
        vendor: API,
        rejections: vec![Rejection::new(
            API,
            if rule.spec.is_root() {
                "forwarding.default_target".to_string()
            } else {
                format!("backends.{}", rule.spec.backend)
            },
            rule::MAPPED_BACKEND,
            format!(
                "`{}` is an existing vendor pool ({}); GA endpoint groups belong to one listener and cannot be \
                 shared: describe the backend with `endpoints`",
                rule.spec.backend, rule.backend
            ),
        )],
    })
}

#[async_trait]
impl RuleProvider for GaProvider {
    fn check_rules(&self, listener: &ListenerSpec, rules: &[RouteSpec]) -> Vec<(usize, Rejection)> {
        check_rules(listener, rules)
    }

    /// The endpoint group's health check against the pool's, as GA says
    /// it ([`health_matches`]).
    fn pool_health_differs(&self, live: &Rule, want: Option<&listener_core::HealthCheck>) -> bool {
        !health_matches(live.pool_health_check.as_ref(), want)
    }

    async fn list_rules(&self, listener: &ListenerId) -> Result<Vec<Rule>> {
        let (_, _, s) = self.owned_snapshot(listener).await?;
        Ok(self.rules_of(listener, &s))
    }

    async fn create_rules(&self, listener: &ListenerId, rules: &[NewRule<'_>]) -> Result<Vec<Rule>> {
        if rules.is_empty() {
            return Ok(Vec::new());
        }
        // Everything GA would refuse, before any call.
        let mut refused = Vec::new();
        for r in rules {
            match (r.pool, r.spec.is_root()) {
                (Some(pool), _) => refused.extend(check_pool(pool)),
                // A mapped default backend: an empty default group.
                (None, true) => {}
                (None, false) => {
                    if let Err(Error::Unsupported { rejections, .. }) = refuse_mapped(r) {
                        refused.extend(rejections);
                    }
                }
            }
            if r.spec.host.is_none() && r.spec.path != "/" {
                refused.push(Rejection::new(
                    API,
                    "routes",
                    rule::HOST_REQUIRED,
                    "a GA forwarding rule here always carries a host",
                ));
            }
        }
        if !refused.is_empty() {
            return Err(Error::Unsupported {
                vendor: API,
                rejections: refused,
            });
        }
        let (owned, _, s) = self.owned_snapshot(listener).await?;
        let _writing = self.writes.hold().await;
        let deadline = self.config.wait.start(API, WaitOp::Create);
        // The root rule: the default group.
        for r in rules.iter().filter(|r| r.spec.is_root()) {
            match r.pool {
                Some(pool) => {
                    self.ensure_group(&owned, &s, pool, false, &deadline).await?;
                }
                None => self.ensure_target_group(&owned, &s, &r.spec.backend, &deadline).await?,
            }
        }
        let routes: Vec<&NewRule<'_>> = rules.iter().filter(|r| !r.spec.is_root()).collect();
        if !routes.is_empty() {
            // One virtual group per distinct pool.
            let mut groups: BTreeMap<String, String> = BTreeMap::new();
            for r in &routes {
                let pool = refuse_mapped(r)?;
                if !groups.contains_key(&pool.name) {
                    let answer = self.client.describe_listener(owned.as_str()).await?;
                    let now = self.snapshot(owned.as_str(), &answer).await?;
                    let id = self.ensure_group(&owned, &now, pool, true, &deadline).await?;
                    groups.insert(pool.name.clone(), id);
                }
            }
            let answer = self.client.describe_listener(owned.as_str()).await?;
            let now = self.snapshot(owned.as_str(), &answer).await?;
            let have: Vec<(String, String, u32, String)> = now
                .rules
                .iter()
                .filter_map(|r| {
                    let (h, p, _) = route_of(r)?;
                    Some((
                        h,
                        p,
                        get_u32(r, "Priority")?,
                        get_str(r, "ForwardingRuleId")?.to_string(),
                    ))
                })
                .collect();
            let keyed: Vec<(String, String, u32)> = have.iter().map(|h| (h.0.clone(), h.1.clone(), h.2)).collect();
            let new: Vec<(String, String)> = routes
                .iter()
                .map(|r| (r.spec.host.clone().unwrap_or_default(), r.spec.path.clone()))
                .collect();
            let (numbers, moves) = priorities(&keyed, &new);
            let moves: Vec<(String, u32)> = moves.into_iter().map(|(i, p)| (have[i].3.clone(), p)).collect();
            self.renumber(&owned, &moves, &deadline).await?;
            let name = listener_core::mark::mark_name(RULE_NAME, &self.config.owner);
            let bodies: Vec<Value> = routes
                .iter()
                .zip(&numbers)
                .map(|(r, p)| {
                    let group = groups.get(&r.spec.backend).map(String::as_str).unwrap_or_default();
                    json!({
                        "Priority": p,
                        "ForwardingRuleName": name,
                        "RuleConditions": conditions(r.spec.host.as_deref().unwrap_or_default(), &r.spec.path),
                        "RuleActions": actions(group),
                    })
                })
                .collect();
            let token = self.client.new_token();
            tracing::info!(listener_id = %listener, count = bodies.len(), client_token = %token, "creating GA forwarding rules");
            let ids = self
                .client
                .create_forwarding_rules(&owned, &bodies, &token, &deadline)
                .await?;
            self.wait_routes(owned.as_str(), "the rule creation", &deadline, |now| {
                ids.iter().all(|id| {
                    now.rules
                        .iter()
                        .any(|r| get_str(r, "ForwardingRuleId") == Some(id.as_str()))
                })
            })
            .await?;
            // A group left by an interrupted earlier run, whose rules were
            // never made, goes now.
            self.drop_unused_groups(&owned, &deadline).await?;
        }
        let known: BTreeSet<String> = s
            .rules
            .iter()
            .filter_map(|r| get_str(r, "ForwardingRuleId"))
            .map(str::to_string)
            .collect();
        let had_default = s.default_group().is_some();
        let answer = self.client.describe_listener(owned.as_str()).await?;
        let after = self.snapshot(owned.as_str(), &answer).await?;
        Ok(self
            .rules_of(listener, &after)
            .into_iter()
            .filter(|r| {
                if r.spec.is_root() {
                    !had_default
                } else {
                    !known.contains(r.id.as_str())
                }
            })
            .collect())
    }

    async fn update_rule(&self, current: &Rule, desired: &NewRule<'_>) -> Result<Rule> {
        if current.spec.is_root() && desired.pool.is_none() {
            return self.update_target_root(current, desired).await;
        }
        let pool = refuse_mapped(desired)?;
        let refused = check_pool(pool);
        if !refused.is_empty() {
            return Err(Error::Unsupported {
                vendor: API,
                rejections: refused,
            });
        }
        let (owned, _, s) = self.owned_snapshot(&current.listener).await?;
        let _writing = self.writes.hold().await;
        let deadline = self.config.wait.start(API, WaitOp::Update);
        if current.spec.is_root() {
            let g = s
                .groups
                .iter()
                .find(|g| g.id == current.id.0)
                .ok_or_else(|| Error::NotFound {
                    vendor: API,
                    what: format!("endpoint group {} on listener {}", current.id, current.listener),
                })?;
            let part = self.own_group(&owned, g)?;
            if g.pool.as_deref() != Some(pool.name.as_str()) {
                // Another pool as the default: same group, new name.
                let mut fields = group_fields(pool, s.port);
                fields.insert("Name".into(), json!(group_name(&pool.name)));
                let token = self.client.new_token();
                self.client
                    .update_endpoint_group(&part, &fields, &token, &deadline)
                    .await?;
                let (id, name) = (g.id.clone(), pool.name.clone());
                self.wait_routes(owned.as_str(), "the default group update", &deadline, |now| {
                    now.groups
                        .iter()
                        .any(|x| x.id == id && x.pool.as_deref() == Some(name.as_str()))
                })
                .await?;
            } else {
                self.ensure_group(&owned, &s, pool, false, &deadline).await?;
            }
        } else {
            let parts = self.own_rules(&owned, &s, std::slice::from_ref(&current.id))?;
            let Some(part) = parts.first() else {
                return Err(Error::NotFound {
                    vendor: API,
                    what: format!("forwarding rule {} on listener {}", current.id, current.listener),
                });
            };
            let group = self.ensure_group(&owned, &s, pool, true, &deadline).await?;
            if group != current.backend.0 {
                let host = current.spec.host.clone().unwrap_or_default();
                let items = vec![json!({
                    "ForwardingRuleId": part.as_str(),
                    "RuleConditions": conditions(&host, &current.spec.path),
                    "RuleActions": actions(&group),
                })];
                let token = self.client.new_token();
                tracing::info!(rule_id = %part.id(), "pointing GA forwarding rule at another group");
                self.client
                    .update_forwarding_rules(&owned, &items, &token, &deadline)
                    .await?;
                let (id, g) = (part.id().0.clone(), group.clone());
                self.wait_routes(owned.as_str(), "the rule update", &deadline, |now| {
                    now.rules.iter().any(|r| {
                        get_str(r, "ForwardingRuleId") == Some(id.as_str()) && route_of(r).is_some_and(|x| x.2 == g)
                    })
                })
                .await?;
                self.drop_unused_groups(&owned, &deadline).await?;
            }
        }
        let answer = self.client.describe_listener(owned.as_str()).await?;
        let after = self.snapshot(owned.as_str(), &answer).await?;
        self.rules_of(&current.listener, &after)
            .into_iter()
            .find(|r| r.spec.host == current.spec.host && r.spec.path == current.spec.path)
            .ok_or_else(|| crate::client::unexpected("an updated rule is not listed"))
    }

    async fn delete_rules(&self, listener: &ListenerId, rules: &[ResourceId]) -> Result<()> {
        if rules.is_empty() {
            return Ok(());
        }
        let (owned, _, s) = self.owned_snapshot(listener).await?;
        let _writing = self.writes.hold().await;
        let deadline = self.config.wait.start(API, WaitOp::Delete);
        let (groups, forwarding): (Vec<&ResourceId>, Vec<&ResourceId>) =
            rules.iter().partition(|id| s.groups.iter().any(|g| g.id == id.0));
        let forwarding: Vec<ResourceId> = forwarding.into_iter().cloned().collect();
        let parts = self.own_rules(&owned, &s, &forwarding)?;
        if !parts.is_empty() {
            let token = self.client.new_token();
            tracing::info!(listener_id = %listener, count = parts.len(), "deleting GA forwarding rules");
            self.client
                .delete_forwarding_rules(&owned, &parts, &token, &deadline)
                .await?;
            let gone: BTreeSet<String> = parts.iter().map(|p| p.id().0.clone()).collect();
            self.wait_routes(owned.as_str(), "the rule deletion", &deadline, |now| {
                !now.rules
                    .iter()
                    .any(|r| get_str(r, "ForwardingRuleId").is_some_and(|i| gone.contains(i)))
            })
            .await?;
        }
        // The root rule: the default group itself.
        for id in groups {
            if let Some(g) = s.groups.iter().find(|g| g.id == id.0) {
                let part = self.own_group(&owned, g)?;
                self.delete_group(&owned, &part, &deadline).await?;
            }
        }
        self.drop_unused_groups(&owned, &deadline).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> String {
        x.to_string()
    }

    #[test]
    fn prefixes_become_star_values_and_read_back() {
        assert_eq!(path_value("/"), "/*");
        assert_eq!(path_value("/v1"), "/v1*");
        let rule = json!({
            "RuleConditions": conditions("api.example.com", "/v1"),
            "RuleActions": actions("epg-1"),
        });
        assert_eq!(route_of(&rule), Some((s("api.example.com"), s("/v1"), s("epg-1"))));
        let old = json!({
            "RuleConditions": [
                { "RuleConditionType": "Host", "HostConfig": { "Values": ["a.example.com"] } },
                { "RuleConditionType": "Path", "PathConfig": { "Values": ["/*"] } },
            ],
            "RuleActions": [{ "RuleActionType": "ForwardGroup", "ForwardGroupConfig": { "ServerGroupTuples": [{ "EndpointGroupId": "epg-2" }] } }],
        });
        assert_eq!(route_of(&old), Some((s("a.example.com"), s("/"), s("epg-2"))));
    }

    #[test]
    fn evaluation_order_exact_then_longer_wildcards_then_longer_paths() {
        let mut keys = vec![
            ("*.example.com", "/"),
            ("api.example.com", "/"),
            ("*.a.example.com", "/x"),
            ("api.example.com", "/v1/reports"),
            ("api.example.com", "/v1"),
        ];
        keys.sort_by_key(|(h, p)| evaluation_key(h, p));
        assert_eq!(
            keys,
            vec![
                ("api.example.com", "/v1/reports"),
                ("api.example.com", "/v1"),
                ("api.example.com", "/"),
                ("*.a.example.com", "/x"),
                ("*.example.com", "/"),
            ]
        );
    }

    #[test]
    fn new_rules_fit_between_old_ones_or_everything_is_renumbered() {
        let new = vec![
            (s("a.example.com"), s("/v1")),
            (s("a.example.com"), s("/")),
            (s("*.example.com"), s("/")),
        ];
        let (p, moved) = priorities(&[], &new);
        assert!(moved.is_empty());
        assert!(p[0] < p[1] && p[1] < p[2], "{p:?}");
        let have: Vec<_> = new
            .iter()
            .cloned()
            .zip(p.iter().copied())
            .map(|((h, q), n)| (h, q, n))
            .collect();
        // Fits between /v1 and /.
        let (q, moved) = priorities(&have, &[(s("a.example.com"), s("/v"))]);
        assert!(moved.is_empty() && q[0] > p[0] && q[0] < p[1], "{p:?} {q:?}");
        // No room: everything renumbered, in order.
        let tight = vec![(s("a.b.com"), s("/abc"), 5), (s("a.b.com"), s("/a"), 6)];
        let (q, moved) = priorities(&tight, &[(s("a.b.com"), s("/ab"))]);
        assert_eq!(moved.len(), 2);
        let mut all: Vec<(u32, &str)> = moved.iter().map(|(i, n)| (*n, tight[*i].1.as_str())).collect();
        all.push((q[0], "/ab"));
        all.sort();
        assert_eq!(all.iter().map(|x| x.1).collect::<Vec<_>>(), vec!["/abc", "/ab", "/a"]);
        // Out of order on the cloud: renumbered too.
        let wrong = vec![(s("a.b.com"), s("/abc"), 50), (s("a.b.com"), s("/a"), 10)];
        let (_, moved) = priorities(&wrong, &[]);
        assert!(!moved.is_empty());
    }

    /// Routing factsheet §4: a GA endpoint group has one port
    /// (`PortOverrides`, `QuotaExceeded.PortOverride`); weights 0–255
    /// (`InvalidParameter`).
    #[test]
    fn pools_with_mixed_ports_or_big_weights_are_refused() {
        let mut e1 = Endpoint::new("10.0.0.1", 80);
        let e2 = Endpoint::new("10.0.0.2", 81);
        e1.weight = 300;
        let pool = PoolSpec::new("web", vec![e1, e2]);
        let r = check_pool(&pool);
        let rules: Vec<&str> = r.iter().map(|x| x.rule).collect();
        assert!(
            rules.contains(&rule::POOL_PORTS) && rules.contains(&rule::WEIGHT),
            "{rules:?}"
        );
        assert!(r.iter().any(|x| x.field == "backends.web.endpoints[0].weight"));
        assert!(check_pool(&PoolSpec::new("ok", vec![Endpoint::new("a.example.com", 80)])).is_empty());
    }

    /// SDK model CreateEndpointGroupRequest: tcp/http(s) probes, one
    /// `ThresholdCount` of 2–10, no timeout, method or status codes.
    /// A group's check read back ([`health_of`]) matches the check it was
    /// made from, as GA says it; another path, interval, kind or a check
    /// switched off does not; no check in the file leaves GA's alone.
    #[test]
    fn a_groups_health_check_reads_back_to_what_was_sent() {
        let hc: listener_core::HealthCheck = serde_json::from_value(json!({
            "kind": "http", "interval_secs": 5, "healthy_threshold": 3, "port": 8081,
            "http": { "path": "/healthz", "domain": "web.internal" }
        }))
        .expect("health check");
        let pool = PoolSpec::new("web", vec![Endpoint::new("10.0.0.1", 80)]).with_health_check(Some(hc.clone()));
        let group = Value::Object(group_fields(&pool, 80));
        let live = health_of(&group);
        assert!(health_matches(live.as_ref(), Some(&hc)));
        for other in [
            json!({ "kind": "http", "interval_secs": 5, "healthy_threshold": 3, "port": 8081, "http": { "path": "/ready" } }),
            json!({ "kind": "http", "interval_secs": 10, "healthy_threshold": 3, "port": 8081 }),
            json!({ "kind": "tcp" }),
            json!({ "enabled": false }),
        ] {
            let other: listener_core::HealthCheck = serde_json::from_value(other).expect("health check");
            assert!(!health_matches(live.as_ref(), Some(&other)), "{other:?}");
        }
        assert!(health_matches(live.as_ref(), None));
        assert!(health_matches(None, None));
        // A group that reports no check is one without.
        let off: listener_core::HealthCheck = serde_json::from_value(json!({ "enabled": false })).expect("off");
        assert!(health_matches(None, Some(&off)));
        assert!(!health_matches(None, Some(&hc)));
    }

    #[test]
    fn health_checks_ga_cannot_say_are_refused_and_the_rest_sent() {
        let hc: listener_core::HealthCheck = serde_json::from_value(json!({
            "kind": "http", "interval_secs": 5, "healthy_threshold": 3, "unhealthy_threshold": 3,
            "http": { "path": "/healthz", "domain": "web.internal" },
        }))
        .expect("health check");
        let pool = PoolSpec::new("web", vec![Endpoint::new("10.0.0.1", 80)]).with_health_check(Some(hc));
        assert!(check_pool(&pool).is_empty(), "{:?}", check_pool(&pool));
        let f = group_fields(&pool, 443);
        assert_eq!(
            (
                &f["HealthCheckProtocol"],
                &f["HealthCheckPath"],
                &f["ThresholdCount"],
                &f["HealthCheckHost"]
            ),
            (&json!("http"), &json!("/healthz"), &json!(3), &json!("web.internal"))
        );
        let bad: listener_core::HealthCheck = serde_json::from_value(json!({
            "kind": "ping", "timeout_secs": 2, "healthy_threshold": 2, "unhealthy_threshold": 11,
        }))
        .expect("health check");
        let pool = PoolSpec::new("web", vec![Endpoint::new("10.0.0.1", 80)]).with_health_check(Some(bad));
        let fields: Vec<String> = check_pool(&pool).into_iter().map(|r| r.field).collect();
        for f in [
            "backends.web.health_check.kind",
            "backends.web.health_check.timeout_secs",
            "backends.web.health_check.unhealthy_threshold",
        ] {
            assert!(fields.iter().any(|x| x == f), "{f}: {fields:?}");
        }
    }

    /// D-ga-eg: 10 virtual groups per listener (`QuotaExceeded.EndpointGroup`).
    #[test]
    fn more_pools_than_virtual_groups_are_refused() {
        let l = ListenerSpec::new("site", Protocol::Https, listener_core::Ports::Single(443));
        let mut rules: Vec<RouteSpec> = (0..11)
            .map(|i| RouteSpec::new(Some("a.example.com"), format!("/p{i}"), format!("pool{i}")))
            .collect();
        rules.push(RouteSpec::new(None, "/", "web"));
        let r = check_rules(&l, &rules);
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].0, r[0].1.rule), (10, rule::VIRTUAL_GROUPS));
        assert!(check_rules(&l, &rules[1..]).is_empty());
    }

    #[test]
    fn a_backend_of_a_multi_port_tcp_listener_is_refused() {
        let l = ListenerSpec::new(
            "db",
            Protocol::Tcp,
            listener_core::Ports::Range(listener_core::PortRange { from: 5000, to: 5010 }),
        );
        let r = check_rules(&l, &[RouteSpec::new(None, "/", "db")]);
        assert_eq!(r[0].1.rule, rule::MULTI_PORT_BACKEND);
    }

    #[test]
    fn groups_read_back_with_the_overridden_port() {
        let g = json!({
            "EndpointGroupId": "epg-1", "Name": "pool-web", "EndpointGroupType": "virtual", "State": "active",
            "Description": "[cloud-listeners:default]",
            "EndpointConfigurations": [{ "Type": "Ip", "Endpoint": "10.0.0.1", "Weight": 60 }],
            "PortOverrides": [{ "ListenerPort": 443, "EndpointPort": 8080 }],
        });
        let v = group_of(&g, 443).unwrap();
        assert_eq!(v.pool.as_deref(), Some("web"));
        assert_eq!(v.owner.as_deref(), Some("default"));
        assert!(v.virtual_group);
        assert_eq!((v.endpoints[0].port, v.endpoints[0].weight), (8080, 60));
        let fields = group_fields(&PoolSpec::new("web", vec![Endpoint::new("db.internal", 5432)]), 5432);
        assert_eq!(fields["EndpointConfigurations"][0]["Type"], "Domain");
        assert_eq!(fields["PortOverrides"][0]["EndpointPort"], 5432);
    }
}
