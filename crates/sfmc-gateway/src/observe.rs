//! The layer around every route ([`ObserveLayer`]): the inbound key check ([`crate::auth`]),
//! then the request is counted in the metrics (by the labels the handler put on its answer, see
//! [`crate::metrics::Observed`]) and logged — method, path without its query, route,
//! connection, status, latency — never a header, a key or a token. A hand-written service, so a
//! request costs no boxing or cloning of the inner router here.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::auth::{self, Refusal};
use crate::error::json_error;
use crate::metrics::{Observed, Route, Timer};
use crate::state::AppState;

/// Puts the labels of an answer on it.
pub(crate) fn tagged(mut response: Response, route: Route, connection: Option<usize>) -> Response {
    response
        .extensions_mut()
        .insert(Observed { route, connection });
    response
}

/// Wraps a router in [`Observe`].
#[derive(Clone)]
pub(crate) struct ObserveLayer {
    state: Arc<AppState>,
}

impl ObserveLayer {
    pub(crate) fn new(state: Arc<AppState>) -> Self {
        Self { state }
    }
}

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Observe<S> {
        Observe {
            inner,
            state: self.state.clone(),
        }
    }
}

/// Checks keys, counts and logs around `S`.
#[derive(Clone)]
pub(crate) struct Observe<S> {
    inner: S,
    state: Arc<AppState>,
}

impl<S> Service<Request> for Observe<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Observing<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let timer = Timer::start();
        self.state.metrics.in_flight_add(1);
        let method = request.method().clone();
        let uri = request.uri().clone();
        let admitted = auth::admit(&self.state.keys, uri.path(), request.headers());
        let inner = admitted.map(|()| self.inner.call(request));
        Observing {
            inner: inner.into(),
            done: Done {
                state: self.state.clone(),
                timer,
                method,
                uri,
            },
        }
    }
}

pin_project! {
    /// The future of [`Observe`].
    pub(crate) struct Observing<F> {
        #[pin]
        inner: Admitted<F>,
        done: Done,
    }
}

pin_project! {
    /// The inner service's future, or why the request never reached it.
    #[project = AdmittedProj]
    enum Admitted<F> {
        Admitted { #[pin] inner: F },
        Refused { refusal: Refusal },
    }
}

impl<F> From<Result<F, Refusal>> for Admitted<F> {
    fn from(admitted: Result<F, Refusal>) -> Self {
        match admitted {
            Ok(inner) => Self::Admitted { inner },
            Err(refusal) => Self::Refused { refusal },
        }
    }
}

/// What is recorded when the answer is ready (or the caller went away: then only the
/// in-flight count is undone).
struct Done {
    state: Arc<AppState>,
    timer: Timer,
    method: Method,
    uri: Uri,
}

impl Drop for Done {
    fn drop(&mut self) {
        self.state.metrics.in_flight_add(-1);
    }
}

impl<F> Future for Observing<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = match this.inner.project() {
            AdmittedProj::Admitted { inner } => match ready!(inner.poll(cx)) {
                Ok(response) => response,
                Err(never) => match never {},
            },
            AdmittedProj::Refused { refusal } => refused(*refusal),
        };
        Poll::Ready(Ok(this.done.record(response)))
    }
}

impl Done {
    fn record(&self, response: Response) -> Response {
        let observed = response
            .extensions()
            .get::<Observed>()
            .copied()
            .unwrap_or(Observed {
                route: Route::Unmatched,
                connection: None,
            });
        let elapsed = self.timer.elapsed();
        let status = response.status().as_u16();
        let state = &self.state;
        state.metrics.record(observed, status, elapsed);
        if tracing::enabled!(target: "sfmc_gateway::request", tracing::Level::INFO) {
            let connection = observed
                .connection
                .and_then(|i| state.connections.get(i))
                .map_or("", |c| c.name.as_str());
            tracing::info!(
                target: "sfmc_gateway::request",
                method = %self.method,
                path = self.uri.path(),
                route = observed.route.label(state.metrics.mounts()),
                connection,
                status,
                latency_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
                "request"
            );
        }
        response
    }
}

/// 401 for a request without a valid key, 403 for a browser's request from another site.
fn refused(refusal: Refusal) -> Response {
    let response = match refusal {
        Refusal::NoKey => {
            let mut response = json_error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "this gateway requires an API key: send Authorization: Bearer KEY or X-Api-Key: KEY",
            );
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            response
        }
        Refusal::ForeignHost => json_error(
            StatusCode::FORBIDDEN,
            "forbidden_host",
            "this gateway has no API keys and answers only to loopback Host names (localhost, 127.0.0.1, [::1]); configure [server] api_keys to serve other names",
        ),
        Refusal::CrossSite => json_error(
            StatusCode::FORBIDDEN,
            "cross_site_request",
            "this gateway has no API keys and refuses browser requests from pages of other sites (Origin, Sec-Fetch-Site); configure [server] api_keys to serve them",
        ),
    };
    tagged(response, Route::Unauthorized, None)
}
