//! GA access control lists, a child of the GA service (its own file so the
//! ACL actions read as one piece).
//!
//! ACLs (`nacl-…`) belong to the account (region `cn-hangzhou`), hold
//! entries of one IP version (`AddressIPVersion`), and a listener uses up to
//! three of them as a whitelist (`White`) or a blacklist (`Black`). Rules
//! and codes:
//!
//! | rule | code | source |
//! |---|---|---|
//! | `AddressIPVersion` other than IPv4/IPv6; an entry not an address or CIDR of that version; more than 50 entries in one call; more than 3 `AclIds`; `AclType` other than White/Black; `AclName` not 1–128 characters starting with a letter | `InvalidParameter` | SDK model CreateAclRequest; AssociateAclsWithListener ("at most 3") |
//! | unknown ACL | `NotExist.Acl` | emulator's, after GA's `NotExist.Listener` |
//! | a write to an ACL that is `Provisioning`/`Configuring`/`Deleting` | `StateError.Acl` | emulator's, after GA's `StateError.Accelerator` |
//! | more than 20 entries in one ACL (default quota) | `QuotaExceeded.AclEntry` | limit: GetAcl ("at most 20 entries"); code: emulator's |
//! | more than 3 ACLs on a listener; white and black lists at once | `QuotaExceeded.ListenerAcl` / `Conflict.AclType` | emulator's |
//! | an ACL already on / not on the listener | `Exist.AclRelation` / `NotExist.AclRelation` | emulator's |
//! | `DeleteAcl` of an ACL a listener uses | `ResourceInUse.Acl` | emulator's |
//! | a listener that is not `active` | `NotActive.Listener` | GA's |
//!
//! `CreateAcl` leaves the ACL `Provisioning`, entry changes `Configuring`,
//! `DeleteAcl` `Deleting`, each for the matching delay; association puts the
//! listener in `updating` for the update delay. GA answers no job: clients
//! poll `GetAcl` and `DescribeListener`.

use std::net::IpAddr;
use std::time::Instant;

use serde_json::{json, Value};

use super::{check_region, integer, invalid, required, text, Ga, Listener, Phase, State};
use crate::service::{ApiError, Call, Context};

/// Entries one call adds or removes.
pub const ENTRIES_PER_CALL: usize = 50;
/// Entries one ACL holds by default.
pub const ENTRIES_PER_ACL: usize = 20;
/// ACLs one listener uses.
pub const ACLS_PER_LISTENER: usize = 3;

#[derive(Debug, Clone)]
enum AclPhase {
    Available,
    Provisioning {
        until: Instant,
        fail: bool,
    },
    Configuring {
        until: Instant,
        previous: Option<Vec<(String, String)>>,
    },
    Deleting {
        until: Instant,
        fail: bool,
    },
}

/// One ACL.
#[derive(Debug, Clone)]
pub(super) struct Acl {
    id: String,
    name: String,
    version: String,
    tags: Vec<(String, String)>,
    entries: Vec<(String, String)>,
    seq: u64,
    phase: AclPhase,
}

impl Acl {
    fn status(&self) -> &'static str {
        match self.phase {
            AclPhase::Available => "Available",
            AclPhase::Provisioning { .. } => "Provisioning",
            AclPhase::Configuring { .. } => "Configuring",
            AclPhase::Deleting { .. } => "Deleting",
        }
    }

    fn summary(&self) -> Value {
        let tags: Vec<Value> = self.tags.iter().map(|(k, v)| json!({ "Key": k, "Value": v })).collect();
        json!({
            "AclId": self.id,
            "AclName": self.name,
            "AclStatus": self.status(),
            "AddressIPVersion": self.version,
            "Tags": tags,
        })
    }
}

/// The listener's ACL use.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct AclUse {
    pub kind: Option<String>,
    pub ids: Vec<String>,
}

/// `RelatedAcls` and `AclType` of `DescribeListener`.
pub(super) fn describe_parts(l: &Listener) -> (Value, Option<String>) {
    let related: Vec<Value> = l
        .config
        .acls
        .ids
        .iter()
        .map(|id| json!({ "AclId": id, "Status": "Associated" }))
        .collect();
    (Value::Array(related), l.config.acls.kind.clone())
}

fn busy(id: &str, status: &str) -> ApiError {
    ApiError::new("StateError.Acl", format!("The state of ACL {id} is {status}."))
}

fn not_exist(id: &str) -> ApiError {
    ApiError::new("NotExist.Acl", format!("The ACL {id} does not exist."))
}

