//! Emulated Tencent CLB (API version 2018-03-17): load balancers, their
//! listeners, and the asynchronous tasks that change them.
//!
//! Actions: `CreateListener`, `DescribeListeners`, `ModifyListener`,
//! `DeleteListener`, `DeleteLoadBalancerListeners`, `DescribeTaskStatus`;
//! rules and targets (`CreateRule`, `ModifyRule`, `ModifyDomainAttributes`,
//! `DeleteRule`, `RegisterTargets`, `DeregisterTargets`, `DescribeTargets`)
//! live in `clb_rules.rs`.
//!
//! The model, chosen to be as strict as the vendor documents:
//!
//! - Every write starts a task whose ID is the call's `RequestId`. It runs
//!   for the configured [`Timing`] and ends in success, or in failure when
//!   the framework's fault injection says so ([`Context::fail_task`]).
//!   `DescribeTaskStatus` answers `Status` 0 (succeeded), 1 (failed, with a
//!   `Message`) or 2 (running). Tasks are settled lazily, on the next call.
//! - While a task runs on a load balancer, every other write to it answers
//!   `FailedOperation.ResourceInOperating`. That check comes before the
//!   port check, so a create that meets `InvalidParameter.PortCheckFailed`
//!   knows no task is running any more.
//! - A created listener is visible in `DescribeListeners` at once (its ID
//!   was returned). **A failed create task removes it again**: nothing
//!   half-made stays behind. A failed modify leaves the old configuration;
//!   a failed delete leaves the listener. A modify takes effect, and a
//!   deleted listener disappears, when the task succeeds.
//! - `ProxyProtocol`, `SnatEnable`, `H2cSwitch`, `SslCloseSwitch` and the
//!   three `Reschedule…` switches are accepted but, as on the real API,
//!   not returned by `DescribeListeners`.
//! - The emulator has no certificate service: a certificate ID starting
//!   with `ca-` is a CA certificate, any other a server certificate. That is
//!   only needed to tell the CA inside a mutual `MultiCertInfo.CertList`.
//! - Every load balancer is treated as LCU-supported (idle timeouts up to
//!   1980 s, `MaxConn`/`MaxCps` allowed).
//!
//! Error codes follow the vendor's list for these actions; where the
//! vendor documents only the list, the most specific code is used:
//! `InvalidParameter.FormatError` for malformed shapes,
//! `InvalidParameterValue` for refused values and combinations,
//! `InvalidParameterValue.Length` for lengths, `MissingParameter` for a
//! parameter another one makes required, `InvalidParameter.PortCheckFailed`
//! for ports in use or repeated, `LimitExceeded` for the quota of 50
//! listeners, `UnknownParameter` for parameters an action does not take.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Instant;

use rand::Rng;
use serde_json::{json, Map, Value};

use crate::service::{ApiError, Call, Context, Family, InstanceSeed, Service};

/// Listeners per load balancer.
const MAX_LISTENERS: usize = 50;
/// Settled tasks kept for `DescribeTaskStatus` before the oldest go.
const MAX_SETTLED_TASKS: usize = 10_000;

const FORMAT: &str = "InvalidParameter.FormatError";
const VALUE: &str = "InvalidParameterValue";
const LENGTH: &str = "InvalidParameterValue.Length";
const PORT: &str = "InvalidParameter.PortCheckFailed";
const PROTOCOL: &str = "InvalidParameter.ProtocolCheckFailed";
const BUSY: &str = "FailedOperation.ResourceInOperating";

type R<T> = Result<T, ApiError>;

fn e(code: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(code, message)
}

const PROTOCOLS: [&str; 6] = ["TCP", "UDP", "HTTP", "HTTPS", "TCP_SSL", "QUIC"];

fn is_l4(p: &str) -> bool {
    p == "TCP" || p == "UDP"
}
fn is_http(p: &str) -> bool {
    p == "HTTP" || p == "HTTPS"
}
fn udp_side(p: &str) -> bool {
    p == "UDP" || p == "QUIC"
}

/// One emulated listener.
#[derive(Debug, Clone, PartialEq)]
struct Listener {
    id: String,
    protocol: String,
    port: i64,
    end_port: i64,
    name: String,
    create_time: String,
    certificate: Option<Value>,
    health_check: Option<Map<String, Value>>,
    scheduler: Option<String>,
    session_expire: i64,
    sni: i64,
    target_type: Option<String>,
    session_type: Option<String>,
    keepalive: i64,
    deregister_rst: bool,
    max_conn: i64,
    max_cps: i64,
    idle: Option<i64>,
    reschedule_interval: i64,
    reschedule_start: i64,
    data_compress: String,
    /// Accepted, never described (as on the vendor).
    write_only: Map<String, Value>,
    /// Rules, default domain and targets (`clb_rules.rs`).
    rules: rules::RuleSet,
}

impl Listener {
    fn ports(&self) -> (i64, i64) {
        (self.port, self.end_port.max(self.port))
    }

    fn describe(&self) -> Value {
        let layer4ish = !is_http(&self.protocol);
        json!({
            "ListenerId": self.id,
            "Protocol": self.protocol,
            "Port": self.port,
            "ListenerName": self.name,
            "CreateTime": self.create_time,
            "EndPort": self.end_port,
            "Certificate": self.certificate.clone().unwrap_or(Value::Null),
            "HealthCheck": self.health_check.clone().map(Value::Object).unwrap_or(Value::Null),
            "Scheduler": if layer4ish { json!(self.scheduler.clone().unwrap_or_else(|| "WRR".into())) } else { Value::Null },
            "SessionExpireTime": self.session_expire,
            "SniSwitch": self.sni,
            "Rules": if layer4ish { Value::Null } else { self.rules.describe(&self.id) },
            "TargetType": if is_l4(&self.protocol) { json!(self.target_type.clone().unwrap_or_else(|| "NODE".into())) } else { Value::Null },
            "SessionType": if layer4ish { json!(self.session_type.clone().unwrap_or_else(|| "NORMAL".into())) } else { Value::Null },
            "KeepaliveEnable": self.keepalive,
            "Toa": false,
            "DeregisterTargetRst": self.deregister_rst,
            "AttrFlags": [],
            "MaxConn": self.max_conn,
            "MaxCps": self.max_cps,
            "IdleConnectTimeout": self.idle.map(Value::from).unwrap_or(Value::Null),
            "RescheduleInterval": self.reschedule_interval,
            "RescheduleStartTime": self.reschedule_start,
            "DataCompressMode": self.data_compress,
        })
    }
}

