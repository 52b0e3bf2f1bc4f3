//! GA endpoint groups, forwarding rules and additional certificates, their
//! matching, and the admin resolve call: a child of the GA service (its own
//! file so the routing actions read as one piece).
//!
//! **Endpoint groups** (`epg-…`) belong to a listener. A *default* group
//! takes what no forwarding rule takes (on TCP/UDP listeners: everything);
//! a *virtual* group is what a forwarding rule forwards to. Endpoints are
//! `Type` + `Endpoint` + `Weight`; GA has no per-endpoint port: the port
//! traffic goes to is the listener port, or what `PortOverrides` maps it to.
//!
//! **Forwarding rules** (`frule-…`, HTTP/HTTPS listeners) have a `Priority`
//! (1–10000, smaller first), conditions (at most one Host condition, any
//! number of Path conditions, values with `*`/`?` wildcards) and one
//! `ForwardGroup` action to one virtual group of the same listener. Both
//! encodings are read: the current `RuleConditionType` +
//! `RuleConditionValue` (a JSON list) and `RuleActionType` +
//! `RuleActionValue` (`[{"type":"endpointgroup","value":"epg-…"}]`), and
//! the deprecated `HostConfig`/`PathConfig`/`ForwardGroupConfig`; answers
//! carry both.
//!
//! **Additional certificates** (HTTPS listeners) are `Domain` + `Id`, one
//! certificate per domain; the listener is `updating` while they change.
//!
//! | rule | code | source |
//! |---|---|---|
//! | a weight outside 0–255 or missing; an endpoint `Type` GA does not have; an `Ip` endpoint that is not an address; a port override whose listener port is not the listener's, or an endpoint port outside 1–65535; more overrides than listener ports; `EndpointRequestProtocol` other than HTTP/HTTPS, or HTTPS on an HTTP listener, or on TCP/UDP; `EndpointGroupType` other than default/virtual; health-check protocol not tcp/http/https, threshold outside 2–10, interval below 1 (no upper bound is documented), port outside 1–65535; `TrafficPercentage` outside 1–100; name/description rules of listeners | `InvalidParameter` | SDK model CreateEndpointGroupRequest |
//! | more than one group in `CreateEndpointGroups` on an HTTP/HTTPS listener | `InvalidParameter` | SDK model CreateEndpointGroupsRequest.ListenerId |
//! | a virtual group on a TCP/UDP listener without a default group | `InvalidParameter` | SDK model CreateEndpointGroupRequest.EndpointGroupType |
//! | more default groups than the quota (2 per listener), more virtual groups than 10; more endpoints in a group than its quota (assumed 100: the current sources are silent, the 2021 reference said 4) | `QuotaExceeded.EndpointGroup` (suffix assumed) / `QuotaExceeded.EndPoint` | routing factsheet §4 (D-ga-eg; D-ga-2021 for the codes) |
//! | a second default group in one region | `Exist.EndpointGroup` | emulator's, after GA's dependency code |
//! | `Priority` outside 1–10000; a condition type other than Host/Path (not emulated); two Host conditions; Host values not 3–128 of letters, digits, `-`, `.`, `*`, `?`; Path values not 1–128 starting `/` of letters, digits, `$ - _ . + / & ~ @ : '`, `*`, `?`; an action other than one `ForwardGroup` to one group; a forward to a default group | `InvalidParameter` | SDK model CreateForwardingRulesRequest, routing factsheet §2 |
//! | more rules on a listener than its quota (assumed 100; the number is silent) | `QuotaExceeded.ForwardingRule` | routing factsheet §3 |
//! | unknown group or rule | `NotExist.EndPointGroup` / `NotExist.ForwardingRule` | routing factsheet §6 |
//! | a group a rule forwards to, deleted | `Exist.ForwardingRule` | emulator's, after GA's dependency code |
//! | DeleteListener with groups or rules left | `Exist.EndpointGroup` / `Exist.ForwardingRule` | `alibaba.md` §5 |
//! | a write while anything of the accelerator is changing | `StateError.Accelerator` | D-ga-cfr: "no second call on the same GA instance until the first finishes" |
//! | a write to a group or rule that is itself changing | `StateError.EndPointGroup` / `StateError.ForwardingRule` | TF-ga-eg, TF-ga-fr |
//! | certificates on a non-HTTPS listener; a domain given twice; more than 10 certificates in one call; a domain with a certificate already (associate) or without one (update, dissociate) | `InvalidParameter` / `Exist.Domain` / `NotExist.Domain` (codes assumed) | SDK model AssociateAdditionalCertificatesWithListenerRequest ("one certificate per domain", "up to 10 per request") |
//! | more additional certificates on a listener than its quota (3 by default) | `QuotaExceeded.Certificate` (suffix assumed) | D-ga-cert (3, 10 on request); `alibaba.md` §5 says 25: **disagreement**, the current guide is followed |
//!
//! Asynchronous states: a new group is `init`, an updated one `updating`, a
//! deleted one `deleting`, then `active` (or gone); a rule is `configuring`
//! while created or updated and `deleting` while deleted. A failed task
//! ([`Context::fail_task`]) ends as GA shows it: a failed create vanishes,
//! a failed update returns to the old configuration, a failed delete
//! returns to `active`.
//!
//! **Matching** ([`forwarding_rule`]): rules that finished creating are
//! tried by `Priority`, smaller first (ties by creation order); a rule
//! applies when every condition holds (values of one condition are OR'd;
//! Host ignores case, Path does not; `*` is any run, `?` one character);
//! no rule → the listener's default endpoint group. The certificate
//! served for a TLS server name ([`certificate_for`]) is the additional
//! certificate of that exact domain, else of the wildcard domain with the
//! longest suffix that matches, else the default one (the vendor documents
//! "the default certificate serves the rest" only; the order among
//! wildcard domains is the emulator's assumption).

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::{json, Value};

use super::{
    check_description, check_name, check_region, integer, invalid, required, text, Ga, Listener, Phase, Proto, State,
};
use crate::service::{ApiError, Call, Context, ResolveQuery};
use crate::services::alb::rules::wildcard_match;

/// Default endpoint groups per listener (routing factsheet §4, D-ga-eg).
pub const DEFAULT_GROUPS_PER_LISTENER: usize = 2;
/// Virtual endpoint groups per listener (D-ga-eg, pay-as-you-go).
pub const VIRTUAL_GROUPS_PER_LISTENER: usize = 10;
/// Endpoints per group: assumed (current sources silent; 2021: 4).
pub const ENDPOINTS_PER_GROUP: usize = 100;
/// Forwarding rules per listener: assumed (the number is silent).
pub const RULES_PER_LISTENER: usize = 100;
/// Additional certificates per listener by default (D-ga-cert).
pub const CERTIFICATES_PER_LISTENER: usize = 3;
/// Certificates or domains one call takes (SDK model).
pub const CERTIFICATES_PER_CALL: usize = 10;
/// Highest rule priority.
pub const MAX_PRIORITY: u32 = 10_000;
/// Endpoint types GA knows (SDK model `EndpointConfigurations.Type`).
const ENDPOINT_TYPES: [&str; 10] = [
    "Domain", "Ip", "IpTarget", "PublicIp", "ECS", "SLB", "ALB", "NLB", "ENI", "OSS",
];

/// One endpoint of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct GroupEndpoint {
    kind: String,
    address: String,
    weight: u32,
}

/// What a group is: the settings an update changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct GroupBody {
    name: String,
    description: String,
    region: String,
    endpoints: Vec<GroupEndpoint>,
    /// `(listener port, endpoint port)`.
    overrides: Vec<(u32, u32)>,
    request_protocol: Option<String>,
    traffic: u32,
    health_enabled: bool,
    health_protocol: Option<String>,
    health_path: Option<String>,
    health_port: Option<u32>,
    health_host: Option<String>,
    health_interval: u32,
    threshold: u32,
}

