//! The ALB actions this adapter uses, on top of the family client.
//!
//! [`AlibabaClient`] signs, rate-limits, retries and maps error codes; this
//! layer knows ALB's action names, which answer fields matter, how paging
//! works (`NextToken`) and which "not found" means "already gone". Every
//! write takes the caller's [`ClientToken`]: the token belongs to the
//! logical operation, so the provider makes it once and the client repeats
//! it on every retry. Every write that names a listener takes an [`Owned`]
//! instead of a bare ID: ALB's listener actions take the ID alone, so the
//! vendor would act on a listener of any instance of the account, and the
//! proof that it is on the bound one must come first.

use alibaba_api::{AlibabaClient, CallOptions, ClientToken};
use listener_core::ownership::OwnedPart;
use listener_core::{Error, Owned, Result};
use serde_json::{json, Map, Value};

use crate::translate::{get_bool, get_str};
use crate::API;

/// ALB's product code (endpoint `alb.<region>.aliyuncs.com`).
pub const PRODUCT: &str = "alb";
/// The ALB API version.
pub const VERSION: &str = "2020-06-16";
/// Page size for `ListListeners` and `ListListenerCertificates` (vendor
/// maximum 100).
pub const PAGE_SIZE: u32 = 100;
/// Pages followed at most: 50 listeners fit on one page, so anything near
/// this means the vendor keeps handing back tokens, which must not loop
/// forever.
const MAX_PAGES: usize = 1000;
/// `DissociateAdditionalCertificatesFromListener` takes at most 20
/// certificates per call; the same bound is used for associating.
pub const CERTIFICATES_PER_CALL: usize = 20;

/// The answer to `CreateListener`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// `ListenerId` (`lsn-…`).
    pub listener_id: String,
    /// `JobId` of the asynchronous creation, when the vendor gave one.
    pub job_id: Option<String>,
}

/// Where an asynchronous job stands (`ListAsynJobs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobStatus {
    /// Still running.
    Processing,
    /// Finished well.
    Succeeded,
    /// Finished in failure; the listener change did not happen.
    Failed,
    /// A status this adapter does not know, kept verbatim.
    Other(String),
}

/// One job as `ListAsynJobs` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Its status.
    pub status: JobStatus,
    /// `ErrorCode` of a failed job.
    pub error_code: Option<String>,
    /// `ErrorMessage` of a failed job.
    pub error_message: Option<String>,
}

/// One certificate of a listener (`ListListenerCertificates`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerCertificate {
    /// `CertificateId`.
    pub id: String,
    /// Whether it is the listener's default certificate.
    pub is_default: bool,
    /// `Associating`, `Associated`, `Dissociating`, ...
    pub status: Option<String>,
}

/// What `DeleteListener` answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deletion {
    /// Deletion started; follow this job (when given).
    Started(Option<String>),
    /// The listener was already gone.
    AlreadyGone,
}

/// ALB listener actions for one region.
#[derive(Debug, Clone)]
pub struct AlbClient {
    api: AlibabaClient,
}

impl AlbClient {
    /// Wrap a family client built for product `alb`, version
    /// [`VERSION`].
    pub fn new(api: AlibabaClient) -> Self {
        AlbClient { api }
    }

    /// The underlying family client (counters, endpoint).
    pub fn api(&self) -> &AlibabaClient {
        &self.api
    }

    /// A token for one new logical write.
    pub fn new_token(&self) -> ClientToken {
        self.api.new_client_token()
    }

    async fn write(&self, action: &str, params: &Value, token: ClientToken) -> Result<Value> {
        tracing::debug!(action, client_token = %token, "ALB write");
        Ok(self.api.call(action, params, CallOptions::write(token)).await?.body)
    }

    async fn read(&self, action: &str, params: &Value) -> Result<Value> {
        Ok(self.api.call(action, params, CallOptions::read()).await?.body)
    }

    /// `CreateListener` with `params` from
    /// [`create_params`](crate::translate::create_params).
    pub async fn create_listener(&self, params: &Value, token: ClientToken) -> Result<Created> {
        let body = self.write("CreateListener", params, token).await?;
        let listener_id = get_str(&body, "ListenerId")
            .ok_or_else(|| unexpected("CreateListener answered without a ListenerId"))?
            .to_string();
        Ok(Created {
            listener_id,
            job_id: get_str(&body, "JobId").map(str::to_string),
        })
    }

