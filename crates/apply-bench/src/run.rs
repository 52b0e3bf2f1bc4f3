//! One measured run: a fresh emulator (vendor rate limits on, buckets
//! full, the chosen asynchronous delays), every selected API applied at
//! once (each API has its own buckets and instances, so they do not slow
//! each other), and per API the wall time and the calls the server saw.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cloud_listeners::plan::{self, ApplyOptions, FileResources, Prune};
use futures::stream::{self, StreamExt};
use listener_core::{Adapter, Error, InlineCredentials, ProfileConfig, Provider, Secret, WaitConfig};
use listener_emulator::{
    Emulator, EmulatorHandle, InstanceSeed, RateLimits, RequestCounts, Timing, DEFAULT_ALIBABA_ACCESS_KEY_ID,
    DEFAULT_ALIBABA_ACCESS_KEY_SECRET, DEFAULT_TENCENT_SECRET_ID, DEFAULT_TENCENT_SECRET_KEY,
};

use crate::workload::{service_of, Workload, TARGET_ALIAS};

/// How one mode applies.
#[derive(Debug, Clone)]
pub struct Mode {
    /// `optimized` or `naive`, for the table.
    pub name: &'static str,
    /// What each instance's apply is given.
    pub options: ApplyOptions,
    /// Instances applied at once (per API).
    pub instances_at_once: usize,
}

/// Settings shared by every run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Asynchronous delay of every create (and update, delete).
    pub create_delay: Duration,
    /// Profiles' `wait.poll_interval_ms`.
    pub poll_interval_ms: u64,
    /// Profiles' `wait.timeout_secs`.
    pub wait_timeout_secs: u64,
    /// The emulator's rate table.
    pub rate_limits: RateLimits,
}

/// What one API's apply did.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// From the first plan to the last apply finishing.
    pub wall: Duration,
    /// Vendor listeners on the instances afterwards (emulator's count).
    pub listeners: usize,
    /// Every authenticated request to the API.
    pub calls: u64,
    /// Requests to create actions.
    pub writes: u64,
    /// Requests the emulator's rate limit refused (the client retried them).
    pub throttled_by_server: u64,
    /// Requests answered with another error code (busy, conflict, ...).
    pub errors_by_server: u64,
    /// Retries the API client made (throttling, busy, transport).
    pub retries: u64,
    /// Failures that reached the user, as `(listener, kind, message)`.
    pub failures: Vec<(String, String, String)>,
}

impl Outcome {
    /// Failures of kind `throttled`: throttling the retries did not absorb.
    pub fn user_throttled(&self) -> usize {
        self.failures.iter().filter(|(_, kind, _)| kind == "throttled").count()
    }

    /// Every call the API saw (plans, creates, polls, read-backs) per
    /// listener made: calls are the account's scarce budget, shared with
    /// every other tool using it.
    pub fn calls_per_listener(&self) -> f64 {
        self.calls as f64 / self.listeners.max(1) as f64
    }
}

/// The shared API client of one API: one per account, as the vendors
/// count their limits per account and action; every instance's provider
/// uses a clone, so all of them share one client-side rate limiter.
#[derive(Debug, Clone)]
enum Client {
    Tencent(tencent_api::TencentClient),
    Alibaba(alibaba_api::AlibabaClient),
}

impl Client {
    fn retries(&self) -> u64 {
        match self {
            Client::Tencent(c) => c.stats().retries,
            Client::Alibaba(c) => c.stats().retries,
        }
    }
}

fn no_env(_: &str) -> Option<String> {
    None
}

