//! The tools: one per catalog operation ([`catalog`]), `sfmc_rest_request` ([`rest`]) and the
//! data extension row tools ([`data_extensions`]), generated in catalog order and then filtered
//! by the server's policy ([`crate::filter`]) into a [`ToolSet`]. [`Serving`] is what a call
//! needs: the connections, which one is the default, the result budget, read-only.
//!
//! Every tool takes `account_id` (another business unit of the connection's package) and, when
//! several connections are configured, `connection` (default: the first one in the config file).

pub mod catalog;
pub mod data_extensions;
pub mod rest;

use std::collections::HashMap;
use std::sync::Arc;

use rmcp::model::{CallToolResult, JsonObject, Tool, ToolAnnotations};
use serde_json::{Value, json};
use sfmc_client::catalog::Operation;
use sfmc_client::{ApiRequest, Client, ConnectionError, Connections};

use crate::args::{Args, ArgumentError};
use crate::budget::PageHint;
use crate::filter::{Hidden, ToolFilter};
use crate::names::{ACCOUNT_ID_ARG, CONNECTION_ARG};
use crate::reply;

/// What a tool does when called.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// A catalog operation.
    Operation(&'static Operation),
    /// `sfmc_rest_request`.
    RestRequest,
    /// `sfmc_query_data_extension_rows`.
    QueryRows,
    /// `sfmc_upsert_data_extension_rows`.
    UpsertRows,
}

/// A tool before filtering: its definition, what it does, and whether it changes nothing.
pub struct Candidate {
    /// The definition listed by `tools/list`.
    pub tool: Tool,
    /// What a call does.
    pub kind: Kind,
    /// Whether it changes nothing (what read-only mode keeps).
    pub read_only: bool,
}

/// The effect annotations of a tool (open world: it talks to Marketing Cloud).
pub fn annotations(
    title: &str,
    read_only: bool,
    destructive: bool,
    idempotent: bool,
) -> ToolAnnotations {
    ToolAnnotations::with_title(title)
        .read_only(read_only)
        .destructive(destructive)
        .idempotent(idempotent)
        .open_world(true)
}

/// What a call needs.
#[derive(Debug, Clone)]
pub struct Serving {
    /// The connections.
    pub connections: Connections,
    /// The connection used when none is named (the first one).
    pub default_connection: Option<String>,
    /// Names of the connections, when there are several (the `connection` argument's enum).
    pub connection_names: Option<Vec<String>>,
    /// The most bytes of JSON text in a result.
    pub budget: usize,
    /// Whether the server is read-only.
    pub read_only: bool,
}

impl Serving {
    /// Adds the common arguments (`account_id`, and `connection` when several) to an input
    /// schema.
    pub fn add_common_arguments(&self, schema: &mut Value) {
        let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
            return;
        };
        properties.insert(
            ACCOUNT_ID_ARG.into(),
            json!({
                "type": ["string", "integer"],
                "pattern": "^[0-9]{1,18}$",
                "description": "The business unit (MID) to act in; default: the connection's own.",
            }),
        );
        if let Some(names) = &self.connection_names {
            properties.insert(
                CONNECTION_ARG.into(),
                json!({
                    "type": "string",
                    "enum": names,
                    "description": format!(
                        "The configured connection to use; default: {}.",
                        self.default_connection.as_deref().unwrap_or("the first one")
                    ),
                }),
            );
        }
    }

    /// Takes `connection` and `account_id` from `args` and gives the client they name.
    pub fn client(&self, args: &mut Args) -> Result<Client, ArgumentError> {
        let connection = args.string(CONNECTION_ARG)?;
        let account_id = args.id(ACCOUNT_ID_ARG)?;
        let name = connection.as_deref().or(self.default_connection.as_deref());
        self.connections
            .client(name, account_id.as_deref())
            .map_err(|error| match error {
                ConnectionError::AccountId(e) => ArgumentError::new(ACCOUNT_ID_ARG, e),
                other => ArgumentError::new(CONNECTION_ARG, other),
            })
    }
}

/// The tools a server offers, in catalog order, and why the others are hidden.
pub struct ToolSet {
    offered: Vec<Tool>,
    kinds: HashMap<String, Kind>,
    hidden: HashMap<String, Hidden>,
}

impl ToolSet {
    /// Every candidate tool, in order: the catalog's operations, then `sfmc_rest_request`, then
    /// the data extension row tools.
    pub fn candidates(serving: &Serving) -> Vec<Candidate> {
        let mut all: Vec<Candidate> = sfmc_client::catalog::operations()
            .iter()
            .map(|op| catalog::candidate(op, serving))
            .collect();
        all.push(rest::candidate(serving));
        all.push(data_extensions::query_candidate(serving));
        all.push(data_extensions::upsert_candidate(serving));
        all
    }

    /// The candidates `filter` lets through.
    pub fn new(candidates: Vec<Candidate>, filter: &ToolFilter) -> Self {
        let mut set = Self {
            offered: Vec::new(),
            kinds: HashMap::new(),
            hidden: HashMap::new(),
        };
        for candidate in candidates {
            let name = candidate.tool.name.to_string();
            match filter.check(&name, candidate.read_only) {
                Ok(()) => {
                    set.kinds.insert(name, candidate.kind);
                    set.offered.push(candidate.tool);
                }
                Err(hidden) => {
                    set.hidden.insert(name, hidden);
                }
            }
        }
        set
    }

    /// The offered tools, in order.
    pub fn offered(&self) -> &[Tool] {
        &self.offered
    }

    /// The offered tool `name`.
    pub fn tool(&self, name: &str) -> Option<&Tool> {
        self.offered.iter().find(|t| t.name == name)
    }

    /// What the offered tool `name` does, or why it is not offered (`None`: no such tool).
    pub fn kind(&self, name: &str) -> Result<Kind, Option<&Hidden>> {
        self.kinds
            .get(name)
            .copied()
            .ok_or_else(|| self.hidden.get(name))
    }
}

/// Runs a call of `kind`.
pub async fn call(kind: Kind, serving: &Serving, args: Args) -> CallToolResult {
    match kind {
        Kind::Operation(op) => catalog::call(op, serving, args).await,
        Kind::RestRequest => rest::call(serving, args).await,
        Kind::QueryRows => data_extensions::query(serving, args).await,
        Kind::UpsertRows => data_extensions::upsert(serving, args).await,
    }
}

/// An input schema as the object `Tool` holds.
pub fn schema_object(schema: Value) -> Arc<JsonObject> {
    match schema {
        Value::Object(map) => Arc::new(map),
        _ => Arc::new(JsonObject::new()),
    }
}

/// Sends `request` with `client`: its answer cut to the budget (`hint` saying how to page on),
/// or its failure as a tool error.
pub async fn send(
    serving: &Serving,
    client: &Client,
    request: ApiRequest,
    hint: Option<&PageHint>,
) -> CallToolResult {
    match client.send(request).await {
        Ok(response) => reply::success(
            client,
            response.status.as_u16(),
            response.json(),
            serving.budget,
            hint,
        ),
        Err(error) => reply::client_error(Some(client), &error),
    }
}

/// A bad argument as a tool result.
pub fn argument_error(error: &ArgumentError) -> CallToolResult {
    reply::invalid_argument(error)
}
