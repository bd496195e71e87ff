//! `sfmc token` processes (the real binary) sharing tokens through a real redis-server (issue 4):
//! one token request for a fleet of processes with separate file caches, sealed values in Redis,
//! a dead Redis that never fails a run, and a bad `SFMC_TOKEN_CACHE` refused up front.
//!
//! The CLI uses the default key prefix `sfmc:`, so every test that needs Redis runs its own
//! `redis-server` child (on PATH) rather than the shared one: nothing else writes there. Without
//! `redis-server` those tests skip with a notice, or fail when `SFMC_REQUIRE_REDIS=1`.

#![allow(clippy::unwrap_used)] // tests fail loudly on unexpected errors

mod support;

#[path = "../../sfmc-auth/tests/support/redis_server.rs"]
mod redis_server;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::Duration;

use redis_server::own_server;
use secrecy::SecretString;
use sfmc_auth::store::{RedisStore, RedisStoreConfig};
use sfmc_auth::{AuthBaseUrl, ConnectionSettings};
use sfmc_emulator::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use support::{Env, bare, cache_files, code, json, run_all, stderr, stdout};

/// What a Redis server answers (RESP2), enough for KEYS and GET.
#[derive(Debug, PartialEq, Eq)]
enum Reply {
    Nil,
    Simple(String),
    Error(String),
    Integer(i64),
    Bulk(Vec<u8>),
    Array(Vec<Reply>),
}

/// One command over a plain connection to the Redis on `port` (the test's own server): Redis as
/// an outsider sees it, without going through the code under test.
fn redis_command(port: u16, args: &[&str]) -> Reply {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to redis");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut request = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        request.extend_from_slice(format!("${}\r\n{arg}\r\n", arg.len()).as_bytes());
    }
    stream.write_all(&request).expect("send to redis");
    read_reply(&mut BufReader::new(stream))
}

fn read_reply(reader: &mut impl BufRead) -> Reply {
    let mut line = String::new();
    reader.read_line(&mut line).expect("redis reply");
    let line = line.trim_end_matches("\r\n");
    let (kind, rest) = line.split_at(1);
    match kind {
        "+" => Reply::Simple(rest.to_owned()),
        "-" => Reply::Error(rest.to_owned()),
        ":" => Reply::Integer(rest.parse().unwrap()),
        "$" if rest == "-1" => Reply::Nil,
        "$" => {
            let len: usize = rest.parse().unwrap();
            let mut bytes = vec![0; len + 2];
            reader.read_exact(&mut bytes).expect("bulk reply");
            bytes.truncate(len);
            Reply::Bulk(bytes)
        }
        "*" if rest == "-1" => Reply::Nil,
        "*" => {
            let n: usize = rest.parse().unwrap();
            Reply::Array((0..n).map(|_| read_reply(reader)).collect())
        }
        _ => panic!("unexpected redis reply {line:?}"),
    }
}

/// Every key in the server, sorted.
fn all_keys(port: u16) -> Vec<String> {
    let Reply::Array(items) = redis_command(port, &["KEYS", "*"]) else {
        panic!("KEYS did not answer an array");
    };
    let mut keys: Vec<String> = items
        .into_iter()
        .map(|item| match item {
            Reply::Bulk(bytes) => String::from_utf8(bytes).unwrap(),
            other => panic!("unexpected key {other:?}"),
        })
        .collect();
    keys.sort();
    keys
}

