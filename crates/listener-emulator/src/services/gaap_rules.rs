//! GAAP layer-7 domains and forwarding rules, origin servers and their
//! bindings: `CreateDomain`, `ModifyDomain`, `DeleteDomain`,
//! `ModifyCertificate`, `CreateRule`, `ModifyRuleAttribute`, `DeleteRule`,
//! `DescribeRules`, `DescribeRulesByRuleIds`, `AddRealServers`,
//! `DescribeRealServers`, `RemoveRealServers`, `BindRuleRealServers`,
//! `DescribeRuleRealServers`, `BindListenerRealServers`,
//! `DescribeListenerRealServers`, and GAAP's matcher behind the admin
//! resolve call.
//!
//! The model (facts from `shared/vendors/routing.md`, GAAP column, and the
//! SDK models `tencentcloud/gaap/v20180529/models.py`):
//!
//! - A **domain** has no ID: it is keyed by its name on an HTTP/HTTPS
//!   listener (`CreateDomain`, at most 100 per listener,
//!   `LimitExceeded.Domain`; twice `FailedOperation.DomainAlreadyExisted`).
//!   It carries the HTTPS server certificate for that host
//!   (`CertificateId`; `default` = the listener's), client CAs for mutual
//!   TLS (`ClientCertificateId` xor `PolyClientCertificateIds`, listener
//!   with `AuthType` 1 only) and `IsDefaultServer` (at most one per
//!   listener: setting it moves it).
//! - A **rule** (`RuleId`, `rule-…`) is one domain and one `Path`, with its
//!   `RealServerType` (`IP` or `DOMAIN`, fixed), scheduler and health
//!   check; at most 20 per domain (`FailedOperation.LimitNumofRules`); the
//!   same domain and path twice is `FailedOperation.RuleAlreadyExisted`.
//! - **Origin servers** (`rs-…`) are an account list per project
//!   (`AddRealServers`; one server per address and project,
//!   `InvalidParameterValue.DuplicateRS`). They are bound to a rule
//!   (`BindRuleRealServers`) or to a TCP/UDP listener
//!   (`BindListenerRealServers`) with a port and a weight (1–100, default
//!   1); a bind **replaces the whole set** and an absent set unbinds all.
//!   At most 100 per rule or listener (`FailedOperation.LimitRealServerNum`).
//!   A server still bound cannot be removed
//!   (`FailedOperation.RealServerAlreadyBound`), nor can a rule or domain
//!   with bound servers be deleted without `Force` 1.
//! - Every domain and rule write is asynchronous: `DomainStatus` 1
//!   (changing) or 2 (deleting), `RuleStatus` 1 creating, 2 destroying,
//!   3 binding origins, 4 updating, then 0 (`DescribeRules`); a listener
//!   bind shows `ListenerStatus` 3. A write meets the same "one write at a
//!   time per connection" rule as the listener actions
//!   (`FailedOperation.ListenerHasTask`), and a write on a domain that is
//!   not running is `FailedOperation.DomainStatusNotInRunning`. A task
//!   the fault injection fails puts the previous state back.
//!
//! **Matching** (the vendor documents none of it, routing.md §2 "[silent]";
//! the emulator's choice, which the adapter's translation is checked
//! against): the request host, lowercased and without its port, selects
//! the domain of exactly that name; a host no domain has goes to the
//! listener's `IsDefaultServer` domain (404 when there is none). Within
//! the domain the rule with the **longest path that is a byte-wise prefix**
//! of the request path wins; none is 404 (no fall-through to another
//! domain). A rule without origins answers 502. Domains and rules still
//! being created do not serve yet.
//!
//! Where the documents leave the code open, the choices are: an unknown
//! listener, domain, rule or origin server is `ResourceNotFound`; a domain
//! action on a TCP/UDP listener (or a listener bind on an HTTP/HTTPS one)
//! is `InvalidParameterValue`; an origin whose kind differs from the rule's
//! `RealServerType` is `InvalidParameterValue`; an address given with an ID
//! that is not that server's is `InvalidParameterValue.RealServerNotBelong`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{busy, check_port, conflict, invalid_value, listener_not_found, Kind, Params, State, TaskKind};
use crate::service::{ApiError, Call, Context, ResolveQuery};

/// Domains per layer-7 listener (`CreateDomainRequest.Domain`).
pub(super) const MAX_DOMAINS: usize = 100;
/// Rules per domain (D-gaap-l7).
pub(super) const MAX_RULES_PER_DOMAIN: usize = 20;
/// Origin servers per rule or listener (D-gaap-l7; `tencent.md` §3).
pub(super) const MAX_BINDINGS: usize = 100;
/// Rule IDs per `DescribeRulesByRuleIds` (`RuleIds`: "at most 10").
const MAX_RULE_IDS: usize = 10;
/// Largest `Limit` of `DescribeRealServers`.
const MAX_RS_LIMIT: u64 = 50;
/// Largest `Limit` of `DescribeRuleRealServers`.
const MAX_RULE_RS_LIMIT: u64 = 1000;
/// Domain and path lengths (D-gaap-l7).
const DOMAIN_LEN: (usize, usize) = (3, 80);
const PATH_LEN: (usize, usize) = (1, 80);

/// One origin bound to a rule or listener.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Binding {
    pub(super) id: String,
    pub(super) address: String,
    pub(super) port: u64,
    pub(super) weight: u64,
    pub(super) role: Option<String>,
}

impl Binding {
    /// A `BindRealServer` entry.
    pub(super) fn describe(&self) -> Value {
        json!({
            "RealServerId": self.id,
            "RealServerIP": self.address,
            "RealServerPort": self.port,
            "RealServerWeight": self.weight,
            "RealServerStatus": 0,
            "DownIPList": [],
            "RealServerFailoverRole": self.role,
        })
    }

    fn endpoint(&self) -> Value {
        json!({ "address": self.address, "port": self.port, "weight": self.weight })
    }
}

/// Asynchronous work on a domain or rule, with what to put back if it fails.
#[derive(Debug, Clone)]
struct Pending<T> {
    kind: TaskKind,
    until: Instant,
    fails: bool,
    backup: Option<Box<T>>,
}

#[derive(Debug, Clone)]
struct Domain {
    listener: String,
    name: String,
    certificate: String,
    /// Client CAs; empty = the listener's (`default`).
    client_cas: Vec<String>,
    http3: u8,
    is_default: bool,
    seq: u64,
    task: Option<Pending<Domain>>,
}

impl Domain {
    fn status(&self) -> u8 {
        match self.task.as_ref().map(|t| t.kind) {
            None => 0,
            Some(TaskKind::Delete) => 2,
            Some(_) => 1,
        }
    }

    fn serving(&self) -> bool {
        !matches!(self.task.as_ref().map(|t| t.kind), Some(TaskKind::Create))
    }
}

#[derive(Debug, Clone)]
struct Rule {
    id: String,
    listener: String,
    domain: String,
    path: String,
    real_server_type: String,
    scheduler: String,
    health_check: u8,
    check_params: Value,
    forward_protocol: String,
    forward_host: String,
    sni_switch: String,
    sni: Option<String>,
    forced_redirect: Option<String>,
    bindings: Vec<Binding>,
    seq: u64,
    task: Option<Pending<Rule>>,
}

