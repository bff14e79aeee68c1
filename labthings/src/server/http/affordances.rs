//! `/{thing}/{name}`: read a property (or stream it, or an event, as Server-Sent Events),
//! write a property, invoke an action, list an action's invocations, watch an MJPEG stream.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

use super::extract::{Body, DryRun, Segments};
use super::invocations::{Page, list};
use super::response::{json, serialized, with_allow};
use super::{mjpeg, sse};
use crate::interaction::wire::Record;
use crate::interaction::{Caller, ThingRef};
use crate::model::table::Affordance;
use crate::problem::{Problem, refusals};
use crate::server::state::ServerState;

type Shared = State<Arc<ServerState>>;

/// The header of a property read that carries its value's quality, for a property with
/// warning or alarm ranges.
const QUALITY_HEADER: &str = "labthings-quality";

/// `GET /{thing}/{name}`.
pub(crate) async fn read(
    State(state): Shared,
    Segments((thing_name, name)): Segments<(String, String)>,
    // The request rather than a copy of its headers: reading a property needs none.
    request: Request,
) -> Result<Response, Problem> {
    let headers = request.headers();
    let thing = state.things.get(&thing_name)?;
    let stream = sse::wanted(headers);
    match thing.affordance(&name)? {
        Affordance::Property(i) if stream => {
            let property = thing.property_at(i);
            property.observable()?;
            sse::stream(&state, thing, sse::Followed::Property(i), headers)
        }
        Affordance::Event(i) if stream => {
            sse::stream(&state, thing, sse::Followed::Event(i), headers)
        }
        Affordance::Stream(i) => Ok(mjpeg::serve(&state, thing.thing().stream(i))),
        Affordance::Event(_) => Err(Problem::new(
            406,
            format!(
                "'{name}' is an event: subscribe with `Accept: text/event-stream`, or over the WebSocket"
            ),
        )),
        Affordance::Property(i) => match thing.property_at(i).read().await {
            Ok(json_value) => {
                let text = String::from(Box::<str>::from(json_value));
                let quality = thing.property_at(i).quality(&text);
                let mut response = json(StatusCode::OK, text);
                if let Some(quality) = quality {
                    let value = HeaderValue::from_static(quality.as_str());
                    response.headers_mut().insert(QUALITY_HEADER, value);
                }
                Ok(response)
            }
            Err(problem) if problem.status == 405 => Ok(with_allow(problem, "PUT")),
            Err(problem) => Err(problem),
        },
        Affordance::Action(_) => {
            let Query(page) = Query::<Page>::try_from_uri(request.uri())
                .map_err(|e| Problem::bad_request(e.body_text()))?;
            list(&state, headers, Some((&thing_name, &name)), &page)
        }
    }
}

/// The methods the route of an affordance allows (`HEAD` with every `GET`).
fn allowed(thing: ThingRef<'_>, affordance: Affordance) -> &'static str {
    match affordance {
        Affordance::Property(i) => {
            let property = thing.property_at(i);
            match (property.readable().is_ok(), property.writable().is_ok()) {
                (true, true) => "GET, HEAD, PUT",
                (true, false) => "GET, HEAD",
                (false, _) => "PUT",
            }
        }
        Affordance::Action(_) => "GET, HEAD, POST",
        Affordance::Event(_) | Affordance::Stream(_) => "GET, HEAD",
    }
}

/// The 405 of a `PUT` or `POST` to an event or a stream.
fn only_read(name: &str) -> Response {
    with_allow(
        refusals::method_not_allowed(format!(
            "'{name}' is an event or a stream: it is only read, with GET"
        )),
        "GET, HEAD",
    )
}

/// Any other method on `/{thing}/{name}`: 405, with the methods the affordance allows.
pub(crate) async fn other_method(
    State(state): Shared,
    Segments((thing_name, name)): Segments<(String, String)>,
    method: axum::http::Method,
    uri: axum::http::Uri,
) -> Result<Response, Problem> {
    let thing = state.things.get(&thing_name)?;
    let affordance = thing.affordance(&name)?;
    let allow = allowed(thing, affordance);
    Ok(with_allow(
        refusals::method_not_allowed(format!(
            "{method} is not allowed on '{}'; it allows {allow}",
            uri.path()
        )),
        allow,
    ))
}

/// Parse a request body as JSON; an empty body is `None`.
pub(super) fn parse_body(body: &Bytes) -> Result<Option<Value>, Problem> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(body)
        .map(Some)
        .map_err(|e| refusals::bad_json("request body", &e))
}

