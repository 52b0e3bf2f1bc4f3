//! Pools (backends) and rules (routes): the resource kinds beside the
//! listener, and the optional traits a provider exposes for them.
//!
//! [`Provider`](crate::Provider) stays the listener trait. The kinds that
//! hang off a listener come as *sibling* traits, [`PoolProvider`] and
//! [`RuleProvider`], which a provider hands out through
//! [`Provider::pools`](crate::Provider::pools) and
//! [`Provider::rules`](crate::Provider::rules) when its
//! [`Capabilities`](crate::Capabilities) claim them (`pools`, `rules`).
//! Why siblings and not more methods on `Provider`:
//!
//! - **No adapter changes until it claims the kind.** The accessors default
//!   to `None` and the flags default to `false` through
//!   `Capabilities::BASE`, so the four adapters compile and behave as
//!   before; an adapter that learns rules implements one trait and flips
//!   one flag.
//! - **Capability and code cannot disagree silently.** A caller asks
//!   `provider.rules()`; it gets the implementation or `None`, never a
//!   method that exists but answers "unsupported" at run time.
//!   `exposes_what_it_claims` checks the flag against the accessor.
//! - **The shape follows the plan engine** (`cloud_listeners::plan::graph`):
//!   every kind is listed, created in batches, updated and deleted, and the
//!   IDs of the resources it depends on (its *parents*: the listener a rule
//!   sits on, the pool it forwards to) are passed in, as the engine learns
//!   them from what it read or just created. Creates take slices because
//!   the vendors batch them (ALB `CreateRules`, CLB `CreateRule` with
//!   several rules, GA `CreateForwardingRules`).
//!
//! **Ownership.** The trait methods take IDs, as `Provider::update` and
//! `delete` do, and every by-ID write proves ownership before anything is
//! sent, through [`crate::ownership`]: a rule by proving its listener
//! ([`ownership::prove`](crate::ownership::prove)) and then that the
//! vendor reports the rule under it
//! ([`ownership::claim_part`](crate::ownership::claim_part)); a pool by the
//! instance (or ownership mark) the vendor reports for it. The adapters'
//! client functions for these writes take the proofs, never bare IDs, so a
//! new kind cannot skip the check any more than a listener write can.
//!
//! **Waiting and retry** stay in the core as for listeners: adapters hand
//! their "read the state" to [`crate::wait`] and their calls go through the
//! one [`crate::retry`] policy.
//!
//! The spec types below are the minimal neutral shape the traits need: a
//! pool is named endpoints, a rule is a host and path that forward to a
//! pool. They are `#[non_exhaustive]` because the routes-and-backends work
//! grows them (health checks, certificates per host, validation, schema).

use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::check::Rejection;
use crate::error::Result;
use crate::provider::ListenerId;
use crate::spec::{HealthCheck, ListenerSpec};

/// The vendor's ID of a pool or a rule (`sgp-…`, `rule-…`, `loc-…`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ResourceId(pub String);

impl ResourceId {
    /// The ID as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for ResourceId {
    fn from(s: &str) -> Self {
        ResourceId(s.to_string())
    }
}

/// One backend endpoint: an IP address or a domain name, a port, a weight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Endpoint {
    /// IP address or domain name.
    pub address: String,
    /// The port traffic goes to.
    pub port: u32,
    /// Relative share of the traffic.
    pub weight: u32,
}

impl Endpoint {
    /// An endpoint of weight 100 (every vendor's default).
    pub fn new(address: impl Into<String>, port: u32) -> Self {
        Endpoint {
            address: address.into(),
            port,
            weight: 100,
        }
    }
}

/// A named pool of endpoints, as the file describes it. Its name is its
/// identity key in the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PoolSpec {
    /// The pool's name in the file; rules name their backend by it.
    pub name: String,
    /// Its endpoints.
    pub endpoints: Vec<Endpoint>,
    /// Health checking of the endpoints, for the whole pool (on the
    /// vendor's pool object where it has one: ALB server groups).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<HealthCheck>,
}

impl PoolSpec {
    /// A pool with the given endpoints, without a health check.
    pub fn new(name: impl Into<String>, endpoints: Vec<Endpoint>) -> Self {
        PoolSpec {
            name: name.into(),
            endpoints,
            health_check: None,
        }
    }

    /// The same pool with `health_check`.
    pub fn with_health_check(mut self, health_check: Option<HealthCheck>) -> Self {
        self.health_check = health_check;
        self
    }
}

