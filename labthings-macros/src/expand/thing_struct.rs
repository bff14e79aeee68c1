//! Code generation for `#[thing]` on a struct.
//!
//! Emits the struct with each `#[property]` field's type `T` rewritten to
//! `labthings::Property<T, Marker>`, a hidden module of marker types (one per property, named
//! after it), the static property table, and the `Thing` impl.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::{constraints, name_check, text, type_checks};
use crate::internals::ast::{FieldEvent, FieldProperty, FieldSlot, ThingStruct};
use crate::internals::attr::doc_tokens;
use crate::internals::ctx::Ctx;

/// The name of the hidden module holding the property markers of `ident`.
fn markers_module(ident: &syn::Ident) -> syn::Ident {
    format_ident!("__labthings_{}", ident)
}

pub(crate) fn expand(ctx: &Ctx, thing: &ThingStruct) -> TokenStream {
    let Ctx { krate, .. } = ctx;
    let mut item = thing.item.clone();
    let module = markers_module(&item.ident);
    for p in &thing.properties {
        let field = item.fields.iter_mut().nth(p.field).expect("field index");
        let ty = &p.ty;
        let marker = &p.ident;
        field.ty = syn::parse_quote_spanned!(ty.span()=> #krate::Property<#ty, #module::#marker>);
    }
    let vis = &item.vis;
    let markers = thing.properties.iter().map(|p| {
        let marker = &p.ident;
        quote!(#[derive(Debug, Clone, Copy)] pub struct #marker;)
    });
    let marker_impls = thing
        .properties
        .iter()
        .map(|p| marker_impls(ctx, p, &module));
    let checks = checks(ctx, thing);
    let states = super::state::has_states(ctx, thing);
    let accessors = accessors(ctx, thing);
    let tables = tables(ctx, thing);
    quote! {
        #item

        #[doc(hidden)]
        #[allow(non_camel_case_types, non_snake_case, dead_code)]
        #vis mod #module {
            #(#markers)*
        }

        #[allow(non_snake_case)]
        const _: () = {
            #(#marker_impls)*
            #checks
            #states
            #accessors
            #tables
        };
    }
}

/// The compile-time checks of names and constraints.
fn checks(ctx: &Ctx, thing: &ThingStruct) -> TokenStream {
    let properties = thing.properties.iter().map(|p| {
        let name = name_check(ctx, &p.name, p.name_span);
        let constraints = type_checks(ctx, &p.ty, &p.opts.constraints);
        let ranged = p.opts.ranges().next().map(|r| {
            let (private, ty) = (ctx.private(), &p.ty);
            quote_spanned!(r.keyword.span()=> const _: () = #private::assert_ranged::<#ty>();)
        });
        quote!(#name #constraints #ranged)
    });
    let others = thing
        .events
        .iter()
        .chain(&thing.streams)
        .map(|e| name_check(ctx, &e.name, e.name_span));
    quote!(#(#properties)* #(#others)*)
}

/// The functions through which the tables reach each field.
fn accessors(ctx: &Ctx, thing: &ThingStruct) -> TokenStream {
    let ident = &thing.item.ident;
    let properties = thing.properties.iter().map(|p| accessor(ctx, p, ident));
    let slots = thing.slots.iter().map(|s| slot_accessor(ctx, s, ident));
    let events = thing.events.iter().map(|e| event_accessor(ctx, e, ident));
    let streams = thing.streams.iter().map(|s| stream_accessor(ctx, s, ident));
    quote!(#(#properties)* #(#slots)* #(#events)* #(#streams)*)
}

/// The struct's static table and its `Thing` impl.
fn tables(ctx: &Ctx, thing: &ThingStruct) -> TokenStream {
    let Ctx { krate, .. } = ctx;
    let private = ctx.private();
    let ident = &thing.item.ident;
    let defs = thing.properties.iter().map(|p| property_def(ctx, thing, p));
    let slot_defs = thing.slots.iter().map(|s| {
        let (name, accessor) = (&s.name, slot_accessor_ident(s));
        quote!(#private::SlotDef { name: #name, field: #accessor })
    });
    let event_defs = thing.events.iter().map(|e| event_def(ctx, e));
    let stream_defs = thing.streams.iter().map(|s| stream_def(ctx, s));
    let type_name = ident.to_string();
    let doc = doc_tokens(ctx, &thing.doc, &thing.opts.title, &thing.opts.description);
    quote! {
        #[automatically_derived]
        impl #private::Sealed for #ident {}

        #[automatically_derived]
        impl #private::StructTable for #ident {
            const TYPE_NAME: &'static str = #type_name;
            const DOC: #private::Doc = #doc;
            const PROPERTIES: &'static [#private::PropertyDef<Self>] = &[#(#defs),*];
            const SLOTS: &'static [#private::SlotDef<Self>] = &[#(#slot_defs),*];
            const EVENTS: &'static [#private::EventDef<Self>] = &[#(#event_defs),*];
            const STREAMS: &'static [#private::StreamDef<Self>] = &[#(#stream_defs),*];
        }

        #[automatically_derived]
        impl #krate::Thing for #ident {
            fn table() -> &'static #private::ThingTable<Self> {
                static TABLE: ::std::sync::OnceLock<#private::ThingTable<#ident>> =
                    ::std::sync::OnceLock::new();
                TABLE.get_or_init(|| {
                    use #private::{ViaImplTable as _, ViaNoImplTable as _};
                    let methods = (&#private::Probe::<#ident>::new()).methods();
                    #private::ThingTable::build(
                        #private::StructParts {
                            type_name: <Self as #private::StructTable>::TYPE_NAME,
                            doc: <Self as #private::StructTable>::DOC,
                            properties: <Self as #private::StructTable>::PROPERTIES,
                            slots: <Self as #private::StructTable>::SLOTS,
                            events: <Self as #private::StructTable>::EVENTS,
                            streams: <Self as #private::StructTable>::STREAMS,
                        },
                        methods,
                    )
                })
            }
        }
    }
}

/// What `#[thing]` emits when the struct has a structural mistake (a tuple struct, generic
/// parameters): the item, and a `Thing` impl that is never called, so that code using the
/// type does not pile errors on top of the one that matters (thiserror's fallback).
pub(crate) fn fallback(ctx: &Ctx, item: &syn::ItemStruct) -> TokenStream {
    let Ctx { krate, .. } = ctx;
    let private = ctx.private();
    let ident = &item.ident;
    let (impl_generics, ty_generics, where_clause) = item.generics.split_for_impl();
    let mut where_clause = where_clause
        .cloned()
        .unwrap_or_else(|| syn::parse_quote!(where));
    where_clause
        .predicates
        .push(syn::parse_quote!(Self: ::core::marker::Send + ::core::marker::Sync + 'static));
    quote! {
        #item

        const _: () = {
            impl #impl_generics #private::Sealed for #ident #ty_generics #where_clause {}
            impl #impl_generics #krate::Thing for #ident #ty_generics #where_clause {
                fn table() -> &'static #private::ThingTable<Self> {
                    ::core::unreachable!("`#[thing]` reported an error for this type")
                }
            }
            impl #impl_generics #private::HasStates for #ident #ty_generics #where_clause {
                type State = #private::NoStates;
                const DECLARED: bool = true;
                fn with_state<R>(&self, _: impl ::core::ops::FnOnce(&Self::State) -> R) -> R {
                    ::core::unreachable!("`#[thing]` reported an error for this type")
                }
            }
        };
    }
}

/// The traits of a property's marker type, outside its module (where the crate path of
/// `crate = "…"` resolves as the user wrote it).
fn marker_impls(ctx: &Ctx, p: &FieldProperty, module: &syn::Ident) -> TokenStream {
    let Ctx { krate, .. } = ctx;
    let marker = &p.ident;
    let name = &p.name;
    let observable = p
        .opts
        .is_observable()
        .then(|| quote!(impl #krate::Observable for #module::#marker {}));
    quote! {
        impl #krate::PropertyMarker for #module::#marker {
            const NAME: &'static str = #name;
        }
        #observable
    }
}

fn accessor_ident(p: &FieldProperty) -> syn::Ident {
    format_ident!("__labthings_field_{}", p.ident)
}

/// The one place where the field is seen as a stored value: a value type that cannot be
/// serialised or deserialised is reported once, on the field's type.
fn accessor(ctx: &Ctx, p: &FieldProperty, thing: &syn::Ident) -> TokenStream {
    let private = ctx.private();
    let (ident, field, ty) = (accessor_ident(p), &p.ident, &p.ty);
    quote_spanned! {ty.span()=>
        fn #ident(thing: &#thing) -> &dyn #private::StoredValue {
            &thing.#field
        }
    }
}

fn slot_accessor_ident(s: &FieldSlot) -> syn::Ident {
    format_ident!("__labthings_slot_{}", s.ident)
}

/// The slot field as a `SlotCell`: a field of another type, or a slot to a type that is not
/// a Thing, is reported on the field's type.
fn slot_accessor(ctx: &Ctx, s: &FieldSlot, thing: &syn::Ident) -> TokenStream {
    let private = ctx.private_at(s.ty.span());
    let (ident, field, ty) = (slot_accessor_ident(s), &s.ident, &s.ty);
    quote_spanned! {ty.span()=>
        fn #ident(thing: &#thing) -> &dyn #private::SlotCell {
            &thing.#field
        }
    }
}

