//! Fault injection: making the emulator misbehave on purpose.
//!
//! A client that only ever met a perfect server has untested retry, timeout
//! and idempotency code. The failures that matter for listeners are few and
//! each one tests a different client decision:
//!
//! | fault | what the client sees | did the call act? |
//! |---|---|---|
//! | [`Fault::Throttle`] | the family's throttling error | no |
//! | [`Fault::ServerError`] | Tencent HTTP 502 without envelope, Alibaba 503 `ServiceUnavailable` | no |
//! | [`Fault::Drop`] | the connection closes without an answer | no |
//! | [`Fault::Slow`] | the answer comes late | yes |
//! | [`Fault::LostAnswer`] | the connection closes without an answer | **yes** |
//! | [`Fault::TaskFailure`] | the call succeeds, its asynchronous task later fails | yes |
//!
//! `Drop` and `LostAnswer` look identical on the wire; only reading back
//! (Tencent) or reusing a `ClientToken` (Alibaba) tells a client which one
//! happened, which is exactly the behaviour these faults exist to test.
//!
//! Faults come from two sources, both changeable while the emulator runs:
//! scripted [`FaultRule`]s, consumed in order (deterministic, for tests),
//! and [`RandomFaults`] drawn from a seeded generator (for soak tests).
//! A scripted rule that takes a call wins over the random draw.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

/// One way to misbehave on one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer the family's throttling error without acting.
    Throttle,
    /// Answer a server failure without acting.
    ServerError,
    /// Close the connection without answering and without acting.
    Drop,
    /// Wait this long, then act and answer normally.
    Slow(Duration),
    /// Act, then close the connection without answering.
    LostAnswer,
    /// Act and answer normally, but the asynchronous task the call starts
    /// ends in failure (the service asks through
    /// [`Context::fail_task`](crate::Context::fail_task)).
    TaskFailure,
}

impl Fault {
    /// The kind, which is what counters and random probabilities use.
    pub fn kind(&self) -> FaultKind {
        match self {
            Fault::Throttle => FaultKind::Throttle,
            Fault::ServerError => FaultKind::ServerError,
            Fault::Drop => FaultKind::Drop,
            Fault::Slow(_) => FaultKind::Slow,
            Fault::LostAnswer => FaultKind::LostAnswer,
            Fault::TaskFailure => FaultKind::TaskFailure,
        }
    }
}

/// The kind of a [`Fault`], without its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FaultKind {
    /// See [`Fault::Throttle`].
    Throttle,
    /// See [`Fault::ServerError`].
    ServerError,
    /// See [`Fault::Drop`].
    Drop,
    /// See [`Fault::Slow`].
    Slow,
    /// See [`Fault::LostAnswer`].
    LostAnswer,
    /// See [`Fault::TaskFailure`].
    TaskFailure,
}

impl FaultKind {
    /// Every kind, in a fixed order.
    pub const ALL: [FaultKind; 6] = [
        FaultKind::Throttle,
        FaultKind::ServerError,
        FaultKind::Drop,
        FaultKind::Slow,
        FaultKind::LostAnswer,
        FaultKind::TaskFailure,
    ];

    /// The snake-case name used in config files and the admin JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Throttle => "throttle",
            FaultKind::ServerError => "server_error",
            FaultKind::Drop => "drop",
            FaultKind::Slow => "slow",
            FaultKind::LostAnswer => "lost_answer",
            FaultKind::TaskFailure => "task_failure",
        }
    }

    /// Parses [`FaultKind::as_str`] back.
    pub fn parse(name: &str) -> Option<FaultKind> {
        FaultKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// A scripted fault: the next `times` matching calls, after `skip` matching
/// calls pass untouched, get `fault`.
///
/// Rules are kept in order. A call belongs to the first rule that matches
/// it and is not used up; that rule either lets it pass (while skipping) or
/// injects its fault. Later rules do not see the call, so several rules for
/// the same action run one after another, and rules for different actions
/// run side by side. A used-up rule disappears.
///
/// [`Fault::TaskFailure`] rules are the exception: they are not matched
/// when a call arrives but when the service asks
/// [`Context::fail_task`](crate::Context::fail_task), so `skip` and `times`
/// count asynchronous tasks, not calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    /// Only calls to this service (`gaap` or API name `tencent-gaap`);
    /// `None` for any.
    pub service: Option<String>,
    /// Only calls of this action; `None` for any.
    pub action: Option<String>,
    /// What happens.
    pub fault: Fault,
    /// How many matching calls get the fault (`u32::MAX` is "always").
    pub times: u32,
    /// How many matching calls pass first.
    pub skip: u32,
}

impl FaultRule {
    /// The fault once, on the next call of any service and action.
    pub fn new(fault: Fault) -> Self {
        FaultRule {
            service: None,
            action: None,
            fault,
            times: 1,
            skip: 0,
        }
    }

