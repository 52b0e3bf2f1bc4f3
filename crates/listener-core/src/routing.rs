//! The neutral routing semantics, as one resolver.
//!
//! `docs/routing.md` states the rules in words; this module is the same
//! rules as code, and the one place that decides where a request goes
//! "according to the file": `listenerctl trace` asks it, and the adapters'
//! translations are tested against it (each cloud must route every
//! request as [`resolve`] does, or refuse the file).
//!
//! In short, for a request with host `H` and path `P` on a listener:
//!
//! 1. **Host.** The routes whose host is exactly `H` (compared without
//!    case, the port removed) form the route set. If there are none, the
//!    routes of the wildcard host with the **longest** suffix that `H`
//!    ends in (`*.a.example.com` before `*.example.com`) form it. If no
//!    route host matches, the request goes to the default backend.
//! 2. **Path.** Within that set the route with the **longest** path that
//!    is a byte-wise prefix of `P` wins (case-sensitive; `/api` takes
//!    `/apix` too). If none is, the request goes to the default backend:
//!    a host that matches is never tried against a less specific host.
//!
//! Neither step depends on the order of the routes in the file.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::routes::{Backend, BackendEndpoint, Route};
use crate::spec::ListenerSpec;

/// How specific a route host is for one request host: an exact host
/// beats every wildcard, and a longer wildcard suffix beats a shorter one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HostMatch {
    /// A wildcard host; the length of the suffix it stands for
    /// (`.example.com` is 12).
    Wildcard(usize),
    /// The exact host.
    Exact,
}

/// The request host as routes compare it: lowercase, without the port
/// (`Api.Example.com:8443` is `api.example.com`; `[::1]:443` is `[::1]`).
pub fn normalize_host(host: &str) -> String {
    let host = host.trim();
    let without_port = if host.starts_with('[') {
        // An IPv6 literal keeps its brackets; only a port after `]` goes.
        match host.find(']') {
            Some(end) => &host[..=end],
            None => host,
        }
    } else {
        match host.rsplit_once(':') {
            Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
            _ => host,
        }
    };
    without_port.to_ascii_lowercase()
}

/// The request path as routes compare it: the request target without its
/// query string or fragment; an empty path is `/`. No percent-decoding
/// and no case folding (route paths hold neither `%` nor meaning in case).
pub fn normalize_path(target: &str) -> &str {
    let end = target.find(['?', '#']).unwrap_or(target.len());
    let path = &target[..end];
    if path.is_empty() {
        "/"
    } else {
        path
    }
}

/// How route host `pattern` matches the normalized request `host`, if it
/// does. A wildcard needs at least one character before its suffix, so
/// `*.example.com` does not match `example.com`.
pub fn host_match(pattern: &str, host: &str) -> Option<HostMatch> {
    match pattern.strip_prefix('*') {
        Some(suffix) => {
            let suffix_lc = suffix.to_ascii_lowercase();
            (host.len() > suffix_lc.len() && host.ends_with(&suffix_lc)).then_some(HostMatch::Wildcard(suffix.len()))
        }
        None => pattern.eq_ignore_ascii_case(host).then_some(HostMatch::Exact),
    }
}

/// Whether route path `prefix` takes request path `path`: byte-wise,
/// case-sensitive prefix.
pub fn path_match(prefix: &str, path: &str) -> bool {
    path.as_bytes().starts_with(prefix.as_bytes())
}

/// The route that takes a request, by the rules of the module docs:
/// `Some(index into routes)`, or `None` for the default backend.
/// `host` and `path` are normalized here, so raw header and request
/// target values may be passed.
///
/// In a valid file no two routes share host and path, so the answer
/// does not depend on the order of `routes`; should an invalid list hold
/// such a pair, the first of them is taken.
pub fn select(routes: &[Route], host: &str, path: &str) -> Option<usize> {
    let host = normalize_host(host);
    let path = normalize_path(path);
    // Step 1: the most specific host among the routes that match.
    let best_host = routes.iter().filter_map(|r| host_match(&r.host, &host)).max()?;
    // Step 2: the longest path prefix among that host's routes.
    let mut best: Option<usize> = None;
    for (i, r) in routes.iter().enumerate() {
        if host_match(&r.host, &host) != Some(best_host) || !path_match(&r.path, path) {
            continue;
        }
        if best.is_none_or(|b| r.path.len() > routes[b].path.len()) {
            best = Some(i);
        }
    }
    best
}

