//! [`TokenManager`]: one token per key, kept in memory and in the configured stores, refreshed
//! ahead of expiry by exactly one caller, with retries inside a load timeout.
//!
//! Per key there is a slot: the current token behind a lock-free read (`arc-swap`) and one
//! async refresh gate. A [`TokenHandle`] holds its slot, so the cached read is an atomic load, a
//! clock read and two comparisons.
//!
//! Two windows per token: past *soft* expiry (expiry − margin − jitter) one caller starts a
//! background refresh and everyone keeps the current token; past *hard* expiry (expiry − 30 s)
//! callers wait for the one refresh. A refresh that fails transiently is retried with backoff
//! (Retry-After honoured) until the load timeout; meanwhile a token before hard expiry keeps
//! being served, and a failed background refresh backs off before the next one. Permanent
//! rejections fail at once; callers that waited on that attempt, and callers within the
//! rejection cooldown, get the same error instead of making requests of their own.
//!
//! Slots are per key *and* secret digest, so a rotated or wrong secret never shares a token. A
//! cold manager (a new process) that finds a stored token in its refresh window serves it at
//! once and refreshes in the background; [`TokenHandle::settle`] lets a short-lived process wait
//! for that refresh before it exits.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use rand::Rng;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use crate::clock::{Clock, SystemClock};
use crate::endpoint::{HttpTimeouts, HttpTokenEndpoint, TokenEndpoint};
use crate::error::AuthError;
use crate::settings::{ConnectionSettings, TokenKey};
use crate::store::{LockAttempt, StoreError, TokenStore};
use crate::sync::lock;
use crate::token::AccessToken;

/// When to refresh and how hard to try.
#[derive(Debug, Clone)]
pub struct RefreshPolicy {
    /// Refresh this long before expiry (Salesforce advises 5 minutes). Capped at half the
    /// token's lifetime.
    pub refresh_margin: Duration,
    /// Up to this much more, chosen at random per token, so a fleet does not refresh at once.
    /// Capped at a fifth of the effective margin.
    pub refresh_jitter: Duration,
    /// Past `expiry − hard_margin` a token is no longer handed out. Capped at a tenth of the
    /// token's lifetime.
    pub hard_margin: Duration,
    /// The time one refresh may take, all retries included.
    pub load_timeout: Duration,
    /// First backoff after a transient failure; doubles per attempt.
    pub initial_backoff: Duration,
    /// Longest backoff between attempts.
    pub max_backoff: Duration,
    /// How often a caller waiting for another process's refresh (shared-store lock) looks
    /// for the new token.
    pub lock_poll_interval: Duration,
    /// After a permanent rejection (e.g. `invalid_client`), callers get the same error without
    /// a request for this long, so a misconfigured service cannot hammer the token endpoint.
    pub rejection_cooldown: Duration,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self {
            refresh_margin: Duration::from_secs(300),
            refresh_jitter: Duration::from_secs(60),
            hard_margin: Duration::from_secs(30),
            load_timeout: Duration::from_secs(30),
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
            lock_poll_interval: Duration::from_millis(100),
            rejection_cooldown: Duration::from_secs(10),
        }
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl RefreshPolicy {
    /// `(soft_at_ms, hard_at_ms)` of a token, with `jitter_fraction` in `[0, 1]`.
    fn windows(&self, token: &AccessToken, jitter_fraction: f64) -> (u64, u64) {
        let lifetime = token.response().expires_in.saturating_mul(1000);
        let expires_at = token.expires_at_ms();
        let margin = ms(self.refresh_margin).min(lifetime / 2);
        let jitter_max = ms(self.refresh_jitter).min(margin / 5);
        // Truncation is intended: jitter is a whole number of milliseconds.
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let jitter = (jitter_max as f64 * jitter_fraction.clamp(0.0, 1.0)) as u64;
        let hard_margin = ms(self.hard_margin).min(lifetime / 10);
        let hard_at = expires_at.saturating_sub(hard_margin);
        let soft_at = expires_at.saturating_sub(margin + jitter).min(hard_at);
        (soft_at, hard_at)
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self
            .initial_backoff
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(self.max_backoff);
        // "Equal jitter": between half and all of the base delay.
        base.mul_f64(rand::rng().random_range(0.5..=1.0))
    }
}

/// A token in a slot with its two windows.
struct Cached {
    token: Arc<AccessToken>,
    soft_at_ms: u64,
    hard_at_ms: u64,
}

/// The outcome of the last refresh attempt of a slot, for callers that waited on it.
struct LastAttempt {
    /// Attempts finished so far: a caller that saw another value before the gate waited on one.
    epoch: u64,
    /// Its failure, if it failed.
    error: Option<AuthError>,
    /// When it ended (for the rejection cooldown).
    finished_at_ms: u64,
}

/// What a refresh produced: the token to hand out (or the error), and the failure of the
/// fetch even when a still-valid token is handed out instead.
struct Refresh {
    token: Result<Arc<AccessToken>, AuthError>,
    served_despite: Option<AuthError>,
}

impl Refresh {
    fn fetched(token: Arc<AccessToken>) -> Self {
        Self {
            token: Ok(token),
            served_despite: None,
        }
    }

