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

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};
use std::time::SystemTime;

use tokio::sync::Notify;

pub use history::{History, HistoryLimits, Key};

/// A JSON document, serialised once by the publisher and shared by every consumer.
pub type SharedJson = Arc<str>;

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// A property changed: the consumer's slot number and the new value.
    Property(u32, Published),
    /// An event (of a Thing, or an action status change) for the consumer's slot; never
    /// coalesced.
    Event(u32, Published),
    /// A message addressed to the consumer itself (a reply), delivered in order with the
    /// rest and never coalesced.
    Message(SharedJson),
}

/// Bounds of a [`Mailbox`].
#[derive(Debug, Clone, Copy)]
pub struct MailboxLimits {
    /// Property changes queued before coalescing starts (default 16,384: a burst of that
    /// many changes reaches a reader that keeps up in full; a stuck reader costs at most
    /// about 1 MiB).
    pub queue: usize,
    /// Events queued before the mailbox is closed as overflowed.
    pub max_events: usize,
}

impl Default for MailboxLimits {
    fn default() -> Self {
        Self {
            queue: 16_384,
            max_events: 65_536,
        }
    }
}

#[derive(Debug, Default)]
struct MailboxState {
    /// Changes in arrival order, while the consumer keeps up.
    queue: VecDeque<Delivery>,
    /// Latest value per slot, once the queue is full (coalescing mode).
    lagged: Vec<Option<Published>>,
    /// Slots present in `lagged`, in the order they first lagged.
    lagged_order: Vec<u32>,
    events: usize,
}

/// The receiving end of subscriptions: a bounded, coalescing queue with a wake-up signal.
#[derive(Debug)]
pub struct Mailbox {
    state: Mutex<MailboxState>,
    notify: Notify,
    /// Bytes of the messages queued (replies), for the consumer's producer to wait on.
    message_bytes: AtomicUsize,
    /// Notified whenever the queue is drained.
    drained: Notify,
    closed: AtomicBool,
    overflowed: AtomicBool,
    limits: MailboxLimits,
}

