//! Exit codes and the one shape every failure is reported in.
//!
//! A failure is a list of [`Problem`]s, each naming the file, the line where
//! known, the field and the rule, so a person can jump to the spot and a
//! script (with `--output json`) can branch on `kind` and `exit_code`
//! without reading prose.

use std::fmt;
use std::path::{Path, PathBuf};

use cloud_listeners::{Error, LoadError, ParseErrorKind, Rejection, Violation};
use serde::Serialize;

use crate::locate::Locator;

/// The exit codes scripts rely on (see `--help` and docs/config.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Exit {
    /// Done; for `plan`, nothing to change.
    Ok,
    /// The cloud (or the emulator) refused or failed.
    Error,
    /// Invalid input or configuration, or a refused request: nothing sent
    /// or nothing changed.
    Invalid,
    /// `plan` has changes pending.
    Changes,
    /// `apply` stopped by SIGINT (Ctrl-C): 128 + 2, as shells report it.
    Interrupted,
    /// `apply` stopped by SIGTERM: 128 + 15.
    Terminated,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Error => 1,
            Exit::Invalid => 2,
            Exit::Changes => 3,
            Exit::Interrupted => 130,
            Exit::Terminated => 143,
        }
    }
}

/// One thing wrong, located as precisely as we know.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// 1-based line in the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column in the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// The field, as a path in the file (`listeners[0].ports`) or a flag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The rule broken: a neutral rule name or the vendor's error code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// What is wrong, in words.
    pub message: String,
}

impl Problem {
    /// A problem with only a message.
    pub fn message(message: impl Into<String>) -> Self {
        Problem {
            message: message.into(),
            ..Problem::default()
        }
    }

    /// A problem about `field` of `file`, with the line looked up.
    pub fn at(file: &Path, locator: Option<&Locator>, field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        let (line, column) = locator
            .and_then(|l| l.find(&field))
            .map_or((None, None), |(l, c)| (Some(l), Some(c)));
        Problem {
            file: Some(file.to_path_buf()),
            line,
            column,
            field: Some(field),
            rule: None,
            message: message.into(),
        }
    }

    /// The same problem with a rule name.
    pub fn rule(mut self, rule: impl Into<String>) -> Self {
        self.rule = Some(rule.into());
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}", file.display())?;
            if let Some(line) = self.line {
                write!(f, ":{line}")?;
                if let Some(col) = self.column {
                    write!(f, ":{col}")?;
                }
            }
            f.write_str(": ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(rule) = &self.rule {
            write!(f, " [{rule}]")?;
        }
        Ok(())
    }
}

/// Why a command stopped, and with which exit code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The exit code.
    #[serde(skip)]
    pub exit: Exit,
    /// A stable word for scripts: `io`, `parse`, `invalid`, `profile`,
    /// `unsupported`, `config`, `replace_refused`, `usage`, or an error
    /// kind of the core (`authentication`, `not_found`, `vendor`, ...).
    pub kind: String,
    /// Every problem, in file order.
    pub problems: Vec<Problem>,
}

impl Failure {
    /// A failure with one problem.
    pub fn one(exit: Exit, kind: impl Into<String>, problem: Problem) -> Self {
        Failure {
            exit,
            kind: kind.into(),
            problems: vec![problem],
        }
    }

    /// A failure of input (exit 2) with one problem.
    pub fn invalid(kind: impl Into<String>, problem: Problem) -> Self {
        Failure::one(Exit::Invalid, kind, problem)
    }

