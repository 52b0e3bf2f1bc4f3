#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod client;
pub mod config;
pub mod rules;
pub mod status;
pub mod translate;

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use listener_core::ownership::{self, Found};
use listener_core::{
    plan_change, refuse_immutable, Capabilities, Deadline, Error, Listener, ListenerId, ListenerSpec, Owned, PortEntry,
    Ports, ProfileConfig, Protocol, Provider, Rejection, Rejections, Result, WaitOp, WriteLock,
};
use serde_json::Value;

use crate::client::{DeleteOutcome, GaapClient};
use crate::config::GaapConfig;
use crate::translate::{
    field_str, field_u64, modify_plan, record_to_listener, CreateCall, CreatePlan, GaapProtocol,
    DUPLICATED_LISTENER_PORT,
};

/// The API name of this adapter, as written in a profile's `api`.
pub const API: &str = "tencent-gaap";

/// Times a create call is sent for the same ports when answers get lost
/// and reading back finds nothing: the first send and two more.
const CREATE_ATTEMPTS: u32 = 3;

/// What GAAP listeners can do, declared once.
pub fn capabilities() -> Capabilities {
    Capabilities {
        api: API,
        product: "Tencent Cloud GAAP (Global Application Acceleration Platform)",
        protocols: &[Protocol::Tcp, Protocol::Udp, Protocol::Http, Protocol::Https],
        batch_create: true,
        mutual_tls: true,
        multiple_client_cas: true,
        tls_policy: true,
        http3: true,
        listener_health_check: true,
        // A write while another listener of the connection has unfinished
        // work is refused with FailedOperation.ListenerHasTask; Terraform
        // serialises GAAP writes for the same reason.
        serial_writes: true,
        immutable_fields: &[
            "protocol",
            "ports",
            "tls.http3",
            "tls.client_auth.verify",
            "client_ip",
            "extensions.tencent-gaap.real_server_type",
        ],
        write_only_fields: &["forwarding.default_target", "enabled", "tls.sni"],
        max_listeners_per_instance: 50,
        rate_limit_per_second: 20.0,
        management_mark: "name suffix `--lctl` (default owner) or `--lctl_<owner>` (no listener tags or description)",
        // Routes as domains and rules, pools as origin servers bound per
        // rule (or per TCP/UDP listener), certificates per domain: see
        // `rules`.
        routes: true,
        backends: true,
        rules: true,
        pools_on_rules: true,
        route_certificates_on_rules: true,
        ..Capabilities::BASE
    }
}

/// Every reason GAAP cannot take `spec` on the profile's instance, with no
/// network call.
pub fn check(profile: &ProfileConfig, spec: &ListenerSpec) -> Vec<Rejection> {
    translate::check(profile, spec)
}

/// [`check`] with its warnings.
pub fn check_with_warnings(profile: &ProfileConfig, spec: &ListenerSpec) -> listener_core::Checked {
    translate::check_with_warnings(profile, spec)
}

/// [`check`] for every spec plus the rules across the listeners of one
/// instance (shared port spaces, HTTP3's UDP port; past the default quota
/// of 50 only a warning, see [`check_set_with_warnings`]).
pub fn check_set(profile: &ProfileConfig, specs: &[ListenerSpec]) -> Vec<(usize, Rejection)> {
    translate::check_set(profile, specs)
}

/// [`check_set`] with the warnings.
pub fn check_set_with_warnings(profile: &ProfileConfig, specs: &[ListenerSpec]) -> listener_core::CheckedSet {
    translate::check_set_with_warnings(profile, specs)
}

/// GAAP listeners on one connection or connection group.
#[derive(Debug)]
pub struct GaapProvider {
    caps: Capabilities,
    profile: ProfileConfig,
    config: GaapConfig,
    client: GaapClient,
    /// Which describe action knows a listener ID, learned from creates and
    /// listings, so `get` does not probe all four kinds every time.
    kinds: Mutex<HashMap<String, GaapProtocol>>,
    /// One write at a time per connection or group (`serial_writes`).
    writes: WriteLock,
}

