//! Neutral validation: the rules that hold on every cloud.
//!
//! Field ranges come from `validator` derives on the spec types; the rules
//! that relate fields to each other (HTTPS needs a certificate, mutual TLS
//! needs a CA, UDP has no TLS, ...) are written out below. Both feed one list
//! so a user sees **every** problem of a file in one run, each with its path.
//! Vendor limits are not here: they belong to each adapter's `check`.

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use crate::spec::{ClientIpMode, HealthCheckKind, ListenerSpec, Protocol};

/// One broken rule, located by its path in the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// Path of the field, e.g. `listeners[2].tls.client_auth.ca_certificates`.
    pub path: String,
    /// Stable rule identifier, e.g. `tls_requires_certificate` or `range`.
    pub rule: String,
    /// Human explanation.
    pub message: String,
}

impl Violation {
    /// A violation at `path`.
    pub fn new(path: impl Into<String>, rule: impl Into<String>, message: impl Into<String>) -> Self {
        Violation {
            path: path.into(),
            rule: rule.into(),
            message: message.into(),
        }
    }

    /// The same violation with `prefix.` put before its path.
    pub fn prefixed(mut self, prefix: &str) -> Self {
        if !prefix.is_empty() {
            self.path = if self.path.is_empty() {
                prefix.to_string()
            } else {
                format!("{prefix}.{}", self.path)
            };
        }
        self
    }

    /// Render a list for an error message.
    pub fn join(list: &[Violation]) -> String {
        list.iter().map(|v| v.to_string()).collect::<Vec<_>>().join("; ")
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl ListenerSpec {
    /// Every neutral rule this spec breaks; paths are relative to the spec
    /// (`tls.certificates`). Empty when the spec is valid.
    pub fn violations(&self) -> Vec<Violation> {
        let mut out = Vec::new();
        if let Err(errors) = Validate::validate(self) {
            flatten(&errors, "", &mut out);
        }
        cross_field(self, &mut out);
        out.sort_by(|a, b| a.path.cmp(&b.path).then(a.rule.cmp(&b.rule)));
        out.dedup();
        out
    }

    /// `Ok(())` or [`crate::Error::InvalidSpec`] with every violation.
    pub fn validate_spec(&self) -> crate::Result<()> {
        let violations = self.violations();
        if violations.is_empty() {
            Ok(())
        } else {
            Err(crate::Error::InvalidSpec { violations })
        }
    }
}

/// Validate a list of specs as a document would hold them: paths become
/// `listeners[i].…`, and two listeners may not claim the same port on the
/// same transport.
pub fn validate_listeners(specs: &[ListenerSpec]) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut names = BTreeSet::new();
    for (i, spec) in specs.iter().enumerate() {
        let prefix = format!("listeners[{i}]");
        out.extend(spec.violations().into_iter().map(|v| v.prefixed(&prefix)));
        if !names.insert(spec.name.as_str()) {
            out.push(Violation::new(
                format!("{prefix}.name"),
                "duplicate_name",
                format!("another listener is already named `{}`", spec.name),
            ));
        }
    }
    for (i, j) in port_clashes(specs) {
        let (a, b) = (&specs[i], &specs[j]);
        out.push(Violation::new(
            format!("listeners[{j}].ports"),
            "port_conflict",
            format!(
                "ports {} overlap listeners[{i}] (`{}`, ports {}) on the same transport",
                b.ports, a.name, a.ports
            ),
        ));
    }
    out
}

/// Pairs `(i, j)`, `i < j`, of listeners whose ports overlap on the same
/// transport (TCP-based or UDP-based): no cloud lets two listeners share a
/// port, so both the neutral validation and the adapters' `check_set` ask
/// this one function.
pub fn port_clashes(specs: &[ListenerSpec]) -> Vec<(usize, usize)> {
    // Each spec's ranges once, not once per pair: files hold hundreds.
    let ranges: Vec<_> = specs
        .iter()
        .map(|s| (s.protocol.transport(), s.ports.ranges()))
        .collect();
    let mut out = Vec::new();
    for (i, (ta, ra)) in ranges.iter().enumerate() {
        for (j, (tb, rb)) in ranges.iter().enumerate().skip(i + 1) {
            if ta == tb && ra.iter().any(|x| rb.iter().any(|y| x.overlaps(y))) {
                out.push((i, j));
            }
        }
    }
    out
}

/// Turn validator's nested error tree into flat, path-named violations.
fn flatten(errors: &ValidationErrors, prefix: &str, out: &mut Vec<Violation>) {
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                for e in list {
                    let message = e
                        .message
                        .as_ref()
                        .map(|m| m.to_string())
                        .unwrap_or_else(|| format!("breaks rule `{}`", e.code));
                    out.push(Violation::new(path.clone(), e.code.to_string(), message));
                }
            }
            ValidationErrorsKind::Struct(inner) => flatten(inner, &path, out),
            ValidationErrorsKind::List(items) => {
                for (i, inner) in items {
                    flatten(inner, &format!("{path}[{i}]"), out);
                }
            }
        }
    }
}

