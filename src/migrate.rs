//! The migration report: could this file's listeners move to another cloud?
//!
//! The question that brings a platform team to this project is "what would
//! it take to move this to the other cloud?". The answer is derived, not
//! written down: the target profile's own offline check
//! ([`crate::check_set`], the same rules `apply` enforces, with the
//! vendor's rule names) says what it refuses, the two adapters'
//! declared [`Capabilities`] say what the target accepts but never reports
//! back, and the file says which settings only the source's API has
//! (`extensions.<source api>`). A table of vendor differences kept by hand
//! would drift from the adapters; this cannot.
//!
//! Per listener the verdict is one of [`Verdict`]; beside it, the aliases
//! the target profile must map before `apply` can send anything.

use serde::Serialize;
use serde_json::Value;

use listener_core::diff::diff_specs;
use listener_core::{Capabilities, ConfigFile, Error, ListenerSpec, ProfileConfig, Rejection, Result};

/// The rule name under which an adapter's check reports an alias its
/// profile does not map ([`listener_core::Aliases::check_spec`]).
const ALIAS_UNKNOWN: &str = "alias_unknown";

/// How one listener fares on the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The target takes it as written and keeps every setting (once the
    /// profile maps the aliases listed in the report).
    Identical,
    /// The target takes it, but some settings would not be kept: settings
    /// only the source's API has, or fields the target accepts without
    /// reporting them back.
    Lossy,
    /// The target refuses fields of it; it moves only if those are
    /// changed or dropped.
    NeedsChanges,
    /// The target refuses its protocol or ports: no edit of the other
    /// fields makes it fit.
    CannotMove,
}

impl Verdict {
    /// Whether `apply` on the target would take the listener as written.
    pub fn moves(self) -> bool {
        matches!(self, Verdict::Identical | Verdict::Lossy)
    }

    /// A short word for text output.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Identical => "identical",
            Verdict::Lossy => "lossy",
            Verdict::NeedsChanges => "needs changes",
            Verdict::CannotMove => "cannot move",
        }
    }
}

/// One field of one listener that does not carry over as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Spec path inside the listener (`tls.client_auth`, `protocol`).
    pub field: String,
    /// The rule: the target's vendor rule for a refusal, `vendor_only`
    /// for a source-only setting, `not_read_back` for a field the target
    /// accepts but never reports.
    pub rule: String,
    /// Why, in words.
    pub reason: String,
    /// The value in the file, where it says something.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

/// What the report says about one listener.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListenerMove {
    /// Index in the file's `listeners`.
    pub index: usize,
    /// The listener's name.
    pub name: String,
    /// Its protocol.
    pub protocol: String,
    /// Its ports, as text.
    pub ports: String,
    /// The verdict.
    pub verdict: Verdict,
    /// What the target refuses (its check's rejections, missing aliases
    /// aside).
    pub refused: Vec<Finding>,
    /// What the target would take but not keep.
    pub lost: Vec<Finding>,
}

/// An alias the file uses that the target profile does not map, and that
/// the target would send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AliasNeeded {
    /// `certificates` or `targets`.
    pub map: &'static str,
    /// The alias.
    pub alias: String,
    /// What it stands for on the source, to help find the counterpart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    /// Where the file uses it (`listeners[2].tls.certificates[0]`).
    pub used_at: Vec<String>,
}

/// A profile as the report names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Side {
    /// The profile's name.
    pub profile: String,
    /// Its API.
    pub api: String,
    /// Its instance.
    pub instance: String,
}

/// Counts per verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// [`Verdict::Identical`].
    pub identical: usize,
    /// [`Verdict::Lossy`].
    pub lossy: usize,
    /// [`Verdict::NeedsChanges`].
    pub needs_changes: usize,
    /// [`Verdict::CannotMove`].
    pub cannot_move: usize,
}

/// The whole report (also the `--output json` shape of `migrate`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MigrationReport {
    /// Where the listeners are.
    pub from: Side,
    /// Where they would go.
    pub to: Side,
    /// Every listener, in file order.
    pub listeners: Vec<ListenerMove>,
    /// Aliases to add to the target profile, in alias order.
    pub profile_additions: Vec<AliasNeeded>,
    /// Counts per verdict.
    pub counts: Counts,
}

