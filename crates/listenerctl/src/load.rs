//! Reading the listeners file and choosing profiles.
//!
//! Every check that needs no credentials and no network runs here, before
//! a provider is built: parsing, neutral rules, profile selection and the
//! selected profile's vendor rules. A bad file therefore never costs a
//! request, and its error points at the file, the field and the line.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use cloud_listeners::{CheckedSet, ConfigFile, Format, LoadError, ProfileConfig, Warning};

use crate::diag::{Exit, Failure, Problem};
use crate::locate::Locator;

/// A file that parsed and passed the neutral rules.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Where it was read from, as given on the command line.
    pub path: PathBuf,
    /// Positions of its fields, for messages.
    pub locator: Locator,
    /// Its content.
    pub file: ConfigFile,
}

/// How the profile to use was chosen; `validate` treats an explicit choice
/// as a promise that the file must work there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// `--profile` or `LISTENERCTL_PROFILE`.
    Explicit,
    /// The file's `default_profile`.
    Default,
    /// The file has one profile only.
    Only,
}

/// Whether the profile name came from `LISTENERCTL_PROFILE` rather than
/// `--profile`: clap merges the two, and a message about a bad name must
/// send the user to the place they wrote it. Set once per process by
/// [`crate::main_with`].
static PROFILE_FROM_ENV: AtomicBool = AtomicBool::new(false);

/// Record where the profile name came from: `--profile` or `LISTENERCTL_PROFILE`.
pub fn set_profile_from_env(from_env: bool) {
    PROFILE_FROM_ENV.store(from_env, Ordering::Relaxed);
}

/// `--profile` or `LISTENERCTL_PROFILE`, whichever gave the name.
fn profile_origin() -> &'static str {
    if PROFILE_FROM_ENV.load(Ordering::Relaxed) {
        "LISTENERCTL_PROFILE"
    } else {
        "--profile"
    }
}

/// Read, parse and validate `path` (the format follows the extension).
pub fn load(path: Option<&Path>) -> Result<Loaded, Failure> {
    let Some(path) = path else {
        return Err(Failure::invalid(
            "usage",
            Problem {
                field: Some("--file".into()),
                ..Problem::message("no listeners file given; pass -f FILE or set LISTENERCTL_FILE")
            },
        ));
    };
    let format = Format::from_path(path).ok_or_else(|| {
        Failure::from_load(
            LoadError::UnknownFormat {
                file: path.to_path_buf(),
            },
            None,
        )
    })?;
    let parse_failure = |e| {
        Failure::from_load(
            LoadError::Parse {
                file: path.to_path_buf(),
                errors: vec![e],
            },
            None,
        )
    };
    // Size, encoding and nesting are checked before any parser (the
    // locator's included) sees the text: a deep document costs them time
    // that grows with the square of its depth.
    let text = cloud_listeners::parse::read_file(path, format)
        .map_err(|e| {
            Failure::from_load(
                LoadError::Io {
                    file: path.to_path_buf(),
                    message: e.to_string(),
                },
                None,
            )
        })?
        .map_err(parse_failure)?;
    cloud_listeners::parse::check_limits(&text, format).map_err(parse_failure)?;
    let locator = Locator::new(&text, format);
    let file = ConfigFile::from_text(&text, format, path).map_err(|e| Failure::from_load(e, Some(&locator)))?;
    Ok(Loaded {
        path: path.to_path_buf(),
        locator,
        file,
    })
}

impl Loaded {
    /// The profile to use: `requested` (from `--profile` or the
    /// environment), else `default_profile`, else the only profile.
    pub fn select(&self, requested: Option<&str>) -> Result<(String, Selection), Failure> {
        if let Some(name) = requested {
            return self
                .file
                .profile(name)
                .map(|_| (name.to_string(), Selection::Explicit))
                .map_err(|v| {
                    Failure::invalid(
                        "profile",
                        Problem {
                            file: Some(self.path.clone()),
                            field: Some(profile_origin().into()),
                            rule: Some(v.rule),
                            ..Problem::message(v.message)
                        },
                    )
                });
        }
        if let Some(d) = &self.file.default_profile {
            return Ok((d.clone(), Selection::Default));
        }
        if self.file.profiles.len() == 1 {
            if let Some(only) = self.file.profiles.keys().next() {
                return Ok((only.clone(), Selection::Only));
            }
        }
        let message = if self.file.profiles.is_empty() {
            "the file has no profiles; add a [profiles.NAME] section".to_string()
        } else {
            format!(
                "no profile chosen; pass --profile NAME, set LISTENERCTL_PROFILE or default_profile (profiles: {})",
                self.file.profiles.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        };
        Err(Failure::invalid(
            "profile",
            Problem::at(&self.path, Some(&self.locator), "profiles", message),
        ))
    }

    /// The profile called `name` (already known to exist).
    pub fn profile(&self, name: &str) -> &ProfileConfig {
        self.file
            .profiles
            .get(name)
            .expect("profile names come from the file or from select()")
    }

    /// The profile's own settings, offline: everything building its
    /// provider would refuse except missing credentials (exit 2, naming
    /// `profiles.NAME.field`). Runs on the profile as written, so
    /// `--emulate`, which points a profile at the emulator, hides nothing
    /// the real cloud path would report.
    pub fn check_profile(&self, name: &str) -> Result<(), Failure> {
        cloud_listeners::check_profile(self.profile(name))
            .map_err(|e| Failure::from_error(&e, Some(&self.path), Some(&self.locator), Some(name)))
    }

    /// The vendor rejections and warnings of every listener on profile
    /// `name`, offline, after [`Loaded::check_profile`]. An API the build
    /// does not know is the file's fault (exit 2).
    pub fn check(&self, name: &str) -> Result<CheckedSet, Failure> {
        self.check_profile(name)?;
        let fail =
            |e: cloud_listeners::Error| Failure::from_error(&e, Some(&self.path), Some(&self.locator), Some(name));
        let profile = self.profile(name);
        let mut checked = cloud_listeners::check_set_with_warnings(profile, &self.file.listeners).map_err(fail)?;
        checked
            .rejections
            .extend(cloud_listeners::check_backends(profile, &self.file.listeners, &self.file.backends).map_err(fail)?);
        Ok(checked)
    }

    /// [`Loaded::check`], refusing (exit 2) when any listener is rejected;
    /// otherwise the warnings, which never refuse.
    pub fn require_accepted(&self, name: &str) -> Result<Vec<(usize, Warning)>, Failure> {
        let CheckedSet { rejections, warnings } = self.check(name)?;
        if rejections.is_empty() {
            Ok(warnings)
        } else {
            Err(Failure::from_rejections(
                &self.path,
                Some(&self.locator),
                name,
                &self.file.listeners,
                &rejections,
            ))
        }
    }
}

/// An error that is not the input's fault but stops the command (exit 1).
pub fn runtime_failure(message: impl Into<String>) -> Failure {
    Failure::one(Exit::Error, "runtime", Problem::message(message))
}
