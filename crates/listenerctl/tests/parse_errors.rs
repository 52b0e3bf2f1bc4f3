//! How `validate` reads a file that is broken in several places, hostile
//! in size or depth, or holds credentials: every problem the parsers can
//! recover from is reported, each at its own field and line; nothing under
//! `inline_credentials` is ever printed; oversize and deep documents are
//! refused with their own rule before any parser runs.

mod common;

use common::Scratch;
use serde_json::Value;

/// The problems of a failed `validate -o json`, with the exit code checked.
fn problems(s: &Scratch, path: &std::path::Path, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["validate", "-f", path.to_str().expect("utf-8"), "-o", "json"];
    args.extend_from_slice(extra);
    let run = s.run(&args);
    run.expect_code(2);
    let err = run.json_error();
    err["error"]["problems"].as_array().expect("problems").clone()
}

fn field_and_line(p: &Value) -> (String, u64) {
    (
        p["field"].as_str().unwrap_or_default().to_string(),
        p["line"].as_u64().unwrap_or(0),
    )
}

/// 1-based line of the first line of `text` starting with `start`.
fn line_of(text: &str, start: &str) -> u64 {
    text.lines()
        .position(|l| l.trim_start().starts_with(start))
        .expect(start) as u64
        + 1
}

const TWO_LISTENER_TYPOS_AND_A_PROFILE_TYPO: &str = "\
[profiles.clb]
api = \"tencent-clb\"
regoin = \"ap-guangzhou\"
instance = \"lb-1\"

[[listeners]]
name = \"one\"
protocol = \"tcp\"
prots = 80

[[listeners]]
name = \"two\"
protocol = \"tcp\"
ports = 81

[[listeners]]
name = \"three\"
protocl = \"udp\"
ports = 82
";

#[test]
fn three_typos_in_two_listeners_and_a_profile_are_three_problems_each_with_its_line() {
    let s = Scratch::new();
    let text = TWO_LISTENER_TYPOS_AND_A_PROFILE_TYPO;
    let path = s.write("typos.toml", text);
    let got: Vec<_> = problems(&s, &path, &[]).iter().map(field_and_line).collect();
    assert_eq!(
        got,
        vec![
            ("profiles.clb.regoin".to_string(), line_of(text, "regoin")),
            ("listeners[0].prots".to_string(), line_of(text, "prots")),
            ("listeners[2].protocl".to_string(), line_of(text, "protocl")),
        ]
    );
}

#[test]
fn three_typos_in_yaml_are_three_problems_each_with_its_line() {
    let s = Scratch::new();
    let text = "profiles:\n  clb:\n    api: tencent-clb\n    regoin: ap-guangzhou\n    instance: lb-1\nlisteners:\n  - name: one\n    protocol: tcp\n    prots: 80\n  - name: two\n    protocol: tcp\n    ports: 81\n  - name: three\n    protocl: udp\n    ports: 82\n";
    let path = s.write("typos.yaml", text);
    let got: Vec<_> = problems(&s, &path, &[]).iter().map(field_and_line).collect();
    assert_eq!(
        got,
        vec![
            ("profiles.clb.regoin".to_string(), 4),
            ("listeners[0].prots".to_string(), 9),
            ("listeners[2].protocl".to_string(), 14),
        ]
    );
}

#[test]
fn toml_syntax_errors_are_all_reported() {
    let s = Scratch::new();
    let text =
        "[profiles.clb]\napi = \"tencent-clb\"\ninstance = = \"lb-1\"\n\n[[listeners]]\nname = \"one\"\nports = 80,\n";
    let path = s.write("syntax.toml", text);
    let lines: Vec<u64> = problems(&s, &path, &[]).iter().map(|p| field_and_line(p).1).collect();
    assert!(lines.contains(&3) && lines.contains(&7), "{lines:?}");
}

