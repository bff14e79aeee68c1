//! Code generation for `#[thing]` on a struct.
//!
//! Emits the struct with each `#[property]` field's type `T` rewritten to
//! `labthings::Property<T, Marker>`, a hidden module of marker types (one per property, named
//! after it), the static property table, and the `Thing` impl.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};

use crate::ast::{FieldProperty, ThingStruct};
use crate::attr::{PropertyOpts, doc_tokens};

/// The name of the hidden module holding the property markers of `ident`.
pub(crate) fn markers_module(ident: &syn::Ident) -> syn::Ident {
    format_ident!("__labthings_{}", ident)
}

pub(crate) fn expand(thing: &ThingStruct) -> TokenStream {
    let mut item = thing.item.clone();
    let ident = &item.ident;
    let module = markers_module(ident);
    let vis = &item.vis;
    for p in &thing.properties {
        let field = item.fields.iter_mut().nth(p.field).expect("field index");
        let ty = &p.ty;
        let marker = &p.ident;
        field.ty =
            syn::parse_quote_spanned!(ty_span(ty)=> ::labthings::Property<#ty, #module::#marker>);
    }
    let markers = thing.properties.iter().map(marker);
    let checks = thing.properties.iter().map(type_checks);
    let defs = thing.properties.iter().map(|p| property_def(p, ident));
    let name_guards = name_guards(thing.properties.iter().map(|p| (&p.name, p.name_span)));
    let type_name = ident.to_string();
    let doc = doc_tokens(&thing.doc, &thing.opts.title, &thing.opts.description);
    quote! {
        #item

        #[doc(hidden)]
        #[allow(non_camel_case_types, non_snake_case, dead_code)]
        #vis mod #module {
            #(#markers)*
        }

        #[allow(non_upper_case_globals, dead_code)]
        impl #ident {
            #name_guards
        }

        const _: () = {
            #(#checks)*

            #[automatically_derived]
            impl ::labthings::__private::StructTable for #ident {
                const TYPE_NAME: &'static str = #type_name;
                const DOC: ::labthings::Doc = #doc;
                const PROPERTIES: &'static [::labthings::PropertyDef<Self>] = &[#(#defs),*];
            }

            #[automatically_derived]
            impl ::labthings::Thing for #ident {
                fn table() -> &'static ::labthings::ThingTable<Self> {
                    static TABLE: ::std::sync::OnceLock<::labthings::ThingTable<#ident>> =
                        ::std::sync::OnceLock::new();
                    TABLE.get_or_init(|| {
                        use ::labthings::__private::{ViaImplTable as _, ViaNoImplTable as _};
                        let (properties, actions) =
                            (&::labthings::__private::Probe::<#ident>::new()).methods();
                        ::labthings::ThingTable::build(
                            <Self as ::labthings::__private::StructTable>::TYPE_NAME,
                            <Self as ::labthings::__private::StructTable>::DOC,
                            <Self as ::labthings::__private::StructTable>::PROPERTIES
                                .iter()
                                .chain(properties),
                            actions,
                        )
                    })
                }
            }
        };
    }
}

/// What `#[thing]` emits when the item is not a struct it can handle: the item unchanged.
pub(crate) fn fallback(item: &syn::ItemStruct) -> TokenStream {
    quote!(#item)
}

fn ty_span(ty: &syn::Type) -> Span {
    syn::spanned::Spanned::span(ty)
}

/// Hidden associated constants named after the affordances: two affordances of one Thing with
/// the same name, one in the struct and one in an impl block, collide on them. Names repeated
/// within the item are reported by `check` and get one guard only.
pub(crate) fn name_guards<'a>(names: impl Iterator<Item = (&'a String, Span)>) -> TokenStream {
    let mut seen = std::collections::HashSet::new();
    names
        .filter(|(name, _)| seen.insert(name.as_str()))
        .map(|(name, span)| name_guard(name, span))
        .collect()
}