/// A pool as the cloud reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pool {
    /// The vendor's ID.
    pub id: ResourceId,
    /// The pool read back, with the name the file gave it (adapters name or
    /// tag the vendor objects they own so it can be read back).
    pub spec: PoolSpec,
    /// The owner read from the pool's management mark (see [`crate::mark`]),
    /// `None` for a pool without one (made by hand or by another tool).
    pub owner: Option<String>,
    /// Whether `owner` is the profile's owner: only such pools are ever
    /// changed or deleted by plan and apply.
    pub managed: bool,
}

impl Pool {
    /// A pool read back with the owner of its mark; `managed` when that is
    /// `ours` (the profile's owner), as [`crate::Listener::with_owner`].
    pub fn new(id: ResourceId, spec: PoolSpec, owner: Option<String>, ours: &str) -> Pool {
        Pool {
            id,
            spec,
            managed: owner.as_deref() == Some(ours),
            owner,
        }
    }
}

/// A route on a listener: requests for `host` and under `path` go to the
/// pool named `backend`. Host and path together are its identity key on
/// its listener.
///
/// The plan hands each [`RuleProvider`] the file's routes *expanded* into
/// rules every cloud expresses natively (`docs/routing.md`): the routes
/// themselves, a `/` rule per route host to the listener's default backend
/// (a matched host never falls through), and, for providers whose
/// capabilities say `pools_on_rules`, the listener's **root rule**: host
/// `None`, path `/`, the default backend. On an HTTP/HTTPS listener the
/// root rule takes what no host takes (a default domain, a default
/// endpoint group); on a layer-4 listener it is the listener's one backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RouteSpec {
    /// Host to match; `None` for the listener's root rule.
    pub host: Option<String>,
    /// Path prefix to match.
    pub path: String,
    /// The name of the pool the route forwards to.
    pub backend: String,
    /// The certificate alias served for `host` (HTTPS, by SNI), on
    /// providers whose capabilities say `route_certificates_on_rules`; the
    /// plan leaves it `None` elsewhere, where the listener carries route
    /// certificates as additional certificates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
}

impl RouteSpec {
    /// A route forwarding `host` + `path` to the pool `backend`.
    pub fn new(host: Option<&str>, path: impl Into<String>, backend: impl Into<String>) -> Self {
        RouteSpec {
            host: host.map(str::to_string),
            path: path.into(),
            backend: backend.into(),
            certificate: None,
        }
    }

    /// The same route serving `certificate` (an alias) for its host.
    pub fn with_certificate(mut self, certificate: Option<String>) -> Self {
        self.certificate = certificate;
        self
    }

    /// Whether this is a listener's root rule (no host).
    pub fn is_root(&self) -> bool {
        self.host.is_none()
    }
}

/// A rule as the cloud reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rule {
    /// The vendor's ID.
    pub id: ResourceId,
    /// The listener it sits on (its parent).
    pub listener: ListenerId,
    /// The pool it forwards to, by vendor ID.
    pub backend: ResourceId,
    /// The route read back; `backend` holds the pool's name where the
    /// adapter can map the ID back, the ID otherwise.
    pub spec: RouteSpec,
    /// The owner read from the rule's management mark, `None` without one.
    pub owner: Option<String>,
    /// Whether `owner` is the profile's owner: only such rules are ever
    /// changed or deleted by plan and apply.
    pub managed: bool,
    /// The endpoints bound on the rule, read back by providers whose
    /// capabilities say `pools_on_rules` (the plan compares them with the
    /// file's pool); `None` elsewhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool: Option<Vec<Endpoint>>,
    /// The health check of the pool bound on the rule, read back in the
    /// neutral form by providers that keep it with the rule's endpoints
    /// (GA's endpoint groups); `None` elsewhere, or when it has none. The
    /// plan asks [`RuleProvider::pool_health_differs`] whether it is what
    /// the file's pool says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool_health_check: Option<HealthCheck>,
}

impl Rule {
    /// A rule read back with the owner of its mark; `managed` when that is
    /// `ours` (the profile's owner).
    pub fn new(
        id: ResourceId,
        listener: ListenerId,
        backend: ResourceId,
        spec: RouteSpec,
        owner: Option<String>,
        ours: &str,
    ) -> Rule {
        Rule {
            id,
            listener,
            backend,
            spec,
            managed: owner.as_deref() == Some(ours),
            owner,
            pool: None,
            pool_health_check: None,
        }
    }

    /// The same rule with the endpoints read back from it.
    pub fn with_pool(mut self, endpoints: Vec<Endpoint>) -> Rule {
        self.pool = Some(endpoints);
        self
    }

    /// The same rule with its pool's health check read back.
    pub fn with_pool_health_check(mut self, check: Option<HealthCheck>) -> Rule {
        self.pool_health_check = check;
        self
    }
}

