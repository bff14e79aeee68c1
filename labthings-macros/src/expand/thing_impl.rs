//! Code generation for `#[thing]` on an impl block: method properties and actions.
//!
//! What a method returns is not classified here: the generated code asks the type system
//! whether it is a `Result` (`labthings::__private::Returned`), so a user's own type called
//! `Result` is a value, and `anyhow::Result<T>` a `Result`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::Ident;
use syn::spanned::Spanned;

use super::task::task_defs;
use super::{constraint_checks, constraints, name_check, text, type_checks};
use crate::internals::ast::{Accessor, Action, MethodProperty, Param, Returns, ThingImpl};
use crate::internals::attr::{PropertyOpts, doc_tokens};
use crate::internals::ctx::Ctx;

pub(crate) fn expand(ctx: &Ctx, thing: &ThingImpl) -> TokenStream {
    let private = ctx.private();
    let item = &with_call_guards(ctx, thing);
    let self_ty = &item.self_ty;
    let names = thing
        .properties
        .iter()
        .map(|p| (&p.name, p.name_span, "property"))
        .chain(
            thing
                .actions
                .iter()
                .map(|a| (&a.name, a.name_span, "action")),
        );
    let name_checks = names.map(|(name, span, kind)| {
        let valid = name_check(ctx, name, span);
        let unique = unique_check(ctx, self_ty, name, span, kind);
        quote!(#valid #unique)
    });
    let property_checks = thing.properties.iter().map(|p| property_checks(ctx, p));
    let gates = (thing.properties.iter().map(|p| options(p).allowed_in))
        .chain(thing.actions.iter().map(|a| a.opts.allowed_in.clone()))
        .flatten()
        .map(|gate| super::state::declared_check(ctx, self_ty, &gate));
    let inputs = thing.actions.iter().map(|a| input_struct(ctx, a));
    let arg_checks = thing.actions.iter().map(|a| arg_checks(ctx, a));
    let on_start = thing.on_start.as_ref().map_or_else(none, |h| hook(ctx, h));
    let on_stop = thing.on_stop.as_ref().map_or_else(none, |h| hook(ctx, h));
    let tasks = task_defs(ctx, &thing.tasks);
    let properties = thing.properties.iter().map(|p| property_def(ctx, p));
    let actions = thing.actions.iter().map(|a| action_def(ctx, a));
    quote! {
        #item

        const _: () = {
            #[allow(unused_imports)]
            use #private::{ViaResult as _, ViaValue as _};
            #(#name_checks)*
            #(#property_checks)*
            #(#gates)*
            #(#arg_checks)*
            #(#inputs)*

            #[automatically_derived]
            impl #private::ImplTable for #self_ty {
                const PARTS: #private::ImplParts<Self> = #private::ImplParts {
                    properties: &[#(#properties),*],
                    actions: &[#(#actions),*],
                    on_start: #on_start,
                    on_stop: #on_stop,
                    tasks: #tasks,
                };
            }
        };
    }
}

/// The compile-time check that the `#[thing]` struct has no property of the same name, on
/// the name (the two macros cannot see each other; the struct's table is a constant).
fn unique_check(
    ctx: &Ctx,
    self_ty: &syn::Type,
    name: &str,
    span: proc_macro2::Span,
    kind: &str,
) -> TokenStream {
    let private = ctx.private();
    let message = format!(
        "the name `{name}` is already used by a property of the `#[thing]` struct\n= help: affordance names must be unique within a Thing; rename this {kind} with `name = \"...\"`"
    );
    quote_spanned! {span=>
        const _: () = if #private::struct_declares::<#self_ty>(#name) {
            ::core::panic!(#message)
        };
    }
}

/// The `Returned` kind of a type, spanned on it: `(&&Returned::<R>::new()).kind()`.
fn kind_of(ctx: &Ctx, ty: &syn::Type) -> TokenStream {
    let private = ctx.private_at(ty.span());
    quote_spanned!(ty.span()=> (&&#private::Returned::<#ty>::new()).kind())
}

/// What a getter or action returns, as a type (`()` for nothing).
fn returned(returns: &Returns) -> syn::Type {
    match returns {
        Returns::Unit => syn::parse_quote!(()),
        Returns::Type(t) => (**t).clone(),
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

/// Constraints checked against the property's value type, each on its keyword.
fn property_checks(ctx: &Ctx, p: &MethodProperty) -> TokenStream {
    let private = ctx.private();
    let o = options(p);
    let check = |span: proc_macro2::Span, by_value: syn::Ident, by_kind: syn::Ident| match (
        &p.getter, &p.setter,
    ) {
        (Some(g), _) => {
            let kind = kind_of(ctx, &returned(&g.returns));
            quote_spanned!(span=> const _: fn() = || #private::#by_kind(#kind);)
        }
        (None, Some(s)) => {
            let ty = &s.ty;
            quote_spanned!(span=> const _: () = #private::#by_value::<#ty>();)
        }
        (None, None) => TokenStream::new(),
    };
    constraint_checks(&o.constraints, |span, needs| {
        check(span, needs.by_type(), needs.by_output())
    })
}

fn none() -> TokenStream {
    quote!(::core::option::Option::None)
}

/// `Some(hook)`: the method, run on a blocking thread if synchronous, its result a problem on
/// failure.
fn hook(ctx: &Ctx, h: &crate::internals::ast::Hook) -> TokenStream {
    let private = ctx.private();
    let ident = &h.ident;
    let returned = returned(&h.returns);
    let at = ctx.private_at(returned.span());
    let result =
        |call: TokenStream| quote_spanned!(returned.span()=> #at::HookReturn::into_result(#call));
    let run = if h.is_async {
        let body = result(quote!(thing.#ident().await));
        quote!(|thing| ::std::boxed::Box::pin(async move { #body }))
    } else {
        let body = result(quote!(thing.#ident()));
        quote!(|thing| #private::blocking(move || #body))
    };
    quote!(::core::option::Option::Some(#run))
}

/// Constraints of the arguments checked against their types, each on its keyword.
fn arg_checks(ctx: &Ctx, a: &Action) -> TokenStream {
    a.params
        .iter()
        .filter_map(|p| match p {
            Param::Value { ty, opts, .. } => Some((ty, opts)),
            Param::Context { .. } => None,
        })
        .map(|(ty, o)| type_checks(ctx, ty, &o.constraints))
        .collect()
}

/// The `ArgDef`s of an action's arguments that have metadata or constraints.
fn arg_defs(ctx: &Ctx, a: &Action) -> TokenStream {
    let private = ctx.private();
    let defs = a.params.iter().filter_map(|p| match p {
        Param::Value { ident, opts, .. } => {
            let name = ident.to_string();
            let name = name.strip_prefix("r#").unwrap_or(&name).to_owned();
            let (description, unit) = (text(&opts.description), text(&opts.constraints.unit));
            let constraints = constraints(ctx, &opts.constraints);
            Some(quote!(#private::ArgDef {
                name: #name,
                description: #description,
                unit: #unit,
                constraints: #constraints,
            }))
        }
        Param::Context { .. } => None,
    });
    quote!(&[#(#defs),*])
}

fn getter(ctx: &Ctx, g: &Accessor) -> TokenStream {
    let private = ctx.private();
    let ident = &g.ident;
    let ty = returned(&g.returns);
    let kind = kind_of(ctx, &ty);
    let json = |call: TokenStream| {
        let convert = quote_spanned!(ty.span()=> #private::output_json(#kind));
        quote!(#convert(#call))
    };
    if g.is_async {
        let body = json(quote!(thing.#ident().await));
        quote!(#private::Getter::Async(|thing| ::std::boxed::Box::pin(async move { #body })))
    } else {
        let body = json(quote!(thing.#ident()));
        quote!(#private::Getter::Blocking(|thing| #body))
    }
}

fn setter(ctx: &Ctx, s: &Accessor) -> TokenStream {
    let private = ctx.private();
    let (ident, ty) = (&s.ident, &s.ty);
    let returned = returned(&s.returns);
    let result = |call: TokenStream| quote_spanned!(returned.span()=> #private::SetterReturn::into_result(#call));
    let parse = quote_spanned!(ty.span()=> let value: #ty = #private::from_value(value)?;);
    if s.is_async {
        let body = result(quote!(thing.#ident(value).await));
        quote!(#private::Setter::Async(|thing, value| ::std::boxed::Box::pin(async move {
            #parse
            #body
        })))
    } else {
        let body = result(quote!(thing.#ident(value)));
        quote!(#private::Setter::Blocking(|thing, value| { #parse #body }))
    }
}

fn property_def(ctx: &Ctx, p: &MethodProperty) -> TokenStream {
    let private = ctx.private();
    let o = options(p);
    let name = &p.name;
    let accessor = p
        .getter
        .as_ref()
        .or(p.setter.as_ref())
        .expect("an accessor");
    let doc = doc_tokens(ctx, &accessor.doc, &o.title, &o.description);
    let read_only = o.read_only.is_some();
    let write_only = o.write_only.is_some();
    let constraints = constraints(ctx, &o.constraints);
    let unit = text(&o.constraints.unit);
    let gate = super::state::gate(ctx, &o.allowed_in);
    let schema = match &p.getter {
        Some(g) => {
            let ty = returned(&g.returns);
            let kind = kind_of(ctx, &ty);
            let at = ctx.private_at(ty.span());
            quote_spanned!(ty.span()=> |g| #at::output_schema(#kind, g))
        }
        None => {
            let ty = &accessor.ty;
            let at = ctx.private_at(ty.span());
            quote_spanned!(ty.span()=> #at::schema::<#ty>)
        }
    };
    let getter = p.getter.as_ref().map_or_else(none, |g| {
        let g = getter(ctx, g);
        quote!(::core::option::Option::Some(#g))
    });
    let (setter, check) = match (&p.setter, read_only) {
        (Some(s), false) => {
            let (ty, at) = (&s.ty, ctx.private_at(s.ty.span()));
            let check = quote_spanned!(ty.span()=> #at::check_value::<#ty>);
            let s = setter(ctx, s);
            (quote!(::core::option::Option::Some(#s)), check)
        }
        _ => (none(), quote!(#private::no_input_to_check)),
    };
    quote! {
        #private::PropertyDef {
            name: #name,
            doc: #doc,
            observable: false,
            read_only: #read_only,
            write_only: #write_only,
            unit: #unit,
            setting: false,
            constraints: #constraints,
            schema: #schema,
            getter: #getter,
            setter: #setter,
            check_value: #check,
            state: false,
            allowed_in: #gate,
            ranges: #private::Ranges::NONE,
        }
    }
}

fn input_ident(a: &Action) -> syn::Ident {
    format_ident!("__labthings_input_{}", a.ident)
}

fn value_params(a: &Action) -> impl Iterator<Item = (&syn::Ident, &syn::Type)> {
    a.params.iter().filter_map(|p| match p {
        Param::Value { ident, ty, .. } => Some((ident, &**ty)),
        Param::Context { .. } => None,
    })
}

fn input_struct(ctx: &Ctx, a: &Action) -> TokenStream {
    if value_params(a).next().is_none() {
        return TokenStream::new();
    }
    let private = ctx.private();
    let serde_path = quote!(#private::serde).to_string();
    let schemars_path = quote!(#private::schemars).to_string();
    let ident = input_ident(a);
    let fields = value_params(a).map(|(name, ty)| quote!(#name: #ty));
    quote! {
        #[derive(#private::serde::Deserialize, #private::schemars::JsonSchema)]
        #[serde(crate = #serde_path, deny_unknown_fields)]
        #[schemars(crate = #schemars_path)]
        #[allow(non_camel_case_types)]
        struct #ident { #(#fields),* }
    }
}

/// The impl block, each action method opening a call guard first: called from inside an
/// invocation (through a slot, or by another action), it is recorded for that invocation's
/// provenance.
fn with_call_guards(ctx: &Ctx, thing: &ThingImpl) -> syn::ItemImpl {
    let private = ctx.private();
    let mut item = thing.item.clone();
    for method in &mut item.items {
        let syn::ImplItem::Fn(f) = method else {
            continue;
        };
        let Some(action) = thing.actions.iter().find(|a| a.ident == f.sig.ident) else {
            continue;
        };
        let name = &action.name;
        let guard = Ident::new("__labthings_call", proc_macro2::Span::mixed_site());
        let open: syn::Stmt =
            syn::parse_quote!(let #guard = #private::CallGuard::enter(&*self, #name););
        f.block.stmts.insert(0, open);
    }
    item
}

fn action_def(ctx: &Ctx, a: &Action) -> TokenStream {
    let private = ctx.private();
    let name = &a.name;
    let doc = doc_tokens(ctx, &a.doc, &a.opts.title, &a.opts.description);
    let safe = a.opts.safe.is_some();
    let idempotent = a.opts.idempotent.is_some();
    let has_input = value_params(a).next().is_some();
    let input_ty = input_ident(a);
    let input_schema = if has_input {
        quote!(::core::option::Option::Some(#private::input_schema::<#input_ty>))
    } else {
        none()
    };
    let check_input = if has_input {
        quote!(#private::check_input::<#input_ty>)
    } else {
        quote!(#private::no_input_to_check)
    };
    let output_ty = returned(&a.returns);
    let kind = kind_of(ctx, &output_ty);
    let at = ctx.private_at(output_ty.span());
    let output_schema = quote_spanned!(output_ty.span()=> |g| #at::output_schema(#kind, g));
    let takes_context = a.params.iter().any(|p| matches!(p, Param::Context { .. }));
    let blocking = !a.is_async;
    let exclusive = match &a.opts.exclusive {
        Some(opt) => {
            let variant = Ident::new(opt.policy.variant(), opt.keyword.span());
            quote!(::core::option::Option::Some(#private::Exclusive::#variant))
        }
        None => quote!(::core::option::Option::None),
    };
    let arg_defs = arg_defs(ctx, a);
    let invoke = action_invoke(ctx, a, &output_ty);
    let gate = super::state::gate(ctx, &a.opts.allowed_in);
    quote! {
        #private::ActionDef {
            name: #name,
            doc: #doc,
            safe: #safe,
            idempotent: #idempotent,
            takes_context: #takes_context,
            blocking: #blocking,
            exclusive: #exclusive,
            args: #arg_defs,
            input: #input_schema,
            check_input: #check_input,
            output: #output_schema,
            invoke: #invoke,
            allowed_in: #gate,
        }
    }
}

/// The `invoke` of an action: its input destructured, the method called (on a blocking
/// thread if synchronous), its output converted to JSON.
fn action_invoke(ctx: &Ctx, a: &Action, output_ty: &syn::Type) -> TokenStream {
    let private = ctx.private();
    let input_ty = input_ident(a);
    let kind = kind_of(ctx, output_ty);
    let destructure = if value_params(a).next().is_some() {
        let names = value_params(a).map(|(n, _)| n);
        quote!(let #input_ty { #(#names),* } = #private::from_value(input)?;)
    } else {
        quote!(let _ = input;)
    };
    // The context goes through a trait implemented by `ActionContext` only, spanned on the
    // type the user wrote: any other type is one error there, and nothing else.
    let args = a.params.iter().map(|p| match p {
        Param::Value { ident, .. } => quote!(#ident),
        Param::Context { by_ref, ty } => {
            let at = ctx.private_at(ty.span());
            let method = if *by_ref {
                quote!(borrowed)
            } else {
                quote!(owned)
            };
            let context = quote!(ctx);
            quote_spanned!(ty.span()=> <#ty as #at::IsActionContext>::#method(&#context))
        }
    });
    let method = &a.ident;
    let call = if a.is_async {
        quote!(thing.#method(#(#args),*).await)
    } else {
        quote!(thing.#method(#(#args),*))
    };
    let convert = quote_spanned!(output_ty.span()=> #private::output_json(#kind));
    let json = quote!(#convert(#call));
    if a.is_async {
        quote!(|thing, input, ctx| ::std::boxed::Box::pin(async move {
            let _ = &ctx;
            #destructure
            #json
        }))
    } else {
        quote!(|thing, input, ctx| #private::blocking(move || {
            let _ = &ctx;
            #destructure
            #json
        }))
    }
}
