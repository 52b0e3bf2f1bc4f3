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
                listeners: m,
            }
        })
        .collect();
    Ok(Workload { api, instances })
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
