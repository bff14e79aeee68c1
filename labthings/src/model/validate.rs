//! Validation of values that clients send, against the schemas their types declare, with
//! messages that say what was expected.

use jsonschema::ValidationError;
use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;

use crate::problem::{FieldError, Problem};

/// A compiled schema, with the affordance name for messages.
pub(crate) struct Validator {
    inner: jsonschema::Validator,
    name: &'static str,
}

impl Validator {
    /// Compile a JSON Schema 2020-12 schema (see [`crate::model::schema::validation_schema`]).
    ///
    /// # Panics
    /// If the schema is invalid: a bug in a `JsonSchema` implementation, found when the
    /// Thing's table is first built.
    pub(crate) fn new(schema: &Value, name: &'static str) -> Self {
        let inner = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(schema)
            .unwrap_or_else(|e| panic!("the schema of '{name}' is not a valid JSON Schema: {e}"));
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
                    detail: describe(&error),
                }),
            }
        }
        out
    }
}

/// What went wrong, in terms of what was expected.
fn describe(error: &ValidationError<'_>) -> String {
    let got = error.instance();
    match error.kind() {
        ValidationErrorKind::Enum { options } => {
            format!("expected one of {}, not {got}", list(options_of(options)))
        }
        ValidationErrorKind::Constant { expected_value } => {
            format!("expected {expected_value}, not {got}")
        }
        ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } => {
            let here = error.instance_path();
            let expected: Vec<String> = context
                .iter()
                .map(|branch| expectation(branch, here.as_str()))
                .collect();
            format!("expected {}, not {got}", alternatives(&expected))
        }
        ValidationErrorKind::Type { kind } => format!("expected {}, not {got}", type_name(kind)),
        _ => error.to_string(),
    }
}

/// What one branch of a `oneOf`/`anyOf` expected, from the errors it reported.
fn expectation(branch: &[ValidationError<'static>], at: &str) -> String {
    let root: Vec<_> = branch
        .iter()
        .filter(|e| e.instance_path().as_str() == at)
        .collect();
    for error in &root {
        match error.kind() {
            ValidationErrorKind::Constant { expected_value } => return expected_value.to_string(),
            ValidationErrorKind::Enum { options } => {
                return alternatives(&options_of(options).collect::<Vec<_>>());
            }
            _ => {}
        }
    }
    if let Some(kind) = root.iter().find_map(|e| match e.kind() {
        ValidationErrorKind::Type { kind } => Some(kind),
        _ => None,
    }) {
        return type_name(kind);
    }
    match branch.first() {
        Some(error) => {
            let path = error.instance_path().as_str();
            let inner = path
                .strip_prefix(at)
                .unwrap_or(path)
                .trim_start_matches('/');
            if inner.is_empty() {
                describe(error)
            } else {
                format!("a value whose '{inner}' is valid ({})", describe(error))
            }
        }
        None => "another value".to_owned(),
    }
}

fn options_of(options: &Value) -> impl Iterator<Item = String> + '_ {
    options
        .as_array()
        .into_iter()
        .flatten()
        .map(Value::to_string)
}

fn list(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

/// "a, b or c".
fn alternatives(items: &[String]) -> String {
    match items {
        [] => "nothing".to_owned(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

fn type_name(kind: &TypeKind) -> String {
    let article = |t: String| {
        if t == "null" {
            return t;
        }
        let an = t.starts_with(['a', 'e', 'i', 'o', 'u']);
        format!("{} {t}", if an { "an" } else { "a" })
    };
    match kind {
        TypeKind::Single(t) => article(t.to_string()),
        TypeKind::Multiple(set) => {
            let names: Vec<String> = set.iter().map(|t| article(t.to_string())).collect();
            alternatives(&names)
        }
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

/// Rewrite every number of `value` that has no fractional part but is written as a float
/// (`5.0`, `6.4e18`) as an integer, where an `i64` or `u64` holds it exactly; returns whether
/// anything changed.
///
/// JSON Schema counts `5.0` as an integer, and validation accepts it for an integer type;
/// serde does not deserialise a float into an integer. Values that fail to deserialise as
/// sent are retried once rewritten, so that what validation accepts, the type takes.
pub(crate) fn integral_floats_as_integers(value: &mut Value) -> bool {
    match value {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            // Both bounds are powers of two, exact as f64, and exclusive: -2^63 as a float is
            // what an integer literal below the `i64` range rounds to (one within it is parsed
            // as an integer, never a float), so it is taken for what it was, out of range.
            let integer = if f.fract() != 0.0 {
                None
            } else if f > -9_223_372_036_854_775_808.0 && f < 9_223_372_036_854_775_808.0 {
                Some(Value::from(f as i64))
            } else if (0.0..18_446_744_073_709_551_616.0).contains(&f) {
                Some(Value::from(f as u64))
            } else {
                None
            };
            integer.map(|integer| *value = integer).is_some()
        }
        Value::Array(items) => items.iter_mut().fold(false, |changed, item| {
            integral_floats_as_integers(item) | changed
        }),
        Value::Object(map) => map.values_mut().fold(false, |changed, item| {
            integral_floats_as_integers(item) | changed
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integers_past_the_i64_range_are_not_rounded_into_it() {
        // Parsed as a float, -2^63 exactly: the literal is below `i64::MIN`.
        let mut below: Value = serde_json::from_str("-9223372036854775809").unwrap();
        assert!(!integral_floats_as_integers(&mut below));
        let mut min: Value = serde_json::from_str("-9223372036854775808").unwrap();
        assert!(!integral_floats_as_integers(&mut min), "already an integer");
        assert_eq!(min.as_i64(), Some(i64::MIN));
        let mut exact = json!(6.4e18);
        assert!(integral_floats_as_integers(&mut exact));
        assert_eq!(exact.as_i64(), Some(6_400_000_000_000_000_000));
    }

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
        assert!(p.detail.contains("expected an integer"), "{}", p.detail);
    }

    #[test]
    fn enumerations_list_the_allowed_values() {
        let v = Validator::new(
            &json!({"oneOf": [{"const": "off"}, {"const": "on", "description": "lit"}]}),
            "mode",
        );
        let p = v.check_value(&json!("dim")).unwrap_err();
        assert!(
            p.detail.ends_with(r#"expected "off" or "on", not "dim""#),
            "{}",
            p.detail
        );
        let v = Validator::new(&json!({"type": "string", "enum": ["a", "b"]}), "m");
        let p = v.check_value(&json!("c")).unwrap_err();
        assert!(
            p.detail.contains(r#"expected one of "a", "b""#),
            "{}",
            p.detail
        );
        let v = Validator::new(
            &json!({"oneOf": [{"type": "string", "enum": ["Off"]}, {"type": "object"}]}),
            "mode",
        );
        let p = v.check_value(&json!(3)).unwrap_err();
        assert!(
            p.detail.contains(r#"expected "Off" or an object, not 3"#),
            "{}",
            p.detail
        );
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
