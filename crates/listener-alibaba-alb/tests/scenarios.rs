//! End-to-end scenarios against the emulated ALB over HTTP on 127.0.0.1:
//! create (HTTP, HTTPS with two certificates and mutual TLS, QUIC, HTTPS
//! with QUIC upgrade), get, list, update and delete, each followed to
//! completion, and read-backs that plan no change.

mod common;

use common::*;
use listener_alibaba_alb::{capabilities, AlbProvider};
use listener_core::{
    plan_change, ClientIp, ClientIpMode, Error, ForwardedHeaders, Listener, ListenerSpec, ListenerStatus, Ports,
    Protocol, Provider, Timeouts,
};
use serde_json::json;

fn assert_no_drift(listener: &Listener, spec: &ListenerSpec) {
    let plan = plan_change(&capabilities(), &listener.spec, spec);
    assert!(plan.is_empty(), "read-back differs: {:?}", plan.changes);
}

async fn one(provider: &AlbProvider, spec: &ListenerSpec) -> Listener {
    let mut made = provider.create(spec).await.expect("created");
    assert_eq!(made.len(), 1);
    made.remove(0)
}

#[tokio::test]
async fn http_minimal_is_created_read_listed_updated_and_deleted() {
    let env = Env::start().await;
    let p = env.provider();
    let spec = http(80);

    let made = one(&p, &spec).await;
    assert!(made.id.as_str().starts_with("lsn-"));
    assert_eq!(made.instance, LB);
    assert_eq!(made.status, ListenerStatus::Running);
    assert_eq!(made.spec.protocol, Protocol::Http);
    assert_eq!(made.spec.ports, Ports::Single(80));
    assert_eq!(
        made.spec.forwarding.as_ref().unwrap().default_target.as_deref(),
        Some("app")
    );
    // ALB adds X-Forwarded-For by default, and says so.
    assert_eq!(made.spec.client_ip.as_ref().unwrap().mode, ClientIpMode::Headers);
    assert_no_drift(&made, &spec);

    let got = p.get(&made.id).await.expect("get");
    assert_eq!(got, made);
    let all = p.list().await.expect("list");
    assert_eq!(all, vec![made.clone()]);

    let mut desired = spec.clone();
    desired.description = Some("web-v2".into());
    desired.timeouts = Some(Timeouts {
        idle_secs: Some(30),
        request_secs: Some(120),
    });
    desired.forwarding.as_mut().unwrap().default_target = Some("api".into());
    desired.client_ip = Some(ClientIp {
        mode: ClientIpMode::Headers,
        headers: Some(ForwardedHeaders {
            x_forwarded_proto: Some(true),
            x_forwarded_host: Some(true),
            ..ForwardedHeaders::default()
        }),
    });
    let desired = ext(desired, json!({"gzip": false, "slb_id_header": true}));
    assert!(!p.plan_change(&made.spec, &desired).is_empty());
    let updated = p.update(&made, &desired).await.expect("update");
    assert_eq!(updated.id, made.id);
    assert_eq!(updated.status, ListenerStatus::Running);
    assert_eq!(updated.spec.description.as_deref(), Some("web-v2"));
    assert_eq!(
        updated.spec.forwarding.as_ref().unwrap().default_target.as_deref(),
        Some("api")
    );
    assert_no_drift(&updated, &desired);
    // Nothing left to change: a second update sends nothing.
    let again = p.update(&updated, &desired).await.expect("no-op update");
    assert_eq!(again.spec, updated.spec);

    p.delete(&made.id).await.expect("delete");
    assert_eq!(env.count(), 0);
    assert!(matches!(p.get(&made.id).await, Err(Error::NotFound { .. })));
    // A gone listener cannot be proven to be this instance's: deleting it
    // again is `NotFound` (which `apply` takes as done), and sends no write.
    assert!(matches!(p.delete(&made.id).await, Err(Error::NotFound { .. })));
    env.stop().await;
}

