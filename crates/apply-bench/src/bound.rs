//! The lower bound on apply time, from first principles.
//!
//! Two things limit how fast listeners can be made, whatever the client:
//!
//! 1. **Rate.** Each action has a token bucket (the emulator's model of the
//!    vendors' per-action limits): capacity `B` requests, refilled at `r`
//!    per second. Making `n` calls of one action takes at least
//!    `max(0, n - B) / r` seconds: the first `B` can go at once, every
//!    further one waits for a token. (With `n` much larger than `B` this is
//!    the familiar `n / r`.)
//! 2. **One write at a time per instance.** Every vendor refuses a write
//!    while another one is still being applied on the same instance (CLB
//!    `FailedOperation.ResourceInOperating`, GAAP
//!    `FailedOperation.ListenerHasTask`, ALB `IncorrectStatus.LoadBalancer`,
//!    GA `StateError.Accelerator`). So an instance needs at least the sum of
//!    its writes' asynchronous waits: `calls_i × create_delay`. Instances are
//!    independent, so only the busiest one counts.
//!
//! bound = max( max over actions of max(0, n_a - B_a) / r_a,
//!              max over instances of calls_i × create_delay )
//!
//! The calls counted are the fewest create calls the vendor's API allows
//! (what one call may carry is the vendor's rule, written here again rather
//! than asked of the adapters, so the bound does not trust the code it
//! measures). Reads (listing, status polls, read-back) are left out: they
//! only add time, so leaving them out keeps the bound a lower bound.

use std::collections::BTreeMap;
use std::time::Duration;

use listener_core::{ListenerSpec, Ports, Protocol};
use listener_emulator::{Family, RateLimits};

use crate::workload::{service_of, Workload, QUOTA};

/// The rate term of one action.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionTerm {
    /// The create action.
    pub action: &'static str,
    /// Calls needed over all instances.
    pub calls: usize,
    /// Bucket capacity (the burst allowed).
    pub burst: f64,
    /// Refill, calls per second.
    pub per_second: f64,
    /// `max(0, calls - burst) / per_second`.
    pub seconds: f64,
}

/// The bound and where it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Bound {
    /// Per create action.
    pub actions: Vec<ActionTerm>,
    /// The largest rate term.
    pub rate_seconds: f64,
    /// The busiest instance: its ID and create calls.
    pub busiest: (String, usize),
    /// `calls × create delay` of the busiest instance.
    pub serial_seconds: f64,
}

impl Bound {
    /// The bound itself, in seconds.
    pub fn seconds(&self) -> f64 {
        self.rate_seconds.max(self.serial_seconds)
    }
}

/// The create calls `specs` need at the fewest, one entry (the action) per
/// call, by the vendor's own rules on what one call may carry.
pub fn create_calls(api: &str, specs: &[ListenerSpec]) -> Vec<&'static str> {
    match api {
        // CreateTCPListeners / CreateUDPListeners take a port list with one
        // name and one set of options; the HTTP(S) actions take one port.
        "tencent-gaap" => specs
            .iter()
            .flat_map(|s| {
                let ports = s.ports.expand().len();
                match s.protocol {
                    Protocol::Tcp => vec!["CreateTCPListeners"; ports.div_ceil(QUOTA)],
                    Protocol::Udp => vec!["CreateUDPListeners"; ports.div_ceil(QUOTA)],
                    Protocol::Https => vec!["CreateHTTPSListener"; ports],
                    _ => vec!["CreateHTTPListener"; ports],
                }
            })
            .collect(),
        // CreateListener takes Ports with ListenerNames one to one and every
        // other parameter once: specs equal but for name and ports share a
        // call, up to the quota; single ports and ranges (FullEndPorts)
        // cannot be mixed.
        "tencent-clb" => {
            let mut groups: Vec<(ListenerSpec, bool, usize)> = Vec::new();
            for s in specs {
                let mut key = s.clone();
                key.name = String::new();
                key.ports = Ports::Single(0);
                for r in s.ports.ranges() {
                    let range = r.from != r.to;
                    match groups
                        .iter_mut()
                        .find(|(k, g, n)| *g == range && *n < QUOTA && *k == key)
                    {
                        Some((_, _, n)) => *n += 1,
                        None => groups.push((key.clone(), range, 1)),
                    }
                }
            }
            vec!["CreateListener"; groups.len()]
        }
        // One listener per CreateListener; an ALB listener has one port, a
        // GA listener holds all of its spec's ports.
        "alibaba-alb" => vec!["CreateListener"; specs.iter().map(|s| s.ports.expand().len()).sum()],
        _ => vec!["CreateListener"; specs.len()],
    }
}

