//! CLB forwarding rules and their targets: `CreateRule`, `ModifyRule`,
//! `ModifyDomainAttributes`, `DeleteRule`, `RegisterTargets`,
//! `DeregisterTargets`, `DescribeTargets`, and CLB's own matcher behind the
//! admin resolve call.
//!
//! The model (facts from `shared/vendors/routing.md`, CLB column):
//!
//! - A rule (`LocationId`, `loc-…`) lives under an HTTP/HTTPS listener and
//!   holds one `Domain` (or a `Domains` list) and one `Url`. Rules come back
//!   inside `DescribeListeners` (`Rules`, the vendor's `RuleOutput`).
//! - Every write is a task, like the listener actions: the answer carries
//!   the `RequestId`, `DescribeTaskStatus` answers 2 then 0 (or 1 when the
//!   fault injection fails it), and the load balancer is busy
//!   (`FailedOperation.ResourceInOperating`) while it runs. **A rule write
//!   takes effect when its task succeeds**; a failed task leaves the rules
//!   and targets as they were. `CreateRule` returns its `LocationIds` at
//!   once.
//! - The default domain: exactly one per listener while it has rules. The
//!   first domain created becomes the default (the vendor's behaviour since
//!   2020-05), a rule or `ModifyDomainAttributes` with `DefaultServer` true
//!   moves it, and when the default domain loses its last rule the
//!   successor is `NewDefaultServerDomain` or else the oldest remaining
//!   rule's first domain.
//! - Targets are bound straight to a rule (`TargetType` NODE only; target
//!   groups are not emulated) or, on layer-4 listeners (TCP, UDP, TCP_SSL,
//!   QUIC), to the listener.
//!   At most 20 per call, 100 per rule (older quota page), weights 0–100,
//!   default 10.
//! - Quota: 50 rules per listener (older quota page), `LimitExceeded`.
//!
//! Error codes: `InvalidParameterValue` for refused values (domain and URL
//! syntax, duplicate domain+URL, unknown domain), `InvalidParameterValue.Length`
//! for lengths, `InvalidParameterValue.Duplicate` for a target given twice
//! or already bound, `InvalidParameter` for a `LocationId` that does not
//! exist, `LimitExceeded` for quotas, `MissingParameter`, `UnknownParameter`.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use super::{
    certificate, e, is_http, new_id, now_text, region, Clb, Listener, TaskKind, BUSY, FORMAT, LENGTH, P, R, VALUE,
};
use crate::service::{ApiError, Call, Context};

/// Rules per listener (older CLB quota page; `TOTAL_LISTENER_RULE_QUOTA`).
pub(super) const MAX_RULES: usize = 50;
/// Targets bound per rule (older quota page; `TOTAL_TARGET_BIND_QUOTA`).
pub(super) const MAX_TARGETS: usize = 100;
/// Targets per `RegisterTargets`/`DeregisterTargets` call.
pub(super) const MAX_TARGETS_PER_CALL: usize = 20;
/// Weight when a target gives none (CLB `Target.Weight`).
const DEFAULT_WEIGHT: i64 = 10;
const DUPLICATE: &str = "InvalidParameterValue.Duplicate";

/// One bound target.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Target {
    /// `InstanceId` or `EniIp`, as given.
    pub(super) address: String,
    pub(super) by_instance: bool,
    pub(super) port: i64,
    pub(super) weight: i64,
    pub(super) registered: String,
}

impl Target {
    fn key(&self) -> (String, i64) {
        (self.address.clone(), self.port)
    }

    fn describe(&self) -> Value {
        json!({
            "Type": if self.by_instance { "CVM" } else { "ENI" },
            "InstanceId": if self.by_instance { json!(self.address) } else { Value::Null },
            "Port": self.port,
            "Weight": self.weight,
            "PrivateIpAddresses": if self.by_instance { json!([]) } else { json!([self.address]) },
            "RegisteredTime": self.registered,
        })
    }
}

/// One forwarding rule.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Rule {
    pub(super) location_id: String,
    pub(super) domains: Vec<String>,
    pub(super) url: String,
    pub(super) health_check: Map<String, Value>,
    pub(super) scheduler: String,
    pub(super) session_expire: i64,
    pub(super) forward_type: String,
    pub(super) certificate: Option<Value>,
    pub(super) http2: bool,
    pub(super) create_time: String,
    /// Creation order, the emulator's tie-break within a matching tier.
    pub(super) seq: u64,
    pub(super) targets: Vec<Target>,
}

/// Everything a listener holds about routing.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct RuleSet {
    pub(super) rules: Vec<Rule>,
    pub(super) default_domain: Option<String>,
    /// Targets of a TCP/UDP listener (no rules there).
    pub(super) listener_targets: Vec<Target>,
    pub(super) seq: u64,
}

