//! Export: a data extension's rows (`GET /data/v1/customobjectdata/key/{key}/rowset`,
//! optionally `$filter`ed, following `links.next`) written as they come, as CSV or NDJSON.
//!
//! A row is `{"keys":{…},"values":{…}}`; its columns are the keys' then the values'. The CSV
//! header is the first row's columns; every later row is written in that order (a column it
//! lacks is empty; a column the first row did not have is an error, as the file could not
//! hold it). NDJSON lines are flat objects, `{"column":"value",…}`.

use std::io::{self, Write};

use futures_util::StreamExt;
use serde_json::{Map, Value};

use crate::client::Client;
use crate::error::ClientError;

/// Rows asked for per page (the largest the rowset read accepts).
const PAGE_SIZE: u32 = 2500;

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExportFormat {
    /// CSV with a header row.
    #[default]
    Csv,
    /// One JSON object a line.
    Ndjson,
}

/// What to export.
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// A `$filter` (e.g. `email like '%@example.com'`).
    pub filter: Option<String>,
    /// The format.
    pub format: ExportFormat,
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Marketing Cloud refused or failed, or its answer was not rows.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// Writing the output failed.
    #[error("cannot write the output: {0}")]
    Write(#[from] io::Error),
}

/// Writes every row of data extension `key` to `out` as `options` say, calling `progress` with
/// the number of rows written after each page; returns that number. `out` is flushed at the
/// end; a failure leaves what was written so far (write to a temporary file to keep all or
/// nothing).
pub async fn export<W: Write>(
    client: &Client,
    key: &str,
    options: &ExportOptions,
    out: W,
    mut progress: impl FnMut(u64),
) -> Result<u64, ExportError> {
    let mut rows = client
        .data_extensions()
        .rows(key, options.filter.as_deref(), Some(PAGE_SIZE));
    let mut writer = match options.format {
        ExportFormat::Csv => Output::Csv {
            writer: Box::new(csv::WriterBuilder::new().from_writer(out)),
            header: None,
        },
        ExportFormat::Ndjson => Output::Ndjson(io::BufWriter::new(out)),
    };
    let mut written = 0_u64;
    while let Some(item) = rows.next().await {
        let row = flat_row(item?)?;
        writer.write(&row, written + 1)?;
        written += 1;
        if written.is_multiple_of(u64::from(PAGE_SIZE)) {
            progress(written);
        }
    }
    writer.finish()?;
    progress(written);
    Ok(written)
}

/// Where rows go.
enum Output<W: Write> {
    Csv {
        writer: Box<csv::Writer<W>>,
        header: Option<Vec<String>>,
    },
    Ndjson(io::BufWriter<W>),
}

impl<W: Write> Output<W> {
    fn write(&mut self, row: &[(String, Value)], number: u64) -> Result<(), ExportError> {
        match self {
            Self::Ndjson(out) => {
                let object: Map<String, Value> = row.iter().cloned().collect();
                serde_json::to_writer(&mut *out, &object).map_err(io::Error::from)?;
                out.write_all(b"\n")?;
            }
            Self::Csv { writer, header } => {
                let names = match header {
                    Some(names) => names,
                    None => {
                        let names: Vec<String> = row.iter().map(|(n, _)| n.clone()).collect();
                        writer.write_record(&names).map_err(csv_error)?;
                        header.insert(names)
                    }
                };
                if let Some((extra, _)) = row.iter().find(|(n, _)| !names.contains(n)) {
                    return Err(ClientError::InvalidResponse(format!(
                        "row {number} has column {extra:?}, which the first row ({}) did not have",
                        names.join(", ")
                    ))
                    .into());
                }
                let fields = names.iter().map(|name| {
                    row.iter()
                        .find(|(n, _)| n == name)
                        .map_or(String::new(), |(_, v)| text(v))
                });
                writer.write_record(fields).map_err(csv_error)?;
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<(), ExportError> {
        match self {
            Self::Csv { mut writer, .. } => writer.flush()?,
            Self::Ndjson(mut out) => out.flush()?,
        }
        Ok(())
    }
}

/// A row's columns: `keys` then `values` (or the object itself when it has neither).
fn flat_row(item: Value) -> Result<Vec<(String, Value)>, ClientError> {
    let Value::Object(mut object) = item else {
        return Err(ClientError::InvalidResponse(format!(
            "a row is not a JSON object: {}",
            item.to_string().chars().take(200).collect::<String>()
        )));
    };
    let mut row = Vec::new();
    let mut structured = false;
    for part in ["keys", "values"] {
        if let Some(Value::Object(inner)) = object.remove(part) {
            structured = true;
            row.extend(inner);
        }
    }
    if !structured {
        row.extend(object);
    }
    Ok(row)
}

/// A value as CSV text: strings as they are, `null` empty, anything else as JSON.
fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn csv_error(error: csv::Error) -> ExportError {
    ExportError::Write(io::Error::other(error))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rows_flatten_keys_first() {
        let row = flat_row(json!({"keys": {"id": "1"}, "values": {"email": "a", "n": null}}));
        let names: Vec<String> = row
            .unwrap_or_default()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names, ["id", "email", "n"]);
        assert!(flat_row(json!([1])).is_err());
    }
}
