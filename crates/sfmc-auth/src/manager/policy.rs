//! Refresh *policy*: when a token is due (its soft and hard windows), how long to back off
//! between attempts, how long a refresh may take, and the checks that make a policy usable. No
//! I/O and no state: the mechanism (the manager's `slot` and `refresh` modules) asks, this
//! answers.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use backon::ExponentialBuilder;
use rand::Rng;

use crate::error::AuthError;
use crate::http::retry_after::backoff_schedule;
use crate::token::AccessToken;

/// Where the random fraction of a token's refresh jitter comes from; injectable so tests can pin
/// it.
pub trait Jitter: Send + Sync + fmt::Debug + 'static {
    /// A number in `[0, 1]`.
    fn fraction(&self) -> f64;
}

/// Uniformly random jitter (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomJitter;

impl Jitter for RandomJitter {
    fn fraction(&self) -> f64 {
        rand::rng().random_range(0.0..=1.0)
    }
}

/// The same fraction every time (for tests and simulations).
#[derive(Debug, Clone, Copy)]
pub struct FixedJitter(pub f64);

impl Jitter for FixedJitter {
    fn fraction(&self) -> f64 {
        self.0.clamp(0.0, 1.0)
    }
}

/// When to refresh and how hard to try. Start from [`RefreshPolicy::default`] and change what
/// you need with the `with_*` methods; [`crate::TokenManagerBuilder::build`] checks the result.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RefreshPolicy {
    /// Refresh this long before expiry (Salesforce advises 5 minutes). Capped at half the
    /// token's lifetime.
    pub refresh_margin: Duration,
    /// Up to this much more, chosen at random per token, so a fleet does not refresh at once.
    /// Capped at a fifth of the effective margin.
    pub refresh_jitter: Duration,
    /// Past `expiry − hard_margin` a token is no longer handed out. Capped at a tenth of the
    /// token's lifetime.
    pub hard_margin: Duration,
    /// The longest one refresh may take, all retries and waits for other processes included:
    /// a hard bound on every [`crate::TokenHandle::token`] call.
    pub load_timeout: Duration,
    /// First backoff after a transient failure; doubles per attempt. More than zero.
    pub initial_backoff: Duration,
    /// Longest backoff between attempts; also the pause before another background refresh
    /// after a failed one.
    pub max_backoff: Duration,
    /// How often a refresh waiting for another process's (a store's refresh lock) looks for
    /// the token it will write.
    pub lock_poll_interval: Duration,
    /// After a permanent rejection (e.g. `invalid_client`), callers get the same error without
    /// a request for this long, so a misconfigured service cannot hammer the token endpoint.
    pub rejection_cooldown: Duration,
    /// A slot (the token of one key) that no handle holds and that nobody used for this long
    /// is dropped. `None`: two token lifetimes (40 minutes before the first token).
    pub idle_slot_ttl: Option<Duration>,
    /// The source of per-token jitter.
    pub jitter: Arc<dyn Jitter>,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self {
            refresh_margin: Duration::from_secs(300),
            refresh_jitter: Duration::from_secs(60),
            hard_margin: Duration::from_secs(30),
            load_timeout: Duration::from_secs(30),
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
            lock_poll_interval: Duration::from_millis(100),
            rejection_cooldown: Duration::from_secs(10),
            idle_slot_ttl: None,
            jitter: Arc::new(RandomJitter),
        }
    }
}

/// Milliseconds of `d`, saturating.
pub(crate) fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Token lifetimes without a token yet: 20 minutes, Marketing Cloud's.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(20 * 60);

