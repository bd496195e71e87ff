//! Content Builder assets (`/asset/v1/content/assets`): `getAssets`, `createAsset`,
//! `updateAsset`, `deleteAsset`, and their typed methods.

use futures_util::stream::BoxStream;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{ListOptions, NO_BODY, Page, call, list, list_all, params};
use crate::catalog::{HttpMethod, Operation, Paging, Param, ParamType};
use crate::client::Client;
use crate::error::ClientError;

const ASSET_ID: Param = Param::path("assetId", ParamType::Id, "The asset's numeric id.");
const DESCRIPTION: Param = Param::body("description", ParamType::String, "What the asset is.");
const CUSTOMER_KEY: Param = Param::body(
    "customerKey",
    ParamType::String,
    "Your own unique key for the asset.",
);
const CONTENT: Param = Param::body(
    "content",
    ParamType::String,
    "The asset's content (HTML, text, …).",
);
const CATEGORY_ID: Param = Param::body(
    "category.id",
    ParamType::Integer,
    "The id of the folder (category) it is in.",
);
const PAYLOAD: Param = Param::payload(
    ParamType::Object,
    "The asset as JSON (`views`, `data`, `meta`, …); the parameters above are set into it.",
);

/// `getAssets`.
pub(crate) static GET_ASSETS: Operation = Operation {
    name: "getAssets",
    family: "assets",
    summary: "Lists Content Builder assets, optionally filtered.",
    method: HttpMethod::Get,
    path: "/asset/v1/content/assets",
    params: &[
        Param::query("page", "$page", ParamType::Integer, "Page number, from 1."),
        Param::query(
            "pageSize",
            "$pagesize",
            ParamType::Integer,
            "Assets per page.",
        ),
        Param::query(
            "orderBy",
            "$orderBy",
            ParamType::String,
            "Sort order, e.g. `name asc`.",
        ),
        Param::query(
            "filter",
            "$filter",
            ParamType::String,
            "A filter, e.g. `name eq 'Welcome'` or `assetType.name eq 'htmlemail'`.",
        ),
        Param::query(
            "fields",
            "$fields",
            ParamType::String,
            "Comma-separated fields to return.",
        ),
    ],
    read_only: true,
    idempotent: true,
    destructive: false,
    paging: Paging::Page,
    scope: "saved_content_read",
    returns: "200 `{count, page, pageSize, items}`",
};

/// `createAsset`.
pub(crate) static CREATE_ASSET: Operation = Operation {
    name: "createAsset",
    family: "assets",
    summary: "Creates a Content Builder asset.",
    method: HttpMethod::Post,
    path: "/asset/v1/content/assets",
    params: &[
        Param::body("name", ParamType::String, "The asset's name.").required(),
        Param::body(
            "assetType.id",
            ParamType::Integer,
            "The asset type id (e.g. 208 for an HTML email).",
        )
        .required(),
        Param::body(
            "assetType.name",
            ParamType::String,
            "The asset type name (e.g. `htmlemail`).",
        ),
        DESCRIPTION,
        CUSTOMER_KEY,
        CONTENT,
        CATEGORY_ID,
        PAYLOAD,
    ],
    read_only: false,
    idempotent: false,
    destructive: false,
    paging: Paging::None,
    scope: "saved_content_write",
    returns: "201 the asset, with its numeric `id`",
};

/// `updateAsset`.
pub(crate) static UPDATE_ASSET: Operation = Operation {
    name: "updateAsset",
    family: "assets",
    summary: "Changes fields of an asset.",
    method: HttpMethod::Patch,
    path: "/asset/v1/content/assets/{assetId}",
    params: &[
        ASSET_ID,
        Param::body("name", ParamType::String, "The asset's name."),
        DESCRIPTION,
        CUSTOMER_KEY,
        CONTENT,
        CATEGORY_ID,
        PAYLOAD,
    ],
    read_only: false,
    idempotent: true,
    destructive: true,
    paging: Paging::None,
    scope: "saved_content_write",
    returns: "200 the asset",
};

/// `deleteAsset`.
pub(crate) static DELETE_ASSET: Operation = Operation {
    name: "deleteAsset",
    family: "assets",
    summary: "Deletes an asset.",
    method: HttpMethod::Delete,
    path: "/asset/v1/content/assets/{assetId}",
    params: &[ASSET_ID],
    read_only: false,
    idempotent: true,
    destructive: true,
    paging: Paging::None,
    scope: "saved_content_write",
    returns: "200 `OK`",
};

/// A Content Builder asset: the fields most callers use; everything else in `extra`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Asset {
    /// Its numeric id (absent when creating).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// Its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_key: Option<String>,
    /// Its type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_type: Option<AssetType>,
    /// Its content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Every other field (`category`, `views`, `createdDate`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An asset type: id and name (`{"id":208,"name":"htmlemail"}`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AssetType {
    /// The type id.
    #[serde(default)]
    pub id: i64,
    /// The type name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The typed asset methods: `client.assets()`.
#[derive(Debug, Clone, Copy)]
pub struct Assets<'a> {
    client: &'a Client,
}

impl<'a> Assets<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Self { client }
    }

    /// One page of assets (`getAssets`; `options.filter` is the `$filter`).
    pub async fn list(&self, options: &ListOptions) -> Result<Page<Asset>, ClientError> {
        list(self.client, &GET_ASSETS, options).await
    }

    /// Every asset matching `filter`, page after page.
    pub fn list_all(&self, filter: Option<&str>) -> BoxStream<'static, Result<Asset, ClientError>> {
        list_all(self.client, &GET_ASSETS, filter)
    }

    /// Creates an asset (`createAsset`).
    pub async fn create(&self, asset: &Asset) -> Result<Asset, ClientError> {
        let params = params([], Some(asset))?;
        call(self.client, &CREATE_ASSET, params).await
    }

    /// Changes fields of asset `id` (`updateAsset`).
    pub async fn update(&self, id: i64, changes: &Asset) -> Result<Asset, ClientError> {
        let params = params([("assetId", id.into())], Some(changes))?;
        call(self.client, &UPDATE_ASSET, params).await
    }

    /// Deletes asset `id` (`deleteAsset`).
    pub async fn delete(&self, id: i64) -> Result<(), ClientError> {
        let params = params([("assetId", id.into())], NO_BODY)?;
        call::<IgnoredAny>(self.client, &DELETE_ASSET, params)
            .await
            .map(drop)
    }
}