/// The certificate alias served to a TLS client asking for `host` (SNI):
/// of the route hosts that match `host` and name a certificate, the most
/// specific one's (exact, then the longest wildcard suffix); `None` when
/// none does, and the listener's first certificate serves. It depends on
/// the host alone, not on the path or on which route takes the request:
/// the TLS handshake happens before the request is read.
pub fn certificate_for<'a>(routes: &'a [Route], host: &str) -> Option<&'a str> {
    let host = normalize_host(host);
    routes
        .iter()
        .filter_map(|r| Some((host_match(&r.host, &host)?, r.certificate.as_deref()?)))
        .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(a.1)))
        .map(|(_, cert)| cert)
}

/// Where a request ends up, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Destination<'a> {
    /// A pool of the file's `backends`; `pool` is `None` when the name is
    /// not there (a file that did not pass validation).
    Backend {
        /// The backend's name.
        name: &'a str,
        /// The pool, inline or mapped.
        #[serde(skip)]
        pool: Option<&'a Backend>,
    },
    /// An existing vendor pool by target alias (`forwarding.default_target`).
    Target {
        /// The target alias.
        alias: &'a str,
    },
    /// No backend at all: the listener has neither a route that matches
    /// nor a default backend (valid only for a listener without routes).
    Nothing,
}

impl<'a> Destination<'a> {
    /// The endpoints of an inline pool; empty for a vendor pool or nothing.
    pub fn endpoints(&self) -> &'a [BackendEndpoint] {
        match self {
            Destination::Backend { pool: Some(p), .. } => &p.endpoints,
            _ => &[],
        }
    }

    /// The target alias the destination reaches a vendor pool by: a
    /// default target, or a mapped backend's `target`.
    pub fn target_alias(&self) -> Option<&'a str> {
        match self {
            Destination::Target { alias } => Some(alias),
            Destination::Backend { pool: Some(p), .. } => p.target.as_deref(),
            _ => None,
        }
    }
}

/// The answer to "where does this request go" on one listener.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolution<'a> {
    /// The index of the route taken in the listener's `routes`; `None`
    /// when the default backend takes the request.
    pub route: Option<usize>,
    /// The route taken, when one is.
    #[serde(skip)]
    pub matched: Option<&'a Route>,
    /// Where the request goes.
    pub destination: Destination<'a>,
}

impl<'a> Resolution<'a> {
    /// The endpoints reached (see [`Destination::endpoints`]).
    pub fn endpoints(&self) -> &'a [BackendEndpoint] {
        self.destination.endpoints()
    }
}

/// The listener's default destination: its `backend`, else its
/// `forwarding.default_target`, else nothing.
pub fn default_destination<'a>(listener: &'a ListenerSpec, backends: &'a BTreeMap<String, Backend>) -> Destination<'a> {
    if let Some(name) = &listener.backend {
        return Destination::Backend {
            name,
            pool: backends.get(name),
        };
    }
    match listener.forwarding.as_ref().and_then(|f| f.default_target.as_deref()) {
        Some(alias) => Destination::Target { alias },
        None => Destination::Nothing,
    }
}

/// Where a request for `host` and `path` on `listener` goes, with the
/// file's `backends` to name the endpoints. A layer-4 listener has no
/// routes, so every request takes its default destination.
pub fn resolve<'a>(
    listener: &'a ListenerSpec,
    backends: &'a BTreeMap<String, Backend>,
    host: &str,
    path: &str,
) -> Resolution<'a> {
    match select(&listener.routes, host, path) {
        Some(i) => {
            let r = &listener.routes[i];
            Resolution {
                route: Some(i),
                matched: Some(r),
                destination: Destination::Backend {
                    name: &r.backend,
                    pool: backends.get(&r.backend),
                },
            }
        }
        None => Resolution {
            route: None,
            matched: None,
            destination: default_destination(listener, backends),
        },
    }
}

