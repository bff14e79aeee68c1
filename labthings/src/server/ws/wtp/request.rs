//! A Web Thing Protocol request: the members that operations use.

use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::interaction::Caller;

/// The members of a request that operations use.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Request {
    #[serde(rename = "thingID")]
    pub(crate) thing_id: Option<Value>,
    pub(crate) operation: Option<String>,
    pub(crate) name: Option<String>,
    #[serde(rename = "correlationID")]
    pub(crate) correlation_id: Option<Value>,
    /// `writeproperty`: the new value (`null` is a value).
    #[serde(default, deserialize_with = "present")]
    pub(crate) value: Option<Value>,
    /// `readmultipleproperties`: the names to read.
    pub(crate) names: Option<Vec<String>>,
    /// `invokeaction`: the input (`null` is an input).
    #[serde(default, deserialize_with = "present")]
    pub(crate) input: Option<Value>,
    /// `invokeaction`: answer once the action has ended.
    pub(crate) synchronous: Option<bool>,
    /// `invokeaction` (an extension): notify each change of the invocation's status.
    pub(crate) observe: Option<bool>,
    /// `writeproperty`, `invokeaction` (an extension): check the request and answer what it
    /// would do, doing nothing.
    #[serde(rename = "dryRun")]
    pub(crate) dry_run: Option<bool>,
    /// `queryaction`, `cancelaction`: the invocation.
    #[serde(rename = "actionID")]
    pub(crate) action_id: Option<String>,
    /// `writeproperty`, `invokeaction`: the lease the client holds on the Thing (the
    /// `LabThings-Lease` header of HTTP); `renewlease`, `releaselease`: the lease.
    pub(crate) lease: Option<uuid::Uuid>,
    /// `takelease`, `renewlease`: how long the lease lasts from its last use.
    pub(crate) seconds: Option<f64>,
    /// `observe…`, `subscribe…`: the last notification the client saw.
    #[serde(rename = "lastNotificationID")]
    pub(crate) last_notification_id: Option<String>,
}

/// A member that is present, even as `null`.
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

impl Request {
    /// What identifies a message, whatever else is wrong with it: an error about it can still
    /// be correlated.
    pub(crate) fn identity(message: &Map<String, Value>) -> Self {
        Self {
            thing_id: message.get("thingID").cloned(),
            operation: message
                .get("operation")
                .and_then(Value::as_str)
                .map(str::to_owned),
            correlation_id: message.get("correlationID").cloned(),
            ..Self::default()
        }
    }

    /// Parse a request, or explain what is wrong with it.
    pub(crate) fn parse(message: Map<String, Value>) -> Result<Self, String> {
        serde_json::from_value(Value::Object(message))
            .map_err(|e| format!("the request is malformed: {e}"))
    }

    /// Who makes the request on a connection opened by `opener`: the same client, with the
    /// lease the request presents (or the one its connection was opened with).
    pub(crate) fn caller(&self, opener: Caller) -> Caller {
        opener.with_lease(self.lease.or(opener.lease()))
    }

    /// The `correlationID` as JSON text, for notifications.
    pub(crate) fn correlation(&self) -> Option<Box<RawValue>> {
        let text = self.correlation_id.as_ref()?.to_string();
        RawValue::from_string(text).ok()
    }
}
