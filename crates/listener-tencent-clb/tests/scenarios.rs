//! The scenarios end to end over HTTP against the emulated CLB:
//! create (each waits for its task), get, list, update, delete, and a plan
//! after apply that shows no change.

mod common;

use common::{count, provider, start, LB};
use listener_core::{
    plan_change, ClientAuth, ClientIp, ClientIpMode, ClientVerify, Error, HealthCheck, HealthCheckKind,
    HttpHealthCheck, HttpMethod, Listener, ListenerSpec, PortEntry, PortRange, Ports, Protocol, Provider, Scheduler,
    Tls,
};
use listener_tencent_clb::capabilities;

fn tls(certs: &[&str]) -> Option<Tls> {
    Some(Tls {
        certificates: certs.iter().map(|c| c.to_string()).collect(),
        policy: None,
        http2: None,
        http3: None,
        sni: None,
        client_auth: None,
    })
}

fn hc() -> HealthCheck {
    HealthCheck {
        enabled: true,
        kind: None,
        interval_secs: None,
        timeout_secs: None,
        healthy_threshold: None,
        unhealthy_threshold: None,
        port: None,
        http: None,
        custom: None,
    }
}

/// Every listener read back equals its per-port spec: `plan` after
/// `apply` shows no change.
#[track_caller]
fn assert_faithful(listeners: &[Listener], spec: &ListenerSpec) {
    let ranges = spec.ports.ranges();
    assert_eq!(listeners.len(), ranges.len());
    for (l, r) in listeners.iter().zip(ranges) {
        let mut want = spec.clone();
        want.ports = if r.from == r.to {
            Ports::Single(r.from)
        } else {
            Ports::Range(r)
        };
        let plan = plan_change(&capabilities(), &l.spec, &want);
        assert!(plan.is_empty(), "read-back differs: {:?}", plan.changes);
        assert_eq!(l.instance, LB);
        assert!(l.id.0.starts_with("lbl-"));
    }
}

#[tokio::test]
async fn https_one_way_create_get_list_update_delete() {
    let emu = start().await;
    let clb = provider(&emu);
    let mut spec = ListenerSpec::new("web-https", Protocol::Https, Ports::Single(7572));
    spec.tls = tls(&["web"]);
    let made = clb.create(&spec).await.expect("created");
    assert_faithful(&made, &spec);
    let l = &made[0];
    assert_eq!(l.spec.tls.as_ref().and_then(|t| t.sni), Some(false));

    let got = clb.get(&l.id).await.expect("get");
    assert_eq!(got.spec, l.spec);
    let all = clb.list().await.expect("list");
    assert_eq!(all.len(), 1);
    assert_eq!(count(&emu), 1);

    // Update mutable fields: name and certificate.
    let mut desired = spec.clone();
    desired.name = "web-https-2".into();
    desired.tls = tls(&["ecc"]);
    let plan = clb.plan_change(&l.spec, &desired);
    assert!(!plan.needs_replace());
    let updated = clb.update(l, &desired).await.expect("updated");
    assert_eq!(updated.spec.name, "web-https-2");
    assert_eq!(updated.spec.server_certificates(), ["ecc".to_string()]);
    assert!(clb.plan_change(&updated.spec, &desired).is_empty());

    clb.delete(&l.id).await.expect("deleted");
    assert_eq!(count(&emu), 0);
    assert!(matches!(clb.get(&l.id).await, Err(Error::NotFound { .. })));
    // What is gone cannot be proven to be this load balancer's: deleting
    // it again is `NotFound` (which `apply` takes as done).
    assert!(matches!(clb.delete(&l.id).await, Err(Error::NotFound { .. })));
    emu.shutdown().await;
}

