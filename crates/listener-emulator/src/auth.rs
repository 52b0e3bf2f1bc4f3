//! Signature verification, the way each vendor's gateway does it.
//!
//! An emulator that accepts any request would let a client ship with a
//! broken signer, a wrong clock or a reused nonce. So every API call is
//! checked against the one key pair per family the emulator was started
//! with, and refused with the vendor's own code. The canonical request is
//! recomputed with the same signer crates the clients use
//! (`tencent_api::sign`, `alibaba_api::sign`): one implementation, so a
//! signer bug cannot hide by being mirrored in a second one, and the
//! published vectors those crates test cover the emulator too.
//!
//! Checks happen in the order a gateway would plausibly run them (key,
//! clock, token, structure, signature, replay), so each refusal names the
//! first thing wrong. The nonce of an Alibaba request is remembered only
//! once its signature is good, so a forged request cannot burn a nonce.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hyper::HeaderMap;

use crate::credentials::{AlibabaCredentials, TencentCredentials};
use crate::service::ApiError;

/// Tencent refuses a timestamp more than five minutes from its clock.
pub(crate) const TENCENT_MAX_SKEW: Duration = Duration::from_secs(5 * 60);
/// Alibaba's window for `x-acs-date` (an assumption: the vendor documents
/// the nonce window, and the same 15 minutes is used for the clock).
pub(crate) const ALIBABA_MAX_SKEW: Duration = Duration::from_secs(15 * 60);
/// Alibaba refuses a nonce seen within the last 15 minutes.
pub(crate) const NONCE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// The most nonces remembered; beyond it the oldest are forgotten first.
/// With vendor rate limits the window never holds this many.
const NONCE_CAPACITY: usize = 1_000_000;

/// The parts of an HTTP request that signatures cover.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SignedRequest<'a> {
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    /// The raw query string after `?` (Tencent signs it as is).
    pub(crate) query: &'a str,
    /// The decoded query pairs (Alibaba signs their canonical form).
    pub(crate) query_pairs: &'a [(String, String)],
    /// The decoded form-body pairs (the legacy Alibaba signature covers
    /// them together with the query).
    pub(crate) form_pairs: &'a [(String, String)],
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a [u8],
}

impl SignedRequest<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Remembers Alibaba nonces for [`NONCE_WINDOW`].
#[derive(Debug, Default)]
struct NonceCache {
    seen: HashMap<String, Instant>,
    order: VecDeque<(Instant, String)>,
}

impl NonceCache {
    /// Records the nonce; `false` when it was already seen in the window.
    fn insert_fresh(&mut self, nonce: &str, now: Instant) -> bool {
        while let Some((at, _)) = self.order.front() {
            let expired = now.saturating_duration_since(*at) > NONCE_WINDOW;
            if !expired && self.order.len() < NONCE_CAPACITY {
                break;
            }
            if let Some((at, old)) = self.order.pop_front() {
                if self.seen.get(&old) == Some(&at) {
                    self.seen.remove(&old);
                }
            }
        }
        if let Some(at) = self.seen.get(nonce) {
            if now.saturating_duration_since(*at) <= NONCE_WINDOW {
                return false;
            }
        }
        self.seen.insert(nonce.to_string(), now);
        self.order.push_back((now, nonce.to_string()));
        true
    }
}

/// The credentials and replay memory the server checks calls against.
#[derive(Debug)]
pub(crate) struct Verifier {
    pub(crate) enabled: bool,
    pub(crate) tencent: TencentCredentials,
    pub(crate) alibaba: AlibabaCredentials,
    nonces: Mutex<NonceCache>,
}