    /// A file that could not be loaded. The file's text, when it was read,
    /// lets violations be given a line.
    pub fn from_load(err: LoadError, locator: Option<&Locator>) -> Self {
        match err {
            LoadError::Io { file, message } => Failure::invalid(
                "io",
                Problem {
                    file: Some(file),
                    ..Problem::message(format!("cannot read the file: {message}"))
                },
            ),
            LoadError::UnknownFormat { file } => Failure::invalid(
                "unknown_format",
                Problem {
                    file: Some(file),
                    ..Problem::message("unknown file type; use .toml, .yaml, .yml or .json")
                },
            ),
            LoadError::Parse { file, errors } => {
                let mut problems: Vec<Problem> = errors
                    .into_iter()
                    .map(|error| {
                        let (field, message) = tidy_parse(error.path, error.message);
                        // Errors found in the parsed tree carry a path only;
                        // the locator knows where that path is written.
                        let (line, column) = match (error.line, &field) {
                            (Some(l), _) => (Some(l), error.column),
                            (None, Some(f)) => locator
                                .and_then(|l| l.find(f))
                                .map_or((None, None), |(l, c)| (Some(l), Some(c))),
                            (None, None) => (None, None),
                        };
                        let rule = match error.kind {
                            ParseErrorKind::TooLarge | ParseErrorKind::TooDeep | ParseErrorKind::Encoding => {
                                Some(error.kind.as_str().to_string())
                            }
                            ParseErrorKind::Syntax | ParseErrorKind::Shape => None,
                        };
                        Problem {
                            file: Some(file.clone()),
                            line,
                            column,
                            field,
                            rule,
                            message,
                        }
                    })
                    .collect();
                // In file order; problems without a line keep their place last.
                problems.sort_by_key(|p| (p.line.is_none(), p.line, p.column));
                Failure {
                    exit: Exit::Invalid,
                    kind: "parse".into(),
                    problems,
                }
            }
            LoadError::Invalid { file, violations } => Failure {
                exit: Exit::Invalid,
                kind: "invalid".into(),
                problems: violations
                    .into_iter()
                    .map(|v| violation_problem(&file, locator, v))
                    .collect(),
            },
        }
    }

    /// A core error from building a provider or talking to the cloud.
    /// Configuration errors are the user's to fix (exit 2); the rest are
    /// the cloud's answers (exit 1). `profile` names the profile whose
    /// settings a configuration error is about.
    pub fn from_error(err: &Error, file: Option<&Path>, locator: Option<&Locator>, profile: Option<&str>) -> Self {
        match err {
            Error::Config { field, message } => {
                // A profile setting gets the profile's path (and so a line);
                // anything else (the credential chain) names the profile in words.
                let (field, message) = match profile {
                    Some(p) if is_profile_field(field) => (format!("profiles.{p}.{field}"), message.clone()),
                    Some(p) => (field.clone(), format!("profile `{p}`: {message}")),
                    None => (field.clone(), message.clone()),
                };
                let problem = match file {
                    Some(f) => Problem::at(f, locator, field, message.clone()),
                    None => Problem {
                        field: Some(field),
                        ..Problem::message(message.clone())
                    },
                };
                Failure::invalid("config", problem)
            }
            Error::InvalidSpec { violations } => Failure {
                exit: Exit::Invalid,
                kind: "invalid".into(),
                problems: violations
                    .iter()
                    .map(|v| Problem {
                        field: Some(v.path.clone()),
                        rule: Some(v.rule.clone()),
                        ..Problem::message(v.message.clone())
                    })
                    .collect(),
            },
            Error::Unsupported { rejections, .. } => Failure {
                exit: Exit::Invalid,
                kind: "unsupported".into(),
                problems: rejections
                    .iter()
                    .map(|r| Problem {
                        field: Some(r.field.clone()),
                        rule: Some(r.rule.to_string()),
                        ..Problem::message(format!("{}: {}", r.vendor, r.reason))
                    })
                    .collect(),
            },
            other => {
                let mut p = Problem::message(other.to_string());
                p.rule = other.vendor_code().map(str::to_string);
                // The vendor code is already in the message; keep it as data only.
                let mut f = Failure::one(Exit::Error, other.kind(), p);
                if let Some(p) = f.problems.first_mut() {
                    if p.rule.as_deref().is_some_and(|r| p.message.contains(r)) {
                        p.rule = None;
                    }
                }
                f
            }
        }
    }