impl GaapProvider {
    /// The GAAP calls this provider makes.
    pub fn client(&self) -> &GaapClient {
        &self.client
    }

    fn remember(&self, id: &str, kind: GaapProtocol) {
        if let Ok(mut k) = self.kinds.lock() {
            k.insert(id.to_string(), kind);
        }
    }

    fn forget(&self, id: &str) {
        if let Ok(mut k) = self.kinds.lock() {
            k.remove(id);
        }
    }

    fn known_kind(&self, id: &str) -> Option<GaapProtocol> {
        self.kinds.lock().ok().and_then(|k| k.get(id).copied())
    }

    fn listener(&self, kind: GaapProtocol, record: &Value) -> Result<Listener> {
        let read = record_to_listener(kind, record, &self.config.aliases, self.config.instance.id()).map(|l| {
            let owner = l.owner.clone();
            l.with_owner(owner, self.profile.owner())
        });
        read.ok_or_else(|| Error::Transport {
            vendor: API,
            message: format!("{} returned a listener without an ID or port", kind.describe_action()),
            maybe_applied: false,
        })
    }

    /// The GAAP TLS choice of `spec`'s policy, after checking that the
    /// instance offers it (`IsSupportTLSChoice`, read from its description:
    /// see [`translate::rule_tls_choice_offered`]). Refused as
    /// [`Error::Unsupported`] naming `tls.policy` before any write; `None`
    /// when the spec sets no policy (nothing is read then).
    async fn tls_choice_for(&self, spec: &ListenerSpec) -> Result<Option<translate::TlsChoice>> {
        let Some(choice) = spec
            .tls
            .as_ref()
            .and_then(|t| t.policy.as_deref())
            .and_then(translate::tls_choice)
        else {
            return Ok(None);
        };
        let described = self.client.describe_instance().await?;
        let supported = translate::tls_choice_supported(&self.config.instance, &described);
        let mut r = listener_core::Rejections::new(API);
        translate::rule_tls_choice_offered(spec, supported, &mut r);
        r.into_result()?;
        Ok(Some(choice))
    }

    /// `SetTlsVersion` on a listener just made, then wait until
    /// `DescribeHTTPSListeners` reports the choice, so the listener that
    /// `create` returns plans no change.
    async fn set_tls(
        &self,
        deadline: &Deadline,
        kind: GaapProtocol,
        record: &Value,
        choice: &translate::TlsChoice,
    ) -> Result<Value> {
        let Some(id) = field_str(record, "ListenerId") else {
            return Ok(record.clone());
        };
        // Just made here, and the record says where: the proof every write
        // by ID needs.
        let on = field_str(record, "ProxyId").or_else(|| field_str(record, "GroupId"));
        let owned = ownership::claim(API, self.config.instance.id(), &ListenerId::from(id), on)?;
        tracing::info!(listener = id, versions = ?choice.versions, ciphers = choice.ciphers, "setting GAAP TLS versions");
        self.client
            .set_tls_version(&owned, &translate::set_tls_version_params(id, choice))
            .await?;
        let want = choice.policy_name();
        let aliases = self.config.aliases.clone();
        let instance = self.config.instance.id().to_string();
        let applied = move |r: &Value| {
            record_to_listener(kind, r, &aliases, &instance)
                .and_then(|l| l.spec.tls.and_then(|t| t.policy))
                .as_deref()
                == Some(want.as_str())
        };
        status::wait_modified(&self.client, kind, id, deadline, &applied).await
    }

