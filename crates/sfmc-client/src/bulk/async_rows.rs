//! One batch through the asynchronous rows API: `PUT /data/v1/async/dataextensions/key:{key}/rows`
//! (an upsert: idempotent, so the send path retries it after a 5xx as after a 429) → 202
//! `{requestId}`; `GET /data/v1/async/{requestId}/status` until `requestStatus` is no longer
//! `Pending` (waits doubling from `poll_first` to `poll_max`); then, when it has errors,
//! `GET /data/v1/async/{requestId}/results` page by page, each failed row (`Row N: …` in its
//! message) rejected with its CSV line and fields.

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use super::batch::Batch;
use super::columns::Columns;
use super::outcome::{BatchOutcome, may_have_written};
use super::report::Reject;
use crate::catalog::encode_segment;
use crate::client::Client;
use crate::error::ClientError;
use crate::request::ApiRequest;

/// How long one request's status is polled before its rows are reported unconfirmed: a request
/// of 32,000 rows that is still pending after this is stuck, not slow.
const STATUS_WAIT_LIMIT: Duration = Duration::from_secs(30 * 60);

/// Result items asked for per page.
const RESULTS_PAGE_SIZE: u64 = 1000;

/// When to poll a request's status.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PollSchedule {
    pub first: Duration,
    pub max: Duration,
}

/// Sends `batch` to data extension `key` and follows it to its results.
pub(crate) async fn run(
    client: &Client,
    key: &str,
    columns: &Columns,
    batch: Batch,
    poll: PollSchedule,
) -> BatchOutcome {
    let rows = batch.len() as u64;
    let path = format!(
        "/data/v1/async/dataextensions/key:{}/rows",
        encode_segment(key)
    );
    let request = ApiRequest::new(Method::PUT, path).bytes("application/json", batch.body.clone());
    let answer = match client.send(request).await {
        Ok(answer) => answer.json(),
        Err(error) if error.status().is_some_and(|s| s.as_u16() == 400) => {
            return BatchOutcome::all_rejected(&batch, columns, &error.to_string());
        }
        Err(error) => {
            let maybe_written = may_have_written(&error);
            return BatchOutcome::failed(rows, error, maybe_written);
        }
    };
    let Some(id) = answer.get("requestId").and_then(Value::as_str) else {
        let error = ClientError::InvalidResponse(format!(
            "the asynchronous rows request was accepted without a requestId: {}",
            truncated(&answer)
        ));
        return BatchOutcome::failed(rows, error, true);
    };
    let status = match wait_until_done(client, id, poll).await {
        Ok(status) => status,
        Err(error) => return BatchOutcome::failed(rows, error, true),
    };
    let field = |name: &str| status.get(name).and_then(Value::as_str).unwrap_or_default();
    let has_errors = status.get("hasErrors").and_then(Value::as_bool) == Some(true)
        || field("requestStatus").eq_ignore_ascii_case("error")
        || field("resultStatus").eq_ignore_ascii_case("error");
    if !has_errors {
        return BatchOutcome::accepted(rows);
    }
    let failed = match results(client, id).await {
        Ok(items) => items,
        Err(error) => return BatchOutcome::failed(rows, error, true),
    };
    if failed.is_empty() {
        let reason = format!(
            "Marketing Cloud reported request {id} as {} ({}) without naming the rows",
            field("requestStatus"),
            field("resultStatus")
        );
        return BatchOutcome::all_rejected(&batch, columns, &reason);
    }
    rejects_from_results(&batch, columns, &failed)
}

