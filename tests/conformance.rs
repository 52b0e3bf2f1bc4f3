//! The shared conformance suite: every compiled adapter, against the
//! emulator over HTTP, must behave the same way through the neutral
//! `Provider` trait.
//!
//! Each behaviour is one function taking `&dyn Provider`; the macro at the
//! bottom instantiates it once per provider, as its own test
//! (`tencent_gaap::create_get_list_update_delete_round_trip`, and so on),
//! so a failing cloud never hides the others and `cargo test tencent_clb`
//! runs one cloud. Every test starts its own emulator (bound to
//! 127.0.0.1:0), so tests running in parallel share no port and no state.
//!
//! Every (behaviour, provider) pair is instantiated, including those whose
//! capability the provider does not claim: the behaviour then asserts the
//! refusal (`check` names the field) and stops there. Capabilities are
//! values read at run time, so a provider that starts claiming one gets the
//! full behaviour without touching this file.

mod common;

use cloud_listeners::{
    Access, AccessMode, BackendProtocol, ClientAuth, ClientVerify, Error, Forwarding, ListenerSpec, Ports, Protocol,
    Provider, Tls,
};

/// A plain listener every provider can take: TCP where supported, else HTTP
/// with a default target (ALB requires one).
fn basic_spec(provider: &dyn Provider, port: u32) -> ListenerSpec {
    let caps = provider.capabilities();
    if caps.protocols.contains(&Protocol::Tcp) {
        ListenerSpec::new("conf-basic", Protocol::Tcp, Ports::Single(port))
    } else {
        let mut s = ListenerSpec::new("conf-basic", Protocol::Http, Ports::Single(port));
        s.forwarding = Some(Forwarding {
            backend_protocol: None,
            default_target: Some("web-servers".into()),
        });
        s
    }
}

fn https_spec(port: u32, mutual: bool) -> ListenerSpec {
    let mut s = ListenerSpec::new("conf-https", Protocol::Https, Ports::Single(port));
    s.forwarding = Some(Forwarding {
        backend_protocol: Some(BackendProtocol::Http),
        default_target: Some("web-servers".into()),
    });
    s.tls = Some(Tls {
        certificates: vec!["web-cert".into()],
        policy: None,
        http2: None,
        http3: None,
        sni: None,
        client_auth: mutual.then(|| ClientAuth {
            verify: ClientVerify::Required,
            ca_certificates: vec!["partners-ca".into()],
        }),
    });
    s
}

async fn create_get_list_update_delete_round_trip(p: &dyn Provider) {
    let api = p.capabilities().api;
    let spec = basic_spec(p, 8080);
    assert!(p.check(&spec).is_empty(), "{api}: {:?}", p.check(&spec));
    let made = p.create(&spec).await.unwrap_or_else(|e| panic!("{api}: create: {e}"));
    assert_eq!(made.len(), 1, "{api}");
    let l = &made[0];
    assert!(
        l.status.is_settled(),
        "{api}: create returned before the listener ran: {:?}",
        l.status
    );
    assert!(
        p.plan_change(&l.spec, &spec).is_empty(),
        "{api}: read-back drifts: {:?}",
        p.plan_change(&l.spec, &spec)
    );

    let got = p.get(&l.id).await.unwrap_or_else(|e| panic!("{api}: get: {e}"));
    assert_eq!(got.id, l.id, "{api}");
    let listed = p.list().await.unwrap_or_else(|e| panic!("{api}: list: {e}"));
    assert_eq!(listed.iter().filter(|x| x.id == l.id).count(), 1, "{api}: list");

    // Change a mutable field the provider reads back: the name, or the
    // description where listeners have no name (ALB).
    let mut changed = spec.clone();
    if p.capabilities().is_write_only("name") {
        changed.description = Some("changed-by-conformance".into());
    } else {
        changed.name = "conf-renamed".into();
    }
    assert!(
        !p.plan_change(&got.spec, &changed).is_empty(),
        "{api}: the change must be visible"
    );
    let updated = p
        .update(&got, &changed)
        .await
        .unwrap_or_else(|e| panic!("{api}: update: {e}"));
    assert!(
        p.plan_change(&updated.spec, &changed).is_empty(),
        "{api}: update not read back"
    );
    let again = p.get(&l.id).await.expect("get after update");
    assert!(
        p.plan_change(&again.spec, &changed).is_empty(),
        "{api}: update not persisted"
    );

    p.delete(&l.id).await.unwrap_or_else(|e| panic!("{api}: delete: {e}"));
    assert!(
        matches!(p.get(&l.id).await, Err(Error::NotFound { .. })),
        "{api}: still there after delete"
    );
    assert!(
        matches!(p.delete(&l.id).await, Err(Error::NotFound { .. })),
        "{api}: deleting a gone listener is NotFound (apply takes it as done)"
    );
}

