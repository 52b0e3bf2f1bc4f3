//! Proof that a listener named by ID belongs to the bound instance.
//!
//! A provider is bound to one instance, but several vendor actions take a
//! listener ID alone (ALB's `DeleteListener`, GA's `DescribeListener`) or
//! look it up without the instance (GAAP's describe by `ListenerId`). An
//! ID copied from another instance, or mistyped, must then never lead to a
//! write. So every write that names a listener by ID (update, delete,
//! certificate changes) is sent only with an [`Owned`] in hand, and an
//! `Owned` is made only here, by comparing the instance *the vendor
//! reports* for the ID with the bound one. Adapters' client functions for
//! such writes take `&Owned` instead of a bare ID, so an adapter (or a new
//! kind of resource) cannot send one without going through this check.
//!
//! Two outcomes are errors, and they are kept apart on purpose:
//! - the vendor does not know the ID (on the bound instance, where that is
//!   all the vendor can look at): [`Error::NotFound`], the same as any
//!   other "gone" answer, so that `apply` can treat a listener deleted
//!   meanwhile as done;
//! - the vendor reports the ID on another instance: [`Error::NotOwned`].
//!   It is *not* `NotFound`, because callers take `NotFound` as "already
//!   gone", and a listener of another instance is never a success.

use std::future::Future;

use crate::error::{Error, Result};
use crate::provider::ListenerId;
use crate::resources::ResourceId;

/// A listener ID the vendor reports on the bound instance: the only way
/// to name a listener to a by-ID write.
///
/// Made by [`claim`] or [`prove`]; its fields cannot be set elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owned {
    id: ListenerId,
    instance: String,
}

impl Owned {
    /// The listener's ID.
    pub fn id(&self) -> &ListenerId {
        &self.id
    }

    /// The ID as text, for request parameters.
    pub fn as_str(&self) -> &str {
        self.id.as_str()
    }

    /// The instance it is on (the bound one).
    pub fn instance(&self) -> &str {
        &self.instance
    }
}

/// What a vendor lookup by ID found: the instance the answer names, and
/// whatever else the adapter wants to keep from the answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Found<T> {
    /// The instance the vendor reports the listener on; `None` when the
    /// answer names none (that proves nothing and is refused).
    pub instance: Option<String>,
    /// The rest of the answer (a record, a listener, a kind).
    pub record: T,
}

/// Decide from what the vendor reported: `reported` is `None` when the
/// vendor does not know `id`, otherwise the instance its answer names
/// (empty when it names none).
///
/// Errors: a blank ID is [`Error::Config`] on `listener_id`; an unknown ID
/// is [`Error::NotFound`] naming the bound instance; an ID on another
/// instance (or an answer that names no instance) is [`Error::NotOwned`].
pub fn claim(vendor: &'static str, bound: &str, id: &ListenerId, reported: Option<&str>) -> Result<Owned> {
    check_id(id)?;
    match reported {
        None => Err(not_found(vendor, bound, id)),
        Some(on) if on == bound && !bound.is_empty() => Ok(Owned {
            id: id.clone(),
            instance: bound.to_string(),
        }),
        Some(on) => Err(Error::NotOwned {
            vendor,
            listener_id: id.0.clone(),
            instance: bound.to_string(),
            owner: (!on.trim().is_empty()).then(|| on.to_string()),
        }),
    }
}

/// Look `id` up with `lookup` and [`claim`] it; returns the proof and the
/// rest of the answer. A blank ID is refused before `lookup` runs, so
/// nothing at all is sent for it.
///
/// `lookup` answers `Ok(None)` when the vendor does not know the ID (map
/// the vendor's not-found code to that), and `Ok(Some(found))` with the
/// instance the vendor's answer names.
pub async fn prove<T, F, Fut>(vendor: &'static str, bound: &str, id: &ListenerId, lookup: F) -> Result<(Owned, T)>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Option<Found<T>>>>,
{
    check_id(id)?;
    let Some(found) = lookup().await? else {
        return Err(not_found(vendor, bound, id));
    };
    let owned = claim(vendor, bound, id, Some(found.instance.as_deref().unwrap_or("")))?;
    Ok((owned, found.record))
}

fn not_found(vendor: &'static str, bound: &str, id: &ListenerId) -> Error {
    Error::NotFound {
        vendor,
        what: format!("listener {id} on instance {bound}"),
    }
}

/// A pool or rule ID the vendor reports under its owner: the bound
/// instance (a pool) or an owned listener (a rule). The proof the
/// adapters' by-ID writes of those kinds take, as listener writes take
/// [`Owned`]; made only by [`claim_part`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedPart {
    id: ResourceId,
    owner: String,
}

impl OwnedPart {
    /// The pool's or rule's ID.
    pub fn id(&self) -> &ResourceId {
        &self.id
    }

    /// The ID as text, for request parameters.
    pub fn as_str(&self) -> &str {
        self.id.as_str()
    }

    /// What owns it: the bound instance, or the owned listener's ID.
    pub fn owner(&self) -> &str {
        &self.owner
    }
}

