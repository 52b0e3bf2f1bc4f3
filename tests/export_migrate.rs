//! Export and the migration report, end to end against the emulator.
//!
//! Listeners are made the way other tools and people make them: raw,
//! signed vendor calls (the generic Tencent and Alibaba clients, no
//! `check`, no translation of ours), with a spread of protocols and
//! settings per API, certificate and target IDs some of which the profile
//! maps and some it does not. Export must give a file that loads, holds no
//! secret, and plans nothing against the same instance; the migration
//! report from each API's export to each of the other three must name
//! what cannot move, with the field and the target's rule.

mod common;

use std::path::Path;

use alibaba_api::{AlibabaClient, CallOptions};
use cloud_listeners::export::{self, AliasKind, Exported};
use cloud_listeners::migrate::{self, MigrationReport, Verdict};
use cloud_listeners::plan::Plan;
use cloud_listeners::{provider_from_profile, ConfigFile, Format, ListenerStatus, ProfileConfig};
use listener_emulator::{EmulatorHandle, InstanceSeed};
use serde_json::{json, Value};
use tencent_api::TencentClient;

const APIS: [&str; 4] = ["tencent-gaap", "tencent-clb", "alibaba-alb", "alibaba-ga"];

/// A server group on the ALB instance that the test profile does not map.
const UNMAPPED_GROUP: &str = "sgp-extra000001";

async fn start() -> EmulatorHandle {
    let (service, instance) = common::instance_of("alibaba-alb");
    common::builder()
        .seed(
            service,
            InstanceSeed {
                id: instance.to_string(),
                server_groups: vec![UNMAPPED_GROUP.to_string()],
            },
        )
        .start()
        .await
        .expect("emulator starts on 127.0.0.1")
}

fn tencent(profile: &ProfileConfig, service: &'static str, version: &'static str, api: &'static str) -> TencentClient {
    TencentClient::from_profile(profile, service, version, api).expect("raw Tencent client")
}

fn alibaba(profile: &ProfileConfig, product: &alibaba_api::Product) -> AlibabaClient {
    AlibabaClient::from_profile(profile, product).expect("raw Alibaba client")
}

/// GAAP: TCP with proxy protocol, weighted scheduling and failover; UDP
/// with a payload probe on domain origins; HTTP; HTTPS with mutual TLS,
/// one client CA the profile maps and one it does not.
async fn make_gaap(p: &ProfileConfig) -> usize {
    let c = tencent(p, "gaap", "2018-05-29", "tencent-gaap");
    let link = p.instance.as_str();
    let calls = [
        (
            "CreateTCPListeners",
            json!({"ProxyId": link, "ListenerName": "app-tcp", "Ports": [7000], "Scheduler": "wrr",
                   "RealServerType": "IP", "HealthCheck": 1, "DelayLoop": 10, "ConnectTimeout": 3,
                   "HealthyThreshold": 2, "UnhealthyThreshold": 4, "ClientIPMethod": 1, "FailoverSwitch": 1}),
        ),
        (
            "CreateUDPListeners",
            json!({"ProxyId": link, "ListenerName": "dns", "Ports": [53], "Scheduler": "rr",
                   "RealServerType": "DOMAIN", "HealthCheck": 1, "CheckType": "PORT", "CheckPort": 53,
                   "ContextType": "TEXT", "SendContext": "ping", "RecvContext": "pong"}),
        ),
        (
            "CreateHTTPListener",
            json!({"ProxyId": link, "ListenerName": "web-http", "Port": 80}),
        ),
        (
            "CreateHTTPSListener",
            json!({"ProxyId": link, "ListenerName": "web-mtls", "Port": 443, "CertificateId": "cert-web-rsa",
                   "ForwardProtocol": "HTTPS", "AuthType": 1,
                   "PolyClientCertificateIds": ["ca-partners", "ca-gaap-only-7"]}),
        ),
    ];
    for (action, params) in &calls {
        c.call(action, params, false).await.expect(action);
    }
    calls.len()
}

