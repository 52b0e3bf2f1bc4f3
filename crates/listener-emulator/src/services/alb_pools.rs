//! ALB server groups (`sgp-…`) and their servers, a child of the ALB
//! service (its own file so the pool actions read as one piece).
//!
//! A server group belongs to the account and region (and a VPC), not to
//! one instance: listeners' default actions and rules' `ForwardGroup`
//! actions point at it. Seeded server groups (admin `server_groups`) are
//! groups of type `Ip` with no servers, `Available` at once, usable by the
//! instances they were seeded on (as before); created groups by any
//! instance (ALB's VPC check is not modelled). Rules and codes:
//!
//! | rule | code | source |
//! |---|---|---|
//! | `ServerGroupName` not 2–128 of letters, digits, `.`, `_`, `-` starting with a letter; `ServerGroupType` other than `Instance`/`Ip` (`Fc` is not emulated); `Protocol` other than `HTTP`/`HTTPS`/`gRPC`; `Scheduler` other than `Wrr`/`Wlc`/`Sch`/`Uch`; a server whose `ServerType` does not fit the group (`Ip` in an `Ip` group; `Ecs`/`Eni`/`Eci` in an `Instance` group), an `Ip` server whose `ServerId` is not an IP address, `Port` outside 1–65535, `Weight` outside 0–100; more than 200 servers in one call | `InvalidParameter` | ALB-m `_create_server_group_request.py`, `_add_servers_to_server_group_request.py` (factsheet §4) |
//! | `VpcId` left out for `Instance`/`Ip`; `HealthCheckConfig.HealthCheckEnabled` left out of `CreateServerGroup` | `MissingParameter` | CreateServerGroupRequest (`HealthCheckConfig` and its `HealthCheckEnabled` are required) |
//! | a health check with `HealthCheckInterval` outside 1–50, `HealthCheckTimeout` outside 1–300, `HealthyThreshold` or `UnhealthyThreshold` outside 2–10, `HealthCheckConnectPort` outside 0–65535, `HealthCheckProtocol` other than `HTTP`/`HTTPS`/`TCP`/`gRPC`, `HealthCheckMethod` other than `GET`/`POST`/`HEAD`, a `HealthCheckCodes` value other than `http_2xx`…`http_5xx`, a `HealthCheckPath` not 1–80 characters starting with `/`, a `HealthCheckHost` not 1–80 characters | `InvalidParameter` | ALB-m `HealthCheckConfig` (factsheet `routing.md` §4: interval 1–50 s, timeout 1–300 s, thresholds 2–10) |
//! | unknown server group | `ResourceNotFound.ServerGroup` (404) | factsheet §6 |
//! | a server already in the group / one not in it | `ResourceAlreadyExist.BackendServer` / `ResourceNotFound.BackendServer` | emulator's, in the family's pattern (assumed) |
//! | the same server twice in one call | `DuplicatedParam.BackendServer` | factsheet §6 `DuplicatedParam.*`; suffix assumed |
//! | more than 1,000 servers in one group | `ResourceQuotaExceeded.ServerGroupServersNum` | limit: factsheet §4 (D-alb-q); code suffix assumed in the `ResourceQuotaExceeded.*` pattern |
//! | a write to a group with unfinished work | `IncorrectStatus.ServerGroup` | family pattern (`IncorrectStatus.Listener`, `.Rule`) |
//! | `DeleteServerGroup` of a group a listener or rule uses | `ResourceInUse.ServerGroup` | factsheet §6 |
//!
//! Asynchronous work: a new group is `Creating` for the create delay;
//! `AddServersToServerGroup` keeps the group `Configuring` and the servers
//! `Adding`, `RemoveServersFromServerGroup` the servers `Removing`, for
//! the update delay; `DeleteServerGroup` keeps it `Configuring` for the
//! delete delay, then it is gone. `UpdateServerGroupAttribute`
//! (`HealthCheckConfig`, merged onto the group's, and `ServerGroupName`)
//! keeps the group `Configuring` for the update delay and applies at its
//! end. Each write answers a `JobId`; a failed job changes nothing.
//! `ListServerGroups` answers each group's `HealthCheckConfig` with the
//! vendor's defaults filled in (protocol `HTTP`, method `HEAD`, path `/`,
//! interval 2 s, timeout 5 s, thresholds 3, codes `http_2xx`, port 0 =
//! the server's own).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Instant;

