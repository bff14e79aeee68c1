//! One invocation of an action, and the snapshots that every wire shape of it is made from.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Instant, SystemTime};

use serde_json::Value;
use tokio::sync::oneshot;
use uuid::Uuid;

use super::admission::Admission;
use super::requester::Requester;
use super::status::Status;
use crate::model::context::{InvocationCore, LogRecord};
use crate::model::table::Json;
use crate::problem::Problem;
use crate::runtime::hosted::DynThing;
use crate::sync::Locked;

/// What changes while an invocation runs.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) status: Status,
    pub(crate) time_started: Option<SystemTime>,
    /// When it started, by the monotonic clock (for how long it ran).
    pub(crate) started: Option<std::time::Instant>,
    pub(crate) time_completed: Option<SystemTime>,
    pub(crate) output: Option<Json>,
    pub(crate) error: Option<Problem>,
    /// Its place among the invocations pending or running, until it ends.
    pub(crate) admission: Option<Admission>,
}

/// One invocation of an action.
pub(crate) struct Invocation {
    pub(crate) core: Arc<InvocationCore>,
    /// The Thing it runs on.
    pub(crate) thing: Arc<dyn DynThing>,
    pub(crate) action: &'static str,
    pub(crate) action_index: usize,
    pub(crate) input: Value,
    pub(crate) time_requested: SystemTime,
    /// Who asked for it (for its provenance record).
    #[cfg_attr(not(feature = "provenance"), allow(dead_code))]
    pub(crate) requester: Requester,
    /// Every Thing's stored values when it started.
    #[cfg(feature = "provenance")]
    pub(crate) state_at_start: OnceLock<super::state_at_start::StateAtStart>,
    state: Mutex<State>,
    /// Log records already carried by a status event.
    log_published: Mutex<u64>,
    /// A status event is scheduled (progress and log changes are published at most every
    /// [`STATUS_INTERVAL`](super::STATUS_INTERVAL)), and when the last one went out.
    pub(crate) status_scheduled: AtomicBool,
    pub(crate) last_status: Mutex<Option<Instant>>,
    /// Completes when it holds its Thing, for an exclusive invocation that waits for it.
    pub(crate) turn: Mutex<Option<oneshot::Receiver<()>>>,
    /// The invocation that preempted it (and its action), when one did.
    pub(crate) preempted_by: OnceLock<(Uuid, &'static str)>,
}

impl std::fmt::Debug for Invocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Invocation")
            .field("id", &self.id())
            .field("thing", self.thing.name())
            .field("action", &self.action)
            .finish_non_exhaustive()
    }
}

/// The state of an invocation, read once under its lock: what every wire shape of it
/// (summary, record, action status, status event) is serialised from.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub(crate) id: Uuid,
    pub(crate) thing: Arc<str>,
    pub(crate) action: &'static str,
    pub(crate) status: Status,
    /// Cancellation was requested, and device code that cannot be interrupted still runs.
    pub(crate) cancel_requested: bool,
    pub(crate) time_requested: SystemTime,
    pub(crate) time_started: Option<SystemTime>,
    pub(crate) time_completed: Option<SystemTime>,
    pub(crate) output: Option<Json>,
    /// Whether the output links to blobs of the server (their links are made absolute).
    pub(crate) links_blobs: bool,
    pub(crate) error: Option<Problem>,
    pub(crate) progress: Option<Value>,
    /// Its place among the invocations waiting for its Thing (1: it runs next), while it
    /// waits.
    pub(crate) position: Option<usize>,
}

/// A change of an invocation's status, as its action's topic publishes it: the snapshot, and
/// the log records emitted since the previous one.
#[derive(Debug)]
pub(crate) struct StatusNote {
    pub(crate) snapshot: Snapshot,
    pub(crate) logged: Vec<LogRecord>,
}

impl Invocation {
    pub(crate) fn new(
        core: Arc<InvocationCore>,
        thing: Arc<dyn DynThing>,
        action_index: usize,
        input: Value,
        requester: Requester,
        mut admission: Admission,
    ) -> Self {
        let turn = admission.turn.take();
        let action = thing.action_name(action_index);
        let address = Arc::as_ptr(&thing.as_any()).cast::<()>() as usize;
        core.calls.runs(address, action);
        Self {
            core,
            action,
            thing,
            action_index,
            input,
            time_requested: SystemTime::now(),
            requester,
            #[cfg(feature = "provenance")]
            state_at_start: OnceLock::new(),
            state: Mutex::new(State {
                status: Status::Pending,
                time_started: None,
                started: None,
                time_completed: None,
                output: None,
                error: None,
                admission: Some(admission),
            }),
            log_published: Mutex::new(0),
            status_scheduled: AtomicBool::new(false),
            last_status: Mutex::new(None),
            turn: Mutex::new(turn),
            preempted_by: OnceLock::new(),
        }
    }

    pub(crate) fn id(&self) -> Uuid {
        self.core.id
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.locked()
    }

    /// Its state now.
    pub(crate) fn snapshot(&self) -> Snapshot {
        let state = self.lock();
        self.snapshot_of(&state)
    }

    fn snapshot_of(&self, state: &State) -> Snapshot {
        Snapshot {
            id: self.id(),
            thing: self.thing.name().clone(),
            action: self.action,
            status: state.status,
            cancel_requested: !state.status.is_finished() && self.core.cancel.is_cancelled(),
            time_requested: self.time_requested,
            time_started: state.time_started,
            time_completed: state.time_completed,
            output: state.output.clone(),
            links_blobs: self.core.links_blobs.load(Ordering::Relaxed),
            error: state.error.clone(),
            progress: self.core.progress.locked().clone(),
            position: match state.status {
                Status::Pending => self.thing.line().position(self.id()),
                _ => None,
            },
        }
    }

    /// Its state now, with the log records not yet carried by a status event.
    pub(crate) fn status_note(&self) -> StatusNote {
        let snapshot = self.snapshot();
        StatusNote {
            snapshot,
            logged: self.new_log_records(),
        }
    }

    /// Every log record kept.
    pub(crate) fn log(&self) -> Vec<LogRecord> {
        self.core.log.locked().iter().cloned().collect()
    }

    /// The output, once completed (or the status it is in).
    pub(crate) fn output(&self) -> Result<Option<Json>, Status> {
        let state = self.lock();
        match state.status {
            Status::Completed => Ok(state.output.clone()),
            other => Err(other),
        }
    }

    /// The log records not yet carried by a status event (of those still kept).
    fn new_log_records(&self) -> Vec<LogRecord> {
        let log = self.core.log.locked();
        let total = self.core.log_total.load(Ordering::Relaxed);
        let mut published = self.log_published.locked();
        let first_kept = total - log.len() as u64;
        let skip = (*published).max(first_kept) - first_kept;
        *published = total;
        log.iter().skip(skip as usize).cloned().collect()
    }
}
