//! Code generation for device states: the `HasStates` impl of a `#[thing]` struct, and the
//! gates of `allowed_in(..)`.
//!
//! A gate names each state as a variant of `<Self as HasStates>::State`, spanned on the
//! user's token: a name that is not a variant is rustc's error there, with its suggestion.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use crate::internals::ast::ThingStruct;
use crate::internals::attr::AllowedIn;
use crate::internals::ctx::Ctx;

/// `impl HasStates`: the `#[property(state)]` field's type and value, or no states.
pub(crate) fn has_states(ctx: &Ctx, thing: &ThingStruct) -> TokenStream {
    let private = ctx.private();
    let ident = &thing.item.ident;
    let state = thing.properties.iter().find(|p| p.opts.state.is_some());
    let Some(p) = state else {
        return quote! {
            #[automatically_derived]
            impl #private::HasStates for #ident {
                type State = #private::NoStates;
                const DECLARED: bool = false;
                fn with_state<R>(&self, _: impl ::core::ops::FnOnce(&Self::State) -> R) -> R {
                    ::core::unreachable!("a Thing without states has no state gates")
                }
            }
        };
    };
    let (field, ty) = (&p.ident, &p.ty);
    let at = ctx.private_at(syn::spanned::Spanned::span(ty));
    quote_spanned! {syn::spanned::Spanned::span(ty)=>
        #[automatically_derived]
        impl #at::HasStates for #ident {
            type State = #ty;
            const DECLARED: bool = true;
            fn with_state<R>(&self, f: impl ::core::ops::FnOnce(&Self::State) -> R) -> R {
                self.#field.with(f)
            }
        }
    }
}

/// The `Option<StateGate<Self>>` of an affordance's `allowed_in(..)`.
pub(crate) fn gate(ctx: &Ctx, allowed: &Option<AllowedIn>) -> TokenStream {
    let private = ctx.private();
    let Some(allowed) = allowed else {
        return quote!(::core::option::Option::None);
    };
    let paths: Vec<TokenStream> = (allowed.states.iter())
        .map(|v| quote_spanned!(v.span()=> <Self as #private::HasStates>::State::#v))
        .collect();
    quote! {
        ::core::option::Option::Some(#private::StateGate {
            allowed: || ::std::vec![#(#private::state_value(&#paths)),*],
            check: |thing| <Self as #private::HasStates>::with_state(thing, |state| {
                if ::core::matches!(state, #(#paths)|*) {
                    ::core::result::Result::Ok(())
                } else {
                    ::core::result::Result::Err(#private::state_value(state))
                }
            }),
        })
    }
}

/// The compile-time check, on `allowed_in`, that the `#[thing]` struct declares states (an
/// impl block cannot see the struct).
pub(crate) fn declared_check(ctx: &Ctx, self_ty: &syn::Type, allowed: &AllowedIn) -> TokenStream {
    let private = ctx.private();
    let message = "`allowed_in` names states, but the `#[thing]` struct declares none\n= help: declare them with a field `#[property(state)] state: MyState`, where `MyState` is an enum deriving `Serialize`, `Deserialize` and `JsonSchema`";
    quote_spanned! {allowed.keyword.span()=>
        const _: () = if !<#self_ty as #private::HasStates>::DECLARED {
            ::core::panic!(#message)
        };
    }
}
