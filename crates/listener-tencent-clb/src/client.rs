//! The CLB calls this adapter makes, on top of the shared Tencent client.
//!
//! The shared client signs, rate-limits and retries throttling and
//! `FailedOperation.ResourceInOperating` (busy) answers; this layer names
//! the actions and says which ones are safe to repeat. Writes are
//! serialised per load balancer by the provider, through the core's
//! [`listener_core::WriteLock`]: CLB refuses a second write while a task
//! runs on the instance, so two writes of our own queue rather than
//! collide.

use listener_core::{Error, Owned, OwnedPart};
use serde_json::{json, Value};
use tencent_api::TencentClient;

use crate::API;

/// Most targets one `RegisterTargets` / `DeregisterTargets` call takes.
pub const MAX_TARGETS_PER_CALL: usize = 20;

/// The CLB actions used, as a thin layer over [`TencentClient`].
#[derive(Debug, Clone)]
pub struct ClbClient {
    api: TencentClient,
    load_balancer_id: String,
}

fn array_of_strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

impl ClbClient {
    /// A client for one load balancer.
    pub fn new(api: TencentClient, load_balancer_id: impl Into<String>) -> Self {
        ClbClient {
            api,
            load_balancer_id: load_balancer_id.into(),
        }
    }

    /// The underlying API client (for stats and raw calls).
    pub fn api(&self) -> &TencentClient {
        &self.api
    }

    /// The load balancer this client is bound to.
    pub fn load_balancer_id(&self) -> &str {
        &self.load_balancer_id
    }

    /// `CreateListener`. Not repeated after a lost answer (no client token:
    /// a blind repeat could double or fail); the caller reconciles instead.
    /// Returns the task ID (the `RequestId`) and `ListenerIds`.
    pub async fn create_listener(&self, params: &Value) -> Result<(String, Vec<String>), Error> {
        let answer = self.api.call("CreateListener", params, false).await?;
        Ok((answer.request_id, array_of_strings(answer.body.get("ListenerIds"))))
    }

    /// `DescribeListeners` of this load balancer: all listeners, or the
    /// given IDs (at most 100 per call, so longer lists are split). CLB
    /// does not paginate this action.
    pub async fn describe_listeners(&self, ids: Option<&[String]>) -> Result<Vec<Value>, Error> {
        let mut out = Vec::new();
        let chunks: Vec<Option<&[String]>> = match ids {
            None => vec![None],
            Some([]) => return Ok(out),
            Some(ids) => ids.chunks(100).map(Some).collect(),
        };
        for chunk in chunks {
            let mut params = json!({ "LoadBalancerId": self.load_balancer_id });
            if let Some(c) = chunk {
                params["ListenerIds"] = json!(c);
            }
            let answer = self.api.call("DescribeListeners", &params, true).await?;
            if let Some(list) = answer.body.get("Listeners").and_then(Value::as_array) {
                out.extend(list.iter().cloned());
            }
        }
        Ok(out)
    }

    /// `ModifyListener` of a listener proven to be on this load balancer
    /// (the proof's load balancer and ID are the ones sent). Safe to
    /// repeat: it sets absolute values. Returns the task ID.
    pub async fn modify_listener(&self, listener: &Owned, params: &Value) -> Result<String, Error> {
        let mut params = params.clone();
        if let Some(map) = params.as_object_mut() {
            map.insert("LoadBalancerId".into(), json!(listener.instance()));
            map.insert("ListenerId".into(), json!(listener.as_str()));
        }
        Ok(self.api.call("ModifyListener", &params, true).await?.request_id)
    }

    /// `DeleteListener` of one listener proven to be on this load
    /// balancer. Never called without an ID: the batch action deletes
    /// every listener of the instance when its ID list is left out, so
    /// this adapter only ever uses the single-ID one, and an [`Owned`]
    /// never holds a blank ID (the check refuses it before any call).
    /// Safe to repeat. Returns the task ID.
    pub async fn delete_listener(&self, listener: &Owned) -> Result<String, Error> {
        let listener_id = listener.as_str();
        let params = json!({ "LoadBalancerId": listener.instance(), "ListenerId": listener_id });
        Ok(self.api.call("DeleteListener", &params, true).await?.request_id)
    }

    /// `CreateRule` on a listener proven to be on this load balancer: the
    /// `rules` (each `Domain`, `Url`, ...) in one call. Not repeated after a
    /// lost answer (a repeat answers the domain+URL pair as a duplicate);
    /// the caller reads the rules back instead. Returns the task ID and the
    /// `LocationIds`.
    pub async fn create_rules(&self, listener: &Owned, rules: &[Value]) -> Result<(String, Vec<String>), Error> {
        let params = json!({
            "LoadBalancerId": listener.instance(),
            "ListenerId": listener.as_str(),
            "Rules": rules,
        });
        let answer = self.api.call("CreateRule", &params, false).await?;
        Ok((answer.request_id, array_of_strings(answer.body.get("LocationIds"))))
    }

