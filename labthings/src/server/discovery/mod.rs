//! W3C WoT Discovery (Recommendation, 2023-12-05) for one server: the introduction
//! `/.well-known/wot` answers the TD of a Thing Description Directory whose `things`
//! property lists the server's TDs (`{prefix}/directory/things`, an array, with `offset` and
//! `limit`); and, on a network, a DNS-SD advertisement `_directory._sub._wot._tcp` whose TXT
//! records give that TD's path (`td`), `type=Directory` and the `scheme`.

mod directory;
#[cfg(feature = "discovery")]
pub(crate) mod mdns;
#[cfg(feature = "directory")]
pub(crate) mod register;
mod registered;

pub(crate) use registered::Registered;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::problem::Problem;
use crate::server::http::extract::not_allowed;
use crate::server::state::ServerState;

/// The introduction: at the root, whatever the prefix (RFC 8615).
pub(crate) const WELL_KNOWN: &str = "/.well-known/wot";

/// The discovery context of a directory's TD.
const DISCOVERY_CONTEXT: &str = "https://www.w3.org/2022/wot/discovery";

/// The listing's path under the prefix.
fn listing(prefix: &str) -> String {
    format!("{prefix}/directory/things")
}

/// The routes: the introduction (public: it holds no state), and the listing (guarded like
/// `/thing_descriptions/`).
pub(crate) fn routes(state: Arc<ServerState>) -> Router {
    let get_only = |route| not_allowed(route, "GET, HEAD");
    let one = get(directory::read)
        .put(directory::register)
        .delete(directory::remove);
    Router::new()
        .route(WELL_KNOWN, get_only(get(introduction)))
        .route(&listing(&state.prefix), get_only(get(things)))
        .route(
            &format!("{}/{{id}}", listing(&state.prefix)),
            not_allowed(one, "GET, HEAD, PUT, DELETE"),
        )
        .with_state(state)
}

/// `GET /.well-known/wot`: the directory's TD.
async fn introduction(State(state): State<Arc<ServerState>>, headers: HeaderMap) -> Response {
    let origin = state.origin(&headers);
    let security = if state.policy.tokens.enabled() {
        json!({
            "securityDefinitions": {"bearer": {"scheme": "bearer", "in": "header", "name": "Authorization", "format": "opaque"}},
            "security": "bearer"
        })
    } else {
        json!({
            "securityDefinitions": {"no_security": {"scheme": "nosec", "description": "No security"}},
            "security": "no_security"
        })
    };
    let mut td = json!({
        "@context": [crate::model::td::TD_CONTEXT[1], DISCOVERY_CONTEXT],
        "@type": "ThingDirectory",
        "id": format!("urn:labthings:{}", state.server_id),
        "title": format!("The Things of {}", state.server_id),
        "description": "This server's Thing Descriptions, and those other servers registered into it: read `things` for all of them.",
        "base": format!("{origin}/"),
        "properties": {
            "things": {
                "title": "Thing Descriptions",
                "description": "The TD of each Thing of this server and of each registered one, sorted by `id`.",
                "type": "array",
                "items": {"type": "object"},
                "readOnly": true,
                "writeOnly": false,
                "uriVariables": {
                    "offset": {"title": "Skip this many TDs", "type": "integer", "minimum": 0, "default": 0},
                    "limit": {"title": "At most this many TDs", "type": "integer", "minimum": 1},
                    "title": {"title": "Only TDs whose title holds these words", "type": "string"},
                    "type": {"title": "Only TDs of this @type", "type": "string"},
                    "affordance": {"title": "Only TDs with a property, action or event of this name", "type": "string"}
                },
                "forms": [{
                    "href": format!("{}{{?offset,limit,title,type,affordance}}", listing(&state.prefix)),
                    "op": ["readproperty"],
                    "htv:methodName": "GET",
                    "contentType": "application/ld+json"
                }]
            }
        },
        "actions": one_td_actions(&listing(&state.prefix))
    });
    if let (Value::Object(td), Value::Object(security)) = (&mut td, security) {
        td.extend(security);
    }
    // The lab's directory, which this server's Things are registered into.
    #[cfg(feature = "directory")]
    if let Some(directory) = &state.directory {
        td["links"] = json!([{
            "rel": "collection",
            "href": format!("{}/things", directory.root),
            "type": "application/ld+json"
        }]);
    }
    let mut response = (StatusCode::OK, td.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/td+json"),
    );
    response
}

/// Retrieving, registering (creating or updating) and removing one TD, as the Discovery
/// directory's TD names those actions.
fn one_td_actions(listing: &str) -> Value {
    let action = |method: &str, title: &str, input: bool, idempotent: bool| {
        let mut action = json!({
            "title": title,
            "uriVariables": {"id": {"title": "The TD's id", "type": "string", "format": "iri-reference"}},
            "idempotent": idempotent,
            "safe": method == "GET",
            "forms": [{"href": format!("{listing}/{{id}}"), "htv:methodName": method}]
        });
        if input {
            action["input"] = json!({"description": "A Thing Description", "type": "object"});
            action["forms"][0]["contentType"] = "application/td+json".into();
        }
        action
    };
    json!({
        "retrieveThing": action("GET", "A TD by its id", false, true),
        "updateThing": action("PUT", "Register or renew another server's TD (`registration.ttl`: its time-to-live)", true, true),
        "deleteThing": action("DELETE", "Remove a registered TD", false, true)
    })
}

/// `?offset=&limit=` of the listing, and what it is searched by.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Page {
    offset: Option<usize>,
    limit: Option<usize>,
    title: Option<String>,
    #[serde(rename = "type")]
    type_: Option<String>,
    affordance: Option<String>,
}

/// `GET {prefix}/directory/things`: the TDs, sorted by `id`; with `limit`, a page and a
/// `Link: …; rel="next"` while more follow.
async fn things(
    State(state): State<Arc<ServerState>>,
    headers: HeaderMap,
    query: Result<Query<Page>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let Query(page) = query.map_err(|e| {
        Problem::bad_request(format!(
            "the listing takes `offset` and `limit`, whole numbers, and `title`, `type` and `affordance` to search by: {}",
            e.body_text()
        ))
    })?;
    if page.limit == Some(0) {
        return Err(Problem::bad_request("`limit` must be at least 1"));
    }
    let search = directory::Search {
        title: page.title,
        type_: page.type_,
        affordance: page.affordance,
    };
    let mut tds = directory::every(&state, &headers);
    tds.retain(|td| search.finds(td));
    tds.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    let total = tds.len();
    let offset = page.offset.unwrap_or(0).min(total);
    let end = page
        .limit
        .map_or(total, |l| offset.saturating_add(l).min(total));
    let page_of: Vec<&Value> = tds[offset..end].iter().map(|td| &**td).collect();
    let body = serde_json::to_string(&page_of).unwrap_or_default();
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/ld+json"),
    );
    if let Some(limit) = page.limit
        && end < total
    {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.append_pair("offset", &end.to_string());
        query.append_pair("limit", &limit.to_string());
        for (key, value) in search.pairs() {
            query.append_pair(key, value);
        }
        let next = format!(
            "<{}?{}>; rel=\"next\"",
            listing(&state.prefix),
            query.finish()
        );
        if let Ok(value) = HeaderValue::from_str(&next) {
            headers.insert(header::LINK, value);
        }
    }
    Ok(response)
}
