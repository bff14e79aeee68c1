//! The macros without `proc_macro`: token streams in, token streams out (so that they can
//! be fuzzed outside a compiler).

use proc_macro2::TokenStream as TokenStream2;
use quote::quote;

use crate::expand::{client, thing_impl as expand_impl, thing_struct as expand_struct};
use crate::internals::ctx::Ctx;
use crate::internals::error::Errors;
use crate::internals::{ast, attr, check};

/// The error of a helper attribute used outside `#[thing]`.
pub(crate) fn outside_thing(name: &str, item: TokenStream2) -> TokenStream2 {
    let message = format!(
        "`#[{name}]` must be used inside a `#[thing]` item\n= help: add `#[thing]` to the struct (for fields) or to the impl block (for methods)"
    );
    let error = syn::Error::new(proc_macro2::Span::call_site(), message).to_compile_error();
    quote!(#error #item)
}

/// `#[thing(attr)] item`: the item with its generated code, and every error found.
pub(crate) fn thing_impl(attr: TokenStream2, item: TokenStream2) -> TokenStream2 {
    let errors = Errors::new();
    let opts = attr::ThingOpts::parse(&errors, attr);
    let ctx = Ctx::new(opts.krate.as_ref());
    let expanded = match syn::parse2::<syn::Item>(item.clone()) {
        Ok(syn::Item::Struct(item)) => {
            let thing = ast::ThingStruct::from_syn(&errors, item, opts);
            check::check_struct(&errors, &thing);
            if thing_struct_is_usable(&thing) {
                let client = match thing.opts.no_client {
                    Some(_) => TokenStream2::new(),
                    None => client::for_struct(&ctx, &thing),
                };
                let expanded = expand_struct::expand(&ctx, &thing);
                quote!(#expanded #client)
            } else {
                expand_struct::fallback(&ctx, &thing.item)
            }
        }
        Ok(syn::Item::Impl(item)) => {
            let thing = ast::ThingImpl::from_syn(&errors, item, &opts);
            check::check_impl(&errors, &thing);
            let client = match opts.no_client {
                Some(_) => TokenStream2::new(),
                None => client::for_impl(&ctx, &thing),
            };
            let expanded = expand_impl::expand(&ctx, &thing);
            quote!(#expanded #client)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `macro_attr` fuzz target: a property field named `_` made the expansion
    /// panic; it is an error on the field.
    #[test]
    fn an_affordance_field_named_underscore_is_an_error() {
        for field in [
            quote!(#[property] _: i64),
            quote!(#[event] _: Event<u8>),
            quote!(#[slot] _: Slot<S>),
        ] {
            let out = thing_impl(
                quote!(),
                quote!(pub struct S { #field, #[property] a: i64 }),
            );
            let text = out.to_string();
            assert!(
                text.contains("compile_error") && text.contains("needs a field with a name"),
                "{field}: {text}"
            );
        }
    }
}