impl Rule {
    fn status(&self) -> u8 {
        match self.task.as_ref().map(|t| t.kind) {
            None => 0,
            Some(TaskKind::Create) => 1,
            Some(TaskKind::Delete) => 2,
            Some(TaskKind::Bind) => 3,
            Some(TaskKind::Modify) => 4,
        }
    }

    fn serving(&self) -> bool {
        !matches!(self.task.as_ref().map(|t| t.kind), Some(TaskKind::Create))
    }

    fn info(&self) -> Value {
        json!({
            "RuleId": self.id,
            "ListenerId": self.listener,
            "Domain": self.domain,
            "Path": self.path,
            "RealServerType": self.real_server_type,
            "Scheduler": self.scheduler,
            "HealthCheck": self.health_check,
            "RuleStatus": self.status(),
            "CheckParams": self.check_params,
            "RealServerSet": self.bindings.iter().map(Binding::describe).collect::<Vec<_>>(),
            "BindStatus": 1,
            "ForwardHost": self.forward_host,
            "ServerNameIndicationSwitch": self.sni_switch,
            "ServerNameIndication": self.sni,
            "ForcedRedirect": self.forced_redirect,
            "ForwardProtocol": self.forward_protocol,
        })
    }
}

#[derive(Debug, Clone)]
struct RealServer {
    id: String,
    address: String,
    name: String,
    project: u64,
    tags: Vec<(String, String)>,
    seq: u64,
}

impl RealServer {
    /// A `BindRealServerInfo` (what `DescribeRealServers` lists).
    fn info(&self) -> Value {
        json!({
            "RealServerIP": self.address,
            "RealServerId": self.id,
            "RealServerName": self.name,
            "ProjectId": self.project,
            "TagSet": self.tags.iter().map(|(k, v)| json!({"TagKey": k, "TagValue": v})).collect::<Vec<_>>(),
        })
    }

    /// A `RealServer` (the bindable servers of a rule or listener).
    fn bindable(&self) -> Value {
        json!({
            "RealServerIP": self.address,
            "RealServerId": self.id,
            "RealServerName": self.name,
            "ProjectId": self.project,
            "InBanBlacklist": 0,
        })
    }

    fn is_domain(&self) -> bool {
        is_domain_address(&self.address)
    }
}

fn is_domain_address(a: &str) -> bool {
    a.parse::<std::net::IpAddr>().is_err()
}

/// Domains, rules and origin servers of every listener.
#[derive(Debug, Default)]
pub(super) struct Routing {
    domains: Vec<Domain>,
    rules: BTreeMap<String, Rule>,
    real_servers: BTreeMap<String, RealServer>,
    seq: u64,
}

impl Routing {
    /// Advance every domain and rule task whose time is up; drop what
    /// belonged to listeners that are gone (`alive` says which are not).
    pub(super) fn settle(&mut self, now: Instant, alive: impl Fn(&str) -> bool) {
        let mut renamed_back: Vec<(String, String, String)> = Vec::new();
        let mut gone_domains: Vec<(String, String)> = Vec::new();
        for d in &mut self.domains {
            let Some(t) = d.task.as_ref() else { continue };
            if t.until > now {
                continue;
            }
            match (t.kind, t.fails) {
                (TaskKind::Create, true) | (TaskKind::Delete, false) => {
                    gone_domains.push((d.listener.clone(), d.name.clone()));
                }
                (TaskKind::Modify, true) => {
                    if let Some(b) = t.backup.clone() {
                        if b.name != d.name {
                            renamed_back.push((d.listener.clone(), d.name.clone(), b.name.clone()));
                        }
                        *d = *b;
                    }
                    d.task = None;
                }
                _ => d.task = None,
            }
        }
        for (l, from, to) in renamed_back {
            for r in self.rules.values_mut().filter(|r| r.listener == l && r.domain == from) {
                r.domain = to.clone();
            }
        }
        self.domains
            .retain(|d| alive(&d.listener) && !gone_domains.contains(&(d.listener.clone(), d.name.clone())));
        let mut gone_rules = Vec::new();
        for r in self.rules.values_mut() {
            let Some(t) = r.task.as_ref() else { continue };
            if t.until > now {
                continue;
            }
            match (t.kind, t.fails) {
                (TaskKind::Create, true) | (TaskKind::Delete, false) => gone_rules.push(r.id.clone()),
                (TaskKind::Modify | TaskKind::Bind, true) => {
                    if let Some(b) = t.backup.clone() {
                        *r = *b;
                    }
                    r.task = None;
                }
                _ => r.task = None,
            }
        }
        for id in gone_rules {
            self.rules.remove(&id);
        }
        let domains = &self.domains;
        self.rules.retain(|_, r| {
            alive(&r.listener) && domains.iter().any(|d| d.listener == r.listener && d.name == r.domain)
        });
    }

    /// Whether a domain or rule of `listener` has unfinished work.
    pub(super) fn listener_busy(&self, listener: &str) -> bool {
        self.domains.iter().any(|d| d.listener == listener && d.task.is_some())
            || self.rules.values().any(|r| r.listener == listener && r.task.is_some())
    }

    /// Whether a rule of `listener` has origin servers bound.
    pub(super) fn listener_has_bindings(&self, listener: &str) -> bool {
        self.rules
            .values()
            .any(|r| r.listener == listener && !r.bindings.is_empty())
    }

    fn domain(&self, listener: &str, name: &str) -> Option<&Domain> {
        self.domains.iter().find(|d| d.listener == listener && d.name == name)
    }

    fn domain_mut(&mut self, listener: &str, name: &str) -> Option<&mut Domain> {
        self.domains
            .iter_mut()
            .find(|d| d.listener == listener && d.name == name)
    }

    fn next(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn new_id(&mut self, prefix: &str) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        loop {
            let n = self.next();
            let mut x = n.wrapping_mul(0xD6E8_FEB8_6659_FD93) ^ 0x2545_F491_4F6C_DD1D;
            let mut id = format!("{prefix}-");
            for _ in 0..8 {
                id.push(char::from(ALPHABET[(x % 36) as usize]));
                x /= 36;
            }
            if !self.rules.contains_key(&id) && !self.real_servers.contains_key(&id) {
                return id;
            }
        }
    }
}

fn not_found(what: &str, id: &str) -> ApiError {
    ApiError::new("ResourceNotFound", format!("The {what} `{id}` does not exist."))
}

fn domain_not_running(name: &str) -> ApiError {
    ApiError::new(
        "FailedOperation.DomainStatusNotInRunning",
        format!("The domain `{name}` is being changed; try again later."),
    )
}

fn already_bound(what: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        "FailedOperation.RealServerAlreadyBound",
        format!("{what} has origin servers bound."),
    )
}

fn pending<T>(ctx: &mut dyn Context, now: Instant, kind: TaskKind, delay: Duration, backup: Option<T>) -> Pending<T> {
    Pending {
        kind,
        until: now + delay,
        fails: ctx.fail_task(),
        backup: backup.map(Box::new),
    }
}

