//! `listenerctl capabilities`: what each compiled adapter supports.

use clap::Args as ClapArgs;

use super::Run;
use crate::cli::Global;
use crate::diag::{Exit, Failure};
use crate::output::{json_out, print, print_json};

/// Print what each compiled adapter supports (--markdown: the full
/// docs/capabilities.md).
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Print the Markdown document docs/capabilities.md is made from.
    #[arg(long)]
    pub markdown: bool,
}

impl Run for Args {
    fn run(&self, global: &Global) -> Result<Exit, Failure> {
        if json_out(global) {
            print_json(&cloud_listeners::all_capabilities());
        } else if self.markdown {
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
}
