//! The GAAP adapter against the emulated GAAP over HTTP: every listener
//! kind created, read, listed, changed and deleted.

mod common;

use std::time::Duration;

use common::*;
use listener_core::{
    plan_change, Adapter, BackendProtocol, ClientIp, ClientIpMode, HealthCheck, HealthCheckKind, ListenerId,
    ListenerSpec, ListenerStatus, Ports, Protocol, Provider, Scheduler,
};
use listener_emulator::{Fault, FaultRule};
use listener_tencent_gaap::{GaapProvider, API};

fn tcp_with_health(name: &str, list: &[u32]) -> ListenerSpec {
    let mut s = ListenerSpec::new(name, Protocol::Tcp, ports(list));
    s.scheduler = Some(Scheduler::WeightedRoundRobin);
    s.client_ip = Some(ClientIp {
        mode: ClientIpMode::ProxyProtocol,
        headers: None,
    });
    s.health_check = Some(HealthCheck {
        enabled: true,
        kind: Some(HealthCheckKind::Tcp),
        interval_secs: Some(10),
        timeout_secs: Some(4),
        healthy_threshold: Some(2),
        unhealthy_threshold: Some(3),
        port: None,
        http: None,
        custom: None,
    });
    s
}

fn udp_ping(name: &str, port: u32) -> ListenerSpec {
    let mut s = ListenerSpec::new(name, Protocol::Udp, Ports::Single(port));
    s.scheduler = Some(Scheduler::LeastConnections);
    s.health_check = Some(HealthCheck {
        enabled: true,
        kind: Some(HealthCheckKind::Ping),
        interval_secs: Some(6),
        timeout_secs: Some(2),
        healthy_threshold: None,
        unhealthy_threshold: None,
        port: None,
        http: None,
        custom: None,
    });
    s
}

/// After a create, planning the same spec against what was read back
/// finds nothing to change (per port, as the planner expands it).
fn assert_no_drift(provider: &GaapProvider, spec: &ListenerSpec, made: &[listener_core::Listener]) {
    for l in made {
        let port = l.spec.ports.as_single().expect("one port per GAAP listener");
        let change = plan_change(provider.capabilities(), &l.spec, &spec.with_port(port));
        assert!(change.is_empty(), "drift on {}: {:?}", l.id, change.changes);
    }
}

