//! Client GET throughput for `scripts/bench-client`: `DURATION_SECS` seconds of `GET PATH`
//! through [`sfmc_client::Client`] (the full send path: token, retries policy, body read) with
//! `IN_FLIGHT` requests in flight on one thread, against an emulator at `AUTH_BASE_URL` with its
//! demo package. Prints one JSON line: requests, requests/s, p50 and p99 latency in ms, errors.
//!
//! `cargo run --release --example bench_get -- AUTH_BASE_URL PATH DURATION_SECS IN_FLIGHT`

#![allow(clippy::disallowed_methods, clippy::print_stdout)] // a benchmark reads the clock and prints

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use secrecy::SecretString;
use sfmc_auth::{AuthBaseUrl, ConnectionSettings, TokenManager};
use sfmc_client::{Client, Method, default_http_client};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base, path, seconds, in_flight] = args.as_slice() else {
        return Err("usage: bench_get AUTH_BASE_URL PATH DURATION_SECS IN_FLIGHT".into());
    };
    let duration = Duration::from_secs(seconds.parse()?);
    let in_flight: usize = in_flight.parse()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let settings = ConnectionSettings::new(
            AuthBaseUrl::parse(base)?,
            sfmc_emulator::DEMO_CLIENT_ID,
            SecretString::from(sfmc_emulator::DEMO_CLIENT_SECRET),
        )?;
        let manager = TokenManager::builder().build()?;
        let client = Client::new(manager, settings, default_http_client()?);
        let one = |client: Client, path: String| async move {
            let started = Instant::now();
            let ok = client.request(Method::GET, path).send().await.is_ok();
            (started.elapsed(), ok)
        };
        // Warm-up: the token and the connections.
        let mut warm = FuturesUnordered::new();
        for _ in 0..in_flight * 4 {
            warm.push(one(client.clone(), path.clone()));
        }
        while warm.next().await.is_some() {}
        let mut latencies = Vec::with_capacity(1 << 20);
        let mut errors = 0_u64;
        let mut open = FuturesUnordered::new();
        let started = Instant::now();
        for _ in 0..in_flight {
            open.push(one(client.clone(), path.clone()));
        }
        while let Some((latency, ok)) = open.next().await {
            latencies.push(latency);
            errors += u64::from(!ok);
            if started.elapsed() < duration {
                open.push(one(client.clone(), path.clone()));
            }
        }
        let elapsed = started.elapsed().as_secs_f64();
        latencies.sort_unstable();
        let at = |q: f64| {
            let i = ((latencies.len() as f64 * q) as usize).min(latencies.len() - 1);
            latencies[i].as_secs_f64() * 1000.0
        };
        println!(
            "{{\"requests\":{},\"requests_per_sec\":{:.0},\"p50_ms\":{:.3},\"p99_ms\":{:.3},\"errors\":{errors}}}",
            latencies.len(),
            latencies.len() as f64 / elapsed,
            at(0.50),
            at(0.99)
        );
        Ok(())
    })
}
