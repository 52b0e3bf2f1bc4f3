//! ACS3-HMAC-SHA256 (Alibaba Cloud signature V3) as pure functions.
//!
//! Nothing here reads a clock, draws a random number or does I/O: the date
//! and nonce arrive as ordinary signed headers. That keeps the published test
//! vectors plain unit tests, and lets the emulator verify a request with the
//! very same code the client signs it with (a verifier that drifted from the
//! signer would hide bugs on both sides).
//!
//! The recipe, in short: a canonical request (method, path, canonical query,
//! canonical headers, signed-header list, payload hash) is hashed with
//! SHA-256; the string to sign is the algorithm name and that hash; the
//! signature is HMAC-SHA256 of it keyed with the raw secret. There is no date
//! scope and no key derivation, unlike the Tencent and AWS schemes.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The algorithm name that opens the string to sign and the `Authorization`
/// header.
pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// SHA-256 of an empty body, which every RPC request (parameters in the
/// query) carries in `x-acs-content-sha256`.
pub const EMPTY_PAYLOAD_HASH: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Percent-encode over UTF-8 the way the signature expects (RFC 3986).
///
/// Only `A-Z a-z 0-9 - _ . ~` stay literal; everything else, including
/// space (`%20`, never `+`), `*`, `/` and `+`, becomes `%XX` with upper-case
/// hex. Form encoding or "URL path" encoders differ on exactly those
/// characters, which is why the signer carries its own.
pub fn percent_encode(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
    out
}

/// The canonical query string: names and values percent-encoded, pairs
/// sorted by encoded name (byte order), `name=value` joined with `&`.
///
/// The client sends exactly this string as the URL query, so what the server
/// re-derives from the URL is what was signed. No parameters give `""`.
/// Pairs with equal names keep their relative order (a stable sort), though
/// RPC requests never repeat a name.
pub fn canonical_query(params: &[(String, String)]) -> String {
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (percent_encode(k), percent_encode(v)))
        .collect();
    encoded.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut out = String::new();
    for (i, (k, v)) in encoded.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// Lower-case hex SHA-256 of the body bytes, the `x-acs-content-sha256`
/// value and the last line of the canonical request.
pub fn payload_hash(payload: &[u8]) -> String {
    hex::encode(Sha256::digest(payload))
}

/// Everything the signature covers.
///
/// The caller chooses which headers to sign (at least `host` and every
/// `x-acs-*` header); the server follows the `SignedHeaders` list, so signing
/// more is harmless and signing fewer is refused.
#[derive(Debug, Clone, Copy)]
pub struct SignInput<'a> {
    /// HTTP method, e.g. `POST`.
    pub method: &'a str,
    /// Canonical URI; `/` for RPC.
    pub path: &'a str,
    /// Query parameters, raw (not yet percent-encoded).
    pub query: &'a [(String, String)],
    /// Headers to sign as `(name, value)`; names are lower-cased, values
    /// trimmed and the list sorted by the signer.
    pub headers: &'a [(&'a str, &'a str)],
    /// The exact body bytes (empty for RPC).
    pub payload: &'a [u8],
}

/// Every intermediate of a signature, so a failing comparison with a
/// published vector shows which step went wrong.
///
/// The HMAC output cannot be inverted to the secret, but the signature and
/// the `Authorization` value authorise the request they were made for, so
/// `Debug` prints them as `<redacted>` (as the Tencent signer does).
#[derive(Clone, PartialEq, Eq)]
pub struct Signed {
    /// The query string to send, exactly as signed.
    pub canonical_query: String,
    /// The canonical request whose hash is signed.
    pub canonical_request: String,
    /// `ACS3-HMAC-SHA256` LF hex SHA-256 of the canonical request.
    pub string_to_sign: String,
    /// Lower-case hex HMAC-SHA256 of the string to sign.
    pub signature: String,
    /// The signed header names, sorted, joined with `;`.
    pub signed_headers: String,
    /// The complete `Authorization` header value.
    pub authorization: String,
}

