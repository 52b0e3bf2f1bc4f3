//! Routes as ALB forwarding rules (`RuleProvider`).
//!
//! One route is one rule: a `Host` condition with the route's host as
//! written, a `Path` condition `P*` for prefix `P` (`/` is `/*`) and a
//! `ForwardGroup` action to the pool's server group. The rule's name
//! carries the owner's mark (`route--lctl`, [`listener_core::mark`]), which
//! is how a rule reads back as managed.
//!
//! **Order.** ALB tries rules strictly by `Priority`, smaller first, with
//! no specificity sorting. The neutral semantics (`listener_core::routing`)
//! need, for one request host, the most specific matching route host and
//! within it the longest path, and a matched host must not fall through to
//! a less specific one. The planner adds a `/` rule per route host to the
//! listener's default backend (the per-host catch-all), so trying the rules
//! in *evaluation order* (`routing::evaluation_order`: exact hosts, then
//! wildcards by decreasing suffix length, within a host the longest path
//! first and its `/` last) routes every request as the neutral rules say,
//! overlapping hosts (`api.example.com` under `*.example.com`) included.
//! [`place`] gives priorities in that order over the listener's whole
//! rule set: a new rule takes a free number between its neighbours (steps
//! of 10 where there is room); when there is none, every rule of this
//! owner on the listener is renumbered (`UpdateRulesAttribute`, 10, 20,
//! ...) before the new ones are created.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use listener_core::ownership::{self, OwnedPart, PartOf};
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

/// Where a rule (host, path) stands in evaluation order, the order of
/// `listener_core::routing::evaluation_order`: exact hosts first, then
/// wildcard hosts by decreasing suffix length (ties by name, so the order
/// is total), a rule without host last; within a host the longest path
/// first, so the host's `/` (ALB `/*`) closes it.
pub fn order_key(host: Option<&str>, path: &str) -> (u8, usize, String, usize, String) {
    let (tier, suffix) = match host {
        None => (2, 0),
        Some(h) => match h.strip_prefix('*') {
            Some(s) => (1, usize::MAX - s.len()),
            None => (0, 0),
        },
    };
    (
        tier,
        suffix,
        host.unwrap_or("").to_string(),
        usize::MAX - path.len(),
        path.to_string(),
    )
}

/// A rule this adapter places: its host and path.
pub type Placed = (Option<String>, String);

/// The priorities of a listener's rules after `new` rules join `have`
/// (rules of this owner with their priorities now): an answer for every
/// rule, in the order given (`have` then `new`). `fixed` are priorities of
/// rules this adapter does not renumber (other shapes or owners), never
/// given out.
///
/// The listener's whole rule set is put in evaluation order
/// ([`order_key`]). When the rules of `have` already stand in that order
/// and every new rule finds a free number between its neighbours, the
/// rules of `have` keep theirs and the new ones take numbers spread in the
/// gaps (steps of 10 after the last). Otherwise every rule is renumbered
/// 10, 20, 30, ... in evaluation order (skipping `fixed`): the answer
/// depends on the rule set alone. Errors when even steps of 1 do not fit
/// in 1–10000.
pub fn place(have: &[(Placed, u32)], new: &[Placed], fixed: &BTreeSet<u32>) -> Result<Vec<u32>> {
    let n = have.len() + new.len();
    let key = |i: usize| {
        let (h, p) = if i < have.len() {
            &have[i].0
        } else {
            &new[i - have.len()]
        };
        order_key(h.as_deref(), p)
    };
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| key(i));
    if let Some(out) = fill_gaps(have, &order, fixed) {
        return Ok(out);
    }
    for step in [STEP, 1] {
        let mut out = vec![0; n];
        let mut next = 0;
        let mut fits = true;
        for &i in &order {
            next += step;
            while fixed.contains(&next) {
                next += step;
            }
            if next > PRIORITY_RANGE.1 {
                fits = false;
                break;
            }
            out[i] = next;
        }
        if fits {
            return Ok(out);
        }
    }
    Err(Error::Conflict {
        vendor: API,
        code: "PriorityExhausted".to_string(),
        request_id: String::new(),
        message: format!(
            "{n} ALB rules do not fit in priorities {}-{} beside {} fixed ones",
            PRIORITY_RANGE.0,
            PRIORITY_RANGE.1,
            fixed.len()
        ),
    })
}

