//! The quality of a value (Tango's attribute quality, EPICS's alarm severity): `valid` inside
//! its property's warning range, `warning` outside it but inside the alarm range, `alarm`
//! outside that. A property declares its ranges with `#[property(warning = a..=b, alarm =
//! c..=d)]`; either may be left out.
//!
//! A [`Judge`] follows one observable property's topic: on each change of quality it emits
//! the Thing's [`ALARM`] event, `{"property", "from", "to", "value"}`, so that a client can
//! subscribe to alarms only.

use std::sync::atomic::{AtomicU8, Ordering};

use serde::Serialize;

use super::Topic;

/// The name of the event of a Thing whose observable properties declare ranges: one
/// emission per change of a value's quality.
pub const ALARM: &str = "alarm";

/// The ranges of a property (both bounds included).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Ranges {
    /// Outside it, a value is a warning.
    pub warning: Option<(f64, f64)>,
    /// Outside it, a value is an alarm.
    pub alarm: Option<(f64, f64)>,
}

/// How a value stands against its property's ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Quality {
    /// Within its ranges.
    Valid,
    /// Outside the warning range, within the alarm range.
    Warning,
    /// Outside the alarm range.
    Alarm,
}

impl Quality {
    const ALL: [Self; 3] = [Self::Valid, Self::Warning, Self::Alarm];

    /// Its name on the wire: `valid`, `warning`, `alarm`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Warning => "warning",
            Self::Alarm => "alarm",
        }
    }
}

impl Ranges {
    /// No ranges: every value is valid.
    pub const NONE: Self = Self {
        warning: None,
        alarm: None,
    };

    /// Whether it declares any range.
    pub fn any(&self) -> bool {
        self.warning.is_some() || self.alarm.is_some()
    }

    /// The quality of `value` (a value that is not a number, `NaN` among them, is an alarm:
    /// nothing says it is fine).
    pub fn quality(&self, value: f64) -> Quality {
        let within =
            |range: Option<(f64, f64)>| range.is_none_or(|(lo, hi)| lo <= value && value <= hi);
        if !within(self.alarm) || value.is_nan() {
            Quality::Alarm
        } else if !within(self.warning) {
            Quality::Warning
        } else {
            Quality::Valid
        }
    }

    /// The quality of a JSON value, if the property has ranges: a number is judged, and
    /// anything else (`null`, what a `NaN` or an infinity is written as) is an alarm.
    pub fn quality_of_json(&self, json: &str) -> Option<Quality> {
        self.any().then(|| self.quality(number(json)))
    }
}

/// The number a JSON value is (`NaN` for anything else).
fn number(json: &str) -> f64 {
    json.trim().parse::<f64>().unwrap_or(f64::NAN)
}

/// One emission of the [`ALARM`] event: a property's value changed quality.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct QualityChange {
    /// The property.
    pub property: String,
    /// Its quality before: `valid`, `warning` or `alarm`.
    pub from: String,
    /// Its quality now.
    pub to: String,
    /// The value that has it (`null` when it is not a number).
    pub value: Option<f64>,
}

/// What follows one property's values and emits the alarm event when their quality changes.
#[derive(Debug)]
pub(crate) struct Judge {
    property: &'static str,
    ranges: Ranges,
    /// The quality of the last value, as its place in [`Quality::ALL`].
    last: AtomicU8,
    alarm: Topic,
}

impl Judge {
    /// A judge of `property`'s values by `ranges`, whose current value is `current`
    /// (JSON), emitting on `alarm`.
    pub(crate) fn new(property: &'static str, ranges: Ranges, current: &str, alarm: Topic) -> Self {
        let quality = ranges.quality_of_json(current).unwrap_or(Quality::Valid);
        Self {
            property,
            ranges,
            last: AtomicU8::new(quality as u8),
            alarm,
        }
    }

    /// Judge a value just published (JSON): emit the alarm event if its quality differs
    /// from the last one's.
    pub(crate) fn judge(&self, json: &str) {
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

    #[test]
    fn a_value_is_judged_by_the_ranges_it_leaves() {
        let ranges = Ranges {
            warning: Some((15.0, 35.0)),
            alarm: Some((5.0, 45.0)),
        };
        let judged =
            [4.9, 5.0, 14.0, 15.0, 35.0, 35.5, 45.0, 46.0, f64::NAN].map(|v| ranges.quality(v));
        use Quality::*;
        assert_eq!(
            judged,
            [
                Alarm, Warning, Warning, Valid, Valid, Warning, Warning, Alarm, Alarm
            ]
        );
        assert_eq!(ranges.quality_of_json("20"), Some(Valid));
        assert_eq!(ranges.quality_of_json("null"), Some(Alarm));
        assert_eq!(Ranges::NONE.quality_of_json("1000"), None);
        let alarm_only = Ranges {
            warning: None,
            alarm: Some((0.0, 1.0)),
        };
        assert_eq!(alarm_only.quality(0.5), Valid);
    }
}