/// The routes of one listener in **evaluation order** for clouds that
/// try rules one by one by priority (ALB, GA): most specific host first
/// (exact, then wildcards by decreasing suffix length), and within a host
/// the longest path first, each host closed by a catch-all `/` to the
/// default backend unless it has its own `/` route (so a matched host
/// never falls through to a less specific one). Each entry is
/// `Some(route index)` or `None` for such a catch-all, with its host.
///
/// Trying these in order, first match wins, routes every request as
/// [`select`] does (a property test checks it); the adapters derive
/// their priorities from this order.
pub fn evaluation_order(routes: &[Route]) -> Vec<(String, Option<usize>)> {
    let mut hosts: Vec<&str> = routes.iter().map(|r| r.host.as_str()).collect();
    hosts.sort_unstable();
    hosts.dedup();
    // Exact hosts first, then wildcards by decreasing suffix length; ties
    // by name so the order is total.
    hosts.sort_by(|a, b| {
        let rank = |h: &str| match h.strip_prefix('*') {
            Some(s) => (1, usize::MAX - s.len()),
            None => (0, 0),
        };
        rank(a).cmp(&rank(b)).then(a.cmp(b))
    });
    let mut out = Vec::new();
    for host in hosts {
        let mut own: Vec<usize> = (0..routes.len()).filter(|&i| routes[i].host == host).collect();
        own.sort_by(|&a, &b| {
            routes[b]
                .path
                .len()
                .cmp(&routes[a].path.len())
                .then(routes[a].path.cmp(&routes[b].path))
        });
        let has_root = own.iter().any(|&i| routes[i].path == "/");
        out.extend(own.into_iter().map(|i| (host.to_string(), Some(i))));
        if !has_root {
            out.push((host.to_string(), None));
        }
    }
    out
}

