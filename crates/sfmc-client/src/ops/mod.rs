//! The operation families: each module holds its catalog entries (`OPERATIONS`) and its thin
//! typed methods, which build their parameters and go through the catalog's request builder —
//! so a path, a parameter or a rule is written once.
//!
//! Typed request and response types keep fields they do not name in `extra` (flattened), so
//! nothing Marketing Cloud sends is lost and any field can be sent.

pub mod assets;
pub mod campaigns;
pub mod categories;
pub mod contacts;
pub mod data_extensions;
pub mod journeys;
pub mod messaging;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::catalog::Operation;
use crate::client::Client;
use crate::error::ClientError;

/// Every family's operations, in catalog order.
pub(crate) static FAMILIES: &[&[Operation]] = &[
    assets::OPERATIONS,
    categories::OPERATIONS,
    campaigns::OPERATIONS,
    contacts::OPERATIONS,
    journeys::OPERATIONS,
    messaging::OPERATIONS,
    data_extensions::OPERATIONS,
];

/// One page of a `{count, page, pageSize, items}` list.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// Items in the whole list.
    #[serde(default)]
    pub count: u64,
    /// This page's number, from 1.
    #[serde(default)]
    pub page: u64,
    /// Items per page.
    #[serde(default)]
    pub page_size: u64,
    /// This page's items.
    #[serde(default = "Vec::new")]
    pub items: Vec<T>,
    /// Other fields (`links`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The name of the catalog operation the typed method calls.
pub(crate) fn operation(ops: &'static [Operation], name: &str) -> &'static Operation {
    match ops.iter().find(|op| op.name == name) {
        Some(op) => op,
        None => unreachable!("typed methods name operations of their own family"),
    }
}

/// Parameters: the named ones, plus `payload` when given.
pub(crate) fn params(
    named: &[(&str, Value)],
    payload: Option<&impl Serialize>,
) -> Result<Value, ClientError> {
    let mut map: Map<String, Value> = named
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    if let Some(payload) = payload {
        let body = serde_json::to_value(payload).map_err(|e| {
            ClientError::InvalidRequest(format!("the request body does not serialize: {e}"))
        })?;
        map.insert("payload".into(), body);
    }
    Ok(Value::Object(map))
}

/// Calls `op` and deserializes its answer.
pub(crate) async fn call<T: DeserializeOwned>(
    client: &Client,
    op: &'static Operation,
    params: Value,
) -> Result<T, ClientError> {
    let answer = client.call_operation(op, &params).await?;
    let answer = if answer.is_null() {
        Value::Object(Map::new())
    } else {
        answer
    };
    serde_json::from_value(answer)
        .map_err(|e| ClientError::InvalidResponse(format!("{}: unexpected answer ({e})", op.name)))
}

/// No payload (for calls with path and query parameters only).
pub(crate) const NO_BODY: Option<&Value> = None;

/// Options of a list operation; `None` leaves the server's default.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// Page number, from 1.
    pub page: Option<u64>,
    /// Items per page.
    pub page_size: Option<u64>,
    /// Sort order, e.g. `ModifiedDate DESC`.
    pub order_by: Option<String>,
    /// A `$filter`, e.g. `name eq 'Summer'` (families that support it).
    pub filter: Option<String>,
}

impl ListOptions {
    /// The named parameters these options set (the catalog's names).
    pub(crate) fn params(&self, with_filter: bool) -> Vec<(&'static str, Value)> {
        let mut named = Vec::new();
        if let Some(page) = self.page {
            named.push(("page", Value::from(page)));
        }
        if let Some(size) = self.page_size {
            named.push(("pageSize", Value::from(size)));
        }
        if let Some(order) = &self.order_by {
            named.push(("orderBy", Value::from(order.as_str())));
        }
        if let (true, Some(filter)) = (with_filter, &self.filter) {
            named.push(("filter", Value::from(filter.as_str())));
        }
        named
    }
}

/// Streams `op`'s items over every page, each deserialized as `T`.
pub(crate) fn stream_all<T: DeserializeOwned + Send + 'static>(
    client: &Client,
    op: &'static Operation,
    params: &Value,
) -> futures_util::stream::BoxStream<'static, Result<T, ClientError>> {
    use futures_util::StreamExt;
    match client.call_all(op, params) {
        Ok(items) => items
            .map(move |item| {
                serde_json::from_value(item?).map_err(|e| {
                    ClientError::InvalidResponse(format!("{}: unexpected item ({e})", op.name))
                })
            })
            .boxed(),
        Err(error) => futures_util::stream::once(async move { Err(error) }).boxed(),
    }
}

/// Deserializes an id sent as a string or a number into its text.
pub(crate) fn id_text<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<String, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::String(text) => Ok(text),
        Value::Number(number) => Ok(number.to_string()),
        Value::Null => Ok(String::new()),
        other => Err(serde::de::Error::custom(format!(
            "an id must be a string or a number, not {other}"
        ))),
    }
}
