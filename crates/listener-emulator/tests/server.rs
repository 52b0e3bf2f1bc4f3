//! Routing, envelopes, seeding, the admin surface and the server's life
//! cycle, over real HTTP.

mod common;

use std::time::Duration;

use common::*;
use listener_emulator::{EmulatorError, InstanceSeed};
use serde_json::{json, Value};

#[tokio::test]
async fn unknown_version_is_the_family_version_error() {
    let em = start().await;
    let mut call = TencentCall::new("Echo", json!({}));
    call.version = "2000-01-01".into();
    let code = tencent_code(call.send(&em).await.unwrap()).await;
    assert_eq!(code.as_deref(), Some("NoSuchVersion"));
    let mut call = AlibabaCall::new("Echo", &[]);
    call.version = "2000-01-01".into();
    let (status, body) = alibaba_answer(call.send(&em).await.unwrap()).await;
    assert_eq!((status, body["Code"].as_str()), (400, Some("InvalidVersion")));
    em.shutdown().await;
}

#[tokio::test]
async fn missing_action_is_missing_parameter() {
    let em = start().await;
    let response = client()
        .post(format!("{}/", em.url()))
        .header("x-tc-version", TC_VERSION)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(tencent_code(response).await.as_deref(), Some("MissingParameter"));
    let response = client()
        .post(format!("{}/", em.url()))
        .header("x-acs-version", ALI_VERSION)
        .send()
        .await
        .unwrap();
    let (status, body) = alibaba_answer(response).await;
    assert_eq!((status, body["Code"].as_str()), (400, Some("MissingParameter")));
    em.shutdown().await;
}

#[tokio::test]
async fn unknown_action_is_the_family_action_error() {
    let em = start().await;
    let code = tencent_code(TencentCall::new("Nope", json!({})).send(&em).await.unwrap()).await;
    assert_eq!(code.as_deref(), Some("InvalidAction"));
    let (status, body) = alibaba_answer(AlibabaCall::new("Nope", &[]).send(&em).await.unwrap()).await;
    assert_eq!((status, body["Code"].as_str()), (404, Some("InvalidAction.NotFound")));
    em.shutdown().await;
}

#[tokio::test]
async fn malformed_tencent_body_is_invalid_parameter() {
    let em = start().await;
    let mut call = TencentCall::new("Echo", json!({}));
    call.body = "{\"Port\": ".into();
    let code = tencent_code(call.send(&em).await.unwrap()).await;
    assert_eq!(code.as_deref(), Some("InvalidParameter"));
    em.shutdown().await;
}

#[tokio::test]
async fn every_call_gets_a_fresh_request_id_that_the_service_sees() {
    let em = start().await;
    let mut call = TencentCall::new("Echo", json!({"Port": 443}));
    call.region = Some("ap-guangzhou".into());
    let first = tencent_response(call.send(&em).await.unwrap()).await;
    let second = tencent_response(call.send(&em).await.unwrap()).await;
    assert_eq!(first["SeenRequestId"], first["RequestId"]);
    assert_ne!(first["RequestId"], second["RequestId"]);
    assert_eq!(first["Params"], json!({"Port": 443}));
    assert_eq!(first["Region"], "ap-guangzhou");
    em.shutdown().await;
}

#[tokio::test]
async fn service_bugs_become_internal_error_and_the_server_keeps_serving() {
    let em = start().await;
    let code = tencent_code(TencentCall::new("Panic", json!({})).send(&em).await.unwrap()).await;
    assert_eq!(code.as_deref(), Some("InternalError"));
    let (status, body) = alibaba_answer(AlibabaCall::new("NotAnObject", &[]).send(&em).await.unwrap()).await;
    assert_eq!((status, body["Code"].as_str()), (500, Some("InternalError")));
    assert_eq!(
        tencent_code(TencentCall::new("Echo", json!({})).send(&em).await.unwrap()).await,
        None
    );
    em.shutdown().await;
}

#[tokio::test]
async fn requests_that_are_not_api_calls_get_plain_errors() {
    let em = start().await;
    let response = client().post(format!("{}/", em.url())).body("{}").send().await.unwrap();
    assert_eq!(response.status(), 400);
    let response = client().get(format!("{}/elsewhere", em.url())).send().await.unwrap();
    assert_eq!(response.status(), 404);
    em.shutdown().await;
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let em = start().await;
    let addr = em.addr();
    assert_eq!(
        tencent_code(TencentCall::new("Echo", json!({})).send(&em).await.unwrap()).await,
        None
    );
    em.shutdown().await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "nothing listens any more"
    );
}

#[tokio::test]
async fn dropping_the_handle_stops_the_server() {
    let em = start().await;
    let addr = em.addr();
    drop(em);
    // The accept task notices the drop asynchronously; poll, bounded.
    let mut refused = false;
    for _ in 0..500 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(refused, "the port was still accepting after the handle was dropped");
}

#[tokio::test]
async fn seeding_by_unknown_name_fails_the_start() {
    let err = builder()
        .seed("tencent-nothing", InstanceSeed::default())
        .start()
        .await
        .unwrap_err();
    assert!(matches!(err, EmulatorError::UnknownService(name) if name == "tencent-nothing"));
}

