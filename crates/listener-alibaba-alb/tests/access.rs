//! Source-address access control and access-log settings, end to end over
//! HTTP on 127.0.0.1 against the emulated ALB: the adapter's own ACL is
//! created, filled, associated, changed, switched between white and black
//! list, removed and deleted with the listener; ACLs it does not own are
//! never touched; a retried create makes one ACL; log settings are set on
//! create and update and read back without drift.

mod common;

use alibaba_api::CallOptions;
use common::*;
use listener_alibaba_alb::{capabilities, AlbProvider};
use listener_core::{plan_change, Access, AccessMode, Error, Listener, ListenerSpec, Provider};
use listener_emulator::services::alb::Alb;
use listener_emulator::{Fault, FaultRule};
use serde_json::{json, Value};

fn assert_no_drift(listener: &Listener, spec: &ListenerSpec) {
    let plan = plan_change(&capabilities(), &listener.spec, spec);
    assert!(plan.is_empty(), "read-back differs: {:?}", plan.changes);
}

fn access(mode: AccessMode, cidrs: &[&str]) -> Option<Access> {
    Some(Access {
        mode,
        cidrs: cidrs.iter().map(|c| c.to_string()).collect(),
    })
}

async fn raw(env: &Env, action: &str, params: Value) -> Result<Value, Error> {
    let opts = if action.starts_with("List") || action.starts_with("Get") {
        CallOptions::read()
    } else {
        CallOptions::write(env.raw().new_client_token())
    };
    env.raw().call(action, &params, opts).await.map(|r| r.body)
}

/// ACLs whose name is `name`.
async fn acls_named(env: &Env, name: &str) -> Vec<Value> {
    let body = raw(env, "ListAcls", json!({ "AclNames": [name] }))
        .await
        .expect("ListAcls");
    body["Acls"].as_array().cloned().unwrap_or_default()
}

