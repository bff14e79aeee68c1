//! The rules on the signatures of property, action and hook methods.

use syn::{FnArg, ImplItemFn, ReturnType, Type};

use super::Returns;
use crate::internals::error::Errors;

/// Check the receiver is `&self`; `what` is `#[action]` or `#[property]`.
pub(super) fn check_receiver(errors: &Errors, method: &ImplItemFn, what: &str) -> bool {
    match method.sig.receiver() {
        Some(r) if r.reference.is_some() && r.mutability.is_none() && r.colon_token.is_none() => {
            true
        }
        Some(r) if r.mutability.is_some() => {
            errors.spanned(
                r,
                format_args!(
                    "`{what}` methods must take `&self`, not `&mut self`\n= help: a Thing is shared by every client; keep mutable state in `#[property]` fields or behind a lock"
                ),
            );
            false
        }
        Some(r) => {
            errors.spanned(r, format_args!("`{what}` methods must take `&self`"));
            false
        }
        None => {
            errors.spanned(
                &method.sig.ident,
                format_args!(
                    "`{what}` methods must take `&self`\n= help: add `&self` as the first parameter"
                ),
            );
            false
        }
    }
}

/// Report generics on a method; `what` is the attribute.
pub(super) fn check_not_generic(errors: &Errors, method: &ImplItemFn, what: &str) {
    if !method.sig.generics.params.is_empty() {
        errors.spanned(
            &method.sig.generics,
            format_args!("`{what}` methods cannot be generic"),
        );
    }
}

/// What a method returns.
pub(super) fn returns(output: &ReturnType) -> Returns {
    let ReturnType::Type(_, ty) = output else {
        return Returns::Unit;
    };
    match ungroup(ty) {
        Type::Tuple(t) if t.elems.is_empty() => Returns::Unit,
        other => Returns::Type(Box::new(other.clone())),
    }
}

/// A type without the invisible groups of `macro_rules!` expansions and without parentheses
/// (as PyO3 does): `(T)` is `T`.
pub(crate) fn ungroup(ty: &Type) -> &Type {
    match ty {
        Type::Group(g) => ungroup(&g.elem),
        Type::Paren(p) => ungroup(&p.elem),
        other => other,
    }
}

/// The typed, non-receiver parameters of a method, to strip their attributes.
pub(super) fn typed_params_mut(method: &mut ImplItemFn) -> Vec<&mut syn::PatType> {
    method
        .sig
        .inputs
        .iter_mut()
        .filter_map(|a| match a {
            FnArg::Typed(t) => Some(t),
            FnArg::Receiver(_) => None,
        })
        .collect()
}

/// The typed, non-receiver parameters of a method.
pub(super) fn typed_params(method: &ImplItemFn) -> Vec<&syn::PatType> {
    method
        .sig
        .inputs
        .iter()
        .filter_map(|a| match a {
            FnArg::Typed(t) => Some(t),
            FnArg::Receiver(_) => None,
        })
        .collect()
}

/// The context parameter of an action, if `ty` is one: `(by_ref, type)`.
///
/// The rule does not trust a bare last path segment: a shared reference `&T` is the context
/// (action arguments are owned values, deserialised from the input), and so is a by-value
/// `ActionContext` or `labthings::ActionContext`; a path such as `units::ActionContext` is an
/// ordinary argument. The generated code checks that the type is `labthings::ActionContext`,
/// with a message that says what to write otherwise.
pub(super) fn context_type(ty: &Type) -> Option<(bool, Box<Type>)> {
    match ungroup(ty) {
        Type::Reference(r) if r.mutability.is_none() => Some((true, r.elem.clone())),
        Type::Path(p) if p.qself.is_none() && names_the_context(&p.path) => {
            Some((false, Box::new(ungroup(ty).clone())))
        }
        _ => None,
    }
}

/// `ActionContext` or `labthings::ActionContext`.
fn names_the_context(path: &syn::Path) -> bool {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    matches!(
        segments.iter().map(String::as_str).collect::<Vec<_>>()[..],
        ["ActionContext"] | ["labthings", "ActionContext"]
    )
}
