//! Parsing of the options of `#[thing(..)]`, `#[property(..)]`, `#[action(..)]`,
//! `#[arg(..)]` and `#[event(..)]`.
//!
//! Parsers never stop at the first mistake: an unknown, malformed or repeated option is
//! recorded in [`Errors`] and skipped, so that every mistake is reported at once.

use proc_macro2::TokenStream;
use quote::quote;
use syn::meta::ParseNestedMeta;
use syn::{Attribute, Expr, ExprLit, ExprUnary, Ident, Lit, LitInt, LitStr, UnOp};

use crate::ctx::Ctx;
use crate::error::Errors;

/// A flag option (`observable`), remembering where it was written.
pub(crate) type Flag = Option<Ident>;

/// A numeric literal, kept an integer when written as one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum NumberLit {
    Int(i64),
    Float(f64),
}

/// A numeric bound: its keyword and its value.
#[derive(Clone)]
pub(crate) struct Bound {
    pub(crate) keyword: Ident,
    pub(crate) value: NumberLit,
}

impl Bound {
    /// The tokens of a `labthings::__private::Number`.
    pub(crate) fn tokens(&self, ctx: &Ctx) -> TokenStream {
        let private = ctx.private();
        match self.value {
            NumberLit::Int(v) => quote!(#private::Number::Int(#v)),
            NumberLit::Float(v) => quote!(#private::Number::Float(#v)),
        }
    }
}

/// A length bound.
#[derive(Clone)]
pub(crate) struct Length {
    pub(crate) keyword: Ident,
    pub(crate) value: LitInt,
}

/// A string-valued option.
#[derive(Clone)]
pub(crate) struct Text {
    pub(crate) keyword: Ident,
    pub(crate) value: LitStr,
}

/// Options of `#[property(..)]`.
#[derive(Default, Clone)]
pub(crate) struct PropertyOpts {
    pub(crate) observable: Flag,
    pub(crate) read_only: Flag,
    pub(crate) write_only: Flag,
    pub(crate) setter: Flag,
    pub(crate) setting: Flag,
    pub(crate) name: Option<Text>,
    pub(crate) title: Option<Text>,
    pub(crate) description: Option<Text>,
    pub(crate) unit: Option<Text>,
    pub(crate) minimum: Option<Bound>,
    pub(crate) maximum: Option<Bound>,
    pub(crate) exclusive_minimum: Option<Bound>,
    pub(crate) exclusive_maximum: Option<Bound>,
    pub(crate) multiple_of: Option<Bound>,
    pub(crate) min_length: Option<Length>,
    pub(crate) max_length: Option<Length>,
    pub(crate) pattern: Option<Text>,
}

const PROPERTY_OPTIONS: &str = "`observable`, `read_only`, `write_only`, `setter`, `setting`, `name`, `title`, `description`, `unit`, `minimum`, `maximum`, `exclusive_minimum`, `exclusive_maximum`, `multiple_of`, `min_length`, `max_length`, `pattern`";

/// Options of `#[action(..)]`.
#[derive(Default, Clone)]
pub(crate) struct ActionOpts {
    pub(crate) name: Option<Text>,
    pub(crate) title: Option<Text>,
    pub(crate) description: Option<Text>,
    pub(crate) safe: Flag,
    pub(crate) idempotent: Flag,
    pub(crate) exclusive: Flag,
}

const ACTION_OPTIONS: &str = "`name`, `title`, `description`, `safe`, `idempotent`, `exclusive`";

/// Options of `#[arg(..)]` on an action's argument: its metadata and constraints.
#[derive(Default, Clone)]
pub(crate) struct ArgOpts {
    pub(crate) description: Option<Text>,
    pub(crate) unit: Option<Text>,
    pub(crate) minimum: Option<Bound>,
    pub(crate) maximum: Option<Bound>,
    pub(crate) exclusive_minimum: Option<Bound>,
    pub(crate) exclusive_maximum: Option<Bound>,
    pub(crate) multiple_of: Option<Bound>,
    pub(crate) min_length: Option<Length>,
    pub(crate) max_length: Option<Length>,
    pub(crate) pattern: Option<Text>,
}

const ARG_OPTIONS: &str = "`description`, `unit`, `minimum`, `maximum`, `exclusive_minimum`, `exclusive_maximum`, `multiple_of`, `min_length`, `max_length`, `pattern`";

/// Options of `#[event(..)]`.
#[derive(Default, Clone)]
pub(crate) struct EventOpts {
    pub(crate) name: Option<Text>,
    pub(crate) title: Option<Text>,
    pub(crate) description: Option<Text>,
}

const EVENT_OPTIONS: &str = "`name`, `title`, `description`";

/// Options of `#[thing(..)]`.
#[derive(Default, Clone)]
pub(crate) struct ThingOpts {
    pub(crate) title: Option<Text>,
    pub(crate) description: Option<Text>,
    /// `crate = "path"`: where the runtime crate is, for crates that re-export it.
    pub(crate) krate: Option<syn::Path>,
    /// `no_client`: generate no typed client for this item.
    pub(crate) no_client: Option<Ident>,
}

const THING_OPTIONS: &str = "`title`, `description`, `crate`, `no_client`";

/// Store `value` in `slot`, or report that the option was given twice.
fn set_once<T>(errors: &Errors, slot: &mut Option<T>, keyword: &Ident, value: T) {
    if slot.is_some() {
        errors.spanned(keyword, format_args!("`{keyword}` is given more than once"));
    } else {
        *slot = Some(value);
    }
}

fn text(meta: &ParseNestedMeta<'_>, keyword: &Ident) -> syn::Result<Text> {
    Ok(Text {
        keyword: keyword.clone(),
        value: meta.value()?.parse()?,
    })
}

fn bound(meta: &ParseNestedMeta<'_>, keyword: &Ident) -> syn::Result<Bound> {
    let expr: Expr = meta.value()?.parse()?;
    let (negative, lit) = match &expr {
        Expr::Lit(ExprLit { lit, .. }) => (false, lit),
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr,
            ..
        }) => match &**expr {
            Expr::Lit(ExprLit { lit, .. }) => (true, lit),
            _ => return Err(not_a_number(expr, keyword)),
        },
        _ => return Err(not_a_number(&expr, keyword)),
    };
    let sign = if negative { "-" } else { "" };
    let value = match lit {
        Lit::Int(i) => NumberLit::Int(
            format!("{sign}{}", i.base10_digits())
                .parse()
                .map_err(|_| syn::Error::new_spanned(i, "the bound does not fit in an `i64`"))?,
        ),
        Lit::Float(f) => {
            let value: f64 = format!("{sign}{}", f.base10_digits())
                .parse()
                .map_err(|_| syn::Error::new_spanned(f, "invalid number"))?;
            // `1e999` parses as infinity, which no JSON Schema (nor literal) can hold.
            if !value.is_finite() {
                return Err(syn::Error::new_spanned(
                    f,
                    "the bound is too large for an `f64`: give a finite number",
                ));
            }
            NumberLit::Float(value)
        }
        _ => return Err(not_a_number(&expr, keyword)),
    };
    Ok(Bound {
        keyword: keyword.clone(),
        value,
    })
}

