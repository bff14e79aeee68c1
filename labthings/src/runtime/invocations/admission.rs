//! Admission: the bounds on invocations pending or running, and the exclusive line of a
//! Thing. An admitted invocation holds an [`Admission`]; dropping it gives its place back
//! (and its place in the line).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::oneshot;
use uuid::Uuid;

use crate::problem::{Problem, refusals};
use crate::runtime::hosted::DynThing;
use crate::runtime::limits::Limits;
use crate::runtime::line::{Foreseen, Place};

/// The invocations pending or running, server-wide.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    running: AtomicUsize,
    /// Notified when `running` drops to zero.
    idle: tokio::sync::Notify,
    /// Invocations waiting for a place, and their wake-up when one is given back.
    waiting: AtomicUsize,
    freed: tokio::sync::Notify,
}

/// Why an invocation is not admitted.
pub(crate) enum Refused {
    /// A bound on invocations pending or running is reached: a place may free up.
    Full(Problem),
    /// Anything else (the Thing's state does not allow it, the Thing is held by an exclusive
    /// invocation, or too many wait for it).
    Other(Problem),
}

impl Refused {
    /// The refusal clients see.
    pub(crate) fn into_problem(self) -> Problem {
        match self {
            Self::Full(problem) | Self::Other(problem) => problem,
        }
    }
}

impl Counters {
    /// Admit an invocation `id` of `action` of `thing`, within `limits`; or the refusal.
    pub(crate) fn admit(
        self: &Arc<Self>,
        thing: &Arc<dyn DynThing>,
        action: usize,
        id: Uuid,
        limits: &Limits,
    ) -> Result<Admission, Refused> {
        // The Thing's state first: a refused request takes nothing.
        thing.allowed_now(action).map_err(Refused::Other)?;
        if self.running.fetch_add(1, Ordering::AcqRel) >= limits.max_running_invocations {
            self.release(false);
            return Err(Refused::Full(refusals::too_many_invocations(
                limits.max_running_invocations,
            )));
        }
        // From here on, a refusal drops the admission, which gives back what it took.
        let mut admission = Admission {
            counters: self.clone(),
            thing: thing.clone(),
            action,
            line: None,
            turn: None,
            preempted: Vec::new(),
            admitted: false,
        };
        let per_action = thing.action_running(action);
        if per_action.fetch_add(1, Ordering::AcqRel) >= limits.max_running_per_action {
            return Err(Refused::Full(refusals::too_many_of_action(
                thing.name(),
                thing.action_name(action),
                limits.max_running_per_action,
            )));
        }
        if let Some(policy) = thing.exclusive(action) {
            let newcomer = (id, thing.action_name(action));
            let bound = limits.max_queued_per_thing;
            let entered = (thing.line())
                .enter(thing.name(), newcomer, policy, bound)
                .map_err(Refused::Other)?;
            admission.line = Some(id);
            if let Place::Waits(turn) = entered.place {
                admission.turn = Some(turn);
            }
            admission.preempted = entered.preempted;
        }
        admission.admitted = true;
        Ok(admission)
    }

    /// What admitting an invocation of `action` of `thing` would do now, changing nothing
    /// (a dry run): refused by the Thing's state or its exclusive line as
    /// [`admit`](Self::admit) would refuse it, or where it would stand. (The bounds on
    /// invocations running are not foreseen: a place may free up meanwhile.)
    pub(crate) fn foresee(
        thing: &Arc<dyn DynThing>,
        action: usize,
        limits: &Limits,
    ) -> Result<Foreseen, Problem> {
        thing.allowed_now(action)?;
        match thing.exclusive(action) {
            None => Ok(Foreseen::Runs),
            Some(policy) => {
                (thing.line()).foresee(thing.name(), policy, limits.max_queued_per_thing)
            }
        }
    }

    /// Admit as [`admit`](Self::admit) does, waiting up to `limits.admission_wait` for a
    /// place when a bound is reached.
    pub(crate) async fn admit_waiting(
        self: &Arc<Self>,
        thing: &Arc<dyn DynThing>,
        action: usize,
        id: Uuid,
        limits: &Limits,
    ) -> Result<Admission, Problem> {
        let deadline = tokio::time::Instant::now() + limits.admission_wait;
        loop {
            // Registered before trying, so that a place given back in between is not missed.
            let freed = self.freed.notified();
            self.waiting.fetch_add(1, Ordering::AcqRel);
            let full = match self.admit(thing, action, id, limits) {
                Ok(admission) => Ok(admission),
                Err(Refused::Other(problem)) => Err(problem),
                Err(Refused::Full(problem)) if tokio::time::Instant::now() >= deadline => {
                    Err(problem)
                }
                Err(Refused::Full(_)) => {
                    let _ = tokio::time::timeout_at(deadline, freed).await;
                    self.waiting.fetch_sub(1, Ordering::AcqRel);
                    continue;
                }
            };
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return full;
        }
    }

    /// Completes once no invocation is pending or running.
    pub(crate) async fn idle(&self) {
        loop {
            let notified = self.idle.notified();
            if self.running.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }

    /// Give a place back; `freed` when an admitted invocation gave it (a refused one only
    /// undoes what it took, and frees nothing that others wait for).
    fn release(&self, freed: bool) {
        if self.running.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.idle.notify_waiters();
        }
        if freed && self.waiting.load(Ordering::Acquire) > 0 {
            self.freed.notify_waiters();
        }
    }
}

/// An invocation's place among those pending or running (and in its Thing's exclusive line,
/// for an exclusive action): given back when dropped, however the invocation ends.
pub(crate) struct Admission {
    counters: Arc<Counters>,
    thing: Arc<dyn DynThing>,
    action: usize,
    /// Its id, when it is in its Thing's exclusive line (an exclusive action).
    line: Option<Uuid>,
    /// Completes when it holds the Thing, for one that waits for it.
    pub(super) turn: Option<oneshot::Receiver<()>>,
    /// The invocations it preempts, to be cancelled once it exists.
    pub(super) preempted: Vec<Uuid>,
    /// Whether it was admitted (not undone by a refusal).
    admitted: bool,
}

impl std::fmt::Debug for Admission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admission")
            .field("action", &self.thing.action_name(self.action))
            .field("line", &self.line)
            .finish()
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        if let Some(id) = self.line {
            self.thing.line().leave(id);
        }
        self.thing
            .action_running(self.action)
            .fetch_sub(1, Ordering::AcqRel);
        self.counters.release(self.admitted);
    }
}
