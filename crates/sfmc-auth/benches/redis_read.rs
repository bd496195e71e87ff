//! Benchmark of issue 4 (`cargo bench -p sfmc-auth --features redis --bench redis_read`;
//! results in `docs/benchmarks.md`): the cached read of a warm [`TokenHandle`] whose manager has
//! the Redis tier enabled, against a real redis-server (`SFMC_TEST_REDIS_URL`, else an own
//! `redis-server` child; without either it says why and measures nothing).
//!
//! - `redis_tier_read/cached/1_thread`: the lock-free `cached()`.
//! - `redis_tier_read/token_await/1_thread`: `token().await` on the same warm handle.
//!
//! The in-process read must never touch Redis: after the measurements the bench asserts that
//! the Redis tier was not called at all (a counting pass-through around the real store), that
//! the emulator still saw exactly one token request, and — when Redis is the bench's own
//! server, where nothing else runs — that Redis itself served no GET beyond the warm-up's.

#![allow(missing_docs)] // criterion's macros generate undocumented items

#[path = "../tests/support/redis_server.rs"]
mod redis_server;

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use rand::RngCore;
use secrecy::SecretString;
use sfmc_auth::endpoint::BoxFuture;
use sfmc_auth::store::{LockAttempt, LockToken, RedisStore, RedisStoreConfig};
use sfmc_auth::{
    AccessToken, AuthBaseUrl, ConnectionSettings, StoreError, TokenKey, TokenManager, TokenStore,
};

/// The real Redis store, counting every call the manager makes to it (no behaviour of its own).
#[derive(Debug)]
struct Counted {
    inner: RedisStore,
    calls: AtomicU64,
}

impl Counted {
    fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }

    fn note(&self) {
        self.calls.fetch_add(1, Ordering::SeqCst);
    }
}

impl TokenStore for Counted {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn load<'a>(
        &'a self,
        key: &'a TokenKey,
        secret: &'a SecretString,
    ) -> BoxFuture<'a, Result<Option<AccessToken>, StoreError>> {
        self.note();
        self.inner.load(key, secret)
    }

    fn save<'a>(
        &'a self,
        key: &'a TokenKey,
        secret: &'a SecretString,
        token: &'a AccessToken,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.note();
        self.inner.save(key, secret, token)
    }

    fn remove_if<'a>(
        &'a self,
        key: &'a TokenKey,
        secret: &'a SecretString,
        failed: &'a AccessToken,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.note();
        self.inner.remove_if(key, secret, failed)
    }

    fn try_lock<'a>(&'a self, key: &'a TokenKey) -> BoxFuture<'a, Result<LockAttempt, StoreError>> {
        self.note();
        self.inner.try_lock(key)
    }

    fn unlock<'a>(
        &'a self,
        key: &'a TokenKey,
        lock: LockToken,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.note();
        self.inner.unlock(key, lock)
    }
}

/// `calls` of `cmdstat_get` in `INFO commandstats` (0 before the first GET).
async fn get_calls(url: &str) -> u64 {
    let mut conn = redis::Client::open(url)
        .expect("redis client")
        .get_multiplexed_async_connection()
        .await
        .expect("plain redis connection");
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut conn)
        .await
        .expect("INFO commandstats");
    info.lines()
        .find_map(|line| line.strip_prefix("cmdstat_get:"))
        .and_then(|stats| {
            stats
                .split(',')
                .find_map(|field| field.strip_prefix("calls="))
        })
        .map_or(0, |calls| calls.parse().expect("a GET call count"))
}

fn redis_tier_read(c: &mut Criterion) {
    let Some(server) = redis_server::any_server("redis_read bench") else {
        eprintln!("redis_read: no Redis to measure against; nothing measured");
        return;
    };
    // The bench's own server serves nothing else, so its GET count is this bench's alone.
    let own_server = std::env::var(redis_server::URL_VAR).map_or(true, |v| v.trim().is_empty());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let emulator = runtime
        .block_on(sfmc_emulator::start(
            sfmc_emulator::EmulatorConfig::demo(),
            "127.0.0.1:0".parse().expect("addr"),
        ))
        .expect("emulator");
    let settings = ConnectionSettings::new(
        AuthBaseUrl::parse(&emulator.url()).expect("emulator url"),
        sfmc_emulator::DEMO_CLIENT_ID,
        SecretString::from(sfmc_emulator::DEMO_CLIENT_SECRET),
    )
    .expect("settings");
    let mut nonce = [0u8; 8];
    rand::rng().fill_bytes(&mut nonce);
    let prefix = format!("sfmc-bench:redis_read:{}:", hex::encode(nonce));
    let store = Arc::new(Counted {
        inner: RedisStore::new(RedisStoreConfig::new(&server.url).with_key_prefix(&prefix))
            .expect("redis store"),
        calls: AtomicU64::new(0),
    });
    let manager = TokenManager::builder()
        .store(store.clone())
        .build()
        .expect("manager");
    let handle = manager.handle(settings.clone());

    // Warm: one request, the token written to Redis.
    runtime.block_on(handle.token()).expect("warm-up token");
    assert!(handle.cached().is_some(), "the handle is warm");
    assert_eq!(emulator.stats().token_requests, 1);
    let shared = runtime
        .block_on(store.inner.load(&settings.key(), settings.client_secret()))
        .expect("Redis answers")
        .expect("the token is in Redis");
    assert!(shared.same_token(&handle.cached().expect("warm")));
    let store_calls = store.calls();
    let gets_before = runtime.block_on(get_calls(&server.url));

    let mut group = c.benchmark_group("redis_tier_read");
    group.bench_function("cached/1_thread", |b| {
        b.iter(|| black_box(handle.cached()));
    });
    group.bench_function("token_await/1_thread", |b| {
        b.to_async(&runtime)
            .iter(|| async { black_box(handle.token().await) });
    });
    group.finish();

    let gets_after = runtime.block_on(get_calls(&server.url));
    eprintln!(
        "redis_read: Redis tier calls during the reads: {}; token requests: {}; Redis GETs \
         during the reads: {} ({} server)",
        store.calls() - store_calls,
        emulator.stats().token_requests,
        gets_after - gets_before,
        if own_server {
            "own"
        } else {
            "shared, other clients included"
        },
    );
    assert_eq!(
        store.calls(),
        store_calls,
        "the in-process read called the Redis tier"
    );
    assert_eq!(emulator.stats().token_requests, 1, "one token request");
    if own_server {
        assert_eq!(
            gets_after, gets_before,
            "Redis served GETs during the reads"
        );
    }
    runtime.block_on(emulator.shutdown());
}

criterion_group!(benches, redis_tier_read);
criterion_main!(benches);
