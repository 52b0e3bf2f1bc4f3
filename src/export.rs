//! A live instance as a listeners file.
//!
//! Platform teams do not start from an empty load balancer: the listeners
//! exist, made by hand or by other tools. Export turns what the cloud
//! reports into the same neutral file people write, so that `plan` on it
//! finds nothing to do and the file can be taken to another cloud
//! ([`crate::migrate`]).
//!
//! The file is complete on its own: its profile section is the profile the
//! listeners were read with, plus an alias for every certificate and target
//! ID the listeners use. IDs the profile already maps keep the profile's
//! alias; the others get a readable alias made from the ID (`cert-…`,
//! `ca-…`, `target-…`), the same on every run. Credentials never go into
//! the file (`inline_credentials` is dropped), and nothing is written to
//! the cloud: export only reads.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;

use listener_core::{ConfigFile, Error, Format, Listener, ListenerSpec, ProfileConfig, Result};

/// What kind of cloud ID an alias stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AliasKind {
    /// A server or CA certificate (`certificates` map).
    Certificate,
    /// A server/target group (`targets` map).
    Target,
}

/// An alias export made up because the profile did not map the ID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GeneratedAlias {
    /// Which map it went into.
    pub kind: AliasKind,
    /// The alias written into the listeners and the profile's map.
    pub alias: String,
    /// The cloud's ID it stands for.
    pub id: String,
}

/// A listener whose name the file could not keep as the cloud reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Renamed {
    /// The vendor's listener ID.
    pub id: String,
    /// The name the cloud reports (possibly empty).
    pub from: String,
    /// The name written into the file.
    pub to: String,
    /// Why: a blank name fails the neutral rules, and names are unique
    /// within a file.
    pub reason: String,
}

/// The result of an export: the file and what had to be made up for it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Exported {
    /// The file: one profile (the one read, without credentials, with
    /// every alias the listeners use) and the listeners.
    pub file: ConfigFile,
    /// The profile's name in the file.
    pub profile: String,
    /// Aliases made up for IDs the profile did not map.
    pub generated_aliases: Vec<GeneratedAlias>,
    /// Listeners whose name had to change.
    pub renamed: Vec<Renamed>,
}

/// The profile to read the instance with: the given one with empty alias
/// maps, so every certificate and target comes back as the cloud's ID and
/// [`export`] decides the alias (reading with the maps would leave an ID
/// that happens to equal an alias name ambiguous).
pub fn listing_profile(profile: &ProfileConfig) -> ProfileConfig {
    let mut p = profile.clone();
    p.aliases = Default::default();
    p
}

/// Turn the listeners read from `profile`'s instance (best read with
/// [`listing_profile`]) into a listeners file for profile `profile_name`.
/// References that are already aliases of the profile are kept; IDs the
/// profile maps take its alias (the first in name order, as reading back
/// does); other IDs get a generated alias added to the profile's map.
pub fn export(profile_name: &str, profile: &ProfileConfig, listeners: &[Listener]) -> Exported {
    let mut out_profile = profile.clone();
    out_profile.inline_credentials = None;
    let mut generated = Vec::new();

    let mut sorted: Vec<&Listener> = listeners.iter().collect();
    sorted.sort_by(|a, b| {
        let key = |l: &Listener| (l.spec.protocol.transport(), l.spec.ports.ranges(), l.id.clone());
        key(a).cmp(&key(b))
    });

    let mut specs = Vec::with_capacity(sorted.len());
    for l in &sorted {
        let mut spec = l.spec.clone();
        let maps = &mut out_profile.aliases;
        if let Some(tls) = spec.tls.as_mut() {
            for c in tls.certificates.iter_mut() {
                *c = alias_for(
                    &mut maps.certificates,
                    c,
                    "cert",
                    AliasKind::Certificate,
                    &mut generated,
                );
            }
            if let Some(ca) = tls.client_auth.as_mut() {
                for c in ca.ca_certificates.iter_mut() {
                    *c = alias_for(&mut maps.certificates, c, "ca", AliasKind::Certificate, &mut generated);
                }
            }
        }
        if let Some(t) = spec.forwarding.as_mut().and_then(|f| f.default_target.as_mut()) {
            *t = alias_for(&mut maps.targets, t, "target", AliasKind::Target, &mut generated);
        }
        specs.push(spec);
    }
    let renamed = unique_names(&sorted, &mut specs);

    let mut profiles = BTreeMap::new();
    profiles.insert(profile_name.to_string(), out_profile);
    Exported {
        file: ConfigFile {
            default_profile: Some(profile_name.to_string()),
            profiles,
            backends: Default::default(),
            listeners: specs,
        },
        profile: profile_name.to_string(),
        generated_aliases: generated,
        renamed,
    }
}

