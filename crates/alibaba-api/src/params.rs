//! RPC parameter flattening, as the official SDKs send it.
//!
//! Alibaba RPC APIs take nested structures (`DefaultActions`, `PortRanges`,
//! `XForwardedForConfig`) but transport only flat `name=value` pairs: object
//! fields join with `.` and list elements are numbered from 1, so
//! `{"PortRanges":[{"FromPort":80}]}` travels as `PortRanges.1.FromPort=80`.
//! The API pages' sample requests show JSON values instead; that is page
//! notation, never what the SDKs send.
//!
//! The adapters build nested JSON (easy to read and to test) and the client
//! flattens it here; the emulator reads requests with [`unflatten`].

use serde_json::{Map, Value};

/// Flatten nested parameters into the pairs the SDKs send.
///
/// Object field → `Parent.Child`; list element → `Parent.N` with N from 1;
/// recursive. `null`, empty objects and empty lists send nothing (the API
/// treats an absent parameter as unset). Booleans are `true`/`false`,
/// numbers decimal, strings as-is. Pairs come out in document order; the
/// signer sorts them. A bare scalar at the top has no name to travel under
/// and gives no pairs.
pub fn flatten(value: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    match value {
        Value::Object(_) | Value::Array(_) => flatten_into("", value, &mut out),
        _ => {}
    }
    out
}

fn flatten_into(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
    let join = |name: &str| {
        if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}.{name}")
        }
    };
    match value {
        Value::Null => {}
        Value::Bool(b) => out.push((prefix.to_string(), b.to_string())),
        Value::Number(n) => out.push((prefix.to_string(), n.to_string())),
        Value::String(s) => out.push((prefix.to_string(), s.clone())),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                flatten_into(&join(&(i + 1).to_string()), item, out);
            }
        }
        Value::Object(fields) => {
            for (name, field) in fields {
                flatten_into(&join(name), field, out);
            }
        }
    }
}

/// Rebuild nested JSON from flat pairs, the inverse of [`flatten`].
///
/// Values stay strings (the wire has no types; the reader converts). A level
/// whose every segment is a list index (`1`, `2`, … without leading zeros)
/// becomes an array ordered by index, gaps closed; any other level is an
/// object in first-seen order. When a name is both a value and a parent
/// (`A=1` and `A.B=2`), the pair given later wins.
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

