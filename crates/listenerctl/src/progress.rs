//! Showing `apply` as it happens.
//!
//! Cloud listener changes take seconds to minutes each, so a silent apply
//! looks hung. On a terminal a spinner names the action in flight; in a log
//! (CI, a pipe) each action is one plain line, since spinners turn into
//! noise there; scripts get one JSON object per event.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use cloud_listeners::plan::{Cancel, Event, Step};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

/// Where progress goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// An indicatif spinner on stderr, finished actions kept as lines.
    Spinner,
    /// One line per event on stdout.
    Plain,
    /// One JSON object per event on stdout (JSON lines).
    Json,
}

impl Mode {
    /// The mode for this process: JSON when asked, a spinner when stderr is
    /// a terminal, plain lines otherwise.
    pub fn detect(json: bool) -> Mode {
        if json {
            Mode::Json
        } else if std::io::stderr().is_terminal() {
            Mode::Spinner
        } else {
            Mode::Plain
        }
    }
}

/// Receives the engine's events; `Sync` because the engine runs actions
/// concurrently on vendors that allow it, so several may be in flight.
#[derive(Debug)]
pub struct Progress {
    mode: Mode,
    /// A prefix naming the profile when several are applied in one run.
    prefix: String,
    bars: MultiProgress,
    /// One spinner per step in flight. A list, not a map: a multi-port
    /// listener on a one-port-per-listener vendor is several steps with the
    /// same name in flight at once (told apart by their ports).
    spinners: Mutex<Vec<(Step, ProgressBar)>>,
    /// Every step started and ended so far, for the summary of an
    /// interrupted apply.
    tally: Mutex<Tally>,
    /// Set when the apply is interrupted; steps ending after it are the ones
    /// that were in flight at the interrupt.
    cancel: Option<Cancel>,
    /// The profile, put into every JSON event.
    profile: Option<String>,
    /// When several profiles are applied at once, their text lines are
    /// kept here and printed with the profile's section when it ends, so
    /// two profiles' lines never interleave. Spinners stay live.
    buffer: Option<Mutex<String>>,
}

/// What an apply has started and ended, as its events told it. Kept by the
/// CLI, not asked of the engine, because after the bounded wait of an
/// interrupt the engine's future is dropped and returns no report.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Steps started, in order.
    pub started: Vec<Step>,
    /// Steps finished, and whether they finished after the interrupt.
    pub finished: Vec<(Step, bool)>,
    /// Steps failed.
    pub failed: Vec<Step>,
}

fn step(verb: &'static str, name: &str, ports: &str) -> Step {
    Step {
        verb,
        name: name.to_string(),
        ports: ports.to_string(),
    }
}

/// `port 80`, `ports 80,8080`, `ports 8000-8100`.
pub fn port_words(ports: &str) -> String {
    if ports.contains([',', '-']) {
        format!("ports {ports}")
    } else {
        format!("port {ports}")
    }
}

fn past(verb: &str) -> &'static str {
    match verb {
        "create" => "created",
        "update" => "updated",
        "replace" => "replaced",
        "delete" => "deleted",
        _ => "done",
    }
}

fn present(verb: &str) -> &'static str {
    match verb {
        "create" => "creating",
        "update" => "updating",
        "replace" => "replacing",
        "delete" => "deleting",
        _ => "working on",
    }
}

impl Progress {
    /// A sink in `mode`; `prefix` is put before every text line.
    pub fn new(mode: Mode, prefix: impl Into<String>) -> Self {
        Progress {
            mode,
            prefix: prefix.into(),
            bars: MultiProgress::new(),
            spinners: Mutex::new(Vec::new()),
            tally: Mutex::new(Tally::default()),
            cancel: None,
            profile: None,
            buffer: None,
        }
    }

