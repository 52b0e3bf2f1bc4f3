//! The two families' answer shapes.
//!
//! Clients decode answers by family, not by service, so one renderer per
//! family keeps the four services honest: a service returns data or an
//! [`ApiError`] and never writes HTTP.
//!
//! - Tencent: always HTTP 200, `{"Response": {...fields, "RequestId"}}`;
//!   an error puts `{"Code", "Message"}` under `Response.Error`. A non-200
//!   status only ever means a gateway fault, and then there is no envelope.
//! - Alibaba: success is HTTP 200 with the fields and `RequestId` at the top
//!   level; an error uses its own HTTP status and carries `Code`, `Message`,
//!   `RequestId`, `HostId` and `Recommend`. Throttling adds the header
//!   `x-acs-retry-after` (milliseconds).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Response, StatusCode};
use serde_json::{json, Map, Value};

use crate::service::{ApiError, Family};

/// The response body type of the whole server.
pub(crate) type Body = Full<Bytes>;

/// Header an Alibaba client reads to learn how long to back off.
pub(crate) const RETRY_AFTER_HEADER: &str = "x-acs-retry-after";

/// What every answer of one call needs to know besides its content.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Meta<'a> {
    pub(crate) family: Family,
    pub(crate) request_id: &'a str,
    /// The `Host` the client sent, echoed as Alibaba's `HostId`.
    pub(crate) host: &'a str,
    /// The service name (`alb`, `ga`), for Alibaba's `Recommend` link.
    pub(crate) product: &'a str,
}

