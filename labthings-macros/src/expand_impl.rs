//! Code generation for `#[thing]` on an impl block: method properties and actions.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::ast::{Accessor, Action, MethodProperty, Param, Returns, ThingImpl};
use crate::attr::{PropertyOpts, doc_tokens};
use crate::expand_struct::{constraints, name_guards, type_checks_for};

pub(crate) fn expand(thing: &ThingImpl) -> TokenStream {
    let item = &thing.item;
    let self_ty = &item.self_ty;
    let properties = thing.properties.iter().map(property_def);
    let property_checks = thing.properties.iter().map(|p| {
        let accessor = p
            .getter
            .as_ref()
            .or(p.setter.as_ref())
            .expect("an accessor");
        type_checks_for(&accessor.ty, &options(p))
    });
    let inputs = thing.actions.iter().map(input_struct);
    let action_checks = thing.actions.iter().map(action_checks);
    let actions = thing.actions.iter().map(action_def);
    let guards = name_guards(
        thing
            .properties
            .iter()
            .map(|p| (&p.name, p.name_span))
            .chain(thing.actions.iter().map(|a| (&a.name, a.name_span))),
    );
    quote! {
        #item

        #[allow(non_upper_case_globals, dead_code)]
        impl #self_ty {
            #guards
        }

        const _: () = {
            #(#property_checks)*
            #(#action_checks)*
            #(#inputs)*

            #[automatically_derived]
            impl ::labthings::__private::ImplTable for #self_ty {
                const PROPERTIES: &'static [::labthings::PropertyDef<Self>] = &[#(#properties),*];
                const ACTIONS: &'static [::labthings::ActionDef<Self>] = &[#(#actions),*];
            }
        };
    }
}

/// The options of a method property: the getter's, or the setter's without a getter.
fn options(p: &MethodProperty) -> PropertyOpts {
    p.getter
        .as_ref()
        .or(p.setter.as_ref())
        .map(|a| a.opts.clone())
        .unwrap_or_default()
}

fn none() -> TokenStream {
    quote!(::core::option::Option::None)
}

