//! The client against a recording HTTP server on 127.0.0.1.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use listener_core::{Error, InlineCredentials, ProfileConfig, Secret};
use serde_json::json;
use support::{config_for, Reply, TestServer, SECRET_ID, SECRET_KEY, TOKEN};
use tencent_api::credentials::LoadContext;
use tencent_api::{parse_authorization, sign, ClientConfig, Credentials, RetryPolicy, SignInput, TencentClient};

/// Every test is bounded in time, whatever the client does.
async fn bounded<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .expect("test finished in time")
}

fn client(config: ClientConfig) -> TencentClient {
    TencentClient::new(config).expect("valid config")
}

#[tokio::test]
async fn request_has_exactly_the_sdk_headers_and_a_signature_sign_reproduces() {
    let server = TestServer::start(vec![Reply::ok("rid-1", json!({"TotalCount": 0, "ListenerSet": []}))]).await;
    let mut config = config_for(&server.url(), Credentials::new(SECRET_ID, SECRET_KEY).with_token(TOKEN));
    config.region = Some("ap-guangzhou".into());
    let c = client(config);

    let params = json!({"ProxyId": "link-cuxw2rm0", "Limit": 20});
    let answer = bounded(c.call("DescribeTCPListeners", &params, true))
        .await
        .expect("success");
    assert_eq!(answer.request_id, "rid-1");
    assert_eq!(answer.body["TotalCount"], 0);

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/");
    assert_eq!(r.body, br#"{"ProxyId":"link-cuxw2rm0","Limit":20}"#);

    // Our headers, and only the transport's own besides them.
    let names: BTreeSet<&str> = r.headers.iter().map(|(n, _)| n.as_str()).collect();
    let expected: BTreeSet<&str> = [
        "host",
        "content-type",
        "x-tc-action",
        "x-tc-version",
        "x-tc-timestamp",
        "x-tc-region",
        "x-tc-token",
        "x-tc-language",
        "x-tc-requestclient",
        "authorization",
        // Added by the HTTP stack: length, and the encodings we decode.
        "content-length",
        "accept",
        "accept-encoding",
    ]
    .into_iter()
    .collect();
    assert_eq!(names, expected);
    assert_eq!(r.headers.len(), expected.len(), "no header is repeated");

    let host = server.addr.to_string();
    assert_eq!(r.header("host"), Some(host.as_str()));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("x-tc-action"), Some("DescribeTCPListeners"));
    assert_eq!(r.header("x-tc-version"), Some("2018-05-29"));
    assert_eq!(r.header("x-tc-region"), Some("ap-guangzhou"));
    assert_eq!(r.header("x-tc-token"), Some(TOKEN));
    assert_eq!(r.header("x-tc-language"), Some("en-US"));
    assert!(r.header("x-tc-requestclient").is_some_and(|v| !v.is_empty()));
    let encodings = r.header("accept-encoding").expect("accept-encoding");
    assert!(encodings.contains("gzip"), "{encodings}");

    let authorization = r.header("authorization").expect("authorization");
    let parsed = parse_authorization(authorization).expect("TC3 header");
    assert_eq!(parsed.secret_id, SECRET_ID);
    assert_eq!(parsed.service, "gaap");
    assert_eq!(parsed.signed_headers, ["content-type", "host"]);

    let timestamp: i64 = r
        .header("x-tc-timestamp")
        .expect("timestamp")
        .parse()
        .expect("decimal seconds");
    let headers = [
        ("content-type", r.header("content-type").expect("content-type")),
        ("host", r.header("host").expect("host")),
    ];
    let expected_sig = sign(
        &SignInput {
            method: &r.method,
            path: &r.path,
            query: "",
            headers: &headers,
            payload: &r.body,
            service: "gaap",
            timestamp,
        },
        SECRET_ID,
        SECRET_KEY,
    );
    assert_eq!(authorization, expected_sig.authorization);
    assert_eq!(parsed.date, tencent_api::sign::utc_date(timestamp));
}