    /// Send `action` with `DryRun=true`: the vendor checks parameters,
    /// syntax and limits without acting. `Ok` means it would be accepted.
    pub async fn dry_run(&self, action: &str, params: &Value) -> Result<()> {
        let opts = CallOptions {
            dry_run: true,
            ..CallOptions::default()
        };
        self.api.call(action, params, opts).await.map(|_| ())
    }

    /// `GetListenerAttribute`; an unknown listener is `Error::NotFound`.
    pub async fn get_listener(&self, listener_id: &str) -> Result<Value> {
        self.read("GetListenerAttribute", &json!({ "ListenerId": listener_id }))
            .await
            .map_err(|e| not_found_as(e, listener_id))
    }

    /// `GetLoadBalancerAttribute` of one instance (status, edition and the
    /// `VpcId` it is deployed in); an unknown instance
    /// (`ResourceNotFound.LoadBalancer`) is `Error::NotFound` naming it.
    pub async fn get_load_balancer(&self, load_balancer_id: &str) -> Result<Value> {
        self.read(
            "GetLoadBalancerAttribute",
            &json!({ "LoadBalancerId": load_balancer_id }),
        )
        .await
        .map_err(|e| match e {
            Error::NotFound { vendor, what } => Error::NotFound {
                vendor,
                what: format!("ALB instance {load_balancer_id} ({what})"),
            },
            other => other,
        })
    }

    /// Every listener of `load_balancer_id` (`ListListeners`, all pages),
    /// optionally only one protocol (`HTTP`, `HTTPS`, `QUIC`).
    pub async fn list_listeners(&self, load_balancer_id: &str, protocol: Option<&str>) -> Result<Vec<Value>> {
        self.list_listeners_paged(load_balancer_id, protocol, PAGE_SIZE).await
    }

