//! `/{thing}/lease`: take a lease on a Thing (`POST {"seconds": 60}` → 201 with its `id`),
//! see whether one is held (`GET`), break it (`DELETE`, for an `admin`);
//! `/{thing}/lease/{id}`: renew one's lease (`PUT`) or release it (`DELETE`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use super::affordances::parse_body;
use super::extract::{Body, Segments};
use super::response::serialized;
use crate::interaction::{Caller, LeaseRequest};
use crate::problem::Problem;
use crate::server::state::ServerState;

type Shared = State<Arc<ServerState>>;

/// The body of a take or a renewal: `{"seconds": …}` (none: an empty body).
fn lease_request(body: &Bytes) -> Result<LeaseRequest, Problem> {
    let Some(value) = parse_body(body)? else {
        return Ok(LeaseRequest::default());
    };
    serde_json::from_value(value).map_err(|e| {
        Problem::invalid(
            format!("a lease request is `{{\"seconds\": N}}`: {e}"),
            Vec::new(),
        )
    })
}

/// A lease id in the path.
fn lease_id(id: &str) -> Result<uuid::Uuid, Problem> {
    uuid::Uuid::try_parse(id)
        .map_err(|_| Problem::not_found(format!("'{id}' is not a lease id (a UUID)")))
}

/// `POST /{thing}/lease`.
pub(crate) async fn take(
    State(state): Shared,
    Segments(thing): Segments<String>,
    caller: Caller,
    Body(body): Body,
) -> Result<Response, Problem> {
    let thing = state.things.get(&thing)?;
    let granted = thing.take_lease(caller, &lease_request(&body)?)?;
    let location = format!("{}/{}/lease/{}", state.prefix, thing.name(), granted.id);
    let mut response = serialized(StatusCode::CREATED, &granted);
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// `GET /{thing}/lease`.
pub(crate) async fn view(
    State(state): Shared,
    Segments(thing): Segments<String>,
) -> Result<Response, Problem> {
    let thing = state.things.get(&thing)?;
    Ok(serialized(StatusCode::OK, &thing.lease_view()))
}

/// `DELETE /{thing}/lease`.
pub(crate) async fn break_any(
    State(state): Shared,
    Segments(thing): Segments<String>,
    caller: Caller,
) -> Result<StatusCode, Problem> {
    let thing = state.things.get(&thing)?;
    thing.break_lease(caller)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /{thing}/lease/{id}`.
pub(crate) async fn renew(
    State(state): Shared,
    Segments((thing, id)): Segments<(String, String)>,
    caller: Caller,
    Body(body): Body,
) -> Result<Response, Problem> {
    let thing = state.things.get(&thing)?;
    let request = lease_request(&body)?;
    let granted = thing.renew_lease(caller, lease_id(&id)?, &request)?;
    Ok(serialized(StatusCode::OK, &granted))
}

/// `DELETE /{thing}/lease/{id}`.
pub(crate) async fn release(
    State(state): Shared,
    Segments((thing, id)): Segments<(String, String)>,
    caller: Caller,
) -> Result<StatusCode, Problem> {
    let thing = state.things.get(&thing)?;
    thing.release_lease(caller, lease_id(&id)?)?;
    Ok(StatusCode::NO_CONTENT)
}
