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

/// What letting a newcomer in would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Foreseen {
    /// It holds the Thing and runs now.
    Runs,
    /// It waits, at this place (1: it runs next).
    Waits(usize),
    /// It cancels these invocations (the holder, then preempting ones still waiting) and
    /// runs next.
    Preempts(Vec<Uuid>),
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
        let (turn, waits) = oneshot::channel();
        let waiting = |preempting| Waiting {
            id,
            action,
            preempting,
            turn,
        };
        let preempted = match inner.foresee(thing, policy, bound)? {
            Foreseen::Runs => {
                inner.holder = Some((id, action));
                return Ok(Entered {
                    place: Place::Holds,
                    preempted: Vec::new(),
                });
            }
            Foreseen::Waits(_) => {
                inner.waiting.push_back(waiting(false));
                Vec::new()
            }
            Foreseen::Preempts(preempted) => {
                while inner.waiting.front().is_some_and(|w| w.preempting) {
                    // Dropping its sender tells it that it lost its place.
                    inner.waiting.pop_front();
                }
                // (Not bounded: it replaces any preempting invocation still waiting.)
                inner.waiting.push_front(waiting(true));
                preempted
            }
        };
        Ok(Entered {
            place: Place::Waits(waits),
            preempted,
        })
    }

    /// What letting a newcomer in by `policy` would do now (with at most `bound` waiting),
    /// changing nothing: a dry run of [`enter`](Self::enter).
    pub(crate) fn foresee(
        &self,
        thing: &str,
        policy: Exclusive,
        bound: usize,
    ) -> Result<Foreseen, Problem> {
        self.inner.locked().foresee(thing, policy, bound)
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
    /// The one rule of the line: what `policy` does with a newcomer now; the refusal when it
    /// may not come in.
    fn foresee(&self, thing: &str, policy: Exclusive, bound: usize) -> Result<Foreseen, Problem> {
        let Some((busy_with, busy_action)) = self.first() else {
            return Ok(Foreseen::Runs);
        };
        match policy {
            Exclusive::Reject => Err(refusals::busy(thing, &busy_with, busy_action)),
            Exclusive::Queue if self.waiting.len() >= bound => {
                Err(refusals::line_full(thing, bound))
            }
            Exclusive::Queue => Ok(Foreseen::Waits(self.waiting.len() + 1)),
            Exclusive::Preempt => {
                let waiting = self.waiting.iter().take_while(|w| w.preempting);
                let ids = self.holder.map(|(holder, _)| holder).into_iter();
                Ok(Foreseen::Preempts(
                    ids.chain(waiting.map(|w| w.id)).collect(),
                ))
            }
        }
    }

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
