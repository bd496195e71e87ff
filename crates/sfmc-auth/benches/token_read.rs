//! Benchmarks of issue 3 (`cargo bench -p sfmc-auth --bench token_read`; results in
//! `docs/benchmarks.md`):
//!
//! - `cached_token_read`: a warm handle's lock-free `cached()` and `token().await` on one thread,
//!   and `cached()` on two threads at once (per-read time as seen by each thread). Target:
//!   ≤ 50 ns median. `clock_only` is the wall-clock read inside `cached()`, for scale.
//! - `cold_stampede`: 10,000 tokio tasks calling `token()` on a fresh manager against the
//!   in-process emulator over HTTP. Target: exactly 1 token request per stampede; the wall time
//!   is reported.

#![allow(missing_docs)] // criterion's macros generate undocumented items
#![allow(clippy::disallowed_methods)] // a benchmark measures wall time on purpose

use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use secrecy::SecretString;
use sfmc_auth::endpoint::BoxFuture;
use sfmc_auth::{
    AuthBaseUrl, AuthError, ConnectionSettings, TokenEndpoint, TokenHandle, TokenManager,
    TokenResponse,
};

/// Answers every request at once with the same token (the read benchmarks only need a warm
/// cache).
#[derive(Debug)]
struct InstantEndpoint;

impl TokenEndpoint for InstantEndpoint {
    fn request_token<'a>(
        &'a self,
        _settings: &'a ConnectionSettings,
    ) -> BoxFuture<'a, Result<TokenResponse, AuthError>> {
        Box::pin(async {
            TokenResponse::parse(
                br#"{"access_token":"bench-token","token_type":"Bearer","expires_in":1079,
                    "scope":"email_read","rest_instance_url":"https://mc.rest.marketingcloudapis.com/"}"#,
            )
        })
    }
}

/// A handle whose token is cached and far from its refresh time (real clock).
fn warm_handle(runtime: &tokio::runtime::Runtime) -> TokenHandle {
    let manager = TokenManager::builder()
        .endpoint(Arc::new(InstantEndpoint))
        .build()
        .expect("manager");
    let settings = ConnectionSettings::new(
        AuthBaseUrl::parse("http://127.0.0.1:9/").expect("url"),
        "client-id",
        SecretString::from("secret"),
    )
    .expect("settings");
    let handle = manager.handle(settings);
    runtime.block_on(handle.token()).expect("warm-up token");
    assert!(handle.cached().is_some(), "the handle is warm");
    handle
}

fn cached_token_read(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let handle = warm_handle(&runtime);
    let mut group = c.benchmark_group("cached_token_read");

    group.bench_function("cached/1_thread", |b| {
        b.iter(|| black_box(handle.cached()));
    });

    // For scale: the clock read that `cached()` makes (the wall clock, as in production).
    let clock = sfmc_auth::SystemClock;
    group.bench_function("clock_only/1_thread", |b| {
        b.iter(|| black_box(sfmc_auth::Clock::now_ms(black_box(&clock))));
    });

    group.bench_function("token_await/1_thread", |b| {
        b.to_async(&runtime)
            .iter(|| async { black_box(handle.token().await) });
    });

    // Two threads reading the same handle at once; each does `iters` reads, and the slower
    // thread's time is reported, so the number is the per-read latency under contention.
    group.bench_function("cached/2_threads", |b| {
        b.iter_custom(|iters| {
            let barrier = Arc::new(Barrier::new(2));
            let threads: Vec<_> = (0..2)
                .map(|_| {
                    let handle = handle.clone();
                    let barrier = barrier.clone();
                    std::thread::spawn(move || {
                        barrier.wait();
                        let start = Instant::now();
                        for _ in 0..iters {
                            black_box(handle.cached());
                        }
                        start.elapsed()
                    })
                })
                .collect();
            threads
                .into_iter()
                .map(|t| t.join().expect("reader thread"))
                .max()
                .unwrap_or_default()
        });
    });

    group.finish();
}

const STAMPEDE_TASKS: usize = 10_000;

fn cold_stampede(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let listen: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    let emulator = runtime
        .block_on(sfmc_emulator::start(
            sfmc_emulator::EmulatorConfig::demo(),
            listen,
        ))
        .expect("emulator");
    let settings = ConnectionSettings::new(
        AuthBaseUrl::parse(&emulator.url()).expect("emulator url"),
        sfmc_emulator::DEMO_CLIENT_ID,
        SecretString::from(sfmc_emulator::DEMO_CLIENT_SECRET),
    )
    .expect("settings");
    let stampedes = AtomicU64::new(0);

    let mut group = c.benchmark_group("cold_stampede");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    group.bench_function("10000_tasks_fresh_manager_emulator", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                // A fresh manager (default HTTP endpoint, cold cache) per stampede, built outside
                // the timing.
                let manager = TokenManager::builder().build().expect("manager");
                let handle = manager.handle(settings.clone());
                stampedes.fetch_add(1, Ordering::Relaxed);
                let start = Instant::now();
                runtime.block_on(async {
                    let tasks: Vec<_> = (0..STAMPEDE_TASKS)
                        .map(|_| {
                            let handle = handle.clone();
                            tokio::spawn(async move { handle.token().await.map(|_| ()) })
                        })
                        .collect();
                    for task in tasks {
                        task.await.expect("caller task").expect("token");
                    }
                });
                total += start.elapsed();
                assert_eq!(manager.token_requests(), 1, "one request per stampede");
            }
            total
        });
    });
    group.finish();

    let stampedes = stampedes.load(Ordering::Relaxed);
    let requests = emulator.stats().token_requests;
    eprintln!(
        "cold_stampede: {stampedes} stampedes of {STAMPEDE_TASKS} tasks, {requests} token \
         requests at the emulator ({:.3} per stampede)",
        requests as f64 / stampedes.max(1) as f64
    );
    assert_eq!(
        requests, stampedes,
        "exactly one token request per stampede of {STAMPEDE_TASKS} tasks"
    );
    runtime.block_on(emulator.shutdown());
}

criterion_group!(benches, cached_token_read, cold_stampede);
criterion_main!(benches);
