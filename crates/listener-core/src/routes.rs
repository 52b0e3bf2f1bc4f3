//! Routes and backend pools: the neutral model of what sits behind a
//! listener.
//!
//! A file names its **backends** once, at the top (`backends.web`), and
//! listeners refer to them by name: a listener's own `backend` (the one
//! backend of a layer-4 listener, the default backend of an HTTP/HTTPS
//! listener) and the `backend` of each of its **routes** (host + path
//! prefix). A backend is either described inline, as endpoints that the
//! adapter will create and own on each cloud, or *mapped*: `target`
//! names a target alias that each profile's `targets` map resolves to an
//! existing vendor pool, which the tool never changes.
//!
//! The vocabulary is the largest subset that all four supported APIs
//! can match identically (see `docs/routing.md`): lowercase hosts, exact
//! or with one leading `*.` label, and byte-wise path prefixes over a
//! small character set. Everything else (regular expressions, `?`
//! wildcards, header conditions, trailing-wildcard hosts) is refused here
//! rather than translated differently by each cloud.
//!
//! Validation is in two parts, both reported with document paths:
//! [`listener_violations`] checks what one listener holds (paths relative
//! to it, `routes[2].path`), and [`file_violations`] checks the
//! `backends` section and every name that refers to it
//! (`backends.web.endpoints[0].port`, `listeners[1].routes[0].backend`).

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::spec::{HealthCheck, ListenerSpec, Protocol, PORT_MAX, PORT_MIN};
use crate::validate::Violation;

/// The longest host a route may name: CLB and GAAP take 80 characters,
/// ALB and GA 128, so 80 is what all four take.
pub const HOST_MAX: usize = 80;
/// The shortest host (GAAP, ALB and GA need 3 characters).
pub const HOST_MIN: usize = 3;
/// The longest path prefix: GAAP takes 80 characters (CLB 200, ALB and
/// GA 128, the latter with the `*` the translation appends).
pub const PATH_MAX: usize = 80;
/// The lowest endpoint weight. Zero is refused: it means "no traffic" on
/// CLB, ALB and GA but is outside GAAP's 1 to 100.
pub const WEIGHT_MIN: u32 = 1;
/// The highest endpoint weight (CLB, GAAP, ALB: 100; GA: 255).
pub const WEIGHT_MAX: u32 = 100;
/// The weight of an endpoint that states none. The adapters always send
/// the weight explicitly, because the vendors' own defaults differ (10,
/// 1, 100, none).
pub const WEIGHT_DEFAULT: u32 = 100;
/// The longest backend name.
pub const BACKEND_NAME_MAX: usize = 64;

/// The pattern of a route host, as the schema states it, with the same
/// meaning as [`host_problem`] (a test runs both over a list of hosts):
/// optionally one leading `*.`, then at least two labels; labels of
/// `a-z 0-9 -`, 1 to 63 characters, not starting or ending with `-`; the
/// last label letters only. The length is the schema's `minLength` and
/// `maxLength`.
pub const HOST_PATTERN: &str = r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{1,63}$";
/// The pattern of a route path prefix, with the same meaning as
/// [`path_problem`]: `/`, or `/` followed by segments of
/// `A-Z a-z 0-9 . _ -` separated by single slashes, none of them `.` or
/// `..`, without a trailing slash.
pub const PATH_PATTERN: &str = r"^/(([A-Za-z0-9_-][A-Za-z0-9._-]*|\.[A-Za-z0-9_-][A-Za-z0-9._-]*|\.\.[A-Za-z0-9._-]+)(/([A-Za-z0-9_-][A-Za-z0-9._-]*|\.[A-Za-z0-9_-][A-Za-z0-9._-]*|\.\.[A-Za-z0-9._-]+))*)?$";
/// The pattern of a backend name (it appears in field paths, so no dots).
pub const BACKEND_NAME_PATTERN: &str = r"^[A-Za-z0-9][A-Za-z0-9_-]*$";

