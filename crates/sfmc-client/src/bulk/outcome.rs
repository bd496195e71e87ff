//! [`BatchOutcome`]: what became of one request's rows — accepted, rejected (each with its line,
//! reason and fields), or a failure that stops the import.

use super::batch::Batch;
use super::columns::Columns;
use super::report::Reject;
use crate::error::ClientError;

/// Whether Marketing Cloud may have written the rows of a request that ended with `error`: yes
/// unless it answered with a refusal (4xx, a throttle) or the request never left (no token, a
/// request the client refuses). A 5xx, a broken connection or a deadline leave it unknown.
pub(crate) fn may_have_written(error: &ClientError) -> bool {
    matches!(
        error,
        ClientError::ServiceFailure(_)
            | ClientError::Transport { .. }
            | ClientError::Deadline { .. }
            | ClientError::InvalidResponse(_)
    )
}

/// What became of one batch.
#[derive(Debug)]
pub(crate) struct BatchOutcome {
    /// Rows in the batch.
    pub rows: u64,
    /// Rows accepted.
    pub accepted: u64,
    /// Rows rejected.
    pub rejects: Vec<Reject>,
    /// A failure that stops the import, and whether Marketing Cloud may have written the rows
    /// that are neither accepted nor rejected.
    pub failure: Option<(ClientError, bool)>,
}

impl BatchOutcome {
    pub(crate) fn accepted(rows: u64) -> Self {
        Self {
            rows,
            accepted: rows,
            rejects: Vec::new(),
            failure: None,
        }
    }

    pub(crate) fn failed(rows: u64, error: ClientError, maybe_written: bool) -> Self {
        Self {
            rows,
            accepted: 0,
            rejects: Vec::new(),
            failure: Some((error, maybe_written)),
        }
    }

    /// Every row rejected for `reason`.
    pub(crate) fn all_rejected(batch: &Batch, columns: &Columns, reason: &str) -> Self {
        let rejects = (0..batch.len())
            .map(|i| Reject {
                line: batch.lines.get(i).copied(),
                reason: reason.to_owned(),
                fields: columns.fields_of(batch.item(i)),
            })
            .collect();
        Self {
            rows: batch.len() as u64,
            accepted: 0,
            rejects,
            failure: None,
        }
    }
}
