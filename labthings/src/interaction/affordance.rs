//! The affordances of a Thing, as the interface addresses them: each interaction checks what
//! the affordance allows and who asks, then runs device code on the device runtime.

use std::sync::Arc;

use serde_json::Value;

use super::{Caller, Scope, ThingRef, WouldInvoke, WouldWrite};
use crate::broker::Topic;
use crate::model::table::Json;
use crate::problem::{Problem, refusals};
use crate::runtime::hosted::DynThing;
use crate::runtime::invocations::Invocation;

/// A property of a Thing.
#[derive(Clone, Copy)]
pub(crate) struct PropertyRef<'t> {
    pub(crate) thing: ThingRef<'t>,
    pub(crate) index: usize,
}

impl<'t> PropertyRef<'t> {
    /// Its name.
    pub(crate) fn name(&self) -> &'static str {
        self.thing.thing().property_name(self.index)
    }

    /// `Ok` when clients may read it.
    pub(crate) fn readable(&self) -> Result<(), Problem> {
        match self.thing.thing().readable(self.index) {
            true => Ok(()),
            false => Err(refusals::write_only(self.thing.name(), self.name())),
        }
    }

    /// `Ok` when clients may write it.
    pub(crate) fn writable(&self) -> Result<(), Problem> {
        match self.thing.thing().writable(self.index) {
            true => Ok(()),
            false => Err(refusals::read_only(self.thing.name(), self.name())),
        }
    }

    /// The quality of its value `json`, if it declares warning or alarm ranges.
    pub(crate) fn quality(&self, json: &str) -> Option<crate::model::quality::Quality> {
        self.thing.thing().ranges(self.index).quality_of_json(json)
    }

    /// `Ok` when its changes are published.
    pub(crate) fn observable(&self) -> Result<(), Problem> {
        match self.thing.thing().observable(self.index) {
            true => Ok(()),
            false => Err(refusals::not_observable(self.name())),
        }
    }

    /// Its value history, if it is readable and keeps one.
    #[cfg(feature = "history")]
    pub(crate) fn history(&self) -> Result<&'t std::sync::Arc<crate::broker::Series>, Problem> {
        self.readable()?;
        crate::runtime::hosted::series(&**self.thing.thing(), self.index)
            .ok_or_else(|| refusals::no_history(self.thing.name(), self.name()))
    }

    /// Its value, as JSON (a stored field is read without leaving the caller's task).
    pub(crate) async fn read(&self) -> Result<Json, Problem> {
        self.readable()?;
        let pending = self.thing.thing().read(self.index);
        pending.resolve(&self.thing.things().device).await
    }

    /// Write `value`, validated against the property's schema and constraints, for `caller`.
    pub(crate) async fn write(&self, caller: Caller, value: Value) -> Result<(), Problem> {
        caller.needs(Scope::Operate, "writing a property")?;
        self.writable()?;
        self.thing.admits(caller)?;
        let pending = self.thing.thing().write(self.index, value);
        pending.resolve(&self.thing.things().device).await
    }

    /// A dry run of [`write`](Self::write): every check it makes, in its order, and nothing
    /// written.
    pub(crate) fn try_write(&self, caller: Caller, value: Value) -> Result<WouldWrite, Problem> {
        caller.needs(Scope::Operate, "writing a property")?;
        self.writable()?;
        self.thing.would_admit(caller)?;
        self.thing.thing().check_write(self.index, &value)?;
        let name = self.name();
        Ok(WouldWrite { name, value })
    }
}

/// An action of a Thing.
#[derive(Clone, Copy)]
pub(crate) struct ActionRef<'t> {
    pub(crate) thing: ThingRef<'t>,
    pub(crate) index: usize,
}

impl<'t> ActionRef<'t> {
    /// Its name.
    pub(crate) fn name(&self) -> &'static str {
        self.thing.thing().action_name(self.index)
    }

    /// Invoke it with `input` (`null` for none) for `caller`: validated, admitted within the
    /// server's bounds (waiting up to `Limits::admission_wait` for a place), then started. `before` sees the invocation before its first status
    /// is published and before it runs.
    pub(crate) async fn invoke(
        &self,
        caller: Caller,
        input: Value,
        before: impl FnOnce(&Arc<Invocation>),
    ) -> Result<Arc<Invocation>, Problem> {
        let (thing, input) = self.admissible(caller, input, false)?;
        let invocations = &self.thing.things().invocations;
        let requester = caller.requester();
        invocations
            .start(thing, self.index, input, requester, before)
            .await
    }

    /// As [`invoke`](Self::invoke), refused at once (503) when the bounds on invocations are
    /// reached: for a WebSocket, whose requests are handled in order and must not wait.
    pub(crate) fn invoke_now(
        &self,
        caller: Caller,
        input: Value,
        before: impl FnOnce(&Arc<Invocation>),
    ) -> Result<Arc<Invocation>, Problem> {
        let (thing, input) = self.admissible(caller, input, false)?;
        let invocations = &self.thing.things().invocations;
        let requester = caller.requester();
        invocations.start_now(thing, self.index, input, requester, before)
    }

    /// A dry run of [`invoke`](Self::invoke): every check it makes, in its order, and where
    /// the invocation would stand; nothing runs and no invocation is created.
    pub(crate) fn try_invoke(&self, caller: Caller, input: Value) -> Result<WouldInvoke, Problem> {
        let (thing, input) = self.admissible(caller, input, true)?;
        let invocations = &self.thing.things().invocations;
        let foreseen = invocations.foresee(&thing, self.index)?;
        let name = self.name();
        Ok(WouldInvoke {
            name,
            input,
            foreseen,
        })
    }

    /// The Thing and the validated input of an invocation `caller` may make (for a dry
    /// run: without using the caller's lease).
    fn admissible(
        &self,
        caller: Caller,
        input: Value,
        dry_run: bool,
    ) -> Result<(Arc<dyn DynThing>, Value), Problem> {
        caller.needs(Scope::Operate, "invoking an action")?;
        match dry_run {
            true => self.thing.would_admit(caller)?,
            false => self.thing.admits(caller)?,
        }
        let thing = self.thing.thing();
        let input = thing.validate_input(self.index, input)?;
        Ok((thing.clone(), input))
    }

    /// The publish point of its invocations' changes of status.
    pub(crate) fn topic(&self) -> &'t Topic {
        self.thing.thing().action_topic(self.index)
    }
}

/// An event of a Thing.
#[derive(Clone, Copy)]
pub(crate) struct EventRef<'t> {
    pub(crate) thing: ThingRef<'t>,
    pub(crate) index: usize,
}

impl<'t> EventRef<'t> {
    /// Its name.
    pub(crate) fn name(&self) -> &'static str {
        self.thing.thing().event_name(self.index)
    }
}
