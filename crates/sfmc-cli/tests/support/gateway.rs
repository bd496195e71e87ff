//! `sfmc gateway` as a process: a directory for its config file, the command with no config from
//! the environment, a config file of one connection "main" on the test's emulator, the address of its first stdout line, and SIGTERM with its exit code.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use sfmc_emulator::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

use super::{Env, bare};

/// Generous bound on a process answering; nothing is asserted about speed.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A directory for one test's config file.
pub struct Dir(pub PathBuf);

impl Dir {
    pub fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("sfmc-gateway-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn write(&self, text: &str) -> PathBuf {
        let path = self.0.join("config.toml");
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `sfmc ARGS` with no config from the environment, the secret in `GW_TEST_SECRET`.
pub fn sfmc(dir: &Dir, args: &[&str]) -> Command {
    let mut command = bare(args);
    command
        .env_remove("SFMC_CONFIG")
        .env_remove("SFMC_CONNECTION")
        .env("XDG_CONFIG_HOME", &dir.0)
        .env("SFMC_CACHE_DIR", dir.0.join("cache"))
        .env("GW_TEST_SECRET", DEMO_CLIENT_SECRET);
    command
}

pub fn config(env: &Env, server: &str) -> String {
    format!(
        r#"{server}
[[connections]]
name = "main"
auth_base_uri = "{}"
client_id = "{DEMO_CLIENT_ID}"
client_secret = "${{GW_TEST_SECRET}}"
"#,
        env.emulator.url()
    )
}

/// A running gateway and the URL of its first stdout line.
pub async fn start(mut command: Command) -> (Child, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(PATIENCE, lines.next_line())
        .await
        .expect("the gateway announces its address")
        .unwrap()
        .expect("a first line");
    let url = first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{first}"))
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    (child, url)
}

/// SIGTERM, then the exit code and stderr.
pub async fn terminate(mut child: Child) -> (i32, String) {
    let pid = rustix::process::Pid::from_raw(i32::try_from(child.id().unwrap()).unwrap()).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .await
        .unwrap();
    let status = tokio::time::timeout(PATIENCE, child.wait())
        .await
        .expect("the gateway stops")
        .unwrap();
    (status.code().expect("exited with a code"), err)
}
