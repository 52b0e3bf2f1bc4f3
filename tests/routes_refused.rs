//! Until an adapter translates routes and backend pools, every adapter
//! refuses a listener that has them, through the shared preflight, before
//! any call: the providers below point at a closed port, so a request
//! would fail with a transport error, not `Unsupported`. ALB translates
//! both and refuses, the same way, what it cannot express identically
//! (two certificates covering one host).

mod common;

use cloud_listeners::check::{BACKENDS_UNSUPPORTED, ROUTES_UNSUPPORTED};
use cloud_listeners::{
    all_capabilities, check_set, provider_from_profile, Error, ListenerSpec, Ports, Protocol, Rejection, Route,
};

/// Nothing listens on port 1 of the loopback.
const UNREACHABLE: &str = "http://127.0.0.1:1";

fn routed() -> ListenerSpec {
    let mut s = ListenerSpec::new("site", Protocol::Http, Ports::Single(80));
    s.backend = Some("web".into());
    s.routes = vec![
        Route::new("api.example.com", "/v1", "api"),
        Route::new("*.example.com", "/", "web"),
    ];
    s
}

/// An exact host with one certificate under a wildcard with another:
/// ALB would serve either for the exact host.
fn certificates_overlapping() -> ListenerSpec {
    let mut s = ListenerSpec::new("site", Protocol::Https, Ports::Single(443));
    s.tls = Some(cloud_listeners::Tls {
        certificates: vec!["web-cert".into()],
        policy: None,
        http2: None,
        http3: None,
        sni: None,
        client_auth: None,
    });
    s.backend = Some("web".into());
    let mut api = Route::new("api.example.com", "/v1", "api");
    api.certificate = Some("web-cert".into());
    let mut wild = Route::new("*.example.com", "/", "web");
    wild.certificate = Some("web-cert-ecc".into());
    s.routes = vec![api, wild];
    s
}

fn layer4_with_pool() -> ListenerSpec {
    let mut s = ListenerSpec::new("db", Protocol::Tcp, Ports::Single(5432));
    s.backend = Some("db-pool".into());
    s
}

fn has(rejections: &[Rejection], field: &str, rule: &str) -> bool {
    rejections.iter().any(|r| r.field == field && r.rule == rule)
}

