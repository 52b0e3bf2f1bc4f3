//! Invalid files: each gives one clear message naming the file, the field
//! and (where the format tells) the line, exits 2, and sends nothing. The
//! profile's endpoint is a tripwire port on 127.0.0.1 that fails the test
//! if anything connected to it.

mod common;

use common::{profile, Scratch, Tripwire};

/// A valid CLB profile plus `listeners`, the endpoint on the tripwire.
fn file_with(wire: &Tripwire, listeners: &str) -> String {
    format!(
        "default_profile = \"clb\"\n\n{}\n{listeners}",
        profile(
            "clb",
            "tencent-clb",
            "lb-test0001",
            &wire.url(),
            "certificates = { web-cert = \"cert-1\" }"
        )
    )
}

/// The one `error:` line of a failed run.
fn single_error(stderr: &str) -> &str {
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "expected exactly one error line, got:\n{stderr}");
    lines[0]
}

#[test]
fn syntax_error_names_file_and_line_and_sends_nothing() {
    let s = Scratch::new();
    let wire = Tripwire::new();
    let text = file_with(&wire, "[[listeners]\nname = \"web\"\n");
    let line = text
        .lines()
        .position(|l| l.starts_with("[[listeners]"))
        .expect("header")
        + 1;
    let path = s.write("bad.toml", &text);
    let run = s.run(&["plan", "-f", path.to_str().expect("utf-8")]);
    run.expect_code(2);
    let err = single_error(&run.stderr);
    assert!(err.contains(&format!("bad.toml:{line}:")), "{err}");
    assert!(run.stdout.is_empty(), "nothing on stdout: {}", run.stdout);
    wire.assert_untouched();
}

#[test]
fn unknown_field_names_the_field_and_line_in_toml() {
    let s = Scratch::new();
    let wire = Tripwire::new();
    let text = file_with(
        &wire,
        "[[listeners]]\nname = \"web\"\nprotocol = \"tcp\"\nprotcol = \"udp\"\nports = 80\n",
    );
    let line = text.lines().position(|l| l.starts_with("protcol")).expect("typo") + 1;
    let path = s.write("typo.toml", &text);
    let run = s.run(&["apply", "-f", path.to_str().expect("utf-8")]);
    run.expect_code(2);
    let err = single_error(&run.stderr);
    assert!(err.contains(&format!("typo.toml:{line}:")), "{err}");
    assert!(err.contains("listeners[0].protcol"), "{err}");
    wire.assert_untouched();
}