use serde_json::{json, Map, Value};

use super::{
    boolean, integer, invalid, is_dry_run, later, list, not_found, page, required, tags_of, text, too_many_tags,
    with_next, State, MAX_TAGS,
};
use crate::service::{ApiError, Call, Context};

/// Servers one `AddServersToServerGroup`/`RemoveServersFromServerGroup`
/// call takes (factsheet §4).
pub const SERVERS_PER_CALL: usize = 200;
/// Servers one group holds by default (factsheet §4, D-alb-q).
pub const DEFAULT_SERVERS_PER_GROUP: usize = 1000;
/// Weight of a server that names none (factsheet §4: default 100).
const DEFAULT_WEIGHT: u32 = 100;

/// Unfinished work on a server group.
#[derive(Debug, Clone, PartialEq)]
enum PoolWork {
    Create,
    Servers,
    /// `UpdateServerGroupAttribute`: the name and health check after it.
    Attributes(String, Map<String, Value>),
    Delete,
}

type PoolPending = super::Underway<PoolWork>;

/// Where a server stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ServerState {
    Adding,
    Available,
    Removing,
}

/// One backend server of a group.
#[derive(Debug, Clone)]
pub(super) struct Server {
    id: String,
    ip: Option<String>,
    kind: String,
    port: u32,
    weight: u32,
    description: Option<String>,
    state: ServerState,
}

impl Server {
    /// The address traffic goes to: the IP, or the instance ID when the
    /// server names no IP.
    pub(super) fn address(&self) -> &str {
        self.ip.as_deref().unwrap_or(&self.id)
    }

    pub(super) fn port(&self) -> u32 {
        self.port
    }

    pub(super) fn weight(&self) -> u32 {
        self.weight
    }

    /// Whether the server takes traffic: added and not being removed.
    pub(super) fn serving(&self) -> bool {
        self.state != ServerState::Adding
    }

    fn key(&self) -> (String, u32) {
        (self.id.clone(), self.port)
    }
}

/// One server group.
#[derive(Debug, Clone)]
pub(super) struct Pool {
    id: String,
    name: String,
    kind: String,
    protocol: String,
    vpc: String,
    scheduler: String,
    /// `HealthCheckConfig`, every key with a value.
    health: Map<String, Value>,
    tags: BTreeMap<String, String>,
    pub(super) servers: Vec<Server>,
    seq: u64,
    pending: Option<PoolPending>,
    /// Seeded on instances (admin `server_groups`): usable by those
    /// instances only, as before groups could be created.
    pub(super) seeded: bool,
}

impl Pool {
    /// A seeded group: `Ip`, no servers, available.
    pub(super) fn seeded(id: &str, seq: u64) -> Pool {
        Pool {
            id: id.to_string(),
            name: id.to_string(),
            kind: "Ip".into(),
            protocol: "HTTP".into(),
            vpc: super::SEEDED_VPC.into(),
            scheduler: "Wrr".into(),
            health: health_defaults(),
            tags: BTreeMap::new(),
            servers: Vec::new(),
            seq,
            pending: None,
            seeded: true,
        }
    }

    fn status(&self) -> &'static str {
        match self.pending.as_ref().map(|p| &p.work) {
            None => "Available",
            Some(PoolWork::Create) => "Creating",
            Some(_) => "Configuring",
        }
    }

    /// Whether the group exists for its users: created and not deleted.
    pub(super) fn usable(&self) -> bool {
        !matches!(
            self.pending.as_ref().map(|p| &p.work),
            Some(PoolWork::Create | PoolWork::Delete)
        )
    }
}

fn busy_pool(id: &str, status: &str) -> ApiError {
    ApiError::new(
        "IncorrectStatus.ServerGroup",
        format!("The status of ServerGroup [{id}] is incorrect: {status}."),
    )
}

