//! Errors as data.
//!
//! Callers branch on the variant, never on message text: a plan tool needs to
//! tell "the cloud refused this field" from "the cloud is busy, try again" from
//! "your spec is wrong" without parsing prose. Each variant carries the vendor
//! (as the adapter's API name, e.g. `tencent-clb`), and vendor errors keep the
//! vendor's own code and request id so a support ticket can be filed.

use std::time::Duration;

use crate::check::Rejection;
use crate::validate::Violation;

/// Result alias used across the workspace.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong between a spec and a listener in the cloud.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The spec breaks a neutral rule (field ranges, cross-field rules).
    /// Every violation is reported at once, each with its path.
    #[error("invalid listener spec: {}", Violation::join(.violations))]
    InvalidSpec {
        /// All violations found, in document order.
        violations: Vec<Violation>,
    },

    /// The spec is valid but this vendor cannot do what it asks. Found
    /// before any network call by the adapter's `check`.
    #[error("{vendor} cannot take this listener: {}", Rejection::join(.rejections))]
    Unsupported {
        /// The adapter's API name.
        vendor: &'static str,
        /// Every rule the spec breaks on this vendor.
        rejections: Vec<Rejection>,
    },

    /// The change touches a field the vendor cannot change after creation;
    /// the listener must be replaced instead.
    #[error(
        "{vendor}: field `{field}` cannot change after creation (listener {listener_id}); replace the listener instead"
    )]
    ImmutableField {
        /// The adapter's API name.
        vendor: &'static str,
        /// Spec path of the field, e.g. `tls.http3`.
        field: String,
        /// The listener that would have been changed.
        listener_id: String,
    },

    /// The provider configuration (profile, credentials, endpoint) is unusable.
    #[error("configuration error in `{field}`: {message}")]
    Config {
        /// Path of the offending setting, e.g. `profiles.prod.endpoint`.
        field: String,
        /// What is wrong with it.
        message: String,
    },

    /// The vendor answered the request with an error that has no more
    /// specific variant here (bad parameter, quota, state, ...).
    #[error("{vendor} error {code}: {message} (request id {request_id})")]
    Vendor {
        /// The adapter's API name.
        vendor: &'static str,
        /// The vendor's error code, e.g. `InvalidParameterValue.Length`.
        code: String,
        /// The vendor's message (informational; do not match on it).
        message: String,
        /// The vendor's request id, for support tickets.
        request_id: String,
    },

    /// The vendor throttled the call.
    #[error("{vendor} throttled the request ({code}, request id {request_id})")]
    Throttled {
        /// The adapter's API name.
        vendor: &'static str,
        /// The vendor's throttling code.
        code: String,
        /// The vendor's request id.
        request_id: String,
        /// How long the vendor asked us to wait, when it said.
        retry_after: Option<Duration>,
    },

    /// The vendor is busy with another change on the same instance or
    /// listener; the same call can succeed later.
    #[error("{vendor} is busy ({code}): {message} (request id {request_id})")]
    Busy {
        /// The adapter's API name.
        vendor: &'static str,
        /// The vendor's code, e.g. `FailedOperation.ResourceInOperating`.
        code: String,
        /// The vendor's message.
        message: String,
        /// The vendor's request id.
        request_id: String,
    },

    /// Credentials were refused (bad signature, unknown key, expired clock).
    #[error("{vendor} refused the credentials ({code}): {message} (request id {request_id})")]
    Authentication {
        /// The adapter's API name.
        vendor: &'static str,
        /// The vendor's code, e.g. `AuthFailure.SignatureFailure`.
        code: String,
        /// The vendor's message.
        message: String,
        /// The vendor's request id.
        request_id: String,
    },

    /// The listener (or the instance it belongs to) does not exist.
    #[error("{vendor}: {what} not found")]
    NotFound {
        /// The adapter's API name.
        vendor: &'static str,
        /// What was looked for, e.g. `listener lsn-123`.
        what: String,
    },

    /// The listener ID exists, but the vendor reports it on another
    /// instance than the one the provider is bound to; nothing was sent.
    /// A separate variant, not [`Error::NotFound`]: callers take
    /// `NotFound` as "already gone" (a delete that finds nothing is done),
    /// and a listener of another instance must never pass for that. See
    /// [`crate::ownership`].
    #[error(
        "{vendor}: listener {listener_id} not found on instance {instance}{}",
        owner.as_deref().map(|o| format!(" (the vendor reports it on {o})")).unwrap_or_default()
    )]
    NotOwned {
        /// The adapter's API name.
        vendor: &'static str,
        /// The listener ID that was named.
        listener_id: String,
        /// The instance the provider is bound to.
        instance: String,
        /// The instance the vendor reports, when its answer names one.
        owner: Option<String>,
    },

    /// The port (or another unique attribute) is already taken.
    #[error("{vendor} conflict ({code}): {message} (request id {request_id})")]
    Conflict {
        /// The adapter's API name.
        vendor: &'static str,
        /// The vendor's code, e.g. `InvalidParameter.PortCheckFailed`.
        code: String,
        /// The vendor's message.
        message: String,
        /// The vendor's request id.
        request_id: String,
    },

    /// An asynchronous task the vendor ran for us ended in failure.
    #[error("{vendor} task {task} failed: {message}")]
    TaskFailed {
        /// The adapter's API name.
        vendor: &'static str,
        /// The task or job id.
        task: String,
        /// The failure reason the vendor gave.
        message: String,
    },

    /// The request never got a vendor answer (connection refused or reset,
    /// non-JSON body, 5xx without an envelope).
    #[error("{vendor} transport error: {message}")]
    Transport {
        /// The adapter's API name.
        vendor: &'static str,
        /// What happened on the wire.
        message: String,
        /// Whether the vendor may have acted on the request before the
        /// answer was lost (a write must then be reconciled, not repeated).
        maybe_applied: bool,
    },

    /// Waiting for an asynchronous operation took longer than allowed.
    ///
    /// The vendor accepted the write; only our wait ended. The work may
    /// still finish (or fail) on the vendor's side, so the message says how
    /// to look before anything is sent again.
    #[error(
        "{vendor}: the {op} ({operation}) did not finish within {after:?}; the vendor accepted it and may \
         still complete it: check with `listenerctl get` or run `listenerctl plan` again before retrying \
         (raise `{setting}` to wait longer)"
    )]
    Timeout {
        /// The adapter's API name.
        vendor: &'static str,
        /// The kind of write waited for; its limit is its own setting.
        op: crate::config::WaitOp,
        /// What was being waited for.
        operation: String,
        /// The configured limit.
        after: Duration,
        /// The profile setting that set the limit (`wait.create_secs`, or
        /// `wait.timeout_secs` when that one applied).
        setting: &'static str,
    },
}

