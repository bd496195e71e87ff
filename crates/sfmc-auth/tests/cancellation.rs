//! Regression tests for issue 8, one per defect: refreshes that survive dropped callers and
//! never orphan a store lock, invalidated tokens that stay gone, `invalidate` that does not queue
//! behind a refresh, the load timeout as a hard bound (lock leases checked at build, a dead lock
//! holder, a clock that never moves), backoff checked at build, idle slots evicted, shutdown, a
//! single refresh in the soft window, and the typed instance URL.
//!
//! Everything runs on tokio's paused clock against the scripted endpoint of `support`: the
//! instants compared here are exact, whatever the machine's speed. Each call under test is
//! guarded by a paused-time timeout, so a regression fails instead of hanging.

mod support;

#[path = "../examples/dropped_callers.rs"]
#[allow(dead_code)] // the example's `main` and HTTP server are not used here
mod dropped_callers;

use std::sync::Arc;
use std::time::Duration;

use sfmc_auth::{
    AccessToken, AuthError, Clock, ManualClock, MemoryStore, RefreshPolicy, TokenManager,
    TokenResponse, TokenStore,
};
use support::{
    ORIGIN_MS, RecordingStore, ScriptedEndpoint, manager, service_unavailable, settings,
    settings_with, tokio_clock, tokio_now,
};

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Past soft expiry of a 1079 s token for every jitter, before hard expiry (1049 s).
const IN_SOFT_WINDOW: Duration = Duration::from_secs(900);
/// Past hard expiry (1049 s) of a 1079 s token, before it expires.
const PAST_HARD: Duration = Duration::from_secs(1060);
/// The default load timeout.
const LOAD_TIMEOUT: Duration = Duration::from_secs(30);

/// `work`, failing the test if it takes longer than `limit` of (paused) tokio time: a
/// regression that hangs fails here instead of hanging the suite.
async fn within<T>(limit: Duration, what: &str, work: impl Future<Output = T>) -> T {
    tokio::time::timeout(limit, work)
        .await
        .unwrap_or_else(|_| panic!("{what} did not end within {limit:?}"))
}

fn manager_with(
    endpoint: &Arc<ScriptedEndpoint>,
    clock: Arc<dyn Clock>,
    store: Arc<dyn TokenStore>,
    policy: RefreshPolicy,
) -> TokenManager {
    TokenManager::builder()
        .endpoint(endpoint.endpoint())
        .clock(clock)
        .store(store)
        .policy(policy)
        .build()
        .expect("manager")
}

/// Lets spawned tasks run until nothing is ready (no tokio time passes).
async fn let_tasks_run() {
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
}

// ---------------------------------------------------------------------------------------------
// 1. A refresh survives the callers that started it
// ---------------------------------------------------------------------------------------------

/// The example's scenario: 5 callers with 1 s timeouts against a 2 s endpoint, then a patient
/// caller. Old code: the refresh died with each caller, 5 requests and no token, and the patient
/// caller started a sixth request and waited 2 s.
#[tokio::test(start_paused = true)]
async fn five_dropped_callers_then_a_patient_one_make_one_request_answered_at_two_seconds() {
    let endpoint = ScriptedEndpoint::new(1);
    endpoint.issue_after(secs(2));
    let start = tokio_now();

    let report = within(
        secs(10),
        "the scenario",
        dropped_callers::scenario(endpoint.endpoint(), settings()),
    )
    .await
    .expect("the patient caller gets a token");

    assert_eq!(report.timed_out, 5, "the impatient callers were dropped");
    assert_eq!(report.token_requests, 1);
    assert_eq!(endpoint.calls(), 1, "exactly one token request");
    assert_eq!(report.patient_token, "tok-1", "the one request's token");
    assert_eq!(report.patient_waited, secs(1), "about 1 s more, not 2 s");
    assert_eq!(
        tokio_now() - start,
        secs(2),
        "done when the request answered"
    );
    endpoint.assert_no_violations();
}