#[derive(Debug)]
enum TaskKind {
    Create(Vec<String>),
    Modify(Box<Listener>),
    Delete(Vec<String>),
    /// A rule or target write: the listener's whole new rule set.
    Rules {
        listener: String,
        set: Box<rules::RuleSet>,
        what: &'static str,
    },
}

#[derive(Debug)]
struct Task {
    lb: String,
    ends: Instant,
    fail: bool,
    kind: TaskKind,
    settled: Option<bool>,
    seq: u64,
}

#[derive(Debug, Default)]
struct State {
    lbs: BTreeMap<String, Vec<Listener>>,
    tasks: HashMap<String, Task>,
    seq: u64,
}

impl State {
    /// Apply every task whose time has come.
    fn settle(&mut self, now: Instant) {
        let due: Vec<String> = self
            .tasks
            .iter()
            .filter(|(_, t)| t.settled.is_none() && t.ends <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in due {
            let Some(task) = self.tasks.get_mut(&id) else { continue };
            task.settled = Some(!task.fail);
            let fail = task.fail;
            let lb = task.lb.clone();
            let listeners = self.lbs.entry(lb).or_default();
            match &task.kind {
                TaskKind::Create(ids) if fail => listeners.retain(|l| !ids.contains(&l.id)),
                TaskKind::Create(_) => {}
                TaskKind::Modify(new) if !fail => {
                    if let Some(l) = listeners.iter_mut().find(|l| l.id == new.id) {
                        let rules = std::mem::take(&mut l.rules);
                        *l = (**new).clone();
                        l.rules = rules;
                    }
                }
                TaskKind::Modify(_) => {}
                TaskKind::Delete(ids) if !fail => listeners.retain(|l| !ids.contains(&l.id)),
                TaskKind::Delete(_) => {}
                TaskKind::Rules { listener, set, .. } if !fail => {
                    if let Some(l) = listeners.iter_mut().find(|l| &l.id == listener) {
                        l.rules = (**set).clone();
                    }
                }
                TaskKind::Rules { .. } => {}
            }
        }
        let settled = self.tasks.values().filter(|t| t.settled.is_some()).count();
        if settled > MAX_SETTLED_TASKS {
            let mut old: Vec<(u64, String)> = self
                .tasks
                .iter()
                .filter(|(_, t)| t.settled.is_some())
                .map(|(id, t)| (t.seq, id.clone()))
                .collect();
            old.sort();
            for (_, id) in old.into_iter().take(settled - MAX_SETTLED_TASKS) {
                self.tasks.remove(&id);
            }
        }
    }

    fn busy(&self, lb: &str) -> bool {
        self.tasks.values().any(|t| t.lb == lb && t.settled.is_none())
    }

    fn start_task(&mut self, request_id: &str, lb: &str, ends: Instant, fail: bool, kind: TaskKind) {
        self.seq += 1;
        self.tasks.insert(
            request_id.to_string(),
            Task {
                lb: lb.to_string(),
                ends,
                fail,
                kind,
                settled: None,
                seq: self.seq,
            },
        );
    }
}

/// The emulated CLB service.
#[derive(Debug, Default)]
pub struct Clb {
    state: Mutex<State>,
}

impl Clb {
    /// An empty service (no load balancers until seeded).
    pub fn new() -> Self {
        Clb::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

// ---------------------------------------------------------------------------
// parameter reading
// ---------------------------------------------------------------------------

struct P<'a> {
    m: &'a Map<String, Value>,
    prefix: &'a str,
}

impl<'a> P<'a> {
    fn new(v: &'a Value, prefix: &'a str) -> R<Self> {
        match v {
            Value::Object(m) => Ok(P { m, prefix }),
            _ => Err(e(FORMAT, format!("`{prefix}` must be an object"))),
        }
    }
    fn name(&self, k: &str) -> String {
        if self.prefix.is_empty() {
            k.to_string()
        } else {
            format!("{}.{k}", self.prefix)
        }
    }
    fn has(&self, k: &str) -> bool {
        self.m.get(k).is_some_and(|v| !v.is_null())
    }
    fn allow(&self, keys: &[&str]) -> R<()> {
        match self.m.keys().find(|k| !keys.contains(&k.as_str())) {
            Some(k) => Err(e(
                "UnknownParameter",
                format!("The parameter `{}` is not recognized.", self.name(k)),
            )),
            None => Ok(()),
        }
    }
    fn int(&self, k: &str) -> R<Option<i64>> {
        match self.m.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| e(FORMAT, format!("`{}` must be an integer", self.name(k)))),
        }
    }
    fn string(&self, k: &str) -> R<Option<&'a str>> {
        match self.m.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(e(FORMAT, format!("`{}` must be a string", self.name(k)))),
        }
    }
    fn boolean(&self, k: &str) -> R<Option<bool>> {
        match self.m.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(e(FORMAT, format!("`{}` must be a boolean", self.name(k)))),
        }
    }
    fn array(&self, k: &str) -> R<Option<&'a Vec<Value>>> {
        match self.m.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(_) => Err(e(FORMAT, format!("`{}` must be an array", self.name(k)))),
        }
    }
    fn required_str(&self, k: &str) -> R<&'a str> {
        self.string(k)?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ApiError::missing_parameter(&self.name(k)))
    }
    fn one_of(&self, k: &str, allowed: &[&str]) -> R<Option<String>> {
        match self.string(k)? {
            None => Ok(None),
            Some(s) if allowed.contains(&s) => Ok(Some(s.to_string())),
            Some(s) => Err(e(
                VALUE,
                format!("`{}` = `{s}` is not one of {}", self.name(k), allowed.join(", ")),
            )),
        }
    }
    fn range(&self, k: &str, lo: i64, hi: i64) -> R<Option<i64>> {
        match self.int(k)? {
            Some(v) if !(lo..=hi).contains(&v) => {
                Err(e(VALUE, format!("`{}` = {v} is outside {lo} to {hi}", self.name(k))))
            }
            other => Ok(other),
        }
    }
    fn switch(&self, k: &str) -> R<Option<i64>> {
        self.range(k, 0, 1)
    }
}

