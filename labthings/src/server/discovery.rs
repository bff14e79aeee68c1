//! W3C WoT Discovery (Recommendation, 2023-12-05) for one server: the introduction
//! `/.well-known/wot` answers the TD of a Thing Description Directory whose `things`
//! property lists the server's TDs (`{prefix}/directory/things`, an array, with `offset` and
//! `limit`); and, on a network, a DNS-SD advertisement `_directory._sub._wot._tcp` whose TXT
//! records give that TD's path (`td`), `type=Directory` and the `scheme`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::problem::Problem;
use crate::server::ServerState;
use crate::server::extract::not_allowed;

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
    Router::new()
        .route(WELL_KNOWN, get_only(get(introduction)))
        .route(&listing(&state.prefix), get_only(get(things)))
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
        "@context": [crate::td::TD_CONTEXT[1], DISCOVERY_CONTEXT],
        "@type": "ThingDirectory",
        "id": format!("urn:labthings:{}", state.server_id),
        "title": format!("The Things of {}", state.server_id),
        "description": "This server's Thing Descriptions: read `things` for all of them.",
        "base": format!("{origin}/"),
        "properties": {
            "things": {
                "title": "Thing Descriptions",
                "description": "The TD of each Thing of this server, sorted by `id`.",
                "type": "array",
                "items": {"type": "object"},
                "readOnly": true,
                "writeOnly": false,
                "uriVariables": {
                    "offset": {"title": "Skip this many TDs", "type": "integer", "minimum": 0, "default": 0},
                    "limit": {"title": "At most this many TDs", "type": "integer", "minimum": 1}
                },
                "forms": [{
                    "href": format!("{}{{?offset,limit}}", listing(&state.prefix)),
                    "op": ["readproperty"],
                    "htv:methodName": "GET",
                    "contentType": "application/ld+json"
                }]
            }
        }
    });
    if let (Value::Object(td), Value::Object(security)) = (&mut td, security) {
        td.extend(security);
    }
    let mut response = (StatusCode::OK, td.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/td+json"),
    );
    response
}

/// `?offset=&limit=` of the listing.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Page {
    offset: Option<usize>,
    limit: Option<usize>,
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
            "the listing takes `offset` and `limit`, whole numbers: {}",
            e.body_text()
        ))
    })?;
    if page.limit == Some(0) {
        return Err(Problem::bad_request("`limit` must be at least 1"));
    }
    let mut tds: Vec<Value> = state
        .order
        .iter()
        .map(|name| {
            let entry = &state.things[name];
            entry.thing.description(&state.td_options(name, &headers))
        })
        .collect();
    tds.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    let total = tds.len();
    let offset = page.offset.unwrap_or(0).min(total);
    let end = page
        .limit
        .map_or(total, |l| offset.saturating_add(l).min(total));
    let body = Value::Array(tds.drain(offset..end).collect());
    let mut response = (StatusCode::OK, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/ld+json"),
    );
    if let Some(limit) = page.limit
        && end < total
    {
        let next = format!(
            "<{}?offset={end}&limit={limit}>; rel=\"next\"",
            listing(&state.prefix)
        );
        if let Ok(value) = HeaderValue::from_str(&next) {
            headers.insert(header::LINK, value);
        }
    }
    Ok(response)
}

/// A DNS-SD advertisement, withdrawn when dropped.
pub(crate) struct Advertisement {
    daemon: mdns_sd::ServiceDaemon,
    fullname: String,
}

impl Drop for Advertisement {
    fn drop(&mut self) {
        let _ = self.daemon.unregister(&self.fullname);
        let _ = self.daemon.shutdown();
    }
}

/// The host name the advertisement gives: `{host}.local`.
pub(crate) fn local_host_name() -> String {
    let name = gethostname::gethostname();
    let name = name.to_string_lossy();
    format!("{}.local", name.split('.').next().unwrap_or("labthings"))
}

/// The DNS-SD service type of a Thing Description Directory.
pub(crate) const SERVICE_TYPE: &str = "_directory._sub._wot._tcp.local.";

/// Advertise the server listening on `bind` as `instance`.
pub(crate) fn advertise(
    bind: SocketAddr,
    instance: &str,
    tls: bool,
) -> Result<Advertisement, String> {
    let daemon = mdns_sd::ServiceDaemon::new().map_err(|e| e.to_string())?;
    let host = format!("{}.", local_host_name());
    let properties = [
        ("td", WELL_KNOWN),
        ("type", "Directory"),
        ("scheme", if tls { "https" } else { "http" }),
    ];
    let ip = bind.ip();
    // The addresses of the listener's family only (a `0.0.0.0` listener takes no IPv6).
    let other = if ip.is_ipv4() {
        mdns_sd::IfKind::IPv6
    } else {
        mdns_sd::IfKind::IPv4
    };
    daemon.disable_interface(other).map_err(|e| e.to_string())?;
    let service = if ip.is_unspecified() {
        mdns_sd::ServiceInfo::new(
            SERVICE_TYPE,
            instance,
            &host,
            "",
            bind.port(),
            &properties[..],
        )
        .map(mdns_sd::ServiceInfo::enable_addr_auto)
    } else {
        mdns_sd::ServiceInfo::new(
            SERVICE_TYPE,
            instance,
            &host,
            ip,
            bind.port(),
            &properties[..],
        )
    }
    .map_err(|e| e.to_string())?;
    let fullname = service.get_fullname().to_owned();
    daemon.register(service).map_err(|e| e.to_string())?;
    Ok(Advertisement { daemon, fullname })
}
