#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod client;
pub mod config;
pub mod routes;
pub mod rules;
pub mod status;
pub mod translate;

use async_trait::async_trait;
use listener_core::ownership::{self, Found};
use listener_core::{
    Capabilities, ChangePlan, Error, Listener, ListenerId, ListenerSpec, Owned, PortRange, ProfileConfig, Protocol,
    Provider, Rejection, Rejections, Result, WaitOp, WriteLock,
};
use serde_json::Value;

use crate::client::ClbClient;
use crate::config::ClbConfig;
use crate::status::wait_task;
use crate::translate::{listener_from_describe, protocol_from_name, CreateGroup, MAX_LISTENERS, PORT_CHECK};

pub use crate::translate::ClbOptions;

/// The API name of this adapter (profile `api`, extension key, error vendor).
pub const API: &str = "tencent-clb";

/// Spec paths CLB cannot change after creation. `tls.sni` is immutable in
/// one direction only: the vendor never allows 1 → 0, but ModifyListener
/// switches 0 → 1 in place (`SniSwitch`), which the provider's
/// `plan_change` ([`translate::plan_change`]) takes out of the replacement.
pub const IMMUTABLE_FIELDS: &[&str] = &[
    "protocol",
    "ports",
    "tls.sni",
    "extensions.tencent-clb.h2c",
    "extensions.tencent-clb.ssl_close",
];

/// Spec paths CLB accepts but DescribeListeners never returns.
pub const WRITE_ONLY_FIELDS: &[&str] = &[
    "client_ip",
    // Every CLB listener runs; `enabled = true` is accepted, never compared.
    "enabled",
    // HTTP/3 is off on every CLB listener; `false` is accepted, never compared.
    "tls.http3",
    "forwarding.default_target",
    "forwarding.backend_protocol",
    "extensions.tencent-clb.snat",
    "extensions.tencent-clb.lcu",
    "extensions.tencent-clb.h2c",
    "extensions.tencent-clb.ssl_close",
    "extensions.tencent-clb.reschedule_target_zero_weight",
    "extensions.tencent-clb.reschedule_unhealthy",
    "extensions.tencent-clb.reschedule_expand_target",
];

/// What CLB listeners can do, declared once.
pub fn capabilities() -> Capabilities {
    Capabilities {
        api: API,
        product: "Tencent Cloud CLB (Cloud Load Balancer)",
        protocols: &Protocol::ALL,
        batch_create: true,
        port_ranges: true,
        mutual_tls: true,
        multiple_server_certificates: true,
        sni: true,
        session_persistence: true,
        listener_health_check: true,
        serial_writes: true,
        rules: true,
        routes: true,
        backends: true,
        pools_on_rules: true,
        route_certificates_on_rules: true,
        immutable_fields: IMMUTABLE_FIELDS,
        write_only_fields: WRITE_ONLY_FIELDS,
        // Every TCP_SSL/HTTPS listener reads back "transparent" (the
        // vendor's default) when nothing else was set.
        vendor_defaults: &[("extensions.tencent-clb.data_compress_mode", "transparent")],
        max_listeners_per_instance: MAX_LISTENERS,
        rate_limit_per_second: 20.0,
        management_mark: "name suffix `--lctl` (default owner) or `--lctl_<owner>` (no listener tags or description)",
        ..Capabilities::BASE
    }
}

/// Every reason CLB cannot take `spec`, without credentials or network.
pub fn check(profile: &ProfileConfig, spec: &ListenerSpec) -> Vec<Rejection> {
    translate::check(profile, spec)
}

/// [`check`] with its warnings.
pub fn check_with_warnings(profile: &ProfileConfig, spec: &ListenerSpec) -> listener_core::Checked {
    translate::check_with_warnings(profile, spec)
}

/// [`check`] for every spec, plus the rules over all listeners of one load
/// balancer (shared port spaces; past the default quota of 50 only a
/// warning, see [`check_set_with_warnings`]).
pub fn check_set(profile: &ProfileConfig, specs: &[ListenerSpec]) -> Vec<(usize, Rejection)> {
    check_set_with_warnings(profile, specs).rejections
}

