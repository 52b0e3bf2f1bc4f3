//! `plan` and `apply` on several profiles at once (`--all-profiles`, or
//! `--profile` given more than once): every profile converges, each JSON
//! event names its profile, text sections are whole, and a profile that
//! fails (an instance that does not exist, or creates the vendor fails)
//! does not stop the others, while the exit code and the JSON say which one
//! failed. Real HTTP to an emulator on 127.0.0.1; nothing here is timed.

mod common;

use std::path::Path;

use common::{profile, Emu, Scratch};
use listener_emulator::{Fault, FaultRule};
use serde_json::Value;

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The profiles of these tests: the four APIs, CLB twice (two instances of
/// one API in one account), and `extra` profiles appended.
fn profiles(emu: &Emu, extra: &str) -> String {
    let url = emu.url();
    format!(
        "{}{}{}{}{}{extra}",
        profile(
            "gaap",
            "tencent-gaap",
            "link-many0001",
            &url,
            "certificates = { web-cert = \"cert-gaap-web\" }\ntargets = { web-servers = \"rs-web\" }"
        ),
        profile(
            "clb-1",
            "tencent-clb",
            "lb-many00001",
            &url,
            "certificates = { web-cert = \"cert-clb-web\" }\ntargets = { web-servers = \"lbtg-web\" }"
        ),
        profile(
            "clb-2",
            "tencent-clb",
            "lb-many00002",
            &url,
            "certificates = { web-cert = \"cert-clb-web\" }\ntargets = { web-servers = \"lbtg-web\" }"
        ),
        profile(
            "alb",
            "alibaba-alb",
            "alb-many000001",
            &url,
            "certificates = { web-cert = \"103705\" }\ntargets = { web-servers = \"sgp-many000001\" }"
        ),
        profile(
            "ga",
            "alibaba-ga",
            "ga-many000001",
            &url,
            "certificates = { web-cert = \"449-cn-hangzhou\" }\ntargets = { web-servers = \"epg-web\" }"
        ),
    )
}

/// Two listeners every API takes (ALB is layer 7 only).
const LISTENERS: &str = "\n[[listeners]]\nname = \"web-http\"\nprotocol = \"http\"\nports = 80\n\
     forwarding = { default_target = \"web-servers\" }\n\n\
     [[listeners]]\nname = \"web-https\"\nprotocol = \"https\"\nports = 443\n\
     forwarding = { default_target = \"web-servers\", backend_protocol = \"http\" }\n\
     tls = { certificates = [\"web-cert\"] }\n";

/// `(profile, API, instance)` of [`profiles`].
const FIVE: [(&str, &str, &str); 5] = [
    ("gaap", "tencent-gaap", "link-many0001"),
    ("clb-1", "tencent-clb", "lb-many00001"),
    ("clb-2", "tencent-clb", "lb-many00002"),
    ("alb", "alibaba-alb", "alb-many000001"),
    ("ga", "alibaba-ga", "ga-many000001"),
];

fn emulator() -> Emu {
    Emu::start(&[
        ("tencent-gaap", "link-many0001", &[]),
        ("tencent-clb", "lb-many00001", &[]),
        ("tencent-clb", "lb-many00002", &[]),
        ("alibaba-alb", "alb-many000001", &["sgp-many000001"]),
        ("alibaba-ga", "ga-many000001", &[]),
    ])
}

/// The events of `event` kind, by profile.
fn events<'a>(all: &'a [Value], event: &str) -> Vec<&'a Value> {
    all.iter().filter(|e| e["event"] == event).collect()
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|v| v.as_str().expect("a name").to_string())
        .collect()
}

