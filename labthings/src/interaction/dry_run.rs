//! Dry runs: a write or an invocation checked as it would be (scope, schema, constraints, the
//! Thing's state, its exclusive line) and answered with what would happen, nothing written,
//! run or created. A refused dry run is the same refusal, with the same status, as the real
//! request.

use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::Value;

use crate::runtime::line::Foreseen;

/// What a write would do: write this value.
#[derive(Debug)]
pub(crate) struct WouldWrite {
    /// The property.
    pub(crate) name: &'static str,
    /// The value as validated.
    pub(crate) value: Value,
}

/// What an invocation would do: run now, wait its turn, or preempt others.
#[derive(Debug)]
pub(crate) struct WouldInvoke {
    /// The action.
    pub(crate) name: &'static str,
    /// The input as validated.
    pub(crate) input: Value,
    /// Where it would stand in the Thing's exclusive line.
    pub(crate) foreseen: Foreseen,
}

/// `{"dryRun": true, "name": …, "value": …}`.
impl Serialize for WouldWrite {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("dryRun", &true)?;
        map.serialize_entry("name", self.name)?;
        map.serialize_entry("value", &self.value)?;
        map.end()
    }
}

/// `{"dryRun": true, "name": …, "input": …, "outcome": "run" | "wait" | "preempt"}`, with
/// the `position` it would wait at, or the invocations it would `cancel`.
impl Serialize for WouldInvoke {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("dryRun", &true)?;
        map.serialize_entry("name", self.name)?;
        map.serialize_entry("input", &self.input)?;
        match &self.foreseen {
            Foreseen::Runs => map.serialize_entry("outcome", "run")?,
            Foreseen::Waits(position) => {
                map.serialize_entry("outcome", "wait")?;
                map.serialize_entry("position", position)?;
            }
            Foreseen::Preempts(ids) => {
                map.serialize_entry("outcome", "preempt")?;
                let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
                map.serialize_entry("cancels", &ids)?;
            }
        }
        map.end()
    }
}
