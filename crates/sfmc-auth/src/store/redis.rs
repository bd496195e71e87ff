//! [`RedisStore`]: the fleet-wide token tier (feature `redis`). This module owns the Redis side
//! of token sharing: the connection (lazy, bounded, paced reconnects), the key layout, sealed
//! values with an absolute expiry, compare-and-delete of a failed token, the cross-process
//! refresh lock and the health log. The lock *protocol* (try, re-read, fetch, save, unlock;
//! waiters poll [`TokenStore::load`]) belongs to the manager. See [`RedisStore`] for the details.

use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rand::RngCore;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, ErrorKind, FromRedisValue, RedisError};
use secrecy::SecretString;
use url::Url;

use super::{LockAttempt, LockToken, StoreError, TokenStore};
use crate::clock::monotonic_now;
use crate::endpoint::BoxFuture;
use crate::seal::{seal, unseal};
use crate::settings::TokenKey;
use crate::sync::lock;
use crate::token::AccessToken;

/// The name of this store in errors and logs.
const STORE: &str = "redis";

/// Deletes `KEYS[1]` only if it holds exactly `ARGV[1]`; returns the number of keys deleted.
const COMPARE_AND_DELETE: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
     return redis.call('DEL', KEYS[1]) \
     else return 0 end";

/// Extends the lease of the lock `KEYS[1]` to `ARGV[2]` ms if `ARGV[1]` still owns it; 1 if so.
const RENEW: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
     return redis.call('PEXPIRE', KEYS[1], ARGV[2]) \
     else return 0 end";

/// `SET KEYS[1] ARGV[1] PXAT ARGV[2]` unless that time has passed by Redis's own clock (the
/// one PXAT is measured against), which would delete whatever is stored instead.
const SAVE_UNTIL: &str = "local now = redis.call('TIME') \
     local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) \
     if tonumber(ARGV[2]) <= now_ms then return 0 end \
     redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2]) return 1";

/// `SET KEYS[1] ARGV[1] NX PX ARGV[2]`, answering 1 when the lock is (now) held by `ARGV[1]`:
/// also when an earlier send of this same call took it and only its answer was lost, so a
/// resend is safe.
const LOCK: &str = "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end \
     if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end \
     return 0";

/// The longest Redis error text kept in a [`StoreError`].
const MAX_REASON_LEN: usize = 300;

/// How to reach Redis and how to use it. [`RedisStoreConfig::new`] gives the defaults.
///
/// `Debug` shows the URL without its user information.
#[derive(Clone)]
pub struct RedisStoreConfig {
    /// `redis://[user:password@]host[:port][/db]`, or `rediss://…` for TLS (certificates checked
    /// against the system's roots).
    pub url: String,
    /// Prepended to every key; default `sfmc:`.
    pub key_prefix: String,
    /// The lease of a refresh lock: renewed every third of it while its holder refreshes, so a
    /// holder that dies delays the fleet by at most this long; default 5 s. Must be shorter
    /// than the managers' load timeout.
    pub lock_ttl: Duration,
    /// The longest one Redis command may take, connecting included; default 500 ms.
    pub op_timeout: Duration,
    /// After a connection failure, how long operations fail at once before a new connection is
    /// tried; default 2 s.
    pub reconnect_after: Duration,
}

impl RedisStoreConfig {
    /// The default key prefix.
    pub const DEFAULT_KEY_PREFIX: &'static str = "sfmc:";
    /// The default lease of a refresh lock.
    pub const DEFAULT_LOCK_TTL: Duration = Duration::from_secs(5);
    /// The default bound on one Redis command.
    pub const DEFAULT_OP_TIMEOUT: Duration = Duration::from_millis(500);
    /// The default pause between connection attempts after a failure.
    pub const DEFAULT_RECONNECT_AFTER: Duration = Duration::from_secs(2);