    /// The same sink, naming `profile` in every JSON event.
    pub fn for_profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = Some(profile.into());
        self
    }

    /// The same sink drawing its spinners in `bars`, shared with the other
    /// profiles applied at once: one live multi-line display.
    pub fn in_bars(mut self, bars: MultiProgress) -> Self {
        self.bars = bars;
        self
    }

    /// The same sink keeping its text lines (finished and failed steps;
    /// with plain output, started ones too) for [`Progress::take_lines`]
    /// instead of printing them.
    pub fn buffered(mut self) -> Self {
        self.buffer = Some(Mutex::new(String::new()));
        self
    }

    /// The lines kept by a [`Progress::buffered`] sink so far.
    pub fn take_lines(&self) -> String {
        self.buffer
            .as_ref()
            .map(|b| std::mem::take(&mut *b.lock().unwrap_or_else(|e| e.into_inner())))
            .unwrap_or_default()
    }

    /// Keep `line` when buffered; `false` when it should be printed.
    fn keep(&self, line: &str) -> bool {
        match &self.buffer {
            Some(b) => {
                let mut b = b.lock().unwrap_or_else(|e| e.into_inner());
                b.push_str(line);
                b.push('\n');
                true
            }
            None => false,
        }
    }

    /// The same sink, noting which steps end after `cancel` is set.
    pub fn watching(mut self, cancel: Cancel) -> Self {
        self.cancel = Some(cancel);
        self
    }

    /// What the events so far say was started and ended.
    pub fn tally(&self) -> Tally {
        self.tally.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Remove the spinners of steps still in flight, when apply is given up
    /// on, so the summary after it is not drawn over.
    pub fn clear(&self) {
        let mut spinners = self.spinners.lock().unwrap_or_else(|e| e.into_inner());
        for (_, pb) in spinners.drain(..) {
            pb.finish_and_clear();
            self.bars.remove(&pb);
        }
    }

    fn record(&self, event: &Event) {
        let mut tally = self.tally.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            Event::Started { verb, name, ports } => tally.started.push(step(verb, name, ports)),
            Event::Finished { verb, name, ports, .. } => {
                let late = self.cancel.as_ref().is_some_and(Cancel::is_cancelled);
                tally.finished.push((step(verb, name, ports), late));
            }
            Event::Failed { verb, name, ports, .. } => tally.failed.push(step(verb, name, ports)),
            // Pool and rule steps are not in the listener steps an
            // interrupted apply compares with.
            _ => {}
        }
    }

    /// The text line for an event (also used in tests).
    pub fn line(&self, event: &Event) -> String {
        format!("{}{}", self.prefix, body(event))
    }

    /// Handle one event from the engine.
    pub fn event(&self, event: Event) {
        self.record(&event);
        match self.mode {
            Mode::Json => {
                let mut value = serde_json::to_value(&event).unwrap_or_default();
                if let (Some(profile), Some(map)) = (&self.profile, value.as_object_mut()) {
                    map.insert("profile".into(), profile.clone().into());
                }
                let mut out = std::io::stdout().lock();
                let _ = serde_json::to_writer(&mut out, &value);
                let _ = writeln!(out);
                let _ = out.flush();
            }
            Mode::Plain => {
                if !self.keep(&format!("  {}", body(&event))) {
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "  {}", self.line(&event));
                }
            }
            Mode::Spinner => {
                let mut spinners = self.spinners.lock().unwrap_or_else(|e| e.into_inner());
                match &event {
                    Event::Started { verb, name, ports } => {
                        let pb = self.bars.add(ProgressBar::new_spinner());
                        pb.set_style(
                            ProgressStyle::with_template("  {spinner} {msg} ({elapsed})")
                                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                        );
                        pb.set_message(self.line(&event));
                        pb.enable_steady_tick(Duration::from_millis(100));
                        spinners.push((step(verb, name, ports), pb));
                    }
                    Event::Finished { verb, name, ports, .. } | Event::Failed { verb, name, ports, .. } => {
                        let text = format!("  {}", self.line(&event));
                        let key = step(verb, name, ports);
                        if let Some(i) = spinners.iter().position(|(s, _)| *s == key) {
                            let (_, pb) = spinners.remove(i);
                            pb.finish_and_clear();
                            self.bars.remove(&pb);
                        }
                        if self.keep(&format!("  {}", body(&event))) {
                            return;
                        }
                        // Above the spinners still running, if any.
                        if spinners.is_empty() || self.bars.println(&text).is_err() {
                            eprintln!("{text}");
                        }
                    }
                    // Pool and rule steps are short calls: a line each.
                    _ => {
                        let text = format!("  {}", self.line(&event));
                        if spinners.is_empty() || self.bars.println(&text).is_err() {
                            eprintln!("{text}");
                        }
                    }
                }
            }
        }
    }
}

