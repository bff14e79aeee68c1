//! The values options take: flags, numbers, lengths and strings.

use proc_macro2::TokenStream;
use quote::quote;
use syn::meta::ParseNestedMeta;
use syn::{Expr, ExprLit, ExprUnary, Ident, Lit, LitInt, LitStr, UnOp};

use crate::internals::ctx::Ctx;

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

impl NumberLit {
    /// Its value as an `f64`.
    pub(crate) fn as_f64(self) -> f64 {
        match self {
            Self::Int(v) => v as f64,
            Self::Float(v) => v,
        }
    }
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

/// `keyword = "…"`.
pub(super) fn text(meta: &ParseNestedMeta<'_>, keyword: &Ident) -> syn::Result<Text> {
    Ok(Text {
        keyword: keyword.clone(),
        value: meta.value()?.parse()?,
    })
}

/// `keyword = 10`, `keyword = -2.5`.
pub(super) fn bound(meta: &ParseNestedMeta<'_>, keyword: &Ident) -> syn::Result<Bound> {
    let expr: Expr = meta.value()?.parse()?;
    Ok(Bound {
        keyword: keyword.clone(),
        value: number(&expr, keyword)?,
    })
}

/// A number literal, possibly negative: `10`, `-2.5`.
pub(super) fn number(expr: &Expr, keyword: &Ident) -> syn::Result<NumberLit> {
    let (negative, lit) = match expr {
        Expr::Lit(ExprLit { lit, .. }) => (false, lit),
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr,
            ..
        }) => match &**expr {
            Expr::Lit(ExprLit { lit, .. }) => (true, lit),
            _ => return Err(not_a_number(expr, keyword)),
        },
        _ => return Err(not_a_number(expr, keyword)),
    };
    let sign = if negative { "-" } else { "" };
    Ok(match lit {
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
        _ => return Err(not_a_number(expr, keyword)),
    })
}

/// The error of a bound that is not a number literal.
fn not_a_number(expr: &Expr, keyword: &Ident) -> syn::Error {
    syn::Error::new_spanned(
        expr,
        format_args!("`{keyword}` takes a number literal, e.g. `{keyword} = 10`"),
    )
}

/// `keyword = 64`.
pub(super) fn length(meta: &ParseNestedMeta<'_>, keyword: &Ident) -> syn::Result<Length> {
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

/// What another invocation of an exclusive action does while the Thing is held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Policy {
    Reject,
    Queue,
    Preempt,
}

impl Policy {
    /// The policies, by the names `exclusive = "…"` takes.
    const NAMES: [(&str, Self); 3] = [
        ("reject", Self::Reject),
        ("queue", Self::Queue),
        ("preempt", Self::Preempt),
    ];

    /// The name of the runtime's `Exclusive` variant.
    pub(crate) fn variant(self) -> &'static str {
        match self {
            Self::Reject => "Reject",
            Self::Queue => "Queue",
            Self::Preempt => "Preempt",
        }
    }
}

/// `exclusive` (refuse) or `exclusive = "reject" | "queue" | "preempt"`.
#[derive(Clone)]
pub(crate) struct ExclusiveOpt {
    pub(crate) keyword: Ident,
    pub(crate) policy: Policy,
}

/// `exclusive`, `exclusive = "queue"`.
pub(super) fn exclusive(meta: &ParseNestedMeta<'_>, keyword: &Ident) -> syn::Result<ExclusiveOpt> {
    if meta.input.peek(syn::token::Paren) {
        // `exclusive(queue)`: read it whole (nothing cascades), and say how to write it.
        let content;
        syn::parenthesized!(content in meta.input);
        let written: TokenStream = content.parse()?;
        return Err(syn::Error::new_spanned(
            keyword,
            format!("the exclusive policy is a string\n= help: write `exclusive = \"{written}\"`"),
        ));
    }
    if !meta.input.peek(syn::Token![=]) {
        return Ok(ExclusiveOpt {
            keyword: flag(meta, keyword)?,
            policy: Policy::Reject,
        });
    }
    let value: LitStr = meta.value()?.parse()?;
    let name = value.value();
    let Some(&(_, policy)) = Policy::NAMES.iter().find(|(n, _)| *n == name) else {
        let names = Policy::NAMES.map(|(n, _)| n);
        let near = super::walk::closest(&name, &names)
            .map(|n| format!("did you mean \"{n}\"? "))
            .unwrap_or_default();
        return Err(syn::Error::new_spanned(
            &value,
            format!(
                "unknown exclusive policy \"{name}\"\n= help: {near}`exclusive` (or `exclusive = \"reject\"`) refuses another invocation while one runs, `exclusive = \"queue\"` makes it wait its turn, `exclusive = \"preempt\"` cancels the one that runs"
            ),
        ));
    };
    Ok(ExclusiveOpt {
        keyword: keyword.clone(),
        policy,
    })
}

/// A bare `keyword`.
pub(super) fn flag(meta: &ParseNestedMeta<'_>, keyword: &Ident) -> syn::Result<Ident> {
    if meta.input.peek(syn::Token![=]) || meta.input.peek(syn::token::Paren) {
        return Err(meta.error(format_args!("`{keyword}` takes no value")));
    }
    Ok(keyword.clone())
}

/// `allowed_in(Idle, Ready)`: the states in which an action may run or a property be
/// written, each a variant of the Thing's state enum.
#[derive(Clone)]
pub(crate) struct AllowedIn {
    pub(crate) keyword: Ident,
    pub(crate) states: Vec<Ident>,
}

/// `allowed_in(Idle, Ready)`.
pub(super) fn allowed_in(meta: &ParseNestedMeta<'_>, keyword: &Ident) -> syn::Result<AllowedIn> {
    let usage = format!(
        "`{keyword}` takes the states, as variants of the Thing's state enum, e.g. `{keyword}(Idle, Ready)`"
    );
    if !meta.input.peek(syn::token::Paren) {
        return Err(syn::Error::new_spanned(keyword, usage));
    }
    let content;
    syn::parenthesized!(content in meta.input);
    let states = syn::punctuated::Punctuated::<Ident, syn::Token![,]>::parse_terminated(&content)
        .map_err(|e| syn::Error::new(e.span(), &usage))?;
    if states.is_empty() {
        return Err(syn::Error::new_spanned(
            keyword,
            format!("`{keyword}` names no state: nothing could ever be allowed\n= help: {usage}"),
        ));
    }
    let mut seen: Vec<Ident> = Vec::new();
    for state in states {
        if seen.contains(&state) {
            return Err(syn::Error::new_spanned(
                &state,
                format!("the state `{state}` is named twice in `{keyword}`"),
            ));
        }
        seen.push(state);
    }
    Ok(AllowedIn {
        keyword: keyword.clone(),
        states: seen,
    })
}