/// Where a pool or rule must be for a write: on the bound instance (a pool
/// the adapter made there), or under a listener already proven
/// [`Owned`] (a rule). A rule's owner can only come from a proof, so a rule
/// write cannot skip the listener's check.
#[derive(Debug, Clone, Copy)]
pub enum PartOf<'a> {
    /// The provider's bound instance.
    Instance(&'a str),
    /// A listener proven to be on the bound instance.
    Listener(&'a Owned),
}

/// [`claim`] for a pool or rule: `reported` is `None` when the vendor does
/// not know `id`, otherwise the owner its answer names (instance ID for a
/// pool, listener ID for a rule). Unknown is [`Error::NotFound`]; reported
/// under another owner is [`Error::NotOwned`] (its `listener_id` then names
/// the pool or rule, its `instance` the expected owner).
pub fn claim_part(
    vendor: &'static str,
    owner: PartOf<'_>,
    id: &ResourceId,
    reported: Option<&str>,
) -> Result<OwnedPart> {
    let expected = match owner {
        PartOf::Instance(i) => i,
        PartOf::Listener(l) => l.as_str(),
    };
    if id.as_str().trim().is_empty() {
        return Err(Error::Config {
            field: "id".into(),
            message: "an ID is required; refusing to send a write without one".into(),
        });
    }
    match reported {
        None => Err(Error::NotFound {
            vendor,
            what: format!("{id} under {expected}"),
        }),
        Some(on) if on == expected && !expected.is_empty() => Ok(OwnedPart {
            id: id.clone(),
            owner: expected.to_string(),
        }),
        Some(on) => Err(Error::NotOwned {
            vendor,
            listener_id: id.0.clone(),
            instance: expected.to_string(),
            owner: (!on.trim().is_empty()).then(|| on.to_string()),
        }),
    }
}

/// An empty or blank ID names nothing; some batch actions even read a
/// missing ID list as "all listeners", so it is refused before any call.
fn check_id(id: &ListenerId) -> Result<()> {
    if id.as_str().trim().is_empty() {
        return Err(Error::Config {
            field: "listener_id".into(),
            message: "a listener ID is required; refusing to send a write without one".into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const V: &str = "cloud-a";

    /// Run a future that is ready at once (the lookups below never wait),
    /// without an async runtime in this crate's dependencies.
    fn now<F: Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match f.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(out) => out,
            std::task::Poll::Pending => panic!("the lookup was expected to be ready at once"),
        }
    }

    #[test]
    fn the_bound_instance_proves_ownership() {
        let owned = claim(V, "i-1", &"l-1".into(), Some("i-1")).expect("owned");
        assert_eq!(owned.as_str(), "l-1");
        assert_eq!(owned.instance(), "i-1");
    }

    #[test]
    fn another_instance_is_not_owned_and_names_both() {
        match claim(V, "i-1", &"l-1".into(), Some("i-2")) {
            Err(Error::NotOwned {
                listener_id,
                instance,
                owner,
                ..
            }) => {
                assert_eq!(listener_id, "l-1");
                assert_eq!(instance, "i-1");
                assert_eq!(owner.as_deref(), Some("i-2"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_answer_without_an_instance_proves_nothing() {
        assert!(matches!(
            claim(V, "i-1", &"l-1".into(), Some("")),
            Err(Error::NotOwned { owner: None, .. })
        ));
        // Nor does a provider bound to nothing.
        assert!(matches!(
            claim(V, "", &"l-1".into(), Some("")),
            Err(Error::NotOwned { .. })
        ));
    }

    #[test]
    fn an_unknown_id_is_not_found_on_the_bound_instance() {
        match claim(V, "i-1", &"typo".into(), None) {
            Err(e @ Error::NotFound { .. }) => assert_eq!(e.kind(), "not_found"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn not_owned_is_never_taken_for_gone() {
        let e = claim(V, "i-1", &"l-1".into(), Some("i-2")).unwrap_err();
        assert!(!matches!(e, Error::NotFound { .. }));
        assert_eq!(e.kind(), "not_owned");
        assert!(!e.is_retryable());
    }

    #[test]
    fn a_rule_is_owned_only_under_its_proven_listener() {
        let listener = claim(V, "i-1", &"l-1".into(), Some("i-1")).expect("owned");
        let rule = claim_part(V, PartOf::Listener(&listener), &"r-1".into(), Some("l-1")).expect("owned");
        assert_eq!((rule.as_str(), rule.owner()), ("r-1", "l-1"));
        match claim_part(V, PartOf::Listener(&listener), &"r-9".into(), Some("l-2")) {
            Err(Error::NotOwned { listener_id, owner, .. }) => {
                assert_eq!((listener_id.as_str(), owner.as_deref()), ("r-9", Some("l-2")));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            claim_part(V, PartOf::Instance("i-1"), &"p-1".into(), None),
            Err(Error::NotFound { .. })
        ));
        assert!(matches!(
            claim_part(V, PartOf::Instance("i-1"), &" ".into(), Some("i-1")),
            Err(Error::Config { ref field, .. }) if field == "id"
        ));
    }

    #[test]
    fn prove_sends_no_lookup_for_a_blank_id() {
        let mut looked = false;
        let r = now(prove(V, "i-1", &"  ".into(), || {
            looked = true;
            async {
                Ok(Some(Found {
                    instance: Some("i-1".to_string()),
                    record: (),
                }))
            }
        }));
        assert!(matches!(r, Err(Error::Config { ref field, .. }) if field == "listener_id"));
        assert!(!looked);
    }

    #[test]
    fn prove_keeps_the_record_of_an_owned_listener() {
        let (owned, record) = now(prove(V, "i-1", &"l-1".into(), || async {
            Ok(Some(Found {
                instance: Some("i-1".to_string()),
                record: 7,
            }))
        }))
        .expect("owned");
        assert_eq!((owned.as_str(), record), ("l-1", 7));
        let gone = now(prove::<(), _, _>(V, "i-1", &"l-1".into(), || async { Ok(None) }));
        assert!(matches!(gone, Err(Error::NotFound { .. })));
    }
}
