//! What can go wrong between a client and a Thing.

use crate::problem::{FieldError, Problem};

/// An error of a [`ThingClient`](super::ThingClient) call.
///
/// A refusal by the server carries its RFC 9457 problem details
/// ([`problem`](Self::problem)): the same `detail` a browser or `curl` would see.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server refused the request (over HTTP or the WebSocket): its problem details.
    #[error("the server refused: {0}")]
    Refused(Problem),
    /// The action ran and failed: the invocation's error.
    #[error("the action failed: {0}")]
    ActionFailed(Problem),
    /// The invocation was cancelled before it completed.
    #[error("the invocation was cancelled")]
    Cancelled(Option<Problem>),
    /// The Thing Description has no such affordance.
    #[error("the Thing has no {kind} '{name}'")]
    NoSuchAffordance {
        /// `property`, `action` or `event`.
        kind: &'static str,
        /// The name asked for.
        name: String,
    },
    /// The Thing Description offers no way to do this (e.g. no `writeproperty` form for a
    /// read-only property, no form to subscribe to events).
    #[error("{0}")]
    Unsupported(String),
    /// A value could not be serialised, or what the server sent could not be read as the
    /// type asked for.
    #[error("value: {0}")]
    Value(#[from] serde_json::Error),
    /// The server answered something this client does not understand.
    #[error("unexpected answer from the server: {0}")]
    Protocol(String),
    /// The HTTP request failed (connection, TLS, timeout).
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    /// The WebSocket failed (connection, TLS, handshake).
    #[error("WebSocket: {0}")]
    WebSocket(#[from] Box<tokio_tungstenite::tungstenite::Error>),
    /// The WebSocket closed while a request or a subscription was waiting on it.
    #[error("the WebSocket connection closed{}", .0.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    Disconnected(Option<String>),
    /// A stream reconnected after its connection was lost, but the server could no longer
    /// tell what had been sent meanwhile (it restarted, or no longer keeps that far back):
    /// some notifications may be missing. The stream goes on.
    #[error("notifications may have been missed while reconnecting: {0}")]
    Missed(String),
    /// No answer came within the client's timeout.
    #[error("no answer within {0:?}")]
    Timeout(std::time::Duration),
    /// A URL in the Thing Description, or given, is not valid.
    #[error("invalid URL: {0}")]
    Url(#[from] url::ParseError),
    /// The client's TLS configuration is invalid (e.g. a root certificate that does not
    /// parse).
    #[error("TLS: {0}")]
    Tls(String),
}

impl ClientError {
    /// The server's problem details, when the server refused or the action failed.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            Self::Refused(p) | Self::ActionFailed(p) => Some(p),
            Self::Cancelled(p) => p.as_ref(),
            _ => None,
        }
    }

    /// The HTTP status of the server's refusal.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Refused(p) => Some(p.status),
            _ => None,
        }
    }
}

impl From<tokio_tungstenite::tungstenite::Error> for ClientError {
    fn from(error: tokio_tungstenite::tungstenite::Error) -> Self {
        Self::WebSocket(Box::new(error))
    }
}

/// Read an error body as problem details: RFC 9457 (ours), FastAPI's `{"detail": "…"}` or
/// its validation errors `{"detail": [{"loc": […], "msg": "…"}]}`, or plain text.
pub(crate) fn problem_from_body(status: u16, body: &[u8]) -> Problem {
    let text = || {
        String::from_utf8_lossy(body)
            .chars()
            .take(1000)
            .collect::<String>()
    };
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        let text = text();
        return Problem::new(
            status,
            if text.trim().is_empty() {
                "the server gave no detail".to_owned()
            } else {
                text
            },
        );
    };
    problem_from_json(status, &value)
}

/// Read a JSON error (a problem, or FastAPI's `detail`) as problem details.
pub(crate) fn problem_from_json(status: u16, value: &serde_json::Value) -> Problem {
    if let Ok(problem) = serde_json::from_value::<Problem>(value.clone()) {
        return problem;
    }
    let status = value
        .get("status")
        .and_then(|s| {
            s.as_u64()
                .or_else(|| s.as_str().and_then(|s| s.parse().ok()))
        })
        .and_then(|s| u16::try_from(s).ok())
        .unwrap_or(status);
    let mut problem = match value.get("detail") {
        Some(serde_json::Value::String(detail)) => Problem::new(status, detail.clone()),
        Some(serde_json::Value::Array(items)) => {
            let errors: Vec<FieldError> = items
                .iter()
                .map(|item| FieldError {
                    field: item
                        .get("loc")
                        .and_then(|l| l.as_array())
                        .map(|loc| {
                            loc.iter()
                                .filter(|p| p.as_str() != Some("body"))
                                .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_owned))
                                .collect::<Vec<_>>()
                                .join(".")
                        })
                        .unwrap_or_default(),
                    detail: item
                        .get("msg")
                        .and_then(|m| m.as_str())
                        .map_or_else(|| item.to_string(), str::to_owned),
                })
                .collect();
            let detail = errors
                .iter()
                .map(|e| {
                    if e.field.is_empty() {
                        e.detail.clone()
                    } else {
                        format!("'{}' - {}", e.field, e.detail)
                    }
                })
                .collect::<Vec<_>>()
                .join("; ");
            Problem::invalid(detail, errors)
        }
        _ => Problem::new(status, value.to_string()),
    };
    problem.status = status;
    if let Some(title) = value.get("title").and_then(|t| t.as_str()) {
        problem.title = title.to_owned().into();
    }
    if let Some(kind) = value.get("type").and_then(|t| t.as_str()) {
        problem.kind = kind.to_owned().into();
    }
    problem
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fastapi_errors_become_problems() {
        let p = problem_from_body(404, br#"{"detail":"No property named foobar"}"#);
        assert_eq!(
            (p.status, p.detail.as_str()),
            (404, "No property named foobar")
        );
        let p = problem_from_body(
            422,
            br#"{"detail":[{"loc":["body","value"],"msg":"Field required","type":"missing"}]}"#,
        );
        assert_eq!(p.status, 422);
        assert_eq!(p.detail, "'value' - Field required");
        assert_eq!(p.errors[0].field, "value");
        let p = problem_from_body(502, b"Bad gateway");
        assert_eq!((p.status, p.detail.as_str()), (502, "Bad gateway"));
    }

    #[test]
    fn problems_are_kept_whole() {
        let body = br#"{"type":"about:blank","title":"Unprocessable Entity","status":422,"detail":"500 is greater than the maximum of 100"}"#;
        let p = problem_from_body(422, body);
        assert_eq!(p.detail, "500 is greater than the maximum of 100");
        assert_eq!(p.title, "Unprocessable Entity");
        // A WebSocket error of the LabThings dialect has a string status.
        let p = problem_from_json(
            0,
            &serde_json::json!({"status": "403", "type": "x", "title": "Not Observable", "detail": "no"}),
        );
        assert_eq!((p.status, p.title.as_ref()), (403, "Not Observable"));
    }
}
