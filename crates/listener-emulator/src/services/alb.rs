//! Emulated Alibaba Cloud Application Load Balancer (ALB), API version
//! `2020-06-16`: the listener actions of one account and region.
//!
//! Instances come from seeds (`alb-…`, with their server groups `sgp-…`);
//! listeners (`lsn-…`) and asynchronous jobs live in memory. Every rule the
//! `alibaba-alb` adapter checks before sending is enforced here again with
//! ALB's own error code, so a raw request gets the vendor's answer:
//!
//! | rule | code |
//! |---|---|
//! | required parameter left out (`LoadBalancerId`, `ListenerProtocol`, `ListenerPort`, `DefaultActions`, a certificate of an HTTPS/QUIC listener, the CA of `CaEnabled=true`, `QuicListenerId` of an enabled upgrade, `ListenerId`) | `MissingParameter` |
//! | protocol other than HTTP/HTTPS/QUIC; port outside 1–65535 or not one integer; description length or characters; timeouts outside 1–600; `Http2Enabled`, `SecurityPolicyId`, `CaEnabled`, `QuicConfig` or client-certificate headers on a non-HTTPS listener; a certificate on HTTP; more than one default certificate or CA; X-Forwarded-For switch, mode, source port or source IPs on QUIC; a header alias outside 1–40 of `a–z 0–9 - _`; a processing mode without X-Forwarded-For; a trusted address that is not an IP or CIDR; a default action other than `ForwardGroup`; a QUIC upgrade to a listener that is not QUIC; port, protocol or instance in `UpdateListenerAttribute`; bad paging values | `InvalidParameter` (ALB documents no finer code) |
//! | unknown instance / server group / listener / security policy / certificate | `ResourceNotFound.LoadBalancer` / `.ServerGroup` / `.Listener` / `.SecurityPolicy` / `.Certificate` (HTTP 404) |
//! | a port taken on the instance (HTTP and HTTPS share TCP; QUIC is UDP) | `ResourceAlreadyExist.Listener` |
//! | more listeners than the quota (50) | `ResourceQuotaExceeded.LoadBalancerListenersNum` |
//! | QUIC upgrade to a listener of another instance | `OperationDenied.CrossLoadBalancerQUICListener` |
//! | QUIC listener already associated with another HTTPS listener; certificate already on the listener | `ResourceAlreadyAssociated.Listener` / `ResourceAlreadyAssociated.Certificate` |
//! | a write while another listener of the instance has unfinished work | `IncorrectStatus.LoadBalancer` |
//! | a write to a listener that has unfinished work | `IncorrectStatus.Listener` |
//! | same `ClientToken`, other parameters | `IdempotentParameterMismatch` |
//! | `DryRun=true` that passes every check | `DryRunOperation` |
//!
//! Asynchronous work follows [`Context::timing`]: a new listener is
//! `Provisioning` for the create delay, then `Running`; an update or a
//! certificate change keeps it `Configuring` for the update delay and
//! applies at the end; a delete keeps it `Deleting`, then it is gone. Every
//! write answers a `JobId` that `ListAsynJobs` reports as `Processing`, then
//! `Succeeded`, or `Failed` when [`Context::fail_task`] says so: a failed
//! create leaves no listener, a failed update or certificate change leaves
//! the old configuration, a failed delete leaves the listener running.
//! States are worked out lazily from the call's clock.
//!
//! `ClientToken` follows the family rule in [`crate::idempotency`] (keyed by
//! the token alone): the same token with the same
//! parameters answers the first result again (same `ListenerId`, same
//! `JobId`) without acting; with other parameters it is refused.
//!
//! Access control lists (`CreateAcl`, `AddEntriesToAcl`,
//! `RemoveEntriesFromAcl`, `DeleteAcl`, `ListAcls`, `ListAclEntries`,
//! `AssociateAclsWithListener`, `DissociateAclsFromListener`) and listener
//! log settings (`UpdateListenerLogConfig`, with the instance switch
//! `EnableLoadBalancerAccessLog`) live in `alb_acl.rs`, with their rules.
//!
//! Forwarding rules (`CreateRule`, `CreateRules`, `ListRules`,
//! `UpdateRuleAttribute`, `UpdateRulesAttribute`, `DeleteRule`, `DeleteRules`), ALB's matching and
//! the admin resolve call live in `alb_rules.rs`; server groups
//! (`CreateServerGroup`, `UpdateServerGroupAttribute`, `AddServersToServerGroup`,
//! `RemoveServersFromServerGroup`, `ListServerGroups`,
//! `ListServerGroupServers`, `DeleteServerGroup`) in `alb_pools.rs`. A rule
//! or server-group job keeps the instance busy like a listener's (rules)
//! or only the group (servers, which belong to no instance).
//!
//! The instance itself is read with `GetLoadBalancerAttribute`
//! (`LoadBalancerId`), what a client asks to learn the instance's VPC:
//!
//! | field | answer | source |
//! |---|---|---|
//! | `VpcId` | [`SEEDED_VPC`] for every instance: the VPC the seeded server groups report, so a group created in it is one ALB would accept | ALB-m 1.3.3 `GetLoadBalancerAttributeResponseBody` (`VpcId`, "the VPC in which the instance is deployed") |
//! | `LoadBalancerId`, `LoadBalancerStatus` `Active`, `LoadBalancerBussinessStatus` `Normal` (vendor spelling), `LoadBalancerEdition` `Standard`, `AddressType` `Internet`, `AddressAllocatedMode` `Dynamic`, `AddressIpVersion` `IPv4`, `DeletionProtectionConfig.Enabled` `false`, `ModificationProtectionConfig.Status` `NonProtection`, `LoadBalancerBillingConfig.PayType` `PostPay` (the only value listed), `LoadBalancerOperationLocks` and `Tags` empty; `RegionId` and `DNSName` (`<id>.<region>.alb.aliyuncs.com`) when the call names a region | values the same model lists as valid; `Active`/`Normal` is a running, unlocked instance |
//! | unknown instance / `LoadBalancerId` left out | `ResourceNotFound.LoadBalancer` (404) / `MissingParameter` | Terraform alicloud `DescribeAlbLoadBalancer` (treats `ResourceNotFound.LoadBalancer` as gone); factsheet §8 |
//!
//! Not answered: `CreateTime`, `ZoneMappings`, `AccessLogConfig`,
//! `SecurityGroupIds`, `ResourceGroupId`, `LoadBalancerName`: seeds carry
//! no zones, creation time or name, and every one is optional in the model.
//!
//! Parameters ALB does not declare for an action are ignored, as its
//! gateway does, except port, protocol and instance on an update: those
//! are refused so a client that tries to change them learns it cannot.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use crate::idempotency::ClientTokens;

#[path = "alb_acl.rs"]
mod acl;
#[path = "alb_pools.rs"]
mod pools;
#[path = "alb_rules.rs"]
pub mod rules;
use crate::service::{ApiError, Call, Context, Family, InstanceSeed, ResolveQuery, Service};

/// The ALB API version this service answers.
pub const VERSION: &str = "2020-06-16";
/// ALB's default quota of listeners per instance.
pub const DEFAULT_LISTENER_QUOTA: usize = 50;
/// Highest request or idle timeout accepted (current vendor pages; the
/// older CreateListener page said 180 and 60).
pub const MAX_TIMEOUT_SECS: u32 = 600;
/// ALB's system TLS security policies.
const SYSTEM_POLICIES: [&str; 5] = [
    "tls_cipher_policy_1_0",
    "tls_cipher_policy_1_1",
    "tls_cipher_policy_1_2",
    "tls_cipher_policy_1_2_strict",
    "tls_cipher_policy_1_2_strict_with_1_3",
];
/// The VPC of every emulated instance and of the server groups seeded on
/// them (`GetLoadBalancerAttribute` and `ListServerGroups` agree on it).
pub const SEEDED_VPC: &str = "vpc-seeded";
/// Certificates per Associate/Dissociate call.
const CERTIFICATES_PER_CALL: usize = 20;

