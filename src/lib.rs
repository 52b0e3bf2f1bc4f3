//! placeholder
pub use listener_core::*;
