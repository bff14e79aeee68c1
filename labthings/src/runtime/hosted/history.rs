//! What a hosted Thing records of what it publishes: its notifications, for clients that
//! resume, and the value histories of its numeric and boolean properties.

#[cfg(feature = "history")]
use std::sync::Arc;

use crate::broker::{History, HistoryLimits, Key};
use crate::model::thing::Thing;

use super::{DynThing, Hosted};

impl<T: Thing> Hosted<T> {
    /// Record the Thing's notifications (observable properties, events) into a new history.
    pub(super) fn record_notifications(&self, limits: HistoryLimits) {
        let history = History::new(limits);
        if self.history.set(history.clone()).is_err() {
            return;
        }
        let properties = (0..self.property_count()).filter_map(|i| {
            let field = self.table.properties[i].def.observed_field(&self.thing)?;
            Some((field.topic(), Key::Property(i as u32)))
        });
        let events = (0..self.event_count()).map(|i| (self.event_topic(i), Key::Event(i as u32)));
        for (topic, key) in properties.chain(events) {
            if !topic.record_into(&history, key) {
                tracing::warn!(
                    thing = &*self.name,
                    "this Thing is published twice: clients of this publication cannot resume (its notifications are recorded by the other)"
                );
                return;
            }
        }
    }

    /// What the values of property `index` are, if it is observable and numeric or boolean.
    #[cfg(feature = "history")]
    pub(super) fn kind_of(&self, index: usize) -> Option<crate::broker::SeriesKind> {
        let property = &self.table.properties[index];
        property.def.observed_field(&self.thing)?;
        crate::broker::SeriesKind::of(&property.schema)
    }
}

/// The value history of property `index` of `thing`, if it keeps one.
#[cfg(feature = "history")]
pub(crate) fn series(thing: &dyn DynThing, index: usize) -> Option<&Arc<crate::broker::Series>> {
    thing.field(index)?.topic().series()
}

/// Start the value histories of `thing`: one for each observable numeric or boolean property,
/// bounded by `single(property)` or else `default`, starting with its value now.
#[cfg(feature = "history")]
pub(crate) fn keep_series(
    thing: &dyn DynThing,
    default: crate::broker::SeriesLimits,
    single: impl Fn(&str) -> Option<crate::broker::SeriesLimits>,
) {
    for index in 0..thing.property_count() {
        let (Some(kind), Some(field)) = (thing.series_kind(index), thing.field(index)) else {
            continue;
        };
        let limits = single(thing.property_name(index)).unwrap_or(default);
        if limits.samples > 0 {
            let series = Arc::new(crate::broker::Series::new(kind, limits));
            if let Ok(value) = field.read_json() {
                series.record(value.get());
            }
            if !field.topic().record_series(series) {
                tracing::warn!(
                    thing = &**thing.name(),
                    "this Thing is published twice: its value histories are kept by the other publication"
                );
            }
        }
    }
}
