//! Emulated Tencent Cloud GAAP listeners (API version `2018-05-29`).
//!
//! The state is a set of seeded connections (`link-…`) and connection
//! groups (`lg-…`) and the listeners on them. Every rule the GAAP adapter
//! checks offline is enforced here again with GAAP's own error code, so a
//! request sent raw (bypassing the adapter's `check`) gets the answer the
//! vendor would give, plus the rules only the server can know: ports in
//! use, the quota of 50 listeners per connection, unknown connections and
//! listeners, and one write at a time per connection
//! (`FailedOperation.ListenerHasTask`).
//!
//! Asynchronous work follows `ListenerStatus`: a new listener is 1
//! (creating) for `timing.create`, a modified one 4 (configuration
//! changing) for `timing.update`, a deleted one 2 (destroying) for
//! `timing.delete`; states advance lazily when a later call looks. A task
//! the context marks as failing ends with the listener gone (create), the
//! old configuration back (modify) or the listener running again (delete).
//!
//! Where the vendor's documents leave a choice open, the choices are: an
//! unknown connection is `ResourceNotFound`; a parameter an action does not
//! have is `UnknownParameter` (this is how `Http3Supported` on a modify is
//! refused); a combination GAAP forbids is
//! `InvalidParameter.ConflictParameters`; a required-when parameter left out
//! is `MissingParameter`; a describe by an unknown `ListenerId` answers an
//! empty set.
//!
//! TLS versions and ciphers of HTTPS listeners are set with `SetTlsVersion`
//! (`TLSSupportVersion` from `TLSv1`, `TLSv1.1`, `TLSv1.2`, `TLSv1.3`;
//! `TLSCiphers` one of `GAAP_TLS_CIPHERS_STRICT`, `_GENERAL`, `_WIDE`; a
//! new listener has every version and the wide family, GAAP's default).
//! It changes the listener like a modify (status 4 for `timing.update`).
//! Only connections and groups whose description says
//! `IsSupportTLSChoice` 1 take it (`DescribeProxies`,
//! `DescribeProxyGroupDetails`); every seeded instance does, except those
//! named in [`Gaap::without_tls_choice`]. GAAP documents no code for the
//! refusal; the emulator answers `ResourceUnavailable`, from the action's
//! documented list.
//!
//! Layer-7 domains and rules, origin servers and their bindings (rules or
//! TCP/UDP listeners), and GAAP's matcher behind the admin resolve call,
//! are in `gaap_rules.rs`. A delete with `Force` 0 of a listener with
//! origin servers bound is `FailedOperation.RealServerAlreadyBound`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use crate::service::{ApiError, Call, Context, Family, InstanceSeed, ResolveQuery, Service};

/// Listeners per connection or group.
const MAX_LISTENERS: usize = 50;
/// Largest `Limit` a describe accepts.
const MAX_LIMIT: u64 = 100;
/// `Limit` of a describe that sends none.
const DEFAULT_LIMIT: u64 = 20;
/// Longest UDP probe payload.
const MAX_CONTEXT_LEN: usize = 500;
/// `TLSSupportVersion` values, oldest first; all are on by default.
const TLS_VERSIONS: [&str; 4] = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];
/// `TLSCiphers` values.
const TLS_CIPHERS: [&str; 3] = [
    "GAAP_TLS_CIPHERS_STRICT",
    "GAAP_TLS_CIPHERS_GENERAL",
    "GAAP_TLS_CIPHERS_WIDE",
];
/// The cipher family of a new HTTPS listener.
const DEFAULT_TLS_CIPHERS: &str = "GAAP_TLS_CIPHERS_WIDE";

/// The emulated GAAP service.
pub struct Gaap {
    state: Mutex<State>,
}

impl Default for Gaap {
    fn default() -> Self {
        Self::new()
    }
}

impl Gaap {
    /// An empty service: no connections, no listeners.
    pub fn new() -> Self {
        Gaap {
            state: Mutex::new(State::default()),
        }
    }

    /// The same service where the connection or group `id`, once seeded,
    /// describes itself with `IsSupportTLSChoice` 0 and refuses
    /// `SetTlsVersion`, as older GAAP connections do.
    pub fn without_tls_choice(self, id: impl Into<String>) -> Self {
        if let Ok(mut st) = self.state.lock() {
            st.no_tls_choice.insert(id.into());
        }
        self
    }
}

#[derive(Default)]
struct State {
    /// Instance ID → whether it is a connection group.
    instances: BTreeMap<String, bool>,
    /// Instances whose `IsSupportTLSChoice` is 0.
    no_tls_choice: BTreeSet<String>,
    listeners: BTreeMap<String, Rec>,
    /// Creation counter: orders listings and feeds ID generation.
    seq: u64,
    /// Domains, forwarding rules and origin servers (`gaap_rules.rs`).
    routing: rules::Routing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Http,
    Https,
    Tcp,
    Udp,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Http => "HTTP",
            Kind::Https => "HTTPS",
            Kind::Tcp => "TCP",
            Kind::Udp => "UDP",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Space {
    Tcp,
    Udp,
}

#[derive(Debug, Clone, PartialEq)]
struct HttpsConf {
    certificate_id: String,
    forward_protocol: String,
    auth_type: u8,
    client_cas: Vec<String>,
    http3: bool,
    tls_versions: Vec<String>,
    tls_ciphers: String,
}

#[derive(Debug, Clone, PartialEq)]
struct L4Conf {
    scheduler: String,
    real_server_type: String,
    health_check: u8,
    delay_loop: u64,
    connect_timeout: u64,
    healthy_threshold: u64,
    unhealthy_threshold: u64,
    failover_switch: u8,
    client_ip_method: u8,
    real_server_port: Option<u64>,
    check_type: String,
    check_port: Option<u64>,
    context_type: Option<String>,
    send_context: Option<String>,
    recv_context: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
struct Config {
    name: String,
    https: Option<HttpsConf>,
    l4: Option<L4Conf>,
    /// Origins bound to a TCP/UDP listener (`BindListenerRealServers`).
    bindings: Vec<rules::Binding>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TaskKind {
    Create,
    Modify,
    Delete,
    /// Origin servers being bound or unbound (status 3).
    Bind,
}

#[derive(Debug, Clone)]
struct Task {
    kind: TaskKind,
    until: Instant,
    fails: bool,
    /// The configuration before a modify, put back if the modify fails.
    backup: Option<Config>,
}

#[derive(Debug, Clone)]
struct Rec {
    id: String,
    instance: String,
    group: bool,
    kind: Kind,
    port: u64,
    config: Config,
    created_unix: u64,
    seq: u64,
    task: Option<Task>,
}

impl Rec {
    fn status(&self) -> u8 {
        match self.task.as_ref().map(|t| t.kind) {
            None => 0,
            Some(TaskKind::Create) => 1,
            Some(TaskKind::Delete) => 2,
            Some(TaskKind::Modify) => 4,
            Some(TaskKind::Bind) => 3,
        }
    }

    fn http3(&self) -> bool {
        self.config.https.as_ref().is_some_and(|h| h.http3)
    }

    /// Whether the listener holds `port` in `space`.
    fn holds(&self, space: Space, port: u64) -> bool {
        self.port == port
            && match space {
                Space::Tcp => self.kind != Kind::Udp,
                Space::Udp => self.kind == Kind::Udp || self.http3(),
            }
    }

