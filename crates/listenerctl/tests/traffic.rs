//! The traffic test: one file, several clouds, the same request reaching
//! the same backend everywhere.
//!
//! One listeners file (an HTTPS listener with two hosts, one serving its
//! own certificate, three paths and a default backend; an HTTP listener
//! forwarding to the default backend; a TCP listener with its one backend)
//! is applied with the real `listenerctl` binary to every cloud that takes
//! routes, each on the same emulator. Then a corpus of requests is resolved
//! three ways, which must agree on the endpoints (address, port, weight)
//! and, for HTTPS, on the certificate served:
//!
//! - by each emulated cloud's **own matcher** (`POST /_emulator/resolve`:
//!   CLB's domain-then-URL precedence, ALB's rule priorities, ...), over
//!   what apply left there;
//! - by `listenerctl trace -o json` on the file (the neutral semantics).
//!
//! A second `plan` finds nothing to do. Then one endpoint and one
//! certificate change in the file; apply updates in place, the corpus
//! agrees again, and the next plan is empty.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};

use common::{profile, Emu, Scratch};

/// A cloud of the test: its profile, the emulator service that resolves
/// for it, whether it takes the TCP listener.
struct Cloud {
    api: &'static str,
    instance: &'static str,
    service: &'static str,
    /// The profile's extra lines: certificate and target maps.
    maps: &'static str,
    /// Whether a layer-4 listener is something this API has.
    layer4: bool,
}

const CLOUDS: &[Cloud] = &[
    Cloud {
        api: "tencent-clb",
        instance: "lb-traffic01",
        service: "clb",
        maps: "certificates = { site-cert = \"cert-clb-site\", api-cert = \"cert-clb-api\", api-cert-2 = \"cert-clb-api2\" }",
        layer4: true,
    },
    Cloud {
        api: "alibaba-alb",
        instance: "alb-traffic00001",
        service: "alb",
        // The mapped server group tells the adapter the instance's VPC,
        // where the pools it makes go.
        maps: "certificates = { site-cert = \"10001\", api-cert = \"10002\", api-cert-2 = \"10003\" }\n\
               targets = { spare = \"sgp-traffic0001\" }",
        layer4: false,
    },
];

fn listeners(web_weights: (u32, u32), api_cert: &str) -> String {
    format!(
        r#"
[backends.web]
endpoints = [
  {{ address = "10.0.0.1", port = 8080, weight = {w1} }},
  {{ address = "10.0.0.2", port = 8080, weight = {w2} }},
]

[backends.api]
endpoints = [{{ address = "10.0.1.1", port = 9000 }}]

[backends.reports]
endpoints = [{{ address = "10.0.2.1", port = 9100, weight = 50 }}, {{ address = "10.0.2.2", port = 9100, weight = 50 }}]

[backends.static]
endpoints = [{{ address = "10.0.3.1", port = 8081 }}]

[backends.db]
endpoints = [{{ address = "10.0.9.1", port = 5432 }}]

[[listeners]]
name = "site"
protocol = "https"
ports = 443
tls = {{ certificates = ["site-cert"] }}
backend = "web"
routes = [
  {{ host = "api.example.com", path = "/v1", backend = "api", certificate = "{api_cert}" }},
  {{ host = "api.example.com", path = "/v1/reports", backend = "reports", certificate = "{api_cert}" }},
  {{ host = "www.example.com", path = "/static", backend = "static" }},
]

[[listeners]]
name = "site-http"
protocol = "http"
ports = 80
backend = "web"

[[listeners]]
name = "db"
protocol = "tcp"
ports = 5432
backend = "db"
"#,
        w1 = web_weights.0,
        w2 = web_weights.1,
    )
}

fn file(emu: &Emu, web_weights: (u32, u32), api_cert: &str) -> String {
    let mut out = String::new();
    for c in CLOUDS {
        out.push_str(&profile(c.api, c.api, c.instance, &emu.url(), c.maps));
        out.push('\n');
    }
    out.push_str(&listeners(web_weights, api_cert));
    out
}

/// `(scheme, port, host as sent, path)`: hosts with case and ports
/// written, paths on and off every prefix boundary.
fn corpus() -> Vec<(&'static str, u32, String, &'static str)> {
    let hosts = [
        "api.example.com",
        "API.Example.com",
        "api.example.com:443",
        "www.example.com",
        "WWW.example.com",
        "other.example.com",
        "example.com",
        "x.api.example.com",
    ];
    let paths = [
        "/",
        "/v1",
        "/v1/",
        "/v1/users",
        "/v1/reports",
        "/v1/reports/2026",
        "/v1/report",
        "/v1x",
        "/static",
        "/static/app.js",
        "/staticx",
        "/V1",
        "/other",
    ];
    let mut out = Vec::new();
    for h in hosts {
        for p in paths {
            out.push(("https", 443, h.to_string(), p));
        }
    }
    for (h, p) in [("www.example.com", "/"), ("api.example.com", "/v1"), ("", "/")] {
        out.push(("http", 80, h.to_string(), p));
    }
    out
}

/// Endpoints as `(address, port, weight)`, sorted.
type Endpoints = Vec<(String, u64, u64)>;