/// GAAP domain rule (D-gaap-l7, routing.md §2): exact names only, 3–80
/// characters of `a-z 0-9 . _ -` (the page's list leaves out the dot,
/// which every example has). A wildcard is refused: GAAP has none.
fn check_domain(name: &str, field: &str) -> Result<(), ApiError> {
    let len = name.chars().count();
    if !(DOMAIN_LEN.0..=DOMAIN_LEN.1).contains(&len) {
        return Err(invalid_value(
            field,
            format!("`{name}` must be {} to {} characters", DOMAIN_LEN.0, DOMAIN_LEN.1),
        ));
    }
    let ok = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if !ok {
        return Err(invalid_value(
            field,
            format!("`{name}` may hold a-z 0-9 . _ - only (exact names; no wildcards)"),
        ));
    }
    Ok(())
}

/// GAAP path rule (D-gaap-l7; Terraform requires the leading `/`): 1–80
/// characters of `a-zA-Z0-9 _ . - /`, starting with `/`.
fn check_path(path: &str) -> Result<(), ApiError> {
    let len = path.chars().count();
    if !(PATH_LEN.0..=PATH_LEN.1).contains(&len) {
        return Err(invalid_value(
            "Path",
            format!("`{path}` must be {} to {} characters", PATH_LEN.0, PATH_LEN.1),
        ));
    }
    let ok = path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/'));
    if !path.starts_with('/') || !ok {
        return Err(invalid_value(
            "Path",
            format!("`{path}` must start with / and hold a-z A-Z 0-9 _ . - / only"),
        ));
    }
    Ok(())
}

/// The listener a domain or rule action names: it must exist and be
/// HTTP/HTTPS. Returns its kind and instance.
fn l7_listener(st: &State, id: &str) -> Result<(Kind, String), ApiError> {
    let rec = st.listeners.get(id).ok_or_else(|| listener_not_found(id))?;
    if !matches!(rec.kind, Kind::Http | Kind::Https) {
        return Err(invalid_value(
            "ListenerId",
            format!(
                "`{id}` is a {} listener; domains and rules exist on HTTP and HTTPS listeners",
                rec.kind.word()
            ),
        ));
    }
    Ok((rec.kind, rec.instance.clone()))
}

/// `CertificateId` and the client CAs of a domain write, with the rules of
/// the listener's own: the two CA parameters are alternatives, CAs belong
/// to mutual authentication, certificates to HTTPS listeners. `default`
/// means the listener's. Returns the certificate (if sent) and the CAs (if
/// sent; empty = the listener's).
fn domain_certs(
    st: &State,
    listener: &str,
    kind: Kind,
    p: &Params<'_>,
) -> Result<(Option<String>, Option<Vec<String>>), ApiError> {
    let certificate = p.str("CertificateId")?;
    let single = p.str("ClientCertificateId")?;
    let poly = p.has("PolyClientCertificateIds");
    if single.is_some() && poly {
        return Err(conflict(
            "Set ClientCertificateId or PolyClientCertificateIds, not both.",
        ));
    }
    let cas: Option<Vec<String>> = match single {
        Some(s) => Some(vec![s]),
        None if poly => Some(p.str_list("PolyClientCertificateIds")?),
        None => None,
    };
    if kind == Kind::Http && (certificate.is_some() || cas.is_some()) {
        return Err(conflict("Certificates apply to domains of HTTPS listeners only."));
    }
    if certificate.as_deref().is_some_and(|c| c.trim().is_empty()) {
        return Err(ApiError::new(
            "InvalidParameterValue.InvalidCertificateId",
            "The certificate is not available.",
        ));
    }
    let cas = cas.map(|list| {
        if list.len() == 1 && list[0] == "default" {
            Vec::new()
        } else {
            list
        }
    });
    if let Some(list) = &cas {
        if list.iter().any(|c| c.trim().is_empty()) {
            return Err(invalid_value("PolyClientCertificateIds", "an ID is empty"));
        }
        let mutual = st
            .listeners
            .get(listener)
            .and_then(|r| r.config.https.as_ref())
            .is_some_and(|h| h.auth_type == 1);
        if !list.is_empty() && !mutual {
            return Err(conflict(
                "Client CA certificates apply to listeners with mutual authentication (AuthType 1) only.",
            ));
        }
    }
    Ok((certificate, cas))
}

fn set_default(st: &mut State, listener: &str, name: &str) {
    for d in st.routing.domains.iter_mut().filter(|d| d.listener == listener) {
        d.is_default = d.name == name;
    }
}

pub(super) fn create_domain(st: &mut State, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
    let p = Params::of(call)?;
    p.only(&[
        "ListenerId",
        "Domain",
        "CertificateId",
        "ClientCertificateId",
        "PolyClientCertificateIds",
        "Http3Supported",
        "IsDefaultServer",
    ])?;
    let listener = p.req_str("ListenerId")?;
    let name = p.req_str("Domain")?;
    check_domain(&name, "Domain")?;
    let (kind, instance) = l7_listener(st, &listener)?;
    let (certificate, cas) = domain_certs(st, &listener, kind, &p)?;
    let http3 = p.flag("Http3Supported")?.unwrap_or(0);
    if http3 == 1 && !st.listeners.get(&listener).is_some_and(|r| r.http3()) {
        return Err(conflict("Http3Supported needs a listener created with HTTP/3."));
    }
    let is_default = bool_param(&p, "IsDefaultServer")?.unwrap_or(false);
    if st.routing.domain(&listener, &name).is_some() {
        return Err(ApiError::new(
            "FailedOperation.DomainAlreadyExisted",
            format!("The domain `{name}` already exists on listener `{listener}`."),
        ));
    }
    let have = st.routing.domains.iter().filter(|d| d.listener == listener).count();
    if have >= MAX_DOMAINS {
        return Err(ApiError::new(
            "LimitExceeded.Domain",
            format!("A listener holds at most {MAX_DOMAINS} domains."),
        ));
    }
    st.ensure_idle(&instance)?;
    let delay = ctx.timing().create;
    let seq = st.routing.next();
    let default_cert = if kind == Kind::Https { "default" } else { "" };
    st.routing.domains.push(Domain {
        listener: listener.clone(),
        name: name.clone(),
        certificate: certificate.unwrap_or_else(|| default_cert.to_string()),
        client_cas: cas.unwrap_or_default(),
        http3,
        is_default: false,
        seq,
        task: Some(pending(ctx, call.now, TaskKind::Create, delay, None)),
    });
    if is_default {
        set_default(st, &listener, &name);
    }
    Ok(json!({}))
}

/// A boolean parameter; GAAP's `IsDefaultServer` is a JSON boolean, and a
/// 0/1 or "true"/"false" is read as such too.
fn bool_param(p: &Params<'_>, name: &str) -> Result<Option<bool>, ApiError> {
    match p.0.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s == "true" || s == "false" => Ok(Some(s == "true")),
        Some(v) => match v.as_u64() {
            Some(0) => Ok(Some(false)),
            Some(1) => Ok(Some(true)),
            _ => Err(invalid_value(name, "not a boolean")),
        },
    }
}

