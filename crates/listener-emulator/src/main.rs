//! `listener-emulator serve`: the emulator as a process, for users' CI and
//! for anything that cannot start it in-process.
//!
//! The first line on standard output is the endpoint URL and nothing else,
//! so a script can read it (`url=$(listener-emulator serve --port 0 | head -1)`);
//! logs go to standard error. Secrets given by flag, environment or config
//! file are never logged.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use listener_emulator::{Emulator, EmulatorConfig, RateLimits};

#[derive(Parser)]
#[command(
    name = "listener-emulator",
    version,
    about = "Local emulator of the Tencent GAAP/CLB and Alibaba ALB/GA listener APIs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve all four APIs on one port until Ctrl-C or SIGTERM.
    Serve(ServeArgs),
}

#[derive(Args)]
struct ServeArgs {
    /// Port to listen on; 0 lets the OS pick one (printed on stdout).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Address to listen on. Keep the loopback default unless the emulator
    /// must be reached from a container: the admin surface has no auth.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    host: IpAddr,
    /// TOML config file (credentials, instances, timing, rate limits, faults).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Accept requests without checking signatures.
    #[arg(long)]
    no_auth: bool,
    /// Do not throttle.
    #[arg(long)]
    no_rate_limits: bool,
    /// Multiply every rate limit by this factor.
    #[arg(long)]
    rate_scale: Option<f64>,
    /// Tencent SecretId to accept (with --tencent-key).
    #[arg(long, env = "LISTENER_EMULATOR_TENCENT_ID", requires = "tencent_key")]
    tencent_id: Option<String>,
    /// Tencent SecretKey to accept (with --tencent-id).
    #[arg(
        long,
        env = "LISTENER_EMULATOR_TENCENT_KEY",
        hide_env_values = true,
        requires = "tencent_id"
    )]
    tencent_key: Option<String>,
    /// Alibaba AccessKeyId to accept (with --alibaba-secret).
    #[arg(long, env = "LISTENER_EMULATOR_ALIBABA_ID", requires = "alibaba_secret")]
    alibaba_id: Option<String>,
    /// Alibaba AccessKeySecret to accept (with --alibaba-id).
    #[arg(
        long,
        env = "LISTENER_EMULATOR_ALIBABA_SECRET",
        hide_env_values = true,
        requires = "alibaba_id"
    )]
    alibaba_secret: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, not in CI logs.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let Command::Serve(args) = cli.command;
    match serve(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("listener-emulator: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let mut builder = Emulator::builder().bind(SocketAddr::new(args.host, args.port));
    let mut rate_limits = RateLimits::default();
    if let Some(path) = &args.config {
        let config = EmulatorConfig::load(path).map_err(|e| e.to_string())?;
        if let Some(limits) = &config.rate_limits {
            rate_limits = limits.clone();
        }
        builder = builder.config(&config);
    }
    if let (Some(id), Some(key)) = (args.tencent_id, args.tencent_key) {
        builder = builder.tencent_credentials(id, key);
    }
    if let (Some(id), Some(secret)) = (args.alibaba_id, args.alibaba_secret) {
        builder = builder.alibaba_credentials(id, secret);
    }
    if args.no_auth {
        builder = builder.verify_signatures(false);
    }
    if args.no_rate_limits {
        rate_limits.enabled = false;
    }
    if let Some(scale) = args.rate_scale {
        rate_limits.scale = scale;
    }
    let emulator = builder
        .rate_limits(rate_limits)
        .start()
        .await
        .map_err(|e| e.to_string())?;

    {
        // One short line, written once: blocking stdout is fine here.
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{}", emulator.url())
            .and_then(|()| stdout.flush())
            .map_err(|e| format!("cannot write the URL to stdout: {e}"))?;
    }

    wait_for_stop_signal().await;
    tracing::info!("stop signal received, shutting down");
    emulator.shutdown().await;
    Ok(())
}

/// Ctrl-C everywhere, and SIGTERM on Unix (what `docker stop` and CI
/// runners send).
async fn wait_for_stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
