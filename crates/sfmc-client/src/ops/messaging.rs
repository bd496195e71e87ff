//! Transactional messaging (`/messaging/v1`): `createEmailDefinition`, `createSmsDefinition`,
//! `sendEmailMessage`, `sendSmsMessage`, and their typed methods.
//!
//! Sends use the batch form (`POST …/messages`, up to 2000 recipients); a recipient may carry
//! its own `messageKey`, and the answer lists every recipient's key.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{NO_BODY, call, params};
use crate::catalog::{HttpMethod, Operation, Paging, Param, ParamType};
use crate::client::Client;
use crate::error::ClientError;

const DEFINITION_KEY: Param = Param::body(
    "definitionKey",
    ParamType::String,
    "The definition's unique key.",
)
.required()
.max_len(64);
const NAME: Param = Param::body("name", ParamType::String, "The definition's name.")
    .required()
    .max_len(64);
const DESCRIPTION: Param = Param::body("description", ParamType::String, "What it is for.");
const STATUS: Param = Param::body(
    "status",
    ParamType::String,
    "`Active` (the default), `Inactive` or `Deleted`.",
);
const SEND_KEY: Param = Param::body(
    "definitionKey",
    ParamType::String,
    "The key of the send definition to use.",
)
.required();
const RECIPIENTS: Param = Param::body(
    "recipients",
    ParamType::Array,
    "Up to 2000 recipients: `[{\"contactKey\",\"to\",\"messageKey\"?,\"attributes\"?}]`.",
)
.required();

/// `createEmailDefinition`.
pub(crate) static CREATE_EMAIL_DEFINITION: Operation = Operation {
    name: "createEmailDefinition",
    family: "messaging",
    summary: "Creates a transactional email send definition.",
    method: HttpMethod::Post,
    path: "/messaging/v1/email/definitions",
    params: &[
        DEFINITION_KEY,
        NAME,
        Param::body(
            "content.customerKey",
            ParamType::String,
            "The customer key of the email asset to send.",
        )
        .required(),
        DESCRIPTION,
        STATUS,
        Param::body(
            "classification",
            ParamType::String,
            "The send classification's external key.",
        ),
        Param::body(
            "subscriptions.list",
            ParamType::String,
            "The external key of the subscriber list.",
        ),
        Param::body(
            "subscriptions.dataExtension",
            ParamType::String,
            "The external key of the data extension sends are written to.",
        ),
        Param::body(
            "subscriptions.autoAddSubscriber",
            ParamType::Boolean,
            "Add recipients to the list.",
        ),
        Param::body(
            "subscriptions.updateSubscriber",
            ParamType::Boolean,
            "Update recipients on the list.",
        ),
        Param::body(
            "options.trackLinks",
            ParamType::Boolean,
            "Track links in the email.",
        ),
        Param::payload(
            ParamType::Object,
            "The definition as JSON; the parameters above are set into it.",
        ),
    ],
    read_only: false,
    idempotent: false,
    destructive: false,
    paging: Paging::None,
    scope: "email_write",
    returns: "201 the definition; 409 if the key exists",
};

/// `createSmsDefinition`.
pub(crate) static CREATE_SMS_DEFINITION: Operation = Operation {
    name: "createSmsDefinition",
    family: "messaging",
    summary: "Creates a transactional SMS send definition.",
    method: HttpMethod::Post,
    path: "/messaging/v1/sms/definitions",
    params: &[
        DEFINITION_KEY,
        NAME,
        Param::body("content.message", ParamType::String, "The message text.").required(),
        DESCRIPTION,
        STATUS,
        Param::body(
            "subscriptions.shortCode",
            ParamType::String,
            "The short (or long) code to send from.",
        ),
        Param::body(
            "subscriptions.countryCode",
            ParamType::String,
            "The country code of the code, e.g. `US`.",
        ),
        Param::body(
            "subscriptions.keyword",
            ParamType::String,
            "The keyword recipients are subscribed to.",
        ),
        Param::payload(
            ParamType::Object,
            "The definition as JSON; the parameters above are set into it.",
        ),
    ],
    read_only: false,
    idempotent: false,
    destructive: false,
    paging: Paging::None,
    scope: "sms_write",
    returns: "201 the definition; 409 if the key exists",
};