/// ALB translates routes (as rules, to pools it makes) and a listener's
/// own `backend` (its default action); GA both as forwarding rules and
/// endpoint groups; GAAP as domains and rules with origin servers bound per
/// rule; CLB as rules with targets bound on them.
#[test]
fn every_api_claims_routes_and_backends() {
    for c in all_capabilities() {
        assert!(c.routes, "{} routes", c.api);
        assert!(c.backends, "{} backends", c.api);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_api_refuses_routes_and_backend_pools_before_any_call() {
    let apis = cloud_listeners::compiled_apis();
    assert_eq!(apis.len(), 4, "all four adapters are compiled into the tests");
    for api in apis {
        let profile = common::profile(api, UNREACHABLE);
        let provider = provider_from_profile(&profile).expect("provider builds");
        if api == "alibaba-ga" || api == "tencent-clb" {
            // GA and CLB take both (`tests/ga_routes.rs`,
            // `tests/clb_routes.rs`): nothing to refuse.
            assert!(provider.check(&routed()).is_empty(), "{:?}", provider.check(&routed()));
            assert!(provider.check(&layer4_with_pool()).is_empty());
            continue;
        }
        // ALB takes routes and backends, but not two certificates that
        // cover one host.
        // GAAP takes routes and backends, but not wildcard hosts (its
        // domains are exact).
        let alb = api == "alibaba-alb";
        let gaap = api == "tencent-gaap";
        let cases = if alb {
            vec![(
                certificates_overlapping(),
                "routes[1].certificate",
                "alb_certificate_overlap",
            )]
        } else if gaap {
            vec![(routed(), "routes[1].host", "gaap_exact_hosts")]
        } else {
            vec![
                (routed(), "routes", ROUTES_UNSUPPORTED),
                (routed(), "backend", BACKENDS_UNSUPPORTED),
                (layer4_with_pool(), "backend", BACKENDS_UNSUPPORTED),
            ]
        };
        for (spec, field, rule) in cases {
            // Offline, as `validate` and `plan` see it.
            let offline = provider.check(&spec);
            assert!(has(&offline, field, rule), "{api}: {field}: {offline:?}");
            let reason = &offline.iter().find(|r| r.field == field).expect("found").reason;
            if !alb && !gaap {
                assert!(
                    reason.contains(&format!("not yet translated for {api}")),
                    "{api}: {reason}"
                );
            }
            // And on create: refused before any request.
            match provider.create(&spec).await {
                Err(Error::Unsupported { vendor, rejections }) => {
                    assert_eq!(vendor, api);
                    assert!(has(&rejections, field, rule), "{api}: {rejections:?}");
                }
                other => panic!("{api}: {} should be refused before any call, got {other:?}", spec.name),
            }
            match provider.create_batch(std::slice::from_ref(&spec)).await {
                Err(Error::Unsupported { rejections, .. }) => {
                    assert!(has(&rejections, field, rule), "{api}: {rejections:?}");
                }
                other => panic!("{api}: batch create of {} should be refused, got {other:?}", spec.name),
            }
        }
        // The set check used by `plan` and `apply` names the listener.
        if alb {
            let set = check_set(&profile, &[routed(), certificates_overlapping()]).expect("compiled api");
            assert!(
                set.iter().all(|(i, _)| *i == 1) && set.iter().any(|(_, r)| r.rule == "alb_certificate_overlap"),
                "{api}: {set:?}"
            );
            continue;
        }
        let set = check_set(&profile, &[layer4_with_pool(), routed()]).expect("compiled api");
        if gaap {
            // The layer-4 listener's backend is taken; the wildcard is not.
            assert!(
                set.iter().all(|(i, _)| *i == 1) && set.iter().any(|(_, r)| r.rule == "gaap_exact_hosts"),
                "{api}: {set:?}"
            );
            continue;
        }
        assert!(
            set.iter().any(|(i, r)| *i == 1 && r.rule == ROUTES_UNSUPPORTED),
            "{api}: {set:?}"
        );
        assert!(
            set.iter().any(|(i, r)| *i == 0 && r.rule == BACKENDS_UNSUPPORTED),
            "{api}: {set:?}"
        );
    }
}

/// What a pool holds is checked offline, once per pool, at the pool's own
/// field: an ALB server group of type `Ip` takes no domain names.
#[test]
fn a_pool_a_cloud_cannot_hold_is_refused_offline_at_its_own_field() {
    use cloud_listeners::routes::{Backend, BackendEndpoint};
    let mut backends = std::collections::BTreeMap::new();
    backends.insert(
        "web".to_string(),
        Backend::inline(vec![BackendEndpoint::new("web.internal", 8080)]),
    );
    backends.insert(
        "api".to_string(),
        Backend::inline(vec![BackendEndpoint::new("10.0.0.9", 9000)]),
    );
    let mut second = routed();
    second.ports = Ports::Single(81);
    let specs = [routed(), second];
    let profile = common::profile("alibaba-alb", UNREACHABLE);
    let got = cloud_listeners::check_backends(&profile, &specs, &backends).expect("known api");
    let fields: Vec<(usize, &str, &str)> = got.iter().map(|(i, r)| (*i, r.field.as_str(), r.rule)).collect();
    // Named by both listeners, reported once, with the first.
    assert_eq!(fields, vec![(0, "backends.web.endpoints[0].address", "ip_endpoint")]);
}

/// GAAP binds a pool's endpoints on each rule with one `RealServerType`:
/// IP addresses and domain names in one pool are refused offline, at the
/// pool's own field.
#[test]
fn a_pool_mixing_ip_and_domain_origins_is_refused_offline_on_gaap() {
    use cloud_listeners::routes::{Backend, BackendEndpoint};
    let mut backends = std::collections::BTreeMap::new();
    backends.insert(
        "web".to_string(),
        Backend::inline(vec![
            BackendEndpoint::new("10.0.0.8", 8080),
            BackendEndpoint::new("web.internal", 8080),
        ]),
    );
    backends.insert(
        "api".to_string(),
        Backend::inline(vec![BackendEndpoint::new("10.0.0.9", 9000)]),
    );
    let profile = common::profile("tencent-gaap", UNREACHABLE);
    let got = cloud_listeners::check_backends(&profile, &[routed()], &backends).expect("known api");
    let fields: Vec<(usize, &str, &str)> = got.iter().map(|(i, r)| (*i, r.field.as_str(), r.rule)).collect();
    assert_eq!(
        fields,
        vec![(0, "backends.web.endpoints[1].address", "gaap_real_server_type_mixed")]
    );
}
