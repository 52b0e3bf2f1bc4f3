//! Backend pools as ALB server groups of type `Ip` (`PoolProvider`).
//!
//! A pool this adapter makes is one server group named `cl-<pool>` and
//! tagged with three tags: the owner (`cloud-listeners:managed`, as
//! listeners), the bound instance (`cloud-listeners:instance`: server
//! groups belong to the region, not to an instance, so two instances of
//! one owner must not see each other's pools) and the neutral pool name
//! (`cloud-listeners:pool`). Only groups carrying the instance tag of the
//! bound instance are listed; `managed` follows the owner tag. A write by
//! ID first reads the group and proves both tags
//! ([`ownership::claim_part`]).
//!
//! The group needs the instance's VPC (ALB forwards only to groups of the
//! instance's VPC, `Mismatch.VpcId`): the one given with
//! [`AlbProvider::with_vpc`], else the `VpcId` that
//! `GetLoadBalancerAttribute` reports for the bound instance, asked at
//! the first pool creation and kept for the provider's lifetime (an
//! instance never changes VPC). A profile with only inline `backends`
//! needs no mapped target for it.

use std::collections::BTreeMap;

use async_trait::async_trait;
use listener_core::ownership::{self, OwnedPart, PartOf};
use listener_core::{
    Endpoint, Error, HealthCheck, HealthCheckKind, HttpHealthCheck, HttpMethod, Pool, PoolProvider, PoolSpec,
    Rejection, ResourceId, Result, WaitOp,
};
use serde_json::{json, Value};

use crate::client::{Deletion, SERVERS_PER_CALL};
use crate::status::wait_job;
use crate::translate::{get_str, get_u32};
use crate::{AlbProvider, API};

/// The tag holding the owner (as on listeners).
pub const OWNER_TAG: &str = "cloud-listeners:managed";
/// The tag holding the instance the pool was made for.
pub const INSTANCE_TAG: &str = "cloud-listeners:instance";
/// The tag holding the pool's neutral name.
pub const POOL_TAG: &str = "cloud-listeners:pool";

/// The server group name of pool `name`: a letter first, as ALB wants.
pub fn group_name(name: &str) -> String {
    format!("cl-{name}")
}

