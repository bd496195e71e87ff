//! `sfmc token`: prints the token JSON (or `--raw`, the bare token).

use crate::cli::TokenArgs;
use crate::connection::Connection;
use crate::exit::Failure;
use crate::output;

/// Gets a token (cached when possible) and prints it.
pub async fn run(args: &TokenArgs) -> Result<(), Failure> {
    let connection = Connection::open(&args.connection).await?;
    let token = connection.handle.token().await?;
    if args.raw {
        return output::line(token.expose());
    }
    let now_ms = connection.handle.now_ms();
    output::json(&serde_json::json!({
        "access_token": token.expose(),
        "token_type": token.response().token_type,
        "expires_in": token.remaining_secs(now_ms),
        "expires_at": token.expires_at_ms() / 1000,
        "scope": token.scope(),
        "rest_instance_url": token.rest_instance_url(),
        "soap_instance_url": token.soap_instance_url(),
    }))
}
