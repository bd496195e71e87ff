//! Tests of the text format against tracing_subscriber's default (the format it replaces), and
//! a timing run of both.

use std::io;
use std::sync::{Arc, Mutex};

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::time::FormatTime;

use super::*;

/// 2026-11-30T05:04:21.123456Z
const AT: Duration = Duration::new(1_796_015_061, 123_456_789);
const AT_TEXT: &str = "2026-11-30T05:04:21.123456Z";

/// Today's timer, stopped at [`AT`].
struct Stopped;

impl FormatTime for Stopped {
    fn format_time(&self, w: &mut Writer<'_>) -> fmt::Result {
        w.write_str(AT_TEXT)
    }
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// The lines `events` logs through tracing_subscriber's default text format, as `init` set
/// it up before this module, and through [`TextFormat`].
fn today_and_now(ansi: bool, events: fn()) -> (String, String) {
    let today = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_target(false)
        .with_ansi(ansi)
        .with_max_level(Level::TRACE)
        .with_timer(Stopped)
        .with_writer(today.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, events);
    let now = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_target(false)
        .with_ansi(ansi)
        .with_max_level(Level::TRACE)
        .event_format(TextFormat { now: || AT })
        .with_writer(now.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, events);
    (today.text(), now.text())
}

fn request() {
    tracing::info!(
        target: "sfmc_gateway::request",
        method = %http_method(),
        path = "/connections/demo/rest/x",
        route = "/connections/{name}/rest/{*path}",
        connection = "demo",
        status = 200_u16,
        latency_us = 123_u64,
        "request"
    );
}

fn http_method() -> impl fmt::Display {
    "GET"
}

#[derive(Debug)]
struct Failure(&'static str, Option<Box<Failure>>);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Error for Failure {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.1.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

fn assorted() {
    let error = io::Error::other("refused: \"no\"\nsecond line, café");
    tracing::warn!(
        %error,
        path = "C:\\cache\\\"x\"\n\té ünï 'q' \u{1b}[31m \u{85} \u{7f}",
        retry_in_ms = 250_u64,
        "could not write the cache file; continuing"
    );
    tracing::warn!("escape {} and C1 \u{9b}1m, bell \u{7}", "\u{1b}[2J");
    tracing::info!(
        count = 1,
        delta = -2_i64,
        big = 7_u128,
        small = -7_i128,
        ok = true,
        ratio = 1.5_f64,
        whole = 2.0_f64,
        r#type = "x",
        empty = "",
        some = ?Some("q"),
    );
    tracing::info!(message = "explicit \u{7}", n = 1);
    tracing::debug!(message = 5_u64);
    tracing::trace!(message = false);
    let chain = Failure("outer \u{1b}", Some(Box::new(Failure("middle", None))));
    tracing::error!(error = &chain as &dyn Error, "failed");
    let lone = Failure("lone", None);
    tracing::error!(error = &lone as &dyn Error);
    let outer = tracing::info_span!("outer", id = 3, name = "a b");
    let _entered = outer.enter();
    tracing::info_span!("inner").in_scope(|| tracing::debug!(x = "y", "in spans"));
}

#[test]
fn a_request_line_reads_as_before() {
    let (today, now) = today_and_now(false, request);
    assert_eq!(
        now,
        "2026-11-30T05:04:21.123456Z  INFO request method=GET \
         path=\"/connections/demo/rest/x\" route=\"/connections/{name}/rest/{*path}\" \
         connection=\"demo\" status=200 latency_us=123\n"
    );
    assert_eq!(now, today);
}

#[test]
fn every_kind_of_field_reads_as_before_byte_for_byte() {
    let (today, now) = today_and_now(false, assorted);
    for (today, now) in today.lines().zip(now.lines()) {
        assert_eq!(now, today);
    }
    assert_eq!(now, today);
    // A `%error` is written as its Display, newline and all (as tracing_subscriber does);
    // a string value as `{:?}` writes it.
    let warn = "2026-11-30T05:04:21.123456Z  WARN could not write the cache file; continuing \
                error=refused: \"no\"\nsecond line, café \
                path=\"C:\\\\cache\\\\\\\"x\\\"\\n\\té ünï 'q' \\u{1b}[31m \\u{85} \\u{7f}\" \
                retry_in_ms=250\n";
    assert!(now.starts_with(warn), "{now}");
    assert!(now.contains(" WARN escape \\x1b[2J and C1 \\u{9b}1m, bell \\x07\n"));
    assert!(now.contains(" ERROR failed error=outer \\x1b error.sources=[middle]\n"));
    assert!(now.contains(" DEBUG outer{id=3 name=\"a b\"}:inner: in spans x=\"y\"\n"));
}

#[test]
fn on_a_terminal_the_colours_are_as_before() {
    for events in [request as fn(), assorted] {
        let (today, now) = today_and_now(true, events);
        assert!(now.contains("\x1b[32m INFO\x1b[0m"), "{now}");
        assert_eq!(now, today);
    }
}

/// Cost per request line, before (tracing_subscriber's default format) and now, to a sink and
/// through the server's channel to a writer thread. Prints; asserts nothing. Run it with
/// `cargo test --release -p sfmc-cli --bin sfmc logging_cost -- --ignored --nocapture`.
#[test]
#[ignore = "a timing run, by hand"]
#[allow(clippy::disallowed_methods, clippy::print_stdout)] // measures wall time and prints it
fn logging_cost() {
    use std::sync::atomic::AtomicU64;
    use std::sync::mpsc::{TryRecvError, sync_channel};
    use std::time::Instant;

    use super::super::{ChannelWriter, GATHER, Message, PENDING_LINES};

    const LINES: u32 = 300_000;
    fn per_line(subscriber: impl Subscriber + Send + Sync + 'static) -> Duration {
        tracing::subscriber::with_default(subscriber, || {
            (0..LINES / 10).for_each(|_| request());
            let started = Instant::now();
            (0..LINES).for_each(|_| request());
            started.elapsed() / LINES
        })
    }
    fn channel() -> ChannelWriter {
        let (sender, receiver) = sync_channel::<Message>(PENDING_LINES);
        // Drains as the writer thread does: a batch every few milliseconds, not a wake per line.
        std::thread::spawn(move || {
            loop {
                loop {
                    match receiver.try_recv() {
                        Ok(_) => {}
                        Err(TryRecvError::Empty) => break,
                        Err(TryRecvError::Disconnected) => return,
                    }
                }
                std::thread::sleep(GATHER);
            }
        });
        ChannelWriter {
            sender,
            dropped: Arc::new(AtomicU64::new(0)),
        }
    }
    let builder = || {
        tracing_subscriber::fmt()
            .with_target(false)
            .with_ansi(false)
    };
    for round in 1..=3 {
        let default_sink = per_line(builder().with_writer(io::sink).finish());
        let text_sink = per_line(
            builder()
                .event_format(TextFormat::new())
                .with_writer(io::sink)
                .finish(),
        );
        let default_channel = per_line(builder().with_writer(channel()).finish());
        let text_channel = per_line(
            builder()
                .event_format(TextFormat::new())
                .with_writer(channel())
                .finish(),
        );
        println!(
            "round {round}: to a sink: default {default_sink:?}, text {text_sink:?}; \
             through the channel: default {default_channel:?}, text {text_channel:?}"
        );
    }
}
