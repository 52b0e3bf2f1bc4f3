//! The profiles a `plan` or `apply` runs against, their plans, and the
//! plan as text and JSON: what the two commands share.
//!
//! Every target is checked offline (profile settings, vendor rules) before
//! a session is opened, and planned before anything is changed, so a
//! refusal on any profile stops the command with nothing sent. From the
//! session on, several targets are worked on at the same time ([`each`]),
//! and one that fails is reported ([`profiles_failed`]) without stopping
//! the others.

use std::sync::Arc;

use cloud_listeners::plan::{self, Action, Plan};
use cloud_listeners::{ListenerSpec, ProfileConfig, Provider, Rejection, Warning};
use serde::Serialize;

use crate::cli::Global;
use crate::diag::{Exit, Failure, Problem};
use crate::load::Loaded;
use crate::render;
use crate::session::{cloud_failure, Session};

/// One profile a command runs against, with the listeners it will manage.
pub struct Target {
    /// The profile's name.
    pub name: String,
    /// The profile as written (for display).
    pub written: ProfileConfig,
    /// The listeners to manage here, with their index in the file.
    pub listeners: Vec<(usize, ListenerSpec)>,
    /// Listeners this profile cannot take (only with `--all-profiles`).
    pub skipped: Vec<Skipped>,
    /// What the offline check warns about on this profile (a default quota
    /// passed, a deprecated parameter): shown, never a refusal.
    pub warnings: Vec<Warned>,
}

/// One warning of the offline check on one profile, with the listener it
/// concerns.
#[derive(Debug, Clone, Serialize)]
pub struct Warned {
    index: usize,
    name: String,
    warning: Warning,
}

fn warned(loaded: &Loaded, warnings: Vec<(usize, Warning)>) -> Vec<Warned> {
    warnings
        .into_iter()
        .map(|(index, warning)| Warned {
            index,
            name: loaded
                .file
                .listeners
                .get(index)
                .map(|s| s.name.clone())
                .unwrap_or_default(),
            warning,
        })
        .collect()
}

/// A listener left out on one profile, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    index: usize,
    name: String,
    rejections: Vec<Rejection>,
}

impl Target {
    fn specs(&self) -> Vec<ListenerSpec> {
        self.listeners.iter().map(|(_, s)| s.clone()).collect()
    }

    /// Read the instance and plan this target's listeners. The plan's
    /// indices are positions in the file. The plan gets the whole file as
    /// well as the target's listeners, so a listener the file names is
    /// never pruned on a profile that skips it.
    pub async fn plan(&self, loaded: &Loaded, provider: &dyn Provider, prune: plan::Prune) -> Result<Plan, Failure> {
        let resources = plan::FileResources {
            backends: &loaded.file.backends,
            aliases: &self.written.aliases,
        };
        let mut p = plan::plan_with_resources(provider, &self.specs(), &loaded.file.listeners, resources, prune)
            .await
            .map_err(|e| cloud_failure(&e, loaded, &self.name))?;
        self.to_file_indices(&mut p);
        Ok(p)
    }

    /// The facade numbers planned listeners by their position in the
    /// `desired` slice it was given (`specs()`); scripts and messages need
    /// positions in the file. Planning with file positions from the start
    /// needs the facade to take `(index, spec)` pairs.
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
        for r in &mut plan.resources {
            if let Some(index) = &mut r.index {
                if let Some((file_index, _)) = self.listeners.get(*index) {
                    *index = *file_index;
                }
            }
        }
    }

    /// `profile tencent-clb (instance lb-1)`, as plan and apply head it.
    pub fn title(&self) -> String {
        render::target(&self.name, &self.written.api, &self.written.instance)
    }
}

