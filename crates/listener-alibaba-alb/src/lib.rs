#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod acl;
mod batch;
pub mod client;
pub mod config;
pub mod pools;
pub mod rules;
pub mod status;
pub mod translate;

use std::collections::BTreeMap;

use async_trait::async_trait;
use listener_core::ownership::{self, Found};
use listener_core::{
    refuse_immutable, Capabilities, Deadline, Error, Listener, ListenerId, ListenerSpec, Owned, ProfileConfig,
    Protocol, Rejection, Rejections, Result, WaitOp, WriteLock,
};
use serde_json::Value;

use crate::client::{AlbClient, Deletion, CERTIFICATES_PER_CALL};
use crate::config::AlbConfig;
use crate::status::{wait_created, wait_gone, wait_job, wait_running};
use crate::translate::{get_bool, get_str, get_u32, options, AlbOptions, ReadBackExtras};

pub use alibaba_api::AlibabaClient;
pub use translate::{check, check_set, check_set_with_warnings, check_with_warnings};

/// The adapter's API name, as written in profiles (`api = "alibaba-alb"`)
/// and as the key of its extension section.
pub const API: &str = "alibaba-alb";

static CAPABILITIES: Capabilities = Capabilities {
    api: API,
    product: "Alibaba Cloud Application Load Balancer (ALB)",
    protocols: &[Protocol::Http, Protocol::Https, Protocol::Quic],
    mutual_tls: true,
    multiple_server_certificates: true,
    tls_policy: true,
    http2: true,
    // HTTP/3 is a separate QUIC listener plus `quic_upgrade`, not a switch
    // on the HTTPS listener; `tls.http3` is rejected.
    http3: false,
    tags: true,
    stop_start: true,
    // One ACL per listener, made and owned by the adapter (see `acl`).
    access_control: true,
    serial_writes: true,
    idempotency_token: true,
    requires_default_target: true,
    immutable_fields: &["protocol", "ports"],
    // ALB listeners have no name (the console's "name" is the description).
    write_only_fields: &["name", "forwarding.backend_protocol"],
    max_listeners_per_instance: 50,
    // About 200 writes a minute per API and region.
    rate_limit_per_second: 3.3,
    management_mark: "listener tag `cloud-listeners:managed` = owner",
    pools: true,
    rules: true,
    routes: true,
    // A listener's own `backend` is its default action: the server group
    // this adapter made for that pool (apply makes the pool before the
    // listener), read back as the pool's name.
    backends: true,
    // Server groups are pool objects; route certificates are the
    // listener's additional certificates (`translate::as_attached`).
    pools_on_rules: false,
    route_certificates_on_rules: false,
    ..Capabilities::BASE
};

/// What ALB listeners support, declared once.
pub fn capabilities() -> Capabilities {
    CAPABILITIES.clone()
}

/// Listeners of one ALB instance.
#[derive(Debug)]
pub struct AlbProvider {
    profile: ProfileConfig,
    config: AlbConfig,
    client: AlbClient,
    /// One write at a time per instance (`serial_writes`).
    writes: WriteLock,
    /// The VPC new server groups go in: the one given with
    /// [`AlbProvider::with_vpc`], else the instance's, asked once (see
    /// `pools`).
    vpc: tokio::sync::OnceCell<String>,
}

impl AlbProvider {
    /// Create server groups in `vpc` instead of asking ALB which VPC the
    /// instance is in (see [`pools`]): saves one read, or picks the VPC
    /// where the caller knows better.
    pub fn with_vpc(mut self, vpc: impl Into<String>) -> Self {
        self.vpc = tokio::sync::OnceCell::from(vpc.into());
        self
    }

    /// The ALB calls this provider makes (for stats and tests).
    pub fn client(&self) -> &AlbClient {
        &self.client
    }

    /// The deadline of one logical write of kind `op`.
    fn waiter(&self, op: WaitOp) -> Deadline {
        self.config.wait.start(API, op)
    }