/// A rule as the plan wants it: the route, the vendor ID of the pool it
/// forwards to (a parent ID, known only once the plan engine has found or
/// created the pool) and, for an inline backend, the pool itself.
#[derive(Debug, Clone, Copy)]
pub struct NewRule<'a> {
    /// The route.
    pub spec: &'a RouteSpec,
    /// The pool's vendor ID: a mapped backend's (`target`) or a pool the
    /// provider made; [`inline_pool_id`] of the name for an inline backend
    /// on a `pools_on_rules` provider, which has no pool object.
    pub backend: &'a ResourceId,
    /// The inline backend's endpoints (`None` for a mapped backend): what
    /// a `pools_on_rules` provider binds on the rule.
    pub pool: Option<&'a PoolSpec>,
}

/// The stand-in pool ID the plan gives an inline backend on a
/// `pools_on_rules` provider: `inline:<name>`.
pub fn inline_pool_id(name: &str) -> ResourceId {
    ResourceId(format!("inline:{name}"))
}

/// Backend pools of one instance, for providers whose capabilities claim
/// `pools`. Only pools the adapter made (named or tagged as its own) are
/// listed and written; a pool mapped in the profile to an existing vendor
/// pool is referred to by ID and never changed.
#[async_trait]
pub trait PoolProvider: Send + Sync + fmt::Debug {
    /// Every reason the vendor cannot take `pool`, without a call.
    fn check_pool(&self, pool: &PoolSpec) -> Vec<Rejection>;

    /// The pools this provider owns on the instance.
    async fn list_pools(&self) -> Result<Vec<Pool>>;

    /// Create pools, in as few calls as the API allows, and wait until
    /// they can be used. Returns every pool made.
    async fn create_pools(&self, pools: &[PoolSpec]) -> Result<Vec<Pool>>;

    /// Change a pool in place (endpoints, weights).
    async fn update_pool(&self, current: &Pool, desired: &PoolSpec) -> Result<Pool>;

    /// Delete an owned pool; `NotFound` once gone, `NotOwned` for a pool
    /// the provider did not make, as for listeners.
    async fn delete_pool(&self, id: &ResourceId) -> Result<()>;
}

/// Rules (routes) on the listeners of one instance, for providers whose
/// capabilities claim `rules`. Every call names the parent listener by ID;
/// the adapter proves it owned before a write (see the module docs).
#[async_trait]
pub trait RuleProvider: Send + Sync + fmt::Debug {
    /// Every reason the vendor cannot take `rules` on `listener` (a rule
    /// the vendor would match differently than the neutral semantics is
    /// refused here), each with the index of the rule; no call.
    fn check_rules(&self, listener: &ListenerSpec, rules: &[RouteSpec]) -> Vec<(usize, Rejection)>;

    /// The rules on one listener of the instance.
    async fn list_rules(&self, listener: &ListenerId) -> Result<Vec<Rule>>;

    /// Create rules on a listener, in as few calls as the API allows.
    /// Returns every rule made.
    async fn create_rules(&self, listener: &ListenerId, rules: &[NewRule<'_>]) -> Result<Vec<Rule>>;

    /// Change a rule in place: its backend (another pool, or other
    /// endpoints on a `pools_on_rules` provider), its certificate.
    async fn update_rule(&self, current: &Rule, desired: &NewRule<'_>) -> Result<Rule>;

    /// Delete rules of one listener (vendors delete several in one call).
    async fn delete_rules(&self, listener: &ListenerId, rules: &[ResourceId]) -> Result<()>;

    /// Whether the health check of the pool bound on `live` (a
    /// `pools_on_rules` provider's rule, read back) differs from `want`,
    /// the file's pool's, as this vendor expresses health checks; the plan
    /// then updates the rule in place. `want` absent leaves the vendor's
    /// check alone. The default says no: a provider that keeps no health
    /// check with a rule's endpoints refuses a pool's check before any
    /// call (GAAP's and CLB's `check_pool`).
    fn pool_health_differs(&self, live: &Rule, want: Option<&HealthCheck>) -> bool {
        let _ = (live, want);
        false
    }
}

/// Whether a provider's capability flags and its sibling accessors agree:
/// a claimed kind has an implementation, and an implementation is claimed.
/// Errors name the flag that disagrees. For conformance tests.
pub fn exposes_what_it_claims(provider: &dyn crate::Provider) -> std::result::Result<(), &'static str> {
    let caps = provider.capabilities();
    if caps.pools != provider.pools().is_some() {
        return Err("pools");
    }
    if caps.rules != provider.rules().is_some() {
        return Err("rules");
    }
    Ok(())
}
