//! The SecretKey never shows: not in any log line (every level, the
//! emulator's included), not in `Debug` output, not in any error, over real
//! adapter calls against the emulator, successful and failing.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use listener_core::{Adapter, Error, InlineCredentials, ListenerSpec, Ports, Protocol, Provider, Secret};
use listener_emulator::{Fault, FaultRule};
use listener_tencent_gaap::{GaapProvider, API};

const SECRET_ID: &str = "AKIDgaapSecretTest0001";
const SECRET_KEY: &str = "gaapSecretKey-Do-Not-Print-7f3a91c2";

/// Collects everything the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[track_caller]
fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(SECRET_KEY), "the secret key leaked into {what}: {text}");
}

// Current-thread runtime: the emulator's tasks run on this thread too, so
// the thread-local subscriber sees their events as well.
#[tokio::test]
async fn secret_key_appears_in_no_log_debug_output_or_error() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(logs.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let emulator = builder()
        .tencent_credentials(SECRET_ID, SECRET_KEY)
        .fault_rule(
            FaultRule::new(Fault::LostAnswer)
                .service(API)
                .action("CreateHTTPSListener"),
        )
        .start()
        .await
        .expect("emulator");
    let mut profile = profile(&emulator);
    profile.inline_credentials = Some(InlineCredentials {
        key_id: SECRET_ID.into(),
        secret: Secret::new(SECRET_KEY),
        token: None,
    });
    let gaap = GaapProvider::from_profile(&profile).expect("provider");

    // Successful calls, through a lost answer and the read-back after it.
    let made = gaap.create(&https("web", 443)).await.expect("create");
    let mut errors: Vec<Error> = Vec::new();
    // A vendor refusal: the port is taken.
    errors.push(
        gaap.create(&ListenerSpec::new("clash", Protocol::Tcp, Ports::Single(443)))
            .await
            .expect_err("port conflict"),
    );
    // A check refusal.
    errors.push(
        gaap.create(&ListenerSpec::new("quic", Protocol::Quic, Ports::Single(443)))
            .await
            .expect_err("unsupported"),
    );
    // An authentication failure: right ID, wrong key.
    let mut wrong = profile.clone();
    wrong.inline_credentials = Some(InlineCredentials {
        key_id: SECRET_ID.into(),
        secret: Secret::new(format!("{SECRET_KEY}-wrong")),
        token: None,
    });
    let wrong_gaap = GaapProvider::from_profile(&wrong).expect("provider");
    errors.push(wrong_gaap.list().await.expect_err("bad signature"));
    assert!(
        matches!(errors.last(), Some(Error::Authentication { .. })),
        "{errors:?}"
    );
    gaap.delete(&made[0].id).await.expect("delete");

    for e in &errors {
        assert_clean("an error message", &e.to_string());
        assert_clean("an error's Debug", &format!("{e:?}"));
    }
    assert_clean("the provider's Debug", &format!("{gaap:?} {wrong_gaap:?}"));
    assert_clean("the client's Debug", &format!("{:?}", gaap.client()));
    assert_clean("the profile's Debug", &format!("{profile:?} {wrong:?}"));
    assert_clean(
        "the profile as JSON",
        &serde_json::to_string(&profile).expect("profile serialises"),
    );

    emulator.shutdown().await;
    let text = logs.text();
    // The logs are not empty: the calls above were traced.
    assert!(text.contains("CreateHTTPSListener"), "no call was logged: {text}");
    assert!(
        text.contains("adopting"),
        "the lost answer's read-back was not logged: {text}"
    );
    assert_clean("the logs", &text);
}
