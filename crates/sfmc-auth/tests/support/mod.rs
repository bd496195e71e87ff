//! Shared helpers of the `sfmc-auth` integration tests: a scripted fake [`TokenEndpoint`], token
//! responses and settings, managers on tokio's (paused) clock, and a stampede of callers.
//!
//! Every time in these helpers is tokio time: under `#[tokio::test(start_paused = true)]` it only
//! moves when the runtime is idle or told to, so comparing instants is deterministic.

#![allow(dead_code)] // each test crate uses a different part of this module

pub mod logs;
pub mod temp;

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use secrecy::SecretString;
use sfmc_auth::endpoint::BoxFuture;
use sfmc_auth::{
    AccessToken, AuthBaseUrl, AuthError, Clock, ConnectionSettings, RefreshPolicy, TokenEndpoint,
    TokenHandle, TokenManager, TokenResponse, TokioClock,
};
use tokio::time::Instant;

/// The Unix time (ms) the tests' clocks start at.
pub const ORIGIN_MS: u64 = 1_700_000_000_000;
/// Salesforce's token lifetime in seconds.
pub const LIFETIME_SECS: u64 = 1079;
/// The client secret of [`settings`].
pub const SECRET: &str = "secret";

/// Tokio's current instant (paused or not). The one place the tests read it directly.
#[allow(clippy::disallowed_methods)] // the tests compare tokio instants on purpose
pub fn tokio_now() -> Instant {
    Instant::now()
}

/// Settings for `client-id` / `secret` on an address nothing listens on.
pub fn settings() -> ConnectionSettings {
    settings_with("client-id", SECRET)
}

/// Settings for another client id or secret on the same auth base.
pub fn settings_with(client_id: &str, secret: &str) -> ConnectionSettings {
    ConnectionSettings::new(
        AuthBaseUrl::parse("http://127.0.0.1:9/").expect("auth base"),
        client_id,
        SecretString::from(secret.to_owned()),
    )
    .expect("settings")
}

/// A checked token response for `token`, living `expires_in` seconds.
pub fn response(token: &str, expires_in: u64) -> TokenResponse {
    let body = serde_json::json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "scope": "email_read email_write",
        "rest_instance_url": "https://mc.rest.marketingcloudapis.com/",
        "soap_instance_url": "https://mc.soap.marketingcloudapis.com/",
    });
    TokenResponse::parse(body.to_string().as_bytes()).expect("token response")
}

/// An access token for `token` sent at `sent_at_ms`, living [`LIFETIME_SECS`].
pub fn access_token(token: &str, sent_at_ms: u64) -> AccessToken {
    AccessToken::new(response(token, LIFETIME_SECS), sent_at_ms)
}

/// 503 from the token endpoint (transient).
pub fn service_unavailable() -> AuthError {
    AuthError::ServiceFailure { status: 503 }
}

/// A connection failure (transient).
pub fn connection_refused() -> AuthError {
    AuthError::transport("connection refused", false)
}

/// The description of [`invalid_client`].
pub const INVALID_CLIENT_DESCRIPTION: &str = "Client authentication failed.";

/// `invalid_client` (permanent).
pub fn invalid_client() -> AuthError {
    AuthError::Rejected {
        status: 401,
        error: "invalid_client".to_owned(),
        description: INVALID_CLIENT_DESCRIPTION.to_owned(),
    }
}

/// 429 with `Retry-After` (transient).
pub fn throttled(retry_after: Option<Duration>) -> AuthError {
    AuthError::Throttled { retry_after }
}

/// What one scripted call answers.
#[derive(Clone)]
#[allow(clippy::large_enum_variant)] // a test script; size does not matter
enum Outcome {
    /// A new token, `{prefix}-{n}` for the n-th token issued, living `expires_in` seconds.
    Issue { expires_in: u64 },
    /// This exact response.
    Respond(TokenResponse),
    /// This error.
    Fail(AuthError),
}

#[derive(Clone)]
struct Step {
    outcome: Outcome,
    delay: Duration,
}

#[derive(Default)]
struct State {
    script: VecDeque<Step>,
    /// Answered once the script is used up.
    then: Option<Step>,
    /// The tokio instant each call started at.
    started: Vec<Instant>,
    /// The tokio instant each call answered at.
    answered: Vec<Instant>,
    /// Client secrets the calls were made with.
    secrets: Vec<String>,
    issued: u64,
    /// Why the test must fail, if the endpoint was misused.
    violations: Vec<String>,
}

