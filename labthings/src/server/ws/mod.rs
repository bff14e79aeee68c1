//! The WebSocket endpoint `/{thing}/ws`: the LabThings dialect and the W3C Web Thing Protocol
//! on one socket.
//!
//! A message whose `messageType` is `request` is Web Thing Protocol ([`wtp`]); any other
//! message is the LabThings dialect ([`labthings`]). Unparseable messages are answered in the
//! dialect the client negotiated (`webthingprotocol` subprotocol or none). Bad input is
//! answered with an error `response`; the socket stays open. [`connection`] runs the socket;
//! [`messages`] formats what is sent.

mod connection;
mod labthings;
pub(crate) mod messages;
mod wtp;

use std::sync::Arc;

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use crate::broker::MailboxLimits;
use crate::problem::Problem;
use crate::server::ServerState;
use crate::server::extract::Segments;
use crate::server::security::Granted;
use crate::td::WEB_THING_PROTOCOL;
pub(crate) use connection::Context;
pub(crate) use connection::{Dispatch, ThingView};

/// Limits of WebSocket connections.
#[derive(Debug, Clone, Copy)]
pub struct WsLimits {
    /// Largest message (and frame) accepted (default 1 MiB), enforced while reading: a
    /// larger one closes the connection with 1009 and a reason.
    pub max_message: usize,
    /// Requests of one connection that may call device code at the same time (default 16);
    /// further messages wait until one completes.
    pub max_in_flight: usize,
    /// Bytes of replies queued for a connection (default 4 MiB): past them, its messages
    /// are not read until the client has taken its replies.
    pub max_queued_replies: usize,
    /// Property changes queued per connection before they are coalesced.
    pub queue: usize,
    /// Action status events queued per connection before it is closed as too slow.
    pub max_events: usize,
}

impl Default for WsLimits {
    fn default() -> Self {
        let mailbox = MailboxLimits::default();
        Self {
            max_message: 1 << 20,
            max_in_flight: 16,
            max_queued_replies: 4 << 20,
            queue: mailbox.queue,
            max_events: mailbox.max_events,
        }
    }
}

/// `GET /{thing}/ws`: a WebSocket for one Thing, in either dialect.
pub(crate) async fn upgrade(
    State(state): State<Arc<ServerState>>,
    Segments(thing): Segments<String>,
    headers: HeaderMap,
    granted: Option<axum::Extension<Granted>>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let views = match state.lookup_thing(&thing) {
        Ok(entry) => entry.views.clone(),
        Err(problem) => return problem.into_response(),
    };
    let path = format!("/{thing}/ws");
    open(state, views, false, &path, &headers, granted, ws)
}

/// `GET /ws`: one WebSocket for every Thing of the server, each request naming its Thing by
/// `thingID` (Web Thing Protocol only).
pub(crate) async fn upgrade_shared(
    State(state): State<Arc<ServerState>>,
    headers: HeaderMap,
    granted: Option<axum::Extension<Granted>>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let views = state.views.clone();
    open(state, views, true, "/ws", &headers, granted, ws)
}

fn open(
    state: Arc<ServerState>,
    views: Arc<[Arc<ThingView>]>,
    shared: bool,
    path: &str,
    headers: &HeaderMap,
    granted: Option<axum::Extension<Granted>>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => {
            let detail = format!("{path} is a WebSocket endpoint: {}", rejection.body_text());
            return Problem::new(rejection.status().as_u16(), detail).into_response();
        }
    };
    let Ok(permit) = state.websocket_permits.clone().try_acquire_owned() else {
        let detail = format!(
            "the server has {} WebSockets open, its limit: try again when one has closed",
            state.limits.max_websockets
        );
        let mut response = Problem::new(503, detail).into_response();
        response.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from_static("1"),
        );
        return response;
    };
    let origin = state.origin(headers);
    // The guard always records a scope; without one, the least.
    let granted = granted.map_or(Granted(Some(crate::Scope::Observe)), |g| g.0);
    let limit = state.ws.max_message;
    let context = Context::new(state, views, shared, origin, granted);
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
            let websockets = context.state.websockets.clone();
            let context = Arc::new(context.speaking_wtp(wtp_default));
            websockets.track_future(async move {
                connection::run(context, socket).await;
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
            crate::validate::json_kind(&other)
        )),
        Err(e) => Err(format!("the message is not valid JSON: {e}")),
    }
}