/// An address or CIDR of `version` (`IPv4`/`IPv6`).
fn entry_ok(entry: &str, version: &str) -> bool {
    let (addr, len) = match entry.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (entry, None),
    };
    let Ok(ip) = addr.parse::<IpAddr>() else { return false };
    let width = if ip.is_ipv4() { 32 } else { 128 };
    let version_ok = if version.eq_ignore_ascii_case("IPv4") {
        ip.is_ipv4()
    } else {
        ip.is_ipv6()
    };
    version_ok && len.is_none_or(|l| l.parse::<u32>().is_ok_and(|n| n <= width))
}

fn entries_of(p: &Value) -> Vec<(String, String)> {
    p.get("AclEntries")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let entry = e.get("Entry").and_then(Value::as_str)?;
            let d = e.get("EntryDescription").and_then(Value::as_str).unwrap_or("");
            Some((entry.to_string(), d.to_string()))
        })
        .collect()
}

fn ids_of(p: &Value, key: &str) -> Vec<String> {
    p.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

impl State {
    /// Finish ACL work whose time has come.
    pub(super) fn settle_acls(&mut self, now: Instant) {
        let mut gone = Vec::new();
        for (id, a) in self.acls.iter_mut() {
            match &mut a.phase {
                AclPhase::Provisioning { until, fail } if now >= *until => {
                    if *fail {
                        gone.push(id.clone());
                    } else {
                        a.phase = AclPhase::Available;
                    }
                }
                AclPhase::Configuring { until, previous } if now >= *until => {
                    if let Some(old) = previous.take() {
                        a.entries = old;
                    }
                    a.phase = AclPhase::Available;
                }
                AclPhase::Deleting { until, fail } if now >= *until => {
                    if *fail {
                        a.phase = AclPhase::Available;
                    } else {
                        gone.push(id.clone());
                    }
                }
                _ => {}
            }
        }
        for id in gone {
            self.acls.remove(&id);
        }
    }

    fn new_acl_id(&mut self) -> String {
        loop {
            self.next += 1;
            let mut x = self.next.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let mut id = String::from("nacl-");
            for _ in 0..20 {
                x ^= x >> 31;
                x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
                x ^= x >> 29;
                id.push(char::from_digit((x % 36) as u32, 36).unwrap_or('0'));
            }
            if !self.acls.contains_key(&id) {
                return id;
            }
        }
    }

    fn writable_acl(&self, id: &str) -> Result<&Acl, ApiError> {
        let a = self.acls.get(id).ok_or_else(|| not_exist(id))?;
        if !matches!(a.phase, AclPhase::Available) {
            return Err(busy(id, a.status()));
        }
        Ok(a)
    }
}

impl Ga {
    /// Run `act` under the family's `ClientToken` rule.
    pub(super) fn with_token(
        &self,
        call: &Call,
        act: impl FnOnce(&mut State) -> Result<Value, ApiError>,
    ) -> Result<Value, ApiError> {
        check_region(&call.params)?;
        let mut state = self.lock();
        state.settle(call.now);
        state.settle_acls(call.now);
        if let Some(answer) = state.tokens.replay(call)? {
            return Ok(answer);
        }
        let answer = act(&mut state)?;
        state.tokens.remember(call, &answer);
        Ok(answer)
    }

    /// `CreateAcl`, with optional first entries and tags.
    pub(super) fn create_acl(&self, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
        let p = &call.params;
        let version = required(p, "AddressIPVersion")?.to_string();
        if !version.eq_ignore_ascii_case("IPv4") && !version.eq_ignore_ascii_case("IPv6") {
            return Err(invalid("AddressIPVersion must be IPv4 or IPv6."));
        }
        let name = text(p, "AclName").unwrap_or("").to_string();
        if !name.is_empty() && (name.chars().count() > 128 || !name.starts_with(|c: char| c.is_alphabetic())) {
            return Err(invalid("The specified AclName is invalid."));
        }
        let entries = entries_of(p);
        if entries.len() > ENTRIES_PER_CALL {
            return Err(invalid(format!("At most {ENTRIES_PER_CALL} entries per call.")));
        }
        if let Some((bad, _)) = entries.iter().find(|(e, _)| !entry_ok(e, &version)) {
            return Err(invalid(format!(
                "The entry `{bad}` is not an {version} address or CIDR block."
            )));
        }
        if entries.len() > ENTRIES_PER_ACL {
            return Err(ApiError::new("QuotaExceeded.AclEntry", "Too many entries for one ACL."));
        }
        let tags: Vec<(String, String)> = p
            .get("Tag")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|t| {
                let k = t.get("Key").and_then(Value::as_str)?;
                Some((
                    k.to_string(),
                    t.get("Value").and_then(Value::as_str).unwrap_or("").to_string(),
                ))
            })
            .collect();
        let fail = ctx.fail_task();
        let until = call.now + ctx.timing().create;
        self.with_token(call, |state| {
            let id = state.new_acl_id();
            state.next += 1;
            let seq = state.next;
            state.acls.insert(
                id.clone(),
                Acl {
                    id: id.clone(),
                    name,
                    version,
                    tags,
                    entries,
                    seq,
                    phase: AclPhase::Provisioning { until, fail },
                },
            );
            Ok(json!({ "AclId": id }))
        })
    }

    /// `AddEntriesToAcl` (`add`) or `RemoveEntriesFromAcl`.
    pub(super) fn change_acl_entries(&self, ctx: &mut dyn Context, call: &Call, add: bool) -> Result<Value, ApiError> {
        let p = &call.params;
        let id = required(p, "AclId")?.to_string();
        let asked = entries_of(p);
        if asked.is_empty() {
            return Err(ApiError::missing_parameter("AclEntries.1.Entry"));
        }
        if asked.len() > ENTRIES_PER_CALL {
            return Err(invalid(format!("At most {ENTRIES_PER_CALL} entries per call.")));
        }
        let fail = ctx.fail_task();
        let until = call.now + ctx.timing().update;
        self.with_token(call, |state| {
            let a = state.writable_acl(&id)?;
            if let Some((bad, _)) = asked.iter().find(|(e, _)| !entry_ok(e, &a.version)) {
                return Err(invalid(format!(
                    "The entry `{bad}` is not an {} address or CIDR block.",
                    a.version
                )));
            }
            let mut next = a.entries.clone();
            for (e, d) in &asked {
                let present = next.iter().any(|(have, _)| have == e);
                match (add, present) {
                    (true, true) => return Err(ApiError::new("Exist.AclEntry", format!("The entry {e} exists."))),
                    (false, false) => {
                        return Err(ApiError::new(
                            "NotExist.AclEntry",
                            format!("The entry {e} does not exist."),
                        ))
                    }
                    (true, false) => next.push((e.clone(), d.clone())),
                    (false, true) => next.retain(|(have, _)| have != e),
                }
            }
            if next.len() > ENTRIES_PER_ACL {
                return Err(ApiError::new(
                    "QuotaExceeded.AclEntry",
                    format!("An ACL holds at most {ENTRIES_PER_ACL} entries."),
                ));
            }
            if let Some(a) = state.acls.get_mut(&id) {
                let previous = fail.then(|| a.entries.clone());
                a.entries = next;
                a.phase = AclPhase::Configuring { until, previous };
            }
            Ok(json!({ "AclId": id }))
        })
    }

    /// `DeleteAcl`: refused while a listener uses the ACL.
    pub(super) fn delete_acl(&self, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
        let id = required(&call.params, "AclId")?.to_string();
        let fail = ctx.fail_task();
        let until = call.now + ctx.timing().delete;
        self.with_token(call, |state| {
            state.writable_acl(&id)?;
            if state.listeners.values().any(|l| l.config.acls.ids.contains(&id)) {
                return Err(ApiError::new("ResourceInUse.Acl", format!("The ACL {id} is in use.")));
            }
            if let Some(a) = state.acls.get_mut(&id) {
                a.phase = AclPhase::Deleting { until, fail };
            }
            Ok(json!({}))
        })
    }

    /// `AssociateAclsWithListener` / `DissociateAclsFromListener`: the
    /// listener is `updating` for the update delay.
    pub(super) fn acl_association(
        &self,
        ctx: &mut dyn Context,
        call: &Call,
        associate: bool,
    ) -> Result<Value, ApiError> {
        let p = &call.params;
        let listener = required(p, "ListenerId")?.to_string();
        let ids = ids_of(p, "AclIds");
        if ids.is_empty() {
            return Err(ApiError::missing_parameter("AclIds.1"));
        }
        if ids.len() > ACLS_PER_LISTENER {
            return Err(invalid(format!("At most {ACLS_PER_LISTENER} AclIds.")));
        }
        let kind = if associate {
            let k = required(p, "AclType")?;
            if k.eq_ignore_ascii_case("white") {
                Some("White".to_string())
            } else if k.eq_ignore_ascii_case("black") {
                Some("Black".to_string())
            } else {
                return Err(invalid("AclType must be White or Black."));
            }
        } else {
            None
        };
        let fail = ctx.fail_task();
        let until = call.now + ctx.timing().update;
        self.with_token(call, |state| {
            let l = state.listeners.get(&listener).ok_or_else(super::not_exist_listener)?;
            if !matches!(l.phase, Phase::Active) {
                return Err(ApiError::new(
                    "NotActive.Listener",
                    "The state of the listener is not active.",
                ));
            }
            let mut next = l.config.clone();
            for id in &ids {
                let on = next.acls.ids.contains(id);
                if associate {
                    let a = state.acls.get(id).ok_or_else(|| not_exist(id))?;
                    if !matches!(a.phase, AclPhase::Available) {
                        return Err(busy(id, a.status()));
                    }
                    if on {
                        return Err(ApiError::new(
                            "Exist.AclRelation",
                            format!("{id} is already associated."),
                        ));
                    }
                } else if !on {
                    return Err(ApiError::new(
                        "NotExist.AclRelation",
                        format!("{id} is not associated."),
                    ));
                }
            }
            if associate {
                if !next.acls.ids.is_empty() && next.acls.kind != kind {
                    return Err(ApiError::new(
                        "Conflict.AclType",
                        "A listener uses white or black lists, not both.",
                    ));
                }
                if next.acls.ids.len() + ids.len() > ACLS_PER_LISTENER {
                    return Err(ApiError::new(
                        "QuotaExceeded.ListenerAcl",
                        format!("A listener uses at most {ACLS_PER_LISTENER} ACLs."),
                    ));
                }
                next.acls.ids.extend(ids.iter().cloned());
                next.acls.kind = kind;
            } else {
                next.acls.ids.retain(|a| !ids.contains(a));
                if next.acls.ids.is_empty() {
                    next.acls.kind = None;
                }
            }
            if let Some(l) = state.listeners.get_mut(&listener) {
                let previous = fail.then(|| Box::new(l.config.clone()));
                l.config = next;
                l.phase = Phase::Updating { until, previous };
            }
            Ok(json!({ "AclIds": ids, "ListenerId": listener }))
        })
    }

    /// `GetAcl`: the ACL, its entries and the listeners using it.
    pub(super) fn get_acl(&self, call: &Call) -> Result<Value, ApiError> {
        check_region(&call.params)?;
        let id = required(&call.params, "AclId")?;
        let mut state = self.lock();
        state.settle(call.now);
        state.settle_acls(call.now);
        let a = state.acls.get(id).ok_or_else(|| not_exist(id))?;
        let mut v = a.summary();
        v["AclEntries"] = a
            .entries
            .iter()
            .map(|(e, d)| json!({ "Entry": e, "EntryDescription": d }))
            .collect();
        v["RelatedListeners"] = state
            .listeners
            .values()
            .filter(|l| l.config.acls.ids.iter().any(|x| x == id))
            .map(|l| json!({ "ListenerId": l.id, "AclType": l.config.acls.kind, "AcceleratorId": l.accelerator }))
            .collect();
        Ok(v)
    }

    /// `ListAcls` filtered by `AclIds` and `AclName`, paged by
    /// `MaxResults`/`NextToken`.
    pub(super) fn list_acls(&self, call: &Call) -> Result<Value, ApiError> {
        let p = &call.params;
        check_region(p)?;
        let ids = ids_of(p, "AclIds");
        let name = text(p, "AclName");
        let size = integer(p, "MaxResults")?.unwrap_or(20).clamp(1, 100) as usize;
        let start: usize = match text(p, "NextToken") {
            Some(t) => t.parse().map_err(|_| invalid("The NextToken is invalid."))?,
            None => 0,
        };
        let mut state = self.lock();
        state.settle(call.now);
        state.settle_acls(call.now);
        let mut matching: Vec<&Acl> = state
            .acls
            .values()
            .filter(|a| ids.is_empty() || ids.contains(&a.id))
            .filter(|a| name.is_none_or(|n| n == a.name))
            .collect();
        matching.sort_by_key(|a| a.seq);
        let items: Vec<Value> = matching.iter().skip(start).take(size).map(|a| a.summary()).collect();
        let mut v = json!({ "Acls": items, "TotalCount": matching.len(), "MaxResults": size });
        if start + size < matching.len() {
            v["NextToken"] = json!((start + size).to_string());
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use super::super::REGION;
    use super::*;
    use crate::context::ManualContext;
    use crate::service::{InstanceSeed, Service, Timing};

    const ACC: &str = "ga-acltest0000001";
    const DELAY: Duration = Duration::from_millis(50);

    fn send(ga: &Ga, action: &str, pairs: &[(&str, &str)], now: Instant) -> Result<Value, ApiError> {
        let mut all = vec![("RegionId", REGION)];
        all.extend_from_slice(pairs);
        let flat: BTreeMap<String, String> = all.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let list: Vec<(String, String)> = flat.clone().into_iter().collect();
        let call = Call {
            action: action.into(),
            params: crate::decode::unflatten(&list),
            flat,
            region: Some(REGION.into()),
            request_id: "req".into(),
            now,
        };
        let mut ctx = ManualContext::new(Timing {
            create: DELAY,
            update: DELAY,
            delete: DELAY,
        });
        ga.handle(&mut ctx, &call)
    }

    fn code(r: Result<Value, ApiError>) -> String {
        r.map(|v| format!("ok {v}")).unwrap_or_else(|e| e.code)
    }

    #[test]
    fn acls_hold_one_ip_version_and_associate_as_white_or_black_lists() {
        let ga = Ga::new();
        ga.seed(InstanceSeed {
            id: ACC.into(),
            server_groups: vec![],
        });
        let t0 = Instant::now();
        let l = send(
            &ga,
            "CreateListener",
            &[
                ("AcceleratorId", ACC),
                ("Protocol", "tcp"),
                ("PortRanges.1.FromPort", "80"),
                ("PortRanges.1.ToPort", "80"),
            ],
            t0,
        )
        .unwrap()["ListenerId"]
            .as_str()
            .unwrap()
            .to_string();
        let mixed = [("AddressIPVersion", "IPv4"), ("AclEntries.1.Entry", "2001:db8::/32")];
        assert_eq!(code(send(&ga, "CreateAcl", &mixed, t0)), "InvalidParameter");
        let acl = send(
            &ga,
            "CreateAcl",
            &[("AddressIPVersion", "IPv4"), ("AclEntries.1.Entry", "10.0.0.0/8")],
            t0,
        )
        .unwrap()["AclId"]
            .as_str()
            .unwrap()
            .to_string();
        let get = |now| send(&ga, "GetAcl", &[("AclId", acl.as_str())], now).unwrap();
        assert_eq!(get(t0)["AclStatus"], "Provisioning");
        let assoc = [
            ("ListenerId", l.as_str()),
            ("AclIds.1", acl.as_str()),
            ("AclType", "White"),
        ];
        assert_eq!(
            code(send(&ga, "AssociateAclsWithListener", &assoc, t0)),
            "NotActive.Listener"
        );
        let t1 = t0 + DELAY * 2;
        assert_eq!(get(t1)["AclStatus"], "Available");
        send(&ga, "AssociateAclsWithListener", &assoc, t1).unwrap();
        let d = send(&ga, "DescribeListener", &[("ListenerId", l.as_str())], t1).unwrap();
        assert_eq!(d["State"], "updating");
        assert_eq!(d["AclType"], "White");
        assert_eq!(d["RelatedAcls"][0]["AclId"], acl.as_str());
        assert_eq!(
            code(send(&ga, "DeleteAcl", &[("AclId", acl.as_str())], t1)),
            "ResourceInUse.Acl"
        );
        let t2 = t1 + DELAY * 2;
        let many: Vec<String> = (0..20).map(|i| format!("10.1.{i}.0/24")).collect();
        let keys: Vec<String> = (1..=20).map(|i| format!("AclEntries.{i}.Entry")).collect();
        let mut pairs: Vec<(&str, &str)> = keys
            .iter()
            .map(String::as_str)
            .zip(many.iter().map(String::as_str))
            .collect();
        pairs.push(("AclId", acl.as_str()));
        assert_eq!(code(send(&ga, "AddEntriesToAcl", &pairs, t2)), "QuotaExceeded.AclEntry");
        let black = [
            ("ListenerId", l.as_str()),
            ("AclIds.1", acl.as_str()),
            ("AclType", "Black"),
        ];
        assert_eq!(
            code(send(&ga, "AssociateAclsWithListener", &black, t2)),
            "Exist.AclRelation"
        );
        send(
            &ga,
            "DissociateAclsFromListener",
            &[("ListenerId", l.as_str()), ("AclIds.1", acl.as_str())],
            t2,
        )
        .unwrap();
        let t3 = t2 + DELAY * 2;
        send(&ga, "DeleteAcl", &[("AclId", acl.as_str())], t3).unwrap();
        assert_eq!(
            code(send(&ga, "GetAcl", &[("AclId", acl.as_str())], t3 + DELAY * 2)),
            "NotExist.Acl"
        );
    }
}
