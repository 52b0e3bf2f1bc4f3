//! The SecretKey, the session token and the Authorization header must not
//! show up in logs, `Debug` output or error messages.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use support::{config_for, Reply, TestServer, SECRET_ID, SECRET_KEY, TOKEN};
use tencent_api::{Credentials, TencentClient};
use tracing_subscriber::fmt::format::FmtSpan;

/// A `MakeWriter` collecting everything into one buffer.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("capture lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

// A current-thread runtime keeps every poll on this thread, where the
// capturing subscriber is installed.
#[tokio::test(flavor = "current_thread")]
async fn secret_key_token_and_signature_appear_in_no_log_debug_or_error() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(FmtSpan::FULL)
        .with_ansi(false)
        .with_writer(capture.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = TestServer::start(vec![
        Reply::error("RequestLimitExceeded", "slow", "r1"),
        Reply::ok("r2", json!({"ListenerId": "listener-1"})),
        Reply::error("AuthFailure.SignatureFailure", "bad signature", "r3"),
        Reply::error("InvalidParameterValue", "bad value", "r4"),
        Reply::Hangup,
    ])
    .await;
    let mut config = config_for(&server.url(), Credentials::new(SECRET_ID, SECRET_KEY).with_token(TOKEN));
    config.region = Some("ap-guangzhou".into());
    let config_debug = format!("{config:?}");
    let client = TencentClient::new(config).expect("valid config");

    let mut texts = vec![config_debug, format!("{client:?}")];
    let ok = tokio::time::timeout(
        Duration::from_secs(30),
        client.call("CreateHTTPListener", &json!({"Port": 80}), false),
    )
    .await
    .expect("in time")
    .expect("success after a throttle");
    texts.push(format!("{ok:?}"));
    for _ in 0..3 {
        let e = tokio::time::timeout(
            Duration::from_secs(30),
            client.call("CreateHTTPListener", &json!({"Port": 80}), false),
        )
        .await
        .expect("in time")
        .expect_err("failure");
        texts.push(format!("{e}"));
        texts.push(format!("{e:?}"));
    }
    texts.push(format!(
        "{:?}",
        Credentials::new(SECRET_ID, SECRET_KEY).with_token(TOKEN)
    ));

    let logs = String::from_utf8(capture.0.lock().expect("capture lock").clone()).expect("utf-8 logs");
    // The capture really saw the calls: span fields and retry events.
    assert!(logs.contains("CreateHTTPListener"), "{logs}");
    assert!(logs.contains("request_id"), "{logs}");
    assert!(logs.contains("retrying"), "{logs}");
    assert!(logs.contains("ap-guangzhou"), "{logs}");
    texts.push(logs);

    let signatures: Vec<String> = server
        .requests()
        .iter()
        .filter_map(|r| r.header("authorization").map(str::to_string))
        .filter_map(|a| tencent_api::parse_authorization(&a).map(|p| p.signature))
        .collect();
    assert_eq!(signatures.len(), 5);

    for text in &texts {
        assert!(!text.contains(SECRET_KEY), "secret key leaked in: {text}");
        assert!(!text.contains(TOKEN), "token leaked in: {text}");
        for signature in &signatures {
            assert!(!text.contains(signature.as_str()), "signature leaked in: {text}");
        }
    }
}
