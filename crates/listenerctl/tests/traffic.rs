//! The mission test, grown into a traffic test: one listeners file (an HTTP
//! listener that forwards; an HTTPS listener with two hosts, one with its
//! own certificate, mutual TLS, three paths and a default backend, second
//! so that it is not its run's first create; a TCP listener) is applied by the `listenerctl` binary to GAAP, CLB, ALB and
//! GA on one emulator. Then a corpus of requests is answered twice per
//! cloud: by the emulated cloud's own matcher (`POST /_emulator/resolve`,
//! each vendor's matching rules, reading what the adapters created) and by
//! `listenerctl trace --profile P` (the neutral semantics of
//! docs/routing.md, from the file alone). Endpoints and the certificate
//! served must agree on every request, on every cloud.
//!
//! Then one backend endpoint and one certificate change in the file: the
//! plan is in-place updates only, apply carries them out, the corpus agrees
//! again and a second plan is empty.
//!
//! GA has no mutual TLS and ALB no TCP listener: the file is refused for
//! those profiles before any call, naming the field; they take the same
//! file without `tls.client_auth` or the TCP listener. CLB, whose host
//! certificates switch SNI on, verifies clients on every domain: the test
//! reads the emulated CLB's domains to see each one `MUTUAL` with the CA.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{profile, Emu, Scratch};
use serde_json::Value;

/// One cloud the file goes to.
struct Cloud {
    /// The profile's name in the file.
    profile: &'static str,
    api: &'static str,
    instance: &'static str,
    /// The emulator's service name for resolve.
    service: &'static str,
    /// What the cloud cannot take of the whole file: the fields its
    /// refusal names (before any call). The cloud then takes the file
    /// without those parts.
    refuses: &'static [Refused],
}

const CLOUDS: [Cloud; 4] = [
    Cloud {
        profile: "gaap",
        api: "tencent-gaap",
        instance: "link-traffic1",
        service: "gaap",
        refuses: &[],
    },
    Cloud {
        profile: "clb",
        api: "tencent-clb",
        instance: "lb-traffic1",
        service: "clb",
        // CLB verifies clients per domain once SNI is on (route
        // certificates): every domain carries the listener's client CA.
        refuses: &[],
    },
    Cloud {
        profile: "alb",
        api: "alibaba-alb",
        instance: "alb-traffic00001",
        service: "alb",
        // ALB is layer 7 only.
        refuses: &[Refused::Tcp("listeners[2].protocol")],
    },
    Cloud {
        profile: "ga",
        api: "alibaba-ga",
        instance: "ga-traffic00001",
        service: "ga",
        // GA has no mutual TLS.
        refuses: &[Refused::MutualTls("listeners[1].tls.client_auth")],
    },
];

/// A part of the file a cloud refuses, with the field the refusal names.
#[derive(Clone, Copy)]
enum Refused {
    /// `tls.client_auth` on the HTTPS listener.
    MutualTls(&'static str),
    /// The TCP listener.
    Tcp(&'static str),
}

impl Refused {
    fn field(self) -> &'static str {
        match self {
            Refused::MutualTls(f) | Refused::Tcp(f) => f,
        }
    }
}

/// The parts of the file a cloud gets.
#[derive(Clone, Copy)]
struct Parts {
    mutual_tls: bool,
    tcp: bool,
}

impl Parts {
    const ALL: Parts = Parts {
        mutual_tls: true,
        tcp: true,
    };

    fn of(cloud: &Cloud) -> Parts {
        let mut p = Parts::ALL;
        for r in cloud.refuses {
            match r {
                Refused::MutualTls(_) => p.mutual_tls = false,
                Refused::Tcp(_) => p.tcp = false,
            }
        }
        p
    }