    fn refuse(&self, spec: &ListenerSpec) -> Result<AlbOptions> {
        Rejections::from_vec(API, check(&self.profile, spec)).into_result()?;
        options(spec).map_err(|message| Error::Config {
            field: translate::EXTENSION_PATH.into(),
            message,
        })
    }

    /// Ask ALB whether it would create `spec` (`DryRun=true`): parameters,
    /// syntax, quotas and referenced resources are checked by the vendor
    /// without creating anything. Runs `check` first.
    pub async fn dry_run_create(&self, spec: &ListenerSpec) -> Result<()> {
        let opts = self.refuse(spec)?;
        let quic = self.resolve_quic_listener(spec, &opts).await?;
        let params = translate::create_params(&self.profile, spec, quic.as_deref());
        self.client.dry_run("CreateListener", &params).await
    }

    /// The ID of the QUIC listener an HTTPS spec upgrades to: the one
    /// given, or the QUIC listener of this instance on the given port.
    async fn resolve_quic_listener(&self, spec: &ListenerSpec, opts: &AlbOptions) -> Result<Option<String>> {
        let Some(q) = opts.quic_upgrade.as_ref().filter(|q| q.enabled) else {
            return Ok(None);
        };
        if spec.protocol != Protocol::Https {
            return Ok(None);
        }
        if let Some(id) = &q.listener_id {
            return Ok(Some(id.clone()));
        }
        let Some(port) = q.port else { return Ok(None) };
        let quic = self.client.list_listeners(&self.config.instance, Some("QUIC")).await?;
        quic.iter()
            .find(|l| get_u32(l, "ListenerPort") == Some(port))
            .and_then(|l| get_str(l, "ListenerId"))
            .map(|id| Some(id.to_string()))
            .ok_or_else(|| Error::NotFound {
                vendor: API,
                what: format!(
                    "QUIC listener on port {port} of instance {} (create it before the HTTPS listener that upgrades to it)",
                    self.config.instance
                ),
            })
    }

    /// Wait for one write to a listener: its job when it gave one (only
    /// the job tells a failed change from a done one, both leave the
    /// listener `Running`), else the listener's status. One read per poll;
    /// the caller reads the listener back once at the end of the whole
    /// operation. `step` keys the poller's memory of durations.
    async fn settle(
        &self,
        waiter: &Deadline,
        step: &'static str,
        job: Option<String>,
        listener_id: &str,
        operation: &str,
    ) -> Result<()> {
        match job {
            Some(job) => wait_job(&self.client, waiter, step, &job, operation).await,
            None => wait_running(&self.client, waiter, step, listener_id, operation)
                .await
                .map(drop),
        }
    }

    /// The listener's state after a write, from one `GetListenerAttribute`
    /// (ownership was proven before the write; the vendor cannot move a
    /// listener to another instance).
    async fn read_owned(&self, listener: &Owned) -> Result<Listener> {
        let attr = self.client.get_listener(listener.as_str()).await?;
        self.listener_from(&attr, None).await
    }

    async fn change_certificates(
        &self,
        waiter: &Deadline,
        listener: &Owned,
        ids: &[String],
        associate: bool,
    ) -> Result<()> {
        for chunk in ids.chunks(CERTIFICATES_PER_CALL) {
            let token = self.client.new_token();
            let (job, operation) = if associate {
                (
                    self.client.associate_certificates(listener, chunk, token).await?,
                    "associate certificates",
                )
            } else {
                (
                    self.client.dissociate_certificates(listener, chunk, token).await?,
                    "dissociate certificates",
                )
            };
            tracing::info!(
                listener_id = listener.as_str(),
                count = chunk.len(),
                operation,
                "certificates change started"
            );
            self.settle(waiter, "certificates", job, listener.as_str(), operation)
                .await?;
        }
        Ok(())
    }