    /// The rejections a selected profile found, as one problem each,
    /// pointing at `listeners[i].field`.
    pub fn from_rejections(
        file: &Path,
        locator: Option<&Locator>,
        profile: &str,
        listeners: &[cloud_listeners::ListenerSpec],
        rejections: &[(usize, Rejection)],
    ) -> Self {
        Failure {
            exit: Exit::Invalid,
            kind: "unsupported".into(),
            problems: rejections
                .iter()
                .map(|(i, r)| {
                    let name = listeners.get(*i).map(|s| s.name.as_str()).unwrap_or("?");
                    // A rule about the profile's own settings (GA's region)
                    // names the profile's field, not the listener's.
                    // A rule about a pool of `backends` names the pool, at
                    // the file's top level.
                    let field = match r.field.strip_prefix("profile.") {
                        Some(setting) => format!("profiles.{profile}.{setting}"),
                        None if r.field.starts_with("backends.") => r.field.clone(),
                        None => listener_field(*i, &r.field),
                    };
                    Problem::at(
                        file,
                        locator,
                        field,
                        format!(
                            "profile `{profile}` ({}) cannot take listener `{name}`: {}",
                            r.vendor, r.reason
                        ),
                    )
                    .rule(r.rule)
                })
                .collect(),
        }
    }

