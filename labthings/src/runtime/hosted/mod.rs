//! A Thing instance behind a type-erased interface, dispatching through its generated table.

mod device_code;
mod gates;
mod history;
mod judge;

use std::any::TypeId;
use std::sync::Arc;

use serde_json::Value;

use crate::broker::{History, HistoryLimits, Mailbox, Note, Topic};
use tokio_util::sync::CancellationToken;

use crate::model::context::ActionContext;
use crate::model::slot::{AnyThing, SlotCell};
use crate::model::table::StoredValue;
use crate::model::table::{Affordance, BoxFuture, Getter, Json, Setter, ThingTable};
use crate::model::task::{TASK_FAILED, TaskContext, TaskFailure};
use crate::model::td::TdOptions;
use crate::model::thing::Thing;
use crate::problem::Problem;

pub(crate) use device_code::Pending;
use device_code::{call_now, guarded, log_failure};
#[cfg(feature = "history")]
pub(crate) use history::{keep_series, series};

/// What the server needs of a Thing, whatever its type.
pub(crate) trait DynThing: Send + Sync + 'static {
    /// The name it is published under.
    fn name(&self) -> &Arc<str>;
    fn description(&self, options: &TdOptions) -> Value;
    fn lookup(&self, name: &str) -> Option<Affordance>;
    fn property_count(&self) -> usize;
    fn property_name(&self, index: usize) -> &'static str;
    /// Whether changes of the property are published.
    fn observable(&self, index: usize) -> bool;
    /// The warning and alarm ranges of the property.
    fn ranges(&self, index: usize) -> crate::model::quality::Ranges;
    /// Subscribe `mailbox` to an observable property under `slot`, queueing its current
    /// value first when `with_current` (as the notification of resume point `seq`).
    /// Returns `false` if the property is not observable.
    fn observe(
        &self,
        index: usize,
        mailbox: &Arc<Mailbox>,
        slot: u32,
        with_current: bool,
        seq: Option<u64>,
    ) -> bool;
    fn unobserve(&self, index: usize, mailbox: &Arc<Mailbox>);
    /// Whether clients may read / write the property.
    fn readable(&self, index: usize) -> bool;
    fn writable(&self, index: usize) -> bool;
    fn read(&self, index: usize) -> Pending<Json>;
    /// Validate then write a client's value.
    fn write(&self, index: usize, value: Value) -> Pending<()>;
    fn action_count(&self) -> usize;
    fn action_name(&self, index: usize) -> &'static str;
    fn stream(&self, index: usize) -> &crate::model::stream::MjpegStream;
    /// Its operations in the server's OpenAPI document, published at `path`
    /// (`{prefix}/{name}/`).
    #[cfg(feature = "openapi")]
    fn openapi_paths(
        &self,
        path: &str,
        schemas: &mut crate::model::openapi::Schemas,
    ) -> Vec<(String, Value)>;
    #[cfg(feature = "metrics")]
    fn stream_name(&self, index: usize) -> &'static str;
    #[cfg(feature = "metrics")]
    fn stream_count(&self) -> usize;
    fn event_count(&self) -> usize;
    fn event_name(&self, index: usize) -> &'static str;
    fn event_topic(&self, index: usize) -> &Topic;
    /// Record the Thing's notifications (observable properties, events) from now on, so
    /// that clients can resume.
    fn keep_history(&self, limits: HistoryLimits);
    /// Its history, once kept.
    fn history(&self) -> Option<&Arc<History>>;
    /// What the values of property `index` are, if it is observable and numeric or boolean
    /// (so that it may keep a value history).
    #[cfg(feature = "history")]
    fn series_kind(&self, index: usize) -> Option<crate::broker::SeriesKind>;
    fn action_topic(&self, index: usize) -> &crate::broker::Topic;
    /// The number of invocations of the action pending or running.
    fn action_running(&self, index: usize) -> &std::sync::atomic::AtomicUsize;
    fn validate_input(&self, index: usize, input: Value) -> Result<Value, Problem>;
    fn takes_context(&self, index: usize) -> bool;
    /// Whether the action is synchronous code that cannot be interrupted.
    fn blocking(&self, index: usize) -> bool;
    fn invoke(
        &self,
        index: usize,
        input: Value,
        ctx: ActionContext,
    ) -> BoxFuture<Result<Json, Problem>>;
    /// Whether the Thing's state allows invoking the action now (its refusal, 409, if not).
    fn allowed_now(&self, index: usize) -> Result<(), Problem>;
    /// The action's exclusive policy (`None`: not exclusive), and the Thing's exclusive line.
    fn exclusive(&self, index: usize) -> Option<crate::model::table::Exclusive>;
    fn line(&self) -> &crate::runtime::line::Line;
    /// The Thing itself, for slots.
    fn as_any(&self) -> AnyThing;
    fn type_id(&self) -> TypeId;
    fn type_name(&self) -> &'static str;
    /// Its slots.
    fn slots(&self) -> Vec<(&'static str, &dyn SlotCell)>;
    /// Its settings: the index and name of each setting property.
    fn settings(&self) -> Vec<(usize, &'static str)>;
    /// The stored field of property `index`.
    fn field(&self, index: usize) -> Option<&dyn StoredValue>;
    /// Validate a value for property `index` (as a client's write is).
    fn validate(&self, index: usize, value: &Value) -> Result<(), Problem>;
    /// Whether a client's write of `value` to property `index` is taken now: its schema and
    /// constraints, then the Thing's state.
    fn check_write(&self, index: usize, value: &Value) -> Result<(), Problem>;
    /// The start and stop hooks.
    fn on_start(&self) -> Option<BoxFuture<Result<(), Problem>>>;
    fn on_stop(&self) -> Option<BoxFuture<Result<(), Problem>>>;
    /// Its `#[task]`s, each with a context cancelled by `cancel`; a panic in one is its
    /// failure.
    fn tasks(
        &self,
        cancel: &CancellationToken,
    ) -> Vec<(&'static str, BoxFuture<Result<(), Problem>>)>;
    /// Emit the event of failed tasks: `task` ended with `problem`.
    fn task_failed(&self, task: &'static str, problem: &Problem);
}

/// A Thing of type `T` published by the server.
pub(crate) struct Hosted<T: Thing> {
    name: Arc<str>,
    thing: Arc<T>,
    table: &'static ThingTable<T>,
    action_topics: Vec<crate::broker::Topic>,
    action_running: Vec<std::sync::atomic::AtomicUsize>,
    line: crate::runtime::line::Line,
    history: std::sync::OnceLock<Arc<History>>,
    /// The event of failed tasks (an event of the Thing only if it has tasks).
    task_failed: Topic,
    /// The event of changes of quality (an event of the Thing only if its observable
    /// properties declare ranges).
    alarm: Topic,
}

impl<T: Thing> Hosted<T> {
    pub(crate) fn new(name: &str, thing: Arc<T>) -> Self {
        let table = T::table();
        let hosted = Self {
            name: Arc::from(name),
            thing,
            table,
            action_topics: table
                .actions
                .iter()
                .map(|_| crate::broker::Topic::new())
                .collect(),
            action_running: table.actions.iter().map(|_| Default::default()).collect(),
            line: crate::runtime::line::Line::default(),
            history: std::sync::OnceLock::new(),
            task_failed: Topic::new(),
            alarm: Topic::new(),
        };
        judge::attach(&*hosted.thing, table, &hosted.alarm);
        hosted
    }

    /// The framework event `index` past the Thing's own: its name and topic.
    fn framework_event(&self, index: usize) -> (&'static str, &Topic) {
        let extra = self.table.framework_events();
        let name = (index.checked_sub(self.table.events.len()))
            .and_then(|i| extra.get(i))
            .unwrap_or_else(|| panic!("{} has no event {index}", self.table.type_name));
        match *name {
            TASK_FAILED => (TASK_FAILED, &self.task_failed),
            other => (other, &self.alarm),
        }
    }
}

impl<T: Thing> DynThing for Hosted<T> {
    fn name(&self) -> &Arc<str> {
        &self.name
    }

    fn description(&self, options: &TdOptions) -> Value {
        crate::model::td::thing_description(self.table, options)
    }

    fn lookup(&self, name: &str) -> Option<Affordance> {
        self.table.lookup(name)
    }

    fn property_count(&self) -> usize {
        self.table.properties.len()
    }

    fn property_name(&self, index: usize) -> &'static str {
        self.table.properties[index].def.name
    }

    fn ranges(&self, index: usize) -> crate::model::quality::Ranges {
        self.table.properties[index].def.ranges
    }

    fn observable(&self, index: usize) -> bool {
        self.table.properties[index]
            .def
            .observed_field(&self.thing)
            .is_some()
    }

    fn observe(
        &self,
        index: usize,
        mailbox: &Arc<Mailbox>,
        slot: u32,
        with_current: bool,
        seq: Option<u64>,
    ) -> bool {
        let def = self.table.properties[index].def;
        let Some(field) = def.observed_field(&self.thing) else {
            return false;
        };
        if with_current && def.readable() {
            field.topic().subscribe_with_current(mailbox, slot, || {
                let json = field.read_json().ok()?;
                Some(Arc::new(Note {
                    seq,
                    at: std::time::SystemTime::now(),
                    json: Box::<str>::from(json),
                }))
            });
        } else {
            field.topic().subscribe(mailbox, slot);
        }
        true
    }

    fn unobserve(&self, index: usize, mailbox: &Arc<Mailbox>) {
        if let Some(field) = self.table.properties[index].def.observed_field(&self.thing) {
            field.topic().unsubscribe(mailbox);
        }
    }

    fn readable(&self, index: usize) -> bool {
        self.table.properties[index].def.readable()
    }

    fn writable(&self, index: usize) -> bool {
        self.table.properties[index].def.writable()
    }

    fn read(&self, index: usize) -> Pending<Json> {
        let def = self.table.properties[index].def;
        match &def.getter {
            None => Pending::Ready(Err(Problem::new(
                405,
                format!("property '{}' is write-only", def.name),
            ))),
            Some(Getter::Field(field)) => {
                let result = call_now(|| field(&self.thing).read_json());
                log_failure(&self.name, def.name, "the getter", &result);
                Pending::Ready(result)
            }
            Some(Getter::Blocking(f)) => {
                let (f, thing) = (*f, self.thing.clone());
                self.later(
                    "the getter",
                    index,
                    crate::model::blocking::blocking(move || f(&thing)),
                )
            }
            Some(Getter::Async(f)) => {
                self.later("the getter", index, guarded(f(self.thing.clone())))
            }
        }
    }

    fn write(&self, index: usize, value: Value) -> Pending<()> {
        if let Err(problem) = self.check_write(index, &value) {
            return Pending::Ready(Err(problem));
        }
        let entry = &self.table.properties[index];
        match &entry.def.setter {
            None => Pending::Ready(Err(Problem::new(
                405,
                format!("property '{}' is read-only", entry.def.name),
            ))),
            Some(Setter::Field(field)) => {
                let result = call_now(|| field(&self.thing).write_json(value));
                log_failure(&self.name, entry.def.name, "the setter", &result);
                Pending::Ready(result)
            }
            Some(Setter::Blocking(f)) => {
                let (f, thing) = (*f, self.thing.clone());
                self.later(
                    "the setter",
                    index,
                    crate::model::blocking::blocking(move || f(&thing, value)),
                )
            }
            Some(Setter::Async(f)) => {
                self.later("the setter", index, guarded(f(self.thing.clone(), value)))
            }
        }
    }

    fn action_count(&self) -> usize {
        self.table.actions.len()
    }

    fn action_name(&self, index: usize) -> &'static str {
        self.table.actions[index].def.name
    }

    fn action_topic(&self, index: usize) -> &crate::broker::Topic {
        &self.action_topics[index]
    }

    fn stream(&self, index: usize) -> &crate::model::stream::MjpegStream {
        (self.table.streams[index].field)(&self.thing)
    }

    #[cfg(feature = "openapi")]
    fn openapi_paths(
        &self,
        path: &str,
        schemas: &mut crate::model::openapi::Schemas,
    ) -> Vec<(String, Value)> {
        crate::model::openapi::thing_paths(self.table, &self.name, path, schemas)
    }

    #[cfg(feature = "metrics")]
    fn stream_name(&self, index: usize) -> &'static str {
        self.table.streams[index].name
    }

    #[cfg(feature = "metrics")]
    fn stream_count(&self) -> usize {
        self.table.streams.len()
    }

    fn event_count(&self) -> usize {
        self.table.events.len() + self.table.framework_events().len()
    }

    fn event_name(&self, index: usize) -> &'static str {
        match self.table.events.get(index) {
            Some(event) => event.def.name,
            None => self.framework_event(index).0,
        }
    }

    fn event_topic(&self, index: usize) -> &Topic {
        match self.table.events.get(index) {
            Some(event) => (event.def.topic)(&self.thing),
            None => self.framework_event(index).1,
        }
    }

    fn task_failed(&self, task: &'static str, problem: &Problem) {
        let failure = TaskFailure {
            task: task.to_owned(),
            status: problem.status,
            detail: problem.detail.clone(),
        };
        if self.task_failed.has_subscribers()
            && let Ok(json) = serde_json::to_string(&failure)
        {
            self.task_failed.publish_event(json);
        }
    }

    fn keep_history(&self, limits: HistoryLimits) {
        self.record_notifications(limits);
    }

    #[cfg(feature = "history")]
    fn series_kind(&self, index: usize) -> Option<crate::broker::SeriesKind> {
        self.kind_of(index)
    }

    fn history(&self) -> Option<&Arc<History>> {
        self.history.get()
    }

    fn action_running(&self, index: usize) -> &std::sync::atomic::AtomicUsize {
        &self.action_running[index]
    }

    fn validate_input(&self, index: usize, input: Value) -> Result<Value, Problem> {
        self.table.actions[index].validate_input(input)
    }

    fn takes_context(&self, index: usize) -> bool {
        self.table.actions[index].def.takes_context
    }

    fn blocking(&self, index: usize) -> bool {
        self.table.actions[index].def.blocking
    }

    fn invoke(
        &self,
        index: usize,
        input: Value,
        ctx: ActionContext,
    ) -> BoxFuture<Result<Json, Problem>> {
        let def = self.table.actions[index].def;
        guarded((def.invoke)(self.thing.clone(), input, ctx))
    }

    fn allowed_now(&self, index: usize) -> Result<(), Problem> {
        let def = self.table.actions[index].def;
        gates::invocable_now(def, &self.thing, &self.name)
    }

    fn exclusive(&self, index: usize) -> Option<crate::model::table::Exclusive> {
        self.table.actions[index].def.exclusive
    }

    fn line(&self) -> &crate::runtime::line::Line {
        &self.line
    }

    fn as_any(&self) -> AnyThing {
        self.thing.clone()
    }

    fn type_id(&self) -> TypeId {
        TypeId::of::<T>()
    }

    fn type_name(&self) -> &'static str {
        self.table.type_name
    }

    fn slots(&self) -> Vec<(&'static str, &dyn SlotCell)> {
        self.table
            .slots
            .iter()
            .map(|slot| (slot.name, (slot.field)(&self.thing)))
            .collect()
    }

    fn settings(&self) -> Vec<(usize, &'static str)> {
        (self.table.properties.iter().enumerate())
            .filter(|(_, p)| p.def.setting)
            .map(|(i, p)| (i, p.def.name))
            .collect()
    }

    fn field(&self, index: usize) -> Option<&dyn StoredValue> {
        match &self.table.properties[index].def.getter {
            Some(Getter::Field(field)) => Some(field(&self.thing)),
            _ => None,
        }
    }

    fn validate(&self, index: usize, value: &Value) -> Result<(), Problem> {
        self.table.properties[index].validate(value)
    }

    fn check_write(&self, index: usize, value: &Value) -> Result<(), Problem> {
        let entry = &self.table.properties[index];
        entry.validate(value)?;
        (entry.def.check_value)(value)?;
        gates::writable_now(entry.def, &self.thing, &self.name)
    }

    fn on_start(&self) -> Option<BoxFuture<Result<(), Problem>>> {
        self.hook(self.table.on_start)
    }

    fn on_stop(&self) -> Option<BoxFuture<Result<(), Problem>>> {
        self.hook(self.table.on_stop)
    }

    fn tasks(
        &self,
        cancel: &CancellationToken,
    ) -> Vec<(&'static str, BoxFuture<Result<(), Problem>>)> {
        let tasks = self.table.tasks.iter();
        tasks
            .map(|task| {
                let ctx = TaskContext::new(task.name, cancel.child_token());
                (task.name, guarded((task.run)(self.thing.clone(), ctx)))
            })
            .collect()
    }
}
