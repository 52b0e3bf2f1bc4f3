//! What the child-process tests (`kill_rerun.rs`, `interrupt.rs`) share: an
//! emulator in the test process on 127.0.0.1 with slow asynchronous work,
//! `listenerctl` as a child process that a guard kills on every exit path,
//! a one-profile file of many listeners, and a provider of the test's own
//! for reading the instance back. Included with `mod child;` by those two
//! files only, so it carries no `dead_code` allowance.

use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use cloud_listeners::{provider_from_profile, ConfigFile, InlineCredentials, Provider, Secret};
use listener_emulator::{
    EmulatorHandle, InstanceSeed, RateLimits, Timing, DEFAULT_ALIBABA_ACCESS_KEY_ID, DEFAULT_ALIBABA_ACCESS_KEY_SECRET,
    DEFAULT_TENCENT_SECRET_ID, DEFAULT_TENCENT_SECRET_KEY,
};

/// Bound of every wait of these tests.
pub const BOUND: Duration = Duration::from_secs(120);

/// An emulator on its own runtime; shut down when dropped.
pub struct Emu {
    handle: Option<EmulatorHandle>,
    /// The runtime the emulator (and the test's own provider) runs on.
    pub runtime: tokio::runtime::Runtime,
}

impl Emu {
    /// One instance of `api`; every asynchronous change takes `delay`.
    pub fn start(api: &str, instance: &str, server_groups: &[&str], delay: Duration) -> Self {
        Emu::start_many(api, &[instance], server_groups, delay)
    }

    /// Several instances of `api` (each with `server_groups`); every
    /// asynchronous change takes `delay`.
    pub fn start_many(api: &str, instances: &[&str], server_groups: &[&str], delay: Duration) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let mut builder = listener_emulator::Emulator::builder()
            .timing(Timing {
                create: delay,
                update: delay,
                delete: delay,
            })
            .rate_limits(RateLimits::disabled());
        for instance in instances {
            builder = builder.seed(
                api,
                InstanceSeed {
                    id: instance.to_string(),
                    server_groups: server_groups.iter().map(|g| g.to_string()).collect(),
                },
            );
        }
        let handle = runtime.block_on(builder.start()).expect("emulator starts on 127.0.0.1");
        Emu {
            handle: Some(handle),
            runtime,
        }
    }

    /// The running emulator.
    pub fn handle(&self) -> &EmulatorHandle {
        self.handle.as_ref().expect("running")
    }

    /// Listeners the emulator holds on `instance`.
    pub fn count(&self, api: &str, instance: &str) -> usize {
        self.handle().listener_count(api, instance)
    }
}

impl Drop for Emu {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            self.runtime.block_on(h.shutdown());
        }
    }
}

/// A child process killed (and reaped) when the guard goes out of scope,
/// so a failing assertion never leaves a CLI running.
pub struct ChildGuard(pub Child);

