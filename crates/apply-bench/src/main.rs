//! `apply-bench`: how close `apply` comes to the fastest the clouds allow.
//!
//! Applies N listeners per API, spread over K instances, against the
//! in-process emulator with the vendors' rate limits and asynchronous
//! delays on, and prints per API: listeners, create calls, all calls, wall
//! time, the lower bound (see [`bound`]), the ratio time/bound, the calls
//! per listener created (every call the emulator saw for the API, plans and
//! polls included, over the listeners made), throttling
//! seen by the user and absorbed by retries, for the optimized mode and,
//! with `--naive-too`, for the naive one (one call per listener, one at a
//! time, instances one after another). Exits 1 when an optimized ratio is
//! 1.2 or more, a throttling error reached the user, or an apply failed;
//! 2 on bad arguments; 3 when the whole run exceeds `--timeout-secs`.
//!
//! With `--multi-profile` it runs the multi-profile mode instead
//! ([`multi`]): P profiles applied together, time over the slowest
//! profile's own bound.
//!
//! Everything runs on 127.0.0.1; the emulator is stopped after each mode.
//! See `docs/performance.md`.

mod bound;
mod multi;
mod run;
mod workload;

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use cloud_listeners::plan::ApplyOptions;
use listener_emulator::RateLimits;

use crate::bound::Bound;
use crate::run::{Mode, Outcome, Settings};
use crate::workload::{Workload, APIS};

/// The ratio the optimized mode must stay under.
const TARGET_RATIO: f64 = 1.2;

