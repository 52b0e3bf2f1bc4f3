//! The scenarios end to end over HTTP against the emulated GA:
//! create (TCP with two ranges, UDP, HTTP, HTTPS with certificate and
//! affinity), get, list, update (including protocol and ports in place),
//! delete, each followed to completion.

mod common;

use common::{builder, builder_with, https_spec, Setup, ACC, CERT};
use listener_alibaba_ga::translate::{GaOptions, RoutingType};
use listener_alibaba_ga::API;
use listener_core::{
    AffinityKey, Error, ListenerId, ListenerSpec, ListenerStatus, PortEntry, PortRange, Ports, Protocol, Provider,
    SessionPersistence, Timeouts,
};
use listener_emulator::services::ga::Ga;

fn tcp_two_ranges() -> ListenerSpec {
    ListenerSpec::new(
        "tcp-two-ranges",
        Protocol::Tcp,
        Ports::List(vec![
            PortEntry::Range(PortRange { from: 8000, to: 8009 }),
            PortEntry::Port(9000),
        ]),
    )
}

fn https_with_affinity() -> ListenerSpec {
    let mut s = https_spec("web-https", 443);
    s.session_persistence = Some(SessionPersistence {
        by: AffinityKey::SourceIp,
        timeout_secs: None,
    });
    s
}

/// Create, check it runs, and check that read-back equals the spec.
async fn create_one(setup: &Setup, spec: &ListenerSpec) -> listener_core::Listener {
    assert!(
        setup.provider.check(spec).is_empty(),
        "{:?}",
        setup.provider.check(spec)
    );
    let made = setup.provider.create(spec).await.expect("create");
    assert_eq!(made.len(), 1, "GA makes one listener per spec");
    let l = made.into_iter().next().unwrap_or_else(|| unreachable!());
    assert!(l.id.as_str().starts_with("lsr-"));
    assert_eq!(l.instance, ACC);
    assert_eq!(l.status, ListenerStatus::Running);
    let plan = setup.provider.plan_change(&l.spec, spec);
    assert!(plan.is_empty(), "read-back differs: {:?}", plan.changes);
    l
}

#[tokio::test]
async fn tcp_listener_with_two_ranges_is_created_and_read_back() {
    let setup = Setup::start(builder()).await;
    let l = create_one(&setup, &tcp_two_ranges()).await;
    assert_eq!(
        l.spec.ports.ranges(),
        vec![PortRange { from: 8000, to: 8009 }, PortRange { from: 9000, to: 9000 }]
    );
    assert_eq!(setup.count(), 1);
    setup.shutdown().await;
}

#[tokio::test]
async fn udp_listener_is_created() {
    let setup = Setup::start(builder()).await;
    let mut spec = ListenerSpec::new("dns", Protocol::Udp, Ports::Single(53));
    spec.timeouts = Some(Timeouts {
        idle_secs: Some(15),
        request_secs: None,
    });
    let l = create_one(&setup, &spec).await;
    assert_eq!(l.spec.protocol, Protocol::Udp);
    setup.shutdown().await;
}

#[tokio::test]
async fn http_listener_on_one_port_is_created() {
    let setup = Setup::start(builder()).await;
    let l = create_one(&setup, &ListenerSpec::new("plain", Protocol::Http, Ports::Single(80))).await;
    assert_eq!(l.spec.ports.as_single(), Some(80));
    setup.shutdown().await;
}

#[tokio::test]
async fn https_listener_with_certificate_and_affinity_is_created() {
    let setup = Setup::start(builder()).await;
    let l = create_one(&setup, &https_with_affinity()).await;
    // The certificate ID came back as the profile's alias.
    assert_eq!(l.spec.server_certificates(), ["web".to_string()]);
    assert!(l.spec.session_persistence.is_some());
    // And the emulator holds the ID, not the alias.
    let raw = setup
        .provider
        .client()
        .describe_listener(l.id.as_str())
        .await
        .expect("describe");
    assert_eq!(raw["Certificates"][0]["Id"], CERT);
    assert_eq!(raw["ClientAffinity"], "SOURCE_IP");
    assert_eq!(raw["Protocol"], "HTTPS");
    setup.shutdown().await;
}

