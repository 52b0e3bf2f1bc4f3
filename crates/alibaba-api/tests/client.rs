//! The client against a scripted server on 127.0.0.1: what goes on the wire,
//! how answers map to errors, and which failures are retried.

mod common;

use std::time::Duration;

use alibaba_api::client::{AlibabaClient, CallOptions, ClientConfig};
use alibaba_api::credentials::Credentials;
use alibaba_api::retry::RetryPolicy;
use alibaba_api::sign::EMPTY_PAYLOAD_HASH;
use alibaba_api::token::ClientToken;
use common::{Reply, TestServer};
use listener_core::{Error, Secret};
use serde_json::json;

const SECRET: &str = "test-secret-Zq8w";

fn keys() -> Credentials {
    Credentials::new("LTAItestkey", Secret::new(SECRET), None, "test").expect("valid keys")
}

fn sts_keys() -> Credentials {
    Credentials::new(
        "STS.testkey",
        Secret::new(SECRET),
        Some(Secret::new("sts-token-Kp3v")),
        "test",
    )
    .expect("valid keys")
}

/// Quick retries so tests finish fast; bounds stay generous so a slow,
/// shared machine never turns into a failure.
fn quick_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        max_elapsed: Duration::from_secs(30),
    }
}

fn client(server: &TestServer, credentials: Credentials, retry: RetryPolicy) -> AlibabaClient {
    client_at(&server.url(), credentials, retry)
}

fn client_at(url: &str, credentials: Credentials, retry: RetryPolicy) -> AlibabaClient {
    let mut config = ClientConfig::new(&common::ALB, "cn-hangzhou", credentials);
    config.endpoint = Some(url.to_string());
    config.allow_insecure_http = true;
    config.rate_limit_per_second = 1000.0;
    config.retry = retry;
    config.request_timeout = Duration::from_secs(10);
    AlibabaClient::new(config).expect("client")
}

fn token() -> ClientToken {
    ClientToken::new("123e4567-e89b-12d3-a456-426655440000").expect("valid token")
}

