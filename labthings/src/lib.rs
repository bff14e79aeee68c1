#![doc = include_str!("../docs/guide.md")]
#![doc = ""]
#![doc = include_str!("../docs/websocket.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The layers, from the bottom up; each imports only the ones above it in this list.
mod problem;
mod sync;
// Public items, some for the benchmarks (the private `__internals` feature).
#[cfg_attr(not(feature = "__internals"), allow(unreachable_pub))]
// What the model offers the runtime is unused in a build without it.
#[cfg_attr(not(feature = "server"), allow(dead_code, unused_imports))]
mod broker;
#[cfg(feature = "cli")]
#[cfg_attr(docsrs, doc(cfg(feature = "cli")))]
pub mod cli;
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub mod client;
#[cfg(feature = "cli")]
#[cfg_attr(docsrs, doc(cfg(feature = "cli")))]
pub mod config;
#[cfg(feature = "server")]
mod interaction;
#[cfg(feature = "__internals")]
#[doc(hidden)]
pub mod internals;
#[cfg_attr(not(feature = "server"), allow(dead_code, unused_imports))]
mod model;
#[cfg(any(feature = "tls", feature = "client"))]
mod pem;
#[cfg(feature = "server")]
mod runtime;
#[cfg(feature = "server")]
mod server;
#[cfg(feature = "server")]
mod tokens;
#[cfg(feature = "serial")]
#[cfg_attr(docsrs, doc(cfg(feature = "serial")))]
pub mod transport;

#[doc(hidden)]
#[path = "private/mod.rs"]
pub mod __private;

pub use model::{blob, constraints, event, quality, slot, stream, td};

/// The `schemars` crate (major version 1) that value types derive `JsonSchema` with:
/// `#[derive(labthings::schemars::JsonSchema)]`, or depend on `schemars = "1"` yourself.
pub use schemars;
/// The `serde` crate that value types derive `Serialize` and `Deserialize` with.
pub use serde;
/// The `serde_json` crate of the values on the wire.
pub use serde_json;

/// Make a struct a Thing, or add method properties and actions to one.
///
/// On a struct with named fields, `#[thing]` turns each `#[property]` field of type `T` into
/// a [`Property<T, _>`](Property), implements [`Thing`] for the struct (with the static
/// tables of its affordances), and takes the Thing's TD `title` and `description` from its doc
/// comment (the first paragraph is the title). Fields without `#[property]` stay private to
/// Rust code. Options: `title = "…"`, `description = "…"`, and `crate = "path"` for crates that
/// re-export labthings.
///
/// On an inherent impl block of that struct, `#[thing]` adds the `#[property]` getter and
/// setter methods and the `#[action]` methods of the block to the Thing; methods without
/// either attribute stay ordinary methods. A Thing has at most one `#[thing]` impl block.
///
/// Every mistake is a compile error on the token at fault, all of them at once. See the
/// [crate documentation](crate#things) for a worked example.
pub use labthings_macros::thing;
pub use model::context::{ActionContext, Cancelled, LOG_CAPACITY, LogRecord};
pub use model::task::{TASK_FAILED, TaskContext, TaskFailure};

/// Declare a property of a Thing: a `#[property]` field is a value stored by the framework
/// (readable and writable by clients unless declared otherwise, observable if declared so); a
/// `#[property]` method `fn name(&self) -> T` is read on every request, and a
/// `#[property(setter)]` method `fn set_name(&self, value: T)` makes it writable. Its doc
/// comment gives its TD title and description.
///
/// Options: `observable`, `read_only`, `write_only`, `setter`, `setting` (kept in the settings
/// file across restarts), `state` (the Thing's state: a field of an enum type, observable and
/// read-only), `allowed_in` (`allowed_in(A, B)`: written only while the Thing's state is `A` or `B`),
/// `warning = a..=b` and `alarm = c..=d` (the ranges by which each value's
/// [quality](mod@crate::quality) is judged), `name = "…"`, `title = "…"`,
/// `description = "…"`, `unit = "…"`, and the constraints `minimum`, `maximum`,
/// `exclusive_minimum`, `exclusive_maximum`, `multiple_of`, `min_length`, `max_length`,
/// `pattern` — enforced on every write from a client and shown in the TD. Valid only inside
/// `#[thing]`; see the [crate documentation](crate#properties) for the whole table.
pub use labthings_macros::property;

