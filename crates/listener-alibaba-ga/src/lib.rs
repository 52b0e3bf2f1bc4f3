#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod acl;
mod batch;
mod certs;
pub mod client;
pub mod config;
pub mod rules;
pub mod status;
pub mod translate;

use async_trait::async_trait;
use listener_core::ownership::{self, Found};
use listener_core::{
    refuse_immutable, Capabilities, Checked, CheckedSet, Error, Listener, ListenerId, ListenerSpec, Owned, Poll,
    ProfileConfig, Protocol, Provider, Rejection, Rejections, Result, WaitOp, WriteLock,
};

use crate::client::GaClient;
use crate::config::{GaConfig, GA};
use crate::translate::{GaListener, GaOptions};

/// The adapter's API name: profiles say `api = "alibaba-ga"`, and GA-only
/// settings live under `extensions.alibaba-ga`.
pub const API: &str = "alibaba-ga";

/// The protocols a GA listener can have.
const PROTOCOLS: [Protocol; 4] = [Protocol::Tcp, Protocol::Udp, Protocol::Http, Protocol::Https];

/// What GA listeners can do, declared once (see the README for the rules
/// behind each entry).
pub fn capabilities() -> Capabilities {
    Capabilities {
        api: API,
        product: "Alibaba Cloud Global Accelerator (GA)",
        protocols: &PROTOCOLS,
        // One GA listener holds several ports and ranges (TCP/UDP).
        multi_port_listener: true,
        port_ranges: true,
        port_limits: (1, translate::MAX_PORT),
        tls_policy: true,
        http2: true,
        http3: true,
        session_persistence: true,
        // One ACL per listener and IP version, made and owned by the
        // adapter (see `acl`).
        access_control: true,
        // GA changes one listener of an accelerator at a time
        // (`StateError.Accelerator` otherwise).
        serial_writes: true,
        idempotency_token: true,
        // GA changes protocol and ports in place (UpdateListener); only the
        // routing type (and the accelerator, which is not a spec field) is
        // fixed at creation.
        immutable_fields: &["extensions.alibaba-ga.routing_type"],
        // Endpoint groups carry GA's backends; the listener never reports one.
        write_only_fields: &["forwarding.default_target", "forwarding.backend_protocol", "enabled"],
        // The read-back always names the routing type (it is immutable, so
        // it must be compared); `standard` is what a listener is unless
        // the file asks for custom routing.
        vendor_defaults: &[("extensions.alibaba-ga.routing_type", "standard")],
        max_listeners_per_instance: translate::MAX_LISTENERS_PER_ACCELERATOR as u32,
        // GA publishes no per-action rate; the family client's conservative
        // default is used.
        rate_limit_per_second: GA.rate_limit_per_second,
        management_mark: "description suffix `[cloud-listeners:<owner>]` (no listener tags)",
        // Per-host certificates: additional certificates by domain,
        // carried by the listener (module `certs`).
        sni: true,
        // Routes are forwarding rules, backends endpoint groups that
        // belong to the listener (module `rules`).
        rules: true,
        routes: true,
        backends: true,
        pools_on_rules: true,
        route_certificates_on_rules: false,
        ..Capabilities::BASE
    }
}

/// Every reason GA cannot take `spec`, without any network call: neutral
/// rules, certificate aliases, the `extensions.alibaba-ga` section, and each
/// GA rule of [`translate`].
pub fn check(profile: &ProfileConfig, spec: &ListenerSpec) -> Vec<Rejection> {
    check_with_warnings(profile, spec).rejections
}

/// [`check`] with the warnings beside the rejections (the deprecated
/// listener-level `ProxyProtocol`).
pub fn check_with_warnings(profile: &ProfileConfig, spec: &ListenerSpec) -> Checked {
    let mut r = Rejections::preflight(&crate::capabilities(), &profile.aliases, spec);
    let opts = match spec.extensions.parse::<GaOptions>(API) {
        Ok(o) => o.unwrap_or_default(),
        Err(e) => {
            r.reject(format!("extensions.{API}"), translate::rule::EXTENSION_INVALID, e);
            GaOptions::default()
        }
    };
    translate::check_rules(spec, &opts, &mut r);
    translate::reject_description_without_room_for_the_mark(profile.owner(), spec, &mut r);
    r.into_checked()
}

/// [`check`] for each listener, plus the rules across one accelerator's
/// listeners (shared port spaces, huge-port listeners, one routing type),
/// each paired with the index of the listener concerned.
pub fn check_set(profile: &ProfileConfig, specs: &[ListenerSpec]) -> Vec<(usize, Rejection)> {
    check_set_with_warnings(profile, specs).rejections
}