#[derive(Debug, Clone)]
enum Work<B> {
    Create,
    Update(Box<B>),
    Delete,
}

#[derive(Debug, Clone)]
struct Pending<B> {
    work: Work<B>,
    until: Instant,
    fail: bool,
}

/// One endpoint group.
#[derive(Debug, Clone)]
pub(super) struct Group {
    id: String,
    accelerator: String,
    listener: String,
    virtual_group: bool,
    seq: u64,
    body: GroupBody,
    pending: Option<Pending<GroupBody>>,
}

/// What a rule is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RuleBody {
    name: String,
    priority: u32,
    hosts: Vec<String>,
    /// Path conditions, each a list of values (conditions OR'd).
    paths: Vec<String>,
    group: String,
}

/// One forwarding rule.
#[derive(Debug, Clone)]
pub(super) struct Rule {
    id: String,
    accelerator: String,
    listener: String,
    seq: u64,
    body: RuleBody,
    pending: Option<Pending<RuleBody>>,
}

/// The routing objects of the account, kept beside the listeners.
#[derive(Debug, Default)]
pub(super) struct Routes {
    groups: BTreeMap<String, Group>,
    rules: BTreeMap<String, Rule>,
}

impl Group {
    fn state(&self) -> &'static str {
        match self.pending.as_ref().map(|p| &p.work) {
            None => "active",
            Some(Work::Create) => "init",
            Some(Work::Update(_)) => "updating",
            Some(Work::Delete) => "deleting",
        }
    }

    fn answer(&self, rules: &BTreeMap<String, Rule>) -> Value {
        let b = &self.body;
        let endpoints: Vec<Value> = b
            .endpoints
            .iter()
            .map(|e| {
                json!({
                    "Type": e.kind, "Endpoint": e.address, "Weight": e.weight,
                    "EnableClientIPPreservation": false, "EnableProxyProtocol": false,
                })
            })
            .collect();
        let overrides: Vec<Value> = b
            .overrides
            .iter()
            .map(|(l, e)| json!({ "ListenerPort": l, "EndpointPort": e }))
            .collect();
        let rule_ids: Vec<&str> = rules
            .values()
            .filter(|r| r.body.group == self.id)
            .map(|r| r.id.as_str())
            .collect();
        let mut v = json!({
            "EndpointGroupId": self.id,
            "AcceleratorId": self.accelerator,
            "ListenerId": self.listener,
            "Name": b.name,
            "Description": b.description,
            "EndpointGroupRegion": b.region,
            "EndpointGroupType": if self.virtual_group { "virtual" } else { "default" },
            "State": self.state(),
            "TrafficPercentage": b.traffic,
            "EndpointConfigurations": endpoints,
            "PortOverrides": overrides,
            "ForwardingRuleIds": rule_ids,
            "HealthCheckEnabled": b.health_enabled,
            "HealthCheckIntervalSeconds": b.health_interval,
            "ThresholdCount": b.threshold,
            "ServiceManaged": false,
        });
        if let Some(p) = &b.request_protocol {
            v["EndpointRequestProtocol"] = json!(p);
        }
        if let Some(p) = &b.health_protocol {
            v["HealthCheckProtocol"] = json!(p);
        }
        if let Some(p) = &b.health_path {
            v["HealthCheckPath"] = json!(p);
        }
        if let Some(p) = b.health_port {
            v["HealthCheckPort"] = json!(p);
        }
        if let Some(h) = &b.health_host {
            v["HealthCheckHost"] = json!(h);
        }
        v
    }

    /// Whether the group serves traffic: its create finished.
    fn serving(&self) -> bool {
        !matches!(self.pending.as_ref().map(|p| &p.work), Some(Work::Create))
    }
}

impl Rule {
    fn state(&self) -> &'static str {
        match self.pending.as_ref().map(|p| &p.work) {
            None => "active",
            Some(Work::Create) | Some(Work::Update(_)) => "configuring",
            Some(Work::Delete) => "deleting",
        }
    }

    fn active(&self) -> bool {
        !matches!(self.pending.as_ref().map(|p| &p.work), Some(Work::Create))
    }

    fn answer(&self) -> Value {
        let b = &self.body;
        let mut conditions = Vec::new();
        if !b.hosts.is_empty() {
            conditions.push(json!({
                "RuleConditionType": "Host",
                "RuleConditionValue": serde_json::to_string(&b.hosts).unwrap_or_default(),
                "HostConfig": { "Values": b.hosts },
            }));
        }
        if !b.paths.is_empty() {
            conditions.push(json!({
                "RuleConditionType": "Path",
                "RuleConditionValue": serde_json::to_string(&b.paths).unwrap_or_default(),
                "PathConfig": { "Values": b.paths },
            }));
        }
        json!({
            "ForwardingRuleId": self.id,
            "ForwardingRuleName": b.name,
            "ForwardingRuleStatus": self.state(),
            "ForwardingRuleDirection": "request",
            "Priority": b.priority,
            "ListenerId": self.listener,
            "ServiceManaged": false,
            "RuleConditions": conditions,
            "RuleActions": [{
                "Order": 1,
                "RuleActionType": "ForwardGroup",
                "RuleActionValue": json!([{ "type": "endpointgroup", "value": b.group }]).to_string(),
                "ForwardGroupConfig": { "ServerGroupTuples": [{ "EndpointGroupId": b.group }] },
            }],
        })
    }
}

// ---------------------------------------------------------------------------
// Matching (pure)
// ---------------------------------------------------------------------------

/// The rule a request goes to, GA's way: `rules` as `(priority, hosts,
/// paths)` are tried by priority, smaller first (ties in the order given);
/// the first whose conditions all hold wins (an empty list is no
/// condition). `None` means the listener's default endpoint group.
pub fn forwarding_rule(rules: &[(u32, &[String], &[String])], host: &str, path: &str) -> Option<usize> {
    let host = host.to_ascii_lowercase();
    let mut order: Vec<usize> = (0..rules.len()).collect();
    order.sort_by_key(|i| rules[*i].0);
    order.into_iter().find(|i| {
        let (_, hosts, paths) = rules[*i];
        (hosts.is_empty() || hosts.iter().any(|h| wildcard_match(&h.to_ascii_lowercase(), &host)))
            && (paths.is_empty() || paths.iter().any(|p| wildcard_match(p, path)))
    })
}

/// The additional certificate for TLS server name `host` among `domains`
/// (domain → certificate): the exact domain, else the matching wildcard
/// domain with the longest suffix; `None` means the default certificate.
pub fn certificate_for<'a>(domains: &'a BTreeMap<String, String>, host: &str) -> Option<&'a str> {
    let host = host.to_ascii_lowercase();
    if let Some(c) = domains.get(&host) {
        return Some(c);
    }
    domains
        .iter()
        .filter(|(d, _)| d.starts_with('*') && wildcard_match(d, &host))
        .max_by_key(|(d, _)| d.len())
        .map(|(_, c)| c.as_str())
}

// ---------------------------------------------------------------------------
// Parameter rules
// ---------------------------------------------------------------------------

fn list<'a>(p: &'a Value, key: &str) -> Result<&'a [Value], ApiError> {
    match p.get(key) {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(invalid(format!("The parameter {key} must be a list."))),
    }
}

fn strings(p: &Value, key: &str) -> Result<Vec<String>, ApiError> {
    Ok(list(p, key)?
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect())
}

fn flag(p: &Value, key: &str) -> Result<Option<bool>, ApiError> {
    match text(p, key) {
        None => Ok(None),
        Some(s) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(s) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(s) => Err(invalid(format!(
            "The parameter {key} must be true or false, not `{s}`."
        ))),
    }
}

fn dry_run(p: &Value) -> Result<bool, ApiError> {
    Ok(flag(p, "DryRun")?.unwrap_or(false))
}

fn dry_run_passed() -> ApiError {
    ApiError::new(
        "DryRunOperation",
        "Request validation has been passed with DryRun flag set.",
    )
}