#[tokio::test]
async fn every_listener_kind_round_trips_through_the_emulator() {
    let emulator = builder()
        // Counts the TCP create calls without changing them.
        .fault_rule(
            FaultRule::new(Fault::Slow(Duration::from_millis(1)))
                .service(API)
                .action("CreateTCPListeners")
                .times(100),
        )
        .start()
        .await
        .expect("emulator");
    let provider = provider(&emulator);

    // HTTP.
    let http = ListenerSpec::new("plain", Protocol::Http, Ports::Single(80));
    let made = provider.create(&http).await.expect("http");
    assert_eq!(made.len(), 1);
    assert_eq!(made[0].status, ListenerStatus::Running);
    assert_eq!(made[0].instance, LINK);
    assert_no_drift(&provider, &http, &made);

    // HTTPS, one-way.
    let one_way = https("one-way", 443);
    let made = provider.create(&one_way).await.expect("https one-way");
    assert_eq!(
        made[0].spec.tls.as_ref().map(|t| t.certificates.clone()),
        Some(vec!["web".to_string()])
    );
    assert!(made[0].spec.client_auth().is_none());
    assert_no_drift(&provider, &one_way, &made);

    // HTTPS, mutual with two client CAs and HTTP3.
    let mutual = https_mutual("mutual", 8443, &["ca1", "ca2"]);
    let made = provider.create(&mutual).await.expect("https mutual");
    let tls = made[0].spec.tls.clone().expect("tls read back");
    assert_eq!(tls.http3, Some(true));
    assert_eq!(
        tls.client_auth.map(|c| c.ca_certificates),
        Some(vec!["ca1".to_string(), "ca2".to_string()])
    );
    assert_no_drift(&provider, &mutual, &made);
    let mutual_id = made[0].id.clone();

    // TCP on two ports: one call, two listeners.
    let tcp = tcp_with_health("pair", &[9000, 9001]);
    let made = provider.create(&tcp).await.expect("tcp");
    assert_eq!(made.len(), 2);
    assert_eq!(emulator.fault_counts().slow, 1, "one CreateTCPListeners call");
    let made_ports: Vec<_> = made.iter().filter_map(|l| l.spec.ports.as_single()).collect();
    assert_eq!(made_ports, vec![9000, 9001]);
    assert_no_drift(&provider, &tcp, &made);
    let tcp_id = made[0].id.clone();

    // UDP with a ping check.
    let udp = udp_ping("dns", 53);
    let made = provider.create(&udp).await.expect("udp");
    assert_no_drift(&provider, &udp, &made);
    let udp_id = made[0].id.clone();

    assert_eq!(count(&emulator, LINK), 6);

    // Get and list.
    let got = provider.get(&mutual_id).await.expect("get");
    assert_eq!(got.spec.protocol, Protocol::Https);
    assert_eq!(got.spec.ports, Ports::Single(8443));
    let all = provider.list().await.expect("list");
    assert_eq!(all.len(), 6);
    assert!(all.iter().all(|l| l.status == ListenerStatus::Running));

    // Update mutable fields: TCP scheduler and interval, HTTPS client CAs,
    // forward protocol and name, UDP probe timing.
    let current = provider.get(&tcp_id).await.expect("tcp listener");
    let mut desired = tcp.with_port(9000);
    desired.scheduler = Some(Scheduler::LeastConnections);
    if let Some(hc) = desired.health_check.as_mut() {
        hc.interval_secs = Some(20);
    }
    let updated = provider.update(&current, &desired).await.expect("tcp update");
    assert_eq!(updated.spec.scheduler, Some(Scheduler::LeastConnections));
    assert!(plan_change(provider.capabilities(), &updated.spec, &desired).is_empty());

    let current = provider.get(&mutual_id).await.expect("https listener");
    let mut desired = https_mutual("mutual-renamed", 8443, &["ca2"]);
    if let Some(f) = desired.forwarding.as_mut() {
        f.backend_protocol = Some(BackendProtocol::Https);
    }
    let updated = provider.update(&current, &desired).await.expect("https update");
    assert_eq!(updated.spec.name, "mutual-renamed");
    assert!(plan_change(provider.capabilities(), &updated.spec, &desired).is_empty());

    let current = provider.get(&udp_id).await.expect("udp listener");
    let mut desired = udp.clone();
    if let Some(hc) = desired.health_check.as_mut() {
        hc.interval_secs = Some(30);
        hc.timeout_secs = Some(10);
    }
    let updated = provider.update(&current, &desired).await.expect("udp update");
    assert_eq!(
        updated.spec.health_check.as_ref().and_then(|h| h.interval_secs),
        Some(30)
    );

    // An update with nothing to change sends nothing and reads back.
    let same = provider.update(&updated, &desired).await.expect("no-op update");
    assert_eq!(same.id, udp_id);

    // Delete everything, then once more (gone: NotFound, nothing sent).
    for l in provider.list().await.expect("list") {
        provider.delete(&l.id).await.expect("delete");
    }
    assert!(provider.list().await.expect("list").is_empty());
    assert_eq!(count(&emulator, LINK), 0);
    assert!(
        matches!(
            provider.delete(&mutual_id).await,
            Err(listener_core::Error::NotFound { .. })
        ),
        "a second delete finds nothing to prove ownership of"
    );
    assert!(matches!(
        provider.get(&mutual_id).await,
        Err(listener_core::Error::NotFound { .. })
    ));
    emulator.shutdown().await;
}