/// CLB: TCP with affinity and expiry, UDP, a TCP port range, HTTP,
/// HTTPS with mutual TLS (a CA the profile does not map), TCP_SSL.
async fn make_clb(p: &ProfileConfig) -> usize {
    let c = tencent(p, "clb", "2018-03-17", "tencent-clb");
    let lb = p.instance.as_str();
    let region = p.region.clone().unwrap_or_default();
    let calls = [
        json!({"LoadBalancerId": lb, "Protocol": "TCP", "Ports": [3306], "ListenerNames": ["db"],
               "SessionExpireTime": 300, "Scheduler": "WRR",
               "HealthCheck": {"HealthSwitch": 1, "TimeOut": 3, "IntervalTime": 10, "HealthNum": 2, "UnHealthNum": 3}}),
        json!({"LoadBalancerId": lb, "Protocol": "UDP", "Ports": [53], "ListenerNames": ["dns"]}),
        json!({"LoadBalancerId": lb, "Protocol": "TCP", "Ports": [8000], "EndPort": 8010, "ListenerNames": ["range"]}),
        json!({"LoadBalancerId": lb, "Protocol": "HTTP", "Ports": [80], "ListenerNames": ["web-http"]}),
        json!({"LoadBalancerId": lb, "Protocol": "HTTPS", "Ports": [443], "ListenerNames": ["web-mtls"],
               "Certificate": {"SSLMode": "MUTUAL", "CertId": "cert-web-rsa", "CertCaId": "ca-clb-only-3"}}),
        json!({"LoadBalancerId": lb, "Protocol": "TCP_SSL", "Ports": [9443], "ListenerNames": ["tls-tcp"],
               "Certificate": {"SSLMode": "UNIDIRECTIONAL", "CertId": "cert-clb-only-1"}}),
    ];
    for params in &calls {
        let mut params = params.clone();
        params["Region"] = json!(region);
        c.call("CreateListener", &params, false)
            .await
            .expect("CLB CreateListener");
    }
    calls.len()
}

fn alb_params(lb: &str, protocol: &str, port: u32, group: &str) -> Value {
    json!({"LoadBalancerId": lb, "ListenerProtocol": protocol, "ListenerPort": port,
           "DefaultActions": [{"Type": "ForwardGroup",
                               "ForwardGroupConfig": {"ServerGroupTuples": [{"ServerGroupId": group}]}}]})
}

/// ALB: HTTP with timeouts, gzip and forwarded headers to the mapped
/// group; HTTPS with HTTP/2, a security policy and mutual TLS, to a group
/// the profile does not map; QUIC.
async fn make_alb(p: &ProfileConfig) -> usize {
    let c = alibaba(p, &listener_alibaba_alb::config::ALB);
    let lb = p.instance.as_str();
    let mut http = alb_params(lb, "HTTP", 80, common::SERVER_GROUP);
    http["ListenerDescription"] = json!("web-http");
    http["IdleTimeout"] = json!(30);
    http["RequestTimeout"] = json!(90);
    http["GzipEnabled"] = json!(true);
    http["XForwardedForConfig"] = json!({"XForwardedForEnabled": true, "XForwardedForProtoEnabled": true,
                                          "XForwardedForSLBIdEnabled": true});
    let mut https = alb_params(lb, "HTTPS", 443, UNMAPPED_GROUP);
    https["ListenerDescription"] = json!("web-mtls");
    https["Certificates"] = json!([{"CertificateId": "cert-web-rsa"}]);
    https["CaEnabled"] = json!(true);
    https["CaCertificates"] = json!([{"CertificateId": "ca-partners"}]);
    https["Http2Enabled"] = json!(true);
    https["SecurityPolicyId"] = json!("tls_cipher_policy_1_2");
    let mut quic = alb_params(lb, "QUIC", 443, common::SERVER_GROUP);
    quic["Certificates"] = json!([{"CertificateId": "9876543"}]);
    let calls = [http, https, quic];
    for params in &calls {
        c.call("CreateListener", params, CallOptions::write(c.new_client_token()))
            .await
            .expect("ALB CreateListener");
    }
    calls.len()
}

