//! Support for the code that the macros generate. Not a public API: it changes without notice.

mod output;

use std::marker::PhantomData;

pub use schemars;
pub use serde;
pub use serde_json;

use schemars::{JsonSchema, Schema, SchemaGenerator};

pub use crate::broker::Topic;
pub use crate::model::blocking::blocking;
pub use crate::model::calls::CallGuard;
pub use crate::model::constraints::{HasLength, Numeric, Ranged, Textual};
pub use crate::model::doc::Doc;
pub use crate::model::event::EventField;
pub use crate::model::naming::check_affordance;
pub use crate::model::quality::Ranges;
pub use crate::model::slot::{AnyThing, SlotCell, SlotKind};
pub use crate::model::state::{HasStates, NoStates, StateGate, state_value};
pub use crate::model::stream::StreamField;
pub use crate::model::table::StoredValue;
pub use crate::model::table::{
    ActionDef, ActionEntry, Affordance, ArgDef, BoxFuture, Constraints, EventDef, Exclusive,
    Getter, HookFn, ImplParts, InvokeFn, Json, Number, PropertyDef, PropertyEntry, Setter, SlotDef,
    StreamDef, StructParts, TaskDef, TaskFn, ThingTable, may_read, may_write,
};
pub use crate::model::thing::Sealed;
pub use crate::model::values::{check_input, check_value, from_value, no_input_to_check, to_json};
pub use output::{
    HookReturn, Output, ResultKind, Returned, SetterReturn, ValueKind, ViaResult, ViaValue,
    assert_has_length_output, assert_numeric_output, assert_textual_output, output_json,
    output_schema,
};

/// Emit the typed client items `#[thing]` generates when the `client` feature is on, and
/// nothing when it is off (the feature is this crate's, so the generated code asks it here).
#[cfg(feature = "client")]
#[macro_export]
#[doc(hidden)]
macro_rules! __labthings_client_items {
    ($($items:tt)*) => { $($items)* };
}

/// Emit the typed client items `#[thing]` generates when the `client` feature is on, and
/// nothing when it is off.
#[cfg(not(feature = "client"))]
#[macro_export]
#[doc(hidden)]
macro_rules! __labthings_client_items {
    ($($items:tt)*) => {};
}

pub use crate::__labthings_client_items as client_items;

/// What the typed clients need from the generated code.
#[cfg(feature = "client")]
pub mod client {
    use super::Output;
    use crate::client::{ReadOnly, ReadWrite, WriteOnly};

    /// Who may read and write a property, as two flags (see [`may_read`](super::may_read)
    /// and [`may_write`](super::may_write)).
    #[derive(Debug)]
    pub struct Flags<const READ: bool, const WRITE: bool>;

    /// The access type of a typed client's property.
    pub trait AccessOf {
        /// [`ReadOnly`], [`ReadWrite`], [`WriteOnly`] or [`NoAccess`].
        type Access;
    }

    /// A property that clients can neither read nor write.
    #[derive(Debug)]
    pub struct NoAccess;

    impl AccessOf for Flags<true, true> {
        type Access = ReadWrite;
    }
    impl AccessOf for Flags<true, false> {
        type Access = ReadOnly;
    }
    impl AccessOf for Flags<false, true> {
        type Access = WriteOnly;
    }
    impl AccessOf for Flags<false, false> {
        type Access = NoAccess;
    }

    /// Compile-time check that the value type the macro read from a method's return type
    /// (`T` of `…Result<T, E>`, or the type itself) is the one the type system finds.
    pub fn output_is<V, K: Output>(_kind: K)
    where
        K::Value: ClientReads<V>,
    {
    }

    /// The value a method gives is the type the typed client reads.
    #[diagnostic::on_unimplemented(
        message = "the typed client would read this method's output as `{V}`, but it is `{Self}`",
        label = "the client cannot see that this is a `Result`",
        note = "the client names the output from the return type as written: write `Result<T, E>` (or an alias called `Result`, like `anyhow::Result<T>`), or give `#[thing(no_client)]` to this impl block"
    )]
    pub trait ClientReads<V> {}

    impl<V> ClientReads<V> for V {}
}

/// The tables `#[thing]` generates from the struct's fields.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a `#[thing]` struct",
    label = "a `#[thing]` impl block needs its struct to be a `#[thing]` too",
    note = "add `#[thing]` to the definition of `{Self}`"
)]
pub trait StructTable: Sized + 'static {
    /// The struct's name.
    const TYPE_NAME: &'static str;
    /// The struct's documentation.
    const DOC: Doc;
    /// Properties stored in fields.
    const PROPERTIES: &'static [PropertyDef<Self>];
    /// Slots.
    const SLOTS: &'static [SlotDef<Self>];
    /// Events.
    const EVENTS: &'static [EventDef<Self>];
    /// MJPEG streams.
    const STREAMS: &'static [StreamDef<Self>];
}

