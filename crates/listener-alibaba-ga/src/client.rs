//! GA's listener actions on top of the shared Alibaba RPC client.
//!
//! The RPC client signs, flattens, rate-limits, maps error codes and retries
//! within its policy; this layer knows GA's action names, which parameters
//! each action takes (`RegionId` everywhere except DeleteListener), how its
//! answers are shaped, and that a write must keep its `ClientToken` for as
//! long as it is being retried. Busy answers (`StateError.Accelerator`: GA
//! changes one listener of an accelerator at a time) can last longer than
//! the client's own retry bounds, so writes ask the family client to repeat
//! them, with the same token, until the profile's wait deadline
//! ([`CallOptions::until`]); it is the family client's one retry loop and
//! the shared policy ([`listener_core::retry`]: predicate, `retry_after`,
//! the process-wide retry budget, logging).

use alibaba_api::{AlibabaClient, CallOptions, ClientToken};
use listener_core::ownership::OwnedPart;
use listener_core::{Deadline, Error, Owned};
use serde_json::{json, Value};

use crate::translate::REGION;
use crate::API;

/// Listeners per ListListeners page: GA's maximum.
pub const PAGE_SIZE: u32 = 50;

/// GA's listener actions for one client.
#[derive(Debug, Clone)]
pub struct GaClient {
    api: AlibabaClient,
}

fn answer_field(body: &Value, key: &str, action: &str) -> Result<String, Error> {
    body.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| Error::Transport {
            vendor: API,
            message: format!("GA answered {action} without `{key}`"),
            maybe_applied: true,
        })
}

impl GaClient {
    /// Wrap a client built for GA (product `ga`, version `2019-11-20`).
    pub fn new(api: AlibabaClient) -> Self {
        GaClient { api }
    }

    /// The underlying RPC client (stats, endpoint).
    pub fn api(&self) -> &AlibabaClient {
        &self.api
    }

    /// A token for one new logical write, made before its first attempt.
    pub fn new_token(&self) -> ClientToken {
        self.api.new_client_token()
    }

    /// Send a write with its token, re-sending the same token while GA is
    /// busy, throttling, or the answer is lost, until the operation's
    /// deadline (the one its wait then goes on under).
    ///
    /// Safe because of the token: GA returns the first result for a repeat
    /// with the same token and parameters instead of acting again.
    pub async fn write(
        &self,
        action: &str,
        params: &Value,
        token: &ClientToken,
        deadline: &Deadline,
    ) -> Result<Value, Error> {
        // The token makes every repeat safe; the wait is the profile's
        // poll interval, or the vendor's `retry_after` when it gave one.
        let opts = CallOptions::write(token.clone()).until(deadline);
        Ok(self.api.call(action, params, opts).await?.body)
    }

    /// CreateListener; returns the new `ListenerId`.
    pub async fn create_listener(
        &self,
        params: &Value,
        token: &ClientToken,
        deadline: &Deadline,
    ) -> Result<String, Error> {
        let body = self.write("CreateListener", params, token, deadline).await?;
        answer_field(&body, "ListenerId", "CreateListener")
    }

    /// UpdateListener with the parameters that change, on a listener
    /// proven to be on the bound accelerator (UpdateListener takes the ID
    /// alone); the proof's ID is the one sent.
    pub async fn update_listener(
        &self,
        listener: &Owned,
        params: &Value,
        token: &ClientToken,
        deadline: &Deadline,
    ) -> Result<(), Error> {
        let mut params = params.clone();
        if let Some(map) = params.as_object_mut() {
            map.insert("ListenerId".into(), json!(listener.as_str()));
        }
        self.write("UpdateListener", &params, token, deadline).await.map(|_| ())
    }

    /// DeleteListener of a listener proven to be on the bound accelerator.
    /// It takes the accelerator and no `RegionId`, unlike every other
    /// listener action.
    pub async fn delete_listener(
        &self,
        listener: &Owned,
        token: &ClientToken,
        deadline: &Deadline,
    ) -> Result<(), Error> {
        let params = json!({ "AcceleratorId": listener.instance(), "ListenerId": listener.as_str() });
        self.write("DeleteListener", &params, token, deadline).await.map(|_| ())
    }

    /// DescribeListener: the listener's full configuration and `State`.
    pub async fn describe_listener(&self, id: &str) -> Result<Value, Error> {
        let params = json!({ "RegionId": REGION, "ListenerId": id });
        Ok(self
            .api
            .call("DescribeListener", &params, CallOptions::read())
            .await?
            .body)
    }

    /// One page of ListListeners: the items and GA's `TotalCount`.
    pub async fn list_listeners_page(&self, accelerator: &str, page: u32) -> Result<(Vec<Value>, u64), Error> {
        let params = json!({
            "RegionId": REGION,
            "AcceleratorId": accelerator,
            "PageNumber": page,
            "PageSize": PAGE_SIZE,
        });
        let body = self.api.call("ListListeners", &params, CallOptions::read()).await?.body;
        let items = body
            .get("Listeners")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let total = match body.get("TotalCount") {
            Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
            Some(Value::String(s)) => s.trim().parse().unwrap_or(0),
            _ => 0,
        };
        Ok((items, total))
    }