/// GA: TCP over two port ranges with client affinity and proxy protocol;
/// UDP; HTTP with forwarded headers; HTTPS with HTTP/2 and a certificate
/// the profile does not map.
async fn make_ga(p: &ProfileConfig) -> usize {
    let c = alibaba(p, &listener_alibaba_ga::config::GA);
    let base = json!({"RegionId": "cn-hangzhou", "AcceleratorId": p.instance});
    let calls = [
        json!({"Name": "app-tcp", "Protocol": "tcp", "ClientAffinity": "SOURCE_IP", "ProxyProtocol": true,
               "IdleTimeout": 120, "PortRanges": [{"FromPort": 7000, "ToPort": 7010}, {"FromPort": 7443, "ToPort": 7443}]}),
        json!({"Name": "dns", "Protocol": "udp", "PortRanges": [{"FromPort": 53, "ToPort": 53}]}),
        json!({"Name": "web-http", "Protocol": "http", "RequestTimeout": 30,
               "PortRanges": [{"FromPort": 80, "ToPort": 80}],
               "XForwardedForConfig": {"XForwardedForGaIdEnabled": true, "XRealIpEnabled": true}}),
        json!({"Name": "web-https", "Protocol": "https", "HttpVersion": "http2",
               "PortRanges": [{"FromPort": 443, "ToPort": 443}],
               "Certificates": [{"Id": "cert-ga-only-2-cn-hangzhou"}]}),
    ];
    for extra in &calls {
        let mut params = base.clone();
        if let (Some(b), Some(e)) = (params.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        c.call("CreateListener", &params, CallOptions::write(c.new_client_token()))
            .await
            .expect("GA CreateListener");
    }
    calls.len()
}

/// Make the API's listeners raw and wait (bounded) until they all run.
async fn populate(api: &str, profile: &ProfileConfig) {
    let made = match api {
        "tencent-gaap" => make_gaap(profile).await,
        "tencent-clb" => make_clb(profile).await,
        "alibaba-alb" => make_alb(profile).await,
        "alibaba-ga" => make_ga(profile).await,
        other => panic!("no listeners for {other}"),
    };
    let provider = provider_from_profile(profile).expect("provider");
    for _ in 0..1000 {
        let live = provider.list().await.expect("list");
        if live.len() >= made && live.iter().all(|l| l.status == ListenerStatus::Running) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("{api}: the raw listeners never all ran");
}

/// The exported file as it would be loaded from disk, with the test's
/// credentials put back (the file has none) to talk to the emulator.
fn load_back(exported: &Exported, format: Format, url: &str) -> ConfigFile {
    let text = export::render(exported, format).expect("renders");
    for secret in [
        listener_emulator::DEFAULT_TENCENT_SECRET_KEY,
        listener_emulator::DEFAULT_ALIBABA_ACCESS_KEY_SECRET,
        "inline_credentials",
    ] {
        assert!(!text.contains(secret), "the export holds a secret:\n{text}");
    }
    let mut file = ConfigFile::from_text(&text, format, Path::new("exported")).expect("the export loads");
    for p in file.profiles.values_mut() {
        common::aim(p, url);
    }
    file
}

async fn export_round_trip_plans_nothing(api: &str) {
    let emu = start().await;
    let profile = common::profile(api, &emu.url());
    populate(api, &profile).await;
    let before = emu.listener_counts();
    emu.reset_request_counts();

    let exported = export::export_instance("source", &profile).await.expect("export");
    assert_reads_only(api, &emu);
    assert!(!exported.file.listeners.is_empty());
    // Every alias the file uses is in its profile; IDs the profile maps
    // keep the profile's alias.
    let p = &exported.file.profiles["source"];
    for spec in &exported.file.listeners {
        for a in spec.server_certificates() {
            assert!(p.aliases.certificate(a).is_some(), "{api}: {a} unmapped");
        }
        if let Some(ca) = spec.client_auth() {
            for a in &ca.ca_certificates {
                assert!(p.aliases.certificate(a).is_some(), "{api}: {a} unmapped");
            }
        }
        if let Some(t) = spec.forwarding.as_ref().and_then(|f| f.default_target.as_ref()) {
            assert!(p.aliases.target(t).is_some(), "{api}: target {t} unmapped");
        }
    }
    let certs: Vec<&str> = exported
        .file
        .listeners
        .iter()
        .flat_map(|s| s.server_certificates().iter().map(String::as_str))
        .collect();
    if api != "alibaba-ga" {
        assert!(
            certs.contains(&"web-cert"),
            "{api}: the profile's alias is reused: {certs:?}"
        );
    }
    assert!(
        exported
            .generated_aliases
            .iter()
            .any(|g| g.kind == AliasKind::Certificate || g.kind == AliasKind::Target),
        "{api}: an unmapped ID got an alias"
    );

    settings_survive(api, &exported);

    for format in [Format::Toml, Format::Yaml] {
        let file = load_back(&exported, format, &emu.url());
        let profile = &file.profiles["source"];
        let rejected = cloud_listeners::check_set(profile, &file.listeners).expect("known API");
        assert!(rejected.is_empty(), "{api}: its own export is refused: {rejected:?}");
        let provider = provider_from_profile(profile).expect("provider");
        let live = provider.list().await.expect("list");
        for prune in [false, true] {
            let plan = Plan::build_for(provider.as_ref(), &file.listeners, &file.listeners, &live, prune);
            let changes: Vec<_> = plan
                .actions
                .iter()
                .filter(|a| a.is_change())
                .map(|a| (a.verb(), a.spec().name.clone(), format!("{a:?}")))
                .collect();
            assert!(changes.is_empty(), "{api} {format:?} prune={prune}: {changes:#?}");
            assert_eq!(plan.summary().unchanged, live.len(), "{api}: every listener matched");
        }
    }
    assert_eq!(emu.listener_counts(), before, "{api}: export changed nothing");
    assert_reads_only(api, &emu);
    emu.shutdown().await;
}

/// Export marks nothing and changes nothing: every call the emulator saw
/// since the counters were reset is a read.
fn assert_reads_only(api: &str, emu: &EmulatorHandle) {
    let counts = emu.request_counts();
    let actions: Vec<&String> = counts.values().flat_map(|m| m.keys()).collect();
    assert!(!actions.is_empty(), "{api}: export read the instance");
    for action in actions {
        assert!(
            ["Describe", "List", "Get"].iter().any(|p| action.starts_with(p)),
            "{api}: export sent {action}"
        );
    }
}

/// The value at JSON `pointer` of the exported listener called `name`.
fn at(exported: &Exported, name: &str, pointer: &str) -> Value {
    let spec = exported
        .file
        .listeners
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no listener {name} in the export"));
    serde_json::to_value(spec)
        .expect("spec as JSON")
        .pointer(pointer)
        .cloned()
        .unwrap_or(Value::Null)
}

/// An empty plan proves only that what was read back matches itself; the
/// settings the raw calls made must also be in the file, or a setting the
/// read side drops would pass unnoticed.
fn settings_survive(api: &str, e: &Exported) {
    let expected: Vec<(&str, &str, Value)> = match api {
        "tencent-gaap" => vec![
            ("app-tcp", "/scheduler", json!("weighted_round_robin")),
            ("app-tcp", "/client_ip/mode", json!("proxy_protocol")),
            ("app-tcp", "/health_check/interval_secs", json!(10)),
            ("app-tcp", "/extensions/tencent-gaap/failover_switch", json!(true)),
            ("dns", "/extensions/tencent-gaap/real_server_type", json!("DOMAIN")),
            ("dns", "/health_check/custom/expect", json!("pong")),
            ("web-mtls", "/forwarding/backend_protocol", json!("https")),
            ("web-mtls", "/tls/certificates", json!(["web-cert"])),
            (
                "web-mtls",
                "/tls/client_auth/ca_certificates",
                json!(["partners-ca", "ca-gaap-only-7"]),
            ),
        ],
        "tencent-clb" => vec![
            ("db", "/session_persistence/timeout_secs", json!(300)),
            ("db", "/scheduler", json!("weighted_round_robin")),
            ("db", "/health_check/unhealthy_threshold", json!(3)),
            ("range", "/ports", json!({"from": 8000, "to": 8010})),
            ("web-mtls", "/tls/certificates", json!(["web-cert"])),
            ("web-mtls", "/tls/client_auth/ca_certificates", json!(["ca-clb-only-3"])),
            ("tls-tcp", "/tls/certificates", json!(["cert-clb-only-1"])),
            ("dns", "/protocol", json!("udp")),
        ],
        "alibaba-alb" => vec![
            ("http-80", "/description", json!("web-http")),
            ("http-80", "/timeouts", json!({"idle_secs": 30, "request_secs": 90})),
            ("http-80", "/extensions/alibaba-alb/gzip", json!(true)),
            ("http-80", "/extensions/alibaba-alb/slb_id_header", json!(true)),
            ("http-80", "/forwarding/default_target", json!("web-servers")),
            (
                "https-443",
                "/forwarding/default_target",
                json!("target-sgp-extra000001"),
            ),
            ("https-443", "/tls/http2", json!(true)),
            ("https-443", "/tls/policy", json!("tls_cipher_policy_1_2")),
            ("https-443", "/tls/client_auth/ca_certificates", json!(["partners-ca"])),
            ("quic-443", "/tls/certificates", json!(["cert-9876543"])),
        ],
        "alibaba-ga" => vec![
            ("app-tcp", "/ports", json!([{"from": 7000, "to": 7010}, 7443])),
            ("app-tcp", "/session_persistence/by", json!("source_ip")),
            ("app-tcp", "/client_ip/mode", json!("proxy_protocol")),
            ("app-tcp", "/timeouts/idle_secs", json!(120)),
            ("web-http", "/timeouts/request_secs", json!(30)),
            ("web-http", "/client_ip/headers/x_real_ip", json!(true)),
            ("web-http", "/extensions/alibaba-ga/ga_id_header", json!(true)),
            ("web-https", "/tls/http2", json!(true)),
            ("web-https", "/tls/certificates", json!(["cert-ga-only-2-cn-hangzhou"])),
        ],
        other => panic!("no expectations for {other}"),
    };
    for (name, pointer, want) in expected {
        assert_eq!(at(e, name, pointer), want, "{api}: {name}{pointer}");
    }
}

#[tokio::test]
async fn export_round_trip_plans_nothing_on_tencent_gaap() {
    export_round_trip_plans_nothing("tencent-gaap").await;
}

#[tokio::test]
async fn export_round_trip_plans_nothing_on_tencent_clb() {
    export_round_trip_plans_nothing("tencent-clb").await;
}

#[tokio::test]
async fn export_round_trip_plans_nothing_on_alibaba_alb() {
    export_round_trip_plans_nothing("alibaba-alb").await;
}

#[tokio::test]
async fn export_round_trip_plans_nothing_on_alibaba_ga() {
    export_round_trip_plans_nothing("alibaba-ga").await;
}

/// The exported file of `from` with the test profile of `to` added as
/// profile `target` (it maps the common aliases, not the generated ones).
fn pair_file(exported: &Exported, to: &str, url: &str) -> ConfigFile {
    let mut file = exported.file.clone();
    file.profiles.insert("target".into(), common::profile(to, url));
    file
}

fn finding<'a>(r: &'a MigrationReport, listener: &str, field: &str) -> &'a migrate::Finding {
    let l = r
        .listener(listener)
        .unwrap_or_else(|| panic!("{} -> {}: no listener {listener}", r.from.api, r.to.api));
    l.refused
        .iter()
        .chain(&l.lost)
        .find(|f| cloud_listeners::capabilities::path_within(&f.field, field))
        .unwrap_or_else(|| {
            panic!(
                "{} -> {}: {listener} has no finding at {field}: {l:#?}",
                r.from.api, r.to.api
            )
        })
}

