//! Request decoding, written from the gateways' side.
//!
//! What a request means is decided here by what the vendors' endpoints
//! accept, not by what our own clients happen to send: the official SDKs,
//! `tccli`, the `aliyun` CLI and older Alibaba SDKs all differ in small
//! ways, and the emulator must take every form the real gateway takes.
//!
//! - **Queries** are decoded the way an HTTP server decodes a form-encoded
//!   query: `%XX` is a byte and `+` is a space. The official Alibaba SDKs
//!   send `Description=tcp+listener` (Python's `urlencode`) and sign the
//!   RFC 3986 form `tcp%20listener`; our client sends `%20` directly. Both
//!   decode to the same text, and a literal plus always travels as `%2B`.
//!   A malformed escape or invalid UTF-8 is refused (`InvalidParameter`):
//!   no conforming client sends one.
//! - **Form bodies** (`application/x-www-form-urlencoded`, with or without
//!   `; charset=…`, any letter case) carry parameters too; the legacy RPC
//!   signature covers them together with the query.
//! - **JSON bodies** (Tencent) are any JSON object, with or without
//!   whitespace, whatever the `Content-Type` says.
//! - **Header names** are case-insensitive (hyper lower-cases them).
//! - **Alibaba RPC parameters** are flat (`PortRanges.1.FromPort=80`);
//!   [`unflatten`] rebuilds the nested structure the services read. The
//!   common parameters of the legacy signature (`Action`, `Timestamp`,
//!   `Signature`, …) are gateway business and never reach a service.
//!
//! The client's signer (`alibaba_api::sign`) is reused only to *compute* an
//! expected signature from the decoded pairs, never to decide decoding.

use hyper::HeaderMap;
use serde_json::{Map, Value};

use crate::routing::header;
use crate::service::ApiError;

/// Decodes a raw URL query (`a=1&b=x+y%21`) into pairs, as the gateways
/// do: `+` is a space, `%XX` a byte, the result UTF-8. Empty segments
/// (`a=1&&b=2`) are skipped; a pair without `=` has an empty value.
pub fn decode_query(raw: &str) -> Result<Vec<(String, String)>, ApiError> {
    decode_form_bytes(raw.as_bytes()).ok_or_else(|| {
        ApiError::new(
            "InvalidParameter",
            "The query string is not valid percent-encoded UTF-8.",
        )
    })
}

/// Decodes a form body (`application/x-www-form-urlencoded`) into pairs,
/// with the same rules as [`decode_query`].
pub fn decode_form(body: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    decode_form_bytes(body)
        .ok_or_else(|| ApiError::new("InvalidParameter", "The form body is not valid percent-encoded UTF-8."))
}

fn decode_form_bytes(raw: &[u8]) -> Option<Vec<(String, String)>> {
    raw.split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = match pair.iter().position(|b| *b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &b""[..]),
            };
            Some((form_decode(name)?, form_decode(value)?))
        })
        .collect()
}

fn form_decode(s: &[u8]) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The media type of a request (`application/json`), lower-cased, without
/// parameters such as `charset`; `None` when absent or not text.
pub fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = header(headers, "content-type")?;
    let essence = value.split(';').next().unwrap_or("").trim();
    (!essence.is_empty()).then(|| essence.to_ascii_lowercase())
}

/// Whether the body carries form-encoded parameters.
pub fn is_form_body(headers: &HeaderMap) -> bool {
    media_type(headers).as_deref() == Some("application/x-www-form-urlencoded")
}

/// The common parameters of Alibaba's RPC requests: they address and sign
/// the call, and are not parameters of the action.
pub const ALIBABA_COMMON_PARAMETERS: &[&str] = &[
    "Action",
    "Version",
    "Format",
    "Timestamp",
    "SignatureNonce",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureType",
    "Signature",
    "AccessKeyId",
    "SecurityToken",
];

/// Whether a parameter is one of [`ALIBABA_COMMON_PARAMETERS`].
pub fn is_common_parameter(name: &str) -> bool {
    ALIBABA_COMMON_PARAMETERS.contains(&name)
}

