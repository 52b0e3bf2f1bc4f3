//! Every example file the README points at validates with the binary, in
//! TOML and YAML alike, and their portability reports agree.

mod common;

use std::path::PathBuf;

use common::Scratch;

fn examples() -> Vec<PathBuf> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("examples/ exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("toml" | "yaml" | "yml" | "json")
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_example_validates_and_twins_report_the_same() {
    let s = Scratch::new();
    let files = examples();
    assert!(!files.is_empty());
    for f in &files {
        let run = s.run(&["validate", "-f", f.to_str().expect("utf-8"), "-o", "json"]);
        run.expect_code(0);
        let mut doc = run.json();
        assert!(
            !doc["profiles"].as_array().expect("profiles").is_empty(),
            "{}",
            f.display()
        );
        if f.extension().is_some_and(|e| e == "toml") {
            let yaml = f.with_extension("yaml");
            if yaml.exists() {
                let mut twin = s
                    .run(&["validate", "-f", yaml.to_str().expect("utf-8"), "-o", "json"])
                    .json();
                doc["file"] = serde_json::Value::Null;
                twin["file"] = serde_json::Value::Null;
                assert_eq!(doc, twin, "{} and its YAML twin report differently", f.display());
            }
        }
    }
}

#[test]
fn emulated_list_shows_the_seeded_empty_instance() {
    let s = Scratch::new();
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/udp.toml");
    let run = s.run(&["list", "-f", example, "--emulate", "-o", "json"]);
    run.expect_code(0);
    assert_eq!(run.json(), serde_json::json!([]));
}
