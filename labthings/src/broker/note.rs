//! What the broker carries: values and events serialised once, typed statuses, replies.

use std::sync::Arc;
use std::time::SystemTime;

/// A JSON document, serialised once by the publisher and shared by every consumer.
pub type SharedJson = Arc<str>;

/// A typed value shared by every consumer (an invocation's status, which each consumer
/// renders in its own protocol): consumers downcast it to the publisher's type.
pub type SharedValue = Arc<dyn std::any::Any + Send + Sync>;

/// One published value or event: serialised once, shared by every consumer.
#[derive(Debug, PartialEq, Eq)]
pub struct Note {
    /// Its sequence number in its Thing's [`History`], when it was recorded there (or, for a
    /// current value sent on subscription, the resume point it stands for).
    pub seq: Option<u64>,
    /// When it was published.
    pub at: SystemTime,
    /// The value or the event, as JSON.
    pub json: Box<str>,
}

impl Note {
    /// A note that is not part of a history.
    pub fn new(json: impl Into<Box<str>>) -> Published {
        Arc::new(Self {
            seq: None,
            at: SystemTime::now(),
            json: json.into(),
        })
    }
}

/// A [`Note`] as delivered: shared by every mailbox it is delivered to.
pub type Published = Arc<Note>;

/// A change delivered to a mailbox.
#[derive(Debug, Clone)]
pub enum Delivery {
    /// A property changed: the consumer's slot number and the new value.
    Property(u32, Published),
    /// An event (of a Thing, or an action status change) for the consumer's slot; never
    /// coalesced.
    Event(u32, Published),
    /// A change of status of something the consumer follows (an invocation of an action),
    /// for the consumer's slot; never coalesced.
    Status(u32, SharedValue),
    /// A message addressed to the consumer itself (a reply), delivered in order with the
    /// rest and never coalesced.
    Message(SharedJson),
}