#[tokio::test]
async fn listeners_on_a_connection_group_use_group_id() {
    let emulator = start().await;
    let profile = profile_for(&emulator, GROUP);
    let provider = provider_on(&profile);
    let udp = udp_ping("grouped", 5353);
    let made = provider.create(&udp).await.expect("udp on group");
    assert_eq!(made[0].instance, GROUP);
    assert_eq!(count(&emulator, GROUP), 1);
    assert_eq!(count(&emulator, LINK), 0);

    let mut desired = udp.clone();
    desired.name = "grouped-renamed".into();
    let updated = provider.update(&made[0], &desired).await.expect("update on group");
    assert_eq!(updated.spec.name, "grouped-renamed");

    // HTTPS listeners of a group cannot be modified in place.
    let h = provider.create(&https("web", 443)).await.expect("https on group");
    let mut renamed = https("web-renamed", 443);
    renamed.name = "web-renamed".into();
    match provider.update(&h[0], &renamed).await {
        Err(listener_core::Error::Unsupported { rejections, .. }) => {
            assert_eq!(rejections[0].field, "instance");
            assert_eq!(rejections[0].rule, "FailedOperation.NotSupportProxyGroup");
        }
        other => panic!("expected a rejection, got {other:?}"),
    }

    provider.delete(&made[0].id).await.expect("delete");
    provider.delete(&h[0].id).await.expect("delete");
    assert_eq!(count(&emulator, GROUP), 0);
    emulator.shutdown().await;
}

#[tokio::test]
async fn batch_create_merges_ports_of_equal_specs_into_one_call() {
    let emulator = builder()
        .fault_rule(
            FaultRule::new(Fault::Slow(Duration::from_millis(1)))
                .service(API)
                .action("CreateUDPListeners")
                .times(100),
        )
        .start()
        .await
        .expect("emulator");
    let provider = provider(&emulator);
    // The planner expands a multi-port spec into one spec per port.
    let spec = udp_ping("fanout", 7000);
    let specs: Vec<ListenerSpec> = [7000, 7001, 7002].iter().map(|p| spec.with_port(*p)).collect();
    let made = provider.create_batch(&specs).await.expect("batch");
    assert_eq!(made.len(), 3);
    assert_eq!(emulator.fault_counts().slow, 1, "one CreateUDPListeners call");
    assert_eq!(count(&emulator, LINK), 3);
    emulator.shutdown().await;
}

#[tokio::test]
async fn provider_from_profile_reads_inline_credentials() {
    let emulator = start().await;
    let provider = GaapProvider::from_profile(&profile(&emulator)).expect("provider");
    assert_eq!(provider.instance(), LINK);
    assert!(provider.list().await.expect("list").is_empty());
    assert!(matches!(
        provider.get(&ListenerId::from("listener-nothere")).await,
        Err(listener_core::Error::NotFound { .. })
    ));
    emulator.shutdown().await;
}

