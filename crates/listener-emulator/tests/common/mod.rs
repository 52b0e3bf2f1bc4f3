//! Shared pieces of the emulator's integration tests: a tiny service per
//! family that counts the listeners it creates, and clients that sign
//! requests with the same signer crates the real adapters use.
#![allow(dead_code)] // each test file uses a different subset

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use listener_emulator::{
    ApiError, Call, Context, Emulator, EmulatorBuilder, EmulatorHandle, Family, InstanceSeed, RateLimits, Service,
};
use serde_json::{json, Value};

pub const TC_NAME: &str = "tcounter";
pub const TC_VERSION: &str = "2099-01-01";
pub const TC_API: &str = "tencent-tcounter";
pub const ALI_NAME: &str = "acounter";
pub const ALI_VERSION: &str = "2099-02-02";
pub const ALI_API: &str = "alibaba-acounter";

pub const TC_ID: &str = "AKIDtestemulator";
pub const TC_KEY: &str = "tencent-test-key";
pub const ALI_ID: &str = "LTAItestemulator";
pub const ALI_SECRET: &str = "alibaba-test-secret";

struct Listener {
    id: String,
    created: Instant,
    task_fails: bool,
}

/// A service that creates listeners on seeded instances and reports them.
/// Enough behaviour to observe whether a call acted, and whether its task
/// was told to fail.
pub struct Counter {
    family: Family,
    name: &'static str,
    version: &'static str,
    state: Mutex<BTreeMap<String, Vec<Listener>>>,
    next_id: Mutex<u64>,
}

impl Counter {
    pub fn new(family: Family) -> Arc<Self> {
        let (name, version) = match family {
            Family::Tencent => (TC_NAME, TC_VERSION),
            Family::Alibaba => (ALI_NAME, ALI_VERSION),
        };
        Arc::new(Counter {
            family,
            name,
            version,
            state: Mutex::new(BTreeMap::new()),
            next_id: Mutex::new(0),
        })
    }
}

fn instance_param(call: &Call) -> Result<String, ApiError> {
    call.params
        .get("InstanceId")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| ApiError::missing_parameter("InstanceId"))
}

impl Service for Counter {
    fn family(&self) -> Family {
        self.family
    }

    fn version(&self) -> &'static str {
        self.version
    }

    fn name(&self) -> &'static str {
        self.name
    }

    fn seed(&self, instance: InstanceSeed) {
        self.state.lock().unwrap().entry(instance.id).or_default();
    }

    fn handle(&self, ctx: &mut dyn Context, call: &Call) -> Result<Value, ApiError> {
        match call.action.as_str() {
            "CreateListener" => {
                let instance = instance_param(call)?;
                let mut state = self.state.lock().unwrap();
                let listeners = state.get_mut(&instance).ok_or_else(|| {
                    ApiError::new("ResourceNotFound", format!("instance {instance} not found")).status(404)
                })?;
                let mut next = self.next_id.lock().unwrap();
                *next += 1;
                let id = format!("lsn-{next}");
                listeners.push(Listener {
                    id: id.clone(),
                    created: call.now,
                    task_fails: ctx.fail_task(),
                });
                Ok(json!({ "ListenerId": id }))
            }
            "DescribeListeners" => {
                let instance = instance_param(call)?;
                let state = self.state.lock().unwrap();
                let listeners = state.get(&instance).map(Vec::as_slice).unwrap_or(&[]);
                let create = ctx.timing().create;
                let items: Vec<Value> = listeners
                    .iter()
                    .map(|l| {
                        let status = if l.task_fails {
                            "FAILED"
                        } else if call.now.duration_since(l.created) >= create {
                            "RUNNING"
                        } else {
                            "CREATING"
                        };
                        json!({ "ListenerId": l.id, "Status": status })
                    })
                    .collect();
                Ok(json!({ "Listeners": items, "TotalCount": items.len() }))
            }
            "Echo" => Ok(json!({
                "Action": call.action,
                "Params": call.params,
                "Flat": call.flat,
                "Region": call.region,
                "SeenRequestId": call.request_id,
            })),
            "Panic" => panic!("test service asked to panic"),
            "NotAnObject" => Ok(json!(["not", "an", "object"])),
            other => Err(ApiError::unknown_action(self.family, other)),
        }
    }

    fn listener_counts(&self) -> BTreeMap<String, usize> {
        self.state
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.len()))
            .collect()
    }
}

