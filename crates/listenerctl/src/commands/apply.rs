//! `listenerctl apply`: carry out the plan on every target profile.
//!
//! Every target is planned, and replacements refused, before any profile
//! is changed. From planning on, Ctrl-C and SIGTERM stop apply in order
//! ([`crate::interrupt`]); progress is shown as it happens
//! ([`crate::progress`]).

use std::sync::Arc;

use clap::Args as ClapArgs;
use cloud_listeners::plan::{self, Action, ApplyOptions, ApplyReport, Event, Plan};
use cloud_listeners::{Listener, Provider};
use serde::Serialize;
use serde_json::json;

use super::Run;
use crate::cli::{Global, Remote, Source};
use crate::diag::{listener_field, Exit, Failure, Problem};
use crate::interrupt;
use crate::load::Loaded;
use crate::output::{json_out, print, print_json_line};
use crate::progress::{Mode, Progress};
use crate::render;
use crate::session::{cloud_failure, Session};
use crate::targets::{self, plan_text, PlanDoc, Target};

/// Carry out the plan: create, update, replace (with --allow-replace)
/// and delete (with --prune), then print the listener IDs.
#[derive(Debug, Clone, ClapArgs)]
pub struct Args {
    /// The file, the profile and where to send calls.
    #[command(flatten)]
    pub remote: Remote,

    /// Delete listeners on the instance that the file does not name.
    #[arg(long)]
    pub prune: bool,

    /// Carry out replacements (delete, then create) when a field the vendor
    /// cannot change in place differs. Traffic on that port stops meanwhile.
    #[arg(long)]
    pub allow_replace: bool,

    /// Apply to every profile of the file in turn, skipping (and reporting)
    /// listeners a profile cannot take. Every profile is planned, and
    /// replacements refused, before any profile is changed. Takes
    /// precedence over --profile and LISTENERCTL_PROFILE.
    #[arg(long)]
    pub all_profiles: bool,
}

impl Run for Args {
    fn source(&self) -> Option<&Source> {
        Some(&self.remote.source)
    }

    fn emulate(&self) -> bool {
        self.remote.emulate
    }

    fn run(&self, global: &Global) -> Result<Exit, Failure> {
        targets::run_with(global, self.all_profiles, async |loaded, session, targets| {
            apply(global, loaded, session, targets, self).await
        })
    }
}

async fn apply(
    global: &Global,
    loaded: &Loaded,
    session: &Session,
    targets: &[Target],
    args: &Args,
) -> Result<Exit, Failure> {
    let json = json_out(global);
    // From here on Ctrl-C and SIGTERM stop apply in order (see `interrupt`).
    let watch = interrupt::Watch::start(json)?;
    let plans = tokio::select! {
        plans = targets::plan_all(loaded, session, targets, args.prune) => plans?,
        () = watch.signalled() => {
            return Err(interrupted(&watch, json, None, &interrupt::Summary::default(), targets));
        }
    };
    // Refused for every profile before any profile is changed.
    if !args.allow_replace {
        let problems = replacements(loaded, targets, &plans);
        if !problems.is_empty() {
            return Err(Failure {
                exit: Exit::Invalid,
                kind: "replace_refused".into(),
                problems,
            });
        }
    }
    let several = targets.len() > 1;
    let mut exit = Exit::Ok;
    let mut totals = plan::Summary::default();
    let mut skipped_total = 0;
    for (i, (t, (provider, p))) in targets.iter().zip(&plans).enumerate() {
        if watch.signal().is_some() {
            // Between two profiles: the rest are not started.
            return Err(interrupted(
                &watch,
                json,
                None,
                &interrupt::Summary::default(),
                &targets[i..],
            ));
        }
        if json {
            print_json_line(&json!({ "event": "plan", "plan": PlanDoc::new(t, p) }));
        } else {
            if i > 0 {
                print("\n");
            }
            print(&format!("Applying to {}:\n", t.title()));
            print(&plan_text(loaded, t, p, true));
        }
        let mode = Mode::detect(json);
        let progress = Progress::new(mode, "").watching(watch.cancel());
        let options = ApplyOptions {
            allow_replace: args.allow_replace,
            cancel: watch.cancel(),
            ..ApplyOptions::default()
        };
        let on_event = |e: Event| progress.event(e);
        // After a signal, steps in flight get a bounded time to end; past
        // it apply is dropped and the summary comes from the events alone.
        let report = tokio::select! {
            report = plan::apply(Arc::clone(provider), p, &options, &on_event) => {
                Some(report.map_err(|e| cloud_failure(&e, loaded, &t.name))?)
            }
            () = watch.deadline() => None,
        };
        if let Some(report) = &report {
            let s = p.summary();
            totals.create += s.create;
            totals.update += s.update;
            totals.replace += s.replace;
            totals.delete += s.delete;
            totals.unchanged += s.unchanged;
            skipped_total += t.skipped.len();
            let converged = converged(loaded, session, t, provider.as_ref(), report, &watch, args.prune).await?;
            if !report.failed.is_empty() {
                exit = Exit::Error;
            }
            if json {
                print_json_line(&applied_doc(t, report, converged));
            } else {
                print(&applied_text(loaded, report, converged));
            }
        }
        if watch.signal().is_some() {
            progress.clear();
            let summary = interrupt::Summary::build(plan::steps(p), &progress.tally());
            return Err(interrupted(&watch, json, Some(t), &summary, &targets[i + 1..]));
        }
    }
    if !json && several {
        print(&format!(
            "\nApplied the file to {} profiles: {} created, {} updated, {} replaced, {} deleted, {} unchanged{}.\n",
            targets.len(),
            totals.create,
            totals.update,
            totals.replace,
            totals.delete,
            totals.unchanged,
            if skipped_total > 0 {
                format!(", {skipped_total} skipped (see above)")
            } else {
                String::new()
            }
        ));
    }
    if exit == Exit::Error {
        return Err(Failure {
            exit: Exit::Error,
            kind: "apply_failed".into(),
            problems: vec![Problem::message(
                "some actions failed (listed above); run apply again to retry what is left",
            )],
        });
    }
    Ok(exit)
}