fn not_exist_group(id: &str) -> ApiError {
    ApiError::new(
        "NotExist.EndPointGroup",
        format!("The endpoint group {id} does not exist."),
    )
}

fn not_exist_rule(id: &str) -> ApiError {
    ApiError::new(
        "NotExist.ForwardingRule",
        format!("The forwarding rule {id} does not exist."),
    )
}

fn in_range(p: &Value, key: &str, lo: u32, hi: u32) -> Result<Option<u32>, ApiError> {
    match integer(p, key)? {
        Some(v) if !(lo..=hi).contains(&v) => {
            Err(invalid(format!("The specified {key} {v} is invalid; {lo} to {hi}.")))
        }
        v => Ok(v),
    }
}

/// `EndpointConfigurations.N` of one group.
fn endpoints_of(p: &Value) -> Result<Vec<GroupEndpoint>, ApiError> {
    let mut out = Vec::new();
    for e in list(p, "EndpointConfigurations")? {
        let kind = required(e, "Type").map_err(|_| ApiError::missing_parameter("EndpointConfigurations.N.Type"))?;
        let Some(kind) = ENDPOINT_TYPES.iter().find(|t| t.eq_ignore_ascii_case(kind)) else {
            return Err(invalid(format!("EndpointConfigurations.N.Type `{kind}` is invalid.")));
        };
        let address =
            required(e, "Endpoint").map_err(|_| ApiError::missing_parameter("EndpointConfigurations.N.Endpoint"))?;
        if *kind == "Ip" && address.parse::<std::net::IpAddr>().is_err() {
            return Err(invalid(format!(
                "EndpointConfigurations.N.Endpoint `{address}` is not an IP address."
            )));
        }
        if *kind == "Domain" && !domain_ok(address) {
            return Err(invalid(format!(
                "EndpointConfigurations.N.Endpoint `{address}` is not a domain name."
            )));
        }
        let weight =
            match integer(e, "Weight").map_err(|_| invalid("EndpointConfigurations.N.Weight must be 0 to 255."))? {
                None => return Err(ApiError::missing_parameter("EndpointConfigurations.N.Weight")),
                Some(w) if w > 255 => return Err(invalid("EndpointConfigurations.N.Weight must be 0 to 255.")),
                Some(w) => w,
            };
        out.push(GroupEndpoint {
            kind: (*kind).to_string(),
            address: address.to_string(),
            weight,
        });
    }
    Ok(out)
}

/// `PortOverrides.N` of one group, against the listener's ports.
fn overrides_of(p: &Value, listener: &Listener) -> Result<Vec<(u32, u32)>, ApiError> {
    let mut out: Vec<(u32, u32)> = Vec::new();
    for o in list(p, "PortOverrides")? {
        let lp =
            integer(o, "ListenerPort")?.ok_or_else(|| ApiError::missing_parameter("PortOverrides.N.ListenerPort"))?;
        let ep =
            integer(o, "EndpointPort")?.ok_or_else(|| ApiError::missing_parameter("PortOverrides.N.EndpointPort"))?;
        if !listener.config.ranges.iter().any(|(f, t)| *f <= lp && lp <= *t) {
            return Err(invalid(format!(
                "PortOverrides.N.ListenerPort {lp} is not a port of listener {}.",
                listener.id
            )));
        }
        if ep == 0 || ep > 65535 {
            return Err(invalid(format!(
                "PortOverrides.N.EndpointPort {ep} is invalid; 1 to 65535."
            )));
        }
        out.push((lp, ep));
    }
    // One endpoint port per listener port: a second mapping is past the
    // quota (a group has no per-endpoint port).
    if out.len() as u64 > listener.config.port_count() {
        return Err(ApiError::new(
            "QuotaExceeded.PortOverride",
            "More port overrides than listener ports.",
        ));
    }
    if let Some((lp, _)) = out
        .iter()
        .enumerate()
        .find(|(i, (l, _))| out[..*i].iter().any(|(x, _)| x == l))
        .map(|(_, o)| *o)
    {
        return Err(invalid(format!("PortOverrides.N.ListenerPort {lp} is given twice.")));
    }
    Ok(out)
}

/// The keys one group's settings go by: CreateEndpointGroup and
/// UpdateEndpointGroup use `Name`/`Description`, the items of
/// CreateEndpointGroups `EndpointGroupName`/`EndpointGroupDescription`.
struct Keys {
    name: &'static str,
    description: &'static str,
}

const SINGLE: Keys = Keys {
    name: "Name",
    description: "Description",
};
const BATCH: Keys = Keys {
    name: "EndpointGroupName",
    description: "EndpointGroupDescription",
};

/// A group's body from `p`, over `base` for an update.
fn group_body(p: &Value, keys: &Keys, listener: &Listener, base: Option<&GroupBody>) -> Result<GroupBody, ApiError> {
    let name = match text(p, keys.name) {
        Some(n) if !n.is_empty() => {
            check_name(n)?;
            n.to_string()
        }
        _ => base.map(|b| b.name.clone()).unwrap_or_default(),
    };
    let description = match text(p, keys.description) {
        Some(d) => {
            check_description(d)?;
            d.to_string()
        }
        None => base.map(|b| b.description.clone()).unwrap_or_default(),
    };
    let region = match (text(p, "EndpointGroupRegion"), base) {
        (Some(r), _) if !r.is_empty() => r.to_string(),
        (_, Some(b)) => b.region.clone(),
        _ => return Err(ApiError::missing_parameter("EndpointGroupRegion")),
    };
    let endpoints = if p.get("EndpointConfigurations").is_some() || base.is_none() {
        endpoints_of(p)?
    } else {
        base.map(|b| b.endpoints.clone()).unwrap_or_default()
    };
    let overrides = if p.get("PortOverrides").is_some() || base.is_none() {
        overrides_of(p, listener)?
    } else {
        base.map(|b| b.overrides.clone()).unwrap_or_default()
    };
    let request_protocol = match text(p, "EndpointRequestProtocol") {
        Some(v) => {
            let v = v.to_ascii_uppercase();
            if v != "HTTP" && v != "HTTPS" {
                return Err(invalid(format!(
                    "The specified EndpointRequestProtocol `{v}` is invalid."
                )));
            }
            match listener.config.protocol {
                Proto::Tcp | Proto::Udp => {
                    return Err(invalid(
                        "EndpointRequestProtocol applies to HTTP and HTTPS listeners only.",
                    ))
                }
                Proto::Http if v == "HTTPS" => {
                    return Err(invalid("An HTTP listener forwards to its endpoints over HTTP only."))
                }
                _ => Some(v),
            }
        }
        None => base
            .and_then(|b| b.request_protocol.clone())
            .or_else(|| listener.config.protocol.layer7().then(|| "HTTP".to_string())),
    };
    let traffic = in_range(p, "TrafficPercentage", 1, 100)?
        .or(base.map(|b| b.traffic))
        .unwrap_or(100);
    let health_enabled = flag(p, "HealthCheckEnabled")?
        .or(base.map(|b| b.health_enabled))
        .unwrap_or(true);
    let health_protocol = match text(p, "HealthCheckProtocol") {
        Some(v) => {
            let v = v.to_ascii_lowercase();
            if !["tcp", "http", "https"].contains(&v.as_str()) {
                return Err(invalid(format!("The specified HealthCheckProtocol `{v}` is invalid.")));
            }
            Some(v)
        }
        None => base.and_then(|b| b.health_protocol.clone()),
    };
    let health_path = match text(p, "HealthCheckPath") {
        Some(v) => {
            if !v.starts_with('/') || v.chars().count() > 80 {
                return Err(invalid(format!("The specified HealthCheckPath `{v}` is invalid.")));
            }
            Some(v.to_string())
        }
        None => base.and_then(|b| b.health_path.clone()),
    };
    let health_port = in_range(p, "HealthCheckPort", 1, 65535)?.or(base.and_then(|b| b.health_port));
    let health_host = match text(p, "HealthCheckHost") {
        Some(h) if !h.is_empty() => Some(h.to_string()),
        _ => base.and_then(|b| b.health_host.clone()),
    };
    // The interval's range is silent in the SDK model: any positive number.
    let health_interval = in_range(p, "HealthCheckIntervalSeconds", 1, u32::MAX)?
        .or(base.map(|b| b.health_interval))
        .unwrap_or(3);
    let threshold = in_range(p, "ThresholdCount", 2, 10)?
        .or(base.map(|b| b.threshold))
        .unwrap_or(3);
    Ok(GroupBody {
        name,
        description,
        region,
        endpoints,
        overrides,
        request_protocol,
        traffic,
        health_enabled,
        health_protocol,
        health_path,
        health_port,
        health_host,
        health_interval,
        threshold,
    })
}

