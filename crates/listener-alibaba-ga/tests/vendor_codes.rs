//! For every rule `check` rejects: `check` names the field and rule, AND
//! the same request sent raw to the emulated GA (bypassing `check`) gets
//! GA's error code, mapped by the client to the expected error kind.
//!
//! Settings GA has no parameter for (mutual TLS, SNI, health checks, ...)
//! have no raw request that could fail; for those the test shows GA's
//! gateway ignoring the closest parameters, which is why `check` must refuse
//! them instead of letting them vanish.

mod common;

use common::{builder, builder_with, https_spec, Setup};
use listener_alibaba_ga::translate::{create_params, rule, GaOptions, RoutingType};
use listener_alibaba_ga::{check, check_set, API};
use listener_core::{
    AffinityKey, ClientAuth, ClientIp, ClientIpMode, ClientVerify, Error, ForwardedForMode, ForwardedHeaders,
    HealthCheck, ListenerSpec, PortEntry, PortRange, Ports, ProfileConfig, Protocol, Provider, Scheduler,
    SessionPersistence, Timeouts,
};
use listener_emulator::services::ga::Ga;
use serde_json::{json, Value};

fn tcp(port: u32) -> ListenerSpec {
    ListenerSpec::new("t", Protocol::Tcp, Ports::Single(port))
}

fn with_opts(mut s: ListenerSpec, opts: GaOptions) -> ListenerSpec {
    s.extensions.insert(API, &opts);
    s
}

fn timeouts(idle: Option<u32>, request: Option<u32>) -> Option<Timeouts> {
    Some(Timeouts {
        idle_secs: idle,
        request_secs: request,
    })
}

fn headers(h: ForwardedHeaders) -> Option<ClientIp> {
    Some(ClientIp {
        mode: ClientIpMode::Headers,
        headers: Some(h),
    })
}

/// The parameters the adapter would send for `spec`, without the base
/// (RegionId, AcceleratorId), patched with `extra` where the translation
/// cannot carry the offending value at all.
fn raw_for(profile: &ProfileConfig, spec: &ListenerSpec, extra: Value) -> Value {
    let mut p = create_params(common::ACC, spec, &profile.aliases, profile.owner());
    if let (Some(map), Value::Object(extra)) = (p.as_object_mut(), extra) {
        map.remove("RegionId");
        map.remove("AcceleratorId");
        for (k, v) in extra {
            if v.is_null() {
                map.remove(&k);
            } else {
                map.insert(k, v);
            }
        }
    }
    p
}

#[track_caller]
fn assert_checked(profile: &ProfileConfig, spec: &ListenerSpec, field: &str, rule: &str) {
    let got: Vec<(String, &str)> = check(profile, spec).into_iter().map(|r| (r.field, r.rule)).collect();
    assert!(
        got.iter().any(|(f, r)| f == field && *r == rule),
        "check: expected {field} [{rule}], got {got:?}"
    );
}

fn code_and_kind(result: Result<String, Error>) -> (String, &'static str) {
    match result {
        Ok(id) => (format!("created {id}"), "ok"),
        Err(e) => (e.vendor_code().unwrap_or("").to_string(), e.kind()),
    }
}

