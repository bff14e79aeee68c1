//! What the bindings of a serving server share.

use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

#[cfg(feature = "mqtt")]
use super::mqtt::Mqtt;
use super::security::Policy;
use super::ws::{ThingView, WsLimits};
use crate::interaction::Things;
use crate::runtime::lifecycle::Lifecycle;
use crate::runtime::limits::Limits;

/// The state every request handler and binding of a server holds.
pub(crate) struct ServerState {
    /// The Things, behind the interaction interface.
    pub(crate) things: Things,
    /// The API prefix (empty, or starting with `/`).
    pub(crate) prefix: String,
    pub(crate) limits: Limits,
    pub(crate) ws: WsLimits,
    pub(crate) policy: Arc<Policy>,
    /// Names this server in its Things' TD `id`s.
    pub(crate) server_id: String,
    /// The MQTT binding, when configured.
    #[cfg(feature = "mqtt")]
    pub(crate) mqtt: Option<Mqtt>,
    /// What WebSocket connections know of each Thing, in order: computed once.
    pub(crate) views: Arc<[Arc<ThingView>]>,
    /// The connections that outlive a request: WebSockets and streams.
    pub(crate) open: Open,
    /// Where uploads are written (created on the first upload).
    pub(crate) upload_dir: std::path::PathBuf,
    /// What stopping the Things needs.
    pub(crate) lifecycle: Lifecycle,
    /// The directory this server registers its Things into.
    #[cfg(feature = "directory")]
    pub(crate) directory: Option<super::discovery::register::Directory>,
    /// The TDs other servers registered into this server's directory.
    pub(crate) registered: super::discovery::Registered,
    /// The server's metrics, when they are on.
    #[cfg(feature = "metrics")]
    pub(crate) metrics: Option<Arc<super::metrics::Metrics>>,
}

/// The connections that outlive a request, and their bounds.
pub(crate) struct Open {
    /// The open WebSocket connections, so that shutdown can wait for their close frames.
    pub(crate) websockets: TaskTracker,
    /// One per WebSocket that may open.
    pub(crate) websocket_permits: Arc<Semaphore>,
    /// One per Server-Sent Events or MJPEG stream that may open.
    pub(crate) stream_permits: Arc<Semaphore>,
    /// Cancelled when the shutdown deadline passed: connections still open are dropped.
    pub(crate) kill: CancellationToken,
}

impl Open {
    pub(crate) fn new(limits: &Limits) -> Self {
        Self {
            websockets: TaskTracker::new(),
            websocket_permits: Arc::new(Semaphore::new(limits.max_websockets)),
            stream_permits: Arc::new(Semaphore::new(limits.max_event_streams)),
            kill: CancellationToken::new(),
        }
    }
}

impl ServerState {
    /// Count `mailbox` as a subscriber of the Things' notifications while it lives.
    pub(crate) fn subscriber(&self, _mailbox: &Arc<crate::broker::Mailbox>) {
        #[cfg(feature = "metrics")]
        if let Some(metrics) = &self.metrics {
            metrics.subscriber(_mailbox);
        }
    }

    /// The MQTT binding connected to its broker (`true`), or lost it.
    #[cfg(feature = "mqtt")]
    pub(crate) fn mqtt_connected(&self, _connected: bool) {
        #[cfg(feature = "metrics")]
        if let Some(metrics) = &self.metrics {
            metrics.mqtt_connected(_connected);
        }
    }

    /// The MQTT binding published a message (`out`), or received one.
    #[cfg(feature = "mqtt")]
    pub(crate) fn mqtt_message(&self, _out: bool) {
        #[cfg(feature = "metrics")]
        if let Some(metrics) = &self.metrics {
            metrics.mqtt_message(_out);
        }
    }

    /// Counts an open Server-Sent Events stream (`sse`) or MJPEG stream while it is kept.
    pub(crate) fn open_stream(&self, _sse: bool) -> impl Send + Sync + 'static {
        #[cfg(feature = "metrics")]
        return self.metrics.as_ref().map(|m| m.stream(_sse));
        #[cfg(not(feature = "metrics"))]
        ()
    }

    /// Cancelled when the server shuts down (running invocations are cancelled, streams end,
    /// WebSockets close).
    pub(crate) fn shutdown(&self) -> &CancellationToken {
        &self.things.invocations.shutdown
    }
}
