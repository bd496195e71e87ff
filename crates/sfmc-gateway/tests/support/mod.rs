//! A gateway in this process in front of an emulator whose every request is recorded (method,
//! URI and headers as they reached it), with a gate that can hold requests to chosen paths until
//! the test releases them. Loopback only.

#![allow(clippy::unwrap_used)] // tests fail loudly on unexpected errors
#![allow(dead_code)] // each test file uses a different part

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Request;
use axum::http::HeaderMap;
use axum::middleware::Next;
use secrecy::SecretString;
use sfmc_auth::config::{ConnectionConfig, ServerConfig};
use sfmc_auth::store::TokenStore;
use sfmc_auth::{AuthBaseUrl, ConnectionSettings, TokenManager};
use sfmc_client::Connections;
use sfmc_emulator::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, EmulatorConfig, EmulatorHandle};
use sfmc_gateway::Gateway;
use tokio::sync::{Notify, oneshot, watch};

/// What reached the upstream.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Path and query, as received.
    pub uri: String,
    pub headers: HeaderMap,
}

/// Holds requests whose path starts with a prefix until released.
#[derive(Default)]
struct Gate {
    prefix: Mutex<Option<String>>,
    arrived: Notify,
    waiting: std::sync::atomic::AtomicUsize,
}

/// The emulator behind a recording layer.
pub struct Upstream {
    pub addr: SocketAddr,
    pub handle: EmulatorHandle,
    seen: Arc<Mutex<Vec<Seen>>>,
    gate: Arc<Gate>,
    open_tx: watch::Sender<bool>,
    _task: tokio::task::JoinHandle<()>,
}

impl Upstream {
    pub async fn start() -> Self {
        Self::start_with(EmulatorConfig::demo()).await
    }

    pub async fn start_with(config: EmulatorConfig) -> Self {
        // A deep backlog: the stampede tests open thousands of connections at once.
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(4096).unwrap();
        let addr = listener.local_addr().unwrap();
        let (app, handle) = sfmc_emulator::router(config);
        handle.set_listen_addr(addr);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (open_tx, open_rx) = watch::channel(true);
        let gate = Arc::new(Gate::default());
        let (log, gate2) = (seen.clone(), gate.clone());
        let record = move |request: Request, next: Next| {
            let (log, gate, mut open) = (log.clone(), gate2.clone(), open_rx.clone());
            async move {
                log.lock().unwrap().push(Seen {
                    method: request.method().to_string(),
                    uri: request.uri().to_string(),
                    headers: request.headers().clone(),
                });
                let held = gate
                    .prefix
                    .lock()
                    .unwrap()
                    .as_deref()
                    .is_some_and(|p| request.uri().path().starts_with(p));
                if held {
                    gate.waiting
                        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    gate.arrived.notify_waiters();
                    let _ = open.wait_for(|open| *open).await;
                }
                next.run(request).await
            }
        };
        let app = app.layer(axum::middleware::from_fn(record));
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            addr,
            handle,
            seen,
            gate,
            open_tx,
            _task: task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Requests other than token requests.
    pub fn api_seen(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| !s.uri.starts_with("/v2/token"))
            .collect()
    }

    pub fn token_requests(&self) -> u64 {
        self.handle.stats().token_requests
    }

    /// Holds every later request whose path starts with `prefix`.
    pub fn hold(&self, prefix: &str) {
        *self.gate.prefix.lock().unwrap() = Some(prefix.to_owned());
        let _ = self.open_tx.send(false);
    }

    /// Waits until `n` requests are held.
    pub async fn held(&self, n: usize) {
        loop {
            let arrived = self.gate.arrived.notified();
            if self.gate.waiting.load(std::sync::atomic::Ordering::SeqCst) >= n {
                return;
            }
            tokio::time::timeout(Duration::from_secs(30), arrived)
                .await
                .expect("held requests arrive");
        }
    }

    /// Lets held requests go, and holds no more.
    pub fn release(&self) {
        *self.gate.prefix.lock().unwrap() = None;
        let _ = self.open_tx.send(true);
    }
}

/// The demo package's settings against `upstream`, in business unit `account_id` if given.
pub fn settings(upstream: &Upstream, account_id: Option<&str>) -> ConnectionSettings {
    let settings = ConnectionSettings::new(
        AuthBaseUrl::parse(&upstream.url()).unwrap(),
        DEMO_CLIENT_ID,
        SecretString::from(DEMO_CLIENT_SECRET),
    )
    .unwrap();
    match account_id {
        Some(mid) => settings.with_account_id(mid).unwrap(),
        None => settings,
    }
}

/// A token manager in memory, with `store` as its shared tier when given.
pub fn manager(store: Option<Arc<dyn TokenStore>>) -> TokenManager {
    let mut builder = TokenManager::builder();
    if let Some(store) = store {
        builder = builder.store(store);
    }
    builder.build().unwrap()
}

/// A running gateway.
pub struct Running {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Running {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    /// `GET path` with the inbound key `key` as a bearer token.
    pub async fn get_with_key(&self, path: &str, key: &str) -> reqwest::Response {
        let request = self.http.get(self.url(path)).bearer_auth(key);
        request.send().await.unwrap()
    }

    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let response = self.get(path).await;
        let status = response.status().as_u16();
        (
            status,
            response.json().await.unwrap_or(serde_json::Value::Null),
        )
    }

    /// Signals shutdown and waits for `serve` to return.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.take().unwrap().await.unwrap()
    }
}

/// A gateway over `connections` with `server` settings (listen on 127.0.0.1:0), and `mounts`.
pub async fn start_with(
    connections: Connections,
    server: ServerConfig,
    mounts: Vec<(&str, axum::Router)>,
) -> Running {
    let mut gateway = Gateway::new(connections, &server).unwrap();
    for (path, router) in mounts {
        gateway = gateway.mount(path, router).unwrap();
    }
    let listening = gateway.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = listening.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(listening.serve(async move {
        let _ = stopped.await;
    }));
    Running {
        addr,
        http: client(),
        stop: Some(stop),
        task: Some(task),
    }
}

/// The usual gateway: one connection "demo" to `upstream`, default `[server]`.
pub async fn start(upstream: &Upstream) -> Running {
    start_server(upstream, ServerConfig::default()).await
}

pub async fn start_server(upstream: &Upstream, server: ServerConfig) -> Running {
    start_with(connections(upstream, manager(None)), server, Vec::new()).await
}

/// Connection "demo" (the package's own business unit) over `manager`.
pub fn connections(upstream: &Upstream, manager: TokenManager) -> Connections {
    let configs = vec![ConnectionConfig {
        name: "demo".into(),
        settings: settings(upstream, None),
    }];
    Connections::new(
        manager,
        sfmc_client::default_http_client().unwrap(),
        &configs,
    )
}

/// A client for the gateway (no proxy, a generous pool).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// One request written as-is on a new connection (no client normalizes its path): the status
/// and the body.
pub async fn raw(addr: SocketAddr, method: &str, target: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request =
        format!("{method} {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer))
        .await
        .expect("an answer");
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}

/// Sends the head of a POST declaring a 10-byte body, then 2 bytes, and waits: the status and
/// body of the answer.
pub async fn trickled_post(addr: SocketAddr, target: &str) -> (u16, serde_json::Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {target} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{{\""
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut answer))
        .await
        .expect("an answer before the body is complete")
        .unwrap();
    let text = String::from_utf8_lossy(&answer[..read]).into_owned();
    let status = text.split(' ').nth(1).unwrap().parse().unwrap();
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(body).unwrap_or_default())
}
