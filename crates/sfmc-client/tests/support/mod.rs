//! Test support: a fake token endpoint (tokens `token-1`, `token-2`, … whose instance URL is a
//! scripted server) and a scripted axum server that records every request and answers from a
//! script.

#![allow(clippy::unwrap_used, clippy::disallowed_methods, dead_code)]

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use secrecy::SecretString;
use sfmc_auth::endpoint::BoxFuture;
use sfmc_auth::{
    AuthBaseUrl, AuthError, ConnectionSettings, TokenEndpoint, TokenManager, TokenResponse,
    TokioClock,
};
use sfmc_client::{Client, ClientConfig};

/// Issues `token-N` for the N-th request, with `rest_instance_url` = the scripted server.
#[derive(Debug)]
pub struct FakeTokens {
    rest_url: String,
    issued: AtomicU64,
}

impl FakeTokens {
    pub fn issued(&self) -> u64 {
        self.issued.load(Ordering::SeqCst)
    }
}

impl TokenEndpoint for FakeTokens {
    fn request_token<'a>(
        &'a self,
        settings: &'a ConnectionSettings,
    ) -> BoxFuture<'a, Result<TokenResponse, AuthError>> {
        let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
        let mid = settings.account_id().unwrap_or("own");
        let body = serde_json::json!({
            "access_token": format!("token-{n}-{mid}"),
            "token_type": "Bearer",
            "expires_in": 1079,
            "scope": "campaign_read campaign_write",
            "rest_instance_url": self.rest_url,
        });
        Box::pin(async move { TokenResponse::parse(body.to_string().as_bytes()) })
    }
}

/// A request as the scripted server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub authorization: String,
    pub body: String,
    /// Tokio time since the server started.
    pub at: Duration,
}

/// An answer of the script.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub retry_after: Option<&'static str>,
    /// Never answer (until the client goes away).
    pub stall: bool,
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self {
            status,
            body: body.to_string(),
            retry_after: None,
            stall: false,
        }
    }

    pub fn error(status: u16, errorcode: i64, message: &str) -> Self {
        Self::json(
            status,
            serde_json::json!({"message": message, "errorcode": errorcode, "documentation": "https://developer.salesforce.com/docs"}),
        )
    }

    pub fn with_retry_after(mut self, seconds: &'static str) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn stall() -> Self {
        Self {
            status: 200,
            body: String::new(),
            retry_after: None,
            stall: true,
        }
    }
}

type Answer = dyn Fn(&Seen) -> Reply + Send + Sync;

/// Notes when a stalled handler is dropped (the client went away).
pub struct Stalls {
    pub started: tokio::sync::Notify,
    pub dropped: tokio::sync::Notify,
    pub in_flight: AtomicU64,
}

struct InFlight(Arc<Stalls>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.0.dropped.notify_one();
    }
}

/// The scripted server.
pub struct Server {
    pub url: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    pub stalls: Arc<Stalls>,
}

impl Server {
    /// Answers each request with the next reply of `script` (500 when it runs out).
    pub async fn scripted(script: Vec<Reply>) -> Self {
        let queue = Mutex::new(VecDeque::from(script));
        Self::answering(move |_| {
            queue
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or_else(|| Reply::error(500, 500, "script exhausted: unexpected request"))
        })
        .await
    }

    /// Answers each request with `answer(request)`.
    pub async fn answering(answer: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Self {
        let answer: Arc<Answer> = Arc::new(answer);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stalls = Arc::new(Stalls {
            started: tokio::sync::Notify::new(),
            dropped: tokio::sync::Notify::new(),
            in_flight: AtomicU64::new(0),
        });
        let origin = tokio::time::Instant::now();
        let app = {
            let seen = seen.clone();
            let stalls = stalls.clone();
            Router::new().fallback(move |request: Request| {
                let (answer, seen, stalls) = (answer.clone(), seen.clone(), stalls.clone());
                async move { handle(request, &*answer, &seen, stalls, origin).await }
            })
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, seen, stalls }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// A client whose tokens point at this server.
    pub fn client(&self) -> (Client, Arc<FakeTokens>) {
        self.client_with(ClientConfig::default())
    }

    pub fn client_with(&self, config: ClientConfig) -> (Client, Arc<FakeTokens>) {
        let tokens = Arc::new(FakeTokens {
            rest_url: self.url.clone(),
            issued: AtomicU64::new(0),
        });
        let manager = TokenManager::builder()
            .endpoint(tokens.clone())
            .clock(Arc::new(TokioClock::new(1_700_000_000_000)))
            .build()
            .unwrap();
        let settings = ConnectionSettings::new(
            AuthBaseUrl::parse("http://127.0.0.1:9/").unwrap(),
            "test-client",
            SecretString::from("test-secret"),
        )
        .unwrap();
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        (
            Client::new(manager, settings, http).with_config(config),
            tokens,
        )
    }
}

async fn handle(
    request: Request,
    answer: &Answer,
    seen: &Mutex<Vec<Seen>>,
    stalls: Arc<Stalls>,
    origin: tokio::time::Instant,
) -> Response {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, 1 << 20).await.unwrap_or_default();
    let record = Seen {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        authorization: parts
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        body: String::from_utf8_lossy(&body).into_owned(),
        at: origin.elapsed(),
    };
    let reply = answer(&record);
    seen.lock().unwrap().push(record);
    if reply.stall {
        stalls.in_flight.fetch_add(1, Ordering::SeqCst);
        let _guard = InFlight(stalls.clone());
        stalls.started.notify_one();
        std::future::pending::<()>().await;
    }
    let mut response = Response::new(Body::from(reply.body));
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap();
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    if let Some(seconds) = reply.retry_after {
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from_static(seconds));
    }
    response
}
