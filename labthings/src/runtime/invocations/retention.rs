//! Retention: ended invocations stay queryable for a while, then go with their blobs.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::Invocations;

/// Retention of finished invocations.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// How long a finished invocation stays queryable.
    pub time: Duration,
    /// At most this many finished invocations are kept (oldest removed first).
    pub max_finished: usize,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            time: Duration::from_secs(300),
            max_finished: 1000,
        }
    }
}

/// Ended invocations, in the order they ended.
pub(super) type Ended = VecDeque<(Instant, Uuid)>;

impl Invocations {
    /// Keep invocation `id`, which just ended, for the retention time.
    pub(super) fn retain(&self, id: Uuid) {
        self.ended_queue().push_back((Instant::now(), id));
        self.expire();
    }

    /// Remove ended invocations past the retention time, and the oldest ones beyond the cap.
    /// They are queued in the order they ended, so this only looks at the ones it removes.
    pub(super) fn expire(&self) {
        let now = Instant::now();
        let mut expired = Vec::new();
        {
            let mut ended = self.ended_queue();
            while let Some(&(at, id)) = ended.front() {
                if ended.len() > self.retention.max_finished
                    || now.duration_since(at) >= self.retention.time
                {
                    expired.push(id);
                    ended.pop_front();
                } else {
                    break;
                }
            }
        }
        if !expired.is_empty() {
            self.forget(&expired);
            // Their blobs go with them.
            self.blobs.release(&expired, now);
        }
    }

    /// Start the timer that expires ended invocations and unclaimed uploads (once, from within
    /// the runtime).
    pub(super) fn start_reaper(self: &Arc<Self>) {
        if self.reaper.swap(true, Ordering::Relaxed) {
            return;
        }
        let tick =
            (self.retention.time / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
        let this = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(tick);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                let Some(this) = this.upgrade() else { return };
                this.expire();
                // Uploads that no invocation took.
                this.blobs.release(&[], Instant::now());
            }
        });
    }
}
