//! ALB forwarding rules (`rule-…`) of a listener, their matching, and the
//! admin resolve call, a child of the ALB service.
//!
//! A rule is a `Priority` (1–10000, smaller first, unique per listener),
//! `RuleConditions` and one `ForwardGroup` action to at most five server
//! groups with weights. Rules and codes (factsheet `routing.md`):
//!
//! | rule | code | source |
//! |---|---|---|
//! | `Priority` outside 1–10000 or not an integer; `RuleName` not 2–128 of letters, digits, `.`, `_`, `-` starting with a letter; a condition `Type` other than `Host`/`Path` (others are not emulated); a Host value not 3–128 of lowercase letters, digits, `-`, `.`, `*`, `?` with a dot, no leading or trailing dot and a last label of letters or wildcards; a Path value not 1–128 starting `/` or holding a space or one of `" % # ; ! ( ) [ ] ^ ,`; a condition with no values; an action `Type` other than `ForwardGroup`, or not exactly one; a tuple `Weight` outside 0–100; more than 5 server groups; more than 100 IDs in `DeleteRules` or 20 filter IDs in `ListRules`; more than 10 rules in one `CreateRules` | `InvalidParameter` | §2 ALB, §3 (TF-alb-rule, ALB-m `ForwardGroupConfig`, `_delete_rules_request.py`); the `CreateRules` size is undocumented (factsheet: silent), 10 is assumed |
//! | `Priority` taken by another rule of the listener | `Conflict.Priority` | §6 (D-alb-err) |
//! | one priority twice in one `CreateRules`; one server group twice in one action | `DuplicatedParam.Priority` / `DuplicatedParam.ServerGroupId` | §6 `DuplicatedParam.*` (suffixes assumed) |
//! | more than 10 conditions, 10 wildcard values or 5 actions in a rule (Standard edition) | `ResourceQuotaExceeded.RuleConditionsNum` / `.RuleWildcardsNum` / `.RuleActionsNum` | §3 (D-alb-q); suffixes assumed |
//! | more rules on an instance than its quota (100, Standard; default rule excluded) | `ResourceQuotaExceeded.LoadBalancerRulesNum` | §3 (D-alb-q2); suffix assumed, as `LoadBalancerListenersNum` |
//! | unknown listener / rule / server group | `ResourceNotFound.Listener` / `.Rule` / `.ServerGroup` (404) | §6 |
//! | a write to a rule with unfinished work | `IncorrectStatus.Rule` | §6 (TF-alb-rule) |
//! | a rule write while its listener has unfinished work | `IncorrectStatus.Listener` | §6 (TF-alb-rule) |
//! | a write while anything else on the instance has unfinished work | `IncorrectStatus.LoadBalancer` | as the listener actions |
//!
//! `UpdateRulesAttribute` (`Rules.N`, at most 10, assumed like
//! `CreateRules`) updates several rules in one job; its priorities are
//! checked against the listener after the whole call, so a batch may swap
//! priorities (the way `docs/routing.md` renumbers); one rule twice is
//! `DuplicatedParam.RuleId` (suffix assumed).
//!
//! Asynchronous work: a new rule is `Provisioning`, an updated or deleted
//! one `Configuring`, for the family's delays, then `Available` (or gone);
//! while it is so, the instance is busy. Only rules that finished creating
//! take part in matching; an update takes effect when its job ends.
//!
//! Matching ([`matching_rule`]) is ALB's own: strict priority order,
//! smaller first; a rule applies when every condition holds, a condition
//! when any of its values matches; Host values with `*`/`?` wildcards,
//! case-insensitive; Path values with `*`/`?` wildcards, case-sensitive;
//! no rule → the listener's `DefaultActions`.
//!
//! The resolve answer of an HTTPS listener also names the certificate its
//! TLS handshake would present for the request's host as server name
//! ([`served_certificate`]), chosen by the names each attached certificate
//! covers. The emulator has no certificate store: a certificate ID carries
//! its names after an `@` ([`certificate_names`], `cert-api@api.example.com`).

use std::collections::BTreeSet;
use std::time::Instant;

use serde_json::{json, Value};

use super::{integer, invalid, is_dry_run, later, list, not_found, page, required, text, with_next, State};
use crate::service::{ApiError, Call, Context, ResolveQuery};

/// Highest rule priority (§3).
pub const MAX_PRIORITY: u32 = 10_000;
/// Rules per instance by default, the default rule excluded (§3, Standard).
pub const DEFAULT_RULES_PER_INSTANCE: usize = 100;
/// Conditions per rule (§3, Standard).
pub const CONDITIONS_PER_RULE: usize = 10;
/// Wildcard values per rule (§3, Standard).
pub const WILDCARDS_PER_RULE: usize = 10;
/// Actions per rule (§3, Standard).
pub const ACTIONS_PER_RULE: usize = 5;
/// Server groups one `ForwardGroup` action forwards to (§4).
pub const GROUPS_PER_ACTION: usize = 5;
/// Rule IDs one `DeleteRules` call takes (§1).
pub const RULES_PER_DELETE: usize = 100;
/// Rules one `CreateRules` call takes: undocumented (the factsheet is
/// silent), assumed.
pub const RULES_PER_CREATE: usize = 10;
/// Weight of a tuple that names none (ALB-m `ServerGroupTuples.Weight`:
/// default 100).
const DEFAULT_TUPLE_WEIGHT: u32 = 100;

/// One condition: its type and the values any of which may match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `HostConfig.Values`.
    Host(Vec<String>),
    /// `PathConfig.Values`.
    Path(Vec<String>),
}