/// Credential values in several wrong shapes, TOML and YAML. None may
/// appear anywhere in the output, text or JSON.
#[test]
fn credential_values_never_appear_in_any_error() {
    let s = Scratch::new();
    let profile = "[profiles.p]\napi = \"tencent-clb\"\nregion = \"ap-guangzhou\"\ninstance = \"lb-1\"\n";
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "int.toml",
            format!("{profile}inline_credentials = {{ key_id = \"AKID1\", secret = 1234567890123 }}\n"),
            "1234567890123",
        ),
        (
            "keyid.toml",
            format!("{profile}inline_credentials = {{ key_id = 98765432101, secret = \"s\" }}\n"),
            "98765432101",
        ),
        (
            "list.toml",
            format!("{profile}inline_credentials = {{ key_id = \"AKID1\", secret = [\"hunter2-in-a-list\"] }}\n"),
            "hunter2-in-a-list",
        ),
        (
            "unknown.toml",
            format!("{profile}inline_credentials = {{ key_id = \"AKID1\", secret = \"s\", secrte = \"typo-held-secret\" }}\n"),
            "typo-held-secret",
        ),
        (
            "string.toml",
            format!("{profile}inline_credentials = \"whole-secret-as-string\"\n"),
            "whole-secret-as-string",
        ),
        (
            "float.toml",
            format!("{profile}inline_credentials = {{ key_id = \"AKID1\", secret = 31415.9265 }}\n"),
            "31415.9265",
        ),
        (
            "int.yaml",
            "profiles:\n  p:\n    api: tencent-clb\n    region: ap-guangzhou\n    instance: lb-1\n    inline_credentials:\n      key_id: AKID1\n      secret: 1234567890123\n".into(),
            "1234567890123",
        ),
        (
            "huge.yaml",
            "profiles:\n  p:\n    api: tencent-clb\n    region: ap-guangzhou\n    instance: lb-1\n    inline_credentials:\n      key_id: AKID1\n      secret: 99999999999999999999777\n".into(),
            "99999999999999999999777",
        ),
        (
            "token.yaml",
            "profiles:\n  p:\n    api: tencent-clb\n    region: ap-guangzhou\n    instance: lb-1\n    inline_credentials:\n      key_id: AKID1\n      secret: s\n      token: {nested: tok-value-987}\n".into(),
            "tok-value-987",
        ),
        (
            "bool.yaml",
            "profiles:\n  p:\n    api: tencent-clb\n    region: ap-guangzhou\n    instance: lb-1\n    inline_credentials: {key_id: AKID1, secret: [99887766554433]}\n".into(),
            "99887766554433",
        ),
    ];
    for (name, text, secret) in cases {
        let path = s.write(name, &text);
        for output in ["text", "json"] {
            let run = s.run(&["validate", "-f", path.to_str().expect("utf-8"), "-o", output]);
            run.expect_code(2);
            let all = format!("{}{}", run.stdout, run.stderr);
            assert!(!all.contains(secret), "{name} ({output}) shows the credential:\n{all}");
            assert!(
                all.contains("inline_credentials"),
                "{name} ({output}) names the field:\n{all}"
            );
        }
    }
}

#[test]
fn deep_nesting_is_refused_with_its_own_rule() {
    let s = Scratch::new();
    // The 200 KB of brackets that once took minutes, and block-style
    // nesting that once overflowed the stack.
    let depth = 100_000;
    let flow = format!("listeners: {}{}\n", "[".repeat(depth), "]".repeat(depth));
    let block = format!("listeners:\n{}x\n", "- ".repeat(depth));
    let json = format!("{{\"listeners\": {}{}}}\n", "[".repeat(depth), "]".repeat(depth));
    let toml = format!("listeners = {}{}\n", "[".repeat(depth), "]".repeat(depth));
    for (name, text) in [
        ("flow.yaml", flow),
        ("block.yaml", block),
        ("deep.json", json),
        ("deep.toml", toml),
    ] {
        let path = s.write(name, &text);
        let p = problems(&s, &path, &[]);
        assert_eq!(p.len(), 1, "{name}: {p:?}");
        assert_eq!(p[0]["rule"], "too_deep", "{name}: {p:?}");
        assert_eq!(
            p[0]["line"].as_u64(),
            Some(if name == "block.yaml" { 2 } else { 1 }),
            "{name}: {p:?}"
        );
    }
}

#[test]
fn nesting_a_real_file_needs_is_accepted() {
    let s = Scratch::new();
    // Two profiles, so that what a cloud cannot take is portability
    // information here (exit 0), not a failure of the only profile.
    let text = "profiles:\n  p:\n    api: tencent-clb\n    region: ap-guangzhou\n    instance: lb-1\n    certificates: {web: c-1}\n  q:\n    api: tencent-clb\n    region: ap-guangzhou\n    instance: lb-2\n    certificates: {web: c-1}\nlisteners:\n  - name: one\n    protocol: https\n    ports: [443, {from: 8443, to: 8444}]\n    tls:\n      certificates: [web]\n      client_auth:\n        ca_certificates: [web]\n    description: \"it's [[[[ not ]]]] nesting\" # neither is {{{{ this\n";
    let path = s.write("ok.yaml", text);
    s.run(&["validate", "-f", path.to_str().expect("utf-8")]).expect_code(0);
}

#[test]
fn oversize_file_is_refused_with_its_own_rule() {
    let s = Scratch::new();
    let mut text = String::from("# padding\n");
    while text.len() <= cloud_listeners::parse::MAX_FILE_BYTES {
        text.push_str("# ........................................................................\n");
    }
    let path = s.write("huge.toml", &text);
    let p = problems(&s, &path, &[]);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0]["rule"], "too_large");
}

#[test]
fn non_utf8_file_names_the_line_and_column_of_the_bad_byte() {
    let s = Scratch::new();
    let path = s.write("latin1.toml", "");
    std::fs::write(
        &path,
        b"[profiles.p]\napi = \"tencent-clb\"\ninstance = \"lb-\xe9t\xe9\"\n",
    )
    .expect("write");
    let p = problems(&s, &path, &[]);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0]["rule"], "encoding");
    assert_eq!((p[0]["line"].as_u64(), p[0]["column"].as_u64()), (Some(3), Some(16)));
}

