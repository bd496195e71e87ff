//! One refresh, as run by a slot's refresh task ([`super::task`]): the store tiers first, then
//! (under the cross-process lock of the widest store that has one, held as a renewed lease) the
//! token endpoint with retries until the deadline. A token still before hard expiry keeps being
//! served when the refresh fails, and handed to waiters at once while the refresh goes on; a
//! new token is handed out once it is in the stores.

use std::sync::Arc;

use tokio::sync::watch;
use tokio::time::Instant;

use super::Inner;
use super::fetch::fetch_with_retries;
use super::lease::{HeldLock, try_shared_lock, with_renewed_lease};
use super::slot::{Answer, Slot};
use crate::clock::monotonic_now;
use crate::error::AuthError;
use crate::store::LockAttempt;
use crate::token::AccessToken;

/// How a refresh ended: the token handed out (new, or still valid despite a failure) and the
/// failure, if the fetch failed.
pub(crate) struct Outcome {
    pub(crate) served: Option<Arc<AccessToken>>,
    pub(crate) failure: Option<AuthError>,
}

impl Outcome {
    pub(crate) fn failed(error: AuthError) -> Self {
        Self {
            served: None,
            failure: Some(error),
        }
    }

    fn served(token: Arc<AccessToken>) -> Self {
        Self {
            served: Some(token),
            failure: None,
        }
    }
}

/// Everything one refresh works with.
pub(crate) struct Run<'a> {
    pub(crate) inner: &'a Inner,
    pub(crate) slot: &'a Slot,
    /// Where the waiters' answer goes.
    pub(crate) answer: &'a watch::Sender<Option<Answer>>,
    /// The store lock this refresh holds, released by the task.
    pub(crate) held: &'a HeldLock,
    /// When the load timeout ends.
    pub(crate) deadline: Instant,
}

