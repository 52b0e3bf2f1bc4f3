//! Failures injected by the emulator: failed tasks, throttling, answers
//! lost after the vendor acted, connections dropped before it did, busy
//! load balancers. Each test shows what a caller sees and what is left on
//! the load balancer.

mod common;

use std::sync::Arc;

use common::{api_client, builder, count, profile, provider, start, LB};
use listener_core::{Adapter, Error, ListenerSpec, PortEntry, Ports, Protocol, Provider};
use listener_emulator::{Fault, FaultRule};
use listener_tencent_clb::ClbProvider;
use serde_json::json;

fn two_ports() -> ListenerSpec {
    ListenerSpec::new(
        "pair",
        Protocol::Tcp,
        Ports::List(vec![PortEntry::Port(7570), PortEntry::Port(7569)]),
    )
}

#[tokio::test]
async fn a_failed_create_task_is_a_typed_error_and_leaves_no_listener() {
    let emu = builder()
        .fault_rule(FaultRule::new(Fault::TaskFailure).service("clb"))
        .start()
        .await
        .expect("emulator");
    let clb = provider(&emu);
    match clb.create(&two_ports()).await {
        Err(Error::TaskFailed { vendor, task, .. }) => {
            assert_eq!(vendor, "tencent-clb");
            assert!(!task.is_empty());
        }
        other => panic!("expected TaskFailed, got {other:?}"),
    }
    assert_eq!(count(&emu), 0, "the failed task was rolled back");
    assert!(clb.list().await.expect("list").is_empty());
    // The same create succeeds afterwards: nothing half-made blocks it.
    assert_eq!(clb.create(&two_ports()).await.expect("created").len(), 2);
    emu.shutdown().await;
}

