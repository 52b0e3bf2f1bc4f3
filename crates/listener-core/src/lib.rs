//! The provider-neutral listener model.
//!
//! A platform team describes a listener once, as a [`ListenerSpec`], and any
//! [`Provider`] (one per cloud API) turns it into that vendor's calls. This
//! crate names no vendor: it holds the spec and its neutral validation, the
//! [`Provider`] trait, the declared [`Capabilities`] of a provider, and the
//! [`Error`] type every adapter returns.
//!
//! The flow of a spec: a file is read ([`parse`], [`ConfigFile`]); neutral
//! rules are checked ([`ListenerSpec::violations`]); the chosen provider's
//! [`Provider::check`] adds the vendor's rules and alias resolution, without
//! any network call; then `create`/`update` translate and send.
#![warn(missing_docs)]

pub mod adapter;
pub mod aliases;
pub mod capabilities;
pub mod check;
pub mod config;
pub mod diff;
pub mod error;
pub mod lock;
pub mod mark;
pub mod ownership;
pub mod parse;
pub mod provider;
pub mod rate;
pub mod resources;
pub mod retry;
pub mod routes;
pub mod routing;
pub mod run;
pub mod spec;
pub mod validate;
pub mod wait;

#[cfg(test)]
mod proptests;

pub use adapter::Adapter;
pub use aliases::Aliases;
pub use capabilities::Capabilities;
pub use check::{Checked, CheckedSet, Rejection, Rejections, Warning, EXTENSION_INVALID};
pub use config::{ConfigFile, InlineCredentials, LoadError, ProfileConfig, Secret, WaitConfig, WaitDefaults, WaitOp};
pub use diff::FieldChange;
pub use error::{Error, Result};
pub use lock::WriteLock;
pub use ownership::{Owned, OwnedPart};
pub use parse::{Format, ParseError, ParseErrorKind};
pub use provider::{
    plan_change, refuse_immutable, ChangePlan, CreateTurns, Listener, ListenerId, ListenerStatus, Provider,
};
pub use resources::{
    inline_pool_id, Endpoint, NewRule, Pool, PoolProvider, PoolSpec, ResourceId, RouteSpec, Rule, RuleProvider,
};
pub use routes::{Backend, BackendEndpoint, Route};
pub use routing::{Destination, Resolution};
pub use spec::*;
pub use validate::{validate_listeners, Violation};
pub use wait::{Deadline, Poll, Waits};
