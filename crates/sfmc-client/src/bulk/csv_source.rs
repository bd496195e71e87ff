//! Reading CSV records from any [`AsyncRead`] with `csv-core`'s push parser, so memory stays
//! flat in the file's size: one read buffer, one record's bytes and field ends, reused. Each
//! record comes with the line it starts on (1-based, counting `\n`; blank lines are skipped as
//! `csv` does). [`BlockingRead`] adapts a `std::io::Read` (a file, bytes in memory).
//!
//! Quoting follows RFC 4180 (`"` quotes, `""` escapes, fields may span lines); a leading UTF-8
//! byte order mark is dropped. A record longer than [`MAX_RECORD_BYTES`] of input (an unclosed
//! quote, most likely, or a line of nothing but commas) is an error: the rest of the file cannot
//! be trusted. The limit counts the input, delimiters and quotes included, so the field ends
//! kept for one record are bounded too.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use csv_core::{ReadRecordResult, Reader};
use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};

/// The longest record read, in bytes: a longer one is an input error.
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;

/// Bytes asked of the reader at a time.
const READ_CHUNK: usize = 256 * 1024;

/// A record as read: its first line, its bytes and where each field ends in them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawRecord<'a> {
    /// The line the record starts on (1-based).
    pub line: u64,
    data: &'a [u8],
    ends: &'a [usize],
}

impl<'a> RawRecord<'a> {
    /// Number of fields.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// The fields' bytes, in order.
    pub fn fields(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let (data, ends) = (self.data, self.ends);
        ends.iter().scan(0, move |start, &end| {
            let field = &data[*start..end];
            *start = end;
            Some(field)
        })
    }

    /// The fields as text, or the 1-based number of the first field that is not UTF-8.
    pub fn text_fields(&self) -> Result<Vec<&'a str>, usize> {
        self.fields()
            .enumerate()
            .map(|(i, field)| std::str::from_utf8(field).map_err(|_| i + 1))
            .collect()
    }

    /// The fields as text, invalid UTF-8 replaced (for reports).
    pub fn lossy_fields(&self) -> Vec<String> {
        self.fields()
            .map(|field| String::from_utf8_lossy(field).into_owned())
            .collect()
    }
}

/// Why reading stopped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SourceError {
    /// The reader failed.
    #[error("cannot read the input: {0}")]
    Io(#[from] io::Error),
    /// A record grew past [`MAX_RECORD_BYTES`].
    #[error(
        "line {0}: a record longer than {MAX_RECORD_BYTES} bytes (is a quote left open?); the rest of the input cannot be read"
    )]
    RecordTooLong(u64),
}

/// CSV records from `R`, one at a time.
pub(crate) struct CsvSource<R> {
    reader: R,
    parser: Reader,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    bytes_read: u64,
    record: Vec<u8>,
    ends: Vec<usize>,
    /// A record read by [`CsvSource::has_next`], not yet returned: line, bytes, fields.
    held: Option<(u64, usize, usize)>,
}

impl<R: AsyncRead + Unpin> CsvSource<R> {
    /// A source reading `reader`.
    pub fn new(reader: R) -> Self {
        Self {
            reader,
            parser: Reader::new(),
            buf: vec![0; READ_CHUNK],
            start: 0,
            end: 0,
            eof: false,
            bytes_read: 0,
            record: vec![0; 1024],
            ends: vec![0; 64],
            held: None,
        }
    }

    /// Bytes read from the reader so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// The lengths of the record and field-end buffers, as grown so far (for the fuzz
    /// targets' bound on memory).
    pub fn buffer_lens(&self) -> (usize, usize) {
        (self.record.len(), self.ends.len())
    }

    /// Whether another record follows (it is read now and returned by the next
    /// [`CsvSource::next_record`]).
    pub async fn has_next(&mut self) -> Result<bool, SourceError> {
        if self.held.is_none() {
            self.held = self
                .next_record()
                .await?
                .map(|r| (r.line, r.data.len(), r.ends.len()));
        }
        Ok(self.held.is_some())
    }

