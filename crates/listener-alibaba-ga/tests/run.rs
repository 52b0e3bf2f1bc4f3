//! A run of creates (`Provider::create_each`, as apply hands GA its creates):
//! each create confirmed, with about one call per listener, a failed one
//! reported failed while the others are made, and a stop between creates.

mod common;

use std::sync::Mutex;

use common::{builder, Setup};
use listener_core::{CreateTurns, Error, Listener, ListenerSpec, Ports, Protocol, Provider, Result};
use listener_emulator::{Fault, FaultRule};

fn tcp(i: u32) -> ListenerSpec {
    ListenerSpec::new(format!("l{i}"), Protocol::Tcp, Ports::Single(7000 + i))
}

/// Apply's side, recorded: creates from `stop_at` on may not start.
struct Recorded {
    stop_at: usize,
    outcomes: Mutex<Vec<Option<Result<Vec<Listener>>>>>,
}

impl Recorded {
    fn new(n: usize, stop_at: usize) -> Self {
        Recorded {
            stop_at,
            outcomes: Mutex::new((0..n).map(|_| None).collect()),
        }
    }

    fn take(self) -> Vec<Option<Result<Vec<Listener>>>> {
        self.outcomes.into_inner().expect("outcomes")
    }
}

impl CreateTurns for Recorded {
    fn may_start(&self, index: usize) -> bool {
        index < self.stop_at
    }

    fn ended(&self, index: usize, outcome: Result<Vec<Listener>>) {
        let mut all = self.outcomes.lock().expect("outcomes");
        assert!(all[index].is_none(), "create {index} reported twice");
        all[index] = Some(outcome);
    }
}

/// Every request the emulator received.
fn calls(setup: &Setup) -> u64 {
    setup
        .emu
        .request_counts()
        .values()
        .flat_map(|actions| actions.values())
        .map(|c| c.requests)
        .sum()
}

/// `DescribeListener` requests the emulator received.
fn single_reads(setup: &Setup) -> u64 {
    setup
        .emu
        .request_counts()
        .values()
        .filter_map(|actions| actions.get("DescribeListener"))
        .map(|c| c.requests)
        .sum()
}

#[tokio::test]
async fn a_run_is_confirmed_by_listings_with_the_read_back_of_a_describe() {
    let setup = Setup::start(builder()).await;
    let specs: Vec<ListenerSpec> = (0..20).map(tcp).collect();
    let turns = Recorded::new(specs.len(), usize::MAX);
    setup.provider.create_each(&specs, &turns).await;
    let outcomes = turns.take();
    assert_eq!(setup.count(), specs.len());
    let made = calls(&setup);
    let describes = single_reads(&setup);
    for (spec, outcome) in specs.iter().zip(outcomes) {
        let listener = outcome.expect("started").expect("made").remove(0);
        assert_eq!(listener.spec.ports, spec.ports);
        assert!(listener.status.is_settled());
        // The listing's read-back is the describe's.
        assert_eq!(setup.provider.get(&listener.id).await.expect("get"), listener);
    }
    // A create each, one listing per two, and the first create's polls
    // (the only listener read alone: their number does not grow with the
    // run).
    assert!(
        made < 2 * specs.len() as u64,
        "{made} calls for {} creates",
        specs.len()
    );
    assert!(describes < 10, "{describes} single reads for {} creates", specs.len());
    let listings = setup
        .emu
        .request_counts()
        .values()
        .filter_map(|a| a.get("ListListeners"))
        .map(|c| c.requests)
        .sum::<u64>();
    assert!(listings >= 1, "confirmed by listing");
    setup.shutdown().await;
}

#[tokio::test]
async fn a_failed_create_in_a_run_is_reported_and_the_others_are_made() {
    // The third create's task fails: GA drops the listener.
    let setup = Setup::start(
        builder().fault_rule(
            FaultRule::new(Fault::TaskFailure)
                .service("ga")
                .action("CreateListener")
                .skip(2)
                .times(1),
        ),
    )
    .await;
    let specs: Vec<ListenerSpec> = (0..5).map(tcp).collect();
    let turns = Recorded::new(specs.len(), usize::MAX);
    setup.provider.create_each(&specs, &turns).await;
    let outcomes = turns.take();
    assert_eq!(setup.emu.fault_counts().task_failure, 1, "the fault fired");
    for (i, outcome) in outcomes.into_iter().enumerate() {
        match (i, outcome.expect("started")) {
            (2, Err(e)) => assert!(matches!(e, Error::TaskFailed { .. }), "{e:?}"),
            (2, Ok(made)) => panic!("the failed create was reported made: {made:?}"),
            (_, r) => assert_eq!(r.expect("made").len(), 1),
        }
    }
    assert_eq!(setup.count(), specs.len() - 1);
    setup.shutdown().await;
}

#[tokio::test]
async fn a_stopped_run_sends_nothing_more_and_confirms_what_it_sent() {
    let setup = Setup::start(builder()).await;
    let specs: Vec<ListenerSpec> = (0..6).map(tcp).collect();
    let turns = Recorded::new(specs.len(), 4);
    setup.provider.create_each(&specs, &turns).await;
    let outcomes = turns.take();
    for (i, outcome) in outcomes.into_iter().enumerate() {
        if i < 4 {
            assert!(outcome.expect("started").is_ok());
        } else {
            assert!(outcome.is_none(), "create {i} was not to start");
        }
    }
    assert_eq!(setup.count(), 4);
    assert!(setup
        .provider
        .list()
        .await
        .expect("list")
        .iter()
        .all(|l| l.status.is_settled()));
    setup.shutdown().await;
}

/// Regression: a listener with additional certificates (a route naming its
/// own certificate) created in a run, after the first create, was sent the
/// pipelined way, which associates nothing: its host was served the
/// default certificate and the next plan showed the certificate missing.
/// It is now created the plain way, certificates included.
#[tokio::test]
async fn a_listener_with_host_certificates_in_a_run_gets_them() {
    let setup = Setup::start(builder()).await;
    let mut site = common::https_spec("site", 443);
    site.backend = Some("web".into());
    let mut api = listener_core::routes::Route::new("api.example.com", "/v1", "web");
    api.certificate = Some("web-2".into());
    site.routes = vec![api];
    let specs = vec![tcp(0), tcp(1), site];
    let turns = Recorded::new(specs.len(), usize::MAX);
    setup.provider.create_each(&specs, &turns).await;
    let made = turns
        .take()
        .pop()
        .expect("three")
        .expect("started")
        .expect("made")
        .remove(0);
    let read_back = setup.provider.get(&made.id).await.expect("get");
    let certified: Vec<(&str, Option<&str>)> = read_back
        .spec
        .routes
        .iter()
        .map(|r| (r.host.as_str(), r.certificate.as_deref()))
        .collect();
    assert_eq!(certified, vec![("api.example.com", Some("web-2"))]);
    setup.shutdown().await;
}
