//! Attribute macros of [labthings](https://docs.rs/labthings): `#[thing]`, `#[property]` and
//! `#[action]`. Their documentation is on the re-exports in the `labthings` crate.
//!
//! The pipeline of `#[thing]`: [`ast`] builds a typed model from syn (stripping the helper
//! attributes and parsing their options with [`attr`]), [`check`] applies the rules that span
//! several options or items, then [`expand_struct`] or [`expand_impl`] generates the code.
//! Every mistake is collected in [`error::Errors`] and reported at once; the user's item is
//! always emitted, so one mistake does not cascade into unrelated errors.

mod ast;
mod attr;
mod check;
mod ctx;
mod doc;
mod error;
mod expand_impl;
mod expand_struct;

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::quote;

use crate::ctx::Ctx;
use crate::error::Errors;

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

/// Mark a method as the stop hook. Only valid inside a `#[thing]` impl block.
#[proc_macro_attribute]
pub fn on_stop(_attr: TokenStream, item: TokenStream) -> TokenStream {
    outside_thing("on_stop", item.into()).into()
}

fn outside_thing(name: &str, item: TokenStream2) -> TokenStream2 {
    let message = format!(
        "`#[{name}]` must be used inside a `#[thing]` item\n= help: add `#[thing]` to the struct (for fields) or to the impl block (for methods)"
    );
    let error = syn::Error::new(proc_macro2::Span::call_site(), message).to_compile_error();
    quote!(#error #item)
}

fn thing_impl(attr: TokenStream2, item: TokenStream2) -> TokenStream2 {
    let errors = Errors::new();
    let opts = attr::ThingOpts::parse(&errors, attr);
    let ctx = Ctx::new(opts.krate.as_ref());
    let expanded = match syn::parse2::<syn::Item>(item.clone()) {
        Ok(syn::Item::Struct(item)) => {
            let thing = ast::ThingStruct::from_syn(&errors, item, opts);
            check::check_struct(&errors, &thing);
            if thing_struct_is_usable(&thing) {
                expand_struct::expand(&ctx, &thing)
            } else {
                expand_struct::fallback(&ctx, &thing.item)
            }
        }
        Ok(syn::Item::Impl(item)) => {
            let thing = ast::ThingImpl::from_syn(&errors, item, &opts);
            check::check_impl(&errors, &thing);
            expand_impl::expand(&ctx, &thing)
        }
        Ok(other) => {
            errors.spanned(
                &other,
                "`#[thing]` goes on a struct with named fields, or on an impl block of one",
            );
            item
        }
        Err(e) => {
            errors.push(e);
            item
        }
    };
    let compile_errors = errors.finish();
    quote!(#compile_errors #expanded)
}

/// Structural mistakes (a tuple struct, generics) leave nothing sensible to generate.
fn thing_struct_is_usable(thing: &ast::ThingStruct) -> bool {
    matches!(thing.item.fields, syn::Fields::Named(_)) && thing.item.generics.params.is_empty()
}
