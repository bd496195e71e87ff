//! One worker's keep-alive HTTP/1 connections to one direct origin ([`Pool`]): what
//! `hyper_util`'s legacy client does for the proxy, less what the gateway does not need. A pool
//! belongs to one worker thread and one origin, so a request hashes no pool key and takes no
//! contended lock; the answer's body puts its connection back when it ends, so no task is
//! spawned per request to watch for it; and a request never races a new connection against a
//! checkout.
//!
//! - **Checkout:** the most recently returned connection that is ready (one handed back at the
//!   end of an answer may still be finishing it, or still sending the body of a request the
//!   server answered early: it waits in the pool until it is ready); closed connections and
//!   those idle for longer than [`IDLE_TIMEOUT`] are dropped; with none ready, or for a request
//!   marked [`NewConnection`], a new connection (connect timeout and TLS as the connector says).
//! - **Never sent twice here:** a request that could not be written on a reused connection (the
//!   server closed it while it was idle) is sent again on another one; a request once written
//!   is never sent again by the pool. When a reused connection is closed or reset after the
//!   request was written and before any byte of an answer (a connection counts what it reads,
//!   module `counted`; a partial head or a `100 Continue` is an answer), or without a TLS
//!   `close_notify`, the error says so ([`UpstreamError::Dropped`]): the caller may send again a
//!   request that is safe to repeat.
//! - **Given back only whole:** an answer whose body is dropped before its end, or fails, takes
//!   its connection with it (hyper closes it); at most [`MAX_IDLE`] connections wait idle.
//! - **Cancellation:** a caller that goes away while connecting or waiting for an answer drops
//!   that one connection; nothing shared is left half-done. Checkout never waits.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, Uri, header};
use bytes::Bytes;
use http_body::{Body as _, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use tower_service::Service;

use self::counted::{Counted, ReadCount};
use super::{NewConnection, UpstreamError, error_chain};

mod counted;

/// How long a connection may wait idle before it is no longer used.
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// The most connections one pool keeps idle.
pub(crate) const MAX_IDLE: usize = 512;

/// Now on tokio's clock (paused in tests): the time base of idle ages.
#[allow(clippy::disallowed_methods)] // idle ages only; tests advance tokio's paused clock
fn now() -> tokio::time::Instant {
    tokio::time::Instant::now()
}

/// A connection waiting for its next request.
struct Idle {
    sender: SendRequest<Body>,
    read: ReadCount,
    since: tokio::time::Instant,
}

/// Idle connections to one origin, and how to open more.
pub(crate) struct Pool {
    connector: HttpsConnector<HttpConnector>,
    /// `scheme://authority/`: where to connect.
    origin: Uri,
    /// The `Host` header of every request.
    host: HeaderValue,
    idle: Mutex<VecDeque<Idle>>,
}

impl Pool {
    /// A pool for `origin` (`scheme://authority/`), whose requests carry `host`.
    pub(crate) fn new(
        connector: HttpsConnector<HttpConnector>,
        origin: Uri,
        host: HeaderValue,
    ) -> Self {
        Self {
            connector,
            origin,
            host,
            idle: Mutex::new(VecDeque::new()),
        }
    }

    /// Sends `request` (an absolute URI on this pool's origin) and returns the answer, whose
    /// body gives the connection back when it ends.
    pub(crate) async fn send(
        self: &Arc<Self>,
        mut request: Request<Body>,
    ) -> Result<Response<Body>, UpstreamError> {
        let origin_form = request
            .uri()
            .path_and_query()
            .map_or_else(|| Uri::from_static("/"), |path| Uri::from(path.clone()));
        *request.uri_mut() = origin_form;
        request
            .headers_mut()
            .insert(header::HOST, self.host.clone());
        let new_connection = request.extensions_mut().remove::<NewConnection>().is_some();
        loop {
            let checked_out = if new_connection {
                None
            } else {
                self.checkout()
            };
            let (mut sender, read, reused) = match checked_out {
                Some((sender, read)) => (sender, read, true),
                None => {
                    let (sender, read) = self.connect().await?;
                    (sender, read, false)
                }
            };
            let read_before = read.get();
            match sender.try_send_request(request).await {
                Ok(response) => return Ok(self.lease(sender, read, response)),
                Err(mut error) => match error.take_message() {
                    Some(unsent) if reused => request = unsent,
                    _ => {
                        let error = error.into_error();
                        let reason = error_chain(&error);
                        let unanswered = read.get() == read_before;
                        return Err(if reused && unanswered && closed_or_reset(&error) {
                            UpstreamError::Dropped(reason)
                        } else {
                            UpstreamError::Failed(reason)
                        });
                    }
                },
            }
        }
    }

    /// The number of idle connections (for tests).
    #[cfg(test)]
    pub(crate) fn idle_count(&self) -> usize {
        self.idle().len()
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, VecDeque<Idle>> {
        // The queue holds no invariant a panic could break halfway.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The most recently returned connection that is ready now; `None` when there is none.
    /// Closed and expired connections met on the way are dropped. One not ready yet (its
    /// connection still finishing an answer, or still sending the body of a request answered
    /// early) is left for later rather than waited for: waiting would tie this request to
    /// another caller's upload.
    fn checkout(&self) -> Option<(SendRequest<Body>, ReadCount)> {
        let mut idle = self.idle();
        let now = now();
        let mut index = idle.len();
        while index > 0 {
            index -= 1;
            let entry = &idle[index];
            if entry.sender.is_closed() || now.duration_since(entry.since) >= IDLE_TIMEOUT {
                idle.remove(index);
            } else if entry.sender.is_ready() {
                return idle.remove(index).map(|entry| (entry.sender, entry.read));
            }
        }
        None
    }

    /// A new connection, its I/O driven by a task on this thread's runtime, and the count of
    /// bytes read from it.
    async fn connect(&self) -> Result<(SendRequest<Body>, ReadCount), UpstreamError> {
        let mut connector = self.connector.clone();
        let failed = |error: Box<dyn std::error::Error + Send + Sync>| {
            UpstreamError::Failed(error_chain(&*error))
        };
        std::future::poll_fn(|cx| connector.poll_ready(cx))
            .await
            .map_err(failed)?;
        let io = connector.call(self.origin.clone()).await.map_err(failed)?;
        let (io, read) = Counted::wrap(io);
        let (sender, connection) = http1::Builder::new()
            .handshake(io)
            .await
            .map_err(|error| UpstreamError::Failed(error_chain(&error)))?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(error = %error_chain(&error), "upstream connection ended");
            }
        });
        Ok((sender, read))
    }

    /// The answer, its body holding the connection until it ends.
    fn lease(
        self: &Arc<Self>,
        sender: SendRequest<Body>,
        read: ReadCount,
        response: Response<Incoming>,
    ) -> Response<Body> {
        let mut lease = Some(Lease {
            sender,
            read,
            pool: self.clone(),
        });
        if response.body().is_end_stream()
            && let Some(lease) = lease.take()
        {
            lease.give_back();
        }
        response.map(|body| Body::new(Leased { body, lease }))
    }

    fn put(&self, sender: SendRequest<Body>, read: ReadCount) {
        let now = now();
        let mut idle = self.idle();
        while idle
            .front()
            .is_some_and(|oldest| now.duration_since(oldest.since) >= IDLE_TIMEOUT)
        {
            idle.pop_front();
        }
        if idle.len() < MAX_IDLE {
            idle.push_back(Idle {
                sender,
                read,
                since: now,
            });
        }
    }
}