#[tokio::test]
async fn sends_a_signed_post_with_flattened_query_and_acs_headers() {
    let server = TestServer::start(vec![Reply::ok(
        r#"{"RequestId":"req-1","ListenerId":"lsn-abc","JobId":"job-1"}"#,
    )])
    .await;
    let c = client(&server, keys(), RetryPolicy::none());
    let params = json!({
        "LoadBalancerId": "alb-n5qw04uq8vavfe",
        "ListenerProtocol": "HTTPS",
        "ListenerPort": 443,
        "ListenerDescription": "web listener",
        "CaEnabled": false,
        "Certificates": [{"CertificateId": "103705"}],
        "DefaultActions": [{"Type": "ForwardGroup", "ForwardGroupConfig": {"ServerGroupTuples": [{"ServerGroupId": "sgp-8ilqs4axp6"}]}}],
        "XForwardedForConfig": {"XForwardedForEnabled": true}
    });
    let response = c
        .call("CreateListener", &params, CallOptions::write(token()))
        .await
        .expect("success");
    assert_eq!(response.request_id, "req-1");
    assert_eq!(response.body["ListenerId"], "lsn-abc");

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/");
    // Exactly the factsheet's canonical query: what is signed is what is sent.
    assert_eq!(
        r.query,
        "CaEnabled=false&Certificates.1.CertificateId=103705&ClientToken=123e4567-e89b-12d3-a456-426655440000&DefaultActions.1.ForwardGroupConfig.ServerGroupTuples.1.ServerGroupId=sgp-8ilqs4axp6&DefaultActions.1.Type=ForwardGroup&ListenerDescription=web%20listener&ListenerPort=443&ListenerProtocol=HTTPS&LoadBalancerId=alb-n5qw04uq8vavfe&XForwardedForConfig.XForwardedForEnabled=true"
    );
    assert!(r.body.is_empty());
    assert_eq!(
        r.header("host"),
        Some(format!("127.0.0.1:{}", server.addr.port()).as_str())
    );
    assert_eq!(r.header("x-acs-action"), Some("CreateListener"));
    assert_eq!(r.header("x-acs-version"), Some("2020-06-16"));
    assert_eq!(r.header("x-acs-content-sha256"), Some(EMPTY_PAYLOAD_HASH));
    assert_eq!(r.header("accept"), Some("application/json"));
    let date = r.header("x-acs-date").expect("date header");
    assert_eq!(date.len(), 20, "{date}");
    assert!(date.ends_with('Z') && date.as_bytes()[10] == b'T', "{date}");
    let nonce = r.header("x-acs-signature-nonce").expect("nonce header");
    assert_eq!(nonce.len(), 32);
    assert!(nonce.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(r.header("x-acs-retry-attempts"), None);
    assert_eq!(r.header("x-acs-security-token"), None);
    let auth = r.header("authorization").expect("authorization");
    assert!(auth.starts_with(
        "ACS3-HMAC-SHA256 Credential=LTAItestkey,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature="
    ));
    assert!(r.signature_is_valid(SECRET));
    assert!(!r.signature_is_valid("another-secret"));
    server.stop().await;
}

#[tokio::test]
async fn sts_credentials_send_and_sign_the_token_and_key_id() {
    let server = TestServer::start(vec![Reply::ok(r#"{"RequestId":"req-sts"}"#)]).await;
    let c = client(&server, sts_keys(), RetryPolicy::none());
    c.call(
        "DescribeListener",
        &json!({"RegionId": "cn-hangzhou", "ListenerId": "lsr-1"}),
        CallOptions::read(),
    )
    .await
    .expect("success");
    let r = &server.requests()[0];
    assert_eq!(r.header("x-acs-security-token"), Some("sts-token-Kp3v"));
    assert_eq!(r.header("x-acs-accesskey-id"), Some("STS.testkey"));
    let auth = r.header("authorization").expect("authorization");
    assert!(auth.contains("Credential=STS.testkey,"));
    assert!(auth.contains(
        "SignedHeaders=host;x-acs-accesskey-id;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-security-token;x-acs-signature-nonce;x-acs-version,"
    ));
    assert!(r.signature_is_valid(SECRET));
    assert_eq!(r.query, "ListenerId=lsr-1&RegionId=cn-hangzhou");
    server.stop().await;
}

#[tokio::test]
async fn each_error_answer_maps_to_its_kind() {
    let rows: Vec<(Reply, &str)> = vec![
        (Reply::error(400, "Throttling.User", "r1"), "throttled"),
        (Reply::error(400, "Rejected.Throttling", "r2"), "throttled"),
        (
            Reply::error(400, "SomeCode", "r3").with_header("x-acs-retry-after", "100"),
            "throttled",
        ),
        (Reply::error(403, "SignatureDoesNotMatch", "r4"), "authentication"),
        (Reply::error(404, "InvalidAccessKeyId.NotFound", "r5"), "authentication"),
        (Reply::error(400, "SignatureNonceUsed", "r6"), "authentication"),
        (Reply::error(400, "InvalidTimeStamp.Expired", "r7"), "authentication"),
        (Reply::error(403, "Forbidden.RAM", "r8"), "authentication"),
        (Reply::error(404, "ResourceNotFound.Listener", "r9"), "not_found"),
        (Reply::error(404, "NotExist.Listener", "r10"), "not_found"),
        (Reply::error(400, "ResourceAlreadyExist.Listener", "r11"), "conflict"),
        (Reply::error(400, "PortConflict.Listener", "r12"), "conflict"),
        (Reply::error(400, "IdempotentParameterMismatch", "r13"), "conflict"),
        (Reply::error(400, "IncorrectStatus.LoadBalancer", "r14"), "busy"),
        (Reply::error(400, "IncorrectBusinessStatus.LoadBalancer", "r15"), "busy"),
        (Reply::error(400, "ResourceInConfiguring.Listener", "r16"), "busy"),
        (Reply::error(400, "SystemBusy", "r17"), "busy"),
        (Reply::error(400, "IdempotenceProcessing", "r18"), "busy"),
        (Reply::error(400, "VipStatusNotSupport", "r19"), "busy"),
        (Reply::error(400, "-21020", "r20"), "busy"),
        (Reply::error(400, "-22001", "r21"), "busy"),
        (Reply::error(400, "-22031", "r22"), "busy"),
        (Reply::error(400, "StateError.Accelerator", "r23"), "busy"),
        (Reply::error(400, "NotActive.Listener", "r24"), "busy"),
        (Reply::error(500, "InternalError", "r25"), "transport"),
        (Reply::error(503, "ServiceUnavailable", "r26"), "transport"),
        (Reply::error(502, "BadGateway", "r27"), "transport"),
        (Reply::error(400, "InvalidParameter", "r28"), "vendor"),
        (Reply::error(400, "QuotaExceeded.Listener", "r29"), "vendor"),
        (Reply::ok("this is not json"), "transport"),
        (
            Reply::Answer {
                status: 502,
                headers: Vec::new(),
                body: "<html>bad gateway</html>".to_string(),
            },
            "transport",
        ),
        (
            Reply::Answer {
                status: 429,
                headers: vec![("x-acs-retry-after".to_string(), "50".to_string())],
                body: String::new(),
            },
            "throttled",
        ),
    ];
    let server = TestServer::start(rows.iter().map(|(r, _)| r.clone()).collect()).await;
    let c = client(&server, keys(), RetryPolicy::none());
    for (i, (reply, expected)) in rows.iter().enumerate() {
        let err = c
            .call(
                "GetListenerAttribute",
                &json!({"ListenerId": "lsn-1"}),
                CallOptions::default(),
            )
            .await
            .expect_err("an error answer");
        assert_eq!(err.kind(), *expected, "row {i}: {reply:?} gave {err:?}");
        if let Reply::Answer { body, .. } = reply {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(body) {
                if let Some(code) = v["Code"].as_str() {
                    match &err {
                        Error::NotFound { what, .. } => assert!(what.contains(code)),
                        Error::Transport { maybe_applied, .. } => assert!(maybe_applied),
                        other => assert_eq!(other.vendor_code(), Some(code), "row {i}"),
                    }
                }
            }
        }
    }
    assert_eq!(server.requests().len(), rows.len());
    let stats = c.stats();
    assert_eq!(stats.calls, rows.len() as u64);
    assert_eq!(stats.failures, rows.len() as u64);
    assert_eq!(stats.retries, 0);
    server.stop().await;
}

#[tokio::test]
async fn throttling_with_retry_after_is_waited_out_then_succeeds() {
    let server = TestServer::start(vec![
        Reply::error(400, "Throttling.User", "req-t").with_header("x-acs-retry-after", "20"),
        Reply::ok(r#"{"RequestId":"req-ok","Listeners":[]}"#),
    ])
    .await;
    let c = client(&server, keys(), quick_retries(3));
    let response = c
        .call(
            "ListListeners",
            &json!({"LoadBalancerIds": ["alb-1"]}),
            CallOptions::read(),
        )
        .await
        .expect("success after throttling");
    assert_eq!(response.request_id, "req-ok");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].header("x-acs-retry-attempts"), None);
    assert_eq!(requests[1].header("x-acs-retry-attempts"), Some("1"));
    // The vendor's wait was used as the delay.
    assert_eq!(requests[1].header("x-acs-retry-delay"), Some("20"));
    assert!(requests[1].signature_is_valid(SECRET));
    let stats = c.stats();
    assert_eq!(
        (stats.attempts, stats.retries, stats.throttled, stats.failures),
        (2, 1, 1, 0)
    );
    server.stop().await;
}

#[tokio::test]
async fn lost_answer_on_a_create_with_a_client_token_is_retried_with_the_same_token() {
    let server = TestServer::start(vec![
        Reply::Drop,
        Reply::ok(r#"{"RequestId":"req-2","ListenerId":"lsn-1","JobId":"job-1"}"#),
    ])
    .await;
    let c = client(&server, keys(), quick_retries(3));
    let response = c
        .call(
            "CreateListener",
            &json!({"LoadBalancerId": "alb-1", "ListenerPort": 80, "ListenerProtocol": "HTTP"}),
            CallOptions::write(token()),
        )
        .await
        .expect("the retry succeeds");
    assert_eq!(response.body["ListenerId"], "lsn-1");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let tokens: Vec<_> = requests.iter().map(|r| r.param("ClientToken")).collect();
    assert_eq!(tokens[0].as_deref(), Some(token().as_str()));
    assert_eq!(tokens[0], tokens[1]);
    let nonces: Vec<_> = requests
        .iter()
        .map(|r| r.header("x-acs-signature-nonce").map(str::to_string))
        .collect();
    assert_ne!(nonces[0], nonces[1], "every attempt needs a fresh nonce");
    assert!(requests.iter().all(|r| r.signature_is_valid(SECRET)));
    assert_eq!(c.stats().retries, 1);
    server.stop().await;
}

#[tokio::test]
async fn lost_answer_on_a_write_without_token_is_not_retried() {
    let server = TestServer::start(vec![Reply::Drop, Reply::ok(r#"{"RequestId":"never"}"#)]).await;
    let c = client(&server, keys(), quick_retries(3));
    let err = c
        .call(
            "CreateListener",
            &json!({"LoadBalancerId": "alb-1", "ListenerPort": 80}),
            CallOptions::default(),
        )
        .await
        .expect_err("the lost answer surfaces");
    match err {
        Error::Transport {
            maybe_applied, vendor, ..
        } => {
            assert!(maybe_applied, "the vendor may have created the listener");
            assert_eq!(vendor, "alibaba-alb");
        }
        other => panic!("expected Transport, got {other:?}"),
    }
    assert_eq!(server.requests().len(), 1);
    assert_eq!(c.stats().retries, 0);
    server.stop().await;
}

#[tokio::test]
async fn lost_answer_on_an_idempotent_read_is_retried() {
    let server = TestServer::start(vec![Reply::Drop, Reply::ok(r#"{"RequestId":"req-r"}"#)]).await;
    let c = client(&server, keys(), quick_retries(3));
    let response = c
        .call(
            "GetListenerAttribute",
            &json!({"ListenerId": "lsn-1"}),
            CallOptions::read(),
        )
        .await
        .expect("retried read succeeds");
    assert_eq!(response.request_id, "req-r");
    assert_eq!(server.requests().len(), 2);
    assert_eq!(server.requests()[1].param("ClientToken"), None);
    server.stop().await;
}

#[tokio::test]
async fn refused_connection_is_transport_never_applied_and_retried_within_bounds() {
    // Take a free port, then release it so nothing listens there.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let c = client_at(&format!("http://{addr}"), keys(), quick_retries(2));
    let err = c
        .call("CreateListener", &json!({"ListenerPort": 80}), CallOptions::default())
        .await
        .expect_err("nothing listens");
    match err {
        Error::Transport { maybe_applied, .. } => assert!(!maybe_applied),
        other => panic!("expected Transport, got {other:?}"),
    }
    let stats = c.stats();
    assert_eq!((stats.attempts, stats.retries, stats.failures), (2, 1, 1));
}

#[tokio::test]
async fn busy_answers_are_retried_until_attempts_run_out() {
    let server = TestServer::start(vec![
        Reply::error(400, "IncorrectStatus.LoadBalancer", "b1"),
        Reply::error(400, "IdempotenceProcessing", "b2"),
        Reply::error(400, "SystemBusy", "b3"),
        Reply::ok(r#"{"RequestId":"unreached"}"#),
    ])
    .await;
    let c = client(&server, keys(), quick_retries(3));
    let err = c
        .call(
            "UpdateListenerAttribute",
            &json!({"ListenerId": "lsn-1", "GzipEnabled": false}),
            CallOptions::write(token()),
        )
        .await
        .expect_err("still busy after three attempts");
    assert_eq!(err.kind(), "busy");
    assert_eq!(err.vendor_code(), Some("SystemBusy"));
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    let retry_headers: Vec<_> = requests.iter().map(|r| r.header("x-acs-retry-attempts")).collect();
    assert_eq!(retry_headers, vec![None, Some("1"), Some("2")]);
    server.stop().await;
}

#[tokio::test]
async fn non_retryable_errors_are_returned_at_once() {
    let server = TestServer::start(vec![
        Reply::error(400, "PortConflict.Listener", "c1"),
        Reply::ok(r#"{"RequestId":"unreached"}"#),
    ])
    .await;
    let c = client(&server, keys(), quick_retries(5));
    let err = c
        .call(
            "CreateListener",
            &json!({"ListenerPort": 80}),
            CallOptions::write(token()),
        )
        .await
        .expect_err("conflict");
    assert_eq!(err.kind(), "conflict");
    assert_eq!(server.requests().len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn dry_run_sends_the_flag_and_treats_dry_run_operation_as_success() {
    let server = TestServer::start(vec![
        Reply::error(400, "DryRunOperation", "req-dry"),
        Reply::error(400, "DryRunOperation", "req-not-asked"),
    ])
    .await;
    let c = client(&server, keys(), RetryPolicy::none());
    let response = c
        .call(
            "CreateListener",
            &json!({"ListenerPort": 80}),
            CallOptions {
                dry_run: true,
                ..CallOptions::write(token())
            },
        )
        .await
        .expect("a passed dry run is a success");
    assert_eq!(response.request_id, "req-dry");
    assert_eq!(response.body["Code"], "DryRunOperation");
    assert_eq!(server.requests()[0].param("DryRun").as_deref(), Some("true"));

    // The same answer to a call that did not ask for a dry run is an error.
    let err = c
        .call("CreateListener", &json!({"ListenerPort": 80}), CallOptions::default())
        .await
        .expect_err("unexpected dry-run answer");
    assert_eq!(err.vendor_code(), Some("DryRunOperation"));
    assert_eq!(server.requests()[1].param("DryRun"), None);
    server.stop().await;
}

#[tokio::test]
async fn clones_share_counters() {
    let server = TestServer::start(vec![
        Reply::ok(r#"{"RequestId":"a"}"#),
        Reply::ok(r#"{"RequestId":"b"}"#),
    ])
    .await;
    let c = client(&server, keys(), RetryPolicy::none());
    let clone = c.clone();
    c.call("ListListeners", &serde_json::Value::Null, CallOptions::read())
        .await
        .expect("ok");
    clone
        .call("ListListeners", &serde_json::Value::Null, CallOptions::read())
        .await
        .expect("ok");
    assert_eq!(c.stats().calls, 2);
    assert_eq!(clone.stats().attempts, 2);
    // No parameters: an empty query, still correctly signed.
    let r = &server.requests()[0];
    assert_eq!(r.query, "");
    assert!(r.signature_is_valid(SECRET));
    server.stop().await;
}

#[test]
fn new_client_token_comes_from_the_configured_source() {
    let mut config = ClientConfig::new(&common::GA, "cn-hangzhou", keys());
    config.token_source = std::sync::Arc::new(alibaba_api::token::SequenceTokens::new("op").expect("valid prefix"));
    let c = AlibabaClient::new(config).expect("client");
    assert_eq!(c.endpoint(), "https://ga.cn-hangzhou.aliyuncs.com/");
    assert_eq!(c.new_client_token().as_str(), "op-1");
    assert_eq!(c.clone().new_client_token().as_str(), "op-2");
}

#[test]
fn plain_http_endpoint_is_refused_unless_allowed() {
    let mut config = ClientConfig::new(&common::ALB, "cn-hangzhou", keys());
    config.endpoint = Some("http://127.0.0.1:9".to_string());
    match AlibabaClient::new(config.clone()) {
        Err(Error::Config { field, .. }) => assert_eq!(field, "endpoint"),
        other => panic!("expected a Config error, got {other:?}"),
    }
    config.allow_insecure_http = true;
    assert!(AlibabaClient::new(config).is_ok());
}
