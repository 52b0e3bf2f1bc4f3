//! Helpers shared by the end-to-end tests: run the real binary with a clean
//! environment, write config files, and hold servers on 127.0.0.1.
#![allow(dead_code)]

use std::io::ErrorKind;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use listener_emulator::{
    EmulatorHandle, InstanceSeed, RateLimits, Timing, DEFAULT_ALIBABA_ACCESS_KEY_ID, DEFAULT_ALIBABA_ACCESS_KEY_SECRET,
    DEFAULT_TENCENT_SECRET_ID, DEFAULT_TENCENT_SECRET_KEY,
};
use tempfile::TempDir;

/// The binary with an environment that cannot reach anyone's real
/// credentials: HOME is a fresh directory, the profile/file variables are
/// unset, and the vendors' credential variables hold the emulator's
/// public test keys.
pub fn cli(home: &Path) -> Command {
    let mut cmd = Command::cargo_bin("listenerctl").expect("binary built");
    for var in [
        "LISTENERCTL_PROFILE",
        "LISTENERCTL_FILE",
        "RUST_LOG",
        "TENCENTCLOUD_SECRET_ID",
        "TENCENTCLOUD_SECRET_KEY",
        "TENCENTCLOUD_SESSION_TOKEN",
        "TENCENTCLOUD_TOKEN",
        "TENCENTCLOUD_SECURITY_TOKEN",
        "TENCENTCLOUD_REGION",
        "TCCLI_PROFILE",
        "TENCENTCLOUD_PROFILE",
        "TENCENTCLOUD_SHARED_CREDENTIALS_DIR",
        "TENCENTCLOUD_CREDENTIALS_FILE",
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "ALIBABA_CLOUD_SECURITY_TOKEN",
        "ALIBABA_CLOUD_PROFILE",
        "ALIBABA_CLOUD_REGION_ID",
        "ALIBABA_CLOUD_CONFIG_FILE",
        "ALIBABA_CLOUD_CREDENTIALS_FILE",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("HOME", home)
        .env("TENCENTCLOUD_SECRET_ID", DEFAULT_TENCENT_SECRET_ID)
        .env("TENCENTCLOUD_SECRET_KEY", DEFAULT_TENCENT_SECRET_KEY)
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", DEFAULT_ALIBABA_ACCESS_KEY_ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", DEFAULT_ALIBABA_ACCESS_KEY_SECRET)
        .timeout(Duration::from_secs(300));
    cmd
}

/// What a finished run printed, and its exit code.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "expected exit {code}, got {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// The JSON error document `--output json` writes to stderr.
    pub fn json_error(&self) -> serde_json::Value {
        serde_json::from_str(&self.stderr).unwrap_or_else(|e| panic!("stderr is not JSON ({e}):\n{}", self.stderr))
    }

    /// Every line of stdout parsed as JSON (JSON lines).
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
            .collect()
    }
}

/// Run the binary with `args` in a clean environment.
pub fn run(home: &Path, args: &[&str]) -> Run {
    let out = cli(home).args(args).output().expect("the binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A scratch directory for config files and HOME.
pub struct Scratch {
    pub dir: TempDir,
}

impl Scratch {
    pub fn new() -> Self {
        Scratch {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn home(&self) -> &Path {
        self.dir.path()
    }

    /// Write `text` to `name` in the scratch directory.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write config");
        path
    }

    pub fn run(&self, args: &[&str]) -> Run {
        run(self.home(), args)
    }
}

/// A TCP port on 127.0.0.1 that accepts nothing on its own: pointing a
/// profile's endpoint here and finding no connection afterwards proves the
/// command sent nothing. Closed when dropped.
pub struct Tripwire {
    listener: TcpListener,
}

impl Tripwire {
    pub fn new() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        listener.set_nonblocking(true).expect("non-blocking");
        Tripwire { listener }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.listener.local_addr().expect("bound"))
    }

    /// Fails if any connection reached the port.
    pub fn assert_untouched(&self) {
        match self.listener.accept() {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Ok((_, peer)) => panic!("a connection was made to the tripwire from {peer}: the command used the network"),
            Err(e) => panic!("tripwire accept failed: {e}"),
        }
    }
}

/// An emulator on 127.0.0.1 serving every test in one process, on its own
/// runtime, so several CLI runs (separate processes) see the same state.
pub struct Emu {
    pub handle: Option<EmulatorHandle>,
    runtime: tokio::runtime::Runtime,
}

impl Emu {
    /// Start an emulator seeded with `seeds` (API name, instance, server groups).
    pub fn start(seeds: &[(&str, &str, &[&str])]) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let mut builder = listener_emulator::Emulator::builder()
            .timing(Timing {
                create: Duration::from_millis(30),
                update: Duration::from_millis(30),
                delete: Duration::from_millis(30),
            })
            .rate_limits(RateLimits {
                enabled: false,
                ..RateLimits::default()
            });
        for (api, instance, groups) in seeds {
            builder = builder.seed(
                *api,
                InstanceSeed {
                    id: instance.to_string(),
                    server_groups: groups.iter().map(|g| g.to_string()).collect(),
                },
            );
        }
        let handle = runtime.block_on(builder.start()).expect("emulator starts");
        Emu {
            handle: Some(handle),
            runtime,
        }
    }

    pub fn url(&self) -> String {
        self.handle.as_ref().expect("running").url()
    }

    /// Where the emulated cloud `service` (`alb`, `clb`, `gaap`, `ga`)
    /// would send a request, by its own vendor's matching
    /// (`POST /_emulator/resolve`); the answer, or `{"error": ...}`.
    pub fn resolve(&self, service: &str, instance: &str, port: u32, host: &str, path: &str) -> serde_json::Value {
        let url = format!("{}/_emulator/resolve", self.url());
        let body = serde_json::json!({
            "service": service, "instance": instance, "port": port, "host": host, "path": path,
        });
        self.runtime.block_on(async {
            let answer = reqwest::Client::new()
                .post(url)
                .json(&body)
                .timeout(Duration::from_secs(10))
                .send()
                .await
                .expect("the emulator answers resolve");
            answer.json().await.expect("resolve answers JSON")
        })
    }

    /// Listeners on `instance` of `api`, as the emulator counts them.
    pub fn count(&self, api: &str, instance: &str) -> usize {
        self.handle.as_ref().expect("running").listener_count(api, instance)
    }
}

impl Drop for Emu {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            self.runtime.block_on(h.shutdown());
        }
    }
}

/// A profile section pointing at `endpoint` over plain HTTP, polling fast.
pub fn profile(name: &str, api: &str, instance: &str, endpoint: &str, extra: &str) -> String {
    let region = match api {
        "tencent-clb" => "region = \"ap-guangzhou\"\n",
        "alibaba-alb" | "alibaba-ga" => "region = \"cn-hangzhou\"\n",
        _ => "",
    };
    format!(
        "[profiles.{name}]\napi = \"{api}\"\n{region}instance = \"{instance}\"\nendpoint = \"{endpoint}\"\n\
         allow_insecure_http = true\nwait = {{ timeout_secs = 60, poll_interval_ms = 20 }}\n{extra}\n"
    )
}
