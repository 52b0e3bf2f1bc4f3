//! Ctrl-C and SIGTERM during `apply`: the first signal stops apply from
//! starting new steps, lets the step in flight end, prints what was done,
//! what was in flight and what was not started, and exits 130 (SIGINT) or
//! 143 (SIGTERM); the instance then holds no half-made listener and a rerun
//! converges. A second signal exits at once.
//!
//! As in `kill_rerun.rs`, the emulator runs in this test process on
//! 127.0.0.1 with slow asynchronous creates, and the CLI is a child
//! process (killed by a guard on every exit path) that the test signals
//! with `kill(1)`.
#![cfg(unix)]

mod child;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use child::{file, output, own_provider, read, run, spawn, ChildGuard, Emu, FileShape, BOUND};
use cloud_listeners::Listener;

/// Listeners in the file.
const LISTENERS: usize = 30;
/// The file of these tests: one call per listener, nothing extra.
const SHAPE: FileShape<'static> = FileShape {
    count: LISTENERS,
    prefix: "int",
    first_port: 21_000,
    extra: &|_, _| String::new(),
};

/// Send `signal` (`INT`, `TERM`) to the child with kill(1).
fn signal(child: &ChildGuard, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.0.id().to_string())
        .status()
        .expect("kill(1) runs");
    assert!(status.success(), "kill -{signal} failed");
}