/// One route of an HTTP or HTTPS listener: requests for `host` whose
/// path starts with `path` go to `backend`. Host and path together
/// identify the route on its listener; two routes may not share both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// The host: exact (`api.example.com`) or one leading wildcard label
    /// (`*.example.com`, every host ending in `.example.com`, not
    /// `example.com` itself). Lowercase; matched case-insensitively.
    #[schemars(pattern(HOST_PATTERN), length(min = HOST_MIN, max = HOST_MAX))]
    pub host: String,
    /// The path prefix, matched byte by byte and case-sensitively:
    /// `/api` takes `/api`, `/api/users` and `/apix`. `/` (the default)
    /// takes every path of the host.
    #[serde(default = "root_path")]
    #[schemars(pattern(PATH_PATTERN), length(min = 1, max = PATH_MAX))]
    pub path: String,
    /// The certificate served for this host (SNI), by alias; HTTPS only.
    /// Every route of one host names the same certificate or none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(crate::spec::NOT_BLANK))]
    pub certificate: Option<String>,
    /// The name of the pool in the file's `backends`.
    #[schemars(pattern(BACKEND_NAME_PATTERN), length(min = 1, max = BACKEND_NAME_MAX))]
    pub backend: String,
}

fn root_path() -> String {
    "/".to_string()
}

impl Route {
    /// A route of `host` + `path` to `backend`, without a certificate.
    pub fn new(host: impl Into<String>, path: impl Into<String>, backend: impl Into<String>) -> Self {
        Route {
            host: host.into(),
            path: path.into(),
            certificate: None,
            backend: backend.into(),
        }
    }

    /// The suffix a wildcard host stands for (`.example.com` for
    /// `*.example.com`); `None` for an exact host.
    pub fn wildcard_suffix(&self) -> Option<&str> {
        self.host.strip_prefix('*')
    }

    /// The route as the resource traits take it (a pool by name).
    pub fn to_route_spec(&self) -> crate::resources::RouteSpec {
        crate::resources::RouteSpec::new(Some(&self.host), self.path.clone(), self.backend.clone())
            .with_certificate(self.certificate.clone())
    }
}

/// A backend pool: inline `endpoints` (with an optional health check),
/// or `target`, an existing vendor pool named by a target alias of each
/// profile. Exactly one of the two.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [
    { "required": ["endpoints"], "not": { "required": ["target"] } },
    { "required": ["target"], "not": { "anyOf": [{ "required": ["endpoints"] }, { "required": ["health_check"] }] } },
]))]
pub struct Backend {
    /// The endpoints, each an IP address or a domain name with a port and
    /// a weight. The adapter creates the vendor pool and owns it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(min = 1))]
    pub endpoints: Vec<BackendEndpoint>,
    /// Health checking of the endpoints, for the whole pool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<HealthCheck>,
    /// An existing vendor pool (server group, target group, endpoint
    /// group), by target alias: each profile's `targets` map gives its ID
    /// on that cloud. The tool forwards to it and never changes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(crate::spec::NOT_BLANK), length(min = 1, max = 128))]
    pub target: Option<String>,
}

impl Backend {
    /// A pool of `endpoints` without a health check.
    pub fn inline(endpoints: Vec<BackendEndpoint>) -> Self {
        Backend {
            endpoints,
            ..Backend::default()
        }
    }

    /// A pool mapped to the vendor pool of target alias `alias`.
    pub fn mapped(alias: impl Into<String>) -> Self {
        Backend {
            target: Some(alias.into()),
            ..Backend::default()
        }
    }

    /// Whether the pool is described in the file (the adapter makes it).
    pub fn is_inline(&self) -> bool {
        self.target.is_none()
    }

    /// The pool as the resource traits take it.
    pub fn to_pool_spec(&self, name: &str) -> crate::resources::PoolSpec {
        crate::resources::PoolSpec::new(
            name,
            self.endpoints
                .iter()
                .map(|e| {
                    let mut out = crate::resources::Endpoint::new(e.address.clone(), e.port);
                    out.weight = e.weight;
                    out
                })
                .collect(),
        )
        .with_health_check(self.health_check.clone())
    }
}

/// One endpoint of a backend pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackendEndpoint {
    /// An IPv4 or IPv6 address, or a domain name.
    #[schemars(length(min = 1, max = 253))]
    pub address: String,
    /// The port traffic goes to.
    #[schemars(range(min = PORT_MIN, max = PORT_MAX))]
    pub port: u32,
    /// Relative share of the pool's traffic, 1 to 100 (default 100).
    #[serde(default = "default_weight")]
    #[schemars(range(min = WEIGHT_MIN, max = WEIGHT_MAX))]
    pub weight: u32,
}

