//! `listenerctl export` and `listenerctl migrate` as a user runs them: the
//! binary against an emulator on 127.0.0.1 that outlives each run. The
//! round trip over listeners made by raw vendor calls, on all four APIs,
//! and the report across all twelve pairs are in the facade's
//! `tests/export_migrate.rs`; here the command line: files, flags, text,
//! JSON, exit codes, and that no secret reaches the file.

mod common;

use common::{profile, Emu, Scratch};

const CLB: &str = "lb-expo0001";
const ALB: &str = "alb-expo000001";
const GROUP: &str = "sgp-expo000001";

fn path(p: &std::path::Path) -> &str {
    p.to_str().expect("utf-8 path")
}

const LISTENERS: &str = "\
[[listeners]]
name = \"ssh\"
protocol = \"tcp\"
ports = 22

[[listeners]]
name = \"dns\"
protocol = \"udp\"
ports = 53

[[listeners]]
name = \"web\"
protocol = \"https\"
ports = 443
tls = { certificates = [\"web-cert\"] }
";

/// A CLB profile with inline credentials (the emulator's public test
/// keys, marked so that a leak is recognisable) and `certs` as its map.
fn clb_profile(emu: &Emu, certs: &str) -> String {
    profile(
        "clb",
        "tencent-clb",
        CLB,
        &emu.url(),
        &format!(
            "certificates = {{ {certs} }}\ninline_credentials = {{ key_id = \"{}\", secret = \"{}\" }}",
            listener_emulator::DEFAULT_TENCENT_SECRET_ID,
            listener_emulator::DEFAULT_TENCENT_SECRET_KEY
        ),
    )
}

#[test]
fn export_writes_a_file_that_plans_nothing_and_holds_no_secret() {
    let emu = Emu::start(&[("tencent-clb", CLB, &[])]);
    let s = Scratch::new();
    let made = s.write(
        "made.toml",
        &format!("{}\n{LISTENERS}", clb_profile(&emu, "web-cert = \"cert-clb-web\"")),
    );
    s.run(&["apply", "-f", path(&made)]).expect_code(0);
    assert_eq!(emu.count("tencent-clb", CLB), 3);

    // A profile that does not map the certificate: export makes an alias.
    let bare = s.write("bare.toml", &clb_profile(&emu, ""));
    let out = s.dir.path().join("exported.toml");
    let run = s.run(&["export", "-f", path(&bare), "--out", path(&out)]);
    run.expect_code(0);
    assert!(run.stdout.contains("Wrote 3 listeners"), "{}", run.stdout);
    assert!(
        run.stdout.contains("cert-clb-web"),
        "the made-up alias is listed: {}",
        run.stdout
    );
    let text = std::fs::read_to_string(&out).expect("written");
    assert!(!text.contains(listener_emulator::DEFAULT_TENCENT_SECRET_KEY), "{text}");
    assert!(!text.contains("inline_credentials"), "{text}");
    assert!(text.contains("cert-clb-web"), "{text}");

    // Planning the export against the same instance finds nothing to do
    // (credentials come from the environment, as for any file).
    let plan = s.run(&["plan", "-f", path(&out), "-o", "json"]);
    plan.expect_code(0);
    assert_eq!(plan.json()["summary"]["unchanged"], 3);
    assert_eq!(emu.count("tencent-clb", CLB), 3, "export and plan changed nothing");

    // --out does not replace a file unless told to.
    let again = s.run(&["export", "-f", path(&bare), "--out", path(&out)]);
    again.expect_code(2);
    assert!(again.stderr.contains("--force"), "{}", again.stderr);
    s.run(&["export", "-f", path(&bare), "--out", path(&out), "--force"])
        .expect_code(0);

    // YAML on stdout, JSON summary with the document.
    let yaml = s.run(&["export", "-f", path(&made), "--format", "yaml"]);
    yaml.expect_code(0);
    assert!(yaml.stdout.contains("listeners:"), "{}", yaml.stdout);
    assert!(
        yaml.stdout.contains("web-cert"),
        "the profile's alias is reused: {}",
        yaml.stdout
    );
    let json = s.run(&["export", "-f", path(&made), "-o", "json"]);
    json.expect_code(0);
    let doc = json.json();
    assert_eq!(doc["listeners"], 3);
    assert_eq!(doc["generated_aliases"].as_array().map(Vec::len), Some(0));
    assert!(doc["document"].as_str().unwrap_or_default().contains("[[listeners]]"));
}

/// The exported file with an ALB profile added, and the report from CLB.
#[test]
fn migrate_reports_what_cannot_move_with_field_and_rule() {
    let emu = Emu::start(&[("tencent-clb", CLB, &[]), ("alibaba-alb", ALB, &[GROUP])]);
    let s = Scratch::new();
    let made = s.write(
        "made.toml",
        &format!("{}\n{LISTENERS}", clb_profile(&emu, "web-cert = \"cert-clb-web\"")),
    );
    s.run(&["apply", "-f", path(&made)]).expect_code(0);
    let out = s.dir.path().join("clb.toml");
    s.run(&["export", "-f", path(&made), "--out", path(&out)])
        .expect_code(0);
    let mut text = std::fs::read_to_string(&out).expect("exported");
    text.push_str(&profile("alb", "alibaba-alb", ALB, &emu.url(), ""));
    let both = s.write("both.toml", &text);

    let json = s.run(&[
        "migrate",
        "-f",
        path(&both),
        "--from",
        "clb",
        "--to",
        "alb",
        "-o",
        "json",
    ]);
    json.expect_code(2);
    let doc = json.json();
    assert_eq!(doc["to"]["api"], "alibaba-alb");
    let dns = doc["listeners"]
        .as_array()
        .and_then(|l| l.iter().find(|l| l["name"] == "dns"))
        .expect("dns listed")
        .clone();
    assert_eq!(dns["verdict"], "cannot_move");
    assert!(
        dns["refused"]
            .as_array()
            .is_some_and(|r| r.iter().any(|f| f["field"] == "protocol" && f["rule"] == "layer7_only")),
        "{dns}"
    );
    // The certificate alias ALB's profile lacks, with CLB's ID for it.
    let adds = doc["profile_additions"].as_array().expect("additions").clone();
    assert!(
        adds.iter()
            .any(|a| a["alias"] == "web-cert" && a["map"] == "certificates" && a["source_id"] == "cert-clb-web"),
        "{adds:?}"
    );

    let human = s.run(&["migrate", "-f", path(&both), "--from", "clb", "--to", "alb"]);
    human.expect_code(2);
    assert!(human.stdout.contains("cannot move"), "{}", human.stdout);
    assert!(
        human.stdout.contains("refused  protocol [layer7_only]"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("Add to profile `alb`"), "{}", human.stdout);

    // An unknown profile names the flag; nothing is reported.
    let bad = s.run(&[
        "migrate",
        "-f",
        path(&both),
        "--from",
        "clb",
        "--to",
        "nope",
        "-o",
        "json",
    ]);
    bad.expect_code(2);
    let problem = &bad.json_error()["error"]["problems"][0];
    assert_eq!(problem["field"], "--to", "{problem}");
    assert_eq!(problem["rule"], "profile_unknown", "{problem}");
    assert_eq!(emu.count("tencent-clb", CLB), 3);
    assert_eq!(emu.count("alibaba-alb", ALB), 0, "migrate sends nothing");
}

#[test]
fn migrate_exits_0_when_everything_moves() {
    let s = Scratch::new();
    let file = s.write(
        "f.toml",
        "[profiles.a]\napi = \"tencent-clb\"\nregion = \"ap-guangzhou\"\ninstance = \"lb-abc00001\"\n\n\
         [profiles.b]\napi = \"tencent-gaap\"\ninstance = \"link-abc00001\"\n\n\
         [[listeners]]\nname = \"web\"\nprotocol = \"http\"\nports = 80\n",
    );
    let run = s.run(&["migrate", "-f", path(&file), "--from", "a", "--to", "b"]);
    run.expect_code(0);
    assert!(run.stdout.contains("1 identical"), "{}", run.stdout);
}