/// [`check_set`] with the warnings: each listener's own, and those past
/// the accelerator's default listener quota.
pub fn check_set_with_warnings(profile: &ProfileConfig, specs: &[ListenerSpec]) -> CheckedSet {
    let mut out = CheckedSet::each(specs, |s| check_with_warnings(profile, s));
    out.rejections.extend(translate::check_accelerator(specs));
    out.warn_all(specs, translate::listener_quota_warnings(specs));
    for spec in specs {
        if let Some(message) = translate::acl_entries_warning(spec) {
            tracing::warn!(listener = %spec.name, "{message}");
        }
    }
    out
}

/// GA listeners of one accelerator.
#[derive(Debug)]
pub struct GaProvider {
    config: GaConfig,
    profile: ProfileConfig,
    client: GaClient,
    caps: Capabilities,
    /// One write at a time per accelerator (`serial_writes`).
    writes: WriteLock,
}

impl GaProvider {
    /// The GA calls this provider makes (for stats and tests).
    pub fn client(&self) -> &GaClient {
        &self.client
    }

    fn listener(&self, ga: GaListener) -> Listener {
        Listener {
            id: ListenerId(ga.id),
            instance: if ga.accelerator.is_empty() {
                self.config.accelerator_id.clone()
            } else {
                ga.accelerator
            },
            status: status::status_of(&ga.state),
            spec: ga.spec,
            owner: None,
            managed: false,
        }
        .with_owner(ga.owner, &self.config.owner)
    }

    fn read(&self, answer: &serde_json::Value) -> Result<Listener> {
        translate::listener_from_answer(answer, &self.config.aliases).map(|ga| self.listener(ga))
    }

