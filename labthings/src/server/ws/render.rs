//! What a connection sends for each delivery of its mailbox, in the format of the
//! subscription that slot belongs to.

use super::connection::{Connection, Format, Slots, unslot};
use super::messages::{self, Notification};
use super::wtp;
use serde_json::value::RawValue;

use crate::broker::{Delivery, Note, SharedValue};
use crate::interaction::wire::StatusEvent;
use crate::runtime::invocations::StatusNote;
use crate::sync::Locked;

impl Connection {
    /// The messages of `deliveries`, in order (formatted under the lock of the
    /// subscriptions).
    pub(crate) fn render(&self, deliveries: impl Iterator<Item = Delivery>) -> Vec<String> {
        let mut texts = Vec::new();
        let mut slots = self.slots.locked();
        for delivery in deliveries {
            match delivery {
                Delivery::Message(text) => texts.push(text.to_string()),
                Delivery::Property(slot, note) | Delivery::Event(slot, note) => {
                    self.notification(&mut slots, slot, &note, &mut texts);
                }
                Delivery::Status(slot, status) => {
                    self.status(&mut slots, slot, &status, &mut texts);
                }
            }
        }
        texts
    }

    /// The messages of a property change or an event for the subscription in `slot`.
    fn notification(&self, slots: &mut Slots, slot: u32, note: &Note, out: &mut Vec<String>) {
        let (view, local) = unslot(slot);
        let (Some(v), Some(Some(format))) = (
            self.views.get(view),
            slots.get_mut(view).and_then(|t| t.get_mut(local)),
        ) else {
            return;
        };
        let [properties, actions, _] = v.counts;
        match format {
            Format::LabThings if local < properties => out.push(messages::property_status(
                &v.property_names_json[local],
                &note.json,
            )),
            Format::Wtp {
                operation,
                correlation,
            } => {
                let thing = self.thing(view);
                let (member, name, quality) = if local < properties {
                    let quality = thing.property_at(local).quality(&note.json);
                    ("value", &v.property_names_json[local], quality)
                } else {
                    let name = &v.event_names_json[local - properties - actions];
                    ("data", name, None)
                };
                let history = thing.thing().history();
                let message_id = match (note.seq, history) {
                    (Some(seq), Some(history)) => history.id(seq),
                    _ => uuid::Uuid::new_v4(),
                };
                out.push(messages::notification(&Notification {
                    thing_id: &v.thing_id_json,
                    message_id,
                    operation,
                    name,
                    member,
                    value: &note.json,
                    at: note.at,
                    correlation: correlation.as_deref().map(RawValue::get),
                    quality,
                }));
            }
            Format::LabThings | Format::Action { .. } => {}
        }
    }

    /// The messages of a change of an invocation's status for the subscription in `slot`.
    fn status(&self, slots: &mut Slots, slot: u32, status: &SharedValue, out: &mut Vec<String>) {
        let (view, local) = unslot(slot);
        let (Some(v), Some(Some(Format::Action { labthings, watches })), Some(note)) = (
            self.views.get(view),
            slots.get_mut(view).and_then(|t| t.get_mut(local)),
            status.downcast_ref::<StatusNote>(),
        ) else {
            return;
        };
        let urls = self.state.urls(&self.origin);
        if !watches.is_empty() {
            wtp::invocation_messages(v, note, urls, watches, out);
        }
        if *labthings {
            let event = StatusEvent::new(&note.snapshot, urls, &note.logged);
            out.push(messages::action_status(&event));
        }
    }
}