impl std::fmt::Debug for Signed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signed")
            .field("canonical_query", &self.canonical_query)
            .field("canonical_request", &self.canonical_request)
            .field("string_to_sign", &self.string_to_sign)
            .field("signature", &"<redacted>")
            .field("signed_headers", &self.signed_headers)
            .field("authorization", &"<redacted>")
            .finish()
    }
}

/// Sign a request; pure, so the same inputs always give the same output.
pub fn sign(input: &SignInput<'_>, access_key_id: &str, access_key_secret: &str) -> Signed {
    let canonical_query = canonical_query(input.query);

    let mut headers: Vec<(String, &str)> = input
        .headers
        .iter()
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim()))
        .collect();
    headers.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));

    let mut canonical_headers = String::new();
    for (name, value) in &headers {
        canonical_headers.push_str(name);
        canonical_headers.push(':');
        canonical_headers.push_str(value);
        canonical_headers.push('\n');
    }
    let signed_headers = headers
        .iter()
        .map(|(name, _)| name.as_str())
        .collect::<Vec<_>>()
        .join(";");

    // The canonical headers already end in LF, so joining with LF leaves
    // an empty-looking line before the signed-header list, as the recipe
    // requires.
    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        input.method,
        input.path,
        canonical_query,
        canonical_headers,
        signed_headers,
        payload_hash(input.payload)
    );
    let string_to_sign = format!(
        "{ALGORITHM}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let signature = hmac_hex(access_key_secret.as_bytes(), string_to_sign.as_bytes());
    let authorization =
        format!("{ALGORITHM} Credential={access_key_id},SignedHeaders={signed_headers},Signature={signature}");
    Signed {
        canonical_query,
        canonical_request,
        string_to_sign,
        signature,
        signed_headers,
        authorization,
    }
}

fn hmac_hex(key: &[u8], message: &[u8]) -> String {
    // HMAC accepts keys of any length (long keys are hashed first), so
    // `new_from_slice` cannot fail here; the fallback only satisfies the
    // type and would yield a signature the server refuses, never a panic.
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(message);
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// The three fields of an `Authorization` header, as a verifier needs them.
/// `Debug` leaves the signature out, as for [`Signed`].
#[derive(Clone, PartialEq, Eq)]
pub struct ParsedAuthorization {
    /// The `Credential=` value: the AccessKey ID (or STS key id).
    pub access_key_id: String,
    /// The `SignedHeaders=` names, in the order sent.
    pub signed_headers: Vec<String>,
    /// The `Signature=` hex value.
    pub signature: String,
}

impl std::fmt::Debug for ParsedAuthorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedAuthorization")
            .field("access_key_id", &self.access_key_id)
            .field("signed_headers", &self.signed_headers)
            .field("signature", &"<redacted>")
            .finish()
    }
}

