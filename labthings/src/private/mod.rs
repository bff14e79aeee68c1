//! Support for the code that the macros generate. Not a public API: it changes without notice.

mod output;

use std::marker::PhantomData;

pub use schemars;
pub use serde;
pub use serde_json;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use crate::constraints::{HasLength, Numeric, Textual};
pub use crate::doc::Doc;
pub use crate::event::EventField;
pub use crate::naming::check_affordance;
use crate::problem::Problem;
use crate::property::Property;
pub use crate::slot::{AnyThing, SlotCell, SlotKind};
pub use crate::stream::StreamField;
pub use crate::table::{
    ActionDef, ActionEntry, Affordance, ArgDef, BoxFuture, Constraints, EventDef, Getter, HookFn,
    ImplParts, InvokeFn, Json, Number, PropertyDef, PropertyEntry, Setter, SlotDef, StreamDef,
    StructParts, ThingTable, may_read, may_write,
};
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

/// Entry points for fuzzing the paths that take outside input.
pub mod fuzz {
    pub use crate::server::fuzz::{Values, Ws, config, settings};
}

/// The message broker, for the benchmarks.
pub mod broker {
    pub use crate::broker::{
        Delivery, History, HistoryLimits, Key, Mailbox, MailboxLimits, Note, Published, SharedJson,
        Topic,
    };
}

/// Implemented by `#[thing]` only: [`Thing`](crate::Thing) cannot be implemented by hand.
pub trait Sealed {}

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

/// A stored property, seen without its value type: what the server needs of a
/// `#[property]` field.
pub trait StoredValue: Send + Sync {
    /// The current value as JSON.
    fn read_json(&self) -> Result<Json, Problem>;
    /// Write a value that was validated against the property's schema (and publish it).
    fn write_json(&self, value: Value) -> Result<(), Problem>;
    /// The publish point of its changes.
    fn topic(&self) -> &broker::Topic;
}

impl<T, M> StoredValue for Property<T, M>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    M: 'static,
{
    fn read_json(&self) -> Result<Json, Problem> {
        self.with(|v| to_json(v))
    }

    fn write_json(&self, value: Value) -> Result<(), Problem> {
        self.set(from_value(value)?);
        Ok(())
    }

    fn topic(&self) -> &broker::Topic {
        Property::topic(self)
    }
}

/// Serialise a value for a response.
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<Json, Problem> {
    serde_json::value::to_raw_value(value)
        .map_err(|e| Problem::internal(format!("the value could not be serialised: {e}")))
}

/// Whether `input` deserialises into the input struct `T` (blob arguments are only checked
/// to be links: the blob itself is looked up when the action runs).
pub fn check_input<T: DeserializeOwned>(input: &Value) -> Result<(), Problem> {
    crate::blob::checking(|| {
        T::deserialize(input).map(drop).or_else(|e| {
            let mut input = input.clone();
            match crate::validate::integral_floats_as_integers(&mut input) {
                true => T::deserialize(&input).map(drop),
                false => Err(e),
            }
        })
    })
    .map_err(|e| Problem::invalid(format!("invalid input: {e}"), Vec::new()))
}

/// The input check of an action without arguments: anything validated is fine.
pub fn no_input_to_check(_: &Value) -> Result<(), Problem> {
    Ok(())
}

/// Deserialise a validated value into its Rust type.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, Problem> {
    T::deserialize(&value)
        .or_else(|e| {
            let mut value = value.clone();
            match crate::validate::integral_floats_as_integers(&mut value) {
                true => T::deserialize(value),
                false => Err(e),
            }
        })
        .map_err(|e| Problem::invalid(format!("invalid value: {e}"), Vec::new()))
}

/// Run blocking device code on a blocking thread of the current runtime, capturing its
/// `tracing` events into the running invocation's log.
pub fn blocking<R: Send + 'static>(
    f: impl FnOnce() -> Result<R, Problem> + Send + 'static,
) -> BoxFuture<Result<R, Problem>> {
    Box::pin(async move {
        // Taken when first polled, inside the invocation's scope.
        let invocation = crate::logs::current();
        match tokio::task::spawn_blocking(move || crate::logs::on_thread(invocation, f)).await {
            Ok(result) => result,
            Err(error) => Err(crate::panic::problem_from_join(error)),
        }
    })
}

/// Whether the `#[thing]` struct `T` declares a property or an event called `name`: the
/// compile-time check that an impl block does not reuse a name of the struct.
pub const fn struct_declares<T: StructTable>(name: &str) -> bool {
    let properties = T::PROPERTIES;
    let mut i = 0;
    while i < properties.len() {
        if crate::naming::contains(&[properties[i].name], name) {
            return true;
        }
        i += 1;
    }
    let events = T::EVENTS;
    let mut i = 0;
    while i < events.len() {
        if crate::naming::contains(&[events[i].name], name) {
            return true;
        }
        i += 1;
    }
    let streams = T::STREAMS;
    let mut i = 0;
    while i < streams.len() {
        if crate::naming::contains(&[streams[i].name], name) {
            return true;
        }
        i += 1;
    }
    false
}

/// The stream of a `#[stream]` field: where a field that is not an
/// [`MjpegStream`](crate::MjpegStream) is reported.
pub fn stream_of<F: StreamField>(field: &F) -> &crate::stream::MjpegStream {
    field.stream()
}

/// What the server needs of an `#[event]` field of type `F`.
pub struct EventParts<F> {
    /// The field's publish point.
    pub topic: fn(&F) -> &crate::broker::Topic,
    /// The schema of its data.
    pub schema: crate::schema::SchemaFn,
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

/// Entry points for the benchmarks of internal message handling.
pub mod bench {
    use serde_json::Value;

    /// Parse a WebSocket client message.
    pub fn parse_ws_message(text: &str) -> Result<serde_json::Map<String, Value>, String> {
        crate::server::ws::parse_message(text)
    }

    /// Format a LabThings `propertyStatus` message (`name`, `value`: JSON).
    pub fn labthings_property_status(name: &str, value: &str) -> String {
        crate::server::ws::messages::property_status(name, value)
    }

    /// Format a Web Thing Protocol notification (`thing_id`, `name`, `value`: JSON).
    pub fn wtp_property_notification(thing_id: &str, name: &str, value: &str) -> String {
        use crate::server::ws::messages::{Notification, notification};
        notification(&Notification {
            thing_id,
            message_id: uuid::Uuid::new_v4(),
            operation: "observeproperty",
            name,
            member: "value",
            value,
            at: std::time::SystemTime::now(),
            correlation: None,
        })
    }
}
