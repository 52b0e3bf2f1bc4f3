//! `listenerctl plan`: what `apply` would do, per profile.

use clap::Args as ClapArgs;
use serde_json::json;

use super::Run;
use crate::cli::{Global, PruneArgs, Remote, Source};
use crate::diag::{Exit, Failure};
use crate::load::Loaded;
use crate::output::{json_out, print, print_json};
use crate::session::Session;
use crate::targets::{self, plan_text, PlanDoc, Sections, Target};

/// Compare the file with the listeners on the instance and print what
/// `apply` would do. Exit 0 when nothing would change, 3 when it would.
#[derive(Debug, Clone, ClapArgs)]
pub struct Args {
    /// The file, the profile and where to send calls.
    #[command(flatten)]
    pub remote: Remote,

    /// Which listeners the file does not name to delete.
    #[command(flatten)]
    pub prune: PruneArgs,

    /// Plan for every profile of the file, all at once, skipping listeners
    /// a profile cannot take. Takes precedence over --profile and
    /// LISTENERCTL_PROFILE. A profile that fails does not stop the others.
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
            plan(global, loaded, session, targets, self).await
        })
    }
}

async fn plan(
    global: &Global,
    loaded: &Loaded,
    session: &Session,
    targets: &[Target],
    args: &Args,
) -> Result<Exit, Failure> {
    let json = json_out(global);
    // One document (or section) per profile; with several, the JSON is a
    // `profiles` list even when only one was named twice.
    let several = args.all_profiles || targets.len() > 1;
    let sections = Sections::default();
    let results = targets::each(targets, |t| {
        let sections = &sections;
        async move {
            let r = targets::plan_one(loaded, session, t, args.prune.mode()).await;
            // Text sections appear as each profile's plan is ready.
            if several && !json {
                match &r {
                    Ok((_, p)) => {
                        sections.print(&format!("Plan for {}:\n{}", t.title(), plan_text(loaded, t, p, false)))
                    }
                    Err(f) => sections.print(&targets::failed_text("Plan for", t, f)),
                }
            }
            r
        }
    })
    .await;
    if !several {
        // One profile: its failure is the command's, as it always was.
        let (Some(t), Some(r)) = (targets.first(), results.into_iter().next()) else {
            return Ok(Exit::Ok);
        };
        let (_, p) = r?;
        if json {
            print_json(&PlanDoc::new(t, &p));
        } else {
            print(&format!("Plan for {}:\n{}", t.title(), plan_text(loaded, t, &p, false)));
        }
        return Ok(if p.has_changes() { Exit::Changes } else { Exit::Ok });
    }
    let mut failed = Vec::new();
    let mut changes = false;
    let mut docs = Vec::new();
    let mut failed_docs = Vec::new();
    for (t, r) in targets.iter().zip(&results) {
        match r {
            Ok((_, p)) => {
                changes |= p.has_changes();
                docs.push(PlanDoc::new(t, p));
            }
            Err(f) => {
                failed_docs.push(targets::failed_doc(t, "plan", f));
                failed.push((t, f.clone()));
            }
        }
    }
    if json {
        if failed_docs.is_empty() {
            print_json(&json!({ "profiles": docs }));
        } else {
            print_json(&json!({ "profiles": docs, "failed": failed_docs }));
        }
    }
    if !failed.is_empty() {
        return Err(targets::profiles_failed(&failed, targets.len(), "planned"));
    }
    Ok(if changes { Exit::Changes } else { Exit::Ok })
}