/// A builder hosting only the two test services, with test credentials,
/// one seeded instance each (`ins-1`) and rate limits off.
pub fn builder() -> EmulatorBuilder {
    Emulator::builder()
        .without_services()
        .with_service(Counter::new(Family::Tencent))
        .with_service(Counter::new(Family::Alibaba))
        .tencent_credentials(TC_ID, TC_KEY)
        .alibaba_credentials(ALI_ID, ALI_SECRET)
        .rate_limits(RateLimits::disabled())
        .seed(
            TC_NAME,
            InstanceSeed {
                id: "ins-1".into(),
                server_groups: vec![],
            },
        )
        .seed(
            ALI_API,
            InstanceSeed {
                id: "ins-1".into(),
                server_groups: vec![],
            },
        )
}

pub async fn start() -> EmulatorHandle {
    builder().start().await.expect("emulator starts")
}

/// A client that opens a fresh connection per request (so a dropped
/// connection affects exactly one call), never uses a proxy, and gives up
/// after a bounded time.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client builds")
}

pub fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// One Tencent call, signed like the SDK unless a field says otherwise.
#[derive(Clone)]
pub struct TencentCall {
    pub action: String,
    pub version: String,
    pub body: String,
    pub secret_id: String,
    pub secret_key: String,
    /// Service named in the credential scope.
    pub scope_service: String,
    /// Seconds added to the current time for `X-TC-Timestamp`.
    pub clock_offset: i64,
    /// Also sign `x-tc-action` (newer documentation revision).
    pub sign_action: bool,
    /// Replace the computed signature with this text.
    pub forged_signature: Option<String>,
    pub region: Option<String>,
    /// Send no Authorization header at all.
    pub unsigned: bool,
    /// The `Content-Type` sent and signed.
    pub content_type: String,
}

impl TencentCall {
    pub fn new(action: &str, body: Value) -> Self {
        TencentCall {
            action: action.into(),
            version: TC_VERSION.into(),
            body: body.to_string(),
            secret_id: TC_ID.into(),
            secret_key: TC_KEY.into(),
            scope_service: TC_NAME.into(),
            clock_offset: 0,
            sign_action: false,
            forged_signature: None,
            region: None,
            unsigned: false,
            content_type: "application/json".into(),
        }
    }

    pub async fn send(&self, em: &EmulatorHandle) -> reqwest::Result<reqwest::Response> {
        self.send_to(em.addr()).await
    }

    /// Sends to an address, for calls made from a task that does not hold
    /// the handle.
    pub async fn send_to(&self, addr: SocketAddr) -> reqwest::Result<reqwest::Response> {
        let host = addr.to_string();
        let timestamp = unix_now() + self.clock_offset;
        let content_type = self.content_type.as_str();
        let mut signed: Vec<(&str, &str)> = vec![("content-type", content_type), ("host", &host)];
        if self.sign_action {
            signed.push(("x-tc-action", &self.action));
        }
        let input = tencent_api::sign::SignInput {
            method: "POST",
            path: "/",
            query: "",
            headers: &signed,
            payload: self.body.as_bytes(),
            service: &self.scope_service,
            timestamp,
        };
        let result = tencent_api::sign::sign(&input, &self.secret_id, &self.secret_key);
        let authorization = match &self.forged_signature {
            Some(forged) => result.authorization.replace(&result.signature, forged),
            None => result.authorization,
        };
        let mut request = client()
            .post(format!("http://{host}/"))
            .header("content-type", content_type)
            .header("x-tc-action", &self.action)
            .header("x-tc-version", &self.version)
            .header("x-tc-timestamp", timestamp.to_string())
            .body(self.body.clone());
        if !self.unsigned {
            request = request.header("authorization", authorization);
        }
        if let Some(region) = &self.region {
            request = request.header("x-tc-region", region);
        }
        request.send().await
    }
}