/// The writes the pools and routes of `specs` need at the fewest, one
/// entry per call, each an asynchronous task the instance waits for (the
/// routes workload; empty without routes and backends). Per routed HTTP
/// listener the plan expands its routes into the routes themselves, a `/`
/// per route host and, where pools live on rules, the root rule; a
/// layer-4 listener's backend is its root rule. The vendors' rules on
/// what one call may carry:
/// - GAAP: one `CreateDomain` per host and the default domain, one
///   `CreateRule` and one `BindRuleRealServers` per rule, one
///   `BindListenerRealServers` per TCP listener (origins are added once
///   per instance by a synchronous `AddRealServers`, left out).
/// - CLB: one `CreateRule` per listener carrying all its rules, one
///   `RegisterTargets` per rule (its `LocationId` is one rule; the batch
///   action `BatchRegisterTargets` is not emulated) and per TCP listener.
/// - ALB: per instance one `CreateServerGroup` and one
///   `AddServersToServerGroup` per pool; one `CreateRules` per listener
///   (up to 10 rules a call).
/// - GA: one `CreateEndpointGroup` for the default group and one per
///   virtual group (a distinct route pool), one `CreateForwardingRules`
///   per listener (all its rules). `CreateEndpointGroups` does not save
///   calls here: on an HTTP/HTTPS listener it takes one group a call, and
///   on a TCP/UDP listener no virtual group (API reference
///   CreateEndpointGroups; ROS `ALIYUN::GA::EndpointGroups`; the emulator
///   answers `InvalidParameter`). The listener's default groups can also
///   ride on `CreateListener` (`EndpointGroupConfigurations`), which the
///   adapter does not use (factsheet: out of scope), so they count here.
pub fn route_calls(api: &str, specs: &[ListenerSpec]) -> Vec<&'static str> {
    let mut out = Vec::new();
    let pools = specs
        .iter()
        .flat_map(|s| s.backend.iter().chain(s.routes.iter().map(|r| &r.backend)))
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    if api == "alibaba-alb" && pools > 0 {
        out.extend(vec!["CreateServerGroup"; pools]);
        out.extend(vec!["AddServersToServerGroup"; pools]);
    }
    for s in specs {
        let hosts: std::collections::BTreeSet<&str> = s.routes.iter().map(|r| r.host.as_str()).collect();
        let catch_alls = hosts
            .iter()
            .filter(|h| !s.routes.iter().any(|r| r.host == **h && r.path == "/"))
            .count();
        let host_rules = s.routes.len() + catch_alls;
        let layer7 = !s.routes.is_empty();
        let has_backend = s.backend.is_some();
        match api {
            "tencent-gaap" if layer7 => {
                out.extend(vec!["CreateDomain"; hosts.len() + 1]);
                out.extend(vec!["CreateRule"; host_rules + 1]);
                out.extend(vec!["BindRuleRealServers"; host_rules + 1]);
            }
            "tencent-gaap" if has_backend => out.push("BindListenerRealServers"),
            "tencent-clb" if layer7 => {
                out.push("CreateRule");
                out.extend(vec!["RegisterTargets"; host_rules + 1]);
            }
            "tencent-clb" if has_backend => out.push("RegisterTargets"),
            "alibaba-alb" if layer7 => out.extend(vec!["CreateRules"; host_rules.div_ceil(10)]),
            "alibaba-ga" if layer7 => {
                // A host's `/` catch-all forwards to the default backend.
                let mut virtual_groups: std::collections::BTreeSet<&str> =
                    s.routes.iter().map(|r| r.backend.as_str()).collect();
                if catch_alls > 0 {
                    virtual_groups.extend(s.backend.as_deref());
                }
                out.extend(vec!["CreateEndpointGroup"; 1 + virtual_groups.len()]);
                out.push("CreateForwardingRules");
            }
            "alibaba-ga" if has_backend => out.push("CreateEndpointGroup"),
            _ => {}
        }
    }
    out
}

