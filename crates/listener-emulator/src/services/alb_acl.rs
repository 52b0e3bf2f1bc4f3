//! ALB access control lists and listener log settings, a child of the ALB
//! service (kept in its own file so the ACL actions read as one piece).
//!
//! ACLs (`acl-…`) are account resources of the region holding IP entries;
//! a listener uses them through `AssociateAclsWithListener` as a whitelist
//! (`White`) or a blacklist (`Black`). Rules and codes:
//!
//! | rule | code | source |
//! |---|---|---|
//! | `AclName` not 2–128 of letters, digits, `.`, `_`, `-` starting with a letter; an entry that is not an IP or CIDR; more than 20 entries in one `AddEntriesToAcl`/`RemoveEntriesFromAcl`; more than 3 `AclIds` in one call; `AclType` other than `White`/`Black` | `InvalidParameter` | SDK models (CreateAclRequest, AddEntriesToAclRequest, AssociateAclsWithListenerRequest) |
//! | unknown ACL | `ResourceNotFound.Acl` (404) | the family's `ResourceNotFound.<Type>` |
//! | a write to an ACL that is `Creating` or `Configuring` | `IncorrectStatus.Acl` | Terraform alicloud (retried on AddEntriesToAcl, RemoveEntriesFromAcl, DissociateAclsFromListener) |
//! | more than 1,000 entries in one ACL | `QuotaExceeded.AclEntriesNum` | limit: AddEntriesToAcl page ("each ACL can contain 1,000"; one translation says 500, the looser bound is kept); code: emulator's, in the family's pattern |
//! | more than 3 ACLs on one listener | `QuotaExceeded.ListenerAclsNum` | limit: Terraform `alicloud_alb_listener_acl_attachment` ("at most three ACLs"), factsheet quotas; code: emulator's |
//! | an entry already in the ACL / one not in it | `ResourceAlreadyExist.AclEntry` / `ResourceNotFound.AclEntry` | emulator's, in the family's pattern |
//! | white and black lists on one listener at once | `OperationDenied.AclTypeConflict` | rule: Terraform ("either a whitelist or a blacklist, not at the same time"); code: emulator's |
//! | an ACL already on the listener / not on it | `ResourceAlreadyAssociated.Acl` / `ResourceNotAssociated.Acl` | emulator's, in the family's pattern |
//! | `DeleteAcl` of an ACL a listener uses | `ResourceInUse.Acl` | emulator's |
//! | `UpdateListenerLogConfig` switching a setting on while the instance's access log is off | `OperationDenied.AccessLogDisabled` | rule: UpdateListenerLogConfig ("only after you enable the access log"); code: emulator's |
//! | `TracingSample` outside 1–10000, `TracingType` other than `Zipkin` | `InvalidParameter` | UpdateListenerLogConfig `AccessLogTracingConfig` |
//!
//! Asynchronous work: `CreateAcl` leaves the ACL `Creating` for the create
//! delay; `AddEntriesToAcl`/`RemoveEntriesFromAcl` leave it `Configuring`
//! (entries `Adding`/`Removing`) for the update delay; `DeleteAcl` removes
//! it after the delete delay. Association and log changes are listener
//! updates (`Configuring`, applied at the end). Each write answers a
//! `JobId` that `ListAsynJobs` follows; a failed job changes nothing.

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::{json, Value};

use super::{
    address_or_cidr_ok, boolean, integer, invalid, is_dry_run, later, list, not_found, page, required, tags_of, text,
    too_many_tags, with_next, Config, Listener, Pending, State, Work, MAX_TAGS,
};
use crate::service::{ApiError, Call, Context};

/// Entries one `AddEntriesToAcl` or `RemoveEntriesFromAcl` call takes.
pub const ENTRIES_PER_CALL: usize = 20;
/// Entries one ACL holds (adjustable quota; the vendor's default).
pub const ENTRIES_PER_ACL: usize = 1000;
/// ACLs one listener uses at most.
pub const ACLS_PER_LISTENER: usize = 3;
/// `AclIds` one association call takes.
pub const ACLS_PER_CALL: usize = 3;

/// Unfinished work on an ACL.
#[derive(Debug, Clone)]
enum AclWork {
    Create,
    Add(Vec<(String, Option<String>)>),
    Remove(Vec<String>),
    Delete,
}

