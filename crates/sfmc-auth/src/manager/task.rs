//! A slot's refresh task: runs one refresh (bounded by the load timeout, stopped by
//! [`super::TokenManager::shutdown`], a panic caught), publishes the final answer, notes the end
//! in the slot and releases the store lock the refresh holds — in that order, so waiters are
//! never kept waiting for an unlock. If the task itself is dropped unfinished (its runtime went
//! away), a guard still notes the end, so the slot can refresh again, and releases the lock.

use std::sync::Arc;

use futures_util::FutureExt;
use tokio::sync::watch;

use super::Inner;
use super::lease::HeldLock;
use super::refresh::{Outcome, Run};
use super::slot::{Answer, Slot};
use crate::clock::monotonic_now;
use crate::error::AuthError;

/// Runs the refresh of `slot` and answers on `answer`.
pub(crate) async fn run_refresh(
    inner: Arc<Inner>,
    slot: Arc<Slot>,
    answer: watch::Sender<Option<Answer>>,
) {
    let held = HeldLock::default();
    let mut unfinished = Unfinished {
        inner: &inner,
        slot: &slot,
        held: &held,
        finished: false,
    };
    let deadline = monotonic_now() + inner.policy.load_timeout;
    let run = Run {
        inner: &inner,
        slot: &slot,
        answer: &answer,
        held: &held,
        deadline,
    };
    let work = run.refresh();
    let bounded =
        tokio::time::timeout_at(deadline, std::panic::AssertUnwindSafe(work).catch_unwind());
    let outcome = tokio::select! {
        outcome = bounded => match outcome {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_panic)) => Outcome::failed(AuthError::unavailable(
                "the token refresh failed unexpectedly",
            )),
            Err(_elapsed) => Outcome::failed(AuthError::unavailable(format!(
                "no token within the load timeout ({} s)",
                inner.policy.load_timeout.as_secs_f32()
            ))),
        },
        () = inner.shutdown.cancelled() => {
            Outcome::failed(AuthError::unavailable("the token manager shut down"))
        }
    };
    // The final answer, sent even after an early one: the token if it is still usable now (and
    // not invalidated meanwhile), else why there is none. Not sent under the slot's mutex: the
    // waiters' predicate takes it while holding the channel.
    let final_answer = match (&outcome.served, &outcome.failure) {
        (Some(token), _)
            if inner.policy.is_usable(token, inner.clock.now_ms()) && !slot.is_rejected(token) =>
        {
            Ok(token.clone())
        }
        (_, Some(error)) => Err(error.clone()),
        _ => Err(AuthError::unavailable(
            "the token refresh ended without a usable token",
        )),
    };
    answer.send_replace(Some(final_answer));
    slot.finish(&inner, outcome.failure.as_ref(), outcome.served.is_some());
    unfinished.finished = true;
    held.release(&slot.key).await;
}

/// Notes the end of a refresh task that was dropped before it did, and releases its lock.
struct Unfinished<'a> {
    inner: &'a Inner,
    slot: &'a Slot,
    held: &'a HeldLock,
    finished: bool,
}

impl Drop for Unfinished<'_> {
    fn drop(&mut self) {
        if !self.finished {
            let stopped = AuthError::unavailable("the token refresh was stopped");
            self.slot.finish(self.inner, Some(&stopped), false);
        }
        self.held.release_detached(&self.slot.key);
    }
}