/// [`check_set`] with the warnings: each spec's own, and the listener
/// quota counted over the whole load balancer (which replaces the per-spec
/// count, so the quota is said once).
pub fn check_set_with_warnings(profile: &ProfileConfig, specs: &[ListenerSpec]) -> listener_core::CheckedSet {
    let mut out = listener_core::CheckedSet::each(specs, |s| check_with_warnings(profile, s));
    out.warnings.retain(|(_, w)| w.rule != translate::LIMIT);
    out.rejections.extend(translate::check_set(specs));
    out.warn_all(specs, translate::listener_quota_warnings(specs));
    out
}

/// CLB listeners of one load balancer.
#[derive(Debug)]
pub struct ClbProvider {
    profile: ProfileConfig,
    config: ClbConfig,
    client: ClbClient,
    caps: Capabilities,
    /// One write (and its task) at a time per load balancer
    /// (`serial_writes`): CLB runs one task per instance.
    writes: WriteLock,
}

impl ClbProvider {
    /// The CLB client (for stats and diagnostics).
    pub fn client(&self) -> &ClbClient {
        &self.client
    }

    fn lb(&self) -> &str {
        &self.config.load_balancer_id
    }

    /// Wait for the task of one write of kind `op`, under that kind's limit.
    async fn wait(&self, op: WaitOp, task: &str, operation: &str) -> Result<()> {
        wait_task(&self.client, task, operation, &self.config.wait.start(API, op)).await
    }

    /// Prove that `id` is on the bound load balancer. CLB's
    /// `DescribeListeners` requires the `LoadBalancerId` and no CLB action
    /// looks a listener up by ID alone, so the vendor reports a listener
    /// only within the load balancer asked about: a listener of another
    /// load balancer cannot be told from an unknown ID, and both are
    /// refused as not found on this one. Returns the proof and the raw
    /// record (not mapped to a spec, so a listener of a kind this adapter
    /// cannot read can still be deleted).
    async fn own(&self, id: &ListenerId) -> Result<(Owned, Value)> {
        ownership::prove(API, self.lb(), id, || async {
            let raw = self
                .client
                .describe_listeners(Some(std::slice::from_ref(&id.0)))
                .await?;
            Ok(raw
                .into_iter()
                .find(|v| v.get("ListenerId").and_then(Value::as_str) == Some(id.as_str()))
                .map(|record| Found {
                    instance: Some(self.lb().to_string()),
                    record,
                }))
        })
        .await
    }

    /// A record read by [`ClbProvider::own`] as a `Listener`.
    fn readable(&self, id: &ListenerId, record: &Value) -> Result<Listener> {
        listener_from_describe(&self.profile, self.lb(), record).ok_or_else(|| Error::NotFound {
            vendor: API,
            what: format!("listener {id} on {} of a kind this adapter can read", self.lb()),
        })
    }

    fn to_listeners(&self, raw: &[Value]) -> Vec<Listener> {
        raw.iter()
            .filter_map(|v| listener_from_describe(&self.profile, self.lb(), v))
            .collect()
    }

    /// The listeners of `spec`'s protocol exactly on `ranges`, in order;
    /// `Err(Conflict)` when another listener holds one of those ports on
    /// the same port space; missing ranges are returned separately.
    fn match_ranges(
        &self,
        spec: &ListenerSpec,
        ranges: &[PortRange],
        existing: &[Listener],
    ) -> Result<(Vec<Listener>, Vec<PortRange>)> {
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for r in ranges {
            let exact = existing
                .iter()
                .find(|l| l.spec.protocol == spec.protocol && l.spec.ports.ranges() == vec![*r]);
            if let Some(l) = exact {
                found.push(l.clone());
                continue;
            }
            let blocker = existing.iter().find(|l| {
                l.spec.protocol.transport() == spec.protocol.transport()
                    && l.spec.ports.ranges().iter().any(|x| x.overlaps(r))
            });
            if let Some(b) = blocker {
                return Err(Error::Conflict {
                    vendor: API,
                    code: PORT_CHECK.into(),
                    message: format!(
                        "port {r} is held by listener {} ({} {})",
                        b.id,
                        translate::protocol_name(b.spec.protocol),
                        b.spec.ports
                    ),
                    request_id: String::new(),
                });
            }
            missing.push(*r);
        }
        Ok((found, missing))
    }