/// `ServerGroupName`: 2–128 of letters, digits, `.`, `_`, `-`, starting
/// with a letter (CreateServerGroupRequest).
fn pool_name_ok(name: &str) -> bool {
    let n = name.chars().count();
    (2..=128).contains(&n)
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// `Servers.N` of a call, checked against the group type. `adding` reads
/// weights and descriptions too.
fn servers_of(p: &Value, kind: &str, adding: bool) -> Result<Vec<Server>, ApiError> {
    let items = list(p, "Servers")?;
    if items.is_empty() {
        return Err(ApiError::missing_parameter("Servers.1.ServerId"));
    }
    if items.len() > SERVERS_PER_CALL {
        return Err(invalid(format!(
            "At most {SERVERS_PER_CALL} servers per call, not {}.",
            items.len()
        )));
    }
    let mut out: Vec<Server> = Vec::new();
    for s in items {
        let id = required(s, "ServerId").map_err(|_| ApiError::missing_parameter("Servers.N.ServerId"))?;
        let server_type = required(s, "ServerType").map_err(|_| ApiError::missing_parameter("Servers.N.ServerType"))?;
        let fits = match kind {
            "Ip" => server_type == "Ip",
            _ => matches!(server_type, "Ecs" | "Eni" | "Eci"),
        };
        if !fits {
            return Err(invalid(format!(
                "Servers.N.ServerType `{server_type}` does not fit a server group of type {kind}."
            )));
        }
        let ip = text(s, "ServerIp").filter(|v| !v.is_empty()).map(str::to_string);
        if server_type == "Ip" && id.parse::<IpAddr>().is_err() {
            return Err(invalid(format!("Servers.N.ServerId `{id}` is not an IP address.")));
        }
        if let Some(a) = &ip {
            if a.parse::<IpAddr>().is_err() {
                return Err(invalid(format!("Servers.N.ServerIp `{a}` is not an IP address.")));
            }
        }
        let port = match integer(s, "Port").map_err(|_| invalid("Servers.N.Port must be an integer."))? {
            Some(n) if (1..=65535).contains(&n) => n,
            Some(n) => return Err(invalid(format!("Servers.N.Port must be 1 to 65535, not {n}."))),
            None => return Err(ApiError::missing_parameter("Servers.N.Port")),
        };
        let weight = if adding {
            match integer(s, "Weight").map_err(|_| invalid("Servers.N.Weight must be an integer."))? {
                Some(w) if w <= 100 => w,
                Some(w) => return Err(invalid(format!("Servers.N.Weight must be 0 to 100, not {w}."))),
                None => DEFAULT_WEIGHT,
            }
        } else {
            0
        };
        let ip = ip.or_else(|| (server_type == "Ip").then(|| id.to_string()));
        let server = Server {
            id: id.to_string(),
            ip,
            kind: server_type.to_string(),
            port,
            weight,
            description: text(s, "Description").map(str::to_string),
            state: ServerState::Adding,
        };
        if out.iter().any(|o| o.key() == server.key()) {
            return Err(ApiError::new(
                "DuplicatedParam.BackendServer",
                format!("The server {id}:{port} is given twice."),
            ));
        }
        out.push(server);
    }
    Ok(out)
}

/// A health check as ALB reports it when nothing was set.
fn health_defaults() -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("HealthCheckEnabled".into(), json!(true));
    m.insert("HealthCheckProtocol".into(), json!("HTTP"));
    m.insert("HealthCheckMethod".into(), json!("HEAD"));
    m.insert("HealthCheckPath".into(), json!("/"));
    m.insert("HealthCheckConnectPort".into(), json!(0));
    m.insert("HealthCheckInterval".into(), json!(2));
    m.insert("HealthCheckTimeout".into(), json!(5));
    m.insert("HealthyThreshold".into(), json!(3));
    m.insert("UnhealthyThreshold".into(), json!(3));
    m.insert("HealthCheckCodes".into(), json!(["http_2xx"]));
    m
}