fn only_on(p: &P<'_>, k: &str, ok: bool, on: &str) -> R<()> {
    if p.has(k) && !ok {
        return Err(e(VALUE, format!("`{k}` applies to {on} listeners only")));
    }
    Ok(())
}

fn new_id(prefix: &str) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let tail: String = (0..8)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect();
    format!("{prefix}{tail}")
}

fn now_text() -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_else(|_| "1970-01-01 00:00:00".into())
}

fn context_ok(v: &str, hex: bool) -> bool {
    if hex {
        v.len().is_multiple_of(2) && v.bytes().all(|b| b.is_ascii_hexdigit())
    } else {
        v.bytes().all(|b| (0x20..0x7f).contains(&b))
    }
}

// ---------------------------------------------------------------------------
// shared validation
// ---------------------------------------------------------------------------

const HEALTH_KEYS: [&str; 18] = [
    "HealthSwitch",
    "TimeOut",
    "IntervalTime",
    "HealthNum",
    "UnHealthNum",
    "HttpCode",
    "HttpCheckPath",
    "HttpCheckDomain",
    "HttpCheckMethod",
    "CheckPort",
    "ContextType",
    "SendContext",
    "RecvContext",
    "CheckType",
    "HttpVersion",
    "SourceIpType",
    "ExtendedCode",
    "HealthCheckProtocol",
];

fn default_check_type(protocol: &str) -> &'static str {
    if protocol == "UDP" {
        "PING"
    } else {
        "TCP"
    }
}

/// A HealthCheck object merged onto `base` (the listener's current one on
/// modify, defaults on create), checked against the protocol's rules.
fn health_check(protocol: &str, v: &Value, base: Option<&Map<String, Value>>) -> R<Map<String, Value>> {
    if is_http(protocol) {
        return Err(e(
            VALUE,
            format!("HealthCheck applies to TCP, UDP, TCP_SSL and QUIC listeners, not {protocol}"),
        ));
    }
    let p = P::new(v, "HealthCheck")?;
    p.allow(&HEALTH_KEYS)?;
    p.switch("HealthSwitch")?;
    p.range("TimeOut", 2, 60)?;
    p.range("IntervalTime", 2, 300)?;
    p.range("HealthNum", 2, 10)?;
    p.range("UnHealthNum", 2, 10)?;
    p.range("HttpCode", 1, 31)?;
    p.range("SourceIpType", 0, 1)?;
    if let Some(port) = p.int("CheckPort")? {
        if !(port == -1 || (1..=65535).contains(&port)) {
            return Err(e(VALUE, "`HealthCheck.CheckPort` is a port from 1 to 65535, or -1"));
        }
        only_on(&p, "CheckPort", is_l4(protocol), "TCP and UDP")?;
    }
    let allowed: &[&str] = match protocol {
        "UDP" => &["PING", "CUSTOM"],
        "TCP" => &["TCP", "HTTP", "CUSTOM"],
        _ => &["TCP", "HTTP"],
    };
    p.one_of("CheckType", &["TCP", "HTTP", "HTTPS", "GRPC", "PING", "CUSTOM"])?;
    p.one_of("HttpCheckMethod", &["HEAD", "GET", "head", "get"])?;
    p.one_of("HttpVersion", &["HTTP/1.0", "HTTP/1.1"])?;
    p.one_of("ContextType", &["HEX", "TEXT"])?;
    for k in ["HttpCheckPath", "HttpCheckDomain", "SendContext", "RecvContext"] {
        p.string(k)?;
    }

    let mut merged = base.cloned().unwrap_or_else(|| {
        let mut m = Map::new();
        m.insert("HealthSwitch".into(), json!(1));
        m.insert("TimeOut".into(), json!(2));
        m.insert("IntervalTime".into(), json!(5));
        m.insert("HealthNum".into(), json!(3));
        m.insert("UnHealthNum".into(), json!(3));
        m.insert("CheckType".into(), json!(default_check_type(protocol)));
        m.insert("SourceIpType".into(), json!(0));
        m
    });
    let new_type = p.string("CheckType")?.map(str::to_string);
    if let Some(t) = &new_type {
        if merged.get("CheckType").and_then(Value::as_str) != Some(t) {
            // A new probe kind drops the old kind's fields.
            for k in [
                "HttpCode",
                "HttpCheckPath",
                "HttpCheckDomain",
                "HttpCheckMethod",
                "HttpVersion",
                "ContextType",
                "SendContext",
                "RecvContext",
            ] {
                merged.remove(k);
            }
        }
    }
    for (k, v) in p.m {
        if !v.is_null() {
            merged.insert(k.clone(), v.clone());
        }
    }
    let kind = merged
        .get("CheckType")
        .and_then(Value::as_str)
        .unwrap_or(default_check_type(protocol))
        .to_string();
    if !allowed.contains(&kind.as_str()) {
        return Err(e(
            VALUE,
            format!(
                "CheckType `{kind}` is not allowed on {protocol} listeners (allowed: {})",
                allowed.join(", ")
            ),
        ));
    }
    let m = P {
        m: &merged,
        prefix: "HealthCheck",
    };
    let t = m.int("TimeOut")?.unwrap_or(2);
    let i = m.int("IntervalTime")?.unwrap_or(5);
    if t >= i {
        return Err(e(
            VALUE,
            format!("HealthCheck.TimeOut ({t}) must be less than HealthCheck.IntervalTime ({i})"),
        ));
    }
    let http = kind == "HTTP";
    for k in [
        "HttpCode",
        "HttpCheckPath",
        "HttpCheckDomain",
        "HttpCheckMethod",
        "HttpVersion",
    ] {
        if m.has(k) && !http {
            return Err(e(
                VALUE,
                format!("`HealthCheck.{k}` applies to HTTP health checks only"),
            ));
        }
    }
    if http {
        if !merged.contains_key("HttpCode") {
            merged.insert("HttpCode".into(), json!(31));
        }
        if protocol == "TCP" {
            let m = P {
                m: &merged,
                prefix: "HealthCheck",
            };
            if !m.has("HttpCheckDomain") {
                return Err(ApiError::missing_parameter("HealthCheck.HttpCheckDomain"));
            }
            if !m.has("HttpVersion") {
                return Err(ApiError::missing_parameter("HealthCheck.HttpVersion"));
            }
        }
    }
    let custom = kind == "CUSTOM";
    let m = P {
        m: &merged,
        prefix: "HealthCheck",
    };
    for k in ["ContextType", "SendContext", "RecvContext"] {
        if m.has(k) && !custom {
            return Err(e(
                VALUE,
                format!("`HealthCheck.{k}` applies to CUSTOM health checks only"),
            ));
        }
    }
    if custom {
        let hex = m.string("ContextType")? == Some("HEX");
        for k in ["SendContext", "RecvContext"] {
            if let Some(text) = m.string(k)? {
                if text.chars().count() > 500 {
                    return Err(e(LENGTH, format!("`HealthCheck.{k}` is longer than 500 characters")));
                }
                if !context_ok(text, hex) {
                    return Err(e(
                        FORMAT,
                        format!("`HealthCheck.{k}` is not valid {}", if hex { "HEX" } else { "TEXT" }),
                    ));
                }
            }
        }
    }
    Ok(merged)
}