    fn record(&self) -> Value {
        let mut m = Map::new();
        m.insert("ListenerId".into(), json!(self.id));
        m.insert("ListenerName".into(), json!(self.config.name));
        m.insert("Port".into(), json!(self.port));
        m.insert("Protocol".into(), json!(self.kind.word()));
        m.insert("ListenerStatus".into(), json!(self.status()));
        m.insert("CreateTime".into(), json!(self.created_unix));
        let (proxy, group) = if self.group {
            (Value::Null, json!(self.instance))
        } else {
            (json!(self.instance), Value::Null)
        };
        m.insert("ProxyId".into(), proxy);
        m.insert("GroupId".into(), group);
        if let Some(h) = &self.config.https {
            m.insert("CertificateId".into(), json!(h.certificate_id));
            m.insert("CertificateAlias".into(), Value::Null);
            m.insert("ForwardProtocol".into(), json!(h.forward_protocol));
            m.insert("AuthType".into(), json!(h.auth_type));
            m.insert(
                "ClientCertificateId".into(),
                h.client_cas.first().map_or(Value::Null, |c| json!(c)),
            );
            m.insert("ClientCertificateAlias".into(), Value::Null);
            m.insert(
                "PolyClientCertificateAliasInfo".into(),
                Value::Array(
                    h.client_cas
                        .iter()
                        .map(|c| json!({"CertificateId": c, "CertificateAlias": null}))
                        .collect(),
                ),
            );
            m.insert("Http3Supported".into(), json!(u8::from(h.http3)));
            m.insert("TLSSupportVersion".into(), json!(h.tls_versions));
            m.insert("TLSCiphers".into(), json!(h.tls_ciphers));
        }
        if let Some(l) = &self.config.l4 {
            m.insert("Scheduler".into(), json!(l.scheduler));
            m.insert("RealServerType".into(), json!(l.real_server_type));
            m.insert("HealthCheck".into(), json!(l.health_check));
            m.insert("DelayLoop".into(), json!(l.delay_loop));
            m.insert("ConnectTimeout".into(), json!(l.connect_timeout));
            m.insert("HealthyThreshold".into(), json!(l.healthy_threshold));
            m.insert("UnhealthyThreshold".into(), json!(l.unhealthy_threshold));
            m.insert("FailoverSwitch".into(), json!(l.failover_switch));
            m.insert("BindStatus".into(), json!(0));
            m.insert(
                "RealServerSet".into(),
                Value::Array(self.config.bindings.iter().map(rules::Binding::describe).collect()),
            );
            m.insert("SessionPersist".into(), json!(0));
            m.insert(
                "RealServerPort".into(),
                l.real_server_port.map_or(Value::Null, |p| json!(p)),
            );
            if self.kind == Kind::Tcp {
                m.insert("ClientIPMethod".into(), json!(l.client_ip_method));
            } else {
                m.insert("CheckType".into(), json!(l.check_type));
                m.insert("CheckPort".into(), l.check_port.map_or(json!(-1), |p| json!(p)));
                m.insert(
                    "ContextType".into(),
                    l.context_type.as_ref().map_or(Value::Null, |c| json!(c)),
                );
                m.insert(
                    "SendContext".into(),
                    l.send_context.as_ref().map_or(Value::Null, |c| json!(c)),
                );
                m.insert(
                    "RecvContext".into(),
                    l.recv_context.as_ref().map_or(Value::Null, |c| json!(c)),
                );
            }
        }
        Value::Object(m)
    }
}

// ---------------------------------------------------------------------------
// parameters
// ---------------------------------------------------------------------------

fn invalid_value(name: &str, why: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        "InvalidParameterValue",
        format!("The value of parameter `{name}` is invalid: {why}."),
    )
}

fn conflict(what: impl Into<String>) -> ApiError {
    ApiError::new("InvalidParameter.ConflictParameters", what)
}

fn busy() -> ApiError {
    ApiError::new(
        "FailedOperation.ListenerHasTask",
        "A listener of this connection is still being operated on; try again later.",
    )
}

fn listener_not_found(id: &str) -> ApiError {
    ApiError::new("ResourceNotFound", format!("The listener `{id}` does not exist."))
}

/// The request parameters of one call, with GAAP's way of reading them:
/// integers may come as numbers or numeric strings (the vendor's own
/// examples send `"Port": "443"`).
struct Params<'a>(&'a Map<String, Value>);

impl<'a> Params<'a> {
    fn of(call: &'a Call) -> Result<Params<'a>, ApiError> {
        match &call.params {
            Value::Object(m) => Ok(Params(m)),
            _ => Err(ApiError::new(
                "InvalidParameter",
                "The request body must be a JSON object.",
            )),
        }
    }

    /// `UnknownParameter` for any parameter the action does not have.
    fn only(&self, allowed: &[&str]) -> Result<(), ApiError> {
        match self.0.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(ApiError::new(
                "UnknownParameter",
                format!("The parameter `{k}` is not recognized by this action."),
            )),
            None => Ok(()),
        }
    }

    fn has(&self, name: &str) -> bool {
        self.0.get(name).is_some_and(|v| !v.is_null())
    }

    fn str(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::new(
                "InvalidParameter",
                format!("The parameter `{name}` must be a string."),
            )),
        }
    }

    fn req_str(&self, name: &str) -> Result<String, ApiError> {
        self.str(name)?.ok_or_else(|| ApiError::missing_parameter(name))
    }

    fn int_value(name: &str, v: &Value) -> Result<u64, ApiError> {
        let parsed = match v {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse::<u64>().ok(),
            _ => None,
        };
        parsed.ok_or_else(|| invalid_value(name, "not a non-negative integer"))
    }

    fn int(&self, name: &str) -> Result<Option<u64>, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => Self::int_value(name, v).map(Some),
        }
    }

    fn req_int(&self, name: &str) -> Result<u64, ApiError> {
        self.int(name)?.ok_or_else(|| ApiError::missing_parameter(name))
    }

    fn str_list(&self, name: &str) -> Result<Vec<String>, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| invalid_value(name, "not a list of strings"))
                })
                .collect(),
            Some(_) => Err(invalid_value(name, "not a list")),
        }
    }

    fn int_list(&self, name: &str) -> Result<Vec<u64>, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items.iter().map(|v| Self::int_value(name, v)).collect(),
            Some(_) => Err(invalid_value(name, "not a list")),
        }
    }

    /// A 0/1 switch.
    fn flag(&self, name: &str) -> Result<Option<u8>, ApiError> {
        match self.int(name)? {
            None => Ok(None),
            Some(0) => Ok(Some(0)),
            Some(1) => Ok(Some(1)),
            Some(v) => Err(invalid_value(name, format!("{v} is not 0 or 1"))),
        }
    }

    fn in_range(&self, name: &str, lo: u64, hi: u64) -> Result<Option<u64>, ApiError> {
        match self.int(name)? {
            Some(v) if !(lo..=hi).contains(&v) => Err(invalid_value(name, format!("{v} is outside {lo} to {hi}"))),
            other => Ok(other),
        }
    }
}

fn check_port(name: &str, port: u64) -> Result<u64, ApiError> {
    if (1..=65535).contains(&port) {
        Ok(port)
    } else {
        Err(invalid_value(name, format!("port {port} is outside 1 to 65535")))
    }
}

fn check_scheduler(s: &str) -> Result<(), ApiError> {
    match s {
        "rr" | "wrr" | "lc" | "lrtt" => Ok(()),
        other => Err(invalid_value(
            "Scheduler",
            format!("`{other}` is not rr, wrr, lc or lrtt"),
        )),
    }
}

fn check_real_server_type(s: &str) -> Result<(), ApiError> {
    match s {
        "IP" | "DOMAIN" => Ok(()),
        other => Err(invalid_value(
            "RealServerType",
            format!("`{other}` is not IP or DOMAIN"),
        )),
    }
}

