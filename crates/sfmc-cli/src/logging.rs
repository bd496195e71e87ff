//! Logs on stderr, as text or JSON lines, filtered by `RUST_LOG`. A server (`sfmc gateway`)
//! writes a line per request, so its lines go through a bounded channel to a writer thread that
//! writes what gathered in a few milliseconds in one go: a request never waits on a write to
//! stderr, and under load many lines share one write and one wake-up of that thread. When stderr
//! does not keep up and the channel is full, lines are dropped (and counted in a line of their
//! own once stderr moves again) rather than stalling the server's threads. [`flush`] waits
//! (bounded) until every line is written; `main` calls it before exiting.
//!
//! Text lines are written by [`text_format`] (cheaper than tracing_subscriber's default format,
//! byte for byte the same text); JSON lines by tracing_subscriber's JSON format.

use std::io::{self, BufWriter, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

use crate::commands::gateway::LogFormat;
use text_format::TextFormat;

mod text_format;
mod timestamp;

/// Lines waiting to be written before a logging thread blocks (memory stays bounded).
const PENDING_LINES: usize = 16 * 1024;
/// How long the writer thread lets lines gather before writing them.
const GATHER: Duration = Duration::from_millis(5);
/// How long [`flush`] waits for the writer thread.
const FLUSH_LIMIT: Duration = Duration::from_secs(2);

enum Message {
    Line(Vec<u8>),
    Flush(SyncSender<()>),
}

static WRITER: OnceLock<SyncSender<Message>> = OnceLock::new();

/// Installs the subscriber: `format` on stderr, `RUST_LOG` or else `default` as the filter,
/// through the writer thread when `buffered`.
pub fn init(format: LogFormat, default: &str, buffered: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let writer = if buffered { start_writer(format) } else { None };
    let ansi = writer.is_none() && io::IsTerminal::is_terminal(&io::stderr());
    match (format, writer) {
        (LogFormat::Text, Some(w)) => builder
            .with_ansi(false)
            .event_format(TextFormat::new())
            .with_writer(w)
            .init(),
        (LogFormat::Text, None) => builder
            .with_ansi(ansi)
            .event_format(TextFormat::new())
            .with_writer(io::stderr)
            .init(),
        (LogFormat::Json, Some(w)) => builder
            .json()
            .with_current_span(false)
            .with_writer(w)
            .init(),
        (LogFormat::Json, None) => builder
            .json()
            .with_current_span(false)
            .with_writer(io::stderr)
            .init(),
    }
}

/// Waits until the lines logged so far are on stderr (no-op without the writer thread).
pub fn flush() {
    let Some(sender) = WRITER.get() else { return };
    let (done, written) = sync_channel(1);
    if sender.send(Message::Flush(done)).is_ok() {
        let _ = written.recv_timeout(FLUSH_LIMIT);
    }
}

/// Starts the writer thread; `None` if it cannot be started (then lines go straight to stderr).
fn start_writer(format: LogFormat) -> Option<ChannelWriter> {
    let (sender, receiver) = sync_channel(PENDING_LINES);
    let dropped = Arc::new(AtomicU64::new(0));
    let counted = dropped.clone();
    std::thread::Builder::new()
        .name("sfmc-logs".into())
        .spawn(move || write_lines(&receiver, &counted, format))
        .ok()?;
    let _ = WRITER.set(sender.clone());
    Some(ChannelWriter { sender, dropped })
}

/// The line that tells how many lines were dropped.
fn dropped_line(dropped: u64, format: LogFormat) -> String {
    let message = "log lines dropped: stderr did not keep up";
    match format {
        LogFormat::Text => format!(" WARN {message} dropped={dropped}\n"),
        LogFormat::Json => format!(
            "{{\"level\":\"WARN\",\"fields\":{{\"message\":\"{message}\",\"dropped\":{dropped}}}}}\n"
        ),
    }
}

/// Waits for a line, then gathers lines for [`GATHER`] at a time and writes them, until a
/// pause finds none; until every sender is gone. A busy server wakes this thread a few hundred
/// times a second, not once per line.
fn write_lines(receiver: &Receiver<Message>, dropped: &AtomicU64, format: LogFormat) {
    let mut out = BufWriter::with_capacity(64 * 1024, io::stderr());
    while let Ok(first) = receiver.recv() {
        let lost = dropped.swap(0, Ordering::Relaxed);
        if lost > 0 {
            let _ = out.write_all(dropped_line(lost, format).as_bytes());
        }
        let mut next = Some(first);
        loop {
            while let Some(message) = next {
                match message {
                    Message::Line(line) => {
                        let _ = out.write_all(&line);
                    }
                    Message::Flush(done) => {
                        let _ = out.flush();
                        let _ = done.send(());
                    }
                }
                next = receiver.try_recv().ok();
            }
            let _ = out.flush();
            std::thread::sleep(GATHER);
            match receiver.try_recv() {
                Ok(message) => next = Some(message),
                Err(_) => break,
            }
        }
    }
}

/// Sends each formatted event to the writer thread, or counts it as dropped when the channel
/// is full (never blocks the caller).
#[derive(Clone)]
struct ChannelWriter {
    sender: SyncSender<Message>,
    dropped: Arc<AtomicU64>,
}

impl Write for ChannelWriter {
    /// Sends a copy of the line: the formatter's buffer is reused for the next line. The copy
    /// and the send cost some 50–60 ns a line against ~250 ns for formatting it (measured by
    /// `logging_cost`); handing buffers back and forth would save little of that.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.sender.try_send(Message::Line(buf.to_vec())) {
            Ok(()) => Ok(buf.len()),
            Err(TrySendError::Full(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                Ok(buf.len())
            }
            Err(TrySendError::Disconnected(_)) => Err(io::Error::other("the log writer stopped")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for ChannelWriter {
    type Writer = ChannelWriter;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_channel_drops_lines_instead_of_blocking_the_caller() {
        let (sender, receiver) = sync_channel(1);
        let dropped = Arc::new(AtomicU64::new(0));
        let mut writer = ChannelWriter {
            sender,
            dropped: dropped.clone(),
        };
        // No writer thread reads: on a blocking channel the second line would wait forever.
        let (done, finished) = sync_channel(1);
        std::thread::spawn(move || {
            let written: Vec<usize> = (0..3)
                .map(|_| writer.write(b"line\n").unwrap_or(0))
                .collect();
            let _ = done.send(written);
        });
        let written = finished
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("a log line blocked its caller"));
        assert_eq!(written, [5, 5, 5]);
        assert_eq!(dropped.load(Ordering::Relaxed), 2);
        assert!(matches!(receiver.try_recv(), Ok(Message::Line(l)) if l == b"line\n"));
        let json: serde_json::Value =
            serde_json::from_str(&dropped_line(2, LogFormat::Json)).unwrap_or_default();
        assert_eq!(json["fields"]["dropped"], 2);
    }
}
