//! Two teams, two files, one CLB load balancer: each profile names its
//! `owner`, `apply --prune` of one never deletes the other's listeners, the
//! plan says whose mark each listener carries (text and JSON), and
//! `--prune-unmanaged` is what deletes them. An owner or a name the marks
//! cannot carry is refused before any call, naming the field.

mod common;

use common::{profile, Emu, Scratch};

const CLB: &str = "lb-test0001";

fn team_file(emu: &Emu, owner: &str, listeners: &[(&str, u32)]) -> String {
    let mut text = format!(
        "default_profile = \"clb\"\n\n{}",
        profile("clb", "tencent-clb", CLB, &emu.url(), &format!("owner = \"{owner}\""))
    );
    for (name, port) in listeners {
        text.push_str(&format!(
            "\n[[listeners]]\nname = \"{name}\"\nprotocol = \"tcp\"\nports = {port}\n"
        ));
    }
    text
}

fn path(p: &std::path::Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn prune_leaves_another_owners_listeners_and_prune_unmanaged_deletes_them() {
    let emu = Emu::start(&[("tencent-clb", CLB, &[])]);
    let s = Scratch::new();
    let a = s.write("a.toml", &team_file(&emu, "team-a", &[("a-ssh", 22), ("a-db", 3306)]));
    let b = s.write("b.toml", &team_file(&emu, "team-b", &[("b-app", 9000)]));
    s.run(&["apply", "-f", path(&a), "--prune"]).expect_code(0);
    s.run(&["apply", "-f", path(&b), "--prune"]).expect_code(0);
    assert_eq!(emu.count("tencent-clb", CLB), 3, "B's prune deleted none of A's");

    // B's plan shows A's listeners as another owner's, kept even with --prune.
    let plan = s.run(&["plan", "-f", path(&b), "--prune"]);
    plan.expect_code(0);
    assert!(plan.stdout.contains("? unmanaged  a-ssh "), "{}", plan.stdout);
    assert!(plan.stdout.contains("another owner's (`team-a`)"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("only --prune-unmanaged deletes it"),
        "{}",
        plan.stdout
    );

    // JSON: the profile's owner, and each live listener's owner and whether
    // it is this profile's.
    let plan = s.run(&["plan", "-f", path(&b), "--prune", "-o", "json"]);
    plan.expect_code(0);
    let doc = plan.json();
    assert_eq!(doc["owner"], "team-b");
    let actions = doc["actions"].as_array().expect("actions");
    for act in actions {
        let current = &act["current"];
        let name = current["spec"]["name"].as_str().expect("name");
        let (owner, managed) = if name.starts_with("a-") {
            ("team-a", false)
        } else {
            ("team-b", true)
        };
        assert_eq!(current["owner"], owner, "{act}");
        assert_eq!(current["managed"], managed, "{act}");
    }

    // A drops a listener: its own --prune deletes it, and only it.
    s.write("a.toml", &team_file(&emu, "team-a", &[("a-ssh", 22)]));
    let plan = s.run(&["plan", "-f", path(&a), "--prune"]);
    plan.expect_code(3);
    assert!(plan.stdout.contains("- delete     a-db "), "{}", plan.stdout);
    assert!(plan.stdout.contains("managed (owner `team-a`)"), "{}", plan.stdout);
    assert!(plan.stdout.contains("1 to delete"), "{}", plan.stdout);
    s.run(&["apply", "-f", path(&a), "--prune"]).expect_code(0);
    assert_eq!(emu.count("tencent-clb", CLB), 2);

    // --prune-unmanaged: B deletes what its file does not name, A's too.
    let plan = s.run(&["plan", "-f", path(&b), "--prune-unmanaged"]);
    plan.expect_code(3);
    assert!(plan.stdout.contains("- delete     a-ssh"), "{}", plan.stdout);
    s.run(&["apply", "-f", path(&b), "--prune-unmanaged"]).expect_code(0);
    assert_eq!(emu.count("tencent-clb", CLB), 1);
    s.run(&["plan", "-f", path(&b), "--prune-unmanaged"]).expect_code(0);
}

#[test]
fn an_owner_the_marks_cannot_carry_is_refused_by_field() {
    let s = Scratch::new();
    let f = s.write(
        "f.toml",
        "[profiles.clb]\napi = \"tencent-clb\"\nregion = \"ap-guangzhou\"\ninstance = \"lb-1\"\nowner = \"Team A\"\n\
         \n[[listeners]]\nname = \"ssh\"\nprotocol = \"tcp\"\nports = 22\n",
    );
    let run = s.run(&["validate", "-f", path(&f), "-o", "json"]);
    run.expect_code(2);
    let error = run.json_error();
    assert_eq!(error["error"]["kind"], "config");
    assert_eq!(error["error"]["problems"][0]["field"], "profiles.clb.owner", "{error}");
}

#[test]
fn a_name_too_long_for_its_mark_is_refused_by_field_before_any_call() {
    let s = Scratch::new();
    let long = "n".repeat(70);
    let f = s.write(
        "f.toml",
        &format!(
            "[profiles.clb]\napi = \"tencent-clb\"\nregion = \"ap-guangzhou\"\ninstance = \"lb-1\"\nowner = \"team-a\"\n\
             \n[[listeners]]\nname = \"{long}\"\nprotocol = \"tcp\"\nports = 22\n"
        ),
    );
    let run = s.run(&["validate", "-f", path(&f), "-o", "json"]);
    assert_ne!(run.code, 0, "{}", run.stdout);
    let text = format!("{}{}", run.stdout, run.stderr);
    assert!(text.contains("listeners[0].name"), "{text}");
    assert!(text.contains("management mark"), "{text}");
}
