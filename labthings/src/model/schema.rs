//! The two schemas of every value: the one it is validated against, and its TD data schema.
//!
//! Values that clients send are validated against the JSON Schema that their Rust type
//! declares (schemars' own output: JSON Schema 2020-12, `$ref`s and `$defs` intact, so that
//! `anyOf` stays `anyOf`). The TD shows a rewrite of it: TD data schemas are a subset of JSON
//! Schema — no `$ref`, `$defs` or `$schema`, no `anyOf`, and `type` is a single string — so
//! [`td_schema`] inlines every subschema and rewrites what TD 1.1 does not have. The rewrite
//! is for reading only: `oneOf` is stricter than `anyOf`, and validating against it would
//! reject values (an untagged enum of an integer and a number rejects `5`).
//!
//! Both carry the range of every fixed-size integer ([`integer_ranges`]): schemars writes an
//! `i64` as `{"type": "integer", "format": "int64"}`, and `format` is only an annotation, so
//! without the range a value such as 2^63 would pass validation and then not fit the type.

use schemars::generate::SchemaSettings;
use schemars::{Schema, SchemaGenerator};
use serde_json::{Map, Value};

/// A function that describes a type through a schema generator (`T::json_schema`).
pub(crate) type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

/// The schema that values of a type are validated against: JSON Schema 2020-12 with its
/// `$defs`.
pub(crate) fn validation_schema(describe: SchemaFn) -> Value {
    let mut generator = SchemaSettings::draft2020_12().into_generator();
    let mut value = describe(&mut generator).to_value();
    let definitions = generator.take_definitions(true);
    if let Value::Object(map) = &mut value
        && !definitions.is_empty()
    {
        map.insert("$defs".into(), Value::Object(definitions));
    }
    integer_ranges(&mut value);
    value
}

/// The TD data schema of a type: every subschema inlined, then rewritten for TD 1.1.
pub(crate) fn td_schema(describe: SchemaFn) -> Value {
    let mut settings = SchemaSettings::draft07();
    settings.inline_subschemas = true;
    settings.meta_schema = None;
    let mut value = describe(&mut settings.into_generator()).to_value();
    integer_ranges(&mut value);
    to_data_schema(&mut value);
    value
}

/// Give every integer schema whose `format` names a fixed-size Rust integer the range of that
/// type as `minimum` and `maximum` (where it has none), everywhere in `value`.
pub(crate) fn integer_ranges(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let is_integer = match map.get("type") {
                Some(Value::String(t)) => t == "integer",
                Some(Value::Array(types)) => types.iter().any(|t| t == "integer"),
                _ => false,
            };
            let range = map
                .get("format")
                .and_then(Value::as_str)
                .and_then(integer_range);
            if let (true, Some((min, max))) = (is_integer, range) {
                map.entry("minimum").or_insert(min);
                map.entry("maximum").or_insert(max);
            }
            map.values_mut().for_each(integer_ranges);
        }
        Value::Array(items) => items.iter_mut().for_each(integer_ranges),
        _ => {}
    }
}

/// The range of the Rust integer type that schemars names by `format`.
fn integer_range(format: &str) -> Option<(Value, Value)> {
    let signed = |min: i64, max: i64| Some((min.into(), max.into()));
    let unsigned = |max: u64| Some((0.into(), max.into()));
    match format {
        "int8" => signed(i8::MIN.into(), i8::MAX.into()),
        "int16" => signed(i16::MIN.into(), i16::MAX.into()),
        "int32" => signed(i32::MIN.into(), i32::MAX.into()),
        "int64" => signed(i64::MIN, i64::MAX),
        "int" => signed(isize::MIN as i64, isize::MAX as i64),
        "uint8" => unsigned(u8::MAX.into()),
        "uint16" => unsigned(u16::MAX.into()),
        "uint32" => unsigned(u32::MAX.into()),
        "uint64" => unsigned(u64::MAX),
        "uint" => unsigned(usize::MAX as u64),
        _ => None,
    }
}

