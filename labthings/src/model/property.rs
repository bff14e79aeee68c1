//! Storage of stored-field properties, and the typed subscription to observable ones.

use crate::sync::Locked;
use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::broker::{Delivery, Mailbox, MailboxLimits, Topic};

/// Identifies one stored property of one Thing type.
///
/// `#[thing]` generates a marker type for every `#[property]` field; it is the second
/// parameter of the field's [`Property`] type.
pub trait PropertyMarker: 'static {
    /// The property's name in the Thing Description.
    const NAME: &'static str;
}

/// Implemented by the markers of properties declared `#[property(observable)]`.
#[diagnostic::on_unimplemented(
    message = "property `{Self}` is not observable",
    label = "`{Self}` is not declared `observable`",
    note = "add `observable` to the property's attribute: `#[property(observable)]`"
)]
pub trait Observable: PropertyMarker {}

/// The storage of a `#[property]` field of a `#[thing]` struct.
///
/// `#[thing]` rewrites the type `T` of each `#[property]` field to `Property<T, Marker>`.
/// HTTP requests, WebSocket clients and running actions share one Thing, so the value is held
/// behind an atomically swapped pointer: a read never takes a lock nor writes shared memory,
/// so reads scale with cores and never wait for a write, and a write is visible to every
/// later read. Every write made through [`set`](Self::set), [`update`](Self::update) and
/// their `_if_*` forms — from Rust code, HTTP or WebSocket — is published to the property's
/// observers when it is observable. Writers are ordered: changes are published in the order
/// they were applied, after the new value became readable.
///
/// Build one with [`Property::new`], `value.into()` or `Default::default()`.
pub struct Property<T, M = ()> {
    value: ArcSwap<T>,
    /// Orders writers, so that changes are published in the order they were applied.
    writer: Mutex<()>,
    topic: Topic,
    _marker: PhantomData<fn() -> M>,
}

impl<T, M> Property<T, M> {
    /// A property holding `value`.
    pub fn new(value: T) -> Self {
        Self {
            value: ArcSwap::from_pointee(value),
            writer: Mutex::new(()),
            topic: Topic::new(),
            _marker: PhantomData,
        }
    }

    /// A copy of the current value.
    pub fn get(&self) -> T
    where
        T: Clone,
    {
        T::clone(&self.value.load())
    }

    /// Borrow the current value for the duration of `f`.
    ///
    /// `f` sees a snapshot: a write made meanwhile is visible to later reads.
    pub fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        f(&self.value.load())
    }

    /// Replace the value and publish the change.
    pub fn set(&self, value: T)
    where
        T: Serialize,
    {
        let _writer = self.lock_writer();
        self.store(Arc::new(value));
    }

    /// Replace the value and publish the change, only if it differs from the current one.
    /// Returns whether it changed.
    pub fn set_if_changed(&self, value: T) -> bool
    where
        T: Serialize + PartialEq,
    {
        let _writer = self.lock_writer();
        if **self.value.load() == value {
            return false;
        }
        self.store(Arc::new(value));
        true
    }

    /// Modify a copy of the value with `f`, then make it the value and publish the change.
    /// Returns what `f` returns.
    ///
    /// Concurrent updates are applied one after the other, each to the result of the one
    /// before, and published in that order. Readers are never blocked: they see the old
    /// value until the new one is stored.
    pub fn update<R>(&self, f: impl FnOnce(&mut T) -> R) -> R
    where
        T: Serialize + Clone,
    {
        let _writer = self.lock_writer();
        let mut value = T::clone(&self.value.load());
        let out = f(&mut value);
        self.store(Arc::new(value));
        out
    }

    /// As [`update`](Self::update), but `f` says whether it modified the value: the change is
    /// stored and published only if it returns `true` (as
    /// [`tokio::sync::watch::Sender::send_if_modified`]). Returns what `f` returned.
    pub fn update_if_modified(&self, f: impl FnOnce(&mut T) -> bool) -> bool
    where
        T: Serialize + Clone,
    {
        let _writer = self.lock_writer();
        let mut value = T::clone(&self.value.load());
        let modified = f(&mut value);
        if modified {
            self.store(Arc::new(value));
        }
        modified
    }

    /// Subscribe to changes of this property.
    ///
    /// Only observable properties can be subscribed to; for any other property this is a
    /// compile error that names the property.
    pub fn subscribe(&self) -> Subscription<T>
    where
        M: Observable,
        T: DeserializeOwned,
    {
        Subscription::new(self.topic.clone())
    }

    #[doc(hidden)]
    pub fn topic(&self) -> &Topic {
        &self.topic
    }

    /// Store a new value, then publish it. The caller holds the writer lock.
    ///
    /// The value is stored before the topic is asked whether anyone listens: an observer that
    /// subscribes concurrently either is seen here (and gets this publish) or subscribed
    /// after the store (and reads this value as its current one).
    fn store(&self, value: Arc<T>)
    where
        T: Serialize,
    {
        self.value.store(value);
        std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
        if !self.topic.has_subscribers() {
            return;
        }
        match serde_json::to_string(&**self.value.load()) {
            Ok(json) => self.topic.publish_value(json),
            Err(error) => {
                tracing::error!(%error, "property value could not be serialised for observers")
            }
        }
    }

    fn lock_writer(&self) -> std::sync::MutexGuard<'_, ()> {
        self.writer.locked()
    }
}

