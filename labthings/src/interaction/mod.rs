//! The one interaction interface: what every binding (HTTP, the two WebSocket dialects,
//! Server-Sent Events, MJPEG, MQTT) does with the Things of a server — read, write, invoke,
//! cancel, observe, subscribe — each checked and refused in one place (the catalogue of
//! [`refusals`](crate::problem::refusals)). A binding translates its protocol onto this
//! interface and its answers back; it decides nothing itself.

mod affordance;
mod caller;
mod dry_run;
mod follow;
mod lease;
#[cfg(feature = "provenance")]
pub(crate) mod provenance;
pub(crate) mod wire;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

pub(crate) use affordance::{ActionRef, EventRef, PropertyRef};
pub(crate) use caller::Caller;
pub use caller::Scope;
pub(crate) use dry_run::{WouldInvoke, WouldWrite};
pub(crate) use follow::{Resumption, Target, unfollow};
pub(crate) use lease::{Granted, LeaseRequest, LeaseView};

use crate::model::table::Affordance;
use crate::model::td::TdOptions;
use crate::problem::{Problem, refusals};
use crate::runtime::device::Device;
use crate::runtime::hosted::DynThing;
use crate::runtime::invocations::{Invocation, Invocations};
use crate::runtime::lease::LeaseSlot;

/// One published Thing.
struct Exposed {
    thing: Arc<dyn DynThing>,
    /// Its TD `id`.
    id: String,
    /// The lease a client holds on it, if any.
    lease: LeaseSlot,
    /// The other Things its code may drive through its slots (their leases hold it too).
    reaches: Vec<usize>,
}

/// The Things of a server, in the order they were added, and their invocations.
pub(crate) struct Things {
    exposed: Vec<Exposed>,
    by_name: HashMap<Arc<str>, usize>,
    pub(crate) invocations: Arc<Invocations>,
    /// Where device code runs.
    pub(crate) device: Device,
    /// The longest lease a client may take (or renew for).
    max_lease: Duration,
}

impl Things {
    /// `things` (each with its TD `id` and the Things it drives through its slots), their
    /// invocations, the runtime of their code, and the longest lease a client may take on one.
    pub(crate) fn new(
        things: impl IntoIterator<Item = (Arc<dyn DynThing>, String, Vec<usize>)>,
        invocations: Arc<Invocations>,
        device: Device,
        max_lease: Duration,
    ) -> Self {
        let exposed: Vec<Exposed> = things
            .into_iter()
            .map(|(thing, id, reaches)| Exposed {
                thing,
                id,
                lease: LeaseSlot::default(),
                reaches,
            })
            .collect();
        let by_name = (exposed.iter().enumerate())
            .map(|(i, e)| (e.thing.name().clone(), i))
            .collect();
        Self {
            exposed,
            by_name,
            invocations,
            device,
            max_lease,
        }
    }

    /// The Thing called `name`.
    pub(crate) fn get(&self, name: &str) -> Result<ThingRef<'_>, Problem> {
        self.find(name).ok_or_else(|| refusals::no_thing(name))
    }

    /// The Thing called `name`, if there is one.
    pub(crate) fn find(&self, name: &str) -> Option<ThingRef<'_>> {
        self.by_name.get(name).map(|&index| self.at(index))
    }

    /// The Thing at `index`, in the order they were added.
    pub(crate) fn at(&self, index: usize) -> ThingRef<'_> {
        ThingRef {
            things: self,
            index,
        }
    }

    /// Every Thing, in the order they were added.
    pub(crate) fn iter(&self) -> impl ExactSizeIterator<Item = ThingRef<'_>> {
        (0..self.exposed.len()).map(|index| self.at(index))
    }

    /// The invocation called `id`, while it is kept.
    pub(crate) fn invocation(&self, id: &str) -> Result<Arc<Invocation>, Problem> {
        self.invocations
            .get(id)
            .ok_or_else(|| refusals::no_invocation(id))
    }

    /// Cancel `invocation` for `caller`.
    pub(crate) fn cancel(
        &self,
        caller: Caller,
        invocation: &Arc<Invocation>,
    ) -> Result<(), Problem> {
        caller.needs(Scope::Operate, "cancelling an invocation")?;
        self.invocations.cancel(invocation)
    }
}

/// One Thing of a server, as the interface addresses it.
#[derive(Clone, Copy)]
pub(crate) struct ThingRef<'t> {
    things: &'t Things,
    index: usize,
}

