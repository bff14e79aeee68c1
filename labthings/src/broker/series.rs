//! The value history of one observable numeric or boolean property: the samples a plot is
//! drawn from.
//!
//! A [`Series`] is fed by its property's [`Topic`](super::Topic) as each value is published,
//! under the topic's own call, so it misses no value however slow its readers are. It keeps at
//! most [`SeriesLimits::samples`] samples of 16 bytes each (a time and a value), none older
//! than [`SeriesLimits::age`]: its memory is bounded by `16 × samples` bytes, allocated as it
//! fills, never more.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::sync::Locked;

/// Bounds of the value history of one property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SeriesLimits {
    /// Samples kept (0: no history).
    pub(crate) samples: usize,
    /// How long a sample is kept.
    pub(crate) age: Duration,
}

/// What the values of a property are, as its schema says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SeriesKind {
    /// Numbers (`number` or `integer`).
    Number,
    /// Booleans, kept as 0 and 1 and given back as `false` and `true`.
    Boolean,
}

impl SeriesKind {
    /// The kind of values `schema` (a TD data schema) describes, if numeric or boolean
    /// (possibly nullable: a `null` is kept as a gap).
    pub(crate) fn of(schema: &Value) -> Option<Self> {
        let kind = |name: &str| match name {
            "number" | "integer" => Some(Self::Number),
            "boolean" => Some(Self::Boolean),
            _ => None,
        };
        match &schema["type"] {
            Value::String(name) => return kind(name),
            Value::Array(names) => {
                let mut kinds = names
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|n| *n != "null");
                return match (kinds.next(), kinds.next()) {
                    (Some(name), None) => kind(name),
                    _ => None,
                };
            }
            _ => {}
        }
        let choices = schema["oneOf"].as_array().or(schema["anyOf"].as_array())?;
        let mut kinds = choices.iter().filter(|c| c["type"] != "null");
        match (kinds.next(), kinds.next()) {
            (Some(choice), None) => Self::of(choice),
            _ => None,
        }
    }
}

/// One sample: when the value was published (milliseconds since the Unix epoch) and the value
/// (NaN for `null`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Sample {
    /// Milliseconds since the Unix epoch.
    pub(crate) at_ms: i64,
    /// The value; NaN stands for `null` (a gap).
    pub(crate) value: f64,
}

impl Sample {
    /// The value as JSON, of the series' kind.
    pub(crate) fn json(&self, kind: SeriesKind) -> Value {
        match kind {
            _ if self.value.is_nan() => Value::Null,
            SeriesKind::Boolean => Value::Bool(self.value != 0.0),
            SeriesKind::Number if self.value.fract() == 0.0 && self.value.abs() < 9.0e15 => {
                Value::from(self.value as i64)
            }
            SeriesKind::Number => Value::from(self.value),
        }
    }
}

/// The samples of a query, oldest first, and how many newer than `since` were left out for
/// `limit` (the oldest of them).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Samples {
    /// The samples returned, oldest first.
    pub(crate) samples: Vec<Sample>,
    /// Samples after `since` left out by `limit`: the oldest ones.
    pub(crate) omitted: usize,
}

/// The value history of one property.
#[derive(Debug)]
pub(crate) struct Series {
    kind: SeriesKind,
    limits: SeriesLimits,
    samples: Mutex<VecDeque<Sample>>,
}

