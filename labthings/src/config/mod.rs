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
//! token_file = "tokens.txt"      # `observe TOKEN` / `operate TOKEN [subject]` / `admin TOKEN` lines; or:
//! tokens = [{ scope = "operate", token = "a-long-random-string-0123", subject = "scan robot" }]
//! tls = { cert = "cert.pem", key = "key.pem" }      # serve HTTPS and wss://
//! device_threads = 2             # worker threads of the runtime that runs device code
//! settings_dir = "settings"      # where settings are kept: {settings_dir}/{thing}.json
//! server_id = "microscope-7"     # TD ids are urn:labthings:{server_id}:{thing} (default: host name)
//! directory = "http://directory.lab.example:8081"  # register the Things there (`directory` feature)
//!
//! [limits]                       # any of the fields of `labthings::Limits`; times in seconds
//! max_body = 1048576
//! header_timeout = 10
//! history = 1024                 # notifications each Thing keeps for clients that resume
//! property_history = 10000       # samples each numeric property's value history keeps
//! max_lease = 3600               # the longest a client's lease on a Thing lasts from its last use
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

mod apply;
mod fields;
#[cfg(test)]
mod tests;

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::interaction::Scope;

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
    #[serde(deserialize_with = "fields::things")]
    pub things: Vec<ThingConfig>,
    /// The route prefix.
    #[serde(default, deserialize_with = "fields::prefix")]
    pub prefix: Option<String>,
    /// Origins whose pages may use the server besides its own.
    #[serde(default, deserialize_with = "fields::origins")]
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
    #[serde(default, deserialize_with = "fields::seconds")]
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
    /// Serve Prometheus metrics at `/metrics` (default: yes, in a program built with the
    /// `metrics` feature).
    #[serde(default)]
    pub metrics: Option<bool>,
    /// Register the Things into the Thing Description Directory at this URL (its API root)
    /// while serving (a program built with the `directory` feature).
    #[serde(default)]
    pub directory: Option<String>,
    /// The time-to-live of those registrations, in seconds (default 300; renewed at half).
    #[serde(default, deserialize_with = "fields::seconds")]
    pub directory_ttl: Option<f64>,
    /// A bearer token for that directory.
    #[serde(default)]
    pub directory_token: Option<String>,
    /// Keep a provenance record of each invocation (default: yes, in a program built with
    /// the `provenance` feature).
    #[serde(default)]
    pub provenance: Option<bool>,
    /// The bounds of single properties' value histories, by Thing and property (see
    /// `ThingServer::property_history`; unset fields take `limits.property_history` and
    /// `limits.property_history_age`).
    #[serde(default)]
    pub property_history: std::collections::BTreeMap<
        String,
        std::collections::BTreeMap<String, PropertyHistoryConfig>,
    >,
}

/// The bounds of one property's value history: `[property_history.thermo] temperature = {
/// samples = 86400, age = 86400 }`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PropertyHistoryConfig {
    /// Samples kept (0: none).
    #[serde(default)]
    pub samples: Option<usize>,
    /// How long a sample is kept, in seconds.
    #[serde(default, deserialize_with = "fields::seconds")]
    pub age: Option<f64>,
}

/// The `[mqtt]` table: the MQTT binding (see `labthings::Mqtt`).
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

/// One bearer token.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// What it allows.
    pub scope: Scope,
    /// The token.
    #[serde(deserialize_with = "fields::token")]
    pub token: String,
    /// Who holds it, as provenance records name them (default: `operate token 2`, its scope
    /// and place among the tokens).
    #[serde(default, deserialize_with = "fields::subject")]
    pub subject: Option<String>,
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

/// The `limits` table: any field of [`Limits`](crate::runtime::limits::Limits), times in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct LimitsConfig {
    pub max_body: Option<usize>,
    pub max_blob: Option<u64>,
    #[serde(default, deserialize_with = "fields::timeout")]
    pub header_timeout: Option<f64>,
    #[serde(default, deserialize_with = "fields::timeout")]
    pub body_timeout: Option<f64>,
    #[serde(default, deserialize_with = "fields::timeout")]
    pub tls_handshake_timeout: Option<f64>,
    pub max_websockets: Option<usize>,
    pub max_running_invocations: Option<usize>,
    pub max_running_per_action: Option<usize>,
    pub max_queued_per_thing: Option<usize>,
    #[serde(default, deserialize_with = "fields::seconds")]
    pub max_lease: Option<f64>,
    pub max_registrations: Option<usize>,
    pub max_registered_bytes: Option<usize>,
    #[serde(default, deserialize_with = "fields::seconds")]
    pub max_registration_ttl: Option<f64>,
    #[serde(default, deserialize_with = "fields::seconds")]
    pub admission_wait: Option<f64>,
    pub page: Option<usize>,
    pub max_page: Option<usize>,
    #[serde(default, deserialize_with = "fields::seconds")]
    pub shutdown_deadline: Option<f64>,
    pub max_event_streams: Option<usize>,
    pub history: Option<usize>,
    pub history_bytes: Option<usize>,
    #[serde(default, deserialize_with = "fields::seconds")]
    pub history_age: Option<f64>,
    #[serde(default, deserialize_with = "fields::seconds")]
    pub frame_wait: Option<f64>,
    pub property_history: Option<usize>,
    #[serde(default, deserialize_with = "fields::seconds")]
    pub property_history_age: Option<f64>,
}

impl Config {
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
            serde_path_to_error::deserialize(document).map_err(|e| {
                fields::located(e.path().to_string(), e.inner().message().to_owned())
            })?
        } else {
            let mut document = serde_json::Deserializer::from_str(text);
            serde_path_to_error::deserialize(&mut document)
                .map_err(|e| fields::located(e.path().to_string(), e.inner().to_string()))?
        };
        config.limits.check()?;
        Ok(config)
    }

    /// Check a configuration given as a JSON value. Errors are `(key, problem)`.
    pub fn from_value(value: Value) -> Result<Self, (String, String)> {
        let config: Self = serde_path_to_error::deserialize(value)
            .map_err(|e| fields::located(e.path().to_string(), e.inner().to_string()))?;
        config.limits.check()?;
        Ok(config)
    }
}
