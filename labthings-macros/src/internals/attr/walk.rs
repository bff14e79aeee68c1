//! Walking an attribute's options, recording each mistake and going on.

use syn::meta::ParseNestedMeta;
use syn::{Attribute, Expr, Ident};

use crate::internals::error::Errors;

/// Store `value` in `slot`, or report that the option was given twice.
pub(super) fn set_once<T>(errors: &Errors, slot: &mut Option<T>, keyword: &Ident, value: T) {
    if slot.is_some() {
        errors.spanned(keyword, format_args!("`{keyword}` is given more than once"));
    } else {
        *slot = Some(value);
    }
}

/// Walk the options of `attr`, calling `each` with each option's keyword. Syntax errors are
/// recorded; a bare `#[name]` has no options.
pub(super) fn walk(
    errors: &Errors,
    attr: &Attribute,
    mut each: impl FnMut(&ParseNestedMeta<'_>, &Ident) -> syn::Result<()>,
) {
    if matches!(attr.meta, syn::Meta::Path(_)) {
        return;
    }
    let result = attr.parse_nested_meta(|meta| {
        let Some(keyword) = meta.path.get_ident().cloned() else {
            return Err(meta.error("expected an option name"));
        };
        if let Err(e) = each(&meta, &keyword) {
            errors.push(e);
            // Skip the rest of this option so that the next one is still parsed.
            if meta.input.peek(syn::Token![=]) {
                let _ = meta.value().and_then(|v| v.parse::<Expr>());
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        errors.push(e);
    }
}

/// The error of an option `#[attr]` does not take: the closest of `options` when one is near
/// (a misspelling), and all of them.
pub(super) fn unknown(
    meta: &ParseNestedMeta<'_>,
    keyword: &Ident,
    attr: &str,
    options: &[&str],
) -> syn::Error {
    let written = keyword.to_string();
    let expected = options
        .iter()
        .map(|o| format!("`{o}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match closest(&written, options) {
        Some(near) => meta.error(format_args!(
            "unknown `#[{attr}]` option `{keyword}`\n= help: did you mean `{near}`? The options are {expected}"
        )),
        None => meta.error(format_args!(
            "unknown `#[{attr}]` option `{keyword}`\n= help: expected one of {expected}"
        )),
    }
}

/// The option `written` is most likely a misspelling of, if any: the closest by
/// Damerau–Levenshtein distance (ignoring case and `_`), at most a third of its length away.
pub(super) fn closest<'a>(written: &str, options: &[&'a str]) -> Option<&'a str> {
    let fold = |s: &str| s.to_lowercase().replace('_', "");
    let folded = fold(written);
    options
        .iter()
        .map(|o| (strsim::damerau_levenshtein(&folded, &fold(o)), *o))
        .filter(|(distance, o)| *distance <= (o.len() / 3).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, o)| o)
}
