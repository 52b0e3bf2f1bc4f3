//! `listenerctl trace`: which listener, route, backend and endpoints a
//! request reaches, from the file alone, as text and as JSON. Sends nothing.

mod common;

use common::Scratch;

const FILE: &str = r#"
[profiles.alb]
api = "alibaba-alb"
region = "cn-hangzhou"
instance = "alb-trace000001"
certificates = { site = "cert-site", api-cert = "cert-api" }
targets = { legacy-servers = "sgp-legacy" }

[backends.web]
endpoints = [
  { address = "10.0.0.1", port = 8080, weight = 60 },
  { address = "10.0.0.2", port = 8080, weight = 40 },
]

[backends.api]
endpoints = [{ address = "10.0.1.1", port = 9000 }]

[backends.legacy]
target = "legacy-servers"

[[listeners]]
name = "site"
protocol = "https"
ports = 443
tls = { certificates = ["site"] }
backend = "web"
routes = [
  { host = "api.example.com", path = "/v1", backend = "api", certificate = "api-cert" },
  { host = "api.example.com", path = "/v1/old", backend = "legacy" },
  { host = "*.example.com", path = "/static", backend = "legacy" },
]

[[listeners]]
name = "db"
protocol = "tcp"
ports = 5432
forwarding = { default_target = "legacy-servers" }
"#;

fn json(s: &Scratch, file: &str, url: &str) -> serde_json::Value {
    let run = s.run(&["trace", "-f", file, url, "-o", "json"]);
    run.expect_code(0);
    run.json()
}

#[test]
fn trace_names_listener_route_backend_and_endpoints() {
    let s = Scratch::new();
    let path = s.write("routes.toml", FILE);
    let file = path.to_str().expect("utf-8");

    let t = json(&s, file, "https://API.example.com/v1/users?page=2");
    assert_eq!(t["listener"]["name"], "site");
    assert_eq!(t["listener"]["port"], 443);
    assert_eq!(t["route"]["field"], "listeners[0].routes[0]");
    assert_eq!(t["backend"]["kind"], "backend");
    assert_eq!(t["backend"]["name"], "api");
    assert_eq!(t["backend"]["default"], false);
    assert_eq!(t["backend"]["endpoints"][0]["address"], "10.0.1.1");
    assert_eq!(t["backend"]["endpoints"][0]["weight"], 100);
    assert_eq!(t["certificate"]["alias"], "api-cert");
    assert_eq!(t["certificate"]["from"], "route");

    // The longest prefix wins; a mapped backend names its target alias.
    let t = json(&s, file, "https://api.example.com/v1/old/x");
    assert_eq!(t["route"]["index"], 1);
    assert_eq!(t["backend"]["target"], "legacy-servers");

    // A matched host with no matching path goes to the default backend,
    // not to the wildcard host's routes.
    let t = json(&s, file, "https://api.example.com/static/a.css");
    assert!(t["route"].is_null(), "{t}");
    assert_eq!(t["backend"]["name"], "web");
    assert_eq!(t["backend"]["default"], true);
    assert_eq!(t["backend"]["endpoints"].as_array().map(Vec::len), Some(2));
    // The certificate follows the host (SNI), not the route.
    assert_eq!(t["certificate"]["alias"], "api-cert");
    let t = json(&s, file, "https://www.example.com/");
    assert_eq!(t["certificate"]["from"], "listener");

    let t = json(&s, file, "https://cdn.example.com/static/a.css");
    assert_eq!(t["route"]["field"], "listeners[0].routes[2]");

    // A layer-4 listener takes every connection to its default target.
    let t = json(&s, file, "http://db.example.com:5432/");
    assert_eq!(t["listener"]["name"], "db");
    assert!(t["route"].is_null());
    assert_eq!(t["backend"]["kind"], "target");
    assert_eq!(t["backend"]["target"], "legacy-servers");
}

#[test]
fn trace_text_reads_as_a_path_from_port_to_endpoints() {
    let s = Scratch::new();
    let path = s.write("routes.toml", FILE);
    let run = s.run(&["trace", "-f", path.to_str().expect("utf-8"), "https://www.example.com/"]);
    run.expect_code(0);
    let out = &run.stdout;
    assert!(
        out.contains("listener     site (listeners[0], https port 443)"),
        "{out}"
    );
    assert!(out.contains("none matched: the default backend takes it"), "{out}");
    assert!(out.contains("backend      web (inline pool)"), "{out}");
    assert!(out.contains("endpoint     10.0.0.1:8080 weight 60"), "{out}");
}

#[test]
fn with_a_profile_trace_shows_ids_and_what_the_api_refuses() {
    let s = Scratch::new();
    let path = s.write("routes.toml", FILE);
    let file = path.to_str().expect("utf-8");
    let run = s.run(&[
        "trace",
        "-f",
        file,
        "--profile",
        "alb",
        "https://api.example.com/v1/old",
        "-o",
        "json",
    ]);
    run.expect_code(0);
    let t = run.json();
    assert_eq!(t["profile"], "alb");
    assert_eq!(t["backend"]["target_id"], "sgp-legacy");
    // ALB expresses this listener whole: an exact host under a wildcard,
    // a host certificate, the default backend by pool name.
    assert!(t["refused"].as_array().is_none_or(Vec::is_empty), "{t}");
    // It refuses a layer-4 listener, and says so.
    let run = s.run(&["trace", "-f", file, "--profile", "alb", "http://db.example.com:5432/"]);
    run.expect_code(0);
    assert!(
        run.stdout.contains("profile      alb would refuse this listener"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("protocol"), "{}", run.stdout);
}

#[test]
fn a_url_no_listener_serves_is_an_input_error() {
    let s = Scratch::new();
    let path = s.write("routes.toml", FILE);
    let file = path.to_str().expect("utf-8");
    let run = s.run(&["trace", "-f", file, "http://www.example.com/", "-o", "json"]);
    run.expect_code(2);
    let err = run.json_error();
    assert_eq!(err["error"]["kind"], "no_listener");
    assert_eq!(err["error"]["problems"][0]["rule"], "no_listener");
    let message = err["error"]["problems"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("port 80") && message.contains("https 443 (site)"),
        "{message}"
    );

    let run = s.run(&["trace", "-f", file, "http://www.example.com:443/", "-o", "json"]);
    run.expect_code(2);
    assert_eq!(run.json_error()["error"]["problems"][0]["rule"], "scheme_mismatch");

    let run = s.run(&["trace", "-f", file, "www.example.com/"]);
    run.expect_code(2);
    assert!(run.stderr.contains("not a URL"), "{}", run.stderr);
}