impl Mailbox {
    /// A new, empty mailbox.
    pub fn new(limits: MailboxLimits) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(MailboxState::default()),
            notify: Notify::new(),
            message_bytes: AtomicUsize::new(0),
            drained: Notify::new(),
            closed: AtomicBool::new(false),
            overflowed: AtomicBool::new(false),
            limits,
        })
    }

    fn push(&self, delivery: Delivery) {
        if self.closed.load(Ordering::Relaxed) {
            return;
        }
        {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            match delivery {
                Delivery::Event(..) | Delivery::Message(_) => {
                    if let Delivery::Message(message) = &delivery {
                        self.message_bytes
                            .fetch_add(message.len(), Ordering::Relaxed);
                    }
                    if state.events >= self.limits.max_events {
                        drop(state);
                        self.overflowed.store(true, Ordering::Relaxed);
                        self.close();
                        return;
                    }
                    state.events += 1;
                    state.queue.push_back(delivery);
                }
                Delivery::Property(slot, value) => {
                    let lagging = !state.lagged_order.is_empty();
                    if !lagging && state.queue.len() < self.limits.queue {
                        state.queue.push_back(Delivery::Property(slot, value));
                    } else {
                        let i = slot as usize;
                        if state.lagged.len() <= i {
                            state.lagged.resize(i + 1, None);
                        }
                        if state.lagged[i].replace(value).is_none() {
                            state.lagged_order.push(slot);
                        }
                    }
                }
            }
        }
        self.notify.notify_one();
    }

    /// Queue a property value for `slot` directly (e.g. the current value on subscription),
    /// with the same coalescing as a publish.
    pub fn push_value(&self, slot: u32, value: Published) {
        self.push(Delivery::Property(slot, value));
    }

    /// Queue an event for `slot` directly (e.g. one replayed from a history).
    pub fn push_event(&self, slot: u32, event: Published) {
        self.push(Delivery::Event(slot, event));
    }

    /// Queue a message for the consumer (never coalesced; counted with the events).
    pub fn push_message(&self, message: SharedJson) {
        self.push(Delivery::Message(message));
    }

    /// Move everything pending into `out`, oldest first. Returns `false` once the mailbox is
    /// closed and empty.
    pub fn drain_into(&self, out: &mut Vec<Delivery>) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let bytes: usize = state
            .queue
            .iter()
            .map(|d| match d {
                Delivery::Message(message) => message.len(),
                _ => 0,
            })
            .sum();
        self.message_bytes.fetch_sub(bytes, Ordering::Relaxed);
        out.extend(state.queue.drain(..));
        let order = std::mem::take(&mut state.lagged_order);
        for slot in order {
            if let Some(value) = state.lagged[slot as usize].take() {
                out.push(Delivery::Property(slot, value));
            }
        }
        state.events = 0;
        drop(state);
        self.drained.notify_waiters();
        !(out.is_empty() && self.closed.load(Ordering::Relaxed))
    }

    /// Bytes of the messages queued and not yet drained.
    pub fn message_bytes(&self) -> usize {
        self.message_bytes.load(Ordering::Relaxed)
    }

    /// Completes when the queued messages are fewer than `bytes`.
    pub async fn messages_below(&self, bytes: usize) {
        loop {
            let drained = self.drained.notified();
            if self.message_bytes() < bytes || self.is_closed() {
                return;
            }
            drained.await;
        }
    }

    /// Wait until something is pending (or the mailbox is closed), then drain it into `out`.
    /// Returns `false` when the mailbox is closed and nothing is left.
    pub async fn recv_many(&self, out: &mut Vec<Delivery>) -> bool {
        loop {
            let notified = self.notify.notified();
            if !self.drain_into(out) {
                return false;
            }
            if !out.is_empty() {
                return true;
            }
            notified.await;
        }
    }

    /// Close the mailbox: topics drop it on their next publish and receivers end.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        self.notify.notify_one();
        self.drained.notify_waiters();
    }

    /// Whether [`close`](Self::close) was called (or the mailbox overflowed).
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// Whether the mailbox was closed because its consumer let too many events pile up.
    pub fn overflowed(&self) -> bool {
        self.overflowed.load(Ordering::Relaxed)
    }

    /// Number of deliveries currently pending (queued plus coalesced).
    pub fn pending(&self) -> usize {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.queue.len() + state.lagged_order.len()
    }
}

#[derive(Debug)]
struct Entry {
    mailbox: Weak<Mailbox>,
    slot: u32,
}

/// A publish point: one observable property, or one action of one Thing.
#[derive(Debug, Clone, Default)]
pub struct Topic {
    inner: Arc<TopicInner>,
}

#[derive(Debug, Default)]
struct TopicInner {
    entries: RwLock<Vec<Entry>>,
    count: AtomicUsize,
    /// The history that records what is published, and under which key.
    recorder: OnceLock<(Arc<History>, Key)>,
}

impl Topic {
    /// A topic with no subscribers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether anyone listens, or a history records what is published. Publishers skip
    /// serialising values when neither is the case.
    pub fn has_subscribers(&self) -> bool {
        self.inner.count.load(Ordering::SeqCst) > 0 || self.inner.recorder.get().is_some()
    }

    /// Record everything published from now on into `history`, under `key`. A topic records
    /// into one history only: returns `false` if it already did (its Thing is published
    /// twice).
    pub fn record_into(&self, history: &Arc<History>, key: Key) -> bool {
        self.inner.recorder.set((history.clone(), key)).is_ok()
    }

    /// The history this topic records into.
    pub fn history(&self) -> Option<&Arc<History>> {
        self.inner.recorder.get().map(|(history, _)| history)
    }

    /// Number of subscribed mailboxes.
    pub fn subscriber_count(&self) -> usize {
        self.inner.count.load(Ordering::SeqCst)
    }

    /// Deliver to `mailbox` under `slot`. Subscribing the same mailbox twice replaces the
    /// earlier slot, so a consumer gets at most one delivery per change.
    pub fn subscribe(&self, mailbox: &Arc<Mailbox>, slot: u32) {
        let mut entries = self.write();
        Self::insert(&mut entries, &self.inner.count, mailbox, slot);
    }

