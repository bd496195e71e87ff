//! The token lifecycle of [`TokenManager`] (issue 3): single flight on a cold cache, refresh
//! ahead at soft expiry without making callers wait, waiting at hard expiry, retries with backoff
//! and `Retry-After` inside the load timeout, permanent rejections, invalidation, jitter, and the
//! shared-store paths (a locking store across managers, a dead lock holder, the file store).
//!
//! Time is tokio's paused clock ([`TokioClock`] follows it), the token endpoint is the scripted
//! fake of `support`; nothing here depends on how fast the machine is.

mod support;

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use sfmc_auth::endpoint::BoxFuture;
use sfmc_auth::store::LockAttempt;
use sfmc_auth::{
    AccessToken, AuthError, Clock, FileStore, MemoryStore, RefreshPolicy, StoreError, TokenKey,
    TokenManager, TokenStore, TokioClock,
};
use support::{
    INVALID_CLIENT_DESCRIPTION, ORIGIN_MS, ScriptedEndpoint, connection_refused, invalid_client,
    manager, service_unavailable, settings, settings_with, stampede, the_one_token, throttled,
    tokio_clock, tokio_now,
};

const SECOND: Duration = Duration::from_secs(1);

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Past soft expiry of a 1079 s token for every jitter (soft ∈ [719 s, 779 s]), before hard
/// expiry (1049 s).
const IN_SOFT_WINDOW: Duration = Duration::from_secs(900);
/// Past hard expiry (1049 s) of a 1079 s token, before it expires.
const PAST_HARD: Duration = Duration::from_secs(1060);

fn manager_with_store(
    endpoint: &Arc<ScriptedEndpoint>,
    clock: Arc<dyn Clock>,
    store: Arc<dyn TokenStore>,
) -> TokenManager {
    TokenManager::builder()
        .endpoint(endpoint.endpoint())
        .clock(clock)
        .store(store)
        .build()
        .expect("manager")
}

// ---------------------------------------------------------------------------------------------
// Cold cache: single flight
// ---------------------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn cold_cache_10k_concurrent_callers_make_one_request() {
    let endpoint = ScriptedEndpoint::new(1);
    endpoint.issue_after(Duration::from_millis(200));
    let manager = manager(&endpoint, tokio_clock(), RefreshPolicy::default());
    let handle = manager.handle(settings());

    let outcomes = stampede(&handle, 10_000).await;

    assert_eq!(the_one_token(&outcomes), "tok-1");
    assert_eq!(endpoint.calls(), 1);
    assert_eq!(manager.token_requests(), 1);
    endpoint.assert_no_violations();
}

/// Real threads, real (unpaused) time: nothing here asserts timing, only the request count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cold_cache_10k_callers_on_two_worker_threads_make_one_request() {
    let endpoint = ScriptedEndpoint::new(1);
    endpoint.issue_after(Duration::from_millis(20));
    let manager = TokenManager::builder()
        .endpoint(endpoint.endpoint())
        .build()
        .expect("manager");

    // Half the callers share one handle; the other half each ask the manager for their own handle
    // (same key → same slot).
    let shared = manager.handle(settings());
    let tasks: Vec<_> = (0..10_000)
        .map(|i| {
            let manager = manager.clone();
            let shared = shared.clone();
            tokio::spawn(async move {
                let handle = if i % 2 == 0 {
                    shared
                } else {
                    manager.handle(settings())
                };
                handle.token().await.map(|t| t.expose().to_owned())
            })
        })
        .collect();
    for task in tasks {
        let token = task.await.expect("caller panicked").expect("token");
        assert_eq!(token, "tok-1");
    }

    assert_eq!(endpoint.calls(), 1);
    endpoint.assert_no_violations();
}

// ---------------------------------------------------------------------------------------------
// Soft and hard expiry
// ---------------------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn at_soft_expiry_10k_callers_get_the_current_token_at_once_and_one_refresh_runs() {
    let refresh_takes = secs(10);
    let endpoint = ScriptedEndpoint::new(2);
    endpoint.issue().issue_after(refresh_takes);
    let manager = manager(&endpoint, tokio_clock(), RefreshPolicy::default());
    let handle = manager.handle(settings());
    assert_eq!(handle.token().await.expect("first").expose(), "tok-1");

    tokio::time::advance(IN_SOFT_WINDOW).await;
    let start = tokio_now();
    let outcomes = stampede(&handle, 10_000).await;

    assert_eq!(the_one_token(&outcomes), "tok-1");
    for (i, outcome) in outcomes.iter().enumerate() {
        assert!(
            outcome.at < start + refresh_takes,
            "caller {i} waited {:?} for the refresh",
            outcome.at - start
        );
    }
    assert_eq!(endpoint.calls(), 2, "exactly one refresh request");
    assert_eq!(
        endpoint.call_instants()[1],
        start,
        "the refresh started at once"
    );

    // Let the refresh finish (tokio time), then everyone gets the new token, with no new request.
    tokio::time::sleep(refresh_takes + SECOND).await;
    let after = stampede(&handle, 10_000).await;
    assert_eq!(the_one_token(&after), "tok-2");
    assert_eq!(endpoint.calls(), 2);
    endpoint.assert_no_violations();
}