/// The profile of one instance, aimed at the emulator with its public,
/// made-up credentials.
pub fn profile(api: &str, work: &crate::workload::InstanceWork, url: &str, settings: &Settings) -> ProfileConfig {
    let mut p = ProfileConfig::new(api, work.id.clone());
    p.region = match api {
        "tencent-clb" => Some("ap-guangzhou".into()),
        "alibaba-alb" | "alibaba-ga" => Some("cn-hangzhou".into()),
        _ => None,
    };
    p.endpoint = Some(url.to_string());
    p.allow_insecure_http = true;
    let (id, secret) = if api.starts_with("tencent") {
        (DEFAULT_TENCENT_SECRET_ID, DEFAULT_TENCENT_SECRET_KEY)
    } else {
        (DEFAULT_ALIBABA_ACCESS_KEY_ID, DEFAULT_ALIBABA_ACCESS_KEY_SECRET)
    };
    p.inline_credentials = Some(InlineCredentials {
        key_id: id.to_string(),
        secret: Secret::new(secret),
        token: None,
    });
    p.wait = Some(WaitConfig::uniform(
        settings.wait_timeout_secs,
        settings.poll_interval_ms,
    ));
    // The vendors' documented per-action rates: Tencent 20/s; ALB reads
    // 20/s (its writes keep their own budget of 200 a minute, from
    // `listener_alibaba_alb::config::WRITE_LIMITS`); GA 20/s (assumed).
    p.rate_limit_per_second = Some(20.0);
    if let Some(group) = &work.server_group {
        p.aliases.targets.insert(TARGET_ALIAS.into(), group.clone());
    }
    p
}

fn client_for(api: &str, profile: &ProfileConfig) -> Result<Client, Error> {
    let ctx = tencent_api::LoadContext {
        env: &no_env,
        home: None,
    };
    let env = alibaba_api::credentials::Env::new(&no_env, None);
    match api {
        "tencent-gaap" => {
            let config = tencent_api::ClientConfig::from_profile(
                profile,
                listener_tencent_gaap::config::SERVICE,
                listener_tencent_gaap::config::VERSION,
                listener_tencent_gaap::API,
                &ctx,
            )?;
            Ok(Client::Tencent(tencent_api::TencentClient::new(config)?))
        }
        "tencent-clb" => Ok(Client::Tencent(listener_tencent_clb::config::client_for(
            profile, &ctx,
        )?)),
        "alibaba-alb" => Ok(Client::Alibaba(alibaba_api::AlibabaClient::from_profile_with_env(
            profile,
            &listener_alibaba_alb::config::ALB,
            &env,
        )?)),
        _ => Ok(Client::Alibaba(alibaba_api::AlibabaClient::from_profile_with_env(
            profile,
            &listener_alibaba_ga::config::GA,
            &env,
        )?)),
    }
}

fn provider_for(api: &str, profile: &ProfileConfig, client: &Client) -> Result<Arc<dyn Provider>, Error> {
    match (api, client) {
        ("tencent-gaap", Client::Tencent(c)) => Ok(Arc::new(listener_tencent_gaap::GaapProvider::with_client(
            profile,
            c.clone(),
        )?)),
        ("tencent-clb", Client::Tencent(c)) => Ok(Arc::new(listener_tencent_clb::ClbProvider::with_client(
            profile,
            c.clone(),
        )?)),
        ("alibaba-alb", Client::Alibaba(c)) => Ok(Arc::new(listener_alibaba_alb::AlbProvider::with_client(
            profile,
            c.clone(),
        )?)),
        ("alibaba-ga", Client::Alibaba(c)) => Ok(Arc::new(listener_alibaba_ga::GaProvider::with_client(
            profile,
            c.clone(),
        )?)),
        _ => Err(Error::Config {
            field: "api".into(),
            message: format!("no bench client for `{api}`"),
        }),
    }
}

/// Start an emulator with the vendors' rate limits, the chosen delays and
/// every instance of `works` seeded, on 127.0.0.1 and a port the OS picks.
pub async fn start_emulator(works: &[Workload], settings: &Settings) -> Result<EmulatorHandle, String> {
    let d = settings.create_delay;
    let mut b = Emulator::builder()
        .rate_limits(settings.rate_limits.clone())
        .timing(Timing {
            create: d,
            update: d,
            delete: d,
        });
    for w in works {
        for inst in &w.instances {
            b = b.seed(
                service_of(w.api),
                InstanceSeed {
                    id: inst.id.clone(),
                    server_groups: inst.server_group.iter().cloned().collect(),
                },
            );
        }
    }
    b.start().await.map_err(|e| format!("the emulator did not start: {e}"))
}