/// The new rules' numbers in the gaps between the kept ones, when the
/// kept ones are in evaluation order and every gap has room.
fn fill_gaps(have: &[(Placed, u32)], order: &[usize], fixed: &BTreeSet<u32>) -> Option<Vec<u32>> {
    let mut out = vec![0; order.len()];
    let free = |p: u32| !fixed.contains(&p) && (PRIORITY_RANGE.0..=PRIORITY_RANGE.1).contains(&p);
    // Numbers for a run of new rules strictly between lo and hi.
    let spread = |lo: u32, hi: Option<u32>, k: usize| -> Option<Vec<u32>> {
        let mut picks = Vec::with_capacity(k);
        let mut last = lo;
        for j in 1..=k as u32 {
            let ideal = match hi {
                None => last + STEP,
                Some(hi) => lo + ((hi - lo) as u64 * j as u64 / (k as u64 + 1)) as u32,
            }
            .max(last + 1);
            let limit = hi.unwrap_or(PRIORITY_RANGE.1 + 1);
            let pick = (ideal..limit).find(|p| free(*p))?;
            picks.push(pick);
            last = pick;
        }
        Some(picks)
    };
    let mut lo = 0u32;
    let mut pending: Vec<usize> = Vec::new();
    for &i in order {
        if i < have.len() {
            let hi = have[i].1;
            // A kept rule out of evaluation order: renumber them all.
            if hi <= lo {
                return None;
            }
            out[i] = hi;
            let picks = spread(lo, Some(hi), pending.len())?;
            for (j, p) in pending.drain(..).zip(picks) {
                out[j] = p;
            }
            lo = hi;
        } else {
            pending.push(i);
        }
    }
    let picks = spread(lo, None, pending.len())?;
    for (j, p) in pending.drain(..).zip(picks) {
        out[j] = p;
    }
    Some(out)
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
        let names = self.owned_group_names(&[]).await?;
        Ok(live.iter().filter_map(|r| self.rule_of(listener, r, &names)).collect())
    }
}

/// Rules without a host: ALB could express one (a rule with a Path
/// condition only), but the neutral model has none and the planner makes
/// none for this adapter (`pools_on_rules` is off: the listener's default
/// action is the default backend).
pub fn hostless(rules: &[RouteSpec]) -> Vec<(usize, Rejection)> {
    rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.host.is_none())
        .map(|(i, _)| {
            (
                i,
                Rejection::new(
                    API,
                    format!("routes[{i}].host"),
                    "alb_host_required",
                    "ALB rules here always carry a host",
                ),
            )
        })
        .collect()
}

