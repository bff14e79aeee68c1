//! HTTP routes, wire-compatible with LabThings-FastAPI 0.3.0.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;

use crate::problem::Problem;
use crate::server::ServerState;
use crate::server::extract::{Body, Segments, not_allowed};
use crate::server::invocations::Invocation;
use crate::server::{blobs, mjpeg, sse};
use crate::table::Affordance;
use crate::td::TdOptions;

type Shared = State<Arc<ServerState>>;

pub(crate) fn routes(state: Arc<ServerState>) -> Router {
    let get_only = |route| not_allowed(route, "GET");
    Router::new()
        .route("/thing_descriptions/", get_only(get(thing_descriptions)))
        .route("/things/", get_only(get(things)))
        .route("/action_invocations", get_only(get(list_invocations)))
        .route(
            "/action_invocations/{id}",
            not_allowed(get(get_invocation).delete(cancel_invocation), "GET, DELETE"),
        )
        .route(
            "/action_invocations/{id}/output",
            get_only(get(invocation_output)),
        )
        .route("/{thing}", get_only(get(redirect_to_td)))
        .route("/{thing}/", get_only(get(thing_description)))
        .route("/ws", get_only(get(crate::server::ws::upgrade_shared)))
        .route("/blob", not_allowed(post(blobs::upload), "POST"))
        .route("/blob/{id}", get_only(get(blobs::download)))
        .route("/{thing}/ws", get_only(get(crate::server::ws::upgrade)))
        .route(
            "/{thing}/{name}",
            not_allowed(
                get(read_affordance).put(write_property).post(invoke_action),
                "GET, PUT, POST",
            ),
        )
        .route("/{thing}/{name}/{view}", get_only(get(stream_view)))
        .fallback(not_found)
        .with_state(state)
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, crate::problem::PROBLEM_JSON);
        response
    }
}