    /// Prove that `id` is on the bound connection or group, from the
    /// `ProxyId`/`GroupId` GAAP reports for it when asked by ID alone; the
    /// kinds in `kinds` are asked in turn (the remembered one first).
    /// Returns the proof, the listener's kind and its record.
    async fn own_as(&self, id: &ListenerId, kinds: &[GaapProtocol]) -> Result<(Owned, (GaapProtocol, Value))> {
        let mut kinds: Vec<GaapProtocol> = kinds.to_vec();
        if let Some(k) = self.known_kind(id.as_str()).filter(|k| kinds.contains(k)) {
            kinds.retain(|x| *x != k);
            kinds.insert(0, k);
        }
        let bound = self.config.instance.id();
        let found = ownership::prove(API, bound, id, || async {
            for kind in kinds {
                if let Some(record) = self.client.find_anywhere(kind, id.as_str()).await? {
                    let on = field_str(&record, "ProxyId")
                        .or_else(|| field_str(&record, "GroupId"))
                        .map(str::to_string);
                    return Ok(Some(Found {
                        instance: on,
                        record: (kind, record),
                    }));
                }
            }
            Ok(None)
        })
        .await;
        match &found {
            Ok((_, (kind, _))) => self.remember(id.as_str(), *kind),
            Err(_) => self.forget(id.as_str()),
        }
        found
    }

    /// [`GaapProvider::own_as`] trying every kind.
    async fn own(&self, id: &ListenerId) -> Result<(Owned, (GaapProtocol, Value))> {
        self.own_as(id, &GaapProtocol::ALL).await
    }

    /// The listeners this create already made on `ports`, found by kind and
    /// port after an answer was lost. A port held by a listener of the same
    /// kind but another name is someone else's: that is a real conflict.
    async fn adopt(&self, plan: &CreatePlan, ports: &[u32]) -> Result<BTreeMap<u32, String>> {
        let existing = self.client.describe_all(plan.protocol, None).await?;
        let mut adopted = BTreeMap::new();
        for record in &existing {
            let Some(port) = field_u64(record, "Port").and_then(|p| u32::try_from(p).ok()) else {
                continue;
            };
            if !ports.contains(&port) {
                continue;
            }
            let (Some(id), name) = (
                field_str(record, "ListenerId"),
                record.get("ListenerName").and_then(Value::as_str),
            ) else {
                continue;
            };
            if name != Some(plan.name.as_str()) {
                return Err(Error::Conflict {
                    vendor: API,
                    code: DUPLICATED_LISTENER_PORT.into(),
                    message: format!(
                        "port {port} is held by {id} (`{}`), not by the listener being created",
                        name.unwrap_or("")
                    ),
                    request_id: String::new(),
                });
            }
            tracing::info!(
                listener = id,
                port,
                "adopting the listener made by a create whose answer was lost"
            );
            adopted.insert(port, id.to_string());
        }
        Ok(adopted)
    }

    /// Send one create call, reconciling lost answers: after a transport
    /// error that may have been applied, or a port conflict that follows
    /// one, read back by kind and port and adopt what this create made;
    /// send again only for ports still missing.
    async fn create_call(&self, plan: &CreatePlan, call: &CreateCall) -> Result<Vec<String>> {
        let mut ids: Vec<String> = Vec::new();
        let mut missing: Vec<u32> = call.ports.clone();
        let mut answer_lost = false;
        let mut last_error: Option<Error> = None;
        for attempt in 1..=CREATE_ATTEMPTS {
            let calls = plan.calls_for(&self.config.instance, &missing);
            let Some(this) = calls.into_iter().next() else {
                break;
            };
            tracing::info!(action = this.action, ports = ?this.ports, attempt, "creating GAAP listener(s)");
            match self.client.create(&this).await {
                Ok(made) => {
                    ids.extend(made);
                    return Ok(ids);
                }
                Err(e) => {
                    let lost = matches!(
                        e,
                        Error::Transport {
                            maybe_applied: true,
                            ..
                        }
                    );
                    let conflict_after_loss = answer_lost && matches!(e, Error::Conflict { .. });
                    if !lost && !conflict_after_loss {
                        return Err(e);
                    }
                    answer_lost = true;
                    tracing::warn!(
                        kind = e.kind(),
                        code = e.vendor_code().unwrap_or(""),
                        "create answer lost or refused after a lost answer; reading back by port"
                    );
                    let adopted = self.adopt(plan, &missing).await?;
                    missing.retain(|p| !adopted.contains_key(p));
                    ids.extend(adopted.into_values());
                    if missing.is_empty() {
                        return Ok(ids);
                    }
                    if conflict_after_loss {
                        return Err(e);
                    }
                    last_error = Some(e);
                }
            }
        }
        Err(last_error.unwrap_or_else(|| Error::Transport {
            vendor: API,
            message: "create gave up".into(),
            maybe_applied: true,
        }))
    }
}