fn verdict(r: &MigrationReport, listener: &str) -> Verdict {
    r.listener(listener).expect("listed").verdict
}

#[tokio::test]
async fn migration_report_from_every_api_to_every_other() {
    let emu = start().await;
    let url = emu.url();
    let mut exports = Vec::new();
    for api in APIS {
        let profile = common::profile(api, &url);
        populate(api, &profile).await;
        exports.push((api, export::export_instance("source", &profile).await.expect("export")));
    }
    let before = emu.listener_counts();
    let mut pairs = 0;
    for (from, exported) in &exports {
        for to in APIS.iter().filter(|t| *t != from) {
            let file = pair_file(exported, to, &url);
            let r = migrate::report(&file, "source", "target").expect("report");
            pairs += 1;
            assert_eq!((r.from.api.as_str(), r.to.api.as_str()), (*from, *to));
            assert_eq!(r.listeners.len(), exported.file.listeners.len());
            let c = r.counts;
            assert_eq!(
                c.identical + c.lossy + c.needs_changes + c.cannot_move,
                r.listeners.len()
            );
            // Every refusal names a field and the target's rule.
            for l in &r.listeners {
                assert_eq!(l.verdict.moves(), l.refused.is_empty(), "{from}->{to} {}", l.name);
                for f in &l.refused {
                    assert!(!f.field.is_empty() && !f.rule.is_empty(), "{f:?}");
                }
            }
            // Aliases the target must add are the ones the export made up
            // (the common ones the target profile maps already).
            for a in &r.profile_additions {
                assert!(
                    exported.generated_aliases.iter().any(|g| g.alias == a.alias),
                    "{from}->{to}: {} is not a generated alias",
                    a.alias
                );
                assert!(a.source_id.is_some() && !a.used_at.is_empty(), "{a:?}");
            }
            check_pair(from, to, &r);
        }
    }
    assert_eq!(pairs, 12);
    assert_eq!(emu.listener_counts(), before, "the report sends nothing");
    emu.shutdown().await;
}

