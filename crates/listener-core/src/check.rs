//! Vendor rejections and warnings found before any network call.
//!
//! A [`Rejection`] says which vendor refuses which field and by which of the
//! vendor's rules (its error code where it has one), so a portability report
//! can show "alibaba-ga: tls.client_auth: GA has no client-CA parameter"
//! without a single request being sent.
//!
//! A [`Warning`] has the same shape but does not stop anything: the vendor
//! will most likely take the spec, yet the user should know something
//! first (a default quota that must have been raised, a deprecated
//! parameter still sent). The project refuses only what every source says
//! the vendor refuses; what is merely doubtful or adjustable is a warning,
//! so it reaches the user in `validate` and `plan` output instead of only a
//! log line.

use std::fmt;

use serde::Serialize;

use crate::aliases::Aliases;
use crate::capabilities::Capabilities;
use crate::spec::ListenerSpec;

/// The rule name under which a neutral violation is reported as a rejection.
pub const INVALID_SPEC: &str = "invalid_spec";

/// The rule name, on every adapter, of an extension section
/// (`extensions.<api>`) that does not parse into the adapter's typed
/// options: unknown keys, wrong types. One name for one rule, so a report
/// over several clouds groups it.
pub const EXTENSION_INVALID: &str = "extension_invalid";

/// One rule of one vendor that a spec breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// The adapter's API name, e.g. `alibaba-ga`.
    pub vendor: &'static str,
    /// Spec path of the field, e.g. `ports` or `tls.client_auth`.
    pub field: String,
    /// The vendor rule: its error code where one exists
    /// (`PortRanges.MustOne`), else a short rule name.
    pub rule: &'static str,
    /// Why, in words a platform engineer can act on.
    pub reason: String,
}

impl Rejection {
    /// A rejection of `field` under `rule`.
    pub fn new(vendor: &'static str, field: impl Into<String>, rule: &'static str, reason: impl Into<String>) -> Self {
        Rejection {
            vendor,
            field: field.into(),
            rule,
            reason: reason.into(),
        }
    }

    /// Render a list for an error message.
    pub fn join(list: &[Rejection]) -> String {
        list.iter().map(|r| r.to_string()).collect::<Vec<_>>().join("; ")
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} [{}]", self.field, self.reason, self.rule)
    }
}

/// Something a vendor will take but the user should know, found before
/// any call: a default quota exceeded (adjustable, so the vendor decides),
/// a deprecated parameter that is still sent. Never fails a check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// The adapter's API name, e.g. `alibaba-ga`.
    pub vendor: &'static str,
    /// Spec path of the field, e.g. `client_ip.mode`, or `listeners` for a
    /// count over the whole set.
    pub field: String,
    /// The vendor rule or error code the warning is about
    /// (`QuotaExceeded.Listener`), else a short rule name.
    pub rule: &'static str,
    /// What to know or do, in words a platform engineer can act on.
    pub message: String,
}

impl Warning {
    /// A warning about `field` under `rule`.
    pub fn new(vendor: &'static str, field: impl Into<String>, rule: &'static str, message: impl Into<String>) -> Self {
        Warning {
            vendor,
            field: field.into(),
            rule,
            message: message.into(),
        }
    }

    /// Log the warning for `listener` at `warn`, as the adapters did before
    /// warnings were returned, so library users without the CLI still see
    /// it in their logs.
    pub fn log(&self, listener: &str) {
        tracing::warn!(vendor = self.vendor, listener, field = %self.field, rule = self.rule, "{}", self.message);
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} [{}]", self.field, self.message, self.rule)
    }
}

/// What a pre-flight check found about one spec: refusals (any one stops
/// the spec) and warnings (none does).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Checked {
    /// Why the vendor would refuse the spec; empty when it fits.
    pub rejections: Vec<Rejection>,
    /// What the user should know although the vendor takes the spec.
    pub warnings: Vec<Warning>,
}

/// What a pre-flight check found about the listeners of one instance, each
/// item paired with the index of the spec it concerns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckedSet {
    /// `(index, rejection)`: the specs the vendor would refuse.
    pub rejections: Vec<(usize, Rejection)>,
    /// `(index, warning)`: what to know although the vendor takes them.
    pub warnings: Vec<(usize, Warning)>,
}

impl CheckedSet {
    /// Each spec's own [`Checked`], paired with its index: the part of a
    /// set check that is the same for every adapter (the adapter then adds
    /// what spans listeners).
    pub fn each(specs: &[ListenerSpec], check: impl Fn(&ListenerSpec) -> Checked) -> Self {
        let mut out = CheckedSet::default();
        for (i, s) in specs.iter().enumerate() {
            let c = check(s);
            out.rejections.extend(c.rejections.into_iter().map(|r| (i, r)));
            out.warnings.extend(c.warnings.into_iter().map(|w| (i, w)));
        }
        out
    }