    /// A create task failed: say whether it left listeners behind, so none
    /// stays unseen. CLB rolls a failed create back; if a listener is there
    /// anyway its ID is named in the error.
    async fn report_failed_create(&self, error: Error, spec: &ListenerSpec, ranges: &[PortRange]) -> Error {
        let Error::TaskFailed { vendor, task, message } = error else {
            return error;
        };
        let left = match self.client.describe_listeners(None).await {
            Ok(raw) => {
                let existing = self.to_listeners(&raw);
                let ids: Vec<String> = existing
                    .iter()
                    .filter(|l| {
                        l.spec.protocol == spec.protocol && ranges.iter().any(|r| l.spec.ports.ranges() == vec![*r])
                    })
                    .map(|l| l.id.0.clone())
                    .collect();
                if ids.is_empty() {
                    "no listener was left behind".to_string()
                } else {
                    format!("listeners left behind: {}", ids.join(", "))
                }
            }
            Err(e) => format!("could not check for listeners left behind: {e}"),
        };
        Error::TaskFailed {
            vendor,
            task,
            message: format!("{message}; {left}"),
        }
    }

    /// After a create whose answer was lost: find what it made, and create
    /// only the ports still missing (with their own names). When nothing
    /// seems missing, the same create is sent once more as a probe: CLB
    /// answers it busy while a task (possibly ours, possibly about to fail)
    /// still runs on the load balancer, and a port conflict once it is
    /// idle, which proves the listeners found are final.
    async fn reconcile_create(&self, group: &CreateGroup) -> Result<Vec<Listener>> {
        let spec = &group.spec;
        let ranges = group.ranges();
        let deadline = self.config.wait.start(API, WaitOp::Create);
        let mut rounds = 0u32;
        loop {
            rounds += 1;
            let existing = self.to_listeners(&self.client.describe_listeners(None).await?);
            let (found, missing) = self.match_ranges(spec, &ranges, &existing)?;
            let probe = missing.is_empty();
            let send = if probe { ranges.clone() } else { missing.clone() };
            tracing::info!(
                round = rounds,
                found = found.len(),
                missing = missing.len(),
                probe,
                "reconciling a create whose answer was lost"
            );
            let params = translate::create_params_named(&self.profile, self.lb(), spec, &group.only(&send));
            match self.client.create_listener(&params).await {
                Ok((task, _ids)) => {
                    if let Err(e) = self.wait(WaitOp::Create, &task, "create listener").await {
                        return Err(self.report_failed_create(e, spec, &send).await);
                    }
                    let existing = self.to_listeners(&self.client.describe_listeners(None).await?);
                    let (found, missing) = self.match_ranges(spec, &ranges, &existing)?;
                    if missing.is_empty() {
                        return Ok(found);
                    }
                }
                Err(Error::Conflict { .. }) if probe => {
                    let existing = self.to_listeners(&self.client.describe_listeners(None).await?);
                    let (found, missing) = self.match_ranges(spec, &ranges, &existing)?;
                    if missing.is_empty() {
                        return Ok(found);
                    }
                }
                Err(
                    e @ (Error::Conflict { .. }
                    | Error::Busy { .. }
                    | Error::Throttled { .. }
                    | Error::Transport { .. }),
                ) => {
                    tracing::debug!(kind = e.kind(), "create not settled yet");
                }
                Err(e) => return Err(e),
            }
            deadline
                .pause(&format!("reconciling the create of `{}` on {}", spec.name, self.lb()))
                .await?;
        }
    }