/// `HealthCheckConfig` of a request merged onto `base`, every value
/// checked against its range (module docs). `creating` requires
/// `HealthCheckEnabled`.
fn health_of(p: &Value, base: &Map<String, Value>, creating: bool) -> Result<Map<String, Value>, ApiError> {
    let mut out = base.clone();
    let Some(h) = p.get("HealthCheckConfig") else {
        if creating {
            return Err(ApiError::missing_parameter("HealthCheckConfig.HealthCheckEnabled"));
        }
        return Ok(out);
    };
    let key = |k: &str| format!("HealthCheckConfig.{k}");
    match boolean(h, "HealthCheckEnabled").map_err(|_| {
        invalid(format!(
            "The parameter {} must be true or false.",
            key("HealthCheckEnabled")
        ))
    })? {
        Some(on) => {
            out.insert("HealthCheckEnabled".into(), json!(on));
        }
        None if creating => return Err(ApiError::missing_parameter(&key("HealthCheckEnabled"))),
        None => {}
    }
    for (name, lo, hi) in [
        ("HealthCheckInterval", 1, 50),
        ("HealthCheckTimeout", 1, 300),
        ("HealthyThreshold", 2, 10),
        ("UnhealthyThreshold", 2, 10),
        ("HealthCheckConnectPort", 0, 65535),
    ] {
        if let Some(v) = integer(h, name)? {
            if v < lo || v > hi {
                return Err(invalid(format!(
                    "The parameter {} must be {lo} to {hi}, not {v}.",
                    key(name)
                )));
            }
            out.insert(name.into(), json!(v));
        }
    }
    for (name, allowed) in [
        ("HealthCheckProtocol", &["HTTP", "HTTPS", "TCP", "gRPC"][..]),
        ("HealthCheckMethod", &["GET", "POST", "HEAD"][..]),
        ("HealthCheckHttpVersion", &["HTTP1.0", "HTTP1.1"][..]),
    ] {
        if let Some(v) = text(h, name) {
            if !allowed.contains(&v) {
                return Err(invalid(format!(
                    "The parameter {} must be one of {}, not `{v}`.",
                    key(name),
                    allowed.join(", ")
                )));
            }
            out.insert(name.into(), json!(v));
        }
    }
    if let Some(path) = text(h, "HealthCheckPath") {
        if !path.starts_with('/') || path.is_empty() || path.chars().count() > 80 {
            return Err(invalid(format!(
                "The parameter {} must be 1 to 80 characters starting with `/`.",
                key("HealthCheckPath")
            )));
        }
        out.insert("HealthCheckPath".into(), json!(path));
    }
    if let Some(host) = text(h, "HealthCheckHost") {
        if host.is_empty() || host.chars().count() > 80 {
            return Err(invalid(format!(
                "The parameter {} must be 1 to 80 characters.",
                key("HealthCheckHost")
            )));
        }
        out.insert("HealthCheckHost".into(), json!(host));
    }
    let codes = list(h, "HealthCheckCodes")?;
    if !codes.is_empty() {
        let mut v = Vec::new();
        for c in codes {
            let c = c.as_str().unwrap_or("");
            if !matches!(c, "http_2xx" | "http_3xx" | "http_4xx" | "http_5xx") {
                return Err(invalid(format!(
                    "The parameter {} takes http_2xx to http_5xx, not `{c}`.",
                    key("HealthCheckCodes.N")
                )));
            }
            v.push(json!(c));
        }
        out.insert("HealthCheckCodes".into(), Value::Array(v));
    }
    Ok(out)
}

impl State {
    /// Finish server group work whose time has come.
    pub(super) fn settle_pools(&mut self, now: Instant) {
        let gone = super::settle_due(
            &mut self.pools,
            now,
            |g| &mut g.pending,
            |g, work, fail| match work {
                PoolWork::Create => fail,
                PoolWork::Delete => !fail,
                PoolWork::Attributes(name, health) => {
                    if !fail {
                        g.name = name;
                        g.health = health;
                    }
                    false
                }
                PoolWork::Servers => {
                    g.servers.retain(|s| match s.state {
                        ServerState::Adding => !fail,
                        ServerState::Removing => fail,
                        ServerState::Available => true,
                    });
                    for s in &mut g.servers {
                        s.state = ServerState::Available;
                    }
                    false
                }
            },
        );
        for id in gone {
            for groups in self.instances.values_mut() {
                groups.remove(&id);
            }
        }
    }

    /// `sgp-` and 20 lower-case letters and digits.
    fn new_pool_id(&mut self) -> String {
        loop {
            let id = self.new_id("sgp-");
            if !self.pools.contains_key(&id) {
                return id;
            }
        }
    }

    /// A server group that exists for its users (created, not deleted).
    pub(super) fn pool(&self, id: &str) -> Result<&Pool, ApiError> {
        self.pools
            .get(id)
            .filter(|g| g.usable())
            .ok_or_else(|| not_found("ServerGroup", id))
    }

    fn writable_pool(&self, id: &str) -> Result<&Pool, ApiError> {
        let g = self.pools.get(id).ok_or_else(|| not_found("ServerGroup", id))?;
        if g.pending.is_some() {
            return Err(busy_pool(id, g.status()));
        }
        Ok(g)
    }

