//! The check before an import sends any row: the data extension exists (Marketing Cloud's 404
//! otherwise), and, when it has rows, the header's columns are among its columns.

use reqwest::Method;
use serde_json::Value;

use super::columns::Columns;
use super::report::ImportError;
use crate::catalog::encode_segment;
use crate::client::Client;
use crate::request::ApiRequest;

/// Reads `GET …/customobjectdata/key/{key}/rowset` (one row): an unknown key is Marketing
/// Cloud's 404; a row shows the columns (header columns it lacks are an error) and the primary
/// keys, which are returned.
pub(crate) async fn check_data_extension(
    client: &Client,
    key: &str,
    columns: &Columns,
) -> Result<Vec<String>, ImportError> {
    let path = format!(
        "/data/v1/customobjectdata/key/{}/rowset",
        encode_segment(key)
    );
    let request = ApiRequest::new(Method::GET, path)
        .query("$page", "1")
        .query("$pageSize", "1");
    let answer = client.send(request).await?.json();
    let names = |part: &str| -> Vec<String> {
        answer
            .pointer(&format!("/items/0/{part}"))
            .and_then(Value::as_object)
            .map(|object| object.keys().cloned().collect())
            .unwrap_or_default()
    };
    let keys = names("keys");
    let known: Vec<String> = keys.iter().cloned().chain(names("values")).collect();
    if known.is_empty() {
        return Ok(keys);
    }
    let unknown: Vec<String> = columns
        .names()
        .iter()
        .filter(|name| !known.iter().any(|k| k.eq_ignore_ascii_case(name)))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(ImportError::UnknownColumns {
            key: key.to_owned(),
            unknown,
            known,
        });
    }
    Ok(keys)
}