    /// Every listener of the accelerator, all pages.
    pub async fn list_listeners(&self, accelerator: &str) -> Result<Vec<Value>, Error> {
        let mut all = Vec::new();
        let mut page = 1u32;
        loop {
            let (items, total) = self.list_listeners_page(accelerator, page).await?;
            let got = items.len();
            all.extend(items);
            // Stop on a short page or once the total is reached; the page
            // cap guards against a server that keeps answering full pages.
            if got < PAGE_SIZE as usize || all.len() as u64 >= total || page >= 10_000 {
                return Ok(all);
            }
            page += 1;
        }
    }

    /// A read of any GA action (lists and describes).
    pub async fn read(&self, action: &str, params: &Value) -> Result<Value, Error> {
        Ok(self.api.call(action, params, CallOptions::read()).await?.body)
    }

    /// Every endpoint group of `listener`, all pages.
    pub async fn list_endpoint_groups(&self, accelerator: &str, listener: &str) -> Result<Vec<Value>, Error> {
        let mut all = Vec::new();
        for page in 1..=1000u32 {
            let params = json!({
                "RegionId": REGION, "AcceleratorId": accelerator, "ListenerId": listener,
                "PageNumber": page, "PageSize": PAGE_SIZE,
            });
            let body = self.read("ListEndpointGroups", &params).await?;
            let items = body
                .get("EndpointGroups")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let got = items.len();
            all.extend(items);
            if got < PAGE_SIZE as usize {
                break;
            }
        }
        Ok(all)
    }

    /// Every forwarding rule of `listener`, all pages (`NextToken`).
    pub async fn list_forwarding_rules(&self, accelerator: &str, listener: &str) -> Result<Vec<Value>, Error> {
        let mut all = Vec::new();
        let mut next: Option<String> = None;
        for _ in 0..1000 {
            let mut params = json!({
                "RegionId": REGION, "AcceleratorId": accelerator, "ListenerId": listener, "MaxResults": 50,
            });
            if let Some(t) = &next {
                params["NextToken"] = json!(t);
            }
            let body = self.read("ListForwardingRules", &params).await?;
            all.extend(
                body.get("ForwardingRules")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
            );
            next = body
                .get("NextToken")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            if next.is_none() {
                break;
            }
        }
        Ok(all)
    }

    /// CreateEndpointGroup on a proven listener (`params` carry
    /// `ListenerId` and `AcceleratorId` of the proof); the new ID.
    pub async fn create_endpoint_group(
        &self,
        listener: &Owned,
        params: &Value,
        token: &ClientToken,
        deadline: &Deadline,
    ) -> Result<String, Error> {
        let mut params = params.clone();
        params["ListenerId"] = json!(listener.as_str());
        params["AcceleratorId"] = json!(listener.instance());
        let body = self.write("CreateEndpointGroup", &params, token, deadline).await?;
        answer_field(&body, "EndpointGroupId", "CreateEndpointGroup")
    }

    /// UpdateEndpointGroup of a group proven to be on an owned listener.
    pub async fn update_endpoint_group(
        &self,
        group: &OwnedPart,
        fields: &serde_json::Map<String, Value>,
        token: &ClientToken,
        deadline: &Deadline,
    ) -> Result<(), Error> {
        let mut params = Value::Object(fields.clone());
        params["RegionId"] = json!(REGION);
        params["EndpointGroupId"] = json!(group.as_str());
        self.write("UpdateEndpointGroup", &params, token, deadline)
            .await
            .map(drop)
    }

    /// DeleteEndpointGroup of a group proven to be on `listener`.
    pub async fn delete_endpoint_group(
        &self,
        listener: &Owned,
        group: &OwnedPart,
        token: &ClientToken,
        deadline: &Deadline,
    ) -> Result<(), Error> {
        let params = json!({ "AcceleratorId": listener.instance(), "EndpointGroupId": group.as_str() });
        self.write("DeleteEndpointGroup", &params, token, deadline)
            .await
            .map(drop)
    }