/// The findings each pair must show: concrete vendor differences, each
/// found by the target adapter's own rules.
fn check_pair(from: &str, to: &str, r: &MigrationReport) {
    let rule = |listener: &str, field: &str| finding(r, listener, field).rule.clone();
    let adds = |needle: &str| r.profile_additions.iter().any(|a| a.alias.contains(needle));
    match (from, to) {
        ("tencent-gaap", "tencent-clb") => {
            assert_eq!(verdict(r, "web-http"), Verdict::Identical);
            // CLB schedules by WRR or least connections only.
            assert_eq!(verdict(r, "dns"), Verdict::NeedsChanges);
            assert_eq!(rule("dns", "scheduler"), "InvalidParameterValue");
            // GAAP's origin type has no CLB counterpart.
            assert_eq!(rule("dns", "extensions.tencent-gaap.real_server_type"), "vendor_only");
            // CLB takes one client CA.
            finding(r, "web-mtls", "tls.client_auth.ca_certificates");
            assert!(adds("ca-gaap-only"));
        }
        ("tencent-gaap", "alibaba-alb") => {
            // ALB has no UDP (nor TCP).
            assert_eq!(verdict(r, "dns"), Verdict::CannotMove);
            assert_eq!(rule("dns", "protocol"), "layer7_only");
            assert_eq!(verdict(r, "app-tcp"), Verdict::CannotMove);
            assert_eq!(
                rule("web-mtls", "tls.client_auth.ca_certificates"),
                "one_ca_certificate"
            );
            assert_eq!(rule("web-http", "forwarding.default_target"), "MissingParameter");
            // ALB listeners keep no name.
            assert_eq!(rule("web-http", "name"), "not_read_back");
        }
        ("tencent-gaap", "alibaba-ga") => {
            // GA cannot do mutual TLS.
            assert_eq!(verdict(r, "web-mtls"), Verdict::NeedsChanges);
            assert_eq!(rule("web-mtls", "tls.client_auth"), "mutual_tls_unsupported");
            assert_eq!(verdict(r, "web-http"), Verdict::Identical);
            assert_eq!(rule("app-tcp", "scheduler"), "scheduler_unsupported");
        }
        ("tencent-clb", "tencent-gaap") => {
            assert_eq!(verdict(r, "tls-tcp"), Verdict::CannotMove);
            assert_eq!(rule("tls-tcp", "protocol"), "protocol_unsupported");
            assert_eq!(verdict(r, "range"), Verdict::CannotMove);
            finding(r, "range", "ports");
            assert_eq!(rule("db", "session_persistence"), "session_persistence_unsupported");
            assert!(adds("clb-only"));
        }
        ("tencent-clb", "alibaba-alb") => {
            assert_eq!(verdict(r, "dns"), Verdict::CannotMove);
            assert_eq!(verdict(r, "db"), Verdict::CannotMove);
            assert_eq!(rule("range", "ports"), "single_port");
        }
        ("tencent-clb", "alibaba-ga") => {
            // CLB's session expiry has no GA equivalent.
            assert_eq!(verdict(r, "db"), Verdict::NeedsChanges);
            assert_eq!(
                rule("db", "session_persistence.timeout_secs"),
                "affinity_timeout_unsupported"
            );
            assert_eq!(verdict(r, "tls-tcp"), Verdict::CannotMove);
            assert_eq!(rule("web-mtls", "tls.client_auth"), "mutual_tls_unsupported");
            // GA takes port ranges.
            assert!(r.listener("range").unwrap().refused.iter().all(|f| f.field != "ports"));
            assert_eq!(rule("dns", "timeouts.idle_secs"), "idle_timeout_range");
        }
        ("alibaba-alb", "tencent-gaap") => {
            assert_eq!(verdict(r, "quic-443"), Verdict::CannotMove);
            finding(r, "quic-443", "protocol");
            assert_eq!(rule("http-80", "description"), "description_unsupported");
            // GAAP binds origins outside the listener: the target is not
            // sent there, so it is lost, and no target alias is asked for.
            assert_eq!(rule("http-80", "forwarding.default_target"), "not_read_back");
            assert!(
                r.profile_additions.iter().all(|a| a.map != "targets"),
                "{:?}",
                r.profile_additions
            );
        }
        ("alibaba-alb", "tencent-clb") => {
            assert_eq!(rule("http-80", "extensions.alibaba-alb.gzip"), "vendor_only");
            assert_eq!(rule("https-443", "timeouts.request_secs"), "unsupported_field");
            assert!(adds("cert-9876543"));
        }
        ("alibaba-alb", "alibaba-ga") => {
            assert_eq!(rule("https-443", "tls.client_auth"), "mutual_tls_unsupported");
            assert_eq!(verdict(r, "quic-443"), Verdict::CannotMove);
            assert_eq!(
                rule("http-80", "client_ip.headers.x_forwarded_for_mode"),
                "header_unsupported"
            );
        }
        ("alibaba-ga", "tencent-gaap") => {
            // GAAP listeners hold single ports.
            assert_eq!(verdict(r, "app-tcp"), Verdict::CannotMove);
            finding(r, "app-tcp", "ports");
            assert!(adds("ga-only"));
        }
        ("alibaba-ga", "tencent-clb") => {
            assert_eq!(rule("app-tcp", "client_ip.mode"), "InvalidParameterValue");
            // `standard` routing is what GA reports for every listener
            // nobody asked otherwise: dropping it loses nothing.
            assert_eq!(verdict(r, "dns"), Verdict::Identical);
            assert!(adds("ga-only"));
        }
        ("alibaba-ga", "alibaba-alb") => {
            assert_eq!(verdict(r, "dns"), Verdict::CannotMove);
            assert_eq!(verdict(r, "app-tcp"), Verdict::CannotMove);
            assert_eq!(rule("web-http", "client_ip.headers.x_real_ip"), "x_real_ip");
        }
        other => panic!("no expectations for {other:?}"),
    }
}

