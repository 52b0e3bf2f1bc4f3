//! Two teams share one instance, each with its own file and its own
//! profile owner, and a third listener is made by hand (a raw vendor
//! call, no mark). On every API against the in-process emulator:
//! `--prune` (`Prune::Managed`) deletes only the listeners that carry the
//! applying profile's owner mark, so neither team deletes the other's nor
//! the hand-made one; `--prune-unmanaged` (`Prune::All`) deletes them
//! too; and after each apply a second plan is empty (the mark never shows
//! as a difference).

mod common;

use std::sync::Arc;

use alibaba_api::{AlibabaClient, CallOptions};
use cloud_listeners::plan::{self, Action, ApplyOptions, Plan, Prune};
use cloud_listeners::{
    provider_from_profile, Forwarding, Listener, ListenerSpec, ListenerStatus, Ports, ProfileConfig, Protocol, Provider,
};
use serde_json::json;
use tencent_api::TencentClient;

const HAND_PORT: u32 = 8080;

fn http(name: &str, port: u32) -> ListenerSpec {
    let mut s = ListenerSpec::new(name, Protocol::Http, Ports::Single(port));
    s.forwarding = Some(Forwarding {
        backend_protocol: None,
        default_target: Some("web-servers".into()),
    });
    s
}

fn owned(api: &str, url: &str, owner: &str) -> ProfileConfig {
    let mut p = common::profile(api, url);
    p.owner = Some(owner.to_string());
    p
}

/// An HTTP listener on `HAND_PORT` made the way a person or another tool
/// makes it: one raw, signed vendor call with no mark.
async fn make_by_hand(api: &str, p: &ProfileConfig) {
    let instance = p.instance.as_str();
    match api {
        "tencent-gaap" => {
            let c = TencentClient::from_profile(p, "gaap", "2018-05-29", "tencent-gaap").expect("client");
            let params = json!({"ProxyId": instance, "ListenerName": "by-hand", "Port": HAND_PORT});
            c.call("CreateHTTPListener", &params, false).await.expect("GAAP create");
        }
        "tencent-clb" => {
            let c = TencentClient::from_profile(p, "clb", "2018-03-17", "tencent-clb").expect("client");
            let params = json!({"LoadBalancerId": instance, "Protocol": "HTTP", "Ports": [HAND_PORT],
                                "ListenerNames": ["by-hand"]});
            c.call("CreateListener", &params, false).await.expect("CLB create");
        }
        "alibaba-alb" => {
            let c = AlibabaClient::from_profile(p, &listener_alibaba_alb::config::ALB).expect("client");
            let params = json!({"LoadBalancerId": instance, "ListenerProtocol": "HTTP", "ListenerPort": HAND_PORT,
                "DefaultActions": [{"Type": "ForwardGroup",
                    "ForwardGroupConfig": {"ServerGroupTuples": [{"ServerGroupId": common::SERVER_GROUP}]}}]});
            c.call("CreateListener", &params, CallOptions::write(c.new_client_token()))
                .await
                .expect("ALB create");
        }
        "alibaba-ga" => {
            let c = AlibabaClient::from_profile(p, &listener_alibaba_ga::config::GA).expect("client");
            let params = json!({"RegionId": "cn-hangzhou", "AcceleratorId": instance, "Name": "by-hand",
                "Protocol": "http", "PortRanges": [{"FromPort": HAND_PORT, "ToPort": HAND_PORT}]});
            c.call("CreateListener", &params, CallOptions::write(c.new_client_token()))
                .await
                .expect("GA create");
        }
        other => panic!("no raw create for {other}"),
    }
}

/// Every listener of the instance once all are running (bounded polls).
async fn settled(api: &str, p: &Arc<dyn Provider>, count: usize) -> Vec<Listener> {
    for _ in 0..1000 {
        let live = p.list().await.expect("list");
        if live.len() == count && live.iter().all(|l| l.status == ListenerStatus::Running) {
            return live;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("{api}: the instance never settled at {count} running listeners");
}

async fn plan_and_apply(p: &Arc<dyn Provider>, file: &[ListenerSpec], prune: Prune) -> Plan {
    let planned = plan::plan(p.as_ref(), file, prune).await.expect("plan");
    let report = plan::apply(Arc::clone(p), &planned, &ApplyOptions::default(), &|_| {})
        .await
        .expect("apply runs");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    planned
}

fn deleted_ports(planned: &Plan) -> Vec<u32> {
    let mut ports: Vec<u32> = planned
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Delete { current } => current.spec.ports.as_single(),
            _ => None,
        })
        .collect();
    ports.sort();
    ports
}

fn ports_of(live: &[Listener]) -> Vec<u32> {
    let mut ports: Vec<u32> = live.iter().filter_map(|l| l.spec.ports.as_single()).collect();
    ports.sort();
    ports
}

async fn assert_second_plan_empty(api: &str, who: &str, p: &Arc<dyn Provider>, file: &[ListenerSpec]) {
    let again = plan::plan(p.as_ref(), file, Prune::Managed).await.expect("plan");
    assert!(!again.has_changes(), "{api}: {who}'s second plan: {:#?}", again.actions);
}