/// What a rule is: the settings an update changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RuleBody {
    name: String,
    priority: u32,
    conditions: Vec<Condition>,
    /// `(server group, weight)` of the one `ForwardGroup` action.
    groups: Vec<(String, u32)>,
}

#[derive(Debug, Clone)]
enum RuleWork {
    Create,
    Update(Box<RuleBody>),
    Delete,
}

type RulePending = super::Underway<RuleWork>;

/// One forwarding rule of a listener.
#[derive(Debug, Clone)]
pub(super) struct Rule {
    id: String,
    pub(super) listener: String,
    pub(super) lb: String,
    body: RuleBody,
    seq: u64,
    pending: Option<RulePending>,
}

impl Rule {
    fn status(&self) -> &'static str {
        match self.pending.as_ref().map(|p| &p.work) {
            None => "Available",
            Some(RuleWork::Create) => "Provisioning",
            Some(_) => "Configuring",
        }
    }

    /// Whether the rule uses server group `id`, now or after its update.
    pub(super) fn uses_group(&self, id: &str) -> bool {
        self.body.groups.iter().any(|(g, _)| g == id)
            || matches!(&self.pending, Some(RulePending { work: RuleWork::Update(b), .. }) if b.groups.iter().any(|(g, _)| g == id))
    }

    /// Whether the rule takes part in matching: its create finished.
    fn active(&self) -> bool {
        !matches!(self.pending.as_ref().map(|p| &p.work), Some(RuleWork::Create))
    }

    fn answer(&self) -> Value {
        let conditions: Vec<Value> = self
            .body
            .conditions
            .iter()
            .map(|c| match c {
                Condition::Host(v) => json!({ "Type": "Host", "HostConfig": { "Values": v } }),
                Condition::Path(v) => json!({ "Type": "Path", "PathConfig": { "Values": v } }),
            })
            .collect();
        let tuples: Vec<Value> = self
            .body
            .groups
            .iter()
            .map(|(g, w)| json!({ "ServerGroupId": g, "Weight": w }))
            .collect();
        json!({
            "RuleId": self.id,
            "RuleName": self.body.name,
            "ListenerId": self.listener,
            "LoadBalancerId": self.lb,
            "Priority": self.body.priority,
            "RuleStatus": self.status(),
            "Direction": "Request",
            "RuleConditions": conditions,
            "RuleActions": [{
                "Type": "ForwardGroup",
                "Order": 1,
                "ForwardGroupConfig": { "ServerGroupTuples": tuples },
            }],
        })
    }
}

// ---------------------------------------------------------------------------
// Matching (pure)
// ---------------------------------------------------------------------------

