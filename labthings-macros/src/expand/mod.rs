//! Code generation: [`thing_struct`] for `#[thing]` on a struct, [`thing_impl`] on an impl
//! block, [`client`] for the typed clients of both; here, what they share (the tokens of
//! constraints and texts, and the compile-time checks of names and constraints).

pub(crate) mod client;
mod state;
mod task;
pub(crate) mod thing_impl;
pub(crate) mod thing_struct;

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};

use crate::internals::attr::{Constraints, Text};
use crate::internals::ctx::Ctx;

/// `Some(tokens)` or `None`.
pub(crate) fn option(tokens: Option<TokenStream>) -> TokenStream {
    match tokens {
        Some(t) => quote!(::core::option::Option::Some(#t)),
        None => quote!(::core::option::Option::None),
    }
}

/// `Some("text")` or `None`.
pub(crate) fn text(t: &Option<Text>) -> TokenStream {
    option(t.as_ref().map(|t| {
        let v = &t.value;
        quote!(#v)
    }))
}

/// The tokens of a `Constraints`.
pub(crate) fn constraints(ctx: &Ctx, o: &Constraints) -> TokenStream {
    let private = ctx.private();
    let bound =
        |b: &Option<crate::internals::attr::Bound>| option(b.as_ref().map(|b| b.tokens(ctx)));
    let length = |l: &Option<crate::internals::attr::Length>| {
        option(l.as_ref().map(|l| {
            let v: u64 = l.value.base10_parse().unwrap_or_default();
            quote!(#v)
        }))
    };
    let (minimum, maximum, exclusive_minimum, exclusive_maximum, multiple_of) = (
        bound(&o.minimum),
        bound(&o.maximum),
        bound(&o.exclusive_minimum),
        bound(&o.exclusive_maximum),
        bound(&o.multiple_of),
    );
    let (min_length, max_length) = (length(&o.min_length), length(&o.max_length));
    let pattern = text(&o.pattern);
    quote! {
        #private::Constraints {
            minimum: #minimum,
            maximum: #maximum,
            exclusive_minimum: #exclusive_minimum,
            exclusive_maximum: #exclusive_maximum,
            multiple_of: #multiple_of,
            min_length: #min_length,
            max_length: #max_length,
            pattern: #pattern,
        }
    }
}

/// What a kind of constraint needs of the value's type.
#[derive(Clone, Copy)]
pub(crate) enum Needs {
    /// Bounds: a number.
    Numeric,
    /// Lengths: a string or an array.
    Length,
    /// A pattern: a string.
    Textual,
}

impl Needs {
    /// The `__private` check of a type: `assert_numeric::<T>()`, …
    pub(crate) fn by_type(self) -> syn::Ident {
        let name = match self {
            Self::Numeric => "assert_numeric",
            Self::Length => "assert_has_length",
            Self::Textual => "assert_textual",
        };
        syn::Ident::new(name, Span::call_site())
    }

    /// The `__private` check of what a getter returns: `assert_numeric_output(kind)`, …
    pub(crate) fn by_output(self) -> syn::Ident {
        syn::Ident::new(&format!("{}_output", self.by_type()), Span::call_site())
    }
}

/// One compile-time check per kind of constraint given, each made by `check` and spanned
/// on the constraint's keyword.
pub(crate) fn constraint_checks(
    o: &Constraints,
    check: impl Fn(Span, Needs) -> TokenStream,
) -> TokenStream {
    let numeric = o
        .bounds()
        .next()
        .map(|b| check(b.keyword.span(), Needs::Numeric));
    let length = o
        .lengths()
        .next()
        .map(|l| check(l.keyword.span(), Needs::Length));
    let pattern = o
        .pattern
        .as_ref()
        .map(|p| check(p.keyword.span(), Needs::Textual));
    quote!(#numeric #length #pattern)
}

/// The checks of the constraints on a value of type `ty`.
pub(crate) fn type_checks(ctx: &Ctx, ty: &syn::Type, o: &Constraints) -> TokenStream {
    let private = ctx.private();
    constraint_checks(o, |span, needs| {
        let check = needs.by_type();
        quote_spanned!(span=> const _: () = #private::#check::<#ty>();)
    })
}

/// The compile-time check of an affordance name against the runtime's naming rule, reported
/// on the name.
pub(crate) fn name_check(ctx: &Ctx, name: &str, span: Span) -> TokenStream {
    let private = ctx.private();
    quote_spanned! {span=>
        const _: () = match #private::check_affordance(#name) {
            ::core::result::Result::Ok(()) => (),
            ::core::result::Result::Err(problem) => ::core::panic!("{}", problem),
        };
    }
}
