//! `sfmc de import|export`: data extension rows at scale, over `sfmc_client::bulk`.
//!
//! - `sfmc de import --key KEY FILE.csv` (`-` for stdin): the header row names the columns;
//!   rows go to the asynchronous rows API (upsert; `--sync` for the rowset API), `--concurrency`
//!   requests open at once. A progress bar (rows, rate, ETA) when stderr is a terminal; a
//!   one-line summary on stderr and a JSON summary on stdout at the end
//!   (`{"key","api","rows","accepted","rejected","unconfirmed","unsent","batches","rejects_file","seconds","stopped"}`).
//!   Rejected rows go to a reject CSV (`line,reason,` then the input's columns), by default
//!   `FILE.rejects.csv` beside the input (`stdin.rejects.csv` for stdin), written only when a
//!   row is rejected. Exit 0 when the whole input was processed, rejected rows or not
//!   (`--strict`: exit 3 when any row was rejected); 2 for bad input (missing or empty file,
//!   header only, a column the data extension lacks); 3 when Marketing Cloud refuses (unknown
//!   key); 4 when it is unavailable; 130 on Ctrl-C, after the summary of what was accepted.
//! - `sfmc de export --key KEY [--filter EXPR] [-o FILE] [--format csv|ndjson]`: every row (of
//!   the filter), following `links.next`, to stdout or to FILE through a temporary file renamed
//!   at the end (never half-written); with `-o`, a JSON summary on stdout.
//!
//! Ctrl-C is handled here rather than by `main`, so an import can say what it got done.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use super::de_export;
use super::de_import;
use crate::cli::ConnectionArgs;
use crate::exit::Failure;

/// `sfmc de`
#[derive(Debug, Args)]
pub struct DeArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: DeAction,
}

/// `sfmc de …`
#[derive(Debug, Subcommand)]
pub enum DeAction {
    /// Import (upsert) the rows of a CSV file into a data extension.
    Import(ImportArgs),
    /// Export the rows of a data extension as CSV or NDJSON.
    Export(ExportArgs),
}

/// `sfmc de import`
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The data extension's external key.
    #[arg(long)]
    pub key: String,
    /// The CSV file (header row = column names), or - for stdin.
    #[arg(value_name = "FILE.csv | -")]
    pub file: String,
    /// Use the synchronous rowset API (50 rows a request) instead of the asynchronous one.
    #[arg(long)]
    pub sync: bool,
    /// Where rejected rows go (default: FILE.rejects.csv, or stdin.rejects.csv).
    #[arg(long, value_name = "FILE")]
    pub reject: Option<PathBuf>,
    /// Requests open at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// Rows a request at most (capped at 32,000, or 50 with --sync).
    #[arg(long, value_name = "ROWS", value_parser = clap::value_parser!(u32).range(1..=32_000))]
    pub batch_rows: Option<u32>,
    /// With --sync: a primary-key column (repeatable; default: the data extension's keys when
    /// it has rows, else the first column).
    #[arg(long = "primary-key", value_name = "COLUMN")]
    pub primary_keys: Vec<String>,
    /// Exit 3 when any row was rejected.
    #[arg(long)]
    pub strict: bool,
    /// The package, business unit (--account-id) and cache.
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// The export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// CSV with a header row.
    Csv,
    /// One JSON object a line.
    Ndjson,
}

/// `sfmc de export`
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The data extension's external key.
    #[arg(long)]
    pub key: String,
    /// Only rows matching this $filter, e.g. "email like '%@example.com'".
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// Write to this file (through a temporary file renamed at the end) instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The format.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: Format,
    /// The package, business unit (--account-id) and cache.
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// Runs `sfmc de`.
pub async fn run(args: &DeArgs) -> Result<(), Failure> {
    match &args.action {
        DeAction::Import(args) => de_import::run(args).await,
        DeAction::Export(args) => de_export::run(args).await,
    }
}