    /// Add `warnings` (index, warning) spanning listeners, logging each
    /// for its listener's name.
    pub fn warn_all(&mut self, specs: &[ListenerSpec], warnings: impl IntoIterator<Item = (usize, Warning)>) {
        for (i, w) in warnings {
            w.log(specs.get(i).map_or("", |s| s.name.as_str()));
            self.warnings.push((i, w));
        }
    }
}

/// Collects rejections for one vendor; adapters write `r.reject(...)` once
/// per rule, next to the rule's doc comment.
///
/// It also collects [`Warning`]s (`r.warn(...)`), which never make the
/// check fail: [`Rejections::into_result`] is `Ok` with the warnings when
/// nothing was refused.
#[derive(Debug)]
pub struct Rejections {
    vendor: &'static str,
    list: Vec<Rejection>,
    warnings: Vec<Warning>,
}

impl Rejections {
    /// An empty collector for `vendor`.
    pub fn new(vendor: &'static str) -> Self {
        Rejections {
            vendor,
            list: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// The start every adapter's `check` shares, so it is written once:
    /// every neutral violation as [`INVALID_SPEC`] at its path, then every
    /// alias the provider would send that the profile cannot resolve.
    /// The adapter adds its vendor rules to the result.
    pub fn preflight(caps: &Capabilities, aliases: &Aliases, spec: &ListenerSpec) -> Self {
        let mut r = Rejections::new(caps.api);
        for v in spec.violations() {
            r.reject(v.path, INVALID_SPEC, v.message);
        }
        aliases.check_spec_for(caps, spec, &mut r);
        refuse_untranslated(caps, spec, &mut r);
        r
    }

    /// A collector holding the rejections an adapter's check already
    /// returned, so an operation refusing them builds its
    /// [`crate::Error::Unsupported`] through [`Rejections::into_result`]
    /// like every other.
    pub fn from_vec(vendor: &'static str, list: Vec<Rejection>) -> Self {
        Rejections {
            vendor,
            list,
            warnings: Vec::new(),
        }
    }

    /// A collector holding one rejection: for the refusals an adapter finds
    /// while acting (a rule that needs the live listener), written as
    /// `Rejections::of(..).into_result()`.
    pub fn of(vendor: &'static str, field: impl Into<String>, rule: &'static str, reason: impl Into<String>) -> Self {
        let mut r = Rejections::new(vendor);
        r.reject(field, rule, reason);
        r
    }

    /// Record that `field` breaks `rule`.
    pub fn reject(&mut self, field: impl Into<String>, rule: &'static str, reason: impl Into<String>) {
        self.list.push(Rejection::new(self.vendor, field, rule, reason));
    }

    /// Record the rejection when `cond` holds.
    pub fn reject_if(&mut self, cond: bool, field: impl Into<String>, rule: &'static str, reason: impl Into<String>) {
        if cond {
            self.reject(field, rule, reason);
        }
    }

    /// Record a warning on `field` under `rule`: reported beside the
    /// rejections, never a refusal. Logged at once at `warn` for
    /// `listener` (the spec's name).
    pub fn warn(&mut self, listener: &str, field: impl Into<String>, rule: &'static str, message: impl Into<String>) {
        let w = Warning::new(self.vendor, field, rule, message);
        w.log(listener);
        self.warnings.push(w);
    }

    /// The warnings collected so far.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// The vendor these rejections are for.
    pub fn vendor(&self) -> &'static str {
        self.vendor
    }

    /// The rejections collected so far (the warnings are dropped; see
    /// [`Rejections::into_checked`]).
    pub fn into_vec(self) -> Vec<Rejection> {
        self.list
    }

    /// Rejections and warnings together.
    pub fn into_checked(self) -> Checked {
        Checked {
            rejections: self.list,
            warnings: self.warnings,
        }
    }

    /// `Ok` with the warnings (a warning never fails the check), or
    /// [`crate::Error::Unsupported`] with every rejection.
    pub fn into_result(self) -> crate::Result<Vec<Warning>> {
        if self.list.is_empty() {
            Ok(self.warnings)
        } else {
            Err(self.into_error())
        }
    }

    /// [`crate::Error::Unsupported`] with every rejection, for a refusal
    /// already decided (`Rejections::of(..).into_error()`).
    pub fn into_error(self) -> crate::Error {
        crate::Error::Unsupported {
            vendor: self.vendor,
            rejections: self.list,
        }
    }
}

/// The rule under which a listener's `routes` are refused by an adapter
/// that does not translate them yet.
pub const ROUTES_UNSUPPORTED: &str = "routes_unsupported";
/// The rule under which a listener's `backend` is refused by an adapter
/// that does not translate backend pools yet.
pub const BACKENDS_UNSUPPORTED: &str = "backends_unsupported";

/// Refuse, once for every adapter, what its capabilities say it does not
/// translate yet: routes and backend pools. Without this an adapter that
/// ignores `routes` would create a listener that routes nothing as the
/// file says, and report success.
fn refuse_untranslated(caps: &Capabilities, spec: &ListenerSpec, r: &mut Rejections) {
    r.reject_if(
        !caps.routes && !spec.routes.is_empty(),
        "routes",
        ROUTES_UNSUPPORTED,
        format!("routes are not yet translated for {}", caps.api),
    );
    r.reject_if(
        !caps.backends && spec.backend.is_some(),
        "backend",
        BACKENDS_UNSUPPORTED,
        format!(
            "backend pools are not yet translated for {}; an existing vendor pool can be named with \
             `forwarding.default_target`",
            caps.api
        ),
    );
}

/// Every spec's own rejections, each paired with the spec's index: the part
/// of a `check_set` that is the same for every adapter (the adapter then
/// adds the rules that span listeners).
pub fn check_each(specs: &[ListenerSpec], check: impl Fn(&ListenerSpec) -> Vec<Rejection>) -> Vec<(usize, Rejection)> {
    specs
        .iter()
        .enumerate()
        .flat_map(|(i, s)| check(s).into_iter().map(move |r| (i, r)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_do_not_fail_the_check() {
        let mut r = Rejections::new("cloud-a");
        r.warn("web", "listeners", "quota_default", "past the default quota");
        let warnings = r.into_result().expect("a warning is not a refusal");
        assert_eq!(warnings.len(), 1);
        assert_eq!(
            (warnings[0].field.as_str(), warnings[0].rule),
            ("listeners", "quota_default")
        );
        assert_eq!(warnings[0].vendor, "cloud-a");
    }

    #[test]
    fn rejections_fail_the_check_and_keep_warnings_apart() {
        let collect = || {
            let mut r = Rejections::new("cloud-a");
            r.warn("web", "client_ip.mode", "deprecated", "still sent");
            r.reject("ports", "port_range", "outside");
            r
        };
        let checked = collect().into_checked();
        assert_eq!(checked.rejections[0].field, "ports");
        assert_eq!(checked.warnings[0].field, "client_ip.mode");
        match collect().into_result() {
            Err(crate::Error::Unsupported { rejections, .. }) => assert_eq!(rejections[0].field, "ports"),
            other => panic!("expected Unsupported, got {other:?}"),
        }
    }

    #[test]
    fn routes_and_backends_are_refused_until_the_capabilities_claim_them() {
        let mut spec = crate::ListenerSpec::new("web", crate::Protocol::Http, crate::Ports::Single(80));
        spec.backend = Some("site".into());
        spec.routes = vec![crate::Route::new("a.example.com", "/", "site")];
        let caps = crate::capabilities::tests::sample();
        let refused = Rejections::preflight(&caps, &Aliases::default(), &spec).into_vec();
        let got: Vec<(&str, &str)> = refused.iter().map(|r| (r.field.as_str(), r.rule)).collect();
        assert_eq!(
            got,
            vec![("routes", ROUTES_UNSUPPORTED), ("backend", BACKENDS_UNSUPPORTED)]
        );
        assert!(
            refused[0].reason.contains("not yet translated for sample"),
            "{}",
            refused[0].reason
        );
        let claimed = Capabilities {
            routes: true,
            backends: true,
            ..caps
        };
        assert!(Rejections::preflight(&claimed, &Aliases::default(), &spec)
            .into_vec()
            .is_empty());
    }

    #[test]
    fn checked_set_pairs_each_item_with_its_index() {
        let specs = vec![
            ListenerSpec::new("a", crate::Protocol::Tcp, crate::Ports::Single(80)),
            ListenerSpec::new("b", crate::Protocol::Tcp, crate::Ports::Single(81)),
        ];
        let mut set = CheckedSet::each(&specs, |s| {
            let mut r = Rejections::new("cloud-a");
            if s.name == "b" {
                r.warn(&s.name, "name", "note", "b is noted");
            }
            r.into_checked()
        });
        set.warn_all(&specs, [(0, Warning::new("cloud-a", "listeners", "quota", "many"))]);
        let got: Vec<(usize, &str)> = set.warnings.iter().map(|(i, w)| (*i, w.field.as_str())).collect();
        assert_eq!(got, vec![(1, "name"), (0, "listeners")]);
        assert!(set.rejections.is_empty());
    }
}
