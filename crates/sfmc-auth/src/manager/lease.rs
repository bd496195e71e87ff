//! The mechanics of a store's cross-process refresh lock during one refresh: which tier's lock
//! to take, renewing its lease while the refresh works, and releasing it on every path
//! ([`HeldLock`] lives outside the refresh's future, so the task releases it however that
//! future ends).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::Inner;
use crate::settings::TokenKey;
use crate::store::{LockAttempt, LockToken, TokenStore};
use crate::sync::lock;

/// The longest a lock release may take before it is left to expire.
const UNLOCK_TIMEOUT: Duration = Duration::from_secs(2);

/// The store lock a refresh holds, kept outside the refresh's future so that the task releases
/// it however the future ends (done, timed out, shut down, panicked, dropped).
#[derive(Default)]
pub(crate) struct HeldLock(Mutex<Option<(Arc<dyn TokenStore>, LockToken)>>);

impl HeldLock {
    pub(crate) fn set(&self, store: Arc<dyn TokenStore>, token: LockToken) {
        *lock(&self.0) = Some((store, token));
    }

    /// Releases the lock if it is still held (bounded; a lock not released expires). It is
    /// forgotten only once released, so a release cut short is redone by
    /// [`HeldLock::release_detached`].
    pub(crate) async fn release(&self, key: &TokenKey) {
        let held = lock(&self.0).clone();
        if let Some((store, token)) = held {
            match tokio::time::timeout(UNLOCK_TIMEOUT, store.unlock(key, token)).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    tracing::debug!(%error, "could not release the refresh lock; it will expire");
                }
                Err(_) => tracing::debug!("refresh lock release timed out; it will expire"),
            }
            lock(&self.0).take();
        }
    }

    /// Releases the lock if it is still held, without waiting: in a task of its own where a
    /// runtime runs. Where none does, or that task never runs (its runtime is shutting down),
    /// the store releases what it can at once (a file lock is released when `unlock` is
    /// called; a Redis lease expires).
    pub(crate) fn release_detached(&self, key: &TokenKey) {
        let Some((store, token)) = lock(&self.0).take() else {
            return;
        };
        let release = Release {
            store,
            key: key.clone(),
            token: Some(token),
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(release.run());
        }
    }
}

/// A lock release that happens even if it is dropped before it runs.
struct Release {
    store: Arc<dyn TokenStore>,
    key: TokenKey,
    token: Option<LockToken>,
}

impl Release {
    async fn run(mut self) {
        if let Some(token) = self.token.take() {
            let unlock = self.store.unlock(&self.key, token);
            let _ = tokio::time::timeout(UNLOCK_TIMEOUT, unlock).await;
        }
    }
}

impl Drop for Release {
    fn drop(&mut self) {
        if let Some(token) = self.token.take() {
            drop(self.store.unlock(&self.key, token));
        }
    }
}

/// Runs `work` while renewing the lock lease every third of its length.
pub(crate) async fn with_renewed_lease<T>(
    work: impl Future<Output = T>,
    store: &dyn TokenStore,
    key: &TokenKey,
    token: &LockToken,
    lease: Duration,
) -> T {
    let every = (lease / 3).max(Duration::from_millis(1));
    tokio::pin!(work);
    let mut renewing = true;
    loop {
        tokio::select! {
            biased;
            out = &mut work => return out,
            () = tokio::time::sleep(every), if renewing => {
                // Bounded, so that the work is not starved while a renewal hangs.
                match tokio::time::timeout(every, store.renew_lock(key, token)).await {
                    Ok(Ok(true)) => {}
                    Ok(Ok(false)) => {
                        tracing::warn!(store = store.name(), "lost the refresh lock while refreshing");
                        renewing = false;
                    }
                    Ok(Err(error)) => tracing::debug!(%error, "could not renew the refresh lock"),
                    Err(_) => tracing::debug!("refresh lock renewal timed out"),
                }
            }
        }
    }
}

/// Tries the locks of the stores from the widest tier (the last added, e.g. Redis for a fleet)
/// to the narrowest (e.g. the file cache of one machine); the first that answers decides. A
/// store whose lock fails passes the question on to the next. `None` when no store has a lock
/// that works.
pub(crate) async fn try_shared_lock(
    inner: &Inner,
    key: &TokenKey,
) -> Option<(Arc<dyn TokenStore>, LockAttempt)> {
    for store in inner.stores.iter().rev() {
        match store.try_lock(key).await {
            Ok(LockAttempt::Unsupported) => {}
            Ok(attempt) => return Some((store.clone(), attempt)),
            Err(error) => tracing::debug!(%error, "refresh lock unavailable; trying the next tier"),
        }
    }
    None
}
