//! The committed JSON Schema is what `listenerctl schema` prints today.

use std::path::Path;

use assert_cmd::Command;

fn committed() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/listeners.schema.json");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn committed_schema_matches_the_config_types() {
    assert_eq!(
        committed(),
        listenerctl::commands::schema_json(),
        "docs/listeners.schema.json is stale; regenerate it with \
         `cargo run -p listenerctl -- schema > docs/listeners.schema.json`"
    );
}

#[test]
fn schema_command_prints_the_committed_schema() {
    let out = Command::cargo_bin("listenerctl")
        .expect("binary built")
        .arg("schema")
        .output()
        .expect("runs");
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).expect("utf-8"), committed());
}

#[test]
fn schema_describes_profiles_and_every_listener_field() {
    let schema: serde_json::Value = serde_json::from_str(&committed()).expect("valid JSON");
    let spec = &schema["$defs"]["ListenerSpec"]["properties"];
    for field in [
        "name",
        "description",
        "protocol",
        "ports",
        "tls",
        "forwarding",
        "backend",
        "routes",
        "health_check",
        "scheduler",
        "session_persistence",
        "timeouts",
        "client_ip",
        "extensions",
    ] {
        assert!(
            spec.get(field).is_some(),
            "ListenerSpec.{field} missing from the schema"
        );
    }
    assert!(schema["$defs"]["ProfileConfig"]["properties"]["instance"].is_object());
    assert!(schema["properties"]["backends"].is_object());
    for field in ["host", "path", "certificate", "backend"] {
        assert!(
            schema["$defs"]["Route"]["properties"][field].is_object(),
            "Route.{field}"
        );
    }
}
