//! The LabThings-FastAPI dialect: `addPropertyObservation` and `addActionObservation`.
//!
//! Errors are `response` messages exactly as LabThings-FastAPI sends them (a string
//! `status`), but unlike it, every name of a message is processed: a bad name gets its error
//! and the others are still subscribed.

use serde_json::Value;

use super::connection::{Connection, Format};
use super::messages::labthings_error;
use crate::interaction::Target;
use crate::problem::Problem;

/// Handle `addPropertyObservation` (`kind`) or `addActionObservation`, whose `data` is an
/// object whose keys are the names to observe.
pub(crate) fn observe(connection: &Connection, kind: &str, data: Option<&Value>) {
    let properties = kind == "addPropertyObservation";
    let operation = if properties {
        "observeproperty"
    } else {
        "observeaction"
    };
    let Some(Value::Object(names)) = data else {
        let problem = Problem::bad_request(format!(
            "'{kind}' needs 'data': an object whose keys are the names to observe"
        ));
        connection.send(labthings_error(
            Some(operation),
            None,
            &problem,
            "bad-request",
        ));
        return;
    };
    for name in names.keys() {
        let done = if properties {
            observe_property(connection, name)
        } else {
            observe_action(connection, name)
        };
        if let Err(problem) = done {
            let kind = error_kind(&problem);
            connection.send(labthings_error(Some(operation), Some(name), &problem, kind));
        }
    }
}

/// The fragment of the error type LabThings-FastAPI gives a refusal.
fn error_kind(problem: &Problem) -> &'static str {
    match problem.status {
        404 => "not-found",
        403 => "not-observable",
        _ => "bad-request",
    }
}

fn observe_property(connection: &Connection, name: &str) -> Result<(), Problem> {
    let property = connection.thing(0).property(name)?;
    property.observable()?;
    // As LabThings-FastAPI: changes only, no current value.
    let targets = [Target::Property(property.index)];
    connection.subscribe(0, &targets, &Format::LabThings, false, None, |_| None);
    Ok(())
}

fn observe_action(connection: &Connection, name: &str) -> Result<(), Problem> {
    let action = connection.thing(0).action(name)?;
    connection.observe_action(0, action.index, None);
    Ok(())
}
