//! Responses: JSON bodies, problem details, and the URLs of the server as a client addressed
//! it.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::interaction::wire::Urls;
use crate::problem::Problem;
use crate::server::state::ServerState;

/// `application/problem+json`.
const PROBLEM_JSON: HeaderValue = HeaderValue::from_static("application/problem+json");

impl IntoResponse for Problem {
    /// Problem details, as `application/problem+json`; a 503 says when to try again.
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, PROBLEM_JSON);
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

/// A JSON body.
pub(crate) fn json(status: StatusCode, body: impl Into<axum::body::Body>) -> Response {
    let mut response = (status, body.into()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A serialised JSON body.
pub(crate) fn serialized(status: StatusCode, body: &impl serde::Serialize) -> Response {
    json(status, serde_json::to_vec(body).unwrap_or_default())
}

/// A 405 problem that says which methods the resource allows.
pub(crate) fn with_allow(problem: Problem, allow: &'static str) -> Response {
    let mut response = problem.into_response();
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

impl ServerState {
    /// The absolute URL of the server root as the client addressed it, e.g.
    /// `http://127.0.0.1:5000`. The host was checked against the allowed hosts before the
    /// request reached a handler.
    pub(crate) fn origin(&self, headers: &HeaderMap) -> String {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        format!("{}://{host}", self.policy.scheme())
    }

    /// `http://host{prefix}`
    pub(crate) fn api_base(&self, headers: &HeaderMap) -> String {
        format!("{}{}", self.origin(headers), self.prefix)
    }

    /// The URLs of invocations for a client whose root is `origin`.
    pub(crate) fn urls<'a>(&'a self, origin: &'a str) -> Urls<'a> {
        Urls {
            origin,
            prefix: &self.prefix,
        }
    }
}
