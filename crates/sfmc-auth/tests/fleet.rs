//! Fleet-wide token sharing (issue 4): several [`TokenManager`]s — each standing for one process,
//! with its own memory and its own connection to Redis — against the in-process emulator over
//! HTTP and a real redis-server (no mocks): the shared server named by `SFMC_TEST_REDIS_URL`, or
//! the tests' own `redis-server` children where a test kills and restarts Redis. Without Redis
//! the tests that need it skip with a notice, or fail when `SFMC_REQUIRE_REDIS=1`.
//!
//! Each test uses its own key prefix (or its own server), so they run in parallel. Waiting for
//! real time (a lock's expiry, a refresh) is a bounded loop polling a condition.

#![cfg(feature = "redis")]
#![allow(clippy::unwrap_used)] // tests fail loudly on unexpected errors

#[path = "support/redis_server.rs"]
mod redis_server;

use std::collections::HashSet;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::RngCore;
use redis_server::{any_server, free_port, own_server};
use secrecy::SecretString;
use sfmc_auth::endpoint::BoxFuture;
use sfmc_auth::store::{LockAttempt, LockToken, RedisStore, RedisStoreConfig};
use sfmc_auth::{
    AccessToken, AuthBaseUrl, AuthError, ConnectionSettings, StoreError, TokenKey, TokenManager,
    TokenStore, UserInfo,
};
use sfmc_emulator::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, EmulatorConfig, RunningEmulator};

/// A bound for "does not hang": far above anything these tests wait for.
const NO_HANG: Duration = Duration::from_secs(60);
/// How often a bounded wait looks at its condition.
const POLL: Duration = Duration::from_millis(25);

// ---- helpers ----

async fn emulator(config: EmulatorConfig) -> RunningEmulator {
    sfmc_emulator::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("start the emulator")
}

/// The demo package with tokens living `ttl_secs`.
fn demo_with_ttl(ttl_secs: u64) -> EmulatorConfig {
    EmulatorConfig {
        token_ttl_secs: ttl_secs,
        ..EmulatorConfig::demo()
    }
}

/// The demo package's settings on `emulator`, with `secret`.
fn settings(emulator: &RunningEmulator, secret: &str) -> ConnectionSettings {
    ConnectionSettings::new(
        AuthBaseUrl::parse(&emulator.url()).expect("emulator url"),
        DEMO_CLIENT_ID,
        SecretString::from(secret.to_owned()),
    )
    .expect("settings")
}

fn demo_secret() -> SecretString {
    SecretString::from(DEMO_CLIENT_SECRET)
}

fn random_hex() -> String {
    let mut bytes = [0u8; 8];
    rand::rng().fill_bytes(&mut bytes);
    hex_string(&bytes)
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A key prefix of its own for each test, so tests can share one server in parallel.
fn prefix(test: &str) -> String {
    format!("sfmc-fleet-test:{test}:{}:", random_hex())
}

/// A new store (its own connection) for `config`: one per simulated process.
fn redis(config: &RedisStoreConfig) -> Arc<RedisStore> {
    Arc::new(RedisStore::new(config.clone()).expect("redis store"))
}

/// A "process": a manager with its own memory, the default HTTP endpoint and `store` as its
/// only tier.
fn process(store: Arc<dyn TokenStore>) -> TokenManager {
    TokenManager::builder()
        .store(store)
        .build()
        .expect("manager")
}

/// A plain connection, to look at Redis as an outsider would.
async fn raw_cmd<T: redis::FromRedisValue>(url: &str, cmd: &redis::Cmd) -> T {
    let mut conn = redis::Client::open(url)
        .expect("redis client")
        .get_multiplexed_async_connection()
        .await
        .expect("plain redis connection");
    cmd.query_async(&mut conn)
        .await
        .expect("plain redis command")
}

/// Every key under `prefix`, sorted.
async fn keys_under(url: &str, prefix: &str) -> Vec<String> {
    let mut keys: Vec<String> = raw_cmd(url, redis::cmd("KEYS").arg(format!("{prefix}*"))).await;
    keys.sort();
    keys
}

async fn exists(url: &str, key: &str) -> bool {
    raw_cmd::<i64>(url, redis::cmd("EXISTS").arg(key)).await == 1
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Whether any 16-byte run of `text` appears in `value` (so no part of a token is in clear).
fn shows_part_of(value: &[u8], text: &str) -> bool {
    text.as_bytes()
        .windows(16.min(text.len()))
        .any(|part| contains(value, part))
}

/// Runs `op` and fails the test if it takes longer than [`NO_HANG`].
async fn bounded<T>(what: &str, op: impl Future<Output = T>) -> T {
    tokio::time::timeout(NO_HANG, op)
        .await
        .unwrap_or_else(|_| panic!("{what} hung for {NO_HANG:?}"))
}

/// Polls `condition` every [`POLL`] until it holds; fails the test after [`NO_HANG`].
async fn wait_until<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let rounds = NO_HANG.as_millis() / POLL.as_millis();
    for _ in 0..rounds {
        if condition().await {
            return;
        }
        tokio::time::sleep(POLL).await;
    }
    panic!("{what}: not within {NO_HANG:?}");
}

/// A real store seen through a counter: passes every call through and counts what the manager
/// asked of it (no behaviour of its own).
#[derive(Debug)]
struct Observed {
    inner: Arc<RedisStore>,
    loads: AtomicU64,
    refused_locks: AtomicU64,
}

impl Observed {
    fn new(inner: Arc<RedisStore>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            loads: AtomicU64::new(0),
            refused_locks: AtomicU64::new(0),
        })
    }
}

