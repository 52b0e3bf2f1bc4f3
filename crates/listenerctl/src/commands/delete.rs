//! `listenerctl delete`: one listener by ID, only on the profile's instance.

use clap::Args as ClapArgs;
use cloud_listeners::ListenerId;
use serde_json::json;

use super::Run;
use crate::cli::{Global, Remote, Source};
use crate::diag::{Exit, Failure};
use crate::output::{json_out, print, print_json};
use crate::render;
use crate::session::{block_on, OneProfile};

/// Delete one listener of the selected profile's instance.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The file, the profile and where to send calls.
    #[command(flatten)]
    pub remote: Remote,
    /// The vendor's listener ID.
    pub id: String,
}

impl Run for Args {
    fn source(&self) -> Option<&Source> {
        Some(&self.remote.source)
    }

    fn emulate(&self) -> bool {
        self.remote.emulate
    }

    fn run(&self, global: &Global) -> Result<Exit, Failure> {
        block_on(async {
            let one = OneProfile::open(global).await?;
            let outcome = delete(global, &one, &self.id).await;
            one.close().await;
            outcome
        })
    }
}

/// Delete one listener the user names. The provider proves the ID is on
/// the profile's instance before sending anything; an ID that is not there
/// (mistyped, already deleted, or another instance's) is exit 1 with "not
/// found on instance X", never "deleted".
async fn delete(global: &Global, one: &OneProfile, id: &str) -> Result<Exit, Failure> {
    let id = ListenerId(id.to_string());
    one.provider()?.delete(&id).await.map_err(|e| match e {
        cloud_listeners::Error::NotFound { .. } | cloud_listeners::Error::NotOwned { .. } => {
            let mut f = one.fail(&e);
            let elsewhere = match &e {
                cloud_listeners::Error::NotOwned { owner: Some(o), .. } => format!(" (it is on {o})"),
                _ => String::new(),
            };
            if let Some(p) = f.problems.first_mut() {
                p.message = format!(
                    "profile `{}`: listener {id} not found on instance {}{elsewhere}; nothing was deleted",
                    one.name, one.profile.instance
                );
            }
            f
        }
        other => one.fail(&other),
    })?;
    if json_out(global) {
        print_json(&json!({ "deleted": id, "profile": one.name, "instance": one.profile.instance }));
    } else {
        print(&format!(
            "deleted {id} from {}\n",
            render::target(&one.name, &one.profile.api, &one.profile.instance)
        ));
    }
    Ok(Exit::Ok)
}
