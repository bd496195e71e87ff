//! The retry policy, apart from the send loop that applies it: what each kind of answer means
//! ([`Outcome`]) and what to do next ([`Decision`]).
//!
//! - 401: the token is bad — invalidate it and retry once with a new one.
//! - 429 errorcode 50100 (rate limit): wait `Retry-After` (else back off) and retry, any method
//!   (the request was not processed).
//! - 429 errorcode 50200 ("temporarily blocked"): never retried.
//! - 5xx, and transport errors after the request may have reached the server: back off and
//!   retry for idempotent requests only. Connect errors (nothing was sent) are retried for all.
//! - Everything else is returned as it is.

use std::time::Duration;

use rand::Rng;

/// How hard a call tries; the whole call is also bounded by [`ClientConfig::deadline`].
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in all for throttling, 5xx and transport errors (the 401 retry is extra).
    pub max_attempts: u32,
    /// First backoff; doubles per attempt, with jitter.
    pub initial_backoff: Duration,
    /// Longest backoff.
    pub max_backoff: Duration,
    /// A `Retry-After` longer than this is not waited for: the call fails at once.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

/// Settings of a [`crate::Client`].
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Everything one call does — token, attempts, waits — ends within this.
    pub deadline: Duration,
    /// Retries.
    pub retry: RetryPolicy,
    /// The largest response body read, in bytes.
    pub max_body_bytes: usize,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            max_body_bytes: 64 * 1024 * 1024,
        }
    }
}

/// What one attempt produced, as far as retrying goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A success, or an error no retry can fix.
    Final,
    /// 401.
    Unauthorized,
    /// 429 errorcode 50100 (or a 429 without errorcode 50200), with the wait asked for.
    RateLimited(Option<Duration>),
    /// 5xx.
    ServerError,
    /// The connection failed before the request was sent.
    ConnectFailed,
    /// The connection failed after the request may have been sent.
    TransportFailed,
}

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Return this attempt's result.
    Return,
    /// Invalidate the token and try again at once.
    NewToken,
    /// Wait, then try again.
    RetryAfter(Duration),
}

impl RetryPolicy {
    /// The decision after attempt number `attempt` (from 1) ended with `outcome`.
    pub(crate) fn decide(
        &self,
        outcome: Outcome,
        attempt: u32,
        token_renewed: bool,
        idempotent: bool,
    ) -> Decision {
        let attempts_left = attempt < self.max_attempts;
        match outcome {
            Outcome::Unauthorized if !token_renewed => Decision::NewToken,
            Outcome::RateLimited(Some(wait)) if wait > self.max_retry_after => Decision::Return,
            Outcome::RateLimited(wait) if attempts_left => {
                Decision::RetryAfter(wait.unwrap_or_else(|| self.backoff(attempt)))
            }
            Outcome::ConnectFailed if attempts_left => Decision::RetryAfter(self.backoff(attempt)),
            Outcome::ServerError | Outcome::TransportFailed if attempts_left && idempotent => {
                Decision::RetryAfter(self.backoff(attempt))
            }
            _ => Decision::Return,
        }
    }

    /// The wait after failed attempt `attempt`: doubling from `initial_backoff`, capped, between
    /// half and all of it ("equal jitter").
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let base = self
            .initial_backoff
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(self.max_backoff);
        base.mul_f64(rand::rng().random_range(0.5..=1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.decide(Outcome::Unauthorized, 1, false, false),
            Decision::NewToken
        );
        assert_eq!(
            policy.decide(Outcome::Unauthorized, 1, true, true),
            Decision::Return
        );
        let five = Duration::from_secs(5);
        assert_eq!(
            policy.decide(Outcome::RateLimited(Some(five)), 1, false, false),
            Decision::RetryAfter(five)
        );
        assert_eq!(
            policy.decide(
                Outcome::RateLimited(Some(Duration::from_secs(3600))),
                1,
                false,
                true
            ),
            Decision::Return
        );
        assert!(matches!(
            policy.decide(Outcome::ServerError, 1, false, true),
            Decision::RetryAfter(_)
        ));
        assert_eq!(
            policy.decide(Outcome::ServerError, 1, false, false),
            Decision::Return
        );
        assert_eq!(
            policy.decide(Outcome::TransportFailed, 1, false, false),
            Decision::Return
        );
        assert!(matches!(
            policy.decide(Outcome::ConnectFailed, 1, false, false),
            Decision::RetryAfter(_)
        ));
        assert_eq!(
            policy.decide(Outcome::ServerError, 4, false, true),
            Decision::Return
        );
        assert_eq!(
            policy.decide(Outcome::Final, 1, false, true),
            Decision::Return
        );
    }

    #[test]
    fn backoff_doubles_within_bounds() {
        let policy = RetryPolicy::default();
        for attempt in 1..10 {
            let base = policy
                .initial_backoff
                .saturating_mul(1 << (attempt - 1))
                .min(policy.max_backoff);
            let wait = policy.backoff(attempt);
            assert!(wait >= base / 2 && wait <= base, "{attempt}: {wait:?}");
        }
    }
}