fn check_context(name: &str, value: &Option<String>) -> Result<(), ApiError> {
    match value {
        Some(v) if v.is_empty() || v.chars().count() > MAX_CONTEXT_LEN => Err(invalid_value(
            name,
            format!("must be 1 to {MAX_CONTEXT_LEN} characters"),
        )),
        _ => Ok(()),
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------
// state
// ---------------------------------------------------------------------------

impl State {
    /// Advance every task whose time is up.
    fn settle(&mut self, now: Instant) {
        let mut gone = Vec::new();
        for (id, rec) in self.listeners.iter_mut() {
            let Some(task) = rec.task.as_ref() else {
                continue;
            };
            if task.until > now {
                continue;
            }
            match (task.kind, task.fails) {
                (TaskKind::Create, true) | (TaskKind::Delete, false) => gone.push(id.clone()),
                (TaskKind::Modify | TaskKind::Bind, true) => {
                    if let Some(backup) = task.backup.clone() {
                        rec.config = backup;
                    }
                    rec.task = None;
                }
                _ => rec.task = None,
            }
        }
        for id in gone {
            self.listeners.remove(&id);
        }
        let listeners = &self.listeners;
        self.routing.settle(now, |l| listeners.contains_key(l));
    }

    /// The one instance a call names: exactly one of `ProxyId` / `GroupId`.
    fn instance(&self, p: &Params<'_>) -> Result<(String, bool), ApiError> {
        let proxy = p.str("ProxyId")?;
        let group = p.str("GroupId")?;
        let (id, want_group) = match (proxy, group) {
            (Some(_), Some(_)) => return Err(conflict("ProxyId and GroupId cannot be set together.")),
            (None, None) => return Err(ApiError::missing_parameter("ProxyId or GroupId")),
            (Some(id), None) => (id, false),
            (None, Some(id)) => (id, true),
        };
        match self.instances.get(&id) {
            Some(&is_group) if is_group == want_group => Ok((id, is_group)),
            _ => Err(ApiError::new(
                "ResourceNotFound",
                format!(
                    "The {} `{id}` does not exist.",
                    if want_group { "connection group" } else { "connection" }
                ),
            )),
        }
    }

    fn on(&self, instance: &str) -> impl Iterator<Item = &Rec> {
        let instance = instance.to_string();
        self.listeners.values().filter(move |r| r.instance == instance)
    }

    /// One write at a time per connection.
    fn ensure_idle(&self, instance: &str) -> Result<(), ApiError> {
        if self
            .on(instance)
            .any(|r| r.task.is_some() || self.routing.listener_busy(&r.id))
        {
            Err(busy())
        } else {
            Ok(())
        }
    }

    fn ensure_quota(&self, instance: &str, adding: usize) -> Result<(), ApiError> {
        let have = self.on(instance).count();
        if have + adding > MAX_LISTENERS {
            Err(ApiError::new(
                "FailedOperation.LimitNumofListener",
                format!("A connection holds at most {MAX_LISTENERS} listeners; it has {have}, {adding} more were asked for."),
            ))
        } else {
            Ok(())
        }
    }

    fn ensure_port_free(&self, instance: &str, space: Space, port: u64) -> Result<(), ApiError> {
        match self.on(instance).find(|r| r.holds(space, port)) {
            Some(r) => Err(ApiError::new(
                "InvalidParameterValue.DuplicatedListenerPort",
                format!(
                    "Port {port} is already used on the {} side by listener `{}`.",
                    if space == Space::Tcp { "TCP" } else { "UDP" },
                    r.id
                ),
            )),
            None => Ok(()),
        }
    }

    fn new_id(&mut self) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        loop {
            self.seq += 1;
            let mut x = self.seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5DEE_CE66_D1CE_4E5B;
            let mut id = String::from("listener-");
            for _ in 0..8 {
                id.push(char::from(ALPHABET[(x % 36) as usize]));
                x /= 36;
            }
            if !self.listeners.contains_key(&id) {
                return id;
            }
        }
    }

    fn insert(&mut self, instance: &str, group: bool, kind: Kind, port: u64, config: Config, task: Task) -> String {
        let id = self.new_id();
        let rec = Rec {
            id: id.clone(),
            instance: instance.to_string(),
            group,
            kind,
            port,
            config,
            created_unix: unix_now(),
            seq: self.seq,
            task: Some(task),
        };
        self.listeners.insert(id.clone(), rec);
        id
    }
}

fn name_of(p: &Params<'_>) -> Result<String, ApiError> {
    let name = p.req_str("ListenerName")?;
    if name.trim().is_empty() {
        return Err(invalid_value("ListenerName", "must not be empty"));
    }
    Ok(name)
}

fn create_task(ctx: &mut dyn Context, now: Instant) -> Task {
    let delay = ctx.timing().create;
    task(ctx, now, TaskKind::Create, delay, None)
}

fn task(ctx: &mut dyn Context, now: Instant, kind: TaskKind, delay: Duration, backup: Option<Config>) -> Task {
    Task {
        kind,
        until: now + delay,
        fails: ctx.fail_task(),
        backup,
    }
}

/// `AuthType` and the client CAs of an HTTPS request, with GAAP's rules:
/// mutual needs a CA, CAs need mutual.
fn https_auth(p: &Params<'_>, default_auth: u8, creating: bool) -> Result<(u8, Vec<String>, bool), ApiError> {
    let auth_type = match p.int("AuthType")? {
        None => default_auth,
        Some(0) => 0,
        Some(1) => 1,
        Some(v) => return Err(invalid_value("AuthType", format!("{v} is not 0 or 1"))),
    };
    // The API documents the two as alternatives ("set ClientCertificateId
    // or PolyClientCertificateIds", on create and modify alike): a request
    // with both is refused, not merged.
    let mut cas = p.str_list("PolyClientCertificateIds")?;
    if let Some(single) = p.str("ClientCertificateId")?.filter(|s| !s.is_empty()) {
        if p.has("PolyClientCertificateIds") {
            return Err(conflict(
                "Set ClientCertificateId or PolyClientCertificateIds, not both.",
            ));
        }
        cas.push(single);
    }
    if cas.iter().any(String::is_empty) {
        return Err(invalid_value("PolyClientCertificateIds", "an ID is empty"));
    }
    let cas_sent = p.has("PolyClientCertificateIds") || p.has("ClientCertificateId");
    if auth_type == 1 && cas.is_empty() && (creating || cas_sent) {
        return Err(ApiError::missing_parameter(
            "ClientCertificateId or PolyClientCertificateIds",
        ));
    }
    if auth_type == 0 && !cas.is_empty() {
        return Err(conflict(
            "Client CA certificates apply to mutual authentication (AuthType 1) only.",
        ));
    }
    Ok((auth_type, cas, cas_sent))
}

/// The layer-4 health-check parameters shared by create and modify, read
/// over `base` (defaults on create, the listener's values on modify).
fn l4_health(p: &Params<'_>, base: &L4Conf) -> Result<L4Conf, ApiError> {
    let mut l = base.clone();
    if let Some(s) = p.str("Scheduler")? {
        check_scheduler(&s)?;
        l.scheduler = s;
    }
    if let Some(h) = p.flag("HealthCheck")? {
        l.health_check = h;
    }
    let delay = p.in_range("DelayLoop", 5, 300)?;
    let timeout = p.in_range("ConnectTimeout", 2, 60)?;
    if let Some(d) = delay {
        l.delay_loop = d;
    }
    if let Some(t) = timeout {
        l.connect_timeout = t;
    }
    if let Some(v) = p.in_range("HealthyThreshold", 1, 10)? {
        l.healthy_threshold = v;
    }
    if let Some(v) = p.in_range("UnhealthyThreshold", 1, 10)? {
        l.unhealthy_threshold = v;
    }
    if let Some(f) = p.flag("FailoverSwitch")? {
        l.failover_switch = f;
    }
    Ok(l)
}

/// `ConnectTimeout` below `DelayLoop`, compared when a call sends either.
fn check_timeout_below_delay(p: &Params<'_>, l: &L4Conf, both_required: bool) -> Result<(), ApiError> {
    let sent_delay = p.has("DelayLoop");
    let sent_timeout = p.has("ConnectTimeout");
    let compare = if both_required {
        sent_delay && sent_timeout
    } else {
        sent_delay || sent_timeout
    };
    if compare && l.connect_timeout >= l.delay_loop {
        return Err(invalid_value(
            "ConnectTimeout",
            format!("{} must be less than DelayLoop {}", l.connect_timeout, l.delay_loop),
        ));
    }
    Ok(())
}

/// The UDP probe parameters over `base`, with the PING/PORT rules.
fn udp_probe(p: &Params<'_>, mut l: L4Conf) -> Result<L4Conf, ApiError> {
    if let Some(t) = p.str("CheckType")? {
        match t.as_str() {
            "PORT" | "PING" => l.check_type = t,
            other => return Err(invalid_value("CheckType", format!("`{other}` is not PORT or PING"))),
        }
    }
    let port_fields = ["CheckPort", "ContextType", "SendContext", "RecvContext"];
    if l.check_type == "PING" {
        if let Some(f) = port_fields.iter().find(|f| p.has(f)) {
            return Err(conflict(format!("`{f}` applies to CheckType PORT, not PING.")));
        }
        l.check_port = None;
        l.context_type = None;
        l.send_context = None;
        l.recv_context = None;
        return Ok(l);
    }
    if let Some(port) = p.int("CheckPort")? {
        l.check_port = Some(check_port("CheckPort", port)?);
    }
    if let Some(c) = p.str("ContextType")? {
        if c != "TEXT" {
            return Err(invalid_value("ContextType", format!("`{c}` is not TEXT")));
        }
        l.context_type = Some(c);
    }
    let send = p.str("SendContext")?;
    let recv = p.str("RecvContext")?;
    check_context("SendContext", &send)?;
    check_context("RecvContext", &recv)?;
    if (send.is_some() || recv.is_some()) && l.context_type.is_none() {
        return Err(ApiError::missing_parameter("ContextType"));
    }
    if send.is_some() {
        l.send_context = send;
    }
    if recv.is_some() {
        l.recv_context = recv;
    }
    Ok(l)
}

fn l4_defaults() -> L4Conf {
    L4Conf {
        scheduler: "rr".into(),
        real_server_type: "IP".into(),
        health_check: 0,
        delay_loop: 5,
        connect_timeout: 2,
        healthy_threshold: 3,
        unhealthy_threshold: 3,
        failover_switch: 0,
        client_ip_method: 0,
        real_server_port: None,
        check_type: "PORT".into(),
        check_port: None,
        context_type: None,
        send_context: None,
        recv_context: None,
    }
}

// ---------------------------------------------------------------------------
// actions
// ---------------------------------------------------------------------------

impl Gaap {
    fn create_http(&self, st: &mut State, ctx: &mut dyn Context, call: &Call, https: bool) -> Result<Value, ApiError> {
        let p = Params::of(call)?;
        if https {
            p.only(&[
                "ListenerName",
                "Port",
                "CertificateId",
                "ForwardProtocol",
                "ProxyId",
                "AuthType",
                "ClientCertificateId",
                "PolyClientCertificateIds",
                "GroupId",
                "Http3Supported",
            ])?;
        } else {
            p.only(&["ListenerName", "Port", "ProxyId", "GroupId"])?;
        }
        let name = name_of(&p)?;
        let port = check_port("Port", p.req_int("Port")?)?;
        let https_conf = if https {
            let certificate_id = p.req_str("CertificateId")?;
            if certificate_id.trim().is_empty() {
                return Err(ApiError::new(
                    "InvalidParameterValue.InvalidCertificateId",
                    "The certificate is not available.",
                ));
            }
            let forward_protocol = p.req_str("ForwardProtocol")?;
            if forward_protocol != "HTTP" && forward_protocol != "HTTPS" {
                return Err(invalid_value(
                    "ForwardProtocol",
                    format!("`{forward_protocol}` is not HTTP or HTTPS"),
                ));
            }
            let (auth_type, client_cas, _) = https_auth(&p, 0, true)?;
            let http3 = p.flag("Http3Supported")?.unwrap_or(0) == 1;
            Some(HttpsConf {
                certificate_id,
                forward_protocol,
                auth_type,
                client_cas,
                http3,
                tls_versions: TLS_VERSIONS.iter().map(|v| v.to_string()).collect(),
                tls_ciphers: DEFAULT_TLS_CIPHERS.into(),
            })
        } else {
            None
        };
        let (instance, group) = st.instance(&p)?;
        st.ensure_idle(&instance)?;
        st.ensure_quota(&instance, 1)?;
        st.ensure_port_free(&instance, Space::Tcp, port)?;
        if https_conf.as_ref().is_some_and(|h| h.http3) {
            st.ensure_port_free(&instance, Space::Udp, port)?;
        }
        let kind = if https { Kind::Https } else { Kind::Http };
        let config = Config {
            name,
            https: https_conf,
            l4: None,
            bindings: Vec::new(),
        };
        let t = create_task(ctx, call.now);
        let id = st.insert(&instance, group, kind, port, config, t);
        Ok(json!({ "ListenerId": id }))
    }

    fn create_l4(&self, st: &mut State, ctx: &mut dyn Context, call: &Call, kind: Kind) -> Result<Value, ApiError> {
        let p = Params::of(call)?;
        let mut allowed = vec![
            "ListenerName",
            "Ports",
            "Scheduler",
            "RealServerType",
            "ProxyId",
            "GroupId",
            "DelayLoop",
            "ConnectTimeout",
            "HealthyThreshold",
            "UnhealthyThreshold",
            "FailoverSwitch",
            "HealthCheck",
            "RealServerPorts",
        ];
        if kind == Kind::Tcp {
            allowed.push("ClientIPMethod");
        } else {
            allowed.extend(["CheckType", "CheckPort", "ContextType", "SendContext", "RecvContext"]);
        }
        p.only(&allowed)?;
        let name = name_of(&p)?;
        if !p.has("Ports") {
            return Err(ApiError::missing_parameter("Ports"));
        }
        let ports = p.int_list("Ports")?;
        if ports.is_empty() {
            return Err(invalid_value("Ports", "the list is empty"));
        }
        for (i, port) in ports.iter().enumerate() {
            check_port("Ports", *port)?;
            if ports[..i].contains(port) {
                return Err(ApiError::new(
                    "InvalidParameterValue.DuplicatedListenerPort",
                    format!("Port {port} appears twice in Ports."),
                ));
            }
        }
        let scheduler = p.req_str("Scheduler")?;
        check_scheduler(&scheduler)?;
        let real_server_type = p.req_str("RealServerType")?;
        check_real_server_type(&real_server_type)?;
        if kind == Kind::Tcp && !p.has("HealthCheck") {
            return Err(ApiError::missing_parameter("HealthCheck"));
        }
        let base = L4Conf {
            real_server_type,
            ..l4_defaults()
        };
        let mut l = l4_health(&p, &base)?;
        check_timeout_below_delay(&p, &l, true)?;
        if l.failover_switch == 1 && l.real_server_type == "DOMAIN" {
            return Err(conflict("FailoverSwitch cannot be used with RealServerType DOMAIN."));
        }
        if kind == Kind::Tcp {
            l.client_ip_method = p.flag("ClientIPMethod")?.unwrap_or(0);
        } else {
            l = udp_probe(&p, l)?;
        }
        let real_server_ports = p.int_list("RealServerPorts")?;
        let (instance, group) = st.instance(&p)?;
        if !real_server_ports.is_empty() {
            if !group {
                return Err(ApiError::new(
                    "InvalidParameter",
                    "RealServerPorts applies to connection groups and version 1 connections only.",
                ));
            }
            if real_server_ports.len() != ports.len() {
                return Err(invalid_value("RealServerPorts", "must have one entry per port"));
            }
            for port in &real_server_ports {
                check_port("RealServerPorts", *port)?;
            }
        }
        st.ensure_idle(&instance)?;
        st.ensure_quota(&instance, ports.len())?;
        let space = if kind == Kind::Tcp { Space::Tcp } else { Space::Udp };
        for port in &ports {
            st.ensure_port_free(&instance, space, *port)?;
        }
        let mut ids = Vec::with_capacity(ports.len());
        for (i, port) in ports.iter().enumerate() {
            let mut conf = l.clone();
            conf.real_server_port = real_server_ports.get(i).copied();
            let config = Config {
                name: name.clone(),
                https: None,
                l4: Some(conf),
                bindings: Vec::new(),
            };
            let t = create_task(ctx, call.now);
            ids.push(st.insert(&instance, group, kind, *port, config, t));
        }
        Ok(json!({ "ListenerIds": ids }))
    }

    fn describe(&self, st: &State, call: &Call, kind: Kind) -> Result<Value, ApiError> {
        let p = Params::of(call)?;
        let mut allowed = vec![
            "ProxyId",
            "GroupId",
            "ListenerId",
            "ListenerName",
            "Port",
            "Offset",
            "Limit",
            "SearchValue",
        ];
        if kind == Kind::Https {
            allowed.push("Http3Supported");
        }
        p.only(&allowed)?;
        let proxy = p.str("ProxyId")?;
        let group = p.str("GroupId")?;
        let listener_id = p.str("ListenerId")?;
        if proxy.is_some() && group.is_some() {
            return Err(conflict("ProxyId and GroupId cannot be set together."));
        }
        if proxy.is_none() && group.is_none() && listener_id.is_none() {
            return Err(ApiError::missing_parameter("ProxyId, GroupId or ListenerId"));
        }
        let instance = match (proxy, group) {
            (Some(id), None) | (None, Some(id)) => Some(st.instance(&p).map(|_| id)?),
            _ => None,
        };
        let name = p.str("ListenerName")?;
        let port = p.int("Port")?;
        let search = p.str("SearchValue")?;
        if search.is_some() && (name.is_some() || port.is_some()) {
            return Err(conflict("SearchValue cannot be combined with ListenerName or Port."));
        }
        let http3 = p.flag("Http3Supported")?;
        let offset = p.int("Offset")?.unwrap_or(0);
        let limit = p.int("Limit")?.unwrap_or(DEFAULT_LIMIT);
        if limit == 0 || limit > MAX_LIMIT {
            return Err(invalid_value("Limit", format!("{limit} is outside 1 to {MAX_LIMIT}")));
        }
        let mut matching: Vec<&Rec> = st
            .listeners
            .values()
            .filter(|r| r.kind == kind)
            .filter(|r| instance.as_ref().is_none_or(|i| &r.instance == i))
            .filter(|r| listener_id.as_ref().is_none_or(|id| &r.id == id))
            .filter(|r| name.as_ref().is_none_or(|n| &r.config.name == n))
            .filter(|r| port.is_none_or(|p| r.port == p))
            .filter(|r| http3.is_none_or(|h| r.http3() == (h == 1)))
            .filter(|r| {
                search
                    .as_ref()
                    .is_none_or(|s| r.config.name.contains(s.as_str()) || r.port.to_string().contains(s.as_str()))
            })
            .collect();
        matching.sort_by_key(|r| r.seq);
        let total = matching.len();
        let page: Vec<Value> = matching
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(Rec::record)
            .collect();
        Ok(json!({ "TotalCount": total, "ListenerSet": page }))
    }

    /// The listener a modify names, of the kind the action is for.
    fn target<'s>(&self, st: &'s State, p: &Params<'_>, kind: Kind) -> Result<&'s Rec, ApiError> {
        let id = p.req_str("ListenerId")?;
        let rec = st.listeners.get(&id).ok_or_else(|| listener_not_found(&id))?;
        if rec.kind != kind {
            return Err(ApiError::new(
                "InvalidParameter",
                format!("ListenerId({id}) Not Exist."),
            ));
        }
        Ok(rec)
    }

    fn modify(&self, st: &mut State, ctx: &mut dyn Context, call: &Call, kind: Kind) -> Result<Value, ApiError> {
        let p = Params::of(call)?;
        match kind {
            Kind::Http => p.only(&["ListenerId", "ListenerName", "ProxyId"])?,
            Kind::Https => p.only(&[
                "ListenerId",
                "ProxyId",
                "ListenerName",
                "ForwardProtocol",
                "CertificateId",
                "ClientCertificateId",
                "PolyClientCertificateIds",
            ])?,
            Kind::Tcp => p.only(&[
                "ListenerId",
                "ProxyId",
                "GroupId",
                "ListenerName",
                "Scheduler",
                "DelayLoop",
                "ConnectTimeout",
                "HealthCheck",
                "FailoverSwitch",
                "HealthyThreshold",
                "UnhealthyThreshold",
            ])?,
            Kind::Udp => p.only(&[
                "ListenerId",
                "ProxyId",
                "GroupId",
                "ListenerName",
                "Scheduler",
                "DelayLoop",
                "ConnectTimeout",
                "HealthCheck",
                "FailoverSwitch",
                "HealthyThreshold",
                "UnhealthyThreshold",
                "CheckType",
                "CheckPort",
                "ContextType",
                "SendContext",
                "RecvContext",
            ])?,
        }
        let rec = self.target(st, &p, kind)?;
        let id = rec.id.clone();
        // Which instance the call must name.
        match kind {
            Kind::Http => {
                if let Some(proxy) = p.str("ProxyId")? {
                    if rec.group || rec.instance != proxy {
                        return Err(listener_not_found(&id));
                    }
                }
            }
            Kind::Https => {
                if rec.group {
                    return Err(ApiError::new(
                        "FailedOperation.NotSupportProxyGroup",
                        "HTTPS listeners of a connection group cannot be modified.",
                    ));
                }
                match p.str("ProxyId")? {
                    None => return Err(ApiError::missing_parameter("ProxyId")),
                    Some(proxy) if proxy != rec.instance => return Err(listener_not_found(&id)),
                    Some(_) => {}
                }
            }
            Kind::Tcp | Kind::Udp => {
                let (instance, _) = st.instance(&p)?;
                if instance != rec.instance {
                    return Err(listener_not_found(&id));
                }
            }
        }
        let mut config = rec.config.clone();
        // ListenerName is required by the HTTP modify, optional elsewhere.
        if kind == Kind::Http || p.has("ListenerName") {
            config.name = name_of(&p)?;
        }
        if let Some(h) = config.https.as_mut() {
            if let Some(fp) = p.str("ForwardProtocol")? {
                if fp != "HTTP" && fp != "HTTPS" {
                    return Err(invalid_value("ForwardProtocol", format!("`{fp}` is not HTTP or HTTPS")));
                }
                h.forward_protocol = fp;
            }
            if let Some(cert) = p.str("CertificateId")? {
                if cert.trim().is_empty() {
                    return Err(ApiError::new(
                        "InvalidParameterValue.InvalidCertificateId",
                        "The certificate is not available.",
                    ));
                }
                h.certificate_id = cert;
            }
            let (_, cas, cas_sent) = https_auth(&p, h.auth_type, false)?;
            if cas_sent {
                h.client_cas = cas;
            }
        }
        if let Some(l) = config.l4.as_ref() {
            let mut n = l4_health(&p, l)?;
            check_timeout_below_delay(&p, &n, false)?;
            if n.real_server_type == "DOMAIN" {
                if p.has("Scheduler") && (n.scheduler == "wrr" || n.scheduler == "lrtt") {
                    return Err(conflict("Listeners with DOMAIN origins cannot use wrr or lrtt."));
                }
                if n.failover_switch == 1 {
                    return Err(conflict("FailoverSwitch cannot be used with RealServerType DOMAIN."));
                }
            }
            if kind == Kind::Udp {
                n = udp_probe(&p, n)?;
            }
            config.l4 = Some(n);
        }
        let instance = rec.instance.clone();
        let backup = rec.config.clone();
        st.ensure_idle(&instance)?;
        let delay = ctx.timing().update;
        let t = task(ctx, call.now, TaskKind::Modify, delay, Some(backup));
        if let Some(rec) = st.listeners.get_mut(&id) {
            rec.config = config;
            rec.task = Some(t);
        }
        Ok(json!({}))
    }

    fn delete(&self, st: &mut State, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
        let p = Params::of(call)?;
        p.only(&["ListenerIds", "Force", "ProxyId", "GroupId"])?;
        if !p.has("ListenerIds") {
            return Err(ApiError::missing_parameter("ListenerIds"));
        }
        let ids = p.str_list("ListenerIds")?;
        if ids.is_empty() {
            return Err(invalid_value("ListenerIds", "the list is empty"));
        }
        let force = p.flag("Force")?.ok_or_else(|| ApiError::missing_parameter("Force"))?;
        let (instance, _) = st.instance(&p)?;
        st.ensure_idle(&instance)?;
        let mut succeeded = Vec::new();
        let mut invalid = Vec::new();
        let delay = ctx.timing().delete;
        for id in ids {
            let known = st.listeners.get(&id).is_some_and(|r| r.instance == instance);
            if !known {
                invalid.push(id);
                continue;
            }
            // Force 0 refuses a listener with origin servers bound, on
            // itself (layer 4) or on one of its rules (layer 7).
            let bound = st.listeners.get(&id).is_some_and(|r| !r.config.bindings.is_empty())
                || st.routing.listener_has_bindings(&id);
            if force == 0 && bound {
                return Err(ApiError::new(
                    "FailedOperation.RealServerAlreadyBound",
                    format!("The listener `{id}` has origin servers bound; delete it with Force 1."),
                ));
            }
            let t = task(ctx, call.now, TaskKind::Delete, delay, None);
            if let Some(rec) = st.listeners.get_mut(&id) {
                rec.task = Some(t);
            }
            succeeded.push(id);
        }
        Ok(json!({
            "OperationFailedListenerSet": [],
            "OperationSucceedListenerSet": succeeded,
            "InvalidStatusListenerSet": invalid,
        }))
    }
}

impl Gaap {
    /// `SetTlsVersion`: `ListenerId` of an HTTPS listener, with
    /// `TLSSupportVersion` and/or `TLSCiphers` (both optional in the SDK
    /// model; at least one is needed for the call to mean anything). The
    /// instance must offer the choice (`IsSupportTLSChoice` 1).
    fn set_tls_version(&self, st: &mut State, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
        let p = Params::of(call)?;
        p.only(&["ListenerId", "TLSSupportVersion", "TLSCiphers"])?;
        let id = p.req_str("ListenerId")?;
        let versions = p.str_list("TLSSupportVersion")?;
        let ciphers = p.str("TLSCiphers")?;
        if versions.is_empty() && ciphers.is_none() {
            return Err(ApiError::missing_parameter("TLSSupportVersion or TLSCiphers"));
        }
        for (i, v) in versions.iter().enumerate() {
            if !TLS_VERSIONS.contains(&v.as_str()) {
                return Err(invalid_value(
                    "TLSSupportVersion",
                    format!("`{v}` is not one of {}", TLS_VERSIONS.join(", ")),
                ));
            }
            if versions[..i].contains(v) {
                return Err(invalid_value("TLSSupportVersion", format!("`{v}` is repeated")));
            }
        }
        if let Some(c) = ciphers.as_deref().filter(|c| !TLS_CIPHERS.contains(c)) {
            return Err(invalid_value(
                "TLSCiphers",
                format!("`{c}` is not one of {}", TLS_CIPHERS.join(", ")),
            ));
        }
        let rec = st.listeners.get(&id).ok_or_else(|| listener_not_found(&id))?;
        if rec.kind != Kind::Https {
            return Err(invalid_value(
                "ListenerId",
                format!(
                    "`{id}` is a {} listener; TLS versions are set on HTTPS listeners",
                    rec.kind.word()
                ),
            ));
        }
        if st.no_tls_choice.contains(&rec.instance) {
            return Err(ApiError::new(
                "ResourceUnavailable",
                format!(
                    "The connection `{}` does not support choosing TLS versions and ciphers (IsSupportTLSChoice is 0).",
                    rec.instance
                ),
            ));
        }
        let instance = rec.instance.clone();
        st.ensure_idle(&instance)?;
        let delay = ctx.timing().update;
        let t = task(ctx, call.now, TaskKind::Modify, delay, None);
        let rec = st.listeners.get_mut(&id).ok_or_else(|| listener_not_found(&id))?;
        let backup = rec.config.clone();
        if let Some(h) = rec.config.https.as_mut() {
            if !versions.is_empty() {
                let mut sorted = versions;
                sorted.sort_by_key(|v| TLS_VERSIONS.iter().position(|k| k == v));
                h.tls_versions = sorted;
            }
            if let Some(c) = ciphers {
                h.tls_ciphers = c;
            }
        }
        rec.task = Some(Task {
            backup: Some(backup),
            ..t
        });
        Ok(json!({}))
    }

    fn tls_choice(st: &State, id: &str) -> u8 {
        u8::from(!st.no_tls_choice.contains(id))
    }

    /// `DescribeProxies` by `ProxyIds` (or the older `InstanceIds`): the
    /// seeded connections asked for (all when neither is given), with the
    /// fields the adapters read. Unknown IDs are left out.
    fn describe_proxies(&self, st: &State, call: &Call) -> Result<Value, ApiError> {
        let p = Params::of(call)?;
        p.only(&["ProxyIds", "InstanceIds", "Offset", "Limit"])?;
        let mut wanted = p.str_list("ProxyIds")?;
        wanted.extend(p.str_list("InstanceIds")?);
        let offset = p.int("Offset")?.unwrap_or(0) as usize;
        let limit = p.in_range("Limit", 1, MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT) as usize;
        let all: Vec<Value> = st
            .instances
            .iter()
            .filter(|(id, group)| !**group && (wanted.is_empty() || wanted.contains(id)))
            .map(|(id, _)| {
                json!({
                    "ProxyId": id,
                    "InstanceId": id,
                    "ProxyName": id,
                    "Status": "RUNNING",
                    "Version": "2.0",
                    "IsSupportTLSChoice": Self::tls_choice(st, id),
                })
            })
            .collect();
        let total = all.len();
        let page: Vec<Value> = all.into_iter().skip(offset).take(limit).collect();
        Ok(json!({ "TotalCount": total, "InstanceSet": page.clone(), "ProxySet": page }))
    }

    /// `DescribeProxyGroupDetails` by `GroupId`: `ResourceNotFound` for a
    /// group that was not seeded.
    fn describe_group(&self, st: &State, call: &Call) -> Result<Value, ApiError> {
        let p = Params::of(call)?;
        p.only(&["GroupId"])?;
        let id = p.req_str("GroupId")?;
        if st.instances.get(&id) != Some(&true) {
            return Err(ApiError::new(
                "ResourceNotFound",
                format!("The connection group `{id}` does not exist."),
            ));
        }
        Ok(json!({
            "ProxyGroupDetail": {
                "GroupId": id,
                "GroupName": id,
                "Status": 0,
                "Version": "2.0",
                "IsSupportTLSChoice": Self::tls_choice(st, &id),
            }
        }))
    }
}

impl Service for Gaap {
    fn family(&self) -> Family {
        Family::Tencent
    }

    fn version(&self) -> &'static str {
        "2018-05-29"
    }

    fn name(&self) -> &'static str {
        "gaap"
    }

    fn seed(&self, instance: InstanceSeed) {
        if let Ok(mut st) = self.state.lock() {
            let group = instance.id.starts_with("lg-");
            st.instances.insert(instance.id, group);
        }
    }

    fn handle(&self, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
        let mut st = self
            .state
            .lock()
            .map_err(|_| ApiError::internal("The emulated GAAP state is unavailable."))?;
        st.settle(call.now);
        match call.action.as_str() {
            "CreateHTTPListener" => self.create_http(&mut st, ctx, call, false),
            "CreateHTTPSListener" => self.create_http(&mut st, ctx, call, true),
            "CreateTCPListeners" => self.create_l4(&mut st, ctx, call, Kind::Tcp),
            "CreateUDPListeners" => self.create_l4(&mut st, ctx, call, Kind::Udp),
            "DescribeHTTPListeners" => self.describe(&st, call, Kind::Http),
            "DescribeHTTPSListeners" => self.describe(&st, call, Kind::Https),
            "DescribeTCPListeners" => self.describe(&st, call, Kind::Tcp),
            "DescribeUDPListeners" => self.describe(&st, call, Kind::Udp),
            "ModifyHTTPListenerAttribute" => self.modify(&mut st, ctx, call, Kind::Http),
            "ModifyHTTPSListenerAttribute" => self.modify(&mut st, ctx, call, Kind::Https),
            "ModifyTCPListenerAttribute" => self.modify(&mut st, ctx, call, Kind::Tcp),
            "ModifyUDPListenerAttribute" => self.modify(&mut st, ctx, call, Kind::Udp),
            "DeleteListeners" => self.delete(&mut st, ctx, call),
            "SetTlsVersion" => self.set_tls_version(&mut st, ctx, call),
            "DescribeProxies" => self.describe_proxies(&st, call),
            "DescribeProxyGroupDetails" => self.describe_group(&st, call),
            "CreateDomain" => rules::create_domain(&mut st, ctx, call),
            "ModifyDomain" => rules::modify_domain(&mut st, ctx, call),
            "DeleteDomain" => rules::delete_domain(&mut st, ctx, call),
            "ModifyCertificate" => rules::modify_certificate(&mut st, ctx, call),
            "CreateRule" => rules::create_rule(&mut st, ctx, call),
            "ModifyRuleAttribute" => rules::modify_rule(&mut st, ctx, call),
            "DeleteRule" => rules::delete_rule(&mut st, ctx, call),
            "DescribeRules" => rules::describe_rules(&st, call),
            "DescribeRulesByRuleIds" => rules::describe_rules_by_ids(&st, call),
            "AddRealServers" => rules::add_real_servers(&mut st, call),
            "DescribeRealServers" => rules::describe_real_servers(&st, call),
            "RemoveRealServers" => rules::remove_real_servers(&mut st, call),
            "BindRuleRealServers" => rules::bind_rule(&mut st, ctx, call),
            "DescribeRuleRealServers" => rules::describe_rule_real_servers(&st, call),
            "BindListenerRealServers" => rules::bind_listener(&mut st, ctx, call),
            "DescribeListenerRealServers" => rules::describe_listener_real_servers(&st, call),
            other => Err(ApiError::unknown_action(Family::Tencent, other)),
        }
    }

    fn listener_counts(&self) -> BTreeMap<String, usize> {
        let Ok(mut st) = self.state.lock() else {
            return BTreeMap::new();
        };
        st.settle(Instant::now());
        let mut out: BTreeMap<String, usize> = st.instances.keys().map(|k| (k.clone(), 0)).collect();
        for rec in st.listeners.values() {
            *out.entry(rec.instance.clone()).or_insert(0) += 1;
        }
        out
    }

    fn resolve(&self, query: &ResolveQuery, now: Instant) -> Option<Result<Value, ApiError>> {
        let mut st = match self.state.lock() {
            Ok(st) => st,
            Err(_) => return Some(Err(ApiError::internal("The emulated GAAP state is unavailable."))),
        };
        st.settle(now);
        Some(rules::resolve(&st, query))
    }
}