fn unix_now() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// Compares two signatures without leaking, through timing, how many
/// leading characters matched.
fn same_signature(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Verifier {
    pub(crate) fn new(enabled: bool, tencent: TencentCredentials, alibaba: AlibabaCredentials) -> Self {
        Verifier {
            enabled,
            tencent,
            alibaba,
            nonces: Mutex::new(NonceCache::default()),
        }
    }

    /// TC3-HMAC-SHA256 verification of a Tencent call to `service` (the
    /// routed service's name, which the credential scope must name).
    pub(crate) fn verify_tencent(&self, req: &SignedRequest<'_>, service: &str) -> Result<(), ApiError> {
        if !self.enabled {
            return Ok(());
        }
        self.check_tencent(req, service, unix_now())
    }

    pub(crate) fn check_tencent(&self, req: &SignedRequest<'_>, service: &str, now: i64) -> Result<(), ApiError> {
        let header = req.header("authorization").ok_or_else(|| {
            ApiError::new(
                "AuthFailure.InvalidAuthorization",
                "The request carries no Authorization header.",
            )
        })?;
        let auth = tencent_api::sign::parse_authorization(header).ok_or_else(|| {
            ApiError::new(
                "AuthFailure.InvalidAuthorization",
                "The Authorization header is not a well-formed TC3-HMAC-SHA256 header.",
            )
        })?;
        if auth.secret_id != self.tencent.secret_id {
            return Err(ApiError::new(
                "AuthFailure.SecretIdNotFound",
                "The SecretId is not found; check that it is correct and enabled.",
            ));
        }
        let timestamp = req
            .header("x-tc-timestamp")
            .ok_or_else(|| ApiError::missing_parameter("X-TC-Timestamp"))?;
        let timestamp: i64 = timestamp.trim().parse().map_err(|_| {
            ApiError::new(
                "InvalidParameterValue",
                "X-TC-Timestamp must be a decimal number of seconds since the epoch.",
            )
        })?;
        if now.abs_diff(timestamp) > TENCENT_MAX_SKEW.as_secs() {
            return Err(ApiError::new(
                "AuthFailure.SignatureExpire",
                "The signature has expired: X-TC-Timestamp is more than five minutes away from the server time.",
            ));
        }
        let sent_token = req.header("x-tc-token");
        if sent_token != self.tencent.token.as_deref() {
            return Err(ApiError::new(
                "AuthFailure.TokenFailure",
                "The X-TC-Token does not belong to these credentials.",
            ));
        }
        let mut names: Vec<String> = auth
            .signed_headers
            .iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        names.sort();
        let accepted = [
            &["content-type", "host"][..],
            &["content-type", "host", "x-tc-action"][..],
        ];
        if !accepted.iter().any(|list| *list == names.as_slice()) {
            return Err(ApiError::new(
                "AuthFailure.SignatureFailure",
                "SignedHeaders must be `content-type;host` or `content-type;host;x-tc-action`.",
            ));
        }
        if auth.service != service {
            return Err(ApiError::new(
                "AuthFailure.SignatureFailure",
                format!(
                    "The credential scope names service `{}`, but the request was sent to `{service}`.",
                    auth.service
                ),
            ));
        }
        // The scope must name the UTC date of X-TC-Timestamp; a client that
        // used its local date would otherwise pass here and fail on Tencent.
        if auth.date != tencent_api::sign::utc_date(timestamp) {
            return Err(ApiError::new(
                "AuthFailure.SignatureFailure",
                "The credential scope date is not the UTC date of X-TC-Timestamp.",
            ));
        }
        let values: Vec<(&str, &str)> = names
            .iter()
            .map(|name| (name.as_str(), req.header(name).unwrap_or("")))
            .collect();
        let input = tencent_api::sign::SignInput {
            method: req.method,
            path: req.path,
            query: req.query,
            headers: &values,
            payload: req.body,
            service: &auth.service,
            timestamp,
        };
        let expected = tencent_api::sign::sign(&input, &self.tencent.secret_id, &self.tencent.secret_key);
        if !same_signature(&expected.signature, &auth.signature) {
            return Err(ApiError::new(
                "AuthFailure.SignatureFailure",
                "The signature does not match the one computed from the request and the SecretKey.",
            ));
        }
        Ok(())
    }

    /// Verification of an Alibaba call: the legacy RPC signature when the
    /// query carries one (`Signature`, `SignatureMethod`), otherwise
    /// ACS3-HMAC-SHA256 from the `Authorization` header.
    pub(crate) fn verify_alibaba(&self, req: &SignedRequest<'_>) -> Result<(), ApiError> {
        if !self.enabled {
            return Ok(());
        }
        if is_rpc_signed(req) {
            self.check_alibaba_rpc(req, SystemTime::now(), Instant::now())
        } else {
            self.check_alibaba(req, SystemTime::now(), Instant::now())
        }
    }

    /// The legacy RPC signature (signature version 1.0, HMAC-SHA1), which
    /// ALB and GA still accept and which older SDKs, the official SDKs with
    /// `signature_algorithm="v2"`, and Terraform send: common parameters in
    /// the query (`AccessKeyId`, `Timestamp`, `SignatureNonce`,
    /// `SignatureMethod=HMAC-SHA1`, `SignatureVersion=1.0`), parameters in
    /// the query and the form body, and
    /// `Signature = Base64(HMAC-SHA1(secret + "&", METHOD&%2F&percent(canonical)))`
    /// where `canonical` is every parameter but `Signature`, sorted and
    /// percent-encoded (RFC 3986) as the ACS3 canonical query is. Refusals
    /// use the codes the RPC gateway answers (`IncompleteSignature`,
    /// `InvalidAccessKeyId.NotFound`, `InvalidTimeStamp.Format`,
    /// `InvalidTimeStamp.Expired`, `SignatureDoesNotMatch`,
    /// `SignatureNonceUsed`), in the same order as for ACS3.
    pub(crate) fn check_alibaba_rpc(
        &self,
        req: &SignedRequest<'_>,
        wall: SystemTime,
        now: Instant,
    ) -> Result<(), ApiError> {
        let param = |name: &str| {
            req.query_pairs
                .iter()
                .chain(req.form_pairs.iter())
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let incomplete = |message: &str| ApiError::new("IncompleteSignature", message);
        let method = param("SignatureMethod").unwrap_or("");
        if method != "HMAC-SHA1" {
            return Err(incomplete(
                "SignatureMethod must be HMAC-SHA1 for a signature in the query.",
            ));
        }
        if let Some(version) = param("SignatureVersion") {
            if version != "1.0" {
                return Err(incomplete("SignatureVersion must be 1.0."));
            }
        }
        let signature = param("Signature")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ApiError::missing_parameter("Signature"))?;
        let key_id = param("AccessKeyId").ok_or_else(|| ApiError::missing_parameter("AccessKeyId"))?;
        if key_id != self.alibaba.access_key_id {
            return Err(ApiError::new(
                "InvalidAccessKeyId.NotFound",
                "The specified AccessKey ID does not exist.",
            )
            .status(404));
        }
        let timestamp = param("Timestamp").ok_or_else(|| ApiError::missing_parameter("Timestamp"))?;
        let date = time::OffsetDateTime::parse(timestamp.trim(), &time::format_description::well_known::Rfc3339)
            .map_err(|_| {
                ApiError::new(
                    "InvalidTimeStamp.Format",
                    "Timestamp must be a UTC time like 2024-01-31T08:00:00Z.",
                )
            })?;
        let wall = time::OffsetDateTime::from(wall);
        if (wall - date).unsigned_abs() > ALIBABA_MAX_SKEW {
            return Err(ApiError::new(
                "InvalidTimeStamp.Expired",
                "The Timestamp is too far from the server time.",
            ));
        }
        let nonce = param("SignatureNonce")
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| ApiError::missing_parameter("SignatureNonce"))?;
        if param("SecurityToken") != self.alibaba.security_token.as_deref() {
            return Err(ApiError::new(
                "InvalidSecurityToken.MismatchWithAccessKey",
                "The security token does not belong to the AccessKey ID.",
            ));
        }
        let expected = rpc_signature(req.method, &signed_rpc_pairs(req), &self.alibaba.access_key_secret);
        if !same_signature(&expected, signature) {
            return Err(ApiError::new(
                "SignatureDoesNotMatch",
                "The request signature does not match the one computed from the request and the AccessKey secret.",
            )
            .status(403));
        }
        self.fresh_nonce(nonce.trim(), now)
    }

    fn fresh_nonce(&self, nonce: &str, now: Instant) -> Result<(), ApiError> {
        let fresh = self
            .nonces
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert_fresh(nonce, now);
        if !fresh {
            return Err(ApiError::new(
                "SignatureNonceUsed",
                "The signature nonce has been used within the last 15 minutes.",
            ));
        }
        Ok(())
    }

    pub(crate) fn check_alibaba(
        &self,
        req: &SignedRequest<'_>,
        wall: SystemTime,
        now: Instant,
    ) -> Result<(), ApiError> {
        let incomplete = |message: &str| ApiError::new("IncompleteSignature", message);
        let header = req
            .header("authorization")
            .ok_or_else(|| incomplete("The request carries no Authorization header."))?;
        let auth = alibaba_api::sign::parse_authorization(header)
            .ok_or_else(|| incomplete("The Authorization header is not a well-formed ACS3-HMAC-SHA256 header."))?;
        if auth.access_key_id != self.alibaba.access_key_id {
            return Err(ApiError::new(
                "InvalidAccessKeyId.NotFound",
                "The specified AccessKey ID does not exist.",
            )
            .status(404));
        }
        let date = req
            .header("x-acs-date")
            .ok_or_else(|| ApiError::missing_parameter("x-acs-date"))?;
        let date =
            time::OffsetDateTime::parse(date.trim(), &time::format_description::well_known::Rfc3339).map_err(|_| {
                ApiError::new(
                    "InvalidTimeStamp.Format",
                    "x-acs-date must be a UTC time like 2024-01-31T08:00:00Z.",
                )
            })?;
        let wall = time::OffsetDateTime::from(wall);
        if (wall - date).unsigned_abs() > ALIBABA_MAX_SKEW {
            return Err(ApiError::new(
                "InvalidTimeStamp.Expired",
                "x-acs-date is too far from the server time.",
            ));
        }
        let nonce = req
            .header("x-acs-signature-nonce")
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| ApiError::missing_parameter("x-acs-signature-nonce"))?;
        let sent_token = req.header("x-acs-security-token");
        if sent_token != self.alibaba.security_token.as_deref() {
            return Err(ApiError::new(
                "InvalidSecurityToken.MismatchWithAccessKey",
                "The security token does not belong to the AccessKey ID.",
            ));
        }
        let signed: Vec<String> = auth
            .signed_headers
            .iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        let always = [
            "host",
            "x-acs-action",
            "x-acs-version",
            "x-acs-date",
            "x-acs-signature-nonce",
        ];
        let when_sent = [
            "content-type",
            "x-acs-content-sha256",
            "x-acs-security-token",
            "x-acs-accesskey-id",
        ];
        let must_sign = always
            .iter()
            .chain(when_sent.iter().filter(|h| req.headers.contains_key(**h)));
        for name in must_sign {
            if !signed.iter().any(|s| s == name) {
                return Err(incomplete(&format!(
                    "The header `{name}` must be listed in SignedHeaders."
                )));
            }
        }
        if let Some(claimed) = req.header("x-acs-content-sha256") {
            if !claimed
                .trim()
                .eq_ignore_ascii_case(&alibaba_api::sign::payload_hash(req.body))
            {
                return Err(ApiError::new(
                    "SignatureDoesNotMatch",
                    "x-acs-content-sha256 is not the SHA-256 of the body sent.",
                )
                .status(403));
            }
        }
        let values: Vec<(&str, &str)> = signed
            .iter()
            .map(|name| (name.as_str(), req.header(name).unwrap_or("")))
            .collect();
        let input = alibaba_api::sign::SignInput {
            method: req.method,
            path: req.path,
            query: req.query_pairs,
            headers: &values,
            payload: req.body,
        };
        let expected = alibaba_api::sign::sign(&input, &self.alibaba.access_key_id, &self.alibaba.access_key_secret);
        if !same_signature(&expected.signature, &auth.signature) {
            return Err(ApiError::new(
                "SignatureDoesNotMatch",
                "The request signature does not match the one computed from the request and the AccessKey secret.",
            )
            .status(403));
        }
        self.fresh_nonce(nonce.trim(), now)
    }
}

