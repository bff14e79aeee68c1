//! Following a Thing: observing its properties, subscribing to its events and to its
//! actions' changes of status, into a consumer's mailbox — and resuming after the last
//! notification a client saw, from the Thing's history.

use std::sync::Arc;

use uuid::Uuid;

use super::ThingRef;
use crate::broker::history::Unresumable;
use crate::broker::{Key, Mailbox};
use crate::runtime::hosted::DynThing;

/// What a subscription follows on one Thing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// An observable property.
    Property(usize),
    /// The changes of status of an action's invocations.
    Action(usize),
    /// An event.
    Event(usize),
}

/// How a subscription that names a resume point (`lastNotificationID`, `Last-Event-ID`)
/// started.
#[derive(Debug, Clone, Default)]
pub(crate) struct Resumption {
    /// `None` without a resume point; `Ok` when what was missed follows, or why not.
    pub(crate) resumed: Option<Result<(), Unresumable>>,
    /// The identifier of the latest notification so far: resuming from it later misses
    /// nothing, even for a client that has no notification yet.
    pub(crate) latest: Option<Uuid>,
}

impl ThingRef<'_> {
    /// Subscribe `mailbox` to `targets`, each under its slot (re-subscribing replaces).
    /// Properties get their current value first when `current`, unless the client resumed
    /// and their latest value is replayed (it is not sent twice). After `last_id`, when given,
    /// what the client missed is queued first: every event, and the latest value of each
    /// property.
    ///
    /// `reply` is called with how it started before anything else is queued, so that its
    /// message comes first. The Thing's history is locked throughout: a notification is
    /// either replayed or delivered live, never both, never neither.
    pub(crate) fn follow(
        &self,
        mailbox: &Arc<Mailbox>,
        targets: &[(Target, u32)],
        current: bool,
        last_id: Option<&str>,
        reply: impl FnOnce(&Resumption),
    ) -> Resumption {
        let thing = self.thing();
        let history = thing.history();
        let locked = history.map(|h| h.view());
        let resumption = Resumption {
            resumed: last_id.map(|id| match &locked {
                Some(locked) => locked.after(id).map(drop),
                None => Err(Unresumable::Unknown),
            }),
            latest: history
                .zip(locked.as_ref())
                .map(|(history, locked)| history.id(locked.last())),
        };
        reply(&resumption);
        // The properties whose latest value is replayed (their current value is then not
        // sent as well).
        let mut replayed = Vec::new();
        if let (Some(id), Some(locked), Some(Ok(()))) = (last_id, &locked, &resumption.resumed) {
            let missed: Vec<_> = locked.after(id).map(Iterator::collect).unwrap_or_default();
            for (i, entry) in missed.iter().enumerate() {
                let target = match entry.key {
                    Key::Event(e) => Target::Event(e as usize),
                    // Only the latest value of a property is replayed.
                    Key::Property(p) if missed[i + 1..].iter().all(|l| l.key != entry.key) => {
                        Target::Property(p as usize)
                    }
                    Key::Property(_) => continue,
                };
                let Some(&(_, slot)) = targets.iter().find(|(t, _)| *t == target) else {
                    continue;
                };
                match target {
                    Target::Event(_) => mailbox.push_event(slot, entry.note.clone()),
                    _ => {
                        replayed.push(target);
                        mailbox.push_value(slot, entry.note.clone());
                    }
                }
            }
        }
        // A current value stands for everything recorded so far: resuming from it is exact.
        let seq = locked.as_ref().map(|l| l.last());
        for &(target, slot) in targets {
            match target {
                Target::Property(i) => {
                    // Resumed, a property that changed meanwhile has its latest value
                    // replayed; the others get their current value, as the client may never
                    // have had it (its connection may have gone before it came).
                    let with_current = match resumption.resumed {
                        Some(Ok(())) => current && !replayed.contains(&target),
                        Some(Err(_)) => true,
                        None => current,
                    };
                    thing.observe(i, mailbox, slot, with_current, seq);
                }
                Target::Event(i) => thing.event_topic(i).subscribe(mailbox, slot),
                Target::Action(i) => thing.action_topic(i).subscribe(mailbox, slot),
            }
        }
        drop(locked);
        resumption
    }

    /// Stop following `target` into `mailbox`.
    pub(crate) fn unfollow(&self, mailbox: &Arc<Mailbox>, target: Target) {
        unfollow(&**self.thing(), mailbox, target);
    }

    /// Every observable property.
    pub(crate) fn observable_properties(&self) -> Vec<Target> {
        let thing = self.thing();
        (0..thing.property_count())
            .filter(|&i| thing.observable(i))
            .map(Target::Property)
            .collect()
    }

    /// Every event.
    pub(crate) fn events(&self) -> Vec<Target> {
        (0..self.thing().event_count()).map(Target::Event).collect()
    }
}

/// Stop following `target` of `thing` into `mailbox` (for a subscription that outlives the
/// borrow of the server: a stream, a connection).
pub(crate) fn unfollow(thing: &dyn DynThing, mailbox: &Arc<Mailbox>, target: Target) {
    match target {
        Target::Property(i) => thing.unobserve(i, mailbox),
        Target::Event(i) => {
            thing.event_topic(i).unsubscribe(mailbox);
        }
        Target::Action(i) => {
            thing.action_topic(i).unsubscribe(mailbox);
        }
    }
}
