//! Injected faults: [`Fault`] and [`FaultTarget`], the two FIFO queues they wait in, and the
//! responses a fault produces (429 with `Retry-After: 5` and errorcode 50100, or with an
//! `errorcode` of 50200 the "temporarily blocked" throttle without `Retry-After`; other
//! statuses in the REST error shape, with the fault's `errorcode` when it has one).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::rest::{self, DOCUMENTATION_URL};

/// Which requests a fault applies to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultTarget {
    /// `POST /v2/token`.
    Token,
    /// Every other request outside `/_emulator/` (userinfo, tokenContext, REST); the default.
    #[default]
    Api,
}

/// "The next `count` requests to `target` wait `delay_ms`, then fail with `status` if given."
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    /// Which requests are affected.
    pub target: FaultTarget,
    /// Status to fail with after the delay; `None` only delays, then answers normally.
    pub status: Option<u16>,
    /// How many matching requests are affected.
    pub count: u32,
    /// Delay before answering, in milliseconds (tokio time).
    pub delay_ms: u64,
    /// `errorcode` of the failure instead of the status's default: `429` with `50200` is the
    /// "temporarily blocked" throttle, without `Retry-After`. Left out of JSON when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errorcode: Option<i64>,
}

impl Default for Fault {
    /// One API request failing with 500 at once; set the fields you need with
    /// `Fault { status: Some(503), ..Fault::default() }`.
    fn default() -> Self {
        Fault {
            target: FaultTarget::Api,
            status: Some(500),
            count: 1,
            delay_ms: 0,
            errorcode: None,
        }
    }
}

/// What a fault does to one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Effect {
    status: Option<u16>,
    errorcode: Option<i64>,
    delay_ms: u64,
}

impl Effect {
    /// Waits the delay (which the request timeout does not count), then returns the failure response if the fault has a status.
    pub(crate) async fn apply(self) -> Option<Response> {
        if self.delay_ms > 0 {
            let delay = Duration::from_millis(self.delay_ms);
            crate::deadline::excuse(delay);
            tokio::time::sleep(delay).await;
        }
        self.status.map(|status| failure(status, self.errorcode))
    }
}

/// One FIFO queue of faults; the flag lets the hot path skip the lock when nothing is queued.
#[derive(Default)]
struct Queue {
    armed: AtomicBool,
    faults: Mutex<VecDeque<Fault>>,
}

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Fault>> {
        self.faults
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn take(&self) -> Option<Effect> {
        if !self.armed.load(Ordering::Acquire) {
            return None;
        }
        let mut q = self.lock();
        let front = q.front_mut()?;
        front.count = front.count.saturating_sub(1);
        let effect = Effect {
            status: front.status,
            errorcode: front.errorcode,
            delay_ms: front.delay_ms,
        };
        if front.count == 0 {
            q.pop_front();
        }
        self.armed.store(!q.is_empty(), Ordering::Release);
        Some(effect)
    }
}

/// The token and API fault queues.
#[derive(Default)]
pub(crate) struct FaultQueues {
    token: Queue,
    api: Queue,
}

impl FaultQueues {
    fn queue(&self, target: FaultTarget) -> &Queue {
        match target {
            FaultTarget::Token => &self.token,
            FaultTarget::Api => &self.api,
        }
    }

    /// Queues `fault` (one with `count` 0 does nothing).
    pub(crate) fn push(&self, fault: Fault) {
        if fault.count == 0 {
            return;
        }
        let queue = self.queue(fault.target);
        let mut q = queue.lock();
        q.push_back(fault);
        queue.armed.store(true, Ordering::Release);
    }

    /// Consumes one use of the oldest fault for `target`, if any.
    pub(crate) fn take(&self, target: FaultTarget) -> Option<Effect> {
        self.queue(target).take()
    }

    pub(crate) fn clear(&self) {
        for queue in [&self.token, &self.api] {
            let mut q = queue.lock();
            q.clear();
            queue.armed.store(false, Ordering::Release);
        }
    }

    /// Every queued fault, token faults first.
    pub(crate) fn pending(&self) -> Vec<Fault> {
        let mut all: Vec<Fault> = self.token.lock().iter().cloned().collect();
        all.extend(self.api.lock().iter().cloned());
        all
    }
}

/// Seconds announced by `Retry-After` and `retryAfter` on an injected 429.
pub(crate) const RETRY_AFTER_SECS: u64 = 5;

/// The errorcode of the "temporarily blocked" throttle (429 without `Retry-After`).
pub(crate) const BLOCKED_ERRORCODE: i64 = 50200;

/// The response of a fault with `status` (and `errorcode`, if given).
fn failure(status: u16, errorcode: Option<i64>) -> Response {
    let status = StatusCode::from_u16(status)
        .ok()
        .filter(|s| (200..=599).contains(&s.as_u16()))
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match status {
        StatusCode::TOO_MANY_REQUESTS if errorcode == Some(BLOCKED_ERRORCODE) => rest::error(
            status,
            "Your requests are temporarily blocked.",
            BLOCKED_ERRORCODE,
        ),
        StatusCode::TOO_MANY_REQUESTS => {
            let body = serde_json::json!({
                "message": "Rate limit exceeded",
                "errorcode": errorcode.unwrap_or(50100),
                "documentation": DOCUMENTATION_URL,
                "retryAfter": RETRY_AFTER_SECS,
            });
            let mut response = (status, axum::Json(body)).into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
            response
        }
        StatusCode::UNAUTHORIZED => rest::error(status, "Not Authorized", errorcode.unwrap_or(0)),
        _ => rest::error(
            status,
            status.canonical_reason().unwrap_or("Injected fault"),
            errorcode.unwrap_or_else(|| i64::from(status.as_u16())),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(target: FaultTarget, status: Option<u16>, count: u32) -> Fault {
        Fault {
            target,
            status,
            count,
            ..Fault::default()
        }
    }

    #[test]
    fn faults_apply_in_order_and_per_target() {
        let q = FaultQueues::default();
        assert_eq!(q.take(FaultTarget::Api), None);
        q.push(fault(FaultTarget::Api, Some(503), 2));
        q.push(fault(FaultTarget::Api, Some(429), 1));
        q.push(fault(FaultTarget::Token, None, 0));
        assert_eq!(q.take(FaultTarget::Token), None);
        let statuses: Vec<_> = std::iter::from_fn(|| q.take(FaultTarget::Api))
            .map(|e| e.status)
            .collect();
        assert_eq!(statuses, [Some(503), Some(503), Some(429)]);
        q.push(fault(FaultTarget::Token, Some(500), 5));
        assert_eq!(q.pending().len(), 1);
        q.clear();
        assert_eq!(q.take(FaultTarget::Token), None);
    }

    #[test]
    fn out_of_range_statuses_become_500() {
        assert_eq!(
            failure(42, None).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(
            failure(1000, None).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(failure(503, None).status(), StatusCode::SERVICE_UNAVAILABLE);
    }

    #[test]
    fn the_blocked_throttle_has_no_retry_after() {
        let blocked = failure(429, Some(BLOCKED_ERRORCODE));
        assert!(blocked.headers().get(header::RETRY_AFTER).is_none());
        let limited = failure(429, None);
        assert_eq!(limited.headers()[header::RETRY_AFTER], "5");
    }
}
