//! `trace --live`: where the profile's instance sends a request now, read
//! back through the adapter (listeners, rules, pools; no write), and
//! whether that is where the file sends it.
//!
//! What the adapters read back is turned into the neutral shape once more:
//! the rules of the listener become its routes (the per-host `/` rules the
//! plan adds among them, which route exactly as the file's default
//! backend), the root rule or the listener's default action its default
//! backend, and the endpoints bound on each rule, or held by the pool
//! object the rule names, its pools. The neutral matcher then answers, as
//! for the file. So `--live` shows what the cloud holds as the adapter
//! understands it; the emulator's own matchers check that understanding
//! (`tests/traffic.rs`).

use std::collections::BTreeMap;

use serde::Serialize;

use cloud_listeners::routes::{Backend, Route};
use cloud_listeners::routing::{self, Destination};
use cloud_listeners::{BackendEndpoint, Endpoint, ListenerSpec, Pool, ProfileConfig, Provider, Rule, Transport};

use super::{endpoint, Request, Trace};

/// The instance's answer.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    /// The listener serving the port, by vendor ID.
    pub listener_id: String,
    /// The rule that takes the request, by vendor ID; `null` when the
    /// listener's own default action does (ALB) or on a layer-4 listener
    /// without rules.
    pub rule_id: Option<String>,
    /// The rule's host and path as read back; `null` for the default.
    pub route: Option<String>,
    /// The pool reached, by the name the adapter reads back (the file's
    /// pool name for pools it made), else its vendor ID or target alias.
    pub backend: Option<String>,
    /// Its endpoints; empty for a pool this tool did not make (not read).
    pub endpoints: Vec<BackendEndpoint>,
    /// The certificate served, by ID.
    pub certificate_id: Option<String>,
    /// Whether the endpoints and the certificate are the file's.
    pub agrees: bool,
    /// What differs from the file's answer, for people.
    pub differences: Vec<String>,
}

/// Read the instance and answer for `request`; `None` when no listener of
/// the instance serves its port.
/// `file_certificate` is the certificate ID the file serves for the
/// request's host (see [`View::answer`] for where it counts).
pub async fn read(
    provider: &dyn Provider,
    profile: &ProfileConfig,
    request: &Request,
    file_certificate: Option<&str>,
) -> cloud_listeners::Result<Option<Answer>> {
    let listeners = provider.list().await?;
    let Some(listener) = listeners.into_iter().find(|l| {
        l.spec.protocol.transport() == Transport::Tcp && l.spec.ports.ranges().iter().any(|r| r.contains(request.port))
    }) else {
        return Ok(None);
    };
    let rules = match provider.rules() {
        Some(rp) => rp.list_rules(&listener.id).await?,
        None => Vec::new(),
    };
    let pools = match provider.pools() {
        Some(pp) => pp.list_pools().await?,
        None => Vec::new(),
    };
    let view = View::of(&listener.spec, &rules, &pools);
    Ok(Some(view.answer(
        profile,
        listener.id.0.clone(),
        request,
        file_certificate,
    )))
}

/// What was read, in the neutral shape.
struct View {
    spec: ListenerSpec,
    backends: BTreeMap<String, Backend>,
    /// The rule ID behind each of `spec.routes`.
    route_rules: Vec<String>,
    /// The root rule's ID, when the default is a rule.
    root_rule: Option<String>,
    /// Hosts with a certificate of their own: the rules' (CLB, GAAP) or
    /// the listener's per-host certificates (ALB, GA).
    certificates: Vec<Route>,
}

fn endpoints_of(eps: &[Endpoint]) -> Vec<BackendEndpoint> {
    eps.iter()
        .map(|e| {
            let mut b = BackendEndpoint::new(e.address.clone(), e.port);
            b.weight = e.weight;
            b
        })
        .collect()
}

impl View {
    fn of(listener: &ListenerSpec, rules: &[Rule], pools: &[Pool]) -> View {
        let mut spec = listener.clone();
        // Certificate-carrying routes of a read-back listener are its
        // per-host certificates, not rules.
        let mut certificates: Vec<Route> = spec.routes.drain(..).filter(|r| r.certificate.is_some()).collect();
        let mut backends: BTreeMap<String, Backend> = BTreeMap::new();
        let mut route_rules = Vec::new();
        let mut root_rule = None;
        // The endpoints of a pool object, by vendor ID and by name.
        let pool_by_id = |id: &str| pools.iter().find(|p| p.id.0 == id);
        for r in rules {
            let named = if r.spec.backend.is_empty() {
                r.backend.0.clone()
            } else {
                r.spec.backend.clone()
            };
            let pool = match (&r.pool, pool_by_id(&r.backend.0)) {
                (Some(eps), _) => Backend::inline(endpoints_of(eps)),
                (None, Some(p)) => Backend::inline(endpoints_of(&p.spec.endpoints)),
                (None, None) => Backend::mapped(r.backend.0.clone()),
            };
            // Two rules naming one pool with different endpoints (drift)
            // keep both: the second by its rule.
            let name = match backends.get(&named) {
                Some(b) if *b != pool => format!("{named} (rule {})", r.id),
                _ => named,
            };
            backends.insert(name.clone(), pool);
            match &r.spec.host {
                None => {
                    spec.backend = Some(name);
                    if let Some(f) = spec.forwarding.as_mut() {
                        f.default_target = None;
                    }
                    root_rule = Some(r.id.0.clone());
                }
                Some(host) => {
                    let mut route = Route::new(host.clone(), r.spec.path.clone(), name);
                    route.certificate = r.spec.certificate.clone();
                    if route.certificate.is_some() {
                        certificates.push(route.clone());
                    }
                    spec.routes.push(route);
                    route_rules.push(r.id.0.clone());
                }
            }
        }
        // ALB: the default action names a pool object (read back as the
        // listener's `backend`) or a server group by target alias.
        if let Some(name) = spec.backend.clone() {
            if let (std::collections::btree_map::Entry::Vacant(slot), Some(p)) = (
                backends.entry(name),
                pools.iter().find(|p| Some(&p.spec.name) == spec.backend.as_ref()),
            ) {
                slot.insert(Backend::inline(endpoints_of(&p.spec.endpoints)));
            }
        }
        View {
            spec,
            backends,
            route_rules,
            root_rule,
            certificates,
        }
    }

