//! Every spec path a provider's capabilities name (immutable after
//! creation, never read back) must exist in the spec. A misspelt path
//! (`tls.client-auth`) would silently classify nothing: a change to an
//! immutable field would be sent as an update, drift would be reported on a
//! field the vendor never returns. The spec below sets every field, written
//! as struct literals without `..`, so a field added to the spec must be
//! added here too or this test does not compile.

use cloud_listeners::{
    all_capabilities, Access, AccessMode, AffinityKey, BackendProtocol, ClientAuth, ClientIp, ClientIpMode,
    ClientVerify, CustomHealthCheck, Extensions, ForwardedForMode, ForwardedHeaders, Forwarding, HealthCheck,
    HealthCheckKind, HttpHealthCheck, HttpMethod, ListenerSpec, Ports, Protocol, Route, Scheduler, SessionPersistence,
    Timeouts, Tls,
};
use serde_json::Value;

fn fully_populated() -> ListenerSpec {
    ListenerSpec {
        name: "web".into(),
        description: Some("every field set".into()),
        protocol: Protocol::Https,
        ports: Ports::Single(443),
        tls: Some(Tls {
            certificates: vec!["site".into()],
            policy: Some("tls-1-2".into()),
            http2: Some(true),
            http3: Some(true),
            sni: Some(true),
            client_auth: Some(ClientAuth {
                verify: ClientVerify::Required,
                ca_certificates: vec!["ca".into()],
            }),
        }),
        forwarding: Some(Forwarding {
            backend_protocol: Some(BackendProtocol::Http),
            default_target: Some("pool".into()),
        }),
        // Not valid beside `forwarding.default_target` (one default per
        // listener); here every field only has to exist.
        backend: Some("web-pool".into()),
        routes: vec![Route {
            host: "api.example.com".into(),
            path: "/v1".into(),
            certificate: Some("api-cert".into()),
            backend: "api-pool".into(),
        }],
        health_check: Some(HealthCheck {
            enabled: true,
            kind: Some(HealthCheckKind::Tcp),
            interval_secs: Some(5),
            timeout_secs: Some(2),
            healthy_threshold: Some(3),
            unhealthy_threshold: Some(3),
            port: Some(8080),
            http: Some(HttpHealthCheck {
                path: Some("/health".into()),
                domain: Some("example.com".into()),
                method: Some(HttpMethod::Head),
                healthy_status_classes: vec![2],
            }),
            custom: Some(CustomHealthCheck {
                send: Some("ping".into()),
                expect: Some("pong".into()),
            }),
        }),
        scheduler: Some(Scheduler::RoundRobin),
        session_persistence: Some(SessionPersistence {
            by: AffinityKey::SourceIp,
            timeout_secs: Some(300),
        }),
        timeouts: Some(Timeouts {
            idle_secs: Some(60),
            request_secs: Some(60),
        }),
        client_ip: Some(ClientIp {
            mode: ClientIpMode::None,
            headers: Some(ForwardedHeaders {
                x_forwarded_for: Some(true),
                x_forwarded_for_mode: Some(ForwardedForMode::Append),
                x_forwarded_proto: Some(true),
                x_forwarded_port: Some(true),
                x_forwarded_host: Some(true),
                x_real_ip: Some(true),
                client_source_port: Some(true),
            }),
        }),
        tags: [("team".to_string(), "web".to_string())].into_iter().collect(),
        enabled: Some(true),
        access: Some(Access {
            mode: AccessMode::Allow,
            cidrs: vec!["10.0.0.0/8".into()],
        }),
        extensions: Extensions::default(),
    }
}

/// Whether a dotted path (`tls.client_auth.verify`, `routes[0].host`)
/// names a value in `json`.
fn resolves(json: &Value, path: &str) -> bool {
    path.split('.')
        .try_fold(json, |v, key| match key.split_once('[') {
            Some((name, index)) => {
                let i: usize = index.trim_end_matches(']').parse().ok()?;
                v.get(name)?.get(i)
            }
            None => v.get(key),
        })
        .is_some()
}

#[test]
fn every_capability_path_exists_in_a_fully_populated_spec() {
    let spec = serde_json::to_value(fully_populated()).expect("a spec serializes");
    let caps = all_capabilities();
    assert_eq!(caps.len(), 4, "all four adapters are compiled into the tests");
    let mut checked = 0;
    for c in &caps {
        for (list, paths) in [
            ("immutable_fields", c.immutable_fields),
            ("write_only_fields", c.write_only_fields),
        ] {
            for path in paths {
                checked += 1;
                // An extension section is the adapter's own and free-form in
                // the neutral spec: the path must name that section.
                if let Some(rest) = path.strip_prefix("extensions.") {
                    let (section, key) = rest.split_once('.').unwrap_or((rest, ""));
                    assert_eq!(
                        section, c.api,
                        "{}: {list} names another adapter's section: {path}",
                        c.api
                    );
                    assert!(
                        !key.is_empty(),
                        "{}: {list} names a whole extension section: {path}",
                        c.api
                    );
                    continue;
                }
                assert!(
                    resolves(&spec, path),
                    "{}: {list} names `{path}`, which the spec has not",
                    c.api
                );
            }
        }
    }
    assert!(checked > 0);
}

#[test]
fn a_misspelt_path_does_not_resolve() {
    let spec = serde_json::to_value(fully_populated()).expect("a spec serializes");
    assert!(resolves(&spec, "tls.client_auth.verify"));
    assert!(!resolves(&spec, "tls.client-auth"));
    assert!(!resolves(&spec, "forwarding.target"));
    assert!(resolves(&spec, "routes[0].certificate"));
    assert!(resolves(&spec, "backend"));
    assert!(!resolves(&spec, "routes[1].host"));
}
