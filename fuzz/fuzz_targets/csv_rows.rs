//! CSV files for `sfmc de import` (untrusted bytes): never a panic; each record carries the line
//! it starts on, 1-based, never decreasing and inside the input; no record holds more than
//! `MAX_RECORD_BYTES`: a longer one stops reading with an error naming its line, and the
//! reader's buffers stay bounded by the limit instead of growing with the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sfmc_client::bulk::MAX_RECORD_BYTES;
use sfmc_client::fuzzing::csv_records;

fuzz_target!(|data: &[u8]| {
    // An input starting with 0xFF is the rest tiled past the record limit, so the limit is
    // reached now and then without making every run slow.
    let tiled;
    let input = match data.split_first() {
        Some((0xFF, rest)) if !rest.is_empty() => {
            tiled = rest.repeat((MAX_RECORD_BYTES + 8) / rest.len() + 1);
            &tiled[..]
        }
        _ => data,
    };
    let run = csv_records(input);
    assert!(!run.io_error);
    let last_line = 1 + input.iter().filter(|&&b| b == b'\n').count() as u64;
    let mut previous = 1;
    for &(line, fields, bytes) in &run.records {
        assert!(line >= previous && line <= last_line, "line {line}");
        assert!(fields >= 1 && bytes <= MAX_RECORD_BYTES && bytes <= input.len());
        previous = line;
    }
    if let Some(line) = run.too_long {
        assert!(line >= previous && line <= last_line, "line {line}");
    }
    // Field ends never outnumber the input bytes a record may take (plus one), doubled once.
    assert!(run.buffers.0 <= MAX_RECORD_BYTES);
    assert!(run.buffers.1 <= 2 * (MAX_RECORD_BYTES + 3));
    // One line longer than the limit (a BOM and a line end allowed) is one record too long.
    if input.len() > MAX_RECORD_BYTES + 5 && !input.iter().any(|&b| b == b'\n' || b == b'\r') {
        assert!(run.records.is_empty());
        assert_eq!(run.too_long, Some(1));
    }
});