fn json_body(status: StatusCode, body: impl Into<axum::body::Body>) -> Response {
    let mut response = (status, body.into()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn json_value(status: StatusCode, value: &Value) -> Response {
    json_body(status, serde_json::to_vec(value).unwrap_or_default())
}

impl ServerState {
    /// The JSON of an invocation, its URLs (and those of its blobs) absolute as the client
    /// addressed the server.
    pub(crate) fn invocation_json(&self, invocation: &Invocation, headers: &HeaderMap) -> Value {
        let mut json = invocation.to_json(&self.api_base(headers));
        if let Some(output) = json.get_mut("output") {
            blobs::absolute_links(output, &self.origin(headers), &self.prefix);
        }
        json
    }

    /// Where uploads are written.
    pub(crate) fn blob_dir(&self) -> std::path::PathBuf {
        self.upload_dir.clone()
    }

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

    pub(crate) fn td_options(&self, name: &str, headers: &HeaderMap) -> TdOptions {
        let mut options =
            TdOptions::new(&self.prefix, name).with_base(format!("{}/", self.origin(headers)));
        if let Some(entry) = self.things.get(name) {
            options = options.with_id(&entry.id);
        }
        if let Some(mqtt) = &self.mqtt {
            options = options.with_mqtt(mqtt, name);
        }
        if self.policy.tokens.enabled() {
            options.with_bearer_security()
        } else {
            options
        }
    }

    pub(crate) fn lookup_thing(&self, name: &str) -> Result<&crate::server::Entry, Problem> {
        self.things
            .get(name)
            .ok_or_else(|| Problem::not_found(format!("no Thing is called '{name}'")))
    }
}

async fn not_found(uri: axum::http::Uri) -> Problem {
    Problem::not_found(format!("nothing is published at '{}'", uri.path()))
}

async fn thing_descriptions(State(state): Shared, headers: HeaderMap) -> Response {
    let tds: serde_json::Map<String, Value> = state
        .order
        .iter()
        .map(|name| {
            let entry = &state.things[name];
            (
                name.clone(),
                entry.thing.description(&state.td_options(name, &headers)),
            )
        })
        .collect();
    json_value(StatusCode::OK, &Value::Object(tds))
}

async fn things(State(state): Shared, headers: HeaderMap) -> Response {
    let base = state.api_base(&headers);
    let urls: serde_json::Map<String, Value> = state
        .order
        .iter()
        .map(|name| (name.clone(), format!("{base}/{name}/").into()))
        .collect();
    json_value(StatusCode::OK, &Value::Object(urls))
}

async fn redirect_to_td(
    State(state): Shared,
    Segments(thing): Segments<String>,
) -> Result<Response, Problem> {
    state.lookup_thing(&thing)?;
    let location = format!("{}/{thing}/", state.prefix);
    Ok((
        StatusCode::TEMPORARY_REDIRECT,
        [(header::LOCATION, location)],
    )
        .into_response())
}

async fn thing_description(
    State(state): Shared,
    Segments(thing): Segments<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let entry = state.lookup_thing(&thing)?;
    let td = entry.thing.description(&state.td_options(&thing, &headers));
    Ok(json_value(StatusCode::OK, &td))
}

/// The Thing and the affordance a `/{thing}/{name}` request addresses.
fn resolve<'s>(
    state: &'s ServerState,
    thing: &str,
    name: &str,
) -> Result<(&'s crate::server::Entry, Affordance), Problem> {
    let entry = state.lookup_thing(thing)?;
    let affordance = entry.thing.lookup(name).ok_or_else(|| {
        Problem::not_found(format!(
            "Thing '{thing}' has no property, action or event called '{name}'"
        ))
    })?;
    Ok((entry, affordance))
}

fn method_not_allowed(detail: String, allow: &'static str) -> Response {
    let mut response = Problem::new(405, detail).into_response();
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

async fn read_affordance(
    State(state): Shared,
    Segments((thing, name)): Segments<(String, String)>,
    // The request rather than a copy of its headers: reading a property needs none.
    request: axum::extract::Request,
) -> Result<Response, Problem> {
    let headers = request.headers();
    let (entry, affordance) = resolve(&state, &thing, &name)?;
    let stream = sse::wanted(headers);
    match affordance {
        Affordance::Property(i) if stream => {
            if !entry.thing.observable(i) {
                return Err(Problem::new(
                    406,
                    format!(
                        "property '{name}' of '{thing}' is not observable: it has no event stream"
                    ),
                ));
            }
            sse::stream(&state, &entry.thing, sse::Followed::Property(i), headers)
        }
        Affordance::Event(i) if stream => {
            sse::stream(&state, &entry.thing, sse::Followed::Event(i), headers)
        }
        Affordance::Stream(i) => Ok(mjpeg::serve(&state, entry.thing.stream(i))),
        Affordance::Event(_) => Err(Problem::new(
            406,
            format!(
                "'{name}' is an event: subscribe with `Accept: text/event-stream`, or over the WebSocket"
            ),
        )),
        Affordance::Property(i) => {
            if !entry.thing.readable(i) {
                return Ok(method_not_allowed(
                    format!("property '{name}' of '{thing}' is write-only"),
                    "PUT",
                ));
            }
            let json = entry.thing.read(i).resolve(&state.device).await?;
            Ok(json_body(
                StatusCode::OK,
                String::from(Box::<str>::from(json)),
            ))
        }
        Affordance::Action(_) => {
            let Query(page) = Query::<Page>::try_from_uri(request.uri())
                .map_err(|e| Problem::bad_request(e.body_text()))?;
            list(&state, headers, Some((&thing, &name)), &page)
        }
    }
}

/// The 405 of a `PUT` or `POST` to an event or a stream.
fn event_not_writable(name: &str) -> Response {
    method_not_allowed(
        format!("'{name}' is an event or a stream: it is only read, with GET"),
        "GET",
    )
}

/// `GET /{thing}/{stream}/viewer` (a page) and `…/frame` (the latest frame).
async fn stream_view(
    State(state): Shared,
    Segments((thing, name, view)): Segments<(String, String, String)>,
    uri: axum::http::Uri,
) -> Result<Response, Problem> {
    let (entry, affordance) = resolve(&state, &thing, &name)?;
    let Affordance::Stream(i) = affordance else {
        return Err(Problem::not_found(format!(
            "'{name}' of '{thing}' is not a stream: only streams have '/{view}'"
        )));
    };
    match view.as_str() {
        "viewer" => Ok(mjpeg::viewer(uri.path())),
        "frame" => Ok(mjpeg::frame(entry.thing.stream(i), &name)),
        _ => Err(Problem::not_found(format!(
            "stream '{name}' of '{thing}' has '/viewer' and '/frame', not '/{view}'"
        ))),
    }
}

/// A 503 problem says when to try again.
fn retry_later(problem: Problem) -> Response {
    let busy = problem.status == 503;
    let mut response = problem.into_response();
    if busy {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

/// Parse a request body as JSON; an empty body is `None`.
fn parse_body(body: &Bytes) -> Result<Option<Value>, Problem> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(body)
        .map(Some)
        .map_err(|e| Problem::bad_request(format!("the request body is not valid JSON: {e}")))
}

async fn write_property(
    State(state): Shared,
    Segments((thing, name)): Segments<(String, String)>,
    Body(body): Body,
) -> Result<Response, Problem> {
    let (entry, affordance) = resolve(&state, &thing, &name)?;
    match affordance {
        Affordance::Property(i) => {
            if !entry.thing.writable(i) {
                return Ok(method_not_allowed(
                    format!("property '{name}' of '{thing}' is read-only"),
                    "GET",
                ));
            }
            let value = parse_body(&body)?.ok_or_else(|| {
                Problem::bad_request(format!(
                    "the request body must be the new value of property '{name}' as JSON"
                ))
            })?;
            entry.thing.write(i, value).resolve(&state.device).await?;
            Ok(json_body(StatusCode::CREATED, "null"))
        }
        Affordance::Action(_) => Ok(method_not_allowed(
            format!("'{name}' is an action: invoke it with POST"),
            "GET, POST",
        )),
        Affordance::Event(_) | Affordance::Stream(_) => Ok(event_not_writable(&name)),
    }
}

async fn invoke_action(
    State(state): Shared,
    Segments((thing, name)): Segments<(String, String)>,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Response, Problem> {
    let (entry, affordance) = resolve(&state, &thing, &name)?;
    match affordance {
        Affordance::Action(i) => {
            let input = parse_body(&body)?.unwrap_or(Value::Null);
            let input = entry.thing.validate_input(i, input)?;
            let invocation = match state.invocations.start(entry.thing.clone(), i, input) {
                Ok(invocation) => invocation,
                Err(problem) => return Ok(retry_later(problem)),
            };
            let base = state.api_base(&headers);
            let body = state.invocation_json(&invocation, &headers);
            let mut response = json_value(StatusCode::CREATED, &body);
            if let Ok(location) = HeaderValue::from_str(&invocation.href(&base)) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            Ok(response)
        }
        Affordance::Property(_) => Ok(method_not_allowed(
            format!("'{name}' is a property: read it with GET, write it with PUT"),
            "GET, PUT",
        )),
        Affordance::Event(_) | Affordance::Stream(_) => Ok(event_not_writable(&name)),
    }
}

/// `?limit=N&after=ID` of an invocation listing.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Page {
    limit: Option<usize>,
    after: Option<String>,
}

async fn list_invocations(
    State(state): Shared,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Result<Response, Problem> {
    let Query(page) = Query::<Page>::try_from_uri(request.uri())
        .map_err(|e| Problem::bad_request(e.body_text()))?;
    list(&state, &headers, None, &page)
}

/// One page of invocations, oldest first; a `Link` header with `rel="next"` when more follow.
fn list(
    state: &ServerState,
    headers: &HeaderMap,
    filter: Option<(&str, &str)>,
    page: &Page,
) -> Result<Response, Problem> {
    let limits = &state.limits;
    let limit = page.limit.unwrap_or(limits.page);
    if limit == 0 || limit > limits.max_page {
        return Err(Problem::bad_request(format!(
            "`limit` is between 1 and {}, not {limit}",
            limits.max_page
        )));
    }
    let (invocations, more) = state
        .invocations
        .page(filter, page.after.as_deref(), limit)?;
    let base = state.api_base(headers);
    let list: Vec<Value> = invocations
        .iter()
        .map(|inv| Value::Object(inv.summary(&base)))
        .collect();
    let mut response = json_value(StatusCode::OK, &Value::Array(list));
    if more && let Some(last) = invocations.last() {
        let path = match filter {
            None => format!("{base}/action_invocations"),
            Some((thing, action)) => format!("{base}/{thing}/{action}"),
        };
        let link = format!("<{path}?after={}&limit={limit}>; rel=\"next\"", last.id());
        if let Ok(link) = HeaderValue::from_str(&link) {
            response.headers_mut().insert(header::LINK, link);
        }
    }
    Ok(response)
}

fn find_invocation(state: &ServerState, id: &str) -> Result<Arc<Invocation>, Problem> {
    state
        .invocations
        .get(id)
        .ok_or_else(|| Problem::not_found(format!("no action invocation has the id '{id}'")))
}

async fn get_invocation(
    State(state): Shared,
    Segments(id): Segments<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let invocation = find_invocation(&state, &id)?;
    Ok(json_value(
        StatusCode::OK,
        &state.invocation_json(&invocation, &headers),
    ))
}

async fn invocation_output(
    State(state): Shared,
    Segments(id): Segments<String>,
    request: axum::extract::Request,
) -> Result<Response, Problem> {
    let invocation = find_invocation(&state, &id)?;
    match invocation.output() {
        Ok(Some(json)) => {
            // A blob output is its bytes, as LabThings-FastAPI serves it.
            if let Ok(value) = serde_json::from_str::<Value>(json.get())
                && let Some(blob) = blobs::output_blob(&state, &value)
            {
                return Ok(blobs::serve(blob, request).await);
            }
            Ok(json_body(
                StatusCode::OK,
                String::from(Box::<str>::from(json)),
            ))
        }
        Ok(None) => Ok(json_body(StatusCode::OK, "null")),
        Err(status) => Err(Problem::new(
            503,
            format!("invocation '{id}' has no output: it is {}", status.as_str()),
        )),
    }
}

async fn cancel_invocation(
    State(state): Shared,
    Segments(id): Segments<String>,
    // Read (and checked) only so that a body a cross-site form could send is refused.
    _body: Body,
) -> Result<Response, Problem> {
    let invocation = find_invocation(&state, &id)?;
    state.invocations.cancel(&invocation)?;
    Ok(json_body(StatusCode::OK, "null"))
}