    /// CreateForwardingRules on a proven listener; the new IDs in order.
    pub async fn create_forwarding_rules(
        &self,
        listener: &Owned,
        rules: &[Value],
        token: &ClientToken,
        deadline: &Deadline,
    ) -> Result<Vec<String>, Error> {
        let params = json!({
            "RegionId": REGION, "AcceleratorId": listener.instance(), "ListenerId": listener.as_str(),
            "ForwardingRules": rules,
        });
        let body = self.write("CreateForwardingRules", &params, token, deadline).await?;
        Ok(body
            .get("ForwardingRules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| r.get("ForwardingRuleId").and_then(Value::as_str))
            .map(str::to_string)
            .collect())
    }

    /// UpdateForwardingRules of rules on a proven listener (each item
    /// names a rule the caller proved; see `rules`).
    pub async fn update_forwarding_rules(
        &self,
        listener: &Owned,
        items: &[Value],
        token: &ClientToken,
        deadline: &Deadline,
    ) -> Result<(), Error> {
        let params = json!({
            "RegionId": REGION, "AcceleratorId": listener.instance(), "ListenerId": listener.as_str(),
            "ForwardingRules": items,
        });
        self.write("UpdateForwardingRules", &params, token, deadline)
            .await
            .map(drop)
    }

    /// DeleteForwardingRules of rules proven to be on `listener`.
    pub async fn delete_forwarding_rules(
        &self,
        listener: &Owned,
        rules: &[OwnedPart],
        token: &ClientToken,
        deadline: &Deadline,
    ) -> Result<(), Error> {
        let ids: Vec<&str> = rules.iter().map(OwnedPart::as_str).collect();
        let params = json!({
            "RegionId": REGION, "AcceleratorId": listener.instance(), "ListenerId": listener.as_str(),
            "ForwardingRuleIds": ids,
        });
        self.write("DeleteForwardingRules", &params, token, deadline)
            .await
            .map(drop)
    }

    /// The additional certificates of a listener: domain → certificate ID.
    pub async fn additional_certificates(
        &self,
        accelerator: &str,
        listener: &str,
    ) -> Result<std::collections::BTreeMap<String, String>, Error> {
        let mut out = std::collections::BTreeMap::new();
        let mut next: Option<String> = None;
        for _ in 0..1000 {
            let mut params = json!({
                "RegionId": REGION, "AcceleratorId": accelerator, "ListenerId": listener,
                "Role": "additional", "MaxResults": 50,
            });
            if let Some(t) = &next {
                params["NextToken"] = json!(t);
            }
            let body = self.read("ListListenerCertificates", &params).await?;
            for c in body.get("Certificates").and_then(Value::as_array).into_iter().flatten() {
                let default = c.get("IsDefault").and_then(Value::as_bool).unwrap_or(false);
                if let (false, Some(d), Some(id)) = (
                    default,
                    c.get("Domain").and_then(Value::as_str),
                    c.get("CertificateId").and_then(Value::as_str),
                ) {
                    out.insert(d.to_ascii_lowercase(), id.to_string());
                }
            }
            next = body
                .get("NextToken")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            if next.is_none() {
                break;
            }
        }
        Ok(out)
    }

    /// AssociateAdditionalCertificatesWithListener: `(domain, id)` pairs,
    /// at most [`CERTIFICATES_PER_CALL`].
    pub async fn associate_certificates(
        &self,
        listener: &Owned,
        pairs: &[(String, String)],
        token: &ClientToken,
        deadline: &Deadline,
    ) -> Result<(), Error> {
        let certs: Vec<Value> = pairs.iter().map(|(d, id)| json!({ "Domain": d, "Id": id })).collect();
        let params = json!({
            "RegionId": REGION, "AcceleratorId": listener.instance(), "ListenerId": listener.as_str(),
            "Certificates": certs,
        });
        self.write("AssociateAdditionalCertificatesWithListener", &params, token, deadline)
            .await
            .map(drop)
    }

    /// UpdateAdditionalCertificateWithListener: another certificate for
    /// one domain, in place.
    pub async fn update_certificate(
        &self,
        listener: &Owned,
        domain: &str,
        certificate: &str,
        token: &ClientToken,
        deadline: &Deadline,
    ) -> Result<(), Error> {
        let params = json!({
            "RegionId": REGION, "AcceleratorId": listener.instance(), "ListenerId": listener.as_str(),
            "Domain": domain, "CertificateId": certificate,
        });
        self.write("UpdateAdditionalCertificateWithListener", &params, token, deadline)
            .await
            .map(drop)
    }

    /// DissociateAdditionalCertificatesFromListener of `domains` (at most
    /// [`CERTIFICATES_PER_CALL`]): the current Python SDK's name (3.0.2);
    /// the Java SDK also has `…WithListener`, which the emulator takes too.
    pub async fn dissociate_certificates(
        &self,
        listener: &Owned,
        domains: &[String],
        token: &ClientToken,
        deadline: &Deadline,
    ) -> Result<(), Error> {
        let params = json!({
            "RegionId": REGION, "AcceleratorId": listener.instance(), "ListenerId": listener.as_str(),
            "Domains": domains,
        });
        self.write("DissociateAdditionalCertificatesFromListener", &params, token, deadline)
            .await
            .map(drop)
    }
}

/// Certificates or domains one certificate call takes (SDK model: "up to
/// 10 per request").
pub const CERTIFICATES_PER_CALL: usize = 10;

/// A GA answer the adapter cannot use.
pub fn unexpected(message: &str) -> Error {
    Error::Transport {
        vendor: API,
        message: format!("GA answered unexpectedly: {message}"),
        maybe_applied: false,
    }
}
