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

use crate::spec::{ClientIpMode, HealthCheck, HealthCheckKind, ListenerSpec, PortRange, Protocol};

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
        crate::routes::listener_violations(self, &mut out);
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
///
/// For each port entry of listener `j` the pair names the *first* earlier
/// listener that takes one of its ports, so a file of 50,000 listeners all
/// on port 80 yields 49,999 pairs, not 1.25 billion, and the cost is
/// `O(n log n)` in the number of port entries (see [`first_claims`]).
pub fn port_clashes(specs: &[ListenerSpec]) -> Vec<(usize, usize)> {
    let claims = specs.iter().enumerate().flat_map(|(i, s)| {
        let transport = s.protocol.transport();
        s.ports.ranges().into_iter().map(move |r| (i, transport, r))
    });
    first_claims(claims)
}

/// The clash finder every "one listener per port" rule shares: `claims`
/// are `(listener, port space, range)` in listener order (a listener may
/// claim several ranges, in several spaces). Returns `(i, j)`, `i < j`, for
/// each claim of `j` that overlaps an earlier listener's claim in the same
/// space, `i` being the lowest such listener; each pair once, sorted.
///
/// Comparing every pair of listeners costs `n²` (a 50,000-listener file
/// took minutes); this keeps, per space, a segment tree over the compressed
/// port coordinates holding the lowest listener claiming each port, so each
/// claim is one query and one update of `O(log n)`.
pub fn first_claims<K: Ord + Copy>(claims: impl IntoIterator<Item = (usize, K, PortRange)>) -> Vec<(usize, usize)> {
    use std::collections::BTreeMap;
    let claims: Vec<(usize, K, PortRange)> = claims.into_iter().filter(|(_, _, r)| r.from <= r.to).collect();
    // Half-open coordinates per space: every `from` and `to + 1`.
    let mut coords: BTreeMap<K, Vec<u64>> = BTreeMap::new();
    for (_, k, r) in &claims {
        let c = coords.entry(*k).or_default();
        c.push(u64::from(r.from));
        c.push(u64::from(r.to) + 1);
    }
    let mut trees: BTreeMap<K, (Vec<u64>, MinTree)> = coords
        .into_iter()
        .map(|(k, mut c)| {
            c.sort_unstable();
            c.dedup();
            let tree = MinTree::new(c.len().saturating_sub(1).max(1));
            (k, (c, tree))
        })
        .collect();
    let leaves = |c: &[u64], r: &PortRange| {
        let lo = c.partition_point(|&x| x < u64::from(r.from));
        let hi = c.partition_point(|&x| x < u64::from(r.to) + 1);
        (lo, hi)
    };
    let mut out = Vec::new();
    let mut start = 0;
    while start < claims.len() {
        let j = claims[start].0;
        let end = start + claims[start..].iter().take_while(|(i, _, _)| *i == j).count();
        let group = &claims[start..end];
        // Ask first, then claim: a listener does not clash with itself.
        for (_, k, r) in group {
            if let Some((c, tree)) = trees.get(k) {
                let (lo, hi) = leaves(c, r);
                let first = tree.min(lo, hi);
                if first < j {
                    out.push((first, j));
                }
            }
        }
        for (_, k, r) in group {
            if let Some((c, tree)) = trees.get_mut(k) {
                let (lo, hi) = leaves(c, r);
                tree.claim(lo, hi, j);
            }
        }
        start = end;
    }
    out.sort_unstable_by_key(|&(i, j)| (j, i));
    out.dedup();
    out
}

/// A segment tree over `len` leaves: "lower every leaf of a range to at
/// most `v`" and "the lowest leaf of a range", both `O(log len)`.
struct MinTree {
    len: usize,
    /// The lowest value in each node's span.
    min: Vec<usize>,
    /// A bound still to be pushed to each node's children.
    pending: Vec<usize>,
}

impl MinTree {
    fn new(len: usize) -> Self {
        MinTree {
            len,
            min: vec![usize::MAX; 4 * len],
            pending: vec![usize::MAX; 4 * len],
        }
    }