#[tokio::test]
async fn https_with_two_certificates_and_mutual_tls() {
    let env = Env::start().await;
    let p = env.provider();
    let mut spec = tls_spec(Protocol::Https, 443, &["web", "web-ecc"]);
    mutual_tls(&mut spec, &["client-ca"]);
    {
        let tls = spec.tls.as_mut().unwrap();
        tls.http2 = Some(true);
        tls.policy = Some("tls_cipher_policy_1_2".into());
    }
    let spec = ext(
        spec,
        json!({"client_cert_headers": {"subject_dn": {"enabled": true, "alias": "x-client-dn"}}}),
    );

    let made = one(&p, &spec).await;
    let tls = made.spec.tls.as_ref().expect("tls read back");
    assert_eq!(tls.certificates, vec!["web".to_string(), "web-ecc".to_string()]);
    assert_eq!(
        tls.client_auth.as_ref().map(|c| c.ca_certificates.clone()),
        Some(vec!["client-ca".to_string()])
    );
    assert_eq!(tls.policy.as_deref(), Some("tls_cipher_policy_1_2"));
    assert_no_drift(&made, &spec);

    // Swap the additional certificate and the CA; keep the default.
    let mut desired = spec.clone();
    desired.tls.as_mut().unwrap().certificates = vec!["web".into(), "web-old".into()];
    mutual_tls(&mut desired, &["client-ca-2"]);
    let updated = p.update(&made, &desired).await.expect("update");
    let tls = updated.spec.tls.as_ref().unwrap();
    assert_eq!(tls.certificates, vec!["web".to_string(), "web-old".to_string()]);
    assert_eq!(
        tls.client_auth.as_ref().map(|c| c.ca_certificates.clone()),
        Some(vec!["client-ca-2".to_string()])
    );
    assert_no_drift(&updated, &desired);

    // A new default certificate goes through UpdateListenerAttribute.
    let mut desired2 = desired.clone();
    desired2.tls.as_mut().unwrap().certificates = vec!["web-ecc".into(), "web-old".into()];
    let updated2 = p.update(&updated, &desired2).await.expect("update default");
    assert_eq!(
        updated2.spec.tls.as_ref().unwrap().certificates,
        vec!["web-ecc".to_string(), "web-old".to_string()]
    );
    assert_no_drift(&updated2, &desired2);

    p.delete(&made.id).await.expect("delete");
    assert_eq!(env.count(), 0);
    env.stop().await;
}

#[tokio::test]
async fn quic_listener_round_trips() {
    let env = Env::start().await;
    let p = env.provider();
    let mut spec = quic(443);
    spec.client_ip = Some(ClientIp {
        mode: ClientIpMode::Headers,
        headers: Some(ForwardedHeaders {
            x_forwarded_proto: Some(true),
            x_forwarded_port: Some(true),
            ..ForwardedHeaders::default()
        }),
    });
    let made = one(&p, &spec).await;
    assert_eq!(made.spec.protocol, Protocol::Quic);
    assert_eq!(made.spec.tls.as_ref().unwrap().certificates, vec!["web".to_string()]);
    assert_no_drift(&made, &spec);

    // QUIC is UDP: an HTTPS listener can take the same port number.
    let https_made = one(&p, &https(443)).await;
    let listed = p.list().await.expect("list");
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().any(|l| l.id == made.id) && listed.iter().any(|l| l.id == https_made.id));
    env.stop().await;
}

#[tokio::test]
async fn https_with_quic_upgrade_by_port() {
    let env = Env::start().await;
    let p = env.provider();
    let upgrade = ext(https(443), json!({"quic_upgrade": {"port": 443}}));

    // Without the QUIC listener the port cannot be resolved.
    match p.create(&upgrade).await {
        Err(Error::NotFound { what, .. }) => assert!(what.contains("QUIC listener on port 443")),
        other => panic!("expected not found, got {other:?}"),
    }

    // In one batch the QUIC listener is made first, whatever the order.
    let made = p
        .create_batch(&[upgrade.clone(), quic(443)])
        .await
        .expect("batch created");
    assert_eq!(made.len(), 2);
    let quic_l = made.iter().find(|l| l.spec.protocol == Protocol::Quic).unwrap();
    let https_l = made.iter().find(|l| l.spec.protocol == Protocol::Https).unwrap();
    let opts = &https_l.spec.extensions.0["alibaba-alb"]["quic_upgrade"];
    assert_eq!(opts["enabled"], true);
    assert_eq!(opts["port"], 443);
    assert_eq!(opts["listener_id"], quic_l.id.as_str());
    assert_no_drift(https_l, &upgrade);
    // The same upgrade written by ID compares equal too.
    let by_id = ext(https(443), json!({"quic_upgrade": {"listener_id": quic_l.id.as_str()}}));
    assert_no_drift(https_l, &by_id);

    // Switch it off.
    let off = ext(https(443), json!({"quic_upgrade": {"enabled": false}}));
    let updated = p.update(https_l, &off).await.expect("update");
    assert_eq!(
        updated.spec.extensions.0["alibaba-alb"]["quic_upgrade"]["enabled"],
        false
    );
    assert_no_drift(&updated, &off);
    env.stop().await;
}

