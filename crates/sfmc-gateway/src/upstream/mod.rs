//! The proxy's HTTP clients, one pooled client per REST origin (scheme, host, port), made the
//! first time the origin is seen, with `sfmc-auth`'s proxy rule decided once for it
//! ([`ProxyPolicy`]: `HTTPS_PROXY`/`NO_PROXY`; loopback and plain http always direct):
//!
//! - a direct origin (the usual case) gets a [`Pool`] of `hyper` HTTP/1.1 keep-alive
//!   connections per worker thread ([`crate::workers`], so that a request and its upstream
//!   connection share a thread) — rustls with the platform's roots for https, TCP_NODELAY —
//!   the leanest path a request can take;
//! - a proxied origin gets a `reqwest` client with that proxy (a `CONNECT` tunnel).
//!
//! Either way no redirect is followed (a redirect must not carry the token elsewhere),
//! connecting takes at most 5 s, and a whole exchange, answer body included, at most the
//! `[server] upstream_timeout_secs` ([`Deadline`]).

use std::future::Future as _;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use arc_swap::ArcSwap;
use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, Uri, header};
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use hyper_util::client::legacy::connect::HttpConnector;
use reqwest::Url;
use sfmc_auth::http::{ProxyPolicy, USER_AGENT};
use tokio::time::{Sleep, sleep};

use self::pool::Pool;

mod pool;

/// How long connecting to Marketing Cloud may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How an origin is reached.
enum Sender {
    /// A pool for each worker.
    Direct(Vec<Arc<Pool>>),
    Proxied(reqwest::Client),
}

/// Why an exchange failed.
#[derive(Debug)]
pub(crate) enum UpstreamError {
    /// No answer head within the upstream timeout.
    Timeout,
    /// Could not connect, or the connection broke (the reason names no header or body).
    Failed(String),
    /// A kept-alive connection, used again, was closed (or reset) by the server after the
    /// request was written and before any answer came: most likely the server closed it as
    /// idle while the request was on its way, so a request that is safe to repeat can be sent
    /// again on a new connection (the reason names no header or body).
    Dropped(String),
}

/// A request extension: send this request on a new connection rather than a kept-alive one (a
/// request sent again after [`UpstreamError::Dropped`]: the other idle connections may have
/// been closed by the server at the same moment, still unnoticed).
#[derive(Clone, Copy, Debug)]
pub(crate) struct NewConnection;

/// The clients, by origin.
pub(crate) struct Upstreams {
    policy: ProxyPolicy,
    timeout: Duration,
    user_agent: HeaderValue,
    clients: ArcSwap<Vec<(Origin, Arc<Sender>)>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: Option<u16>,
}

impl Origin {
    fn of(url: &Url) -> Self {
        Self {
            scheme: url.scheme().to_owned(),
            host: url.host_str().unwrap_or_default().to_owned(),
            port: url.port_or_known_default(),
        }
    }

    fn matches(&self, url: &Url) -> bool {
        self.port == url.port_or_known_default()
            && self.scheme == url.scheme()
            && url.host_str() == Some(self.host.as_str())
    }
}

impl Upstreams {
    /// Clients whose exchanges end within `timeout`, proxied as the environment says.
    pub(crate) fn new(timeout: Duration) -> Self {
        Self {
            policy: ProxyPolicy::from_env(),
            timeout,
            user_agent: HeaderValue::from_static(USER_AGENT),
            clients: ArcSwap::from_pointee(Vec::new()),
        }
    }

    /// Sends `request` (its URI under `base`, the REST instance URL) and returns the answer,
    /// its body bounded by the same deadline.
    pub(crate) async fn send(
        &self,
        base: &Url,
        mut request: Request<Body>,
    ) -> Result<Response<Body>, UpstreamError> {
        let sender = self.sender(base)?;
        if !request.headers().contains_key(header::USER_AGENT) {
            request
                .headers_mut()
                .insert(header::USER_AGENT, self.user_agent.clone());
        }
        let deadline = Box::pin(sleep(self.timeout));
        let exchange = async {
            match &*sender {
                Sender::Direct(pools) => {
                    let pool = &pools[crate::workers::worker_index() % pools.len()];
                    pool.send(request).await
                }
                Sender::Proxied(client) => {
                    let request = reqwest::Request::try_from(
                        request.map(|body| reqwest::Body::wrap_stream(body.into_data_stream())),
                    )
                    .map_err(|e| UpstreamError::Failed(error_chain(&e)))?;
                    let response = client
                        .execute(request)
                        .await
                        .map_err(|e| UpstreamError::Failed(error_chain(&e)))?;
                    Ok(http::Response::from(response).map(Body::new))
                }
            }
        };
        let mut deadline = deadline;
        let response = tokio::select! {
            biased;
            result = exchange => result?,
            () = &mut deadline => return Err(UpstreamError::Timeout),
        };
        Ok(response.map(|body| Body::new(Deadline { body, deadline })))
    }

