//! Parsing of the options of `#[thing(..)]`, `#[property(..)]`, `#[action(..)]`,
//! `#[arg(..)]` and `#[event(..)]`.
//!
//! Parsers never stop at the first mistake: an unknown, malformed or repeated option is
//! recorded in [`Errors`] and skipped, so that every mistake is reported at once. Each kind of
//! option lists its names once (`OPTIONS`), for its help text and its suggestions.

mod constraints;
mod range;
#[cfg(test)]
mod tests;
mod values;
mod walk;

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Attribute, Ident};

pub(crate) use constraints::Constraints;
pub(crate) use range::QualityRange;
use range::range;
#[cfg(test)]
use values::NumberLit;
pub(crate) use values::{AllowedIn, Bound, ExclusiveOpt, Flag, Length, Text};
use values::{allowed_in, exclusive, flag, text};
use walk::{set_once, unknown, walk};

use crate::internals::ctx::Ctx;
use crate::internals::error::Errors;

/// Options of `#[property(..)]`.
#[derive(Default, Clone)]
pub(crate) struct PropertyOpts {
    pub(crate) observable: Flag,
    pub(crate) read_only: Flag,
    pub(crate) write_only: Flag,
    pub(crate) setter: Flag,
    pub(crate) setting: Flag,
    /// `state`: the Thing's state (observable, read-only, its type an enum of states).
    pub(crate) state: Flag,
    /// `allowed_in(..)`: the states in which clients may write it.
    pub(crate) allowed_in: Option<AllowedIn>,
    /// `warning = a..=b`: outside it, the value's quality is `warning`.
    pub(crate) warning: Option<QualityRange>,
    /// `alarm = a..=b`: outside it, the value's quality is `alarm`.
    pub(crate) alarm: Option<QualityRange>,
    pub(crate) name: Option<Text>,
    pub(crate) title: Option<Text>,
    pub(crate) description: Option<Text>,
    pub(crate) constraints: Constraints,
}

/// Options of `#[action(..)]`.
#[derive(Default, Clone)]
pub(crate) struct ActionOpts {
    pub(crate) name: Option<Text>,
    pub(crate) title: Option<Text>,
    pub(crate) description: Option<Text>,
    pub(crate) safe: Flag,
    pub(crate) idempotent: Flag,
    pub(crate) exclusive: Option<ExclusiveOpt>,
    /// `allowed_in(..)`: the states in which it may be invoked.
    pub(crate) allowed_in: Option<AllowedIn>,
}

/// Options of `#[arg(..)]` on an action's argument: its description and constraints.
#[derive(Default, Clone)]
pub(crate) struct ArgOpts {
    pub(crate) description: Option<Text>,
    pub(crate) constraints: Constraints,
}

/// Options of `#[event(..)]`.
#[derive(Default, Clone)]
pub(crate) struct EventOpts {
    pub(crate) name: Option<Text>,
    pub(crate) title: Option<Text>,
    pub(crate) description: Option<Text>,
}

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

impl PropertyOpts {
    /// Whether changes are published: declared `observable`, or the Thing's `state`.
    pub(crate) fn is_observable(&self) -> bool {
        self.observable.is_some() || self.state.is_some()
    }

    /// Whether clients may not write it: declared `read_only`, or the Thing's `state`.
    pub(crate) fn is_read_only(&self) -> bool {
        self.read_only.is_some() || self.state.is_some()
    }

    /// The options of `#[property]` besides its constraints.
    const OPTIONS: &[&str] = &[
        "observable",
        "read_only",
        "write_only",
        "setter",
        "setting",
        "state",
        "allowed_in",
        "warning",
        "alarm",
        "name",
        "title",
        "description",
    ];

    /// The ranges it declares.
    pub(crate) fn ranges(&self) -> impl Iterator<Item = &QualityRange> {
        [&self.warning, &self.alarm].into_iter().flatten()
    }