    /// The defaults for the Redis at `url` (checked by [`RedisStore::new`]).
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            key_prefix: Self::DEFAULT_KEY_PREFIX.to_owned(),
            lock_ttl: Self::DEFAULT_LOCK_TTL,
            op_timeout: Self::DEFAULT_OP_TIMEOUT,
            reconnect_after: Self::DEFAULT_RECONNECT_AFTER,
        }
    }

    /// Sets the key prefix.
    #[must_use]
    pub fn with_key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// Sets the lease of a refresh lock.
    #[must_use]
    pub fn with_lock_ttl(mut self, ttl: Duration) -> Self {
        self.lock_ttl = ttl;
        self
    }

    /// Fits the lock lease inside `load_timeout`: a lease at most half of it (so a killed holder
    /// delays the others by seconds, not the whole timeout), and commands bounded well inside the
    /// lease (a renewal, every third of the lease, must finish in time).
    #[must_use]
    pub fn within_load_timeout(self, load_timeout: Duration) -> Self {
        let lease = self.lock_ttl.min(load_timeout / 2);
        let op_timeout = self.op_timeout.min(lease / 4);
        self.with_lock_ttl(lease).with_op_timeout(op_timeout)
    }

    /// Sets the bound on one Redis command.
    #[must_use]
    pub fn with_op_timeout(mut self, timeout: Duration) -> Self {
        self.op_timeout = timeout;
        self
    }

    /// Sets the pause between connection attempts after a failure.
    #[must_use]
    pub fn with_reconnect_after(mut self, pause: Duration) -> Self {
        self.reconnect_after = pause;
        self
    }
}

impl fmt::Debug for RedisStoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = Url::parse(self.url.trim()).map_or_else(
            |_| "[unparsable URL, not shown]".to_owned(),
            |url| redact_url(&url),
        );
        f.debug_struct("RedisStoreConfig")
            .field("url", &url)
            .field("key_prefix", &self.key_prefix)
            .field("lock_ttl", &self.lock_ttl)
            .field("op_timeout", &self.op_timeout)
            .field("reconnect_after", &self.reconnect_after)
            .finish()
    }
}

/// Tokens shared through Redis, with a cross-process refresh lock.
///
/// Keys, under the configured prefix (default `sfmc:`), never hold the client id or the secret:
///
/// - `{prefix}token:{fingerprint}`: the token, sealed ([`crate::seal`]) under the client secret,
///   stored with `SET … PXAT {expires_at_ms}` so that Redis drops it when it expires (a token
///   already expired by Redis's own clock is not saved);
/// - `{prefix}lock:{fingerprint}`: the refresh lock, `SET … NX PX {lock_ttl}` (inside a small Lua
///   script that makes a resend safe) holding a random 128-bit owner, deleted only by that owner
///   (compare-and-delete) or by its expiry.
///
/// `fingerprint` is [`TokenKey::fingerprint`]. [`TokenStore::remove_if`] deletes the stored bytes
/// only if they are still the ones that unsealed to the failed token.
///
/// Construction never touches the network; the first operation connects, and all operations
/// share that one multiplexed connection. Redis failing is never a caller's failure: every
/// command is bounded by [`RedisStoreConfig::op_timeout`] (connecting included) and a failure
/// is a [`StoreError`], which the manager treats as a miss. After a connection failure no new
/// connection is tried for [`RedisStoreConfig::reconnect_after`]: operations in that window fail
/// at once. A connection that had worked and is found closed (server restart, idle timeout) is
/// replaced at once and the command sent once more.
///
/// The first failure after a healthy period logs one warning, the first success after failures
/// one info line; the rest is at debug level. Errors, logs and `Debug` never show a token, the
/// secret or the Redis password.
///
/// Expiries are absolute Unix times compared by Redis with its own clock: machines sharing a
/// Redis need roughly synchronised clocks (as they do for the tokens themselves).
pub struct RedisStore {
    client: Client,
    /// The URL without user information, for `Debug` and logs.
    redacted_url: String,
    /// Texts scrubbed from every error message (the password, raw and decoded).
    hidden: Vec<String>,
    key_prefix: String,
    lock_ttl: Duration,
    op_timeout: Duration,
    reconnect_after: Duration,
    connection: Mutex<ConnectionState>,
    /// Whether the last operation failed (for the warn-once / info-on-recovery log).
    failing: AtomicBool,
}

/// The shared connection and the reconnect gate.
#[derive(Default)]
struct ConnectionState {
    manager: Option<ConnectionManager>,
    /// Bumped for every new manager, so a late failure on an old one cannot drop a newer one.
    generation: u64,
    /// No new connection before this time.
    retry_at: Option<tokio::time::Instant>,
    /// Whether the current connection has served a command.
    proven: bool,
}

