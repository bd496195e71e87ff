//! The retry policy, apart from the send loop that applies it: what each kind of answer means
//! ([`Outcome`]) and whether it may be tried again ([`RetryPolicy::may_retry`]).
//!
//! - 401: the token is bad — invalidate it and send again once with a new one (inside the
//!   attempt; not counted as a retry).
//! - 429 errorcode 50100 (rate limit): wait `Retry-After` (never less than the first backoff
//!   step; else back off) and retry, any method (the request was not processed).
//! - 429 errorcode 50200 ("temporarily blocked"): never retried.
//! - 5xx, and transport errors after the request may have reached the server: back off and
//!   retry for idempotent requests only. Connect errors (nothing was sent) are retried for all.
//! - Everything else is returned as it is.
//!
//! The waits follow `sfmc-auth`'s schedule ([`backoff_schedule`], [`retry_delay`]), and a wait
//! that would end past the call's deadline is not started: the call fails at once with
//! [`crate::ClientError::Deadline`] carrying the last failure.

use std::time::Duration;

use backon::ExponentialBuilder;
use sfmc_auth::http::retry_after::{backoff_schedule, retry_delay};

/// How hard a call tries; the whole call is also bounded by [`ClientConfig::deadline`].
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in all for throttling, 5xx and transport errors (the 401 retry is extra).
    pub max_attempts: u32,
    /// First backoff; doubles per attempt, with jitter. Also the shortest wait after a 429.
    pub initial_backoff: Duration,
    /// Longest backoff.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(10),
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
    /// An error no retry can fix.
    Final,
    /// 401.
    Unauthorized,
    /// 429 errorcode 50100 (or a 429 without errorcode 50200).
    RateLimited,
    /// 5xx.
    ServerError,
    /// The connection failed before the request was sent.
    ConnectFailed,
    /// The connection failed after the request may have been sent.
    TransportFailed,
}

impl RetryPolicy {
    /// Whether an attempt that ended with `outcome` may be tried again (attempts and the
    /// deadline permitting).
    pub(crate) fn may_retry(outcome: Outcome, idempotent: bool) -> bool {
        match outcome {
            Outcome::RateLimited | Outcome::ConnectFailed => true,
            Outcome::ServerError | Outcome::TransportFailed => idempotent,
            Outcome::Final | Outcome::Unauthorized => false,
        }
    }

    /// The backoff steps: `sfmc-auth`'s schedule, `max_attempts - 1` waits.
    pub(crate) fn schedule(&self) -> ExponentialBuilder {
        let waits = usize::try_from(self.max_attempts.saturating_sub(1)).unwrap_or(usize::MAX);
        backoff_schedule(self.initial_backoff, self.max_backoff).with_max_times(waits)
    }

    /// The wait before the next attempt: the `Retry-After` asked for (floored at the first
    /// step), else the backoff step.
    pub(crate) fn delay(&self, retry_after: Option<Duration>, backoff: Duration) -> Duration {
        retry_delay(retry_after, backoff, self.initial_backoff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_may_be_retried() {
        for idempotent in [false, true] {
            assert!(RetryPolicy::may_retry(Outcome::RateLimited, idempotent));
            assert!(RetryPolicy::may_retry(Outcome::ConnectFailed, idempotent));
            assert!(!RetryPolicy::may_retry(Outcome::Final, idempotent));
            assert!(!RetryPolicy::may_retry(Outcome::Unauthorized, idempotent));
            assert_eq!(
                RetryPolicy::may_retry(Outcome::ServerError, idempotent),
                idempotent
            );
            assert_eq!(
                RetryPolicy::may_retry(Outcome::TransportFailed, idempotent),
                idempotent
            );
        }
    }

    #[test]
    fn the_schedule_has_max_attempts_minus_one_waits_within_bounds() {
        use backon::BackoffBuilder;
        let policy = RetryPolicy::default();
        let waits: Vec<_> = policy.schedule().build().collect();
        assert_eq!(waits.len(), 3);
        for (n, wait) in waits.iter().enumerate() {
            let step = policy.initial_backoff.saturating_mul(1 << n);
            assert!(*wait >= step / 2 && *wait <= step, "{n}: {wait:?}");
        }
        let zero = policy.delay(Some(Duration::ZERO), Duration::from_millis(300));
        assert_eq!(zero, policy.initial_backoff, "Retry-After: 0 still waits");
    }
}
