//! Every neutral cross-field rule: one spec that passes, one that fails, and
//! the path and rule the failure names.

use listener_core::*;

fn https() -> ListenerSpec {
    let mut s = ListenerSpec::new("web", Protocol::Https, Ports::Single(443));
    s.tls = Some(Tls {
        certificates: vec!["web-cert".into()],
        policy: None,
        http2: None,
        http3: None,
        sni: None,
        client_auth: None,
    });
    s
}

fn tcp() -> ListenerSpec {
    ListenerSpec::new("db", Protocol::Tcp, Ports::Single(5432))
}

fn udp() -> ListenerSpec {
    ListenerSpec::new("dns", Protocol::Udp, Ports::Single(53))
}

/// Assert `spec` breaks exactly the rule `rule` at `path` (among possibly others).
fn assert_violation(spec: &ListenerSpec, path: &str, rule: &str) {
    let v = spec.violations();
    assert!(
        v.iter().any(|v| v.path == path && v.rule == rule),
        "expected {rule} at {path}, got {v:?}"
    );
}

fn assert_valid(spec: &ListenerSpec) {
    assert_eq!(spec.violations(), vec![], "{spec:?}");
}

#[test]
fn baseline_specs_are_valid() {
    assert_valid(&https());
    assert_valid(&tcp());
    assert_valid(&udp());
}

#[test]
fn https_needs_a_server_certificate() {
    let mut s = https();
    s.tls.as_mut().unwrap().certificates.clear();
    assert_violation(&s, "tls.certificates", "tls_requires_certificate");
    // SNI moves certificates to rules, so none on the listener is fine.
    s.tls.as_mut().unwrap().sni = Some(true);
    assert_valid(&s);
}

#[test]
fn tls_protocols_need_a_tls_section() {
    for p in [Protocol::Https, Protocol::Quic, Protocol::TcpSsl] {
        let s = ListenerSpec::new("x", p, Ports::Single(443));
        assert_violation(&s, "tls", "tls_required");
    }
    let mut q = ListenerSpec::new("x", Protocol::Quic, Ports::Single(443));
    q.tls = https().tls;
    assert_valid(&q);
}

#[test]
fn udp_tcp_and_http_have_no_tls() {
    for mut s in [udp(), tcp(), ListenerSpec::new("h", Protocol::Http, Ports::Single(80))] {
        s.tls = https().tls;
        assert_violation(&s, "tls", "tls_not_allowed");
    }
}

#[test]
fn mutual_tls_needs_a_ca() {
    let mut s = https();
    s.tls.as_mut().unwrap().client_auth = Some(ClientAuth {
        verify: ClientVerify::Required,
        ca_certificates: vec![],
    });
    assert_violation(&s, "tls.client_auth.ca_certificates", "mutual_tls_requires_ca");
    s.tls.as_mut().unwrap().client_auth.as_mut().unwrap().ca_certificates = vec!["ca-1".into(), "ca-2".into()];
    assert_valid(&s);
}

#[test]
fn repeated_alias_is_named_by_index() {
    let mut s = https();
    s.tls.as_mut().unwrap().certificates = vec!["a".into(), "a".into()];
    assert_violation(&s, "tls.certificates[1]", "alias_repeated");
}

#[test]
fn http2_http3_and_sni_are_https_only() {
    let mut s = ListenerSpec::new("q", Protocol::Quic, Ports::Single(443));
    s.tls = https().tls;
    s.tls.as_mut().unwrap().http3 = Some(true);
    assert_violation(&s, "tls.http3", "https_only");
    let mut ok = https();
    ok.tls.as_mut().unwrap().http3 = Some(true);
    ok.tls.as_mut().unwrap().http2 = Some(true);
    assert_valid(&ok);
}

#[test]
fn ports_must_be_1_to_65535() {
    let s = ListenerSpec::new("x", Protocol::Tcp, Ports::Single(0));
    assert_violation(&s, "ports", "port_range");
    let s = ListenerSpec::new("x", Protocol::Tcp, Ports::Single(70000));
    assert_violation(&s, "ports", "port_range");
    let s = ListenerSpec::new(
        "x",
        Protocol::Tcp,
        Ports::List(vec![PortEntry::Port(80), PortEntry::Port(65536)]),
    );
    assert_violation(&s, "ports[1]", "port_range");
    let s = ListenerSpec::new("x", Protocol::Tcp, Ports::Range(PortRange { from: 1, to: 65535 }));
    assert_valid(&s);
}

