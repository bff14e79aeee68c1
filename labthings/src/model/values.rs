//! Values in and out of their Rust types: serialised for a response, deserialised once
//! validated.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::model::table::Json;
use crate::problem::Problem;

/// Serialise a value for a response.
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<Json, Problem> {
    serde_json::value::to_raw_value(value)
        .map_err(|e| Problem::internal(format!("the value could not be serialised: {e}")))
}

/// Whether `input` deserialises into the input struct `T` (blob arguments are only checked
/// to be links: the blob itself is looked up when the action runs).
pub fn check_input<T: DeserializeOwned>(input: &Value) -> Result<(), Problem> {
    deserialises::<T>(input)
        .map_err(|e| Problem::invalid(format!("invalid input: {e}"), Vec::new()))
}

/// Whether a property `value` deserialises into the property's type `T`: checked before a
/// write (or its dry run), so that a value the schema accepts but the type cannot hold (an
/// integer beyond `i64`, say) is refused before anything is written.
pub fn check_value<T: DeserializeOwned>(value: &Value) -> Result<(), Problem> {
    deserialises::<T>(value)
        .map_err(|e| Problem::invalid(format!("invalid value: {e}"), Vec::new()))
}

/// The one deserialisation rule of [`check_input`], [`check_value`] and [`from_value`]:
/// as given, else with integral floats read as integers.
fn deserialises<T: DeserializeOwned>(value: &Value) -> Result<(), serde_json::Error> {
    crate::model::blob::checking(|| {
        T::deserialize(value).map(drop).or_else(|e| {
            let mut value = value.clone();
            match crate::model::validate::integral_floats_as_integers(&mut value) {
                true => T::deserialize(&value).map(drop),
                false => Err(e),
            }
        })
    })
}

/// The check of an action without arguments, or of a property no one writes: anything
/// validated is fine.
pub fn no_input_to_check(_: &Value) -> Result<(), Problem> {
    Ok(())
}

/// Deserialise a validated value into its Rust type.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, Problem> {
    T::deserialize(&value)
        .or_else(|e| {
            let mut value = value.clone();
            match crate::model::validate::integral_floats_as_integers(&mut value) {
                true => T::deserialize(value),
                false => Err(e),
            }
        })
        .map_err(|e| Problem::invalid(format!("invalid value: {e}"), Vec::new()))
}