/// `XForwardedForConfig` booleans, with the listener protocols that have
/// them.
const XFF_FLAGS: [(&str, Scope); 14] = [
    ("XForwardedForEnabled", Scope::HttpAndHttps),
    ("XForwardedForClientSrcPortEnabled", Scope::HttpAndHttps),
    ("XForwardedForClientSourceIpsEnabled", Scope::HttpAndHttps),
    ("XForwardedForProtoEnabled", Scope::All),
    ("XForwardedForSLBIdEnabled", Scope::All),
    ("XForwardedForSLBPortEnabled", Scope::All),
    ("XForwardedForHostEnabled", Scope::All),
    ("XForwardedForClientCertClientVerifyEnabled", Scope::HttpsOnly),
    ("XForwardedForClientCertFingerprintEnabled", Scope::HttpsOnly),
    ("XForwardedForClientCertIssuerDNEnabled", Scope::HttpsOnly),
    ("XForwardedForClientCertSubjectDNEnabled", Scope::HttpsOnly),
    ("XForwardedForClientCertClientVerifyAlias", Scope::HttpsOnly),
    ("XForwardedForClientCertFingerprintAlias", Scope::HttpsOnly),
    ("XForwardedForClientCertIssuerDNAlias", Scope::HttpsOnly),
];
/// The fourth alias and the text settings.
const XFF_TEXT: [(&str, Scope); 3] = [
    ("XForwardedForClientCertSubjectDNAlias", Scope::HttpsOnly),
    ("XForwardedForProcessingMode", Scope::HttpAndHttps),
    ("XForwardedForClientSourceIpsTrusted", Scope::HttpAndHttps),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    All,
    HttpAndHttps,
    HttpsOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proto {
    Http,
    Https,
    Quic,
}

impl Proto {
    fn parse(s: &str) -> Option<Proto> {
        match s {
            "HTTP" => Some(Proto::Http),
            "HTTPS" => Some(Proto::Https),
            "QUIC" => Some(Proto::Quic),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Proto::Http => "HTTP",
            Proto::Https => "HTTPS",
            Proto::Quic => "QUIC",
        }
    }

    /// QUIC listens on UDP; HTTP and HTTPS share the TCP port space.
    fn udp(self) -> bool {
        self == Proto::Quic
    }

    fn has(self, scope: Scope) -> bool {
        match scope {
            Scope::All => true,
            Scope::HttpAndHttps => self != Proto::Quic,
            Scope::HttpsOnly => self == Proto::Https,
        }
    }
}

/// The changeable settings of a listener.
#[derive(Debug, Clone, PartialEq)]
struct Config {
    description: Option<String>,
    request_timeout: u32,
    idle_timeout: u32,
    gzip: bool,
    http2: bool,
    security_policy: String,
    default_certificate: Option<String>,
    /// Additional certificates that finished associating.
    additional: Vec<String>,
    ca_enabled: bool,
    ca_certificates: Vec<String>,
    /// `XForwardedForConfig`, every key the protocol has, with defaults.
    xff: Map<String, Value>,
    quic_upgrade: bool,
    quic_listener: Option<String>,
    server_groups: Vec<String>,
    /// ACLs in use (`AssociateAclsWithListener`).
    acls: acl::AclUse,
    /// Access-log settings (`UpdateListenerLogConfig`).
    log: acl::LogSettings,
}

impl Config {
    fn defaults(proto: Proto) -> Config {
        let mut xff = Map::new();
        for (key, scope) in XFF_FLAGS {
            if proto.has(scope) && !key.ends_with("Alias") {
                xff.insert(key.into(), json!(key == "XForwardedForEnabled"));
            }
        }
        if proto.has(Scope::HttpAndHttps) {
            xff.insert("XForwardedForProcessingMode".into(), json!("append"));
        }
        Config {
            description: None,
            request_timeout: 60,
            idle_timeout: 15,
            gzip: true,
            http2: true,
            security_policy: SYSTEM_POLICIES[0].into(),
            default_certificate: None,
            additional: Vec::new(),
            ca_enabled: false,
            ca_certificates: Vec::new(),
            xff,
            quic_upgrade: false,
            quic_listener: None,
            server_groups: Vec::new(),
            acls: acl::AclUse::default(),
            log: acl::LogSettings::default(),
        }
    }
}

/// Unfinished asynchronous work on a listener.
#[derive(Debug, Clone)]
enum Work {
    Create,
    Update(Box<Config>),
    Associate(Vec<String>),
    Dissociate(Vec<String>),
    /// StartListener (`true`) or StopListener.
    Switch(bool),
    Delete,
}

/// Asynchronous work on an emulated object (a listener, ACL, rule or
/// server group): what it does, when it is over, and whether it fails.
#[derive(Debug, Clone)]
struct Underway<W> {
    work: W,
    until: Instant,
    fail: bool,
}

type Pending = Underway<Work>;

/// Finish the work of every object in `objects` that is due by `now`:
/// `finish` gets the object, the work and whether it failed, applies what
/// it should and says whether the object goes. Gone objects are removed,
/// and their IDs returned (oldest key first).
fn settle_due<T, W>(
    objects: &mut BTreeMap<String, T>,
    now: Instant,
    job: impl Fn(&mut T) -> &mut Option<Underway<W>>,
    mut finish: impl FnMut(&mut T, W, bool) -> bool,
) -> Vec<String> {
    let mut gone = Vec::new();
    objects.retain(|id, object| {
        let slot = job(object);
        if slot.as_ref().is_none_or(|j| j.until > now) {
            return true;
        }
        let Some(j) = slot.take() else { return true };
        let remove = finish(object, j.work, j.fail);
        if remove {
            gone.push(id.clone());
        }
        !remove
    });
    gone
}

#[derive(Debug, Clone)]
struct Listener {
    id: String,
    lb: String,
    proto: Proto,
    port: u32,
    /// Creation order, for stable listings.
    seq: u64,
    config: Config,
    /// Tags (TagResources/UnTagResources act at once, no job).
    tags: BTreeMap<String, String>,
    /// Stopped by StopListener (until StartListener).
    stopped: bool,
    pending: Option<Pending>,
}

impl Listener {
    fn status(&self) -> &'static str {
        match self.pending.as_ref().map(|p| &p.work) {
            None if self.stopped => "Stopped",
            None => "Running",
            Some(Work::Create) => "Provisioning",
            Some(Work::Delete) => "Deleting",
            Some(_) => "Configuring",
        }
    }

    /// `GetListenerAttribute`'s answer (`ListListeners` drops the
    /// certificates).
    fn attribute(&self) -> Value {
        let c = &self.config;
        let mut a = Map::new();
        a.insert("ListenerId".into(), json!(self.id));
        a.insert("LoadBalancerId".into(), json!(self.lb));
        a.insert("ListenerProtocol".into(), json!(self.proto.name()));
        a.insert("ListenerPort".into(), json!(self.port));
        a.insert("ListenerStatus".into(), json!(self.status()));
        if let Some(d) = &c.description {
            a.insert("ListenerDescription".into(), json!(d));
        }
        a.insert("RequestTimeout".into(), json!(c.request_timeout));
        a.insert("IdleTimeout".into(), json!(c.idle_timeout));
        a.insert("GzipEnabled".into(), json!(c.gzip));
        if self.proto == Proto::Https {
            a.insert("Http2Enabled".into(), json!(c.http2));
            a.insert("SecurityPolicyId".into(), json!(c.security_policy));
            a.insert("CaEnabled".into(), json!(c.ca_enabled));
            let cas: Vec<Value> = c
                .ca_certificates
                .iter()
                .map(|id| json!({"CertificateId": id, "IsDefault": true, "Status": "Associated"}))
                .collect();
            a.insert("CaCertificates".into(), Value::Array(cas));
            let mut quic = Map::new();
            quic.insert("QuicUpgradeEnabled".into(), json!(c.quic_upgrade));
            if let Some(q) = &c.quic_listener {
                quic.insert("QuicListenerId".into(), json!(q));
            }
            a.insert("QuicConfig".into(), Value::Object(quic));
        }
        if let Some(cert) = &c.default_certificate {
            a.insert("Certificates".into(), json!([{ "CertificateId": cert }]));
        }
        a.insert("DefaultActions".into(), default_actions(&c.server_groups));
        a.insert("XForwardedForConfig".into(), Value::Object(c.xff.clone()));
        let tags: Vec<Value> = self.tags.iter().map(|(k, v)| json!({ "Key": k, "Value": v })).collect();
        a.insert("Tags".into(), Value::Array(tags));
        let (acl_config, log_config) = acl::attribute_parts(self);
        a.insert("AclConfig".into(), acl_config);
        a.insert("LogConfig".into(), log_config);
        Value::Object(a)
    }
}

/// Fields of `GetListenerAttribute` that `ListListeners` does not answer:
/// its response model (`ListListenersResponseBodyListeners` in the official
/// SDKs) has none of them, and typed SDKs reject fields they do not know.
const LIST_OMITS: &[&str] = &["Certificates", "CaCertificates", "CaEnabled", "AclConfig"];

fn default_actions(groups: &[String]) -> Value {
    let tuples: Vec<Value> = groups.iter().map(|g| json!({ "ServerGroupId": g })).collect();
    json!([{ "Type": "ForwardGroup", "ForwardGroupConfig": { "ServerGroupTuples": tuples } }])
}

#[derive(Debug, Clone)]
struct Job {
    id: String,
    resource: String,
    api: &'static str,
    operate: &'static str,
    until: Instant,
    fail: bool,
    created_ms: u64,
    seq: u64,
}

impl Job {
    fn answer(&self, now: Instant) -> Value {
        let status = if now < self.until {
            "Processing"
        } else if self.fail {
            "Failed"
        } else {
            "Succeeded"
        };
        let mut j = json!({
            "Id": self.id,
            "ResourceId": self.resource,
            "ResourceType": resource_type(&self.resource),
            "ApiName": self.api,
            "OperateType": self.operate,
            "Status": status,
            "CreateTime": self.created_ms,
            "ModifyTime": self.created_ms,
        });
        if status == "Failed" {
            j["ErrorCode"] = json!("InternalError.TaskFailed");
            j["ErrorMessage"] = json!(format!("The {} task of {} failed.", self.operate, self.resource));
        }
        j
    }
}

/// The `ResourceType` of a job, from its resource's ID prefix.
fn resource_type(id: &str) -> &'static str {
    match id.split('-').next() {
        Some("acl") => "acl",
        Some("rule") => "rule",
        Some("sgp") => "servergroup",
        _ => "listener",
    }
}

#[derive(Debug, Default)]
struct State {
    /// Instance → its server groups.
    instances: BTreeMap<String, BTreeSet<String>>,
    listeners: BTreeMap<String, Listener>,
    /// Access control lists of the account and region.
    acls: BTreeMap<String, acl::Acl>,
    /// Instances whose access log is on (EnableLoadBalancerAccessLog).
    access_log: BTreeSet<String>,
    jobs: BTreeMap<String, Job>,
    /// Forwarding rules of every listener.
    rules: BTreeMap<String, rules::Rule>,
    /// Server groups of the account and region (seeded and created).
    pools: BTreeMap<String, pools::Pool>,
    tokens: ClientTokens,
    /// `(action, ClientToken)` of every write that reached the service.
    seen_tokens: Vec<(String, String)>,
    seq: u64,
    id_state: u64,
}

/// The emulated ALB service. [`Alb::client_tokens`] lets a test see which
/// `ClientToken` each write carried.
#[derive(Debug)]
pub struct Alb {
    state: Mutex<State>,
    quota: usize,
    rule_quota: usize,
    server_quota: usize,
}

impl Default for Alb {
    fn default() -> Self {
        Alb::new()
    }
}

impl Alb {
    /// A service with no instances and the default listener quota.
    pub fn new() -> Self {
        Alb::with_listener_quota(DEFAULT_LISTENER_QUOTA)
    }

    /// A service whose instances hold at most `quota` listeners.
    pub fn with_listener_quota(quota: usize) -> Self {
        Alb {
            state: Mutex::new(State {
                id_state: rand::random(),
                ..State::default()
            }),
            quota,
            rule_quota: rules::DEFAULT_RULES_PER_INSTANCE,
            server_quota: pools::DEFAULT_SERVERS_PER_GROUP,
        }
    }

    /// The same service with another quota of rules per instance (the
    /// default rule excluded).
    pub fn with_rule_quota(mut self, quota: usize) -> Self {
        self.rule_quota = quota;
        self
    }

    /// The same service with another quota of servers per server group.
    pub fn with_server_quota(mut self, quota: usize) -> Self {
        self.server_quota = quota;
        self
    }

    /// The `ClientToken` of every `action` call that reached the service,
    /// in order (throttled or dropped attempts never reach it). The tag
    /// actions, which take no token, are recorded on every call, with an
    /// empty string when none was sent.
    pub fn client_tokens(&self, action: &str) -> Vec<String> {
        self.lock()
            .seen_tokens
            .iter()
            .filter(|(a, _)| a == action)
            .map(|(_, t)| t.clone())
            .collect()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic inside a handler must not wedge the emulator: the state is
        // only ever changed after every check passed.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

// ---------------------------------------------------------------------------
// Parameter reading
// ---------------------------------------------------------------------------

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new("InvalidParameter", message)
}

fn not_found(what: &str, id: &str) -> ApiError {
    ApiError::new(
        format!("ResourceNotFound.{what}"),
        format!("The specified resource {id} is not found."),
    )
    .status(404)
}

fn text<'a>(params: &'a Value, key: &str) -> Option<&'a str> {
    params.get(key).and_then(Value::as_str)
}

fn required<'a>(params: &'a Value, key: &str) -> Result<&'a str, ApiError> {
    text(params, key)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| ApiError::missing_parameter(key))
}

fn integer(params: &Value, key: &str) -> Result<Option<u32>, ApiError> {
    match params.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse::<u32>()
            .map(Some)
            .map_err(|_| invalid(format!("The parameter {key} must be an integer, not `{s}`."))),
        Some(_) => Err(invalid(format!("The parameter {key} must be an integer."))),
    }
}

fn boolean(params: &Value, key: &str) -> Result<Option<bool>, ApiError> {
    match params.get(key) {
        None => Ok(None),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(_) => Err(invalid(format!("The parameter {key} must be true or false."))),
    }
}

/// A list parameter (`Certificates.N.…`) as its items; JSON page notation
/// or a scalar is not a list.
fn list<'a>(params: &'a Value, key: &str) -> Result<&'a [Value], ApiError> {
    match params.get(key) {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(invalid(format!("The parameter {key} must be a list ({key}.N.…)."))),
    }
}

/// IDs of a `Certificates`/`CaCertificates` list.
fn certificate_ids(params: &Value, key: &str) -> Result<Vec<String>, ApiError> {
    list(params, key)?
        .iter()
        .map(|c| {
            text(c, "CertificateId")
                .filter(|s| !s.trim().is_empty())
                .map(str::to_string)
                .ok_or_else(|| ApiError::missing_parameter(&format!("{key}.N.CertificateId")))
        })
        .collect()
}

