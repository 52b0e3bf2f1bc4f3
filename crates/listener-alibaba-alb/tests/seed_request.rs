//! The seed's sample `CreateListener` request, rebuilt from a spec.
//!
//! The seed page shows its sample with lists and objects as JSON (page
//! notation); the SDKs send them flattened, which is what the adapter's
//! parameters become through `alibaba_api::params::flatten`. The sample
//! says `ListenerProtocol=HTTP` yet carries HTTPS-only parameters
//! (`Http2Enabled`, `SecurityPolicyId`, certificates, client-certificate
//! headers, `QuicConfig`) that the same page says only HTTPS listeners take,
//! so it is rebuilt twice: as HTTPS with every parameter, and as HTTP with
//! the ones HTTP listeners have. `ClientToken` and `DryRun` are not part of
//! the translation: the client adds the token of the logical operation, and
//! `DryRun` only when a dry run is asked for.

use alibaba_api::params::flatten;
use listener_alibaba_alb::translate::create_params;
use listener_alibaba_alb::{check, API};
use listener_core::{
    ClientIp, ClientIpMode, ForwardedHeaders, Forwarding, ListenerSpec, Ports, ProfileConfig, Protocol, Timeouts, Tls,
};
use serde_json::json;

const SEED_CERT: &str = "12315790212_166f8204689_1714763408_70998****";
const SEED_GROUP: &str = "rsp-cige6j****";

fn seed_profile() -> ProfileConfig {
    let mut p = ProfileConfig::new(API, "lb-bp1o94dp5i6ea****");
    p.aliases.certificates.insert("seed-cert".into(), SEED_CERT.into());
    p.aliases.targets.insert("seed-group".into(), SEED_GROUP.into());
    p
}

fn seed_spec(protocol: Protocol) -> ListenerSpec {
    let mut s = ListenerSpec::new("seed", protocol, Ports::Single(80));
    s.description = Some("test".into());
    s.timeouts = Some(Timeouts {
        idle_secs: Some(3),
        request_secs: Some(60),
    });
    s.forwarding = Some(Forwarding {
        backend_protocol: None,
        default_target: Some("seed-group".into()),
    });
    s.client_ip = Some(ClientIp {
        mode: ClientIpMode::Headers,
        headers: Some(ForwardedHeaders {
            x_forwarded_for: Some(false),
            x_forwarded_proto: Some(false),
            x_forwarded_port: Some(false),
            client_source_port: Some(false),
            ..ForwardedHeaders::default()
        }),
    });
    let mut ext = json!({ "gzip": true, "slb_id_header": false });
    if protocol == Protocol::Https {
        s.tls = Some(Tls {
            certificates: vec!["seed-cert".into()],
            policy: Some("tls_cipher_policy_1_0".into()),
            http2: Some(true),
            http3: None,
            sni: None,
            client_auth: None,
        });
        ext["quic_upgrade"] = json!({ "enabled": false, "listener_id": "lsr-bp1bpn0kn908w4nbw****" });
        ext["client_cert_headers"] = json!({
            "client_verify": { "enabled": false, "alias": "test_client-verify-alias_123456" },
            "fingerprint": { "enabled": false, "alias": "test_finger-print-alias_123456" },
            "issuer_dn": { "enabled": false, "alias": "test_issue-dn-alias_123456" },
            "subject_dn": { "enabled": false, "alias": "test_subject-dn-alias_123456" }
        });
    }
    s.extensions.0.insert(API.into(), ext);
    s
}

fn sorted(pairs: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut v = pairs;
    v.sort();
    v
}

