//! Alibaba error answers mapped to [`listener_core::Error`] kinds.
//!
//! Callers decide on the kind (retry, reconcile, report), so the mapping is
//! by error `Code` only; the `Message` is prose for humans and may change
//! any day. The whole table sits in [`map_error`] so a new code is one line
//! and one test.

use std::time::Duration;

use listener_core::Error;

/// What the vendor said when a call failed, as read off the HTTP answer.
#[derive(Debug, Clone, Copy)]
pub struct ErrorAnswer<'a> {
    /// HTTP status (400, 403, 404, 500, 503, …).
    pub http_status: u16,
    /// The JSON `Code`; empty when the answer had none.
    pub code: &'a str,
    /// The JSON `Message` (kept for people, never matched on).
    pub message: &'a str,
    /// The JSON `RequestId` (or the `x-acs-request-id` header).
    pub request_id: &'a str,
    /// The raw `x-acs-retry-after` header, when present: its presence alone
    /// marks throttling; its value is milliseconds to wait.
    pub retry_after_header: Option<&'a str>,
}

/// Codes that mean the credentials or the signature were refused: no retry
/// can fix them, and a user must look at their keys or clock.
fn is_authentication(code: &str) -> bool {
    matches!(
        code,
        "SignatureDoesNotMatch" | "SignatureNonceUsed" | "IncompleteSignature"
    ) || code.starts_with("InvalidAccessKeyId.")
        || code.starts_with("InvalidTimeStamp.")
        || code.starts_with("InvalidSecurityToken.")
        || code.starts_with("Forbidden")
}

/// Codes that mean "the same call can work once the instance or listener
/// finishes its current change" (one change at a time per instance, per
/// accelerator).
fn is_busy(code: &str) -> bool {
    code.starts_with("IncorrectStatus.")
        || matches!(
            code,
            "IncorrectBusinessStatus.LoadBalancer"
                | "ResourceInConfiguring.Listener"
                | "SystemBusy"
                | "IdempotenceProcessing"
                | "VipStatusNotSupport"
                | "-21020"
                | "-22001"
                | "-22031"
                | "StateError.Accelerator"
                | "NotActive.Listener"
        )
}

