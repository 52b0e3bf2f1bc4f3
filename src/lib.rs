//! cloud-listeners: one provider-neutral model for cloud listeners.
//!
//! Depend on this crate, describe listeners as [`ListenerSpec`]s, and pick a
//! cloud by configuration: [`provider_from_profile`] turns a
//! [`ProfileConfig`] (`api = "tencent-gaap"`, `"tencent-clb"`,
//! `"alibaba-alb"` or `"alibaba-ga"`) into a `dyn Provider`. Your code never
//! names a vendor; switching clouds is choosing another profile.
//!
//! Each adapter sits behind a cargo feature of the same name (all on by
//! default), so a build can carry only the clouds it uses.
//!
//! ```no_run
//! # async fn demo() -> cloud_listeners::Result<()> {
//! use cloud_listeners::{provider_from_profile, ConfigFile};
//! let file = ConfigFile::load("listeners.toml".as_ref()).expect("valid file");
//! let provider = provider_from_profile(file.profile("prod").expect("profile"))?;
//! for spec in &file.listeners {
//!     let problems = provider.check(spec);
//!     assert!(problems.is_empty(), "{problems:?}");
//!     provider.create(spec).await?;
//! }
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

use std::sync::Arc;

pub use listener_core;
pub use listener_core::*;

pub mod export;
pub mod migrate;
pub mod plan;

/// The API names this build knows about, compiled in or not.
pub const KNOWN_APIS: [&str; 4] = ["tencent-gaap", "tencent-clb", "alibaba-alb", "alibaba-ga"];

/// The API names whose adapters are compiled into this build.
pub fn compiled_apis() -> Vec<&'static str> {
    all_capabilities().into_iter().map(|c| c.api).collect()
}

/// Capabilities of every compiled adapter, in [`KNOWN_APIS`] order.
pub fn all_capabilities() -> Vec<Capabilities> {
    vec![
        #[cfg(feature = "tencent-gaap")]
        listener_tencent_gaap::capabilities(),
        #[cfg(feature = "tencent-clb")]
        listener_tencent_clb::capabilities(),
        #[cfg(feature = "alibaba-alb")]
        listener_alibaba_alb::capabilities(),
        #[cfg(feature = "alibaba-ga")]
        listener_alibaba_ga::capabilities(),
    ]
}

fn unknown_api(api: &str) -> Error {
    if KNOWN_APIS.contains(&api) {
        Error::Config {
            field: "api".into(),
            message: format!("the `{api}` adapter is not compiled into this build (enable the cargo feature `{api}`)"),
        }
    } else {
        Error::Config {
            field: "api".into(),
            message: format!("unknown API `{api}`; expected one of {}", KNOWN_APIS.join(", ")),
        }
    }
}

/// Build the provider a profile names, reading credentials the way that
/// vendor's own tools do (environment, then CLI files) unless the profile
/// carries inline credentials. Sends nothing. The profile's own settings
/// are checked first ([`check_profile`]), so a bad endpoint or a missing
/// region is reported before a missing credential, as `validate` does.
pub fn provider_from_profile(profile: &ProfileConfig) -> Result<Arc<dyn Provider>> {
    check_profile(profile)?;
    match profile.api.as_str() {
        #[cfg(feature = "tencent-gaap")]
        "tencent-gaap" => Ok(Arc::new(listener_tencent_gaap::GaapProvider::from_profile(profile)?)),
        #[cfg(feature = "tencent-clb")]
        "tencent-clb" => Ok(Arc::new(listener_tencent_clb::ClbProvider::from_profile(profile)?)),
        #[cfg(feature = "alibaba-alb")]
        "alibaba-alb" => Ok(Arc::new(listener_alibaba_alb::AlbProvider::from_profile(profile)?)),
        #[cfg(feature = "alibaba-ga")]
        "alibaba-ga" => Ok(Arc::new(listener_alibaba_ga::GaProvider::from_profile(profile)?)),
        other => Err(unknown_api(other)),
    }
}

