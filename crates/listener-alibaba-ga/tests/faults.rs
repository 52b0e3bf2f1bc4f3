//! Faults the emulator injects on purpose: lost answers, throttling, a busy
//! accelerator, failed asynchronous tasks, slow tasks. Each shows that a
//! write is never doubled and that every wait ends.

mod common;

use std::time::Duration;

use common::{builder, Setup, ACC};
use listener_core::{Adapter, Error, ListenerSpec, Ports, Protocol, Provider, WaitConfig};
use listener_emulator::{Fault, FaultRule, Timing};
use serde_json::json;

fn tcp(name: &str, port: u32) -> ListenerSpec {
    ListenerSpec::new(name, Protocol::Tcp, Ports::Single(port))
}

#[tokio::test]
async fn lost_create_answer_leaves_exactly_one_listener() {
    let setup =
        Setup::start(builder().fault_rule(FaultRule::new(Fault::LostAnswer).service("ga").action("CreateListener")))
            .await;
    let made = setup
        .provider
        .create(&tcp("once", 7000))
        .await
        .expect("create despite the lost answer");
    assert_eq!(made.len(), 1);
    assert_eq!(setup.emu.fault_counts().lost_answer, 1, "the fault fired");
    assert!(
        setup.provider.client().api().stats().retries >= 1,
        "the create was sent again"
    );
    // The repeat carried the same ClientToken, so GA returned the first
    // listener instead of making a second.
    assert_eq!(setup.count(), 1);
    let listed = setup.provider.list().await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, made[0].id);
    setup.shutdown().await;
}

#[tokio::test]
async fn lost_update_and_delete_answers_are_repeated_safely() {
    let setup = Setup::start(builder()).await;
    let l = setup.provider.create(&tcp("a", 7001)).await.expect("create").remove(0);
    setup
        .emu
        .faults()
        .push_rule(FaultRule::new(Fault::LostAnswer).service("ga").action("UpdateListener"));
    let mut desired = l.spec.clone();
    desired.ports = Ports::Single(7002);
    let moved = setup
        .provider
        .update(&l, &desired)
        .await
        .expect("update despite the lost answer");
    assert_eq!(moved.spec.ports.as_single(), Some(7002));
    setup
        .emu
        .faults()
        .push_rule(FaultRule::new(Fault::LostAnswer).service("ga").action("DeleteListener"));
    setup
        .provider
        .delete(&l.id)
        .await
        .expect("delete despite the lost answer");
    assert_eq!(setup.emu.fault_counts().lost_answer, 2);
    assert_eq!(setup.count(), 0);
    setup.shutdown().await;
}

#[tokio::test]
async fn throttled_create_is_retried() {
    let setup = Setup::start(
        builder().fault_rule(
            FaultRule::new(Fault::Throttle)
                .service("ga")
                .action("CreateListener")
                .times(2),
        ),
    )
    .await;
    setup
        .provider
        .create(&tcp("t", 7010))
        .await
        .expect("create after throttling");
    assert_eq!(setup.emu.fault_counts().throttle, 2);
    assert!(setup.provider.client().api().stats().throttled >= 2);
    assert_eq!(setup.count(), 1);
    setup.shutdown().await;
}

#[tokio::test]
async fn server_errors_while_waiting_are_polled_through() {
    let setup = Setup::start(
        builder().fault_rule(
            FaultRule::new(Fault::ServerError)
                .service("ga")
                .action("DescribeListener")
                .times(3),
        ),
    )
    .await;
    let made = setup.provider.create(&tcp("s", 7020)).await.expect("create");
    assert_eq!(made.len(), 1);
    assert_eq!(setup.emu.fault_counts().server_error, 3);
    setup.shutdown().await;
}

#[tokio::test]
async fn busy_accelerator_is_waited_out_with_the_same_token() {
    // A slow create started outside the adapter keeps the accelerator busy.
    let setup = Setup::start(builder().timing(Timing {
        create: Duration::from_millis(400),
        update: Duration::from_millis(30),
        delete: Duration::from_millis(30),
    }))
    .await;
    setup
        .raw_create(json!({"Protocol": "tcp", "PortRanges": [{"FromPort": 7030, "ToPort": 7030}]}))
        .await
        .expect("first create");
    let made = setup
        .provider
        .create(&tcp("second", 7031))
        .await
        .expect("create after StateError.Accelerator");
    assert_eq!(made.len(), 1);
    assert_eq!(setup.count(), 2);
    setup.shutdown().await;
}