    /// The failure of this refresh, whether or not a still-valid token was served.
    fn failure(&self) -> Option<&AuthError> {
        self.served_despite.as_ref().or(self.token.as_ref().err())
    }
}

/// The state of one key.
struct Slot {
    settings: ConnectionSettings,
    key: TokenKey,
    current: ArcSwapOption<Cached>,
    gate: tokio::sync::Mutex<()>,
    refreshing: AtomicBool,
    /// No background refresh starts before this time (backoff after a failed one).
    background_retry_at_ms: AtomicU64,
    last_attempt: Mutex<LastAttempt>,
}

/// A slot's identity: the token key and the SHA-256 of the client secret.
type SlotId = (TokenKey, [u8; 32]);

struct Inner {
    endpoint: Arc<dyn TokenEndpoint>,
    clock: Arc<dyn Clock>,
    stores: Vec<Arc<dyn TokenStore>>,
    policy: RefreshPolicy,
    /// Slots by key and secret digest: a rotated or wrong secret never shares a token.
    slots: Mutex<HashMap<SlotId, Arc<Slot>>>,
    token_requests: AtomicU64,
}

/// Hands out access tokens per [`ConnectionSettings`], fetching each as rarely as possible.
///
/// Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct TokenManager {
    inner: Arc<Inner>,
}

impl fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenManager")
            .field("endpoint", &self.inner.endpoint)
            .field("stores", &self.inner.stores)
            .field("policy", &self.inner.policy)
            .finish_non_exhaustive()
    }
}

/// Builds a [`TokenManager`].
#[derive(Default)]
pub struct TokenManagerBuilder {
    endpoint: Option<Arc<dyn TokenEndpoint>>,
    clock: Option<Arc<dyn Clock>>,
    stores: Vec<Arc<dyn TokenStore>>,
    policy: RefreshPolicy,
}

impl TokenManagerBuilder {
    /// Where tokens come from (default: [`HttpTokenEndpoint`] with default timeouts).
    pub fn endpoint(mut self, endpoint: Arc<dyn TokenEndpoint>) -> Self {
        self.endpoint = Some(endpoint);
        self
    }

    /// The clock (default: [`SystemClock`]).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Adds a store tier; tiers are read in the order added and all are written.
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.stores.push(store);
        self
    }

    /// The refresh policy.
    pub fn policy(mut self, policy: RefreshPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The manager; refuses a policy with a zero load timeout or lock poll interval.
    pub fn build(self) -> Result<TokenManager, AuthError> {
        if self.policy.load_timeout.is_zero() {
            return Err(AuthError::config("load timeout", "must be more than zero"));
        }
        if self.policy.lock_poll_interval.is_zero() {
            return Err(AuthError::config(
                "lock poll interval",
                "must be more than zero",
            ));
        }
        let endpoint = match self.endpoint {
            Some(endpoint) => endpoint,
            None => Arc::new(HttpTokenEndpoint::new(HttpTimeouts::default())),
        };
        Ok(TokenManager {
            inner: Arc::new(Inner {
                endpoint,
                clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
                stores: self.stores,
                policy: self.policy,
                slots: Mutex::default(),
                token_requests: AtomicU64::new(0),
            }),
        })
    }
}