#[tokio::test(start_paused = true)]
async fn past_hard_expiry_callers_wait_for_one_refresh() {
    let refresh_takes = secs(2);
    let endpoint = ScriptedEndpoint::new(2);
    endpoint.issue().issue_after(refresh_takes);
    let manager = manager(&endpoint, tokio_clock(), RefreshPolicy::default());
    let handle = manager.handle(settings());
    assert_eq!(handle.token().await.expect("first").expose(), "tok-1");

    tokio::time::advance(PAST_HARD).await;
    assert!(
        handle.cached().is_none(),
        "past hard expiry the lock-free read hands nothing out"
    );
    let start = tokio_now();
    let outcomes = stampede(&handle, 10_000).await;

    assert_eq!(the_one_token(&outcomes), "tok-2");
    assert!(
        outcomes.iter().all(|o| o.at >= start + refresh_takes),
        "callers past hard expiry wait for the refresh"
    );
    assert_eq!(endpoint.calls(), 2, "exactly one refresh request");
    endpoint.assert_no_violations();
}

// ---------------------------------------------------------------------------------------------
// Failures: retries, backoff, Retry-After, load timeout, permanent rejections
// ---------------------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn transient_failures_then_success_retry_with_growing_backoff_inside_the_load_timeout() {
    let policy = RefreshPolicy::default()
        .with_initial_backoff(SECOND)
        .with_max_backoff(secs(8))
        .with_load_timeout(secs(30));
    let endpoint = ScriptedEndpoint::new(5);
    endpoint
        .fail(service_unavailable())
        .fail(connection_refused())
        .fail(service_unavailable())
        .fail(connection_refused())
        .issue();
    let clock = tokio_clock();
    let manager = manager(&endpoint, clock.clone(), policy.clone());
    let handle = manager.handle(settings());

    let start = tokio_now();
    let token = handle.token().await.expect("success after 4 failures");
    let done = tokio_now();

    assert_eq!(token.expose(), "tok-1");
    assert_eq!(endpoint.calls(), 5, "4 failures + 1 success");
    assert_eq!(manager.token_requests(), 5);
    assert!(
        done - start <= policy.load_timeout,
        "took {:?}",
        done - start
    );

    // Equal jitter: the n-th wait is between half and all of initial × 2^(n-1).
    let instants = endpoint.call_instants();
    let gaps: Vec<Duration> = instants.windows(2).map(|w| w[1] - w[0]).collect();
    for (n, gap) in gaps.iter().enumerate() {
        let base = SECOND * (1 << n);
        assert!(
            *gap >= base / 2 && *gap <= base,
            "wait {} was {gap:?}, expected {:?}..={base:?} (all: {gaps:?})",
            n + 1,
            base / 2
        );
    }
    assert!(
        gaps.windows(2).all(|w| w[1] >= w[0]) && gaps[3] > gaps[0],
        "backoff grows: {gaps:?}"
    );

    // The expiry counts from when the successful request was sent.
    let sent = u64::try_from((instants[4] - start).as_millis()).expect("ms");
    assert_eq!(token.expires_at_ms(), ORIGIN_MS + sent + 1_079_000);
    endpoint.assert_no_violations();
}