/// Whether an Alibaba request is signed the legacy way (in the query)
/// rather than with an ACS3 `Authorization` header.
fn is_rpc_signed(req: &SignedRequest<'_>) -> bool {
    let acs3 = req
        .header("authorization")
        .is_some_and(|a| a.trim_start().starts_with("ACS3-"));
    !acs3
        && req
            .query_pairs
            .iter()
            .any(|(k, _)| k == "Signature" || k == "SignatureMethod")
}

/// The pairs the legacy signature covers: query and form body, without
/// `Signature` itself.
fn signed_rpc_pairs(req: &SignedRequest<'_>) -> Vec<(String, String)> {
    req.query_pairs
        .iter()
        .chain(req.form_pairs.iter())
        .filter(|(k, _)| k != "Signature")
        .cloned()
        .collect()
}

/// `Base64(HMAC-SHA1(secret + "&", METHOD&%2F&percent(canonical query)))`,
/// the legacy RPC signature of decoded `pairs`.
pub(crate) fn rpc_signature(method: &str, pairs: &[(String, String)], secret: &str) -> String {
    use base64::Engine as _;
    use hmac::{Hmac, Mac};
    let canonical = alibaba_api::sign::canonical_query(pairs);
    let string_to_sign = format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        alibaba_api::sign::percent_encode("/"),
        alibaba_api::sign::percent_encode(&canonical)
    );
    let mut mac =
        Hmac::<sha1::Sha1>::new_from_slice(format!("{secret}&").as_bytes()).expect("HMAC accepts a key of any length");
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_is_refused_inside_the_window_and_accepted_after_it() {
        let mut cache = NonceCache::default();
        let t0 = Instant::now();
        assert!(cache.insert_fresh("n1", t0));
        assert!(!cache.insert_fresh("n1", t0 + Duration::from_secs(60)));
        assert!(cache.insert_fresh("n2", t0 + Duration::from_secs(60)));
        let later = t0 + NONCE_WINDOW + Duration::from_secs(1);
        assert!(cache.insert_fresh("n1", later));
        // Expired entries are pruned as time passes.
        assert!(cache.seen.len() <= 2);
    }

    fn tencent_verifier() -> Verifier {
        Verifier::new(true, TencentCredentials::default(), AlibabaCredentials::default())
    }

    /// A GAAP call signed at `timestamp`, with `scope_date` written into
    /// the Authorization header instead of the date the key was derived from.
    fn tencent_call(timestamp: i64, scope_date: Option<&str>) -> HeaderMap {
        let creds = TencentCredentials::default();
        let headers = [("content-type", "application/json"), ("host", "127.0.0.1:1")];
        let signed = tencent_api::sign::sign(
            &tencent_api::sign::SignInput {
                method: "POST",
                path: "/",
                query: "",
                headers: &headers,
                payload: b"{}",
                service: "gaap",
                timestamp,
            },
            &creds.secret_id,
            &creds.secret_key,
        );
        let mut authorization = signed.authorization.clone();
        if let Some(date) = scope_date {
            authorization = authorization.replace(&tencent_api::sign::utc_date(timestamp), date);
        }
        let mut map = HeaderMap::new();
        for (name, value) in [
            ("content-type", "application/json".to_string()),
            ("host", "127.0.0.1:1".to_string()),
            ("x-tc-timestamp", timestamp.to_string()),
            ("authorization", authorization),
        ] {
            map.insert(name, value.parse().expect("header value"));
        }
        map
    }

    fn check(headers: &HeaderMap, now: i64) -> Result<(), ApiError> {
        let req = SignedRequest {
            method: "POST",
            path: "/",
            query: "",
            query_pairs: &[],
            form_pairs: &[],
            headers,
            body: b"{}",
        };
        tencent_verifier().check_tencent(&req, "gaap", now)
    }

    #[test]
    fn tencent_call_signed_with_the_utc_date_passes() {
        let now = 1_551_139_199; // 2019-02-25T23:59:59Z
        assert!(check(&tencent_call(now, None), now).is_ok());
    }

    #[test]
    fn tencent_scope_date_other_than_the_utc_date_is_refused() {
        let now = 1_551_139_199;
        let err = check(&tencent_call(now, Some("2019-02-26")), now).expect_err("wrong scope date");
        assert_eq!(err.code, "AuthFailure.SignatureFailure");
    }

    #[test]
    fn signature_comparison_needs_equal_length_and_bytes() {
        assert!(same_signature("abc", "abc"));
        assert!(!same_signature("abc", "abd"));
        assert!(!same_signature("abc", "ab"));
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn rpc_signature_matches_the_published_vector() {
        let p = pairs(&[
            ("AccessKeyId", "testid"),
            ("Action", "DescribeRegions"),
            ("Format", "XML"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
            ("SignatureVersion", "1.0"),
            ("Timestamp", "2016-02-23T12:46:24Z"),
            ("Version", "2014-05-26"),
        ]);
        assert_eq!(rpc_signature("GET", &p, "testsecret"), "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
    }

    const RPC_TIME: &str = "2026-01-02T03:04:05Z";

    /// Query pairs and form-body pairs of one legacy-signed call.
    type RpcCall = (Vec<(String, String)>, Vec<(String, String)>);

    /// A GA `ListListeners` call signed the legacy way with `secret`, a
    /// name with a space in the form body.
    fn rpc_call(key_id: &str, secret: &str, timestamp: &str, nonce: &str) -> RpcCall {
        let mut query = pairs(&[
            ("AccessKeyId", key_id),
            ("Action", "ListListeners"),
            ("Format", "json"),
            ("RegionId", "cn-hangzhou"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", nonce),
            ("SignatureVersion", "1.0"),
            ("Timestamp", timestamp),
            ("Version", "2019-11-20"),
        ]);
        let form = pairs(&[("Name", "监听 a+b")]);
        let mut all = query.clone();
        all.extend(form.clone());
        query.push(("Signature".into(), rpc_signature("POST", &all, secret)));
        (query, form)
    }

    fn check_rpc(verifier: &Verifier, call: &RpcCall) -> Result<(), ApiError> {
        let headers = HeaderMap::new();
        let req = SignedRequest {
            method: "POST",
            path: "/",
            query: "",
            query_pairs: &call.0,
            form_pairs: &call.1,
            headers: &headers,
            body: b"",
        };
        assert!(is_rpc_signed(&req));
        let wall = time::OffsetDateTime::parse(RPC_TIME, &time::format_description::well_known::Rfc3339).expect("time");
        verifier.check_alibaba_rpc(&req, wall.into(), Instant::now())
    }

    fn alibaba_verifier() -> Verifier {
        Verifier::new(true, TencentCredentials::default(), AlibabaCredentials::default())
    }

    #[test]
    fn rpc_signed_call_is_accepted_once_per_nonce() {
        let creds = AlibabaCredentials::default();
        let v = alibaba_verifier();
        let call = rpc_call(&creds.access_key_id, &creds.access_key_secret, RPC_TIME, "n-1");
        assert_eq!(check_rpc(&v, &call), Ok(()));
        assert_eq!(check_rpc(&v, &call).unwrap_err().code, "SignatureNonceUsed");
    }

    #[test]
    fn rpc_refusals_answer_the_vendor_codes() {
        let creds = AlibabaCredentials::default();
        let v = alibaba_verifier();
        let wrong_key = rpc_call(&creds.access_key_id, "not-the-secret", RPC_TIME, "n-2");
        let err = check_rpc(&v, &wrong_key).unwrap_err();
        assert_eq!((err.code.as_str(), err.http_status), ("SignatureDoesNotMatch", 403));
        let unknown = rpc_call("LTAIunknown", &creds.access_key_secret, RPC_TIME, "n-3");
        let err = check_rpc(&v, &unknown).unwrap_err();
        assert_eq!(
            (err.code.as_str(), err.http_status),
            ("InvalidAccessKeyId.NotFound", 404)
        );
        let old = rpc_call(
            &creds.access_key_id,
            &creds.access_key_secret,
            "2025-12-31T00:00:00Z",
            "n-4",
        );
        assert_eq!(check_rpc(&v, &old).unwrap_err().code, "InvalidTimeStamp.Expired");
        let garbled = rpc_call(&creds.access_key_id, &creds.access_key_secret, "yesterday", "n-5");
        assert_eq!(check_rpc(&v, &garbled).unwrap_err().code, "InvalidTimeStamp.Format");
        let mut tampered = rpc_call(&creds.access_key_id, &creds.access_key_secret, RPC_TIME, "n-6");
        tampered.1[0].1 = "监听 a b".into();
        assert_eq!(check_rpc(&v, &tampered).unwrap_err().code, "SignatureDoesNotMatch");
        let mut sha256 = rpc_call(&creds.access_key_id, &creds.access_key_secret, RPC_TIME, "n-7");
        for (k, val) in sha256.0.iter_mut() {
            if k == "SignatureMethod" {
                *val = "HMAC-SHA256".into();
            }
        }
        assert_eq!(check_rpc(&v, &sha256).unwrap_err().code, "IncompleteSignature");
    }
}