#[tokio::test]
async fn region_and_token_headers_are_left_out_when_unset() {
    let server = TestServer::start(vec![Reply::ok("rid", json!({}))]).await;
    let mut config = config_for(&server.url(), Credentials::new(SECRET_ID, SECRET_KEY));
    config.language = Some("zh-CN".into());
    let c = client(config);
    bounded(c.call("DescribeHTTPListeners", &serde_json::Value::Null, true))
        .await
        .expect("success");
    let r = &server.requests()[0];
    assert_eq!(r.header("x-tc-region"), None);
    assert_eq!(r.header("x-tc-token"), None);
    assert_eq!(r.header("x-tc-language"), Some("zh-CN"));
    assert_eq!(r.body, b"{}");
}

#[tokio::test]
async fn error_envelopes_map_to_error_kinds() {
    let cases: &[(&str, &str)] = &[
        ("RequestLimitExceeded", "throttled"),
        ("RequestLimitExceeded.UinLimitExceeded", "throttled"),
        ("AuthFailure.SignatureFailure", "authentication"),
        ("AuthFailure.SignatureExpire", "authentication"),
        ("ResourceNotFound", "not_found"),
        ("InvalidParameter.LBIdNotFound", "not_found"),
        ("InvalidParameter.ListenerIdNotFound", "not_found"),
        ("InvalidParameterValue.DuplicatedListenerPort", "conflict"),
        ("InvalidParameter.PortCheckFailed", "conflict"),
        ("FailedOperation.ResourceInOperating", "busy"),
        ("FailedOperation.ListenerHasTask", "busy"),
        ("ResourceInUse", "busy"),
        ("ResourceUnavailable", "busy"),
        ("ResourceUnavailable.AccountViolation", "vendor"),
        ("InternalError", "transport"),
        ("ServiceUnavailable", "transport"),
        ("LimitExceeded", "vendor"),
        ("AuthFailure.UnauthorizedOperation", "vendor"),
    ];
    let replies = cases
        .iter()
        .enumerate()
        .map(|(i, (code, _))| Reply::error(code, "some message", &format!("rid-{i}")))
        .collect();
    let server = TestServer::start(replies).await;
    let mut config = config_for(&server.url(), Credentials::new(SECRET_ID, SECRET_KEY));
    config.retry = RetryPolicy::none();
    let c = client(config);

    for (i, (code, kind)) in cases.iter().enumerate() {
        let e = bounded(c.call("CreateHTTPListener", &json!({"Port": 80}), false))
            .await
            .expect_err("error envelope");
        assert_eq!(e.kind(), *kind, "{code}");
        match &e {
            Error::Transport { maybe_applied, .. } => assert!(*maybe_applied, "{code}"),
            Error::NotFound { vendor, .. } => assert_eq!(*vendor, "tencent-gaap"),
            _ => {
                assert_eq!(e.vendor_code(), Some(*code));
            }
        }
        if let Error::Vendor { request_id, .. } | Error::Conflict { request_id, .. } = &e {
            assert_eq!(request_id, &format!("rid-{i}"));
        }
    }
    assert_eq!(server.requests().len(), cases.len());
    assert_eq!(c.stats().retries, 0);
}

#[tokio::test]
async fn throttled_then_busy_then_ok_is_retried_and_succeeds() {
    let server = TestServer::start(vec![
        Reply::error("RequestLimitExceeded", "too fast", "r1"),
        Reply::error("FailedOperation.ResourceInOperating", "task running", "r2"),
        Reply::ok("r3", json!({"ListenerIds": ["lbl-1"]})),
    ])
    .await;
    let c = client(config_for(&server.url(), Credentials::new(SECRET_ID, SECRET_KEY)));
    // Not idempotent: throttled and busy answers are retried anyway,
    // because the vendor did not act on them.
    let answer = bounded(c.call("CreateListener", &json!({"Ports": [443]}), false))
        .await
        .expect("success after retries");
    assert_eq!(answer.request_id, "r3");
    assert_eq!(answer.body["ListenerIds"][0], "lbl-1");
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    // Each attempt is signed on its own, over the same body.
    assert!(requests.iter().all(|r| r.body == requests[0].body));
    let stats = c.stats();
    assert_eq!((stats.calls, stats.attempts, stats.retries), (1, 3, 2));
}