/// A fake token endpoint answering from a script: a queue of outcomes (each with an optional
/// delay in tokio time), then an optional outcome repeated forever. Counts calls, notes the tokio
/// instant of each, and fails the test when called more than `max_calls` times or past the end
/// of its script.
pub struct ScriptedEndpoint {
    prefix: String,
    max_calls: usize,
    calls: AtomicUsize,
    state: Mutex<State>,
}

impl fmt::Debug for ScriptedEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScriptedEndpoint")
            .field("calls", &self.calls())
            .field("max_calls", &self.max_calls)
            .finish_non_exhaustive()
    }
}

impl ScriptedEndpoint {
    /// An endpoint with an empty script that may be called at most `max_calls` times; its tokens
    /// are `tok-1`, `tok-2`, ….
    pub fn new(max_calls: usize) -> Arc<Self> {
        Self::with_prefix("tok", max_calls)
    }

    /// Same, with tokens `{prefix}-1`, `{prefix}-2`, ….
    pub fn with_prefix(prefix: &str, max_calls: usize) -> Arc<Self> {
        Arc::new(Self {
            prefix: prefix.to_owned(),
            max_calls,
            calls: AtomicUsize::new(0),
            state: Mutex::default(),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn push(&self, outcome: Outcome, delay: Duration) -> &Self {
        self.state().script.push_back(Step { outcome, delay });
        self
    }

    /// Next: a new token living [`LIFETIME_SECS`].
    pub fn issue(&self) -> &Self {
        self.issue_after(Duration::ZERO)
    }

    /// Next: a new token, answered after `delay`.
    pub fn issue_after(&self, delay: Duration) -> &Self {
        self.push(
            Outcome::Issue {
                expires_in: LIFETIME_SECS,
            },
            delay,
        )
    }

    /// Next: this response.
    pub fn respond(&self, response: TokenResponse) -> &Self {
        self.push(Outcome::Respond(response), Duration::ZERO)
    }

    /// Next: this error.
    pub fn fail(&self, error: AuthError) -> &Self {
        self.fail_after(Duration::ZERO, error)
    }

    /// Next: this error, answered after `delay`.
    pub fn fail_after(&self, delay: Duration, error: AuthError) -> &Self {
        self.push(Outcome::Fail(error), delay)
    }

    /// Once the script is used up: a new token on every call, each after `delay`.
    pub fn then_always_issue(&self, delay: Duration) -> &Self {
        self.state().then = Some(Step {
            outcome: Outcome::Issue {
                expires_in: LIFETIME_SECS,
            },
            delay,
        });
        self
    }

    /// Once the script is used up: this error on every call, each after `delay`.
    pub fn then_always_fail(&self, delay: Duration, error: AuthError) -> &Self {
        self.state().then = Some(Step {
            outcome: Outcome::Fail(error),
            delay,
        });
        self
    }

    /// Calls so far.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// The tokio instant at which each call started, in order.
    pub fn call_instants(&self) -> Vec<Instant> {
        self.state().started.clone()
    }

    /// The tokio instant at which each call answered, in order of answers.
    pub fn answer_instants(&self) -> Vec<Instant> {
        self.state().answered.clone()
    }

    /// The client secrets the calls were made with.
    pub fn secrets_seen(&self) -> Vec<String> {
        self.state().secrets.clone()
    }

    /// Fails the test if the endpoint was called too often or past its script (also caught
    /// here when the panic happened in a background task that nobody joins).
    pub fn assert_no_violations(&self) {
        let violations = self.state().violations.clone();
        assert!(violations.is_empty(), "endpoint misused: {violations:?}");
    }

    /// This endpoint as the manager takes it.
    pub fn endpoint(self: &Arc<Self>) -> Arc<dyn TokenEndpoint> {
        self.clone()
    }
}

impl TokenEndpoint for ScriptedEndpoint {
    fn request_token<'a>(
        &'a self,
        settings: &'a ConnectionSettings,
    ) -> BoxFuture<'a, Result<TokenResponse, AuthError>> {
        use secrecy::ExposeSecret;
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let step = {
            let mut state = self.state();
            state.started.push(tokio_now());
            state
                .secrets
                .push(settings.client_secret().expose_secret().to_owned());
            let step = state.script.pop_front().or_else(|| state.then.clone());
            let problem = if call > self.max_calls {
                Some(format!(
                    "token endpoint called {call} times; at most {} expected",
                    self.max_calls
                ))
            } else if step.is_none() {
                Some(format!(
                    "token endpoint call {call} is past the end of its script"
                ))
            } else {
                None
            };
            if let Some(problem) = problem {
                state.violations.push(problem.clone());
                drop(state);
                panic!("{problem}");
            }
            step.expect("checked above")
        };
        Box::pin(async move {
            if !step.delay.is_zero() {
                tokio::time::sleep(step.delay).await;
            }
            let mut state = self.state();
            state.answered.push(tokio_now());
            match step.outcome {
                Outcome::Issue { expires_in } => {
                    state.issued += 1;
                    Ok(response(
                        &format!("{}-{}", self.prefix, state.issued),
                        expires_in,
                    ))
                }
                Outcome::Respond(response) => Ok(response),
                Outcome::Fail(error) => Err(error),
            }
        })
    }
}

/// A manager over `endpoint` with `clock`, `policy` and no stores.
pub fn manager(
    endpoint: &Arc<ScriptedEndpoint>,
    clock: Arc<dyn Clock>,
    policy: RefreshPolicy,
) -> TokenManager {
    TokenManager::builder()
        .endpoint(endpoint.endpoint())
        .clock(clock)
        .policy(policy)
        .build()
        .expect("manager")
}

/// A [`TokioClock`] standing at [`ORIGIN_MS`] now.
pub fn tokio_clock() -> Arc<dyn Clock> {
    Arc::new(TokioClock::new(ORIGIN_MS))
}

/// What one caller of a stampede got, and the tokio instant it got it at.
pub struct CallerOutcome {
    /// The answer of `token()`.
    pub result: Result<Arc<AccessToken>, AuthError>,
    /// When `token()` returned.
    pub at: Instant,
}

/// `callers` tasks, spawned at once, each calling `handle.token()`; their answers in spawn order.
pub async fn stampede(handle: &TokenHandle, callers: usize) -> Vec<CallerOutcome> {
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let handle = handle.clone();
            tokio::spawn(async move {
                let result = handle.token().await;
                CallerOutcome {
                    result,
                    at: tokio_now(),
                }
            })
        })
        .collect();
    let mut outcomes = Vec::with_capacity(callers);
    for task in tasks {
        outcomes.push(task.await.expect("caller task panicked"));
    }
    outcomes
}

