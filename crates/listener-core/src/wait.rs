//! The one poller every adapter waits with.
//!
//! All four APIs answer a write at once and do the work afterwards, so every
//! adapter waits: for a task, a job, or a listener's status. What differs
//! between the vendors is only how to read the state and what it means; the
//! deadline, the schedule of polls, the grace for work that never shows, and
//! what to do about a failed read are the same everywhere and live here,
//! once.
//!
//! An adapter holds one [`Waits`] (its profile's settings resolved against
//! the API's documented defaults) and starts a [`Deadline`] per logical
//! write with [`Waits::start`], naming the kind of write ([`WaitOp`]): a
//! create, an update and a delete each have their own limit. To
//! [`Deadline::poll`] it supplies two things:
//! - *read the state*: an async closure making one call (a task status, a
//!   describe, a listing of the instance). It normalises "absent" into its
//!   own value (an `Option`), so a `NotFound` that means "done" or "failed"
//!   is the adapter's choice;
//! - *what the state means*: a closure turning that value into a [`Poll`].
//!
//! **Read errors.** An error [`Error::is_retryable`] calls transient
//! (throttled, busy, transport) is polled through until the deadline: the
//! client has already retried it, but a wait has its own deadline and the
//! next poll is just another look at the same state, so giving up a
//! five-minute wait over one throttled read would only turn a write that
//! will succeed into a reported failure. Any other error (authentication,
//! not found, a vendor error) is returned at once: looking again cannot
//! change it. This is the same for all four adapters.
//!
//! **Schedule.** Polls are calls, and calls are the scarce resource: the
//! account's rate budget is shared with every other tool and person using
//! it. So a wait does not poll at a fixed interval:
//! - it *remembers* how long the same step took before on this provider
//!   (the shortest of the last [`REMEMBERED`] waits that ended well) and
//!   makes its first poll then: a run of similar writes on one instance
//!   (the vendors take one at a time) costs one poll each once the first
//!   has been timed;
//! - when the work is not over at the remembered time, it polls again
//!   after `wait.poll_interval_ms` and then *backs off*: each pause
//!   doubles the time waited since the remembered time, up to [`MAX_GAP`]
//!   (Terraform's vendor providers do the same kind of thing: a first
//!   poll after a few seconds, then every few seconds). A wait of `d`
//!   costs about `log2(d / interval)` polls instead of `d / interval`;
//! - without a memory, it polls after `wait.poll_interval_ms` and then
//!   backs off more gently: each pause is a quarter of the time waited so
//!   far (at least the interval, at most [`MAX_GAP`]), so the end is
//!   noticed at most a quarter late instead of up to as late again. That
//!   costs about `log(d / interval) / log(1.25)` polls, some 3 times the
//!   doubling's, but only once per step and provider: this first wait is
//!   what the memory starts from, and every later wait of the step polls
//!   first at the remembered time, so its precision pays on each of them
//!   (a 1 s create seen done at 1.7 s instead of 1.2 s cost a run of ALB
//!   writes 0.5 s per kind of write; `apply-bench --routes`).
//! - a duration is remembered as the poll that *saw* the work done, which
//!   backing off makes late; so while the remembered duration is more than
//!   half an interval after the last poll that still found the work under
//!   way, a wait first *probes* half way between the two (one more poll if
//!   the work is not over yet, then the remembered time as before). The
//!   gap halves with each probe, and the memory settles within half an
//!   interval of the real duration instead of the first wait's overshoot.
//!
//! **Deadline.** A wait that has not ended by the operation's limit is
//! [`Error::Timeout`] naming the operation, its kind and the setting that
//! set the limit; the last poll is made at the deadline (the sleep before
//! it is cut short), so a short limit still gets its final look.

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::config::{WaitConfig, WaitDefaults, WaitOp, FALLBACK_WAIT_SECS};
use crate::error::Error;

/// What one poll found.
#[derive(Debug)]
pub enum Poll<T> {
    /// The work is over; the wait returns this.
    Done(T),
    /// The work is visibly under way; the text is logged.
    Pending(String),
    /// No sign of the work yet (a new listener not visible, a changed one
    /// still as it was). Polled again for a grace period of at least
    /// [`UNSEEN_POLLS`] polls and [`UNSEEN_GRACE`]; after that the wait
    /// fails with this error.
    NotSeen(Error),
    /// The work failed; the wait returns this error.
    Failed(Error),
}

