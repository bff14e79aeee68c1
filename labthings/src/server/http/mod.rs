//! The HTTP binding, wire-compatible with LabThings-FastAPI 0.3.0: a thin translation of
//! routes onto the [interaction interface](crate::interaction).

mod affordances;
pub(crate) mod blobs;
pub(crate) mod extract;
#[cfg(feature = "history")]
mod history;
mod invocations;
mod lease;
mod mjpeg;
pub(crate) mod response;
mod sse;
pub(crate) mod things;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post, put};

use crate::problem::Problem;
use crate::server::state::ServerState;
use crate::server::ws;
use extract::not_allowed;

/// Every route of the HTTP binding, under the prefix's root.
pub(crate) fn routes(state: Arc<ServerState>) -> Router {
    let get_only = |route| not_allowed(route, "GET");
    #[cfg(feature = "provenance")]
    let router = Router::new().route(
        "/action_invocations/{id}/provenance",
        get_only(get(invocations::provenance)),
    );
    #[cfg(not(feature = "provenance"))]
    let router = Router::new();
    router
        .route("/thing_descriptions/", get_only(get(things::all)))
        .route("/things/", get_only(get(things::urls)))
        .route("/action_invocations", get_only(get(invocations::all)))
        .route(
            "/action_invocations/{id}",
            not_allowed(
                get(invocations::one).delete(invocations::cancel),
                "GET, DELETE",
            ),
        )
        .route(
            "/action_invocations/{id}/output",
            get_only(get(invocations::output)),
        )
        .route("/{thing}", get_only(get(things::redirect)))
        .route("/{thing}/", get_only(get(things::one)))
        .route("/ws", get_only(get(ws::upgrade_shared)))
        .route("/blob", not_allowed(post(blobs::upload), "POST"))
        .route("/blob/{id}", get_only(get(blobs::download)))
        .route("/{thing}/ws", get_only(get(ws::upgrade)))
        .route(
            "/{thing}/lease",
            not_allowed(
                post(lease::take).get(lease::view).delete(lease::break_any),
                "GET, POST, DELETE",
            ),
        )
        .route(
            "/{thing}/lease/{id}",
            not_allowed(put(lease::renew).delete(lease::release), "PUT, DELETE"),
        )
        .route(
            "/{thing}/{name}",
            get(affordances::read)
                .put(affordances::write)
                .post(affordances::invoke)
                .fallback(affordances::other_method),
        )
        .route(
            "/{thing}/{name}/{view}",
            get_only(get(affordances::stream_view)),
        )
        .fallback(not_found)
        .with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> Problem {
    Problem::not_found(format!("nothing is published at '{}'", uri.path()))
}
