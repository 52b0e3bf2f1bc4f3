//! Signature checks over real HTTP: correctly signed calls reach the
//! service; every way of getting a signature wrong answers the vendor's code.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn signed_tencent_call_reaches_the_service() {
    let em = start().await;
    let call = TencentCall::new("CreateListener", json!({"InstanceId": "ins-1"}));
    let r = tencent_response(call.send(&em).await.unwrap()).await;
    assert!(r.get("Error").is_none(), "{r}");
    assert!(r["ListenerId"].as_str().unwrap().starts_with("lsn-"));
    assert_eq!(created_on(&em, TC_API), 1);
    em.shutdown().await;
}

#[tokio::test]
async fn tencent_json_with_charset_and_without_spaces_or_with_them_is_read_alike() {
    // Gateways read any JSON object whatever its whitespace, and take
    // `application/json; charset=utf-8` (tccli, other SDKs) as JSON.
    let em = start().await;
    for (content_type, body) in [
        (
            "application/json; charset=utf-8",
            r#"{"Name":"a b 名","Ports":[80,81],"On":true}"#,
        ),
        (
            "Application/JSON",
            "{ \"Name\" : \"a b 名\" ,\n \"Ports\" : [ 80 , 81 ], \"On\": true }",
        ),
    ] {
        let mut call = TencentCall::new("Echo", json!({}));
        call.body = body.to_string();
        call.content_type = content_type.to_string();
        let r = tencent_response(call.send(&em).await.unwrap()).await;
        assert_eq!(
            r["Params"],
            json!({"Name": "a b 名", "Ports": [80, 81], "On": true}),
            "{content_type}"
        );
    }
    em.shutdown().await;
}

#[tokio::test]
async fn tencent_call_that_also_signs_x_tc_action_is_accepted() {
    let em = start().await;
    let mut call = TencentCall::new("CreateListener", json!({"InstanceId": "ins-1"}));
    call.sign_action = true;
    assert_eq!(tencent_code(call.send(&em).await.unwrap()).await, None);
    assert_eq!(created_on(&em, TC_API), 1);
    em.shutdown().await;
}

#[tokio::test]
async fn tencent_wrong_signature_is_signature_failure_and_does_not_act() {
    let em = start().await;
    let mut call = TencentCall::new("CreateListener", json!({"InstanceId": "ins-1"}));
    call.forged_signature = Some("0".repeat(64));
    let code = tencent_code(call.send(&em).await.unwrap()).await;
    assert_eq!(code.as_deref(), Some("AuthFailure.SignatureFailure"));
    // Signed with another key: same answer.
    let mut call = TencentCall::new("CreateListener", json!({"InstanceId": "ins-1"}));
    call.secret_key = "not-the-key".into();
    let code = tencent_code(call.send(&em).await.unwrap()).await;
    assert_eq!(code.as_deref(), Some("AuthFailure.SignatureFailure"));
    assert_eq!(created_on(&em, TC_API), 0);
    em.shutdown().await;
}

#[tokio::test]
async fn tencent_unknown_secret_id_is_secret_id_not_found() {
    let em = start().await;
    let mut call = TencentCall::new("Echo", json!({}));
    call.secret_id = "AKIDsomebodyelse".into();
    let code = tencent_code(call.send(&em).await.unwrap()).await;
    assert_eq!(code.as_deref(), Some("AuthFailure.SecretIdNotFound"));
    em.shutdown().await;
}

#[tokio::test]
async fn tencent_timestamp_off_by_more_than_five_minutes_is_signature_expire() {
    let em = start().await;
    for offset in [-400, 400] {
        let mut call = TencentCall::new("Echo", json!({}));
        call.clock_offset = offset;
        let code = tencent_code(call.send(&em).await.unwrap()).await;
        assert_eq!(code.as_deref(), Some("AuthFailure.SignatureExpire"), "offset {offset}");
    }
    // Inside the window is fine.
    let mut call = TencentCall::new("Echo", json!({}));
    call.clock_offset = -120;
    assert_eq!(tencent_code(call.send(&em).await.unwrap()).await, None);
    em.shutdown().await;
}

#[tokio::test]
async fn tencent_scope_naming_another_service_is_refused() {
    let em = start().await;
    let mut call = TencentCall::new("Echo", json!({}));
    call.scope_service = "cvm".into();
    let code = tencent_code(call.send(&em).await.unwrap()).await;
    assert_eq!(code.as_deref(), Some("AuthFailure.SignatureFailure"));
    em.shutdown().await;
}

#[tokio::test]
async fn tencent_call_without_authorization_is_refused() {
    let em = start().await;
    let mut call = TencentCall::new("Echo", json!({}));
    call.unsigned = true;
    let code = tencent_code(call.send(&em).await.unwrap()).await;
    assert_eq!(code.as_deref(), Some("AuthFailure.InvalidAuthorization"));
    em.shutdown().await;
}

#[tokio::test]
async fn signed_alibaba_call_reaches_the_service_with_unflattened_params() {
    let em = start().await;
    let call = AlibabaCall::new(
        "Echo",
        &[
            ("RegionId", "cn-hangzhou"),
            ("PortRanges.1.FromPort", "80"),
            ("PortRanges.1.ToPort", "90"),
            ("Description", "a*b~c/d+e f"),
        ],
    );
    let (status, body) = alibaba_answer(call.send(&em).await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["Params"]["PortRanges"][0]["ToPort"], "90");
    assert_eq!(body["Flat"]["Description"], "a*b~c/d+e f");
    assert_eq!(body["Region"], "cn-hangzhou");
    assert_eq!(body["SeenRequestId"], body["RequestId"]);
    em.shutdown().await;
}

