//! Log capture for the `sfmc-auth` tests: everything a test's code logs, as text, so that a test
//! can count warnings or prove that no secret or token was written.

#![allow(dead_code)] // each test crate uses a different part of this module

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

/// Log lines written to a shared buffer.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// A subscriber writing into this buffer at `level` and above, without colours.
    pub fn subscriber(&self, level: tracing::Level) -> impl tracing::Subscriber + Send + Sync {
        let writer = self.clone();
        tracing_subscriber::fmt()
            .with_max_level(level)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish()
    }

    /// Captures DEBUG and above on this thread until the guard is dropped.
    pub fn install(&self) -> tracing::subscriber::DefaultGuard {
        tracing::subscriber::set_default(self.subscriber(tracing::Level::DEBUG))
    }

    /// Everything captured so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }

    /// The WARN lines that name `dir`.
    pub fn warnings_naming(&self, dir: &Path) -> Vec<String> {
        let dir = dir.display().to_string();
        self.text()
            .lines()
            .filter(|line| line.contains("WARN") && line.contains(&dir))
            .map(str::to_owned)
            .collect()
    }
}
