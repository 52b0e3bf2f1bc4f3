//! The command line surface: flags, subcommands and the exit-code contract.
//!
//! Everything a script relies on is stated here, in `--help`, so the
//! contract lives next to the code that parses it and cannot drift from a
//! separate manual page.

use std::path::PathBuf;

use clap::{Args, Parser, ValueEnum};

pub use crate::commands::Command;

/// Printed under every `--help`: the exit codes are the interface scripts use.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  done (for `plan`: no changes pending)
  1  error talking to the cloud (refused call, credentials, timeout, failed action)
  2  invalid input or configuration, or a refused request; nothing was sent or changed
     (bad file, unknown profile, a listener the selected profile cannot take,
     missing credentials, a replacement without --allow-replace, a usage error)
  3  `plan` only: the plan has changes pending
  130  `apply` stopped by Ctrl-C (SIGINT); 143: by SIGTERM. The first signal
     starts nothing new and waits up to 30 s for the calls in flight, then lists
     what was done and what was not; a second one exits at once. Rerunning
     `apply` converges.
  With several profiles (`--all-profiles`, or `--profile` given more than once)
  every profile is worked on at the same time and a profile that fails does not
  stop the others: the exit code is then that profile's (1 for the cloud, 2 for
  a refused request; 1 when profiles failed in different ways), ahead of 3, and
  the profiles that failed are named on stderr (and in `--output json`).
  130/143 come before everything else.

Profile selection: --profile, else LISTENERCTL_PROFILE, else the file's
default_profile, else the file's only profile. `plan` and `apply` take
--profile more than once, or --all-profiles for every profile of the file,
skipping (and reporting) with --all-profiles the listeners a profile cannot
take.

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
    pub common: Common,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Everything a command reads from the command line besides its own
    /// flags, in one place: the file and profile flags are defined only on
    /// the commands that read a file, so `--help` of the others does not
    /// offer them.
    pub fn global(&self) -> Global {
        let args = self.command.args();
        let source = args.source();
        Global {
            file: source.and_then(|s| s.file.clone()),
            profile: source.and_then(|s| s.profile.first().cloned()),
            profiles: source.map(|s| distinct(&s.profile)).unwrap_or_default(),
            output: self.common.output,
            emulate: args.emulate(),
            verbose: self.common.verbose,
        }
    }
}

/// Options every command takes; `global` so they may follow the command.
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// Output format: human text, or JSON for scripts (stable shapes).
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// More log output on stderr (-v info, -vv debug); RUST_LOG also works.
    #[arg(short = 'v', long = "verbose", global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// The listeners file and the profile, for the commands that read a file.
#[derive(Debug, Clone, Args)]
pub struct Source {
    /// The listeners file (.toml, .yaml, .yml or .json).
    #[arg(short = 'f', long = "file", env = "LISTENERCTL_FILE", value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// The provider profile to use (overrides the file's default_profile).
    /// `plan` and `apply` take it more than once and work on those
    /// profiles at the same time.
    #[arg(short = 'p', long, env = "LISTENERCTL_PROFILE", value_name = "NAME", action = clap::ArgAction::Append)]
    pub profile: Vec<String>,
}

/// The names in `names`, each once, in the order first given.
fn distinct(names: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in names {
        if !out.contains(n) {
            out.push(n.clone());
        }
    }
    out
}

/// The file, the profile and where to send calls, for the commands that
/// talk to a cloud.
#[derive(Debug, Clone, Args)]
pub struct Remote {
    /// The file and the profile.
    #[command(flatten)]
    pub source: Source,

    /// Run against an in-process emulator of the four APIs instead of the
    /// clouds: it is started, seeded with the profile's instance, used and
    /// shut down within this one command. No credentials needed.
    #[arg(long)]
    pub emulate: bool,
}

/// Which listeners the file does not name `plan` and `apply` delete. Every
/// listener listenerctl creates carries its profile's `owner` in a
/// management mark; the flags choose by that mark.
#[derive(Debug, Clone, Default, Args)]
pub struct PruneArgs {
    /// Delete listeners on the instance that the file does not name and
    /// that carry this profile's owner mark (made by listenerctl for this
    /// owner). Unmarked listeners and other owners' are kept.
    #[arg(long)]
    pub prune: bool,