#[tokio::test]
async fn every_single_listener_rule_is_refused_by_check_and_by_ga() {
    let setup = Setup::start(builder()).await;
    let profile = setup.profile.clone();
    let mut two_certs = https_spec("h", 443);
    if let Some(t) = two_certs.tls.as_mut() {
        t.certificates.push("web-2".into());
    }
    let mut no_cert = https_spec("h", 443);
    if let Some(t) = no_cert.tls.as_mut() {
        t.certificates.clear();
        t.sni = Some(true);
    }
    let mut bad_policy = https_spec("h", 443);
    if let Some(t) = bad_policy.tls.as_mut() {
        t.policy = Some("tls_cipher_policy_9".into());
    }
    let mut http_with_tls = ListenerSpec::new("h", Protocol::Http, Ports::Single(80));
    http_with_tls.tls = https_spec("x", 1).tls;
    let mut http_with_policy = ListenerSpec::new("h", Protocol::Http, Ports::Single(80));
    http_with_policy.tls = https_spec("x", 1).tls.map(|mut t| {
        t.certificates.clear();
        t.policy = Some("tls_cipher_policy_1_2".into());
        t
    });
    let mut http_with_version = ListenerSpec::new("h", Protocol::Http, Ports::Single(80));
    http_with_version.tls = https_spec("x", 1).tls.map(|mut t| {
        t.certificates.clear();
        t.http2 = Some(true);
        t
    });
    let mut long_description = tcp(80);
    long_description.description = Some("d".repeat(201));
    let mut url_description = tcp(80);
    url_description.description = Some("https://example.com".into());
    let mut tcp_request_timeout = tcp(80);
    tcp_request_timeout.timeouts = timeouts(None, Some(30));
    let mut tcp_idle = tcp(80);
    tcp_idle.timeouts = timeouts(Some(901), None);
    let mut udp_idle = ListenerSpec::new("u", Protocol::Udp, Ports::Single(53));
    udp_idle.timeouts = timeouts(Some(21), None);
    let mut http_idle = ListenerSpec::new("h", Protocol::Http, Ports::Single(80));
    http_idle.timeouts = timeouts(Some(61), None);
    let mut http_request = ListenerSpec::new("h", Protocol::Http, Ports::Single(80));
    http_request.timeouts = timeouts(None, Some(181));
    let mut tcp_headers = tcp(80);
    tcp_headers.client_ip = headers(ForwardedHeaders {
        x_real_ip: Some(true),
        ..ForwardedHeaders::default()
    });
    let tcp_ga_id = with_opts(
        tcp(80),
        GaOptions {
            ga_id_header: Some(true),
            ..GaOptions::default()
        },
    );
    let custom_https = with_opts(
        https_spec("h", 443),
        GaOptions {
            routing_type: Some(RoutingType::CustomRouting),
            ..GaOptions::default()
        },
    );

    // (what, spec, check field, check rule, raw patch, GA code, error kind)
    let cases: Vec<(&str, ListenerSpec, &str, &str, Value, &str, &str)> = vec![
        (
            "quic",
            ListenerSpec::new("q", Protocol::Quic, Ports::Single(443)),
            "protocol",
            rule::PROTOCOL_ILLEGAL,
            json!({"Protocol": "quic"}),
            "ProtocalIllegal.Listener",
            "vendor",
        ),
        (
            "tcp_ssl",
            ListenerSpec::new("q", Protocol::TcpSsl, Ports::Single(443)),
            "protocol",
            rule::PROTOCOL_ILLEGAL,
            json!({"Protocol": "tcp_ssl"}),
            "ProtocalIllegal.Listener",
            "vendor",
        ),
        (
            "http two ports",
            ListenerSpec::new(
                "h",
                Protocol::Http,
                Ports::List(vec![PortEntry::Port(80), PortEntry::Port(81)]),
            ),
            "ports",
            rule::PORT_RANGES_MUST_ONE,
            json!({}),
            "PortRanges.MustOne",
            "vendor",
        ),
        (
            "https range",
            {
                let mut s = https_spec("h", 443);
                s.ports = Ports::Range(PortRange { from: 443, to: 444 });
                s
            },
            "ports",
            rule::PORT_RANGES_MUST_ONE,
            json!({}),
            "PortRanges.MustOne",
            "vendor",
        ),
        (
            "reversed",
            tcp(0).with_ports(Ports::Range(PortRange { from: 90, to: 80 })),
            "ports",
            rule::PORT_RANGE_ILLEGAL,
            json!({}),
            "PortRangeIllegal.Listener",
            "vendor",
        ),
        (
            "overlap",
            tcp(0).with_ports(Ports::List(vec![
                PortEntry::Range(PortRange { from: 80, to: 90 }),
                PortEntry::Range(PortRange { from: 85, to: 95 }),
            ])),
            "ports[1]",
            rule::PORT_RANGE_ILLEGAL,
            json!({}),
            "PortRangeIllegal.Listener",
            "vendor",
        ),
        (
            "system port",
            tcp(65500),
            "ports",
            rule::SYSTEM_PORT,
            json!({}),
            "SystemPort.Listener",
            "vendor",
        ),
        (
            "udp 250",
            ListenerSpec::new("u", Protocol::Udp, Ports::Single(250)),
            "ports",
            rule::UDP_RESERVED,
            json!({}),
            "PortRangeIllegal.UDP",
            "vendor",
        ),
        (
            "udp 4790 in range",
            ListenerSpec::new("u", Protocol::Udp, Ports::Range(PortRange { from: 4780, to: 4800 })),
            "ports",
            rule::UDP_RESERVED,
            json!({}),
            "PortRangeIllegal.UDP",
            "vendor",
        ),
        (
            "huge with two ranges",
            tcp(0).with_ports(Ports::List(vec![
                PortEntry::Range(PortRange { from: 1000, to: 1300 }),
                PortEntry::Port(2000),
            ])),
            "ports",
            rule::HUGE_PORT_COUNT,
            json!({}),
            "PortRangeIllegal.Count",
            "vendor",
        ),
        (
            "name too long",
            tcp(80).named(&"a".repeat(129)),
            "name",
            rule::NAME_LENGTH,
            json!({}),
            "InvalidParameter",
            "vendor",
        ),
        (
            "name format",
            tcp(80).named("1abc"),
            "name",
            rule::NAME_FORMAT,
            json!({}),
            "InvalidParameter",
            "vendor",
        ),
        (
            "description length",
            long_description,
            "description",
            rule::DESCRIPTION_LENGTH,
            json!({}),
            "InvalidParameter",
            "vendor",
        ),
        (
            "description url",
            url_description,
            "description",
            rule::DESCRIPTION_PREFIX,
            json!({}),
            "InvalidParameter",
            "vendor",
        ),
        (
            "certificate on http",
            http_with_tls,
            "tls.certificates",
            rule::HTTPS_ONLY,
            json!({"Certificates": [{"Id": common::CERT}]}),
            "InvalidParameter",
            "vendor",
        ),
        (
            "policy on http",
            http_with_policy,
            "tls.policy",
            rule::HTTPS_ONLY,
            json!({"SecurityPolicyId": "tls_cipher_policy_1_2"}),
            "InvalidParameter",
            "vendor",
        ),
        (
            "http version on http",
            http_with_version,
            "tls.http2",
            rule::HTTPS_ONLY,
            json!({"HttpVersion": "http2"}),
            "InvalidParameter",
            "vendor",
        ),
        (
            "two certificates",
            two_certs,
            "tls.certificates",
            rule::CERTIFICATE_COUNT,
            json!({"Certificates": [{"Id": "449-cn-hangzhou"}, {"Id": "450-cn-hangzhou"}]}),
            "InvalidParameter",
            "vendor",
        ),
        (
            "no certificate",
            no_cert,
            "tls.certificates",
            rule::CERTIFICATE_COUNT,
            json!({}),
            "MissingParameter",
            "vendor",
        ),
        (
            "unknown policy",
            bad_policy,
            "tls.policy",
            rule::SECURITY_POLICY,
            json!({}),
            "InvalidParameter",
            "vendor",
        ),
        (
            "tcp idle",
            tcp_idle,
            "timeouts.idle_secs",
            rule::IDLE_TIMEOUT,
            json!({}),
            "InvalidParameter",
            "vendor",
        ),
        (
            "udp idle",
            udp_idle,
            "timeouts.idle_secs",
            rule::IDLE_TIMEOUT,
            json!({}),
            "InvalidParameter",
            "vendor",
        ),
        (
            "http idle",
            http_idle,
            "timeouts.idle_secs",
            rule::IDLE_TIMEOUT,
            json!({}),
            "InvalidParameter",
            "vendor",
        ),
        (
            "request timeout range",
            http_request,
            "timeouts.request_secs",
            rule::REQUEST_TIMEOUT,
            json!({}),
            "InvalidParameter",
            "vendor",
        ),
        (
            "request timeout on tcp",
            tcp_request_timeout,
            "timeouts.request_secs",
            rule::LAYER7_ONLY,
            json!({}),
            "InvalidParameter",
            "vendor",
        ),
        (
            "headers on tcp",
            tcp_headers,
            "client_ip.headers",
            rule::LAYER7_ONLY,
            json!({}),
            "InvalidParameter",
            "vendor",
        ),
        (
            "GA-ID on tcp",
            tcp_ga_id,
            "extensions.alibaba-ga.ga_id_header",
            rule::LAYER7_ONLY,
            json!({}),
            "InvalidParameter",
            "vendor",
        ),
        (
            "custom routing https",
            custom_https,
            "extensions.alibaba-ga.routing_type",
            rule::CUSTOM_ROUTING_LAYER4,
            json!({}),
            "ProtocalIllegal.Listener",
            "vendor",
        ),
    ];
    for (what, spec, field, check_rule, patch, code, kind) in cases {
        assert_checked(&profile, &spec, field, check_rule);
        let raw = raw_for(&profile, &spec, patch);
        let got = code_and_kind(setup.raw_create(raw.clone()).await);
        assert_eq!(got, (code.to_string(), kind), "{what}: raw {raw}");
    }
    assert_eq!(setup.count(), 0, "nothing was created");
    setup.shutdown().await;
}

