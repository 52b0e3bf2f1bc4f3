//! `validate`'s portability report, refusals on the selected profile, and
//! `--all-profiles` skipping what a profile cannot take.

mod common;

use common::{profile, Emu, Scratch, Tripwire};

/// Mutual TLS: CLB and ALB take it, GA has no client-CA setting.
fn mtls_file(endpoint: &str) -> String {
    format!(
        "{}{}{}\n[[listeners]]\nname = \"partner-api\"\nprotocol = \"https\"\nports = 8443\n\
         forwarding = {{ default_target = \"api-servers\" }}\n\n\
         [listeners.tls]\ncertificates = [\"api-rsa\"]\n\
         client_auth = {{ verify = \"required\", ca_certificates = [\"partners-ca\"] }}\n\n\
         [[listeners]]\nname = \"plain\"\nprotocol = \"http\"\nports = 80\n\
         forwarding = {{ default_target = \"api-servers\" }}\n",
        profile(
            "clb",
            "tencent-clb",
            "lb-api000001",
            endpoint,
            "certificates = { api-rsa = \"cert-clb-rsa\", partners-ca = \"ca-clb\" }\ntargets = { api-servers = \"lbtg-1\" }"
        ),
        profile(
            "alb",
            "alibaba-alb",
            "alb-api0000001",
            endpoint,
            "certificates = { api-rsa = \"1037051\", partners-ca = \"2098761\" }\ntargets = { api-servers = \"sgp-api0000001\" }"
        ),
        profile(
            "ga",
            "alibaba-ga",
            "ga-api0000001",
            endpoint,
            "certificates = { api-rsa = \"450-cn-hangzhou\" }\ntargets = { api-servers = \"epg-1\" }"
        ),
    )
}

#[test]
fn validate_reports_which_profiles_take_each_listener_and_why_not() {
    let s = Scratch::new();
    let wire = Tripwire::new();
    let file = s.write("mtls.toml", &mtls_file(&wire.url()));
    let run = s.run(&["validate", "-f", file.to_str().expect("utf-8")]);
    run.expect_code(0);
    let out = &run.stdout;
    assert!(out.contains("partner-api"), "{out}");
    assert!(out.contains("does not fit: ga (alibaba-ga)"), "{out}");
    assert!(
        out.contains("fits:         alb (alibaba-alb), clb (tencent-clb)"),
        "{out}"
    );
    assert!(out.contains("alibaba-ga: tls.client_auth"), "{out}");
    assert!(out.contains("1 of 2 listeners fit every profile"), "{out}");
    wire.assert_untouched();
}

#[test]
fn validate_json_carries_vendor_field_rule_and_reason() {
    let s = Scratch::new();
    let wire = Tripwire::new();
    let file = s.write("mtls.toml", &mtls_file(&wire.url()));
    let run = s.run(&["validate", "-f", file.to_str().expect("utf-8"), "-o", "json"]);
    run.expect_code(0);
    let doc = run.json();
    let partner = &doc["listeners"][0];
    assert_eq!(partner["name"], "partner-api");
    assert_eq!(partner["accepted_by"], serde_json::json!(["alb", "clb"]));
    let ga = &partner["rejected_by"][0];
    assert_eq!(ga["profile"], "ga");
    assert_eq!(ga["api"], "alibaba-ga");
    let r = &ga["rejections"][0];
    assert_eq!(r["vendor"], "alibaba-ga");
    assert!(
        r["field"].as_str().is_some_and(|f| f.starts_with("tls.client_auth")),
        "{r}"
    );
    assert!(r["rule"].as_str().is_some_and(|x| !x.is_empty()), "{r}");
    assert!(r["reason"].as_str().is_some_and(|x| !x.is_empty()), "{r}");
    assert_eq!(doc["listeners"][1]["rejected_by"], serde_json::json!([]));
    wire.assert_untouched();
}

#[test]
fn validate_with_a_selected_profile_that_cannot_take_a_listener_exits_2() {
    let s = Scratch::new();
    let wire = Tripwire::new();
    let text = mtls_file(&wire.url());
    let line = text
        .lines()
        .position(|l| l.starts_with("client_auth"))
        .expect("client_auth")
        + 1;
    let file = s.write("mtls.toml", &text);
    let run = s.run(&["validate", "-f", file.to_str().expect("utf-8"), "--profile", "ga"]);
    run.expect_code(2);
    assert!(
        run.stdout.contains("does not fit: ga"),
        "the report is still printed: {}",
        run.stdout
    );
    let err = run
        .stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .expect("an error line");
    assert!(err.contains(&format!("mtls.toml:{line}:")), "{err}");
    assert!(err.contains("listeners[0].tls.client_auth"), "{err}");
    assert!(err.contains("`partner-api`"), "{err}");
    // A profile that takes everything passes.
    s.run(&["validate", "-f", file.to_str().expect("utf-8"), "--profile", "alb"])
        .expect_code(0);
    wire.assert_untouched();
}