#[tokio::test]
async fn https_on_several_ports_is_created_one_call_at_a_time() {
    let emulator = start().await;
    let gaap = provider(&emulator);
    let mut spec = https("multi", 443);
    spec.ports = ports(&[443, 8443]);
    let made = gaap.create(&spec).await.expect("create");
    let got: Vec<_> = made.iter().filter_map(|l| l.spec.ports.as_single()).collect();
    assert_eq!(got, vec![443, 8443]);
    // Each call waited for the previous listener, so GAAP never answered busy.
    assert_eq!(gaap.client().api().stats().retries, 0);
    assert_eq!(count(&emulator, LINK), 2);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_batch_create_waits_for_every_listener_with_one_describe_per_poll() {
    let emulator = start().await;
    let gaap = provider(&emulator);
    let ports = Ports::List((7000..7010).map(listener_core::PortEntry::Port).collect());
    let made = gaap
        .create(&ListenerSpec::new("pool", Protocol::Tcp, ports))
        .await
        .expect("create");
    assert_eq!(made.len(), 10);
    assert!(made
        .iter()
        .all(|l| l.status == ListenerStatus::Running && l.spec.name == "pool"));
    let counts = emulator.request_counts();
    let tcp = &counts[API];
    assert_eq!(tcp["CreateTCPListeners"].requests, 1);
    // Each poll reads all of the connection's TCP listeners at once: with
    // a 40 ms delay and a 15 ms interval that is a handful of reads (a
    // slow machine only makes fewer), where one read per listener would be
    // ten at least.
    let polls = tcp["DescribeTCPListeners"].requests;
    assert!(polls < 10, "{polls} reads for one batch");
    assert_eq!(count(&emulator, LINK), 10);
    emulator.shutdown().await;
}

fn https_with_policy(name: &str, port: u32, policy: &str) -> ListenerSpec {
    let mut s = https(name, port);
    if let Some(t) = s.tls.as_mut() {
        t.policy = Some(policy.into());
    }
    s
}

/// A TLS policy is set with SetTlsVersion after the create and read back
/// from DescribeHTTPSListeners, so the plan after apply shows no change;
/// changing it is one SetTlsVersion call, on a connection and on a group.
#[tokio::test]
async fn tls_versions_and_ciphers_are_set_read_back_and_changed() {
    let emulator = start().await;
    for instance in [LINK, GROUP] {
        let gaap = provider_on(&profile_for(&emulator, instance));
        let spec = https_with_policy("tls12", 443, "TLSv1.2:GAAP_TLS_CIPHERS_STRICT");
        assert!(gaap.check(&spec).is_empty(), "{:?}", gaap.check(&spec));
        let made = gaap.create(&spec).await.expect("created");
        assert_eq!(made.len(), 1);
        let plan = plan_change(gaap.capabilities(), &made[0].spec, &spec);
        assert!(plan.is_empty(), "{instance}: {:?}", plan.changes);
        let listed = gaap.list().await.expect("list");
        assert!(plan_change(gaap.capabilities(), &listed[0].spec, &spec).is_empty());

        let looser = https_with_policy("tls12", 443, "TLSv1.1:GAAP_TLS_CIPHERS_GENERAL");
        let changed = gaap.update(&made[0], &looser).await.expect("changed in place");
        assert_eq!(changed.id, made[0].id);
        assert!(plan_change(gaap.capabilities(), &changed.spec, &looser).is_empty());
        gaap.delete(&changed.id).await.expect("deleted");
    }
    emulator.shutdown().await;
}

/// A connection whose description says `IsSupportTLSChoice` 0: `check`
/// cannot know and accepts; `create` and `update` read the description
/// and refuse with `tls.policy` before any write.
#[tokio::test]
async fn tls_policy_is_refused_before_any_write_on_a_connection_without_the_choice() {
    let gaap_service = listener_emulator::services::gaap::Gaap::new().without_tls_choice(LINK);
    let emulator = builder()
        .with_service(std::sync::Arc::new(gaap_service))
        .start()
        .await
        .expect("emulator");
    let gaap = provider(&emulator);
    let spec = https_with_policy("tls12", 443, "TLSv1.2:GAAP_TLS_CIPHERS_STRICT");
    assert!(gaap.check(&spec).is_empty(), "offline check cannot know");
    let refused =
        |e: listener_core::Error| match e {
            listener_core::Error::Unsupported { rejections, .. } => {
                assert!(rejections
                    .iter()
                    .any(|r| r.field == "tls.policy"
                        && r.rule == listener_tencent_gaap::translate::TLS_CHOICE_UNSUPPORTED));
            }
            other => panic!("{other:?}"),
        };
    refused(gaap.create(&spec).await.expect_err("refused"));
    assert_eq!(count(&emulator, LINK), 0, "nothing was created");

    let plain = https("plain", 443);
    let made = gaap.create(&plain).await.expect("created without a policy");
    let writes = |c: &listener_emulator::RequestCounts| -> u64 {
        c.values()
            .flat_map(|m| ["SetTlsVersion", "ModifyHTTPSListenerAttribute"].map(|a| m.get(a).map_or(0, |x| x.requests)))
            .sum()
    };
    let before = writes(&emulator.request_counts());
    refused(gaap.update(&made[0], &spec).await.expect_err("refused"));
    assert_eq!(writes(&emulator.request_counts()), before, "no write was sent");
    emulator.shutdown().await;
}
