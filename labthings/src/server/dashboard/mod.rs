//! The dashboard: one page that shows every Thing live, built in the browser from the Thing
//! Descriptions (properties observed over the WebSocket and edited with inputs generated from
//! their schemas, actions with their progress, log and cancel button, events, camera streams).
//!
//! Its HTML, CSS and JavaScript are embedded in the binary: nothing is fetched from elsewhere.
//! The files hold no state of any Thing, so they are served without a token (the page asks
//! for one when the server needs it); everything the page then reads or changes goes through
//! the same checks as any other client's requests.

use axum::Router;
use axum::extract::OriginalUri;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::server::http::extract::not_allowed;

const INDEX: &str = include_str!("index.html");
const SCRIPT: &str = include_str!("dashboard.js");
const STYLE: &str = include_str!("dashboard.css");

/// The page may load only its own files, talk only to its own server, and may not be framed.
const CSP: &str = "default-src 'self'; img-src 'self' blob: data:; connect-src 'self' ws: wss:; \
    style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The dashboard's paths under `prefix` (empty, or starting with `/`), which a `GET` may
/// request without a token.
pub(crate) fn public_paths(prefix: &str) -> Vec<String> {
    let mut paths = vec![
        format!("{prefix}/"),
        format!("{prefix}/dashboard.js"),
        format!("{prefix}/dashboard.css"),
    ];
    if !prefix.is_empty() {
        paths.push(prefix.to_owned());
    }
    paths
}

/// The dashboard's routes, with their full paths under `prefix`.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>(prefix: &str) -> Router<S> {
    let get_only = |route| not_allowed(route, "GET");
    let mut router = Router::new()
        .route(&format!("{prefix}/"), get_only(get(index)))
        .route(&format!("{prefix}/dashboard.js"), get_only(get(script)))
        .route(&format!("{prefix}/dashboard.css"), get_only(get(style)));
    if !prefix.is_empty() {
        router = router.route(prefix, get_only(get(index)));
    }
    router
}

/// The page. Its links are relative, so `{prefix}` is redirected to `{prefix}/`.
async fn index(OriginalUri(uri): OriginalUri) -> Response {
    if !uri.path().ends_with('/') {
        return Redirect::permanent(&format!("{}/", uri.path())).into_response();
    }
    file(INDEX, "text/html; charset=utf-8")
}

async fn script() -> Response {
    file(SCRIPT, "text/javascript; charset=utf-8")
}

async fn style() -> Response {
    file(STYLE, "text/css; charset=utf-8")
}

fn file(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}
