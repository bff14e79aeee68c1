//! Action invocations: their lifecycle, their JSON, retention and cancellation.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::context::{ActionContext, InvocationCore};
use crate::logs;
use crate::problem::Problem;
use crate::server::device::Device;
use crate::server::hosted::DynThing;
use crate::server::limits::Limits;
use crate::table::Json;

/// The states of an invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
    /// Accepted, not started yet.
    Pending,
    /// Running.
    Running,
    /// Returned a value.
    Completed,
    /// Stopped on request.
    Cancelled,
    /// Failed (an `Err` or a panic).
    Error,
}

impl Status {
    pub(crate) fn is_finished(self) -> bool {
        matches!(self, Self::Completed | Self::Cancelled | Self::Error)
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
            Self::Error => "error",
        }
    }
}

#[derive(Debug)]
struct State {
    status: Status,
    time_started: Option<String>,
    time_completed: Option<String>,
    output: Option<Json>,
    error: Option<Problem>,
}

/// One invocation of an action.
pub(crate) struct Invocation {
    pub(crate) core: Arc<InvocationCore>,
    seq: u64,
    pub(crate) thing: Arc<str>,
    pub(crate) action: &'static str,
    pub(crate) action_index: usize,
    /// The Thing it runs on.
    thing_ref: Arc<dyn DynThing>,
    /// `{prefix}/{thing}/{action}`
    pub(crate) action_path: String,
    pub(crate) input: Value,
    time_requested: String,
    state: Mutex<State>,
    /// Log records already carried by a status event.
    log_published: Mutex<u64>,
    /// A status event is scheduled (progress and log changes are published at most every
    /// [`STATUS_INTERVAL`]), and when the last one went out.
    status_scheduled: AtomicBool,
    last_status: Mutex<Option<Instant>>,
}

/// The shortest interval between two status events of one invocation caused by progress or
/// log changes: a chatty action cannot flood its observers. Changes of state are published
/// at once.
const STATUS_INTERVAL: Duration = Duration::from_millis(50);

impl std::fmt::Debug for Invocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Invocation")
            .field("id", &self.id())
            .field("thing", &self.thing)
            .field("action", &self.action)
            .finish_non_exhaustive()
    }
}

/// The output as a JSON value (`null` until completed).
fn output_value(state: &State) -> Value {
    state
        .output
        .as_ref()
        .and_then(|raw| serde_json::from_str(raw.get()).ok())
        .unwrap_or(Value::Null)
}

impl Invocation {
    pub(crate) fn id(&self) -> Uuid {
        self.core.id
    }

