//! Every rule the adapter applies before sending, twice: `check` (or
//! `update`) refuses the spec naming the field and rule, and the emulated
//! GAAP, sent the equivalent request raw (bypassing `check`), answers
//! GAAP's error code, which the Tencent client maps to the expected error
//! kind.

mod common;

use common::*;
use listener_core::{
    ClientIp, ClientIpMode, ClientVerify, Error, Forwarding, HealthCheck, HealthCheckKind, Listener, ListenerSpec,
    PortEntry, PortRange, Ports, ProfileConfig, Protocol, Provider, Rejections, Scheduler, SessionPersistence,
    Timeouts,
};
use listener_emulator::EmulatorHandle;
use listener_tencent_gaap::translate::{self, GaapOptions, RealServerType};
use listener_tencent_gaap::{check, check_set, API};
use serde_json::{json, Value};

fn http_params() -> Value {
    json!({"ProxyId": LINK, "ListenerName": "h", "Port": 80})
}

fn https_params() -> Value {
    json!({"ProxyId": LINK, "ListenerName": "s", "Port": 443, "CertificateId": "cert-web1", "ForwardProtocol": "HTTP"})
}

fn tcp_params() -> Value {
    json!({"ProxyId": LINK, "ListenerName": "t", "Ports": [7000], "Scheduler": "rr", "RealServerType": "IP",
           "HealthCheck": 1})
}

fn udp_params() -> Value {
    json!({"ProxyId": LINK, "ListenerName": "u", "Ports": [7000], "Scheduler": "rr", "RealServerType": "IP"})
}

fn with(mut base: Value, extra: Value) -> Value {
    if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    base
}