fn expected(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    sorted(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}

/// Beside the seed's parameters, every create carries the management mark
/// (the profile's default owner) as a tag.
const COMMON: [(&str, &str); 15] = [
    ("Tag.1.Key", "cloud-listeners:managed"),
    ("Tag.1.Value", "default"),
    ("LoadBalancerId", "lb-bp1o94dp5i6ea****"),
    ("ListenerPort", "80"),
    ("ListenerDescription", "test"),
    ("RequestTimeout", "60"),
    ("IdleTimeout", "3"),
    ("GzipEnabled", "true"),
    ("XForwardedForConfig.XForwardedForClientSrcPortEnabled", "false"),
    ("XForwardedForConfig.XForwardedForEnabled", "false"),
    ("XForwardedForConfig.XForwardedForProtoEnabled", "false"),
    ("XForwardedForConfig.XForwardedForSLBIdEnabled", "false"),
    ("XForwardedForConfig.XForwardedForSLBPortEnabled", "false"),
    (
        "DefaultActions.1.ForwardGroupConfig.ServerGroupTuples.1.ServerGroupId",
        SEED_GROUP,
    ),
    ("DefaultActions.1.Type", "ForwardGroup"),
];

#[test]
fn seed_sample_request_flattens_to_the_seed_parameters_as_https() {
    let spec = seed_spec(Protocol::Https);
    assert!(
        check(&seed_profile(), &spec).is_empty(),
        "{:?}",
        check(&seed_profile(), &spec)
    );
    let got = sorted(flatten(&create_params(&seed_profile(), &spec, None)));
    let mut want: Vec<(&str, &str)> = COMMON.to_vec();
    want.extend([
        ("ListenerProtocol", "HTTPS"),
        ("Http2Enabled", "true"),
        ("SecurityPolicyId", "tls_cipher_policy_1_0"),
        ("CaEnabled", "false"),
        (
            "XForwardedForConfig.XForwardedForClientCertClientVerifyAlias",
            "test_client-verify-alias_123456",
        ),
        (
            "XForwardedForConfig.XForwardedForClientCertClientVerifyEnabled",
            "false",
        ),
        (
            "XForwardedForConfig.XForwardedForClientCertFingerprintAlias",
            "test_finger-print-alias_123456",
        ),
        ("XForwardedForConfig.XForwardedForClientCertFingerprintEnabled", "false"),
        (
            "XForwardedForConfig.XForwardedForClientCertIssuerDNAlias",
            "test_issue-dn-alias_123456",
        ),
        ("XForwardedForConfig.XForwardedForClientCertIssuerDNEnabled", "false"),
        (
            "XForwardedForConfig.XForwardedForClientCertSubjectDNAlias",
            "test_subject-dn-alias_123456",
        ),
        ("XForwardedForConfig.XForwardedForClientCertSubjectDNEnabled", "false"),
        ("QuicConfig.QuicListenerId", "lsr-bp1bpn0kn908w4nbw****"),
        ("QuicConfig.QuicUpgradeEnabled", "false"),
        ("Certificates.1.CertificateId", SEED_CERT),
    ]);
    assert_eq!(got, expected(&want));
}

#[test]
fn seed_sample_request_flattens_to_the_http_parameters_as_http() {
    let spec = seed_spec(Protocol::Http);
    assert!(
        check(&seed_profile(), &spec).is_empty(),
        "{:?}",
        check(&seed_profile(), &spec)
    );
    let got = sorted(flatten(&create_params(&seed_profile(), &spec, None)));
    let mut want: Vec<(&str, &str)> = COMMON.to_vec();
    want.push(("ListenerProtocol", "HTTP"));
    assert_eq!(got, expected(&want));
}

#[test]
fn the_seed_as_written_is_refused_for_its_https_only_parameters() {
    // The sample literally: HTTP with HTTP/2, a security policy, a
    // certificate and a QUIC upgrade. Every one of those is refused before
    // any call, each under its own rule.
    let mut spec = seed_spec(Protocol::Https);
    spec.protocol = Protocol::Http;
    let rejections = check(&seed_profile(), &spec);
    let has = |field: &str, rule: &str| rejections.iter().any(|r| r.field == field && r.rule == rule);
    assert!(has("tls", "invalid_spec"));
    assert!(has("extensions.alibaba-alb.quic_upgrade", "quic_upgrade_https_only"));
    assert!(has(
        "extensions.alibaba-alb.client_cert_headers",
        "client_cert_headers_https_only"
    ));
}
