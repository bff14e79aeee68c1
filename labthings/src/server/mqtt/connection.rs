//! The connection to the broker: polled until stopped (it reconnects on its own when polled
//! after an error), it records the broker's packet limit, subscribes to the requests after
//! each connection and hands each request to be answered.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rumqttc::Outgoing;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{ConnAck, Filter, Packet, Publish, RetainForwardRule};
use rumqttc::v5::{Event, EventLoop};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::binding::Binding;
use crate::problem::{Problem, refusals};

/// Requests carried out at once; more are refused with 503 until some are done.
pub(super) const MAX_REQUESTS: usize = 64;

/// The connection's own state.
pub(super) struct Connection {
    pub(super) binding: Arc<Binding>,
    pub(super) eventloop: EventLoop,
    /// Told (its count raised) once the request subscriptions of a connection are queued.
    pub(super) connected: tokio::sync::watch::Sender<u64>,
    /// Places of the requests being answered.
    pub(super) answering: Arc<Semaphore>,
    /// Whether to take requests at all.
    pub(super) requests: bool,
    pub(super) level: QoS,
    /// Ends the polling, once what was pending is sent.
    pub(super) stop: CancellationToken,
}

impl Connection {
    /// Poll the connection until it disconnects or is stopped.
    pub(super) async fn run(mut self) {
        let mut away_since: Option<Instant> = None;
        loop {
            let event = tokio::select! {
                () = self.stop.cancelled() => break,
                event = self.eventloop.poll() => event,
            };
            match event {
                Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                    if let Some(since) = away_since.take() {
                        tracing::info!(after = ?since.elapsed(), "the MQTT broker is back");
                    }
                    self.binding.state.mqtt_connected(true);
                    self.connected(&ack);
                }
                Ok(Event::Incoming(Packet::Publish(publish))) => {
                    self.binding.state.mqtt_message(false);
                    if self.requests && !publish.retain {
                        self.request(publish)
                    }
                }
                Ok(Event::Outgoing(Outgoing::Publish(_))) => self.binding.state.mqtt_message(true),
                Ok(Event::Outgoing(Outgoing::Disconnect)) => break,
                Ok(_) => {}
                Err(error) => {
                    self.binding.state.mqtt_connected(false);
                    if away_since.is_none() {
                        tracing::warn!(%error, "the MQTT broker cannot be reached: retrying every second");
                        away_since = Some(Instant::now());
                    }
                    tokio::select! {
                        () = self.stop.cancelled() => break,
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
        }
        self.binding.state.mqtt_connected(false);
    }

    /// A (re)connection: the broker's packet limit, then the request subscriptions.
    fn connected(&self, ack: &ConnAck) {
        let max = ack.properties.as_ref().and_then(|p| p.max_packet_size);
        let sender = &self.binding.sender;
        sender.limit.store(max.unwrap_or(0), Ordering::Relaxed);
        if !self.requests {
            self.connected.send_modify(|n| *n += 1);
            return;
        }
        // Never awaited here: the requests' queue may be full of publications that only this
        // loop, polling, can send. The publisher is told of the connection only once the
        // subscriptions are queued, so that they reach the broker before the current values
        // do: a client that has seen a value knows that its requests are heard.
        let (client, binding, level) = (sender.client.clone(), self.binding.clone(), self.level);
        let connected = self.connected.clone();
        tokio::spawn(async move {
            // Not its own messages (a reply must never be taken for a request), and no
            // retained request is ever carried out.
            let filters = (binding.bridged.iter())
                .flat_map(|b| b.topics.request_filters())
                .map(|path| Filter {
                    nolocal: true,
                    retain_forward_rule: RetainForwardRule::Never,
                    ..Filter::new(path, level)
                });
            let _ = client.subscribe_many(filters.collect::<Vec<_>>()).await;
            connected.send_modify(|n| *n += 1);
        });
    }

    /// A request: answered in a task of its own, or refused while shutting down or when too
    /// many are being answered.
    fn request(&self, publish: Publish) {
        let binding = self.binding.clone();
        let permit = self.answering.clone().try_acquire_owned();
        let refusal = if binding.stopping() {
            Some(refusals::shutting_down())
        } else if permit.is_err() {
            Some(Problem::new(
                503,
                format!(
                    "the server is carrying out {MAX_REQUESTS} MQTT requests already: try again"
                ),
            ))
        } else {
            None
        };
        tokio::spawn(async move {
            let _permit = permit.as_ref().ok();
            binding.answering().answer(publish, refusal).await;
        });
    }
}
