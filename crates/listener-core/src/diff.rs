//! Field-level comparison of two specs.
//!
//! Plans compare what the user wrote against what the cloud reports. The
//! user leaves most fields unset, meaning "the vendor's default", so only
//! fields present in the desired spec are compared; lists (ports,
//! certificates) compare as a whole. A few sections are features whose
//! absence means **off** (see [`ABSENCE_MEANS_OFF`]): removing them from the
//! file must switch the feature off, so their absence is compared too.

use serde::Serialize;
use serde_json::Value;

use crate::spec::ListenerSpec;

/// One field that differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    /// Spec path, e.g. `tls.certificates`.
    pub path: String,
    /// The current value (`null` when the cloud reports none).
    pub from: Value,
    /// The desired value.
    pub to: Value,
}

/// Sections whose absence from the desired spec means the feature is off
/// (mutual TLS, session persistence, source-address access control), as
/// opposed to "vendor default". Each is compared only when its parent is
/// present in the desired spec.
pub const ABSENCE_MEANS_OFF: [&str; 3] = ["tls.client_auth", "session_persistence", "access"];

/// Fields set in `desired` whose value differs in `current`, plus the
/// [`ABSENCE_MEANS_OFF`] sections that `current` has and `desired` lacks.
pub fn diff_specs(current: &ListenerSpec, desired: &ListenerSpec) -> Vec<FieldChange> {
    let cur = serde_json::to_value(current).unwrap_or(Value::Null);
    let want = serde_json::to_value(desired).unwrap_or(Value::Null);
    let mut out = Vec::new();
    walk("", &cur, &want, &mut out);
    for path in ABSENCE_MEANS_OFF {
        let (parent, leaf) = path.rsplit_once('.').unwrap_or(("", path));
        let parent_of = |v: &Value| {
            if parent.is_empty() {
                Some(v.clone())
            } else {
                v.pointer(&format!("/{}", parent.replace('.', "/"))).cloned()
            }
        };
        let (Some(want_parent), Some(cur_parent)) = (parent_of(&want), parent_of(&cur)) else {
            continue;
        };
        let had = cur_parent.get(leaf).is_some_and(|v| !v.is_null());
        let wants = want_parent.get(leaf).is_some_and(|v| !v.is_null());
        if had && !wants && !want_parent.is_null() {
            out.push(FieldChange {
                path: path.to_string(),
                from: cur_parent.get(leaf).cloned().unwrap_or(Value::Null),
                to: Value::Null,
            });
        }
    }
    out
}

/// Fields set in `desired` whose value differs in `current`, for any
/// section (a pool's health check), named under `path`: as
/// [`diff_specs`] compares a listener, unset meaning "the vendor's
/// default".
pub fn diff_values(path: &str, current: &Value, desired: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    walk(path, current, desired, &mut out);
    out
}

/// Paths compared as a whole even though they are maps: a tag set present
/// in the desired spec is the listener's whole set, so a key the cloud has
/// and the file lacks is a change too.
const WHOLE_MAPS: [&str; 1] = ["tags"];

fn walk(path: &str, cur: &Value, want: &Value, out: &mut Vec<FieldChange>) {
    match want {
        Value::Null => {}
        Value::Object(map) if !WHOLE_MAPS.contains(&path) => {
            for (k, v) in map {
                let child = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                let c = cur.get(k).unwrap_or(&Value::Null);
                walk(&child, c, v, out);
            }
        }
        _ => {
            if cur != want
                && !(path == "ports" && same_ports(cur, want))
                && !(SETS.contains(&path) && same_set(cur, want))
            {
                out.push(FieldChange {
                    path: path.to_string(),
                    from: cur.clone(),
                    to: want.clone(),
                });
            }
        }
    }
}

/// Lists whose order means nothing: the cloud may answer them in another
/// order than the file's.
const SETS: [&str; 1] = ["access.cidrs"];

fn same_set(a: &Value, b: &Value) -> bool {
    let sorted = |v: &Value| {
        v.as_array().map(|items| {
            let mut s: Vec<String> = items.iter().map(Value::to_string).collect();
            s.sort();
            s
        })
    };
    matches!((sorted(a), sorted(b)), (Some(x), Some(y)) if x == y)
}