async fn https_one_way_and_mutual_tls_follow_capabilities(p: &dyn Provider) {
    let caps = p.capabilities().clone();
    let one_way = https_spec(8443, false);
    let made = p
        .create(&one_way)
        .await
        .unwrap_or_else(|e| panic!("{}: https: {e}", caps.api));
    assert_eq!(
        made[0].spec.server_certificates(),
        &["web-cert".to_string()],
        "{}: alias read back",
        caps.api
    );

    let mutual = https_spec(9443, true);
    if caps.mutual_tls {
        let made = p
            .create(&mutual)
            .await
            .unwrap_or_else(|e| panic!("{}: mtls: {e}", caps.api));
        let ca = made[0]
            .spec
            .client_auth()
            .unwrap_or_else(|| panic!("{}: client auth not read back", caps.api));
        assert_eq!(ca.ca_certificates, vec!["partners-ca".to_string()], "{}", caps.api);
    } else {
        let r = p.check(&mutual);
        assert!(
            r.iter().any(|r| r.field.starts_with("tls.client_auth")),
            "{}: {r:?}",
            caps.api
        );
        assert!(
            matches!(p.create(&mutual).await, Err(Error::Unsupported { .. })),
            "{}",
            caps.api
        );
    }
}

/// Runs against a provider aimed at a closed port (see the `offline` arm
/// of the macro): any request would be a transport error, so an
/// `Unsupported` answer proves nothing was sent.
async fn unknown_alias_is_refused_before_any_call(p: &dyn Provider) {
    let api = p.capabilities().api;
    let mut spec = https_spec(443, false);
    spec.tls.as_mut().unwrap().certificates = vec!["no-such-cert".into()];
    let r = p.check(&spec);
    assert!(
        r.iter()
            .any(|r| r.field == "tls.certificates[0]" && r.rule == "alias_unknown"),
        "{api}: {r:?}"
    );
    match p.create(&spec).await {
        Err(Error::Unsupported { vendor, rejections }) => {
            assert_eq!(vendor, api);
            assert!(!rejections.is_empty());
        }
        other => panic!("{api}: expected Unsupported before any call, got {other:?}"),
    }
}

async fn immutable_fields_are_refused_by_update(p: &dyn Provider) {
    let caps = p.capabilities().clone();
    let spec = basic_spec(p, 7000);
    let made = p
        .create(&spec)
        .await
        .unwrap_or_else(|e| panic!("{}: create: {e}", caps.api));
    let mut moved = spec.clone();
    moved.ports = Ports::Single(7001);
    let result = p.update(&made[0], &moved).await;
    if caps.is_immutable("ports") {
        match result {
            Err(Error::ImmutableField { field, .. }) => assert_eq!(field, "ports", "{}", caps.api),
            other => panic!("{}: expected ImmutableField, got {other:?}", caps.api),
        }
    } else {
        let moved_l = result.unwrap_or_else(|e| panic!("{}: in-place port change: {e}", caps.api));
        assert_eq!(moved_l.spec.ports.as_single(), Some(7001), "{}", caps.api);
    }
}

