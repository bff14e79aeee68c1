//! Finding, in a Thing Description, the form of an operation.

use serde_json::Value;
use url::Url;

use super::ClientError;

/// The kinds of affordance, as the TD names their maps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Property,
    Action,
    Event,
}

impl Kind {
    fn map(self) -> &'static str {
        match self {
            Self::Property => "properties",
            Self::Action => "actions",
            Self::Event => "events",
        }
    }

    pub(crate) fn noun(self) -> &'static str {
        match self {
            Self::Property => "property",
            Self::Action => "action",
            Self::Event => "event",
        }
    }

    /// The operations of a form without `op` (TD 1.1, §5.4 "default values").
    fn default_ops(self, affordance: &Value) -> &'static [&'static str] {
        let flag = |key: &str| affordance.get(key).and_then(Value::as_bool) == Some(true);
        match self {
            Self::Property if flag("readOnly") => &["readproperty"],
            Self::Property if flag("writeOnly") => &["writeproperty"],
            Self::Property => &["readproperty", "writeproperty"],
            Self::Action => &["invokeaction"],
            Self::Event => &["subscribeevent", "unsubscribeevent"],
        }
    }
}

/// How a form is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Via {
    /// Plain HTTP(S), no subprotocol.
    Http,
    /// A WebSocket speaking the Web Thing Protocol.
    WebThingProtocol,
}

/// A Thing Description, and the URL its relative `href`s resolve against.
#[derive(Debug)]
pub(crate) struct Description {
    pub(crate) td: Value,
    pub(crate) base: Url,
}

impl Description {
    pub(crate) fn new(td: Value, fetched_from: &Url) -> Result<Self, ClientError> {
        if !td.is_object() {
            return Err(ClientError::Protocol(
                "the Thing Description is not a JSON object".into(),
            ));
        }
        let base = match td.get("base").and_then(Value::as_str) {
            Some(base) => fetched_from.join(base)?,
            None => fetched_from.clone(),
        };
        Ok(Self { td, base })
    }

    /// The affordance `name`, or an error naming what is missing.
    pub(crate) fn affordance(&self, kind: Kind, name: &str) -> Result<&Value, ClientError> {
        self.td
            .get(kind.map())
            .and_then(|m| m.get(name))
            .ok_or_else(|| ClientError::NoSuchAffordance {
                kind: kind.noun(),
                name: name.to_owned(),
            })
    }

    /// The URL of the first form of `name` that offers `op` over `via`.
    pub(crate) fn form(
        &self,
        kind: Kind,
        name: &str,
        op: &str,
        via: Via,
    ) -> Result<Option<Url>, ClientError> {
        let affordance = self.affordance(kind, name)?;
        let forms = affordance.get("forms").and_then(Value::as_array);
        for form in forms.into_iter().flatten() {
            let offers = match form.get("op") {
                Some(Value::String(one)) => one == op,
                Some(Value::Array(ops)) => ops.iter().any(|o| o.as_str() == Some(op)),
                _ => kind.default_ops(affordance).contains(&op),
            };
            let Some(href) = form.get("href").and_then(Value::as_str) else {
                continue;
            };
            if !offers {
                continue;
            }
            let url = self.base.join(href)?;
            let subprotocol = form.get("subprotocol").and_then(Value::as_str);
            let fits = match via {
                Via::Http => subprotocol.is_none() && matches!(url.scheme(), "http" | "https"),
                Via::WebThingProtocol => {
                    subprotocol == Some("webthingprotocol") && matches!(url.scheme(), "ws" | "wss")
                }
            };
            if fits {
                return Ok(Some(url));
            }
        }
        Ok(None)
    }

    /// The URL of the first form of `name` that offers `op` over `via`, or an error saying
    /// the TD has none.
    pub(crate) fn require(
        &self,
        kind: Kind,
        name: &str,
        op: &str,
        via: Via,
    ) -> Result<Url, ClientError> {
        self.form(kind, name, op, via)?.ok_or_else(|| {
            ClientError::Unsupported(format!(
                "the {} '{name}' cannot be used with `{op}`: its Thing Description has no such form",
                kind.noun()
            ))
        })
    }

    /// Whether the Thing Description has any WebSocket form (then a server without the Web
    /// Thing Protocol on it is not LabThings-FastAPI).
    pub(crate) fn has_websocket_form(&self) -> bool {
        ["properties", "actions", "events"].iter().any(|map| {
            self.td
                .get(map)
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|m| m.values())
                .filter_map(|a| a.get("forms").and_then(Value::as_array))
                .flatten()
                .filter_map(|f| f.get("href").and_then(Value::as_str))
                .any(|href| href.starts_with("ws:") || href.starts_with("wss:"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn td() -> Description {
        let td = json!({
            "base": "http://lab:5000/",
            "properties": {
                "count": {"readOnly": true, "forms": [
                    {"href": "/counter/count", "op": ["readproperty"]},
                    {"href": "ws://lab:5000/counter/ws", "subprotocol": "webthingprotocol",
                     "op": ["readproperty", "observeproperty"]},
                    {"href": "/counter/count", "op": "observeproperty", "subprotocol": "sse"}
                ]},
                "label": {"forms": [{"href": "label"}]}
            }
        });
        Description::new(td, &Url::parse("http://other/counter/").unwrap()).unwrap()
    }

    #[test]
    fn forms_are_found_by_operation_and_protocol() {
        let td = td();
        let read = td.form(Kind::Property, "count", "readproperty", Via::Http);
        assert_eq!(
            read.unwrap().unwrap().as_str(),
            "http://lab:5000/counter/count"
        );
        let observe = td.form(
            Kind::Property,
            "count",
            "observeproperty",
            Via::WebThingProtocol,
        );
        assert_eq!(
            observe.unwrap().unwrap().as_str(),
            "ws://lab:5000/counter/ws"
        );
        // The SSE form is not plain HTTP.
        assert!(matches!(
            td.form(Kind::Property, "count", "observeproperty", Via::Http),
            Ok(None)
        ));
        assert!(matches!(
            td.require(Kind::Property, "count", "writeproperty", Via::Http),
            Err(ClientError::Unsupported(_))
        ));
        // Without `op`, a property's form reads and writes.
        let write = td.form(Kind::Property, "label", "writeproperty", Via::Http);
        assert_eq!(write.unwrap().unwrap().as_str(), "http://lab:5000/label");
        assert!(matches!(
            td.affordance(Kind::Action, "nope"),
            Err(ClientError::NoSuchAffordance { kind: "action", .. })
        ));
        assert!(td.has_websocket_form());
    }
}
