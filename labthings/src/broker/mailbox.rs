//! The receiving end of subscriptions: a bounded, coalescing queue with a wake-up signal.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use super::note::{Delivery, Published, SharedJson};
use crate::sync::Locked;

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

    pub(super) fn push(&self, delivery: Delivery) {
        if self.closed.load(Ordering::Relaxed) {
            return;
        }
        {
            let mut state = self.state.locked();
            match delivery {
                Delivery::Event(..) | Delivery::Status(..) | Delivery::Message(_) => {
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
        let mut state = self.state.locked();
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

    /// Whether its consumer fell behind: property changes are coalesced to the latest.
    pub fn is_lagging(&self) -> bool {
        !self.state.locked().lagged_order.is_empty()
    }

    /// Number of deliveries currently pending (queued plus coalesced).
    pub fn pending(&self) -> usize {
        let state = self.state.locked();
        state.queue.len() + state.lagged_order.len()
    }
}