fn cross_field(spec: &ListenerSpec, out: &mut Vec<Violation>) {
    let mut push = |path: &str, rule: &str, message: String| out.push(Violation::new(path, rule, message));
    let p = spec.protocol;

    if spec.name.trim().is_empty() {
        push("name", "name_blank", "must contain a visible character".into());
    }
    if spec.name.chars().any(char::is_control)
        || spec
            .description
            .as_deref()
            .is_some_and(|d| d.chars().any(char::is_control))
    {
        let field = if spec.name.chars().any(char::is_control) {
            "name"
        } else {
            "description"
        };
        push(field, "control_character", "must not contain control characters".into());
    }

    // Ports: in range, ordered, not repeated.
    let ranges = spec.ports.ranges();
    if ranges.is_empty() {
        push("ports", "ports_empty", "at least one port is required".into());
    }
    for (i, r) in ranges.iter().enumerate() {
        let path = spec.ports.entry_path(i);
        for (bound, value) in [("from", r.from), ("to", r.to)] {
            if !(crate::spec::PORT_MIN..=crate::spec::PORT_MAX).contains(&value) {
                let at = if r.from == r.to {
                    path.clone()
                } else {
                    format!("{path}.{bound}")
                };
                push(&at, "port_range", format!("port {value} is outside 1 to 65535"));
            }
        }
        if r.from > r.to {
            push(
                &path,
                "range_order",
                format!("range start {} is above its end {}", r.from, r.to),
            );
        }
        for (j, other) in ranges.iter().enumerate().skip(i + 1) {
            if r.overlaps(other) && r.from <= r.to && other.from <= other.to {
                push(
                    &spec.ports.entry_path(j),
                    "port_repeated",
                    format!("ports {other} repeat ports {r} of this listener"),
                );
            }
        }
    }

    // TLS.
    match (&spec.tls, p.terminates_tls()) {
        (None, true) => push(
            "tls",
            "tls_required",
            format!("protocol {p} terminates TLS and needs a `tls` section with a server certificate"),
        ),
        (Some(_), false) => push(
            "tls",
            "tls_not_allowed",
            format!("protocol {p} does not terminate TLS; remove the `tls` section"),
        ),
        (Some(tls), true) => {
            if tls.certificates.is_empty() && tls.sni != Some(true) {
                push(
                    "tls.certificates",
                    "tls_requires_certificate",
                    format!("protocol {p} needs at least one server certificate (or `sni = true`)"),
                );
            }
            check_aliases(&tls.certificates, "tls.certificates", &mut push);
            if p != Protocol::Https {
                for (field, set) in [
                    ("tls.http2", tls.http2.is_some()),
                    ("tls.http3", tls.http3.is_some()),
                    ("tls.sni", tls.sni.is_some()),
                ] {
                    if set {
                        push(
                            field,
                            "https_only",
                            format!("only HTTPS listeners have this setting, not {p}"),
                        );
                    }
                }
            }
            if let Some(ca) = &tls.client_auth {
                if ca.ca_certificates.is_empty() {
                    push(
                        "tls.client_auth.ca_certificates",
                        "mutual_tls_requires_ca",
                        "mutual TLS needs at least one CA certificate".into(),
                    );
                }
                check_aliases(&ca.ca_certificates, "tls.client_auth.ca_certificates", &mut push);
            }
        }
        (None, false) => {}
    }

    // Forwarding.
    if let Some(f) = &spec.forwarding {
        if f.backend_protocol.is_some() && !p.is_layer7() {
            push(
                "forwarding.backend_protocol",
                "layer7_only",
                format!("a backend protocol applies to layer-7 listeners, not {p}"),
            );
        }
    }

    // Health check.
    if let Some(hc) = &spec.health_check {
        if let (Some(t), Some(i)) = (hc.timeout_secs, hc.interval_secs) {
            if t >= i {
                push(
                    "health_check.timeout_secs",
                    "timeout_below_interval",
                    format!("probe timeout {t}s must be less than the interval {i}s"),
                );
            }
        }
        match hc.kind {
            Some(HealthCheckKind::Tcp | HealthCheckKind::Http)
                if p.transport() == crate::spec::Transport::Udp && p != Protocol::Quic =>
            {
                push(
                    "health_check.kind",
                    "udp_check_kind",
                    "UDP listeners check with `ping` or `custom` probes".into(),
                )
            }
            Some(HealthCheckKind::Ping) if p.transport() == crate::spec::Transport::Tcp => push(
                "health_check.kind",
                "ping_udp_only",
                format!("`ping` probes are for UDP listeners, not {p}"),
            ),
            _ => {}
        }
        if hc.http.is_some() && hc.kind != Some(HealthCheckKind::Http) {
            push(
                "health_check.http",
                "section_needs_kind",
                "HTTP probe details need `kind = \"http\"`".into(),
            );
        }
        if hc.custom.is_some() && hc.kind != Some(HealthCheckKind::Custom) {
            push(
                "health_check.custom",
                "section_needs_kind",
                "payload probe details need `kind = \"custom\"`".into(),
            );
        }
        if let Some(http) = &hc.http {
            if let Some(path) = &http.path {
                if !path.starts_with('/') {
                    push("health_check.http.path", "path_absolute", "must start with `/`".into());
                }
            }
            for (i, c) in http.healthy_status_classes.iter().enumerate() {
                if !crate::spec::STATUS_CLASSES.contains(c) {
                    push(
                        &format!("health_check.http.healthy_status_classes[{i}]"),
                        "status_class",
                        format!("status class {c} is not one of 1 to 5 (1xx to 5xx)"),
                    );
                }
            }
        }
    }

    // Timeouts.
    if let Some(t) = &spec.timeouts {
        if t.request_secs.is_some() && !p.is_layer7() {
            push(
                "timeouts.request_secs",
                "layer7_only",
                format!("a request timeout applies to layer-7 listeners, not {p}"),
            );
        }
    }

    // Client IP.
    if let Some(ci) = &spec.client_ip {
        match ci.mode {
            ClientIpMode::ProxyProtocol if matches!(p, Protocol::Http | Protocol::Https) => push(
                "client_ip.mode",
                "proxy_protocol_layer4",
                format!("Proxy Protocol is for layer-4 listeners; {p} listeners pass the client IP in headers"),
            ),
            ClientIpMode::Headers if !p.is_layer7() => push(
                "client_ip.mode",
                "headers_layer7",
                format!("headers need a layer-7 listener, not {p}"),
            ),
            _ => {}
        }
        if ci.headers.is_some() && ci.mode != ClientIpMode::Headers {
            push(
                "client_ip.headers",
                "section_needs_mode",
                "header settings need `mode = \"headers\"`".into(),
            );
        }
    }
}

fn check_aliases(list: &[String], path: &str, push: &mut impl FnMut(&str, &str, String)) {
    let mut seen = BTreeSet::new();
    for (i, alias) in list.iter().enumerate() {
        if alias.trim().is_empty() {
            push(
                &format!("{path}[{i}]"),
                "alias_blank",
                "an alias must not be blank".into(),
            );
        } else if !seen.insert(alias) {
            push(
                &format!("{path}[{i}]"),
                "alias_repeated",
                format!("`{alias}` is listed twice"),
            );
        }
    }
}
