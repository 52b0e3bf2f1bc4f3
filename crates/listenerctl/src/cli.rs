//! The command line surface: flags, subcommands and the exit-code contract.
//!
//! Everything a script relies on is stated here, in `--help`, so the
//! contract lives next to the code that parses it and cannot drift from a
//! separate manual page.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Printed under every `--help`: the exit codes are the interface scripts use.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  done (for `plan`: no changes pending)
  1  error talking to the cloud (refused call, credentials, timeout, failed action)
  2  invalid input or configuration, or a refused request; nothing was sent or changed
     (bad file, unknown profile, a listener the selected profile cannot take,
     missing credentials, a replacement without --allow-replace)
  3  `plan` only: the plan has changes pending

Profile selection: --profile, else LISTENERCTL_PROFILE, else the file's
default_profile, else the file's only profile. `plan --all-profiles` and
`apply --all-profiles` run against every profile in turn, skipping (and
reporting) the listeners a profile cannot take.

Credentials come from the vendors' environment variables and CLI files
(TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY, ALIBABA_CLOUD_ACCESS_KEY_ID/
ALIBABA_CLOUD_ACCESS_KEY_SECRET, ~/.tccli, ~/.aliyun/config.json); they are
never printed. Reference: docs/config.md.";

/// `listenerctl`: declare listeners once, run them on any of four clouds.
#[derive(Debug, Parser)]
#[command(
    name = "listenerctl",
    version,
    about = "Validate, plan and apply cloud listeners on Tencent GAAP/CLB and Alibaba ALB/GA from one file",
    after_help = EXIT_CODES_HELP,
    propagate_version = true
)]
pub struct Cli {
    /// Options every command shares.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command shares; `global` so they may follow the command.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// The listeners file (.toml, .yaml, .yml or .json).
    #[arg(
        short = 'f',
        long = "file",
        global = true,
        env = "LISTENERCTL_FILE",
        value_name = "FILE"
    )]
    pub file: Option<PathBuf>,

    /// The provider profile to use (overrides the file's default_profile).
    #[arg(short = 'p', long, global = true, env = "LISTENERCTL_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,

    /// Output format: human text, or JSON for scripts (stable shapes).
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// Run against an in-process emulator of the four APIs instead of the
    /// clouds: it is started, seeded with the profile's instance, used and
    /// shut down within this one command. No credentials needed.
    #[arg(long, global = true)]
    pub emulate: bool,

    /// More log output on stderr (-v info, -vv debug); RUST_LOG also works.
    #[arg(short = 'v', long = "verbose", global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Text for people.
    Text,
    /// JSON documents (JSON lines for `apply` events) for scripts.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the file offline and print the portability report: which
    /// profiles can take each listener, and why the others cannot.
    ///
    /// Sends nothing. Exit 0 when the file is valid, even if some profile
    /// cannot take some listener (portability is information); exit 2 when
    /// the file is invalid, or when a profile is selected with --profile or
    /// LISTENERCTL_PROFILE and that profile cannot take a listener.
    Validate,

    /// Compare the file with the listeners on the instance and print what
    /// `apply` would do. Exit 0 when nothing would change, 3 when it would.
    Plan(PlanArgs),

    /// Carry out the plan: create, update, replace (with --allow-replace)
    /// and delete (with --prune), then print the listener IDs.
    Apply(ApplyArgs),

    /// Show one listener of the selected profile's instance.
    Get {
        /// The vendor's listener ID.
        id: String,
    },

    /// List the listeners on the selected profile's instance.
    List,

    /// Delete one listener of the selected profile's instance.
    Delete {
        /// The vendor's listener ID.
        id: String,
    },

    /// Print what each compiled adapter supports (--markdown: the full
    /// docs/capabilities.md).
    Capabilities {
        /// Print the Markdown document docs/capabilities.md is made from.
        #[arg(long)]
        markdown: bool,
    },

    /// Print the JSON Schema of the listeners file (docs/listeners.schema.json).
    Schema,
}

/// Flags of `plan`.
#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    /// Also plan deleting listeners on the instance that the file does not name.
    #[arg(long)]
    pub prune: bool,

    /// Plan for every profile of the file in turn, skipping listeners a
    /// profile cannot take. Takes precedence over --profile and
    /// LISTENERCTL_PROFILE.
    #[arg(long)]
    pub all_profiles: bool,
}

/// Flags of `apply`.
#[derive(Debug, Clone, Args)]
pub struct ApplyArgs {
    /// Delete listeners on the instance that the file does not name.
    #[arg(long)]
    pub prune: bool,

    /// Carry out replacements (delete, then create) when a field the vendor
    /// cannot change in place differs. Traffic on that port stops meanwhile.
    #[arg(long)]
    pub allow_replace: bool,

    /// Apply to every profile of the file in turn, skipping (and reporting)
    /// listeners a profile cannot take. Every profile is planned, and
    /// replacements refused, before any profile is changed. Takes
    /// precedence over --profile and LISTENERCTL_PROFILE.
    #[arg(long)]
    pub all_profiles: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_may_follow_the_subcommand() {
        let cli =
            Cli::try_parse_from(["listenerctl", "plan", "-f", "x.toml", "--profile", "p", "--prune"]).expect("parses");
        assert_eq!(cli.global.profile.as_deref(), Some("p"));
        assert!(matches!(cli.command, Command::Plan(PlanArgs { prune: true, .. })));
    }
}