    /// The next record, `None` at the end of the input.
    pub async fn next_record(&mut self) -> Result<Option<RawRecord<'_>>, SourceError> {
        if let Some((line, out, nends)) = self.held.take() {
            return Ok(Some(RawRecord {
                line,
                data: &self.record[..out],
                ends: &self.ends[..nends],
            }));
        }
        let (mut out, mut nends, mut consumed) = (0, 0, 0);
        let mut line = None;
        loop {
            if self.start == self.end && !self.eof {
                self.fill().await?;
            }
            if line.is_none() {
                // Blank lines before a record are skipped here, so the record's line is exact.
                self.skip_line_ends();
                if self.start == self.end && !self.eof {
                    continue;
                }
                line = Some(self.parser.line());
            }
            let input = &self.buf[self.start..self.end];
            let (result, nin, nout, nend) =
                self.parser
                    .read_record(input, &mut self.record[out..], &mut self.ends[nends..]);
            self.start += nin;
            out += nout;
            nends += nend;
            consumed += nin;
            let first_line = line.unwrap_or(1);
            // The record's own line end (`\r\n`) does not count against it.
            if consumed > MAX_RECORD_BYTES + 2 {
                return Err(SourceError::RecordTooLong(first_line));
            }
            match result {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => {
                    if self.record.len() >= MAX_RECORD_BYTES {
                        return Err(SourceError::RecordTooLong(first_line));
                    }
                    let grown = (self.record.len() * 2).min(MAX_RECORD_BYTES);
                    self.record.resize(grown, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    let grown = self.ends.len() * 2;
                    self.ends.resize(grown, 0);
                }
                ReadRecordResult::Record => {
                    return Ok(Some(RawRecord {
                        line: first_line,
                        data: &self.record[..out],
                        ends: &self.ends[..nends],
                    }));
                }
                ReadRecordResult::End => return Ok(None),
            }
        }
    }

    /// Drops `\r` and `\n` at the read position (between records), counting lines.
    fn skip_line_ends(&mut self) {
        let mut line = self.parser.line();
        while self.start < self.end && matches!(self.buf[self.start], b'\n' | b'\r') {
            line += u64::from(self.buf[self.start] == b'\n');
            self.start += 1;
        }
        self.parser.set_line(line);
    }

    async fn fill(&mut self) -> io::Result<()> {
        self.start = 0;
        self.end = 0;
        let n = loop {
            match self.reader.read(&mut self.buf).await {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                result => break result?,
            }
        };
        self.end = n;
        self.eof = n == 0;
        self.bytes_read += n as u64;
        Ok(())
    }
}

/// A `std::io::Read` as an [`AsyncRead`] that reads inline: for files and bytes in memory,
/// whose reads do not wait for long (use `tokio::io::stdin()` for a pipe or terminal).
#[derive(Debug)]
pub struct BlockingRead<R>(pub R);

impl<R: io::Read + Unpin> AsyncRead for BlockingRead<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let n = this.0.read(buf.initialize_unfilled())?;
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn records(input: &[u8]) -> Result<Vec<(u64, Vec<String>)>, SourceError> {
        let mut source = CsvSource::new(input);
        let mut all = Vec::new();
        while let Some(record) = source.next_record().await? {
            all.push((record.line, record.lossy_fields()));
        }
        Ok(all)
    }

    #[tokio::test]
    async fn records_carry_their_first_line() {
        let input = b"\xef\xbb\xbfid,note\n1,a\n\n2,\"multi\nline\"\r\n3,\"q\"\"uote\"\n4,last";
        let all = records(input).await.unwrap_or_else(|e| panic!("{e}"));
        let lines: Vec<u64> = all.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [1, 2, 4, 6, 7]);
        assert_eq!(all[0].1, ["id", "note"]);
        assert_eq!(all[2].1, ["2", "multi\nline"]);
        assert_eq!(all[3].1, ["3", "q\"uote"]);
        assert_eq!(all[4].1, ["4", "last"]);
    }

    #[tokio::test]
    async fn empty_input_has_no_records_and_long_records_stop_reading() {
        assert!(records(b"").await.unwrap_or_default().is_empty());
        assert!(records(b"\n\r\n").await.unwrap_or_default().is_empty());
        let mut open_quote = b"id\n\"".to_vec();
        open_quote.extend(std::iter::repeat_n(b'x', MAX_RECORD_BYTES + 10));
        let error = records(&open_quote).await.err();
        assert!(
            matches!(error, Some(SourceError::RecordTooLong(2))),
            "{error:?}"
        );
        // Empty fields take no record bytes, only field ends: the input's size bounds them.
        let mut commas = b"id\n1\n".to_vec();
        commas.extend(std::iter::repeat_n(b',', MAX_RECORD_BYTES + 10));
        commas.push(b'\n');
        let error = records(&commas).await.err();
        assert!(
            matches!(error, Some(SourceError::RecordTooLong(3))),
            "{error:?}"
        );
        let mut longest = b"id\n".to_vec();
        longest.extend(std::iter::repeat_n(b'x', MAX_RECORD_BYTES - 1));
        longest.extend_from_slice(b"\r\n2\n");
        let all = records(&longest).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(all.len(), 3);
    }

    #[tokio::test]
    async fn bad_utf8_names_its_field() {
        let mut source = CsvSource::new(&b"a,\xff\xfe,c\n"[..]);
        let record = source.next_record().await.ok().flatten();
        assert_eq!(record.map(|r| r.text_fields()), Some(Err(2)));
    }
}
