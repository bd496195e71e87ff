//! `sfmc call OPERATION [JSON | @FILE | -]`: runs a catalog operation by its connector name;
//! `--list` (and `--list --json`, with a JSON Schema each) lists them. Also the pieces `sfmc api`
//! shares: reading JSON input, opening a client, sending and printing.
//!
//! Everything about the input is checked before the connection is opened (and before a secret
//! is asked for): unknown operations and parameters, missing or mistyped ones, invalid JSON.

use clap::Args;
use futures_util::TryStreamExt;
use serde_json::Value;
use sfmc_client::catalog::{self, Paging};
use sfmc_client::{ApiRequest, Client, ClientError};

use crate::cli::ConnectionArgs;
use crate::connection::Connection;
use crate::exit::Failure;
use crate::input::{InputError, read_bounded_text};
use crate::output;

/// The largest JSON input read from a file or stdin.
const MAX_INPUT: u64 = 64 * 1024 * 1024;

/// `sfmc call`
#[derive(Debug, Args)]
pub struct CallArgs {
    /// The operation's connector name, e.g. createCampaign (see --list).
    #[arg(required_unless_present = "list")]
    pub operation: Option<String>,
    /// Its parameters: a JSON object, @FILE, or - for stdin (default: none).
    #[arg(value_name = "JSON | @FILE | -")]
    pub input: Option<String>,
    /// Follow pages and print every item as one JSON array.
    #[arg(long)]
    pub all: bool,
    /// List the operations.
    #[arg(long)]
    pub list: bool,
    /// With --list: print JSON, with a JSON Schema of each operation's parameters.
    #[arg(long, requires = "list")]
    pub json: bool,
    /// The package, business unit (--account-id) and cache.
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// Runs `sfmc call`.
pub async fn run(args: &CallArgs) -> Result<(), Failure> {
    if args.list {
        return list(args.json);
    }
    let name = args.operation.as_deref().unwrap_or_default();
    let op = catalog::lookup(name).map_err(ClientError::from)?;
    let params = match &args.input {
        Some(input) => read_json(input, "the parameters")?,
        None => Value::Null,
    };
    let request = op
        .build_request(&params)
        .map_err(ClientError::from)?
        .into_api_request();
    let pages = if args.all && op.paging != Paging::None {
        Pages::All(op.paging)
    } else {
        Pages::One
    };
    send_and_print(&args.connection, request, pages).await
}

/// What a command prints of an answer.
pub(crate) enum Pages {
    /// The one response.
    One,
    /// Every item of every page, in this paging style.
    All(Paging),
    /// Every item of every page, in the style the first page shows.
    Detected,
}

/// Opens the connection, sends `request`, prints the answer (or all its pages' items as one
/// JSON array) and lets a background token refresh finish.
pub(crate) async fn send_and_print(
    args: &ConnectionArgs,
    request: ApiRequest,
    pages: Pages,
) -> Result<(), Failure> {
    let (connection, client) = open(args).await?;
    let answer = match pages {
        Pages::One => client.send(request).await?.json(),
        Pages::All(style) => Value::Array(
            sfmc_client::paging::items(client, request, style)
                .try_collect()
                .await?,
        ),
        Pages::Detected => Value::Array(
            sfmc_client::paging::detected_items(client, request)
                .try_collect()
                .await?,
        ),
    };
    output::json(&answer)?;
    connection.settle().await;
    Ok(())
}

fn list(json: bool) -> Result<(), Failure> {
    let operations = catalog::operations();
    if json {
        return output::json(&Value::Array(
            operations.iter().map(|op| op.describe()).collect(),
        ));
    }
    let width = operations.iter().map(|op| op.name.len()).max().unwrap_or(0);
    let lines: Vec<String> = operations
        .iter()
        .map(|op| {
            format!(
                "{:width$}  {:6} {}  — {}",
                op.name,
                op.method.as_str(),
                op.path,
                op.summary
            )
        })
        .collect();
    output::line(&lines.join("\n"))
}

/// Reads JSON from `arg`: the text itself, `@FILE`, or `-` for stdin. Errors name `what` and
/// the position of the problem.
pub(crate) fn read_json(arg: &str, what: &str) -> Result<Value, Failure> {
    let bounded = |read: Result<String, InputError>, name: &str| {
        read.map_err(|e| Failure::config(format!("{what}: {name} {e}")))
    };
    let (text, source) = if arg == "-" {
        let stdin = read_bounded_text(std::io::stdin().lock(), MAX_INPUT);
        (bounded(stdin, "stdin")?, "stdin")
    } else if let Some(path) = arg.strip_prefix('@') {
        let file = std::fs::File::open(path)
            .map_err(|e| Failure::config(format!("{what}: cannot open {path}: {e}")))?;
        (bounded(read_bounded_text(file, MAX_INPUT), path)?, path)
    } else {
        (arg.to_owned(), "the argument")
    };
    serde_json::from_str(&text)
        .map_err(|e| Failure::config(format!("{what}: invalid JSON in {source}: {e}")))
}

/// Opens the connection and a client over it (same manager, business unit and HTTP pool).
pub(crate) async fn open(args: &ConnectionArgs) -> Result<(Connection, Client), Failure> {
    let connection = Connection::open(args).await?;
    let client = Client::from_handle(
        connection.manager.clone(),
        connection.handle.clone(),
        connection.http.client()?,
    );
    Ok((connection, client))
}