/// One Alibaba RPC call, signed like the SDK unless a field says otherwise.
#[derive(Clone)]
pub struct AlibabaCall {
    pub action: String,
    pub version: String,
    pub query: Vec<(String, String)>,
    /// Form-encoded body parameters (sent with the form content type).
    pub form: Vec<(String, String)>,
    pub access_key_id: String,
    pub access_key_secret: String,
    pub nonce: String,
    /// Seconds added to the current time for `x-acs-date`.
    pub clock_offset: i64,
    /// Claimed `x-acs-content-sha256`; by default the real hash.
    pub claimed_hash: Option<String>,
    pub security_token: Option<String>,
    pub forged_signature: Option<String>,
}

impl AlibabaCall {
    pub fn new(action: &str, query: &[(&str, &str)]) -> Self {
        AlibabaCall {
            action: action.into(),
            version: ALI_VERSION.into(),
            query: query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            form: Vec::new(),
            access_key_id: ALI_ID.into(),
            access_key_secret: ALI_SECRET.into(),
            nonce: uuid::Uuid::new_v4().simple().to_string(),
            clock_offset: 0,
            claimed_hash: None,
            security_token: None,
            forged_signature: None,
        }
    }

    pub async fn send(&self, em: &EmulatorHandle) -> reqwest::Result<reqwest::Response> {
        let host = em.addr().to_string();
        let date = time::OffsetDateTime::from_unix_timestamp(unix_now() + self.clock_offset).unwrap();
        let date = date
            .format(time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
            ))
            .unwrap();
        let body = if self.form.is_empty() {
            String::new()
        } else {
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(self.form.iter())
                .finish()
        };
        let hash = self
            .claimed_hash
            .clone()
            .unwrap_or_else(|| alibaba_api::sign::payload_hash(body.as_bytes()));
        let content_type = "application/x-www-form-urlencoded";
        let mut signed: Vec<(&str, &str)> = vec![
            ("host", &host),
            ("x-acs-action", &self.action),
            ("x-acs-version", &self.version),
            ("x-acs-date", &date),
            ("x-acs-signature-nonce", &self.nonce),
            ("x-acs-content-sha256", &hash),
        ];
        if let Some(token) = &self.security_token {
            signed.push(("x-acs-security-token", token));
        }
        if !self.form.is_empty() {
            signed.push(("content-type", content_type));
        }
        let input = alibaba_api::sign::SignInput {
            method: "POST",
            path: "/",
            query: &self.query,
            headers: &signed,
            payload: body.as_bytes(),
        };
        let result = alibaba_api::sign::sign(&input, &self.access_key_id, &self.access_key_secret);
        let authorization = match &self.forged_signature {
            Some(forged) => result.authorization.replace(&result.signature, forged),
            None => result.authorization,
        };
        let url = if result.canonical_query.is_empty() {
            format!("{}/", em.url())
        } else {
            format!("{}/?{}", em.url(), result.canonical_query)
        };
        let mut request = client()
            .post(url)
            .header("x-acs-action", &self.action)
            .header("x-acs-version", &self.version)
            .header("x-acs-date", &date)
            .header("x-acs-signature-nonce", &self.nonce)
            .header("x-acs-content-sha256", &hash)
            .header("accept", "application/json")
            .header("authorization", authorization)
            .body(body);
        if let Some(token) = &self.security_token {
            request = request.header("x-acs-security-token", token);
        }
        if !self.form.is_empty() {
            request = request.header("content-type", content_type);
        }
        request.send().await
    }
}

/// The `Response` object of a Tencent answer, after checking it is the
/// HTTP 200 envelope every Tencent answer uses.
pub async fn tencent_response(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 200, "Tencent answers are always HTTP 200");
    let body: Value = response.json().await.expect("JSON envelope");
    body.get("Response").cloned().expect("Response object")
}

/// The error code of a Tencent answer, or `None` on success.
pub async fn tencent_code(response: reqwest::Response) -> Option<String> {
    let r = tencent_response(response).await;
    assert!(r["RequestId"].is_string(), "every answer has a RequestId: {r}");
    r.get("Error").map(|e| e["Code"].as_str().unwrap().to_string())
}

/// Status and body of an Alibaba answer.
pub async fn alibaba_answer(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("JSON answer");
    assert!(body["RequestId"].is_string(), "every answer has a RequestId: {body}");
    (status, body)
}

pub fn created_on(em: &EmulatorHandle, api: &str) -> usize {
    em.listener_counts()
        .get(api)
        .and_then(|m| m.get("ins-1"))
        .copied()
        .unwrap_or(0)
}
