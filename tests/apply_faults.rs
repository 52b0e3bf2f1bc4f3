//! Apply under single, scripted faults: what the report says and what a
//! rerun does. The fault soak (`tests/soak.rs`) throws every fault at
//! random; these pin down, one at a time, the cases it found.
#![cfg(feature = "alibaba-alb")]

mod common;

use std::sync::Arc;

use cloud_listeners::plan::{self, ApplyOptions};
use cloud_listeners::{
    provider_from_profile, BackendProtocol, Forwarding, ListenerSpec, Ports, Protocol, Provider, Tls,
};
use listener_emulator::{Fault, FaultRule};

const API: &str = "alibaba-alb";

fn http(name: &str, port: u32) -> ListenerSpec {
    let mut s = ListenerSpec::new(name, Protocol::Http, Ports::Single(port));
    s.forwarding = Some(Forwarding {
        backend_protocol: None,
        default_target: Some("web-servers".into()),
    });
    s
}

/// HTTPS with a second certificate, which ALB adds after creation (a
/// second asynchronous task).
fn https_two_certs(name: &str, port: u32) -> ListenerSpec {
    let mut s = ListenerSpec::new(name, Protocol::Https, Ports::Single(port));
    s.forwarding = Some(Forwarding {
        backend_protocol: Some(BackendProtocol::Http),
        default_target: Some("web-servers".into()),
    });
    s.tls = Some(Tls {
        certificates: vec!["web-cert".into(), "web-cert-ecc".into()],
        policy: None,
        http2: None,
        http3: None,
        sni: None,
        client_auth: None,
    });
    s
}

fn count(emu: &listener_emulator::EmulatorHandle) -> usize {
    let (_, instance) = common::instance_of(API);
    emu.listener_counts()[API][instance]
}

/// Regression (found by the soak): creates go to the adapter as one batch,
/// which stops at its first failure. Apply used to report every listener
/// of the batch as failed with that one error, drop the listeners made
/// before it from the report, and never create those after it, so each
/// rerun got only as far as the next fault. Now the instance is read back
/// after a failed batch: what was made is reported done, and what is
/// missing (here the listener whose job failed, which ALB removed, and
/// the one after it) is created one by one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_create_in_a_batch_does_not_stop_the_others() {
    let emu = common::start().await;
    let provider = provider_from_profile(&common::profile(API, &emu.url())).expect("provider");
    let specs = vec![http("a", 8001), http("b", 8002), http("c", 8003)];
    // The second create's job fails; ALB then removes the listener.
    emu.faults()
        .push_rule(FaultRule::new(Fault::TaskFailure).service(API).skip(1).times(1));

    let planned = plan::plan(provider.as_ref(), &specs, false).await.expect("plan");
    let report = plan::apply(provider.clone(), &planned, &ApplyOptions::default(), &|_| {})
        .await
        .expect("apply runs");
    assert_eq!(emu.fault_counts().task_failure, 1, "the fault happened");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.done, 3);
    let placed: Vec<(usize, Option<u32>)> = report
        .listeners
        .iter()
        .map(|(i, l)| (*i, l.spec.ports.as_single()))
        .collect();
    assert_eq!(placed, vec![(0, Some(8001)), (1, Some(8002)), (2, Some(8003))]);
    assert_eq!(count(&emu), 3);
    let again = plan::plan(provider.as_ref(), &specs, false).await.expect("plan");
    assert!(!again.has_changes(), "{:?}", again.summary());
    emu.shutdown().await;
}

