//! The LabThings-FastAPI dialect: `addPropertyObservation` and `addActionObservation`.
//!
//! Errors are `response` messages exactly as LabThings-FastAPI sends them (a string
//! `status`), but unlike it, every name of a message is processed: a bad name gets its error
//! and the others are still subscribed.

use serde_json::Value;

use super::connection::{Context, Format, Target};
use super::messages::labthings_error;
use crate::problem::Problem;
use crate::table::Affordance;

/// Handle `addPropertyObservation` (`kind`) or `addActionObservation`, whose `data` is an
/// object whose keys are the names to observe.
pub(crate) fn observe(context: &Context, kind: &str, data: Option<&Value>) {
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
        context.send(labthings_error(
            Some(operation),
            None,
            &problem,
            "bad-request",
        ));
        return;
    };
    for name in names.keys() {
        let done = if properties {
            observe_property(context, name)
        } else {
            observe_action(context, name)
        };
        if let Err((problem, kind)) = done {
            context.send(labthings_error(Some(operation), Some(name), &problem, kind));
        }
    }
}

fn observe_property(context: &Context, name: &str) -> Result<(), (Problem, &'static str)> {
    let thing = &context.views[0].thing;
    let Some(Affordance::Property(index)) = thing.lookup(name) else {
        return Err((
            Problem::not_found(format!("No property found with the name '{name}'.")),
            "not-found",
        ));
    };
    if !thing.observable(index) {
        return Err((not_observable(name), "not-observable"));
    }
    // As LabThings-FastAPI: changes only, no current value.
    let targets = [Target::Property(index)];
    context.subscribe(0, &targets, &Format::LabThings, false, None, |_, _| None);
    Ok(())
}

fn observe_action(context: &Context, name: &str) -> Result<(), (Problem, &'static str)> {
    match context.views[0].thing.lookup(name) {
        Some(Affordance::Action(index)) => {
            context.observe_action(0, index, None);
            Ok(())
        }
        _ => Err((
            Problem::not_found(format!("No action found with the name '{name}'.")),
            "not-found",
        )),
    }
}

/// The 403 of observing a property that is not observable (both dialects).
pub(crate) fn not_observable(name: &str) -> Problem {
    Problem::new(403, format!("Property '{name}' is not observable.")).with_type(
        "https://w3c.github.io/web-thing-protocol/errors#not-observable",
        "Not Observable",
    )
}