fn not_a_number(expr: &Expr, keyword: &Ident) -> syn::Error {
    syn::Error::new_spanned(
        expr,
        format_args!("`{keyword}` takes a number literal, e.g. `{keyword} = 10`"),
    )
}

fn length(meta: &ParseNestedMeta<'_>, keyword: &Ident) -> syn::Result<Length> {
    let value: LitInt = meta.value()?.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            format_args!("`{keyword}` takes a non-negative integer, e.g. `{keyword} = 64`"),
        )
    })?;
    value.base10_parse::<u64>()?;
    Ok(Length {
        keyword: keyword.clone(),
        value,
    })
}

/// Walk the options of `attr`, calling `each` with each option's keyword. Syntax errors are
/// recorded; a bare `#[name]` has no options.
fn walk(
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

fn unknown(meta: &ParseNestedMeta<'_>, keyword: &Ident, attr: &str, expected: &str) -> syn::Error {
    meta.error(format_args!(
        "unknown `#[{attr}]` option `{keyword}`\n= help: expected one of {expected}"
    ))
}

fn flag(meta: &ParseNestedMeta<'_>, keyword: &Ident) -> syn::Result<Ident> {
    if meta.input.peek(syn::Token![=]) || meta.input.peek(syn::token::Paren) {
        return Err(meta.error(format_args!("`{keyword}` takes no value")));
    }
    Ok(keyword.clone())
}

impl PropertyOpts {
    pub(crate) fn parse(errors: &Errors, attr: &Attribute) -> Self {
        let mut o = Self::default();
        walk(errors, attr, |meta, kw| {
            match kw.to_string().as_str() {
                "observable" => set_once(errors, &mut o.observable, kw, flag(meta, kw)?),
                "read_only" => set_once(errors, &mut o.read_only, kw, flag(meta, kw)?),
                "write_only" => set_once(errors, &mut o.write_only, kw, flag(meta, kw)?),
                "setter" => set_once(errors, &mut o.setter, kw, flag(meta, kw)?),
                "setting" => set_once(errors, &mut o.setting, kw, flag(meta, kw)?),
                "name" => set_once(errors, &mut o.name, kw, text(meta, kw)?),
                "title" => set_once(errors, &mut o.title, kw, text(meta, kw)?),
                "description" => set_once(errors, &mut o.description, kw, text(meta, kw)?),
                "unit" => set_once(errors, &mut o.unit, kw, text(meta, kw)?),
                "pattern" => set_once(errors, &mut o.pattern, kw, text(meta, kw)?),
                "minimum" => set_once(errors, &mut o.minimum, kw, bound(meta, kw)?),
                "maximum" => set_once(errors, &mut o.maximum, kw, bound(meta, kw)?),
                "exclusive_minimum" => {
                    set_once(errors, &mut o.exclusive_minimum, kw, bound(meta, kw)?)
                }
                "exclusive_maximum" => {
                    set_once(errors, &mut o.exclusive_maximum, kw, bound(meta, kw)?)
                }
                "multiple_of" => set_once(errors, &mut o.multiple_of, kw, bound(meta, kw)?),
                "min_length" => set_once(errors, &mut o.min_length, kw, length(meta, kw)?),
                "max_length" => set_once(errors, &mut o.max_length, kw, length(meta, kw)?),
                "readonly" | "readOnly" => {
                    return Err(meta.error(format_args!(
                        "unknown `#[property]` option `{kw}`\n= help: did you mean `read_only`?"
                    )));
                }
                _ => return Err(unknown(meta, kw, "property", PROPERTY_OPTIONS)),
            }
            Ok(())
        });
        o
    }

    /// The numeric bounds that were given.
    pub(crate) fn bounds(&self) -> impl Iterator<Item = &Bound> {
        [
            &self.minimum,
            &self.maximum,
            &self.exclusive_minimum,
            &self.exclusive_maximum,
            &self.multiple_of,
        ]
        .into_iter()
        .flatten()
    }

    /// The length bounds that were given.
    pub(crate) fn lengths(&self) -> impl Iterator<Item = &Length> {
        [&self.min_length, &self.max_length].into_iter().flatten()
    }
}

impl ActionOpts {
    pub(crate) fn parse(errors: &Errors, attr: &Attribute) -> Self {
        let mut o = Self::default();
        walk(errors, attr, |meta, kw| {
            match kw.to_string().as_str() {
                "name" => set_once(errors, &mut o.name, kw, text(meta, kw)?),
                "title" => set_once(errors, &mut o.title, kw, text(meta, kw)?),
                "description" => set_once(errors, &mut o.description, kw, text(meta, kw)?),
                "safe" => set_once(errors, &mut o.safe, kw, flag(meta, kw)?),
                "idempotent" => set_once(errors, &mut o.idempotent, kw, flag(meta, kw)?),
                "exclusive" => set_once(errors, &mut o.exclusive, kw, flag(meta, kw)?),
                _ => return Err(unknown(meta, kw, "action", ACTION_OPTIONS)),
            }
            Ok(())
        });
        o
    }
}

impl ArgOpts {
    pub(crate) fn parse(errors: &Errors, attr: &Attribute) -> Self {
        let mut o = Self::default();
        walk(errors, attr, |meta, kw| {
            match kw.to_string().as_str() {
                "description" => set_once(errors, &mut o.description, kw, text(meta, kw)?),
                "unit" => set_once(errors, &mut o.unit, kw, text(meta, kw)?),
                "pattern" => set_once(errors, &mut o.pattern, kw, text(meta, kw)?),
                "minimum" => set_once(errors, &mut o.minimum, kw, bound(meta, kw)?),
                "maximum" => set_once(errors, &mut o.maximum, kw, bound(meta, kw)?),
                "exclusive_minimum" => {
                    set_once(errors, &mut o.exclusive_minimum, kw, bound(meta, kw)?)
                }
                "exclusive_maximum" => {
                    set_once(errors, &mut o.exclusive_maximum, kw, bound(meta, kw)?)
                }
                "multiple_of" => set_once(errors, &mut o.multiple_of, kw, bound(meta, kw)?),
                "min_length" => set_once(errors, &mut o.min_length, kw, length(meta, kw)?),
                "max_length" => set_once(errors, &mut o.max_length, kw, length(meta, kw)?),
                _ => return Err(unknown(meta, kw, "arg", ARG_OPTIONS)),
            }
            Ok(())
        });
        o
    }

    /// The numeric bounds that were given.
    pub(crate) fn bounds(&self) -> impl Iterator<Item = &Bound> {
        [
            &self.minimum,
            &self.maximum,
            &self.exclusive_minimum,
            &self.exclusive_maximum,
            &self.multiple_of,
        ]
        .into_iter()
        .flatten()
    }

    /// The length bounds that were given.
    pub(crate) fn lengths(&self) -> impl Iterator<Item = &Length> {
        [&self.min_length, &self.max_length].into_iter().flatten()
    }
}

impl EventOpts {
    pub(crate) fn parse(errors: &Errors, attr: &Attribute) -> Self {
        let mut o = Self::default();
        walk(errors, attr, |meta, kw| {
            match kw.to_string().as_str() {
                "name" => set_once(errors, &mut o.name, kw, text(meta, kw)?),
                "title" => set_once(errors, &mut o.title, kw, text(meta, kw)?),
                "description" => set_once(errors, &mut o.description, kw, text(meta, kw)?),
                _ => return Err(unknown(meta, kw, "event", EVENT_OPTIONS)),
            }
            Ok(())
        });
        o
    }
}

impl ThingOpts {
    /// Parse the arguments of the `#[thing(..)]` attribute itself.
    pub(crate) fn parse(errors: &Errors, args: TokenStream) -> Self {
        let mut o = Self::default();
        if args.is_empty() {
            return o;
        }
        let attr: Attribute = syn::parse_quote!(#[thing(#args)]);
        walk(errors, &attr, |meta, kw| {
            match kw.to_string().as_str() {
                "title" => set_once(errors, &mut o.title, kw, text(meta, kw)?),
                "description" => set_once(errors, &mut o.description, kw, text(meta, kw)?),
                "no_client" => set_once(errors, &mut o.no_client, kw, flag(meta, kw)?),
                "crate" => {
                    let path = text(meta, kw)?.value.parse::<syn::Path>().map_err(|e| {
                        syn::Error::new(
                            e.span(),
                            "`crate` takes the path of the labthings crate, e.g. `crate = \"my_lab::labthings\"`",
                        )
                    })?;
                    set_once(errors, &mut o.krate, kw, path)
                }
                _ => return Err(unknown(meta, kw, "thing", THING_OPTIONS)),
            }
            Ok(())
        });
        o
    }
}

/// The tokens of a `labthings::__private::Doc` from a doc expression and overrides.
pub(crate) fn doc_tokens(
    ctx: &Ctx,
    doc: &TokenStream,
    title: &Option<Text>,
    description: &Option<Text>,
) -> TokenStream {
    let opt = |t: &Option<Text>| match t {
        Some(t) => {
            let v = &t.value;
            quote!(::core::option::Option::Some(#v))
        }
        None => quote!(::core::option::Option::None),
    };
    let (title, description) = (opt(title), opt(description));
    let private = ctx.private();
    quote!(#private::Doc { text: #doc, title: #title, description: #description })
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn parse_property(attr: Attribute) -> (PropertyOpts, Vec<String>) {
        let errors = Errors::new();
        let opts = PropertyOpts::parse(&errors, &attr);
        let messages = errors.messages();
        let _ = errors.finish();
        (opts, messages)
    }

    #[test]
    fn all_property_options_parse() {
        let (o, errors) = parse_property(parse_quote!(#[property(
            observable, read_only, minimum = -1, maximum = 2.5, multiple_of = 1,
            min_length = 1, max_length = 64, pattern = "^a", name = "n", title = "T"
        )]));
        assert!(errors.is_empty(), "{errors:?}");
        assert!(o.observable.is_some() && o.read_only.is_some() && o.write_only.is_none());
        assert_eq!(o.minimum.unwrap().value, NumberLit::Int(-1));
        assert_eq!(o.maximum.unwrap().value, NumberLit::Float(2.5));
        assert_eq!(o.max_length.unwrap().value.base10_digits(), "64");
        assert_eq!(o.name.unwrap().value.value(), "n");
    }

    #[test]
    fn every_mistake_is_reported_and_parsing_goes_on() {
        let (o, errors) = parse_property(parse_quote!(#[property(
            observable, bogus, observable, max_length = "x", readonly, minimum = a, maximum = 3
        )]));
        assert_eq!(errors.len(), 5, "{errors:?}");
        assert!(errors[0].starts_with("unknown `#[property]` option `bogus`"));
        assert_eq!(errors[1], "`observable` is given more than once");
        assert!(errors[2].starts_with("`max_length` takes a non-negative integer"));
        assert!(errors[3].contains("did you mean `read_only`?"));
        assert!(errors[4].starts_with("`minimum` takes a number literal"));
        assert!(
            o.maximum.is_some(),
            "options after mistakes are still parsed"
        );
    }

    #[test]
    fn an_infinite_bound_is_an_error_not_a_panic() {
        // Found by fuzzing: `1e999` parsed as infinity, and emitting it panicked.
        let (o, errors) =
            parse_property(parse_quote!(#[property(minimum = -9e888, maximum = 1e999)]));
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors.iter().all(|e| e.contains("too large for an `f64`")));
        assert!(o.minimum.is_none() && o.maximum.is_none());
    }

    #[test]
    fn bare_attribute_has_no_options() {
        let (o, errors) = parse_property(parse_quote!(#[property]));
        assert!(errors.is_empty() && o.observable.is_none());
    }

    #[test]
    fn action_options() {
        let errors = Errors::new();
        let o = ActionOpts::parse(
            &errors,
            &parse_quote!(#[action(safe, idempotent, name = "go", observable)]),
        );
        let messages = errors.messages();
        let _ = errors.finish();
        assert!(o.safe.is_some() && o.idempotent.is_some());
        assert_eq!(o.name.unwrap().value.value(), "go");
        assert_eq!(messages.len(), 1);
        assert!(messages[0].starts_with("unknown `#[action]` option `observable`"));
    }
}