fn is_ca(id: &str) -> bool {
    id.starts_with("ca-")
}

/// `Certificate` or `MultiCertInfo` into the described certificate.
fn certificate(protocol: &str, sni: i64, cert: Option<&Value>, multi: Option<&Value>) -> R<Option<Value>> {
    if cert.is_some() && multi.is_some() {
        return Err(e(FORMAT, "Certificate and MultiCertInfo cannot be given together"));
    }
    if cert.is_none() && multi.is_none() {
        return Ok(None);
    }
    if !matches!(protocol, "HTTPS" | "TCP_SSL" | "QUIC") {
        return Err(e(
            VALUE,
            format!("certificates apply to HTTPS, TCP_SSL and QUIC listeners, not {protocol}"),
        ));
    }
    if protocol == "HTTPS" && sni == 1 {
        return Err(e(
            VALUE,
            "with SniSwitch 1 the certificates are set per domain on the rules, not on the listener",
        ));
    }
    if let Some(c) = cert {
        let p = P::new(c, "Certificate")?;
        p.allow(&[
            "SSLMode",
            "SSLVerifyClient",
            "CertId",
            "CertCaId",
            "CertName",
            "CertKey",
            "CertContent",
            "CertCaName",
            "CertCaContent",
        ])?;
        let mode = p
            .one_of("SSLMode", &["UNIDIRECTIONAL", "MUTUAL"])?
            .unwrap_or_else(|| "UNIDIRECTIONAL".into());
        let verify = p.one_of("SSLVerifyClient", &["ON", "OPTIONAL"])?;
        let cert_id = match p.string("CertId")? {
            Some(id) if !id.is_empty() => id.to_string(),
            _ => {
                p.required_str("CertName")?;
                p.required_str("CertKey")?;
                p.required_str("CertContent")?;
                new_id("")
            }
        };
        let mutual = mode == "MUTUAL";
        let ca = match p.string("CertCaId")? {
            Some(id) if !id.is_empty() => Some(id.to_string()),
            _ if p.has("CertCaContent") => {
                p.required_str("CertCaName")?;
                Some(new_id("ca-"))
            }
            _ => None,
        };
        if mutual && ca.is_none() {
            return Err(ApiError::missing_parameter("Certificate.CertCaId"));
        }
        if !mutual && (ca.is_some() || verify.is_some()) {
            return Err(e(VALUE, "a client CA and SSLVerifyClient apply to SSLMode MUTUAL only"));
        }
        return Ok(Some(json!({
            "SSLMode": mode,
            "SSLVerifyClient": if mutual { json!(verify.unwrap_or_else(|| "ON".into())) } else { Value::Null },
            "CertId": cert_id,
            "CertCaId": ca,
            "ExtCertIds": [],
        })));
    }
    let Some(m) = multi else { return Ok(None) };
    if protocol == "QUIC" {
        return Err(e(VALUE, "MultiCertInfo applies to HTTPS and TCP_SSL listeners only"));
    }
    let p = P::new(m, "MultiCertInfo")?;
    p.allow(&["SSLMode", "CertList", "SSLVerifyClient"])?;
    if !p.has("SSLMode") {
        return Err(ApiError::missing_parameter("MultiCertInfo.SSLMode"));
    }
    let mode = p.one_of("SSLMode", &["UNIDIRECTIONAL", "MUTUAL"])?.unwrap_or_default();
    let verify = p.one_of("SSLVerifyClient", &["ON", "OPTIONAL"])?;
    let list = p
        .array("CertList")?
        .ok_or_else(|| ApiError::missing_parameter("MultiCertInfo.CertList"))?;
    let mut servers = Vec::new();
    let mut cas = Vec::new();
    for (i, entry) in list.iter().enumerate() {
        let prefix = format!("MultiCertInfo.CertList.{i}");
        let q = P::new(entry, &prefix)?;
        q.allow(&["CertId", "CertName", "CertKey", "CertContent"])?;
        match q.string("CertId")? {
            Some(id) if !id.is_empty() => {
                if is_ca(id) {
                    cas.push(id.to_string())
                } else {
                    servers.push(id.to_string())
                }
            }
            _ => {
                q.required_str("CertName")?;
                q.required_str("CertContent")?;
                if q.has("CertKey") {
                    servers.push(new_id(""))
                } else {
                    cas.push(new_id("ca-"))
                }
            }
        }
    }
    if servers.is_empty() {
        return Err(ApiError::missing_parameter(
            "MultiCertInfo.CertList (a server certificate)",
        ));
    }
    let mutual = mode == "MUTUAL";
    if mutual && cas.len() != 1 {
        return Err(if cas.is_empty() {
            ApiError::missing_parameter("MultiCertInfo.CertList (a CA certificate)")
        } else {
            e(VALUE, "a mutual MultiCertInfo takes exactly one CA certificate")
        });
    }
    if !mutual && (!cas.is_empty() || verify.is_some()) {
        return Err(e(
            VALUE,
            "a CA certificate and SSLVerifyClient apply to SSLMode MUTUAL only",
        ));
    }
    let first = servers.remove(0);
    Ok(Some(json!({
        "SSLMode": mode,
        "SSLVerifyClient": if mutual { json!(verify.unwrap_or_else(|| "ON".into())) } else { Value::Null },
        "CertId": first,
        "CertCaId": cas.first(),
        "ExtCertIds": servers,
    })))
}

