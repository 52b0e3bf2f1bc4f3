//! Alibaba's legacy RPC signature (HMAC-SHA1 in the query) and form-encoded
//! queries, over real HTTP against the built-in GA and ALB services, signed
//! here independently of the emulator's and our client's code, the way
//! `aliyun-python-sdk-core` and the official SDKs' `v2` signature do.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use listener_emulator::credentials::{DEFAULT_ALIBABA_ACCESS_KEY_ID, DEFAULT_ALIBABA_ACCESS_KEY_SECRET};
use listener_emulator::{Emulator, EmulatorHandle, InstanceSeed};
use serde_json::Value;

const ACC: &str = "ga-legacy01";

/// RFC 3986 encoding, as the signature's canonical form needs.
fn rfc3986(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Form encoding, as Python's `urlencode` puts it on the wire (space `+`).
fn form(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The query of a legacy-signed call: common parameters, `params`, and the
/// HMAC-SHA1 signature with `secret`; sent form-encoded.
fn signed_query(action: &str, version: &str, params: &[(&str, &str)], key_id: &str, secret: &str, ts: &str) -> String {
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let mut pairs: Vec<(String, String)> = vec![
        ("Action".into(), action.into()),
        ("Version".into(), version.into()),
        ("Format".into(), "JSON".into()),
        ("AccessKeyId".into(), key_id.into()),
        ("SignatureMethod".into(), "HMAC-SHA1".into()),
        ("SignatureVersion".into(), "1.0".into()),
        ("SignatureNonce".into(), nonce),
        ("Timestamp".into(), ts.into()),
    ];
    pairs.extend(params.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let mut encoded: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", rfc3986(k), rfc3986(v)))
        .collect();
    encoded.sort();
    let to_sign = format!("POST&%2F&{}", rfc3986(&encoded.join("&")));
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(format!("{secret}&").as_bytes()).expect("any key");
    mac.update(to_sign.as_bytes());
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    pairs.push(("Signature".into(), signature));
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", form(k), form(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn now() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

async fn start() -> EmulatorHandle {
    Emulator::builder()
        .seed(
            "ga",
            InstanceSeed {
                id: ACC.into(),
                server_groups: vec![],
            },
        )
        .start()
        .await
        .expect("emulator starts")
}

async fn ga(em: &EmulatorHandle, action: &str, params: &[(&str, &str)], secret: &str, ts: &str) -> (u16, Value) {
    let query = signed_query(action, "2019-11-20", params, DEFAULT_ALIBABA_ACCESS_KEY_ID, secret, ts);
    let r = reqwest::Client::new()
        .post(format!("{}/?{query}", em.url()))
        .send()
        .await
        .expect("answered");
    let status = r.status().as_u16();
    (status, r.json().await.expect("json"))
}

#[tokio::test]
async fn legacy_signed_create_with_form_encoded_spaces_is_accepted_and_reads_back_with_spaces() {
    let em = start().await;
    let create = [
        ("RegionId", "cn-hangzhou"),
        ("AcceleratorId", ACC),
        ("Protocol", "tcp"),
        ("Name", "监听_one"),
        ("Description", "tcp listener 20-30 a+b"),
        ("PortRanges.1.FromPort", "20"),
        ("PortRanges.1.ToPort", "30"),
    ];
    let (status, body) = ga(
        &em,
        "CreateListener",
        &create,
        DEFAULT_ALIBABA_ACCESS_KEY_SECRET,
        &now(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let id = body["ListenerId"].as_str().expect("an id").to_string();
    let (_, described) = ga(
        &em,
        "DescribeListener",
        &[("RegionId", "cn-hangzhou"), ("ListenerId", &id)],
        DEFAULT_ALIBABA_ACCESS_KEY_SECRET,
        &now(),
    )
    .await;
    assert_eq!(described["Description"], "tcp listener 20-30 a+b");
    assert_eq!(described["Name"], "监听_one");
    em.shutdown().await;
}

#[tokio::test]
async fn legacy_signature_refusals_answer_the_vendor_codes() {
    let em = start().await;
    let list = [("RegionId", "cn-hangzhou"), ("AcceleratorId", ACC)];
    let (status, body) = ga(&em, "ListListeners", &list, "not-the-secret", &now()).await;
    assert_eq!((status, body["Code"].as_str()), (403, Some("SignatureDoesNotMatch")));
    let (status, body) = ga(
        &em,
        "ListListeners",
        &list,
        DEFAULT_ALIBABA_ACCESS_KEY_SECRET,
        "2020-01-01T00:00:00Z",
    )
    .await;
    assert_eq!((status, body["Code"].as_str()), (400, Some("InvalidTimeStamp.Expired")));
    let query = signed_query("ListListeners", "2019-11-20", &list, "LTAIunknown", "x", &now());
    let r = reqwest::Client::new()
        .post(format!("{}/?{query}", em.url()))
        .send()
        .await
        .expect("answered");
    assert_eq!(r.status().as_u16(), 404);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["Code"], "InvalidAccessKeyId.NotFound");
    em.shutdown().await;
}
