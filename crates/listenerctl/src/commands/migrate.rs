//! `listenerctl migrate`: could the file's listeners move to another cloud?

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args as ClapArgs;
use cloud_listeners::migrate::{self, MigrationReport, Verdict};

use super::Run;
use crate::cli::Global;
use crate::diag::{Exit, Failure, Problem};
use crate::load;
use crate::output::{json_out, print, print_json};

/// Report, per listener, whether profile --to can take what profile --from
/// has: identically, losing settings only --from's API has, only with
/// changes (each refused field with the --to adapter's rule and reason),
/// or not at all (protocol or ports refused). Lists the certificate and
/// target aliases --to's profile must map.
///
/// Both profiles are in the file (typically an `export` of --from with a
/// profile for --to added). Sends nothing. Exit 0 when every listener
/// moves (missing aliases aside, which are listed to add); exit 2 when
/// some listener cannot move as written.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The listeners file (.toml, .yaml, .yml or .json).
    #[arg(short = 'f', long = "file", env = "LISTENERCTL_FILE", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// The profile the listeners are on now.
    #[arg(long, value_name = "NAME")]
    pub from: String,
    /// The profile they would move to.
    #[arg(long, value_name = "NAME")]
    pub to: String,
}

impl Run for Args {
    fn run(&self, global: &Global) -> Result<Exit, Failure> {
        let loaded = load::load(self.file.as_deref())?;
        for (flag, name) in [("--from", &self.from), ("--to", &self.to)] {
            if let Err(v) = loaded.file.profile(name) {
                return Err(Failure::invalid(
                    "profile",
                    Problem {
                        file: Some(loaded.path.clone()),
                        field: Some(flag.into()),
                        rule: Some(v.rule),
                        ..Problem::message(v.message)
                    },
                ));
            }
        }
        loaded.check_profile(&self.to)?;
        let report = migrate::report(&loaded.file, &self.from, &self.to)
            .map_err(|e| Failure::from_error(&e, Some(&loaded.path), Some(&loaded.locator), None))?;
        if json_out(global) {
            print_json(&report);
        } else {
            print(&render_text(&report));
        }
        Ok(if report.all_move() { Exit::Ok } else { Exit::Invalid })
    }
}

fn side(s: &migrate::Side) -> String {
    format!("`{}` ({}, {})", s.profile, s.api, s.instance)
}

/// The report for a person.
pub fn render_text(r: &MigrationReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Moving {} listener{} from {} to {}:",
        r.listeners.len(),
        if r.listeners.len() == 1 { "" } else { "s" },
        side(&r.from),
        side(&r.to)
    );
    let width = r.listeners.iter().map(|l| l.name.len()).max().unwrap_or(0);
    for l in &r.listeners {
        let _ = writeln!(
            out,
            "\n  {:width$}  {} {}  {}",
            l.name,
            l.protocol,
            l.ports,
            l.verdict.as_str()
        );
        for f in &l.refused {
            let _ = writeln!(out, "    refused  {} [{}] {}", f.field, f.rule, f.reason);
        }
        let value = |f: &migrate::Finding| f.value.as_ref().map(|v| format!(" = {v}")).unwrap_or_default();
        // Settings only the source's API has share one reason: one line.
        let prefix = format!("extensions.{}.", r.from.api);
        let vendor_only: Vec<String> = l
            .lost
            .iter()
            .filter(|f| f.rule == "vendor_only")
            .map(|f| format!("{}{}", f.field.strip_prefix(&prefix).unwrap_or(&f.field), value(f)))
            .collect();
        if !vendor_only.is_empty() {
            let _ = writeln!(
                out,
                "    lost     [vendor_only] settings only {} has: {}",
                r.from.api,
                vendor_only.join(", ")
            );
        }
        for f in l.lost.iter().filter(|f| f.rule != "vendor_only") {
            let _ = writeln!(out, "    lost     {}{} [{}] {}", f.field, value(f), f.rule, f.reason);
        }
    }
    if !r.profile_additions.is_empty() {
        let _ = writeln!(out, "\nAdd to profile `{}` before applying:", r.to.profile);
        for a in &r.profile_additions {
            let was = a
                .source_id
                .as_ref()
                .map(|id| format!(" (on `{}`: {id})", r.from.profile))
                .unwrap_or_default();
            let _ = writeln!(out, "  {}.{}{was}, used at {}", a.map, a.alias, a.used_at.join(", "));
        }
    }
    let c = r.counts;
    let _ = writeln!(
        out,
        "\n{} identical, {} lossy, {} need changes, {} cannot move.",
        c.identical, c.lossy, c.needs_changes, c.cannot_move
    );
    if !r.all_move() {
        let blocked = r.listeners.iter().filter(|l| !l.verdict.moves()).count();
        let _ = writeln!(
            out,
            "{blocked} listener{} cannot move as written; `apply --profile {}` would refuse {}.",
            if blocked == 1 { "" } else { "s" },
            r.to.profile,
            if blocked == 1 { "it" } else { "them" }
        );
    } else if r.listeners.iter().all(|l| l.verdict == Verdict::Identical) && r.profile_additions.is_empty() {
        let _ = writeln!(out, "Everything moves as it is.");
    }
    out
}
