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
//! flattens it here. Reading requests (decoding, unflattening) is the
//! emulator's business, written from the gateway's side in
//! `listener-emulator`'s `decode` module.

use serde_json::Value;

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
}
