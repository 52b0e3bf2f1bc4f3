//! The [`Context`] implementations: the server's, and one for unit tests.
//!
//! A service never sees the fault machinery or the server; it asks its
//! context two questions (how long do tasks take, must this task fail) and
//! the answer comes from the emulator's configuration. That keeps services
//! plain state machines that can be unit-tested without a server, through
//! [`ManualContext`].

use crate::faults::{CallSite, FaultControl};
use crate::service::{Context, Timing};

/// The context the server hands a service for one call: timing from the
/// builder, task failures from the fault rules and random faults.
pub(crate) struct CallContext<'a> {
    pub(crate) timing: &'a Timing,
    pub(crate) faults: &'a FaultControl,
    pub(crate) site: CallSite<'a>,
}

impl Context for CallContext<'_> {
    fn fail_task(&mut self) -> bool {
        self.faults.task_should_fail(&self.site)
    }

    fn timing(&self) -> &Timing {
        self.timing
    }
}

/// A context driven by hand, for unit tests of a service's `handle` without
/// starting a server: set the timing, say how many of the next tasks fail,
/// and read how many tasks the service started.
#[derive(Debug, Clone, Default)]
pub struct ManualContext {
    /// Delays the service reads.
    pub timing: Timing,
    /// The next this-many `fail_task` questions answer `true`.
    pub failing_tasks: u32,
    /// How many times the service asked `fail_task`, i.e. started a task.
    pub tasks_started: u32,
}

impl ManualContext {
    /// A context with this timing and no failing tasks.
    pub fn new(timing: Timing) -> Self {
        ManualContext {
            timing,
            ..ManualContext::default()
        }
    }

    /// The same context with the next `n` tasks failing.
    pub fn failing_tasks(mut self, n: u32) -> Self {
        self.failing_tasks = n;
        self
    }
}

impl Context for ManualContext {
    fn fail_task(&mut self) -> bool {
        self.tasks_started = self.tasks_started.saturating_add(1);
        if self.failing_tasks > 0 {
            self.failing_tasks -= 1;
            true
        } else {
            false
        }
    }

    fn timing(&self) -> &Timing {
        &self.timing
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::{Fault, FaultRule};
    use std::time::Duration;

    #[test]
    fn manual_context_fails_the_requested_number_of_tasks() {
        let mut ctx = ManualContext::new(Timing::default()).failing_tasks(1);
        assert!(ctx.fail_task());
        assert!(!ctx.fail_task());
        assert_eq!(ctx.tasks_started, 2);
    }

    #[test]
    fn call_context_reads_timing_and_task_failure_rules() {
        let faults = FaultControl::new();
        faults.push_rule(FaultRule::new(Fault::TaskFailure).service("alb"));
        let timing = Timing {
            create: Duration::from_secs(3),
            ..Timing::default()
        };
        let mut ctx = CallContext {
            timing: &timing,
            faults: &faults,
            site: CallSite {
                service: "alb",
                api: "alibaba-alb",
                action: "CreateListener",
            },
        };
        assert_eq!(ctx.timing().create, Duration::from_secs(3));
        assert!(ctx.fail_task());
        assert!(!ctx.fail_task());
    }
}
