//! The messages the server sends on a WebSocket, in both dialects.
//!
//! Notifications are the hot path (one per change per observer): they are formatted from
//! pre-serialised JSON pieces without building a value; the rest are serde structs.

use axum::extract::ws::{CloseFrame, Message};
use serde::Serialize;

use crate::interaction::wire::StatusEvent;
use crate::problem::Problem;

/// A LabThings `propertyStatus` message; `name` and `value` are JSON.
pub(crate) fn property_status(name: &str, value: &str) -> String {
    format!(r#"{{"messageType":"propertyStatus","data":{{{name}:{value}}}}}"#)
}

/// A Web Thing Protocol notification of a property change or an event.
#[derive(Debug)]
pub(crate) struct Notification<'a> {
    /// JSON.
    pub(crate) thing_id: &'a str,
    /// Names the notification in its Thing's history, for `lastNotificationID`.
    pub(crate) message_id: uuid::Uuid,
    /// `observeproperty`, `observeallproperties`, `subscribeevent`, `subscribeallevents`.
    pub(crate) operation: &'a str,
    /// JSON.
    pub(crate) name: &'a str,
    /// `value` (a property) or `data` (an event).
    pub(crate) member: &'a str,
    /// JSON.
    pub(crate) value: &'a str,
    /// When the change or the event happened.
    pub(crate) at: std::time::SystemTime,
    /// JSON.
    pub(crate) correlation: Option<&'a str>,
    /// The value's quality, for a property with warning or alarm ranges.
    pub(crate) quality: Option<crate::model::quality::Quality>,
}

/// The text of a [`Notification`], formatted from its JSON pieces.
pub(crate) fn notification(n: &Notification<'_>) -> String {
    let correlation = n
        .correlation
        .map(|c| format!(r#","correlationID":{c}"#))
        .unwrap_or_default();
    let quality = n
        .quality
        .map(|q| format!(r#","quality":"{}""#, q.as_str()))
        .unwrap_or_default();
    format!(
        r#"{{"thingID":{},"messageID":"{}","messageType":"notification","operation":"{}","name":{},"{}":{}{quality},"timestamp":"{}"{correlation}}}"#,
        n.thing_id,
        n.message_id,
        n.operation,
        n.name,
        n.member,
        n.value,
        humantime::format_rfc3339_micros(n.at),
    )
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

/// A LabThings `actionStatus` message.
pub(crate) fn action_status(event: &StatusEvent<'_>) -> String {
    #[derive(Serialize)]
    struct ActionStatus<'a, 'e> {
        #[serde(rename = "messageType")]
        message_type: &'static str,
        data: &'a StatusEvent<'e>,
    }
    to_text(&ActionStatus {
        message_type: "actionStatus",
        data: event,
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
    use serde_json::Value;

    #[test]
    fn notifications_are_valid_json() {
        let n: Value = serde_json::from_str(&notification(&Notification {
            thing_id: r#""urn:x""#,
            message_id: uuid::Uuid::nil(),
            operation: "observeproperty",
            name: r#""count""#,
            member: "value",
            value: "5",
            at: std::time::SystemTime::now(),
            correlation: Some(r#""c-1""#),
            quality: Some(crate::model::quality::Quality::Warning),
        }))
        .unwrap();
        assert_eq!(n["quality"], "warning");
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