/// Every check [`provider_from_profile`] makes on the profile itself that
/// needs no credentials and no network: the API is known, the instance ID
/// has the right shape, the region resolves (through the vendor's chain:
/// profile, environment, CLI files) where the API needs one, the endpoint
/// is `https` (or `http` with `allow_insecure_http`), the rate limit and
/// wait settings are usable. Missing credentials are not its business:
/// `validate` needs none. Errors are [`Error::Config`] naming the profile
/// field.
pub fn check_profile(profile: &ProfileConfig) -> Result<()> {
    match profile.api.as_str() {
        #[cfg(feature = "tencent-gaap")]
        "tencent-gaap" => listener_tencent_gaap::config::check_profile(profile),
        #[cfg(feature = "tencent-clb")]
        "tencent-clb" => listener_tencent_clb::config::check_profile(profile),
        #[cfg(feature = "alibaba-alb")]
        "alibaba-alb" => listener_alibaba_alb::config::check_profile(profile),
        #[cfg(feature = "alibaba-ga")]
        "alibaba-ga" => listener_alibaba_ga::config::check_profile(profile),
        other => Err(unknown_api(other)),
    }
}

/// Every reason the profile's cloud cannot take `spec`, without credentials
/// or network: neutral validation, alias resolution and the vendor's rules.
/// The warnings are in [`check_with_warnings`].
pub fn check(profile: &ProfileConfig, spec: &ListenerSpec) -> Result<Vec<Rejection>> {
    check_with_warnings(profile, spec).map(|c| c.rejections)
}

/// [`check()`] with the vendor's warnings beside the rejections: what the
/// vendor takes but the user should know (a deprecated parameter that is
/// still sent, a spec that alone passes a default quota). Warnings never
/// make a spec unfit.
pub fn check_with_warnings(profile: &ProfileConfig, spec: &ListenerSpec) -> Result<Checked> {
    match profile.api.as_str() {
        #[cfg(feature = "tencent-gaap")]
        "tencent-gaap" => Ok(listener_tencent_gaap::check_with_warnings(profile, spec)),
        #[cfg(feature = "tencent-clb")]
        "tencent-clb" => Ok(listener_tencent_clb::check_with_warnings(profile, spec)),
        #[cfg(feature = "alibaba-alb")]
        "alibaba-alb" => Ok(listener_alibaba_alb::check_with_warnings(profile, spec)),
        #[cfg(feature = "alibaba-ga")]
        "alibaba-ga" => Ok(listener_alibaba_ga::check_with_warnings(profile, spec)),
        other => {
            let _ = spec;
            Err(unknown_api(other))
        }
    }
}

/// Rules over all listeners of one instance (shared port spaces),
/// as `(listener index, rejection)`, plus every single-listener rejection.
/// The warnings (default quotas passed, deprecations) are in
/// [`check_set_with_warnings`].
pub fn check_set(profile: &ProfileConfig, specs: &[ListenerSpec]) -> Result<Vec<(usize, Rejection)>> {
    check_set_with_warnings(profile, specs).map(|c| c.rejections)
}

/// [`check_set`] with the vendor's warnings, each paired with the index of
/// the listener it concerns: every listener's own, and those over the
/// whole instance (more listeners than the default quota, which is
/// adjustable and so the vendor's to enforce).
pub fn check_set_with_warnings(profile: &ProfileConfig, specs: &[ListenerSpec]) -> Result<CheckedSet> {
    match profile.api.as_str() {
        #[cfg(feature = "tencent-gaap")]
        "tencent-gaap" => Ok(listener_tencent_gaap::check_set_with_warnings(profile, specs)),
        #[cfg(feature = "tencent-clb")]
        "tencent-clb" => Ok(listener_tencent_clb::check_set_with_warnings(profile, specs)),
        #[cfg(feature = "alibaba-alb")]
        "alibaba-alb" => Ok(listener_alibaba_alb::check_set_with_warnings(profile, specs)),
        #[cfg(feature = "alibaba-ga")]
        "alibaba-ga" => Ok(listener_alibaba_ga::check_set_with_warnings(profile, specs)),
        other => {
            let _ = specs;
            Err(unknown_api(other))
        }
    }
}

