//! `sfmc token`: prints the token JSON (or `--raw`, the bare token).

use sfmc_auth::AccessToken;

use crate::cli::TokenArgs;
use crate::connection::Connection;
use crate::exit::Failure;
use crate::output;

/// Gets a token (cached when possible) and prints it.
pub async fn run(args: &TokenArgs) -> Result<(), Failure> {
    let connection = Connection::open(&args.connection).await?;
    let token = connection.handle.token().await?;
    print(&connection, &token, args.raw)?;
    // A token served from the cache in its refresh window has started a refresh: let it reach
    // the cache before the process ends (the output is already out).
    connection.settle().await;
    Ok(())
}

fn print(connection: &Connection, token: &AccessToken, raw: bool) -> Result<(), Failure> {
    if raw {
        return output::line(token.expose());
    }
    let now_ms = connection.handle.now_ms();
    output::json(&serde_json::json!({
        "access_token": token.expose(),
        "token_type": token.response().token_type,
        "expires_in": token.remaining_secs(now_ms),
        "expires_at": token.expires_at_ms() / 1000,
        "scope": token.scope(),
        "rest_instance_url": token.rest_instance_url().as_str(),
        "soap_instance_url": token.soap_instance_url().map(|u| u.as_str()),
    }))
}