    fn sender(&self, base: &Url) -> Result<Arc<Sender>, UpstreamError> {
        if let Some((_, sender)) = self.clients.load().iter().find(|(o, _)| o.matches(base)) {
            return Ok(sender.clone());
        }
        let sender = Arc::new(self.build(base).map_err(UpstreamError::Failed)?);
        let origin = Origin::of(base);
        self.clients.rcu(|clients| {
            let mut clients = Vec::clone(clients);
            if !clients.iter().any(|(o, _)| *o == origin) {
                clients.push((origin.clone(), sender.clone()));
            }
            Arc::new(clients)
        });
        Ok(sender)
    }

    fn build(&self, base: &Url) -> Result<Sender, String> {
        if let Some(proxy) = self.policy.proxy_for(base) {
            let proxy = reqwest::Proxy::all(proxy)
                .map_err(|_| "the HTTPS_PROXY setting is not a valid proxy URL".to_owned())?;
            let client = reqwest::Client::builder()
                .no_proxy()
                .proxy(proxy)
                .connect_timeout(CONNECT_TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| format!("cannot start an HTTP client: {e}"))?;
            return Ok(Sender::Proxied(client));
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(rustls_platform_verifier::BuilderVerifierExt::with_platform_verifier)
            .map_err(|e| format!("cannot set up TLS: {e}"))?
            .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let (origin, host) = origin_and_host(base)?;
        let pools = (0..crate::workers::count())
            .map(|_| Arc::new(Pool::new(connector.clone(), origin.clone(), host.clone())))
            .collect();
        Ok(Sender::Direct(pools))
    }
}

/// Where to connect for `base` (`scheme://host[:port]/`) and the `Host` header of its
/// requests (the port only when it is not the scheme's default).
fn origin_and_host(base: &Url) -> Result<(Uri, HeaderValue), String> {
    let host = base.host_str().unwrap_or_default();
    let authority = match base.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    let invalid = || format!("the REST instance URL has no usable host: {host}");
    let origin =
        Uri::try_from(format!("{}://{authority}/", base.scheme())).map_err(|_| invalid())?;
    let host = HeaderValue::try_from(authority).map_err(|_| invalid())?;
    Ok((origin, host))
}

/// The URI of `path` and `query` (both raw, checked by `proxy_path`) under `base`, or `None`
/// when it would not stay there.
pub(crate) fn upstream_uri(base: &Url, path: &str, query: &str) -> Option<Uri> {
    let base_text = base.as_str();
    let mut text = String::with_capacity(base_text.len() + path.len() + query.len() + 2);
    text.push_str(base_text);
    if !text.ends_with('/') {
        text.push('/');
    }
    text.push_str(path);
    if !query.is_empty() {
        text.push('?');
        text.push_str(query);
    }
    let uri = Uri::try_from(text).ok()?;
    let same_origin = uri.scheme_str() == Some(base.scheme())
        && uri.host() == base.host_str()
        && uri.port_u16().or(base.port_or_known_default()) == base.port_or_known_default()
        && uri.path().starts_with(base.path());
    same_origin.then_some(uri)
}

/// A body that fails once the exchange's deadline has passed.
struct Deadline {
    body: Body,
    deadline: Pin<Box<Sleep>>,
}

impl http_body::Body for Deadline {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        if self.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(axum::Error::new(
                "the upstream answer did not end within the upstream timeout",
            ))));
        }
        let frame = ready!(Pin::new(&mut self.body).poll_frame(cx));
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// An error and its causes on one line (connection errors name the host, never a header).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests;