/// The group's tags as a map.
pub fn tags_of(group: &Value) -> BTreeMap<String, String> {
    group
        .get("Tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| Some((get_str(t, "Key")?.to_string(), get_str(t, "Value")?.to_string())))
        .collect()
}

/// Endpoints from `ListServerGroupServers` (servers being removed left
/// out: they are on their way out), sorted.
pub fn endpoints_of(servers: &[Value]) -> Vec<Endpoint> {
    let mut out: Vec<Endpoint> = servers
        .iter()
        .filter(|s| get_str(s, "Status") != Some("Removing"))
        .filter_map(|s| {
            let address = get_str(s, "ServerIp").or_else(|| get_str(s, "ServerId"))?;
            let mut e = Endpoint::new(address, get_u32(s, "Port")?);
            e.weight = get_u32(s, "Weight").unwrap_or(100);
            Some(e)
        })
        .collect();
    out.sort_by(|a, b| (&a.address, a.port).cmp(&(&b.address, b.port)));
    out
}

/// A server to add or remove: IP, port, weight.
pub type Server = (String, u32, u32);

/// What to remove and what to add (as `(ip, port, weight)`) to go from
/// `have` to `want`. A server whose weight changes is removed and added
/// again (the weight write is another action this adapter does not use).
pub fn server_changes(have: &[Endpoint], want: &[Endpoint]) -> (Vec<Server>, Vec<Server>) {
    let key = |e: &Endpoint| (e.address.clone(), e.port, e.weight);
    let remove = have
        .iter()
        .filter(|h| !want.iter().any(|w| key(w) == key(h)))
        .map(key)
        .collect();
    let add = want
        .iter()
        .filter(|w| !have.iter().any(|h| key(w) == key(h)))
        .map(key)
        .collect();
    (remove, add)
}

/// ALB's health check ranges (factsheet `routing.md` §4, ALB-m
/// `HealthCheckConfig`): interval 1–50 s, timeout 1–300 s, thresholds
/// 2–10.
pub const HEALTH_INTERVAL_MAX: u32 = 50;
/// The lowest healthy and unhealthy threshold ALB takes.
pub const HEALTH_THRESHOLD_MIN: u32 = 2;

/// What ALB's server group health check cannot express of a pool's
/// `health_check`, at `backends.<name>.health_check…`: ping and custom
/// probes (ALB probes with HTTP, HTTPS, TCP or gRPC), an interval above
/// 50 s (the neutral rules allow 300), a threshold of 1 (ALB starts at
/// 2), status class 1xx (ALB counts `http_2xx` to `http_5xx`).
pub fn health_check_rejections(pool: &PoolSpec) -> Vec<Rejection> {
    let Some(hc) = &pool.health_check else {
        return Vec::new();
    };
    let field = |f: &str| format!("backends.{}.health_check{f}", pool.name);
    let mut out = Vec::new();
    if matches!(hc.kind, Some(HealthCheckKind::Ping | HealthCheckKind::Custom)) || hc.custom.is_some() {
        out.push(Rejection::new(
            API,
            field(".kind"),
            "health_check_kind",
            "ALB server groups probe with HTTP or TCP (HTTPS and gRPC are not in the neutral model), not ping or custom payloads",
        ));
    }
    if let Some(i) = hc.interval_secs.filter(|i| *i > HEALTH_INTERVAL_MAX) {
        out.push(Rejection::new(
            API,
            field(".interval_secs"),
            "health_check_interval",
            format!("ALB health check intervals are 1 to {HEALTH_INTERVAL_MAX} seconds, not {i}"),
        ));
    }
    for (name, v) in [
        ("healthy_threshold", hc.healthy_threshold),
        ("unhealthy_threshold", hc.unhealthy_threshold),
    ] {
        if let Some(v) = v.filter(|v| *v < HEALTH_THRESHOLD_MIN) {
            out.push(Rejection::new(
                API,
                field(&format!(".{name}")),
                "health_check_threshold",
                format!("ALB health check thresholds are {HEALTH_THRESHOLD_MIN} to 10, not {v}"),
            ));
        }
    }
    if let Some(http) = &hc.http {
        if http.healthy_status_classes.contains(&1) {
            out.push(Rejection::new(
                API,
                field(".http.healthy_status_classes"),
                "health_check_codes",
                "ALB counts 2xx to 5xx answers as healthy (`http_2xx` … `http_5xx`), not 1xx",
            ));
        }
    }
    out
}

/// `HealthCheckConfig` of a pool that passed [`health_check_rejections`]:
/// what the pool sets; `HealthCheckEnabled` always (ALB requires it; a pool
/// without a health check gets ALB's default check, on).
pub fn health_check_config(hc: Option<&HealthCheck>) -> Value {
    let mut c = serde_json::Map::new();
    c.insert("HealthCheckEnabled".into(), json!(hc.is_none_or(|h| h.enabled)));
    let Some(hc) = hc else {
        return Value::Object(c);
    };
    match hc.kind {
        Some(HealthCheckKind::Http) => {
            c.insert("HealthCheckProtocol".into(), json!("HTTP"));
        }
        Some(HealthCheckKind::Tcp) => {
            c.insert("HealthCheckProtocol".into(), json!("TCP"));
        }
        _ => {}
    }
    for (key, v) in [
        ("HealthCheckInterval", hc.interval_secs),
        ("HealthCheckTimeout", hc.timeout_secs),
        ("HealthyThreshold", hc.healthy_threshold),
        ("UnhealthyThreshold", hc.unhealthy_threshold),
        ("HealthCheckConnectPort", hc.port),
    ] {
        if let Some(v) = v {
            c.insert(key.into(), json!(v));
        }
    }
    if let Some(http) = &hc.http {
        if let Some(p) = &http.path {
            c.insert("HealthCheckPath".into(), json!(p));
        }
        if let Some(d) = &http.domain {
            c.insert("HealthCheckHost".into(), json!(d));
        }
        if let Some(m) = http.method {
            c.insert("HealthCheckMethod".into(), json!(m.as_upper()));
        }
        if !http.healthy_status_classes.is_empty() {
            let codes: Vec<String> = http
                .healthy_status_classes
                .iter()
                .map(|k| format!("http_{k}xx"))
                .collect();
            c.insert("HealthCheckCodes".into(), json!(codes));
        }
    }
    Value::Object(c)
}

/// The health check a group reports (`ListServerGroups`
/// `HealthCheckConfig`), in neutral terms; `None` when it reports none.
pub fn health_check_from(config: Option<&Value>) -> Option<HealthCheck> {
    let c = config?;
    let kind = match get_str(c, "HealthCheckProtocol") {
        Some("HTTP") => Some(HealthCheckKind::Http),
        Some("TCP") => Some(HealthCheckKind::Tcp),
        _ => None,
    };
    let http = (kind == Some(HealthCheckKind::Http)).then(|| HttpHealthCheck {
        path: get_str(c, "HealthCheckPath").map(str::to_string),
        domain: get_str(c, "HealthCheckHost").map(str::to_string),
        method: get_str(c, "HealthCheckMethod").and_then(HttpMethod::from_upper),
        healthy_status_classes: c
            .get("HealthCheckCodes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str()?.strip_prefix("http_")?.strip_suffix("xx")?.parse().ok())
            .collect(),
    });
    Some(HealthCheck {
        enabled: crate::translate::get_bool(c, "HealthCheckEnabled").unwrap_or(true),
        kind,
        interval_secs: get_u32(c, "HealthCheckInterval"),
        timeout_secs: get_u32(c, "HealthCheckTimeout"),
        healthy_threshold: get_u32(c, "HealthyThreshold"),
        unhealthy_threshold: get_u32(c, "UnhealthyThreshold"),
        port: get_u32(c, "HealthCheckConnectPort").filter(|p| *p != 0),
        http,
        custom: None,
    })
}

/// A value as text: the vendor may answer `5` or `"5"`, `true` or `"true"`.
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Whether the group's health check already says everything `want` sets
/// (fields `want` leaves out are the vendor's to choose).
pub fn health_check_holds(have: Option<&Value>, want: Option<&HealthCheck>) -> bool {
    let want = health_check_config(want);
    let Some(have) = have else { return false };
    want.as_object()
        .into_iter()
        .flatten()
        .all(|(k, v)| have.get(k).is_some_and(|h| text_of(h) == text_of(v)))
}

impl AlbProvider {
    /// The VPC new server groups go in: the one given, else the
    /// instance's (`GetLoadBalancerAttribute` `VpcId`), asked once.
    pub(crate) async fn vpc(&self) -> Result<String> {
        self.vpc
            .get_or_try_init(|| async {
                let attr = self.client.get_load_balancer(&self.config.instance).await?;
                get_str(&attr, "VpcId")
                    .filter(|v| !v.is_empty())
                    .map(str::to_string)
                    .ok_or_else(|| crate::client::unexpected("GetLoadBalancerAttribute answered without a VpcId"))
            })
            .await
            .cloned()
    }

    /// Pool names by server group ID, of the groups this owner made for
    /// this instance, from one `ListServerGroups` (all groups, or the
    /// `ids` given): how rules and listeners read back name their pools.
    pub(crate) async fn owned_group_names(&self, ids: &[String]) -> Result<BTreeMap<String, String>> {
        let groups = self.client.list_server_groups(ids).await?;
        Ok(groups
            .iter()
            .filter_map(|g| {
                let tags = tags_of(g);
                let ours = tags.get(INSTANCE_TAG) == Some(&self.config.instance)
                    && tags.get(OWNER_TAG).map(String::as_str) == Some(self.profile.owner());
                if !ours {
                    return None;
                }
                Some((get_str(g, "ServerGroupId")?.to_string(), tags.get(POOL_TAG)?.clone()))
            })
            .collect())
    }

    /// The server group of pool `name` that this owner made for this
    /// instance: what a listener's `backend` forwards to by default.
    pub(crate) async fn group_of_pool(&self, name: &str) -> Result<String> {
        self.owned_group_names(&[])
            .await?
            .into_iter()
            .find(|(_, n)| n == name)
            .map(|(id, _)| id)
            .ok_or_else(|| Error::NotFound {
                vendor: API,
                what: format!(
                    "server group of pool `{name}` (apply creates a listener's pool before the listener; a listener `backend` on ALB names an inline pool of the file, an existing server group is named by `forwarding.default_target`)"
                ),
            })
    }

    /// A pool from its group and servers, when the group was made for
    /// this instance.
    fn pool_of(&self, group: &Value, servers: &[Value]) -> Option<Pool> {
        let tags = tags_of(group);
        if tags.get(INSTANCE_TAG) != Some(&self.config.instance) {
            return None;
        }
        let id = get_str(group, "ServerGroupId")?;
        let name = tags
            .get(POOL_TAG)
            .cloned()
            .or_else(|| get_str(group, "ServerGroupName").map(str::to_string))?;
        Some(Pool::new(
            ResourceId(id.to_string()),
            PoolSpec::new(name, endpoints_of(servers))
                .with_health_check(health_check_from(group.get("HealthCheckConfig"))),
            tags.get(OWNER_TAG).cloned(),
            self.profile.owner(),
        ))
    }

    /// Prove that server group `id` was made by this owner for this
    /// instance; returns the proof and the group.
    async fn own_pool(&self, id: &ResourceId) -> Result<(OwnedPart, Value)> {
        let groups = self.client.list_server_groups(std::slice::from_ref(&id.0)).await?;
        let group = groups
            .into_iter()
            .find(|g| get_str(g, "ServerGroupId") == Some(id.as_str()));
        let reported = group.as_ref().map(|g| {
            let tags = tags_of(g);
            if tags.get(OWNER_TAG).map(String::as_str) == Some(self.profile.owner()) {
                tags.get(INSTANCE_TAG).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        });
        let part = ownership::claim_part(API, PartOf::Instance(&self.config.instance), id, reported.as_deref())?;
        Ok((part, group.unwrap_or(Value::Null)))
    }

    async fn change_pool_servers(
        &self,
        waiter: &listener_core::Deadline,
        part: &OwnedPart,
        add: bool,
        servers: &[Server],
    ) -> Result<()> {
        for chunk in servers.chunks(SERVERS_PER_CALL) {
            let operation = if add { "add servers" } else { "remove servers" };
            tracing::info!(
                server_group = part.as_str(),
                count = chunk.len(),
                operation,
                "changing ALB server group"
            );
            if let Some(job) = self
                .client
                .change_servers(part, add, chunk, self.client.new_token())
                .await?
            {
                wait_job(&self.client, waiter, "servers", &job, operation).await?;
            }
        }
        Ok(())
    }

    async fn read_pool(&self, part: &OwnedPart, group: &Value) -> Result<Pool> {
        let servers = self.client.list_servers(part.as_str()).await?;
        self.pool_of(group, &servers)
            .ok_or_else(|| crate::client::unexpected("a server group lost its tags"))
    }
}

/// Every reason an ALB server group of type `Ip` cannot hold `pool`,
/// without a call (the offline check and [`PoolProvider::check_pool`]).
pub fn check(pool: &PoolSpec) -> Vec<Rejection> {
    let mut out = Vec::new();
    let field = |i: usize| format!("backends.{}.endpoints[{i}].address", pool.name);
    for (i, e) in pool.endpoints.iter().enumerate() {
        if e.address.parse::<std::net::IpAddr>().is_err() {
            out.push(Rejection::new(
                API,
                field(i),
                "ip_endpoint",
                "an ALB server group of type Ip holds IP addresses, not domain names",
            ));
        }
    }
    out.extend(health_check_rejections(pool));
    if group_name(&pool.name).chars().count() > 128 {
        out.push(Rejection::new(
            API,
            format!("backends.{}", pool.name),
            "ServerGroupName",
            "a server group name is at most 128 characters",
        ));
    }
    out
}

#[async_trait]
impl PoolProvider for AlbProvider {
    fn check_pool(&self, pool: &PoolSpec) -> Vec<Rejection> {
        check(pool)
    }

    async fn list_pools(&self) -> Result<Vec<Pool>> {
        let groups = self.client.list_server_groups(&[]).await?;
        let mut out = Vec::new();
        for g in &groups {
            if tags_of(g).get(INSTANCE_TAG) != Some(&self.config.instance) {
                continue;
            }
            let Some(id) = get_str(g, "ServerGroupId") else {
                continue;
            };
            let servers = match self.client.list_servers(id).await {
                Ok(s) => s,
                Err(Error::NotFound { .. }) => continue,
                Err(e) => return Err(e),
            };
            out.extend(self.pool_of(g, &servers));
        }
        Ok(out)
    }

    async fn create_pools(&self, pools: &[PoolSpec]) -> Result<Vec<Pool>> {
        for p in pools {
            listener_core::Rejections::from_vec(API, self.check_pool(p)).into_result()?;
        }
        let vpc = self.vpc().await?;
        let _writing = self.writes.hold().await;
        let waiter = self.waiter(WaitOp::Create);
        let mut out = Vec::new();
        for p in pools {
            let tags = json!([
                { "Key": OWNER_TAG, "Value": self.profile.owner() },
                { "Key": INSTANCE_TAG, "Value": self.config.instance },
                { "Key": POOL_TAG, "Value": p.name },
            ]);
            let token = self.client.new_token();
            tracing::info!(pool = %p.name, client_token = %token, "creating ALB server group");
            let (id, job) = self
                .client
                .create_server_group(
                    &group_name(&p.name),
                    &vpc,
                    &tags,
                    &health_check_config(p.health_check.as_ref()),
                    token,
                )
                .await?;
            if let Some(job) = job {
                wait_job(&self.client, &waiter, "server group", &job, "create server group").await?;
            }
            let (part, group) = self.own_pool(&ResourceId(id)).await?;
            let (_, add) = server_changes(&[], &p.endpoints);
            self.change_pool_servers(&waiter, &part, true, &add).await?;
            out.push(self.read_pool(&part, &group).await?);
        }
        Ok(out)
    }

    async fn update_pool(&self, current: &Pool, desired: &PoolSpec) -> Result<Pool> {
        listener_core::Rejections::from_vec(API, self.check_pool(desired)).into_result()?;
        let (part, group) = self.own_pool(&current.id).await?;
        let have = endpoints_of(&self.client.list_servers(part.as_str()).await?);
        let (remove, add) = server_changes(&have, &desired.endpoints);
        let health = !health_check_holds(group.get("HealthCheckConfig"), desired.health_check.as_ref());
        if !remove.is_empty() || !add.is_empty() || health {
            let _writing = self.writes.hold().await;
            let waiter = self.waiter(WaitOp::Update);
            if health {
                tracing::info!(server_group = part.as_str(), "updating ALB server group health check");
                let config = health_check_config(desired.health_check.as_ref());
                if let Some(job) = self
                    .client
                    .update_server_group_health(&part, &config, self.client.new_token())
                    .await?
                {
                    wait_job(&self.client, &waiter, "server group", &job, "update health check").await?;
                }
            }
            self.change_pool_servers(&waiter, &part, false, &remove).await?;
            self.change_pool_servers(&waiter, &part, true, &add).await?;
        }
        let (_, group) = self.own_pool(&current.id).await?;
        self.read_pool(&part, &group).await
    }

    async fn delete_pool(&self, id: &ResourceId) -> Result<()> {
        let (part, _) = self.own_pool(id).await?;
        let _writing = self.writes.hold().await;
        let waiter = self.waiter(WaitOp::Delete);
        tracing::info!(server_group = %id, "deleting ALB server group");
        match self.client.delete_server_group(&part, self.client.new_token()).await? {
            Deletion::Started(Some(job)) => {
                wait_job(&self.client, &waiter, "server group", &job, "delete server group").await
            }
            Deletion::Started(None) | Deletion::AlreadyGone => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(a: &str, port: u32, weight: u32) -> Endpoint {
        let mut x = Endpoint::new(a, port);
        x.weight = weight;
        x
    }

    #[test]
    fn server_changes_remove_gone_and_reweighted_add_new() {
        let have = vec![e("10.0.0.1", 80, 100), e("10.0.0.2", 80, 50)];
        let want = vec![e("10.0.0.2", 80, 60), e("10.0.0.3", 80, 100), e("10.0.0.1", 80, 100)];
        let (remove, add) = server_changes(&have, &want);
        assert_eq!(remove, vec![("10.0.0.2".to_string(), 80, 50)]);
        assert_eq!(
            add,
            vec![("10.0.0.2".to_string(), 80, 60), ("10.0.0.3".to_string(), 80, 100)]
        );
        assert_eq!(server_changes(&have, &have), (vec![], vec![]));
    }

    #[test]
    fn endpoints_skip_removing_servers() {
        let servers = vec![
            json!({ "ServerId": "10.0.0.1", "ServerIp": "10.0.0.1", "Port": 80, "Weight": 5, "Status": "Available" }),
            json!({ "ServerId": "10.0.0.2", "Port": 80, "Weight": 5, "Status": "Removing" }),
        ];
        assert_eq!(endpoints_of(&servers), vec![e("10.0.0.1", 80, 5)]);
    }

    #[test]
    fn tags_read_back() {
        let g = json!({ "Tags": [{ "Key": OWNER_TAG, "Value": "lctl" }] });
        assert_eq!(tags_of(&g).get(OWNER_TAG).map(String::as_str), Some("lctl"));
    }

    fn checked(hc: HealthCheck) -> PoolSpec {
        PoolSpec::new("web", vec![e("10.0.0.1", 80, 100)]).with_health_check(Some(hc))
    }

    fn http_check() -> HealthCheck {
        HealthCheck {
            enabled: true,
            kind: Some(HealthCheckKind::Http),
            interval_secs: Some(5),
            timeout_secs: Some(2),
            healthy_threshold: Some(3),
            unhealthy_threshold: None,
            port: None,
            http: Some(HttpHealthCheck {
                path: Some("/healthz".into()),
                domain: None,
                method: Some(HttpMethod::Get),
                healthy_status_classes: vec![2, 3],
            }),
            custom: None,
        }
    }

    #[test]
    fn health_checks_become_the_group_config_and_read_back() {
        let hc = http_check();
        let c = health_check_config(Some(&hc));
        assert_eq!(c["HealthCheckEnabled"], true);
        assert_eq!(c["HealthCheckProtocol"], "HTTP");
        assert_eq!(c["HealthCheckInterval"], 5);
        assert_eq!(c["HealthCheckMethod"], "GET");
        assert_eq!(c["HealthCheckCodes"], json!(["http_2xx", "http_3xx"]));
        assert!(c.get("UnhealthyThreshold").is_none(), "unset stays the vendor's");
        assert_eq!(health_check_config(None), json!({ "HealthCheckEnabled": true }));
        // As the vendor answers it: every key, some as text.
        let mut answered = c.clone();
        answered["UnhealthyThreshold"] = json!(3);
        answered["HealthCheckTimeout"] = json!("2");
        answered["HealthCheckConnectPort"] = json!(0);
        let back = health_check_from(Some(&answered)).unwrap();
        assert_eq!(back.interval_secs, Some(5));
        assert_eq!(back.timeout_secs, Some(2));
        assert_eq!(back.port, None);
        assert_eq!(back.http.as_ref().unwrap().healthy_status_classes, vec![2, 3]);
        assert!(health_check_holds(Some(&answered), Some(&hc)));
        let mut longer = hc.clone();
        longer.interval_secs = Some(10);
        assert!(!health_check_holds(Some(&answered), Some(&longer)));
    }

    #[test]
    fn rejects_what_alb_health_checks_cannot_express() {
        assert!(health_check_rejections(&checked(http_check())).is_empty());
        let mut hc = http_check();
        hc.interval_secs = Some(51);
        hc.healthy_threshold = Some(1);
        hc.http.as_mut().unwrap().healthy_status_classes = vec![1, 2];
        let got: Vec<(String, &str)> = health_check_rejections(&checked(hc))
            .into_iter()
            .map(|r| (r.field, r.rule))
            .collect();
        assert!(got.contains(&(
            "backends.web.health_check.interval_secs".into(),
            "health_check_interval"
        )));
        assert!(got.contains(&(
            "backends.web.health_check.healthy_threshold".into(),
            "health_check_threshold"
        )));
        assert!(got.contains(&(
            "backends.web.health_check.http.healthy_status_classes".into(),
            "health_check_codes"
        )));
        let mut ping = http_check();
        ping.kind = Some(HealthCheckKind::Ping);
        ping.http = None;
        assert_eq!(health_check_rejections(&checked(ping))[0].rule, "health_check_kind");
    }
}
