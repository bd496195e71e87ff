//! The text log line, written by hand instead of by tracing_subscriber's default `Format<Full>`
//! but byte for byte the same (with `with_target(false)`):
//!
//! ```text
//! 2026-11-30T05:04:21.123456Z  INFO request method=GET path="/connections/demo/rest/x" status=200
//! ```
//!
//! — an RFC 3339 UTC timestamp with microseconds, a space, the level right-aligned to five
//! characters, a space, the spans (`name{fields}:` each, then a space; none in this code base,
//! which opens no spans, but a dependency's spans under a verbose `RUST_LOG` still show), then the
//! fields separated by spaces: the `message` field bare, every other as `name=value` with a
//! string quoted and escaped as `{:?}` does, a number, bool or other value as `{:?}` does, an
//! error as its text and its `name.sources=[...]`. On a terminal (ANSI on) the timestamp is dim,
//! the level coloured, field names italic, as tracing_subscriber does. The message and error texts
//! have terminal control characters escaped (tracing_subscriber's ANSI sanitizing, on unless
//! turned off).
//!
//! What makes it cheaper: the timestamp's date and time of day are cached per second
//! ([`super::timestamp`]); a string with only printable ASCII is written between quotes as is,
//! without `{:?}` escaping it char by char; integers go through `itoa`; the level is a constant.

use std::error::Error;
use std::fmt::{self, Write};
use std::time::Duration;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

use super::timestamp;

const DIMMED: &str = "\x1b[2m";
const ITALIC: &str = "\x1b[3m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// The text format of every log line (the server's buffered one and the CLI's direct one).
#[derive(Debug, Clone, Copy)]
pub(super) struct TextFormat {
    /// Where the time comes from: the wall clock, or a fixed instant in tests.
    now: fn() -> Duration,
}

impl TextFormat {
    /// Lines stamped with the wall clock.
    pub(super) fn new() -> Self {
        Self {
            now: timestamp::since_epoch,
        }
    }
}

impl<S, N> FormatEvent<S, N> for TextFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let ansi = writer.has_ansi_escapes();
        if ansi {
            writer.write_str(DIMMED)?;
            timestamp::write(&mut writer, (self.now)())?;
            writer.write_str(RESET)?;
        } else {
            timestamp::write(&mut writer, (self.now)())?;
        }
        writer.write_char(' ')?;
        let (level, colour) = level_text(*event.metadata().level());
        if ansi {
            writer.write_str(colour)?;
            writer.write_str(level)?;
            writer.write_str(RESET)?;
        } else {
            writer.write_str(level)?;
        }
        writer.write_char(' ')?;
        if let Some(scope) = ctx.event_scope() {
            let mut seen = false;
            for span in scope.from_root() {
                seen = true;
                styled(&mut writer, ansi, BOLD, span.metadata().name())?;
                let extensions = span.extensions();
                if let Some(fields) = extensions.get::<FormattedFields<N>>()
                    && !fields.is_empty()
                {
                    styled(&mut writer, ansi, BOLD, "{")?;
                    writer.write_str(fields)?;
                    styled(&mut writer, ansi, BOLD, "}")?;
                }
                styled(&mut writer, ansi, DIMMED, ":")?;
            }
            if seen {
                writer.write_char(' ')?;
            }
        }
        let mut fields = FieldWriter {
            sanitize: writer.sanitizes_ansi_escapes(),
            writer,
            ansi,
            first: true,
            result: Ok(()),
        };
        event.record(&mut fields);
        fields.result?;
        fields.writer.write_char('\n')
    }
}

/// The level padded to five characters, and its colour on a terminal.
fn level_text(level: Level) -> (&'static str, &'static str) {
    match level {
        Level::TRACE => ("TRACE", "\x1b[35m"),
        Level::DEBUG => ("DEBUG", "\x1b[34m"),
        Level::INFO => (" INFO", "\x1b[32m"),
        Level::WARN => (" WARN", "\x1b[33m"),
        Level::ERROR => ("ERROR", "\x1b[31m"),
    }
}

/// `text` in `style` when `ansi`, else plain.
fn styled(writer: &mut Writer<'_>, ansi: bool, style: &str, text: &str) -> fmt::Result {
    if ansi {
        writer.write_str(style)?;
        writer.write_str(text)?;
        writer.write_str(RESET)
    } else {
        writer.write_str(text)
    }
}