fn property_def(ctx: &Ctx, thing: &ThingStruct, p: &FieldProperty) -> TokenStream {
    let private = ctx.private();
    let o = &p.opts;
    let (name, ty) = (&p.name, &p.ty);
    let accessor = accessor_ident(p);
    let doc = doc_tokens(ctx, &p.doc, &o.title, &o.description);
    let observable = o.is_observable();
    let read_only = o.is_read_only();
    let state = o.state.is_some();
    // Without a state property, `allowed_in` is already reported: no gate to pile errors on.
    let declared = thing.properties.iter().any(|p| p.opts.state.is_some());
    let gate = super::state::gate(ctx, if declared { &o.allowed_in } else { &None });
    let write_only = o.write_only.is_some();
    let setting = o.setting.is_some();
    let constraints = constraints(ctx, &o.constraints);
    let unit = text(&o.constraints.unit);
    let at = ctx.private_at(ty.span());
    let schema = quote_spanned!(ty.span()=> #at::schema::<#ty>);
    let thing = &thing.item.ident;
    let check = quote_spanned!(ty.span()=> #at::check_value::<#ty>);
    let range = |r: &Option<crate::internals::attr::QualityRange>| match r {
        Some(r) => {
            let (low, high) = (r.low, r.high);
            quote!(::core::option::Option::Some((#low, #high)))
        }
        None => quote!(::core::option::Option::None),
    };
    let (warning, alarm) = (range(&o.warning), range(&o.alarm));
    let ranges = quote!(#private::Ranges { warning: #warning, alarm: #alarm });
    let setter = if read_only {
        quote!(::core::option::Option::None)
    } else {
        quote!(::core::option::Option::Some(#private::Setter::<#thing>::Field(#accessor)))
    };
    quote! {
        #private::PropertyDef {
            name: #name,
            doc: #doc,
            observable: #observable,
            read_only: #read_only,
            write_only: #write_only,
            unit: #unit,
            setting: #setting,
            constraints: #constraints,
            schema: #schema,
            getter: ::core::option::Option::Some(#private::Getter::<#thing>::Field(#accessor)),
            setter: #setter,
            check_value: #check,
            state: #state,
            allowed_in: #gate,
            ranges: #ranges,
        }
    }
}

fn event_accessor_ident(e: &FieldEvent) -> syn::Ident {
    format_ident!("__labthings_event_{}", e.ident)
}

fn event_parts_ident(e: &FieldEvent) -> syn::Ident {
    format_ident!("__LABTHINGS_EVENT_{}", e.ident)
}

/// The event field's parts, and its publish point: a field that is not an `Event<T>` is
/// reported once, on its type.
fn event_accessor(ctx: &Ctx, e: &FieldEvent, thing: &syn::Ident) -> TokenStream {
    let at = ctx.private_at(e.ty.span());
    let private = ctx.private();
    let (ident, parts, field, ty) = (
        event_accessor_ident(e),
        event_parts_ident(e),
        &e.ident,
        &e.ty,
    );
    quote_spanned! {ty.span()=>
        #[allow(non_upper_case_globals)]
        const #parts: #private::EventParts<#ty> = #at::event_parts::<#ty>();
        fn #ident(thing: &#thing) -> &#private::Topic {
            (#parts.topic)(&thing.#field)
        }
    }
}

fn event_def(ctx: &Ctx, e: &FieldEvent) -> TokenStream {
    let private = ctx.private();
    let name = &e.name;
    let (accessor, parts) = (event_accessor_ident(e), event_parts_ident(e));
    let doc = doc_tokens(ctx, &e.doc, &e.opts.title, &e.opts.description);
    quote! {
        #private::EventDef {
            name: #name,
            doc: #doc,
            schema: #parts.schema,
            topic: #accessor,
        }
    }
}

fn stream_accessor_ident(s: &FieldEvent) -> syn::Ident {
    format_ident!("__labthings_stream_{}", s.ident)
}

/// The stream field as an `MjpegStream`: a field of another type is reported on its type.
fn stream_accessor(ctx: &Ctx, s: &FieldEvent, thing: &syn::Ident) -> TokenStream {
    let at = ctx.private_at(s.ty.span());
    let Ctx { krate, .. } = ctx;
    let (ident, field, ty) = (stream_accessor_ident(s), &s.ident, &s.ty);
    quote_spanned! {ty.span()=>
        fn #ident(thing: &#thing) -> &#krate::MjpegStream {
            #at::stream_of::<#ty>(&thing.#field)
        }
    }
}

fn stream_def(ctx: &Ctx, s: &FieldEvent) -> TokenStream {
    let private = ctx.private();
    let name = &s.name;
    let accessor = stream_accessor_ident(s);
    let doc = doc_tokens(ctx, &s.doc, &s.opts.title, &s.opts.description);
    quote! {
        #private::StreamDef {
            name: #name,
            doc: #doc,
            field: #accessor,
        }
    }
}
