//! One batch through the rowset API: `POST /hub/v1/dataevents/key:{key}/rowset` (an upsert,
//! sent as idempotent so a 5xx is retried like a 429). The API takes all rows or none: a 400
//! whose details name rows (`Row N: …` in `additionalErrors`) gets those rows rejected and the
//! others sent once more; a 400 naming no row rejects the whole batch.

use reqwest::Method;

use super::async_rows::row_number;
use super::batch::Batch;
use super::columns::Columns;
use super::outcome::{BatchOutcome, may_have_written};
use super::report::Reject;
use crate::catalog::encode_segment;
use crate::client::Client;
use crate::error::ClientError;
use crate::request::ApiRequest;

/// Sends `batch` to data extension `key`.
pub(crate) async fn run(
    client: &Client,
    key: &str,
    columns: &Columns,
    batch: Batch,
) -> BatchOutcome {
    let rows = batch.len() as u64;
    let error = match send(client, key, &batch).await {
        Ok(()) => return BatchOutcome::accepted(rows),
        Err(error) if is_bad_request(&error) => error,
        Err(error) => {
            let maybe_written = may_have_written(&error);
            return BatchOutcome::failed(rows, error, maybe_written);
        }
    };
    let named = named_rows(&error, batch.len());
    if named.is_empty() {
        return BatchOutcome::all_rejected(&batch, columns, &error.to_string());
    }
    let mut rejects: Vec<Reject> = named
        .iter()
        .map(|(index, reason)| Reject {
            line: batch.lines.get(*index).copied(),
            reason: reason.clone(),
            fields: columns.fields_of(batch.item(*index)),
        })
        .collect();
    let others: Vec<usize> = (0..batch.len())
        .filter(|i| !named.iter().any(|(n, _)| n == i))
        .collect();
    if others.is_empty() {
        return BatchOutcome {
            rows,
            accepted: 0,
            rejects,
            failure: None,
        };
    }
    let retry = batch.subset(&others);
    match send(client, key, &retry).await {
        Ok(()) => BatchOutcome {
            rows,
            accepted: others.len() as u64,
            rejects,
            failure: None,
        },
        Err(error) if is_bad_request(&error) => {
            rejects.extend(BatchOutcome::all_rejected(&retry, columns, &error.to_string()).rejects);
            BatchOutcome {
                rows,
                accepted: 0,
                rejects,
                failure: None,
            }
        }
        Err(error) => {
            let maybe_written = may_have_written(&error);
            BatchOutcome {
                rows,
                accepted: 0,
                rejects,
                failure: Some((error, maybe_written)),
            }
        }
    }
}

async fn send(client: &Client, key: &str, batch: &Batch) -> Result<(), ClientError> {
    let path = format!("/hub/v1/dataevents/key:{}/rowset", encode_segment(key));
    let request = ApiRequest::new(Method::POST, path)
        .bytes("application/json", batch.body.clone())
        .idempotent(true);
    client.send(request).await.map(drop)
}

fn is_bad_request(error: &ClientError) -> bool {
    error.status().is_some_and(|s| s.as_u16() == 400)
}

/// The rows (0-based) a 400's details name, each with its message.
fn named_rows(error: &ClientError, rows: usize) -> Vec<(usize, String)> {
    let Some(api) = error.api_error() else {
        return Vec::new();
    };
    let mut named: Vec<(usize, String)> = Vec::new();
    for message in api.body.detail_messages() {
        if let Some(n) = row_number(&message).filter(|n| (1..=rows).contains(n))
            && !named.iter().any(|(i, _)| *i == n - 1)
        {
            named.push((n - 1, message));
        }
    }
    named
}