/// Rewrite a generated JSON Schema into a TD 1.1 data schema, in place.
///
/// - `$schema`, `$defs`/`definitions` and `$id` are removed;
/// - `anyOf` becomes `oneOf` (TD has no `anyOf`);
/// - a `type` array such as `["integer", "null"]` becomes a `oneOf` of single types;
/// - boolean schemas `true` become `{}`.
pub(crate) fn to_data_schema(value: &mut Value) {
    match value {
        Value::Bool(true) => *value = Value::Object(Map::new()),
        Value::Object(map) => {
            map.remove("$schema");
            map.remove("$defs");
            map.remove("definitions");
            map.remove("$id");
            if let Some(any_of) = map.remove("anyOf") {
                map.insert("oneOf".into(), any_of);
            }
            split_type_array(map);
            for (key, child) in map.iter_mut() {
                match key.as_str() {
                    "properties" => {
                        if let Value::Object(props) = child {
                            props.values_mut().for_each(to_data_schema);
                        }
                    }
                    "items" | "oneOf" | "allOf" => match child {
                        Value::Array(items) => items.iter_mut().for_each(to_data_schema),
                        other => to_data_schema(other),
                    },
                    "additionalProperties" | "not" if child.is_object() => to_data_schema(child),
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

fn split_type_array(map: &mut Map<String, Value>) {
    let Some(Value::Array(types)) = map.get("type") else {
        return;
    };
    let types = types.clone();
    map.remove("type");
    if types.len() == 1 {
        map.insert("type".into(), types[0].clone());
        return;
    }
    // Keywords that only make sense for the non-null branch move into it.
    let mut branches = Vec::with_capacity(types.len());
    for ty in &types {
        let mut branch = Map::new();
        branch.insert("type".into(), ty.clone());
        if ty != "null" {
            for key in TYPED_KEYWORDS {
                if let Some(v) = map.get(*key) {
                    branch.insert((*key).into(), v.clone());
                }
            }
        }
        branches.push(Value::Object(branch));
    }
    for key in TYPED_KEYWORDS {
        map.remove(*key);
    }
    map.insert("oneOf".into(), Value::Array(branches));
}

/// Keywords that constrain one JSON type, moved into its branch when a type array is split.
const TYPED_KEYWORDS: &[&str] = &[
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "items",
    "minItems",
    "maxItems",
    "properties",
    "required",
    "additionalProperties",
    "enum",
];

#[cfg(test)]
mod tests {
    use super::*;
    use schemars::JsonSchema;
    use serde_json::json;

    fn td<T: JsonSchema>() -> Value {
        td_schema(|g| g.subschema_for::<T>())
    }

    fn validation<T: JsonSchema>() -> Value {
        validation_schema(|g| g.subschema_for::<T>())
    }

    #[derive(JsonSchema)]
    #[allow(dead_code)]
    struct Point {
        x: i32,
        y: Option<f64>,
        tags: Vec<Inner>,
    }

    #[derive(JsonSchema)]
    #[allow(dead_code)]
    struct Inner {
        name: String,
    }

    #[test]
    fn nested_types_are_inlined_without_refs() {
        let s = td::<Point>();
        let text = s.to_string();
        assert!(
            !text.contains("$ref") && !text.contains("$schema") && !text.contains("definitions")
        );
        assert_eq!(s["type"], "object");
        assert_eq!(
            s["properties"]["tags"]["items"]["properties"]["name"]["type"],
            "string"
        );
    }

    #[test]
    fn nullable_types_become_one_of() {
        let s = td::<Option<u8>>();
        assert_eq!(
            s["oneOf"],
            json!([{"type": "integer", "format": "uint8", "minimum": 0, "maximum": 255}, {"type": "null"}])
        );
        assert!(s.get("type").is_none());
        let p = td::<Point>();
        assert_eq!(p["properties"]["y"]["oneOf"][1], json!({"type": "null"}));
    }

    #[test]
    fn validation_keeps_refs_and_any_of() {
        let s = validation::<Point>();
        assert_eq!(s["$ref"], "#/$defs/Point", "{s}");
        assert_eq!(
            s["$defs"]["Point"]["properties"]["tags"]["items"]["$ref"],
            "#/$defs/Inner"
        );
        let s = validation::<Option<Point>>();
        assert!(
            s.to_string().contains("anyOf") || s["type"].is_array(),
            "{s}"
        );
    }

    #[test]
    fn scalars_keep_their_type() {
        assert_eq!(td::<i64>()["type"], "integer");
        assert_eq!(td::<String>(), json!({"type": "string"}));
        assert_eq!(td::<bool>(), json!({"type": "boolean"}));
    }

    #[test]
    fn fixed_size_integers_carry_their_range() {
        // Found by the `values` fuzz target: 2^63 + 36028797018963968 passed validation as an
        // `integer` and then did not fit an `i64`.
        let validator = crate::model::validate::Validator::new(&validation::<i64>(), "n");
        assert!(
            validator
                .check_value(&json!(9_259_542_123_540_477_292_u64))
                .is_err()
        );
        assert!(validator.check_value(&json!(i64::MAX)).is_ok());
        assert!(validator.check_value(&json!(i64::MIN)).is_ok());
        assert_eq!(td::<i64>()["maximum"], json!(i64::MAX));
        assert_eq!(td::<u8>()["minimum"], json!(0));
        assert_eq!(td::<u8>()["maximum"], json!(255));
        assert_eq!(td::<u64>()["maximum"], json!(u64::MAX));
        // Nested, behind `$ref`, and nullable.
        let point = validation::<Point>();
        assert_eq!(
            point["$defs"]["Point"]["properties"]["x"]["maximum"],
            json!(i32::MAX)
        );
        assert_eq!(validation::<Option<i16>>()["minimum"], json!(i16::MIN));
        // Not numbers that have no fixed size.
        assert!(td::<f64>().get("maximum").is_none());
    }
}
