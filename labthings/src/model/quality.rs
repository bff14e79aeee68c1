//! The quality of a value (Tango's attribute quality, EPICS's alarm severity): `valid` inside
//! its property's warning range, `warning` outside it but inside the alarm range, `alarm`
//! outside that. A property declares its ranges with `#[property(warning = a..=b, alarm =
//! c..=d)]`; either may be left out.
//!
//! The server follows each observable property with ranges: on each change of quality it
//! emits the Thing's [`ALARM`] event, `{"property", "from", "to", "value"}`, so that a client
//! can subscribe to alarms only.

use serde::Serialize;

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
    /// Every quality, in the order of their discriminants.
    #[cfg_attr(not(feature = "server"), allow(dead_code))]
    pub(crate) const ALL: [Self; 3] = [Self::Valid, Self::Warning, Self::Alarm];

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
pub(crate) fn number(json: &str) -> f64 {
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
