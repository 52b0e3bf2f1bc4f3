//! The subcommands, each a thin sequence of facade calls.
//!
//! The order inside every command is the safety argument: everything that
//! needs no network (parsing, neutral rules, profile selection, the vendor
//! rules of every profile involved) runs first, and only then is a provider
//! built, an emulator started or a request sent. Planning and applying are
//! the facade's (`cloud_listeners::plan`); this module picks profiles,
//! prints, and maps outcomes to exit codes.

use std::io::Write;
use std::sync::Arc;

use cloud_listeners::plan::{self, Action, ApplyOptions, ApplyReport, Event, Plan};
use cloud_listeners::{ConfigFile, Listener, ListenerId, ListenerSpec, ProfileConfig, Provider, Rejection};
use serde::Serialize;
use serde_json::json;

use crate::cli::{ApplyArgs, Command, Global, OutputFormat, PlanArgs};
use crate::diag::{listener_field, Exit, Failure, Problem};
use crate::emulate::Emulator;
use crate::interrupt;
use crate::load::{self, Loaded};
use crate::progress::{Mode, Progress};
use crate::render;
use crate::report::Portability;

/// Run one parsed command line; the `Ok` value is the exit code.
pub fn run(global: &Global, command: &Command) -> Result<Exit, Failure> {
    match command {
        Command::Schema => schema(),
        Command::Capabilities { markdown } => capabilities(global, *markdown),
        Command::Completion { shell } => completion(*shell),
        Command::Validate(_) => validate(global),
        networked => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .map_err(|e| load::runtime_failure(format!("cannot start the async runtime: {e}")))?;
            runtime.block_on(run_networked(global, networked))
        }
    }
}

fn json_out(global: &Global) -> bool {
    global.output == OutputFormat::Json
}

fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

fn print_json<T: Serialize>(value: &T) {
    print(&format!(
        "{}\n",
        serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    ));
}

fn print_json_line<T: Serialize>(value: &T) {
    print(&format!("{}\n", serde_json::to_string(value).unwrap_or_default()));
}

/// The JSON Schema of the listeners file, as committed in
/// `docs/listeners.schema.json` (a test keeps the two equal).
///
/// It is generated from the types the parser reads, with the ranges and
/// patterns the neutral validation enforces (the same constants, through
/// `schemars` attributes). The one thing added here is the list of API
/// names, because `listener-core` names no vendor: it is the facade's
/// [`cloud_listeners::KNOWN_APIS`], the list its `unknown API` check uses.
/// What needs two fields at once or a vendor's rules is not in the schema;
/// `listenerctl validate` checks it.
pub fn schema_json() -> String {
    let mut schema = schemars::schema_for!(ConfigFile);
    if let Some(api) = schema.pointer_mut("/$defs/ProfileConfig/properties/api") {
        api["enum"] = json!(cloud_listeners::KNOWN_APIS);
    }
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema always serializes");
    text.push('\n');
    text
}

fn schema() -> Result<Exit, Failure> {
    print(&schema_json());
    Ok(Exit::Ok)
}

/// A completion script for `shell`, made from the same clap definition that
/// parses the command line, so it cannot offer a flag that does not exist.
fn completion(shell: clap_complete::Shell) -> Result<Exit, Failure> {
    use clap::CommandFactory;
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut crate::cli::Cli::command(), "listenerctl", &mut out);
    print(&String::from_utf8_lossy(&out));
    Ok(Exit::Ok)
}

fn capabilities(global: &Global, markdown: bool) -> Result<Exit, Failure> {
    if json_out(global) {
        print_json(&cloud_listeners::all_capabilities());
    } else if markdown {
        print(&cloud_listeners::capabilities_markdown());
    } else {
        let all = cloud_listeners::all_capabilities();
        if all.is_empty() {
            print("No adapter is compiled into this build.\n");
        } else {
            print(&cloud_listeners::Capabilities::markdown_table(&all));
        }
    }
    Ok(Exit::Ok)
}

