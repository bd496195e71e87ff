//! The *mechanism* of one key: a [`Slot`] holds the current token behind a lock-free read and
//! runs at most one refresh at a time, as a task it owns. Callers never run a refresh
//! themselves: they subscribe to the running task's answer (a `tokio::sync::watch`), so a caller
//! dropped at any `.await` cancels, repeats and orphans nothing. The task itself lives in
//! [`super::task`].

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use tokio::sync::watch;

use super::Inner;
use super::policy::ms;
use crate::error::AuthError;
use crate::settings::{ConnectionSettings, TokenKey};
use crate::sync::lock;
use crate::token::AccessToken;

/// What waiters of a refresh get: a token to use, or why there is none.
pub(crate) type Answer = Result<Arc<AccessToken>, AuthError>;

/// How many tokens that got a 401 a slot remembers (the newest).
const REMEMBERED_REJECTIONS: usize = 8;

/// A token in a slot with its two windows (Unix ms).
pub(crate) struct Cached {
    pub(crate) token: Arc<AccessToken>,
    pub(crate) soft_at_ms: u64,
    pub(crate) hard_at_ms: u64,
}

/// What a slot remembers between refreshes; changed under its mutex only.
#[derive(Default)]
struct SlotState {
    /// The answer channel of the running refresh task, if one runs.
    running: Option<watch::Receiver<Option<Answer>>>,
    /// The last permanent rejection and when it came (Unix ms), for the cooldown.
    rejection: Option<(AuthError, u64)>,
    /// Tokens that got a 401: no tier may serve them again.
    rejected_tokens: Vec<Arc<AccessToken>>,
}

/// The state of one key (and secret).
pub(crate) struct Slot {
    pub(crate) settings: ConnectionSettings,
    pub(crate) key: TokenKey,
    pub(crate) current: ArcSwapOption<Cached>,
    /// No background refresh starts before this (Unix ms): `u64::MAX` while a refresh runs (or
    /// none can run), the backoff after a failed one, 0 otherwise. Written only when a refresh
    /// starts or ends, so reads in the soft window stay read-only.
    background_retry_at_ms: AtomicU64,
    /// Whether any token ever got a 401 here: until one does, [`Slot::is_rejected`] (asked by
    /// every waiter of a refresh) takes no lock.
    any_rejected: AtomicBool,
    /// When a handle was last made or a refresh last ended (Unix ms), for idle eviction.
    pub(crate) last_used_ms: AtomicU64,
    state: Mutex<SlotState>,
}

impl Slot {
    pub(crate) fn new(settings: ConnectionSettings, now_ms: u64) -> Self {
        Self {
            key: settings.key(),
            settings,
            current: ArcSwapOption::empty(),
            background_retry_at_ms: AtomicU64::new(0),
            any_rejected: AtomicBool::new(false),
            last_used_ms: AtomicU64::new(now_ms),
            state: Mutex::default(),
        }
    }

    /// Whether a background refresh may start now (read-only check for the read path).
    #[inline]
    pub(crate) fn may_start_background(&self, now_ms: u64) -> bool {
        now_ms >= self.background_retry_at_ms.load(Ordering::Relaxed)
    }

    /// The lifetime of the current token, if any.
    pub(crate) fn token_lifetime(&self) -> Option<Duration> {
        let current = self.current.load();
        current
            .as_ref()
            .map(|c| Duration::from_secs(c.token.response().expires_in))
    }

    /// Whether `token` got a 401 here.
    pub(crate) fn is_rejected(&self, token: &AccessToken) -> bool {
        if !self.any_rejected.load(Ordering::Acquire) {
            return false;
        }
        lock(&self.state)
            .rejected_tokens
            .iter()
            .any(|t| t.same_token(token))
    }

    /// Makes `token` the current one (unless it got a 401 meanwhile, or is current already)
    /// with fresh windows.
    pub(crate) fn install(&self, inner: &Inner, token: &Arc<AccessToken>) {
        let state = lock(&self.state);
        let current = self.current.load();
        let is_current = current.as_ref().is_some_and(|c| c.token.same_token(token));
        if is_current || state.rejected_tokens.iter().any(|t| t.same_token(token)) {
            return;
        }
        let (soft_at_ms, hard_at_ms) = inner.policy.windows(token, inner.policy.jitter.fraction());
        self.current.store(Some(Arc::new(Cached {
            token: token.clone(),
            soft_at_ms,
            hard_at_ms,
        })));
    }