    /// The invocation's URL under `base` (an absolute API URL, or the API prefix).
    pub(crate) fn href(&self, base: &str) -> String {
        format!("{base}/action_invocations/{}", self.id())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The output, once completed.
    pub(crate) fn output(&self) -> Result<Option<Json>, Status> {
        let state = self.lock();
        match state.status {
            Status::Completed => Ok(state.output.clone()),
            other => Err(other),
        }
    }

    /// Whether cancellation was requested while the invocation has not finished (device code
    /// that cannot be interrupted is still running).
    fn cancel_requested(&self, state: &State) -> bool {
        !state.status.is_finished() && self.core.cancel.is_cancelled()
    }

    /// The summary JSON (list endpoints). `base` is the absolute URL prefix of the API.
    pub(crate) fn summary(&self, base: &str) -> serde_json::Map<String, Value> {
        let state = self.lock();
        let href = self.href(base);
        let mut out = serde_json::Map::new();
        out.insert("status".into(), state.status.as_str().into());
        out.insert("id".into(), self.id().to_string().into());
        out.insert("action".into(), self.action_path.clone().into());
        out.insert("href".into(), href.clone().into());
        out.insert("timeStarted".into(), json!(state.time_started));
        out.insert("timeRequested".into(), self.time_requested.clone().into());
        out.insert("timeCompleted".into(), json!(state.time_completed));
        out.insert(
            "links".into(),
            json!([
                {"href": href, "rel": "self", "type": "application/json"},
                {"href": format!("{href}/output"), "rel": "output", "type": "application/json"}
            ]),
        );
        out
    }

    /// The full JSON of the invocation.
    pub(crate) fn to_json(&self, base: &str) -> Value {
        let mut out = self.summary(base);
        let state = self.lock();
        let input = if self.input.is_null() {
            Value::Null
        } else {
            self.input.clone()
        };
        out.insert("input".into(), input);
        out.insert("output".into(), output_value(&state));
        let log = self.core.log.lock().unwrap_or_else(|e| e.into_inner());
        out.insert("log".into(), json!(log.iter().collect::<Vec<_>>()));
        out.insert("error".into(), json!(state.error));
        let progress = self.core.progress.lock().unwrap_or_else(|e| e.into_inner());
        out.insert("progress".into(), json!(*progress));
        if self.cancel_requested(&state) {
            out.insert("cancelRequested".into(), true.into());
        }
        Value::Object(out)
    }

    /// The Web Thing Protocol `ActionStatus` object (`failed` for `error`; `cancelled` is an
    /// extension).
    pub(crate) fn action_status(&self) -> Value {
        let state = self.lock();
        let mut out = serde_json::Map::new();
        out.insert("actionID".into(), self.id().to_string().into());
        let wtp_state = match state.status {
            Status::Error => "failed",
            other => other.as_str(),
        };
        out.insert("state".into(), wtp_state.into());
        if self.cancel_requested(&state) {
            out.insert("cancelRequested".into(), true.into());
        }
        if state.output.is_some() {
            out.insert("output".into(), output_value(&state));
        }
        if let Some(error) = &state.error {
            out.insert("error".into(), json!(error));
        }
        let progress = self.core.progress.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(progress) = &*progress {
            out.insert("progress".into(), progress.clone());
        }
        out.insert("timeRequested".into(), self.time_requested.clone().into());
        if let Some(t) = &state.time_completed {
            out.insert("timeEnded".into(), t.clone().into());
        }
        Value::Object(out)
    }

    /// The `actionStatus` payload of the LabThings WebSocket dialect (from which the Web
    /// Thing Protocol's status notifications are made too): the invocation's state, progress
    /// and times, and in `logged` the log records emitted since the previous status event.
    /// Its `href` is a path, made absolute by each connection.
    pub(crate) fn status_event(&self, prefix: &str) -> Value {
        let state = self.lock();
        let mut data = serde_json::Map::new();
        data.insert("action name".into(), self.action.into());
        data.insert("status".into(), state.status.as_str().into());
        data.insert("id".into(), self.id().to_string().into());
        data.insert("href".into(), self.href(prefix).into());
        if let Some(error) = &state.error {
            data.insert("error".into(), json!(error));
        }
        if state.output.is_some() {
            data.insert("output".into(), output_value(&state));
        }
        let progress = self.core.progress.lock().unwrap_or_else(|e| e.into_inner());
        data.insert("progress".into(), json!(*progress));
        drop(progress);
        data.insert("timeRequested".into(), self.time_requested.clone().into());
        data.insert("timeCompleted".into(), json!(state.time_completed));
        data.insert("logged".into(), self.new_log_records().into());
        Value::Object(data)
    }

    /// The log records not yet carried by a status event (of those still kept).
    fn new_log_records(&self) -> Vec<Value> {
        let log = self.core.log.lock().unwrap_or_else(|e| e.into_inner());
        let total = self.core.log_total.load(Ordering::Relaxed);
        let mut published = self.log_published.lock().unwrap_or_else(|e| e.into_inner());
        let first_kept = total - log.len() as u64;
        let skip = (*published).max(first_kept) - first_kept;
        *published = total;
        log.iter()
            .skip(skip as usize)
            .map(|record| json!(record))
            .collect()
    }
}

/// Retention of finished invocations.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// How long a finished invocation stays queryable.
    pub time: Duration,
    /// At most this many finished invocations are kept (oldest removed first).
    pub max_finished: usize,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            time: Duration::from_secs(300),
            max_finished: 1000,
        }
    }
}

/// Every invocation of every Thing of a server.
#[derive(Debug)]
pub(crate) struct Invocations {
    map: RwLock<HashMap<Uuid, Arc<Invocation>>>,
    seq: AtomicU64,
    retention: Retention,
    limits: Limits,
    /// Invocations pending or running, server-wide.
    running: AtomicUsize,
    /// Notified when `running` drops to zero.
    idle: tokio::sync::Notify,
    /// Where invocations run.
    device: Device,
    /// Cancelled at server shutdown: cancels every running invocation.
    pub(crate) shutdown: CancellationToken,
    /// The API prefix, for the paths in status events.
    prefix: String,
    /// Finished invocations in completion order, for retention.
    finished: Mutex<VecDeque<(Instant, Uuid)>>,
    reaper: AtomicBool,
    /// The blobs that invocations returned or took, and uploads.
    pub(crate) blobs: Arc<crate::blob::Registry>,
}

