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
    crate::model::blob::checking(|| {
        T::deserialize(input).map(drop).or_else(|e| {
            let mut input = input.clone();
            match crate::model::validate::integral_floats_as_integers(&mut input) {
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
            match crate::model::validate::integral_floats_as_integers(&mut value) {
                true => T::deserialize(value),
                false => Err(e),
            }
        })
        .map_err(|e| Problem::invalid(format!("invalid value: {e}"), Vec::new()))
}
