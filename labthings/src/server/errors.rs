//! Every error body is a problem details object, including those of the framework's own
//! layers (405 for a method a route does not have, 413 for a body over the limit, 400 for a
//! path that cannot be decoded): a middleware rewrites any error response that is not one.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::problem::Problem;

/// The most of a framework error body that is read to make its `detail`.
const MAX_DETAIL: usize = 4096;

pub(crate) async fn problem_details(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let uri = request.uri().clone();
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_problem(&response) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_DETAIL)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let detail = match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            let allowed = parts
                .headers
                .get(header::ALLOW)
                .and_then(|a| a.to_str().ok())
                .filter(|a| !a.is_empty())
                .map(|a| format!("; it allows {a}"))
                .unwrap_or_default();
            format!("{method} is not allowed on '{}'{allowed}", uri.path())
        }
        StatusCode::PAYLOAD_TOO_LARGE => {
            format!("the request body is larger than the server accepts ({text})")
        }
        _ if text.is_empty() => status
            .canonical_reason()
            .unwrap_or("the request failed")
            .to_owned(),
        _ => text,
    };
    let problem = Problem::new(status.as_u16(), detail).into_response();
    let (problem_parts, problem_body) = problem.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        problem_parts.headers[header::CONTENT_TYPE].clone(),
    );
    Response::from_parts(parts, Body::new(problem_body))
}

fn is_problem(response: &Response) -> bool {
    response.headers().get(header::CONTENT_TYPE) == Some(&PROBLEM_JSON)
}

/// `application/problem+json`.
pub(crate) const PROBLEM_JSON: HeaderValue = HeaderValue::from_static("application/problem+json");
