//! The server configuration file (JSON or TOML).
//!
//! ```toml
//! prefix = "/api/v3"            # optional: serve every route under this path
//! retention_time = 300           # optional: seconds finished invocations are kept
//! max_finished_invocations = 1000
//! host = "127.0.0.1"             # optional: overridden by --host
//! port = 5000                    # optional: overridden by --port
//!
//! # Security (see the README): who may use the server.
//! cors_origins = ["https://dashboard.lab.example"]  # pages allowed besides the server's own
//! allowed_hosts = ["microscope.lab.example"]        # names it answers to besides its addresses
//! token_file = "tokens.txt"      # `observe TOKEN` / `operate TOKEN` lines; or inline:
//! tokens = [{ scope = "operate", token = "a-long-random-string-0123" }]
//! tls = { cert = "cert.pem", key = "key.pem" }      # serve HTTPS and wss://
//! device_threads = 2             # worker threads of the runtime that runs device code
//! settings_dir = "settings"      # where settings are kept: {settings_dir}/{thing}.json
//! server_id = "microscope-7"     # TD ids are urn:labthings:{server_id}:{thing} (default: host name)
//!
//! [limits]                       # any of the fields of `labthings::Limits`; times in seconds
//! max_body = 1048576
//! header_timeout = 10
//! history = 1024                 # notifications each Thing keeps for clients that resume
//!
//! [things.counter]               # the Thing published at /counter/
//! type = "Counter"               # a Thing type the program registered
//! args = { start = 10 }          # its construction arguments (optional)
//! slots = { stage = "stage_left" }  # the Things its slots name (optional)
//! id = "urn:lab:counter-1"       # its TD id (optional)
//! ```
//!
//! In JSON the same keys apply; `"things": {"counter": "Counter"}` is short for a type without
//! arguments. Relative paths are relative to the configuration file. Every mistake is
//! reported with the file, the key and what is wrong; unknown keys are mistakes too. Tokens
//! are never printed.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::Value;

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
    /// The Things its slots name (slot name to Thing names).
    pub slots: Vec<(String, Vec<String>)>,
    /// Its TD `id`, if given (otherwise `urn:labthings:{server_id}:{name}`).
    pub id: Option<String>,
}

/// A parsed configuration file.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The Things, in file order.
    #[serde(deserialize_with = "things")]
    pub things: Vec<ThingConfig>,
    /// The route prefix.
    #[serde(default, deserialize_with = "prefix")]
    pub prefix: Option<String>,
    /// Origins whose pages may use the server besides its own.
    #[serde(default, deserialize_with = "origins")]
    pub cors_origins: Vec<String>,
    /// Host names the server answers to besides its own addresses.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// Bearer tokens and their scopes.
    #[serde(default)]
    pub tokens: Vec<TokenConfig>,
    /// A file of `scope token` lines.
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// The certificate and key to serve HTTPS with.
    #[serde(default)]
    pub tls: Option<TlsConfig>,
    /// Limits of requests, connections and invocations (unset ones keep their default).
    #[serde(default)]
    pub limits: LimitsConfig,
    /// Worker threads of the runtime that runs device code.
    #[serde(default)]
    pub device_threads: Option<usize>,
    /// Names the server in its Things' TD `id`s (default: the host name).
    #[serde(default)]
    pub server_id: Option<String>,
    /// Where settings are kept (default `./settings`).
    #[serde(default)]
    pub settings_dir: Option<PathBuf>,
    /// Seconds finished invocations are kept.
    #[serde(default, deserialize_with = "seconds")]
    pub retention_time: Option<f64>,
    /// How many finished invocations are kept at most.
    #[serde(default)]
    pub max_finished_invocations: Option<usize>,
    /// Address to listen on.
    #[serde(default)]
    pub host: Option<IpAddr>,
    /// Port to listen on.
    #[serde(default)]
    pub port: Option<u16>,
    /// Publish the Things through an MQTT broker too.
    #[serde(default)]
    pub mqtt: Option<MqttConfig>,
    /// Advertise the server over DNS-SD (default: when served on a non-loopback address).
    #[serde(default)]
    pub advertise: Option<bool>,
}

