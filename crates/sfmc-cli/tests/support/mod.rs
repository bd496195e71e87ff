//! Runs the real `sfmc` binary against an in-process emulator, with a private cache directory.

#![allow(clippy::unwrap_used)] // tests fail loudly on unexpected errors
#![allow(dead_code)] // each test file uses a different part

pub mod gateway;

use std::path::{Path, PathBuf};
use std::process::Output;

use sfmc_emulator::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, EmulatorConfig, RunningEmulator};

/// The binary under test.
pub const SFMC: &str = env!("CARGO_BIN_EXE_sfmc");

/// Variables that must not leak in from the developer's or CI's environment.
const CLEARED: &[&str] = &[
    "SFMC_SUBDOMAIN",
    "SFMC_AUTH_BASE_URI",
    "SFMC_CLIENT_ID",
    "SFMC_CLIENT_SECRET",
    "SFMC_ACCOUNT_ID",
    "SFMC_SCOPE",
    "SFMC_TOKEN_CACHE",
    "SFMC_CACHE_DIR",
    "SFMC_LOAD_TIMEOUT",
    "SFMC_TOKEN_CACHE_PREFIX",
    "SFMC_DANGEROUSLY_ALLOW_AUTH_HOST",
    "SFMC_CONFIG",
    "SFMC_CONNECTION",
    "RUST_LOG",
    "NO_PROXY",
    "no_proxy",
    "REQUEST_METHOD",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
];

/// An emulator and a cache directory for one test.
pub struct Env {
    pub emulator: RunningEmulator,
    pub cache_dir: PathBuf,
}

impl Env {
    pub async fn new(name: &str) -> Self {
        Self::with_config(name, EmulatorConfig::demo()).await
    }

    pub async fn with_config(name: &str, config: EmulatorConfig) -> Self {
        let emulator = sfmc_emulator::start(config, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let cache_dir = std::env::temp_dir().join(format!(
            "sfmc-cli-test-{name}-{}-{}",
            std::process::id(),
            emulator.addr().port()
        ));
        let _ = std::fs::remove_dir_all(&cache_dir);
        Self {
            emulator,
            cache_dir,
        }
    }

    /// `sfmc ARGS` with the demo package's settings in the environment.
    pub fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut command = bare(args);
        command
            .env("SFMC_AUTH_BASE_URI", self.emulator.url())
            .env("SFMC_CLIENT_ID", DEMO_CLIENT_ID)
            .env("SFMC_CLIENT_SECRET", DEMO_CLIENT_SECRET)
            .env("SFMC_CACHE_DIR", &self.cache_dir);
        command
    }

    pub async fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().await.unwrap()
    }

    pub fn token_requests(&self) -> u64 {
        self.emulator.stats().token_requests
    }

    pub fn cache_files(&self) -> Vec<PathBuf> {
        cache_files(&self.cache_dir)
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.cache_dir);
    }
}

/// The cached token files in `dir` (not the lock files beside them).
pub fn cache_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "token"))
                .collect()
        })
        .unwrap_or_default()
}

/// Every name in `dir` (none if it does not exist), sorted.
pub fn dir_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Starts every command before waiting for any (so they run at once), then collects their
/// outputs in order.
pub async fn run_all(commands: impl IntoIterator<Item = tokio::process::Command>) -> Vec<Output> {
    let children: Vec<_> = commands
        .into_iter()
        .map(|mut command| {
            command
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("start sfmc")
        })
        .collect();
    let mut outputs = Vec::with_capacity(children.len());
    for child in children {
        outputs.push(child.wait_with_output().await.expect("sfmc output"));
    }
    outputs
}

/// `sfmc ARGS` with none of the `SFMC_*` variables set.
pub fn bare(args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(SFMC);
    command.args(args).stdin(std::process::Stdio::null());
    for name in CLEARED {
        command.env_remove(name);
    }
    // Never the developer's own config file.
    command.env("XDG_CONFIG_HOME", "/nonexistent/sfmc-test-config");
    command
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\n{}",
            stdout(output),
            stderr(output)
        )
    })
}

pub fn code(output: &Output) -> i32 {
    output.status.code().expect("exited with a code")
}

/// A loopback HTTP server that records every request it receives (head and body, as text) and
/// answers each with what `respond` returns for its request line, then closes the connection.
/// As a proxy it records `CONNECT host:port` lines and refuses the tunnel.
pub struct Stub {
    addr: std::net::SocketAddr,
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Stub {
    pub async fn start(respond: impl Fn(&str) -> String + Send + Sync + 'static) -> Self {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (log, respond) = (requests.clone(), std::sync::Arc::new(respond));
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (log, respond) = (log.clone(), respond.clone());
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 4096];
                    while let Ok(n) = socket.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                        request.extend_from_slice(&buf[..n]);
                        if complete(&request) {
                            break;
                        }
                    }
                    let text = String::from_utf8_lossy(&request).into_owned();
                    let answer = respond(text.lines().next().unwrap_or(""));
                    log.lock().unwrap().push(text);
                    let _ = socket.write_all(answer.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        Self { addr, requests }
    }

    /// A proxy that refuses every request (`403`), recording it.
    pub async fn proxy() -> Self {
        Self::start(|_| answer("403 Forbidden", "text/plain", "no")).await
    }

    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// Whether `request` holds a whole head and its `content-length` body.
fn complete(request: &[u8]) -> bool {
    let text = String::from_utf8_lossy(request);
    let Some(head_end) = text.find("\r\n\r\n") else {
        return false;
    };
    let len = text[..head_end]
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
        })
        .unwrap_or(0);
    request.len() >= head_end + 4 + len
}

/// A whole HTTP/1.1 answer.
pub fn answer(status: &str, content_type: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}