    fn answer(
        &self,
        profile: &ProfileConfig,
        listener_id: String,
        request: &Request,
        file_certificate: Option<&str>,
    ) -> Answer {
        let spec = &self.spec;
        let resolution = if spec.protocol.is_layer7() {
            routing::resolve(spec, &self.backends, &request.host, &request.target)
        } else {
            routing::Resolution {
                route: None,
                matched: None,
                destination: routing::default_destination(spec, &self.backends),
            }
        };
        let (backend, endpoints) = match &resolution.destination {
            Destination::Backend { name, pool } => (
                Some(name.to_string()),
                pool.map(|p| p.endpoints.clone()).unwrap_or_default(),
            ),
            Destination::Target { alias } => (Some(alias.to_string()), Vec::new()),
            Destination::Nothing => (None, Vec::new()),
        };
        let id_of = |alias: &str| profile.aliases.certificate(alias).unwrap_or(alias).to_string();
        // By host where the cloud says which host a certificate serves
        // (rules' and per-host certificates); ALB says it by the names in
        // the certificate itself, which are not read: there a certificate
        // the file wants for the host counts when it is attached.
        let attached: Vec<String> = spec.server_certificates().iter().map(|a| id_of(a)).collect();
        let certificate_id = spec.protocol.terminates_tls().then(|| {
            routing::certificate_for(&self.certificates, &request.host)
                .map(id_of)
                .or_else(|| {
                    file_certificate
                        .filter(|c| attached.iter().any(|a| a == c))
                        .map(str::to_string)
                })
                .or_else(|| attached.first().cloned())
        });
        Answer {
            listener_id,
            rule_id: match resolution.route {
                Some(i) => self.route_rules.get(i).cloned(),
                None => self.root_rule.clone(),
            },
            route: resolution.matched.map(|r| format!("{}{}", r.host, r.path)),
            backend,
            endpoints,
            certificate_id: certificate_id.flatten(),
            agrees: true,
            differences: Vec::new(),
        }
    }
}

type Key = (String, u32, u32);

fn keyed(endpoints: &[BackendEndpoint]) -> Vec<Key> {
    let mut k: Vec<Key> = endpoints
        .iter()
        .map(|e| (e.address.clone(), e.port, e.weight))
        .collect();
    k.sort();
    k
}

impl Answer {
    /// This answer beside the file's (`file`, traced for the same
    /// profile): whether the endpoints and the certificate ID agree.
    pub fn compared_with(mut self, file: &Trace) -> Answer {
        let mut differences = Vec::new();
        let want = &file.backend.endpoints;
        if file.backend.kind == "backend" && file.backend.target.is_none() && keyed(want) != keyed(&self.endpoints) {
            let list = |e: &[BackendEndpoint]| {
                if e.is_empty() {
                    "none".to_string()
                } else {
                    e.iter()
                        .map(|x| format!("{} weight {}", endpoint(x), x.weight))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            };
            differences.push(format!(
                "endpoints: the file's {}, the cloud's {}",
                list(want),
                list(&self.endpoints)
            ));
        }
        if let Some(target) = &file.backend.target_id {
            // A mapped pool: the cloud's default or rule must name it.
            if self.backend.as_deref() != Some(target.as_str()) && self.backend != file.backend.target {
                differences.push(format!(
                    "backend: the file's existing pool {target}, the cloud's {}",
                    self.backend.as_deref().unwrap_or("none")
                ));
            }
        }
        let file_cert = file.certificate.as_ref().and_then(|c| c.id.clone());
        if file.certificate.is_some() && file_cert != self.certificate_id {
            differences.push(format!(
                "certificate: the file's {}, the cloud's {}",
                file_cert.as_deref().unwrap_or("none"),
                self.certificate_id.as_deref().unwrap_or("none")
            ));
        }
        self.agrees = differences.is_empty();
        self.differences = differences;
        self
    }

    /// The answer for people, after the file's.
    pub fn render_text(&self) -> String {
        let mut out = format!("  live         listener {}", self.listener_id);
        match (&self.rule_id, &self.route) {
            (Some(id), Some(route)) => out.push_str(&format!(", rule {id} ({route})")),
            (Some(id), None) => out.push_str(&format!(", default rule {id}")),
            (None, _) => out.push_str(", its default action"),
        }
        if let Some(b) = &self.backend {
            out.push_str(&format!(" -> {b}"));
        }
        out.push('\n');
        for e in &self.endpoints {
            out.push_str(&format!(
                "  live         endpoint {} weight {}\n",
                endpoint(e),
                e.weight
            ));
        }
        if let Some(c) = &self.certificate_id {
            out.push_str(&format!("  live         certificate {c}\n"));
        }
        if self.agrees {
            out.push_str("  live         agrees with the file\n");
        } else {
            for d in &self.differences {
                out.push_str(&format!("  live         differs: {d}\n"));
            }
        }
        out
    }
}