/// The `[mqtt]` table: the MQTT binding (see [`Mqtt`](crate::Mqtt)).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttConfig {
    /// `mqtt://host[:port]` or `mqtts://host[:port]`.
    pub broker: String,
    /// The client identifier (default `labthings-{server id}-{process id}`).
    #[serde(default)]
    pub client_id: Option<String>,
    /// A file with the user name on its first line and the password on its second.
    #[serde(default)]
    pub credentials_file: Option<PathBuf>,
    /// The topic prefix (default `labthings`).
    #[serde(default)]
    pub prefix: Option<String>,
    /// 0, 1 (default) or 2.
    #[serde(default)]
    pub qos: Option<u8>,
    /// The root certificate(s) (PEM) to trust for an `mqtts://` broker.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Whether writes and invocations are taken from the broker (default `true`).
    #[serde(default)]
    pub accept_requests: Option<bool>,
    /// Property changes queued for the broker before they are coalesced.
    #[serde(default)]
    pub queue: Option<usize>,
}

impl MqttConfig {
    /// The binding this table configures (reading the files it names).
    pub fn to_mqtt(&self) -> Result<crate::Mqtt, crate::MqttError> {
        let mut mqtt = crate::Mqtt::new(&self.broker)?;
        if let Some(id) = &self.client_id {
            mqtt = mqtt.client_id(id);
        }
        if let Some(file) = &self.credentials_file {
            mqtt = mqtt.credentials_file(file)?;
        }
        if let Some(prefix) = &self.prefix {
            mqtt = mqtt.prefix(prefix)?;
        }
        if let Some(qos) = self.qos {
            mqtt = mqtt.qos(qos)?;
        }
        if let Some(file) = &self.ca_file {
            let pem = std::fs::read(file).map_err(|e| {
                crate::MqttError::new(format!(
                    "the CA file {} cannot be read: {e}",
                    file.display()
                ))
            })?;
            mqtt = mqtt.root_certificate_pem(&pem)?;
        }
        if let Some(accept) = self.accept_requests {
            mqtt = mqtt.accept_requests(accept);
        }
        if let Some(queue) = self.queue {
            mqtt = mqtt.queue(queue);
        }
        Ok(mqtt)
    }
}

/// One bearer token.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// What it allows.
    pub scope: crate::Scope,
    /// The token.
    #[serde(deserialize_with = "token")]
    pub token: String,
}

impl fmt::Debug for TokenConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenConfig")
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// TLS files.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// The certificate chain (PEM).
    pub cert: PathBuf,
    /// The private key (PEM).
    pub key: PathBuf,
}

/// The `limits` table: any field of [`Limits`](crate::Limits), times in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct LimitsConfig {
    pub max_body: Option<usize>,
    pub max_blob: Option<u64>,
    #[serde(default, deserialize_with = "timeout")]
    pub header_timeout: Option<f64>,
    #[serde(default, deserialize_with = "timeout")]
    pub body_timeout: Option<f64>,
    #[serde(default, deserialize_with = "timeout")]
    pub tls_handshake_timeout: Option<f64>,
    pub max_websockets: Option<usize>,
    pub max_running_invocations: Option<usize>,
    pub max_running_per_action: Option<usize>,
    pub page: Option<usize>,
    pub max_page: Option<usize>,
    #[serde(default, deserialize_with = "seconds")]
    pub shutdown_deadline: Option<f64>,
    pub max_event_streams: Option<usize>,
    pub history: Option<usize>,
    pub history_bytes: Option<usize>,
    #[serde(default, deserialize_with = "seconds")]
    pub history_age: Option<f64>,
}