/// The running domain a write names, after the busy checks.
fn writable_domain<'s>(st: &'s State, listener: &str, name: &str) -> Result<&'s Domain, ApiError> {
    let d = st
        .routing
        .domain(listener, name)
        .ok_or_else(|| not_found("domain", name))?;
    if d.task.is_some() {
        return Err(domain_not_running(name));
    }
    Ok(d)
}

pub(super) fn modify_domain(st: &mut State, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
    let p = Params::of(call)?;
    p.only(&[
        "ListenerId",
        "OldDomain",
        "NewDomain",
        "CertificateId",
        "ClientCertificateId",
        "PolyClientCertificateIds",
        "IsDefaultServer",
    ])?;
    let listener = p.req_str("ListenerId")?;
    let old = p.req_str("OldDomain")?;
    let new = p.req_str("NewDomain")?;
    check_domain(&new, "NewDomain")?;
    let (kind, instance) = l7_listener(st, &listener)?;
    let (certificate, cas) = domain_certs(st, &listener, kind, &p)?;
    let is_default = bool_param(&p, "IsDefaultServer")?;
    let before = writable_domain(st, &listener, &old)?.clone();
    if new != old && st.routing.domain(&listener, &new).is_some() {
        return Err(ApiError::new(
            "FailedOperation.DomainAlreadyExisted",
            format!("The domain `{new}` already exists on listener `{listener}`."),
        ));
    }
    st.ensure_idle(&instance)?;
    let delay = ctx.timing().update;
    let t = pending(ctx, call.now, TaskKind::Modify, delay, Some(before));
    if let Some(d) = st.routing.domain_mut(&listener, &old) {
        d.name = new.clone();
        // Without CertificateId the certificate stays (GAAP-m
        // `ModifyDomainRequest.CertificateId`).
        if let Some(c) = certificate {
            d.certificate = c;
        }
        if let Some(c) = cas {
            d.client_cas = c;
        }
        d.task = Some(t);
    }
    for r in st
        .routing
        .rules
        .values_mut()
        .filter(|r| r.listener == listener && r.domain == old)
    {
        r.domain = new.clone();
    }
    match is_default {
        Some(true) => set_default(st, &listener, &new),
        Some(false) => {
            if let Some(d) = st.routing.domain_mut(&listener, &new) {
                d.is_default = false;
            }
        }
        None => {}
    }
    Ok(json!({}))
}

pub(super) fn modify_certificate(st: &mut State, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
    let p = Params::of(call)?;
    p.only(&[
        "ListenerId",
        "Domain",
        "CertificateId",
        "ClientCertificateId",
        "PolyClientCertificateIds",
    ])?;
    let listener = p.req_str("ListenerId")?;
    let name = p.req_str("Domain")?;
    p.req_str("CertificateId")?;
    let (kind, instance) = l7_listener(st, &listener)?;
    if kind != Kind::Https {
        return Err(conflict("Certificates apply to domains of HTTPS listeners only."));
    }
    let (certificate, cas) = domain_certs(st, &listener, kind, &p)?;
    let before = writable_domain(st, &listener, &name)?.clone();
    st.ensure_idle(&instance)?;
    let delay = ctx.timing().update;
    let t = pending(ctx, call.now, TaskKind::Modify, delay, Some(before));
    if let Some(d) = st.routing.domain_mut(&listener, &name) {
        if let Some(c) = certificate {
            d.certificate = c;
        }
        if let Some(c) = cas {
            d.client_cas = c;
        }
        d.task = Some(t);
    }
    Ok(json!({}))
}

pub(super) fn delete_domain(st: &mut State, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
    let p = Params::of(call)?;
    p.only(&["ListenerId", "Domain", "Force"])?;
    let listener = p.req_str("ListenerId")?;
    let name = p.req_str("Domain")?;
    let force = p.flag("Force")?.ok_or_else(|| ApiError::missing_parameter("Force"))?;
    let (_, instance) = l7_listener(st, &listener)?;
    writable_domain(st, &listener, &name)?;
    let bound = st
        .routing
        .rules
        .values()
        .any(|r| r.listener == listener && r.domain == name && !r.bindings.is_empty());
    if force == 0 && bound {
        return Err(already_bound(format!("A rule of domain `{name}`")));
    }
    st.ensure_idle(&instance)?;
    let delay = ctx.timing().delete;
    let t = pending(ctx, call.now, TaskKind::Delete, delay, None);
    let fails = t.fails;
    if let Some(d) = st.routing.domain_mut(&listener, &name) {
        d.task = Some(t);
    }
    for r in st
        .routing
        .rules
        .values_mut()
        .filter(|r| r.listener == listener && r.domain == name)
    {
        r.task = Some(Pending {
            kind: TaskKind::Delete,
            until: call.now + delay,
            fails,
            backup: None,
        });
    }
    Ok(json!({}))
}

fn check_scheduler(s: &str, real_server_type: &str) -> Result<(), ApiError> {
    super::check_scheduler(s)?;
    if real_server_type == "DOMAIN" && (s == "wrr" || s == "lrtt") {
        return Err(conflict("Rules with DOMAIN origins cannot use wrr or lrtt."));
    }
    Ok(())
}

fn check_forward_protocol(v: &str, allow_default: bool) -> Result<(), ApiError> {
    match v {
        "HTTP" | "HTTPS" => Ok(()),
        "default" if allow_default => Ok(()),
        other => Err(invalid_value(
            "ForwardProtocol",
            format!("`{other}` is not HTTP or HTTPS"),
        )),
    }
}

/// `RuleCheckParams`, with the ranges GAAP's console and Terraform use:
/// interval 5–300 s, timeout 2–60 s and below the interval, method GET or
/// HEAD, status classes from 100, 200, 300, 400, 500.
fn check_params(v: Option<&Value>, base: &Value) -> Result<Value, ApiError> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(base.clone());
    };
    let Some(obj) = v.as_object() else {
        return Err(invalid_value("CheckParams", "not an object"));
    };
    let mut out = base.as_object().cloned().unwrap_or_default();
    for (k, val) in obj {
        out.insert(k.clone(), val.clone());
    }
    let int = |k: &str| -> Result<Option<u64>, ApiError> {
        match out.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => Params::int_value(&format!("CheckParams.{k}"), v).map(Some),
        }
    };
    let delay = int("DelayLoop")?;
    let timeout = int("ConnectTimeout")?;
    if delay.is_some_and(|d| !(5..=300).contains(&d)) {
        return Err(invalid_value("CheckParams.DelayLoop", "must be 5 to 300"));
    }
    if timeout.is_some_and(|t| !(2..=60).contains(&t)) {
        return Err(invalid_value("CheckParams.ConnectTimeout", "must be 2 to 60"));
    }
    if let (Some(d), Some(t)) = (delay, timeout) {
        if t >= d {
            return Err(invalid_value(
                "CheckParams.ConnectTimeout",
                "must be less than DelayLoop",
            ));
        }
    }
    if let Some(m) = out.get("Method").and_then(Value::as_str) {
        if m != "GET" && m != "HEAD" {
            return Err(invalid_value("CheckParams.Method", format!("`{m}` is not GET or HEAD")));
        }
    }
    if let Some(codes) = out.get("StatusCode") {
        let ok = codes.as_array().is_some_and(|a| {
            a.iter()
                .all(|c| c.as_u64().is_some_and(|c| [100, 200, 300, 400, 500].contains(&c)))
        });
        if !ok {
            return Err(invalid_value(
                "CheckParams.StatusCode",
                "values are 100, 200, 300, 400, 500",
            ));
        }
    }
    Ok(Value::Object(out))
}

