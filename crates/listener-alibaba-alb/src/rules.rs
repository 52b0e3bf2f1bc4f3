//! Routes as ALB forwarding rules (`RuleProvider`).
//!
//! One route is one rule: a `Host` condition with the route's host as
//! written, a `Path` condition `P*` for prefix `P` (`/` is `/*`) and a
//! `ForwardGroup` action to the pool's server group. The rule's name
//! carries the owner's mark (`route--lctl`, [`listener_core::mark`]), which
//! is how a rule reads back as managed.
//!
//! **Order.** ALB tries rules strictly by `Priority`, smaller first. The
//! neutral semantics (`listener_core::routing`) need, for one request
//! host, the most specific matching route host and within it the longest
//! path. This adapter refuses (in `check_rules`) route hosts of one
//! listener that can match the same request host (an exact host and a
//! wildcard covering it, or nested wildcards): then each request host
//! meets the rules of at most one route host, and only the order *within*
//! a host matters: a longer path before a shorter one. Priorities are
//! chosen so (see [`allocate`]): a free number between the neighbours of
//! the same host, steps of 10 where there is room. The per-host catch-all
//! rule that would let overlapping hosts be ordered (`docs/routing.md`) is
//! not made yet.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use listener_core::ownership::{self, OwnedPart, PartOf};
use listener_core::routing::host_match;
use listener_core::{
    Error, ListenerId, ListenerSpec, NewRule, Owned, Rejection, ResourceId, Result, RouteSpec, Rule, RuleProvider,
    WaitOp,
};
use serde_json::{json, Map, Value};

use crate::client::RULES_PER_CALL;
use crate::status::wait_job;
use crate::translate::{get_str, get_u32};
use crate::{AlbProvider, API};

/// The smallest and largest priority ALB takes.
pub const PRIORITY_RANGE: (u32, u32) = (1, 10000);
/// The gap left between priorities where there is room.
const STEP: u32 = 10;
/// The name of every rule, before the owner's mark.
const RULE_NAME: &str = "route";

/// ALB's path value for prefix `path`.
pub fn path_value(path: &str) -> String {
    if path == "/" {
        "/*".to_string()
    } else {
        format!("{path}*")
    }
}

/// The conditions of a route.
pub fn conditions(spec: &RouteSpec) -> Value {
    let mut c = Vec::new();
    if let Some(h) = &spec.host {
        c.push(json!({ "Type": "Host", "HostConfig": { "Values": [h] } }));
    }
    c.push(json!({ "Type": "Path", "PathConfig": { "Values": [path_value(&spec.path)] } }));
    Value::Array(c)
}

/// The forward action to `group`.
pub fn actions(group: &ResourceId) -> Value {
    json!([{
        "Type": "ForwardGroup",
        "Order": 1,
        "ForwardGroupConfig": { "ServerGroupTuples": [{ "ServerGroupId": group.as_str(), "Weight": 100 }] },
    }])
}

/// Host, path prefix and the one server group of a `ListRules` entry,
/// when it has the shape this adapter writes (one host value at most, one
/// `P*` path value, one forward group).
pub fn route_of(rule: &Value) -> Option<(Option<String>, String, String)> {
    let mut host = None;
    let mut path = None;
    for c in rule.get("RuleConditions")?.as_array()? {
        let key = match get_str(c, "Type")? {
            "Host" => "HostConfig",
            "Path" => "PathConfig",
            _ => return None,
        };
        let values = c.get(key)?.get("Values")?.as_array()?;
        let [v] = values.as_slice() else { return None };
        let v = v.as_str()?.to_string();
        if key == "HostConfig" {
            host = Some(v);
        } else {
            let p = v.strip_suffix('*')?;
            path = Some(if p == "/" || p.is_empty() {
                "/".to_string()
            } else {
                p.to_string()
            });
        }
    }
    let actions = rule.get("RuleActions")?.as_array()?;
    let [a] = actions.as_slice() else { return None };
    let tuples = a.get("ForwardGroupConfig")?.get("ServerGroupTuples")?.as_array()?;
    let [t] = tuples.as_slice() else { return None };
    Some((host, path?, get_str(t, "ServerGroupId")?.to_string()))
}

