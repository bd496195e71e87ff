//! Data extensions at scale: [`import_csv`] streams a CSV file into a data extension, and
//! [`export`] streams its rows out as CSV or NDJSON. Both are plain library calls (the CLI's
//! `sfmc de import|export` are thin shells over them), with memory flat in the data's size.
//!
//! # Import
//!
//! The header row names the columns; each further record is a row. Rows go, as an upsert, to
//! the asynchronous rows API (`PUT /data/v1/async/dataextensions/key:{key}/rows`, at most
//! [`MAX_ASYNC_ROWS`] rows and [`DEFAULT_MAX_BATCH_BYTES`] of JSON a request), each request's
//! status polled until it is done and its results read for the rows that failed — or, with
//! [`ImportApi::Sync`], to the rowset API (`POST /hub/v1/dataevents/key:{key}/rowset`,
//! [`MAX_SYNC_ROWS`] rows a request). At most [`ImportOptions::concurrency`] requests are open
//! at once (an open asynchronous request holds its slot until its results are read).
//!
//! - Before any row is sent: an empty input, a header without rows, or a bad header (an empty,
//!   duplicated or non-UTF-8 name) is an [`ImportError`]; so is an unknown data extension
//!   (Marketing Cloud's 404), and a header column the data extension does not have, when its
//!   columns can be known (it has rows: the first row read shows them).
//! - A record with the wrong number of fields, or not UTF-8, or larger than a request, is
//!   rejected with its line, and the others are imported. So is a row Marketing Cloud refuses
//!   (the asynchronous results, `Row N: …`, or the rowset's `additionalErrors`), and every row
//!   of a request it refuses with HTTP 400 as a whole. Rejects go to
//!   [`ImportObserver::reject`] as they happen: line, reason, and the row's fields.
//! - Throttling (429 with `Retry-After`) and 5xx are retried by the client's send path; both
//!   writes are upserts, hence idempotent. Any other failure (credentials, scope, the service
//!   down after retries, a status that cannot be read) stops the import, and the report says
//!   what was accepted until then.
//! - The `stop` future (Ctrl-C, a cancellation token's `cancelled()`) ends the import at once:
//!   nothing more is read or sent, and the report counts rows sent whose outcome was not yet
//!   known as [`ImportReport::unconfirmed`]. Dropping the import's future does the same; the
//!   import spawns no task, so nothing outlives it.
//!
//! # Export
//!
//! [`export`] reads `GET /data/v1/customobjectdata/key/{key}/rowset` (optionally `$filter`ed),
//! following `links.next`, and writes each row as it comes: CSV with a header of the first
//! row's columns (`keys`, then `values`, in the order Marketing Cloud gives them, lower-cased as
//! it returns them), or NDJSON (one flat `{"column":"value"}` object a line).

mod async_rows;
mod batch;
mod columns;
pub(crate) mod csv_source;
mod export;
mod import;
mod outcome;
mod preflight;
mod report;
mod rowset;

pub use csv_source::{BlockingRead, MAX_RECORD_BYTES};
pub use export::{ExportError, ExportFormat, ExportOptions, export};
pub use import::import_csv;
pub use report::{ImportError, ImportObserver, ImportReport, Progress, Reject, Stopped};

use std::time::Duration;

/// Most rows in one asynchronous rows request (Marketing Cloud's limit).
pub const MAX_ASYNC_ROWS: usize = 32_000;

/// Most rows in one rowset request (Marketing Cloud's recommendation).
pub const MAX_SYNC_ROWS: usize = 50;

/// The JSON a request carries at most by default: 4 MiB, below the rowset API's 5 MB limit
/// and far below what the asynchronous API accepts, so no request is refused for its size.
pub const DEFAULT_MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;

/// Which API rows go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImportApi {
    /// `PUT /data/v1/async/dataextensions/key:{key}/rows` (upsert), status and results polled.
    #[default]
    Async,
    /// `POST /hub/v1/dataevents/key:{key}/rowset` (upsert), answered at once.
    Sync,
}

/// How an import runs.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The API.
    pub api: ImportApi,
    /// Requests open at once (at least 1).
    pub concurrency: usize,
    /// Rows a request at most (capped at [`MAX_ASYNC_ROWS`] or [`MAX_SYNC_ROWS`]).
    pub max_batch_rows: usize,
    /// JSON bytes a request at most.
    pub max_batch_bytes: usize,
    /// The primary-key columns, for the rowset API's `keys` (default: the keys of the data
    /// extension's first row when it has rows, else the first column).
    pub primary_keys: Vec<String>,
    /// First wait before polling an asynchronous request's status; it doubles up to
    /// [`ImportOptions::poll_max`].
    pub poll_first: Duration,
    /// Longest wait between two status polls.
    pub poll_max: Duration,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            api: ImportApi::Async,
            concurrency: 4,
            max_batch_rows: MAX_ASYNC_ROWS,
            max_batch_bytes: DEFAULT_MAX_BATCH_BYTES,
            primary_keys: Vec::new(),
            poll_first: Duration::from_millis(100),
            poll_max: Duration::from_secs(5),
        }
    }
}

impl ImportOptions {
    /// Rows a request carries: the option, capped by the API's limit.
    pub fn batch_rows(&self) -> usize {
        let limit = match self.api {
            ImportApi::Async => MAX_ASYNC_ROWS,
            ImportApi::Sync => MAX_SYNC_ROWS,
        };
        self.max_batch_rows.clamp(1, limit)
    }
}
