//! The subcommands, one module each, as cargo lays out its own
//! (`src/bin/cargo/commands/`).
//!
//! Each module owns its clap arguments (`Args`, whose doc comment is the
//! command's `--help`), its `run` and its rendering, text and JSON, so
//! following one command does not bounce between a dispatcher, a loader
//! and a renderer. What several commands share lives in named modules
//! beside this one: [`crate::session`] (the cloud or emulator connection),
//! [`crate::targets`] (profile selection, planning and the plan as text and
//! JSON, for `plan` and `apply`), [`crate::load`] (the file and its
//! profiles), [`crate::render`] (tables and the plan renderer) and
//! [`crate::output`] (stdout).
//!
//! The order inside every command is the safety argument: everything that
//! needs no network (parsing, neutral rules, profile selection, the vendor
//! rules of every profile involved) runs first, and only then is a provider
//! built, an emulator started or a request sent.
//!
//! A new command is one file here (an `Args` implementing [`Run`]) plus one
//! line in the `commands!` list below.

use clap::Subcommand;

use crate::cli::{Global, Source};
use crate::diag::{Exit, Failure, Problem};

pub mod apply;
pub mod capabilities;
pub mod completion;
pub mod delete;
pub mod export;
pub mod get;
pub mod list;
pub mod migrate;
pub mod plan;
pub mod schema;
pub mod trace;
pub mod validate;

pub use schema::schema_json;

/// What every command's arguments can do: say which file flags it has
/// (for [`crate::cli::Cli::global`]) and run.
pub trait Run {
    /// The file and profile flags, for the commands that read a file.
    fn source(&self) -> Option<&Source> {
        None
    }

    /// Whether `--emulate` was given (commands that talk to a cloud).
    fn emulate(&self) -> bool {
        false
    }

    /// Whether the command takes `--profile` more than once (`plan` and
    /// `apply`, which work on several profiles at once).
    fn many_profiles(&self) -> bool {
        false
    }

    /// Run the command; the `Ok` value is the exit code.
    fn run(&self, global: &Global) -> Result<Exit, Failure>;
}

/// The one list of subcommands: `Variant => module`. The variant's name
/// is the command's name; its help is the module's `Args` doc comment.
macro_rules! commands {
    ($($variant:ident => $module:ident,)*) => {
        /// The subcommands.
        #[derive(Debug, Subcommand)]
        pub enum Command {
            $(
                // No doc comment here: it would replace the help that
                // clap takes from the module's `Args` doc comment.
                #[allow(missing_docs)]
                $variant($module::Args),
            )*
        }

        impl Command {
            /// The parsed arguments of whichever command was given.
            pub fn args(&self) -> &dyn Run {
                match self {
                    $(Command::$variant(args) => args,)*
                }
            }
        }
    };
}

commands! {
    Validate => validate,
    Trace => trace,
    Plan => plan,
    Apply => apply,
    Get => get,
    List => list,
    Delete => delete,
    Export => export,
    Migrate => migrate,
    Capabilities => capabilities,
    Schema => schema,
    Completion => completion,
}

/// Run one parsed command line; the `Ok` value is the exit code.
pub fn run(global: &Global, command: &Command) -> Result<Exit, Failure> {
    let args = command.args();
    if global.profiles.len() > 1 && !args.many_profiles() {
        // Refused before the file is read: a usage error, like clap's.
        return Err(Failure::invalid(
            "usage",
            Problem {
                field: Some("--profile".into()),
                ..Problem::message(format!(
                    "this command works on one profile; --profile was given {} times ({}). Only `plan` and \
                     `apply` take several",
                    global.profiles.len(),
                    global.profiles.join(", ")
                ))
            },
        ));
    }
    args.run(global)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use crate::cli::Cli;

    /// The help of a command is its `Args` doc comment: a new command
    /// whose `Args` lacks one would show a blank line in `--help`.
    #[test]
    fn every_command_has_help_text() {
        let cli = Cli::command();
        let mut names = Vec::new();
        for sub in cli.get_subcommands() {
            names.push(sub.get_name().to_string());
            let about = sub.get_about().map(ToString::to_string).unwrap_or_default();
            assert!(!about.trim().is_empty(), "`{}` has no help text", sub.get_name());
        }
        assert_eq!(
            names,
            [
                "validate",
                "trace",
                "plan",
                "apply",
                "get",
                "list",
                "delete",
                "export",
                "migrate",
                "capabilities",
                "schema",
                "completion"
            ]
        );
    }
}
