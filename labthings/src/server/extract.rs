//! Extractors whose rejections are problem details: every error body of the server, including
//! those of axum's own extraction (a body over the limit, a path that cannot be decoded, a bad
//! WebSocket upgrade), is `application/problem+json`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::http::{Method, Uri};
use axum::routing::MethodRouter;
use serde::de::DeserializeOwned;

use crate::problem::Problem;

/// The request body, as bytes.
pub(crate) struct Body(pub(crate) Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Problem> {
        Bytes::from_request(request, state)
            .await
            .map(Body)
            .map_err(|rejection| match rejection {
                BytesRejection::FailedToBufferBody(e)
                    if e.status() == StatusCode::PAYLOAD_TOO_LARGE =>
                {
                    Problem::new(413, "the request body is larger than the server accepts")
                }
                other => Problem::new(other.status().as_u16(), other.body_text()),
            })
    }
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
