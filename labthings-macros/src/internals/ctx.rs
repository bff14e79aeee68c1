//! What every code generator needs: the path of the runtime crate.

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote};

/// The context of one expansion.
pub(crate) struct Ctx {
    /// The path of the `labthings` crate: `::labthings`, or the `crate = "…"` option for
    /// crates that re-export it.
    pub(crate) krate: TokenStream,
}

impl Ctx {
    pub(crate) fn new(krate: Option<&syn::Path>) -> Self {
        Self {
            krate: match krate {
                Some(path) => path.to_token_stream(),
                None => quote!(::labthings),
            },
        }
    }

    /// `#krate::__private`.
    pub(crate) fn private(&self) -> TokenStream {
        let krate = &self.krate;
        quote!(#krate::__private)
    }

    /// `#krate::__private`, every token spanned at `span`: a call through it that fails a
    /// trait bound is reported there (on the user's type) rather than on the attribute.
    pub(crate) fn private_at(&self, span: Span) -> TokenStream {
        respan(self.private(), span)
    }
}

fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let TokenTree::Group(group) = &token {
                let mut inner = Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                token = TokenTree::Group(inner);
            }
            token.set_span(span);
            token
        })
        .collect()
}
