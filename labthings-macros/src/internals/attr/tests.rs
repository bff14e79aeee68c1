//! Parsing options, and reporting every mistake.

use super::*;
use quote::quote;
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
    assert_eq!(o.constraints.minimum.unwrap().value, NumberLit::Int(-1));
    assert_eq!(o.constraints.maximum.unwrap().value, NumberLit::Float(2.5));
    assert_eq!(
        o.constraints.max_length.unwrap().value.base10_digits(),
        "64"
    );
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
        o.constraints.maximum.is_some(),
        "options after mistakes are still parsed"
    );
}

#[test]
fn an_infinite_bound_is_an_error_not_a_panic() {
    // Found by fuzzing: `1e999` parsed as infinity, and emitting it panicked.
    let (o, errors) = parse_property(parse_quote!(#[property(minimum = -9e888, maximum = 1e999)]));
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors.iter().all(|e| e.contains("too large for an `f64`")));
    assert!(o.constraints.minimum.is_none() && o.constraints.maximum.is_none());
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

#[test]
fn a_misspelled_option_gets_a_suggestion() {
    for (attr, near) in [
        (parse_quote!(#[property(observeable)]), "observable"),
        (parse_quote!(#[property(maxium = 3)]), "maximum"),
        (parse_quote!(#[property(Setting)]), "setting"),
    ] {
        let (_, errors) = parse_property(attr);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].contains(&format!("did you mean `{near}`?")),
            "{errors:?}"
        );
    }
    let (_, errors) = parse_property(parse_quote!(#[property(bogus)]));
    assert!(!errors[0].contains("did you mean"), "{errors:?}");
}

#[test]
fn every_listed_option_parses() {
    let value = |o: &str| match o {
        "name" | "title" | "description" | "unit" | "pattern" => quote!(= "x"),
        "minimum" | "maximum" | "exclusive_minimum" | "exclusive_maximum" | "multiple_of"
        | "min_length" | "max_length" => quote!(= 1),
        "allowed_in" => quote!((Idle)),
        "warning" | "alarm" => quote!(= -1.5..=2),
        _ => quote!(),
    };
    for o in [PropertyOpts::OPTIONS, Constraints::OPTIONS].concat() {
        let kw = syn::Ident::new(o, proc_macro2::Span::call_site());
        let v = value(o);
        let (_, errors) = parse_property(parse_quote!(#[property(#kw #v)]));
        assert!(errors.is_empty(), "`{o}`: {errors:?}");
    }
}

/// The part of `text` from the line `heading` to the next heading of the same level.
fn section<'a>(text: &'a str, heading: &str) -> &'a str {
    let start = text
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("no section {heading}"));
    let rest = &text[start + 1..];
    let level = heading.split(' ').next().unwrap();
    let end = rest[1..]
        .find(&format!("\n{level} "))
        .map_or(rest.len(), |i| i + 1);
    &rest[..end]
}

/// Whether `text` names option `o` as code: `` `o` `` or `` `o = …` ``.
fn names_option(text: &str, o: &str) -> bool {
    text.contains(&format!("`{o}`")) || text.contains(&format!("`{o} ="))
}

/// The guide and the attributes' documentation list every option the macros take, from the
/// one list of each.
#[test]
fn the_docs_list_every_option() {
    let guide = include_str!("../../../../labthings/docs/guide.md");
    let lib = include_str!("../../../../labthings/src/lib.rs");
    let docs_of = |attr: &str| {
        let end = lib
            .find(&format!("pub use labthings_macros::{attr};"))
            .unwrap();
        let start = lib[..end].rfind("\n\n").unwrap_or(0);
        &lib[start..end]
    };
    let property = section(guide, "# Properties");
    for o in [PropertyOpts::OPTIONS, Constraints::OPTIONS].concat() {
        assert!(
            names_option(property, o),
            "the guide's property table lacks `{o}`"
        );
        assert!(
            names_option(docs_of("property"), o),
            "`#[property]`'s docs lack `{o}`"
        );
    }
    let action = section(guide, "# Actions");
    for o in ActionOpts::OPTIONS {
        assert!(names_option(action, o), "the guide's actions lack `{o}`");
        assert!(
            names_option(docs_of("action"), o),
            "`#[action]`'s docs lack `{o}`"
        );
    }
    for o in [&["description"], Constraints::OPTIONS].concat() {
        assert!(
            names_option(docs_of("action"), o),
            "`#[arg]` in `#[action]`'s docs lacks `{o}`"
        );
    }
    for o in EventOpts::OPTIONS {
        assert!(
            names_option(section(guide, "# Events"), o),
            "the guide's events lack `{o}`"
        );
    }
}