/// Every offline check a real run makes, over every profile. The report
/// covers all profiles; the run fails (exit 2) when a profile's own
/// settings are refused, or when the selected profile rejects a listener.
/// The selected profile is the one named with `--profile` or
/// `LISTENERCTL_PROFILE`, or the file's only profile: with one profile
/// there is nowhere else the file could go, so a listener it rejects (an
/// unknown certificate alias, say) is an error, not a portability note.
/// `default_profile` alone does not select: a file for several clouds is
/// reported, not failed, for what one of them cannot take.
fn validate(global: &Global) -> Result<Exit, Failure> {
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

/// One profile a command runs against, with the listeners it will manage.
struct Target {
    name: String,
    /// The profile as written (for display).
    written: ProfileConfig,
    /// The listeners to manage here, with their index in the file.
    listeners: Vec<(usize, ListenerSpec)>,
    /// Listeners this profile cannot take (only with `--all-profiles`).
    skipped: Vec<Skipped>,
}

/// A listener left out on one profile, and why.
#[derive(Debug, Clone, Serialize)]
struct Skipped {
    index: usize,
    name: String,
    rejections: Vec<Rejection>,
}

impl Target {
    fn specs(&self) -> Vec<ListenerSpec> {
        self.listeners.iter().map(|(_, s)| s.clone()).collect()
    }

    /// Plan indices are positions in `specs()`; scripts and messages need
    /// positions in the file.
    fn to_file_indices(&self, plan: &mut Plan) {
        for a in &mut plan.actions {
            match a {
                Action::Create { index, .. }
                | Action::Update { index, .. }
                | Action::Replace { index, .. }
                | Action::Unchanged { index, .. } => {
                    if let Some((file_index, _)) = self.listeners.get(*index) {
                        *index = *file_index;
                    }
                }
                // Already a position in the file: planning gets the file.
                Action::Delete { .. } | Action::Unmanaged { .. } | Action::Kept { .. } => {}
            }
        }
    }

    fn title(&self) -> String {
        render::target(&self.name, &self.written.api, &self.written.instance)
    }
}

/// The profiles of a `plan`/`apply`, each checked offline. With
/// `--all-profiles` a listener a profile cannot take is skipped there;
/// otherwise any rejection stops the command (exit 2).
fn targets(loaded: &Loaded, global: &Global, all_profiles: bool) -> Result<Vec<Target>, Failure> {
    if all_profiles {
        if loaded.file.profiles.is_empty() {
            return Err(loaded
                .select(None)
                .err()
                .unwrap_or_else(|| Failure::invalid("profile", Problem::message("the file has no profiles"))));
        }
        let mut out = Vec::new();
        for name in loaded.file.profiles.keys() {
            let rejections = loaded.check(name)?;
            let mut listeners = Vec::new();
            let mut skipped = Vec::new();
            for (i, spec) in loaded.file.listeners.iter().enumerate() {
                let mine: Vec<Rejection> = rejections
                    .iter()
                    .filter(|(j, _)| *j == i)
                    .map(|(_, r)| r.clone())
                    .collect();
                if mine.is_empty() {
                    listeners.push((i, spec.clone()));
                } else {
                    skipped.push(Skipped {
                        index: i,
                        name: spec.name.clone(),
                        rejections: mine,
                    });
                }
            }
            out.push(Target {
                name: name.clone(),
                written: loaded.profile(name).clone(),
                listeners,
                skipped,
            });
        }
        Ok(out)
    } else {
        let (name, _) = loaded.select(global.profile.as_deref())?;
        loaded.require_accepted(&name)?;
        Ok(vec![Target {
            written: loaded.profile(&name).clone(),
            listeners: loaded.file.listeners.iter().cloned().enumerate().collect(),
            skipped: Vec::new(),
            name,
        }])
    }
}

/// The connection to the cloud (or the emulator) for a set of profiles.
struct Session {
    emulator: Option<Emulator>,
}

impl Session {
    /// Starts the emulator when asked, seeded with the targets' instances.
    /// Called only after every offline check passed.
    async fn open(global: &Global, profiles: &[(&str, &ProfileConfig)]) -> Result<Session, Failure> {
        let emulator = if global.emulate {
            let em = Emulator::start(profiles).await?;
            if !json_out(global) {
                eprintln!(
                    "Emulator listening on {} (in-process; it stops when this command ends).",
                    em.url()
                );
            }
            Some(em)
        } else {
            None
        };
        Ok(Session { emulator })
    }

    /// The provider for profile `name`; errors name the profile's fields.
    fn provider(&self, loaded: &Loaded, name: &str, profile: &ProfileConfig) -> Result<Arc<dyn Provider>, Failure> {
        let effective = match &self.emulator {
            Some(em) => em.profile(profile),
            None => profile.clone(),
        };
        cloud_listeners::provider_from_profile(&effective)
            .map_err(|e| Failure::from_error(&e, Some(&loaded.path), Some(&loaded.locator), Some(name)))
    }

    async fn close(self) {
        if let Some(em) = self.emulator {
            em.shutdown().await;
        }
    }
}

async fn run_networked(global: &Global, command: &Command) -> Result<Exit, Failure> {
    let loaded = load::load(global.file.as_deref())?;
    match command {
        Command::Plan(args) => {
            let targets = targets(&loaded, global, args.all_profiles)?;
            let session = Session::open(global, &targets_profiles(&targets)).await?;
            let outcome = plan_cmd(global, &loaded, &session, &targets, args).await;
            session.close().await;
            outcome
        }
        Command::Apply(args) => {
            let targets = targets(&loaded, global, args.all_profiles)?;
            let session = Session::open(global, &targets_profiles(&targets)).await?;
            let outcome = apply_cmd(global, &loaded, &session, &targets, args).await;
            session.close().await;
            outcome
        }
        Command::Get { .. } | Command::Delete { .. } | Command::List { .. } => {
            let (name, _) = loaded.select(global.profile.as_deref())?;
            loaded.check_profile(&name)?;
            let profile = loaded.profile(&name).clone();
            let session = Session::open(global, &[(name.as_str(), &profile)]).await?;
            let one = One {
                global,
                loaded: &loaded,
                session: &session,
                name: &name,
                profile: &profile,
            };
            let outcome = match command {
                Command::Get { id, .. } => one.get(id).await,
                Command::Delete { id, .. } => one.delete(id).await,
                _ => one.list().await,
            };
            session.close().await;
            outcome
        }
        _ => unreachable!("offline commands are dispatched in run()"),
    }
}

fn targets_profiles(targets: &[Target]) -> Vec<(&str, &ProfileConfig)> {
    targets.iter().map(|t| (t.name.as_str(), &t.written)).collect()
}

fn cloud_failure(err: &cloud_listeners::Error, loaded: &Loaded, profile: &str) -> Failure {
    let mut f = Failure::from_error(err, Some(&loaded.path), Some(&loaded.locator), Some(profile));
    for p in &mut f.problems {
        if p.file.is_none() {
            p.message = format!("profile `{profile}`: {}", p.message);
        }
    }
    f
}

#[derive(Serialize)]
struct PlanDoc<'a> {
    profile: &'a str,
    api: &'a str,
    instance: &'a str,
    has_changes: bool,
    summary: plan::Summary,
    actions: &'a [Action],
    #[serde(skip_serializing_if = "<[Skipped]>::is_empty")]
    skipped: &'a [Skipped],
}