/// A listener of a failed batch that exists but is not as desired (its
/// creation half done: made, but the certificate added afterwards failed)
/// is reported failed, not done; the creates after it still run, and the
/// rerun finishes it with an update.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_made_listener_of_a_failed_batch_is_reported_and_finished_by_the_rerun() {
    let emu = common::start().await;
    let provider = provider_from_profile(&common::profile(API, &emu.url())).expect("provider");
    let specs = vec![https_two_certs("a", 8443), http("b", 8080)];
    // Task 1 creates `a`; task 2 adds its second certificate: that fails.
    emu.faults()
        .push_rule(FaultRule::new(Fault::TaskFailure).service(API).skip(1).times(1));

    let planned = plan::plan(provider.as_ref(), &specs, false).await.expect("plan");
    let report = plan::apply(provider.clone(), &planned, &ApplyOptions::default(), &|_| {})
        .await
        .expect("apply runs");
    let failed: Vec<&str> = report.failed.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(failed, vec!["a"]);
    assert_eq!(report.done, 1);
    assert_eq!(count(&emu), 2);

    let again = plan::plan(provider.as_ref(), &specs, false).await.expect("plan");
    assert_eq!(again.summary().update, 1, "{:?}", again.actions);
    rerun_converges(&provider, &specs, &emu, 2).await;
    emu.shutdown().await;
}

/// The user's next step: apply again; it finishes, and then nothing is left.
async fn rerun_converges(
    provider: &Arc<dyn Provider>,
    specs: &[ListenerSpec],
    emu: &listener_emulator::EmulatorHandle,
    expected: usize,
) {
    let planned = plan::plan(provider.as_ref(), specs, false).await.expect("plan");
    let report = plan::apply(provider.clone(), &planned, &ApplyOptions::default(), &|_| {})
        .await
        .expect("apply runs");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(count(emu), expected);
    let last = plan::plan(provider.as_ref(), specs, false).await.expect("plan");
    assert!(!last.has_changes(), "{:?}", last.summary());
}

/// Regression: a multi-port spec expands into one replacement per port, all
/// sharing the file index. Apply used to key "delete succeeded" by that
/// index, so one successful delete let every sibling's create go ahead,
/// including the one whose delete had failed (its port still taken, so a
/// second, misleading failure). Now only ports that were freed are created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_delete_of_a_replacement_does_not_recreate_that_port() {
    const CLB: &str = "tencent-clb";
    let emu = common::start().await;
    let provider = provider_from_profile(&common::profile(CLB, &emu.url())).expect("provider");
    let ports = Ports::List(vec![
        cloud_listeners::PortEntry::Port(9001),
        cloud_listeners::PortEntry::Port(9002),
    ]);
    let tcp = ListenerSpec::new("svc", Protocol::Tcp, ports.clone());
    provider.create(&tcp).await.expect("two TCP listeners");
    // Same ports, another protocol: CLB cannot change it, so two replacements.
    let http = ListenerSpec::new("svc", Protocol::Http, ports);
    let planned = plan::plan(provider.as_ref(), std::slice::from_ref(&http), false)
        .await
        .expect("plan");
    assert_eq!(planned.summary().replace, 2, "{:?}", planned.actions);

    emu.faults().push_rule(
        FaultRule::new(Fault::TaskFailure)
            .service(CLB)
            .action("DeleteListener")
            .times(1),
    );
    let options = ApplyOptions {
        allow_replace: true,
        ..ApplyOptions::default()
    };
    let report = plan::apply(provider.clone(), &planned, &options, &|_| {})
        .await
        .expect("apply runs");
    assert_eq!(emu.fault_counts().task_failure, 1, "the fault happened");
    assert_eq!(report.failed.len(), 1, "only the failed delete: {:?}", report.failed);
    let mut left: Vec<(Protocol, Option<u32>)> = provider
        .list()
        .await
        .expect("list")
        .iter()
        .map(|l| (l.spec.protocol, l.spec.ports.as_single()))
        .collect();
    left.sort_by_key(|(_, p)| *p);
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left.contains(&(Protocol::Http, Some(9001))) ^ left.contains(&(Protocol::Http, Some(9002))));

    // A rerun finishes the job.
    let again = plan::plan(provider.as_ref(), std::slice::from_ref(&http), false)
        .await
        .expect("plan");
    let rerun = plan::apply(provider.clone(), &again, &options, &|_| {})
        .await
        .expect("rerun");
    assert!(rerun.failed.is_empty(), "{:?}", rerun.failed);
    let last = plan::plan(provider.as_ref(), std::slice::from_ref(&http), false)
        .await
        .expect("plan");
    assert!(!last.has_changes(), "{:?}", last.actions);
    emu.shutdown().await;
}
