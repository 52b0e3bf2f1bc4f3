//! `listenerctl plan`: what `apply` would do, per profile.

use clap::Args as ClapArgs;
use serde_json::json;

use super::Run;
use crate::cli::{Global, Remote, Source};
use crate::diag::{Exit, Failure};
use crate::load::Loaded;
use crate::output::{json_out, print, print_json};
use crate::session::Session;
use crate::targets::{self, plan_text, PlanDoc, Target};

/// Compare the file with the listeners on the instance and print what
/// `apply` would do. Exit 0 when nothing would change, 3 when it would.
#[derive(Debug, Clone, ClapArgs)]
pub struct Args {
    /// The file, the profile and where to send calls.
    #[command(flatten)]
    pub remote: Remote,

    /// Also plan deleting listeners on the instance that the file does not name.
    #[arg(long)]
    pub prune: bool,

    /// Plan for every profile of the file in turn, skipping listeners a
    /// profile cannot take. Takes precedence over --profile and
    /// LISTENERCTL_PROFILE.
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
    let plans = targets::plan_all(loaded, session, targets, args.prune).await?;
    if json_out(global) {
        let docs: Vec<PlanDoc> = targets
            .iter()
            .zip(&plans)
            .map(|(t, (_, p))| PlanDoc::new(t, p))
            .collect();
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
