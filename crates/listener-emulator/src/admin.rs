//! The admin surface under `/_emulator/`, on the same port as the APIs.
//!
//! Tests that start the emulator in-process use the handle; the binary's
//! users (their CI, our CLI tests) only have HTTP. These endpoints give
//! them the same three powers: read the state, change the faults, seed
//! instances. They are unauthenticated on purpose (the emulator holds no
//! real data) and live outside `/`, so no API client reaches them by
//! accident.
//!
//! | method and path | does |
//! |---|---|
//! | `GET /_emulator/state` | services with family, version and listener counts per instance |
//! | `GET /_emulator/faults` | fault counters, remaining scripted rules, random settings |
//! | `POST /_emulator/faults` | replaces rules and random faults (body: [`FaultsSpec`] JSON) |
//! | `GET /_emulator/requests` | requests per API and action: `{api: {action: {"requests", "throttled", "errors"}}}` |
//! | `POST /_emulator/seed` | seeds an instance: `{"service": "tencent-gaap", "id": "link-1", "server_groups": []}` |
//! | `POST /_emulator/resolve` | where a request would go, by the service's own matching: `{"service": "alb", "instance": "alb-1", "port": 443, "host": "a.example.com", "path": "/api"}` (dispatched to [`Service::resolve`](crate::service::Service::resolve)); ALB answers `listener`, `rule`, `server_groups`, `endpoints` and, on HTTPS, the `certificate` served for the host (by SNI) |

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::config::{FaultRuleSpec, FaultsSpec, RandomFaultsSpec};
use crate::envelope::{admin_json, Body};
use crate::server::Shared;
use crate::service::{InstanceSeed, ResolveQuery};

/// Admin bodies are small JSON documents.
const MAX_ADMIN_BODY: usize = 1024 * 1024;

