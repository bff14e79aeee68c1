//! Support for the code that the macros generate. Not a public API: it changes without notice.

use std::fmt::Display;
use std::marker::PhantomData;

pub use schemars;
pub use serde;
pub use serde_json;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::problem::Problem;
use crate::property::Property;
use crate::table::{ActionDef, BoxFuture, Json, PropertyDef};

/// The tables `#[thing]` generates from the struct's fields.
pub trait StructTable: Sized + 'static {
    /// The struct's name.
    const TYPE_NAME: &'static str;
    /// The struct's documentation.
    const DOC: crate::Doc;
    /// Properties stored in fields.
    const PROPERTIES: &'static [PropertyDef<Self>];
}

/// The tables `#[thing]` generates from an impl block.
pub trait ImplTable: Sized + 'static {
    /// Properties with getter and setter methods.
    const PROPERTIES: &'static [PropertyDef<Self>];
    /// Actions.
    const ACTIONS: &'static [ActionDef<Self>];
}

type Methods<T> = (&'static [PropertyDef<T>], &'static [ActionDef<T>]);

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
        (T::PROPERTIES, T::ACTIONS)
    }
}

/// Chosen when the Thing has no `#[thing]` impl block.
pub trait ViaNoImplTable<T> {
    /// Empty tables.
    fn methods(&self) -> Methods<T>;
}

impl<T: 'static> ViaNoImplTable<T> for &Probe<T> {
    fn methods(&self) -> Methods<T> {
        (&[], &[])
    }
}

/// Compile-time check that a type can be a property or action value.
pub const fn assert_value<
    T: Serializable + Deserializable + Describable + Send + Sync + 'static,
>() {
}

/// Compile-time check that a type can be an action output.
pub const fn assert_output<T: Serializable + Describable + Send + 'static>() {}

/// Compile-time check that a type can be an action argument.
pub const fn assert_argument<T: Deserializable + Describable + Send + 'static>() {}

/// Compile-time check of `min_length`, `max_length`.
pub const fn assert_has_length<T: HasLength + ?Sized>() {}

/// Compile-time check of `minimum`, `maximum`, `multiple_of`, ….
pub const fn assert_numeric<T: Numeric + ?Sized>() {}

/// Compile-time check of `pattern`.
pub const fn assert_textual<T: Textual + ?Sized>() {}

/// Types that serialise to JSON.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be serialised to JSON",
    label = "property and action values must implement `serde::Serialize`",
    note = "add `#[derive(serde::Serialize)]` to the definition of `{Self}`"
)]
pub trait Serializable {}
impl<T: Serialize + ?Sized> Serializable for T {}

/// Types that deserialise from JSON.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be deserialised from JSON",
    label = "property values and action arguments must implement `serde::Deserialize`",
    note = "add `#[derive(serde::Deserialize)]` to the definition of `{Self}`"
)]
pub trait Deserializable {}
impl<T: DeserializeOwned> Deserializable for T {}

/// Types with a JSON Schema, for the TD.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be described in the Thing Description",
    label = "property and action values must implement `schemars::JsonSchema`",
    note = "add `#[derive(schemars::JsonSchema)]` to the definition of `{Self}`"
)]
pub trait Describable {}
impl<T: JsonSchema + ?Sized> Describable for T {}

/// Types whose JSON is a string or an array, so that length constraints apply.
#[diagnostic::on_unimplemented(
    message = "length constraints do not apply to `{Self}`",
    label = "`min_length` and `max_length` apply to strings and sequences",
    note = "use `minimum`/`maximum` for numbers, or implement `labthings::constraints::HasLength` for a string-like type"
)]
pub trait HasLength {}

/// Types whose JSON is a number, so that numeric constraints apply.
#[diagnostic::on_unimplemented(
    message = "numeric constraints do not apply to `{Self}`",
    label = "`minimum`, `maximum`, `exclusive_minimum`, `exclusive_maximum` and `multiple_of` apply to numbers",
    note = "use `min_length`/`max_length` for strings and sequences"
)]
pub trait Numeric {}

/// Types whose JSON is a string, so that `pattern` applies.
#[diagnostic::on_unimplemented(
    message = "`pattern` does not apply to `{Self}`",
    label = "`pattern` applies to strings",
    note = "`pattern` constrains string values with a regular expression"
)]
pub trait Textual {}

macro_rules! impl_marker {
    ($trait:ident: $($ty:ty),*) => { $(impl $trait for $ty {})* };
}
impl_marker!(Numeric: i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64);
impl_marker!(HasLength: String, str);
impl_marker!(Textual: String, str);
impl<T> HasLength for Vec<T> {}
impl<T> HasLength for [T] {}
impl<T, const N: usize> HasLength for [T; N] {}
impl<T: HasLength> HasLength for Option<T> {}
impl<T: Numeric> Numeric for Option<T> {}
impl<T: Textual> Textual for Option<T> {}
impl<T: HasLength + ?Sized> HasLength for Box<T> {}
impl<T: Textual + ?Sized> Textual for Box<T> {}

/// The data schema of `T`.
pub fn schema<T: JsonSchema + ?Sized>(generator: &mut SchemaGenerator) -> Schema {
    crate::schema::data_schema_for::<T>(generator)
}

/// The data schema of an action's generated input struct, without its Rust name.
pub fn input_schema<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    let mut schema = generator.subschema_for::<T>();
    schema.remove("title");
    schema
}

/// Serialise a value for a response.
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<Json, Problem> {
    serde_json::value::to_raw_value(value)
        .map_err(|e| Problem::internal(format!("the value could not be serialised: {e}")))
}

/// Deserialise a validated value into its Rust type.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, Problem> {
    serde_json::from_value(value)
        .map_err(|e| Problem::invalid(format!("invalid value: {e}"), Vec::new()))
}

/// Read a stored-field property.
pub fn read_field<T: Serialize, M>(property: &Property<T, M>) -> Result<Json, Problem> {
    property.with(|v| to_json(v))
}

/// Write a stored-field property (publishing the change).
pub fn write_field<T: Serialize + DeserializeOwned, M>(
    property: &Property<T, M>,
    value: Value,
) -> Result<(), Problem> {
    property.set(from_value(value)?);
    Ok(())
}

/// The JSON of a getter's `Result`.
pub fn getter_result<T: Serialize, E: Display>(result: Result<T, E>) -> Result<Json, Problem> {
    match result {
        Ok(value) => to_json(&value),
        Err(error) => Err(Problem::internal(error.to_string())),
    }
}

/// A setter's `Result`.
pub fn setter_result<E: Display>(result: Result<(), E>) -> Result<(), Problem> {
    result.map_err(|e| Problem::internal(e.to_string()))
}

/// An action's `Result` output.
pub fn action_result<T: Serialize, E: Display>(result: Result<T, E>) -> Result<Json, Problem> {
    getter_result(result)
}

/// Run blocking device code on the blocking pool.
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

/// Entry points for the benchmarks of internal message handling.
pub mod bench {
    use serde_json::Value;

    /// Parse a WebSocket client message.
    pub fn parse_ws_message(text: &str) -> Result<serde_json::Map<String, Value>, String> {
        crate::server::ws::parse_message(text)
    }

    /// Format a LabThings `propertyStatus` message (`name`, `value`: JSON).
    pub fn labthings_property_status(name: &str, value: &str) -> String {
        crate::server::ws::property_status(name, value)
    }

    /// Format a Web Thing Protocol notification (`thing_id`, `name`, `value`: JSON).
    pub fn wtp_property_notification(thing_id: &str, name: &str, value: &str) -> String {
        crate::server::ws::property_notification(thing_id, name, value, None)
    }
}
