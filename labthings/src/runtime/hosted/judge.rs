//! The judges of a hosted Thing: each observable property with warning or alarm ranges has
//! its values judged as they are published, and a change of their quality emitted as the
//! Thing's `alarm` event.

use std::sync::atomic::{AtomicU8, Ordering};

use crate::broker::{Topic, Watcher};
use crate::model::quality::{Quality, QualityChange, Ranges, number};
use crate::model::table::ThingTable;

/// Judge the values of every observable property of `thing` that declares ranges, emitting
/// on `alarm`.
pub(super) fn attach<T>(thing: &T, table: &ThingTable<T>, alarm: &Topic) {
    for entry in &table.properties {
        let def = entry.def;
        if !def.ranges.any() {
            continue;
        }
        let Some(field) = def.observed_field(thing) else {
            continue;
        };
        let current = field.read_json().map(|json| json.get().to_owned());
        let judge = Judge::new(
            def.name,
            def.ranges,
            current.as_deref().unwrap_or("null"),
            alarm.clone(),
        );
        field.topic().watch_with(Box::new(judge));
    }
}

/// What follows one property's values and emits the alarm event when their quality changes.
#[derive(Debug)]
pub(super) struct Judge {
    property: &'static str,
    ranges: Ranges,
    /// The quality of the last value, as its place in [`Quality::ALL`].
    last: AtomicU8,
    alarm: Topic,
}

impl Judge {
    /// A judge of `property`'s values by `ranges`, whose current value is `current`
    /// (JSON), emitting on `alarm`.
    pub(super) fn new(property: &'static str, ranges: Ranges, current: &str, alarm: Topic) -> Self {
        let quality = ranges.quality_of_json(current).unwrap_or(Quality::Valid);
        Self {
            property,
            ranges,
            last: AtomicU8::new(quality as u8),
            alarm,
        }
    }
}

impl Watcher for Judge {
    /// Judge a value just published (JSON): emit the alarm event if its quality differs
    /// from the last one's.
    fn published(&self, json: &str) {
        let value = number(json);
        let quality = self.ranges.quality(value);
        let before = self.last.swap(quality as u8, Ordering::SeqCst);
        if before == quality as u8 || !self.alarm.has_subscribers() {
            return;
        }
        let change = QualityChange {
            property: self.property.to_owned(),
            from: Quality::ALL[usize::from(before)].as_str().to_owned(),
            to: quality.as_str().to_owned(),
            value: value.is_finite().then_some(value),
        };
        if let Ok(json) = serde_json::to_string(&change) {
            self.alarm.publish_event(json);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::{Delivery, Mailbox, MailboxLimits};

    #[test]
    fn a_judge_emits_each_change_of_quality_once() {
        let ranges = Ranges {
            warning: Some((15.0, 35.0)),
            alarm: Some((5.0, 45.0)),
        };
        let alarm = Topic::new();
        let mailbox = Mailbox::new(MailboxLimits::default());
        alarm.subscribe(&mailbox, 0);
        let judge = Judge::new("t", ranges, "20", alarm);
        for value in ["21", "36", "37", "50", "20", "null"] {
            judge.published(value);
        }
        let mut deliveries = Vec::new();
        mailbox.drain_into(&mut deliveries);
        let seen: Vec<String> = (deliveries.into_iter())
            .map(|delivery| match delivery {
                Delivery::Event(_, note) => note.json.to_string(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            seen,
            [
                r#"{"property":"t","from":"valid","to":"warning","value":36.0}"#,
                r#"{"property":"t","from":"warning","to":"alarm","value":50.0}"#,
                r#"{"property":"t","from":"alarm","to":"valid","value":20.0}"#,
                r#"{"property":"t","from":"valid","to":"alarm","value":null}"#,
            ]
        );
    }
}