/// An event in words, without the profile's prefix.
fn body(event: &Event) -> String {
    match event {
        Event::Started { verb, name, ports } => format!("{} {name} ({}) ...", present(verb), port_words(ports)),
        Event::Finished { verb, name, ids, .. } if ids.is_empty() => format!("{} {name}", past(verb)),
        Event::Finished { verb, name, ids, .. } => format!("{} {name}: {}", past(verb), ids.join(", ")),
        Event::Failed {
            verb,
            name,
            kind,
            message,
            ..
        } => format!("failed to {verb} {name} ({kind}): {message}"),
        Event::Resource {
            kind,
            stage,
            verb,
            name,
            id,
            error,
            message,
        } => match *stage {
            "started" => format!("{} {kind} {name} ...", present(verb)),
            "failed" => format!(
                "failed to {verb} {kind} {name} ({}): {}",
                error.unwrap_or("error"),
                message.as_deref().unwrap_or("")
            ),
            _ => match id {
                Some(id) if *verb != "delete" => format!("{} {kind} {name}: {id}", past(verb)),
                _ => format!("{} {kind} {name}", past(verb)),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_and_rule_events_read_as_lines() {
        let p = Progress::new(Mode::Plain, "[alb] ");
        let ev = |stage: &'static str, id: Option<&str>, error: Option<&'static str>| Event::Resource {
            kind: "pool",
            stage,
            verb: "create",
            name: "web".into(),
            id: id.map(str::to_string),
            error,
            message: error.map(|_| "no more pools".to_string()),
        };
        assert_eq!(p.line(&ev("started", None, None)), "[alb] creating pool web ...");
        assert_eq!(
            p.line(&ev("finished", Some("sgp-1"), None)),
            "[alb] created pool web: sgp-1"
        );
        assert_eq!(
            p.line(&ev("failed", None, Some("vendor"))),
            "[alb] failed to create pool web (vendor): no more pools"
        );
        let json = serde_json::to_value(ev("finished", Some("sgp-1"), None)).expect("json");
        assert_eq!(json["event"], "resource");
        assert_eq!(json["kind"], "pool");
        assert_eq!(json["stage"], "finished");
        assert_eq!(json["id"], "sgp-1");
        assert!(json.get("error").is_none());
    }

    #[test]
    fn plain_lines_name_the_action_and_ids() {
        let p = Progress::new(Mode::Plain, "[gaap] ");
        let started = Event::Started {
            verb: "create",
            name: "web".into(),
            ports: "80".into(),
        };
        assert_eq!(p.line(&started), "[gaap] creating web (port 80) ...");
        let done = Event::Finished {
            verb: "create",
            name: "web".into(),
            ports: "80".into(),
            ids: vec!["listener-1".into()],
        };
        assert_eq!(p.line(&done), "[gaap] created web: listener-1");
    }

    /// With several profiles at once, a profile's lines wait for its
    /// section instead of going to stdout between another's.
    #[test]
    fn a_buffered_sink_keeps_its_lines_for_the_section() {
        let p = Progress::new(Mode::Plain, "[clb] ").buffered();
        p.event(Event::Started {
            verb: "create",
            name: "web".into(),
            ports: "80".into(),
        });
        p.event(Event::Finished {
            verb: "create",
            name: "web".into(),
            ports: "80".into(),
            ids: vec!["lbl-1".into()],
        });
        assert_eq!(p.take_lines(), "  creating web (port 80) ...\n  created web: lbl-1\n");
        assert_eq!(p.take_lines(), "", "taken once");
        assert_eq!(p.tally().finished.len(), 1);
    }

    #[test]
    fn tally_marks_steps_that_end_after_the_interrupt() {
        let cancel = Cancel::default();
        let p = Progress::new(Mode::Plain, "").watching(cancel.clone());
        let ev = |verb: &'static str, port: &str, finished: bool| {
            if finished {
                Event::Finished {
                    verb,
                    name: "web".into(),
                    ports: port.into(),
                    ids: vec![],
                }
            } else {
                Event::Started {
                    verb,
                    name: "web".into(),
                    ports: port.into(),
                }
            }
        };
        p.record(&ev("create", "80", false));
        p.record(&ev("create", "80", true));
        p.record(&ev("create", "81", false));
        cancel.cancel();
        p.record(&ev("create", "81", true));
        let t = p.tally();
        assert_eq!(t.started.len(), 2);
        let late: Vec<(&str, bool)> = t.finished.iter().map(|(s, l)| (s.ports.as_str(), *l)).collect();
        assert_eq!(late, vec![("80", false), ("81", true)]);
    }
}