/// CLB lets listeners go without a name or share one; a file cannot. The
/// export names them (`<protocol>-<ports>`, or the name with its ports),
/// says so, and the only thing a plan then wants is that rename.
#[tokio::test]
async fn blank_and_shared_names_are_renamed_and_the_plan_wants_only_the_rename() {
    let emu = start().await;
    let profile = common::profile("tencent-clb", &emu.url());
    let c = tencent(&profile, "clb", "2018-03-17", "tencent-clb");
    for params in [
        json!({"Protocol": "TCP", "Ports": [7001]}),
        json!({"Protocol": "TCP", "Ports": [7002], "ListenerNames": ["app"]}),
        json!({"Protocol": "UDP", "Ports": [7003], "ListenerNames": ["app"]}),
    ] {
        let mut params = params;
        params["LoadBalancerId"] = json!(profile.instance);
        params["Region"] = json!("ap-guangzhou");
        c.call("CreateListener", &params, false)
            .await
            .expect("CLB CreateListener");
    }
    let provider = provider_from_profile(&profile).expect("provider");
    for _ in 0..1000 {
        if provider.list().await.expect("list").len() == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let exported = export::export_instance("source", &profile).await.expect("export");
    let mut renamed: Vec<(String, String)> = exported
        .renamed
        .iter()
        .map(|r| (r.from.clone(), r.to.clone()))
        .collect();
    renamed.sort();
    assert_eq!(
        renamed,
        [
            ("".to_string(), "tcp-7001".to_string()),
            ("app".to_string(), "app-7003".to_string())
        ]
    );
    let file = load_back(&exported, Format::Toml, &emu.url());
    let live = provider.list().await.expect("list");
    let plan = Plan::build_for(provider.as_ref(), &file.listeners, &file.listeners, &live, true);
    let mut updates: Vec<(String, Vec<String>)> = plan
        .actions
        .iter()
        .filter(|a| a.is_change())
        .map(|a| match a {
            cloud_listeners::plan::Action::Update { desired, changes, .. } => {
                (desired.name.clone(), changes.iter().map(|c| c.path.clone()).collect())
            }
            other => panic!("only renames are planned, not {other:?}"),
        })
        .collect();
    updates.sort();
    assert_eq!(
        updates,
        [
            ("app-7003".to_string(), vec!["name".to_string()]),
            ("tcp-7001".to_string(), vec!["name".to_string()])
        ]
    );
    emu.shutdown().await;
}
