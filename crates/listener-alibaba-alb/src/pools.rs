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
//! The group needs the instance's VPC: the one given with
//! [`AlbProvider::with_vpc`], else the VPC of the first server group the
//! profile maps as a target (ALB only forwards to groups of the
//! instance's VPC, so a mapped group tells it).

use std::collections::BTreeMap;

use async_trait::async_trait;
use listener_core::ownership::{self, OwnedPart, PartOf};
use listener_core::{Endpoint, Error, Pool, PoolProvider, PoolSpec, Rejection, ResourceId, Result, WaitOp};
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

impl AlbProvider {
    /// The VPC new server groups go in.
    async fn vpc(&self) -> Result<String> {
        if let Some(v) = &self.vpc {
            return Ok(v.clone());
        }
        let mapped: Vec<String> = self.profile.aliases.targets.values().cloned().collect();
        if let Some(first) = mapped.first() {
            let groups = self.client.list_server_groups(std::slice::from_ref(first)).await?;
            if let Some(v) = groups.iter().find_map(|g| get_str(g, "VpcId")) {
                return Ok(v.to_string());
            }
        }
        Err(Error::Config {
            field: "targets".into(),
            message: format!(
                "{API} needs the instance's VPC to create a server group: map at least one existing server group of the instance under `targets`"
            ),
        })
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
            PoolSpec::new(name, endpoints_of(servers)),
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

#[async_trait]
impl PoolProvider for AlbProvider {
    fn check_pool(&self, pool: &PoolSpec) -> Vec<Rejection> {
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
                .create_server_group(&group_name(&p.name), &vpc, &tags, token)
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
        if !remove.is_empty() || !add.is_empty() {
            let _writing = self.writes.hold().await;
            let waiter = self.waiter(WaitOp::Update);
            self.change_pool_servers(&waiter, &part, false, &remove).await?;
            self.change_pool_servers(&waiter, &part, true, &add).await?;
        }
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
}
