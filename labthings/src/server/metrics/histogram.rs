//! A histogram of durations whose observations take no lock (atomic buckets and sum), for
//! the hot path: every HTTP request is timed.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::{MetricType, TypedMetric};

/// Durations, counted into buckets by their upper bounds (in seconds).
#[derive(Debug, Clone)]
pub(crate) struct Timings(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    /// The buckets' upper bounds, ascending; one more bucket, unbounded, follows.
    bounds: Vec<f64>,
    buckets: Box<[AtomicU64]>,
    sum_nanos: AtomicU64,
}

impl Timings {
    /// Buckets bounded by `bounds` (ascending, in seconds), and one unbounded.
    pub(crate) fn new(bounds: impl Iterator<Item = f64>) -> Self {
        let bounds: Vec<f64> = bounds.collect();
        let buckets = (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect();
        Self(Arc::new(Inner {
            bounds,
            buckets,
            sum_nanos: AtomicU64::new(0),
        }))
    }

    /// Count `took`.
    pub(crate) fn observe(&self, took: Duration) {
        let seconds = took.as_secs_f64();
        let inner = &*self.0;
        let bucket = (inner.bounds.iter())
            .position(|bound| seconds <= *bound)
            .unwrap_or(inner.bounds.len());
        inner.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        inner.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }
}

impl TypedMetric for Timings {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for Timings {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        let inner = &*self.0;
        let upper = inner
            .bounds
            .iter()
            .copied()
            .chain(std::iter::once(f64::MAX));
        let buckets: Vec<(f64, u64)> = upper
            .zip(inner.buckets.iter().map(|b| b.load(Ordering::Relaxed)))
            .collect();
        // The count is the buckets' sum, so that the two always agree.
        let count = buckets.iter().map(|(_, n)| n).sum();
        let sum = inner.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_the_first_bucket_that_holds_them() {
        let timings = Timings::new([0.001, 0.01].into_iter());
        for ms in [0, 1, 5, 10, 11, 1000] {
            timings.observe(Duration::from_millis(ms));
        }
        let counts: Vec<u64> = (timings.0.buckets.iter())
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        assert_eq!(counts, [2, 2, 2]);
        assert_eq!(timings.0.sum_nanos.load(Ordering::Relaxed), 1_027_000_000);
    }
}
