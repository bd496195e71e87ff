//! Request bodies a handler left unread are read to their end before its answer goes out, as
//! servers such as Tomcat do ("swallowing", up to [`SWALLOW_LIMIT`] bytes and for at most
//! [`SWALLOW_WAIT`]). A request answered before its body was read — a 401 from the bearer
//! check, say — then leaves the connection usable and the caller's body writes unbroken, as
//! in front of the real service, instead of a connection closed under a client still sending.
//! Beyond those bounds hyper closes the connection, as it does by default.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;
use http_body::{Body as _, Frame, SizeHint};

/// The most unread body bytes read before answering.
pub(crate) const SWALLOW_LIMIT: usize = 2 * 1024 * 1024;
/// How long the rest of an unread body may take to come in.
pub(crate) const SWALLOW_WAIT: Duration = Duration::from_secs(1);

/// Middleware: runs the request, then reads what is left of a body nobody started to read.
pub(crate) async fn swallow(request: Request, next: Next) -> Response {
    let size = request.body().size_hint();
    // Nothing to read; or more than would be read, when hyper closes the connection after the
    // answer anyway, so reading (and inviting an `Expect: 100-continue` upload) would be waste.
    if size.exact() == Some(0) || size.lower() > SWALLOW_LIMIT as u64 {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let slot = Arc::new(Mutex::new(Some(body)));
    let lent = Lent {
        slot: slot.clone(),
        body: None,
    };
    let response = next.run(Request::from_parts(parts, Body::new(lent))).await;
    let unread = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
    if let Some(body) = unread {
        let _ = tokio::time::timeout(SWALLOW_WAIT, axum::body::to_bytes(body, SWALLOW_LIMIT)).await;
    }
    response
}

/// The request body as the handler sees it: taken from the shared slot when first read.
struct Lent {
    slot: Arc<Mutex<Option<Body>>>,
    body: Option<Body>,
}

impl Lent {
    fn body(&mut self) -> Option<&mut Body> {
        if self.body.is_none() {
            self.body = self
                .slot
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
        }
        self.body.as_mut()
    }
}

impl http_body::Body for Lent {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        match self.body() {
            Some(body) => Pin::new(body).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn size_hint(&self) -> SizeHint {
        let slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        match (&self.body, &*slot) {
            (Some(body), _) | (None, Some(body)) => body.size_hint(),
            (None, None) => SizeHint::with_exact(0),
        }
    }
}