/// How long a wait may find no sign of the work it waits for before the
/// work counts as failed: at least [`UNSEEN_POLLS`] polls and at least this
/// long. The vendors show accepted work at once (a new listener creating,
/// a change or delete as a busy status), but a task that fails before the
/// first poll leaves no trace: the listener is missing, or as it was.
/// Waiting for a sign would wait out the whole deadline (minutes by
/// default) for the same answer. Found by the fault soak (`tests/soak.rs`
/// of the workspace). A deadline shorter than the grace still ends the
/// wait as [`Error::Timeout`].
pub const UNSEEN_GRACE: Duration = Duration::from_secs(3);
/// Polls that must have found no sign of the work, however long they took.
pub const UNSEEN_POLLS: u32 = 3;
/// The longest pause between two polls of a backing-off wait (or the poll
/// interval, if that is longer): a GA create of fifteen minutes is then
/// looked at every 15 s near its end, noticed at most 15 s late.
pub const MAX_GAP: Duration = Duration::from_secs(15);
/// A wait with nothing remembered pauses a `1 / FIRST_WAIT_STEP` part of
/// the time it has waited (see the module's *Schedule*).
pub const FIRST_WAIT_STEP: u32 = 4;
/// How many past durations of a step are remembered; the shortest is the
/// next first poll, so one slow outlier does not delay the next waits.
pub const REMEMBERED: usize = 5;

