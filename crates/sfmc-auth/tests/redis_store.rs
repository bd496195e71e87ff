//! `RedisStore` against a real redis-server (no mocks): the shared server named by
//! `SFMC_TEST_REDIS_URL`, or the tests' own `redis-server` children for kill/restart cases.
//! Without Redis the tests skip with a notice, or fail when `SFMC_REQUIRE_REDIS=1`.

#![cfg(feature = "redis")]

#[path = "support/logs.rs"]
mod logs;
#[path = "support/redis_server.rs"]
mod redis_server;
use logs::Captured;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::RngCore;
use redis_server::{any_server, free_port, own_server, own_server_with};
use secrecy::SecretString;
use sfmc_auth::store::{LockAttempt, LockToken, RedisStore, RedisStoreConfig};
use sfmc_auth::token::{AccessToken, TokenResponse};
use sfmc_auth::{AuthBaseUrl, Clock, ConnectionSettings, SystemClock, TokenKey, TokenStore};

const SECRET: &str = "client-secret-Zq81";
/// A bound for "does not hang": far above any op_timeout used here.
const NO_HANG: Duration = Duration::from_secs(10);

fn key(client: &str) -> TokenKey {
    ConnectionSettings::new(
        AuthBaseUrl::parse("http://127.0.0.1:1/").expect("auth base"),
        client,
        SecretString::from(SECRET),
    )
    .expect("settings")
    .key()
}

fn secret() -> SecretString {
    SecretString::from(SECRET)
}

fn now_ms() -> u64 {
    SystemClock.now_ms()
}

