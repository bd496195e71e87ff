//! The operation families: each module holds its catalog entries (one named `static` per
//! operation, listed once in `OPERATIONS`) and its thin typed methods, which build their
//! parameters and go through one helper (`call`) and the catalog's request builder — so a path,
//! a parameter or a rule is written once.
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

use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::catalog::Operation;
use crate::client::Client;
use crate::error::ClientError;

/// Every operation, in catalog order (by family, then as the connector lists them).
pub(crate) static OPERATIONS: [&Operation; 21] = [
    &assets::GET_ASSETS,
    &assets::CREATE_ASSET,
    &assets::UPDATE_ASSET,
    &assets::DELETE_ASSET,
    &categories::GET_CATEGORIES,
    &categories::CREATE_CATEGORY,
    &campaigns::GET_CAMPAIGNS,
    &campaigns::CREATE_CAMPAIGN,
    &campaigns::UPDATE_CAMPAIGN,
    &campaigns::DELETE_CAMPAIGN,
    &contacts::CREATE_CONTACT,
    &contacts::UPDATE_CONTACT,
    &contacts::DELETE_CONTACT,
    &contacts::GET_CONTACT_DELETE_REQUESTS,
    &journeys::GET_JOURNEYS,
    &journeys::CREATE_JOURNEY,
    &messaging::CREATE_EMAIL_DEFINITION,
    &messaging::CREATE_SMS_DEFINITION,
    &messaging::SEND_EMAIL_MESSAGE,
    &messaging::SEND_SMS_MESSAGE,
    &data_extensions::INSERT_DATA_EXTENSION_ROW_SET,
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

/// Parameters: the named ones, plus `payload` when given.
pub(crate) fn params(
    named: impl IntoIterator<Item = (&'static str, Value)>,
    payload: Option<&impl Serialize>,
) -> Result<Value, ClientError> {
    let mut map: Map<String, Value> = named
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
    if let Some(payload) = payload {
        let body = serde_json::to_value(payload).map_err(|e| {
            ClientError::InvalidRequest(format!("the request body does not serialize: {e}"))
        })?;
        map.insert("payload".into(), body);
    }
    Ok(Value::Object(map))
}

/// Calls `op` and deserializes its answer as `T` (`Value` keeps it as it is; an empty answer
/// is `null`, or `{}` for a `T` that needs an object; `IgnoredAny` drops it): the one helper
/// every family's typed methods call through.
pub(crate) async fn call<T: DeserializeOwned>(
    client: &Client,
    op: &'static Operation,
    params: Value,
) -> Result<T, ClientError> {
    let answer = client.call_operation(op, &params).await?;
    let parsed = if answer.is_null() {
        T::deserialize(&answer).or_else(|_| T::deserialize(Value::Object(Map::new())))
    } else {
        T::deserialize(answer)
    };
    parsed
        .map_err(|e| ClientError::InvalidResponse(format!("{}: unexpected answer ({e})", op.name)))
}

/// One page of list operation `op`, the `options` it has parameters for.
pub(crate) async fn list<T: DeserializeOwned>(
    client: &Client,
    op: &'static Operation,
    options: &ListOptions,
) -> Result<Page<T>, ClientError> {
    call(client, op, params(options.params(op), NO_BODY)?).await
}

/// Every item of list operation `op` over every page, optionally `filter`ed (`$filter`), each
/// deserialized as `T`.
pub(crate) fn list_all<T: DeserializeOwned + Send + 'static>(
    client: &Client,
    op: &'static Operation,
    filter: Option<&str>,
) -> BoxStream<'static, Result<T, ClientError>> {
    let params = filter.map_or(Value::Null, |f| serde_json::json!({ "filter": f }));
    match client.call_all(op, &params) {
        Ok(items) => items
            .map(move |item| {
                serde_json::from_value(item?).map_err(|e| {
                    ClientError::InvalidResponse(format!("{}: unexpected item ({e})", op.name))
                })
            })
            .boxed(),
        Err(error) => stream::once(async move { Err(error) }).boxed(),
    }
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
    /// The named parameters these options set, of those `op` has (the catalog's names).
    pub(crate) fn params(&self, op: &Operation) -> Vec<(&'static str, Value)> {
        let named = [
            ("page", self.page.map(Value::from)),
            ("pageSize", self.page_size.map(Value::from)),
            ("orderBy", self.order_by.as_deref().map(Value::from)),
            ("filter", self.filter.as_deref().map(Value::from)),
        ];
        named
            .into_iter()
            .filter(|(name, _)| op.param(name).is_some())
            .filter_map(|(name, value)| Some((name, value?)))
            .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_options_set_only_the_parameters_the_operation_has() {
        let options = ListOptions {
            page: Some(2),
            page_size: None,
            order_by: Some("name asc".into()),
            filter: Some("name eq 'x'".into()),
        };
        let names = |op| -> Vec<&str> { options.params(op).into_iter().map(|(n, _)| n).collect() };
        assert_eq!(names(&assets::GET_ASSETS), ["page", "orderBy", "filter"]);
        assert_eq!(names(&campaigns::GET_CAMPAIGNS), ["page", "orderBy"]);
    }

    #[test]
    fn the_list_holds_every_family_once() {
        let mut names: Vec<_> = OPERATIONS.iter().map(|op| op.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), OPERATIONS.len());
    }
}