#[test]
fn unknown_field_in_yaml_is_reported_as_json_for_scripts() {
    let s = Scratch::new();
    let wire = Tripwire::new();
    let yaml = format!(
        "profiles:\n  clb:\n    api: tencent-clb\n    region: ap-guangzhou\n    instance: lb-test0001\n    endpoint: {}\n    allow_insecure_http: true\nlisteners:\n  - name: web\n    protocol: tcp\n    portz: 80\n",
        wire.url()
    );
    let path = s.write("typo.yaml", &yaml);
    let run = s.run(&["plan", "-f", path.to_str().expect("utf-8"), "--output", "json"]);
    run.expect_code(2);
    let err = run.json_error();
    assert_eq!(err["error"]["kind"], "parse");
    assert_eq!(err["error"]["exit_code"], 2);
    let problems = err["error"]["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0]["field"], "listeners[0].portz");
    assert_eq!(problems[0]["line"], 11);
    assert!(problems[0]["file"].as_str().is_some_and(|f| f.ends_with("typo.yaml")));
    wire.assert_untouched();
}

#[test]
fn out_of_range_port_names_field_and_line() {
    let s = Scratch::new();
    let wire = Tripwire::new();
    let text = file_with(
        &wire,
        "[[listeners]]\nname = \"web\"\nprotocol = \"tcp\"\nports = 70000\n",
    );
    let line = text.lines().position(|l| l.starts_with("ports")).expect("ports") + 1;
    let path = s.write("port.toml", &text);
    let run = s.run(&["apply", "-f", path.to_str().expect("utf-8")]);
    run.expect_code(2);
    let err = single_error(&run.stderr);
    assert!(err.contains(&format!("port.toml:{line}:")), "{err}");
    assert!(err.contains("listeners[0].ports"), "{err}");
    wire.assert_untouched();
}

#[test]
fn out_of_range_port_in_json_names_field_and_line() {
    let s = Scratch::new();
    let wire = Tripwire::new();
    let json = format!(
        "{{\n  \"profiles\": {{\"clb\": {{\"api\": \"tencent-clb\", \"region\": \"ap-guangzhou\", \"instance\": \"lb-1\", \"endpoint\": \"{}\", \"allow_insecure_http\": true}}}},\n  \"listeners\": [\n    {{\"name\": \"web\", \"protocol\": \"tcp\",\n     \"ports\": 0}}\n  ]\n}}\n",
        wire.url()
    );
    let path = s.write("port.json", &json);
    let run = s.run(&["plan", "-f", path.to_str().expect("utf-8")]);
    run.expect_code(2);
    let err = single_error(&run.stderr);
    assert!(err.contains("port.json:5:"), "{err}");
    assert!(err.contains("listeners[0].ports"), "{err}");
    wire.assert_untouched();
}

#[test]
fn certificate_alias_missing_from_the_profile_is_refused_before_any_call() {
    let s = Scratch::new();
    let wire = Tripwire::new();
    let text = file_with(
        &wire,
        "[[listeners]]\nname = \"web\"\nprotocol = \"https\"\nports = 443\ntls = { certificates = [\"other-cert\"] }\n",
    );
    let line = text.lines().position(|l| l.starts_with("tls")).expect("tls") + 1;
    let path = s.write("alias.toml", &text);
    let run = s.run(&["plan", "-f", path.to_str().expect("utf-8")]);
    run.expect_code(2);
    let err = single_error(&run.stderr);
    assert!(err.contains(&format!("alias.toml:{line}:")), "{err}");
    assert!(err.contains("listeners[0].tls.certificates[0]"), "{err}");
    assert!(err.contains("other-cert"), "{err}");
    wire.assert_untouched();
}

#[test]
fn missing_profile_on_the_command_line_names_the_known_ones() {
    let s = Scratch::new();
    let wire = Tripwire::new();
    let text = file_with(&wire, "[[listeners]]\nname = \"web\"\nprotocol = \"tcp\"\nports = 80\n");
    let path = s.write("ok.toml", &text);
    let run = s.run(&["plan", "-f", path.to_str().expect("utf-8"), "--profile", "prod"]);
    run.expect_code(2);
    let err = single_error(&run.stderr);
    assert!(err.contains("ok.toml"), "{err}");
    assert!(err.contains("--profile"), "{err}");
    assert!(err.contains("`prod`") && err.contains("clb"), "{err}");
    wire.assert_untouched();
}

#[test]
fn missing_profile_from_the_environment_is_refused_too() {
    let s = Scratch::new();
    let wire = Tripwire::new();
    let text = file_with(&wire, "[[listeners]]\nname = \"web\"\nprotocol = \"tcp\"\nports = 80\n");
    let path = s.write("ok.toml", &text);
    let out = common::cli(s.home())
        .env("LISTENERCTL_PROFILE", "staging")
        .args(["list", "-f", path.to_str().expect("utf-8")])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(single_error(&stderr).contains("`staging`"), "{stderr}");
    wire.assert_untouched();
}

#[test]
fn default_profile_naming_no_profile_points_at_its_line() {
    let s = Scratch::new();
    let wire = Tripwire::new();
    let text = file_with(&wire, "[[listeners]]\nname = \"web\"\nprotocol = \"tcp\"\nports = 80\n")
        .replace("default_profile = \"clb\"", "default_profile = \"clbb\"");
    let path = s.write("default.toml", &text);
    let run = s.run(&["apply", "-f", path.to_str().expect("utf-8")]);
    run.expect_code(2);
    let err = single_error(&run.stderr);
    assert!(err.contains("default.toml:1:"), "{err}");
    assert!(err.contains("default_profile"), "{err}");
    wire.assert_untouched();
}

#[test]
fn every_problem_of_a_file_is_listed_at_once() {
    let s = Scratch::new();
    let wire = Tripwire::new();
    let text = file_with(
        &wire,
        "[[listeners]]\nname = \"a\"\nprotocol = \"tcp\"\nports = 0\n\n[[listeners]]\nname = \"b\"\nprotocol = \"udp\"\nports = 70000\n",
    );
    let path = s.write("two.toml", &text);
    let run = s.run(&["validate", "-f", path.to_str().expect("utf-8")]);
    run.expect_code(2);
    let errors: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 2, "{}", run.stderr);
    assert!(errors[0].contains("listeners[0].ports") && errors[1].contains("listeners[1].ports"));
    wire.assert_untouched();
}