fn default_check_params() -> Value {
    json!({
        "DelayLoop": 5, "ConnectTimeout": 2, "Path": "/", "Method": "HEAD",
        "StatusCode": [100, 200, 300, 400, 500], "Domain": null,
        "FailedCountInter": 0, "FailedThreshold": 0, "BlockInter": 0,
    })
}

fn sni_params(p: &Params<'_>, switch: &mut String, sni: &mut Option<String>) -> Result<(), ApiError> {
    if let Some(s) = p.str("ServerNameIndicationSwitch")? {
        if s != "ON" && s != "OFF" {
            return Err(invalid_value(
                "ServerNameIndicationSwitch",
                format!("`{s}` is not ON or OFF"),
            ));
        }
        *switch = s;
    }
    if let Some(v) = p.str("ServerNameIndication")? {
        *sni = Some(v);
    }
    if switch == "ON" && sni.as_deref().is_none_or(str::is_empty) {
        return Err(ApiError::missing_parameter("ServerNameIndication"));
    }
    if switch == "OFF" {
        *sni = None;
    }
    Ok(())
}

pub(super) fn create_rule(st: &mut State, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
    let p = Params::of(call)?;
    p.only(&[
        "ListenerId",
        "Domain",
        "Path",
        "RealServerType",
        "Scheduler",
        "HealthCheck",
        "CheckParams",
        "ForwardProtocol",
        "ForwardHost",
        "ServerNameIndicationSwitch",
        "ServerNameIndication",
        "ForcedRedirect",
    ])?;
    let listener = p.req_str("ListenerId")?;
    let domain = p.req_str("Domain")?;
    let path = p.req_str("Path")?;
    check_path(&path)?;
    let real_server_type = p.req_str("RealServerType")?;
    super::check_real_server_type(&real_server_type)?;
    let scheduler = p.req_str("Scheduler")?;
    check_scheduler(&scheduler, &real_server_type)?;
    let health_check = p
        .flag("HealthCheck")?
        .ok_or_else(|| ApiError::missing_parameter("HealthCheck"))?;
    let params = check_params(p.0.get("CheckParams"), &default_check_params())?;
    let (kind, instance) = l7_listener(st, &listener)?;
    let forward_protocol = match p.str("ForwardProtocol")? {
        Some(f) => {
            check_forward_protocol(&f, false)?;
            if kind == Kind::Http {
                return Err(conflict("ForwardProtocol applies to rules of HTTPS listeners."));
            }
            f
        }
        None => "default".to_string(),
    };
    let mut switch = "OFF".to_string();
    let mut sni = None;
    sni_params(&p, &mut switch, &mut sni)?;
    writable_domain(st, &listener, &domain)?;
    let same: Vec<&Rule> = st
        .routing
        .rules
        .values()
        .filter(|r| r.listener == listener && r.domain == domain)
        .collect();
    if same.iter().any(|r| r.path == path) {
        return Err(ApiError::new(
            "FailedOperation.RuleAlreadyExisted",
            format!("Domain `{domain}` already has a rule for `{path}`."),
        ));
    }
    if same.len() >= MAX_RULES_PER_DOMAIN {
        return Err(ApiError::new(
            "FailedOperation.LimitNumofRules",
            format!("A domain holds at most {MAX_RULES_PER_DOMAIN} rules."),
        ));
    }
    st.ensure_idle(&instance)?;
    let delay = ctx.timing().create;
    let id = st.routing.new_id("rule");
    let seq = st.routing.next();
    let rule = Rule {
        id: id.clone(),
        listener,
        domain,
        path,
        real_server_type,
        scheduler,
        health_check,
        check_params: params,
        forward_protocol,
        forward_host: p.str("ForwardHost")?.unwrap_or_else(|| "default".into()),
        sni_switch: switch,
        sni,
        forced_redirect: p.str("ForcedRedirect")?,
        bindings: Vec::new(),
        seq,
        task: Some(pending(ctx, call.now, TaskKind::Create, delay, None)),
    };
    st.routing.rules.insert(id.clone(), rule);
    Ok(json!({ "RuleId": id }))
}

/// The rule a write names, on the listener named, running, its domain
/// running too.
fn writable_rule(st: &State, listener: Option<&str>, id: &str) -> Result<Rule, ApiError> {
    let r = st.routing.rules.get(id).ok_or_else(|| not_found("rule", id))?;
    if listener.is_some_and(|l| l != r.listener) {
        return Err(not_found("rule", id));
    }
    if r.task.is_some() {
        return Err(busy());
    }
    if st
        .routing
        .domain(&r.listener, &r.domain)
        .is_some_and(|d| d.task.is_some())
    {
        return Err(domain_not_running(&r.domain));
    }
    Ok(r.clone())
}

fn instance_of(st: &State, listener: &str) -> Result<String, ApiError> {
    st.listeners
        .get(listener)
        .map(|r| r.instance.clone())
        .ok_or_else(|| listener_not_found(listener))
}

pub(super) fn modify_rule(st: &mut State, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
    let p = Params::of(call)?;
    p.only(&[
        "ListenerId",
        "RuleId",
        "Scheduler",
        "HealthCheck",
        "CheckParams",
        "Path",
        "ForwardProtocol",
        "ForwardHost",
        "ServerNameIndicationSwitch",
        "ServerNameIndication",
        "ForcedRedirect",
    ])?;
    let listener = p.req_str("ListenerId")?;
    let id = p.req_str("RuleId")?;
    let (kind, _) = l7_listener(st, &listener)?;
    let before = writable_rule(st, Some(&listener), &id)?;
    let mut r = before.clone();
    if let Some(path) = p.str("Path")? {
        check_path(&path)?;
        let taken = st
            .routing
            .rules
            .values()
            .any(|o| o.id != id && o.listener == listener && o.domain == r.domain && o.path == path);
        if taken {
            return Err(ApiError::new(
                "FailedOperation.RuleAlreadyExisted",
                format!("Domain `{}` already has a rule for `{path}`.", r.domain),
            ));
        }
        r.path = path;
    }
    if let Some(s) = p.str("Scheduler")? {
        check_scheduler(&s, &r.real_server_type)?;
        r.scheduler = s;
    }
    if let Some(h) = p.flag("HealthCheck")? {
        r.health_check = h;
    }
    r.check_params = check_params(p.0.get("CheckParams"), &r.check_params)?;
    if p.0
        .get("CheckParams")
        .and_then(|c| c.get("Domain"))
        .is_some_and(|d| !d.is_null())
    {
        return Err(invalid_value(
            "CheckParams.Domain",
            "cannot be changed by ModifyRuleAttribute",
        ));
    }
    if let Some(f) = p.str("ForwardProtocol")? {
        check_forward_protocol(&f, true)?;
        if kind == Kind::Http && f != "default" {
            return Err(conflict("ForwardProtocol applies to rules of HTTPS listeners."));
        }
        r.forward_protocol = f;
    }
    if let Some(h) = p.str("ForwardHost")? {
        r.forward_host = h;
    }
    sni_params(&p, &mut r.sni_switch, &mut r.sni)?;
    if let Some(f) = p.str("ForcedRedirect")? {
        r.forced_redirect = Some(f);
    }
    let instance = instance_of(st, &listener)?;
    st.ensure_idle(&instance)?;
    let delay = ctx.timing().update;
    r.task = Some(pending(ctx, call.now, TaskKind::Modify, delay, Some(before)));
    st.routing.rules.insert(id, r);
    Ok(json!({}))
}

