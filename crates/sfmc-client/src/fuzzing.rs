//! Entry points for the fuzz targets under `fuzz/fuzz_targets/` that reach private parsers of
//! outside input: the bulk import's CSV reader (`csv_rows`). Hidden from the documentation; not
//! an API to build on.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use crate::bulk::csv_source::{CsvSource, SourceError};

/// What the CSV reader made of an input.
#[derive(Debug, Default)]
pub struct CsvRun {
    /// Each record read, in order: the line it starts on, its number of fields, its bytes.
    pub records: Vec<(u64, usize, usize)>,
    /// `Some(line)` when reading stopped on a record longer than
    /// [`MAX_RECORD_BYTES`](crate::bulk::MAX_RECORD_BYTES) starting on `line`.
    pub too_long: Option<u64>,
    /// Whether reading stopped on an I/O error (never, for bytes in memory).
    pub io_error: bool,
    /// The largest record and field-end buffers held while reading, in elements.
    pub buffers: (usize, usize),
}

/// Reads `input` as the bulk import does, record by record, to its end or its first error.
pub fn csv_records(input: &[u8]) -> CsvRun {
    // Bytes in memory never make the reader wait: polling with a no-op waker completes it.
    let mut future = pin!(read_all(input));
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(run) = future.as_mut().poll(&mut context) {
            return run;
        }
    }
}

async fn read_all(input: &[u8]) -> CsvRun {
    let mut source = CsvSource::new(input);
    let mut run = CsvRun::default();
    loop {
        let next = source
            .next_record()
            .await
            .map(|r| r.map(|r| (r.line, r.len(), r.fields().map(<[u8]>::len).sum())));
        let (record, ends) = source.buffer_lens();
        run.buffers = (run.buffers.0.max(record), run.buffers.1.max(ends));
        match next {
            Ok(Some(record)) => run.records.push(record),
            Ok(None) => return run,
            Err(SourceError::RecordTooLong(line)) => {
                run.too_long = Some(line);
                return run;
            }
            Err(SourceError::Io(_)) => {
                run.io_error = true;
                return run;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bulk::MAX_RECORD_BYTES;

    #[test]
    fn reports_lines_fields_and_the_record_limit() {
        let run = csv_records(b"id,name\n\n1,\"a\nb\"\r\n2,c");
        assert_eq!(run.records, [(1, 2, 6), (3, 2, 4), (5, 2, 2)]);
        assert_eq!((run.too_long, run.io_error), (None, false));
        let long = vec![b'x'; MAX_RECORD_BYTES + 10];
        let run = csv_records(&long);
        assert!(run.records.is_empty());
        assert_eq!(run.too_long, Some(1));
        assert!(run.buffers.0 <= MAX_RECORD_BYTES);
    }
}