fn json_response(status: StatusCode, content_type: &'static str, body: &Value) -> Response<Body> {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = Response::new(Full::new(Bytes::from(bytes)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

const TENCENT_JSON: &str = "application/json";
const ALIBABA_JSON: &str = "application/json;charset=utf-8";

/// A success answer. `fields` must be a JSON object (or null for "no
/// fields"); anything else is a service bug and becomes `InternalError`.
pub(crate) fn success(meta: &Meta<'_>, fields: Value) -> Response<Body> {
    let mut map = match fields {
        Value::Object(map) => map,
        Value::Null => Map::new(),
        other => {
            let kind = match other {
                Value::Array(_) => "an array",
                Value::String(_) => "a string",
                Value::Number(_) => "a number",
                _ => "a boolean",
            };
            let err = ApiError::internal(format!("The emulated service answered {kind} instead of an object."));
            return error(meta, &err, None);
        }
    };
    map.insert("RequestId".into(), Value::String(meta.request_id.into()));
    match meta.family {
        Family::Tencent => json_response(StatusCode::OK, TENCENT_JSON, &json!({ "Response": Value::Object(map) })),
        Family::Alibaba => json_response(StatusCode::OK, ALIBABA_JSON, &Value::Object(map)),
    }
}

/// An error answer in the family's envelope; `retry_after` adds Alibaba's
/// back-off header (ignored for Tencent, whose clients back off by code).
pub(crate) fn error(meta: &Meta<'_>, err: &ApiError, retry_after: Option<Duration>) -> Response<Body> {
    match meta.family {
        Family::Tencent => json_response(
            StatusCode::OK,
            TENCENT_JSON,
            &json!({
                "Response": {
                    "Error": { "Code": err.code, "Message": err.message },
                    "RequestId": meta.request_id,
                }
            }),
        ),
        Family::Alibaba => {
            let status = StatusCode::from_u16(err.http_status)
                .ok()
                .filter(|s| s.is_client_error() || s.is_server_error())
                .unwrap_or(StatusCode::BAD_REQUEST);
            let mut response = json_response(
                status,
                ALIBABA_JSON,
                &json!({
                    "RequestId": meta.request_id,
                    "HostId": meta.host,
                    "Code": err.code,
                    "Message": err.message,
                    "Recommend": recommend_link(meta, &err.code),
                }),
            );
            if let Some(wait) = retry_after {
                let ms = wait.as_millis().max(1).to_string();
                if let Ok(value) = HeaderValue::from_str(&ms) {
                    response.headers_mut().insert(RETRY_AFTER_HEADER, value);
                }
            }
            response
        }
    }
}

/// Alibaba answers a troubleshooting link built from product, code and
/// request id; the emulator builds one of the same shape.
fn recommend_link(meta: &Meta<'_>, code: &str) -> String {
    let mut product = meta.product.to_string();
    if let Some(first) = product.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("q", code)
        .append_pair("product", &product)
        .append_pair("requestId", meta.request_id)
        .finish();
    format!("https://api.aliyun.com/troubleshoot?{query}")
}

/// The family's throttling error: Tencent `RequestLimitExceeded`, Alibaba
/// `Throttling.User` (HTTP 400; the caller adds `x-acs-retry-after`).
pub(crate) fn throttling_error(family: Family) -> ApiError {
    match family {
        Family::Tencent => ApiError::new(
            "RequestLimitExceeded",
            "The request rate of this action exceeds the limit; retry later.",
        ),
        Family::Alibaba => ApiError::new(
            "Throttling.User",
            "The request was denied because of flow control; retry after the time in x-acs-retry-after.",
        ),
    }
}

/// A server failure as the client sees it: Tencent's gateway answers 502
/// with an HTML page and no envelope (its SDKs call that a network error);
/// Alibaba answers 503 `ServiceUnavailable` in its error envelope.
pub(crate) fn server_failure(meta: &Meta<'_>) -> Response<Body> {
    match meta.family {
        Family::Tencent => {
            let page = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n\
                        <body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n";
            let mut response = Response::new(Full::new(Bytes::from_static(page.as_bytes())));
            *response.status_mut() = StatusCode::BAD_GATEWAY;
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
            response
        }
        Family::Alibaba => error(
            meta,
            &ApiError::new(
                "ServiceUnavailable",
                "The request has failed due to a temporary failure of the server.",
            )
            .status(503),
            None,
        ),
    }
}

/// An answer to something that is not an API call of either family (wrong
/// path, no family headers): plain JSON, since no envelope applies.
pub(crate) fn plain(status: StatusCode, message: &str) -> Response<Body> {
    json_response(status, TENCENT_JSON, &json!({ "error": message }))
}

/// A JSON answer of the admin surface.
pub(crate) fn admin_json(status: StatusCode, body: &Value) -> Response<Body> {
    json_response(status, TENCENT_JSON, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    fn meta(family: Family) -> Meta<'static> {
        Meta {
            family,
            request_id: "req-1",
            host: "127.0.0.1:9",
            product: "alb",
        }
    }

    async fn body_json(response: Response<Body>) -> Value {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn tencent_success_wraps_fields_in_response() {
        let r = success(&meta(Family::Tencent), json!({"ListenerId": "listener-1"}));
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            body_json(r).await,
            json!({"Response": {"ListenerId": "listener-1", "RequestId": "req-1"}})
        );
    }

    #[tokio::test]
    async fn tencent_error_is_http_200_with_error_object() {
        let err = ApiError::new("InvalidParameter", "bad").status(404);
        let r = error(&meta(Family::Tencent), &err, Some(Duration::from_secs(1)));
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers().get(RETRY_AFTER_HEADER).is_none());
        let v = body_json(r).await;
        assert_eq!(v["Response"]["Error"]["Code"], "InvalidParameter");
        assert_eq!(v["Response"]["RequestId"], "req-1");
    }

    #[tokio::test]
    async fn alibaba_error_uses_its_status_and_retry_after() {
        let err = throttling_error(Family::Alibaba);
        let r = error(&meta(Family::Alibaba), &err, Some(Duration::from_millis(250)));
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(r.headers()[RETRY_AFTER_HEADER], "250");
        let v = body_json(r).await;
        assert_eq!(v["Code"], "Throttling.User");
        assert_eq!(v["HostId"], "127.0.0.1:9");
        assert_eq!(v["RequestId"], "req-1");
        assert!(v["Recommend"].as_str().unwrap().contains("product=Alb"));
    }

    #[tokio::test]
    async fn alibaba_success_is_flat() {
        let r = success(&meta(Family::Alibaba), json!({"JobId": "j"}));
        assert_eq!(body_json(r).await, json!({"JobId": "j", "RequestId": "req-1"}));
    }

    #[tokio::test]
    async fn non_object_service_answer_becomes_internal_error() {
        let r = success(&meta(Family::Alibaba), json!([1, 2]));
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body_json(r).await["Code"], "InternalError");
    }

    #[tokio::test]
    async fn server_failure_differs_by_family() {
        let t = server_failure(&meta(Family::Tencent));
        assert_eq!(t.status(), StatusCode::BAD_GATEWAY);
        let a = server_failure(&meta(Family::Alibaba));
        assert_eq!(a.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body_json(a).await["Code"], "ServiceUnavailable");
    }
}