impl MigrationReport {
    /// Whether every listener moves (possibly losing vendor-only
    /// settings); missing aliases aside, which are listed to add.
    pub fn all_move(&self) -> bool {
        self.listeners.iter().all(|l| l.verdict.moves())
    }

    /// The listener called `name`.
    pub fn listener(&self, name: &str) -> Option<&ListenerMove> {
        self.listeners.iter().find(|l| l.name == name)
    }
}

fn capabilities_of(api: &str, field: &str) -> Result<Capabilities> {
    crate::all_capabilities()
        .into_iter()
        .find(|c| c.api == api)
        .ok_or_else(|| Error::Config {
            field: field.into(),
            message: format!("the API `{api}` is unknown or not compiled into this build"),
        })
}

/// The report for moving `file`'s listeners from profile `from` to
/// profile `to` (both named in `file`). Offline: nothing is sent.
pub fn report(file: &ConfigFile, from: &str, to: &str) -> Result<MigrationReport> {
    let profile = |name: &str, flag: &str| {
        file.profiles.get(name).ok_or_else(|| Error::Config {
            field: flag.into(),
            message: format!(
                "no profile is named `{name}` (known: {})",
                file.profiles.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        })
    };
    let source = profile(from, "--from")?;
    let target = profile(to, "--to")?;
    crate::check_profile(target)?;
    let source_caps = capabilities_of(&source.api, "--from")?;
    let target_caps = capabilities_of(&target.api, "--to")?;
    let rejections = crate::check_set(target, &file.listeners)?;

    let mut listeners = Vec::with_capacity(file.listeners.len());
    let mut additions: Vec<AliasNeeded> = Vec::new();
    for (index, spec) in file.listeners.iter().enumerate() {
        let mut refused = Vec::new();
        for (_, r) in rejections.iter().filter(|(i, _)| *i == index) {
            if r.rule == ALIAS_UNKNOWN {
                if let Some((map, alias)) = alias_at(spec, &r.field) {
                    add_alias(&mut additions, map, alias, source, index, &r.field);
                    continue;
                }
            }
            refused.push(refusal(r));
        }
        // A field the target refuses is reported once, as refused.
        let lost: Vec<Finding> = losses(spec, &source_caps, &target_caps)
            .into_iter()
            .filter(|l| {
                !refused.iter().any(|r: &Finding| {
                    listener_core::capabilities::path_within(&l.field, &r.field)
                        || listener_core::capabilities::path_within(&r.field, &l.field)
                })
            })
            .collect();
        let identity =
            |f: &Finding| f.field == "protocol" || listener_core::capabilities::path_within(&f.field, "ports");
        let verdict = if refused.iter().any(identity) {
            Verdict::CannotMove
        } else if !refused.is_empty() {
            Verdict::NeedsChanges
        } else if !lost.is_empty() {
            Verdict::Lossy
        } else {
            Verdict::Identical
        };
        listeners.push(ListenerMove {
            index,
            name: spec.name.clone(),
            protocol: spec.protocol.as_str().to_string(),
            ports: spec
                .ports
                .ranges()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(","),
            verdict,
            refused,
            lost,
        });
    }
    additions.sort_by(|a, b| (a.map, &a.alias).cmp(&(b.map, &b.alias)));
    let mut counts = Counts::default();
    for l in &listeners {
        match l.verdict {
            Verdict::Identical => counts.identical += 1,
            Verdict::Lossy => counts.lossy += 1,
            Verdict::NeedsChanges => counts.needs_changes += 1,
            Verdict::CannotMove => counts.cannot_move += 1,
        }
    }
    let side = |name: &str, p: &ProfileConfig| Side {
        profile: name.to_string(),
        api: p.api.clone(),
        instance: p.instance.clone(),
    };
    Ok(MigrationReport {
        from: side(from, source),
        to: side(to, target),
        listeners,
        profile_additions: additions,
        counts,
    })
}

fn refusal(r: &Rejection) -> Finding {
    Finding {
        field: r.field.clone(),
        rule: r.rule.to_string(),
        reason: r.reason.clone(),
        value: None,
    }
}

/// The alias a rejection at `field` is about: the paths
/// [`listener_core::Aliases::check_spec`] reports.
fn alias_at<'a>(spec: &'a ListenerSpec, field: &str) -> Option<(&'static str, &'a str)> {
    let index = |prefix: &str| -> Option<usize> {
        field
            .strip_prefix(prefix)?
            .strip_prefix('[')?
            .strip_suffix(']')?
            .parse()
            .ok()
    };
    if field == "forwarding.default_target" {
        let t = spec.forwarding.as_ref()?.default_target.as_deref()?;
        return Some(("targets", t));
    }
    if let Some(i) = index("tls.certificates") {
        return spec.server_certificates().get(i).map(|a| ("certificates", a.as_str()));
    }
    if let Some(i) = index("tls.client_auth.ca_certificates") {
        return spec
            .client_auth()?
            .ca_certificates
            .get(i)
            .map(|a| ("certificates", a.as_str()));
    }
    None
}