fn random_hex() -> String {
    let mut bytes = [0u8; 8];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A token `text` sent at `sent_at_ms`, living `expires_in` seconds.
fn token_at(text: &str, sent_at_ms: u64, expires_in: u64) -> AccessToken {
    let body = format!(
        r#"{{"access_token":"{text}","token_type":"Bearer","expires_in":{expires_in},"scope":"email_read","rest_instance_url":"http://127.0.0.1:1/","soap_instance_url":"http://127.0.0.1:1/"}}"#
    );
    AccessToken::new(
        TokenResponse::parse(body.as_bytes()).expect("token response"),
        sent_at_ms,
    )
}

/// A fresh token `text` (sent now, 1079 s).
fn token(text: &str) -> AccessToken {
    token_at(text, now_ms(), 1079)
}

/// A key prefix of its own for each test, so tests can share one server in parallel.
fn prefix(test: &str) -> String {
    format!("sfmc-test:{test}:{}:", random_hex())
}

fn store(url: &str, test: &str) -> RedisStore {
    RedisStore::new(RedisStoreConfig::new(url).with_key_prefix(prefix(test))).expect("store")
}

/// A plain connection, to look at Redis as an outsider would.
async fn raw(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .expect("redis client")
        .get_multiplexed_async_connection()
        .await
        .expect("plain redis connection")
}

async fn raw_cmd<T: redis::FromRedisValue>(url: &str, cmd: &redis::Cmd) -> T {
    cmd.query_async(&mut raw(url).await)
        .await
        .expect("plain redis command")
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Runs `op` and fails the test if it takes longer than [`NO_HANG`].
async fn bounded<T>(what: &str, op: impl Future<Output = T>) -> T {
    tokio::time::timeout(NO_HANG, op)
        .await
        .unwrap_or_else(|_| panic!("{what} hung for {NO_HANG:?}"))
}

// ---- configuration, no server needed ----

#[test]
fn new_refuses_other_schemes_without_echoing_the_password() {
    for url in [
        "http://user:hunter2@127.0.0.1:6379/",
        "https://:hunter2@cache.example/",
        "unix:///tmp/redis.sock?pass=hunter2",
        "not a url hunter2",
        "redis://:hunter2@",
        "rediss://:hunter2@127.0.0.1:6380/#insecure",
        "",
    ] {
        let err = RedisStore::new(RedisStoreConfig::new(url)).unwrap_err();
        let text = err.to_string();
        assert!(!text.contains("hunter2"), "{url:?} -> {text}");
        assert!(text.contains("redis"), "{url:?} -> {text}");
    }
    let err = RedisStore::new(RedisStoreConfig::new("http://127.0.0.1/")).unwrap_err();
    assert!(err.to_string().contains("redis:// or rediss://"), "{err}");
}

#[test]
fn new_refuses_zero_durations() {
    let config = RedisStoreConfig::new("redis://127.0.0.1:1").with_lock_ttl(Duration::ZERO);
    assert!(RedisStore::new(config).is_err());
    let config = RedisStoreConfig::new("redis://127.0.0.1:1").with_op_timeout(Duration::ZERO);
    assert!(RedisStore::new(config).is_err());
}

#[test]
fn new_accepts_redis_and_rediss_outside_a_runtime_without_connecting() {
    for url in [
        "redis://127.0.0.1:1",
        "redis://user:hunter2@cache.internal:6380/3",
        "rediss://:hunter2@cache.internal",
    ] {
        let store = RedisStore::new(RedisStoreConfig::new(url)).unwrap();
        let shown = format!("{store:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!store.redacted_url().contains("hunter2"));
        assert!(!store.redacted_url().contains("user"));
    }
}

#[test]
fn defaults_and_debug() {
    let config = RedisStoreConfig::new("redis://u:hunter2@10.0.0.9:6379/1");
    assert_eq!(config.key_prefix, "sfmc:");
    assert_eq!(config.lock_ttl, Duration::from_secs(5));
    assert_eq!(config.op_timeout, Duration::from_millis(500));
    assert_eq!(config.reconnect_after, Duration::from_secs(2));
    assert!(!format!("{config:?}").contains("hunter2"));
    let store = RedisStore::new(config).unwrap();
    let shown = format!("{store:?}");
    assert_eq!(
        shown,
        r#"RedisStore { url: "redis://***@10.0.0.9:6379/1", key_prefix: "sfmc:", .. }"#
    );
    let k = key("client-A");
    assert_eq!(
        store.token_key(&k),
        format!("sfmc:token:{}", k.fingerprint())
    );
    assert_eq!(store.lock_key(&k), format!("sfmc:lock:{}", k.fingerprint()));
    assert_eq!(store.name(), "redis");
}

// ---- against the shared (or an own) server ----

#[tokio::test]
async fn save_load_round_trip() {
    let Some(server) = any_server("save_load_round_trip") else {
        return;
    };
    let store = store(&server.url, "round-trip");
    let k = key("client-round-trip");
    assert!(store.load(&k, &secret()).await.unwrap().is_none());
    let saved = token("tok-round-trip");
    store.save(&k, &secret(), &saved).await.unwrap();
    let loaded = store.load(&k, &secret()).await.unwrap().unwrap();
    assert_eq!(loaded.expose(), "tok-round-trip");
    assert_eq!(loaded.expires_at_ms(), saved.expires_at_ms());
    assert_eq!(loaded.scope(), "email_read");
    assert_eq!(loaded.rest_instance_url().as_str(), "http://127.0.0.1:1/");

    // A save replaces.
    store
        .save(&k, &secret(), &token("tok-round-trip-2"))
        .await
        .unwrap();
    let loaded = store.load(&k, &secret()).await.unwrap().unwrap();
    assert_eq!(loaded.expose(), "tok-round-trip-2");

    // Another key is another slot.
    assert!(
        store
            .load(&key("client-other"), &secret())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn stored_value_is_sealed_keyed_by_fingerprint_and_expires_with_the_token() {
    let Some(server) = any_server("stored_value_is_sealed") else {
        return;
    };
    let prefix = prefix("sealed");
    let store =
        RedisStore::new(RedisStoreConfig::new(&server.url).with_key_prefix(&prefix)).unwrap();
    let client_id = "cid-Visible-7781";
    let k = key(client_id);
    let text = "tok-SEALED-text-4417";
    let saved = token(text);
    store.save(&k, &secret(), &saved).await.unwrap();

    let keys: Vec<String> =
        raw_cmd(&server.url, redis::cmd("KEYS").arg(format!("{prefix}*"))).await;
    assert_eq!(keys, vec![format!("{prefix}token:{}", k.fingerprint())]);
    for name in &keys {
        assert!(
            !name.contains(client_id) && !name.contains(SECRET),
            "{name}"
        );
    }

    let value: Vec<u8> = raw_cmd(&server.url, redis::cmd("GET").arg(&keys[0])).await;
    assert!(!value.is_empty());
    assert!(!contains(&value, text), "token in clear");
    assert!(!contains(&value, SECRET), "secret in clear");
    assert!(!contains(&value, client_id), "client id in clear");

    // PXAT: the remaining time is the token's, give or take the test's own delay.
    let pttl: i64 = raw_cmd(&server.url, redis::cmd("PTTL").arg(&keys[0])).await;
    let expected = i64::try_from(saved.expires_at_ms() - now_ms()).unwrap();
    assert!(pttl > 0, "no expiry set: {pttl}");
    assert!(
        (pttl - expected).abs() < 60_000,
        "PTTL {pttl} ms, token has {expected} ms left"
    );
    let pexpiretime: i64 = raw_cmd(&server.url, redis::cmd("PEXPIRETIME").arg(&keys[0])).await;
    assert_eq!(u64::try_from(pexpiretime).unwrap(), saved.expires_at_ms());
}

#[tokio::test]
async fn wrong_secret_is_a_miss() {
    let Some(server) = any_server("wrong_secret_is_a_miss") else {
        return;
    };
    let store = store(&server.url, "wrong-secret");
    let k = key("client-wrong-secret");
    store
        .save(&k, &secret(), &token("tok-wrong-secret"))
        .await
        .unwrap();
    let other = SecretString::from("not-the-secret");
    assert!(store.load(&k, &other).await.unwrap().is_none());
    // The right secret still opens it.
    assert!(store.load(&k, &secret()).await.unwrap().is_some());
}

#[tokio::test]
async fn garbage_value_is_a_miss() {
    let Some(server) = any_server("garbage_value_is_a_miss") else {
        return;
    };
    let store = store(&server.url, "garbage");
    let k = key("client-garbage");
    for garbage in [
        &b"not sealed at all"[..],
        b"",
        b"sfmc1\0short",
        &[0xff; 300],
    ] {
        let _: () = raw_cmd(
            &server.url,
            redis::cmd("SET").arg(store.token_key(&k)).arg(garbage),
        )
        .await;
        assert!(store.load(&k, &secret()).await.unwrap().is_none());
    }
    // A sealed value moved to another key's slot does not open either (the key is bound in).
    let other = key("client-garbage-other");
    store
        .save(&other, &secret(), &token("tok-other"))
        .await
        .unwrap();
    let sealed: Vec<u8> =
        raw_cmd(&server.url, redis::cmd("GET").arg(store.token_key(&other))).await;
    let _: () = raw_cmd(
        &server.url,
        redis::cmd("SET").arg(store.token_key(&k)).arg(sealed),
    )
    .await;
    assert!(store.load(&k, &secret()).await.unwrap().is_none());
}

#[tokio::test]
async fn expired_token_is_not_saved_and_does_not_clobber() {
    let Some(server) = any_server("expired_token_is_not_saved") else {
        return;
    };
    let store = store(&server.url, "expired");
    let k = key("client-expired");
    let expired = token_at("tok-expired", now_ms() - 2_000_000, 1079);
    store.save(&k, &secret(), &expired).await.unwrap();
    let exists: i64 = raw_cmd(&server.url, redis::cmd("EXISTS").arg(store.token_key(&k))).await;
    assert_eq!(exists, 0);

    store.save(&k, &secret(), &token("tok-live")).await.unwrap();
    store.save(&k, &secret(), &expired).await.unwrap();
    let loaded = store.load(&k, &secret()).await.unwrap().unwrap();
    assert_eq!(loaded.expose(), "tok-live");
}

#[tokio::test]
async fn remove_if_removes_only_the_failed_token() {
    let Some(server) = any_server("remove_if") else {
        return;
    };
    let store = store(&server.url, "remove-if");
    let k = key("client-remove-if");
    let failed = token("tok-failed");
    let newer = token("tok-newer");

    // Someone already wrote a newer token: it stays.
    store.save(&k, &secret(), &newer).await.unwrap();
    store.remove_if(&k, &secret(), &failed).await.unwrap();
    assert_eq!(
        store.load(&k, &secret()).await.unwrap().unwrap().expose(),
        "tok-newer"
    );

    // The stored token is the failed one: it goes.
    store.save(&k, &secret(), &failed).await.unwrap();
    store.remove_if(&k, &secret(), &failed).await.unwrap();
    assert!(store.load(&k, &secret()).await.unwrap().is_none());

    // Nothing stored, or a value that does not unseal: nothing happens, no error.
    store.remove_if(&k, &secret(), &failed).await.unwrap();
    store.save(&k, &secret(), &failed).await.unwrap();
    store
        .remove_if(&k, &SecretString::from("wrong"), &failed)
        .await
        .unwrap();
    assert!(store.load(&k, &secret()).await.unwrap().is_some());
}

#[tokio::test]
async fn lock_is_exclusive_and_released_only_by_its_owner() {
    let Some(server) = any_server("lock_is_exclusive") else {
        return;
    };
    let config = RedisStoreConfig::new(&server.url)
        .with_key_prefix(prefix("lock"))
        .with_lock_ttl(Duration::from_secs(30));
    let store = RedisStore::new(config).unwrap();
    let k = key("client-lock");

    let LockAttempt::Acquired(owner) = store.try_lock(&k).await.unwrap() else {
        panic!("first try_lock must acquire");
    };
    assert_eq!(owner.0.len(), 32);
    assert!(owner.0.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(matches!(
        store.try_lock(&k).await.unwrap(),
        LockAttempt::Held
    ));

    // The lock holds the owner and expires by itself.
    let lock_key = store.lock_key(&k);
    let held: String = raw_cmd(&server.url, redis::cmd("GET").arg(&lock_key)).await;
    assert_eq!(held, owner.0);
    let pttl: i64 = raw_cmd(&server.url, redis::cmd("PTTL").arg(&lock_key)).await;
    assert!(pttl > 0 && pttl <= 30_000, "PTTL {pttl}");

    // Locks are per key.
    let other = key("client-lock-other");
    let LockAttempt::Acquired(other_owner) = store.try_lock(&other).await.unwrap() else {
        panic!("another key has its own lock");
    };

    // Not the owner: nothing released.
    store.unlock(&k, LockToken("0".repeat(32))).await.unwrap();
    store.unlock(&k, other_owner.clone()).await.unwrap();
    assert!(matches!(
        store.try_lock(&k).await.unwrap(),
        LockAttempt::Held
    ));

    // The owner releases; a second unlock is harmless.
    store.unlock(&k, owner.clone()).await.unwrap();
    store.unlock(&k, owner).await.unwrap();
    let LockAttempt::Acquired(again) = store.try_lock(&k).await.unwrap() else {
        panic!("released lock must be free");
    };
    store.unlock(&k, again).await.unwrap();
    store.unlock(&other, other_owner).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_try_lock_has_exactly_one_winner() {
    let Some(server) = any_server("concurrent_try_lock") else {
        return;
    };
    let store = Arc::new(store(&server.url, "lock-race"));
    let k = key("client-lock-race");
    let attempts: Vec<_> = (0..32)
        .map(|_| {
            let store = Arc::clone(&store);
            let k = k.clone();
            tokio::spawn(async move { store.try_lock(&k).await.unwrap() })
        })
        .collect();
    let mut acquired = 0;
    let mut held = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            LockAttempt::Acquired(_) => acquired += 1,
            LockAttempt::Held => held += 1,
            LockAttempt::Unsupported => panic!("Redis supports locking"),
        }
    }
    assert_eq!((acquired, held), (1, 31));
}

#[tokio::test]
async fn lock_expires_by_itself() {
    let Some(server) = any_server("lock_expires_by_itself") else {
        return;
    };
    let config = RedisStoreConfig::new(&server.url)
        .with_key_prefix(prefix("lock-ttl"))
        .with_lock_ttl(Duration::from_millis(300));
    let store = RedisStore::new(config).unwrap();
    let k = key("client-lock-ttl");
    assert!(matches!(
        store.try_lock(&k).await.unwrap(),
        LockAttempt::Acquired(_)
    ));
    assert!(matches!(
        store.try_lock(&k).await.unwrap(),
        LockAttempt::Held
    ));
    // A holder that never unlocks (it died): the lock goes by itself.
    let lock_key = store.lock_key(&k);
    let mut gone = false;
    for _ in 0..200 {
        let exists: i64 = raw_cmd(&server.url, redis::cmd("EXISTS").arg(&lock_key)).await;
        if exists == 0 {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(gone, "the lock did not expire within 10 s");
    assert!(matches!(
        store.try_lock(&k).await.unwrap(),
        LockAttempt::Acquired(_)
    ));
}

// ---- failures ----

#[tokio::test]
async fn redis_down_at_construction_fails_fast_and_never_hangs() {
    // Nothing listens on this port: no Redis needed.
    let url = format!("redis://:hunter2@127.0.0.1:{}", free_port());
    let config = RedisStoreConfig::new(&url)
        .with_key_prefix(prefix("down"))
        .with_op_timeout(Duration::from_millis(300));
    let store = RedisStore::new(config).unwrap();
    let k = key("client-down");
    let t = token("tok-down");
    for round in 0..3 {
        let errors = [
            bounded("load", store.load(&k, &secret()))
                .await
                .unwrap_err(),
            bounded("save", store.save(&k, &secret(), &t))
                .await
                .unwrap_err(),
            bounded("remove_if", store.remove_if(&k, &secret(), &t))
                .await
                .unwrap_err(),
            bounded("try_lock", store.try_lock(&k)).await.unwrap_err(),
            bounded("unlock", store.unlock(&k, LockToken("x".into())))
                .await
                .unwrap_err(),
        ];
        for e in errors {
            let text = e.to_string();
            assert_eq!(e.store, "redis");
            assert!(!text.contains("hunter2"), "round {round}: {text}");
            assert!(!text.contains("tok-down"), "round {round}: {text}");
            assert!(!text.contains(SECRET), "round {round}: {text}");
        }
    }
}

#[tokio::test]
async fn unresponsive_server_times_out_and_reconnects_are_paused() {
    // Accepts connections and never answers: the case a timeout must cover. No Redis needed.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let holder = Arc::clone(&accepted);
    let acceptor = tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            holder.lock().unwrap().push(socket);
        }
    });
    let config = RedisStoreConfig::new(format!("redis://127.0.0.1:{port}"))
        .with_key_prefix(prefix("silent"))
        .with_op_timeout(Duration::from_millis(200))
        .with_reconnect_after(Duration::from_secs(600));
    let store = RedisStore::new(config).unwrap();
    let k = key("client-silent");

    let first = bounded("load", store.load(&k, &secret()))
        .await
        .unwrap_err();
    assert!(
        first.to_string().contains("no answer within 200 ms"),
        "{first}"
    );

    // Inside the reconnect pause every operation fails at once, without a new connection.
    for _ in 0..3 {
        let e = bounded("try_lock", store.try_lock(&k)).await.unwrap_err();
        assert!(e.to_string().contains("next connection attempt in"), "{e}");
        let e = bounded("save", store.save(&k, &secret(), &token("t")))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("next connection attempt in"), "{e}");
    }
    acceptor.abort();
}

#[tokio::test]
async fn server_killed_then_restarted_errors_then_recovers() {
    let Some(mut server) = own_server("server_killed_then_restarted") else {
        return;
    };
    let config = RedisStoreConfig::new(server.url())
        .with_key_prefix(prefix("restart"))
        .with_op_timeout(Duration::from_millis(500))
        .with_reconnect_after(Duration::from_millis(100));
    let store = RedisStore::new(config).unwrap();
    let k = key("client-restart");
    store
        .save(&k, &secret(), &token("tok-before"))
        .await
        .unwrap();
    assert!(store.load(&k, &secret()).await.unwrap().is_some());

    server.kill();
    for _ in 0..3 {
        bounded("load", store.load(&k, &secret()))
            .await
            .unwrap_err();
        bounded("try_lock", store.try_lock(&k)).await.unwrap_err();
    }

    server.start();
    let mut recovered = false;
    for _ in 0..100 {
        if bounded("save", store.save(&k, &secret(), &token("tok-after")))
            .await
            .is_ok()
        {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        recovered,
        "no successful operation within ~10 s of the restart"
    );
    let loaded = store.load(&k, &secret()).await.unwrap().unwrap();
    assert_eq!(loaded.expose(), "tok-after");
    assert!(matches!(
        store.try_lock(&k).await.unwrap(),
        LockAttempt::Acquired(_)
    ));
}

#[tokio::test]
async fn health_is_logged_once_per_outage_without_secrets() {
    let password = "redis-pw-hunter2-Q7";
    let Some(mut server) = own_server_with("health_is_logged", &["--requirepass", password]) else {
        return;
    };
    let captured = Captured::default();
    let _guard = tracing::subscriber::set_default(captured.subscriber(tracing::Level::DEBUG));

    let url = format!("redis://:{password}@127.0.0.1:{}", server.port());
    let config = RedisStoreConfig::new(&url)
        .with_key_prefix(prefix("health"))
        .with_reconnect_after(Duration::ZERO);
    let store = RedisStore::new(config).unwrap();
    let k = key("client-health");
    let text = "tok-health-SECRETTEXT";

    // The password in the URL authenticates.
    store.save(&k, &secret(), &token(text)).await.unwrap();
    assert!(store.load(&k, &secret()).await.unwrap().is_some());

    // Two outages, each: several failures, then a recovery.
    for outage in 0..2 {
        server.kill();
        for _ in 0..4 {
            let e = bounded("load", store.load(&k, &secret()))
                .await
                .unwrap_err();
            assert!(!e.to_string().contains(password), "{e}");
            let e = bounded("save", store.save(&k, &secret(), &token(text)))
                .await
                .unwrap_err();
            assert!(!e.to_string().contains(password), "{e}");
        }
        server.start();
        let mut recovered = false;
        for _ in 0..100 {
            if bounded("save", store.save(&k, &secret(), &token(text)))
                .await
                .is_ok()
            {
                recovered = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(recovered, "outage {outage}: no recovery");
        assert!(store.load(&k, &secret()).await.unwrap().is_some());
    }

    let logs = captured.text();
    let warns: Vec<&str> = logs.lines().filter(|l| l.contains(" WARN ")).collect();
    let infos: Vec<&str> = logs.lines().filter(|l| l.contains(" INFO ")).collect();
    assert_eq!(warns.len(), 2, "one warning per outage:\n{logs}");
    for warn in &warns {
        assert!(
            warn.contains("Redis token store unreachable; going straight to the token endpoint: "),
            "{warn}"
        );
    }
    assert_eq!(infos.len(), 2, "one recovery line per outage:\n{logs}");
    assert!(
        infos.iter().all(|l| l.contains("sharing resumed")),
        "{logs}"
    );
    assert!(logs.contains(" DEBUG "), "later failures at debug:\n{logs}");
    assert!(!logs.contains(password), "password in logs:\n{logs}");
    assert!(!logs.contains(text), "token in logs:\n{logs}");
    assert!(!logs.contains(SECRET), "secret in logs:\n{logs}");
}

#[tokio::test]
async fn wrong_redis_password_is_an_error_not_a_hang() {
    let Some(server) = own_server_with("wrong_redis_password", &["--requirepass", "right-pw"])
    else {
        return;
    };
    let url = format!("redis://:wrong-pw-hunter2@127.0.0.1:{}", server.port());
    let store =
        RedisStore::new(RedisStoreConfig::new(&url).with_key_prefix(prefix("auth"))).unwrap();
    let k = key("client-auth");
    let e = bounded("load", store.load(&k, &secret()))
        .await
        .unwrap_err();
    assert!(!e.to_string().contains("hunter2"), "{e}");
}

#[tokio::test]
async fn connection_closed_by_the_server_is_not_an_outage() {
    // E.g. a server `timeout` or a proxy's idle timeout: the next operation reconnects at once.
    let Some(server) = own_server("connection_closed_by_the_server") else {
        return;
    };
    let captured = Captured::default();
    let _guard = tracing::subscriber::set_default(captured.subscriber(tracing::Level::INFO));

    let config = RedisStoreConfig::new(server.url())
        .with_key_prefix(prefix("closed"))
        .with_reconnect_after(Duration::from_secs(600));
    let store = RedisStore::new(config).unwrap();
    let k = key("client-closed");
    store
        .save(&k, &secret(), &token("tok-closed"))
        .await
        .unwrap();

    for round in 0..3 {
        // Closes every client connection but the one sending the command.
        let killed: i64 = raw_cmd(
            &server.url(),
            redis::cmd("CLIENT").arg("KILL").arg("TYPE").arg("normal"),
        )
        .await;
        assert!(
            killed >= 1,
            "round {round}: the store's connection was not killed"
        );
        let loaded = bounded("load", store.load(&k, &secret())).await;
        assert_eq!(
            loaded.unwrap().unwrap().expose(),
            "tok-closed",
            "round {round}"
        );
    }
    let logs = captured.text();
    assert!(!logs.contains(" WARN "), "{logs}");
}

#[tokio::test]
async fn rediss_checks_the_server_certificate() {
    // A TLS server with a self-signed certificate that no root vouches for: refused, without a
    // panic (the TLS setup runs inside the operation) and without a hang.
    let test = "rediss_checks_the_server_certificate";
    let Some(openssl) = redis_server::on_path("openssl") else {
        let _: Option<()> = redis_server::skip(test, "openssl is not on PATH");
        return;
    };
    let dir = std::env::temp_dir().join(format!("sfmc-redis-tls-{}", random_hex()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key_file) = (dir.join("server.crt"), dir.join("server.key"));
    let status = std::process::Command::new(openssl)
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key_file)
        .arg("-out")
        .arg(&cert)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "openssl could not make a certificate");
    let tls_port = free_port().to_string();
    let (cert, key_file) = (cert.to_string_lossy(), key_file.to_string_lossy());
    let server = own_server_with(
        test,
        &[
            "--tls-port",
            &tls_port,
            "--tls-cert-file",
            &cert,
            "--tls-key-file",
            &key_file,
            "--tls-auth-clients",
            "no",
        ],
    );
    let Some(_server) = server else {
        std::fs::remove_dir_all(&dir).ok();
        return;
    };
    let url = format!("rediss://:hunter2@127.0.0.1:{tls_port}");
    let config = RedisStoreConfig::new(&url)
        .with_key_prefix(prefix("tls"))
        .with_op_timeout(Duration::from_secs(2));
    let store = RedisStore::new(config).unwrap();
    let e = bounded("load", store.load(&key("client-tls"), &secret()))
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(text.contains("certificate"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
    std::fs::remove_dir_all(&dir).ok();
}
