//! Extractors whose rejections are problem details: every error body of the server, including
//! those of axum's own extraction (a body over the limit, a path that cannot be decoded, a bad
//! WebSocket upgrade), is `application/problem+json`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{Method, Uri};
use axum::http::{StatusCode, header};
use axum::routing::MethodRouter;
use serde::de::DeserializeOwned;

use crate::problem::Problem;
use crate::server::ServerState;

/// A JSON request body, as bytes: larger than the limit is 413, slower than the body timeout
/// is 408, and a body that is not declared `application/json` (or `application/…+json`) is
/// 415 — which also refuses the forms and plain text that browsers send across sites
/// without asking.
pub(crate) struct Body(pub(crate) Bytes);

impl FromRequest<Arc<ServerState>> for Body {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &Arc<ServerState>) -> Result<Self, Problem> {
        let limits = &state.limits;
        let media_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let json = media_type.as_deref().is_some_and(is_json);
        let announced = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|l| l != "0")
            || request.headers().contains_key(header::TRANSFER_ENCODING);
        if !json && announced {
            return Err(not_json(media_type.as_deref()));
        }
        let length = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|l| l.to_str().ok())
            .and_then(|l| l.parse::<u64>().ok());
        if length.is_some_and(|l| l > limits.max_body as u64) {
            // Announced too large: refused before any of it is read.
            return Err(too_large(limits.max_body));
        }
        let read = Bytes::from_request(request, state);
        let bytes = match tokio::time::timeout(limits.body_timeout, read).await {
            Err(_) => {
                return Err(Problem::new(
                    408,
                    format!(
                        "the request body did not arrive within {} s",
                        limits.body_timeout.as_secs_f64()
                    ),
                ));
            }
            Ok(Err(BytesRejection::FailedToBufferBody(e)))
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                return Err(too_large(limits.max_body));
            }
            Ok(Err(other)) => {
                return Err(Problem::new(other.status().as_u16(), other.body_text()));
            }
            Ok(Ok(bytes)) => bytes,
        };
        if !json && !bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(not_json(media_type.as_deref()));
        }
        Ok(Body(bytes))
    }
}

fn too_large(max_body: usize) -> Problem {
    Problem::new(
        413,
        format!("the request body is larger than the limit of {max_body} bytes"),
    )
}

/// `application/json`, `application/…+json`, with or without parameters.
fn is_json(media_type: &str) -> bool {
    let essence = media_type.split(';').next().unwrap_or_default().trim();
    let essence = essence.to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn not_json(media_type: Option<&str>) -> Problem {
    let given = match media_type {
        Some(t) => format!("'{t}'"),
        None => "no Content-Type".to_owned(),
    };
    Problem::new(
        415,
        format!("the request body must be JSON, sent as 'application/json', not {given}"),
    )
}

/// The segments of the request's path, as `axum::extract::Path` parses them.
pub(crate) struct Segments<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Segments<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(t)| Segments(t))
            .map_err(|r| Problem::new(r.status().as_u16(), r.body_text()))
    }
}

/// The 405 problem of a route that allows `allowed` (axum adds the `Allow` header).
pub(crate) fn not_allowed<S: Clone + Send + Sync + 'static>(
    routes: MethodRouter<S>,
    allowed: &'static str,
) -> MethodRouter<S> {
    routes.fallback(move |method: Method, uri: Uri| async move {
        Problem::new(
            405,
            format!(
                "{method} is not allowed on '{}'; it allows {allowed}",
                uri.path()
            ),
        )
    })
}