/// Split an `Authorization` header into its parts.
///
/// `None` for anything that is not exactly `ACS3-HMAC-SHA256 ` followed by
/// the three comma-separated `key=value` fields, each present once and none
/// empty. A verifier treats `None` as a signature failure.
pub fn parse_authorization(header: &str) -> Option<ParsedAuthorization> {
    let rest = header.trim().strip_prefix(ALGORITHM)?.strip_prefix(' ')?;
    let mut credential = None;
    let mut signed = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (key, value) = part.trim().split_once('=')?;
        if value.is_empty() {
            return None;
        }
        let slot = match key {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed,
            "Signature" => &mut signature,
            _ => return None,
        };
        if slot.replace(value.to_string()).is_some() {
            return None;
        }
    }
    let signed_headers: Vec<String> = signed?.split(';').map(str::to_string).collect();
    if signed_headers.iter().any(String::is_empty) {
        return None;
    }
    Some(ParsedAuthorization {
        access_key_id: credential?,
        signed_headers,
        signature: signature?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "YourAccessKeyId";
    const SECRET: &str = "YourAccessKeySecret";
    const DATE: &str = "2023-10-26T10:22:32Z";
    const NONCE: &str = "3156853299f313e23d1673dc12e1703d";

    /// Parse a canonical query back into raw pairs, so the vectors below can
    /// be written exactly as the factsheet prints them.
    fn raw_pairs(query: &str) -> Vec<(String, String)> {
        query
            .split('&')
            .map(|kv| {
                let (k, v) = kv.split_once('=').expect("vector pair");
                (decode(k), decode(v))
            })
            .collect()
    }

    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).expect("hex"));
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).expect("utf-8")
    }

    fn sign_vector(host: &str, action: &str, version: &str, query: &[(String, String)]) -> Signed {
        let headers = [
            ("host", host),
            ("x-acs-action", action),
            ("x-acs-version", version),
            ("x-acs-date", DATE),
            ("x-acs-signature-nonce", NONCE),
            ("x-acs-content-sha256", EMPTY_PAYLOAD_HASH),
        ];
        sign(
            &SignInput {
                method: "POST",
                path: "/",
                query,
                headers: &headers,
                payload: b"",
            },
            ID,
            SECRET,
        )
    }

    fn cr_hash(signed: &Signed) -> &str {
        signed
            .string_to_sign
            .strip_prefix("ACS3-HMAC-SHA256\n")
            .expect("string to sign starts with the algorithm")
    }

    #[test]
    fn published_run_instances_vector_matches_byte_for_byte() {
        let query = vec![
            ("RegionId".to_string(), "cn-shanghai".to_string()),
            (
                "ImageId".to_string(),
                "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd".to_string(),
            ),
        ];
        let s = sign_vector("ecs.cn-shanghai.aliyuncs.com", "RunInstances", "2014-05-26", &query);
        assert_eq!(
            s.canonical_query,
            "ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai"
        );
        let expected_cr = "POST\n/\nImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai\n\
host:ecs.cn-shanghai.aliyuncs.com\nx-acs-action:RunInstances\n\
x-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
x-acs-date:2023-10-26T10:22:32Z\nx-acs-signature-nonce:3156853299f313e23d1673dc12e1703d\n\
x-acs-version:2014-05-26\n\n\
host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n\
e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(s.canonical_request, expected_cr);
        assert_eq!(
            cr_hash(&s),
            "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
        );
        assert_eq!(
            s.signature,
            "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
        );
        assert_eq!(
            s.signed_headers,
            "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"
        );
        assert_eq!(
            s.authorization,
            "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
        );
    }

    /// The vendor page prints the signature above next to a different date
    /// (`09:01:01Z`) and a nonce starting `d410180a`; such inputs must NOT
    /// reproduce it (the factsheet only quotes the nonce's prefix, so the
    /// rest of it here is filler).
    #[test]
    fn vendor_page_decoy_date_and_nonce_do_not_reproduce_the_published_signature() {
        let query = raw_pairs("ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai");
        let headers = [
            ("host", "ecs.cn-shanghai.aliyuncs.com"),
            ("x-acs-action", "RunInstances"),
            ("x-acs-version", "2014-05-26"),
            ("x-acs-date", "2023-10-26T09:01:01Z"),
            ("x-acs-signature-nonce", "d410180a5abf7fe235dd9b74aca91fc0"),
            ("x-acs-content-sha256", EMPTY_PAYLOAD_HASH),
        ];
        let s = sign(
            &SignInput {
                method: "POST",
                path: "/",
                query: &query,
                headers: &headers,
                payload: b"",
            },
            ID,
            SECRET,
        );
        assert_ne!(
            s.signature,
            "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
        );
    }

    #[test]
    fn alb_create_listener_vector() {
        let cq = "CaEnabled=false&Certificates.1.CertificateId=103705&ClientToken=123e4567-e89b-12d3-a456-426655440000&DefaultActions.1.ForwardGroupConfig.ServerGroupTuples.1.ServerGroupId=sgp-8ilqs4axp6&DefaultActions.1.Type=ForwardGroup&ListenerDescription=web%20listener&ListenerPort=443&ListenerProtocol=HTTPS&LoadBalancerId=alb-n5qw04uq8vavfe&XForwardedForConfig.XForwardedForEnabled=true";
        let s = sign_vector(
            "alb.cn-hangzhou.aliyuncs.com",
            "CreateListener",
            "2020-06-16",
            &raw_pairs(cq),
        );
        assert_eq!(s.canonical_query, cq);
        assert_eq!(
            cr_hash(&s),
            "29bc6178db7a45f78a3cef09afb4248cfd59a3de80493c171073f3368e1ced7a"
        );
        assert_eq!(
            s.signature,
            "aba191546ea7fefc929c28beb3556f8a4a1daf4d43a90e4230cf85482bdbdf14"
        );
    }

    #[test]
    fn ga_create_listener_vector() {
        let cq = "AcceleratorId=ga-bp1odcab8tmno0hdq&ClientToken=123e4567-e89b-12d3-a456-426655440000&Name=Listener&PortRanges.1.FromPort=80&PortRanges.1.ToPort=90&PortRanges.2.FromPort=443&PortRanges.2.ToPort=443&Protocol=tcp&RegionId=cn-hangzhou";
        let s = sign_vector(
            "ga.cn-hangzhou.aliyuncs.com",
            "CreateListener",
            "2019-11-20",
            &raw_pairs(cq),
        );
        assert_eq!(s.canonical_query, cq);
        assert_eq!(
            cr_hash(&s),
            "715f69a20f279b53bc033ec14a0723116fa10873e6ff1b70feec4999cadc4c94"
        );
        assert_eq!(
            s.signature,
            "ea41a328db5425cbb0a9cded69da5fbd4f5e91f9a7c5bcb048f8b853a4180b4b"
        );
    }

    #[test]
    fn ga_vector_with_utf8_and_reserved_characters() {
        let query = vec![
            ("RegionId".to_string(), "cn-hangzhou".to_string()),
            ("AcceleratorId".to_string(), "ga-bp1odcab8tmno0hdq".to_string()),
            ("Name".to_string(), "监听 1".to_string()),
            ("Description".to_string(), "a*b~c/d+e".to_string()),
            ("Protocol".to_string(), "https".to_string()),
            ("PortRanges.1.FromPort".to_string(), "443".to_string()),
            ("PortRanges.1.ToPort".to_string(), "443".to_string()),
            ("Certificates.1.Id".to_string(), "449-cn-hangzhou".to_string()),
            ("XForwardedForConfig.XRealIpEnabled".to_string(), "true".to_string()),
        ];
        let s = sign_vector("ga.cn-hangzhou.aliyuncs.com", "CreateListener", "2019-11-20", &query);
        assert_eq!(
            s.canonical_query,
            "AcceleratorId=ga-bp1odcab8tmno0hdq&Certificates.1.Id=449-cn-hangzhou&Description=a%2Ab~c%2Fd%2Be&Name=%E7%9B%91%E5%90%AC%201&PortRanges.1.FromPort=443&PortRanges.1.ToPort=443&Protocol=https&RegionId=cn-hangzhou&XForwardedForConfig.XRealIpEnabled=true"
        );
        assert_eq!(
            cr_hash(&s),
            "64670385ac46a679d72d9ae11d273329dc3f21386e54d765f6dbb4727b0205ef"
        );
        assert_eq!(
            s.signature,
            "f01aa9fb8e275ba86d1ce08afb5e422bfcbbba70f139e9d84b0287e53f020079"
        );
    }

    #[test]
    fn ga_vector_with_sts_headers() {
        let query = raw_pairs("ListenerId=lsr-bp1bpn0kn908w4nbw&RegionId=cn-hangzhou");
        // Deliberately unsorted and mixed-case: the signer must normalise.
        let headers = [
            ("X-Acs-Security-Token", "YourSecurityToken"),
            ("host", "ga.cn-hangzhou.aliyuncs.com"),
            ("x-acs-action", "DescribeListener"),
            ("x-acs-version", "2019-11-20"),
            ("x-acs-date", DATE),
            ("x-acs-signature-nonce", NONCE),
            ("x-acs-content-sha256", EMPTY_PAYLOAD_HASH),
            ("x-acs-accesskey-id", " STS.YourAccessKeyId "),
        ];
        let s = sign(
            &SignInput {
                method: "POST",
                path: "/",
                query: &query,
                headers: &headers,
                payload: b"",
            },
            "STS.YourAccessKeyId",
            SECRET,
        );
        assert_eq!(
            s.signed_headers,
            "host;x-acs-accesskey-id;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-security-token;x-acs-signature-nonce;x-acs-version"
        );
        assert_eq!(
            s.signature,
            "6a779d3516a461549e0ba9e26200bfa4bd6b2b2fef01d779c89c8a18a2e54ede"
        );
        assert!(s
            .authorization
            .starts_with("ACS3-HMAC-SHA256 Credential=STS.YourAccessKeyId,SignedHeaders=host;x-acs-accesskey-id;"));
    }

    #[test]
    fn percent_encode_keeps_only_unreserved_characters() {
        assert_eq!(percent_encode("AZaz09-_.~"), "AZaz09-_.~");
        assert_eq!(percent_encode(" *+/=&%"), "%20%2A%2B%2F%3D%26%25");
        assert_eq!(percent_encode("é"), "%C3%A9");
        assert_eq!(percent_encode(""), "");
    }

    #[test]
    fn canonical_query_of_nothing_is_empty_and_empty_values_keep_the_equals_sign() {
        assert_eq!(canonical_query(&[]), "");
        let q = vec![("B".to_string(), String::new()), ("A".to_string(), "1".to_string())];
        assert_eq!(canonical_query(&q), "A=1&B=");
    }

    #[test]
    fn canonical_query_sorts_by_bytes_not_by_locale() {
        // Upper-case letters sort before lower-case ones in byte order,
        // and `.` (0x2E) before digits.
        let q = vec![
            ("a".to_string(), "1".to_string()),
            ("B".to_string(), "2".to_string()),
            ("A.1".to_string(), "3".to_string()),
            ("A1".to_string(), "4".to_string()),
        ];
        assert_eq!(canonical_query(&q), "A.1=3&A1=4&B=2&a=1");
    }

    #[test]
    fn payload_hash_of_empty_body_is_the_well_known_value() {
        assert_eq!(payload_hash(b""), EMPTY_PAYLOAD_HASH);
    }

    #[test]
    fn parse_authorization_round_trips_a_signed_header() {
        let s = sign_vector("alb.cn-hangzhou.aliyuncs.com", "ListListeners", "2020-06-16", &[]);
        let p = parse_authorization(&s.authorization).expect("parses");
        assert_eq!(p.access_key_id, ID);
        assert_eq!(p.signature, s.signature);
        assert_eq!(p.signed_headers.join(";"), s.signed_headers);
    }

    #[test]
    fn debug_output_leaves_out_signature_and_authorization() {
        let s = sign_vector("alb.cn-hangzhou.aliyuncs.com", "ListListeners", "2020-06-16", &[]);
        let p = parse_authorization(&s.authorization).expect("parses");
        for shown in [format!("{s:?}"), format!("{p:?}")] {
            assert!(!shown.contains(&s.signature), "{shown}");
            assert!(shown.contains("<redacted>"), "{shown}");
        }
    }

    #[test]
    fn parse_authorization_rejects_malformed_headers() {
        let good = "ACS3-HMAC-SHA256 Credential=k,SignedHeaders=host;x-acs-date,Signature=ab";
        assert!(parse_authorization(good).is_some());
        for bad in [
            "",
            "ACS3-HMAC-SHA1 Credential=k,SignedHeaders=host,Signature=ab",
            "ACS3-HMAC-SHA256Credential=k,SignedHeaders=host,Signature=ab",
            "ACS3-HMAC-SHA256 Credential=k,SignedHeaders=host",
            "ACS3-HMAC-SHA256 Credential=,SignedHeaders=host,Signature=ab",
            "ACS3-HMAC-SHA256 Credential=k,Credential=j,SignedHeaders=host,Signature=ab",
            "ACS3-HMAC-SHA256 Credential=k,SignedHeaders=host;;x,Signature=ab",
            "ACS3-HMAC-SHA256 Credential=k,SignedHeaders=host,Signature=ab,Extra=1",
            "ACS3-HMAC-SHA256 Credential=k;SignedHeaders=host;Signature=ab",
        ] {
            assert_eq!(parse_authorization(bad), None, "{bad:?}");
        }
    }
}