#[tokio::test]
async fn https_mutual_tls_reads_back_ca_and_verify_mode() {
    let emu = start().await;
    let clb = provider(&emu);
    let mut spec = ListenerSpec::new("mtls", Protocol::Https, Ports::Single(8443));
    spec.tls = tls(&["web"]);
    if let Some(t) = spec.tls.as_mut() {
        t.client_auth = Some(ClientAuth {
            verify: ClientVerify::Optional,
            ca_certificates: vec!["ca".into()],
        });
    }
    let made = clb.create(&spec).await.expect("created");
    assert_faithful(&made, &spec);
    let ca = made[0].spec.client_auth().cloned().expect("mutual");
    assert_eq!(ca.ca_certificates, vec!["ca".to_string()]);
    assert_eq!(ca.verify, ClientVerify::Optional);

    // Two server certificates (RSA + ECC) go as MultiCertInfo and read back.
    let mut multi = ListenerSpec::new("multi", Protocol::Https, Ports::Single(9443));
    multi.tls = tls(&["web", "ecc"]);
    let made = clb.create(&multi).await.expect("created");
    assert_faithful(&made, &multi);
    emu.shutdown().await;
}

#[tokio::test]
async fn tcp_two_named_ports_with_a_health_check() {
    let emu = start().await;
    let clb = provider(&emu);
    let mut spec = ListenerSpec::new(
        "lis",
        Protocol::Tcp,
        Ports::List(vec![PortEntry::Port(7570), PortEntry::Port(7569)]),
    );
    spec.health_check = Some(HealthCheck {
        interval_secs: Some(7),
        timeout_secs: Some(5),
        healthy_threshold: Some(4),
        unhealthy_threshold: Some(4),
        ..hc()
    });
    spec.scheduler = Some(Scheduler::LeastConnections);
    let made = clb.create(&spec).await.expect("created");
    assert_eq!(made.len(), 2);
    assert_faithful(&made, &spec);
    assert_eq!(made[0].spec.ports, Ports::Single(7570));
    assert_eq!(made[1].spec.ports, Ports::Single(7569));
    assert_eq!(count(&emu), 2);

    // An HTTP probe replaces the TCP one on the second listener.
    let mut desired = made[1].spec.clone();
    desired.health_check = Some(HealthCheck {
        kind: Some(HealthCheckKind::Http),
        interval_secs: Some(10),
        timeout_secs: Some(3),
        http: Some(HttpHealthCheck {
            path: Some("/healthz".into()),
            domain: Some("app.example".into()),
            method: Some(HttpMethod::Get),
            healthy_status_classes: vec![2, 3],
        }),
        ..hc()
    });
    let updated = clb.update(&made[1], &desired).await.expect("updated");
    assert!(clb.plan_change(&updated.spec, &desired).is_empty());
    emu.shutdown().await;
}

#[tokio::test]
async fn udp_with_the_default_ping_health_check() {
    let emu = start().await;
    let clb = provider(&emu);
    let mut spec = ListenerSpec::new("lis_test", Protocol::Udp, Ports::Single(432));
    spec.health_check = Some(hc());
    let made = clb.create(&spec).await.expect("created");
    assert_faithful(&made, &spec);
    let h = made[0].spec.health_check.clone().expect("health check");
    assert_eq!(h.kind, Some(HealthCheckKind::Ping));
    emu.shutdown().await;
}