#[tokio::test]
async fn full_lifecycle_get_list_update_delete() {
    let setup = Setup::start(builder()).await;
    let p = &setup.provider;
    let tcp = create_one(&setup, &tcp_two_ranges()).await;
    let udp = create_one(&setup, &ListenerSpec::new("dns", Protocol::Udp, Ports::Single(53))).await;
    let http = create_one(&setup, &ListenerSpec::new("plain", Protocol::Http, Ports::Single(80))).await;
    let https = create_one(&setup, &https_with_affinity()).await;

    // get
    for l in [&tcp, &udp, &http, &https] {
        let got = p.get(&l.id).await.expect("get");
        assert_eq!(got, *l);
    }
    assert!(matches!(
        p.get(&ListenerId::from("lsr-doesnotexist00000")).await,
        Err(Error::NotFound { .. })
    ));

    // list
    let mut listed: Vec<String> = p.list().await.expect("list").into_iter().map(|l| l.id.0).collect();
    listed.sort();
    let mut ids: Vec<String> = [&tcp, &udp, &http, &https].iter().map(|l| l.id.0.clone()).collect();
    ids.sort();
    assert_eq!(listed, ids);

    // update: new ports and name on TCP
    let mut desired = tcp_two_ranges();
    desired.name = "tcp-moved".into();
    desired.ports = Ports::List(vec![
        PortEntry::Range(PortRange { from: 8100, to: 8104 }),
        PortEntry::Port(9100),
        PortEntry::Port(9200),
    ]);
    let moved = p.update(&tcp, &desired).await.expect("update ports");
    assert_eq!(moved.id, tcp.id, "updated in place");
    assert_eq!(moved.spec.name, "tcp-moved");
    assert_eq!(moved.spec.ports.count(), 7);
    assert!(p.plan_change(&moved.spec, &desired).is_empty());

    // update: HTTP on 80 becomes HTTPS on 8443 in place
    let mut desired = https_spec("plain", 8443);
    desired.description = Some("now TLS".into());
    let switched = p.update(&http, &desired).await.expect("protocol change");
    assert_eq!(switched.id, http.id);
    assert_eq!(switched.spec.protocol, Protocol::Https);
    assert_eq!(switched.spec.ports.as_single(), Some(8443));
    assert_eq!(switched.spec.server_certificates(), ["web".to_string()]);
    assert_eq!(switched.status, ListenerStatus::Running);

    // update with nothing to change sends nothing and returns the listener
    let before = setup.provider.client().api().stats().calls;
    let same = p.update(&switched, &desired).await.expect("no-op update");
    assert_eq!(same.id, switched.id);
    assert_eq!(
        setup.provider.client().api().stats().calls,
        before + 1,
        "one read, no write"
    );

    // delete everything, each followed until gone
    for id in [&tcp.id, &udp.id, &http.id, &https.id] {
        p.delete(id).await.expect("delete");
        assert!(matches!(p.get(id).await, Err(Error::NotFound { .. })));
    }
    assert!(p.list().await.expect("list").is_empty());
    assert_eq!(setup.count(), 0);
    // Deleting again finds nothing on the accelerator: `NotFound`, which
    // `apply` takes as done.
    assert!(matches!(p.delete(&tcp.id).await, Err(Error::NotFound { .. })));
    setup.shutdown().await;
}

#[tokio::test]
async fn update_refuses_a_routing_type_change_before_sending() {
    let setup = Setup::start(builder()).await;
    let l = create_one(&setup, &ListenerSpec::new("t", Protocol::Tcp, Ports::Single(81))).await;
    let mut desired = l.spec.clone();
    desired.extensions.insert(
        API,
        &GaOptions {
            routing_type: Some(RoutingType::CustomRouting),
            ..GaOptions::default()
        },
    );
    let calls = setup.provider.client().api().stats().calls;
    match setup.provider.update(&l, &desired).await {
        Err(Error::ImmutableField { field, .. }) => assert_eq!(field, "extensions.alibaba-ga.routing_type"),
        other => panic!("expected ImmutableField, got {other:?}"),
    }
    assert_eq!(setup.provider.client().api().stats().calls, calls, "nothing sent");
    setup.shutdown().await;
}

#[tokio::test]
async fn update_refuses_another_accelerator() {
    let setup = Setup::start(builder()).await;
    let mut l = create_one(&setup, &ListenerSpec::new("t", Protocol::Tcp, Ports::Single(81))).await;
    l.instance = "ga-other".into();
    match setup.provider.update(&l, &l.spec.clone()).await {
        Err(Error::ImmutableField { field, .. }) => assert_eq!(field, "accelerator"),
        other => panic!("expected ImmutableField, got {other:?}"),
    }
    setup.shutdown().await;
}

#[tokio::test]
async fn create_and_update_refuse_what_check_rejects() {
    let setup = Setup::start(builder()).await;
    let bad = ListenerSpec::new("q", Protocol::Quic, Ports::Single(443));
    match setup.provider.create(&bad).await {
        Err(Error::Unsupported { vendor, rejections }) => {
            assert_eq!(vendor, API);
            assert!(rejections.iter().any(|r| r.field == "protocol"));
        }
        other => panic!("expected Unsupported, got {other:?}"),
    }
    assert_eq!(setup.count(), 0);
    assert_eq!(setup.provider.client().api().stats().calls, 0, "nothing sent");
    setup.shutdown().await;
}

#[tokio::test]
async fn list_reads_every_page() {
    // 53 listeners: more than one 50-listener page (quota raised to allow it).
    let setup = Setup::start(builder_with(Ga::new().with_listener_quota(60))).await;
    for i in 0..53u32 {
        setup
            .provider
            .create(&ListenerSpec::new(
                format!("l{i}"),
                Protocol::Tcp,
                Ports::Single(2000 + i),
            ))
            .await
            .expect("create");
    }
    let listed = setup.provider.list().await.expect("list");
    assert_eq!(listed.len(), 53);
    let mut ids: Vec<_> = listed.iter().map(|l| l.id.clone()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 53);
    setup.shutdown().await;
}

/// The listener's ProxyProtocol is deprecated but still accepted by
/// CreateListener and UpdateListener: sent, read back, switched in place.
#[tokio::test]
async fn deprecated_listener_proxy_protocol_is_sent_read_back_and_changed() {
    let setup = Setup::start(builder()).await;
    let mut spec = ListenerSpec::new("pp", Protocol::Tcp, Ports::Single(7000));
    spec.client_ip = Some(listener_core::ClientIp {
        mode: listener_core::ClientIpMode::ProxyProtocol,
        headers: None,
    });
    let made = create_one(&setup, &spec).await;
    let mut off = spec.clone();
    off.client_ip = Some(listener_core::ClientIp {
        mode: listener_core::ClientIpMode::None,
        headers: None,
    });
    assert!(!setup.provider.plan_change(&made.spec, &off).is_empty());
    let updated = setup.provider.update(&made, &off).await.expect("switched off in place");
    assert!(setup.provider.plan_change(&updated.spec, &off).is_empty());
    setup.shutdown().await;
}
