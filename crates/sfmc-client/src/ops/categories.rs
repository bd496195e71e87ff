//! Content Builder categories, the folders of assets (`/asset/v1/content/categories`):
//! `getCategories`, `createCategory`, and their typed methods.

use futures_util::stream::BoxStream;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{ListOptions, Page, call, list, list_all, params};
use crate::catalog::{HttpMethod, Operation, Paging, Param, ParamType};
use crate::client::Client;
use crate::error::ClientError;

/// `getCategories`.
pub(crate) static GET_CATEGORIES: Operation = Operation {
    name: "getCategories",
    family: "categories",
    summary: "Lists Content Builder categories (folders), optionally under one parent.",
    method: HttpMethod::Get,
    path: "/asset/v1/content/categories",
    params: &[
        Param::query(
            "filter",
            "$filter",
            ParamType::String,
            "A filter, e.g. `parentId eq 1234`.",
        ),
        Param::query("page", "$page", ParamType::Integer, "Page number, from 1."),
        Param::query(
            "pageSize",
            "$pagesize",
            ParamType::Integer,
            "Categories per page.",
        ),
        Param::query(
            "orderBy",
            "$orderBy",
            ParamType::String,
            "Sort order, e.g. `name asc`.",
        ),
    ],
    read_only: true,
    idempotent: true,
    destructive: false,
    paging: Paging::Page,
    scope: "saved_content_read",
    returns: "200 `{count, page, pageSize, items}`",
};

/// `createCategory`.
pub(crate) static CREATE_CATEGORY: Operation = Operation {
    name: "createCategory",
    family: "categories",
    summary: "Creates a Content Builder category (folder).",
    method: HttpMethod::Post,
    path: "/asset/v1/content/categories",
    params: &[
        Param::body("name", ParamType::String, "The category's name.")
            .wire("Name")
            .required(),
        Param::body(
            "parentId",
            ParamType::Integer,
            "The id of the parent category.",
        )
        .wire("ParentId")
        .required(),
        Param::body(
            "categoryType",
            ParamType::String,
            "The category type, e.g. `asset`.",
        )
        .wire("CategoryType"),
        Param::body("description", ParamType::String, "What the category holds.")
            .wire("Description"),
        Param::payload(
            ParamType::Object,
            "The category as JSON; the parameters above are set into it.",
        ),
    ],
    read_only: false,
    idempotent: false,
    destructive: false,
    paging: Paging::None,
    scope: "saved_content_write",
    returns: "201 `{Id, Name, ParentId, CategoryType, MemberId, EnterpriseId}`",
};

/// A category. Marketing Cloud answers in PascalCase (`Id`, `Name`) or camelCase; both are read.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Category {
    /// Its id.
    #[serde(default, rename = "Id", alias = "id")]
    pub id: i64,
    /// Its name.
    #[serde(default, rename = "Name", alias = "name")]
    pub name: String,
    /// Its parent's id.
    #[serde(default, rename = "ParentId", alias = "parentId")]
    pub parent_id: i64,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A category to create.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NewCategory {
    /// Its name.
    #[serde(rename = "Name")]
    pub name: String,
    /// Its parent's id.
    #[serde(rename = "ParentId")]
    pub parent_id: i64,
    /// Any other field to send (`CategoryType`, `Description`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The typed category methods: `client.categories()`.
#[derive(Debug, Clone, Copy)]
pub struct Categories<'a> {
    client: &'a Client,
}

impl<'a> Categories<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Self { client }
    }

    /// One page of categories (`getCategories`).
    pub async fn list(&self, options: &ListOptions) -> Result<Page<Category>, ClientError> {
        list(self.client, &GET_CATEGORIES, options).await
    }

    /// Every category, page after page.
    pub fn list_all(&self) -> BoxStream<'static, Result<Category, ClientError>> {
        list_all(self.client, &GET_CATEGORIES, None)
    }

    /// Creates a category (`createCategory`).
    pub async fn create(&self, category: &NewCategory) -> Result<Category, ClientError> {
        let params = params([], Some(category))?;
        call(self.client, &CREATE_CATEGORY, params).await
    }
}
