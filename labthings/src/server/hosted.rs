//! A Thing instance behind a type-erased interface, dispatching through its generated table.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use serde_json::Value;

use crate::broker::Topic;
use crate::context::ActionContext;
use crate::problem::Problem;
use crate::table::{Affordance, BoxFuture, Getter, Json, Setter, ThingTable};
use crate::td::TdOptions;
use crate::thing::Thing;

/// What the server needs of a Thing, whatever its type.
pub(crate) trait DynThing: Send + Sync + 'static {
    fn description(&self, options: &TdOptions) -> Value;
    fn lookup(&self, name: &str) -> Option<Affordance>;
    fn property_count(&self) -> usize;
    fn property_name(&self, index: usize) -> &'static str;
    /// The publish point of an observable property.
    fn property_topic(&self, index: usize) -> Option<&Topic>;
    /// Whether clients may read / write the property.
    fn readable(&self, index: usize) -> bool;
    fn writable(&self, index: usize) -> bool;
    fn read(&self, index: usize) -> Pending<Json>;
    /// Validate then write a client's value.
    fn write(&self, index: usize, value: Value) -> Pending<()>;
    fn action_count(&self) -> usize;
    fn action_name(&self, index: usize) -> &'static str;
    fn action_topic(&self, index: usize) -> &Topic;
    fn validate_input(&self, index: usize, input: Value) -> Result<Value, Problem>;
    fn takes_context(&self, index: usize) -> bool;
    fn invoke(
        &self,
        index: usize,
        input: Value,
        ctx: ActionContext,
    ) -> BoxFuture<Result<Json, Problem>>;
}

/// A Thing of type `T` published by the server.
pub(crate) struct Hosted<T: Thing> {
    thing: Arc<T>,
    table: &'static ThingTable<T>,
    action_topics: Vec<Topic>,
}

impl<T: Thing> Hosted<T> {
    pub(crate) fn new(thing: Arc<T>) -> Self {
        let table = T::table();
        Self {
            thing,
            table,
            action_topics: table.actions.iter().map(|_| Topic::new()).collect(),
        }
    }
}

/// Run device code's future, turning a panic into a 500 problem.
fn guarded<R: Send + 'static>(
    future: BoxFuture<Result<R, Problem>>,
) -> BoxFuture<Result<R, Problem>> {
    Box::pin(async move {
        match AssertUnwindSafe(future).catch_unwind().await {
            Ok(result) => result,
            Err(payload) => Err(crate::panic::problem(&*payload)),
        }
    })
}

/// The result of device code: available now (a stored field), or later (a method).
///
/// Reading a stored field completes without allocating a future.
pub(crate) enum Pending<T> {
    Ready(Result<T, Problem>),
    Later(BoxFuture<Result<T, Problem>>),
}

impl<T> Pending<T> {
    pub(crate) async fn resolve(self) -> Result<T, Problem> {
        match self {
            Self::Ready(result) => result,
            Self::Later(future) => future.await,
        }
    }
}

/// Call synchronous device code, turning a panic into a 500 problem.
fn call_now<R>(f: impl FnOnce() -> Result<R, Problem>) -> Result<R, Problem> {
    std::panic::catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|payload| Err(crate::panic::problem(&*payload)))
}

impl<T: Thing> DynThing for Hosted<T> {
    fn description(&self, options: &TdOptions) -> Value {
        crate::td::thing_description(self.table, options)
    }

    fn lookup(&self, name: &str) -> Option<Affordance> {
        self.table.lookup(name)
    }

    fn property_count(&self) -> usize {
        self.table.properties.len()
    }

    fn property_name(&self, index: usize) -> &'static str {
        self.table.properties[index].def.name
    }

    fn property_topic(&self, index: usize) -> Option<&Topic> {
        let def = self.table.properties[index].def;
        def.topic.map(|f| f(&self.thing))
    }

    fn readable(&self, index: usize) -> bool {
        let def = self.table.properties[index].def;
        !def.write_only && def.getter.is_some()
    }

    fn writable(&self, index: usize) -> bool {
        let def = self.table.properties[index].def;
        !def.read_only && def.setter.is_some()
    }

    fn read(&self, index: usize) -> Pending<Json> {
        let def = self.table.properties[index].def;
        match &def.getter {
            None => Pending::Ready(Err(Problem::new(
                405,
                format!("property '{}' is write-only", def.name),
            ))),
            Some(Getter::Immediate(f)) => Pending::Ready(call_now(|| f(&self.thing))),
            Some(Getter::Blocking(f)) => {
                let (f, thing) = (*f, self.thing.clone());
                Pending::Later(crate::__private::blocking(move || f(&thing)))
            }
            Some(Getter::Async(f)) => Pending::Later(guarded(f(self.thing.clone()))),
        }
    }

    fn write(&self, index: usize, value: Value) -> Pending<()> {
        let entry = &self.table.properties[index];
        if let Err(problem) = entry.validate(&value) {
            return Pending::Ready(Err(problem));
        }
        match &entry.def.setter {
            None => Pending::Ready(Err(Problem::new(
                405,
                format!("property '{}' is read-only", entry.def.name),
            ))),
            Some(Setter::Immediate(f)) => Pending::Ready(call_now(|| f(&self.thing, value))),
            Some(Setter::Blocking(f)) => {
                let (f, thing) = (*f, self.thing.clone());
                Pending::Later(crate::__private::blocking(move || f(&thing, value)))
            }
            Some(Setter::Async(f)) => Pending::Later(guarded(f(self.thing.clone(), value))),
        }
    }

    fn action_count(&self) -> usize {
        self.table.actions.len()
    }

    fn action_name(&self, index: usize) -> &'static str {
        self.table.actions[index].def.name
    }

    fn action_topic(&self, index: usize) -> &Topic {
        &self.action_topics[index]
    }

    fn validate_input(&self, index: usize, input: Value) -> Result<Value, Problem> {
        self.table.actions[index].validate_input(input)
    }

    fn takes_context(&self, index: usize) -> bool {
        self.table.actions[index].def.takes_context
    }

    fn invoke(
        &self,
        index: usize,
        input: Value,
        ctx: ActionContext,
    ) -> BoxFuture<Result<Json, Problem>> {
        let def = self.table.actions[index].def;
        guarded((def.invoke)(self.thing.clone(), input, ctx))
    }
}