    fn name(self) -> String {
        format!(
            "traffic-tls{}-tcp{}.toml",
            u8::from(self.mutual_tls),
            u8::from(self.tcp)
        )
    }
}

/// Which state of the file: as first applied, or with one endpoint and
/// one certificate changed.
#[derive(Clone, Copy, PartialEq)]
enum Phase {
    First,
    Changed,
}

/// The certificate IDs of `cloud` for the file's aliases. The emulated ALB
/// keeps no certificate store, so its IDs carry the names they cover after
/// an `@` (docs/emulator.md); the others know a certificate's host from the
/// domain it is attached to.
fn certificates(cloud: &Cloud, phase: Phase) -> String {
    let api_cert = match phase {
        Phase::First => "cert-api1",
        Phase::Changed => "cert-api2",
    };
    let api_cert = if cloud.service == "alb" {
        format!("{api_cert}@api.example.com")
    } else {
        api_cert.to_string()
    };
    format!("certificates = {{ site = \"cert-site\", api-cert = \"{api_cert}\", clients = \"ca-clients\" }}\n")
}

/// The whole file: every cloud's profile, the backends and the three
/// listeners, less what `parts` leaves out.
fn file(url: &str, phase: Phase, parts: Parts) -> String {
    let mut text = String::new();
    for c in &CLOUDS {
        let extra = certificates(c, phase);
        text.push_str(&profile(c.profile, c.api, c.instance, url, &extra));
        text.push('\n');
    }
    let second_web = match phase {
        Phase::First => "10.0.0.2",
        Phase::Changed => "10.0.0.3",
    };
    text.push_str(&format!(
        r#"
[backends.web]
endpoints = [
  {{ address = "10.0.0.1", port = 8080, weight = 60 }},
  {{ address = "{second_web}", port = 8080, weight = 40 }},
]

[backends.api]
endpoints = [{{ address = "10.0.1.1", port = 9000 }}, {{ address = "10.0.1.2", port = 9000, weight = 50 }}]

[backends.static]
endpoints = [{{ address = "10.0.2.1", port = 8081 }}]

[backends.db]
endpoints = [{{ address = "10.0.3.1", port = 5432, weight = 70 }}, {{ address = "10.0.3.2", port = 5432, weight = 30 }}]
"#
    ));
    let client_auth = if parts.mutual_tls {
        ", client_auth = { ca_certificates = [\"clients\"] }"
    } else {
        ""
    };
    text.push_str(&format!(
        r#"
[[listeners]]
name = "plain"
protocol = "http"
ports = 80
backend = "web"
routes = [
  {{ host = "www.example.com", path = "/static", backend = "static" }},
  {{ host = "api.example.com", path = "/v1", backend = "api" }},
]

[[listeners]]
name = "site"
protocol = "https"
ports = 443
tls = {{ certificates = ["site"]{client_auth} }}
forwarding = {{ backend_protocol = "http" }}
backend = "web"
routes = [
  {{ host = "api.example.com", path = "/v1", backend = "api", certificate = "api-cert" }},
  {{ host = "api.example.com", path = "/v1/reports", backend = "static", certificate = "api-cert" }},
  {{ host = "www.example.com", path = "/static", backend = "static" }},
]
"#
    ));
    if parts.tcp {
        text.push_str("\n[[listeners]]\nname = \"db\"\nprotocol = \"tcp\"\nports = 5432\nbackend = \"db\"\n");
    }
    text
}

/// Hosts and paths of the corpus: exact matches, other cases, ports in the
/// Host header, near misses of every prefix, hosts no route names.
const HOSTS: [&str; 5] = [
    "api.example.com",
    "API.Example.com",
    "www.example.com",
    "shop.example.com",
    "example.org",
];
const PATHS: [&str; 12] = [
    "/",
    "/v1",
    "/v1/",
    "/v1x",
    "/v1/users",
    "/v1/reports",
    "/v1/reports/2026",
    "/v1/report",
    "/static",
    "/static/app.css",
    "/staticx",
    "/V1",
];

/// One request of the corpus: scheme, port, host, path.
struct Request {
    scheme: &'static str,
    port: u32,
    host: &'static str,
    path: &'static str,
}

fn corpus(tcp: bool) -> Vec<Request> {
    let mut out = Vec::new();
    for (scheme, port) in [("https", 443), ("http", 80)] {
        for host in HOSTS {
            for path in PATHS {
                out.push(Request {
                    scheme,
                    port,
                    host,
                    path,
                });
            }
        }
    }
    // The TCP listener: any connection to port 5432.
    if !tcp {
        return out;
    }
    out.push(Request {
        scheme: "http",
        port: 5432,
        host: "db.example.com",
        path: "/",
    });
    out
}

type Endpoints = Vec<(String, u64, u64)>;

fn endpoints(list: &Value) -> Endpoints {
    let mut e: Endpoints = list
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["address"].as_str().unwrap_or_default().to_string(),
                e["port"].as_u64().unwrap_or_default(),
                e["weight"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    e.sort();
    e
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Every request of the corpus on `cloud`: the emulated cloud and `trace`
/// agree on the endpoints and on the certificate, and so does `trace
/// --live` on every sixth. Returns how many answers were compared and how
/// many distinct answers the corpus gave (so a corpus that collapses into
/// one answer is noticed).
fn agree(emu: &Emu, s: &Scratch, file: &Path, cloud: &Cloud) -> (usize, usize) {
    let tcp = Parts::of(cloud).tcp;
    let mut bad = Vec::new();
    let mut answers = BTreeSet::new();
    let (mut n, mut lived) = (0, 0);
    let requests = corpus(tcp);
    for r in &requests {
        let url = if r.port == 443 || r.port == 80 {
            format!("{}://{}{}", r.scheme, r.host, r.path)
        } else {
            format!("{}://{}:{}{}", r.scheme, r.host, r.port, r.path)
        };
        let traced = trace(s, file, cloud, &url, false);
        traced.expect_code(0);
        let traced = traced.json();
        let want = endpoints(&traced["backend"]["endpoints"]);
        let want_cert = traced["certificate"]["id"].as_str().map(str::to_string);

        // A layer-4 listener sees no host or path.
        let (host, req_path) = if r.port == 5432 { ("", "/") } else { (r.host, r.path) };
        let answer = emu.resolve(cloud.service, cloud.instance, r.port, host, req_path);
        let got = endpoints(&answer["endpoints"]);
        let got_cert = answer["certificate"].as_str().map(str::to_string);
        assert!(
            answer.get("error").is_none(),
            "{}: {url}: the emulated cloud answered {answer}",
            cloud.api
        );
        if want.is_empty() {
            bad.push(format!("{url}: trace names no endpoints: {traced}"));
        }
        if got != want {
            bad.push(format!(
                "{url}: endpoints differ: cloud {got:?} (rule {}), trace {want:?} (route {})",
                answer["rule"], traced["route"]["field"]
            ));
        }
        // Where the cloud says which client CA a handshake demands (CLB,
        // per domain once SNI is on), every HTTPS request demands the
        // file's.
        if cloud.service == "clb" && r.scheme == "https" && answer["client_ca"] != "ca-clients" {
            bad.push(format!(
                "{url}: CLB demands client CA {}, not the file's",
                answer["client_ca"]
            ));
        }
        if r.scheme == "https" && want_cert.is_none() {
            bad.push(format!("{url}: trace names no certificate ID: {traced}"));
        }
        if r.scheme == "https" && got_cert != want_cert {
            bad.push(format!(
                "{url}: certificate differs: cloud {got_cert:?}, trace {want_cert:?}"
            ));
        }
        answers.insert(format!("{want:?}/{want_cert:?}"));
        // Every sixth request also with `--live`: what the adapter reads
        // back answers as the cloud's own matcher does, and as the file.
        if n % LIVE_EVERY == 0 {
            let live = trace(s, file, cloud, &url, true);
            let doc = live.json();
            let l = &doc["live"];
            if live.code != 0 || l["agrees"] != true {
                bad.push(format!("{url}: trace --live exited {}: {l}", live.code));
            }
            if endpoints(&l["endpoints"]) != got {
                bad.push(format!("{url}: trace --live endpoints {l}, the cloud's {got:?}"));
            }
            if r.scheme == "https" && l["certificate_id"].as_str().map(str::to_string) != got_cert {
                bad.push(format!("{url}: trace --live certificate {l}, the cloud's {got_cert:?}"));
            }
            lived += 1;
        }
        n += 1;
    }
    assert!(
        bad.is_empty(),
        "{}: {} of {} requests disagree:\n{}",
        cloud.api,
        bad.len(),
        requests.len(),
        bad.join("\n")
    );
    assert!(lived >= 20, "{}: {lived} requests traced live", cloud.api);
    (requests.len() + lived, answers.len())
}

/// `listenerctl trace` of `url` for `cloud`'s profile, as JSON; `live`
/// adds `--live`.
fn trace(s: &Scratch, file: &Path, cloud: &Cloud, url: &str, live: bool) -> common::Run {
    let mut args = vec!["trace", "-f", path(file), "--profile", cloud.profile, url, "-o", "json"];
    if live {
        args.insert(1, "--live");
    }
    s.run(&args)
}

/// One in this many corpus requests is also traced with `--live`.
const LIVE_EVERY: usize = 6;

/// `plan -o json` for `cloud`, with its exit code.
fn plan(s: &Scratch, file: &Path, cloud: &Cloud) -> (i32, Value) {
    let run = s.run(&["plan", "-f", path(file), "--profile", cloud.profile, "-o", "json"]);
    assert!(
        run.code == 0 || run.code == 3,
        "{}: plan exited {}\n{}\n{}",
        cloud.api,
        run.code,
        run.stdout,
        run.stderr
    );
    (run.code, run.json())
}

/// The (kind, action) pairs of a plan document, listeners and resources.
fn actions(doc: &Value) -> Vec<(String, String)> {
    let listeners = doc["actions"].as_array().into_iter().flatten().map(|a| {
        (
            "listener".to_string(),
            a["action"].as_str().unwrap_or_default().to_string(),
        )
    });
    let resources = doc["resources"].as_array().into_iter().flatten().map(|r| {
        (
            r["kind"].as_str().unwrap_or_default().to_string(),
            r["action"].as_str().unwrap_or_default().to_string(),
        )
    });
    listeners.chain(resources).collect()
}

#[test]
fn one_file_carries_the_same_traffic_on_all_four_clouds() {
    // No server groups seeded: ALB learns its instance's VPC from
    // GetLoadBalancerAttribute, so the file maps no target.
    let seeds: Vec<(&str, &str, &[&str])> = CLOUDS.iter().map(|c| (c.api, c.instance, &[][..])).collect();
    let emu = Emu::start(&seeds);
    let s = Scratch::new();
    let url = emu.url();
    let write = |phase: Phase, parts: Parts| s.write(&parts.name(), &file(&url, phase, parts));

    // What a cloud cannot take is refused for its profile before any
    // call, naming each field.
    let whole = write(Phase::First, Parts::ALL);
    for c in CLOUDS.iter().filter(|c| !c.refuses.is_empty()) {
        let refused = s.run(&["plan", "-f", path(&whole), "--profile", c.profile, "-o", "json"]);
        refused.expect_code(2);
        let err = refused.json_error().to_string();
        for r in c.refuses {
            assert!(err.contains(r.field()), "{}: {} not named: {err}", c.api, r.field());
        }
        assert!(err.contains(c.api), "{err}");
        assert_eq!(emu.count(c.api, c.instance), 0, "nothing reached {}", c.api);
    }

    // First apply on every cloud, then the corpus.
    let mut total = 0;
    for c in &CLOUDS {
        let parts = Parts::of(c);
        let f = write(Phase::First, parts);
        let listeners = 2 + usize::from(parts.tcp);
        s.run(&["apply", "-f", path(&f), "--profile", c.profile]).expect_code(0);
        assert_eq!(emu.count(c.api, c.instance), listeners, "{}", c.api);
        let (n, distinct) = agree(&emu, &s, &f, c);
        assert!(n >= 100, "{}: {n} requests", c.api);
        assert!(distinct >= 5, "{}: the corpus reaches only {distinct} answers", c.api);
        total += n;
        let (code, doc) = plan(&s, &f, c);
        assert_eq!(code, 0, "{}: a second plan is empty: {doc}", c.api);
    }

    // One endpoint and one certificate change: updates in place only.
    for c in &CLOUDS {
        let parts = Parts::of(c);
        let f = write(Phase::Changed, parts);
        // Before the apply the cloud still sends the default backend's
        // requests to the old endpoint: `trace --live` says so, exit 3.
        let before = trace(&s, &f, c, "https://shop.example.com/", true);
        before.expect_code(3);
        let doc = before.json();
        assert_eq!(doc["live"]["agrees"], false, "{doc}");
        let differences = doc["live"]["differences"].to_string();
        assert!(differences.contains("10.0.0.2:8080"), "{}: {differences}", c.api);
        let (code, doc) = plan(&s, &f, c);
        assert_eq!(code, 3, "{}: the change is planned", c.api);
        let acts = actions(&doc);
        assert!(
            acts.iter().all(|(_, a)| a == "update" || a == "unchanged"),
            "{}: only in-place updates: {acts:?}\n{doc}",
            c.api
        );
        assert!(acts.iter().any(|(_, a)| a == "update"), "{}: {acts:?}", c.api);
        s.run(&["apply", "-f", path(&f), "--profile", c.profile]).expect_code(0);
        assert_eq!(
            emu.count(c.api, c.instance),
            2 + usize::from(parts.tcp),
            "{}: the same listeners",
            c.api
        );
        let (n, _) = agree(&emu, &s, &f, c);
        total += n;
        let (code, doc) = plan(&s, &f, c);
        assert_eq!(code, 0, "{}: a second plan after the change is empty: {doc}", c.api);
        assert_eq!(doc["has_changes"], false);
    }
    println!("traffic: {total} requests compared over four clouds, before and after the change");
}
