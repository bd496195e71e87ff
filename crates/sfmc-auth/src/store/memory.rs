//! [`MemoryStore`]: sealed tokens in a process-wide map, shared by the managers that hold it.
//! With [`MemoryStore::with_locking`] it also offers the cross-process lock protocol in-process,
//! which lets tests drive the manager's shared-store path without Redis.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use secrecy::SecretString;

use super::{LockAttempt, LockToken, StoreError, TokenStore};
use crate::endpoint::BoxFuture;
use crate::seal::{seal, unseal};
use crate::settings::TokenKey;
use crate::sync::lock;
use crate::token::AccessToken;

/// Sealed tokens in memory.
#[derive(Debug, Default)]
pub struct MemoryStore {
    values: Mutex<HashMap<TokenKey, Vec<u8>>>,
    locks: Option<Mutex<HashMap<TokenKey, String>>>,
    next_owner: AtomicU64,
}

impl MemoryStore {
    /// A store without a lock ([`LockAttempt::Unsupported`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// A store that also hands out per-key locks (they never expire by themselves: see
    /// [`MemoryStore::break_lock`]).
    pub fn with_locking() -> Self {
        Self {
            locks: Some(Mutex::default()),
            ..Self::default()
        }
    }

    /// Drops a lock whoever holds it, as if it had expired.
    pub fn break_lock(&self, key: &TokenKey) {
        if let Some(locks) = &self.locks {
            lock(locks).remove(key);
        }
    }

    /// The sealed bytes stored for `key`, as an outsider with access to the store would see them.
    pub fn raw(&self, key: &TokenKey) -> Option<Vec<u8>> {
        lock(&self.values).get(key).cloned()
    }
}

impl TokenStore for MemoryStore {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn load<'a>(
        &'a self,
        key: &'a TokenKey,
        secret: &'a SecretString,
    ) -> BoxFuture<'a, Result<Option<AccessToken>, StoreError>> {
        let sealed = lock(&self.values).get(key).cloned();
        Box::pin(async move { Ok(sealed.and_then(|bytes| unseal(secret, key, &bytes))) })
    }

    fn save<'a>(
        &'a self,
        key: &'a TokenKey,
        secret: &'a SecretString,
        token: &'a AccessToken,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        lock(&self.values).insert(key.clone(), seal(secret, key, token));
        Box::pin(async { Ok(()) })
    }

    fn remove_if<'a>(
        &'a self,
        key: &'a TokenKey,
        secret: &'a SecretString,
        failed: &'a AccessToken,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let mut values = lock(&self.values);
        let is_failed = values
            .get(key)
            .and_then(|bytes| unseal(secret, key, bytes))
            .is_some_and(|stored| stored.same_token(failed));
        if is_failed {
            values.remove(key);
        }
        Box::pin(async { Ok(()) })
    }

    fn try_lock<'a>(&'a self, key: &'a TokenKey) -> BoxFuture<'a, Result<LockAttempt, StoreError>> {
        let attempt = match &self.locks {
            None => LockAttempt::Unsupported,
            Some(locks) => {
                let mut locks = lock(locks);
                if locks.contains_key(key) {
                    LockAttempt::Held
                } else {
                    let owner = self.next_owner.fetch_add(1, Ordering::Relaxed).to_string();
                    locks.insert(key.clone(), owner.clone());
                    LockAttempt::Acquired(LockToken(owner))
                }
            }
        };
        Box::pin(async { Ok(attempt) })
    }

    fn unlock<'a>(
        &'a self,
        key: &'a TokenKey,
        owner: LockToken,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        if let Some(locks) = &self.locks {
            let mut locks = lock(locks);
            if locks.get(key) == Some(&owner.0) {
                locks.remove(key);
            }
        }
        Box::pin(async { Ok(()) })
    }
}