/// A caller dropped while the refresh it started holds a store's cross-process lock: the lock is
/// released once (by the refresh task, when it has saved the token), and another process waiting
/// for the lock gets that token at once instead of waiting out the lock or fetching again.
#[tokio::test(start_paused = true)]
async fn a_caller_dropped_while_its_refresh_holds_the_store_lock_orphans_nothing() {
    let store = Arc::new(RecordingStore::locking());
    let endpoint = ScriptedEndpoint::new(1);
    endpoint.issue_after(secs(2));
    let clock = tokio_clock();
    let here = manager_with(
        &endpoint,
        clock.clone(),
        store.clone(),
        RefreshPolicy::default(),
    );
    let other_process = manager_with(
        &endpoint,
        clock.clone(),
        store.clone(),
        RefreshPolicy::default(),
    );
    let start = tokio_now();

    let dropped = tokio::time::timeout(secs(1), here.handle(settings()).token()).await;
    assert!(dropped.is_err(), "the caller gave up at 1 s");
    assert_eq!(store.locks_acquired(), 1, "its refresh holds the lock");
    assert!(!store.lock_is_free(&settings().key()).await);

    let token = within(LOAD_TIMEOUT, "the other process", async {
        other_process.handle(settings()).token().await
    })
    .await
    .expect("the other process gets a token");
    let poll = RefreshPolicy::default().lock_poll_interval;
    assert_eq!(
        token.expose(),
        "tok-1",
        "the token the dropped caller's refresh fetched"
    );
    assert!(
        tokio_now() - start <= secs(2) + poll,
        "waited {:?}, not the lock's lifetime",
        tokio_now() - start
    );
    let again = here.handle(settings()).token().await.expect("cached");
    assert_eq!(again.expose(), "tok-1");

    assert_eq!(endpoint.calls(), 1, "one request for both processes");
    assert_eq!(store.unlocks(), 1, "the lock was released exactly once");
    assert!(store.lock_is_free(&settings().key()).await);
    endpoint.assert_no_violations();
}

/// An endpoint that panics while the refresh holds the store lock: the lock is still released
/// and the caller gets an error, not a hang.
#[tokio::test(start_paused = true)]
async fn a_refresh_that_panics_releases_the_store_lock() {
    let store = Arc::new(RecordingStore::locking());
    // Any call panics ("called more than 0 times").
    let endpoint = ScriptedEndpoint::new(0);
    let manager = manager_with(
        &endpoint,
        tokio_clock(),
        store.clone(),
        RefreshPolicy::default(),
    );

    let result = within(LOAD_TIMEOUT, "token()", manager.handle(settings()).token()).await;

    assert!(result.is_err(), "no token from a panicking endpoint");
    assert_eq!(store.locks_acquired(), 1);
    assert_eq!(store.unlocks(), 1, "released on the panic path");
    assert!(store.lock_is_free(&settings().key()).await);
}

// ---------------------------------------------------------------------------------------------
// 2. An invalidated token never comes back
// ---------------------------------------------------------------------------------------------

/// The store cannot forget the rejected token (its `remove_if` fails); the next `token()` must
/// still not reload it from there. Old code: `tok-1` came back from the store.
#[tokio::test(start_paused = true)]
async fn a_token_the_store_failed_to_remove_is_not_handed_back_after_invalidate() {
    let store = Arc::new(RecordingStore::lockless().failing_remove());
    let endpoint = ScriptedEndpoint::new(2);
    endpoint.issue().issue();
    let manager = manager_with(
        &endpoint,
        tokio_clock(),
        store.clone(),
        RefreshPolicy::default(),
    );
    let handle = manager.handle(settings());
    let rejected = handle.token().await.expect("first");
    assert_eq!(rejected.expose(), "tok-1");

    handle.invalidate(&rejected).await;
    assert_eq!(store.removals(), 1, "the store was asked to forget it");
    let next = within(LOAD_TIMEOUT, "token()", handle.token())
        .await
        .expect("a new token");

    assert_eq!(next.expose(), "tok-2", "the rejected token came back");
    assert_eq!(endpoint.calls(), 2);
    let from_another_handle = manager.handle(settings()).token().await.expect("cached");
    assert_eq!(from_another_handle.expose(), "tok-2");
    endpoint.assert_no_violations();
}

/// In the soft window a background refresh hands its waiters the current token at once; once
/// that token is invalidated, a caller joining the same refresh must wait for the new token
/// instead of getting the rejected one.
#[tokio::test(start_paused = true)]
async fn a_caller_joining_a_refresh_in_flight_does_not_get_the_token_just_invalidated() {
    let endpoint = ScriptedEndpoint::new(2);
    endpoint.issue().issue_after(secs(20));
    let manager = manager(&endpoint, tokio_clock(), RefreshPolicy::default());
    let handle = manager.handle(settings());
    let rejected = handle.token().await.expect("first");
    tokio::time::advance(IN_SOFT_WINDOW).await;
    assert_eq!(handle.cached().expect("soft window").expose(), "tok-1");
    let_tasks_run().await;
    assert_eq!(endpoint.calls(), 2, "the background refresh runs");
    let start = tokio_now();

    handle.invalidate(&rejected).await;
    let next = within(LOAD_TIMEOUT, "token()", handle.token())
        .await
        .expect("a token");

    assert_eq!(
        next.expose(),
        "tok-2",
        "the invalidated token was handed out"
    );
    assert_eq!(
        tokio_now() - start,
        secs(20),
        "joined the refresh in flight"
    );
    assert_eq!(endpoint.calls(), 2);
    endpoint.assert_no_violations();
}