#[test]
fn unreadable_and_unknown_type_files_exit_2() {
    let s = Scratch::new();
    let missing = s.dir.path().join("missing.toml");
    let run = s.run(&["validate", "-f", missing.to_str().expect("utf-8")]);
    run.expect_code(2);
    assert!(single_error(&run.stderr).contains("missing.toml"));
    let txt = s.write("listeners.txt", "");
    let run = s.run(&["validate", "-f", txt.to_str().expect("utf-8")]);
    run.expect_code(2);
    assert!(single_error(&run.stderr).contains(".toml, .yaml, .yml or .json"));
    let run = s.run(&["plan"]);
    run.expect_code(2);
    assert!(single_error(&run.stderr).contains("-f FILE"));
}

#[test]
fn usage_errors_exit_2() {
    let s = Scratch::new();
    s.run(&["plan", "--no-such-flag"]).expect_code(2);
    s.run(&["frobnicate"]).expect_code(2);
}

#[test]
fn help_documents_the_exit_codes() {
    let s = Scratch::new();
    let run = s.run(&["--help"]);
    run.expect_code(0);
    for code in ["0  done", "1  error", "2  invalid input", "3  `plan` only"] {
        assert!(run.stdout.contains(code), "--help lacks `{code}`:\n{}", run.stdout);
    }
}

#[test]
fn inline_secrets_are_never_printed() {
    let s = Scratch::new();
    let wire = Tripwire::new();
    let secret = "s3cr3t-value-that-must-not-leak";
    let text = format!(
        "default_profile = \"clb\"\n\n{}\n[[listeners]]\nname = \"web\"\nprotocol = \"tcp\"\nports = 70000\n",
        profile(
            "clb",
            "tencent-clb",
            "lb-1",
            &wire.url(),
            &format!("inline_credentials = {{ key_id = \"AKIDx\", secret = \"{secret}\" }}"),
        )
    );
    let path = s.write("secret.toml", &text);
    for args in [
        vec!["validate", "-f", path.to_str().expect("utf-8"), "-vv"],
        vec!["plan", "-f", path.to_str().expect("utf-8"), "-o", "json", "-vv"],
    ] {
        let run = s.run(&args);
        run.expect_code(2);
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "secret printed by {args:?}:\n{}\n{}",
            run.stdout,
            run.stderr
        );
    }
    wire.assert_untouched();
}

