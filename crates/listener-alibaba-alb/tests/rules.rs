//! Every rule `check` applies, paired with what the emulated ALB answers
//! when the same request is sent raw (bypassing `check`): the vendor's
//! error code, mapped by the client to the expected error kind.
//!
//! Rules about neutral fields ALB has no parameter for (health check,
//! scheduler, session persistence, Proxy Protocol, X-Real-IP, SNI and
//! HTTP/3 switches, optional client verification, backend protocol) have no
//! raw form: nothing could carry them on the wire. They are checked at the
//! end of this file and in `translate.rs`.

mod common;

use alibaba_api::CallOptions;
use common::*;
use listener_alibaba_alb::{check, check_set};
use listener_core::{
    ClientIp, ClientIpMode, ForwardedHeaders, ListenerSpec, PortEntry, Ports, Protocol, Provider, Timeouts,
};
use listener_emulator::services::alb::Alb;
use serde_json::{json, Value};

fn rejects(spec: &ListenerSpec, field: &str, rule: &str) {
    let r = check(&profile("http://127.0.0.1:1"), spec);
    assert!(
        r.iter().any(|x| x.field == field && x.rule == rule),
        "expected {field} [{rule}] in {r:?}"
    );
}

async fn vendor_answers(env: &Env, action: &str, params: &Value, code: &str, kind: &str) {
    let raw = env.raw();
    let e = raw
        .call(action, params, CallOptions::write(raw.new_client_token()))
        .await
        .expect_err("the vendor refuses");
    assert_eq!(code_of(&e), code, "{e:?}");
    assert_eq!(e.kind(), kind, "{e:?}");
}

/// One rule: `check` refuses `spec` at `field` under `rule`, and the
/// emulator answers `code` (error kind `kind`) to `params`.
async fn rule(spec: ListenerSpec, field: &str, rule_name: &str, params: Value, code: &str, kind: &str) {
    rejects(&spec, field, rule_name);
    let env = Env::start().await;
    vendor_answers(&env, "CreateListener", &params, code, kind).await;
    assert_eq!(env.count(), 0, "nothing was created");
    env.stop().await;
}

fn with(mut v: Value, key: &str, value: Value) -> Value {
    v[key] = value;
    v
}

fn headers(mut spec: ListenerSpec, h: ForwardedHeaders) -> ListenerSpec {
    spec.client_ip = Some(ClientIp {
        mode: ClientIpMode::Headers,
        headers: Some(h),
    });
    spec
}

#[tokio::test]
async fn layer4_protocols() {
    for (p, name) in [
        (Protocol::Tcp, "TCP"),
        (Protocol::Udp, "UDP"),
        (Protocol::TcpSsl, "TCP_SSL"),
    ] {
        let mut s = http(80);
        s.protocol = p;
        let raw = with(raw_params("HTTP", 80), "ListenerProtocol", json!(name));
        rule(s, "protocol", "layer7_only", raw, "InvalidParameter", "vendor").await;
    }
}

#[tokio::test]
async fn several_ports() {
    let mut s = http(80);
    s.ports = Ports::List(vec![PortEntry::Port(80), PortEntry::Port(8080)]);
    let raw = with(raw_params("HTTP", 80), "ListenerPort", json!("80,8080"));
    rule(s, "ports", "single_port", raw, "InvalidParameter", "vendor").await;
}

#[tokio::test]
async fn port_outside_range() {
    let s = http(0);
    let raw = with(raw_params("HTTP", 80), "ListenerPort", json!(0));
    rule(s, "ports", "invalid_spec", raw, "InvalidParameter", "vendor").await;
}