#[async_trait]
impl Provider for GaapProvider {
    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    fn instance(&self) -> &str {
        self.config.instance.id()
    }

    fn check(&self, spec: &ListenerSpec) -> Vec<Rejection> {
        check(&self.profile, spec)
    }

    fn check_set(&self, specs: &[ListenerSpec]) -> Vec<(usize, Rejection)> {
        check_set(&self.profile, specs)
    }

    fn rules(&self) -> Option<&dyn listener_core::RuleProvider> {
        Some(self)
    }

    async fn create(&self, spec: &ListenerSpec) -> Result<Vec<Listener>> {
        let plan = CreatePlan::from_spec(&self.profile, spec)?;
        let tls = self.tls_choice_for(spec).await?;
        let mut out = Vec::with_capacity(plan.ports.len());
        let deadline = self.config.wait.start(API, WaitOp::Create);
        // One call at a time, each waited for: GAAP refuses a write while
        // another listener of the connection is still being created.
        for call in plan.calls(&self.config.instance) {
            let _writing = self.writes.hold().await;
            let ids = self.create_call(&plan, &call).await?;
            for id in &ids {
                self.remember(id, plan.protocol);
            }
            for record in status::wait_all_running(&self.client, plan.protocol, &ids, &deadline).await? {
                let record = match &tls {
                    Some(choice) => self.set_tls(&deadline, plan.protocol, &record, choice).await?,
                    None => record,
                };
                out.push(self.listener(plan.protocol, &record)?);
            }
        }
        out.sort_by_key(|l| l.spec.ports.as_single());
        Ok(out)
    }

    /// GAAP's TCP and UDP create actions take a port list with one name
    /// and one set of options, so specs that differ only in their ports
    /// (what the planner makes of one multi-port spec) go out as one call.
    async fn create_batch(&self, specs: &[ListenerSpec]) -> Result<Vec<Listener>> {
        let mut merged: Vec<ListenerSpec> = Vec::new();
        for spec in specs {
            let batchable = GaapProtocol::of(spec.protocol).is_some_and(GaapProtocol::batch_create);
            let home = merged.iter_mut().find(|m| batchable && same_but_ports(m, spec));
            match home {
                Some(m) => {
                    let mut entries: Vec<PortEntry> = port_entries(&m.ports);
                    entries.extend(port_entries(&spec.ports));
                    m.ports = Ports::List(entries);
                }
                None => merged.push(spec.clone()),
            }
        }
        let mut out = Vec::new();
        for spec in &merged {
            out.extend(self.create(spec).await?);
        }
        Ok(out)
    }

    async fn get(&self, id: &ListenerId) -> Result<Listener> {
        let (_, (kind, record)) = self.own(id).await?;
        self.listener(kind, &record)
    }

    async fn list(&self) -> Result<Vec<Listener>> {
        let mut out = Vec::new();
        for kind in GaapProtocol::ALL {
            for record in self.client.describe_all(kind, None).await? {
                let l = self.listener(kind, &record)?;
                self.remember(l.id.as_str(), kind);
                out.push(l);
            }
        }
        out.sort_by(|a, b| {
            (a.spec.protocol.transport(), a.spec.ports.as_single(), a.id.as_str()).cmp(&(
                b.spec.protocol.transport(),
                b.spec.ports.as_single(),
                b.id.as_str(),
            ))
        });
        Ok(out)
    }

