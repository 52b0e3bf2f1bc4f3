//! A run of creates on one ALB instance in about one call per listener:
//! ALB's part of [`listener_core::run`], which drives the run.
//!
//! ALB takes one write at a time per instance: while a listener of the
//! instance is `Provisioning` or `Configuring`, any other write is refused
//! with `IncorrectStatus.LoadBalancer` before anything is done (vendor
//! factsheet §6 and §8; the emulator's `instance_busy`). Creating listener
//! after listener the plain way therefore costs two calls each: the create,
//! and at least one `GetListenerAttribute` that sees it `Running`.
//!
//! Two facts make most of those reads unnecessary:
//! - **Acceptance is a confirmation that the work ended.** Once the
//!   instance accepts create *k+1*, create *k*'s job is over: succeeded, or
//!   failed (ALB then removes the listener). So create *k+1* is sent when
//!   the last similar create took to finish on this provider (the poller's
//!   memory, [`Deadline::remembered`]), not after a read. Sent too early,
//!   it is refused as busy, which changes nothing on the vendor's side; the
//!   client repeats it (same `ClientToken`), and a refusal that outlasts
//!   the client's retries makes this run read the instance until the
//!   creates in flight are over, then send it again.
//! - **One listing confirms several creates.** `ListListeners` of the bound
//!   instance (up to 100 a page) shows every listener made so far with its
//!   status. Every [`run::CONFIRM_EVERY`] creates, and before anything else is
//!   written, the instance is listed (on the poller's schedule, first at the
//!   remembered time) until no listener in flight is still provisioning.
//!   A listener found `Running` is made: the listing item is its read-back,
//!   and, filtered by the bound `LoadBalancerIds` and carrying
//!   `LoadBalancerId`, its ownership proof. A listener missing from the
//!   listing is followed the plain way ([`wait_created`]): a failed create
//!   is reported with the job's reason, one not visible yet gets the
//!   poller's grace.
//!
//! The listing carries everything the read-back of an HTTP listener needs,
//! but no certificates and no ACLs (`ListListeners`' model has neither). So
//! only *plain* specs go this way: HTTP, no additional certificates, no
//! access section, no access log, not stopped (those need writes after the
//! create, which a separate read-back follows anyway). Any other spec, and
//! the first create on a provider that has timed none yet, is created the
//! plain way ([`Provider::create`]) after the creates in flight are
//! confirmed. Nothing is weaker than a plain create: each create has its
//! own `ClientToken` made once, each is reported made only once the vendor
//! lists it `Running` on the bound instance, every create sent is confirmed
//! before the run returns (also after a cancel), and the cancel flag is
//! asked right before each create is sent.

use std::collections::BTreeMap;

use alibaba_api::ClientToken;
use async_trait::async_trait;
use listener_core::ownership;
use listener_core::run::{self, InFlight, SerialRun};
use listener_core::{
    CreateTurns, Deadline, Listener, ListenerId, ListenerSpec, Protocol, Provider, Result, WaitOp, WriteLock,
};
use serde_json::Value;

use crate::client::Created;
use crate::status::wait_created;
use crate::translate::{self, get_str, get_u32};
use crate::{AlbProvider, API};

/// [`Provider::create_each`] for ALB: see the module.
pub(crate) async fn create_each(p: &AlbProvider, specs: &[ListenerSpec], turns: &dyn CreateTurns) {
    run::create_each(&Run(p), specs, turns).await
}

/// The ALB side of a run of creates.
struct Run<'a>(&'a AlbProvider);

#[async_trait]
impl SerialRun for Run<'_> {
    type Params = Value;
    type Token = ClientToken;
    type Sent = Created;

    fn writes(&self) -> &WriteLock {
        &self.0.writes
    }

    fn deadline(&self) -> Deadline {
        self.0.waiter(WaitOp::Create)
    }

    /// HTTP without a `backend` (its server group is looked up first),
    /// additional certificates, access section, access log or
    /// `enabled = false`: `ListListeners` carries no certificates and
    /// no ACLs, and those need writes after the create.
    fn plain(&self, spec: &ListenerSpec) -> Option<Value> {
        let p = self.0;
        if spec.protocol != Protocol::Http
            || spec.backend.is_some()
            || spec.access.is_some()
            || spec.enabled == Some(false)
            || !translate::check_create(&p.profile, spec).is_empty()
            || !translate::additional_certificate_ids(&p.profile, spec).is_empty()
        {
            return None;
        }
        let opts = p.refuse(spec).ok()?;
        if translate::log_config_params(opts.access_log.as_ref(), None).is_some() {
            return None;
        }
        Some(translate::create_params(&p.profile, spec, None))
    }

    async fn create_alone(&self, spec: &ListenerSpec) -> Result<Vec<Listener>> {
        self.0.create(spec).await
    }

    fn token(&self) -> ClientToken {
        let token = self.0.client.new_token();
        tracing::info!(instance = %self.0.config.instance, client_token = %token, "creating ALB listener (run)");
        token
    }

    async fn send(&self, params: &Value, token: &ClientToken, _deadline: &Deadline) -> Result<Created> {
        self.0.client.create_listener(params, token.clone()).await
    }

    async fn list(&self) -> Result<Vec<Value>> {
        self.0.client.list_listeners(&self.0.config.instance, None).await
    }

    fn find<'a>(&self, items: &'a [Value], sent: &Created) -> Option<&'a Value> {
        items
            .iter()
            .find(|l| get_str(l, "ListenerId") == Some(sent.listener_id.as_str()))
    }

    fn unsettled(&self, item: &Value) -> Option<String> {
        let status = get_str(item, "ListenerStatus").unwrap_or("");
        (!matches!(status, "Running" | "Stopped")).then(|| status.to_string())
    }

    /// The listing item is the read-back; the ownership proof is its
    /// `LoadBalancerId` (the listing was of the bound instance).
    async fn read_back(&self, sent: &Created, item: &Value, items: &[Value]) -> Result<Vec<Listener>> {
        let ports: BTreeMap<String, u32> = items
            .iter()
            .filter_map(|l| Some((get_str(l, "ListenerId")?.to_string(), get_u32(l, "ListenerPort")?)))
            .collect();
        self.proved(&sent.listener_id, item, &ports).await
    }

    /// A create the listing did not show: its job says why it failed.
    async fn settle_one(&self, s: &InFlight<Created>) -> Result<Vec<Listener>> {
        let id = &s.sent.listener_id;
        let attr = wait_created(
            &self.0.client,
            &s.deadline,
            id,
            s.sent.job_id.as_deref(),
            run::OPERATION,
        )
        .await?;
        self.proved(id, &attr, &BTreeMap::new()).await
    }
}

impl Run<'_> {
    async fn proved(&self, id: &str, item: &Value, ports: &BTreeMap<String, u32>) -> Result<Vec<Listener>> {
        let p = self.0;
        ownership::claim(
            API,
            &p.config.instance,
            &ListenerId(id.to_string()),
            get_str(item, "LoadBalancerId").or(Some("")),
        )?;
        tracing::info!(listener_id = id, "ALB listener running");
        Ok(vec![p.listener_from(item, Some(ports)).await?])
    }
}