impl RedisStore {
    /// Checks `config` and makes the store, without connecting: this succeeds when Redis is
    /// down, and costs nothing.
    ///
    /// Refuses URLs other than `redis://` and `rediss://` and zero durations. Error messages
    /// never repeat the URL's user information.
    pub fn new(config: RedisStoreConfig) -> Result<Self, StoreError> {
        let raw = config.url.trim();
        let url = Url::parse(raw).map_err(|e| {
            StoreError::new(
                STORE,
                format!(
                    "the Redis URL is not a URL ({e}); expected redis://host:port/db or rediss://…"
                ),
            )
        })?;
        if !matches!(url.scheme(), "redis" | "rediss") {
            return Err(StoreError::new(
                STORE,
                format!(
                    "the Redis URL must start with redis:// or rediss:// (TLS), not {}://",
                    url.scheme()
                ),
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(StoreError::new(STORE, "the Redis URL has no host"));
        }
        if url.fragment().is_some() {
            return Err(StoreError::new(
                STORE,
                "the Redis URL must not have a '#' part (TLS certificates are always checked; \
                 trust a private CA through the system's roots or SSL_CERT_FILE)",
            ));
        }
        let mut hidden = Vec::new();
        if let Some(password) = url.password().filter(|p| !p.is_empty()) {
            hidden.push(password.to_owned());
            if let Ok(decoded) = percent_decode(password) {
                hidden.push(decoded);
            }
        }
        let redacted_url = redact_url(&url);
        let client = Client::open(url.as_str()).map_err(|e| {
            StoreError::new(
                STORE,
                format!(
                    "the Redis URL {redacted_url} is not usable: {}",
                    scrub(&e.to_string(), &hidden)
                ),
            )
        })?;
        if config.lock_ttl.is_zero() {
            return Err(StoreError::new(STORE, "lock_ttl must be more than zero"));
        }
        if config.op_timeout.is_zero() {
            return Err(StoreError::new(STORE, "op_timeout must be more than zero"));
        }
        Ok(Self {
            client,
            redacted_url,
            hidden,
            key_prefix: config.key_prefix,
            lock_ttl: config.lock_ttl,
            op_timeout: config.op_timeout,
            reconnect_after: config.reconnect_after,
            connection: Mutex::default(),
            failing: AtomicBool::new(false),
        })
    }

    /// The Redis URL without user information.
    pub fn redacted_url(&self) -> &str {
        &self.redacted_url
    }

    /// The Redis key of the token stored for `key`: `{prefix}token:{fingerprint}`.
    pub fn token_key(&self, key: &TokenKey) -> String {
        format!("{}token:{}", self.key_prefix, key.fingerprint())
    }

    /// The Redis key of the refresh lock for `key`: `{prefix}lock:{fingerprint}`.
    pub fn lock_key(&self, key: &TokenKey) -> String {
        format!("{}lock:{}", self.key_prefix, key.fingerprint())
    }

    /// The shared connection (made on first use), its generation and whether it has served a
    /// command; or a fast error inside the reconnect pause.
    fn connection(&self) -> Result<(ConnectionManager, u64, bool), StoreError> {
        let mut state = lock(&self.connection);
        if let Some(manager) = &state.manager {
            return Ok((manager.clone(), state.generation, state.proven));
        }
        let now = monotonic_now();
        if let Some(retry_at) = state.retry_at.filter(|at| now < *at) {
            return Err(StoreError::new(
                STORE,
                format!(
                    "{} unreachable; next connection attempt in {} ms",
                    self.redacted_url,
                    retry_at.duration_since(now).as_millis()
                ),
            ));
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.op_timeout))
            .set_response_timeout(Some(self.op_timeout))
            .set_number_of_retries(0);
        let manager = ConnectionManager::new_lazy_with_config(self.client.clone(), config)
            .map_err(|e| StoreError::new(STORE, scrub(&e.to_string(), &self.hidden)))?;
        state.generation = state.generation.wrapping_add(1);
        state.retry_at = None;
        state.proven = false;
        state.manager = Some(manager.clone());
        Ok((manager, state.generation, false))
    }

    /// Drops the connection of `generation` (if still current); with `pause`, no new one is
    /// made for `reconnect_after`.
    fn disconnect(&self, generation: u64, pause: bool) {
        let mut state = lock(&self.connection);
        if state.generation == generation && state.manager.is_some() {
            state.manager = None;
            state.proven = false;
            if pause {
                state.retry_at = Some(monotonic_now() + self.reconnect_after);
            }
        }
    }

    /// Notes that the connection of `generation` works.
    fn proven(&self, generation: u64) {
        let mut state = lock(&self.connection);
        if state.generation == generation {
            state.proven = true;
        }
    }

    /// Runs one command, bounded by `op_timeout`, with health bookkeeping.
    ///
    /// A connection that had worked and is found closed (a server restart, an idle timeout of
    /// the server or of something in between) is replaced at once and the command sent once
    /// more, so such a close is not an outage. Every command sent here is idempotent.
    async fn query<T: FromRedisValue>(
        &self,
        what: &'static str,
        cmd: &redis::Cmd,
    ) -> Result<T, StoreError> {
        let mut may_retry = true;
        let reason = loop {
            let (mut conn, generation, proven) = match self.connection() {
                Ok(conn) => conn,
                Err(e) => {
                    self.note_failure(&e.reason);
                    return Err(e);
                }
            };
            let outcome =
                tokio::time::timeout(self.op_timeout, cmd.query_async::<T>(&mut conn)).await;
            match outcome {
                Ok(Ok(value)) => {
                    if !proven {
                        self.proven(generation);
                    }
                    self.note_success();
                    return Ok(value);
                }
                Ok(Err(e)) if e.is_timeout() => {
                    self.disconnect(generation, true);
                    break self.no_answer(what);
                }
                Ok(Err(e)) if proven && may_retry && e.is_connection_dropped() => {
                    tracing::debug!(store = STORE, "Redis connection closed; reconnecting once");
                    self.disconnect(generation, false);
                    may_retry = false;
                }
                Ok(Err(e)) => {
                    if breaks_connection(&e) {
                        self.disconnect(generation, true);
                    }
                    break format!(
                        "{what} on {}: {}",
                        self.redacted_url,
                        truncate(&scrub(&e.to_string(), &self.hidden))
                    );
                }
                Err(_elapsed) => {
                    self.disconnect(generation, true);
                    break self.no_answer(what);
                }
            }
        };
        self.note_failure(&reason);
        Err(StoreError::new(STORE, reason))
    }

    /// The reason given when Redis did not answer in time.
    fn no_answer(&self, what: &str) -> String {
        format!(
            "{what} on {}: no answer within {} ms",
            self.redacted_url,
            self.op_timeout.as_millis()
        )
    }

    /// Health bookkeeping for a failure: one warning per outage, then debug lines.
    fn note_failure(&self, reason: &str) {
        if self.failing.swap(true, Ordering::AcqRel) {
            tracing::debug!(store = STORE, "Redis token store still failing: {reason}");
        } else {
            tracing::warn!(
                store = STORE,
                "Redis token store unreachable; going straight to the token endpoint: {reason}"
            );
        }
    }

    /// Health bookkeeping for a success: one info line when an outage ends.
    fn note_success(&self) {
        if self.failing.load(Ordering::Acquire) && self.failing.swap(false, Ordering::AcqRel) {
            tracing::info!(
                store = STORE,
                url = %self.redacted_url,
                "Redis token store reachable again; token sharing resumed"
            );
        }
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.redacted_url)
            .field("key_prefix", &self.key_prefix)
            .finish_non_exhaustive()
    }
}

