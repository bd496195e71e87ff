//! Runs the real `sfmc` binary against an in-process emulator, with a private cache directory.

#![allow(clippy::unwrap_used)] // tests fail loudly on unexpected errors
#![allow(dead_code)] // each test file uses a different part

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
    "RUST_LOG",
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

pub fn cache_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

/// `sfmc ARGS` with none of the `SFMC_*` variables set.
pub fn bare(args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(SFMC);
    command.args(args).stdin(std::process::Stdio::null());
    for name in CLEARED {
        command.env_remove(name);
    }
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
