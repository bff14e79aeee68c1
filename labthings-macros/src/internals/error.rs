//! Collecting every error of one macro call, each with its span.

use std::cell::RefCell;
use std::fmt::Display;

use proc_macro2::TokenStream;
use quote::ToTokens;

/// An accumulator of errors: parsing goes on after a mistake, so that the user sees every
/// mistake of the item at once.
///
/// It must be consumed with [`finish`](Self::finish): dropping it unconsumed is a bug of the
/// macro (its errors would be lost), and panics, as serde's `Ctxt` does.
#[derive(Default)]
pub(crate) struct Errors {
    errors: RefCell<Option<Vec<syn::Error>>>,
}

impl Errors {
    pub(crate) fn new() -> Self {
        Self {
            errors: RefCell::new(Some(Vec::new())),
        }
    }

    /// Record an error spanning `tokens`.
    pub(crate) fn spanned(&self, tokens: impl ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// Record an error at `span`.
    pub(crate) fn at(&self, span: proc_macro2::Span, message: impl Display) {
        self.push(syn::Error::new(span, message));
    }

    /// Record an error.
    pub(crate) fn push(&self, error: syn::Error) {
        self.errors
            .borrow_mut()
            .as_mut()
            .expect("errors recorded after `finish`")
            .push(error);
    }

    /// The `compile_error!`s of every recorded error, consuming the accumulator.
    pub(crate) fn finish(self) -> TokenStream {
        self.errors
            .borrow_mut()
            .take()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.to_compile_error())
            .collect()
    }

    #[cfg(test)]
    pub(crate) fn messages(&self) -> Vec<String> {
        self.errors
            .borrow()
            .iter()
            .flatten()
            .map(|e| e.to_string())
            .collect()
    }
}

impl Drop for Errors {
    fn drop(&mut self) {
        if !std::thread::panicking() && self.errors.borrow().is_some() {
            panic!("the macro dropped its errors without reporting them (`Errors::finish`)");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "without reporting them")]
    fn errors_must_be_reported() {
        let errors = Errors::new();
        errors.at(proc_macro2::Span::call_site(), "lost");
    }

    #[test]
    fn finish_reports_every_error() {
        let errors = Errors::new();
        errors.at(proc_macro2::Span::call_site(), "one");
        errors.at(proc_macro2::Span::call_site(), "two");
        let out = errors.finish().to_string();
        assert!(out.contains("one") && out.contains("two"), "{out}");
    }
}