    /// StartListener or StopListener, followed to `Running` or `Stopped`.
    async fn switch(&self, waiter: &Deadline, listener: &Owned, run: bool) -> Result<()> {
        let operation = if run { "start listener" } else { "stop listener" };
        tracing::info!(listener_id = listener.as_str(), operation, "switching ALB listener");
        let job = self
            .client
            .switch_listener(listener, run, self.client.new_token())
            .await?;
        self.settle(waiter, "switch", job, listener.as_str(), operation).await
    }

    /// Remove the tags the spec dropped, then add or overwrite the rest.
    /// Both actions are synchronous (no job): the next read shows them.
    async fn change_tags(&self, listener: &Owned, plan: &translate::UpdatePlan) -> Result<()> {
        if !plan.untag.is_empty() {
            tracing::info!(listener_id = listener.as_str(), keys = ?plan.untag, "removing ALB listener tags");
            self.client.untag_listener(listener, &plan.untag).await?;
        }
        if !plan.tag.is_empty() {
            let keys: Vec<&String> = plan.tag.keys().collect();
            tracing::info!(listener_id = listener.as_str(), ?keys, "tagging ALB listener");
            self.client
                .tag_listener(listener, &translate::tag_params(&plan.tag))
                .await?;
        }
        Ok(())
    }

    /// A `Listener` from a `GetListenerAttribute` answer, with the
    /// additional certificates and the QUIC listener's port looked up.
    /// `ports` maps listener IDs to ports already known (from a list).
    async fn listener_from(&self, attr: &Value, ports: Option<&BTreeMap<String, u32>>) -> Result<Listener> {
        self.listener_with(attr, ports, None).await
    }

    /// [`Self::listener_from`] with the adapter's pools by group ID when
    /// already read (a listing), to name a default server group that is
    /// one of them without another call.
    async fn listener_with(
        &self,
        attr: &Value,
        ports: Option<&BTreeMap<String, u32>>,
        pools: Option<&BTreeMap<String, String>>,
    ) -> Result<Listener> {
        let id = get_str(attr, "ListenerId")
            .ok_or_else(|| client::unexpected("GetListenerAttribute answered without a ListenerId"))?
            .to_string();
        let protocol = get_str(attr, "ListenerProtocol").unwrap_or("");
        let mut extras = ReadBackExtras::default();
        if matches!(protocol, "HTTPS" | "QUIC") {
            extras.additional_certificates = self
                .client
                .listener_certificates(&id, "Server")
                .await?
                .into_iter()
                .filter(|c| !c.is_default && c.status.as_deref() != Some("Dissociating"))
                .map(|c| c.id)
                .collect();
        }
        let quic = attr.get("QuicConfig");
        let quic_id = quic
            .filter(|q| get_bool(q, "QuicUpgradeEnabled") == Some(true))
            .and_then(|q| get_str(q, "QuicListenerId"));
        if let Some(qid) = quic_id {
            extras.quic_port = match ports.and_then(|p| p.get(qid)) {
                Some(port) => Some(*port),
                None => match self.client.get_listener(qid).await {
                    Ok(q) => get_u32(&q, "ListenerPort"),
                    Err(Error::NotFound { .. }) => None,
                    Err(e) => return Err(e),
                },
            };
        }
        let mut spec = translate::spec_from_attribute(&self.profile, attr, &extras)
            .ok_or_else(|| client::unexpected("the listener's protocol or port is not one ALB documents"))?;
        spec.access = acl::read_access(&self.client, attr).await?;
        // A default server group that no target alias names may be one of
        // this adapter's pools: then it reads back as the listener's
        // `backend`, as the file names it.
        if let Some(group) = translate::default_group_id(attr) {
            if !self.profile.aliases.targets.values().any(|id| id == group) {
                let name = match pools {
                    Some(p) => p.get(group).cloned(),
                    None => self.owned_group_names(&[group.to_string()]).await?.remove(group),
                };
                if let Some(name) = name {
                    translate::default_group_as_backend(&mut spec, &name);
                }
            }
        }
        Ok(Listener {
            id: ListenerId(id),
            instance: get_str(attr, "LoadBalancerId")
                .unwrap_or(&self.config.instance)
                .to_string(),
            status: translate::status_from_vendor(get_str(attr, "ListenerStatus").unwrap_or("")),
            spec,
            owner: None,
            managed: false,
        }
        .with_owner(translate::owner_from_attribute(attr), self.profile.owner()))
    }

