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
pub mod interrupt;
pub mod load;
pub mod locate;
pub mod output;
pub mod progress;
pub mod render;
pub mod report;
pub mod session;
pub mod targets;

use clap::{CommandFactory, FromArgMatches};

use crate::cli::{Cli, OutputFormat};
use crate::diag::{Exit, Failure};

/// Parse `args`, run the command, print any failure and return the exit code.
pub fn main_with<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    let parsed = Cli::command().try_get_matches_from(&args).and_then(|m| {
        // `--profile` lives on the subcommands; remember whether its value
        // came from LISTENERCTL_PROFILE, so a bad name is blamed on that.
        let from_env = m.subcommand().is_some_and(|(_, sub)| profile_from_env(sub));
        Cli::from_arg_matches(&m).map(|cli| (cli, from_env))
    });
    let cli = match parsed {
        Ok((cli, from_env)) => {
            load::set_profile_from_env(from_env);
            cli
        }
        Err(e) if e.use_stderr() => {
            // clap exits 2 on usage errors: the same contract as ours. A
            // script that asked for JSON gets the JSON error shape, so it
            // can tell a usage error from any other by `kind`.
            if diag::wants_json(&args) {
                eprintln!("{}", Failure::usage(&e).render_json());
            } else {
                let _ = e.print();
            }
            return Exit::Invalid.code();
        }
        Err(e) => {
            // --help and --version: printed on stdout, exit 0.
            let _ = e.print();
            return Exit::Ok.code();
        }
    };
    let global = cli.global();
    init_tracing(global.verbose);
    match commands::run(&global, &cli.command) {
        Ok(exit) => exit.code(),
        Err(failure) => {
            if global.output == OutputFormat::Json {
                eprintln!("{}", failure.render_json());
            } else {
                eprintln!("{}", failure.render_text());
            }
            failure.exit.code()
        }
    }
}

/// Whether the subcommand's `profile` argument (if it has one) was taken
/// from the environment variable rather than the command line.
fn profile_from_env(sub: &clap::ArgMatches) -> bool {
    sub.ids().any(|id| id.as_str() == "profile")
        && sub.value_source("profile") == Some(clap::parser::ValueSource::EnvVariable)
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
