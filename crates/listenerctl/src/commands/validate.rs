//! `listenerctl validate`: every offline check, and the portability report.

use clap::Args as ClapArgs;

use super::Run;
use crate::cli::{Global, Source};
use crate::diag::{Exit, Failure};
use crate::load;
use crate::output::{json_out, print, print_json};
use crate::report::Portability;

/// Check the file offline and print the portability report: which
/// profiles can take each listener, and why the others cannot.
///
/// Sends nothing. Exit 0 when the file is valid, even if some profile
/// cannot take some listener (portability is information); exit 2 when
/// the file is invalid, or when a profile is selected with --profile or
/// LISTENERCTL_PROFILE and that profile cannot take a listener.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The file and the profile.
    #[command(flatten)]
    pub source: Source,
}

impl Run for Args {
    fn source(&self) -> Option<&Source> {
        Some(&self.source)
    }

    /// Every offline check a real run makes, over every profile. The
    /// report covers all profiles; the run fails (exit 2) when a profile's
    /// own settings are refused, or when the selected profile rejects a
    /// listener. The selected profile is the one named with `--profile` or
    /// `LISTENERCTL_PROFILE`, or the file's only profile: with one profile
    /// there is nowhere else the file could go, so a listener it rejects
    /// (an unknown certificate alias, say) is an error, not a portability
    /// note. `default_profile` alone does not select: a file for several
    /// clouds is reported, not failed, for what one of them cannot take.
    fn run(&self, global: &Global) -> Result<Exit, Failure> {
        let loaded = load::load(global.file.as_deref())?;
        // Checks the name even when the report covers every profile.
        let selected = match global.profile.as_deref() {
            Some(p) => Some(loaded.select(Some(p))?.0),
            None if loaded.file.profiles.len() == 1 => loaded.file.profiles.keys().next().cloned(),
            None => None,
        };
        let report = Portability::build(&loaded, selected.as_deref())?;
        if json_out(global) {
            print_json(&report);
        } else {
            print(&report.render_text());
        }
        let rejected = report.selected_rejections();
        match (&selected, rejected.is_empty()) {
            (Some(p), false) => Err(Failure::from_rejections(
                &loaded.path,
                Some(&loaded.locator),
                p,
                &loaded.file.listeners,
                &rejected,
            )),
            _ => Ok(Exit::Ok),
        }
    }
}
