//! The multi-profile mode: P profiles (one per API, and several instances
//! of one API in one account) applied together, as `listenerctl apply
//! --all-profiles` does.
//!
//! Each profile gets its own provider built from its own profile by the
//! facade (`provider_from_profile`), exactly as listenerctl builds them, so
//! nothing is shared by hand: what keeps several profiles of one account
//! within the vendor's per-account rates is the API clients' process-wide
//! limiter. Every profile is planned, all at once, and then every profile
//! is applied, all at once (the order of `apply`). Instances are
//! independent, so the wall time should be close to the slowest profile's
//! own bound ([`crate::bound`] for that profile alone), not the sum.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cloud_listeners::plan::{self, ApplyOptions};
use listener_core::{Error, Provider};
use listener_emulator::RateLimits;

use crate::bound::{self, Bound};
use crate::run::{self, Settings};
use crate::workload::{self, InstanceWork, Workload};

/// One profile: one instance of one API.
#[derive(Debug, Clone)]
pub struct ProfileWork {
    /// `gaap-1`, `ga-3`, ...
    pub name: String,
    /// The API.
    pub api: &'static str,
    /// Its instance and listeners.
    pub work: InstanceWork,
}

impl ProfileWork {
    /// The profile as a one-instance workload, for its own bound.
    pub fn workload(&self) -> Workload {
        Workload {
            api: self.api,
            instances: vec![self.work.clone()],
        }
    }
}

/// One profile per API of `apis`, and `repeat` profiles (instances) of
/// `repeated`; `listeners` vendor listeners each.
pub fn profiles(
    apis: &[&'static str],
    repeated: &'static str,
    repeat: usize,
    listeners: usize,
) -> Result<Vec<ProfileWork>, String> {
    let mut out = Vec::new();
    for api in apis {
        let k = if *api == repeated { repeat.max(1) } else { 1 };
        let w = workload::build(api, listeners * k, k)?;
        let short = workload::service_of(api);
        for (i, inst) in w.instances.into_iter().enumerate() {
            out.push(ProfileWork {
                name: format!("{short}-{}", i + 1),
                api,
                work: inst,
            });
        }
    }
    Ok(out)
}

/// The profiles' workloads grouped by API (to seed the emulator).
fn by_api(profiles: &[ProfileWork]) -> Vec<Workload> {
    let mut out: Vec<Workload> = Vec::new();
    for p in profiles {
        match out.iter_mut().find(|w| w.api == p.api) {
            Some(w) => w.instances.push(p.work.clone()),
            None => out.push(Workload {
                api: p.api,
                instances: vec![p.work.clone()],
            }),
        }
    }
    out
}

/// Each profile's own bound, in profile order.
pub fn bounds(profiles: &[ProfileWork], limits: &RateLimits, create_delay: Duration) -> Vec<Bound> {
    profiles
        .iter()
        .map(|p| bound::bound(&p.workload(), limits, create_delay))
        .collect()
}

/// What the run did.
#[derive(Debug, Default)]
pub struct MultiOutcome {
    /// From the first plan to the last apply finishing.
    pub wall: Duration,
    /// Vendor listeners on every profile's instance afterwards.
    pub listeners: usize,
    /// Every request the emulator saw.
    pub calls: u64,
    /// Requests the emulator's rate limits refused (retried by the client).
    pub throttled_by_server: u64,
    /// Each profile's own time, from the first plan to its apply ending
    /// (zero for a profile that could not be planned), in profile order.
    pub per_profile: Vec<Duration>,
    /// Failures that reached the user: `(profile, listener, kind, message)`.
    pub failures: Vec<(String, String, String, String)>,
}

/// Plan every profile at once, then apply every profile at once.
pub async fn run(
    profiles: &[ProfileWork],
    settings: &Settings,
    options: &ApplyOptions,
) -> Result<MultiOutcome, String> {
    let works = by_api(profiles);
    let emulator = run::start_emulator(&works, settings).await?;
    let url = emulator.url();
    let mut outcome = MultiOutcome::default();
    let mut providers: Vec<(&ProfileWork, Arc<dyn Provider>)> = Vec::new();
    for p in profiles {
        let profile = run::profile(p.api, &p.work, &url, settings);
        match cloud_listeners::provider_from_profile(&profile) {
            Ok(provider) => providers.push((p, provider)),
            Err(e) => return Err(format!("{}: the provider did not build: {e}", p.name)),
        }
    }
    let failure = |p: &ProfileWork, name: &str, e: &Error| {
        (p.name.clone(), name.to_string(), e.kind().to_string(), e.to_string())
    };
    let started = Instant::now();
    let planned = futures::future::join_all(
        providers
            .iter()
            .map(|(p, provider)| async move { plan::plan(provider.as_ref(), &p.work.specs, false).await }),
    )
    .await;
    let mut ready = Vec::new();
    for ((p, provider), r) in providers.iter().zip(planned) {
        match r {
            Ok(plan) => ready.push((*p, Arc::clone(provider), plan)),
            Err(e) => outcome.failures.push(failure(p, "plan", &e)),
        }
    }
    let applied = futures::future::join_all(ready.iter().map(|(p, provider, plan)| async move {
        let r = plan::apply(Arc::clone(provider), plan, options, &|_| {}).await;
        (*p, started.elapsed(), r)
    }))
    .await;
    outcome.wall = started.elapsed();
    outcome.per_profile = profiles
        .iter()
        .map(|p| {
            applied
                .iter()
                .find(|(q, _, _)| q.name == p.name)
                .map_or(Duration::ZERO, |(_, t, _)| *t)
        })
        .collect();
    for (p, _, r) in applied {
        match r {
            Ok(report) => outcome.failures.extend(
                report
                    .failed
                    .into_iter()
                    .map(|f| (p.name.clone(), f.name, f.kind.to_string(), f.message)),
            ),
            Err(e) => outcome.failures.push(failure(p, "apply", &e)),
        }
    }
    let counts = emulator.request_counts();
    let listeners = emulator.listener_counts();
    emulator.shutdown().await;
    for w in &works {
        if let Some(made) = listeners.get(w.api) {
            outcome.listeners += w.instances.iter().filter_map(|i| made.get(&i.id)).sum::<usize>();
        }
        if let Some(actions) = counts.get(w.api) {
            for c in actions.values() {
                outcome.calls += c.requests;
                outcome.throttled_by_server += c.throttled;
            }
        }
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_profile_per_api_and_several_of_the_repeated_one() {
        let ps = profiles(&workload::APIS, "alibaba-ga", 3, 50).expect("fits");
        let names: Vec<&str> = ps.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["gaap-1", "clb-1", "alb-1", "ga-1", "ga-2", "ga-3"]);
        assert!(ps.iter().all(|p| p.work.listeners == 50));
        let ids: std::collections::BTreeSet<&str> = ps.iter().map(|p| p.work.id.as_str()).collect();
        assert_eq!(ids.len(), ps.len(), "every profile has its own instance");
        // The slowest profile's own bound is one instance's, not the sum.
        let b = bounds(&ps, &RateLimits::default(), Duration::from_secs(1));
        let ga: Vec<f64> = b[3..].iter().map(Bound::seconds).collect();
        assert!(ga.iter().all(|s| (s - ga[0]).abs() < 1e-9), "{ga:?}");
    }
}