/// Whether `text` matches `pattern`, where `*` stands for any run of
/// characters (also none) and `?` for exactly one. ALB's Host and Path
/// values use these two wildcards (§2, TF-alb-rule `host_config`,
/// `path_config`).
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut i, mut j) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while j < t.len() {
        if i < p.len() && (p[i] == '?' || p[i] == t[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|c| *c == '*')
}

impl Condition {
    /// Whether a request with `host` and `path` meets this condition: any
    /// value may match. Host ignores case (DNS names do; D-alb-match);
    /// Path does not (§2: "case-sensitive").
    pub fn holds(&self, host: &str, path: &str) -> bool {
        match self {
            Condition::Host(values) => {
                let host = host.to_ascii_lowercase();
                values.iter().any(|v| wildcard_match(&v.to_ascii_lowercase(), &host))
            }
            Condition::Path(values) => values.iter().any(|v| wildcard_match(v, path)),
        }
    }
}

/// The rule a request goes to, ALB's way: `rules` as `(priority,
/// conditions)` are tried in priority order, smaller first (§2: "strict
/// `Priority` order ... no automatic specificity sorting"); the first
/// whose conditions all hold wins. `None` means the listener's
/// `DefaultActions` (§2, `alibaba.md` §4). Answers the index in `rules`.
pub fn matching_rule(rules: &[(u32, &[Condition])], host: &str, path: &str) -> Option<usize> {
    let mut order: Vec<usize> = (0..rules.len()).collect();
    order.sort_by_key(|i| rules[*i].0);
    order
        .into_iter()
        .find(|i| rules[*i].1.iter().all(|c| c.holds(host, path)))
}

// ---------------------------------------------------------------------------
// Certificates by SNI (pure)
// ---------------------------------------------------------------------------

/// The names an emulated certificate covers. The emulator keeps no
/// certificate store (ALB takes certificate IDs from Certificate Management
/// Service), so a certificate ID states its names itself, by a convention
/// of this emulator: what follows the first `@`, names separated by `,`
/// (`cert-api@api.example.com`, `cert-wild@*.example.com,example.com`).
/// An ID without `@` (`cert-web`, `123157-cn-hangzhou`) covers no name: it
/// is served only as the listener's default certificate.
pub fn certificate_names(id: &str) -> Vec<String> {
    id.split_once('@')
        .map(|(_, names)| {
            names
                .split(',')
                .map(|n| n.trim().to_ascii_lowercase())
                .filter(|n| !n.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// How specifically certificate name `name` covers `sni`: `None` when it
/// does not; an exact name ranks above every wildcard, a longer wildcard
/// suffix above a shorter one. A wildcard `*.example.com` is taken to span
/// one label or several, as Host conditions' `*` does here (ALB documents
/// neither; `docs/routing.md` lists both as to verify).
fn name_rank(name: &str, sni: &str) -> Option<(u8, usize)> {
    if name == sni {
        return Some((1, name.len()));
    }
    let suffix = name.strip_prefix('*')?;
    (suffix.starts_with('.') && sni.len() > suffix.len() && sni.ends_with(suffix)).then_some((0, suffix.len()))
}

/// The server certificate ALB presents for `sni` (D-alb-sni: it matches the
/// TLS server name against the names of the listener's certificates, and
/// the default certificate serves when nothing matches). Among the
/// certificates that cover `sni`, the most specific name wins (exact, then
/// the longest wildcard suffix); ties go to the default certificate, then
/// to the earliest associated (ALB is silent about two matching
/// certificates; the `alibaba-alb` adapter refuses to attach such a pair).
/// `attached` is the default certificate first, then the additional ones in
/// association order.
pub fn served_certificate<'a>(attached: &[&'a str], sni: &str) -> Option<&'a str> {
    let sni = sni.to_ascii_lowercase();
    let mut best: Option<((u8, usize), &str)> = None;
    for id in attached {
        let rank = certificate_names(id).iter().filter_map(|n| name_rank(n, &sni)).max();
        if let Some(r) = rank {
            if best.is_none_or(|(b, _)| r > b) {
                best = Some((r, id));
            }
        }
    }
    best.map(|(_, id)| id).or_else(|| attached.first().copied())
}

// ---------------------------------------------------------------------------
// Parameter rules
// ---------------------------------------------------------------------------

/// `RuleName`: 2–128 of letters, digits, `.`, `_`, `-`, starting with a
/// letter (CreateRuleRequest).
fn rule_name_ok(name: &str) -> bool {
    let n = name.chars().count();
    (2..=128).contains(&n)
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// A Host value (§2, TF-alb-rule `host_config`): 3–128 characters of
/// lowercase letters, digits, `-`, `.`, `*`, `?`; at least one dot, none
/// at either end; the last label letters or wildcards only.
pub fn host_value_ok(v: &str) -> bool {
    let n = v.chars().count();
    (3..=128).contains(&n)
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.' | '*' | '?'))
        && v.contains('.')
        && !v.starts_with('.')
        && !v.ends_with('.')
        && v.rsplit('.')
            .next()
            .is_some_and(|last| last.chars().all(|c| c.is_ascii_lowercase() || matches!(c, '*' | '?')))
}

/// A Path value (§2, TF-alb-rule `path_config`): 1–128 characters,
/// starting `/`, none of `" % # ; ! ( ) [ ] ^ ,` and no whitespace.
pub fn path_value_ok(v: &str) -> bool {
    let n = v.chars().count();
    (1..=128).contains(&n)
        && v.starts_with('/')
        && !v
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "\"%#;!()[]^,".contains(c))
}

fn values(c: &Value, config: &str) -> Result<Vec<String>, ApiError> {
    let items = c.get(config).map(|x| list(x, "Values")).transpose()?.unwrap_or(&[]);
    let out: Vec<String> = items.iter().filter_map(Value::as_str).map(str::to_string).collect();
    if out.is_empty() {
        return Err(ApiError::missing_parameter(&format!(
            "RuleConditions.N.{config}.Values.1"
        )));
    }
    Ok(out)
}

/// `RuleConditions.N` of one rule (`r`).
fn conditions_of(r: &Value) -> Result<Vec<Condition>, ApiError> {
    let mut out = Vec::new();
    for c in list(r, "RuleConditions")? {
        let kind = required(c, "Type").map_err(|_| ApiError::missing_parameter("RuleConditions.N.Type"))?;
        let cond = match kind {
            "Host" => {
                let v = values(c, "HostConfig")?;
                if let Some(bad) = v.iter().find(|h| !host_value_ok(h)) {
                    return Err(invalid(format!(
                        "RuleConditions.N.HostConfig.Values `{bad}` must be 3 to 128 lowercase letters, digits, -, ., * and ?, with a dot, no dot at either end, and a last label of letters."
                    )));
                }
                Condition::Host(v)
            }
            "Path" => {
                let v = values(c, "PathConfig")?;
                if let Some(bad) = v.iter().find(|p| !path_value_ok(p)) {
                    return Err(invalid(format!(
                        "RuleConditions.N.PathConfig.Values `{bad}` must be 1 to 128 characters starting with /, without spaces or any of \" % # ; ! ( ) [ ] ^ ,."
                    )));
                }
                Condition::Path(v)
            }
            other => {
                return Err(invalid(format!(
                    "RuleConditions.N.Type `{other}` is not supported by the emulator (Host and Path are)."
                )))
            }
        };
        out.push(cond);
    }
    if out.len() > CONDITIONS_PER_RULE {
        return Err(ApiError::new(
            "ResourceQuotaExceeded.RuleConditionsNum",
            format!(
                "The quota of RuleConditionsNum is exceeded, usage {}/{CONDITIONS_PER_RULE}.",
                out.len()
            ),
        ));
    }
    let wildcards = out
        .iter()
        .flat_map(|c| match c {
            Condition::Host(v) | Condition::Path(v) => v.iter(),
        })
        .filter(|v| v.contains(['*', '?']))
        .count();
    if wildcards > WILDCARDS_PER_RULE {
        return Err(ApiError::new(
            "ResourceQuotaExceeded.RuleWildcardsNum",
            format!("The quota of RuleWildcardsNum is exceeded, usage {wildcards}/{WILDCARDS_PER_RULE}."),
        ));
    }
    Ok(out)
}

/// `RuleActions.N` of one rule: exactly one `ForwardGroup` to 1–5 groups.
fn groups_of(r: &Value) -> Result<Vec<(String, u32)>, ApiError> {
    let actions = list(r, "RuleActions")?;
    if actions.is_empty() {
        return Err(ApiError::missing_parameter("RuleActions.1.Type"));
    }
    if actions.len() > ACTIONS_PER_RULE {
        return Err(ApiError::new(
            "ResourceQuotaExceeded.RuleActionsNum",
            format!(
                "The quota of RuleActionsNum is exceeded, usage {}/{ACTIONS_PER_RULE}.",
                actions.len()
            ),
        ));
    }
    let mut groups = None;
    for a in actions {
        let kind = required(a, "Type").map_err(|_| ApiError::missing_parameter("RuleActions.N.Type"))?;
        if kind != "ForwardGroup" {
            return Err(invalid(format!(
                "RuleActions.N.Type `{kind}` is not supported by the emulator (ForwardGroup is)."
            )));
        }
        if groups.is_some() {
            return Err(invalid("A rule takes one ForwardGroup action."));
        }
        let tuples = a
            .get("ForwardGroupConfig")
            .map(|f| list(f, "ServerGroupTuples"))
            .transpose()?
            .unwrap_or(&[]);
        if tuples.is_empty() {
            return Err(ApiError::missing_parameter(
                "RuleActions.N.ForwardGroupConfig.ServerGroupTuples.1.ServerGroupId",
            ));
        }
        if tuples.len() > GROUPS_PER_ACTION {
            return Err(invalid(format!(
                "A ForwardGroup action forwards to at most {GROUPS_PER_ACTION} server groups, not {}.",
                tuples.len()
            )));
        }
        let mut out: Vec<(String, u32)> = Vec::new();
        for t in tuples {
            let id = required(t, "ServerGroupId").map_err(|_| {
                ApiError::missing_parameter("RuleActions.N.ForwardGroupConfig.ServerGroupTuples.N.ServerGroupId")
            })?;
            let weight = match integer(t, "Weight")? {
                Some(w) if w <= 100 => w,
                Some(w) => {
                    return Err(invalid(format!(
                        "ServerGroupTuples.N.Weight must be 0 to 100, not {w}."
                    )))
                }
                None => DEFAULT_TUPLE_WEIGHT,
            };
            if out.iter().any(|(g, _)| g == id) {
                return Err(ApiError::new(
                    "DuplicatedParam.ServerGroupId",
                    format!("The server group {id} is given twice in one action."),
                ));
            }
            out.push((id.to_string(), weight));
        }
        groups = Some(out);
    }
    groups.ok_or_else(|| ApiError::missing_parameter("RuleActions.1.Type"))
}

fn priority_of(r: &Value) -> Result<Option<u32>, ApiError> {
    match integer(r, "Priority")? {
        Some(n) if (1..=MAX_PRIORITY).contains(&n) => Ok(Some(n)),
        Some(n) => Err(invalid(format!("Priority must be 1 to {MAX_PRIORITY}, not {n}."))),
        None => Ok(None),
    }
}

fn name_of(r: &Value) -> Result<Option<String>, ApiError> {
    match text(r, "RuleName") {
        None => Ok(None),
        Some(n) if rule_name_ok(n) => Ok(Some(n.to_string())),
        Some(_) => Err(invalid(
            "RuleName must be 2 to 128 letters, digits, periods, underscores or hyphens, starting with a letter.",
        )),
    }
}

/// A whole rule of `CreateRule` or `CreateRules.Rules.N`.
fn body_of(r: &Value) -> Result<RuleBody, ApiError> {
    let name = name_of(r)?.ok_or_else(|| ApiError::missing_parameter("RuleName"))?;
    let priority = priority_of(r)?.ok_or_else(|| ApiError::missing_parameter("Priority"))?;
    let conditions = conditions_of(r)?;
    if conditions.is_empty() {
        return Err(ApiError::missing_parameter("RuleConditions.1.Type"));
    }
    let groups = groups_of(r)?;
    Ok(RuleBody {
        name,
        priority,
        conditions,
        groups,
    })
}

fn busy_rule(id: &str, status: &str) -> ApiError {
    ApiError::new(
        "IncorrectStatus.Rule",
        format!("The status of Rule [{id}] is incorrect: {status}."),
    )
}

fn strings(p: &Value, key: &str) -> Result<Vec<String>, ApiError> {
    Ok(list(p, key)?
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect())
}

impl State {
    /// Finish rule work whose time has come.
    pub(super) fn settle_rules(&mut self, now: Instant) {
        super::settle_due(
            &mut self.rules,
            now,
            |r| &mut r.pending,
            |r, work, fail| match (work, fail) {
                (RuleWork::Create, fail) => fail,
                (RuleWork::Delete, fail) => !fail,
                (RuleWork::Update(b), false) => {
                    r.body = *b;
                    false
                }
                (RuleWork::Update(_), true) => false,
            },
        );
        // A deleted listener takes its rules with it.
        let listeners = &self.listeners;
        self.rules.retain(|_, r| listeners.contains_key(&r.listener));
    }

    /// Whether a rule of instance `lb` has unfinished work.
    pub(super) fn rules_busy(&self, lb: &str) -> bool {
        self.rules.values().any(|r| r.lb == lb && r.pending.is_some())
    }

    fn rule(&self, id: &str) -> Result<&Rule, ApiError> {
        self.rules.get(id).ok_or_else(|| not_found("Rule", id))
    }

    /// A listener rules may be written to: it exists, is settled, and its
    /// instance has nothing else in progress.
    fn rule_listener(&self, id: &str) -> Result<(String, u32), ApiError> {
        let l = self.listener(id)?;
        if l.pending.is_some() {
            return Err(ApiError::new(
                "IncorrectStatus.Listener",
                format!("The status of Listener [{id}] is incorrect: {}.", l.status()),
            ));
        }
        if self.instance_busy(&l.lb, None) {
            return Err(State::busy_instance(&l.lb));
        }
        Ok((l.lb.clone(), l.port))
    }

    /// A write to rule `id`: it and its listener are settled, the instance
    /// idle.
    fn writable_rule(&self, id: &str) -> Result<&Rule, ApiError> {
        let r = self.rule(id)?;
        if r.pending.is_some() {
            return Err(busy_rule(id, r.status()));
        }
        self.rule_listener(&r.listener)?;
        Ok(r)
    }

    /// Whether every server group is usable.
    fn check_rule_groups(&self, lb: &str, groups: &[(String, u32)]) -> Result<(), ApiError> {
        let ids: Vec<String> = groups.iter().map(|(g, _)| g.clone()).collect();
        self.check_server_groups(lb, &ids)
    }

    /// Priorities of the listener's rules, except `except`.
    fn priorities(&self, listener: &str, except: Option<&str>) -> BTreeSet<u32> {
        self.rules
            .values()
            .filter(|r| r.listener == listener && Some(r.id.as_str()) != except)
            .flat_map(|r| {
                let next = match &r.pending {
                    Some(RulePending {
                        work: RuleWork::Update(b),
                        ..
                    }) => Some(b.priority),
                    _ => None,
                };
                std::iter::once(r.body.priority).chain(next)
            })
            .collect()
    }

    fn priority_taken(priority: u32, listener: &str) -> ApiError {
        ApiError::new(
            "Conflict.Priority",
            format!("The priority {priority} is already used by another rule of listener {listener}."),
        )
    }

    fn new_rule_id(&mut self) -> String {
        loop {
            let id = self.new_id("rule-");
            if !self.rules.contains_key(&id) {
                return id;
            }
        }
    }

    /// `CreateRule` (`batch` false: the rule's fields at the top level) or
    /// `CreateRules` (`Rules.N`): one job for all.
    pub(super) fn create_rules(
        &mut self,
        ctx: &mut dyn Context,
        call: &Call,
        batch: bool,
        quota: usize,
    ) -> Result<Value, ApiError> {
        let p = &call.params;
        let listener = required(p, "ListenerId")?.to_string();
        let bodies: Vec<RuleBody> = if batch {
            let items = list(p, "Rules")?;
            if items.is_empty() {
                return Err(ApiError::missing_parameter("Rules.1.Priority"));
            }
            if items.len() > RULES_PER_CREATE {
                return Err(invalid(format!(
                    "CreateRules takes at most {RULES_PER_CREATE} rules, not {}.",
                    items.len()
                )));
            }
            items.iter().map(body_of).collect::<Result<_, _>>()?
        } else {
            vec![body_of(p)?]
        };
        let mut seen = BTreeSet::new();
        for b in &bodies {
            if !seen.insert(b.priority) {
                return Err(ApiError::new(
                    "DuplicatedParam.Priority",
                    format!("The priority {} is given twice.", b.priority),
                ));
            }
        }
        let (lb, _) = {
            let l = self.listener(&listener)?;
            (l.lb.clone(), l.port)
        };
        for b in &bodies {
            self.check_rule_groups(&lb, &b.groups)?;
        }
        let taken = self.priorities(&listener, None);
        if let Some(b) = bodies.iter().find(|b| taken.contains(&b.priority)) {
            return Err(State::priority_taken(b.priority, &listener));
        }
        let used = self.rules.values().filter(|r| r.lb == lb).count();
        if used + bodies.len() > quota {
            return Err(ApiError::new(
                "ResourceQuotaExceeded.LoadBalancerRulesNum",
                format!(
                    "The quota of LoadBalancerRulesNum is exceeded for resource {lb}, usage {}/{quota}.",
                    used + bodies.len()
                ),
            ));
        }
        self.rule_listener(&listener)?;
        if is_dry_run(call)? {
            return Err(super::dry_run_passed());
        }
        let fail = ctx.fail_task();
        let until = later(call.now, ctx.timing().create);
        let mut made = Vec::new();
        for body in bodies {
            let id = self.new_rule_id();
            let seq = self.next_seq();
            made.push(json!({ "RuleId": id, "Priority": body.priority }));
            self.rules.insert(
                id.clone(),
                Rule {
                    id,
                    listener: listener.clone(),
                    lb: lb.clone(),
                    body,
                    seq,
                    pending: Some(RulePending {
                        work: RuleWork::Create,
                        until,
                        fail,
                    }),
                },
            );
        }
        let first = made[0]["RuleId"].as_str().unwrap_or_default().to_string();
        let api = if batch { "CreateRules" } else { "CreateRule" };
        let job = self.start_job(&first, api, "Create", until, fail);
        if batch {
            Ok(json!({ "RuleIds": made, "JobId": job }))
        } else {
            Ok(json!({ "RuleId": first, "JobId": job }))
        }
    }

    /// One rule's update (`RuleId` and the fields given, which replace
    /// the rule's): its listener and the body after the update. The
    /// priority is checked by the caller, against the whole batch.
    fn updated_body(&self, item: &Value) -> Result<(String, String, RuleBody), ApiError> {
        let id = required(item, "RuleId")?.to_string();
        let name = name_of(item)?;
        let priority = priority_of(item)?;
        let conditions = if item.get("RuleConditions").is_some() {
            let c = conditions_of(item)?;
            if c.is_empty() {
                return Err(ApiError::missing_parameter("RuleConditions.1.Type"));
            }
            Some(c)
        } else {
            None
        };
        let groups = if item.get("RuleActions").is_some() {
            Some(groups_of(item)?)
        } else {
            None
        };
        let r = self.writable_rule(&id)?;
        let (listener, lb) = (r.listener.clone(), r.lb.clone());
        let mut body = r.body.clone();
        if let Some(n) = name {
            body.name = n;
        }
        if let Some(n) = priority {
            body.priority = n;
        }
        if let Some(c) = conditions {
            body.conditions = c;
        }
        if let Some(g) = groups {
            self.check_rule_groups(&lb, &g)?;
            body.groups = g;
        }
        Ok((id, listener, body))
    }

    /// `UpdateRuleAttribute` (`batch` false: one rule's fields at the top
    /// level) or `UpdateRulesAttribute` (`Rules.N`, one job for all).
    /// Priorities are checked against the listener as it will be after the
    /// whole call, so a batch may swap two rules' priorities (how a client
    /// renumbers).
    pub(super) fn update_rules(&mut self, ctx: &mut dyn Context, call: &Call, batch: bool) -> Result<Value, ApiError> {
        let p = &call.params;
        let items: Vec<&Value> = if batch {
            let items = list(p, "Rules")?;
            if items.is_empty() {
                return Err(ApiError::missing_parameter("Rules.1.RuleId"));
            }
            if items.len() > RULES_PER_CREATE {
                return Err(invalid(format!(
                    "UpdateRulesAttribute takes at most {RULES_PER_CREATE} rules, not {}.",
                    items.len()
                )));
            }
            items.iter().collect()
        } else {
            vec![p]
        };
        let mut updates: Vec<(String, String, RuleBody)> = Vec::new();
        for item in items {
            let u = self.updated_body(item)?;
            if updates.iter().any(|(id, _, _)| *id == u.0) {
                return Err(ApiError::new(
                    "DuplicatedParam.RuleId",
                    format!("The rule {} is given twice.", u.0),
                ));
            }
            updates.push(u);
        }
        for (id, listener, body) in &updates {
            let clash_in_batch = updates
                .iter()
                .any(|(other, l, b)| other != id && l == listener && b.priority == body.priority);
            let clash_outside = self
                .rules
                .values()
                .filter(|r| r.listener == *listener && !updates.iter().any(|(u, _, _)| *u == r.id))
                .any(|r| r.body.priority == body.priority);
            if clash_in_batch || clash_outside {
                return Err(State::priority_taken(body.priority, listener));
            }
        }
        if is_dry_run(call)? {
            return Err(super::dry_run_passed());
        }
        let fail = ctx.fail_task();
        let until = later(call.now, ctx.timing().update);
        let api = if batch {
            "UpdateRulesAttribute"
        } else {
            "UpdateRuleAttribute"
        };
        let job = self.start_job(&updates[0].0, api, "Update", until, fail);
        for (id, _, body) in updates {
            if let Some(r) = self.rules.get_mut(&id) {
                r.pending = Some(RulePending {
                    work: RuleWork::Update(Box::new(body)),
                    until,
                    fail,
                });
            }
        }
        Ok(json!({ "JobId": job }))
    }

    /// `DeleteRule` (`RuleId`) or `DeleteRules` (`RuleIds.N`, ≤ 100).
    pub(super) fn delete_rules(&mut self, ctx: &mut dyn Context, call: &Call, batch: bool) -> Result<Value, ApiError> {
        let p = &call.params;
        let ids = if batch {
            let ids = strings(p, "RuleIds")?;
            if ids.is_empty() {
                return Err(ApiError::missing_parameter("RuleIds.1"));
            }
            if ids.len() > RULES_PER_DELETE {
                return Err(invalid(format!(
                    "DeleteRules takes at most {RULES_PER_DELETE} rule IDs, not {}.",
                    ids.len()
                )));
            }
            ids
        } else {
            vec![required(p, "RuleId")?.to_string()]
        };
        for id in &ids {
            self.writable_rule(id)?;
        }
        if is_dry_run(call)? {
            return Err(super::dry_run_passed());
        }
        let fail = ctx.fail_task();
        let until = later(call.now, ctx.timing().delete);
        let api = if batch { "DeleteRules" } else { "DeleteRule" };
        let job = self.start_job(&ids[0], api, "Delete", until, fail);
        for id in &ids {
            if let Some(r) = self.rules.get_mut(id) {
                r.pending = Some(RulePending {
                    work: RuleWork::Delete,
                    until,
                    fail,
                });
            }
        }
        Ok(json!({ "JobId": job }))
    }

    /// `ListRules`, filtered by `ListenerIds.N`, `LoadBalancerIds.N` and
    /// `RuleIds.N` (≤ 20 each), in priority order within a listener.
    pub(super) fn list_rules(&self, call: &Call) -> Result<Value, ApiError> {
        let p = &call.params;
        let filter = |key: &str| -> Result<Vec<String>, ApiError> {
            let v = strings(p, key)?;
            if v.len() > 20 {
                return Err(invalid(format!("{key} takes at most 20 values.")));
            }
            Ok(v)
        };
        let listeners = filter("ListenerIds")?;
        let lbs = filter("LoadBalancerIds")?;
        let ids = filter("RuleIds")?;
        let mut rules: Vec<&Rule> = self
            .rules
            .values()
            .filter(|r| listeners.is_empty() || listeners.contains(&r.listener))
            .filter(|r| lbs.is_empty() || lbs.contains(&r.lb))
            .filter(|r| ids.is_empty() || ids.contains(&r.id))
            .collect();
        rules.sort_by_key(|r| (r.listener.clone(), r.body.priority, r.seq));
        let (start, size) = page(p, rules.len())?;
        let items: Vec<Value> = rules.iter().skip(start).take(size).map(|r| r.answer()).collect();
        Ok(with_next(json!({ "Rules": items }), start, size, rules.len()))
    }

    /// The admin resolve call: which listener of `q.instance` serves
    /// `q.port`, which of its rules takes `q.host` and `q.path` by
    /// [`matching_rule`], and the server groups and endpoints behind it.
    pub(super) fn resolve(&self, q: &ResolveQuery) -> Result<Value, ApiError> {
        let host = strip_port(&q.host);
        // HTTP and HTTPS listen on TCP; a QUIC listener on the same port
        // (UDP) is a different socket, so TCP is preferred.
        let listener = self
            .listeners
            .values()
            .filter(|l| l.lb == q.instance && l.port == q.port)
            .filter(|l| !matches!(l.pending.as_ref().map(|p| &p.work), Some(super::Work::Create)))
            .min_by_key(|l| (l.proto.udp(), l.seq))
            .ok_or_else(|| {
                ApiError::new(
                    "ResourceNotFound.Listener",
                    format!("Instance {} has no listener on port {}.", q.instance, q.port),
                )
                .status(404)
            })?;
        let mut rules: Vec<&Rule> = self
            .rules
            .values()
            .filter(|r| r.listener == listener.id && r.active())
            .collect();
        rules.sort_by_key(|r| r.seq);
        let table: Vec<(u32, &[Condition])> = rules
            .iter()
            .map(|r| (r.body.priority, r.body.conditions.as_slice()))
            .collect();
        let hit = matching_rule(&table, host, &q.path).map(|i| rules[i]);
        let groups: Vec<(String, u32)> = match hit {
            Some(r) => r.body.groups.clone(),
            None => listener
                .config
                .server_groups
                .iter()
                .map(|g| (g.clone(), DEFAULT_TUPLE_WEIGHT))
                .collect(),
        };
        let mut endpoints = Vec::new();
        for (g, _) in &groups {
            if let Some(pool) = self.pools.get(g) {
                for s in pool.servers.iter().filter(|s| s.serving()) {
                    endpoints.push(json!({ "address": s.address(), "port": s.port(), "weight": s.weight() }));
                }
            }
        }
        let server_groups: Vec<Value> = groups.iter().map(|(g, w)| json!({ "id": g, "weight": w })).collect();
        // The TLS handshake (HTTPS listeners): the certificate for the
        // request's host as server name, among those attached now.
        let certificate = (listener.proto == super::Proto::Https).then(|| {
            let attached: Vec<&str> = listener
                .config
                .default_certificate
                .iter()
                .chain(listener.config.additional.iter())
                .map(String::as_str)
                .collect();
            served_certificate(&attached, host).map(str::to_string)
        });
        Ok(json!({
            "listener": listener.id,
            "rule": hit.map(|r| r.id.clone()),
            "server_groups": server_groups,
            "endpoints": endpoints,
            "certificate": certificate.flatten(),
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
mod tests {
    use super::*;

    fn host(v: &[&str]) -> Condition {
        Condition::Host(v.iter().map(|s| s.to_string()).collect())
    }

    fn path(v: &[&str]) -> Condition {
        Condition::Path(v.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn wildcards_star_any_run_question_one_character() {
        assert!(wildcard_match("/api*", "/api"));
        assert!(wildcard_match("/api*", "/api/v1/users"));
        assert!(!wildcard_match("/api/*", "/api"));
        assert!(wildcard_match("/a?c", "/abc"));
        assert!(!wildcard_match("/a?c", "/ac"));
        assert!(wildcard_match("*.example.com", "a.b.example.com"));
        assert!(!wildcard_match("*.example.com", "example.com"));
        assert!(wildcard_match("www.example.*", "www.example.org"));
        assert!(wildcard_match("*", ""));
        assert!(!wildcard_match("", "x"));
        assert!(wildcard_match("a*b*c", "axxbyyc"));
        assert!(!wildcard_match("a*b*c", "axxbyy"));
    }

    /// §2 ALB: "`/api` is exact; a prefix needs `/api*`".
    #[test]
    fn path_without_star_is_exact() {
        let c = path(&["/api"]);
        assert!(c.holds("h.example.com", "/api"));
        assert!(!c.holds("h.example.com", "/api/v1"));
    }

    /// §2 ALB: Path values are case-sensitive; Host matching ignores case.
    #[test]
    fn host_ignores_case_path_does_not() {
        assert!(host(&["app.example.com"]).holds("APP.Example.COM", "/"));
        assert!(host(&["*.example.com"]).holds("Web.EXAMPLE.com", "/"));
        assert!(path(&["/Api*"]).holds("x.example.com", "/Api/v1"));
        assert!(!path(&["/Api*"]).holds("x.example.com", "/api/v1"));
    }

    /// §2 ALB: values within a condition are OR'd, conditions AND'd (the
    /// factsheet's assumption, as GA documents).
    #[test]
    fn values_or_conditions_and() {
        let conds = [host(&["a.example.com", "b.example.com"]), path(&["/x*", "/y*"])];
        let rules = [(10, &conds[..])];
        assert_eq!(matching_rule(&rules, "b.example.com", "/y/1"), Some(0));
        assert_eq!(matching_rule(&rules, "a.example.com", "/x"), Some(0));
        assert_eq!(matching_rule(&rules, "c.example.com", "/x"), None);
        assert_eq!(matching_rule(&rules, "a.example.com", "/z"), None);
    }

    /// §2 ALB: strict priority order, smaller first, no specificity
    /// sorting: a wildcard host with the smaller number wins over an exact
    /// host, and `/api/*` shadows `/api/v2/*` when it comes first.
    #[test]
    fn strict_priority_smaller_first_without_specificity() {
        let wild = [host(&["*.example.com"])];
        let exact = [host(&["app.example.com"])];
        let rules = [(20, &exact[..]), (10, &wild[..])];
        assert_eq!(matching_rule(&rules, "app.example.com", "/"), Some(1));
        let rules = [(5, &exact[..]), (10, &wild[..])];
        assert_eq!(matching_rule(&rules, "app.example.com", "/"), Some(0));
        let broad = [path(&["/api/*"])];
        let narrow = [path(&["/api/v2/*"])];
        let rules = [(2, &narrow[..]), (1, &broad[..])];
        assert_eq!(matching_rule(&rules, "x.example.com", "/api/v2/a"), Some(1));
    }

    /// §2 ALB / `alibaba.md` §4: no rule matches → the default actions.
    #[test]
    fn no_match_is_the_default_action() {
        let conds = [host(&["a.example.com"])];
        assert_eq!(matching_rule(&[(1, &conds[..])], "z.example.com", "/"), None);
        assert_eq!(matching_rule(&[], "z.example.com", "/"), None);
    }

    /// §2 ALB Host values: 3–128, lowercase, digits, `-`, `.`, wildcards,
    /// a dot, no dot at either end, a last label of letters/wildcards.
    #[test]
    fn host_values_follow_the_factsheet() {
        for ok in [
            "a.example.com",
            "*.example.com",
            "www.example.*",
            "a?c.example.com",
            "x-1.b.io",
        ] {
            assert!(host_value_ok(ok), "{ok}");
        }
        for bad in [
            "ab",
            "Example.com",
            "localhost",
            ".a.com",
            "a.com.",
            "a.example.c0m",
            "a_b.com",
            "",
        ] {
            assert!(!host_value_ok(bad), "{bad}");
        }
        assert!(!host_value_ok(&format!("{}.com", "a".repeat(125))));
        assert!(host_value_ok(&format!("{}.com", "a".repeat(124))));
    }

    /// §2 ALB Path values: 1–128, start `/`, none of `" % # ; ! ( ) [ ] ^ ,`.
    #[test]
    fn path_values_follow_the_factsheet() {
        for ok in ["/", "/api*", "/a?c", "/a-b_c.d/~e"] {
            assert!(path_value_ok(ok), "{ok}");
        }
        for bad in [
            "", "api", "/a b", "/a%20", "/a#b", "/a;b", "/a!", "/(a)", "/[a]", "/a^", "/a,b", "/\"a",
        ] {
            assert!(!path_value_ok(bad), "{bad}");
        }
        assert!(path_value_ok(&format!("/{}", "a".repeat(127))));
        assert!(!path_value_ok(&format!("/{}", "a".repeat(128))));
    }

    /// D-alb-sni: the certificate whose names cover the server name, the
    /// most specific first; the default one when none does.
    #[test]
    fn certificates_are_chosen_by_server_name() {
        assert_eq!(
            certificate_names("cert-a@A.example.com, *.b.com"),
            ["a.example.com", "*.b.com"]
        );
        assert!(certificate_names("cert-web").is_empty());
        let attached = [
            "cert-default",
            "cert-wild@*.example.com",
            "cert-api@api.example.com",
            "cert-deep@*.a.example.com",
        ];
        assert_eq!(
            served_certificate(&attached, "api.example.com"),
            Some("cert-api@api.example.com")
        );
        assert_eq!(
            served_certificate(&attached, "API.example.com"),
            Some("cert-api@api.example.com")
        );
        assert_eq!(
            served_certificate(&attached, "www.example.com"),
            Some("cert-wild@*.example.com")
        );
        assert_eq!(
            served_certificate(&attached, "x.a.example.com"),
            Some("cert-deep@*.a.example.com")
        );
        assert_eq!(
            served_certificate(&attached, "x.y.example.com"),
            Some("cert-wild@*.example.com")
        );
        assert_eq!(served_certificate(&attached, "example.com"), Some("cert-default"));
        assert_eq!(served_certificate(&attached, "other.org"), Some("cert-default"));
        assert_eq!(served_certificate(&[], "other.org"), None);
        // Two covering the name alike: the default, then the earlier one.
        let tie = ["cert-d@a.example.com", "cert-x@a.example.com"];
        assert_eq!(served_certificate(&tie, "a.example.com"), Some("cert-d@a.example.com"));
        let tie = ["cert-d", "cert-x@a.example.com", "cert-y@a.example.com"];
        assert_eq!(served_certificate(&tie, "a.example.com"), Some("cert-x@a.example.com"));
    }

    #[test]
    fn host_header_port_is_ignored() {
        assert_eq!(strip_port("a.example.com:8080"), "a.example.com");
        assert_eq!(strip_port("a.example.com"), "a.example.com");
        assert_eq!(strip_port("[::1]:80"), "[::1]");
    }
}