fn get(port: u16, key: &str) -> Vec<u8> {
    match redis_command(port, &["GET", key]) {
        Reply::Bulk(bytes) => bytes,
        other => panic!("GET {key}: {other:?}"),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Whether any 16-byte run of `text` appears in `value` (so no part of a token is in clear).
fn shows_part_of(value: &[u8], text: &str) -> bool {
    text.as_bytes()
        .windows(16.min(text.len()))
        .any(|part| contains(value, part))
}

/// The Redis key the CLI stores the demo package's token under (default prefix `sfmc:`).
fn token_key(env: &Env) -> String {
    let settings = ConnectionSettings::new(
        AuthBaseUrl::parse(&env.emulator.url()).unwrap(),
        DEMO_CLIENT_ID,
        SecretString::from(DEMO_CLIENT_SECRET),
    )
    .unwrap();
    RedisStore::new(RedisStoreConfig::new("redis://127.0.0.1:1"))
        .unwrap()
        .token_key(&settings.key())
}

/// A cache directory of its own for worker `name` (removed with the test's directory).
fn worker_dir(env: &Env, name: &str) -> PathBuf {
    env.cache_dir.join(name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_processes_with_separate_caches_make_one_token_request() {
    let Some(server) = own_server("eight_processes_with_separate_caches") else {
        return;
    };
    let env = Env::new("fleet-eight").await;
    let dirs: Vec<PathBuf> = (0..8)
        .map(|i| worker_dir(&env, &format!("worker-{i}")))
        .collect();

    // All eight started before any is waited for.
    let outputs = run_all(dirs.iter().map(|dir| {
        let mut command = env.command(&["token", "--raw"]);
        command
            .env("SFMC_CACHE_DIR", dir)
            .env("SFMC_TOKEN_CACHE", server.url());
        command
    }))
    .await;
    let mut tokens = HashSet::new();
    for (i, output) in outputs.iter().enumerate() {
        assert_eq!(code(output), 0, "worker {i}: {}", stderr(output));
        let token = stdout(output).trim_end().to_owned();
        assert_eq!(token.len(), 512, "worker {i}: {token:?}");
        tokens.insert(token);
    }
    assert_eq!(tokens.len(), 1, "all eight print the same token");
    assert_eq!(
        env.token_requests(),
        1,
        "one token request for eight processes"
    );
    let token = tokens.into_iter().next().unwrap();

    // Every process kept the token in its own file cache too.
    for dir in &dirs {
        assert_eq!(cache_files(dir).len(), 1, "{}", dir.display());
    }

    // Redis holds the one token, sealed, under a key naming neither client id nor secret; the
    // lock is released.
    let keys = all_keys(server.port());
    assert_eq!(keys, vec![token_key(&env)]);
    let name = &keys[0];
    assert!(!name.contains(DEMO_CLIENT_ID) && !name.contains(DEMO_CLIENT_SECRET));
    let value = get(server.port(), name);
    assert!(value.len() > 16);
    assert!(!shows_part_of(&value, &token), "token in clear in Redis");
    assert!(
        !contains(&value, DEMO_CLIENT_SECRET.as_bytes()),
        "secret in clear in Redis"
    );
    assert!(
        !contains(&value, DEMO_CLIENT_ID.as_bytes()),
        "client id in clear in Redis"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_token_still_succeeds_with_one_warning() {
    let Some(mut server) = own_server("redis_killed_token_still_succeeds") else {
        return;
    };
    let env = Env::new("fleet-dead-redis").await;

    // Sharing works while Redis is up.
    let shared = env
        .command(&["token"])
        .env("SFMC_CACHE_DIR", worker_dir(&env, "first"))
        .env("SFMC_TOKEN_CACHE", server.url())
        .output()
        .await
        .unwrap();
    assert_eq!(code(&shared), 0, "{}", stderr(&shared));
    assert_eq!(all_keys(server.port()), vec![token_key(&env)]);

    server.kill();

    // A process with an empty file cache and a dead Redis: straight to the token endpoint.
    let output = env
        .command(&["token"])
        .env("SFMC_CACHE_DIR", worker_dir(&env, "fresh"))
        .env("SFMC_TOKEN_CACHE", server.url())
        .output()
        .await
        .unwrap();
    let err = stderr(&output);
    assert_eq!(code(&output), 0, "{err}");
    let token = json(&output)["access_token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 512);
    assert_ne!(token, json(&shared)["access_token"].as_str().unwrap());
    assert_eq!(env.token_requests(), 2);

    let warnings: Vec<&str> = err.lines().filter(|l| l.contains("WARN")).collect();
    assert!(warnings.len() <= 1, "more than one warning:\n{err}");
    for warning in &warnings {
        assert!(warning.contains("Redis"), "{warning}");
    }
    assert!(!err.contains("ERROR"), "{err}");
    assert!(
        !err.contains(DEMO_CLIENT_SECRET),
        "secret in stderr:\n{err}"
    );
    assert!(!err.contains(&token), "token in stderr:\n{err}");
}

#[tokio::test]
async fn invalid_token_cache_url_exits_2_naming_the_token_cache() {
    let env = Env::new("fleet-bad-url").await;
    for url in [
        "http://x",
        "redis://",
        "not a url",
        "http://user:hunter2@x/",
    ] {
        let output = env
            .command(&["token"])
            .env("SFMC_TOKEN_CACHE", url)
            .output()
            .await
            .unwrap();
        let err = stderr(&output);
        assert_eq!(code(&output), 2, "{url:?}: {err}");
        assert!(err.contains("token cache"), "{url:?}: {err}");
        assert!(!err.contains("hunter2"), "{url:?}: {err}");
        assert!(stdout(&output).is_empty(), "{url:?}");
    }
    // The same through the flag.
    let output = env.run(&["token", "--token-cache", "http://x"]).await;
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("token cache"),
        "{}",
        stderr(&output)
    );
    assert_eq!(env.token_requests(), 0, "refused before any request");
}

#[tokio::test]
async fn token_cache_prefix_names_the_keys() {
    let Some(server) = own_server("token_cache_prefix_names_the_keys") else {
        return;
    };
    let env = Env::new("fleet-prefix").await;
    let output = env
        .command(&["token", "--raw"])
        .env("SFMC_TOKEN_CACHE", server.url())
        .env("SFMC_TOKEN_CACHE_PREFIX", "team-a:")
        .output()
        .await
        .unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let default_key = token_key(&env);
    let expected = default_key.replacen("sfmc:", "team-a:", 1);
    assert_eq!(all_keys(server.port()), vec![expected]);
}

#[tokio::test]
async fn the_config_files_token_cache_applies_to_its_connections() {
    let Some(server) = own_server("the_config_files_token_cache_applies") else {
        return;
    };
    let env = Env::new("fleet-config").await;
    let file = env.cache_dir.join("config.toml");
    std::fs::create_dir_all(&env.cache_dir).unwrap();
    std::fs::write(
        &file,
        format!(
            "[token_cache]\nredis_url = \"{}\"\nprefix = \"from-file:\"\n\n[[connections]]\nname = \"main\"\nauth_base_uri = \"{}\"\nclient_id = \"{DEMO_CLIENT_ID}\"\nclient_secret = \"${{FLEET_SECRET}}\"\n",
            server.url(),
            env.emulator.url()
        ),
    )
    .unwrap();
    let run = |extra: &[&str], cache_dir: PathBuf| {
        let mut args = vec![
            "token",
            "--raw",
            "--config",
            file.to_str().unwrap(),
            "--connection",
            "main",
        ];
        args.extend_from_slice(extra);
        let mut command = bare(&args);
        command
            .env("SFMC_CACHE_DIR", cache_dir)
            .env("FLEET_SECRET", DEMO_CLIENT_SECRET);
        command
    };
    let output = run(&[], worker_dir(&env, "a")).output().await.unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let from_file = token_key(&env).replacen("sfmc:", "from-file:", 1);
    assert_eq!(all_keys(server.port()), vec![from_file.clone()]);

    // A flag overrides the file's prefix (a fresh file cache, so the token comes from Redis or
    // the emulator and is stored under the flag's prefix).
    let output = run(&["--token-cache-prefix", "flag:"], worker_dir(&env, "b"))
        .output()
        .await
        .unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let mut keys = all_keys(server.port());
    keys.sort();
    let from_flag = token_key(&env).replacen("sfmc:", "flag:", 1);
    assert_eq!(keys, vec![from_flag, from_file]);
}