fn add_alias(
    additions: &mut Vec<AliasNeeded>,
    map: &'static str,
    alias: &str,
    source: &ProfileConfig,
    index: usize,
    field: &str,
) {
    let at = format!("listeners[{index}].{field}");
    if let Some(a) = additions.iter_mut().find(|a| a.map == map && a.alias == alias) {
        a.used_at.push(at);
        return;
    }
    let source_id = match map {
        "targets" => source.aliases.target(alias),
        _ => source.aliases.certificate(alias),
    };
    additions.push(AliasNeeded {
        map,
        alias: alias.to_string(),
        source_id: source_id.map(str::to_string),
        used_at: vec![at],
    });
}

/// What the target would take but not keep: every setting of the
/// source's own extension section (the target's adapter never reads
/// another API's section), and every field the target declares
/// write-only that the source reads back. A value that is off (`false`,
/// `"none"`, zero, or negative: vendors write "unlimited" as `-1`) loses
/// nothing, nor does a value the source vendor reports for a setting
/// nobody set ([`Capabilities::vendor_defaults`]: GA's `standard` routing);
/// and `enabled = true` is what every listener of every supported API is.
/// None of these is listed.
fn losses(spec: &ListenerSpec, source: &Capabilities, target: &Capabilities) -> Vec<Finding> {
    // Blank name: a target that keeps no names (ALB) loses it too.
    let bare = ListenerSpec::new(String::new(), spec.protocol, spec.ports.clone());
    let own = format!("extensions.{}", source.api);
    let mut out = Vec::new();
    for change in diff_specs(&bare, spec) {
        let path = change.path;
        let value = change.to;
        let off = matches!(&value, Value::Bool(false) | Value::Null)
            || value.as_str() == Some("none")
            || value.as_f64().is_some_and(|n| n <= 0.0)
            || value.as_array().is_some_and(Vec::is_empty)
            || value.as_object().is_some_and(serde_json::Map::is_empty)
            || value.as_str().is_some_and(|v| source.is_vendor_default(&path, v));
        if listener_core::capabilities::path_within(&path, "extensions") {
            if source.api != target.api && listener_core::capabilities::path_within(&path, &own) && !off {
                out.push(Finding {
                    reason: format!(
                        "a setting only {} has; {} has no such setting, so it would not be carried",
                        source.api, target.api
                    ),
                    field: path,
                    rule: "vendor_only".into(),
                    value: Some(value),
                });
            }
            continue;
        }
        if path == "enabled" && value == Value::Bool(true) {
            continue;
        }
        if target.is_write_only(&path) && !source.is_write_only(&path) && !off {
            out.push(Finding {
                reason: format!(
                    "{} accepts it but never reports it back (it keeps this elsewhere or not at all), \
                     so it would not be kept or checked",
                    target.api
                ),
                field: path,
                rule: "not_read_back".into(),
                value: Some(value),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use listener_core::{Ports, Protocol};

    fn file(source_api: &str, target_api: &str, listeners: Vec<ListenerSpec>) -> ConfigFile {
        let mut profiles = std::collections::BTreeMap::new();
        let region = |api: &str| match api {
            "tencent-clb" => Some("ap-guangzhou".to_string()),
            "tencent-gaap" => None,
            _ => Some("cn-hangzhou".to_string()),
        };
        let instance = |api: &str| match api {
            "tencent-gaap" => "link-abc00001",
            "tencent-clb" => "lb-abc00001",
            "alibaba-alb" => "alb-abc0000001",
            _ => "ga-abc0000001",
        };
        for (name, api) in [("from", source_api), ("to", target_api)] {
            let mut p = ProfileConfig::new(api, instance(api));
            p.region = region(api);
            profiles.insert(name.to_string(), p);
        }
        ConfigFile {
            default_profile: None,
            profiles,
            backends: Default::default(),
            listeners,
        }
    }

    #[test]
    fn udp_to_alb_cannot_move_and_names_the_protocol() {
        let f = file(
            "tencent-gaap",
            "alibaba-alb",
            vec![ListenerSpec::new("dns", Protocol::Udp, Ports::Single(53))],
        );
        let r = report(&f, "from", "to").expect("report");
        let l = r.listener("dns").expect("listed");
        assert_eq!(l.verdict, Verdict::CannotMove);
        assert!(l.refused.iter().any(|f| f.field == "protocol"), "{:?}", l.refused);
        assert!(!r.all_move());
    }

    #[test]
    fn a_missing_certificate_alias_is_an_addition_not_a_refusal() {
        let mut spec = ListenerSpec::new("web", Protocol::Https, Ports::Single(443));
        spec.tls = Some(listener_core::Tls {
            certificates: vec!["web-cert".into()],
            policy: None,
            http2: None,
            http3: None,
            sni: None,
            client_auth: None,
        });
        spec.forwarding = Some(listener_core::Forwarding {
            backend_protocol: Some(listener_core::BackendProtocol::Http),
            default_target: None,
        });
        let mut f = file("tencent-clb", "tencent-gaap", vec![spec]);
        f.profiles
            .get_mut("from")
            .unwrap()
            .aliases
            .certificates
            .insert("web-cert".into(), "cert-123".into());
        let r = report(&f, "from", "to").expect("report");
        assert_eq!(r.profile_additions.len(), 1);
        let a = &r.profile_additions[0];
        assert_eq!((a.map, a.alias.as_str()), ("certificates", "web-cert"));
        assert_eq!(a.source_id.as_deref(), Some("cert-123"));
        assert_eq!(a.used_at, ["listeners[0].tls.certificates[0]"]);
        assert!(r.listeners[0].refused.iter().all(|f| f.rule != ALIAS_UNKNOWN));
    }

    #[test]
    fn a_vendor_default_read_back_is_not_a_loss() {
        let mut spec = ListenerSpec::new("web", Protocol::Tcp, Ports::Single(80));
        spec.extensions
            .0
            .insert("alibaba-ga".into(), serde_json::json!({"routing_type": "standard"}));
        let f = file("alibaba-ga", "tencent-clb", vec![spec.clone()]);
        let r = report(&f, "from", "to").expect("report");
        let l = r.listener("web").expect("listed");
        assert!(l.lost.is_empty(), "standard routing is GA's default: {:?}", l.lost);

        spec.extensions.0.insert(
            "alibaba-ga".into(),
            serde_json::json!({"routing_type": "custom_routing"}),
        );
        let f = file("alibaba-ga", "tencent-clb", vec![spec]);
        let r = report(&f, "from", "to").expect("report");
        let l = r.listener("web").expect("listed");
        assert!(
            l.lost
                .iter()
                .any(|f| f.field == "extensions.alibaba-ga.routing_type" && f.rule == "vendor_only"),
            "{:?}",
            l.lost
        );
    }

    #[test]
    fn unknown_profiles_name_the_flag() {
        let f = file("tencent-clb", "alibaba-ga", vec![]);
        match report(&f, "nope", "to") {
            Err(Error::Config { field, .. }) => assert_eq!(field, "--from"),
            other => panic!("expected a config error, got {other:?}"),
        }
        match report(&f, "from", "nope") {
            Err(Error::Config { field, .. }) => assert_eq!(field, "--to"),
            other => panic!("expected a config error, got {other:?}"),
        }
    }
}
