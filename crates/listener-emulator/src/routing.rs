//! From an HTTP request to a routed [`Call`].
//!
//! All four APIs share one port, as they share one emulator process in CI,
//! so the request itself must say where it goes: the family by its header
//! prefix (`X-TC-*` or `x-acs-*`), the service by the API version, which is
//! unique per service (GAAP `2018-05-29`, CLB `2018-03-17`, ALB
//! `2020-06-16`, GA `2019-11-20`). Host names play no part, so clients can
//! point every endpoint at the same `http://127.0.0.1:PORT`.

use std::collections::BTreeMap;
use std::sync::Arc;

use hyper::HeaderMap;
use serde_json::Value;

use crate::service::{ApiError, Family, Service};

/// Reads a header as text; a non-UTF-8 value counts as absent.
pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Which family a request claims to be, from its headers; `None` for a
/// request that is neither (answered outside any envelope).
///
/// An Alibaba RPC request may also carry its action and version only as
/// the `Action` and `Version` query parameters (the legacy signature, as
/// older SDKs and tools send it), so `query` (decoded pairs) counts too.
pub(crate) fn detect_family(headers: &HeaderMap, query: &[(String, String)]) -> Option<Family> {
    let has = |name: &str| headers.contains_key(name);
    let auth = header(headers, "authorization").unwrap_or("");
    let in_query = |name: &str| query.iter().any(|(k, _)| k == name);
    if has("x-tc-action") || has("x-tc-version") || auth.starts_with("TC3-") {
        Some(Family::Tencent)
    } else if has("x-acs-action")
        || has("x-acs-version")
        || auth.starts_with("ACS3-")
        || (in_query("Action") && in_query("Version"))
    {
        Some(Family::Alibaba)
    } else {
        None
    }
}

/// The action and version headers of a call, or the family's error for a
/// missing one.
///
/// Alibaba takes them from the `x-acs-*` headers or, for the legacy RPC
/// signature, from the `Action` and `Version` query parameters.
pub(crate) fn action_and_version(
    family: Family,
    headers: &HeaderMap,
    query: &[(String, String)],
) -> Result<(String, String), ApiError> {
    let (action_header, version_header, action_param, version_param) = match family {
        Family::Tencent => ("X-TC-Action", "X-TC-Version", None, None),
        Family::Alibaba => ("x-acs-action", "x-acs-version", Some("Action"), Some("Version")),
    };
    let read = |name: &str, param: Option<&str>| {
        header(headers, name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .or_else(|| {
                let param = param?;
                query
                    .iter()
                    .find(|(k, _)| k == param)
                    .map(|(_, v)| v.trim().to_string())
                    .filter(|v| !v.is_empty())
            })
            .ok_or_else(|| ApiError::missing_parameter(name))
    };
    Ok((read(action_header, action_param)?, read(version_header, version_param)?))
}

/// The services the emulator hosts, looked up by version (routing) or by
/// name (seeding, faults).
#[derive(Clone, Default)]
pub(crate) struct Registry {
    services: Vec<Arc<dyn Service>>,
}

impl Registry {
    /// Adds a service; one already registered for the same family and
    /// version, or the same family and name, is replaced, so a test can
    /// swap a built-in service for its own.
    pub(crate) fn register(&mut self, service: Arc<dyn Service>) {
        let family = service.family();
        self.services
            .retain(|s| s.family() != family || (s.version() != service.version() && s.name() != service.name()));
        self.services.push(service);
    }

    /// The service answering this family and version.
    pub(crate) fn route(&self, family: Family, version: &str) -> Result<&Arc<dyn Service>, ApiError> {
        self.services
            .iter()
            .find(|s| s.family() == family && s.version() == version)
            .ok_or_else(|| match family {
                Family::Tencent => {
                    ApiError::new("NoSuchVersion", format!("The API version `{version}` does not exist."))
                }
                Family::Alibaba => ApiError::new(
                    "InvalidVersion",
                    format!("Specified parameter Version `{version}` is not valid."),
                ),
            })
    }

    /// The service with this name (`gaap`) or API name (`tencent-gaap`).
    pub(crate) fn find(&self, name: &str) -> Option<&Arc<dyn Service>> {
        self.services
            .iter()
            .find(|s| s.name() == name || s.family().api_name(s.name()) == name)
    }

    pub(crate) fn all(&self) -> &[Arc<dyn Service>] {
        &self.services
    }
}

/// Tencent parameters: the JSON body, which must be an object; an empty
/// body counts as `{}`.
pub(crate) fn tencent_params(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(_) => Err(ApiError::new(
            "InvalidParameter",
            "The request body must be a JSON object.",
        )),
        Err(e) => Err(ApiError::new(
            "InvalidParameter",
            format!("The request body is not valid JSON: {e}."),
        )),
    }
}

