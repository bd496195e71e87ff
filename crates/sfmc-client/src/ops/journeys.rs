//! Journeys (`/interaction/v1/interactions`): `getJourneys`, `createJourney`, and their typed
//! methods.

use futures_util::stream::BoxStream;
use serde_json::Value;

use super::{ListOptions, Page, call, list, list_all, params};
use crate::catalog::{HttpMethod, Operation, Paging, Param, ParamType};
use crate::client::Client;
use crate::error::ClientError;

/// `getJourneys`.
pub(crate) static GET_JOURNEYS: Operation = Operation {
    name: "getJourneys",
    family: "journeys",
    summary: "Lists journeys, optionally by status, key or text.",
    method: HttpMethod::Get,
    path: "/interaction/v1/interactions",
    params: &[
        Param::query("page", "$page", ParamType::Integer, "Page number, from 1."),
        Param::query(
            "pageSize",
            "$pageSize",
            ParamType::Integer,
            "Journeys per page (at most 50).",
        ),
        Param::query(
            "orderBy",
            "$orderBy",
            ParamType::String,
            "Sort order, e.g. `ModifiedDate DESC`.",
        ),
        Param::query(
            "status",
            "status",
            ParamType::String,
            "Only journeys in this status (`Draft`, `Published`, …).",
        ),
        Param::query(
            "key",
            "key",
            ParamType::String,
            "Only the journey with this key.",
        ),
        Param::query(
            "nameOrDescription",
            "nameOrDescription",
            ParamType::String,
            "Only journeys whose name or description contains this text.",
        ),
    ],
    read_only: true,
    idempotent: true,
    destructive: false,
    paging: Paging::Page,
    scope: "journeys_read",
    returns: "200 `{count, page, pageSize, items}`",
};

/// `createJourney`.
pub(crate) static CREATE_JOURNEY: Operation = Operation {
    name: "createJourney",
    family: "journeys",
    summary: "Creates a journey (in Draft).",
    method: HttpMethod::Post,
    path: "/interaction/v1/interactions",
    params: &[
        Param::body(
            "key",
            ParamType::String,
            "Your own unique key for the journey.",
        )
        .required(),
        Param::body("name", ParamType::String, "The journey's name.").required(),
        Param::body("description", ParamType::String, "What the journey does."),
        Param::body(
            "workflowApiVersion",
            ParamType::Number,
            "The journey spec version.",
        )
        .default("1.0"),
        Param::body("triggers", ParamType::Array, "The entry triggers."),
        Param::body("activities", ParamType::Array, "The activities."),
        Param::body("goals", ParamType::Array, "The goals."),
        Param::payload(
            ParamType::Object,
            "The journey as JSON; the parameters above are set into it.",
        ),
    ],
    read_only: false,
    idempotent: false,
    destructive: false,
    paging: Paging::None,
    scope: "journeys_write",
    returns: "200 the journey `{id, key, version, status: \"Draft\", …}`",
};

/// The typed journey methods: `client.journeys()`. Journeys are open-ended JSON.
#[derive(Debug, Clone, Copy)]
pub struct Journeys<'a> {
    client: &'a Client,
}

impl<'a> Journeys<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Self { client }
    }

    /// One page of journeys (`getJourneys`).
    pub async fn list(&self, options: &ListOptions) -> Result<Page<Value>, ClientError> {
        list(self.client, &GET_JOURNEYS, options).await
    }

    /// Every journey, page after page.
    pub fn list_all(&self) -> BoxStream<'static, Result<Value, ClientError>> {
        list_all(self.client, &GET_JOURNEYS, None)
    }

    /// Creates a journey (`createJourney`) from its JSON.
    pub async fn create(&self, journey: &Value) -> Result<Value, ClientError> {
        call(self.client, &CREATE_JOURNEY, params([], Some(journey))?).await
    }
}