    /// Listeners and rules that use group `id` (or are about to), for
    /// `DeleteServerGroup` and `ListServerGroups`.
    fn pool_users(&self, id: &str) -> (Vec<String>, Vec<String>) {
        let mut listeners = Vec::new();
        let mut lbs = Vec::new();
        for l in self.listeners.values() {
            let pending = match &l.pending {
                Some(super::Pending {
                    work: super::Work::Update(c),
                    ..
                }) => c.server_groups.iter().any(|g| g == id),
                _ => false,
            };
            if l.config.server_groups.iter().any(|g| g == id) || pending {
                listeners.push(l.id.clone());
                lbs.push(l.lb.clone());
            }
        }
        for r in self.rules.values().filter(|r| r.uses_group(id)) {
            listeners.push(r.listener.clone());
            lbs.push(r.lb.clone());
        }
        listeners.sort();
        listeners.dedup();
        lbs.sort();
        lbs.dedup();
        (listeners, lbs)
    }

    /// `CreateServerGroup`: `Creating` until the create delay passes.
    pub(super) fn create_pool(&mut self, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
        let p = &call.params;
        let name = required(p, "ServerGroupName")?.to_string();
        if !pool_name_ok(&name) {
            return Err(invalid(
                "The parameter ServerGroupName must be 2 to 128 letters, digits, periods, underscores or hyphens, starting with a letter.",
            ));
        }
        let kind = text(p, "ServerGroupType").unwrap_or("Instance").to_string();
        if !matches!(kind.as_str(), "Instance" | "Ip") {
            return Err(invalid(format!(
                "The parameter ServerGroupType must be Instance or Ip here, not `{kind}`."
            )));
        }
        let protocol = text(p, "Protocol").unwrap_or("HTTP").to_string();
        if !matches!(protocol.as_str(), "HTTP" | "HTTPS" | "gRPC") {
            return Err(invalid(format!(
                "The parameter Protocol must be HTTP, HTTPS or gRPC, not `{protocol}`."
            )));
        }
        let scheduler = text(p, "Scheduler").unwrap_or("Wrr").to_string();
        if !matches!(scheduler.as_str(), "Wrr" | "Wlc" | "Sch" | "Uch") {
            return Err(invalid(format!(
                "The parameter Scheduler must be Wrr, Wlc, Sch or Uch, not `{scheduler}`."
            )));
        }
        let vpc = required(p, "VpcId")?.to_string();
        let health = health_of(p, &health_defaults(), true)?;
        let tags = tags_of(p)?;
        if tags.len() > MAX_TAGS {
            return Err(too_many_tags(tags.len()));
        }
        if is_dry_run(call)? {
            return Err(super::dry_run_passed());
        }
        let fail = ctx.fail_task();
        let until = later(call.now, ctx.timing().create);
        let id = self.new_pool_id();
        let seq = self.next_seq();
        let job = self.start_job(&id, "CreateServerGroup", "Create", until, fail);
        self.pools.insert(
            id.clone(),
            Pool {
                id: id.clone(),
                name,
                kind,
                protocol,
                vpc,
                scheduler,
                health,
                tags: tags.into_iter().collect(),
                servers: Vec::new(),
                seq,
                pending: Some(PoolPending {
                    work: PoolWork::Create,
                    until,
                    fail,
                }),
                seeded: false,
            },
        );
        Ok(json!({ "ServerGroupId": id, "JobId": job }))
    }

