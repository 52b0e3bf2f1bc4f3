//! The project's own API clients (`tencent-api`, `alibaba-api`) against the
//! emulator: what they send is accepted, what the emulator answers they
//! decode, and the throttling and lost-answer faults reach them as the
//! error kinds their retry logic expects.

mod common;

use common::*;
use listener_core::Secret;
use listener_emulator::{Fault, FaultRule};
use serde_json::json;

fn tencent_client(url: &str) -> tencent_api::TencentClient {
    let credentials = tencent_api::Credentials::new(TC_ID, TC_KEY);
    let mut config = tencent_api::ClientConfig::new(TC_API, TC_NAME, TC_VERSION, credentials);
    config.endpoint = tencent_api::Endpoint::from_setting(Some(url));
    config.allow_insecure_http = true;
    config.retry = tencent_api::RetryPolicy::none();
    tencent_api::TencentClient::new(config).expect("client builds")
}

fn alibaba_client(url: &str) -> alibaba_api::AlibabaClient {
    let credentials =
        alibaba_api::Credentials::new(ALI_ID, Secret::new(ALI_SECRET), None, "test").expect("valid credentials");
    let product = alibaba_api::Product {
        vendor: ALI_API,
        code: ALI_NAME,
        version: ALI_VERSION,
        rate_limit_per_second: 20.0,
        action_limits: &[],
        api_region: None,
    };
    let mut config = alibaba_api::ClientConfig::new(&product, "cn-hangzhou", credentials);
    config.endpoint = Some(url.to_string());
    config.allow_insecure_http = true;
    config.retry = alibaba_api::RetryPolicy::none();
    alibaba_api::AlibabaClient::new(config).expect("client builds")
}

#[tokio::test]
async fn tencent_client_calls_are_accepted_and_decoded() {
    let em = start().await;
    let client = tencent_client(&em.url());
    let answer = client
        .call("CreateListener", &json!({"InstanceId": "ins-1"}), false)
        .await
        .expect("accepted");
    assert!(answer.body["ListenerId"].as_str().unwrap().starts_with("lsn-"));
    assert_eq!(created_on(&em, TC_API), 1);
    em.shutdown().await;
}

#[tokio::test]
async fn alibaba_client_calls_are_accepted_and_decoded() {
    let em = start().await;
    let client = alibaba_client(&em.url());
    let token = client.new_client_token();
    let answer = client
        .call(
            "CreateListener",
            &json!({"InstanceId": "ins-1", "PortRanges": [{"FromPort": 80, "ToPort": 80}]}),
            alibaba_api::CallOptions::write(token),
        )
        .await
        .expect("accepted");
    assert!(answer.body["ListenerId"].as_str().unwrap().starts_with("lsn-"));
    let echo = client
        .call(
            "Echo",
            &json!({"RegionId": "cn-hangzhou", "Tags": [{"Key": "k", "Value": "v w"}]}),
            alibaba_api::CallOptions::read(),
        )
        .await
        .expect("accepted");
    assert_eq!(echo.body["Params"]["Tags"][0]["Value"], "v w");
    assert_eq!(echo.body["Region"], "cn-hangzhou");
    assert_eq!(created_on(&em, ALI_API), 1);
    em.shutdown().await;
}

#[tokio::test]
async fn faults_reach_the_clients_as_errors() {
    let em = builder()
        .fault_rule(FaultRule::new(Fault::Throttle).service(TC_NAME))
        .fault_rule(FaultRule::new(Fault::LostAnswer).service(ALI_NAME))
        .start()
        .await
        .unwrap();
    let tc = tencent_client(&em.url());
    assert!(tc.call("Echo", &json!({}), true).await.is_err(), "throttled");
    assert!(tc.call("Echo", &json!({}), true).await.is_ok(), "rule used up");
    let ali = alibaba_client(&em.url());
    let lost = ali
        .call(
            "CreateListener",
            &json!({"InstanceId": "ins-1"}),
            alibaba_api::CallOptions::default(),
        )
        .await;
    assert!(lost.is_err(), "answer lost");
    assert_eq!(created_on(&em, ALI_API), 1, "the lost call acted");
    em.shutdown().await;
}