    /// Prove that `id` is on the bound accelerator from the `AcceleratorId`
    /// that DescribeListener reports: GA's listener reads and updates take
    /// the ID alone, so an ID of another accelerator would be acted on.
    /// Returns the proof and the answer. Only `AcceleratorId` is read
    /// here, so a listener this adapter cannot map to a spec can still be
    /// deleted.
    async fn own(&self, id: &ListenerId) -> Result<(Owned, serde_json::Value)> {
        ownership::prove(API, &self.config.accelerator_id, id, || async {
            match self.client.describe_listener(id.as_str()).await {
                Ok(answer) => Ok(Some(Found {
                    instance: answer
                        .get("AcceleratorId")
                        .and_then(serde_json::Value::as_str)
                        .map(str::to_string),
                    record: answer,
                })),
                Err(Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        })
        .await
    }

    /// [`GaProvider::read`] plus the listener's access control, which
    /// takes one `GetAcl` per ACL the listener uses, and its additional
    /// certificates (HTTPS), one `ListListenerCertificates`.
    async fn read_with_access(&self, answer: &serde_json::Value) -> Result<Listener> {
        let mut listener = self.read(answer)?;
        listener.spec.access = acl::read_access(&self.client, answer).await?;
        if certs::takes_certificates(&listener.spec) {
            let domains = self
                .client
                .additional_certificates(&listener.instance, listener.id.as_str())
                .await?;
            certs::read_into(&mut listener.spec, &domains, &self.config.aliases);
        }
        Ok(listener)
    }

    /// Bring the additional certificates of an owned HTTPS listener to
    /// what `desired`'s routes name; a desired spec without routes leaves
    /// them as they are (see [`translate::plan_change`]).
    async fn apply_certificates(
        &self,
        owned: &Owned,
        desired: &ListenerSpec,
        deadline: &listener_core::Deadline,
    ) -> Result<bool> {
        if !certs::takes_certificates(desired) || desired.routes.is_empty() {
            return Ok(false);
        }
        let have = self
            .client
            .additional_certificates(owned.instance(), owned.as_str())
            .await?;
        let want = certs::wanted_ids(desired, &self.config.aliases);
        certs::apply(&self.client, owned, &have, &want, deadline).await
    }

    fn refuse(&self, spec: &ListenerSpec) -> Result<()> {
        Rejections::from_vec(API, check(&self.profile, spec))
            .into_result()
            .map(drop)
    }
}

#[async_trait]
impl Provider for GaProvider {
    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    fn instance(&self) -> &str {
        &self.config.accelerator_id
    }

    fn check(&self, spec: &ListenerSpec) -> Vec<Rejection> {
        check(&self.profile, spec)
    }

    fn check_set(&self, specs: &[ListenerSpec]) -> Vec<(usize, Rejection)> {
        check_set(&self.profile, specs)
    }

    fn plan_change(&self, current: &ListenerSpec, desired: &ListenerSpec) -> listener_core::ChangePlan {
        translate::plan_change(&self.caps, current, desired)
    }

    fn rules(&self) -> Option<&dyn listener_core::RuleProvider> {
        Some(self)
    }

    async fn create(&self, spec: &ListenerSpec) -> Result<Vec<Listener>> {
        self.refuse(spec)?;
        translate::log_port_quota(spec);
        let params = translate::create_params(
            &self.config.accelerator_id,
            spec,
            &self.config.aliases,
            &self.config.owner,
        );
        // One token for the whole logical create, reused on every attempt.
        let _writing = self.writes.hold().await;
        let token = self.client.new_token();
        tracing::info!(listener = %spec.name, accelerator = %self.config.accelerator_id, token = %token, "creating GA listener");
        let deadline = self.config.wait.start(API, WaitOp::Create);
        let id = self.client.create_listener(&params, &token, &deadline).await?;
        // One read per poll, which ends the wait and is the read-back: the
        // answer GA gives for an active listener is all of it.
        let answer = status::wait_active(&self.client, &id, "creation", &deadline).await?;
        let certificates = certs::takes_certificates(spec) && !certs::wanted(spec).is_empty();
        if spec.access.is_none() && !certificates {
            return Ok(vec![self.read(&answer)?]);
        }
        // Made on the bound accelerator; the answer says so, and that is
        // the proof the ACL writes need.
        let id = ListenerId(id);
        let owned = ownership::claim(
            API,
            &self.config.accelerator_id,
            &id,
            answer
                .get("AcceleratorId")
                .and_then(serde_json::Value::as_str)
                .or(Some("")),
        )?;
        if spec.access.is_some() {
            acl::apply(&self.client, &owned, spec.access.as_ref(), &deadline).await?;
        }
        self.apply_certificates(&owned, spec, &deadline).await?;
        Ok(vec![self.get(&id).await?])
    }

    /// Creates without an access section confirmed by the next create's
    /// acceptance and one listing of the accelerator per two creates
    /// (module `batch`).
    async fn create_each(&self, specs: &[ListenerSpec], turns: &dyn listener_core::CreateTurns) {
        batch::create_each(self, specs, turns).await
    }

    async fn get(&self, id: &ListenerId) -> Result<Listener> {
        let (_, answer) = self.own(id).await?;
        self.read_with_access(&answer).await
    }

    async fn list(&self) -> Result<Vec<Listener>> {
        let items = self.client.list_listeners(&self.config.accelerator_id).await?;
        let mut out = Vec::with_capacity(items.len());
        for item in &items {
            // ListListeners carries no ACL fields (the SDK's model has
            // none); DescribeListener does, so each listener is described.
            let id = item
                .get("ListenerId")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default();
            // None: deleted between the list and the describe.
            if let Some(answer) = status::describe(&self.client, id).await? {
                out.push(self.read_with_access(&answer).await?);
            }
        }
        Ok(out)
    }

    async fn update(&self, current: &Listener, desired: &ListenerSpec) -> Result<Listener> {
        refuse_immutable(&self.caps, current, desired)?;
        self.refuse(desired)?;
        // What GA reports decides first: an ID of another accelerator is
        // `NotOwned` whatever the caller's copy says.
        let (owned, answer) = self.own(&current.id).await?;
        if current.instance != self.config.accelerator_id {
            // The caller's copy claims another accelerator: a listener
            // cannot move between accelerators.
            return Err(Error::ImmutableField {
                vendor: API,
                field: "accelerator".into(),
                listener_id: current.id.0.clone(),
            });
        }
        let id = owned.as_str();
        let want_access = desired.access.clone();
        let access_changes = !same_access(current.spec.access.as_ref(), want_access.as_ref());
        // The listener itself is compared without `access`: ACLs are
        // separate resources, changed below.
        let mut desired_listener = desired.clone();
        desired_listener.access = None;
        // Routes are rules (their own resources); their certificates are
        // additional certificates, changed below.
        let certificates = desired.clone();
        desired_listener.routes.clear();
        let desired = &desired_listener;
        let _writing = self.writes.hold().await;
        let Some(params) =
            translate::update_params(id, &current.spec, desired, &self.config.aliases, &self.config.owner)
        else {
            let deadline = self.config.wait.start(API, WaitOp::Update);
            let mut changed = false;
            if access_changes {
                acl::apply(&self.client, &owned, want_access.as_ref(), &deadline).await?;
                changed = true;
            }
            changed |= self.apply_certificates(&owned, &certificates, &deadline).await?;
            if changed {
                return self.get(&current.id).await;
            }
            tracing::info!(listener = id, "nothing GA can change differs");
            // Nothing was sent: the certificates are the caller's read-back.
            let mut same = self.read(&answer)?;
            same.spec.access = acl::read_access(&self.client, &answer).await?;
            same.spec.routes = current.spec.routes.clone();
            if let (Some(tls), Some(was)) = (same.spec.tls.as_mut(), current.spec.tls.as_ref()) {
                tls.sni = was.sni;
            }
            return Ok(same);
        };
        let token = self.client.new_token();
        tracing::info!(listener = id, token = %token, "updating GA listener");
        let deadline = self.config.wait.start(API, WaitOp::Update);
        self.client.update_listener(&owned, &params, &token, &deadline).await?;
        // GA has no failure state: a change it could not make shows only as
        // a listener that is active but still different. Active and
        // different after a busy state was seen is that failure; without
        // any busy state seen the change may not have started yet, which
        // the poller waits out for its grace (not until the deadline: an
        // update that failed before the first poll never shows a busy
        // state at all).
        let mut saw_work = false;
        let updated = deadline
            .poll(
                "listener",
                &format!("update of listener {id}"),
                || status::describe(&self.client, id),
                |answer| {
                    let Some(answer) = answer else {
                        return Poll::Failed(status::disappeared(id, "update"));
                    };
                    if !status::is_active(status::state_of(&answer)) {
                        saw_work = true;
                        return Poll::Pending(status::state_of(&answer).to_string());
                    }
                    let listener = match self.read(&answer) {
                        Ok(listener) => listener,
                        Err(e) => return Poll::Failed(e),
                    };
                    let left = translate::plan_change(&self.caps, &listener.spec, desired);
                    if left.is_empty() {
                        return Poll::Done(listener);
                    }
                    let fields: Vec<String> = left.changes.into_iter().map(|c| c.path).collect();
                    let failed = Error::TaskFailed {
                        vendor: API,
                        task: id.to_string(),
                        message: format!(
                            "GA finished the update but these fields still differ: {}",
                            fields.join(", ")
                        ),
                    };
                    if saw_work {
                        Poll::Failed(failed)
                    } else {
                        Poll::NotSeen(failed)
                    }
                },
            )
            .await?;
        let certificates_changed = self.apply_certificates(&owned, &certificates, &deadline).await?;
        if access_changes {
            acl::apply(&self.client, &owned, want_access.as_ref(), &deadline).await?;
        } else if current.spec.access.is_none() && !certificates_changed && !certs::takes_certificates(desired) {
            return Ok(updated);
        }
        self.get(&current.id).await
    }

    async fn delete(&self, id: &ListenerId) -> Result<()> {
        let (owned, _) = self.own(id).await?;
        // Found while the listener can still be proven, deleted after it is
        // gone (a deleted listener releases its ACLs).
        let acls = acl::owned(&self.client, &owned).await?;
        let _writing = self.writes.hold().await;
        let deadline = self.config.wait.start(API, WaitOp::Delete);
        // GA refuses to delete a listener that still has forwarding rules
        // or endpoint groups (`Exist.ForwardingRule`, `Exist.EndpointGroup`):
        // this adapter's go first; others make the delete fail as GA says.
        self.clear_routes(&owned, &deadline).await?;
        let token = self.client.new_token();
        tracing::info!(listener = %id, token = %token, "deleting GA listener");
        match self.client.delete_listener(&owned, &token, &deadline).await {
            Ok(()) => status::wait_gone(&self.client, id.as_str(), &deadline).await?,
            Err(Error::NotFound { .. }) => tracing::info!(listener = %id, "listener already gone"),
            Err(e) => return Err(e),
        }
        acl::delete_owned(&self.client, &acls, &deadline).await
    }
}

/// Whether two access sections mean the same (CIDRs as a set).
fn same_access(a: Option<&listener_core::Access>, b: Option<&listener_core::Access>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            let set = |x: &listener_core::Access| x.cidrs.iter().cloned().collect::<std::collections::BTreeSet<_>>();
            a.mode == b.mode && set(a) == set(b)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use listener_core::Adapter;

    #[test]
    fn capabilities_say_several_ports_and_in_place_port_changes() {
        let c = capabilities();
        assert_eq!(c.api, API);
        assert!(c.multi_port_listener && c.port_ranges);
        assert!(!c.is_immutable("protocol"));
        assert!(!c.is_immutable("ports"));
        assert!(c.is_immutable("extensions.alibaba-ga.routing_type"));
        assert!(c.is_write_only("forwarding.default_target"));
        assert!(!c.mutual_tls);
        assert_eq!(c.port_limits, (1, 65499));
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let mut p = ProfileConfig::new(API, "ga-bp1odcab8tmno0hdq");
        p.inline_credentials = Some(listener_core::InlineCredentials {
            key_id: "LTAIkeyid".into(),
            secret: listener_core::Secret::new("s3cr3t-value"),
            token: Some(listener_core::Secret::new("t0ken-value")),
        });
        let provider = GaProvider::from_profile(&p).expect("provider");
        let shown = format!("{provider:?}");
        assert!(
            !shown.contains("s3cr3t-value") && !shown.contains("t0ken-value"),
            "{shown}"
        );
    }

    #[test]
    fn provider_needs_a_ga_profile() {
        let p = ProfileConfig::new("alibaba-ga", "lb-1");
        assert!(matches!(GaProvider::from_profile(&p), Err(Error::Config { .. })));
    }
}