impl LimitsConfig {
    /// `limits` with the fields this sets.
    pub fn apply(&self, mut limits: crate::Limits) -> crate::Limits {
        let time = std::time::Duration::from_secs_f64;
        macro_rules! set {
            ($($field:ident),*) => { $(if let Some(v) = self.$field { limits.$field = v; })* };
        }
        macro_rules! set_time {
            ($($field:ident),*) => { $(if let Some(v) = self.$field { limits.$field = time(v); })* };
        }
        set!(
            max_body,
            max_blob,
            max_websockets,
            max_running_invocations,
            max_running_per_action,
            page,
            max_page,
            max_event_streams,
            history,
            history_bytes
        );
        set_time!(
            header_timeout,
            body_timeout,
            tls_handshake_timeout,
            shutdown_deadline,
            history_age
        );
        limits
    }

    /// Check the fields that bound each other: `(key, problem)`.
    fn check(&self) -> Result<(), (String, String)> {
        let limits = self.apply(crate::Limits::default());
        if limits.page == 0 || limits.page > limits.max_page {
            return Err((
                "limits.page".to_owned(),
                format!(
                    "must be between 1 and `max_page` ({}), not {}",
                    limits.max_page, limits.page
                ),
            ));
        }
        let positive = [
            ("max_body", limits.max_body),
            ("max_websockets", limits.max_websockets),
            ("max_running_invocations", limits.max_running_invocations),
            ("max_running_per_action", limits.max_running_per_action),
            ("max_event_streams", limits.max_event_streams),
        ];
        for (key, value) in positive {
            if value == 0 {
                return Err((
                    format!("limits.{key}"),
                    "must be at least 1: 0 would refuse everything".to_owned(),
                ));
            }
        }
        Ok(())
    }
}

fn token<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let token = String::deserialize(deserializer)?;
    crate::server::security::auth::check_token(&token).map_err(de::Error::custom)?;
    Ok(token)
}

impl Config {
    /// The tokens of the configuration and of its token file.
    pub fn all_tokens(&self) -> Result<Vec<(crate::Scope, String)>, String> {
        let mut tokens: Vec<_> = self
            .tokens
            .iter()
            .map(|t| (t.scope, t.token.clone()))
            .collect();
        if let Some(file) = &self.token_file {
            let text = std::fs::read_to_string(file)
                .map_err(|e| format!("the token file {} cannot be read: {e}", file.display()))?;
            let parsed = crate::server::security::auth::parse_token_file(&text)
                .map_err(|e| format!("the token file {}: {e}", file.display()))?;
            tokens.extend(parsed);
        }
        Ok(tokens)
    }

    /// Read and check a configuration file; TOML when its name ends in `.toml`, else JSON.
    pub fn load(file: &Path) -> Result<Self, ConfigError> {
        let error = |key: String, problem: String| ConfigError {
            file: file.to_owned(),
            key,
            problem,
        };
        let text = std::fs::read_to_string(file)
            .map_err(|e| error(String::new(), format!("cannot be read: {e}")))?;
        let toml = file.extension().is_some_and(|e| e == "toml");
        let mut config = Self::parse(&text, toml).map_err(|(key, problem)| error(key, problem))?;
        let dir = file.parent().unwrap_or(Path::new("."));
        if let Some(token_file) = &mut config.token_file {
            *token_file = dir.join(&*token_file);
        }
        if let Some(settings_dir) = &mut config.settings_dir {
            *settings_dir = dir.join(&*settings_dir);
        }
        if let Some(tls) = &mut config.tls {
            tls.cert = dir.join(&tls.cert);
            tls.key = dir.join(&tls.key);
        }
        if let Some(mqtt) = &mut config.mqtt {
            for file in [&mut mqtt.credentials_file, &mut mqtt.ca_file]
                .into_iter()
                .flatten()
            {
                *file = dir.join(&*file);
            }
        }
        Ok(config)
    }

    /// Parse and check the text of a configuration file (TOML or JSON). Errors are
    /// `(key, problem)`; paths in it are left as written.
    pub(crate) fn parse(text: &str, toml: bool) -> Result<Self, (String, String)> {
        let config: Self = if toml {
            let document = toml::Deserializer::parse(text)
                .map_err(|e| (String::new(), format!("is not valid TOML: {e}")))?;
            serde_path_to_error::deserialize(document)
                .map_err(|e| located(e.path().to_string(), e.inner().message().to_owned()))?
        } else {
            let mut document = serde_json::Deserializer::from_str(text);
            serde_path_to_error::deserialize(&mut document)
                .map_err(|e| located(e.path().to_string(), e.inner().to_string()))?
        };
        config.limits.check()?;
        Ok(config)
    }

