//! The adapter against a misbehaving GAAP: throttling, answers lost after
//! the server acted, dropped requests, server errors, failed asynchronous
//! work and work that takes too long. GAAP has no client token, so the
//! point of most of these is that a create never makes a second listener.

mod common;

use std::time::Duration;

use common::*;
use listener_core::{Error, ListenerSpec, ListenerStatus, Ports, Protocol, Provider, WaitConfig};
use listener_emulator::{Fault, FaultRule, Timing};
use listener_tencent_gaap::API;

fn rule(fault: Fault, action: &str) -> FaultRule {
    FaultRule::new(fault).service(API).action(action)
}

#[tokio::test]
async fn throttling_and_a_lost_answer_leave_exactly_one_listener() {
    let emulator = builder()
        .fault_rule(rule(Fault::Throttle, "CreateHTTPListener"))
        .fault_rule(rule(Fault::LostAnswer, "CreateHTTPListener"))
        .fault_rule(rule(Fault::Throttle, "DescribeHTTPListeners"))
        .start()
        .await
        .expect("emulator");
    let gaap = provider(&emulator);
    let spec = ListenerSpec::new("web", Protocol::Http, Ports::Single(80));
    let made = gaap
        .create(&spec)
        .await
        .expect("create survives throttling and a lost answer");
    assert_eq!(made.len(), 1);
    assert_eq!(made[0].status, ListenerStatus::Running);
    assert_eq!(made[0].spec.ports, Ports::Single(80));
    let faults = emulator.fault_counts();
    assert_eq!((faults.throttle, faults.lost_answer), (2, 1));
    assert_eq!(count(&emulator, LINK), 1, "exactly one listener");
    assert_eq!(gaap.list().await.expect("list").len(), 1);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_lost_answer_to_a_batch_create_adopts_every_port() {
    let emulator = builder()
        .fault_rule(rule(Fault::Throttle, "CreateTCPListeners").times(2))
        .fault_rule(rule(Fault::LostAnswer, "CreateTCPListeners"))
        .start()
        .await
        .expect("emulator");
    let gaap = provider(&emulator);
    let spec = ListenerSpec::new("pair", Protocol::Tcp, ports(&[9000, 9001]));
    let made = gaap.create(&spec).await.expect("create");
    let got: Vec<_> = made.iter().filter_map(|l| l.spec.ports.as_single()).collect();
    assert_eq!(got, vec![9000, 9001]);
    assert_eq!(emulator.fault_counts().lost_answer, 1);
    assert_eq!(count(&emulator, LINK), 2, "one listener per port, no duplicates");
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_dropped_create_is_sent_again_once_reading_back_finds_nothing() {
    let emulator = builder()
        .fault_rule(rule(Fault::Drop, "CreateUDPListeners"))
        .start()
        .await
        .expect("emulator");
    let gaap = provider(&emulator);
    let made = gaap
        .create(&ListenerSpec::new("dns", Protocol::Udp, Ports::Single(53)))
        .await
        .expect("create");
    assert_eq!(made.len(), 1);
    assert_eq!(emulator.fault_counts().drop, 1);
    assert_eq!(count(&emulator, LINK), 1);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_lost_answer_on_a_port_held_by_another_listener_is_a_conflict() {
    let emulator = start().await;
    let gaap = provider(&emulator);
    gaap.create(&ListenerSpec::new("other", Protocol::Http, Ports::Single(80)))
        .await
        .expect("http on 80");
    emulator
        .faults()
        .push_rule(rule(Fault::LostAnswer, "CreateTCPListeners"));
    match gaap
        .create(&ListenerSpec::new("mine", Protocol::Tcp, Ports::Single(80)))
        .await
    {
        Err(Error::Conflict { code, .. }) => assert_eq!(code, "InvalidParameterValue.DuplicatedListenerPort"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(count(&emulator, LINK), 1);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_listener_of_another_name_on_the_port_is_not_adopted() {
    let emulator = start().await;
    let gaap = provider(&emulator);
    gaap.create(&ListenerSpec::new("theirs", Protocol::Tcp, Ports::Single(80)))
        .await
        .expect("tcp on 80");
    emulator
        .faults()
        .push_rule(rule(Fault::LostAnswer, "CreateTCPListeners"));
    match gaap
        .create(&ListenerSpec::new("mine", Protocol::Tcp, Ports::Single(80)))
        .await
    {
        Err(Error::Conflict { .. }) => {}
        other => panic!("expected a conflict, got {other:?}"),
    }
    emulator.shutdown().await;
}

#[tokio::test]
async fn server_errors_on_reads_are_retried() {
    let emulator = builder()
        .fault_rule(rule(Fault::ServerError, "DescribeHTTPSListeners").times(2))
        .start()
        .await
        .expect("emulator");
    let gaap = provider(&emulator);
    let made = gaap.create(&https("web", 443)).await.expect("create");
    assert_eq!(made[0].status, ListenerStatus::Running);
    assert_eq!(emulator.fault_counts().server_error, 2);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_failed_create_task_is_reported_and_leaves_nothing() {
    let emulator = builder()
        .fault_rule(FaultRule::new(Fault::TaskFailure).service(API))
        .start()
        .await
        .expect("emulator");
    let gaap = provider(&emulator);
    match gaap
        .create(&ListenerSpec::new("web", Protocol::Http, Ports::Single(80)))
        .await
    {
        Err(Error::TaskFailed { .. }) => {}
        other => panic!("expected a failed task, got {other:?}"),
    }
    assert_eq!(count(&emulator, LINK), 0);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_failed_change_is_reported_and_rolled_back() {
    let emulator = start().await;
    let gaap = provider(&emulator);
    let spec = ListenerSpec::new("before", Protocol::Tcp, Ports::Single(80));
    let current = gaap.create(&spec).await.expect("create").remove(0);
    emulator
        .faults()
        .push_rule(FaultRule::new(Fault::TaskFailure).service(API));
    let mut desired = spec.clone();
    desired.name = "after".into();
    match gaap.update(&current, &desired).await {
        Err(Error::TaskFailed { .. }) => {}
        other => panic!("expected a failed task, got {other:?}"),
    }
    assert_eq!(gaap.get(&current.id).await.expect("get").spec.name, "before");
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_failed_delete_task_is_reported_and_the_listener_stays() {
    let emulator = start().await;
    let gaap = provider(&emulator);
    let current = gaap
        .create(&ListenerSpec::new("keep", Protocol::Udp, Ports::Single(53)))
        .await
        .expect("create")
        .remove(0);
    emulator
        .faults()
        .push_rule(FaultRule::new(Fault::TaskFailure).service(API));
    match gaap.delete(&current.id).await {
        Err(Error::TaskFailed { .. }) => {}
        other => panic!("expected a failed task, got {other:?}"),
    }
    assert_eq!(count(&emulator, LINK), 1);
    gaap.delete(&current.id).await.expect("second delete succeeds");
    assert_eq!(count(&emulator, LINK), 0);
    emulator.shutdown().await;
}

/// A provider whose wait deadline is ten minutes: a wait that runs to the
/// deadline shows as the test's own bound (one minute) running out, with
/// no timing assertion on the normal path.
fn patient(emulator: &listener_emulator::EmulatorHandle) -> listener_tencent_gaap::GaapProvider {
    let mut p = profile(emulator);
    p.wait = Some(WaitConfig::uniform(600, 15));
    provider_on(&p)
}

/// The next task fails, and the first status poll (`describe`) arrives
/// only once that task is over, so the wait never sees the work at all.
fn fail_before_the_first_poll(emulator: &listener_emulator::EmulatorHandle, describe: &str) {
    let faults = emulator.faults();
    faults.push_rule(FaultRule::new(Fault::TaskFailure).service(API));
    faults.push_rule(rule(Fault::Slow(Duration::from_millis(300)), describe));
}

async fn bounded<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .unwrap_or_else(|_| panic!("{what} waited out its deadline"))
}

/// Regression (found by the workspace's fault soak): a create whose task
/// failed before the first poll leaves no listener to see. The wait took
/// that for "not visible yet" and polled until the whole deadline; now it
/// reports the failed create after a short grace.
#[tokio::test]
async fn a_create_that_fails_before_the_first_poll_is_reported_without_waiting_out_the_deadline() {
    let emulator = start().await;
    let gaap = patient(&emulator);
    fail_before_the_first_poll(&emulator, "DescribeHTTPListeners");
    let spec = ListenerSpec::new("web", Protocol::Http, Ports::Single(80));
    match bounded("the create", gaap.create(&spec)).await {
        Err(Error::TaskFailed { .. }) => {}
        other => panic!("expected a failed task, got {other:?}"),
    }
    assert_eq!(count(&emulator, LINK), 0);
    emulator.shutdown().await;
}

/// The same for one of the listeners of a batch create (one call, several
/// ports, one wait for all of them).
#[tokio::test]
async fn a_batch_create_whose_first_listener_fails_before_the_first_poll_is_reported() {
    let emulator = start().await;
    let gaap = patient(&emulator);
    fail_before_the_first_poll(&emulator, "DescribeTCPListeners");
    let spec = ListenerSpec::new("db", Protocol::Tcp, ports(&[5432, 5433]));
    match bounded("the create", gaap.create(&spec)).await {
        Err(Error::TaskFailed { .. }) => {}
        other => panic!("expected a failed task, got {other:?}"),
    }
    assert_eq!(count(&emulator, LINK), 1, "the other port's listener was made");
    emulator.shutdown().await;
}

/// A modify whose task failed before the first poll leaves the listener
/// running unchanged, never "changing": a failed change, reported after
/// the grace.
#[tokio::test]
async fn a_change_that_fails_before_the_first_poll_is_reported_without_waiting_out_the_deadline() {
    let emulator = start().await;
    let gaap = patient(&emulator);
    let spec = ListenerSpec::new("before", Protocol::Tcp, Ports::Single(80));
    let current = gaap.create(&spec).await.expect("create").remove(0);
    fail_before_the_first_poll(&emulator, "DescribeTCPListeners");
    let mut desired = spec.clone();
    desired.name = "after".into();
    match bounded("the change", gaap.update(&current, &desired)).await {
        Err(Error::TaskFailed { .. }) => {}
        other => panic!("expected a failed task, got {other:?}"),
    }
    assert_eq!(gaap.get(&current.id).await.expect("get").spec.name, "before");
    emulator.shutdown().await;
}

#[tokio::test]
async fn waiting_is_bounded_by_the_profile_timeout() {
    let emulator = builder()
        .timing(Timing {
            create: Duration::from_secs(600),
            update: Duration::from_millis(40),
            delete: Duration::from_millis(40),
        })
        .start()
        .await
        .expect("emulator");
    let mut p = profile(&emulator);
    // Updates and deletes keep a long limit; the create's own is short.
    p.wait = Some(WaitConfig {
        create_secs: Some(1),
        ..WaitConfig::uniform(600, 50)
    });
    let gaap = provider_on(&p);
    match gaap
        .create(&ListenerSpec::new("slow", Protocol::Http, Ports::Single(80)))
        .await
    {
        Err(Error::Timeout {
            op,
            operation,
            after,
            setting,
            ..
        }) => {
            assert!(operation.contains("create"), "{operation}");
            assert_eq!(op, listener_core::WaitOp::Create);
            assert_eq!(after, Duration::from_secs(1));
            assert_eq!(setting, "wait.create_secs");
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    // The listener exists (still creating): a later run adopts it through
    // the plan, it is not made twice.
    assert_eq!(count(&emulator, LINK), 1);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_failed_listener_of_a_batch_create_is_reported() {
    let emulator = builder()
        .fault_rule(FaultRule::new(Fault::TaskFailure).service(API))
        .start()
        .await
        .expect("emulator");
    let gaap = provider(&emulator);
    let ports = Ports::List((7000..7005).map(listener_core::PortEntry::Port).collect());
    match gaap.create(&ListenerSpec::new("pool", Protocol::Tcp, ports)).await {
        Err(Error::TaskFailed { .. }) => {}
        other => panic!("expected a failed task, got {other:?}"),
    }
    // GAAP works per listener: the one whose work failed is gone, the
    // other four run (a re-run of apply finds them and creates one).
    assert_eq!(count(&emulator, LINK), 4);
    emulator.shutdown().await;
}
