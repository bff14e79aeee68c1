//! The value histories of the Things' properties, started as the Things are prepared.

use std::sync::Arc;

use super::StartError;
use crate::broker::SeriesLimits;
use crate::model::table::Affordance;
use crate::runtime::hosted::{DynThing, keep_series};

/// Start the value history of every observable numeric or boolean property of `things`,
/// bounded by `default` or by the bounds `single` sets for it. Bounds set for a property
/// that has none (no such Thing, property, or not observable and numeric) are an error.
pub(super) fn keep(
    things: &[(String, Arc<dyn DynThing>)],
    default: SeriesLimits,
    single: &[(String, String, SeriesLimits)],
) -> Result<(), StartError> {
    let problems: Vec<String> = single
        .iter()
        .filter_map(|(thing, property, _)| unknown(things, thing, property))
        .collect();
    if !problems.is_empty() {
        return Err(StartError { problems });
    }
    for (name, thing) in things {
        keep_series(&**thing, default, |property| {
            (single.iter().rev())
                .find(|(t, p, _)| t == name && p == property)
                .map(|(_, _, limits)| *limits)
        });
    }
    Ok(())
}

/// Why `thing`'s `property` cannot have a value history, if it cannot.
fn unknown(things: &[(String, Arc<dyn DynThing>)], thing: &str, property: &str) -> Option<String> {
    let Some((_, hosted)) = things.iter().find(|(name, _)| name == thing) else {
        return Some(format!(
            "`property_history` names Thing '{thing}', which this server does not publish"
        ));
    };
    let index = match hosted.lookup(property) {
        Some(Affordance::Property(index)) => index,
        _ => {
            return Some(format!(
                "`property_history` names property '{property}' of Thing '{thing}', which has no such property"
            ));
        }
    };
    match hosted.series_kind(index) {
        Some(_) => None,
        None => Some(format!(
            "`property_history` names property '{property}' of Thing '{thing}': only observable number, integer and boolean properties keep a value history"
        )),
    }
}