    /// Forgets `failed` (a token that got a 401): drops it from memory if it is current and
    /// remembers it so that no store can hand it back.
    pub(crate) fn reject(&self, inner: &Inner, failed: &AccessToken) {
        let mut state = lock(&self.state);
        let now = inner.clock.now_ms();
        state
            .rejected_tokens
            .retain(|t| t.expires_at_ms() > now && !t.same_token(failed));
        if state.rejected_tokens.len() >= REMEMBERED_REJECTIONS {
            state.rejected_tokens.remove(0);
        }
        state.rejected_tokens.push(Arc::new(failed.clone()));
        self.any_rejected.store(true, Ordering::Release);
        self.current.rcu(|current| match current {
            Some(cached) if cached.token.same_token(failed) => None,
            other => other.clone(),
        });
    }

    /// The current token if it is before hard expiry at `now_ms`.
    pub(crate) fn usable(&self, now_ms: u64) -> Option<Arc<AccessToken>> {
        let current = self.current.load();
        let cached = current.as_ref()?;
        (now_ms < cached.hard_at_ms).then(|| cached.token.clone())
    }

    /// The answer channel of the running refresh, starting one if none runs. `Err` when a
    /// recent permanent rejection answers instead, or no refresh can start (no runtime, the
    /// manager shut down).
    pub(crate) fn join_refresh(
        self: &Arc<Self>,
        inner: &Arc<Inner>,
    ) -> Result<watch::Receiver<Option<Answer>>, AuthError> {
        let mut state = lock(&self.state);
        if let Some(running) = &state.running {
            // A task torn down with its runtime ends without `finish`: its channel is closed.
            if running.has_changed().is_ok() {
                return Ok(running.clone());
            }
            state.running = None;
        }
        if let Some((error, at_ms)) = &state.rejection {
            let cooldown = ms(inner.policy.rejection_cooldown);
            if inner.clock.now_ms() < at_ms.saturating_add(cooldown) {
                return Err(error.clone());
            }
        }
        // Where no refresh can start, no background one is tried again (the read path stays
        // read-only); blocking callers get the error.
        if inner.shutdown.is_cancelled() {
            self.background_retry_at_ms
                .store(u64::MAX, Ordering::Relaxed);
            return Err(AuthError::unavailable("the token manager has shut down"));
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            let retry_at = inner
                .clock
                .now_ms()
                .saturating_add(ms(inner.policy.max_backoff));
            self.background_retry_at_ms
                .store(retry_at, Ordering::Relaxed);
            return Err(AuthError::unavailable(
                "a token refresh needs a tokio runtime",
            ));
        };
        let (answer, receiver) = watch::channel(None);
        state.running = Some(receiver.clone());
        self.background_retry_at_ms
            .store(u64::MAX, Ordering::Relaxed);
        let task = super::task::run_refresh(inner.clone(), self.clone(), answer);
        runtime.spawn(inner.tasks.track_future(task));
        Ok(receiver)
    }

    /// Starts a background refresh (the read path has checked
    /// [`Slot::may_start_background`]).
    pub(crate) fn start_background(self: &Arc<Self>, inner: &Arc<Inner>) {
        if let Err(error) = self.join_refresh(inner) {
            tracing::debug!(%error, "background token refresh not started");
        }
    }

    /// The running refresh's channel, to wait for its end.
    pub(crate) fn running(&self) -> Option<watch::Receiver<Option<Answer>>> {
        let state = lock(&self.state);
        let running = state.running.as_ref()?;
        running.has_changed().is_ok().then(|| running.clone())
    }

    /// Notes the end of a refresh task: its failure (for the cooldown and the background
    /// backoff) and that none runs any more.
    pub(crate) fn finish(&self, inner: &Inner, failure: Option<&AuthError>, served_anyway: bool) {
        let mut state = lock(&self.state);
        let now = inner.clock.now_ms();
        state.running = None;
        state.rejection = failure
            .filter(|e| !e.root().is_transient())
            .map(|e| (e.clone(), now));
        let retry_at = match failure {
            None => 0,
            // A permanent rejection while the old token is still served: no more background
            // attempts for that token (callers past its hard expiry try again after the
            // cooldown). Otherwise: back off before the next one.
            Some(error) if !error.root().is_transient() && served_anyway => u64::MAX,
            Some(_) => now.saturating_add(ms(inner.policy.max_backoff)),
        };
        self.background_retry_at_ms
            .store(retry_at, Ordering::Relaxed);
        self.last_used_ms.store(now, Ordering::Relaxed);
    }
}