#[test]
fn range_start_must_not_exceed_end() {
    let s = ListenerSpec::new("x", Protocol::Tcp, Ports::Range(PortRange { from: 9000, to: 8000 }));
    assert_violation(&s, "ports", "range_order");
    let s = ListenerSpec::new("x", Protocol::Tcp, Ports::Range(PortRange { from: 8000, to: 9000 }));
    assert_valid(&s);
}

#[test]
fn ports_may_not_repeat_within_a_listener() {
    let s = ListenerSpec::new(
        "x",
        Protocol::Tcp,
        Ports::List(vec![
            PortEntry::Range(PortRange { from: 80, to: 90 }),
            PortEntry::Port(85),
        ]),
    );
    assert_violation(&s, "ports[1]", "port_repeated");
    let s = ListenerSpec::new(
        "x",
        Protocol::Tcp,
        Ports::List(vec![PortEntry::Port(80), PortEntry::Port(81)]),
    );
    assert_valid(&s);
}

#[test]
fn empty_port_list_is_refused() {
    let s = ListenerSpec::new("x", Protocol::Tcp, Ports::List(vec![]));
    assert_violation(&s, "ports", "ports_empty");
}

#[test]
fn backend_protocol_is_layer7_only() {
    let mut s = tcp();
    s.forwarding = Some(Forwarding {
        backend_protocol: Some(BackendProtocol::Https),
        default_target: None,
    });
    assert_violation(&s, "forwarding.backend_protocol", "layer7_only");
    let mut ok = https();
    ok.forwarding = s.forwarding.clone();
    assert_valid(&ok);
}

fn check(kind: Option<HealthCheckKind>) -> HealthCheck {
    HealthCheck {
        enabled: true,
        kind,
        interval_secs: None,
        timeout_secs: None,
        healthy_threshold: None,
        unhealthy_threshold: None,
        port: None,
        http: None,
        custom: None,
    }
}

#[test]
fn probe_timeout_must_be_below_interval() {
    let mut s = tcp();
    let mut hc = check(Some(HealthCheckKind::Tcp));
    hc.interval_secs = Some(5);
    hc.timeout_secs = Some(5);
    s.health_check = Some(hc.clone());
    assert_violation(&s, "health_check.timeout_secs", "timeout_below_interval");
    hc.timeout_secs = Some(2);
    s.health_check = Some(hc);
    assert_valid(&s);
}

#[test]
fn health_check_ranges_come_from_field_rules() {
    let mut s = tcp();
    let mut hc = check(None);
    hc.interval_secs = Some(301);
    hc.healthy_threshold = Some(0);
    s.health_check = Some(hc);
    assert_violation(&s, "health_check.interval_secs", "range");
    assert_violation(&s, "health_check.healthy_threshold", "range");
}

#[test]
fn udp_checks_are_ping_or_custom() {
    let mut s = udp();
    s.health_check = Some(check(Some(HealthCheckKind::Tcp)));
    assert_violation(&s, "health_check.kind", "udp_check_kind");
    s.health_check = Some(check(Some(HealthCheckKind::Ping)));
    assert_valid(&s);
    let mut t = tcp();
    t.health_check = Some(check(Some(HealthCheckKind::Ping)));
    assert_violation(&t, "health_check.kind", "ping_udp_only");
}

#[test]
fn probe_detail_sections_need_their_kind() {
    let mut s = tcp();
    let mut hc = check(Some(HealthCheckKind::Tcp));
    hc.http = Some(HttpHealthCheck {
        path: Some("/healthz".into()),
        domain: None,
        method: None,
        healthy_status_classes: vec![2],
    });
    s.health_check = Some(hc.clone());
    assert_violation(&s, "health_check.http", "section_needs_kind");
    hc.kind = Some(HealthCheckKind::Http);
    s.health_check = Some(hc.clone());
    assert_valid(&s);
    hc.http.as_mut().unwrap().path = Some("healthz".into());
    hc.http.as_mut().unwrap().healthy_status_classes = vec![2, 7];
    s.health_check = Some(hc);
    assert_violation(&s, "health_check.http.path", "path_absolute");
    assert_violation(&s, "health_check.http.healthy_status_classes[1]", "status_class");

    let mut u = udp();
    let mut hc = check(Some(HealthCheckKind::Ping));
    hc.custom = Some(CustomHealthCheck {
        send: Some("ping".into()),
        expect: Some("pong".into()),
    });
    u.health_check = Some(hc.clone());
    assert_violation(&u, "health_check.custom", "section_needs_kind");
    hc.kind = Some(HealthCheckKind::Custom);
    u.health_check = Some(hc);
    assert_valid(&u);
}