impl TokenStore for Observed {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn load<'a>(
        &'a self,
        key: &'a TokenKey,
        secret: &'a SecretString,
    ) -> BoxFuture<'a, Result<Option<AccessToken>, StoreError>> {
        self.loads.fetch_add(1, Ordering::SeqCst);
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
        self.inner.remove_if(key, secret, failed)
    }

    fn try_lock<'a>(&'a self, key: &'a TokenKey) -> BoxFuture<'a, Result<LockAttempt, StoreError>> {
        Box::pin(async move {
            let attempt = self.inner.try_lock(key).await;
            if matches!(attempt, Ok(LockAttempt::Held)) {
                self.refused_locks.fetch_add(1, Ordering::SeqCst);
            }
            attempt
        })
    }

    fn unlock<'a>(
        &'a self,
        key: &'a TokenKey,
        lock: LockToken,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.inner.unlock(key, lock)
    }
}

// ---- one token request for the whole fleet ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_of_a_thousand_callers_make_one_token_request() {
    let Some(server) = any_server("four_processes_of_a_thousand_callers") else {
        return;
    };
    let emulator = emulator(EmulatorConfig::demo()).await;
    let config = RedisStoreConfig::new(&server.url).with_key_prefix(prefix("stampede"));
    let processes: Vec<TokenManager> = (0..4).map(|_| process(redis(&config))).collect();

    let (start, started) = tokio::sync::watch::channel(false);
    let mut callers = Vec::new();
    for (p, manager) in processes.iter().enumerate() {
        let handle = manager.handle(settings(&emulator, DEMO_CLIENT_SECRET));
        for _ in 0..1000 {
            let handle = handle.clone();
            let mut started = started.clone();
            callers.push(tokio::spawn(async move {
                started.wait_for(|go| *go).await.expect("start signal");
                (p, handle.token().await)
            }));
        }
    }
    start.send(true).unwrap();

    let mut tokens = HashSet::new();
    let mut per_process = [0usize; 4];
    for caller in callers {
        let (p, outcome) = bounded("a caller", caller).await.expect("caller task");
        let token = outcome.unwrap_or_else(|e| panic!("a caller of process {p} failed: {e}"));
        tokens.insert(token.expose().to_owned());
        per_process[p] += 1;
    }
    assert_eq!(per_process, [1000; 4]);
    assert_eq!(tokens.len(), 1, "all 4,000 callers get the same token");
    assert_eq!(
        emulator.stats().token_requests,
        1,
        "one token request for the whole fleet"
    );
    let sent: Vec<u64> = processes.iter().map(TokenManager::token_requests).collect();
    assert_eq!(
        sent.iter().sum::<u64>(),
        1,
        "requests per process: {sent:?}"
    );

    // The one token is the one shared in Redis, and the lock is released.
    let store = redis(&config);
    let key = settings(&emulator, DEMO_CLIENT_SECRET).key();
    let shared = store.load(&key, &demo_secret()).await.unwrap().unwrap();
    assert!(tokens.contains(shared.expose()));
    assert!(!exists(&server.url, &store.lock_key(&key)).await);
}

