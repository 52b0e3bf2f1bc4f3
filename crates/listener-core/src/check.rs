//! Vendor rejections found before any network call.
//!
//! A [`Rejection`] says which vendor refuses which field and by which of the
//! vendor's rules (its error code where it has one), so a portability report
//! can show "alibaba-ga: tls.client_auth: GA has no client-CA parameter"
//! without a single request being sent.

use std::fmt;

use serde::Serialize;

use crate::aliases::Aliases;
use crate::capabilities::Capabilities;
use crate::spec::ListenerSpec;

/// The rule name under which a neutral violation is reported as a rejection.
pub const INVALID_SPEC: &str = "invalid_spec";

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

/// Collects rejections for one vendor; adapters write `r.reject(...)` once
/// per rule, next to the rule's doc comment.
#[derive(Debug)]
pub struct Rejections {
    vendor: &'static str,
    list: Vec<Rejection>,
}

impl Rejections {
    /// An empty collector for `vendor`.
    pub fn new(vendor: &'static str) -> Self {
        Rejections {
            vendor,
            list: Vec::new(),
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

    /// The vendor these rejections are for.
    pub fn vendor(&self) -> &'static str {
        self.vendor
    }

    /// The rejections collected so far.
    pub fn into_vec(self) -> Vec<Rejection> {
        self.list
    }

    /// `Ok(())`, or [`crate::Error::Unsupported`] with every rejection.
    pub fn into_result(self) -> crate::Result<()> {
        if self.list.is_empty() {
            Ok(())
        } else {
            Err(crate::Error::Unsupported {
                vendor: self.vendor,
                rejections: self.list,
            })
        }
    }
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