trait Build {
    fn with_ports(self, ports: Ports) -> Self;
    fn named(self, name: &str) -> Self;
}

impl Build for ListenerSpec {
    fn with_ports(mut self, ports: Ports) -> Self {
        self.ports = ports;
        self
    }
    fn named(mut self, name: &str) -> Self {
        self.name = name.into();
        self
    }
}

#[tokio::test]
async fn wrong_region_is_refused_by_the_profile_check_and_by_ga() {
    let setup = Setup::start(builder()).await;
    let mut profile = setup.profile.clone();
    profile.region = Some("cn-shanghai".into());
    // A profile setting, refused by the offline profile check (as
    // `profiles.NAME.region` in listenerctl), not blamed on a listener.
    match listener_alibaba_ga::config::check_profile(&profile) {
        Err(listener_core::Error::Config { field, .. }) => assert_eq!(field, "region"),
        other => panic!("expected a region config error, got {other:?}"),
    }
    assert!(
        check(&profile, &tcp(80)).is_empty(),
        "no listener rejection for a profile setting"
    );
    let raw = setup.raw();
    let token = raw.new_client_token();
    let err = raw
        .call(
            "CreateListener",
            &json!({"RegionId": "cn-shanghai", "AcceleratorId": common::ACC, "PortRanges": [{"FromPort": 80, "ToPort": 80}]}),
            alibaba_api::CallOptions::write(token),
        )
        .await
        .expect_err("refused");
    assert_eq!((err.vendor_code(), err.kind()), (Some("InvalidParameter"), "vendor"));
    setup.shutdown().await;
}