    /// The lowest value over leaves `lo..hi`.
    fn min(&self, lo: usize, hi: usize) -> usize {
        self.query(1, 0, self.len, lo, hi)
    }

    /// Lower leaves `lo..hi` to at most `v`.
    fn claim(&mut self, lo: usize, hi: usize, v: usize) {
        self.update(1, 0, self.len, lo, hi, v);
    }

    fn query(&self, node: usize, nlo: usize, nhi: usize, lo: usize, hi: usize) -> usize {
        if hi <= nlo || nhi <= lo {
            return usize::MAX;
        }
        if lo <= nlo && nhi <= hi {
            return self.min[node];
        }
        let mid = (nlo + nhi) / 2;
        let below = self
            .query(2 * node, nlo, mid, lo, hi)
            .min(self.query(2 * node + 1, mid, nhi, lo, hi));
        // A bound set on this whole node applies to every leaf under it.
        below.min(self.pending[node])
    }

    fn update(&mut self, node: usize, nlo: usize, nhi: usize, lo: usize, hi: usize, v: usize) {
        if hi <= nlo || nhi <= lo {
            return;
        }
        if lo <= nlo && nhi <= hi {
            self.min[node] = self.min[node].min(v);
            self.pending[node] = self.pending[node].min(v);
            return;
        }
        let mid = (nlo + nhi) / 2;
        self.update(2 * node, nlo, mid, lo, hi, v);
        self.update(2 * node + 1, mid, nhi, lo, hi, v);
        self.min[node] = self.min[node].min(self.min[2 * node]).min(self.min[2 * node + 1]);
    }
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
    }
    // Each entry against the first earlier one it repeats: a list of
    // thousands of ports is not compared pair by pair.
    for (i, j) in first_claims(ranges.iter().enumerate().map(|(k, r)| (k, (), *r))) {
        push(
            &spec.ports.entry_path(j),
            "port_repeated",
            format!("ports {} repeat ports {} of this listener", ranges[j], ranges[i]),
        );
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
        health_check_shape(hc, &mut |path: &str, rule: &str, message: String| {
            push(&format!("health_check.{path}"), rule, message)
        });
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

    if let Some(access) = &spec.access {
        check_access(access, &mut push);
    }
}

/// Every neutral rule a health check breaks on its own, wherever it sits
/// (a listener's `health_check`, a backend pool's): ranges, then the
/// relations between its fields. Paths are relative to the health check.
pub fn health_check_violations(hc: &HealthCheck) -> Vec<Violation> {
    let mut out = Vec::new();
    if let Err(errors) = Validate::validate(hc) {
        flatten(&errors, "", &mut out);
    }
    health_check_shape(hc, &mut |path: &str, rule: &str, message: String| {
        out.push(Violation::new(path, rule, message))
    });
    out
}

/// The relations between a health check's fields that hold whatever it
/// checks: the timeout below the interval, a details section only with
/// its kind, an absolute probe path, status classes 1 to 5.
fn health_check_shape(hc: &HealthCheck, push: &mut impl FnMut(&str, &str, String)) {
    if let (Some(t), Some(i)) = (hc.timeout_secs, hc.interval_secs) {
        if t >= i {
            push(
                "timeout_secs",
                "timeout_below_interval",
                format!("probe timeout {t}s must be less than the interval {i}s"),
            );
        }
    }
    if hc.http.is_some() && hc.kind != Some(HealthCheckKind::Http) {
        push(
            "http",
            "section_needs_kind",
            "HTTP probe details need `kind = \"http\"`".into(),
        );
    }
    if hc.custom.is_some() && hc.kind != Some(HealthCheckKind::Custom) {
        push(
            "custom",
            "section_needs_kind",
            "payload probe details need `kind = \"custom\"`".into(),
        );
    }
    if let Some(http) = &hc.http {
        if let Some(path) = &http.path {
            if !path.starts_with('/') {
                push("http.path", "path_absolute", "must start with `/`".into());
            }
        }
        for (i, c) in http.healthy_status_classes.iter().enumerate() {
            if !crate::spec::STATUS_CLASSES.contains(c) {
                push(
                    &format!("http.healthy_status_classes[{i}]"),
                    "status_class",
                    format!("status class {c} is not one of 1 to 5 (1xx to 5xx)"),
                );
            }
        }
    }
}