/// Rebuild nested JSON from flat RPC pairs (`PortRanges.1.FromPort=80`
/// becomes `{"PortRanges":[{"FromPort":"80"}]}`), the inverse of the SDKs'
/// flattening.
///
/// Values stay strings (the wire has no types; the service converts). A
/// level whose every segment is a list index (`1`, `2`, … without leading
/// zeros) becomes an array ordered by index, gaps closed; any other level
/// is an object in first-seen order. When a name is both a value and a
/// parent (`A=1` and `A.B=2`), the pair given later wins.
pub fn unflatten(flat: &[(String, String)]) -> Value {
    let mut root = Node::Branch(Vec::new());
    for (name, value) in flat {
        let segments: Vec<&str> = name.split('.').collect();
        root.insert(&segments, value);
    }
    root.into_value()
}

/// An intermediate tree: branches keep insertion order and are turned into
/// arrays or objects only once every key of the level is known.
enum Node {
    Leaf(String),
    Branch(Vec<(String, Node)>),
}

impl Node {
    fn insert(&mut self, segments: &[&str], value: &str) {
        let Some((first, rest)) = segments.split_first() else {
            *self = Node::Leaf(value.to_string());
            return;
        };
        if let Node::Leaf(_) = self {
            *self = Node::Branch(Vec::new());
        }
        if let Node::Branch(children) = self {
            let index = match children.iter().position(|(k, _)| k == first) {
                Some(i) => i,
                None => {
                    children.push(((*first).to_string(), Node::Branch(Vec::new())));
                    children.len() - 1
                }
            };
            children[index].1.insert(rest, value);
        }
    }

    fn into_value(self) -> Value {
        match self {
            Node::Leaf(s) => Value::String(s),
            Node::Branch(children) => {
                let indexed: Option<Vec<u64>> = children.iter().map(|(k, _)| list_index(k)).collect();
                match indexed {
                    Some(indices) if !children.is_empty() => {
                        let mut items: Vec<(u64, Node)> =
                            indices.into_iter().zip(children.into_iter().map(|(_, n)| n)).collect();
                        items.sort_by_key(|(i, _)| *i);
                        Value::Array(items.into_iter().map(|(_, n)| n.into_value()).collect())
                    }
                    _ => {
                        let mut map = Map::new();
                        for (k, n) in children {
                            map.insert(k, n.into_value());
                        }
                        Value::Object(map)
                    }
                }
            }
        }
    }
}