    /// `ModifyRule` of a rule proven to be on the listener. Safe to repeat
    /// (absolute values). Returns the task ID.
    pub async fn modify_rule(&self, listener: &Owned, rule: &OwnedPart, params: &Value) -> Result<String, Error> {
        let mut params = params.clone();
        if let Some(map) = params.as_object_mut() {
            map.insert("LoadBalancerId".into(), json!(listener.instance()));
            map.insert("ListenerId".into(), json!(listener.as_str()));
            map.insert("LocationId".into(), json!(rule.as_str()));
        }
        Ok(self.api.call("ModifyRule", &params, true).await?.request_id)
    }

    /// `DeleteRule` of rules proven to be on the listener, always by
    /// `LocationIds` (never empty: the proofs hold non-blank IDs). Safe to
    /// repeat. Returns the task ID.
    pub async fn delete_rules(&self, listener: &Owned, rules: &[OwnedPart]) -> Result<String, Error> {
        if rules.is_empty() {
            return Err(Error::Config {
                field: "LocationIds".into(),
                message: "refusing a DeleteRule without rule IDs".into(),
            });
        }
        let ids: Vec<&str> = rules.iter().map(OwnedPart::as_str).collect();
        let params = json!({
            "LoadBalancerId": listener.instance(),
            "ListenerId": listener.as_str(),
            "LocationIds": ids,
        });
        Ok(self.api.call("DeleteRule", &params, true).await?.request_id)
    }

    /// `RegisterTargets` (`deregister` false) or `DeregisterTargets` on a
    /// rule proven to be on the listener: at most [`MAX_TARGETS_PER_CALL`]
    /// targets (`EniIp`, `Port`, `Weight`). Registering is not repeated
    /// after a lost answer (a repeat is a duplicate); deregistering is.
    /// Returns the task ID.
    pub async fn targets(
        &self,
        listener: &Owned,
        rule: &OwnedPart,
        targets: &[Value],
        deregister: bool,
    ) -> Result<String, Error> {
        if targets.is_empty() || targets.len() > MAX_TARGETS_PER_CALL {
            return Err(Error::Config {
                field: "Targets".into(),
                message: format!("1 to {MAX_TARGETS_PER_CALL} targets per call, got {}", targets.len()),
            });
        }
        let params = json!({
            "LoadBalancerId": listener.instance(),
            "ListenerId": listener.as_str(),
            "LocationId": rule.as_str(),
            "Targets": targets,
        });
        let action = if deregister {
            "DeregisterTargets"
        } else {
            "RegisterTargets"
        };
        Ok(self.api.call(action, &params, deregister).await?.request_id)
    }

    /// `RegisterTargets` / `DeregisterTargets` on a layer-4 listener
    /// (TCP, UDP, TCP_SSL, QUIC) proven to be on this load balancer: the
    /// targets bind to the listener itself, without `LocationId`. Same
    /// limits and repeat rules as [`ClbClient::targets`].
    pub async fn listener_targets(
        &self,
        listener: &Owned,
        targets: &[Value],
        deregister: bool,
    ) -> Result<String, Error> {
        if targets.is_empty() || targets.len() > MAX_TARGETS_PER_CALL {
            return Err(Error::Config {
                field: "Targets".into(),
                message: format!("1 to {MAX_TARGETS_PER_CALL} targets per call, got {}", targets.len()),
            });
        }
        let params = json!({
            "LoadBalancerId": listener.instance(),
            "ListenerId": listener.as_str(),
            "Targets": targets,
        });
        let action = if deregister {
            "DeregisterTargets"
        } else {
            "RegisterTargets"
        };
        Ok(self.api.call(action, &params, deregister).await?.request_id)
    }

    /// `ModifyDomainAttributes` of `domain`, read back under a listener
    /// proven to be on this load balancer (a domain has no ID; the caller
    /// finds it among the listener's rules first). Safe to repeat:
    /// absolute values. Returns the task ID.
    pub async fn modify_domain(&self, listener: &Owned, domain: &str, params: &Value) -> Result<String, Error> {
        let mut params = params.clone();
        if let Some(map) = params.as_object_mut() {
            map.insert("LoadBalancerId".into(), json!(listener.instance()));
            map.insert("ListenerId".into(), json!(listener.as_str()));
            map.insert("Domain".into(), json!(domain));
        }
        Ok(self.api.call("ModifyDomainAttributes", &params, true).await?.request_id)
    }

    /// `DescribeTargets` of one listener of this load balancer: its record
    /// with `Rules[].Targets` (HTTP/HTTPS), or `None` when the vendor does
    /// not report it.
    pub async fn describe_targets(&self, listener_id: &str) -> Result<Option<Value>, Error> {
        let params = json!({ "LoadBalancerId": self.load_balancer_id, "ListenerIds": [listener_id] });
        let answer = self.api.call("DescribeTargets", &params, true).await?;
        Ok(answer
            .body
            .get("Listeners")
            .and_then(Value::as_array)
            .and_then(|a| {
                a.iter()
                    .find(|l| l.get("ListenerId").and_then(Value::as_str) == Some(listener_id))
            })
            .cloned())
    }

    /// `DescribeTaskStatus` of a task (a write's `RequestId`).
    pub async fn describe_task_status(&self, task_id: &str) -> Result<Value, Error> {
        let answer = self
            .api
            .call("DescribeTaskStatus", &json!({ "TaskId": task_id }), true)
            .await?;
        Ok(answer.body)
    }

    /// The vendor name errors carry.
    pub fn vendor(&self) -> &'static str {
        API
    }
}
