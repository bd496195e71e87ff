//! Single flight across processes with only the file cache (issue 7, item 6): 20 `sfmc token`
//! runs started at once on one machine, sharing one cache directory and no Redis, make exactly
//! one token request, and all print the same token. Old code: 16–20 requests.

#![allow(clippy::unwrap_used)] // tests fail loudly on unexpected errors

mod support;

use std::collections::HashSet;

use support::{Env, code, dir_names, run_all, stderr, stdout};

const RUNS: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_parallel_cold_runs_sharing_a_cache_dir_make_one_token_request() {
    let env = Env::new("file-single-flight").await;

    // All twenty started before any is waited for; the cache directory does not exist yet.
    let outputs = run_all((0..RUNS).map(|_| env.command(&["token", "--raw"]))).await;
    let mut tokens = HashSet::new();
    for (i, output) in outputs.iter().enumerate() {
        assert_eq!(code(output), 0, "run {i}: {}", stderr(output));
        tokens.insert(stdout(output).trim_end().to_owned());
    }

    assert_eq!(env.token_requests(), 1, "one token request");
    assert_eq!(tokens.len(), 1, "all {RUNS} runs print the same token");
    // One cache file (beside its lock file) and no leftover temporaries.
    let names = dir_names(&env.cache_dir);
    assert_eq!(
        names.iter().filter(|n| n.ends_with(".token")).count(),
        1,
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n.ends_with(".tmp")), "{names:?}");
}