/// Alibaba parameters from decoded query and form pairs, without the
/// common parameters of the legacy signature: the flat map as received (a
/// later repeat of a name wins) and its unflattened JSON.
pub(crate) fn alibaba_params(pairs: &[(String, String)]) -> (Value, BTreeMap<String, String>) {
    let flat: BTreeMap<String, String> = pairs
        .iter()
        .filter(|(k, _)| !crate::decode::is_common_parameter(k))
        .cloned()
        .collect();
    let unique: Vec<(String, String)> = flat.clone().into_iter().collect();
    (crate::decode::unflatten(&unique), flat)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn family_comes_from_header_prefix_or_algorithm() {
        assert_eq!(
            detect_family(&headers(&[("x-tc-action", "A")]), &[]),
            Some(Family::Tencent)
        );
        assert_eq!(
            detect_family(&headers(&[("x-acs-version", "2019-11-20")]), &[]),
            Some(Family::Alibaba)
        );
        assert_eq!(
            detect_family(&headers(&[("authorization", "ACS3-HMAC-SHA256 x")]), &[]),
            Some(Family::Alibaba)
        );
        assert_eq!(detect_family(&headers(&[("accept", "*/*")]), &[]), None);
    }

    #[test]
    fn missing_action_or_version_is_missing_parameter() {
        let err = action_and_version(Family::Tencent, &headers(&[("x-tc-version", "v")]), &[]).unwrap_err();
        assert_eq!(err.code, "MissingParameter");
        let err = action_and_version(Family::Alibaba, &headers(&[("x-acs-action", "A")]), &[]).unwrap_err();
        assert_eq!(err.code, "MissingParameter");
        let ok = action_and_version(
            Family::Alibaba,
            &headers(&[("x-acs-action", "A"), ("x-acs-version", "V")]),
            &[],
        )
        .unwrap();
        assert_eq!(ok, ("A".to_string(), "V".to_string()));
    }

    #[test]
    fn legacy_rpc_request_is_routed_by_its_action_and_version_parameters() {
        let query = vec![
            ("Action".to_string(), "ListListeners".to_string()),
            ("Version".to_string(), "2019-11-20".to_string()),
        ];
        assert_eq!(detect_family(&HeaderMap::new(), &query), Some(Family::Alibaba));
        let found = action_and_version(Family::Alibaba, &HeaderMap::new(), &query).unwrap();
        assert_eq!(found, ("ListListeners".to_string(), "2019-11-20".to_string()));
    }

    #[test]
    fn tencent_body_must_be_a_json_object() {
        assert_eq!(tencent_params(b"").unwrap(), serde_json::json!({}));
        assert_eq!(
            tencent_params(br#"{"Port": 80}"#).unwrap(),
            serde_json::json!({"Port": 80})
        );
        assert_eq!(tencent_params(b"[1]").unwrap_err().code, "InvalidParameter");
        assert_eq!(tencent_params(b"{not json").unwrap_err().code, "InvalidParameter");
    }

    #[test]
    fn alibaba_params_drop_the_common_parameters_and_unflatten() {
        let pairs = crate::decode::decode_query(
            "PortRanges.1.FromPort=80&PortRanges.1.ToPort=90&Name=a%20b+c&Action=X&SignatureNonce=n&Signature=s",
        )
        .unwrap();
        let (params, flat) = alibaba_params(&pairs);
        assert_eq!(flat["Name"], "a b c");
        assert!(!flat.contains_key("SignatureNonce") && !flat.contains_key("Action"));
        assert_eq!(params["PortRanges"][0]["ToPort"], "90");
    }
}