fn plan_doc<'a>(t: &'a Target, p: &'a Plan) -> PlanDoc<'a> {
    PlanDoc {
        profile: &t.name,
        api: &t.written.api,
        instance: &t.written.instance,
        has_changes: p.has_changes(),
        summary: p.summary(),
        actions: &p.actions,
        skipped: &t.skipped,
    }
}

fn skipped_text(t: &Target) -> String {
    let mut out = String::new();
    for s in &t.skipped {
        out.push_str(&format!("  x skipped    {}: this profile cannot take it\n", s.name));
        for r in &s.rejections {
            out.push_str(&format!(
                "        {}: {} [{}] {}\n",
                r.vendor, r.field, r.rule, r.reason
            ));
        }
    }
    out
}

/// The plan as text, or why there is none when the profile takes nothing.
fn plan_text(loaded: &Loaded, t: &Target, p: &Plan, allow_replace: bool) -> String {
    if p.actions.is_empty() && !t.skipped.is_empty() {
        "  nothing to do: no listener of the file fits this profile\n".to_string()
    } else {
        render::plan(p, &loaded.file.listeners, allow_replace)
    }
}

/// Plan every target; the plans' indices are positions in the file.
/// Each plan gets the whole file as well as the target's listeners, so a
/// listener the file names is never pruned on a profile that skips it.
async fn plan_all(
    loaded: &Loaded,
    session: &Session,
    targets: &[Target],
    prune: bool,
) -> Result<Vec<(Arc<dyn Provider>, Plan)>, Failure> {
    let mut out = Vec::new();
    for t in targets {
        let provider = session.provider(loaded, &t.name, &t.written)?;
        let mut p = plan::plan_for_file(provider.as_ref(), &t.specs(), &loaded.file.listeners, prune)
            .await
            .map_err(|e| cloud_failure(&e, loaded, &t.name))?;
        t.to_file_indices(&mut p);
        out.push((provider, p));
    }
    Ok(out)
}

