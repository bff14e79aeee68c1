//! Running an invocation, and publishing its status as it changes.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Instant, SystemTime};

use super::invocation::State;
use super::{Invocation, Invocations, STATUS_INTERVAL, Status};
use crate::model::context::{ActionContext, Cancelled};
use crate::model::table::Json;
use crate::problem::{Problem, refusals};
use crate::runtime::observer::Observers;
use crate::sync::Locked;

/// The `error` of an invocation that stopped on request: its successor's name when it was
/// preempted, with the reason the action gave (`problem`, unless it said only that it was
/// cancelled), or the generic one.
pub(super) fn cancellation(invocation: &Invocation, problem: Option<Problem>) -> Problem {
    let generic = Cancelled.to_string();
    let own = problem.filter(|p| p.detail != generic && p.detail != refusals::cancelled().detail);
    match (invocation.preempted_by.get(), own) {
        (Some((successor, action)), own) => {
            refusals::preempted(successor, action, own.as_ref().map(|p| p.detail.as_str()))
        }
        (None, Some(own)) => refusals::cancelled_because(own.detail),
        (None, None) => refusals::cancelled(),
    }
}

/// End the invocation whose state is `state`: its outcome, and its place given back. The
/// runtime's observer is told before anyone can see that it ended.
pub(super) fn conclude(
    invocation: &Invocation,
    state: &mut State,
    status: Status,
    output: Option<Json>,
    error: Option<Problem>,
    observer: &Observers,
) {
    state.status = status;
    state.time_completed = Some(SystemTime::now());
    state.output = output;
    state.error = error;
    state.admission = None;
    if let Some(observer) = observer {
        let ran = state.started.map(|start| start.elapsed());
        let thing = invocation.thing.name();
        observer.invocation_ended(thing, invocation.action, status, ran);
    }
}

impl Invocations {
    /// Run `invocation` (on the device runtime) to its end.
    pub(super) async fn run(self: Arc<Self>, invocation: Arc<Invocation>) {
        let cancel = invocation.core.cancel.clone();
        let turn = invocation.turn.locked().take();
        if let Some(turn) = turn {
            // Waiting for the Thing. A place lost to a preempting invocation (the turn fails,
            // and its branch is disabled) ends in the cancellation that invocation sends
            // next, with its reason.
            tokio::select! {
                Ok(()) = turn => {}
                () = cancel.cancelled() => {}
            }
        }
        if cancel.is_cancelled() {
            let error = cancellation(&invocation, None);
            return self.finish(&invocation, Status::Cancelled, None, Some(error));
        }
        {
            let mut state = invocation.lock();
            if state.status.is_finished() {
                return;
            }
            state.status = Status::Running;
            state.time_started = Some(SystemTime::now());
            state.started = Some(Instant::now());
        }
        #[cfg(feature = "provenance")]
        if let Some(things) = &self.things {
            let _ = (invocation.state_at_start).set(super::state_at_start::take(things));
        }
        self.publish(&invocation);
        let (thing, index) = (&invocation.thing, invocation.action_index);
        let ctx = ActionContext {
            core: invocation.core.clone(),
        };
        let code = thing.invoke(index, invocation.input.clone(), ctx);
        let future = crate::model::scope::capture(invocation.core.clone(), code);
        // An async action that ignores its context is cancelled by dropping its future: its
        // code stops at the next `.await`. Synchronous code cannot be interrupted, and an
        // action that takes its context decides itself when to stop: both are awaited, so
        // that the invocation never ends while its device code still runs.
        let interruptible = !thing.takes_context(index) && !thing.blocking(index);
        let result = if interruptible {
            tokio::select! {
                result = future => result,
                () = cancel.cancelled() => Err(refusals::cancelled()),
            }
        } else {
            future.await
        };
        let stopped_on_request = interruptible || thing.takes_context(index);
        match result {
            Ok(output) => self.finish(&invocation, Status::Completed, Some(output), None),
            Err(problem) if stopped_on_request && cancel.is_cancelled() => {
                let error = cancellation(&invocation, Some(problem));
                self.finish(&invocation, Status::Cancelled, None, Some(error));
            }
            Err(problem) => {
                let (thing, action) = (&**thing.name(), invocation.action);
                let id = invocation.id();
                if problem.status < 500 {
                    tracing::warn!(invocation = %id, thing, action, "action refused: {}", problem.detail);
                } else {
                    tracing::error!(invocation = %id, thing, action, "action failed: {}", problem.detail);
                }
                self.finish(&invocation, Status::Error, None, Some(problem))
            }
        }
    }

    /// End an invocation (once: a second end is ignored).
    fn finish(
        &self,
        invocation: &Arc<Invocation>,
        status: Status,
        output: Option<Json>,
        error: Option<Problem>,
    ) {
        {
            let mut state = invocation.lock();
            if state.status.is_finished() {
                return;
            }
            conclude(
                invocation,
                &mut state,
                status,
                output,
                error,
                &self.observer,
            );
        }
        self.ended(invocation);
    }

    /// What follows the end of an invocation: observers are told, and it enters retention.
    pub(super) fn ended(&self, invocation: &Arc<Invocation>) {
        self.publish(invocation);
        self.retain(invocation.id());
    }

    /// Publish the status of `invocation` to the observers of its action.
    pub(super) fn publish(&self, invocation: &Invocation) {
        let topic = invocation.thing.action_topic(invocation.action_index);
        if topic.has_subscribers() {
            topic.publish_status(Arc::new(invocation.status_note()));
        }
        *invocation.last_status.locked() = Some(Instant::now());
    }

    /// The progress or the log of a running invocation changed: publish its status now, or
    /// at the end of the current [`STATUS_INTERVAL`].
    pub(super) fn progressed(self: &Arc<Self>, invocation: &Arc<Invocation>) {
        let topic = invocation.thing.action_topic(invocation.action_index);
        if !topic.has_subscribers() || invocation.status_scheduled.swap(true, Ordering::AcqRel) {
            return;
        }
        let last = *invocation.last_status.locked();
        let due = last.map_or(Instant::now(), |at| at + STATUS_INTERVAL);
        let publish = {
            let (this, invocation) = (self.clone(), invocation.clone());
            move || {
                invocation.status_scheduled.store(false, Ordering::Release);
                // Its final status event (sent at once) already carries everything.
                if !invocation.lock().status.is_finished() {
                    this.publish(&invocation);
                }
            }
        };
        if due <= Instant::now() {
            return publish();
        }
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    tokio::time::sleep_until(due.into()).await;
                    publish();
                });
            }
            Err(_) => publish(),
        }
    }
}