/// The settings CreateListener and ModifyListener share, applied to `l`.
fn apply_common(p: &P<'_>, l: &mut Listener) -> R<()> {
    let proto = l.protocol.clone();
    let proto = proto.as_str();
    if let Some(t) = p.int("SessionExpireTime")? {
        if t != 0 && !is_l4(proto) {
            return Err(e(VALUE, "SessionExpireTime applies to TCP and UDP listeners only"));
        }
        if t != 0 && !(30..=3600).contains(&t) {
            return Err(e(VALUE, format!("SessionExpireTime {t} is outside 30 to 3600")));
        }
        l.session_expire = t;
    }
    if let Some(tt) = p.one_of("TargetType", &["NODE", "TARGETGROUP"])? {
        only_on(p, "TargetType", is_l4(proto), "TCP and UDP")?;
        l.target_type = Some(tt);
    }
    if let Some(k) = p.switch("KeepaliveEnable")? {
        only_on(p, "KeepaliveEnable", is_http(proto), "HTTP and HTTPS")?;
        l.keepalive = k;
    }
    for k in ["MaxConn", "MaxCps"] {
        if let Some(v) = p.int(k)? {
            only_on(p, k, !is_http(proto), "TCP, UDP, TCP_SSL and QUIC")?;
            if v < -1 {
                return Err(e(VALUE, format!("`{k}` must be -1 (unlimited) or more")));
            }
            if k == "MaxConn" {
                l.max_conn = v;
            } else {
                l.max_cps = v;
            }
        }
    }
    if let Some(v) = p.range("IdleConnectTimeout", 10, 1980)? {
        only_on(p, "IdleConnectTimeout", is_l4(proto), "TCP and UDP")?;
        l.idle = Some(v);
    }
    if let Some(v) = p.boolean("ProxyProtocol")? {
        only_on(
            p,
            "ProxyProtocol",
            matches!(proto, "TCP_SSL" | "QUIC"),
            "TCP_SSL and QUIC",
        )?;
        l.write_only.insert("ProxyProtocol".into(), json!(v));
    }
    if let Some(v) = p.boolean("SnatEnable")? {
        l.write_only.insert("SnatEnable".into(), json!(v));
    }
    if let Some(v) = p.one_of("DataCompressMode", &["transparent", "compatibility"])? {
        l.data_compress = v;
    }
    if let Some(v) = p.boolean("DeregisterTargetRst")? {
        only_on(p, "DeregisterTargetRst", is_l4(proto), "TCP and UDP")?;
        l.deregister_rst = v;
    }
    for k in [
        "RescheduleTargetZeroWeight",
        "RescheduleUnhealthy",
        "RescheduleExpandTarget",
    ] {
        if let Some(v) = p.boolean(k)? {
            only_on(p, k, is_l4(proto), "TCP and UDP")?;
            l.write_only.insert(k.into(), json!(v));
        }
    }
    if let Some(v) = p.range("RescheduleStartTime", 0, 3600)? {
        only_on(p, "RescheduleStartTime", is_l4(proto), "TCP and UDP")?;
        l.reschedule_start = v;
    }
    if let Some(v) = p.range("RescheduleInterval", 0, 3600)? {
        only_on(p, "RescheduleInterval", is_l4(proto), "TCP and UDP")?;
        l.reschedule_interval = v;
    }
    if let Some(hc) = p.m.get("HealthCheck").filter(|v| !v.is_null()) {
        l.health_check = Some(health_check(proto, hc, l.health_check.as_ref())?);
    }
    Ok(())
}

/// Scheduler and SessionType, which depend on each other. `SessionType`
/// is taken on TCP and UDP by CreateListener (`modify` false) and on
/// TCP/UDP/TCP_SSL/QUIC by ModifyListener (its SDK model's wording).
fn apply_scheduling(p: &P<'_>, l: &mut Listener, allowed: &[&str], modify: bool) -> R<()> {
    let proto = l.protocol.clone();
    if let Some(s) = p.one_of("Scheduler", allowed)? {
        only_on(p, "Scheduler", !is_http(&proto), "TCP, UDP, TCP_SSL and QUIC")?;
        l.scheduler = Some(s);
    }
    if let Some(st) = p.one_of("SessionType", &["NORMAL", "QUIC_CID"])? {
        if modify {
            only_on(p, "SessionType", !is_http(&proto), "TCP, UDP, TCP_SSL and QUIC")?;
        } else {
            only_on(p, "SessionType", is_l4(&proto), "TCP and UDP")?;
        }
        l.session_type = Some(st);
    }
    if l.session_type.as_deref() == Some("QUIC_CID") {
        if proto != "UDP" {
            return Err(e(VALUE, "SessionType QUIC_CID needs protocol UDP"));
        }
        if l.scheduler.as_deref().unwrap_or("WRR") != "WRR" {
            return Err(e(VALUE, "SessionType QUIC_CID needs scheduler WRR"));
        }
    }
    Ok(())
}