impl TokenManager {
    /// A builder with the defaults.
    pub fn builder() -> TokenManagerBuilder {
        TokenManagerBuilder::default()
    }

    /// The handle for these settings: keep it, its reads are lock-free. Handles for settings
    /// with the same [`TokenKey`] and the same secret share one token.
    pub fn handle(&self, settings: ConnectionSettings) -> TokenHandle {
        let key = settings.key();
        let secret_digest: [u8; 32] =
            Sha256::digest(settings.client_secret().expose_secret().as_bytes()).into();
        let mut slots = lock(&self.inner.slots);
        let slot = slots
            .entry((key.clone(), secret_digest))
            .or_insert_with(|| {
                Arc::new(Slot {
                    settings,
                    key,
                    current: ArcSwapOption::empty(),
                    gate: tokio::sync::Mutex::new(()),
                    refreshing: AtomicBool::new(false),
                    background_retry_at_ms: AtomicU64::new(0),
                    last_attempt: Mutex::new(LastAttempt {
                        epoch: 0,
                        error: None,
                        finished_at_ms: 0,
                    }),
                })
            })
            .clone();
        TokenHandle {
            inner: self.inner.clone(),
            slot,
        }
    }

    /// Token requests this manager has sent (every attempt, retries included).
    pub fn token_requests(&self) -> u64 {
        self.inner.token_requests.load(Ordering::Relaxed)
    }
}

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
    /// Always holds `Some`: [`TokenHandle::cached`] makes one only from a filled slot.
    guard: arc_swap::Guard<Option<Arc<Cached>>>,
}

impl CachedToken {
    /// The token, to keep beyond this read.
    pub fn to_arc(&self) -> Arc<AccessToken> {
        match self.guard.as_ref() {
            Some(cached) => cached.token.clone(),
            None => unreachable!("a CachedToken is made from a filled slot only"),
        }
    }
}

impl std::ops::Deref for CachedToken {
    type Target = AccessToken;

    fn deref(&self) -> &AccessToken {
        match self.guard.as_ref() {
            Some(cached) => &cached.token,
            None => unreachable!("a CachedToken is made from a filled slot only"),
        }
    }
}

impl fmt::Debug for CachedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Clears a flag when dropped.
struct ClearOnDrop<'a>(&'a AtomicBool);

impl Drop for ClearOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// How a refresh was started, which decides what a failure means.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A caller is waiting: return the new token or the error.
    Blocking,
    /// In the background while the current token is still served.
    Background,
}

impl TokenHandle {
    /// A valid token: the cached one when it is before its refresh time, else the cached one
    /// while a background refresh runs, else a new one (one request for all callers).
    pub async fn token(&self) -> Result<Arc<AccessToken>, AuthError> {
        if let Some(token) = self.cached() {
            return Ok(token.to_arc());
        }
        // Boxed so that the fast path's future stays small (the refresh state machine is large).
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
        if now >= cached.soft_at_ms {
            self.start_background_refresh();
        }
        Some(CachedToken { guard })
    }

    /// Drops `failed` (a token that got a 401) from memory and stores, unless a newer token has
    /// replaced it already; the next [`TokenHandle::token`] fetches a new one.
    pub async fn invalidate(&self, failed: &AccessToken) {
        // Under the gate, so no refresh reloads the failed token from a store meanwhile.
        let _gate = self.slot.gate.lock().await;
        self.slot.current.rcu(|current| match current {
            Some(cached) if cached.token.same_token(failed) => None,
            other => other.clone(),
        });
        for store in &self.inner.stores {
            if let Err(error) = store
                .remove_if(&self.slot.key, self.slot.settings.client_secret(), failed)
                .await
            {
                tracing::debug!(%error, "could not remove an invalidated token from a store");
            }
        }
        tracing::debug!(
            client_id = self.slot.settings.client_id(),
            "token invalidated"
        );
    }

