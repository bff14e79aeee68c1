//! The `TaskDef`s of `#[task]` methods: each run with the Thing and its context, on a
//! blocking thread if synchronous, its `Err` (or panic) its failure.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::internals::ast::{Returns, Task};
use crate::internals::ctx::Ctx;

/// `&[TaskDef { .. }, ..]`.
pub(crate) fn task_defs(ctx: &Ctx, tasks: &[Task]) -> TokenStream {
    let defs = tasks.iter().map(|task| task_def(ctx, task));
    quote!(&[#(#defs),*])
}

fn task_def(ctx: &Ctx, task: &Task) -> TokenStream {
    let private = ctx.private();
    let ident = &task.ident;
    let name = ident.to_string();
    let name = name.strip_prefix("r#").unwrap_or(&name).to_owned();
    let returned: syn::Type = match &task.returns {
        Returns::Unit => syn::parse_quote!(()),
        Returns::Type(t) => (**t).clone(),
    };
    let at = ctx.private_at(returned.span());
    let args = match task.context {
        None => quote!(),
        Some(true) => quote!(&ctx),
        Some(false) => quote!(ctx),
    };
    let result =
        |call: TokenStream| quote_spanned!(returned.span()=> #at::HookReturn::into_result(#call));
    let run = if task.is_async {
        let body = result(quote!(thing.#ident(#args).await));
        quote!(|thing, ctx| ::std::boxed::Box::pin(async move { let _ = &ctx; #body }))
    } else {
        let body = result(quote!(thing.#ident(#args)));
        quote!(|thing, ctx| #private::blocking(move || { let _ = &ctx; #body }))
    };
    quote!(#private::TaskDef { name: #name, run: #run })
}