/// Writes an event's fields, as tracing_subscriber's `DefaultVisitor` does.
struct FieldWriter<'w> {
    writer: Writer<'w>,
    ansi: bool,
    sanitize: bool,
    first: bool,
    result: fmt::Result,
}

impl FieldWriter<'_> {
    /// Writes the separator and, but for the message, `name=`; then `value`.
    fn field(&mut self, field: &Field, value: impl FnOnce(&mut Self) -> fmt::Result) {
        if self.result.is_err() {
            return;
        }
        self.result = self.write_field(field, value);
    }

    fn write_field(
        &mut self,
        field: &Field,
        value: impl FnOnce(&mut Self) -> fmt::Result,
    ) -> fmt::Result {
        if self.first {
            self.first = false;
        } else {
            self.writer.write_char(' ')?;
        }
        let name = field.name();
        if name != "message" {
            let name = name.strip_prefix("r#").unwrap_or(name);
            styled(&mut self.writer, self.ansi, ITALIC, name)?;
            styled(&mut self.writer, self.ansi, DIMMED, "=")?;
        }
        value(self)
    }

    /// `text` with terminal control characters escaped when sanitizing.
    fn sanitized(&mut self, text: fmt::Arguments<'_>) -> fmt::Result {
        if self.sanitize {
            Sanitizing(&mut self.writer).write_fmt(text)
        } else {
            self.writer.write_fmt(text)
        }
    }

    fn integer(&mut self, field: &Field, value: impl itoa::Integer + fmt::Debug) {
        if field.name() == "message" {
            return self.record_debug(field, &value);
        }
        self.field(field, |this| {
            this.writer.write_str(itoa::Buffer::new().format(value))
        });
    }
}

impl Visit for FieldWriter<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            return self.field(field, |this| this.sanitized(format_args!("{value}")));
        }
        self.field(field, |this| {
            let plain = value
                .bytes()
                .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\');
            if plain {
                this.writer.write_char('"')?;
                this.writer.write_str(value)?;
                this.writer.write_char('"')
            } else {
                write!(this.writer, "{value:?}")
            }
        });
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.integer(field, value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.integer(field, value);
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.integer(field, value);
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.integer(field, value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if field.name() == "message" {
            return self.record_debug(field, &value);
        }
        self.field(field, |this| {
            this.writer.write_str(if value { "true" } else { "false" })
        });
    }

    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        self.field(field, |this| {
            this.sanitized(format_args!("{value}"))?;
            let Some(mut source) = value.source() else {
                return Ok(());
            };
            this.writer.write_char(' ')?;
            let name = field.name();
            styled(&mut this.writer, this.ansi, ITALIC, name)?;
            styled(&mut this.writer, this.ansi, ITALIC, ".sources")?;
            styled(&mut this.writer, this.ansi, DIMMED, "=")?;
            this.writer.write_char('[')?;
            this.sanitized(format_args!("{source}"))?;
            while let Some(next) = source.source() {
                this.writer.write_str(", ")?;
                this.sanitized(format_args!("{next}"))?;
                source = next;
            }
            this.writer.write_char(']')
        });
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            return self.field(field, |this| this.sanitized(format_args!("{value:?}")));
        }
        self.field(field, |this| write!(this.writer, "{value:?}"));
    }
}

/// Passes text on with the characters a terminal could take for control sequences (ESC, BEL,
/// BS, FF, DEL and the C1 controls) escaped, as tracing_subscriber's sanitizing does.
struct Sanitizing<'a, 'w>(&'a mut Writer<'w>);

impl Write for Sanitizing<'_, '_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        // C1 controls (U+0080..U+009F) are encoded as 0xC2 0x80..0x9F.
        let risky = |b: &u8| matches!(b, 0x1b | 0x07 | 0x08 | 0x0c | 0x7f | 0xc2);
        if !text.as_bytes().iter().any(risky) {
            return self.0.write_str(text);
        }
        for ch in text.chars() {
            match ch {
                '\x1b' => self.0.write_str("\\x1b")?,
                '\x07' => self.0.write_str("\\x07")?,
                '\x08' => self.0.write_str("\\x08")?,
                '\x0c' => self.0.write_str("\\x0c")?,
                '\x7f' => self.0.write_str("\\x7f")?,
                '\u{80}'..='\u{9f}' => write!(self.0, "\\u{{{:x}}}", ch as u32)?,
                _ => self.0.write_char(ch)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
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
}