#[tokio::test]
async fn handle_seeds_running_services_and_counts_listeners() {
    let em = start().await;
    em.seed(
        ALI_NAME,
        InstanceSeed {
            id: "ins-2".into(),
            server_groups: vec![],
        },
    )
    .unwrap();
    assert!(em.seed("nothing", InstanceSeed::default()).is_err());
    let call = AlibabaCall::new("CreateListener", &[("InstanceId", "ins-2")]);
    assert_eq!(alibaba_answer(call.send(&em).await.unwrap()).await.0, 200);
    let counts = em.listener_counts();
    assert_eq!(counts[ALI_API]["ins-2"], 1);
    assert_eq!(counts[ALI_API]["ins-1"], 0);
    assert_eq!(counts[TC_API]["ins-1"], 0);
    em.shutdown().await;
}

#[tokio::test]
async fn admin_state_reports_services_and_listener_counts() {
    let em = start().await;
    let call = TencentCall::new("CreateListener", json!({"InstanceId": "ins-1"}));
    assert_eq!(tencent_code(call.send(&em).await.unwrap()).await, None);
    let state: Value = client()
        .get(format!("{}/_emulator/state", em.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let services = state["services"].as_array().unwrap();
    let tc = services
        .iter()
        .find(|s| s["api"] == TC_API)
        .expect("Tencent test service listed");
    assert_eq!(tc["family"], "tencent");
    assert_eq!(tc["version"], TC_VERSION);
    assert_eq!(tc["listeners"]["ins-1"], 1);
    assert_eq!(tc["total_listeners"], 1);
    assert_eq!(state["verify_signatures"], true);
    em.shutdown().await;
}

#[tokio::test]
async fn admin_seed_endpoint_seeds_and_refuses_unknown_services() {
    let em = start().await;
    let url = format!("{}/_emulator/seed", em.url());
    let ok = client()
        .post(&url)
        .json(&json!({"service": TC_API, "id": "ins-9"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(em.listener_counts()[TC_API]["ins-9"], 0);
    let unknown = client()
        .post(&url)
        .json(&json!({"service": "nothing", "id": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    em.shutdown().await;
}

#[tokio::test]
async fn admin_faults_endpoint_replaces_faults_and_reports_counters() {
    let em = start().await;
    let url = format!("{}/_emulator/faults", em.url());
    let spec = json!({
        "rules": [
            {"service": TC_NAME, "action": "CreateListener", "fault": "lost_answer"},
            {"fault": "throttle", "times": 3, "skip": 1, "service": "elsewhere"}
        ]
    });
    let answer: Value = client()
        .post(&url)
        .json(&spec)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["rules"].as_array().unwrap().len(), 2);

    let call = TencentCall::new("CreateListener", json!({"InstanceId": "ins-1"}));
    assert!(call.send(&em).await.is_err(), "answer lost");
    assert_eq!(created_on(&em, TC_API), 1);

    let state: Value = client().get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(state["counts"]["lost_answer"], 1);
    assert_eq!(state["rules"].as_array().unwrap().len(), 1, "used-up rule is gone");
    assert_eq!(state["rules"][0]["skip"], 1);

    let bad = client()
        .post(&url)
        .json(&json!({"rules": [{"fault": "explode"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let reset = client()
        .post(&url)
        .json(&json!({"reset_counts": true}))
        .send()
        .await
        .unwrap();
    let reset: Value = reset.json().await.unwrap();
    assert_eq!(reset["counts"]["lost_answer"], 0);
    assert!(reset["rules"].as_array().unwrap().is_empty());
    em.shutdown().await;
}

#[test]
fn builtin_services_use_the_documented_names_and_versions() {
    use listener_emulator::Family;
    let documented = [
        (Family::Tencent, "gaap", "2018-05-29"),
        (Family::Tencent, "clb", "2018-03-17"),
        (Family::Alibaba, "alb", "2020-06-16"),
        (Family::Alibaba, "ga", "2019-11-20"),
    ];
    let services = listener_emulator::services::builtin();
    assert!(!services.is_empty(), "at least one vendor service is built in");
    let mut seen = std::collections::BTreeSet::new();
    for s in &services {
        let entry = (s.family(), s.name(), s.version());
        assert!(documented.contains(&entry), "undocumented service {entry:?}");
        assert!(seen.insert(s.name()), "{} registered twice", s.name());
    }
}

#[tokio::test]
async fn requests_are_counted_per_api_and_action_with_throttled_and_errors() {
    let mut limits = listener_emulator::RateLimits::default();
    limits
        .overrides
        .insert(format!("{TC_NAME}:Echo"), listener_emulator::Rate::per_minute(2));
    let em = builder().rate_limits(limits).start().await.unwrap();
    for _ in 0..3 {
        TencentCall::new("Echo", json!({})).send(&em).await.unwrap();
    }
    let mut bad = AlibabaCall::new("CreateListener", &[]);
    bad.access_key_secret = "wrong".into();
    bad.send(&em).await.unwrap();
    // Missing InstanceId: answered with an error code.
    AlibabaCall::new("CreateListener", &[]).send(&em).await.unwrap();

    let counts = em.request_counts();
    let echo = counts[TC_API]["Echo"];
    assert_eq!((echo.requests, echo.throttled, echo.errors), (3, 1, 0));
    // The unauthenticated call is not a call to the action.
    let create = counts[ALI_API]["CreateListener"];
    assert_eq!((create.requests, create.throttled, create.errors), (1, 0, 1));

    let url = format!("{}/_emulator/requests", em.url());
    let body: Value = client().get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(body[TC_API]["Echo"]["requests"], 3);
    assert_eq!(body[TC_API]["Echo"]["throttled"], 1);

    em.reset_request_counts();
    assert!(em.request_counts().is_empty());
    em.shutdown().await;
}