/// The token text every caller got; fails the test if one got an error or a different token.
pub fn the_one_token(outcomes: &[CallerOutcome]) -> String {
    let mut texts = outcomes.iter().map(|o| match &o.result {
        Ok(token) => token.expose().to_owned(),
        Err(error) => panic!("a caller got an error: {error}"),
    });
    let first = texts.next().expect("at least one caller");
    for (i, text) in texts.enumerate() {
        assert_eq!(text, first, "caller {} got another token", i + 1);
    }
    first
}

// ---------------------------------------------------------------------------------------------
// A store that records its lock protocol (issue 8 regression tests)
// ---------------------------------------------------------------------------------------------

/// A [`sfmc_auth::MemoryStore`] with locks, recording every lock taken, renewed and released;
/// optionally with a lease ([`sfmc_auth::TokenStore::lock_lease`]) and a `remove_if` that fails.
#[derive(Debug)]
pub struct RecordingStore {
    inner: sfmc_auth::MemoryStore,
    lease: Option<Duration>,
    fail_remove: bool,
    acquired: AtomicUsize,
    unlocked: AtomicUsize,
    renewed: AtomicUsize,
    removals: AtomicUsize,
}

impl RecordingStore {
    /// A store with locks that never expire by themselves and no lease.
    pub fn locking() -> Self {
        Self {
            inner: sfmc_auth::MemoryStore::with_locking(),
            lease: None,
            fail_remove: false,
            acquired: AtomicUsize::new(0),
            unlocked: AtomicUsize::new(0),
            renewed: AtomicUsize::new(0),
            removals: AtomicUsize::new(0),
        }
    }

    /// A store without locks ([`sfmc_auth::store::LockAttempt::Unsupported`]).
    pub fn lockless() -> Self {
        Self {
            inner: sfmc_auth::MemoryStore::new(),
            ..Self::locking()
        }
    }