fn check_name(name: &str) -> R<()> {
    let n = name.chars().count();
    if n == 0 || n > 80 {
        return Err(e(LENGTH, format!("listener names are 1 to 80 characters, got {n}")));
    }
    Ok(())
}

fn region(call: &Call) -> R<()> {
    match call.region.as_deref().map(str::trim) {
        Some(r) if !r.is_empty() => Ok(()),
        _ => Err(ApiError::missing_parameter("Region")),
    }
}

// ---------------------------------------------------------------------------
// actions
// ---------------------------------------------------------------------------

const CREATE_KEYS: [&str; 31] = [
    "LoadBalancerId",
    "Ports",
    "Protocol",
    "ListenerNames",
    "HealthCheck",
    "Certificate",
    "SessionExpireTime",
    "Scheduler",
    "SniSwitch",
    "TargetType",
    "SessionType",
    "KeepaliveEnable",
    "EndPort",
    "DeregisterTargetRst",
    "MultiCertInfo",
    "MaxConn",
    "MaxCps",
    "IdleConnectTimeout",
    "ProxyProtocol",
    "SnatEnable",
    "FullEndPorts",
    "H2cSwitch",
    "SslCloseSwitch",
    "DataCompressMode",
    "RescheduleTargetZeroWeight",
    "RescheduleUnhealthy",
    "RescheduleExpandTarget",
    "RescheduleStartTime",
    "RescheduleInterval",
    "Region",
    "ListenerIds",
];

const MODIFY_KEYS: [&str; 25] = [
    "LoadBalancerId",
    "ListenerId",
    "ListenerName",
    "SessionExpireTime",
    "HealthCheck",
    "Certificate",
    "MultiCertInfo",
    "Scheduler",
    "SniSwitch",
    "TargetType",
    "KeepaliveEnable",
    "SessionType",
    "MaxConn",
    "MaxCps",
    "IdleConnectTimeout",
    "ProxyProtocol",
    "SnatEnable",
    "DataCompressMode",
    "DeregisterTargetRst",
    "RescheduleTargetZeroWeight",
    "RescheduleUnhealthy",
    "RescheduleExpandTarget",
    "RescheduleStartTime",
    "RescheduleInterval",
    "Region",
];

impl Clb {
    fn create(&self, ctx: &mut dyn Context, call: &Call) -> R<Value> {
        region(call)?;
        let p = P::new(&call.params, "")?;
        // `ListenerIds` is an output of this action, never an input.
        p.allow(&CREATE_KEYS[..CREATE_KEYS.len() - 1])?;
        let lb = p.required_str("LoadBalancerId")?;
        let proto_raw = p.required_str("Protocol")?;
        let proto = proto_raw.to_ascii_uppercase();
        if !PROTOCOLS.contains(&proto.as_str()) {
            return Err(e(
                PROTOCOL,
                format!("Protocol `{proto_raw}` is not one of {}", PROTOCOLS.join(", ")),
            ));
        }
        let ports_v = p.array("Ports")?.ok_or_else(|| ApiError::missing_parameter("Ports"))?;
        if ports_v.is_empty() {
            return Err(ApiError::missing_parameter("Ports"));
        }
        let mut ports = Vec::new();
        for v in ports_v {
            let port = v.as_i64().ok_or_else(|| e(FORMAT, "`Ports` must hold integers"))?;
            if !(1..=65535).contains(&port) {
                return Err(e(VALUE, format!("port {port} is outside 1 to 65535")));
            }
            ports.push(port);
        }
        let names: Vec<String> = match p.array("ListenerNames")? {
            None => ports.iter().map(|_| String::new()).collect(),
            Some(list) => {
                if list.len() != ports.len() {
                    return Err(e(
                        FORMAT,
                        format!(
                            "{} ListenerNames for {} Ports; they pair one to one",
                            list.len(),
                            ports.len()
                        ),
                    ));
                }
                let mut out = Vec::new();
                for v in list {
                    let name = v
                        .as_str()
                        .ok_or_else(|| e(FORMAT, "`ListenerNames` must hold strings"))?;
                    check_name(name)?;
                    out.push(name.to_string());
                }
                out
            }
        };
        let end_port = p.int("EndPort")?;
        let full_end = p.array("FullEndPorts")?;
        if end_port.is_some() && full_end.is_some() {
            return Err(e(FORMAT, "EndPort and FullEndPorts cannot be given together"));
        }
        let mut ranges: Vec<(i64, i64)> = ports.iter().map(|p| (*p, *p)).collect();
        if let Some(end) = end_port {
            if ports.len() != 1 {
                return Err(e(FORMAT, "with EndPort, Ports holds exactly one start port"));
            }
            if end <= ports[0] || end > 65535 {
                return Err(e(
                    VALUE,
                    format!("EndPort {end} must be above the start port and at most 65535"),
                ));
            }
            ranges[0].1 = end;
        }
        if let Some(list) = full_end {
            if list.len() != ports.len() {
                return Err(e(FORMAT, "FullEndPorts holds one end port per entry of Ports"));
            }
            for (i, v) in list.iter().enumerate() {
                let end = v
                    .as_i64()
                    .ok_or_else(|| e(FORMAT, "`FullEndPorts` must hold integers"))?;
                if !(2..=65535).contains(&end) || end <= ports[i] {
                    return Err(e(
                        VALUE,
                        format!("FullEndPorts {end} must be 2 to 65535 and above its start port"),
                    ));
                }
                ranges[i].1 = end;
            }
        }
        for (i, a) in ranges.iter().enumerate() {
            for b in ranges.iter().skip(i + 1) {
                if a.0 <= b.1 && b.0 <= a.1 {
                    return Err(e(PORT, format!("port {} is repeated in this request", b.0)));
                }
            }
        }
        let sni = p.switch("SniSwitch")?.unwrap_or(0);
        only_on(&p, "SniSwitch", proto == "HTTPS", "HTTPS")?;
        let cert = certificate(&proto, sni, p.m.get("Certificate"), p.m.get("MultiCertInfo"))?;
        if cert.is_none() && (proto == "TCP_SSL" || (proto == "HTTPS" && sni == 0)) {
            return Err(ApiError::missing_parameter("Certificate"));
        }
        let h2c = p.boolean("H2cSwitch")?;
        only_on(&p, "H2cSwitch", proto == "HTTP", "HTTP")?;
        let ssl_close = p.boolean("SslCloseSwitch")?;
        only_on(&p, "SslCloseSwitch", proto == "TCP_SSL", "TCP_SSL")?;

        let mut template = Listener {
            id: String::new(),
            protocol: proto.clone(),
            port: 0,
            end_port: 0,
            name: String::new(),
            create_time: now_text(),
            certificate: cert,
            health_check: None,
            scheduler: None,
            session_expire: 0,
            sni: if proto == "HTTPS" { sni } else { 0 },
            target_type: None,
            session_type: None,
            keepalive: 0,
            deregister_rst: false,
            max_conn: -1,
            max_cps: -1,
            idle: match proto.as_str() {
                "TCP" => Some(900),
                "UDP" => Some(300),
                _ => None,
            },
            reschedule_interval: 0,
            reschedule_start: 0,
            data_compress: "transparent".into(),
            write_only: Map::new(),
            rules: rules::RuleSet::default(),
        };
        if let Some(v) = h2c {
            template.write_only.insert("H2cSwitch".into(), json!(v));
        }
        if let Some(v) = ssl_close {
            template.write_only.insert("SslCloseSwitch".into(), json!(v));
        }
        apply_common(&p, &mut template)?;
        apply_scheduling(&p, &mut template, &["WRR", "LEAST_CONN"], false)?;
        if template.health_check.is_none() && !is_http(&proto) {
            template.health_check = Some(health_check(&proto, &json!({}), None)?);
        }

        let mut st = self.state();
        st.settle(call.now);
        let Some(existing) = st.lbs.get(lb) else {
            return Err(e(
                "InvalidParameter.LBIdNotFound",
                format!("load balancer `{lb}` does not exist"),
            ));
        };
        if st.busy(lb) {
            return Err(e(BUSY, format!("a task is running on `{lb}`; try again later")));
        }
        for (from, to) in &ranges {
            if let Some(l) = existing.iter().find(|l| {
                let (a, b) = l.ports();
                udp_side(&l.protocol) == udp_side(&proto) && a <= *to && *from <= b
            }) {
                return Err(e(
                    PORT,
                    format!("port {from} is already used by listener {} ({})", l.id, l.protocol),
                ));
            }
        }
        if existing.len() + ranges.len() > MAX_LISTENERS {
            return Err(e(
                "LimitExceeded",
                format!("a load balancer holds at most {MAX_LISTENERS} listeners"),
            ));
        }
        let mut ids = Vec::new();
        let mut made = Vec::new();
        for (i, (from, to)) in ranges.iter().enumerate() {
            let mut l = template.clone();
            l.id = new_id("lbl-");
            l.port = *from;
            l.end_port = if to > from { *to } else { 0 };
            l.name = names[i].clone();
            ids.push(l.id.clone());
            made.push(l);
        }
        let fail = ctx.fail_task();
        let ends = call.now + ctx.timing().create;
        st.lbs.entry(lb.to_string()).or_default().extend(made);
        st.start_task(&call.request_id, lb, ends, fail, TaskKind::Create(ids.clone()));
        Ok(json!({ "ListenerIds": ids }))
    }