    /// Restricts the rule to one service (service or API name).
    pub fn service(mut self, service: impl Into<String>) -> Self {
        self.service = Some(service.into());
        self
    }

    /// Restricts the rule to one action.
    pub fn action(mut self, action: impl Into<String>) -> Self {
        self.action = Some(action.into());
        self
    }

    /// Injects the fault on this many matching calls.
    pub fn times(mut self, times: u32) -> Self {
        self.times = times;
        self
    }

    /// Lets this many matching calls pass before the first injection.
    pub fn skip(mut self, skip: u32) -> Self {
        self.skip = skip;
        self
    }

    fn matches(&self, call: &CallSite<'_>) -> bool {
        let service_ok = self
            .service
            .as_deref()
            .is_none_or(|s| s == call.service || s == call.api);
        let action_ok = self.action.as_deref().is_none_or(|a| a == call.action);
        service_ok && action_ok
    }
}

/// Random faults for soak tests: every call draws once against the
/// per-kind probabilities, from a generator seeded with `seed`, so a run
/// with the same call sequence injects the same faults.
#[derive(Debug, Clone, PartialEq)]
pub struct RandomFaults {
    /// Seed of the generator.
    pub seed: u64,
    /// Probability of [`Fault::Throttle`] per call.
    pub throttle: f64,
    /// Probability of [`Fault::ServerError`] per call.
    pub server_error: f64,
    /// Probability of [`Fault::Drop`] per call.
    pub drop: f64,
    /// Probability of [`Fault::Slow`] per call.
    pub slow: f64,
    /// The delay of a random [`Fault::Slow`].
    pub slow_delay: Duration,
    /// Probability of [`Fault::LostAnswer`] per call.
    pub lost_answer: f64,
    /// Probability that an asynchronous task fails, per task started.
    pub task_failure: f64,
}

impl Default for RandomFaults {
    fn default() -> Self {
        RandomFaults {
            seed: 0,
            throttle: 0.0,
            server_error: 0.0,
            drop: 0.0,
            slow: 0.0,
            slow_delay: Duration::from_millis(200),
            lost_answer: 0.0,
            task_failure: 0.0,
        }
    }
}

impl RandomFaults {
    /// Refuses probabilities outside 0..=1 and per-call probabilities that
    /// add up to more than 1 (one draw decides among them).
    pub fn validate(&self) -> Result<(), String> {
        let all = [
            ("throttle", self.throttle),
            ("server_error", self.server_error),
            ("drop", self.drop),
            ("slow", self.slow),
            ("lost_answer", self.lost_answer),
            ("task_failure", self.task_failure),
        ];
        for (name, p) in all {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("probability `{name}` must be within 0..=1, got {p}"));
            }
        }
        let per_call = self.throttle + self.server_error + self.drop + self.slow + self.lost_answer;
        if per_call > 1.0 + 1e-9 {
            return Err(format!(
                "per-call fault probabilities add up to {per_call}, more than 1"
            ));
        }
        Ok(())
    }

    /// The per-call kinds with their probabilities, in draw order.
    fn per_call(&self) -> [(Fault, f64); 5] {
        [
            (Fault::Throttle, self.throttle),
            (Fault::ServerError, self.server_error),
            (Fault::Drop, self.drop),
            (Fault::Slow(self.slow_delay), self.slow),
            (Fault::LostAnswer, self.lost_answer),
        ]
    }
}

/// How many faults of each kind were injected since start (or the last
/// reset), so a soak test can check its client met every kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FaultCounts {
    /// Throttling answers injected (not counting real rate limiting).
    pub throttle: u64,
    /// Server errors injected.
    pub server_error: u64,
    /// Connections dropped before acting.
    pub drop: u64,
    /// Calls delayed.
    pub slow: u64,
    /// Calls that acted and then lost their answer.
    pub lost_answer: u64,
    /// Asynchronous tasks made to fail.
    pub task_failure: u64,
}

impl FaultCounts {
    /// The count of one kind.
    pub fn get(&self, kind: FaultKind) -> u64 {
        match kind {
            FaultKind::Throttle => self.throttle,
            FaultKind::ServerError => self.server_error,
            FaultKind::Drop => self.drop,
            FaultKind::Slow => self.slow,
            FaultKind::LostAnswer => self.lost_answer,
            FaultKind::TaskFailure => self.task_failure,
        }
    }

    /// All kinds added up.
    pub fn total(&self) -> u64 {
        FaultKind::ALL.into_iter().map(|k| self.get(k)).sum()
    }