impl RuleSet {
    /// `RuleOutput` entries for `DescribeListeners`.
    pub(super) fn describe(&self, listener: &str) -> Value {
        let out: Vec<Value> = self
            .rules
            .iter()
            .map(|r| {
                json!({
                    "LocationId": r.location_id,
                    "Domain": r.domains[0],
                    "Domains": r.domains,
                    "Url": r.url,
                    "ListenerId": listener,
                    "SessionExpireTime": r.session_expire,
                    "HealthCheck": r.health_check,
                    "Certificate": r.certificate.clone().unwrap_or(Value::Null),
                    "Scheduler": r.scheduler,
                    "ForwardType": r.forward_type,
                    "DefaultServer": self.default_domain.as_ref().is_some_and(|d| r.domains.contains(d)),
                    "Http2": r.http2,
                    "CreateTime": r.create_time,
                    "TargetType": "NODE",
                    "BeAutoCreated": false,
                })
            })
            .collect();
        json!(out)
    }

    fn has_domain(&self, d: &str) -> bool {
        self.rules.iter().any(|r| r.domains.iter().any(|x| x == d))
    }

    /// Keeps the default-domain invariant after a change: the default must
    /// still have a rule, else `successor`, else the oldest rule's domain.
    fn settle_default(&mut self, successor: Option<&str>) -> R<()> {
        if let Some(s) = successor {
            if !self.has_domain(s) {
                return Err(e(
                    VALUE,
                    format!("`NewDefaultServerDomain` = `{s}` is not a domain of this listener"),
                ));
            }
        }
        let keep = self.default_domain.as_deref().is_some_and(|d| self.has_domain(d));
        if !keep {
            self.default_domain = match successor {
                Some(s) => Some(s.to_string()),
                None => self.rules.iter().min_by_key(|r| r.seq).map(|r| r.domains[0].clone()),
            };
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// parameter rules (each cites the factsheet, routing.md §2-§3)
// ---------------------------------------------------------------------------

/// CLB host rule (`RuleInput.Domain`, D-clb-l7): 1–80 characters; a regex
/// starts with `~`; otherwise `a-z 0-9 . - _`, not starting with `_`, with
/// at most one `*`, only as the first or the last character.
pub(super) fn check_domain(d: &str, field: &str) -> R<()> {
    if d.is_empty() || d.chars().count() > 80 {
        return Err(e(LENGTH, format!("`{field}` must be 1 to 80 characters")));
    }
    if let Some(pattern) = d.strip_prefix('~') {
        return regex::Regex::new(pattern.trim_start())
            .map(|_| ())
            .map_err(|_| e(VALUE, format!("`{field}` = `{d}` is not a valid regular expression")));
    }
    let ok_chars = d
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_' | '*'));
    let stars = d.matches('*').count();
    let star_ok = stars == 0 || (stars == 1 && (d.starts_with('*') || d.ends_with('*')) && d.len() > 1);
    if !ok_chars || !star_ok || d.starts_with('_') {
        return Err(e(
            VALUE,
            format!("`{field}` = `{d}`: use a-z 0-9 . - _ with one `*` at the start or end only, or a regex starting with `~`"),
        ));
    }
    Ok(())
}

/// CLB URL rule (`RuleInput.Url`, D-clb-l7): 1–200 characters; `=` exact,
/// `^~` prefix, `~` / `~*` regex, otherwise a path starting `/` in
/// `a-zA-Z0-9 . - _ / = ?`.
pub(super) fn check_url(u: &str, field: &str) -> R<()> {
    if u.is_empty() || u.chars().count() > 200 {
        return Err(e(LENGTH, format!("`{field}` must be 1 to 200 characters")));
    }
    match parse_url(u) {
        UrlRule::Regex { pattern, insensitive } => regex_for(pattern, insensitive)
            .map(|_| ())
            .map_err(|_| e(VALUE, format!("`{field}` = `{u}` is not a valid regular expression"))),
        UrlRule::Exact(p) | UrlRule::Prefix(p) => {
            let ok = p.starts_with('/')
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | '=' | '?'));
            if ok {
                Ok(())
            } else {
                Err(e(
                    VALUE,
                    format!("`{field}` = `{u}`: a path starts with `/` and uses a-z A-Z 0-9 . - _ / = ?"),
                ))
            }
        }
    }
}

/// A URL rule, parsed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum UrlRule<'a> {
    Exact(&'a str),
    Prefix(&'a str),
    Regex { pattern: &'a str, insensitive: bool },
}

pub(crate) fn parse_url(u: &str) -> UrlRule<'_> {
    if let Some(rest) = u.strip_prefix('=') {
        UrlRule::Exact(rest.trim_start())
    } else if let Some(rest) = u.strip_prefix("^~") {
        UrlRule::Prefix(rest.trim_start())
    } else if let Some(rest) = u.strip_prefix("~*") {
        UrlRule::Regex {
            pattern: rest.trim_start(),
            insensitive: true,
        }
    } else if let Some(rest) = u.strip_prefix('~') {
        UrlRule::Regex {
            pattern: rest.trim_start(),
            insensitive: false,
        }
    } else {
        UrlRule::Prefix(u)
    }
}

fn regex_for(pattern: &str, insensitive: bool) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(pattern).case_insensitive(insensitive).build()
}

// ---------------------------------------------------------------------------
// matching: CLB's semantics as a pure function
// ---------------------------------------------------------------------------

/// A rule as the matcher sees it.
#[derive(Debug, Clone)]
pub(crate) struct MatchRule<'a> {
    pub(crate) id: &'a str,
    pub(crate) domains: &'a [String],
    pub(crate) url: &'a str,
    /// Creation order: the tie-break within a tier.
    pub(crate) seq: u64,
}

