//! The server configuration file (JSON or TOML).
//!
//! ```toml
//! prefix = "/api/v3"            # optional: serve every route under this path
//! cors = true                    # optional: permissive CORS (default true)
//! retention_time = 300           # optional: seconds finished invocations are kept
//! max_finished_invocations = 1000
//! host = "127.0.0.1"             # optional: overridden by --host
//! port = 5000                    # optional: overridden by --port
//!
//! [things.counter]               # the Thing published at /counter/
//! type = "Counter"               # a Thing type the program registered
//! args = { start = 10 }          # its construction arguments (optional)
//! ```
//!
//! In JSON the same keys apply; `"things": {"counter": "Counter"}` is short for a type without
//! arguments. Every mistake is reported with the file, the key and what is wrong.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

/// A configuration error: the file, the key, and the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The configuration file.
    pub file: PathBuf,
    /// The offending key, dotted (e.g. `things.counter.args`); empty for the whole file.
    pub key: String,
    /// What is wrong.
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.file.display(), self.problem)
        } else {
            write!(
                f,
                "{}: `{}`: {}",
                self.file.display(),
                self.key,
                self.problem
            )
        }
    }
}

impl std::error::Error for ConfigError {}

/// One Thing to create.
#[derive(Debug, Clone, PartialEq)]
pub struct ThingConfig {
    /// The name it is published under.
    pub name: String,
    /// The registered type name.
    pub type_name: String,
    /// Construction arguments (`null` when absent).
    pub args: Value,
}

/// A parsed configuration file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Config {
    /// The Things, in file order.
    pub things: Vec<ThingConfig>,
    /// The route prefix.
    pub prefix: Option<String>,
    /// Permissive CORS.
    pub cors: Option<bool>,
    /// Seconds finished invocations are kept.
    pub retention_time: Option<f64>,
    /// How many finished invocations are kept at most.
    pub max_finished_invocations: Option<usize>,
    /// Address to listen on.
    pub host: Option<IpAddr>,
    /// Port to listen on.
    pub port: Option<u16>,
}

const KEYS: &str =
    "`things`, `prefix`, `cors`, `retention_time`, `max_finished_invocations`, `host`, `port`";

impl Config {
    /// Read and check a configuration file; TOML when its name ends in `.toml`, else JSON.
    pub fn load(file: &Path) -> Result<Self, ConfigError> {
        let err = |key: &str, problem: String| ConfigError {
            file: file.to_owned(),
            key: key.to_owned(),
            problem,
        };
        let text =
            std::fs::read_to_string(file).map_err(|e| err("", format!("cannot be read: {e}")))?;
        let value: Value = if file.extension().is_some_and(|e| e == "toml") {
            let table: toml::Table =
                toml::from_str(&text).map_err(|e| err("", format!("is not valid TOML: {e}")))?;
            serde_json::to_value(table).map_err(|e| err("", e.to_string()))?
        } else {
            serde_json::from_str(&text).map_err(|e| err("", format!("is not valid JSON: {e}")))?
        };
        Self::from_value(value).map_err(|(key, problem)| err(&key, problem))
    }

    /// Check a configuration given as a JSON value. Errors are `(key, problem)`.
    pub fn from_value(value: Value) -> Result<Self, (String, String)> {
        let Value::Object(map) = value else {
            return Err((String::new(), "must be an object (a table)".into()));
        };
        let mut config = Config::default();
        for (key, value) in map {
            let bad = |what: &str| Err((key.clone(), format!("must be {what}, not {value}")));
            match key.as_str() {
                "things" => config.things = things(&value)?,
                "prefix" => match value.as_str() {
                    Some(p) if p.is_empty() || (p.starts_with('/') && !p.ends_with('/')) => {
                        config.prefix = Some(p.to_owned())
                    }
                    _ => return bad("a path like \"/api/v3\" (leading slash, no trailing slash)"),
                },
                "cors" => match value.as_bool() {
                    Some(b) => config.cors = Some(b),
                    None => return bad("true or false"),
                },
                "retention_time" => match value.as_f64() {
                    Some(t) if t >= 0.0 && t.is_finite() => config.retention_time = Some(t),
                    _ => return bad("a number of seconds"),
                },
                "max_finished_invocations" => match value.as_u64() {
                    Some(n) => config.max_finished_invocations = Some(n as usize),
                    None => return bad("a non-negative integer"),
                },
                "host" => match value.as_str().and_then(|h| h.parse().ok()) {
                    Some(h) => config.host = Some(h),
                    None => return bad("an IP address such as \"127.0.0.1\""),
                },
                "port" => match value.as_u64().and_then(|p| u16::try_from(p).ok()) {
                    Some(p) => config.port = Some(p),
                    None => return bad("a port number (0 to 65535)"),
                },
                _ => {
                    return Err((
                        key.clone(),
                        format!("is not a known key; the keys are {KEYS}"),
                    ));
                }
            }
        }
        if config.things.is_empty() {
            return Err(("things".into(), "must name at least one Thing".into()));
        }
        Ok(config)
    }
}