#[tokio::test(start_paused = true)]
async fn refresh_failing_in_the_soft_window_keeps_serving_the_current_token_then_recovers() {
    let endpoint = ScriptedEndpoint::new(1_000);
    endpoint
        .issue()
        .then_always_fail(Duration::ZERO, service_unavailable());
    let manager = manager(&endpoint, tokio_clock(), RefreshPolicy::default());
    let handle = manager.handle(settings());
    assert_eq!(handle.token().await.expect("first").expose(), "tok-1");

    // 800 s → 1000 s (hard expiry at 1049 s): 50 callers every second while every refresh fails.
    tokio::time::advance(secs(800)).await;
    for second in 0..200 {
        let start = tokio_now();
        let outcomes = stampede(&handle, 50).await;
        assert_eq!(the_one_token(&outcomes), "tok-1", "at 800 s + {second} s");
        assert!(
            outcomes.iter().all(|o| o.at == start),
            "nobody waits while the current token is valid"
        );
        tokio::time::sleep(SECOND).await;
    }
    let failed_attempts = endpoint.calls() - 1;
    assert!(failed_attempts > 1, "refreshes were attempted");

    // The endpoint recovers: callers (one a second) keep getting tok-1 until a refresh succeeds,
    // then tok-2 — before the old token's hard expiry (1049 s).
    endpoint.then_always_issue(Duration::ZERO);
    let recovered_at = tokio_now();
    loop {
        let token = handle.token().await.expect("never an error");
        if token.expose() == "tok-2" {
            break;
        }
        assert_eq!(token.expose(), "tok-1");
        assert!(
            tokio_now() - recovered_at < secs(45),
            "no new token 45 s after the endpoint recovered"
        );
        tokio::time::sleep(SECOND).await;
    }
    let after = stampede(&handle, 100).await;
    assert_eq!(the_one_token(&after), "tok-2");
    assert_eq!(
        endpoint.calls(),
        failed_attempts + 2,
        "exactly one successful refresh"
    );
    endpoint.assert_no_violations();
}