impl AlbProvider {
    /// Priorities for `new` rules on an owned listener whose rules are
    /// `live` (`ListRules`), leaving out `except` (a rule being changed):
    /// computed by [`place`] over the listener's whole rule set; rules of
    /// this owner that must move are renumbered first with
    /// `UpdateRulesAttribute`. A renumbering of more rules than one call
    /// takes goes in two rounds, through numbers no rule holds or will
    /// hold, so no call meets a priority still taken (`Conflict.Priority`).
    async fn make_room(
        &self,
        waiter: &listener_core::Deadline,
        listener: &Owned,
        live: &[Value],
        except: Option<&ResourceId>,
        new: &[Placed],
    ) -> Result<Vec<u32>> {
        let mut have: Vec<(Placed, u32)> = Vec::new();
        let mut ids: Vec<ResourceId> = Vec::new();
        let mut fixed = BTreeSet::new();
        for r in live {
            let id = get_str(r, "RuleId").unwrap_or_default();
            if except.is_some_and(|e| e.as_str() == id) {
                continue;
            }
            let Some(priority) = get_u32(r, "Priority") else {
                continue;
            };
            let ours = get_str(r, "RuleName").and_then(|n| listener_core::mark::split_name(n).1);
            match route_of(r) {
                Some((h, p, _)) if ours.as_deref() == Some(self.profile.owner()) => {
                    have.push(((h, p), priority));
                    ids.push(ResourceId(id.to_string()));
                }
                _ => {
                    fixed.insert(priority);
                }
            }
        }
        let all = place(&have, new, &fixed)?;
        let moves: Vec<(ResourceId, u32, u32)> = have
            .iter()
            .zip(&ids)
            .zip(&all)
            .filter(|(((_, now), _), want)| *now != **want)
            .map(|(((_, now), id), want)| (id.clone(), *now, *want))
            .collect();
        if !moves.is_empty() {
            let move_ids: Vec<ResourceId> = moves.iter().map(|m| m.0.clone()).collect();
            let parts = self.own_rules(listener, live, &move_ids)?;
            let mut rounds: Vec<Vec<(OwnedPart, u32)>> = Vec::new();
            if moves.len() > RULES_PER_CALL {
                let busy: BTreeSet<u32> = live
                    .iter()
                    .filter_map(|r| get_u32(r, "Priority"))
                    .chain(all.iter().copied())
                    .collect();
                let spare: Vec<u32> = (PRIORITY_RANGE.0..=PRIORITY_RANGE.1)
                    .rev()
                    .filter(|p| !busy.contains(p))
                    .take(moves.len())
                    .collect();
                if spare.len() < moves.len() {
                    return Err(Error::Conflict {
                        vendor: API,
                        code: "PriorityExhausted".to_string(),
                        request_id: String::new(),
                        message: "no free ALB rule priorities to renumber through".to_string(),
                    });
                }
                rounds.push(parts.iter().cloned().zip(spare).collect());
            }
            rounds.push(
                parts
                    .iter()
                    .map(|part| {
                        let want = moves.iter().find(|m| m.0.as_str() == part.as_str()).map_or(0, |m| m.2);
                        (part.clone(), want)
                    })
                    .collect(),
            );
            for round in rounds {
                for chunk in round.chunks(RULES_PER_CALL) {
                    tracing::info!(
                        listener_id = listener.as_str(),
                        count = chunk.len(),
                        "renumbering ALB rules"
                    );
                    if let Some(job) = self.client.renumber_rules(chunk, self.client.new_token()).await? {
                        wait_job(&self.client, waiter, "rules", &job, "renumber rules").await?;
                    }
                }
            }
        }
        Ok(all[have.len()..].to_vec())
    }
}

