//! Publishing every change of the Things: a mailbox follows every observable property,
//! event and action of the server (the WebSocket's bounded, coalescing queue: device code
//! never waits for the broker, and the latest value of each property is always published),
//! drained into the MQTT client.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio_util::sync::CancellationToken;

use super::Mqtt;
use super::sender::{Sender, too_large};
use crate::broker::{Delivery, Mailbox, MailboxLimits};
use crate::interaction::wire::{StatusEvent, Urls};
use crate::interaction::{Target, Things};
use crate::model::td::mqtt::Topics;
use crate::runtime::invocations::StatusNote;
use crate::server::state::ServerState;

/// A Thing as the binding sees it: its position among the server's Things, and its topics.
pub(super) struct Bridged {
    pub(super) index: usize,
    pub(super) topics: Topics,
}

/// What the binding publishes to.
pub(super) struct Publisher<'a> {
    pub(super) things: &'a Things,
    pub(super) bridged: &'a [Bridged],
    pub(super) sender: &'a Sender,
    /// The API prefix, for the paths in status events.
    pub(super) prefix: &'a str,
    /// The server, which counts the binding's mailbox among its subscribers.
    pub(super) state: &'a ServerState,
}

/// A publication of the binding.
struct Publication {
    topic: String,
    payload: Bytes,
    retain: bool,
    /// The Thing it is of.
    thing: usize,
    /// What it is, for a report: "property 'x'", "event 'y'", "action 'z'".
    what: String,
    /// A property value's quality, as the user property `quality` (MQTT 5), for a property
    /// with warning or alarm ranges.
    quality: Option<crate::model::quality::Quality>,
}