async fn entries(env: &Env, acl: &str) -> Vec<String> {
    let body = raw(env, "ListAclEntries", json!({ "AclId": acl, "MaxResults": 100 }))
        .await
        .expect("ListAclEntries");
    let mut out: Vec<String> = body["AclEntries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["Entry"].as_str().map(str::to_string))
        .collect();
    out.sort();
    out
}

async fn attr(env: &Env, id: &str) -> Value {
    raw(env, "GetListenerAttribute", json!({ "ListenerId": id }))
        .await
        .expect("GetListenerAttribute")
}

async fn one(p: &AlbProvider, spec: &ListenerSpec) -> Listener {
    p.create(spec).await.expect("created").remove(0)
}

/// Wait (on the emulator's clock) until a raw asynchronous change settles.
async fn settle() {
    tokio::time::sleep(std::time::Duration::from_millis(80)).await;
}

#[tokio::test]
async fn an_allow_list_is_created_changed_turned_into_a_deny_list_and_removed_without_drift() {
    let env = Env::start().await;
    let p = env.provider();
    let mut spec = http(80);
    spec.access = access(AccessMode::Allow, &["10.0.0.0/8", "2001:db8::/32"]);

    let made = one(&p, &spec).await;
    assert_eq!(
        made.spec.access,
        access(AccessMode::Allow, &["10.0.0.0/8", "2001:db8::/32"])
    );
    assert_no_drift(&made, &spec);
    let name = format!("listenerctl-{}", made.id);
    let acls = acls_named(&env, &name).await;
    assert_eq!(acls.len(), 1, "{acls:?}");
    let acl_id = acls[0]["AclId"].as_str().unwrap().to_string();
    assert_eq!(acls[0]["Tags"][0]["Key"], "listenerctl-listener");
    assert_eq!(acls[0]["Tags"][0]["Value"], made.id.as_str());
    let a = attr(&env, made.id.as_str()).await;
    assert_eq!(a["AclConfig"]["AclType"], "White");
    assert_eq!(a["AclConfig"]["AclRelations"][0]["AclId"], acl_id.as_str());

    // 25 entries: two AddEntriesToAcl calls (20 per call), one removal.
    let mut desired = spec.clone();
    let many: Vec<String> = (0..25).map(|i| format!("192.168.{i}.0/24")).collect();
    desired.access = Some(Access {
        mode: AccessMode::Allow,
        cidrs: many.iter().cloned().chain(["10.0.0.0/8".to_string()]).collect(),
    });
    let updated = p.update(&made, &desired).await.expect("entries changed");
    assert_no_drift(&updated, &desired);
    assert_eq!(entries(&env, &acl_id).await.len(), 26);
    assert_eq!(acls_named(&env, &name).await.len(), 1, "the same ACL is reused");

    desired.access.as_mut().unwrap().mode = AccessMode::Deny;
    let denied = p.update(&updated, &desired).await.expect("switched to a deny list");
    assert_no_drift(&denied, &desired);
    assert_eq!(attr(&env, made.id.as_str()).await["AclConfig"]["AclType"], "Black");
    // Nothing left: a second update sends nothing and changes nothing.
    let again = p.update(&denied, &desired).await.expect("no-op");
    assert_eq!(again.spec, denied.spec);

    desired.access = None;
    let plan = plan_change(&capabilities(), &denied.spec, &desired);
    assert!(plan.changes.iter().any(|c| c.path == "access"), "{:?}", plan.changes);
    let open = p.update(&denied, &desired).await.expect("access removed");
    assert_eq!(open.spec.access, None);
    assert_no_drift(&open, &desired);
    assert!(acls_named(&env, &name).await.is_empty(), "our ACL is deleted");
    let listed = p.list().await.expect("list");
    assert_eq!(listed[0].spec.access, None);
    env.stop().await;
}

#[tokio::test]
async fn deleting_the_listener_deletes_its_acl() {
    let env = Env::start().await;
    let p = env.provider();
    let mut spec = http(81);
    spec.access = access(AccessMode::Deny, &["203.0.113.0/24"]);
    let made = one(&p, &spec).await;
    let name = format!("listenerctl-{}", made.id);
    assert_eq!(acls_named(&env, &name).await.len(), 1);
    p.delete(&made.id).await.expect("deleted");
    assert!(acls_named(&env, &name).await.is_empty());
    assert_eq!(env.count(), 0);
    env.stop().await;
}

#[tokio::test]
async fn a_listener_using_an_acl_that_is_not_ours_is_refused_and_the_acl_left_alone() {
    let env = Env::start().await;
    let p = env.provider();
    let made = one(&p, &http(82)).await;
    let foreign = raw(&env, "CreateAcl", json!({ "AclName": "team-acl" }))
        .await
        .expect("CreateAcl");
    let foreign = foreign["AclId"].as_str().unwrap().to_string();
    settle().await;
    raw(
        &env,
        "AddEntriesToAcl",
        json!({ "AclId": foreign, "AclEntries": [{ "Entry": "198.51.100.0/24" }] }),
    )
    .await
    .expect("AddEntriesToAcl");
    settle().await;
    raw(
        &env,
        "AssociateAclsWithListener",
        json!({ "ListenerId": made.id.as_str(), "AclIds": [foreign], "AclType": "Black" }),
    )
    .await
    .expect("associated");
    settle().await;

    // Read back faithfully: the foreign list filters the listener.
    let current = p.get(&made.id).await.expect("get");
    assert_eq!(current.spec.access, access(AccessMode::Deny, &["198.51.100.0/24"]));
    let mut desired = http(82);
    desired.access = access(AccessMode::Allow, &["10.0.0.0/8"]);
    match p.update(&current, &desired).await {
        Err(Error::NotOwned { listener_id, .. }) => assert_eq!(listener_id, foreign),
        other => panic!("expected NotOwned, got {other:?}"),
    }
    desired.access = None;
    assert!(matches!(
        p.update(&current, &desired).await,
        Err(Error::NotOwned { .. })
    ));
    assert_eq!(entries(&env, &foreign).await, vec!["198.51.100.0/24".to_string()]);
    let a = attr(&env, made.id.as_str()).await;
    assert_eq!(a["AclConfig"]["AclRelations"][0]["AclId"], foreign.as_str());
    assert!(acls_named(&env, &format!("listenerctl-{}", made.id)).await.is_empty());
    // Deleting the listener leaves the foreign ACL.
    p.delete(&made.id).await.expect("deleted");
    assert_eq!(acls_named(&env, "team-acl").await.len(), 1);
    env.stop().await;
}

#[tokio::test]
async fn an_acl_with_our_name_marked_for_another_listener_is_never_touched() {
    let env = Env::start().await;
    let p = env.provider();
    let made = one(&p, &http(83)).await;
    let name = format!("listenerctl-{}", made.id);
    let squatter = raw(
        &env,
        "CreateAcl",
        json!({ "AclName": name, "Tag": [{ "Key": "listenerctl-listener", "Value": "lsn-someoneelse000000" }] }),
    )
    .await
    .expect("CreateAcl");
    let squatter = squatter["AclId"].as_str().unwrap().to_string();
    settle().await;
    let mut desired = http(83);
    desired.access = access(AccessMode::Allow, &["10.0.0.0/8"]);
    match p.update(&made, &desired).await {
        Err(Error::NotOwned { listener_id, .. }) => assert_eq!(listener_id, squatter),
        other => panic!("expected NotOwned, got {other:?}"),
    }
    assert!(entries(&env, &squatter).await.is_empty());
    // Deleting the listener leaves it too.
    p.delete(&made.id).await.expect("deleted");
    let left = acls_named(&env, &name).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["AclId"], squatter.as_str());
    env.stop().await;
}

