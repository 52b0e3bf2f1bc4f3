//! Ctrl-C and SIGTERM during `apply`.
//!
//! Killing apply at once is safe for the cloud's state (the next apply
//! re-reads it and converges) but leaves the user blind: nothing says what
//! was done. So the first signal only stops apply from starting new steps;
//! steps in flight may end, within [`IN_FLIGHT_BOUND`], and then apply
//! lists what was done, what was in flight and what was not started. A
//! second signal exits at once, for when waiting is not wanted.

use std::time::Duration;

use cloud_listeners::plan::{Cancel, Step};
use serde::Serialize;
use tokio::sync::watch;

use crate::diag::{Exit, Failure, Problem};
use crate::progress::{port_words, Tally};

/// How long steps in flight may take to end after the first signal. A
/// create waits for the vendor to settle the listener, which takes seconds
/// and, on a bad day, longer; past this the user has waited enough, and
/// the next apply settles what was left.
pub const IN_FLIGHT_BOUND: Duration = Duration::from_secs(30);

/// The signals that interrupt apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT, Ctrl-C.
    Interrupt,
    /// SIGTERM, from `kill` or a service manager.
    Terminate,
}

impl Signal {
    /// The signal's conventional name.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }

    /// The exit code: 128 + the signal number, as shells report a process
    /// the signal killed, so scripts see the same code either way.
    pub fn exit(self) -> Exit {
        match self {
            Signal::Interrupt => Exit::Interrupted,
            Signal::Terminate => Exit::Terminated,
        }
    }
}

/// The installed handlers. On Unix both signals; elsewhere Ctrl-C only.
struct Handlers {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Handlers {
    #[cfg(unix)]
    fn install() -> std::io::Result<Handlers> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Handlers {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
        })
    }

    #[cfg(not(unix))]
    fn install() -> std::io::Result<Handlers> {
        Ok(Handlers {})
    }

    #[cfg(unix)]
    async fn next(&mut self) -> Signal {
        tokio::select! {
            _ = self.int.recv() => Signal::Interrupt,
            _ = self.term.recv() => Signal::Terminate,
        }
    }

    #[cfg(not(unix))]
    async fn next(&mut self) -> Signal {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        Signal::Interrupt
    }
}

/// Watches for SIGINT and SIGTERM from its start to the end of the process.
pub struct Watch {
    cancel: Cancel,
    seen: watch::Receiver<Option<Signal>>,
}

impl Watch {
    /// Install the handlers (from now on the signals no longer kill the
    /// process at once) and watch in a task of the current runtime. `json`
    /// keeps stderr machine-readable: the notices are then JSON too.
    pub fn start(json: bool) -> Result<Watch, Failure> {
        let mut handlers = Handlers::install().map_err(|e| {
            Failure::one(
                Exit::Error,
                "io",
                Problem::message(format!("cannot install the signal handlers: {e}")),
            )
        })?;
        let cancel = Cancel::default();
        let (tx, seen) = watch::channel(None);
        let flag = cancel.clone();
        tokio::spawn(async move {
            let first = handlers.next().await;
            flag.cancel();
            let _ = tx.send(Some(first));
            if !json {
                eprintln!(
                    "\n{}: starting no new change; waiting up to {} s for the calls in flight to end. \
                     Send it again (Ctrl-C) to exit at once.",
                    first.name(),
                    IN_FLIGHT_BOUND.as_secs()
                );
            }
            let second = handlers.next().await;
            let failure = Failure::one(
                second.exit(),
                "interrupted",
                Problem::message(format!(
                    "{} again: exited at once, calls in flight abandoned. Run `listenerctl apply` again: it \
                     re-reads the cloud and finishes what is left",
                    second.name()
                )),
            );
            if json {
                eprintln!("{}", failure.render_json());
            } else {
                eprintln!("{}", failure.render_text());
            }
            std::process::exit(i32::from(second.exit().code()));
        });
        Ok(Watch { cancel, seen })
    }

    /// The flag apply checks before each step.
    pub fn cancel(&self) -> Cancel {
        self.cancel.clone()
    }

    /// The first signal, once one came.
    pub fn signal(&self) -> Option<Signal> {
        *self.seen.borrow()
    }