    /// Subscribe `mailbox` under `slot` and queue the current value that `current` reads,
    /// with no publish in between: a value published before is older than the one read, and
    /// one published after is queued after it. So the consumer always ends on the latest
    /// value, however the subscription races with writers (who store a value before they
    /// publish it).
    pub fn subscribe_with_current(
        &self,
        mailbox: &Arc<Mailbox>,
        slot: u32,
        current: impl FnOnce() -> Option<Published>,
    ) {
        let mut entries = self.write();
        Self::insert(&mut entries, &self.inner.count, mailbox, slot);
        std::sync::atomic::fence(Ordering::SeqCst);
        if let Some(value) = current() {
            mailbox.push_value(slot, value);
        }
    }

    fn insert(entries: &mut Vec<Entry>, count: &AtomicUsize, mailbox: &Arc<Mailbox>, slot: u32) {
        if let Some(entry) = entries
            .iter_mut()
            .find(|e| std::ptr::eq(e.mailbox.as_ptr(), Arc::as_ptr(mailbox)))
        {
            entry.slot = slot;
            return;
        }
        entries.push(Entry {
            mailbox: Arc::downgrade(mailbox),
            slot,
        });
        count.store(entries.len(), Ordering::SeqCst);
    }

    /// Stop delivering to `mailbox`. Returns whether it was subscribed.
    pub fn unsubscribe(&self, mailbox: &Arc<Mailbox>) -> bool {
        let mut entries = self.write();
        let before = entries.len();
        entries.retain(|e| !std::ptr::eq(e.mailbox.as_ptr(), Arc::as_ptr(mailbox)));
        self.inner.count.store(entries.len(), Ordering::SeqCst);
        before != entries.len()
    }

    /// Publish a property value to every subscriber (recording it first, if the topic
    /// records).
    pub fn publish_value(&self, value: impl Into<Box<str>>) {
        self.publish(value.into(), Delivery::Property);
    }

    /// Publish an event (never coalesced) to every subscriber (recording it first, if the
    /// topic records).
    pub fn publish_event(&self, event: impl Into<Box<str>>) {
        self.publish(event.into(), Delivery::Event);
    }

    fn publish(&self, json: Box<str>, make: fn(u32, Published) -> Delivery) {
        match self.inner.recorder.get() {
            Some((history, key)) => history.record(*key, json, |note| {
                self.publish_with(|slot| make(slot, note.clone()));
            }),
            None => {
                let note = Note::new(json);
                self.publish_with(|slot| make(slot, note.clone()));
            }
        }
    }