/// Tags per resource (TagResources: "up to 20 tags").
const MAX_TAGS: usize = 20;
/// Longest tag key or value.
const MAX_TAG_LEN: usize = 128;

/// Whether a tag key (`key`) or value breaks the `Tag.N.Key`/`Tag.N.Value`
/// rules: key 1–128 characters, value at most 128, neither starting with
/// `aliyun` or `acs:` nor holding `http://` or `https://`.
fn tag_text_error(text: &str, key: bool) -> Option<ApiError> {
    let n = text.chars().count();
    let what = if key { "Tag.N.Key" } else { "Tag.N.Value" };
    let bad = (key && n == 0)
        || n > MAX_TAG_LEN
        || text.starts_with("aliyun")
        || text.starts_with("acs:")
        || text.contains("http://")
        || text.contains("https://");
    bad.then(|| invalid(format!("The parameter {what} `{text}` is invalid.")))
}

/// The `Tag.N.Key`/`Tag.N.Value` list of a call, checked.
fn tags_of(params: &Value) -> Result<Vec<(String, String)>, ApiError> {
    let mut out = Vec::new();
    for t in list(params, "Tag")? {
        let key = text(t, "Key").unwrap_or("");
        let value = text(t, "Value").unwrap_or("");
        if let Some(e) = tag_text_error(key, true).or_else(|| tag_text_error(value, false)) {
            return Err(e);
        }
        out.push((key.to_string(), value.to_string()));
    }
    Ok(out)
}

/// A tag set past the per-resource quota.
fn too_many_tags(n: usize) -> ApiError {
    ApiError::new(
        "QuotaExceeded.TagsNum",
        format!("The quota of TagsNum is exceeded, usage {n}/{MAX_TAGS}."),
    )
}

fn is_dry_run(call: &Call) -> Result<bool, ApiError> {
    Ok(boolean(&call.params, "DryRun")?.unwrap_or(false))
}

fn dry_run_passed() -> ApiError {
    ApiError::new(
        "DryRunOperation",
        "Request validation has been passed with DryRun flag set.",
    )
}

fn description_char_ok(c: char, updating: bool) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '-' | '/' | '.' | '_')
        || (updating && (matches!(c, ',' | ';' | '@') || ('\u{4e00}'..='\u{9fff}').contains(&c)))
}

fn alias_ok(alias: &str) -> bool {
    (1..=40).contains(&alias.len())
        && alias
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn address_or_cidr_ok(s: &str) -> bool {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let Ok(ip) = addr.parse::<IpAddr>() else { return false };
    match prefix {
        None => true,
        Some(p) => {
            let max = if ip.is_ipv4() { 32 } else { 128 };
            !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u32>().is_ok_and(|n| n <= max)
        }
    }
}

/// Apply the changeable settings in `params` to `base`, with every rule
/// ALB has for them. `creating` selects the create-time rules
/// (description characters, required certificates and CA).
fn apply_settings(proto: Proto, params: &Value, base: &Config, creating: bool) -> Result<Config, ApiError> {
    let mut c = base.clone();
    let https = proto == Proto::Https;

    if let Some(d) = text(params, "ListenerDescription") {
        let n = d.chars().count();
        if !(2..=256).contains(&n) {
            return Err(invalid(
                "The parameter ListenerDescription must be 2 to 256 characters long.",
            ));
        }
        if let Some(bad) = d.chars().find(|ch| !description_char_ok(*ch, !creating)) {
            return Err(invalid(format!(
                "The parameter ListenerDescription contains the illegal character {bad:?}."
            )));
        }
        c.description = Some(d.to_string());
    }
    for (key, slot) in [
        ("RequestTimeout", &mut c.request_timeout),
        ("IdleTimeout", &mut c.idle_timeout),
    ] {
        if let Some(t) = integer(params, key)? {
            if !(1..=MAX_TIMEOUT_SECS).contains(&t) {
                return Err(invalid(format!(
                    "The parameter {key} must be 1 to {MAX_TIMEOUT_SECS} seconds."
                )));
            }
            *slot = t;
        }
    }
    if let Some(g) = boolean(params, "GzipEnabled")? {
        c.gzip = g;
    }
    if let Some(h2) = boolean(params, "Http2Enabled")? {
        if !https {
            return Err(invalid(
                "The parameter Http2Enabled is only supported by HTTPS listeners.",
            ));
        }
        c.http2 = h2;
    }
    if let Some(policy) = text(params, "SecurityPolicyId") {
        if !https {
            return Err(invalid(
                "The parameter SecurityPolicyId is only supported by HTTPS listeners.",
            ));
        }
        if !(SYSTEM_POLICIES.contains(&policy) || policy.starts_with("spy-")) {
            return Err(not_found("SecurityPolicy", policy));
        }
        c.security_policy = policy.to_string();
    }

    let certs = certificate_ids(params, "Certificates")?;
    if !certs.is_empty() {
        if proto == Proto::Http {
            return Err(invalid("HTTP listeners take no certificates."));
        }
        if certs.len() > 1 {
            return Err(invalid(
                "Certificates takes the one default certificate; add more with AssociateAdditionalCertificatesWithListener.",
            ));
        }
        c.default_certificate = certs.into_iter().next();
        if let Some(d) = &c.default_certificate {
            c.additional.retain(|a| a != d);
        }
    }
    if creating && proto != Proto::Http && c.default_certificate.is_none() {
        return Err(ApiError::missing_parameter("Certificates.1.CertificateId"));
    }

    let ca = certificate_ids(params, "CaCertificates")?;
    if let Some(on) = boolean(params, "CaEnabled")? {
        if on && !https {
            return Err(invalid(
                "Mutual authentication (CaEnabled) is only supported by HTTPS listeners.",
            ));
        }
        c.ca_enabled = on;
    }
    if !ca.is_empty() {
        if !https {
            return Err(invalid("CA certificates are only supported by HTTPS listeners."));
        }
        c.ca_certificates = ca;
    }
    if c.ca_enabled {
        match c.ca_certificates.len() {
            0 => return Err(ApiError::missing_parameter("CaCertificates.1.CertificateId")),
            1 => {}
            _ => return Err(invalid("Mutual authentication takes exactly one CA certificate.")),
        }
    } else if creating {
        c.ca_certificates.clear();
    }

    if let Some(x) = params.get("XForwardedForConfig") {
        let x = x
            .as_object()
            .ok_or_else(|| invalid("XForwardedForConfig must be an object (XForwardedForConfig.…)."))?;
        let xv = Value::Object(x.clone());
        for (key, scope) in XFF_FLAGS.iter().chain(XFF_TEXT.iter()) {
            if !x.contains_key(*key) {
                continue;
            }
            if !proto.has(*scope) {
                return Err(invalid(format!(
                    "XForwardedForConfig.{key} is not supported by {} listeners.",
                    proto.name()
                )));
            }
            if key.ends_with("Enabled") {
                let v = boolean(&xv, key)?.unwrap_or(false);
                c.xff.insert((*key).into(), json!(v));
            } else {
                let v = text(&xv, key).unwrap_or("");
                if key.ends_with("Alias") && !alias_ok(v) {
                    return Err(invalid(format!(
                        "XForwardedForConfig.{key} must be 1 to 40 characters of a-z, 0-9, - and _."
                    )));
                }
                if *key == "XForwardedForProcessingMode" && !matches!(v, "append" | "remove") {
                    return Err(invalid("XForwardedForProcessingMode must be append or remove."));
                }
                if *key == "XForwardedForClientSourceIpsTrusted" && !v.split(',').all(|a| address_or_cidr_ok(a.trim()))
                {
                    return Err(invalid(
                        "XForwardedForClientSourceIpsTrusted must list IP addresses or CIDR blocks.",
                    ));
                }
                c.xff.insert((*key).into(), json!(v));
            }
        }
        if x.contains_key("XForwardedForProcessingMode")
            && c.xff.get("XForwardedForEnabled") != Some(&Value::Bool(true))
        {
            return Err(invalid(
                "XForwardedForProcessingMode takes effect only with XForwardedForEnabled.",
            ));
        }
    }

    if let Some(q) = params.get("QuicConfig") {
        if !https {
            return Err(invalid("QuicConfig is only supported by HTTPS listeners."));
        }
        if let Some(on) = boolean(q, "QuicUpgradeEnabled")? {
            c.quic_upgrade = on;
        }
        if let Some(id) = text(q, "QuicListenerId").filter(|s| !s.is_empty()) {
            c.quic_listener = Some(id.to_string());
        }
        if c.quic_upgrade && c.quic_listener.is_none() {
            return Err(ApiError::missing_parameter("QuicConfig.QuicListenerId"));
        }
        if !c.quic_upgrade {
            c.quic_listener = None;
        }
    }

    let actions = list(params, "DefaultActions")?;
    if creating && actions.is_empty() {
        return Err(ApiError::missing_parameter("DefaultActions.1.Type"));
    }
    if !actions.is_empty() {
        let mut groups = Vec::new();
        for a in actions {
            let kind = required(a, "Type").map_err(|_| ApiError::missing_parameter("DefaultActions.N.Type"))?;
            if kind != "ForwardGroup" {
                return Err(invalid(format!(
                    "DefaultActions.N.Type must be ForwardGroup, not `{kind}`."
                )));
            }
            let tuples = a
                .get("ForwardGroupConfig")
                .map(|f| list(f, "ServerGroupTuples"))
                .transpose()?
                .unwrap_or(&[]);
            for t in tuples {
                groups.push(
                    required(t, "ServerGroupId")
                        .map_err(|_| {
                            ApiError::missing_parameter(
                                "DefaultActions.N.ForwardGroupConfig.ServerGroupTuples.N.ServerGroupId",
                            )
                        })?
                        .to_string(),
                );
            }
        }
        if groups.is_empty() {
            return Err(ApiError::missing_parameter(
                "DefaultActions.1.ForwardGroupConfig.ServerGroupTuples.1.ServerGroupId",
            ));
        }
        c.server_groups = groups;
    }
    Ok(c)
}

/// `now + delay`, without the overflow panic of `Instant + Duration`: a
/// delay too long to represent means "not within any test's lifetime".
fn later(now: Instant, delay: std::time::Duration) -> Instant {
    now.checked_add(delay)
        .or_else(|| now.checked_add(std::time::Duration::from_secs(100 * 365 * 24 * 3600)))
        .unwrap_or(now)
}

fn epoch_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Paging: `NextToken` is the offset of the next item, as text we made.
fn page(params: &Value, total: usize) -> Result<(usize, usize), ApiError> {
    let size = integer(params, "MaxResults")?.unwrap_or(20);
    if !(1..=100).contains(&size) {
        return Err(invalid("MaxResults must be 1 to 100."));
    }
    let start = match text(params, "NextToken").filter(|s| !s.is_empty()) {
        None => 0,
        Some(t) => t
            .strip_prefix("nt-")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= total)
            .ok_or_else(|| invalid("The NextToken is invalid."))?,
    };
    Ok((start, size as usize))
}

fn with_next(mut body: Value, start: usize, size: usize, total: usize) -> Value {
    if start + size < total {
        body["NextToken"] = json!(format!("nt-{}", start + size));
    }
    body["TotalCount"] = json!(total);
    body["MaxResults"] = json!(size);
    body
}

// ---------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------

