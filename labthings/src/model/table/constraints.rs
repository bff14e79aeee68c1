//! The value constraints of properties and arguments: JSON Schema validation keywords.

use serde_json::Value;

/// A numeric constraint bound, kept integer when written as an integer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    /// An integer literal.
    Int(i64),
    /// A floating-point literal.
    Float(f64),
}

impl From<Number> for Value {
    fn from(n: Number) -> Value {
        match n {
            Number::Int(i) => Value::from(i),
            Number::Float(f) => Value::from(f),
        }
    }
}

/// The value constraints of a property (JSON Schema validation keywords).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Constraints {
    /// `minimum`
    pub minimum: Option<Number>,
    /// `maximum`
    pub maximum: Option<Number>,
    /// `exclusiveMinimum`
    pub exclusive_minimum: Option<Number>,
    /// `exclusiveMaximum`
    pub exclusive_maximum: Option<Number>,
    /// `multipleOf`
    pub multiple_of: Option<Number>,
    /// `minLength` (strings) or `minItems` (arrays)
    pub min_length: Option<u64>,
    /// `maxLength` (strings) or `maxItems` (arrays)
    pub max_length: Option<u64>,
    /// `pattern` (a regular expression)
    pub pattern: Option<&'static str>,
}

impl Constraints {
    /// No constraints.
    pub const NONE: Self = Self {
        minimum: None,
        maximum: None,
        exclusive_minimum: None,
        exclusive_maximum: None,
        multiple_of: None,
        min_length: None,
        max_length: None,
        pattern: None,
    };

    /// Add the constraints to a schema.
    pub(super) fn apply(&self, schema: &mut serde_json::Map<String, Value>) {
        let is_array = match schema.get("type") {
            Some(Value::Array(types)) => types.iter().any(|t| t == "array"),
            Some(t) => t == "array",
            None => false,
        };
        let (min_len, max_len) = if is_array {
            ("minItems", "maxItems")
        } else {
            ("minLength", "maxLength")
        };
        let numbers = [
            ("minimum", self.minimum),
            ("maximum", self.maximum),
            ("exclusiveMinimum", self.exclusive_minimum),
            ("exclusiveMaximum", self.exclusive_maximum),
            ("multipleOf", self.multiple_of),
        ];
        for (key, n) in numbers {
            if let Some(n) = n {
                schema.insert(key.into(), n.into());
            }
        }
        if let Some(n) = self.min_length {
            schema.insert(min_len.into(), n.into());
        }
        if let Some(n) = self.max_length {
            schema.insert(max_len.into(), n.into());
        }
        if let Some(p) = self.pattern {
            schema.insert("pattern".into(), p.into());
        }
    }
}
