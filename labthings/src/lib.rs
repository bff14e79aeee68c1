//! # labthings
//!
//! Publish laboratory hardware as W3C Web of Things "Things".
//!
//! Annotate a struct and its impl block; the macros generate, at compile time, static tables of
//! the Thing's affordances, from which the runtime builds its W3C Thing Description (TD 1.1),
//! serves it over HTTP and WebSocket, and relays changes of observable properties.
//!
//! # Example
//!
//! ```
//! use labthings::{thing, ActionContext, TdOptions, Thing};
//!
//! /// A pointless counter.
//! ///
//! /// Longer description of the counter.
//! #[thing]
//! pub struct Counter {
//!     /// The current count.
//!     #[property(observable, read_only)]
//!     count: i64,
//!     /// How much `increment` adds.
//!     #[property(observable, minimum = 1, maximum = 100)]
//!     step: i64,
//! }
//!
//! #[thing]
//! impl Counter {
//!     /// Add `step` to the count and return the new value.
//!     #[action]
//!     async fn increment(&self) -> i64 {
//!         let step = self.step.get();
//!         self.count.update(|c| { *c += step; *c })
//!     }
//! }
//!
//! let td = Counter::thing_description(&TdOptions::new("", "counter"));
//! assert_eq!(td["title"], "A pointless counter.");
//! assert_eq!(td["properties"]["step"]["maximum"], 100);
//! assert_eq!(td["actions"]["increment"]["output"]["type"], "integer");
//! ```
//!
//! # Things
//!
//! [`#[thing]`](thing) on a struct makes it a [`Thing`]. Its doc comment becomes the TD
//! `title` (first paragraph) and `description` (the rest); see [`Doc`] for the rule. Fields
//! marked `#[property]` are properties; other fields stay private to Rust code. `#[thing]` on
//! an impl block of the same type adds method properties and actions.
//!
//! # Properties
//!
//! A `#[property]` field of type `T` is stored as a [`Property<T, _>`](Property): read it with
//! `get`/`with`, write it with `set`/`update`. Writes from Rust code, HTTP and WebSocket alike
//! are published to observers when the property is `observable`, and Rust code can
//! [`subscribe`](Property::subscribe) to them — a compile error for a property that is not
//! observable. A `#[property]` method `fn name(&self) -> T` is a getter; a method
//! `fn set_name(&self, value: T)` marked `#[property(setter)]` makes it writable.
//!
//! | Option | Meaning |
//! | --- | --- |
//! | `observable` | changes are published (WebSocket, [`Property::subscribe`]) |
//! | `read_only` | clients cannot write it (`readOnly` in the TD) |
//! | `write_only` | clients cannot read it (`writeOnly` in the TD) |
//! | `minimum = n`, `maximum = n`, `exclusive_minimum = n`, `exclusive_maximum = n`, `multiple_of = n` | numeric constraints |
//! | `min_length = n`, `max_length = n` | length of a string (or number of items of a sequence) |
//! | `pattern = "regex"` | a string pattern |
//! | `title = "…"`, `description = "…"` | override the doc comment |
//! | `name = "…"` | the name in the TD and URLs (default: the Rust name) |
//! | `setter` | on a method `set_x(&self, value: T)`: the setter of property `x` |
//!
//! Constraints are enforced on every write from outside (HTTP, WebSocket) and appear in the
//! TD. Property values are any `Serialize + DeserializeOwned + JsonSchema` type.
//!
//! # Actions
//!
//! An `#[action]` method takes `&self`, may be `async`, and takes typed arguments (the TD
//! `input` object) and returns a value (the TD `output`) or a `Result` whose `Err` fails the
//! invocation. An argument of type `&ActionContext` receives the invocation's
//! [`ActionContext`] (cancellation, progress, logging). Options: `name`, `title`,
//! `description`, `safe`, `idempotent`.
//!
//! # Serving
//!
//! [`ThingServer`] publishes Things over HTTP and WebSocket; [`cli::App`] wraps it in a
//! command line (`serve`, `td`, `--config`, see [`config`]). The routes are those of
//! LabThings-FastAPI 0.3.0, so its clients work unchanged:
//!
//! | Method | Path | |
//! | --- | --- | --- |
//! | GET | `/{thing}/` | the TD, `base` from the request's host |
//! | GET | `/thing_descriptions/`, `/things/` | every TD; every TD's URL |
//! | GET / PUT | `/{thing}/{property}` | the value; write it (body: the bare JSON value), `201` |
//! | POST | `/{thing}/{action}` | invoke (body: the input object); `201`, the invocation, `Location` |
//! | GET | `/{thing}/{action}` | that action's invocations |
//! | GET | `/action_invocations`, `/action_invocations/{id}`, `/action_invocations/{id}/output` | invocations |
//! | DELETE | `/action_invocations/{id}` | cancel |
//! | WS | `/{thing}/ws` | observe properties and actions; Web Thing Protocol |
//!
//! Every error is an RFC 9457 problem details object (`application/problem+json`) with a
//! precise `detail` and, for invalid input, an `errors` list naming each field: 400 for
//! unparseable JSON, 422 for a wrong type, a constraint violation, a missing or extra
//! argument, 405 for writing a read-only property, 404 for anything unknown, 500 for a
//! failing (or panicking) getter, setter or action. A client mistake never causes a 500, and
//! a panic in device code fails only that request or invocation.
//!
//! Invocations run as tokio tasks (synchronous actions on the blocking pool), in the states
//! `pending`, `running`, `completed`, `cancelled` and `error`; their JSON carries `progress`
//! and the `log` of `tracing` events emitted while they ran.
//!
//! Differences from LabThings-FastAPI 0.3.0 (its quirks, fixed):
//! - an output of `0`, `false`, `""` or `[]` is returned by `/output`, not answered with 503;
//! - error details carry the real invocation id; timestamps are RFC 3339 UTC everywhere;
//! - finished invocations expire by a timer after the retention time, and their number is
//!   capped (not only when another action is invoked);
//! - cancelling a pending or just-started invocation is never lost; cancelling a finished one
//!   answers 409 (not 503 with an enum repr);
//! - errors are problem details everywhere (FastAPI's `{"detail": [...]}` lists are not used;
//!   the client handles a string `detail`);
//! - the TD lists properties and actions in declaration order, carries `observable`, and
//!   advertises the WebSocket with its operations;
//! - the WebSocket never drops a notification silently and never closes on bad input (below).
//!
//! # WebSocket
//!
//! `/{thing}/ws` speaks two dialects on one socket.
//!
//! - **LabThings**: `{"messageType": "addPropertyObservation", "data": {"count": true}}` and
//!   `addActionObservation`; the server sends `propertyStatus` for each change and
//!   `actionStatus` (with the invocation's `id` and `href`) for each status change. Errors are
//!   `response` messages exactly as LabThings-FastAPI sends them (string `status`), but every
//!   name of a message is processed.
//! - **W3C Web Thing Protocol** (negotiate the `webthingprotocol` subprotocol, or send
//!   `messageType: "request"`): `readproperty`, `writeproperty`, `readallproperties`,
//!   `readmultipleproperties`, `observeproperty` (followed by the current value),
//!   `unobserveproperty`, `observeallproperties`, `unobserveallproperties`, `invokeaction`,
//!   `queryaction`, `cancelaction`, `queryallactions`; numeric error statuses; `thingID` and
//!   `correlationID` echoed. Action states are `pending`, `running`, `completed`, `failed` and
//!   (an extension) `cancelled`.
//!
//! Invalid JSON, a missing or unknown `messageType`, non-object `data`, a binary frame or a
//! message over the size limit (see [`WsLimits`]) get an error `response` with status 400; the
//! socket stays open. Publishing never waits for a client: each connection has a bounded
//! queue, and a client that falls behind gets its property changes coalesced, so it always
//! ends with the latest value while its memory stays bounded (see [`broker`]).

