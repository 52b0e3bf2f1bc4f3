//! The JSON Schema and `listenerctl validate` agree on every file of a
//! corpus: both accept it or both refuse it.
//!
//! The corpus is every file in `examples/` plus `tests/corpus/good/` (must
//! be accepted) and `tests/corpus/bad/` (must be refused). Each bad TOML or
//! YAML file starts with a `# bad:` comment saying what is wrong with it;
//! JSON has no comments, so a bad JSON file's reason is in [`JSON_REASONS`].
//! The schema
//! is run by a real validator (the `jsonschema` crate) over the document
//! read as data (TOML and YAML converted to JSON values), and `validate` is
//! the real binary.
//!
//! The corpus holds only what the schema claims to check: types, ranges,
//! lengths, patterns, enums and unknown fields. Rules that relate two fields
//! (HTTPS needs a certificate, a range's start is not above its end, two
//! listeners may not share a port, `default_profile` names a profile), a
//! vendor's rules (instance prefixes, per-cloud protocols and limits) and
//! profile checks that read the environment (a CLB region may come from
//! `TENCENTCLOUD_REGION`) cannot be stated in JSON Schema, so files that
//! break only those are kept out: the schema would accept them and
//! `validate` refuse them, by design. `validate` tests cover those.

mod common;

use std::path::{Path, PathBuf};

use cloud_listeners::Format;
use common::Scratch;

/// What is wrong with each bad JSON file. A port beyond every integer
/// type is JSON here because TOML cannot hold it and a YAML reader turns
/// it into no JSON value at all; a JSON reader sees the number 1e20.
const JSON_REASONS: [(&str, &str); 1] = [("port-huge.json", "the port 99999999999999999999 is far above 65535")];

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The document files directly in `dir`, sorted.
fn documents(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| Format::from_path(p).is_some())
        .collect();
    out.sort();
    out
}

fn schema() -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_str(&listenerctl::commands::schema_json()).expect("the schema is JSON");
    jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema")
}

/// The file as data, the way a JSON Schema tool sees it. Every corpus file
/// must at least be a well-formed document, or the schema would judge
/// nothing.
fn as_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let format = Format::from_path(path).expect("a document extension");
    cloud_listeners::parse::from_str::<serde_json::Value>(&text, format)
        .unwrap_or_else(|e| panic!("{}: not a well-formed document: {e}", path.display()))
}

/// Whether the schema accepts the file, and why not.
fn schema_verdict(validator: &jsonschema::Validator, path: &Path) -> Result<(), String> {
    let doc = as_json(path);
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

/// `listenerctl validate` on the file: exit 0 accepts, exit 2 refuses;
/// anything else is a failure of the test.
fn cli_verdict(scratch: &Scratch, path: &Path) -> Result<(), String> {
    let run = scratch.run(&["validate", "-f", path.to_str().expect("UTF-8 path")]);
    match run.code {
        0 => Ok(()),
        2 => Err(run.stderr),
        other => panic!(
            "{}: validate exited {other}, neither accepted (0) nor refused (2)\n{}",
            path.display(),
            run.stderr
        ),
    }
}

fn good_files() -> Vec<PathBuf> {
    let mut files = documents(&manifest().join("../../examples"));
    assert!(files.len() >= 8, "every example is in the corpus: {files:?}");
    files.extend(documents(&manifest().join("tests/corpus/good")));
    files
}

fn bad_files() -> Vec<PathBuf> {
    documents(&manifest().join("tests/corpus/bad"))
}

#[test]
fn schema_and_validate_accept_every_example_and_good_file() {
    let validator = schema();
    let scratch = Scratch::new();
    let mut disagreements = Vec::new();
    for path in good_files() {
        let schema = schema_verdict(&validator, &path);
        let cli = cli_verdict(&scratch, &path);
        if schema.is_err() || cli.is_err() {
            disagreements.push(format!("{}: schema {schema:?}, validate {cli:?}", path.display()));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

#[test]
fn schema_and_validate_refuse_every_bad_file() {
    let validator = schema();
    let scratch = Scratch::new();
    let files = bad_files();
    assert!(files.len() >= 20, "at least 20 bad files, found {}", files.len());
    let mut disagreements = Vec::new();
    for path in files {
        let schema = schema_verdict(&validator, &path);
        let cli = cli_verdict(&scratch, &path);
        if schema.is_ok() || cli.is_ok() {
            disagreements.push(format!(
                "{}: schema {}, validate {}",
                path.display(),
                if schema.is_ok() { "accepts" } else { "refuses" },
                if cli.is_ok() { "accepts" } else { "refuses" },
            ));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

#[test]
fn every_bad_file_says_what_is_wrong_with_it() {
    for path in bad_files() {
        if Format::from_path(&path) == Some(Format::Json) {
            let name = path.file_name().expect("a file").to_string_lossy();
            assert!(
                JSON_REASONS.iter().any(|(n, _)| *n == name),
                "{name}: a bad JSON file needs its reason in JSON_REASONS"
            );
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        let first = text.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("# bad: ") && first.len() > "# bad: ".len() + 5,
            "{}: the first line must be `# bad: <what is wrong>`",
            path.display()
        );
    }
}

/// The cases the schema used to get wrong are in the corpus by name, so
/// that removing one of them fails here rather than silently.
#[test]
fn corpus_holds_the_reported_disagreements() {
    let names: Vec<String> = bad_files()
        .iter()
        .map(|p| p.file_name().expect("a file").to_string_lossy().into_owned())
        .collect();
    for expected in [
        "port-zero.toml",
        "port-above-65535.toml",
        "port-huge.json",
        "ports-empty-list.toml",
        "api-unknown.toml",
        "instance-empty.toml",
        "rate-limit-zero.toml",
        "empty.toml",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from the corpus"
        );
    }
    let good = std::fs::read_to_string(manifest().join("tests/corpus/good/upper-case-spellings.toml"))
        .expect("the upper-case file");
    assert!(good.contains("protocol = \"HTTPS\""));
}
