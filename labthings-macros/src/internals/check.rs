//! Rules that need more than one option or more than one item.
//!
//! Whether a name is well formed is the runtime's rule (`labthings::__private::check_affordance`),
//! which the generated code calls at compile time; here, only rules across items.

use std::collections::HashMap;

use proc_macro2::Span;
use syn::Ident;

use crate::internals::ast::{FieldSlot, MethodProperty, Param, ThingImpl, ThingStruct};
use crate::internals::attr::{Constraints, PropertyOpts};
use crate::internals::error::Errors;

pub(crate) fn check_struct(errors: &Errors, thing: &ThingStruct) {
    let mut names = Names::default();
    for p in &thing.properties {
        names.add(errors, &p.name, p.name_span, "property");
        check_property_opts(errors, &p.opts);
    }
    check_states(errors, thing);
    for slot in &thing.slots {
        check_not_self(errors, slot, &thing.item.ident);
    }
    for e in &thing.events {
        names.add(errors, &e.name, e.name_span, "event");
    }
    for s in &thing.streams {
        names.add(errors, &s.name, s.name_span, "stream");
    }
}

pub(crate) fn check_impl(errors: &Errors, thing: &ThingImpl) {
    let mut names = Names::default();
    for p in &thing.properties {
        names.add(errors, &p.name, p.name_span, "property");
        check_method_property(errors, p);
    }
    for a in &thing.actions {
        names.add(errors, &a.name, a.name_span, "action");
        for p in &a.params {
            if let Param::Value { opts, .. } = p {
                check_constraints(errors, &opts.constraints);
            }
        }
    }
}

/// Constraints that no value could meet, on a property or an argument.
fn check_constraints(errors: &Errors, o: &Constraints) {
    if let Some(p) = &o.pattern
        && p.value.value().is_empty()
    {
        errors.spanned(&p.value, "`pattern` must not be empty");
    }
    if let (Some(min), Some(max)) = (&o.min_length, &o.max_length) {
        let (min_v, max_v) = (
            min.value.base10_parse::<u64>().unwrap_or(0),
            max.value.base10_parse::<u64>().unwrap_or(u64::MAX),
        );
        if min_v > max_v {
            errors.spanned(&max.value, "`max_length` is smaller than `min_length`");
        }
    }
}

/// A slot holds another Thing: `Slot<Self>` (or the struct's own name) is a mistake.
fn check_not_self(errors: &Errors, slot: &FieldSlot, own: &Ident) {
    let syn::Type::Path(path) = crate::internals::ast::ungroup(&slot.ty) else {
        return;
    };
    let Some(last) = path.path.segments.last() else {
        return;
    };
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return;
    };
    for arg in &args.args {
        if let syn::GenericArgument::Type(syn::Type::Path(target)) = arg
            && let Some(name) = target.path.get_ident()
            && (name == own || name == "Self")
        {
            errors.spanned(
                target,
                format_args!(
                    "a slot holds another Thing, not the `{own}` itself\n= help: a Thing reaches its own properties and events through `self`, and runs its own loops as `#[task]` methods; remove the slot"
                ),
            );
        }
    }
}

/// Option combinations that make no sense on any property.
fn check_property_opts(errors: &Errors, o: &PropertyOpts) {
    if let (Some(_), Some(w)) = (&o.read_only, &o.write_only) {
        errors.spanned(
            w,
            "`read_only` and `write_only` cannot both be given: clients could neither read nor write the property",
        );
    }
    if let (Some(obs), Some(_)) = (&o.observable, &o.write_only) {
        errors.spanned(
            obs,
            "a `write_only` property cannot be `observable`: observers would read its value",
        );
    }
    check_constraints(errors, &o.constraints);
    if let Some(s) = &o.setter {
        errors.spanned(
            s,
            "`setter` goes on a method `fn set_<name>(&self, value: T)` inside a `#[thing]` impl block, not on a field",
        );
    }
    if let (Some(_), Some(w)) = (&o.setting, &o.write_only) {
        errors.spanned(
            w,
            "a setting cannot be `write_only`: its value is kept in a file that clients can read back",
        );
    }
    if o.state.is_some() {
        let conflict = [&o.write_only, &o.setting, &o.observable, &o.read_only];
        if let Some(other) = conflict.into_iter().flatten().next() {
            errors.spanned(
                other,
                format_args!(
                    "a `state` property is observable and read-only: the Thing's code sets it, clients read and observe it; `{other}` does not apply
= help: remove `{other}`"
                ),
            );
        }
    }
    if let Some(gate) = &o.allowed_in {
        check_gate_writable(errors, o, gate);
    }
    check_ranges(errors, o);
}