    fn bump(&mut self, kind: FaultKind) {
        let slot = match kind {
            FaultKind::Throttle => &mut self.throttle,
            FaultKind::ServerError => &mut self.server_error,
            FaultKind::Drop => &mut self.drop,
            FaultKind::Slow => &mut self.slow,
            FaultKind::LostAnswer => &mut self.lost_answer,
            FaultKind::TaskFailure => &mut self.task_failure,
        };
        *slot = slot.saturating_add(1);
    }
}

/// Who is being called, as rules match it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CallSite<'a> {
    pub(crate) service: &'a str,
    pub(crate) api: &'a str,
    pub(crate) action: &'a str,
}

#[derive(Debug)]
struct RandomState {
    config: RandomFaults,
    rng: StdRng,
}

#[derive(Debug, Default)]
struct FaultState {
    rules: Vec<FaultRule>,
    random: Option<RandomState>,
    counts: FaultCounts,
}

/// Shared control over the faults of a running emulator; cheap to clone.
///
/// Obtained from [`EmulatorHandle::faults`](crate::EmulatorHandle::faults);
/// the admin endpoint `/_emulator/faults` drives the same state.
#[derive(Debug, Clone, Default)]
pub struct FaultControl {
    state: Arc<Mutex<FaultState>>,
}

impl FaultControl {
    /// A control with no rules and no random faults.
    pub fn new() -> Self {
        FaultControl::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FaultState> {
        // A panic while holding the lock leaves consistent data behind (every
        // update is a single assignment), so poisoning is not a reason to stop.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Replaces the scripted rules.
    pub fn set_rules(&self, rules: Vec<FaultRule>) {
        self.lock().rules = rules.into_iter().filter(|r| r.times > 0).collect();
    }

    /// Appends one scripted rule after the existing ones.
    pub fn push_rule(&self, rule: FaultRule) {
        if rule.times > 0 {
            self.lock().rules.push(rule);
        }
    }

    /// The scripted rules not used up yet, with their remaining counts.
    pub fn rules(&self) -> Vec<FaultRule> {
        self.lock().rules.clone()
    }

    /// Replaces the random faults (`None` switches them off) and restarts
    /// the generator from the seed.
    pub fn set_random(&self, random: Option<RandomFaults>) -> Result<(), String> {
        if let Some(r) = &random {
            r.validate()?;
        }
        self.lock().random = random.map(|config| RandomState {
            rng: StdRng::seed_from_u64(config.seed),
            config,
        });
        Ok(())
    }

    /// The random fault settings in force.
    pub fn random(&self) -> Option<RandomFaults> {
        self.lock().random.as_ref().map(|r| r.config.clone())
    }

    /// Removes every rule and the random faults; counters stay.
    pub fn clear(&self) {
        let mut state = self.lock();
        state.rules.clear();
        state.random = None;
    }

    /// Faults injected so far, per kind.
    pub fn counts(&self) -> FaultCounts {
        self.lock().counts
    }

    /// Sets every counter back to zero.
    pub fn reset_counts(&self) {
        self.lock().counts = FaultCounts::default();
    }

    /// Decides the fault of a call that just arrived (authenticated and
    /// within its rate): the first live rule that matches owns the call,
    /// otherwise the random draw decides. Counts what it injects.
    pub(crate) fn on_arrival(&self, call: &CallSite<'_>) -> Option<Fault> {
        let mut state = self.lock();
        let state = &mut *state;
        let owner = state
            .rules
            .iter()
            .position(|r| r.fault != Fault::TaskFailure && r.matches(call));
        let fault = match owner {
            Some(i) => consume(&mut state.rules, i),
            None => state.random.as_mut().and_then(|random| {
                let draw: f64 = random.rng.random();
                let mut edge = 0.0;
                random.config.per_call().into_iter().find_map(|(fault, p)| {
                    edge += p;
                    (p > 0.0 && draw < edge).then_some(fault)
                })
            }),
        };
        if let Some(f) = fault {
            state.counts.bump(f.kind());
        }
        fault
    }

    /// Whether the asynchronous task a call starts must fail: consumes one
    /// matching [`Fault::TaskFailure`] rule, else draws against the random
    /// task-failure probability.
    pub(crate) fn task_should_fail(&self, call: &CallSite<'_>) -> bool {
        let mut state = self.lock();
        let state = &mut *state;
        let owner = state
            .rules
            .iter()
            .position(|r| r.fault == Fault::TaskFailure && r.matches(call));
        let fail = match owner {
            Some(i) => consume(&mut state.rules, i).is_some(),
            None => state.random.as_mut().is_some_and(|random| {
                let p = random.config.task_failure;
                p > 0.0 && random.rng.random::<f64>() < p
            }),
        };
        if fail {
            state.counts.bump(FaultKind::TaskFailure);
        }
        fail
    }
}

/// Applies one matching call to rule `i`: a skip, or one injection (and the
/// rule goes away when used up).
fn consume(rules: &mut Vec<FaultRule>, i: usize) -> Option<Fault> {
    let rule = &mut rules[i];
    if rule.skip > 0 {
        rule.skip -= 1;
        return None;
    }
    let fault = rule.fault;
    rule.times = rule.times.saturating_sub(1);
    if rule.times == 0 {
        rules.remove(i);
    }
    Some(fault)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site<'a>(service: &'a str, api: &'a str, action: &'a str) -> CallSite<'a> {
        CallSite { service, api, action }
    }