#[tokio::test(start_paused = true)]
async fn invalid_client_fails_at_once_with_one_request_and_the_servers_description() {
    let endpoint = ScriptedEndpoint::new(1);
    endpoint.fail(invalid_client());
    let manager = manager(&endpoint, tokio_clock(), RefreshPolicy::default());
    let handle = manager.handle(settings());

    let start = tokio_now();
    let error = handle.token().await.expect_err("rejected");

    assert_eq!(tokio_now(), start, "no retries, no backoff");
    match &error {
        AuthError::Rejected {
            status,
            error,
            description,
        } => {
            assert_eq!(*status, 401);
            assert_eq!(error, "invalid_client");
            assert_eq!(description, INVALID_CLIENT_DESCRIPTION);
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    let message = error.to_string();
    assert!(message.contains(INVALID_CLIENT_DESCRIPTION), "{message}");
    assert!(message.contains("Installed Packages"), "{message}");
    assert_eq!(endpoint.calls(), 1);
    endpoint.assert_no_violations();
}

#[tokio::test(start_paused = true)]
async fn a_rejection_is_remembered_for_the_cooldown_then_asked_again() {
    let endpoint = ScriptedEndpoint::new(2);
    endpoint.fail(invalid_client()).fail(invalid_client());
    let policy = RefreshPolicy::default();
    let manager = manager(&endpoint, tokio_clock(), policy.clone());
    let handle = manager.handle(settings());

    assert!(matches!(
        handle.token().await,
        Err(AuthError::Rejected { .. })
    ));
    tokio::time::advance(policy.rejection_cooldown - Duration::from_secs(1)).await;
    for _ in 0..100 {
        assert!(matches!(
            handle.token().await,
            Err(AuthError::Rejected { .. })
        ));
    }
    assert_eq!(
        endpoint.calls(),
        1,
        "callers within the cooldown share the rejection"
    );

    tokio::time::advance(Duration::from_secs(2)).await;
    assert!(matches!(
        handle.token().await,
        Err(AuthError::Rejected { .. })
    ));
    assert_eq!(
        endpoint.calls(),
        2,
        "after the cooldown Marketing Cloud is asked again"
    );
    endpoint.assert_no_violations();
}

#[tokio::test(start_paused = true)]
async fn invalid_client_with_100_concurrent_callers_is_one_request_shared_by_all() {
    let endpoint = ScriptedEndpoint::new(1);
    endpoint.fail_after(Duration::from_millis(100), invalid_client());
    let manager = manager(&endpoint, tokio_clock(), RefreshPolicy::default());
    let handle = manager.handle(settings());

    let outcomes = stampede(&handle, 100).await;

    for (i, outcome) in outcomes.iter().enumerate() {
        match &outcome.result {
            Err(AuthError::Rejected {
                error, description, ..
            }) => {
                assert_eq!(error, "invalid_client", "caller {i}");
                assert_eq!(description, INVALID_CLIENT_DESCRIPTION, "caller {i}");
            }
            other => panic!("caller {i}: expected Rejected, got {other:?}"),
        }
    }
    assert_eq!(endpoint.calls(), 1);
    endpoint.assert_no_violations();
}

#[tokio::test(start_paused = true)]
async fn throttled_with_retry_after_5s_retries_5s_later() {
    let endpoint = ScriptedEndpoint::new(2);
    endpoint.fail(throttled(Some(secs(5)))).issue();
    let manager = manager(&endpoint, tokio_clock(), RefreshPolicy::default());
    let handle = manager.handle(settings());

    let token = handle.token().await.expect("token after the wait");

    assert_eq!(token.expose(), "tok-1");
    let instants = endpoint.call_instants();
    assert_eq!(instants.len(), 2);
    let gap = instants[1] - instants[0];
    assert!(
        gap >= secs(5) && gap < Duration::from_millis(5_500),
        "retried after {gap:?}"
    );
    endpoint.assert_no_violations();
}

#[tokio::test(start_paused = true)]
async fn transient_failures_past_the_load_timeout_give_retries_exhausted_within_it() {
    let policy = RefreshPolicy::default();
    let endpoint = ScriptedEndpoint::new(100);
    endpoint.then_always_fail(Duration::ZERO, service_unavailable());
    let manager = manager(&endpoint, tokio_clock(), policy.clone());
    let handle = manager.handle(settings());

    let start = tokio_now();
    let error = handle.token().await.expect_err("gives up");
    let took = tokio_now() - start;

    assert!(took <= policy.load_timeout, "gave up after {took:?}");
    match &error {
        AuthError::RetriesExhausted {
            attempts,
            elapsed_ms,
            last,
        } => {
            assert_eq!(*attempts as usize, endpoint.calls());
            assert!(*attempts >= 5, "retried: {attempts} attempts");
            assert!(*elapsed_ms <= 30_000, "{elapsed_ms} ms");
            assert!(
                matches!(**last, AuthError::ServiceFailure { status: 503 }),
                "{last:?}"
            );
        }
        other => panic!("expected RetriesExhausted, got {other:?}"),
    }
    endpoint.assert_no_violations();
}

#[tokio::test(start_paused = true)]
async fn an_endpoint_that_never_answers_is_cut_off_at_the_load_timeout() {
    let policy = RefreshPolicy::default();
    let endpoint = ScriptedEndpoint::new(100);
    endpoint.then_always_fail(secs(3_600), service_unavailable());
    let manager = manager(&endpoint, tokio_clock(), policy.clone());
    let handle = manager.handle(settings());

    let start = tokio_now();
    let error = handle.token().await.expect_err("times out");

    assert_eq!(tokio_now() - start, policy.load_timeout);
    assert!(
        matches!(error.root(), AuthError::Unavailable { .. }),
        "{error:?}"
    );
    assert_eq!(endpoint.calls(), 1);
}

/// A waiter that arrives past hard expiry while a background refresh (started in the soft
/// window) is failing should get that refresh's failure when it ends, not start a second full
/// load-timeout cycle of its own.
#[tokio::test(start_paused = true)]
async fn a_caller_past_hard_expiry_waits_at_most_for_the_running_refresh_to_fail() {
    let policy = RefreshPolicy::default();
    let endpoint = ScriptedEndpoint::new(100);
    endpoint
        .issue()
        .then_always_fail(Duration::ZERO, service_unavailable());
    let manager = manager(&endpoint, tokio_clock(), policy.clone());
    let handle = manager.handle(settings());
    assert_eq!(handle.token().await.expect("first").expose(), "tok-1");

    // At 1040 s (soft window, hard at 1049 s) a caller starts a background refresh that will fail
    // until its deadline, 1070 s.
    tokio::time::advance(secs(1_040)).await;
    let refresh_started = tokio_now();
    assert_eq!(handle.cached().expect("still served").expose(), "tok-1");

    // At 1050 s a caller finds the token past hard expiry and waits. (A sleep, not `advance`:
    // the refresh's backoff timers fire at their own instants on the way.)
    tokio::time::sleep(secs(10)).await;
    let error = handle.token().await.expect_err("no token can be had");
    let returned = tokio_now();

    assert!(
        matches!(error, AuthError::RetriesExhausted { .. }),
        "{error:?}"
    );
    assert!(
        returned <= refresh_started + policy.load_timeout,
        "the caller waited until {:?} after the refresh started; the refresh's deadline was {:?}",
        returned - refresh_started,
        policy.load_timeout
    );
}

/// A permanent rejection while the current token is still valid (soft window) must not be
/// retried on every caller's read: the design says permanent errors are never retried, and
/// Salesforce throttles clients that ask for tokens too often.
#[tokio::test(start_paused = true)]
async fn invalid_client_in_the_soft_window_is_not_requested_again_on_every_read() {
    let endpoint = ScriptedEndpoint::new(1_000);
    endpoint
        .issue()
        .then_always_fail(Duration::from_millis(100), invalid_client());
    let manager = manager(&endpoint, tokio_clock(), RefreshPolicy::default());
    let handle = manager.handle(settings());
    assert_eq!(handle.token().await.expect("first").expose(), "tok-1");

    // 800 s → 1000 s: one caller per second, each served the still-valid token.
    tokio::time::advance(secs(800)).await;
    for _ in 0..200 {
        assert_eq!(handle.token().await.expect("served").expose(), "tok-1");
        tokio::time::sleep(SECOND).await;
    }

    let rejected_requests = endpoint.calls() - 1;
    assert!(
        rejected_requests <= 3,
        "invalid_client was requested {rejected_requests} times in 200 s"
    );
}

// ---------------------------------------------------------------------------------------------
// Invalidation
// ---------------------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn invalidating_the_current_token_fetches_exactly_one_new_token() {
    let endpoint = ScriptedEndpoint::new(2);
    endpoint.issue().issue_after(Duration::from_millis(50));
    let manager = manager(&endpoint, tokio_clock(), RefreshPolicy::default());
    let handle = manager.handle(settings());
    let first = handle.token().await.expect("first");
    assert_eq!(first.expose(), "tok-1");

    // A caller that got a 401 with tok-1 invalidates it, through its own handle.
    manager.handle(settings()).invalidate(&first).await;
    assert!(handle.cached().is_none(), "tok-1 is no longer handed out");

    let outcomes = stampede(&handle, 1_000).await;
    assert_eq!(the_one_token(&outcomes), "tok-2");
    assert_eq!(endpoint.calls(), 2, "exactly one new token");
    endpoint.assert_no_violations();
}

#[tokio::test(start_paused = true)]
async fn invalidating_an_old_token_keeps_the_current_one() {
    let endpoint = ScriptedEndpoint::new(2);
    endpoint.issue().issue();
    let manager = manager(&endpoint, tokio_clock(), RefreshPolicy::default());
    let handle = manager.handle(settings());
    let first = handle.token().await.expect("first");
    handle.invalidate(&first).await;
    let second = handle.token().await.expect("second");
    assert_eq!(second.expose(), "tok-2");

    // A slow caller reports its 401 with tok-1 after tok-2 replaced it: nothing happens.
    handle.invalidate(&first).await;

    assert_eq!(handle.cached().expect("tok-2 is kept").expose(), "tok-2");
    let outcomes = stampede(&handle, 100).await;
    assert_eq!(the_one_token(&outcomes), "tok-2");
    assert_eq!(endpoint.calls(), 2, "no new fetch");
    endpoint.assert_no_violations();
}

/// A store whose `remove_if` takes a while (as a network store does): in-memory store behind it.
#[derive(Debug, Default)]
struct SlowRemoveStore {
    inner: MemoryStore,
}

impl TokenStore for SlowRemoveStore {
    fn name(&self) -> &'static str {
        "slow-remove"
    }

    fn load<'a>(
        &'a self,
        key: &'a TokenKey,
        secret: &'a SecretString,
    ) -> BoxFuture<'a, Result<Option<AccessToken>, StoreError>> {
        self.inner.load(key, secret)
    }

    fn save<'a>(
        &'a self,
        key: &'a TokenKey,
        secret: &'a SecretString,
        token: &'a AccessToken,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.inner.save(key, secret, token)
    }

    fn remove_if<'a>(
        &'a self,
        key: &'a TokenKey,
        secret: &'a SecretString,
        failed: &'a AccessToken,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            self.inner.remove_if(key, secret, failed).await
        })
    }
}