/// What one provider's waits learned: for each kind of write and step,
/// how long recent waits took until their work was seen done, and the
/// latest time a poll still found it under way.
#[derive(Debug, Default)]
struct Learned {
    memory: Mutex<BTreeMap<(WaitOp, &'static str), Memory>>,
}

/// The memory of one kind of write and step.
#[derive(Debug, Default)]
struct Memory {
    /// The last [`REMEMBERED`] durations until the work was seen done.
    took: VecDeque<Duration>,
    /// When the latest wait that polled more than once last found the work
    /// under way: the work took longer than that, so the remembered
    /// duration (seen done, after a pause) may be too long by up to the gap
    /// between the two.
    pending_at: Option<Duration>,
}

impl Learned {
    fn memory(&self) -> std::sync::MutexGuard<'_, BTreeMap<(WaitOp, &'static str), Memory>> {
        self.memory.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn estimate(&self, key: (WaitOp, &'static str)) -> Option<Duration> {
        self.memory().get(&key).and_then(|m| m.took.iter().min().copied())
    }

    /// The remembered duration, and a *probe*: an earlier first poll, half
    /// way between the last time the work was seen under way and the
    /// remembered duration, while the two are more than half an `interval`
    /// apart (a whole interval left a 1 s create remembered as 1.11 s at a
    /// 177 ms interval: `apply-bench --multi-profile` 1.11 against 1.06).
    /// A duration is remembered as the poll that *saw* it done, which a
    /// backing-off wait makes late by up to its last pause (a 1 s create
    /// polled at 177, 354, 708 and 1,416 ms is remembered as 1.416 s), and
    /// a wait that polls first at the remembered time always finds the work
    /// done, so without a probe the excess would never be unlearned. A
    /// probe that finds the work done shortens the memory; one that finds
    /// it under way costs one poll and raises the lower bound; either way
    /// the gap halves, and the next poll after a failed probe is at the
    /// remembered time, so a probe never makes a wait longer.
    fn schedule(&self, key: (WaitOp, &'static str), interval: Duration) -> Option<(Duration, Option<Duration>)> {
        let all = self.memory();
        let m = all.get(&key)?;
        let estimate = m.took.iter().min().copied()?;
        let probe = m
            .pending_at
            .filter(|low| estimate > *low + interval / 2)
            .map(|low| low + (estimate - low) / 2);
        Some((estimate, probe))
    }

    fn record(&self, key: (WaitOp, &'static str), took: Duration, pending_at: Option<Duration>) {
        let mut all = self.memory();
        let m = all.entry(key).or_default();
        if m.took.len() == REMEMBERED {
            m.took.pop_front();
        }
        m.took.push_back(took);
        if pending_at.is_some() {
            m.pending_at = pending_at;
        }
    }
}

/// One provider's wait settings, resolved against its API's defaults,
/// and the memory of how long its waits took (see the module's
/// *Schedule*). Clones share the memory.
#[derive(Debug, Clone)]
pub struct Waits {
    config: WaitConfig,
    defaults: WaitDefaults,
    learned: Arc<Learned>,
}

impl PartialEq for Waits {
    /// Equal settings; what was learned is not configuration.
    fn eq(&self, other: &Self) -> bool {
        self.config == other.config && self.defaults == other.defaults
    }
}

impl Waits {
    /// The settings of a profile (checked by [`WaitConfig::check`] first)
    /// under the API's `defaults`.
    pub fn new(config: WaitConfig, defaults: WaitDefaults) -> Self {
        Waits {
            config,
            defaults,
            learned: Arc::default(),
        }
    }

    /// The settings as written.
    pub fn config(&self) -> &WaitConfig {
        &self.config
    }

    /// The API's defaults these settings fall back on.
    pub fn defaults(&self) -> &WaitDefaults {
        &self.defaults
    }

    /// The limit of `op` and the setting that decided it.
    pub fn limit(&self, op: WaitOp) -> (Duration, &'static str) {
        self.config.limit(op, &self.defaults)
    }

    /// The shortest pause between polls (a zero read as 1 ms, so that a
    /// setting that got past [`WaitConfig::check`] never spins).
    pub fn interval(&self) -> Duration {
        Duration::from_millis(self.config.poll_interval_ms.max(1))
    }

    /// A deadline for one logical write of kind `op`, starting now.
    pub fn start(&self, vendor: &'static str, op: WaitOp) -> Deadline {
        let (limit, setting) = self.limit(op);
        Deadline {
            vendor,
            op,
            setting,
            started: Instant::now(),
            limit,
            interval: self.interval(),
            learned: Some(self.learned.clone()),
        }
    }
}

/// One deadline for a logical operation; several waits may share it (a
/// job, then the listener's status; a listener, then its certificates), so
/// the whole operation never waits longer than the profile allows.
#[derive(Debug, Clone)]
pub struct Deadline {
    vendor: &'static str,
    op: WaitOp,
    setting: &'static str,
    started: Instant,
    limit: Duration,
    interval: Duration,
    learned: Option<Arc<Learned>>,
}

impl Deadline {
    /// A deadline of `op` starting now under `wait` alone, with no API
    /// defaults (five minutes unless set) and nothing remembered between
    /// waits: for callers outside an adapter. Adapters use
    /// [`Waits::start`].
    pub fn start(vendor: &'static str, wait: &WaitConfig, op: WaitOp) -> Self {
        let mut d = Waits::new(wait.clone(), WaitDefaults::all(FALLBACK_WAIT_SECS)).start(vendor, op);
        d.learned = None;
        d
    }

    /// The kind of write this deadline is for.
    pub fn op(&self) -> WaitOp {
        self.op
    }

    /// The shortest pause between polls (`wait.poll_interval_ms`).
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// The timeout error for `operation`.
    pub fn timeout(&self, operation: &str) -> Error {
        Error::Timeout {
            vendor: self.vendor,
            op: self.op,
            operation: operation.to_string(),
            after: self.limit,
            setting: self.setting,
        }
    }

    /// The time left, or [`Error::Timeout`] once the deadline has passed.
    pub fn left(&self, operation: &str) -> Result<Duration, Error> {
        let elapsed = self.started.elapsed();
        if elapsed >= self.limit {
            return Err(self.timeout(operation));
        }
        Ok(self.limit - elapsed)
    }

    /// Sleep the shortest poll interval, cut short at the deadline, or
    /// fail with [`Error::Timeout`] once the deadline has passed (for
    /// loops of their own, such as repeating a write the vendor refused as
    /// busy).
    pub async fn pause(&self, operation: &str) -> Result<(), Error> {
        let left = self.left(operation)?;
        tokio::time::sleep(self.interval.min(left)).await;
        Ok(())
    }

    /// How long the wait for `step` of this kind of write took lately on
    /// this provider (the shortest of the remembered durations), if any
    /// ended well: for an adapter that confirms a write by the vendor
    /// accepting the next one on the same instance, the moment to send it.
    pub fn remembered(&self, step: &'static str) -> Option<Duration> {
        self.learned.as_ref().and_then(|l| l.estimate((self.op, step)))
    }

    /// Sleep until `at`, cut short at the deadline; an error naming
    /// `operation` once the deadline has passed.
    pub async fn sleep_until_at(&self, at: Instant, operation: &str) -> Result<(), Error> {
        self.sleep_until(at, operation).await
    }

    /// Sleep until `at`, cut short at the deadline; an error once the
    /// deadline has passed.
    async fn sleep_until(&self, at: Instant, operation: &str) -> Result<(), Error> {
        let left = self.left(operation)?;
        let want = at.saturating_duration_since(Instant::now());
        tokio::time::sleep(want.min(left)).await;
        Ok(())
    }

    /// Poll until `meaning(read())` is done or failed, under this
    /// deadline, on the module's schedule. `step` names what is waited for
    /// within the kind of write (`"listener"`, `"certificates"`): the
    /// memory of durations is kept per kind and step. `operation` names the
    /// wait in logs and in the timeout. Read errors follow the module's
    /// policy: transient ones are polled through, others end the wait.
    pub async fn poll<S, T, R, Fut, M>(
        &self,
        step: &'static str,
        operation: &str,
        mut read: R,
        mut meaning: M,
    ) -> Result<T, Error>
    where
        R: FnMut() -> Fut,
        Fut: Future<Output = Result<S, Error>>,
        M: FnMut(S) -> Poll<T>,
    {
        let key = (self.op, step);
        let since = Instant::now();
        let plan = self.learned.as_ref().and_then(|l| l.schedule(key, self.interval));
        let estimate = plan.map(|(e, _)| e);
        // Offsets from `since`: a probe (see `Learned::schedule`), the
        // remembered duration, then backing off from it (or from the
        // start): +interval, +2 intervals, +4, ...
        let base = estimate.unwrap_or(Duration::ZERO);
        let max_gap = MAX_GAP.max(self.interval);
        let mut next = plan.and_then(|(_, probe)| probe).or(estimate).unwrap_or(self.interval);
        let mut polls: u32 = 0;
        let mut unseen: u32 = 0;
        let mut pending_at: Option<Duration> = None;
        loop {
            self.sleep_until(since + next, operation).await?;
            polls = polls.saturating_add(1);
            let at = since.elapsed();
            match read().await {
                Ok(state) => match meaning(state) {
                    Poll::Done(value) => {
                        if let Some(learned) = &self.learned {
                            learned.record(key, at, pending_at);
                        }
                        tracing::debug!(
                            vendor = self.vendor,
                            operation,
                            polls,
                            took_ms = at.as_millis() as u64,
                            "wait over"
                        );
                        return Ok(value);
                    }
                    Poll::Failed(e) => {
                        tracing::debug!(vendor = self.vendor, operation, polls, kind = e.kind(), "work failed");
                        return Err(e);
                    }
                    Poll::Pending(status) => {
                        pending_at = Some(at);
                        tracing::debug!(
                            vendor = self.vendor,
                            operation,
                            polls,
                            status = status.as_str(),
                            "waiting"
                        );
                    }
                    Poll::NotSeen(e) => {
                        pending_at = Some(at);
                        unseen += 1;
                        if unseen >= UNSEEN_POLLS && since.elapsed() >= UNSEEN_GRACE {
                            return Err(e);
                        }
                        tracing::debug!(vendor = self.vendor, operation, polls, "no sign of the work yet");
                    }
                },
                Err(e) if e.is_retryable() => {
                    tracing::debug!(vendor = self.vendor, operation, error = %e, "poll failed; polling again");
                }
                Err(e) => return Err(e),
            }
            if next < base {
                // A probe found the work under way: next at the remembered time.
                next = base;
            } else if estimate.is_none() {
                next += (next / FIRST_WAIT_STEP).max(self.interval).min(max_gap);
            } else {
                let gap = next.saturating_sub(base).max(self.interval).min(max_gap);
                next += gap;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn wait(ms: u64, secs: u64) -> WaitConfig {
        WaitConfig::uniform(secs, ms)
    }

    fn failed(message: &str) -> Error {
        Error::TaskFailed {
            vendor: "test",
            task: "t-1".into(),
            message: message.into(),
        }
    }

    /// Run a wait named `operation` whose n-th read (from 1) answers
    /// `answer(n)`; the outcome and how many reads were made.
    async fn run<T>(
        operation: &str,
        w: WaitConfig,
        answer: impl Fn(u32) -> Result<u32, Error>,
        meaning: impl FnMut(u32) -> Poll<T>,
    ) -> (Result<T, Error>, u32) {
        let n = Cell::new(0);
        let read = || {
            n.set(n.get() + 1);
            let a = answer(n.get());
            async move { a }
        };
        let outcome = Deadline::start("test", &w, WaitOp::Create)
            .poll("listener", operation, read, meaning)
            .await;
        (outcome, n.get())
    }

    #[tokio::test]
    async fn returns_the_value_once_done() {
        let (got, _) = run("t", wait(1, 5), Ok, |k| {
            if k < 3 {
                Poll::Pending("creating".into())
            } else {
                Poll::Done(k)
            }
        })
        .await;
        assert_eq!(got.expect("done"), 3);
    }

    #[tokio::test]
    async fn times_out_with_the_operation_named() {
        let (err, _) = run::<()>("create of listener x", wait(600, 1), Ok, |_| {
            Poll::Pending("creating".into())
        })
        .await;
        match err {
            Err(Error::Timeout {
                operation,
                after,
                op,
                setting,
                ..
            }) => {
                assert_eq!(operation, "create of listener x");
                assert_eq!(after, Duration::from_secs(1));
                assert_eq!(op, WaitOp::Create);
                assert_eq!(setting, "wait.timeout_secs");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_failed_state_ends_the_wait_with_its_error() {
        let (err, reads) = run::<()>("t", wait(1, 5), Ok, |_| Poll::Failed(failed("boom"))).await;
        assert_eq!(err.expect_err("failed").kind(), "task_failed");
        assert_eq!(reads, 1);
    }

    #[tokio::test]
    async fn transient_read_errors_are_polled_through() {
        let throttled_twice = |n| {
            if n < 3 {
                Err(Error::Throttled {
                    vendor: "test",
                    code: "Throttling".into(),
                    request_id: "r-1".into(),
                    retry_after: None,
                })
            } else {
                Ok(n)
            }
        };
        let (got, _) = run("t", wait(1, 5), throttled_twice, Poll::Done).await;
        assert_eq!(got.expect("polled through"), 3);
    }

    #[tokio::test]
    async fn permanent_read_errors_end_the_wait() {
        let not_found = |_| {
            Err(Error::NotFound {
                vendor: "test",
                what: "listener l-1".into(),
            })
        };
        let (err, reads) = run("t", wait(1, 5), not_found, Poll::Done).await;
        assert_eq!(err.expect_err("permanent").kind(), "not_found");
        assert_eq!(reads, 1, "a permanent error is not read again");
    }

    #[tokio::test]
    async fn unseen_work_fails_after_the_grace_not_before() {
        let (err, reads) = run::<()>("t", wait(1, 60), Ok, |_| Poll::NotSeen(failed("never appeared"))).await;
        assert_eq!(err.expect_err("grace over").kind(), "task_failed");
        // Polled every millisecond: far more than the minimum of polls,
        // which shows the time half of the grace held too.
        assert!(reads > UNSEEN_POLLS, "polled {reads} times");
    }

    #[tokio::test]
    async fn a_shared_deadline_that_has_passed_times_out_the_next_wait() {
        let d = Deadline::start("test", &wait(1, 0), WaitOp::Update);
        let err = d
            .poll::<(), (), _, _, _>(
                "listener",
                "second wait",
                || async { Ok(()) },
                |_| Poll::Pending("x".into()),
            )
            .await
            .expect_err("timeout");
        assert_eq!(err.kind(), "timeout");
    }

    #[test]
    fn wait_settings_refuse_zero_limits_and_zero_interval_by_field() {
        assert!(wait(1000, 300).check().is_ok());
        assert!(WaitConfig::default().check().is_ok());
        let per_op = |create, update, delete| WaitConfig {
            create_secs: create,
            update_secs: update,
            delete_secs: delete,
            ..WaitConfig::default()
        };
        for (w, field) in [
            (wait(10, 0), "wait.timeout_secs"),
            (wait(0, 5), "wait.poll_interval_ms"),
            (per_op(Some(0), None, None), "wait.create_secs"),
            (per_op(Some(5), Some(0), None), "wait.update_secs"),
            (per_op(None, None, Some(0)), "wait.delete_secs"),
        ] {
            match w.check() {
                Err(Error::Config { field: f, .. }) => assert_eq!(f, field),
                other => panic!("expected a config error for {field}, got {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn pause_times_out_after_the_limit_and_a_zero_interval_does_not_spin() {
        match Deadline::start("test", &wait(1, 0), WaitOp::Create)
            .pause("create listener")
            .await
        {
            Err(Error::Timeout { operation, .. }) => assert_eq!(operation, "create listener"),
            other => panic!("expected a timeout, got {other:?}"),
        }
        assert!(Deadline::start("test", &wait(0, 5), WaitOp::Create)
            .pause("x")
            .await
            .is_ok());
    }

    const DEFAULTS: WaitDefaults = WaitDefaults {
        create_secs: 900,
        update_secs: 180,
        delete_secs: 600,
    };

    #[test]
    fn each_operation_takes_its_own_setting_then_the_shared_one_then_the_default() {
        let none = WaitConfig::default();
        assert_eq!(
            none.limit(WaitOp::Create, &DEFAULTS),
            (Duration::from_secs(900), "wait.create_secs")
        );
        assert_eq!(
            none.limit(WaitOp::Update, &DEFAULTS),
            (Duration::from_secs(180), "wait.update_secs")
        );
        assert_eq!(
            none.limit(WaitOp::Delete, &DEFAULTS),
            (Duration::from_secs(600), "wait.delete_secs")
        );
        let shared = WaitConfig {
            timeout_secs: Some(60),
            delete_secs: Some(20),
            ..WaitConfig::default()
        };
        assert_eq!(
            shared.limit(WaitOp::Create, &DEFAULTS),
            (Duration::from_secs(60), "wait.timeout_secs")
        );
        assert_eq!(
            shared.limit(WaitOp::Delete, &DEFAULTS),
            (Duration::from_secs(20), "wait.delete_secs")
        );
    }

    /// A read that answers "pending" until `done_after` has passed since
    /// the wait began, counting its calls.
    async fn timed_wait(waits: &Waits, done_after: Duration) -> u32 {
        let reads = Cell::new(0u32);
        let began = Instant::now();
        waits
            .start("test", WaitOp::Create)
            .poll(
                "listener",
                "create",
                || {
                    reads.set(reads.get() + 1);
                    async { Ok(began.elapsed()) }
                },
                |elapsed| {
                    if elapsed >= done_after {
                        Poll::Done(())
                    } else {
                        Poll::Pending("creating".into())
                    }
                },
            )
            .await
            .expect("done");
        reads.get()
    }

    #[tokio::test]
    async fn a_long_wait_backs_off_instead_of_polling_at_the_interval() {
        let waits = Waits::new(wait(2, 30), DEFAULTS);
        // 400 ms at a 2 ms interval: 200 polls at a fixed interval; backing
        // off by a quarter, 2, 4, 6, 8, 10, 12.5, ... 444 ms: 22 polls at
        // most (fewer if sleeps overshoot).
        let reads = timed_wait(&waits, Duration::from_millis(400)).await;
        assert!(reads <= 22, "{reads} reads");
        // Remembered within a quarter (and the sleeps' own overshoot).
        let took = waits
            .learned
            .estimate((WaitOp::Create, "listener"))
            .expect("remembered");
        assert!(took < Duration::from_millis(520), "{took:?}");
        // Once remembered, work that outlasts the memory is backed off by
        // doubling from the remembered time: 444, +2, +4, +8, ... (not 22
        // more polls).
        let reads = timed_wait(&waits, Duration::from_millis(900)).await;
        assert!(reads <= 12, "{reads} reads");
    }

    #[tokio::test]
    async fn a_remembered_overshoot_is_probed_down() {
        let waits = Waits::new(wait(20, 30), DEFAULTS);
        let key = (WaitOp::Create, "listener");
        // 500 ms of work polled at 20, 40, 60, 80, 100, 125, ... 381, 477
        // (under way) and 596 ms (done): remembered as about 596 ms, under
        // way at about 477 ms.
        timed_wait(&waits, Duration::from_millis(500)).await;
        let first = waits.learned.estimate(key).expect("remembered");
        assert!(first >= Duration::from_millis(500), "{first:?}");
        // The next wait probes half way, finds it done, and remembers that.
        assert_eq!(timed_wait(&waits, Duration::from_millis(500)).await, 1);
        let second = waits.learned.estimate(key).expect("remembered");
        assert!(second < first, "{second:?} after {first:?}");
    }

    #[tokio::test]
    async fn a_repeated_wait_polls_first_when_the_last_one_ended() {
        let waits = Waits::new(wait(20, 30), DEFAULTS);
        // Polled at 20, 40 (under way) and 60 ms (done).
        let first = timed_wait(&waits, Duration::from_millis(50)).await;
        assert!(first >= 2, "the first wait has nothing to go by ({first} reads)");
        // The same work again: one read, at the time the first wait saw it
        // done (sleeps only ever overshoot, so the work is over by then),
        // or at a probe half way between 40 and 60 ms, which finds it done.
        assert_eq!(timed_wait(&waits, Duration::from_millis(50)).await, 1);
        // Another provider's waits learned nothing from this one.
        let other = Waits::new(wait(20, 30), DEFAULTS);
        assert!(timed_wait(&other, Duration::from_millis(50)).await >= 2);
    }
}
