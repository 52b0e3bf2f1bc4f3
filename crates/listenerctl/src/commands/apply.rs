//! `listenerctl apply`: carry out the plan on every target profile.
//!
//! Every target is planned, and replacements refused, before any profile
//! is changed. Then every profile is applied at the same time (instances
//! are independent; the vendors limit calls per account and action, which
//! the API clients' shared limiters respect), so several profiles take
//! about as long as the slowest. A profile that fails does not stop the
//! others; each profile's text is printed whole when it ends (spinners stay
//! live on a terminal), and every JSON event names its profile. From
//! planning on, Ctrl-C and SIGTERM stop every profile in order
//! ([`crate::interrupt`]); progress is shown as it happens
//! ([`crate::progress`]).

use std::sync::Arc;

use clap::Args as ClapArgs;
use cloud_listeners::plan::{self, Action, ApplyOptions, ApplyReport, Event, Plan};
use cloud_listeners::{Listener, Provider};
use serde::Serialize;
use serde_json::json;

use super::Run;
use crate::cli::{Global, PruneArgs, Remote, Source};
use crate::diag::{listener_field, Exit, Failure, Problem};
use crate::interrupt;
use crate::load::Loaded;
use crate::output::{json_out, print, print_json_line};
use crate::progress::{Mode, Progress};
use crate::render;
use crate::session::{cloud_failure, Session};
use crate::targets::{self, plan_text, PlanDoc, Sections, Target};
use indicatif::MultiProgress;

/// Carry out the plan: create, update, replace (with --allow-replace)
/// and delete (with --prune), then print the listener IDs.
#[derive(Debug, Clone, ClapArgs)]
pub struct Args {
    /// The file, the profile and where to send calls.
    #[command(flatten)]
    pub remote: Remote,

    /// Which listeners the file does not name to delete.
    #[command(flatten)]
    pub prune: PruneArgs,

    /// Carry out replacements (delete, then create) when a field the vendor
    /// cannot change in place differs. Traffic on that port stops meanwhile.
    #[arg(long)]
    pub allow_replace: bool,

    /// Apply to every profile of the file, all at once, skipping (and
    /// reporting) listeners a profile cannot take. Every profile is
    /// planned, and replacements refused, before any profile is changed; a
    /// profile that then fails does not stop the others. Takes precedence
    /// over --profile and LISTENERCTL_PROFILE.
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

    fn many_profiles(&self) -> bool {
        true
    }

    fn run(&self, global: &Global) -> Result<Exit, Failure> {
        targets::run_with(global, self.all_profiles, async |loaded, session, targets| {
            apply(global, loaded, session, targets, self).await
        })
    }
}

/// What one `apply` shares between the profiles it works on at once.
struct Cx<'a> {
    loaded: &'a Loaded,
    session: &'a Session,
    args: &'a Args,
    watch: &'a interrupt::Watch,
    json: bool,
    /// More than one profile: sections are printed whole as each profile
    /// ends, and JSON ends with a `done` event.
    several: bool,
    mode: Mode,
    /// The one live display of every profile's spinners.
    bars: MultiProgress,
    sections: Sections,
}

