//! Real redis-server processes for tests: the shared one named by `SFMC_TEST_REDIS_URL` (started
//! by `scripts/redis-server.sh` in `scripts/test`), or a test's own child process that it can
//! kill and restart.
//!
//! Without either, tests skip with a notice, or fail when `SFMC_REQUIRE_REDIS=1`.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The environment variable naming a shared test server.
pub const URL_VAR: &str = "SFMC_TEST_REDIS_URL";
/// Set to `1` to turn a missing Redis into a failure instead of a skip.
pub const REQUIRE_VAR: &str = "SFMC_REQUIRE_REDIS";

/// Skips (returns `None`) or fails, as `SFMC_REQUIRE_REDIS` says.
pub fn skip<T>(test: &str, why: &str) -> Option<T> {
    if std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1") {
        panic!("{test}: {why}, and {REQUIRE_VAR}=1");
    }
    // Straight to stderr, past the test harness's capture, so the skip shows in CI logs.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: {why} (set {URL_VAR} or put redis-server on PATH)"
    );
    None
}

/// `redis-server` on PATH.
pub fn redis_server_bin() -> Option<PathBuf> {
    on_path("redis-server")
}

/// A program on PATH.
pub fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// A port free on 127.0.0.1 right now.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local addr").port()
}

/// A Redis to talk to: the shared server, or an own one kept alive by this value.
pub struct AnyServer {
    /// `redis://127.0.0.1:PORT` (or the shared URL).
    pub url: String,
    _own: Option<OwnServer>,
}

/// The shared server if `SFMC_TEST_REDIS_URL` is set, else an own child process, else a skip.
pub fn any_server(test: &str) -> Option<AnyServer> {
    if let Ok(url) = std::env::var(URL_VAR)
        && !url.trim().is_empty()
    {
        return Some(AnyServer {
            url: url.trim().to_owned(),
            _own: None,
        });
    }
    let own = own_server(test)?;
    Some(AnyServer {
        url: own.url(),
        _own: Some(own),
    })
}

/// An own redis-server child (needs the binary on PATH), or a skip.
pub fn own_server(test: &str) -> Option<OwnServer> {
    own_server_with(test, &[])
}

/// An own redis-server child started with extra arguments (e.g. `--requirepass`), or a skip.
pub fn own_server_with(test: &str, extra: &[&str]) -> Option<OwnServer> {
    let Some(bin) = redis_server_bin() else {
        return skip(test, "redis-server is not on PATH");
    };
    let mut server = OwnServer {
        bin,
        port: free_port(),
        extra: extra.iter().map(|s| (*s).to_owned()).collect(),
        child: None,
    };
    server.start();
    Some(server)
}

/// A redis-server child process on a fixed loopback port, killed on drop.
pub struct OwnServer {
    bin: PathBuf,
    port: u16,
    extra: Vec<String>,
    child: Option<Child>,
}

impl OwnServer {
    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Starts the server (again) on its port and waits until it answers PING (at most 10 s).
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "already running");
        let child = Command::new(&self.bin)
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        self.child = Some(child);
        let password = self
            .extra
            .iter()
            .position(|a| a == "--requirepass")
            .and_then(|i| self.extra.get(i + 1))
            .cloned();
        for _ in 0..200 {
            if ping(self.port, password.as_deref()) {
                return;
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!(
                    "redis-server on port {} exited at start: {status}",
                    self.port
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "redis-server on port {} did not answer PING within 10 s",
            self.port
        );
    }

    /// Kills the server (SIGKILL) and waits for it to be gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Whether a Redis on `port` answers PING (after AUTH when a password is given).
fn ping(port: u16, password: Option<&str>) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let _ = stream.set_write_timeout(Some(Duration::from_millis(500)));
    let mut request = String::new();
    if let Some(password) = password {
        request.push_str(&format!(
            "*2\r\n$4\r\nAUTH\r\n${}\r\n{password}\r\n",
            password.len()
        ));
    }
    request.push_str("*1\r\n$4\r\nPING\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut seen = Vec::new();
    let mut buf = [0u8; 64];
    while !seen.windows(5).any(|w| w == b"+PONG") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    true
}