/// While `invalidate` waits for a store to forget the failed token, a concurrent caller must not
/// take that same failed token back from the store.
#[tokio::test(start_paused = true)]
async fn a_caller_during_invalidate_does_not_reload_the_failed_token_from_a_store() {
    let endpoint = ScriptedEndpoint::new(2);
    endpoint.issue().issue();
    let manager = manager_with_store(
        &endpoint,
        tokio_clock(),
        Arc::new(SlowRemoveStore::default()),
    );
    let handle = manager.handle(settings());
    let failed = handle.token().await.expect("first");
    assert_eq!(failed.expose(), "tok-1");

    let invalidating = {
        let handle = handle.clone();
        let failed = failed.clone();
        tokio::spawn(async move { handle.invalidate(&failed).await })
    };
    tokio::task::yield_now().await;
    assert!(handle.cached().is_none(), "invalidate has started");

    let next = handle.token().await.expect("a token");
    invalidating.await.expect("invalidate");

    assert_ne!(
        next.expose(),
        "tok-1",
        "the 401'd token came back from the store"
    );
    assert_eq!(handle.cached().expect("cached").expose(), next.expose());
    assert_eq!(endpoint.calls(), 2);
}

/// The in-memory slot is keyed without the secret; a handle made with a different client
/// secret (a rotated secret, or a wrong one) must not be handed the token fetched with another
/// secret — the sealed stores already treat a different secret as a miss.
#[tokio::test(start_paused = true)]
async fn a_handle_with_another_secret_does_not_share_the_token_of_the_first() {
    let endpoint = ScriptedEndpoint::new(2);
    endpoint.issue().issue();
    let manager = manager(&endpoint, tokio_clock(), RefreshPolicy::default());
    let old = manager.handle(settings_with("client-id", "old-secret"));
    assert_eq!(old.token().await.expect("old").expose(), "tok-1");

    let rotated = manager.handle(settings_with("client-id", "rotated-secret"));
    let token = rotated.token().await.expect("rotated");

    assert_eq!(
        endpoint.secrets_seen().last().map(String::as_str),
        Some("rotated-secret"),
        "the new secret was never sent"
    );
    assert_eq!(token.expose(), "tok-2");
}

