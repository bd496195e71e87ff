//! What commands print on stdout: JSON documents and bare lines, flushed, with broken pipes
//! treated as success (`sfmc token | head -c 10`).

#![allow(clippy::print_stdout)] // this module is the CLI's stdout

use std::io::Write;

use crate::exit::Failure;

/// Prints `value` as pretty JSON and a newline.
pub fn json(value: &serde_json::Value) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::unavailable(format!("cannot format output: {e}")))?;
    line(&text)
}

/// Prints one line and flushes.
pub fn line(text: &str) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    let written = writeln!(stdout, "{text}").and_then(|()| stdout.flush());
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure::unavailable(format!("cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}
