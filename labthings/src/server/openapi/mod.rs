//! OpenAPI 3.1: `GET {prefix}/openapi.json`, a document of every HTTP route of the server,
//! generated from the same tables as the TDs, and `GET {prefix}/docs`, a Swagger UI page on it
//! (embedded in the binary: nothing is fetched from elsewhere).
//!
//! The document is built once, when first asked for: the Things, the prefix and the tokens
//! are fixed once a server serves. It is guarded like the TDs (any token may read it); the
//! page's files hold no state of any Thing and are served without a token (the page asks for
//! one when the document needs it).

mod components;
mod lease;
mod paths;

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::model::openapi::Schemas;
use crate::server::http::extract::not_allowed;
use crate::server::state::ServerState;

/// The document's path under the prefix.
pub(crate) const DOCUMENT: &str = "/openapi.json";
/// The documentation page's path under the prefix.
pub(crate) const DOCS: &str = "/docs";

const PAGE: &str = include_str!("docs/index.html");
const INIT: &str = include_str!("docs/init.js");
const BUNDLE: &str = include_str!("docs/swagger-ui-bundle.js");
const STYLE: &str = include_str!("docs/swagger-ui.css");

/// Swagger UI styles elements inline and draws icons from `data:` URLs; it loads only its own
/// files and talks only to its own server, and may not be framed.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
    script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The page's files under `prefix`, which a `GET` may request without a token.
pub(crate) fn public_paths(prefix: &str) -> Vec<String> {
    let docs = format!("{prefix}{DOCS}");
    vec![
        format!("{docs}/init.js"),
        format!("{docs}/swagger-ui-bundle.js"),
        format!("{docs}/swagger-ui.css"),
        docs,
    ]
}

/// The document's and the page's routes, with their full paths.
pub(crate) fn routes(state: Arc<ServerState>) -> Router {
    let get_only = |route| not_allowed(route, "GET");
    let docs = format!("{}{DOCS}", state.prefix);
    let path = format!("{}{DOCUMENT}", state.prefix);
    let built = Arc::new(OnceLock::<String>::new());
    let document = get(move || {
        let text = built.get_or_init(|| document(&state).to_string()).clone();
        async move { ([(header::CONTENT_TYPE, "application/json")], text).into_response() }
    });
    Router::new()
        .route(&path, get_only(document))
        .route(
            &docs,
            get_only(get(|| file(PAGE, "text/html; charset=utf-8"))),
        )
        .route(
            &format!("{docs}/init.js"),
            get_only(get(|| file(INIT, "text/javascript; charset=utf-8"))),
        )
        .route(
            &format!("{docs}/swagger-ui-bundle.js"),
            get_only(get(|| file(BUNDLE, "text/javascript; charset=utf-8"))),
        )
        .route(
            &format!("{docs}/swagger-ui.css"),
            get_only(get(|| file(STYLE, "text/css; charset=utf-8"))),
        )
}

async fn file(body: &'static str, content_type: &'static str) -> Response {
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

/// The OpenAPI document of the server.
pub(crate) fn document(state: &ServerState) -> Value {
    let prefix = &state.prefix;
    let mut schemas = Schemas::default();
    components::shared(&mut schemas);
    lease::schemas(&mut schemas);
    let max_lease = state.limits.lease_bound().as_secs_f64();
    let mut paths = paths::server_paths(state);
    let mut tags = vec![json!({"name": "server", "description": "The server's own routes."})];
    for thing in state.things.iter() {
        let name = thing.name();
        let td = thing.description(&crate::model::td::TdOptions::new(prefix, name));
        let mut tag = json!({"name": name.as_ref(), "description": td["title"]});
        if let Some(description) = td.get("description") {
            tag["description"] = format!(
                "{}: {}",
                td["title"].as_str().unwrap_or(name),
                description.as_str().unwrap_or("")
            )
            .into();
        }
        tags.push(tag);
        let path = format!("{prefix}/{name}/");
        paths.insert(format!("{prefix}/{name}"), redirect(name));
        paths.extend(thing.thing().openapi_paths(&path, &mut schemas));
        paths.extend(lease::paths(name, &path, max_lease));
    }
    let tokens = state.policy.tokens.enabled();
    if tokens {
        guard(&mut paths, &state.policy.public);
    }
    let mut parameters = components::parameters(state.limits.max_page);
    parameters[crate::model::openapi::component::LEASE] = lease::header_parameter();
    let mut components = json!({
        "schemas": schemas.into_map(),
        "parameters": parameters,
    });
    let mut document = json!({
        "openapi": "3.1.0",
        "info": {
            "title": format!("The Things of {}", state.server_id),
            "description": "Every HTTP route of this LabThings server, generated from its Things' tables (the same JSON Schemas as their Thing Descriptions). Properties are read with GET and written with PUT; actions are invoked with POST and followed at `/action_invocations/{id}`. The WebSocket endpoints (`/ws` and `/{thing}/ws`: the W3C Web Thing Protocol with the subprotocol `webthingprotocol`, LabThings-FastAPI's messages without) are described by the Things' TDs, not here: OpenAPI has no way to describe WebSocket messages.",
            "version": env!("CARGO_PKG_VERSION")
        },
        "tags": tags,
        "paths": paths,
    });
    if tokens {
        components["securitySchemes"] = components::security_schemes();
        document["security"] = json!([{"bearer": []}]);
    }
    document["components"] = components;
    document
}

/// `GET {prefix}/{thing}`: to its TD.
fn redirect(thing: &str) -> Value {
    json!({"get": {
        "tags": [thing],
        "operationId": format!("{thing}.redirect"),
        "summary": "To the Thing Description",
        "responses": {"307": {
            "description": "To `{prefix}/{thing}/`.",
            "headers": {"Location": {"schema": {"type": "string"}}}
        }}
    }})
}

/// With tokens on: every operation may be refused 401 (no token or an unknown one) or 403 (a
/// token without the scope); the public paths need none.
fn guard(paths: &mut Map<String, Value>, public: &[String]) {
    let unauthorized =
        crate::model::openapi::problem("No token, or a token the server does not know.");
    let forbidden = crate::model::openapi::problem("The token's scope does not allow this.");
    for (path, item) in paths.iter_mut() {
        let Value::Object(item) = item else { continue };
        for op in item.values_mut().filter(|op| op.get("responses").is_some()) {
            if public.contains(path) {
                op["security"] = json!([]);
                continue;
            }
            op["responses"]["401"] = unauthorized.clone();
            op["responses"]["403"] = forbidden.clone();
        }
    }
}
