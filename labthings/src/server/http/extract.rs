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

use crate::interaction::{Caller, Scope};
use crate::problem::{Problem, refusals};
use crate::runtime::limits::Limits;
use crate::server::state::ServerState;

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
            return Err(refusals::not_json(media_type.as_deref()));
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
                let seconds = limits.body_timeout.as_secs_f64();
                return Err(refusals::too_slow("request body", seconds));
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
            return Err(refusals::not_json(media_type.as_deref()));
        }
        Ok(Body(bytes))
    }
}

fn too_large(max_body: usize) -> Problem {
    refusals::too_large("request body", max_body as u64)
}

/// Read what is left of a refused request's `body` and throw it away, as far as that costs
/// no more than an accepted request: about [`max_body`](crate::Limits::max_body) bytes (the
/// last read may go past it), within the body timeout. A client still sending then reads the refusal; were the
/// connection closed with its bytes unread, the client would get a reset instead, and lose the
/// refusal.
pub(crate) async fn discard<E>(
    body: &mut (impl futures_util::Stream<Item = Result<Bytes, E>> + Unpin),
    limits: &Limits,
) {
    use futures_util::StreamExt;
    let mut left = limits.max_body as u64;
    let drain = async {
        while left > 0
            && let Some(Ok(chunk)) = body.next().await
        {
            left = left.saturating_sub(chunk.len() as u64);
        }
    };
    let _ = tokio::time::timeout(limits.body_timeout, drain).await;
}

/// `application/json`, `application/…+json`, with or without parameters.
fn is_json(media_type: &str) -> bool {
    let essence = media_type.split(';').next().unwrap_or_default().trim();
    let essence = essence.to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
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
        refusals::method_not_allowed(format!(
            "{method} is not allowed on '{}'; it allows {allowed}",
            uri.path()
        ))
    })
}

/// Who makes the request: the scope the security guard granted it (the least, should a
/// request ever reach a handler without the guard).
impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Caller>()
            .copied()
            .unwrap_or(Caller::granted(Scope::Observe)))
    }
}

/// `?dryRun=true` on a write or an invocation: check it as it would be, answer what it would
/// do, and do nothing (`?dryRun=false`, or none: do it).
pub(crate) struct DryRun(pub(crate) bool);

/// The query of a write or an invocation (other parameters are ignored).
#[derive(serde::Deserialize)]
struct DryRunQuery {
    #[serde(rename = "dryRun", default)]
    dry_run: bool,
}

impl<S: Send + Sync> FromRequestParts<S> for DryRun {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        axum::extract::Query::<DryRunQuery>::try_from_uri(&parts.uri)
            .map(|query| Self(query.0.dry_run))
            .map_err(|e| Problem::bad_request(e.body_text()))
    }
}