impl State {
    /// Finish every piece of asynchronous work whose time has come.
    fn settle(&mut self, now: Instant) {
        self.settle_acls(now);
        self.settle_pools(now);
        let due: Vec<String> = self
            .listeners
            .values()
            .filter(|l| l.pending.as_ref().is_some_and(|p| p.until <= now))
            .map(|l| l.id.clone())
            .collect();
        for id in due {
            let Some(l) = self.listeners.get_mut(&id) else { continue };
            let Some(p) = l.pending.take() else { continue };
            let remove = match (p.work, p.fail) {
                (Work::Create, fail) => fail,
                (Work::Delete, fail) => !fail,
                (Work::Update(c), false) => {
                    l.config = *c;
                    false
                }
                (Work::Associate(ids), false) => {
                    l.config.additional.extend(ids);
                    false
                }
                (Work::Dissociate(ids), false) => {
                    l.config.additional.retain(|a| !ids.contains(a));
                    false
                }
                (Work::Switch(run), false) => {
                    l.stopped = !run;
                    false
                }
                (_, true) => false,
            };
            if remove {
                self.listeners.remove(&id);
                // An HTTPS listener upgrading to a vanished QUIC listener
                // loses its upgrade.
                for other in self.listeners.values_mut() {
                    if other.config.quic_listener.as_deref() == Some(id.as_str()) {
                        other.config.quic_upgrade = false;
                        other.config.quic_listener = None;
                    }
                }
            }
        }
        self.settle_rules(now);
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// 64 pseudo-random bits (splitmix64 over a random start).
    fn next_bits(&mut self) -> u64 {
        self.id_state = self.id_state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.id_state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// `lsn-` and 20 lower-case letters and digits, as ALB's IDs look.
    fn new_listener_id(&mut self) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        loop {
            let mut id = String::from("lsn-");
            let (mut a, mut b) = (self.next_bits(), self.next_bits());
            for i in 0..20 {
                let source = if i < 10 { &mut a } else { &mut b };
                id.push(ALPHABET[(*source % 36) as usize] as char);
                *source /= 36;
            }
            if !self.listeners.contains_key(&id) {
                return id;
            }
        }
    }

    /// `prefix` and 20 lower-case letters and digits, as ALB's IDs look
    /// (the caller checks uniqueness in its own map).
    fn new_id(&mut self, prefix: &str) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let mut id = String::from(prefix);
        let (mut a, mut b) = (self.next_bits(), self.next_bits());
        for i in 0..20 {
            let source = if i < 10 { &mut a } else { &mut b };
            id.push(ALPHABET[(*source % 36) as usize] as char);
            *source /= 36;
        }
        id
    }

