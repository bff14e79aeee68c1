//! Action invocations: admitted within their bounds, run on the device runtime, published at
//! each change of status, kept for a while once ended, and cancelled on request.

mod admission;
mod invocation;
mod requester;
mod retention;
mod run;
#[cfg(feature = "provenance")]
pub(crate) mod state_at_start;
mod status;

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde_json::Value;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub(crate) use invocation::{Invocation, Snapshot, StatusNote};
pub(crate) use requester::Requester;
pub use retention::Retention;
pub(crate) use status::Status;

use crate::model::blob::{Blob, Owner, Registry};
use crate::model::context::InvocationCore;
use crate::problem::{Problem, refusals};
use crate::runtime::device::Device;
use crate::runtime::hosted::DynThing;
use crate::runtime::limits::Limits;
use crate::runtime::observer::Observers;
use crate::sync::{Locked, Shared};
use admission::{Counters, Refused};

/// The shortest interval between two status events of one invocation caused by progress or
/// log changes: a chatty action cannot flood its observers. Changes of state are published
/// at once.
const STATUS_INTERVAL: Duration = Duration::from_millis(50);

/// Every invocation of every Thing of a server.
#[derive(Debug)]
pub(crate) struct Invocations {
    map: RwLock<HashMap<Uuid, Arc<Invocation>>>,
    retention: Retention,
    limits: Limits,
    counters: Arc<Counters>,
    /// Where invocations run.
    device: Device,
    /// Cancelled at server shutdown: cancels every running invocation.
    pub(crate) shutdown: CancellationToken,
    /// Ended invocations in the order they ended, for retention.
    ended: Mutex<retention::Ended>,
    reaper: AtomicBool,
    /// The blobs that invocations returned or took, and uploads.
    pub(crate) blobs: Arc<Registry>,
    /// Told of the end of each invocation.
    observer: Observers,
    /// Every Thing of the server, whose state each invocation records when it starts
    /// (`None`: the server keeps no provenance records).
    #[cfg(feature = "provenance")]
    things: Option<state_at_start::Everyone>,
}

impl Invocations {
    pub(crate) fn new(
        retention: Retention,
        limits: Limits,
        prefix: String,
        shutdown: CancellationToken,
        device: Device,
        observer: Observers,
        things: Option<Vec<Arc<dyn DynThing>>>,
    ) -> Arc<Self> {
        #[cfg(not(feature = "provenance"))]
        let _ = things;
        Arc::new(Self {
            map: RwLock::new(HashMap::new()),
            retention,
            limits,
            counters: Arc::default(),
            device,
            shutdown,
            ended: Mutex::default(),
            reaper: AtomicBool::new(false),
            blobs: Registry::new(prefix),
            observer,
            #[cfg(feature = "provenance")]
            things: things.map(state_at_start::Everyone),
        })
    }

    /// Whether invocations keep provenance records.
    #[cfg(feature = "provenance")]
    pub(crate) fn record_provenance(&self) -> bool {
        self.things.is_some()
    }

    /// The invocation called `id`, while it is kept.
    pub(crate) fn get(&self, id: &str) -> Option<Arc<Invocation>> {
        let id = Uuid::parse_str(id).ok()?;
        self.map.reading().get(&id).cloned()
    }