/// Read every listener on `profile`'s instance and export it. Sends only
/// reads.
pub async fn export_instance(profile_name: &str, profile: &ProfileConfig) -> Result<Exported> {
    let provider = crate::provider_from_profile(&listing_profile(profile))?;
    let listeners = provider.list().await?;
    Ok(export(profile_name, profile, &listeners))
}

/// The file as text in `format`, checked by parsing it back with the same
/// rules `ConfigFile::load` applies: an export that could not be loaded is
/// a defect, reported here rather than by the next command.
pub fn render(exported: &Exported, format: Format) -> Result<String> {
    let text = listener_core::parse::to_string(&exported.file, format).map_err(|message| Error::Config {
        field: "listeners".into(),
        message: format!("the exported file cannot be written as {format:?}: {message}"),
    })?;
    ConfigFile::from_text(&text, format, Path::new("export")).map_err(|e| Error::Config {
        field: "listeners".into(),
        message: format!("the exported file does not load back: {e}"),
    })?;
    Ok(text)
}

/// The alias of `reference` in `map`: the profile's alias of the ID, the
/// reference itself when it already is an alias, or a new one.
fn alias_for(
    map: &mut BTreeMap<String, String>,
    reference: &str,
    prefix: &str,
    kind: AliasKind,
    generated: &mut Vec<GeneratedAlias>,
) -> String {
    if let Some((alias, _)) = map.iter().find(|(_, id)| id.as_str() == reference) {
        return alias.clone();
    }
    if map.contains_key(reference) {
        return reference.to_string();
    }
    let base = slug(reference);
    let base = if base == prefix || base.starts_with(&format!("{prefix}-")) {
        base
    } else {
        format!("{prefix}-{base}")
    };
    let mut alias = base.clone();
    let mut n = 2;
    while map.contains_key(&alias) {
        alias = format!("{base}-{n}");
        n += 1;
    }
    map.insert(alias.clone(), reference.to_string());
    generated.push(GeneratedAlias {
        kind,
        alias: alias.clone(),
        id: reference.to_string(),
    });
    alias
}

/// A readable alias from a cloud ID: lower case, letters, digits, `-`,
/// `_` and `.`; anything else becomes `-`.
fn slug(id: &str) -> String {
    let s: String = id
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches('-').to_string();
    if s.is_empty() {
        "id".to_string()
    } else {
        s
    }
}

/// Give every listener a name the file accepts: a blank name becomes
/// `<protocol>-<ports>`, a repeated one gets its ports (then a number)
/// appended. Vendors allow both; the neutral rules do not.
fn unique_names(listeners: &[&Listener], specs: &mut [ListenerSpec]) -> Vec<Renamed> {
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let mut renamed = Vec::new();
    // Names already fine keep priority over made-up ones.
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let keeps: Vec<bool> = specs
        .iter()
        .map(|s| !s.name.trim().is_empty() && seen.insert(s.name.clone()))
        .collect();
    for (s, keep) in specs.iter().zip(&keeps) {
        if *keep {
            taken.insert(s.name.clone());
        }
    }
    for ((spec, keep), l) in specs.iter_mut().zip(keeps).zip(listeners) {
        if keep {
            continue;
        }
        let ports = spec
            .ports
            .ranges()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("_");
        let (base, reason) = if spec.name.trim().is_empty() {
            (
                format!("{}-{ports}", spec.protocol.as_str()),
                "the cloud reports no name; a listener in a file needs one",
            )
        } else {
            (
                format!("{}-{ports}", spec.name),
                "another listener on the instance has the same name; names in a file are unique",
            )
        };
        let mut name = base.clone();
        let mut n = 2;
        while taken.contains(&name) {
            name = format!("{base}-{n}");
            n += 1;
        }
        taken.insert(name.clone());
        renamed.push(Renamed {
            id: l.id.to_string(),
            from: spec.name.clone(),
            to: name.clone(),
            reason: reason.to_string(),
        });
        spec.name = name;
    }
    renamed
}

#[cfg(test)]
mod tests {
    use super::*;
    use listener_core::{
        ClientAuth, ClientVerify, Forwarding, InlineCredentials, ListenerId, ListenerStatus, Ports, Protocol, Secret,
        Tls,
    };

    fn live(id: &str, name: &str, protocol: Protocol, port: u32) -> Listener {
        Listener {
            id: ListenerId::from(id),
            instance: "lb-1".into(),
            status: ListenerStatus::Running,
            spec: ListenerSpec::new(name, protocol, Ports::Single(port)),
            owner: None,
            managed: false,
        }
    }

