//! TC3-HMAC-SHA256, the signature of Tencent Cloud API 3.0, as a pure function.
//!
//! Signing takes the request parts, the time and the key and returns text;
//! it reads no clock and does no I/O. That keeps the published test vectors
//! plain unit tests, and lets the emulator verify a request with the very
//! code that signed it (it calls [`sign`] with the received headers and
//! compares the signature, after [`parse_authorization`] told it which
//! headers and which date the client used).

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// The algorithm name, first word of the Authorization header and of the
/// string to sign.
pub const ALGORITHM: &str = "TC3-HMAC-SHA256";

/// Last element of every credential scope.
const SCOPE_TERMINATOR: &str = "tc3_request";

/// Everything about one request that the signature covers.
///
/// Borrowed, so the client can sign the exact bytes and header values it is
/// about to send without copying, and the emulator can sign what it received.
#[derive(Debug, Clone, Copy)]
pub struct SignInput<'a> {
    /// HTTP method, `POST` for every call the SDKs make.
    pub method: &'a str,
    /// Canonical URI, `/` for API 3.0.
    pub path: &'a str,
    /// Canonical query string, empty for POST.
    pub query: &'a str,
    /// The headers to sign, as `(name, value)`. Names are lower-cased,
    /// values trimmed and lower-cased, and the list sorted by name, so the
    /// caller may pass them as they appear on the wire. The SDKs sign
    /// `content-type` and `host`; a newer documentation revision adds
    /// `x-tc-action`, which the server also accepts.
    pub headers: &'a [(&'a str, &'a str)],
    /// The exact body bytes; a single changed byte changes the signature.
    pub payload: &'a [u8],
    /// Service name for the credential scope (`gaap`, `clb`, `cvm`), the
    /// same for domestic and international hosts.
    pub service: &'a str,
    /// Unix seconds, as sent in `X-TC-Timestamp`. The credential-scope date
    /// is the UTC date of this instant, never the local one: local dates
    /// break signatures around midnight.
    pub timestamp: i64,
}

/// The intermediate texts and the result of signing, so a failed
/// verification can be explained step by step.
#[derive(Clone, PartialEq, Eq)]
pub struct Signed {
    /// The six-line canonical request.
    pub canonical_request: String,
    /// The four-line string the final HMAC covers.
    pub string_to_sign: String,
    /// Lower-case hex HMAC-SHA256 of the string to sign.
    pub signature: String,
    /// The full `Authorization` header value.
    pub authorization: String,
    /// Signed header names, lower-case, sorted, `;`-joined.
    pub signed_headers: String,
    /// `<UTC date>/<service>/tc3_request`.
    pub credential_scope: String,
}

impl std::fmt::Debug for Signed {
    /// The Authorization value and the signature are credentials for five
    /// minutes (a replay window), so they are not printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signed")
            .field("canonical_request", &self.canonical_request)
            .field("string_to_sign", &self.string_to_sign)
            .field("signature", &"<redacted>")
            .field("authorization", &"<redacted>")
            .field("signed_headers", &self.signed_headers)
            .field("credential_scope", &self.credential_scope)
            .finish()
    }
}

