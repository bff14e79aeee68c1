//! The routes of MJPEG streams: `GET /{thing}/{name}` (the stream), `…/viewer` (a page that
//! shows it) and `…/frame` (the latest frame, as a JPEG).

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::model::stream::{Frame, MjpegStream};
use crate::problem::{Problem, refusals};
use crate::server::state::ServerState;

/// The boundary between parts.
const BOUNDARY: &str = "frame";

/// `multipart/x-mixed-replace` of `stream`: each viewer gets the latest frame whenever it is
/// ready for one, so a slow viewer skips frames. Ends when the server shuts down.
pub(crate) fn serve(state: &Arc<ServerState>, stream: &MjpegStream) -> Response {
    let Ok(permit) = state.open.stream_permits.clone().try_acquire_owned() else {
        let limit = state.limits.max_event_streams;
        return refusals::too_many_open("streams", limit).into_response();
    };
    // Held while the stream is open: its place among the streams, and its count.
    let permit = (permit, state.open_stream(false));
    let frames = stream.subscribe();
    let shutdown = state.shutdown().clone();
    let parts = futures_util::stream::unfold(
        (frames, shutdown, permit, Vec::<Bytes>::new()),
        |(mut frames, shutdown, permit, mut pending)| async move {
            loop {
                if let Some(chunk) = pending.pop() {
                    return Some((
                        Ok::<_, Infallible>(chunk),
                        (frames, shutdown, permit, pending),
                    ));
                }
                tokio::select! {
                    () = shutdown.cancelled() => return None,
                    changed = frames.changed() => if changed.is_err() { return None },
                }
                let frame: Option<Frame> = frames.borrow_and_update().clone();
                if let Some(frame) = frame {
                    // Reversed: popped from the end.
                    pending = vec![
                        Bytes::from_static(b"\r\n"),
                        frame.jpeg.clone(),
                        part_header(&frame),
                    ];
                }
            }
        },
    );
    let mut response = Response::new(Body::from_stream(parts));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("multipart/x-mixed-replace; boundary=frame"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// A part's headers: its type and length, and the frame's number (`X-Frame`, 1 for the first
/// frame pushed) so that a client can tell which frames it skipped.
fn part_header(frame: &Frame) -> Bytes {
    Bytes::from(format!(
        "--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\nX-Frame: {}\r\n\r\n",
        frame.jpeg.len(),
        frame.number
    ))
}

/// `…/viewer`: a page showing the stream.
pub(crate) fn viewer(path: &str) -> Response {
    let path = path.trim_end_matches("/viewer");
    let page = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{path}</title></head>\
         <body style=\"margin:0;background:#111\"><img src=\"{path}\" alt=\"{path}\" \
         style=\"display:block;max-width:100%;margin:auto\"></body></html>\n"
    );
    let mut response = (StatusCode::OK, page).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// `…/frame`: the latest frame as a JPEG image. Before the stream's first frame, the request
/// watches the stream (a camera may produce frames only while someone does) for up to
/// `wait`, then is answered 503.
pub(crate) async fn frame(stream: &MjpegStream, name: &str, wait: std::time::Duration) -> Response {
    let latest = match stream.grab_frame() {
        Some(frame) => Some(frame),
        None => {
            let mut frames = stream.subscribe();
            let first = frames.wait_for(Option::is_some);
            match tokio::time::timeout(wait, first).await {
                Ok(Ok(frame)) => frame.clone(),
                _ => None,
            }
        }
    };
    match latest {
        Some(frame) => {
            let mut response = (StatusCode::OK, frame.jpeg).into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
            response
        }
        None => Problem::new(
            503,
            format!(
                "stream '{name}' gave no frame within {} s: try again later",
                wait.as_secs_f64()
            ),
        )
        .into_response(),
    }
}