/// Milliseconds since the Unix epoch (negative before it).
pub(crate) fn unix_ms(at: SystemTime) -> i64 {
    match at.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

impl Series {
    /// An empty history of values of `kind`, bounded by `limits`.
    pub(crate) fn new(kind: SeriesKind, limits: SeriesLimits) -> Self {
        Self {
            kind,
            limits,
            samples: Mutex::new(VecDeque::new()),
        }
    }

    /// What its values are.
    pub(crate) fn kind(&self) -> SeriesKind {
        self.kind
    }

    /// Record `json`, a value of the property published now; a value that is not of the
    /// series' kind (nor `null`) is not recorded.
    pub(crate) fn record(&self, json: &str) {
        self.record_at(json, SystemTime::now());
    }

    /// Record `json`, published at `at`.
    pub(crate) fn record_at(&self, json: &str, at: SystemTime) {
        let value = match (self.kind, json.trim()) {
            (_, "null") => f64::NAN,
            (SeriesKind::Boolean, "true") => 1.0,
            (SeriesKind::Boolean, "false") => 0.0,
            (SeriesKind::Number, number) => match number.parse::<f64>() {
                Ok(value) if value.is_finite() => value,
                _ => return,
            },
            _ => return,
        };
        let at_ms = unix_ms(at);
        let mut samples = self.samples.locked();
        Self::evict(&mut samples, self.limits, at_ms);
        if samples.len() == self.limits.samples {
            samples.pop_front();
        } else if samples.len() == samples.capacity() {
            // Grow by doubling, but never past the bound.
            let more = samples
                .capacity()
                .max(16)
                .min(self.limits.samples - samples.len());
            samples.reserve_exact(more);
        }
        if self.limits.samples > 0 {
            samples.push_back(Sample { at_ms, value });
        }
    }

    fn evict(samples: &mut VecDeque<Sample>, limits: SeriesLimits, now_ms: i64) {
        let age = i64::try_from(limits.age.as_millis()).unwrap_or(i64::MAX);
        let oldest = now_ms.saturating_sub(age);
        while samples.front().is_some_and(|s| s.at_ms < oldest) {
            samples.pop_front();
        }
    }

    /// The samples published after `since` (all kept, without it), oldest first: at most
    /// `limit`, the most recent ones.
    pub(crate) fn query(&self, since: Option<SystemTime>, limit: usize) -> Samples {
        let now = unix_ms(SystemTime::now());
        let mut samples = self.samples.locked();
        Self::evict(&mut samples, self.limits, now);
        let first = match since.map(unix_ms) {
            Some(since) => samples.partition_point(|s| s.at_ms <= since),
            None => 0,
        };
        let after = samples.len() - first;
        let omitted = after.saturating_sub(limit);
        Samples {
            samples: samples.range(first + omitted..).copied().collect(),
            omitted,
        }
    }

    /// Bytes of samples it holds memory for now (at most `16 × samples`).
    #[cfg(test)]
    pub(crate) fn memory(&self) -> usize {
        self.samples.locked().capacity() * std::mem::size_of::<Sample>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn limits(samples: usize) -> SeriesLimits {
        SeriesLimits {
            samples,
            age: Duration::from_secs(3600),
        }
    }

    #[test]
    fn kinds_follow_the_schema() {
        assert_eq!(
            SeriesKind::of(&json!({"type": "integer"})),
            Some(SeriesKind::Number)
        );
        assert_eq!(
            SeriesKind::of(&json!({"type": ["boolean", "null"]})),
            Some(SeriesKind::Boolean)
        );
        assert_eq!(
            SeriesKind::of(&json!({"oneOf": [{"type": "number"}, {"type": "null"}]})),
            Some(SeriesKind::Number)
        );
        assert_eq!(SeriesKind::of(&json!({"type": "string"})), None);
        assert_eq!(SeriesKind::of(&json!({"type": "object"})), None);
        assert_eq!(SeriesKind::of(&json!({"type": ["number", "string"]})), None);
    }

    #[test]
    fn the_bound_keeps_the_latest_and_memory_never_exceeds_it() {
        // The default bound (`Limits::property_history`): 160,000 bytes.
        let series = Series::new(SeriesKind::Number, limits(10_000));
        for i in 0..25_000 {
            series.record(&i.to_string());
        }
        let all = series.query(None, usize::MAX);
        assert_eq!(all.samples.len(), 10_000);
        assert_eq!(all.samples[0].value, 15_000.0);
        assert_eq!(all.samples[9_999].value, 24_999.0);
        assert_eq!(series.memory(), 160_000);
    }

    #[test]
    fn since_and_limit_select_the_most_recent() {
        let series = Series::new(SeriesKind::Boolean, limits(10));
        let start = SystemTime::now();
        for i in 0..6u64 {
            let json = if i % 2 == 0 { "true" } else { "false" };
            series.record_at(json, start + Duration::from_millis(i));
        }
        series.record_at("\"text\"", start + Duration::from_millis(7));
        series.record_at("null", start + Duration::from_millis(8));
        let after = series.query(Some(start + Duration::from_millis(2)), 2);
        assert_eq!(after.omitted, 2);
        let values: Vec<Value> = after
            .samples
            .iter()
            .map(|s| s.json(series.kind()))
            .collect();
        assert_eq!(values, [json!(false), json!(null)]);
    }

    #[test]
    fn old_samples_are_evicted() {
        let series = Series::new(
            SeriesKind::Number,
            SeriesLimits {
                samples: 10,
                age: Duration::from_secs(60),
            },
        );
        let now = SystemTime::now();
        series.record_at("1", now - Duration::from_secs(120));
        series.record_at("2.5", now);
        let kept = series.query(None, 10);
        assert_eq!(kept.samples.len(), 1);
        assert_eq!(kept.samples[0].json(SeriesKind::Number), json!(2.5));
    }
}
