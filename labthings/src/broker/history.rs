//! The recent notifications of one Thing, so that a client that lost its connection can
//! resume where it left off.
//!
//! Every change of an observable property and every event of a Thing is recorded here, in
//! the order it is published, under a sequence number. A notification's identifier (the Web
//! Thing Protocol's `messageID`, the SSE `id:`) names its Thing's history and its sequence
//! number; a client that reconnects with the identifier of the last notification it saw
//! receives what it missed, and nothing twice:
//!
//! - recording and fan-out happen under the history's lock, and so does a resuming
//!   subscription (replay, then subscribe): a notification is either replayed or delivered
//!   live, never both, never neither;
//! - the history is bounded by a number of entries, their bytes and their age; a resume
//!   point older than what is kept is reported as such, never silently treated as complete.

use crate::sync::Locked;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use uuid::Uuid;

use super::{Note, Published};

/// Bounds of a [`History`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryLimits {
    /// Notifications kept (default 1,024; 0 turns resuming off).
    pub entries: usize,
    /// Bytes of their JSON kept (default 4 MiB).
    pub bytes: usize,
    /// How long a notification is kept (default 10 minutes).
    pub age: Duration,
}

impl Default for HistoryLimits {
    fn default() -> Self {
        Self {
            entries: 1024,
            bytes: 4 << 20,
            age: Duration::from_secs(600),
        }
    }
}

/// What a recorded notification is about, within its Thing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    /// A change of property `i` (its index in the Thing's table).
    Property(u32),
    /// An emission of event `i`.
    Event(u32),
}

/// One recorded notification.
#[derive(Debug, Clone)]
pub struct Entry {
    /// What it is about.
    pub key: Key,
    /// The notification, as delivered live.
    pub note: Published,
    recorded: Instant,
}

/// The recent notifications of one Thing.
#[derive(Debug)]
pub struct History {
    /// Identifies this history (this Thing, this run of the server) in notification ids.
    epoch: [u8; 8],
    limits: HistoryLimits,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// The sequence number of the last notification recorded (0: none yet).
    last: u64,
    /// The highest sequence number no longer kept (0: none evicted).
    evicted: u64,
    entries: VecDeque<Entry>,
    bytes: usize,
}

/// Why a resume point cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unresumable {
    /// The identifier is not one this server gave for this Thing (another Thing, an earlier
    /// run of the server, or not an identifier at all).
    Unknown,
    /// The notifications after it are no longer all kept.
    Expired,
}

impl History {
    /// An empty history.
    pub fn new(limits: HistoryLimits) -> Arc<Self> {
        Arc::new(Self {
            epoch: Uuid::new_v4().as_bytes()[..8]
                .try_into()
                .unwrap_or_default(),
            limits,
            state: Mutex::new(State::default()),
        })
    }

    /// Its bounds.
    pub fn limits(&self) -> HistoryLimits {
        self.limits
    }

    /// The identifier of the notification with sequence number `seq`: a version 4 UUID whose
    /// first half names this history and whose second half holds `seq`.
    pub fn id(&self, seq: u64) -> Uuid {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.epoch);
        bytes[8..].copy_from_slice(&seq.to_be_bytes());
        // The version and variant bits of a v4 UUID; `seq` stays below 2^62.
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        Uuid::from_bytes(bytes)
    }

    /// The sequence number an identifier names, if this history gave it.
    fn seq_of(&self, id: &str) -> Option<u64> {
        let bytes = *Uuid::parse_str(id).ok()?.as_bytes();
        let mut epoch = self.epoch;
        epoch[6] = (epoch[6] & 0x0f) | 0x40;
        if bytes[..8] != epoch {
            return None;
        }
        let mut seq = [0u8; 8];
        seq.copy_from_slice(&bytes[8..]);
        seq[0] &= 0x3f;
        Some(u64::from_be_bytes(seq))
    }

    /// Record a notification and hand it to `fan_out` (which delivers it live) before anyone
    /// can resume past it.
    pub fn record(&self, key: Key, json: Box<str>, fan_out: impl FnOnce(&Published)) {
        let mut state = self.lock();
        state.last += 1;
        let note = Arc::new(Note {
            seq: Some(state.last),
            at: SystemTime::now(),
            json,
        });
        if self.limits.entries > 0 {
            state.bytes += note.json.len();
            state.entries.push_back(Entry {
                key,
                note: note.clone(),
                recorded: Instant::now(),
            });
            self.evict(&mut state);
        } else {
            state.evicted = state.last;
        }
        fan_out(&note);
    }

    /// Lock the history for a resuming subscription: while the returned view lives, nothing
    /// is recorded nor delivered, so the caller can replay and subscribe without a gap or a
    /// duplicate.
    pub fn view(&self) -> View<'_> {
        let mut state = self.lock();
        self.evict(&mut state);
        View {
            history: self,
            state,
        }
    }

    fn evict(&self, state: &mut State) {
        let now = Instant::now();
        while let Some(front) = state.entries.front() {
            let over = state.entries.len() > self.limits.entries
                || state.bytes > self.limits.bytes
                || now.duration_since(front.recorded) > self.limits.age;
            if !over {
                break;
            }
            let front = state.entries.pop_front().expect("front exists");
            state.bytes -= front.note.json.len();
            state.evicted = front.note.seq.unwrap_or(state.evicted);
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.locked()
    }
}