/// Decode a raw URL query (`a=1&b=x%20y`) into pairs, as a server reading
/// an RPC request needs before [`unflatten`] or re-signing.
///
/// `%XX` escapes are decoded over UTF-8 and `+` stays a plus (RFC 3986, as
/// the signer encodes; form decoding would turn it into a space and break
/// the signature). A pair without `=` has an empty value. `None` for a
/// malformed escape or invalid UTF-8: such a request cannot have been
/// signed by a conforming client.
pub fn parse_query(raw: &str) -> Option<Vec<(String, String)>> {
    if raw.is_empty() {
        return Some(Vec::new());
    }
    raw.split('&')
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Some((percent_decode(name)?, percent_decode(value)?))
        })
        .collect()
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
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
    use crate::sign::canonical_query;
    use serde_json::json;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn alb_create_listener_flattens_to_the_factsheet_query() {
        let params = json!({
            "LoadBalancerId": "alb-n5qw04uq8vavfe",
            "ListenerProtocol": "HTTPS",
            "ListenerPort": 443,
            "ListenerDescription": "web listener",
            "CaEnabled": false,
            "Certificates": [{"CertificateId": "103705"}],
            "DefaultActions": [{
                "Type": "ForwardGroup",
                "ForwardGroupConfig": {"ServerGroupTuples": [{"ServerGroupId": "sgp-8ilqs4axp6"}]}
            }],
            "XForwardedForConfig": {"XForwardedForEnabled": true},
            "ClientToken": "123e4567-e89b-12d3-a456-426655440000",
            "QuicConfig": null,
            "CaCertificates": []
        });
        let flat = flatten(&params);
        assert!(flat.contains(&(
            "DefaultActions.1.ForwardGroupConfig.ServerGroupTuples.1.ServerGroupId".to_string(),
            "sgp-8ilqs4axp6".to_string()
        )));
        assert_eq!(
            canonical_query(&flat),
            "CaEnabled=false&Certificates.1.CertificateId=103705&ClientToken=123e4567-e89b-12d3-a456-426655440000&DefaultActions.1.ForwardGroupConfig.ServerGroupTuples.1.ServerGroupId=sgp-8ilqs4axp6&DefaultActions.1.Type=ForwardGroup&ListenerDescription=web%20listener&ListenerPort=443&ListenerProtocol=HTTPS&LoadBalancerId=alb-n5qw04uq8vavfe&XForwardedForConfig.XForwardedForEnabled=true"
        );
    }

    #[test]
    fn ga_create_listener_flattens_to_the_factsheet_query() {
        let params = json!({
            "RegionId": "cn-hangzhou",
            "AcceleratorId": "ga-bp1odcab8tmno0hdq",
            "Name": "Listener",
            "Protocol": "tcp",
            "PortRanges": [{"FromPort": 80, "ToPort": 90}, {"FromPort": 443, "ToPort": 443}],
            "ClientToken": "123e4567-e89b-12d3-a456-426655440000"
        });
        let flat = flatten(&params);
        assert!(flat.contains(&("PortRanges.2.ToPort".to_string(), "443".to_string())));
        assert_eq!(
            canonical_query(&flat),
            "AcceleratorId=ga-bp1odcab8tmno0hdq&ClientToken=123e4567-e89b-12d3-a456-426655440000&Name=Listener&PortRanges.1.FromPort=80&PortRanges.1.ToPort=90&PortRanges.2.FromPort=443&PortRanges.2.ToPort=443&Protocol=tcp&RegionId=cn-hangzhou"
        );
    }

    #[test]
    fn ga_https_listener_with_utf8_name_flattens_to_the_factsheet_query() {
        let params = json!({
            "RegionId": "cn-hangzhou",
            "AcceleratorId": "ga-bp1odcab8tmno0hdq",
            "Name": "监听 1",
            "Description": "a*b~c/d+e",
            "Protocol": "https",
            "PortRanges": [{"FromPort": 443, "ToPort": 443}],
            "Certificates": [{"Id": "449-cn-hangzhou"}],
            "XForwardedForConfig": {"XRealIpEnabled": true}
        });
        assert_eq!(
            canonical_query(&flatten(&params)),
            "AcceleratorId=ga-bp1odcab8tmno0hdq&Certificates.1.Id=449-cn-hangzhou&Description=a%2Ab~c%2Fd%2Be&Name=%E7%9B%91%E5%90%AC%201&PortRanges.1.FromPort=443&PortRanges.1.ToPort=443&Protocol=https&RegionId=cn-hangzhou&XForwardedForConfig.XRealIpEnabled=true"
        );
    }

    #[test]
    fn scalars_render_as_the_sdks_send_them() {
        let flat = flatten(&json!({"B": true, "F": false, "N": -7, "X": 1.5, "S": "", "Z": null}));
        assert_eq!(
            flat,
            pairs(&[("B", "true"), ("F", "false"), ("N", "-7"), ("X", "1.5"), ("S", "")])
        );
    }

    #[test]
    fn lists_of_scalars_and_nested_lists_are_numbered_from_one() {
        let flat = flatten(&json!({"ListenerIds": ["lsn-a", "lsn-b"], "M": [["x"], ["y", "z"]]}));
        assert_eq!(
            flat,
            pairs(&[
                ("ListenerIds.1", "lsn-a"),
                ("ListenerIds.2", "lsn-b"),
                ("M.1.1", "x"),
                ("M.2.1", "y"),
                ("M.2.2", "z"),
            ])
        );
    }

    #[test]
    fn top_level_scalar_has_no_name_and_sends_nothing() {
        assert!(flatten(&json!("x")).is_empty());
        assert!(flatten(&Value::Null).is_empty());
        assert!(flatten(&json!({})).is_empty());
    }

    #[test]
    fn unflatten_inverts_flatten_with_string_values() {
        let params = json!({
            "LoadBalancerId": "alb-1",
            "ListenerPort": 443,
            "DefaultActions": [{
                "Type": "ForwardGroup",
                "ForwardGroupConfig": {"ServerGroupTuples": [{"ServerGroupId": "sgp-1"}, {"ServerGroupId": "sgp-2"}]}
            }],
            "XForwardedForConfig": {"XForwardedForEnabled": true},
            "Tag": [{"Key": "k", "Value": "v"}]
        });
        let back = unflatten(&flatten(&params));
        assert_eq!(
            back,
            json!({
                "LoadBalancerId": "alb-1",
                "ListenerPort": "443",
                "DefaultActions": [{
                    "Type": "ForwardGroup",
                    "ForwardGroupConfig": {"ServerGroupTuples": [{"ServerGroupId": "sgp-1"}, {"ServerGroupId": "sgp-2"}]}
                }],
                "XForwardedForConfig": {"XForwardedForEnabled": "true"},
                "Tag": [{"Key": "k", "Value": "v"}]
            })
        );
        // And flattening the result gives the same pairs back.
        let mut a = flatten(&params);
        let mut b = flatten(&back);
        a.sort();
        b.sort();
        assert_eq!(a, b);
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
    }

    #[test]
    fn parse_query_decodes_what_canonical_query_encodes() {
        let cq = "AcceleratorId=ga-bp1odcab8tmno0hdq&Certificates.1.Id=449-cn-hangzhou&Description=a%2Ab~c%2Fd%2Be&Name=%E7%9B%91%E5%90%AC%201&PortRanges.1.FromPort=443";
        let decoded = parse_query(cq).expect("well formed");
        assert!(decoded.contains(&("Name".to_string(), "监听 1".to_string())));
        assert!(decoded.contains(&("Description".to_string(), "a*b~c/d+e".to_string())));
        assert_eq!(canonical_query(&decoded), cq);
        assert_eq!(
            parse_query("a+b=c+d&e").expect("ok"),
            pairs(&[("a+b", "c+d"), ("e", "")])
        );
        assert_eq!(parse_query(""), Some(Vec::new()));
    }

    #[test]
    fn parse_query_refuses_broken_escapes_and_bad_utf8() {
        for bad in ["a=%", "a=%4", "a=%zz", "a=%C3", "%FF=1"] {
            assert_eq!(parse_query(bad), None, "{bad}");
        }
    }

    #[test]
    fn unflatten_of_nothing_is_an_empty_object() {
        assert_eq!(unflatten(&[]), json!({}));
    }
}
