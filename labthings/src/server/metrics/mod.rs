//! Prometheus metrics, `GET /metrics` (feature `metrics`): HTTP requests by Thing,
//! affordance, method and status with their latency; open WebSocket, Server-Sent Events and
//! MJPEG connections; invocations by action and final status with their duration; broker
//! subscribers and those lagging; the MQTT connection and its messages; settings saves; and
//! the process (CPU, memory, file descriptors, threads). The text is OpenMetrics 1.0, as
//! Prometheus scrapes it; the route is guarded like any other (a token with the `observe`
//! scope when tokens are on).
//!
//! Every label comes from a bounded set: a request whose path names no Thing is counted with
//! empty `thing` and `affordance`, so that no client can grow the metrics.

mod collect;
mod histogram;
mod labels;
mod layer;
mod routes;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::exponential_buckets;
use prometheus_client::registry::{Registry, Unit};

use crate::broker::Mailbox;
use crate::runtime::invocations::Status;
use crate::runtime::observer::Observer;
use crate::server::http::extract::not_allowed;
use histogram::Timings;
use labels::{Action, Answered, Direction, Ended, Name, Outcome, Route};

pub(crate) use collect::Open;
pub(crate) use layer::MeasureLayer;

/// The path of the metrics, at the root whatever the prefix (as Prometheus expects).
pub(crate) const PATH: &str = "/metrics";

/// The content type of OpenMetrics text.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Timings whose buckets suit HTTP requests: 100 µs to about 26 s.
fn request_timings() -> Timings {
    Timings::new(exponential_buckets(0.0001, 4.0, 10))
}

/// Timings whose buckets suit invocations: 1 ms to about 4 min 22 s.
fn invocation_timings() -> Timings {
    Timings::new(exponential_buckets(0.001, 4.0, 10))
}

/// The metrics of one server.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<Answered, Counter>,
    latency: Family<Route, Timings, fn() -> Timings>,
    invocations: Family<Ended, Counter>,
    durations: Family<Action, Timings, fn() -> Timings>,
    settings: Family<Outcome, Counter>,
    mqtt_connected: Gauge,
    mqtt_messages: Family<Direction, Counter>,
    sse_streams: Gauge,
    mjpeg_viewers: Gauge,
    /// The server's connections, once it serves.
    open: Arc<OnceLock<Open>>,
    subscribers: Arc<collect::Subscribers>,
}

impl Metrics {
    /// Every metric, registered; the process's own when they can be read.
    pub(crate) fn new() -> Arc<Self> {
        let mut registry = Registry::default();
        let metrics = Self {
            requests: Family::default(),
            latency: Family::new_with_constructor(request_timings),
            invocations: Family::default(),
            durations: Family::new_with_constructor(invocation_timings),
            settings: Family::default(),
            mqtt_connected: Gauge::default(),
            mqtt_messages: Family::default(),
            sse_streams: Gauge::default(),
            mjpeg_viewers: Gauge::default(),
            open: Arc::default(),
            subscribers: Arc::default(),
            registry: Registry::default(),
        };
        let ours = registry.sub_registry_with_prefix("labthings");
        metrics.register(ours);
        if let Err(error) =
            kubert_prometheus_process::register(registry.sub_registry_with_prefix("process"))
        {
            tracing::warn!(%error, "the process metrics cannot be read here");
        }
        Arc::new(Self {
            registry,
            ..metrics
        })
    }

    fn register(&self, to: &mut Registry) {
        to.register(
            "http_requests",
            "HTTP requests answered, by Thing, affordance, method and status",
            self.requests.clone(),
        );
        to.register_with_unit(
            "http_request_duration",
            "Time to answer an HTTP request (to its headers, for a stream)",
            Unit::Seconds,
            self.latency.clone(),
        );
        to.register(
            "invocations",
            "Invocations ended, by Thing, action and final status",
            self.invocations.clone(),
        );
        to.register_with_unit(
            "invocation_duration",
            "How long invocations ran, by Thing and action",
            Unit::Seconds,
            self.durations.clone(),
        );
        to.register(
            "settings_saves",
            "Saves of a Thing's settings to its file, by outcome",
            self.settings.clone(),
        );
        to.register(
            "mqtt_connected",
            "Whether the MQTT binding is connected to its broker (1) or not (0)",
            self.mqtt_connected.clone(),
        );
        to.register(
            "mqtt_messages",
            "MQTT messages published to the broker (out) and received from it (in)",
            self.mqtt_messages.clone(),
        );
        to.register_collector(Box::new(collect::Connections {
            open: self.open.clone(),
            sse_streams: self.sse_streams.clone(),
            mjpeg_viewers: self.mjpeg_viewers.clone(),
            subscribers: self.subscribers.clone(),
        }));
    }

    /// The server serves: its connections are counted from now on.
    pub(crate) fn serving(&self, open: Open) {
        let _ = self.open.set(open);
    }

    /// Count `mailbox` as a subscriber while it lives.
    pub(crate) fn subscriber(&self, mailbox: &Arc<Mailbox>) {
        self.subscribers.add(mailbox);
    }

    /// Count an open Server-Sent Events stream (`sse`) or MJPEG stream while the guard
    /// lives.
    pub(crate) fn stream(&self, sse: bool) -> Viewer {
        let gauge = if sse {
            &self.sse_streams
        } else {
            &self.mjpeg_viewers
        };
        gauge.inc();
        Viewer(gauge.clone())
    }

    /// The MQTT binding connected (`true`) or lost its broker.
    #[cfg(feature = "mqtt")]
    pub(crate) fn mqtt_connected(&self, connected: bool) {
        self.mqtt_connected.set(i64::from(connected));
    }

    /// An MQTT message was published (`out`) or received.
    #[cfg(feature = "mqtt")]
    pub(crate) fn mqtt_message(&self, out: bool) {
        let direction = if out { "out" } else { "in" };
        self.mqtt_messages
            .get_or_create(&Direction { direction })
            .inc();
    }

    /// The metrics, as OpenMetrics text.
    fn render(&self) -> Response {
        let mut text = String::with_capacity(16 * 1024);
        if let Err(error) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            return crate::problem::Problem::internal(format!(
                "the metrics could not be written: {error}"
            ))
            .into_response();
        }
        let mut response = text.into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(OPENMETRICS));
        response
    }
}

impl Observer for Metrics {
    fn invocation_ended(
        &self,
        thing: &Arc<str>,
        action: &'static str,
        status: Status,
        ran: Option<Duration>,
    ) {
        let thing = Name(thing.clone());
        let ended = Ended {
            thing: thing.clone(),
            action,
            status: status.as_str(),
        };
        self.invocations.get_or_create(&ended).inc();
        if let Some(ran) = ran {
            let action = Action { thing, action };
            self.durations.get_or_create(&action).observe(ran);
        }
    }

    fn settings_saved(&self, thing: &Arc<str>, saved: bool) {
        let outcome = Outcome {
            thing: Name(thing.clone()),
            outcome: if saved { "saved" } else { "failed" },
        };
        self.settings.get_or_create(&outcome).inc();
    }
}

/// Counts an open stream while it lives.
#[derive(Debug)]
pub(crate) struct Viewer(Gauge);

impl Drop for Viewer {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// `GET /metrics`.
pub(crate) fn routes(metrics: Arc<Metrics>) -> Router {
    let route = get(move || {
        let metrics = metrics.clone();
        async move { metrics.render() }
    });
    Router::new().route(PATH, not_allowed(route, "GET"))
}
