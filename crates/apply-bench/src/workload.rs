//! What the bench applies: N listeners per API spread over K instances, as
//! a listeners file would describe them, in shapes each vendor accepts.
//!
//! - `tencent-gaap`: file listeners of 10 ports each (GAAP's
//!   `CreateTCPListeners`/`CreateUDPListeners` take a port list with one
//!   name); every fifth one UDP. The planner turns each port into one
//!   single-port listener.
//! - `tencent-clb`: single-port listeners, each with its own name; every
//!   fifth one UDP. CLB's `CreateListener` pairs `Ports` with
//!   `ListenerNames`, so same-settings listeners can share a call.
//! - `alibaba-alb`: HTTP listeners forwarding to a server group (ALB needs a
//!   default target).
//! - `alibaba-ga`: single-port TCP listeners.
//!
//! The routes workload (`--routes`, [`build_routes`]) is another file per
//! instance: HTTP listeners with four routes (two exact hosts, two paths
//! each) to inline pools and an inline default backend, and, on the APIs
//! with layer-4 listeners, as many TCP listeners forwarding to an inline
//! pool. Its pools are per instance (addresses in `10.<instance>.0.0/16`),
//! every pool's endpoints on one port (GA's rule for an endpoint group).

use std::collections::BTreeMap;

use listener_core::routes::{Backend, BackendEndpoint, Route};
use listener_core::{Forwarding, ListenerSpec, PortEntry, Ports, Protocol};

/// The four APIs, in the order tables are printed.
pub const APIS: [&str; 4] = ["tencent-gaap", "tencent-clb", "alibaba-alb", "alibaba-ga"];

/// Listeners per instance on every vendor (the default quota).
pub const QUOTA: usize = 50;

/// Ports per GAAP file listener.
const GAAP_PORTS_PER_SPEC: usize = 10;

/// First listener port; far from well-known ports and from GA's reserved
/// 65500–65535.
const BASE_PORT: u32 = 10_000;

/// The target alias ALB listeners forward to, and the server group behind it.
pub const TARGET_ALIAS: &str = "pool";

/// One instance's share of the work.
#[derive(Debug, Clone)]
pub struct InstanceWork {
    /// The instance ID (`link-…`, `lb-…`, `alb-…`, `ga-…`).
    pub id: String,
    /// Its server group (ALB only).
    pub server_group: Option<String>,
    /// The file listeners to apply.
    pub specs: Vec<ListenerSpec>,
    /// The file's pools (empty outside the routes workload).
    pub backends: BTreeMap<String, Backend>,
    /// Vendor listeners those specs make.
    pub listeners: usize,
}

/// One API's work.
#[derive(Debug, Clone)]
pub struct Workload {
    /// The API name.
    pub api: &'static str,
    /// Per instance.
    pub instances: Vec<InstanceWork>,
}

impl Workload {
    /// Vendor listeners over all instances.
    pub fn listeners(&self) -> usize {
        self.instances.iter().map(|i| i.listeners).sum()
    }
}

/// The emulator's service name for an API.
pub fn service_of(api: &str) -> &'static str {
    match api {
        "tencent-gaap" => "gaap",
        "tencent-clb" => "clb",
        "alibaba-alb" => "alb",
        _ => "ga",
    }
}

fn instance_id(api: &str, k: usize) -> String {
    match api {
        "tencent-gaap" => format!("link-bench{k:04}"),
        "tencent-clb" => format!("lb-bench{k:04}"),
        "alibaba-alb" => format!("alb-bench{k:07}"),
        _ => format!("ga-bench{k:07}"),
    }
}

/// Split `n` listeners over `k` instances as evenly as possible. Refuses a
/// split that puts more than the quota on one instance, or no instance.
pub fn split(n: usize, k: usize) -> Result<Vec<usize>, String> {
    if k == 0 {
        return Err("at least one instance is needed".into());
    }
    let per = n.div_ceil(k);
    if per > QUOTA {
        return Err(format!(
            "{n} listeners on {k} instances is {per} on one instance; every vendor's quota is {QUOTA} \
             (use at least {} instances)",
            n.div_ceil(QUOTA)
        ));
    }
    Ok((0..k).map(|i| n / k + usize::from(i < n % k)).collect())
}

/// The work for `api`: `n` listeners over `k` instances.
pub fn build(api: &'static str, n: usize, k: usize) -> Result<Workload, String> {
    if !APIS.contains(&api) {
        return Err(format!("unknown API `{api}`; expected one of {}", APIS.join(", ")));
    }
    let shares = split(n, k)?;
    let instances = shares
        .iter()
        .enumerate()
        .map(|(i, &m)| {
            let id = instance_id(api, i + 1);
            let specs = specs_for(api, i + 1, m);
            InstanceWork {
                server_group: (api == "alibaba-alb").then(|| format!("sgp-bench{:07}", i + 1)),
                id,
                specs,
                backends: BTreeMap::new(),
                listeners: m,
            }
        })
        .collect();
    Ok(Workload { api, instances })
}

