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
pub(crate) fn detect_family(headers: &HeaderMap) -> Option<Family> {
    let has = |name: &str| headers.contains_key(name);
    let auth = header(headers, "authorization").unwrap_or("");
    if has("x-tc-action") || has("x-tc-version") || auth.starts_with("TC3-") {
        Some(Family::Tencent)
    } else if has("x-acs-action") || has("x-acs-version") || auth.starts_with("ACS3-") {
        Some(Family::Alibaba)
    } else {
        None
    }
}

/// The action and version headers of a call, or the family's error for a
/// missing one.
pub(crate) fn action_and_version(family: Family, headers: &HeaderMap) -> Result<(String, String), ApiError> {
    let (action_header, version_header) = match family {
        Family::Tencent => ("X-TC-Action", "X-TC-Version"),
        Family::Alibaba => ("x-acs-action", "x-acs-version"),
    };
    let read = |name: &str| {
        header(headers, name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .ok_or_else(|| ApiError::missing_parameter(name))
    };
    Ok((read(action_header)?, read(version_header)?))
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

/// Decodes an Alibaba query the way its signer encodes it (RFC 3986: `+`
/// is a plus, not a space), with the sibling crate's decoder so client and
/// emulator agree byte for byte.
pub(crate) fn alibaba_query(query: &str) -> Result<Vec<(String, String)>, ApiError> {
    alibaba_api::params::parse_query(query).ok_or_else(|| {
        ApiError::new(
            "InvalidParameter",
            "The query string is not valid percent-encoded UTF-8.",
        )
    })
}

/// Decodes a form body (`application/x-www-form-urlencoded`, where `+` is
/// a space) into raw pairs.
pub(crate) fn decode_form(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// Whether a body is form-encoded parameters (Alibaba allows them there
/// as well as in the query).
pub(crate) fn is_form_body(headers: &HeaderMap) -> bool {
    header(headers, "content-type")
        .map(|ct| {
            ct.trim()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
        .unwrap_or(false)
}

/// Alibaba parameters from query and form pairs: the flat map as received
/// (a later repeat of a name wins) and its unflattened JSON.
pub(crate) fn alibaba_params(pairs: &[(String, String)]) -> (Value, BTreeMap<String, String>) {
    let flat: BTreeMap<String, String> = pairs.iter().cloned().collect();
    let unique: Vec<(String, String)> = flat.clone().into_iter().collect();
    (alibaba_api::params::unflatten(&unique), flat)
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
        assert_eq!(detect_family(&headers(&[("x-tc-action", "A")])), Some(Family::Tencent));
        assert_eq!(
            detect_family(&headers(&[("x-acs-version", "2019-11-20")])),
            Some(Family::Alibaba)
        );
        assert_eq!(
            detect_family(&headers(&[("authorization", "ACS3-HMAC-SHA256 x")])),
            Some(Family::Alibaba)
        );
        assert_eq!(detect_family(&headers(&[("accept", "*/*")])), None);
    }

    #[test]
    fn missing_action_or_version_is_missing_parameter() {
        let err = action_and_version(Family::Tencent, &headers(&[("x-tc-version", "v")])).unwrap_err();
        assert_eq!(err.code, "MissingParameter");
        let err = action_and_version(Family::Alibaba, &headers(&[("x-acs-action", "A")])).unwrap_err();
        assert_eq!(err.code, "MissingParameter");
        let ok = action_and_version(
            Family::Alibaba,
            &headers(&[("x-acs-action", "A"), ("x-acs-version", "V")]),
        )
        .unwrap();
        assert_eq!(ok, ("A".to_string(), "V".to_string()));
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
    fn alibaba_pairs_unflatten_and_keep_the_flat_form() {
        let pairs = alibaba_query("PortRanges.1.FromPort=80&PortRanges.1.ToPort=90&Name=a%20b+c").unwrap();
        let (params, flat) = alibaba_params(&pairs);
        assert_eq!(flat["Name"], "a b+c");
        assert_eq!(params["PortRanges"][0]["ToPort"], "90");
        assert_eq!(params["Name"], "a b+c");
        assert_eq!(alibaba_query("Name=%zz").unwrap_err().code, "InvalidParameter");
        assert_eq!(decode_form(b"Name=a+b"), vec![("Name".to_string(), "a b".to_string())]);
    }

    #[test]
    fn form_body_is_recognised_by_content_type() {
        assert!(is_form_body(&headers(&[(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8"
        )])));
        assert!(!is_form_body(&headers(&[("content-type", "application/json")])));
    }
}
