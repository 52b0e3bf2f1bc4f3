//! Idempotency tokens (`ClientToken`).
//!
//! A create whose answer is lost cannot simply be sent again: the first one
//! may have made a listener, and a blind repeat makes a second one or fails
//! with a port conflict. Alibaba's answer is the `ClientToken`: the same
//! token with the same parameters returns the first result instead of acting
//! again. That only helps if the token is made ONCE per logical operation,
//! before any retry, and reused on every attempt; so the caller makes it
//! (from a [`TokenSource`]) and hands it to the client, which never invents
//! one inside its retry loop.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use listener_core::Error;

/// The vendor's limit on a `ClientToken`.
pub const MAX_CLIENT_TOKEN_LEN: usize = 64;

/// A validated idempotency token: 1 to 64 printable ASCII characters.
///
/// Not a secret: it travels in the query and shows in logs, which is what
/// lets an operator match a retried call to its first attempt.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ClientToken(String);

impl ClientToken {
    /// Check a caller-made token against the vendor's rule.
    ///
    /// Refused tokens give `Error::Config` naming `ClientToken`, because a
    /// token the vendor would reject must not reach the retry loop.
    pub fn new(token: impl Into<String>) -> Result<Self, Error> {
        let token = token.into();
        let problem = if token.is_empty() {
            Some("must not be empty".to_string())
        } else if token.len() > MAX_CLIENT_TOKEN_LEN {
            Some(format!(
                "is {} characters long; the limit is {MAX_CLIENT_TOKEN_LEN}",
                token.len()
            ))
        } else if !token.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
            Some("may contain printable ASCII characters only".to_string())
        } else {
            None
        };
        match problem {
            Some(message) => Err(Error::Config {
                field: "ClientToken".to_string(),
                message,
            }),
            None => Ok(ClientToken(token)),
        }
    }

    /// A fresh random token (a UUID v4, 36 characters), unique enough that
    /// two logical operations never share one.
    pub fn generate() -> Self {
        ClientToken(uuid::Uuid::new_v4().to_string())
    }

    /// The token as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientToken({:?})", self.0)
    }
}

impl fmt::Display for ClientToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where tokens come from, so tests can pin them and production can use
/// random ones without the adapters knowing which.
pub trait TokenSource: Send + Sync + fmt::Debug {
    /// A token for one new logical operation.
    fn next_token(&self) -> ClientToken;
}

/// Random UUID v4 tokens: the production default.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomTokens;

impl TokenSource for RandomTokens {
    fn next_token(&self) -> ClientToken {
        ClientToken::generate()
    }
}

/// Always the same token: for tests that assert on the exact query.
#[derive(Debug, Clone)]
pub struct FixedToken(pub ClientToken);

impl TokenSource for FixedToken {
    fn next_token(&self) -> ClientToken {
        self.0.clone()
    }
}

/// `<prefix>-1`, `<prefix>-2`, …: distinct but predictable, for tests that
/// run several operations and check each kept its own token.
#[derive(Debug)]
pub struct SequenceTokens {
    prefix: String,
    next: AtomicU64,
}

impl SequenceTokens {
    /// A sequence under `prefix`; the prefix leaves room for any counter
    /// value within the 64-character limit.
    pub fn new(prefix: impl Into<String>) -> Result<Self, Error> {
        let prefix = prefix.into();
        // "-" plus up to 20 digits of a u64 must still fit.
        let room = MAX_CLIENT_TOKEN_LEN - 21;
        if prefix.len() > room {
            return Err(Error::Config {
                field: "ClientToken".to_string(),
                message: format!("sequence prefix may be at most {room} characters"),
            });
        }
        // Validate the character set once, through the token rule.
        ClientToken::new(format!("{prefix}-1"))?;
        Ok(SequenceTokens {
            prefix,
            next: AtomicU64::new(1),
        })
    }
}

impl TokenSource for SequenceTokens {
    fn next_token(&self) -> ClientToken {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        // The prefix was checked in `new` and the counter adds only
        // digits, so the result always satisfies the token rule.
        ClientToken(format!("{}-{n}", self.prefix))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_uuid_and_64_character_tokens() {
        assert!(ClientToken::new("123e4567-e89b-12d3-a456-426655440000").is_ok());
        assert!(ClientToken::new("a".repeat(64)).is_ok());
    }

    #[test]
    fn rejects_empty_long_and_non_ascii_tokens_naming_the_field() {
        for bad in [String::new(), "a".repeat(65), "tök".to_string(), "a\nb".to_string()] {
            match ClientToken::new(bad) {
                Err(Error::Config { field, .. }) => assert_eq!(field, "ClientToken"),
                other => panic!("expected a Config error, got {other:?}"),
            }
        }
    }

    #[test]
    fn generated_tokens_are_valid_and_distinct() {
        let a = ClientToken::generate();
        let b = ClientToken::generate();
        assert_ne!(a, b);
        assert!(ClientToken::new(a.as_str()).is_ok());
        assert_eq!(a.as_str().len(), 36);
    }

    #[test]
    fn sequence_tokens_count_up_and_fixed_tokens_repeat() {
        let seq = SequenceTokens::new("test").expect("valid prefix");
        assert_eq!(seq.next_token().as_str(), "test-1");
        assert_eq!(seq.next_token().as_str(), "test-2");
        let fixed = FixedToken(ClientToken::new("same").expect("valid"));
        assert_eq!(fixed.next_token(), fixed.next_token());
        assert!(SequenceTokens::new("p".repeat(44)).is_err());
        assert!(SequenceTokens::new("p".repeat(43)).is_ok());
    }
}
