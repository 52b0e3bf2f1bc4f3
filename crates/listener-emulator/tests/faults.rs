//! Each fault kind, observed by a real HTTP client: what the client sees,
//! and whether the service acted.

mod common;

use std::time::Duration;

use common::*;
use listener_emulator::{Family, Fault, FaultRule, RandomFaults, Service};
use serde_json::json;

fn tc_create() -> TencentCall {
    TencentCall::new("CreateListener", json!({"InstanceId": "ins-1"}))
}

fn ali_create() -> AlibabaCall {
    AlibabaCall::new("CreateListener", &[("InstanceId", "ins-1")])
}

#[tokio::test]
async fn throttle_fault_answers_the_family_code_without_acting() {
    let em = builder()
        .fault_rule(FaultRule::new(Fault::Throttle).service(TC_NAME))
        .fault_rule(FaultRule::new(Fault::Throttle).service(ALI_API))
        .start()
        .await
        .unwrap();
    let code = tencent_code(tc_create().send(&em).await.unwrap()).await;
    assert_eq!(code.as_deref(), Some("RequestLimitExceeded"));
    let response = ali_create().send(&em).await.unwrap();
    let retry_after: u64 = response.headers()["x-acs-retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0);
    let (status, body) = alibaba_answer(response).await;
    assert_eq!((status, body["Code"].as_str()), (400, Some("Throttling.User")));
    assert_eq!(created_on(&em, TC_API), 0);
    assert_eq!(created_on(&em, ALI_API), 0);
    assert_eq!(em.fault_counts().throttle, 2);
    em.shutdown().await;
}

#[tokio::test]
async fn server_error_fault_is_502_without_envelope_or_503_service_unavailable() {
    let em = builder()
        .fault_rule(FaultRule::new(Fault::ServerError).times(2))
        .start()
        .await
        .unwrap();
    let response = tc_create().send(&em).await.unwrap();
    assert_eq!(response.status(), 502);
    let text = response.text().await.unwrap();
    assert!(
        serde_json::from_str::<serde_json::Value>(&text).is_err(),
        "no JSON envelope: {text}"
    );
    let (status, body) = alibaba_answer(ali_create().send(&em).await.unwrap()).await;
    assert_eq!((status, body["Code"].as_str()), (503, Some("ServiceUnavailable")));
    assert_eq!(created_on(&em, TC_API) + created_on(&em, ALI_API), 0);
    assert_eq!(em.fault_counts().server_error, 2);
    em.shutdown().await;
}

#[tokio::test]
async fn drop_fault_closes_the_connection_without_acting() {
    let em = builder()
        .fault_rule(FaultRule::new(Fault::Drop).times(2))
        .start()
        .await
        .unwrap();
    let err = tc_create().send(&em).await.expect_err("no answer");
    assert!(!err.is_timeout(), "closed, not timed out: {err}");
    let err = ali_create().send(&em).await.expect_err("no answer");
    assert!(!err.is_timeout(), "closed, not timed out: {err}");
    assert_eq!(created_on(&em, TC_API) + created_on(&em, ALI_API), 0);
    assert_eq!(em.fault_counts().drop, 2);
    // The server itself is unharmed.
    assert_eq!(tencent_code(tc_create().send(&em).await.unwrap()).await, None);
    em.shutdown().await;
}

#[tokio::test]
async fn lost_answer_fault_acts_then_closes_the_connection() {
    let em = builder()
        .fault_rule(FaultRule::new(Fault::LostAnswer).action("CreateListener").times(2))
        .start()
        .await
        .unwrap();
    let err = tc_create().send(&em).await.expect_err("answer lost");
    assert!(!err.is_timeout(), "{err}");
    let err = ali_create().send(&em).await.expect_err("answer lost");
    assert!(!err.is_timeout(), "{err}");
    // Both calls acted although neither client saw an answer.
    assert_eq!(created_on(&em, TC_API), 1);
    assert_eq!(created_on(&em, ALI_API), 1);
    assert_eq!(em.fault_counts().lost_answer, 2);
    em.shutdown().await;
}

#[tokio::test]
async fn slow_fault_acts_and_answers() {
    let em = builder()
        .fault_rule(FaultRule::new(Fault::Slow(Duration::from_millis(30))))
        .start()
        .await
        .unwrap();
    assert_eq!(tencent_code(tc_create().send(&em).await.unwrap()).await, None);
    assert_eq!(created_on(&em, TC_API), 1);
    assert_eq!(em.fault_counts().slow, 1);
    em.shutdown().await;
}

#[tokio::test]
async fn task_failure_fault_lets_the_call_succeed_and_its_task_fail() {
    let em = builder()
        .fault_rule(FaultRule::new(Fault::TaskFailure).service(ALI_NAME))
        .start()
        .await
        .unwrap();
    let (status, _) = alibaba_answer(ali_create().send(&em).await.unwrap()).await;
    assert_eq!(status, 200);
    let (_, second) = alibaba_answer(ali_create().send(&em).await.unwrap()).await;
    let describe = AlibabaCall::new("DescribeListeners", &[("InstanceId", "ins-1")]);
    let (_, body) = alibaba_answer(describe.send(&em).await.unwrap()).await;
    let listeners = body["Listeners"].as_array().unwrap();
    assert_eq!(listeners.len(), 2);
    assert_eq!(listeners[0]["Status"], "FAILED");
    assert_eq!(listeners[1]["ListenerId"], second["ListenerId"]);
    assert_ne!(listeners[1]["Status"], "FAILED");
    assert_eq!(em.fault_counts().task_failure, 1);
    em.shutdown().await;
}

#[tokio::test]
async fn scripted_rules_are_consumed_in_order() {
    let em = builder()
        .fault_rules(vec![
            FaultRule::new(Fault::Throttle).service(TC_API),
            FaultRule::new(Fault::ServerError).service(TC_API),
            FaultRule::new(Fault::Drop).service(TC_API).skip(1),
        ])
        .start()
        .await
        .unwrap();
    let first = tencent_code(tc_create().send(&em).await.unwrap()).await;
    assert_eq!(first.as_deref(), Some("RequestLimitExceeded"));
    assert_eq!(tc_create().send(&em).await.unwrap().status(), 502);
    // Skipped by the third rule: passes and acts.
    assert_eq!(tencent_code(tc_create().send(&em).await.unwrap()).await, None);
    assert!(tc_create().send(&em).await.is_err());
    assert!(em.faults().rules().is_empty());
    assert_eq!(tencent_code(tc_create().send(&em).await.unwrap()).await, None);
    assert_eq!(created_on(&em, TC_API), 2);
    em.shutdown().await;
}

#[tokio::test]
async fn rules_added_through_the_handle_apply_at_once() {
    let em = start().await;
    assert_eq!(tencent_code(tc_create().send(&em).await.unwrap()).await, None);
    em.faults().push_rule(FaultRule::new(Fault::LostAnswer));
    assert!(tc_create().send(&em).await.is_err());
    assert_eq!(created_on(&em, TC_API), 2);
    em.shutdown().await;
}

#[tokio::test]
async fn random_faults_are_counted_per_kind() {
    let em = builder()
        .random_faults(RandomFaults {
            seed: 11,
            throttle: 0.3,
            server_error: 0.3,
            ..RandomFaults::default()
        })
        .start()
        .await
        .unwrap();
    let (mut ok, mut throttled, mut unavailable) = (0u64, 0u64, 0u64);
    for _ in 0..30 {
        let (status, body) = alibaba_answer(AlibabaCall::new("Echo", &[]).send(&em).await.unwrap()).await;
        match (status, body["Code"].as_str()) {
            (200, _) => ok += 1,
            (400, Some("Throttling.User")) => throttled += 1,
            (503, Some("ServiceUnavailable")) => unavailable += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    let counts = em.fault_counts();
    assert_eq!((counts.throttle, counts.server_error), (throttled, unavailable));
    assert_eq!(ok + throttled + unavailable, 30);
    assert!(throttled > 0 && unavailable > 0 && ok > 0, "seed 11 mixes all three");
    em.shutdown().await;
}

#[tokio::test]
async fn rate_limit_answers_the_throttling_code_of_each_family() {
    let mut limits = listener_emulator::RateLimits::default();
    limits
        .overrides
        .insert(format!("{TC_NAME}:Echo"), listener_emulator::Rate::per_minute(2));
    limits
        .overrides
        .insert(ALI_NAME.to_string(), listener_emulator::Rate::per_minute(2));
    let em = builder().rate_limits(limits).start().await.unwrap();
    for _ in 0..2 {
        assert_eq!(
            tencent_code(TencentCall::new("Echo", json!({})).send(&em).await.unwrap()).await,
            None
        );
    }
    let code = tencent_code(TencentCall::new("Echo", json!({})).send(&em).await.unwrap()).await;
    assert_eq!(code.as_deref(), Some("RequestLimitExceeded"));
    // Another action has its own bucket.
    assert_eq!(tencent_code(tc_create().send(&em).await.unwrap()).await, None);

    for _ in 0..2 {
        let (status, _) = alibaba_answer(AlibabaCall::new("Echo", &[]).send(&em).await.unwrap()).await;
        assert_eq!(status, 200);
    }
    let response = AlibabaCall::new("Echo", &[]).send(&em).await.unwrap();
    let wait_ms: u64 = response.headers()["x-acs-retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait_ms > 0);
    let (status, body) = alibaba_answer(response).await;
    assert_eq!((status, body["Code"].as_str()), (400, Some("Throttling.User")));
    // Real throttling is not an injected fault.
    assert_eq!(em.fault_counts().throttle, 0);
    em.shutdown().await;
}

#[tokio::test]
async fn shutdown_cuts_a_slow_call_short_without_acting() {
    let counter = Counter::new(Family::Tencent);
    let em = builder()
        .with_service(counter.clone())
        .fault_rule(FaultRule::new(Fault::Slow(Duration::from_secs(3600))))
        .start()
        .await
        .unwrap();
    let addr = em.addr();
    let in_flight = tokio::spawn(async move { tc_create().send_to(addr).await });
    // Wait (bounded) until the call is inside its delay.
    for _ in 0..2000 {
        if em.fault_counts().slow == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(em.fault_counts().slow, 1);
    em.shutdown().await;
    let result = in_flight.await.unwrap();
    assert!(result.is_err(), "the delayed call gets no answer");
    assert_eq!(counter.listener_counts().get("ins-1"), Some(&0));
}