fn default_weight() -> u32 {
    WEIGHT_DEFAULT
}

impl BackendEndpoint {
    /// An endpoint of the default weight.
    pub fn new(address: impl Into<String>, port: u32) -> Self {
        BackendEndpoint {
            address: address.into(),
            port,
            weight: WEIGHT_DEFAULT,
        }
    }
}

/// Why `host` is not a route host, or `None` when it is one. The rules
/// are the common subset of the four APIs (`docs/routing.md`).
pub fn host_problem(host: &str) -> Option<String> {
    if host.len() < HOST_MIN || host.len() > HOST_MAX {
        return Some(format!("must be {HOST_MIN} to {HOST_MAX} characters"));
    }
    if host.chars().any(|c| c.is_ascii_uppercase()) {
        return Some(format!(
            "hosts are written in lowercase (they match case-insensitively): `{}`",
            host.to_ascii_lowercase()
        ));
    }
    let (wildcard, rest) = match host.strip_prefix("*.") {
        Some(rest) => (true, rest),
        None => (false, host),
    };
    if rest.contains('*') || (!wildcard && host.starts_with('*')) {
        return Some(
            "a wildcard is one leading `*.` label (`*.example.com`); `*` elsewhere, trailing wildcards and \
             regular expressions are not matched alike on every cloud"
                .into(),
        );
    }
    if let Some(c) = rest
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '.'))
    {
        return Some(format!(
            "`{c}` is not allowed: hosts use `a-z`, `0-9`, `-` and `.` (and one leading `*.`)"
        ));
    }
    let labels: Vec<&str> = rest.split('.').collect();
    if labels.len() < 2 {
        return Some(if wildcard {
            "a wildcard covers a name of at least two labels (`*.example.com`)".into()
        } else {
            "a host has at least two labels (`example.com`)".into()
        });
    }
    for label in &labels {
        if label.is_empty() {
            return Some("empty label: no leading, trailing or double dots".into());
        }
        if label.len() > 63 {
            return Some(format!("label `{label}` is longer than 63 characters"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Some(format!("label `{label}` starts or ends with `-`"));
        }
    }
    let last = labels[labels.len() - 1];
    if !last.chars().all(|c| c.is_ascii_lowercase()) {
        return Some(format!(
            "the last label (`{last}`) is letters only; IP addresses are not route hosts"
        ));
    }
    None
}

/// Why `path` is not a route path prefix, or `None` when it is one.
pub fn path_problem(path: &str) -> Option<String> {
    if path.is_empty() || path.len() > PATH_MAX {
        return Some(format!("must be 1 to {PATH_MAX} characters"));
    }
    if !path.starts_with('/') {
        return Some("must start with `/`".into());
    }
    if let Some(c) = path
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/')))
    {
        return Some(format!(
            "`{c}` is not allowed: paths use `A-Z`, `a-z`, `0-9`, `.`, `_`, `-` and `/` (no wildcards, \
             regular expressions, query strings or percent-encoding)"
        ));
    }
    if path.len() > 1 && path.ends_with('/') {
        return Some(format!(
            "no trailing `/` (write `{}`): the clouds treat a trailing slash differently (CLB redirects, \
             ALB and GA patterns would not match the bare path)",
            path.trim_end_matches('/')
        ));
    }
    if path.contains("//") {
        return Some("empty segment (`//`)".into());
    }
    if path.split('/').any(|seg| seg == "." || seg == "..") {
        return Some("`.` and `..` segments are not allowed".into());
    }
    None
}

/// Why `address` is not an endpoint address (an IP address or a domain
/// name), or `None` when it is one.
pub fn address_problem(address: &str) -> Option<String> {
    if address.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    if address.is_empty() || address.len() > 253 {
        return Some("must be an IP address or a domain name of 1 to 253 characters".into());
    }
    let bad = address.split('.').any(|label| {
        label.is_empty()
            || label.len() > 63
            || label.starts_with('-')
            || label.ends_with('-')
            || !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    });
    if bad {
        return Some(format!("`{address}` is neither an IP address nor a domain name"));
    }
    if address.split('.').all(|l| l.chars().all(|c| c.is_ascii_digit())) {
        return Some(format!("`{address}` is not a valid IP address"));
    }
    None
}

/// The rules one listener's `backend` and `routes` must follow, with
/// paths relative to the listener. Names are checked against the file's
/// `backends` by [`file_violations`].
pub fn listener_violations(spec: &ListenerSpec, out: &mut Vec<Violation>) {
    let p = spec.protocol;
    let default_target = spec.forwarding.as_ref().and_then(|f| f.default_target.as_ref());
    if let Some(b) = &spec.backend {
        if b.trim().is_empty() {
            out.push(Violation::new("backend", "backend_blank", "must name a backend"));
        }
        if default_target.is_some() {
            out.push(Violation::new(
                "backend",
                "default_conflict",
                "a listener has one default backend: `backend` (a pool of `backends`) or \
                 `forwarding.default_target` (a vendor pool by target alias), not both",
            ));
        }
    }
    if spec.routes.is_empty() {
        return;
    }
    if !matches!(p, Protocol::Http | Protocol::Https) {
        out.push(Violation::new(
            "routes",
            "routes_http_only",
            format!("routes match HTTP hosts and paths; a {p} listener forwards to its one `backend`"),
        ));
    } else if spec.backend.is_none() && default_target.is_none() {
        out.push(Violation::new(
            "routes",
            "routes_need_default",
            "a listener with routes needs a default backend for the requests no route matches: set \
             `backend` (or `forwarding.default_target`)",
        ));
    }
    let mut seen: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut host_cert: BTreeMap<&str, (usize, &str)> = BTreeMap::new();
    for (i, r) in spec.routes.iter().enumerate() {
        let at = |field: &str| format!("routes[{i}].{field}");
        if let Some(why) = host_problem(&r.host) {
            out.push(Violation::new(at("host"), "host_format", why));
        }
        if let Some(why) = path_problem(&r.path) {
            out.push(Violation::new(at("path"), "path_format", why));
        }
        if r.backend.trim().is_empty() {
            out.push(Violation::new(at("backend"), "backend_blank", "must name a backend"));
        }
        match seen.entry((r.host.as_str(), r.path.as_str())) {
            std::collections::btree_map::Entry::Occupied(first) => out.push(Violation::new(
                format!("routes[{i}]"),
                "route_repeated",
                format!(
                    "routes[{}] already routes host `{}` and path `{}`",
                    first.get(),
                    r.host,
                    r.path
                ),
            )),
            std::collections::btree_map::Entry::Vacant(slot) => {
                slot.insert(i);
            }
        }
        if let Some(cert) = &r.certificate {
            if p != Protocol::Https {
                out.push(Violation::new(
                    at("certificate"),
                    "https_only",
                    format!("a per-host certificate needs an HTTPS listener, not {p}"),
                ));
            }
            if cert.trim().is_empty() {
                out.push(Violation::new(
                    at("certificate"),
                    "alias_blank",
                    "an alias must not be blank",
                ));
            }
            match host_cert.get(r.host.as_str()) {
                Some((j, other)) if *other != cert.as_str() => out.push(Violation::new(
                    at("certificate"),
                    "certificate_conflict",
                    format!(
                        "routes[{j}] serves host `{}` with certificate `{other}`; a host has one certificate",
                        r.host
                    ),
                )),
                Some(_) => {}
                None => {
                    host_cert.insert(r.host.as_str(), (i, cert.as_str()));
                }
            }
        }
    }
}

/// The rules of the `backends` section, and of every name that refers
/// to it from `listeners`; paths from the document's root.
pub fn file_violations(backends: &BTreeMap<String, Backend>, listeners: &[ListenerSpec]) -> Vec<Violation> {
    let mut out = Vec::new();
    for (name, b) in backends {
        let at = |field: &str| {
            if field.is_empty() {
                format!("backends.{name}")
            } else {
                format!("backends.{name}.{field}")
            }
        };
        if name.is_empty()
            || name.len() > BACKEND_NAME_MAX
            || !name.starts_with(|c: char| c.is_ascii_alphanumeric())
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            out.push(Violation::new(
                at(""),
                "backend_name",
                format!(
                    "a backend name is 1 to {BACKEND_NAME_MAX} characters of `A-Z a-z 0-9 _ -`, starting with a \
                     letter or digit"
                ),
            ));
        }
        match (&b.target, b.endpoints.is_empty()) {
            (None, true) => out.push(Violation::new(
                at(""),
                "backend_empty",
                "a backend lists `endpoints`, or names an existing vendor pool with `target`",
            )),
            (Some(_), false) => out.push(Violation::new(
                at("target"),
                "backend_kind",
                "a backend is either inline (`endpoints`) or an existing vendor pool (`target`), not both",
            )),
            _ => {}
        }
        if let Some(t) = &b.target {
            if t.trim().is_empty() || t.len() > 128 {
                out.push(Violation::new(
                    at("target"),
                    "alias_blank",
                    "a target alias is 1 to 128 characters, not blank",
                ));
            }
            if b.health_check.is_some() {
                out.push(Violation::new(
                    at("health_check"),
                    "backend_mapped",
                    "an existing vendor pool keeps its own health check; the tool never changes it",
                ));
            }
        }
        let mut seen = BTreeSet::new();
        for (i, e) in b.endpoints.iter().enumerate() {
            let at = |field: &str| format!("backends.{name}.endpoints[{i}].{field}");
            if let Some(why) = address_problem(&e.address) {
                out.push(Violation::new(at("address"), "address_format", why));
            }
            if !(PORT_MIN..=PORT_MAX).contains(&e.port) {
                out.push(Violation::new(
                    at("port"),
                    "port_range",
                    format!("port {} is outside 1 to 65535", e.port),
                ));
            }
            if !(WEIGHT_MIN..=WEIGHT_MAX).contains(&e.weight) {
                out.push(Violation::new(
                    at("weight"),
                    "weight_range",
                    format!(
                        "weight {} is outside {WEIGHT_MIN} to {WEIGHT_MAX} (0 is not accepted alike by every cloud)",
                        e.weight
                    ),
                ));
            }
            if !seen.insert((e.address.to_ascii_lowercase(), e.port)) {
                out.push(Violation::new(
                    format!("backends.{name}.endpoints[{i}]"),
                    "endpoint_repeated",
                    format!("{}:{} is listed twice", e.address, e.port),
                ));
            }
        }
        if let Some(hc) = &b.health_check {
            out.extend(
                crate::validate::health_check_violations(hc)
                    .into_iter()
                    .map(|v| v.prefixed(&at("health_check"))),
            );
        }
    }
    let unknown = |name: &str| {
        format!(
            "no backend is named `{name}` (backends: {})",
            if backends.is_empty() {
                "none".to_string()
            } else {
                backends.keys().cloned().collect::<Vec<_>>().join(", ")
            }
        )
    };
    for (i, spec) in listeners.iter().enumerate() {
        if let Some(b) = &spec.backend {
            if !b.trim().is_empty() && !backends.contains_key(b) {
                out.push(Violation::new(
                    format!("listeners[{i}].backend"),
                    "backend_unknown",
                    unknown(b),
                ));
            }
        }
        for (j, r) in spec.routes.iter().enumerate() {
            if !r.backend.trim().is_empty() && !backends.contains_key(&r.backend) {
                out.push(Violation::new(
                    format!("listeners[{i}].routes[{j}].backend"),
                    "backend_unknown",
                    unknown(&r.backend),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{ConfigFile, LoadError};
    use crate::parse::Format;

    const TOML: &str = r#"
[backends.web]
endpoints = [
  { address = "10.0.0.1", port = 8080, weight = 60 },
  { address = "10.0.0.2", port = 8080 },
]
health_check = { kind = "http", interval_secs = 5, timeout_secs = 2, http = { path = "/healthz" } }

[backends.api]
endpoints = [{ address = "api.internal.example", port = 9000 }]

[backends.legacy]
target = "legacy-servers"

[[listeners]]
name = "site"
protocol = "https"
ports = 443
tls = { certificates = ["site-cert"], sni = true }
backend = "web"
routes = [
  { host = "api.example.com", path = "/v1", backend = "api", certificate = "api-cert" },
  { host = "api.example.com", path = "/v1/old", backend = "legacy" },
  { host = "*.example.com", backend = "web" },
]

[[listeners]]
name = "db"
protocol = "tcp"
ports = 5432
backend = "legacy"
"#;

    const YAML: &str = r#"
backends:
  web:
    endpoints:
      - { address: 10.0.0.1, port: 8080, weight: 60 }
      - { address: 10.0.0.2, port: 8080 }
    health_check:
      kind: http
      interval_secs: 5
      timeout_secs: 2
      http: { path: /healthz }
  api:
    endpoints: [{ address: api.internal.example, port: 9000 }]
  legacy:
    target: legacy-servers
listeners:
  - name: site
    protocol: https
    ports: 443
    tls: { certificates: [site-cert], sni: true }
    backend: web
    routes:
      - { host: api.example.com, path: /v1, backend: api, certificate: api-cert }
      - { host: api.example.com, path: /v1/old, backend: legacy }
      - { host: "*.example.com", backend: web }
  - name: db
    protocol: tcp
    ports: 5432
    backend: legacy
"#;

    fn load(text: &str, format: Format) -> Result<ConfigFile, LoadError> {
        ConfigFile::from_text(text, format, Path::new("t"))
    }

    /// `(path, rule)` of every violation of a file that parses.
    fn violations(text: &str) -> Vec<(String, String)> {
        match load(text, Format::Toml) {
            Ok(_) => Vec::new(),
            Err(LoadError::Invalid { violations, .. }) => violations.into_iter().map(|v| (v.path, v.rule)).collect(),
            Err(e) => panic!("unexpected load error: {e}"),
        }
    }

    fn has(v: &[(String, String)], path: &str, rule: &str) -> bool {
        v.iter().any(|(p, r)| p == path && r == rule)
    }

    #[test]
    fn toml_yaml_and_json_read_the_same_routes_and_backends() {
        let a = load(TOML, Format::Toml).expect("toml");
        let b = load(YAML, Format::Yaml).expect("yaml");
        let json = serde_json::to_string_pretty(&a).expect("serializes");
        let c = load(&json, Format::Json).expect("json");
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.backends["web"].endpoints[1].weight, WEIGHT_DEFAULT);
        assert_eq!(a.listeners[0].routes[2].path, "/", "the path defaults to `/`");
        assert_eq!(a.backends["legacy"].target.as_deref(), Some("legacy-servers"));
        // And back out through every writer.
        for format in [Format::Toml, Format::Yaml, Format::Json] {
            let text = crate::parse::to_string(&a, format).expect("writes");
            assert_eq!(load(&text, format).expect("reads back"), a, "{format:?}");
        }
    }

    #[test]
    fn files_without_routes_or_backends_read_as_before() {
        let old = "[[listeners]]\nname = \"a\"\nprotocol = \"http\"\nports = 80\nforwarding = { default_target = \"web-servers\" }\n";
        let f = load(old, Format::Toml).expect("valid");
        assert!(f.backends.is_empty() && f.listeners[0].routes.is_empty() && f.listeners[0].backend.is_none());
        let out = crate::parse::to_string(&f, Format::Toml).expect("writes");
        assert!(!out.contains("routes") && !out.contains("backend"), "{out}");
    }

    #[test]
    fn bad_hosts_and_paths_are_named_by_their_route() {
        let v = violations(
            r#"
[backends.web]
endpoints = [{ address = "10.0.0.1", port = 80 }]

[[listeners]]
name = "a"
protocol = "tcp"
ports = 81

[[listeners]]
name = "b"
protocol = "http"
ports = 80
backend = "web"
routes = [
  { host = "Api.example.com", path = "/", backend = "web" },
  { host = "www.example.*", path = "/", backend = "web" },
  { host = "a.example.com", path = "/api/", backend = "web" },
  { host = "a.example.com", path = "/api*", backend = "web" },
  { host = "a.*.example.com", path = "/", backend = "web" },
  { host = "*.com", path = "/", backend = "web" },
  { host = "10.0.0.1", path = "/", backend = "web" },
  { host = "a.example.com", path = "api", backend = "web" },
  { host = "a.example.com", path = "/a//b", backend = "web" },
  { host = "-a.example.com", path = "/", backend = "web" },
]
"#,
        );
        for (i, field, rule) in [
            (0, "host", "host_format"),
            (1, "host", "host_format"),
            (2, "path", "path_format"),
            (3, "path", "path_format"),
            (4, "host", "host_format"),
            (5, "host", "host_format"),
            (6, "host", "host_format"),
            (7, "path", "path_format"),
            (8, "path", "path_format"),
            (9, "host", "host_format"),
        ] {
            let path = format!("listeners[1].routes[{i}].{field}");
            assert!(has(&v, &path, rule), "{path} {rule}: {v:?}");
        }
        assert_eq!(v.len(), 10, "{v:?}");
    }

    #[test]
    fn references_duplicates_and_misplaced_routes_are_refused() {
        let v = violations(
            r#"
[backends.web]
endpoints = [{ address = "10.0.0.1", port = 80 }]

[[listeners]]
name = "a"
protocol = "tcp"
ports = 81
routes = [{ host = "a.example.com", backend = "web" }]

[[listeners]]
name = "b"
protocol = "http"
ports = 80
backend = "nope"
routes = [
  { host = "a.example.com", path = "/x", backend = "web" },
  { host = "a.example.com", path = "/x", backend = "web" },
  { host = "b.example.com", path = "/", backend = "missing", certificate = "c" },
]

[[listeners]]
name = "c"
protocol = "https"
ports = 443
tls = { certificates = ["site"] }
forwarding = { default_target = "pool" }
backend = "web"
routes = [
  { host = "a.example.com", path = "/", backend = "web", certificate = "one" },
  { host = "a.example.com", path = "/x", backend = "web", certificate = "two" },
]

[[listeners]]
name = "d"
protocol = "http"
ports = 8080
routes = [{ host = "a.example.com", backend = "web" }]
"#,
        );
        assert!(has(&v, "listeners[0].routes", "routes_http_only"), "{v:?}");
        assert!(has(&v, "listeners[1].backend", "backend_unknown"), "{v:?}");
        assert!(has(&v, "listeners[1].routes[1]", "route_repeated"), "{v:?}");
        assert!(has(&v, "listeners[1].routes[2].backend", "backend_unknown"), "{v:?}");
        assert!(has(&v, "listeners[1].routes[2].certificate", "https_only"), "{v:?}");
        assert!(has(&v, "listeners[2].backend", "default_conflict"), "{v:?}");
        assert!(
            has(&v, "listeners[2].routes[1].certificate", "certificate_conflict"),
            "{v:?}"
        );
        assert!(has(&v, "listeners[3].routes", "routes_need_default"), "{v:?}");
        assert_eq!(v.len(), 8, "{v:?}");
    }

    #[test]
    fn bad_pools_are_named_by_their_backend_path() {
        let v = violations(
            r#"
[backends.web]
endpoints = [
  { address = "10.0.0.1", port = 0 },
  { address = "10.0.0.2", port = 80, weight = 0 },
  { address = "10.0.0.2", port = 80, weight = 101 },
  { address = "not an address", port = 80 },
  { address = "300.1.1.1", port = 80 },
]
health_check = { interval_secs = 2, timeout_secs = 5 }

[backends.empty]

[backends.both]
endpoints = [{ address = "10.0.0.1", port = 80 }]
target = "x"

[backends.mapped]
target = "x"
health_check = { interval_secs = 5 }

[backends."bad.name"]
target = "y"

[[listeners]]
name = "a"
protocol = "tcp"
ports = 81
backend = "web"
"#,
        );
        for (path, rule) in [
            ("backends.web.endpoints[0].port", "port_range"),
            ("backends.web.endpoints[1].weight", "weight_range"),
            ("backends.web.endpoints[2].weight", "weight_range"),
            ("backends.web.endpoints[2]", "endpoint_repeated"),
            ("backends.web.endpoints[3].address", "address_format"),
            ("backends.web.endpoints[4].address", "address_format"),
            ("backends.web.health_check.timeout_secs", "timeout_below_interval"),
            ("backends.empty", "backend_empty"),
            ("backends.both.target", "backend_kind"),
            ("backends.mapped.health_check", "backend_mapped"),
            ("backends.bad.name", "backend_name"),
        ] {
            assert!(has(&v, path, rule), "{path} {rule}: {v:?}");
        }
        assert_eq!(v.len(), 11, "{v:?}");
    }

    #[test]
    fn type_errors_inside_a_backend_name_its_path() {
        let text = "[backends.web]\nendpoints = [{ address = \"10.0.0.1\", port = \"http\" }]\n\n[backends.api]\nendpoints = [{ address = \"10.0.0.2\", port = 80, wieght = 5 }]\n\n[[listeners]]\nname = \"a\"\nprotocol = \"tcp\"\nports = 80\n";
        match load(text, Format::Toml) {
            Err(LoadError::Parse { errors, .. }) => {
                let paths: Vec<_> = errors.iter().filter_map(|e| e.path.clone()).collect();
                assert!(
                    paths.contains(&"backends.web.endpoints[0].port".to_string()),
                    "{paths:?}"
                );
                assert!(
                    paths.iter().any(|p| p.starts_with("backends.api.endpoints[0]")),
                    "{paths:?}"
                );
            }
            other => panic!("expected parse errors, got {other:?}"),
        }
    }

    #[test]
    fn host_and_path_rules_accept_the_common_subset() {
        for ok in [
            "example.com",
            "a-b.example.com",
            "*.example.com",
            "*.a.example.com",
            "x1.example.io",
        ] {
            assert_eq!(host_problem(ok), None, "{ok}");
        }
        for ok in ["/", "/api", "/api/v1", "/a.b_c-d", "/API"] {
            assert_eq!(path_problem(ok), None, "{ok}");
        }
        for ok in ["10.0.0.1", "2001:db8::1", "api.internal", "backend"] {
            assert_eq!(address_problem(ok), None, "{ok}");
        }
    }
}

#[cfg(test)]
mod properties {
    //! Files with routes and backends survive a write and a read in every
    //! format unchanged, and what validation accepts it accepts again.
    use proptest::prelude::*;

    use super::*;
    use crate::config::ConfigFile;
    use crate::parse::{config_from_str, to_string, Format};
    use crate::spec::{Ports, Protocol};

    fn endpoint() -> impl Strategy<Value = BackendEndpoint> {
        (
            prop_oneof![
                "10\\.[0-9]{1,2}\\.[0-9]{1,2}\\.[0-9]{1,2}",
                "[a-z]{1,8}(\\.[a-z]{1,6}){0,2}",
                Just("2001:db8::1".to_string()),
            ],
            1u32..=65535,
            1u32..=100,
        )
            .prop_map(|(address, port, weight)| BackendEndpoint { address, port, weight })
    }

    fn backend() -> impl Strategy<Value = Backend> {
        prop_oneof![
            proptest::collection::vec(endpoint(), 1..4).prop_map(Backend::inline),
            "[a-z][a-z0-9-]{0,10}".prop_map(Backend::mapped),
        ]
    }

    fn route(names: Vec<String>) -> impl Strategy<Value = Route> {
        (
            prop_oneof!["[a-z]{1,6}\\.example\\.com", "\\*\\.[a-z]{1,6}\\.example\\.com"],
            prop_oneof![Just("/".to_string()), "(/[A-Za-z0-9._-]{1,6}){1,3}"],
            proptest::option::of("[a-z][a-z0-9-]{0,8}"),
            proptest::sample::select(names),
        )
            .prop_map(|(host, path, certificate, backend)| Route {
                host,
                path,
                certificate,
                backend,
            })
    }

    fn file() -> impl Strategy<Value = ConfigFile> {
        proptest::collection::btree_map("[A-Za-z0-9][A-Za-z0-9_-]{0,8}", backend(), 1..4).prop_flat_map(|backends| {
            let names: Vec<String> = backends.keys().cloned().collect();
            (
                Just(backends),
                proptest::collection::vec(route(names.clone()), 0..6),
                proptest::sample::select(names),
            )
                .prop_map(|(backends, routes, default)| {
                    let mut l = ListenerSpec::new("site", Protocol::Http, Ports::Single(80));
                    l.backend = Some(default);
                    l.routes = routes;
                    ConfigFile {
                        default_profile: None,
                        profiles: Default::default(),
                        backends,
                        listeners: vec![l],
                    }
                })
        })
    }

    proptest! {
        #[test]
        fn routes_and_backends_round_trip_in_every_format(f in file()) {
            for format in [Format::Toml, Format::Yaml, Format::Json] {
                let text = to_string(&f, format).map_err(TestCaseError::fail)?;
                let back = config_from_str(&text, format)
                    .map_err(|e| TestCaseError::fail(format!("{format:?}: {e:?}\n{text}")))?;
                prop_assert_eq!(&back, &f, "{:?}\n{}", format, text);
                prop_assert_eq!(back.violations(), f.violations());
            }
        }
    }
}