impl Error {
    /// Whether the same call may succeed if made again later.
    ///
    /// Throttling, busy instances and transport faults are retryable;
    /// everything the vendor rejected on its merits is not.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::Throttled { .. } | Error::Busy { .. } | Error::Transport { .. }
        )
    }

    /// The vendor's error code, when the vendor answered with one.
    pub fn vendor_code(&self) -> Option<&str> {
        match self {
            Error::Vendor { code, .. }
            | Error::Throttled { code, .. }
            | Error::Busy { code, .. }
            | Error::Authentication { code, .. }
            | Error::Conflict { code, .. } => Some(code),
            _ => None,
        }
    }

    /// A short, stable name of the variant, for metrics and JSON output.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::InvalidSpec { .. } => "invalid_spec",
            Error::Unsupported { .. } => "unsupported",
            Error::ImmutableField { .. } => "immutable_field",
            Error::Config { .. } => "config",
            Error::Vendor { .. } => "vendor",
            Error::Throttled { .. } => "throttled",
            Error::Busy { .. } => "busy",
            Error::Authentication { .. } => "authentication",
            Error::NotFound { .. } => "not_found",
            Error::NotOwned { .. } => "not_owned",
            Error::Conflict { .. } => "conflict",
            Error::TaskFailed { .. } => "task_failed",
            Error::Transport { .. } => "transport",
            Error::Timeout { .. } => "timeout",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_kinds_are_exactly_the_transient_ones() {
        let throttled = Error::Throttled {
            vendor: "v",
            code: "RequestLimitExceeded".into(),
            request_id: "r".into(),
            retry_after: None,
        };
        let conflict = Error::Conflict {
            vendor: "v",
            code: "PortConflict".into(),
            message: "m".into(),
            request_id: "r".into(),
        };
        assert!(throttled.is_retryable());
        assert!(!conflict.is_retryable());
        assert_eq!(conflict.vendor_code(), Some("PortConflict"));
        assert_eq!(throttled.kind(), "throttled");
    }
}