/// Where CLB sends one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Forwarded by this rule.
    Rule(String),
    /// The host matched a domain, no URL rule matched: 404, no fall-through.
    NotFound,
    /// A rule `P/` exists and the request is `P`: 301 to `P/`.
    Redirect(String),
}

/// Host tier of `pattern` for `host`: 0 exact, 1 leading wildcard, 2
/// trailing wildcard, 3 regex; with a specificity (longer literal part
/// wins) for the tie-break.
fn host_tier(pattern: &str, host: &str) -> Option<(u8, usize)> {
    if let Some(re) = pattern.strip_prefix('~') {
        return regex::Regex::new(re.trim_start())
            .ok()
            .filter(|r| r.is_match(host))
            .map(|_| (3, 0));
    }
    if let Some(suffix) = pattern.strip_prefix('*') {
        return (host.ends_with(suffix) && host.len() > suffix.len()).then_some((1, suffix.len()));
    }
    if let Some(prefix) = pattern.strip_suffix('*') {
        return (host.starts_with(prefix) && host.len() > prefix.len()).then_some((2, prefix.len()));
    }
    (pattern == host).then_some((0, pattern.len()))
}

/// Tier, then longer literal part, then older rule: smaller ranks first.
type HostRank = (u8, std::cmp::Reverse<usize>, u64);

/// The domain a host selects (routing.md §2, D-clb-l7, D-ccb): exact >
/// leading wildcard > trailing wildcard > regex. Within a tier the vendor
/// gives no order; the emulator picks the longest literal part (the most
/// specific wildcard), then the oldest rule (creation order). A host that
/// matches no domain takes `default_domain`.
pub(crate) fn match_domain<'a>(
    rules: &[MatchRule<'a>],
    default_domain: Option<&'a str>,
    host: &str,
) -> Option<&'a str> {
    let host = normalise_host(host);
    let mut best: Option<(HostRank, &'a str)> = None;
    for r in rules {
        for d in r.domains {
            if let Some((tier, len)) = host_tier(d, &host) {
                let key = (tier, std::cmp::Reverse(len), r.seq);
                if best.as_ref().is_none_or(|(k, _)| key < *k) {
                    best = Some((key, d.as_str()));
                }
            }
        }
    }
    best.map(|(_, d)| d).or(default_domain)
}

fn normalise_host(host: &str) -> String {
    let h = host.trim().to_ascii_lowercase();
    match h.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.chars().all(|c| c.is_ascii_digit()) => name.to_string(),
        _ => h,
    }
}