impl<T, M> From<T> for Property<T, M> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}

impl<T: Default, M> Default for Property<T, M> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T: fmt::Debug, M> fmt::Debug for Property<T, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Property")
            .field(&**self.value.load())
            .finish()
    }
}

/// Changes of one observable property, typed.
///
/// Created by [`Property::subscribe`]. Dropping it unsubscribes.
pub struct Subscription<T> {
    mailbox: Arc<Mailbox>,
    topic: Topic,
    buf: Vec<Delivery>,
    _value: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Subscription<T> {
    fn new(topic: Topic) -> Self {
        let mailbox = Mailbox::new(MailboxLimits::default());
        topic.subscribe(&mailbox, 0);
        Self {
            mailbox,
            topic,
            buf: Vec::new(),
            _value: PhantomData,
        }
    }

    /// Wait for the next change and return the property's value after it.
    ///
    /// Changes made while the subscriber was not waiting are coalesced: this returns the
    /// latest value. Returns `None` once the subscription is closed.
    pub async fn changed(&mut self) -> Option<T> {
        loop {
            self.buf.clear();
            if !self.mailbox.recv_many(&mut self.buf).await {
                return None;
            }
            let latest = self.buf.iter().rev().find_map(|d| match d {
                Delivery::Property(_, json) => Some(json.clone()),
                Delivery::Event(..) | Delivery::Status(..) | Delivery::Message(_) => None,
            });
            if let Some(json) = latest {
                match serde_json::from_str(&json.json) {
                    Ok(value) => return Some(value),
                    Err(error) => tracing::error!(%error, "observed value could not be decoded"),
                }
            }
        }
    }

    /// Close the subscription: [`changed`](Self::changed) returns `None` from now on.
    pub fn close(&self) {
        self.mailbox.close();
    }
}

impl<T> Drop for Subscription<T> {
    fn drop(&mut self) {
        self.topic.unsubscribe(&self.mailbox);
    }
}

impl<T> fmt::Debug for Subscription<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("pending", &self.mailbox.pending())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::{Delivery, Mailbox, MailboxLimits};

    fn observed(property: &Property<i64>) -> Arc<Mailbox> {
        let mailbox = Mailbox::new(MailboxLimits::default());
        property.topic().subscribe(&mailbox, 0);
        mailbox
    }

    fn values(mailbox: &Mailbox) -> Vec<i64> {
        let mut out = Vec::new();
        mailbox.drain_into(&mut out);
        out.into_iter()
            .map(|d| match d {
                Delivery::Property(_, note) => note.json.parse().unwrap(),
                Delivery::Event(..) | Delivery::Status(..) | Delivery::Message(_) => unreachable!(),
            })
            .collect()
    }

    #[test]
    fn only_modifications_are_published_when_asked() {
        let property = Property::<i64>::new(1);
        let mailbox = observed(&property);
        assert!(!property.set_if_changed(1));
        assert!(property.set_if_changed(2));
        assert!(!property.update_if_modified(|v| *v > 5));
        assert!(property.update_if_modified(|v| {
            *v += 1;
            true
        }));
        assert_eq!(values(&mailbox), [2, 3]);
        assert_eq!(property.get(), 3);
    }

    #[test]
    fn concurrent_updates_are_applied_and_published_in_order() {
        let property = Arc::new(Property::<i64>::new(0));
        let mailbox = observed(&property);
        std::thread::scope(|scope| {
            for _ in 0..4 {
                let property = &property;
                scope.spawn(move || {
                    for _ in 0..1000 {
                        property.update(|v| *v += 1);
                    }
                });
            }
            // Readers never wait for the writers.
            scope.spawn(|| {
                for _ in 0..1000 {
                    assert!((0..=4000).contains(&property.get()));
                }
            });
        });
        assert_eq!(values(&mailbox), (1..=4000).collect::<Vec<_>>());
    }
}