pub(super) fn delete_rule(st: &mut State, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
    let p = Params::of(call)?;
    p.only(&["ListenerId", "RuleId", "Force"])?;
    let listener = p.req_str("ListenerId")?;
    let id = p.req_str("RuleId")?;
    let force = p.flag("Force")?.ok_or_else(|| ApiError::missing_parameter("Force"))?;
    l7_listener(st, &listener)?;
    let r = writable_rule(st, Some(&listener), &id)?;
    if force == 0 && !r.bindings.is_empty() {
        return Err(already_bound(format!("The rule `{id}`")));
    }
    let instance = instance_of(st, &listener)?;
    st.ensure_idle(&instance)?;
    let delay = ctx.timing().delete;
    let t = pending(ctx, call.now, TaskKind::Delete, delay, None);
    if let Some(r) = st.routing.rules.get_mut(&id) {
        r.task = Some(t);
    }
    Ok(json!({}))
}

fn domain_record(st: &State, d: &Domain) -> Value {
    let mut rules: Vec<&Rule> = st
        .routing
        .rules
        .values()
        .filter(|r| r.listener == d.listener && r.domain == d.name)
        .collect();
    rules.sort_by_key(|r| r.seq);
    let cas: Value = if d.client_cas.is_empty() {
        json!([])
    } else {
        json!(d
            .client_cas
            .iter()
            .map(|c| json!({"CertificateId": c, "CertificateAlias": null}))
            .collect::<Vec<_>>())
    };
    let https = !d.certificate.is_empty();
    json!({
        "Domain": d.name,
        "RuleSet": rules.iter().map(|r| r.info()).collect::<Vec<_>>(),
        "CertificateId": if https { json!(d.certificate) } else { Value::Null },
        "CertificateAlias": null,
        "ClientCertificateId": if !https { Value::Null } else if d.client_cas.is_empty() { json!("default") } else { json!(d.client_cas[0]) },
        "ClientCertificateAlias": null,
        "PolyClientCertificateAliasInfo": cas,
        "BasicAuth": 0,
        "RealServerAuth": 0,
        "GaapAuth": 0,
        "DomainStatus": d.status(),
        "BanStatus": "RECOVER",
        "Http3Supported": d.http3,
        "IsDefaultServer": d.is_default,
    })
}

pub(super) fn describe_rules(st: &State, call: &Call) -> Result<Value, ApiError> {
    let p = Params::of(call)?;
    p.only(&["ListenerId"])?;
    let listener = p.req_str("ListenerId")?;
    l7_listener(st, &listener)?;
    let mut domains: Vec<&Domain> = st.routing.domains.iter().filter(|d| d.listener == listener).collect();
    domains.sort_by_key(|d| d.seq);
    let set: Vec<Value> = domains.iter().map(|d| domain_record(st, d)).collect();
    Ok(json!({ "TotalCount": set.len(), "DomainRuleSet": set }))
}

pub(super) fn describe_rules_by_ids(st: &State, call: &Call) -> Result<Value, ApiError> {
    let p = Params::of(call)?;
    p.only(&["RuleIds"])?;
    if !p.has("RuleIds") {
        return Err(ApiError::missing_parameter("RuleIds"));
    }
    let ids = p.str_list("RuleIds")?;
    if ids.is_empty() || ids.len() > MAX_RULE_IDS {
        return Err(invalid_value("RuleIds", format!("give 1 to {MAX_RULE_IDS} IDs")));
    }
    let set: Vec<Value> = ids
        .iter()
        .filter_map(|id| st.routing.rules.get(id))
        .map(Rule::info)
        .collect();
    Ok(json!({ "TotalCount": set.len(), "RuleSet": set }))
}

