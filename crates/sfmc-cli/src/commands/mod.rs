//! One module per command; [`run`] dispatches.

pub mod api;
mod cache;
pub mod call;
mod connections;
pub mod de;
mod de_export;
mod de_import;
mod emulator;
pub mod gateway;
pub mod mcp;
mod token;
mod userinfo;

use crate::cli::Command;
use crate::exit::Failure;
use crate::output;

/// Runs one command.
pub async fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Token(args) => token::run(&args).await,
        Command::Userinfo(args) => userinfo::run(&args).await,
        Command::Subdomain { base_uri } => {
            let subdomain = sfmc_auth::subdomain_from_base_uri(&base_uri)?;
            output::line(&subdomain)
        }
        Command::Emulator(args) => emulator::run(args).await,
        Command::Connections(args) => connections::run(&args),
        Command::Cache { action } => cache::run(&action),
        Command::Call(args) => call::run(&args).await,
        Command::Api(args) => api::run(&args).await,
        Command::Mcp(args) => mcp::run(args).await,
        Command::De(args) => de::run(&args).await,
        Command::Gateway(args) => gateway::run(args).await,
    }
}