// ---- Redis failing never fails a caller ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_before_start_every_call_gets_a_token_from_the_endpoint() {
    // Nothing listens on this port: no Redis needed.
    let config = RedisStoreConfig::new(format!("redis://127.0.0.1:{}", free_port()))
        .with_key_prefix(prefix("down"));
    let emulator = emulator(EmulatorConfig::demo()).await;
    let processes: Vec<TokenManager> = (0..3).map(|_| process(redis(&config))).collect();

    let (start, started) = tokio::sync::watch::channel(false);
    let mut callers = Vec::new();
    for (p, manager) in processes.iter().enumerate() {
        let handle = manager.handle(settings(&emulator, DEMO_CLIENT_SECRET));
        for _ in 0..200 {
            let handle = handle.clone();
            let mut started = started.clone();
            callers.push(tokio::spawn(async move {
                started.wait_for(|go| *go).await.expect("start signal");
                (p, handle.token().await)
            }));
        }
    }
    start.send(true).unwrap();

    let mut tokens_of = vec![HashSet::new(); processes.len()];
    for caller in callers {
        let (p, outcome) = bounded("a caller", caller).await.expect("caller task");
        let token = outcome.unwrap_or_else(|e| panic!("a caller of process {p} failed: {e}"));
        tokens_of[p].insert(token.expose().to_owned());
    }
    // Each process went straight to the endpoint once (no sharing without Redis, but still one
    // request per process for its 200 callers).
    for (p, tokens) in tokens_of.iter().enumerate() {
        assert_eq!(tokens.len(), 1, "process {p}: {} tokens", tokens.len());
        assert_eq!(processes[p].token_requests(), 1, "process {p}");
    }
    assert_eq!(emulator.stats().token_requests, 3);

    // Later calls are served from memory.
    for manager in &processes {
        let handle = manager.handle(settings(&emulator, DEMO_CLIENT_SECRET));
        bounded("a later call", handle.token()).await.unwrap();
    }
    assert_eq!(emulator.stats().token_requests, 3);
}

