//! The metrics read when Prometheus scrapes: open connections, from the server's own
//! bounds, and broker subscribers, from their mailboxes.

use std::sync::{Arc, Mutex, OnceLock, Weak};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use tokio::sync::Semaphore;

use crate::broker::Mailbox;
use crate::sync::Locked;

/// The bound of a server's WebSockets: what is open is what is taken.
#[derive(Debug)]
pub(crate) struct Open {
    pub(crate) websockets: Arc<Semaphore>,
    pub(crate) max_websockets: usize,
}

/// The mailboxes of the bindings' subscribers, while they live.
#[derive(Debug, Default)]
pub(crate) struct Subscribers {
    mailboxes: Mutex<Vec<Weak<Mailbox>>>,
}

impl Subscribers {
    pub(crate) fn add(&self, mailbox: &Arc<Mailbox>) {
        let mut mailboxes = self.mailboxes.locked();
        // Forget the closed ones before the list doubles: it stays within twice the number
        // of live subscribers.
        if mailboxes.len() == mailboxes.capacity() {
            mailboxes.retain(|m| m.strong_count() > 0);
        }
        mailboxes.push(Arc::downgrade(mailbox));
    }

    /// Subscribers alive, and those of them lagging (their changes coalesced).
    fn count(&self) -> (i64, i64) {
        let mut mailboxes = self.mailboxes.locked();
        mailboxes.retain(|m| m.strong_count() > 0);
        let lagging = mailboxes
            .iter()
            .filter_map(Weak::upgrade)
            .filter(|m| m.is_lagging())
            .count();
        (mailboxes.len() as i64, lagging as i64)
    }
}

/// Reads the connections and subscribers on each scrape.
#[derive(Debug)]
pub(crate) struct Connections {
    pub(crate) open: Arc<OnceLock<Open>>,
    pub(crate) sse_streams: Gauge,
    pub(crate) mjpeg_viewers: Gauge,
    pub(crate) subscribers: Arc<Subscribers>,
}

impl Connections {
    fn gauges(&self) -> [(&'static str, &'static str, i64); 5] {
        let websockets = self.open.get().map_or(0, |open| {
            let free = open.websockets.available_permits();
            open.max_websockets.saturating_sub(free) as i64
        });
        let viewers = self.mjpeg_viewers.get();
        let (subscribers, lagging) = self.subscribers.count();
        [
            (
                "websocket_connections",
                "Open WebSocket connections (both dialects)",
                websockets,
            ),
            (
                "sse_connections",
                "Open Server-Sent Events streams",
                self.sse_streams.get(),
            ),
            ("mjpeg_viewers", "Open MJPEG streams", viewers),
            (
                "subscribers",
                "Subscribers of the Things' notifications (WebSocket, SSE, MQTT)",
                subscribers,
            ),
            (
                "lagging_subscribers",
                "Subscribers that fell behind: their property changes are coalesced to the latest",
                lagging,
            ),
        ]
    }
}

impl Collector for Connections {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        for (name, help, value) in self.gauges() {
            let gauge = ConstGauge::new(value);
            let metric = encoder.encode_descriptor(name, help, None, gauge.metric_type())?;
            gauge.encode(metric)?;
        }
        Ok(())
    }
}
