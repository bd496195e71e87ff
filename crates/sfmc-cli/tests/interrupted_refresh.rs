//! A `sfmc token` stopped during a slow refresh does not stall the fleet (issue 7, item 4):
//! SIGTERM or Ctrl-C (SIGINT) ends the run with exit 130 and releases its Redis refresh lock at
//! once; a SIGKILLed run leaves only a short lease behind (≤ 5 s, not the load timeout), so the
//! next cold run elsewhere gets its token.
//!
//! Each test runs its own emulator whose token endpoint answers after a long delay, and uses the
//! shared Redis of `SFMC_TEST_REDIS_URL` under a key prefix of its own (skipped without it, or
//! failing when `SFMC_REQUIRE_REDIS=1`).

#![cfg(unix)]
#![allow(clippy::unwrap_used)] // tests fail loudly on unexpected errors

mod support;

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use rustix::process::{Pid, Signal, kill_process};
use secrecy::SecretString;
use sfmc_auth::store::{RedisStore, RedisStoreConfig};
use sfmc_auth::{AuthBaseUrl, ConnectionSettings};
use sfmc_emulator::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, Fault, FaultTarget};
use support::{Env, code, stderr, stdout};
use tokio::io::AsyncReadExt;
use tokio::process::Child;

/// The environment variable naming the shared test Redis.
const URL_VAR: &str = "SFMC_TEST_REDIS_URL";
/// Set to `1` to turn a missing Redis into a failure instead of a skip.
const REQUIRE_VAR: &str = "SFMC_REQUIRE_REDIS";

/// How long the token endpoint keeps the interrupted run waiting: far longer than any test.
const TOKEN_DELAY_MS: u64 = 120_000;

/// Exit code of an interrupted run.
const INTERRUPTED: i32 = 130;

/// Polling for a condition in Redis: this many checks, this far apart (a bound, not a timing).
const POLLS: u32 = 400;
const POLL_EVERY: Duration = Duration::from_millis(25);

/// The shared Redis URL, or a skip (a failure when `SFMC_REQUIRE_REDIS=1`).
fn redis_url(test: &str) -> Option<String> {
    if let Ok(url) = std::env::var(URL_VAR)
        && !url.trim().is_empty()
    {
        return Some(url.trim().to_owned());
    }
    if std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1") {
        panic!("{test}: {URL_VAR} is not set, and {REQUIRE_VAR}=1");
    }
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {URL_VAR} is not set");
    None
}

/// One test's view of Redis: a connection, and the token and lock keys of the demo package on
/// the test's emulator under the test's own prefix.
struct Keys {
    redis: MultiplexedConnection,
    url: String,
    prefix: String,
    token: String,
    lock: String,
}

impl Keys {
    async fn new(url: String, env: &Env, test: &str) -> Self {
        let prefix = format!(
            "sfmc-cli-test:interrupted-{test}:{}:{}:",
            std::process::id(),
            env.emulator.addr().port()
        );
        let settings = ConnectionSettings::new(
            AuthBaseUrl::parse(&env.emulator.url()).unwrap(),
            DEMO_CLIENT_ID,
            SecretString::from(DEMO_CLIENT_SECRET),
        )
        .unwrap();
        let store =
            RedisStore::new(RedisStoreConfig::new(url.clone()).with_key_prefix(&prefix)).unwrap();
        let redis = redis::Client::open(url.as_str())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .expect("connect to the test Redis");
        let keys = Self {
            redis,
            url,
            prefix,
            token: store.token_key(&settings.key()),
            lock: store.lock_key(&settings.key()),
        };
        keys.delete().await;
        keys
    }

    async fn exists(&self, key: &str) -> bool {
        let n: i64 = redis::cmd("EXISTS")
            .arg(key)
            .query_async(&mut self.redis.clone())
            .await
            .unwrap();
        n == 1
    }

    /// Milliseconds left on `key` (-1: no expiry, -2: no such key).
    async fn pttl(&self, key: &str) -> i64 {
        redis::cmd("PTTL")
            .arg(key)
            .query_async(&mut self.redis.clone())
            .await
            .unwrap()
    }

    async fn delete(&self) {
        let _: i64 = redis::cmd("DEL")
            .arg(&self.token)
            .arg(&self.lock)
            .query_async(&mut self.redis.clone())
            .await
            .unwrap();
    }

