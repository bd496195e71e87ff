//! [`TokenHandle`]: what callers hold. The read path ([`TokenHandle::cached`]) is an atomic load,
//! a coarse clock read and two comparisons; everything slower (waiting for a refresh,
//! invalidating a token) goes through the slot's refresh task, never runs a refresh in the
//! caller's own future, and is safe to drop at any `.await`.

use std::fmt;
use std::sync::Arc;

use super::Inner;
use super::slot::{Cached, Slot};
use crate::error::AuthError;
use crate::settings::ConnectionSettings;
use crate::token::AccessToken;

/// The token of one key. Cheap to clone.
#[derive(Clone)]
pub struct TokenHandle {
    inner: Arc<Inner>,
    slot: Arc<Slot>,
}

impl fmt::Debug for TokenHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenHandle")
            .field("settings", &self.slot.settings)
            .finish_non_exhaustive()
    }
}

/// A token read from a slot without a reference-count update: see [`TokenHandle::cached`].
pub struct CachedToken {
    guard: arc_swap::Guard<Option<Arc<Cached>>>,
}

impl CachedToken {
    fn cached(&self) -> &Cached {
        match self.guard.as_ref() {
            Some(cached) => cached,
            None => unreachable!("a CachedToken is made from a filled slot only"),
        }
    }

    /// The token, to keep beyond this read.
    pub fn to_arc(&self) -> Arc<AccessToken> {
        self.cached().token.clone()
    }
}

impl std::ops::Deref for CachedToken {
    type Target = AccessToken;

    fn deref(&self) -> &AccessToken {
        &self.cached().token
    }
}

impl fmt::Debug for CachedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl TokenHandle {
    pub(crate) fn new(inner: Arc<Inner>, slot: Arc<Slot>) -> Self {
        Self { inner, slot }
    }

    /// A valid token: the cached one when it is before hard expiry (starting a background
    /// refresh past soft expiry), else the answer of the slot's one refresh, for which this
    /// call waits at most the load timeout. Dropping this future cancels nothing.
    pub async fn token(&self) -> Result<Arc<AccessToken>, AuthError> {
        if let Some(token) = self.cached() {
            return Ok(token.to_arc());
        }
        // Boxed so that the fast path's future stays small.
        Box::pin(self.wait_for_refresh()).await
    }

    /// The settings of this handle.
    pub fn settings(&self) -> &ConnectionSettings {
        &self.slot.settings
    }

    /// The manager's clock, in Unix milliseconds.
    pub fn now_ms(&self) -> u64 {
        self.inner.clock.now_ms()
    }

    /// The lock-free read: the cached token if it is before hard expiry, starting a background
    /// refresh when it is past soft expiry. The [`CachedToken`] borrows the slot without
    /// touching a shared reference count; hold it briefly (use [`CachedToken::to_arc`] to
    /// keep the token).
    #[inline]
    pub fn cached(&self) -> Option<CachedToken> {
        let guard = self.slot.current.load();
        let cached = guard.as_ref()?;
        let now = self.inner.clock.now_ms();
        if now >= cached.hard_at_ms {
            return None;
        }
        if now >= cached.soft_at_ms && self.slot.may_start_background(now) {
            self.slot.start_background(&self.inner);
        }
        Some(CachedToken { guard })
    }

    /// Forgets `failed` (a token that got a 401) in memory and in every store, unless a newer
    /// token has replaced it already; no tier will hand it out again. Returns without waiting
    /// for a refresh in flight; the next [`TokenHandle::token`] joins or starts the refresh
    /// that follows. The store removals run in the manager's own task, so dropping this
    /// future does not stop them.
    pub async fn invalidate(&self, failed: &AccessToken) {
        self.slot.reject(&self.inner, failed);
        tracing::debug!(
            client_id = self.slot.settings.client_id(),
            "token invalidated"
        );
        if self.inner.stores.is_empty() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (inner, slot, failed) = (self.inner.clone(), self.slot.clone(), failed.clone());
        let tasks = inner.tasks.clone();
        let removal = tasks.track_future(async move {
            for store in &inner.stores {
                let removed = store
                    .remove_if(&slot.key, slot.settings.client_secret(), &failed)
                    .await;
                if let Err(error) = removed {
                    tracing::debug!(%error, "could not remove an invalidated token from a store");
                }
            }
        });
        let _ = runtime.spawn(removal).await;
    }

    /// Waits until the refresh in flight (if any) has ended. A short-lived process (the CLI)
    /// calls this before exiting so that a background refresh reaches its stores.
    pub async fn settle(&self) {
        while let Some(mut running) = self.slot.running() {
            // The sender is dropped when the task ends.
            while running.changed().await.is_ok() {}
            tokio::task::yield_now().await;
        }
    }

    /// The slow path: the answer of the running (or a new) refresh: a token usable now, or the
    /// refresh's failure. A refresh that ended without an answer for this caller (its token was
    /// invalidated meanwhile, or it was torn down with its runtime) is followed by the next one,
    /// a bounded number of times.
    async fn wait_for_refresh(&self) -> Result<Arc<AccessToken>, AuthError> {
        const ROUNDS: usize = 3;
        let (policy, clock, slot) = (&self.inner.policy, &self.inner.clock, &self.slot);
        for _ in 0..ROUNDS {
            let mut answer = slot.join_refresh(&self.inner)?;
            let answered = answer
                .wait_for(|answer| match answer {
                    // An early answer may be a token invalidated since: wait for the final one.
                    Some(Ok(token)) => {
                        policy.is_usable(token, clock.now_ms()) && !slot.is_rejected(token)
                    }
                    Some(Err(_)) => true,
                    None => false,
                })
                .await;
            if let Ok(Some(answer)) = answered.as_deref() {
                return answer.clone();
            }
            drop(answered);
            if let Some(Err(error)) = answer.borrow().clone() {
                return Err(error);
            }
            if let Some(token) = slot.usable(clock.now_ms()) {
                return Ok(token);
            }
        }
        Err(AuthError::unavailable("the token refresh was stopped"))
    }
}