    /// [`AlbClient::list_listeners`] with `page_size` listeners per call
    /// (1–100), following `NextToken` to the last page.
    pub async fn list_listeners_paged(
        &self,
        load_balancer_id: &str,
        protocol: Option<&str>,
        page_size: u32,
    ) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        let mut next: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut p = json!({ "LoadBalancerIds": [load_balancer_id], "MaxResults": page_size });
            if let Some(proto) = protocol {
                p["ListenerProtocol"] = json!(proto);
            }
            if let Some(token) = &next {
                p["NextToken"] = json!(token);
            }
            let body = self.read("ListListeners", &p).await?;
            if let Some(list) = body.get("Listeners").and_then(Value::as_array) {
                out.extend(list.iter().cloned());
            }
            match get_str(&body, "NextToken") {
                Some(t) if next.as_deref() != Some(t) => next = Some(t.to_string()),
                _ => return Ok(out),
            }
        }
        Err(unexpected("ListListeners kept returning pages"))
    }

    /// `UpdateListenerAttribute` with changed `settings`; returns the job.
    pub async fn update_listener(
        &self,
        listener: &Owned,
        settings: &Map<String, Value>,
        token: ClientToken,
    ) -> Result<Option<String>> {
        let listener_id = listener.as_str();
        let mut p = settings.clone();
        p.insert("ListenerId".into(), json!(listener_id));
        let body = self
            .write("UpdateListenerAttribute", &Value::Object(p), token)
            .await
            .map_err(|e| not_found_as(e, listener_id))?;
        Ok(get_str(&body, "JobId").map(str::to_string))
    }

    /// A tag write: `TagResources` and `UnTagResources` take no
    /// `ClientToken` (SDK model 1.3.3 lists `ResourceId`, `ResourceType`,
    /// `Tag`, `TagKey`, `All` only; Terraform sends none), and need none:
    /// setting or removing the same tags twice ends in the same state, so
    /// the call is marked idempotent and a lost answer is simply repeated.
    async fn tag_write(&self, action: &str, params: &Value) -> Result<Value> {
        let opts = CallOptions {
            idempotent: true,
            ..CallOptions::default()
        };
        Ok(self.api.call(action, params, opts).await?.body)
    }

    /// `TagResources` with `ResourceType=listener`: add or overwrite the
    /// given tags (synchronous, no job). `tags` is the `Tag` list from
    /// [`tag_params`](crate::translate::tag_params).
    pub async fn tag_listener(&self, listener: &Owned, tags: &Value) -> Result<()> {
        let listener_id = listener.as_str();
        let p = json!({ "ResourceType": "listener", "ResourceId": [listener_id], "Tag": tags });
        self.tag_write("TagResources", &p)
            .await
            .map_err(|e| not_found_as(e, listener_id))?;
        Ok(())
    }

    /// `StartListener` (`run = true`) or `StopListener`: asynchronous, the
    /// listener goes `Configuring` and then `Running` or `Stopped`.
    pub async fn switch_listener(&self, listener: &Owned, run: bool, token: ClientToken) -> Result<Option<String>> {
        let listener_id = listener.as_str();
        let action = if run { "StartListener" } else { "StopListener" };
        let body = self
            .write(action, &json!({ "ListenerId": listener_id }), token)
            .await
            .map_err(|e| not_found_as(e, listener_id))?;
        Ok(get_str(&body, "JobId").map(str::to_string))
    }

    /// `UnTagResources` (so spelt: SDK and Terraform) with
    /// `ResourceType=listener`: remove the tags with these keys
    /// (synchronous, no job).
    pub async fn untag_listener(&self, listener: &Owned, keys: &[String]) -> Result<()> {
        let listener_id = listener.as_str();
        let p = json!({ "ResourceType": "listener", "ResourceId": [listener_id], "TagKey": keys });
        self.tag_write("UnTagResources", &p)
            .await
            .map_err(|e| not_found_as(e, listener_id))?;
        Ok(())
    }

    /// `DeleteListener`; a listener that is already gone (after the
    /// ownership check: a repeat, a lost answer) is not an error.
    pub async fn delete_listener(&self, listener: &Owned, token: ClientToken) -> Result<Deletion> {
        match self
            .write("DeleteListener", &json!({ "ListenerId": listener.as_str() }), token)
            .await
        {
            Ok(body) => Ok(Deletion::Started(get_str(&body, "JobId").map(str::to_string))),
            Err(Error::NotFound { .. }) => Ok(Deletion::AlreadyGone),
            Err(e) => Err(e),
        }
    }

    /// The job `job_id` (`ListAsynJobs` with `JobIds.1`), `None` when the
    /// vendor does not list it (yet).
    pub async fn job(&self, job_id: &str) -> Result<Option<Job>> {
        let body = self.read("ListAsynJobs", &json!({ "JobIds": [job_id] })).await?;
        let found = body
            .get("Jobs")
            .and_then(Value::as_array)
            .and_then(|jobs| jobs.iter().find(|j| get_str(j, "Id") == Some(job_id)));
        Ok(found.map(|j| Job {
            status: match get_str(j, "Status").unwrap_or("") {
                "Processing" => JobStatus::Processing,
                "Succeeded" => JobStatus::Succeeded,
                "Failed" => JobStatus::Failed,
                other => JobStatus::Other(other.to_string()),
            },
            error_code: get_str(j, "ErrorCode").map(str::to_string),
            error_message: get_str(j, "ErrorMessage").map(str::to_string),
        }))
    }

    /// The listener's certificates of `kind` (`Server` or `Ca`), all pages.
    pub async fn listener_certificates(&self, listener_id: &str, kind: &str) -> Result<Vec<ListenerCertificate>> {
        let mut out = Vec::new();
        let mut next: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut p = json!({ "ListenerId": listener_id, "CertificateType": kind, "MaxResults": PAGE_SIZE });
            if let Some(token) = &next {
                p["NextToken"] = json!(token);
            }
            let body = self
                .read("ListListenerCertificates", &p)
                .await
                .map_err(|e| not_found_as(e, listener_id))?;
            for c in body.get("Certificates").and_then(Value::as_array).into_iter().flatten() {
                if let Some(id) = get_str(c, "CertificateId") {
                    out.push(ListenerCertificate {
                        id: id.to_string(),
                        is_default: get_bool(c, "IsDefault").unwrap_or(false),
                        status: get_str(c, "Status").map(str::to_string),
                    });
                }
            }
            match get_str(&body, "NextToken") {
                Some(t) if next.as_deref() != Some(t) => next = Some(t.to_string()),
                _ => return Ok(out),
            }
        }
        Err(unexpected("ListListenerCertificates kept returning pages"))
    }

    /// `AssociateAdditionalCertificatesWithListener`; returns the job.
    pub async fn associate_certificates(
        &self,
        listener: &Owned,
        ids: &[String],
        token: ClientToken,
    ) -> Result<Option<String>> {
        self.certificates_call("AssociateAdditionalCertificatesWithListener", listener, ids, token)
            .await
    }

    /// `DissociateAdditionalCertificatesFromListener`; returns the job.
    pub async fn dissociate_certificates(
        &self,
        listener: &Owned,
        ids: &[String],
        token: ClientToken,
    ) -> Result<Option<String>> {
        self.certificates_call("DissociateAdditionalCertificatesFromListener", listener, ids, token)
            .await
    }

    async fn certificates_call(
        &self,
        action: &str,
        listener: &Owned,
        ids: &[String],
        token: ClientToken,
    ) -> Result<Option<String>> {
        let listener_id = listener.as_str();
        let certs: Vec<Value> = ids.iter().map(|id| json!({ "CertificateId": id })).collect();
        let p = json!({ "ListenerId": listener_id, "Certificates": certs });
        let body = self
            .write(action, &p, token)
            .await
            .map_err(|e| not_found_as(e, listener_id))?;
        Ok(get_str(&body, "JobId").map(str::to_string))
    }
}

