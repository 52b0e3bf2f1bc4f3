//! From a Tencent error envelope to a [`listener_core::Error`].
//!
//! Decided by the error code alone: Tencent rewords messages and localises
//! them (`X-TC-Language`), codes are the contract. The whole table sits in
//! [`classify`] so a reader can check it against the vendor's code list in
//! one place.

use listener_core::Error;

/// What a vendor error code means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeKind {
    /// Too many requests; the vendor did nothing; retry later.
    Throttled,
    /// The credentials or the signature were refused.
    Authentication,
    /// The instance or listener does not exist.
    NotFound,
    /// The port is already used by another listener.
    Conflict,
    /// Another change is running on the same resource; the vendor did
    /// nothing; the same call can succeed later.
    Busy,
    /// A server-side fault; the vendor may or may not have acted.
    Transient,
    /// Anything else: the vendor refused the call on its merits.
    Other,
}

/// Whether `code` is `base` itself or one of its dotted sub-codes.
fn is(code: &str, base: &str) -> bool {
    code == base || code.strip_prefix(base).is_some_and(|rest| rest.starts_with('.'))
}

/// The code table.
///
/// | codes | kind | why |
/// |---|---|---|
/// | `RequestLimitExceeded` and its sub-codes (`.UinLimitExceeded`, `.IPLimitExceeded`, `.GlobalRegionUinLimitExceeded`) | [`CodeKind::Throttled`] | the per-action rate limit; the SDKs retry these |
/// | `AuthFailure.UnauthorizedOperation`, `AuthFailure.NotEnterpriseAuthorization` | [`CodeKind::Other`] | the key is valid but lacks permission / the account lacks a status: retrying or re-keying does not help, the caller must see the code |
/// | any other `AuthFailure` (`.SignatureFailure`, `.SignatureExpire`, `.SecretIdNotFound`, `.InvalidSecretId`, `.InvalidAuthorization`, `.TokenFailure`, `.MFAFailure`) | [`CodeKind::Authentication`] | the credentials or the signature were refused |
/// | `ResourceNotFound` and sub-codes, `InvalidParameter.LBIdNotFound`, `InvalidParameter.ListenerIdNotFound` | [`CodeKind::NotFound`] | GAAP and CLB name a missing resource these ways |
/// | `InvalidParameterValue.DuplicatedListenerPort` (GAAP), `InvalidParameter.PortCheckFailed` (CLB) | [`CodeKind::Conflict`] | the port is taken; after a lost answer it may be our own earlier create |
/// | `FailedOperation.ResourceInOperating` (CLB), `FailedOperation.ListenerHasTask`, `.DomainStatusNotInRunning`, `.ActionOperateTooQuickly` (GAAP), `ResourceInUse`, `ResourceUnavailable` and sub-codes except `ResourceUnavailable.AccountViolation` | [`CodeKind::Busy`] | another task holds the resource; Terraform retries these |
/// | `InternalError` and sub-codes, `ServiceUnavailable` | [`CodeKind::Transient`] | a server fault, reported like a lost answer |
/// | everything else | [`CodeKind::Other`] | refused on its merits |
pub fn classify(code: &str) -> CodeKind {
    if is(code, "RequestLimitExceeded") {
        CodeKind::Throttled
    } else if code == "AuthFailure.UnauthorizedOperation" || code == "AuthFailure.NotEnterpriseAuthorization" {
        CodeKind::Other
    } else if is(code, "AuthFailure") {
        CodeKind::Authentication
    } else if is(code, "ResourceNotFound")
        || code == "InvalidParameter.LBIdNotFound"
        || code == "InvalidParameter.ListenerIdNotFound"
    {
        CodeKind::NotFound
    } else if code == "InvalidParameterValue.DuplicatedListenerPort" || code == "InvalidParameter.PortCheckFailed" {
        CodeKind::Conflict
    } else if code == "FailedOperation.ResourceInOperating"
        || code == "FailedOperation.ListenerHasTask"
        || code == "FailedOperation.DomainStatusNotInRunning"
        || code == "FailedOperation.ActionOperateTooQuickly"
        || is(code, "ResourceInUse")
        || (is(code, "ResourceUnavailable") && code != "ResourceUnavailable.AccountViolation")
    {
        CodeKind::Busy
    } else if is(code, "InternalError") || is(code, "ServiceUnavailable") {
        CodeKind::Transient
    } else {
        CodeKind::Other
    }
}

