//! Interrupting apply converges: `listenerctl apply` is killed (SIGKILL, no
//! chance to clean up) once some but not all listeners exist, then run
//! again to completion. The instance must then hold exactly the file's
//! listeners, each once and settled, and `plan` must exit 0 (nothing to
//! do). The cloud is the state: the second run re-reads it and makes only
//! what is missing, including around a listener the killed run left
//! half-way through its creation.
//!
//! The emulator runs in this test process on 127.0.0.1, with asynchronous
//! delays long enough that an apply of 40 listeners takes several seconds;
//! the CLI runs as a child process that a guard kills on every exit path.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use cloud_listeners::{provider_from_profile, ConfigFile, InlineCredentials, Secret, Transport};
use listener_emulator::{
    EmulatorHandle, InstanceSeed, RateLimits, Timing, DEFAULT_ALIBABA_ACCESS_KEY_ID, DEFAULT_ALIBABA_ACCESS_KEY_SECRET,
    DEFAULT_TENCENT_SECRET_ID, DEFAULT_TENCENT_SECRET_KEY,
};

/// Listeners in the file.
const LISTENERS: usize = 40;
/// How long the emulator keeps a listener creating, so that one apply
/// takes seconds and a kill lands in the middle of it.
const CREATE_DELAY: Duration = Duration::from_millis(150);
/// Bound of every wait in this file.
const BOUND: Duration = Duration::from_secs(120);

/// An emulator on its own runtime; shut down when dropped.
struct Emu {
    handle: Option<EmulatorHandle>,
    runtime: tokio::runtime::Runtime,
}