impl Invocations {
    pub(crate) fn new(
        retention: Retention,
        limits: Limits,
        prefix: String,
        shutdown: CancellationToken,
        device: Device,
    ) -> Arc<Self> {
        let prefix_for_blobs = prefix.clone();
        Arc::new(Self {
            map: RwLock::new(HashMap::new()),
            seq: AtomicU64::new(0),
            retention,
            limits,
            running: AtomicUsize::new(0),
            idle: tokio::sync::Notify::new(),
            device,
            shutdown,
            prefix,
            finished: Mutex::new(VecDeque::new()),
            reaper: AtomicBool::new(false),
            blobs: crate::blob::Registry::new(prefix_for_blobs),
        })
    }

    pub(crate) fn get(&self, id: &str) -> Option<Arc<Invocation>> {
        let id = Uuid::parse_str(id).ok()?;
        self.map
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned()
    }

    /// Every invocation, oldest first, optionally of one action of one Thing.
    pub(crate) fn list(&self, filter: Option<(&str, &str)>) -> Vec<Arc<Invocation>> {
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<_> = map
            .values()
            .filter(|i| filter.is_none_or(|(t, a)| &*i.thing == t && i.action == a))
            .cloned()
            .collect();
        drop(map);
        out.sort_by_key(|i| i.seq);
        out
    }

