//! Storage of stored-field properties, and the typed subscription to observable ones.

use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

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
/// `#[thing]` rewrites the type `T` of each `#[property]` field to `Property<T, Marker>`. The
/// value lives behind a read-write lock, so that HTTP requests, WebSocket clients and running
/// actions can share one Thing: readers never wait for each other, and a write is visible to
/// every later read. Every write made through [`set`](Self::set) or
/// [`update`](Self::update) — from Rust code, HTTP or WebSocket — is published to the
/// property's observers when it is observable.
///
/// Build one with [`Property::new`], `value.into()` or `Default::default()`.
pub struct Property<T, M = ()> {
    value: RwLock<T>,
    topic: Topic,
    _marker: PhantomData<fn() -> M>,
}

impl<T, M> Property<T, M> {
    /// A property holding `value`.
    pub fn new(value: T) -> Self {
        Self {
            value: RwLock::new(value),
            topic: Topic::new(),
            _marker: PhantomData,
        }
    }

    /// A copy of the current value.
    pub fn get(&self) -> T
    where
        T: Clone,
    {
        self.read().clone()
    }

    /// Borrow the current value for the duration of `f`.
    pub fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        f(&self.read())
    }

    /// Replace the value and publish the change.
    pub fn set(&self, value: T)
    where
        T: Serialize,
    {
        self.update(|v| *v = value);
    }

    /// Modify the value in place and publish the change. Returns what `f` returns.
    ///
    /// The lock is held while `f` runs and while the new value is handed to observers, so
    /// concurrent updates are published in the order they were applied.
    pub fn update<R>(&self, f: impl FnOnce(&mut T) -> R) -> R
    where
        T: Serialize,
    {
        let mut guard = self.write();
        let out = f(&mut guard);
        if self.topic.has_subscribers() {
            match serde_json::to_string(&*guard) {
                Ok(json) => self.topic.publish_value(Arc::from(json)),
                Err(error) => {
                    tracing::error!(%error, "property value could not be serialised for observers")
                }
            }
        }
        out
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

    fn read(&self) -> RwLockReadGuard<'_, T> {
        self.value.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.value.write().unwrap_or_else(|e| e.into_inner())
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
        f.debug_tuple("Property").field(&*self.read()).finish()
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
                Delivery::Event(..) => None,
            });
            if let Some(json) = latest {
                match serde_json::from_str(&json) {
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