#[tokio::test]
async fn signed_alibaba_call_may_carry_parameters_in_a_form_body() {
    let em = start().await;
    let mut call = AlibabaCall::new("CreateListener", &[("RegionId", "cn-hangzhou")]);
    call.form = vec![("InstanceId".into(), "ins-1".into())];
    let (status, body) = alibaba_answer(call.send(&em).await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(created_on(&em, ALI_API), 1);
    em.shutdown().await;
}

#[tokio::test]
async fn alibaba_wrong_signature_is_signature_does_not_match_403() {
    let em = start().await;
    let mut call = AlibabaCall::new("CreateListener", &[("InstanceId", "ins-1")]);
    call.access_key_secret = "not-the-secret".into();
    let (status, body) = alibaba_answer(call.send(&em).await.unwrap()).await;
    assert_eq!((status, body["Code"].as_str()), (403, Some("SignatureDoesNotMatch")));
    assert_eq!(created_on(&em, ALI_API), 0);
    em.shutdown().await;
}

#[tokio::test]
async fn alibaba_payload_hash_not_matching_the_body_is_refused() {
    let em = start().await;
    let mut call = AlibabaCall::new("Echo", &[]);
    call.claimed_hash = Some(alibaba_api::sign::payload_hash(b"another body"));
    let (status, body) = alibaba_answer(call.send(&em).await.unwrap()).await;
    assert_eq!((status, body["Code"].as_str()), (403, Some("SignatureDoesNotMatch")));
    em.shutdown().await;
}

#[tokio::test]
async fn alibaba_unknown_access_key_is_not_found_404() {
    let em = start().await;
    let mut call = AlibabaCall::new("Echo", &[]);
    call.access_key_id = "LTAIsomebodyelse".into();
    let (status, body) = alibaba_answer(call.send(&em).await.unwrap()).await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (404, Some("InvalidAccessKeyId.NotFound"))
    );
    em.shutdown().await;
}

#[tokio::test]
async fn alibaba_date_too_far_off_is_invalid_timestamp_expired() {
    let em = start().await;
    let mut call = AlibabaCall::new("Echo", &[]);
    call.clock_offset = -3600;
    let (status, body) = alibaba_answer(call.send(&em).await.unwrap()).await;
    assert_eq!((status, body["Code"].as_str()), (400, Some("InvalidTimeStamp.Expired")));
    em.shutdown().await;
}

#[tokio::test]
async fn alibaba_reused_nonce_is_signature_nonce_used() {
    let em = start().await;
    let call = AlibabaCall::new("CreateListener", &[("InstanceId", "ins-1")]);
    let (status, _) = alibaba_answer(call.send(&em).await.unwrap()).await;
    assert_eq!(status, 200);
    // The same nonce again, freshly signed: refused, and nothing created.
    let (status, body) = alibaba_answer(call.send(&em).await.unwrap()).await;
    assert_eq!((status, body["Code"].as_str()), (400, Some("SignatureNonceUsed")));
    assert_eq!(created_on(&em, ALI_API), 1);
    em.shutdown().await;
}

#[tokio::test]
async fn forged_request_does_not_burn_the_nonce() {
    let em = start().await;
    let mut forged = AlibabaCall::new("Echo", &[]);
    forged.forged_signature = Some("f".repeat(64));
    let (status, _) = alibaba_answer(forged.send(&em).await.unwrap()).await;
    assert_eq!(status, 403);
    let mut genuine = AlibabaCall::new("Echo", &[]);
    genuine.nonce = forged.nonce.clone();
    let (status, body) = alibaba_answer(genuine.send(&em).await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    em.shutdown().await;
}

#[tokio::test]
async fn alibaba_sts_token_is_required_when_configured() {
    let em = builder()
        .alibaba_credentials("STS.testkey", "sts-secret")
        .alibaba_security_token("sts-token")
        .start()
        .await
        .unwrap();
    let mut call = AlibabaCall::new("Echo", &[]);
    call.access_key_id = "STS.testkey".into();
    call.access_key_secret = "sts-secret".into();
    call.security_token = Some("sts-token".into());
    let (status, body) = alibaba_answer(call.send(&em).await.unwrap()).await;
    assert_eq!(status, 200, "{body}");

    let mut without = call.clone();
    without.nonce = "another-nonce".into();
    without.security_token = None;
    let (status, body) = alibaba_answer(without.send(&em).await.unwrap()).await;
    assert_eq!(status, 400);
    assert_eq!(body["Code"], "InvalidSecurityToken.MismatchWithAccessKey");
    em.shutdown().await;
}

#[tokio::test]
async fn unsigned_calls_pass_when_verification_is_off() {
    let em = builder().verify_signatures(false).start().await.unwrap();
    let mut call = TencentCall::new("CreateListener", json!({"InstanceId": "ins-1"}));
    call.unsigned = true;
    assert_eq!(tencent_code(call.send(&em).await.unwrap()).await, None);
    let response = client()
        .post(format!("{}/?InstanceId=ins-1", em.url()))
        .header("x-acs-action", "CreateListener")
        .header("x-acs-version", ALI_VERSION)
        .send()
        .await
        .unwrap();
    let (status, _) = alibaba_answer(response).await;
    assert_eq!(status, 200);
    assert_eq!(created_on(&em, TC_API), 1);
    assert_eq!(created_on(&em, ALI_API), 1);
    em.shutdown().await;
}