/// With the emulator the state is gone after this command, so show here
/// that a second run would find nothing to do: plan again after a clean,
/// uninterrupted apply that did something. `None` when not checked.
async fn converged(
    loaded: &Loaded,
    session: &Session,
    t: &Target,
    provider: &dyn Provider,
    report: &ApplyReport,
    watch: &interrupt::Watch,
    prune: bool,
) -> Result<Option<bool>, Failure> {
    if session.emulated() && report.failed.is_empty() && report.done > 0 && watch.signal().is_none() {
        let again = t.plan(loaded, provider, prune).await?;
        Ok(Some(!again.has_changes()))
    } else {
        Ok(None)
    }
}

/// Every replacement the plans hold, as problems pointing at the file.
fn replacements(loaded: &Loaded, targets: &[Target], plans: &[(Arc<dyn Provider>, Plan)]) -> Vec<Problem> {
    let mut out = Vec::new();
    for (t, (_, p)) in targets.iter().zip(plans) {
        for a in p.replacements() {
            if let Action::Replace {
                index, current, fields, ..
            } = a
            {
                let field = fields
                    .first()
                    .map_or_else(|| format!("listeners[{index}]"), |f| listener_field(*index, f));
                out.push(
                    Problem::at(
                        &loaded.path,
                        Some(&loaded.locator),
                        field,
                        format!(
                            "profile `{}`: listener `{}` ({}) must be replaced because {} cannot change in place; \
                             nothing was changed. Pass --allow-replace to delete and recreate it (traffic on its \
                             port stops meanwhile)",
                            t.name,
                            a.spec().name,
                            current.id,
                            fields.join(", ")
                        ),
                    )
                    .rule("replace_refused"),
                );
            }
        }
    }
    out
}

/// Print where an interrupted apply left things (the `interrupted` event
/// under JSON) and return the failure that ends the command. `current` is
/// the profile the signal came during, if any; `rest` the profiles never
/// started.
fn interrupted(
    watch: &interrupt::Watch,
    json: bool,
    current: Option<&Target>,
    summary: &interrupt::Summary,
    rest: &[Target],
) -> Failure {
    let signal = watch.signal().unwrap_or(interrupt::Signal::Interrupt);
    let rest: Vec<&str> = rest.iter().map(|t| t.name.as_str()).collect();
    if json {
        print_json_line(&json!({
            "event": "interrupted",
            "signal": signal.name(),
            "profile": current.map(|t| &t.name),
            "done": summary.done,
            "finished_after_interrupt": summary.finished_after_interrupt,
            "failed": summary.failed,
            "abandoned": summary.abandoned,
            "not_started": summary.not_started,
            "profiles_not_started": rest,
            "rerun_converges": true,
            "exit_code": signal.exit().code(),
        }));
    } else {
        let mut text = match current {
            Some(_) => summary.render_text(signal),
            None => format!(
                "Interrupted by {} before any change was started on the profiles below.\n",
                signal.name()
            ),
        };
        if !rest.is_empty() {
            text.push_str(&format!("  Profiles not started: {}.\n", rest.join(", ")));
        }
        text.push_str(
            "  Run `listenerctl apply` again: it re-reads the cloud and makes only what is missing, so it converges.\n",
        );
        print(&text);
    }
    interrupt::failure(signal)
}

/// A listener apply left in place, with its position in the file.
#[derive(Serialize)]
struct Placed<'a> {
    index: usize,
    listener: &'a Listener,
}

/// The `applied` event of one profile.
fn applied_doc<'a>(t: &'a Target, report: &'a ApplyReport, converged: Option<bool>) -> serde_json::Value {
    let placed: Vec<Placed> = report
        .listeners
        .iter()
        .map(|(index, listener)| Placed {
            index: *index,
            listener,
        })
        .collect();
    json!({
        "event": "applied",
        "profile": t.name,
        "api": t.written.api,
        "instance": t.written.instance,
        "done": report.done,
        "failed": report.failed,
        "listeners": placed,
        "converged": converged,
    })
}

/// What one profile's apply did, as text: failures, IDs, convergence.
fn applied_text(loaded: &Loaded, report: &ApplyReport, converged: Option<bool>) -> String {
    let mut out = String::new();
    for f in &report.failed {
        out.push_str(&format!("  failed: {} ({}): {}\n", f.name, f.kind, f.message));
    }
    if !report.listeners.is_empty() {
        out.push_str("  Listener IDs:\n");
        out.push_str(&render::ids(&report.listeners, &loaded.file.listeners, "    "));
    }
    match converged {
        Some(true) => out.push_str("  Planned again: no changes, so a second apply would do nothing.\n"),
        Some(false) => out.push_str("  Planned again: changes remain; run apply again or see the errors above.\n"),
        None => {}
    }
    out
}