#[test]
fn request_timeout_is_layer7_only() {
    let mut s = tcp();
    s.timeouts = Some(Timeouts {
        idle_secs: Some(60),
        request_secs: Some(30),
    });
    assert_violation(&s, "timeouts.request_secs", "layer7_only");
    let mut ok = https();
    ok.timeouts = s.timeouts.clone();
    assert_valid(&ok);
}

#[test]
fn proxy_protocol_is_not_for_http_listeners() {
    let mut s = https();
    s.client_ip = Some(ClientIp {
        mode: ClientIpMode::ProxyProtocol,
        headers: None,
    });
    assert_violation(&s, "client_ip.mode", "proxy_protocol_layer4");
    let mut ok = tcp();
    ok.client_ip = s.client_ip.clone();
    assert_valid(&ok);
}

#[test]
fn forwarded_headers_need_layer7_and_header_mode() {
    let mut s = tcp();
    s.client_ip = Some(ClientIp {
        mode: ClientIpMode::Headers,
        headers: None,
    });
    assert_violation(&s, "client_ip.mode", "headers_layer7");
    let mut h = https();
    h.client_ip = Some(ClientIp {
        mode: ClientIpMode::None,
        headers: Some(ForwardedHeaders {
            x_forwarded_for: Some(true),
            ..Default::default()
        }),
    });
    assert_violation(&h, "client_ip.headers", "section_needs_mode");
    h.client_ip.as_mut().unwrap().mode = ClientIpMode::Headers;
    assert_valid(&h);
}

#[test]
fn name_must_be_visible_and_bounded() {
    let mut s = tcp();
    s.name = "  ".into();
    assert_violation(&s, "name", "name_blank");
    s.name = "a\u{7}b".into();
    assert_violation(&s, "name", "control_character");
    s.name = "x".repeat(256);
    assert_violation(&s, "name", "length");
}

#[test]
fn all_violations_are_reported_at_once() {
    let mut s = ListenerSpec::new("x", Protocol::Https, Ports::Single(0));
    s.timeouts = Some(Timeouts {
        idle_secs: Some(0),
        request_secs: None,
    });
    let v = s.violations();
    let paths: Vec<_> = v.iter().map(|v| v.path.as_str()).collect();
    assert_eq!(paths, vec!["ports", "timeouts.idle_secs", "tls"]);
    match s.validate_spec() {
        Err(Error::InvalidSpec { violations }) => assert_eq!(violations.len(), 3),
        other => panic!("expected InvalidSpec, got {other:?}"),
    }
}

#[test]
fn document_paths_are_prefixed_and_ports_conflict_across_listeners() {
    let mut bad = https();
    bad.tls.as_mut().unwrap().client_auth = Some(ClientAuth {
        verify: ClientVerify::Required,
        ca_certificates: vec![],
    });
    let mut other = tcp();
    other.name = "web2".into();
    other.ports = Ports::Range(PortRange { from: 440, to: 450 });
    let v = validate_listeners(&[tcp(), udp(), bad, other]);
    assert!(
        v.iter()
            .any(|v| v.path == "listeners[2].tls.client_auth.ca_certificates"),
        "{v:?}"
    );
    assert!(
        v.iter()
            .any(|v| v.path == "listeners[3].ports" && v.rule == "port_conflict"),
        "{v:?}"
    );
    // The same port on UDP and TCP is fine: separate port spaces.
    let mut a = tcp();
    a.ports = Ports::Single(53);
    assert!(validate_listeners(&[a, udp()]).is_empty());
}

#[test]
fn duplicate_listener_names_are_refused() {
    let mut b = tcp();
    b.ports = Ports::Single(5433);
    let v = validate_listeners(&[tcp(), b]);
    assert!(
        v.iter()
            .any(|v| v.path == "listeners[1].name" && v.rule == "duplicate_name"),
        "{v:?}"
    );
}