impl<'t> ThingRef<'t> {
    fn exposed(&self) -> &'t Exposed {
        &self.things.exposed[self.index]
    }

    /// Its position among the server's Things.
    pub(crate) fn index(&self) -> usize {
        self.index
    }

    /// The name it is published under.
    pub(crate) fn name(&self) -> &'t Arc<str> {
        self.exposed().thing.name()
    }

    /// Its TD `id`.
    pub(crate) fn id(&self) -> &'t str {
        &self.exposed().id
    }

    /// The Thing behind the interface.
    pub(crate) fn thing(&self) -> &'t Arc<dyn DynThing> {
        &self.exposed().thing
    }

    /// The server's Things.
    pub(crate) fn things(&self) -> &'t Things {
        self.things
    }

    /// Its Thing Description, published at `options`.
    pub(crate) fn description(&self, options: &TdOptions) -> Value {
        self.thing().description(options)
    }

    /// The affordance of any kind called `name` (what a URL addresses).
    pub(crate) fn affordance(&self, name: &str) -> Result<Affordance, Problem> {
        self.thing()
            .lookup(name)
            .ok_or_else(|| refusals::no_affordance(self.name(), name))
    }

    /// How many affordances it has, of every kind.
    #[cfg(feature = "metrics")]
    pub(crate) fn affordance_count(&self) -> usize {
        let thing = self.thing();
        thing.property_count() + thing.action_count() + thing.event_count() + thing.stream_count()
    }

    /// The place (among its properties, then actions, events and streams) and the name of
    /// its affordance called `name`, if it has one.
    #[cfg(feature = "metrics")]
    pub(crate) fn affordance_place(&self, name: &str) -> Option<(usize, &'static str)> {
        let thing = self.thing();
        let (properties, actions) = (thing.property_count(), thing.action_count());
        let events = thing.event_count();
        Some(match thing.lookup(name)? {
            Affordance::Property(i) => (i, thing.property_name(i)),
            Affordance::Action(i) => (properties + i, thing.action_name(i)),
            Affordance::Event(i) => (properties + actions + i, thing.event_name(i)),
            Affordance::Stream(i) => (properties + actions + events + i, thing.stream_name(i)),
        })
    }

    /// The affordance of any kind called `name`, or the refusal `missing(name)`: a write
    /// can only mean a property, an invocation an action, and the refusal says which.
    pub(crate) fn affordance_or(
        &self,
        name: &str,
        missing: fn(&str) -> Problem,
    ) -> Result<Affordance, Problem> {
        self.thing().lookup(name).ok_or_else(|| missing(name))
    }

    /// The property called `name`.
    pub(crate) fn property(&self, name: &str) -> Result<PropertyRef<'t>, Problem> {
        match self.thing().lookup(name) {
            Some(Affordance::Property(index)) => Ok(self.property_at(index)),
            _ => Err(refusals::no_property(name)),
        }
    }

    /// The action called `name`.
    pub(crate) fn action(&self, name: &str) -> Result<ActionRef<'t>, Problem> {
        match self.thing().lookup(name) {
            Some(Affordance::Action(index)) => Ok(self.action_at(index)),
            _ => Err(refusals::no_action(name)),
        }
    }

    /// The event called `name`.
    pub(crate) fn event(&self, name: &str) -> Result<EventRef<'t>, Problem> {
        match self.thing().lookup(name) {
            Some(Affordance::Event(index)) => Ok(self.event_at(index)),
            _ => Err(refusals::no_event(name)),
        }
    }

    /// Property number `index`.
    pub(crate) fn property_at(&self, index: usize) -> PropertyRef<'t> {
        PropertyRef {
            thing: *self,
            index,
        }
    }

    /// Action number `index`.
    pub(crate) fn action_at(&self, index: usize) -> ActionRef<'t> {
        ActionRef {
            thing: *self,
            index,
        }
    }

    /// Event number `index`.
    pub(crate) fn event_at(&self, index: usize) -> EventRef<'t> {
        EventRef {
            thing: *self,
            index,
        }
    }

    /// Its properties, in declaration order.
    pub(crate) fn properties(&self) -> impl Iterator<Item = PropertyRef<'t>> + 't {
        let this = *self;
        (0..this.thing().property_count()).map(move |i| this.property_at(i))
    }

    /// The invocations of this Thing, newest first, at most `limit`.
    pub(crate) fn newest_invocations(&self, limit: usize) -> Vec<Arc<Invocation>> {
        let mut all = self.things.invocations.list(None);
        all.reverse();
        all.retain(|i| i.thing.name() == self.name());
        all.truncate(limit);
        all
    }

    /// Its invocation called `id` (another Thing's is not found).
    pub(crate) fn invocation(&self, id: &str) -> Result<Arc<Invocation>, Problem> {
        self.things
            .invocation(id)
            .ok()
            .filter(|i| i.thing.name() == self.name())
            .ok_or_else(|| refusals::no_invocation(id))
    }
}