#[tokio::test]
async fn failed_create_task_is_reported_and_leaves_nothing() {
    let setup = Setup::start(builder().fault_rule(FaultRule::new(Fault::TaskFailure).service("ga"))).await;
    match setup.provider.create(&tcp("f", 7040)).await {
        Err(Error::TaskFailed { task, .. }) => assert!(task.starts_with("lsr-")),
        other => panic!("expected TaskFailed, got {other:?}"),
    }
    assert_eq!(setup.count(), 0);
    setup.shutdown().await;
}

#[tokio::test]
async fn failed_update_task_is_reported_and_old_config_kept() {
    let setup = Setup::start(builder()).await;
    let l = setup
        .provider
        .create(&tcp("before", 7050))
        .await
        .expect("create")
        .remove(0);
    setup
        .emu
        .faults()
        .push_rule(FaultRule::new(Fault::TaskFailure).service("ga"));
    let mut desired = l.spec.clone();
    desired.name = "after".into();
    match setup.provider.update(&l, &desired).await {
        Err(Error::TaskFailed { message, .. }) => assert!(message.contains("name"), "{message}"),
        other => panic!("expected TaskFailed, got {other:?}"),
    }
    let now = setup.provider.get(&l.id).await.expect("get");
    assert_eq!(now.spec.name, "before");
    setup.shutdown().await;
}

#[tokio::test]
async fn failed_delete_task_is_reported() {
    let setup = Setup::start(builder()).await;
    let l = setup
        .provider
        .create(&tcp("keep", 7060))
        .await
        .expect("create")
        .remove(0);
    setup
        .emu
        .faults()
        .push_rule(FaultRule::new(Fault::TaskFailure).service("ga"));
    assert!(matches!(
        setup.provider.delete(&l.id).await,
        Err(Error::TaskFailed { .. })
    ));
    assert_eq!(setup.count(), 1);
    setup.shutdown().await;
}

/// A provider on `setup`'s emulator whose wait deadline is ten minutes:
/// a wait that runs to the deadline shows as the test's own bound (one
/// minute) running out, with no timing assertion on the normal path.
fn patient_provider(setup: &Setup) -> listener_alibaba_ga::GaProvider {
    let mut profile = setup.profile.clone();
    profile.wait = Some(WaitConfig::uniform(600, 5));
    listener_alibaba_ga::GaProvider::from_profile(&profile).expect("provider")
}

/// The next task fails, and the first status poll after the write arrives
/// only once that task is over: the listener is never seen busy.
fn fail_before_the_first_poll(setup: &Setup) {
    let faults = setup.emu.faults();
    faults.push_rule(FaultRule::new(Fault::TaskFailure).service("ga"));
    faults.push_rule(
        FaultRule::new(Fault::Slow(Duration::from_millis(300)))
            .service("ga")
            .action("DescribeListener"),
    );
}

/// Regression (found by the workspace's fault soak): an update whose task
/// failed before the first poll leaves the listener `active` and unchanged,
/// never `updating`. The adapter took that for "not started yet" and
/// polled until the whole wait deadline; now it reports the failed task
/// after a short grace.
#[tokio::test]
async fn update_that_fails_before_the_first_poll_is_reported_without_waiting_out_the_deadline() {
    let setup = Setup::start(builder()).await;
    let provider = patient_provider(&setup);
    let l = provider.create(&tcp("before", 7080)).await.expect("create").remove(0);
    fail_before_the_first_poll(&setup);
    let mut desired = l.spec.clone();
    desired.name = "after".into();
    let outcome = tokio::time::timeout(Duration::from_secs(60), provider.update(&l, &desired))
        .await
        .expect("the update ends without waiting out its deadline");
    match outcome {
        Err(Error::TaskFailed { message, .. }) => assert!(message.contains("name"), "{message}"),
        other => panic!("expected TaskFailed, got {other:?}"),
    }
    assert_eq!(provider.get(&l.id).await.expect("get").spec.name, "before");
    setup.shutdown().await;
}

