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
//! turned off). Two corners differ, neither reachable here: a clock before 1970 is written as
//! 1970-01-01T00:00:00 (not a negative year), and an error passed as the `message` field on a
//! terminal keeps its italic codes (tracing_subscriber escapes its own codes there).
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
mod tests;