#[tokio::test]
async fn list_follows_next_token_across_pages() {
    let env = Env::start().await;
    let p = env.provider();
    for port in [80, 81, 82] {
        one(&p, &http(port)).await;
    }
    let raw = p.client().list_listeners_paged(LB, None, 2).await.expect("paged list");
    let ports: Vec<u64> = raw.iter().filter_map(|l| l["ListenerPort"].as_u64()).collect();
    assert_eq!(ports, vec![80, 81, 82]);
    let listed = p.list().await.expect("list");
    let ports: Vec<String> = listed.iter().map(|l| l.spec.ports.to_string()).collect();
    assert_eq!(ports, vec!["80", "81", "82"]);
    env.stop().await;
}

#[tokio::test]
async fn update_refuses_port_and_protocol_changes_before_sending() {
    let env = Env::start().await;
    let p = env.provider();
    let made = one(&p, &http(80)).await;
    let mut moved = http(8080);
    moved.description = Some("moved".into());
    match p.update(&made, &moved).await {
        Err(Error::ImmutableField { field, listener_id, .. }) => {
            assert_eq!(field, "ports");
            assert_eq!(listener_id, made.id.0);
        }
        other => panic!("expected an immutable-field error, got {other:?}"),
    }
    let mut other_protocol = https(80);
    other_protocol.ports = Ports::Single(80);
    assert!(matches!(
        p.update(&made, &other_protocol).await,
        Err(Error::ImmutableField { .. })
    ));
    // Nothing was sent: the listener is as it was.
    assert_eq!(p.get(&made.id).await.expect("get").spec, made.spec);
    env.stop().await;
}

#[tokio::test]
async fn create_refuses_what_check_refuses_without_calling() {
    let env = Env::start().await;
    let p = env.provider();
    let mut spec = http(80);
    spec.protocol = Protocol::Tcp;
    match p.create(&spec).await {
        Err(Error::Unsupported { vendor, rejections }) => {
            assert_eq!(vendor, "alibaba-alb");
            assert!(rejections
                .iter()
                .any(|r| r.field == "protocol" && r.rule == "layer7_only"));
        }
        other => panic!("expected unsupported, got {other:?}"),
    }
    assert_eq!(p.client().api().stats().calls, 0);
    env.stop().await;
}

