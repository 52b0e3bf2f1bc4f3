//! What plan and apply rows name, against an emulator on 127.0.0.1: the
//! file's listener names (never a name the vendor generated), and for a
//! replacement's delete, the ports of the listener being deleted.

mod common;

use common::{profile, Emu, Scratch};

fn path(p: &std::path::Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Regression: ALB's listener names are write-only, so read-back gives a
/// generated one; `plan` showed it on the unchanged row instead of the name
/// the file gives the listener.
#[test]
fn alb_plan_rows_show_the_files_names_not_generated_ones() {
    const ALB: &str = "alb-rows0000001";
    let emu = Emu::start(&[("alibaba-alb", ALB, &["sgp-rows0000001"])]);
    let s = Scratch::new();
    let text = format!(
        "{}\n[[listeners]]\nname = \"storefront\"\nprotocol = \"http\"\nports = 80\n\
         forwarding = {{ default_target = \"web\" }}\n",
        profile(
            "alb",
            "alibaba-alb",
            ALB,
            &emu.url(),
            "targets = { web = \"sgp-rows0000001\" }"
        )
    );
    let file = s.write("alb.toml", &text);
    s.run(&["apply", "-f", path(&file)]).expect_code(0);

    // The name the vendor reads back is not the file's.
    let listed = s.run(&["list", "-f", path(&file), "-o", "json"]);
    listed.expect_code(0);
    let listed = listed.json();
    let read_back = listed[0]["spec"]["name"].as_str().expect("a name").to_string();
    assert_ne!(
        read_back, "storefront",
        "ALB now reads names back; this test needs another vendor"
    );

    let plan = s.run(&["plan", "-f", path(&file)]);
    plan.expect_code(0);
    assert!(plan.stdout.contains("= unchanged  storefront"), "{}", plan.stdout);
    assert!(!plan.stdout.contains(&read_back), "{}", plan.stdout);
}

/// Regression: during a replacement that widens a port range, the delete
/// line named the new ports (`deleting game-tcp (ports 30000-30019)`) for
/// the old listener, which had 30000-30009.
#[test]
fn a_replacements_delete_line_names_the_old_listeners_ports() {
    const CLB: &str = "lb-rows00001";
    let emu = Emu::start(&[("tencent-clb", CLB, &[])]);
    let s = Scratch::new();
    let file_with = |to: u32| {
        format!(
            "{}\n[[listeners]]\nname = \"game-tcp\"\nprotocol = \"tcp\"\nports = {{ from = 30000, to = {to} }}\n",
            profile("clb", "tencent-clb", CLB, &emu.url(), "")
        )
    };
    let file = s.write("clb.toml", &file_with(30009));
    s.run(&["apply", "-f", path(&file)]).expect_code(0);
    let file = s.write("clb.toml", &file_with(30019));

    let apply = s.run(&["apply", "-f", path(&file), "--allow-replace"]);
    apply.expect_code(0);
    assert!(
        apply.stdout.contains("deleting game-tcp (ports 30000-30009)"),
        "{}",
        apply.stdout
    );
    assert!(
        apply.stdout.contains("creating game-tcp (ports 30000-30019)"),
        "{}",
        apply.stdout
    );
    assert!(
        !apply.stdout.contains("deleting game-tcp (ports 30000-30019)"),
        "{}",
        apply.stdout
    );

    // The JSON events carry the same ports.
    let file = s.write("clb.toml", &file_with(30029));
    let apply = s.run(&["apply", "-f", path(&file), "--allow-replace", "-o", "json"]);
    apply.expect_code(0);
    let started: Vec<(String, String)> = apply
        .json_lines()
        .iter()
        .filter(|e| e["event"] == "started")
        .map(|e| {
            (
                e["verb"].as_str().unwrap_or_default().to_string(),
                e["ports"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        started,
        vec![
            ("delete".to_string(), "30000-30019".to_string()),
            ("create".to_string(), "30000-30029".to_string())
        ]
    );
}