impl ChildGuard {
    /// Wait for the child to exit, within [`BOUND`].
    pub fn wait_bounded(&mut self) -> ExitStatus {
        let deadline = Instant::now() + BOUND;
        loop {
            if let Some(status) = self.0.try_wait().expect("try_wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "listenerctl did not finish within {BOUND:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `listenerctl` with an environment that cannot reach anyone's real
/// credentials: HOME is the scratch directory, the vendors' credential
/// variables hold the emulator's public test keys, nothing else is read.
fn listenerctl(home: &Path) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("listenerctl"));
    cmd.env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TENCENTCLOUD_SECRET_ID", DEFAULT_TENCENT_SECRET_ID)
        .env("TENCENTCLOUD_SECRET_KEY", DEFAULT_TENCENT_SECRET_KEY)
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", DEFAULT_ALIBABA_ACCESS_KEY_ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", DEFAULT_ALIBABA_ACCESS_KEY_SECRET)
        .stdin(Stdio::null());
    cmd
}

/// Start `args`; stdout and stderr go to files in `dir` named after `label`.
pub fn spawn(dir: &Path, label: &str, args: &[&str]) -> ChildGuard {
    let out = std::fs::File::create(dir.join(format!("{label}.out"))).expect("stdout file");
    let err = std::fs::File::create(dir.join(format!("{label}.err"))).expect("stderr file");
    ChildGuard(
        listenerctl(dir)
            .args(args)
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("listenerctl starts"),
    )
}

/// One stream (`out` or `err`) of the run named `label`.
pub fn read(dir: &Path, label: &str, ext: &str) -> String {
    std::fs::read_to_string(dir.join(format!("{label}.{ext}"))).unwrap_or_default()
}

/// Both streams of the run named `label`, for assertion messages.
pub fn output(dir: &Path, label: &str) -> String {
    format!(
        "--- stdout\n{}\n--- stderr\n{}",
        read(dir, label, "out"),
        read(dir, label, "err")
    )
}

/// Run `args` to completion; returns the status and both streams.
pub fn run(dir: &Path, label: &str, args: &[&str]) -> (ExitStatus, String) {
    let mut child = spawn(dir, label, args);
    let status = child.wait_bounded();
    drop(child);
    (status, output(dir, label))
}

/// What a test file holds: one profile `p` on the emulator and `count`
/// listeners the API takes, named `{prefix}-{j}` on port `first_port + j`,
/// one create call each; `extra(j)` adds lines to listener `j`.
pub struct FileShape<'a> {
    /// Listeners in the file.
    pub count: usize,
    /// Name prefix.
    pub prefix: &'a str,
    /// Port of the first listener.
    pub first_port: usize,
    /// Extra lines for listener `j` (after the protocol's own).
    pub extra: &'a dyn Fn(&str, usize) -> String,
}

/// The listeners file of `shape` for `api`.
pub fn file(api: &str, instance: &str, url: &str, server_group: Option<&str>, shape: &FileShape<'_>) -> String {
    let region = match api {
        "tencent-clb" => "region = \"ap-guangzhou\"\n",
        "alibaba-alb" | "alibaba-ga" => "region = \"cn-hangzhou\"\n",
        _ => "",
    };
    let targets = server_group.map_or(String::new(), |g| format!("targets = {{ web-servers = \"{g}\" }}\n"));
    let mut text = format!(
        "[profiles.p]\napi = \"{api}\"\n{region}instance = \"{instance}\"\nendpoint = \"{url}\"\n\
         allow_insecure_http = true\nwait = {{ timeout_secs = 60, poll_interval_ms = 20 }}\n{targets}\n"
    );
    let protocol = if api == "alibaba-alb" { "http" } else { "tcp" };
    for j in 0..shape.count {
        text.push_str(&format!(
            "[[listeners]]\nname = \"{}-{j}\"\nprotocol = \"{protocol}\"\nports = {}\n",
            shape.prefix,
            shape.first_port + j
        ));
        if api == "alibaba-alb" {
            text.push_str("forwarding = { default_target = \"web-servers\" }\n");
        }
        text.push_str(&(shape.extra)(api, j));
        text.push('\n');
    }
    text
}

/// A provider of the test's own for profile `p` of the file at `path`,
/// with the emulator's public test keys inline.
pub fn own_provider(path: &Path, api: &str) -> std::sync::Arc<dyn Provider> {
    let loaded = ConfigFile::load(path).expect("file loads");
    let mut profile = loaded.profiles["p"].clone();
    let (id, secret) = if api.starts_with("tencent") {
        (DEFAULT_TENCENT_SECRET_ID, DEFAULT_TENCENT_SECRET_KEY)
    } else {
        (DEFAULT_ALIBABA_ACCESS_KEY_ID, DEFAULT_ALIBABA_ACCESS_KEY_SECRET)
    };
    profile.inline_credentials = Some(InlineCredentials {
        key_id: id.into(),
        secret: Secret::new(secret),
        token: None,
    });
    provider_from_profile(&profile).expect("provider builds")
}
