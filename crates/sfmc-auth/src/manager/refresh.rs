//! One refresh, as run by a slot's refresh task: the store tiers first, then (under the
//! cross-process lock of the first store that has one, held as a renewed lease) the token
//! endpoint with retries until the deadline. A token still before hard expiry keeps being
//! served when the refresh fails, and is handed to waiters at once while the refresh goes on.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use backon::Retryable;
use tokio::sync::watch;
use tokio::time::Instant;

use super::Inner;
use super::policy::ms;
use super::slot::{Answer, Slot};
use crate::clock::monotonic_now;
use crate::error::AuthError;
use crate::settings::TokenKey;
use crate::store::{LockAttempt, LockToken, TokenStore};
use crate::sync::lock;
use crate::token::AccessToken;

/// The longest a lock release may take before it is left to expire.
const UNLOCK_TIMEOUT: Duration = Duration::from_secs(2);

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

/// The store lock a refresh holds, kept outside the refresh's future so that the task releases
/// it however the future ends (done, timed out, shut down, panicked).
#[derive(Default)]
pub(crate) struct HeldLock(Mutex<Option<(Arc<dyn TokenStore>, LockToken)>>);

impl HeldLock {
    fn set(&self, store: Arc<dyn TokenStore>, token: LockToken) {
        *lock(&self.0) = Some((store, token));
    }

    /// Releases the lock if it is still held (bounded; a lock not released expires).
    pub(crate) async fn release(&self, key: &TokenKey) {
        let held = lock(&self.0).take();
        if let Some((store, token)) = held {
            match tokio::time::timeout(UNLOCK_TIMEOUT, store.unlock(key, token)).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    tracing::debug!(%error, "could not release the refresh lock; it will expire");
                }
                Err(_) => tracing::debug!("refresh lock release timed out; it will expire"),
            }
        }
    }
}

/// Publishes `token` to the refresh's waiters, unless they already have an answer.
fn answer_now(answer: &watch::Sender<Option<Answer>>, token: &Arc<AccessToken>) {
    answer.send_if_modified(|current| {
        let unanswered = current.is_none();
        if unanswered {
            *current = Some(Ok(token.clone()));
        }
        unanswered
    });
}

/// Runs one refresh of `slot`, to be finished by `deadline`.
pub(crate) async fn refresh(
    inner: &Inner,
    slot: &Slot,
    answer: &watch::Sender<Option<Answer>>,
    held: &HeldLock,
    deadline: Instant,
) -> Outcome {
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
    if let Some(found) = load_from_stores(inner, slot, current.as_deref(), &mut fallback).await {
        slot.install(inner, &found);
        return Outcome::served(found);
    }
    if let Some(usable) = &fallback {
        let is_current = current.as_ref().is_some_and(|c| c.same_token(usable));
        if !is_current {
            slot.install(inner, usable);
        }
        answer_now(answer, usable);
    }
    match fetch_coordinated(inner, slot, current.as_deref(), held, deadline).await {
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

/// A fresh token from a store that is neither `current` nor rejected; writes it to the tiers
/// before the one it came from. Notes the best still-usable stored token in `fallback`.
async fn load_from_stores(
    inner: &Inner,
    slot: &Slot,
    current: Option<&AccessToken>,
    fallback: &mut Option<Arc<AccessToken>>,
) -> Option<Arc<AccessToken>> {
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

/// Fetches a new token under the cross-process lock of the widest store that has one. While
/// another process holds it, waits for the token it will write, for at most half the load
/// timeout; then fetches directly in the half that is left.
async fn fetch_coordinated(
    inner: &Inner,
    slot: &Slot,
    current: Option<&AccessToken>,
    held: &HeldLock,
    deadline: Instant,
) -> Result<Arc<AccessToken>, AuthError> {
    let key = &slot.key;
    let poll = inner.policy.lock_poll_interval;
    let stop_waiting = deadline - inner.policy.load_timeout / 2;
    loop {
        let Some((store, attempt)) = try_shared_lock(inner, key).await else {
            return fetch_and_save(inner, slot, deadline).await;
        };
        match attempt {
            LockAttempt::Acquired(token) => {
                held.set(store.clone(), token.clone());
                let work = async {
                    // Re-read after taking the lock: the previous holder may have written one.
                    match load_from_stores(inner, slot, current, &mut None).await {
                        Some(token) => Ok(token),
                        None => fetch_and_save(inner, slot, deadline).await,
                    }
                };
                let outcome = match store.lock_lease() {
                    Some(lease) => with_renewed_lease(work, &*store, key, &token, lease).await,
                    None => work.await,
                };
                held.release(key).await;
                return outcome;
            }
            LockAttempt::Held if monotonic_now() < stop_waiting => {
                let left = stop_waiting.saturating_duration_since(monotonic_now());
                tokio::time::sleep(poll.min(left)).await;
                if let Some(token) = load_from_stores(inner, slot, current, &mut None).await {
                    return Ok(token);
                }
            }
            LockAttempt::Held => {
                tracing::debug!(
                    "refresh lock still held at half the load timeout; fetching directly"
                );
                return fetch_and_save(inner, slot, deadline).await;
            }
            LockAttempt::Unsupported => return fetch_and_save(inner, slot, deadline).await,
        }
    }
}

/// Runs `work` while renewing the lock lease every third of its length.
async fn with_renewed_lease<T>(
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
                match store.renew_lock(key, token).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(store = store.name(), "lost the refresh lock while refreshing");
                        renewing = false;
                    }
                    Err(error) => tracing::debug!(%error, "could not renew the refresh lock"),
                }
            }
        }
    }
}