    /// A command line clap refused, in the JSON error shape: kind `usage`,
    /// the offending argument as the field, clap's kind of error as the
    /// rule, and clap's first line (without its `error: `) as the message.
    pub fn usage(err: &clap::Error) -> Self {
        use clap::error::{ContextKind, ContextValue};
        let rendered = err.render().to_string();
        let first = rendered.lines().next().unwrap_or_default();
        let message = first.strip_prefix("error: ").unwrap_or(first).trim().to_string();
        let field = match err.get(ContextKind::InvalidArg) {
            Some(ContextValue::String(s)) => Some(s.clone()),
            _ => None,
        };
        let rule = format!("{:?}", err.kind()).chars().fold(String::new(), |mut out, c| {
            if c.is_ascii_uppercase() {
                if !out.is_empty() {
                    out.push('_');
                }
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
            out
        });
        Failure::invalid(
            "usage",
            Problem {
                field,
                rule: Some(rule),
                ..Problem::message(message)
            },
        )
    }

    /// Render for a person, one line per problem.
    pub fn render_text(&self) -> String {
        self.problems
            .iter()
            .map(|p| format!("error: {p}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Render for a script.
    pub fn render_json(&self) -> String {
        let doc = serde_json::json!({
            "error": {
                "kind": self.kind,
                "exit_code": self.exit.code(),
                "problems": self.problems,
            }
        });
        serde_json::to_string_pretty(&doc).unwrap_or_else(|_| self.render_text())
    }
}

/// Whether a command line asks for JSON output (`-o json`, `--output json`,
/// `--output=json`, `-ojson`, `-o=json`), read from the raw arguments: used
/// when clap refused the line, so there is no parsed value to ask. Scanning
/// stops at `--`, after which nothing is a flag.
pub fn wants_json(args: &[std::ffi::OsString]) -> bool {
    let args: Vec<&str> = args.iter().skip(1).filter_map(|a| a.to_str()).collect();
    let mut iter = args.iter().take_while(|a| **a != "--").peekable();
    while let Some(arg) = iter.next() {
        let value = match *arg {
            "-o" | "--output" => iter.peek().copied().copied(),
            other => other
                .strip_prefix("--output=")
                .or_else(|| other.strip_prefix("-o="))
                .or_else(|| other.strip_prefix("-o")),
        };
        if value == Some("json") {
            return true;
        }
    }
    false
}

/// Parsers sometimes put an unknown segment (`?`) in the path and repeat
/// the path at the start of their message; one clear line needs neither.
fn tidy_parse(path: Option<String>, message: String) -> (Option<String>, String) {
    let path = path
        .map(|p| p.replace(".?", "").replace('?', ""))
        .filter(|p| !p.is_empty());
    let message = match (&path, message.split_once(": ")) {
        (Some(p), Some((head, rest))) if p.starts_with(head) && !head.contains(' ') => rest.to_string(),
        _ => message,
    };
    (path, message)
}

/// `listeners[i].field`, for a rejection's spec-relative field.
pub fn listener_field(index: usize, field: &str) -> String {
    if field.is_empty() {
        format!("listeners[{index}]")
    } else if field.starts_with('[') {
        format!("listeners[{index}]{field}")
    } else {
        format!("listeners[{index}].{field}")
    }
}

fn violation_problem(file: &Path, locator: Option<&Locator>, v: Violation) -> Problem {
    Problem::at(file, locator, v.path, v.message).rule(v.rule)
}

/// Whether an adapter's configuration error names a setting of the profile
/// (and so deserves the `profiles.NAME.` prefix and a line number) rather
/// than something outside the file, like the credential chain.
fn is_profile_field(field: &str) -> bool {
    let head = field.split(['.', '[']).next().unwrap_or(field);
    matches!(
        head,
        "api"
            | "region"
            | "instance"
            | "endpoint"
            | "allow_insecure_http"
            | "certificates"
            | "targets"
            | "wait"
            | "rate_limit_per_second"
            | "inline_credentials"
            | "owner"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_names_file_line_field_and_rule() {
        let p = Problem {
            file: Some("a.toml".into()),
            line: Some(3),
            column: Some(9),
            field: Some("listeners[0].ports".into()),
            rule: Some("range".into()),
            message: "must be 1 to 65535".into(),
        };
        assert_eq!(
            p.to_string(),
            "a.toml:3:9: listeners[0].ports: must be 1 to 65535 [range]"
        );
    }

    #[test]
    fn config_errors_about_profile_settings_are_input_errors_with_profile_paths() {
        let err = Error::Config {
            field: "endpoint".into(),
            message: "uses plain http".into(),
        };
        let f = Failure::from_error(&err, Some(Path::new("x.toml")), None, Some("prod"));
        assert_eq!(f.exit, Exit::Invalid);
        assert_eq!(f.problems[0].field.as_deref(), Some("profiles.prod.endpoint"));
        let cred = Error::Config {
            field: "credentials".into(),
            message: "none found".into(),
        };
        let f = Failure::from_error(&cred, Some(Path::new("x.toml")), None, Some("prod"));
        assert_eq!(f.problems[0].field.as_deref(), Some("credentials"));
    }

    #[test]
    fn cloud_errors_exit_1_with_their_kind() {
        let err = Error::NotFound {
            vendor: "tencent-clb",
            what: "listener lbl-1".into(),
        };
        let f = Failure::from_error(&err, None, None, None);
        assert_eq!(f.exit, Exit::Error);
        assert_eq!(f.kind, "not_found");
    }

    #[test]
    fn parse_paths_and_messages_are_tidied() {
        let (f, m) = tidy_parse(Some("listeners[0].?".into()), "trailing comma".into());
        assert_eq!((f.as_deref(), m.as_str()), (Some("listeners[0]"), "trailing comma"));
        let (f, m) = tidy_parse(
            Some("listeners[0].portz".into()),
            "listeners[0]: unknown field `portz`".into(),
        );
        assert_eq!(
            (f.as_deref(), m.as_str()),
            (Some("listeners[0].portz"), "unknown field `portz`")
        );
    }

    #[test]
    fn json_output_is_recognised_in_every_spelling() {
        let os = |v: &[&str]| v.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        for args in [
            &["listenerctl", "plan", "-o", "json"][..],
            &["listenerctl", "--output", "json", "plan"],
            &["listenerctl", "plan", "--output=json"],
            &["listenerctl", "plan", "-ojson"],
            &["listenerctl", "plan", "-o=json"],
        ] {
            assert!(wants_json(&os(args)), "{args:?}");
        }
        for args in [
            &["listenerctl", "plan"][..],
            &["listenerctl", "plan", "-o", "text"],
            &["listenerctl", "get", "--", "-o", "json"],
            &["listenerctl", "get", "json"],
        ] {
            assert!(!wants_json(&os(args)), "{args:?}");
        }
    }

    #[test]
    fn usage_errors_have_kind_usage_field_and_rule() {
        use clap::Parser;
        let err = crate::cli::Cli::try_parse_from(["listenerctl", "plan", "--frobnicate"]).expect_err("refused");
        let f = Failure::usage(&err);
        assert_eq!((f.exit, f.kind.as_str()), (Exit::Invalid, "usage"));
        assert_eq!(f.problems[0].field.as_deref(), Some("--frobnicate"));
        assert_eq!(f.problems[0].rule.as_deref(), Some("unknown_argument"));
    }

    #[test]
    fn listener_field_joins_paths() {
        assert_eq!(listener_field(2, "ports"), "listeners[2].ports");
        assert_eq!(listener_field(0, ""), "listeners[0]");
    }
}
