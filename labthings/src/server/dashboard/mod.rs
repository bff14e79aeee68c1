//! The dashboard: one page that shows every Thing live, built in the browser from the Thing
//! Descriptions (properties observed over the WebSocket and edited with inputs generated from
//! their schemas, actions with their progress, log and cancel button, events, camera streams).
//!
//! Numeric and boolean properties are plotted live with uPlot (vendored, MIT licence, served
//! at `LICENSE-uplot`), seeded from their value histories; objects and arrays are shown and
//! edited field by field.
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

/// The page's files besides itself: `(name, body, content type)`.
const FILES: &[(&str, &str, &str)] = &[
    ("dashboard.js", include_str!("dashboard.js"), JS),
    ("forms.js", include_str!("forms.js"), JS),
    ("plot.js", include_str!("plot.js"), JS),
    ("dashboard.css", include_str!("dashboard.css"), CSS),
    ("uplot.js", include_str!("vendor/uplot.js"), JS),
    ("uplot.css", include_str!("vendor/uplot.css"), CSS),
    ("LICENSE-uplot", include_str!("vendor/LICENSE-uplot"), TEXT),
];
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

/// The page may load only its own files, talk only to its own server, and may not be framed.
const CSP: &str = "default-src 'self'; img-src 'self' blob: data:; connect-src 'self' ws: wss:; \
    style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The dashboard's paths under `prefix` (empty, or starting with `/`), which a `GET` may
/// request without a token.
pub(crate) fn public_paths(prefix: &str) -> Vec<String> {
    let mut paths = vec![format!("{prefix}/")];
    paths.extend(FILES.iter().map(|(name, _, _)| format!("{prefix}/{name}")));
    if !prefix.is_empty() {
        paths.push(prefix.to_owned());
    }
    paths
}

/// The dashboard's routes, with their full paths under `prefix`.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>(prefix: &str) -> Router<S> {
    let get_only = |route| not_allowed(route, "GET");
    let mut router = Router::new().route(&format!("{prefix}/"), get_only(get(index)));
    for &(name, body, content_type) in FILES {
        let serve = move || async move { file(body, content_type) };
        router = router.route(&format!("{prefix}/{name}"), get_only(get(serve)));
    }
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
