//! Dropped callers against a slow token endpoint (issue 8), using only the public API of
//! `sfmc-auth`: five callers give up after 1 s, then one patient caller asks. Against a token
//! endpoint that answers after 2 s, the manager makes exactly one token request (the refresh runs
//! in a task of its own, so the callers that gave up cancel nothing) and the patient caller gets
//! that request's token about 1 s later.
//!
//! Run: `cargo run -p sfmc-auth --example dropped_callers`. It serves its own tiny HTTP token
//! endpoint on 127.0.0.1 and exits with an error when the outcome is not the one above. The test
//! `tests/cancellation.rs` runs the same [`scenario`] on paused tokio time.

#![allow(clippy::print_stdout)] // an example reports what it saw

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use secrecy::SecretString;
use sfmc_auth::{
    AuthBaseUrl, AuthError, ConnectionSettings, HttpTimeouts, HttpTokenEndpoint, TokenEndpoint,
    TokenManager,
};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// How many callers give up.
pub const IMPATIENT_CALLERS: usize = 5;
/// How long each of them waits.
pub const IMPATIENT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long the example's token endpoint takes to answer.
pub const ENDPOINT_DELAY: Duration = Duration::from_secs(2);

/// What [`scenario`] saw.
#[derive(Debug)]
pub struct Report {
    /// Token requests the manager sent.
    pub token_requests: u64,
    /// Impatient callers whose timeout ended their wait.
    pub timed_out: usize,
    /// The token the patient caller got.
    pub patient_token: String,
    /// How long the patient caller waited, on tokio's clock.
    pub patient_waited: Duration,
}

/// Tokio's clock (paused in tests).
#[allow(clippy::disallowed_methods)] // measuring the wait is the point of the example
fn now() -> tokio::time::Instant {
    tokio::time::Instant::now()
}

/// [`IMPATIENT_CALLERS`] callers with [`IMPATIENT_TIMEOUT`] each, all dropped by their timeout,
/// then one patient caller; against `endpoint`.
pub async fn scenario(
    endpoint: Arc<dyn TokenEndpoint>,
    settings: ConnectionSettings,
) -> Result<Report, AuthError> {
    let manager = TokenManager::builder().endpoint(endpoint).build()?;
    let handle = manager.handle(settings);
    let impatient: Vec<_> = (0..IMPATIENT_CALLERS)
        .map(|_| {
            let handle = handle.clone();
            tokio::spawn(
                async move { tokio::time::timeout(IMPATIENT_TIMEOUT, handle.token()).await },
            )
        })
        .collect();
    let mut timed_out = 0;
    for caller in impatient {
        if matches!(caller.await, Ok(Err(_elapsed))) {
            timed_out += 1;
        }
    }
    let started = now();
    let token = handle.token().await?;
    let patient_waited = now() - started;
    Ok(Report {
        token_requests: manager.token_requests(),
        timed_out,
        patient_token: token.expose().to_owned(),
        patient_waited,
    })
}

/// Answers one HTTP request on `stream` after [`ENDPOINT_DELAY`] with token `token-N`.
async fn answer(stream: TcpStream, requests: Arc<AtomicU64>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            content_length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; content_length.min(64 * 1024)];
    reader.read_exact(&mut body).await?;
    let n = requests.fetch_add(1, Ordering::SeqCst) + 1;
    tokio::time::sleep(ENDPOINT_DELAY).await;
    let json = format!(
        r#"{{"access_token":"token-{n}","token_type":"Bearer","expires_in":1079,"scope":"email_read","rest_instance_url":"http://127.0.0.1/"}}"#
    );
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{json}",
        json.len()
    );
    let mut stream = reader.into_inner();
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let requests = Arc::new(AtomicU64::new(0));
    let served = requests.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(answer(stream, served.clone()));
        }
    });

    let settings = ConnectionSettings::new(
        AuthBaseUrl::parse(&format!("http://127.0.0.1:{port}/"))?,
        "example-client",
        SecretString::from("example-secret"),
    )?;
    let endpoint = Arc::new(HttpTokenEndpoint::new(HttpTimeouts::default()));
    let report = scenario(endpoint, settings).await?;

    let seen = requests.load(Ordering::SeqCst);
    println!(
        "{} of {IMPATIENT_CALLERS} callers gave up after {} s; token requests: {} (endpoint saw {seen}); \
         the patient caller got {} after {:.2} s",
        report.timed_out,
        IMPATIENT_TIMEOUT.as_secs(),
        report.token_requests,
        report.patient_token,
        report.patient_waited.as_secs_f64(),
    );
    let expected = report.timed_out == IMPATIENT_CALLERS
        && report.token_requests == 1
        && seen == 1
        && report.patient_token == "token-1"
        && report.patient_waited < ENDPOINT_DELAY;
    if !expected {
        return Err("a dropped caller cancelled or repeated the token request".into());
    }
    Ok(())
}
