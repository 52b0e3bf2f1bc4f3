//! `ClientToken` replay, once for the Alibaba family.
//!
//! Alibaba's RPC products (ALB and GA among them) document one rule for the
//! token: a client-made value, unique per request, case-sensitive ASCII of
//! at most 64 characters. The same token with the same request answers the
//! first result without acting again; the same token with a different
//! request answers `IdempotentParameterMismatch`. "Unique per request"
//! means the token alone identifies the request, so replays are keyed by
//! the token, and the action is part of what must match: a token first
//! used for `CreateListener` and then sent with `DeleteListener` is a
//! mismatch, not a new request. (The emulator used to key GA by action
//! and token and ALB by token; this module is the one rule for both.)
//!
//! Services keep a [`ClientTokens`] inside their state, under the same lock
//! as the resources, so a replay and the write it stands for cannot race.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::service::{ApiError, Call};

/// The longest `ClientToken` Alibaba accepts.
pub const MAX_CLIENT_TOKEN_LEN: usize = 64;

/// What a token was first used for.
#[derive(Debug, Clone)]
struct TokenUse {
    fingerprint: BTreeMap<String, String>,
    answer: Value,
}

/// Tokens already used by successful writes of one service.
#[derive(Debug, Default)]
pub struct ClientTokens {
    used: HashMap<String, TokenUse>,
}

/// The call's token; an empty one counts as none (the SDKs send nothing
/// for an unset field, and an empty value protects nothing).
fn token(call: &Call) -> Option<&str> {
    call.flat
        .get("ClientToken")
        .map(String::as_str)
        .filter(|t| !t.is_empty())
}

/// The request minus what does not make it a different request (the token
/// itself and `DryRun`), plus the action.
fn fingerprint(call: &Call) -> BTreeMap<String, String> {
    let mut f: BTreeMap<String, String> = call
        .flat
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "ClientToken" | "DryRun"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    f.insert("\u{0}action".into(), call.action.clone());
    f
}

impl ClientTokens {
    /// The recorded answer for a repeated token, `IdempotentParameterMismatch`
    /// for a token used with another request, `InvalidParameter` for a
    /// token that is not ASCII of at most 64 characters, `None` otherwise.
    pub fn replay(&self, call: &Call) -> Result<Option<Value>, ApiError> {
        let Some(t) = token(call) else {
            return Ok(None);
        };
        if t.len() > MAX_CLIENT_TOKEN_LEN || !t.is_ascii() {
            return Err(ApiError::new(
                "InvalidParameter",
                "ClientToken must be at most 64 ASCII characters.",
            ));
        }
        match self.used.get(t) {
            None => Ok(None),
            Some(used) if used.fingerprint == fingerprint(call) => Ok(Some(used.answer.clone())),
            Some(_) => Err(ApiError::new(
                "IdempotentParameterMismatch",
                "The request uses the same client token as a previous, but non-identical request.",
            )),
        }
    }

    /// Records the answer of a write that succeeded under the call's token.
    pub fn remember(&mut self, call: &Call, answer: &Value) {
        if let Some(t) = token(call) {
            self.used.insert(
                t.to_string(),
                TokenUse {
                    fingerprint: fingerprint(call),
                    answer: answer.clone(),
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Instant;

    fn call(action: &str, pairs: &[(&str, &str)]) -> Call {
        let flat: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Call {
            action: action.into(),
            params: json!({}),
            flat,
            region: None,
            request_id: "r".into(),
            now: Instant::now(),
        }
    }

    #[test]
    fn same_token_same_request_replays_the_first_answer() {
        let mut t = ClientTokens::default();
        let c = call("CreateListener", &[("ClientToken", "tok"), ("Name", "a")]);
        assert_eq!(t.replay(&c), Ok(None));
        t.remember(&c, &json!({"ListenerId": "lsr-1"}));
        assert_eq!(t.replay(&c), Ok(Some(json!({"ListenerId": "lsr-1"}))));
        let dry = call(
            "CreateListener",
            &[("ClientToken", "tok"), ("Name", "a"), ("DryRun", "false")],
        );
        assert_eq!(t.replay(&dry), Ok(Some(json!({"ListenerId": "lsr-1"}))));
    }

    #[test]
    fn token_is_keyed_alone_so_another_action_is_a_mismatch() {
        let mut t = ClientTokens::default();
        t.remember(&call("CreateListener", &[("ClientToken", "tok")]), &json!({}));
        let other_action = call("DeleteListener", &[("ClientToken", "tok")]);
        assert_eq!(t.replay(&other_action).unwrap_err().code, "IdempotentParameterMismatch");
        let other_params = call("CreateListener", &[("ClientToken", "tok"), ("Name", "b")]);
        assert_eq!(t.replay(&other_params).unwrap_err().code, "IdempotentParameterMismatch");
    }

    #[test]
    fn empty_token_protects_nothing_and_long_or_non_ascii_tokens_are_refused() {
        let mut t = ClientTokens::default();
        let empty = call("CreateListener", &[("ClientToken", "")]);
        t.remember(&empty, &json!({}));
        assert_eq!(t.replay(&empty), Ok(None));
        let long = "x".repeat(65);
        let code = |tok: &str| {
            t.replay(&call("CreateListener", &[("ClientToken", tok)]))
                .unwrap_err()
                .code
        };
        assert_eq!(code(&long), "InvalidParameter");
        assert_eq!(code("令牌"), "InvalidParameter");
    }
}