/// Every reason the profile's cloud cannot take the inline pools of
/// `backends` that `specs` name, offline (what a pool holds: IP or domain
/// endpoints, ports, weights, names). Each pool is checked once and its
/// rejections are paired with the index of the first listener that names
/// it; their fields start at the file's top level (`backends.web.…`).
/// Also what needs a listener and a pool together, with fields relative to
/// the listener: a route to a mapped pool where pools live on rules
/// ([`mapped_route_backends`]), GAAP's weighted layer-4 pool under a
/// scheduler that ignores weights, CLB's pool health check on a layer-4
/// listener (whose check is the listener's own). Listener-level route refusals are the
/// listener check's ([`check_set_with_warnings`]).
pub fn check_backends(
    profile: &ProfileConfig,
    specs: &[ListenerSpec],
    backends: &std::collections::BTreeMap<String, routes::Backend>,
) -> Result<Vec<(usize, Rejection)>> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        #[cfg(feature = "tencent-gaap")]
        if profile.api == "tencent-gaap" {
            if let Some(b) = spec.backend.as_ref().and_then(|n| backends.get(n).map(|b| (n, b))) {
                if b.1.is_inline() {
                    let found = listener_tencent_gaap::rules::check_listener_pool(spec, &b.1.to_pool_spec(b.0));
                    out.extend(found.into_iter().map(|r| (i, r)));
                }
            }
        }
        #[cfg(feature = "tencent-clb")]
        if profile.api == "tencent-clb" {
            if let Some(b) = spec.backend.as_ref().and_then(|n| backends.get(n).map(|b| (n, b))) {
                if b.1.is_inline() {
                    let found = listener_tencent_clb::rules::check_listener_pool(spec, &b.1.to_pool_spec(b.0));
                    out.extend(found.into_iter().map(|r| (i, r)));
                }
            }
        }
        out.extend(
            mapped_route_backends(profile, spec, backends)
                .into_iter()
                .map(|r| (i, r)),
        );
        out.extend(
            mapped_default_backend(profile, spec, backends)?
                .into_iter()
                .map(|r| (i, r)),
        );
        let names = spec.backend.iter().chain(spec.routes.iter().map(|r| &r.backend));
        for name in names {
            let Some(backend) = backends.get(name).filter(|b| b.is_inline()) else {
                continue;
            };
            if !seen.insert(name.clone()) {
                continue;
            }
            let pool = backend.to_pool_spec(name);
            let found: Vec<Rejection> = match profile.api.as_str() {
                #[cfg(feature = "alibaba-alb")]
                "alibaba-alb" => listener_alibaba_alb::pools::check(&pool),
                #[cfg(feature = "tencent-gaap")]
                "tencent-gaap" => listener_tencent_gaap::rules::check_pool(&pool),
                #[cfg(feature = "alibaba-ga")]
                "alibaba-ga" => listener_alibaba_ga::rules::check_pool(&pool),
                #[cfg(feature = "tencent-clb")]
                "tencent-clb" => listener_tencent_clb::rules::check_pool(&pool),
                other => {
                    let _ = pool;
                    return Err(unknown_api(other));
                }
            };
            out.extend(found.into_iter().map(|r| (i, r)));
        }
    }
    Ok(out)
}

/// Routes of `spec` to a mapped pool (`backends.NAME.target`, an existing
/// vendor pool) on an API whose pools live on rules (`pools_on_rules`:
/// CLB, GAAP, GA bind a pool's endpoints on each rule and have no pool
/// object a rule could point at), each refused at `routes[j].backend`
/// before any call. The adapters refuse the same rule again when it is
/// written (`check_new`, `refuse_mapped`); this is the offline form, so
/// that `validate` and the portability report show it. A mapped default
/// backend is [`mapped_default_backend`]'s.
pub fn mapped_route_backends(
    profile: &ProfileConfig,
    spec: &ListenerSpec,
    backends: &std::collections::BTreeMap<String, routes::Backend>,
) -> Vec<Rejection> {
    let Some(api) = all_capabilities()
        .into_iter()
        .find(|c| c.api == profile.api && c.pools_on_rules)
        .map(|c| c.api)
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (j, route) in spec.routes.iter().enumerate() {
        let Some(target) = backends.get(&route.backend).and_then(|b| b.target.as_deref()) else {
            continue;
        };
        out.push(Rejection::new(
            api,
            format!("routes[{j}].backend"),
            MAPPED_ROUTE_BACKEND,
            format!(
                "`{}` is an existing vendor pool (target `{target}`); {} binds a pool's endpoints on each rule \
                 and cannot forward a rule to a pool made elsewhere: describe the backend with `endpoints`",
                route.backend, api
            ),
        ));
    }
    out
}

