//! [`TokenManager`]: one token per key, kept in memory and in the configured stores, refreshed
//! ahead of expiry exactly once for any number of callers, with retries inside a load timeout.
//!
//! - [`policy`]: when a token is due, backoff, checks ([`RefreshPolicy`]).
//! - `slot`: the mechanism of one key: the lock-free current token, starting and joining its
//!   one refresh.
//! - `task`: the refresh task: bounds, shutdown, the final answer, the end noted on every path.
//! - `refresh`: one refresh: store tiers, then the endpoint under the cross-process lock.
//! - `lease`: which tier's lock, its renewed lease, its release on every path.
//! - `fetch`: the endpoint with retries inside the deadline.
//! - `handle`: [`TokenHandle`], what callers hold: `cached()`, `token()`, `invalidate()`.
//!
//! Two windows per token: past *soft* expiry (expiry − margin − jitter) one background refresh
//! starts and everyone keeps the current token; past *hard* expiry (expiry − 30 s) callers wait
//! for that refresh. The refresh runs in a task the slot owns: callers only wait for its answer,
//! so dropping them never cancels, repeats or orphans it, and the load timeout bounds every
//! wait. Permanent rejections fail at once and, within the rejection cooldown, answer later
//! callers without a request.
//!
//! Slots are per key *and* secret digest, so a rotated or wrong secret never shares a token. A
//! slot that no handle holds and nobody used for two token lifetimes is dropped.
//! [`TokenManager::shutdown`] stops refreshes in flight, releasing their store locks.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::clock::{Clock, SystemClock};
use crate::endpoint::{HttpTimeouts, HttpTokenEndpoint, TokenEndpoint};
use crate::error::AuthError;
use crate::settings::{ConnectionSettings, TokenKey};
use crate::store::TokenStore;
use crate::sync::lock;

mod fetch;
mod handle;
mod lease;
pub mod policy;
mod refresh;
mod slot;
mod task;

pub use handle::{CachedToken, TokenHandle};
pub use policy::{FixedJitter, Jitter, RandomJitter, RefreshPolicy};
use slot::Slot;

/// A slot's identity: the token key and the SHA-256 of the client secret.
type SlotId = (TokenKey, [u8; 32]);

/// How many `handle()` calls pass between two sweeps for idle slots.
const SWEEP_EVERY: u64 = 64;

/// What every handle and refresh task of a manager shares.
pub(crate) struct Inner {
    pub(crate) endpoint: Arc<dyn TokenEndpoint>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) stores: Vec<Arc<dyn TokenStore>>,
    pub(crate) policy: RefreshPolicy,
    /// Slots by key and secret digest: a rotated or wrong secret never shares a token.
    slots: Mutex<HashMap<SlotId, Arc<Slot>>>,
    handles_made: AtomicU64,
    pub(crate) token_requests: AtomicU64,
    /// Cancelled by [`TokenManager::shutdown`]: refresh tasks stop and release their locks.
    pub(crate) shutdown: CancellationToken,
    /// The refresh tasks, so that shutdown can wait for them.
    pub(crate) tasks: TaskTracker,
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

    /// The clock of token expiry (default: [`SystemClock`]). Deadlines and waits use tokio's
    /// monotonic clock instead.
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

    /// The manager. Refuses a policy that cannot work (see [`RefreshPolicy`]) and a store
    /// whose lock lease is not shorter than the load timeout (a holder must never outlive it).
    pub fn build(self) -> Result<TokenManager, AuthError> {
        self.policy.check()?;
        for store in &self.stores {
            if let Some(lease) = store.lock_lease()
                && (lease.is_zero() || lease >= self.policy.load_timeout)
            {
                return Err(AuthError::config(
                    "lock lease",
                    format!(
                        "the {} store's refresh lock lease ({} ms) must be more than zero and \
                         shorter than the load timeout ({} ms)",
                        store.name(),
                        lease.as_millis(),
                        self.policy.load_timeout.as_millis()
                    ),
                ));
            }
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
                handles_made: AtomicU64::new(0),
                token_requests: AtomicU64::new(0),
                shutdown: CancellationToken::new(),
                tasks: TaskTracker::new(),
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
        let now = self.inner.clock.now_ms();
        let slot = {
            let mut slots = lock(&self.inner.slots);
            let slot = slots
                .entry((key, secret_digest))
                .or_insert_with(|| Arc::new(Slot::new(settings, now)))
                .clone();
            slot.last_used_ms.store(now, Ordering::Relaxed);
            slot
        };
        if self.inner.handles_made.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1
        {
            self.evict_idle();
        }
        TokenHandle::new(self.inner.clone(), slot)
    }

    /// Drops the slots that no handle holds and nobody used for
    /// [`RefreshPolicy::idle_slot_ttl`] (default: two token lifetimes); returns how many. Runs
    /// by itself every few [`TokenManager::handle`] calls.
    pub fn evict_idle(&self) -> usize {
        let now = self.inner.clock.now_ms();
        let mut slots = lock(&self.inner.slots);
        let before = slots.len();
        slots.retain(|_, slot| {
            let held = Arc::strong_count(slot) > 1;
            let idle_for = now.saturating_sub(slot.last_used_ms.load(Ordering::Relaxed));
            let ttl = self.inner.policy.idle_ttl(slot.token_lifetime());
            held || u128::from(idle_for) < ttl.as_millis()
        });
        before - slots.len()
    }

    /// How many slots (keys with their secret) the manager keeps.
    pub fn slot_count(&self) -> usize {
        lock(&self.inner.slots).len()
    }

    /// Token requests this manager has sent (every attempt, retries included).
    pub fn token_requests(&self) -> u64 {
        self.inner.token_requests.load(Ordering::Relaxed)
    }

    /// Stops every refresh in flight (releasing the store locks they hold) and waits, for at
    /// most `limit`, until they have ended. Callers waiting on them get an error; later calls
    /// that need a refresh fail at once. Tokens already cached are still handed out.
    pub async fn shutdown(&self, limit: Duration) {
        self.inner.shutdown.cancel();
        self.inner.tasks.close();
        if tokio::time::timeout(limit, self.inner.tasks.wait())
            .await
            .is_err()
        {
            tracing::debug!("token refreshes still running at the shutdown limit");
        }
    }
}
