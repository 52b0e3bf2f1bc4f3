//! The GAAP listener actions, on top of the shared Tencent API client.
//!
//! Signing, rate limiting, retries of throttled and busy answers and the
//! mapping of error codes live in `tencent-api`; this file only knows which
//! action takes which parameters and how GAAP words its answers. Every
//! call here carries the instance parameter (`ProxyId` or `GroupId`),
//! except [`GaapClient::find_anywhere`], which asks GAAP which instance an
//! ID is on. Writes by ID take an [`Owned`], proven from that answer
//! first: GAAP's HTTP/HTTPS modify actions take the ID without the
//! instance, so the instance parameter alone does not scope them.

use listener_core::ownership::OwnedPart;
use listener_core::{Error, Owned};
use serde_json::{Map, Value};
use tencent_api::TencentClient;

use crate::config::Instance;
use crate::translate::{field_str, field_u64, CreateCall, GaapProtocol, ModifyPlan};
use crate::API;

/// Page size of the describe actions (GAAP's default is 20, its maximum is
/// undocumented; 50 is the connection's whole listener quota).
pub const PAGE_SIZE: u64 = 50;
/// Pages read at most in one listing: far beyond the quota of 50, it only
/// stops a server that keeps answering full pages.
const MAX_PAGES: u64 = 100;

/// What `DeleteListeners` said about one listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteOutcome {
    /// In `OperationSucceedListenerSet`: deletion started.
    Accepted,
    /// In `InvalidStatusListenerSet`, or GAAP says it does not exist: gone
    /// already, or never on this connection.
    AlreadyGone,
    /// In `OperationFailedListenerSet` (or in no set): try again later.
    Failed,
}

/// GAAP's listener actions for one connection or group.
#[derive(Debug, Clone)]
pub struct GaapClient {
    api: TencentClient,
    instance: Instance,
}

/// Whether an error means the listener does not exist: `ResourceNotFound`
/// (any kind the shared client maps to not-found), or a plain
/// `InvalidParameter` whose message reads `ListenerId(<id>) Not Exist.`.
/// GAAP has no dedicated code for the second case; Terraform matches the
/// same text, and it is the only message this adapter ever looks at.
pub fn is_gone(error: &Error) -> bool {
    match error {
        Error::NotFound { .. } => true,
        Error::Vendor { code, message, .. } => code == "InvalidParameter" && message.contains("Not Exist"),
        _ => false,
    }
}

impl GaapClient {
    /// A client for `instance` over `api`.
    pub fn new(api: TencentClient, instance: Instance) -> Self {
        GaapClient { api, instance }
    }

    /// The connection or group.
    pub fn instance(&self) -> &Instance {
        &self.instance
    }

    /// The shared API client (for its counters).
    pub fn api(&self) -> &TencentClient {
        &self.api
    }

    /// Send one create call, once: creates are not idempotent (GAAP has no
    /// client token), so a lost answer comes back as a transport error for
    /// the provider to reconcile. Returns the new listener IDs.
    pub async fn create(&self, call: &CreateCall) -> Result<Vec<String>, Error> {
        let answer = self.api.call(call.action, &call.params, false).await?;
        let body = &answer.body;
        let mut ids: Vec<String> = Vec::new();
        if let Some(id) = field_str(body, "ListenerId") {
            ids.push(id.to_string());
        }
        if let Some(list) = body.get("ListenerIds").and_then(Value::as_array) {
            ids.extend(list.iter().filter_map(Value::as_str).map(str::to_string));
        }
        if ids.is_empty() {
            return Err(Error::Transport {
                vendor: API,
                message: format!(
                    "{} answered without listener IDs (request id {})",
                    call.action, answer.request_id
                ),
                maybe_applied: true,
            });
        }
        Ok(ids)
    }

    fn filter(&self, listener_id: Option<&str>, port: Option<u32>) -> Map<String, Value> {
        let mut m = Map::new();
        self.instance.insert_into(&mut m);
        if let Some(id) = listener_id {
            m.insert("ListenerId".into(), Value::from(id));
        }
        if let Some(p) = port {
            m.insert("Port".into(), Value::from(p));
        }
        m
    }

