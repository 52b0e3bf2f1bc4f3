//! The secret and the STS token must appear nowhere a person or a log
//! collector can read: tracing output (at every level), `Debug` of the
//! client, its configuration and credentials, and errors.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alibaba_api::client::{AlibabaClient, CallOptions, ClientConfig};
use alibaba_api::credentials::Credentials;
use alibaba_api::retry::RetryPolicy;
use alibaba_api::token::ClientToken;
use common::{Reply, TestServer};
use listener_core::Secret;
use serde_json::json;
use tracing_subscriber::fmt::MakeWriter;

const SECRET: &str = "s3cr3t-VALUE-9f8e7d";
const TOKEN: &str = "st5-TOKEN-VALUE-1a2b3c";

/// Collects everything the subscriber writes.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn secret_and_token_never_reach_logs_debug_or_errors() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(capture.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_ansi(false)
        .finish();
    // The test runs on a current-thread runtime, so a thread-local default
    // sees the client's spans and events.
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = TestServer::start(vec![
        Reply::error(400, "Throttling.User", "req-throttle").with_header("x-acs-retry-after", "5"),
        Reply::ok(r#"{"RequestId":"req-visible-1","ListenerId":"lsn-1"}"#),
        Reply::error(403, "SignatureDoesNotMatch", "req-auth"),
        Reply::Drop,
    ])
    .await;
    let credentials =
        Credentials::new("STS.visible-id", Secret::new(SECRET), Some(Secret::new(TOKEN)), "test").expect("valid");
    let mut config = ClientConfig::new(&common::ALB, "cn-hangzhou", credentials.clone());
    config.endpoint = Some(server.url());
    config.allow_insecure_http = true;
    config.rate_limit_per_second = 1000.0;
    config.retry = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        max_elapsed: Duration::from_secs(30),
    };
    let client = AlibabaClient::new(config.clone()).expect("client");
    let token = ClientToken::new("visible-token-1").expect("valid");

    let ok = client
        .call(
            "CreateListener",
            &json!({"ListenerPort": 443}),
            CallOptions::write(token.clone()),
        )
        .await
        .expect("succeeds after throttling");
    let auth_error = client
        .call(
            "GetListenerAttribute",
            &json!({"ListenerId": "lsn-1"}),
            CallOptions::default(),
        )
        .await
        .expect_err("auth error");
    let lost = client
        .call(
            "DeleteListener",
            &json!({"ListenerId": "lsn-1"}),
            CallOptions::default(),
        )
        .await
        .expect_err("lost answer");

    let requests = server.requests();
    server.stop().await;
    // The token and signature did go on the wire (or this test proves nothing).
    assert_eq!(requests.len(), 4);
    assert_eq!(requests[0].header("x-acs-security-token"), Some(TOKEN));
    let authorization = requests[0].header("authorization").expect("authorization").to_string();
    let signature = authorization
        .rsplit("Signature=")
        .next()
        .expect("signature")
        .to_string();

    let logs = String::from_utf8(capture.0.lock().expect("lock").clone()).expect("utf-8 logs");
    let mut texts = vec![
        ("logs", logs.clone()),
        ("client debug", format!("{client:?}")),
        ("config debug", format!("{config:?}")),
        ("credentials debug", format!("{credentials:?}")),
        ("response debug", format!("{ok:?}")),
    ];
    for (name, err) in [("auth error", &auth_error), ("lost answer", &lost)] {
        texts.push((name, format!("{err}")));
        texts.push((name, format!("{err:?}")));
    }
    for (name, text) in &texts {
        assert!(!text.contains(SECRET), "{name} shows the secret: {text}");
        assert!(!text.contains(TOKEN), "{name} shows the STS token: {text}");
        assert!(!text.contains(&authorization), "{name} shows the Authorization header");
        assert!(!text.contains(&signature), "{name} shows a signature");
    }

    // The logs are not empty: they carry what an operator needs.
    for expected in [
        "alibaba_call",
        "vendor=\"alibaba-alb\"",
        "action=\"CreateListener\"",
        "region=cn-hangzhou",
        "req-visible-1",
        "req-auth",
        "attempt=2",
        "retrying",
        "throttled",
    ] {
        assert!(logs.contains(expected), "logs lack {expected:?}:\n{logs}");
    }
    assert!(format!("{credentials:?}").contains("STS.visible-id"));
    assert!(format!("{credentials:?}").contains("<redacted>"));
}