#[test]
fn plan_refuses_a_listener_the_selected_profile_cannot_take_before_any_call() {
    let s = Scratch::new();
    let wire = Tripwire::new();
    let file = s.write("mtls.toml", &mtls_file(&wire.url()));
    for cmd in ["plan", "apply"] {
        let run = s.run(&[
            cmd,
            "-f",
            file.to_str().expect("utf-8"),
            "--profile",
            "ga",
            "-o",
            "json",
        ]);
        run.expect_code(2);
        let err = run.json_error();
        assert_eq!(err["error"]["kind"], "unsupported");
        assert!(err["error"]["problems"][0]["field"]
            .as_str()
            .is_some_and(|f| f.starts_with("listeners[0].tls.client_auth")));
    }
    wire.assert_untouched();
}

#[test]
fn apply_all_profiles_skips_and_reports_what_a_profile_cannot_take() {
    let emu = Emu::start(&[
        ("tencent-clb", "lb-api000001", &[]),
        ("alibaba-alb", "alb-api0000001", &["sgp-api0000001"]),
        ("alibaba-ga", "ga-api0000001", &[]),
    ]);
    let s = Scratch::new();
    let file = s.write("mtls.toml", &mtls_file(&emu.url()));
    let run = s.run(&["apply", "-f", file.to_str().expect("utf-8"), "--all-profiles"]);
    run.expect_code(0);
    assert!(run.stdout.contains("x skipped    partner-api"), "{}", run.stdout);
    assert!(run.stdout.contains("1 skipped"), "{}", run.stdout);
    assert_eq!(emu.count("alibaba-ga", "ga-api0000001"), 1);
    assert_eq!(emu.count("alibaba-alb", "alb-api0000001"), 2);
    assert_eq!(emu.count("tencent-clb", "lb-api000001"), 2);
}

#[test]
fn capabilities_prints_the_generated_matrix() {
    let s = Scratch::new();
    let md = s.run(&["capabilities", "--markdown"]);
    md.expect_code(0);
    assert_eq!(md.stdout, cloud_listeners::capabilities_markdown());
    let json = s.run(&["capabilities", "-o", "json"]);
    json.expect_code(0);
    let apis: Vec<String> = json
        .json()
        .as_array()
        .expect("array")
        .iter()
        .map(|c| c["api"].as_str().expect("api").to_string())
        .collect();
    assert_eq!(apis, cloud_listeners::compiled_apis());
    assert_eq!(apis.len(), 4, "every adapter is compiled into listenerctl");
}

/// An access list: ALB and GA take it; GAAP (per-proxy security policy) and
/// CLB (instance security groups) refuse it at `access`.
#[test]
fn validate_reports_which_profiles_take_an_access_list() {
    let s = Scratch::new();
    let wire = Tripwire::new();
    let url = wire.url();
    let targets = "targets = { admin-servers = \"sgp-adm0000001\" }";
    let text = format!(
        "{}{}{}{}\n[[listeners]]\nname = \"admin\"\nprotocol = \"http\"\nports = 8080\n\
         forwarding = {{ default_target = \"admin-servers\" }}\n\
         access = {{ mode = \"allow\", cidrs = [\"10.0.0.0/8\", \"2001:db8::/32\"] }}\n",
        profile("alb", "alibaba-alb", "alb-adm0000001", &url, targets),
        profile("clb", "tencent-clb", "lb-adm00001", &url, targets),
        profile("ga", "alibaba-ga", "ga-adm0000001", &url, targets),
        profile("gaap", "tencent-gaap", "link-adm00001", &url, targets),
    );
    let file = s.write("access.toml", &text);
    let run = s.run(&["validate", "-f", file.to_str().expect("utf-8"), "-o", "json"]);
    run.expect_code(0);
    let doc = run.json();
    let admin = &doc["listeners"][0];
    assert_eq!(admin["accepted_by"], serde_json::json!(["alb", "ga"]));
    let refused = admin["rejected_by"].as_array().expect("rejections");
    assert_eq!(refused.len(), 2, "{admin}");
    for p in refused {
        let rejections = p["rejections"].as_array().expect("list");
        assert!(
            rejections
                .iter()
                .any(|r| r["field"] == "access" && r["reason"].as_str().is_some_and(|x| !x.is_empty())),
            "{p}"
        );
    }
    wire.assert_untouched();
}