/// Map one error answer to the error kind callers branch on.
///
/// Order matters where codes could match two rows: throttling first (the
/// header overrides any code), then authentication (so
/// `InvalidAccessKeyId.NotFound` is not taken for a missing resource), then
/// not found, conflict, busy, transient server faults, and the rest as
/// `Vendor` with the code kept.
pub fn map_error(vendor: &'static str, answer: &ErrorAnswer<'_>) -> Error {
    let ErrorAnswer {
        http_status,
        code,
        message,
        request_id,
        retry_after_header,
    } = *answer;
    let request_id = request_id.to_string();

    if retry_after_header.is_some() || code.contains("Throttling") {
        return Error::Throttled {
            vendor,
            code: code.to_string(),
            request_id,
            retry_after: retry_after_header
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_millis),
        };
    }
    if is_authentication(code) {
        return Error::Authentication {
            vendor,
            code: code.to_string(),
            message: message.to_string(),
            request_id,
        };
    }
    if code.starts_with("ResourceNotFound") || code.starts_with("NotExist.") {
        return Error::NotFound {
            vendor,
            what: format!("{code} (request id {request_id})"),
        };
    }
    if matches!(
        code,
        "ResourceAlreadyExist.Listener"
            | "ResourceAlreadyAssociated.Listener"
            | "PortConflict.Listener"
            | "IdempotentParameterMismatch"
    ) {
        return Error::Conflict {
            vendor,
            code: code.to_string(),
            message: message.to_string(),
            request_id,
        };
    }
    if is_busy(code) {
        return Error::Busy {
            vendor,
            code: code.to_string(),
            message: message.to_string(),
            request_id,
        };
    }
    // A server fault says nothing about whether the request was carried
    // out before it failed, so a write may have happened.
    if matches!(code, "InternalError" | "ServiceUnavailable") || http_status >= 500 {
        return Error::Transport {
            vendor,
            message: format!("HTTP {http_status} {code}: {message} (request id {request_id})"),
            maybe_applied: true,
        };
    }
    Error::Vendor {
        vendor,
        code: code.to_string(),
        message: message.to_string(),
        request_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(status: u16, code: &str, header: Option<&str>) -> Error {
        map_error(
            "alibaba-alb",
            &ErrorAnswer {
                http_status: status,
                code,
                message: "m",
                request_id: "rid",
                retry_after_header: header,
            },
        )
    }

    fn kind(status: u16, code: &str) -> &'static str {
        map(status, code, None).kind()
    }

    #[test]
    fn throttling_codes_are_throttled() {
        for code in ["Throttling", "Throttling.User", "Throttling.Api", "Rejected.Throttling"] {
            match map(400, code, None) {
                Error::Throttled {
                    code: c,
                    retry_after,
                    request_id,
                    ..
                } => {
                    assert_eq!(c, code);
                    assert_eq!(retry_after, None);
                    assert_eq!(request_id, "rid");
                }
                other => panic!("{code}: {other:?}"),
            }
        }
    }

    #[test]
    fn retry_after_header_means_throttled_whatever_the_code() {
        match map(503, "ServiceUnavailable", Some("1500")) {
            Error::Throttled { retry_after, .. } => assert_eq!(retry_after, Some(Duration::from_millis(1500))),
            other => panic!("{other:?}"),
        }
        // A value we cannot read still marks throttling, without a wait.
        match map(400, "SomethingElse", Some("soon")) {
            Error::Throttled { retry_after, .. } => assert_eq!(retry_after, None),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn signature_and_key_codes_are_authentication() {
        for (status, code) in [
            (403, "SignatureDoesNotMatch"),
            (404, "InvalidAccessKeyId.NotFound"),
            (400, "SignatureNonceUsed"),
            (400, "InvalidTimeStamp.Expired"),
            (403, "Forbidden"),
            (403, "Forbidden.RAM"),
            (403, "Forbidden.NoPermission"),
        ] {
            assert_eq!(kind(status, code), "authentication", "{code}");
        }
    }

    #[test]
    fn missing_resource_codes_are_not_found() {
        for code in [
            "ResourceNotFound.Listener",
            "ResourceNotFound.LoadBalancer",
            "ResourceNotFound.ServerGroup",
            "ResourceNotFound.Certificate",
            "NotExist.Listener",
            "NotExist.Accelerator",
        ] {
            match map(404, code, None) {
                Error::NotFound { what, .. } => assert!(what.contains(code), "{what}"),
                other => panic!("{code}: {other:?}"),
            }
        }
    }

    #[test]
    fn taken_ports_and_token_reuse_are_conflicts() {
        for code in [
            "ResourceAlreadyExist.Listener",
            "ResourceAlreadyAssociated.Listener",
            "PortConflict.Listener",
            "IdempotentParameterMismatch",
        ] {
            assert_eq!(kind(400, code), "conflict", "{code}");
        }
    }

    #[test]
    fn change_in_progress_codes_are_busy() {
        for code in [
            "IncorrectStatus.LoadBalancer",
            "IncorrectStatus.Listener",
            "IncorrectBusinessStatus.LoadBalancer",
            "ResourceInConfiguring.Listener",
            "SystemBusy",
            "IdempotenceProcessing",
            "VipStatusNotSupport",
            "-21020",
            "-22001",
            "-22031",
            "StateError.Accelerator",
            "NotActive.Listener",
        ] {
            assert_eq!(kind(400, code), "busy", "{code}");
        }
    }

    #[test]
    fn server_faults_are_transport_that_may_have_applied() {
        for (status, code) in [
            (500, "InternalError"),
            (503, "ServiceUnavailable"),
            (502, "BadGateway"),
            (500, ""),
        ] {
            match map(status, code, None) {
                Error::Transport { maybe_applied, .. } => assert!(maybe_applied, "{code}"),
                other => panic!("{code}: {other:?}"),
            }
        }
    }

    #[test]
    fn everything_else_is_vendor_with_the_code_kept() {
        for code in [
            "InvalidParameter",
            "MissingParameter",
            "QuotaExceeded.Listener",
            "ResourceQuotaExceeded.LoadBalancerListenersNum",
            "PortRangeIllegal.Listener",
            "Exist.EndpointGroup",
            "DryRunOperation",
        ] {
            match map(400, code, None) {
                Error::Vendor {
                    code: c, request_id, ..
                } => {
                    assert_eq!(c, code);
                    assert_eq!(request_id, "rid");
                }
                other => panic!("{code}: {other:?}"),
            }
        }
    }
}
