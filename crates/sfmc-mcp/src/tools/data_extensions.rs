//! The data extension row tools: `sfmc_query_data_extension_rows` reads one page of rows
//! (`GET /data/v1/customobjectdata/key/{key}/rowset`, `$filter`, `$page`, `$pageSize`), and
//! `sfmc_upsert_data_extension_rows` upserts rows given inline, at most [`MAX_ROWS`] rows and
//! [`MAX_ROWS_BYTES`] of JSON a call, through the catalog's `insertDataExtensionRowSet`.

use rmcp::model::{CallToolResult, Tool};
use serde_json::{Value, json};
use sfmc_client::catalog::{self, encode_segment};
use sfmc_client::{ApiRequest, ClientError, Method};

use super::{Candidate, Kind, Serving, annotations, argument_error, schema_object, send};
use crate::args::{Args, ArgumentError, json_type};
use crate::budget::PageHint;
use crate::names::{
    ACCOUNT_ID_ARG, CONNECTION_ARG, QUERY_DATA_EXTENSION_ROWS, UPSERT_DATA_EXTENSION_ROWS,
};
use crate::reply;

/// The most rows one upsert call takes (Salesforce's recommendation for a synchronous rowset).
pub const MAX_ROWS: usize = 50;

/// The most JSON text the rows of one upsert call may take.
pub const MAX_ROWS_BYTES: usize = 256 * 1024;

/// The largest page of rows Marketing Cloud serves.
const MAX_PAGE_SIZE: u64 = 2500;

const QUERY_ARGUMENTS: [&str; 6] = [
    "key",
    "filter",
    "page",
    "pageSize",
    ACCOUNT_ID_ARG,
    CONNECTION_ARG,
];
const UPSERT_ARGUMENTS: [&str; 4] = ["key", "rows", ACCOUNT_ID_ARG, CONNECTION_ARG];

fn key_schema() -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": 200, "description": "The data extension's external key."})
}

/// `sfmc_query_data_extension_rows`.
pub fn query_candidate(serving: &Serving) -> Candidate {
    let mut schema = json!({
        "type": "object",
        "properties": {
            "key": key_schema(),
            "filter": {"type": "string", "description": "A $filter: `column eq value`, also ne, like, gt, ge, lt, le, joined by `and`, e.g. \"Email like '%@example.com'\"."},
            "page": {"type": "integer", "minimum": 1, "description": "The page, from 1 (default 1)."},
            "pageSize": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "description": "Rows a page (default and at most 2500)."},
        },
        "required": ["key"],
        "additionalProperties": false,
    });
    serving.add_common_arguments(&mut schema);
    let tool = Tool::new(
        QUERY_DATA_EXTENSION_ROWS,
        "Reads one page of a data extension's rows, optionally filtered (GET /data/v1/customobjectdata/key/{key}/rowset; scope data_extensions_read). Answers {status, result: {count, page, pageSize, items: [{keys, values}], links}}.",
        schema_object(schema),
    )
    .with_annotations(annotations("Query data extension rows", true, false, true));
    Candidate {
        tool,
        kind: Kind::QueryRows,
        read_only: true,
    }
}

/// `sfmc_upsert_data_extension_rows`.
pub fn upsert_candidate(serving: &Serving) -> Candidate {
    let mut schema = json!({
        "type": "object",
        "properties": {
            "key": key_schema(),
            "rows": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_ROWS,
                "description": format!("The rows (at most {MAX_ROWS}, {MAX_ROWS_BYTES} bytes of JSON): primary key columns in keys, the others in values."),
                "items": {
                    "type": "object",
                    "properties": {
                        "keys": {"type": "object", "minProperties": 1},
                        "values": {"type": "object"},
                    },
                    "required": ["keys"],
                    "additionalProperties": false,
                },
            },
        },
        "required": ["key", "rows"],
        "additionalProperties": false,
    });
    serving.add_common_arguments(&mut schema);
    let tool = Tool::new(
        UPSERT_DATA_EXTENSION_ROWS,
        format!(
            "Inserts or updates up to {MAX_ROWS} rows of a data extension by primary key (POST /hub/v1/dataevents/key:{{key}}/rowset; scope data_extensions_write). For larger loads use `sfmc de import`."
        ),
        schema_object(schema),
    )
    .with_annotations(annotations("Upsert data extension rows", false, true, true));
    Candidate {
        tool,
        kind: Kind::UpsertRows,
        read_only: false,
    }
}

/// Reads one page of rows.
pub async fn query(serving: &Serving, mut args: Args) -> CallToolResult {
    let client = match serving.client(&mut args) {
        Ok(client) => client,
        Err(error) => return argument_error(&error),
    };
    let (request, hint) = match query_request(args) {
        Ok(built) => built,
        Err(error) => return argument_error(&error),
    };
    send(serving, &client, request, Some(&hint)).await
}