/// A listener's `backend` mapped to an existing vendor pool, as the
/// profile's API would take it: planned, it becomes the listener's
/// `forwarding.default_target` (the alias; see `plan_with_resources`) and,
/// where pools live on rules, the root rule to that pool. So the adapter's
/// listener check runs on the spec so converted (its refusals of
/// `forwarding.default_target` are reported at `backend`, the field the
/// file wrote), and CLB's rule check on that root rule (CLB binds no
/// target group). GA keeps a mapped default as an empty default group,
/// and GAAP takes one on an HTTP/HTTPS listener without routes.
pub fn mapped_default_backend(
    profile: &ProfileConfig,
    spec: &ListenerSpec,
    backends: &std::collections::BTreeMap<String, routes::Backend>,
) -> Result<Vec<Rejection>> {
    let Some(alias) = spec
        .backend
        .as_ref()
        .and_then(|n| backends.get(n))
        .and_then(|b| b.target.as_ref())
    else {
        return Ok(Vec::new());
    };
    let mut converted = spec.clone();
    converted.backend = None;
    let backend_protocol = converted.forwarding.take().and_then(|f| f.backend_protocol);
    converted.forwarding = Some(Forwarding {
        backend_protocol,
        default_target: Some(alias.clone()),
    });
    let mut out: Vec<Rejection> = check(profile, &converted)?
        .into_iter()
        .filter(|r| r.field == "forwarding.default_target")
        .map(|mut r| {
            r.field = "backend".into();
            r
        })
        .collect();
    #[cfg(feature = "tencent-clb")]
    if profile.api == "tencent-clb" {
        let root = RouteSpec::new(None, "/", spec.backend.clone().unwrap_or_default());
        let id = ResourceId::from(profile.aliases.target(alias).unwrap_or(alias));
        let rule = NewRule {
            spec: &root,
            backend: &id,
            pool: None,
        };
        out.extend(listener_tencent_clb::rules::check_new(&rule));
    }
    Ok(out)
}

/// Rule of [`mapped_route_backends`].
pub const MAPPED_ROUTE_BACKEND: &str = "mapped_backend_on_rule";

/// The Markdown of `docs/capabilities.md`, generated from the compiled
/// adapters' declared capabilities (a test keeps the file in step).
pub fn capabilities_markdown() -> String {
    let mut out = String::from(
        "# Capability matrix\n\n\
         Generated from each adapter's declared `Capabilities` by \
         `cargo run -p listenerctl -- capabilities --markdown`; a test fails when this file is stale. \
         The matrix summarises; the authoritative rules, with the vendor's error codes, are in \
         each adapter's `translate.rs` and in [rejections.md](rejections.md). \
         Every argument of the Terraform listener resources, and where it goes in a listeners \
         file, is in [terraform.md](terraform.md).\n\n",
    );
    out.push_str(&Capabilities::markdown_table(&all_capabilities()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_endpoint_is_reported_before_credentials_are_looked_for() {
        for (api, instance) in [("tencent-gaap", "link-1"), ("alibaba-ga", "ga-1")] {
            let mut p = ProfileConfig::new(api, instance);
            p.endpoint = Some("ftp://example.com/".into());
            p.allow_insecure_http = true;
            match provider_from_profile(&p).err() {
                Some(Error::Config { field, .. }) => assert_eq!(field, "endpoint", "{api}"),
                other => panic!("{api}: expected an endpoint error, got {other:?}"),
            }
            assert!(matches!(check_profile(&p), Err(Error::Config { field, .. }) if field == "endpoint"));
        }
    }

    #[test]
    fn unknown_api_is_a_config_error_naming_the_field() {
        let p = ProfileConfig::new("aws-nlb", "x");
        match provider_from_profile(&p) {
            Err(Error::Config { field, message }) => {
                assert_eq!(field, "api");
                assert!(message.contains("aws-nlb"));
            }
            other => panic!("expected a config error, got {other:?}"),
        }
        assert!(matches!(
            check(&p, &ListenerSpec::new("a", Protocol::Tcp, Ports::Single(1))),
            Err(Error::Config { .. })
        ));
    }
}