fn without(mut base: Value, key: &str) -> Value {
    if let Some(b) = base.as_object_mut() {
        b.remove(key);
    }
    base
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

fn tcp(port: u32) -> ListenerSpec {
    ListenerSpec::new("t", Protocol::Tcp, Ports::Single(port))
}

fn udp(port: u32) -> ListenerSpec {
    ListenerSpec::new("u", Protocol::Udp, Ports::Single(port))
}

#[track_caller]
fn assert_check(profile: &ProfileConfig, spec: &ListenerSpec, field: &str, rule: &str) {
    let got: Vec<(String, &str)> = check(profile, spec).into_iter().map(|r| (r.field, r.rule)).collect();
    assert!(
        got.iter().any(|(f, r)| f == field && *r == rule),
        "check should reject {field} [{rule}], got {got:?}"
    );
}

/// The raw request gets `code`, mapped to an error of `kind`.
async fn assert_raw(emulator: &EmulatorHandle, action: &str, params: Value, code: &str, kind: &str) {
    let e = raw_error(&raw(emulator), action, params.clone()).await;
    assert_eq!(e.kind(), kind, "{action} {params}: {e}");
    match &e {
        // Not-found errors keep the code in their text only.
        Error::NotFound { what, .. } => assert!(what.contains(code), "{action} {params}: {e}"),
        _ => assert_eq!(e.vendor_code(), Some(code), "{action} {params}: {e}"),
    }
}

/// `check` refuses `spec` at `field` under `rule`, and the raw request gets
/// GAAP's `code` as an error of `kind`.
async fn both(spec: ListenerSpec, field: &str, rule: &str, action: &str, params: Value, code: &str, kind: &str) {
    let emulator = start().await;
    assert_check(&profile(&emulator), &spec, field, rule);
    assert_raw(&emulator, action, params, code, kind).await;
    emulator.shutdown().await;
}

// ---------------------------------------------------------------------------
// check, one rule each
// ---------------------------------------------------------------------------

#[tokio::test]
async fn instance_must_be_a_connection_or_group() {
    let emulator = start().await;
    let mut p = profile(&emulator);
    p.instance = "lb-notgaap".into();
    assert_check(&p, &tcp(80), "instance", "MissingParameter");
    assert_raw(
        &emulator,
        "CreateHTTPListener",
        without(http_params(), "ProxyId"),
        "MissingParameter",
        "vendor",
    )
    .await;
    // Both at once cannot come from a profile; GAAP refuses it too.
    assert_raw(
        &emulator,
        "CreateHTTPListener",
        with(http_params(), json!({"GroupId": GROUP})),
        "InvalidParameter.ConflictParameters",
        "vendor",
    )
    .await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn quic_and_tcp_ssl_are_not_gaap_protocols() {
    let mut spec = https("q", 443);
    spec.protocol = Protocol::Quic;
    both(
        spec,
        "protocol",
        "protocol_unsupported",
        "CreateQUICListener",
        http_params(),
        "InvalidAction",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn port_ranges_are_refused() {
    let spec = ListenerSpec::new("r", Protocol::Tcp, Ports::Range(PortRange { from: 8000, to: 8010 }));
    let params = with(tcp_params(), json!({"Ports": ["8000-8010"]}));
    both(
        spec,
        "ports",
        "InvalidParameterValue",
        "CreateTCPListeners",
        params,
        "InvalidParameterValue",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn repeated_ports_are_refused() {
    let spec = ListenerSpec::new("r", Protocol::Tcp, ports(&[80, 80]));
    let params = with(tcp_params(), json!({"Ports": [80, 80]}));
    both(
        spec,
        "ports[1]",
        "invalid_spec",
        "CreateTCPListeners",
        params,
        "InvalidParameterValue.DuplicatedListenerPort",
        "conflict",
    )
    .await;
}

/// 50 per connection is an adjustable quota: `check` accepts, the vendor
/// answers (the emulator plays a connection at the default quota).
#[tokio::test]
async fn more_than_fifty_ports_in_one_spec_are_left_to_the_vendor() {
    let list: Vec<u32> = (1000..1051).collect();
    let spec = ListenerSpec::new("many", Protocol::Tcp, ports(&list));
    let emulator = start().await;
    assert!(check(&profile(&emulator), &spec).is_empty());
    let params = with(tcp_params(), json!({ "Ports": list }));
    assert_raw(
        &emulator,
        "CreateTCPListeners",
        params,
        "FailedOperation.LimitNumofListener",
        "vendor",
    )
    .await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn description_is_refused() {
    let mut spec = tcp(80);
    spec.description = Some("front door".into());
    let params = with(tcp_params(), json!({"Description": "front door"}));
    both(
        spec,
        "description",
        "description_unsupported",
        "CreateTCPListeners",
        params,
        "UnknownParameter",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn session_persistence_is_refused() {
    let mut spec = tcp(80);
    spec.session_persistence = Some(SessionPersistence {
        by: Default::default(),
        timeout_secs: Some(300),
    });
    let params = with(tcp_params(), json!({"SessionPersist": 1}));
    both(
        spec,
        "session_persistence",
        "session_persistence_unsupported",
        "CreateTCPListeners",
        params,
        "UnknownParameter",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn timeouts_are_refused() {
    let mut spec = tcp(80);
    spec.timeouts = Some(Timeouts {
        idle_secs: Some(60),
        request_secs: None,
    });
    let params = with(tcp_params(), json!({"IdleConnectTimeout": 60}));
    both(
        spec,
        "timeouts",
        "timeouts_unsupported",
        "CreateTCPListeners",
        params,
        "UnknownParameter",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn client_ip_method_outside_tcp_is_refused() {
    let mut spec = udp(53);
    spec.client_ip = Some(ClientIp {
        mode: ClientIpMode::ProxyProtocol,
        headers: None,
    });
    let params = with(udp_params(), json!({"ClientIPMethod": 1}));
    both(
        spec,
        "client_ip",
        "client_ip_tcp_only",
        "CreateUDPListeners",
        params,
        "UnknownParameter",
        "vendor",
    )
    .await;
    // Nor can layer-7 listeners choose X-Forwarded headers.
    let mut spec = https("h", 443);
    spec.client_ip = Some(ClientIp {
        mode: ClientIpMode::Headers,
        headers: None,
    });
    let params = with(https_params(), json!({"ClientIPMethod": 0}));
    both(
        spec,
        "client_ip",
        "client_ip_tcp_only",
        "CreateHTTPSListener",
        params,
        "UnknownParameter",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn scheduler_on_layer7_is_refused() {
    let mut spec = ListenerSpec::new("h", Protocol::Http, Ports::Single(80));
    spec.scheduler = Some(Scheduler::RoundRobin);
    let params = with(http_params(), json!({"Scheduler": "rr"}));
    both(
        spec,
        "scheduler",
        "scheduler_layer4_only",
        "CreateHTTPListener",
        params,
        "UnknownParameter",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn health_check_on_layer7_is_refused() {
    let mut spec = https("h", 443);
    spec.health_check = Some(hc());
    let params = with(https_params(), json!({"HealthCheck": 1}));
    both(
        spec,
        "health_check",
        "health_check_layer4_only",
        "CreateHTTPSListener",
        params,
        "UnknownParameter",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn layer4_options_on_layer7_are_refused() {
    let mut spec = ListenerSpec::new("h", Protocol::Http, Ports::Single(80));
    spec.extensions.insert(
        API,
        &GaapOptions {
            real_server_type: Some(RealServerType::Domain),
            failover_switch: None,
        },
    );
    let params = with(http_params(), json!({"RealServerType": "DOMAIN"}));
    both(
        spec,
        "extensions.tencent-gaap.real_server_type",
        "layer4_option",
        "CreateHTTPListener",
        params,
        "UnknownParameter",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn forward_protocol_on_http_is_refused() {
    let mut spec = ListenerSpec::new("h", Protocol::Http, Ports::Single(80));
    spec.forwarding = Some(Forwarding {
        backend_protocol: Some(listener_core::BackendProtocol::Http),
        default_target: None,
    });
    let params = with(http_params(), json!({"ForwardProtocol": "HTTP"}));
    both(
        spec,
        "forwarding.backend_protocol",
        "forward_protocol_https_only",
        "CreateHTTPListener",
        params,
        "UnknownParameter",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn https_without_forward_protocol_is_refused() {
    let mut spec = https("h", 443);
    spec.forwarding = None;
    let params = without(https_params(), "ForwardProtocol");
    both(
        spec,
        "forwarding.backend_protocol",
        "MissingParameter",
        "CreateHTTPSListener",
        params,
        "MissingParameter",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn https_without_certificate_is_refused() {
    let mut spec = https("h", 443);
    if let Some(t) = spec.tls.as_mut() {
        t.certificates.clear();
        t.sni = Some(true);
    }
    let params = without(https_params(), "CertificateId");
    both(
        spec,
        "tls.certificates",
        "MissingParameter",
        "CreateHTTPSListener",
        params,
        "MissingParameter",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn several_server_certificates_are_refused() {
    let mut spec = https("h", 443);
    if let Some(t) = spec.tls.as_mut() {
        t.certificates.push("web2".into());
    }
    let params = with(https_params(), json!({"CertificateId": ["cert-web1", "cert-web2"]}));
    both(
        spec,
        "tls.certificates",
        "single_server_certificate",
        "CreateHTTPSListener",
        params,
        "InvalidParameter",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn sni_http2_and_tls_policy_are_refused() {
    let mut spec = https("h", 443);
    if let Some(t) = spec.tls.as_mut() {
        t.sni = Some(true);
    }
    let params = with(https_params(), json!({"SniSwitch": 1}));
    both(
        spec,
        "tls.sni",
        "sni_unsupported",
        "CreateHTTPSListener",
        params,
        "UnknownParameter",
        "vendor",
    )
    .await;

    let mut spec = https("h", 443);
    if let Some(t) = spec.tls.as_mut() {
        t.http2 = Some(true);
    }
    let params = with(https_params(), json!({"Http2Supported": 1}));
    both(
        spec,
        "tls.http2",
        "http2_unsupported",
        "CreateHTTPSListener",
        params,
        "UnknownParameter",
        "vendor",
    )
    .await;

    // A TLS policy GAAP cannot choose: SetTlsVersion answers
    // InvalidParameterValue for a cipher family outside its three.
    let mut spec = https("h", 443);
    if let Some(t) = spec.tls.as_mut() {
        t.policy = Some("TLSv1.2:GAAP_TLS_CIPHERS_BOGUS".into());
    }
    let params = json!({"ListenerId": "listener-any", "TLSSupportVersion": ["TLSv1.2", "TLSv1.3"],
                        "TLSCiphers": "GAAP_TLS_CIPHERS_BOGUS"});
    both(
        spec,
        "tls.policy",
        translate::INVALID_PARAMETER_VALUE,
        "SetTlsVersion",
        params,
        "InvalidParameterValue",
        "vendor",
    )
    .await;
    // TLS versions are not CreateHTTPSListener parameters: they go through
    // SetTlsVersion after the create.
    let emulator = start().await;
    assert_raw(
        &emulator,
        "CreateHTTPSListener",
        with(https_params(), json!({"TLSCiphers": "GAAP_TLS_CIPHERS_STRICT"})),
        "UnknownParameter",
        "vendor",
    )
    .await;
    assert_raw(
        &emulator,
        "SetTlsVersion",
        json!({"ListenerId": "listener-any", "TLSSupportVersion": ["TLSv1.4"]}),
        "InvalidParameterValue",
        "vendor",
    )
    .await;
    assert_raw(
        &emulator,
        "SetTlsVersion",
        json!({"ListenerId": "listener-any"}),
        "MissingParameter",
        "vendor",
    )
    .await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn optional_client_verification_is_refused() {
    let mut spec = https_mutual("m", 443, &["ca1"]);
    if let Some(ca) = spec.tls.as_mut().and_then(|t| t.client_auth.as_mut()) {
        ca.verify = ClientVerify::Optional;
    }
    let params = with(
        https_params(),
        json!({"AuthType": 2, "PolyClientCertificateIds": ["ca-root1"]}),
    );
    both(
        spec,
        "tls.client_auth.verify",
        "InvalidParameterValue",
        "CreateHTTPSListener",
        params,
        "InvalidParameterValue",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn mutual_auth_without_ca_is_refused() {
    let spec = https_mutual("m", 443, &[]);
    let params = with(https_params(), json!({"AuthType": 1}));
    both(
        spec,
        "tls.client_auth.ca_certificates",
        "MissingParameter",
        "CreateHTTPSListener",
        params,
        "MissingParameter",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn client_cas_with_one_way_auth_are_refused() {
    // The neutral spec cannot say this (CAs live inside `client_auth`), so
    // the rule guarding the translation is exercised directly.
    let mut r = Rejections::new(API);
    translate::rule_auth_type_matches_client_cas(0, &["ca-root1".to_string()], &mut r);
    let got: Vec<_> = r.into_vec().into_iter().map(|x| (x.field, x.rule)).collect();
    assert_eq!(
        got,
        vec![(
            "tls.client_auth.ca_certificates".to_string(),
            "InvalidParameter.ConflictParameters"
        )]
    );
    let emulator = start().await;
    let params = with(
        https_params(),
        json!({"AuthType": 0, "PolyClientCertificateIds": ["ca-root1"]}),
    );
    assert_raw(
        &emulator,
        "CreateHTTPSListener",
        params,
        "InvalidParameter.ConflictParameters",
        "vendor",
    )
    .await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn http3_on_non_https_is_refused() {
    let mut spec = ListenerSpec::new("h", Protocol::Http, Ports::Single(80));
    spec.tls = https("h", 80).tls;
    if let Some(t) = spec.tls.as_mut() {
        t.http3 = Some(true);
    }
    let params = with(tcp_params(), json!({"Http3Supported": 1}));
    both(
        spec,
        "tls",
        "invalid_spec",
        "CreateTCPListeners",
        params,
        "UnknownParameter",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn delay_loop_outside_5_to_300_is_refused() {
    let mut spec = tcp(80);
    spec.health_check = Some(HealthCheck {
        interval_secs: Some(4),
        ..hc()
    });
    let params = with(tcp_params(), json!({"DelayLoop": 4}));
    both(
        spec,
        "health_check.interval_secs",
        "InvalidParameterValue",
        "CreateTCPListeners",
        params,
        "InvalidParameterValue",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn connect_timeout_outside_2_to_60_is_refused() {
    let mut spec = udp(53);
    spec.health_check = Some(HealthCheck {
        timeout_secs: Some(1),
        ..hc()
    });
    let params = with(udp_params(), json!({"ConnectTimeout": 1}));
    both(
        spec,
        "health_check.timeout_secs",
        "InvalidParameterValue",
        "CreateUDPListeners",
        params,
        "InvalidParameterValue",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn connect_timeout_not_below_delay_loop_is_refused() {
    let mut spec = tcp(80);
    spec.health_check = Some(HealthCheck {
        interval_secs: Some(10),
        timeout_secs: Some(10),
        ..hc()
    });
    let params = with(tcp_params(), json!({"DelayLoop": 10, "ConnectTimeout": 10}));
    both(
        spec,
        "health_check.timeout_secs",
        "invalid_spec",
        "CreateTCPListeners",
        params,
        "InvalidParameterValue",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn thresholds_outside_1_to_10_are_refused() {
    let mut spec = tcp(80);
    spec.health_check = Some(HealthCheck {
        healthy_threshold: Some(11),
        ..hc()
    });
    let params = with(tcp_params(), json!({"HealthyThreshold": 11}));
    both(
        spec,
        "health_check.healthy_threshold",
        "invalid_spec",
        "CreateTCPListeners",
        params,
        "InvalidParameterValue",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn scheduler_and_context_type_values_outside_gaaps_are_refused() {
    // The neutral types hold only GAAP's four schedulers and the adapter
    // always sends ContextType TEXT; GAAP refuses anything else.
    let emulator = start().await;
    for s in [
        Scheduler::RoundRobin,
        Scheduler::WeightedRoundRobin,
        Scheduler::LeastConnections,
        Scheduler::LeastLatency,
    ] {
        assert!(["rr", "wrr", "lc", "lrtt"].contains(&translate::scheduler_word(s)));
    }
    assert_raw(
        &emulator,
        "CreateTCPListeners",
        with(tcp_params(), json!({"Scheduler": "ip_hash"})),
        "InvalidParameterValue",
        "vendor",
    )
    .await;
    assert_raw(
        &emulator,
        "CreateUDPListeners",
        with(
            udp_params(),
            json!({"CheckType": "PORT", "ContextType": "HEX", "SendContext": "0A"}),
        ),
        "InvalidParameterValue",
        "vendor",
    )
    .await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn http_or_payload_probe_on_tcp_is_refused() {
    let mut spec = tcp(80);
    spec.health_check = Some(HealthCheck {
        kind: Some(HealthCheckKind::Custom),
        ..hc()
    });
    let params = with(tcp_params(), json!({"CheckType": "PORT"}));
    both(
        spec,
        "health_check.kind",
        "tcp_check_kind",
        "CreateTCPListeners",
        params,
        "UnknownParameter",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn probe_port_on_tcp_is_refused() {
    let mut spec = tcp(80);
    spec.health_check = Some(HealthCheck {
        port: Some(8080),
        ..hc()
    });
    let params = with(tcp_params(), json!({"CheckPort": 8080}));
    both(
        spec,
        "health_check.port",
        "check_port_udp_only",
        "CreateTCPListeners",
        params,
        "UnknownParameter",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn port_fields_with_ping_are_refused() {
    let mut spec = udp(53);
    spec.health_check = Some(HealthCheck {
        kind: Some(HealthCheckKind::Ping),
        port: Some(53),
        ..hc()
    });
    let params = with(
        udp_params(),
        json!({"HealthCheck": 1, "CheckType": "PING", "CheckPort": 53}),
    );
    both(
        spec,
        "health_check.port",
        translate::PORT_FIELDS_NEED_PORT_CHECK,
        "CreateUDPListeners",
        params,
        "InvalidParameter.ConflictParameters",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn failover_with_domain_origins_is_refused() {
    let mut spec = tcp(80);
    spec.extensions.insert(
        API,
        &GaapOptions {
            real_server_type: Some(RealServerType::Domain),
            failover_switch: Some(true),
        },
    );
    let params = with(tcp_params(), json!({"RealServerType": "DOMAIN", "FailoverSwitch": 1}));
    both(
        spec,
        "extensions.tencent-gaap.failover_switch",
        "InvalidParameter.ConflictParameters",
        "CreateTCPListeners",
        params,
        "InvalidParameter.ConflictParameters",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn unknown_extension_fields_are_refused() {
    let emulator = start().await;
    let mut spec = tcp(80);
    spec.extensions.0.insert(API.into(), json!({"realserver_type": "IP"}));
    assert_check(
        &profile(&emulator),
        &spec,
        "extensions.tencent-gaap",
        listener_core::EXTENSION_INVALID,
    );
    // GAAP's own answer to a misspelt parameter.
    assert_raw(
        &emulator,
        "CreateTCPListeners",
        with(tcp_params(), json!({"RealserverType": "IP"})),
        "UnknownParameter",
        "vendor",
    )
    .await;
    emulator.shutdown().await;
}

// ---------------------------------------------------------------------------
// check_set: rules across the listeners of one connection
// ---------------------------------------------------------------------------

#[tokio::test]
async fn http_https_and_tcp_share_the_tcp_port_space() {
    let emulator = start().await;
    let p = profile(&emulator);
    let specs = [ListenerSpec::new("h", Protocol::Http, Ports::Single(80)), tcp(80)];
    let got = check_set(&p, &specs);
    assert!(
        got.iter()
            .any(|(i, r)| *i == 1 && r.field == "ports" && r.rule == "InvalidParameterValue.DuplicatedListenerPort"),
        "{got:?}"
    );
    provider(&emulator).create(&specs[0]).await.expect("http on 80");
    let params = with(tcp_params(), json!({"Ports": [80]}));
    assert_raw(
        &emulator,
        "CreateTCPListeners",
        params,
        "InvalidParameterValue.DuplicatedListenerPort",
        "conflict",
    )
    .await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn udp_on_an_http3_port_is_refused() {
    let emulator = start().await;
    let p = profile(&emulator);
    let h3 = https_mutual("h3", 443, &["ca1"]);
    let specs = [h3.clone(), udp(443)];
    let got = check_set(&p, &specs);
    assert!(
        got.iter()
            .any(|(i, r)| *i == 1 && r.field == "ports" && r.rule == "InvalidParameterValue.DuplicatedListenerPort"),
        "{got:?}"
    );
    provider(&emulator).create(&h3).await.expect("http3 on 443");
    let params = with(udp_params(), json!({"Ports": [443]}));
    assert_raw(
        &emulator,
        "CreateUDPListeners",
        params,
        "InvalidParameterValue.DuplicatedListenerPort",
        "conflict",
    )
    .await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn http3_on_a_port_whose_udp_side_is_taken_is_refused() {
    let emulator = start().await;
    let p = profile(&emulator);
    let specs = [udp(443), https_mutual("h3", 443, &["ca1"])];
    let got = check_set(&p, &specs);
    assert!(
        got.iter()
            .any(|(i, r)| *i == 1 && r.field == "ports" && r.rule == "InvalidParameterValue.DuplicatedListenerPort"),
        "{got:?}"
    );
    provider(&emulator).create(&specs[0]).await.expect("udp on 443");
    let params = with(https_params(), json!({"Http3Supported": 1}));
    assert_raw(
        &emulator,
        "CreateHTTPSListener",
        params,
        "InvalidParameterValue.DuplicatedListenerPort",
        "conflict",
    )
    .await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn more_than_fifty_listeners_per_connection_are_warned_and_left_to_the_vendor() {
    let emulator = start().await;
    let p = profile(&emulator);
    let fifty: Vec<u32> = (1000..1050).collect();
    let specs = [ListenerSpec::new("fifty", Protocol::Tcp, ports(&fifty)), udp(53)];
    let got = check_set(&p, &specs);
    assert!(got.is_empty(), "an adjustable quota is warned, not refused: {got:?}");
    let warned = listener_tencent_gaap::check_set_with_warnings(&p, &specs).warnings;
    let got: Vec<_> = warned.iter().map(|(i, w)| (*i, w.field.as_str(), w.rule)).collect();
    assert_eq!(got, vec![(1, "listeners", translate::LIMIT_NUM_OF_LISTENER)]);
    let made = provider(&emulator).create(&specs[0]).await.expect("fifty listeners");
    assert_eq!(made.len(), 50);
    assert_raw(
        &emulator,
        "CreateUDPListeners",
        udp_params(),
        "FailedOperation.LimitNumofListener",
        "vendor",
    )
    .await;
    emulator.shutdown().await;
}

// ---------------------------------------------------------------------------
// update: immutable fields and rules on the values in effect
// ---------------------------------------------------------------------------

async fn made(emulator: &EmulatorHandle, spec: &ListenerSpec) -> Listener {
    provider(emulator).create(spec).await.expect("create").remove(0)
}

#[track_caller]
fn assert_immutable(result: Result<Listener, Error>, field: &str) {
    match result {
        Err(Error::ImmutableField { field: f, .. }) => assert_eq!(f, field),
        other => panic!("expected {field} to be immutable, got {other:?}"),
    }
}

#[tokio::test]
async fn http3_cannot_be_turned_on_or_off_after_creation() {
    let emulator = start().await;
    let gaap = provider(&emulator);
    let current = made(&emulator, &https_mutual("h3", 443, &["ca1"])).await;
    let mut off = https_mutual("h3", 443, &["ca1"]);
    if let Some(t) = off.tls.as_mut() {
        t.http3 = Some(false);
    }
    assert_immutable(gaap.update(&current, &off).await, "tls.http3");
    let one_way = made(&emulator, &https("plain", 8443)).await;
    let mut on = https("plain", 8443);
    if let Some(t) = on.tls.as_mut() {
        t.http3 = Some(true);
    }
    assert_immutable(gaap.update(&one_way, &on).await, "tls.http3");
    let params = json!({"ListenerId": current.id.0, "ProxyId": LINK, "Http3Supported": 0});
    assert_raw(
        &emulator,
        "ModifyHTTPSListenerAttribute",
        params,
        "UnknownParameter",
        "vendor",
    )
    .await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn authentication_type_cannot_change_after_creation() {
    let emulator = start().await;
    let gaap = provider(&emulator);
    let current = made(&emulator, &https("one-way", 443)).await;
    let mut mutual = https_mutual("one-way", 443, &["ca1"]);
    if let Some(t) = mutual.tls.as_mut() {
        t.http3 = None;
    }
    assert_immutable(gaap.update(&current, &mutual).await, "tls.client_auth.verify");
    let params = json!({"ListenerId": current.id.0, "ProxyId": LINK, "AuthType": 1});
    assert_raw(
        &emulator,
        "ModifyHTTPSListenerAttribute",
        params,
        "UnknownParameter",
        "vendor",
    )
    .await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn port_and_protocol_cannot_change_after_creation() {
    let emulator = start().await;
    let gaap = provider(&emulator);
    let current = made(&emulator, &tcp(80)).await;
    assert_immutable(gaap.update(&current, &tcp(81)).await, "ports");
    let mut as_udp = udp(80);
    as_udp.name = "t".into();
    assert_immutable(gaap.update(&current, &as_udp).await, "protocol");
    let params = json!({"ListenerId": current.id.0, "ProxyId": LINK, "Port": 81});
    assert_raw(
        &emulator,
        "ModifyTCPListenerAttribute",
        params,
        "UnknownParameter",
        "vendor",
    )
    .await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn client_ip_method_and_origin_type_cannot_change_after_creation() {
    let emulator = start().await;
    let gaap = provider(&emulator);
    let current = made(&emulator, &tcp(80)).await;
    let mut pp = tcp(80);
    pp.client_ip = Some(ClientIp {
        mode: ClientIpMode::ProxyProtocol,
        headers: None,
    });
    assert_immutable(gaap.update(&current, &pp).await, "client_ip.mode");
    let mut domain = tcp(80);
    domain.extensions.insert(
        API,
        &GaapOptions {
            real_server_type: Some(RealServerType::Domain),
            failover_switch: None,
        },
    );
    assert_immutable(
        gaap.update(&current, &domain).await,
        "extensions.tencent-gaap.real_server_type",
    );
    let base = json!({"ListenerId": current.id.0, "ProxyId": LINK});
    assert_raw(
        &emulator,
        "ModifyTCPListenerAttribute",
        with(base.clone(), json!({"ClientIPMethod": 1})),
        "UnknownParameter",
        "vendor",
    )
    .await;
    assert_raw(
        &emulator,
        "ModifyTCPListenerAttribute",
        with(base, json!({"RealServerType": "DOMAIN"})),
        "UnknownParameter",
        "vendor",
    )
    .await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn weighted_or_latency_scheduler_with_domain_origins_is_refused_on_update() {
    let emulator = start().await;
    let gaap = provider(&emulator);
    let mut spec = tcp(80);
    spec.extensions.insert(
        API,
        &GaapOptions {
            real_server_type: Some(RealServerType::Domain),
            failover_switch: None,
        },
    );
    let current = made(&emulator, &spec).await;
    let mut desired = spec.clone();
    desired.scheduler = Some(Scheduler::WeightedRoundRobin);
    match gaap.update(&current, &desired).await {
        Err(Error::Unsupported { rejections, .. }) => {
            assert_eq!(rejections[0].field, "scheduler");
            assert_eq!(rejections[0].rule, "InvalidParameter.ConflictParameters");
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    let params = json!({"ListenerId": current.id.0, "ProxyId": LINK, "Scheduler": "wrr"});
    assert_raw(
        &emulator,
        "ModifyTCPListenerAttribute",
        params,
        "InvalidParameter.ConflictParameters",
        "vendor",
    )
    .await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn timeout_at_or_above_the_interval_in_effect_is_refused_on_update() {
    let emulator = start().await;
    let gaap = provider(&emulator);
    let mut spec = tcp(80);
    spec.health_check = Some(HealthCheck {
        interval_secs: Some(10),
        timeout_secs: Some(5),
        ..hc()
    });
    let current = made(&emulator, &spec).await;
    let mut desired = tcp(80);
    desired.health_check = Some(HealthCheck {
        timeout_secs: Some(10),
        ..hc()
    });
    match gaap.update(&current, &desired).await {
        Err(Error::Unsupported { rejections, .. }) => {
            assert_eq!(rejections[0].field, "health_check.timeout_secs");
            assert_eq!(rejections[0].rule, "InvalidParameterValue");
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    let params = json!({"ListenerId": current.id.0, "ProxyId": LINK, "ConnectTimeout": 10});
    assert_raw(
        &emulator,
        "ModifyTCPListenerAttribute",
        params,
        "InvalidParameterValue",
        "vendor",
    )
    .await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn https_listeners_of_a_group_cannot_be_modified() {
    let emulator = start().await;
    let p = profile_for(&emulator, GROUP);
    let gaap = provider_on(&p);
    let current = gaap.create(&https("g", 443)).await.expect("https on group").remove(0);
    let desired = https("g-renamed", 443);
    match gaap.update(&current, &desired).await {
        Err(Error::Unsupported { rejections, .. }) => {
            assert_eq!(rejections[0].field, "instance");
            assert_eq!(rejections[0].rule, "FailedOperation.NotSupportProxyGroup");
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    let params = json!({"ListenerId": current.id.0, "ListenerName": "g-renamed"});
    assert_raw(
        &emulator,
        "ModifyHTTPSListenerAttribute",
        params,
        "FailedOperation.NotSupportProxyGroup",
        "vendor",
    )
    .await;
    emulator.shutdown().await;
}

// ---------------------------------------------------------------------------
// state the adapter cannot know offline
// ---------------------------------------------------------------------------

#[tokio::test]
async fn unknown_connection_is_not_found() {
    let emulator = start().await;
    let p = profile_for(&emulator, "link-nothere");
    assert!(check(&p, &tcp(80)).is_empty());
    match provider_on(&p).create(&tcp(80)).await {
        Err(Error::NotFound { .. }) => {}
        other => panic!("expected not found, got {other:?}"),
    }
    assert_raw(
        &emulator,
        "CreateTCPListeners",
        with(tcp_params(), json!({"ProxyId": "link-nothere"})),
        "ResourceNotFound",
        "not_found",
    )
    .await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_write_while_another_listener_is_busy_is_refused_as_busy() {
    let emulator = start().await;
    let raw_client = raw(&emulator);
    raw_client
        .call("CreateHTTPListener", &http_params(), false)
        .await
        .expect("first create");
    assert_raw(
        &emulator,
        "CreateHTTPListener",
        with(http_params(), json!({"Port": 81})),
        "FailedOperation.ListenerHasTask",
        "busy",
    )
    .await;
    // The provider's client retries busy answers until the first listener runs.
    let made = provider(&emulator).create(&tcp(81)).await.expect("retried past busy");
    assert_eq!(made.len(), 1);
    assert_eq!(count(&emulator, LINK), 2);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_range_in_a_port_list_is_refused_before_sending() {
    // A list mixing a port and a range: the range entry is named.
    let emulator = start().await;
    let spec = ListenerSpec::new(
        "mixed",
        Protocol::Udp,
        Ports::List(vec![
            PortEntry::Port(53),
            PortEntry::Range(PortRange { from: 60, to: 70 }),
        ]),
    );
    assert_check(&profile(&emulator), &spec, "ports[1]", "InvalidParameterValue");
    match provider(&emulator).create(&spec).await {
        Err(Error::Unsupported { .. }) => {}
        other => panic!("expected the create to be refused before sending, got {other:?}"),
    }
    assert_eq!(count(&emulator, LINK), 0);
    emulator.shutdown().await;
}
