//! Data extension rows: `insertDataExtensionRowSet` (`POST /hub/v1/dataevents/key:{key}/rowset`,
//! an upsert) and reading rows with `links.next` paging — the base the bulk import and export
//! build on.

use futures_util::stream::BoxStream;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{call, params};
use crate::catalog::{HttpMethod, Operation, Paging, Param, ParamType, encode_segment};
use crate::client::Client;
use crate::error::ClientError;

/// `insertDataExtensionRowSet`.
pub(crate) static INSERT_DATA_EXTENSION_ROW_SET: Operation = Operation {
    name: "insertDataExtensionRowSet",
    family: "dataExtensions",
    summary: "Upserts rows into a data extension by its external key (≤ 50 rows a request recommended).",
    method: HttpMethod::Post,
    path: "/hub/v1/dataevents/key:{externalKey}/rowset",
    params: &[
        Param::path(
            "externalKey",
            ParamType::String,
            "The data extension's external key.",
        ),
        Param::payload(
            ParamType::Array,
            "The rows: `[{\"keys\":{\"Id\":\"1\"},\"values\":{\"Email\":\"a@example.com\"}}]`.",
        )
        .required(),
    ],
    read_only: false,
    idempotent: true,
    destructive: true,
    paging: Paging::None,
    scope: "data_extensions_write",
    returns: "200 the rows echoed",
};

/// One row of a rowset: primary key columns and the other columns.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Row {
    /// Primary key columns.
    #[serde(default)]
    pub keys: Map<String, Value>,
    /// Other columns.
    #[serde(default)]
    pub values: Map<String, Value>,
}

/// The typed data extension methods: `client.data_extensions()`.
#[derive(Debug, Clone, Copy)]
pub struct DataExtensions<'a> {
    client: &'a Client,
}

impl<'a> DataExtensions<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Self { client }
    }

    /// Upserts `rows` into the data extension with external key `key`
    /// (`insertDataExtensionRowSet`).
    pub async fn upsert_rows(&self, key: &str, rows: &[Row]) -> Result<Value, ClientError> {
        let params = params([("externalKey", key.into())], Some(&rows))?;
        call(self.client, &INSERT_DATA_EXTENSION_ROW_SET, params).await
    }

    /// Every row of the data extension with external key `key`
    /// (`GET /data/v1/customobjectdata/key/{key}/rowset`, following `links.next`), optionally
    /// filtered (`$filter`), `page_size` rows a request.
    pub fn rows(
        &self,
        key: &str,
        filter: Option<&str>,
        page_size: Option<u32>,
    ) -> BoxStream<'static, Result<Value, ClientError>> {
        let path = format!(
            "/data/v1/customobjectdata/key/{}/rowset",
            encode_segment(key)
        );
        let mut request = self.client.request(Method::GET, path);
        if let Some(filter) = filter {
            request = request.query("$filter", filter);
        }
        if let Some(size) = page_size {
            request = request.query("$pageSize", size.to_string());
        }
        request.items(Paging::NextLink)
    }
}
