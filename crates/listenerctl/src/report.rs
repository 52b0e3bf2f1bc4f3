//! The portability report of `validate`.
//!
//! The point of one file for four clouds is knowing, before anything is
//! bought or sent, where each listener can go. The report answers that per
//! listener from each profile's offline check: which profiles take it, and
//! for the others the vendor, field, rule and reason.

use std::fmt::Write as _;
use std::path::PathBuf;

use cloud_listeners::{Rejection, Warning};
use serde::Serialize;

use crate::diag::Failure;
use crate::load::Loaded;
use crate::render::protocol_ports;

/// The whole report (also the `--output json` shape of `validate`).
#[derive(Debug, Clone, Serialize)]
pub struct Portability {
    /// The file checked.
    pub file: PathBuf,
    /// The profile chosen with `--profile`/`LISTENERCTL_PROFILE`, or the
    /// file's only profile; its rejections make `validate` fail. `None`
    /// for a portability report over several profiles.
    pub selected_profile: Option<String>,
    /// Every profile, in name order.
    pub profiles: Vec<ProfileInfo>,
    /// Every listener, in file order.
    pub listeners: Vec<ListenerPortability>,
}

/// A profile as the report names it.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileInfo {
    /// The profile's name in the file.
    pub name: String,
    /// Its API.
    pub api: String,
    /// Its instance.
    pub instance: String,
}

/// Where one listener can go.
#[derive(Debug, Clone, Serialize)]
pub struct ListenerPortability {
    /// Index in the file's `listeners`.
    pub index: usize,
    /// The listener's name.
    pub name: String,
    /// Protocol and ports, as text.
    pub protocol_ports: String,
    /// Profiles that can take it.
    pub accepted_by: Vec<String>,
    /// Profiles that cannot, with every reason.
    pub rejected_by: Vec<ProfileRejections>,
    /// Profiles that take it (or not) with something to know: a default
    /// quota passed, a deprecated parameter. Never a refusal. Absent from
    /// the JSON when there is none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<ProfileWarnings>,
}

/// What one profile warns about one listener.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileWarnings {
    /// The profile's name.
    pub profile: String,
    /// Its API.
    pub api: String,
    /// Each warning: vendor, field, rule and message.
    pub warnings: Vec<Warning>,
}

/// Why one profile cannot take one listener.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileRejections {
    /// The profile's name.
    pub profile: String,
    /// Its API.
    pub api: String,
    /// Each vendor rule the listener breaks there.
    pub rejections: Vec<Rejection>,
}

impl Portability {
    /// Run every profile's offline check over every listener. A profile
    /// whose own settings are refused (unknown API, missing region, plain
    /// `http` endpoint, ...) fails the whole report, with the problems of
    /// every such profile, not only the first.
    pub fn build(loaded: &Loaded, selected: Option<&str>) -> Result<Portability, Failure> {
        let file = &loaded.file;
        let mut listeners: Vec<ListenerPortability> = file
            .listeners
            .iter()
            .enumerate()
            .map(|(index, s)| ListenerPortability {
                index,
                name: s.name.clone(),
                protocol_ports: protocol_ports(s),
                accepted_by: Vec::new(),
                rejected_by: Vec::new(),
                warnings: Vec::new(),
            })
            .collect();
        let mut profiles = Vec::new();
        let mut refused: Option<Failure> = None;
        for (name, profile) in &file.profiles {
            profiles.push(ProfileInfo {
                name: name.clone(),
                api: profile.api.clone(),
                instance: profile.instance.clone(),
            });
            let (rejections, warnings) = match loaded.check(name) {
                Ok(c) => (c.rejections, c.warnings),
                Err(f) => {
                    match &mut refused {
                        Some(all) => all.problems.extend(f.problems),
                        None => refused = Some(f),
                    }
                    continue;
                }
            };
            // Grouped by listener once: filtering the whole list per
            // listener was quadratic when every listener is rejected (a
            // quota rule past the 50th).
            let mut by_listener: Vec<Vec<Rejection>> = vec![Vec::new(); listeners.len()];
            for (i, r) in rejections {
                if let Some(slot) = by_listener.get_mut(i) {
                    slot.push(r);
                }
            }
            let mut warned: Vec<Vec<Warning>> = vec![Vec::new(); listeners.len()];
            for (i, w) in warnings {
                if let Some(slot) = warned.get_mut(i) {
                    slot.push(w);
                }
            }
            for (l, mine) in listeners.iter_mut().zip(warned) {
                if !mine.is_empty() {
                    l.warnings.push(ProfileWarnings {
                        profile: name.clone(),
                        api: profile.api.clone(),
                        warnings: mine,
                    });
                }
            }
            for (l, mine) in listeners.iter_mut().zip(by_listener) {
                if mine.is_empty() {
                    l.accepted_by.push(name.clone());
                } else {
                    l.rejected_by.push(ProfileRejections {
                        profile: name.clone(),
                        api: profile.api.clone(),
                        rejections: mine,
                    });
                }
            }
        }
        if let Some(f) = refused {
            return Err(f);
        }
        Ok(Portability {
            file: loaded.path.clone(),
            selected_profile: selected.map(str::to_string),
            profiles,
            listeners,
        })
    }

