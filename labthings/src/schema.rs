//! The two schemas of every value: the one it is validated against, and its TD data schema.
//!
//! Values that clients send are validated against the JSON Schema that their Rust type
//! declares (schemars' own output: JSON Schema 2020-12, `$ref`s and `$defs` intact, so that
//! `anyOf` stays `anyOf`). The TD shows a rewrite of it: TD data schemas are a subset of JSON
//! Schema — no `$ref`, `$defs` or `$schema`, no `anyOf`, and `type` is a single string — so
//! [`td_schema`] inlines every subschema and rewrites what TD 1.1 does not have. The rewrite
//! is for reading only: `oneOf` is stricter than `anyOf`, and validating against it would
//! reject values (an untagged enum of an integer and a number rejects `5`).

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
    value
}

/// The TD data schema of a type: every subschema inlined, then rewritten for TD 1.1.
pub(crate) fn td_schema(describe: SchemaFn) -> Value {
    let mut settings = SchemaSettings::draft07();
    settings.inline_subschemas = true;
    settings.meta_schema = None;
    let mut value = describe(&mut settings.into_generator()).to_value();
    to_data_schema(&mut value);
    value
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
}