/// Pairs of route indices `(i, j)`, `i < j`, whose wildcard hosts differ
/// and nest (`*.example.com` and `*.a.example.com`): one request host can
/// match both, and the neutral rules then take the longer suffix. A cloud
/// that does not order hits within its wildcard tier (CLB) cannot express
/// that and refuses such a pair; without one, a request host matches at
/// most one wildcard host (a property test checks it), so any wildcard
/// order routes alike. Each pair of hosts is reported once, by the first
/// route of each.
pub fn nested_wildcards(routes: &[Route]) -> Vec<(usize, usize)> {
    let mut firsts: Vec<(usize, &str)> = Vec::new();
    for (i, r) in routes.iter().enumerate() {
        if let Some(suffix) = r.wildcard_suffix() {
            if !firsts.iter().any(|(_, s)| *s == suffix) {
                firsts.push((i, suffix));
            }
        }
    }
    let mut out = Vec::new();
    for (a, (i, si)) in firsts.iter().enumerate() {
        for (j, sj) in &firsts[a + 1..] {
            if si.ends_with(sj) || sj.ends_with(si) {
                out.push((*i.min(j), *i.max(j)));
            }
        }
    }
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Ports, Protocol};

    fn routes(list: &[(&str, &str, &str)]) -> Vec<Route> {
        list.iter().map(|(h, p, b)| Route::new(*h, *p, *b)).collect()
    }

    fn taken<'a>(rs: &'a [Route], host: &str, path: &str) -> Option<(&'a str, &'a str)> {
        select(rs, host, path).map(|i| (rs[i].host.as_str(), rs[i].path.as_str()))
    }

    #[test]
    fn exact_host_beats_every_wildcard() {
        let rs = routes(&[
            ("*.example.com", "/", "any"),
            ("api.example.com", "/", "api"),
            ("*.api.example.com", "/", "deep"),
        ]);
        assert_eq!(taken(&rs, "api.example.com", "/x"), Some(("api.example.com", "/")));
        assert_eq!(taken(&rs, "v1.api.example.com", "/"), Some(("*.api.example.com", "/")));
        assert_eq!(taken(&rs, "www.example.com", "/"), Some(("*.example.com", "/")));
    }

    #[test]
    fn a_wildcard_does_not_match_its_apex_and_spans_several_labels() {
        let rs = routes(&[("*.example.com", "/", "any")]);
        assert_eq!(select(&rs, "example.com", "/"), None);
        assert_eq!(select(&rs, "a.b.example.com", "/"), Some(0));
        assert_eq!(select(&rs, "badexample.com", "/"), None);
    }

    #[test]
    fn longest_prefix_wins_byte_wise_and_case_sensitive() {
        let rs = routes(&[
            ("a.example.com", "/", "root"),
            ("a.example.com", "/api", "api"),
            ("a.example.com", "/api/v2", "v2"),
        ]);
        assert_eq!(
            taken(&rs, "a.example.com", "/api/v2/users"),
            Some(("a.example.com", "/api/v2"))
        );
        assert_eq!(taken(&rs, "a.example.com", "/api/v1"), Some(("a.example.com", "/api")));
        assert_eq!(taken(&rs, "a.example.com", "/apix"), Some(("a.example.com", "/api")));
        assert_eq!(taken(&rs, "a.example.com", "/API"), Some(("a.example.com", "/")));
        assert_eq!(
            taken(&rs, "a.example.com", "/api/v2x"),
            Some(("a.example.com", "/api/v2"))
        );
    }

    #[test]
    fn a_matched_host_without_a_matching_path_goes_to_the_default_not_a_wildcard() {
        let rs = routes(&[("api.example.com", "/v1", "api"), ("*.example.com", "/", "any")]);
        assert_eq!(select(&rs, "api.example.com", "/v2"), None);
        assert_eq!(select(&rs, "api.example.com", "/v1/x"), Some(0));
    }

    #[test]
    fn hosts_ignore_case_and_port_and_paths_ignore_the_query() {
        let rs = routes(&[("api.example.com", "/v1", "api")]);
        assert_eq!(select(&rs, "API.Example.COM:8443", "/v1?x=/v2"), Some(0));
        assert_eq!(select(&rs, "api.example.com", "/v2?/v1"), None);
        assert_eq!(
            select(&rs, "api.example.com.", "/v1"),
            None,
            "a trailing dot is another name"
        );
        assert_eq!(normalize_path(""), "/");
        assert_eq!(normalize_host("[::1]:443"), "[::1]");
    }

    #[test]
    fn resolve_names_the_backend_and_its_endpoints() {
        let mut l = ListenerSpec::new("web", Protocol::Https, Ports::Single(443));
        l.routes = routes(&[("api.example.com", "/", "api")]);
        l.backend = Some("site".into());
        let mut backends = BTreeMap::new();
        backends.insert(
            "api".to_string(),
            Backend::inline(vec![BackendEndpoint::new("10.0.0.1", 8080)]),
        );
        backends.insert("site".to_string(), Backend::mapped("legacy"));
        let r = resolve(&l, &backends, "api.example.com", "/x");
        assert_eq!(r.route, Some(0));
        assert_eq!(r.endpoints().len(), 1);
        let d = resolve(&l, &backends, "www.example.com", "/");
        assert_eq!(d.route, None);
        assert_eq!(d.destination.target_alias(), Some("legacy"));
        assert!(d.endpoints().is_empty());
        l.backend = None;
        assert_eq!(
            resolve(&l, &backends, "x.example.com", "/").destination,
            Destination::Nothing
        );
    }

    #[test]
    fn the_certificate_follows_the_most_specific_host_that_names_one() {
        let mut rs = routes(&[
            ("api.example.com", "/v1", "api"),
            ("api.example.com", "/", "api"),
            ("*.example.com", "/", "any"),
        ]);
        rs[0].certificate = Some("api-cert".into());
        rs[2].certificate = Some("wild-cert".into());
        assert_eq!(certificate_for(&rs, "API.example.com"), Some("api-cert"));
        assert_eq!(certificate_for(&rs, "www.example.com"), Some("wild-cert"));
        assert_eq!(certificate_for(&rs, "example.org"), None);
        rs[0].certificate = None;
        assert_eq!(certificate_for(&rs, "api.example.com"), Some("wild-cert"));
    }

    #[test]
    fn nested_wildcards_are_reported_once_per_pair_of_hosts() {
        let rs = routes(&[
            ("*.example.com", "/", "any"),
            ("*.a.example.com", "/", "a"),
            ("*.example.com", "/x", "any"),
            ("*.b.org", "/", "b"),
            ("a.example.com", "/", "exact"),
        ]);
        assert_eq!(nested_wildcards(&rs), vec![(0, 1)]);
        // `*.xample.com` does not nest with `*.example.com`: suffixes
        // start with a dot.
        assert!(nested_wildcards(&routes(&[("*.example.com", "/", "a"), ("*.xample.com", "/", "b")])).is_empty());
    }

    #[test]
    fn evaluation_order_closes_each_host_with_a_catch_all() {
        let rs = routes(&[
            ("*.example.com", "/", "any"),
            ("api.example.com", "/v1", "api"),
            ("api.example.com", "/v1/admin", "admin"),
        ]);
        let order: Vec<(String, Option<usize>)> = evaluation_order(&rs);
        assert_eq!(
            order,
            vec![
                ("api.example.com".to_string(), Some(2)),
                ("api.example.com".to_string(), Some(1)),
                ("api.example.com".to_string(), None),
                ("*.example.com".to_string(), Some(0)),
            ]
        );
    }
}

#[cfg(test)]
mod properties {
    //! The resolver against its definition, over generated route lists.
    use proptest::prelude::*;

    use super::*;

