//! What a WebSocket connection knows of one of its Things: computed once per server.

use super::messages::json_string;
use crate::interaction::{Target, ThingRef};

/// One Thing as its WebSocket connections see it.
#[derive(Debug)]
pub(crate) struct ThingView {
    /// Its position among the server's Things.
    pub(crate) index: usize,
    /// The Thing's identifier in Web Thing Protocol messages: its TD `id`.
    pub(crate) thing_id: String,
    /// [`thing_id`](Self::thing_id) as a JSON string, for notifications.
    pub(crate) thing_id_json: String,
    /// The path of its TD (`{prefix}/{name}/`): a `thingID` may be the TD's URL.
    pub(crate) td_path: String,
    /// The property names, then the event names, as JSON strings, for notifications.
    pub(crate) property_names_json: Box<[Box<str>]>,
    pub(crate) event_names_json: Box<[Box<str>]>,
    /// How many properties, actions and events it has.
    pub(crate) counts: [usize; 3],
}

impl ThingView {
    pub(crate) fn new(thing: ThingRef<'_>, prefix: &str) -> Self {
        let dyn_thing = thing.thing();
        let counts = [
            dyn_thing.property_count(),
            dyn_thing.action_count(),
            dyn_thing.event_count(),
        ];
        Self {
            index: thing.index(),
            thing_id: thing.id().to_owned(),
            thing_id_json: json_string(thing.id()),
            td_path: format!("{prefix}/{}/", thing.name()),
            property_names_json: (0..counts[0])
                .map(|i| json_string(dyn_thing.property_name(i)).into_boxed_str())
                .collect(),
            event_names_json: (0..counts[2])
                .map(|i| json_string(dyn_thing.event_name(i)).into_boxed_str())
                .collect(),
            counts,
        }
    }

    /// Whether a request's `thingID` names this Thing: its TD `id`, or the URL (or path) of
    /// its TD, with or without the trailing slash.
    pub(crate) fn is_named_by(&self, id: &str) -> bool {
        if id == self.thing_id {
            return true;
        }
        let path = match id.split_once("://") {
            Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
            None => id,
        };
        path == self.td_path || Some(path) == self.td_path.strip_suffix('/')
    }

    /// The local slot of a target: its properties, then its actions, then its events.
    pub(crate) fn local(&self, target: Target) -> usize {
        let [properties, actions, _] = self.counts;
        match target {
            Target::Property(i) => i,
            Target::Action(i) => properties + i,
            Target::Event(i) => properties + actions + i,
        }
    }

    /// The target of a local slot.
    pub(crate) fn target(&self, local: usize) -> Target {
        let [properties, actions, _] = self.counts;
        if local < properties {
            Target::Property(local)
        } else if local < properties + actions {
            Target::Action(local - properties)
        } else {
            Target::Event(local - properties - actions)
        }
    }

    /// How many slots it has.
    pub(crate) fn slot_count(&self) -> usize {
        self.counts.iter().sum()
    }
}
