//! The token endpoint with retries: backoff from the policy (backon runs the loop),
//! `Retry-After` honoured but never below the first backoff step, no attempt started that the
//! deadline would cut, and every request counted.

use std::sync::atomic::{AtomicU32, Ordering};

use backon::Retryable;
use tokio::time::Instant;

use super::Inner;
use super::policy::ms;
use super::slot::Slot;
use crate::clock::monotonic_now;
use crate::error::AuthError;
use crate::http::retry_after::retry_delay;
use crate::token::AccessToken;

/// Calls the endpoint until it answers, a permanent error comes back, or the next attempt
/// would start past `deadline` (backoff from the policy, `Retry-After` honoured).
pub(crate) async fn fetch_with_retries(
    inner: &Inner,
    slot: &Slot,
    deadline: Instant,
) -> Result<AccessToken, AuthError> {
    let started = monotonic_now();
    let attempts = AtomicU32::new(0);
    let attempt = || async {
        attempts.fetch_add(1, Ordering::Relaxed);
        inner.token_requests.fetch_add(1, Ordering::Relaxed);
        let sent_at = inner.clock.now_ms();
        let request = inner.endpoint.request_token(&slot.settings);
        match tokio::time::timeout_at(deadline, request).await {
            Ok(result) => result.map(|response| AccessToken::new(response, sent_at)),
            Err(_) => Err(AuthError::unavailable(
                "the token endpoint did not answer before the load timeout",
            )),
        }
    };
    let result = attempt
        .retry(inner.policy.backoff())
        .sleep(tokio::time::sleep)
        .when(AuthError::is_transient)
        .adjust(|error, backoff| {
            // The schedule never runs out (the deadline bounds it).
            let delay = retry_delay(error.retry_after(), backoff?, inner.policy.initial_backoff);
            (monotonic_now() + delay < deadline).then_some(delay)
        })
        .notify(|error, delay| {
            tracing::warn!(%error, retry_in_ms = ms(delay), "token request failed; retrying");
        })
        .await;
    result.map_err(|error| {
        if error.is_transient() {
            AuthError::RetriesExhausted {
                attempts: attempts.load(Ordering::Relaxed),
                elapsed_ms: ms(monotonic_now().saturating_duration_since(started)),
                last: Box::new(error),
            }
        } else {
            error
        }
    })
}