/// Create `specs` through the adapter, then send `last` raw.
async fn after(setup: &Setup, specs: &[ListenerSpec], last: &ListenerSpec) -> (String, &'static str) {
    for s in specs {
        setup.provider.create(s).await.expect("setup create");
    }
    code_and_kind(setup.raw_create(raw_for(&setup.profile, last, json!({}))).await)
}

#[tokio::test]
async fn port_conflicts_are_refused_by_check_set_and_by_ga() {
    let profile = common::profile("http://127.0.0.1:1");
    let mut h3 = https_spec("h3", 443);
    if let Some(t) = h3.tls.as_mut() {
        t.http3 = Some(true);
    }
    let cases: Vec<(Vec<ListenerSpec>, ListenerSpec)> = vec![
        (vec![tcp(80)], ListenerSpec::new("h", Protocol::Http, Ports::Single(80))),
        (
            vec![ListenerSpec::new("h", Protocol::Http, Ports::Single(8080))],
            https_spec("s", 8080),
        ),
        (
            vec![https_spec("s", 443)],
            tcp(0).with_ports(Ports::Range(PortRange { from: 440, to: 450 })),
        ),
        (
            vec![ListenerSpec::new("u", Protocol::Udp, Ports::Single(53))],
            ListenerSpec::new("u2", Protocol::Udp, Ports::Single(53)),
        ),
        (vec![h3], ListenerSpec::new("u", Protocol::Udp, Ports::Single(443))),
    ];
    for (before, last) in cases {
        let mut all = before.clone();
        all.push(last.clone());
        let got = check_set(&profile, &all);
        assert!(
            got.iter()
                .any(|(i, r)| *i == before.len() && r.field == "ports" && r.rule == rule::PORT_CONFLICT),
            "check_set: {got:?}"
        );
        let setup = Setup::start(builder()).await;
        assert_eq!(
            after(&setup, &before, &last).await,
            ("PortConflict.Listener".to_string(), "conflict")
        );
        setup.shutdown().await;
    }
}