/// Priorities for `new` rules (host, path) on a listener holding `have`
/// (host, path, priority): for each new rule, a number not taken, above
/// every rule of its host with a longer path and below every rule of its
/// host with a shorter one (rules of other hosts never meet the same
/// request, see the module docs). Errors when no number fits (the rules
/// would need renumbering, which this adapter does not do yet).
pub fn allocate(have: &[(Option<String>, String, u32)], new: &[(Option<String>, String)]) -> Result<Vec<u32>> {
    let mut placed: Vec<(Option<String>, String, u32)> = have.to_vec();
    let mut taken: BTreeSet<u32> = have.iter().map(|h| h.2).collect();
    let mut order: Vec<usize> = (0..new.len()).collect();
    // Longest paths first, so a host's new rules go down the list in order.
    order.sort_by(|&a, &b| new[b].1.len().cmp(&new[a].1.len()).then(a.cmp(&b)));
    let mut out = vec![0; new.len()];
    for i in order {
        let (host, path) = &new[i];
        let same = placed.iter().filter(|p| &p.0 == host);
        let lo = same
            .clone()
            .filter(|p| p.1.len() > path.len())
            .map(|p| p.2)
            .max()
            .unwrap_or(0);
        let hi = same
            .filter(|p| p.1.len() < path.len())
            .map(|p| p.2)
            .min()
            .unwrap_or(PRIORITY_RANGE.1 + 1);
        let top = taken.iter().next_back().copied().unwrap_or(0);
        let ideal = if lo == 0 && hi > PRIORITY_RANGE.1 {
            top + STEP
        } else if hi > PRIORITY_RANGE.1 {
            lo + STEP
        } else if lo == 0 {
            hi.saturating_sub(STEP).max(1)
        } else {
            lo + (hi - lo) / 2
        };
        let fits =
            |p: u32| p > lo && p < hi && (PRIORITY_RANGE.0..=PRIORITY_RANGE.1).contains(&p) && !taken.contains(&p);
        let pick = (0..=PRIORITY_RANGE.1)
            .flat_map(|d| [ideal.checked_add(d), ideal.checked_sub(d)])
            .flatten()
            .find(|p| fits(*p))
            .ok_or_else(|| Error::Conflict {
                vendor: API,
                code: "PriorityExhausted".to_string(),
                request_id: String::new(),
                message: format!(
                    "no free ALB rule priority between {lo} and {hi} for `{}{path}`; the listener's rules would need renumbering",
                    host.as_deref().unwrap_or("")
                ),
            })?;
        taken.insert(pick);
        placed.push((host.clone(), path.clone(), pick));
        out[i] = pick;
    }
    Ok(out)
}

impl AlbProvider {
    /// Rules of an owned listener, with their `ListRules` entries.
    fn rule_of(&self, listener: &ListenerId, r: &Value, names: &BTreeMap<String, String>) -> Option<Rule> {
        let id = get_str(r, "RuleId")?;
        let (host, path, group) = route_of(r)?;
        let owner = get_str(r, "RuleName").and_then(|n| listener_core::mark::split_name(n).1);
        let backend = names.get(&group).cloned().unwrap_or_else(|| group.clone());
        let mut spec = RouteSpec::new(host.as_deref(), path, backend);
        spec.host = host;
        Some(Rule::new(
            ResourceId(id.to_string()),
            listener.clone(),
            ResourceId(group),
            spec,
            owner,
            self.profile.owner(),
        ))
    }

    /// Pool names by group ID, for rules read back.
    async fn pool_names(&self) -> Result<BTreeMap<String, String>> {
        use listener_core::PoolProvider;
        Ok(self
            .list_pools()
            .await?
            .into_iter()
            .filter(|p| p.managed)
            .map(|p| (p.id.0, p.spec.name))
            .collect())
    }

