//! The route table: control plane, auth endpoints, tokenContext, the REST families
//! ([`crate::api`]) and the REST fallback, wrapped
//! so that every request is first normalized ([`crate::paths`]) and then counted
//! ([`crate::gate`]) before routing, and a body its handler left unread is read before the
//! answer ([`crate::swallow`]).

use std::sync::Arc;

use axum::Router;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{any, get, post};

use crate::config::EmulatorConfig;
use crate::state::{EmulatorHandle, Shared};
use crate::{api, control, gate, paths, rest, swallow, token, userinfo};

/// The emulator as an axum [`Router`] (for embedding in another server or calling with
/// `tower::ServiceExt::oneshot`), plus the handle on its state. Instance URLs in responses are
/// the configured `public_url`, else the address given to
/// [`EmulatorHandle::set_listen_addr`], else `http://localhost/`.
pub fn router(config: EmulatorConfig) -> (Router, EmulatorHandle) {
    let shared = Arc::new(Shared::new(config));
    let routes = Router::new()
        .route(
            "/v2/token",
            post(token::token).fallback(rest::method_not_allowed),
        )
        .route(
            "/v2/userinfo",
            get(userinfo::userinfo).fallback(rest::method_not_allowed),
        )
        .route(
            "/platform/v1/tokencontext",
            get(rest::token_context).fallback(rest::method_not_allowed),
        )
        .merge(api::routes())
        .merge(control::routes())
        .route(gate::CONTROL_PREFIX, any(control::not_found))
        .route("/_emulator/{*rest}", any(control::not_found))
        .fallback(rest::fallback)
        .with_state(shared.clone());
    // Layers run outside-in from the last added: swallow (outermost, so that the gate's own
    // answers, queued API faults, are covered too), normalize, gate, route. They wrap an outer
    // router whose only content is the real one, because `Router::layer` middleware otherwise
    // runs after routing and could not change what is routed.
    let app = Router::new()
        .fallback_service(routes)
        .layer(from_fn_with_state(shared.clone(), gate::gate))
        .layer(from_fn(paths::normalize))
        .layer(from_fn(swallow::swallow));
    (app, EmulatorHandle { shared })
}
