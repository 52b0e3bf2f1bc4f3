//! Source-address access control on GA, end to end over HTTP on 127.0.0.1
//! against the emulated GA: one owned ACL per IP version, created,
//! changed, switched between white and black list, removed and deleted with
//! the listener; ACLs the adapter does not own are refused and left alone;
//! a lost CreateAcl answer makes one ACL.

mod common;

use alibaba_api::CallOptions;
use common::*;
use listener_alibaba_ga::capabilities;
use listener_core::{plan_change, Access, AccessMode, Error, Listener, ListenerSpec, Ports, Protocol, Provider};
use listener_emulator::{Fault, FaultRule};
use serde_json::{json, Value};

fn tcp(port: u32, access: Option<Access>) -> ListenerSpec {
    let mut s = ListenerSpec::new(format!("tcp-{port}"), Protocol::Tcp, Ports::Single(port));
    s.access = access;
    s
}

fn list(mode: AccessMode, cidrs: &[&str]) -> Option<Access> {
    Some(Access {
        mode,
        cidrs: cidrs.iter().map(|c| c.to_string()).collect(),
    })
}

fn assert_no_drift(listener: &Listener, spec: &ListenerSpec) {
    let plan = plan_change(&capabilities(), &listener.spec, spec);
    assert!(plan.is_empty(), "read-back differs: {:?}", plan.changes);
}

async fn raw(setup: &Setup, action: &str, mut params: Value) -> Result<Value, Error> {
    params["RegionId"] = json!("cn-hangzhou");
    let client = setup.raw();
    let opts = if matches!(action, "GetAcl" | "ListAcls" | "DescribeListener") {
        CallOptions::read()
    } else {
        CallOptions::write(client.new_client_token())
    };
    client.call(action, &params, opts).await.map(|r| r.body)
}

async fn acls_named(setup: &Setup, name: &str) -> Vec<Value> {
    raw(setup, "ListAcls", json!({ "AclName": name }))
        .await
        .expect("ListAcls")["Acls"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn settle() {
    tokio::time::sleep(std::time::Duration::from_millis(80)).await;
}

#[tokio::test]
async fn a_mixed_allow_list_uses_one_acl_per_ip_version_and_is_switched_and_removed() {
    let setup = Setup::start(builder()).await;
    let p = &setup.provider;
    let spec = tcp(80, list(AccessMode::Allow, &["10.0.0.0/8", "2001:db8::/32"]));
    let made = p.create(&spec).await.expect("created").remove(0);
    assert_eq!(made.spec.access, spec.access);
    assert_no_drift(&made, &spec);
    let v4 = acls_named(&setup, &format!("listenerctl-{}-ipv4", made.id)).await;
    let v6 = acls_named(&setup, &format!("listenerctl-{}-ipv6", made.id)).await;
    assert_eq!((v4.len(), v6.len()), (1, 1));
    assert_eq!(v4[0]["Tags"][0]["Value"], made.id.as_str());
    let d = raw(&setup, "DescribeListener", json!({ "ListenerId": made.id.as_str() }))
        .await
        .unwrap();
    assert_eq!(d["AclType"], "White");
    assert_eq!(d["RelatedAcls"].as_array().map(Vec::len), Some(2));

    // Deny, IPv4 only: the IPv6 ACL goes, the IPv4 one is reused.
    let desired = tcp(80, list(AccessMode::Deny, &["10.0.0.0/8", "192.0.2.0/24"]));
    let denied = p.update(&made, &desired).await.expect("switched");
    assert_no_drift(&denied, &desired);
    assert!(acls_named(&setup, &format!("listenerctl-{}-ipv6", made.id))
        .await
        .is_empty());
    let v4_again = acls_named(&setup, &format!("listenerctl-{}-ipv4", made.id)).await;
    assert_eq!(v4_again[0]["AclId"], v4[0]["AclId"]);

    let open = p.update(&denied, &tcp(80, None)).await.expect("removed");
    assert_eq!(open.spec.access, None);
    assert!(acls_named(&setup, &format!("listenerctl-{}-ipv4", made.id))
        .await
        .is_empty());
    let listed = p.list().await.expect("list");
    assert_eq!(listed[0].spec.access, None);
    setup.shutdown().await;
}

#[tokio::test]
async fn deleting_the_listener_deletes_its_acls() {
    let setup = Setup::start(builder()).await;
    let p = &setup.provider;
    let made = p
        .create(&tcp(81, list(AccessMode::Deny, &["203.0.113.0/24"])))
        .await
        .expect("created")
        .remove(0);
    let name = format!("listenerctl-{}-ipv4", made.id);
    assert_eq!(acls_named(&setup, &name).await.len(), 1);
    p.delete(&made.id).await.expect("deleted");
    assert!(acls_named(&setup, &name).await.is_empty());
    assert_eq!(setup.count(), 0);
    setup.shutdown().await;
}

#[tokio::test]
async fn a_listener_using_an_acl_that_is_not_ours_is_refused_and_the_acl_left_alone() {
    let setup = Setup::start(builder()).await;
    let p = &setup.provider;
    let made = p.create(&tcp(82, None)).await.expect("created").remove(0);
    let foreign = raw(
        &setup,
        "CreateAcl",
        json!({ "AclName": "team-acl", "AddressIPVersion": "IPv4", "AclEntries": [{ "Entry": "198.51.100.0/24" }] }),
    )
    .await
    .expect("CreateAcl")["AclId"]
        .as_str()
        .unwrap()
        .to_string();
    settle().await;
    raw(
        &setup,
        "AssociateAclsWithListener",
        json!({ "ListenerId": made.id.as_str(), "AclIds": [foreign], "AclType": "Black" }),
    )
    .await
    .expect("associated");
    settle().await;
    let current = p.get(&made.id).await.expect("get");
    assert_eq!(current.spec.access, list(AccessMode::Deny, &["198.51.100.0/24"]));
    match p
        .update(&current, &tcp(82, list(AccessMode::Allow, &["10.0.0.0/8"])))
        .await
    {
        Err(Error::NotOwned { listener_id, .. }) => assert_eq!(listener_id, foreign),
        other => panic!("expected NotOwned, got {other:?}"),
    }
    let acl = raw(&setup, "GetAcl", json!({ "AclId": foreign }))
        .await
        .expect("still there");
    assert_eq!(acl["AclEntries"][0]["Entry"], "198.51.100.0/24");
    assert_eq!(acl["RelatedListeners"][0]["ListenerId"], made.id.as_str());
    p.delete(&made.id).await.expect("deleted");
    assert_eq!(acls_named(&setup, "team-acl").await.len(), 1);
    setup.shutdown().await;
}

#[tokio::test]
async fn a_lost_create_acl_answer_makes_one_acl() {
    let setup =
        Setup::start(builder().fault_rule(FaultRule::new(Fault::LostAnswer).service("ga").action("CreateAcl"))).await;
    let p = &setup.provider;
    let spec = tcp(83, list(AccessMode::Allow, &["10.0.0.0/8"]));
    let made = p
        .create(&spec)
        .await
        .expect("created despite the lost answer")
        .remove(0);
    assert_no_drift(&made, &spec);
    assert_eq!(setup.emu.fault_counts().lost_answer, 1);
    assert_eq!(
        acls_named(&setup, &format!("listenerctl-{}-ipv4", made.id)).await.len(),
        1
    );
    setup.shutdown().await;
}
