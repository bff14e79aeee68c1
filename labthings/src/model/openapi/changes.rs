//! What every operation that changes a Thing (a property write, an invocation) shares in
//! the document: its `dryRun` parameter and the answers of a dry run, its `LabThings-Lease`
//! header, and the 423 of a Thing another client has leased.

use serde_json::{Map, Value, json};

use super::{component, json_response, problem};

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