    fn describe(&self, call: &Call) -> R<Value> {
        region(call)?;
        let p = P::new(&call.params, "")?;
        p.allow(&["LoadBalancerId", "ListenerIds", "Protocol", "Port", "Region"])?;
        let lb = p.required_str("LoadBalancerId")?;
        let ids: Option<BTreeSet<String>> = match p.array("ListenerIds")? {
            None => None,
            Some(list) if list.len() > 100 => {
                return Err(e(VALUE, "at most 100 ListenerIds per call"));
            }
            Some(list) => Some(
                list.iter()
                    .map(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .ok_or_else(|| e(FORMAT, "`ListenerIds` must hold strings"))
                    })
                    .collect::<R<_>>()?,
            ),
        };
        let protocol = p.string("Protocol")?.map(str::to_ascii_uppercase);
        let port = p.int("Port")?;
        let mut st = self.state();
        st.settle(call.now);
        let Some(listeners) = st.lbs.get(lb) else {
            return Err(e(
                "InvalidParameter.LBIdNotFound",
                format!("load balancer `{lb}` does not exist"),
            ));
        };
        let out: Vec<Value> = listeners
            .iter()
            .filter(|l| ids.as_ref().is_none_or(|ids| ids.contains(&l.id)))
            .filter(|l| protocol.as_ref().is_none_or(|p| *p == l.protocol))
            .filter(|l| port.is_none_or(|p| p == l.port))
            .map(Listener::describe)
            .collect();
        Ok(json!({ "TotalCount": out.len(), "Listeners": out }))
    }

    fn modify(&self, ctx: &mut dyn Context, call: &Call) -> R<Value> {
        region(call)?;
        let p = P::new(&call.params, "")?;
        p.allow(&MODIFY_KEYS)?;
        let lb = p.required_str("LoadBalancerId")?;
        let id = p.required_str("ListenerId")?;
        let mut st = self.state();
        st.settle(call.now);
        let Some(listeners) = st.lbs.get(lb) else {
            return Err(e(
                "InvalidParameter.LBIdNotFound",
                format!("load balancer `{lb}` does not exist"),
            ));
        };
        let Some(current) = listeners.iter().find(|l| l.id == id) else {
            return Err(e(
                "InvalidParameter.ListenerIdNotFound",
                format!("listener `{id}` does not exist on `{lb}`"),
            ));
        };
        let mut l = current.clone();
        if let Some(name) = p.string("ListenerName")? {
            check_name(name)?;
            l.name = name.to_string();
        }
        if let Some(sni) = p.switch("SniSwitch")? {
            only_on(&p, "SniSwitch", l.protocol == "HTTPS", "HTTPS")?;
            if l.sni == 1 && sni == 0 {
                return Err(e(VALUE, "SNI cannot be switched off once on"));
            }
            if sni == 1 {
                // Certificates move to the domains of the rules.
                l.certificate = None;
            }
            l.sni = sni;
        }
        if p.has("Certificate") || p.has("MultiCertInfo") {
            l.certificate = certificate(&l.protocol, l.sni, p.m.get("Certificate"), p.m.get("MultiCertInfo"))?;
        }
        apply_common(&p, &mut l)?;
        apply_scheduling(&p, &mut l, &["WRR", "LEAST_CONN", "IP_HASH"], true)?;
        if st.busy(lb) {
            return Err(e(BUSY, format!("a task is running on `{lb}`; try again later")));
        }
        let fail = ctx.fail_task();
        let ends = call.now + ctx.timing().update;
        st.start_task(&call.request_id, lb, ends, fail, TaskKind::Modify(Box::new(l)));
        Ok(json!({}))
    }

    fn delete(&self, ctx: &mut dyn Context, call: &Call, batch: bool) -> R<Value> {
        region(call)?;
        let p = P::new(&call.params, "")?;
        let lb = p.required_str("LoadBalancerId")?;
        let mut st = self.state();
        st.settle(call.now);
        let Some(listeners) = st.lbs.get(lb) else {
            return Err(e(
                "InvalidParameter.LBIdNotFound",
                format!("load balancer `{lb}` does not exist"),
            ));
        };
        let ids: Vec<String> = if batch {
            p.allow(&["LoadBalancerId", "ListenerIds", "Region"])?;
            match p.array("ListenerIds")? {
                // The vendor's documented behaviour: no IDs deletes them all.
                None => listeners.iter().map(|l| l.id.clone()).collect(),
                Some(list) if list.len() > 20 => return Err(e(VALUE, "at most 20 ListenerIds per call")),
                Some(list) => list
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .ok_or_else(|| e(FORMAT, "`ListenerIds` must hold strings"))
                    })
                    .collect::<R<_>>()?,
            }
        } else {
            p.allow(&["LoadBalancerId", "ListenerId", "Region"])?;
            vec![p.required_str("ListenerId")?.to_string()]
        };
        for id in &ids {
            if !listeners.iter().any(|l| &l.id == id) {
                return Err(e(
                    "InvalidParameter.ListenerIdNotFound",
                    format!("listener `{id}` does not exist on `{lb}`"),
                ));
            }
        }
        if st.busy(lb) {
            return Err(e(BUSY, format!("a task is running on `{lb}`; try again later")));
        }
        let fail = ctx.fail_task();
        let ends = call.now + ctx.timing().delete;
        st.start_task(&call.request_id, lb, ends, fail, TaskKind::Delete(ids));
        Ok(json!({}))
    }

    fn task_status(&self, call: &Call) -> R<Value> {
        let p = P::new(&call.params, "")?;
        p.allow(&["TaskId", "DealName", "Region"])?;
        let id = match (p.string("TaskId")?, p.string("DealName")?) {
            (Some(t), _) if !t.is_empty() => t,
            (_, Some(d)) if !d.is_empty() => d,
            _ => return Err(ApiError::missing_parameter("TaskId")),
        };
        let mut st = self.state();
        st.settle(call.now);
        let Some(task) = st.tasks.get(id) else {
            return Err(e(VALUE, format!("task `{id}` does not exist")));
        };
        let (status, message) = match task.settled {
            None => (2, Value::Null),
            Some(true) => (0, Value::Null),
            Some(false) => (
                1,
                json!(match task.kind {
                    TaskKind::Create(_) => "the listener could not be created; it was rolled back".to_string(),
                    TaskKind::Modify(_) => "the listener could not be modified; the old settings stay".to_string(),
                    TaskKind::Delete(_) => "the listener could not be deleted".to_string(),
                    TaskKind::Rules { what, .. } => format!("{what} failed; the rules stay as they were"),
                }),
            ),
        };
        Ok(json!({ "Status": status, "Message": message, "LoadBalancerIds": [task.lb] }))
    }
}