    fn https(id: &str, name: &str, port: u32, cert: &str, ca: Option<&str>) -> Listener {
        let mut l = live(id, name, Protocol::Https, port);
        l.spec.tls = Some(Tls {
            certificates: vec![cert.into()],
            policy: None,
            http2: None,
            http3: None,
            sni: None,
            client_auth: ca.map(|c| ClientAuth {
                verify: ClientVerify::Required,
                ca_certificates: vec![c.into()],
            }),
        });
        l.spec.forwarding = Some(Forwarding {
            backend_protocol: None,
            default_target: Some("sgp-123".into()),
        });
        l
    }

    #[test]
    fn known_ids_take_the_profiles_alias_and_unknown_ones_get_a_stable_one() {
        let mut profile = ProfileConfig::new("tencent-clb", "lb-1");
        profile.aliases.certificates.insert("web".into(), "cert-web".into());
        let listeners = [
            https("l2", "b", 8443, "cert-web", Some("CA_Root 1")),
            https("l1", "a", 443, "xyz9", None),
        ];
        let out = export("prod", &profile, &listeners);
        let p = &out.file.profiles["prod"];
        assert_eq!(out.file.default_profile.as_deref(), Some("prod"));
        // Sorted by port: 443 first.
        assert_eq!(out.file.listeners[0].server_certificates(), ["cert-xyz9"]);
        assert_eq!(out.file.listeners[1].server_certificates(), ["web"]);
        let ca = &out.file.listeners[1].client_auth().unwrap().ca_certificates;
        assert_eq!(ca, &["ca-ca_root-1"]);
        assert_eq!(p.aliases.certificate("ca-ca_root-1"), Some("CA_Root 1"));
        assert_eq!(p.aliases.certificate("cert-xyz9"), Some("xyz9"));
        assert_eq!(p.aliases.target("target-sgp-123"), Some("sgp-123"));
        assert_eq!(out.generated_aliases.len(), 3);
        // The same input, the same aliases.
        assert_eq!(export("prod", &profile, &listeners), out);
    }

    #[test]
    fn a_generated_alias_never_takes_an_existing_alias_name() {
        let mut profile = ProfileConfig::new("alibaba-alb", "alb-1");
        profile.aliases.certificates.insert("cert-9".into(), "other".into());
        let out = export("p", &profile, &[https("l", "a", 443, "9", None)]);
        assert_eq!(out.file.listeners[0].server_certificates(), ["cert-9-2"]);
        assert_eq!(out.file.profiles["p"].aliases.certificate("cert-9"), Some("other"));
    }

    #[test]
    fn references_that_are_already_aliases_are_kept() {
        let mut profile = ProfileConfig::new("alibaba-alb", "alb-1");
        profile.aliases.certificates.insert("web".into(), "123".into());
        let out = export("p", &profile, &[https("l", "a", 443, "web", None)]);
        assert_eq!(out.file.listeners[0].server_certificates(), ["web"]);
        assert!(out.generated_aliases.iter().all(|g| g.kind == AliasKind::Target));
    }

    #[test]
    fn blank_and_repeated_names_are_made_unique_and_reported() {
        let profile = ProfileConfig::new("alibaba-ga", "ga-1");
        let listeners = [
            live("a", "web", Protocol::Tcp, 80),
            live("b", "web", Protocol::Tcp, 81),
            live("c", "", Protocol::Udp, 53),
        ];
        let out = export("p", &profile, &listeners);
        let names: Vec<&str> = out.file.listeners.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["web", "web-81", "udp-53"]);
        assert_eq!(out.renamed.len(), 2);
        assert!(out.file.violations().is_empty(), "{:?}", out.file.violations());
    }

    #[test]
    fn credentials_never_reach_the_file() {
        let mut profile = ProfileConfig::new("tencent-clb", "lb-1");
        profile.region = Some("ap-guangzhou".into());
        profile.inline_credentials = Some(InlineCredentials {
            key_id: "AKIDexample".into(),
            secret: Secret::new("very-secret-value"),
            token: Some(Secret::new("session-token-value")),
        });
        let out = export("p", &profile, &[live("a", "web", Protocol::Tcp, 80)]);
        for format in [Format::Toml, Format::Yaml, Format::Json] {
            let text = render(&out, format).expect("renders and loads back");
            for secret in ["AKIDexample", "very-secret-value", "session-token-value", "redacted"] {
                assert!(!text.contains(secret), "{format:?} holds {secret}:\n{text}");
            }
        }
    }
}
