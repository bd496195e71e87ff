//! Contacts (`/contacts/v1`): `createContact`, `updateContact`, `deleteContact`,
//! `getContactDeleteRequests`, and their typed methods.

use serde_json::Value;

use super::{NO_BODY, call, params};
use crate::catalog::{HttpMethod, Operation, Paging, Param, ParamType};
use crate::client::Client;
use crate::error::ClientError;

const CONTACT_KEY: Param =
    Param::body("contactKey", ParamType::String, "The contact's unique key.").required();
const ATTRIBUTE_SETS: Param = Param::body(
    "attributeSets",
    ParamType::Array,
    "Attribute sets: `[{\"name\":\"Email Addresses\",\"items\":[{\"values\":[{\"name\":\"Email Address\",\"value\":\"a@example.com\"}]}]}]`.",
);
const PAYLOAD: Param = Param::payload(
    ParamType::Object,
    "The contact as JSON; the parameters above are set into it.",
);

/// `createContact`.
pub(crate) static CREATE_CONTACT: Operation = Operation {
    name: "createContact",
    family: "contacts",
    summary: "Creates a contact with attribute values.",
    method: HttpMethod::Post,
    path: "/contacts/v1/contacts",
    params: &[CONTACT_KEY, ATTRIBUTE_SETS, PAYLOAD],
    read_only: false,
    idempotent: false,
    destructive: false,
    paging: Paging::None,
    scope: "list_and_subscribers_write",
    returns: "200 `{operationStatus, contactKey, contactId, isNewContactKey, hasErrors, resultMessages}`",
};

/// `updateContact`.
pub(crate) static UPDATE_CONTACT: Operation = Operation {
    name: "updateContact",
    family: "contacts",
    summary: "Changes attribute values of a contact.",
    method: HttpMethod::Patch,
    path: "/contacts/v1/contacts",
    params: &[CONTACT_KEY, ATTRIBUTE_SETS, PAYLOAD],
    read_only: false,
    idempotent: true,
    destructive: true,
    paging: Paging::None,
    scope: "list_and_subscribers_write",
    returns: "200 `{operationStatus, contactKey, contactId, hasErrors, resultMessages}`",
};

/// `deleteContact`.
pub(crate) static DELETE_CONTACT: Operation = Operation {
    name: "deleteContact",
    family: "contacts",
    summary: "Starts the (asynchronous) deletion of contacts by key or id.",
    method: HttpMethod::Post,
    path: "/contacts/v1/contacts/actions/delete",
    params: &[
        Param::query(
            "type",
            "type",
            ParamType::String,
            "What `values` holds: `keys` or `ids`.",
        )
        .default("\"keys\""),
        Param::body(
            "values",
            ParamType::Array,
            "The contact keys (or ids) to delete.",
        )
        .required(),
        Param::body(
            "deleteOperationType",
            ParamType::String,
            "What to delete: `ContactAndAttributes`.",
        )
        .wire("DeleteOperationType")
        .default("\"ContactAndAttributes\""),
        Param::payload(
            ParamType::Object,
            "The request as JSON; the parameters above are set into it.",
        ),
    ],
    read_only: false,
    idempotent: true,
    destructive: true,
    paging: Paging::None,
    scope: "list_and_subscribers_write",
    returns: "200 `{operationInitiated, operationID, …}`",
};

/// `getContactDeleteRequests`.
pub(crate) static GET_CONTACT_DELETE_REQUESTS: Operation = Operation {
    name: "getContactDeleteRequests",
    family: "contacts",
    summary: "Lists contact delete requests in a date range.",
    method: HttpMethod::Get,
    path: "/contacts/v1/contacts/analytics/deleterequests",
    params: &[
        Param::query(
            "startDateUtc",
            "startdateutc",
            ParamType::String,
            "Start of the range (UTC, e.g. `2024-01-01T00:00:00Z`).",
        )
        .required(),
        Param::query(
            "endDateUtc",
            "enddateutc",
            ParamType::String,
            "End of the range (UTC).",
        )
        .required(),
        Param::query(
            "statusId",
            "statusid",
            ParamType::Integer,
            "Only requests with this status id.",
        ),
        Param::query("page", "$page", ParamType::Integer, "Page number, from 1."),
        Param::query(
            "pageSize",
            "$pagesize",
            ParamType::Integer,
            "Requests per page.",
        ),
    ],
    read_only: true,
    idempotent: true,
    destructive: false,
    paging: Paging::None,
    scope: "list_and_subscribers_read",
    returns: "200 `{operations[{operationId, totalContactCount, completedContactCount, status, …}], pageNumber, pageSize, …}`",
};

/// The typed contact methods: `client.contacts()`. Contact bodies are open-ended, so they are
/// JSON values.
#[derive(Debug, Clone, Copy)]
pub struct Contacts<'a> {
    client: &'a Client,
}

impl<'a> Contacts<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Self { client }
    }

    /// Creates a contact (`createContact`); `contact` holds `contactKey` and `attributeSets`.
    pub async fn create(&self, contact: &Value) -> Result<Value, ClientError> {
        call(self.client, &CREATE_CONTACT, params([], Some(contact))?).await
    }

    /// Updates a contact (`updateContact`).
    pub async fn update(&self, contact: &Value) -> Result<Value, ClientError> {
        call(self.client, &UPDATE_CONTACT, params([], Some(contact))?).await
    }

    /// Starts deleting the contacts with these keys (`deleteContact`, `type=keys`).
    pub async fn delete_by_keys(&self, keys: &[&str]) -> Result<Value, ClientError> {
        let named = [
            ("type", Value::from("keys")),
            ("values", Value::from(keys.to_vec())),
        ];
        call(self.client, &DELETE_CONTACT, params(named, NO_BODY)?).await
    }

    /// Delete requests between two UTC times (`getContactDeleteRequests`).
    pub async fn delete_requests(
        &self,
        start_utc: &str,
        end_utc: &str,
    ) -> Result<Value, ClientError> {
        let named = [
            ("startDateUtc", Value::from(start_utc)),
            ("endDateUtc", Value::from(end_utc)),
        ];
        let params = params(named, NO_BODY)?;
        call(self.client, &GET_CONTACT_DELETE_REQUESTS, params).await
    }
}