    /// A job ID shaped like ALB's (a UUID).
    fn new_job_id(&mut self) -> String {
        let (a, b) = (self.next_bits(), self.next_bits());
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xffff,
            b >> 48,
            b & 0xffff_ffff_ffff
        )
    }

    fn start_job(
        &mut self,
        resource: &str,
        api: &'static str,
        operate: &'static str,
        until: Instant,
        fail: bool,
    ) -> String {
        let id = self.new_job_id();
        let seq = self.next_seq();
        self.jobs.insert(
            id.clone(),
            Job {
                id: id.clone(),
                resource: resource.to_string(),
                api,
                operate,
                until,
                fail,
                created_ms: epoch_ms(),
                seq,
            },
        );
        id
    }

    /// Whether another listener of `lb`, or a rule of it, has unfinished
    /// work.
    fn instance_busy(&self, lb: &str, except: Option<&str>) -> bool {
        self.listeners
            .values()
            .any(|l| l.lb == lb && Some(l.id.as_str()) != except && l.pending.is_some())
            || self.rules_busy(lb)
    }

    fn busy_instance(lb: &str) -> ApiError {
        ApiError::new(
            "IncorrectStatus.LoadBalancer",
            format!("The status of LoadBalancer [{lb}] is incorrect: another change is in progress."),
        )
    }

    fn listener(&self, id: &str) -> Result<&Listener, ApiError> {
        self.listeners.get(id).ok_or_else(|| not_found("Listener", id))
    }

    /// A write to listener `id`: it must exist and be settled, and its
    /// instance must have no other change in progress.
    fn writable(&self, id: &str) -> Result<&Listener, ApiError> {
        let l = self.listener(id)?;
        if l.pending.is_some() {
            return Err(ApiError::new(
                "IncorrectStatus.Listener",
                format!("The status of Listener [{id}] is incorrect: {}.", l.status()),
            ));
        }
        if self.instance_busy(&l.lb, Some(id)) {
            return Err(State::busy_instance(&l.lb));
        }
        Ok(l)
    }

    /// Run a write under `ClientToken` rules (the family's, in
    /// [`crate::idempotency`]): a repeated token with the same request
    /// answers the first result without acting. A dry run neither replays
    /// nor records.
    fn idempotent(
        &mut self,
        call: &Call,
        act: impl FnOnce(&mut State) -> Result<Value, ApiError>,
    ) -> Result<Value, ApiError> {
        if let Some(t) = call.flat.get("ClientToken").filter(|t| !t.is_empty()) {
            self.seen_tokens.push((call.action.clone(), t.clone()));
        }
        let dry = is_dry_run(call)?;
        if !dry {
            if let Some(answer) = self.tokens.replay(call)? {
                return Ok(answer);
            }
        }
        let answer = act(self)?;
        if !dry {
            self.tokens.remember(call, &answer);
        }
        Ok(answer)
    }

    /// The QUIC listener an HTTPS listener of `lb` may upgrade to.
    fn check_quic_target(&self, lb: &str, quic_id: &str, for_listener: Option<&str>) -> Result<(), ApiError> {
        let q = self.listener(quic_id)?;
        if q.lb != lb {
            return Err(ApiError::new(
                "OperationDenied.CrossLoadBalancerQUICListener",
                "The operation is not allowed because of CrossLoadBalancerQUICListener.",
            ));
        }
        if q.proto != Proto::Quic {
            return Err(invalid(format!("Listener {quic_id} is not a QUIC listener.")));
        }
        let taken = self.listeners.values().any(|l| {
            Some(l.id.as_str()) != for_listener
                && l.config.quic_upgrade
                && l.config.quic_listener.as_deref() == Some(quic_id)
        });
        if taken {
            return Err(ApiError::new(
                "ResourceAlreadyAssociated.Listener",
                format!("The specified resource {quic_id} is already associated."),
            ));
        }
        Ok(())
    }

    /// Server groups a listener or rule of `lb` may forward to: those
    /// seeded on the instance (another instance's seeded group stays
    /// `ResourceNotFound.ServerGroup`, as before) and every created group
    /// that exists.
    fn check_server_groups(&self, lb: &str, groups: &[String]) -> Result<(), ApiError> {
        let known = self.instances.get(lb);
        let ok = |g: &String| known.is_some_and(|k| k.contains(g)) || self.pool(g).is_ok_and(|p| !p.seeded);
        match groups.iter().find(|g| !ok(g)) {
            Some(g) => Err(not_found("ServerGroup", g)),
            None => Ok(()),
        }
    }

    fn create(&mut self, ctx: &mut dyn Context, call: &Call, quota: usize) -> Result<Value, ApiError> {
        let p = &call.params;
        let lb = required(p, "LoadBalancerId")?.to_string();
        let proto_name = required(p, "ListenerProtocol")?;
        let proto = Proto::parse(proto_name).ok_or_else(|| {
            invalid(format!(
                "The parameter ListenerProtocol must be HTTP, HTTPS or QUIC, not `{proto_name}`."
            ))
        })?;
        required(p, "ListenerPort")?;
        let port = integer(p, "ListenerPort")?
            .filter(|n| (1..=65535).contains(n))
            .ok_or_else(|| invalid("The parameter ListenerPort must be one port from 1 to 65535."))?;
        let config = apply_settings(proto, p, &Config::defaults(proto), true)?;
        let tags: BTreeMap<String, String> = tags_of(p)?.into_iter().collect();
        if tags.len() > MAX_TAGS {
            return Err(too_many_tags(tags.len()));
        }

        if !self.instances.contains_key(&lb) {
            return Err(not_found("LoadBalancer", &lb));
        }
        self.check_server_groups(&lb, &config.server_groups)?;
        if let (true, Some(q)) = (config.quic_upgrade, &config.quic_listener) {
            self.check_quic_target(&lb, q, None)?;
        }
        if let Some(other) = self
            .listeners
            .values()
            .find(|l| l.lb == lb && l.port == port && l.proto.udp() == proto.udp())
        {
            return Err(ApiError::new(
                "ResourceAlreadyExist.Listener",
                format!("The specified resource {} is already exist (port {port}).", other.id),
            ));
        }
        let used = self.listeners.values().filter(|l| l.lb == lb).count();
        if used >= quota {
            return Err(ApiError::new(
                "ResourceQuotaExceeded.LoadBalancerListenersNum",
                format!("The quota of LoadBalancerListenersNum is exceeded for resource {lb}, usage {used}/{quota}."),
            ));
        }
        if self.instance_busy(&lb, None) {
            return Err(State::busy_instance(&lb));
        }
        if is_dry_run(call)? {
            return Err(dry_run_passed());
        }

        let id = self.new_listener_id();
        let fail = ctx.fail_task();
        let until = later(call.now, ctx.timing().create);
        let job = self.start_job(&id, "CreateListener", "Create", until, fail);
        let seq = self.next_seq();
        self.listeners.insert(
            id.clone(),
            Listener {
                id: id.clone(),
                lb,
                proto,
                port,
                seq,
                config,
                tags,
                stopped: false,
                pending: Some(Pending {
                    work: Work::Create,
                    until,
                    fail,
                }),
            },
        );
        Ok(json!({ "ListenerId": id, "JobId": job }))
    }

    fn update(&mut self, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
        let p = &call.params;
        let id = required(p, "ListenerId")?.to_string();
        for fixed in ["ListenerPort", "ListenerProtocol", "LoadBalancerId"] {
            if p.get(fixed).is_some() {
                return Err(invalid(format!(
                    "The parameter {fixed} cannot be changed after the listener is created."
                )));
            }
        }
        let l = self.writable(&id)?;
        let (lb, proto) = (l.lb.clone(), l.proto);
        let config = apply_settings(proto, p, &l.config, false)?;
        self.check_server_groups(&lb, &config.server_groups)?;
        if let (true, Some(q)) = (config.quic_upgrade, &config.quic_listener) {
            self.check_quic_target(&lb, q, Some(&id))?;
        }
        if is_dry_run(call)? {
            return Err(dry_run_passed());
        }
        let fail = ctx.fail_task();
        let until = later(call.now, ctx.timing().update);
        let job = self.start_job(&id, "UpdateListenerAttribute", "Update", until, fail);
        if let Some(l) = self.listeners.get_mut(&id) {
            l.pending = Some(Pending {
                work: Work::Update(Box::new(config)),
                until,
                fail,
            });
        }
        Ok(json!({ "JobId": job }))
    }

    fn delete(&mut self, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
        let id = required(&call.params, "ListenerId")?.to_string();
        self.writable(&id)?;
        if is_dry_run(call)? {
            return Err(dry_run_passed());
        }
        let fail = ctx.fail_task();
        let until = later(call.now, ctx.timing().delete);
        let job = self.start_job(&id, "DeleteListener", "Delete", until, fail);
        if let Some(l) = self.listeners.get_mut(&id) {
            l.pending = Some(Pending {
                work: Work::Delete,
                until,
                fail,
            });
        }
        Ok(json!({ "JobId": job }))
    }

    fn certificates(&mut self, ctx: &mut dyn Context, call: &Call, associate: bool) -> Result<Value, ApiError> {
        let p = &call.params;
        let id = required(p, "ListenerId")?.to_string();
        let ids = certificate_ids(p, "Certificates")?;
        if ids.is_empty() {
            return Err(ApiError::missing_parameter("Certificates.1.CertificateId"));
        }
        if ids.len() > CERTIFICATES_PER_CALL {
            return Err(invalid(format!(
                "At most {CERTIFICATES_PER_CALL} certificates per call."
            )));
        }
        let l = self.writable(&id)?;
        if l.proto == Proto::Http {
            return Err(invalid("HTTP listeners take no certificates."));
        }
        for cert in &ids {
            let on = l.config.additional.contains(cert) || l.config.default_certificate.as_deref() == Some(cert);
            if associate && on {
                return Err(ApiError::new(
                    "ResourceAlreadyAssociated.Certificate",
                    format!("The specified resource {cert} is already associated."),
                ));
            }
            if !associate && !l.config.additional.contains(cert) {
                return Err(not_found("Certificate", cert));
            }
        }
        if is_dry_run(call)? {
            return Err(dry_run_passed());
        }
        let fail = ctx.fail_task();
        let until = later(call.now, ctx.timing().update);
        let (api, work) = if associate {
            ("AssociateAdditionalCertificatesWithListener", Work::Associate(ids))
        } else {
            ("DissociateAdditionalCertificatesFromListener", Work::Dissociate(ids))
        };
        let job = self.start_job(&id, api, "Update", until, fail);
        if let Some(l) = self.listeners.get_mut(&id) {
            l.pending = Some(Pending { work, until, fail });
        }
        Ok(json!({ "JobId": job }))
    }

    /// `StartListener` (`run`) or `StopListener`: asynchronous like every
    /// listener write (`Configuring`, then `Running` or `Stopped`). A
    /// listener already in the asked state is `IncorrectStatus.Listener`.
    fn switch(&mut self, ctx: &mut dyn Context, call: &Call, run: bool) -> Result<Value, ApiError> {
        let id = required(&call.params, "ListenerId")?.to_string();
        let l = self.writable(&id)?;
        if l.stopped != run {
            return Err(ApiError::new(
                "IncorrectStatus.Listener",
                format!("The status of Listener [{id}] is incorrect: {}.", l.status()),
            ));
        }
        if is_dry_run(call)? {
            return Err(dry_run_passed());
        }
        let fail = ctx.fail_task();
        let until = later(call.now, ctx.timing().update);
        let api = if run { "StartListener" } else { "StopListener" };
        let job = self.start_job(&id, api, "Update", until, fail);
        if let Some(l) = self.listeners.get_mut(&id) {
            l.pending = Some(Pending {
                work: Work::Switch(run),
                until,
                fail,
            });
        }
        Ok(json!({ "JobId": job }))
    }

    /// The listeners `TagResources`/`UnTagResources` name: `ResourceType`
    /// must be `listener` (other types belong to other resources, which
    /// this service does not hold) and every `ResourceId.N` must exist.
    fn tag_targets(&self, p: &Value) -> Result<Vec<String>, ApiError> {
        match required(p, "ResourceType")? {
            "listener" => {}
            other => {
                return Err(invalid(format!(
                    "The parameter ResourceType `{other}` is not supported here."
                )))
            }
        }
        let ids: Vec<String> = list(p, "ResourceId")?
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        if ids.is_empty() {
            return Err(ApiError::missing_parameter("ResourceId.1"));
        }
        for id in &ids {
            self.listener(id)?;
        }
        Ok(ids)
    }

    /// `TagResources`: add or overwrite tags on listeners, at once.
    fn tag(&mut self, call: &Call) -> Result<Value, ApiError> {
        let p = &call.params;
        let ids = self.tag_targets(p)?;
        let tags = tags_of(p)?;
        if tags.is_empty() {
            return Err(ApiError::missing_parameter("Tag.1.Key"));
        }
        for id in &ids {
            let mut after = self.listener(id)?.tags.clone();
            after.extend(tags.iter().cloned());
            if after.len() > MAX_TAGS {
                return Err(too_many_tags(after.len()));
            }
        }
        if is_dry_run(call)? {
            return Err(dry_run_passed());
        }
        for id in &ids {
            if let Some(l) = self.listeners.get_mut(id) {
                l.tags.extend(tags.iter().cloned());
            }
        }
        Ok(json!({}))
    }

    /// `UnTagResources` (the SDK's and Terraform's spelling, capital T):
    /// remove the tags `TagKey.N` names (or every tag
    /// with `All=true`); a key the listener lacks is no error.
    fn untag(&mut self, call: &Call) -> Result<Value, ApiError> {
        let p = &call.params;
        let ids = self.tag_targets(p)?;
        let all = boolean(p, "All")?.unwrap_or(false);
        let keys: Vec<String> = list(p, "TagKey")?
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        if keys.is_empty() && !all {
            return Err(ApiError::missing_parameter("TagKey.1"));
        }
        if is_dry_run(call)? {
            return Err(dry_run_passed());
        }
        for id in &ids {
            if let Some(l) = self.listeners.get_mut(id) {
                if all {
                    l.tags.clear();
                } else {
                    l.tags.retain(|k, _| !keys.contains(k));
                }
            }
        }
        Ok(json!({}))
    }

    /// `GetLoadBalancerAttribute`: the instance as a running, unlocked
    /// Standard instance in [`SEEDED_VPC`] (see the module's table).
    fn instance_attribute(&self, call: &Call) -> Result<Value, ApiError> {
        let id = required(&call.params, "LoadBalancerId")?;
        if !self.instances.contains_key(id) {
            return Err(not_found("LoadBalancer", id));
        }
        let mut body = json!({
            "LoadBalancerId": id,
            "VpcId": SEEDED_VPC,
            "LoadBalancerStatus": "Active",
            "LoadBalancerBussinessStatus": "Normal",
            "LoadBalancerEdition": "Standard",
            "AddressType": "Internet",
            "AddressAllocatedMode": "Dynamic",
            "AddressIpVersion": "IPv4",
            "DeletionProtectionConfig": { "Enabled": false },
            "ModificationProtectionConfig": { "Status": "NonProtection" },
            "LoadBalancerBillingConfig": { "PayType": "PostPay" },
            "LoadBalancerOperationLocks": [],
            "Tags": [],
        });
        if let Some(region) = call.region.as_deref().filter(|r| !r.is_empty()) {
            body["RegionId"] = json!(region);
            body["DNSName"] = json!(format!("{id}.{region}.alb.aliyuncs.com"));
        }
        Ok(body)
    }

    fn get(&self, call: &Call) -> Result<Value, ApiError> {
        let id = required(&call.params, "ListenerId")?;
        Ok(self.listener(id)?.attribute())
    }

    fn list(&self, call: &Call) -> Result<Value, ApiError> {
        let p = &call.params;
        let filter = |key: &str| -> Result<Vec<String>, ApiError> {
            let items = list(p, key)?;
            if items.len() > 20 {
                return Err(invalid(format!("{key} takes at most 20 values.")));
            }
            Ok(items.iter().filter_map(Value::as_str).map(str::to_string).collect())
        };
        let lbs = filter("LoadBalancerIds")?;
        let ids = filter("ListenerIds")?;
        let proto = text(p, "ListenerProtocol");
        let mut matching: Vec<&Listener> = self
            .listeners
            .values()
            .filter(|l| lbs.is_empty() || lbs.contains(&l.lb))
            .filter(|l| ids.is_empty() || ids.contains(&l.id))
            .filter(|l| proto.is_none_or(|pr| pr == l.proto.name()))
            .collect();
        matching.sort_by_key(|l| l.seq);
        let (start, size) = page(p, matching.len())?;
        let items: Vec<Value> = matching
            .iter()
            .skip(start)
            .take(size)
            .map(|l| {
                let mut a = l.attribute();
                if let Some(o) = a.as_object_mut() {
                    // The vendor's `ListListeners` model has no
                    // certificates and no `CaEnabled` (only
                    // `GetListenerAttribute` has them).
                    for field in LIST_OMITS {
                        o.remove(*field);
                    }
                }
                a
            })
            .collect();
        Ok(with_next(json!({ "Listeners": items }), start, size, matching.len()))
    }

    fn list_jobs(&self, call: &Call) -> Result<Value, ApiError> {
        let p = &call.params;
        let strings = |key: &str| -> Result<Vec<String>, ApiError> {
            Ok(list(p, key)?
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect())
        };
        let ids = strings("JobIds")?;
        let resources = strings("ResourceIds")?;
        let api = text(p, "ApiName");
        let mut jobs: Vec<&Job> = self
            .jobs
            .values()
            .filter(|j| ids.is_empty() || ids.contains(&j.id))
            .filter(|j| resources.is_empty() || resources.contains(&j.resource))
            .filter(|j| api.is_none_or(|a| a == j.api))
            .collect();
        jobs.sort_by_key(|j| j.seq);
        let (start, size) = page(p, jobs.len())?;
        let items: Vec<Value> = jobs.iter().skip(start).take(size).map(|j| j.answer(call.now)).collect();
        Ok(with_next(json!({ "Jobs": items }), start, size, jobs.len()))
    }

    fn list_certificates(&self, call: &Call) -> Result<Value, ApiError> {
        let p = &call.params;
        let id = required(p, "ListenerId")?;
        let l = self.listener(id)?;
        let kind = text(p, "CertificateType");
        if kind.is_some_and(|k| !matches!(k, "Server" | "Ca")) {
            return Err(invalid("CertificateType must be Server or Ca."));
        }
        let mut all = Vec::new();
        if kind != Some("Ca") {
            if let Some(d) = &l.config.default_certificate {
                all.push(
                    json!({"CertificateId": d, "CertificateType": "Server", "IsDefault": true, "Status": "Associated"}),
                );
            }
            for a in &l.config.additional {
                let leaving =
                    matches!(&l.pending, Some(Pending { work: Work::Dissociate(ids), .. }) if ids.contains(a));
                let status = if leaving { "Dissociating" } else { "Associated" };
                all.push(
                    json!({"CertificateId": a, "CertificateType": "Server", "IsDefault": false, "Status": status}),
                );
            }
            if let Some(Pending {
                work: Work::Associate(ids),
                ..
            }) = &l.pending
            {
                for a in ids {
                    all.push(json!({"CertificateId": a, "CertificateType": "Server", "IsDefault": false, "Status": "Associating"}));
                }
            }
        }
        if kind != Some("Server") {
            for c in &l.config.ca_certificates {
                all.push(
                    json!({"CertificateId": c, "CertificateType": "Ca", "IsDefault": true, "Status": "Associated"}),
                );
            }
        }
        let (start, size) = page(p, all.len())?;
        let items: Vec<Value> = all.iter().skip(start).take(size).cloned().collect();
        Ok(with_next(json!({ "Certificates": items }), start, size, all.len()))
    }
}

impl Service for Alb {
    fn family(&self) -> Family {
        Family::Alibaba
    }