fn endpoints(list: &Value) -> Endpoints {
    let mut v: Endpoints = list
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e["address"].as_str().unwrap_or_default().to_string(),
                        e["port"].as_u64().unwrap_or_default(),
                        e["weight"].as_u64().unwrap_or(100),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The host without a port, as the emulators take it.
fn bare(host: &str) -> &str {
    host.split(':').next().unwrap_or(host)
}

/// What `listenerctl trace` says of a request: endpoints and the
/// certificate alias served.
fn trace(s: &Scratch, path: &Path, scheme: &str, host: &str, port: u32, target: &str) -> (Endpoints, Option<String>) {
    let authority = if host.contains(':') || host.is_empty() {
        if host.is_empty() {
            format!("127.0.0.1:{port}")
        } else {
            host.to_string()
        }
    } else {
        format!("{host}:{port}")
    };
    let url = format!("{scheme}://{authority}{target}");
    let run = s.run(&["trace", "-f", path.to_str().expect("utf-8"), &url, "-o", "json"]);
    run.expect_code(0);
    let v = run.json();
    (
        endpoints(&v["backend"]["endpoints"]),
        v["certificate"]["alias"].as_str().map(str::to_string),
    )
}

/// What the emulated cloud's own matcher answers.
async fn resolve(http: &reqwest::Client, emu: &str, c: &Cloud, port: u32, host: &str, path: &str) -> Value {
    http.post(format!("{emu}/_emulator/resolve"))
        .json(&json!({ "service": c.service, "instance": c.instance, "port": port, "host": bare(host), "path": path }))
        .send()
        .await
        .expect("resolve answers")
        .json()
        .await
        .expect("resolve is JSON")
}

/// The certificate ID of an emulator answer (a string, or an object with
/// an `id`).
fn served_certificate(answer: &Value) -> Option<String> {
    let c = &answer["certificate"];
    c.as_str().or_else(|| c["id"].as_str()).map(str::to_string)
}

/// A profile's certificate map, from its `maps` line.
fn certificate_ids(c: &Cloud) -> BTreeMap<String, String> {
    let file = format!("[x]\n{}\n", c.maps);
    let v: toml::Value = toml::from_str(&file).expect("maps parse");
    v["x"]["certificates"]
        .as_table()
        .map(|t| {
            t.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// Resolve the corpus on every cloud and through trace; every answer
/// must agree. Returns how many comparisons were made.
fn agree(emu: &Emu, s: &Scratch, path: &Path) -> usize {
    let corpus = corpus();
    let traced: Vec<(Endpoints, Option<String>)> = corpus
        .iter()
        .map(|(scheme, port, host, target)| trace(s, path, scheme, host, *port, target))
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let http = reqwest::Client::new();
    let url = emu.url();
    let mut compared = 0;
    rt.block_on(async {
        for c in CLOUDS {
            let certs = certificate_ids(c);
            for ((scheme, port, host, target), (want, cert)) in corpus.iter().zip(&traced) {
                let answer = resolve(&http, &url, c, *port, host, target).await;
                let got = endpoints(&answer["endpoints"]);
                assert_eq!(
                    &got, want,
                    "{}: {scheme}://{host}{target}: the cloud's matcher answered {answer}, trace {want:?}",
                    c.api
                );
                if *scheme == "https" {
                    let want_id = cert.as_ref().and_then(|a| certs.get(a)).cloned();
                    assert_eq!(
                        served_certificate(&answer),
                        want_id,
                        "{}: certificate for {host}: the cloud answered {answer}, trace {cert:?}",
                        c.api
                    );
                }
                compared += 1;
            }
            if c.layer4 {
                let answer = resolve(&http, &url, c, 5432, "", "/").await;
                assert_eq!(
                    endpoints(&answer["endpoints"]),
                    vec![("10.0.9.1".to_string(), 5432, 100)],
                    "{}: the TCP listener's backend: {answer}",
                    c.api
                );
                compared += 1;
            }
        }
    });
    compared
}

fn seeds() -> Vec<(&'static str, &'static str, &'static [&'static str])> {
    CLOUDS
        .iter()
        .map(|c| {
            let groups: &'static [&'static str] = if c.api == "alibaba-alb" {
                &["sgp-traffic0001"]
            } else {
                &[]
            };
            (c.api, c.instance, groups)
        })
        .collect()
}

#[test]
fn the_same_request_reaches_the_same_backend_on_every_cloud() {
    let emu = Emu::start(&seeds());
    let s = Scratch::new();
    let path = s.write("traffic.toml", &file(&emu, (60, 40), "api-cert"));
    let p = path.to_str().expect("utf-8");

    let apply = s.run(&["apply", "-f", p, "--all-profiles"]);
    apply.expect_code(0);
    for c in CLOUDS {
        let want = if c.layer4 { 3 } else { 2 };
        assert_eq!(emu.count(c.api, c.instance), want, "{}: {}", c.api, apply.stdout);
    }
    let compared = agree(&emu, &s, &path);
    assert!(compared >= 100 * CLOUDS.len(), "{compared} comparisons");
    let again = s.run(&["plan", "-f", p, "--all-profiles"]);
    again.expect_code(0);

    // One endpoint's weight and one certificate change: updated in place
    // (no replacement is allowed here), the corpus agrees again, and the
    // next plan is empty.
    let path = s.write("traffic.toml", &file(&emu, (70, 30), "api-cert-2"));
    let plan = s.run(&["plan", "-f", p, "--all-profiles", "-o", "json"]);
    plan.expect_code(3);
    let text = plan.stdout.clone();
    assert!(
        !text.contains("\"replace\""),
        "a change in place, not a replacement: {text}"
    );
    s.run(&["apply", "-f", p, "--all-profiles"]).expect_code(0);
    agree(&emu, &s, &path);
    s.run(&["plan", "-f", p, "--all-profiles"]).expect_code(0);
}