impl Publisher<'_> {
    /// Publish every change until `stop`; after each (re)connection, republish the current
    /// value of every observable property (retained).
    pub(super) async fn run(
        &self,
        mut connected: tokio::sync::watch::Receiver<u64>,
        config: &Mqtt,
        stop: &CancellationToken,
    ) {
        loop {
            let mailbox = Mailbox::new(MailboxLimits {
                queue: config.queue,
                ..MailboxLimits::default()
            });
            self.state.subscriber(&mailbox);
            let targets = self.follow(&mailbox);
            let mut batch = Vec::new();
            loop {
                tokio::select! {
                    biased;
                    () = stop.cancelled() => return self.last(&mailbox, &targets).await,
                    changed = connected.changed() => {
                        if changed.is_err() {
                            return self.unfollow(&mailbox, &targets);
                        }
                        self.current_values(&mailbox, &targets);
                    }
                    open = mailbox.recv_many(&mut batch) => {
                        if !open {
                            break;
                        }
                        for delivery in batch.drain(..) {
                            let Some(publication) = self.publication(&targets, delivery) else {
                                continue;
                            };
                            tokio::select! {
                                () = stop.cancelled() => return,
                                () = self.publish(publication) => {}
                            }
                        }
                    }
                }
            }
            // The broker was away so long that events overflowed the queue: they are lost (the
            // properties' latest values are not), and publishing starts afresh.
            self.unfollow(&mailbox, &targets);
            tracing::error!(
                "events and action statuses were dropped while the MQTT broker could not take them"
            );
            // The next round republishes current values, as after a connection.
            connected.mark_changed();
        }
    }

    /// The last changes (e.g. the statuses of cancelled invocations) go out.
    async fn last(&self, mailbox: &Arc<Mailbox>, targets: &[(usize, Target)]) {
        self.unfollow(mailbox, targets);
        let mut batch = Vec::new();
        let _ = mailbox.drain_into(&mut batch);
        let last = async {
            for delivery in batch.drain(..) {
                if let Some(publication) = self.publication(targets, delivery) {
                    self.publish(publication).await;
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_millis(500), last).await;
    }

    /// Follow every observable property, event and action into `mailbox`; the target of each
    /// slot.
    fn follow(&self, mailbox: &Arc<Mailbox>) -> Vec<(usize, Target)> {
        let mut slots = Vec::new();
        for (t, bridged) in self.bridged.iter().enumerate() {
            let thing = self.things.at(bridged.index);
            let dyn_thing = thing.thing();
            let actions = (0..dyn_thing.action_count()).map(Target::Action);
            let targets: Vec<Target> = (thing.observable_properties().into_iter())
                .chain(thing.events())
                .chain(actions)
                .collect();
            let slotted: Vec<_> = (targets.iter())
                .enumerate()
                .map(|(i, &target)| (target, (slots.len() + i) as u32))
                .collect();
            thing.follow(mailbox, &slotted, false, None, |_| {});
            slots.extend(targets.into_iter().map(|target| (t, target)));
        }
        slots
    }

    fn unfollow(&self, mailbox: &Arc<Mailbox>, targets: &[(usize, Target)]) {
        for &(t, target) in targets {
            let thing = self.things.at(self.bridged[t].index);
            thing.unfollow(mailbox, target);
        }
        mailbox.close();
    }

    /// Queue the current value of every observable property, in order with its changes (a
    /// fresh observation starts with the current value, race-free).
    fn current_values(&self, mailbox: &Arc<Mailbox>, targets: &[(usize, Target)]) {
        for (slot, &(t, target)) in targets.iter().enumerate() {
            if let Target::Property(_) = target {
                let thing = self.things.at(self.bridged[t].index);
                thing.unfollow(mailbox, target);
                thing.follow(mailbox, &[(target, slot as u32)], true, None, |_| {});
            }
        }
    }

    /// The publication of a delivery.
    fn publication(&self, targets: &[(usize, Target)], delivery: Delivery) -> Option<Publication> {
        let (slot, payload) = match delivery {
            Delivery::Property(slot, note) | Delivery::Event(slot, note) => {
                (slot, Bytes::copy_from_slice(note.json.as_bytes()))
            }
            Delivery::Status(slot, status) => {
                let note = status.downcast_ref::<StatusNote>()?;
                let urls = Urls {
                    origin: "",
                    prefix: self.prefix,
                };
                let event = StatusEvent::new(&note.snapshot, urls, &note.logged);
                let payload = Bytes::from(serde_json::to_vec(&event).ok()?);
                let &(t, _) = targets.get(slot as usize)?;
                let name = note.snapshot.action;
                let topic = self.bridged[t]
                    .topics
                    .invocation(name, &note.snapshot.id.to_string());
                return Some(Publication {
                    topic,
                    payload,
                    retain: false,
                    thing: t,
                    what: format!("action '{name}'"),
                    quality: None,
                });
            }
            Delivery::Message(_) => return None,
        };
        let &(t, target) = targets.get(slot as usize)?;
        let (thing, topics) = (
            self.things.at(self.bridged[t].index),
            &self.bridged[t].topics,
        );
        let mut quality = None;
        let (topic, retain, what) = match target {
            Target::Property(i) => {
                let property = thing.property_at(i);
                let name = property.name();
                quality = std::str::from_utf8(&payload)
                    .ok()
                    .and_then(|json| property.quality(json));
                (topics.property(name), true, format!("property '{name}'"))
            }
            Target::Event(i) => {
                let name = thing.event_at(i).name();
                (topics.event(name), false, format!("event '{name}'"))
            }
            Target::Action(_) => return None,
        };
        Some(Publication {
            topic,
            payload,
            retain,
            thing: t,
            what,
            quality,
        })
    }

    /// Publish `publication`; one larger than the broker takes is left out, and the Thing's
    /// `errors` topic says so.
    async fn publish(&self, publication: Publication) {
        let Publication {
            topic,
            payload,
            retain,
            thing,
            what,
            quality,
        } = publication;
        let properties = quality.map(|q| rumqttc::v5::mqttbytes::v5::PublishProperties {
            user_properties: vec![("quality".to_owned(), q.as_str().to_owned())],
            ..Default::default()
        });
        let Err(size) = self
            .sender
            .send(topic.clone(), retain, payload, properties)
            .await
        else {
            return;
        };
        let problem = too_large(&what, &topic, size);
        tracing::error!("{}", problem.detail);
        let errors = self.bridged[thing].topics.errors();
        self.sender.report(errors, problem, &topic).await;
    }
}