#[tokio::test]
async fn missing_default_target() {
    let mut s = http(80);
    s.forwarding = None;
    let mut raw = raw_params("HTTP", 80);
    raw.as_object_mut().unwrap().remove("DefaultActions");
    rule(
        s,
        "forwarding.default_target",
        "MissingParameter",
        raw,
        "MissingParameter",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn unknown_target_alias() {
    let mut s = http(80);
    s.forwarding.as_mut().unwrap().default_target = Some("nope".into());
    let mut raw = raw_params("HTTP", 80);
    raw["DefaultActions"][0]["ForwardGroupConfig"]["ServerGroupTuples"][0]["ServerGroupId"] = json!("sgp-nope");
    rule(
        s,
        "forwarding.default_target",
        "alias_unknown",
        raw,
        "ResourceNotFound.ServerGroup",
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn description_length() {
    let mut s = http(80);
    s.description = Some("a".into());
    let raw = with(raw_params("HTTP", 80), "ListenerDescription", json!("a"));
    rule(
        s,
        "description",
        "description_length",
        raw,
        "InvalidParameter",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn tag_with_a_reserved_prefix() {
    let mut s = http(80);
    s.tags.insert("acs:owner".into(), "web".into());
    let raw = with(
        raw_params("HTTP", 80),
        "Tag",
        json!([{ "Key": "acs:owner", "Value": "web" }]),
    );
    rule(s, "tags.acs:owner", "tag_format", raw, "InvalidParameter", "vendor").await;
}

#[tokio::test]
async fn more_than_twenty_tags() {
    let mut s = http(80);
    let mut tags = Vec::new();
    for i in 0..21 {
        s.tags.insert(format!("k{i}"), "v".into());
        tags.push(json!({ "Key": format!("k{i}"), "Value": "v" }));
    }
    let raw = with(raw_params("HTTP", 80), "Tag", Value::Array(tags));
    rule(s, "tags", "tag_count", raw, "QuotaExceeded.TagsNum", "vendor").await;
}

#[tokio::test]
async fn description_characters() {
    let mut s = http(80);
    s.description = Some("web listener".into());
    let raw = with(raw_params("HTTP", 80), "ListenerDescription", json!("web listener"));
    rule(
        s,
        "description",
        "description_charset",
        raw,
        "InvalidParameter",
        "vendor",
    )
    .await;
}

/// Between 601 and 3600 s the quota decides (SDK: 1–600, raised up to
/// 3600): `check` accepts, and the emulator, an instance at the default
/// quota, answers `InvalidParameter`.
#[tokio::test]
async fn timeouts_between_600_and_3600_are_left_to_the_vendor() {
    let mut s = http(80);
    s.timeouts = Some(Timeouts {
        idle_secs: Some(601),
        request_secs: Some(3600),
    });
    assert!(check(&profile("http://127.0.0.1:1"), &s).is_empty());
    let env = Env::start().await;
    for (key, v) in [("RequestTimeout", 601), ("IdleTimeout", 3600)] {
        let raw = with(raw_params("HTTP", 80), key, json!(v));
        vendor_answers(&env, "CreateListener", &raw, "InvalidParameter", "vendor").await;
    }
    env.stop().await;
}

#[tokio::test]
async fn request_timeout_above_3600() {
    let mut s = http(80);
    s.timeouts = Some(Timeouts {
        idle_secs: None,
        request_secs: Some(3601),
    });
    let raw = with(raw_params("HTTP", 80), "RequestTimeout", json!(3601));
    rule(
        s,
        "timeouts.request_secs",
        // The neutral model caps timeouts at 3600 as well and reports first.
        listener_core::check::INVALID_SPEC,
        raw,
        "InvalidParameter",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn idle_timeout_above_3600() {
    let mut s = http(80);
    s.timeouts = Some(Timeouts {
        idle_secs: Some(3601),
        request_secs: None,
    });
    let raw = with(raw_params("HTTP", 80), "IdleTimeout", json!(3601));
    rule(
        s,
        "timeouts.idle_secs",
        // The neutral model caps timeouts at 3600 as well and reports first.
        listener_core::check::INVALID_SPEC,
        raw,
        "InvalidParameter",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn http2_outside_https() {
    let mut s = quic(443);
    s.tls.as_mut().unwrap().http2 = Some(true);
    // The neutral rule names it first; the vendor rule agrees.
    rejects(&s, "tls.http2", "invalid_spec");
    let raw = with(raw_params("QUIC", 443), "Http2Enabled", json!(true));
    let env = Env::start().await;
    vendor_answers(&env, "CreateListener", &raw, "InvalidParameter", "vendor").await;
    let raw = with(raw_params("HTTP", 80), "Http2Enabled", json!(true));
    vendor_answers(&env, "CreateListener", &raw, "InvalidParameter", "vendor").await;
    env.stop().await;
}

#[tokio::test]
async fn security_policy_outside_https() {
    let mut s = quic(443);
    s.tls.as_mut().unwrap().policy = Some("tls_cipher_policy_1_2".into());
    let raw = with(
        raw_params("QUIC", 443),
        "SecurityPolicyId",
        json!("tls_cipher_policy_1_2"),
    );
    rule(s, "tls.policy", "https_only", raw, "InvalidParameter", "vendor").await;
}

#[tokio::test]
async fn certificate_on_http() {
    let mut s = http(80);
    s.tls = https(80).tls;
    let raw = with(
        raw_params("HTTP", 80),
        "Certificates",
        json!([{"CertificateId": "cert-web-0001"}]),
    );
    rule(s, "tls", "invalid_spec", raw, "InvalidParameter", "vendor").await;
}

#[tokio::test]
async fn https_and_quic_without_default_certificate() {
    for (p, name, port) in [(Protocol::Https, "HTTPS", 443), (Protocol::Quic, "QUIC", 443)] {
        let mut s = tls_spec(p, port, &[]);
        s.tls.as_mut().unwrap().sni = Some(true);
        let mut raw = raw_params(name, port);
        raw.as_object_mut().unwrap().remove("Certificates");
        rule(
            s,
            "tls.certificates",
            "default_certificate_required",
            raw,
            "MissingParameter",
            "vendor",
        )
        .await;
    }
}

#[tokio::test]
async fn mutual_tls_on_quic() {
    let mut s = quic(443);
    mutual_tls(&mut s, &["client-ca"]);
    let mut raw = with(raw_params("QUIC", 443), "CaEnabled", json!(true));
    raw["CaCertificates"] = json!([{"CertificateId": "cert-ca-0004"}]);
    rule(
        s,
        "tls.client_auth",
        "mutual_tls_https_only",
        raw,
        "InvalidParameter",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn mutual_tls_with_two_cas() {
    let mut s = https(443);
    mutual_tls(&mut s, &["client-ca", "client-ca-2"]);
    let mut raw = with(raw_params("HTTPS", 443), "CaEnabled", json!(true));
    raw["CaCertificates"] = json!([{"CertificateId": "cert-ca-0004"}, {"CertificateId": "cert-ca-0005"}]);
    rule(
        s,
        "tls.client_auth.ca_certificates",
        "one_ca_certificate",
        raw,
        "InvalidParameter",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn mutual_tls_without_ca() {
    let mut s = https(443);
    mutual_tls(&mut s, &[]);
    // The neutral rule (mutual TLS needs a CA) names it first.
    rejects(&s, "tls.client_auth.ca_certificates", "invalid_spec");
    let raw = with(raw_params("HTTPS", 443), "CaEnabled", json!(true));
    let env = Env::start().await;
    vendor_answers(&env, "CreateListener", &raw, "MissingParameter", "vendor").await;
    env.stop().await;
}

#[tokio::test]
async fn quic_upgrade_outside_https() {
    let s = ext(http(80), json!({"quic_upgrade": {"listener_id": "lsn-quic"}}));
    let raw = with(
        raw_params("HTTP", 80),
        "QuicConfig",
        json!({"QuicUpgradeEnabled": true, "QuicListenerId": "lsn-quic"}),
    );
    rule(
        s,
        "extensions.alibaba-alb.quic_upgrade",
        "quic_upgrade_https_only",
        raw,
        "InvalidParameter",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn quic_upgrade_without_listener() {
    let s = ext(https(443), json!({"quic_upgrade": {}}));
    let raw = with(
        raw_params("HTTPS", 443),
        "QuicConfig",
        json!({"QuicUpgradeEnabled": true}),
    );
    rule(
        s,
        "extensions.alibaba-alb.quic_upgrade",
        "MissingParameter",
        raw,
        "MissingParameter",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn client_cert_headers_outside_https() {
    let s = ext(
        http(80),
        json!({"client_cert_headers": {"fingerprint": {"enabled": true}}}),
    );
    let raw = with(
        raw_params("HTTP", 80),
        "XForwardedForConfig",
        json!({"XForwardedForClientCertFingerprintEnabled": true}),
    );
    rule(
        s,
        "extensions.alibaba-alb.client_cert_headers",
        "client_cert_headers_https_only",
        raw,
        "InvalidParameter",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn xff_settings_on_quic() {
    let cases: Vec<(ListenerSpec, &str, &str)> = vec![
        (
            headers(
                quic(443),
                ForwardedHeaders {
                    x_forwarded_for: Some(true),
                    ..ForwardedHeaders::default()
                },
            ),
            "client_ip.headers.x_forwarded_for",
            "XForwardedForEnabled",
        ),
        (
            headers(
                quic(443),
                ForwardedHeaders {
                    x_forwarded_for_mode: Some(listener_core::ForwardedForMode::Append),
                    ..ForwardedHeaders::default()
                },
            ),
            "client_ip.headers.x_forwarded_for_mode",
            "XForwardedForProcessingMode",
        ),
        (
            headers(
                quic(443),
                ForwardedHeaders {
                    client_source_port: Some(true),
                    ..ForwardedHeaders::default()
                },
            ),
            "client_ip.headers.client_source_port",
            "XForwardedForClientSrcPortEnabled",
        ),
        (
            ext(quic(443), json!({"client_source_ips": {"enabled": true}})),
            "extensions.alibaba-alb.client_source_ips",
            "XForwardedForClientSourceIpsEnabled",
        ),
    ];
    let env = Env::start().await;
    for (spec, field, param) in cases {
        rejects(&spec, field, "xff_not_on_quic");
        let value = if param == "XForwardedForProcessingMode" {
            json!("append")
        } else {
            json!(true)
        };
        let raw = with(raw_params("QUIC", 443), "XForwardedForConfig", json!({ param: value }));
        vendor_answers(&env, "CreateListener", &raw, "InvalidParameter", "vendor").await;
    }
    assert_eq!(env.count(), 0);
    env.stop().await;
}

#[tokio::test]
async fn header_alias_format() {
    let s = ext(
        https(443),
        json!({"client_cert_headers": {"issuer_dn": {"enabled": true, "alias": "Issuer DN"}}}),
    );
    let raw = with(
        raw_params("HTTPS", 443),
        "XForwardedForConfig",
        json!({"XForwardedForClientCertIssuerDNEnabled": true, "XForwardedForClientCertIssuerDNAlias": "Issuer DN"}),
    );
    rule(
        s,
        "extensions.alibaba-alb.client_cert_headers.issuer_dn.alias",
        "header_alias_format",
        raw,
        "InvalidParameter",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn xff_mode_without_xff() {
    let s = headers(
        http(80),
        ForwardedHeaders {
            x_forwarded_for: Some(false),
            x_forwarded_for_mode: Some(listener_core::ForwardedForMode::Remove),
            ..ForwardedHeaders::default()
        },
    );
    let raw = with(
        raw_params("HTTP", 80),
        "XForwardedForConfig",
        json!({"XForwardedForEnabled": false, "XForwardedForProcessingMode": "remove"}),
    );
    rule(
        s,
        "client_ip.headers.x_forwarded_for_mode",
        "xff_mode_needs_xff",
        raw,
        "InvalidParameter",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn trusted_address_format() {
    let s = ext(
        http(80),
        json!({"client_source_ips": {"enabled": true, "trusted": ["10.0.0.0/8", "proxy.example"]}}),
    );
    let raw = with(
        raw_params("HTTP", 80),
        "XForwardedForConfig",
        json!({"XForwardedForClientSourceIpsEnabled": true, "XForwardedForClientSourceIpsTrusted": "10.0.0.0/8,proxy.example"}),
    );
    rule(
        s,
        "extensions.alibaba-alb.client_source_ips.trusted[1]",
        "trusted_address_format",
        raw,
        "InvalidParameter",
        "vendor",
    )
    .await;
}

#[tokio::test]
async fn shared_port_on_one_instance() {
    let mut second = https(443);
    second.name = "second".into();
    let r = check_set(&profile("http://127.0.0.1:1"), &[https(443), second, quic(443)]);
    let hits: Vec<_> = r
        .iter()
        .filter(|(_, x)| x.rule == "ResourceAlreadyExist.Listener")
        .map(|(i, x)| (*i, x.field.clone()))
        .collect();
    assert_eq!(hits, vec![(1, "ports".to_string())]);

    let env = Env::start().await;
    env.provider().create(&https(443)).await.expect("first");
    vendor_answers(
        &env,
        "CreateListener",
        &raw_params("HTTPS", 443),
        "ResourceAlreadyExist.Listener",
        "conflict",
    )
    .await;
    // HTTP shares the TCP port space with HTTPS.
    vendor_answers(
        &env,
        "CreateListener",
        &raw_params("HTTP", 443),
        "ResourceAlreadyExist.Listener",
        "conflict",
    )
    .await;
    assert_eq!(env.count(), 1);
    env.stop().await;
}

#[tokio::test]
async fn more_than_fifty_listeners_are_warned_and_left_to_the_vendor() {
    let specs: Vec<ListenerSpec> = (0..51).map(|i| http(8000 + i)).collect();
    let r = check_set(&profile("http://127.0.0.1:1"), &specs);
    assert!(r.is_empty(), "an adjustable quota is not refused: {r:?}");
    let warned = listener_alibaba_alb::check_set_with_warnings(&profile("http://127.0.0.1:1"), &specs).warnings;
    assert_eq!(
        warned
            .iter()
            .map(|(i, w)| (*i, w.field.as_str(), w.rule))
            .collect::<Vec<_>>(),
        vec![(50, "listeners", listener_alibaba_alb::translate::LISTENER_QUOTA)]
    );

    let env = Env::start_timed(Vec::new(), Alb::new(), std::time::Duration::ZERO).await;
    let raw = env.raw();
    for port in 8000..8050 {
        raw.call(
            "CreateListener",
            &raw_params("HTTP", port),
            CallOptions::write(raw.new_client_token()),
        )
        .await
        .expect("within the quota");
    }
    assert_eq!(env.count(), 50);
    vendor_answers(
        &env,
        "CreateListener",
        &raw_params("HTTP", 8050),
        "ResourceQuotaExceeded.LoadBalancerListenersNum",
        "vendor",
    )
    .await;
    assert_eq!(env.count(), 50);
    env.stop().await;
}

#[tokio::test]
async fn one_quic_listener_per_https_upgrade() {
    let a = ext(https(443), json!({"quic_upgrade": {"port": 443}}));
    let b = ext(https(8443), json!({"quic_upgrade": {"port": 443}}));
    let r = check_set(&profile("http://127.0.0.1:1"), &[quic(443), a.clone(), b.clone()]);
    assert!(r.iter().any(|(i, x)| *i == 2
        && x.field == "extensions.alibaba-alb.quic_upgrade"
        && x.rule == "ResourceAlreadyAssociated.Listener"));

    let env = Env::start().await;
    let p = env.provider();
    let made = p.create_batch(&[quic(443), a]).await.expect("made");
    let quic_id = made
        .iter()
        .find(|l| l.spec.protocol == Protocol::Quic)
        .map(|l| l.id.0.clone())
        .unwrap();
    let raw = with(
        raw_params("HTTPS", 8443),
        "QuicConfig",
        json!({"QuicUpgradeEnabled": true, "QuicListenerId": quic_id}),
    );
    vendor_answers(
        &env,
        "CreateListener",
        &raw,
        "ResourceAlreadyAssociated.Listener",
        "conflict",
    )
    .await;
    env.stop().await;
}

#[tokio::test]
async fn quic_listener_listed_after_its_https_listener() {
    let a = ext(https(443), json!({"quic_upgrade": {"port": 443}}));
    let r = check_set(&profile("http://127.0.0.1:1"), &[a, quic(443)]);
    assert!(r.iter().any(|(i, x)| *i == 0 && x.rule == "quic_listener_order"));
    // Raw, the HTTPS listener names a QUIC listener that does not exist yet.
    let env = Env::start().await;
    let raw = with(
        raw_params("HTTPS", 443),
        "QuicConfig",
        json!({"QuicUpgradeEnabled": true, "QuicListenerId": "lsn-notcreatedyet0000"}),
    );
    vendor_answers(&env, "CreateListener", &raw, "ResourceNotFound.Listener", "not_found").await;
    env.stop().await;
}

#[tokio::test]
async fn quic_listener_of_another_instance() {
    // Offline the adapter cannot know which instance an ID belongs to; the
    // vendor refuses it.
    let env = Env::start().await;
    let raw = env.raw();
    let mut other = raw_params("QUIC", 443);
    other["LoadBalancerId"] = json!(OTHER_LB);
    other["DefaultActions"][0]["ForwardGroupConfig"]["ServerGroupTuples"][0]["ServerGroupId"] = json!("sgp-other");
    let made = raw
        .call("CreateListener", &other, CallOptions::write(raw.new_client_token()))
        .await
        .expect("made on the other instance");
    let quic_id = made.body["ListenerId"].as_str().unwrap().to_string();
    let upgrade = ext(https(443), json!({"quic_upgrade": {"listener_id": quic_id}}));
    match env.provider().create(&upgrade).await {
        Err(e) => assert_eq!(code_of(&e), "OperationDenied.CrossLoadBalancerQUICListener"),
        Ok(l) => panic!("expected a refusal, got {l:?}"),
    }
    env.stop().await;
}

#[tokio::test]
async fn port_and_protocol_are_immutable() {
    let env = Env::start().await;
    let p = env.provider();
    let made = p.create(&http(80)).await.expect("made").remove(0);
    assert!(matches!(
        p.update(&made, &http(81)).await,
        Err(listener_core::Error::ImmutableField { .. })
    ));
    for (param, value) in [("ListenerPort", json!(81)), ("ListenerProtocol", json!("HTTPS"))] {
        let raw = json!({"ListenerId": made.id.as_str(), param: value});
        vendor_answers(&env, "UpdateListenerAttribute", &raw, "InvalidParameter", "vendor").await;
    }
    env.stop().await;
}

#[test]
fn rules_without_a_wire_form_are_refused_by_check() {
    let mut optional = https(443);
    mutual_tls(&mut optional, &["client-ca"]);
    optional.tls.as_mut().unwrap().client_auth.as_mut().unwrap().verify = listener_core::ClientVerify::Optional;
    rejects(&optional, "tls.client_auth.verify", "client_verify_optional");

    let mut sni = https(443);
    sni.tls.as_mut().unwrap().sni = Some(true);
    rejects(&sni, "tls.sni", "sni_switch");

    let mut h3 = https(443);
    h3.tls.as_mut().unwrap().http3 = Some(true);
    rejects(&h3, "tls.http3", "http3_switch");

    let real_ip = headers(
        http(80),
        ForwardedHeaders {
            x_real_ip: Some(true),
            ..ForwardedHeaders::default()
        },
    );
    rejects(&real_ip, "client_ip.headers.x_real_ip", "x_real_ip");

    let mut proxy = quic(443);
    proxy.client_ip = Some(ClientIp {
        mode: ClientIpMode::ProxyProtocol,
        headers: None,
    });
    rejects(&proxy, "client_ip.mode", "proxy_protocol");

    let mut hc = http(80);
    hc.health_check = Some(listener_core::HealthCheck {
        enabled: true,
        kind: None,
        interval_secs: None,
        timeout_secs: None,
        healthy_threshold: None,
        unhealthy_threshold: None,
        port: None,
        http: None,
        custom: None,
    });
    rejects(&hc, "health_check", "health_check_on_server_group");

    let mut sched = http(80);
    sched.scheduler = Some(listener_core::Scheduler::LeastConnections);
    rejects(&sched, "scheduler", "scheduler_on_server_group");

    let mut sticky = http(80);
    sticky.session_persistence = Some(listener_core::SessionPersistence {
        by: listener_core::AffinityKey::SourceIp,
        timeout_secs: Some(60),
    });
    rejects(&sticky, "session_persistence", "session_persistence_on_server_group");

    let typo = ext(http(80), json!({"gzipped": true}));
    rejects(&typo, "extensions.alibaba-alb", "extension_invalid");

    let bad_port = ext(https(443), json!({"quic_upgrade": {"port": 0}}));
    rejects(&bad_port, "extensions.alibaba-alb.quic_upgrade.port", "port_range");

    let mut unknown_cert = https(443);
    unknown_cert.tls.as_mut().unwrap().certificates = vec!["nope".into()];
    rejects(&unknown_cert, "tls.certificates[0]", "alias_unknown");
}
