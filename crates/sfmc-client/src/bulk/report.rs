//! What an import tells its caller: [`Progress`] and [`Reject`]s as it goes (through an
//! [`ImportObserver`]), an [`ImportReport`] at the end, and [`ImportError`] for what stops it.

use std::io;

use crate::error::{ClientError, ErrorClass};

/// Counts so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Input bytes read.
    pub bytes_read: u64,
    /// Data rows read (the header not counted).
    pub rows_read: u64,
    /// Rows sent to Marketing Cloud.
    pub rows_sent: u64,
    /// Rows Marketing Cloud has accepted.
    pub accepted: u64,
    /// Rows rejected (by the import or by Marketing Cloud).
    pub rejected: u64,
}

/// A row that was not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// The CSV line the row starts on; `None` when Marketing Cloud named a failure without
    /// saying which row.
    pub line: Option<u64>,
    /// Why.
    pub reason: String,
    /// The row's fields as read (empty when unknown).
    pub fields: Vec<String>,
}

/// Receives an import's progress and rejects as they happen.
pub trait ImportObserver {
    /// The header was read: the columns, as written.
    fn header(&mut self, columns: &[String]) {
        let _ = columns;
    }

    /// The counts changed.
    fn progress(&mut self, progress: &Progress) {
        let _ = progress;
    }

    /// A row was rejected; an error stops the import ([`ImportError::Rejects`]).
    fn reject(&mut self, reject: &Reject) -> io::Result<()> {
        let _ = reject;
        Ok(())
    }
}

/// An observer that ignores everything.
impl ImportObserver for () {}

/// Why an import could not start, or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The input has nothing in it (not even a header).
    #[error("the input is empty: expected a header row naming the columns, then rows")]
    Empty,
    /// The input has a header and no rows.
    #[error("the input has a header ({}) and no rows", .0.join(", "))]
    NoRows(Vec<String>),
    /// The input cannot be read or parsed, or its header is wrong.
    #[error("{0}")]
    Input(String),
    /// Header columns the data extension does not have.
    #[error(
        "column{} {} of the header {} not in data extension {key:?} (its columns: {})",
        if .unknown.len() == 1 { "" } else { "s" },
        quoted(.unknown),
        if .unknown.len() == 1 { "is" } else { "are" },
        .known.join(", ")
    )]
    UnknownColumns {
        /// The data extension.
        key: String,
        /// The header's unknown columns.
        unknown: Vec<String>,
        /// The data extension's columns (as Marketing Cloud names them in reads).
        known: Vec<String>,
    },
    /// Marketing Cloud refused or failed (after the retries the send path allows).
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The observer could not take a reject (writing the reject file failed).
    #[error("cannot record a rejected row: {0}")]
    Rejects(io::Error),
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl ImportError {
    /// What the caller should do: fix the input, accept Marketing Cloud's no, or try later.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Empty | Self::NoRows(_) | Self::Input(_) | Self::UnknownColumns { .. } => {
                ErrorClass::InvalidInput
            }
            Self::Client(error) => error.class(),
            // The caller's own output (a reject file that cannot be written).
            Self::Rejects(_) => ErrorClass::InvalidInput,
        }
    }
}

/// Why an import ended before the end of its input.
#[derive(Debug)]
pub enum Stopped {
    /// The `stop` future resolved.
    Cancelled,
    /// A failure no retry could fix.
    Failed(ImportError),
}

/// How an import went.
#[derive(Debug)]
pub struct ImportReport {
    /// The header's columns.
    pub columns: Vec<String>,
    /// Data rows read.
    pub rows: u64,
    /// Rows Marketing Cloud accepted.
    pub accepted: u64,
    /// Rows rejected (each one went to [`ImportObserver::reject`]).
    pub rejected: u64,
    /// Rows sent whose outcome was not known when the import stopped (an asynchronous request
    /// accepted but not yet complete, or a request without an answer): Marketing Cloud may
    /// still write them.
    pub unconfirmed: u64,
    /// Rows read but never sent (the import stopped first).
    pub unsent: u64,
    /// Requests that carried rows.
    pub batches: u64,
    /// `None` when the whole input was processed.
    pub stopped: Option<Stopped>,
}

impl ImportReport {
    /// A report of nothing read and nothing sent yet.
    pub(crate) fn empty() -> Self {
        Self {
            columns: Vec::new(),
            rows: 0,
            accepted: 0,
            rejected: 0,
            unconfirmed: 0,
            unsent: 0,
            batches: 0,
            stopped: None,
        }
    }
}
