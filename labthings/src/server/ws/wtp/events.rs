//! The event operations: subscribe and unsubscribe, one event or all.

use super::properties::Named;
use super::{Call, subscribe as follow};
use crate::interaction::Target;
use crate::problem::Problem;

pub(super) fn subscribe(call: &Call<'_>) -> Result<(), Problem> {
    let event = call.thing().event(call.name()?)?;
    let target = [Target::Event(event.index)];
    follow(call, &target, "subscribeevent", false, Some(event.name()));
    Ok(())
}

pub(super) fn unsubscribe(call: &Call<'_>) -> Result<(), Problem> {
    let event = call.thing().event(call.name()?)?;
    call.connection
        .unsubscribe(call.view, &[Target::Event(event.index)]);
    call.reply(Named { name: event.name() });
    Ok(())
}

pub(super) fn subscribe_all(call: &Call<'_>) -> Result<(), Problem> {
    let targets = call.thing().events();
    follow(call, &targets, "subscribeallevents", false, None);
    Ok(())
}

pub(super) fn unsubscribe_all(call: &Call<'_>) -> Result<(), Problem> {
    let targets = call.thing().events();
    call.connection.unsubscribe(call.view, &targets);
    call.reply(serde_json::Map::new());
    Ok(())
}
