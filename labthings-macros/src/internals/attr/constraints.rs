//! The constraints a property and an action argument share: a unit, numeric bounds, length
//! bounds and a pattern.

use syn::Ident;
use syn::meta::ParseNestedMeta;

use super::values::{Bound, Length, Text, bound, length, text};
use super::walk::set_once;
use crate::internals::error::Errors;

/// A value's unit and constraints, as written in `#[property(..)]` or `#[arg(..)]`.
#[derive(Default, Clone)]
pub(crate) struct Constraints {
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

impl Constraints {
    /// The options of a constraint.
    pub(super) const OPTIONS: &[&str] = &[
        "unit",
        "minimum",
        "maximum",
        "exclusive_minimum",
        "exclusive_maximum",
        "multiple_of",
        "min_length",
        "max_length",
        "pattern",
    ];

    /// Parse `kw` if it is a constraint: `None` when it is not one.
    pub(super) fn parse(
        &mut self,
        errors: &Errors,
        meta: &ParseNestedMeta<'_>,
        kw: &Ident,
    ) -> Option<syn::Result<()>> {
        let set = |slot: &mut Option<Bound>| bound(meta, kw).map(|v| set_once(errors, slot, kw, v));
        Some(match kw.to_string().as_str() {
            "minimum" => set(&mut self.minimum),
            "maximum" => set(&mut self.maximum),
            "exclusive_minimum" => set(&mut self.exclusive_minimum),
            "exclusive_maximum" => set(&mut self.exclusive_maximum),
            "multiple_of" => set(&mut self.multiple_of),
            "min_length" => length(meta, kw).map(|v| set_once(errors, &mut self.min_length, kw, v)),
            "max_length" => length(meta, kw).map(|v| set_once(errors, &mut self.max_length, kw, v)),
            "unit" => text(meta, kw).map(|v| set_once(errors, &mut self.unit, kw, v)),
            "pattern" => text(meta, kw).map(|v| set_once(errors, &mut self.pattern, kw, v)),
            _ => return None,
        })
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

    /// The keywords of every constraint given (to report misplaced ones).
    pub(crate) fn keywords(&self) -> impl Iterator<Item = &Ident> {
        self.bounds()
            .map(|b| &b.keyword)
            .chain(self.lengths().map(|l| &l.keyword))
            .chain(
                [&self.unit, &self.pattern]
                    .into_iter()
                    .flatten()
                    .map(|t| &t.keyword),
            )
    }
}