// ---------------------------------------------------------------------------------------------
// 3. `invalidate` does not wait behind a refresh
// ---------------------------------------------------------------------------------------------

/// Old code: `invalidate` took the refresh gate and returned when the 20 s refresh ended.
#[tokio::test(start_paused = true)]
async fn invalidate_returns_at_once_while_a_20_second_refresh_runs() {
    let store = Arc::new(RecordingStore::lockless());
    let endpoint = ScriptedEndpoint::new(2);
    endpoint.issue().issue_after(secs(20));
    let manager = manager_with(
        &endpoint,
        tokio_clock(),
        store.clone(),
        RefreshPolicy::default(),
    );
    let handle = manager.handle(settings());
    let first = handle.token().await.expect("first");
    tokio::time::advance(PAST_HARD).await;
    let waiting = {
        let handle = handle.clone();
        tokio::spawn(async move { handle.token().await })
    };
    let_tasks_run().await;
    assert_eq!(endpoint.calls(), 2, "a refresh is in flight");
    let start = tokio_now();

    within(secs(1), "invalidate", handle.invalidate(&first)).await;

    assert_eq!(tokio_now(), start, "invalidate waited for the refresh");
    assert_eq!(store.removals(), 1, "the stores were told");
    let token = waiting.await.expect("caller").expect("token");
    assert_eq!(token.expose(), "tok-2");
    assert_eq!(tokio_now() - start, secs(20));
    assert_eq!(endpoint.calls(), 2);
    endpoint.assert_no_violations();
}

// ---------------------------------------------------------------------------------------------
// 4. The load timeout is a hard bound: lock leases, a dead lock holder
// ---------------------------------------------------------------------------------------------

#[test]
fn a_lock_lease_not_shorter_than_the_load_timeout_is_refused_at_build() {
    let build = |lease: Duration| {
        TokenManager::builder()
            .store(Arc::new(RecordingStore::locking().with_lease(lease)))
            .policy(RefreshPolicy::default().with_load_timeout(LOAD_TIMEOUT))
            .build()
    };
    for lease in [LOAD_TIMEOUT, secs(31), Duration::ZERO] {
        let error = build(lease).expect_err("refused");
        assert!(
            error.to_string().contains("lease"),
            "the error names the lease: {error}"
        );
    }
    assert!(build(secs(29)).is_ok());
    assert!(build(secs(10)).is_ok());
}

/// The Redis store's lock TTL is its lease: one as long as the load timeout is refused, the
/// default (15 s) fits the default load timeout. No server needed: `RedisStore::new` does not
/// connect.
#[cfg(feature = "redis")]
#[test]
fn a_redis_lock_ttl_not_shorter_than_the_load_timeout_is_refused_at_build() {
    use sfmc_auth::store::{RedisStore, RedisStoreConfig};
    let build = |config: RedisStoreConfig| {
        TokenManager::builder()
            .store(Arc::new(RedisStore::new(config).expect("redis store")))
            .build()
    };
    let url = "redis://127.0.0.1:9/";
    assert!(build(RedisStoreConfig::new(url).with_lock_ttl(LOAD_TIMEOUT)).is_err());
    assert!(build(RedisStoreConfig::new(url).with_lock_ttl(secs(60))).is_err());
    assert!(
        build(RedisStoreConfig::new(url)).is_ok(),
        "the defaults fit"
    );
}