    /// Every invocation, oldest first, optionally of one action of one Thing.
    pub(crate) fn list(&self, filter: Option<(&str, &str)>) -> Vec<Arc<Invocation>> {
        let map = self.map.reading();
        let mut out: Vec<_> = map
            .values()
            .filter(|i| filter.is_none_or(|(t, a)| &**i.thing.name() == t && i.action == a))
            .cloned()
            .collect();
        drop(map);
        out.sort_by_key(|i| i.core.sequence);
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
                after.core.sequence + 1
            }
        };
        let mut all = self.list(filter);
        all.retain(|i| i.core.sequence >= start);
        let more = all.len() > limit;
        all.truncate(limit);
        Ok((all, more))
    }

    /// Completes once no invocation is pending or running.
    pub(crate) async fn idle(&self) {
        self.counters.idle().await
    }

    /// Start an invocation of an action whose input was validated (waiting, within the
    /// limits, for a place), calling `before` with it before its first status event is
    /// published and before it runs.
    pub(crate) async fn start(
        self: &Arc<Self>,
        thing: Arc<dyn DynThing>,
        action: usize,
        input: Value,
        requester: Requester,
        before: impl FnOnce(&Arc<Invocation>),
    ) -> Result<Arc<Invocation>, Problem> {
        let id = Uuid::new_v4();
        let counters = &self.counters;
        let admission = counters
            .admit_waiting(&thing, action, id, &self.limits)
            .await?;
        let asked = (input, requester);
        Ok(self.begin(id, admission, thing, action, asked, before))
    }

    /// What starting an invocation of `action` of `thing` would do now, changing nothing.
    pub(crate) fn foresee(
        &self,
        thing: &Arc<dyn DynThing>,
        action: usize,
    ) -> Result<crate::runtime::line::Foreseen, Problem> {
        admission::Counters::foresee(thing, action, &self.limits)
    }

    /// As [`start`](Self::start), refused at once when no place is free.
    pub(crate) fn start_now(
        self: &Arc<Self>,
        thing: Arc<dyn DynThing>,
        action: usize,
        input: Value,
        requester: Requester,
        before: impl FnOnce(&Arc<Invocation>),
    ) -> Result<Arc<Invocation>, Problem> {
        let id = Uuid::new_v4();
        let admission = self
            .counters
            .admit(&thing, action, id, &self.limits)
            .map_err(Refused::into_problem)?;
        let asked = (input, requester);
        Ok(self.begin(id, admission, thing, action, asked, before))
    }

    /// Run an admitted invocation of `input`, asked for by a requester.
    fn begin(
        self: &Arc<Self>,
        id: Uuid,
        mut admission: admission::Admission,
        thing: Arc<dyn DynThing>,
        action: usize,
        (input, requester): (Value, Requester),
        before: impl FnOnce(&Arc<Invocation>),
    ) -> Arc<Invocation> {
        self.start_reaper();
        let preempted = std::mem::take(&mut admission.preempted);
        let core = InvocationCore::with_token(id, self.shutdown.child_token());
        let _ = core.blobs.set(self.blobs.clone());
        let invocation = Invocation::new(core, thing, action, input, requester, admission);
        let invocation = Arc::new(invocation);
        let (this, weak) = (Arc::downgrade(self), Arc::downgrade(&invocation));
        let _ = invocation.core.on_change.set(Box::new(move || {
            if let (Some(this), Some(invocation)) = (this.upgrade(), weak.upgrade()) {
                this.progressed(&invocation);
            }
        }));
        self.map.writing().insert(id, invocation.clone());
        before(&invocation);
        self.publish(&invocation);
        self.preempt(&preempted, &invocation);
        let (this, running) = (self.clone(), invocation.clone());
        self.device.spawn(async move { this.run(running).await });
        invocation
    }

    /// Cancel the invocations that `successor` preempts, naming it as the reason.
    fn preempt(self: &Arc<Self>, preempted: &[Uuid], successor: &Invocation) {
        for id in preempted {
            let victim = self.map.reading().get(id).cloned();
            if let Some(victim) = victim {
                let _ = victim.preempted_by.set((successor.id(), successor.action));
                // One that ended meanwhile has nothing to cancel.
                let _ = self.cancel(&victim);
            }
        }
    }

    /// Request cancellation; a 409 problem when the invocation already ended.
    pub(crate) fn cancel(self: &Arc<Self>, invocation: &Arc<Invocation>) -> Result<(), Problem> {
        let mut state = invocation.lock();
        if state.status.is_finished() {
            return Err(refusals::already_ended(
                &invocation.id(),
                state.status.as_str(),
            ));
        }
        invocation.core.cancel.cancel();
        if state.status == Status::Pending {
            // Not started (the device runtime may be busy, or it waits for its Thing): it
            // ends now, and frees its place.
            let error = run::cancellation(invocation, None);
            run::conclude(
                invocation,
                &mut state,
                Status::Cancelled,
                None,
                Some(error),
                &self.observer,
            );
            drop(state);
            self.ended(invocation);
        }
        Ok(())
    }

    /// Keep an uploaded blob for the retention time (or until an invocation takes it).
    pub(crate) fn upload(self: &Arc<Self>, blob: Blob) -> Uuid {
        self.start_reaper();
        let until = std::time::Instant::now() + self.retention.time;
        self.blobs.register(blob, Owner::Upload(until))
    }

    /// The locks of the map and the retention queue, for retention.
    fn forget(&self, ids: &[Uuid]) {
        let mut map = self.map.writing();
        for id in ids {
            map.remove(id);
        }
    }

    fn ended_queue(&self) -> std::sync::MutexGuard<'_, retention::Ended> {
        self.ended.locked()
    }
}