#[derive(Debug, Parser)]
#[command(
    name = "apply-bench",
    about = "Apply benchmark against the emulator (see docs/performance.md)",
    // A flag given twice (the script's defaults, then the user's) takes
    // the last value instead of failing.
    args_override_self = true
)]
struct Args {
    /// Listeners per API.
    #[arg(long = "listeners", default_value_t = 200)]
    listeners: usize,
    /// Instances per API the listeners are spread over (at most 50 each).
    #[arg(long = "instances", default_value_t = 4)]
    instances: usize,
    /// Asynchronous delay of every create (and update, delete), in ms.
    #[arg(long = "create-delay-ms", default_value_t = 1000)]
    create_delay_ms: u64,
    /// Status poll interval of the profiles, in ms. Default: the fastest
    /// that keeps K instances polling at once within the vendors' 20 reads
    /// per second per action (see `default_poll_ms`).
    #[arg(long = "poll-interval-ms")]
    poll_interval_ms: Option<u64>,
    /// Most writes in flight per API in the optimized mode: instances
    /// applied at once, and `ApplyOptions::max_concurrency` within one.
    #[arg(long = "max-concurrency", default_value_t = ApplyOptions::default().max_concurrency)]
    max_concurrency: usize,
    /// Hand creates to the adapter one by one instead of as a batch.
    /// Apply the routes workload instead: routed HTTP listeners (two hosts,
    /// two paths each) and TCP listeners with inline pools, pools and
    /// rules counted in the bound.
    #[arg(long = "routes")]
    routes: bool,
    #[arg(long = "no-batch")]
    no_batch: bool,
    /// Only this API (repeatable); all four by default.
    #[arg(long = "provider", value_parser = clap::builder::PossibleValuesParser::new(APIS))]
    providers: Vec<String>,
    /// Also run the naive mode (one call per listener, one at a time).
    #[arg(long = "naive-too")]
    naive_too: bool,
    /// The multi-profile mode instead: one profile per API (see
    /// --provider), and --repeat profiles of --repeat-api (instances of one
    /// account), applied together; the bound is the slowest profile's own.
    #[arg(long = "multi-profile")]
    multi_profile: bool,
    /// Vendor listeners per profile in the multi-profile mode.
    #[arg(long = "profile-listeners", default_value_t = 50)]
    profile_listeners: usize,
    /// The API with several profiles in the multi-profile mode.
    #[arg(long = "repeat-api", default_value = "alibaba-ga", value_parser = clap::builder::PossibleValuesParser::new(APIS))]
    repeat_api: String,
    /// Profiles of --repeat-api in the multi-profile mode.
    #[arg(long = "repeat", default_value_t = 3)]
    repeat: usize,
    /// Give up (exit 3) when the whole run takes longer.
    #[arg(long = "timeout-secs", default_value_t = 1800)]
    timeout_secs: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    // Logs only when asked for (`RUST_LOG=info` shows every emulated call
    // with its timing); they go to stderr, the figures to stdout.
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("apply-bench: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let limit = Duration::from_secs(args.timeout_secs.max(1));
    match runtime.block_on(async { tokio::time::timeout(limit, bench(&args)).await }) {
        Ok(code) => code,
        Err(_) => {
            eprintln!("apply-bench: gave up after {} s (--timeout-secs)", limit.as_secs());
            ExitCode::from(3)
        }
    }
}

async fn bench(args: &Args) -> ExitCode {
    let apis: Vec<&'static str> = if args.providers.is_empty() {
        APIS.to_vec()
    } else {
        APIS.iter()
            .copied()
            .filter(|a| args.providers.iter().any(|p| p == a))
            .collect()
    };
    if args.multi_profile {
        return multi_bench(args, &apis).await;
    }
    let mut works: Vec<Workload> = Vec::new();
    for api in &apis {
        let built = if args.routes {
            workload::build_routes(api, args.listeners, args.instances)
        } else {
            workload::build(api, args.listeners, args.instances)
        };
        match built {
            Ok(w) => works.push(w),
            Err(e) => {
                eprintln!("apply-bench: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let settings = Settings {
        create_delay: Duration::from_millis(args.create_delay_ms),
        poll_interval_ms: args
            .poll_interval_ms
            .unwrap_or_else(|| default_poll_ms(args.create_delay_ms, args.instances))
            .max(1),
        wait_timeout_secs: 300,
        rate_limits: RateLimits::default(),
    };
    let optimized = Mode {
        name: "optimized",
        options: ApplyOptions {
            max_concurrency: args.max_concurrency.max(1),
            batch: !args.no_batch,
            ..ApplyOptions::default()
        },
        instances_at_once: args.max_concurrency.max(1),
    };
    let naive = Mode {
        name: "naive",
        options: ApplyOptions::naive(),
        instances_at_once: 1,
    };
    let bounds: BTreeMap<&'static str, Bound> = works
        .iter()
        .map(|w| (w.api, bound::bound(w, &settings.rate_limits, settings.create_delay)))
        .collect();

    println!(
        "apply-bench: {} listeners per API{} on {} instances each; create delay {} ms; poll every {} ms; \
         vendor rate limits on (emulator defaults, scale 1.0); client 20 calls/s per action shared by all instances",
        args.listeners,
        if args.routes {
            " (routes workload: routed HTTP and TCP listeners with inline pools)"
        } else {
            ""
        },
        args.instances,
        args.create_delay_ms,
        settings.poll_interval_ms
    );
    println!(
        "optimized: batch {}, {} writes in flight at most, instances at once; naive: one call per listener, one at a time, instances one after another",
        if optimized.options.batch { "on" } else { "off" },
        optimized.options.max_concurrency
    );

    let mut modes = vec![optimized];
    if args.naive_too {
        modes.push(naive);
    }
    let mut results: Vec<(&'static str, BTreeMap<&'static str, Outcome>)> = Vec::new();
    for mode in &modes {
        eprintln!("apply-bench: running the {} mode ...", mode.name);
        match run::run(&works, &settings, mode).await {
            Ok(r) => results.push((mode.name, r)),
            Err(e) => {
                eprintln!("apply-bench: {e}");
                return ExitCode::from(1);
            }
        }
    }

    let mut problems: Vec<String> = Vec::new();
    for w in &works {
        let Some(b) = bounds.get(w.api) else { continue };
        print_api(w, b, &results);
        for (mode, r) in &results {
            let Some(o) = r.get(w.api) else { continue };
            let ratio = o.wall.as_secs_f64() / b.seconds().max(f64::EPSILON);
            if *mode == "optimized" && ratio >= TARGET_RATIO {
                problems.push(format!(
                    "{}: optimized ratio {ratio:.2} is not below {TARGET_RATIO}",
                    w.api
                ));
            }
            if o.user_throttled() > 0 {
                problems.push(format!(
                    "{} ({mode}): {} throttling errors reached the user",
                    w.api,
                    o.user_throttled()
                ));
            }
            for (name, kind, message) in o.failures.iter().take(5) {
                problems.push(format!("{} ({mode}): `{name}` failed ({kind}): {message}", w.api));
            }
            if o.listeners != w.listeners() {
                problems.push(format!(
                    "{} ({mode}): {} listeners on the instances, {} expected",
                    w.api,
                    o.listeners,
                    w.listeners()
                ));
            }
        }
    }
    println!();
    if problems.is_empty() {
        println!("PASS: every optimized ratio is below {TARGET_RATIO}; no throttling error reached the user");
        ExitCode::SUCCESS
    } else {
        for p in &problems {
            println!("FAIL: {p}");
        }
        ExitCode::from(1)
    }
}

/// The multi-profile mode: build the profiles, run them together, print
/// each profile's own bound and the run's time over the slowest of them.
async fn multi_bench(args: &Args, apis: &[&'static str]) -> ExitCode {
    let repeated = APIS
        .iter()
        .copied()
        .find(|a| *a == args.repeat_api)
        .unwrap_or("alibaba-ga");
    let mut apis = apis.to_vec();
    if !apis.contains(&repeated) {
        apis.push(repeated);
    }
    let profiles = match multi::profiles(&apis, repeated, args.repeat, args.profile_listeners) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("apply-bench: {e}");
            return ExitCode::from(2);
        }
    };
    // Instances of one API poll at once, sharing one read rate.
    let k = profiles.iter().filter(|p| p.api == repeated).count().max(1);
    let settings = Settings {
        create_delay: Duration::from_millis(args.create_delay_ms),
        poll_interval_ms: args
            .poll_interval_ms
            .unwrap_or_else(|| default_poll_ms(args.create_delay_ms, k))
            .max(1),
        wait_timeout_secs: 300,
        rate_limits: RateLimits::default(),
    };
    let options = ApplyOptions {
        max_concurrency: args.max_concurrency.max(1),
        batch: !args.no_batch,
        ..ApplyOptions::default()
    };
    let bounds = multi::bounds(&profiles, &settings.rate_limits, settings.create_delay);
    println!(
        "apply-bench (multi-profile): {} profiles applied together ({} of {repeated}, one of each other API), \
         {} listeners each; create delay {} ms; poll every {} ms; vendor rate limits on; one provider per \
         profile, built from its profile as listenerctl does",
        profiles.len(),
        k,
        args.profile_listeners,
        args.create_delay_ms,
        settings.poll_interval_ms
    );
    let slowest = bounds.iter().map(Bound::seconds).fold(0.0_f64, f64::max);
    let sum: f64 = bounds.iter().map(Bound::seconds).sum();
    eprintln!("apply-bench: running {} profiles together ...", profiles.len());
    let outcome = match multi::run(&profiles, &settings, &options).await {
        Ok(o) => o,
        Err(e) => {
            eprintln!("apply-bench: {e}");
            return ExitCode::from(1);
        }
    };
    println!(
        "  {:<8} {:<13} {:<16} {:>9} {:>9} {:>9} {:>7}",
        "profile", "api", "instance", "listeners", "bound s", "own s", "ratio"
    );
    for ((p, b), own) in profiles.iter().zip(&bounds).zip(&outcome.per_profile) {
        println!(
            "  {:<8} {:<13} {:<16} {:>9} {:>9.3} {:>9.3} {:>7.2}",
            p.name,
            p.api,
            p.work.id,
            p.work.listeners,
            b.seconds(),
            own.as_secs_f64(),
            own.as_secs_f64() / b.seconds().max(f64::EPSILON)
        );
    }
    let wall = outcome.wall.as_secs_f64();
    let ratio = wall / slowest.max(f64::EPSILON);
    let expected: usize = profiles.iter().map(|p| p.work.listeners).sum();
    println!();
    println!(
        "  wall {wall:.3} s; slowest profile's bound {slowest:.3} s (sum of the bounds {sum:.3} s); \
         time/bound {ratio:.2}; {} listeners; {} calls ({:.2} per listener); {} throttled by the server",
        outcome.listeners,
        outcome.calls,
        outcome.calls as f64 / expected.max(1) as f64,
        outcome.throttled_by_server
    );
    let mut problems = Vec::new();
    if ratio >= TARGET_RATIO {
        problems.push(format!("time/bound {ratio:.2} is not below {TARGET_RATIO}"));
    }
    if outcome.listeners != expected {
        problems.push(format!("{} listeners made, {expected} expected", outcome.listeners));
    }
    for (profile, name, kind, message) in outcome.failures.iter().take(5) {
        problems.push(format!("{profile}: `{name}` failed ({kind}): {message}"));
    }
    println!();
    if problems.is_empty() {
        println!(
            "PASS: {} profiles together took {ratio:.2} times the slowest one's bound",
            profiles.len()
        );
        ExitCode::SUCCESS
    } else {
        for p in &problems {
            println!("FAIL: {p}");
        }
        ExitCode::from(1)
    }
}

/// The vendors' read rate per action, which all instances' status polls
/// share.
const READS_PER_SECOND: u64 = 20;

/// The shortest poll interval that keeps `k` instances, each waiting for
/// one write at a time, within [`READS_PER_SECOND`]: a wait polls once at
/// once and then every `p`, so a write of `d` ms costs `1 + d/p` polls and
/// `k` instances need `k (1 + d/p) / d <= rate`, i.e.
/// `p >= d k / (rate d - k)`. When even one poll per write does not fit,
/// one poll per write is what is asked for (`p = d`).
fn default_poll_ms(delay_ms: u64, k: usize) -> u64 {
    let k = u64::try_from(k).unwrap_or(u64::MAX).max(1);
    let budget = (READS_PER_SECOND.saturating_mul(delay_ms) / 1000).saturating_sub(k);
    if budget == 0 {
        return delay_ms.max(1);
    }
    delay_ms.saturating_mul(k).div_ceil(budget)
}

fn print_api(w: &Workload, b: &Bound, results: &[(&'static str, BTreeMap<&'static str, Outcome>)]) {
    println!();
    println!(
        "{}: {} listeners on {} instances ({} file listeners)",
        w.api,
        w.listeners(),
        w.instances.len(),
        w.instances.iter().map(|i| i.specs.len()).sum::<usize>()
    );
    let rate: Vec<String> = b
        .actions
        .iter()
        .map(|a| {
            format!(
                "{} {} calls, burst {}, {:.2}/s -> {:.2} s",
                a.action, a.calls, a.burst, a.per_second, a.seconds
            )
        })
        .collect();
    println!("  rate term   {:>8.2} s  ({})", b.rate_seconds, rate.join("; "));
    println!(
        "  serial term {:>8.2} s  ({}: {} create calls, one at a time, each waiting its delay)",
        b.serial_seconds, b.busiest.0, b.busiest.1
    );
    println!(
        "  {:<10} {:>9} {:>7} {:>7} {:>9} {:>9} {:>7} {:>10} {:>14} {:>15} {:>8} {:>7}",
        "mode",
        "listeners",
        "writes",
        "calls",
        "wall s",
        "bound s",
        "ratio",
        "calls/lsn",
        "throttled-user",
        "throttled-retry",
        "retries",
        "errors"
    );
    for (mode, r) in results {
        let Some(o) = r.get(w.api) else { continue };
        let wall = o.wall.as_secs_f64();
        println!(
            "  {:<10} {:>9} {:>7} {:>7} {:>9.3} {:>9.3} {:>7.2} {:>10.2} {:>14} {:>15} {:>8} {:>7}",
            mode,
            o.listeners,
            o.writes,
            o.calls,
            wall,
            b.seconds(),
            wall / b.seconds().max(f64::EPSILON),
            o.calls_per_listener(),
            o.user_throttled(),
            o.throttled_by_server,
            o.retries,
            o.errors_by_server
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_poll_keeps_all_instances_within_the_read_rate() {
        assert_eq!(default_poll_ms(1000, 4), 250);
        assert_eq!(default_poll_ms(2000, 4), 223);
        assert_eq!(default_poll_ms(1000, 5), 334);
        // Too many instances for the rate: one poll per write.
        assert_eq!(default_poll_ms(100, 4), 100);
    }
}