    fn start_background_refresh(&self) {
        let retry_at = self.slot.background_retry_at_ms.load(Ordering::Acquire);
        if self.inner.clock.now_ms() < retry_at || self.slot.refreshing.swap(true, Ordering::AcqRel)
        {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.slot.refreshing.store(false, Ordering::Release);
            return;
        };
        let handle = self.clone();
        runtime.spawn(async move {
            // Cleared however the task ends (done, panicked or cancelled at runtime shutdown).
            let _clear = ClearOnDrop(&handle.slot.refreshing);
            let _gate = handle.slot.gate.lock().await;
            let fresh = handle
                .slot
                .current
                .load()
                .as_ref()
                .is_some_and(|c| handle.inner.clock.now_ms() < c.soft_at_ms);
            if !fresh {
                let refresh = handle.refresh_locked(Mode::Background).await;
                let failure = refresh.failure();
                if let Some(error) = failure {
                    // Permanent: no more background attempts for this token (callers past its
                    // hard expiry try again). Transient: back off before the next one.
                    let retry_at = if error.root().is_transient() {
                        let now = handle.inner.clock.now_ms();
                        now.saturating_add(ms(handle.inner.policy.max_backoff))
                    } else {
                        u64::MAX
                    };
                    handle
                        .slot
                        .background_retry_at_ms
                        .store(retry_at, Ordering::Release);
                }
                handle.record_attempt(failure);
            }
        });
    }

    /// Waits until a background refresh in flight has finished. A short-lived process (the
    /// CLI) calls this before exiting so that the refreshed token reaches its stores.
    pub async fn settle(&self) {
        while self.slot.refreshing.load(Ordering::Acquire) {
            drop(self.slot.gate.lock().await);
            tokio::task::yield_now().await;
        }
    }

    /// The slow path: wait for the gate, re-check, then refresh — or share the failure of the
    /// attempt that finished while this caller waited, or of a recent permanent rejection.
    async fn wait_for_refresh(&self) -> Result<Arc<AccessToken>, AuthError> {
        let epoch_before = lock(&self.slot.last_attempt).epoch;
        let _gate = self.slot.gate.lock().await;
        if let Some(token) = self.usable_now() {
            return Ok(token);
        }
        if let Some(error) = self.shared_failure(epoch_before) {
            return Err(error);
        }
        let refresh = self.refresh_locked(Mode::Blocking).await;
        self.record_attempt(refresh.failure());
        refresh.token
    }

    /// The error this caller should share instead of making a request: that of an attempt that
    /// finished while it waited, or a permanent rejection within the cooldown.
    fn shared_failure(&self, epoch_before: u64) -> Option<AuthError> {
        let last = lock(&self.slot.last_attempt);
        let error = last.error.as_ref()?;
        let waited_on_it = last.epoch != epoch_before;
        let cooling_down = !error.root().is_transient()
            && self.inner.clock.now_ms()
                < last
                    .finished_at_ms
                    .saturating_add(ms(self.inner.policy.rejection_cooldown));
        (waited_on_it || cooling_down).then(|| error.clone())
    }

    /// Notes the end of a refresh attempt (called with the gate held).
    fn record_attempt(&self, error: Option<&AuthError>) {
        let mut last = lock(&self.slot.last_attempt);
        last.epoch += 1;
        last.error = error.cloned();
        last.finished_at_ms = self.inner.clock.now_ms();
    }

    /// The cached token if it is before hard expiry, without starting anything.
    fn usable_now(&self) -> Option<Arc<AccessToken>> {
        let guard = self.slot.current.load();
        let cached = guard.as_ref()?;
        (self.inner.clock.now_ms() < cached.hard_at_ms).then(|| cached.token.clone())
    }