#[test]
fn all_profiles_apply_together_and_a_second_plan_is_empty() {
    let emu = emulator();
    let s = Scratch::new();
    let file = s.write("many.toml", &format!("{}{LISTENERS}", profiles(&emu, "")));

    let apply = s.run(&["apply", "-f", path(&file), "--all-profiles", "-o", "json"]);
    apply.expect_code(0);
    let all = apply.json_lines();
    // Every event of the apply names its profile, progress included.
    for e in all.iter().filter(|e| e["event"] != "done") {
        let p = e["profile"]
            .as_str()
            .unwrap_or_else(|| panic!("event without a profile: {e}"));
        assert!(FIVE.iter().any(|(n, _, _)| *n == p), "{e}");
    }
    for (name, api, instance) in FIVE {
        let plan = events(&all, "plan");
        assert!(plan.iter().any(|e| e["profile"] == name), "no plan event for {name}");
        let applied: Vec<&Value> = events(&all, "applied")
            .into_iter()
            .filter(|e| e["profile"] == name)
            .collect();
        assert_eq!(applied.len(), 1, "{name}: {}", apply.stdout);
        assert_eq!(applied[0]["instance"], instance);
        assert_eq!(applied[0]["failed"].as_array().map(Vec::len), Some(0), "{name}");
        let finished = all
            .iter()
            .filter(|e| e["event"] == "finished" && e["profile"] == name)
            .count();
        assert!(finished >= 2, "{name}: {finished} finished events");
        assert_eq!(emu.count(api, instance), 2, "{name}");
    }
    let done = events(&all, "done");
    assert_eq!(done.len(), 1);
    assert_eq!(names(&done[0]["failed_profiles"]), Vec::<String>::new());
    assert_eq!(done[0]["exit_code"], 0);
    assert_eq!(names(&done[0]["profiles"]).len(), 5);

    let plan = s.run(&["plan", "-f", path(&file), "--all-profiles", "-o", "json"]);
    plan.expect_code(0);
    let doc = plan.json();
    let docs = doc["profiles"].as_array().expect("profiles");
    assert_eq!(docs.len(), 5);
    assert!(docs.iter().all(|d| d["has_changes"] == false), "{doc}");
    assert!(doc.get("failed").is_none(), "{doc}");
}

/// Text output: each profile's section is printed whole (its header, its
/// plan, its progress lines and its IDs together), never mixed with
/// another profile's lines.
#[test]
fn text_sections_of_profiles_applied_together_are_whole() {
    let emu = emulator();
    let s = Scratch::new();
    let file = s.write("many.toml", &format!("{}{LISTENERS}", profiles(&emu, "")));
    let apply = s.run(&["apply", "-f", path(&file), "--all-profiles"]);
    apply.expect_code(0);
    let sections: Vec<&str> = apply.stdout.split("\n\n").collect();
    for (name, _, _) in FIVE {
        let mine: Vec<&&str> = sections
            .iter()
            .filter(|s| s.starts_with(&format!("Applying to profile {name} ")))
            .collect();
        assert_eq!(mine.len(), 1, "{name}:\n{}", apply.stdout);
        let section = mine[0];
        // Exactly this profile's two creates, then its IDs.
        assert_eq!(section.matches("  created web-").count(), 2, "{section}");
        assert_eq!(section.matches("Applying to").count(), 1, "{section}");
        assert!(section.contains("Listener IDs:"), "{section}");
    }
    assert!(
        apply.stdout.contains("Applied the file to 5 profiles: 10 created"),
        "{}",
        apply.stdout
    );
}

/// `--profile` given twice: two instances of one API, applied together;
/// the other commands take one profile only.
#[test]
fn repeated_profile_flags_apply_to_those_profiles_only() {
    let emu = emulator();
    let s = Scratch::new();
    let file = s.write("many.toml", &format!("{}{LISTENERS}", profiles(&emu, "")));
    let apply = s.run(&[
        "apply",
        "-f",
        path(&file),
        "--profile",
        "clb-1",
        "--profile",
        "clb-2",
        "-o",
        "json",
    ]);
    apply.expect_code(0);
    let all = apply.json_lines();
    let applied: Vec<&str> = events(&all, "applied")
        .iter()
        .map(|e| e["profile"].as_str().expect("profile"))
        .collect();
    assert_eq!(applied.len(), 2);
    assert!(applied.contains(&"clb-1") && applied.contains(&"clb-2"), "{applied:?}");
    assert_eq!(emu.count("tencent-clb", "lb-many00001"), 2);
    assert_eq!(emu.count("tencent-clb", "lb-many00002"), 2);
    assert_eq!(emu.count("tencent-gaap", "link-many0001"), 0, "not named, not touched");

    let plan = s.run(&["plan", "-f", path(&file), "-p", "clb-1", "-p", "clb-2", "-p", "gaap"]);
    plan.expect_code(3);
    assert!(plan.stdout.contains("Plan for profile clb-1 "), "{}", plan.stdout);
    assert!(plan.stdout.contains("Plan for profile gaap "), "{}", plan.stdout);

    let list = s.run(&["list", "-f", path(&file), "-p", "clb-1", "-p", "clb-2", "-o", "json"]);
    list.expect_code(2);
    let err = list.json_error();
    assert_eq!(err["error"]["kind"], "usage");
    assert_eq!(err["error"]["problems"][0]["field"], "--profile");
}