type AclPending = super::Underway<AclWork>;

/// One access control list.
#[derive(Debug, Clone)]
pub(super) struct Acl {
    id: String,
    name: String,
    tags: BTreeMap<String, String>,
    /// Entry → description, in the order added.
    entries: Vec<(String, Option<String>)>,
    seq: u64,
    pending: Option<AclPending>,
}

impl Acl {
    fn status(&self) -> &'static str {
        match self.pending.as_ref().map(|p| &p.work) {
            None => "Available",
            Some(AclWork::Create) => "Creating",
            Some(AclWork::Delete) => "Deleting",
            Some(_) => "Configuring",
        }
    }

    fn summary(&self) -> Value {
        let tags: Vec<Value> = self.tags.iter().map(|(k, v)| json!({ "Key": k, "Value": v })).collect();
        json!({
            "AclId": self.id,
            "AclName": self.name,
            "AclStatus": self.status(),
            "AddressIPVersion": "IPv4",
            "ConfigManagedEnabled": false,
            "Tags": tags,
        })
    }
}

/// The listener's access-log settings (`LogConfig`).
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct LogSettings {
    pub headers: bool,
    pub tracing: bool,
    pub sample: Option<u32>,
    pub kind: Option<String>,
}

/// The listener's ACL use (`AclConfig`).
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct AclUse {
    pub kind: Option<String>,
    pub ids: Vec<String>,
}

fn busy_acl(id: &str, status: &str) -> ApiError {
    ApiError::new(
        "IncorrectStatus.Acl",
        format!("The status of Acl [{id}] is incorrect: {status}."),
    )
}