    /// Prove each rule is on the owned listener and carries this owner's
    /// mark; rules already gone are left out.
    fn own_rules(&self, listener: &Owned, live: &[Value], ids: &[ResourceId]) -> Result<Vec<OwnedPart>> {
        let mut out = Vec::new();
        for id in ids {
            let found = live.iter().find(|r| get_str(r, "RuleId") == Some(id.as_str()));
            let reported = found.map(|r| {
                let ours = get_str(r, "RuleName").and_then(|n| listener_core::mark::split_name(n).1);
                if ours.as_deref() == Some(self.profile.owner()) {
                    get_str(r, "ListenerId").unwrap_or_default().to_string()
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

    async fn read_rules(&self, listener: &ListenerId) -> Result<Vec<Rule>> {
        let live = self.client.list_rules(listener.as_str()).await?;
        let names = self.pool_names().await?;
        Ok(live.iter().filter_map(|r| self.rule_of(listener, r, &names)).collect())
    }
}

/// Route hosts of one listener that can match the same request host.
pub fn overlapping_hosts(rules: &[RouteSpec]) -> Vec<(usize, Rejection)> {
    let mut out = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        let Some(h) = &r.host else {
            out.push((
                i,
                Rejection::new(
                    API,
                    format!("routes[{i}].host"),
                    "alb_host_required",
                    "ALB rules here always carry a host",
                ),
            ));
            continue;
        };
        let covered = rules.iter().enumerate().find(|(j, o)| {
            let Some(oh) = &o.host else { return false };
            *j != i && oh != h && oh.starts_with("*.") && host_match(oh, h.trim_start_matches("*")).is_some()
        });
        if let Some((j, o)) = covered {
            out.push((
                i,
                Rejection::new(
                    API,
                    format!("routes[{i}].host"),
                    "alb_host_overlap",
                    format!(
                        "`{h}` is also matched by `{}` (routes[{j}]); ALB would need a catch-all rule per host to keep requests of `{h}` from falling through, which this adapter does not make yet",
                        o.host.as_deref().unwrap_or("")
                    ),
                ),
            ));
        }
    }
    out
}

#[async_trait]
impl RuleProvider for AlbProvider {
    fn check_rules(&self, _listener: &ListenerSpec, rules: &[RouteSpec]) -> Vec<(usize, Rejection)> {
        overlapping_hosts(rules)
    }

    async fn list_rules(&self, listener: &ListenerId) -> Result<Vec<Rule>> {
        let (_, _) = self.own(listener).await?;
        self.read_rules(listener).await
    }

    async fn create_rules(&self, listener: &ListenerId, rules: &[NewRule<'_>]) -> Result<Vec<Rule>> {
        if rules.is_empty() {
            return Ok(Vec::new());
        }
        let (owned, _) = self.own(listener).await?;
        let _writing = self.writes.hold().await;
        let waiter = self.waiter(WaitOp::Create);
        let live = self.client.list_rules(listener.as_str()).await?;
        let have: Vec<(Option<String>, String, u32)> = live
            .iter()
            .filter_map(|r| {
                let (h, p, _) = route_of(r)?;
                Some((h, p, get_u32(r, "Priority")?))
            })
            .collect();
        // The rules already there and the new ones together must not
        // meet the same request host (see the module docs).
        let mut together: Vec<RouteSpec> = rules.iter().map(|r| r.spec.clone()).collect();
        together.extend(have.iter().map(|(h, p, _)| {
            let mut x = RouteSpec::new(None, p.clone(), "");
            x.host = h.clone();
            x
        }));
        let clash = overlapping_hosts(&together);
        if !clash.is_empty() {
            return Err(Error::Unsupported {
                vendor: API,
                rejections: clash.into_iter().map(|(_, r)| r).collect(),
            });
        }
        let new: Vec<(Option<String>, String)> = rules
            .iter()
            .map(|r| (r.spec.host.clone(), r.spec.path.clone()))
            .collect();
        let priorities = allocate(&have, &new)?;
        let name = listener_core::mark::mark_name(RULE_NAME, self.profile.owner());
        let bodies: Vec<Value> = rules
            .iter()
            .zip(&priorities)
            .map(|(r, p)| {
                json!({
                    "RuleName": name,
                    "Priority": p,
                    "RuleConditions": conditions(r.spec),
                    "RuleActions": actions(r.backend),
                })
            })
            .collect();
        for chunk in bodies.chunks(RULES_PER_CALL) {
            let token = self.client.new_token();
            tracing::info!(listener_id = %listener, count = chunk.len(), client_token = %token, "creating ALB rules");
            let (_, job) = self.client.create_rules(&owned, chunk, token).await?;
            if let Some(job) = job {
                wait_job(&self.client, &waiter, "rules", &job, "create rules").await?;
            }
        }
        let all = self.read_rules(listener).await?;
        let known: BTreeSet<&str> = live.iter().filter_map(|r| get_str(r, "RuleId")).collect();
        Ok(all.into_iter().filter(|r| !known.contains(r.id.as_str())).collect())
    }

    async fn update_rule(&self, current: &Rule, want: &NewRule<'_>) -> Result<Rule> {
        let (desired, backend) = (want.spec, want.backend);
        let (owned, _) = self.own(&current.listener).await?;
        let _writing = self.writes.hold().await;
        let waiter = self.waiter(WaitOp::Update);
        let live = self.client.list_rules(owned.as_str()).await?;
        let parts = self.own_rules(&owned, &live, std::slice::from_ref(&current.id))?;
        let Some(part) = parts.first() else {
            return Err(Error::NotFound {
                vendor: API,
                what: format!("rule {} on listener {}", current.id, current.listener),
            });
        };
        let mut fields = Map::new();
        fields.insert("RuleActions".into(), actions(backend));
        if desired.host != current.spec.host || desired.path != current.spec.path {
            let have: Vec<(Option<String>, String, u32)> = live
                .iter()
                .filter(|r| get_str(r, "RuleId") != Some(current.id.as_str()))
                .filter_map(|r| {
                    let (h, p, _) = route_of(r)?;
                    Some((h, p, get_u32(r, "Priority")?))
                })
                .collect();
            let p = allocate(&have, &[(desired.host.clone(), desired.path.clone())])?;
            fields.insert("RuleConditions".into(), conditions(desired));
            fields.insert("Priority".into(), json!(p[0]));
        }
        tracing::info!(rule_id = %current.id, "updating ALB rule");
        if let Some(job) = self.client.update_rule(part, &fields, self.client.new_token()).await? {
            wait_job(&self.client, &waiter, "rules", &job, "update rule").await?;
        }
        self.read_rules(&current.listener)
            .await?
            .into_iter()
            .find(|r| r.id == current.id)
            .ok_or_else(|| crate::client::unexpected("an updated rule is not listed"))
    }

    async fn delete_rules(&self, listener: &ListenerId, rules: &[ResourceId]) -> Result<()> {
        if rules.is_empty() {
            return Ok(());
        }
        let (owned, _) = self.own(listener).await?;
        let _writing = self.writes.hold().await;
        let waiter = self.waiter(WaitOp::Delete);
        let live = self.client.list_rules(listener.as_str()).await?;
        let parts = self.own_rules(&owned, &live, rules)?;
        for chunk in parts.chunks(RULES_PER_CALL) {
            tracing::info!(listener_id = %listener, count = chunk.len(), "deleting ALB rules");
            if let Some(job) = self.client.delete_rules(chunk, self.client.new_token()).await? {
                wait_job(&self.client, &waiter, "rules", &job, "delete rules").await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    #[test]
    fn prefixes_become_star_values_and_read_back() {
        assert_eq!(path_value("/"), "/*");
        assert_eq!(path_value("/v1"), "/v1*");
        let spec = RouteSpec::new(Some("api.example.com"), "/v1", "api");
        let rule = json!({
            "RuleConditions": conditions(&spec),
            "RuleActions": actions(&ResourceId::from("sgp-1")),
        });
        assert_eq!(
            route_of(&rule),
            Some((h("api.example.com"), "/v1".to_string(), "sgp-1".to_string()))
        );
        let root = json!({
            "RuleConditions": conditions(&RouteSpec::new(Some("a.example.com"), "/", "x")),
            "RuleActions": actions(&ResourceId::from("sgp-2")),
        });
        assert_eq!(route_of(&root).map(|r| r.1), Some("/".to_string()));
    }

    #[test]
    fn longer_paths_of_a_host_get_smaller_priorities() {
        let new = vec![
            (h("a.example.com"), "/v1".to_string()),
            (h("a.example.com"), "/v1/reports".to_string()),
            (h("b.example.com"), "/static".to_string()),
            (h("a.example.com"), "/".to_string()),
        ];
        let p = allocate(&[], &new).unwrap();
        assert!(p[1] < p[0] && p[0] < p[3], "{p:?}");
        assert_eq!(p.iter().collect::<BTreeSet<_>>().len(), 4);
        // Inserting between existing ones.
        let have: Vec<_> = new
            .iter()
            .cloned()
            .zip(p.iter().copied())
            .map(|((a, b), c)| (a, b, c))
            .collect();
        let q = allocate(&have, &[(h("a.example.com"), "/v1/x".to_string())]).unwrap();
        assert!(q[0] > p[1] && q[0] < p[0], "{p:?} {q:?}");
    }

    #[test]
    fn no_room_is_a_conflict() {
        let have = vec![
            (h("a.b.com"), "/abc".to_string(), 5),
            (h("a.b.com"), "/a".to_string(), 6),
        ];
        assert!(allocate(&have, &[(h("a.b.com"), "/ab".to_string())]).is_err());
    }

    #[test]
    fn overlapping_hosts_are_refused() {
        let rules = vec![
            RouteSpec::new(Some("api.example.com"), "/", "a"),
            RouteSpec::new(Some("*.example.com"), "/", "b"),
            RouteSpec::new(Some("www.other.com"), "/", "c"),
        ];
        let r = overlapping_hosts(&rules);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].1.field, "routes[0].host");
        let nested = vec![
            RouteSpec::new(Some("*.a.example.com"), "/", "a"),
            RouteSpec::new(Some("*.example.com"), "/", "b"),
        ];
        assert_eq!(overlapping_hosts(&nested).len(), 1);
    }
}