impl Run<'_> {
    /// Runs the refresh.
    pub(crate) async fn refresh(&self) -> Outcome {
        let (inner, slot) = (self.inner, self.slot);
        let now = inner.clock.now_ms();
        let cached = slot.current.load_full();
        let current = cached.as_ref().map(|c| c.token.clone());
        if let Some(fresh) = cached
            .as_ref()
            .filter(|c| now < c.soft_at_ms && !slot.is_rejected(&c.token))
        {
            return Outcome::served(fresh.token.clone());
        }
        let mut fallback = cached
            .filter(|c| now < c.hard_at_ms && !slot.is_rejected(&c.token))
            .map(|c| c.token.clone());
        if let Some(found) = self
            .load_from_stores(current.as_deref(), &mut fallback)
            .await
        {
            slot.install(inner, &found);
            return Outcome::served(found);
        }
        if let Some(usable) = &fallback {
            self.answer_now(usable);
        }
        match self.fetch_coordinated(current.as_deref()).await {
            Ok(token) => {
                slot.install(inner, &token);
                Outcome::served(token)
            }
            Err(error) => match fallback {
                Some(still_valid) => {
                    tracing::warn!(
                        %error,
                        client_id = slot.settings.client_id(),
                        seconds_left = still_valid.remaining_secs(inner.clock.now_ms()),
                        "token refresh failed; serving the current token, which is still valid"
                    );
                    Outcome {
                        served: Some(still_valid),
                        failure: Some(error),
                    }
                }
                None => Outcome::failed(error),
            },
        }
    }

    /// Installs `token` and hands it to the waiters at once, unless they have an answer.
    fn answer_now(&self, token: &Arc<AccessToken>) {
        self.slot.install(self.inner, token);
        self.answer.send_if_modified(|current| {
            let unanswered = current.is_none();
            if unanswered {
                *current = Some(Ok(token.clone()));
            }
            unanswered
        });
    }

    /// A fresh token from a store that is neither `current` nor rejected; writes it to the
    /// tiers before the one it came from. Notes the best still-usable stored token in
    /// `fallback`.
    async fn load_from_stores(
        &self,
        current: Option<&AccessToken>,
        fallback: &mut Option<Arc<AccessToken>>,
    ) -> Option<Arc<AccessToken>> {
        let (inner, slot) = (self.inner, self.slot);
        let (key, secret) = (&slot.key, slot.settings.client_secret());
        for (tier, store) in inner.stores.iter().enumerate() {
            let loaded = match store.load(key, secret).await {
                Ok(loaded) => loaded,
                Err(error) => {
                    tracing::debug!(%error, "token store read failed; treating it as a miss");
                    continue;
                }
            };
            let Some(token) = loaded.filter(|t| !slot.is_rejected(t)) else {
                continue;
            };
            let now = inner.clock.now_ms();
            let is_current = current.is_some_and(|c| c.same_token(&token));
            if !is_current && inner.policy.is_fresh(&token, now) {
                tracing::debug!(store = store.name(), "token taken from store");
                for earlier in &inner.stores[..tier] {
                    if let Err(error) = earlier.save(key, secret, &token).await {
                        tracing::debug!(%error, "token store write failed");
                    }
                }
                return Some(Arc::new(token));
            }
            let better = fallback
                .as_ref()
                .is_none_or(|f| f.expires_at_ms() < token.expires_at_ms());
            if inner.policy.is_usable(&token, now) && better {
                *fallback = Some(Arc::new(token));
            }
        }
        None
    }

    /// Fetches a new token under the cross-process lock of the widest store that has one.
    /// While another process holds it, waits for the token it will write, for at most half the
    /// load timeout; then fetches directly in the half that is left.
    async fn fetch_coordinated(
        &self,
        current: Option<&AccessToken>,
    ) -> Result<Arc<AccessToken>, AuthError> {
        let key = &self.slot.key;
        let poll = self.inner.policy.lock_poll_interval;
        let stop_waiting = self.deadline - self.inner.policy.load_timeout / 2;
        loop {
            let Some((store, attempt)) = try_shared_lock(self.inner, key).await else {
                return self.fetch_and_save().await;
            };
            match attempt {
                LockAttempt::Acquired(token) => {
                    // Released by the task once the answer is out.
                    self.held.set(store.clone(), token.clone());
                    let work = async {
                        // Re-read after taking the lock: the previous holder may have written
                        // one.
                        match self.load_from_stores(current, &mut None).await {
                            Some(token) => Ok(token),
                            None => self.fetch_and_save().await,
                        }
                    };
                    return match store.lock_lease() {
                        Some(lease) => with_renewed_lease(work, &*store, key, &token, lease).await,
                        None => work.await,
                    };
                }
                LockAttempt::Held if monotonic_now() < stop_waiting => {
                    let left = stop_waiting.saturating_duration_since(monotonic_now());
                    tokio::time::sleep(poll.min(left)).await;
                    if let Some(token) = self.load_from_stores(current, &mut None).await {
                        return Ok(token);
                    }
                }
                LockAttempt::Held => {
                    tracing::debug!(
                        "refresh lock still held at half the load timeout; fetching directly"
                    );
                    return self.fetch_and_save().await;
                }
                LockAttempt::Unsupported => return self.fetch_and_save().await,
            }
        }
    }

    /// Fetches a token and writes it to every store. Waiters are answered after the writes, so
    /// a token handed out is already shared with the other processes (the writes are bounded:
    /// file I/O, one Redis command).
    async fn fetch_and_save(&self) -> Result<Arc<AccessToken>, AuthError> {
        let (inner, slot) = (self.inner, self.slot);
        let token = Arc::new(fetch_with_retries(inner, slot, self.deadline).await?);
        let (key, secret) = (&slot.key, slot.settings.client_secret());
        for store in &inner.stores {
            if let Err(error) = store.save(key, secret, &token).await {
                tracing::debug!(%error, "token store write failed");
            }
        }
        Ok(token)
    }
}
