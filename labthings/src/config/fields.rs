//! The fields of a configuration file that need more than their type: times, origins, URIs,
//! tokens, and the table of Things; and the key an error is about.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use super::ThingConfig;

pub(super) fn token<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let token = String::deserialize(deserializer)?;
    crate::tokens::check_token(&token).map_err(de::Error::custom)?;
    Ok(token)
}

/// A token's subject, checked as [`crate::tokens::check_subject`] does.
pub(super) fn subject<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    let subject = String::deserialize(deserializer)?;
    crate::tokens::check_subject(&subject).map_err(de::Error::custom)?;
    Ok(Some(subject))
}

/// The key and problem of a deserialisation error: an unknown key is named itself.
pub(super) fn located(path: String, message: String) -> (String, String) {
    let path = if path == "." { String::new() } else { path };
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((field, expected)) = rest.split_once('`')
    {
        let key = if path.is_empty() {
            field.to_owned()
        } else if path == field || path.ends_with(&format!(".{field}")) {
            path
        } else {
            format!("{path}.{field}")
        };
        let expected = expected.trim_start_matches(", expected ");
        return (key, format!("is not a known key; expected {expected}"));
    }
    // An error that the TOML parser locates in the text carries its position already.
    (path, message.trim_end().to_owned())
}

pub(super) fn prefix<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    let p = String::deserialize(deserializer)?;
    if p.is_empty() || (p.starts_with('/') && !p.ends_with('/')) {
        Ok(Some(p))
    } else {
        Err(de::Error::custom(format!(
            "must be a path like \"/api/v3\" (leading slash, no trailing slash), not {p:?}"
        )))
    }
}

/// The longest time a configuration may give: a year.
const MAX_SECONDS: f64 = 365.0 * 24.0 * 3600.0;

pub(super) fn seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    let t = f64::deserialize(deserializer)?;
    if (0.0..=MAX_SECONDS).contains(&t) {
        Ok(Some(t))
    } else {
        Err(de::Error::custom(format!(
            "must be a number of seconds from 0 to {MAX_SECONDS} (a year), not {t}"
        )))
    }
}

/// A timeout: more than no time at all.
pub(super) fn timeout<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    let t = f64::deserialize(deserializer)?;
    if t > 0.0 && t <= MAX_SECONDS {
        Ok(Some(t))
    } else {
        Err(de::Error::custom(format!(
            "must be a number of seconds above 0 and at most {MAX_SECONDS} (a year), not {t}"
        )))
    }
}

/// `cors_origins`: origins as browsers write them, `scheme://host[:port]`. `*` is refused:
/// it would let any web page drive the hardware.
pub(super) fn origins<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    let origins = Vec::<String>::deserialize(deserializer)?;
    for origin in &origins {
        if origin == "*" {
            return Err(de::Error::custom(
                "may not be \"*\": any web page could then drive the hardware; list the origins of the pages that may",
            ));
        }
        let well_formed = origin.split_once("://").is_some_and(|(scheme, rest)| {
            matches!(scheme, "http" | "https") && !rest.is_empty() && !rest.contains('/')
        });
        if !well_formed {
            return Err(de::Error::custom(format!(
                "{origin:?} is not an origin: write it as browsers do, \"https://host[:port]\", without a path or a trailing slash"
            )));
        }
    }
    Ok(origins)
}

/// `things`: a table of Thing names to a type name, or to `type` and `args`, in file order.
pub(super) fn things<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<ThingConfig>, D::Error> {
    struct Things;
    impl<'de> Visitor<'de> for Things {
        type Value = Vec<ThingConfig>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a table of Thing names to their type and arguments")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out: Vec<ThingConfig> = Vec::new();
            while let Some(name) = map.next_key::<String>()? {
                let spec: ThingSpec = map.next_value()?;
                if let Err(problem) = crate::model::naming::check_thing(&name) {
                    return Err(de::Error::custom(problem));
                }
                out.push(ThingConfig {
                    name,
                    type_name: spec.type_name,
                    args: spec.args,
                    slots: spec.slots,
                    id: spec.id,
                });
            }
            if out.is_empty() {
                return Err(de::Error::custom("must name at least one Thing"));
            }
            Ok(out)
        }
    }
    deserializer.deserialize_map(Things)
}

/// One Thing's entry: a type name, or a table with `type`, `args` and `slots`.
struct ThingSpec {
    type_name: String,
    args: Value,
    slots: Vec<(String, Vec<String>)>,
    id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThingTable {
    #[serde(rename = "type")]
    type_name: String,
    #[serde(default)]
    args: Value,
    #[serde(default)]
    slots: serde_json::Map<String, Value>,
    #[serde(default, deserialize_with = "uri")]
    id: Option<String>,
}

/// A TD `id`: a URI (`scheme:rest`).
pub(super) fn uri<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let id = String::deserialize(deserializer)?;
    let scheme_ok = id.split_once(':').is_some_and(|(scheme, rest)| {
        !rest.is_empty()
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    if scheme_ok && !id.contains(char::is_whitespace) {
        Ok(Some(id))
    } else {
        Err(de::Error::custom(format!(
            "must be a URI such as \"urn:lab:microscope-7:stage\", not {id:?}"
        )))
    }
}

/// A slot's targets: a Thing name, a list of them, or `[]`/null for none.
fn slot_targets<E: de::Error>(slot: &str, value: Value) -> Result<Vec<String>, E> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::String(name) => Ok(vec![name]),
        Value::Array(names) => names
            .into_iter()
            .map(|n| match n {
                Value::String(name) => Ok(name),
                other => Err(E::custom(format!(
                    "slot `{slot}`: a Thing name is a string, not {other}"
                ))),
            })
            .collect(),
        other => Err(E::custom(format!(
            "slot `{slot}` names a Thing, a list of Things, or none (`[]`), not {other}"
        ))),
    }
}

impl<'de> Deserialize<'de> for ThingSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Spec;
        impl<'de> Visitor<'de> for Spec {
            type Value = ThingSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Thing type name, or a table with `type` and `args`")
            }
            fn visit_str<E: de::Error>(self, type_name: &str) -> Result<ThingSpec, E> {
                Ok(ThingSpec {
                    type_name: type_name.to_owned(),
                    args: Value::Null,
                    slots: Vec::new(),
                    id: None,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ThingSpec, A::Error> {
                let table = ThingTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
                let slots = table
                    .slots
                    .into_iter()
                    .map(|(slot, value)| Ok((slot.clone(), slot_targets(&slot, value)?)))
                    .collect::<Result<_, A::Error>>()?;
                Ok(ThingSpec {
                    type_name: table.type_name,
                    args: table.args,
                    slots,
                    id: table.id,
                })
            }
        }
        deserializer.deserialize_any(Spec)
    }
}