macro_rules! with {
    ($($(#[$doc:meta])* $name:ident => $field:ident: $ty:ty;)*) => {$(
        $(#[$doc])*
        #[must_use]
        pub fn $name(mut self, value: $ty) -> Self {
            self.$field = value;
            self
        }
    )*};
}

impl RefreshPolicy {
    with! {
        /// Sets [`RefreshPolicy::refresh_margin`].
        with_refresh_margin => refresh_margin: Duration;
        /// Sets [`RefreshPolicy::refresh_jitter`].
        with_refresh_jitter => refresh_jitter: Duration;
        /// Sets [`RefreshPolicy::hard_margin`].
        with_hard_margin => hard_margin: Duration;
        /// Sets [`RefreshPolicy::load_timeout`].
        with_load_timeout => load_timeout: Duration;
        /// Sets [`RefreshPolicy::initial_backoff`].
        with_initial_backoff => initial_backoff: Duration;
        /// Sets [`RefreshPolicy::max_backoff`].
        with_max_backoff => max_backoff: Duration;
        /// Sets [`RefreshPolicy::lock_poll_interval`].
        with_lock_poll_interval => lock_poll_interval: Duration;
        /// Sets [`RefreshPolicy::rejection_cooldown`].
        with_rejection_cooldown => rejection_cooldown: Duration;
        /// Sets [`RefreshPolicy::idle_slot_ttl`].
        with_idle_slot_ttl => idle_slot_ttl: Option<Duration>;
        /// Sets [`RefreshPolicy::jitter`].
        with_jitter => jitter: Arc<dyn Jitter>;
    }

    /// Refuses a policy that cannot work: a zero load timeout, backoff or poll interval, a first
    /// backoff longer than the longest, or a first backoff or poll interval that does not fit in
    /// the load timeout (the longest backoff may: the deadline cuts it).
    pub(crate) fn check(&self) -> Result<(), AuthError> {
        let positive = [
            ("load timeout", self.load_timeout),
            ("initial backoff", self.initial_backoff),
            ("max backoff", self.max_backoff),
            ("lock poll interval", self.lock_poll_interval),
        ];
        for (field, value) in positive {
            if value.is_zero() {
                return Err(AuthError::config(field, "must be more than zero"));
            }
        }
        if self.initial_backoff > self.max_backoff {
            return Err(AuthError::config(
                "initial backoff",
                "must not be longer than the max backoff",
            ));
        }
        if self.initial_backoff >= self.load_timeout {
            return Err(AuthError::config(
                "initial backoff",
                "must be shorter than the load timeout",
            ));
        }
        if self.lock_poll_interval >= self.load_timeout {
            return Err(AuthError::config(
                "lock poll interval",
                "must be shorter than the load timeout",
            ));
        }
        Ok(())
    }

    /// `(soft_at_ms, hard_at_ms)` of a token, with `jitter_fraction` in `[0, 1]`.
    pub(crate) fn windows(&self, token: &AccessToken, jitter_fraction: f64) -> (u64, u64) {
        let lifetime = token.response().expires_in.saturating_mul(1000);
        let expires_at = token.expires_at_ms();
        let margin = ms(self.refresh_margin).min(lifetime / 2);
        let jitter_max = ms(self.refresh_jitter).min(margin / 5);
        // Truncation is intended: jitter is a whole number of milliseconds.
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let jitter = (jitter_max as f64 * jitter_fraction.clamp(0.0, 1.0)) as u64;
        let hard_margin = ms(self.hard_margin).min(lifetime / 10);
        let hard_at = expires_at.saturating_sub(hard_margin);
        let soft_at = expires_at.saturating_sub(margin + jitter).min(hard_at);
        (soft_at, hard_at)
    }

    /// Whether `token` is before its unjittered refresh time at `now_ms`.
    pub(crate) fn is_fresh(&self, token: &AccessToken, now_ms: u64) -> bool {
        now_ms < self.windows(token, 0.0).0
    }

    /// Whether `token` may still be handed out at `now_ms` (before hard expiry).
    pub(crate) fn is_usable(&self, token: &AccessToken, now_ms: u64) -> bool {
        now_ms < self.windows(token, 0.0).1
    }

    /// The backoff schedule between attempts (the one `sfmc-auth` and `sfmc-client` share): the
    /// n-th wait is between half and all of `initial_backoff × 2^(n-1)`, capped at
    /// `max_backoff`, unbounded in count (the load timeout bounds it).
    pub(crate) fn backoff(&self) -> ExponentialBuilder {
        backoff_schedule(self.initial_backoff, self.max_backoff)
    }

    /// How long a slot nobody holds may stay unused, given the lifetime of its last token.
    pub(crate) fn idle_ttl(&self, token_lifetime: Option<Duration>) -> Duration {
        self.idle_slot_ttl
            .unwrap_or_else(|| token_lifetime.unwrap_or(DEFAULT_LIFETIME).saturating_mul(2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::TokenResponse;

    fn token(expires_in: u64) -> AccessToken {
        let body = format!(
            r#"{{"access_token":"t","expires_in":{expires_in},"rest_instance_url":"https://h.example/"}}"#
        );
        AccessToken::new(TokenResponse::parse(body.as_bytes()).unwrap(), 0)
    }

    #[test]
    fn windows_follow_margins_and_caps() {
        let policy = RefreshPolicy::default();
        let (soft, hard) = policy.windows(&token(1200), 0.0);
        assert_eq!((soft, hard), (900_000, 1_170_000));
        let (soft, _) = policy.windows(&token(1200), 1.0);
        assert_eq!(soft, 840_000, "full jitter adds a minute");
        // A 10 s token: margin capped at 5 s, jitter at 1 s, hard margin at 1 s.
        assert_eq!(policy.windows(&token(10), 0.0), (5_000, 9_000));
        assert_eq!(policy.windows(&token(10), 1.0), (4_000, 9_000));
    }

    #[test]
    fn unusable_policies_are_refused() {
        let base = RefreshPolicy::default();
        for bad in [
            base.clone().with_initial_backoff(Duration::ZERO),
            base.clone().with_load_timeout(Duration::ZERO),
            base.clone().with_max_backoff(Duration::ZERO),
            base.clone().with_lock_poll_interval(Duration::ZERO),
            base.clone()
                .with_initial_backoff(Duration::from_secs(9))
                .with_max_backoff(Duration::from_secs(8)),
            base.clone()
                .with_lock_poll_interval(Duration::from_secs(30))
                .with_load_timeout(Duration::from_secs(30)),
            base.clone()
                .with_initial_backoff(Duration::from_secs(2))
                .with_load_timeout(Duration::from_secs(1)),
        ] {
            assert!(bad.check().is_err(), "{bad:?}");
        }
        assert!(base.check().is_ok());
    }

    #[test]
    fn fixed_jitter_is_clamped() {
        assert!((FixedJitter(3.0).fraction() - 1.0).abs() < f64::EPSILON);
        let random = RandomJitter.fraction();
        assert!((0.0..=1.0).contains(&random));
    }

    #[test]
    fn idle_ttl_is_two_lifetimes_unless_set() {
        let policy = RefreshPolicy::default();
        assert_eq!(policy.idle_ttl(None), Duration::from_secs(2400));
        assert_eq!(
            policy.idle_ttl(Some(Duration::from_secs(10))),
            Duration::from_secs(20)
        );
        let set = policy.with_idle_slot_ttl(Some(Duration::from_secs(1)));
        assert_eq!(set.idle_ttl(None), Duration::from_secs(1));
    }
}