#[tokio::test]
async fn maybe_applied_transport_failure_on_a_non_idempotent_call_is_not_retried() {
    let server = TestServer::start(vec![Reply::Hangup, Reply::ok("r2", json!({}))]).await;
    let c = client(config_for(&server.url(), Credentials::new(SECRET_ID, SECRET_KEY)));
    let e = bounded(c.call("CreateHTTPListener", &json!({"Port": 80}), false))
        .await
        .expect_err("answer lost");
    assert!(
        matches!(
            e,
            Error::Transport {
                maybe_applied: true,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(server.requests().len(), 1);
    assert_eq!(c.stats().retries, 0);
}

#[tokio::test]
async fn maybe_applied_transport_failure_is_retried_when_idempotent() {
    let server = TestServer::start(vec![Reply::Hangup, Reply::ok("r2", json!({"TotalCount": 1}))]).await;
    let c = client(config_for(&server.url(), Credentials::new(SECRET_ID, SECRET_KEY)));
    let answer = bounded(c.call("DescribeHTTPListeners", &json!({}), true))
        .await
        .expect("second attempt answers");
    assert_eq!(answer.request_id, "r2");
    assert_eq!(server.requests().len(), 2);
    assert_eq!(c.stats().retries, 1);
}

#[tokio::test]
async fn non_200_status_is_a_maybe_applied_transport_fault() {
    let server = TestServer::start(vec![Reply::Status(502, "bad gateway".into())]).await;
    let c = client(config_for(&server.url(), Credentials::new(SECRET_ID, SECRET_KEY)));
    let e = bounded(c.call("CreateHTTPListener", &json!({}), false))
        .await
        .expect_err("502");
    assert!(
        matches!(
            e,
            Error::Transport {
                maybe_applied: true,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn unparseable_answer_is_a_maybe_applied_transport_fault() {
    let server = TestServer::start(vec![Reply::Json("<html>oops</html>".into())]).await;
    let c = client(config_for(&server.url(), Credentials::new(SECRET_ID, SECRET_KEY)));
    let e = bounded(c.call("CreateHTTPListener", &json!({}), false))
        .await
        .expect_err("not JSON");
    assert!(
        matches!(
            e,
            Error::Transport {
                maybe_applied: true,
                ..
            }
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn connection_refused_is_not_applied_and_retried_even_for_writes() {
    // A port that was just free: bind, note, release.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let url = format!("http://127.0.0.1:{port}/");
    let c = client(config_for(&url, Credentials::new(SECRET_ID, SECRET_KEY)));
    let e = bounded(c.call("CreateHTTPListener", &json!({}), false))
        .await
        .expect_err("nothing listens");
    assert!(
        matches!(
            e,
            Error::Transport {
                maybe_applied: false,
                ..
            }
        ),
        "{e:?}"
    );
    let stats = c.stats();
    assert_eq!((stats.attempts, stats.retries), (4, 3));
}

#[tokio::test]
async fn gzip_answers_are_decoded() {
    let body = json!({"Response": {"ListenerId": "listener-9", "RequestId": "rz"}}).to_string();
    let server = TestServer::start(vec![Reply::Gzip(body)]).await;
    let c = client(config_for(&server.url(), Credentials::new(SECRET_ID, SECRET_KEY)));
    let answer = bounded(c.call("CreateHTTPListener", &json!({}), false))
        .await
        .expect("decoded");
    assert_eq!(answer.body["ListenerId"], "listener-9");
}

#[tokio::test]
async fn clones_share_counters() {
    let server = TestServer::start(vec![Reply::ok("a", json!({})), Reply::ok("b", json!({}))]).await;
    let c = client(config_for(&server.url(), Credentials::new(SECRET_ID, SECRET_KEY)));
    let d = c.clone();
    bounded(c.call("DescribeTCPListeners", &json!({}), true))
        .await
        .expect("ok");
    bounded(d.call("DescribeTCPListeners", &json!({}), true))
        .await
        .expect("ok");
    assert_eq!(c.stats().calls, 2);
    assert_eq!(d.stats().attempts, 2);
}

#[tokio::test]
async fn bad_call_input_is_a_typed_error_without_a_request() {
    let server = TestServer::start(vec![]).await;
    let c = client(config_for(&server.url(), Credentials::new(SECRET_ID, SECRET_KEY)));
    for (action, params, field) in [
        ("", json!({}), "action"),
        ("Describe Listeners", json!({}), "action"),
        ("DescribeListeners", json!([1, 2]), "params"),
    ] {
        match bounded(c.call(action, &params, true)).await {
            Err(Error::Config { field: f, .. }) => assert_eq!(f, field),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(server.requests().is_empty());
}

#[test]
fn unusable_configurations_are_refused_naming_the_field() {
    let base = || {
        let mut c = ClientConfig::new(
            "tencent-clb",
            "clb",
            "2018-03-17",
            Credentials::new(SECRET_ID, SECRET_KEY),
        );
        c.endpoint = tencent_api::Endpoint::Url("http://127.0.0.1:9/".into());
        c.allow_insecure_http = true;
        c
    };
    let field_of = |config: ClientConfig| match TencentClient::new(config) {
        Err(Error::Config { field, .. }) => field,
        other => panic!("expected a config error, got {other:?}"),
    };

    let mut c = base();
    c.allow_insecure_http = false;
    assert_eq!(field_of(c), "endpoint");

    let mut c = base();
    c.rate_limit_per_second = 0.0;
    assert_eq!(field_of(c), "rate_limit_per_second");

    let mut c = base();
    c.retry.max_attempts = 0;
    assert_eq!(field_of(c), "retry.max_attempts");

    let mut c = base();
    c.region = Some("ap-\nguangzhou".into());
    assert_eq!(field_of(c), "region");

    let mut c = base();
    c.credentials = Credentials::new("", SECRET_KEY);
    assert_eq!(field_of(c), "credentials.secret_id");

    let mut c = base();
    c.request_timeout = Duration::ZERO;
    assert_eq!(field_of(c), "request_timeout");

    assert!(TencentClient::new(base()).is_ok());
}

#[tokio::test]
async fn from_profile_uses_the_profile_endpoint_region_and_credentials() {
    let server = TestServer::start(vec![Reply::ok("rp", json!({}))]).await;
    let mut profile = ProfileConfig::new("tencent-clb", "lb-1");
    profile.endpoint = Some(server.url());
    profile.allow_insecure_http = true;
    profile.region = Some("ap-shanghai".into());
    profile.rate_limit_per_second = Some(100.0);
    profile.inline_credentials = Some(InlineCredentials {
        key_id: SECRET_ID.into(),
        secret: Secret::new(SECRET_KEY),
        token: None,
    });
    let env = |_: &str| None;
    let ctx = LoadContext { env: &env, home: None };
    let config = ClientConfig::from_profile(&profile, "clb", "2018-03-17", "tencent-clb", &ctx).expect("config");
    assert_eq!(config.rate_limit_per_second, 100.0);
    let c = client(config);
    assert_eq!(c.region(), Some("ap-shanghai"));
    bounded(c.call("DescribeListeners", &json!({"LoadBalancerId": "lb-1"}), true))
        .await
        .expect("ok");
    let r = &server.requests()[0];
    assert_eq!(r.header("x-tc-region"), Some("ap-shanghai"));
    assert_eq!(r.header("x-tc-version"), Some("2018-03-17"));
    let parsed = parse_authorization(r.header("authorization").expect("auth")).expect("TC3");
    assert_eq!(parsed.service, "clb");
}