async fn unknown_listener_is_not_found(p: &dyn Provider) {
    let id = cloud_listeners::ListenerId("lsr-doesnotexist".into());
    match p.get(&id).await {
        Err(Error::NotFound { .. }) => {}
        other => panic!("{}: expected NotFound, got {other:?}", p.capabilities().api),
    }
}

async fn removing_client_auth_switches_mutual_tls_off(p: &dyn Provider) {
    let caps = p.capabilities().clone();
    let mutual = https_spec(10443, true);
    if !caps.mutual_tls {
        // Not claimed: there is nothing to switch off. What remains to
        // check is that the provider refuses to switch it on; the HTTPS
        // behaviour also checks that `create` sends nothing.
        let r = p.check(&mutual);
        assert!(
            r.iter().any(|r| r.field.starts_with("tls.client_auth")),
            "{}: {r:?}",
            caps.api
        );
        return;
    }
    let made = p
        .create(&mutual)
        .await
        .unwrap_or_else(|e| panic!("{}: mtls: {e}", caps.api));
    let one_way = https_spec(10443, false);
    let plan = p.plan_change(&made[0].spec, &one_way);
    assert!(
        plan.changes.iter().any(|c| c.path == "tls.client_auth"),
        "{}: removing client_auth must be a change: {plan:?}",
        caps.api
    );
    match p.update(&made[0], &one_way).await {
        Ok(l) => {
            assert!(
                l.spec.client_auth().is_none(),
                "{}: mutual TLS still on after update",
                caps.api
            );
            let again = p.get(&l.id).await.expect("get");
            assert!(
                p.plan_change(&again.spec, &one_way).is_empty(),
                "{}: not converged",
                caps.api
            );
        }
        Err(Error::ImmutableField { field, .. }) => {
            assert!(
                plan.needs_replace(),
                "{}: update refused {field} but the plan did not say replace",
                caps.api
            );
        }
        Err(e) => panic!("{}: switching mutual TLS off failed: {e}", caps.api),
    }
}

async fn removing_session_persistence_switches_it_off(p: &dyn Provider) {
    use cloud_listeners::{AffinityKey, SessionPersistence};
    let caps = p.capabilities().clone();
    // Vendors differ on the timeout: CLB needs one, GA cannot take one.
    let mut sticky = basic_spec(p, 11000);
    let candidates = [Some(300), None].map(|timeout_secs| SessionPersistence {
        by: AffinityKey::SourceIp,
        timeout_secs,
    });
    if !caps.session_persistence {
        // Not claimed: there is nothing to switch off. What remains to
        // check is that no form of it is taken.
        for c in candidates {
            sticky.session_persistence = Some(c);
            let r = p.check(&sticky);
            assert!(
                r.iter().any(|r| r.field.starts_with("session_persistence")),
                "{}: {r:?}",
                caps.api
            );
        }
        return;
    }
    let Some(persistence) = candidates.into_iter().find(|c| {
        sticky.session_persistence = Some(c.clone());
        p.check(&sticky).is_empty()
    }) else {
        panic!("{}: declares session persistence but takes no form of it", caps.api);
    };
    sticky.session_persistence = Some(persistence);
    let made = p
        .create(&sticky)
        .await
        .unwrap_or_else(|e| panic!("{}: create: {e}", caps.api));
    assert!(
        made[0].spec.session_persistence.is_some(),
        "{}: persistence not read back",
        caps.api
    );
    let mut plain = sticky.clone();
    plain.session_persistence = None;
    let updated = p
        .update(&made[0], &plain)
        .await
        .unwrap_or_else(|e| panic!("{}: update: {e}", caps.api));
    assert!(
        updated.spec.session_persistence.is_none(),
        "{}: persistence still on",
        caps.api
    );
    assert!(
        p.plan_change(&updated.spec, &plain).is_empty(),
        "{}: not converged",
        caps.api
    );
}