#[tokio::test]
async fn a_second_huge_listener_is_refused_by_check_set_and_by_ga() {
    let profile = common::profile("http://127.0.0.1:1");
    let first = tcp(0).with_ports(Ports::Range(PortRange { from: 10000, to: 11000 }));
    let second = tcp(0).with_ports(Ports::Range(PortRange { from: 20000, to: 21000 }));
    let got = check_set(&profile, &[first.clone(), second.clone()]);
    assert!(
        got.iter().any(|(i, r)| *i == 1 && r.rule == rule::HUGE_PORT_EXCEEDS),
        "{got:?}"
    );
    // An account whose per-listener port quota was raised, as huge-port
    // listeners need.
    let setup = Setup::start(builder_with(Ga::new().with_port_quota(100_000))).await;
    assert_eq!(
        after(&setup, &[first], &second).await,
        ("PortRangeIllegal.ExceedGaAbility".to_string(), "vendor")
    );
    setup.shutdown().await;
}

#[tokio::test]
async fn more_than_fifty_listeners_are_warned_by_check_set_and_refused_by_ga_at_the_default_quota() {
    let profile = common::profile("http://127.0.0.1:1");
    let specs: Vec<ListenerSpec> = (0..51u32).map(|i| tcp(3000 + i).named(&format!("l{i}"))).collect();
    let got = check_set(&profile, &specs);
    assert!(
        !got.iter().any(|(_, r)| r.rule == rule::LISTENER_QUOTA),
        "an adjustable quota is not refused: {got:?}"
    );
    let warned = listener_alibaba_ga::check_set_with_warnings(&profile, &specs).warnings;
    assert_eq!(
        warned
            .iter()
            .map(|(i, w)| (*i, w.field.as_str(), w.rule))
            .collect::<Vec<_>>(),
        vec![(50, "listeners", rule::LISTENER_QUOTA)]
    );
    let setup = Setup::start(builder()).await;
    assert_eq!(
        after(&setup, &specs[..50], &specs[50]).await,
        ("QuotaExceeded.Listener".to_string(), "vendor")
    );
    setup.shutdown().await;
}

#[tokio::test]
async fn mixed_routing_types_are_refused_by_check_set_and_by_ga() {
    let profile = common::profile("http://127.0.0.1:1");
    let custom = with_opts(
        tcp(81),
        GaOptions {
            routing_type: Some(RoutingType::CustomRouting),
            ..GaOptions::default()
        },
    );
    let got = check_set(&profile, &[tcp(80), custom.clone()]);
    assert!(
        got.iter().any(|(i, r)| *i == 1 && r.rule == rule::ROUTING_TYPE_MIXED),
        "{got:?}"
    );
    let setup = Setup::start(builder()).await;
    assert_eq!(
        after(&setup, &[tcp(80)], &custom).await,
        ("InvalidParameter".to_string(), "vendor")
    );
    setup.shutdown().await;
}