/// `AclName`: 2–128 characters of letters, digits, `.`, `_` and `-`,
/// starting with a letter (CreateAclRequest).
fn acl_name_ok(name: &str) -> bool {
    let n = name.chars().count();
    (2..=128).contains(&n)
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn strings(p: &Value, key: &str) -> Result<Vec<String>, ApiError> {
    Ok(list(p, key)?
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect())
}

/// `GetListenerAttribute`'s `AclConfig` and `LogConfig` of a listener,
/// with relations still being made or undone marked so.
pub(super) fn attribute_parts(l: &Listener) -> (Value, Value) {
    let c = &l.config;
    let pending: Option<&Config> = match l.pending.as_ref().map(|p| &p.work) {
        Some(Work::Update(next)) => Some(next),
        _ => None,
    };
    let mut relations: Vec<Value> = c
        .acls
        .ids
        .iter()
        .map(|id| {
            let leaving = pending.is_some_and(|n| !n.acls.ids.contains(id));
            json!({ "AclId": id, "Status": if leaving { "Dissociating" } else { "Associated" } })
        })
        .collect();
    if let Some(next) = pending {
        for id in next.acls.ids.iter().filter(|id| !c.acls.ids.contains(id)) {
            relations.push(json!({ "AclId": id, "Status": "Associating" }));
        }
    }
    let kind = c
        .acls
        .kind
        .clone()
        .or_else(|| pending.and_then(|n| n.acls.kind.clone()));
    let mut acl = json!({ "AclRelations": relations });
    if let (Some(k), false) = (kind, relations_empty(&acl)) {
        acl["AclType"] = json!(k);
    }
    let mut tracing = json!({ "TracingEnabled": c.log.tracing });
    if let Some(n) = c.log.sample {
        tracing["TracingSample"] = json!(n);
    }
    if let Some(k) = &c.log.kind {
        tracing["TracingType"] = json!(k);
    }
    let log = json!({
        "AccessLogRecordCustomizedHeadersEnabled": c.log.headers,
        "AccessLogTracingConfig": tracing,
    });
    (acl, log)
}

fn relations_empty(acl: &Value) -> bool {
    acl["AclRelations"].as_array().is_none_or(Vec::is_empty)
}

impl State {
    /// Finish ACL work whose time has come.
    pub(super) fn settle_acls(&mut self, now: Instant) {
        super::settle_due(
            &mut self.acls,
            now,
            |a| &mut a.pending,
            |a, work, fail| match (work, fail) {
                (AclWork::Create, fail) => fail,
                (AclWork::Delete, fail) => !fail,
                (AclWork::Add(entries), false) => {
                    a.entries.extend(entries);
                    false
                }
                (AclWork::Remove(entries), false) => {
                    a.entries.retain(|(e, _)| !entries.contains(e));
                    false
                }
                (_, true) => false,
            },
        );
    }

    /// `acl-` and 20 lower-case letters and digits.
    fn new_acl_id(&mut self) -> String {
        loop {
            let id = self.new_id("acl-");
            if !self.acls.contains_key(&id) {
                return id;
            }
        }
    }

    fn acl(&self, id: &str) -> Result<&Acl, ApiError> {
        self.acls.get(id).ok_or_else(|| not_found("Acl", id))
    }

    /// A write to ACL `id`: it must exist and have no unfinished work.
    fn writable_acl(&self, id: &str) -> Result<&Acl, ApiError> {
        let a = self.acl(id)?;
        if a.pending.is_some() {
            return Err(busy_acl(id, a.status()));
        }
        Ok(a)
    }

    /// Whether a listener uses ACL `id` or is about to.
    fn acl_in_use(&self, id: &str) -> bool {
        self.listeners.values().any(|l| {
            l.config.acls.ids.iter().any(|a| a == id)
                || matches!(&l.pending, Some(Pending { work: Work::Update(c), .. }) if c.acls.ids.iter().any(|a| a == id))
        })
    }

    /// `CreateAcl`: a new, empty ACL, `Creating` until the create delay
    /// passes.
    pub(super) fn create_acl(&mut self, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
        let p = &call.params;
        let name = required(p, "AclName")?.to_string();
        if !acl_name_ok(&name) {
            return Err(invalid(
                "The parameter AclName must be 2 to 128 letters, digits, periods, underscores or hyphens, starting with a letter.",
            ));
        }
        let tags = tags_of(p)?;
        if tags.len() > MAX_TAGS {
            return Err(too_many_tags(tags.len()));
        }
        if is_dry_run(call)? {
            return Err(super::dry_run_passed());
        }
        let fail = ctx.fail_task();
        let until = later(call.now, ctx.timing().create);
        let id = self.new_acl_id();
        let seq = self.next_seq();
        let job = self.start_job(&id, "CreateAcl", "Create", until, fail);
        self.acls.insert(
            id.clone(),
            Acl {
                id: id.clone(),
                name,
                tags: tags.into_iter().collect(),
                entries: Vec::new(),
                seq,
                pending: Some(AclPending {
                    work: AclWork::Create,
                    until,
                    fail,
                }),
            },
        );
        Ok(json!({ "AclId": id, "JobId": job }))
    }

    /// `AddEntriesToAcl` (`add`) or `RemoveEntriesFromAcl`.
    pub(super) fn change_entries(&mut self, ctx: &mut dyn Context, call: &Call, add: bool) -> Result<Value, ApiError> {
        let p = &call.params;
        let id = required(p, "AclId")?.to_string();
        let mut asked: Vec<(String, Option<String>)> = Vec::new();
        if add {
            for e in list(p, "AclEntries")? {
                let entry = e
                    .get("Entry")
                    .and_then(Value::as_str)
                    .ok_or_else(|| ApiError::missing_parameter("AclEntries.N.Entry"))?;
                let description = e.get("Description").and_then(Value::as_str).map(str::to_string);
                asked.push((entry.to_string(), description));
            }
            if asked.is_empty() {
                return Err(ApiError::missing_parameter("AclEntries.1.Entry"));
            }
        } else {
            asked = strings(p, "Entries")?.into_iter().map(|e| (e, None)).collect();
            if asked.is_empty() {
                return Err(ApiError::missing_parameter("Entries.1"));
            }
        }
        if asked.len() > ENTRIES_PER_CALL {
            return Err(invalid(format!(
                "At most {ENTRIES_PER_CALL} entries per call, not {}.",
                asked.len()
            )));
        }
        if let Some((bad, _)) = asked.iter().find(|(e, _)| !address_or_cidr_ok(e)) {
            return Err(invalid(format!(
                "The ACL entry `{bad}` is not an IP address or CIDR block."
            )));
        }
        let a = self.writable_acl(&id)?;
        for (e, _) in &asked {
            let present = a.entries.iter().any(|(have, _)| have == e);
            if add && present {
                return Err(ApiError::new(
                    "ResourceAlreadyExist.AclEntry",
                    format!("The ACL entry {e} already exists in {id}."),
                ));
            }
            if !add && !present {
                return Err(not_found("AclEntry", e));
            }
        }
        if add && a.entries.len() + asked.len() > ENTRIES_PER_ACL {
            return Err(ApiError::new(
                "QuotaExceeded.AclEntriesNum",
                format!(
                    "An ACL holds at most {ENTRIES_PER_ACL} entries; {id} has {} and {} were asked.",
                    a.entries.len(),
                    asked.len()
                ),
            ));
        }
        if is_dry_run(call)? {
            return Err(super::dry_run_passed());
        }
        let fail = ctx.fail_task();
        let until = later(call.now, ctx.timing().update);
        let (api, work) = if add {
            ("AddEntriesToAcl", AclWork::Add(asked))
        } else {
            (
                "RemoveEntriesFromAcl",
                AclWork::Remove(asked.into_iter().map(|(e, _)| e).collect()),
            )
        };
        let job = self.start_job(&id, api, "Update", until, fail);
        if let Some(a) = self.acls.get_mut(&id) {
            a.pending = Some(AclPending { work, until, fail });
        }
        Ok(json!({ "JobId": job }))
    }

    /// `DeleteAcl`: refused while a listener uses the ACL.
    pub(super) fn delete_acl(&mut self, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
        let id = required(&call.params, "AclId")?.to_string();
        self.writable_acl(&id)?;
        if self.acl_in_use(&id) {
            return Err(ApiError::new(
                "ResourceInUse.Acl",
                format!("The ACL {id} is associated with a listener."),
            ));
        }
        if is_dry_run(call)? {
            return Err(super::dry_run_passed());
        }
        let fail = ctx.fail_task();
        let until = later(call.now, ctx.timing().delete);
        let job = self.start_job(&id, "DeleteAcl", "Delete", until, fail);
        if let Some(a) = self.acls.get_mut(&id) {
            a.pending = Some(AclPending {
                work: AclWork::Delete,
                until,
                fail,
            });
        }
        Ok(json!({ "JobId": job }))
    }

    /// `AssociateAclsWithListener` (`associate`) or
    /// `DissociateAclsFromListener`: a listener update.
    pub(super) fn acl_association(
        &mut self,
        ctx: &mut dyn Context,
        call: &Call,
        associate: bool,
    ) -> Result<Value, ApiError> {
        let p = &call.params;
        let id = required(p, "ListenerId")?.to_string();
        let ids = strings(p, "AclIds")?;
        if ids.is_empty() {
            return Err(ApiError::missing_parameter("AclIds.1"));
        }
        if ids.len() > ACLS_PER_CALL {
            return Err(invalid(format!("At most {ACLS_PER_CALL} AclIds per call.")));
        }
        let kind = if associate {
            match required(p, "AclType")? {
                k @ ("White" | "Black") => Some(k.to_string()),
                other => {
                    return Err(invalid(format!(
                        "The parameter AclType must be White or Black, not `{other}`."
                    )))
                }
            }
        } else {
            None
        };
        let l = self.writable(&id)?;
        let mut next = l.config.clone();
        for acl in &ids {
            let a = self.acl(acl)?;
            let on = next.acls.ids.contains(acl);
            if associate {
                if a.pending.is_some() {
                    return Err(busy_acl(acl, a.status()));
                }
                if on {
                    return Err(ApiError::new(
                        "ResourceAlreadyAssociated.Acl",
                        format!("The specified resource {acl} is already associated."),
                    ));
                }
            } else if !on {
                return Err(ApiError::new(
                    "ResourceNotAssociated.Acl",
                    format!("The ACL {acl} is not associated with listener {id}."),
                ));
            }
        }
        if associate {
            if !next.acls.ids.is_empty() && next.acls.kind != kind {
                return Err(ApiError::new(
                    "OperationDenied.AclTypeConflict",
                    "A listener uses either a whitelist or a blacklist, not both.",
                ));
            }
            if next.acls.ids.len() + ids.len() > ACLS_PER_LISTENER {
                return Err(ApiError::new(
                    "QuotaExceeded.ListenerAclsNum",
                    format!("A listener uses at most {ACLS_PER_LISTENER} ACLs."),
                ));
            }
            next.acls.ids.extend(ids);
            next.acls.kind = kind;
        } else {
            next.acls.ids.retain(|a| !ids.contains(a));
            if next.acls.ids.is_empty() {
                next.acls.kind = None;
            }
        }
        if is_dry_run(call)? {
            return Err(super::dry_run_passed());
        }
        let api = if associate {
            "AssociateAclsWithListener"
        } else {
            "DissociateAclsFromListener"
        };
        Ok(json!({ "JobId": self.start_update(ctx, call, &id, api, next) }))
    }

    /// `UpdateListenerLogConfig`: switching either setting on needs the
    /// instance's access log.
    pub(super) fn update_log_config(&mut self, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
        let p = &call.params;
        let id = required(p, "ListenerId")?.to_string();
        let l = self.writable(&id)?;
        let lb = l.lb.clone();
        let mut next = l.config.clone();
        if let Some(h) = boolean(p, "AccessLogRecordCustomizedHeadersEnabled")? {
            next.log.headers = h;
        }
        if let Some(t) = p.get("AccessLogTracingConfig") {
            let enabled = boolean(t, "TracingEnabled")?
                .ok_or_else(|| ApiError::missing_parameter("AccessLogTracingConfig.TracingEnabled"))?;
            let sample = integer(t, "TracingSample")?;
            let kind = text(t, "TracingType").map(str::to_string);
            if sample.is_some_and(|s| !(1..=10_000).contains(&s)) {
                return Err(invalid("TracingSample must be 1 to 10000."));
            }
            if kind.as_deref().is_some_and(|k| k != "Zipkin") {
                return Err(invalid("TracingType must be Zipkin."));
            }
            // Sample and type are kept as sent; they only act while
            // tracing is on.
            next.log.tracing = enabled;
            next.log.sample = sample.or(next.log.sample);
            next.log.kind = kind.or(next.log.kind);
        }
        if (next.log.headers || next.log.tracing) && !self.access_log.contains(&lb) {
            return Err(ApiError::new(
                "OperationDenied.AccessLogDisabled",
                format!("The access log of load balancer {lb} is not enabled."),
            ));
        }
        if is_dry_run(call)? {
            return Err(super::dry_run_passed());
        }
        Ok(json!({ "JobId": self.start_update(ctx, call, &id, "UpdateListenerLogConfig", next) }))
    }

    /// `EnableLoadBalancerAccessLog` (`on`) / `DisableLoadBalancerAccessLog`:
    /// the instance switch the listener log settings need (synchronous here;
    /// the log project and store are not kept).
    pub(super) fn instance_access_log(&mut self, call: &Call, on: bool) -> Result<Value, ApiError> {
        let p = &call.params;
        let lb = required(p, "LoadBalancerId")?.to_string();
        if !self.instances.contains_key(&lb) {
            return Err(not_found("LoadBalancer", &lb));
        }
        if on {
            required(p, "LogProject")?;
            required(p, "LogStore")?;
        }
        if is_dry_run(call)? {
            return Err(super::dry_run_passed());
        }
        if on {
            self.access_log.insert(lb);
        } else {
            self.access_log.remove(&lb);
        }
        Ok(json!({ "JobId": self.new_job_id() }))
    }

    fn start_update(
        &mut self,
        ctx: &mut dyn Context,
        call: &Call,
        id: &str,
        api: &'static str,
        next: Config,
    ) -> String {
        let fail = ctx.fail_task();
        let until = later(call.now, ctx.timing().update);
        let job = self.start_job(id, api, "Update", until, fail);
        if let Some(l) = self.listeners.get_mut(id) {
            l.pending = Some(Pending {
                work: Work::Update(Box::new(next)),
                until,
                fail,
            });
        }
        job
    }

    /// `ListAcls`, filtered by `AclIds` and `AclNames`, paged.
    pub(super) fn list_acls(&self, call: &Call) -> Result<Value, ApiError> {
        let p = &call.params;
        let ids = strings(p, "AclIds")?;
        let names = strings(p, "AclNames")?;
        if ids.len() > 20 || names.len() > 10 {
            return Err(invalid("ListAcls takes at most 20 AclIds and 10 AclNames."));
        }
        let mut matching: Vec<&Acl> = self
            .acls
            .values()
            .filter(|a| ids.is_empty() || ids.contains(&a.id))
            .filter(|a| names.is_empty() || names.contains(&a.name))
            .collect();
        matching.sort_by_key(|a| a.seq);
        let (start, size) = page(p, matching.len())?;
        let items: Vec<Value> = matching.iter().skip(start).take(size).map(|a| a.summary()).collect();
        Ok(with_next(json!({ "Acls": items }), start, size, matching.len()))
    }

    /// `ListAclEntries` of one ACL, paged; entries being added or removed
    /// say so.
    pub(super) fn list_acl_entries(&self, call: &Call) -> Result<Value, ApiError> {
        let p = &call.params;
        let id = required(p, "AclId")?;
        let a = self.acl(id)?;
        let mut all: Vec<Value> = a
            .entries
            .iter()
            .map(|(e, d)| {
                let leaving = matches!(&a.pending, Some(AclPending { work: AclWork::Remove(r), .. }) if r.contains(e));
                json!({ "Entry": e, "Description": d, "Status": if leaving { "Removing" } else { "Available" } })
            })
            .collect();
        if let Some(AclPending {
            work: AclWork::Add(adding),
            ..
        }) = &a.pending
        {
            all.extend(
                adding
                    .iter()
                    .map(|(e, d)| json!({ "Entry": e, "Description": d, "Status": "Adding" })),
            );
        }
        let (start, size) = page(p, all.len())?;
        let items: Vec<Value> = all.iter().skip(start).take(size).cloned().collect();
        Ok(with_next(json!({ "AclEntries": items }), start, size, all.len()))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::{Alb, PAST};
    use super::*;
    use crate::context::ManualContext;
    use crate::service::{InstanceSeed, Service, Timing};

    const LB: &str = "alb-test";
    const DELAY: Duration = Duration::from_millis(100);

    fn svc() -> Alb {
        let s = Alb::new();
        s.seed(InstanceSeed {
            id: LB.into(),
            server_groups: vec!["sgp-test".into()],
        });
        s
    }

    fn ctx() -> ManualContext {
        ManualContext::new(Timing {
            create: DELAY,
            update: DELAY,
            delete: DELAY,
        })
    }

    fn send(s: &Alb, action: &str, pairs: &[(&str, &str)], now: Instant) -> Result<Value, ApiError> {
        let flat: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let list: Vec<(String, String)> = flat.clone().into_iter().collect();
        let call = Call {
            action: action.into(),
            params: crate::decode::unflatten(&list),
            flat,
            region: None,
            request_id: "rid".into(),
            now,
        };
        s.handle(&mut ctx(), &call)
    }

    fn code(r: Result<Value, ApiError>) -> String {
        match r {
            Ok(v) => panic!("expected an error, got {v}"),
            Err(e) => e.code,
        }
    }

    fn listener(s: &Alb, now: Instant) -> String {
        let v = send(
            s,
            "CreateListener",
            &[
                ("LoadBalancerId", LB),
                ("ListenerProtocol", "HTTP"),
                ("ListenerPort", "80"),
                ("DefaultActions.1.Type", "ForwardGroup"),
                (
                    "DefaultActions.1.ForwardGroupConfig.ServerGroupTuples.1.ServerGroupId",
                    "sgp-test",
                ),
            ],
            now,
        )
        .expect("listener created");
        v["ListenerId"].as_str().unwrap().to_string()
    }

    fn acl(s: &Alb, name: &str, now: Instant) -> String {
        let v = send(s, "CreateAcl", &[("AclName", name)], now).expect("acl created");
        v["AclId"].as_str().unwrap().to_string()
    }

    fn acl_status(s: &Alb, id: &str, now: Instant) -> String {
        let v = send(s, "ListAcls", &[("AclIds.1", id)], now).unwrap();
        v["Acls"][0]["AclStatus"].as_str().unwrap_or("gone").to_string()
    }

    #[test]
    fn acl_is_created_then_available_and_busy_until_then() {
        let s = svc();
        let t0 = Instant::now();
        let id = acl(&s, "web-acl", t0);
        assert!(id.starts_with("acl-"));
        assert_eq!(acl_status(&s, &id, t0), "Creating");
        let add = [("AclId", id.as_str()), ("AclEntries.1.Entry", "10.0.0.0/8")];
        assert_eq!(code(send(&s, "AddEntriesToAcl", &add, t0)), "IncorrectStatus.Acl");
        let t1 = t0 + DELAY + PAST;
        assert_eq!(acl_status(&s, &id, t1), "Available");
        send(&s, "AddEntriesToAcl", &add, t1).unwrap();
        assert_eq!(acl_status(&s, &id, t1), "Configuring");
        let entries = send(&s, "ListAclEntries", &[("AclId", id.as_str())], t1).unwrap();
        assert_eq!(entries["AclEntries"][0]["Status"], "Adding");
        let t2 = t1 + DELAY + PAST;
        let entries = send(&s, "ListAclEntries", &[("AclId", id.as_str())], t2).unwrap();
        assert_eq!(entries["AclEntries"][0]["Entry"], "10.0.0.0/8");
        assert_eq!(entries["AclEntries"][0]["Status"], "Available");
        assert_eq!(
            code(send(&s, "AddEntriesToAcl", &add, t2)),
            "ResourceAlreadyExist.AclEntry"
        );
        let remove = [("AclId", id.as_str()), ("Entries.1", "192.168.0.0/16")];
        assert_eq!(
            code(send(&s, "RemoveEntriesFromAcl", &remove, t2)),
            "ResourceNotFound.AclEntry"
        );
    }

    #[test]
    fn acl_parameters_answer_the_vendor_codes() {
        let s = svc();
        let t0 = Instant::now();
        assert_eq!(
            code(send(&s, "CreateAcl", &[("AclName", "1bad")], t0)),
            "InvalidParameter"
        );
        assert_eq!(code(send(&s, "CreateAcl", &[], t0)), "MissingParameter");
        let id = acl(&s, "ok", t0);
        let t1 = t0 + DELAY + PAST;
        let bad = [("AclId", id.as_str()), ("AclEntries.1.Entry", "10.0.0.300/8")];
        assert_eq!(code(send(&s, "AddEntriesToAcl", &bad, t1)), "InvalidParameter");
        let keys: Vec<String> = (1..=21).map(|i| format!("AclEntries.{i}.Entry")).collect();
        let values: Vec<String> = (1..=21).map(|i| format!("10.0.{i}.0/24")).collect();
        let mut many: Vec<(&str, &str)> = keys
            .iter()
            .map(String::as_str)
            .zip(values.iter().map(String::as_str))
            .collect();
        many.push(("AclId", id.as_str()));
        assert_eq!(code(send(&s, "AddEntriesToAcl", &many, t1)), "InvalidParameter");
        assert_eq!(
            code(send(&s, "DeleteAcl", &[("AclId", "acl-missing")], t1)),
            "ResourceNotFound.Acl"
        );
    }

    #[test]
    fn an_acl_holds_at_most_a_thousand_entries() {
        let s = svc();
        let mut now = Instant::now();
        let id = acl(&s, "big", now);
        now += DELAY + PAST;
        for chunk in 0..50 {
            let keys: Vec<String> = (1..=20).map(|i| format!("AclEntries.{i}.Entry")).collect();
            let values: Vec<String> = (0..20).map(|i| format!("10.{chunk}.{i}.0/24")).collect();
            let mut pairs: Vec<(&str, &str)> = keys
                .iter()
                .map(String::as_str)
                .zip(values.iter().map(String::as_str))
                .collect();
            pairs.push(("AclId", id.as_str()));
            send(&s, "AddEntriesToAcl", &pairs, now).expect("within the quota");
            now += DELAY + PAST;
        }
        let one_more = [("AclId", id.as_str()), ("AclEntries.1.Entry", "172.16.0.0/12")];
        assert_eq!(
            code(send(&s, "AddEntriesToAcl", &one_more, now)),
            "QuotaExceeded.AclEntriesNum"
        );
    }

    #[test]
    fn association_is_a_listener_update_with_one_list_type_and_three_acls() {
        let s = svc();
        let t0 = Instant::now();
        let l = listener(&s, t0);
        let ids: Vec<String> = (0..4).map(|i| acl(&s, &format!("a{i}"), t0)).collect();
        let t1 = t0 + DELAY + PAST;
        let assoc = |acl: &str, kind: &str, now| {
            send(
                &s,
                "AssociateAclsWithListener",
                &[("ListenerId", l.as_str()), ("AclIds.1", acl), ("AclType", kind)],
                now,
            )
        };
        assert_eq!(code(assoc(&ids[0], "Grey", t1)), "InvalidParameter");
        assoc(&ids[0], "White", t1).unwrap();
        let attr = send(&s, "GetListenerAttribute", &[("ListenerId", l.as_str())], t1).unwrap();
        assert_eq!(attr["ListenerStatus"], "Configuring");
        assert_eq!(attr["AclConfig"]["AclRelations"][0]["Status"], "Associating");
        assert_eq!(
            code(send(&s, "DeleteAcl", &[("AclId", ids[0].as_str())], t1)),
            "ResourceInUse.Acl"
        );
        let t2 = t1 + DELAY + PAST;
        let attr = send(&s, "GetListenerAttribute", &[("ListenerId", l.as_str())], t2).unwrap();
        assert_eq!(attr["AclConfig"]["AclType"], "White");
        assert_eq!(attr["AclConfig"]["AclRelations"][0]["Status"], "Associated");
        assert_eq!(code(assoc(&ids[0], "White", t2)), "ResourceAlreadyAssociated.Acl");
        assert_eq!(code(assoc(&ids[1], "Black", t2)), "OperationDenied.AclTypeConflict");
        assoc(&ids[1], "White", t2).unwrap();
        let t3 = t2 + DELAY + PAST;
        assoc(&ids[2], "White", t3).unwrap();
        let t4 = t3 + DELAY + PAST;
        assert_eq!(code(assoc(&ids[3], "White", t4)), "QuotaExceeded.ListenerAclsNum");
        let dissociate = |acl: &str, now| {
            send(
                &s,
                "DissociateAclsFromListener",
                &[("ListenerId", l.as_str()), ("AclIds.1", acl)],
                now,
            )
        };
        assert_eq!(code(dissociate(&ids[3], t4)), "ResourceNotAssociated.Acl");
        dissociate(&ids[0], t4).unwrap();
        let t5 = t4 + DELAY + PAST;
        send(&s, "DeleteAcl", &[("AclId", ids[0].as_str())], t5).unwrap();
        assert_eq!(acl_status(&s, &ids[0], t5), "Deleting");
        assert_eq!(acl_status(&s, &ids[0], t5 + DELAY + PAST), "gone");
    }

    #[test]
    fn log_settings_need_the_instance_access_log() {
        let s = svc();
        let t0 = Instant::now();
        let l = listener(&s, t0);
        let t1 = t0 + DELAY + PAST;
        let on = [
            ("ListenerId", l.as_str()),
            ("AccessLogTracingConfig.TracingEnabled", "true"),
            ("AccessLogTracingConfig.TracingSample", "100"),
            ("AccessLogTracingConfig.TracingType", "Zipkin"),
        ];
        assert_eq!(
            code(send(&s, "UpdateListenerLogConfig", &on, t1)),
            "OperationDenied.AccessLogDisabled"
        );
        let enable = [("LoadBalancerId", LB), ("LogProject", "p"), ("LogStore", "s")];
        send(&s, "EnableLoadBalancerAccessLog", &enable, t1).unwrap();
        let mut bad = on;
        bad[2].1 = "10001";
        assert_eq!(code(send(&s, "UpdateListenerLogConfig", &bad, t1)), "InvalidParameter");
        send(&s, "UpdateListenerLogConfig", &on, t1).unwrap();
        let t2 = t1 + DELAY + PAST;
        let attr = send(&s, "GetListenerAttribute", &[("ListenerId", l.as_str())], t2).unwrap();
        let tracing = &attr["LogConfig"]["AccessLogTracingConfig"];
        assert_eq!(tracing["TracingEnabled"], true);
        assert_eq!(tracing["TracingSample"], 100);
        assert_eq!(tracing["TracingType"], "Zipkin");
        assert_eq!(attr["LogConfig"]["AccessLogRecordCustomizedHeadersEnabled"], false);
    }
}
