//! The blob routes: `GET {prefix}/blob/{id}` downloads a blob, `POST {prefix}/blob` uploads
//! one (see [`blob`](crate::model::blob)).

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tower_service::Service;
use uuid::Uuid;

use super::extract::{Segments, discard};
use crate::model::blob::Blob;
use crate::problem::{Problem, refusals};
use crate::server::state::ServerState;

/// `GET {prefix}/blob/{id}`.
pub(crate) async fn download(
    State(state): State<Arc<ServerState>>,
    Segments(id): Segments<String>,
    request: Request,
) -> Response {
    match find(&state, &id) {
        Ok(blob) => serve(blob, request).await,
        Err(problem) => problem.into_response(),
    }
}

fn find(state: &ServerState, id: &str) -> Result<Blob, Problem> {
    let not_found = || refusals::no_blob(id);
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    state.things.invocations.blobs.get(id).ok_or_else(not_found)
}

/// The bytes of `blob`: from memory, or streamed from its file (with range requests).
pub(crate) async fn serve(blob: Blob, request: Request) -> Response {
    let media_type = HeaderValue::from_str(blob.media_type())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    if let Some(bytes) = blob.as_bytes() {
        let mut response = (StatusCode::OK, bytes.clone()).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, media_type);
        return response;
    }
    let path = blob.path().map(PathBuf::from).unwrap_or_default();
    let mut file = tower_http::services::ServeFile::new(&path);
    let mut response = match file.call(request).await {
        Ok(response) => response.map(axum::body::Body::new),
        Err(error) => match error {},
    };
    if response.status() == StatusCode::NOT_FOUND {
        return Problem::internal(format!("the blob's file {} is gone", path.display()))
            .into_response();
    }
    if response.status().is_success() {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, media_type);
    }
    response
}

/// `POST {prefix}/blob`: the body, of any media type, becomes a blob that an action may take.
/// It is written to a file as it arrives, so its size is bounded by the disk, and by
/// [`Limits::max_blob`](crate::Limits::max_blob), not by memory.
pub(crate) async fn upload(
    State(state): State<Arc<ServerState>>,
    headers: HeaderMap,
    request: Request,
) -> Result<Response, Problem> {
    let limits = &state.limits;
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_owned();
    if !media_type.contains('/') {
        return Err(Problem::new(
            415,
            format!("'{media_type}' is not a media type: send the upload's Content-Type"),
        ));
    }
    let too_large = || refusals::too_large("upload", limits.max_blob);
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // A client that waits for `100 Continue` sends nothing once refused: nothing to read.
    let waits = (headers.get(header::EXPECT))
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let mut body = request.into_body().into_data_stream();
    if let Some(announced) = announced.filter(|&n| n > limits.max_blob) {
        if announced <= limits.max_body as u64 && !waits {
            discard(&mut body, limits).await;
        }
        return Err(too_large());
    }
    let dir = state.upload_dir.clone();
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| Problem::internal(format!("uploads cannot be stored: {e}")))?;
    let path = dir.join(Uuid::new_v4().to_string());
    // Owned from the start: deleted if anything below fails.
    let blob: Blob = Blob::from_temporary_file(&path, &media_type);
    let mut file = tokio::fs::File::create(&path)
        .await
        .map_err(|e| Problem::internal(format!("the upload cannot be stored: {e}")))?;
    let mut written = 0u64;
    loop {
        let chunk = match tokio::time::timeout(limits.body_timeout, body.next()).await {
            Err(_) => {
                let seconds = limits.body_timeout.as_secs_f64();
                return Err(refusals::too_slow("rest of the upload", seconds));
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                return Err(Problem::bad_request(format!("the upload broke off: {e}")));
            }
            Ok(Some(Ok(chunk))) => chunk,
        };
        written += chunk.len() as u64;
        if written > limits.max_blob {
            // The partial upload is deleted first.
            drop((file, blob));
            discard(&mut body, limits).await;
            return Err(too_large());
        }
        file.write_all(&chunk)
            .await
            .map_err(|e| Problem::internal(format!("the upload cannot be stored: {e}")))?;
    }
    file.flush()
        .await
        .map_err(|e| Problem::internal(format!("the upload cannot be stored: {e}")))?;
    drop(file);
    let id = state.things.invocations.upload(blob);
    let href = format!("{}/blob/{id}", state.api_base(&headers));
    let body: Value = json!({"href": href, "media_type": media_type, "size": written});
    let mut response = (StatusCode::CREATED, axum::Json(body)).into_response();
    if let Ok(location) = HeaderValue::from_str(&href) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// The blob an invocation's output links to, if its output is one.
pub(crate) fn output_blob(state: &ServerState, output: &Value) -> Option<Blob> {
    let href = output.get("href")?.as_str()?;
    output.get("media_type")?;
    let (_, blob) = state.things.invocations.blobs.find(href)?;
    Some(blob)
}
