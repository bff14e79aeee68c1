//! A publish point: one observable property, one event, or one action of one Thing.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, RwLock, Weak};

use super::history::{History, Key};
use super::mailbox::Mailbox;
use super::note::{Delivery, Note, Published, SharedValue};
use crate::sync::Shared;

#[derive(Debug)]
struct Entry {
    mailbox: Weak<Mailbox>,
    slot: u32,
}

/// What follows the values a topic publishes, as they are published (after its
/// subscribers have them).
pub(crate) trait Watcher: Send + Sync + std::fmt::Debug {
    /// `json` was just published.
    fn published(&self, json: &str);
}

/// A publish point: one observable property, one event, or one action of one Thing.
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
    /// The value history of the property it publishes, if it keeps one.
    #[cfg(feature = "history")]
    series: OnceLock<Arc<super::series::Series>>,
    /// What follows the values it publishes (the judge of a property with ranges).
    watcher: OnceLock<Box<dyn Watcher>>,
}

impl Topic {
    /// A topic with no subscribers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether anyone listens, or a history records what is published. Publishers skip
    /// serialising values when neither is the case.
    pub fn has_subscribers(&self) -> bool {
        self.inner.count.load(Ordering::SeqCst) > 0
            || self.inner.recorder.get().is_some()
            || self.keeps_series()
            || self.inner.watcher.get().is_some()
    }

    #[cfg(feature = "history")]
    fn keeps_series(&self) -> bool {
        self.inner.series.get().is_some()
    }

    #[cfg(not(feature = "history"))]
    fn keeps_series(&self) -> bool {
        false
    }

    /// Record every value published from now on into `series`. A topic feeds one series
    /// only: returns `false` if it already did.
    #[cfg(feature = "history")]
    pub(crate) fn record_series(&self, series: Arc<super::series::Series>) -> bool {
        self.inner.series.set(series).is_ok()
    }

    /// Show every value published from now on to `watcher`, after its subscribers (once:
    /// `false` if it already had one).
    pub(crate) fn watch_with(&self, watcher: Box<dyn Watcher>) -> bool {
        self.inner.watcher.set(watcher).is_ok()
    }

    /// The value history this topic feeds.
    #[cfg(feature = "history")]
    pub(crate) fn series(&self) -> Option<&Arc<super::series::Series>> {
        self.inner.series.get()
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
        let value = value.into();
        #[cfg(feature = "history")]
        if let Some(series) = self.inner.series.get() {
            series.record(&value);
        }
        match self.inner.watcher.get() {
            // The value's notification first, then what its watcher makes of it.
            Some(watcher) => {
                let json = value.clone();
                self.publish(value, Delivery::Property);
                watcher.published(&json);
            }
            None => self.publish(value, Delivery::Property),
        }
    }

    /// Publish an event (never coalesced) to every subscriber (recording it first, if the
    /// topic records).
    pub fn publish_event(&self, event: impl Into<Box<str>>) {
        self.publish(event.into(), Delivery::Event);
    }

    /// Publish a change of status (never coalesced, never recorded) to every subscriber.
    pub fn publish_status(&self, status: SharedValue) {
        self.publish_with(|slot| Delivery::Status(slot, status.clone()));
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
            let entries = self.inner.entries.reading();
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
        self.inner.entries.writing()
    }
}
