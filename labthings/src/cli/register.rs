//! The Things a program registers: built-in Things, and types a configuration file names.

use std::future::Future;

use serde_json::Value;

use crate::model::table::BoxFuture;
use crate::model::td::TdOptions;
use crate::model::thing::Thing;
use crate::server::ThingServer;

pub(super) struct Registration {
    pub(super) name: String,
    pub(super) td: fn(&TdOptions) -> Value,
    pub(super) add: Add,
}

/// Constructs a Thing (maybe asynchronously, maybe failing) and adds it to a server.
pub(super) type Add = Box<dyn FnOnce(ThingServer) -> BoxFuture<Result<ThingServer, String>> + Send>;

/// Makes the [`Add`] of a Thing of a registered type from its name and arguments.
pub(super) type Construct = Box<dyn Fn(&str, Value) -> Result<Add, String> + Send>;

/// A Thing type that configuration files can create.
pub(super) struct ThingType {
    pub(super) name: String,
    pub(super) td: fn(&TdOptions) -> Value,
    /// Checks construction arguments without constructing.
    pub(super) check: Box<dyn Fn(Value) -> Result<(), String> + Send>,
    pub(super) construct: Construct,
}

pub(super) fn adding<T, E, F>(name: &str, made: F) -> Add
where
    T: Thing,
    E: std::fmt::Display,
    F: Future<Output = Result<T, E>> + Send + 'static,
{
    let name = name.to_owned();
    Box::new(move |server: ThingServer| {
        Box::pin(async move {
            match made.await {
                Ok(thing) => Ok(server.thing(&name, thing)),
                Err(e) => Err(format!("Thing '{name}' could not be created: {e}")),
            }
        })
    })
}

/// Construction arguments: absent arguments are `null`, or `{}` for types whose fields all
/// have defaults.
pub(super) fn parse_args<A: serde::de::DeserializeOwned>(args: Value) -> Result<A, String> {
    let parsed = match serde_json::from_value::<A>(args.clone()) {
        Err(_) if args.is_null() => serde_json::from_value(Value::Object(Default::default())),
        other => other,
    };
    parsed.map_err(|e| format!("invalid arguments: {e}"))
}