    /// Every listener of one kind on the instance (optionally on one
    /// port), all pages.
    pub async fn describe_all(&self, protocol: GaapProtocol, port: Option<u32>) -> Result<Vec<Value>, Error> {
        let mut out = Vec::new();
        let mut offset: u64 = 0;
        for _ in 0..MAX_PAGES {
            let mut params = self.filter(None, port);
            params.insert("Offset".into(), Value::from(offset));
            params.insert("Limit".into(), Value::from(PAGE_SIZE));
            let answer = self
                .api
                .call(protocol.describe_action(), &Value::Object(params), true)
                .await?;
            let page: Vec<Value> = answer
                .body
                .get("ListenerSet")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let total = field_u64(&answer.body, "TotalCount").unwrap_or(0);
            let got = page.len() as u64;
            out.extend(page);
            offset += got;
            if got == 0 || offset >= total {
                return Ok(out);
            }
        }
        Ok(out)
    }

    /// One listener of a given kind by ID; `None` when GAAP does not know
    /// it on this instance (empty answer, `ResourceNotFound`, "Not Exist").
    pub async fn find(&self, protocol: GaapProtocol, id: &str) -> Result<Option<Value>, Error> {
        let params = Value::Object(self.filter(Some(id), None));
        match self.api.call(protocol.describe_action(), &params, true).await {
            Ok(answer) => Ok(answer
                .body
                .get("ListenerSet")
                .and_then(Value::as_array)
                .and_then(|set| set.iter().find(|r| field_str(r, "ListenerId") == Some(id)).cloned())),
            Err(e) if is_gone(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One listener of a given kind by ID alone (no instance filter, which
    /// GAAP's describe actions allow), so the answer says which connection
    /// or group it is on; `None` when GAAP does not know the ID at all.
    pub async fn find_anywhere(&self, protocol: GaapProtocol, id: &str) -> Result<Option<Value>, Error> {
        let mut params = Map::new();
        params.insert("ListenerId".into(), Value::from(id));
        match self
            .api
            .call(protocol.describe_action(), &Value::Object(params), true)
            .await
        {
            Ok(answer) => Ok(answer
                .body
                .get("ListenerSet")
                .and_then(Value::as_array)
                .and_then(|set| set.iter().find(|r| field_str(r, "ListenerId") == Some(id)).cloned())),
            Err(e) if is_gone(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Send a modify call for a listener proven to be on this instance
    /// (the proof's ID is the one sent). It sets absolute values, so
    /// repeating it after a lost answer is harmless and the shared client
    /// may retry it.
    pub async fn modify(&self, listener: &Owned, plan: &ModifyPlan) -> Result<(), Error> {
        let mut params = plan.params.clone();
        if let Some(map) = params.as_object_mut() {
            map.insert("ListenerId".into(), Value::from(listener.as_str()));
        }
        self.api.call(plan.action, &params, true).await.map(|_| ())
    }

    /// `SetTlsVersion`: the TLS versions and cipher family of an HTTPS
    /// listener proven to be on this instance (the proof's ID is the one
    /// sent). It sets absolute values, so the shared client may retry it.
    pub async fn set_tls_version(&self, listener: &Owned, params: &Value) -> Result<(), Error> {
        let mut params = params.clone();
        if let Some(map) = params.as_object_mut() {
            map.insert("ListenerId".into(), Value::from(listener.as_str()));
        }
        self.api.call("SetTlsVersion", &params, true).await.map(|_| ())
    }

    /// The instance's own description: `DescribeProxies` for a connection
    /// (by `ProxyIds`), `DescribeProxyGroupDetails` for a group. Read for
    /// `IsSupportTLSChoice`.
    pub async fn describe_instance(&self) -> Result<Value, Error> {
        let (action, params) = match &self.instance {
            Instance::Connection(id) => ("DescribeProxies", serde_json::json!({ "ProxyIds": [id] })),
            Instance::Group(id) => ("DescribeProxyGroupDetails", serde_json::json!({ "GroupId": id })),
        };
        Ok(self.api.call(action, &params, true).await?.body)
    }

    /// `DeleteListeners` for one listener proven to be on this instance,
    /// with `Force` 1 so that bound origin servers do not block it.
    /// Deleting by ID is idempotent.
    pub async fn delete(&self, listener: &Owned) -> Result<DeleteOutcome, Error> {
        let id = listener.as_str();
        let mut params = Map::new();
        self.instance.insert_into(&mut params);
        params.insert("ListenerIds".into(), Value::from(vec![id.to_string()]));
        params.insert("Force".into(), Value::from(1));
        let answer = match self.api.call("DeleteListeners", &Value::Object(params), true).await {
            Ok(a) => a,
            Err(e) if is_gone(&e) => return Ok(DeleteOutcome::AlreadyGone),
            Err(e) => return Err(e),
        };
        let contains = |set: &str| {
            answer
                .body
                .get(set)
                .and_then(Value::as_array)
                .is_some_and(|l| l.iter().any(|v| v.as_str() == Some(id)))
        };
        Ok(if contains("OperationSucceedListenerSet") {
            DeleteOutcome::Accepted
        } else if contains("InvalidStatusListenerSet") {
            DeleteOutcome::AlreadyGone
        } else {
            DeleteOutcome::Failed
        })
    }
}

/// Origin servers per page of `DescribeRealServers` (GAAP's maximum).
pub const ORIGINS_PAGE: u64 = 50;

/// The layer-7 domain and rule actions, origin servers and their bindings
/// (`crate::rules`). Writes under a listener take its [`Owned`] proof, a
/// rule write an [`OwnedPart`] made from that proof; origin servers are an
/// account list, and only those carrying this owner's name mark are ever
/// removed (the caller proves it, see `rules::GaapProvider`).
impl GaapClient {
    /// `DescribeRules` of one listener: its domains, each with its rules
    /// and their bound origins.
    pub async fn describe_rules(&self, listener: &str) -> Result<Value, Error> {
        let params = serde_json::json!({ "ListenerId": listener });
        Ok(self.api.call("DescribeRules", &params, true).await?.body)
    }

    /// `CreateDomain` on an owned listener. Not idempotent: a repeat after
    /// a lost answer meets `FailedOperation.DomainAlreadyExisted`, which
    /// the caller reads back.
    pub async fn create_domain(&self, listener: &Owned, params: &Value) -> Result<(), Error> {
        let mut params = params.clone();
        params["ListenerId"] = Value::from(listener.as_str());
        self.api.call("CreateDomain", &params, false).await.map(|_| ())
    }

    /// `ModifyCertificate`: the domain's server certificate in one call
    /// (the old one serves until the new one does). Absolute, so retried.
    pub async fn modify_certificate(&self, listener: &Owned, domain: &str, certificate: &str) -> Result<(), Error> {
        let params = serde_json::json!({
            "ListenerId": listener.as_str(), "Domain": domain, "CertificateId": certificate,
        });
        self.api.call("ModifyCertificate", &params, true).await.map(|_| ())
    }

    /// `ModifyDomain` keeping the name: the default-server flag.
    pub async fn set_default_domain(&self, listener: &Owned, domain: &str) -> Result<(), Error> {
        let params = serde_json::json!({
            "ListenerId": listener.as_str(), "OldDomain": domain, "NewDomain": domain, "IsDefaultServer": true,
        });
        self.api.call("ModifyDomain", &params, true).await.map(|_| ())
    }

    /// `DeleteDomain` with `Force` 1 (its rules go with it).
    pub async fn delete_domain(&self, listener: &Owned, domain: &str) -> Result<(), Error> {
        let params = serde_json::json!({ "ListenerId": listener.as_str(), "Domain": domain, "Force": 1 });
        match self.api.call("DeleteDomain", &params, true).await {
            Ok(_) => Ok(()),
            Err(e) if is_gone(&e) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// `CreateRule` on an owned listener; the new `RuleId`. Not idempotent.
    pub async fn create_rule(&self, listener: &Owned, params: &Value) -> Result<String, Error> {
        let mut params = params.clone();
        params["ListenerId"] = Value::from(listener.as_str());
        let answer = self.api.call("CreateRule", &params, false).await?;
        field_str(&answer.body, "RuleId")
            .map(str::to_string)
            .ok_or_else(|| Error::Transport {
                vendor: API,
                message: format!(
                    "CreateRule answered without a RuleId (request id {})",
                    answer.request_id
                ),
                maybe_applied: true,
            })
    }

    /// `ModifyRuleAttribute` of a rule proven under an owned listener, with
    /// `params` (absolute values, so a repeat is harmless).
    pub async fn modify_rule(&self, listener: &Owned, rule: &OwnedPart, params: &Value) -> Result<(), Error> {
        let mut params = params.clone();
        params["ListenerId"] = Value::from(listener.as_str());
        params["RuleId"] = Value::from(rule.as_str());
        self.api.call("ModifyRuleAttribute", &params, true).await.map(|_| ())
    }

    /// `DeleteRule` with `Force` 1, for a rule proven under an owned listener.
    pub async fn delete_rule(&self, listener: &Owned, rule: &OwnedPart) -> Result<(), Error> {
        let params = serde_json::json!({ "ListenerId": listener.as_str(), "RuleId": rule.as_str(), "Force": 1 });
        match self.api.call("DeleteRule", &params, true).await {
            Ok(_) => Ok(()),
            Err(e) if is_gone(&e) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// `BindRuleRealServers`: the rule's whole origin set (absolute, so
    /// retried; an empty set unbinds all).
    pub async fn bind_rule(&self, rule: &OwnedPart, set: &[Value]) -> Result<(), Error> {
        let params = serde_json::json!({ "RuleId": rule.as_str(), "RealServerBindSet": set });
        self.api.call("BindRuleRealServers", &params, true).await.map(|_| ())
    }

    /// `BindListenerRealServers` on an owned TCP/UDP listener (absolute).
    pub async fn bind_listener(&self, listener: &Owned, set: &[Value]) -> Result<(), Error> {
        let params = serde_json::json!({ "ListenerId": listener.as_str(), "RealServerBindSet": set });
        self.api
            .call("BindListenerRealServers", &params, true)
            .await
            .map(|_| ())
    }

    /// `DescribeListenerRealServers`: the origins bound to a TCP/UDP listener.
    pub async fn listener_real_servers(&self, listener: &str) -> Result<Vec<Value>, Error> {
        let params = serde_json::json!({ "ListenerId": listener });
        let body = self.api.call("DescribeListenerRealServers", &params, true).await?.body;
        Ok(body
            .get("BindRealServerSet")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default())
    }

    /// Every origin server of `project`, all pages.
    pub async fn real_servers(&self, project: u64) -> Result<Vec<Value>, Error> {
        let mut out = Vec::new();
        for page in 0..MAX_PAGES {
            let params = serde_json::json!({
                "ProjectId": project, "Offset": page * ORIGINS_PAGE, "Limit": ORIGINS_PAGE,
            });
            let body = self.api.call("DescribeRealServers", &params, true).await?.body;
            let got: Vec<Value> = body
                .get("RealServerSet")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let total = field_u64(&body, "TotalCount").unwrap_or(0);
            let n = got.len() as u64;
            out.extend(got);
            if n == 0 || out.len() as u64 >= total {
                break;
            }
        }
        Ok(out)
    }

    /// `AddRealServers`: new origin servers under one (marked) name; the
    /// `(RealServerId, RealServerIP)` pairs made. Not idempotent: a repeat
    /// meets `InvalidParameterValue.DuplicateRS`, which the caller reads back.
    pub async fn add_real_servers(
        &self,
        project: u64,
        addresses: &[String],
        name: &str,
    ) -> Result<Vec<(String, String)>, Error> {
        let params = serde_json::json!({ "ProjectId": project, "RealServerIP": addresses, "RealServerName": name });
        let body = self.api.call("AddRealServers", &params, false).await?.body;
        Ok(body
            .get("RealServerSet")
            .and_then(Value::as_array)
            .map(|set| {
                set.iter()
                    .filter_map(|r| {
                        Some((
                            field_str(r, "RealServerId")?.to_string(),
                            field_str(r, "RealServerIP")?.to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// `RemoveRealServers` for one origin server proven to carry this
    /// owner's mark.
    pub async fn remove_real_server(&self, origin: &OwnedPart) -> Result<(), Error> {
        let params = serde_json::json!({ "RealServerIds": [origin.as_str()] });
        match self.api.call("RemoveRealServers", &params, true).await {
            Ok(_) => Ok(()),
            Err(e) if is_gone(&e) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gone_means_not_found_or_gaaps_not_exist_message() {
        assert!(is_gone(&Error::NotFound {
            vendor: API,
            what: "x".into()
        }));
        assert!(is_gone(&Error::Vendor {
            vendor: API,
            code: "InvalidParameter".into(),
            message: "ListenerId(listener-1) Not Exist.".into(),
            request_id: "r".into(),
        }));
        assert!(!is_gone(&Error::Vendor {
            vendor: API,
            code: "InvalidParameter".into(),
            message: "bad value".into(),
            request_id: "r".into(),
        }));
        assert!(!is_gone(&Error::Vendor {
            vendor: API,
            code: "InvalidParameterValue".into(),
            message: "Not Exist".into(),
            request_id: "r".into(),
        }));
    }
}