/// `CreateRules` takes at most ten rules per call.
pub const RULES_PER_CALL: usize = 10;
/// `AddServersToServerGroup` and `RemoveServersFromServerGroup` take at
/// most 200 servers per call.
pub const SERVERS_PER_CALL: usize = 200;

/// Server group and rule actions (pools and routes, `pools.rs` and
/// `rules.rs`). Writes by ID take an [`OwnedPart`] (or the owned listener):
/// the proof comes before the call.
impl AlbClient {
    /// Follow `NextToken` over `action`, collecting the array `field`.
    async fn read_all(&self, action: &str, params: &Value, field: &str) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        let mut next: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut p = params.clone();
            p["MaxResults"] = json!(PAGE_SIZE);
            if let Some(token) = &next {
                p["NextToken"] = json!(token);
            }
            let body = self.read(action, &p).await?;
            if let Some(list) = body.get(field).and_then(Value::as_array) {
                out.extend(list.iter().cloned());
            }
            match get_str(&body, "NextToken") {
                Some(t) if next.as_deref() != Some(t) => next = Some(t.to_string()),
                _ => return Ok(out),
            }
        }
        Err(unexpected("a listing kept returning pages"))
    }

    /// `CreateServerGroup` of type `Ip` (HTTP, `Wrr`) in `vpc` with
    /// `tags` (a `Tag` list) and `health` (`HealthCheckConfig`, required by
    /// ALB); returns the group's ID and the job.
    pub async fn create_server_group(
        &self,
        name: &str,
        vpc: &str,
        tags: &Value,
        health: &Value,
        token: ClientToken,
    ) -> Result<(String, Option<String>)> {
        let p = json!({
            "ServerGroupName": name,
            "ServerGroupType": "Ip",
            "Protocol": "HTTP",
            "Scheduler": "Wrr",
            "VpcId": vpc,
            "Tag": tags,
            "HealthCheckConfig": health,
        });
        let body = self.write("CreateServerGroup", &p, token).await?;
        let id = get_str(&body, "ServerGroupId")
            .ok_or_else(|| unexpected("CreateServerGroup answered without a ServerGroupId"))?
            .to_string();
        Ok((id, get_str(&body, "JobId").map(str::to_string)))
    }

    /// `UpdateServerGroupAttribute` of an owned group's health check
    /// (`HealthCheckConfig`); the job.
    pub async fn update_server_group_health(
        &self,
        group: &OwnedPart,
        health: &Value,
        token: ClientToken,
    ) -> Result<Option<String>> {
        let p = json!({ "ServerGroupId": group.as_str(), "HealthCheckConfig": health });
        let body = self.write("UpdateServerGroupAttribute", &p, token).await?;
        Ok(get_str(&body, "JobId").map(str::to_string))
    }

    /// `ListServerGroups`, all pages; only the given IDs when `ids` is not
    /// empty (at most 20 per call, as the vendor takes).
    pub async fn list_server_groups(&self, ids: &[String]) -> Result<Vec<Value>> {
        if ids.is_empty() {
            return self.read_all("ListServerGroups", &json!({}), "ServerGroups").await;
        }
        let mut out = Vec::new();
        for chunk in ids.chunks(20) {
            out.extend(
                self.read_all("ListServerGroups", &json!({ "ServerGroupIds": chunk }), "ServerGroups")
                    .await?,
            );
        }
        Ok(out)
    }

    /// `ListServerGroupServers` of one group, all pages.
    pub async fn list_servers(&self, group_id: &str) -> Result<Vec<Value>> {
        self.read_all(
            "ListServerGroupServers",
            &json!({ "ServerGroupId": group_id }),
            "Servers",
        )
        .await
    }

    /// `AddServersToServerGroup` (`add`) or `RemoveServersFromServerGroup`
    /// of `Ip` servers given as `(ip, port, weight)`; returns the job.
    pub async fn change_servers(
        &self,
        group: &OwnedPart,
        add: bool,
        servers: &[(String, u32, u32)],
        token: ClientToken,
    ) -> Result<Option<String>> {
        let list: Vec<Value> = servers
            .iter()
            .map(|(ip, port, weight)| {
                let mut s = json!({ "ServerId": ip, "ServerIp": ip, "ServerType": "Ip", "Port": port });
                if add {
                    s["Weight"] = json!(weight);
                }
                s
            })
            .collect();
        let action = if add {
            "AddServersToServerGroup"
        } else {
            "RemoveServersFromServerGroup"
        };
        let body = self
            .write(
                action,
                &json!({ "ServerGroupId": group.as_str(), "Servers": list }),
                token,
            )
            .await?;
        Ok(get_str(&body, "JobId").map(str::to_string))
    }

    /// `DeleteServerGroup`; a group already gone is not an error.
    pub async fn delete_server_group(&self, group: &OwnedPart, token: ClientToken) -> Result<Deletion> {
        match self
            .write("DeleteServerGroup", &json!({ "ServerGroupId": group.as_str() }), token)
            .await
        {
            Ok(body) => Ok(Deletion::Started(get_str(&body, "JobId").map(str::to_string))),
            Err(Error::NotFound { .. }) => Ok(Deletion::AlreadyGone),
            Err(e) => Err(e),
        }
    }

    /// `CreateRules` on an owned listener (at most [`RULES_PER_CALL`]);
    /// returns the rule IDs in the order given, and the job.
    pub async fn create_rules(
        &self,
        listener: &Owned,
        rules: &[Value],
        token: ClientToken,
    ) -> Result<(Vec<String>, Option<String>)> {
        let p = json!({ "ListenerId": listener.as_str(), "Rules": rules });
        let body = self
            .write("CreateRules", &p, token)
            .await
            .map_err(|e| not_found_as(e, listener.as_str()))?;
        let ids: Vec<String> = body
            .get("RuleIds")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| get_str(r, "RuleId").map(str::to_string))
            .collect();
        if ids.len() != rules.len() {
            return Err(unexpected("CreateRules answered with another number of rule IDs"));
        }
        Ok((ids, get_str(&body, "JobId").map(str::to_string)))
    }

    /// `ListRules` of one listener, all pages.
    pub async fn list_rules(&self, listener_id: &str) -> Result<Vec<Value>> {
        self.read_all("ListRules", &json!({ "ListenerIds": [listener_id] }), "Rules")
            .await
    }

    /// `UpdateRuleAttribute` of an owned rule with `fields`; the job.
    pub async fn update_rule(
        &self,
        rule: &OwnedPart,
        fields: &Map<String, Value>,
        token: ClientToken,
    ) -> Result<Option<String>> {
        let mut p = fields.clone();
        p.insert("RuleId".into(), json!(rule.as_str()));
        let body = self.write("UpdateRuleAttribute", &Value::Object(p), token).await?;
        Ok(get_str(&body, "JobId").map(str::to_string))
    }

    /// `UpdateRulesAttribute`: new priorities for owned rules of one
    /// listener in one job (at most [`RULES_PER_CALL`]); ALB checks the
    /// priorities against the listener as it is after the whole call, so
    /// one batch may swap them.
    pub async fn renumber_rules(&self, rules: &[(OwnedPart, u32)], token: ClientToken) -> Result<Option<String>> {
        let items: Vec<Value> = rules
            .iter()
            .map(|(r, p)| json!({ "RuleId": r.as_str(), "Priority": p }))
            .collect();
        let body = self
            .write("UpdateRulesAttribute", &json!({ "Rules": items }), token)
            .await?;
        Ok(get_str(&body, "JobId").map(str::to_string))
    }

    /// `DeleteRules` of owned rules; the job.
    pub async fn delete_rules(&self, rules: &[OwnedPart], token: ClientToken) -> Result<Option<String>> {
        let ids: Vec<&str> = rules.iter().map(OwnedPart::as_str).collect();
        let body = self.write("DeleteRules", &json!({ "RuleIds": ids }), token).await?;
        Ok(get_str(&body, "JobId").map(str::to_string))
    }
}

/// A not-found answer about `listener_id`, named after the listener (the
/// vendor's code stays in the log of the call).
fn not_found_as(e: Error, listener_id: &str) -> Error {
    match e {
        Error::NotFound { vendor, what } => Error::NotFound {
            vendor,
            what: format!("listener {listener_id} ({what})"),
        },
        other => other,
    }
}

/// An answer that lacks what the API promises.
pub(crate) fn unexpected(message: &str) -> Error {
    Error::Vendor {
        vendor: API,
        code: "UnexpectedAnswer".to_string(),
        message: message.to_string(),
        request_id: String::new(),
    }
}