/// Source-address access control: a provider that claims it creates a
/// listener with an allow list, reads it back, turns it into a deny list
/// in place and removes it; one that does not refuses `access` in `check`,
/// before any call.
async fn access_lists_follow_capabilities(p: &dyn Provider) {
    let caps = p.capabilities().clone();
    let mut spec = basic_spec(p, 7300);
    spec.access = Some(Access {
        mode: AccessMode::Allow,
        cidrs: vec!["10.0.0.0/8".into(), "2001:db8::/32".into()],
    });
    if !caps.access_control {
        let refused = p.check(&spec);
        assert!(
            refused.iter().any(|r| r.field == "access"),
            "{}: access not claimed but not refused: {refused:?}",
            caps.api
        );
        return;
    }
    let made = p
        .create(&spec)
        .await
        .unwrap_or_else(|e| panic!("{}: create: {e}", caps.api))
        .remove(0);
    assert_eq!(made.spec.access, spec.access, "{}", caps.api);
    assert!(p.plan_change(&made.spec, &spec).is_empty(), "{}", caps.api);
    let mut desired = spec.clone();
    desired.access.as_mut().expect("set").mode = AccessMode::Deny;
    let denied = p
        .update(&made, &desired)
        .await
        .unwrap_or_else(|e| panic!("{}: to deny: {e}", caps.api));
    assert_eq!(denied.spec.access, desired.access, "{}", caps.api);
    desired.access = None;
    let open = p
        .update(&denied, &desired)
        .await
        .unwrap_or_else(|e| panic!("{}: remove: {e}", caps.api));
    assert_eq!(open.spec.access, None, "{}", caps.api);
    assert!(p.plan_change(&open.spec, &desired).is_empty(), "{}", caps.api);
    p.delete(&made.id)
        .await
        .unwrap_or_else(|e| panic!("{}: delete: {e}", caps.api));
}

/// One test per behaviour for the provider of `$api`, in a module named
/// after it, compiled only with that provider's cargo feature. `online`
/// behaviours get a fresh emulator of their own; `offline` ones get a
/// provider aimed at a closed port.
macro_rules! conformance {
    ($module:ident, $api:literal, online: [$($online:ident),* $(,)?], offline: [$($offline:ident),* $(,)?] $(,)?) => {
        #[cfg(feature = $api)]
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $online() {
                    let emu = crate::common::start().await;
                    let p = cloud_listeners::provider_from_profile(&crate::common::profile($api, &emu.url()))
                        .expect("provider builds");
                    super::$online(p.as_ref()).await;
                    emu.shutdown().await;
                }
            )*
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $offline() {
                    let p = cloud_listeners::provider_from_profile(&crate::common::profile($api, "http://127.0.0.1:1"))
                        .expect("provider builds");
                    super::$offline(p.as_ref()).await;
                }
            )*
        }
    };
    ($(($module:ident, $api:literal)),* $(,)?) => {
        /// The APIs the suite instantiates, for the completeness check.
        const INSTANTIATED: &[&str] = &[$($api),*];
        $(
            conformance!(
                $module,
                $api,
                online: [
                    create_get_list_update_delete_round_trip,
                    https_one_way_and_mutual_tls_follow_capabilities,
                    immutable_fields_are_refused_by_update,
                    unknown_listener_is_not_found,
                    removing_client_auth_switches_mutual_tls_off,
                    removing_session_persistence_switches_it_off,
                    access_lists_follow_capabilities,
                ],
                offline: [unknown_alias_is_refused_before_any_call],
            );
        )*
    };
}

conformance!(
    (tencent_gaap, "tencent-gaap"),
    (tencent_clb, "tencent-clb"),
    (alibaba_alb, "alibaba-alb"),
    (alibaba_ga, "alibaba-ga"),
);

/// Every compiled provider has its tests above: a fifth adapter that is
/// not added to the list fails here instead of going untested.
#[test]
fn every_compiled_provider_is_instantiated() {
    for api in cloud_listeners::compiled_apis() {
        assert!(
            INSTANTIATED.contains(&api),
            "{api} has no conformance tests: add it to `conformance!`"
        );
    }
}