/// The bound of `work` under `limits`, with `create_delay` per write.
pub fn bound(work: &Workload, limits: &RateLimits, create_delay: Duration) -> Bound {
    let family = if work.api.starts_with("tencent") {
        Family::Tencent
    } else {
        Family::Alibaba
    };
    let service = service_of(work.api);
    let mut per_action: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut busiest = (String::new(), 0usize);
    for inst in &work.instances {
        let mut calls = create_calls(work.api, &inst.specs);
        calls.extend(route_calls(work.api, &inst.specs));
        if calls.len() > busiest.1 || busiest.0.is_empty() {
            busiest = (inst.id.clone(), calls.len());
        }
        for action in calls {
            *per_action.entry(action).or_default() += 1;
        }
    }
    let actions: Vec<ActionTerm> = per_action
        .into_iter()
        .map(|(action, calls)| {
            let (burst, per_second) = if limits.enabled {
                let rate = limits.rate_for(family, service, action);
                let allowed = f64::from(rate.requests) * limits.scale;
                (allowed.max(1.0), allowed / rate.per.as_secs_f64())
            } else {
                (f64::INFINITY, f64::INFINITY)
            };
            let excess = (calls as f64 - burst).max(0.0);
            let seconds = if excess > 0.0 { excess / per_second } else { 0.0 };
            ActionTerm {
                action,
                calls,
                burst,
                per_second,
                seconds,
            }
        })
        .collect();
    let rate_seconds = actions.iter().map(|a| a.seconds).fold(0.0, f64::max);
    let serial_seconds = busiest.1 as f64 * create_delay.as_secs_f64();
    Bound {
        actions,
        rate_seconds,
        busiest,
        serial_seconds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::build;
    use listener_emulator::Rate;

    #[test]
    fn batching_apis_need_fewer_calls_than_listeners() {
        let gaap = build("tencent-gaap", 200, 4).expect("fits");
        assert_eq!(create_calls("tencent-gaap", &gaap.instances[0].specs).len(), 5);
        let clb = build("tencent-clb", 200, 4).expect("fits");
        // 40 TCP and 10 UDP listeners: one call each.
        assert_eq!(create_calls("tencent-clb", &clb.instances[0].specs).len(), 2);
        for api in ["alibaba-alb", "alibaba-ga"] {
            let w = build(api, 200, 4).expect("fits");
            assert_eq!(create_calls(api, &w.instances[0].specs).len(), 50, "{api}");
        }
    }

    /// A routed HTTP listener (4 routes on 2 hosts: 6 host rules, plus the
    /// root rule where pools live on rules) and a TCP listener with a
    /// backend, per vendor.
    #[test]
    fn routes_add_their_writes_per_vendor() {
        let count = |api: &'static str| {
            let w = crate::workload::build_routes(api, 4, 1).expect("fits");
            route_calls(api, &w.instances[0].specs).len()
        };
        // 2 routed + 2 TCP listeners.
        assert_eq!(count("tencent-gaap"), 2 * (3 + 7 + 7) + 2);
        assert_eq!(count("tencent-clb"), 2 * (1 + 7) + 2);
        // The default group, 3 virtual groups one call each, the rules.
        assert_eq!(count("alibaba-ga"), 2 * (1 + 3 + 1) + 2);
        // 4 routed listeners; 3 pools made once per instance.
        assert_eq!(count("alibaba-alb"), 3 + 3 + 4);
    }

    #[test]
    fn serial_term_is_the_busiest_instance_times_the_delay() {
        let w = build("alibaba-ga", 200, 4).expect("fits");
        let b = bound(&w, &RateLimits::default(), Duration::from_secs(1));
        assert_eq!(b.busiest.1, 50);
        assert!((b.serial_seconds - 50.0).abs() < 1e-9);
        // 200 creates at 20/s with a burst of 20.
        assert!((b.rate_seconds - 9.0).abs() < 1e-9);
        assert!((b.seconds() - 50.0).abs() < 1e-9);
    }

    #[test]
    fn rate_term_counts_the_burst_then_the_refill() {
        let w = build("alibaba-alb", 200, 4).expect("fits");
        let mut limits = RateLimits::default();
        // 200 ALB creates fit the default bucket of 200 per minute.
        assert_eq!(bound(&w, &limits, Duration::from_millis(100)).rate_seconds, 0.0);
        limits.alb_writes = Rate::per_minute(100);
        let b = bound(&w, &limits, Duration::from_millis(100));
        // 100 go at once, the other 100 at 100/60 per second.
        assert!((b.rate_seconds - 60.0).abs() < 1e-9);
        assert!((b.seconds() - 60.0).abs() < 1e-9);
    }
}
