//! Publishing to the broker within the packet size it takes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use bytes::Bytes;
use rumqttc::v5::AsyncClient;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{Publish, PublishProperties};

use crate::problem::Problem;

/// The MQTT client, with what bounds its packets.
#[derive(Clone)]
pub(super) struct Sender {
    pub(super) client: AsyncClient,
    /// The largest packet the broker takes (0: it set none), from its latest ConnAck.
    pub(super) limit: Arc<AtomicU32>,
    pub(super) level: QoS,
}

/// A packet larger than the broker takes: its size, and the broker's limit.
#[derive(Debug, Clone, Copy)]
pub(super) struct TooLarge {
    pub(super) size: usize,
    pub(super) limit: usize,
}

impl Sender {
    /// Publish, unless the packet would be larger than the broker takes: a client must not
    /// send one, and rumqttc drops the connection over it (and, for a retained value,
    /// again after every reconnection).
    pub(super) async fn send(
        &self,
        topic: String,
        retain: bool,
        payload: Bytes,
        properties: Option<PublishProperties>,
    ) -> Result<(), TooLarge> {
        let limit = self.limit.load(Ordering::Relaxed) as usize;
        let mut packet = Publish::new(
            topic.as_str(),
            self.level,
            payload.clone(),
            properties.clone(),
        );
        if self.level != QoS::AtMostOnce {
            packet.pkid = 1; // counted in the size
        }
        let size = packet.size();
        if limit != 0 && size > limit {
            return Err(TooLarge { size, limit });
        }
        let _ = match properties {
            Some(properties) => {
                self.client
                    .publish_with_properties(topic, self.level, retain, payload, properties)
                    .await
            }
            None => {
                self.client
                    .publish(topic, self.level, retain, payload)
                    .await
            }
        };
        Ok(())
    }

    /// Publish `problem` on a Thing's `errors` topic, naming the `topic` it is about; when
    /// that is larger than the broker takes, a shorter report without the details.
    pub(super) async fn report(&self, errors: String, problem: Problem, topic: &str) {
        let mut report = serde_json::to_value(&problem).unwrap_or_default();
        report["topic"] = topic.into();
        let full = self.send(errors.clone(), false, report.to_string().into(), None);
        if full.await.is_ok() {
            return;
        }
        tracing::warn!(topic, "{}", problem.detail);
        let short = Problem::new(
            problem.status,
            "these problem details are larger than the broker takes: the server's log has them",
        );
        let short = serde_json::to_string(&short).unwrap_or_default();
        let _ = self.send(errors, false, short.into(), None).await;
    }
}

/// The 413 of a publication that does not fit.
pub(super) fn too_large(what: &str, topic: &str, too_large: TooLarge) -> Problem {
    let TooLarge { size, limit } = too_large;
    Problem::new(
        413,
        format!(
            "the {what} was not published to '{topic}': as an MQTT packet it is {size} bytes, and the broker takes {limit} at most"
        ),
    )
}
