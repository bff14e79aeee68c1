//! The directory's Thing Descriptions one by one (`{prefix}/directory/things/{id}`): read any
//! (this server's own, or one registered into it), register one (`PUT`, with an `admin` token
//! when tokens are on), remove a registered one (`DELETE`); and the search of the listing
//! (`?title=`, `?type=`, `?affordance=`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::registered::Put;
use crate::interaction::{Caller, Scope};
use crate::problem::Problem;
use crate::server::http::extract::{Body, Segments};
use crate::server::state::ServerState;

type Shared = State<Arc<ServerState>>;

/// What the listing may be searched by: every given criterion must hold.
#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct Search {
    /// Words of the TD's `title` (case-insensitive, all of them).
    pub(super) title: Option<String>,
    /// One of its `@type`s.
    #[serde(rename = "type")]
    pub(super) type_: Option<String>,
    /// The name of one of its properties, actions or events.
    pub(super) affordance: Option<String>,
}

impl Search {
    /// Its criteria, as query pairs (for the link to the next page).
    pub(super) fn pairs(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("title", &self.title),
            ("type", &self.type_),
            ("affordance", &self.affordance),
        ]
        .into_iter()
        .filter_map(|(key, value)| Some((key, value.as_deref()?)))
    }

    /// Whether `td` is found.
    pub(super) fn finds(&self, td: &Value) -> bool {
        let title = td["title"].as_str().unwrap_or_default().to_lowercase();
        let titled = (self.title.iter())
            .flat_map(|words| words.split_whitespace())
            .all(|word| title.contains(&word.to_lowercase()));
        let typed = self.type_.as_ref().is_none_or(|wanted| match &td["@type"] {
            Value::String(one) => one == wanted,
            Value::Array(many) => many.iter().any(|t| t == wanted.as_str()),
            _ => false,
        });
        let named = self.affordance.as_ref().is_none_or(|name| {
            ["properties", "actions", "events"]
                .iter()
                .any(|kind| td[kind].get(name).is_some())
        });
        titled && typed && named
    }
}

/// Every TD of the directory: this server's own (for a client at `headers`' origin), then
/// the registered ones.
pub(super) fn every(state: &ServerState, headers: &HeaderMap) -> Vec<Arc<Value>> {
    let own = (state.descriptions(headers).into_iter()).map(|(_, td)| Arc::new(td));
    own.chain(state.registered.all()).collect()
}

/// `GET {prefix}/directory/things/{id}`.
pub(super) async fn read(
    State(state): Shared,
    Segments(id): Segments<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let own = (state.descriptions(&headers).into_iter()).find(|(_, td)| td["id"] == id.as_str());
    let td = match own {
        Some((_, td)) => Arc::new(td),
        None => state.registered.get(&id).ok_or_else(|| no_td(&id))?,
    };
    Ok(td_response(StatusCode::OK, &td))
}

/// `PUT {prefix}/directory/things/{id}`: register (or renew) another server's TD.
pub(super) async fn register(
    State(state): Shared,
    caller: Caller,
    Segments(id): Segments<String>,
    Body(body): Body,
) -> Result<Response, Problem> {
    caller.needs(Scope::Admin, "registering a Thing Description")?;
    own_refused(&state, &id)?;
    let mut td: Value = serde_json::from_slice(&body)
        .map_err(|e| Problem::bad_request(format!("the body is not JSON: {e}")))?;
    let Value::Object(fields) = &mut td else {
        return Err(Problem::bad_request("a Thing Description is a JSON object"));
    };
    if !fields.get("title").is_some_and(Value::is_string) {
        return Err(Problem::bad_request(
            "a Thing Description has a `title` (a string)",
        ));
    }
    if !fields.contains_key("@context") {
        return Err(Problem::bad_request(
            "a Thing Description has an `@context`",
        ));
    }
    match fields.get("id") {
        None => drop(fields.insert("id".into(), id.clone().into())),
        Some(given) if *given == id.as_str() => {}
        Some(given) => {
            return Err(Problem::bad_request(format!(
                "the Thing Description's `id` is {given}, not the '{id}' of its URL"
            )));
        }
    }
    Ok(match state.registered.put(&id, td, &state.limits)? {
        Put::Created => {
            let mut response = StatusCode::CREATED.into_response();
            let location = format!("{}/directory/things/{id}", state.prefix);
            if let Ok(location) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            response
        }
        Put::Updated => StatusCode::NO_CONTENT.into_response(),
    })
}

/// `DELETE {prefix}/directory/things/{id}`: remove a registered TD.
pub(super) async fn remove(
    State(state): Shared,
    caller: Caller,
    Segments(id): Segments<String>,
) -> Result<Response, Problem> {
    caller.needs(Scope::Admin, "removing a Thing Description")?;
    own_refused(&state, &id)?;
    match state.registered.remove(&id) {
        true => Ok(StatusCode::NO_CONTENT.into_response()),
        false => Err(no_td(&id)),
    }
}

/// This server's own Things are not registered: they cannot be replaced nor removed.
fn own_refused(state: &ServerState, id: &str) -> Result<(), Problem> {
    match state.things.iter().any(|thing| thing.id() == id) {
        true => Err(Problem::new(
            409,
            format!("'{id}' is a Thing of this server: its Thing Description is not registered"),
        )),
        false => Ok(()),
    }
}

fn no_td(id: &str) -> Problem {
    Problem::not_found(format!("this directory has no Thing Description '{id}'"))
}

/// A TD as `application/td+json`.
pub(super) fn td_response(status: StatusCode, td: &Value) -> Response {
    let mut response = (status, td.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/td+json"),
    );
    response
}
