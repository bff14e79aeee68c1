//! The state of every Thing of the server when an invocation starts: its settings and the
//! values of its stored properties, for the invocation's provenance.

use std::sync::Arc;
use std::time::SystemTime;

use crate::model::table::Json;
use crate::runtime::hosted::DynThing;

/// The largest value a snapshot keeps whole (as JSON); a larger one is kept as its SHA-256,
/// so that a thousand retained invocations cannot each hold a copy of a large value.
pub(crate) const LARGEST_KEPT: usize = 4096;

/// A property's value as recorded.
#[derive(Debug)]
pub(crate) enum Recorded {
    Whole(Json),
    /// The SHA-256 of a value larger than [`LARGEST_KEPT`], and its size.
    Digest {
        sha256: String,
        bytes: usize,
    },
}

/// One property's value when the invocation started.
#[derive(Debug)]
pub(crate) struct Value {
    pub(crate) name: &'static str,
    pub(crate) value: Recorded,
    /// Whether it is a setting (persisted in the Thing's settings file).
    pub(crate) setting: bool,
}

/// One Thing's stored values when the invocation started.
#[derive(Debug)]
pub(crate) struct ThingState {
    pub(crate) thing: Arc<str>,
    pub(crate) values: Vec<Value>,
}

/// Every Thing's stored values when the invocation started.
#[derive(Debug)]
pub(crate) struct StateAtStart {
    pub(crate) taken: SystemTime,
    pub(crate) things: Vec<ThingState>,
}

/// Every Thing of a server.
pub(crate) struct Everyone(pub(crate) Vec<Arc<dyn DynThing>>);

impl std::fmt::Debug for Everyone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Everyone({} Things)", self.0.len())
    }
}

/// The state of every Thing now. Only the values a Thing stores (its `#[property]` fields,
/// settings among them) are read: a getter method may talk to hardware, and is not called
/// on every invocation.
pub(crate) fn take(everyone: &Everyone) -> StateAtStart {
    let things = everyone.0.iter().map(|thing| {
        let settings = thing.settings();
        let values = (0..thing.property_count())
            .filter(|&index| thing.readable(index))
            .filter_map(|index| {
                let value = thing.field(index)?.read_json().ok()?;
                Some(Value {
                    name: thing.property_name(index),
                    value: recorded(value),
                    setting: settings.iter().any(|(i, _)| *i == index),
                })
            })
            .collect();
        ThingState {
            thing: thing.name().clone(),
            values,
        }
    });
    StateAtStart {
        taken: SystemTime::now(),
        things: things.collect(),
    }
}

/// A value as a snapshot keeps it.
fn recorded(value: Json) -> Recorded {
    use sha2::Digest as _;
    let bytes = value.get().len();
    match bytes > LARGEST_KEPT {
        false => Recorded::Whole(value),
        true => Recorded::Digest {
            sha256: format!("{:x}", sha2::Sha256::digest(value.get().as_bytes())),
            bytes,
        },
    }
}