    /// Waits until `child` holds the refresh lock in Redis; panics (with its stderr) if it exits
    /// first or the lock never appears.
    async fn await_lock(&self, child: &mut Child) {
        for _ in 0..POLLS {
            if self.exists(&self.lock).await {
                return;
            }
            if let Some(status) = child.try_wait().unwrap() {
                let mut err = String::new();
                if let Some(mut pipe) = child.stderr.take() {
                    let _ = pipe.read_to_string(&mut err).await;
                }
                panic!("sfmc exited ({status}) before taking the Redis lock: {err}");
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
        panic!("the Redis lock {} never appeared", self.lock);
    }
}

/// A cold `sfmc token` on `env`'s emulator, sharing tokens through the test's Redis keys.
fn spawn_token(env: &Env, keys: &Keys, cache: &str, load_timeout: &str) -> Child {
    env.command(&["token", "--raw", "--load-timeout", load_timeout])
        .env("SFMC_CACHE_DIR", env.cache_dir.join(cache))
        .env("SFMC_TOKEN_CACHE", &keys.url)
        .env("SFMC_TOKEN_CACHE_PREFIX", &keys.prefix)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// An emulator whose next token request answers (successfully) only after [`TOKEN_DELAY_MS`].
async fn slow_token_env(name: &str) -> Env {
    let env = Env::new(name).await;
    env.emulator.add_fault(Fault {
        target: FaultTarget::Token,
        status: None,
        count: 1,
        delay_ms: TOKEN_DELAY_MS,
        ..Fault::default()
    });
    env
}

fn signal(child: &Child, signal: Signal) {
    let pid = child.id().expect("the child is running");
    let pid = Pid::from_raw(i32::try_from(pid).unwrap()).unwrap();
    kill_process(pid, signal).unwrap();
}

/// A run waiting on the slow token endpoint, holding the lock, gets `sig`: it exits 130 and the
/// lock is gone as soon as it has exited.
async fn interrupted_run_releases_the_lock(test: &str, sig: Signal) {
    let Some(url) = redis_url(test) else {
        return;
    };
    let env = slow_token_env(test).await;
    let keys = Keys::new(url, &env, test).await;

    let mut child = spawn_token(&env, &keys, "interrupted", "60");
    keys.await_lock(&mut child).await;
    signal(&child, sig);
    let output = child.wait_with_output().await.unwrap();

    let err = stderr(&output);
    assert_eq!(code(&output), INTERRUPTED, "{err}");
    assert!(stdout(&output).is_empty(), "no token without a refresh");
    assert!(err.contains("interrupted"), "{err}");
    assert!(
        !keys.exists(&keys.lock).await,
        "the lock {} outlived the interrupted run",
        keys.lock
    );
    assert!(!keys.exists(&keys.token).await, "no token was stored");
    assert!(!err.contains(DEMO_CLIENT_SECRET), "secret in stderr");
    keys.delete().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_slow_refresh_exits_130_and_releases_the_lock() {
    interrupted_run_releases_the_lock("sigterm", Signal::TERM).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_during_a_slow_refresh_exits_130_and_releases_the_lock() {
    interrupted_run_releases_the_lock("sigint", Signal::INT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_refresh_leaves_a_short_lease_and_the_next_cold_run_succeeds() {
    let test = "sigkill";
    let Some(url) = redis_url(test) else {
        return;
    };
    let env = slow_token_env(test).await;
    let keys = Keys::new(url, &env, test).await;

    // A load timeout of 60 s: the old lock lived that long; the lease is 5 s.
    let mut child = spawn_token(&env, &keys, "killed", "60");
    keys.await_lock(&mut child).await;
    signal(&child, Signal::KILL);
    let status: ExitStatus = child.wait().await.unwrap();
    assert_eq!(status.code(), None, "killed by a signal: {status}");

    let pttl = keys.pttl(&keys.lock).await;
    assert_ne!(pttl, -1, "the lock has no expiry");
    assert!(
        pttl <= 5000,
        "the killed run's lock lives {pttl} ms more: a lease, not the load timeout"
    );

    // The next cold run, elsewhere, with a healthy token endpoint.
    env.emulator.clear_faults();
    let output = spawn_token(&env, &keys, "next", "10")
        .wait_with_output()
        .await
        .unwrap();
    let err = stderr(&output);
    assert_eq!(code(&output), 0, "{err}");
    let token = stdout(&output).trim_end().to_owned();
    assert_eq!(token.len(), 512, "{token:?}");
    assert!(!err.contains(&token), "token in stderr");
    assert!(
        !keys.exists(&keys.lock).await,
        "the next run released its lock"
    );
    keys.delete().await;
}