    /// Announces `lease` as the lease of its locks.
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = Some(lease);
        self
    }

    /// Makes every `remove_if` fail (a store that is down when a token is invalidated).
    pub fn failing_remove(mut self) -> Self {
        self.fail_remove = true;
        self
    }

    /// Locks acquired through [`sfmc_auth::TokenStore::try_lock`].
    pub fn locks_acquired(&self) -> usize {
        self.acquired.load(Ordering::SeqCst)
    }

    /// Calls of [`sfmc_auth::TokenStore::unlock`].
    pub fn unlocks(&self) -> usize {
        self.unlocked.load(Ordering::SeqCst)
    }

    /// Calls of [`sfmc_auth::TokenStore::renew_lock`].
    pub fn renewals(&self) -> usize {
        self.renewed.load(Ordering::SeqCst)
    }

    /// Calls of [`sfmc_auth::TokenStore::remove_if`].
    pub fn removals(&self) -> usize {
        self.removals.load(Ordering::SeqCst)
    }

    /// Whether nobody holds the lock of `key` (checked by taking and releasing it, unrecorded).
    pub async fn lock_is_free(&self, key: &sfmc_auth::TokenKey) -> bool {
        use sfmc_auth::TokenStore;
        match self.inner.try_lock(key).await.expect("memory lock") {
            sfmc_auth::store::LockAttempt::Acquired(token) => {
                self.inner.unlock(key, token).await.expect("memory unlock");
                true
            }
            _ => false,
        }
    }

    /// Takes the lock of `key` for a holder that will never release it (a dead process).
    pub async fn lock_forever(&self, key: &sfmc_auth::TokenKey) {
        use sfmc_auth::TokenStore;
        let attempt = self.inner.try_lock(key).await.expect("memory lock");
        assert!(
            matches!(attempt, sfmc_auth::store::LockAttempt::Acquired(_)),
            "the lock was free"
        );
    }

    /// The store as is, to read what it holds.
    pub fn memory(&self) -> &sfmc_auth::MemoryStore {
        &self.inner
    }
}

impl sfmc_auth::TokenStore for RecordingStore {
    fn name(&self) -> &'static str {
        "recording"
    }

    fn load<'a>(
        &'a self,
        key: &'a sfmc_auth::TokenKey,
        secret: &'a SecretString,
    ) -> BoxFuture<'a, Result<Option<AccessToken>, sfmc_auth::StoreError>> {
        self.inner.load(key, secret)
    }

    fn save<'a>(
        &'a self,
        key: &'a sfmc_auth::TokenKey,
        secret: &'a SecretString,
        token: &'a AccessToken,
    ) -> BoxFuture<'a, Result<(), sfmc_auth::StoreError>> {
        self.inner.save(key, secret, token)
    }

    fn remove_if<'a>(
        &'a self,
        key: &'a sfmc_auth::TokenKey,
        secret: &'a SecretString,
        failed: &'a AccessToken,
    ) -> BoxFuture<'a, Result<(), sfmc_auth::StoreError>> {
        self.removals.fetch_add(1, Ordering::SeqCst);
        if self.fail_remove {
            return Box::pin(async {
                Err(sfmc_auth::StoreError::new("recording", "store is down"))
            });
        }
        self.inner.remove_if(key, secret, failed)
    }

    fn try_lock<'a>(
        &'a self,
        key: &'a sfmc_auth::TokenKey,
    ) -> BoxFuture<'a, Result<sfmc_auth::store::LockAttempt, sfmc_auth::StoreError>> {
        Box::pin(async move {
            let attempt = self.inner.try_lock(key).await;
            if matches!(attempt, Ok(sfmc_auth::store::LockAttempt::Acquired(_))) {
                self.acquired.fetch_add(1, Ordering::SeqCst);
            }
            attempt
        })
    }

    fn lock_lease(&self) -> Option<Duration> {
        self.lease
    }

    fn renew_lock<'a>(
        &'a self,
        key: &'a sfmc_auth::TokenKey,
        lock: &'a sfmc_auth::store::LockToken,
    ) -> BoxFuture<'a, Result<bool, sfmc_auth::StoreError>> {
        self.renewed.fetch_add(1, Ordering::SeqCst);
        self.inner.renew_lock(key, lock)
    }

    fn unlock<'a>(
        &'a self,
        key: &'a sfmc_auth::TokenKey,
        lock: sfmc_auth::store::LockToken,
    ) -> BoxFuture<'a, Result<(), sfmc_auth::StoreError>> {
        self.unlocked.fetch_add(1, Ordering::SeqCst);
        self.inner.unlock(key, lock)
    }
}
