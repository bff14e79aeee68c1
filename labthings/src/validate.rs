//! Validation of values that clients send, against the TD data schemas.

use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

use crate::problem::{FieldError, Problem};

/// A compiled data schema, with the affordance name for messages.
pub(crate) struct Validator {
    inner: jsonschema::Validator,
    name: &'static str,
}

impl Validator {
    pub(crate) fn new(schema: &Value, name: &'static str) -> Self {
        let inner = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .build(schema)
            .unwrap_or_else(|e| {
                panic!("the data schema of '{name}' is not a valid JSON Schema: {e}")
            });
        Self { inner, name }
    }

    /// Check a property value.
    pub(crate) fn check_value(&self, value: &Value) -> Result<(), Problem> {
        if self.inner.is_valid(value) {
            return Ok(());
        }
        let errors = self.errors(value);
        let detail = format!(
            "invalid value for property '{}': {}",
            self.name,
            summary(&errors)
        );
        Err(Problem::invalid(detail, errors))
    }

    /// Check an action's input object.
    pub(crate) fn check_arguments(&self, input: &Value) -> Result<(), Problem> {
        if self.inner.is_valid(input) {
            return Ok(());
        }
        if !input.is_object() {
            return Err(Problem::invalid(
                format!(
                    "the input of action '{}' must be an object of its arguments, not {}",
                    self.name,
                    json_kind(input)
                ),
                Vec::new(),
            ));
        }
        let errors = self.errors(input);
        let detail = format!(
            "invalid input for action '{}': {}",
            self.name,
            summary(&errors)
        );
        Err(Problem::invalid(detail, errors))
    }

    fn errors(&self, value: &Value) -> Vec<FieldError> {
        let mut out = Vec::new();
        for error in self.inner.iter_errors(value) {
            let path = error.instance_path().as_str().trim_start_matches('/');
            match error.kind() {
                ValidationErrorKind::Required { property } => {
                    let name = property.as_str().unwrap_or_default();
                    out.push(FieldError {
                        field: join(path, name),
                        detail: format!("missing required argument '{name}'"),
                    });
                }
                ValidationErrorKind::AdditionalProperties { unexpected } => {
                    for name in unexpected {
                        out.push(FieldError {
                            field: join(path, name),
                            detail: format!("unexpected argument '{name}'"),
                        });
                    }
                }
                _ => out.push(FieldError {
                    field: path.to_owned(),
                    detail: error.to_string(),
                }),
            }
        }
        out
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}/{name}")
    }
}

fn summary(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| {
            if e.field.is_empty() || e.detail.contains(&format!("'{}'", e.field)) {
                e.detail.clone()
            } else {
                format!("{}: {}", e.field, e.detail)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// "an object", "a string", ... for messages.
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn constraint_violations_name_the_property_and_the_limit() {
        let v = Validator::new(&json!({"type": "integer", "maximum": 100}), "step");
        assert!(v.check_value(&json!(7)).is_ok());
        let p = v.check_value(&json!(500)).unwrap_err();
        assert_eq!(p.status, 422);
        assert!(
            p.detail.contains("'step'") && p.detail.contains("100"),
            "{}",
            p.detail
        );
        let p = v.check_value(&json!("x")).unwrap_err();
        assert!(p.detail.contains("integer"), "{}", p.detail);
    }

    #[test]
    fn argument_errors_name_each_field() {
        let schema = json!({
            "type": "object",
            "properties": {"n": {"type": "integer"}, "m": {"type": "string"}},
            "required": ["n"],
            "additionalProperties": false
        });
        let v = Validator::new(&schema, "add");
        assert!(v.check_arguments(&json!({"n": 1})).is_ok());
        let p = v.check_arguments(&json!({"zzz": 1, "m": 3})).unwrap_err();
        let mut fields: Vec<_> = p.errors.iter().map(|e| e.field.as_str()).collect();
        fields.sort();
        assert_eq!(fields, ["m", "n", "zzz"]);
        assert!(
            p.detail.contains("missing required argument 'n'"),
            "{}",
            p.detail
        );
        assert!(
            p.detail.contains("unexpected argument 'zzz'"),
            "{}",
            p.detail
        );
        let p = v.check_arguments(&json!([1])).unwrap_err();
        assert!(p.detail.contains("must be an object"), "{}", p.detail);
    }
}