    fn publish_with(&self, make: impl Fn(u32) -> Delivery) {
        let mut stale = false;
        {
            let entries = self.inner.entries.read().unwrap_or_else(|e| e.into_inner());
            for entry in entries.iter() {
                match entry.mailbox.upgrade() {
                    Some(mailbox) if !mailbox.is_closed() => mailbox.push(make(entry.slot)),
                    _ => stale = true,
                }
            }
        }
        if stale {
            let mut entries = self.write();
            entries.retain(|e| e.mailbox.upgrade().is_some_and(|m| !m.is_closed()));
            self.inner.count.store(entries.len(), Ordering::SeqCst);
        }
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Vec<Entry>> {
        self.inner
            .entries
            .write()
            .unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(s: &str) -> String {
        s.to_owned()
    }

    /// What was delivered, without the timestamps: `P`roperty or `E`vent, slot, JSON.
    fn seen(deliveries: Vec<Delivery>) -> Vec<(char, u32, String)> {
        deliveries
            .into_iter()
            .map(|d| match d {
                Delivery::Property(slot, note) => ('P', slot, note.json.to_string()),
                Delivery::Event(slot, note) => ('E', slot, note.json.to_string()),
                Delivery::Message(text) => ('M', 0, text.to_string()),
            })
            .collect()
    }

    fn drain(m: &Mailbox) -> Vec<(char, u32, String)> {
        let mut out = Vec::new();
        m.drain_into(&mut out);
        seen(out)
    }

    #[test]
    fn a_reader_that_keeps_up_gets_every_change_in_order() {
        let topic = Topic::new();
        let mailbox = Mailbox::new(MailboxLimits::default());
        topic.subscribe(&mailbox, 3);
        for i in 0..100 {
            topic.publish_value(json(&i.to_string()));
        }
        let got = drain(&mailbox);
        let expected: Vec<_> = (0..100).map(|i| ('P', 3, i.to_string())).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn a_lagging_reader_is_coalesced_to_the_latest_value_per_slot() {
        let a = Topic::new();
        let b = Topic::new();
        let limits = MailboxLimits {
            queue: 4,
            max_events: 10,
        };
        let mailbox = Mailbox::new(limits);
        a.subscribe(&mailbox, 0);
        b.subscribe(&mailbox, 1);
        for i in 0..10_000 {
            a.publish_value(json(&format!("{i}")));
            b.publish_value(json(&format!("-{i}")));
        }
        assert!(mailbox.pending() <= 4 + 2, "memory stays bounded");
        let got = drain(&mailbox);
        let last_a = got
            .iter()
            .rev()
            .find_map(|(_, slot, v)| (*slot == 0).then(|| v.clone()))
            .unwrap();
        let last_b = got
            .iter()
            .rev()
            .find_map(|(_, slot, v)| (*slot == 1).then(|| v.clone()))
            .unwrap();
        assert_eq!(&*last_a, "9999");
        assert_eq!(&*last_b, "-9999");
        // After draining, the reader keeps up again and receives every change.
        a.publish_value(json("x"));
        a.publish_value(json("y"));
        assert_eq!(
            drain(&mailbox),
            vec![('P', 0, json("x")), ('P', 0, json("y"))]
        );
    }

    #[test]
    fn events_are_never_coalesced_and_overflow_closes_the_mailbox() {
        let topic = Topic::new();
        let mailbox = Mailbox::new(MailboxLimits {
            queue: 2,
            max_events: 5,
        });
        topic.subscribe(&mailbox, 0);
        for i in 0..5 {
            topic.publish_event(json(&i.to_string()));
        }
        assert!(!mailbox.is_closed());
        assert_eq!(drain(&mailbox).len(), 5);
        for i in 0..6 {
            topic.publish_event(json(&i.to_string()));
        }
        assert!(mailbox.is_closed() && mailbox.overflowed());
        // The closed mailbox is dropped from the topic on the next publish.
        topic.publish_event(json("late"));
        assert_eq!(topic.subscriber_count(), 0);
    }

    #[test]
    fn dropped_and_unsubscribed_mailboxes_receive_nothing() {
        let topic = Topic::new();
        let kept = Mailbox::new(MailboxLimits::default());
        let dropped = Mailbox::new(MailboxLimits::default());
        topic.subscribe(&kept, 0);
        topic.subscribe(&kept, 1); // re-subscribing replaces, no duplicates
        topic.subscribe(&dropped, 0);
        assert_eq!(topic.subscriber_count(), 2);
        drop(dropped);
        topic.publish_value(json("1"));
        assert_eq!(topic.subscriber_count(), 1);
        assert_eq!(drain(&kept), vec![('P', 1, json("1"))]);
        assert!(topic.unsubscribe(&kept));
        topic.publish_value(json("2"));
        assert!(drain(&kept).is_empty());
        assert!(!topic.has_subscribers());
    }

    #[tokio::test]
    async fn recv_many_wakes_on_publish_and_ends_on_close() {
        let topic = Topic::new();
        let mailbox = Mailbox::new(MailboxLimits::default());
        topic.subscribe(&mailbox, 7);
        let reader = {
            let mailbox = mailbox.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut buf = Vec::new();
                while mailbox.recv_many(&mut buf).await {
                    seen.append(&mut buf);
                }
                seen
            })
        };
        topic.publish_value(json("1"));
        topic.publish_event(json("{}"));
        tokio::task::yield_now().await;
        mailbox.close();
        let seen = reader.await.unwrap();
        assert_eq!(
            super::tests::seen(seen),
            vec![('P', 7, json("1")), ('E', 7, json("{}"))]
        );
    }
}
