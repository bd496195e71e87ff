//! The request timeout, on tokio time: [`bounded`] gives a request
//! [`crate::EmulatorConfig::request_timeout`] from its headers to its answer (reading the body
//! and handling it) and answers 408 with `Connection: close` past it, so a client that stops
//! sending its body loses the connection. An injected fault's delay is deliberate, so
//! [`excuse`] moves the deadline by it. [`StallGuard`] bounds the other direction: writing an
//! answer to a client that does not read it.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

use crate::clock;
use crate::rest;

tokio::task_local! {
    /// Milliseconds of fault delay excused in the request being handled.
    static EXCUSED_MS: Arc<AtomicU64>;
}

/// Runs `work` (one request) within `timeout` plus any fault delay it [`excuse`]s; past that,
/// 408 and the connection is closed.
pub(crate) async fn bounded(timeout: Duration, work: impl Future<Output = Response>) -> Response {
    let excused = Arc::new(AtomicU64::new(0));
    let start = clock::now();
    let work = EXCUSED_MS.scope(excused.clone(), work);
    let mut work = std::pin::pin!(work);
    loop {
        let deadline = start + timeout + Duration::from_millis(excused.load(Ordering::Relaxed));
        match tokio::time::timeout_at(deadline, work.as_mut()).await {
            Ok(response) => return response,
            Err(_) if deadline_moved(start, timeout, &excused, deadline) => {}
            Err(_) => return timed_out(timeout),
        }
    }
}

/// Whether an [`excuse`] moved the deadline past `passed` while waiting for it.
fn deadline_moved(
    start: tokio::time::Instant,
    timeout: Duration,
    excused: &AtomicU64,
    passed: tokio::time::Instant,
) -> bool {
    start + timeout + Duration::from_millis(excused.load(Ordering::Relaxed)) > passed
}

/// Moves the current request's deadline by `delay` (an injected fault's wait). Outside
/// [`bounded`] it does nothing.
pub(crate) fn excuse(delay: Duration) {
    let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
    let _ = EXCUSED_MS.try_with(|excused| excused.fetch_add(ms, Ordering::Relaxed));
}

/// 408 in the REST error shape, closing the connection (its unread body cannot be skipped).
fn timed_out(timeout: Duration) -> Response {
    let message = format!(
        "The request was not received and handled within {} ms.",
        timeout.as_millis()
    );
    let mut response = rest::error(StatusCode::REQUEST_TIMEOUT, &message, 408);
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// A connection's socket whose writes fail with `TimedOut` once they have stalled (the peer
/// reads nothing) for `limit`, so hyper drops the connection.
pub(crate) struct StallGuard<T> {
    inner: T,
    limit: Duration,
    stalled: Option<Pin<Box<Sleep>>>,
}

impl<T> StallGuard<T> {
    pub(crate) fn new(inner: T, limit: Duration) -> Self {
        StallGuard {
            inner,
            limit,
            stalled: None,
        }
    }

    /// Passes a ready write result through; a pending one starts (or checks) the stall timer.
    fn watch<R>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<R>>,
    ) -> Poll<io::Result<R>> {
        if polled.is_ready() {
            self.stalled = None;
            return polled;
        }
        let limit = self.limit;
        let timer = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        ready!(timer.as_mut().poll(cx));
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the client stopped reading the answer",
        )))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for StallGuard<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for StallGuard<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.watch(cx, polled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::response::IntoResponse;
    use tokio::io::AsyncWriteExt;

    const LIMIT: Duration = Duration::from_secs(30);

    async fn wait(ms: u64) -> Response {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        StatusCode::OK.into_response()
    }

    #[tokio::test(start_paused = true)]
    async fn late_requests_get_408_and_close() {
        assert_eq!(bounded(LIMIT, wait(29_999)).await.status(), StatusCode::OK);
        let late = bounded(LIMIT, wait(30_001)).await;
        assert_eq!(late.status(), StatusCode::REQUEST_TIMEOUT);
        assert_eq!(late.headers()[header::CONNECTION], "close");
    }

    #[tokio::test(start_paused = true)]
    async fn fault_delays_are_excused() {
        let faulted = async {
            excuse(Duration::from_secs(3_600));
            wait(3_600_000 + 29_000).await
        };
        assert_eq!(bounded(LIMIT, faulted).await.status(), StatusCode::OK);
    }

    #[tokio::test(start_paused = true)]
    async fn writes_to_a_peer_that_reads_nothing_fail_after_the_limit() {
        let (near, _far) = tokio::io::duplex(16);
        let mut guarded = StallGuard::new(near, LIMIT);
        let error = guarded.write_all(&[0; 64]).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
    }
}