/// `sendEmailMessage`.
pub(crate) static SEND_EMAIL_MESSAGE: Operation = Operation {
    name: "sendEmailMessage",
    family: "messaging",
    summary: "Sends a transactional email to recipients through a definition.",
    method: HttpMethod::Post,
    path: "/messaging/v1/email/messages",
    params: &[
        SEND_KEY,
        RECIPIENTS,
        Param::body(
            "attributes",
            ParamType::Object,
            "Attributes for every recipient (personalisation).",
        ),
        Param::payload(
            ParamType::Object,
            "The request as JSON; the parameters above are set into it.",
        ),
    ],
    read_only: false,
    idempotent: false,
    destructive: false,
    paging: Paging::None,
    scope: "email_send",
    returns: "202 `{requestId, errorcode: 0, responses[{messageKey, …}]}`",
};

/// `sendSmsMessage`.
pub(crate) static SEND_SMS_MESSAGE: Operation = Operation {
    name: "sendSmsMessage",
    family: "messaging",
    summary: "Sends a transactional SMS to recipients through a definition.",
    method: HttpMethod::Post,
    path: "/messaging/v1/sms/messages",
    params: &[
        SEND_KEY,
        RECIPIENTS,
        Param::body(
            "content.message",
            ParamType::String,
            "Message text overriding the definition's.",
        ),
        Param::body(
            "subscriptions.resubscribe",
            ParamType::Boolean,
            "Resubscribe recipients who opted out.",
        ),
        Param::payload(
            ParamType::Object,
            "The request as JSON; the parameters above are set into it.",
        ),
    ],
    read_only: false,
    idempotent: false,
    destructive: false,
    paging: Paging::None,
    scope: "sms_send",
    returns: "202 `{requestId, errorcode: 0, responses[{messageKey, …}]}`",
};

/// The answer to a send: the request id and one response per recipient.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendResult {
    /// The request's id.
    #[serde(default)]
    pub request_id: String,
    /// Per recipient: its `messageKey` and more.
    #[serde(default)]
    pub responses: Vec<Map<String, Value>>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl SendResult {
    /// The message key of every recipient, in order.
    pub fn message_keys(&self) -> Vec<&str> {
        self.responses
            .iter()
            .filter_map(|r| r.get("messageKey")?.as_str())
            .collect()
    }
}

/// The typed messaging methods: `client.messaging()`. Definitions are open-ended JSON.
#[derive(Debug, Clone, Copy)]
pub struct Messaging<'a> {
    client: &'a Client,
}

impl<'a> Messaging<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Self { client }
    }

    /// Creates an email definition (`createEmailDefinition`).
    pub async fn create_email_definition(&self, definition: &Value) -> Result<Value, ClientError> {
        self.create_definition(&CREATE_EMAIL_DEFINITION, definition)
            .await
    }

    /// Creates an SMS definition (`createSmsDefinition`).
    pub async fn create_sms_definition(&self, definition: &Value) -> Result<Value, ClientError> {
        self.create_definition(&CREATE_SMS_DEFINITION, definition)
            .await
    }

    /// Sends email through definition `definition_key` (`sendEmailMessage`).
    pub async fn send_email(
        &self,
        definition_key: &str,
        recipients: &[Value],
    ) -> Result<SendResult, ClientError> {
        self.send(&SEND_EMAIL_MESSAGE, definition_key, recipients)
            .await
    }

    /// Sends SMS through definition `definition_key` (`sendSmsMessage`).
    pub async fn send_sms(
        &self,
        definition_key: &str,
        recipients: &[Value],
    ) -> Result<SendResult, ClientError> {
        self.send(&SEND_SMS_MESSAGE, definition_key, recipients)
            .await
    }

    async fn create_definition(
        &self,
        op: &'static Operation,
        definition: &Value,
    ) -> Result<Value, ClientError> {
        call(self.client, op, params([], Some(definition))?).await
    }

    async fn send(
        &self,
        op: &'static Operation,
        definition_key: &str,
        recipients: &[Value],
    ) -> Result<SendResult, ClientError> {
        let named = [
            ("definitionKey", definition_key.into()),
            ("recipients", recipients.into()),
        ];
        call(self.client, op, params(named, NO_BODY)?).await
    }
}
