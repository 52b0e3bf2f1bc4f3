//! A run of creates (`Provider::create_each`, as apply hands ALB its
//! creates): each create confirmed, with about one call per plain
//! listener, specs that need more than a create mixed in, a failed create
//! reported with its job's reason while the others are made, a lost answer
//! that makes no second listener, and a stop between creates.

mod common;

use std::sync::Mutex;

use common::*;
use listener_core::{CreateTurns, Error, Listener, ListenerSpec, Provider, Result};
use listener_emulator::services::alb::Alb;
use listener_emulator::{Fault, FaultRule};

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

/// Requests the emulator received, all actions or one.
fn calls(env: &Env, action: Option<&str>) -> u64 {
    env.emulator
        .request_counts()
        .values()
        .flat_map(|actions| actions.iter())
        .filter(|(a, _)| action.is_none_or(|want| want == a.as_str()))
        .map(|(_, c)| c.requests)
        .sum()
}

#[tokio::test]
async fn a_run_is_confirmed_by_listings_with_the_read_back_of_an_attribute_read() {
    let env = Env::start().await;
    let p = env.provider();
    let specs: Vec<ListenerSpec> = (0..20).map(|i| http(8000 + i)).collect();
    let turns = Recorded::new(specs.len(), usize::MAX);
    p.create_each(&specs, &turns).await;
    let outcomes = turns.take();
    let made = calls(&env, None);
    let attributes = calls(&env, Some("GetListenerAttribute"));
    assert_eq!(env.count(), specs.len());
    for (spec, outcome) in specs.iter().zip(outcomes) {
        let listener = outcome.expect("started").expect("made").remove(0);
        assert_eq!(listener.spec.ports, spec.ports);
        assert!(listener.status.is_settled());
        // The listing's read-back is GetListenerAttribute's.
        assert_eq!(p.get(&listener.id).await.expect("get"), listener);
    }
    // A create each, one listing per two, and the first create's polls
    // (the only listener read alone: their number does not grow with the
    // run).
    assert!(
        made < 2 * specs.len() as u64,
        "{made} calls for {} creates",
        specs.len()
    );
    assert!(attributes < 10, "{attributes} single reads for {} creates", specs.len());
    assert!(calls(&env, Some("ListListeners")) >= 1, "confirmed by listing");
    env.stop().await;
}

#[tokio::test]
async fn specs_that_need_more_than_a_create_are_made_the_plain_way_within_a_run() {
    let env = Env::start().await;
    let p = env.provider();
    let specs = vec![
        http(8100),
        http(8101),
        tls_spec(listener_core::Protocol::Https, 8443, &["web", "web-ecc"]),
        http(8102),
        http(8103),
        https(9443),
    ];
    let turns = Recorded::new(specs.len(), usize::MAX);
    p.create_each(&specs, &turns).await;
    for (spec, outcome) in specs.iter().zip(turns.take()) {
        let listener = outcome.expect("started").expect("made").remove(0);
        assert_eq!(listener.spec.ports, spec.ports);
        assert_eq!(p.get(&listener.id).await.expect("get"), listener);
    }
    assert_eq!(env.count(), specs.len());
    env.stop().await;
}

#[tokio::test]
async fn a_failed_create_in_a_run_is_reported_with_its_reason_and_the_others_are_made() {
    // The third create's job fails: ALB removes the listener.
    let faults = vec![FaultRule::new(Fault::TaskFailure)
        .service("alb")
        .action("CreateListener")
        .skip(2)
        .times(1)];
    let env = Env::start_with(faults, Alb::new()).await;
    let p = env.provider();
    let specs: Vec<ListenerSpec> = (0..5).map(|i| http(8200 + i)).collect();
    let turns = Recorded::new(specs.len(), usize::MAX);
    p.create_each(&specs, &turns).await;
    assert_eq!(env.emulator.fault_counts().task_failure, 1, "the fault fired");
    for (i, outcome) in turns.take().into_iter().enumerate() {
        match (i, outcome.expect("started")) {
            (2, Err(e)) => assert!(matches!(e, Error::TaskFailed { .. }), "{e:?}"),
            (2, Ok(made)) => panic!("the failed create was reported made: {made:?}"),
            (_, r) => assert_eq!(r.expect("made").len(), 1),
        }
    }
    assert_eq!(env.count(), specs.len() - 1);
    env.stop().await;
}

#[tokio::test]
async fn a_lost_create_answer_in_a_run_makes_one_listener() {
    // The third create acts but its answer is lost: the client repeats it
    // with the same ClientToken, and ALB answers the first listener.
    let faults = vec![FaultRule::new(Fault::LostAnswer)
        .service("alb")
        .action("CreateListener")
        .skip(2)
        .times(1)];
    let env = Env::start_with(faults, Alb::new()).await;
    let p = env.provider();
    let specs: Vec<ListenerSpec> = (0..5).map(|i| http(8300 + i)).collect();
    let turns = Recorded::new(specs.len(), usize::MAX);
    p.create_each(&specs, &turns).await;
    assert_eq!(env.emulator.fault_counts().lost_answer, 1, "the fault fired");
    for outcome in turns.take() {
        assert_eq!(outcome.expect("started").expect("made").len(), 1);
    }
    assert_eq!(env.count(), specs.len());
    env.stop().await;
}

#[tokio::test]
async fn a_stopped_run_sends_nothing_more_and_confirms_what_it_sent() {
    let env = Env::start().await;
    let p = env.provider();
    let specs: Vec<ListenerSpec> = (0..6).map(|i| http(8400 + i)).collect();
    let turns = Recorded::new(specs.len(), 4);
    p.create_each(&specs, &turns).await;
    for (i, outcome) in turns.take().into_iter().enumerate() {
        if i < 4 {
            assert!(outcome.expect("started").is_ok());
        } else {
            assert!(outcome.is_none(), "create {i} was not to start");
        }
    }
    assert_eq!(env.count(), 4);
    assert!(p.list().await.expect("list").iter().all(|l| l.status.is_settled()));
    env.stop().await;
}