/// A locked [`History`]: see [`History::view`].
#[derive(Debug)]
pub struct View<'h> {
    history: &'h History,
    state: MutexGuard<'h, State>,
}

impl View<'_> {
    /// The notifications recorded after the one called `id`, oldest first, or why they
    /// cannot all be given.
    pub fn after(&self, id: &str) -> Result<impl Iterator<Item = &Entry>, Unresumable> {
        let seq = self.history.seq_of(id).ok_or(Unresumable::Unknown)?;
        if seq > self.state.last {
            return Err(Unresumable::Unknown);
        }
        if seq < self.state.evicted {
            return Err(Unresumable::Expired);
        }
        Ok(self
            .state
            .entries
            .iter()
            .filter(move |e| e.note.seq.is_some_and(|s| s > seq)))
    }

    /// The resume point of "everything so far": the sequence number to give a current value
    /// sent now.
    pub fn last(&self) -> u64 {
        self.state.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(history: &History, key: Key, json: &str) -> Published {
        let mut out = None;
        history.record(key, json.into(), |note| out = Some(note.clone()));
        out.unwrap()
    }

    #[test]
    fn ids_name_the_history_and_the_notification() {
        let a = History::new(HistoryLimits::default());
        let b = History::new(HistoryLimits::default());
        let id = a.id(12345);
        assert_eq!(id.get_version_num(), 4);
        assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
        assert_eq!(a.seq_of(&id.to_string()), Some(12345));
        assert_eq!(b.seq_of(&id.to_string()), None);
        assert_eq!(a.seq_of("not a uuid"), None);
    }

    #[test]
    fn what_follows_a_resume_point_is_given_once_and_in_order() {
        let history = History::new(HistoryLimits::default());
        let notes: Vec<_> = (0..5)
            .map(|i| record(&history, Key::Event(0), &i.to_string()))
            .collect();
        let seen = history.id(notes[1].seq.unwrap()).to_string();
        let view = history.view();
        let missed: Vec<&str> = view.after(&seen).unwrap().map(|e| &*e.note.json).collect();
        assert_eq!(missed, ["2", "3", "4"]);
        let newest = history.id(view.last()).to_string();
        assert_eq!(view.after(&newest).unwrap().count(), 0);
        let future = history.id(view.last() + 1).to_string();
        assert_eq!(view.after(&future).err(), Some(Unresumable::Unknown));
    }

    #[test]
    fn a_resume_point_older_than_what_is_kept_is_reported() {
        let history = History::new(HistoryLimits {
            entries: 3,
            ..Default::default()
        });
        let first = record(&history, Key::Property(0), "0");
        let second = record(&history, Key::Property(0), "1");
        for i in 2..6 {
            record(&history, Key::Property(0), &i.to_string());
        }
        let view = history.view();
        let first = history.id(first.seq.unwrap()).to_string();
        assert_eq!(view.after(&first).err(), Some(Unresumable::Expired));
        // Entries 3, 4, 5 are kept: resuming after 2 (the last evicted) is complete.
        let third = history.id(second.seq.unwrap() + 1).to_string();
        let missed: Vec<&str> = view.after(&third).unwrap().map(|e| &*e.note.json).collect();
        assert_eq!(missed, ["3", "4", "5"]);
    }

    #[test]
    fn the_bytes_kept_are_bounded() {
        let history = History::new(HistoryLimits {
            bytes: 10,
            ..Default::default()
        });
        for _ in 0..100 {
            record(&history, Key::Event(1), "12345");
        }
        let state = history.lock();
        assert!(state.bytes <= 10 && state.entries.len() == 2);
    }
}
