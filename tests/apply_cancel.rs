//! Cancelling apply (what the CLI does on Ctrl-C): no step starts after
//! the flag is set, the steps not started are reported, and a replacement
//! whose delete ran is still recreated. Against the emulator on 127.0.0.1;
//! the flag is set from the progress callback, so the point of the cancel
//! is exact and nothing is timed.
#![cfg(all(feature = "alibaba-ga", feature = "tencent-clb"))]

mod common;

use cloud_listeners::plan::{self, ApplyOptions, Cancel, Event, Step};
use cloud_listeners::{provider_from_profile, ListenerSpec, Ports, Protocol};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_step_starts_after_cancel_and_the_rest_is_reported() {
    let emu = common::start().await;
    let provider = provider_from_profile(&common::profile("alibaba-ga", &emu.url())).expect("provider");
    let specs: Vec<ListenerSpec> = (0..5)
        .map(|i| ListenerSpec::new(format!("l{i}"), Protocol::Tcp, Ports::Single(7000 + i)))
        .collect();
    let planned = plan::plan(provider.as_ref(), &specs, false).await.expect("plan");
    let cancel = Cancel::default();
    let options = ApplyOptions {
        cancel: cancel.clone(),
        ..ApplyOptions::default()
    };
    let on_event = |e: Event| {
        if matches!(e, Event::Finished { .. }) {
            cancel.cancel();
        }
    };
    let report = plan::apply(provider.clone(), &planned, &options, &on_event)
        .await
        .expect("apply runs");
    // GA writes one at a time: the first create finished, then nothing started.
    assert_eq!(report.done, 1);
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    let not_started: Vec<&str> = report.not_started.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(not_started, vec!["l1", "l2", "l3", "l4"]);
    assert!(report.not_started.iter().all(|s| s.verb == "create"));
    assert_eq!(provider.list().await.expect("list").len(), 1);

    // And the rest is what a new plan finds to do.
    let again = plan::plan(provider.as_ref(), &specs, false).await.expect("plan");
    assert_eq!(again.summary().create, 4);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replacement_whose_delete_ran_is_recreated_despite_cancel() {
    let emu = common::start().await;
    let provider = provider_from_profile(&common::profile("tencent-clb", &emu.url())).expect("provider");
    let old = ListenerSpec::new("svc", Protocol::Tcp, Ports::Single(9100));
    provider.create(&old).await.expect("created");
    // Another protocol on the same port: CLB cannot change it in place.
    let new = ListenerSpec::new("svc", Protocol::Http, Ports::Single(9100));
    let extra = ListenerSpec::new("extra", Protocol::Tcp, Ports::Single(9101));
    let planned = plan::plan(provider.as_ref(), &[new, extra], false).await.expect("plan");
    assert_eq!(planned.summary().replace, 1);
    assert_eq!(
        plan::steps(&planned),
        vec![
            Step {
                verb: "delete",
                name: "svc".into(),
                ports: "9100".into()
            },
            Step {
                verb: "create",
                name: "svc".into(),
                ports: "9100".into()
            },
            Step {
                verb: "create",
                name: "extra".into(),
                ports: "9101".into()
            },
        ]
    );
    let cancel = Cancel::default();
    let options = ApplyOptions {
        allow_replace: true,
        cancel: cancel.clone(),
        ..ApplyOptions::default()
    };
    // Cancel as soon as the old listener is deleted.
    let on_event = |e: Event| {
        if matches!(e, Event::Finished { verb: "delete", .. }) {
            cancel.cancel();
        }
    };
    let report = plan::apply(provider.clone(), &planned, &options, &on_event)
        .await
        .expect("apply runs");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    let not_started: Vec<&str> = report.not_started.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(not_started, vec!["extra"]);
    let left: Vec<(Protocol, Option<u32>)> = provider
        .list()
        .await
        .expect("list")
        .iter()
        .map(|l| (l.spec.protocol, l.spec.ports.as_single()))
        .collect();
    assert_eq!(left, vec![(Protocol::Http, Some(9100))], "the port is not left empty");
    emu.shutdown().await;
}

/// On an adapter that puts several listeners in one call (CLB), a cancel
/// takes effect between calls: the listeners of the call in flight are
/// made, the next call is not sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_stops_between_batched_calls() {
    let emu = common::start().await;
    let provider = provider_from_profile(&common::profile("tencent-clb", &emu.url())).expect("provider");
    let tcp = |name: &str, port: u32| ListenerSpec::new(name, Protocol::Tcp, Ports::Single(port));
    let mut other = tcp("c", 9202);
    other.description = Some("set apart".into());
    let specs = vec![tcp("a", 9200), tcp("b", 9201), other];
    let planned = plan::plan(provider.as_ref(), &specs, false).await.expect("plan");
    let cancel = Cancel::default();
    let options = ApplyOptions {
        cancel: cancel.clone(),
        ..ApplyOptions::default()
    };
    let on_event = |e: Event| {
        if matches!(e, Event::Finished { .. }) {
            cancel.cancel();
        }
    };
    let report = plan::apply(provider.clone(), &planned, &options, &on_event)
        .await
        .expect("apply runs");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.done, 2, "a and b went out in one call");
    let not_started: Vec<&str> = report.not_started.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(not_started, vec!["c"]);
    let mut ports: Vec<Option<u32>> = provider
        .list()
        .await
        .expect("list")
        .iter()
        .map(|l| l.spec.ports.as_single())
        .collect();
    ports.sort();
    assert_eq!(ports, vec![Some(9200), Some(9201)]);
    emu.shutdown().await;
}
