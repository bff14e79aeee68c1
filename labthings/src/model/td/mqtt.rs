//! The forms of the W3C WoT MQTT binding in a TD, and the topics they name.

use serde_json::{Value, json};

/// The topics of one Thing: the one place they are named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Topics {
    base: String,
}

impl Topics {
    pub(crate) fn new(prefix: &str, thing: &str) -> Self {
        Self {
            base: format!("{prefix}/{thing}"),
        }
    }

    pub(crate) fn property(&self, name: &str) -> String {
        format!("{}/properties/{name}", self.base)
    }

    pub(crate) fn write(&self, name: &str) -> String {
        format!("{}/properties/{name}/set", self.base)
    }

    pub(crate) fn event(&self, name: &str) -> String {
        format!("{}/events/{name}", self.base)
    }

    pub(crate) fn action(&self, name: &str) -> String {
        format!("{}/actions/{name}", self.base)
    }

    pub(crate) fn invocation(&self, name: &str, id: &str) -> String {
        format!("{}/actions/{name}/invocations/{id}", self.base)
    }

    pub(crate) fn errors(&self) -> String {
        format!("{}/errors", self.base)
    }

    /// The filters of the requests: every write and every invocation of the Thing.
    pub(crate) fn request_filters(&self) -> [String; 2] {
        [
            format!("{}/properties/+/set", self.base),
            format!("{}/actions/+", self.base),
        ]
    }

    /// What a request's topic asks: (`true` for a write, `false` for an invocation, name).
    pub(crate) fn parse_request<'t>(&self, topic: &'t str) -> Option<(bool, &'t str)> {
        let rest = topic.strip_prefix(self.base.as_str())?.strip_prefix('/')?;
        if let Some(name) = rest
            .strip_prefix("properties/")
            .and_then(|r| r.strip_suffix("/set"))
        {
            return (!name.contains('/')).then_some((true, name));
        }
        let name = rest.strip_prefix("actions/")?;
        (!name.contains('/')).then_some((false, name))
    }
}

/// The MQTT forms of one Thing's TD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MqttForms {
    pub(crate) broker: String,
    pub(crate) topics: Topics,
    pub(crate) qos: u8,
    pub(crate) requests: bool,
}

/// The binding's vocabulary, for the TD's `@context`.
pub(crate) const MQV_CONTEXT: &str = "https://www.w3.org/2019/wot/mqtt#";

impl MqttForms {
    fn href(&self, topic: &str) -> String {
        format!("{}/{topic}", self.broker)
    }

    /// The forms of a property: observing (and reading the retained value) when observable,
    /// writing when writable.
    pub(crate) fn property(&self, name: &str, observable: bool, writable: bool) -> Vec<Value> {
        let mut forms = Vec::new();
        if observable {
            let topic = self.topics.property(name);
            forms.push(json!({
                "href": self.href(&topic),
                "op": ["readproperty", "observeproperty", "unobserveproperty"],
                "contentType": "application/json",
                "mqv:filter": topic,
                "mqv:retain": true,
                "mqv:qos": self.qos.to_string(),
            }));
        }
        if writable && self.requests {
            let topic = self.topics.write(name);
            forms.push(json!({
                "href": self.href(&topic),
                "op": ["writeproperty"],
                "contentType": "application/json",
                "mqv:topic": topic,
                "mqv:controlPacket": "publish",
                "mqv:qos": self.qos.to_string(),
            }));
        }
        forms
    }

    pub(crate) fn event(&self, name: &str) -> Value {
        let topic = self.topics.event(name);
        json!({
            "href": self.href(&topic),
            "op": ["subscribeevent", "unsubscribeevent"],
            "contentType": "application/json",
            "mqv:filter": topic,
            "mqv:qos": self.qos.to_string(),
        })
    }

    pub(crate) fn action(&self, name: &str) -> Option<Value> {
        let topic = self.topics.action(name);
        self.requests.then(|| {
            json!({
                "href": self.href(&topic),
                "op": ["invokeaction"],
                "contentType": "application/json",
                "mqv:topic": topic,
                "mqv:controlPacket": "publish",
                "mqv:qos": self.qos.to_string(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_read_from_their_topics() {
        let t = Topics::new("lab", "counter");
        assert_eq!(
            t.parse_request("lab/counter/properties/step/set"),
            Some((true, "step"))
        );
        assert_eq!(
            t.parse_request("lab/counter/actions/increment"),
            Some((false, "increment"))
        );
        assert_eq!(
            t.parse_request("lab/counter/actions/increment/invocations/x"),
            None
        );
        assert_eq!(t.parse_request("lab/counterx/actions/increment"), None);
        assert_eq!(t.parse_request("lab/counter/properties/step"), None);
    }
}