    /// One CreateListener call for a group, its task waited for once, then
    /// the listeners read back. Holds the load balancer's write lock
    /// throughout: CLB runs one task per instance.
    async fn create_group(&self, group: &CreateGroup) -> Result<Vec<Listener>> {
        let spec = &group.spec;
        let ranges = group.ranges();
        let params = translate::create_params_named(&self.profile, self.lb(), spec, &group.ports);
        let _writing = self.writes.hold().await;
        let (task, ids) = match self.client.create_listener(&params).await {
            Ok(answer) => answer,
            Err(Error::Transport {
                maybe_applied: true,
                message,
                ..
            }) => {
                tracing::warn!(%message, "create answer lost; looking up what was made");
                return self.reconcile_create(group).await;
            }
            Err(e) => return Err(e),
        };
        tracing::info!(task = %task, listeners = ids.len(), "create accepted; waiting for the task");
        if let Err(e) = self.wait(WaitOp::Create, &task, "create listener").await {
            return Err(self.report_failed_create(e, spec, &ranges).await);
        }
        let raw = if ids.len() == ranges.len() {
            self.client.describe_listeners(Some(&ids)).await?
        } else {
            self.client.describe_listeners(None).await?
        };
        let existing = self.to_listeners(&raw);
        let (found, missing) = self.match_ranges(spec, &ranges, &existing)?;
        if !missing.is_empty() {
            return Err(Error::NotFound {
                vendor: API,
                what: format!(
                    "listeners on ports {} after a successful create task",
                    missing.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(",")
                ),
            });
        }
        Ok(found)
    }

    /// Refuse before any call when one of `specs` breaks a CLB rule, then
    /// create them in as few calls as [`translate::create_groups`] allows,
    /// one call (and one task) at a time. Stops at the first failure.
    async fn create_all(&self, specs: &[ListenerSpec]) -> Result<Vec<Listener>> {
        let rejections: Vec<Rejection> = specs.iter().flat_map(|s| check(&self.profile, s)).collect();
        Rejections::from_vec(API, rejections).into_result()?;
        let groups = translate::create_groups(specs, translate::MAX_PORTS_PER_CALL);
        tracing::info!(specs = specs.len(), calls = groups.len(), "creating CLB listeners");
        let mut out = Vec::new();
        for group in &groups {
            out.extend(self.create_group(group).await?);
        }
        Ok(out)
    }
}

impl ClbProvider {
    /// A listener certificate or client CA change on an HTTPS listener
    /// with SNI on: CLB keeps no listener certificate there (ModifyListener
    /// refuses one), the domains hold it ([`routes`]). Every domain serving
    /// the old listener certificate (or none) gets the new one, and every
    /// domain the listener's client CA (mutual TLS is per domain with SNI
    /// on), with `ModifyDomainAttributes`, which swaps both in one step;
    /// the certificate keys leave `params`.
    async fn rotate_sni_certificate(
        &self,
        owned: &Owned,
        record: &Value,
        params: &mut Value,
        desired: &ListenerSpec,
    ) -> Result<()> {
        let Some(map) = params.as_object_mut() else {
            return Ok(());
        };
        let touched = map.remove("Certificate").is_some() | map.remove("MultiCertInfo").is_some();
        if !touched {
            return Ok(());
        }
        let Some(alias) = desired.tls.as_ref().and_then(|t| t.certificates.first()) else {
            return Ok(());
        };
        let new = self.profile.aliases.certificate(alias).unwrap_or(alias).to_string();
        let ca = rules::wanted_client_ca(desired, &self.profile.aliases);
        let old = rules::listener_certificate(record);
        let certs = rules::domain_certificates(record);
        let cas = rules::domain_client_cas(record);
        for (d, have_ca) in &cas {
            // A domain with its own (route) certificate keeps it.
            let cert = match certs.get(d) {
                Some(c) if Some(c) != old.as_ref() => c.clone(),
                _ => new.clone(),
            };
            if certs.get(d) == Some(&cert) && have_ca.as_ref() == ca.as_ref() {
                continue;
            }
            tracing::info!(domain = %d, "listener certificate or client CA rotated on an SNI domain");
            let _writing = self.writes.hold().await;
            let task = self
                .client
                .modify_domain(
                    owned,
                    d,
                    &serde_json::json!({ "Certificate": rules::certificate_param(&cert, ca.as_ref()) }),
                )
                .await?;
            self.wait(WaitOp::Update, &task, "domain certificate").await?;
        }
        Ok(())
    }
}