// ---------------------------------------------------------------------------------------------
// Jitter
// ---------------------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn jitter_spreads_the_soft_expiry_of_managers_within_the_margin() {
    const MANAGERS: usize = 4;
    let step = Duration::from_millis(100);
    let mut fleet = Vec::new();
    for _ in 0..MANAGERS {
        let endpoint = ScriptedEndpoint::new(2);
        endpoint.issue().issue();
        let manager = manager(&endpoint, tokio_clock(), RefreshPolicy::default());
        let handle = manager.handle(settings());
        assert_eq!(handle.token().await.expect("first").expose(), "tok-1");
        fleet.push((endpoint, handle));
    }
    let start = tokio_now();

    // Walk from 700 s to 790 s in 100 ms steps; note when each manager starts its refresh.
    tokio::time::advance(secs(700)).await;
    let mut soft_at: Vec<Option<Duration>> = vec![None; MANAGERS];
    while tokio_now() - start <= secs(790) {
        for (i, (endpoint, handle)) in fleet.iter().enumerate() {
            if soft_at[i].is_some() {
                continue;
            }
            assert_eq!(handle.cached().expect("served").expose(), "tok-1");
            tokio::task::yield_now().await;
            if endpoint.calls() == 2 {
                soft_at[i] = Some(tokio_now() - start);
            }
        }
        tokio::time::advance(step).await;
    }

    let soft_at: Vec<Duration> = soft_at
        .into_iter()
        .map(|s| s.expect("every manager refreshed by 790 s"))
        .collect();
    for at in &soft_at {
        // expiry 1079 s − margin 300 s − jitter ∈ [0, 60 s], seen on a 100 ms grid.
        assert!(
            *at >= secs(719) && *at <= secs(779) + step,
            "soft expiry at {at:?}: {soft_at:?}"
        );
    }
    assert!(
        soft_at.iter().any(|at| *at != soft_at[0]),
        "all {MANAGERS} managers refresh at the same moment: {soft_at:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Shared stores
// ---------------------------------------------------------------------------------------------

async fn stampede_managers(
    managers: &[TokenManager],
    per_manager: usize,
) -> Vec<support::CallerOutcome> {
    let handles: Vec<_> = managers.iter().map(|m| m.handle(settings())).collect();
    let mut tasks = Vec::new();
    for _ in 0..per_manager {
        for handle in &handles {
            let handle = handle.clone();
            tasks.push(tokio::spawn(async move {
                let result = handle.token().await;
                support::CallerOutcome {
                    result,
                    at: tokio_now(),
                }
            }));
        }
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.expect("caller panicked"));
    }
    outcomes
}