/// Whether the connection was closed or reset (rather than answered wrongly, or the request
/// failing on our side); the caller knows whether any answer came before. A TLS connection
/// closed without `close_notify` is an `UnexpectedEof` from rustls.
fn closed_or_reset(error: &hyper::Error) -> bool {
    let reset = std::error::Error::source(error)
        .and_then(|source| source.downcast_ref::<std::io::Error>())
        .is_some_and(|io| {
            matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::UnexpectedEof
            )
        });
    error.is_incomplete_message() || reset
}

/// A connection lent to one answer.
struct Lease {
    sender: SendRequest<Body>,
    read: ReadCount,
    pool: Arc<Pool>,
}

impl Lease {
    fn give_back(self) {
        self.pool.put(self.sender, self.read);
    }
}

/// An answer's body; gives its connection back to the pool once read to its end.
struct Leased {
    body: Incoming,
    lease: Option<Lease>,
}

impl http_body::Body for Leased {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let frame = ready!(Pin::new(&mut self.body).poll_frame(cx));
        match &frame {
            None => self.give_back(),
            Some(Ok(_)) if self.body.is_end_stream() => self.give_back(),
            Some(Ok(_)) => {}
            // The connection is in no state to be used again: hyper closes it.
            Some(Err(_)) => self.lease = None,
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl Leased {
    fn give_back(&mut self) {
        if let Some(lease) = self.lease.take() {
            lease.give_back();
        }
    }
}

impl Drop for Leased {
    /// A body dropped at its end (a server stops polling once `is_end_stream` says so) gives
    /// the connection back; one dropped before takes it along.
    fn drop(&mut self) {
        if self.body.is_end_stream() {
            self.give_back();
        }
    }
}

#[cfg(test)]
mod reuse_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tls_tests;
