//! The envelope of every Web Thing Protocol response: it echoes the request's `thingID`,
//! `operation` and `correlationID`, and carries the operation's members or an error.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::{Map, Value};

use super::request::Request;
use crate::interaction::wire::WtpProblem;
use crate::model::context::ActionContext;
use crate::problem::Problem;
use crate::server::ws::connection::Connection;
use crate::server::ws::messages::to_text;

/// A Web Thing Protocol `response` (or an error response, with `error`).
#[derive(Serialize)]
struct Envelope<'a, B: Serialize> {
    #[serde(rename = "thingID")]
    thing_id: Cow<'a, Value>,
    #[serde(rename = "messageID")]
    message_id: String,
    #[serde(rename = "messageType")]
    message_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    operation: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(rename = "correlationID", skip_serializing_if = "Option::is_none")]
    correlation_id: Option<&'a Value>,
    /// The operation's own members (`value`, `values`, `status`, …).
    #[serde(flatten)]
    body: B,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<WtpProblem<'a>>,
    timestamp: String,
}

fn envelope<'a, B: Serialize>(
    connection: &'a Connection,
    view: Option<usize>,
    request: &'a Request,
    body: B,
) -> Envelope<'a, B> {
    // Without a `thingID` in the request: the connection's Thing (on the shared socket,
    // only when the request was routed to one).
    let own = || {
        let view = if connection.shared { view } else { Some(0) };
        view.and_then(|v| connection.views.get(v))
            .map_or(Value::Null, |v| v.thing_id.clone().into())
    };
    Envelope {
        thing_id: match &request.thing_id {
            Some(id) => Cow::Borrowed(id),
            None => Cow::Owned(own()),
        },
        message_id: uuid::Uuid::new_v4().to_string(),
        message_type: "response",
        operation: request.operation.as_deref(),
        name: None,
        correlation_id: request.correlation_id.as_ref(),
        body,
        error: None,
        timestamp: ActionContext::now_rfc3339(),
    }
}

/// A successful response to `request` about Thing `view`, with the operation's members.
pub(crate) fn response(
    connection: &Connection,
    view: usize,
    request: &Request,
    body: impl Serialize,
) -> String {
    to_text(&envelope(connection, Some(view), request, body))
}

/// An error response to `request` (`name`: the affordance it named).
pub(crate) fn error(
    connection: &Connection,
    request: &Request,
    name: Option<&str>,
    problem: &Problem,
) -> String {
    let mut out = envelope(connection, None, request, Map::new());
    out.name = name;
    out.error = Some(WtpProblem(problem));
    to_text(&out)
}

/// A 400 error for a message without a known `messageType`, in the negotiated dialect.
pub(crate) fn bad_request_for(
    connection: &Connection,
    message: &Map<String, Value>,
    detail: &str,
) -> String {
    if !connection.wtp_default && !connection.shared {
        return connection.bad_request(detail);
    }
    error(
        connection,
        &Request::identity(message),
        None,
        &Problem::bad_request(detail),
    )
}