#[async_trait]
impl Provider for ClbProvider {
    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    fn instance(&self) -> &str {
        self.lb()
    }

    fn check(&self, spec: &ListenerSpec) -> Vec<Rejection> {
        check(&self.profile, spec)
    }

    fn check_set(&self, specs: &[ListenerSpec]) -> Vec<(usize, Rejection)> {
        check_set(&self.profile, specs)
    }

    async fn create(&self, spec: &ListenerSpec) -> Result<Vec<Listener>> {
        self.create_all(std::slice::from_ref(spec)).await
    }

    /// CreateListener takes `Ports` with `ListenerNames` one to one, so
    /// specs that differ only in name and ports (five TCP listeners of a
    /// file with the same settings) go out as one call and one task,
    /// instead of five writes each waiting for the instance to be free.
    async fn create_batch(&self, specs: &[ListenerSpec]) -> Result<Vec<Listener>> {
        self.create_all(specs).await
    }

    async fn get(&self, id: &ListenerId) -> Result<Listener> {
        let (_, record) = self.own(id).await?;
        self.readable(id, &record)
    }

    async fn list(&self) -> Result<Vec<Listener>> {
        let raw = self.client.describe_listeners(None).await?;
        let listeners = self.to_listeners(&raw);
        if listeners.len() != raw.len() {
            let unknown: Vec<&str> = raw
                .iter()
                .filter(|v| listener_from_describe(&self.profile, self.lb(), v).is_none())
                .filter_map(|v| v.get("Protocol").and_then(Value::as_str))
                .filter(|p| protocol_from_name(p).is_none())
                .collect();
            tracing::warn!(?unknown, "skipped listeners this adapter cannot read");
        }
        Ok(listeners)
    }

    async fn update(&self, current: &Listener, desired: &ListenerSpec) -> Result<Listener> {
        Rejections::from_vec(API, translate::check_update(&self.profile, &current.spec, desired)).into_result()?;
        translate::refuse_immutable(&self.caps, current, desired)?;
        let (owned, record) = self.own(&current.id).await?;
        let Some(mut params) =
            translate::modify_params(&self.profile, self.lb(), &current.id.0, &current.spec, desired)
        else {
            return self.readable(&current.id, &record);
        };
        if rules::sni_on(&record) {
            self.rotate_sni_certificate(&owned, &record, &mut params, desired)
                .await?;
        }
        let only_ids = params
            .as_object()
            .is_some_and(|m| m.keys().all(|k| k == "LoadBalancerId" || k == "ListenerId"));
        if !only_ids {
            let _writing = self.writes.hold().await;
            let task = self.client.modify_listener(&owned, &params).await?;
            self.wait(WaitOp::Update, &task, "modify listener").await?;
        }
        self.get(&current.id).await
    }

    /// `tls.sni` is immutable one way only: see [`translate::plan_change`].
    fn plan_change(&self, current: &ListenerSpec, desired: &ListenerSpec) -> ChangePlan {
        translate::plan_change(&self.caps, current, desired)
    }

    /// Routes and the listener's backend as CLB rules and targets
    /// ([`routes`]).
    fn rules(&self) -> Option<&dyn listener_core::RuleProvider> {
        Some(self)
    }

    async fn delete(&self, id: &ListenerId) -> Result<()> {
        let (owned, _) = self.own(id).await?;
        let _writing = self.writes.hold().await;
        match self.client.delete_listener(&owned).await {
            Ok(task) => self.wait(WaitOp::Delete, &task, "delete listener").await,
            Err(Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