#[tokio::test]
async fn throttling_and_a_lost_answer_during_a_two_port_create_make_exactly_two() {
    let emu = builder()
        .fault_rule(FaultRule::new(Fault::Throttle).service("clb").action("CreateListener"))
        .fault_rule(
            FaultRule::new(Fault::LostAnswer)
                .service("clb")
                .action("CreateListener"),
        )
        .fault_rule(
            FaultRule::new(Fault::Throttle)
                .service("clb")
                .action("DescribeListeners"),
        )
        .start()
        .await
        .expect("emulator");
    let clb = provider(&emu);
    let made = clb.create(&two_ports()).await.expect("reconciled");
    assert_eq!(made.len(), 2);
    let ports: Vec<_> = made.iter().map(|l| l.spec.ports.clone()).collect();
    assert_eq!(ports, vec![Ports::Single(7570), Ports::Single(7569)]);
    assert_eq!(count(&emu), 2, "exactly two listeners on the load balancer");
    assert_eq!(clb.list().await.expect("list").len(), 2);
    let faults = emu.fault_counts();
    assert_eq!(faults.throttle, 2);
    assert_eq!(faults.lost_answer, 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_lost_answer_whose_task_then_fails_is_created_again_once() {
    let emu = builder()
        .fault_rule(
            FaultRule::new(Fault::LostAnswer)
                .service("clb")
                .action("CreateListener"),
        )
        .fault_rule(FaultRule::new(Fault::TaskFailure).service("clb"))
        .start()
        .await
        .expect("emulator");
    let clb = provider(&emu);
    let made = clb.create(&two_ports()).await.expect("reconciled");
    assert_eq!(made.len(), 2);
    assert_eq!(count(&emu), 2);
    emu.shutdown().await;
}

#[tokio::test]
async fn after_a_dropped_request_only_the_missing_ports_are_created() {
    let emu = start().await;
    let clb = provider(&emu);
    let first = ListenerSpec::new("pair", Protocol::Tcp, Ports::Single(7570));
    let existing = clb.create(&first).await.expect("first port");
    emu.faults()
        .push_rule(FaultRule::new(Fault::Drop).service("clb").action("CreateListener"));
    // A create of both ports would conflict on 7570; after the drop the
    // adapter finds 7570 and creates 7569 alone.
    let made = clb.create(&two_ports()).await.expect("reconciled");
    assert_eq!(made.len(), 2);
    assert_eq!(made[0].id, existing[0].id, "the existing listener is adopted");
    assert_eq!(count(&emu), 2);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_first_attempt_port_conflict_is_not_adopted() {
    let emu = start().await;
    let clb = provider(&emu);
    clb.create(&ListenerSpec::new("a", Protocol::Tcp, Ports::Single(80)))
        .await
        .expect("created");
    match clb
        .create(&ListenerSpec::new("b", Protocol::Tcp, Ports::Single(80)))
        .await
    {
        Err(Error::Conflict { code, .. }) => assert_eq!(code, "InvalidParameter.PortCheckFailed"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(count(&emu), 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_lost_answer_on_a_port_held_by_another_protocol_is_a_conflict() {
    let emu = start().await;
    let clb = provider(&emu);
    clb.create(&ListenerSpec::new("http", Protocol::Http, Ports::Single(8080)))
        .await
        .expect("created");
    emu.faults()
        .push_rule(FaultRule::new(Fault::Drop).service("clb").action("CreateListener"));
    match clb
        .create(&ListenerSpec::new("tcp", Protocol::Tcp, Ports::Single(8080)))
        .await
    {
        Err(Error::Conflict { .. }) => {}
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(count(&emu), 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_busy_load_balancer_is_waited_out() {
    let emu = start().await;
    let p = profile(&emu);
    // Someone else's create holds the load balancer for its task.
    let raw = api_client(&p, tencent_api::RetryPolicy::none());
    raw.call(
        "CreateListener",
        &json!({"LoadBalancerId": LB, "Protocol": "UDP", "Ports": [53]}),
        false,
    )
    .await
    .expect("foreign create");
    let clb = provider(&emu);
    let made = clb
        .create(&ListenerSpec::new("web", Protocol::Tcp, Ports::Single(80)))
        .await
        .expect("created after the busy answers");
    assert_eq!(made.len(), 1);
    assert!(clb.client().api().stats().retries >= 1, "the busy answer was retried");
    assert_eq!(count(&emu), 2);
    emu.shutdown().await;
}

#[tokio::test]
async fn writes_of_two_providers_to_one_load_balancer_queue_instead_of_colliding() {
    let emu = start().await;
    let a = Arc::new(provider(&emu));
    let p = profile(&emu);
    let b = Arc::new(ClbProvider::with_client(&p, api_client(&p, tencent_api::RetryPolicy::none())).expect("provider"));
    let sa = ListenerSpec::new("a", Protocol::Tcp, Ports::Single(81));
    let sb = ListenerSpec::new("b", Protocol::Tcp, Ports::Single(82));
    let (ra, rb) = tokio::join!(a.create(&sa), b.create(&sb));
    // `b` has no retries at all: it can only succeed if it never met a
    // busy answer, i.e. the writes were serialised.
    ra.expect("a created");
    rb.expect("b created");
    assert_eq!(count(&emu), 2);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_failed_delete_task_is_typed_and_keeps_the_listener() {
    let emu = start().await;
    let clb = provider(&emu);
    let made = clb
        .create(&ListenerSpec::new("a", Protocol::Udp, Ports::Single(53)))
        .await
        .expect("created");
    emu.faults()
        .push_rule(FaultRule::new(Fault::TaskFailure).service("clb"));
    assert!(matches!(clb.delete(&made[0].id).await, Err(Error::TaskFailed { .. })));
    assert_eq!(count(&emu), 1);
    // A lost answer on the retry of the delete is repeated safely.
    emu.faults().push_rule(
        FaultRule::new(Fault::LostAnswer)
            .service("clb")
            .action("DeleteListener"),
    );
    clb.delete(&made[0].id).await.expect("deleted");
    assert_eq!(count(&emu), 0);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_failed_modify_task_is_typed_and_keeps_the_old_settings() {
    let emu = start().await;
    let clb = provider(&emu);
    let spec = ListenerSpec::new("old", Protocol::Tcp, Ports::Single(80));
    let made = clb.create(&spec).await.expect("created");
    emu.faults()
        .push_rule(FaultRule::new(Fault::TaskFailure).service("clb"));
    let mut desired = spec.clone();
    desired.name = "new".into();
    assert!(matches!(
        clb.update(&made[0], &desired).await,
        Err(Error::TaskFailed { .. })
    ));
    assert_eq!(clb.get(&made[0].id).await.expect("get").spec.name, "old");
    emu.shutdown().await;
}

#[tokio::test]
async fn a_task_that_outlasts_the_wait_is_a_timeout() {
    let emu = builder()
        .timing(listener_emulator::Timing {
            create: std::time::Duration::from_secs(30),
            ..common::timing()
        })
        .start()
        .await
        .expect("emulator");
    let mut p = profile(&emu);
    p.wait = Some(listener_core::WaitConfig {
        create_secs: Some(1),
        poll_interval_ms: 50,
        ..Default::default()
    });
    let clb = ClbProvider::with_client(&p, api_client(&p, common::quick_retries())).expect("provider");
    match clb
        .create(&ListenerSpec::new("slow", Protocol::Tcp, Ports::Single(80)))
        .await
    {
        Err(e @ Error::Timeout { .. }) => {
            assert_eq!(e.kind(), "timeout");
            let Error::Timeout {
                vendor,
                op,
                after,
                setting,
                ..
            } = e
            else {
                unreachable!()
            };
            assert_eq!(vendor, "tencent-clb");
            assert_eq!(op, listener_core::WaitOp::Create);
            assert_eq!(after, std::time::Duration::from_secs(1));
            assert_eq!(setting, "wait.create_secs");
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    emu.shutdown().await;
}