#[tokio::test(start_paused = true)]
async fn four_managers_sharing_a_locking_store_make_one_request_for_4000_callers() {
    let store: Arc<MemoryStore> = Arc::new(MemoryStore::with_locking());
    let endpoint = ScriptedEndpoint::new(1);
    endpoint.issue_after(SECOND);
    let clock = tokio_clock();
    let managers: Vec<_> = (0..4)
        .map(|_| manager_with_store(&endpoint, clock.clone(), store.clone()))
        .collect();

    let outcomes = stampede_managers(&managers, 1_000).await;

    assert_eq!(outcomes.len(), 4_000);
    assert_eq!(the_one_token(&outcomes), "tok-1");
    assert_eq!(endpoint.calls(), 1, "one request across the four managers");
    let total: u64 = managers.iter().map(TokenManager::token_requests).sum();
    assert_eq!(total, 1);
    endpoint.assert_no_violations();
}

/// Without a lock, managers sharing a store cannot coordinate a cold start: each makes one
/// request (single flight inside each manager), and a manager that comes later takes the stored
/// token without any.
#[tokio::test(start_paused = true)]
async fn four_managers_sharing_a_store_without_lock_make_one_request_each_then_share() {
    let store: Arc<MemoryStore> = Arc::new(MemoryStore::new());
    let endpoint = ScriptedEndpoint::new(4);
    for _ in 0..4 {
        endpoint.issue_after(SECOND);
    }
    let clock = tokio_clock();
    let managers: Vec<_> = (0..4)
        .map(|_| manager_with_store(&endpoint, clock.clone(), store.clone()))
        .collect();

    let outcomes = stampede_managers(&managers, 1_000).await;

    assert!(outcomes.iter().all(|o| o.result.is_ok()));
    assert_eq!(endpoint.calls(), 4, "one request per manager");
    for manager in &managers {
        assert_eq!(manager.token_requests(), 1);
    }

    let late = manager_with_store(&endpoint, clock.clone(), store.clone());
    let token = late
        .handle(settings())
        .token()
        .await
        .expect("from the store");
    assert!(token.expose().starts_with("tok-"));
    assert_eq!(
        endpoint.calls(),
        4,
        "the late manager used the stored token"
    );
    endpoint.assert_no_violations();
}

#[tokio::test(start_paused = true)]
async fn a_dead_lock_holder_makes_others_wait_until_the_lock_is_broken_then_one_fetches() {
    let store: Arc<MemoryStore> = Arc::new(MemoryStore::with_locking());
    let key = settings().key();
    let LockAttempt::Acquired(_dead) = store.try_lock(&key).await.expect("lock") else {
        panic!("the lock was free");
    };
    let endpoint = ScriptedEndpoint::new(1);
    endpoint.issue_after(SECOND);
    let clock = tokio_clock();
    let managers: Vec<_> = (0..4)
        .map(|_| manager_with_store(&endpoint, clock.clone(), store.clone()))
        .collect();

    let callers = {
        let managers = managers.clone();
        tokio::spawn(async move { stampede_managers(&managers, 250).await })
    };
    tokio::time::sleep(secs(5)).await;
    assert_eq!(endpoint.calls(), 0, "nobody fetches while the lock is held");
    assert!(!callers.is_finished(), "callers are waiting");

    store.break_lock(&key);
    let broken_at = tokio_now();
    let outcomes = callers.await.expect("callers");

    assert_eq!(the_one_token(&outcomes), "tok-1");
    assert!(outcomes.iter().all(|o| o.at > broken_at));
    assert_eq!(endpoint.calls(), 1, "one fetch once the lock is gone");
    endpoint.assert_no_violations();
}

#[tokio::test(start_paused = true)]
async fn a_lock_never_released_is_given_up_at_half_the_load_timeout_and_the_call_stays_within_it() {
    let store: Arc<MemoryStore> = Arc::new(MemoryStore::with_locking());
    let LockAttempt::Acquired(_dead) = store.try_lock(&settings().key()).await.expect("lock")
    else {
        panic!("the lock was free");
    };
    let endpoint = ScriptedEndpoint::new(4);
    endpoint.then_always_issue(Duration::ZERO);
    let clock = tokio_clock();
    let managers: Vec<_> = (0..4)
        .map(|_| manager_with_store(&endpoint, clock.clone(), store.clone()))
        .collect();

    let start = tokio_now();
    let outcomes = stampede_managers(&managers, 100).await;

    assert!(
        outcomes.iter().all(|o| o.result.is_ok()),
        "everyone got a token"
    );
    let load_timeout = RefreshPolicy::default().load_timeout;
    assert!(
        outcomes
            .iter()
            .all(|o| o.at >= start + load_timeout / 2 && o.at <= start + load_timeout),
        "waited half the load timeout for the lock, then fetched within the rest"
    );
    assert!(
        (1..=4).contains(&endpoint.calls()),
        "at most one direct fetch per manager: {}",
        endpoint.calls()
    );
    endpoint.assert_no_violations();
}

