//! Latency percentiles.

use std::time::Duration;

/// A sorted set of latencies.
pub(crate) struct Latencies(Vec<Duration>);

impl Latencies {
    pub(crate) fn new(mut all: Vec<Duration>) -> Self {
        all.sort_unstable();
        Self(all)
    }

    /// The `p`-th percentile in milliseconds (0 when empty).
    pub(crate) fn percentile_ms(&self, p: f64) -> f64 {
        if self.0.is_empty() {
            return 0.0;
        }
        let i = ((p / 100.0) * (self.0.len() - 1) as f64).round() as usize;
        self.0[i].as_secs_f64() * 1000.0
    }

    /// The samples, to merge with others.
    pub(crate) fn into_samples(self) -> Vec<Duration> {
        self.0
    }

    pub(crate) fn max_ms(&self) -> f64 {
        self.0.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    }

    /// `p50 / p99 / max ms`, as the fan-out tables show them.
    pub(crate) fn p50_p99_max(&self) -> String {
        format!(
            "{:.2} / {:.2} / {:.2} ms",
            self.percentile_ms(50.0),
            self.percentile_ms(99.0),
            self.max_ms()
        )
    }
}
