//! A stored property seen without its value type: what the runtime needs of a `#[property]`
//! field.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::broker::Topic;
use crate::model::property::Property;
use crate::model::table::Json;
use crate::problem::Problem;

/// A stored property, seen without its value type: what the server needs of a
/// `#[property]` field.
#[doc(hidden)]
pub trait StoredValue: Send + Sync {
    /// The current value as JSON.
    fn read_json(&self) -> Result<Json, Problem>;
    /// Write a value that was validated against the property's schema (and publish it).
    fn write_json(&self, value: Value) -> Result<(), Problem>;
    /// The publish point of its changes.
    fn topic(&self) -> &Topic;
}

impl<T, M> StoredValue for Property<T, M>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    M: 'static,
{
    fn read_json(&self) -> Result<Json, Problem> {
        self.with(|v| crate::model::values::to_json(v))
    }

    fn write_json(&self, value: Value) -> Result<(), Problem> {
        self.set(crate::model::values::from_value(value)?);
        Ok(())
    }

    fn topic(&self) -> &Topic {
        Property::topic(self)
    }
}
