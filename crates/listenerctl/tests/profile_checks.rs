//! `validate`, `plan` and `--emulate` refuse every profile the real run
//! would refuse, offline and without credentials; an empty file and a
//! single profile's rejections fail `validate`.

mod common;

use common::{Scratch, Tripwire};
use serde_json::Value;

const LISTENER: &str = "\n[[listeners]]\nname = \"ssh\"\nprotocol = \"tcp\"\nports = 22\n";

/// The fields named by a JSON error document, in order.
fn fields(error: &Value) -> Vec<String> {
    error["error"]["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| p["field"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Run `args` with `-o json` and expect exit 2 naming exactly `expected`.
fn refused(s: &Scratch, args: &[&str], expected: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["-o", "json"]);
    let run = s.run(&all);
    run.expect_code(2);
    let error = run.json_error();
    assert_eq!(fields(&error), expected, "{}", run.stderr);
    error
}

#[test]
fn validate_refuses_a_clb_profile_without_region() {
    let s = Scratch::new();
    let f = s.write(
        "f.toml",
        &format!("[profiles.clb]\napi = \"tencent-clb\"\ninstance = \"lb-1\"\n{LISTENER}"),
    );
    let error = refused(&s, &["validate", "-f", f.to_str().unwrap()], &["profiles.clb.region"]);
    assert_eq!(error["error"]["kind"], "config");
}

#[test]
fn validate_takes_the_region_from_the_environment_as_the_real_run_does() {
    let s = Scratch::new();
    let f = s.write(
        "f.toml",
        &format!("[profiles.clb]\napi = \"tencent-clb\"\ninstance = \"lb-1\"\n{LISTENER}"),
    );
    let out = common::cli(s.home())
        .env("TENCENTCLOUD_REGION", "ap-guangzhou")
        .args(["validate", "-f", f.to_str().unwrap()])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn validate_refuses_an_alb_profile_without_region() {
    let s = Scratch::new();
    let f = s.write(
        "f.toml",
        &format!("[profiles.alb]\napi = \"alibaba-alb\"\ninstance = \"alb-1\"\n{LISTENER}"),
    );
    refused(&s, &["validate", "-f", f.to_str().unwrap()], &["profiles.alb.region"]);
}

#[test]
fn validate_refuses_plain_http_endpoint_without_allow_insecure_http() {
    let s = Scratch::new();
    for (api, instance, region) in [
        ("tencent-gaap", "link-1", ""),
        ("tencent-clb", "lb-1", "region = \"ap-guangzhou\"\n"),
        ("alibaba-alb", "alb-1", "region = \"cn-hangzhou\"\n"),
        ("alibaba-ga", "ga-1", ""),
    ] {
        let f = s.write(
            "f.toml",
            &format!(
                "[profiles.p]\napi = \"{api}\"\ninstance = \"{instance}\"\n{region}endpoint = \"http://127.0.0.1:9\"\n{LISTENER}"
            ),
        );
        refused(&s, &["validate", "-f", f.to_str().unwrap()], &["profiles.p.endpoint"]);
    }
}

#[test]
fn validate_refuses_an_ftp_endpoint_even_with_allow_insecure_http() {
    let s = Scratch::new();
    for (api, instance) in [("tencent-gaap", "link-1"), ("alibaba-ga", "ga-1")] {
        let f = s.write(
            "f.yaml",
            &format!(
                "profiles:\n  p:\n    api: {api}\n    instance: {instance}\n    endpoint: ftp://example.com/\n    allow_insecure_http: true\nlisteners:\n  - name: ssh\n    protocol: tcp\n    ports: 22\n"
            ),
        );
        refused(&s, &["validate", "-f", f.to_str().unwrap()], &["profiles.p.endpoint"]);
    }
}

#[test]
fn validate_reports_every_refused_profile_not_only_the_first() {
    let s = Scratch::new();
    let f = s.write(
        "f.toml",
        &format!(
            "[profiles.a]\napi = \"tencent-clb\"\ninstance = \"lb-1\"\n\
             [profiles.b]\napi = \"tencent-gaap\"\ninstance = \"link-1\"\nendpoint = \"ftp://example.com/\"\n{LISTENER}"
        ),
    );
    refused(
        &s,
        &["validate", "-f", f.to_str().unwrap()],
        &["profiles.a.region", "profiles.b.endpoint"],
    );
}

#[test]
fn validate_needs_no_credentials() {
    let s = Scratch::new();
    let f = s.write(
        "f.toml",
        &format!(
            "[profiles.clb]\napi = \"tencent-clb\"\nregion = \"ap-guangzhou\"\ninstance = \"lb-1\"\n\
             [profiles.alb]\napi = \"alibaba-alb\"\nregion = \"cn-hangzhou\"\ninstance = \"alb-1\"\n{LISTENER}"
        ),
    );
    let out = common::cli(s.home())
        .env_remove("TENCENTCLOUD_SECRET_ID")
        .env_remove("TENCENTCLOUD_SECRET_KEY")
        .env_remove("ALIBABA_CLOUD_ACCESS_KEY_ID")
        .env_remove("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
        .args(["validate", "-f", f.to_str().unwrap()])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn emulate_reports_a_missing_region_the_real_run_would_report() {
    let s = Scratch::new();
    let f = s.write(
        "f.toml",
        &format!("[profiles.clb]\napi = \"tencent-clb\"\ninstance = \"lb-1\"\n{LISTENER}"),
    );
    for command in ["plan", "apply", "list"] {
        let error = refused(
            &s,
            &[command, "--emulate", "-f", f.to_str().unwrap()],
            &["profiles.clb.region"],
        );
        assert_eq!(error["error"]["kind"], "config", "{command}");
    }
}

#[test]
fn emulate_reports_an_endpoint_the_real_run_would_refuse() {
    let s = Scratch::new();
    for endpoint in ["endpoint = \"http://127.0.0.1:9\"", "endpoint = \"ftp://example.com/\""] {
        let f = s.write(
            "f.toml",
            &format!("[profiles.gaap]\napi = \"tencent-gaap\"\ninstance = \"link-1\"\n{endpoint}\n{LISTENER}"),
        );
        refused(
            &s,
            &["plan", "--emulate", "-f", f.to_str().unwrap()],
            &["profiles.gaap.endpoint"],
        );
    }
}

#[test]
fn plan_refuses_a_plain_http_endpoint_before_sending_anything() {
    let s = Scratch::new();
    let trip = Tripwire::new();
    let f = s.write(
        "f.toml",
        &format!(
            "[profiles.alb]\napi = \"alibaba-alb\"\nregion = \"cn-hangzhou\"\ninstance = \"alb-1\"\nendpoint = \"{}\"\n{LISTENER}",
            trip.url()
        ),
    );
    refused(&s, &["plan", "-f", f.to_str().unwrap()], &["profiles.alb.endpoint"]);
    trip.assert_untouched();
}

#[test]
fn an_empty_file_is_refused_in_every_format() {
    let s = Scratch::new();
    for (name, text) in [
        ("empty.toml", ""),
        ("comment.toml", "# nothing yet\n"),
        ("empty.yaml", ""),
        ("empty.json", "{}"),
    ] {
        let f = s.write(name, text);
        let run = s.run(&["validate", "-f", f.to_str().unwrap(), "-o", "json"]);
        run.expect_code(2);
        let error = run.json_error();
        assert_eq!(
            error["error"]["problems"][0]["rule"], "file_empty",
            "{name}: {}",
            run.stderr
        );
    }
}

#[test]
fn validate_fails_on_the_only_profiles_unknown_certificate_alias() {
    let s = Scratch::new();
    let f = s.write(
        "f.toml",
        "[profiles.clb]\napi = \"tencent-clb\"\nregion = \"ap-guangzhou\"\ninstance = \"lb-1\"\n\
         certificates = { web-cert = \"cert-1\" }\n\n\
         [[listeners]]\nname = \"web\"\nprotocol = \"https\"\nports = 443\ntls = { certificates = [\"wbe-cert\"] }\n",
    );
    let error = refused(
        &s,
        &["validate", "-f", f.to_str().unwrap()],
        &["listeners[0].tls.certificates[0]"],
    );
    assert_eq!(error["error"]["problems"][0]["rule"], "alias_unknown");
    // The text report does not call the file valid while the run fails.
    let run = s.run(&["validate", "-f", f.to_str().unwrap()]);
    run.expect_code(2);
    assert!(!run.stdout.contains("is valid"), "{}", run.stdout);
}

#[test]
fn validate_reports_but_does_not_fail_what_one_of_several_profiles_rejects() {
    let s = Scratch::new();
    let f = s.write(
        "f.toml",
        "[profiles.clb]\napi = \"tencent-clb\"\nregion = \"ap-guangzhou\"\ninstance = \"lb-1\"\n\
         certificates = { web-cert = \"cert-1\" }\n\
         [profiles.gaap]\napi = \"tencent-gaap\"\ninstance = \"link-1\"\n\n\
         [[listeners]]\nname = \"web\"\nprotocol = \"https\"\nports = 443\ntls = { certificates = [\"web-cert\"] }\n",
    );
    let run = s.run(&["validate", "-f", f.to_str().unwrap(), "-o", "json"]);
    run.expect_code(0);
    let report = run.json();
    assert_eq!(report["selected_profile"], Value::Null);
    assert_eq!(report["listeners"][0]["rejected_by"][0]["profile"], "gaap");
    // Naming the profile that rejects it makes it an error again.
    let run = s.run(&["validate", "-f", f.to_str().unwrap(), "-p", "gaap", "-o", "json"]);
    run.expect_code(2);
    assert!(
        fields(&run.json_error()).contains(&"listeners[0].tls.certificates[0]".to_string()),
        "{}",
        run.stderr
    );
}