fn group_kind(p: &Value) -> Result<bool, ApiError> {
    match text(p, "EndpointGroupType") {
        None | Some("default") => Ok(false),
        Some("virtual") => Ok(true),
        Some(t) => Err(invalid(format!("The specified EndpointGroupType `{t}` is invalid."))),
    }
}

/// A domain endpoint: labels of letters, digits and `-`, with a dot,
/// at most 253 characters.
fn domain_ok(v: &str) -> bool {
    v.len() <= 253
        && v.contains('.')
        && v.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// A Host value (SDK model): 3–128 of letters, digits, `-`, `.`, `*`, `?`.
pub fn host_value_ok(v: &str) -> bool {
    (3..=128).contains(&v.chars().count())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '*' | '?'))
}

/// A Path value (SDK model): 1–128, starting `/`, of letters, digits and
/// `$ - _ . + / & ~ @ : '`, plus `*` and `?`.
pub fn path_value_ok(v: &str) -> bool {
    (1..=128).contains(&v.chars().count())
        && v.starts_with('/')
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "$-_.+/&~@:'*?".contains(c))
}

/// Values of one condition: `RuleConditionValue` (a JSON list) or the
/// deprecated `HostConfig.Values` / `PathConfig.Values`.
fn condition_values(c: &Value, config: &str) -> Result<Vec<String>, ApiError> {
    let values: Vec<String> = match text(c, "RuleConditionValue") {
        Some(raw) => serde_json::from_str::<Vec<String>>(raw)
            .map_err(|_| invalid(format!("RuleConditionValue `{raw}` is not a JSON list of strings.")))?,
        None => c
            .get(config)
            .map(|x| strings(x, "Values"))
            .transpose()?
            .unwrap_or_default(),
    };
    if values.is_empty() {
        return Err(ApiError::missing_parameter("RuleConditions.N.RuleConditionValue"));
    }
    Ok(values)
}

/// Hosts and paths of one rule (`r`).
fn conditions_of(r: &Value) -> Result<(Vec<String>, Vec<String>), ApiError> {
    let (mut hosts, mut paths) = (None::<Vec<String>>, Vec::new());
    let items = list(r, "RuleConditions")?;
    if items.is_empty() {
        return Err(ApiError::missing_parameter("RuleConditions.1.RuleConditionType"));
    }
    for c in items {
        let kind = text(c, "RuleConditionType")
            .ok_or_else(|| ApiError::missing_parameter("RuleConditions.N.RuleConditionType"))?;
        match kind {
            "Host" => {
                if hosts.is_some() {
                    return Err(invalid("A forwarding rule takes at most one Host condition."));
                }
                let v = condition_values(c, "HostConfig")?;
                if let Some(bad) = v.iter().find(|h| !host_value_ok(h)) {
                    return Err(invalid(format!("The Host value `{bad}` is invalid.")));
                }
                hosts = Some(v);
            }
            "Path" => {
                let v = condition_values(c, "PathConfig")?;
                if let Some(bad) = v.iter().find(|p| !path_value_ok(p)) {
                    return Err(invalid(format!("The Path value `{bad}` is invalid.")));
                }
                paths.extend(v);
            }
            other => {
                return Err(invalid(format!(
                    "RuleConditionType `{other}` is not supported by the emulator (Host and Path are)."
                )))
            }
        }
    }
    Ok((hosts.unwrap_or_default(), paths))
}

/// The one virtual group of a rule's one `ForwardGroup` action.
fn group_of(r: &Value) -> Result<String, ApiError> {
    let actions = list(r, "RuleActions")?;
    let [a] = actions else {
        return Err(if actions.is_empty() {
            ApiError::missing_parameter("RuleActions.1.RuleActionType")
        } else {
            invalid("A forwarding rule takes one ForwardGroup action.")
        });
    };
    let kind = text(a, "RuleActionType").ok_or_else(|| ApiError::missing_parameter("RuleActions.1.RuleActionType"))?;
    if kind != "ForwardGroup" {
        return Err(invalid(format!(
            "RuleActionType `{kind}` is not supported by the emulator (ForwardGroup is)."
        )));
    }
    let ids: Vec<String> = match text(a, "RuleActionValue") {
        Some(raw) => {
            let v: Value =
                serde_json::from_str(raw).map_err(|_| invalid(format!("RuleActionValue `{raw}` is not JSON.")))?;
            let items = match v {
                Value::Array(items) => items,
                other => vec![other],
            };
            items
                .iter()
                .map(|i| {
                    match (
                        i.get("type").and_then(Value::as_str),
                        i.get("value").and_then(Value::as_str),
                    ) {
                        (Some(t), Some(v)) if t.eq_ignore_ascii_case("endpointgroup") => Ok(v.to_string()),
                        _ => Err(invalid(format!("RuleActionValue `{raw}` is not an endpoint group."))),
                    }
                })
                .collect::<Result<_, _>>()?
        }
        None => a
            .get("ForwardGroupConfig")
            .map(|f| list(f, "ServerGroupTuples"))
            .transpose()?
            .unwrap_or(&[])
            .iter()
            .filter_map(|t| text(t, "EndpointGroupId"))
            .map(str::to_string)
            .collect(),
    };
    match ids.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(ApiError::missing_parameter("RuleActions.1.RuleActionValue")),
        _ => Err(invalid("A ForwardGroup action forwards to exactly one endpoint group.")),
    }
}

fn priority_of(r: &Value) -> Result<Option<u32>, ApiError> {
    in_range(r, "Priority", 1, MAX_PRIORITY)
}

fn rule_name_of(r: &Value) -> Result<Option<String>, ApiError> {
    match text(r, "ForwardingRuleName") {
        Some(n) if !n.is_empty() => {
            check_name(n)?;
            Ok(Some(n.to_string()))
        }
        _ => Ok(None),
    }
}

// ---------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------

impl State {
    /// Finish the routing work whose time has come.
    pub(super) fn settle_routes(&mut self, now: Instant) {
        let mut gone = Vec::new();
        for (id, g) in self.routes.groups.iter_mut() {
            let Some(p) = g.pending.take_if(|p| now >= p.until) else {
                continue;
            };
            match (p.work, p.fail) {
                (Work::Create, true) | (Work::Delete, false) => gone.push(id.clone()),
                (Work::Update(b), false) => g.body = *b,
                _ => {}
            }
        }
        for id in gone.drain(..) {
            self.routes.groups.remove(&id);
        }
        for (id, r) in self.routes.rules.iter_mut() {
            let Some(p) = r.pending.take_if(|p| now >= p.until) else {
                continue;
            };
            match (p.work, p.fail) {
                (Work::Create, true) | (Work::Delete, false) => gone.push(id.clone()),
                (Work::Update(b), false) => r.body = *b,
                _ => {}
            }
        }
        for id in gone {
            self.routes.rules.remove(&id);
        }
    }

