//! Attribute macros of [labthings](https://docs.rs/labthings): `#[thing]`, `#[property]` and
//! `#[action]`. Their documentation is on the re-exports in the `labthings` crate.
//!
//! The pipeline of `#[thing]` ([`pipeline`]): the parse phase ([`internals`]: the typed model
//! built from syn, the options parsed, the rules across items checked), then [`expand`]
//! generates the code.
//! Every mistake is collected in [`internals::error::Errors`] and reported at once; the user's item is
//! always emitted, so one mistake does not cascade into unrelated errors.

mod expand;
mod internals;
mod pipeline;

use proc_macro::TokenStream;

use crate::pipeline::{outside_thing, thing_impl};

/// Make a struct a Thing, or add method properties and actions to one. See `labthings::thing`.
#[proc_macro_attribute]
pub fn thing(attr: TokenStream, item: TokenStream) -> TokenStream {
    thing_impl(attr.into(), item.into()).into()
}

/// Mark a field or method as a property. Only valid inside `#[thing]`; see
/// `labthings::property`.
#[proc_macro_attribute]
pub fn property(_attr: TokenStream, item: TokenStream) -> TokenStream {
    outside_thing("property", item.into()).into()
}

/// Mark a method as an action. Only valid inside a `#[thing]` impl block; see
/// `labthings::action`.
#[proc_macro_attribute]
pub fn action(_attr: TokenStream, item: TokenStream) -> TokenStream {
    outside_thing("action", item.into()).into()
}

/// Mark a field as a slot. Only valid inside a `#[thing]` struct; see `labthings::slot`.
#[proc_macro_attribute]
pub fn slot(_attr: TokenStream, item: TokenStream) -> TokenStream {
    outside_thing("slot", item.into()).into()
}

/// Mark a field as an event. Only valid inside a `#[thing]` struct; see `labthings::event`.
#[proc_macro_attribute]
pub fn event(_attr: TokenStream, item: TokenStream) -> TokenStream {
    outside_thing("event", item.into()).into()
}

/// Mark a field as an MJPEG stream. Only valid inside a `#[thing]` struct; see
/// `labthings::stream`.
#[proc_macro_attribute]
pub fn stream(_attr: TokenStream, item: TokenStream) -> TokenStream {
    outside_thing("stream", item.into()).into()
}

/// Mark a method as the start hook. Only valid inside a `#[thing]` impl block.
#[proc_macro_attribute]
pub fn on_start(_attr: TokenStream, item: TokenStream) -> TokenStream {
    outside_thing("on_start", item.into()).into()
}

/// Mark a method as a background task. Only valid inside a `#[thing]` impl block; see
/// `labthings::task`.
#[proc_macro_attribute]
pub fn task(_attr: TokenStream, item: TokenStream) -> TokenStream {
    outside_thing("task", item.into()).into()
}

/// Mark a method as the stop hook. Only valid inside a `#[thing]` impl block.
#[proc_macro_attribute]
pub fn on_stop(_attr: TokenStream, item: TokenStream) -> TokenStream {
    outside_thing("on_stop", item.into()).into()
}
