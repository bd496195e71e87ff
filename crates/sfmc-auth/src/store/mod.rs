//! Token stores: where tokens live outside a manager's own memory, behind one trait,
//! [`TokenStore`]. Every store keeps values sealed ([`crate::seal`]) under the client secret, so
//! a store's contents are useless without it.
//!
//! - [`MemoryStore`]: in-process, shared between managers (tests, embedding).
//! - [`FileStore`]: the CLI's per-user cache directory.
//! - `RedisStore` (feature `redis`): the fleet-wide tier, with a cross-process refresh lock.
//!
//! A store failure is never a caller's failure: the manager treats it as a miss and goes to the
//! token endpoint.

use std::fmt;
use std::time::Duration;

use secrecy::SecretString;

use crate::endpoint::BoxFuture;
use crate::settings::TokenKey;
use crate::token::AccessToken;

mod file;
mod file_io;
mod memory;
#[cfg(feature = "redis")]
mod redis;

pub use file::FileStore;
pub use memory::MemoryStore;
#[cfg(feature = "redis")]
pub use redis::{RedisStore, RedisStoreConfig};

/// A store failed (I/O, Redis down, …). Carries no token and no secret.
#[derive(Debug, thiserror::Error)]
#[error("{store} token store: {reason}")]
pub struct StoreError {
    /// Which store, e.g. `file`.
    pub store: &'static str,
    /// What went wrong.
    pub reason: String,
}

impl StoreError {
    /// An error of `store`.
    pub fn new(store: &'static str, reason: impl fmt::Display) -> Self {
        Self {
            store,
            reason: reason.to_string(),
        }
    }
}

/// Proof of holding a store's refresh lock for a key, given back to [`TokenStore::unlock`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockToken(pub String);

/// The answer to [`TokenStore::try_lock`].
#[derive(Debug)]
pub enum LockAttempt {
    /// This caller holds the lock until it unlocks it or the lock expires.
    Acquired(LockToken),
    /// Someone else holds it: wait for the token they will write.
    Held,
    /// The store has no cross-process lock: refresh directly.
    Unsupported,
}

/// A place to keep sealed tokens, shared beyond one manager.
pub trait TokenStore: Send + Sync + fmt::Debug + 'static {
    /// A short name for logs and errors, e.g. `file` or `redis`.
    fn name(&self) -> &'static str;

    /// The token stored for `key`, if there is one that unseals under `secret` (it may have
    /// expired: the manager checks). A value that does not unseal is a miss (`Ok(None)`).
    fn load<'a>(
        &'a self,
        key: &'a TokenKey,
        secret: &'a SecretString,
    ) -> BoxFuture<'a, Result<Option<AccessToken>, StoreError>>;

    /// Stores `token` for `key`, sealed under `secret`, until it expires; replaces atomically.
    fn save<'a>(
        &'a self,
        key: &'a TokenKey,
        secret: &'a SecretString,
        token: &'a AccessToken,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Forgets the token stored for `key` if it is `failed` (a token that got a 401), so that a
    /// newer token written by someone else is kept.
    fn remove_if<'a>(
        &'a self,
        key: &'a TokenKey,
        secret: &'a SecretString,
        failed: &'a AccessToken,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Tries to take the cross-process refresh lock for `key`. Stores without one answer
    /// [`LockAttempt::Unsupported`].
    fn try_lock<'a>(&'a self, key: &'a TokenKey) -> BoxFuture<'a, Result<LockAttempt, StoreError>> {
        let _ = key;
        Box::pin(async { Ok(LockAttempt::Unsupported) })
    }

    /// How long a lock taken by [`TokenStore::try_lock`] lives unless renewed: the manager
    /// renews it every third of that while it refreshes, so a holder that dies delays others
    /// by at most this long. `None` for locks that end with their holder (file locks) and for
    /// stores without locks.
    fn lock_lease(&self) -> Option<Duration> {
        None
    }

    /// Extends the lease of a lock taken by [`TokenStore::try_lock`] to a full
    /// [`TokenStore::lock_lease`] again; `Ok(false)` when `lock` no longer owns it.
    fn renew_lock<'a>(
        &'a self,
        key: &'a TokenKey,
        lock: &'a LockToken,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let _ = (key, lock);
        Box::pin(async { Ok(true) })
    }

    /// Releases a lock taken by [`TokenStore::try_lock`], only if `lock` still owns it.
    fn unlock<'a>(
        &'a self,
        key: &'a TokenKey,
        lock: LockToken,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let _ = (key, lock);
        Box::pin(async { Ok(()) })
    }
}