/// `443`, `[443]` and `{from=443,to=443}` name the same port.
fn same_ports(a: &Value, b: &Value) -> bool {
    let parse = |v: &Value| {
        serde_json::from_value::<crate::spec::Ports>(v.clone())
            .ok()
            .map(|p| p.ranges())
    };
    matches!((parse(a), parse(b)), (Some(x), Some(y)) if x == y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Ports, Protocol, Scheduler};

    #[test]
    fn unset_desired_fields_are_not_compared() {
        let mut current = ListenerSpec::new("a", Protocol::Tcp, Ports::Single(80));
        current.scheduler = Some(Scheduler::WeightedRoundRobin);
        let desired = ListenerSpec::new("a", Protocol::Tcp, Ports::List(vec![crate::spec::PortEntry::Port(80)]));
        assert!(diff_specs(&current, &desired).is_empty());
    }

    #[test]
    fn removing_mutual_tls_or_persistence_switches_them_off() {
        use crate::spec::{AffinityKey, ClientAuth, ClientVerify, SessionPersistence, Tls};
        let mut current = ListenerSpec::new("a", Protocol::Https, Ports::Single(443));
        current.tls = Some(Tls {
            certificates: vec!["c".into()],
            policy: None,
            http2: None,
            http3: None,
            sni: None,
            client_auth: Some(ClientAuth {
                verify: ClientVerify::Required,
                ca_certificates: vec!["ca".into()],
            }),
        });
        current.session_persistence = Some(SessionPersistence {
            by: AffinityKey::SourceIp,
            timeout_secs: None,
        });
        let mut desired = current.clone();
        desired.tls.as_mut().unwrap().client_auth = None;
        desired.session_persistence = None;
        let paths: Vec<_> = diff_specs(&current, &desired).into_iter().map(|c| c.path).collect();
        assert_eq!(paths, vec!["tls.client_auth", "session_persistence"]);
        // Other unset fields keep meaning "vendor default".
        let mut plain = current.clone();
        plain.scheduler = Some(Scheduler::RoundRobin);
        let mut want = plain.clone();
        want.scheduler = None;
        assert!(diff_specs(&plain, &want).is_empty());
    }

    #[test]
    fn access_cidrs_compare_as_a_set_and_removing_access_is_a_change() {
        use crate::spec::{Access, AccessMode};
        let mut current = ListenerSpec::new("a", Protocol::Http, Ports::Single(80));
        current.access = Some(Access {
            mode: AccessMode::Allow,
            cidrs: vec!["10.0.0.0/8".into(), "192.168.0.0/16".into()],
        });
        let mut desired = current.clone();
        desired.access.as_mut().unwrap().cidrs.reverse();
        assert!(diff_specs(&current, &desired).is_empty());
        desired.access.as_mut().unwrap().mode = AccessMode::Deny;
        let changes = diff_specs(&current, &desired);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].path, "access.mode");
        desired.access = None;
        let changes = diff_specs(&current, &desired);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].path, "access");
        assert_eq!(changes[0].to, Value::Null);
    }

    #[test]
    fn a_tag_set_is_compared_whole_and_absence_leaves_tags_alone() {
        let mut current = ListenerSpec::new("a", Protocol::Http, Ports::Single(80));
        current.tags.insert("team".into(), "web".into());
        current.tags.insert("cost".into(), "ops".into());
        let mut desired = current.clone();
        desired.tags.remove("cost");
        let changes = diff_specs(&current, &desired);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].path, "tags");
        assert_eq!(changes[0].to, serde_json::json!({"team": "web"}));
        desired.tags.clear();
        assert!(diff_specs(&current, &desired).is_empty());
    }

    #[test]
    fn changed_nested_field_is_reported_by_path() {
        let current = ListenerSpec::new("a", Protocol::Tcp, Ports::Single(80));
        let mut desired = current.clone();
        desired.name = "b".into();
        desired.scheduler = Some(Scheduler::LeastConnections);
        let paths: Vec<_> = diff_specs(&current, &desired).into_iter().map(|c| c.path).collect();
        assert_eq!(paths, vec!["name", "scheduler"]);
    }
}