/// Declare an action of a Thing: an `#[action]` method of a `#[thing]` impl block, invoked by
/// clients as an invocation that runs in the background. Its arguments form the TD `input`
/// object (validated before the method runs), its return value the `output`; a `Result`
/// whose `Err` fails the invocation. An argument `&ActionContext` gives the method its
/// [`ActionContext`]: cancellation, progress, the invocation's log.
///
/// Options: `name = "…"`, `title = "…"`, `description = "…"`, `safe`, `idempotent`,
/// `exclusive` (at most one exclusive invocation of the Thing runs at a time; another is
/// refused with 409), `exclusive = "queue"` (another waits its turn, `pending`, first in first
/// out, up to [`Limits::max_queued_per_thing`]) or `exclusive = "preempt"` (another cancels
/// the one that holds the Thing, and runs next), `allowed_in` (`allowed_in(A, B)`: invoked only while
/// the Thing's state is `A` or `B`; otherwise 409). An argument may carry `#[arg(..)]` with `description = "…"`,
/// `unit = "…"` and the constraints `minimum`, `maximum`, `exclusive_minimum`,
/// `exclusive_maximum`, `multiple_of`, `min_length`, `max_length`, `pattern`: enforced before
/// the action runs and shown in the TD's `input`. An `Err` that is a [`Problem`] keeps its
/// status (a caller's mistake found by the action is a 4xx); any other is a 500. Valid only inside a `#[thing]` impl block; see the
/// [crate documentation](crate#actions).
pub use labthings_macros::action;

/// Declare a slot: a `#[slot]` field of type [`Slot<T>`](crate::Slot),
/// [`OptionalSlot<T>`](crate::OptionalSlot) or [`Slots<T>`](crate::Slots) refers to other
/// Things of the server, connected before it starts; see [`slot`](mod@crate::slot).
pub use labthings_macros::slot;

/// Declare the start hook of a Thing: an `#[on_start]` method `fn(&self)`, maybe `async`,
/// returning `()` or `Result<(), E>`, runs before the server accepts requests (after the
/// hooks of the Things its slots name); a failure stops the start.
pub use labthings_macros::on_start;

pub use blob::Blob;
pub use event::{Event, EventSubscription};
pub use stream::MjpegStream;

#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub use interaction::Scope;
/// Declare an event of a Thing: an `#[event]` field of type [`Event<T>`](crate::Event),
/// emitted by Rust code with [`Event::emit`](crate::Event::emit) and delivered to every
/// subscriber in order (WebSocket `subscribeevent`, Server-Sent Events, Rust
/// [`Event::subscribe`](crate::Event::subscribe)). Its doc comment gives its TD title and
/// description, `T` its `data` schema; see [`event`](mod@crate::event).
pub use labthings_macros::event;
/// Declare the stop hook of a Thing: an `#[on_stop]` method, like `#[on_start]`, runs on
/// graceful shutdown after running invocations were cancelled, in reverse start order, within
/// the shutdown deadline.
pub use labthings_macros::on_stop;
/// Declare an MJPEG stream of a Thing: a `#[stream]` field of type
/// [`MjpegStream`], served at `/{thing}/{name}` as
/// `multipart/x-mixed-replace` to any number of viewers; see [`stream`](mod@crate::stream).
pub use labthings_macros::stream;
/// Declare a background task of a Thing: a `#[task]` method `fn(&self, ctx: &TaskContext)`
/// (the context is optional), maybe `async`, returning `()` or `Result<(), E>`, runs from
/// after every start hook until the server stops — the loop that polls the hardware and
/// publishes what it reads. It is cancelled before the stop hooks run (its
/// [`TaskContext`] says so; [`TaskContext::sleep`] ends early); one that fails or panics is
/// logged with its Thing and its name, the Thing emits its [`TASK_FAILED`] event, and the
/// server goes on. See the
/// [crate documentation](crate#background-tasks).
pub use labthings_macros::task;
pub use model::property::{Observable, Property, PropertyMarker, Subscription};
pub use model::slot::{OptionalSlot, Slot, Slots};
pub use model::td::TdOptions;
pub use model::thing::Thing;
pub use problem::{FieldError, Problem};
#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub use runtime::logs::InvocationLogLayer;
#[cfg(feature = "cli")]
#[cfg_attr(docsrs, doc(cfg(feature = "cli")))]
pub use runtime::logs::init as init_logging;
#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub use runtime::{invocations::Retention, lifecycle::StartError, limits::Limits};
#[cfg(feature = "mqtt")]
#[cfg_attr(docsrs, doc(cfg(feature = "mqtt")))]
pub use server::{Mqtt, MqttError};
#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub use server::{Serve, ShutdownHandle, Started, ThingServer, WsLimits};
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub use server::{Tls, TlsError};

/// The README's Rust examples, compiled and run as doctests.
#[cfg(all(doctest, feature = "serial", feature = "server", feature = "client"))]
#[doc = include_str!("../../README.md")]
struct ReadmeExamples;