/// Source-address access control: at least one CIDR (an empty allow list
/// reads as "allow everyone" on the vendors), each in canonical form (so
/// what the cloud reads back compares equal) and each once.
fn check_access(access: &crate::spec::Access, push: &mut impl FnMut(&str, &str, String)) {
    if access.cidrs.is_empty() {
        push(
            "access.cidrs",
            "access_empty",
            format!(
                "`mode = \"{}\"` needs at least one CIDR; remove `access` for no control",
                access.mode
            ),
        );
    }
    let mut seen = BTreeSet::new();
    for (i, cidr) in access.cidrs.iter().enumerate() {
        let path = format!("access.cidrs[{i}]");
        match crate::spec::canonical_cidr(cidr) {
            Err(why) => push(&path, "cidr_format", why),
            Ok(canon) if canon != *cidr => push(&path, "cidr_format", format!("write `{cidr}` as `{canon}`")),
            Ok(canon) => {
                if !seen.insert(canon) {
                    push(&path, "cidr_repeated", format!("`{cidr}` is listed twice"));
                }
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The pair-by-pair definition `first_claims` must agree with.
    fn brute(claims: &[(usize, u8, PortRange)]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for (j, kj, rj) in claims {
            let first = claims
                .iter()
                .filter(|(i, ki, ri)| i < j && ki == kj && ri.from <= ri.to && rj.from <= rj.to && ri.overlaps(rj))
                .map(|(i, _, _)| *i)
                .min();
            if let Some(i) = first {
                out.push((i, *j));
            }
        }
        out.sort_unstable_by_key(|&(i, j)| (j, i));
        out.dedup();
        out
    }

    #[test]
    fn first_claims_agrees_with_comparing_every_pair() {
        // A fixed linear congruential sequence: deterministic, no timing.
        let mut seed: u64 = 7;
        let mut next = |m: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % m
        };
        for round in 0..200 {
            let n = 1 + (round % 12);
            let mut claims = Vec::new();
            for i in 0..n {
                for _ in 0..=next(3) {
                    let from = next(40) as u32;
                    let to = if next(4) == 0 {
                        from.saturating_sub(1)
                    } else {
                        from + next(8) as u32
                    };
                    claims.push((i, next(2) as u8, PortRange { from, to }));
                }
            }
            assert_eq!(first_claims(claims.clone()), brute(&claims), "{claims:?}");
        }
    }

    #[test]
    fn every_listener_on_one_port_names_the_first_only() {
        let specs: Vec<ListenerSpec> = (0..5)
            .map(|i| ListenerSpec::new(format!("l{i}"), Protocol::Tcp, crate::spec::Ports::Single(80)))
            .collect();
        assert_eq!(port_clashes(&specs), vec![(0, 1), (0, 2), (0, 3), (0, 4)]);
    }

    #[test]
    fn extreme_ports_do_not_overflow() {
        let claims = vec![
            (0, 0u8, PortRange { from: 0, to: u32::MAX }),
            (
                1,
                0u8,
                PortRange {
                    from: u32::MAX,
                    to: u32::MAX,
                },
            ),
        ];
        assert_eq!(first_claims(claims), vec![(0, 1)]);
    }
}

#[cfg(test)]
mod access_tests {
    use std::path::Path;

    use crate::config::{ConfigFile, LoadError};
    use crate::parse::Format;
    use crate::spec::{canonical_cidr, Access, AccessMode, AccessMode::*};

    fn violations(text: &str, format: Format) -> Vec<(String, String)> {
        match ConfigFile::from_text(text, format, Path::new("t")) {
            Ok(_) => Vec::new(),
            Err(LoadError::Invalid { violations, .. }) => {
                violations.into_iter().map(|v| (v.path, v.rule.to_string())).collect()
            }
            Err(e) => panic!("unexpected load error: {e}"),
        }
    }

    #[test]
    fn toml_and_yaml_access_sections_parse_to_the_same_spec() {
        let toml = r#"
[[listeners]]
name = "web"
protocol = "http"
ports = 80
access = { mode = "allow", cidrs = ["10.0.0.0/8", "2001:db8::/32"] }
"#;
        let yaml = "listeners:\n  - name: web\n    protocol: http\n    ports: 80\n    access:\n      mode: allow\n      cidrs: [\"10.0.0.0/8\", \"2001:db8::/32\"]\n";
        let a = ConfigFile::from_text(toml, Format::Toml, Path::new("t.toml")).expect("toml");
        let b = ConfigFile::from_text(yaml, Format::Yaml, Path::new("t.yaml")).expect("yaml");
        let want = Access {
            mode: AccessMode::Allow,
            cidrs: vec!["10.0.0.0/8".into(), "2001:db8::/32".into()],
        };
        assert_eq!(a.listeners[0].access.as_ref(), Some(&want));
        assert_eq!(b.listeners[0].access.as_ref(), Some(&want));
    }

    #[test]
    fn bad_cidrs_are_named_by_their_document_path() {
        let toml = r#"
[[listeners]]
name = "a"
protocol = "http"
ports = 80

[[listeners]]
name = "b"
protocol = "tcp"
ports = 81
access = { mode = "deny", cidrs = ["10.0.0.0/8", "10.0.0.0/8", "10.1.2.3/8", "300.0.0.0/8", "::/129"] }
"#;
        let v = violations(toml, Format::Toml);
        assert!(
            v.contains(&("listeners[1].access.cidrs[1]".into(), "cidr_repeated".into())),
            "{v:?}"
        );
        assert!(
            v.contains(&("listeners[1].access.cidrs[2]".into(), "cidr_format".into())),
            "{v:?}"
        );
        assert!(
            v.contains(&("listeners[1].access.cidrs[3]".into(), "cidr_format".into())),
            "{v:?}"
        );
        assert!(
            v.contains(&("listeners[1].access.cidrs[4]".into(), "cidr_format".into())),
            "{v:?}"
        );
        assert_eq!(v.len(), 4, "{v:?}");
    }

    #[test]
    fn an_empty_list_and_an_unknown_mode_are_refused() {
        let empty =
            "[[listeners]]\nname = \"a\"\nprotocol = \"http\"\nports = 80\naccess = { mode = \"allow\", cidrs = [] }\n";
        assert_eq!(
            violations(empty, Format::Toml),
            vec![("listeners[0].access.cidrs".to_string(), "access_empty".to_string())]
        );
        let unknown = "[[listeners]]\nname = \"a\"\nprotocol = \"http\"\nports = 80\naccess = { mode = \"maybe\", cidrs = [\"10.0.0.0/8\"] }\n";
        assert!(ConfigFile::from_text(unknown, Format::Toml, Path::new("t")).is_err());
    }

    #[test]
    fn canonical_cidr_writes_single_addresses_with_their_full_prefix() {
        assert_eq!(canonical_cidr("10.0.0.1").as_deref(), Ok("10.0.0.1/32"));
        assert_eq!(canonical_cidr("2001:DB8::/32").as_deref(), Ok("2001:db8::/32"));
        assert_eq!(canonical_cidr("0.0.0.0/0").as_deref(), Ok("0.0.0.0/0"));
        assert!(canonical_cidr("10.0.0.1/24").is_err());
        assert!(canonical_cidr("10.0.0.0/+8").is_err());
        assert!(canonical_cidr("example.com/8").is_err());
        let _ = (Allow, Deny);
    }
}