/// Callers on `handle` until `stop`: every call's outcome is counted.
fn spawn_callers(
    handle: &sfmc_auth::TokenHandle,
    n: usize,
    stop: &Arc<AtomicBool>,
    calls: &Arc<AtomicU64>,
    failures: &Arc<Mutex<Vec<String>>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..n)
        .map(|_| {
            let (handle, stop) = (handle.clone(), stop.clone());
            let (calls, failures) = (calls.clone(), failures.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    match handle.token().await {
                        Ok(_) => {
                            calls.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(e) => failures.lock().unwrap().push(e.to_string()),
                    }
                    // Pacing, so the callers leave the two cores to Redis and the emulator.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_mid_run_fails_no_call_and_sharing_resumes_after_restart() {
    let Some(mut server) = own_server("redis_killed_mid_run") else {
        return;
    };
    let url = server.url();
    // Tokens living 6 s: past soft expiry (3 s minus up to 0.6 s of jitter) each process
    // refreshes, so refreshes keep happening before, during and after the outage.
    let emulator = emulator(demo_with_ttl(6)).await;
    let config = RedisStoreConfig::new(&url)
        .with_key_prefix(prefix("killed"))
        .with_op_timeout(Duration::from_millis(500))
        .with_reconnect_after(Duration::from_millis(100));
    let probe = redis(&config);
    let key = settings(&emulator, DEMO_CLIENT_SECRET).key();
    let token_key = probe.token_key(&key);

    let (a, b) = (process(redis(&config)), process(redis(&config)));
    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let mut callers = Vec::new();
    for manager in [&a, &b] {
        let handle = manager.handle(settings(&emulator, DEMO_CLIENT_SECRET));
        callers.extend(spawn_callers(&handle, 4, &stop, &calls, &failures));
    }

    // Before the outage: the two processes share one token through Redis.
    wait_until("the first token in Redis", || exists(&url, &token_key)).await;
    wait_until("both processes served", || async {
        calls.load(Ordering::SeqCst) >= 16
    })
    .await;
    assert_eq!(emulator.stats().token_requests, 1, "shared before the kill");

    server.kill();
    let requests_at_kill = emulator.stats().token_requests;
    let calls_at_kill = calls.load(Ordering::SeqCst);

    // A process starting during the outage gets its token straight from the endpoint.
    let newcomer = process(redis(&config));
    bounded(
        "a call during the outage",
        newcomer
            .handle(settings(&emulator, DEMO_CLIENT_SECRET))
            .token(),
    )
    .await
    .expect("a new process works while Redis is down");
    assert_eq!(newcomer.token_requests(), 1);

    // The running processes go on through their own refreshes without Redis.
    wait_until("refreshes during the outage", || async {
        emulator.stats().token_requests >= requests_at_kill + 3
    })
    .await;
    assert!(
        calls.load(Ordering::SeqCst) > calls_at_kill,
        "callers kept calling"
    );
    let failed_so_far = failures.lock().unwrap().clone();
    assert!(
        failed_so_far.is_empty(),
        "failed calls during the outage: {failed_so_far:?}"
    );

    // Restarted on the same port (empty): a refresh after the restart shares its token again.
    server.start();
    wait_until("a token in Redis after the restart", || {
        exists(&url, &token_key)
    })
    .await;
    stop.store(true, Ordering::SeqCst);
    for caller in callers {
        bounded("a caller", caller).await.expect("caller task");
    }
    let failures = failures.lock().unwrap().clone();
    assert!(failures.is_empty(), "failed calls: {failures:?}");

    // A process started now takes the shared token: no request of its own.
    let requests_before = emulator.stats().token_requests;
    let late = process(redis(&config));
    let token = bounded(
        "a call after the restart",
        late.handle(settings(&emulator, DEMO_CLIENT_SECRET)).token(),
    )
    .await
    .unwrap();
    assert_eq!(late.token_requests(), 0, "sharing resumed");
    assert_eq!(emulator.stats().token_requests, requests_before);
    let shared = probe.load(&key, &demo_secret()).await.unwrap().unwrap();
    assert!(shared.same_token(&token));
}

// ---- a lock holder that died ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_of_a_dead_holder_delays_the_refresh_until_it_expires() {
    let Some(server) = any_server("lock_of_a_dead_holder") else {
        return;
    };
    let url = server.url.clone();
    let emulator = emulator(EmulatorConfig::demo()).await;
    let config = RedisStoreConfig::new(&url)
        .with_key_prefix(prefix("dead-holder"))
        .with_lock_ttl(Duration::from_secs(2));
    let key = settings(&emulator, DEMO_CLIENT_SECRET).key();

    // The "dead" holder: takes the lock and never releases it.
    let holder = redis(&config);
    let LockAttempt::Acquired(owner) = holder.try_lock(&key).await.unwrap() else {
        panic!("the lock is free at the start");
    };
    let lock_key = holder.lock_key(&key);

    let observed = Observed::new(redis(&config));
    let manager = process(observed.clone());
    let handle = manager.handle(settings(&emulator, DEMO_CLIENT_SECRET));
    let caller = handle.clone();
    let call = tokio::spawn(async move { caller.token().await });

    // While the dead holder's lock is valid, the manager waits: no token request.
    let mut refused_while_held = false;
    loop {
        // Read the counters first: if the lock is still the dead holder's afterwards, it was
        // so when they were read.
        let requests = emulator.stats().token_requests;
        let refused = observed.refused_locks.load(Ordering::SeqCst);
        let lock: Option<String> = raw_cmd(&url, redis::cmd("GET").arg(&lock_key)).await;
        if lock.as_deref() != Some(owner.0.as_str()) {
            break;
        }
        assert_eq!(requests, 0, "a token request while the lock was held");
        refused_while_held |= refused >= 2;
        tokio::time::sleep(POLL).await;
    }
    assert!(
        refused_while_held,
        "the manager did not ask for the lock (twice) while it was held"
    );

    let token = bounded("the waiting call", call)
        .await
        .expect("caller task")
        .expect("a token once the lock expired");
    assert_eq!(emulator.stats().token_requests, 1);
    assert_eq!(manager.token_requests(), 1);
    let shared = holder.load(&key, &demo_secret()).await.unwrap().unwrap();
    assert!(shared.same_token(&token), "the new token is shared");
    // The answer comes before the lock release; the refresh ends with it.
    handle.settle().await;
    assert!(
        !exists(&url, &lock_key).await,
        "the manager released the lock it took"
    );
}

// ---- what Redis holds ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_holds_neither_token_nor_secret_and_a_wrong_secret_gets_nothing() {
    let Some(server) = any_server("redis_holds_neither_token_nor_secret") else {
        return;
    };
    let url = server.url.clone();
    let emulator = emulator(EmulatorConfig::demo()).await;
    let prefix = prefix("sealed");
    let config = RedisStoreConfig::new(&url).with_key_prefix(&prefix);
    let right = settings(&emulator, DEMO_CLIENT_SECRET);
    let wrong_secret = "demo-client-secret-WRONG-5521";
    let wrong = settings(&emulator, wrong_secret);
    assert_eq!(
        right.key(),
        wrong.key(),
        "the secret is not part of the key"
    );

    let owner = process(redis(&config));
    let owner_handle = owner.handle(right.clone());
    let token = owner_handle.token().await.unwrap();
    // The answer comes before the lock release; the refresh ends with it.
    owner_handle.settle().await;

    let probe = redis(&config);
    let keys = keys_under(&url, &prefix).await;
    assert_eq!(
        keys,
        vec![probe.token_key(&right.key())],
        "one token, no lock"
    );
    for name in &keys {
        assert!(!name.contains(DEMO_CLIENT_ID), "{name}");
        assert!(!name.contains(DEMO_CLIENT_SECRET), "{name}");
    }
    let value: Vec<u8> = raw_cmd(&url, redis::cmd("GET").arg(&keys[0])).await;
    assert!(value.len() > 16);
    assert!(!shows_part_of(&value, token.expose()), "token in clear");
    assert!(
        !contains(&value, DEMO_CLIENT_SECRET.as_bytes()),
        "secret in clear"
    );
    assert!(
        !contains(&value, DEMO_CLIENT_ID.as_bytes()),
        "client id in clear"
    );

    // A process with the wrong secret cannot open the shared token: it asks the endpoint
    // itself and is refused, so no token reaches it.
    let intruder = process(redis(&config));
    let error = intruder.handle(wrong).token().await.unwrap_err();
    match error.root() {
        AuthError::Rejected { error, .. } => assert_eq!(error, "invalid_client"),
        other => panic!("expected invalid_client, got {other:?}"),
    }
    assert!(!error.to_string().contains(token.expose()));
    assert_eq!(intruder.token_requests(), 1);
    assert_eq!(emulator.stats().token_requests, 2);
    let wrong_key = SecretString::from(wrong_secret);
    assert!(
        probe
            .load(&right.key(), &wrong_key)
            .await
            .unwrap()
            .is_none()
    );

    // Redis is as the right process left it.
    let after: Vec<u8> = raw_cmd(&url, redis::cmd("GET").arg(&keys[0])).await;
    assert_eq!(after, value);
    assert_eq!(keys_under(&url, &prefix).await, keys);
}

// ---- revocation across the fleet ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_revocation_one_process_refetches_and_the_other_takes_its_token() {
    let Some(server) = any_server("after_revocation") else {
        return;
    };
    let emulator = emulator(EmulatorConfig::demo()).await;
    let config = RedisStoreConfig::new(&server.url).with_key_prefix(prefix("revoke"));
    let (a, b) = (process(redis(&config)), process(redis(&config)));
    let handle_a = a.handle(settings(&emulator, DEMO_CLIENT_SECRET));
    let handle_b = b.handle(settings(&emulator, DEMO_CLIENT_SECRET));
    let http = reqwest::Client::new();
    let accepted = |token: Arc<AccessToken>| {
        let (http, demo) = (http.clone(), settings(&emulator, DEMO_CLIENT_SECRET));
        async move {
            matches!(
                sfmc_auth::fetch_userinfo(&http, &demo, &token)
                    .await
                    .unwrap(),
                UserInfo::Ok(_)
            )
        }
    };

    let old = handle_a.token().await.unwrap();
    let old_b = handle_b.token().await.unwrap();
    assert!(old.same_token(&old_b), "shared");
    assert_eq!(emulator.stats().token_requests, 1);
    assert!(accepted(old.clone()).await);

    emulator.revoke_all();
    assert!(!accepted(old.clone()).await, "revoked");

    // A gets the 401 first: one new request.
    handle_a.invalidate(&old).await;
    let new = handle_a.token().await.unwrap();
    assert!(!new.same_token(&old));
    assert_eq!(emulator.stats().token_requests, 2);
    assert!(accepted(new.clone()).await);

    // B still holds the old token; its 401 leaves A's new token in Redis, and B takes it.
    assert!(handle_b.token().await.unwrap().same_token(&old));
    handle_b.invalidate(&old).await;
    let taken = handle_b.token().await.unwrap();
    assert!(taken.same_token(&new), "B takes A's new token");
    assert_eq!(emulator.stats().token_requests, 2, "no extra request");
    assert_eq!(b.token_requests(), 0);
}