    pub(crate) fn parse(errors: &Errors, attr: &Attribute) -> Self {
        let mut o = Self::default();
        walk(errors, attr, |meta, kw| {
            if let Some(parsed) = o.constraints.parse(errors, meta, kw) {
                return parsed;
            }
            match kw.to_string().as_str() {
                "observable" => set_once(errors, &mut o.observable, kw, flag(meta, kw)?),
                "read_only" => set_once(errors, &mut o.read_only, kw, flag(meta, kw)?),
                "write_only" => set_once(errors, &mut o.write_only, kw, flag(meta, kw)?),
                "setter" => set_once(errors, &mut o.setter, kw, flag(meta, kw)?),
                "setting" => set_once(errors, &mut o.setting, kw, flag(meta, kw)?),
                "state" => set_once(errors, &mut o.state, kw, flag(meta, kw)?),
                "allowed_in" => set_once(errors, &mut o.allowed_in, kw, allowed_in(meta, kw)?),
                "warning" => set_once(errors, &mut o.warning, kw, range(meta, kw)?),
                "alarm" => set_once(errors, &mut o.alarm, kw, range(meta, kw)?),
                "name" => set_once(errors, &mut o.name, kw, text(meta, kw)?),
                "title" => set_once(errors, &mut o.title, kw, text(meta, kw)?),
                "description" => set_once(errors, &mut o.description, kw, text(meta, kw)?),
                _ => {
                    let options = [Self::OPTIONS, Constraints::OPTIONS].concat();
                    return Err(unknown(meta, kw, "property", &options));
                }
            }
            Ok(())
        });
        o
    }
}

impl ActionOpts {
    const OPTIONS: &[&str] = &[
        "name",
        "title",
        "description",
        "safe",
        "idempotent",
        "exclusive",
        "allowed_in",
    ];

    pub(crate) fn parse(errors: &Errors, attr: &Attribute) -> Self {
        let mut o = Self::default();
        walk(errors, attr, |meta, kw| {
            match kw.to_string().as_str() {
                "name" => set_once(errors, &mut o.name, kw, text(meta, kw)?),
                "title" => set_once(errors, &mut o.title, kw, text(meta, kw)?),
                "description" => set_once(errors, &mut o.description, kw, text(meta, kw)?),
                "safe" => set_once(errors, &mut o.safe, kw, flag(meta, kw)?),
                "idempotent" => set_once(errors, &mut o.idempotent, kw, flag(meta, kw)?),
                "exclusive" => set_once(errors, &mut o.exclusive, kw, exclusive(meta, kw)?),
                "allowed_in" => set_once(errors, &mut o.allowed_in, kw, allowed_in(meta, kw)?),
                _ => return Err(unknown(meta, kw, "action", Self::OPTIONS)),
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
            if let Some(parsed) = o.constraints.parse(errors, meta, kw) {
                return parsed;
            }
            match kw.to_string().as_str() {
                "description" => set_once(errors, &mut o.description, kw, text(meta, kw)?),
                _ => {
                    let options = [&["description"], Constraints::OPTIONS].concat();
                    return Err(unknown(meta, kw, "arg", &options));
                }
            }
            Ok(())
        });
        o
    }
}

impl EventOpts {
    const OPTIONS: &[&str] = &["name", "title", "description"];

    pub(crate) fn parse(errors: &Errors, attr: &Attribute) -> Self {
        let mut o = Self::default();
        walk(errors, attr, |meta, kw| {
            match kw.to_string().as_str() {
                "name" => set_once(errors, &mut o.name, kw, text(meta, kw)?),
                "title" => set_once(errors, &mut o.title, kw, text(meta, kw)?),
                "description" => set_once(errors, &mut o.description, kw, text(meta, kw)?),
                _ => return Err(unknown(meta, kw, "event", Self::OPTIONS)),
            }
            Ok(())
        });
        o
    }
}

impl ThingOpts {
    const OPTIONS: &[&str] = &["title", "description", "crate", "no_client"];

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
                _ => return Err(unknown(meta, kw, "thing", Self::OPTIONS)),
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