    fn version(&self) -> &'static str {
        VERSION
    }

    fn name(&self) -> &'static str {
        "alb"
    }

    fn seed(&self, instance: InstanceSeed) {
        let mut st = self.lock();
        for g in &instance.server_groups {
            if !st.pools.contains_key(g) {
                let seq = st.next_seq();
                st.pools.insert(g.clone(), pools::Pool::seeded(g, seq));
            }
        }
        st.instances
            .entry(instance.id)
            .or_default()
            .extend(instance.server_groups);
    }

    fn handle(&self, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
        let (quota, rule_quota, server_quota) = (self.quota, self.rule_quota, self.server_quota);
        let mut st = self.lock();
        st.settle(call.now);
        match call.action.as_str() {
            "CreateListener" => st.idempotent(call, |s| s.create(ctx, call, quota)),
            "UpdateListenerAttribute" => st.idempotent(call, |s| s.update(ctx, call)),
            "DeleteListener" => st.idempotent(call, |s| s.delete(ctx, call)),
            "AssociateAdditionalCertificatesWithListener" => st.idempotent(call, |s| s.certificates(ctx, call, true)),
            "DissociateAdditionalCertificatesFromListener" => st.idempotent(call, |s| s.certificates(ctx, call, false)),
            "StartListener" => st.idempotent(call, |s| s.switch(ctx, call, true)),
            "StopListener" => st.idempotent(call, |s| s.switch(ctx, call, false)),
            // No `ClientToken` in either action's model (SDK 1.3.3): the
            // end state is the same however often they are sent, so no
            // token rules apply.
            "TagResources" | "UnTagResources" => {
                let token = call.flat.get("ClientToken").cloned().unwrap_or_default();
                st.seen_tokens.push((call.action.clone(), token));
                if call.action == "TagResources" {
                    st.tag(call)
                } else {
                    st.untag(call)
                }
            }
            "GetListenerAttribute" => st.get(call),
            "GetLoadBalancerAttribute" => st.instance_attribute(call),
            "ListListeners" => st.list(call),
            "ListAsynJobs" => st.list_jobs(call),
            "ListListenerCertificates" => st.list_certificates(call),
            "CreateAcl" => st.idempotent(call, |s| s.create_acl(ctx, call)),
            "AddEntriesToAcl" => st.idempotent(call, |s| s.change_entries(ctx, call, true)),
            "RemoveEntriesFromAcl" => st.idempotent(call, |s| s.change_entries(ctx, call, false)),
            "DeleteAcl" => st.idempotent(call, |s| s.delete_acl(ctx, call)),
            "AssociateAclsWithListener" => st.idempotent(call, |s| s.acl_association(ctx, call, true)),
            "DissociateAclsFromListener" => st.idempotent(call, |s| s.acl_association(ctx, call, false)),
            "UpdateListenerLogConfig" => st.idempotent(call, |s| s.update_log_config(ctx, call)),
            "EnableLoadBalancerAccessLog" => st.idempotent(call, |s| s.instance_access_log(call, true)),
            "DisableLoadBalancerAccessLog" => st.idempotent(call, |s| s.instance_access_log(call, false)),
            "CreateRule" => st.idempotent(call, |s| s.create_rules(ctx, call, false, rule_quota)),
            "CreateRules" => st.idempotent(call, |s| s.create_rules(ctx, call, true, rule_quota)),
            "UpdateRuleAttribute" => st.idempotent(call, |s| s.update_rules(ctx, call, false)),
            "UpdateRulesAttribute" => st.idempotent(call, |s| s.update_rules(ctx, call, true)),
            "DeleteRule" => st.idempotent(call, |s| s.delete_rules(ctx, call, false)),
            "DeleteRules" => st.idempotent(call, |s| s.delete_rules(ctx, call, true)),
            "ListRules" => st.list_rules(call),
            "CreateServerGroup" => st.idempotent(call, |s| s.create_pool(ctx, call)),
            "AddServersToServerGroup" => st.idempotent(call, |s| s.change_servers(ctx, call, true, server_quota)),
            "RemoveServersFromServerGroup" => st.idempotent(call, |s| s.change_servers(ctx, call, false, server_quota)),
            "DeleteServerGroup" => st.idempotent(call, |s| s.delete_pool(ctx, call)),
            "UpdateServerGroupAttribute" => st.idempotent(call, |s| s.update_pool(ctx, call)),
            "ListServerGroups" => st.list_pools(call),
            "ListServerGroupServers" => st.list_servers(call),
            "ListAcls" => st.list_acls(call),
            "ListAclEntries" => st.list_acl_entries(call),
            other => Err(ApiError::unknown_action(Family::Alibaba, other)),
        }
    }

    fn listener_counts(&self) -> BTreeMap<String, usize> {
        let st = self.lock();
        let mut counts: BTreeMap<String, usize> = st.instances.keys().map(|k| (k.clone(), 0)).collect();
        for l in st.listeners.values() {
            *counts.entry(l.lb.clone()).or_default() += 1;
        }
        counts
    }

    fn resolve(&self, query: &ResolveQuery, now: Instant) -> Option<Result<Value, ApiError>> {
        let mut st = self.lock();
        st.settle(now);
        Some(st.resolve(query))
    }
}

