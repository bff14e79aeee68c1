//! `warning = 15.0..=35.0`, `alarm = 5.0..=45.0`: the ranges a numeric property's value is
//! fine within (Tango's warning and alarm limits, EPICS's HIGH/HIHI).

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::{Expr, ExprRange, Ident, RangeLimits};

use super::values::number;

/// A closed range of numbers, as written.
#[derive(Clone)]
pub(crate) struct QualityRange {
    pub(crate) keyword: Ident,
    /// The range as written, for errors spanning it.
    pub(crate) written: TokenStream,
    pub(crate) low: f64,
    pub(crate) high: f64,
}

impl QualityRange {
    /// Whether `other` lies within it.
    pub(crate) fn contains(&self, other: &Self) -> bool {
        self.low <= other.low && other.high <= self.high
    }

    /// The range as written in an error: `15..=35`.
    pub(crate) fn shown(&self) -> String {
        format!("{}..={}", self.low, self.high)
    }
}

/// `keyword = low..=high`, both number literals, `low` not above `high`.
pub(super) fn range(meta: &ParseNestedMeta<'_>, keyword: &Ident) -> syn::Result<QualityRange> {
    let usage = format!(
        "`{keyword}` takes a closed range of number literals, e.g. `{keyword} = 15.0..=35.0`"
    );
    let expr: Expr = meta.value()?.parse()?;
    let Expr::Range(ExprRange {
        start: Some(start),
        limits: RangeLimits::Closed(_),
        end: Some(end),
        ..
    }) = &expr
    else {
        return Err(syn::Error::new_spanned(&expr, usage));
    };
    let low = number(start, keyword)?.as_f64();
    let high = number(end, keyword)?.as_f64();
    if low > high {
        return Err(syn::Error::new_spanned(
            &expr,
            format!(
                "the {keyword} range is empty: it starts at {low}, above its end {high}\n= help: write `{keyword} = {high}..={low}`"
            ),
        ));
    }
    Ok(QualityRange {
        keyword: keyword.clone(),
        written: expr.to_token_stream(),
        low,
        high,
    })
}
