//! One write at a time per instance, where the vendor demands it.
//!
//! Every vendor this project knows refuses a write while another one is
//! being applied on the same instance (a load balancer, a connection, an
//! accelerator) and answers "busy". Writes of our own should queue instead
//! of colliding: a collision costs a refused call, a retry and a token of
//! the retry budget, and under load can outlast the retry bounds. An
//! adapter whose [`Capabilities::serial_writes`] is set therefore holds the
//! instance's [`WriteLock`] around each write and the wait that follows it;
//! the lock is one per instance in the process, so providers built
//! separately for the same instance (two profiles, a library user's own
//! provider beside `apply`'s) still queue. Where the flag is not set the
//! lock is a no-op and writes overlap.
//!
//! The lock is not reentrant: an adapter takes it once per trait-level
//! write (`create`, `update`, `delete`), never in the helpers those call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use crate::Capabilities;

/// The write lock of one instance, or none where writes may overlap.
#[derive(Debug, Clone)]
pub struct WriteLock {
    lock: Option<Arc<AsyncMutex<()>>>,
}

/// Held while a write and its wait run; dropping it lets the next write go.
#[derive(Debug)]
pub struct WriteGuard {
    _guard: Option<OwnedMutexGuard<()>>,
}

impl WriteLock {
    /// The lock of `instance` reached at `endpoint` for an adapter with
    /// `caps`: shared by every provider of the process for the same API,
    /// endpoint and instance when `caps.serial_writes`, a no-op otherwise.
    pub fn for_instance(caps: &Capabilities, endpoint: &str, instance: &str) -> Self {
        if !caps.serial_writes {
            return WriteLock { lock: None };
        }
        static LOCKS: OnceLock<Mutex<HashMap<String, Arc<AsyncMutex<()>>>>> = OnceLock::new();
        let key = format!("{}\n{endpoint}\n{instance}", caps.api);
        let mut map = LOCKS
            .get_or_init(|| Mutex::new(HashMap::new()))
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        WriteLock {
            lock: Some(map.entry(key).or_default().clone()),
        }
    }

    /// Wait for the instance to be ours to write, and hold it until the
    /// guard is dropped.
    pub async fn hold(&self) -> WriteGuard {
        WriteGuard {
            _guard: match &self.lock {
                Some(lock) => Some(lock.clone().lock_owned().await),
                None => None,
            },
        }
    }

    /// Whether this lock serialises anything.
    pub fn is_serial(&self) -> bool {
        self.lock.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(serial_writes: bool) -> Capabilities {
        Capabilities {
            api: "test-lock",
            serial_writes,
            ..Capabilities::BASE
        }
    }

    #[tokio::test]
    async fn one_instance_has_one_lock_across_providers() {
        let a = WriteLock::for_instance(&caps(true), "https://x/", "lb-1");
        let b = WriteLock::for_instance(&caps(true), "https://x/", "lb-1");
        let held = a.hold().await;
        // `b` is the same lock: it cannot be taken while `a` holds it.
        let lock = b.lock.clone().expect("serial");
        assert!(lock.try_lock().is_err());
        drop(held);
        assert!(lock.try_lock().is_ok());
    }

    #[tokio::test]
    async fn other_instances_and_endpoints_do_not_wait() {
        let a = WriteLock::for_instance(&caps(true), "https://x/", "lb-2");
        let _held = a.hold().await;
        for other in [
            WriteLock::for_instance(&caps(true), "https://x/", "lb-3"),
            WriteLock::for_instance(&caps(true), "https://y/", "lb-2"),
        ] {
            assert!(other.lock.expect("serial").try_lock().is_ok());
        }
    }

    #[tokio::test]
    async fn without_serial_writes_the_lock_is_a_no_op() {
        let a = WriteLock::for_instance(&caps(false), "https://x/", "lb-4");
        assert!(!a.is_serial());
        let _one = a.hold().await;
        let _two = a.hold().await;
    }
}