/// A warning range lies within the alarm range: a value leaves the first before it reaches
/// the second's limits.
fn check_ranges(errors: &Errors, o: &PropertyOpts) {
    if let (Some(warning), Some(alarm)) = (&o.warning, &o.alarm)
        && !alarm.contains(warning)
    {
        errors.spanned(
            &warning.written,
            format_args!(
                "the warning range {} reaches beyond the alarm range {}: a value outside the alarm range is an alarm, so the warning range lies within it
= help: e.g. `warning = 15.0..=35.0, alarm = 5.0..=45.0`",
                warning.shown(),
                alarm.shown()
            ),
        );
    }
}

/// `allowed_in` gates writes: a property that clients never write has nothing to gate.
fn check_gate_writable(
    errors: &Errors,
    o: &PropertyOpts,
    gate: &crate::internals::attr::AllowedIn,
) {
    if let Some(why) = o.read_only.as_ref().or(o.state.as_ref()) {
        errors.spanned(
            &gate.keyword,
            format_args!(
                "`allowed_in` says in which states clients may write the property, but it is `{why}`: clients never write it
= help: remove `allowed_in`; reading and observing are never gated"
            ),
        );
    }
}

/// One state property at most, and states to name wherever `allowed_in` names them.
fn check_states(errors: &Errors, thing: &ThingStruct) {
    let mut states = thing
        .properties
        .iter()
        .filter_map(|p| p.opts.state.as_ref());
    let first = states.next();
    for again in states {
        let mut error = syn::Error::new_spanned(
            again,
            "a Thing has one state: this is a second `state` property
= help: put every state in one enum",
        );
        if let Some(first) = first {
            error.combine(syn::Error::new_spanned(first, "the first is declared here"));
        }
        errors.push(error);
    }
    if first.is_some() {
        return;
    }
    for gate in thing
        .properties
        .iter()
        .filter_map(|p| p.opts.allowed_in.as_ref())
    {
        errors.spanned(
            &gate.keyword,
            format_args!(
                "`allowed_in` names states, but `{}` declares none
= help: declare them with a field `#[property(state)] state: MyState`, where `MyState` is an enum deriving `Serialize`, `Deserialize` and `JsonSchema`",
                thing.item.ident
            ),
        );
    }
}

fn check_method_property(errors: &Errors, p: &MethodProperty) {
    for accessor in p.getter.iter().chain(&p.setter) {
        check_property_opts_on_method(errors, &accessor.opts);
    }
    if let Some(getter) = &p.getter
        && let Some(gate) = &getter.opts.allowed_in
    {
        if p.setter.is_none() {
            errors.spanned(
                &gate.keyword,
                format_args!(
                    "`allowed_in` says in which states clients may write the property, but `{}` has no setter: clients never write it\n= help: remove `allowed_in`, or add a setter `fn set_{}(&self, value: T)`",
                    p.name, p.name
                ),
            );
        } else {
            check_gate_writable(errors, &getter.opts, gate);
        }
    }
    if let (Some(_), Some(setter)) = (&p.getter, &p.setter) {
        // With a getter, every option but `setter`/`name` belongs on the getter.
        let o = &setter.opts;
        let misplaced = [
            o.observable.as_ref(),
            o.read_only.as_ref(),
            o.write_only.as_ref(),
            o.allowed_in.as_ref().map(|g| &g.keyword),
        ]
        .into_iter()
        .flatten()
        .map(|i| i.span())
        .chain(o.constraints.keywords().map(Ident::span))
        .chain(
            [&o.title, &o.description]
                .into_iter()
                .flatten()
                .map(|t| t.keyword.span()),
        );
        for span in misplaced {
            errors.at(
                span,
                format_args!(
                    "options of property `{}` go on its getter; the setter takes only `setter` and `name`",
                    p.name
                ),
            );
        }
    }
}

