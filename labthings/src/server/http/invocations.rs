//! The invocations: `GET /action_invocations` (paged), `GET|DELETE
//! /action_invocations/{id}`, `GET /action_invocations/{id}/output`.

use std::sync::Arc;

use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

use super::blobs;
use super::extract::{Body, Segments};
use super::response::{json, serialized};
use crate::interaction::Caller;
use crate::interaction::wire::{Record, Summary};
use crate::problem::{Problem, refusals};
use crate::server::state::ServerState;

type Shared = State<Arc<ServerState>>;

/// `?limit=N&after=ID` of an invocation listing.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Page {
    limit: Option<usize>,
    after: Option<String>,
}

/// `GET /action_invocations`.
pub(crate) async fn all(
    State(state): Shared,
    headers: HeaderMap,
    request: Request,
) -> Result<Response, Problem> {
    let Query(page) = Query::<Page>::try_from_uri(request.uri())
        .map_err(|e| Problem::bad_request(e.body_text()))?;
    list(&state, &headers, None, &page)
}

/// One page of invocations, oldest first; a `Link` header with `rel="next"` when more follow.
pub(crate) fn list(
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
    let invocations = &state.things.invocations;
    let (page_of, more) = invocations.page(filter, page.after.as_deref(), limit)?;
    let origin = state.origin(headers);
    let urls = state.urls(&origin);
    let snapshots: Vec<_> = page_of.iter().map(|i| i.snapshot()).collect();
    let hrefs: Vec<_> = snapshots.iter().map(|s| urls.invocation(s)).collect();
    let summaries: Vec<_> = (snapshots.iter().zip(&hrefs))
        .map(|(snapshot, href)| Summary::new(snapshot, href, urls))
        .collect();
    let mut response = serialized(StatusCode::OK, &summaries);
    if more && let Some(last) = page_of.last() {
        let base = format!("{origin}{}", state.prefix);
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

/// `GET /action_invocations/{id}`.
pub(crate) async fn one(
    State(state): Shared,
    Segments(id): Segments<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let invocation = state.things.invocation(&id)?;
    let origin = state.origin(&headers);
    let urls = state.urls(&origin);
    let snapshot = invocation.snapshot();
    let href = urls.invocation(&snapshot);
    let log = invocation.log();
    let record = Record::new(&snapshot, &href, urls, &invocation.input, &log);
    Ok(serialized(StatusCode::OK, &record))
}

/// `GET /action_invocations/{id}/provenance`: its W3C PROV-JSON record.
#[cfg(feature = "provenance")]
pub(crate) async fn provenance(
    State(state): Shared,
    caller: Caller,
    Segments(id): Segments<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    use crate::interaction::provenance::{Asker, record};
    if !state.things.invocations.record_provenance() {
        return Err(refusals::no_provenance_records());
    }
    let invocation = state.things.invocation(&id)?;
    let origin = state.origin(&headers);
    let urls = state.urls(&origin);
    let token = invocation.requester.token;
    // Who asked is the asker's, an admin's, or anyone's when the server has no tokens.
    let shown = !state.policy.tokens.enabled()
        || caller.may_break_leases()
        || (token.is_some() && caller.client() == token);
    let asker = match shown {
        true => Asker::Shown {
            subject: token.and_then(|index| state.policy.tokens.subject(index)),
        },
        false => Asker::Withheld,
    };
    let document = record(&state.things, &invocation, urls, asker, &state.server_id).await?;
    Ok(serialized(StatusCode::OK, &document))
}

/// `GET /action_invocations/{id}/output`: the output, or a blob's bytes.
pub(crate) async fn output(
    State(state): Shared,
    Segments(id): Segments<String>,
    request: Request,
) -> Result<Response, Problem> {
    let invocation = state.things.invocation(&id)?;
    match invocation.output() {
        Ok(Some(raw)) => {
            // A blob output is its bytes, as LabThings-FastAPI serves it.
            let links = invocation
                .core
                .links_blobs
                .load(std::sync::atomic::Ordering::Relaxed);
            if links
                && let Ok(value) = serde_json::from_str::<Value>(raw.get())
                && let Some(blob) = blobs::output_blob(&state, &value)
            {
                return Ok(blobs::serve(blob, request).await);
            }
            Ok(json(StatusCode::OK, String::from(Box::<str>::from(raw))))
        }
        Ok(None) => Ok(json(StatusCode::OK, "null")),
        Err(status) => Err(refusals::no_output_yet(&id, status.as_str())),
    }
}

/// `DELETE /action_invocations/{id}`.
pub(crate) async fn cancel(
    State(state): Shared,
    Segments(id): Segments<String>,
    caller: Caller,
    // Read (and checked) only so that a body a cross-site form could send is refused.
    _body: Body,
) -> Result<Response, Problem> {
    let invocation = state.things.invocation(&id)?;
    state.things.cancel(caller, &invocation)?;
    Ok(json(StatusCode::OK, "null"))
}
