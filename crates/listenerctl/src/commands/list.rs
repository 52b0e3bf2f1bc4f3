//! `listenerctl list`: the listeners on the profile's instance.

use clap::Args as ClapArgs;

use super::Run;
use crate::cli::{Global, Remote, Source};
use crate::diag::{Exit, Failure};
use crate::output::{json_out, print, print_json};
use crate::render;
use crate::session::{block_on, OneProfile};

/// List the listeners on the selected profile's instance.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The file, the profile and where to send calls.
    #[command(flatten)]
    pub remote: Remote,
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
            let outcome = list(global, &one).await;
            one.close().await;
            outcome
        })
    }
}

async fn list(global: &Global, one: &OneProfile) -> Result<Exit, Failure> {
    let list = one.provider()?.list().await.map_err(|e| one.fail(&e))?;
    if json_out(global) {
        print_json(&list);
    } else {
        print(&render::listener_table(&list));
    }
    Ok(Exit::Ok)
}