    fn install(&self, token: Arc<AccessToken>) -> Arc<AccessToken> {
        let (soft_at_ms, hard_at_ms) = self
            .inner
            .policy
            .windows(&token, rand::rng().random_range(0.0..=1.0));
        self.slot.current.store(Some(Arc::new(Cached {
            token: token.clone(),
            soft_at_ms,
            hard_at_ms,
        })));
        self.slot.background_retry_at_ms.store(0, Ordering::Release);
        token
    }

    /// A token is fresh when it is before its unjittered refresh time.
    fn is_fresh(&self, token: &AccessToken, now: u64) -> bool {
        now < self.inner.policy.windows(token, 0.0).0
    }

    fn is_usable(&self, token: &AccessToken, now: u64) -> bool {
        now < self.inner.policy.windows(token, 0.0).1
    }

    /// Refreshes with the gate held: stores first, then (under a shared lock if a store has
    /// one) the endpoint. A blocking caller that finds a stored token before hard expiry takes
    /// it at once and leaves the refresh to the background; a failed refresh serves a token
    /// before hard expiry instead of the error.
    async fn refresh_locked(&self, mode: Mode) -> Refresh {
        let now = self.inner.clock.now_ms();
        let current = self.slot.current.load_full().map(|c| c.token.clone());
        let mut fallback = current.clone().filter(|t| self.is_usable(t, now));
        if let Some(found) = self
            .load_from_stores(current.as_deref(), &mut fallback)
            .await
        {
            return Refresh::fetched(self.install(found));
        }
        if mode == Mode::Blocking
            && let Some(stored) = fallback.take()
        {
            let token = self.install(stored);
            self.start_background_refresh();
            return Refresh::fetched(token);
        }
        let deadline = now.saturating_add(ms(self.inner.policy.load_timeout));
        match self.fetch_coordinated(current.as_deref(), deadline).await {
            Ok(token) => Refresh::fetched(self.install(token)),
            Err(error) => match fallback {
                Some(still_valid) => {
                    tracing::warn!(
                        %error,
                        client_id = self.slot.settings.client_id(),
                        seconds_left = still_valid.remaining_secs(self.inner.clock.now_ms()),
                        "token refresh failed; serving the current token, which is still valid"
                    );
                    let is_current = current.as_ref().is_some_and(|c| c.same_token(&still_valid));
                    let token = if is_current {
                        still_valid
                    } else {
                        self.install(still_valid)
                    };
                    Refresh {
                        token: Ok(token),
                        served_despite: Some(error),
                    }
                }
                None => Refresh {
                    token: Err(error),
                    served_despite: None,
                },
            },
        }
    }

    /// A fresh token from a store that is not `current`; writes it to the tiers before the
    /// one it came from. Notes the best still-usable stored token in `fallback`.
    async fn load_from_stores(
        &self,
        current: Option<&AccessToken>,
        fallback: &mut Option<Arc<AccessToken>>,
    ) -> Option<Arc<AccessToken>> {
        let (key, secret) = (&self.slot.key, self.slot.settings.client_secret());
        for (tier, store) in self.inner.stores.iter().enumerate() {
            let loaded = match store.load(key, secret).await {
                Ok(loaded) => loaded,
                Err(error) => {
                    tracing::debug!(%error, "token store read failed; treating it as a miss");
                    continue;
                }
            };
            let Some(token) = loaded else { continue };
            let now = self.inner.clock.now_ms();
            let is_current = current.is_some_and(|c| c.same_token(&token));
            if !is_current && self.is_fresh(&token, now) {
                tracing::debug!(store = store.name(), "token taken from store");
                for earlier in &self.inner.stores[..tier] {
                    if let Err(error) = earlier.save(key, secret, &token).await {
                        tracing::debug!(%error, "token store write failed");
                    }
                }
                return Some(Arc::new(token));
            }
            let better = fallback
                .as_ref()
                .is_none_or(|f| f.expires_at_ms() < token.expires_at_ms());
            if self.is_usable(&token, now) && better {
                *fallback = Some(Arc::new(token));
            }
        }
        None
    }

