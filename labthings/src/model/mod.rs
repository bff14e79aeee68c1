//! What a Thing is: the trait `#[thing]` implements, the tables of its affordances, its
//! Thing Description, and the value types of its properties, events, streams, slots and
//! blobs. Nothing here serves: the model is built, read and tested without a server.

pub mod blob;
// Recorded only for provenance records.
pub(crate) mod blocking;
#[cfg_attr(not(feature = "provenance"), allow(dead_code))]
pub(crate) mod calls;
pub mod constraints;
pub(crate) mod context;
pub(crate) mod doc;
pub mod event;
pub(crate) mod naming;
#[cfg(feature = "openapi")]
pub(crate) mod openapi;
pub(crate) mod property;
pub mod quality;
pub(crate) mod schema;
pub(crate) mod scope;
pub mod slot;
pub(crate) mod state;
pub mod stream;
pub(crate) mod table;
pub(crate) mod task;
pub mod td;
pub(crate) mod thing;
pub(crate) mod validate;
pub(crate) mod values;