pub(crate) async fn handle(shared: &Shared, req: Request<Incoming>) -> Response<Body> {
    let path = req.uri().path().trim_end_matches('/').to_string();
    let method = req.method().clone();
    match (method, path.as_str()) {
        (Method::GET, "/_emulator/state") => admin_json(StatusCode::OK, &state(shared)),
        (Method::GET, "/_emulator/faults") => admin_json(StatusCode::OK, &faults(shared)),
        (Method::GET, "/_emulator/requests") => admin_json(StatusCode::OK, &json!(shared.requests.snapshot())),
        (Method::POST, "/_emulator/faults") => match read_json::<FaultsSpec>(req).await {
            Ok(spec) => replace_faults(shared, spec),
            Err(message) => bad_request(&message),
        },
        (Method::POST, "/_emulator/seed") => match read_json::<SeedRequest>(req).await {
            Ok(seed) => {
                let instance = InstanceSeed {
                    id: seed.id,
                    server_groups: seed.server_groups,
                };
                match shared.seed(&seed.service, instance) {
                    Ok(()) => admin_json(StatusCode::OK, &state(shared)),
                    Err(e) => admin_json(StatusCode::NOT_FOUND, &json!({ "error": e.to_string() })),
                }
            }
            Err(message) => bad_request(&message),
        },
        (Method::POST, "/_emulator/resolve") => match read_json::<ResolveRequest>(req).await {
            Ok(q) => resolve(shared, q),
            Err(message) => bad_request(&message),
        },
        (
            _,
            "/_emulator/state" | "/_emulator/faults" | "/_emulator/seed" | "/_emulator/requests" | "/_emulator/resolve",
        ) => admin_json(
            StatusCode::METHOD_NOT_ALLOWED,
            &json!({ "error": "method not allowed on this admin endpoint" }),
        ),
        _ => admin_json(
            StatusCode::NOT_FOUND,
            &json!({ "error": "unknown admin endpoint; see /_emulator/state, /_emulator/faults, /_emulator/requests, /_emulator/seed, /_emulator/resolve" }),
        ),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedRequest {
    service: String,
    id: String,
    #[serde(default)]
    server_groups: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResolveRequest {
    service: String,
    instance: String,
    port: u32,
    #[serde(default)]
    host: String,
    #[serde(default = "root_path")]
    path: String,
}

fn root_path() -> String {
    "/".into()
}

/// `POST /_emulator/resolve`: the `service` named answers by its own
/// matching ([`Service::resolve`](crate::service::Service::resolve)).
fn resolve(shared: &Shared, q: ResolveRequest) -> Response<Body> {
    let Some(service) = shared.registry.find(&q.service) else {
        return admin_json(
            StatusCode::NOT_FOUND,
            &json!({ "error": format!("unknown service `{}`", q.service) }),
        );
    };
    let query = ResolveQuery {
        instance: q.instance,
        port: q.port,
        host: q.host,
        path: q.path,
    };
    match service.resolve(&query, std::time::Instant::now()) {
        None => admin_json(
            StatusCode::NOT_FOUND,
            &json!({ "error": format!("service `{}` does not resolve requests", q.service) }),
        ),
        Some(Ok(answer)) => admin_json(StatusCode::OK, &answer),
        Some(Err(e)) => admin_json(
            StatusCode::from_u16(e.http_status).unwrap_or(StatusCode::BAD_REQUEST),
            &json!({ "error": e.message, "code": e.code }),
        ),
    }
}

fn bad_request(message: &str) -> Response<Body> {
    admin_json(StatusCode::BAD_REQUEST, &json!({ "error": message }))
}

async fn read_json<T: serde::de::DeserializeOwned>(req: Request<Incoming>) -> Result<T, String> {
    let bytes: Bytes = Limited::new(req.into_body(), MAX_ADMIN_BODY)
        .collect()
        .await
        .map_err(|e| format!("cannot read the body: {e}"))?
        .to_bytes();
    serde_json::from_slice(&bytes).map_err(|e| format!("invalid JSON body: {e}"))
}

fn state(shared: &Shared) -> Value {
    let services: Vec<Value> = shared
        .registry
        .all()
        .iter()
        .map(|s| {
            let counts = s.listener_counts();
            let total: usize = counts.values().sum();
            json!({
                "name": s.name(),
                "api": s.family().api_name(s.name()),
                "family": s.family().as_str(),
                "version": s.version(),
                "listeners": counts,
                "total_listeners": total,
            })
        })
        .collect();
    json!({
        "services": services,
        "verify_signatures": shared.verifier.enabled,
        "rate_limits_enabled": shared.limiter.limits().enabled,
    })
}

fn faults(shared: &Shared) -> Value {
    let rules: Vec<FaultRuleSpec> = shared.faults.rules().iter().map(FaultRuleSpec::from).collect();
    let random = shared.faults.random().as_ref().map(RandomFaultsSpec::from);
    json!({
        "counts": shared.faults.counts(),
        "rules": rules,
        "random": random,
    })
}

fn replace_faults(shared: &Shared, spec: FaultsSpec) -> Response<Body> {
    let reset = spec.reset_counts;
    let (rules, random) = match spec.into_runtime() {
        Ok(parsed) => parsed,
        Err(message) => return bad_request(&message),
    };
    if let Err(message) = shared.faults.set_random(random) {
        return bad_request(&message);
    }
    shared.faults.set_rules(rules);
    if reset {
        shared.faults.reset_counts();
    }
    admin_json(StatusCode::OK, &faults(shared))
}

/// The endpoints of an answer of `POST /_emulator/resolve` as (address,
/// port, weight), sorted: the form tests compare with the neutral
/// semantics (`listener_core::routing`). No `endpoints` reads as none.
pub fn resolved_endpoints(answer: &Value) -> Vec<(String, u64, u64)> {
    let mut v: Vec<(String, u64, u64)> = answer["endpoints"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["address"].as_str().unwrap_or("").to_string(),
                e["port"].as_u64().unwrap_or(0),
                e["weight"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    v.sort();
    v
}