/// Sign a request with TC3-HMAC-SHA256.
///
/// Total: any input gives a result (a nonsensical one if the input is
/// nonsensical), so verification code can call it on untrusted requests.
pub fn sign(input: &SignInput<'_>, secret_id: &str, secret_key: &str) -> Signed {
    let mut headers: Vec<(String, String)> = input
        .headers
        .iter()
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_ascii_lowercase()))
        .collect();
    // Stable sort: duplicated names keep the caller's order.
    headers.sort_by(|a, b| a.0.cmp(&b.0));

    let canonical_headers: String = headers
        .iter()
        .map(|(name, value)| format!("{name}:{value}\n"))
        .collect();
    let signed_headers = headers
        .iter()
        .map(|(name, _)| name.as_str())
        .collect::<Vec<_>>()
        .join(";");

    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        input.method,
        input.path,
        input.query,
        canonical_headers,
        signed_headers,
        sha256_hex(input.payload)
    );

    let date = utc_date(input.timestamp);
    let credential_scope = format!("{date}/{}/{SCOPE_TERMINATOR}", input.service);
    let string_to_sign = format!(
        "{ALGORITHM}\n{}\n{}\n{}",
        input.timestamp,
        credential_scope,
        sha256_hex(canonical_request.as_bytes())
    );

    let k_date = hmac(format!("TC3{secret_key}").as_bytes(), date.as_bytes());
    let k_service = hmac(&k_date, input.service.as_bytes());
    let k_signing = hmac(&k_service, SCOPE_TERMINATOR.as_bytes());
    let signature = hex::encode(hmac(&k_signing, string_to_sign.as_bytes()));

    let authorization = format!(
        "{ALGORITHM} Credential={secret_id}/{credential_scope}, SignedHeaders={signed_headers}, Signature={signature}"
    );

    Signed {
        canonical_request,
        string_to_sign,
        signature,
        authorization,
        signed_headers,
        credential_scope,
    }
}

/// The parts of a TC3 `Authorization` header a verifier needs.
#[derive(Clone, PartialEq, Eq)]
pub struct ParsedAuthorization {
    /// The SecretId the client claims (look its key up with it).
    pub secret_id: String,
    /// The credential-scope date, `YYYY-MM-DD`.
    pub date: String,
    /// The credential-scope service.
    pub service: String,
    /// The signed header names, in the order given.
    pub signed_headers: Vec<String>,
    /// The hex signature to compare.
    pub signature: String,
}

impl std::fmt::Debug for ParsedAuthorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedAuthorization")
            .field("secret_id", &self.secret_id)
            .field("date", &self.date)
            .field("service", &self.service)
            .field("signed_headers", &self.signed_headers)
            .field("signature", &"<redacted>")
            .finish()
    }
}

/// Split a TC3 `Authorization` header into its parts.
///
/// `None` when the header is not a well-formed TC3 header: another
/// algorithm, a missing part, or a scope that does not end in
/// `tc3_request`. Whitespace around the parts is tolerated; the order of
/// the three parts is not required.
pub fn parse_authorization(header: &str) -> Option<ParsedAuthorization> {
    let rest = header.trim().strip_prefix(ALGORITHM)?;
    // The algorithm must be followed by whitespace, not glued to more text.
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }

    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (key, value) = part.trim().split_once('=')?;
        let slot = match key.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => return None,
        };
        if slot.is_some() {
            return None;
        }
        *slot = Some(value.trim());
    }

    let mut scope = credential?.split('/');
    let secret_id = scope.next().filter(|s| !s.is_empty())?;
    let date = scope.next().filter(|s| !s.is_empty())?;
    let service = scope.next().filter(|s| !s.is_empty())?;
    if scope.next() != Some(SCOPE_TERMINATOR) || scope.next().is_some() {
        return None;
    }

    let signed_headers: Vec<String> = signed_headers?.split(';').map(|h| h.trim().to_string()).collect();
    if signed_headers.iter().any(String::is_empty) {
        return None;
    }
    let signature = signature.filter(|s| !s.is_empty())?;

    Some(ParsedAuthorization {
        secret_id: secret_id.to_string(),
        date: date.to_string(),
        service: service.to_string(),
        signed_headers,
        signature: signature.to_string(),
    })
}

/// Lower-case hex SHA-256, the hash every TC3 step uses.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail; the fallback
    // keeps the function total without a panic path.
    match HmacSha256::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