    /// `AddServersToServerGroup` (`add`) or `RemoveServersFromServerGroup`.
    pub(super) fn change_servers(
        &mut self,
        ctx: &mut dyn Context,
        call: &Call,
        add: bool,
        quota: usize,
    ) -> Result<Value, ApiError> {
        let p = &call.params;
        let id = required(p, "ServerGroupId")?.to_string();
        let g = self.writable_pool(&id)?;
        let asked = servers_of(p, &g.kind, add)?;
        for s in &asked {
            let present = g.servers.iter().any(|h| h.key() == s.key());
            if add && present {
                return Err(ApiError::new(
                    "ResourceAlreadyExist.BackendServer",
                    format!("The server {}:{} is already in {id}.", s.id, s.port),
                ));
            }
            if !add && !present {
                return Err(not_found("BackendServer", &format!("{}:{}", s.id, s.port)));
            }
        }
        if add && g.servers.len() + asked.len() > quota {
            return Err(ApiError::new(
                "ResourceQuotaExceeded.ServerGroupServersNum",
                format!(
                    "The quota of ServerGroupServersNum is exceeded for resource {id}, usage {}/{quota}.",
                    g.servers.len() + asked.len()
                ),
            ));
        }
        if is_dry_run(call)? {
            return Err(super::dry_run_passed());
        }
        let fail = ctx.fail_task();
        let until = later(call.now, ctx.timing().update);
        let api = if add {
            "AddServersToServerGroup"
        } else {
            "RemoveServersFromServerGroup"
        };
        let job = self.start_job(&id, api, "Update", until, fail);
        if let Some(g) = self.pools.get_mut(&id) {
            if add {
                g.servers.extend(asked);
            } else {
                for s in g.servers.iter_mut() {
                    if asked.iter().any(|a| a.key() == s.key()) {
                        s.state = ServerState::Removing;
                    }
                }
            }
            g.pending = Some(PoolPending {
                work: PoolWork::Servers,
                until,
                fail,
            });
        }
        Ok(json!({ "JobId": job }))
    }

    /// `UpdateServerGroupAttribute`: a new name and health check
    /// (`HealthCheckConfig`, merged onto the group's), applied when its job
    /// ends.
    pub(super) fn update_pool(&mut self, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
        let p = &call.params;
        let id = required(p, "ServerGroupId")?.to_string();
        let g = self.writable_pool(&id)?;
        let name = match text(p, "ServerGroupName") {
            Some(n) if !pool_name_ok(n) => {
                return Err(invalid(
                    "The parameter ServerGroupName must be 2 to 128 letters, digits, periods, underscores or hyphens, starting with a letter.",
                ))
            }
            Some(n) => n.to_string(),
            None => g.name.clone(),
        };
        let health = health_of(p, &g.health, false)?;
        if is_dry_run(call)? {
            return Err(super::dry_run_passed());
        }
        let fail = ctx.fail_task();
        let until = later(call.now, ctx.timing().update);
        let job = self.start_job(&id, "UpdateServerGroupAttribute", "Update", until, fail);
        if let Some(g) = self.pools.get_mut(&id) {
            g.pending = Some(PoolPending {
                work: PoolWork::Attributes(name, health),
                until,
                fail,
            });
        }
        Ok(json!({ "JobId": job }))
    }

    /// `DeleteServerGroup`: refused while a listener or rule uses it.
    pub(super) fn delete_pool(&mut self, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
        let id = required(&call.params, "ServerGroupId")?.to_string();
        self.writable_pool(&id)?;
        let (listeners, _) = self.pool_users(&id);
        if !listeners.is_empty() {
            return Err(ApiError::new(
                "ResourceInUse.ServerGroup",
                format!("The server group {id} is in use by {}.", listeners.join(", ")),
            ));
        }
        if is_dry_run(call)? {
            return Err(super::dry_run_passed());
        }
        let fail = ctx.fail_task();
        let until = later(call.now, ctx.timing().delete);
        let job = self.start_job(&id, "DeleteServerGroup", "Delete", until, fail);
        if let Some(g) = self.pools.get_mut(&id) {
            g.pending = Some(PoolPending {
                work: PoolWork::Delete,
                until,
                fail,
            });
        }
        Ok(json!({ "JobId": job }))
    }

    /// `ListServerGroups`, filtered by `ServerGroupIds.N`,
    /// `ServerGroupNames.N`, `ServerGroupType` and `VpcId`.
    pub(super) fn list_pools(&self, call: &Call) -> Result<Value, ApiError> {
        let p = &call.params;
        let strings = |key: &str| -> Result<Vec<String>, ApiError> {
            Ok(list(p, key)?
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect())
        };
        let ids = strings("ServerGroupIds")?;
        let names = strings("ServerGroupNames")?;
        let kind = text(p, "ServerGroupType");
        let vpc = text(p, "VpcId");
        let mut groups: Vec<&Pool> = self
            .pools
            .values()
            .filter(|g| ids.is_empty() || ids.contains(&g.id))
            .filter(|g| names.is_empty() || names.contains(&g.name))
            .filter(|g| kind.is_none_or(|k| k == g.kind))
            .filter(|g| vpc.is_none_or(|v| v == g.vpc))
            .collect();
        groups.sort_by_key(|g| g.seq);
        let (start, size) = page(p, groups.len())?;
        let items: Vec<Value> = groups
            .iter()
            .skip(start)
            .take(size)
            .map(|g| {
                // The SDK's model has no listener IDs, only instances.
                let (_, lbs) = self.pool_users(&g.id);
                let tags: Vec<Value> = g.tags.iter().map(|(k, v)| json!({ "Key": k, "Value": v })).collect();
                json!({
                    "ServerGroupId": g.id,
                    "ServerGroupName": g.name,
                    "ServerGroupType": g.kind,
                    "ServerGroupStatus": g.status(),
                    "Protocol": g.protocol,
                    "Scheduler": g.scheduler,
                    "VpcId": g.vpc,
                    "HealthCheckConfig": g.health,
                    "ServerCount": g.servers.len(),
                    "RelatedLoadBalancerIds": lbs,
                    "Tags": tags,
                })
            })
            .collect();
        Ok(with_next(json!({ "ServerGroups": items }), start, size, groups.len()))
    }