fn check_property_opts_on_method(errors: &Errors, o: &PropertyOpts) {
    for range in o.ranges() {
        errors.spanned(
            &range.keyword,
            format_args!(
                "a `{}` range goes on a `#[property]` field of the `#[thing]` struct: the quality of a value is judged as labthings stores it, not on a getter method",
                range.keyword
            ),
        );
    }
    if let Some(state) = &o.state {
        errors.spanned(
            state,
            "the Thing's state is a value labthings stores and publishes: it is a `#[property(state)]` field of the `#[thing]` struct, not a method",
        );
    }
    if let Some(setting) = &o.setting {
        errors.spanned(
            setting,
            "a setting is a value the framework stores and persists: it is a `#[property(setting)]` field of the `#[thing]` struct, not a method",
        );
    }
    if let Some(obs) = &o.observable {
        errors.spanned(
            obs,
            "a property with getter or setter methods cannot be `observable`: its value changes without labthings seeing it\n= help: store the value in a `#[property(observable)]` field of the `#[thing]` struct",
        );
    }
    if let (Some(_), Some(w)) = (&o.read_only, &o.write_only) {
        errors.spanned(
            w,
            "`read_only` and `write_only` cannot both be given: clients could neither read nor write the property",
        );
    }
}

/// Names seen so far in one item, to report duplicates with both places.
#[derive(Default)]
struct Names {
    seen: HashMap<String, (Span, &'static str)>,
}

impl Names {
    fn add(&mut self, errors: &Errors, name: &str, span: Span, kind: &'static str) {
        if let Some((first, first_kind)) = self.seen.get(name) {
            let mut error = syn::Error::new(
                span,
                format_args!(
                    "the name `{name}` is already used by {} {first_kind} of this Thing\n= help: affordance names must be unique within a Thing; rename this {kind} with `name = \"...\"`",
                    if first_kind.starts_with('a') {
                        "an"
                    } else {
                        "a"
                    }
                ),
            );
            error.combine(syn::Error::new(
                *first,
                format_args!("the {first_kind} `{name}` is declared here"),
            ));
            errors.push(error);
        } else {
            self.seen.insert(name.to_owned(), (span, kind));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn struct_errors(item: syn::ItemStruct) -> Vec<String> {
        let errors = Errors::new();
        let thing = ThingStruct::from_syn(&errors, item, Default::default());
        check_struct(&errors, &thing);
        let messages = errors.messages();
        let _ = errors.finish();
        messages
    }

    fn impl_errors(item: syn::ItemImpl) -> Vec<String> {
        let errors = Errors::new();
        let thing = ThingImpl::from_syn(&errors, item, &Default::default());
        check_impl(&errors, &thing);
        let messages = errors.messages();
        let _ = errors.finish();
        messages
    }

    #[test]
    fn duplicate_names_are_reported_once_each() {
        let messages = struct_errors(parse_quote! {
            struct S {
                #[property] a: i64,
                #[property(name = "a")] b: i64,
                #[property(name = "a")] c: i64,
                #[property(name = "a_b")] d: i64,
                #[property(name = "a-b")] e: i64,
            }
        });
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages
                .iter()
                .all(|m| m.starts_with("the name `a` is already used by a property"))
        );
    }

    #[test]
    fn conflicting_options_are_reported() {
        let messages = struct_errors(parse_quote! {
            struct S {
                #[property(read_only, write_only)] a: i64,
                #[property(observable, write_only)] b: i64,
                #[property(min_length = 5, max_length = 2)] c: String,
            }
        });
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert!(messages[0].starts_with("`read_only` and `write_only` cannot both be given"));
        assert!(messages[1].starts_with("a `write_only` property cannot be `observable`"));
        assert!(messages[2].starts_with("`max_length` is smaller than `min_length`"));
    }

    #[test]
    fn method_rules_are_checked_together() {
        let messages = impl_errors(parse_quote! {
            impl S {
                #[property(observable)] fn a(&self) -> i64 { 0 }
                #[property(setter, maximum = 3)] fn set_a(&self, v: i64) {}
                #[property(setter)] fn b(&self, v: i64) {}
                #[action] fn run(&self) {}
                #[action(name = "run")] fn run2(&self) {}
                #[action] fn go() {}
            }
        });
        assert_eq!(messages.len(), 5, "{messages:?}");
        assert!(
            messages
                .iter()
                .any(|m| m.contains("cannot be `observable`"))
        );
        assert!(messages.iter().any(|m| m.contains("go on its getter")));
        assert!(
            messages
                .iter()
                .any(|m| m.contains("must start with `set_`"))
        );
        assert!(
            messages
                .iter()
                .any(|m| m.contains("already used by an action"))
        );
        assert!(messages.iter().any(|m| m.contains("must take `&self`")));
    }
}
