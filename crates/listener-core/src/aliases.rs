//! Certificate and target aliases.
//!
//! Specs say `web-cert`; each cloud profile says which certificate ID that
//! is on that cloud. Resolution happens in the adapter's translation, and an
//! alias the profile does not know is a rejection found before any call.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::capabilities::Capabilities;
use crate::check::Rejections;
use crate::spec::ListenerSpec;

/// The alias maps of one provider profile.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Aliases {
    /// Certificate alias → the cloud's certificate ID (server and CA).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub certificates: BTreeMap<String, String>,
    /// Target alias → the cloud's server/target group ID.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub targets: BTreeMap<String, String>,
}

impl Aliases {
    /// The cloud ID of certificate `alias`.
    pub fn certificate(&self, alias: &str) -> Option<&str> {
        self.certificates.get(alias).map(String::as_str)
    }

    /// The cloud ID of target `alias`.
    pub fn target(&self, alias: &str) -> Option<&str> {
        self.targets.get(alias).map(String::as_str)
    }

    /// The alias of certificate `id`; the ID itself when no alias maps to it,
    /// so a listener made outside this tool still reads back faithfully.
    pub fn certificate_alias_of(&self, id: &str) -> String {
        reverse(&self.certificates, id)
    }

    /// The alias of target `id`, or the ID itself.
    pub fn target_alias_of(&self, id: &str) -> String {
        reverse(&self.targets, id)
    }

    /// Resolve a list of certificate aliases; unknown ones pass through so
    /// that `check` (which reports them) stays the single place of refusal.
    pub fn certificate_ids(&self, aliases: &[String]) -> Vec<String> {
        aliases
            .iter()
            .map(|a| self.certificate(a).unwrap_or(a).to_string())
            .collect()
    }

    /// Reject every alias in `spec` that this profile cannot resolve and the
    /// provider would actually send: an alias in a field the capabilities
    /// declare write-only (e.g. a default target on a cloud that binds
    /// backends elsewhere) is not looked up, so a portable file does not
    /// need a dummy mapping in every profile.
    pub fn check_spec_for(&self, caps: &Capabilities, spec: &ListenerSpec, r: &mut Rejections) {
        let mut all = Rejections::new(r.vendor());
        self.check_spec(spec, &mut all);
        for rej in all.into_vec() {
            // Routes an adapter does not translate are refused as a whole
            // (see `check`); their aliases would only repeat it.
            let untranslated = !caps.routes && crate::capabilities::path_within(&rej.field, "routes");
            if !caps.is_write_only(&rej.field) && !untranslated {
                r.reject(rej.field, rej.rule, rej.reason);
            }
        }
    }

    /// Reject every alias in `spec` that this profile cannot resolve.
    pub fn check_spec(&self, spec: &ListenerSpec, r: &mut Rejections) {
        if let Some(tls) = &spec.tls {
            for (i, a) in tls.certificates.iter().enumerate() {
                r.reject_if(
                    self.certificate(a).is_none(),
                    format!("tls.certificates[{i}]"),
                    "alias_unknown",
                    format!("certificate alias `{a}` is not in this profile's `certificates` map"),
                );
            }
            if let Some(ca) = &tls.client_auth {
                for (i, a) in ca.ca_certificates.iter().enumerate() {
                    r.reject_if(
                        self.certificate(a).is_none(),
                        format!("tls.client_auth.ca_certificates[{i}]"),
                        "alias_unknown",
                        format!("certificate alias `{a}` is not in this profile's `certificates` map"),
                    );
                }
            }
        }
        for (i, route) in spec.routes.iter().enumerate() {
            if let Some(a) = &route.certificate {
                r.reject_if(
                    self.certificate(a).is_none(),
                    format!("routes[{i}].certificate"),
                    "alias_unknown",
                    format!("certificate alias `{a}` is not in this profile's `certificates` map"),
                );
            }
        }
        if let Some(t) = spec.forwarding.as_ref().and_then(|f| f.default_target.as_ref()) {
            r.reject_if(
                self.target(t).is_none(),
                "forwarding.default_target",
                "alias_unknown",
                format!("target alias `{t}` is not in this profile's `targets` map"),
            );
        }
    }
}

fn reverse(map: &BTreeMap<String, String>, id: &str) -> String {
    map.iter()
        .find(|(_, v)| v.as_str() == id)
        .map(|(k, _)| k.clone())
        .unwrap_or_else(|| id.to_string())
}
