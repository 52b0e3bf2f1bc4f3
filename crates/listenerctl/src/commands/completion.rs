//! `listenerctl completion`: a shell completion script.

use clap::Args as ClapArgs;

use super::Run;
use crate::cli::Global;
use crate::diag::{Exit, Failure};
use crate::output::print;

/// Print a shell completion script, e.g.
/// `listenerctl completion bash > /etc/bash_completion.d/listenerctl`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

impl Run for Args {
    /// A completion script for the shell, made from the same clap
    /// definition that parses the command line, so it cannot offer a flag
    /// that does not exist.
    fn run(&self, _global: &Global) -> Result<Exit, Failure> {
        use clap::CommandFactory;
        let mut out = Vec::new();
        clap_complete::generate(self.shell, &mut crate::cli::Cli::command(), "listenerctl", &mut out);
        print(&String::from_utf8_lossy(&out));
        Ok(Exit::Ok)
    }
}