#[tokio::test]
async fn settings_ga_lacks_are_ignored_by_ga_so_check_refuses_them() {
    let setup = Setup::start(builder()).await;
    let profile = setup.profile.clone();

    // What check refuses, field and rule.
    let mut s = https_spec("h", 443);
    if let Some(t) = s.tls.as_mut() {
        t.client_auth = Some(ClientAuth {
            verify: ClientVerify::Required,
            ca_certificates: vec!["web-2".into()],
        });
        t.http2 = Some(false);
        t.http3 = Some(true);
    }
    assert_checked(&profile, &s, "tls.client_auth", rule::MUTUAL_TLS);
    assert_checked(&profile, &s, "tls.http2", rule::HTTP_VERSION);
    let mut sni = https_spec("h", 443);
    if let Some(t) = sni.tls.as_mut() {
        t.sni = Some(true);
    }
    assert_checked(&profile, &sni, "tls.sni", rule::SNI);
    let mut l7 = ListenerSpec::new("h", Protocol::Http, Ports::Single(80));
    l7.health_check = Some(HealthCheck {
        enabled: true,
        kind: None,
        interval_secs: Some(5),
        timeout_secs: None,
        healthy_threshold: None,
        unhealthy_threshold: None,
        port: None,
        http: None,
        custom: None,
    });
    l7.scheduler = Some(Scheduler::LeastConnections);
    l7.session_persistence = Some(SessionPersistence {
        by: AffinityKey::SourceIp,
        timeout_secs: Some(60),
    });
    l7.client_ip = headers(ForwardedHeaders {
        x_forwarded_for: Some(false),
        x_forwarded_for_mode: Some(ForwardedForMode::Append),
        x_forwarded_host: Some(true),
        client_source_port: Some(true),
        ..ForwardedHeaders::default()
    });
    for (field, r) in [
        ("health_check", rule::HEALTH_CHECK),
        ("scheduler", rule::SCHEDULER),
        ("session_persistence.timeout_secs", rule::AFFINITY_TIMEOUT),
        ("client_ip.headers.x_forwarded_for", rule::X_FORWARDED_FOR_ALWAYS),
        ("client_ip.headers.x_forwarded_for_mode", rule::HEADER),
        ("client_ip.headers.x_forwarded_host", rule::HEADER),
        ("client_ip.headers.client_source_port", rule::HEADER),
    ] {
        assert_checked(&profile, &l7, field, r);
    }
    let mut none = ListenerSpec::new("h", Protocol::Http, Ports::Single(80));
    none.client_ip = Some(ClientIp {
        mode: ClientIpMode::None,
        headers: None,
    });
    assert_checked(&profile, &none, "client_ip.mode", rule::X_FORWARDED_FOR_ALWAYS);
    // The listener's ProxyProtocol is deprecated but accepted (tested in
    // lifecycle.rs): not a rejection.
    let mut pp = tcp(80);
    pp.client_ip = Some(ClientIp {
        mode: ClientIpMode::ProxyProtocol,
        headers: None,
    });
    assert!(check(&profile, &pp).is_empty());

    // The closest parameters other APIs use, sent raw: GA accepts the call
    // and drops them, so the listener would silently lack the setting.
    let id = setup
        .raw_create(json!({
            "Protocol": "https",
            "PortRanges": [{"FromPort": 443, "ToPort": 443}],
            "Certificates": [{"Id": common::CERT}],
            "HttpVersion": "http3",
            "CaEnabled": true,
            "CaCertificates": [{"CertificateId": "450-cn-hangzhou"}],
            "HealthCheckEnabled": true,
            "Scheduler": "wlc",
            "StickySessionTimeout": 60,
            "XForwardedForConfig": {"XForwardedForEnabled": false, "XForwardedForHostEnabled": true},
        }))
        .await
        .expect("GA takes the call");
    let described = setup.provider.client().describe_listener(&id).await.expect("describe");
    for absent in [
        "CaEnabled",
        "CaCertificates",
        "HealthCheckEnabled",
        "Scheduler",
        "StickySessionTimeout",
    ] {
        assert!(described.get(absent).is_none(), "{absent} came back");
    }
    assert_eq!(described["ProxyProtocol"], false, "not sent, off");
    let back = setup.provider.get(&listener_core::ListenerId(id)).await.expect("get");
    let tls = back.spec.tls.expect("tls");
    assert!(tls.client_auth.is_none(), "no mutual TLS on GA");
    assert_eq!(
        (tls.http2, tls.http3),
        (Some(true), Some(true)),
        "http3 comes with http2"
    );
    assert_eq!(tls.sni, Some(false));
    let h = back.spec.client_ip.and_then(|c| c.headers).expect("headers");
    assert_eq!(h.x_forwarded_for, Some(true), "X-Forwarded-For stays on");
    assert_eq!(h.x_forwarded_host, Some(false));
    assert!(back.spec.health_check.is_none() && back.spec.scheduler.is_none());
    setup.shutdown().await;
}