// ---------------------------------------------------------------------------------------------
// File store behind the manager
// ---------------------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn a_second_manager_over_the_same_cache_dir_takes_the_token_from_the_file() {
    let scratch = support::temp::TempDir::path_for("second-manager");
    let dir = scratch.path();
    let clock = tokio_clock();

    let first_endpoint = ScriptedEndpoint::new(1);
    first_endpoint.issue();
    let first = manager_with_store(
        &first_endpoint,
        clock.clone(),
        Arc::new(FileStore::new(dir)),
    );
    let token = first.handle(settings()).token().await.expect("first run");

    // "The next run of the CLI": a new manager, an endpoint that must not be called.
    let second_endpoint = ScriptedEndpoint::new(0);
    let second = manager_with_store(
        &second_endpoint,
        clock.clone(),
        Arc::new(FileStore::new(dir)),
    );
    let again = second.handle(settings()).token().await.expect("second run");

    assert_eq!(again.expose(), token.expose());
    assert_eq!(again.expires_at_ms(), token.expires_at_ms());
    assert_eq!(second_endpoint.calls(), 0);
    second_endpoint.assert_no_violations();
}

/// Sets up a file cache holding `tok-1` (fetched at the clock's start), then moves tokio time into
/// its soft window.
async fn file_cache_in_soft_window(dir: &std::path::Path, clock: &Arc<dyn Clock>) {
    let endpoint = ScriptedEndpoint::new(1);
    endpoint.issue();
    let manager = manager_with_store(&endpoint, clock.clone(), Arc::new(FileStore::new(dir)));
    let token = manager.handle(settings()).token().await.expect("first run");
    assert_eq!(token.expose(), "tok-1");
    tokio::time::advance(IN_SOFT_WINDOW).await;
}

#[tokio::test(start_paused = true)]
async fn a_stored_token_past_soft_expiry_is_served_when_the_endpoint_fails() {
    let scratch = support::temp::TempDir::path_for("soft-file");
    let dir = scratch.path();
    let clock = tokio_clock();
    file_cache_in_soft_window(dir, &clock).await;

    let endpoint = ScriptedEndpoint::new(100);
    endpoint.then_always_fail(Duration::ZERO, service_unavailable());
    let manager = manager_with_store(&endpoint, clock.clone(), Arc::new(FileStore::new(dir)));
    let handle = manager.handle(settings());
    let start = tokio_now();
    let token = handle
        .token()
        .await
        .expect("the stored token is still valid");

    assert_eq!(token.expose(), "tok-1");
    assert!(tokio_now() - start <= RefreshPolicy::default().load_timeout);
    // Whether the caller waited for it or not, a refresh is attempted (and fails) meanwhile.
    tokio::time::sleep(RefreshPolicy::default().load_timeout).await;
    assert!(endpoint.calls() >= 1, "a refresh was attempted");
    assert_eq!(handle.cached().expect("kept in memory").expose(), "tok-1");
}

/// Same, asking that the caller is not kept waiting for the refresh: the stored token is good
/// until hard expiry, and "never makes a caller wait while a good token exists".
#[tokio::test(start_paused = true)]
async fn a_stored_token_past_soft_expiry_is_served_without_waiting_for_the_refresh() {
    let scratch = support::temp::TempDir::path_for("soft-file-nowait");
    let dir = scratch.path();
    let clock = tokio_clock();
    file_cache_in_soft_window(dir, &clock).await;

    let endpoint = ScriptedEndpoint::new(100);
    endpoint.then_always_fail(Duration::from_millis(500), service_unavailable());
    let manager = manager_with_store(&endpoint, clock.clone(), Arc::new(FileStore::new(dir)));
    let handle = manager.handle(settings());
    let start = tokio_now();
    let token = handle
        .token()
        .await
        .expect("the stored token is still valid");
    let waited = tokio_now() - start;
    handle.settle().await;

    assert_eq!(token.expose(), "tok-1");
    assert_eq!(waited, Duration::ZERO, "the caller waited {waited:?}");
}

#[tokio::test(start_paused = true)]
async fn clocks_in_these_tests_follow_paused_tokio_time() {
    // The premise of every test above: TokioClock moves with tokio's paused clock.
    let clock = TokioClock::new(ORIGIN_MS);
    tokio::time::sleep(secs(42)).await;
    assert_eq!(clock.now_ms(), ORIGIN_MS + 42_000);
}
