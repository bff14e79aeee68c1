//! Device states: the enum a Thing declares with a `#[property(state)]` field, and the gates
//! that let an action run, or a property be written, only in some of its states.

use serde::Serialize;
use serde_json::Value;

/// What `#[thing]` implements for every struct: the type of its states and its current one.
///
/// A struct with a `#[property(state)]` field has that field's type as its states; any other
/// has [`NoStates`], and naming a state in `allowed_in` is then a compile error.
pub trait HasStates {
    /// The enum of the Thing's states.
    type State: Serialize;
    /// Whether the Thing declares its states (a `#[property(state)]` field).
    const DECLARED: bool;
    /// Call `f` with the current state.
    fn with_state<R>(&self, f: impl FnOnce(&Self::State) -> R) -> R;
}

/// The states of a Thing that declares none: there is no variant to name.
#[derive(Debug, Clone, Copy)]
pub enum NoStates {}

impl Serialize for NoStates {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        match *self {}
    }
}

/// The states in which an action may run or a property may be written, as `#[thing]`
/// generates them from `allowed_in(..)`.
pub struct StateGate<T> {
    /// The allowed states, as the wire names them.
    pub allowed: fn() -> Vec<Value>,
    /// Whether the Thing is in one of them now; its current state (as the wire names it)
    /// when it is not.
    pub check: fn(&T) -> Result<(), Value>,
}

impl<T> std::fmt::Debug for StateGate<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateGate")
            .field("allowed", &(self.allowed)())
            .finish_non_exhaustive()
    }
}

impl<T> StateGate<T> {
    /// The allowed states, as the TD lists them (`lt:allowedStates`).
    pub(crate) fn names(&self) -> Value {
        Value::Array((self.allowed)())
    }
}

/// A state as the wire names it (the `state` property's value).
pub fn state_value<S: Serialize>(state: &S) -> Value {
    serde_json::to_value(state).unwrap_or(Value::Null)
}

/// The text of a state in a refusal: a string as is, anything else as JSON.
pub(crate) fn state_text(state: &Value) -> String {
    match state {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Give a state property's schema the `enum` of its states' names, when its enum is
/// documented variant by variant (a `oneOf` of `const` strings): consumers that offer a
/// choice read `enum`; the `oneOf` keeps each state's description.
pub(crate) fn name_states(schema: &mut Value) {
    let Some(Value::Array(variants)) = schema.get("oneOf") else {
        return;
    };
    let names: Option<Vec<Value>> = (variants.iter())
        .map(|v| v.get("const").filter(|c| c.is_string()).cloned())
        .collect();
    if let (Some(names), Value::Object(map)) = (names, schema) {
        map.insert("type".into(), "string".into());
        map.insert("enum".into(), names.into());
    }
}
