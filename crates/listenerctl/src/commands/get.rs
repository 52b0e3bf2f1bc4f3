//! `listenerctl get`: one listener by ID.

use clap::Args as ClapArgs;
use cloud_listeners::ListenerId;

use super::Run;
use crate::cli::{Global, Remote, Source};
use crate::diag::{Exit, Failure};
use crate::output::{json_out, print, print_json};
use crate::render;
use crate::session::{block_on, OneProfile};

/// Show one listener of the selected profile's instance.
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
            let outcome = get(global, &one, &self.id).await;
            one.close().await;
            outcome
        })
    }
}

async fn get(global: &Global, one: &OneProfile, id: &str) -> Result<Exit, Failure> {
    let l = one
        .provider()?
        .get(&ListenerId(id.to_string()))
        .await
        .map_err(|e| one.fail(&e))?;
    if json_out(global) {
        print_json(&l);
    } else {
        print(&render::listener(&l));
    }
    Ok(Exit::Ok)
}
