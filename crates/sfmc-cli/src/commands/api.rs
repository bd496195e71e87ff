//! `sfmc api METHOD PATH [--data JSON | @FILE | -] [--query NAME=VALUE]… [--paginate]`: any REST
//! request, like `gh api`. PATH is relative to the token's REST instance URL; absolute URLs and
//! `..` segments are refused so the token never goes to another host.

use clap::Args;
use sfmc_client::catalog::{HttpMethod, UnknownMethod};
use sfmc_client::{ApiRequest, check_path};

use super::call::{Pages, read_json, send_and_print};
use crate::cli::ConnectionArgs;
use crate::exit::Failure;

/// `sfmc api`
#[derive(Debug, Args)]
pub struct ApiArgs {
    /// GET, POST, PUT, PATCH or DELETE.
    pub method: String,
    /// The path under the REST instance URL, e.g. /hub/v1/campaigns (a ?query joins the --query pairs).
    pub path: String,
    /// The JSON body: JSON text, @FILE, or - for stdin.
    #[arg(long, value_name = "JSON | @FILE | -")]
    pub data: Option<String>,
    /// A query parameter (repeatable), form-encoded.
    #[arg(long = "query", value_name = "NAME=VALUE")]
    pub query: Vec<String>,
    /// Follow pages (the style is told by the first page) and print every item as one JSON array.
    #[arg(long)]
    pub paginate: bool,
    /// The package, business unit (--account-id) and cache.
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// Runs `sfmc api`.
pub async fn run(args: &ApiArgs) -> Result<(), Failure> {
    let request = build(args)?;
    let pages = if args.paginate {
        Pages::Detected
    } else {
        Pages::One
    };
    send_and_print(&args.connection, request, pages).await
}

/// The request the arguments describe, every part checked.
fn build(args: &ApiArgs) -> Result<ApiRequest, Failure> {
    let method: HttpMethod = args
        .method
        .parse()
        .map_err(|e: UnknownMethod| Failure::config(e.to_string()))?;
    check_path(&args.path)?;
    let mut request = ApiRequest::new(method.to_method(), args.path.clone());
    for pair in &args.query {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| Failure::config(format!("--query {pair:?}: expected NAME=VALUE")))?;
        if name.is_empty() {
            return Err(Failure::config(format!(
                "--query {pair:?}: the name is empty"
            )));
        }
        request = request.query(name, value);
    }
    if let Some(data) = &args.data {
        request = request.json(read_json(data, "--data")?);
    }
    Ok(request)
}
