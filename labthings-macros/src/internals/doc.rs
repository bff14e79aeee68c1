//! Doc comments to a `concat!` expression, so `#[doc = include_str!(..)]` keeps working.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Attribute, Expr, ExprLit, Lit, LitStr};

/// The doc comment of `attrs` as an expression of type `&'static str`: one line per `///`
/// line, with the one space after `///` removed.
pub(crate) fn doc_expr(attrs: &[Attribute]) -> TokenStream {
    let mut parts = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("doc")) {
        let Ok(nv) = attr.meta.require_name_value() else {
            continue;
        };
        let part = match &nv.value {
            Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) => {
                let text = s.value();
                let text = text.strip_prefix(' ').unwrap_or(&text);
                let lit = LitStr::new(text, s.span());
                quote!(#lit)
            }
            other => quote!(#other),
        };
        parts.push(part);
    }
    if parts.is_empty() {
        return quote!("");
    }
    let joined = parts
        .iter()
        .enumerate()
        .map(|(i, p)| if i == 0 { quote!(#p) } else { quote!("\n", #p) });
    quote!(::core::concat!(#(#joined),*))
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    #[test]
    fn lines_are_joined_with_newlines_and_one_space_stripped() {
        let item: syn::ItemStruct = parse_quote! {
            /// A counter.
            ///
            ///  Indented.
            #[doc = include_str!("x.md")]
            struct S;
        };
        let expr = doc_expr(&item.attrs).to_string();
        assert_eq!(
            expr,
            quote!(::core::concat!(
                "A counter.",
                "\n",
                "",
                "\n",
                " Indented.",
                "\n",
                include_str!("x.md")
            ))
            .to_string()
        );
    }

    #[test]
    fn no_doc_is_an_empty_string() {
        let item: syn::ItemStruct = parse_quote!(
            struct S;
        );
        assert_eq!(doc_expr(&item.attrs).to_string(), "\"\"");
    }
}