/// A lock whose holder died and that never goes away, and an endpoint slower than the load
/// timeout: the call ends at the load timeout. Old code granted another full load timeout to
/// a lock still held at the deadline.
#[tokio::test(start_paused = true)]
async fn a_lock_held_by_a_dead_process_ends_the_call_within_one_load_timeout() {
    let store = Arc::new(RecordingStore::locking().with_lease(secs(10)));
    store.lock_forever(&settings().key()).await;
    let endpoint = ScriptedEndpoint::new(1);
    endpoint.then_always_issue(secs(40));
    let manager = manager_with(
        &endpoint,
        tokio_clock(),
        store.clone(),
        RefreshPolicy::default(),
    );
    let start = tokio_now();

    let result = within(
        LOAD_TIMEOUT * 3,
        "token()",
        manager.handle(settings()).token(),
    )
    .await;

    assert!(result.is_err(), "no token: the endpoint is too slow");
    assert_eq!(
        tokio_now() - start,
        LOAD_TIMEOUT,
        "the load timeout bounds the call"
    );
    assert_eq!(
        endpoint.calls(),
        1,
        "one direct fetch after half the load timeout"
    );
    assert_eq!(
        endpoint.call_instants()[0] - start,
        LOAD_TIMEOUT / 2,
        "gave up on the lock at half the load timeout"
    );
}

/// A refresh holding a lease lock renews it every third of the lease while it works, and
/// releases it at the end.
#[tokio::test(start_paused = true)]
async fn a_lock_lease_is_renewed_while_the_refresh_runs_and_released_after() {
    let store = Arc::new(RecordingStore::locking().with_lease(secs(9)));
    let endpoint = ScriptedEndpoint::new(1);
    endpoint.issue_after(secs(20));
    let manager = manager_with(
        &endpoint,
        tokio_clock(),
        store.clone(),
        RefreshPolicy::default(),
    );

    let token = within(LOAD_TIMEOUT, "token()", manager.handle(settings()).token())
        .await
        .expect("token");

    assert_eq!(token.expose(), "tok-1");
    // Every 3 s during a 20 s request: at 3, 6, …, 18 s.
    assert_eq!(store.renewals(), 6);
    assert_eq!(store.unlocks(), 1);
    assert!(store.lock_is_free(&settings().key()).await);
}

// ---------------------------------------------------------------------------------------------
// 5. Backoff checked at build; attempts bounded
// ---------------------------------------------------------------------------------------------

