//! The judges of a hosted Thing: each observable property with warning or alarm ranges has
//! its values judged as they are published, and a change of their quality emitted as the
//! Thing's `alarm` event.

use crate::broker::Topic;
use crate::broker::quality::Judge;
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
        field.topic().judge_with(judge);
    }
}
