//! The config file from the CLI: `--connection`/`SFMC_CONNECTION` on commands, `sfmc
//! connections`, the default location, and errors that name the file, line and field.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::PathBuf;

use sfmc_emulator::{DEMO_CHILD_ACCOUNT_ID, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use support::{Env, bare, code, json, stderr, stdout};

/// A config file with two connections of the demo package (its own BU and a child BU), the
/// secret from `${DEMO_SECRET}`.
fn write_config(env: &Env, dir_name: &str) -> PathBuf {
    let dir = env.cache_dir.join(dir_name);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config.toml");
    let url = env.emulator.url();
    std::fs::write(
        &path,
        format!(
            r#"# two business units of one package
[[connections]]
name = "main"
auth_base_uri = "{url}"
client_id = "{DEMO_CLIENT_ID}"
client_secret = "${{DEMO_SECRET}}"

[[connections]]
name = "child"
auth_base_uri = "{url}"
client_id = "{DEMO_CLIENT_ID}"
client_secret = "${{DEMO_SECRET}}"
account_id = "{DEMO_CHILD_ACCOUNT_ID}"
"#
        ),
    )
    .unwrap();
    path
}

fn sfmc(env: &Env, args: &[&str]) -> tokio::process::Command {
    let mut command = bare(args);
    command
        .env("SFMC_CACHE_DIR", &env.cache_dir)
        .env("DEMO_SECRET", DEMO_CLIENT_SECRET);
    command
}

#[tokio::test]
async fn commands_use_the_named_connection() {
    let env = Env::new("conn-named").await;
    let config = write_config(&env, "cfg");
    let config = config.to_str().unwrap();

    let main = sfmc(&env, &["token", "--config", config, "--connection", "main"])
        .output()
        .await
        .unwrap();
    assert_eq!(code(&main), 0, "{}", stderr(&main));
    let child = sfmc(&env, &["token", "--config", config])
        .env("SFMC_CONNECTION", "child")
        .output()
        .await
        .unwrap();
    assert_eq!(code(&child), 0, "{}", stderr(&child));
    assert_ne!(json(&main)["access_token"], json(&child)["access_token"]);
    assert_eq!(env.token_requests(), 2, "one token per business unit");

    // The child connection's calls go to its business unit.
    let created = sfmc(
        &env,
        &[
            "call",
            "createCampaign",
            r#"{"name":"Child only"}"#,
            "--config",
            config,
            "--connection",
            "child",
        ],
    )
    .output()
    .await
    .unwrap();
    assert_eq!(code(&created), 0, "{}", stderr(&created));
    let list = |connection: &'static str| {
        sfmc(
            &env,
            &[
                "call",
                "getCampaigns",
                "--config",
                config,
                "--connection",
                connection,
            ],
        )
    };
    let in_child = list("child").output().await.unwrap();
    let in_main = list("main").output().await.unwrap();
    assert_eq!(json(&in_child)["count"], 1, "{}", stdout(&in_child));
    assert_eq!(json(&in_main)["count"], 0, "{}", stdout(&in_main));
    // Cached per connection: no new token for these calls.
    assert_eq!(env.token_requests(), 2);
}

#[tokio::test]
async fn lists_connections_without_secrets() {
    let env = Env::new("conn-list").await;
    let config = write_config(&env, "cfg");
    let config = config.to_str().unwrap();
    let table = sfmc(&env, &["connections", "--config", config])
        .output()
        .await
        .unwrap();
    assert_eq!(code(&table), 0, "{}", stderr(&table));
    let text = stdout(&table);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("NAME"));
    assert!(
        lines[1].starts_with("main ") && lines[2].starts_with("child "),
        "{text}"
    );
    assert!(lines[2].contains(DEMO_CHILD_ACCOUNT_ID));
    let listed = sfmc(&env, &["connections", "--config", config, "--json"])
        .output()
        .await
        .unwrap();
    let listed = json(&listed);
    assert_eq!(listed["connections"][1]["name"], "child");
    assert_eq!(
        listed["connections"][1]["account_id"],
        DEMO_CHILD_ACCOUNT_ID
    );
    for output in [text, listed.to_string()] {
        assert!(!output.contains(DEMO_CLIENT_SECRET), "{output}");
    }
}

#[tokio::test]
async fn finds_the_only_connection_of_the_default_file() {
    let env = Env::new("conn-default").await;
    let xdg = env.cache_dir.join("xdg");
    std::fs::create_dir_all(xdg.join("sfmc")).unwrap();
    let url = env.emulator.url();
    std::fs::write(
        xdg.join("sfmc/config.toml"),
        format!(
            "[[connections]]\nname = \"only\"\nauth_base_uri = \"{url}\"\nclient_id = \"{DEMO_CLIENT_ID}\"\nclient_secret = \"${{DEMO_SECRET}}\"\n"
        ),
    )
    .unwrap();
    let output = sfmc(&env, &["token", "--raw"])
        .env("XDG_CONFIG_HOME", &xdg)
        .output()
        .await
        .unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(env.token_requests(), 1);
}

#[tokio::test]
async fn config_errors_exit_2_naming_what_is_wrong() {
    let env = Env::new("conn-errors").await;
    let config = write_config(&env, "cfg");
    let config = config.to_str().unwrap();
    let failure = |output: std::process::Output| {
        assert_eq!(code(&output), 2, "{}", stderr(&output));
        assert!(!stderr(&output).contains(DEMO_CLIENT_SECRET));
        stderr(&output)
    };

    let mut unknown = sfmc(&env, &["token", "--config", config, "--connection", "nope"]);
    let message = failure(unknown.output().await.unwrap());
    assert!(
        message.contains("\"nope\"") && message.contains("main, child"),
        "{message}"
    );

    let several = failure(
        sfmc(&env, &["token", "--config", config])
            .output()
            .await
            .unwrap(),
    );
    assert!(several.contains("--connection"), "{several}");

    let mut no_secret = sfmc(&env, &["token", "--config", config, "--connection", "main"]);
    no_secret.env_remove("DEMO_SECRET");
    let missing = failure(no_secret.output().await.unwrap());
    assert!(
        missing.contains(
            "line 6, connections[0].client_secret: environment variable DEMO_SECRET is not set"
        ),
        "{missing}"
    );

    let mut both = sfmc(
        &env,
        &[
            "token",
            "--config",
            config,
            "--connection",
            "main",
            "--client-id",
            "x",
        ],
    );
    assert!(failure(both.output().await.unwrap()).contains("--connection takes the package"));

    let mut no_file = sfmc(&env, &["token", "--connection", "main"]);
    assert!(failure(no_file.output().await.unwrap()).contains("no config file"));

    let bad = env.cache_dir.join("bad.toml");
    std::fs::write(&bad, "[[connections]]\nname = \"x\"\nsubdomain = \"not valid!\"\nclient_id = \"a\"\nclient_secret = \"b\"\n").unwrap();
    let mut bad = sfmc(&env, &["connections", "--config", bad.to_str().unwrap()]);
    let message = failure(bad.output().await.unwrap());
    assert!(
        message.contains("bad.toml, line 3, connections[0].subdomain"),
        "{message}"
    );
}