#[test]
fn zero_initial_backoff_is_refused_at_build() {
    let result = TokenManager::builder()
        .policy(RefreshPolicy::default().with_initial_backoff(Duration::ZERO))
        .build();
    let error = result.expect_err("zero backoff refused");
    assert!(
        matches!(error, AuthError::Configuration { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("backoff"), "{error}");
}

/// An endpoint that fails at once, every time, with the default policy: the attempts in one load
/// timeout stay few. Backoffs are at least 125, 250, 500 ms, 1, 2, 4 s, then 4 s each
/// (equal jitter, up to 8 s), so at most 12 attempts fit in 30 s. Old code with a zero backoff:
/// 30,000.
#[tokio::test(start_paused = true)]
async fn a_failing_endpoint_is_called_a_bounded_number_of_times_in_one_load_timeout() {
    let endpoint = ScriptedEndpoint::new(100);
    endpoint.then_always_fail(Duration::ZERO, service_unavailable());
    let manager = manager(&endpoint, tokio_clock(), RefreshPolicy::default());
    let start = tokio_now();

    let result = within(
        LOAD_TIMEOUT * 2,
        "token()",
        manager.handle(settings()).token(),
    )
    .await;

    let error = result.expect_err("every attempt fails");
    assert!(
        matches!(error, AuthError::RetriesExhausted { .. }),
        "{error:?}"
    );
    assert!(tokio_now() - start <= LOAD_TIMEOUT);
    let calls = endpoint.calls();
    assert!(
        (5..=12).contains(&calls),
        "{calls} calls in one load timeout"
    );
    endpoint.assert_no_violations();
}

// ---------------------------------------------------------------------------------------------
// 7. Deadlines on the monotonic clock
// ---------------------------------------------------------------------------------------------

/// A wall clock that never moves (as `ManualClock` in a test, or a stuck clock) and a lock held
/// forever: the wait for the lock still ends, at half the load timeout of tokio time, and the
/// direct fetch answers. Old code: the lock-polling loop read the wall clock and never ended.
#[tokio::test(start_paused = true)]
async fn a_clock_that_never_moves_does_not_stretch_the_wait_for_a_held_lock() {
    let store = Arc::new(RecordingStore::locking());
    store.lock_forever(&settings().key()).await;
    let endpoint = ScriptedEndpoint::new(1);
    endpoint.issue();
    let frozen: Arc<dyn Clock> = Arc::new(ManualClock::new(ORIGIN_MS));
    let manager = manager_with(&endpoint, frozen, store.clone(), RefreshPolicy::default());
    let start = tokio_now();

    let token = within(
        LOAD_TIMEOUT * 3,
        "token()",
        manager.handle(settings()).token(),
    )
    .await
    .expect("token");

    assert_eq!(token.expose(), "tok-1");
    assert_eq!(tokio_now() - start, LOAD_TIMEOUT / 2);
    endpoint.assert_no_violations();
}

// ---------------------------------------------------------------------------------------------
// 8. Slots go away; shutdown
// ---------------------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn an_idle_slot_nobody_holds_is_evicted_and_a_held_one_stays() {
    let endpoint = ScriptedEndpoint::new(2);
    endpoint.issue().issue();
    let policy = RefreshPolicy::default().with_idle_slot_ttl(Some(secs(60)));
    let manager = manager(&endpoint, tokio_clock(), policy);
    let dropped = manager.handle(settings_with("rotated-away", "old"));
    let held = manager.handle(settings_with("in-use", "secret"));
    dropped.token().await.expect("token");
    held.token().await.expect("token");
    drop(dropped);
    assert_eq!(manager.slot_count(), 2);

    tokio::time::advance(secs(59)).await;
    assert_eq!(manager.evict_idle(), 0, "not idle long enough");
    tokio::time::advance(secs(2)).await;
    assert_eq!(manager.evict_idle(), 1, "the slot nobody holds");
    assert_eq!(manager.slot_count(), 1);
    assert_eq!(held.cached().expect("kept").expose(), "tok-2");

    // Still held past the TTL: stays.
    tokio::time::advance(secs(600)).await;
    assert_eq!(manager.evict_idle(), 0);
    drop(held);
    assert_eq!(manager.evict_idle(), 1, "dropped and idle: goes");
    assert_eq!(manager.slot_count(), 0);
}

/// Without a set TTL a slot stays for two token lifetimes (2 × 1079 s) after its last use.
#[tokio::test(start_paused = true)]
async fn by_default_a_slot_is_evicted_after_two_token_lifetimes() {
    let endpoint = ScriptedEndpoint::new(1);
    endpoint.issue();
    let manager = manager(&endpoint, tokio_clock(), RefreshPolicy::default());
    manager.handle(settings()).token().await.expect("token");

    tokio::time::advance(secs(2 * 1079 - 1)).await;
    assert_eq!(manager.evict_idle(), 0);
    tokio::time::advance(secs(2)).await;
    assert_eq!(manager.evict_idle(), 1);
    assert_eq!(manager.slot_count(), 0);
}

#[tokio::test(start_paused = true)]
async fn shutdown_ends_a_refresh_in_flight_and_releases_its_store_lock() {
    let store = Arc::new(RecordingStore::locking());
    let endpoint = ScriptedEndpoint::new(1);
    endpoint.issue_after(secs(20));
    let manager = manager_with(
        &endpoint,
        tokio_clock(),
        store.clone(),
        RefreshPolicy::default(),
    );
    let handle = manager.handle(settings());
    let waiting = {
        let handle = handle.clone();
        tokio::spawn(async move { handle.token().await })
    };
    let_tasks_run().await;
    assert_eq!(store.locks_acquired(), 1, "the refresh holds the lock");
    let start = tokio_now();

    within(secs(5), "shutdown", manager.shutdown(secs(5))).await;

    assert_eq!(tokio_now(), start, "shutdown did not wait for the request");
    let result = within(secs(1), "the waiting caller", waiting)
        .await
        .expect("caller");
    assert!(result.is_err(), "the waiting caller gets an error");
    assert_eq!(store.unlocks(), 1, "the lock was released");
    assert!(store.lock_is_free(&settings().key()).await);
    let later = within(secs(1), "a later call", handle.token()).await;
    assert!(later.is_err(), "no refresh starts after shutdown");
}

// ---------------------------------------------------------------------------------------------
// 9. One refresh for many reads in the soft window
// ---------------------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn many_reads_in_the_soft_window_start_one_refresh() {
    let endpoint = ScriptedEndpoint::new(2);
    endpoint.issue().issue_after(secs(10));
    let manager = manager(&endpoint, tokio_clock(), RefreshPolicy::default());
    let handle = manager.handle(settings());
    handle.token().await.expect("first");
    tokio::time::advance(IN_SOFT_WINDOW).await;

    for round in 0..9 {
        for _ in 0..1_000 {
            assert_eq!(handle.cached().expect("served").expose(), "tok-1");
        }
        let_tasks_run().await;
        assert_eq!(endpoint.calls(), 2, "round {round}: one refresh");
        tokio::time::advance(secs(1)).await;
    }
    tokio::time::sleep(secs(2)).await;
    assert_eq!(handle.cached().expect("served").expose(), "tok-2");
    assert_eq!(endpoint.calls(), 2);
    endpoint.assert_no_violations();
}