/// The same for a delete: `active` throughout, never `deleting`.
#[tokio::test]
async fn delete_that_fails_before_the_first_poll_is_reported_without_waiting_out_the_deadline() {
    let setup = Setup::start(builder()).await;
    let provider = patient_provider(&setup);
    let l = provider.create(&tcp("keep", 7090)).await.expect("create").remove(0);
    fail_before_the_first_poll(&setup);
    let outcome = tokio::time::timeout(Duration::from_secs(60), provider.delete(&l.id))
        .await
        .expect("the delete ends without waiting out its deadline");
    assert!(matches!(outcome, Err(Error::TaskFailed { .. })), "{outcome:?}");
    assert_eq!(setup.count(), 1);
    setup.shutdown().await;
}

#[tokio::test]
async fn a_task_longer_than_the_wait_times_out() {
    let emu = builder()
        .timing(Timing {
            create: Duration::from_secs(60),
            update: Duration::from_secs(60),
            delete: Duration::from_secs(60),
        })
        .start()
        .await
        .expect("emulator");
    let mut profile = common::profile(&emu.url());
    // GA's own create default is 15 minutes; the profile's create limit
    // of one second decides, the shared one is not set.
    profile.wait = Some(WaitConfig {
        create_secs: Some(1),
        poll_interval_ms: 50,
        ..WaitConfig::default()
    });
    let provider = listener_alibaba_ga::GaProvider::from_profile(&profile).expect("provider");
    match provider.create(&tcp("slow", 7070)).await {
        Err(Error::Timeout {
            op,
            operation,
            after,
            setting,
            ..
        }) => {
            assert!(operation.contains("creation"), "{operation}");
            assert_eq!(op, listener_core::WaitOp::Create);
            assert_eq!(after, Duration::from_secs(1));
            assert_eq!(setting, "wait.create_secs");
        }
        other => panic!("expected Timeout, got {other:?}"),
    }
    // The listener exists (still init); a later run would find it by port.
    assert_eq!(emu.listener_counts()["alibaba-ga"][ACC], 1);
    emu.shutdown().await;
}

/// A provider whose client takes tokens from `source`.
fn provider_with_tokens(
    profile: &listener_core::ProfileConfig,
    source: std::sync::Arc<dyn alibaba_api::TokenSource>,
) -> listener_alibaba_ga::GaProvider {
    let creds = alibaba_api::Credentials::new(
        listener_emulator::DEFAULT_ALIBABA_ACCESS_KEY_ID,
        listener_core::Secret::new(listener_emulator::DEFAULT_ALIBABA_ACCESS_KEY_SECRET),
        None,
        "test",
    )
    .expect("credentials");
    let mut config = alibaba_api::ClientConfig::new(&listener_alibaba_ga::config::GA, "cn-hangzhou", creds);
    config.endpoint = profile.endpoint.clone();
    config.allow_insecure_http = true;
    config.rate_limit_per_second = 500.0;
    config.token_source = source;
    let client = alibaba_api::AlibabaClient::new(config).expect("client");
    listener_alibaba_ga::GaProvider::with_client(profile, client).expect("provider")
}

#[tokio::test]
async fn every_logical_write_takes_a_token_of_its_own() {
    let setup = Setup::start(builder()).await;
    // Distinct tokens per operation: create, create, update, delete all pass,
    // each token reused only by the retries of its own operation.
    let seq = alibaba_api::token::SequenceTokens::new("ga-test").expect("prefix");
    let p = provider_with_tokens(&setup.profile, std::sync::Arc::new(seq));
    let a = p.create(&tcp("a", 7100)).await.expect("create a").remove(0);
    p.create(&tcp("b", 7101)).await.expect("create b");
    let mut desired = a.spec.clone();
    desired.name = "a2".into();
    p.update(&a, &desired).await.expect("update");
    p.delete(&a.id).await.expect("delete");
    assert_eq!(setup.count(), 1);

    // Why it matters: a token that outlived its operation makes GA refuse
    // the next one instead of acting.
    let fixed = alibaba_api::token::FixedToken(alibaba_api::ClientToken::new("stale").expect("token"));
    let q = provider_with_tokens(&setup.profile, std::sync::Arc::new(fixed));
    q.create(&tcp("c", 7102)).await.expect("first use of the token");
    match q.create(&tcp("d", 7103)).await {
        Err(e) => assert_eq!(
            (e.kind(), e.vendor_code()),
            ("conflict", Some("IdempotentParameterMismatch"))
        ),
        Ok(l) => panic!("a reused token must not create {l:?}"),
    }
    assert_eq!(setup.count(), 2);
    setup.shutdown().await;
}
