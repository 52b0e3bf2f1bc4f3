//! Rules and their targets on CLB listeners: the [`RuleProvider`] the
//! plan engine drives (translation in [`crate::rules`]).
//!
//! **What one neutral rule is here.** On an HTTP/HTTPS listener, one CLB
//! rule (`LocationId`) with the endpoints of its pool registered on it as
//! targets; the root rule is `/` on [`rules::DEFAULT_DOMAIN`] with
//! `DefaultServer`. On a layer-4 listener (TCP, UDP, TCP_SSL, QUIC) the
//! only rule is the root rule: the targets registered on the listener
//! itself (`RegisterTargets` without `LocationId`), whose ID is
//! `<listener id>/targets`; it exists while targets are bound.
//!
//! **Ownership.** CLB rules carry no mark: a rule is owned when its
//! listener is (its name suffix). Every write first proves the listener is
//! on the bound load balancer (`ClbProvider::own`, refusing a listener
//! without this owner's mark) and, for a write by `LocationId`, that
//! `DescribeTargets` reports the rule under that listener
//! ([`ownership::claim_part`]). Each write holds the load balancer's write
//! lock and waits for its task: CLB runs one task per instance.
//!
//! **Retries without doubles.** `CreateRule` is not repeated blindly after
//! a lost answer (a repeat fails on the duplicate domain + URL, or could
//! make a second rule): the rules are read back by domain and URL, and only
//! the missing ones are sent again, until the listener holds them all.
//! Creating rules that are already there (an earlier, interrupted apply)
//! only fills in their targets.
//!
//! **SNI and route certificates.** A route certificate is its domain's
//! certificate (`Certificate {SSLMode UNIDIRECTIONAL, CertId}`), which CLB
//! takes only on an HTTPS listener with `SniSwitch` 1; and with SNI on the
//! listener itself holds no certificate, every domain needs one. The plan
//! makes listeners without their routes, so the listener is created with
//! SNI off and its own certificate; when the first rule with a certificate
//! is bound, this provider switches SNI on (`ModifyListener SniSwitch 1`,
//! the only direction CLB allows) and gives every domain without its own
//! certificate (the default domain included) the listener's certificate.
//! From then on the default domain's certificate stands for the
//! listener's, and the listener reads back with it
//! ([`rules::listener_certificate`]). CLB never switches SNI off again: a
//! file whose routes later lose every certificate keeps SNI on, with the
//! listener's certificate on every domain, which serves the same
//! certificates as SNI off would. A rotated certificate (the alias points
//! to a new ID) is one `ModifyDomainAttributes` per domain: CLB swaps the
//! domain's certificate in one step, so no host is left without one.

use std::collections::BTreeSet;

use async_trait::async_trait;
use listener_core::ownership::{self, OwnedPart, PartOf};
use listener_core::{
    Error, HealthCheck, ListenerId, ListenerSpec, NewRule, Owned, Protocol, Rejection, Rejections, ResourceId, Result,
    RouteSpec, Rule, RuleProvider, WaitOp,
};
use serde_json::{json, Value};

use crate::rules::{self, ClbRule, Target};
use crate::translate::protocol_from_name;
use crate::{ClbProvider, API};

/// A listener proven on the load balancer, with its `DescribeListeners`
/// record and owner.
struct Held {
    id: ListenerId,
    owned: Owned,
    record: Value,
    protocol: Protocol,
    owner: Option<String>,
    managed: bool,
}

impl ClbProvider {
    /// Prove `id` on the bound load balancer and read its owner.
    async fn held(&self, id: &ListenerId) -> Result<Held> {
        let (owned, record) = self.own(id).await?;
        let protocol = record
            .get("Protocol")
            .and_then(Value::as_str)
            .and_then(protocol_from_name)
            .ok_or_else(|| Error::NotFound {
                vendor: API,
                what: format!("listener {id} on {} of a protocol this adapter reads", self.lb()),
            })?;
        let name = record.get("ListenerName").and_then(Value::as_str).unwrap_or("");
        let (_, owner) = listener_core::mark::split_name(name);
        let managed = owner.as_deref() == Some(self.profile.owner());
        Ok(Held {
            id: id.clone(),
            owned,
            record,
            protocol,
            owner,
            managed,
        })
    }