// ---------------------------------------------------------------------------------------------
// 10. A typed instance URL ending in `/`
// ---------------------------------------------------------------------------------------------

fn token_with_rest_url(rest_instance_url: &str) -> AccessToken {
    let body = serde_json::json!({
        "access_token": "t",
        "expires_in": 1079,
        "rest_instance_url": rest_instance_url,
    });
    AccessToken::new(
        TokenResponse::parse(body.to_string().as_bytes()).expect("response"),
        ORIGIN_MS,
    )
}

#[tokio::test]
async fn rest_instance_url_ends_in_a_slash_and_joins_paths_also_after_a_store() {
    for (given, joined) in [
        (
            "https://mc.rest.marketingcloudapis.com",
            "https://mc.rest.marketingcloudapis.com/asset/v1/content/assets",
        ),
        (
            "https://mc.rest.marketingcloudapis.com/",
            "https://mc.rest.marketingcloudapis.com/asset/v1/content/assets",
        ),
        (
            "https://h.example/tenant",
            "https://h.example/tenant/asset/v1/content/assets",
        ),
    ] {
        let token = token_with_rest_url(given);
        assert!(token.rest_instance_url().as_str().ends_with('/'), "{given}");
        let url = token
            .rest_instance_url()
            .join("asset/v1/content/assets")
            .expect("join");
        assert_eq!(url.as_str(), joined);

        // Sealed into a store and read back: still a URL ending in `/`.
        let store = MemoryStore::new();
        let (key, secret) = (settings().key(), settings().client_secret().clone());
        store.save(&key, &secret, &token).await.expect("save");
        let back = store.load(&key, &secret).await.expect("load").expect("hit");
        assert_eq!(back.rest_instance_url(), token.rest_instance_url());
    }
}

/// A paused-time runtime of its own.
fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime")
}

/// A refresh whose runtime goes away mid-flight (a manager kept in a `static`, one runtime per
/// test or per call): the slot is not left "refreshing" for ever, its store lock is released,
/// and the next call, on another runtime, makes a new request.
#[test]
fn a_refresh_torn_down_with_its_runtime_leaves_the_slot_usable() {
    let endpoint = ScriptedEndpoint::new(2);
    endpoint.issue_after(secs(20)).issue();
    let store = Arc::new(RecordingStore::locking());
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(ORIGIN_MS));
    let manager = manager_with(&endpoint, clock, store.clone(), RefreshPolicy::default());
    let handle = manager.handle(settings());

    let first = paused_runtime();
    first.block_on(async {
        let gave_up = tokio::time::timeout(secs(1), handle.token()).await;
        assert!(gave_up.is_err(), "the 20 s refresh is still running");
    });
    drop(first);
    assert_eq!(
        store.unlocks(),
        1,
        "the torn-down refresh released its lock"
    );

    let second = paused_runtime();
    let token = second.block_on(async {
        within(LOAD_TIMEOUT, "the call on the next runtime", handle.token()).await
    });
    // The first request never answered, so the token of the second is the first issued.
    assert_eq!(token.expect("a new refresh").expose(), "tok-1");
    assert_eq!(
        endpoint.calls(),
        2,
        "a new request, not a wait on the dead refresh"
    );
    second.block_on(async {
        handle.settle().await;
        assert!(store.lock_is_free(&settings().key()).await);
    });
    endpoint.assert_no_violations();
}

/// Shutdown while the refresh releases its lock: the release is not lost.
#[tokio::test(start_paused = true)]
async fn a_settled_refresh_leaves_no_lock_even_after_shutdown() {
    let endpoint = ScriptedEndpoint::new(1);
    endpoint.issue_after(secs(1));
    let store = Arc::new(RecordingStore::locking());
    let manager = manager_with(
        &endpoint,
        tokio_clock(),
        store.clone(),
        RefreshPolicy::default(),
    );
    let handle = manager.handle(settings());
    let token = within(LOAD_TIMEOUT, "the call", handle.token()).await;
    assert_eq!(token.expect("token").expose(), "tok-1");
    manager.shutdown(secs(5)).await;
    assert!(store.lock_is_free(&settings().key()).await);
    assert_eq!(store.unlocks(), 1);
}