    /// The rejections of the selected profile, as `(index, rejection)`.
    pub fn selected_rejections(&self) -> Vec<(usize, Rejection)> {
        let Some(sel) = &self.selected_profile else {
            return Vec::new();
        };
        self.listeners
            .iter()
            .flat_map(|l| {
                l.rejected_by
                    .iter()
                    .filter(|p| &p.profile == sel)
                    .flat_map(move |p| p.rejections.iter().map(move |r| (l.index, r.clone())))
            })
            .collect()
    }

    fn label(&self, profile: &str) -> String {
        match self.profiles.iter().find(|p| p.name == profile) {
            Some(p) if p.api != p.name => format!("{} ({})", p.name, p.api),
            _ => profile.to_string(),
        }
    }

    /// A listener's warnings, one line per profile and warning, before the
    /// verdict: they do not change where it fits.
    fn render_warnings(&self, out: &mut String, l: &ListenerPortability) {
        for p in &l.warnings {
            let _ = writeln!(out, "    warning on:   {}", self.label(&p.profile));
            for w in &p.warnings {
                let _ = writeln!(out, "      {}: {} [{}] {}", w.vendor, w.field, w.rule, w.message);
            }
        }
    }

    /// The report for a person.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let n = self.listeners.len();
        // With a selected profile that rejects something the run fails;
        // the first line must not claim otherwise.
        let verdict = match &self.selected_profile {
            Some(p) if !self.selected_rejections().is_empty() => {
                format!("is well-formed, but profile `{p}` cannot take every listener (errors below)")
            }
            _ => "is valid".to_string(),
        };
        let _ = writeln!(
            out,
            "{} {verdict}: {n} listener{}, {} profile{}.",
            self.file.display(),
            plural(n),
            self.profiles.len(),
            plural(self.profiles.len())
        );
        if self.profiles.is_empty() {
            out.push_str("No profiles: add one to see where the listeners can go.\n");
            return out;
        }
        out.push_str("\nPortability:\n");
        for l in &self.listeners {
            let _ = writeln!(out, "\n  {}  ({})", l.name, l.protocol_ports);
            self.render_warnings(&mut out, l);
            if l.rejected_by.is_empty() {
                let _ = writeln!(out, "    fits every profile");
                continue;
            }
            if l.accepted_by.is_empty() {
                let _ = writeln!(out, "    fits no profile");
            } else {
                let names: Vec<String> = l.accepted_by.iter().map(|p| self.label(p)).collect();
                let _ = writeln!(out, "    fits:         {}", names.join(", "));
            }
            for p in &l.rejected_by {
                let _ = writeln!(out, "    does not fit: {}", self.label(&p.profile));
                for r in &p.rejections {
                    let _ = writeln!(out, "      {}: {} [{}] {}", r.vendor, r.field, r.rule, r.reason);
                }
            }
        }
        let everywhere = self.listeners.iter().filter(|l| l.rejected_by.is_empty()).count();
        out.push('\n');
        if everywhere == n {
            let _ = writeln!(out, "Every listener fits every profile.");
        } else if n == 1 {
            let _ = writeln!(
                out,
                "The listener does not fit every profile; `apply` on a profile refuses a listener it does not fit."
            );
        } else {
            let _ = writeln!(
                out,
                "{everywhere} of {n} listeners fit every profile; `apply` on a profile refuses a listener it does not fit."
            );
        }
        out
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
