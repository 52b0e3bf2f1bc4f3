//! The connection to the clouds (or the in-process emulator) that the
//! networked commands share.
//!
//! A session is opened only after every offline check passed, so a bad
//! file never starts an emulator or builds a provider; the emulator, when
//! asked for, lives exactly as long as the session.

use std::future::Future;
use std::sync::Arc;

use cloud_listeners::{ProfileConfig, Provider};

use crate::cli::Global;
use crate::diag::{Exit, Failure};
use crate::emulate::Emulator;
use crate::load::{self, Loaded};
use crate::output::json_out;

/// Run a networked command's future on a runtime made for this one
/// command (two workers: the machine the CLI runs on is not ours).
pub fn block_on<F: Future<Output = Result<Exit, Failure>>>(command: F) -> Result<Exit, Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| load::runtime_failure(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(command)
}

/// The connection to the cloud (or the emulator) for a set of profiles.
pub struct Session {
    emulator: Option<Emulator>,
}

impl Session {
    /// Starts the emulator when asked, seeded with the targets' instances.
    /// Called only after every offline check passed.
    pub async fn open(global: &Global, profiles: &[(&str, &ProfileConfig)]) -> Result<Session, Failure> {
        let emulator = if global.emulate {
            let em = Emulator::start(profiles).await?;
            if !json_out(global) {
                eprintln!(
                    "Emulator listening on {} (in-process; it stops when this command ends).",
                    em.url()
                );
            }
            Some(em)
        } else {
            None
        };
        Ok(Session { emulator })
    }

    /// Whether calls go to the in-process emulator, whose state is gone
    /// when this command ends.
    pub fn emulated(&self) -> bool {
        self.emulator.is_some()
    }

    /// The provider for profile `name`; errors name the profile's fields.
    pub fn provider(&self, loaded: &Loaded, name: &str, profile: &ProfileConfig) -> Result<Arc<dyn Provider>, Failure> {
        let effective = match &self.emulator {
            Some(em) => em.profile(profile),
            None => profile.clone(),
        };
        cloud_listeners::provider_from_profile(&effective)
            .map_err(|e| Failure::from_error(&e, Some(&loaded.path), Some(&loaded.locator), Some(name)))
    }

    /// Stop the emulator, if one was started.
    pub async fn close(self) {
        if let Some(em) = self.emulator {
            em.shutdown().await;
        }
    }
}

/// A cloud error as the command's failure: problems that point at no file
/// position are prefixed with the profile they happened on.
pub fn cloud_failure(err: &cloud_listeners::Error, loaded: &Loaded, profile: &str) -> Failure {
    let mut f = Failure::from_error(err, Some(&loaded.path), Some(&loaded.locator), Some(profile));
    for p in &mut f.problems {
        if p.file.is_none() {
            p.message = format!("profile `{profile}`: {}", p.message);
        }
    }
    f
}

/// The one profile a command about listeners by ID (`get`, `list`,
/// `delete`) runs against, checked offline, with its session open.
pub struct OneProfile {
    /// The file.
    pub loaded: Loaded,
    /// The selected profile's name.
    pub name: String,
    /// The profile as written.
    pub profile: ProfileConfig,
    session: Session,
}

impl OneProfile {
    /// Load the file, select and check the profile, then open the session.
    pub async fn open(global: &Global) -> Result<OneProfile, Failure> {
        let loaded = load::load(global.file.as_deref())?;
        let (name, _) = loaded.select(global.profile.as_deref())?;
        loaded.check_profile(&name)?;
        let profile = loaded.profile(&name).clone();
        let session = Session::open(global, &[(name.as_str(), &profile)]).await?;
        Ok(OneProfile {
            loaded,
            name,
            profile,
            session,
        })
    }

    /// The profile's provider.
    pub fn provider(&self) -> Result<Arc<dyn Provider>, Failure> {
        self.session.provider(&self.loaded, &self.name, &self.profile)
    }

    /// A cloud error on this profile as the command's failure.
    pub fn fail(&self, e: &cloud_listeners::Error) -> Failure {
        cloud_failure(e, &self.loaded, &self.name)
    }

    /// Close the session (stops the emulator).
    pub async fn close(self) {
        self.session.close().await;
    }
}