    /// Whether a group or rule of `accelerator` has unfinished work.
    pub(super) fn routes_busy(&self, accelerator: &str) -> bool {
        self.routes
            .groups
            .values()
            .any(|g| g.accelerator == accelerator && g.pending.is_some())
            || self
                .routes
                .rules
                .values()
                .any(|r| r.accelerator == accelerator && r.pending.is_some())
    }

    /// `Exist.EndpointGroup` / `Exist.ForwardingRule` while `listener`
    /// still has groups or rules (DeleteListener).
    pub(super) fn routes_left(&self, listener: &str) -> Result<(), ApiError> {
        if self.routes.rules.values().any(|r| r.listener == listener) {
            return Err(ApiError::new(
                "Exist.ForwardingRule",
                "The listener still has forwarding rules.",
            ));
        }
        if self.routes.groups.values().any(|g| g.listener == listener) {
            return Err(ApiError::new(
                "Exist.EndpointGroup",
                "The listener still has endpoint groups.",
            ));
        }
        Ok(())
    }

    fn fresh(&mut self, prefix: &str) -> String {
        loop {
            self.next += 1;
            let mut x = self.next.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let mut id = String::from(prefix);
            for _ in 0..17 {
                x ^= x >> 31;
                x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
                x ^= x >> 29;
                id.push(char::from_digit((x % 36) as u32, 36).unwrap_or('0'));
            }
            if !self.routes.groups.contains_key(&id) && !self.routes.rules.contains_key(&id) {
                return id;
            }
        }
    }

    /// The listener `id` on `accelerator` (when given), active, with the
    /// accelerator idle: what every routing write needs.
    fn writable_listener(&self, id: &str, accelerator: Option<&str>) -> Result<Listener, ApiError> {
        let l = self
            .listeners
            .get(id)
            .filter(|l| accelerator.is_none_or(|a| a == l.accelerator))
            .cloned()
            .ok_or_else(super::not_exist_listener)?;
        self.idle(&l.accelerator)?;
        if !matches!(l.phase, Phase::Active) {
            return Err(ApiError::new(
                "NotActive.Listener",
                "The state of the listener is not active.",
            ));
        }
        Ok(l)
    }

    /// `StateError.Accelerator` while anything of `accelerator` changes.
    fn idle(&self, accelerator: &str) -> Result<(), ApiError> {
        if !self.accelerators.contains_key(accelerator) {
            return Err(ApiError::new(
                "NotExist.Accelerator",
                "The accelerated instance does not exist.",
            ));
        }
        let busy = self.on(accelerator).any(|l| !matches!(l.phase, Phase::Active)) || self.routes_busy(accelerator);
        if busy {
            return Err(ApiError::new(
                "StateError.Accelerator",
                "The state of the accelerated instance is invalid.",
            ));
        }
        Ok(())
    }

