//! `#[thing]` on an impl block: its property accessors, actions and hooks.

use proc_macro2::Span;
use syn::{Attribute, ImplItem, ImplItemFn, ItemImpl, Pat, Type};

use super::signature::{
    check_not_generic, check_receiver, context_type, returns, typed_params, typed_params_mut,
    ungroup,
};
use super::{
    Accessor, Action, ActionOpts, ArgOpts, Hook, MethodProperty, Param, PropertyOpts, Returns,
    Task, ThingImpl, ThingOpts, single, take_attrs, unraw,
};
use crate::internals::doc::doc_expr;
use crate::internals::error::Errors;

impl ThingImpl {
    pub(crate) fn from_syn(errors: &Errors, mut item: ItemImpl, opts: &ThingOpts) -> Self {
        if let Some(t) = opts.title.as_ref().or(opts.description.as_ref()) {
            errors.spanned(
                &t.keyword,
                "`title` and `description` belong on the `#[thing]` struct, not the impl block",
            );
        }
        if let Some((_, path, _)) = &item.trait_ {
            errors.spanned(
                path,
                "`#[thing]` goes on an inherent impl block (`impl MyThing { .. }`), not a trait impl",
            );
        }
        if !item.generics.params.is_empty() {
            errors.spanned(&item.generics, "a `#[thing]` impl block cannot be generic");
        }
        let mut properties: Vec<MethodProperty> = Vec::new();
        let mut actions = Vec::new();
        let (mut on_start, mut on_stop) = (None, None);
        let mut tasks = Vec::new();
        for impl_item in &mut item.items {
            let ImplItem::Fn(method) = impl_item else {
                continue;
            };
            for (name, slot) in [("on_start", &mut on_start), ("on_stop", &mut on_stop)] {
                if let Some(attr) = single(errors, take_attrs(&mut method.attrs, name))
                    && let Some(hook) = hook(errors, method, &attr, name)
                {
                    if slot.is_some() {
                        errors.spanned(&attr, format_args!("a Thing has one `#[{name}]` method"));
                    }
                    *slot = Some(hook);
                }
            }
            if let Some(attr) = single(errors, take_attrs(&mut method.attrs, "task"))
                && let Some(task) = task(errors, method, &attr)
            {
                tasks.push(task);
            }
            let property = single(errors, take_attrs(&mut method.attrs, "property"));
            let action_attr = single(errors, take_attrs(&mut method.attrs, "action"));
            match (property, action_attr) {
                (Some(p), Some(a)) => {
                    errors.spanned(
                        &a,
                        "a method cannot be both a `#[property]` and an `#[action]`",
                    );
                    let _ = p;
                }
                (Some(attr), None) => {
                    let opts = PropertyOpts::parse(errors, &attr);
                    if let Some((name, span, accessor, is_setter)) = accessor(errors, method, opts)
                    {
                        add_accessor(errors, &mut properties, name, span, accessor, is_setter);
                    }
                }
                (None, Some(attr)) => {
                    let opts = ActionOpts::parse(errors, &attr);
                    if let Some(a) = action(errors, method, opts) {
                        actions.push(a);
                    }
                }
                (None, None) => {}
            }
        }
        Self {
            item,
            properties,
            actions,
            on_start,
            on_stop,
            tasks,
        }
    }
}

/// A `#[task]` method.
fn task(errors: &Errors, method: &ImplItemFn, attr: &Attribute) -> Option<Task> {
    if !matches!(attr.meta, syn::Meta::Path(_)) {
        errors.spanned(
            attr,
            "`#[task]` takes no options: the task is named after its method",
        );
    }
    check_not_generic(errors, method, "#[task]");
    let receiver_ok = check_receiver(errors, method, "#[task]");
    let params = typed_params(method);
    let context = match params.as_slice() {
        [] => None,
        [param] => match ungroup(&param.ty) {
            Type::Reference(r) if r.mutability.is_none() => Some(true),
            _ => Some(false),
        },
        _ => {
            errors.spanned(
                &method.sig.inputs,
                "a `#[task]` method takes `&self` and, optionally, its `&TaskContext`\n= help: e.g. `async fn poll(&self, ctx: &TaskContext)`; a task reads what it needs from `self`",
            );
            return None;
        }
    };
    receiver_ok.then(|| Task {
        ident: method.sig.ident.clone(),
        is_async: method.sig.asyncness.is_some(),
        context,
        returns: returns(&method.sig.output),
    })
}

/// A start or stop hook method.
fn hook(errors: &Errors, method: &ImplItemFn, attr: &Attribute, name: &str) -> Option<Hook> {
    if !matches!(attr.meta, syn::Meta::Path(_)) {
        errors.spanned(attr, format_args!("`#[{name}]` takes no options"));
    }
    check_not_generic(errors, method, name);
    let receiver_ok = check_receiver(errors, method, name);
    if !typed_params(method).is_empty() {
        errors.spanned(
            &method.sig.inputs,
            format_args!("a `#[{name}]` method takes only `&self`"),
        );
        return None;
    }
    receiver_ok.then(|| Hook {
        ident: method.sig.ident.clone(),
        is_async: method.sig.asyncness.is_some(),
        returns: returns(&method.sig.output),
    })
}