    /// Delete every listener on the instance that the file does not name,
    /// whoever made it: unmarked ones (made by hand or by other tools) and
    /// other owners' too. Implies --prune.
    #[arg(long)]
    pub prune_unmanaged: bool,
}

impl PruneArgs {
    /// The prune mode the flags ask for.
    pub fn mode(&self) -> cloud_listeners::plan::Prune {
        use cloud_listeners::plan::Prune;
        if self.prune_unmanaged {
            Prune::All
        } else if self.prune {
            Prune::Managed
        } else {
            Prune::Off
        }
    }
}

/// What a command reads from the command line besides its own flags.
#[derive(Debug, Clone)]
pub struct Global {
    /// The listeners file (`-f`, else `LISTENERCTL_FILE`).
    pub file: Option<PathBuf>,
    /// The profile (`--profile`, else `LISTENERCTL_PROFILE`); the first
    /// one when several were given.
    pub profile: Option<String>,
    /// Every `--profile` given, each once, in order (`plan` and `apply`
    /// run on all of them at once; the other commands refuse more than one).
    pub profiles: Vec<String>,
    /// Output format.
    pub output: OutputFormat,
    /// Whether to run against the in-process emulator.
    pub emulate: bool,
    /// `-v` count.
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn file_flags_follow_the_subcommand() {
        let cli = Cli::try_parse_from([
            "listenerctl",
            "plan",
            "-f",
            "x.toml",
            "--profile",
            "p",
            "--prune",
            "--emulate",
            "-o",
            "json",
        ])
        .expect("parses");
        let global = cli.global();
        assert_eq!(global.profile.as_deref(), Some("p"));
        assert_eq!(global.file.as_deref(), Some(std::path::Path::new("x.toml")));
        assert!(global.emulate);
        assert_eq!(global.output, OutputFormat::Json);
        assert!(
            matches!(&cli.command, Command::Plan(args) if args.prune.mode() == cloud_listeners::plan::Prune::Managed)
        );
        let cli = Cli::try_parse_from(["listenerctl", "-o", "json", "validate", "-f", "x.toml"]).expect("parses");
        assert_eq!(cli.global().file.as_deref(), Some(std::path::Path::new("x.toml")));
    }

    /// `plan`/`apply` take `--profile` more than once; a name given twice
    /// counts once, in the order first given.
    #[test]
    fn repeated_profiles_are_kept_once_in_order() {
        let cli =
            Cli::try_parse_from(["listenerctl", "apply", "-p", "b", "--profile", "a", "-p", "b"]).expect("parses");
        let global = cli.global();
        assert_eq!(global.profiles, ["b", "a"]);
        assert_eq!(global.profile.as_deref(), Some("b"));
    }

    /// `schema`, `capabilities` and `completion` read no file and call no
    /// cloud, so the flags that mean either are not theirs.
    #[test]
    fn commands_without_a_file_refuse_file_flags() {
        for cmd in [vec!["schema"], vec!["capabilities"], vec!["completion", "bash"]] {
            for flag in [&["-f", "x.toml"][..], &["--profile", "p"], &["--emulate"]] {
                let mut args = vec!["listenerctl"];
                args.extend(&cmd);
                args.extend(flag);
                let err = Cli::try_parse_from(&args).expect_err("refused");
                assert_eq!(err.kind(), clap::error::ErrorKind::UnknownArgument, "{args:?}");
            }
        }
        let mut cmd = Cli::command();
        for name in ["schema", "capabilities"] {
            let help = cmd
                .find_subcommand_mut(name)
                .expect("subcommand")
                .render_long_help()
                .to_string();
            for flag in ["--file", "--profile", "--emulate"] {
                assert!(!help.contains(flag), "`{name} --help` lists {flag}:\n{help}");
            }
        }
    }
}