impl Service for Clb {
    fn family(&self) -> Family {
        Family::Tencent
    }

    fn version(&self) -> &'static str {
        "2018-03-17"
    }

    fn name(&self) -> &'static str {
        "clb"
    }

    fn seed(&self, instance: InstanceSeed) {
        self.state().lbs.entry(instance.id).or_default();
    }

    fn handle(&self, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
        match call.action.as_str() {
            "CreateListener" => self.create(ctx, call),
            "DescribeListeners" => self.describe(call),
            "ModifyListener" => self.modify(ctx, call),
            "DeleteListener" => self.delete(ctx, call, false),
            "DeleteLoadBalancerListeners" => self.delete(ctx, call, true),
            "DescribeTaskStatus" => self.task_status(call),
            "CreateRule" => self.create_rule(ctx, call),
            "ModifyRule" => self.modify_rule(ctx, call),
            "ModifyDomainAttributes" => self.modify_domain(ctx, call),
            "DeleteRule" => self.delete_rule(ctx, call),
            "RegisterTargets" => self.register(ctx, call, true),
            "DeregisterTargets" => self.register(ctx, call, false),
            "DescribeTargets" => self.describe_targets(call),
            other => Err(ApiError::unknown_action(Family::Tencent, other)),
        }
    }

    fn listener_counts(&self) -> BTreeMap<String, usize> {
        self.state().lbs.iter().map(|(k, v)| (k.clone(), v.len())).collect()
    }

    fn resolve(&self, query: &crate::service::ResolveQuery, now: Instant) -> Option<Result<Value, ApiError>> {
        let q = json!({"instance": query.instance, "port": query.port, "host": query.host, "path": query.path});
        Some(self.resolve_request(&q, now))
    }
}

#[path = "clb_rules.rs"]
mod rules;

#[cfg(test)]
#[path = "clb_tests.rs"]
mod tests;