    /// [`ClbProvider::held`] for a write: a listener without this owner's
    /// mark is refused, and its rules with it.
    async fn held_for_write(&self, id: &ListenerId) -> Result<Held> {
        let held = self.held(id).await?;
        if !held.managed {
            return Err(Error::NotOwned {
                vendor: API,
                listener_id: id.0.clone(),
                instance: self.lb().to_string(),
                owner: held.owner.clone(),
            });
        }
        Ok(held)
    }

    /// Read the listener record again (after a write changed it).
    async fn reread(&self, held: &mut Held) -> Result<()> {
        let (_, record) = self.own(&held.id).await?;
        held.record = record;
        Ok(())
    }

    /// One write under the load balancer's lock, its task waited for.
    async fn run<F>(&self, op: WaitOp, what: &str, call: F) -> Result<()>
    where
        F: std::future::Future<Output = Result<String>>,
    {
        let _writing = self.writes.hold().await;
        let task = call.await?;
        self.wait(op, &task, what).await
    }

    /// The rule's neutral shape read back.
    fn rule_back(
        &self,
        held: &Held,
        id: &str,
        host: Option<String>,
        path: &str,
        certificate: Option<String>,
        targets: &[Target],
    ) -> Rule {
        // CLB has no pool object: the rule's targets are its pool, so the
        // rule's own ID stands for the pool (the plan compares endpoints).
        let spec = RouteSpec::new(host.as_deref(), path, id).with_certificate(certificate);
        Rule::new(
            ResourceId(id.to_string()),
            held.id.clone(),
            ResourceId(id.to_string()),
            spec,
            held.owner.clone(),
            self.profile.owner(),
        )
        .with_pool(targets.iter().map(Target::to_endpoint).collect())
    }

    /// The live rules of a listener (`DescribeTargets`).
    async fn live(&self, held: &Held) -> Result<Option<Value>> {
        self.client.describe_targets(held.id.as_str()).await
    }

    /// The neutral rules of a held listener: its CLB rules, or on a
    /// layer-4 listener its targets as the root rule. A domain's
    /// certificate reads back as its alias, `None` when it is the
    /// listener's own (or there is none).
    async fn read_rules(&self, held: &Held) -> Result<Vec<Rule>> {
        let live = self.live(held).await?;
        if rules::targets_on_listener(held.protocol) {
            let targets = live.as_ref().map(rules::read_listener_targets).unwrap_or_default();
            if targets.is_empty() {
                return Ok(Vec::new());
            }
            let id = rules::listener_targets_id(held.id.as_str());
            return Ok(vec![self.rule_back(held, &id, None, "/", None, &targets)]);
        }
        let certs = rules::domain_certificates(&held.record);
        let healths = rules::rule_healths(&held.record);
        let own = rules::listener_certificate(&held.record);
        Ok(live
            .as_ref()
            .map(rules::read)
            .unwrap_or_default()
            .iter()
            .map(|r| {
                let cert = certs
                    .get(&r.domain)
                    .filter(|c| Some(*c) != own.as_ref())
                    .map(|c| self.profile.aliases.certificate_alias_of(c));
                let health = healths.get(&r.id).cloned();
                self.rule_back(held, &r.id, rules::host_of(&r.domain, &r.url), &r.url, cert, &r.targets)
                    .with_pool_health_check(health)
            })
            .collect())
    }