#[path = "gaap_rules.rs"]
mod rules;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ManualContext;
    use crate::service::Timing;

    const LINK: &str = "link-emu00001";
    const GROUP: &str = "lg-emu00001";

    struct Fixture {
        gaap: Gaap,
        ctx: ManualContext,
        now: Instant,
    }

    impl Fixture {
        fn new() -> Self {
            let gaap = Gaap::new();
            for id in [LINK, GROUP] {
                gaap.seed(InstanceSeed {
                    id: id.into(),
                    ..InstanceSeed::default()
                });
            }
            Fixture {
                gaap,
                ctx: ManualContext::new(Timing {
                    create: Duration::from_millis(100),
                    update: Duration::from_millis(100),
                    delete: Duration::from_millis(100),
                }),
                now: Instant::now(),
            }
        }

        fn call(&mut self, action: &str, params: Value) -> Result<Value, ApiError> {
            let call = Call {
                action: action.into(),
                params,
                flat: BTreeMap::new(),
                region: None,
                request_id: "req-1".into(),
                now: self.now,
            };
            self.gaap.handle(&mut self.ctx, &call)
        }

        fn code(&mut self, action: &str, params: Value) -> String {
            match self.call(action, params) {
                Ok(v) => panic!("{action} succeeded: {v}"),
                Err(e) => e.code,
            }
        }

        fn later(&mut self) {
            self.now += Duration::from_millis(150);
        }

        fn status(&mut self, action: &str, id: &str) -> Option<u64> {
            let v = self
                .call(action, json!({"ProxyId": LINK, "ListenerId": id}))
                .expect("describe");
            v["ListenerSet"]
                .as_array()
                .and_then(|s| s.first())
                .and_then(|r| r["ListenerStatus"].as_u64())
        }

        fn tcp(&mut self, ports: &[u64]) -> Vec<String> {
            let v = self
                .call(
                    "CreateTCPListeners",
                    json!({"ProxyId": LINK, "ListenerName": "t", "Ports": ports, "Scheduler": "rr",
                           "RealServerType": "IP", "HealthCheck": 0}),
                )
                .expect("create tcp");
            self.later();
            v["ListenerIds"]
                .as_array()
                .map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect())
                .unwrap_or_default()
        }
    }

    fn https_params() -> Value {
        json!({"ProxyId": LINK, "ListenerName": "web", "Port": 443, "CertificateId": "cert-1",
               "ForwardProtocol": "HTTP"})
    }

    fn with(mut base: Value, extra: Value) -> Value {
        if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        base
    }

    fn without(mut base: Value, key: &str) -> Value {
        if let Some(b) = base.as_object_mut() {
            b.remove(key);
        }
        base
    }

    #[test]
    fn created_listener_goes_from_creating_to_running() {
        let mut f = Fixture::new();
        let v = f
            .call(
                "CreateHTTPListener",
                json!({"ProxyId": LINK, "ListenerName": "h", "Port": "80"}),
            )
            .expect("create");
        let id = v["ListenerId"].as_str().expect("id").to_string();
        assert!(id.starts_with("listener-") && id.len() == "listener-".len() + 8);
        assert_eq!(f.status("DescribeHTTPListeners", &id), Some(1));
        f.later();
        assert_eq!(f.status("DescribeHTTPListeners", &id), Some(0));
        assert_eq!(f.gaap.listener_counts().get(LINK), Some(&1));
    }

    #[test]
    fn proxy_and_group_together_or_neither() {
        let mut f = Fixture::new();
        let both = json!({"ProxyId": LINK, "GroupId": GROUP, "ListenerName": "h", "Port": 80});
        assert_eq!(
            f.code("CreateHTTPListener", both),
            "InvalidParameter.ConflictParameters"
        );
        let neither = json!({"ListenerName": "h", "Port": 80});
        assert_eq!(f.code("CreateHTTPListener", neither), "MissingParameter");
    }

    #[test]
    fn unknown_connection_is_resource_not_found() {
        let mut f = Fixture::new();
        let p = json!({"ProxyId": "link-nothere", "ListenerName": "h", "Port": 80});
        assert_eq!(f.code("CreateHTTPListener", p), "ResourceNotFound");
        // A group ID sent as ProxyId names no connection.
        let p = json!({"ProxyId": GROUP, "ListenerName": "h", "Port": 80});
        assert_eq!(f.code("CreateHTTPListener", p), "ResourceNotFound");
    }

    #[test]
    fn https_requires_certificate_and_forward_protocol() {
        let mut f = Fixture::new();
        assert_eq!(
            f.code("CreateHTTPSListener", without(https_params(), "CertificateId")),
            "MissingParameter"
        );
        assert_eq!(
            f.code("CreateHTTPSListener", without(https_params(), "ForwardProtocol")),
            "MissingParameter"
        );
        assert_eq!(
            f.code(
                "CreateHTTPSListener",
                with(https_params(), json!({"ForwardProtocol": "TCP"}))
            ),
            "InvalidParameterValue"
        );
    }

    #[test]
    fn client_certificate_id_and_poly_ids_together_are_refused_not_merged() {
        // Regression: both used to be merged into one CA list. The API
        // documents them as alternatives ("set this or the other").
        let mut f = Fixture::new();
        let both = json!({"AuthType": 1, "ClientCertificateId": "ca-0", "PolyClientCertificateIds": ["ca-1"]});
        assert_eq!(
            f.code("CreateHTTPSListener", with(https_params(), both)),
            "InvalidParameter.ConflictParameters"
        );
        let single = json!({"AuthType": 1, "ClientCertificateId": "ca-0"});
        f.call("CreateHTTPSListener", with(https_params(), single))
            .expect("one CA alone is fine");
    }

    #[test]
    fn mutual_needs_a_ca_and_cas_need_mutual() {
        let mut f = Fixture::new();
        assert_eq!(
            f.code("CreateHTTPSListener", with(https_params(), json!({"AuthType": 1}))),
            "MissingParameter"
        );
        assert_eq!(
            f.code(
                "CreateHTTPSListener",
                with(
                    https_params(),
                    json!({"AuthType": 0, "PolyClientCertificateIds": ["ca-1"]})
                )
            ),
            "InvalidParameter.ConflictParameters"
        );
        assert_eq!(
            f.code("CreateHTTPSListener", with(https_params(), json!({"AuthType": 2}))),
            "InvalidParameterValue"
        );
        f.call(
            "CreateHTTPSListener",
            with(
                https_params(),
                json!({"AuthType": 1, "PolyClientCertificateIds": ["ca-1", "ca-2"]}),
            ),
        )
        .expect("mutual with two CAs");
    }

    #[test]
    fn ports_share_spaces_and_http3_takes_the_udp_side() {
        let mut f = Fixture::new();
        f.call(
            "CreateHTTPListener",
            json!({"ProxyId": LINK, "ListenerName": "h", "Port": 80}),
        )
        .expect("http");
        f.later();
        let tcp80 = json!({"ProxyId": LINK, "ListenerName": "t", "Ports": [80], "Scheduler": "rr",
                           "RealServerType": "IP", "HealthCheck": 0});
        assert_eq!(
            f.code("CreateTCPListeners", tcp80),
            "InvalidParameterValue.DuplicatedListenerPort"
        );
        // UDP has its own space.
        f.call(
            "CreateUDPListeners",
            json!({"ProxyId": LINK, "ListenerName": "u", "Ports": [80], "Scheduler": "rr", "RealServerType": "IP"}),
        )
        .expect("udp 80");
        f.later();
        // HTTP3 on 80 needs the UDP side too.
        let h3 = with(https_params(), json!({"Port": 8443, "Http3Supported": 1}));
        f.call("CreateHTTPSListener", h3).expect("http3 on 8443");
        f.later();
        let udp8443 = json!({"ProxyId": LINK, "ListenerName": "u", "Ports": [8443], "Scheduler": "rr",
                             "RealServerType": "IP"});
        assert_eq!(
            f.code("CreateUDPListeners", udp8443),
            "InvalidParameterValue.DuplicatedListenerPort"
        );
        let h3_on_udp = with(https_params(), json!({"Port": 80, "Http3Supported": 1}));
        assert_eq!(
            f.code("CreateHTTPSListener", h3_on_udp),
            "InvalidParameterValue.DuplicatedListenerPort"
        );
        let repeated = json!({"ProxyId": LINK, "ListenerName": "t", "Ports": [9000, 9000], "Scheduler": "rr",
                              "RealServerType": "IP", "HealthCheck": 0});
        assert_eq!(
            f.code("CreateTCPListeners", repeated),
            "InvalidParameterValue.DuplicatedListenerPort"
        );
    }

    #[test]
    fn quota_is_fifty_listeners_per_connection() {
        let mut f = Fixture::new();
        let ports: Vec<u64> = (1000..1049).collect();
        assert_eq!(f.tcp(&ports).len(), 49);
        let two = json!({"ProxyId": LINK, "ListenerName": "t", "Ports": [2000, 2001], "Scheduler": "rr",
                         "RealServerType": "IP", "HealthCheck": 0});
        assert_eq!(f.code("CreateTCPListeners", two), "FailedOperation.LimitNumofListener");
        assert_eq!(f.tcp(&[2000]).len(), 1);
        assert_eq!(f.gaap.listener_counts().get(LINK), Some(&50));
    }

    #[test]
    fn layer4_value_rules() {
        let mut f = Fixture::new();
        let base = json!({"ProxyId": LINK, "ListenerName": "t", "Ports": [7000], "Scheduler": "rr",
                          "RealServerType": "IP", "HealthCheck": 1});
        let cases = [
            (json!({"Scheduler": "ip_hash"}), "InvalidParameterValue"),
            (json!({"RealServerType": "HOST"}), "InvalidParameterValue"),
            (json!({"DelayLoop": 4}), "InvalidParameterValue"),
            (json!({"DelayLoop": 301}), "InvalidParameterValue"),
            (json!({"ConnectTimeout": 1}), "InvalidParameterValue"),
            (json!({"ConnectTimeout": 61}), "InvalidParameterValue"),
            (json!({"DelayLoop": 10, "ConnectTimeout": 10}), "InvalidParameterValue"),
            (json!({"HealthyThreshold": 11}), "InvalidParameterValue"),
            (json!({"UnhealthyThreshold": 0}), "InvalidParameterValue"),
            (json!({"ClientIPMethod": 2}), "InvalidParameterValue"),
            (
                json!({"RealServerType": "DOMAIN", "FailoverSwitch": 1}),
                "InvalidParameter.ConflictParameters",
            ),
            (json!({"CheckType": "PING"}), "UnknownParameter"),
            (json!({"Ports": ["8000-8100"]}), "InvalidParameterValue"),
            (json!({"Ports": [70000]}), "InvalidParameterValue"),
        ];
        for (extra, code) in cases {
            assert_eq!(
                f.code("CreateTCPListeners", with(base.clone(), extra.clone())),
                code,
                "{extra}"
            );
        }
        assert_eq!(
            f.code("CreateTCPListeners", without(base.clone(), "Scheduler")),
            "MissingParameter"
        );
        assert_eq!(
            f.code("CreateTCPListeners", without(base.clone(), "RealServerType")),
            "MissingParameter"
        );
        assert_eq!(
            f.code("CreateTCPListeners", without(base, "HealthCheck")),
            "MissingParameter"
        );
    }

    #[test]
    fn udp_probe_rules() {
        let mut f = Fixture::new();
        let base = json!({"ProxyId": LINK, "ListenerName": "u", "Ports": [53], "Scheduler": "rr",
                          "RealServerType": "IP", "HealthCheck": 1});
        assert_eq!(
            f.code(
                "CreateUDPListeners",
                with(base.clone(), json!({"CheckType": "PING", "CheckPort": 53}))
            ),
            "InvalidParameter.ConflictParameters"
        );
        assert_eq!(
            f.code(
                "CreateUDPListeners",
                with(base.clone(), json!({"CheckType": "PORT", "ContextType": "HEX"}))
            ),
            "InvalidParameterValue"
        );
        assert_eq!(
            f.code("CreateUDPListeners", with(base.clone(), json!({"ClientIPMethod": 1}))),
            "UnknownParameter"
        );
        let v = f
            .call(
                "CreateUDPListeners",
                with(
                    base,
                    json!({"CheckType": "PORT", "CheckPort": 5353, "ContextType": "TEXT", "SendContext": "a", "RecvContext": "b"}),
                ),
            )
            .expect("port check");
        let id = v["ListenerIds"][0].as_str().expect("id").to_string();
        let d = f
            .call("DescribeUDPListeners", json!({"ProxyId": LINK}))
            .expect("describe");
        let r = &d["ListenerSet"][0];
        assert_eq!(
            (r["ListenerId"].as_str(), r["CheckPort"].as_u64()),
            (Some(id.as_str()), Some(5353))
        );
        assert_eq!(r["SendContext"], "a");
    }

    #[test]
    fn writes_while_a_listener_is_busy_are_refused() {
        let mut f = Fixture::new();
        f.call(
            "CreateHTTPListener",
            json!({"ProxyId": LINK, "ListenerName": "h", "Port": 80}),
        )
        .expect("create");
        let again = json!({"ProxyId": LINK, "ListenerName": "h2", "Port": 81});
        assert_eq!(
            f.code("CreateHTTPListener", again.clone()),
            "FailedOperation.ListenerHasTask"
        );
        // Another instance is not held up.
        f.call(
            "CreateHTTPListener",
            json!({"GroupId": GROUP, "ListenerName": "g", "Port": 81}),
        )
        .expect("group create");
        f.later();
        f.call("CreateHTTPListener", again).expect("after the task");
    }

    #[test]
    fn modify_changes_mutable_fields_and_refuses_others() {
        let mut f = Fixture::new();
        let v = f
            .call(
                "CreateHTTPSListener",
                with(
                    https_params(),
                    json!({"Http3Supported": 1, "AuthType": 1, "PolyClientCertificateIds": ["ca-1"]}),
                ),
            )
            .expect("https");
        let id = v["ListenerId"].as_str().expect("id").to_string();
        f.later();
        let http3 = json!({"ListenerId": id, "ProxyId": LINK, "Http3Supported": 0});
        assert_eq!(f.code("ModifyHTTPSListenerAttribute", http3), "UnknownParameter");
        let port = json!({"ListenerId": id, "ProxyId": LINK, "Port": 444});
        assert_eq!(f.code("ModifyHTTPSListenerAttribute", port), "UnknownParameter");
        let empty_cas = json!({"ListenerId": id, "ProxyId": LINK, "PolyClientCertificateIds": []});
        assert_eq!(f.code("ModifyHTTPSListenerAttribute", empty_cas), "MissingParameter");
        f.call(
            "ModifyHTTPSListenerAttribute",
            json!({"ListenerId": id, "ProxyId": LINK, "ListenerName": "renamed", "PolyClientCertificateIds": ["ca-1", "ca-2"]}),
        )
        .expect("modify");
        assert_eq!(f.status("DescribeHTTPSListeners", &id), Some(4));
        let busy = json!({"ListenerId": id, "ProxyId": LINK, "ListenerName": "again"});
        assert_eq!(
            f.code("ModifyHTTPSListenerAttribute", busy),
            "FailedOperation.ListenerHasTask"
        );
        f.later();
        let d = f
            .call("DescribeHTTPSListeners", json!({"ProxyId": LINK, "ListenerId": id}))
            .expect("describe");
        let r = &d["ListenerSet"][0];
        assert_eq!(r["ListenerStatus"], 0);
        assert_eq!(r["ListenerName"], "renamed");
        assert_eq!(r["PolyClientCertificateAliasInfo"].as_array().map(Vec::len), Some(2));
        assert_eq!(r["Http3Supported"], 1);
    }

    #[test]
    fn modify_rules_use_the_values_in_effect() {
        let mut f = Fixture::new();
        let v = f
            .call(
                "CreateTCPListeners",
                json!({"ProxyId": LINK, "ListenerName": "t", "Ports": [80], "Scheduler": "rr",
                       "RealServerType": "DOMAIN", "HealthCheck": 1, "DelayLoop": 10, "ConnectTimeout": 5}),
            )
            .expect("tcp");
        let id = v["ListenerIds"][0].as_str().expect("id").to_string();
        f.later();
        let m = |extra: Value| with(json!({"ListenerId": id, "ProxyId": LINK}), extra);
        assert_eq!(
            f.code("ModifyTCPListenerAttribute", m(json!({"ConnectTimeout": 10}))),
            "InvalidParameterValue"
        );
        assert_eq!(
            f.code("ModifyTCPListenerAttribute", m(json!({"Scheduler": "wrr"}))),
            "InvalidParameter.ConflictParameters"
        );
        assert_eq!(
            f.code("ModifyTCPListenerAttribute", m(json!({"FailoverSwitch": 1}))),
            "InvalidParameter.ConflictParameters"
        );
        assert_eq!(
            f.code("ModifyTCPListenerAttribute", m(json!({"ClientIPMethod": 1}))),
            "UnknownParameter"
        );
        assert_eq!(
            f.code("ModifyTCPListenerAttribute", json!({"ListenerId": id})),
            "MissingParameter"
        );
        assert_eq!(
            f.code(
                "ModifyTCPListenerAttribute",
                json!({"ListenerId": "listener-nothere", "ProxyId": LINK})
            ),
            "ResourceNotFound"
        );
        assert_eq!(
            f.code("ModifyUDPListenerAttribute", json!({"ListenerId": id, "ProxyId": LINK})),
            "InvalidParameter"
        );
        f.call(
            "ModifyTCPListenerAttribute",
            m(json!({"Scheduler": "lc", "DelayLoop": 20})),
        )
        .expect("modify");
    }

    #[test]
    fn https_on_a_group_cannot_be_modified() {
        let mut f = Fixture::new();
        let v = f
            .call(
                "CreateHTTPSListener",
                json!({"GroupId": GROUP, "ListenerName": "g", "Port": 443, "CertificateId": "c", "ForwardProtocol": "HTTPS"}),
            )
            .expect("https on group");
        let id = v["ListenerId"].as_str().expect("id").to_string();
        f.later();
        assert_eq!(
            f.code(
                "ModifyHTTPSListenerAttribute",
                json!({"ListenerId": id, "ListenerName": "x"})
            ),
            "FailedOperation.NotSupportProxyGroup"
        );
    }

    #[test]
    fn delete_is_asynchronous_and_unknown_ids_are_reported_not_failed() {
        let mut f = Fixture::new();
        let ids = f.tcp(&[80, 81]);
        let v = f
            .call(
                "DeleteListeners",
                json!({"ProxyId": LINK, "ListenerIds": [ids[0], "listener-nothere"], "Force": 1}),
            )
            .expect("delete");
        assert_eq!(v["OperationSucceedListenerSet"], json!([ids[0]]));
        assert_eq!(v["InvalidStatusListenerSet"], json!(["listener-nothere"]));
        assert_eq!(f.status("DescribeTCPListeners", &ids[0]), Some(2));
        f.later();
        assert_eq!(f.status("DescribeTCPListeners", &ids[0]), None);
        assert_eq!(f.gaap.listener_counts().get(LINK), Some(&1));
        assert_eq!(
            f.code("DeleteListeners", json!({"ProxyId": LINK, "ListenerIds": [ids[1]]})),
            "MissingParameter"
        );
    }

    #[test]
    fn failed_tasks_undo_their_work() {
        let mut f = Fixture::new();
        f.ctx = f.ctx.clone().failing_tasks(1);
        f.call(
            "CreateHTTPListener",
            json!({"ProxyId": LINK, "ListenerName": "h", "Port": 80}),
        )
        .expect("accepted");
        f.later();
        let d = f
            .call("DescribeHTTPListeners", json!({"ProxyId": LINK}))
            .expect("describe");
        assert_eq!(d["TotalCount"], 0);

        let ids = f.tcp(&[81]);
        f.ctx.failing_tasks = 1;
        f.call(
            "ModifyTCPListenerAttribute",
            json!({"ListenerId": ids[0], "ProxyId": LINK, "ListenerName": "new"}),
        )
        .expect("accepted");
        f.later();
        let d = f
            .call("DescribeTCPListeners", json!({"ProxyId": LINK}))
            .expect("describe");
        assert_eq!(d["ListenerSet"][0]["ListenerName"], "t");

        f.ctx.failing_tasks = 1;
        f.call(
            "DeleteListeners",
            json!({"ProxyId": LINK, "ListenerIds": [ids[0]], "Force": 1}),
        )
        .expect("accepted");
        f.later();
        assert_eq!(f.status("DescribeTCPListeners", &ids[0]), Some(0));
    }

    #[test]
    fn describe_filters_and_pages() {
        let mut f = Fixture::new();
        let ids = f.tcp(&[80, 81, 82]);
        let page = f
            .call(
                "DescribeTCPListeners",
                json!({"ProxyId": LINK, "Offset": 1, "Limit": 1}),
            )
            .expect("page");
        assert_eq!(page["TotalCount"], 3);
        assert_eq!(page["ListenerSet"][0]["ListenerId"].as_str(), Some(ids[1].as_str()));
        let by_port = f
            .call("DescribeTCPListeners", json!({"ProxyId": LINK, "Port": 82}))
            .expect("port");
        assert_eq!(by_port["TotalCount"], 1);
        assert_eq!(f.code("DescribeTCPListeners", json!({})), "MissingParameter");
        assert_eq!(
            f.code("DescribeTCPListeners", json!({"ProxyId": LINK, "Limit": 101})),
            "InvalidParameterValue"
        );
        assert_eq!(
            f.code(
                "DescribeTCPListeners",
                json!({"ProxyId": LINK, "SearchValue": "8", "Port": 80})
            ),
            "InvalidParameter.ConflictParameters"
        );
        let none = f
            .call("DescribeHTTPListeners", json!({"ProxyId": LINK, "ListenerId": ids[0]}))
            .expect("other kind");
        assert_eq!(none["TotalCount"], 0);
        assert_eq!(f.code("DescribeUDPListener", json!({})), "InvalidAction");
    }
    #[test]
    fn set_tls_version_follows_the_vendor_rules_and_is_read_back() {
        let mut f = Fixture::new();
        let id = f.call("CreateHTTPSListener", https_params()).expect("https")["ListenerId"]
            .as_str()
            .map(String::from)
            .unwrap_or_default();
        f.later();
        let rec = f
            .call("DescribeHTTPSListeners", json!({"ProxyId": LINK, "ListenerId": id}))
            .expect("describe");
        assert_eq!(rec["ListenerSet"][0]["TLSSupportVersion"], json!(TLS_VERSIONS));
        assert_eq!(rec["ListenerSet"][0]["TLSCiphers"], json!("GAAP_TLS_CIPHERS_WIDE"));
        assert_eq!(f.code("SetTlsVersion", json!({"ListenerId": id})), "MissingParameter");
        assert_eq!(
            f.code(
                "SetTlsVersion",
                json!({"ListenerId": id, "TLSSupportVersion": ["SSLv3"]})
            ),
            "InvalidParameterValue"
        );
        assert_eq!(
            f.code(
                "SetTlsVersion",
                json!({"ListenerId": id, "TLSCiphers": "GAAP_TLS_CIPHERS_NONE"})
            ),
            "InvalidParameterValue"
        );
        assert_eq!(
            f.code(
                "SetTlsVersion",
                json!({"ListenerId": id, "TLSCiphers": "GAAP_TLS_CIPHERS_STRICT", "ProxyId": LINK})
            ),
            "UnknownParameter"
        );
        let tcp = f.tcp(&[81]);
        assert_eq!(
            f.code(
                "SetTlsVersion",
                json!({"ListenerId": tcp[0], "TLSCiphers": "GAAP_TLS_CIPHERS_STRICT"})
            ),
            "InvalidParameterValue"
        );
        f.call(
            "SetTlsVersion",
            json!({"ListenerId": id, "TLSSupportVersion": ["TLSv1.3", "TLSv1.2"], "TLSCiphers": "GAAP_TLS_CIPHERS_STRICT"}),
        )
        .expect("set");
        assert_eq!(
            f.status("DescribeHTTPSListeners", &id),
            Some(4),
            "changing like a modify"
        );
        f.later();
        let rec = f
            .call("DescribeHTTPSListeners", json!({"ProxyId": LINK, "ListenerId": id}))
            .expect("describe");
        assert_eq!(rec["ListenerSet"][0]["ListenerStatus"], json!(0));
        assert_eq!(
            rec["ListenerSet"][0]["TLSSupportVersion"],
            json!(["TLSv1.2", "TLSv1.3"])
        );
        assert_eq!(rec["ListenerSet"][0]["TLSCiphers"], json!("GAAP_TLS_CIPHERS_STRICT"));
    }

    #[test]
    fn instances_describe_their_tls_choice_and_refuse_set_tls_version_without_it() {
        let mut f = Fixture::new();
        f.gaap = Gaap::new().without_tls_choice(LINK);
        for id in [LINK, GROUP] {
            f.gaap.seed(InstanceSeed {
                id: id.into(),
                ..InstanceSeed::default()
            });
        }
        let proxies = f.call("DescribeProxies", json!({"ProxyIds": [LINK]})).expect("proxies");
        assert_eq!(proxies["ProxySet"][0]["IsSupportTLSChoice"], json!(0));
        let group = f
            .call("DescribeProxyGroupDetails", json!({"GroupId": GROUP}))
            .expect("group");
        assert_eq!(group["ProxyGroupDetail"]["IsSupportTLSChoice"], json!(1));
        assert_eq!(
            f.code("DescribeProxyGroupDetails", json!({"GroupId": "lg-unknown"})),
            "ResourceNotFound"
        );
        let id = f.call("CreateHTTPSListener", https_params()).expect("https")["ListenerId"]
            .as_str()
            .map(String::from)
            .unwrap_or_default();
        f.later();
        assert_eq!(
            f.code(
                "SetTlsVersion",
                json!({"ListenerId": id, "TLSCiphers": "GAAP_TLS_CIPHERS_STRICT"})
            ),
            "ResourceUnavailable"
        );
    }
}