#[tokio::test]
async fn a_lost_create_acl_answer_is_repeated_with_the_same_token_and_makes_one_acl() {
    let faults = vec![FaultRule::new(Fault::LostAnswer).service("alb").action("CreateAcl")];
    let env = Env::start_with(faults, Alb::new()).await;
    let p = env.provider();
    let mut spec = http(84);
    spec.access = access(AccessMode::Allow, &["10.0.0.0/8"]);
    let made = one(&p, &spec).await;
    assert_no_drift(&made, &spec);
    let tokens = env.alb.client_tokens("CreateAcl");
    assert_eq!(tokens.len(), 2, "{tokens:?}");
    assert_eq!(tokens[0], tokens[1]);
    assert_eq!(acls_named(&env, &format!("listenerctl-{}", made.id)).await.len(), 1);
    env.stop().await;
}

#[tokio::test]
async fn access_log_settings_are_set_on_create_and_update_and_read_back() {
    let env = Env::start().await;
    let p = env.provider();
    raw(
        &env,
        "EnableLoadBalancerAccessLog",
        json!({ "LoadBalancerId": LB, "LogProject": "proj", "LogStore": "store" }),
    )
    .await
    .expect("access log on");
    let spec = ext(
        http(85),
        json!({"access_log": {"record_customized_headers": true, "tracing": {"enabled": true, "sample": 100}}}),
    );
    let made = one(&p, &spec).await;
    assert_no_drift(&made, &spec);
    let a = attr(&env, made.id.as_str()).await;
    assert_eq!(a["LogConfig"]["AccessLogTracingConfig"]["TracingType"], "Zipkin");
    assert_eq!(a["LogConfig"]["AccessLogRecordCustomizedHeadersEnabled"], true);

    let desired = ext(
        http(85),
        json!({"access_log": {"record_customized_headers": false, "tracing": {"enabled": true, "sample": 5000}}}),
    );
    assert!(!p.plan_change(&made.spec, &desired).is_empty());
    let updated = p.update(&made, &desired).await.expect("log settings changed");
    assert_no_drift(&updated, &desired);
    assert_eq!(
        attr(&env, made.id.as_str()).await["LogConfig"]["AccessLogTracingConfig"]["TracingSample"],
        5000
    );
    env.stop().await;
}

#[tokio::test]
async fn log_settings_without_the_instance_access_log_get_the_vendor_answer() {
    let env = Env::start().await;
    let p = env.provider();
    let made = one(&p, &http(86)).await;
    let desired = ext(http(86), json!({"access_log": {"tracing": {"enabled": true}}}));
    let err = p.update(&made, &desired).await.expect_err("instance access log is off");
    assert_eq!(err.vendor_code(), Some("OperationDenied.AccessLogDisabled"), "{err}");
    env.stop().await;
}

#[tokio::test]
async fn an_out_of_range_tracing_sample_is_refused_before_any_call() {
    let env = Env::start().await;
    let p = env.provider();
    let spec = ext(
        http(87),
        json!({"access_log": {"tracing": {"enabled": true, "sample": 0}}}),
    );
    match p.create(&spec).await {
        Err(Error::Unsupported { rejections, .. }) => {
            assert!(rejections
                .iter()
                .any(|r| r.field == "extensions.alibaba-alb.access_log.tracing.sample"
                    && r.rule == "tracing_sample_range"));
        }
        other => panic!("expected Unsupported, got {other:?}"),
    }
    assert_eq!(env.count(), 0);
    assert!(env.alb.client_tokens("CreateListener").is_empty());
    env.stop().await;
}