#[test]
fn numeric_certificate_id_is_reported_at_the_certificate() {
    let s = Scratch::new();
    let text = "[profiles.alb]\napi = \"alibaba-alb\"\nregion = \"cn-hangzhou\"\ninstance = \"alb-1\"\n\n[profiles.alb.certificates]\nweb = \"103704\"\napi-cert = 103705\n";
    let path = s.write("certs.toml", text);
    let p = problems(&s, &path, &[]);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(
        field_and_line(&p[0]),
        ("profiles.alb.certificates.api-cert".to_string(), 8)
    );
}

#[test]
fn port_out_of_range_names_the_field_and_the_allowed_range() {
    let s = Scratch::new();
    let profile = "profiles:\n  p:\n    api: tencent-clb\n    region: ap-guangzhou\n    instance: lb-1\n";
    for (name, ports, field) in [
        ("huge.yaml", "99999999999999999999", "listeners[0].ports"),
        ("negative.yaml", "-1", "listeners[0].ports"),
        ("in-list.yaml", "[80, -5]", "listeners[0].ports[1]"),
        ("in-range.yaml", "{from: 80, to: 4294967296}", "listeners[0].ports.to"),
    ] {
        let text = format!("{profile}listeners:\n  - name: one\n    protocol: tcp\n    ports: {ports}\n");
        let path = s.write(name, &text);
        let p = problems(&s, &path, &[]);
        assert_eq!(p.len(), 1, "{name}: {p:?}");
        assert_eq!(p[0]["field"], field, "{name}: {p:?}");
        assert_eq!(p[0]["line"].as_u64(), Some(9), "{name}: {p:?}");
        let message = p[0]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("1 to 65535") && !message.contains("i128"),
            "{name}: {message}"
        );
    }
}

#[test]
fn port_out_of_range_in_toml_names_each_listener_field() {
    let s = Scratch::new();
    let text = "[profiles.p]\napi = \"tencent-clb\"\nregion = \"ap-guangzhou\"\ninstance = \"lb-1\"\n\n[[listeners]]\nname = \"a\"\nprotocol = \"tcp\"\nports = 99999999999999999999\n\n[[listeners]]\nname = \"b\"\nprotocol = \"tcp\"\nports = -1\n";
    let path = s.write("ports.toml", text);
    let got: Vec<_> = problems(&s, &path, &[]).iter().map(field_and_line).collect();
    assert_eq!(
        got,
        vec![
            ("listeners[0].ports".to_string(), 9),
            ("listeners[1].ports".to_string(), 14)
        ]
    );
}

#[test]
fn yaml_merge_keys_are_applied() {
    let s = Scratch::new();
    let text = "profiles:\n  a: &base\n    api: tencent-clb\n    region: ap-guangzhou\n    instance: lb-1\n  b:\n    <<: *base\n    instance: lb-2\nlisteners:\n  - &tcp\n    name: one\n    protocol: tcp\n    ports: 80\n  - <<: *tcp\n    name: two\n    ports: 81\n";
    let path = s.write("merge.yaml", text);
    let run = s.run(&["validate", "-f", path.to_str().expect("utf-8"), "-o", "json"]);
    run.expect_code(0);
    let report = run.json();
    assert_eq!(report["listeners"].as_array().map(Vec::len), Some(2), "{report}");
    assert_eq!(report["profiles"].as_array().map(Vec::len), Some(2), "{report}");
}

#[test]
fn bad_profile_from_the_environment_names_the_variable() {
    let s = Scratch::new();
    let text = "[profiles.clb]\napi = \"tencent-clb\"\nregion = \"ap-guangzhou\"\ninstance = \"lb-1\"\n";
    let path = s.write("one.toml", text);
    let run = common::cli(s.home())
        .args(["validate", "-f", path.to_str().expect("utf-8"), "-o", "json"])
        .env("LISTENERCTL_PROFILE", "nope")
        .output()
        .expect("runs");
    assert_eq!(run.status.code(), Some(2));
    let err: Value = serde_json::from_slice(&run.stderr).expect("json");
    assert_eq!(err["error"]["problems"][0]["field"], "LISTENERCTL_PROFILE", "{err}");
    let p = problems(&s, &path, &["--profile", "nope"]);
    assert_eq!(p[0]["field"], "--profile", "{p:?}");
}

#[test]
fn wrong_ga_region_names_the_profile_setting() {
    let s = Scratch::new();
    let text = "[profiles.ga]\napi = \"alibaba-ga\"\nregion = \"cn-shanghai\"\ninstance = \"ga-1\"\n\n[[listeners]]\nname = \"one\"\nprotocol = \"tcp\"\nports = 80\n";
    let path = s.write("ga.toml", text);
    let p = problems(&s, &path, &["--profile", "ga"]);
    assert!(!p.is_empty());
    for problem in &p {
        assert_eq!(field_and_line(problem), ("profiles.ga.region".to_string(), 3), "{p:?}");
    }
}