/// Build the caller's error for a Tencent error envelope.
///
/// The message is kept only as information inside the error; nothing
/// branches on it.
pub fn vendor_error(vendor: &'static str, code: &str, message: &str, request_id: &str) -> Error {
    let code_s = code.to_string();
    let message_s = message.to_string();
    let request_id_s = request_id.to_string();
    match classify(code) {
        CodeKind::Throttled => Error::Throttled {
            vendor,
            code: code_s,
            request_id: request_id_s,
            retry_after: None,
        },
        CodeKind::Authentication => Error::Authentication {
            vendor,
            code: code_s,
            message: message_s,
            request_id: request_id_s,
        },
        CodeKind::NotFound => Error::NotFound {
            vendor,
            what: format!("resource ({code}: {message}; request id {request_id})"),
        },
        CodeKind::Conflict => Error::Conflict {
            vendor,
            code: code_s,
            message: message_s,
            request_id: request_id_s,
        },
        CodeKind::Busy => Error::Busy {
            vendor,
            code: code_s,
            message: message_s,
            request_id: request_id_s,
        },
        CodeKind::Transient => Error::Transport {
            vendor,
            message: format!("server fault {code}: {message} (request id {request_id})"),
            maybe_applied: true,
        },
        CodeKind::Other => Error::Vendor {
            vendor,
            code: code_s,
            message: message_s,
            request_id: request_id_s,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(codes: &[&str], want: CodeKind) {
        for code in codes {
            assert_eq!(classify(code), want, "{code}");
        }
    }

    #[test]
    fn row_throttling_codes() {
        kinds(
            &[
                "RequestLimitExceeded",
                "RequestLimitExceeded.UinLimitExceeded",
                "RequestLimitExceeded.IPLimitExceeded",
                "RequestLimitExceeded.GlobalRegionUinLimitExceeded",
            ],
            CodeKind::Throttled,
        );
        // Same prefix letters, different code.
        kinds(&["RequestSizeLimitExceeded", "RequestLimitExceededX"], CodeKind::Other);
    }

    #[test]
    fn row_permission_codes_are_not_authentication() {
        kinds(
            &[
                "AuthFailure.UnauthorizedOperation",
                "AuthFailure.NotEnterpriseAuthorization",
            ],
            CodeKind::Other,
        );
    }

    #[test]
    fn row_authentication_codes() {
        kinds(
            &[
                "AuthFailure",
                "AuthFailure.SignatureFailure",
                "AuthFailure.SignatureExpire",
                "AuthFailure.SecretIdNotFound",
                "AuthFailure.InvalidSecretId",
                "AuthFailure.InvalidAuthorization",
                "AuthFailure.TokenFailure",
                "AuthFailure.MFAFailure",
            ],
            CodeKind::Authentication,
        );
    }

    #[test]
    fn row_not_found_codes() {
        kinds(
            &[
                "ResourceNotFound",
                "ResourceNotFound.ListenerNotFound",
                "InvalidParameter.LBIdNotFound",
                "InvalidParameter.ListenerIdNotFound",
            ],
            CodeKind::NotFound,
        );
        // Plain InvalidParameter stays a vendor error even though GAAP
        // sometimes uses it for a gone listener: only the message tells,
        // and messages are not parsed here.
        kinds(&["InvalidParameter"], CodeKind::Other);
    }

    #[test]
    fn row_port_conflict_codes() {
        kinds(
            &[
                "InvalidParameterValue.DuplicatedListenerPort",
                "InvalidParameter.PortCheckFailed",
            ],
            CodeKind::Conflict,
        );
    }

    #[test]
    fn row_busy_codes() {
        kinds(
            &[
                "FailedOperation.ResourceInOperating",
                "FailedOperation.ListenerHasTask",
                "FailedOperation.DomainStatusNotInRunning",
                "FailedOperation.ActionOperateTooQuickly",
                "ResourceInUse",
                "ResourceInUse.Listener",
                "ResourceUnavailable",
                "ResourceUnavailable.InstanceNotRunning",
            ],
            CodeKind::Busy,
        );
        kinds(&["ResourceUnavailable.AccountViolation"], CodeKind::Other);
    }

    #[test]
    fn row_transient_codes() {
        kinds(
            &["InternalError", "InternalError.DbError", "ServiceUnavailable"],
            CodeKind::Transient,
        );
    }

    #[test]
    fn row_everything_else() {
        kinds(
            &[
                "InvalidParameterValue",
                "InvalidParameterValue.InvalidCertificateId",
                "MissingParameter",
                "LimitExceeded",
                "FailedOperation",
                "FailedOperation.DuplicatedRequest",
                "FailedOperation.LimitNumofListener",
                "UnauthorizedOperation",
                "UnsupportedOperation",
                "",
            ],
            CodeKind::Other,
        );
    }

    #[test]
    fn errors_carry_code_and_request_id() {
        let v = "tencent-clb";
        match vendor_error(v, "RequestLimitExceeded", "slow down", "rid-1") {
            Error::Throttled { code, request_id, .. } => {
                assert_eq!(code, "RequestLimitExceeded");
                assert_eq!(request_id, "rid-1");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            vendor_error(v, "AuthFailure.SignatureFailure", "m", "r"),
            Error::Authentication { .. }
        ));
        assert!(matches!(
            vendor_error(v, "InvalidParameter.LBIdNotFound", "m", "r"),
            Error::NotFound { .. }
        ));
        assert!(matches!(
            vendor_error(v, "InvalidParameter.PortCheckFailed", "m", "r"),
            Error::Conflict { .. }
        ));
        assert!(matches!(
            vendor_error(v, "FailedOperation.ResourceInOperating", "m", "r"),
            Error::Busy { .. }
        ));
        assert!(matches!(
            vendor_error(v, "InternalError", "m", "r"),
            Error::Transport {
                maybe_applied: true,
                ..
            }
        ));
        match vendor_error(v, "LimitExceeded", "quota", "rid-2") {
            Error::Vendor {
                vendor,
                code,
                message,
                request_id,
            } => {
                assert_eq!(
                    (vendor, code.as_str(), message.as_str(), request_id.as_str()),
                    (v, "LimitExceeded", "quota", "rid-2")
                );
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