impl TokenStore for RedisStore {
    fn name(&self) -> &'static str {
        STORE
    }

    fn load<'a>(
        &'a self,
        key: &'a TokenKey,
        secret: &'a SecretString,
    ) -> BoxFuture<'a, Result<Option<AccessToken>, StoreError>> {
        Box::pin(async move {
            let mut cmd = redis::cmd("GET");
            cmd.arg(self.token_key(key));
            let raw: Option<Vec<u8>> = self.query("GET", &cmd).await?;
            Ok(raw.and_then(|bytes| unseal(secret, key, &bytes)))
        })
    }

    fn save<'a>(
        &'a self,
        key: &'a TokenKey,
        secret: &'a SecretString,
        token: &'a AccessToken,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut cmd = redis::cmd("EVAL");
            cmd.arg(SAVE_UNTIL)
                .arg(1)
                .arg(self.token_key(key))
                .arg(seal(secret, key, token))
                .arg(token.expires_at_ms());
            self.query::<i64>("EVAL (SET PXAT token)", &cmd)
                .await
                .map(drop)
        })
    }

    fn remove_if<'a>(
        &'a self,
        key: &'a TokenKey,
        secret: &'a SecretString,
        failed: &'a AccessToken,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let token_key = self.token_key(key);
            let mut get = redis::cmd("GET");
            get.arg(&token_key);
            let Some(raw) = self.query::<Option<Vec<u8>>>("GET", &get).await? else {
                return Ok(());
            };
            let is_failed =
                unseal(secret, key, &raw).is_some_and(|stored| stored.same_token(failed));
            if !is_failed {
                return Ok(());
            }
            // Delete those exact bytes only: a newer token written since the GET stays.
            let mut cad = redis::cmd("EVAL");
            cad.arg(COMPARE_AND_DELETE).arg(1).arg(&token_key).arg(raw);
            self.query::<i64>("EVAL (compare-and-delete token)", &cad)
                .await
                .map(drop)
        })
    }

    fn try_lock<'a>(&'a self, key: &'a TokenKey) -> BoxFuture<'a, Result<LockAttempt, StoreError>> {
        Box::pin(async move {
            let owner = random_owner();
            let mut cmd = redis::cmd("EVAL");
            cmd.arg(LOCK)
                .arg(1)
                .arg(self.lock_key(key))
                .arg(&owner)
                .arg(millis(self.lock_ttl).max(1));
            match self.query::<i64>("EVAL (SET NX PX lock)", &cmd).await? {
                0 => Ok(LockAttempt::Held),
                _ => Ok(LockAttempt::Acquired(LockToken(owner))),
            }
        })
    }

    fn lock_lease(&self) -> Option<Duration> {
        Some(self.lock_ttl)
    }

    fn renew_lock<'a>(
        &'a self,
        key: &'a TokenKey,
        lock: &'a LockToken,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let mut cmd = redis::cmd("EVAL");
            cmd.arg(RENEW)
                .arg(1)
                .arg(self.lock_key(key))
                .arg(&lock.0)
                .arg(millis(self.lock_ttl).max(1));
            let renewed = self.query::<i64>("EVAL (renew lock lease)", &cmd).await?;
            Ok(renewed == 1)
        })
    }

    fn unlock<'a>(
        &'a self,
        key: &'a TokenKey,
        lock: LockToken,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut cad = redis::cmd("EVAL");
            cad.arg(COMPARE_AND_DELETE)
                .arg(1)
                .arg(self.lock_key(key))
                .arg(lock.0);
            self.query::<i64>("EVAL (compare-and-delete lock)", &cad)
                .await
                .map(drop)
        })
    }
}

