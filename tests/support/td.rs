//! Validation of Thing Descriptions against the official W3C TD 1.1 JSON Schema, vendored in
//! `tests/wot/` (see its NOTICE).

use std::sync::OnceLock;

use serde_json::Value;

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let text = include_str!("../wot/td-json-schema-validation.json");
        let schema: Value = serde_json::from_str(text).expect("the TD schema is JSON");
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .build(&schema)
            .expect("the TD schema compiles")
    })
}

/// The schema errors of `td`.
pub(crate) fn schema_errors(td: &Value) -> Vec<String> {
    validator()
        .iter_errors(td)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Panic with every schema error of `td`, if any.
pub(crate) fn assert_valid(name: &str, td: &Value) {
    let errors = schema_errors(td);
    assert!(
        errors.is_empty(),
        "the TD of {name} is invalid:\n{}\n{td:#}",
        errors.join("\n")
    );
}