fn getter(g: &Accessor) -> TokenStream {
    let ident = &g.ident;
    let convert = |call: TokenStream| match &g.returns {
        Returns::Result(_) => quote!(::labthings::__private::getter_result(#call)),
        _ => quote!(::labthings::__private::to_json(&#call)),
    };
    if g.is_async {
        let body = convert(quote!(thing.#ident().await));
        quote!(::labthings::Getter::Async(|thing| ::std::boxed::Box::pin(async move { #body })))
    } else {
        let body = convert(quote!(thing.#ident()));
        quote!(::labthings::Getter::Blocking(|thing| #body))
    }
}

fn setter(s: &Accessor) -> TokenStream {
    let (ident, ty) = (&s.ident, &s.ty);
    let convert = |call: TokenStream| match &s.returns {
        Returns::Result(_) => quote!(::labthings::__private::setter_result(#call)),
        _ => quote!({ #call; ::core::result::Result::Ok(()) }),
    };
    let parse = quote!(let value: #ty = ::labthings::__private::from_value(value)?;);
    if s.is_async {
        let body = convert(quote!(thing.#ident(value).await));
        quote!(::labthings::Setter::Async(|thing, value| ::std::boxed::Box::pin(async move {
            #parse
            #body
        })))
    } else {
        let body = convert(quote!(thing.#ident(value)));
        quote!(::labthings::Setter::Blocking(|thing, value| { #parse #body }))
    }
}

fn property_def(p: &MethodProperty) -> TokenStream {
    let o = options(p);
    let name = &p.name;
    let accessor = p
        .getter
        .as_ref()
        .or(p.setter.as_ref())
        .expect("an accessor");
    let ty = &accessor.ty;
    let doc = doc_tokens(&accessor.doc, &o.title, &o.description);
    let read_only = o.read_only.is_some() || p.setter.is_none();
    let write_only = o.write_only.is_some() || p.getter.is_none();
    let constraints = constraints(&o);
    let getter = p.getter.as_ref().map_or_else(none, |g| {
        let g = getter(g);
        quote!(::core::option::Option::Some(#g))
    });
    let setter = match (&p.setter, o.read_only.is_some()) {
        (Some(s), false) => {
            let s = setter(s);
            quote!(::core::option::Option::Some(#s))
        }
        _ => none(),
    };
    quote! {
        ::labthings::PropertyDef {
            name: #name,
            doc: #doc,
            observable: false,
            read_only: #read_only,
            write_only: #write_only,
            constraints: #constraints,
            schema: ::labthings::__private::schema::<#ty>,
            getter: #getter,
            setter: #setter,
            topic: ::core::option::Option::None,
        }
    }
}

fn input_ident(a: &Action) -> syn::Ident {
    format_ident!("__labthings_input_{}", a.ident)
}

fn value_params(a: &Action) -> impl Iterator<Item = (&syn::Ident, &syn::Type)> {
    a.params.iter().filter_map(|p| match p {
        Param::Value { ident, ty } => Some((ident, &**ty)),
        Param::Context { .. } => None,
    })
}

fn input_struct(a: &Action) -> TokenStream {
    if value_params(a).next().is_none() {
        return TokenStream::new();
    }
    let ident = input_ident(a);
    let fields = value_params(a).map(|(name, ty)| quote!(#name: #ty));
    quote! {
        #[derive(::labthings::__private::serde::Deserialize, ::labthings::__private::schemars::JsonSchema)]
        #[serde(crate = "::labthings::__private::serde", deny_unknown_fields)]
        #[schemars(crate = "::labthings::__private::schemars")]
        #[allow(non_camel_case_types)]
        struct #ident { #(#fields),* }
    }
}

fn output_type(a: &Action) -> TokenStream {
    match &a.returns {
        Returns::Unit => quote!(()),
        Returns::Value(t) | Returns::Result(t) => quote!(#t),
    }
}

fn action_checks(a: &Action) -> TokenStream {
    let args = value_params(a).map(|(_, ty)| {
        quote_spanned!(ty.span()=> const _: () = ::labthings::__private::assert_argument::<#ty>();)
    });
    let output = match &a.returns {
        Returns::Unit => TokenStream::new(),
        Returns::Value(t) | Returns::Result(t) => {
            quote_spanned!(t.span()=> const _: () = ::labthings::__private::assert_output::<#t>();)
        }
    };
    quote!(#(#args)* #output)
}

fn action_def(a: &Action) -> TokenStream {
    let name = &a.name;
    let doc = doc_tokens(&a.doc, &a.opts.title, &a.opts.description);
    let safe = a.opts.safe.is_some();
    let idempotent = a.opts.idempotent.is_some();
    let has_input = value_params(a).next().is_some();
    let input_ty = input_ident(a);
    let input_schema = if has_input {
        quote!(::core::option::Option::Some(::labthings::__private::input_schema::<#input_ty>))
    } else {
        none()
    };
    let output_ty = output_type(a);
    let takes_context = a.params.iter().any(|p| matches!(p, Param::Context { .. }));
    let destructure = if has_input {
        let names = value_params(a).map(|(n, _)| n);
        quote!(let #input_ty { #(#names),* } = ::labthings::__private::from_value(input)?;)
    } else {
        quote!(let _ = input;)
    };
    let args = a.params.iter().map(|p| match p {
        Param::Value { ident, .. } => quote!(#ident),
        Param::Context { by_ref: true } => quote!(&ctx),
        Param::Context { by_ref: false } => quote!(::core::clone::Clone::clone(&ctx)),
    });
    let method = &a.ident;
    let call = if a.is_async {
        quote!(thing.#method(#(#args),*).await)
    } else {
        quote!(thing.#method(#(#args),*))
    };
    let convert = match &a.returns {
        Returns::Result(_) => quote!(::labthings::__private::action_result(#call)),
        _ => quote!(::labthings::__private::to_json(&#call)),
    };
    let invoke = if a.is_async {
        quote!(|thing, input, ctx| ::std::boxed::Box::pin(async move {
            let _ = &ctx;
            #destructure
            #convert
        }))
    } else {
        quote!(|thing, input, ctx| ::labthings::__private::blocking(move || {
            let _ = &ctx;
            #destructure
            #convert
        }))
    };
    quote! {
        ::labthings::ActionDef {
            name: #name,
            doc: #doc,
            safe: #safe,
            idempotent: #idempotent,
            takes_context: #takes_context,
            input: #input_schema,
            output: ::labthings::__private::schema::<#output_ty>,
            invoke: #invoke,
        }
    }
}
