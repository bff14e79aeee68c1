//! Where and how a Thing is published: what its TD's URLs, security and forms depend on.

use serde_json::{Map, Value, json};

#[cfg(feature = "mqtt")]
use super::mqtt;

/// Where and how a Thing is published, for the URLs and security of its TD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TdOptions {
    pub(super) base: Option<String>,
    prefix: String,
    pub(super) path: String,
    pub(super) bearer: bool,
    pub(super) id: Option<String>,
    #[cfg(feature = "mqtt")]
    mqtt: Option<mqtt::MqttForms>,
}

impl TdOptions {
    /// Options for a Thing published under `name` with the API `prefix` (`""` for none).
    pub fn new(prefix: &str, name: &str) -> Self {
        let prefix = prefix.trim_end_matches('/');
        Self {
            base: None,
            prefix: prefix.to_owned(),
            path: format!("{prefix}/{name}/"),
            bearer: false,
            id: None,
            #[cfg(feature = "mqtt")]
            mqtt: None,
        }
    }

    /// Add the forms of the MQTT binding.
    #[cfg(feature = "mqtt")]
    pub(crate) fn with_mqtt(mut self, forms: mqtt::MqttForms) -> Self {
        self.mqtt = Some(forms);
        self
    }

    /// Give the TD an `id` (a URI): what Web Thing Protocol messages name the Thing by.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// The TD `id`, if any.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// Set the base URL: the absolute URL that relative `href`s resolve against, e.g.
    /// `http://127.0.0.1:5000/`. Without it, `href`s are absolute paths and the WebSocket
    /// `href` is relative too.
    pub fn with_base(mut self, base: impl Into<String>) -> Self {
        self.base = Some(base.into());
        self
    }

    /// Declare that clients need a bearer token (`securityDefinitions` with the `bearer`
    /// scheme), instead of `nosec`.
    pub fn with_bearer_security(mut self) -> Self {
        self.bearer = true;
        self
    }

    /// The base URL, if any.
    pub fn base(&self) -> Option<&str> {
        self.base.as_deref()
    }

    /// The Thing's path, with leading and trailing slash, e.g. `/counter/`.
    pub fn path(&self) -> &str {
        &self.path
    }

    pub(super) fn ws_href(&self) -> String {
        self.ws_url(&format!("{}ws", self.path))
    }

    /// The server's shared WebSocket, on which requests name their Thing.
    pub(super) fn shared_ws_href(&self) -> String {
        self.ws_url(&format!("{}/ws", self.prefix))
    }

    fn ws_url(&self, path: &str) -> String {
        match &self.base {
            Some(base) => {
                let base = base.trim_end_matches('/');
                let base = if let Some(rest) = base.strip_prefix("https://") {
                    format!("wss://{rest}")
                } else if let Some(rest) = base.strip_prefix("http://") {
                    format!("ws://{rest}")
                } else {
                    base.to_owned()
                };
                format!("{base}{path}")
            }
            None => path.to_owned(),
        }
    }
}

impl TdOptions {
    /// `securityDefinitions` and `security`: a bearer token, or none.
    pub(super) fn security(&self) -> Map<String, Value> {
        let security = if self.bearer {
            json!({
                "securityDefinitions": {"bearer": {
                    "scheme": "bearer",
                    "in": "header",
                    "name": "Authorization",
                    "format": "opaque",
                    "description": "A bearer token from the server's configuration: scope `observe` reads and observes, scope `operate` also writes properties, invokes and cancels actions"
                }},
                "security": "bearer"
            })
        } else {
            json!({
                "securityDefinitions": {"no_security": {"scheme": "nosec", "description": "No security"}},
                "security": "no_security"
            })
        };
        match security {
            Value::Object(members) => members,
            _ => Map::new(),
        }
    }
}

/// The forms of the bindings other than HTTP and WebSocket (MQTT), as the TD lists them.
impl TdOptions {
    /// The extra `@context` entries their vocabularies need.
    pub(super) fn binding_contexts(&self) -> Vec<Value> {
        #[cfg(feature = "mqtt")]
        if self.mqtt.is_some() {
            return vec![json!({"mqv": mqtt::MQV_CONTEXT})];
        }
        Vec::new()
    }

    /// Their forms of a property.
    pub(super) fn binding_property_forms(
        &self,
        _name: &str,
        _observable: bool,
        _writable: bool,
    ) -> Vec<Value> {
        #[cfg(feature = "mqtt")]
        if let Some(mqtt) = &self.mqtt {
            return mqtt.property(_name, _observable, _writable);
        }
        Vec::new()
    }

    /// Their forms of an event.
    pub(super) fn binding_event_forms(&self, _name: &str) -> Vec<Value> {
        #[cfg(feature = "mqtt")]
        if let Some(mqtt) = &self.mqtt {
            return vec![mqtt.event(_name)];
        }
        Vec::new()
    }

    /// Their forms of an action.
    pub(super) fn binding_action_forms(&self, _name: &str) -> Vec<Value> {
        #[cfg(feature = "mqtt")]
        if let Some(mqtt) = &self.mqtt {
            return mqtt.action(_name).into_iter().collect();
        }
        Vec::new()
    }
}
