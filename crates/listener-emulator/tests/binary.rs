//! The `listener-emulator serve` binary as users' CI runs it: URL on the
//! first stdout line, admin surface reachable, config file applied, clean
//! exit on SIGTERM, and config errors that never echo a secret.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_listener-emulator");

/// A running emulator process, killed if a test fails before stopping it.
struct Served {
    child: Child,
    url: String,
}

impl Served {
    fn start(args: &[&str]) -> Served {
        let mut child = Command::new(BIN)
            .arg("serve")
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("binary starts");
        let stdout = child.stdout.take().expect("stdout piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(60)).expect("URL printed in time");
        let url = line.trim().to_string();
        assert!(url.starts_with("http://127.0.0.1:"), "first line is the URL: {url:?}");
        Served { child, url }
    }

    /// Sends SIGTERM (to this child only, by its id) and waits, bounded,
    /// for a clean exit.
    fn stop(mut self) -> bool {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.map(|s| s.success()).unwrap_or(false), "kill -TERM sent");
        for _ in 0..300 {
            if let Some(status) = self.child.try_wait().expect("wait works") {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

#[tokio::test]
async fn serve_prints_the_url_answers_admin_calls_and_stops_on_sigterm() {
    let served = Served::start(&["--port", "0", "--no-auth", "--no-rate-limits"]);
    let state: Value = client()
        .get(format!("{}/_emulator/state", served.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(state["services"].is_array());
    assert_eq!(state["verify_signatures"], false);
    assert_eq!(state["rate_limits_enabled"], false);
    // An API call for a version nobody serves gets the vendor's answer.
    let response = client()
        .post(format!("{}/", served.url))
        .header("x-tc-action", "DescribeHTTPListeners")
        .header("x-tc-version", "1999-01-01")
        .body("{}")
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["Response"]["Error"]["Code"], "NoSuchVersion");
    assert!(served.stop(), "clean exit on SIGTERM");
}

#[tokio::test]
async fn config_file_faults_are_visible_and_replaceable_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("emulator.toml");
    std::fs::write(
        &path,
        r#"
[credentials.tencent]
secret_id = "AKIDfromfile"
secret_key = "from-file-key"

[rate_limits]
scale = 2.0

[[faults.rules]]
action = "CreateListener"
fault = "slow"
delay_ms = 10
times = 2
"#,
    )
    .unwrap();
    let served = Served::start(&["--config", path.to_str().unwrap()]);
    let url = format!("{}/_emulator/faults", served.url);
    let faults: Value = client().get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        faults["rules"],
        json!([{"action": "CreateListener", "fault": "slow", "delay_ms": 10, "times": 2, "skip": 0}])
    );
    let replaced: Value = client()
        .post(&url)
        .json(&json!({"random": {"seed": 1, "drop": 0.5}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(replaced["rules"], json!([]));
    assert_eq!(replaced["random"]["drop"], 0.5);
    assert!(served.stop());
}

#[test]
fn bad_config_fails_without_echoing_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[credentials.alibaba]\naccess_key_id = \"LTAIx\"\naccess_key_secret = 987654321\n",
    )
    .unwrap();
    let output = Command::new(BIN)
        .args(["serve", "--port", "0", "--config", path.to_str().unwrap()])
        .stdin(Stdio::null())
        .output()
        .expect("binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 3"), "{stderr}");
    assert!(!stderr.contains("987654321"), "{stderr}");
    assert!(output.stdout.is_empty(), "no URL when the start failed");
}

#[test]
fn credential_flags_must_come_in_pairs() {
    let output = Command::new(BIN)
        .args(["serve", "--port", "0", "--tencent-id", "AKIDonly"])
        .env_remove("LISTENER_EMULATOR_TENCENT_KEY")
        .stdin(Stdio::null())
        .output()
        .expect("binary runs");
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
}