#[tokio::test]
async fn dry_run_create_checks_with_the_vendor_without_creating() {
    let env = Env::start().await;
    let p = env.provider();
    p.dry_run_create(&http(80)).await.expect("dry run passes");
    assert_eq!(env.count(), 0);
    one(&p, &http(80)).await;
    match p.dry_run_create(&http(80)).await {
        Err(e @ Error::Conflict { .. }) => assert_eq!(code_of(&e), "ResourceAlreadyExist.Listener"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(env.count(), 1);
    env.stop().await;
}

#[tokio::test]
async fn listeners_of_other_instances_are_not_read() {
    let env = Env::start().await;
    let raw = env.raw();
    let mut params = raw_params("HTTP", 80);
    params["LoadBalancerId"] = json!(OTHER_LB);
    params["DefaultActions"][0]["ForwardGroupConfig"]["ServerGroupTuples"][0]["ServerGroupId"] = json!("sgp-other");
    let token = raw.new_client_token();
    let answer = raw
        .call("CreateListener", &params, alibaba_api::CallOptions::write(token))
        .await
        .expect("raw create");
    let id = answer.body["ListenerId"].as_str().unwrap().to_string();
    let p = env.provider();
    match p.get(&id.as_str().into()).await {
        Err(Error::NotOwned { owner, instance, .. }) => {
            assert_eq!(owner.as_deref(), Some(OTHER_LB));
            assert_eq!(instance, LB);
        }
        other => panic!("expected NotOwned, got {other:?}"),
    }
    assert!(p.list().await.expect("list").is_empty());
    env.stop().await;
}

#[tokio::test]
async fn the_secret_never_shows_in_debug_output() {
    let env = Env::start().await;
    let p = env.provider();
    let shown = format!("{p:?} {:?}", env.profile);
    assert!(
        !shown.contains(listener_emulator::DEFAULT_ALIBABA_ACCESS_KEY_SECRET),
        "{shown}"
    );
    env.stop().await;
}

/// UpdateListenerAttribute takes `,` `;` `@` and Chinese characters in a
/// description, CreateListener does not: the in-place change goes through,
/// a create with the same description is refused before any call.
#[tokio::test]
async fn a_description_with_update_only_characters_is_changed_in_place_not_created() {
    let env = Env::start().await;
    let p = env.provider();
    let spec = http(80);
    let made = one(&p, &spec).await;
    let mut desired = spec.clone();
    desired.description = Some("owner@team;web,v2".into());
    assert!(p.check(&desired).is_empty());
    let updated = p.update(&made, &desired).await.expect("in-place description change");
    assert_eq!(updated.spec.description.as_deref(), Some("owner@team;web,v2"));
    assert_no_drift(&updated, &desired);

    let mut fresh = desired.clone();
    fresh.ports = Ports::Single(81);
    match p.create(&fresh).await {
        Err(Error::Unsupported { rejections, .. }) => assert!(rejections
            .iter()
            .any(|r| r.field == "description" && r.rule == "description_charset")),
        other => panic!("{other:?}"),
    }
    assert_eq!(env.count(), 1, "nothing was created");
    env.stop().await;
}

#[tokio::test]
async fn tags_are_created_changed_and_removed_without_drift() {
    let env = Env::start().await;
    let p = env.provider();
    let mut spec = http(80);
    spec.tags.insert("team".into(), "web".into());
    spec.tags.insert("old".into(), "x".into());
    let made = one(&p, &spec).await;
    assert_eq!(made.spec.tags, spec.tags);
    assert_no_drift(&made, &spec);

    let mut desired = spec.clone();
    desired.tags.remove("old");
    desired.tags.insert("team".into(), "api".into());
    desired.tags.insert("cost".into(), "ops".into());
    let changes = p.plan_change(&made.spec, &desired);
    assert!(!changes.is_empty());
    let updated = p.update(&made, &desired).await.expect("tags changed in place");
    assert_eq!(updated.id, made.id);
    assert_eq!(updated.spec.tags, desired.tags);
    assert_no_drift(&updated, &desired);
    assert_eq!(p.get(&made.id).await.expect("get").spec.tags, desired.tags);
    // The vendor's actions are TagResources and UnTagResources, and
    // neither takes a ClientToken (SDK model, Terraform): none is sent.
    assert_eq!(env.alb.client_tokens("TagResources"), vec![String::new()]);
    assert_eq!(env.alb.client_tokens("UnTagResources"), vec![String::new()]);

    // A spec without tags leaves the listener's tags alone.
    let plain = http(80);
    assert_no_drift(&updated, &plain);
    let kept = p.update(&updated, &plain).await.expect("no-op update");
    assert_eq!(kept.spec.tags, desired.tags);

    // A reserved key is refused before any call.
    let mut bad = desired.clone();
    bad.tags.insert("acs:owner".into(), "x".into());
    match p.update(&updated, &bad).await {
        Err(Error::Unsupported { rejections, .. }) => assert!(rejections
            .iter()
            .any(|r| r.field == "tags.acs:owner" && r.rule == "tag_format")),
        other => panic!("{other:?}"),
    }
    env.stop().await;
}

#[tokio::test]
async fn a_listener_created_stopped_with_tags_is_then_retagged_and_started_without_drift() {
    let env = Env::start().await;
    let p = env.provider();
    let mut spec = http(80);
    spec.tags.insert("team".into(), "web".into());
    spec.enabled = Some(false);
    let made = one(&p, &spec).await;
    assert_eq!(made.status, ListenerStatus::Stopped);
    assert_eq!(made.spec.enabled, Some(false));
    assert_no_drift(&made, &spec);

    let mut desired = spec.clone();
    desired.enabled = Some(true);
    desired.tags.insert("team".into(), "api".into());
    assert!(!p.plan_change(&made.spec, &desired).is_empty());
    let updated = p.update(&made, &desired).await.expect("started and retagged in place");
    assert_eq!(updated.id, made.id);
    assert_eq!(updated.status, ListenerStatus::Running);
    assert_eq!(updated.spec.tags, desired.tags);
    assert_no_drift(&updated, &desired);
    assert_no_drift(&p.get(&made.id).await.expect("get"), &desired);

    // Stopping again is an in-place update too.
    let mut stop = desired.clone();
    stop.enabled = Some(false);
    let stopped = p.update(&updated, &stop).await.expect("stopped in place");
    assert_eq!(stopped.status, ListenerStatus::Stopped);
    assert_no_drift(&stopped, &stop);
    env.stop().await;
}