fn things(value: &Value) -> Result<Vec<ThingConfig>, (String, String)> {
    let Value::Object(map) = value else {
        return Err((
            "things".into(),
            "must be a table of Thing names to their type and arguments".into(),
        ));
    };
    map.iter()
        .map(|(name, spec)| {
            let key = format!("things.{name}");
            if name.is_empty()
                || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                || ["things", "thing_descriptions", "action_invocations"].contains(&name.as_str())
            {
                return Err((
                    key,
                    "is not a valid Thing name: use letters, digits, `_` and `-`, and none of `things`, `thing_descriptions`, `action_invocations`".into(),
                ));
            }
            match spec {
                Value::String(type_name) => Ok(ThingConfig {
                    name: name.clone(),
                    type_name: type_name.clone(),
                    args: Value::Null,
                }),
                Value::Object(spec) => thing_spec(name, &key, spec),
                other => Err((key, format!("must be a type name or a table with `type` and `args`, not {other}"))),
            }
        })
        .collect()
}

fn thing_spec(
    name: &str,
    key: &str,
    spec: &Map<String, Value>,
) -> Result<ThingConfig, (String, String)> {
    let mut type_name = None;
    let mut args = Value::Null;
    for (k, v) in spec {
        match (k.as_str(), v) {
            ("type", Value::String(t)) => type_name = Some(t.clone()),
            ("type", other) => {
                return Err((
                    format!("{key}.type"),
                    format!("must be a type name, not {other}"),
                ));
            }
            ("args", v) => args = v.clone(),
            _ => {
                return Err((
                    format!("{key}.{k}"),
                    "is not a known key; a Thing has `type` and `args`".into(),
                ));
            }
        }
    }
    let type_name = type_name.ok_or_else(|| (format!("{key}.type"), "is missing".to_owned()))?;
    Ok(ThingConfig {
        name: name.to_owned(),
        type_name,
        args,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_full_configuration_parses() {
        let c = Config::from_value(json!({
            "things": {"a": "Counter", "b": {"type": "Counter", "args": {"start": 3}}},
            "prefix": "/api", "cors": false, "retention_time": 1.5,
            "max_finished_invocations": 10, "host": "127.0.0.1", "port": 0
        }))
        .unwrap();
        assert_eq!(c.things.len(), 2);
        assert_eq!(c.things[1].args, json!({"start": 3}));
        assert_eq!(c.prefix.as_deref(), Some("/api"));
        assert_eq!((c.cors, c.port), (Some(false), Some(0)));
    }

    #[test]
    fn mistakes_name_the_key() {
        let cases = [
            (
                json!({"things": {"a": "T"}, "prot": 1}),
                "prot",
                "not a known key",
            ),
            (
                json!({"things": {"a": {"args": {}}}}),
                "things.a.type",
                "is missing",
            ),
            (
                json!({"things": {"a": {"type": "T", "arg": 1}}}),
                "things.a.arg",
                "not a known key",
            ),
            (
                json!({"things": {"a b": "T"}}),
                "things.a b",
                "not a valid Thing name",
            ),
            (
                json!({"things": {"a": "T"}, "port": 70000}),
                "port",
                "port number",
            ),
            (
                json!({"things": {"a": "T"}, "prefix": "api/"}),
                "prefix",
                "leading slash",
            ),
            (json!({"things": {}}), "things", "at least one"),
        ];
        for (value, key, problem) in cases {
            let (k, p) = Config::from_value(value.clone()).unwrap_err();
            assert_eq!(k, key, "{value}");
            assert!(p.contains(problem), "{value}: {p}");
        }
    }

    #[test]
    fn files_name_themselves_in_errors() {
        let dir = std::env::temp_dir().join(format!("labthings-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let toml_file = dir.join("lab.toml");
        std::fs::write(
            &toml_file,
            "port = 5001\n[things.c]\ntype = \"Counter\"\nargs = { start = 2 }\n",
        )
        .unwrap();
        let c = Config::load(&toml_file).unwrap();
        assert_eq!(
            (c.port, c.things[0].args.clone()),
            (Some(5001), json!({"start": 2}))
        );
        let bad = dir.join("bad.json");
        std::fs::write(&bad, "{\"things\": 3}").unwrap();
        let e = Config::load(&bad).unwrap_err();
        assert_eq!(e.key, "things");
        assert!(e.to_string().starts_with(&bad.display().to_string()), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
