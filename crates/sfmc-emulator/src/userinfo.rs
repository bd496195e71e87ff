//! `GET /v2/userinfo`: who the bearer token belongs to, in the live API's shape (`exp`, `iss`,
//! `user`, `organization`, `rest`, `application`, `permissions`). Values that the emulator has
//! no source for (names, time zone, stack) are fixed, plausible placeholders.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::clock;
use crate::rest::{authenticate, mid_json, not_authorized, user_id};
use crate::state::AppState;

/// `GET /v2/userinfo`.
pub(crate) async fn userinfo(State(shared): State<AppState>, headers: HeaderMap) -> Response {
    let Some(caller) = authenticate(&shared, &headers) else {
        return not_authorized();
    };
    let instance_url = shared.instance_url();
    let remaining_secs = caller
        .claims
        .expires_at_ms
        .saturating_sub(shared.mint.now_ms())
        .div_ceil(1000);
    let granted: Vec<(usize, &str)> = caller
        .entry
        .scopes
        .iter()
        .enumerate()
        .filter(|(i, _)| caller.claims.scopes.contains(*i))
        .map(|(i, s)| (i, s.as_str()))
        .collect();
    let user = user_id(caller.claims.package);
    let timezone = json!({
        "longName": "(GMT-06:00) Central Time (No Daylight Saving)",
        "shortName": "CST",
        "offset": -6.0,
        "dst": false,
    });
    let is_enterprise = caller.mid == caller.enterprise;
    Json(json!({
        "exp": clock::unix_now_secs().saturating_add(remaining_secs),
        "iss": format!("{instance_url}v2/token"),
        "user": {
            "sub": user.to_string(),
            "name": "Emulated API User",
            "preferred_username": format!("api-user-{user}@emulator.invalid"),
            "email": format!("api-user-{user}@emulator.invalid"),
            "locale": "en-US",
            "zoneinfo": "America/Chicago",
            "timezone": timezone,
        },
        "organization": {
            "member_id": mid_json(caller.mid),
            "enterprise_id": mid_json(caller.enterprise),
            "enterprise_name": "Emulated Enterprise",
            "account_type": if is_enterprise { "enterprise" } else { "business_unit" },
            "stack_key": "EMU1",
            "region": "NA1",
            "locale": "en-US",
            "zoneinfo": "America/Chicago",
            "timezone": timezone,
        },
        "rest": {
            "rest_instance_url": instance_url,
            "soap_instance_url": instance_url,
        },
        "application": {
            "id": application_id(&caller.entry.package.client_id),
            "name": format!("Emulated package {}", caller.entry.package.client_id),
            "redirectUrl": [],
            "appScopes": caller.entry.scopes,
        },
        "permissions": permissions(&granted),
    }))
    .into_response()
}

/// A stable UUID-shaped id for the package of `client_id`.
fn application_id(client_id: &str) -> String {
    let digest = Sha256::digest(client_id.as_bytes());
    let mut first = [0u8; 16];
    first.copy_from_slice(&digest[..16]);
    crate::api::ids::hyphenated(&first)
}

/// One permission per granted scope of the form `object_operation` (`offline` grants none):
/// `data_extensions_read` → `{"objectTypeName":"DataExtensions","operationName":"Read",…}`;
/// `id` is the scope's position in the package's scope list, counted from 1.
fn permissions(granted: &[(usize, &str)]) -> Vec<Value> {
    granted
        .iter()
        .filter_map(|&(i, scope)| {
            let (object, operation) = scope.rsplit_once('_')?;
            Some(json!({
                "objectTypeName": object.split('_').map(title).collect::<String>(),
                "operationName": title(operation),
                "name": scope,
                "id": i + 1,
            }))
        })
        .collect()
}

fn title(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_from_scopes() {
        let p = permissions(&[
            (0, "offline"),
            (3, "data_extensions_read"),
            (5, "email_send"),
        ]);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0]["objectTypeName"], "DataExtensions");
        assert_eq!(p[0]["operationName"], "Read");
        assert_eq!(p[1]["name"], "email_send");
        assert_eq!(p[1]["operationName"], "Send");
        assert_eq!(p[1]["id"], 6);
    }

    #[test]
    fn application_ids_are_uuid_shaped_and_stable() {
        let a = application_id("demo-client-id");
        assert_eq!(a.len(), 36);
        assert_eq!(a, application_id("demo-client-id"));
        assert_ne!(a, application_id("other"));
    }
}
