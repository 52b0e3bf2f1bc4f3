//! One test per rule (field and rule asserted, never message text), then
//! the translation both ways.

use super::*;
use listener_core::{ClientAuth, ClientIp, CustomHealthCheck, Forwarding, PortEntry};

fn profile() -> ProfileConfig {
    let mut p = ProfileConfig::new(API, "lb-test0001");
    p.region = Some("ap-guangzhou".into());
    for (alias, id) in [
        ("web", "cert-web1"),
        ("ecc", "cert-ecc1"),
        ("ca", "ca-root1"),
        ("ca2", "ca-root2"),
    ] {
        p.aliases.certificates.insert(alias.into(), id.into());
    }
    p
}

fn spec(protocol: Protocol) -> ListenerSpec {
    let mut s = ListenerSpec::new("web", protocol, Ports::Single(8443));
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

fn with_ext(mut s: ListenerSpec, v: Value) -> ListenerSpec {
    s.extensions.0.insert(API.into(), v);
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

#[track_caller]
fn rejects(s: &ListenerSpec, field: &str, rule: &str) {
    let found = check(&profile(), s);
    assert!(
        found.iter().any(|r| r.field == field && r.rule == rule),
        "expected {field} [{rule}], got {:?}",
        found.iter().map(|r| (r.field.as_str(), r.rule)).collect::<Vec<_>>()
    );
}

#[track_caller]
fn accepts(s: &ListenerSpec) {
    let found = check(&profile(), s);
    assert!(found.is_empty(), "unexpected rejections: {found:?}");
}

#[test]
fn accepts_every_protocol_in_its_plain_form() {
    for p in Protocol::ALL {
        accepts(&spec(p));
    }
}

#[test]
fn neutral_violations_are_reported_as_invalid_spec() {
    // Certificate on a non-TLS listener.
    let mut s = spec(Protocol::Tcp);
    s.tls = spec(Protocol::Https).tls;
    rejects(&s, "tls", INVALID_SPEC);
    // TCP_SSL / non-SNI HTTPS without certificate.
    for p in [Protocol::TcpSsl, Protocol::Https] {
        let mut s = spec(p);
        if let Some(t) = s.tls.as_mut() {
            t.certificates.clear();
        }
        rejects(&s, "tls.certificates", INVALID_SPEC);
    }
    // MUTUAL without CA.
    let mut s = spec(Protocol::Https);
    if let Some(t) = s.tls.as_mut() {
        t.client_auth = Some(ClientAuth {
            verify: ClientVerify::Required,
            ca_certificates: vec![],
        });
    }
    rejects(&s, "tls.client_auth.ca_certificates", INVALID_SPEC);
    // HttpCode bitmask: status classes outside 1-5.
    let mut s = spec(Protocol::Tcp);
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
    rejects(&s, "health_check.http.healthy_status_classes[0]", INVALID_SPEC);
    // TimeOut not below IntervalTime, both set.
    let mut s = spec(Protocol::Tcp);
    s.health_check = Some(HealthCheck {
        timeout_secs: Some(5),
        interval_secs: Some(5),
        ..hc()
    });
    rejects(&s, "health_check.timeout_secs", INVALID_SPEC);
    // Unknown alias.
    let mut s = spec(Protocol::Https);
    if let Some(t) = s.tls.as_mut() {
        t.certificates = vec!["nope".into()];
    }
    rejects(&s, "tls.certificates[0]", "alias_unknown");
}

#[test]
fn rejects_access_which_clb_keeps_on_security_groups() {
    let mut s = spec(Protocol::Tcp);
    s.access = Some(listener_core::Access {
        mode: listener_core::AccessMode::Deny,
        cidrs: vec!["10.0.0.0/8".into()],
    });
    rejects(&s, "access", UNSUPPORTED);
}

#[test]
fn rejects_tags_which_clb_keeps_on_the_instance() {
    let mut s = spec(Protocol::Tcp);
    s.tags.insert("team".into(), "web".into());
    rejects(&s, "tags", UNSUPPORTED);
}

#[test]
fn rejects_enabled_false_which_clb_cannot_switch_and_accepts_true() {
    let mut s = spec(Protocol::Tcp);
    s.enabled = Some(false);
    rejects(&s, "enabled", UNSUPPORTED);
    s.enabled = Some(true);
    accepts(&s);
}

#[test]
fn accepts_http3_false_which_every_clb_listener_is_and_rejects_true() {
    let mut s = spec(Protocol::Https);
    if let Some(t) = s.tls.as_mut() {
        t.http3 = Some(false);
    }
    accepts(&s);
    if let Some(t) = s.tls.as_mut() {
        t.http3 = Some(true);
    }
    rejects(&s, "tls.http3", UNSUPPORTED);
}

#[test]
fn rejects_neutral_fields_clb_cannot_express() {
    let mut s = spec(Protocol::Https);
    s.description = Some("d".into());
    if let Some(t) = s.tls.as_mut() {
        t.policy = Some("tls-1-2".into());
        t.http2 = Some(true);
        t.http3 = Some(true);
        t.client_auth = Some(ClientAuth {
            verify: ClientVerify::Required,
            ca_certificates: vec!["ca".into(), "ca2".into()],
        });
    }
    s.timeouts = Some(Timeouts {
        idle_secs: None,
        request_secs: Some(30),
    });
    s.client_ip = Some(ClientIp {
        mode: ClientIpMode::Headers,
        headers: Some(listener_core::ForwardedHeaders::default()),
    });
    for field in [
        "description",
        "tls.policy",
        "tls.http2",
        "tls.http3",
        "tls.client_auth.ca_certificates",
        "timeouts.request_secs",
        "client_ip.headers",
    ] {
        rejects(&s, field, UNSUPPORTED);
    }
    let mut q = spec(Protocol::Quic);
    q.client_ip = Some(ClientIp {
        mode: ClientIpMode::Headers,
        headers: None,
    });
    rejects(&q, "client_ip.mode", UNSUPPORTED);
    let mut t = spec(Protocol::Tcp);
    t.session_persistence = Some(SessionPersistence {
        by: AffinityKey::SourceIp,
        timeout_secs: None,
    });
    rejects(&t, "session_persistence.timeout_secs", UNSUPPORTED);
}

#[test]
fn accepts_headers_mode_on_http_and_default_target_everywhere() {
    let mut s = spec(Protocol::Http);
    s.client_ip = Some(ClientIp {
        mode: ClientIpMode::Headers,
        headers: None,
    });
    // The forwarding section describes the backend side, which CLB binds on
    // rules and target groups: accepted so one file serves every cloud,
    // not sent, and declared not read back.
    s.forwarding = Some(Forwarding {
        backend_protocol: Some(listener_core::BackendProtocol::Http),
        default_target: Some("pool".into()),
    });
    let mut p = profile();
    p.aliases.targets.insert("pool".into(), "lbtg-1".into());
    assert!(check(&p, &s).is_empty());
}

#[test]
fn rejects_names_outside_1_to_80_characters() {
    let mut s = spec(Protocol::Tcp);
    s.name = "é".repeat(81);
    rejects(&s, "name", LENGTH);
    // 80 in all with the default owner's management mark `--lctl` (6).
    s.name = "é".repeat(75);
    rejects(&s, "name", LENGTH);
    s.name = "é".repeat(74);
    accepts(&s);
}

#[test]
fn accepts_ranges_mixed_with_single_ports_and_creates_one_call_per_shape() {
    let mut s = spec(Protocol::Tcp);
    s.ports = Ports::List(vec![
        PortEntry::Port(80),
        PortEntry::Range(PortRange { from: 8000, to: 8100 }),
        PortEntry::Port(81),
    ]);
    accepts(&s);
    let groups = create_groups(std::slice::from_ref(&s), MAX_PORTS_PER_CALL);
    assert_eq!(groups.len(), 2, "single ports and the range go in separate calls");
    let singles = create_params_named(&profile(), "lb-1", &s, &groups[0].ports);
    assert_eq!(singles["Ports"], json!([80, 81]));
    assert!(singles.get("EndPort").is_none() && singles.get("FullEndPorts").is_none());
    let range = create_params_named(&profile(), "lb-1", &s, &groups[1].ports);
    assert_eq!(
        (range["Ports"].clone(), range["EndPort"].clone()),
        (json!([8000]), json!(8100))
    );
}

#[test]
fn more_than_50_listeners_in_one_spec_is_a_warning_not_a_refusal() {
    let mut s = spec(Protocol::Tcp);
    s.ports = Ports::List((1000..1051).map(PortEntry::Port).collect());
    accepts(&s);
    let warnings = listener_quota_warnings(std::slice::from_ref(&s));
    assert_eq!(warnings.iter().map(|(i, _)| *i).collect::<Vec<_>>(), vec![0]);
    let alone = check_with_warnings(&profile(), &s).warnings;
    let got: Vec<_> = alone.iter().map(|w| (w.field.as_str(), w.rule)).collect();
    assert_eq!(got, vec![("ports", LIMIT)]);
}

#[test]
fn rejects_certificates_and_client_cas_on_https_with_sni() {
    let mut s = spec(Protocol::Https);
    if let Some(t) = s.tls.as_mut() {
        t.sni = Some(true);
        t.client_auth = Some(ClientAuth {
            verify: ClientVerify::Required,
            ca_certificates: vec!["ca".into()],
        });
    }
    rejects(&s, "tls.certificates", INVALID_VALUE);
    rejects(&s, "tls.client_auth", INVALID_VALUE);
    if let Some(t) = s.tls.as_mut() {
        t.certificates.clear();
        t.client_auth = None;
    }
    accepts(&s);
}

#[test]
fn accepts_one_certificate_on_quic_but_not_several() {
    let mut s = spec(Protocol::Quic);
    accepts(&s);
    if let Some(t) = s.tls.as_mut() {
        t.certificates.push("ecc".into());
    }
    rejects(&s, "tls.certificates", INVALID_VALUE);
}

#[test]
fn rejects_health_checks_on_http_and_https() {
    for p in [Protocol::Http, Protocol::Https] {
        let mut s = spec(p);
        s.health_check = Some(hc());
        rejects(&s, "health_check", INVALID_VALUE);
    }
}

#[test]
fn rejects_check_types_the_protocol_does_not_allow() {
    use HealthCheckKind as K;
    for (p, kind) in [
        (Protocol::Quic, K::Ping),
        (Protocol::Quic, K::Custom),
        (Protocol::TcpSsl, K::Custom),
    ] {
        let mut s = spec(p);
        s.health_check = Some(HealthCheck {
            kind: Some(kind),
            ..hc()
        });
        rejects(&s, "health_check.kind", INVALID_VALUE);
    }
    let mut s = spec(Protocol::Udp);
    s.health_check = Some(HealthCheck {
        kind: Some(K::Ping),
        ..hc()
    });
    accepts(&s);
}

#[test]
fn rejects_an_http_check_on_tcp_without_domain() {
    let mut s = spec(Protocol::Tcp);
    s.health_check = Some(HealthCheck {
        kind: Some(HealthCheckKind::Http),
        ..hc()
    });
    rejects(&s, "health_check.http.domain", MISSING);
}

#[test]
fn rejects_health_values_outside_clb_ranges_defaults_included() {
    let mut s = spec(Protocol::Tcp);
    s.health_check = Some(HealthCheck {
        timeout_secs: Some(1),
        interval_secs: Some(301),
        healthy_threshold: Some(1),
        unhealthy_threshold: Some(1),
        ..hc()
    });
    rejects(&s, "health_check.timeout_secs", INVALID_VALUE);
    rejects(&s, "health_check.healthy_threshold", INVALID_VALUE);
    rejects(&s, "health_check.unhealthy_threshold", INVALID_VALUE);
    // Interval 2 with the default timeout of 2.
    s.health_check = Some(HealthCheck {
        interval_secs: Some(2),
        ..hc()
    });
    rejects(&s, "health_check.interval_secs", INVALID_VALUE);
    // Timeout 5 with the default interval of 5.
    s.health_check = Some(HealthCheck {
        timeout_secs: Some(5),
        ..hc()
    });
    rejects(&s, "health_check.timeout_secs", INVALID_VALUE);
}

#[test]
fn rejects_a_check_port_on_tcp_ssl_and_quic() {
    let mut s = spec(Protocol::TcpSsl);
    s.health_check = Some(HealthCheck {
        port: Some(8080),
        ..hc()
    });
    rejects(&s, "health_check.port", INVALID_VALUE);
}

#[test]
fn rejects_custom_payloads_that_are_not_text_or_hex() {
    let mut s = spec(Protocol::Udp);
    s.health_check = Some(HealthCheck {
        kind: Some(HealthCheckKind::Custom),
        custom: Some(CustomHealthCheck {
            send: Some("XYZ".into()),
            expect: Some("\u{e9}".into()),
        }),
        ..hc()
    });
    rejects(&s, "health_check.custom.expect", FORMAT);
    let hex = with_ext(s, json!({"health_check_context_type": "hex"}));
    rejects(&hex, "health_check.custom.send", FORMAT);
}

#[test]
fn rejects_probe_options_without_their_probe_kind() {
    let s = with_ext(
        spec(Protocol::Tcp),
        json!({"health_check_http_version": "HTTP/1.0", "health_check_context_type": "text", "health_check_source_ip_type": 2}),
    );
    rejects(&s, &ext("health_check_http_version"), INVALID_VALUE);
    rejects(&s, &ext("health_check_context_type"), INVALID_VALUE);
    rejects(&s, &ext("health_check_source_ip_type"), INVALID_VALUE);
}

#[test]
fn rejects_session_persistence_off_layer4_or_outside_30_to_3600() {
    let persist = |t| {
        Some(SessionPersistence {
            by: AffinityKey::SourceIp,
            timeout_secs: Some(t),
        })
    };
    let mut s = spec(Protocol::TcpSsl);
    s.session_persistence = persist(60);
    rejects(&s, "session_persistence", INVALID_VALUE);
    let mut s = spec(Protocol::Udp);
    s.session_persistence = persist(29);
    rejects(&s, "session_persistence.timeout_secs", INVALID_VALUE);
    s.session_persistence = persist(3600);
    accepts(&s);
}

#[test]
fn rejects_schedulers_clb_lacks_and_any_scheduler_on_http() {
    let mut s = spec(Protocol::Tcp);
    s.scheduler = Some(Scheduler::RoundRobin);
    rejects(&s, "scheduler", INVALID_VALUE);
    s.scheduler = Some(Scheduler::LeastLatency);
    rejects(&s, "scheduler", INVALID_VALUE);
    let mut h = spec(Protocol::Http);
    h.scheduler = Some(Scheduler::WeightedRoundRobin);
    rejects(&h, "scheduler", INVALID_VALUE);
}

#[test]
fn rejects_quic_cid_unless_udp_with_wrr() {
    let s = with_ext(spec(Protocol::Tcp), json!({"session_type": "quic_cid"}));
    rejects(&s, &ext("session_type"), INVALID_VALUE);
    let mut u = with_ext(spec(Protocol::Udp), json!({"session_type": "QUIC_CID"}));
    u.scheduler = Some(Scheduler::LeastConnections);
    rejects(&u, &ext("session_type"), INVALID_VALUE);
    u.scheduler = Some(Scheduler::WeightedRoundRobin);
    accepts(&u);
    let h = with_ext(spec(Protocol::Http), json!({"session_type": "normal"}));
    rejects(&h, &ext("session_type"), INVALID_VALUE);
    let ssl = with_ext(spec(Protocol::TcpSsl), json!({"session_type": "quic_cid"}));
    rejects(&ssl, &ext("session_type"), INVALID_VALUE);
}

/// ModifyListener documents `SessionType` on TCP/UDP/TCP_SSL/QUIC, the
/// CreateListener seed on TCP/UDP: sources disagree, so it is accepted.
#[test]
fn accepts_session_type_on_tcp_ssl_and_quic() {
    for p in [Protocol::TcpSsl, Protocol::Quic] {
        accepts(&with_ext(spec(p), json!({"session_type": "normal"})));
    }
    rejects(
        &with_ext(spec(Protocol::Quic), json!({"session_type": "quic_cid"})),
        &ext("session_type"),
        INVALID_VALUE,
    );
}

#[test]
fn rejects_keepalive_on_layer4() {
    let s = with_ext(spec(Protocol::Tcp), json!({"keepalive": true}));
    rejects(&s, &ext("keepalive"), INVALID_VALUE);
    accepts(&with_ext(spec(Protocol::Https), json!({"keepalive": true})));
}

#[test]
fn rejects_proxy_protocol_outside_tcp_ssl_and_quic() {
    let pp = Some(ClientIp {
        mode: ClientIpMode::ProxyProtocol,
        headers: None,
    });
    for p in [Protocol::Tcp, Protocol::Udp] {
        let mut s = spec(p);
        s.client_ip = pp.clone();
        rejects(&s, "client_ip.mode", INVALID_VALUE);
    }
    let mut h = spec(Protocol::Http);
    h.client_ip = pp.clone();
    rejects(&h, "client_ip.mode", INVALID_SPEC);
    for p in [Protocol::TcpSsl, Protocol::Quic] {
        let mut s = spec(p);
        s.client_ip = pp.clone();
        accepts(&s);
    }
}

#[test]
fn rejects_idle_timeouts_off_layer4_or_out_of_range() {
    let idle = |i| {
        Some(Timeouts {
            idle_secs: Some(i),
            request_secs: None,
        })
    };
    let mut s = spec(Protocol::Http);
    s.timeouts = idle(60);
    rejects(&s, "timeouts.idle_secs", INVALID_VALUE);
    let mut t = spec(Protocol::Tcp);
    t.timeouts = idle(5);
    rejects(&t, "timeouts.idle_secs", INVALID_VALUE);
    t.timeouts = idle(3601);
    rejects(&t, "timeouts.idle_secs", INVALID_VALUE);
}

/// 900 s (shared) and 1980 s (LCU) are raised to 3600 s by ticket
/// (ModifyListener SDK model): the vendor answers, `lcu` or not.
#[test]
fn accepts_idle_timeouts_up_to_3600_without_lcu() {
    let mut t = spec(Protocol::Tcp);
    for i in [901, 1981, 3600] {
        t.timeouts = Some(Timeouts {
            idle_secs: Some(i),
            request_secs: None,
        });
        accepts(&t);
    }
}

#[test]
fn rejects_connection_caps_on_http_and_below_minus_one() {
    let s = with_ext(spec(Protocol::Https), json!({"max_conn": 100}));
    rejects(&s, &ext("max_conn"), INVALID_VALUE);
    let t = with_ext(spec(Protocol::Tcp), json!({"max_cps": -2}));
    rejects(&t, &ext("max_cps"), INVALID_VALUE);
    accepts(&with_ext(spec(Protocol::Quic), json!({"max_conn": -1, "max_cps": 500})));
}

#[test]
fn rejects_layer4_only_options_elsewhere_and_long_reschedule_times() {
    let s = with_ext(
        spec(Protocol::TcpSsl),
        json!({"target_type": "node", "deregister_target_rst": true, "reschedule_unhealthy": true, "reschedule_interval": 10}),
    );
    for f in [
        "target_type",
        "deregister_target_rst",
        "reschedule_unhealthy",
        "reschedule_interval",
    ] {
        rejects(&s, &ext(f), INVALID_VALUE);
    }
    let t = with_ext(spec(Protocol::Udp), json!({"reschedule_start_time": 3601}));
    rejects(&t, &ext("reschedule_start_time"), INVALID_VALUE);
}

#[test]
fn rejects_creation_switches_on_the_wrong_protocol() {
    let s = with_ext(spec(Protocol::Tcp), json!({"h2c": true, "ssl_close": true}));
    rejects(&s, &ext("h2c"), INVALID_VALUE);
    rejects(&s, &ext("ssl_close"), INVALID_VALUE);
    accepts(&with_ext(spec(Protocol::Http), json!({"h2c": true})));
    accepts(&with_ext(spec(Protocol::TcpSsl), json!({"ssl_close": true})));
}

#[test]
fn rejects_unknown_extension_fields_and_ignores_other_adapters() {
    let mut s = with_ext(spec(Protocol::Tcp), json!({"snatt": true}));
    rejects(&s, &format!("extensions.{API}"), listener_core::EXTENSION_INVALID);
    s.extensions.0.remove(API);
    s.extensions.0.insert("alibaba-alb".into(), json!({"whatever": 1}));
    accepts(&s);
}

#[test]
fn check_set_warns_past_the_adjustable_quota_and_refuses_shared_port_spaces() {
    let mut a = spec(Protocol::Tcp);
    a.ports = Ports::List((1000..1030).map(PortEntry::Port).collect());
    let mut b = spec(Protocol::Udp);
    b.ports = Ports::List((1000..1030).map(PortEntry::Port).collect());
    let out = check_set(&[a.clone(), b.clone()]);
    assert!(out.is_empty(), "the quota of 50 is adjustable: {out:?}");
    let warned = listener_quota_warnings(&[a.clone(), b]);
    let got: Vec<_> = warned.iter().map(|(i, w)| (*i, w.field.as_str(), w.rule)).collect();
    assert_eq!(got, vec![(1, "listeners", LIMIT)]);
    let mut c = spec(Protocol::Http);
    c.ports = Ports::Single(1005);
    let out = check_set(&[a, c]);
    assert!(out
        .iter()
        .any(|(i, r)| *i == 1 && r.field == "ports" && r.rule == PORT_CHECK));
}

// ---------------------------------------------------------------------------
// translation
// ---------------------------------------------------------------------------

#[test]
fn https_one_way_matches_the_seed_example() {
    let mut s = spec(Protocol::Https);
    s.ports = Ports::Single(7572);
    let v = create_params(&profile(), "lb-cuxw2rm0", &s, &s.ports.ranges());
    assert_eq!(v["Protocol"], "HTTPS");
    assert_eq!(v["Ports"], json!([7572]));
    assert_eq!(
        v["Certificate"],
        json!({"SSLMode": "UNIDIRECTIONAL", "CertId": "cert-web1"})
    );
    assert!(v.get("MultiCertInfo").is_none());
    assert_eq!(v["SniSwitch"], 0);
}

#[test]
fn mutual_tls_sends_the_ca_and_verify_mode() {
    let mut s = spec(Protocol::Https);
    if let Some(t) = s.tls.as_mut() {
        t.client_auth = Some(ClientAuth {
            verify: ClientVerify::Optional,
            ca_certificates: vec!["ca".into()],
        });
    }
    let v = create_params(&profile(), "lb-1", &s, &s.ports.ranges());
    assert_eq!(
        v["Certificate"],
        json!({"SSLMode": "MUTUAL", "SSLVerifyClient": "OPTIONAL", "CertId": "cert-web1", "CertCaId": "ca-root1"})
    );
}

#[test]
fn several_server_certificates_become_multi_cert_info() {
    let mut s = spec(Protocol::Https);
    if let Some(t) = s.tls.as_mut() {
        t.certificates.push("ecc".into());
        t.client_auth = Some(ClientAuth {
            verify: ClientVerify::Required,
            ca_certificates: vec!["ca".into()],
        });
    }
    let v = create_params(&profile(), "lb-1", &s, &s.ports.ranges());
    assert!(v.get("Certificate").is_none());
    assert_eq!(
        v["MultiCertInfo"],
        json!({"SSLMode": "MUTUAL", "SSLVerifyClient": "ON",
               "CertList": [{"CertId": "cert-web1"}, {"CertId": "cert-ecc1"}, {"CertId": "ca-root1"}]})
    );
}

#[test]
fn several_ports_pair_with_names_and_ranges_use_end_ports() {
    let mut s = spec(Protocol::Tcp);
    s.ports = Ports::List(vec![PortEntry::Port(7570), PortEntry::Port(7569)]);
    let v = create_params(&profile(), "lb-1", &s, &s.ports.ranges());
    assert_eq!(v["Ports"], json!([7570, 7569]));
    assert_eq!(v["ListenerNames"], json!(["web--lctl", "web--lctl"]));
    assert!(v.get("EndPort").is_none());

    s.ports = Ports::Range(PortRange { from: 8000, to: 8100 });
    let v = create_params(&profile(), "lb-1", &s, &s.ports.ranges());
    assert_eq!((v["Ports"].clone(), v["EndPort"].clone()), (json!([8000]), json!(8100)));

    s.ports = Ports::List(vec![
        PortEntry::Range(PortRange { from: 7000, to: 7010 }),
        PortEntry::Range(PortRange { from: 8000, to: 8010 }),
    ]);
    let v = create_params(&profile(), "lb-1", &s, &s.ports.ranges());
    assert_eq!(v["Ports"], json!([7000, 8000]));
    assert_eq!(v["FullEndPorts"], json!([7010, 8010]));
}

#[test]
fn health_check_translates_with_http_and_custom_details() {
    let mut s = spec(Protocol::Tcp);
    s.health_check = Some(HealthCheck {
        kind: Some(HealthCheckKind::Http),
        interval_secs: Some(7),
        timeout_secs: Some(5),
        healthy_threshold: Some(4),
        unhealthy_threshold: Some(4),
        http: Some(HttpHealthCheck {
            path: Some("/healthz".into()),
            domain: Some("a.example".into()),
            method: Some(HttpMethod::Get),
            healthy_status_classes: vec![2, 3],
        }),
        ..hc()
    });
    let v = health_check_param(&s, &ClbOptions::default()).unwrap_or_default();
    assert_eq!(
        v,
        json!({"HealthSwitch": 1, "TimeOut": 5, "IntervalTime": 7, "HealthNum": 4, "UnHealthNum": 4,
               "CheckType": "HTTP", "HttpCheckPath": "/healthz", "HttpCheckDomain": "a.example",
               "HttpCheckMethod": "GET", "HttpCode": 6, "HttpVersion": "HTTP/1.1"})
    );
    let mut u = spec(Protocol::Udp);
    u.health_check = Some(hc());
    assert_eq!(
        health_check_param(&u, &ClbOptions::default()),
        Some(json!({"HealthSwitch": 1}))
    );
}

#[test]
fn http_code_mask_round_trips() {
    assert_eq!(http_code_mask(&[1, 2, 3, 4, 5]), 31);
    assert_eq!(http_code_mask(&[2, 3]), 6);
    assert_eq!(http_code_classes(6), vec![2, 3]);
    assert_eq!(http_code_classes(31), vec![1, 2, 3, 4, 5]);
}

#[test]
fn extensions_translate_to_their_parameters() {
    let mut s = with_ext(
        spec(Protocol::Udp),
        json!({"snat": true, "max_conn": 10, "max_cps": -1, "target_type": "target_group", "session_type": "quic_cid",
               "deregister_target_rst": true, "reschedule_unhealthy": true, "reschedule_start_time": 25,
               "reschedule_interval": 50, "data_compress_mode": "compatibility", "lcu": true}),
    );
    s.timeouts = Some(Timeouts {
        idle_secs: Some(1200),
        request_secs: None,
    });
    accepts(&s);
    let v = create_params(&profile(), "lb-1", &s, &s.ports.ranges());
    for (k, want) in [
        ("SnatEnable", json!(true)),
        ("MaxConn", json!(10)),
        ("MaxCps", json!(-1)),
        ("TargetType", json!("TARGETGROUP")),
        ("SessionType", json!("QUIC_CID")),
        ("DeregisterTargetRst", json!(true)),
        ("RescheduleUnhealthy", json!(true)),
        ("RescheduleStartTime", json!(25)),
        ("RescheduleInterval", json!(50)),
        ("DataCompressMode", json!("compatibility")),
        ("IdleConnectTimeout", json!(1200)),
    ] {
        assert_eq!(v[k], want, "{k}");
    }
    assert!(v.get("lcu").is_none() && v.get("Lcu").is_none());
}

#[test]
fn proxy_protocol_is_sent_only_where_clb_takes_it() {
    let mut s = spec(Protocol::Quic);
    s.client_ip = Some(ClientIp {
        mode: ClientIpMode::ProxyProtocol,
        headers: None,
    });
    let v = create_params(&profile(), "lb-1", &s, &s.ports.ranges());
    assert_eq!(v["ProxyProtocol"], true);
    let mut h = spec(Protocol::Http);
    h.client_ip = Some(ClientIp {
        mode: ClientIpMode::Headers,
        headers: None,
    });
    let v = create_params(&profile(), "lb-1", &h, &h.ports.ranges());
    assert!(v.get("ProxyProtocol").is_none());
}

#[test]
fn describe_reads_back_to_the_same_spec() {
    let p = profile();
    let mut s = spec(Protocol::Https);
    if let Some(t) = s.tls.as_mut() {
        t.certificates.push("ecc".into());
        t.sni = Some(false);
        t.client_auth = Some(ClientAuth {
            verify: ClientVerify::Required,
            ca_certificates: vec!["ca".into()],
        });
    }
    let described = json!({
        "ListenerId": "lbl-abc", "Protocol": "HTTPS", "Port": 8443, "EndPort": 0, "ListenerName": "web",
        "Certificate": {"SSLMode": "MUTUAL", "SSLVerifyClient": "ON", "CertId": "cert-web1",
                        "CertCaId": "ca-root1", "ExtCertIds": ["cert-ecc1"]},
        "HealthCheck": null, "Scheduler": null, "SessionExpireTime": 0, "SniSwitch": 0,
        "KeepaliveEnable": 0, "MaxConn": -1, "MaxCps": -1, "DataCompressMode": "transparent"
    });
    let l = listener_from_describe(&p, "lb-test0001", &described).expect("readable");
    assert_eq!(l.id.0, "lbl-abc");
    assert_eq!(l.instance, "lb-test0001");
    let plan = listener_core::plan_change(&crate::capabilities(), &l.spec, &s);
    assert!(plan.is_empty(), "{:?}", plan.changes);
}

#[test]
fn describe_reads_layer4_fields_and_ranges() {
    let described = json!({
        "ListenerId": "lbl-udp", "Protocol": "UDP", "Port": 9000, "EndPort": 9100, "ListenerName": "game",
        "Certificate": null,
        "HealthCheck": {"HealthSwitch": 1, "TimeOut": 2, "IntervalTime": 5, "HealthNum": 3, "UnHealthNum": 3,
                        "CheckType": "CUSTOM", "ContextType": "HEX", "SendContext": "0A0B", "RecvContext": "0C",
                        "CheckPort": null, "SourceIpType": 0},
        "Scheduler": "LEAST_CONN", "SessionExpireTime": 60, "TargetType": "NODE", "SessionType": "NORMAL",
        "IdleConnectTimeout": 300, "DeregisterTargetRst": false, "RescheduleInterval": 0, "RescheduleStartTime": 0
    });
    let l = listener_from_describe(&profile(), "lb-1", &described).expect("readable");
    assert_eq!(l.spec.ports, Ports::Range(PortRange { from: 9000, to: 9100 }));
    assert_eq!(l.spec.scheduler, Some(Scheduler::LeastConnections));
    assert_eq!(
        l.spec.session_persistence.clone().and_then(|s| s.timeout_secs),
        Some(60)
    );
    assert_eq!(l.spec.timeouts.clone().and_then(|t| t.idle_secs), Some(300));
    let h = l.spec.health_check.clone().expect("health check");
    assert_eq!(h.kind, Some(HealthCheckKind::Custom));
    assert_eq!(h.custom.and_then(|c| c.send), Some("0A0B".into()));
    let o = options(&l.spec).expect("options");
    assert_eq!(o.health_check_context_type, Some(ContextType::Hex));
    assert_eq!(o.target_type, Some(TargetType::Node));
    assert!(listener_from_describe(
        &profile(),
        "lb-1",
        &json!({"ListenerId": "x", "Protocol": "SCTP", "Port": 1})
    )
    .is_none());
}

#[test]
fn modify_sends_only_what_changed() {
    let p = profile();
    let mut current = spec(Protocol::Tcp);
    current.scheduler = Some(Scheduler::WeightedRoundRobin);
    current.timeouts = Some(Timeouts {
        idle_secs: Some(900),
        request_secs: None,
    });
    let mut desired = current.clone();
    assert!(modify_params(&p, "lb-1", "lbl-1", &current, &desired).is_none());
    desired.name = "renamed".into();
    desired.scheduler = Some(Scheduler::LeastConnections);
    let v = modify_params(&p, "lb-1", "lbl-1", &current, &desired).expect("changes");
    assert_eq!(
        v,
        json!({"ListenerName": "renamed--lctl", "Scheduler": "LEAST_CONN", "LoadBalancerId": "lb-1", "ListenerId": "lbl-1"})
    );
}

#[test]
fn update_compares_probe_timeout_with_the_current_interval_not_the_default() {
    let p = profile();
    let mut current = spec(Protocol::Tcp);
    current.health_check = Some(HealthCheck {
        interval_secs: Some(20),
        timeout_secs: Some(2),
        ..hc()
    });
    let mut desired = current.clone();
    desired.health_check = Some(HealthCheck {
        timeout_secs: Some(10),
        ..hc()
    });
    assert!(!check(&p, &desired).is_empty(), "a create assumes the 5 s default");
    assert!(check_update(&p, &current, &desired).is_empty());
    let mut short = current.clone();
    short.health_check = Some(HealthCheck {
        interval_secs: Some(3),
        timeout_secs: Some(2),
        ..hc()
    });
    let r = check_update(&p, &short, &desired);
    assert!(
        r.iter()
            .any(|r| r.field.starts_with("health_check.") && r.rule == INVALID_SPEC),
        "{r:?}"
    );
}

fn https_sni(sni: bool) -> ListenerSpec {
    let mut s = spec(Protocol::Https);
    if let Some(t) = s.tls.as_mut() {
        t.sni = Some(sni);
        if sni {
            t.certificates.clear();
        }
    }
    s
}

#[test]
fn switching_sni_on_is_an_in_place_update_and_off_a_replacement() {
    let caps = crate::capabilities();
    let (off, on) = (https_sni(false), https_sni(true));
    let plan = plan_change(&caps, &off, &on);
    assert!(!plan.is_empty() && !plan.needs_replace(), "{plan:?}");
    let v = modify_params(&profile(), "lb-1", "lbl-1", &off, &on).expect("changes");
    assert_eq!(v["SniSwitch"], json!(1));
    let back = plan_change(&caps, &on, &off);
    assert_eq!(back.immutable, vec!["tls.sni".to_string()]);
    let current = Listener {
        id: ListenerId("lbl-1".into()),
        instance: "lb-1".into(),
        status: ListenerStatus::Running,
        spec: on.clone(),
        owner: None,
        managed: false,
    };
    assert!(matches!(
        refuse_immutable(&caps, &current, &off),
        Err(listener_core::Error::ImmutableField { field, .. }) if field == "tls.sni"
    ));
    assert!(refuse_immutable(&caps, &Listener { spec: off, ..current }, &on).is_ok());
}

#[test]
fn protocol_names_round_trip_case_insensitively() {
    for p in Protocol::ALL {
        assert_eq!(protocol_from_name(protocol_name(p)), Some(p));
    }
    assert_eq!(protocol_from_name("tcp"), Some(Protocol::Tcp));
    assert_eq!(protocol_from_name("SCTP"), None);
}

// ---------------------------------------------------------------------------
// batching
// ---------------------------------------------------------------------------

fn tcp(name: &str, port: u32) -> ListenerSpec {
    ListenerSpec::new(name, Protocol::Tcp, Ports::Single(port))
}

#[test]
fn specs_differing_only_in_name_and_port_share_one_call() {
    let specs: Vec<ListenerSpec> = (0..5).map(|i| tcp(&format!("game-{i}"), 7000 + i)).collect();
    let groups = create_groups(&specs, MAX_PORTS_PER_CALL);
    assert_eq!(groups.len(), 1);
    let v = create_params_named(&profile(), "lb-1", &groups[0].spec, &groups[0].ports);
    assert_eq!(v["Ports"], json!([7000, 7001, 7002, 7003, 7004]));
    assert_eq!(
        v["ListenerNames"],
        json!([
            "game-0--lctl",
            "game-1--lctl",
            "game-2--lctl",
            "game-3--lctl",
            "game-4--lctl"
        ])
    );
    assert!(v.get("EndPort").is_none() && v.get("FullEndPorts").is_none());
}

#[test]
fn different_settings_protocols_and_range_kinds_get_their_own_calls() {
    let mut slow = tcp("slow", 7001);
    slow.scheduler = Some(Scheduler::LeastConnections);
    let udp = ListenerSpec::new("dns", Protocol::Udp, Ports::Single(53));
    let range = ListenerSpec::new("range", Protocol::Tcp, Ports::Range(PortRange { from: 8000, to: 8010 }));
    let specs = vec![tcp("a", 7000), slow, udp, tcp("b", 7002), range];
    let groups = create_groups(&specs, MAX_PORTS_PER_CALL);
    let names: Vec<Vec<&str>> = groups
        .iter()
        .map(|g| g.ports.iter().map(|(_, n)| n.as_str()).collect())
        .collect();
    assert_eq!(names, vec![vec!["a", "b"], vec!["slow"], vec!["dns"], vec!["range"]]);
}

#[test]
fn a_group_never_exceeds_the_per_call_cap() {
    let specs: Vec<ListenerSpec> = (0..7).map(|i| tcp(&format!("t{i}"), 9000 + i)).collect();
    let sizes: Vec<usize> = create_groups(&specs, 3).iter().map(|g| g.ports.len()).collect();
    assert_eq!(sizes, vec![3, 3, 1]);
    // A zero cap still makes progress, one listener per call.
    assert_eq!(create_groups(&specs, 0).len(), 7);
}

#[test]
fn a_multi_port_spec_names_every_port_after_itself() {
    let s = ListenerSpec::new(
        "pool",
        Protocol::Tcp,
        Ports::List(vec![PortEntry::Port(81), PortEntry::Port(82)]),
    );
    let groups = create_groups(std::slice::from_ref(&s), MAX_PORTS_PER_CALL);
    assert_eq!(groups.len(), 1);
    assert_eq!(
        create_params_named(&profile(), "lb-1", &groups[0].spec, &groups[0].ports),
        create_params(&profile(), "lb-1", &s, &s.ports.ranges())
    );
    assert_eq!(groups[0].only(&[PortRange { from: 82, to: 82 }]).len(), 1);
}

#[test]
fn names_carry_the_owner_mark_and_read_back_without_it() {
    let mut p = profile();
    p.owner = Some("team-a".into());
    let spec = ListenerSpec::new("web", Protocol::Tcp, Ports::Single(80));
    let v = create_params_named(&p, "lb-1", &spec, &[(PortRange { from: 80, to: 80 }, "web".into())]);
    assert_eq!(v["ListenerNames"], json!(["web--lctl_team-a"]));
    let record = json!({"ListenerId": "lbl-1", "Protocol": "TCP", "Port": 80, "ListenerName": "web--lctl_team-a"});
    let back = listener_from_describe(&p, "lb-1", &record).expect("listener");
    assert_eq!(back.spec.name, "web");
    assert_eq!(back.owner.as_deref(), Some("team-a"));
    assert!(back.managed);
    // Another owner's mark reads back as theirs; no mark as none.
    let theirs = json!({"ListenerId": "lbl-2", "Protocol": "TCP", "Port": 81, "ListenerName": "web--lctl_team-b"});
    let back = listener_from_describe(&p, "lb-1", &theirs).expect("listener");
    assert_eq!((back.owner.as_deref(), back.managed), (Some("team-b"), false));
    let hand = json!({"ListenerId": "lbl-3", "Protocol": "TCP", "Port": 82, "ListenerName": "by-hand"});
    let back = listener_from_describe(&p, "lb-1", &hand).expect("listener");
    assert_eq!(
        (back.spec.name.as_str(), back.owner.as_deref(), back.managed),
        ("by-hand", None, false)
    );
    // A rename keeps the mark.
    let mut renamed = spec.clone();
    renamed.name = "web2".into();
    let v = modify_params(&p, "lb-1", "lbl-1", &spec, &renamed).expect("changes");
    assert_eq!(v["ListenerName"], json!("web2--lctl_team-a"));
}

#[test]
fn rejects_a_name_too_long_with_its_mark() {
    let mut p = profile();
    p.owner = Some("team-a".into());
    // 80 characters in all: 67 of the name and 13 of the mark.
    let fits = ListenerSpec::new("n".repeat(67), Protocol::Tcp, Ports::Single(80));
    assert!(check(&p, &fits).is_empty(), "{:?}", check(&p, &fits));
    let long = ListenerSpec::new("n".repeat(68), Protocol::Tcp, Ports::Single(80));
    let r = check(&p, &long);
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!((r[0].field.as_str(), r[0].rule), ("name", LENGTH));
}

#[test]
fn rejects_a_name_that_would_read_back_as_marked() {
    let spec = ListenerSpec::new("web--lctl_x", Protocol::Tcp, Ports::Single(80));
    let r = check(&profile(), &spec);
    assert!(r.iter().any(|r| r.field == "name" && r.rule == INVALID_SPEC), "{r:?}");
}
