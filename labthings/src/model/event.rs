//! Events: typed notifications that a Thing emits, delivered to every subscriber in order.
//!
//! A `#[thing]` struct declares an event as a field marked `#[event]`, of type
//! [`Event<T>`]; its doc comment gives the TD title and description, and `T` (which derives
//! `Serialize` and `JsonSchema`) the TD `data` schema. Rust code emits it with
//! [`Event::emit`]; a value of another type does not compile.
//!
//! ```
//! use labthings::{thing, Event};
//!
//! /// How far the stage went.
//! #[derive(Clone, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
//! pub struct Moved {
//!     /// Steps travelled.
//!     pub steps: u64,
//! }
//!
//! /// A stage.
//! #[thing]
//! pub struct Stage {
//!     /// Emitted after each move.
//!     #[event]
//!     moved: Event<Moved>,
//! }
//!
//! let stage = Stage { moved: Event::new() };
//! stage.moved.emit(Moved { steps: 10 });
//! ```
//!
//! Every subscriber — a WebSocket client (`subscribeevent`), an SSE stream, a Rust
//! [`EventSubscription`] — receives every emission in order, or is told that it fell behind:
//! a subscriber whose queue of undelivered events overflows is ended (a WebSocket is closed
//! with 1008 and a reason; an SSE stream ends with an `error` message; a Rust subscription's
//! [`next`](EventSubscription::next) returns `None` and
//! [`fell_behind`](EventSubscription::fell_behind) says so). Events are never dropped
//! silently, and never coalesced.

use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::broker::{Delivery, Mailbox, MailboxLimits, Topic};

/// An event of a Thing, carrying data of type `T`: a field marked `#[event]`.
pub struct Event<T> {
    topic: Topic,
    _data: PhantomData<fn(T)>,
}

impl<T> Event<T> {
    /// An event nobody listens to yet.
    pub fn new() -> Self {
        Self {
            topic: Topic::new(),
            _data: PhantomData,
        }
    }

    /// Whether anyone listens (or a history records it): when nobody does, emitting costs
    /// nothing.
    pub fn has_subscribers(&self) -> bool {
        self.topic.has_subscribers()
    }

    #[doc(hidden)]
    pub fn topic(&self) -> &Topic {
        &self.topic
    }
}

impl<T: Serialize> Event<T> {
    /// Emit the event: `data` is serialised once and delivered to every subscriber. Never
    /// waits for a subscriber.
    pub fn emit(&self, data: T) {
        if !self.topic.has_subscribers() {
            return;
        }
        match serde_json::to_string(&data) {
            Ok(json) => self.topic.publish_event(json),
            Err(error) => tracing::error!(%error, "event data could not be serialised"),
        }
    }

    /// Subscribe to the emissions from now on.
    pub fn subscribe(&self) -> EventSubscription<T>
    where
        T: DeserializeOwned,
    {
        EventSubscription::new(self.topic.clone())
    }
}

impl<T> Default for Event<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for Event<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("subscribers", &self.topic.subscriber_count())
            .finish()
    }
}

/// The emissions of one event, typed. Created by [`Event::subscribe`]; dropping it
/// unsubscribes.
pub struct EventSubscription<T> {
    mailbox: Arc<Mailbox>,
    topic: Topic,
    buf: Vec<Delivery>,
    ready: VecDeque<Delivery>,
    _data: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> EventSubscription<T> {
    fn new(topic: Topic) -> Self {
        let mailbox = Mailbox::new(MailboxLimits::default());
        topic.subscribe(&mailbox, 0);
        Self {
            mailbox,
            topic,
            buf: Vec::new(),
            ready: VecDeque::new(),
            _data: PhantomData,
        }
    }

    /// The next emission, in order. `None` once the subscription ended: closed, or because
    /// more emissions piled up than its queue holds ([`fell_behind`](Self::fell_behind)).
    pub async fn next(&mut self) -> Option<T> {
        loop {
            while let Some(delivery) = self.ready.pop_front() {
                if let Delivery::Event(_, note) = delivery {
                    match serde_json::from_str(&note.json) {
                        Ok(data) => return Some(data),
                        Err(error) => tracing::error!(%error, "event data could not be decoded"),
                    }
                }
            }
            if self.mailbox.overflowed() {
                return None;
            }
            if !self.mailbox.recv_many(&mut self.buf).await {
                return None;
            }
            self.ready.extend(self.buf.drain(..));
        }
    }

    /// Whether the subscription ended because it fell behind: emissions were lost to it.
    pub fn fell_behind(&self) -> bool {
        self.mailbox.overflowed()
    }

    /// End the subscription: [`next`](Self::next) returns `None` once what was received is
    /// read.
    pub fn close(&self) {
        self.mailbox.close();
    }
}

impl<T> Drop for EventSubscription<T> {
    fn drop(&mut self) {
        self.topic.unsubscribe(&self.mailbox);
    }
}

impl<T> fmt::Debug for EventSubscription<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventSubscription")
            .field("pending", &(self.mailbox.pending() + self.ready.len()))
            .field("fell_behind", &self.mailbox.overflowed())
            .finish()
    }
}

/// What an `#[event]` field is: an [`Event<T>`]. Macro plumbing.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an event",
    label = "an `#[event]` field is an `Event<T>`",
    note = "declare the field as `labthings::Event<T>`, where `T` is the type of the event's data"
)]
pub trait EventField: Send + Sync {
    /// The type of the event's data.
    type Data;
    /// The publish point of its emissions.
    fn topic(&self) -> &Topic;
}

impl<T: 'static> EventField for Event<T> {
    type Data = T;
    fn topic(&self) -> &Topic {
        &self.topic
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_emission_arrives_in_order() {
        let event = Event::<u32>::new();
        event.emit(0); // nobody listens: nothing is kept
        let mut subscription = event.subscribe();
        for i in 1..=1000 {
            event.emit(i);
        }
        for i in 1..=1000 {
            assert_eq!(subscription.next().await, Some(i));
        }
        subscription.close();
        assert_eq!(subscription.next().await, None);
        assert!(!subscription.fell_behind());
    }

    #[tokio::test]
    async fn a_subscriber_that_falls_behind_is_told() {
        let event = Event::<u32>::new();
        let mut subscription = event.subscribe();
        for i in 0..MailboxLimits::default().max_events as u32 + 1 {
            event.emit(i);
        }
        assert_eq!(subscription.next().await, None);
        assert!(subscription.fell_behind());
    }
}