fn query_request(mut args: Args) -> Result<(ApiRequest, PageHint), ArgumentError> {
    let key = args.required_string("key", "the data extension's external key")?;
    let filter = args.string("filter")?.filter(|f| !f.trim().is_empty());
    let page = args.integer("page", 1..=1_000_000)?;
    let page_size = args.integer("pageSize", 1..=MAX_PAGE_SIZE)?;
    args.finish(&QUERY_ARGUMENTS)?;
    let path = format!(
        "/data/v1/customobjectdata/key/{}/rowset",
        encode_segment(&key)
    );
    let mut request = ApiRequest::new(Method::GET, path);
    if let Some(page) = page {
        request = request.query("$page", page.to_string());
    }
    if let Some(size) = page_size {
        request = request.query("$pageSize", size.to_string());
    }
    if let Some(filter) = filter {
        request = request.query("$filter", filter);
    }
    let hint = PageHint {
        within: None,
        page: "page",
        page_size: "pageSize",
        asked_page: page,
        asked_size: page_size,
    };
    Ok((request, hint))
}

/// Upserts the rows.
pub async fn upsert(serving: &Serving, mut args: Args) -> CallToolResult {
    let client = match serving.client(&mut args) {
        Ok(client) => client,
        Err(error) => return argument_error(&error),
    };
    let params = match upsert_params(args) {
        Ok(params) => params,
        Err(error) => return argument_error(&error),
    };
    let Some(op) = catalog::find("insertDataExtensionRowSet") else {
        return reply::refused("the catalog has no insertDataExtensionRowSet operation");
    };
    let request = match op.build_request(&params) {
        Ok(request) => request.into_api_request(),
        Err(error) => return reply::client_error(None, &ClientError::from(error)),
    };
    send(serving, &client, request, None).await
}

/// `{"externalKey", "payload": rows}` from the arguments, every row checked.
fn upsert_params(mut args: Args) -> Result<Value, ArgumentError> {
    let key = args.required_string("key", "the data extension's external key")?;
    let rows = args
        .take("rows")
        .ok_or_else(|| ArgumentError::new("rows", "is missing; give an array of {keys, values}"))?;
    args.finish(&UPSERT_ARGUMENTS)?;
    let Value::Array(list) = &rows else {
        return Err(ArgumentError::new(
            "rows",
            format_args!(
                "must be an array of {{keys, values}}, not {}",
                json_type(&rows)
            ),
        ));
    };
    if list.is_empty() {
        return Err(ArgumentError::new(
            "rows",
            "is empty; give at least one row",
        ));
    }
    if list.len() > MAX_ROWS {
        return Err(ArgumentError::new(
            "rows",
            format_args!(
                "holds {} rows; at most {MAX_ROWS} a call (use `sfmc de import` for bulk loads)",
                list.len()
            ),
        ));
    }
    let bytes = rows.to_string().len();
    if bytes > MAX_ROWS_BYTES {
        return Err(ArgumentError::new(
            "rows",
            format_args!("is {bytes} bytes of JSON; at most {MAX_ROWS_BYTES} a call"),
        ));
    }
    for (i, row) in list.iter().enumerate() {
        check_row(i, row)?;
    }
    Ok(json!({"externalKey": key, "payload": rows}))
}

fn check_row(i: usize, row: &Value) -> Result<(), ArgumentError> {
    let at = |field: &str| format!("rows[{i}]{field}");
    let Value::Object(fields) = row else {
        return Err(ArgumentError::new(
            at(""),
            format_args!("must be an object {{keys, values}}, not {}", json_type(row)),
        ));
    };
    if let Some(other) = fields
        .keys()
        .find(|k| !matches!(k.as_str(), "keys" | "values"))
    {
        return Err(ArgumentError::new(
            at(&format!(".{other}")),
            "is not a row field; a row is {keys, values}",
        ));
    }
    match fields.get("keys") {
        Some(Value::Object(keys)) if !keys.is_empty() => {}
        Some(Value::Object(_)) => {
            return Err(ArgumentError::new(
                at(".keys"),
                "is empty; give the primary key columns",
            ));
        }
        Some(other) => {
            return Err(ArgumentError::new(
                at(".keys"),
                format_args!(
                    "must be an object of primary key columns, not {}",
                    json_type(other)
                ),
            ));
        }
        None => {
            return Err(ArgumentError::new(
                at(".keys"),
                "is missing; give the primary key columns",
            ));
        }
    }
    match fields.get("values") {
        None | Some(Value::Object(_)) => Ok(()),
        Some(other) => Err(ArgumentError::new(
            at(".values"),
            format_args!("must be an object of columns, not {}", json_type(other)),
        )),
    }
}