/// A profile whose instance does not exist fails at planning; the others
/// are still applied, and the exit code and JSON name the failed one.
#[test]
fn a_profile_on_a_missing_instance_does_not_stop_the_others() {
    let emu = emulator();
    let s = Scratch::new();
    let ghost = profile(
        "ghost",
        "tencent-clb",
        "lb-ghost0001",
        &emu.url(),
        "targets = { web-servers = \"lbtg-web\" }\ncertificates = { web-cert = \"cert-clb-web\" }",
    );
    let file = s.write("many.toml", &format!("{}{LISTENERS}", profiles(&emu, &ghost)));

    let apply = s.run(&["apply", "-f", path(&file), "--all-profiles", "-o", "json"]);
    apply.expect_code(1);
    let all = apply.json_lines();
    let failed = events(&all, "profile_failed");
    assert_eq!(failed.len(), 1, "{}", apply.stdout);
    assert_eq!(failed[0]["profile"], "ghost");
    assert_eq!(failed[0]["stage"], "plan");
    assert_eq!(failed[0]["error"]["exit_code"], 1);
    for (name, api, instance) in FIVE {
        assert!(
            events(&all, "applied").iter().any(|e| e["profile"] == name),
            "{name} was not applied: {}",
            apply.stdout
        );
        assert_eq!(emu.count(api, instance), 2, "{name}");
    }
    let done = events(&all, "done");
    assert_eq!(names(&done[0]["failed_profiles"]), ["ghost"]);
    assert_eq!(done[0]["exit_code"], 1);
    let err = apply.json_error();
    assert_eq!(err["error"]["kind"], "profiles_failed");
    assert_eq!(err["error"]["exit_code"], 1);
    assert_eq!(err["error"]["problems"][0]["field"], "profiles");

    // plan: the others have nothing left to do; the failure outranks that.
    let plan = s.run(&["plan", "-f", path(&file), "--all-profiles", "-o", "json"]);
    plan.expect_code(1);
    let doc = plan.json();
    let failed: Vec<&str> = doc["failed"]
        .as_array()
        .expect("failed")
        .iter()
        .map(|f| f["profile"].as_str().expect("profile"))
        .collect();
    assert_eq!(failed, ["ghost"]);
    let docs = doc["profiles"].as_array().expect("profiles");
    assert_eq!(docs.len(), 5);
    assert!(docs.iter().all(|d| d["has_changes"] == false), "{doc}");
}

/// GA's creates fail in the vendor (its asynchronous task ends in failure):
/// that profile fails while applying; every other profile converges.
#[test]
fn a_profile_whose_creates_fail_does_not_stop_the_others() {
    let emu = emulator();
    emu.handle
        .as_ref()
        .expect("running")
        .faults()
        .push_rule(FaultRule::new(Fault::TaskFailure).service("ga").times(u32::MAX));
    let s = Scratch::new();
    let file = s.write("many.toml", &format!("{}{LISTENERS}", profiles(&emu, "")));

    let apply = s.run(&["apply", "-f", path(&file), "--all-profiles", "-o", "json"]);
    apply.expect_code(1);
    let all = apply.json_lines();
    let failed = events(&all, "profile_failed");
    assert_eq!(failed.len(), 1, "{}", apply.stdout);
    assert_eq!(failed[0]["profile"], "ga");
    assert_eq!(failed[0]["stage"], "apply");
    assert_eq!(failed[0]["error"]["kind"], "apply_failed");
    let ga_applied = events(&all, "applied")
        .into_iter()
        .find(|e| e["profile"] == "ga")
        .expect("ga's applied event");
    assert!(
        !ga_applied["failed"].as_array().expect("failed actions").is_empty(),
        "{ga_applied}"
    );
    for (name, api, instance) in FIVE.iter().filter(|(n, _, _)| *n != "ga") {
        assert_eq!(emu.count(api, instance), 2, "{name}");
    }
    assert_eq!(names(&events(&all, "done")[0]["failed_profiles"]), ["ga"]);
    // The adapter logs the failed batch (a warning) before the error document.
    let doc = apply
        .stderr
        .find("\n{")
        .map_or(apply.stderr.as_str(), |at| &apply.stderr[at + 1..]);
    let err: Value = serde_json::from_str(doc).unwrap_or_else(|e| panic!("no JSON error ({e}): {}", apply.stderr));
    assert_eq!(err["error"]["kind"], "profiles_failed");

    // Text: the failed profile's section says so, and the totals name it.
    let text = s.run(&["apply", "-f", path(&file), "--all-profiles"]);
    text.expect_code(1);
    assert!(text.stdout.contains("1 failed (ga)"), "{}", text.stdout);
    assert!(
        text.stderr.contains("1 of 5 profiles failed: ga (apply_failed)"),
        "{}",
        text.stderr
    );
}