/// The profiles of a `plan`/`apply`, each checked offline. With
/// `--all-profiles` a listener a profile cannot take is skipped there;
/// otherwise any rejection stops the command (exit 2).
pub fn targets(loaded: &Loaded, global: &Global, all_profiles: bool) -> Result<Vec<Target>, Failure> {
    if all_profiles {
        if loaded.file.profiles.is_empty() {
            return Err(loaded
                .select(None)
                .err()
                .unwrap_or_else(|| Failure::invalid("profile", Problem::message("the file has no profiles"))));
        }
        let mut out = Vec::new();
        for name in loaded.file.profiles.keys() {
            let checked = loaded.check(name)?;
            let rejections = checked.rejections;
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
                warnings: warned(loaded, checked.warnings),
            });
        }
        Ok(out)
    } else if global.profiles.len() > 1 {
        // Several --profile: each must take every listener, as one does.
        let mut out = Vec::new();
        for requested in &global.profiles {
            let (name, _) = loaded.select(Some(requested))?;
            let warnings = loaded.require_accepted(&name)?;
            out.push(Target {
                written: loaded.profile(&name).clone(),
                listeners: loaded.file.listeners.iter().cloned().enumerate().collect(),
                skipped: Vec::new(),
                warnings: warned(loaded, warnings),
                name,
            });
        }
        Ok(out)
    } else {
        let (name, _) = loaded.select(global.profile.as_deref())?;
        let warnings = loaded.require_accepted(&name)?;
        Ok(vec![Target {
            written: loaded.profile(&name).clone(),
            listeners: loaded.file.listeners.iter().cloned().enumerate().collect(),
            skipped: Vec::new(),
            warnings: warned(loaded, warnings),
            name,
        }])
    }
}

/// The frame of `plan` and `apply`: load the file, pick and check the
/// profiles offline, open the session (starting the emulator when asked),
/// run `body`, and close the session whatever `body` returned.
pub fn run_with(
    global: &Global,
    all_profiles: bool,
    body: impl AsyncFnOnce(&Loaded, &Session, &[Target]) -> Result<Exit, Failure>,
) -> Result<Exit, Failure> {
    crate::session::block_on(async {
        let loaded = crate::load::load(global.file.as_deref())?;
        let targets = targets(&loaded, global, all_profiles)?;
        let session = Session::open(global, &profiles(&targets)).await?;
        let outcome = body(&loaded, &session, &targets).await;
        session.close().await;
        outcome
    })
}

/// The targets' profiles, to seed the emulator with.
pub fn profiles(targets: &[Target]) -> Vec<(&str, &ProfileConfig)> {
    targets.iter().map(|t| (t.name.as_str(), &t.written)).collect()
}

/// Plan one target with its provider.
pub async fn plan_one(
    loaded: &Loaded,
    session: &Session,
    t: &Target,
    prune: plan::Prune,
) -> Result<(Arc<dyn Provider>, Plan), Failure> {
    let provider = session.provider(loaded, &t.name, &t.written)?;
    let p = t.plan(loaded, provider.as_ref(), prune).await?;
    Ok((provider, p))
}

/// Run `work` on every target at the same time and return the results in
/// target order. Instances are independent and the vendors' rate limits
/// are per account and action (the API clients share one limiter per
/// account, endpoint and rate in the process), so several profiles take
/// about as long as the slowest one, not the sum. All run on this task:
/// the work is waiting on the network, not computing.
pub async fn each<'t, T, F, Fut>(targets: &'t [Target], work: F) -> Vec<T>
where
    F: Fn(&'t Target) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    futures::future::join_all(targets.iter().map(work)).await
}

/// Sections printed one after another, as profiles finish, separated by a
/// blank line. Each is printed with one write, so two profiles' lines are
/// never interleaved.
#[derive(Debug, Default)]
pub struct Sections {
    printed: std::sync::atomic::AtomicUsize,
}

impl Sections {
    /// Print `text` as the next section.
    pub fn print(&self, text: &str) {
        let n = self.printed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if n > 0 {
            crate::output::print(&format!("\n{text}"));
        } else {
            crate::output::print(text);
        }
    }
}