async fn teams_share_an_instance(api: &'static str) {
    let emu = common::start().await;
    let a = provider_from_profile(&owned(api, &emu.url(), "team-a")).expect("provider A");
    let b = provider_from_profile(&owned(api, &emu.url(), "team-b")).expect("provider B");
    let file_a = vec![http("a-web", 80), http("a-api", 81)];
    let file_b = vec![http("b-web", 90)];

    // Each team applies its file with --prune: nothing of the other's goes.
    let planned = plan_and_apply(&a, &file_a, Prune::Managed).await;
    assert!(deleted_ports(&planned).is_empty(), "{api}");
    let planned = plan_and_apply(&b, &file_b, Prune::Managed).await;
    assert!(deleted_ports(&planned).is_empty(), "{api}: B's prune deleted A's");
    make_by_hand(api, &owned(api, &emu.url(), "team-a")).await;
    let live = settled(api, &a, 4).await;

    // Read back through A: its own are managed, B's carry B's owner, the
    // hand-made one none; names come back without the mark.
    for l in &live {
        let port = l.spec.ports.as_single().expect("single port");
        let (owner, managed) = match port {
            80 | 81 => (Some("team-a"), true),
            90 => (Some("team-b"), false),
            _ => (None, false),
        };
        assert_eq!((l.owner.as_deref(), l.managed), (owner, managed), "{api}: port {port}");
        let caps = cloud_listeners::all_capabilities()
            .into_iter()
            .find(|c| c.api == api)
            .expect("compiled API");
        if !caps.is_write_only("name") {
            let want = match port {
                80 => "a-web",
                81 => "a-api",
                90 => "b-web",
                _ => "by-hand",
            };
            assert_eq!(l.spec.name, want, "{api}: the mark is stripped");
        }
    }
    assert_second_plan_empty(api, "A", &a, &file_a).await;
    assert_second_plan_empty(api, "B", &b, &file_b).await;

    // A drops a listener from its file: --prune deletes exactly that one.
    let file_a = vec![http("a-web", 80)];
    let planned = plan_and_apply(&a, &file_a, Prune::Managed).await;
    assert_eq!(deleted_ports(&planned), vec![81], "{api}: A prunes only its own");
    let unmanaged: Vec<u32> = planned
        .actions
        .iter()
        .filter_map(|x| match x {
            Action::Unmanaged { current } => current.spec.ports.as_single(),
            _ => None,
        })
        .collect();
    assert_eq!(unmanaged.len(), 2, "{api}: B's and the hand-made listener are kept");
    assert_eq!(ports_of(&settled(api, &a, 3).await), vec![80, 90, HAND_PORT], "{api}");

    // B again with --prune: A's listener and the hand-made one stay.
    let planned = plan_and_apply(&b, &file_b, Prune::Managed).await;
    assert!(
        deleted_ports(&planned).is_empty(),
        "{api}: B's prune deleted {:?}",
        deleted_ports(&planned)
    );

    // --prune-unmanaged: B deletes everything its file does not name.
    let planned = plan_and_apply(&b, &file_b, Prune::All).await;
    assert_eq!(deleted_ports(&planned), vec![80, HAND_PORT], "{api}");
    assert_eq!(ports_of(&settled(api, &b, 1).await), vec![90], "{api}");
    assert_second_plan_empty(api, "B", &b, &file_b).await;
    emu.shutdown().await;
}

#[tokio::test]
async fn teams_sharing_a_tencent_gaap_connection_prune_only_their_own() {
    teams_share_an_instance("tencent-gaap").await;
}

#[tokio::test]
async fn teams_sharing_a_tencent_clb_load_balancer_prune_only_their_own() {
    teams_share_an_instance("tencent-clb").await;
}

#[tokio::test]
async fn teams_sharing_an_alibaba_alb_instance_prune_only_their_own() {
    teams_share_an_instance("alibaba-alb").await;
}

#[tokio::test]
async fn teams_sharing_an_alibaba_ga_accelerator_prune_only_their_own() {
    teams_share_an_instance("alibaba-ga").await;
}

/// An owner outside the alphabet every mark takes is refused when the
/// provider is built, naming the profile field.
#[test]
fn an_owner_the_marks_cannot_carry_is_refused_by_field() {
    for api in ["tencent-gaap", "tencent-clb", "alibaba-alb", "alibaba-ga"] {
        let mut p = common::profile(api, "http://127.0.0.1:9");
        p.owner = Some("Team A".into());
        let Err(err) = provider_from_profile(&p) else {
            panic!("{api}: an owner with a space and capitals was accepted");
        };
        assert!(
            matches!(&err, cloud_listeners::Error::Config { field, .. } if field == "owner"),
            "{api}: {err:?}"
        );
        assert!(
            cloud_listeners::check_profile(&p).is_err(),
            "{api}: the offline check refuses it too"
        );
    }
}