/// How long a test waits past a delay so lazy settlement has surely run.
#[cfg(test)]
const PAST: std::time::Duration = std::time::Duration::from_millis(1);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ManualContext;
    use crate::service::Timing;
    use std::time::Duration;

    const LB: &str = "alb-test";
    const SG: &str = "sgp-test";

    fn svc() -> Alb {
        let s = Alb::new();
        s.seed(InstanceSeed {
            id: LB.into(),
            server_groups: vec![SG.into()],
        });
        s.seed(InstanceSeed {
            id: "alb-other".into(),
            server_groups: vec!["sgp-other".into()],
        });
        s
    }

    fn ctx() -> ManualContext {
        ManualContext::new(Timing {
            create: Duration::from_millis(100),
            update: Duration::from_millis(100),
            delete: Duration::from_millis(100),
        })
    }

    fn call(action: &str, pairs: &[(&str, &str)], now: Instant) -> Call {
        let flat: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let list: Vec<(String, String)> = flat.clone().into_iter().collect();
        Call {
            action: action.into(),
            params: crate::decode::unflatten(&list),
            flat,
            region: None,
            request_id: "rid".into(),
            now,
        }
    }

    fn base(proto: &str, port: &str) -> Vec<(&'static str, String)> {
        let mut v = vec![
            ("LoadBalancerId", LB.to_string()),
            ("ListenerProtocol", proto.to_string()),
            ("ListenerPort", port.to_string()),
            ("DefaultActions.1.Type", "ForwardGroup".to_string()),
            (
                "DefaultActions.1.ForwardGroupConfig.ServerGroupTuples.1.ServerGroupId",
                SG.to_string(),
            ),
        ];
        if proto != "HTTP" {
            v.push(("Certificates.1.CertificateId", "cert-1".to_string()));
        }
        v
    }

    fn send(
        s: &Alb,
        c: &mut ManualContext,
        action: &str,
        pairs: &[(&'static str, String)],
        now: Instant,
    ) -> Result<Value, ApiError> {
        let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        s.handle(c, &call(action, &borrowed, now))
    }

    fn with(mut v: Vec<(&'static str, String)>, k: &'static str, val: &str) -> Vec<(&'static str, String)> {
        v.retain(|(key, _)| *key != k);
        v.push((k, val.to_string()));
        v
    }

    fn without(mut v: Vec<(&'static str, String)>, k: &str) -> Vec<(&'static str, String)> {
        v.retain(|(key, _)| *key != k);
        v
    }

    fn code(r: Result<Value, ApiError>) -> String {
        match r {
            Ok(v) => panic!("expected an error, got {v}"),
            Err(e) => e.code,
        }
    }

    fn created(s: &Alb, c: &mut ManualContext, pairs: &[(&'static str, String)], now: Instant) -> String {
        let v = send(s, c, "CreateListener", pairs, now).expect("created");
        v["ListenerId"].as_str().expect("id").to_string()
    }

    fn attr(s: &Alb, id: &str, now: Instant) -> Value {
        s.handle(&mut ctx(), &call("GetListenerAttribute", &[("ListenerId", id)], now))
            .expect("listener exists")
    }

    #[test]
    fn create_provisions_then_runs_and_jobs_follow() {
        let s = svc();
        let mut c = ctx();
        let t0 = Instant::now();
        let v = send(&s, &mut c, "CreateListener", &base("HTTP", "80"), t0).unwrap();
        let id = v["ListenerId"].as_str().unwrap();
        let job = v["JobId"].as_str().unwrap();
        assert!(id.starts_with("lsn-") && id.len() == 24, "{id}");
        assert_eq!(job.len(), 36);
        assert_eq!(attr(&s, id, t0)["ListenerStatus"], "Provisioning");
        let jobs = |now| {
            s.handle(&mut ctx(), &call("ListAsynJobs", &[("JobIds.1", job)], now))
                .unwrap()["Jobs"][0]["Status"]
                .clone()
        };
        assert_eq!(jobs(t0), "Processing");
        let later = t0 + Duration::from_millis(100) + PAST;
        assert_eq!(attr(&s, id, later)["ListenerStatus"], "Running");
        assert_eq!(jobs(later), "Succeeded");
        let a = attr(&s, id, later);
        assert_eq!(a["XForwardedForConfig"]["XForwardedForEnabled"], true);
        assert_eq!(
            a["DefaultActions"][0]["ForwardGroupConfig"]["ServerGroupTuples"][0]["ServerGroupId"],
            SG
        );
        assert_eq!(s.listener_counts()[LB], 1);
        assert_eq!(s.listener_counts()["alb-other"], 0);
    }

    #[test]
    fn tags_follow_create_tag_and_untag_under_the_vendor_rules() {
        let s = svc();
        let mut c = ctx();
        let t0 = Instant::now();
        let pairs = with(with(base("HTTP", "80"), "Tag.1.Key", "team"), "Tag.1.Value", "web");
        let id = created(&s, &mut c, &pairs, t0);
        let tags = |now| attr(&s, &id, now)["Tags"].clone();
        assert_eq!(tags(t0), json!([{ "Key": "team", "Value": "web" }]));
        let on = |extra: &[(&'static str, &str)]| {
            let mut v: Vec<(&'static str, String)> =
                vec![("ResourceType", "listener".to_string()), ("ResourceId.1", id.clone())];
            v.extend(extra.iter().map(|(k, x)| (*k, x.to_string())));
            v
        };
        send(
            &s,
            &mut c,
            "TagResources",
            &on(&[("Tag.1.Key", "cost"), ("Tag.1.Value", "ops")]),
            t0,
        )
        .unwrap();
        send(&s, &mut c, "UnTagResources", &on(&[("TagKey.1", "team")]), t0).unwrap();
        assert_eq!(tags(t0), json!([{ "Key": "cost", "Value": "ops" }]));
        for bad in ["aliyun-x", "acs:x", ""] {
            let r = send(
                &s,
                &mut c,
                "TagResources",
                &on(&[("Tag.1.Key", bad), ("Tag.1.Value", "v")]),
                t0,
            );
            assert_eq!(code(r), "InvalidParameter", "{bad}");
        }
        let url = send(
            &s,
            &mut c,
            "TagResources",
            &on(&[("Tag.1.Key", "k"), ("Tag.1.Value", "http://x")]),
            t0,
        );
        assert_eq!(code(url), "InvalidParameter");
        // One tag is on already; twenty more make twenty-one.
        let mut many: Vec<(String, String)> = on(&[]).into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        many.extend((1..=20).map(|i| (format!("Tag.{i}.Key"), format!("k{i}"))));
        let borrowed: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let r = s.handle(&mut c, &call("TagResources", &borrowed, t0));
        assert_eq!(code(r), "QuotaExceeded.TagsNum");
        let other = vec![
            ("ResourceType", "listener".to_string()),
            ("ResourceId.1", "lsn-none".to_string()),
            ("TagKey.1", "x".to_string()),
        ];
        assert_eq!(
            code(send(&s, &mut c, "UnTagResources", &other, t0)),
            "ResourceNotFound.Listener"
        );
        let lb = vec![
            ("ResourceType", "loadbalancer".to_string()),
            ("ResourceId.1", id.clone()),
            ("TagKey.1", "x".to_string()),
        ];
        assert_eq!(code(send(&s, &mut c, "UnTagResources", &lb, t0)), "InvalidParameter");
        // The action is spelt UnTagResources (SDK 1.3.3, Terraform); the
        // lower-case t names no ALB action.
        let on_one = on(&[("TagKey.1", "cost")]);
        assert_eq!(
            code(send(&s, &mut c, "UntagResources", &on_one, t0)),
            "InvalidAction.NotFound"
        );
    }

    #[test]
    fn stop_and_start_pass_through_configuring_and_refuse_the_same_state() {
        let s = svc();
        let mut c = ctx();
        let t0 = Instant::now();
        let id = created(&s, &mut c, &base("HTTP", "80"), t0);
        let t1 = t0 + Duration::from_millis(100) + PAST;
        let on = vec![("ListenerId", id.clone())];
        assert_eq!(
            code(send(&s, &mut c, "StartListener", &on, t1)),
            "IncorrectStatus.Listener"
        );
        send(&s, &mut c, "StopListener", &on, t1).unwrap();
        assert_eq!(attr(&s, &id, t1)["ListenerStatus"], "Configuring");
        let t2 = t1 + Duration::from_millis(100) + PAST;
        assert_eq!(attr(&s, &id, t2)["ListenerStatus"], "Stopped");
        assert_eq!(
            code(send(&s, &mut c, "StopListener", &on, t2)),
            "IncorrectStatus.Listener"
        );
        send(&s, &mut c, "StartListener", &on, t2).unwrap();
        let t3 = t2 + Duration::from_millis(100) + PAST;
        assert_eq!(attr(&s, &id, t3)["ListenerStatus"], "Running");
    }

    #[test]
    fn failed_create_job_leaves_no_listener() {
        let s = svc();
        let mut c = ctx().failing_tasks(1);
        let t0 = Instant::now();
        let v = send(&s, &mut c, "CreateListener", &base("HTTP", "80"), t0).unwrap();
        let later = t0 + Duration::from_millis(100) + PAST;
        let jobs = s
            .handle(
                &mut ctx(),
                &call("ListAsynJobs", &[("JobIds.1", v["JobId"].as_str().unwrap())], later),
            )
            .unwrap();
        assert_eq!(jobs["Jobs"][0]["Status"], "Failed");
        assert!(jobs["Jobs"][0]["ErrorCode"].is_string());
        assert_eq!(s.listener_counts()[LB], 0);
    }

    #[test]
    fn client_token_repeats_the_first_answer_and_refuses_other_parameters() {
        let s = svc();
        let mut c = ctx();
        let t0 = Instant::now();
        let p = with(base("HTTP", "80"), "ClientToken", "tok-1");
        let a = send(&s, &mut c, "CreateListener", &p, t0).unwrap();
        let b = send(&s, &mut c, "CreateListener", &p, t0 + Duration::from_millis(500)).unwrap();
        assert_eq!(a, b);
        assert_eq!(s.listener_counts()[LB], 1);
        let other = with(p.clone(), "ListenerPort", "81");
        assert_eq!(
            code(send(&s, &mut c, "CreateListener", &other, t0)),
            "IdempotentParameterMismatch"
        );
        assert_eq!(s.client_tokens("CreateListener"), vec!["tok-1"; 3]);
    }

    #[test]
    fn dry_run_checks_without_acting() {
        let s = svc();
        let mut c = ctx();
        let t0 = Instant::now();
        let p = with(base("HTTP", "80"), "DryRun", "true");
        assert_eq!(code(send(&s, &mut c, "CreateListener", &p, t0)), "DryRunOperation");
        assert_eq!(s.listener_counts()[LB], 0);
        let bad = with(p, "ListenerProtocol", "TCP");
        assert_eq!(code(send(&s, &mut c, "CreateListener", &bad, t0)), "InvalidParameter");
    }

    #[test]
    fn parameter_rules_answer_the_vendor_codes() {
        let s = svc();
        let mut c = ctx();
        let t0 = Instant::now();
        let https = base("HTTPS", "443");
        let http = base("HTTP", "80");
        let quic = base("QUIC", "443");
        let cases: Vec<(Vec<(&'static str, String)>, &str)> = vec![
            (with(http.clone(), "ListenerProtocol", "TCP"), "InvalidParameter"),
            (with(http.clone(), "ListenerProtocol", "UDP"), "InvalidParameter"),
            (with(http.clone(), "ListenerPort", "80-90"), "InvalidParameter"),
            (with(http.clone(), "ListenerPort", "0"), "InvalidParameter"),
            (without(http.clone(), "DefaultActions.1.Type"), "MissingParameter"),
            (without(http.clone(), "LoadBalancerId"), "MissingParameter"),
            (
                with(http.clone(), "DefaultActions.1.Type", "Redirect"),
                "InvalidParameter",
            ),
            (with(http.clone(), "ListenerDescription", "a"), "InvalidParameter"),
            (
                with(http.clone(), "ListenerDescription", "web listener"),
                "InvalidParameter",
            ),
            (with(http.clone(), "RequestTimeout", "601"), "InvalidParameter"),
            (with(http.clone(), "IdleTimeout", "601"), "InvalidParameter"),
            (with(http.clone(), "Http2Enabled", "true"), "InvalidParameter"),
            (
                with(quic.clone(), "SecurityPolicyId", "tls_cipher_policy_1_2"),
                "InvalidParameter",
            ),
            (
                with(http.clone(), "Certificates.1.CertificateId", "c"),
                "InvalidParameter",
            ),
            (
                without(https.clone(), "Certificates.1.CertificateId"),
                "MissingParameter",
            ),
            (
                without(quic.clone(), "Certificates.1.CertificateId"),
                "MissingParameter",
            ),
            (with(quic.clone(), "CaEnabled", "true"), "InvalidParameter"),
            (with(https.clone(), "CaEnabled", "true"), "MissingParameter"),
            (
                with(
                    with(
                        with(https.clone(), "CaEnabled", "true"),
                        "CaCertificates.1.CertificateId",
                        "a",
                    ),
                    "CaCertificates.2.CertificateId",
                    "b",
                ),
                "InvalidParameter",
            ),
            (
                with(http.clone(), "QuicConfig.QuicUpgradeEnabled", "true"),
                "InvalidParameter",
            ),
            (
                with(https.clone(), "QuicConfig.QuicUpgradeEnabled", "true"),
                "MissingParameter",
            ),
            (
                with(
                    http.clone(),
                    "XForwardedForConfig.XForwardedForClientCertFingerprintEnabled",
                    "true",
                ),
                "InvalidParameter",
            ),
            (
                with(quic.clone(), "XForwardedForConfig.XForwardedForEnabled", "true"),
                "InvalidParameter",
            ),
            (
                with(
                    quic.clone(),
                    "XForwardedForConfig.XForwardedForClientSrcPortEnabled",
                    "true",
                ),
                "InvalidParameter",
            ),
            (
                with(
                    https.clone(),
                    "XForwardedForConfig.XForwardedForClientCertSubjectDNAlias",
                    "Bad Alias",
                ),
                "InvalidParameter",
            ),
            (
                with(
                    with(http.clone(), "XForwardedForConfig.XForwardedForEnabled", "false"),
                    "XForwardedForConfig.XForwardedForProcessingMode",
                    "remove",
                ),
                "InvalidParameter",
            ),
            (
                with(
                    http.clone(),
                    "XForwardedForConfig.XForwardedForClientSourceIpsTrusted",
                    "10.0.0.0/40",
                ),
                "InvalidParameter",
            ),
            (
                with(https.clone(), "SecurityPolicyId", "nope"),
                "ResourceNotFound.SecurityPolicy",
            ),
            (
                with(http.clone(), "LoadBalancerId", "alb-none"),
                "ResourceNotFound.LoadBalancer",
            ),
            (
                with(
                    http.clone(),
                    "DefaultActions.1.ForwardGroupConfig.ServerGroupTuples.1.ServerGroupId",
                    "sgp-none",
                ),
                "ResourceNotFound.ServerGroup",
            ),
        ];
        for (p, want) in cases {
            let got = code(send(&s, &mut c, "CreateListener", &p, t0));
            assert_eq!(got, want, "{p:?}");
        }
        assert_eq!(s.listener_counts()[LB], 0);
        let nf = send(
            &s,
            &mut c,
            "CreateListener",
            &with(http, "LoadBalancerId", "alb-none"),
            t0,
        )
        .unwrap_err();
        assert_eq!(nf.http_status, 404);
    }

    #[test]
    fn ports_are_per_transport_and_writes_wait_for_the_instance() {
        let s = svc();
        let mut c = ctx();
        let t0 = Instant::now();
        created(&s, &mut c, &base("HTTPS", "443"), t0);
        // Busy: the first listener is still provisioning.
        assert_eq!(
            code(send(&s, &mut c, "CreateListener", &base("QUIC", "443"), t0)),
            "IncorrectStatus.LoadBalancer"
        );
        let t1 = t0 + Duration::from_millis(100) + PAST;
        // QUIC is UDP: port 443 is free there; HTTP shares TCP with HTTPS.
        created(&s, &mut c, &base("QUIC", "443"), t1);
        let t2 = t1 + Duration::from_millis(100) + PAST;
        assert_eq!(
            code(send(&s, &mut c, "CreateListener", &base("HTTP", "443"), t2)),
            "ResourceAlreadyExist.Listener"
        );
    }

    #[test]
    fn quota_is_fifty_listeners() {
        let s = Alb::with_listener_quota(2);
        s.seed(InstanceSeed {
            id: LB.into(),
            server_groups: vec![SG.into()],
        });
        let mut c = ManualContext::new(Timing {
            create: Duration::ZERO,
            update: Duration::ZERO,
            delete: Duration::ZERO,
        });
        let t0 = Instant::now();
        created(&s, &mut c, &base("HTTP", "80"), t0);
        created(&s, &mut c, &base("HTTP", "81"), t0 + PAST);
        assert_eq!(
            code(send(&s, &mut c, "CreateListener", &base("HTTP", "82"), t0 + PAST * 2)),
            "ResourceQuotaExceeded.LoadBalancerListenersNum"
        );
        assert_eq!(Alb::new().quota, 50);
    }

    #[test]
    fn quic_upgrade_rules() {
        let s = svc();
        let mut c = ctx();
        let step = Duration::from_millis(100) + PAST;
        let t0 = Instant::now();
        let quic = created(&s, &mut c, &base("QUIC", "443"), t0);
        let http = created(&s, &mut c, &base("HTTP", "80"), t0 + step);
        let mut other_base = base("QUIC", "443");
        other_base = with(other_base, "LoadBalancerId", "alb-other");
        other_base = with(
            other_base,
            "DefaultActions.1.ForwardGroupConfig.ServerGroupTuples.1.ServerGroupId",
            "sgp-other",
        );
        let other = created(&s, &mut c, &other_base, t0 + step * 2);
        let t = t0 + step * 3;
        let up = |q: &str| {
            with(
                with(base("HTTPS", "443"), "QuicConfig.QuicUpgradeEnabled", "true"),
                "QuicConfig.QuicListenerId",
                q,
            )
        };
        assert_eq!(
            code(send(&s, &mut c, "CreateListener", &up(&other), t)),
            "OperationDenied.CrossLoadBalancerQUICListener"
        );
        assert_eq!(
            code(send(&s, &mut c, "CreateListener", &up(&http), t)),
            "InvalidParameter"
        );
        assert_eq!(
            code(send(&s, &mut c, "CreateListener", &up("lsn-none"), t)),
            "ResourceNotFound.Listener"
        );
        let https = created(&s, &mut c, &up(&quic), t);
        let t = t + step;
        assert_eq!(attr(&s, &https, t)["QuicConfig"]["QuicListenerId"], quic.as_str());
        let mut second = up(&quic);
        second = with(second, "ListenerPort", "8443");
        assert_eq!(
            code(send(&s, &mut c, "CreateListener", &second, t)),
            "ResourceAlreadyAssociated.Listener"
        );
    }

    #[test]
    fn update_applies_after_configuring_and_refuses_immutables() {
        let s = svc();
        let mut c = ctx();
        let step = Duration::from_millis(100) + PAST;
        let t0 = Instant::now();
        let id = created(&s, &mut c, &base("HTTPS", "443"), t0);
        let u = |k: &'static str, v: &str| vec![("ListenerId", id.clone()), (k, v.to_string())];
        // Still provisioning.
        assert_eq!(
            code(send(&s, &mut c, "UpdateListenerAttribute", &u("IdleTimeout", "30"), t0)),
            "IncorrectStatus.Listener"
        );
        let t1 = t0 + step;
        for fixed in ["ListenerPort", "ListenerProtocol", "LoadBalancerId"] {
            assert_eq!(
                code(send(&s, &mut c, "UpdateListenerAttribute", &u(fixed, "8443"), t1)),
                "InvalidParameter"
            );
        }
        // Update allows characters create does not.
        send(
            &s,
            &mut c,
            "UpdateListenerAttribute",
            &u("ListenerDescription", "a,b@c"),
            t1,
        )
        .unwrap();
        assert_eq!(attr(&s, &id, t1)["ListenerStatus"], "Configuring");
        assert!(attr(&s, &id, t1).get("ListenerDescription").is_none());
        let t2 = t1 + step;
        assert_eq!(attr(&s, &id, t2)["ListenerDescription"], "a,b@c");
        assert_eq!(
            code(send(
                &s,
                &mut c,
                "UpdateListenerAttribute",
                &u("Http2Enabled", "yes"),
                t2
            )),
            "InvalidParameter"
        );
        let missing = [("ListenerId".to_string(), "lsn-none".to_string())];
        let pairs: Vec<(&str, &str)> = missing.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let e = s
            .handle(&mut c, &call("UpdateListenerAttribute", &pairs, t2))
            .unwrap_err();
        assert_eq!((e.code.as_str(), e.http_status), ("ResourceNotFound.Listener", 404));
    }

    #[test]
    fn failed_update_keeps_the_old_configuration() {
        let s = svc();
        let mut c = ctx();
        let step = Duration::from_millis(100) + PAST;
        let t0 = Instant::now();
        let id = created(&s, &mut c, &base("HTTP", "80"), t0);
        let mut failing = ctx().failing_tasks(1);
        send(
            &s,
            &mut failing,
            "UpdateListenerAttribute",
            &[("ListenerId", id.clone()), ("IdleTimeout", "42".into())],
            t0 + step,
        )
        .unwrap();
        let a = attr(&s, &id, t0 + step * 2);
        assert_eq!(
            (a["ListenerStatus"].as_str(), a["IdleTimeout"].as_u64()),
            (Some("Running"), Some(15))
        );
    }

    #[test]
    fn delete_goes_through_deleting_then_not_found() {
        let s = svc();
        let mut c = ctx();
        let step = Duration::from_millis(100) + PAST;
        let t0 = Instant::now();
        let id = created(&s, &mut c, &base("HTTP", "80"), t0);
        send(&s, &mut c, "DeleteListener", &[("ListenerId", id.clone())], t0 + step).unwrap();
        assert_eq!(attr(&s, &id, t0 + step)["ListenerStatus"], "Deleting");
        let gone = s
            .handle(
                &mut c,
                &call("GetListenerAttribute", &[("ListenerId", &id)], t0 + step * 2),
            )
            .unwrap_err();
        assert_eq!(gone.code, "ResourceNotFound.Listener");
        assert_eq!(s.listener_counts()[LB], 0);
    }

    #[test]
    fn additional_certificates_associate_and_list() {
        let s = svc();
        let mut c = ctx();
        let step = Duration::from_millis(100) + PAST;
        let t0 = Instant::now();
        let id = created(&s, &mut c, &base("HTTPS", "443"), t0);
        let assoc = vec![
            ("ListenerId", id.clone()),
            ("Certificates.1.CertificateId", "cert-2".to_string()),
        ];
        send(
            &s,
            &mut c,
            "AssociateAdditionalCertificatesWithListener",
            &assoc,
            t0 + step,
        )
        .unwrap();
        let listed = |now| {
            s.handle(
                &mut ctx(),
                &call(
                    "ListListenerCertificates",
                    &[("ListenerId", id.as_str()), ("CertificateType", "Server")],
                    now,
                ),
            )
            .unwrap()["Certificates"]
                .clone()
        };
        assert_eq!(listed(t0 + step)[1]["Status"], "Associating");
        assert_eq!(listed(t0 + step * 2)[1]["Status"], "Associated");
        assert_eq!(
            code(send(
                &s,
                &mut c,
                "AssociateAdditionalCertificatesWithListener",
                &assoc,
                t0 + step * 2
            )),
            "ResourceAlreadyAssociated.Certificate"
        );
        send(
            &s,
            &mut c,
            "DissociateAdditionalCertificatesFromListener",
            &assoc,
            t0 + step * 2,
        )
        .unwrap();
        assert_eq!(listed(t0 + step * 3).as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn list_pages_with_next_token() {
        let s = svc();
        let mut c = ManualContext::new(Timing {
            create: Duration::ZERO,
            update: Duration::ZERO,
            delete: Duration::ZERO,
        });
        let t0 = Instant::now();
        for (i, port) in ["80", "81", "82"].iter().enumerate() {
            created(&s, &mut c, &base("HTTP", port), t0 + PAST * (i as u32));
        }
        let t = t0 + PAST * 5;
        let first = s
            .handle(
                &mut c,
                &call("ListListeners", &[("LoadBalancerIds.1", LB), ("MaxResults", "2")], t),
            )
            .unwrap();
        assert_eq!(first["Listeners"].as_array().map(Vec::len), Some(2));
        assert_eq!(first["TotalCount"], 3);
        let token = first["NextToken"].as_str().unwrap();
        let second = s
            .handle(
                &mut c,
                &call(
                    "ListListeners",
                    &[("LoadBalancerIds.1", LB), ("MaxResults", "2"), ("NextToken", token)],
                    t,
                ),
            )
            .unwrap();
        assert_eq!(second["Listeners"][0]["ListenerPort"], 82);
        assert!(second.get("NextToken").is_none());
        assert_eq!(
            s.handle(&mut c, &call("ListListeners", &[("MaxResults", "101")], t))
                .unwrap_err()
                .code,
            "InvalidParameter"
        );
    }

    #[test]
    fn an_endless_delay_does_not_panic() {
        let s = svc();
        let mut c = ManualContext::new(Timing {
            create: Duration::MAX,
            update: Duration::MAX,
            delete: Duration::MAX,
        });
        let t0 = Instant::now();
        let id = created(&s, &mut c, &base("HTTP", "80"), t0);
        assert_eq!(
            attr(&s, &id, t0 + Duration::from_secs(3600))["ListenerStatus"],
            "Provisioning"
        );
    }

    #[test]
    fn load_balancer_attribute_answers_the_vpc_of_its_seeded_groups() {
        let s = svc();
        let mut c = ctx();
        let t = Instant::now();
        let attr = s
            .handle(&mut c, &call("GetLoadBalancerAttribute", &[("LoadBalancerId", LB)], t))
            .expect("instance exists");
        assert_eq!(attr["LoadBalancerId"], json!(LB));
        assert_eq!(attr["LoadBalancerStatus"], json!("Active"));
        let vpc = attr["VpcId"].as_str().expect("VpcId").to_string();
        // The same answer for the other instance, and on every call.
        let other = s
            .handle(
                &mut c,
                &call("GetLoadBalancerAttribute", &[("LoadBalancerId", "alb-other")], t),
            )
            .expect("other exists");
        assert_eq!(other["VpcId"], json!(vpc));
        // The seeded server group reports the same VPC.
        let groups = s
            .handle(&mut c, &call("ListServerGroups", &[("ServerGroupIds.1", SG)], t))
            .expect("listed");
        assert_eq!(groups["ServerGroups"][0]["VpcId"], json!(vpc));
        // No region named, so no region-bound fields.
        assert!(
            attr.get("DNSName").is_none() && attr.get("RegionId").is_none(),
            "{attr}"
        );
    }

    #[test]
    fn load_balancer_attribute_names_the_region_when_the_call_does() {
        let s = svc();
        let mut req = call("GetLoadBalancerAttribute", &[("LoadBalancerId", LB)], Instant::now());
        req.region = Some("cn-hangzhou".into());
        let attr = s.handle(&mut ctx(), &req).expect("instance exists");
        assert_eq!(attr["RegionId"], json!("cn-hangzhou"));
        assert_eq!(attr["DNSName"], json!(format!("{LB}.cn-hangzhou.alb.aliyuncs.com")));
    }

    #[test]
    fn load_balancer_attribute_of_an_unknown_instance_is_not_found() {
        let s = svc();
        let t = Instant::now();
        let e = s
            .handle(
                &mut ctx(),
                &call("GetLoadBalancerAttribute", &[("LoadBalancerId", "alb-nothere")], t),
            )
            .unwrap_err();
        assert_eq!((e.code.as_str(), e.http_status), ("ResourceNotFound.LoadBalancer", 404));
        let e = s
            .handle(&mut ctx(), &call("GetLoadBalancerAttribute", &[], t))
            .unwrap_err();
        assert_eq!(e.code, "MissingParameter");
    }

    #[test]
    fn unknown_actions_are_refused() {
        let e = svc()
            .handle(&mut ctx(), &call("DescribeLoadBalancers", &[], Instant::now()))
            .unwrap_err();
        assert_eq!(e.code, "InvalidAction.NotFound");
    }

    #[test]
    fn list_listeners_answers_only_fields_of_the_vendor_model() {
        // Regression: `CaEnabled` was answered, which the SDKs' model of
        // `ListListeners` does not have; `GetListenerAttribute` keeps it.
        let s = svc();
        let mut c = ctx();
        let t = Instant::now();
        let https = with(base("HTTPS", "443"), "CaEnabled", "true");
        let https = with(https, "CaCertificates.1.CertificateId", "ca-1");
        let id = created(&s, &mut c, &https, t);
        let listed = s
            .handle(&mut c, &call("ListListeners", &[("LoadBalancerIds.1", LB)], t))
            .expect("listed");
        let item = &listed["Listeners"][0];
        assert_eq!(item["ListenerId"], json!(id));
        for field in ["CaEnabled", "Certificates", "CaCertificates"] {
            assert!(item.get(field).is_none(), "{field} in {item}");
        }
        assert_eq!(attr(&s, &id, t)["CaEnabled"], json!(true));
    }
}