pub(super) fn add_real_servers(st: &mut State, call: &Call) -> Result<Value, ApiError> {
    let p = Params::of(call)?;
    p.only(&["ProjectId", "RealServerIP", "RealServerName", "TagSet"])?;
    let project = p.req_int("ProjectId")?;
    if !p.has("RealServerIP") {
        return Err(ApiError::missing_parameter("RealServerIP"));
    }
    let addresses = p.str_list("RealServerIP")?;
    if addresses.is_empty() {
        return Err(invalid_value("RealServerIP", "the list is empty"));
    }
    let name = p.req_str("RealServerName")?;
    if name.trim().is_empty() || name.chars().count() > 60 {
        return Err(invalid_value("RealServerName", "must be 1 to 60 characters"));
    }
    let tags = tags_of(&p)?;
    for (i, a) in addresses.iter().enumerate() {
        let ok = !a.is_empty()
            && a.len() <= 253
            && (!is_domain_address(a)
                || a.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-')) && a.contains('.'));
        if !ok {
            return Err(invalid_value(
                "RealServerIP",
                format!("`{a}` is neither an IP address nor a domain name"),
            ));
        }
        let twice = addresses[..i].contains(a)
            || st
                .routing
                .real_servers
                .values()
                .any(|r| r.project == project && &r.address == a);
        if twice {
            return Err(ApiError::new(
                "InvalidParameterValue.DuplicateRS",
                format!("The origin server `{a}` already exists in project {project}."),
            ));
        }
    }
    let mut out = Vec::new();
    for a in addresses {
        let id = st.routing.new_id("rs");
        let seq = st.routing.next();
        st.routing.real_servers.insert(
            id.clone(),
            RealServer {
                id: id.clone(),
                address: a.clone(),
                name: name.clone(),
                project,
                tags: tags.clone(),
                seq,
            },
        );
        out.push(json!({ "RealServerId": id, "RealServerIP": a }));
    }
    Ok(json!({ "RealServerSet": out }))
}

fn tags_of(p: &Params<'_>) -> Result<Vec<(String, String)>, ApiError> {
    let Some(list) = p.0.get("TagSet").filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let Some(items) = list.as_array() else {
        return Err(invalid_value("TagSet", "not a list"));
    };
    items
        .iter()
        .map(|t| {
            let k = t.get("TagKey").and_then(Value::as_str);
            let v = t.get("TagValue").and_then(Value::as_str).unwrap_or("");
            match k {
                Some(k) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
                _ => Err(invalid_value("TagSet", "every tag needs a TagKey")),
            }
        })
        .collect()
}

pub(super) fn describe_real_servers(st: &State, call: &Call) -> Result<Value, ApiError> {
    let p = Params::of(call)?;
    p.only(&["ProjectId", "SearchValue", "Offset", "Limit", "TagSet", "Filters"])?;
    // -1 (all projects) arrives as a negative number, which `int` refuses.
    let project: Option<u64> = match p.0.get("ProjectId") {
        None | Some(Value::Null) => return Err(ApiError::missing_parameter("ProjectId")),
        Some(v) if v.as_i64() == Some(-1) || v.as_str() == Some("-1") => None,
        Some(v) => Some(Params::int_value("ProjectId", v)?),
    };
    let search = p.str("SearchValue")?;
    let offset = p.int("Offset")?.unwrap_or(0);
    let limit = p.int("Limit")?.unwrap_or(20);
    if limit == 0 || limit > MAX_RS_LIMIT {
        return Err(invalid_value(
            "Limit",
            format!("{limit} is outside 1 to {MAX_RS_LIMIT}"),
        ));
    }
    let tags = tags_of(&p)?;
    let mut filters: Vec<(String, Vec<String>)> = Vec::new();
    if let Some(list) = p.0.get("Filters").and_then(Value::as_array) {
        for f in list {
            let name = f.get("Name").and_then(Value::as_str).unwrap_or("");
            if name != "RealServerName" && name != "RealServerIP" {
                return Err(invalid_value(
                    "Filters.Name",
                    format!("`{name}` is not RealServerName or RealServerIP"),
                ));
            }
            let values = f
                .get("Values")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
                .unwrap_or_default();
            filters.push((name.to_string(), values));
        }
    }
    let mut all: Vec<&RealServer> = st
        .routing
        .real_servers
        .values()
        .filter(|r| project.is_none_or(|pr| r.project == pr))
        .filter(|r| search.as_ref().is_none_or(|s| r.address.contains(s.as_str())))
        .filter(|r| tags.is_empty() || tags.iter().any(|t| r.tags.contains(t)))
        .filter(|r| {
            filters.iter().all(|(n, vals)| {
                let field = if n == "RealServerName" { &r.name } else { &r.address };
                vals.is_empty() || vals.contains(field)
            })
        })
        .collect();
    all.sort_by_key(|r| r.seq);
    let total = all.len();
    let page: Vec<Value> = all
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .map(RealServer::info)
        .collect();
    Ok(json!({ "TotalCount": total, "RealServerSet": page }))
}

fn bound_anywhere(st: &State, id: &str) -> bool {
    st.routing.rules.values().any(|r| r.bindings.iter().any(|b| b.id == id))
        || st
            .listeners
            .values()
            .any(|l| l.config.bindings.iter().any(|b| b.id == id))
}

pub(super) fn remove_real_servers(st: &mut State, call: &Call) -> Result<Value, ApiError> {
    let p = Params::of(call)?;
    p.only(&["RealServerIds"])?;
    if !p.has("RealServerIds") {
        return Err(ApiError::missing_parameter("RealServerIds"));
    }
    let ids = p.str_list("RealServerIds")?;
    if ids.is_empty() {
        return Err(invalid_value("RealServerIds", "the list is empty"));
    }
    for id in &ids {
        if !st.routing.real_servers.contains_key(id) {
            return Err(not_found("origin server", id));
        }
        if bound_anywhere(st, id) {
            return Err(already_bound(format!(
                "The origin server `{id}` is bound to a rule or listener; it"
            )));
        }
    }
    for id in ids {
        st.routing.real_servers.remove(&id);
    }
    Ok(json!({}))
}

/// `RealServerBindSet` against the account's origin servers: every ID
/// known, its address (when sent) its own, its kind `want_type`, each
/// server and port once, ports 1–65535, weights 1–100 (default 1), roles
/// `master`/`slave` only where `failover` allows them; at most 100.
fn bindings_of(p: &Params<'_>, st: &State, want_type: &str, failover: bool) -> Result<Vec<Binding>, ApiError> {
    let Some(list) = p.0.get("RealServerBindSet").filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let Some(items) = list.as_array() else {
        return Err(invalid_value("RealServerBindSet", "not a list"));
    };
    if items.len() > MAX_BINDINGS {
        return Err(ApiError::new(
            "FailedOperation.LimitRealServerNum",
            format!("At most {MAX_BINDINGS} origin servers can be bound."),
        ));
    }
    let mut out: Vec<Binding> = Vec::new();
    for item in items {
        let id = item
            .get("RealServerId")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::missing_parameter("RealServerBindSet.RealServerId"))?;
        let rs = st
            .routing
            .real_servers
            .get(id)
            .ok_or_else(|| not_found("origin server", id))?;
        if let Some(ip) = item.get("RealServerIP").and_then(Value::as_str) {
            if ip != rs.address {
                return Err(ApiError::new(
                    "InvalidParameterValue.RealServerNotBelong",
                    format!("`{ip}` is not the address of origin server `{id}`."),
                ));
            }
        }
        let kind = if rs.is_domain() { "DOMAIN" } else { "IP" };
        if kind != want_type {
            return Err(invalid_value(
                "RealServerBindSet",
                format!(
                    "origin server `{id}` ({}) is not of RealServerType {want_type}",
                    rs.address
                ),
            ));
        }
        let port = item
            .get("RealServerPort")
            .ok_or_else(|| ApiError::missing_parameter("RealServerBindSet.RealServerPort"))
            .and_then(|v| Params::int_value("RealServerBindSet.RealServerPort", v))?;
        check_port("RealServerBindSet.RealServerPort", port)?;
        let weight = match item.get("RealServerWeight").filter(|v| !v.is_null()) {
            None => 1,
            Some(v) => Params::int_value("RealServerBindSet.RealServerWeight", v)?,
        };
        if !(1..=100).contains(&weight) {
            return Err(invalid_value(
                "RealServerBindSet.RealServerWeight",
                format!("{weight} is outside 1 to 100"),
            ));
        }
        let role = item
            .get("RealServerFailoverRole")
            .and_then(Value::as_str)
            .map(str::to_string);
        if let Some(r) = &role {
            if r != "master" && r != "slave" {
                return Err(invalid_value(
                    "RealServerBindSet.RealServerFailoverRole",
                    format!("`{r}` is not master or slave"),
                ));
            }
            if !failover {
                return Err(conflict(
                    "RealServerFailoverRole needs a listener with FailoverSwitch 1.",
                ));
            }
        }
        if out.iter().any(|b| b.id == id && b.port == port) {
            return Err(ApiError::new(
                "InvalidParameterValue.DuplicateRS",
                format!("Origin server `{id}` on port {port} is in the set twice."),
            ));
        }
        out.push(Binding {
            id: id.to_string(),
            address: rs.address.clone(),
            port,
            weight,
            role,
        });
    }
    Ok(out)
}

pub(super) fn bind_rule(st: &mut State, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
    let p = Params::of(call)?;
    p.only(&["RuleId", "RealServerBindSet"])?;
    let id = p.req_str("RuleId")?;
    let before = writable_rule(st, None, &id)?;
    let set = bindings_of(&p, st, &before.real_server_type, false)?;
    let instance = instance_of(st, &before.listener)?;
    st.ensure_idle(&instance)?;
    let delay = ctx.timing().update;
    let mut r = before.clone();
    r.bindings = set;
    r.task = Some(pending(ctx, call.now, TaskKind::Bind, delay, Some(before)));
    st.routing.rules.insert(id, r);
    Ok(json!({}))
}