/// A getter or setter: `(property name, its span, the accessor, whether a setter)`.
fn accessor(
    errors: &Errors,
    method: &ImplItemFn,
    opts: PropertyOpts,
) -> Option<(String, Span, Accessor, bool)> {
    let is_setter = opts.setter.is_some();
    check_not_generic(errors, method, "#[property]");
    let receiver_ok = check_receiver(errors, method, "#[property]");
    let params = typed_params(method);
    let ident = method.sig.ident.clone();
    let returns = returns(&method.sig.output);
    let ty = if is_setter {
        if params.len() != 1 {
            errors.spanned(
                &method.sig.inputs,
                "a `#[property(setter)]` method takes `&self` and the new value\n= help: e.g. `fn set_label(&self, value: String)`",
            );
            return None;
        }
        ungroup(&params[0].ty).clone()
    } else {
        if !params.is_empty() {
            errors.spanned(
                &method.sig.inputs,
                "a `#[property]` getter takes only `&self`\n= help: to make the property writable, add a `#[property(setter)] fn set_<name>(&self, value: T)` method",
            );
            return None;
        }
        match &returns {
            Returns::Unit => {
                errors.spanned(
                    &method.sig.ident,
                    "a `#[property]` getter must return the property's value",
                );
                return None;
            }
            Returns::Type(t) => (**t).clone(),
        }
    };
    if !receiver_ok {
        return None;
    }
    let (name, span) = match &opts.name {
        Some(n) => (n.value.value(), n.value.span()),
        None if is_setter => match unraw(&ident).strip_prefix("set_") {
            Some(stem) if !stem.is_empty() => (stem.to_owned(), ident.span()),
            _ => {
                errors.spanned(
                    &ident,
                    "the name of a `#[property(setter)]` method must start with `set_`\n= help: or give the property's name: `#[property(setter, name = \"...\")]`",
                );
                return None;
            }
        },
        None => (unraw(&ident), ident.span()),
    };
    let accessor = Accessor {
        ident,
        is_async: method.sig.asyncness.is_some(),
        returns,
        ty,
        opts,
        doc: doc_expr(&method.attrs),
    };
    Some((name, span, accessor, is_setter))
}

/// Add a getter or setter to its property, reporting a second one.
fn add_accessor(
    errors: &Errors,
    properties: &mut Vec<MethodProperty>,
    name: String,
    span: Span,
    accessor: Accessor,
    is_setter: bool,
) {
    let existing = properties.iter_mut().find(|p| p.name == name);
    let Some(property) = existing else {
        let (getter, setter) = if is_setter {
            (None, Some(accessor))
        } else {
            (Some(accessor), None)
        };
        properties.push(MethodProperty {
            name,
            name_span: span,
            getter,
            setter,
        });
        return;
    };
    let slot = if is_setter {
        &mut property.setter
    } else {
        &mut property.getter
    };
    if slot.is_some() {
        let what = if is_setter { "setter" } else { "getter" };
        errors.at(span, format_args!("property `{name}` already has a {what}"));
    } else {
        *slot = Some(accessor);
    }
}

/// An `#[action]` method, its `#[arg]` attributes stripped.
fn action(errors: &Errors, method: &mut ImplItemFn, opts: ActionOpts) -> Option<Action> {
    check_not_generic(errors, method, "#[action]");
    let receiver_ok = check_receiver(errors, method, "#[action]");
    let mut params = Vec::new();
    let mut ok = receiver_ok;
    for p in typed_params_mut(method) {
        let arg = single(errors, take_attrs(&mut p.attrs, "arg"));
        if let Some((by_ref, ty)) = context_type(&p.ty) {
            if let Some(arg) = arg {
                errors.spanned(arg, "`#[arg]` describes an input argument, not the context");
            }
            params.push(Param::Context { by_ref, ty });
            continue;
        }
        let opts = arg.map(|a| ArgOpts::parse(errors, &a)).unwrap_or_default();
        match &*p.pat {
            Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                params.push(Param::Value {
                    ident: pi.ident.clone(),
                    ty: Box::new(ungroup(&p.ty).clone()),
                    opts: Box::new(opts),
                });
            }
            other => {
                errors.spanned(
                    other,
                    "`#[action]` arguments must be plain names: they become the fields of the action's input object",
                );
                ok = false;
            }
        }
    }
    if !ok {
        return None;
    }
    let ident = method.sig.ident.clone();
    let (name, name_span) = match &opts.name {
        Some(n) => (n.value.value(), n.value.span()),
        None => (unraw(&ident), ident.span()),
    };
    Some(Action {
        doc: doc_expr(&method.attrs),
        is_async: method.sig.asyncness.is_some(),
        returns: returns(&method.sig.output),
        ident,
        name,
        name_span,
        opts,
        params,
    })
}