/// How one profile's apply ended.
#[derive(Default)]
struct Ended {
    /// The plan's counts, when apply ran to its report.
    summary: Option<plan::Summary>,
    /// The plan's pool and rule counts, with the listeners'.
    resources: [plan::ResourceSummary; 2],
    /// Listeners skipped on this profile (`--all-profiles`).
    skipped: usize,
    /// Why the profile failed, if it did.
    failure: Option<Failure>,
    /// Whether a signal stopped it.
    interrupted: bool,
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
    let several = targets.len() > 1;
    // Every profile is planned, all at once, before any is changed.
    let planned = tokio::select! {
        planned = targets::each(targets, |t| targets::plan_one(loaded, session, t, args.prune.mode())) => planned,
        () = watch.signalled() => {
            return Err(interrupted(&watch, json, None, &interrupt::Summary::default(), targets));
        }
    };
    let mut failed: Vec<(&Target, Failure)> = Vec::new();
    let mut ready: Vec<(&Target, Arc<dyn Provider>, Plan)> = Vec::new();
    for (t, r) in targets.iter().zip(planned) {
        match r {
            Ok((provider, p)) => ready.push((t, provider, p)),
            // One profile: its failure is the command's, as it always was.
            Err(f) if !several => return Err(f),
            Err(f) => failed.push((t, f)),
        }
    }
    // Refused for every profile before any profile is changed.
    if !args.allow_replace {
        let problems = replacements(loaded, &ready);
        if !problems.is_empty() {
            return Err(Failure {
                exit: Exit::Invalid,
                kind: "replace_refused".into(),
                problems,
            });
        }
    }
    let cx = Cx {
        loaded,
        session,
        args,
        watch: &watch,
        json,
        several,
        mode: Mode::detect(json),
        bars: MultiProgress::new(),
        sections: Sections::default(),
    };
    // A profile that could not be planned is reported; the others go on.
    for (t, f) in &failed {
        if json {
            print_json_line(&failed_event(t, "plan", f));
        } else {
            cx.sections.print(&targets::failed_text("Applying to", t, f));
        }
    }
    if watch.signal().is_some() {
        // Planned, but nothing started on any profile.
        return Err(interrupted(&watch, json, None, &interrupt::Summary::default(), targets));
    }
    let ends = futures::future::join_all(ready.iter().map(|(t, provider, p)| apply_one(&cx, t, provider, p))).await;

