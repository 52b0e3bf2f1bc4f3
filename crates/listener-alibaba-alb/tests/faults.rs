//! Faults: lost answers, throttling, busy instances and failed jobs.
//!
//! The property that matters: a create is one logical operation with one
//! `ClientToken`, so however often the client has to repeat it, exactly one
//! listener exists afterwards.

mod common;

use std::time::Duration;

use common::*;
use listener_core::{Adapter, Error, Provider};
use listener_emulator::services::alb::Alb;
use listener_emulator::{Fault, FaultRule};
use serde_json::json;

#[tokio::test]
async fn lost_answer_and_throttling_leave_exactly_one_listener_under_one_token() {
    let faults = vec![
        FaultRule::new(Fault::Throttle).service("alb").action("CreateListener"),
        FaultRule::new(Fault::LostAnswer)
            .service("alb")
            .action("CreateListener"),
    ];
    let env = Env::start_with(faults, Alb::new()).await;
    let p = env.provider();

    let made = p.create(&http(80)).await.expect("created despite the faults");
    assert_eq!(made.len(), 1);
    assert_eq!(env.count(), 1);

    let counts = env.emulator.fault_counts();
    assert_eq!((counts.throttle, counts.lost_answer), (1, 1));
    let stats = p.client().api().stats();
    assert!(stats.throttled >= 1 && stats.retries >= 2, "{stats:?}");
    // The attempts that reached the service (the throttled one never
    // does): the one whose answer was lost and the repeat, same token.
    let tokens = env.alb.client_tokens("CreateListener");
    assert_eq!(tokens.len(), 2, "{tokens:?}");
    assert_eq!(tokens[0], tokens[1]);

    let listed = p.list().await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, made[0].id);
    env.stop().await;
}

#[tokio::test]
async fn every_logical_operation_gets_its_own_token() {
    let env = Env::start().await;
    let p = env.provider();
    let a = p.create(&http(80)).await.expect("a").remove(0);
    p.create(&http(81)).await.expect("b");
    p.delete(&a.id).await.expect("delete");
    let creates = env.alb.client_tokens("CreateListener");
    let deletes = env.alb.client_tokens("DeleteListener");
    assert_eq!(creates.len(), 2);
    assert_ne!(creates[0], creates[1]);
    assert_eq!(deletes.len(), 1);
    assert!(!creates.contains(&deletes[0]));
    env.stop().await;
}

#[tokio::test]
async fn lost_delete_answer_is_repeated_with_the_same_token() {
    let faults = vec![FaultRule::new(Fault::LostAnswer)
        .service("alb")
        .action("DeleteListener")];
    let env = Env::start_with(faults, Alb::new()).await;
    let p = env.provider();
    let made = p.create(&https(443)).await.expect("created").remove(0);
    p.delete(&made.id).await.expect("deleted despite the lost answer");
    assert_eq!(env.count(), 0);
    let tokens = env.alb.client_tokens("DeleteListener");
    assert_eq!(tokens.len(), 2);
    assert_eq!(tokens[0], tokens[1]);
    env.stop().await;
}

#[tokio::test]
async fn failed_create_job_is_task_failed_and_leaves_nothing() {
    let faults = vec![FaultRule::new(Fault::TaskFailure).service("alb")];
    let env = Env::start_with(faults, Alb::new()).await;
    let p = env.provider();
    match p.create(&http(80)).await {
        Err(Error::TaskFailed { vendor, task, message }) => {
            assert_eq!(vendor, "alibaba-alb");
            assert_eq!(task.len(), 36, "the job id: {task}");
            assert!(!message.is_empty());
        }
        other => panic!("expected a failed task, got {other:?}"),
    }
    assert_eq!(env.count(), 0);
    // The port is free again: a new create works.
    p.create(&http(80)).await.expect("second create");
    assert_eq!(env.count(), 1);
    env.stop().await;
}

#[tokio::test]
async fn failed_update_job_is_task_failed_and_keeps_the_old_settings() {
    // The first task (the create) succeeds, the second (the update) fails.
    let faults = vec![FaultRule::new(Fault::TaskFailure).service("alb").skip(1)];
    let env = Env::start_with(faults, Alb::new()).await;
    let p = env.provider();
    let made = p.create(&http(80)).await.expect("created").remove(0);
    let mut desired = http(80);
    desired.description = Some("changed".into());
    assert!(matches!(p.update(&made, &desired).await, Err(Error::TaskFailed { .. })));
    let now = p.get(&made.id).await.expect("get");
    assert_eq!(now.spec.description, None);
    env.stop().await;
}

#[tokio::test]
async fn a_busy_instance_is_waited_out_by_the_client() {
    // A raw create leaves the instance busy for a while; the provider's
    // create meets IncorrectStatus.LoadBalancer and retries it.
    let env = Env::start_timed(Vec::new(), Alb::new(), Duration::from_millis(150)).await;
    // Retries often enough that jitter can never use them up within 150 ms.
    let patient = env.client_with(alibaba_api::RetryPolicy {
        max_attempts: 100,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(20),
        max_elapsed: Duration::from_secs(10),
    });
    let p = listener_alibaba_alb::AlbProvider::with_client(&env.profile, patient).expect("provider");
    let raw = env.raw();
    raw.call(
        "CreateListener",
        &raw_params("HTTP", 81),
        alibaba_api::CallOptions::write(raw.new_client_token()),
    )
    .await
    .expect("raw create");
    p.create(&http(80)).await.expect("created after the instance settled");
    assert_eq!(env.count(), 2);
    assert!(p.client().api().stats().retries >= 1);
    env.stop().await;
}

#[tokio::test]
async fn create_wait_gives_up_at_the_profiles_create_limit() {
    let env = Env::start_timed(Vec::new(), Alb::new(), Duration::from_secs(30)).await;
    let mut profile = env.profile.clone();
    // A shared limit far away, a create limit of its own that is short:
    // the create's own setting decides.
    profile.wait = Some(listener_core::WaitConfig {
        create_secs: Some(1),
        ..listener_core::WaitConfig::uniform(600, 50)
    });
    let p = listener_alibaba_alb::AlbProvider::from_profile(&profile).expect("provider");
    match p.create(&http(80)).await {
        Err(e @ Error::Timeout { .. }) => {
            assert_eq!(e.kind(), "timeout");
            let Error::Timeout {
                vendor,
                op,
                operation,
                after,
                setting,
            } = e
            else {
                unreachable!()
            };
            assert_eq!(vendor, "alibaba-alb");
            assert_eq!(op, listener_core::WaitOp::Create);
            assert_eq!(operation, "create listener");
            assert_eq!(after, Duration::from_secs(1));
            assert_eq!(setting, "wait.create_secs");
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    // The vendor accepted the create: it is still under way there, as the
    // error says.
    assert_eq!(env.count(), 1);
    env.stop().await;
}

#[tokio::test]
async fn same_token_with_other_parameters_is_a_conflict() {
    let env = Env::start().await;
    let raw = env.raw();
    let token = raw.new_client_token();
    raw.call(
        "CreateListener",
        &raw_params("HTTP", 80),
        alibaba_api::CallOptions::write(token.clone()),
    )
    .await
    .expect("first");
    let mut other = raw_params("HTTP", 80);
    other["ListenerDescription"] = json!("other");
    let e = raw
        .call("CreateListener", &other, alibaba_api::CallOptions::write(token))
        .await
        .expect_err("mismatch");
    assert!(matches!(e, Error::Conflict { .. }));
    assert_eq!(code_of(&e), "IdempotentParameterMismatch");
    assert_eq!(env.count(), 1);
    env.stop().await;
}
