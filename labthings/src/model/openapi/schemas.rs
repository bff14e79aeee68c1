//! The `components/schemas` of an OpenAPI document, gathered from the Things' value schemas.
//!
//! A value schema carries its subschemas in `$defs`, referred to as `#/$defs/{Name}`. Inside an
//! OpenAPI document `#` is the document itself, so [`Schemas::hoist`] moves each definition to
//! `#/components/schemas/{scope}.{Name}` and rewrites the references to it.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// The schemas of an OpenAPI document's components.
#[derive(Debug, Default)]
pub(crate) struct Schemas {
    schemas: BTreeMap<String, Value>,
}

impl Schemas {
    /// Add a schema of the document's own (a shared component).
    pub(crate) fn insert(&mut self, name: &str, schema: Value) {
        self.schemas.insert(name.to_owned(), schema);
    }

    /// Move the `$defs` of `schema` into the components, named after `scope`, and return the
    /// schema with its references pointing there (and without `$schema`).
    pub(crate) fn hoist(&mut self, scope: &str, mut schema: Value) -> Value {
        let Value::Object(map) = &mut schema else {
            return schema;
        };
        map.remove("$schema");
        let Some(Value::Object(defs)) = map.remove("$defs") else {
            return schema;
        };
        let renames: BTreeMap<String, String> = defs
            .keys()
            .map(|name| (name.clone(), self.free_name(scope, name)))
            .collect();
        rewrite(&mut schema, &renames);
        for (name, mut def) in defs {
            rewrite(&mut def, &renames);
            self.schemas.insert(renames[&name].clone(), def);
        }
        // A schema that is only a reference to one of its definitions (an action's generated
        // input struct) is that definition, written out where it is used.
        if let Some(Value::String(reference)) = schema.get("$ref")
            && schema.as_object().is_some_and(|map| map.len() == 1)
            && let Some(def) = (reference.strip_prefix("#/components/schemas/"))
                .and_then(|name| self.schemas.get(name))
        {
            return def.clone();
        }
        schema
    }

    /// A component name for definition `name` of `scope` that is not taken yet.
    fn free_name(&self, scope: &str, name: &str) -> String {
        let base: String = format!("{scope}.{name}")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let mut candidate = base.clone();
        let mut n = 2;
        while self.schemas.contains_key(&candidate) {
            candidate = format!("{base}-{n}");
            n += 1;
        }
        candidate
    }

    /// The components, by name.
    pub(crate) fn into_map(self) -> Map<String, Value> {
        self.schemas.into_iter().collect()
    }
}

/// Point every `#/$defs/{name}` reference in `value` at its component.
fn rewrite(value: &mut Value, renames: &BTreeMap<String, String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get_mut("$ref")
                && let Some(name) = reference.strip_prefix("#/$defs/")
            {
                let name = name.replace("~1", "/").replace("~0", "~");
                if let Some(component) = renames.get(&name) {
                    *reference = format!("#/components/schemas/{component}");
                }
            }
            map.values_mut().for_each(|v| rewrite(v, renames));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite(v, renames)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn definitions_move_to_the_components_and_references_follow() {
        let mut schemas = Schemas::default();
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "array",
            "items": {"$ref": "#/$defs/Point"},
            "$defs": {
                "Point": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Point"}}}
            }
        });
        let hoisted = schemas.hoist("stage.path", schema.clone());
        assert_eq!(
            hoisted,
            json!({"type": "array", "items": {"$ref": "#/components/schemas/stage.path.Point"}})
        );
        // A second definition of the same name gets a name of its own.
        let again = schemas.hoist("stage.path", schema);
        assert_eq!(
            again["items"]["$ref"],
            "#/components/schemas/stage.path.Point-2"
        );
        let components = schemas.into_map();
        assert_eq!(
            components["stage.path.Point"]["properties"]["next"]["$ref"],
            "#/components/schemas/stage.path.Point"
        );
        assert_eq!(components.len(), 2);
    }
}
