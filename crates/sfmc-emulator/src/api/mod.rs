//! The REST families of `shared/SFMC-API.md`, one module each, over per-business-unit state
//! ([`crate::store`]), plus the helpers they share: [`principal`] (token and scope checks),
//! [`query`], [`paging`], [`filter`], [`listing`], [`reply`] (error bodies), [`ids`] and
//! [`by_id`] (storage and lookups of the families with numeric ids).
//! Paths here are the normalized (lower-case) ones; handlers read keys in their original case
//! from [`crate::paths::Segments`].

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::map_response;
use axum::routing::{MethodRouter, get, post, put};

use crate::rest;
use crate::state::AppState;

pub(crate) mod assets;
pub(crate) mod async_rows;
pub(crate) mod by_id;
pub(crate) mod campaigns;
pub(crate) mod categories;
pub(crate) mod contacts;
pub(crate) mod de_lookup;
pub(crate) mod definitions;
pub(crate) mod filter;
pub(crate) mod ids;
pub(crate) mod journeys;
pub(crate) mod listing;
pub(crate) mod messaging;
pub(crate) mod paging;
pub(crate) mod principal;
pub(crate) mod query;
pub(crate) mod reply;
pub(crate) mod row_reads;
pub(crate) mod rowsets;
pub(crate) mod sends;

/// Largest asynchronous rows body (a request of 32,000 wide rows fits).
const MAX_ASYNC_ROWS_BODY_BYTES: usize = 64 * 1024 * 1024;

/// Largest rowset body the live API accepts (5 MB).
const MAX_ROWSET_BODY_BYTES: usize = 5 * 1024 * 1024;

/// `route` reading bodies of up to `max` bytes (axum's default, 2 MB, elsewhere).
fn body_limit(route: MethodRouter<AppState>, max: usize) -> MethodRouter<AppState> {
    route.layer(DefaultBodyLimit::max(max))
}

/// `route` answering 405 for the methods it does not serve.
fn only(route: MethodRouter<AppState>) -> MethodRouter<AppState> {
    route.fallback(rest::method_not_allowed)
}

/// The families' routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/asset/v1/content/assets",
            only(get(assets::list).post(assets::create)),
        )
        .route(
            "/asset/v1/content/assets/{id}",
            only(
                get(assets::get)
                    .patch(assets::update)
                    .delete(assets::delete),
            ),
        )
        .route(
            "/asset/v1/content/categories",
            only(get(categories::list).post(categories::create)),
        )
        .route(
            "/asset/v1/content/categories/{id}",
            only(
                get(categories::get)
                    .put(categories::update)
                    .delete(categories::delete),
            ),
        )
        .route(
            "/hub/v1/campaigns",
            only(get(campaigns::list).post(campaigns::create)),
        )
        .route(
            "/hub/v1/campaigns/{id}",
            only(
                get(campaigns::get)
                    .patch(campaigns::update)
                    .delete(campaigns::delete),
            ),
        )
        .route(
            "/contacts/v1/contacts",
            only(post(contacts::create).patch(contacts::update)),
        )
        .route(
            "/contacts/v1/contacts/actions/delete",
            only(post(contacts::delete)),
        )
        .route(
            "/contacts/v1/contacts/analytics/deleterequests",
            only(get(contacts::delete_requests)),
        )
        .route(
            "/interaction/v1/interactions",
            only(
                get(journeys::list)
                    .post(journeys::create)
                    .put(journeys::update),
            ),
        )
        .route(
            "/interaction/v1/interactions/{id}",
            only(get(journeys::get).delete(journeys::delete)),
        )
        .route(
            "/messaging/v1/{channel}/definitions",
            only(get(definitions::list).post(definitions::create)),
        )
        .route(
            "/messaging/v1/{channel}/definitions/{key}",
            only(
                get(definitions::get)
                    .patch(definitions::update)
                    .delete(definitions::delete),
            ),
        )
        .route(
            "/messaging/v1/{channel}/messages",
            only(post(sends::send_many)),
        )
        .route(
            "/messaging/v1/{channel}/messages/{key}",
            only(get(sends::status).post(sends::send_one)),
        )
        .route(
            "/hub/v1/dataevents/{key}/rowset",
            body_limit(only(post(rowsets::rowset)), MAX_ROWSET_BODY_BYTES),
        )
        .route(
            "/hub/v1/dataevents/{key}/rows/{pk}",
            only(put(rowsets::row)),
        )
        .route(
            "/data/v1/async/dataextensions/{key}/rows",
            body_limit(
                only(post(async_rows::write).put(async_rows::write)),
                MAX_ASYNC_ROWS_BODY_BYTES,
            ),
        )
        .route("/data/v1/async/{id}/status", only(get(async_rows::status)))
        .route(
            "/data/v1/async/{id}/results",
            only(get(async_rows::results)),
        )
        .route(
            "/data/v1/customobjectdata/key/{key}/rowset",
            only(get(row_reads::rowset)),
        )
        .layer(map_response(reply::too_large))
}
