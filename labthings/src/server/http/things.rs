//! The Thing Descriptions: `GET /thing_descriptions/`, `GET /things/`, `GET /{thing}/`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::extract::Segments;
use super::response::serialized;
use crate::interaction::ThingRef;
use crate::model::td::TdOptions;
use crate::problem::Problem;
use crate::server::state::ServerState;

type Shared = State<Arc<ServerState>>;

impl ServerState {
    /// Where and how `thing` is published, for a client whose root is `origin`.
    pub(crate) fn td_options(&self, thing: ThingRef<'_>, origin: &str) -> TdOptions {
        let mut options = TdOptions::new(&self.prefix, thing.name())
            .with_base(format!("{origin}/"))
            .with_id(thing.id());
        #[cfg(feature = "mqtt")]
        if let Some(mqtt) = &self.mqtt {
            options = options.with_mqtt(mqtt.forms(thing.name()));
        }
        if self.policy.tokens.enabled() {
            options = options.with_bearer_security();
        }
        options
    }

    /// The TD of every Thing, in order.
    pub(crate) fn descriptions(&self, headers: &HeaderMap) -> Vec<(ThingRef<'_>, Value)> {
        self.descriptions_at(&self.origin(headers))
    }

    /// The TD of every Thing, in order, for a client whose root is `origin`.
    pub(crate) fn descriptions_at(&self, origin: &str) -> Vec<(ThingRef<'_>, Value)> {
        self.things
            .iter()
            .map(|thing| (thing, thing.description(&self.td_options(thing, origin))))
            .collect()
    }
}

/// `GET /thing_descriptions/`: `{name: TD}`.
pub(crate) async fn all(State(state): Shared, headers: HeaderMap) -> Response {
    let tds: Map<String, Value> = (state.descriptions(&headers).into_iter())
        .map(|(thing, td)| (thing.name().to_string(), td))
        .collect();
    serialized(StatusCode::OK, &tds)
}

/// `GET /things/`: `{name: URL of its TD}`.
pub(crate) async fn urls(State(state): Shared, headers: HeaderMap) -> Response {
    let base = state.api_base(&headers);
    let urls: Map<String, Value> = (state.things.iter())
        .map(|thing| {
            (
                thing.name().to_string(),
                format!("{base}/{}/", thing.name()).into(),
            )
        })
        .collect();
    serialized(StatusCode::OK, &urls)
}

/// `GET /{thing}`: to its TD.
pub(crate) async fn redirect(
    State(state): Shared,
    Segments(thing): Segments<String>,
) -> Result<Response, Problem> {
    state.things.get(&thing)?;
    let location = format!("{}/{thing}/", state.prefix);
    Ok((
        StatusCode::TEMPORARY_REDIRECT,
        [(header::LOCATION, location)],
    )
        .into_response())
}

/// `GET /{thing}/`: its TD.
pub(crate) async fn one(
    State(state): Shared,
    Segments(thing): Segments<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let thing = state.things.get(&thing)?;
    let options = state.td_options(thing, &state.origin(&headers));
    Ok(serialized(StatusCode::OK, &thing.description(&options)))
}