/// The status object once the request is no longer pending.
async fn wait_until_done(
    client: &Client,
    id: &str,
    poll: PollSchedule,
) -> Result<Value, ClientError> {
    let path = format!("/data/v1/async/{}/status", encode_segment(id));
    let mut wait = poll.first;
    let mut waited = Duration::ZERO;
    loop {
        if waited >= STATUS_WAIT_LIMIT {
            // Its rows may still be written: the caller reports them unconfirmed.
            return Err(ClientError::Deadline {
                after: STATUS_WAIT_LIMIT,
                last: None,
            });
        }
        tokio::time::sleep(wait).await;
        waited += wait;
        let mut answer = client
            .send(ApiRequest::new(Method::GET, &path))
            .await?
            .json();
        let status = answer
            .get_mut("status")
            .map(Value::take)
            .unwrap_or_default();
        let state = status.get("requestStatus").and_then(Value::as_str);
        match state {
            Some(state) if !state.eq_ignore_ascii_case("pending") => return Ok(status),
            Some(_) => {}
            None => {
                return Err(ClientError::InvalidResponse(format!(
                    "the status of asynchronous request {id} has no requestStatus: {}",
                    truncated(&answer)
                )));
            }
        }
        wait = (wait * 2).min(poll.max);
    }
}

/// Every item of the request's results.
async fn results(client: &Client, id: &str) -> Result<Vec<Value>, ClientError> {
    let path = format!("/data/v1/async/{}/results", encode_segment(id));
    let mut items = Vec::new();
    for page in 1_u64.. {
        let request = ApiRequest::new(Method::GET, &path)
            .query("$page", page.to_string())
            .query("$pageSize", RESULTS_PAGE_SIZE.to_string());
        let mut answer = client.send(request).await?.json();
        let count = answer.get("count").and_then(Value::as_u64).unwrap_or(0);
        let on_page = match answer.get_mut("items").map(Value::take) {
            Some(Value::Array(on_page)) => on_page,
            _ => Vec::new(),
        };
        let last = on_page.is_empty() || page.saturating_mul(RESULTS_PAGE_SIZE) >= count;
        items.extend(on_page);
        if last {
            break;
        }
    }
    Ok(items)
}

/// The outcome from the result items: rows named `Row N` rejected with their line; items
/// naming no row counted against the rows not named.
fn rejects_from_results(batch: &Batch, columns: &Columns, items: &[Value]) -> BatchOutcome {
    let rows = batch.len();
    let mut named = vec![false; rows];
    let mut rejects = Vec::new();
    let mut unnamed = Vec::new();
    for item in items {
        let text = |name: &str| item.get(name).and_then(Value::as_str).unwrap_or_default();
        let (code, message) = (text("errorCode"), text("message"));
        let reason = if code.is_empty() {
            message.to_owned()
        } else {
            format!("{code}: {message}")
        };
        match row_number(message).filter(|n| (1..=rows).contains(n)) {
            Some(n) if !named[n - 1] => {
                named[n - 1] = true;
                rejects.push(Reject {
                    line: batch.lines.get(n - 1).copied(),
                    reason,
                    fields: columns.fields_of(batch.item(n - 1)),
                });
            }
            Some(_) => {}
            None => unnamed.push(reason),
        }
    }
    let left = rows - rejects.len();
    for reason in unnamed.into_iter().take(left) {
        rejects.push(Reject {
            line: None,
            reason: format!(
                "{reason} (a row of the request with lines {}–{})",
                batch.lines.first().copied().unwrap_or_default(),
                batch.lines.last().copied().unwrap_or_default()
            ),
            fields: Vec::new(),
        });
    }
    BatchOutcome {
        rows: rows as u64,
        accepted: (rows - rejects.len()) as u64,
        rejects,
        failure: None,
    }
}

/// `N` of a message starting `Row N:` (any case).
pub(crate) fn row_number(message: &str) -> Option<usize> {
    let rest = message.trim_start();
    let rest = rest.get(..4).filter(|p| p.eq_ignore_ascii_case("row "))?;
    let digits: String = message.trim_start()[rest.len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn truncated(value: &Value) -> String {
    value.to_string().chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_numbers_come_from_the_message() {
        assert_eq!(row_number("Row 12: The column \"x\" …"), Some(12));
        assert_eq!(row_number("row 3"), Some(3));
        assert_eq!(row_number("Something else"), None);
        assert_eq!(row_number("Row x"), None);
        assert_eq!(row_number("Ro"), None);
    }
}