#[async_trait]
impl RuleProvider for AlbProvider {
    fn check_rules(&self, _listener: &ListenerSpec, rules: &[RouteSpec]) -> Vec<(usize, Rejection)> {
        hostless(rules)
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
        let new: Vec<Placed> = rules
            .iter()
            .map(|r| (r.spec.host.clone(), r.spec.path.clone()))
            .collect();
        let priorities = self.make_room(&waiter, &owned, &live, None, &new).await?;
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
            let new = [(desired.host.clone(), desired.path.clone())];
            let p = self.make_room(&waiter, &owned, &live, Some(&current.id), &new).await?;
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

    fn p(host: &str, path: &str) -> Placed {
        (h(host), path.to_string())
    }

    /// Whether trying `rules` by priority gives evaluation order.
    fn in_order(rules: &[Placed], priorities: &[u32]) -> bool {
        let mut by: Vec<(u32, &Placed)> = priorities.iter().copied().zip(rules).collect();
        by.sort_by_key(|x| x.0);
        by.windows(2)
            .all(|w| order_key(w[0].1 .0.as_deref(), &w[0].1 .1) < order_key(w[1].1 .0.as_deref(), &w[1].1 .1))
    }

    #[test]
    fn exact_hosts_then_longer_wildcards_then_shorter_paths() {
        let new = vec![
            p("*.example.com", "/"),
            p("api.example.com", "/"),
            p("api.example.com", "/v1"),
            p("*.a.example.com", "/"),
            p("*.example.com", "/static"),
            p("api.example.com", "/v1/reports"),
        ];
        let got = place(&[], &new, &BTreeSet::new()).unwrap();
        assert_eq!(got, vec![60, 30, 20, 40, 50, 10]);
        assert!(in_order(&new, &got));
    }

    #[test]
    fn a_new_rule_takes_a_gap_and_keeps_the_others() {
        let have = vec![
            (p("api.example.com", "/v1"), 10),
            (p("api.example.com", "/"), 20),
            (p("*.example.com", "/"), 30),
        ];
        let got = place(
            &have,
            &[p("api.example.com", "/v1/x"), p("*.example.com", "/s")],
            &BTreeSet::new(),
        )
        .unwrap();
        assert_eq!(&got[..3], &[10, 20, 30]);
        assert!(got[3] < 10 && got[4] > 20 && got[4] < 30, "{got:?}");
        // A wildcard added after the fact goes after the exact host.
        let got = place(&have, &[p("*.b.example.com", "/")], &BTreeSet::new()).unwrap();
        assert!(got[3] > 20 && got[3] < 30, "{got:?}");
    }

    #[test]
    fn no_gap_renumbers_every_rule_in_evaluation_order() {
        let have = vec![(p("a.b.com", "/abc"), 5), (p("a.b.com", "/a"), 6)];
        let got = place(&have, &[p("a.b.com", "/ab")], &BTreeSet::new()).unwrap();
        assert_eq!(got, vec![10, 30, 20]);
        // Rules out of order (made before hosts could overlap) too.
        let have = vec![(p("*.b.com", "/"), 10), (p("a.b.com", "/"), 20)];
        let got = place(&have, &[], &BTreeSet::new()).unwrap();
        assert_eq!(got, vec![20, 10]);
        // Numbers of rules this adapter does not own are skipped.
        let fixed: BTreeSet<u32> = [20].into();
        let got = place(&[], &[p("a.b.com", "/x"), p("a.b.com", "/")], &fixed).unwrap();
        assert_eq!(got, vec![10, 21]);
        let have = vec![(p("a.b.com", "/abc"), 5), (p("a.b.com", "/a"), 6)];
        let got = place(&have, &[p("a.b.com", "/ab")], &[10].into()).unwrap();
        assert_eq!(got, vec![20, 40, 30]);
    }

    #[test]
    fn the_answer_depends_on_the_rule_set_alone() {
        let rules = vec![
            p("*.example.com", "/"),
            p("api.example.com", "/v1"),
            p("api.example.com", "/"),
            p("www.example.com", "/"),
        ];
        let mut rev = rules.clone();
        rev.reverse();
        let a = place(&[], &rules, &BTreeSet::new()).unwrap();
        let mut b = place(&[], &rev, &BTreeSet::new()).unwrap();
        b.reverse();
        assert_eq!(a, b);
    }

    #[test]
    fn too_many_rules_is_a_conflict() {
        let new: Vec<Placed> = (0..10001).map(|i| p("a.b.com", &format!("/{i}"))).collect();
        assert!(matches!(
            place(&[], &new, &BTreeSet::new()),
            Err(Error::Conflict { .. })
        ));
    }

    #[test]
    fn hostless_rules_are_refused() {
        let mut r = RouteSpec::new(None, "/", "a");
        r.host = None;
        let rules = vec![RouteSpec::new(Some("a.example.com"), "/", "a"), r];
        let got = hostless(&rules);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].1.field, "routes[1].host");
    }
}