/// Where CLB sends `host` + `path` (routing.md §2): the domain first (see
/// [`match_domain`]); then among that domain's rules, an `=` exact URL
/// first, then the longest `^~`/plain prefix, then regexes in creation
/// order. A rule `P/` answers a request for exactly `P` with a 301 when no
/// exact rule and no prefix rule at least as long as `P` matches it (the
/// emulator's reading of "rule `/abc/` gives 301 for `/abc`"). A host with
/// a domain but no matching URL is a 404; `None` means the listener has no
/// rules at all.
pub(crate) fn resolve_rules(
    rules: &[MatchRule<'_>],
    default_domain: Option<&str>,
    host: &str,
    path: &str,
) -> Option<Outcome> {
    let domain = match_domain(rules, default_domain, host)?;
    let mine: Vec<&MatchRule<'_>> = rules.iter().filter(|r| r.domains.iter().any(|d| d == domain)).collect();
    let path = path.split(['?', '#']).next().unwrap_or(path);
    if let Some(r) = mine
        .iter()
        .filter(|r| matches!(parse_url(r.url), UrlRule::Exact(p) if p == path))
        .min_by_key(|r| r.seq)
    {
        return Some(Outcome::Rule(r.id.to_string()));
    }
    let best_prefix = mine
        .iter()
        .filter_map(|r| match parse_url(r.url) {
            UrlRule::Prefix(p) if path.starts_with(p) => Some((p.len(), std::cmp::Reverse(r.seq), r)),
            _ => None,
        })
        .max_by_key(|(len, seq, _)| (*len, *seq));
    let slashed = format!("{path}/");
    let redirect = mine
        .iter()
        .any(|r| matches!(parse_url(r.url), UrlRule::Prefix(p) if p == slashed));
    if redirect && best_prefix.as_ref().is_none_or(|(len, _, _)| *len < path.len()) {
        return Some(Outcome::Redirect(slashed));
    }
    if let Some((_, _, r)) = best_prefix {
        return Some(Outcome::Rule(r.id.to_string()));
    }
    let mut regexes: Vec<&&MatchRule<'_>> = mine
        .iter()
        .filter(|r| matches!(parse_url(r.url), UrlRule::Regex { .. }))
        .collect();
    regexes.sort_by_key(|r| r.seq);
    for r in regexes {
        if let UrlRule::Regex { pattern, insensitive } = parse_url(r.url) {
            if regex_for(pattern, insensitive).is_ok_and(|re| re.is_match(path)) {
                return Some(Outcome::Rule(r.id.to_string()));
            }
        }
    }
    Some(Outcome::NotFound)
}

// ---------------------------------------------------------------------------
// actions
// ---------------------------------------------------------------------------

const RULE_KEYS: [&str; 12] = [
    "Domain",
    "Domains",
    "Url",
    "SessionExpireTime",
    "HealthCheck",
    "Certificate",
    "Scheduler",
    "ForwardType",
    "DefaultServer",
    "Http2",
    "TargetType",
    "MultiCertInfo",
];

const RULE_HEALTH_KEYS: [&str; 11] = [
    "HealthSwitch",
    "TimeOut",
    "IntervalTime",
    "HealthNum",
    "UnHealthNum",
    "HttpCode",
    "HttpCheckPath",
    "HttpCheckDomain",
    "HttpCheckMethod",
    "HttpVersion",
    "CheckType",
];

/// A rule's `HealthCheck` merged onto `base` (defaults on create).
fn rule_health(v: &Value, base: Option<&Map<String, Value>>) -> R<Map<String, Value>> {
    let p = P::new(v, "HealthCheck")?;
    p.allow(&RULE_HEALTH_KEYS)?;
    p.switch("HealthSwitch")?;
    p.range("TimeOut", 2, 60)?;
    p.range("IntervalTime", 2, 300)?;
    p.range("HealthNum", 2, 10)?;
    p.range("UnHealthNum", 2, 10)?;
    p.range("HttpCode", 1, 31)?;
    p.one_of("HttpCheckMethod", &["HEAD", "GET"])?;
    p.one_of("CheckType", &["HTTP"])?;
    if let Some(path) = p.string("HttpCheckPath")? {
        if !path.starts_with('/') || path.len() > 200 {
            return Err(e(
                VALUE,
                "`HealthCheck.HttpCheckPath` starts with `/`, at most 200 characters",
            ));
        }
    }
    let mut out = base.cloned().unwrap_or_else(|| {
        let mut m = Map::new();
        for (k, v) in [
            ("HealthSwitch", json!(1)),
            ("TimeOut", json!(2)),
            ("IntervalTime", json!(5)),
            ("HealthNum", json!(3)),
            ("UnHealthNum", json!(3)),
            ("HttpCode", json!(31)),
            ("HttpCheckPath", json!("/")),
            ("HttpCheckMethod", json!("HEAD")),
            ("CheckType", json!("HTTP")),
        ] {
            m.insert(k.into(), v);
        }
        m
    });
    for (k, v) in p.m {
        if !v.is_null() {
            out.insert(k.clone(), v.clone());
        }
    }
    Ok(out)
}

fn strings(p: &P<'_>, k: &str) -> R<Option<Vec<String>>> {
    match p.array(k)? {
        None => Ok(None),
        Some(list) => list
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| e(FORMAT, format!("`{}` must hold strings", p.name(k))))
            })
            .collect::<R<Vec<_>>>()
            .map(Some),
    }
}

/// The HTTP/HTTPS listener a rule call addresses, or the right error.
fn http_listener<'l>(listeners: &'l [Listener], lb: &str, id: &str) -> R<&'l Listener> {
    let l = listeners.iter().find(|l| l.id == id).ok_or_else(|| {
        e(
            "InvalidParameter.ListenerIdNotFound",
            format!("listener `{id}` does not exist on `{lb}`"),
        )
    })?;
    Ok(l)
}

fn needs_http(l: &Listener) -> R<()> {
    if is_http(&l.protocol) {
        Ok(())
    } else {
        Err(e(
            VALUE,
            format!(
                "rules live under HTTP and HTTPS listeners; `{}` is {}",
                l.id, l.protocol
            ),
        ))
    }
}

fn duplicate_check(set: &RuleSet) -> R<()> {
    let mut seen = BTreeSet::new();
    for r in &set.rules {
        for d in &r.domains {
            if !seen.insert((d.as_str(), r.url.as_str())) {
                return Err(e(VALUE, format!("domain `{d}` already has a rule for URL `{}`", r.url)));
            }
        }
    }
    Ok(())
}

/// Finds the rule by `LocationId`, or by `Domain` + `Url`.
fn locate(set: &RuleSet, p: &P<'_>) -> R<usize> {
    if let Some(id) = p.string("LocationId")?.filter(|s| !s.is_empty()) {
        return set.rules.iter().position(|r| r.location_id == id).ok_or_else(|| {
            e(
                "InvalidParameter",
                format!("`LocationId` = `{id}` does not exist on this listener"),
            )
        });
    }
    let (Some(d), Some(u)) = (p.string("Domain")?, p.string("Url")?) else {
        return Err(ApiError::missing_parameter("LocationId"));
    };
    set.rules
        .iter()
        .position(|r| r.url == u && r.domains.iter().any(|x| x == d))
        .ok_or_else(|| e("InvalidParameter", format!("no rule for domain `{d}` and URL `{u}`")))
}

