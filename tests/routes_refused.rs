//! Until an adapter translates routes and backend pools, every adapter
//! refuses a listener that has them, through the shared preflight, before
//! any call: the providers below point at a closed port, so a request
//! would fail with a transport error, not `Unsupported`.

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

fn layer4_with_pool() -> ListenerSpec {
    let mut s = ListenerSpec::new("db", Protocol::Tcp, Ports::Single(5432));
    s.backend = Some("db-pool".into());
    s
}

fn has(rejections: &[Rejection], field: &str, rule: &str) -> bool {
    rejections.iter().any(|r| r.field == field && r.rule == rule)
}

/// ALB translates routes (as rules, to pools it makes) and CLB routes and
/// backends (rules with targets bound on them); the other adapters
/// neither yet.
#[test]
fn alb_and_clb_claim_routes_and_clb_backends() {
    for c in all_capabilities() {
        let clb = c.api == "tencent-clb";
        assert_eq!(c.routes, c.api == "alibaba-alb" || clb, "{} routes", c.api);
        assert_eq!(c.backends, clb, "{} backends", c.api);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_api_refuses_routes_and_backend_pools_before_any_call() {
    let apis = cloud_listeners::compiled_apis();
    assert_eq!(apis.len(), 4, "all four adapters are compiled into the tests");
    for api in apis {
        let profile = common::profile(api, UNREACHABLE);
        let provider = provider_from_profile(&profile).expect("provider builds");
        if api == "tencent-clb" {
            // CLB takes both: an exact host under a wildcard is ordered
            // natively, a layer-4 backend is the listener's targets.
            assert!(provider.check(&routed()).is_empty(), "{:?}", provider.check(&routed()));
            assert!(provider.check(&layer4_with_pool()).is_empty());
            continue;
        }
        // ALB takes routes, but not hosts that meet the same request host
        // (`routed()` has an exact host under a wildcard of the same file).
        let alb = api == "alibaba-alb";
        let (routes_field, routes_rule) = if alb {
            ("routes[0].host", "alb_host_overlap")
        } else {
            ("routes", ROUTES_UNSUPPORTED)
        };
        for (spec, field, rule) in [
            (routed(), routes_field, routes_rule),
            (routed(), "backend", BACKENDS_UNSUPPORTED),
            (layer4_with_pool(), "backend", BACKENDS_UNSUPPORTED),
        ] {
            // Offline, as `validate` and `plan` see it.
            let offline = provider.check(&spec);
            assert!(has(&offline, field, rule), "{api}: {field}: {offline:?}");
            let reason = &offline.iter().find(|r| r.field == field).expect("found").reason;
            if field != "routes[0].host" {
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
        let set = check_set(&profile, &[layer4_with_pool(), routed()]).expect("compiled api");
        assert!(
            set.iter().any(|(i, r)| *i == 1 && r.rule == routes_rule),
            "{api}: {set:?}"
        );
        assert!(
            set.iter().any(|(i, r)| *i == 0 && r.rule == BACKENDS_UNSUPPORTED),
            "{api}: {set:?}"
        );
    }
}
