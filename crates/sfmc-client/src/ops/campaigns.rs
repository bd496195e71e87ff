//! Campaigns (`/hub/v1/campaigns`): `getCampaigns`, `createCampaign`, `updateCampaign`,
//! `deleteCampaign`, and their typed methods.

use futures_util::stream::BoxStream;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{ListOptions, NO_BODY, Page, call, id_text, list, list_all, params};
use crate::catalog::{HttpMethod, Operation, Paging, Param, ParamType};
use crate::client::Client;
use crate::error::ClientError;

const PAGE: Param = Param::query("page", "$page", ParamType::Integer, "Page number, from 1.");
const PAGE_SIZE: Param = Param::query(
    "pageSize",
    "$pageSize",
    ParamType::Integer,
    "Campaigns per page (at most 50).",
);
const ORDER_BY: Param = Param::query(
    "orderBy",
    "$orderBy",
    ParamType::String,
    "Sort order, e.g. `ModifiedDate DESC` (the default).",
);
const CAMPAIGN_ID: Param = Param::path("campaignId", ParamType::Id, "The campaign's id.");
const DESCRIPTION: Param = Param::body(
    "description",
    ParamType::String,
    "What the campaign is about.",
)
.max_len(512);
const CODE: Param = Param::body(
    "campaignCode",
    ParamType::String,
    "A code of your own for the campaign.",
)
.max_len(36);
const COLOR: Param = Param::body(
    "color",
    ParamType::String,
    "Display colour, hex without `#` (e.g. `0000ff`).",
);
const FAVORITE: Param = Param::body(
    "favorite",
    ParamType::Boolean,
    "Whether the campaign is a favourite.",
);
const PAYLOAD: Param = Param::payload(
    ParamType::Object,
    "The campaign as JSON; the parameters above are set into it.",
);

/// `getCampaigns`.
pub(crate) static GET_CAMPAIGNS: Operation = Operation {
    name: "getCampaigns",
    family: "campaigns",
    summary: "Lists campaigns, most recently modified first.",
    method: HttpMethod::Get,
    path: "/hub/v1/campaigns",
    params: &[PAGE, PAGE_SIZE, ORDER_BY],
    read_only: true,
    idempotent: true,
    destructive: false,
    paging: Paging::Page,
    scope: "campaign_read",
    returns: "200 `{count, page, pageSize, items}`",
};

/// `createCampaign`.
pub(crate) static CREATE_CAMPAIGN: Operation = Operation {
    name: "createCampaign",
    family: "campaigns",
    summary: "Creates a campaign.",
    method: HttpMethod::Post,
    path: "/hub/v1/campaigns",
    params: &[
        Param::body("name", ParamType::String, "The campaign's name.")
            .required()
            .max_len(128),
        DESCRIPTION,
        CODE,
        COLOR,
        FAVORITE,
        PAYLOAD,
    ],
    read_only: false,
    idempotent: false,
    destructive: false,
    paging: Paging::None,
    scope: "campaign_write",
    returns: "200/202 the campaign (`id` is a string)",
};

/// `updateCampaign`.
pub(crate) static UPDATE_CAMPAIGN: Operation = Operation {
    name: "updateCampaign",
    family: "campaigns",
    summary: "Changes fields of a campaign.",
    method: HttpMethod::Patch,
    path: "/hub/v1/campaigns/{campaignId}",
    params: &[
        CAMPAIGN_ID,
        Param::body("name", ParamType::String, "The campaign's name.").max_len(128),
        DESCRIPTION,
        CODE,
        COLOR,
        FAVORITE,
        PAYLOAD,
    ],
    read_only: false,
    idempotent: true,
    destructive: true,
    paging: Paging::None,
    scope: "campaign_write",
    returns: "200 the campaign",
};

/// `deleteCampaign`.
pub(crate) static DELETE_CAMPAIGN: Operation = Operation {
    name: "deleteCampaign",
    family: "campaigns",
    summary: "Deletes a campaign.",
    method: HttpMethod::Delete,
    path: "/hub/v1/campaigns/{campaignId}",
    params: &[CAMPAIGN_ID],
    read_only: false,
    idempotent: true,
    destructive: true,
    paging: Paging::None,
    scope: "campaign_write",
    returns: "200/202, empty",
};

/// A campaign as Marketing Cloud returns it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Campaign {
    /// Its id (a string).
    #[serde(default, deserialize_with = "id_text")]
    pub id: String,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// Its description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_code: Option<String>,
    /// Its colour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// Whether it is a favourite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub favorite: Option<bool>,
    /// Every other field (`createdDate`, `modifiedDate`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A campaign to create (`name` required) or the fields to change (all optional).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewCampaign {
    /// Its name (required to create).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub campaign_code: Option<String>,
    /// Its colour.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// Whether it is a favourite.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub favorite: Option<bool>,
    /// Any other field to send.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The typed campaign methods: `client.campaigns()`.
#[derive(Debug, Clone, Copy)]
pub struct Campaigns<'a> {
    client: &'a Client,
}

impl<'a> Campaigns<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Self { client }
    }

    /// One page of campaigns (`getCampaigns`).
    pub async fn list(&self, options: &ListOptions) -> Result<Page<Campaign>, ClientError> {
        list(self.client, &GET_CAMPAIGNS, options).await
    }

    /// Every campaign, page after page.
    pub fn list_all(&self) -> BoxStream<'static, Result<Campaign, ClientError>> {
        list_all(self.client, &GET_CAMPAIGNS, None)
    }

    /// Creates a campaign (`createCampaign`).
    pub async fn create(&self, campaign: &NewCampaign) -> Result<Campaign, ClientError> {
        let params = params([], Some(campaign))?;
        call(self.client, &CREATE_CAMPAIGN, params).await
    }

    /// Changes fields of campaign `id` (`updateCampaign`).
    pub async fn update(&self, id: &str, changes: &NewCampaign) -> Result<Campaign, ClientError> {
        let params = params([("campaignId", id.into())], Some(changes))?;
        call(self.client, &UPDATE_CAMPAIGN, params).await
    }

    /// Deletes campaign `id` (`deleteCampaign`).
    pub async fn delete(&self, id: &str) -> Result<(), ClientError> {
        let params = params([("campaignId", id.into())], NO_BODY)?;
        call::<IgnoredAny>(self.client, &DELETE_CAMPAIGN, params)
            .await
            .map(drop)
    }
}