impl Clb {
    /// The common frame of every rule write: region, load balancer,
    /// listener, busy check, then `change` on a copy of the rule set, then
    /// a task that installs the copy when it succeeds.
    fn rule_write(
        &self,
        ctx: &mut dyn Context,
        call: &Call,
        keys: &[&str],
        what: &'static str,
        change: impl FnOnce(&P<'_>, &Listener, &mut RuleSet) -> R<Value>,
    ) -> R<Value> {
        region(call)?;
        let p = P::new(&call.params, "")?;
        p.allow(keys)?;
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
        let l = http_listener(listeners, lb, id)?;
        let mut set = l.rules.clone();
        let answer = change(&p, l, &mut set)?;
        if st.busy(lb) {
            return Err(e(BUSY, format!("a task is running on `{lb}`; try again later")));
        }
        let fail = ctx.fail_task();
        let ends = call.now + ctx.timing().update;
        st.start_task(
            &call.request_id,
            lb,
            ends,
            fail,
            TaskKind::Rules {
                listener: id.to_string(),
                set: Box::new(set),
                what,
            },
        );
        Ok(answer)
    }

    pub(super) fn create_rule(&self, ctx: &mut dyn Context, call: &Call) -> R<Value> {
        self.rule_write(
            ctx,
            call,
            &["LoadBalancerId", "ListenerId", "Rules", "Region"],
            "CreateRule",
            |p, l, set| {
                needs_http(l)?;
                let list = p.array("Rules")?.ok_or_else(|| ApiError::missing_parameter("Rules"))?;
                if list.is_empty() {
                    return Err(ApiError::missing_parameter("Rules"));
                }
                if set.rules.len() + list.len() > MAX_RULES {
                    return Err(e(
                        "LimitExceeded",
                        format!("a listener holds at most {MAX_RULES} rules"),
                    ));
                }
                let mut ids = Vec::new();
                for (i, v) in list.iter().enumerate() {
                    let prefix = format!("Rules.{i}");
                    let q = P::new(v, &prefix)?;
                    q.allow(&RULE_KEYS)?;
                    let domains = match (q.string("Domain")?, strings(&q, "Domains")?) {
                        (Some(_), Some(_)) => {
                            return Err(e(FORMAT, format!("`{prefix}`: give Domain or Domains, not both")))
                        }
                        (Some(d), None) => vec![d.to_string()],
                        (None, Some(list)) if !list.is_empty() => list,
                        _ => return Err(ApiError::missing_parameter(&format!("{prefix}.Domain"))),
                    };
                    for d in &domains {
                        check_domain(d, &format!("{prefix}.Domain"))?;
                    }
                    let url = q.required_str("Url")?;
                    check_url(url, &format!("{prefix}.Url"))?;
                    let scheduler = q
                        .one_of("Scheduler", &["WRR", "LEAST_CONN", "IP_HASH"])?
                        .unwrap_or_else(|| "WRR".into());
                    if let Some(t) = q.string("TargetType")? {
                        if t != "NODE" {
                            return Err(e(
                                VALUE,
                                format!(
                                    "`{prefix}.TargetType` = `{t}`: the emulator binds targets to rules (NODE) only"
                                ),
                            ));
                        }
                    }
                    let forward_type = q
                        .one_of("ForwardType", &["HTTP", "HTTPS", "GRPC", "GRPCS", "TRPC"])?
                        .unwrap_or_else(|| "HTTP".into());
                    let session_expire = match q.int("SessionExpireTime")? {
                        Some(t) if t != 0 && !(30..=3600).contains(&t) => {
                            return Err(e(
                                VALUE,
                                format!("`{prefix}.SessionExpireTime` {t} is outside 30 to 3600"),
                            ))
                        }
                        t => t.unwrap_or(0),
                    };
                    let health = match q.m.get("HealthCheck") {
                        Some(v) if !v.is_null() => rule_health(v, None)?,
                        _ => rule_health(&json!({}), None)?,
                    };
                    let sni = l.protocol == "HTTPS" && l.sni == 1;
                    let cert_given = q.has("Certificate") || q.has("MultiCertInfo");
                    if cert_given && !sni {
                        return Err(e(
                            VALUE,
                            format!("`{prefix}.Certificate` applies to HTTPS listeners with SniSwitch 1 only"),
                        ));
                    }
                    let mut cert = if cert_given {
                        certificate("HTTPS", 0, q.m.get("Certificate"), q.m.get("MultiCertInfo"))?
                    } else {
                        None
                    };
                    if sni && cert.is_none() {
                        // A domain already on the listener keeps its certificate.
                        cert = set
                            .rules
                            .iter()
                            .find(|r| r.domains.iter().any(|d| domains.contains(d)))
                            .and_then(|r| r.certificate.clone());
                        if cert.is_none() {
                            return Err(ApiError::missing_parameter(&format!("{prefix}.Certificate")));
                        }
                    }
                    set.seq += 1;
                    let rule = Rule {
                        location_id: new_id("loc-"),
                        domains: domains.clone(),
                        url: url.to_string(),
                        health_check: health,
                        scheduler,
                        session_expire,
                        forward_type,
                        certificate: cert,
                        http2: q.boolean("Http2")?.unwrap_or(false),
                        create_time: now_text(),
                        seq: set.seq,
                        targets: Vec::new(),
                    };
                    ids.push(rule.location_id.clone());
                    set.rules.push(rule);
                    if q.boolean("DefaultServer")? == Some(true) || set.default_domain.is_none() {
                        set.default_domain = Some(domains[0].clone());
                    }
                }
                duplicate_check(set)?;
                Ok(json!({ "LocationIds": ids }))
            },
        )
    }

    pub(super) fn modify_rule(&self, ctx: &mut dyn Context, call: &Call) -> R<Value> {
        let keys = [
            "LoadBalancerId",
            "ListenerId",
            "LocationId",
            "Url",
            "HealthCheck",
            "Scheduler",
            "SessionExpireTime",
            "ForwardType",
            "Region",
        ];
        self.rule_write(ctx, call, &keys, "ModifyRule", |p, l, set| {
            needs_http(l)?;
            let id = p.required_str("LocationId")?;
            let i = locate(set, p)?;
            let r = &mut set.rules[i];
            debug_assert_eq!(r.location_id, id);
            if let Some(url) = p.string("Url")? {
                check_url(url, "Url")?;
                r.url = url.to_string();
            }
            if let Some(v) = p.m.get("HealthCheck").filter(|v| !v.is_null()) {
                r.health_check = rule_health(v, Some(&r.health_check))?;
            }
            if let Some(s) = p.one_of("Scheduler", &["WRR", "LEAST_CONN", "IP_HASH"])? {
                r.scheduler = s;
            }
            if let Some(f) = p.one_of("ForwardType", &["HTTP", "HTTPS", "GRPC", "GRPCS", "TRPC"])? {
                r.forward_type = f;
            }
            if let Some(t) = p.int("SessionExpireTime")? {
                if t != 0 && !(30..=3600).contains(&t) {
                    return Err(e(VALUE, format!("`SessionExpireTime` {t} is outside 30 to 3600")));
                }
                r.session_expire = t;
            }
            duplicate_check(set)?;
            Ok(json!({}))
        })
    }

    pub(super) fn modify_domain(&self, ctx: &mut dyn Context, call: &Call) -> R<Value> {
        let keys = [
            "LoadBalancerId",
            "ListenerId",
            "Domain",
            "NewDomain",
            "Certificate",
            "MultiCertInfo",
            "Http2",
            "DefaultServer",
            "NewDefaultServerDomain",
            "Region",
        ];
        self.rule_write(ctx, call, &keys, "ModifyDomainAttributes", |p, l, set| {
            needs_http(l)?;
            let domain = p.required_str("Domain")?.to_string();
            if !set.has_domain(&domain) {
                return Err(e(
                    VALUE,
                    format!("`Domain` = `{domain}` is not a domain of this listener"),
                ));
            }
            let sni = l.protocol == "HTTPS" && l.sni == 1;
            let cert = if p.has("Certificate") || p.has("MultiCertInfo") {
                if !sni {
                    return Err(e(
                        VALUE,
                        "`Certificate` applies to HTTPS listeners with SniSwitch 1 only",
                    ));
                }
                Some(certificate(
                    "HTTPS",
                    0,
                    p.m.get("Certificate"),
                    p.m.get("MultiCertInfo"),
                )?)
            } else {
                None
            };
            let http2 = p.boolean("Http2")?;
            let new_domain = p.string("NewDomain")?.map(str::to_string);
            if let Some(n) = &new_domain {
                check_domain(n, "NewDomain")?;
                if n != &domain && set.has_domain(n) {
                    return Err(e(VALUE, format!("`NewDomain` = `{n}` already exists on this listener")));
                }
            }
            for r in set.rules.iter_mut().filter(|r| r.domains.contains(&domain)) {
                if let Some(c) = &cert {
                    r.certificate = c.clone();
                }
                if let Some(h) = http2 {
                    r.http2 = h;
                }
                if let Some(n) = &new_domain {
                    for d in r.domains.iter_mut().filter(|d| **d == domain) {
                        *d = n.clone();
                    }
                }
            }
            let current = new_domain.clone().unwrap_or_else(|| domain.clone());
            if set.default_domain.as_deref() == Some(domain.as_str()) {
                set.default_domain = Some(current.clone());
            }
            match p.boolean("DefaultServer")? {
                Some(true) => set.default_domain = Some(current),
                Some(false) if set.default_domain.as_deref() == Some(current.as_str()) => {
                    let s = p
                        .string("NewDefaultServerDomain")?
                        .ok_or_else(|| ApiError::missing_parameter("NewDefaultServerDomain"))?;
                    set.default_domain = None;
                    set.settle_default(Some(s))?;
                }
                _ => {}
            }
            duplicate_check(set)?;
            Ok(json!({}))
        })
    }

    pub(super) fn delete_rule(&self, ctx: &mut dyn Context, call: &Call) -> R<Value> {
        let keys = [
            "LoadBalancerId",
            "ListenerId",
            "LocationIds",
            "Domain",
            "Url",
            "NewDefaultServerDomain",
            "Region",
        ];
        self.rule_write(ctx, call, &keys, "DeleteRule", |p, l, set| {
            needs_http(l)?;
            let gone: Vec<String> = match strings(p, "LocationIds")? {
                Some(ids) if !ids.is_empty() => {
                    for id in &ids {
                        if !set.rules.iter().any(|r| &r.location_id == id) {
                            return Err(e(
                                "InvalidParameter",
                                format!("`LocationIds` holds `{id}`, which does not exist"),
                            ));
                        }
                    }
                    ids
                }
                _ => vec![set.rules[locate(set, p)?].location_id.clone()],
            };
            set.rules.retain(|r| !gone.contains(&r.location_id));
            let successor = p.string("NewDefaultServerDomain")?;
            set.settle_default(successor)?;
            Ok(json!({}))
        })
    }

    pub(super) fn register(&self, ctx: &mut dyn Context, call: &Call, add: bool) -> R<Value> {
        let keys = [
            "LoadBalancerId",
            "ListenerId",
            "Targets",
            "LocationId",
            "Domain",
            "Url",
            "Region",
        ];
        let what = if add { "RegisterTargets" } else { "DeregisterTargets" };
        self.rule_write(ctx, call, &keys, what, |p, l, set| {
            let list = p
                .array("Targets")?
                .ok_or_else(|| ApiError::missing_parameter("Targets"))?;
            if list.is_empty() {
                return Err(ApiError::missing_parameter("Targets"));
            }
            if list.len() > MAX_TARGETS_PER_CALL {
                return Err(e(VALUE, format!("at most {MAX_TARGETS_PER_CALL} Targets per call")));
            }
            let mut given = Vec::new();
            for (i, v) in list.iter().enumerate() {
                let prefix = format!("Targets.{i}");
                let q = P::new(v, &prefix)?;
                q.allow(&["Port", "Type", "InstanceId", "Weight", "EniIp", "Tag"])?;
                let port = q
                    .int("Port")?
                    .ok_or_else(|| ApiError::missing_parameter(&format!("{prefix}.Port")))?;
                if !(1..=65535).contains(&port) {
                    return Err(e(VALUE, format!("`{prefix}.Port` = {port} is outside 1 to 65535")));
                }
                let (address, by_instance) = match (q.string("InstanceId")?, q.string("EniIp")?) {
                    (Some(_), Some(_)) => {
                        return Err(e(FORMAT, format!("`{prefix}`: give InstanceId or EniIp, not both")))
                    }
                    (Some(id), None) if !id.is_empty() => (id.to_string(), true),
                    (None, Some(ip)) if ip.parse::<std::net::IpAddr>().is_ok() => (ip.to_string(), false),
                    (None, Some(ip)) => {
                        return Err(e(VALUE, format!("`{prefix}.EniIp` = `{ip}` is not an IP address")))
                    }
                    _ => return Err(ApiError::missing_parameter(&format!("{prefix}.InstanceId"))),
                };
                let weight = q.range("Weight", 0, 100)?.unwrap_or(DEFAULT_WEIGHT);
                let t = Target {
                    address,
                    by_instance,
                    port,
                    weight,
                    registered: now_text(),
                };
                if given.iter().any(|g: &Target| g.key() == t.key()) {
                    return Err(e(DUPLICATE, format!("`{prefix}` repeats {}:{}", t.address, t.port)));
                }
                given.push(t);
            }
            let targets = if is_http(&l.protocol) {
                let i = locate(set, p)?;
                &mut set.rules[i].targets
            } else {
                // Layer 4 (TCP, UDP, TCP_SSL, QUIC): targets bind to the
                // listener itself (RegisterTargets: "LocationId ... not
                // needed for layer-4 listeners").
                if p.has("LocationId") || p.has("Domain") || p.has("Url") {
                    return Err(e(
                        VALUE,
                        format!(
                            "{} listeners have no rules; leave LocationId, Domain and Url out",
                            l.protocol
                        ),
                    ));
                }
                &mut set.listener_targets
            };
            if add {
                for t in &given {
                    if targets.iter().any(|x| x.key() == t.key()) {
                        return Err(e(DUPLICATE, format!("{}:{} is already bound", t.address, t.port)));
                    }
                }
                if targets.len() + given.len() > MAX_TARGETS {
                    return Err(e(
                        "LimitExceeded",
                        format!("a rule binds at most {MAX_TARGETS} targets"),
                    ));
                }
                targets.extend(given);
            } else {
                for t in &given {
                    if !targets.iter().any(|x| x.key() == t.key()) {
                        return Err(e(VALUE, format!("{}:{} is not bound here", t.address, t.port)));
                    }
                }
                targets.retain(|x| !given.iter().any(|t| t.key() == x.key()));
            }
            Ok(json!({}))
        })
    }

    pub(super) fn describe_targets(&self, call: &Call) -> R<Value> {
        region(call)?;
        let p = P::new(&call.params, "")?;
        p.allow(&["LoadBalancerId", "ListenerIds", "Protocol", "Port", "Region"])?;
        let lb = p.required_str("LoadBalancerId")?;
        let ids = strings(&p, "ListenerIds")?;
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
            .map(|l| {
                let rules: Vec<Value> = l
                    .rules
                    .rules
                    .iter()
                    .map(|r| {
                        json!({
                            "LocationId": r.location_id,
                            "Domain": r.domains[0],
                            "Url": r.url,
                            "Targets": r.targets.iter().map(Target::describe).collect::<Vec<_>>(),
                        })
                    })
                    .collect();
                json!({
                    "ListenerId": l.id,
                    "Protocol": l.protocol,
                    "Port": l.port,
                    "EndPort": l.end_port,
                    "Rules": if is_http(&l.protocol) { json!(rules) } else { Value::Null },
                    "Targets": if is_http(&l.protocol) { Value::Null } else { json!(l.rules.listener_targets.iter().map(Target::describe).collect::<Vec<_>>()) },
                })
            })
            .collect();
        Ok(json!({ "Listeners": out }))
    }

    /// The admin resolve call: `{"instance", "port", "host", "path"}` to
    /// `{"listener", "rule", "status", "endpoints"}` by CLB's matcher over
    /// the settled state.
    pub(super) fn resolve_request(&self, q: &Value, now: std::time::Instant) -> R<Value> {
        let bad = |m: &str| e("InvalidParameter", m.to_string());
        let instance = q["instance"]
            .as_str()
            .ok_or_else(|| bad("`instance` (string) is required"))?;
        let port = q["port"].as_i64().ok_or_else(|| bad("`port` (integer) is required"))?;
        let host = q["host"].as_str().unwrap_or("");
        let path = q["path"].as_str().unwrap_or("/");
        let mut st = self.state();
        st.settle(now);
        let listeners = st
            .lbs
            .get(instance)
            .ok_or_else(|| e("NotFound", format!("no CLB instance `{instance}`")).status(404))?;
        let l = listeners
            .iter()
            .find(|l| {
                let (a, b) = l.ports();
                a <= port && port <= b
            })
            .ok_or_else(|| e("NotFound", format!("no listener on port {port} of `{instance}`")).status(404))?;
        let endpoints = |ts: &[Target]| -> Value {
            json!(ts
                .iter()
                .map(|t| json!({"address": t.address, "port": t.port, "weight": t.weight}))
                .collect::<Vec<_>>())
        };
        if !is_http(&l.protocol) {
            return Ok(
                json!({"listener": l.id, "rule": null, "status": 200, "endpoints": endpoints(&l.rules.listener_targets)}),
            );
        }
        let set = &l.rules;
        let view: Vec<MatchRule<'_>> = set
            .rules
            .iter()
            .map(|r| MatchRule {
                id: &r.location_id,
                domains: &r.domains,
                url: &r.url,
                seq: r.seq,
            })
            .collect();
        // The certificate served: the matched domain's with SNI on, the
        // listener's otherwise (HTTPS only).
        // With it, the client CA demanded (`MUTUAL`), else null.
        let served: Option<&Value> = if l.protocol != "HTTPS" {
            None
        } else if l.sni == 1 {
            let domain = match_domain(&view, set.default_domain.as_deref(), host);
            set.rules
                .iter()
                .find(|r| domain.is_some_and(|d| r.domains.iter().any(|x| x == d)))
                .and_then(|r| r.certificate.as_ref())
        } else {
            l.certificate.as_ref()
        };
        let certificate = served.and_then(|c| c.get("CertId")).cloned().unwrap_or(Value::Null);
        let client_ca = served
            .filter(|c| c.get("SSLMode").and_then(Value::as_str) == Some("MUTUAL"))
            .and_then(|c| c.get("CertCaId"))
            .cloned()
            .unwrap_or(Value::Null);
        let mut answer = match resolve_rules(&view, set.default_domain.as_deref(), host, path) {
            Some(Outcome::Rule(id)) => {
                let r = set
                    .rules
                    .iter()
                    .find(|r| r.location_id == id)
                    .map(|r| &r.targets[..])
                    .unwrap_or(&[]);
                json!({"listener": l.id, "rule": id, "status": 200, "endpoints": endpoints(r)})
            }
            Some(Outcome::Redirect(to)) => {
                json!({"listener": l.id, "rule": null, "status": 301, "location": to, "endpoints": []})
            }
            Some(Outcome::NotFound) | None => json!({"listener": l.id, "rule": null, "status": 404, "endpoints": []}),
        };
        answer["certificate"] = certificate;
        answer["client_ca"] = client_ca;
        Ok(answer)
    }
}

#[cfg(test)]
#[path = "clb_rules_tests.rs"]
mod tests;
