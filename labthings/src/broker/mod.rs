//! The message broker: fan-out of property changes and action status changes.
//!
//! Every observable property owns a [`Topic`]; the server owns one per action. A consumer (a
//! WebSocket connection, a typed [`Subscription`](crate::Subscription)) owns a [`Mailbox`] and
//! subscribes it to topics, each under a *slot* number of its own choosing.
//!
//! Guarantees:
//! - [`Topic::publish_value`] and [`Topic::publish_event`] never wait for a consumer: they
//!   only take each mailbox's lock for the time of a push.
//! - A consumer that keeps up receives every change in order. A consumer that falls behind its
//!   queue capacity has its property changes coalesced per slot, so it always ends with the
//!   latest value of every property it observes, and its memory stays bounded.
//! - Action status events are never coalesced nor dropped. A consumer that lets more than
//!   [`MailboxLimits::max_events`] of them pile up is closed (and told so) instead of growing
//!   without bound.
pub(crate) mod history;
mod mailbox;
mod note;
#[cfg(feature = "history")]
pub(crate) mod series;
#[cfg(test)]
mod tests;
mod topic;

pub use history::{History, HistoryLimits, Key};
pub use mailbox::{Mailbox, MailboxLimits};
#[cfg_attr(not(feature = "__internals"), allow(unused_imports))]
pub use note::{Delivery, Note, Published, SharedJson, SharedValue};
#[cfg(feature = "history")]
pub(crate) use series::{Samples, Series, SeriesKind, SeriesLimits};
pub use topic::Topic;
pub(crate) use topic::Watcher;