/// The routes of every routed listener: two exact hosts, two paths each.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new("api.example.com", "/v1", "api"),
        Route::new("api.example.com", "/v2", "static"),
        Route::new("www.example.com", "/v1", "api"),
        Route::new("www.example.com", "/static", "static"),
    ]
}

fn endpoint(address: String, port: u32, weight: u32) -> BackendEndpoint {
    let mut e = BackendEndpoint::new(address, port);
    e.weight = weight;
    e
}

/// The pools of instance `k`: `web` (the routed listeners' default), `api`
/// and `static` (their routes), `db` (the TCP listeners').
fn pools(k: usize) -> BTreeMap<String, Backend> {
    let ip = |c: usize, d: usize| format!("10.{k}.{c}.{d}");
    let mut b = BTreeMap::new();
    b.insert(
        "web".to_string(),
        Backend::inline(vec![endpoint(ip(0, 1), 8080, 50), endpoint(ip(0, 2), 8080, 50)]),
    );
    b.insert(
        "api".to_string(),
        Backend::inline(vec![endpoint(ip(1, 1), 9000, 60), endpoint(ip(1, 2), 9000, 40)]),
    );
    b.insert(
        "static".to_string(),
        Backend::inline(vec![endpoint(ip(2, 1), 8081, 100)]),
    );
    b.insert("db".to_string(), Backend::inline(vec![endpoint(ip(9, 1), 5432, 100)]));
    b
}

/// The routes workload for `api`: `n` listeners over `k` instances, half
/// of each instance's HTTP listeners with [`routes`] and half TCP
/// listeners with a backend (all of them routed HTTP on ALB, which has no
/// TCP listener).
pub fn build_routes(api: &'static str, n: usize, k: usize) -> Result<Workload, String> {
    let mut w = build(api, n, k)?;
    for (i, inst) in w.instances.iter_mut().enumerate() {
        inst.backends = pools(i + 1);
        inst.specs = (0..inst.listeners)
            .map(|j| {
                let tcp = api != "alibaba-alb" && j % 2 == 1;
                let name = format!("{}-{}-{j}", if tcp { "db" } else { "site" }, i + 1);
                let protocol = if tcp { Protocol::Tcp } else { Protocol::Http };
                let mut s = ListenerSpec::new(name, protocol, Ports::Single(port(j)));
                if tcp {
                    s.backend = Some("db".into());
                } else {
                    s.backend = Some("web".into());
                    s.routes = routes();
                }
                s
            })
            .collect();
    }
    Ok(w)
}

fn port(j: usize) -> u32 {
    BASE_PORT + u32::try_from(j).unwrap_or(0)
}

/// The file listeners of instance `k` making `m` vendor listeners.
fn specs_for(api: &str, k: usize, m: usize) -> Vec<ListenerSpec> {
    match api {
        "tencent-gaap" => (0..m)
            .collect::<Vec<_>>()
            .chunks(GAAP_PORTS_PER_SPEC)
            .enumerate()
            .map(|(g, ports)| {
                let protocol = if g % 5 == 4 { Protocol::Udp } else { Protocol::Tcp };
                let name = format!("{}-{k}-{g}", protocol.as_str());
                let entries = ports.iter().map(|&j| PortEntry::Port(port(j))).collect();
                ListenerSpec::new(name, protocol, Ports::List(entries))
            })
            .collect(),
        "tencent-clb" => (0..m)
            .map(|j| {
                let protocol = if j % 5 == 4 { Protocol::Udp } else { Protocol::Tcp };
                ListenerSpec::new(format!("svc-{k}-{j}"), protocol, Ports::Single(port(j)))
            })
            .collect(),
        "alibaba-alb" => (0..m)
            .map(|j| {
                let mut s = ListenerSpec::new(format!("web-{k}-{j}"), Protocol::Http, Ports::Single(port(j)));
                s.forwarding = Some(Forwarding {
                    backend_protocol: None,
                    default_target: Some(TARGET_ALIAS.into()),
                });
                s
            })
            .collect(),
        _ => (0..m)
            .map(|j| ListenerSpec::new(format!("tcp-{k}-{j}"), Protocol::Tcp, Ports::Single(port(j))))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_evenly_and_refuses_more_than_the_quota_per_instance() {
        assert_eq!(split(200, 4), Ok(vec![50, 50, 50, 50]));
        assert_eq!(split(10, 3), Ok(vec![4, 3, 3]));
        assert!(split(200, 3).is_err());
        assert!(split(1, 0).is_err());
    }

    #[test]
    fn every_api_makes_the_asked_number_of_listeners() {
        for api in APIS {
            let w = build(api, 200, 4).expect("fits");
            assert_eq!(w.listeners(), 200, "{api}");
            let ports: usize = w
                .instances
                .iter()
                .flat_map(|i| &i.specs)
                .map(|s| s.ports.ranges().len())
                .sum();
            assert_eq!(ports, 200, "{api}");
        }
        let gaap = build("tencent-gaap", 200, 4).expect("fits");
        assert_eq!(gaap.instances[0].specs.len(), 5);
        assert!(build("aws-nlb", 1, 1).is_err());
    }
}