    if let Some(signal) = watch.signal() {
        if several && !json {
            print(RERUN);
        }
        return Err(interrupt::failure(signal));
    }
    let mut totals = plan::Summary::default();
    let mut resource_totals = [plan::ResourceSummary::default(), plan::ResourceSummary::default()];
    let mut skipped_total = 0;
    for ((t, _, _), end) in ready.iter().zip(ends) {
        if let Some(s) = end.summary {
            totals.create += s.create;
            totals.update += s.update;
            totals.replace += s.replace;
            totals.delete += s.delete;
            totals.unchanged += s.unchanged;
            skipped_total += end.skipped;
            for (sum, r) in resource_totals.iter_mut().zip(&end.resources) {
                sum.create += r.create;
                sum.update += r.update;
                sum.replace += r.replace;
                sum.delete += r.delete;
                sum.unchanged += r.unchanged;
            }
        }
        if let Some(f) = end.failure {
            failed.push((t, f));
        }
    }
    // In target order, whatever order they failed in.
    failed.sort_by_key(|(t, _)| targets.iter().position(|u| u.name == t.name));
    if !several {
        return match failed.pop() {
            Some((_, f)) => Err(f),
            None => Ok(Exit::Ok),
        };
    }
    if json {
        let names: Vec<&str> = failed.iter().map(|(t, _)| t.name.as_str()).collect();
        let exit = if failed.is_empty() {
            Exit::Ok
        } else {
            targets::profiles_failed(&failed, targets.len(), "applied").exit
        };
        print_json_line(&json!({
            "event": "done",
            "profiles": targets.iter().map(|t| &t.name).collect::<Vec<_>>(),
            "failed_profiles": names,
            "exit_code": exit.code(),
        }));
    } else {
        let failed_words = if failed.is_empty() {
            String::new()
        } else {
            format!(
                "; {} failed ({})",
                failed.len(),
                failed
                    .iter()
                    .map(|(t, _)| t.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        // Pools and rules, where the file has any, after the listeners.
        let resource_words: String = ["pools", "rules"]
            .iter()
            .zip(&resource_totals)
            .filter(|(_, r)| r.create + r.update + r.replace + r.delete + r.unchanged > 0)
            .map(|(kind, r)| {
                format!(
                    "; {kind}: {} created, {} updated, {} replaced, {} deleted, {} unchanged",
                    r.create, r.update, r.replace, r.delete, r.unchanged
                )
            })
            .collect();
        print(&format!(
            "\nApplied the file to {} profiles: {} created, {} updated, {} replaced, {} deleted, {} unchanged{}{resource_words}{failed_words}.\n",
            targets.len() - failed.len(),
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
    if failed.is_empty() {
        Ok(Exit::Ok)
    } else {
        Err(targets::profiles_failed(&failed, targets.len(), "applied"))
    }
}

/// The last words of an interrupted apply.
const RERUN: &str =
    "  Run `listenerctl apply` again: it re-reads the cloud and makes only what is missing, so it converges.\n";

/// Apply one profile's plan, showing progress, and print its section (at
/// once with one profile; whole, when it ends, with several).
async fn apply_one(cx: &Cx<'_>, t: &Target, provider: &Arc<dyn Provider>, p: &Plan) -> Ended {
    let Cx {
        loaded, json, several, ..
    } = *cx;
    let watch = cx.watch;
    let mut text = String::new();
    if json {
        print_json_line(&json!({ "event": "plan", "profile": t.name, "plan": PlanDoc::new(t, p) }));
    } else {
        text = format!("Applying to {}:\n{}", t.title(), plan_text(loaded, t, p, true));
        if !several {
            print(&text);
            text.clear();
        }
    }
    let mut progress = Progress::new(
        cx.mode,
        if several {
            format!("[{}] ", t.name)
        } else {
            String::new()
        },
    )
    .watching(watch.cancel())
    .for_profile(&t.name);
    if several {
        progress = progress.in_bars(cx.bars.clone());
        if !json {
            progress = progress.buffered();
        }
    }
    let options = ApplyOptions {
        allow_replace: cx.args.allow_replace,
        cancel: watch.cancel(),
        ..ApplyOptions::default()
    };
    let on_event = |e: Event| progress.event(e);
    // After a signal, steps in flight get a bounded time to end; past it
    // apply is dropped and the summary comes from the events alone.
    let report = tokio::select! {
        report = plan::apply(Arc::clone(provider), p, &options, &on_event) => Some(report),
        () = watch.deadline() => None,
    };
    let mut end = Ended::default();
    match report {
        Some(Ok(report)) => {
            end.summary = Some(p.summary());
            end.resources = [
                plan::ResourceSummary::of(&p.resources, plan::ResourceKind::Pool),
                plan::ResourceSummary::of(&p.resources, plan::ResourceKind::Rule),
            ];
            end.skipped = t.skipped.len();
            text.push_str(&progress.take_lines());
            let converged = match converged(cx, t, provider.as_ref(), &report).await {
                Ok(c) => c,
                Err(f) => {
                    end.failure = Some(f);
                    None
                }
            };
            if json {
                print_json_line(&applied_doc(t, &report, converged));
            } else {
                text.push_str(&applied_text(loaded, &report, converged));
            }
            if end.failure.is_none() && !report.failed.is_empty() {
                end.failure = Some(actions_failed(t, report.failed.len(), several));
            }
        }
        Some(Err(e)) => {
            text.push_str(&progress.take_lines());
            end.failure = Some(cloud_failure(&e, loaded, &t.name));
        }
        None => text.push_str(&progress.take_lines()),
    }
    if let Some(f) = &end.failure {
        if several && json {
            print_json_line(&failed_event(t, "apply", f));
        } else if several {
            for p in &f.problems {
                text.push_str(&format!("  error: {p}\n"));
            }
        }
    }
    if watch.signal().is_some() {
        end.interrupted = true;
        progress.clear();
        let summary = interrupt::Summary::build(plan::steps(p), &progress.tally());
        if several {
            if json {
                interrupted(watch, json, Some(t), &summary, &[]);
            } else {
                text.push_str(&summary.render_text(watch.signal().unwrap_or(interrupt::Signal::Interrupt)));
            }
        } else {
            print(&text);
            text.clear();
            interrupted(watch, json, Some(t), &summary, &[]);
        }
    }
    if !text.is_empty() {
        if several {
            // Printed between two redraws, so the spinners do not cut it.
            cx.bars.suspend(|| cx.sections.print(&text));
        } else {
            print(&text);
        }
    }
    end
}

/// Why a profile failed when some of its actions did.
fn actions_failed(t: &Target, n: usize, several: bool) -> Failure {
    let message = if several {
        format!(
            "profile `{}`: {n} actions failed (listed above); run apply again to retry what is left",
            t.name
        )
    } else {
        "some actions failed (listed above); run apply again to retry what is left".to_string()
    };
    Failure {
        exit: Exit::Error,
        kind: "apply_failed".into(),
        problems: vec![Problem::message(message)],
    }
}

/// The `profile_failed` event of a profile (several profiles, `--output json`).
fn failed_event(t: &Target, stage: &str, f: &Failure) -> serde_json::Value {
    let mut doc = targets::failed_doc(t, stage, f);
    if let Some(map) = doc.as_object_mut() {
        map.insert("event".into(), "profile_failed".into());
    }
    doc
}

/// With the emulator the state is gone after this command, so show here
/// that a second run would find nothing to do: plan again after a clean,
/// uninterrupted apply that did something. `None` when not checked.
async fn converged(
    cx: &Cx<'_>,
    t: &Target,
    provider: &dyn Provider,
    report: &ApplyReport,
) -> Result<Option<bool>, Failure> {
    if cx.session.emulated() && report.failed.is_empty() && report.done > 0 && cx.watch.signal().is_none() {
        let again = t.plan(cx.loaded, provider, cx.args.prune.mode()).await?;
        Ok(Some(!again.has_changes()))
    } else {
        Ok(None)
    }
}

/// Every replacement the plans hold, as problems pointing at the file.
fn replacements(loaded: &Loaded, plans: &[(&Target, Arc<dyn Provider>, Plan)]) -> Vec<Problem> {
    let mut out = Vec::new();
    for (t, _, p) in plans {
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
        text.push_str(RERUN);
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
    let mut doc = json!({
        "event": "applied",
        "profile": t.name,
        "api": t.written.api,
        "instance": t.written.instance,
        "done": report.done,
        "failed": report.failed,
        "listeners": placed,
        "converged": converged,
    });
    // Pools and rules, only when the plan had them: a listener-only
    // apply's document is as it was.
    if let Some(map) = doc.as_object_mut() {
        if !report.resources.is_empty() {
            map.insert("resources".into(), json!(report.resources));
        }
        if !report.skipped.is_empty() {
            map.insert("skipped".into(), json!(report.skipped));
        }
    }
    doc
}

/// What one profile's apply did, as text: failures, IDs, convergence.
fn applied_text(loaded: &Loaded, report: &ApplyReport, converged: Option<bool>) -> String {
    let mut out = String::new();
    for f in &report.failed {
        out.push_str(&format!("  failed: {} ({}): {}\n", f.name, f.kind, f.message));
    }
    out.push_str(&skipped_text(report));
    if !report.listeners.is_empty() {
        out.push_str("  Listener IDs:\n");
        out.push_str(&render::ids(&report.listeners, &loaded.file.listeners, "    "));
    }
    out.push_str(&resources_text(report));
    match converged {
        Some(true) => out.push_str("  Planned again: no changes, so a second apply would do nothing.\n"),
        Some(false) => out.push_str("  Planned again: changes remain; run apply again or see the errors above.\n"),
        None => {}
    }
    out
}

/// Steps not attempted because a resource they need is not in place.
fn skipped_text(report: &ApplyReport) -> String {
    let mut out = String::new();
    for skipped in &report.skipped {
        out.push_str(&format!(
            "  skipped: {} {} (a resource it needs is not in place)\n",
            skipped.verb, skipped.name
        ));
    }
    out
}

/// The pools and rules an apply created or updated, with their IDs.
fn resources_text(report: &ApplyReport) -> String {
    let mut out = String::new();
    let placed: Vec<_> = report.resources.iter().filter(|r| r.verb != "delete").collect();
    if !placed.is_empty() {
        out.push_str("  Pool and rule IDs:\n");
        for r in placed {
            out.push_str(&format!(
                "    {} {}: {}\n",
                r.kind,
                r.name,
                r.id.as_deref().unwrap_or("-")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloud_listeners::plan::{ResourceDone, Step};

    #[test]
    fn pool_and_rule_ids_and_skipped_steps_are_listed() {
        let report = ApplyReport {
            resources: vec![
                ResourceDone {
                    kind: "pool",
                    verb: "create",
                    name: "web".into(),
                    id: Some("sgp-1".into()),
                },
                ResourceDone {
                    kind: "rule",
                    verb: "delete",
                    name: "shop:80 www.example.com/old".into(),
                    id: Some("rule-9".into()),
                },
            ],
            skipped: vec![Step {
                verb: "create",
                name: "rule shop:80 api.example.com/v1".into(),
                ports: String::new(),
            }],
            ..ApplyReport::default()
        };
        assert_eq!(resources_text(&report), "  Pool and rule IDs:\n    pool web: sgp-1\n");
        assert_eq!(
            skipped_text(&report),
            "  skipped: create rule shop:80 api.example.com/v1 (a resource it needs is not in place)\n"
        );
        assert_eq!(resources_text(&ApplyReport::default()), "");
    }
}
