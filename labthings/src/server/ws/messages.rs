//! The messages the server sends on a WebSocket, in both dialects.
//!
//! Notifications are the hot path (one per change per observer): they are formatted from
//! pre-serialised JSON pieces without building a value. Responses are serde structs.

use std::borrow::Cow;

use axum::extract::ws::{CloseFrame, Message};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::context::ActionContext;
use crate::problem::{FieldError, Problem};

/// A LabThings `propertyStatus` message; `name` and `value` are JSON.
pub(crate) fn property_status(name: &str, value: &str) -> String {
    format!(r#"{{"messageType":"propertyStatus","data":{{{name}:{value}}}}}"#)
}

/// A Web Thing Protocol `observeproperty` notification; `thing_id`, `name`, `value` and
/// `correlation` are JSON.
pub(crate) fn property_notification(
    thing_id: &str,
    name: &str,
    value: &str,
    correlation: Option<&str>,
) -> String {
    let correlation = correlation
        .map(|c| format!(r#","correlationID":{c}"#))
        .unwrap_or_default();
    format!(
        r#"{{"thingID":{thing_id},"messageID":"{}","messageType":"notification","operation":"observeproperty","name":{name},"value":{value},"timestamp":"{}"{correlation}}}"#,
        uuid::Uuid::new_v4(),
        ActionContext::now_rfc3339(),
    )
}

/// A Web Thing Protocol `response` (or an error response, with `error`).
#[derive(Debug, Serialize)]
pub(crate) struct Response<'a> {
    #[serde(rename = "thingID")]
    pub(crate) thing_id: Cow<'a, Value>,
    #[serde(rename = "messageID")]
    pub(crate) message_id: String,
    #[serde(rename = "messageType")]
    pub(crate) message_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) operation: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<&'a str>,
    #[serde(rename = "correlationID", skip_serializing_if = "Option::is_none")]
    pub(crate) correlation_id: Option<&'a Value>,
    /// The operation's own members (`value`, `values`, `status`, …).
    #[serde(flatten)]
    pub(crate) body: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<WtpError<'a>>,
    pub(crate) timestamp: String,
}

/// The `error` member of a Web Thing Protocol error response: a problem with a numeric
/// `status`.
#[derive(Debug, Serialize)]
pub(crate) struct WtpError<'a> {
    pub(crate) status: u16,
    #[serde(rename = "type")]
    pub(crate) kind: Cow<'a, str>,
    pub(crate) title: &'a str,
    pub(crate) detail: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub(crate) errors: &'a [FieldError],
}

impl<'a> WtpError<'a> {
    pub(crate) fn new(problem: &'a Problem) -> Self {
        let kind = if problem.kind == "about:blank" {
            Cow::Owned(format!(
                "https://w3c.github.io/web-thing-protocol/errors#{}",
                problem.status
            ))
        } else {
            Cow::Borrowed(&*problem.kind)
        };
        Self {
            status: problem.status,
            kind,
            title: &problem.title,
            detail: &problem.detail,
            errors: &problem.errors,
        }
    }
}

/// An error `response` of the LabThings dialect: `status` is a string, and `type` names the
/// kind of error, exactly as LabThings-FastAPI sends them.
#[derive(Debug, Serialize)]
pub(crate) struct LabThingsError<'a> {
    #[serde(rename = "messageType")]
    pub(crate) message_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) operation: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<&'a str>,
    pub(crate) error: LabThingsErrorBody<'a>,
}

/// The `error` member of [`LabThingsError`].
#[derive(Debug, Serialize)]
pub(crate) struct LabThingsErrorBody<'a> {
    pub(crate) status: String,
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) title: &'a str,
    pub(crate) detail: &'a str,
}

/// A LabThings error `response`; `kind` is the fragment of the error type
/// (`not-found`, `not-observable`, `bad-request`).
pub(crate) fn labthings_error(
    operation: Option<&str>,
    name: Option<&str>,
    problem: &Problem,
    kind: &str,
) -> String {
    to_text(&LabThingsError {
        message_type: "response",
        operation,
        name,
        error: LabThingsErrorBody {
            status: problem.status.to_string(),
            kind: format!("https://w3c.github.io/web-thing-protocol/errors#{kind}"),
            title: &problem.title,
            detail: &problem.detail,
        },
    })
}

/// Serialise a message (which cannot fail for these types).
pub(crate) fn to_text(message: &impl Serialize) -> String {
    serde_json::to_string(message).unwrap_or_default()
}

/// A JSON string literal.
pub(crate) fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// A close frame.
pub(crate) fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_are_valid_json() {
        let n: Value = serde_json::from_str(&property_notification(
            r#""urn:x""#,
            r#""count""#,
            "5",
            Some(r#""c-1""#),
        ))
        .unwrap();
        assert_eq!(
            (&n["thingID"], &n["name"], &n["value"], &n["correlationID"]),
            (
                &Value::from("urn:x"),
                &Value::from("count"),
                &Value::from(5),
                &Value::from("c-1")
            )
        );
        let s: Value = serde_json::from_str(&property_status(r#""count""#, "[1]")).unwrap();
        assert_eq!(s["data"]["count"][0], 1);
    }
}