    /// Prove that `id` is on the bound instance from the instance
    /// `GetListenerAttribute` reports (ALB's listener actions take the ID
    /// alone, so the vendor would act on any instance's listener). Returns
    /// the proof and the attribute answer.
    async fn own(&self, id: &ListenerId) -> Result<(Owned, Value)> {
        ownership::prove(API, &self.config.instance, id, || async {
            match self.client.get_listener(id.as_str()).await {
                Ok(attr) => Ok(Some(Found {
                    instance: get_str(&attr, "LoadBalancerId").map(str::to_string),
                    record: attr,
                })),
                Err(Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        })
        .await
    }

    /// `spec` with its `backend` (a pool name) as the server group this
    /// adapter made for that pool ([`translate::with_default_group`]); a
    /// spec naming no `backend`, or a `forwarding.default_target`, as it is.
    async fn with_default_group(&self, spec: &ListenerSpec) -> Result<ListenerSpec> {
        let has_target = spec.forwarding.as_ref().is_some_and(|f| f.default_target.is_some());
        match &spec.backend {
            Some(pool) if !has_target => {
                let group = self.group_of_pool(pool).await?;
                Ok(translate::with_default_group(spec, &group))
            }
            _ => Ok(spec.clone()),
        }
    }

    /// Read a listener, refusing one of another instance: the provider is
    /// bound to its instance.
    async fn read(&self, id: &ListenerId) -> Result<Listener> {
        let (_, attr) = self.own(id).await?;
        self.listener_from(&attr, None).await
    }
}

#[async_trait]
impl listener_core::Provider for AlbProvider {
    fn capabilities(&self) -> &Capabilities {
        &CAPABILITIES
    }

    fn instance(&self) -> &str {
        &self.config.instance
    }

    fn pools(&self) -> Option<&dyn listener_core::PoolProvider> {
        Some(self)
    }

    fn rules(&self) -> Option<&dyn listener_core::RuleProvider> {
        Some(self)
    }

    fn check(&self, spec: &ListenerSpec) -> Vec<Rejection> {
        check(&self.profile, spec)
    }

    fn check_set(&self, specs: &[ListenerSpec]) -> Vec<(usize, Rejection)> {
        check_set(&self.profile, specs)
    }

    /// The core comparison over the listener as ALB holds it
    /// ([`translate::as_attached`]): route certificates count as the
    /// listener's additional certificates (so adding or rotating one is an
    /// in-place update) and additional certificates compare as a set.
    fn plan_change(&self, current: &ListenerSpec, desired: &ListenerSpec) -> listener_core::ChangePlan {
        listener_core::plan_change(
            &CAPABILITIES,
            &translate::as_attached(current),
            &translate::as_attached(desired),
        )
    }

    async fn create(&self, spec: &ListenerSpec) -> Result<Vec<Listener>> {
        Rejections::from_vec(API, translate::check_create(&self.profile, spec)).into_result()?;
        let opts = self.refuse(spec)?;
        // Routes are rules of their own, made by plan and apply through
        // `RuleProvider` once the listener exists; their certificates are
        // the listener's additional certificates, attached here.
        let spec = &self.with_default_group(&translate::as_attached(spec)).await?;
        let _writing = self.writes.hold().await;
        let waiter = self.waiter(WaitOp::Create);
        let quic = self.resolve_quic_listener(spec, &opts).await?;
        let params = translate::create_params(&self.profile, spec, quic.as_deref());
        // One token for this logical create: the client repeats it on every
        // retry, so a lost answer can never make a second listener.
        let token = self.client.new_token();
        tracing::info!(instance = %self.config.instance, protocol = %spec.protocol, ports = %spec.ports, client_token = %token, "creating ALB listener");
        let created = self.client.create_listener(&params, token).await?;
        let id = ListenerId(created.listener_id);
        // One read per poll: the listener's attribute, which ends the wait,
        // proves the instance and is the read-back (the job is read only if
        // the listener is missing, for the reason of a failed create).
        let attr = wait_created(
            &self.client,
            &waiter,
            id.as_str(),
            created.job_id.as_deref(),
            "create listener",
        )
        .await?;
        // Made with this instance's LoadBalancerId; the settled answer says
        // so, and that is the proof the certificate writes below need.
        let owned = ownership::claim(
            API,
            &self.config.instance,
            &id,
            get_str(&attr, "LoadBalancerId").or(Some("")),
        )?;
        let extra = translate::additional_certificate_ids(&self.profile, spec);
        let stop = spec.enabled == Some(false);
        let log = translate::log_config_params(opts.access_log.as_ref(), None);
        if extra.is_empty() && !stop && log.is_none() && spec.access.is_none() {
            tracing::info!(listener_id = %id, "ALB listener running");
            return Ok(vec![self.listener_from(&attr, None).await?]);
        }
        if !extra.is_empty() {
            self.change_certificates(&waiter, &owned, &extra, true).await?;
        }
        // CreateListener has no stopped state: a listener wanted stopped is
        // stopped right after it runs.
        if let Some(p) = &log {
            acl::update_log_config(&self.client, &waiter, &owned, p).await?;
        }
        if spec.access.is_some() {
            acl::apply(&self.client, &waiter, &owned, spec.access.as_ref()).await?;
        }
        if stop {
            self.switch(&waiter, &owned, false).await?;
        }
        tracing::info!(listener_id = %id, "ALB listener settled");
        Ok(vec![self.read_owned(&owned).await?])
    }

    /// QUIC listeners first: an HTTPS listener that upgrades to a QUIC
    /// listener of the same batch needs it to exist already.
    async fn create_batch(&self, specs: &[ListenerSpec]) -> Result<Vec<Listener>> {
        let mut ordered: Vec<&ListenerSpec> = specs.iter().collect();
        ordered.sort_by_key(|s| s.protocol != Protocol::Quic);
        let mut out = Vec::new();
        for spec in ordered {
            out.extend(self.create(spec).await?);
        }
        Ok(out)
    }

    /// Plain HTTP creates confirmed by the next create's acceptance and
    /// one listing of the instance per two creates (module `batch`).
    async fn create_each(&self, specs: &[ListenerSpec], turns: &dyn listener_core::CreateTurns) {
        batch::create_each(self, specs, turns).await
    }

    async fn get(&self, id: &ListenerId) -> Result<Listener> {
        self.read(id).await
    }

    async fn list(&self) -> Result<Vec<Listener>> {
        let summaries = self.client.list_listeners(&self.config.instance, None).await?;
        let ports: BTreeMap<String, u32> = summaries
            .iter()
            .filter_map(|l| Some((get_str(l, "ListenerId")?.to_string(), get_u32(l, "ListenerPort")?)))
            .collect();
        let pools = if summaries.is_empty() {
            BTreeMap::new()
        } else {
            self.owned_group_names(&[]).await?
        };
        let mut out = Vec::with_capacity(summaries.len());
        for id in summaries.iter().filter_map(|l| get_str(l, "ListenerId")) {
            // The list answer has no certificates; the attribute answer has
            // everything a faithful spec needs.
            match self.client.get_listener(id).await {
                Ok(attr) => out.push(self.listener_with(&attr, Some(&ports), Some(&pools)).await?),
                // Deleted between the list and the read.
                Err(Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    async fn update(&self, current: &Listener, desired: &ListenerSpec) -> Result<Listener> {
        refuse_immutable(&CAPABILITIES, current, desired)?;
        let opts = self.refuse(desired)?;
        let (owned, attr) = self.own(&current.id).await?;
        let id = owned.as_str();
        let quic = self.resolve_quic_listener(desired, &opts).await?;
        // Route certificates are listener certificates (see `as_attached`).
        let desired = &self.with_default_group(&translate::as_attached(desired)).await?;
        let have = &self.with_default_group(&current.spec).await?;
        let plan = translate::update_plan(&self.profile, have, desired, quic.as_deref());
        let have_opts = translate::options(&current.spec).unwrap_or_default();
        let log = translate::log_config_params(opts.access_log.as_ref(), have_opts.access_log.as_ref());
        let access_changes = !same_access(current.spec.access.as_ref(), desired.access.as_ref());
        if plan.is_empty() && log.is_none() && !access_changes {
            return self.listener_from(&attr, None).await;
        }
        let _writing = self.writes.hold().await;
        let waiter = self.waiter(WaitOp::Update);
        // Add, then remove: a new certificate is associated (and the job
        // waited for) before the one it replaces goes, so no host is ever
        // without its certificate. The old default certificate can only be
        // associated as an additional one once it is no longer the default.
        let old_default = current
            .spec
            .server_certificates()
            .first()
            .map(|a| self.profile.aliases.certificate(a).unwrap_or(a).to_string());
        let (late, early): (Vec<String>, Vec<String>) = plan
            .associate
            .iter()
            .cloned()
            .partition(|id| Some(id) == old_default.as_ref() && plan.params.contains_key("Certificates"));
        if !early.is_empty() {
            self.change_certificates(&waiter, &owned, &early, true).await?;
        }
        if !plan.params.is_empty() {
            let fields: Vec<&str> = plan.params.keys().map(String::as_str).collect();
            tracing::info!(listener_id = id, ?fields, "updating ALB listener");
            let job = self
                .client
                .update_listener(&owned, &plan.params, self.client.new_token())
                .await?;
            self.settle(&waiter, "update", job, id, "update listener").await?;
        }
        if !late.is_empty() {
            self.change_certificates(&waiter, &owned, &late, true).await?;
        }
        if !plan.dissociate.is_empty() {
            self.change_certificates(&waiter, &owned, &plan.dissociate, false)
                .await?;
        }
        self.change_tags(&owned, &plan).await?;
        if let Some(p) = &log {
            acl::update_log_config(&self.client, &waiter, &owned, p).await?;
        }
        if access_changes {
            acl::apply(&self.client, &waiter, &owned, desired.access.as_ref()).await?;
        }
        if let Some(run) = plan.switch {
            self.switch(&waiter, &owned, run).await?;
        }
        self.read_owned(&owned).await
    }

    async fn delete(&self, id: &ListenerId) -> Result<()> {
        let (owned, _) = self.own(id).await?;
        // Found before the listener goes (the proof needs it), deleted
        // after: a deleted listener releases its ACLs.
        let acls = acl::owned(&self.client, &owned).await?;
        let _writing = self.writes.hold().await;
        let waiter = self.waiter(WaitOp::Delete);
        let token = self.client.new_token();
        tracing::info!(listener_id = %id, client_token = %token, "deleting ALB listener");
        match self.client.delete_listener(&owned, token).await? {
            Deletion::AlreadyGone => {}
            // The job is the one read per poll; without a job, the
            // listener's absence.
            Deletion::Started(Some(job)) => wait_job(&self.client, &waiter, "delete", &job, "delete listener").await?,
            Deletion::Started(None) => wait_gone(&self.client, &waiter, id.as_str(), "delete listener").await?,
        }
        acl::delete_owned(&self.client, &waiter, &acls).await
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
