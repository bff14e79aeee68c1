//! Thing slots: typed references from one Thing to others of the same server.
//!
//! A `#[slot]` field of a `#[thing]` struct names another Thing the Thing works with — the
//! stage a camera reads its position from, the stage and camera an autofocus routine drives.
//! It is a plain Rust reference: no HTTP in between.
//!
//! ```
//! use labthings::{thing, Slot};
//!
//! /// A stage.
//! #[thing]
//! struct Stage {
//!     /// Where it is.
//!     #[property(observable, read_only)]
//!     z: i64,
//! }
//!
//! /// A camera on the stage.
//! #[thing]
//! struct Camera {
//!     /// The stage that moves the sample.
//!     #[slot]
//!     stage: Slot<Stage>,
//! }
//!
//! impl Camera {
//!     fn focus_height(&self) -> i64 {
//!         self.stage.get().z.get()
//!     }
//! }
//! ```
//!
//! The server connects slots before it serves, and before any Thing starts: by the name the
//! configuration file gives (`[things.camera] slots = { stage = "stage_left" }`), otherwise to
//! the only Thing of the slot's type. A slot that cannot be connected — no such Thing, several
//! candidates, a Thing of another type, a cycle of slots — stops the start with a message that
//! lists every problem. Start hooks run in slot order: a Thing starts after the Things its
//! slots name, and stops before them.

use std::any::{Any, TypeId};
use std::fmt;
use std::sync::{Arc, OnceLock};

use crate::model::thing::Thing;

/// How many Things a slot holds.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotKind {
    /// Exactly one.
    One,
    /// Zero or one.
    Optional,
    /// Any number, each by its name.
    Many,
}

/// A Thing of the server, type-erased, to connect slots with.
#[doc(hidden)]
pub type AnyThing = Arc<dyn Any + Send + Sync>;

/// What the server needs of a slot field, whatever its target type.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a slot to a Thing",
    label = "a `#[slot]` field is a `Slot<T>`, `OptionalSlot<T>` or `Slots<T>` of a `#[thing]` type",
    note = "the target type must be a `#[thing]` struct"
)]
pub trait SlotCell: Send + Sync {
    /// The type of the Things it refers to.
    fn target(&self) -> TypeId;
    /// That type's name, for messages.
    fn target_name(&self) -> &'static str;
    /// How many Things it holds.
    fn kind(&self) -> SlotKind;
    /// Connect it to `things` (of the target type, with their names). The caller checked
    /// their number and types.
    fn connect(&self, things: Vec<(String, AnyThing)>);
}

fn downcast<T: Thing>(thing: AnyThing) -> Arc<T> {
    thing
        .downcast::<T>()
        .unwrap_or_else(|_| panic!("a slot was connected to a Thing of another type"))
}

/// A reference to exactly one other Thing of type `T`.
pub struct Slot<T> {
    thing: OnceLock<Arc<T>>,
}

impl<T: Thing> Slot<T> {
    /// An unconnected slot, to construct a Thing with.
    pub const fn new() -> Self {
        Self {
            thing: OnceLock::new(),
        }
    }

    /// The Thing.
    ///
    /// # Panics
    /// Before the server connected the slot (the Thing is not served, or its constructor
    /// uses it): use [`try_get`](Self::try_get) there.
    pub fn get(&self) -> &T {
        self.try_get().unwrap_or_else(|| {
            panic!(
                "the slot to a `{}` is not connected yet: slots are connected when the server starts",
                std::any::type_name::<T>()
            )
        })
    }

    /// The Thing, once connected.
    pub fn try_get(&self) -> Option<&T> {
        self.thing.get().map(|t| &**t)
    }

    /// The Thing, shared: for a task that outlives the borrow of `self` (a frame producer
    /// started by a start hook).
    ///
    /// # Panics
    /// Before the server connected the slot, as [`get`](Self::get).
    pub fn shared(&self) -> Arc<T> {
        self.get();
        self.thing.get().cloned().expect("connected")
    }

    /// Connect it by hand (tests, programs that do not serve the Things).
    pub fn connect(&self, thing: Arc<T>) {
        let _ = self.thing.set(thing);
    }
}

impl<T: Thing> SlotCell for Slot<T> {
    fn target(&self) -> TypeId {
        TypeId::of::<T>()
    }
    fn target_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }
    fn kind(&self) -> SlotKind {
        SlotKind::One
    }
    fn connect(&self, things: Vec<(String, AnyThing)>) {
        if let Some((_, thing)) = things.into_iter().next() {
            let _ = self.thing.set(downcast(thing));
        }
    }
}

/// A reference to at most one other Thing of type `T`: connected when the configuration
/// names one or the server has exactly one, empty when it has none.
pub struct OptionalSlot<T> {
    thing: OnceLock<Option<Arc<T>>>,
}

impl<T: Thing> OptionalSlot<T> {
    /// An unconnected slot, to construct a Thing with.
    pub const fn new() -> Self {
        Self {
            thing: OnceLock::new(),
        }
    }

    /// The Thing, if there is one.
    pub fn get(&self) -> Option<&T> {
        self.thing.get().and_then(|t| t.as_deref())
    }

    /// Connect it by hand.
    pub fn connect(&self, thing: Option<Arc<T>>) {
        let _ = self.thing.set(thing);
    }
}

impl<T: Thing> SlotCell for OptionalSlot<T> {
    fn target(&self) -> TypeId {
        TypeId::of::<T>()
    }
    fn target_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }
    fn kind(&self) -> SlotKind {
        SlotKind::Optional
    }
    fn connect(&self, things: Vec<(String, AnyThing)>) {
        let thing = things.into_iter().next().map(|(_, t)| downcast(t));
        let _ = self.thing.set(thing);
    }
}

/// References to any number of other Things of type `T`, each with its name: the ones the
/// configuration lists, otherwise every Thing of that type.
pub struct Slots<T> {
    things: OnceLock<Vec<(String, Arc<T>)>>,
}

impl<T: Thing> Slots<T> {
    /// An unconnected slot, to construct a Thing with.
    pub const fn new() -> Self {
        Self {
            things: OnceLock::new(),
        }
    }

    /// The Things and their names, in the configuration's order (or the server's).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &T)> {
        self.things
            .get()
            .into_iter()
            .flatten()
            .map(|(name, thing)| (name.as_str(), &**thing))
    }

    /// The Thing called `name`, if the slot holds it.
    pub fn get(&self, name: &str) -> Option<&T> {
        self.iter().find(|(n, _)| *n == name).map(|(_, t)| t)
    }

    /// Connect it by hand.
    pub fn connect(&self, things: Vec<(String, Arc<T>)>) {
        let _ = self.things.set(things);
    }
}

impl<T: Thing> SlotCell for Slots<T> {
    fn target(&self) -> TypeId {
        TypeId::of::<T>()
    }
    fn target_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }
    fn kind(&self) -> SlotKind {
        SlotKind::Many
    }
    fn connect(&self, things: Vec<(String, AnyThing)>) {
        let things = things
            .into_iter()
            .map(|(name, t)| (name, downcast(t)))
            .collect();
        let _ = self.things.set(things);
    }
}

macro_rules! common {
    ($($slot:ident),*) => {$(
        impl<T: Thing> Default for $slot<T> {
            fn default() -> Self {
                Self::new()
            }
        }

        impl<T> fmt::Debug for $slot<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}<{}>", stringify!($slot), std::any::type_name::<T>())
            }
        }
    )*};
}
common!(Slot, OptionalSlot, Slots);