impl Emu {
    fn start(api: &str, instance: &str, server_groups: &[&str]) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let builder = listener_emulator::Emulator::builder()
            .timing(Timing {
                create: CREATE_DELAY,
                update: CREATE_DELAY,
                delete: CREATE_DELAY,
            })
            .rate_limits(RateLimits::disabled())
            .seed(
                api,
                InstanceSeed {
                    id: instance.to_string(),
                    server_groups: server_groups.iter().map(|g| g.to_string()).collect(),
                },
            );
        let handle = runtime.block_on(builder.start()).expect("emulator starts on 127.0.0.1");
        Emu {
            handle: Some(handle),
            runtime,
        }
    }

    fn handle(&self) -> &EmulatorHandle {
        self.handle.as_ref().expect("running")
    }

    fn count(&self, api: &str, instance: &str) -> usize {
        let counts = self.handle().listener_counts();
        let short = api.split_once('-').map_or(api, |(_, s)| s);
        counts
            .get(api)
            .or_else(|| counts.get(short))
            .and_then(|m| m.get(instance))
            .copied()
            .unwrap_or(0)
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
struct ChildGuard(Child);

impl ChildGuard {
    /// Wait for the child to exit, within [`BOUND`].
    fn wait_bounded(&mut self) -> ExitStatus {
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

/// Run `args` to completion; stdout and stderr go to files in `dir` named
/// after `label`, returned for messages.
fn run(dir: &Path, label: &str, args: &[&str]) -> (ExitStatus, String) {
    let mut child = spawn(dir, label, args);
    let status = child.wait_bounded();
    drop(child);
    (status, output(dir, label))
}

fn spawn(dir: &Path, label: &str, args: &[&str]) -> ChildGuard {
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

fn output(dir: &Path, label: &str) -> String {
    let read = |ext: &str| std::fs::read_to_string(dir.join(format!("{label}.{ext}"))).unwrap_or_default();
    format!("--- stdout\n{}\n--- stderr\n{}", read("out"), read("err"))
}

/// The listeners file: one profile on the emulator and [`LISTENERS`]
/// listeners the API takes, one port each, each created by its own call.
fn file(api: &str, instance: &str, url: &str, server_group: Option<&str>) -> String {
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
    for j in 0..LISTENERS {
        text.push_str(&format!(
            "[[listeners]]\nname = \"kill-{j}\"\nprotocol = \"{protocol}\"\nports = {}\n",
            20_000 + j
        ));
        if api == "alibaba-alb" {
            text.push_str("forwarding = { default_target = \"web-servers\" }\n");
        }
        if api == "tencent-clb" {
            // CLB makes listeners that differ only in name and port in one
            // call; a setting of their own keeps them one call each, so
            // there is a middle to kill the apply in.
            text.push_str(&format!("session_persistence = {{ timeout_secs = {} }}\n", 30 + j));
        }
        text.push('\n');
    }
    text
}

/// Kill apply mid-way on `api`, rerun it, and check the result.
fn kill_and_rerun(api: &str, instance: &str, server_group: Option<&str>) {
    let groups: Vec<&str> = server_group.into_iter().collect();
    let emu = Emu::start(api, instance, &groups);
    let scratch = tempfile::tempdir().expect("temp dir");
    let dir = scratch.path();
    let path: PathBuf = dir.join("listeners.toml");
    std::fs::write(&path, file(api, instance, &emu.handle().url(), server_group)).expect("write file");
    let path_arg = path.to_str().expect("utf-8 path");
    let args = ["apply", "-f", path_arg, "--profile", "p"];

    // First run: killed once some, but not all, listeners exist.
    let mut first = spawn(dir, "first", &args);
    let deadline = Instant::now() + BOUND;
    let threshold = LISTENERS / 4;
    let at_kill = loop {
        let n = emu.count(api, instance);
        if n >= threshold {
            break n;
        }
        if let Some(status) = first.0.try_wait().expect("try_wait") {
            panic!(
                "{api}: apply ended ({status}) before it could be killed, with {n} listeners\n{}",
                output(dir, "first")
            );
        }
        assert!(
            Instant::now() < deadline,
            "{api}: apply made no progress within {BOUND:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    first.0.kill().expect("SIGKILL");
    let status = first.wait_bounded();
    drop(first);
    assert!(
        !status.success(),
        "{api}: the first apply finished before the kill\n{}",
        output(dir, "first")
    );
    let after_kill = emu.count(api, instance);
    assert!(
        after_kill < LISTENERS,
        "{api}: every listener was made before the kill ({after_kill}); nothing was interrupted"
    );

    let loaded = ConfigFile::load(&path).expect("file loads");
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
    let provider = provider_from_profile(&profile).expect("provider builds");
    // What the killed run left: usually a listener still being created.
    let left = emu.runtime.block_on(provider.list()).expect("list after the kill");
    let unsettled = left.iter().filter(|l| !l.status.is_settled()).count();

    // Second run: to completion.
    let (status, out) = run(dir, "second", &args);
    assert!(status.success(), "{api}: the rerun failed ({status})\n{out}");

    // Exactly the file: each port once, settled, nothing else.
    let listed = emu.runtime.block_on(provider.list()).expect("list");
    let mut by_port: BTreeMap<(Transport, Vec<u32>), Vec<String>> = BTreeMap::new();
    for l in &listed {
        assert!(l.status.is_settled(), "{api}: {} is {:?}", l.id, l.status);
        let ports = l.spec.ports.ranges().iter().flat_map(|r| r.from..=r.to).collect();
        by_port
            .entry((l.spec.protocol.transport(), ports))
            .or_default()
            .push(l.id.0.clone());
    }
    for spec in &loaded.listeners {
        let k = (
            spec.protocol.transport(),
            vec![spec.ports.as_single().expect("one port")],
        );
        match by_port.remove(&k).as_deref() {
            Some([_]) => {}
            None | Some([]) => panic!("{api}: {} is missing", spec.name),
            Some(ids) => panic!("{api}: {} is doubled: {ids:?}", spec.name),
        }
    }
    assert!(
        by_port.is_empty(),
        "{api}: listeners the file does not name: {by_port:?}"
    );
    assert_eq!(emu.count(api, instance), LISTENERS, "{api}: the emulator's own count");

    // And nothing left to do: plan exits 0.
    let (status, out) = run(dir, "plan", &["plan", "-f", path_arg, "--profile", "p"]);
    assert_eq!(status.code(), Some(0), "{api}: plan after the rerun\n{out}");
    println!(
        "{api}: killed apply at {at_kill}/{LISTENERS} listeners ({} listed after the kill, {unsettled} of them \
         still in progress); rerun converged to exactly the file, plan empty",
        left.len()
    );
}

#[test]
fn killed_gaap_apply_converges_on_rerun() {
    kill_and_rerun("tencent-gaap", "link-kill0001", None);
}

#[test]
fn killed_clb_apply_converges_on_rerun() {
    kill_and_rerun("tencent-clb", "lb-kill00001", None);
}

#[test]
fn killed_alb_apply_converges_on_rerun() {
    kill_and_rerun("alibaba-alb", "alb-kill0000001", Some("sgp-kill0000001"));
}

#[test]
fn killed_ga_apply_converges_on_rerun() {
    kill_and_rerun("alibaba-ga", "ga-kill0000001", None);
}
