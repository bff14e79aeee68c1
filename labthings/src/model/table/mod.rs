//! The static affordance tables that `#[thing]` generates, and the per-type table built from
//! them at first use. Macro plumbing: re-exported under `__private`, not a public API.

mod compiled;
mod constraints;
mod def;
mod stored;

use std::future::Future;
use std::pin::Pin;

use serde_json::value::RawValue;

pub use compiled::{ActionEntry, Affordance, PropertyEntry, ThingTable};
pub use constraints::{Constraints, Number};
pub use def::{
    ActionDef, ArgDef, EventDef, Exclusive, Getter, HookFn, ImplParts, InvokeFn, PropertyDef,
    Setter, SlotDef, StreamDef, StructParts, TaskDef, TaskFn, may_read, may_write,
};
pub use stored::StoredValue;

/// A JSON value serialised once, ready to be written to any response.
pub type Json = Box<RawValue>;

/// The future type of asynchronous getters, setters and actions.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;
