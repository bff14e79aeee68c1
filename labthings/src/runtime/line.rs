//! The exclusive line of a Thing: the invocation of an exclusive action that holds it, and
//! those waiting for it in order. Each exclusive action's [`Exclusive`] policy decides what a
//! newcomer does when the Thing is taken: it is refused, it queues (first in, first out), or
//! it preempts (cancels the holder, and a preempting invocation still waiting, and goes
//! first).

use std::collections::VecDeque;
use std::sync::Mutex;

use tokio::sync::oneshot;
use uuid::Uuid;

use crate::model::table::Exclusive;
use crate::problem::{Problem, refusals};
use crate::sync::Locked;

/// The holder of a Thing and the invocations waiting for it.
#[derive(Debug, Default)]
pub(crate) struct Line {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    holder: Option<(Uuid, &'static str)>,
    waiting: VecDeque<Waiting>,
}

/// An invocation waiting for the Thing.
#[derive(Debug)]
struct Waiting {
    id: Uuid,
    action: &'static str,
    /// It came in by preempting: a later preempting invocation cancels it too.
    preempting: bool,
    /// Its turn: sent when it holds the Thing.
    turn: oneshot::Sender<()>,
}

/// Where a newcomer stands in the line.
#[derive(Debug)]
pub(crate) enum Place {
    /// It holds the Thing: it may run now.
    Holds,
    /// It waits; the receiver completes when it holds the Thing, and fails when it was
    /// taken out of the line (preempted while waiting).
    Waits(oneshot::Receiver<()>),
}

/// A newcomer let in, and the invocations it preempts (to be cancelled, in that order).
#[derive(Debug)]
pub(crate) struct Entered {
    pub(crate) place: Place,
    pub(crate) preempted: Vec<Uuid>,
}

impl Line {
    /// Let invocation `id` of `action` in by `policy`, with at most `bound` waiting; the
    /// refusal (`thing` names the Thing) when it may not.
    pub(crate) fn enter(
        &self,
        thing: &str,
        (id, action): (Uuid, &'static str),
        policy: Exclusive,
        bound: usize,
    ) -> Result<Entered, Problem> {
        let mut inner = self.inner.locked();
        let free = inner.holder.is_none() && inner.waiting.is_empty();
        if free {
            inner.holder = Some((id, action));
            return Ok(Entered {
                place: Place::Holds,
                preempted: Vec::new(),
            });
        }
        let (turn, waits) = oneshot::channel();
        let mut preempted = Vec::new();
        match policy {
            Exclusive::Reject => {
                let (other, other_action) = inner.first().unwrap_or((id, action));
                return Err(refusals::busy(thing, &other, other_action));
            }
            Exclusive::Queue => {
                if inner.waiting.len() >= bound {
                    return Err(refusals::line_full(thing, bound));
                }
                inner.waiting.push_back(Waiting {
                    id,
                    action,
                    preempting: false,
                    turn,
                });
            }
            Exclusive::Preempt => {
                preempted.extend(inner.holder.map(|(holder, _)| holder));
                while inner.waiting.front().is_some_and(|w| w.preempting) {
                    // Dropping its sender tells it that it lost its place.
                    preempted.extend(inner.waiting.pop_front().map(|w| w.id));
                }
                // (Not bounded: it replaces any preempting invocation still waiting.)
                inner.waiting.push_front(Waiting {
                    id,
                    action,
                    preempting: true,
                    turn,
                });
            }
        }
        Ok(Entered {
            place: Place::Waits(waits),
            preempted,
        })
    }

    /// Invocation `id` leaves the line (it ended, or was cancelled while waiting): when it
    /// held the Thing, the next one still waiting holds it.
    pub(crate) fn leave(&self, id: Uuid) {
        let mut inner = self.inner.locked();
        if inner.holder.is_some_and(|(holder, _)| holder == id) {
            inner.holder = None;
            while let Some(next) = inner.waiting.pop_front() {
                if next.turn.send(()).is_ok() {
                    inner.holder = Some((next.id, next.action));
                    break;
                }
            }
        } else {
            inner.waiting.retain(|w| w.id != id);
        }
    }

    /// The place of invocation `id` among those waiting (1: it runs next), if it waits.
    pub(crate) fn position(&self, id: Uuid) -> Option<usize> {
        let inner = self.inner.locked();
        let index = inner.waiting.iter().position(|w| w.id == id)?;
        Some(index + 1)
    }
}

impl Inner {
    /// The invocation the Thing is busy with: its holder, or the first one waiting.
    fn first(&self) -> Option<(Uuid, &'static str)> {
        self.holder
            .or_else(|| self.waiting.front().map(|w| (w.id, w.action)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enter(line: &Line, id: Uuid, policy: Exclusive) -> Result<Entered, Problem> {
        line.enter("stage", (id, "move"), policy, 2)
    }

    #[test]
    fn a_queue_is_first_in_first_out_and_bounded() {
        let line = Line::default();
        let [a, b, c, d] = [(); 4].map(|()| Uuid::new_v4());
        assert!(matches!(
            enter(&line, a, Exclusive::Queue).unwrap().place,
            Place::Holds
        ));
        let Place::Waits(mut b_turn) = enter(&line, b, Exclusive::Queue).unwrap().place else {
            panic!("b waits")
        };
        let Place::Waits(mut c_turn) = enter(&line, c, Exclusive::Queue).unwrap().place else {
            panic!("c waits")
        };
        assert_eq!((line.position(b), line.position(c)), (Some(1), Some(2)));
        let full = enter(&line, d, Exclusive::Queue).unwrap_err();
        assert_eq!(full.status, 503, "{}", full.detail);
        let busy = enter(&line, d, Exclusive::Reject).unwrap_err();
        assert_eq!(busy.status, 409);
        assert!(busy.detail.contains(&a.to_string()), "{}", busy.detail);
        line.leave(a);
        assert_eq!(b_turn.try_recv(), Ok(()));
        assert!(c_turn.try_recv().is_err());
        assert_eq!(line.position(c), Some(1));
        line.leave(b);
        assert_eq!(c_turn.try_recv(), Ok(()));
        line.leave(c);
        assert!(matches!(
            enter(&line, d, Exclusive::Reject).unwrap().place,
            Place::Holds
        ));
    }

    #[test]
    fn a_waiting_invocation_that_leaves_gives_its_place_to_the_next() {
        let line = Line::default();
        let [a, b, c] = [(); 3].map(|()| Uuid::new_v4());
        enter(&line, a, Exclusive::Queue).unwrap();
        let b_turn = enter(&line, b, Exclusive::Queue).unwrap().place;
        let Place::Waits(mut c_turn) = enter(&line, c, Exclusive::Queue).unwrap().place else {
            panic!("c waits")
        };
        line.leave(b);
        drop(b_turn);
        assert_eq!(line.position(c), Some(1));
        line.leave(a);
        assert_eq!(c_turn.try_recv(), Ok(()));
    }

    #[test]
    fn the_newest_preempting_invocation_goes_first() {
        let line = Line::default();
        let [a, b, p, q] = [(); 4].map(|()| Uuid::new_v4());
        enter(&line, a, Exclusive::Queue).unwrap();
        enter(&line, b, Exclusive::Queue).unwrap();
        let first = enter(&line, p, Exclusive::Preempt).unwrap();
        assert_eq!(first.preempted, [a]);
        let Place::Waits(mut p_turn) = first.place else {
            panic!("p waits for a to stop")
        };
        let second = enter(&line, q, Exclusive::Preempt).unwrap();
        assert_eq!(second.preempted, [a, p]);
        assert_eq!(p_turn.try_recv(), Err(oneshot::error::TryRecvError::Closed));
        assert_eq!((line.position(q), line.position(b)), (Some(1), Some(2)));
        line.leave(a);
        assert_eq!(line.position(b), Some(1));
    }
}