    /// Register and deregister so that `have` becomes `want`, on a rule or
    /// (`rule` `None`) on a layer-4 listener. New addresses are registered
    /// first and the unwanted removed after, so a rule whose endpoints are
    /// replaced is never left empty; a target whose weight changes is
    /// deregistered before it is registered again (CLB refuses a target
    /// bound twice, `InvalidParameterValue.Duplicate`).
    async fn bind(&self, held: &Held, rule: Option<&OwnedPart>, have: &[Target], want: &[Target]) -> Result<()> {
        let (gone, new) = rules::target_changes(have, want);
        let reweighted = |t: &Target| gone.iter().any(|g| g.key() == t.key());
        let fresh: Vec<Target> = new.iter().filter(|t| !reweighted(t)).cloned().collect();
        let again: Vec<Target> = new.iter().filter(|t| reweighted(t)).cloned().collect();
        for (deregister, list) in [(false, &fresh), (true, &gone), (false, &again)] {
            for batch in rules::batches(list) {
                let what = if deregister {
                    "deregister targets"
                } else {
                    "register targets"
                };
                match rule {
                    Some(part) => {
                        self.run(
                            WaitOp::Update,
                            what,
                            self.client.targets(&held.owned, part, &batch, deregister),
                        )
                        .await?
                    }
                    None => {
                        self.run(
                            WaitOp::Update,
                            what,
                            self.client.listener_targets(&held.owned, &batch, deregister),
                        )
                        .await?
                    }
                }
            }
        }
        Ok(())
    }

    /// The certificate ID a rule's domain must have on an SNI listener:
    /// its route certificate (alias resolved), else the listener's.
    fn certificate_for(&self, spec: &RouteSpec, listener: Option<&str>) -> Result<String> {
        if let Some(alias) = &spec.certificate {
            return Ok(self.profile.aliases.certificate(alias).unwrap_or(alias).to_string());
        }
        listener.map(str::to_string).ok_or_else(|| lost_certificate(spec))
    }