/// The UTC calendar date (`YYYY-MM-DD`) of a unix timestamp.
///
/// Days-to-civil conversion after Howard Hinnant's algorithm, exact for
/// every `i64` second count that maps to a representable year, so signing
/// needs no date library and never consults the local time zone.
pub fn utc_date(timestamp: i64) -> String {
    let days = timestamp.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
    const KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
    const TS: i64 = 1_551_113_065;
    const CVM_BODY: &str = r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;

    fn cvm_input<'a>(headers: &'a [(&'a str, &'a str)]) -> SignInput<'a> {
        SignInput {
            method: "POST",
            path: "/",
            query: "",
            headers,
            payload: CVM_BODY.as_bytes(),
            service: "cvm",
            timestamp: TS,
        }
    }

    #[test]
    fn published_cvm_vector_matches_byte_for_byte() {
        let headers = [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Host", "cvm.tencentcloudapi.com"),
        ];
        let signed = sign(&cvm_input(&headers), ID, KEY);

        assert_eq!(
            sha256_hex(CVM_BODY.as_bytes()),
            "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        );
        assert_eq!(
            signed.canonical_request,
            "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\n\
             content-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        );
        assert_eq!(
            sha256_hex(signed.canonical_request.as_bytes()),
            "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
        );
        assert_eq!(
            signed.string_to_sign,
            "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n\
             5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
        );
        assert_eq!(
            signed.signature,
            "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
        );
        assert_eq!(
            signed.authorization,
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, \
             SignedHeaders=content-type;host, \
             Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
        );
        assert_eq!(signed.signed_headers, "content-type;host");
        assert_eq!(signed.credential_scope, "2019-02-25/cvm/tc3_request");
    }

    #[test]
    fn header_order_and_case_do_not_change_the_signature() {
        let sorted = [
            ("content-type", "application/json; charset=utf-8"),
            ("host", "cvm.tencentcloudapi.com"),
        ];
        let shuffled = [
            ("HOST", "  cvm.tencentcloudapi.com "),
            ("Content-Type", "application/json; charset=utf-8"),
        ];
        assert_eq!(
            sign(&cvm_input(&sorted), ID, KEY).signature,
            sign(&cvm_input(&shuffled), ID, KEY).signature
        );
    }

    fn sdk_style(host: &str, service: &str, body: &str) -> String {
        let headers = [("Content-Type", "application/json"), ("Host", host)];
        let input = SignInput {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            payload: body.as_bytes(),
            service,
            timestamp: TS,
        };
        sign(&input, ID, KEY).signature
    }

    #[test]
    fn gaap_vector_matches() {
        assert_eq!(
            sdk_style(
                "gaap.tencentcloudapi.com",
                "gaap",
                r#"{"ListenerName":"listener-1","Port":443,"ProxyId":"link-cuxw2rm0"}"#
            ),
            "5c69c7e2904717b061f8901ee5f7b7a665c5d731daf4f542991655ab3d247c80"
        );
    }

    #[test]
    fn clb_vector_matches() {
        assert_eq!(
            sdk_style(
                "clb.tencentcloudapi.com",
                "clb",
                r#"{"LoadBalancerId":"lb-cuxw2rm0","Ports":[7572],"Protocol":"HTTPS","Certificate":{"SSLMode":"UNIDIRECTIONAL","CertId":"MsJyaXVm"}}"#
            ),
            "cc385e4552d7b66a4eedae1827d776bc163b16ca24f4767e3bc5811db2895ead"
        );
    }

    #[test]
    fn x_tc_action_variant_vector_matches() {
        // The header value is passed as sent; the signer lower-cases it.
        let headers = [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Host", "cvm.tencentcloudapi.com"),
            ("X-TC-Action", "DescribeInstances"),
        ];
        let signed = sign(&cvm_input(&headers), ID, KEY);
        assert_eq!(signed.signed_headers, "content-type;host;x-tc-action");
        assert!(signed
            .canonical_request
            .contains("\nx-tc-action:describeinstances\n\ncontent-type;host;x-tc-action\n"));
        assert_eq!(
            signed.signature,
            "644be983de9a8a3f00db8eadaba61467c3b429e2215758ba897b738ca469fd26"
        );
    }

    #[test]
    fn scope_date_is_the_utc_date_around_midnight() {
        // 2019-02-25T23:59:59Z and one second later.
        assert_eq!(utc_date(1_551_139_199), "2019-02-25");
        assert_eq!(utc_date(1_551_139_200), "2019-02-26");
        let headers = [
            ("content-type", "application/json"),
            ("host", "gaap.tencentcloudapi.com"),
        ];
        let mut input = SignInput {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            payload: b"{}",
            service: "gaap",
            timestamp: 1_551_139_199,
        };
        assert_eq!(sign(&input, ID, KEY).credential_scope, "2019-02-25/gaap/tc3_request");
        input.timestamp = 1_551_139_200;
        assert_eq!(sign(&input, ID, KEY).credential_scope, "2019-02-26/gaap/tc3_request");
    }

    #[test]
    fn utc_date_handles_epoch_leap_days_and_negative_times() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(-1), "1969-12-31");
        assert_eq!(utc_date(951_782_400), "2000-02-29");
        assert_eq!(utc_date(4_107_542_400), "2100-03-01");
        assert_eq!(utc_date(1_709_164_800), "2024-02-29");
    }

    #[test]
    fn parse_authorization_round_trips() {
        let headers = [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Host", "cvm.tencentcloudapi.com"),
            ("X-TC-Action", "DescribeInstances"),
        ];
        let signed = sign(&cvm_input(&headers), ID, KEY);
        let parsed = parse_authorization(&signed.authorization).expect("well-formed header");
        assert_eq!(parsed.secret_id, ID);
        assert_eq!(parsed.date, "2019-02-25");
        assert_eq!(parsed.service, "cvm");
        assert_eq!(parsed.signed_headers, ["content-type", "host", "x-tc-action"]);
        assert_eq!(parsed.signature, signed.signature);
    }

    #[test]
    fn parse_authorization_refuses_malformed_headers() {
        let good = "TC3-HMAC-SHA256 Credential=AKID/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=abc";
        assert!(parse_authorization(good).is_some());
        for bad in [
            "",
            "TC3-HMAC-SHA1 Credential=AKID/2019-02-25/cvm/tc3_request, SignedHeaders=host, Signature=abc",
            "TC3-HMAC-SHA256Credential=AKID/2019-02-25/cvm/tc3_request, SignedHeaders=host, Signature=abc",
            "TC3-HMAC-SHA256 Credential=AKID/2019-02-25/cvm, SignedHeaders=host, Signature=abc",
            "TC3-HMAC-SHA256 Credential=AKID/2019-02-25/cvm/tc2_request, SignedHeaders=host, Signature=abc",
            "TC3-HMAC-SHA256 Credential=AKID/2019-02-25/cvm/tc3_request/x, SignedHeaders=host, Signature=abc",
            "TC3-HMAC-SHA256 Credential=AKID/2019-02-25/cvm/tc3_request, Signature=abc",
            "TC3-HMAC-SHA256 Credential=AKID/2019-02-25/cvm/tc3_request, SignedHeaders=host",
            "TC3-HMAC-SHA256 Credential=AKID/2019-02-25/cvm/tc3_request, SignedHeaders=host;;x, Signature=abc",
            "TC3-HMAC-SHA256 Credential=AKID/2019-02-25/cvm/tc3_request, SignedHeaders=host, Signature=",
            "TC3-HMAC-SHA256 Credential=/2019-02-25/cvm/tc3_request, SignedHeaders=host, Signature=abc",
            "TC3-HMAC-SHA256 Credential=AKID/2019-02-25/cvm/tc3_request, SignedHeaders=host, Signature=abc, Extra=1",
            "TC3-HMAC-SHA256 Credential=AKID/2019-02-25/cvm/tc3_request, Credential=B/2019-02-25/cvm/tc3_request, SignedHeaders=host, Signature=abc",
        ] {
            assert_eq!(parse_authorization(bad), None, "accepted {bad:?}");
        }
    }

    #[test]
    fn debug_output_hides_the_signature() {
        let headers = [
            ("content-type", "application/json"),
            ("host", "clb.tencentcloudapi.com"),
        ];
        let input = SignInput {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            payload: b"{}",
            service: "clb",
            timestamp: TS,
        };
        let signed = sign(&input, ID, KEY);
        let shown = format!("{signed:?}");
        assert!(!shown.contains(&signed.signature));
        assert!(shown.contains("<redacted>"));
        let parsed = parse_authorization(&signed.authorization).expect("well-formed header");
        assert!(!format!("{parsed:?}").contains(&signed.signature));
    }
}