    /// One page of [`list`](Self::list): at most `limit` invocations after the one called
    /// `after`, and whether more follow.
    pub(crate) fn page(
        &self,
        filter: Option<(&str, &str)>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<Arc<Invocation>>, bool), Problem> {
        let start = match after {
            None => 0,
            Some(id) => {
                let Some(after) = self.get(id) else {
                    return Err(Problem::not_found(format!(
                        "`after` names no invocation: '{id}' has finished and expired, or never was"
                    )));
                };
                after.seq + 1
            }
        };
        let mut all = self.list(filter);
        all.retain(|i| i.seq >= start);
        let more = all.len() > limit;
        all.truncate(limit);
        Ok((all, more))
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

    /// Whether an invocation of `action` of `thing` may start: the server-wide and per-action
    /// bounds on invocations pending or running. Counts it when it may.
    fn admit(&self, thing: &dyn DynThing, action: usize, id: Uuid) -> Result<(), Problem> {
        let limits = &self.limits;
        if self.running.fetch_add(1, Ordering::AcqRel) >= limits.max_running_invocations {
            self.running.fetch_sub(1, Ordering::AcqRel);
            return Err(Problem::new(
                503,
                format!(
                    "the server already runs {} invocations, its limit: try again when one has finished",
                    limits.max_running_invocations
                ),
            ));
        }
        let per_action = thing.action_running(action);
        if per_action.fetch_add(1, Ordering::AcqRel) >= limits.max_running_per_action {
            per_action.fetch_sub(1, Ordering::AcqRel);
            self.running.fetch_sub(1, Ordering::AcqRel);
            return Err(Problem::new(
                503,
                format!(
                    "action '{}' of '{}' already has {} invocations pending or running, its limit: try again when one has finished",
                    thing.action_name(action),
                    thing.name(),
                    limits.max_running_per_action
                ),
            ));
        }
        if thing.exclusive(action) {
            let mut holder = thing.holder().lock().unwrap_or_else(|e| e.into_inner());
            if let Some((other, other_action)) = *holder {
                drop(holder);
                per_action.fetch_sub(1, Ordering::AcqRel);
                self.running.fetch_sub(1, Ordering::AcqRel);
                return Err(Problem::new(
                    409,
                    format!(
                        "'{}' is busy: invocation '{other}' of '{other_action}' holds it (one exclusive action at a time); wait for it to finish, or cancel it",
                        thing.name()
                    ),
                ));
            }
            *holder = Some((id, thing.action_name(action)));
        }
        Ok(())
    }

    /// Start an invocation of an action whose input was validated.
    pub(crate) fn start(
        self: &Arc<Self>,
        thing: Arc<dyn DynThing>,
        action_index: usize,
        input: Value,
    ) -> Result<Arc<Invocation>, Problem> {
        self.start_with(thing, action_index, input, |_| {})
    }

    /// As [`start`](Self::start), calling `before` with the invocation before its first
    /// status event is published and before it runs.
    pub(crate) fn start_with(
        self: &Arc<Self>,
        thing: Arc<dyn DynThing>,
        action_index: usize,
        input: Value,
        before: impl FnOnce(&Arc<Invocation>),
    ) -> Result<Arc<Invocation>, Problem> {
        let id = Uuid::new_v4();
        self.admit(&*thing, action_index, id)?;
        let thing_name = thing.name().clone();
        let action_path = format!(
            "{}/{thing_name}/{}",
            self.prefix,
            thing.action_name(action_index)
        );
        self.start_reaper();
        let core = InvocationCore::with_token(id, self.shutdown.child_token());
        let invocation = Arc::new(Invocation {
            core,
            seq: self.seq.fetch_add(1, Ordering::Relaxed),
            thing: thing_name,
            action: thing.action_name(action_index),
            action_index,
            thing_ref: thing.clone(),
            action_path,
            input,
            time_requested: ActionContext::now_rfc3339(),
            state: Mutex::new(State {
                status: Status::Pending,
                time_started: None,
                time_completed: None,
                output: None,
                error: None,
            }),
            log_published: Mutex::new(0),
            status_scheduled: AtomicBool::new(false),
            last_status: Mutex::new(None),
        });
        let _ = invocation.core.blobs.set(self.blobs.clone());
        let (this, weak) = (Arc::downgrade(self), Arc::downgrade(&invocation));
        let _ = invocation.core.on_change.set(Box::new(move || {
            if let (Some(this), Some(invocation)) = (this.upgrade(), weak.upgrade()) {
                this.progressed(&invocation);
            }
        }));
        self.map
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(invocation.id(), invocation.clone());
        before(&invocation);
        self.publish(&*thing, &invocation);
        let this = self.clone();
        let inv = invocation.clone();
        self.device.spawn(async move { this.run(thing, inv).await });
        Ok(invocation)
    }

    fn publish(&self, thing: &dyn DynThing, invocation: &Invocation) {
        let topic = thing.action_topic(invocation.action_index);
        if topic.has_subscribers() {
            let event = invocation.status_event(&self.prefix).to_string();
            topic.publish_event(event);
        }
        *invocation
            .last_status
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
    }

    /// The progress or the log of a running invocation changed: publish its status now, or
    /// at the end of the current [`STATUS_INTERVAL`].
    fn progressed(self: &Arc<Self>, invocation: &Arc<Invocation>) {
        let topic = invocation.thing_ref.action_topic(invocation.action_index);
        if !topic.has_subscribers() || invocation.status_scheduled.swap(true, Ordering::AcqRel) {
            return;
        }
        let last = *invocation
            .last_status
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let due = last.map_or(Instant::now(), |at| at + STATUS_INTERVAL);
        let publish = {
            let (this, invocation) = (self.clone(), invocation.clone());
            move || {
                invocation.status_scheduled.store(false, Ordering::Release);
                // Its final status event (sent at once) already carries everything.
                if !invocation.lock().status.is_finished() {
                    this.publish(&*invocation.thing_ref, &invocation);
                }
            }
        };
        if due <= Instant::now() {
            publish();
            return;
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

    async fn run(self: Arc<Self>, thing: Arc<dyn DynThing>, inv: Arc<Invocation>) {
        let cancel = inv.core.cancel.clone();
        if cancel.is_cancelled() {
            self.finish(&*thing, &inv, Status::Cancelled, None, Some(cancelled()));
            return;
        }
        {
            let mut state = inv.lock();
            if state.status.is_finished() {
                return;
            }
            state.status = Status::Running;
            state.time_started = Some(ActionContext::now_rfc3339());
        }
        self.publish(&*thing, &inv);
        let ctx = ActionContext {
            core: inv.core.clone(),
        };
        let input = inv.input.clone();
        let index = inv.action_index;
        let future = logs::capture(inv.core.clone(), thing.invoke(index, input, ctx));
        // An async action that ignores its context is cancelled by dropping its future: its
        // code stops at the next `.await`. Synchronous code cannot be interrupted, and an
        // action that takes its context decides itself when to stop: both are awaited, so
        // that the invocation never ends while its device code still runs.
        let interruptible = !thing.takes_context(index) && !thing.blocking(index);
        let result = if interruptible {
            tokio::select! {
                result = future => result,
                () = cancel.cancelled() => Err(cancelled()),
            }
        } else {
            future.await
        };
        let stopped_on_request = interruptible || thing.takes_context(index);
        match result {
            Ok(output) => self.finish(&*thing, &inv, Status::Completed, Some(output), None),
            Err(_) if stopped_on_request && cancel.is_cancelled() => {
                self.finish(&*thing, &inv, Status::Cancelled, None, Some(cancelled()))
            }
            Err(problem) => {
                tracing::error!(
                    invocation = %inv.id(),
                    thing = &*inv.thing,
                    action = inv.action,
                    "action failed: {}",
                    problem.detail
                );
                self.finish(&*thing, &inv, Status::Error, None, Some(problem))
            }
        }
    }

    /// End an invocation (once: a second end is ignored).
    fn finish(
        self: &Arc<Self>,
        thing: &dyn DynThing,
        inv: &Arc<Invocation>,
        status: Status,
        output: Option<Json>,
        error: Option<Problem>,
    ) {
        {
            let mut state = inv.lock();
            if state.status.is_finished() {
                return;
            }
            Self::conclude(&mut state, status, output, error);
        }
        self.finished(thing, inv);
    }

    fn conclude(state: &mut State, status: Status, output: Option<Json>, error: Option<Problem>) {
        state.status = status;
        state.time_completed = Some(ActionContext::now_rfc3339());
        state.output = output;
        state.error = error;
    }

    /// What follows the end of an invocation: its slots are freed, observers told, and it
    /// enters retention.
    fn finished(self: &Arc<Self>, thing: &dyn DynThing, inv: &Arc<Invocation>) {
        thing
            .action_running(inv.action_index)
            .fetch_sub(1, Ordering::AcqRel);
        if thing.exclusive(inv.action_index) {
            let mut holder = thing.holder().lock().unwrap_or_else(|e| e.into_inner());
            if holder.is_some_and(|(id, _)| id == inv.id()) {
                *holder = None;
            }
        }
        if self.running.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.idle.notify_waiters();
        }
        self.publish(thing, inv);
        self.finished
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back((Instant::now(), inv.id()));
        self.expire();
    }

    /// Remove finished invocations past the retention time, and the oldest ones beyond the
    /// cap. Finished invocations are queued in completion order, so this only looks at the
    /// ones it removes.
    fn expire(&self) {
        let mut finished = self.finished.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let mut expired = Vec::new();
        while let Some(&(at, id)) = finished.front() {
            if finished.len() > self.retention.max_finished
                || now.duration_since(at) >= self.retention.time
            {
                expired.push(id);
                finished.pop_front();
            } else {
                break;
            }
        }
        drop(finished);
        if !expired.is_empty() {
            let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
            for id in &expired {
                map.remove(id);
            }
            drop(map);
            // Their blobs go with them.
            self.blobs.release(&expired, now);
        }
    }

    /// Keep an uploaded blob for the retention time (or until an invocation takes it).
    pub(crate) fn upload(self: &Arc<Self>, blob: crate::Blob) -> Uuid {
        self.start_reaper();
        let until = Instant::now() + self.retention.time;
        self.blobs.register(blob, crate::blob::Owner::Upload(until))
    }

    /// Start the timer that expires finished invocations (once, from within the runtime).
    fn start_reaper(self: &Arc<Self>) {
        if self.reaper.swap(true, Ordering::Relaxed) {
            return;
        }
        let tick =
            (self.retention.time / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
        let this = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(tick);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                match this.upgrade() {
                    Some(this) => {
                        this.expire();
                        // Uploads that no invocation took.
                        this.blobs.release(&[], Instant::now());
                    }
                    None => return,
                }
            }
        });
    }

    /// Request cancellation; a 409 problem when the invocation already finished.
    pub(crate) fn cancel(self: &Arc<Self>, inv: &Arc<Invocation>) -> Result<(), Problem> {
        let mut state = inv.lock();
        if state.status.is_finished() {
            return Err(Problem::new(
                409,
                format!(
                    "invocation '{}' is already {} and cannot be cancelled",
                    inv.id(),
                    state.status.as_str()
                ),
            ));
        }
        inv.core.cancel.cancel();
        if state.status == Status::Pending {
            // Not started (the device runtime may be busy): it ends now, and frees its slot.
            Self::conclude(&mut state, Status::Cancelled, None, Some(cancelled()));
            drop(state);
            self.finished(&*inv.thing_ref, inv);
        }
        Ok(())
    }
}

/// The `error` of a cancelled invocation. Its type is the one LabThings-FastAPI clients map
/// to `InvocationCancelledError`.
fn cancelled() -> Problem {
    Problem::new(500, "The action was cancelled.").with_type(
        "https://labthings-fastapi.readthedocs.io/en/latest/autoapi/labthings_fastapi/exceptions/index.html#labthings_fastapi.exceptions.InvocationCancelledError",
        "InvocationCancelledError",
    )
}