#[test]
fn missing_credentials_are_a_configuration_error_before_any_call() {
    let s = Scratch::new();
    let wire = Tripwire::new();
    let text = file_with(&wire, "[[listeners]]\nname = \"web\"\nprotocol = \"tcp\"\nports = 80\n");
    let path = s.write("creds.toml", &text);
    let out = common::cli(s.home())
        .env_remove("TENCENTCLOUD_SECRET_ID")
        .env_remove("TENCENTCLOUD_SECRET_KEY")
        .args(["plan", "-f", path.to_str().expect("utf-8"), "-o", "json"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err: serde_json::Value = serde_json::from_slice(&out.stderr).expect("JSON error");
    assert_eq!(err["error"]["kind"], "config");
    let problem = &err["error"]["problems"][0];
    assert_eq!(problem["field"], "credentials");
    assert!(
        problem["message"]
            .as_str()
            .is_some_and(|m| m.contains("TENCENTCLOUD_SECRET_ID")),
        "{problem}"
    );
    wire.assert_untouched();
}

#[test]
fn an_unknown_api_names_the_profile_field_and_line() {
    let s = Scratch::new();
    let wire = Tripwire::new();
    let text = file_with(&wire, "[[listeners]]\nname = \"web\"\nprotocol = \"tcp\"\nports = 80\n")
        .replace("api = \"tencent-clb\"", "api = \"tencent-clbb\"");
    let line = text.lines().position(|l| l.starts_with("api =")).expect("api") + 1;
    let path = s.write("api.toml", &text);
    for cmd in ["validate", "plan"] {
        let run = s.run(&[cmd, "-f", path.to_str().expect("utf-8")]);
        run.expect_code(2);
        let err = single_error(&run.stderr);
        assert!(err.contains(&format!("api.toml:{line}:")), "{err}");
        assert!(
            err.contains("profiles.clb.api") && err.contains("tencent-clbb"),
            "{err}"
        );
    }
    wire.assert_untouched();
}

/// Routes and pools are reported at their paths, with the line, in TOML
/// and YAML alike.
#[test]
fn route_and_backend_problems_name_their_path_and_line() {
    let s = Scratch::new();
    let toml = s.write(
        "routes.toml",
        "[backends.web]\nendpoints = [\n  { address = \"10.0.0.1\", port = 8080, weight = 0 },\n]\n\n\
         [[listeners]]\nname = \"site\"\nprotocol = \"http\"\nports = 80\nbackend = \"web\"\nroutes = [\n  \
         { host = \"a.example.com\", path = \"/x/\", backend = \"web\" },\n  \
         { host = \"b.example.com\", path = \"/\", backend = \"nope\" },\n]\n",
    );
    let yaml = s.write(
        "routes.yaml",
        "backends:\n  web:\n    endpoints:\n      - { address: 10.0.0.1, port: 8080, weight: 0 }\nlisteners:\n  \
         - name: site\n    protocol: http\n    ports: 80\n    backend: web\n    routes:\n      \
         - { host: a.example.com, path: /x/, backend: web }\n      \
         - { host: b.example.com, path: /, backend: nope }\n",
    );
    for (file, lines) in [(&toml, [12, 3, 13]), (&yaml, [11, 4, 12])] {
        let run = s.run(&["validate", "-f", file.to_str().expect("utf-8"), "-o", "json"]);
        run.expect_code(2);
        let err = run.json_error();
        let problems = err["error"]["problems"].as_array().expect("problems");
        let found: Vec<(String, String, u64)> = problems
            .iter()
            .map(|p| {
                (
                    p["field"].as_str().unwrap_or_default().to_string(),
                    p["rule"].as_str().unwrap_or_default().to_string(),
                    p["line"].as_u64().unwrap_or_default(),
                )
            })
            .collect();
        let want = [
            ("listeners[0].routes[0].path", "path_format"),
            ("backends.web.endpoints[0].weight", "weight_range"),
            ("listeners[0].routes[1].backend", "backend_unknown"),
        ];
        for ((field, rule), line) in want.iter().zip(lines) {
            assert!(
                found.iter().any(|(f, r, l)| f == field && r == rule && *l == line),
                "{}: {field} {rule} line {line}: {found:?}",
                file.display()
            );
        }
        assert_eq!(found.len(), 3, "{found:?}");
    }
}