/// A profile that failed, as JSON (in `plan`'s `failed` list and in
/// `apply`'s `failed` event): the profile, and the error document that a
/// one-profile run would have written to stderr.
pub fn failed_doc(t: &Target, stage: &str, f: &Failure) -> serde_json::Value {
    serde_json::json!({
        "profile": t.name,
        "api": t.written.api,
        "instance": t.written.instance,
        "stage": stage,
        "error": {
            "kind": f.kind,
            "exit_code": f.exit.code(),
            "problems": f.problems,
        },
    })
}

/// A failed profile's section in text: its title and its problems.
pub fn failed_text(heading: &str, t: &Target, f: &Failure) -> String {
    let mut out = format!("{heading} {}: failed ({})\n", t.title(), f.kind);
    for p in &f.problems {
        out.push_str(&format!("  error: {p}\n"));
    }
    out
}

/// The failure that ends a run on several profiles when some failed: its
/// exit code is the failures' own when they agree (1 for the cloud, 2 for a
/// refused request), else 1; its first problem names the failed profiles,
/// the rest are theirs. The others' work stands and was printed already.
pub fn profiles_failed(failed: &[(&Target, Failure)], total: usize, done: &str) -> Failure {
    let exit = match failed.first() {
        Some((_, f)) if failed.iter().all(|(_, g)| g.exit == f.exit) => f.exit,
        _ => Exit::Error,
    };
    let names: Vec<String> = failed.iter().map(|(t, f)| format!("{} ({})", t.name, f.kind)).collect();
    let mut problems = vec![Problem {
        field: Some("profiles".into()),
        ..Problem::message(format!(
            "{} of {total} profiles failed: {}; the other profiles were {done} (see above)",
            failed.len(),
            names.join(", ")
        ))
    }];
    for (_, f) in failed {
        problems.extend(f.problems.iter().cloned());
    }
    Failure {
        exit,
        kind: "profiles_failed".into(),
        problems,
    }
}

/// One target's plan as JSON (`plan -o json`, and apply's `plan` event).
#[derive(Serialize)]
pub struct PlanDoc<'a> {
    profile: &'a str,
    api: &'a str,
    instance: &'a str,
    /// The profile's owner: the management mark its listeners carry.
    owner: &'a str,
    has_changes: bool,
    summary: plan::Summary,
    actions: &'a [Action],
    /// Pools and rules beside the listeners, absent when there are none.
    #[serde(skip_serializing_if = "<[plan::ResourceAction]>::is_empty")]
    resources: &'a [plan::ResourceAction],
    #[serde(skip_serializing_if = "<[Skipped]>::is_empty")]
    skipped: &'a [Skipped],
    /// `[{index, name, warning: {vendor, field, rule, message}}]`, absent
    /// when there is none.
    #[serde(skip_serializing_if = "<[Warned]>::is_empty")]
    warnings: &'a [Warned],
}

impl<'a> PlanDoc<'a> {
    /// The document for target `t` and its plan `p`.
    pub fn new(t: &'a Target, p: &'a Plan) -> PlanDoc<'a> {
        PlanDoc {
            profile: &t.name,
            api: &t.written.api,
            instance: &t.written.instance,
            owner: t.written.owner(),
            has_changes: p.has_changes(),
            summary: p.summary(),
            actions: &p.actions,
            resources: &p.resources,
            skipped: &t.skipped,
            warnings: &t.warnings,
        }
    }
}

/// One target's plan as text: the listeners it skips and why, then the
/// actions (or why there are none).
pub fn plan_text(loaded: &Loaded, t: &Target, p: &Plan, allow_replace: bool) -> String {
    let mut out = skipped_text(t);
    out.push_str(&warnings_text(t));
    if p.actions.is_empty() && !t.skipped.is_empty() {
        out.push_str("  nothing to do: no listener of the file fits this profile\n");
    } else {
        out.push_str(&render::plan(p, &loaded.file.listeners, allow_replace));
    }
    out
}

fn warnings_text(t: &Target) -> String {
    let mut out = String::new();
    for w in &t.warnings {
        let v = &w.warning;
        out.push_str(&format!(
            "  ! warning    {}: {}: {} [{}] {}\n",
            w.name, v.vendor, v.field, v.rule, v.message
        ));
    }
    out
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