    async fn update(&self, current: &Listener, desired: &ListenerSpec) -> Result<Listener> {
        refuse_immutable(&self.caps, current, desired)?;
        Rejections::from_vec(API, check(&self.profile, desired)).into_result()?;
        let Some(kind) = GaapProtocol::of(current.spec.protocol) else {
            return Err(Error::NotFound {
                vendor: API,
                what: format!("GAAP listener kind for {}", current.spec.protocol),
            });
        };
        let (owned, (_, record)) = self.own_as(&current.id, &[kind]).await?;
        let Some(plan) = modify_plan(
            kind,
            &self.config.instance,
            current,
            desired,
            &self.config.aliases,
            self.profile.owner(),
        )?
        else {
            return self.listener(kind, &record);
        };
        if plan.tls.is_some() {
            self.tls_choice_for(desired).await?;
        }
        // Every differing field must be one the modify call changes; a
        // field that is neither changeable nor declared immutable would
        // otherwise be silently left as it is.
        let uncovered: Vec<Rejection> = plan_change(&self.caps, &current.spec, desired)
            .changes
            .into_iter()
            .filter(|c| {
                !plan
                    .fields
                    .iter()
                    .any(|f| listener_core::capabilities::path_within(&c.path, f))
            })
            .map(|c| {
                Rejection::new(
                    API,
                    c.path.clone(),
                    "not_modifiable",
                    format!("{} cannot change this field in place", kind.modify_action()),
                )
            })
            .collect();
        Rejections::from_vec(API, uncovered).into_result()?;
        let _writing = self.writes.hold().await;
        tracing::info!(listener = %current.id, action = plan.action, fields = ?plan.fields, "changing GAAP listener");
        if plan.modifies_attributes() {
            self.client.modify(&owned, &plan).await?;
        }
        if let Some(params) = &plan.tls {
            self.client.set_tls_version(&owned, params).await?;
        }
        let aliases = self.config.aliases.clone();
        let instance = self.config.instance.id().to_string();
        let caps = self.caps.clone();
        let fields = plan.fields.clone();
        let desired_spec = desired.clone();
        let applied = move |record: &Value| {
            record_to_listener(kind, record, &aliases, &instance).is_some_and(|l| {
                plan_change(&caps, &l.spec, &desired_spec).changes.iter().all(|c| {
                    !fields
                        .iter()
                        .any(|f| listener_core::capabilities::path_within(&c.path, f))
                })
            })
        };
        let deadline = self.config.wait.start(API, WaitOp::Update);
        let record = status::wait_modified(&self.client, kind, current.id.as_str(), &deadline, &applied).await?;
        self.listener(kind, &record)
    }

    async fn delete(&self, id: &ListenerId) -> Result<()> {
        let (owned, (kind, record)) = self.own(id).await?;
        let _writing = self.writes.hold().await;
        let deadline = self.config.wait.start(API, WaitOp::Delete);
        // The origin servers bound on it go with it when this owner made
        // them and nothing else binds them (see `rules`).
        let origins = self.bound_origins(kind, id, &record).await;
        if field_u64(&record, "ListenerStatus") != Some(2) {
            // The request goes at once; only a refusal is repeated, on the
            // poller's schedule and under the delete's deadline.
            let mut outcome = self.client.delete(&owned).await?;
            if outcome == DeleteOutcome::Failed {
                outcome = deadline
                    .poll(
                        "delete request",
                        &format!("delete request for listener {id}"),
                        || self.client.delete(&owned),
                        |outcome| match outcome {
                            DeleteOutcome::Failed => listener_core::Poll::Pending("delete refused for now".into()),
                            other => listener_core::Poll::Done(other),
                        },
                    )
                    .await?;
            }
            if outcome == DeleteOutcome::AlreadyGone {
                self.forget(id.as_str());
                return Ok(());
            }
        }
        status::wait_gone(&self.client, kind, id.as_str(), &deadline).await?;
        self.forget(id.as_str());
        self.remove_origins_of_deleted(origins).await;
        Ok(())
    }
}

/// Whether two specs differ in their ports only.
fn same_but_ports(a: &ListenerSpec, b: &ListenerSpec) -> bool {
    let mut a = a.clone();
    a.ports = b.ports.clone();
    a == *b
}

fn port_entries(ports: &Ports) -> Vec<PortEntry> {
    match ports {
        Ports::List(entries) => entries.clone(),
        Ports::Single(p) => vec![PortEntry::Port(*p)],
        Ports::Range(r) => vec![PortEntry::Range(*r)],
    }
}