/// Whether an error leaves the connection unusable (so it is dropped and reconnecting paused),
/// as opposed to an error answer from a working server.
fn breaks_connection(e: &RedisError) -> bool {
    !matches!(
        e.kind(),
        ErrorKind::Server(_) | ErrorKind::Extension | ErrorKind::UnexpectedReturnType
    ) || e.is_unrecoverable_error()
}

/// A fresh lock owner: 128 random bits in hex.
fn random_owner() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// `url` with any user information replaced by `***`.
fn redact_url(url: &Url) -> String {
    let mut shown = url.clone();
    if !shown.username().is_empty() || shown.password().is_some() {
        // Both setters only fail for URLs that cannot have user information; redis ones can.
        let _ = shown.set_password(None);
        let _ = shown.set_username("***");
    }
    shown.to_string()
}

fn percent_decode(text: &str) -> Result<String, std::string::FromUtf8Error> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        let hex_pair = bytes
            .get(i + 1..i + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (byte, hex_pair) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            _ => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out)
}

/// `text` with every occurrence of the `hidden` strings replaced.
fn scrub(text: &str, hidden: &[String]) -> String {
    hidden
        .iter()
        .filter(|h| !h.is_empty())
        .fold(text.to_owned(), |acc, h| acc.replace(h.as_str(), "***"))
}

fn truncate(text: &str) -> String {
    if text.chars().count() <= MAX_REASON_LEN {
        text.to_owned()
    } else {
        let mut short: String = text.chars().take(MAX_REASON_LEN).collect();
        short.push('…');
        short
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_hides_user_information() {
        let url = Url::parse("redis://user:hunter2@cache.internal:6380/2").unwrap();
        let shown = redact_url(&url);
        assert_eq!(shown, "redis://***@cache.internal:6380/2");
        let url = Url::parse("rediss://:hunter2@cache.internal").unwrap();
        assert_eq!(redact_url(&url), "rediss://***@cache.internal");
        let url = Url::parse("redis://127.0.0.1:6379").unwrap();
        assert_eq!(redact_url(&url), "redis://127.0.0.1:6379");
    }

    #[test]
    fn scrub_removes_raw_and_decoded_password() {
        let hidden = vec!["p%40ss".to_owned(), percent_decode("p%40ss").unwrap()];
        assert_eq!(hidden[1], "p@ss");
        assert_eq!(scrub("x p@ss y p%40ss", &hidden), "x *** y ***");
    }

    #[test]
    fn owners_are_128_bit_hex_and_differ() {
        let a = random_owner();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, random_owner());
    }

    #[test]
    fn config_debug_redacts() {
        let config = RedisStoreConfig::new("redis://u:hunter2@h:1/0");
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("u:"), "{shown}");
        let config = RedisStoreConfig::new("not a url hunter2");
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}