    #[test]
    fn rules_for_the_same_call_are_consumed_in_order() {
        let control = FaultControl::new();
        control.set_rules(vec![
            FaultRule::new(Fault::Throttle).times(2),
            FaultRule::new(Fault::Drop),
            FaultRule::new(Fault::ServerError).skip(1),
        ]);
        let call = site("gaap", "tencent-gaap", "CreateHTTPListener");
        let seen: Vec<_> = (0..6).map(|_| control.on_arrival(&call)).collect();
        assert_eq!(
            seen,
            vec![
                Some(Fault::Throttle),
                Some(Fault::Throttle),
                Some(Fault::Drop),
                None,
                Some(Fault::ServerError),
                None
            ]
        );
        assert!(control.rules().is_empty());
        let counts = control.counts();
        assert_eq!((counts.throttle, counts.drop, counts.server_error), (2, 1, 1));
        assert_eq!(counts.total(), 4);
    }

    #[test]
    fn rules_match_service_or_api_name_and_action() {
        let control = FaultControl::new();
        control.set_rules(vec![
            FaultRule::new(Fault::Drop)
                .service("tencent-clb")
                .action("CreateListener"),
            FaultRule::new(Fault::Throttle).service("gaap"),
        ]);
        assert_eq!(control.on_arrival(&site("clb", "tencent-clb", "DeleteListener")), None);
        assert_eq!(control.on_arrival(&site("alb", "alibaba-alb", "CreateListener")), None);
        assert_eq!(
            control.on_arrival(&site("gaap", "tencent-gaap", "DeleteListeners")),
            Some(Fault::Throttle)
        );
        assert_eq!(
            control.on_arrival(&site("clb", "tencent-clb", "CreateListener")),
            Some(Fault::Drop)
        );
    }

    #[test]
    fn task_failure_rules_are_taken_by_tasks_not_by_arrivals() {
        let control = FaultControl::new();
        control.set_rules(vec![FaultRule::new(Fault::TaskFailure)
            .action("CreateListener")
            .skip(1)]);
        let call = site("alb", "alibaba-alb", "CreateListener");
        assert_eq!(control.on_arrival(&call), None);
        assert!(!control.task_should_fail(&call));
        assert!(control.task_should_fail(&call));
        assert!(!control.task_should_fail(&call));
        assert_eq!(control.counts().task_failure, 1);
    }

    #[test]
    fn random_faults_repeat_with_the_same_seed() {
        let random = RandomFaults {
            seed: 7,
            throttle: 0.2,
            drop: 0.2,
            lost_answer: 0.2,
            ..RandomFaults::default()
        };
        let run = || {
            let control = FaultControl::new();
            control.set_random(Some(random.clone())).unwrap();
            let call = site("ga", "alibaba-ga", "CreateListener");
            (0..200).map(|_| control.on_arrival(&call)).collect::<Vec<_>>()
        };
        let first = run();
        assert_eq!(first, run());
        for kind in [Fault::Throttle, Fault::Drop, Fault::LostAnswer] {
            assert!(first.contains(&Some(kind)), "{kind:?} never drawn in 200 calls");
        }
        assert!(first.contains(&None));
    }

    #[test]
    fn scripted_rule_wins_over_random_draw() {
        let control = FaultControl::new();
        control
            .set_random(Some(RandomFaults {
                drop: 1.0,
                ..RandomFaults::default()
            }))
            .unwrap();
        control.push_rule(FaultRule::new(Fault::Throttle));
        let call = site("ga", "alibaba-ga", "DescribeListener");
        assert_eq!(control.on_arrival(&call), Some(Fault::Throttle));
        assert_eq!(control.on_arrival(&call), Some(Fault::Drop));
    }

    #[test]
    fn invalid_probabilities_are_refused() {
        let control = FaultControl::new();
        let too_much = RandomFaults {
            drop: 0.6,
            throttle: 0.6,
            ..RandomFaults::default()
        };
        assert!(control.set_random(Some(too_much)).is_err());
        let negative = RandomFaults {
            task_failure: -0.1,
            ..RandomFaults::default()
        };
        assert!(control.set_random(Some(negative)).is_err());
        assert!(control.random().is_none());
    }

    #[test]
    fn fault_kind_names_round_trip() {
        for kind in FaultKind::ALL {
            assert_eq!(FaultKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(FaultKind::parse("explode"), None);
    }
}
