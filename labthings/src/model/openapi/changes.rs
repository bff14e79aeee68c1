//! What every operation that changes a Thing (a property write, an invocation) shares in
//! the document: its `dryRun` parameter and the answers of a dry run, its `LabThings-Lease`
//! header, and the 423 of a Thing another client has leased.

use serde_json::{Map, Value, json};

use super::{component, json_response, problem};

/// Add to `responses` the 409 of a `LabThings-Lease` that names no lease held, to the other
/// conflicts of the operation if it has some.
pub(super) fn lease_not_held(responses: &mut Map<String, Value>) {
    const NOT_HELD: &str = "the `LabThings-Lease` header names a lease that is not held (it expired, or was released or broken)";
    match responses.get_mut("409") {
        Some(conflict) => {
            let before = conflict["description"].as_str().unwrap_or("Refused.");
            let merged = format!("{}, or {NOT_HELD}.", before.trim_end_matches('.'));
            conflict["description"] = merged.into();
        }
        None => {
            responses.insert("409".into(), problem(&format!("Refused: {NOT_HELD}.")));
        }
    }
}

/// Add the parameters and the refusal that every write and invocation has to `op` and its
/// `responses`.
pub(super) fn changing(op: &mut Map<String, Value>, responses: &mut Map<String, Value>) {
    op.insert(
        "parameters".into(),
        json!([
            component::parameter(component::DRY_RUN),
            component::parameter(component::LEASE)
        ]),
    );
    responses.insert(
        "423".into(),
        problem("Another client holds a lease on the Thing: writes and invocations need it."),
    );
}

/// The 200 of a dry-run write of property `name` whose values are `value`.
pub(super) fn would_write(name: &str, value: Value) -> Value {
    let schema = json!({
        "type": "object",
        "required": ["dryRun", "name", "value"],
        "properties": {"dryRun": {"const": true}, "name": {"const": name}, "value": value}
    });
    json_response(
        "A dry run: the write would be taken; nothing was written.",
        schema,
    )
}

/// The 200 of a dry-run invocation of action `name` whose input is `input` (none: `null`).
pub(super) fn would_invoke(name: &str, input: Option<Value>) -> Value {
    let input = input.unwrap_or_else(|| json!({"type": ["null", "object"], "maxProperties": 0}));
    let schema = json!({
        "type": "object",
        "required": ["dryRun", "name", "input", "outcome"],
        "properties": {
            "dryRun": {"const": true},
            "name": {"const": name},
            "input": input,
            "outcome": {"enum": ["run", "wait", "preempt"], "description": "It would run now, wait its turn (at `position`), or cancel the invocations of `cancels` and run next."},
            "position": {"type": "integer", "minimum": 1},
            "cancels": {"type": "array", "items": {"type": "string"}}
        }
    });
    json_response(
        "A dry run: the invocation would be accepted; nothing ran and no invocation was created.",
        schema,
    )
}