    /// Resolves when the first signal comes.
    pub async fn signalled(&self) {
        let mut seen = self.seen.clone();
        if seen.wait_for(Option::is_some).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Resolves [`IN_FLIGHT_BOUND`] after the first signal.
    pub async fn deadline(&self) {
        self.signalled().await;
        tokio::time::sleep(IN_FLIGHT_BOUND).await;
    }
}

/// Where an interrupted apply left one profile.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Steps finished before the signal.
    pub done: Vec<Step>,
    /// Steps in flight at the signal that then finished.
    pub finished_after_interrupt: Vec<Step>,
    /// Steps that failed.
    pub failed: Vec<Step>,
    /// Steps still in flight when the wait ran out: the vendor may still
    /// carry them out; the next apply reads back what they left.
    pub abandoned: Vec<Step>,
    /// Steps never started.
    pub not_started: Vec<Step>,
}

impl Summary {
    /// Compare the plan's steps with what the events said happened.
    pub fn build(planned: Vec<Step>, tally: &Tally) -> Summary {
        let mut out = Summary::default();
        let mut started = tally.started.clone();
        for step in planned {
            match started.iter().position(|s| *s == step) {
                Some(i) => {
                    started.remove(i);
                }
                None => out.not_started.push(step),
            }
        }
        let mut open = tally.started.clone();
        let mut close = |s: &Step| {
            if let Some(i) = open.iter().position(|o| o == s) {
                open.remove(i);
            }
        };
        for (s, late) in &tally.finished {
            close(s);
            if *late {
                out.finished_after_interrupt.push(s.clone());
            } else {
                out.done.push(s.clone());
            }
        }
        for s in &tally.failed {
            close(s);
            out.failed.push(s.clone());
        }
        out.abandoned = open;
        out
    }

    /// The summary for a person; `signal` names what stopped apply.
    pub fn render_text(&self, signal: Signal) -> String {
        let mut out = format!(
            "  Interrupted by {}: no new change was started after it.\n",
            signal.name()
        );
        let section = |out: &mut String, title: &str, steps: &[Step]| {
            if steps.is_empty() {
                return;
            }
            out.push_str(&format!("  {title}: {}\n", steps.len()));
            const SHOWN: usize = 10;
            for s in steps.iter().take(SHOWN) {
                out.push_str(&format!("    {} {} ({})\n", s.verb, s.name, port_words(&s.ports)));
            }
            if steps.len() > SHOWN {
                out.push_str(&format!("    ... and {} more\n", steps.len() - SHOWN));
            }
        };
        section(&mut out, "done", &self.done);
        section(
            &mut out,
            "in flight at the interrupt, then done",
            &self.finished_after_interrupt,
        );
        section(&mut out, "failed", &self.failed);
        section(
            &mut out,
            &format!(
                "in flight, given up on after {} s (the cloud may still finish them)",
                IN_FLIGHT_BOUND.as_secs()
            ),
            &self.abandoned,
        );
        section(&mut out, "not started", &self.not_started);
        if self.done.is_empty()
            && self.finished_after_interrupt.is_empty()
            && self.failed.is_empty()
            && self.abandoned.is_empty()
        {
            out.push_str("  Nothing was changed on this profile.\n");
        }
        out
    }
}

/// Why apply stopped, for stderr and the exit code.
pub fn failure(signal: Signal) -> Failure {
    Failure::one(
        signal.exit(),
        "interrupted",
        Problem::message(format!(
            "apply interrupted by {} (what was and was not done is listed above); run `listenerctl apply` \
             again: it re-reads the cloud and makes only what is missing, so it converges",
            signal.name()
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(verb: &'static str, name: &str, ports: &str) -> Step {
        Step {
            verb,
            name: name.into(),
            ports: ports.into(),
        }
    }

    #[test]
    fn summary_sorts_steps_into_done_in_flight_and_not_started() {
        let planned = vec![
            s("delete", "old", "81"),
            s("create", "a", "80"),
            s("create", "b", "82"),
            s("create", "c", "83"),
            s("create", "d", "84"),
        ];
        let tally = Tally {
            started: vec![
                s("delete", "old", "81"),
                s("create", "a", "80"),
                s("create", "b", "82"),
                s("create", "c", "83"),
            ],
            finished: vec![(s("delete", "old", "81"), false), (s("create", "a", "80"), true)],
            failed: vec![s("create", "b", "82")],
        };
        let sum = Summary::build(planned, &tally);
        assert_eq!(sum.done, vec![s("delete", "old", "81")]);
        assert_eq!(sum.finished_after_interrupt, vec![s("create", "a", "80")]);
        assert_eq!(sum.failed, vec![s("create", "b", "82")]);
        assert_eq!(sum.abandoned, vec![s("create", "c", "83")]);
        assert_eq!(sum.not_started, vec![s("create", "d", "84")]);
        let text = sum.render_text(Signal::Interrupt);
        assert!(
            text.contains("not started: 1") && text.contains("create d (port 84)"),
            "{text}"
        );
    }
}
