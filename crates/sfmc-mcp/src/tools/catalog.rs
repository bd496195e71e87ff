//! The catalog's operations as tools, generated, never written per operation: the name from
//! [`crate::names::tool_name`], the description from the summary (with method, path, scope and
//! what it returns), the input schema from [`Operation::json_schema`] plus the common arguments,
//! and the annotations from the operation's effects. A call validates the arguments with the
//! catalog's request builder (errors name the parameter) and sends the request.

use rmcp::model::{CallToolResult, Tool};
use sfmc_client::ClientError;
use sfmc_client::catalog::{Operation, Paging};

use super::{Candidate, Kind, Serving, annotations, argument_error, schema_object, send};
use crate::args::Args;
use crate::budget::PageHint;
use crate::names::tool_name;
use crate::reply;

/// The tool of `op`.
pub fn candidate(op: &'static Operation, serving: &Serving) -> Candidate {
    let mut schema = op.json_schema();
    serving.add_common_arguments(&mut schema);
    let description = format!(
        "{} ({} {}; scope {}; returns {}.)",
        op.summary,
        op.method.as_str(),
        op.path,
        op.scope,
        op.returns
    );
    let tool = Tool::new(tool_name(op.name), description, schema_object(schema)).with_annotations(
        annotations(op.name, op.read_only, op.destructive, op.idempotent),
    );
    Candidate {
        tool,
        kind: Kind::Operation(op),
        read_only: op.read_only,
    }
}

/// Calls `op` with the arguments.
pub async fn call(op: &'static Operation, serving: &Serving, mut args: Args) -> CallToolResult {
    let client = match serving.client(&mut args) {
        Ok(client) => client,
        Err(error) => return argument_error(&error),
    };
    let params = args.into_params();
    let request = match op.build_request(&params) {
        Ok(request) => request.into_api_request(),
        Err(error) => return reply::client_error(None, &ClientError::from(error)),
    };
    let hint = page_hint(op, &params);
    send(serving, &client, request, hint.as_ref()).await
}

/// Where a paged operation takes its page arguments, and what was asked.
fn page_hint(op: &Operation, params: &serde_json::Value) -> Option<PageHint> {
    if !matches!(op.paging, Paging::Page | Paging::Definitions) {
        return None;
    }
    let page = op.param("page")?;
    let size = op.param("pageSize")?;
    Some(PageHint {
        within: None,
        page: page.name,
        page_size: size.name,
        asked_page: params.get(page.name).and_then(serde_json::Value::as_u64),
        asked_size: params.get(size.name).and_then(serde_json::Value::as_u64),
    })
}