    const HOSTS: [&str; 6] = [
        "a.example.com",
        "b.example.com",
        "x.a.example.com",
        "*.example.com",
        "*.a.example.com",
        "*.b.example.com",
    ];
    const PATHS: [&str; 7] = ["/", "/api", "/api/v1", "/apix", "/api/v1/users", "/static", "/API"];
    const REQUEST_HOSTS: [&str; 7] = [
        "a.example.com",
        "b.example.com",
        "x.a.example.com",
        "y.a.example.com",
        "z.example.com",
        "example.com",
        "other.org",
    ];

    /// Routes with distinct (host, path) pairs, as a valid file holds.
    fn route_list() -> impl Strategy<Value = Vec<Route>> {
        proptest::collection::btree_set((0..HOSTS.len(), 0..PATHS.len()), 0..14).prop_map(|set| {
            set.into_iter()
                .map(|(h, p)| Route::new(HOSTS[h], PATHS[p], format!("b{h}{p}")))
                .collect()
        })
    }

    fn request() -> impl Strategy<Value = (&'static str, &'static str)> {
        (
            proptest::sample::select(REQUEST_HOSTS.to_vec()),
            proptest::sample::select(PATHS.to_vec()),
        )
    }

    /// Host rank then path length: how specific a route is for a request.
    fn key(r: &Route, host: &str) -> Option<(HostMatch, usize)> {
        host_match(&r.host, host).map(|m| (m, r.path.len()))
    }

    proptest! {
        #[test]
        fn the_order_of_routes_does_not_matter(
            rs in route_list(),
            (host, path) in request(),
            seed in any::<u64>(),
        ) {
            let mut shuffled = rs.clone();
            // A deterministic shuffle from the seed (Fisher-Yates over an LCG).
            let mut s = seed;
            for i in (1..shuffled.len()).rev() {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                shuffled.swap(i, (s >> 33) as usize % (i + 1));
            }
            let a = select(&rs, host, path).map(|i| &rs[i]);
            let b = select(&shuffled, host, path).map(|i| &shuffled[i]);
            prop_assert_eq!(a, b);
        }

        #[test]
        fn the_most_specific_route_wins(rs in route_list(), (host, path) in request()) {
            let best_host = rs.iter().filter_map(|r| host_match(&r.host, host)).max();
            match select(&rs, host, path) {
                Some(i) => {
                    let won = key(&rs[i], host).expect("the route taken matches the host");
                    prop_assert!(path_match(&rs[i].path, path));
                    prop_assert_eq!(Some(won.0), best_host, "a less specific host won");
                    for r in &rs {
                        if let Some(k) = key(r, host) {
                            if path_match(&r.path, path) {
                                prop_assert!(k <= won, "{:?} is more specific than {:?}", r, rs[i]);
                            }
                        }
                    }
                }
                None => {
                    // Default: no route of the most specific matching host
                    // takes the path.
                    for r in &rs {
                        if host_match(&r.host, host).is_some() && host_match(&r.host, host) == best_host {
                            prop_assert!(!path_match(&r.path, path), "{:?} should have won", r);
                        }
                    }
                }
            }
        }

        /// Without nested wildcards a host matches at most one wildcard
        /// host, so a cloud that tries wildcard hosts in any order (CLB)
        /// routes as `select` does.
        #[test]
        fn without_nested_wildcards_a_host_matches_one_wildcard_at_most(
            rs in route_list(),
            (host, _) in request(),
        ) {
            let mut wild: Vec<&str> = rs
                .iter()
                .filter(|r| r.wildcard_suffix().is_some() && host_match(&r.host, host).is_some())
                .map(|r| r.host.as_str())
                .collect();
            wild.sort_unstable();
            wild.dedup();
            if nested_wildcards(&rs).is_empty() {
                prop_assert!(wild.len() <= 1, "{:?}", wild);
            } else if wild.len() > 1 {
                // Several matched: they nest, and are reported.
                prop_assert!(!nested_wildcards(&rs).is_empty());
            }
        }

        /// First match over `evaluation_order` (what ALB and GA priorities
        /// express) routes every request as `select` does.
        #[test]
        fn first_match_in_evaluation_order_agrees_with_select(rs in route_list(), (host, path) in request()) {
            let first = evaluation_order(&rs).into_iter().find(|(h, i)| {
                host_match(h, host).is_some() && i.is_none_or(|i| path_match(&rs[i].path, path))
            });
            let by_order = first.and_then(|(_, i)| i);
            prop_assert_eq!(by_order, select(&rs, host, path));
        }
    }
}
