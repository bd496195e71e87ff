//! The config file: every field, `${ENV}` and `file:` values, and errors that name the file,
//! the line and the field without showing a secret.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use secrecy::ExposeSecret;
use sfmc_auth::config::{Config, ConfigError, hash_api_key};

fn env(name: &str) -> Option<String> {
    match name {
        "SFMC_SECRET" => Some("s3cret-from-env".into()),
        "SFMC_ID" => Some("client-id-1".into()),
        _ => None,
    }
}

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(Path::new("/etc/sfmc.toml"), text, &env).map(|p| p.config)
}

#[test]
fn reads_every_field() {
    let key = hash_api_key("inbound-key");
    let text = format!(
        r#"
[server]
listen = "0.0.0.0:8290"
api_keys = ["{key}"]
max_body_bytes = 1000
upstream_timeout_secs = 5
shutdown_grace_secs = 3

[token_cache]
redis_url = "redis://127.0.0.1:6379/0"
prefix = "prod:"

[[connections]]
name = "SFMC_1"
subdomain = "mczl3z3cmqr47kmts5x34v1cdlky"
client_id = "${{SFMC_ID}}"
client_secret = "${{SFMC_SECRET}}"
account_id = "12345"
scope = "email_read list_and_subscribers_read"

[[connections]]
name = "local"
auth_base_uri = "http://127.0.0.1:8787/"
client_id = "demo"
client_secret = "literal"
"#
    );
    let config = parse(&text).unwrap();
    assert_eq!(config.server.listen, Some("0.0.0.0:8290".parse().unwrap()));
    assert!(config.server.api_keys.verify("inbound-key"));
    assert_eq!(config.server.max_body_bytes, 1000);
    assert_eq!(config.server.upstream_timeout.as_secs(), 5);
    assert_eq!(config.server.shutdown_grace.as_secs(), 3);
    assert_eq!(config.token_cache.prefix.as_deref(), Some("prod:"));
    assert!(!format!("{:?}", config.token_cache).contains("6379"));
    let first = config.connection("SFMC_1").unwrap();
    assert_eq!(first.settings.client_id(), "client-id-1");
    assert_eq!(
        first.settings.client_secret().expose_secret(),
        "s3cret-from-env"
    );
    assert_eq!(first.settings.account_id(), Some("12345"));
    let summary = serde_json::to_value(first.summary()).unwrap();
    assert_eq!(summary["name"], "SFMC_1");
    assert_eq!(
        summary["auth_base_uri"],
        "https://mczl3z3cmqr47kmts5x34v1cdlky.auth.marketingcloudapis.com/"
    );
    assert!(!summary.to_string().contains("s3cret"));
    assert!(!format!("{first:?}").contains("s3cret"));
    let local = config.connection("local").unwrap();
    assert_eq!(local.summary().account_id, None);
    assert_eq!(config.connections.len(), 2);
}

fn error(text: &str) -> ConfigError {
    parse(text).unwrap_err()
}

#[test]
fn errors_name_the_file_line_and_field() {
    let e = error(
        "[[connections]]\nname = \"a\"\nsubdomain = \"mczl3z3cmqr47kmts5x34v1cdlky\"\nclient_id = \"x\"\nclient_secret = \"${MISSING_VAR}\"\n",
    );
    assert_eq!(e.line, Some(5));
    assert_eq!(e.field, "connections[0].client_secret");
    assert_eq!(e.message, "environment variable MISSING_VAR is not set");
    assert_eq!(
        e.to_string(),
        "config file /etc/sfmc.toml, line 5, connections[0].client_secret: environment variable MISSING_VAR is not set"
    );

    let bad_toml = error("[server\nlisten = 1\n");
    assert_eq!(bad_toml.line, Some(1));

    let unknown = error("[server]\nlisen = \"127.0.0.1:1\"\n");
    assert_eq!(unknown.line, Some(2));
    assert!(unknown.message.contains("lisen"), "{unknown}");

    let bad_sub = error(
        "[[connections]]\nname = \"a\"\nsubdomain = \"no_pe\"\nclient_id = \"x\"\nclient_secret = \"y\"\n",
    );
    assert_eq!(
        (bad_sub.line, bad_sub.field.as_str()),
        (Some(3), "connections[0].subdomain")
    );

    let dup = "[[connections]]\nname = \"a\"\nauth_base_uri = \"http://127.0.0.1:1/\"\nclient_id = \"x\"\nclient_secret = \"y\"\n";
    let dup = error(&format!("{dup}{dup}"));
    assert_eq!(
        (dup.line, dup.field.as_str()),
        (Some(7), "connections[1].name")
    );
    assert!(dup.message.contains("already"), "{dup}");

    let missing = error(
        "[[connections]]\nname = \"a\"\nsubdomain = \"mczl3z3cmqr47kmts5x34v1cdlky\"\nclient_secret = \"y\"\n",
    );
    assert_eq!(
        (missing.line, missing.field.as_str()),
        (Some(1), "connections[0].client_id")
    );

    let listen = error("[server]\nlisten = \"localhost\"\n");
    assert_eq!(
        (listen.line, listen.field.as_str()),
        (Some(2), "server.listen")
    );

    let plain_key = error("[server]\napi_keys = [\"hunter2\"]\n");
    assert_eq!(plain_key.field, "server.api_keys[0]");
    assert!(!plain_key.to_string().contains("hunter2"), "{plain_key}");

    let name = error("[[connections]]\nname = \"a/b\"\n");
    assert_eq!(name.field, "connections[0].name");

    let range = error("[server]\nmax_body_bytes = 0\n");
    assert_eq!(range.field, "server.max_body_bytes");
}

#[test]
fn a_bad_secret_is_named_but_not_shown() {
    let e = error(
        "[[connections]]\nname = \"a\"\nsubdomain = \"mczl3z3cmqr47kmts5x34v1cdlky\"\nclient_id = \"x\"\nclient_secret = \"bad\\u0007secret\"\n",
    );
    assert_eq!(e.field, "connections[0].client_secret");
    assert!(!e.to_string().contains("secret\u{7}"), "{e}");
    assert!(!e.to_string().contains("badsecret"), "{e}");
}

#[cfg(unix)]
#[test]
fn warns_about_a_literal_secret_others_can_read() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("sfmc-config-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        "[[connections]]\nname = \"a\"\nauth_base_uri = \"http://127.0.0.1:1/\"\nclient_id = \"x\"\nclient_secret = \"literal\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let shared = Config::load(&path).unwrap();
    assert_eq!(shared.warnings.len(), 1);
    assert!(shared.warnings[0].contains("chmod 600"));
    assert!(!shared.warnings[0].contains("literal\""));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(Config::load(&path).unwrap().warnings.is_empty());
    let missing = Config::load(&dir.join("nope.toml")).unwrap_err();
    assert!(missing.to_string().contains("cannot open it"), "{missing}");
    std::fs::remove_dir_all(&dir).unwrap();
}
