//! `listenerctl`: the command line over the cloud-listeners facade.
//!
//! Platform teams declare listeners once, in one file with named provider
//! profiles, and validate, plan and apply them on Tencent GAAP, Tencent CLB,
//! Alibaba ALB or Alibaba GA by choosing a profile. The crate is a library
//! as well as a binary so that its parts (path-to-line lookup, rendering,
//! exit-code mapping) are unit-tested; all planning and vendor logic is in
//! `cloud_listeners`, and this crate only orders the calls and prints.
#![warn(missing_docs)]

pub mod cli;
pub mod commands;
pub mod diag;
pub mod emulate;
pub mod load;
pub mod locate;
pub mod progress;
pub mod render;
pub mod report;

use clap::{CommandFactory, FromArgMatches};

use crate::cli::{Cli, OutputFormat};
use crate::diag::Exit;

/// Parse `args`, run the command, print any failure and return the exit code.
pub fn main_with<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let parsed = Cli::command().try_get_matches_from(args).and_then(|m| {
        let from_env = m.value_source("profile") == Some(clap::parser::ValueSource::EnvVariable);
        Cli::from_arg_matches(&m).map(|cli| (cli, from_env))
    });
    let cli = match parsed {
        Ok((cli, from_env)) => {
            load::set_profile_from_env(from_env);
            cli
        }
        Err(e) => {
            // clap exits 2 on usage errors and 0 for --help/--version: the
            // same contract as ours.
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Invalid.code()
            } else {
                Exit::Ok.code()
            };
        }
    };
    init_tracing(cli.global.verbose);
    match commands::run(&cli.global, &cli.command) {
        Ok(exit) => exit.code(),
        Err(failure) => {
            if cli.global.output == OutputFormat::Json {
                eprintln!("{}", failure.render_json());
            } else {
                eprintln!("{}", failure.render_text());
            }
            failure.exit.code()
        }
    }
}

/// Logs go to stderr so stdout stays the command's output; `RUST_LOG`
/// wins over `-v`.
fn init_tracing(verbose: u8) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}