/// Tries the locks of the stores from the widest tier (the last added, e.g. Redis for a fleet)
/// to the narrowest (e.g. the file cache of one machine); the first that answers decides. A
/// store whose lock fails passes the question on to the next. `None` when no store has a lock
/// that works.
async fn try_shared_lock(
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

async fn fetch_and_save(
    inner: &Inner,
    slot: &Slot,
    deadline: Instant,
) -> Result<Arc<AccessToken>, AuthError> {
    let token = fetch_with_retries(inner, slot, deadline).await?;
    let (key, secret) = (&slot.key, slot.settings.client_secret());
    for store in &inner.stores {
        if let Err(error) = store.save(key, secret, &token).await {
            tracing::debug!(%error, "token store write failed");
        }
    }
    Ok(Arc::new(token))
}

/// Calls the endpoint until it answers, a permanent error comes back, or the next attempt
/// would start past `deadline` (backoff from the policy, `Retry-After` honoured).
async fn fetch_with_retries(
    inner: &Inner,
    slot: &Slot,
    deadline: Instant,
) -> Result<AccessToken, AuthError> {
    let started = monotonic_now();
    let attempts = AtomicU32::new(0);
    let attempt = || async {
        attempts.fetch_add(1, Ordering::Relaxed);
        inner.token_requests.fetch_add(1, Ordering::Relaxed);
        let sent_at = inner.clock.now_ms();
        let request = inner.endpoint.request_token(&slot.settings);
        match tokio::time::timeout_at(deadline, request).await {
            Ok(result) => result.map(|response| AccessToken::new(response, sent_at)),
            Err(_) => Err(AuthError::unavailable(
                "the token endpoint did not answer before the load timeout",
            )),
        }
    };
    let result = attempt
        .retry(inner.policy.backoff())
        .sleep(tokio::time::sleep)
        .when(AuthError::is_transient)
        .adjust(|error, backoff| {
            // A Retry-After of 0 (or a date in the past) still waits the first backoff step.
            let delay = match error.retry_after() {
                Some(asked) => asked.max(inner.policy.initial_backoff),
                None => backoff?,
            };
            (monotonic_now() + delay < deadline).then_some(delay)
        })
        .notify(|error, delay| {
            tracing::warn!(%error, retry_in_ms = ms(delay), "token request failed; retrying");
        })
        .await;
    result.map_err(|error| {
        if error.is_transient() {
            AuthError::RetriesExhausted {
                attempts: attempts.load(Ordering::Relaxed),
                elapsed_ms: ms(monotonic_now().saturating_duration_since(started)),
                last: Box::new(error),
            }
        } else {
            error
        }
    })
}
