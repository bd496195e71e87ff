//! `sfmc_rest_request`: any REST path under the instance URL, the token handled by the server —
//! for what no catalog tool covers. The path follows the client's path rules
//! ([`sfmc_client::check_path`]: relative, no `..`, no other host); the token endpoints are
//! refused (tokens are the server's business); a read-only server sends GET only.

use rmcp::model::{CallToolResult, Tool};
use serde_json::{Value, json};
use sfmc_client::catalog::HttpMethod;
use sfmc_client::{ApiRequest, check_path};

use super::{Candidate, Kind, Serving, annotations, argument_error, schema_object, send};
use crate::args::{Args, ArgumentError, json_type};
use crate::budget::PageHint;
use crate::names::{ACCOUNT_ID_ARG, CONNECTION_ARG, REST_REQUEST};
use crate::reply;

/// The arguments of this tool.
const ARGUMENTS: [&str; 6] = [
    "method",
    "path",
    "query",
    "body",
    ACCOUNT_ID_ARG,
    CONNECTION_ARG,
];

/// Paths of token endpoints, lower-case, without the leading `/`.
const TOKEN_PATHS: [&str; 2] = ["v2/token", "v1/requesttoken"];

/// The tool definition.
pub fn candidate(serving: &Serving) -> Candidate {
    let methods: Vec<&str> = if serving.read_only {
        vec!["GET"]
    } else {
        HttpMethod::ALL.iter().map(|m| m.as_str()).collect()
    };
    let mut schema = json!({
        "type": "object",
        "properties": {
            "method": {"type": "string", "enum": methods, "description": "The HTTP method."},
            "path": {
                "type": "string",
                "maxLength": 2048,
                "description": "The path relative to the REST instance URL, e.g. /hub/v1/campaigns or /asset/v1/content/assets?$page=2 (no host, no '..').",
            },
            "query": {
                "type": "object",
                "additionalProperties": {"type": ["string", "number", "boolean"]},
                "description": "Query parameters, e.g. {\"$page\": \"2\", \"$pageSize\": \"50\"}.",
            },
            "body": {"description": "The JSON body (for POST, PUT, PATCH)."},
        },
        "required": ["method", "path"],
        "additionalProperties": false,
    });
    serving.add_common_arguments(&mut schema);
    let mut description = String::from(
        "Sends a request to any Marketing Cloud REST path, the token handled by the server; for what no other sfmc_ tool covers. Answers {status, result}.",
    );
    if serving.read_only {
        description.push_str(" This server is read-only: only GET is allowed.");
    }
    let read_only = serving.read_only;
    let tool = Tool::new(REST_REQUEST, description, schema_object(schema)).with_annotations(
        annotations("REST request", read_only, !read_only, read_only),
    );
    Candidate {
        tool,
        kind: Kind::RestRequest,
        read_only: true,
    }
}

/// Sends the request.
pub async fn call(serving: &Serving, mut args: Args) -> CallToolResult {
    let client = match serving.client(&mut args) {
        Ok(client) => client,
        Err(error) => return argument_error(&error),
    };
    let (request, hint) = match request(serving, args) {
        Ok(Ok(built)) => built,
        Ok(Err(refusal)) => return refusal,
        Err(error) => return argument_error(&error),
    };
    send(serving, &client, request, Some(&hint)).await
}

/// The request of the arguments, or a refusal of the server's policy.
fn request(
    serving: &Serving,
    mut args: Args,
) -> Result<Result<(ApiRequest, PageHint), CallToolResult>, ArgumentError> {
    let method_text = args.required_string("method", "one of GET, POST, PUT, PATCH, DELETE")?;
    let method: HttpMethod = method_text
        .parse()
        .map_err(|e| ArgumentError::new("method", format_args!("is invalid: {e}")))?;
    let path = args.required_string("path", "a path like /hub/v1/campaigns")?;
    let query = args.take("query");
    let body = args.take("body");
    args.finish(&ARGUMENTS)?;
    if serving.read_only && method != HttpMethod::Get {
        return Ok(Err(reply::refused(format!(
            "{} is refused: this server is read-only (--read-only), so {REST_REQUEST} sends GET only",
            method.as_str()
        ))));
    }
    check_path(&path).map_err(|e| ArgumentError::new("path", format_args!("is refused: {e}")))?;
    let bare = path.trim_start_matches('/').to_ascii_lowercase();
    if TOKEN_PATHS.iter().any(|t| bare.starts_with(t)) {
        return Err(ArgumentError::new(
            "path",
            "names a token endpoint: tokens are handled by the server and never returned",
        ));
    }
    let mut request = ApiRequest::new(method.to_method(), path);
    if let Some(query) = query {
        let Value::Object(pairs) = query else {
            return Err(ArgumentError::new(
                "query",
                format_args!(
                    "must be an object of names to values, not {}",
                    json_type(&query)
                ),
            ));
        };
        for (name, value) in pairs {
            let text = match value {
                Value::String(text) => text,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                other => {
                    return Err(ArgumentError::new(
                        format!("query.{name}"),
                        format_args!(
                            "must be a string, number or boolean, not {}",
                            json_type(&other)
                        ),
                    ));
                }
            };
            request.set_query(&name, text);
        }
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let asked = |name: &str| request.query_value(name).and_then(|v| v.parse().ok());
    let hint = PageHint {
        within: Some("query"),
        page: "$page",
        page_size: "$pageSize",
        asked_page: asked("page"),
        asked_size: asked("pageSize"),
    };
    Ok(Ok((request, hint)))
}
