//! `listenerctl export`: a live instance as a listeners file.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::{Args as ClapArgs, ValueEnum};
use cloud_listeners::export::{self, Exported};
use cloud_listeners::Format;
use serde::Serialize;

use super::Run;
use crate::cli::{Global, Remote, Source};
use crate::diag::{Exit, Failure, Problem};
use crate::load;
use crate::output::{json_out, print, print_json};
use crate::session::{block_on, cloud_failure, Session};

/// Write every listener on the selected profile's instance as a listeners
/// file: neutral fields, vendor-only settings under `extensions.<api>`,
/// certificate and target IDs as aliases of the profile's maps.
///
/// IDs the profile maps keep its alias; the others get one made from the
/// ID (`cert-…`, `ca-…`, `target-…`), added to the profile section the file
/// carries, so the file is complete: `plan` with it against the same
/// instance finds nothing to do. Only reads are sent: nothing is created,
/// changed or marked. Credentials never go into the file. Names the file
/// cannot keep (blank, repeated) are changed and listed on stderr.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The file, the profile and where to send calls.
    #[command(flatten)]
    pub remote: Remote,
    /// The file's format; by default the extension of --out, else TOML.
    #[arg(long, value_enum)]
    pub format: Option<ExportFormat>,
    /// Write the file here instead of to stdout (`-o` is `--output`, the
    /// output format of every command).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replace the --out file when it exists.
    #[arg(long, requires = "out")]
    pub force: bool,
}

/// Formats an export can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// TOML.
    Toml,
    /// YAML.
    Yaml,
}

impl Run for Args {
    fn source(&self) -> Option<&Source> {
        Some(&self.remote.source)
    }

    fn emulate(&self) -> bool {
        self.remote.emulate
    }

    fn run(&self, global: &Global) -> Result<Exit, Failure> {
        let format = self.format()?;
        if let Some(out) = &self.out {
            if out.exists() && !self.force {
                return Err(Failure::invalid(
                    "usage",
                    Problem {
                        field: Some("--out".into()),
                        ..Problem::message(format!("{} exists; pass --force to replace it", out.display()))
                    },
                ));
            }
        }
        let loaded = load::load(global.file.as_deref())?;
        let (name, _) = loaded.select(global.profile.as_deref())?;
        loaded.check_profile(&name)?;
        let profile = loaded.profile(&name).clone();
        block_on(async {
            let session = Session::open(global, &[(name.as_str(), &profile)]).await?;
            let listed = match session.provider(&loaded, &name, &export::listing_profile(&profile)) {
                Ok(provider) => provider.list().await.map_err(|e| cloud_failure(&e, &loaded, &name)),
                Err(f) => Err(f),
            };
            session.close().await;
            let exported = export::export(&name, &profile, &listed?);
            self.write(global, &exported, format)
        })
    }
}

/// What `export -o json` prints.
#[derive(Serialize)]
struct Report<'a> {
    profile: &'a str,
    format: &'static str,
    /// Where the file was written; `None` when `document` holds it.
    out: Option<&'a PathBuf>,
    listeners: usize,
    generated_aliases: &'a [export::GeneratedAlias],
    renamed: &'a [export::Renamed],
    /// The file's text, when not written to --out.
    document: Option<String>,
}

impl Args {
    fn format(&self) -> Result<Format, Failure> {
        match (self.format, &self.out) {
            (Some(ExportFormat::Toml), _) => Ok(Format::Toml),
            (Some(ExportFormat::Yaml), _) => Ok(Format::Yaml),
            (None, None) => Ok(Format::Toml),
            (None, Some(out)) => match Format::from_path(out) {
                Some(Format::Json) | None => Err(Failure::invalid(
                    "usage",
                    Problem {
                        field: Some("--out".into()),
                        ..Problem::message(format!(
                            "cannot tell the format from {}; name it .toml, .yaml or .yml, or pass --format",
                            out.display()
                        ))
                    },
                )),
                Some(f) => Ok(f),
            },
        }
    }

    fn write(&self, global: &Global, exported: &Exported, format: Format) -> Result<Exit, Failure> {
        let text = export::render(exported, format).map_err(|e| Failure::from_error(&e, None, None, None))?;
        if let Some(out) = &self.out {
            std::fs::write(out, &text).map_err(|e| {
                Failure::one(
                    Exit::Error,
                    "io",
                    Problem {
                        file: Some(out.clone()),
                        ..Problem::message(format!("cannot write the file: {e}"))
                    },
                )
            })?;
        }
        let notes = notes(exported);
        if json_out(global) {
            print_json(&Report {
                profile: &exported.profile,
                format: match format {
                    Format::Yaml => "yaml",
                    _ => "toml",
                },
                out: self.out.as_ref(),
                listeners: exported.file.listeners.len(),
                generated_aliases: &exported.generated_aliases,
                renamed: &exported.renamed,
                document: self.out.is_none().then_some(text),
            });
        } else if let Some(out) = &self.out {
            print(&format!(
                "Wrote {} listener{} of profile `{}` to {}.\n{notes}",
                exported.file.listeners.len(),
                if exported.file.listeners.len() == 1 { "" } else { "s" },
                exported.profile,
                out.display()
            ));
        } else {
            // The document alone on stdout, so it can be redirected; the
            // notes go to stderr.
            print(&text);
            eprint!("{notes}");
        }
        Ok(Exit::Ok)
    }
}

fn notes(exported: &Exported) -> String {
    let mut out = String::new();
    if !exported.generated_aliases.is_empty() {
        let _ = writeln!(
            out,
            "Aliases made up for IDs the profile does not map (added to the file's profile):"
        );
        for g in &exported.generated_aliases {
            let map = match g.kind {
                export::AliasKind::Certificate => "certificates",
                export::AliasKind::Target => "targets",
            };
            let _ = writeln!(out, "  {map}: {} = {}", g.alias, g.id);
        }
    }
    for r in &exported.renamed {
        let _ = writeln!(
            out,
            "Listener {} is named `{}` in the file (the cloud says `{}`): {}.",
            r.id, r.to, r.from, r.reason
        );
    }
    out
}
