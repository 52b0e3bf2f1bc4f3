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

mod child;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use child::{file, output, own_provider, run, spawn, Emu, FileShape, BOUND};
use cloud_listeners::Transport;

/// Listeners in the file.
const LISTENERS: usize = 40;
/// How long the emulator keeps a listener creating, so that one apply
/// takes seconds and a kill lands in the middle of it.
const CREATE_DELAY: Duration = Duration::from_millis(150);
/// The file of these tests. CLB makes listeners that differ only in name
/// and port in one call; a setting of their own keeps them one call each,
/// so there is a middle to kill the apply in.
const SHAPE: FileShape<'static> = FileShape {
    count: LISTENERS,
    prefix: "kill",
    first_port: 20_000,
    extra: &|api, j| {
        if api == "tencent-clb" {
            format!("session_persistence = {{ timeout_secs = {} }}\n", 30 + j)
        } else {
            String::new()
        }
    },
};

/// Kill apply mid-way on `api`, rerun it, and check the result.
fn kill_and_rerun(api: &str, instance: &str, server_group: Option<&str>) {
    let groups: Vec<&str> = server_group.into_iter().collect();
    let emu = Emu::start(api, instance, &groups, CREATE_DELAY);
    let scratch = tempfile::tempdir().expect("temp dir");
    let dir = scratch.path();
    let path: PathBuf = dir.join("listeners.toml");
    std::fs::write(&path, file(api, instance, &emu.handle().url(), server_group, &SHAPE)).expect("write file");
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

    let loaded = cloud_listeners::ConfigFile::load(&path).expect("file loads");
    let provider = own_provider(&path, api);
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