/// A GA TCP listener with the deprecated listener-level Proxy Protocol
/// (taken, with a warning), and a CLB listener of 51 ports (one past the
/// default quota, adjustable: a warning too).
fn warned_file(endpoint: &str) -> String {
    format!(
        "{}{}\n[[listeners]]\nname = \"game\"\nprotocol = \"tcp\"\nports = 7000\n\
         client_ip = {{ mode = \"proxy_protocol\" }}\n\n\
         [[listeners]]\nname = \"many\"\nprotocol = \"udp\"\nports = {{ from = 9000, to = 9050 }}\n",
        profile("ga", "alibaba-ga", "ga-api0000001", endpoint, ""),
        profile("clb", "tencent-clb", "lb-api000001", endpoint, ""),
    )
}

#[test]
fn validate_shows_warnings_beside_the_report_without_failing() {
    let s = Scratch::new();
    let wire = Tripwire::new();
    let file = s.write("warned.toml", &warned_file(&wire.url()));
    let path = file.to_str().expect("utf-8");
    let run = s.run(&["validate", "-f", path, "--profile", "ga"]);
    run.expect_code(0);
    assert!(run.stdout.contains("warning on:   ga (alibaba-ga)"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("alibaba-ga: client_ip.mode [proxy_protocol_deprecated]"),
        "{}",
        run.stdout
    );

    let run = s.run(&["validate", "-f", path, "-o", "json"]);
    run.expect_code(0);
    let doc = run.json();
    let game = &doc["listeners"][0];
    assert_eq!(game["accepted_by"], serde_json::json!(["ga"]), "{game}");
    let ga = &game["warnings"][0];
    assert_eq!(ga["profile"], "ga");
    let w = &ga["warnings"][0];
    assert_eq!(
        (&w["vendor"], &w["field"], &w["rule"]),
        (
            &serde_json::json!("alibaba-ga"),
            &serde_json::json!("client_ip.mode"),
            &serde_json::json!("proxy_protocol_deprecated")
        )
    );
    // A range is one CLB listener: 9000-9050 is one, so no quota warning;
    // GA holds the range in one listener too.
    assert!(doc["listeners"][1].get("warnings").is_none(), "{}", doc["listeners"][1]);
    wire.assert_untouched();
}

#[test]
fn plan_shows_the_listener_quota_warning_and_still_plans() {
    let emu = Emu::start(&[("tencent-clb", "lb-api000001", &[])]);
    let s = Scratch::new();
    let text = format!(
        "{}\n[[listeners]]\nname = \"many\"\nprotocol = \"udp\"\nports = [{}]\n",
        profile("clb", "tencent-clb", "lb-api000001", &emu.url(), ""),
        (9000..9051).map(|p| p.to_string()).collect::<Vec<_>>().join(", ")
    );
    let file = s.write("many.toml", &text);
    let path = file.to_str().expect("utf-8");
    let run = s.run(&["plan", "-f", path]);
    run.expect_code(3);
    assert!(
        run.stdout
            .contains("! warning    many: tencent-clb: listeners [LimitExceeded]"),
        "{}",
        run.stdout
    );
    let run = s.run(&["plan", "-f", path, "-o", "json"]);
    run.expect_code(3);
    let doc = run.json();
    let warnings = doc["warnings"].as_array().expect("warnings in the plan document");
    assert_eq!(warnings.len(), 1, "the quota is said once, over the set: {warnings:?}");
    assert_eq!(warnings[0]["index"], 0);
    assert_eq!(warnings[0]["warning"]["field"], "listeners");
    assert_eq!(warnings[0]["warning"]["rule"], "LimitExceeded");
    assert_eq!(doc["summary"]["create"], 51, "one CLB listener per port, all planned");
}

/// Routes whose default is a vendor pool by alias: ALB forwards to it,
/// GAAP has no pool object to name, so the report says so for the GAAP
/// profile, and `plan` on it refuses before any call.
#[test]
fn routes_a_cloud_cannot_express_are_reported_and_refused_before_any_call() {
    let s = Scratch::new();
    let wire = Tripwire::new();
    let text = format!(
        "{}{}\n[backends.web]\nendpoints = [{{ address = \"10.0.0.1\", port = 8080 }}]\n\n\
         [[listeners]]\nname = \"site\"\nprotocol = \"http\"\nports = 80\n\
         forwarding = {{ default_target = \"api-servers\" }}\n\
         routes = [{{ host = \"api.example.com\", path = \"/v1\", backend = \"web\" }}]\n\n\
         [[listeners]]\nname = \"plain\"\nprotocol = \"http\"\nports = 8080\n\
         forwarding = {{ default_target = \"api-servers\" }}\n",
        profile("gaap", "tencent-gaap", "link-api00001", &wire.url(), ""),
        profile(
            "alb",
            "alibaba-alb",
            "alb-api0000001",
            &wire.url(),
            "targets = { api-servers = \"sgp-api0000001\" }"
        ),
    );
    let file = s.write("routes.toml", &text);
    let path = file.to_str().expect("utf-8");
    let run = s.run(&["validate", "-f", path]);
    run.expect_code(0);
    let out = &run.stdout;
    assert!(
        out.contains("tencent-gaap: forwarding.default_target [gaap_mapped_backend]"),
        "{out}"
    );
    assert!(out.contains("fits:         alb (alibaba-alb)"), "{out}");

    let run = s.run(&["plan", "-f", path, "--profile", "gaap", "-o", "json"]);
    run.expect_code(2);
    let err = run.json_error();
    let problems = err["error"]["problems"].as_array().expect("problems");
    assert!(
        problems
            .iter()
            .any(|p| p["field"] == "listeners[0].forwarding.default_target" && p["rule"] == "gaap_mapped_backend"),
        "{err}"
    );
    wire.assert_untouched();
}

/// Mapped pools named through `backends` (`target = ...`): where a pool's
/// endpoints live on rules (CLB, GAAP, GA), a route cannot forward to a
/// pool made elsewhere, and CLB and GAAP take no mapped default on a TCP
/// listener. `validate` reports each at the field the file wrote, for the
/// APIs that refuse it only, and `plan` refuses before any call; ALB
/// forwards rules and its default action to a mapped server group.
#[test]
fn mapped_backends_are_reported_where_pools_live_on_rules() {
    let s = Scratch::new();
    let wire = Tripwire::new();
    let targets = "targets = { legacy-servers = \"sgp-legacy00001\" }";
    let text = format!(
        "{}{}{}{}\n[backends.web]\nendpoints = [{{ address = \"10.0.0.1\", port = 8080 }}]\n\n\
         [backends.legacy]\ntarget = \"legacy-servers\"\n\n\
         [[listeners]]\nname = \"site\"\nprotocol = \"http\"\nports = 80\nbackend = \"web\"\n\
         routes = [{{ host = \"api.example.com\", path = \"/old\", backend = \"legacy\" }}]\n\n\
         [[listeners]]\nname = \"db\"\nprotocol = \"tcp\"\nports = 5432\nbackend = \"legacy\"\n",
        profile(
            "gaap",
            "tencent-gaap",
            "link-api00001",
            &wire.url(),
            "targets = { legacy-servers = \"x\" }"
        ),
        profile(
            "clb",
            "tencent-clb",
            "lb-api00001",
            &wire.url(),
            "targets = { legacy-servers = \"lbtg-legacy01\" }"
        ),
        profile("ga", "alibaba-ga", "ga-api0000001", &wire.url(), targets),
        profile("alb", "alibaba-alb", "alb-api0000001", &wire.url(), targets),
    );
    let file = s.write("mapped.toml", &text);
    let path = file.to_str().expect("utf-8");
    let run = s.run(&["validate", "-f", path]);
    run.expect_code(0);
    let out = &run.stdout;
    for api in ["tencent-gaap", "tencent-clb", "alibaba-ga"] {
        assert!(
            out.contains(&format!("{api}: routes[0].backend [mapped_backend_on_rule]")),
            "{api}: {out}"
        );
    }
    assert!(out.contains("tencent-gaap: backend [gaap_mapped_backend]"), "{out}");
    assert!(
        out.contains("tencent-clb: backends.legacy.target [mapped_backend]"),
        "{out}"
    );
    assert!(!out.contains("alibaba-ga: backend"), "GA keeps a mapped default: {out}");
    assert!(
        !out.contains("alibaba-alb: routes"),
        "ALB forwards to server groups: {out}"
    );

    for p in ["gaap", "clb", "ga"] {
        let run = s.run(&["plan", "-f", path, "--profile", p, "-o", "json"]);
        run.expect_code(2);
        let err = run.json_error();
        let problems = err["error"]["problems"].as_array().expect("problems");
        assert!(
            problems
                .iter()
                .any(|x| x["field"] == "listeners[0].routes[0].backend" && x["rule"] == "mapped_backend_on_rule"),
            "{p}: {err}"
        );
    }
    wire.assert_untouched();
}
