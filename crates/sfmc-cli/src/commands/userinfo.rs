//! `sfmc userinfo`: verifies the token with `GET /v2/userinfo`; a 401 invalidates the token and
//! retries once with a new one.

use sfmc_auth::{UserInfo, fetch_userinfo};

use crate::cli::ConnectionArgs;
use crate::connection::Connection;
use crate::exit::Failure;
use crate::output;

/// Calls userinfo and prints its JSON.
pub async fn run(args: &ConnectionArgs) -> Result<(), Failure> {
    let connection = Connection::open(args).await?;
    let handle = &connection.handle;
    let http = connection.http.client()?;
    for attempt in 0..2 {
        let token = handle.token().await?;
        match fetch_userinfo(&http, handle.settings(), &token).await? {
            UserInfo::Ok(info) => {
                output::json(&info)?;
                connection.settle().await;
                return Ok(());
            }
            UserInfo::Unauthorized => {
                tracing::debug!(attempt, "userinfo answered 401; invalidating the token");
                handle.invalidate(&token).await;
            }
            UserInfo::Forbidden => {
                return Err(Failure::rejected(
                    "Marketing Cloud answered 403 Forbidden to /v2/userinfo — check the package's permissions in Setup → Apps → Installed Packages",
                ));
            }
            _ => {
                return Err(Failure::unavailable(
                    "Marketing Cloud's userinfo answer is not understood",
                ));
            }
        }
    }
    Err(Failure::rejected(
        "Marketing Cloud answered 401 Not Authorized to a new token — check the package's permissions in Setup → Apps → Installed Packages",
    ))
}