    /// Fetches a new token, under the cross-process lock of the first store that has one;
    /// waiters for another process's refresh take the token it writes.
    async fn fetch_coordinated(
        &self,
        current: Option<&AccessToken>,
        deadline: u64,
    ) -> Result<Arc<AccessToken>, AuthError> {
        let key = &self.slot.key;
        loop {
            let Some((store, attempt)) = self.try_shared_lock().await else {
                return self.fetch_and_save(deadline).await;
            };
            match attempt {
                Ok(LockAttempt::Acquired(lock)) => {
                    // Re-read after taking the lock: the previous holder may have written one.
                    let outcome = match self.load_from_stores(current, &mut None).await {
                        Some(token) => Ok(token),
                        None => self.fetch_and_save(deadline).await,
                    };
                    if let Err(error) = store.unlock(key, lock).await {
                        tracing::debug!(%error, "could not release the refresh lock; it will expire");
                    }
                    return outcome;
                }
                Ok(LockAttempt::Held) if self.inner.clock.now_ms() < deadline => {
                    tokio::time::sleep(self.inner.policy.lock_poll_interval).await;
                    if let Some(token) = self.load_from_stores(current, &mut None).await {
                        return Ok(token);
                    }
                }
                Ok(LockAttempt::Held) => {
                    tracing::debug!(
                        "refresh lock still held at the load timeout; fetching directly"
                    );
                    let extended = deadline.saturating_add(ms(self.inner.policy.load_timeout));
                    return self.fetch_and_save(extended).await;
                }
                Ok(LockAttempt::Unsupported) => return self.fetch_and_save(deadline).await,
                Err(error) => {
                    tracing::debug!(%error, "refresh lock unavailable; fetching directly");
                    return self.fetch_and_save(deadline).await;
                }
            }
        }
    }

    /// Tries the lock of each store in order; the first store that has locks answers. `None`
    /// when no store has one.
    async fn try_shared_lock(
        &self,
    ) -> Option<(&Arc<dyn TokenStore>, Result<LockAttempt, StoreError>)> {
        for store in &self.inner.stores {
            let attempt = store.try_lock(&self.slot.key).await;
            if !matches!(attempt, Ok(LockAttempt::Unsupported)) {
                return Some((store, attempt));
            }
        }
        None
    }

    async fn fetch_and_save(&self, deadline: u64) -> Result<Arc<AccessToken>, AuthError> {
        let token = self.fetch_with_retries(deadline).await?;
        let (key, secret) = (&self.slot.key, self.slot.settings.client_secret());
        for store in &self.inner.stores {
            if let Err(error) = store.save(key, secret, &token).await {
                tracing::debug!(%error, "token store write failed");
            }
        }
        Ok(Arc::new(token))
    }

    /// Calls the endpoint until it answers, a permanent error comes back, or the next attempt
    /// would start past `deadline`.
    async fn fetch_with_retries(&self, deadline: u64) -> Result<AccessToken, AuthError> {
        let clock = &self.inner.clock;
        let started = clock.now_ms();
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let sent_at = clock.now_ms();
            let remaining = Duration::from_millis(deadline.saturating_sub(sent_at).max(1));
            self.inner.token_requests.fetch_add(1, Ordering::Relaxed);
            let result = tokio::time::timeout(
                remaining,
                self.inner.endpoint.request_token(&self.slot.settings),
            )
            .await
            .unwrap_or_else(|_| {
                Err(AuthError::transport(
                    "no answer before the load timeout",
                    true,
                ))
            });
            let error = match result {
                Ok(response) => return Ok(AccessToken::new(response, sent_at)),
                Err(error) if !error.is_transient() => return Err(error),
                Err(error) => error,
            };
            let delay = error
                .retry_after()
                .unwrap_or_else(|| self.inner.policy.backoff(attempts));
            let now = clock.now_ms();
            if now.saturating_add(ms(delay)) >= deadline {
                return Err(AuthError::RetriesExhausted {
                    attempts,
                    elapsed_ms: now.saturating_sub(started),
                    last: Box::new(error),
                });
            }
            tracing::warn!(%error, attempt = attempts, retry_in_ms = ms(delay), "token request failed; retrying");
            tokio::time::sleep(delay).await;
        }
    }
}
