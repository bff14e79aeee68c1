//! Entry points for fuzzing the paths that take outside input, driven through the real code:
//! WebSocket messages through a connection's dispatch and rendering, property values and
//! action inputs through validation and storage, configuration and settings files. They
//! panic on what must never happen, so that a fuzzer reports it; the tests replay the saved
//! corpora through them.

use std::path::Path;
use std::sync::Arc;

use axum::extract::ws::Message;
use serde_json::Value;

use crate::interaction::Caller;
use crate::model::thing::Thing;
use crate::runtime::hosted::{DynThing, Hosted, Pending};
use crate::server::ThingServer;
use crate::server::state::ServerState;
use crate::server::ws::{Connection, Dispatch};

/// How many of the messages a connection would send are rendered and checked per input.
const RENDERED: usize = 256;

/// WebSocket messages through the dispatch of a connection to a server's Things.
pub struct Ws {
    runtime: tokio::runtime::Runtime,
    state: Arc<ServerState>,
}

impl std::fmt::Debug for Ws {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ws").finish_non_exhaustive()
    }
}

impl Ws {
    /// A server ready for connections (its Things connected and started).
    ///
    /// # Panics
    /// If the Things cannot start.
    pub fn new(server: ThingServer) -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let state = runtime.block_on(async move {
            let started = server.start().await.expect("the fuzzed Things start");
            started.prepared.build(None).1
        });
        Self { runtime, state }
    }

    /// Handle `messages` in order on a fresh connection — to the first Thing in the
    /// LabThings dialect, and to every Thing on the shared socket in the Web Thing Protocol
    /// — then render what each connection would send.
    ///
    /// # Panics
    /// If a message the server sends is not a JSON object.
    pub fn feed(&self, messages: &[&str]) {
        self.runtime.block_on(async {
            for shared in [false, true] {
                let views = if shared {
                    self.state.views.clone()
                } else {
                    Arc::from([self.state.views[0].clone()])
                };
                let context = Arc::new(Connection::new(
                    self.state.clone(),
                    views,
                    shared,
                    "http://127.0.0.1:5000".to_owned(),
                    Caller::TRUSTED,
                    shared,
                ));
                for message in messages {
                    match context.dispatch(Message::text(*message)) {
                        Dispatch::Later(future) => future.await,
                        Dispatch::Done | Dispatch::Close => {}
                    }
                }
                let mut deliveries = Vec::new();
                context.mailbox.drain_into(&mut deliveries);
                // Notifications pile up while device code runs (a `tick` of 10^12 events
                // until it is cancelled): the first ones exercise rendering as well as all
                // of them would, at a fraction of the cost.
                deliveries.truncate(RENDERED);
                for text in context.render(deliveries.into_iter()) {
                    let sent: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
                        panic!("the server sent text that is not JSON ({e}): {text}")
                    });
                    assert!(
                        sent.is_object(),
                        "the server sent a message that is not an object: {text}"
                    );
                }
                context.unsubscribe_all();
            }
            // What the messages started ends now, so that inputs stay independent (and an
            // action asked to count to 2^64 does not outlive its input).
            let invocations = &self.state.things.invocations;
            for invocation in invocations.list(None) {
                let _ = invocations.cancel(&invocation);
            }
        });
    }
}

/// A Thing's property values and action inputs through validation and storage.
pub struct Values {
    thing: Arc<dyn DynThing>,
}

impl std::fmt::Debug for Values {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Values").finish_non_exhaustive()
    }
}

impl Values {
    /// The affordances of `thing`.
    pub fn new<T: Thing>(thing: T) -> Self {
        Self {
            thing: Arc::new(Hosted::new("fuzzed", Arc::new(thing))),
        }
    }

    /// Write `value` to property number `which` (modulo their number), as a client would.
    ///
    /// # Panics
    /// If the value passes validation but cannot be stored (the schema and the Rust type
    /// disagree).
    pub fn write(&self, which: usize, value: Value) {
        let count = self.thing.property_count();
        if count == 0 {
            return;
        }
        let index = which % count;
        let validated = self.thing.validate(index, &value).is_ok();
        if let Some(field) = self.thing.field(index) {
            let name = self.thing.property_name(index);
            if validated && self.thing.writable(index) {
                if let Pending::Ready(Err(problem)) = self.thing.write(index, value.clone()) {
                    panic!(
                        "'{name}' accepted {value} but could not store it: {}",
                        problem.detail
                    );
                }
                // What was stored reads back, and validates again.
                let json = field.read_json().expect("a stored value reads");
                let back: Value = serde_json::from_str(json.get()).expect("JSON");
                assert!(
                    self.thing.validate(index, &back).is_ok(),
                    "'{name}' stored {value} but reads back {back}, which it refuses"
                );
            }
        }
    }

    /// Validate `input` for action number `which` (modulo their number), as an invocation
    /// would be: never a panic.
    pub fn input(&self, which: usize, input: Value) {
        let count = self.thing.action_count();
        if count > 0 {
            let _ = self.thing.validate_input(which % count, input);
        }
    }
}

/// The text of a configuration file, as JSON and as TOML: an error or a configuration,
/// never a panic.
pub fn config(text: &str) {
    for toml in [false, true] {
        if let Ok(config) = crate::config::Config::parse(text, toml) {
            let _ = config.limits.apply(crate::Limits::default());
            let _ = config.all_tokens();
        }
    }
}

/// The text of a settings file applied to `thing`: valid keys used, problems logged, never a
/// panic.
pub fn settings<T: Thing>(thing: T, text: &str) {
    let hosted = Hosted::new("fuzzed", Arc::new(thing));
    crate::runtime::settings::apply(Path::new("fuzzed.json"), text, &hosted);
}

/// The message broker, for the benchmarks.
pub mod broker {
    pub use crate::broker::{
        Delivery, History, HistoryLimits, Key, Mailbox, MailboxLimits, Note, Published, SharedJson,
        SharedValue, Topic,
    };
}

/// Entry points for the benchmarks of internal message handling.
pub mod bench {
    use serde_json::Value;

    /// A topic whose values feed a numeric value history of the default bounds.
    #[cfg(feature = "history")]
    pub fn topic_with_history() -> crate::broker::Topic {
        use crate::broker::{Series, SeriesKind, SeriesLimits, Topic};
        let limits = crate::runtime::limits::Limits::default();
        let bounds = SeriesLimits {
            samples: limits.property_history,
            age: limits.property_history_age,
        };
        let topic = Topic::new();
        topic.record_series(std::sync::Arc::new(Series::new(SeriesKind::Number, bounds)));
        topic
    }

    /// Parse a WebSocket client message.
    pub fn parse_ws_message(text: &str) -> Result<serde_json::Map<String, Value>, String> {
        crate::server::ws::parse_message(text)
    }

    /// Format a LabThings `propertyStatus` message (`name`, `value`: JSON).
    pub fn labthings_property_status(name: &str, value: &str) -> String {
        crate::server::ws::messages::property_status(name, value)
    }

    /// Format a Web Thing Protocol notification (`thing_id`, `name`, `value`: JSON).
    pub fn wtp_property_notification(thing_id: &str, name: &str, value: &str) -> String {
        use crate::server::ws::messages::{Notification, notification};
        notification(&Notification {
            thing_id,
            message_id: uuid::Uuid::new_v4(),
            operation: "observeproperty",
            name,
            member: "value",
            value,
            at: std::time::SystemTime::now(),
            correlation: None,
            quality: None,
        })
    }
}