    /// Count rules against quotas and check the group a rule forwards to.
    fn check_rule_group(&self, listener: &str, group: &str) -> Result<(), ApiError> {
        let g = self.routes.groups.get(group).ok_or_else(|| not_exist_group(group))?;
        if g.listener != listener {
            return Err(not_exist_group(group));
        }
        if !g.virtual_group {
            return Err(invalid(format!(
                "Forwarding rules forward to virtual endpoint groups; {group} is a default group."
            )));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Actions
// ---------------------------------------------------------------------------

impl Ga {
    /// Run `act` under the region check, the settled clock and the
    /// family's `ClientToken` rule.
    fn routed(&self, call: &Call, act: impl FnOnce(&mut State) -> Result<Value, ApiError>) -> Result<Value, ApiError> {
        self.with_token(call, act)
    }

    /// Check one group's creation on `listener` against the quotas and
    /// the groups already there (plus `also`, made in the same call).
    fn check_new_group(
        &self,
        state: &State,
        listener: &Listener,
        virtual_group: bool,
        body: &GroupBody,
        also: &[(bool, &GroupBody)],
    ) -> Result<(), ApiError> {
        let mut same: Vec<(bool, &GroupBody)> = state
            .routes
            .groups
            .values()
            .filter(|g| g.listener == listener.id)
            .map(|g| (g.virtual_group, &g.body))
            .collect();
        same.extend_from_slice(also);
        if body.endpoints.len() > self.endpoint_quota {
            return Err(ApiError::new(
                "QuotaExceeded.EndPoint",
                format!("An endpoint group holds at most {} endpoints.", self.endpoint_quota),
            ));
        }
        if virtual_group {
            if same.iter().filter(|(v, _)| *v).count() >= self.virtual_group_quota {
                return Err(ApiError::new(
                    "QuotaExceeded.EndpointGroup",
                    format!(
                        "A listener has at most {} virtual endpoint groups.",
                        self.virtual_group_quota
                    ),
                ));
            }
            if !listener.config.protocol.layer7() && !same.iter().any(|(v, _)| !*v) {
                return Err(invalid(
                    "A virtual endpoint group of a TCP or UDP listener needs its default endpoint group first.",
                ));
            }
        } else {
            if same.iter().filter(|(v, _)| !*v).count() >= self.default_group_quota {
                return Err(ApiError::new(
                    "QuotaExceeded.EndpointGroup",
                    format!(
                        "A listener has at most {} default endpoint groups.",
                        self.default_group_quota
                    ),
                ));
            }
            if same.iter().any(|(v, b)| !*v && b.region == body.region) {
                return Err(ApiError::new(
                    "Exist.EndpointGroup",
                    format!("The listener has a default endpoint group in {} already.", body.region),
                ));
            }
        }
        Ok(())
    }

    fn insert_group(
        state: &mut State,
        listener: &Listener,
        virtual_group: bool,
        body: GroupBody,
        pending: Pending<GroupBody>,
    ) -> String {
        let id = state.fresh("epg-");
        let seq = state.next;
        state.routes.groups.insert(
            id.clone(),
            Group {
                id: id.clone(),
                accelerator: listener.accelerator.clone(),
                listener: listener.id.clone(),
                virtual_group,
                seq,
                body,
                pending: Some(pending),
            },
        );
        id
    }

    /// `CreateEndpointGroup`: one group.
    pub(super) fn create_group(&self, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
        let p = &call.params;
        let accelerator = required(p, "AcceleratorId")?.to_string();
        let listener_id = required(p, "ListenerId")?.to_string();
        let virtual_group = group_kind(p)?;
        let fail = ctx.fail_task();
        let until = call.now + ctx.timing().create;
        self.routed(call, |state| {
            let listener = state.writable_listener(&listener_id, Some(&accelerator))?;
            let body = group_body(p, &SINGLE, &listener, None)?;
            self.check_new_group(state, &listener, virtual_group, &body, &[])?;
            let pending = Pending {
                work: Work::Create,
                until,
                fail,
            };
            let id = Self::insert_group(state, &listener, virtual_group, body, pending);
            Ok(json!({ "EndpointGroupId": id }))
        })
    }

    /// `CreateEndpointGroups`: several groups of one listener in one call
    /// (one only on an HTTP/HTTPS listener).
    pub(super) fn create_groups(&self, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
        let p = &call.params;
        let accelerator = required(p, "AcceleratorId")?.to_string();
        let listener_id = required(p, "ListenerId")?.to_string();
        let items = list(p, "EndpointGroupConfigurations")?;
        if items.is_empty() {
            return Err(ApiError::missing_parameter(
                "EndpointGroupConfigurations.1.EndpointGroupRegion",
            ));
        }
        let dry = dry_run(p)?;
        let fail = ctx.fail_task();
        let until = call.now + ctx.timing().create;
        self.routed(call, |state| {
            let listener = state.writable_listener(&listener_id, Some(&accelerator))?;
            if listener.config.protocol.layer7() && items.len() > 1 {
                return Err(invalid(
                    "CreateEndpointGroups makes one endpoint group per call on an HTTP or HTTPS listener.",
                ));
            }
            let mut bodies: Vec<(bool, GroupBody)> = Vec::new();
            for item in items {
                let virtual_group = group_kind(item)?;
                let body = group_body(item, &BATCH, &listener, None)?;
                let also: Vec<(bool, &GroupBody)> = bodies.iter().map(|(v, b)| (*v, b)).collect();
                self.check_new_group(state, &listener, virtual_group, &body, &also)?;
                bodies.push((virtual_group, body));
            }
            if dry {
                return Err(dry_run_passed());
            }
            let ids: Vec<String> = bodies
                .into_iter()
                .map(|(v, body)| {
                    let pending = Pending {
                        work: Work::Create,
                        until,
                        fail,
                    };
                    Self::insert_group(state, &listener, v, body, pending)
                })
                .collect();
            Ok(json!({ "EndpointGroupIds": ids }))
        })
    }

    /// `UpdateEndpointGroup`: the fields given replace the group's; an
    /// `EndpointConfigurations` list is the whole new set.
    pub(super) fn update_group(&self, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
        let p = &call.params;
        let id = required(p, "EndpointGroupId")?.to_string();
        let fail = ctx.fail_task();
        let until = call.now + ctx.timing().update;
        self.routed(call, |state| {
            let g = state
                .routes
                .groups
                .get(&id)
                .cloned()
                .ok_or_else(|| not_exist_group(&id))?;
            if g.pending.is_some() {
                return Err(ApiError::new(
                    "StateError.EndPointGroup",
                    format!("The state of endpoint group {id} is {}.", g.state()),
                ));
            }
            let listener = state.writable_listener(&g.listener, None)?;
            let body = group_body(p, &SINGLE, &listener, Some(&g.body))?;
            if body.endpoints.len() > self.endpoint_quota {
                return Err(ApiError::new(
                    "QuotaExceeded.EndPoint",
                    format!("An endpoint group holds at most {} endpoints.", self.endpoint_quota),
                ));
            }
            if let Some(x) = state.routes.groups.get_mut(&id) {
                // The change shows at once; a failed task puts it back.
                let previous = x.body.clone();
                x.body = body.clone();
                x.pending = Some(Pending {
                    work: Work::Update(Box::new(if fail { previous } else { body })),
                    until,
                    fail: false,
                });
            }
            Ok(json!({}))
        })
    }

    /// `DeleteEndpointGroup` (no `RegionId` in the SDK model).
    pub(super) fn delete_group(&self, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
        let p = &call.params;
        let id = required(p, "EndpointGroupId")?.to_string();
        let accelerator = text(p, "AcceleratorId").map(str::to_string);
        let fail = ctx.fail_task();
        let until = call.now + ctx.timing().delete;
        let mut state = self.lock();
        state.settle(call.now);
        state.settle_acls(call.now);
        if let Some(answer) = state.tokens.replay(call)? {
            return Ok(answer);
        }
        let g = state
            .routes
            .groups
            .get(&id)
            .filter(|g| accelerator.as_deref().is_none_or(|a| a == g.accelerator))
            .cloned()
            .ok_or_else(|| not_exist_group(&id))?;
        if g.pending.is_some() {
            return Err(ApiError::new(
                "StateError.EndPointGroup",
                format!("The state of endpoint group {id} is {}.", g.state()),
            ));
        }
        state.idle(&g.accelerator)?;
        if state.routes.rules.values().any(|r| r.body.group == id) {
            return Err(ApiError::new(
                "Exist.ForwardingRule",
                format!("Forwarding rules still forward to endpoint group {id}."),
            ));
        }
        if let Some(x) = state.routes.groups.get_mut(&id) {
            x.pending = Some(Pending {
                work: Work::Delete,
                until,
                fail,
            });
        }
        let answer = json!({});
        state.tokens.remember(call, &answer);
        Ok(answer)
    }

    /// `DescribeEndpointGroup`.
    pub(super) fn describe_group(&self, call: &Call) -> Result<Value, ApiError> {
        check_region(&call.params)?;
        let id = required(&call.params, "EndpointGroupId")?;
        let mut state = self.lock();
        state.settle(call.now);
        let g = state.routes.groups.get(id).ok_or_else(|| not_exist_group(id))?;
        Ok(g.answer(&state.routes.rules))
    }

    /// `ListEndpointGroups` of an accelerator, filtered by listener, type
    /// and ID, by page (≤ 50).
    pub(super) fn list_groups(&self, call: &Call) -> Result<Value, ApiError> {
        let p = &call.params;
        check_region(p)?;
        let accelerator = required(p, "AcceleratorId")?;
        let page = integer(p, "PageNumber")?.unwrap_or(1).max(1);
        let size = integer(p, "PageSize")?.unwrap_or(10);
        if size == 0 || size > 50 {
            return Err(invalid(format!("The specified PageSize {size} is invalid; 1 to 50.")));
        }
        let kind = match text(p, "EndpointGroupType") {
            None | Some("") => None,
            Some("default") => Some(false),
            Some("virtual") => Some(true),
            Some(t) => return Err(invalid(format!("The specified EndpointGroupType `{t}` is invalid."))),
        };
        let listener = text(p, "ListenerId");
        let only = text(p, "EndpointGroupId");
        let mut state = self.lock();
        state.settle(call.now);
        if !state.accelerators.contains_key(accelerator) {
            return Err(ApiError::new(
                "NotExist.Accelerator",
                "The accelerated instance does not exist.",
            ));
        }
        let mut groups: Vec<&Group> = state
            .routes
            .groups
            .values()
            .filter(|g| g.accelerator == accelerator)
            .filter(|g| listener.is_none_or(|l| g.listener == l))
            .filter(|g| kind.is_none_or(|k| g.virtual_group == k))
            .filter(|g| only.is_none_or(|i| g.id == i))
            .collect();
        groups.sort_by_key(|g| g.seq);
        let total = groups.len();
        let skip = (page as usize - 1).saturating_mul(size as usize);
        let items: Vec<Value> = groups
            .into_iter()
            .skip(skip)
            .take(size as usize)
            .map(|g| g.answer(&state.routes.rules))
            .collect();
        Ok(json!({ "EndpointGroups": items, "TotalCount": total, "PageNumber": page, "PageSize": size }))
    }

    /// `CreateForwardingRules`: rules of one HTTP/HTTPS listener, one job.
    pub(super) fn create_rules(&self, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
        let p = &call.params;
        let accelerator = required(p, "AcceleratorId")?.to_string();
        let listener_id = required(p, "ListenerId")?.to_string();
        let items = list(p, "ForwardingRules")?;
        if items.is_empty() {
            return Err(ApiError::missing_parameter("ForwardingRules.1.Priority"));
        }
        let mut bodies = Vec::new();
        for item in items {
            let priority =
                priority_of(item)?.ok_or_else(|| ApiError::missing_parameter("ForwardingRules.N.Priority"))?;
            let (hosts, paths) = conditions_of(item)?;
            let group = group_of(item)?;
            let name = rule_name_of(item)?.unwrap_or_default();
            bodies.push(RuleBody {
                name,
                priority,
                hosts,
                paths,
                group,
            });
        }
        let fail = ctx.fail_task();
        let until = call.now + ctx.timing().create;
        self.routed(call, |state| {
            let listener = state.writable_listener(&listener_id, Some(&accelerator))?;
            if !listener.config.protocol.layer7() {
                return Err(invalid("Forwarding rules apply to HTTP and HTTPS listeners only."));
            }
            for b in &bodies {
                state.check_rule_group(&listener_id, &b.group)?;
            }
            let have = state
                .routes
                .rules
                .values()
                .filter(|r| r.listener == listener_id)
                .count();
            if have + bodies.len() > self.rule_quota {
                return Err(ApiError::new(
                    "QuotaExceeded.ForwardingRule",
                    format!("A listener has at most {} forwarding rules.", self.rule_quota),
                ));
            }
            let mut made = Vec::new();
            for body in bodies {
                let id = state.fresh("frule-");
                let seq = state.next;
                state.routes.rules.insert(
                    id.clone(),
                    Rule {
                        id: id.clone(),
                        accelerator: accelerator.clone(),
                        listener: listener_id.clone(),
                        seq,
                        body,
                        pending: Some(Pending {
                            work: Work::Create,
                            until,
                            fail,
                        }),
                    },
                );
                made.push(json!({ "ForwardingRuleId": id }));
            }
            Ok(json!({ "ForwardingRules": made }))
        })
    }

    /// `UpdateForwardingRules`: each rule's given fields replace its own
    /// (conditions and actions as a whole), one job for all.
    pub(super) fn update_rules(&self, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
        let p = &call.params;
        let accelerator = required(p, "AcceleratorId")?.to_string();
        let listener_id = required(p, "ListenerId")?.to_string();
        let items = list(p, "ForwardingRules")?;
        if items.is_empty() {
            return Err(ApiError::missing_parameter("ForwardingRules.1.ForwardingRuleId"));
        }
        let fail = ctx.fail_task();
        let until = call.now + ctx.timing().update;
        self.routed(call, |state| {
            state.writable_listener(&listener_id, Some(&accelerator))?;
            let mut updates: Vec<(String, RuleBody)> = Vec::new();
            for item in items {
                let id = required(item, "ForwardingRuleId")
                    .map_err(|_| ApiError::missing_parameter("ForwardingRules.N.ForwardingRuleId"))?;
                let r = state
                    .routes
                    .rules
                    .get(id)
                    .filter(|r| r.listener == listener_id)
                    .ok_or_else(|| not_exist_rule(id))?;
                if r.pending.is_some() {
                    return Err(ApiError::new(
                        "StateError.ForwardingRule",
                        format!("The state of forwarding rule {id} is {}.", r.state()),
                    ));
                }
                if updates.iter().any(|(u, _)| u == id) {
                    return Err(invalid(format!("The forwarding rule {id} is given twice.")));
                }
                let mut body = r.body.clone();
                if let Some(n) = priority_of(item)? {
                    body.priority = n;
                }
                if let Some(n) = rule_name_of(item)? {
                    body.name = n;
                }
                if item.get("RuleConditions").is_some() {
                    (body.hosts, body.paths) = conditions_of(item)?;
                }
                if item.get("RuleActions").is_some() {
                    body.group = group_of(item)?;
                    state.check_rule_group(&listener_id, &body.group)?;
                }
                updates.push((id.to_string(), body));
            }
            let mut answer = Vec::new();
            for (id, body) in updates {
                if let Some(r) = state.routes.rules.get_mut(&id) {
                    let previous = r.body.clone();
                    r.body = body.clone();
                    r.pending = Some(Pending {
                        work: Work::Update(Box::new(if fail { previous } else { body })),
                        until,
                        fail: false,
                    });
                }
                answer.push(json!({ "ForwardingRuleId": id }));
            }
            Ok(json!({ "ForwardingRules": answer }))
        })
    }

    /// `DeleteForwardingRules` of one listener.
    pub(super) fn delete_rules(&self, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
        let p = &call.params;
        let accelerator = required(p, "AcceleratorId")?.to_string();
        let listener_id = required(p, "ListenerId")?.to_string();
        let ids = strings(p, "ForwardingRuleIds")?;
        if ids.is_empty() {
            return Err(ApiError::missing_parameter("ForwardingRuleIds.1"));
        }
        let fail = ctx.fail_task();
        let until = call.now + ctx.timing().delete;
        self.routed(call, |state| {
            state.writable_listener(&listener_id, Some(&accelerator))?;
            for id in &ids {
                let r = state
                    .routes
                    .rules
                    .get(id)
                    .filter(|r| r.listener == listener_id)
                    .ok_or_else(|| not_exist_rule(id))?;
                if r.pending.is_some() {
                    return Err(ApiError::new(
                        "StateError.ForwardingRule",
                        format!("The state of forwarding rule {id} is {}.", r.state()),
                    ));
                }
            }
            for id in &ids {
                if let Some(r) = state.routes.rules.get_mut(id) {
                    r.pending = Some(Pending {
                        work: Work::Delete,
                        until,
                        fail,
                    });
                }
            }
            let answer: Vec<Value> = ids.iter().map(|id| json!({ "ForwardingRuleId": id })).collect();
            Ok(json!({ "ForwardingRules": answer }))
        })
    }

    /// `ListForwardingRules` of one listener, by priority, paged by token.
    pub(super) fn list_rules(&self, call: &Call) -> Result<Value, ApiError> {
        let p = &call.params;
        check_region(p)?;
        required(p, "AcceleratorId")?;
        let listener = required(p, "ListenerId")?;
        let only = text(p, "ForwardingRuleId");
        let max = in_range(p, "MaxResults", 1, 100)?.unwrap_or(20) as usize;
        let start: usize = match text(p, "NextToken") {
            None | Some("") => 0,
            Some(t) => t
                .parse()
                .map_err(|_| invalid(format!("The NextToken `{t}` is invalid.")))?,
        };
        let mut state = self.lock();
        state.settle(call.now);
        if !state.listeners.contains_key(listener) {
            return Err(super::not_exist_listener());
        }
        let mut rules: Vec<&Rule> = state
            .routes
            .rules
            .values()
            .filter(|r| r.listener == listener)
            .filter(|r| only.is_none_or(|i| r.id == i))
            .collect();
        rules.sort_by_key(|r| (r.body.priority, r.seq));
        let total = rules.len();
        let items: Vec<Value> = rules.iter().skip(start).take(max).map(|r| r.answer()).collect();
        let mut v = json!({ "ForwardingRules": items, "TotalCount": total, "MaxResults": max });
        if start + max < total {
            v["NextToken"] = json!((start + max).to_string());
        }
        Ok(v)
    }

    /// The listener of a certificate call: HTTPS, on the accelerator.
    fn certificate_listener(state: &State, p: &Value) -> Result<Listener, ApiError> {
        let accelerator = required(p, "AcceleratorId")?;
        let id = required(p, "ListenerId")?;
        let l = state.writable_listener(id, Some(accelerator))?;
        if l.config.protocol != Proto::Https {
            return Err(invalid("Additional certificates apply to HTTPS listeners only."));
        }
        Ok(l)
    }

    fn put_certificates(
        state: &mut State,
        listener: &str,
        domains: BTreeMap<String, String>,
        until: Instant,
        fail: bool,
    ) {
        if let Some(l) = state.listeners.get_mut(listener) {
            let previous = fail.then(|| Box::new(l.config.clone()));
            l.config.additional = domains;
            l.phase = Phase::Updating { until, previous };
        }
    }

    /// `AssociateAdditionalCertificatesWithListener`: `Certificates.N`
    /// (`Domain` + `Id`), one certificate per domain.
    pub(super) fn associate_certificates(&self, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
        let p = &call.params;
        let items = list(p, "Certificates")?;
        if items.is_empty() {
            return Err(ApiError::missing_parameter("Certificates.1.Id"));
        }
        if items.len() > CERTIFICATES_PER_CALL {
            return Err(invalid(format!(
                "At most {CERTIFICATES_PER_CALL} certificates per call."
            )));
        }
        let mut pairs = Vec::new();
        for c in items {
            let domain = required(c, "Domain").map_err(|_| ApiError::missing_parameter("Certificates.N.Domain"))?;
            let id = required(c, "Id").map_err(|_| ApiError::missing_parameter("Certificates.N.Id"))?;
            if !host_value_ok(domain) {
                return Err(invalid(format!("The domain `{domain}` is invalid.")));
            }
            pairs.push((domain.to_ascii_lowercase(), id.to_string()));
        }
        let fail = ctx.fail_task();
        let until = call.now + ctx.timing().update;
        self.routed(call, |state| {
            let l = Self::certificate_listener(state, p)?;
            let mut domains = l.config.additional.clone();
            for (d, id) in &pairs {
                if domains.contains_key(d) || pairs.iter().filter(|(x, _)| x == d).count() > 1 {
                    return Err(ApiError::new(
                        "Exist.Domain",
                        format!("The domain {d} has an additional certificate already."),
                    ));
                }
                domains.insert(d.clone(), id.clone());
            }
            if domains.len() > self.certificate_quota {
                return Err(ApiError::new(
                    "QuotaExceeded.Certificate",
                    format!(
                        "A listener has at most {} additional certificates.",
                        self.certificate_quota
                    ),
                ));
            }
            Self::put_certificates(state, &l.id, domains, until, fail);
            Ok(json!({ "ListenerId": l.id }))
        })
    }

    /// `UpdateAdditionalCertificateWithListener`: another certificate for
    /// one domain, in place.
    pub(super) fn update_certificate(&self, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
        let p = &call.params;
        let domain = required(p, "Domain")?.to_ascii_lowercase();
        let id = required(p, "CertificateId")?.to_string();
        let dry = dry_run(p)?;
        let fail = ctx.fail_task();
        let until = call.now + ctx.timing().update;
        self.routed(call, |state| {
            let l = Self::certificate_listener(state, p)?;
            let mut domains = l.config.additional.clone();
            let Some(slot) = domains.get_mut(&domain) else {
                return Err(ApiError::new(
                    "NotExist.Domain",
                    format!("The domain {domain} has no additional certificate."),
                ));
            };
            if dry {
                return Err(dry_run_passed());
            }
            *slot = id;
            Self::put_certificates(state, &l.id, domains, until, fail);
            Ok(json!({ "ListenerId": l.id }))
        })
    }

    /// `DissociateAdditionalCertificatesFromListener` (the Python SDK's
    /// name; the Java SDK also has `…WithListener`): `Domains.N`.
    pub(super) fn dissociate_certificates(&self, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
        let p = &call.params;
        let gone: Vec<String> = strings(p, "Domains")?.iter().map(|d| d.to_ascii_lowercase()).collect();
        if gone.is_empty() {
            return Err(ApiError::missing_parameter("Domains.1"));
        }
        if gone.len() > CERTIFICATES_PER_CALL {
            return Err(invalid(format!("At most {CERTIFICATES_PER_CALL} domains per call.")));
        }
        let fail = ctx.fail_task();
        let until = call.now + ctx.timing().update;
        self.routed(call, |state| {
            let l = Self::certificate_listener(state, p)?;
            let mut domains = l.config.additional.clone();
            for d in &gone {
                if domains.remove(d).is_none() {
                    return Err(ApiError::new(
                        "NotExist.Domain",
                        format!("The domain {d} has no additional certificate."),
                    ));
                }
            }
            Self::put_certificates(state, &l.id, domains, until, fail);
            // The SDK model answers the request ID only.
            Ok(json!({}))
        })
    }

    /// `ListListenerCertificates`: the default certificate and the
    /// additional ones (`Role` default/additional), paged by token.
    pub(super) fn list_certificates(&self, call: &Call) -> Result<Value, ApiError> {
        let p = &call.params;
        check_region(p)?;
        required(p, "AcceleratorId")?;
        let id = required(p, "ListenerId")?;
        let role = text(p, "Role");
        if let Some(r) = role {
            if r != "default" && r != "additional" {
                return Err(invalid(format!("The specified Role `{r}` is invalid.")));
            }
        }
        let max = in_range(p, "MaxResults", 1, 50)?.unwrap_or(20) as usize;
        let start: usize = match text(p, "NextToken") {
            None | Some("") => 0,
            Some(t) => t
                .parse()
                .map_err(|_| invalid(format!("The NextToken `{t}` is invalid.")))?,
        };
        let mut state = self.lock();
        state.settle(call.now);
        let l = state.listeners.get(id).ok_or_else(super::not_exist_listener)?;
        let cert_state = if matches!(l.phase, Phase::Updating { .. }) {
            "updating"
        } else {
            "active"
        };
        let mut all = Vec::new();
        if role != Some("additional") {
            if let Some(c) = &l.config.certificate {
                all.push(json!({ "CertificateId": c, "IsDefault": true, "State": "active" }));
            }
        }
        if role != Some("default") {
            for (d, c) in &l.config.additional {
                all.push(json!({ "CertificateId": c, "IsDefault": false, "Domain": d, "State": cert_state }));
            }
        }
        let total = all.len();
        let items: Vec<Value> = all.into_iter().skip(start).take(max).collect();
        let mut v = json!({ "Certificates": items, "TotalCount": total, "MaxResults": max });
        if start + max < total {
            v["NextToken"] = json!((start + max).to_string());
        }
        Ok(v)
    }

    /// The admin resolve call: the listener of `q.instance` on `q.port`,
    /// its rule for `q.host` and `q.path` by [`forwarding_rule`], the
    /// endpoint group and endpoints behind it (each port as the group's
    /// `PortOverrides` map the listener port), and for HTTPS the
    /// certificate served for the host ([`certificate_for`]).
    pub(super) fn resolve_request(&self, q: &ResolveQuery, now: Instant) -> Result<Value, ApiError> {
        let mut state = self.lock();
        state.settle(now);
        let host = strip_port(&q.host);
        let listener = state
            .listeners
            .values()
            .filter(|l| l.accelerator == q.instance && !matches!(l.phase, Phase::Creating { .. }))
            .filter(|l| l.config.ranges.iter().any(|(f, t)| *f <= q.port && q.port <= *t))
            .min_by_key(|l| (l.config.protocol == Proto::Udp, l.seq))
            .ok_or_else(|| {
                ApiError::new(
                    "NotExist.Listener",
                    format!("Accelerator {} has no listener on port {}.", q.instance, q.port),
                )
                .status(404)
            })?;
        let mut rules: Vec<&Rule> = if listener.config.protocol.layer7() {
            state
                .routes
                .rules
                .values()
                .filter(|r| r.listener == listener.id && r.active())
                .collect()
        } else {
            Vec::new()
        };
        rules.sort_by_key(|r| r.seq);
        let table: Vec<(u32, &[String], &[String])> = rules
            .iter()
            .map(|r| (r.body.priority, r.body.hosts.as_slice(), r.body.paths.as_slice()))
            .collect();
        // Path conditions see the path, not the query string.
        let path = q.path.split(['?', '#']).next().unwrap_or("/");
        let hit = forwarding_rule(&table, host, if path.is_empty() { "/" } else { path }).map(|i| rules[i]);
        let groups: Vec<&Group> = match hit {
            Some(r) => state.routes.groups.get(&r.body.group).into_iter().collect(),
            None => {
                let mut d: Vec<&Group> = state
                    .routes
                    .groups
                    .values()
                    .filter(|g| g.listener == listener.id && !g.virtual_group && g.serving())
                    .collect();
                d.sort_by_key(|g| g.seq);
                d
            }
        };
        let mut endpoints = Vec::new();
        for g in &groups {
            let port = g
                .body
                .overrides
                .iter()
                .find(|(l, _)| *l == q.port)
                .map_or(q.port, |(_, e)| *e);
            for e in &g.body.endpoints {
                endpoints.push(json!({ "address": e.address, "port": port, "weight": e.weight }));
            }
        }
        let certificate = (listener.config.protocol == Proto::Https).then(|| {
            certificate_for(&listener.config.additional, host)
                .map(str::to_string)
                .or_else(|| listener.config.certificate.clone())
        });
        Ok(json!({
            "listener": listener.id,
            "rule": hit.map(|r| r.id.clone()),
            "endpoint_groups": groups.iter().map(|g| g.id.clone()).collect::<Vec<_>>(),
            "endpoints": endpoints,
            "certificate": certificate.flatten(),
            "status": 200,
        }))
    }
}

/// A Host header without its `:port` (IPv6 literals in brackets kept).
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split_once(']').map_or(host, |(h, _)| &host[..h.len() + 1]);
    }
    match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

#[cfg(test)]
#[path = "ga_routes_tests.rs"]
mod tests;
