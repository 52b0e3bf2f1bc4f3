//! Golden requests: raw HTTP requests captured from the vendors' official
//! SDKs (`compat/capture.py`), decoded and verified as the server does.
//!
//! Unlike the tests that sign with our own signer, these catch a decoding
//! or signature rule that our client and the emulator share by mistake
//! (as the `+`-for-space defect was). Each fixture carries its own time
//! (`x-acs-date`, `Timestamp`, `X-TC-Timestamp`), so the signature is
//! checked against that clock, not the machine's.

use std::time::{Instant, SystemTime};

use hyper::header::{HeaderName, HeaderValue};
use hyper::HeaderMap;
use serde_json::{json, Value};

use crate::auth::{SignedRequest, Verifier};
use crate::credentials::{AlibabaCredentials, TencentCredentials};
use crate::decode;
use crate::routing;
use crate::service::{ApiError, Family};

/// One captured request.
struct Captured {
    method: String,
    path: String,
    query: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

fn parse(text: &str) -> Captured {
    let (head, body) = text.split_once("\n\n").expect("a blank line ends the headers");
    let mut lines = head.lines();
    let request_line = lines.next().expect("a request line");
    let mut parts = request_line.split(' ');
    let method = parts.next().expect("method").to_string();
    let target = parts.next().expect("target");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut headers = HeaderMap::new();
    for line in lines {
        let (name, value) = line.split_once(": ").expect("name: value");
        headers.append(
            HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            HeaderValue::from_str(value).expect("header value"),
        );
    }
    Captured {
        method,
        path: path.to_string(),
        query: query.to_string(),
        headers,
        body: body.as_bytes().to_vec(),
    }
}

fn rfc3339(s: &str) -> SystemTime {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .expect("a fixture time")
        .into()
}

fn verifier() -> Verifier {
    Verifier::new(true, TencentCredentials::default(), AlibabaCredentials::default())
}

/// Decodes and verifies an Alibaba fixture at its own time; the action's
/// parameters, unflattened, as a service would get them.
fn alibaba(text: &str) -> Result<(String, Value), ApiError> {
    let c = parse(text);
    let query_pairs = decode::decode_query(&c.query)?;
    let form_pairs = if decode::is_form_body(&c.headers) {
        decode::decode_form(&c.body)?
    } else {
        Vec::new()
    };
    assert_eq!(routing::detect_family(&c.headers, &query_pairs), Some(Family::Alibaba));
    let (action, _version) = routing::action_and_version(Family::Alibaba, &c.headers, &query_pairs)?;
    let req = SignedRequest {
        method: &c.method,
        path: &c.path,
        query: &c.query,
        query_pairs: &query_pairs,
        form_pairs: &form_pairs,
        headers: &c.headers,
        body: &c.body,
    };
    let rpc_time = query_pairs
        .iter()
        .find(|(k, _)| k == "Timestamp")
        .map(|(_, v)| v.clone());
    let acs3_time = routing::header(&c.headers, "x-acs-date").map(str::to_string);
    match (rpc_time, acs3_time) {
        (Some(t), _) => verifier().check_alibaba_rpc(&req, rfc3339(&t), Instant::now())?,
        (None, Some(t)) => verifier().check_alibaba(&req, rfc3339(&t), Instant::now())?,
        (None, None) => panic!("fixture without a time"),
    }
    let mut pairs = query_pairs;
    pairs.extend(form_pairs);
    Ok((action, routing::alibaba_params(&pairs).0))
}

fn tencent(text: &str, service: &str) -> Result<Value, ApiError> {
    let c = parse(text);
    let now: i64 = routing::header(&c.headers, "x-tc-timestamp")
        .expect("X-TC-Timestamp")
        .parse()
        .expect("a number");
    let req = SignedRequest {
        method: &c.method,
        path: &c.path,
        query: &c.query,
        query_pairs: &[],
        form_pairs: &[],
        headers: &c.headers,
        body: &c.body,
    };
    verifier().check_tencent(&req, service, now)?;
    routing::tencent_params(&c.body)
}

const GA_ACS3: &str = include_str!("../tests/fixtures/ga-acs3-create-listener.http");
const GA_V2: &str = include_str!("../tests/fixtures/ga-v2-create-listener.http");
const GA_CORE: &str = include_str!("../tests/fixtures/ga-core-rpc-create-listener.http");
const ALB_ACS3: &str = include_str!("../tests/fixtures/alb-acs3-create-listener.http");
const ALB_V2: &str = include_str!("../tests/fixtures/alb-v2-create-listener.http");
const GAAP: &str = include_str!("../tests/fixtures/gaap-sdk-create-https-listener.http");
const CLB: &str = include_str!("../tests/fixtures/clb-sdk-create-listener.http");

/// What every GA fixture sent, whichever SDK and signature.
fn assert_ga_create(params: &Value) {
    assert_eq!(params["Description"], json!("tcp listener 20-30 a+b"));
    assert_eq!(params["Name"], json!("tcp监听_one"));
    assert_eq!(params["PortRanges"], json!([{"FromPort": "20", "ToPort": "30"}]));
    assert_eq!(params["ClientToken"], json!("compat-token-1"));
    for common in [
        "Signature",
        "SignatureNonce",
        "Timestamp",
        "AccessKeyId",
        "Action",
        "Format",
    ] {
        assert!(params.get(common).is_none(), "{common} reached the service");
    }
}

#[test]
fn ga_acs3_request_with_form_encoded_spaces_verifies_and_decodes() {
    // The SDK sends `Description=tcp+listener+20-30+a%2Bb` and signs the
    // RFC 3986 form: `+` must decode as a space, `%2B` as a plus.
    assert!(GA_ACS3.contains("Description=tcp+listener"));
    let (action, params) = alibaba(GA_ACS3).expect("verified");
    assert_eq!(action, "CreateListener");
    assert_ga_create(&params);
}

#[test]
fn ga_v2_signature_in_the_query_verifies_and_decodes() {
    assert!(GA_V2.contains("SignatureMethod=HMAC-SHA1"));
    let (action, params) = alibaba(GA_V2).expect("verified");
    assert_eq!(action, "CreateListener");
    assert_ga_create(&params);
}

#[test]
fn ga_core_sdk_rpc_request_verifies_and_decodes() {
    let (action, params) = alibaba(GA_CORE).expect("verified");
    assert_eq!(action, "CreateListener");
    assert_ga_create(&params);
}

#[test]
fn alb_requests_of_both_signatures_verify_and_unflatten() {
    for fixture in [ALB_ACS3, ALB_V2] {
        let (action, params) = alibaba(fixture).expect("verified");
        assert_eq!(action, "CreateListener");
        // The Darabonba SDKs send Python's `True`; the RPC SDKs `true`.
        // Services read booleans without regard to case, as the gateway does.
        let ca = params["CaEnabled"].as_str().expect("a string");
        assert!(ca.eq_ignore_ascii_case("true"), "{ca}");
        assert_eq!(
            params["DefaultActions"][0]["ForwardGroupConfig"]["ServerGroupTuples"][0]["ServerGroupId"],
            json!("sgp-compat01")
        );
        assert_eq!(params["CaCertificates"], json!([{"CertificateId": "ca-compat01"}]));
    }
}

#[test]
fn tampered_golden_requests_are_refused_with_the_vendor_codes() {
    // A changed parameter breaks both signatures.
    let tampered = GA_V2.replace("ToPort=30", "ToPort=31");
    assert_eq!(alibaba(&tampered).unwrap_err().code, "SignatureDoesNotMatch");
    let tampered = GA_ACS3.replace("ToPort=30", "ToPort=31");
    assert_eq!(alibaba(&tampered).unwrap_err().code, "SignatureDoesNotMatch");
    let unknown = GA_CORE.replace("AccessKeyId=LTAIEMULATOR", "AccessKeyId=LTAIOTHER");
    assert_eq!(alibaba(&unknown).unwrap_err().code, "InvalidAccessKeyId.NotFound");
    let tampered = GAAP.replace("\"Port\": 443", "\"Port\": 444");
    assert_eq!(
        tencent(&tampered, "gaap").unwrap_err().code,
        "AuthFailure.SignatureFailure"
    );
}

#[test]
fn tencent_sdk_requests_verify_and_keep_their_json() {
    let gaap = tencent(GAAP, "gaap").expect("verified");
    assert_eq!(gaap["ListenerName"], json!("https 监听 mutual"));
    assert_eq!(gaap["PolyClientCertificateIds"], json!(["ca-one", "ca-two"]));
    let clb = tencent(CLB, "clb").expect("verified");
    assert_eq!(clb["ListenerNames"], json!(["tcp 监听"]));
    assert_eq!(clb["HealthCheck"]["HealthSwitch"], json!(1));
}
