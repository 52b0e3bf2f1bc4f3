//! Every rule `check` rejects, twice: `check` refuses the spec (field and
//! rule asserted), and the same request sent RAW to the emulated CLB,
//! bypassing `check`, gets the vendor's error code, mapped by the client to
//! the expected error kind.
//!
//! The raw request is the adapter's own translation of the spec where the
//! translation carries the offending parameter; where the neutral value has
//! no CLB spelling (a scheduler CLB lacks, proxy protocol on TCP, ...) it
//! is the nearest request a user could write by hand.

mod common;

use common::{api_client, profile, start, LB};
use listener_core::{
    AffinityKey, ClientAuth, ClientIp, ClientIpMode, ClientVerify, CustomHealthCheck, HealthCheck, HealthCheckKind,
    HttpHealthCheck, ListenerSpec, PortEntry, Ports, ProfileConfig, Protocol, Scheduler, SessionPersistence, Timeouts,
    Tls,
};
use listener_tencent_clb::translate::{self, FORMAT, INVALID_SPEC, INVALID_VALUE, LENGTH, LIMIT, MISSING};
use listener_tencent_clb::{check, check_set};
use serde_json::{json, Value};
use tencent_api::RetryPolicy;

fn spec(protocol: Protocol, port: u32) -> ListenerSpec {
    let mut s = ListenerSpec::new("web", protocol, Ports::Single(port));
    if protocol.terminates_tls() {
        s.tls = Some(Tls {
            certificates: vec!["web".into()],
            policy: None,
            http2: None,
            http3: None,
            sni: None,
            client_auth: None,
        });
    }
    s
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

fn ext(mut s: ListenerSpec, v: Value) -> ListenerSpec {
    s.extensions.0.insert("tencent-clb".into(), v);
    s
}

fn extf(f: &str) -> String {
    format!("extensions.tencent-clb.{f}")
}

enum Raw {
    /// The adapter's own translation of the spec.
    Translated,
    /// A hand-written CreateListener request.
    Params(Value),
}

struct Case {
    name: &'static str,
    spec: ListenerSpec,
    field: String,
    rule: &'static str,
    raw: Raw,
    code: &'static str,
    kind: &'static str,
}

fn case(
    name: &'static str,
    spec: ListenerSpec,
    field: &str,
    rule: &'static str,
    raw: Raw,
    code: &'static str,
    kind: &'static str,
) -> Case {
    Case {
        name,
        spec,
        field: field.to_string(),
        rule,
        raw,
        code,
        kind,
    }
}

fn cases() -> Vec<Case> {
    use Raw::{Params, Translated};
    let mut v = Vec::new();

    // Names.
    let mut s = spec(Protocol::Tcp, 100);
    s.name = "n".repeat(81);
    v.push(case("name_81_chars", s, "name", LENGTH, Translated, LENGTH, "vendor"));

    // Certificates.
    let mut s = spec(Protocol::Https, 443);
    if let Some(t) = s.tls.as_mut() {
        t.sni = Some(true);
    }
    v.push(case(
        "certificate_on_https_with_sni",
        s,
        "tls.certificates",
        INVALID_VALUE,
        Translated,
        INVALID_VALUE,
        "vendor",
    ));
    let mut s = spec(Protocol::Https, 443);
    if let Some(t) = s.tls.as_mut() {
        t.sni = Some(true);
        t.certificates.clear();
        t.client_auth = Some(ClientAuth {
            verify: ClientVerify::Required,
            ca_certificates: vec!["ca".into()],
        });
    }
    v.push(case(
        "client_ca_on_https_with_sni",
        s,
        "tls.client_auth",
        INVALID_VALUE,
        Params(
            json!({"LoadBalancerId": LB, "Protocol": "HTTPS", "Ports": [443], "SniSwitch": 1,
                      "Certificate": {"SSLMode": "MUTUAL", "CertId": "cert-web1", "CertCaId": "ca-root1"}}),
        ),
        INVALID_VALUE,
        "vendor",
    ));
    let mut s = spec(Protocol::Quic, 443);
    if let Some(t) = s.tls.as_mut() {
        t.certificates.push("ecc".into());
    }
    v.push(case(
        "several_certificates_on_quic",
        s,
        "tls.certificates",
        INVALID_VALUE,
        Translated,
        INVALID_VALUE,
        "vendor",
    ));
    let mut s = spec(Protocol::Tcp, 103);
    s.tls = spec(Protocol::Https, 103).tls;
    v.push(case(
        "certificate_on_tcp",
        s,
        "tls",
        INVALID_SPEC,
        Translated,
        INVALID_VALUE,
        "vendor",
    ));
    let mut s = spec(Protocol::TcpSsl, 104);
    if let Some(t) = s.tls.as_mut() {
        t.certificates.clear();
    }
    v.push(case(
        "tcp_ssl_without_certificate",
        s,
        "tls.certificates",
        INVALID_SPEC,
        Translated,
        MISSING,
        "vendor",
    ));
    let mut s = spec(Protocol::Https, 105);
    if let Some(t) = s.tls.as_mut() {
        t.certificates.clear();
    }
    v.push(case(
        "https_without_sni_or_certificate",
        s,
        "tls.certificates",
        INVALID_SPEC,
        Translated,
        MISSING,
        "vendor",
    ));
    let mut s = spec(Protocol::Https, 106);
    if let Some(t) = s.tls.as_mut() {
        t.client_auth = Some(ClientAuth {
            verify: ClientVerify::Required,
            ca_certificates: vec![],
        });
    }
    v.push(case(
        "mutual_without_ca",
        s,
        "tls.client_auth.ca_certificates",
        INVALID_SPEC,
        Translated,
        MISSING,
        "vendor",
    ));

    // Health checks.
    let mut s = spec(Protocol::Http, 80);
    s.health_check = Some(hc());
    v.push(case(
        "health_check_on_http",
        s,
        "health_check",
        INVALID_VALUE,
        Translated,
        INVALID_VALUE,
        "vendor",
    ));
    let mut s = spec(Protocol::Quic, 107);
    s.health_check = Some(HealthCheck {
        kind: Some(HealthCheckKind::Ping),
        ..hc()
    });
    v.push(case(
        "ping_check_on_quic",
        s,
        "health_check.kind",
        INVALID_VALUE,
        Translated,
        INVALID_VALUE,
        "vendor",
    ));
    let mut s = spec(Protocol::Tcp, 108);
    s.health_check = Some(HealthCheck {
        kind: Some(HealthCheckKind::Http),
        ..hc()
    });
    v.push(case(
        "http_check_on_tcp_without_domain",
        s,
        "health_check.http.domain",
        MISSING,
        Translated,
        MISSING,
        "vendor",
    ));
    let mut s = spec(Protocol::Tcp, 109);
    s.health_check = Some(HealthCheck {
        timeout_secs: Some(1),
        interval_secs: Some(5),
        ..hc()
    });
    v.push(case(
        "probe_timeout_below_2",
        s,
        "health_check.timeout_secs",
        INVALID_VALUE,
        Translated,
        INVALID_VALUE,
        "vendor",
    ));
    let mut s = spec(Protocol::Tcp, 110);
    s.health_check = Some(HealthCheck {
        interval_secs: Some(2),
        ..hc()
    });
    v.push(case(
        "interval_not_above_default_timeout",
        s,
        "health_check.interval_secs",
        INVALID_VALUE,
        Translated,
        INVALID_VALUE,
        "vendor",
    ));
    let mut s = spec(Protocol::Tcp, 111);
    s.health_check = Some(HealthCheck {
        healthy_threshold: Some(1),
        ..hc()
    });
    v.push(case(
        "threshold_below_2",
        s,
        "health_check.healthy_threshold",
        INVALID_VALUE,
        Translated,
        INVALID_VALUE,
        "vendor",
    ));
    let mut s = spec(Protocol::Tcp, 112);
    s.health_check = Some(HealthCheck {
        timeout_secs: Some(6),
        interval_secs: Some(6),
        ..hc()
    });
    v.push(case(
        "timeout_not_below_interval",
        s,
        "health_check.timeout_secs",
        INVALID_SPEC,
        Translated,
        INVALID_VALUE,
        "vendor",
    ));
    let mut s = spec(Protocol::Tcp, 113);
    s.health_check = Some(HealthCheck {
        kind: Some(HealthCheckKind::Http),
        http: Some(HttpHealthCheck {
            path: None,
            domain: Some("a.example".into()),
            method: None,
            healthy_status_classes: vec![6],
        }),
        ..hc()
    });
    v.push(case(
        "http_code_outside_the_bitmask",
        s,
        "health_check.http.healthy_status_classes[0]",
        INVALID_SPEC,
        Translated,
        INVALID_VALUE,
        "vendor",
    ));
    let mut s = spec(Protocol::TcpSsl, 114);
    s.health_check = Some(HealthCheck {
        port: Some(8080),
        ..hc()
    });
    v.push(case(
        "check_port_on_tcp_ssl",
        s,
        "health_check.port",
        INVALID_VALUE,
        Translated,
        INVALID_VALUE,
        "vendor",
    ));
    let mut s = spec(Protocol::Udp, 115);
    s.health_check = Some(HealthCheck {
        kind: Some(HealthCheckKind::Custom),
        custom: Some(CustomHealthCheck {
            send: Some("XYZ".into()),
            expect: None,
        }),
        ..hc()
    });
    let s = ext(s, json!({"health_check_context_type": "hex"}));
    v.push(case(
        "hex_payload_not_hex",
        s,
        "health_check.custom.send",
        FORMAT,
        Translated,
        FORMAT,
        "vendor",
    ));
    let mut s = ext(
        spec(Protocol::Tcp, 116),
        json!({"health_check_http_version": "HTTP/1.0"}),
    );
    s.health_check = Some(HealthCheck {
        kind: Some(HealthCheckKind::Tcp),
        ..hc()
    });
    v.push(case(
        "http_version_on_a_tcp_probe",
        s,
        &extf("health_check_http_version"),
        INVALID_VALUE,
        Params(json!({"LoadBalancerId": LB, "Protocol": "TCP", "Ports": [116],
                      "HealthCheck": {"CheckType": "TCP", "HttpVersion": "HTTP/1.0"}})),
        INVALID_VALUE,
        "vendor",
    ));

    // Session persistence and scheduling.
    let persist = |t| {
        Some(SessionPersistence {
            by: AffinityKey::SourceIp,
            timeout_secs: Some(t),
        })
    };
    let mut s = spec(Protocol::TcpSsl, 117);
    s.session_persistence = persist(60);
    v.push(case(
        "session_persistence_on_tcp_ssl",
        s,
        "session_persistence",
        INVALID_VALUE,
        Translated,
        INVALID_VALUE,
        "vendor",
    ));
    let mut s = spec(Protocol::Tcp, 118);
    s.session_persistence = persist(29);
    v.push(case(
        "session_persistence_below_30",
        s,
        "session_persistence.timeout_secs",
        INVALID_VALUE,
        Translated,
        INVALID_VALUE,
        "vendor",
    ));
    let mut s = spec(Protocol::Tcp, 119);
    s.scheduler = Some(Scheduler::RoundRobin);
    v.push(case(
        "scheduler_clb_lacks",
        s,
        "scheduler",
        INVALID_VALUE,
        Params(json!({"LoadBalancerId": LB, "Protocol": "TCP", "Ports": [119], "Scheduler": "IP_HASH"})),
        INVALID_VALUE,
        "vendor",
    ));
    let mut s = spec(Protocol::Http, 81);
    s.scheduler = Some(Scheduler::WeightedRoundRobin);
    v.push(case(
        "scheduler_on_http",
        s,
        "scheduler",
        INVALID_VALUE,
        Translated,
        INVALID_VALUE,
        "vendor",
    ));
    let s = ext(spec(Protocol::Tcp, 120), json!({"session_type": "quic_cid"}));
    v.push(case(
        "quic_cid_on_tcp",
        s,
        &extf("session_type"),
        INVALID_VALUE,
        Translated,
        INVALID_VALUE,
        "vendor",
    ));
    let mut s = ext(spec(Protocol::Udp, 121), json!({"session_type": "quic_cid"}));
    s.scheduler = Some(Scheduler::LeastConnections);
    v.push(case(
        "quic_cid_with_least_conn",
        s,
        &extf("session_type"),
        INVALID_VALUE,
        Translated,
        INVALID_VALUE,
        "vendor",
    ));

    // Layer-specific switches.
    let s = ext(spec(Protocol::Tcp, 122), json!({"keepalive": true}));
    v.push(case(
        "keepalive_on_layer4",
        s,
        &extf("keepalive"),
        INVALID_VALUE,
        Translated,
        INVALID_VALUE,
        "vendor",
    ));
    let mut s = spec(Protocol::Tcp, 123);
    s.client_ip = Some(ClientIp {
        mode: ClientIpMode::ProxyProtocol,
        headers: None,
    });
    v.push(case(
        "proxy_protocol_on_tcp",
        s,
        "client_ip.mode",
        INVALID_VALUE,
        Params(json!({"LoadBalancerId": LB, "Protocol": "TCP", "Ports": [123], "ProxyProtocol": true})),
        INVALID_VALUE,
        "vendor",
    ));
    let idle = |i| {
        Some(Timeouts {
            idle_secs: Some(i),
            request_secs: None,
        })
    };
    let mut s = spec(Protocol::Http, 82);
    s.timeouts = idle(60);
    v.push(case(
        "idle_timeout_on_http",
        s,
        "timeouts.idle_secs",
        INVALID_VALUE,
        Translated,
        INVALID_VALUE,
        "vendor",
    ));
    let mut s = spec(Protocol::Tcp, 124);
    s.timeouts = idle(5);
    v.push(case(
        "idle_timeout_below_10",
        s,
        "timeouts.idle_secs",
        INVALID_VALUE,
        Translated,
        INVALID_VALUE,
        "vendor",
    ));
    let mut s = spec(Protocol::Tcp, 125);
    s.timeouts = idle(3601);
    v.push(case(
        "idle_timeout_above_3600",
        s,
        "timeouts.idle_secs",
        INVALID_VALUE,
        Translated,
        INVALID_VALUE,
        "vendor",
    ));
    let s = ext(spec(Protocol::Https, 126), json!({"max_conn": 100}));
    v.push(case(
        "max_conn_on_https",
        s,
        &extf("max_conn"),
        INVALID_VALUE,
        Translated,
        INVALID_VALUE,
        "vendor",
    ));
    let s = ext(spec(Protocol::Tcp, 127), json!({"max_cps": -2}));
    v.push(case(
        "max_cps_below_minus_one",
        s,
        &extf("max_cps"),
        INVALID_VALUE,
        Translated,
        INVALID_VALUE,
        "vendor",
    ));
    let s = ext(spec(Protocol::TcpSsl, 128), json!({"target_type": "node"}));
    v.push(case(
        "target_type_on_tcp_ssl",
        s,
        &extf("target_type"),
        INVALID_VALUE,
        Translated,
        INVALID_VALUE,
        "vendor",
    ));
    let s = ext(spec(Protocol::Udp, 129), json!({"reschedule_start_time": 3601}));
    v.push(case(
        "reschedule_time_above_3600",
        s,
        &extf("reschedule_start_time"),
        INVALID_VALUE,
        Translated,
        INVALID_VALUE,
        "vendor",
    ));
    let s = ext(spec(Protocol::Tcp, 130), json!({"h2c": true}));
    v.push(case(
        "h2c_on_tcp",
        s,
        &extf("h2c"),
        INVALID_VALUE,
        Translated,
        INVALID_VALUE,
        "vendor",
    ));
    let s = ext(spec(Protocol::Https, 131), json!({"ssl_close": true}));
    v.push(case(
        "ssl_close_on_https",
        s,
        &extf("ssl_close"),
        INVALID_VALUE,
        Translated,
        INVALID_VALUE,
        "vendor",
    ));
    v
}

fn test_profile(p: &ProfileConfig) -> ProfileConfig {
    let mut p = p.clone();
    p.aliases.certificates.insert("ecc".into(), "cert-ecc1".into());
    p
}

#[tokio::test]
async fn every_rule_check_rejects_is_also_refused_raw_with_the_vendor_code() {
    let emu = start().await;
    let p = test_profile(&profile(&emu));
    let client = api_client(&p, RetryPolicy::none());
    let all = cases();
    assert!(all.len() >= 35, "{} cases", all.len());
    for c in all {
        let found = check(&p, &c.spec);
        assert!(
            found.iter().any(|r| r.field == c.field && r.rule == c.rule),
            "{}: check gave {:?}",
            c.name,
            found.iter().map(|r| (r.field.as_str(), r.rule)).collect::<Vec<_>>()
        );
        let params = match c.raw {
            Raw::Translated => translate::create_params(&p, LB, &c.spec, &c.spec.ports.ranges()),
            Raw::Params(v) => v,
        };
        match client.call("CreateListener", &params, false).await {
            Ok(answer) => panic!("{}: the emulator accepted {params}: {:?}", c.name, answer.body),
            Err(e) => {
                assert_eq!(e.vendor_code(), Some(c.code), "{}: {e}", c.name);
                assert_eq!(e.kind(), c.kind, "{}", c.name);
            }
        }
    }
    assert_eq!(common::count(&emu), 0, "no raw request made a listener");
    emu.shutdown().await;
}

#[tokio::test]
async fn shape_rules_no_spec_can_produce_are_refused_raw() {
    let emu = start().await;
    let p = profile(&emu);
    let client = api_client(&p, RetryPolicy::none());
    let cases = [
        // Certificate together with MultiCertInfo: translate picks one.
        (
            json!({"LoadBalancerId": LB, "Protocol": "HTTPS", "Ports": [443],
                   "Certificate": {"CertId": "cert-web1"},
                   "MultiCertInfo": {"SSLMode": "UNIDIRECTIONAL", "CertList": [{"CertId": "cert-web1"}]}}),
            FORMAT,
        ),
        // ListenerNames not paired one to one with Ports.
        (
            json!({"LoadBalancerId": LB, "Protocol": "TCP", "Ports": [1, 2], "ListenerNames": ["a"]}),
            FORMAT,
        ),
        // EndPort with several ports: the adapter sends one call per shape
        // (single ports, then ranges), so a spec never produces this.
        (
            json!({"LoadBalancerId": LB, "Protocol": "TCP", "Ports": [101, 8000], "EndPort": 8100}),
            FORMAT,
        ),
        // A protocol outside the six.
        (
            json!({"LoadBalancerId": LB, "Protocol": "SCTP", "Ports": [1]}),
            "InvalidParameter.ProtocolCheckFailed",
        ),
        // Neutral settings with no CLB parameter have no request either;
        // a made-up parameter is refused as the vendor does.
        (
            json!({"LoadBalancerId": LB, "Protocol": "HTTPS", "Ports": [443], "Http2": true,
                   "Certificate": {"CertId": "cert-web1"}}),
            "UnknownParameter",
        ),
    ];
    for (params, code) in cases {
        let e = client
            .call("CreateListener", &params, false)
            .await
            .expect_err("refused");
        assert_eq!(e.vendor_code(), Some(code), "{params}");
        assert_eq!(e.kind(), "vendor");
    }
    let missing = client
        .call(
            "CreateListener",
            &json!({"LoadBalancerId": "lb-unknown", "Protocol": "TCP", "Ports": [1]}),
            false,
        )
        .await
        .expect_err("unknown load balancer");
    assert_eq!(missing.kind(), "not_found");
    emu.shutdown().await;
}

#[tokio::test]
async fn set_rules_are_refused_by_check_set_and_raw() {
    let emu = start().await;
    let p = profile(&emu);
    let client = api_client(&p, RetryPolicy::none());
    // Shared TCP port space across listeners.
    let a = spec(Protocol::Tcp, 80);
    let b = spec(Protocol::Http, 80);
    let found = check_set(&p, &[a.clone(), b.clone()]);
    assert!(found
        .iter()
        .any(|(i, r)| *i == 1 && r.field == "ports" && r.rule == translate::PORT_CHECK));
    let first = translate::create_params(&p, LB, &a, &a.ports.ranges());
    let answer = client.call("CreateListener", &first, false).await.expect("first");
    wait_idle(&client, &answer.request_id).await;
    let second = translate::create_params(&p, LB, &b, &b.ports.ranges());
    let e = client
        .call("CreateListener", &second, false)
        .await
        .expect_err("conflict");
    assert_eq!(e.vendor_code(), Some(translate::PORT_CHECK));
    assert_eq!(e.kind(), "conflict");

    // 50 listeners per load balancer is the default of an adjustable
    // quota: check_set only warns, and the vendor answers on the 51st.
    let mut many = spec(Protocol::Udp, 1000);
    many.ports = Ports::List((1000..1049).map(PortEntry::Port).collect());
    let one_more = spec(Protocol::Udp, 2000);
    let specs = [a, many.clone(), one_more.clone()];
    let found = check_set(&p, &specs);
    assert!(!found.iter().any(|(_, r)| r.rule == LIMIT), "{found:?}");
    let warned = listener_tencent_clb::check_set_with_warnings(&p, &specs).warnings;
    assert_eq!(
        warned
            .iter()
            .map(|(i, w)| (*i, w.field.as_str(), w.rule))
            .collect::<Vec<_>>(),
        vec![(2, "listeners", LIMIT)]
    );
    let answer = client
        .call(
            "CreateListener",
            &translate::create_params(&p, LB, &many, &many.ports.ranges()),
            false,
        )
        .await
        .expect("49 more");
    wait_idle(&client, &answer.request_id).await;
    let e = client
        .call(
            "CreateListener",
            &translate::create_params(&p, LB, &one_more, &one_more.ports.ranges()),
            false,
        )
        .await
        .expect_err("quota");
    assert_eq!(e.vendor_code(), Some(LIMIT));
    emu.shutdown().await;
}

#[tokio::test]
async fn immutable_fields_are_refused_raw_on_modify() {
    let emu = start().await;
    let p = profile(&emu);
    let client = api_client(&p, RetryPolicy::none());
    let answer = client
        .call(
            "CreateListener",
            &json!({"LoadBalancerId": LB, "Protocol": "HTTPS", "Ports": [443], "SniSwitch": 1}),
            false,
        )
        .await
        .expect("created");
    wait_idle(&client, &answer.request_id).await;
    let id = answer.body["ListenerIds"][0].as_str().unwrap_or_default().to_string();
    for key in ["Protocol", "Port", "EndPort", "H2cSwitch", "SslCloseSwitch"] {
        let mut params = json!({"LoadBalancerId": LB, "ListenerId": id});
        params[key] = json!(1);
        let e = client.call("ModifyListener", &params, true).await.expect_err(key);
        assert_eq!(e.vendor_code(), Some("UnknownParameter"), "{key}");
    }
    let e = client
        .call(
            "ModifyListener",
            &json!({"LoadBalancerId": LB, "ListenerId": id, "SniSwitch": 0}),
            true,
        )
        .await
        .expect_err("SNI 1 -> 0");
    assert_eq!(e.vendor_code(), Some(INVALID_VALUE));
    emu.shutdown().await;
}

#[tokio::test]
async fn the_adapter_never_deletes_without_an_id() {
    let emu = start().await;
    let p = profile(&emu);
    let clb = common::provider(&emu);
    // The client's delete takes an ownership proof, which is never made
    // for a blank ID: the provider refuses before any call.
    let calls = clb.client().api().stats().calls;
    match listener_core::Provider::delete(&clb, &"  ".into()).await {
        Err(listener_core::Error::Config { field, .. }) => assert_eq!(field, "listener_id"),
        other => panic!("{other:?}"),
    }
    assert_eq!(clb.client().api().stats().calls, calls, "nothing sent");
    // Why: the batch action without IDs deletes everything.
    let client = api_client(&p, RetryPolicy::none());
    let answer = client
        .call(
            "CreateListener",
            &json!({"LoadBalancerId": LB, "Protocol": "TCP", "Ports": [1, 2]}),
            false,
        )
        .await
        .expect("created");
    wait_idle(&client, &answer.request_id).await;
    let answer = client
        .call("DeleteLoadBalancerListeners", &json!({"LoadBalancerId": LB}), true)
        .await
        .expect("delete all");
    wait_idle(&client, &answer.request_id).await;
    assert_eq!(common::count(&emu), 0);
    emu.shutdown().await;
}

async fn wait_idle(client: &tencent_api::TencentClient, task: &str) {
    for _ in 0..200 {
        let status = client
            .call("DescribeTaskStatus", &json!({"TaskId": task}), true)
            .await
            .expect("task status");
        if status.body["Status"] != 2 {
            assert_eq!(status.body["Status"], 0, "task {task} failed");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(15)).await;
    }
    panic!("task {task} did not finish");
}

/// `SessionType` on TCP_SSL: CreateListener documents TCP and UDP only and
/// the emulator answers so; ModifyListener documents TCP_SSL and QUIC too
/// and takes it. `check` accepts it (the sources disagree).
#[tokio::test]
async fn session_type_on_tcp_ssl_is_refused_by_create_and_taken_by_modify() {
    let emu = start().await;
    let p = profile(&emu);
    let client = api_client(&p, RetryPolicy::none());
    let s = ext(spec(Protocol::TcpSsl, 5443), json!({"session_type": "normal"}));
    assert!(check(&p, &s).is_empty());
    let e = client
        .call(
            "CreateListener",
            &translate::create_params(&p, LB, &s, &s.ports.ranges()),
            false,
        )
        .await
        .expect_err("CreateListener takes SessionType on TCP and UDP only");
    assert_eq!(e.vendor_code(), Some(INVALID_VALUE));
    let plain = spec(Protocol::TcpSsl, 5443);
    let answer = client
        .call(
            "CreateListener",
            &translate::create_params(&p, LB, &plain, &plain.ports.ranges()),
            false,
        )
        .await
        .expect("created");
    wait_idle(&client, &answer.request_id).await;
    let id = answer.body["ListenerIds"][0].as_str().unwrap_or_default().to_string();
    client
        .call(
            "ModifyListener",
            &json!({"LoadBalancerId": LB, "ListenerId": id, "SessionType": "NORMAL"}),
            true,
        )
        .await
        .expect("ModifyListener takes SessionType on TCP_SSL");
    emu.shutdown().await;
}