pub(super) fn bind_listener(st: &mut State, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
    let p = Params::of(call)?;
    p.only(&["ListenerId", "RealServerBindSet"])?;
    let id = p.req_str("ListenerId")?;
    let rec = st.listeners.get(&id).ok_or_else(|| listener_not_found(&id))?;
    let Some(l4) = rec.config.l4.as_ref() else {
        return Err(invalid_value(
            "ListenerId",
            format!(
                "`{id}` is a {} listener; its origins are bound per rule (BindRuleRealServers)",
                rec.kind.word()
            ),
        ));
    };
    if rec.task.is_some() {
        return Err(busy());
    }
    let set = bindings_of(&p, st, &l4.real_server_type.clone(), l4.failover_switch == 1)?;
    let instance = rec.instance.clone();
    st.ensure_idle(&instance)?;
    let delay = ctx.timing().update;
    let rec = st.listeners.get(&id).ok_or_else(|| listener_not_found(&id))?;
    let backup = rec.config.clone();
    let t = super::task(ctx, call.now, TaskKind::Bind, delay, Some(backup));
    if let Some(rec) = st.listeners.get_mut(&id) {
        rec.config.bindings = set;
        rec.task = Some(t);
    }
    Ok(json!({}))
}

fn bind_answer(st: &State, bound: &[Binding], offset: u64, limit: u64) -> Value {
    let mut all: Vec<&RealServer> = st.routing.real_servers.values().collect();
    all.sort_by_key(|r| r.seq);
    let page: Vec<Value> = all
        .iter()
        .skip(offset as usize)
        .take(limit as usize)
        .map(|r| r.bindable())
        .collect();
    json!({
        "TotalCount": all.len(),
        "RealServerSet": page,
        "BindRealServerTotalCount": bound.len(),
        "BindRealServerSet": bound.iter().map(Binding::describe).collect::<Vec<_>>(),
    })
}

pub(super) fn describe_rule_real_servers(st: &State, call: &Call) -> Result<Value, ApiError> {
    let p = Params::of(call)?;
    p.only(&["RuleId", "Offset", "Limit"])?;
    let id = p.req_str("RuleId")?;
    let offset = p.int("Offset")?.unwrap_or(0);
    let limit = p.int("Limit")?.unwrap_or(20);
    if limit == 0 || limit > MAX_RULE_RS_LIMIT {
        return Err(invalid_value(
            "Limit",
            format!("{limit} is outside 1 to {MAX_RULE_RS_LIMIT}"),
        ));
    }
    let r = st.routing.rules.get(&id).ok_or_else(|| not_found("rule", &id))?;
    Ok(bind_answer(st, &r.bindings, offset, limit))
}

pub(super) fn describe_listener_real_servers(st: &State, call: &Call) -> Result<Value, ApiError> {
    let p = Params::of(call)?;
    p.only(&["ListenerId"])?;
    let id = p.req_str("ListenerId")?;
    let rec = st.listeners.get(&id).ok_or_else(|| listener_not_found(&id))?;
    if rec.config.l4.is_none() {
        return Err(invalid_value(
            "ListenerId",
            format!("`{id}` is a {} listener; read its origins per rule", rec.kind.word()),
        ));
    }
    Ok(bind_answer(st, &rec.config.bindings, 0, MAX_RULE_RS_LIMIT))
}

/// The request host as GAAP compares it: lowercase, without the port.
fn normalise_host(host: &str) -> String {
    let h = host.trim();
    let bare = if h.starts_with('[') {
        h.split_once(']').map_or(h, |(a, _)| &h[..a.len() + 1])
    } else {
        match h.rsplit_once(':') {
            Some((a, port)) if port.chars().all(|c| c.is_ascii_digit()) => a,
            _ => h,
        }
    };
    bare.to_ascii_lowercase()
}

/// The admin resolve call, by GAAP's matching (module docs):
/// `{"listener", "protocol", "domain", "rule", "status", "certificate",
/// "endpoints"}`.
pub(super) fn resolve(st: &State, q: &ResolveQuery) -> Result<Value, ApiError> {
    let port = u64::from(q.port);
    let listener = st
        .listeners
        .values()
        .filter(|r| r.instance == q.instance && r.port == port)
        .filter(|r| !matches!(r.task.as_ref().map(|t| t.kind), Some(TaskKind::Create)))
        .min_by_key(|r| (r.kind == Kind::Udp, r.seq))
        .ok_or_else(|| {
            ApiError::new(
                "ResourceNotFound",
                format!("No listener on port {port} of `{}`.", q.instance),
            )
            .status(404)
        })?;
    let endpoints = |b: &[Binding]| Value::Array(b.iter().map(Binding::endpoint).collect());
    if let Some(_l4) = &listener.config.l4 {
        let b = &listener.config.bindings;
        return Ok(json!({
            "listener": listener.id, "protocol": listener.kind.word(), "domain": null, "rule": null,
            "status": if b.is_empty() { 502 } else { 200 }, "certificate": null, "endpoints": endpoints(b),
        }));
    }
    let host = normalise_host(&q.host);
    let domains: Vec<&Domain> = st
        .routing
        .domains
        .iter()
        .filter(|d| d.listener == listener.id && d.serving())
        .collect();
    let listener_cert = listener.config.https.as_ref().map(|h| h.certificate_id.clone());
    let exact = domains.iter().find(|d| d.name == host).copied();
    // The certificate a TLS client asking for `host` gets: its domain's,
    // `default` meaning the listener's, else the listener's.
    let certificate = match exact {
        Some(d) if !d.certificate.is_empty() && d.certificate != "default" => Some(d.certificate.clone()),
        _ => listener_cert,
    };
    let domain = exact.or_else(|| domains.iter().find(|d| d.is_default).copied());
    let Some(domain) = domain else {
        return Ok(json!({
            "listener": listener.id, "protocol": listener.kind.word(), "domain": null, "rule": null,
            "status": 404, "certificate": certificate, "endpoints": [],
        }));
    };
    let path = q.path.split(['?', '#']).next().filter(|p| !p.is_empty()).unwrap_or("/");
    let rule = st
        .routing
        .rules
        .values()
        .filter(|r| r.listener == listener.id && r.domain == domain.name && r.serving())
        .filter(|r| path.as_bytes().starts_with(r.path.as_bytes()))
        .max_by_key(|r| (r.path.len(), std::cmp::Reverse(r.seq)));
    let (status, rule_id, ends) = match rule {
        Some(r) if r.bindings.is_empty() => (502, json!(r.id), json!([])),
        Some(r) => (200, json!(r.id), endpoints(&r.bindings)),
        None => (404, Value::Null, json!([])),
    };
    Ok(json!({
        "listener": listener.id, "protocol": listener.kind.word(), "domain": domain.name, "rule": rule_id,
        "status": status, "certificate": certificate, "endpoints": ends,
    }))
}

#[cfg(test)]
#[path = "gaap_rules_tests.rs"]
mod tests;