/// `PUT /{thing}/{name}`: write a property.
pub(crate) async fn write(
    State(state): Shared,
    Segments((thing, name)): Segments<(String, String)>,
    caller: Caller,
    DryRun(dry_run): DryRun,
    Body(body): Body,
) -> Result<Response, Problem> {
    let thing = state.things.get(&thing)?;
    match thing.affordance_or(&name, refusals::no_property)? {
        Affordance::Property(i) => {
            let property = thing.property_at(i);
            if let Err(problem) = property.writable() {
                return Ok(with_allow(problem, allowed(thing, Affordance::Property(i))));
            }
            let value = parse_body(&body)?.ok_or_else(|| refusals::no_value(&name))?;
            if dry_run {
                let would = property.try_write(caller, value)?;
                return Ok(serialized(StatusCode::OK, &would));
            }
            property.write(caller, value).await?;
            Ok(json(StatusCode::CREATED, "null"))
        }
        Affordance::Action(i) => Ok(with_allow(
            refusals::method_not_allowed(format!("'{name}' is an action: invoke it with POST")),
            allowed(thing, Affordance::Action(i)),
        )),
        Affordance::Event(_) | Affordance::Stream(_) => Ok(only_read(&name)),
    }
}

/// `POST /{thing}/{name}`: invoke an action.
pub(crate) async fn invoke(
    State(state): Shared,
    Segments((thing, name)): Segments<(String, String)>,
    headers: HeaderMap,
    caller: Caller,
    DryRun(dry_run): DryRun,
    Body(body): Body,
) -> Result<Response, Problem> {
    let thing = state.things.get(&thing)?;
    match thing.affordance_or(&name, refusals::no_action)? {
        Affordance::Action(i) => {
            let input = parse_body(&body)?.unwrap_or(Value::Null);
            if dry_run {
                let would = thing.action_at(i).try_invoke(caller, input)?;
                return Ok(serialized(StatusCode::OK, &would));
            }
            let invocation = thing.action_at(i).invoke(caller, input, |_| {}).await?;
            let origin = state.origin(&headers);
            let urls = state.urls(&origin);
            let snapshot = invocation.snapshot();
            let href = urls.invocation(&snapshot);
            let log = invocation.log();
            let record = Record::new(&snapshot, &href, urls, &invocation.input, &log);
            let mut response = serialized(StatusCode::CREATED, &record);
            if let Ok(location) = HeaderValue::from_str(&href) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            Ok(response)
        }
        Affordance::Property(i) => Ok(with_allow(
            refusals::method_not_allowed(format!(
                "'{name}' is a property: read it with GET, write it with PUT"
            )),
            allowed(thing, Affordance::Property(i)),
        )),
        Affordance::Event(_) | Affordance::Stream(_) => Ok(only_read(&name)),
    }
}

/// `GET /{thing}/{stream}/viewer` (a page) and `…/frame` (the latest frame).
pub(crate) async fn stream_view(
    State(state): Shared,
    Segments((thing, name, view)): Segments<(String, String, String)>,
    uri: axum::http::Uri,
    _headers: HeaderMap,
) -> Result<Response, Problem> {
    let thing_ref = state.things.get(&thing)?;
    let affordance = thing_ref.affordance(&name)?;
    #[cfg(feature = "history")]
    if let (Affordance::Property(i), "history") = (affordance, view.as_str()) {
        let series = thing_ref.property_at(i).history()?;
        return super::history::serve(series, (&thing, &name), &uri, &_headers);
    }
    let Affordance::Stream(i) = affordance else {
        let has = match view.as_str() {
            "history" => "only observable numeric and boolean properties have '/history'",
            _ => "only streams have '/viewer' and '/frame'",
        };
        return Err(Problem::not_found(format!(
            "'{name}' of '{thing}' has no '/{view}': {has}"
        )));
    };
    match view.as_str() {
        "viewer" => Ok(mjpeg::viewer(uri.path())),
        "frame" => {
            let stream = thing_ref.thing().stream(i);
            Ok(mjpeg::frame(stream, &name, state.limits.frame_wait).await)
        }
        _ => Err(Problem::not_found(format!(
            "stream '{name}' of '{thing}' has '/viewer' and '/frame', not '/{view}'"
        ))),
    }
}
