//! The schema's host and path patterns say exactly what the validation
//! says: every short string over the characters that matter is judged
//! alike by `jsonschema` (the committed schema's `Route`) and by
//! `host_problem` / `path_problem`.

use cloud_listeners::routes::{host_problem, path_problem};
use serde_json::json;

fn route_validator() -> jsonschema::Validator {
    let mut schema: serde_json::Value =
        serde_json::from_str(&listenerctl::commands::schema_json()).expect("the schema is JSON");
    schema["$ref"] = json!("#/$defs/Route");
    for key in [
        "properties",
        "required",
        "additionalProperties",
        "anyOf",
        "type",
        "title",
        "description",
    ] {
        schema.as_object_mut().expect("an object").remove(key);
    }
    jsonschema::validator_for(&schema).expect("a valid schema")
}

/// Every string of `alphabet` of length 1 to `max`.
fn strings(alphabet: &[char], max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Vec<String> = vec![String::new()];
    for _ in 0..max {
        let mut next = Vec::new();
        for s in &current {
            for c in alphabet {
                let mut t = s.clone();
                t.push(*c);
                next.push(t);
            }
        }
        out.extend(next.iter().cloned());
        current = next;
    }
    out
}

#[test]
fn schema_and_validation_agree_on_hosts() {
    let v = route_validator();
    let mut cases = strings(&['a', '0', '-', '.', '*', 'B'], 6);
    cases.extend(
        [
            "*.example.com",
            "a.*.example.com",
            "www.example.*",
            "xn--bcher-kva.example",
            "10.0.0.1",
            "a.b1",
            "-a.example.com",
            "a-.example.com",
            "a..example.com",
            ".example.com",
            "example.com.",
            &format!("{}.com", "a".repeat(63)),
            &format!("{}.com", "a".repeat(64)),
            &format!("{}.com", "a.".repeat(38)),
            &format!("{}.com", "a.".repeat(39)),
        ]
        .map(String::from),
    );
    let mut checked = 0;
    for host in cases {
        let doc = json!({ "host": host, "backend": "web" });
        let schema_ok = v.is_valid(&doc);
        let rules_ok = host_problem(&host).is_none();
        assert_eq!(
            schema_ok, rules_ok,
            "host `{host}`: schema {schema_ok}, validation {rules_ok}"
        );
        checked += 1;
    }
    assert!(checked > 50_000, "{checked}");
}

#[test]
fn schema_and_validation_agree_on_paths() {
    let v = route_validator();
    let mut cases = strings(&['/', 'a', '.', '-', 'Z', '%'], 6);
    cases.extend(
        [
            "/api/v1",
            "/api/",
            "/a//b",
            "/./a",
            "/a/..",
            "/...",
            "/.well-known",
            "/a?b",
            "/a*",
            &format!("/{}", "a".repeat(79)),
            &format!("/{}", "a".repeat(80)),
        ]
        .map(String::from),
    );
    for path in cases {
        let doc = json!({ "host": "a.example.com", "path": path, "backend": "web" });
        let schema_ok = v.is_valid(&doc);
        let rules_ok = path_problem(&path).is_none();
        assert_eq!(
            schema_ok, rules_ok,
            "path `{path}`: schema {schema_ok}, validation {rules_ok}"
        );
    }
}
