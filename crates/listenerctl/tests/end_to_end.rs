//! The `listenerctl` binary against an emulator the test starts on
//! 127.0.0.1. The emulator outlives each CLI run, so a second run sees
//! what the first made, as it would on a cloud.

mod common;

use common::{profile, Emu, Scratch};

const CLB: &str = "lb-test0001";

/// A CLB profile on `emu` plus `listeners`.
fn clb_file(emu: &Emu, listeners: &str) -> String {
    format!(
        "default_profile = \"clb\"\n\n{}\n{listeners}",
        profile(
            "clb",
            "tencent-clb",
            CLB,
            &emu.url(),
            "certificates = { web-cert = \"cert-clb-web\" }"
        )
    )
}

const TCP_AND_HTTPS: &str = "\
[[listeners]]
name = \"ssh\"
protocol = \"tcp\"
ports = 22

[[listeners]]
name = \"web\"
protocol = \"https\"
ports = 443
tls = { certificates = [\"web-cert\"] }
";

fn path(p: &std::path::Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn plan_apply_and_apply_again_converges() {
    let emu = Emu::start(&[("tencent-clb", CLB, &[])]);
    let s = Scratch::new();
    let file = s.write("l.toml", &clb_file(&emu, TCP_AND_HTTPS));

    let plan = s.run(&["plan", "-f", path(&file)]);
    plan.expect_code(3);
    assert!(plan.stdout.contains("+ create     ssh"), "{}", plan.stdout);
    assert!(plan.stdout.contains("+ create     web"), "{}", plan.stdout);
    assert_eq!(emu.count("tencent-clb", CLB), 0, "plan must not change anything");

    let apply = s.run(&["apply", "-f", path(&file)]);
    apply.expect_code(0);
    assert!(apply.stdout.contains("Listener IDs:"), "{}", apply.stdout);
    assert_eq!(emu.count("tencent-clb", CLB), 2);

    let again = s.run(&["apply", "-f", path(&file)]);
    again.expect_code(0);
    assert!(again.stdout.contains("no changes"), "{}", again.stdout);
    assert_eq!(emu.count("tencent-clb", CLB), 2);

    let plan = s.run(&["plan", "-f", path(&file), "-o", "json"]);
    plan.expect_code(0);
    let doc = plan.json();
    assert_eq!(doc["has_changes"], false);
    assert_eq!(doc["summary"]["unchanged"], 2);
}

#[test]
fn plan_json_lists_actions_from_the_core_types() {
    let emu = Emu::start(&[("tencent-clb", CLB, &[])]);
    let s = Scratch::new();
    let file = s.write("l.toml", &clb_file(&emu, TCP_AND_HTTPS));
    let plan = s.run(&["plan", "-f", path(&file), "--output", "json"]);
    plan.expect_code(3);
    let doc = plan.json();
    assert_eq!(doc["profile"], "clb");
    assert_eq!(doc["api"], "tencent-clb");
    assert_eq!(doc["instance"], CLB);
    let actions = doc["actions"].as_array().expect("actions");
    assert_eq!(actions.len(), 2);
    assert!(actions.iter().all(|a| a["action"] == "create"));
    assert_eq!(actions[0]["spec"]["name"], "ssh");
}

#[test]
fn apply_json_is_one_event_per_line_ending_with_the_ids() {
    let emu = Emu::start(&[("tencent-clb", CLB, &[])]);
    let s = Scratch::new();
    let file = s.write("l.toml", &clb_file(&emu, TCP_AND_HTTPS));
    let run = s.run(&["apply", "-f", path(&file), "-o", "json"]);
    run.expect_code(0);
    let events = run.json_lines();
    assert_eq!(events.first().map(|e| e["event"].clone()), Some("plan".into()));
    assert!(events.iter().any(|e| e["event"] == "started"));
    assert!(events.iter().any(|e| e["event"] == "finished"));
    let last = events.last().expect("events");
    assert_eq!(last["event"], "applied");
    let listeners = last["listeners"].as_array().expect("listeners");
    assert_eq!(listeners.len(), 2);
    for l in listeners {
        assert!(l["listener"]["id"].as_str().is_some_and(|id| !id.is_empty()), "{l}");
    }
}

#[test]
fn changing_a_mutable_field_updates_in_place() {
    let emu = Emu::start(&[("tencent-clb", CLB, &[])]);
    let s = Scratch::new();
    let file = s.write("l.toml", &clb_file(&emu, TCP_AND_HTTPS));
    s.run(&["apply", "-f", path(&file)]).expect_code(0);
    let before = s.run(&["list", "-f", path(&file), "-o", "json"]);
    before.expect_code(0);

    let renamed = TCP_AND_HTTPS.replace("name = \"ssh\"", "name = \"bastion\"");
    s.write("l.toml", &clb_file(&emu, &renamed));
    let plan = s.run(&["plan", "-f", path(&file)]);
    plan.expect_code(3);
    assert!(plan.stdout.contains("~ update     bastion"), "{}", plan.stdout);
    assert!(plan.stdout.contains("name: \"ssh\" -> \"bastion\""), "{}", plan.stdout);

    s.run(&["apply", "-f", path(&file)]).expect_code(0);
    s.run(&["plan", "-f", path(&file)]).expect_code(0);
    let after = s.run(&["list", "-f", path(&file), "-o", "json"]);
    let ids = |v: &serde_json::Value| {
        let mut ids: Vec<String> = v
            .as_array()
            .expect("list")
            .iter()
            .map(|l| l["id"].as_str().expect("id").to_string())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(
        ids(&before.json()),
        ids(&after.json()),
        "an update keeps the listener IDs"
    );
}

#[test]
fn changing_an_immutable_field_needs_allow_replace() {
    let emu = Emu::start(&[("tencent-clb", CLB, &[])]);
    let s = Scratch::new();
    let http = "[[listeners]]\nname = \"web\"\nprotocol = \"http\"\nports = 8080\n";
    let file = s.write("l.toml", &clb_file(&emu, http));
    s.run(&["apply", "-f", path(&file)]).expect_code(0);
    let first = s.run(&["list", "-f", path(&file), "-o", "json"]).json();
    let first_id = first[0]["id"].as_str().expect("id").to_string();

    let https =
        "[[listeners]]\nname = \"web\"\nprotocol = \"https\"\nports = 8080\ntls = { certificates = [\"web-cert\"] }\n";
    s.write("l.toml", &clb_file(&emu, https));
    let plan = s.run(&["plan", "-f", path(&file)]);
    plan.expect_code(3);
    assert!(plan.stdout.contains("! replace    web"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("refused unless --allow-replace"),
        "{}",
        plan.stdout
    );

    let refused = s.run(&["apply", "-f", path(&file), "-o", "json"]);
    refused.expect_code(2);
    let err = refused.json_error();
    assert_eq!(err["error"]["kind"], "replace_refused");
    assert_eq!(err["error"]["problems"][0]["field"], "listeners[0].protocol");
    let still = s.run(&["list", "-f", path(&file), "-o", "json"]).json();
    assert_eq!(still[0]["id"], first_id.as_str(), "nothing changed after the refusal");

    let replaced = s.run(&["apply", "-f", path(&file), "--allow-replace"]);
    replaced.expect_code(0);
    let now = s.run(&["list", "-f", path(&file), "-o", "json"]).json();
    assert_eq!(now.as_array().map(Vec::len), Some(1));
    assert_ne!(now[0]["id"], first_id.as_str(), "a replacement makes a new listener");
    assert_eq!(now[0]["spec"]["protocol"], "https");
    s.run(&["plan", "-f", path(&file)]).expect_code(0);
}

#[test]
fn prune_deletes_listeners_the_file_no_longer_names() {
    let emu = Emu::start(&[("tencent-clb", CLB, &[])]);
    let s = Scratch::new();
    let file = s.write("l.toml", &clb_file(&emu, TCP_AND_HTTPS));
    s.run(&["apply", "-f", path(&file)]).expect_code(0);

    let only_ssh = "[[listeners]]\nname = \"ssh\"\nprotocol = \"tcp\"\nports = 22\n";
    s.write("l.toml", &clb_file(&emu, only_ssh));
    let plan = s.run(&["plan", "-f", path(&file)]);
    plan.expect_code(0);
    assert!(plan.stdout.contains("? unmanaged  web"), "{}", plan.stdout);

    let plan = s.run(&["plan", "-f", path(&file), "--prune"]);
    plan.expect_code(3);
    assert!(plan.stdout.contains("- delete     web"), "{}", plan.stdout);

    s.run(&["apply", "-f", path(&file)]).expect_code(0);
    assert_eq!(emu.count("tencent-clb", CLB), 2, "without --prune nothing is deleted");
    s.run(&["apply", "-f", path(&file), "--prune"]).expect_code(0);
    assert_eq!(emu.count("tencent-clb", CLB), 1);
    s.run(&["plan", "-f", path(&file), "--prune"]).expect_code(0);
}

#[test]
fn get_list_and_delete_by_id() {
    let emu = Emu::start(&[("tencent-clb", CLB, &[])]);
    let s = Scratch::new();
    let file = s.write("l.toml", &clb_file(&emu, TCP_AND_HTTPS));
    s.run(&["apply", "-f", path(&file)]).expect_code(0);

    let list = s.run(&["list", "-f", path(&file)]);
    list.expect_code(0);
    assert!(
        list.stdout.contains("ssh") && list.stdout.contains("web"),
        "{}",
        list.stdout
    );
    let all = s.run(&["list", "-f", path(&file), "-o", "json"]).json();
    let id = all
        .as_array()
        .expect("list")
        .iter()
        .find(|l| l["spec"]["name"] == "ssh")
        .and_then(|l| l["id"].as_str())
        .expect("ssh listener")
        .to_string();

    let get = s.run(&["get", &id, "-f", path(&file)]);
    get.expect_code(0);
    assert!(
        get.stdout.contains(&id) && get.stdout.contains("name = \"ssh\""),
        "{}",
        get.stdout
    );
    let got = s.run(&["get", &id, "-f", path(&file), "-o", "json"]).json();
    assert_eq!(got["spec"]["ports"], 22);

    s.run(&["delete", &id, "-f", path(&file)]).expect_code(0);
    assert_eq!(emu.count("tencent-clb", CLB), 1);
    let gone = s.run(&["get", &id, "-f", path(&file), "-o", "json"]);
    gone.expect_code(1);
    assert_eq!(gone.json_error()["error"]["kind"], "not_found");
}

#[test]
fn wrong_credentials_are_a_cloud_error_and_not_printed() {
    let emu = Emu::start(&[("tencent-clb", CLB, &[])]);
    let s = Scratch::new();
    let file = s.write("l.toml", &clb_file(&emu, TCP_AND_HTTPS));
    let out = common::cli(s.home())
        .env("TENCENTCLOUD_SECRET_KEY", "wrong-key-never-printed")
        .args(["plan", "-f", path(&file)])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("profile `clb`"), "{all}");
    assert!(!all.contains("wrong-key-never-printed"), "{all}");
}

/// A file every one of the four APIs can take: HTTP and HTTPS (ALB is
/// layer 7 only; GAAP needs the backend protocol on HTTPS, which the
/// others accept without sending it).
fn four_profiles(emu: &Emu) -> String {
    let url = emu.url();
    format!(
        "{}{}{}{}\n[[listeners]]\nname = \"web-http\"\nprotocol = \"http\"\nports = 80\n\
         forwarding = {{ default_target = \"web-servers\" }}\n\n\
         [[listeners]]\nname = \"web-https\"\nprotocol = \"https\"\nports = 443\n\
         forwarding = {{ default_target = \"web-servers\", backend_protocol = \"http\" }}\n\
         tls = {{ certificates = [\"web-cert\"] }}\n",
        profile(
            "tencent-gaap",
            "tencent-gaap",
            "link-web0001",
            &url,
            "certificates = { web-cert = \"cert-gaap-web\" }\ntargets = { web-servers = \"rs-web\" }"
        ),
        profile(
            "tencent-clb",
            "tencent-clb",
            "lb-web00001",
            &url,
            "certificates = { web-cert = \"cert-clb-web\" }\ntargets = { web-servers = \"lbtg-web\" }"
        ),
        profile(
            "alibaba-alb",
            "alibaba-alb",
            "alb-web0000001",
            &url,
            "certificates = { web-cert = \"103705\" }\ntargets = { web-servers = \"sgp-web0000001\" }"
        ),
        profile(
            "alibaba-ga",
            "alibaba-ga",
            "ga-web0000001",
            &url,
            "certificates = { web-cert = \"449-cn-hangzhou\" }\ntargets = { web-servers = \"epg-web\" }"
        ),
    )
}

const FOUR: [(&str, &str); 4] = [
    ("tencent-gaap", "link-web0001"),
    ("tencent-clb", "lb-web00001"),
    ("alibaba-alb", "alb-web0000001"),
    ("alibaba-ga", "ga-web0000001"),
];

#[test]
fn the_same_file_applies_to_all_four_profiles() {
    let emu = Emu::start(&[
        ("tencent-gaap", "link-web0001", &[]),
        ("tencent-clb", "lb-web00001", &[]),
        ("alibaba-alb", "alb-web0000001", &["sgp-web0000001"]),
        ("alibaba-ga", "ga-web0000001", &[]),
    ]);
    let s = Scratch::new();
    let file = s.write("four.toml", &four_profiles(&emu));

    let report = s.run(&["validate", "-f", path(&file)]);
    report.expect_code(0);
    assert!(
        report.stdout.contains("Every listener fits every profile."),
        "{}",
        report.stdout
    );

    // One profile at a time, by --profile: the listeners section is the same.
    for (name, instance) in FOUR {
        let plan = s.run(&["plan", "-f", path(&file), "--profile", name]);
        plan.expect_code(3);
        assert_eq!(emu.count(name, instance), 0);
    }
    let apply = s.run(&["apply", "-f", path(&file), "--all-profiles"]);
    apply.expect_code(0);
    assert!(
        apply.stdout.contains("Applied the file to 4 profiles"),
        "{}",
        apply.stdout
    );
    for (name, instance) in FOUR {
        assert_eq!(emu.count(name, instance), 2, "{name}: {}", apply.stdout);
        s.run(&["plan", "-f", path(&file), "--profile", name]).expect_code(0);
    }
    let all = s.run(&["plan", "-f", path(&file), "--all-profiles", "-o", "json"]);
    all.expect_code(0);
    let profiles = all.json()["profiles"].as_array().map(Vec::len);
    assert_eq!(profiles, Some(4));
}

#[test]
fn emulate_flag_applies_the_portable_example_to_every_profile() {
    let s = Scratch::new();
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/portable.toml");
    let run = s.run(&["apply", "-f", example, "--emulate", "--all-profiles"]);
    run.expect_code(0);
    assert!(
        run.stderr.contains("Emulator listening on http://127.0.0.1:"),
        "{}",
        run.stderr
    );
    for (name, _) in FOUR {
        assert!(
            run.stdout.contains(&format!("Applying to profile {name}")),
            "{}",
            run.stdout
        );
    }
    assert!(
        run.stdout.contains("Planned again: no changes"),
        "the emulated apply shows it converged:\n{}",
        run.stdout
    );
}

#[test]
fn emulate_flag_plans_one_profile_in_process() {
    let s = Scratch::new();
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/tcp-range.toml");
    let validate = s.run(&["validate", "-f", example, "-o", "json"]);
    validate.expect_code(0);
    let profile = validate.json()["listeners"][0]["accepted_by"][0]
        .as_str()
        .expect("some profile takes the range listener")
        .to_string();
    let run = s.run(&["plan", "-f", example, "--profile", &profile, "--emulate"]);
    run.expect_code(3);
    assert!(run.stdout.contains("+ create"), "{}", run.stdout);
}

/// An ALB listener with an access list (YAML): applied, planned again with
/// no change, its list changed in place, then removed.
#[test]
fn an_access_list_applies_converges_and_changes_in_place() {
    const ALB: &str = "alb-acc0000001";
    let emu = Emu::start(&[("alibaba-alb", ALB, &["sgp-acc0000001"])]);
    let s = Scratch::new();
    let head = format!(
        "default_profile: alb\nprofiles:\n  alb:\n    api: alibaba-alb\n    region: cn-hangzhou\n    instance: {ALB}\n    \
         endpoint: \"{}\"\n    allow_insecure_http: true\n    wait: {{ timeout_secs: 60, poll_interval_ms: 20 }}\n    \
         targets: {{ admin-servers: sgp-acc0000001 }}\n",
        emu.url()
    );
    let listener = |access: &str| {
        format!(
            "{head}listeners:\n  - name: admin\n    protocol: http\n    ports: 8080\n    \
             forwarding: {{ default_target: admin-servers }}\n{access}"
        )
    };
    let allow = "    access:\n      mode: allow\n      cidrs: [\"10.0.0.0/8\", \"2001:db8::/32\"]\n";
    let file = s.write("admin.yaml", &listener(allow));
    s.run(&["apply", "-f", path(&file)]).expect_code(0);
    let plan = s.run(&["plan", "-f", path(&file), "-o", "json"]);
    plan.expect_code(0);
    assert_eq!(plan.json()["has_changes"], false);

    let deny = "    access:\n      mode: deny\n      cidrs: [\"2001:db8::/32\", \"192.0.2.0/24\"]\n";
    let file = s.write("admin.yaml", &listener(deny));
    let plan = s.run(&["plan", "-f", path(&file)]);
    plan.expect_code(3);
    assert!(plan.stdout.contains("access"), "{}", plan.stdout);
    s.run(&["apply", "-f", path(&file)]).expect_code(0);
    s.run(&["plan", "-f", path(&file)]).expect_code(0);

    let file = s.write("admin.yaml", &listener(""));
    s.run(&["plan", "-f", path(&file)]).expect_code(3);
    s.run(&["apply", "-f", path(&file)]).expect_code(0);
    s.run(&["plan", "-f", path(&file)]).expect_code(0);
    assert_eq!(emu.count("alibaba-alb", ALB), 1);
}