    /// `ListServerGroupServers` of one group, with each server's state.
    pub(super) fn list_servers(&self, call: &Call) -> Result<Value, ApiError> {
        let p = &call.params;
        let id = required(p, "ServerGroupId")?;
        let g = self.pools.get(id).ok_or_else(|| not_found("ServerGroup", id))?;
        let wanted: Vec<String> = list(p, "ServerIds")?
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        let servers: Vec<&Server> = g
            .servers
            .iter()
            .filter(|s| wanted.is_empty() || wanted.contains(&s.id))
            .collect();
        let (start, size) = page(p, servers.len())?;
        let items: Vec<Value> = servers
            .iter()
            .skip(start)
            .take(size)
            .map(|s| {
                let mut v = json!({
                    "ServerGroupId": g.id,
                    "ServerId": s.id,
                    "ServerType": s.kind,
                    "Port": s.port,
                    "Weight": s.weight,
                    "Status": match s.state {
                        ServerState::Adding => "Adding",
                        ServerState::Available => "Available",
                        ServerState::Removing => "Removing",
                    },
                });
                if let Some(ip) = &s.ip {
                    v["ServerIp"] = json!(ip);
                }
                if let Some(d) = &s.description {
                    v["Description"] = json!(d);
                }
                v
            })
            .collect();
        Ok(with_next(json!({ "Servers": items }), start, size, servers.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_names_follow_the_create_server_group_rule() {
        assert!(pool_name_ok("web-pool_1.a"));
        assert!(!pool_name_ok("1pool"));
        assert!(!pool_name_ok("p"));
        assert!(!pool_name_ok("pool name"));
    }

    #[test]
    fn servers_are_checked_against_the_group_type_port_and_weight() {
        let ip = |port: &str, weight: &str| json!({"Servers": [{"ServerId": "10.0.0.1", "ServerType": "Ip", "Port": port, "Weight": weight}]});
        assert_eq!(servers_of(&ip("80", "100"), "Ip", true).unwrap()[0].weight, 100);
        assert_eq!(servers_of(&ip("80", "0"), "Ip", true).unwrap()[0].address(), "10.0.0.1");
        for (port, weight) in [("0", "1"), ("65536", "1"), ("80", "101")] {
            let e = servers_of(&ip(port, weight), "Ip", true).unwrap_err();
            assert_eq!(e.code, "InvalidParameter", "{port} {weight}");
        }
        assert_eq!(
            servers_of(&ip("80", "1"), "Instance", true).unwrap_err().code,
            "InvalidParameter"
        );
        let ecs = json!({"Servers": [{"ServerId": "i-1", "ServerType": "Ecs", "Port": "80"}]});
        let s = &servers_of(&ecs, "Instance", true).unwrap()[0];
        assert_eq!((s.address(), s.weight), ("i-1", DEFAULT_WEIGHT));
        let twice = json!({"Servers": [
            {"ServerId": "10.0.0.1", "ServerType": "Ip", "Port": "80"},
            {"ServerId": "10.0.0.1", "ServerType": "Ip", "Port": "80"}]});
        assert_eq!(
            servers_of(&twice, "Ip", true).unwrap_err().code,
            "DuplicatedParam.BackendServer"
        );
        let not_ip = json!({"Servers": [{"ServerId": "web1", "ServerType": "Ip", "Port": "80"}]});
        assert_eq!(servers_of(&not_ip, "Ip", true).unwrap_err().code, "InvalidParameter");
    }
}
