//! RFC 9457 problem details: the one error type of the framework.

pub(crate) mod panic;
#[cfg(feature = "server")]
pub(crate) mod refusals;

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

/// An RFC 9457 problem details object.
///
/// Every failure the framework reports — a rejected write, a failing getter, an action that
/// returned `Err` or panicked — is one of these, over HTTP (`application/problem+json`) and
/// over WebSocket alike.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// A URI identifying the kind of problem (`about:blank` when only the status matters).
    #[serde(rename = "type")]
    pub kind: Cow<'static, str>,
    /// A short summary of the kind of problem.
    pub title: Cow<'static, str>,
    /// The HTTP status code.
    pub status: u16,
    /// What exactly went wrong, for a human.
    pub detail: String,
    /// For validation failures: each offending field and what is wrong with it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// One invalid field of a request, inside a [`Problem`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The field's name (an action argument) or JSON pointer (inside a value); empty for the
    /// whole value.
    pub field: String,
    /// What is wrong with it.
    pub detail: String,
}

impl Problem {
    /// A problem of type `about:blank` whose title is the status's reason phrase.
    pub fn new(status: u16, detail: impl Into<String>) -> Self {
        Self {
            kind: Cow::Borrowed("about:blank"),
            title: Cow::Borrowed(
                http::StatusCode::from_u16(status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("Error"),
            ),
            status,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    /// 400: the request could not be parsed.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(400, detail)
    }

    /// 404: no such Thing, affordance or invocation.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, detail)
    }

    /// 422: the request was parsed but its content is invalid.
    pub fn invalid(detail: impl Into<String>, errors: Vec<FieldError>) -> Self {
        Self {
            errors,
            ..Self::new(422, detail)
        }
    }

    /// 500: device code failed.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(500, detail)
    }

    /// Replace the type URI and title.
    pub fn with_type(mut self, kind: &'static str, title: &'static str) -> Self {
        self.kind = Cow::Borrowed(kind);
        self.title = Cow::Borrowed(title);
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.title, self.status, self.detail)
    }
}

impl std::error::Error for Problem {}
