//! Single flight across processes with only the file cache (issue 7, item 6): 20 `sfmc token`
//! runs started at once on one machine, sharing one cache directory and no Redis, make exactly
//! one token request, and all print the same token. Old code: 16–20 requests.

#![allow(clippy::unwrap_used)] // tests fail loudly on unexpected errors

mod support;

use std::collections::HashSet;
use std::process::Stdio;

use support::{Env, code, stderr, stdout};

const RUNS: usize = 20;

/// `token_requests` as `GET /_emulator/stats` reports it.
async fn token_requests_over_http(env: &Env) -> u64 {
    let url = format!(
        "{}/_emulator/stats",
        env.emulator.url().trim_end_matches('/')
    );
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let stats: serde_json::Value = client
        .get(url)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    stats["token_requests"]
        .as_u64()
        .unwrap_or_else(|| panic!("no token_requests in {stats}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_parallel_cold_runs_sharing_a_cache_dir_make_one_token_request() {
    let env = Env::new("file-single-flight").await;

    // All twenty started before any is waited for; the cache directory does not exist yet.
    let children: Vec<_> = (0..RUNS)
        .map(|_| {
            env.command(&["token", "--raw"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut tokens = HashSet::new();
    for (i, child) in children.into_iter().enumerate() {
        let output = child.wait_with_output().await.unwrap();
        assert_eq!(code(&output), 0, "run {i}: {}", stderr(&output));
        tokens.insert(stdout(&output).trim_end().to_owned());
    }

    assert_eq!(token_requests_over_http(&env).await, 1, "one token request");
    assert_eq!(env.token_requests(), 1);
    assert_eq!(tokens.len(), 1, "all {RUNS} runs print the same token");
    // One cache file (plus its lock file) and no leftover temporaries.
    let names: Vec<String> = env
        .cache_files()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names.iter().filter(|n| n.ends_with(".token")).count(),
        1,
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n.ends_with(".tmp")), "{names:?}");
}