/// Wait until the emulator holds at least `n` listeners; fails if the
/// child ends first.
fn wait_for_listeners(emu: &Emu, api: &str, instance: &str, n: usize, child: &mut ChildGuard, dir: &Path) {
    let deadline = Instant::now() + BOUND;
    loop {
        if emu.count(api, instance) >= n {
            return;
        }
        if let Some(status) = child.0.try_wait().expect("try_wait") {
            panic!(
                "{api}: apply ended ({status}) before the signal\n{}",
                output(dir, "first")
            );
        }
        assert!(Instant::now() < deadline, "{api}: apply made no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// What the instance holds, read with the test's own provider.
fn listed(emu: &Emu, path: &Path, api: &str) -> Vec<Listener> {
    emu.runtime.block_on(own_provider(path, api).list()).expect("list")
}

/// `  done: 7` in the text summary; 0 when the section is absent.
fn section_count(text: &str, title: &str) -> usize {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{title}: ")))
        .map_or(0, |n| n.trim().parse().expect("a count"))
}

/// Rerun apply to completion, then plan: exit 0, nothing left to do.
fn rerun_converges(emu: &Emu, dir: &Path, path_arg: &str, api: &str, instance: &str) {
    let (status, out) = run(dir, "second", &["apply", "-f", path_arg, "--profile", "p"]);
    assert!(status.success(), "{api}: the rerun failed ({status})\n{out}");
    assert_eq!(emu.count(api, instance), LISTENERS, "{api}: after the rerun");
    let (status, out) = run(dir, "plan", &["plan", "-f", path_arg, "--profile", "p"]);
    assert_eq!(status.code(), Some(0), "{api}: plan after the rerun\n{out}");
}

#[test]
fn sigint_stops_apply_in_order_and_a_rerun_converges() {
    let (api, instance) = ("alibaba-ga", "ga-intr00000001");
    let emu = Emu::start(api, instance, &[], Duration::from_millis(150));
    let scratch = tempfile::tempdir().expect("temp dir");
    let dir = scratch.path();
    let path: PathBuf = dir.join("listeners.toml");
    std::fs::write(&path, file(api, instance, &emu.handle().url(), None, &SHAPE)).expect("write file");
    let path_arg = path.to_str().expect("utf-8 path");

    let mut first = spawn(dir, "first", &["apply", "-f", path_arg, "--profile", "p"]);
    wait_for_listeners(&emu, api, instance, 5, &mut first, dir);
    signal(&first, "INT");
    let status = first.wait_bounded();
    drop(first);
    let out = output(dir, "first");
    let stdout = read(dir, "first", "out");
    assert_eq!(status.code(), Some(130), "{out}");
    assert!(stdout.contains("Interrupted by SIGINT"), "{out}");
    assert!(stdout.contains("Run `listenerctl apply` again"), "{out}");
    let done = section_count(&stdout, "done");
    let after = section_count(&stdout, "in flight at the interrupt, then done");
    let not_started = section_count(&stdout, "not started");
    // GA confirms a run of creates with one listing per two creates
    // (`listener-alibaba-ga`'s `batch`): with five made, at least the
    // first three were confirmed before the signal, and at most two were
    // in flight (let finish and confirmed after it).
    assert!(done >= 3, "{out}");
    assert!(after <= 2, "{out}");
    assert!(not_started > 0, "{out}");
    assert_eq!(
        done + after + not_started,
        LISTENERS,
        "every step is accounted for\n{out}"
    );
    // Creates run in file order, one at a time: the first not started is
    // the one after the last made.
    let next = done + after;
    let not_started_at = stdout.find("not started:").expect("a not-started section");
    assert!(
        stdout[not_started_at..].contains(&format!("create int-{next} (port {})", 21_000 + next)),
        "{out}"
    );
    assert!(read(dir, "first", "err").contains("interrupted by SIGINT"), "{out}");

    // No half-made listener: what was started was let finish.
    let left = listed(&emu, &path, api);
    assert_eq!(left.len(), done + after, "{out}");
    for l in &left {
        assert!(
            l.status.is_settled(),
            "{} is {:?} after the interrupt\n{out}",
            l.id,
            l.status
        );
    }

    rerun_converges(&emu, dir, path_arg, api, instance);
}

#[test]
fn sigterm_under_json_ends_with_an_interrupted_event() {
    let (api, instance) = ("alibaba-alb", "alb-intr0000001");
    let group = "sgp-intr0000001";
    let emu = Emu::start(api, instance, &[group], Duration::from_millis(150));
    let scratch = tempfile::tempdir().expect("temp dir");
    let dir = scratch.path();
    let path: PathBuf = dir.join("listeners.toml");
    std::fs::write(&path, file(api, instance, &emu.handle().url(), Some(group), &SHAPE)).expect("write file");
    let path_arg = path.to_str().expect("utf-8 path");

    let mut first = spawn(dir, "first", &["apply", "-f", path_arg, "--profile", "p", "-o", "json"]);
    wait_for_listeners(&emu, api, instance, 3, &mut first, dir);
    signal(&first, "TERM");
    let status = first.wait_bounded();
    drop(first);
    let out = output(dir, "first");
    assert_eq!(status.code(), Some(143), "{out}");
    let events: Vec<serde_json::Value> = read(dir, "first", "out")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}\n{out}")))
        .collect();
    let last = events.last().expect("events");
    assert_eq!(last["event"], "interrupted", "{out}");
    assert_eq!(last["signal"], "SIGTERM");
    assert_eq!(last["exit_code"], 143);
    assert_eq!(last["profile"], "p");
    let n = |k: &str| {
        last[k]
            .as_array()
            .unwrap_or_else(|| panic!("{k} is a list: {last}"))
            .len()
    };
    assert_eq!(n("abandoned"), 0, "{last}");
    assert!(n("not_started") > 0, "{last}");
    assert_eq!(
        n("done") + n("finished_after_interrupt") + n("not_started"),
        LISTENERS,
        "{last}"
    );
    assert_eq!(last["not_started"][0]["verb"], "create", "{last}");
    // stderr stays one JSON error document.
    let err: serde_json::Value =
        serde_json::from_str(&read(dir, "first", "err")).unwrap_or_else(|e| panic!("stderr is not JSON ({e})\n{out}"));
    assert_eq!(err["error"]["kind"], "interrupted", "{err}");
    assert_eq!(err["error"]["exit_code"], 143, "{err}");

    let left = listed(&emu, &path, api);
    assert_eq!(left.len(), n("done") + n("finished_after_interrupt"), "{out}");
    assert!(left.iter().all(|l| l.status.is_settled()), "{left:?}");

    rerun_converges(&emu, dir, path_arg, api, instance);
}

#[test]
fn a_second_sigint_exits_at_once() {
    let (api, instance) = ("tencent-gaap", "link-intr0002");
    // A create that takes far longer than this test waits for anything.
    let emu = Emu::start(api, instance, &[], Duration::from_secs(60));
    let scratch = tempfile::tempdir().expect("temp dir");
    let dir = scratch.path();
    let path: PathBuf = dir.join("listeners.toml");
    std::fs::write(&path, file(api, instance, &emu.handle().url(), None, &SHAPE)).expect("write file");
    let path_arg = path.to_str().expect("utf-8 path");

    let mut first = spawn(dir, "first", &["apply", "-f", path_arg, "--profile", "p"]);
    // The first create is in flight, and will be for a minute.
    wait_for_listeners(&emu, api, instance, 1, &mut first, dir);
    signal(&first, "INT");
    let deadline = Instant::now() + BOUND;
    while !read(dir, "first", "err").contains("starting no new change") {
        assert!(
            first.0.try_wait().expect("try_wait").is_none(),
            "exited on the first signal\n{}",
            output(dir, "first")
        );
        assert!(Instant::now() < deadline, "no notice after the first signal");
        std::thread::sleep(Duration::from_millis(10));
    }
    signal(&first, "INT");
    let status = first.wait_bounded();
    drop(first);
    let out = output(dir, "first");
    assert_eq!(status.code(), Some(130), "{out}");
    assert!(
        read(dir, "first", "err").contains("SIGINT again: exited at once"),
        "{out}"
    );
    // It did not wait for the create in flight: no summary, and the
    // listener is still being made.
    assert!(!read(dir, "first", "out").contains("Interrupted by"), "{out}");
    let left = listed(&emu, &path, api);
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(!left[0].status.is_settled(), "{left:?}");
}

/// Two profiles applied at once (two GA instances): one SIGINT stops
/// both in order. Each gets its own `interrupted` event accounting for
/// every step, neither holds a half-made listener, and a rerun of both
/// converges.
#[test]
fn sigint_stops_every_profile_applied_at_once() {
    let api = "alibaba-ga";
    let (one, two) = ("ga-intr00000011", "ga-intr00000012");
    // Creates take 600 ms: with faster ones, the first profile could make
    // all its listeners before the second made three (they share one
    // account's write budget), and then had nothing left to interrupt.
    let emu = Emu::start_many(api, &[one, two], &[], Duration::from_millis(600));
    let scratch = tempfile::tempdir().expect("temp dir");
    let dir = scratch.path();
    let path: PathBuf = dir.join("listeners.toml");
    let url = emu.handle().url();
    // Profile `p` on the first instance (from `file`), `q` on the second.
    let q = format!(
        "[profiles.q]\napi = \"{api}\"\nregion = \"cn-hangzhou\"\ninstance = \"{two}\"\nendpoint = \"{url}\"\n\
         allow_insecure_http = true\nwait = {{ timeout_secs = 60, poll_interval_ms = 20 }}\n\n"
    );
    std::fs::write(&path, format!("{q}{}", file(api, one, &url, None, &SHAPE))).expect("write file");
    let path_arg = path.to_str().expect("utf-8 path");

    let mut first = spawn(dir, "first", &["apply", "-f", path_arg, "--all-profiles", "-o", "json"]);
    wait_for_listeners(&emu, api, one, 3, &mut first, dir);
    wait_for_listeners(&emu, api, two, 3, &mut first, dir);
    signal(&first, "INT");
    let status = first.wait_bounded();
    drop(first);
    let out = output(dir, "first");
    assert_eq!(status.code(), Some(130), "{out}");
    let events: Vec<serde_json::Value> = read(dir, "first", "out")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}\n{out}")))
        .collect();
    for (profile, instance) in [("p", one), ("q", two)] {
        let stop: Vec<&serde_json::Value> = events
            .iter()
            .filter(|e| e["event"] == "interrupted" && e["profile"] == profile)
            .collect();
        assert_eq!(stop.len(), 1, "{profile}: {out}");
        let n = |k: &str| stop[0][k].as_array().map_or(0, Vec::len);
        assert_eq!(n("abandoned"), 0, "{profile}: {}", stop[0]);
        assert!(n("not_started") > 0, "{profile}: {}", stop[0]);
        assert_eq!(
            n("done") + n("finished_after_interrupt") + n("not_started"),
            LISTENERS,
            "{profile}: every step is accounted for: {}",
            stop[0]
        );
        assert_eq!(
            emu.count(api, instance),
            n("done") + n("finished_after_interrupt"),
            "{profile}"
        );
    }
    for l in listed(&emu, &path, api) {
        assert!(
            l.status.is_settled(),
            "{} is {:?} after the interrupt\n{out}",
            l.id,
            l.status
        );
    }

    let (status, out) = run(dir, "second", &["apply", "-f", path_arg, "--all-profiles"]);
    assert!(status.success(), "the rerun failed ({status})\n{out}");
    assert_eq!(emu.count(api, one), LISTENERS);
    assert_eq!(emu.count(api, two), LISTENERS);
    let (status, out) = run(dir, "plan", &["plan", "-f", path_arg, "--all-profiles"]);
    assert_eq!(status.code(), Some(0), "plan after the rerun\n{out}");
}