fn name_guard(name: &str, span: Span) -> TokenStream {
    let sanitized: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let guard = format_ident!("__labthings_affordance_named_{}", sanitized, span = span);
    quote_spanned!(span=> #[doc(hidden)] const #guard: () = ();)
}

fn marker(p: &FieldProperty) -> TokenStream {
    let marker = &p.ident;
    let name = &p.name;
    let observable = p
        .opts
        .observable
        .as_ref()
        .map(|_| quote!(impl ::labthings::Observable for #marker {}));
    quote! {
        #[derive(Debug, Clone, Copy)]
        pub struct #marker;
        impl ::labthings::PropertyMarker for #marker {
            const NAME: &'static str = #name;
        }
        #observable
    }
}

/// Compile-time checks of the value type and of the constraints, spanned on the user's
/// tokens.
pub(crate) fn type_checks_for(ty: &syn::Type, opts: &PropertyOpts) -> TokenStream {
    let value = quote_spanned!(ty_span(ty)=>
        const _: () = ::labthings::__private::assert_value::<#ty>();
    );
    let numeric = opts.bounds().next().map(|b| {
        quote_spanned!(b.keyword.span()=>
            const _: () = ::labthings::__private::assert_numeric::<#ty>();
        )
    });
    let length = opts.lengths().next().map(|l| {
        quote_spanned!(l.keyword.span()=>
            const _: () = ::labthings::__private::assert_has_length::<#ty>();
        )
    });
    let pattern = opts.pattern.as_ref().map(|p| {
        quote_spanned!(p.keyword.span()=>
            const _: () = ::labthings::__private::assert_textual::<#ty>();
        )
    });
    quote!(#value #numeric #length #pattern)
}

fn type_checks(p: &FieldProperty) -> TokenStream {
    type_checks_for(&p.ty, &p.opts)
}

/// The tokens of a `labthings::Constraints`.
pub(crate) fn constraints(o: &PropertyOpts) -> TokenStream {
    let bound = |b: &Option<crate::attr::Bound>| match b {
        Some(b) => {
            let v = &b.value;
            quote!(::core::option::Option::Some(#v))
        }
        None => quote!(::core::option::Option::None),
    };
    let length = |l: &Option<crate::attr::Length>| match l {
        Some(l) => {
            let v: u64 = l.value.base10_parse().unwrap_or_default();
            quote!(::core::option::Option::Some(#v))
        }
        None => quote!(::core::option::Option::None),
    };
    let (minimum, maximum, exclusive_minimum, exclusive_maximum, multiple_of) = (
        bound(&o.minimum),
        bound(&o.maximum),
        bound(&o.exclusive_minimum),
        bound(&o.exclusive_maximum),
        bound(&o.multiple_of),
    );
    let (min_length, max_length) = (length(&o.min_length), length(&o.max_length));
    let pattern = match &o.pattern {
        Some(p) => {
            let v = &p.value;
            quote!(::core::option::Option::Some(#v))
        }
        None => quote!(::core::option::Option::None),
    };
    quote! {
        ::labthings::Constraints {
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

fn property_def(p: &FieldProperty, thing: &syn::Ident) -> TokenStream {
    let o = &p.opts;
    let (name, field, ty) = (&p.name, &p.ident, &p.ty);
    let doc = doc_tokens(&p.doc, &o.title, &o.description);
    let observable = o.observable.is_some();
    let read_only = o.read_only.is_some();
    let write_only = o.write_only.is_some();
    let constraints = constraints(o);
    let setter = if read_only {
        quote!(::core::option::Option::None)
    } else {
        quote!(::core::option::Option::Some(::labthings::Setter::Immediate(
            |thing: &#thing, value| ::labthings::__private::write_field(&thing.#field, value)
        )))
    };
    let topic = if observable {
        quote!(::core::option::Option::Some(|thing: &#thing| thing.#field.topic()))
    } else {
        quote!(::core::option::Option::None)
    };
    quote! {
        ::labthings::PropertyDef {
            name: #name,
            doc: #doc,
            observable: #observable,
            read_only: #read_only,
            write_only: #write_only,
            constraints: #constraints,
            schema: ::labthings::__private::schema::<#ty>,
            getter: ::core::option::Option::Some(::labthings::Getter::Immediate(
                |thing: &#thing| ::labthings::__private::read_field(&thing.#field)
            )),
            setter: #setter,
            topic: #topic,
        }
    }
}