    /// Make sure SNI is on for a listener that gets a route certificate:
    /// switch it on (0 → 1) when it is off, and give every domain already
    /// there the listener's certificate and client CA. Returns the
    /// listener's certificate, for the domains without their own, and its
    /// client CA, for every domain (read before the switch: CLB drops the
    /// listener's certificate with it).
    async fn sni_for_certificates(&self, held: &mut Held) -> Result<(Option<String>, Option<rules::ClientCa>)> {
        let own = rules::listener_certificate(&held.record);
        let ca = rules::listener_client_ca(&held.record);
        if rules::sni_on(&held.record) {
            return Ok((own, ca));
        }
        if held.protocol != Protocol::Https {
            return Err(Error::Unsupported {
                vendor: API,
                rejections: vec![Rejection::new(
                    API,
                    "routes",
                    rules::ROUTE_CERTIFICATE,
                    "a CLB domain takes a certificate on HTTPS listeners only",
                )],
            });
        }
        let Some(own) = own else {
            return Err(Error::Config {
                field: "tls.certificates".into(),
                message: format!(
                    "listener {} has no certificate to give the hosts without their own once SNI is on",
                    held.id
                ),
            });
        };
        let domains: BTreeSet<String> = held
            .record
            .get("Rules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| r.get("Domain").and_then(Value::as_str).map(str::to_string))
            .collect();
        tracing::info!(listener_id = %held.id, domains = domains.len(), "switching SNI on for route certificates");
        self.run(
            WaitOp::Update,
            "switch SNI on",
            self.client.modify_listener(&held.owned, &json!({ "SniSwitch": 1 })),
        )
        .await?;
        for d in &domains {
            self.set_domain_certificate(held, d, &own, ca.as_ref()).await?;
        }
        self.reread(held).await?;
        Ok((Some(own), ca))
    }

    async fn set_domain_certificate(
        &self,
        held: &Held,
        domain: &str,
        cert: &str,
        ca: Option<&rules::ClientCa>,
    ) -> Result<()> {
        self.run(
            WaitOp::Update,
            "domain certificate",
            self.client.modify_domain(
                &held.owned,
                domain,
                &json!({ "Certificate": rules::certificate_param(cert, ca) }),
            ),
        )
        .await
    }

    /// `CreateRule` of `params` (rules not on the listener yet). After a
    /// lost answer, read back by domain and URL and send only what is
    /// still missing, until the listener holds every rule.
    async fn create_missing(&self, held: &Held, params: Vec<Value>) -> Result<()> {
        if params.is_empty() {
            return Ok(());
        }
        let key = |v: &Value| {
            (
                v["Domain"].as_str().unwrap_or("").to_string(),
                v["Url"].as_str().unwrap_or("").to_string(),
            )
        };
        {
            let _writing = self.writes.hold().await;
            tracing::info!(listener_id = %held.id, count = params.len(), "creating CLB rules");
            match self.client.create_rules(&held.owned, &params).await {
                Ok((task, _)) => return self.wait(WaitOp::Create, &task, "create rules").await,
                Err(Error::Transport {
                    maybe_applied: true,
                    message,
                    ..
                }) => tracing::warn!(%message, "CreateRule answer lost; reading the rules back"),
                Err(e) => return Err(e),
            }
        }
        let deadline = self.config.wait.start(API, WaitOp::Create);
        loop {
            let have: BTreeSet<(String, String)> = self
                .live(held)
                .await?
                .as_ref()
                .map(rules::read)
                .unwrap_or_default()
                .iter()
                .map(|r| (r.domain.clone(), r.url.clone()))
                .collect();
            let missing: Vec<Value> = params.iter().filter(|p| !have.contains(&key(p))).cloned().collect();
            if missing.is_empty() {
                return Ok(());
            }
            let sent = {
                let _writing = self.writes.hold().await;
                match self.client.create_rules(&held.owned, &missing).await {
                    Ok((task, _)) => self.wait(WaitOp::Create, &task, "create rules").await,
                    Err(e) => Err(e),
                }
            };
            match sent {
                Ok(()) => continue,
                // Busy while the first call's task runs; a duplicate once
                // it has made the rule; a lost answer again.
                Err(
                    e @ (Error::Busy { .. }
                    | Error::Throttled { .. }
                    | Error::Transport { .. }
                    | Error::Conflict { .. }
                    | Error::Vendor { .. }
                    | Error::TaskFailed { .. }),
                ) => tracing::debug!(kind = e.kind(), "rule create not settled yet"),
                Err(e) => return Err(e),
            }
            deadline
                .pause(&format!("reconciling the rules created on {}", held.id))
                .await?;
        }
    }

    /// Prove each of `ids` a rule of the held listener, as `DescribeTargets`
    /// reports it; rules already gone are left out.
    fn parts(&self, held: &Held, live: &[ClbRule], ids: &[ResourceId]) -> Result<Vec<(OwnedPart, ClbRule)>> {
        let mut out = Vec::new();
        for id in ids {
            let found = live.iter().find(|r| r.id == id.0);
            match ownership::claim_part(API, PartOf::Listener(&held.owned), id, found.map(|_| held.id.as_str())) {
                Ok(p) => out.extend(found.map(|f| (p, f.clone()))),
                Err(Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }
}

fn lost_certificate(spec: &RouteSpec) -> Error {
    Error::Config {
        field: "tls.certificates".into(),
        message: format!(
            "the listener has SNI on but no certificate of its own left for `{}` (an apply stopped between switching SNI on and binding the default domain's certificate); replace the listener",
            rules::domain_of(spec)
        ),
    }
}

fn refuse(rejections: Vec<Rejection>) -> Result<()> {
    Rejections::from_vec(API, rejections).into_result().map(|_| ())
}

#[async_trait]
impl RuleProvider for ClbProvider {
    fn check_rules(&self, listener: &ListenerSpec, rules: &[RouteSpec]) -> Vec<(usize, Rejection)> {
        rules::check(listener, rules, &self.profile.aliases)
    }

    fn pool_health_differs(&self, live: &Rule, want: Option<&HealthCheck>) -> bool {
        !rules::rule_health_matches(live.pool_health_check.as_ref(), want)
    }

    async fn list_rules(&self, listener: &ListenerId) -> Result<Vec<Rule>> {
        let held = self.held(listener).await?;
        self.read_rules(&held).await
    }

    async fn create_rules(&self, listener: &ListenerId, new: &[NewRule<'_>]) -> Result<Vec<Rule>> {
        refuse(new.iter().flat_map(rules::check_new).collect())?;
        if new.is_empty() {
            return Ok(Vec::new());
        }
        let mut held = self.held_for_write(listener).await?;
        if rules::targets_on_listener(held.protocol) {
            let hosts: Vec<Rejection> = new
                .iter()
                .filter(|r| !r.spec.is_root())
                .map(|r| {
                    Rejection::new(
                        API,
                        "routes",
                        rules::NOT_HTTP,
                        format!(
                            "`{}` is a host rule; CLB rules exist on HTTP and HTTPS listeners only",
                            rules::domain_of(r.spec)
                        ),
                    )
                })
                .collect();
            refuse(hosts)?;
            refuse(
                new.iter()
                    .filter_map(|r| r.pool)
                    .flat_map(|p| rules::check_layer4_pool(held.protocol, p))
                    .collect(),
            )?;
            let have = self
                .live(&held)
                .await?
                .as_ref()
                .map(rules::read_listener_targets)
                .unwrap_or_default();
            self.bind(&held, None, &have, &rules::targets_of(&new[0])).await?;
            return self.read_rules(&held).await;
        }
        let (own, ca) = if new.iter().any(|r| r.spec.certificate.is_some()) {
            self.sni_for_certificates(&mut held).await?
        } else {
            (
                rules::listener_certificate(&held.record),
                rules::listener_client_ca(&held.record),
            )
        };
        let sni = rules::sni_on(&held.record);
        let before = self.live(&held).await?.as_ref().map(rules::read).unwrap_or_default();
        let mut params = Vec::new();
        for r in new {
            let key = (rules::domain_of(r.spec), r.spec.path.as_str());
            if before.iter().any(|b| b.key() == key) {
                continue;
            }
            let cert = if sni {
                Some(self.certificate_for(r.spec, own.as_deref())?)
            } else {
                None
            };
            let health = r.pool.and_then(|p| p.health_check.as_ref());
            params.push(rules::create_param(r.spec, cert.as_deref(), ca.as_ref(), health));
        }
        self.create_missing(&held, params).await?;
        let now = self.live(&held).await?.as_ref().map(rules::read).unwrap_or_default();
        for r in new {
            let key = (rules::domain_of(r.spec), r.spec.path.as_str());
            let Some(got) = now.iter().find(|b| b.key() == key) else {
                return Err(Error::NotFound {
                    vendor: API,
                    what: format!("rule {} {} on {} after a successful create task", key.0, key.1, held.id),
                });
            };
            let part = ownership::claim_part(
                API,
                PartOf::Listener(&held.owned),
                &ResourceId(got.id.clone()),
                Some(held.id.as_str()),
            )?;
            self.bind(&held, Some(&part), &got.targets, &rules::targets_of(r))
                .await?;
        }
        self.reread(&mut held).await?;
        let keys: Vec<(Option<String>, String)> =
            new.iter().map(|r| (r.spec.host.clone(), r.spec.path.clone())).collect();
        Ok(self
            .read_rules(&held)
            .await?
            .into_iter()
            .filter(|r| keys.contains(&(r.spec.host.clone(), r.spec.path.clone())))
            .collect())
    }

    async fn update_rule(&self, current: &Rule, desired: &NewRule<'_>) -> Result<Rule> {
        refuse(rules::check_new(desired))?;
        let mut held = self.held_for_write(&current.listener).await?;
        if rules::targets_on_listener(held.protocol) {
            if current.id.0 != rules::listener_targets_id(held.id.as_str()) {
                return Err(Error::NotFound {
                    vendor: API,
                    what: format!("rule {} on layer-4 listener {}", current.id, held.id),
                });
            }
            refuse(
                desired
                    .pool
                    .map(|p| rules::check_layer4_pool(held.protocol, p))
                    .unwrap_or_default(),
            )?;
            let have = self
                .live(&held)
                .await?
                .as_ref()
                .map(rules::read_listener_targets)
                .unwrap_or_default();
            self.bind(&held, None, &have, &rules::targets_of(desired)).await?;
        } else {
            let live = self.live(&held).await?.as_ref().map(rules::read).unwrap_or_default();
            let Some((part, found)) = self.parts(&held, &live, std::slice::from_ref(&current.id))?.pop() else {
                return Err(Error::NotFound {
                    vendor: API,
                    what: format!("rule {} on listener {}", current.id, held.id),
                });
            };
            if desired.spec.certificate != current.spec.certificate {
                let (own, ca) = if desired.spec.certificate.is_some() {
                    self.sni_for_certificates(&mut held).await?
                } else {
                    (
                        rules::listener_certificate(&held.record),
                        rules::listener_client_ca(&held.record),
                    )
                };
                if rules::sni_on(&held.record) {
                    let want = self.certificate_for(desired.spec, own.as_deref())?;
                    let have = rules::domain_certificates(&held.record).get(&found.domain).cloned();
                    // Every rule of a domain shares its certificate: the
                    // first rule of the host updated swaps it for all.
                    if have.as_deref() != Some(want.as_str()) {
                        tracing::info!(listener_id = %held.id, domain = %found.domain, "rotating the domain certificate");
                        self.set_domain_certificate(&held, &found.domain, &want, ca.as_ref())
                            .await?;
                        self.reread(&mut held).await?;
                    }
                }
            }
            // The pool's health check is the rule's `HealthCheck`: one
            // `ModifyRule` when the live rule's differs.
            let want = desired.pool.and_then(|p| p.health_check.as_ref());
            let live = rules::rule_healths(&held.record).remove(&found.id);
            if let Some(hc) = want.filter(|_| !rules::rule_health_matches(live.as_ref(), want)) {
                tracing::info!(listener_id = %held.id, location_id = %found.id, "updating the rule's health check");
                let params = json!({ "HealthCheck": rules::rule_health_param(hc) });
                self.run(
                    WaitOp::Update,
                    "health check update",
                    self.client.modify_rule(&held.owned, &part, &params),
                )
                .await?;
                self.reread(&mut held).await?;
            }
            self.bind(&held, Some(&part), &found.targets, &rules::targets_of(desired))
                .await?;
        }
        self.read_rules(&held)
            .await?
            .into_iter()
            .find(|r| r.id == current.id)
            .ok_or_else(|| Error::NotFound {
                vendor: API,
                what: format!("rule {} on listener {} after its update", current.id, held.id),
            })
    }

    async fn delete_rules(&self, listener: &ListenerId, ids: &[ResourceId]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let held = self.held_for_write(listener).await?;
        let live = self.live(&held).await?;
        if rules::targets_on_listener(held.protocol) {
            if ids.iter().any(|i| i.0 == rules::listener_targets_id(held.id.as_str())) {
                let have = live.as_ref().map(rules::read_listener_targets).unwrap_or_default();
                self.bind(&held, None, &have, &[]).await?;
            }
            return Ok(());
        }
        let live = live.as_ref().map(rules::read).unwrap_or_default();
        let parts: Vec<OwnedPart> = self.parts(&held, &live, ids)?.into_iter().map(|(p, _)| p).collect();
        if parts.is_empty() {
            return Ok(());
        }
        tracing::info!(listener_id = %held.id, count = parts.len(), "deleting CLB rules");
        self.run(
            WaitOp::Delete,
            "delete rules",
            self.client.delete_rules(&held.owned, &parts),
        )
        .await
    }
}
