//! The gates of a Thing's state, applied when a client writes a property or invokes an
//! action: outside the allowed states, the request is refused (409) and nothing runs.

use crate::model::state::{StateGate, state_text};
use crate::model::table::{ActionDef, PropertyDef};
use crate::problem::{Problem, refusals};

/// Whether clients may write property `def` of `thing` (published as `name`) now.
pub(super) fn writable_now<T>(def: &PropertyDef<T>, thing: &T, name: &str) -> Result<(), Problem> {
    let Some(gate) = &def.allowed_in else {
        return Ok(());
    };
    let what = format!("property '{}' may be written", def.name);
    admit(gate, thing, name, &what)
}

/// Whether clients may invoke action `def` of `thing` (published as `name`) now.
pub(super) fn invocable_now<T>(def: &ActionDef<T>, thing: &T, name: &str) -> Result<(), Problem> {
    let Some(gate) = &def.allowed_in else {
        return Ok(());
    };
    let what = format!("action '{}' may be invoked", def.name);
    admit(gate, thing, name, &what)
}

/// Whether `thing` (published as `name`) is in a state that allows `what` (`"action 'home'
/// may be invoked"`); the refusal naming its state and the allowed ones otherwise.
fn admit<T>(gate: &StateGate<T>, thing: &T, name: &str, what: &str) -> Result<(), Problem> {
    (gate.check)(thing).map_err(|current| {
        let allowed: Vec<String> = (gate.allowed)().iter().map(state_text).collect();
        refusals::wrong_state(name, &state_text(&current), what, &allowed)
    })
}
