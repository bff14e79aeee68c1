//! The WebSocket binding: `/{thing}/ws` and the shared `/ws`, the LabThings dialect and the
//! W3C Web Thing Protocol on one socket.
//!
//! A message whose `messageType` is `request` is Web Thing Protocol ([`wtp`]); any other
//! message is the LabThings dialect ([`fastapi`]). Unparseable messages are answered in the
//! dialect the client negotiated (`webthingprotocol` subprotocol or none). Bad input is
//! answered with an error `response`; the socket stays open. [`socket`] drives the socket,
//! [`connection`] dispatches its messages onto the interaction interface, [`render`] and
//! [`messages`] format what is sent.

mod connection;
mod fastapi;
mod limits;
pub(crate) mod messages;
mod render;
mod socket;
mod view;
mod wtp;

use std::sync::Arc;

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

pub(crate) use connection::Connection;
#[cfg(feature = "__internals")]
pub(crate) use connection::Dispatch;
pub use limits::WsLimits;
pub(crate) use view::ThingView;

use super::http::extract::Segments;
use crate::interaction::Caller;
use crate::model::td::WEB_THING_PROTOCOL;
use crate::problem::{Problem, refusals};
use crate::server::state::ServerState;

/// `GET /{thing}/ws`: a WebSocket for one Thing, in either dialect.
pub(crate) async fn upgrade(
    State(state): State<Arc<ServerState>>,
    Segments(thing): Segments<String>,
    headers: HeaderMap,
    caller: Caller,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let views: Arc<[Arc<ThingView>]> = match state.things.get(&thing) {
        Ok(thing) => Arc::from([state.views[thing.index()].clone()]),
        Err(problem) => return problem.into_response(),
    };
    let path = format!("/{thing}/ws");
    open(state, views, false, &path, &headers, caller, ws)
}

/// `GET /ws`: one WebSocket for every Thing of the server, each request naming its Thing by
/// `thingID` (Web Thing Protocol only).
pub(crate) async fn upgrade_shared(
    State(state): State<Arc<ServerState>>,
    headers: HeaderMap,
    caller: Caller,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let views = state.views.clone();
    open(state, views, true, "/ws", &headers, caller, ws)
}

fn open(
    state: Arc<ServerState>,
    views: Arc<[Arc<ThingView>]>,
    shared: bool,
    path: &str,
    headers: &HeaderMap,
    caller: Caller,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => {
            let detail = format!("{path} is a WebSocket endpoint: {}", rejection.body_text());
            return Problem::new(rejection.status().as_u16(), detail).into_response();
        }
    };
    let Ok(permit) = state.open.websocket_permits.clone().try_acquire_owned() else {
        let limit = state.limits.max_websockets;
        return refusals::too_many_open("WebSockets", limit).into_response();
    };
    let origin = state.origin(headers);
    let limit = state.ws.max_message;
    ws.protocols([WEB_THING_PROTOCOL])
        // A small read buffer keeps an idle connection cheap (it is zeroed when allocated);
        // it grows to the size of each larger message as it arrives.
        .read_buffer_size(1024)
        .write_buffer_size(16 * 1024)
        // Enforced while reading: a frame announcing more is refused from its header,
        // before any of it is buffered.
        .max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| {
            let wtp_default = socket
                .protocol()
                .is_some_and(|p| p.as_bytes() == WEB_THING_PROTOCOL.as_bytes());
            let websockets = state.open.websockets.clone();
            let connection = Connection::new(state, views, shared, origin, caller, wtp_default);
            websockets.track_future(async move {
                socket::run(Arc::new(connection), socket).await;
                drop(permit);
            })
        })
}

/// Parse a client message: a JSON object, or a precise reason why not.
pub(crate) fn parse_message(text: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(format!(
            "a message must be a JSON object, not {}",
            crate::model::validate::json_kind(&other)
        )),
        Err(e) => Err(format!("the message is not valid JSON: {e}")),
    }
}
