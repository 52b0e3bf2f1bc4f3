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
}
