//! MCP tool-call latency for a cached-token GET (`sfmc_get_campaigns` over stdio to a real
//! `sfmc mcp` process), next to the same call through the client library in process
//! (`Client::call("getCampaigns")`) and through `sfmc call getCampaigns` (a process per call,
//! warm file cache), in one run against a release-build emulator process (`sfmc emulator`).
//! Prints p50/p99/mean per way and the emulator's token requests (3 expected: one per way).
//!
//!     cargo bench -p sfmc-cli --bench mcp_latency -- [CALLS]      (or scripts/bench-mcp)

#![allow(clippy::disallowed_methods, clippy::print_stdout, clippy::unwrap_used)] // a benchmark: wall-clock timing, prints its table, fails loudly

use std::process::Stdio;
use std::time::{Duration, Instant};

use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::TokioChildProcess;
use secrecy::SecretString;
use serde_json::json;
use sfmc_auth::{AuthBaseUrl, ConnectionSettings, TokenManager};
use sfmc_client::Client;
use sfmc_emulator::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use tokio::io::{AsyncBufReadExt, BufReader};

const SFMC: &str = env!("CARGO_BIN_EXE_sfmc");

struct Stats {
    name: &'static str,
    samples: Vec<Duration>,
}

impl Stats {
    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.samples.clone();
        sorted.sort();
        let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted[index]
    }

    fn mean(&self) -> Duration {
        self.samples.iter().sum::<Duration>() / self.samples.len() as u32
    }

    fn row(&self) -> String {
        let ms = |d: Duration| format!("{:.3} ms", d.as_secs_f64() * 1000.0);
        format!(
            "| {} | {} | {} | {} | {} |",
            self.name,
            self.samples.len(),
            ms(self.percentile(0.5)),
            ms(self.percentile(0.99)),
            ms(self.mean())
        )
    }
}

async fn start_emulator() -> (tokio::process::Child, String) {
    let mut child = tokio::process::Command::new(SFMC)
        .args(["emulator", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while let Some(line) = lines.next_line().await.unwrap() {
        if let Some(url) = line.strip_prefix("listening on ") {
            let url = url.trim().to_owned();
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return (child, url);
        }
    }
    panic!("the emulator did not say where it listens");
}

async fn library(url: &str, calls: usize) -> Stats {
    let settings = ConnectionSettings::new(
        AuthBaseUrl::parse(url).unwrap(),
        DEMO_CLIENT_ID,
        SecretString::from(DEMO_CLIENT_SECRET),
    )
    .unwrap();
    let manager = TokenManager::builder().build().unwrap();
    let client = Client::new(
        manager,
        settings,
        sfmc_client::default_http_client().unwrap(),
    );
    let params = json!({});
    for _ in 0..50 {
        client.call("getCampaigns", &params).await.unwrap();
    }
    let mut samples = Vec::with_capacity(calls);
    for _ in 0..calls {
        let start = Instant::now();
        client.call("getCampaigns", &params).await.unwrap();
        samples.push(start.elapsed());
    }
    Stats {
        name: "client library, in process",
        samples,
    }
}

async fn mcp(url: &str, dir: &std::path::Path, calls: usize) -> Stats {
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[[connections]]\nname = \"bench\"\nauth_base_uri = \"{url}\"\nclient_id = \"{DEMO_CLIENT_ID}\"\nclient_secret = \"${{BENCH_SECRET}}\"\n"
        ),
    )
    .unwrap();
    let mut command = tokio::process::Command::new(SFMC);
    command
        .args(["mcp", "--config", config.to_str().unwrap()])
        .env("BENCH_SECRET", DEMO_CLIENT_SECRET)
        .kill_on_drop(true);
    let (transport, _) = TokioChildProcess::builder(command)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let session = ().serve(transport).await.unwrap();
    let request =
        || CallToolRequestParams::new("sfmc_get_campaigns").with_arguments(Default::default());
    for _ in 0..50 {
        let result = session.call_tool(request()).await.unwrap();
        assert_eq!(result.is_error, Some(false));
    }
    let mut samples = Vec::with_capacity(calls);
    for _ in 0..calls {
        let start = Instant::now();
        let result = session.call_tool(request()).await.unwrap();
        samples.push(start.elapsed());
        assert_eq!(result.is_error, Some(false));
    }
    session.cancel().await.unwrap();
    Stats {
        name: "`sfmc mcp` tool call over stdio",
        samples,
    }
}

async fn process_per_call(url: &str, dir: &std::path::Path, calls: usize) -> Stats {
    let run = || async {
        let status = tokio::process::Command::new(SFMC)
            .args(["call", "getCampaigns"])
            .env("SFMC_AUTH_BASE_URI", url)
            .env("SFMC_CLIENT_ID", DEMO_CLIENT_ID)
            .env("SFMC_CLIENT_SECRET", DEMO_CLIENT_SECRET)
            .env("SFMC_CACHE_DIR", dir.join("cache"))
            .env_remove("SFMC_CONFIG")
            .env("XDG_CONFIG_HOME", dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await
            .unwrap();
        assert!(status.success());
    };
    for _ in 0..10 {
        run().await;
    }
    let mut samples = Vec::with_capacity(calls);
    for _ in 0..calls {
        let start = Instant::now();
        run().await;
        samples.push(start.elapsed());
    }
    Stats {
        name: "`sfmc call getCampaigns`, a process per call",
        samples,
    }
}

fn main() {
    let calls: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(2000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (_emulator, url) = start_emulator().await;
        let dir = std::env::temp_dir().join(format!("sfmc-bench-mcp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // Ten campaigns, so the GET answers a realistic page.
        let seed = Client::new(
            TokenManager::builder().build().unwrap(),
            ConnectionSettings::new(AuthBaseUrl::parse(&url).unwrap(), DEMO_CLIENT_ID, SecretString::from(DEMO_CLIENT_SECRET)).unwrap(),
            sfmc_client::default_http_client().unwrap(),
        );
        for i in 0..10 {
            seed.call("createCampaign", &json!({"name": format!("Campaign {i}"), "description": "bench"})).await.unwrap();
        }
        let library = library(&url, calls).await;
        let mcp = mcp(&url, &dir, calls).await;
        let cli = process_per_call(&url, &dir, calls.min(300)).await;
        let stats: serde_json::Value = reqwest::get(format!("{url}/_emulator/stats")).await.unwrap().json().await.unwrap();
        println!("| way | calls | p50 | p99 | mean |");
        println!("| --- | --- | --- | --- | --- |");
        for way in [&library, &mcp, &cli] {
            println!("{}", way.row());
        }
        let gap = |p: f64| (mcp.percentile(p).as_secs_f64() - library.percentile(p).as_secs_f64()) * 1000.0;
        println!("\nMCP minus library: p50 {:+.3} ms, p99 {:+.3} ms (target: within 1 ms)", gap(0.5), gap(0.99));
        println!("emulator token requests: {} (4 expected: one each for the seeding client, the library, `sfmc mcp` and the `sfmc call` file cache)", stats["token_requests"]);
        let _ = std::fs::remove_dir_all(&dir);
    });
}
