//! The action operations: invoke (answered at once, when it ends, or with a notification at
//! each change), query, cancel, query all.

use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::Value;
use serde_json::value::RawValue;

use super::Call;
use crate::interaction::wire::{ActionStatus, Output, Urls, WtpProblem, output};
use crate::model::context::ActionContext;
use crate::problem::Problem;
use crate::runtime::invocations::{Snapshot, Status, StatusNote};
use crate::server::ws::connection::Watch;
use crate::server::ws::messages::to_text;
use crate::server::ws::view::ThingView;

/// `{"name": …, "status": ActionStatus}`
#[derive(Serialize)]
struct Invoked<'a> {
    name: &'a str,
    status: ActionStatus<'a>,
}

pub(super) fn invoke(call: &Call<'_>) -> Result<(), Problem> {
    let request = &call.request;
    let action = call.thing().action(call.name()?)?;
    let input = request.input.clone().unwrap_or(Value::Null);
    if request.dry_run == Some(true) {
        call.reply(action.try_invoke(request.caller(call.connection.caller), input)?);
        return Ok(());
    }
    let synchronous = request.synchronous == Some(true);
    let observe = request.observe == Some(true);
    let (connection, view) = (call.connection, call.view);
    let caller = request.caller(connection.caller);
    let invocation = action.invoke_now(caller, input, |invocation| {
        // Before it runs: no change of status can be missed.
        if synchronous || observe {
            let watch = Watch {
                id: invocation.id(),
                correlation: request.correlation(),
                synchronous,
            };
            connection.observe_action(view, action.index, Some(watch));
        }
        if !synchronous {
            let snapshot = invocation.snapshot();
            let urls = connection.state.urls(&connection.origin);
            let status = ActionStatus::new(&snapshot, urls, None);
            call.reply(Invoked {
                name: action.name(),
                status,
            });
        }
    })?;
    drop(invocation);
    Ok(())
}

pub(super) fn query(call: &Call<'_>) -> Result<(), Problem> {
    let invocation = call.thing().invocation(action_id(call)?)?;
    let snapshot = invocation.snapshot();
    let urls = call.connection.state.urls(&call.connection.origin);
    call.reply(Invoked {
        name: invocation.action,
        status: ActionStatus::new(&snapshot, urls, None),
    });
    Ok(())
}

pub(super) fn cancel(call: &Call<'_>) -> Result<(), Problem> {
    #[derive(Serialize)]
    struct Cancelled {
        #[serde(rename = "actionID")]
        action_id: String,
    }
    let invocation = call.thing().invocation(action_id(call)?)?;
    let things = &call.connection.state.things;
    things.cancel(call.connection.caller, &invocation)?;
    call.reply(Cancelled {
        action_id: invocation.id().to_string(),
    });
    Ok(())
}

/// `{"statuses": {action: [ActionStatus, …]}}`, newest first.
struct Statuses<'a> {
    by_action: Vec<(&'static str, Vec<Snapshot>)>,
    urls: Urls<'a>,
}

impl Serialize for Statuses<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Inner<'s, 'a>(&'s Statuses<'a>);
        impl Serialize for Inner<'_, '_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(self.0.by_action.len()))?;
                for (action, snapshots) in &self.0.by_action {
                    let statuses: Vec<_> = (snapshots.iter())
                        .map(|s| ActionStatus::new(s, self.0.urls, None))
                        .collect();
                    map.serialize_entry(action, &statuses)?;
                }
                map.end()
            }
        }
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("statuses", &Inner(self))?;
        map.end()
    }
}

pub(super) fn query_all(call: &Call<'_>) -> Result<(), Problem> {
    let state = &call.connection.state;
    let mut by_action: Vec<(&'static str, Vec<Snapshot>)> = Vec::new();
    // The newest, at most a page's worth (the HTTP listing pages through all of them).
    for invocation in call.thing().newest_invocations(state.limits.max_page) {
        let snapshot = invocation.snapshot();
        match by_action.iter_mut().find(|(a, _)| *a == invocation.action) {
            Some((_, list)) => list.push(snapshot),
            None => by_action.push((invocation.action, vec![snapshot])),
        }
    }
    let urls = state.urls(&call.connection.origin);
    call.reply(Statuses { by_action, urls });
    Ok(())
}

/// The invocation id a request names.
fn action_id<'c>(call: &'c Call<'_>) -> Result<&'c str, Problem> {
    call.request
        .action_id
        .as_deref()
        .ok_or_else(|| Problem::bad_request("the request needs an 'actionID'"))
}

/// A message about an invocation a connection watches.
#[derive(Serialize)]
struct Watched<'a> {
    #[serde(rename = "thingID")]
    thing_id: &'a str,
    #[serde(rename = "messageID")]
    message_id: String,
    #[serde(rename = "messageType")]
    message_type: &'static str,
    operation: &'static str,
    name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<ActionStatus<'a>>,
    /// A synchronous invocation's output, once completed (`null` when it gave none).
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<Option<Output<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<WtpProblem<'a>>,
    #[serde(rename = "correlationID", skip_serializing_if = "Option::is_none")]
    correlation_id: Option<&'a RawValue>,
    timestamp: String,
}

/// The messages of a change of status of the invocations a connection watches: a
/// notification per change, or for a `synchronous` request one response once it ended.
/// Watches of ended invocations are removed.
pub(crate) fn invocation_messages(
    view: &ThingView,
    note: &StatusNote,
    urls: Urls<'_>,
    watches: &mut Vec<Watch>,
    out: &mut Vec<String>,
) {
    let snapshot = &note.snapshot;
    let Some(at) = watches.iter().position(|w| w.id == snapshot.id) else {
        return;
    };
    let watch = &watches[at];
    let ended = snapshot.status.is_finished();
    if watch.synchronous && !ended {
        return;
    }
    let mut message = Watched {
        thing_id: &view.thing_id,
        message_id: uuid::Uuid::new_v4().to_string(),
        message_type: "notification",
        operation: "invokeaction",
        name: snapshot.action,
        status: None,
        output: None,
        error: None,
        correlation_id: watch.correlation.as_deref(),
        timestamp: ActionContext::now_rfc3339(),
    };
    if watch.synchronous {
        message.message_type = "response";
        match snapshot.status {
            Status::Completed => message.output = Some(output(snapshot, urls)),
            _ => message.error = snapshot.error.as_ref().map(WtpProblem),
        }
    } else {
        message.status = Some(ActionStatus::new(snapshot, urls, Some(&note.logged)));
    }
    out.push(to_text(&message));
    if ended {
        watches.remove(at);
    }
}