async fn plan_cmd(
    global: &Global,
    loaded: &Loaded,
    session: &Session,
    targets: &[Target],
    args: &PlanArgs,
) -> Result<Exit, Failure> {
    let plans = plan_all(loaded, session, targets, args.prune).await?;
    if json_out(global) {
        let docs: Vec<PlanDoc> = targets.iter().zip(&plans).map(|(t, (_, p))| plan_doc(t, p)).collect();
        if args.all_profiles {
            print_json(&json!({ "profiles": docs }));
        } else {
            print_json(&docs[0]);
        }
    } else {
        let mut text = String::new();
        for (i, (t, (_, p))) in targets.iter().zip(&plans).enumerate() {
            if i > 0 {
                text.push('\n');
            }
            text.push_str(&format!("Plan for {}:\n", t.title()));
            text.push_str(&skipped_text(t));
            text.push_str(&plan_text(loaded, t, p, false));
        }
        print(&text);
    }
    Ok(if plans.iter().any(|(_, p)| p.has_changes()) {
        Exit::Changes
    } else {
        Exit::Ok
    })
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

#[derive(Serialize)]
struct Placed<'a> {
    index: usize,
    listener: &'a Listener,
}

async fn apply_cmd(
    global: &Global,
    loaded: &Loaded,
    session: &Session,
    targets: &[Target],
    args: &ApplyArgs,
) -> Result<Exit, Failure> {
    let json = json_out(global);
    // From here on Ctrl-C and SIGTERM stop apply in order (see `interrupt`).
    let watch = interrupt::Watch::start(json)?;
    let plans = tokio::select! {
        plans = plan_all(loaded, session, targets, args.prune) => plans?,
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
            print_json_line(&json!({ "event": "plan", "plan": plan_doc(t, p) }));
        } else {
            if i > 0 {
                print("\n");
            }
            print(&format!("Applying to {}:\n", t.title()));
            print(&skipped_text(t));
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
            // With the emulator the state is gone after this command, so show
            // here that a second run would find nothing to do.
            let converged = if session.emulator.is_some()
                && report.failed.is_empty()
                && report.done > 0
                && watch.signal().is_none()
            {
                let mut again = plan::plan_for_file(provider.as_ref(), &t.specs(), &loaded.file.listeners, args.prune)
                    .await
                    .map_err(|e| cloud_failure(&e, loaded, &t.name))?;
                t.to_file_indices(&mut again);
                Some(!again.has_changes())
            } else {
                None
            };
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

/// A command about listeners of one profile by ID.
struct One<'a> {
    global: &'a Global,
    loaded: &'a Loaded,
    session: &'a Session,
    name: &'a str,
    profile: &'a ProfileConfig,
}

impl One<'_> {
    fn provider(&self) -> Result<Arc<dyn Provider>, Failure> {
        self.session.provider(self.loaded, self.name, self.profile)
    }

    fn fail(&self, e: &cloud_listeners::Error) -> Failure {
        cloud_failure(e, self.loaded, self.name)
    }

    async fn get(&self, id: &str) -> Result<Exit, Failure> {
        let l = self
            .provider()?
            .get(&ListenerId(id.to_string()))
            .await
            .map_err(|e| self.fail(&e))?;
        if json_out(self.global) {
            print_json(&l);
        } else {
            print(&render::listener(&l));
        }
        Ok(Exit::Ok)
    }

    /// Delete one listener the user names. The provider proves the ID is
    /// on the profile's instance before sending anything; an ID that is
    /// not there (mistyped, already deleted, or another instance's) is
    /// exit 1 with "not found on instance X", never "deleted".
    async fn delete(&self, id: &str) -> Result<Exit, Failure> {
        let id = ListenerId(id.to_string());
        self.provider()?.delete(&id).await.map_err(|e| match e {
            cloud_listeners::Error::NotFound { .. } | cloud_listeners::Error::NotOwned { .. } => {
                let mut f = self.fail(&e);
                let elsewhere = match &e {
                    cloud_listeners::Error::NotOwned { owner: Some(o), .. } => format!(" (it is on {o})"),
                    _ => String::new(),
                };
                if let Some(p) = f.problems.first_mut() {
                    p.message = format!(
                        "profile `{}`: listener {id} not found on instance {}{elsewhere}; nothing was deleted",
                        self.name, self.profile.instance
                    );
                }
                f
            }
            other => self.fail(&other),
        })?;
        if json_out(self.global) {
            print_json(&json!({ "deleted": id, "profile": self.name, "instance": self.profile.instance }));
        } else {
            print(&format!(
                "deleted {id} from {}\n",
                render::target(self.name, &self.profile.api, &self.profile.instance)
            ));
        }
        Ok(Exit::Ok)
    }

    async fn list(&self) -> Result<Exit, Failure> {
        let list = self.provider()?.list().await.map_err(|e| self.fail(&e))?;
        if json_out(self.global) {
            print_json(&list);
        } else {
            print(&render::listener_table(&list));
        }
        Ok(Exit::Ok)
    }
}