#[tokio::test]
async fn quic_with_certificate_and_proxy_protocol() {
    let emu = start().await;
    let clb = provider(&emu);
    let mut spec = ListenerSpec::new("quic", Protocol::Quic, Ports::Single(443));
    spec.tls = tls(&["web"]);
    spec.client_ip = Some(ClientIp {
        mode: ClientIpMode::ProxyProtocol,
        headers: None,
    });
    let made = clb.create(&spec).await.expect("created");
    // ProxyProtocol is not read back; it is declared write-only so the
    // plan stays empty.
    assert!(made[0].spec.client_ip.is_none());
    assert_faithful(&made, &spec);
    // QUIC and TCP do not share ports: an HTTPS listener on 443 fits too.
    let mut https = ListenerSpec::new("https", Protocol::Https, Ports::Single(443));
    https.tls = tls(&["web"]);
    clb.create(&https).await.expect("created");
    assert_eq!(count(&emu), 2);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_port_range_is_one_listener_with_an_end_port() {
    let emu = start().await;
    let clb = provider(&emu);
    let spec = ListenerSpec::new("range", Protocol::Tcp, Ports::Range(PortRange { from: 8000, to: 8100 }));
    let made = clb.create(&spec).await.expect("created");
    assert_eq!(made.len(), 1);
    assert_eq!(made[0].spec.ports, Ports::Range(PortRange { from: 8000, to: 8100 }));
    assert_faithful(&made, &spec);
    // A port inside the range is taken on the TCP side.
    let inside = ListenerSpec::new("inside", Protocol::Http, Ports::Single(8050));
    assert!(matches!(clb.create(&inside).await, Err(Error::Conflict { .. })));
    emu.shutdown().await;
}

#[tokio::test]
async fn tcp_ssl_listener_reads_back() {
    let emu = start().await;
    let clb = provider(&emu);
    let mut spec = ListenerSpec::new("tls-tcp", Protocol::TcpSsl, Ports::Single(5000));
    spec.tls = tls(&["web"]);
    spec.health_check = Some(HealthCheck {
        kind: Some(HealthCheckKind::Tcp),
        ..hc()
    });
    let made = clb.create(&spec).await.expect("created");
    assert_faithful(&made, &spec);
    emu.shutdown().await;
}

#[tokio::test]
async fn update_refuses_immutable_fields_before_any_call() {
    let emu = start().await;
    let clb = provider(&emu);
    let mut spec = ListenerSpec::new("web", Protocol::Https, Ports::Single(443));
    spec.tls = tls(&["web"]);
    let made = clb.create(&spec).await.expect("created");
    let before = clb.client().api().stats().calls;
    for change in ["protocol", "ports"] {
        let mut desired = spec.clone();
        match change {
            "protocol" => desired.protocol = Protocol::Http,
            _ => desired.ports = Ports::Single(444),
        }
        if change == "protocol" {
            desired.tls = None;
        }
        match clb.update(&made[0], &desired).await {
            Err(Error::ImmutableField { field, .. }) => assert_eq!(field, change),
            other => panic!("{change}: {other:?}"),
        }
    }
    assert_eq!(clb.client().api().stats().calls, before, "nothing was sent");
    emu.shutdown().await;
}

#[tokio::test]
async fn create_refuses_what_check_rejects_without_a_call() {
    let emu = start().await;
    let clb = provider(&emu);
    let mut spec = ListenerSpec::new("h", Protocol::Http, Ports::Single(80));
    spec.health_check = Some(hc());
    match clb.create(&spec).await {
        Err(Error::Unsupported { vendor, rejections }) => {
            assert_eq!(vendor, "tencent-clb");
            assert!(rejections.iter().any(|r| r.field == "health_check"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(clb.client().api().stats().calls, 0);
    emu.shutdown().await;
}

/// ModifyListener's `SniSwitch` turns SNI on in place (0 → 1); only
/// turning it off again needs a replacement, refused before any call.
#[tokio::test]
async fn sni_is_switched_on_in_place_and_never_off() {
    let emu = start().await;
    let clb = provider(&emu);
    let mut spec = ListenerSpec::new("web", Protocol::Https, Ports::Single(443));
    spec.tls = tls(&["web"]);
    if let Some(t) = spec.tls.as_mut() {
        t.sni = Some(false);
    }
    let made = clb.create(&spec).await.expect("created");
    let mut on = spec.clone();
    if let Some(t) = on.tls.as_mut() {
        t.sni = Some(true);
        t.certificates.clear();
    }
    let plan = clb.plan_change(&made[0].spec, &on);
    assert!(!plan.is_empty() && !plan.needs_replace(), "{plan:?}");
    let updated = clb.update(&made[0], &on).await.expect("switched on in place");
    assert_eq!(updated.id, made[0].id, "same listener");
    assert!(
        clb.plan_change(&updated.spec, &on).is_empty(),
        "plan after apply shows no change"
    );
    let before = clb.client().api().stats().calls;
    match clb.update(&updated, &spec).await {
        Err(Error::ImmutableField { field, .. }) => assert_eq!(field, "tls.sni"),
        other => panic!("{other:?}"),
    }
    assert!(clb.plan_change(&updated.spec, &spec).needs_replace());
    assert_eq!(clb.client().api().stats().calls, before, "nothing was sent");
    emu.shutdown().await;
}

/// Single ports and a range in one spec: one CreateListener per shape
/// (`EndPort` takes one start port), and the read-back plans no change.
#[tokio::test]
async fn single_ports_and_a_range_in_one_spec_are_made_by_one_call_per_shape() {
    let emu = start().await;
    let clb = provider(&emu);
    let spec = ListenerSpec::new(
        "mixed",
        Protocol::Tcp,
        Ports::List(vec![
            PortEntry::Port(81),
            PortEntry::Range(PortRange { from: 8000, to: 8100 }),
            PortEntry::Port(82),
        ]),
    );
    let made = clb.create(&spec).await.expect("created");
    assert_eq!(made.len(), 3);
    assert_eq!(count(&emu), 3);
    let plan = cloud_plan(&clb, &spec, &made);
    assert!(plan, "plan after apply shows no change");
    emu.shutdown().await;
}

/// Every per-port spec of `spec` matches one listener made, unchanged.
fn cloud_plan(clb: &impl Provider, spec: &ListenerSpec, made: &[Listener]) -> bool {
    spec.ports.ranges().iter().all(|r| {
        let mut want = spec.clone();
        want.ports = if r.from == r.to {
            Ports::Single(r.from)
        } else {
            Ports::Range(*r)
        };
        made.iter()
            .any(|l| l.spec.ports == want.ports && clb.plan_change(&l.spec, &want).is_empty())
    })
}

/// On update, a probe timeout is compared with the listener's current
/// interval (ModifyListener keeps what it is not sent), not the default.
#[tokio::test]
async fn update_checks_a_new_timeout_against_the_current_interval() {
    let emu = start().await;
    let clb = provider(&emu);
    let mut spec = ListenerSpec::new("tcp", Protocol::Tcp, Ports::Single(9000));
    spec.health_check = Some(HealthCheck {
        interval_secs: Some(30),
        timeout_secs: Some(2),
        ..hc()
    });
    let made = clb.create(&spec).await.expect("created");
    let mut desired = spec.clone();
    desired.health_check = Some(HealthCheck {
        timeout_secs: Some(10),
        ..hc()
    });
    let updated = clb
        .update(&made[0], &desired)
        .await
        .expect("10 s is below the current 30 s");
    let hc = updated.spec.health_check.expect("health check");
    assert_eq!((hc.timeout_secs, hc.interval_secs), (Some(10), Some(30)));
    emu.shutdown().await;
}

/// ModifyListener documents `SessionType` on TCP_SSL and QUIC too.
#[tokio::test]
async fn session_type_is_changed_on_a_tcp_ssl_listener() {
    let emu = start().await;
    let clb = provider(&emu);
    let mut spec = ListenerSpec::new("tls-tcp", Protocol::TcpSsl, Ports::Single(5001));
    spec.tls = tls(&["web"]);
    let made = clb.create(&spec).await.expect("created");
    let mut desired = spec.clone();
    desired
        .extensions
        .0
        .insert("tencent-clb".into(), serde_json::json!({"session_type": "normal"}));
    assert!(listener_tencent_clb::check(&common::profile(&emu), &desired).is_empty());
    clb.update(&made[0], &desired)
        .await
        .expect("the vendor takes SessionType on TCP_SSL");
    emu.shutdown().await;
}