/// Plan and apply one instance's file, with its pools and rules.
async fn apply_instance(
    provider: Arc<dyn Provider>,
    profile: ProfileConfig,
    work: crate::workload::InstanceWork,
    options: &ApplyOptions,
) -> Vec<(String, String, String)> {
    let failure = |name: &str, e: &Error| vec![(name.to_string(), e.kind().to_string(), e.to_string())];
    let resources = FileResources {
        backends: &work.backends,
        aliases: &profile.aliases,
    };
    let specs = &work.specs;
    let plan = match plan::plan_with_resources(provider.as_ref(), specs, specs, resources, Prune::Off).await {
        Ok(p) => p,
        Err(e) => return failure(provider.instance(), &e),
    };
    match plan::apply(provider, &plan, options, &|_| {}).await {
        Ok(report) => report
            .failed
            .into_iter()
            .map(|f| (f.name, f.kind.to_string(), f.message))
            .collect(),
        Err(e) => failure("apply", &e),
    }
}

/// Apply one API's work in `mode`; the clock runs from the first plan to
/// the last apply.
async fn run_api(work: &Workload, url: &str, settings: &Settings, mode: &Mode) -> (Outcome, Option<Client>) {
    let mut outcome = Outcome::default();
    let Some(first) = work.instances.first() else {
        return (outcome, None);
    };
    let client = match client_for(work.api, &profile(work.api, first, url, settings)) {
        Ok(c) => c,
        Err(e) => {
            outcome.failures.push(("client".into(), e.kind().into(), e.to_string()));
            return (outcome, None);
        }
    };
    let mut jobs = Vec::new();
    for inst in &work.instances {
        let prof = profile(work.api, inst, url, settings);
        match provider_for(work.api, &prof, &client) {
            Ok(p) => jobs.push((p, prof, inst.clone())),
            Err(e) => outcome.failures.push((inst.id.clone(), e.kind().into(), e.to_string())),
        }
    }
    if !outcome.failures.is_empty() {
        return (outcome, Some(client));
    }
    let options = &mode.options;
    let started = Instant::now();
    let failures: Vec<Vec<(String, String, String)>> = stream::iter(jobs)
        .map(|(provider, prof, inst)| async move { apply_instance(provider, prof, inst, options).await })
        .buffer_unordered(mode.instances_at_once.max(1))
        .collect()
        .await;
    outcome.wall = started.elapsed();
    outcome.failures = failures.into_iter().flatten().collect();
    outcome.retries = client.retries();
    (outcome, Some(client))
}

/// Fill in what the server saw for `api`.
fn server_side(outcome: &mut Outcome, api: &str, counts: &RequestCounts, listeners: usize) {
    outcome.listeners = listeners;
    if let Some(actions) = counts.get(api) {
        for (action, c) in actions {
            outcome.calls += c.requests;
            outcome.throttled_by_server += c.throttled;
            outcome.errors_by_server += c.errors;
            if action.starts_with("Create") {
                outcome.writes += c.requests;
            }
        }
    }
}

/// Run `mode` for every workload at once, each API measured on its own.
pub async fn run(
    works: &[Workload],
    settings: &Settings,
    mode: &Mode,
) -> Result<BTreeMap<&'static str, Outcome>, String> {
    let emulator = start_emulator(works, settings).await?;
    let url = emulator.url();
    let runs = works.iter().map(|w| {
        let url = url.clone();
        async move { (w.api, run_api(w, &url, settings, mode).await.0) }
    });
    let outcomes: Vec<(&'static str, Outcome)> = futures::future::join_all(runs).await;
    let counts = emulator.request_counts();
    let listeners = emulator.listener_counts();
    emulator.shutdown().await;
    let mut out = BTreeMap::new();
    for (api, mut outcome) in outcomes {
        let made = listeners.get(api).map_or(0, |m| m.values().sum());
        server_side(&mut outcome, api, &counts, made);
        out.insert(api, outcome);
    }
    Ok(out)
}