#![forbid(unsafe_code)]

mod broker;
pub mod cli;
pub mod config;
pub mod constraints;
mod context;
mod doc;
mod logs;
mod naming;
mod panic;
mod problem;
mod property;
mod schema;
mod server;
mod table;
pub mod td;
mod thing;
mod validate;

#[doc(hidden)]
#[path = "private/mod.rs"]
pub mod __private;

/// The `schemars` crate (major version 1) that value types derive `JsonSchema` with:
/// `#[derive(labthings::schemars::JsonSchema)]`, or depend on `schemars = "1"` yourself.
pub use schemars;
/// The `serde` crate that value types derive `Serialize` and `Deserialize` with.
pub use serde;
/// The `serde_json` crate of the values on the wire.
pub use serde_json;

pub use context::{ActionContext, Cancelled, LOG_CAPACITY, LogRecord};
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

/// Declare a property of a Thing: a `#[property]` field is a value stored by the framework
/// (readable and writable by clients unless declared otherwise, observable if declared so); a
/// `#[property]` method `fn name(&self) -> T` is read on every request, and a
/// `#[property(setter)]` method `fn set_name(&self, value: T)` makes it writable. Its doc
/// comment gives its TD title and description.
///
/// Options: `observable`, `read_only`, `write_only`, `setter`, `name = "…"`, `title = "…"`,
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
/// Options: `name = "…"`, `title = "…"`, `description = "…"`, `safe`, `idempotent`. Valid
/// only inside a `#[thing]` impl block; see the [crate documentation](crate#actions).
pub use labthings_macros::action;
pub use logs::{InvocationLogLayer, init as init_logging};
pub use problem::{FieldError, Problem};
pub use property::{Observable, Property, PropertyMarker, Subscription};
pub use server::{Retention, Serve, ShutdownHandle, ThingServer, WsLimits};
pub use td::TdOptions;
pub use thing::Thing;