/// The tables `#[thing]` generates from an impl block.
pub trait ImplTable: Sized + 'static {
    /// Properties, actions and hooks of the block.
    const PARTS: ImplParts<Self>;
}

type Methods<T> = ImplParts<T>;

/// Finds the [`ImplTable`] of a Thing when it has a `#[thing]` impl block, and empty tables
/// when it has none (autoref specialisation on a concrete type).
#[derive(Debug)]
pub struct Probe<T>(PhantomData<T>);

impl<T> Probe<T> {
    /// A probe for `T`.
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T> Default for Probe<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Chosen when the Thing has a `#[thing]` impl block.
pub trait ViaImplTable<T> {
    /// The impl block's tables.
    fn methods(&self) -> Methods<T>;
}

impl<T: ImplTable> ViaImplTable<T> for Probe<T> {
    fn methods(&self) -> Methods<T> {
        T::PARTS
    }
}

/// Chosen when the Thing has no `#[thing]` impl block.
pub trait ViaNoImplTable<T> {
    /// Empty tables.
    fn methods(&self) -> Methods<T>;
}

impl<T: 'static> ViaNoImplTable<T> for &Probe<T> {
    fn methods(&self) -> Methods<T> {
        ImplParts::EMPTY
    }
}

/// The type of an action's context parameter.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not `labthings::ActionContext`",
    label = "a borrowed argument, or one of type `ActionContext`, is the action's context",
    note = "action arguments are owned values (`x: f64`, not `x: &f64`); to take a type of your own called `ActionContext`, write its path, e.g. `crate::units::ActionContext`"
)]
pub trait IsActionContext {
    /// The context, borrowed.
    fn borrowed(ctx: &crate::ActionContext) -> &Self;
    /// The context, owned.
    fn owned(ctx: &crate::ActionContext) -> Self
    where
        Self: Sized;
}

impl IsActionContext for crate::ActionContext {
    fn borrowed(ctx: &crate::ActionContext) -> &Self {
        ctx
    }

    fn owned(ctx: &crate::ActionContext) -> Self {
        ctx.clone()
    }
}

/// Compile-time check of `min_length`, `max_length`.
pub const fn assert_has_length<T: HasLength + ?Sized>() {}

/// Compile-time check of `minimum`, `maximum`, `multiple_of`, ….
pub const fn assert_numeric<T: Numeric + ?Sized>() {}

/// Compile-time check of `warning` and `alarm`.
pub const fn assert_ranged<T: Ranged + ?Sized>() {}

/// Compile-time check of `pattern`.
pub const fn assert_textual<T: Textual + ?Sized>() {}

/// The schema of a value type.
pub fn schema<T: JsonSchema + ?Sized>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// The schema of an action's generated input struct, without its Rust name.
pub fn input_schema<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    let mut schema = generator.subschema_for::<T>();
    schema.remove("title");
    schema
}

/// Whether the `#[thing]` struct `T` declares a property or an event called `name`: the
/// compile-time check that an impl block does not reuse a name of the struct.
pub const fn struct_declares<T: StructTable>(name: &str) -> bool {
    let properties = T::PROPERTIES;
    let mut i = 0;
    while i < properties.len() {
        if crate::model::naming::contains(&[properties[i].name], name) {
            return true;
        }
        i += 1;
    }
    let events = T::EVENTS;
    let mut i = 0;
    while i < events.len() {
        if crate::model::naming::contains(&[events[i].name], name) {
            return true;
        }
        i += 1;
    }
    let streams = T::STREAMS;
    let mut i = 0;
    while i < streams.len() {
        if crate::model::naming::contains(&[streams[i].name], name) {
            return true;
        }
        i += 1;
    }
    false
}

/// The stream of a `#[stream]` field: where a field that is not an
/// [`MjpegStream`](crate::MjpegStream) is reported.
pub fn stream_of<F: StreamField>(field: &F) -> &crate::model::stream::MjpegStream {
    field.stream()
}

/// What the server needs of an `#[event]` field of type `F`.
pub struct EventParts<F> {
    /// The field's publish point.
    pub topic: fn(&F) -> &crate::broker::Topic,
    /// The schema of its data.
    pub schema: crate::model::schema::SchemaFn,
}

impl<F> std::fmt::Debug for EventParts<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventParts").finish_non_exhaustive()
    }
}

/// The [`EventParts`] of an `#[event]` field: the one place where a field that is not an
/// [`Event`](crate::Event), or whose data has no schema, is reported.
pub const fn event_parts<F: EventField>() -> EventParts<F>
where
    F::Data: JsonSchema,
{
    EventParts {
        topic: <F as EventField>::topic,
        schema: schema::<F::Data>,
    }
}