    /// Check a configuration given as a JSON value. Errors are `(key, problem)`.
    pub fn from_value(value: Value) -> Result<Self, (String, String)> {
        let config: Self = serde_path_to_error::deserialize(value)
            .map_err(|e| located(e.path().to_string(), e.inner().to_string()))?;
        config.limits.check()?;
        Ok(config)
    }
}

/// The key and problem of a deserialisation error: an unknown key is named itself.
fn located(path: String, message: String) -> (String, String) {
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

fn prefix<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
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

fn seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
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
fn timeout<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
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
fn origins<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
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
fn things<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<ThingConfig>, D::Error> {
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
                if let Err(problem) = crate::naming::check_thing(&name) {
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
fn uri<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_full_configuration_parses() {
        let c = Config::from_value(json!({
            "things": {"a": "Counter", "b": {"type": "Counter", "args": {"start": 3}}},
            "prefix": "/api", "cors_origins": ["http://dash.lab"], "retention_time": 1.5,
            "max_finished_invocations": 10, "host": "127.0.0.1", "port": 0
        }))
        .unwrap();
        assert_eq!(c.things.len(), 2);
        assert_eq!(c.things[1].args, json!({"start": 3}));
        assert_eq!(c.prefix.as_deref(), Some("/api"));
        assert_eq!((c.cors_origins.len(), c.port), (1, Some(0)));
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
                "things.a",
                "missing field `type`",
            ),
            (
                json!({"things": {"a": {"type": "T", "arg": 1}}}),
                "things.a.arg",
                "not a known key",
            ),
            (
                json!({"things": {"a b": "T"}}),
                "things",
                "not a valid Thing name",
            ),
            (json!({"things": {"a": 3}}), "things.a", "a Thing type name"),
            (json!({"things": {"a": "T"}, "port": 70000}), "port", "u16"),
            (
                json!({"things": {"a": "T"}, "prefix": "api/"}),
                "prefix",
                "leading slash",
            ),
            (json!({"things": {}}), "things", "at least one"),
            (
                json!({"things": {"a": "T"}, "tokens": [{"scope": "operate", "token": "short"}]}),
                "tokens[0].token",
                "at least 16",
            ),
            (
                json!({"things": {"a": "T"}, "tokens": [{"scope": "admin", "token": "x"}]}),
                "tokens[0].scope",
                "unknown variant",
            ),
            (
                json!({"things": {"a": "T"}, "limits": {"max_bdy": 1}}),
                "limits.max_bdy",
                "not a known key",
            ),
            (
                json!({"things": {"a": "T"}, "cors_origins": ["*"]}),
                "cors_origins",
                "any web page",
            ),
            (
                json!({"things": {"a": "T"}, "cors_origins": ["http://dash.lab/"]}),
                "cors_origins",
                "without a path",
            ),
            (
                json!({"things": {"a": "T"}, "retention_time": 1e300}),
                "retention_time",
                "a year",
            ),
            (
                json!({"things": {"a": "T"}, "limits": {"body_timeout": 0}}),
                "limits.body_timeout",
                "above 0",
            ),
            (
                json!({"things": {"a": "T"}, "limits": {"page": 500, "max_page": 100}}),
                "limits.page",
                "between 1 and `max_page` (100)",
            ),
            (
                json!({"things": {"a": "T"}, "limits": {"max_websockets": 0}}),
                "limits.max_websockets",
                "at least 1",
            ),
        ];
        for (value, key, problem) in cases {
            let (k, p) = Config::from_value(value.clone()).unwrap_err();
            assert_eq!(k, key, "{value}: {p}");
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
        let bad = dir.join("bad.toml");
        std::fs::write(&bad, "[things.c]\ntype = 3\n").unwrap();
        let e = Config::load(&bad).unwrap_err();
        assert_eq!(e.key, "things.c.type", "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