/// A list index as the SDKs write it: decimal, from 1, no leading zero.
fn list_index(segment: &str) -> Option<u64> {
    if segment.is_empty() || segment.starts_with('0') || !segment.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    segment.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;
    use serde_json::json;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn query_plus_is_a_space_as_the_official_sdks_send_it() {
        // Regression: `+` used to stay a literal plus, so every Alibaba
        // parameter with a space failed the signature check.
        let form = decode_query("Description=tcp+listener+20-30&Name=a%2Bb").unwrap();
        assert_eq!(form, pairs(&[("Description", "tcp listener 20-30"), ("Name", "a+b")]));
        let rfc3986 = decode_query("Description=tcp%20listener%2020-30").unwrap();
        assert_eq!(rfc3986[0].1, "tcp listener 20-30");
    }

    #[test]
    fn query_decodes_utf8_and_what_the_signer_encodes() {
        let cq = "AcceleratorId=ga-bp1odcab8tmno0hdq&Description=a%2Ab~c%2Fd%2Be&Name=%E7%9B%91%E5%90%AC%201";
        let decoded = decode_query(cq).unwrap();
        assert!(decoded.contains(&("Name".to_string(), "监听 1".to_string())));
        assert!(decoded.contains(&("Description".to_string(), "a*b~c/d+e".to_string())));
        assert_eq!(alibaba_api::sign::canonical_query(&decoded), cq);
        assert_eq!(decode_query("e&&f=").unwrap(), pairs(&[("e", ""), ("f", "")]));
        assert!(decode_query("").unwrap().is_empty());
    }

    #[test]
    fn query_with_broken_escapes_or_bad_utf8_is_invalid_parameter() {
        for bad in ["a=%", "a=%4", "a=%zz", "a=%C3", "%FF=1"] {
            assert_eq!(decode_query(bad).unwrap_err().code, "InvalidParameter", "{bad}");
        }
    }

    #[test]
    fn form_body_decodes_like_the_query() {
        assert_eq!(
            decode_form(b"Name=a+b&Tag.1.Key=%E6%A0%87").unwrap(),
            pairs(&[("Name", "a b"), ("Tag.1.Key", "标")])
        );
    }

    #[test]
    fn content_type_is_matched_without_charset_and_case() {
        let mut h = HeaderMap::new();
        h.insert(
            "content-type",
            HeaderValue::from_static("Application/X-WWW-Form-Urlencoded; charset=UTF-8"),
        );
        assert!(is_form_body(&h));
        h.insert(
            "content-type",
            HeaderValue::from_static("application/json;charset=utf-8"),
        );
        assert!(!is_form_body(&h));
        assert_eq!(media_type(&h).as_deref(), Some("application/json"));
        assert!(!is_form_body(&HeaderMap::new()));
    }

    #[test]
    fn unflatten_rebuilds_lists_and_objects_with_string_values() {
        let v = unflatten(&pairs(&[
            ("LoadBalancerId", "alb-1"),
            ("DefaultActions.1.Type", "ForwardGroup"),
            (
                "DefaultActions.1.ForwardGroupConfig.ServerGroupTuples.2.ServerGroupId",
                "sgp-2",
            ),
            (
                "DefaultActions.1.ForwardGroupConfig.ServerGroupTuples.1.ServerGroupId",
                "sgp-1",
            ),
            ("XForwardedForConfig.XForwardedForEnabled", "true"),
        ]));
        assert_eq!(
            v,
            json!({
                "LoadBalancerId": "alb-1",
                "DefaultActions": [{
                    "Type": "ForwardGroup",
                    "ForwardGroupConfig": {"ServerGroupTuples": [{"ServerGroupId": "sgp-1"}, {"ServerGroupId": "sgp-2"}]}
                }],
                "XForwardedForConfig": {"XForwardedForEnabled": "true"}
            })
        );
    }

    #[test]
    fn unflatten_orders_list_items_by_index_not_arrival() {
        let v = unflatten(&pairs(&[
            ("PortRanges.10.FromPort", "10"),
            ("PortRanges.2.FromPort", "2"),
            ("PortRanges.1.FromPort", "1"),
        ]));
        assert_eq!(
            v,
            json!({"PortRanges": [{"FromPort": "1"}, {"FromPort": "2"}, {"FromPort": "10"}]})
        );
    }

    #[test]
    fn unflatten_keeps_non_index_segments_as_object_keys() {
        let v = unflatten(&pairs(&[
            ("A.0", "z"),
            ("A.1", "o"),
            ("B.01", "x"),
            ("C.1", "c"),
            ("C.x", "d"),
        ]));
        assert_eq!(
            v,
            json!({"A": {"0": "z", "1": "o"}, "B": {"01": "x"}, "C": {"1": "c", "x": "d"}})
        );
    }

    #[test]
    fn unflatten_lets_the_later_pair_win_a_value_parent_clash() {
        assert_eq!(unflatten(&pairs(&[("A", "1"), ("A.B", "2")])), json!({"A": {"B": "2"}}));
        assert_eq!(unflatten(&pairs(&[("A.B", "2"), ("A", "1")])), json!({"A": "1"}));
        assert_eq!(unflatten(&[]), json!({}));
    }

    #[test]
    fn common_parameters_are_recognised() {
        assert!(is_common_parameter("SignatureNonce"));
        assert!(!is_common_parameter("RegionId"));
        assert!(!is_common_parameter("ClientToken"));
    }
}
