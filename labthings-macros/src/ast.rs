//! The typed model of a `#[thing]` item, built from syn while stripping the helper attributes.

use proc_macro2::{Span, TokenStream};
use syn::{
    Attribute, FnArg, Ident, ImplItem, ImplItemFn, ItemImpl, ItemStruct, Pat, ReturnType, Type,
};

use crate::attr::{ActionOpts, ArgOpts, EventOpts, PropertyOpts, ThingOpts};
use crate::doc::doc_expr;
use crate::error::Errors;

/// `#[thing]` on a struct.
pub(crate) struct ThingStruct {
    /// The struct, without the `#[property]` attributes.
    pub(crate) item: ItemStruct,
    pub(crate) opts: ThingOpts,
    pub(crate) doc: TokenStream,
    pub(crate) properties: Vec<FieldProperty>,
    pub(crate) slots: Vec<FieldSlot>,
    pub(crate) events: Vec<FieldEvent>,
    /// `#[stream]` fields (they take the same options as events).
    pub(crate) streams: Vec<FieldEvent>,
}

/// An `#[event]` field.
pub(crate) struct FieldEvent {
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
    /// The TD name.
    pub(crate) name: String,
    pub(crate) name_span: Span,
    pub(crate) doc: TokenStream,
    pub(crate) opts: EventOpts,
}

/// A `#[slot]` field: a reference to another Thing of the server.
pub(crate) struct FieldSlot {
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
    /// The slot's name (the field's), as the configuration names it.
    pub(crate) name: String,
}

/// A `#[property]` field.
pub(crate) struct FieldProperty {
    /// Index of the field in the struct.
    pub(crate) field: usize,
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
    /// The TD name.
    pub(crate) name: String,
    pub(crate) name_span: Span,
    pub(crate) doc: TokenStream,
    pub(crate) opts: PropertyOpts,
}

/// `#[thing]` on an impl block.
pub(crate) struct ThingImpl {
    /// The impl block, without the `#[property]`/`#[action]` attributes.
    pub(crate) item: ItemImpl,
    pub(crate) properties: Vec<MethodProperty>,
    pub(crate) actions: Vec<Action>,
    /// `#[on_start]` and `#[on_stop]` methods.
    pub(crate) on_start: Option<Hook>,
    pub(crate) on_stop: Option<Hook>,
}

/// A start or stop hook: `fn name(&self)`, maybe `async`, returning `()` or `Result<(), E>`.
pub(crate) struct Hook {
    pub(crate) ident: Ident,
    pub(crate) is_async: bool,
    pub(crate) returns: Returns,
}

/// What a method returns: nothing, or a type. Whether that type is a `Result` is decided by
/// the type system in the generated code, not by its name here.
#[derive(Clone)]
pub(crate) enum Returns {
    /// Nothing (`()`).
    Unit,
    /// A type (a value, or a `Result` whose `Err` fails the call).
    Type(Box<Type>),
}

/// A getter or setter method.
pub(crate) struct Accessor {
    pub(crate) ident: Ident,
    pub(crate) is_async: bool,
    pub(crate) returns: Returns,
    /// The setter's argument type (for a getter, what it returns).
    pub(crate) ty: Type,
    pub(crate) opts: PropertyOpts,
    pub(crate) doc: TokenStream,
}

/// A property made of a getter and/or a setter method.
pub(crate) struct MethodProperty {
    pub(crate) name: String,
    pub(crate) name_span: Span,
    pub(crate) getter: Option<Accessor>,
    pub(crate) setter: Option<Accessor>,
}

/// One parameter of an action.
pub(crate) enum Param {
    /// An input argument, with its `#[arg(..)]` options.
    Value {
        ident: Ident,
        ty: Box<Type>,
        opts: Box<ArgOpts>,
    },
    /// The `ActionContext`, by reference or by value; `ty` is the type written for it
    /// (without the reference), checked at compile time to be `labthings::ActionContext`.
    Context { by_ref: bool, ty: Box<Type> },
}

/// An `#[action]` method.
pub(crate) struct Action {
    pub(crate) ident: Ident,
    pub(crate) name: String,
    pub(crate) name_span: Span,
    pub(crate) opts: ActionOpts,
    pub(crate) doc: TokenStream,
    pub(crate) is_async: bool,
    pub(crate) params: Vec<Param>,
    pub(crate) returns: Returns,
}

/// Remove the attributes called `name` from `attrs`, returning them.
fn take_attrs(attrs: &mut Vec<Attribute>, name: &str) -> Vec<Attribute> {
    let (taken, kept) = std::mem::take(attrs)
        .into_iter()
        .partition(|a| a.path().is_ident(name));
    *attrs = kept;
    taken
}

/// The single attribute of `taken`, reporting any repeat.
fn single(errors: &Errors, taken: Vec<Attribute>) -> Option<Attribute> {
    let mut iter = taken.into_iter();
    let first = iter.next()?;
    for extra in iter {
        errors.spanned(&extra, "this attribute is given more than once");
    }
    Some(first)
}

impl ThingStruct {
    pub(crate) fn from_syn(errors: &Errors, mut item: ItemStruct, opts: ThingOpts) -> Self {
        let doc = doc_expr(&item.attrs);
        let mut properties = Vec::new();
        if !matches!(item.fields, syn::Fields::Named(_)) {
            errors.spanned(
                &item.ident,
                "`#[thing]` needs a struct with named fields\n= help: properties are named after their fields",
            );
        }
        if !item.generics.params.is_empty() {
            errors.spanned(&item.generics, "a `#[thing]` struct cannot be generic");
        }
        let mut slots = Vec::new();
        let mut events = Vec::new();
        let mut streams = Vec::new();
        for (i, field) in item.fields.iter_mut().enumerate() {
            let taken = take_attrs(&mut field.attrs, "property");
            let slot = single(errors, take_attrs(&mut field.attrs, "slot"));
            let event = single(errors, take_attrs(&mut field.attrs, "event"));
            let stream = single(errors, take_attrs(&mut field.attrs, "stream"));
            let annotated =
                !taken.is_empty() || slot.is_some() || event.is_some() || stream.is_some();
            if let Some(ident) = field.ident.as_ref().filter(|ident| *ident == "_")
                && annotated
            {
                errors.spanned(
                    ident,
                    "an affordance needs a field with a name: `_` cannot be read, written or emitted",
                );
                continue;
            }
            let (event, is_stream) = match (event, stream) {
                (Some(event), Some(stream)) => {
                    errors.spanned(
                        &stream,
                        "a field cannot be both an `#[event]` and a `#[stream]`",
                    );
                    (Some(event), false)
                }
                (Some(event), None) => (Some(event), false),
                (None, Some(stream)) => (Some(stream), true),
                (None, None) => (None, false),
            };
            if let Some(event) = event {
                let kind = if is_stream {
                    "a `#[stream]`"
                } else {
                    "an `#[event]`"
                };
                if let Some(other) = taken.first().or(slot.as_ref()) {
                    errors.spanned(
                        other,
                        format_args!(
                            "a field cannot be both {kind} and a `#[property]` or `#[slot]`"
                        ),
                    );
                }
                let opts = EventOpts::parse(errors, &event);
                if let Some(ident) = field.ident.clone() {
                    let (name, name_span) = match &opts.name {
                        Some(n) => (n.value.value(), n.value.span()),
                        None => (unraw(&ident), ident.span()),
                    };
                    let found = FieldEvent {
                        name,
                        name_span,
                        doc: doc_expr(&field.attrs),
                        ty: field.ty.clone(),
                        ident,
                        opts,
                    };
                    if is_stream {
                        streams.push(found);
                    } else {
                        events.push(found);
                    }
                }
                continue;
            }
            if let Some(slot) = slot {
                if let Some(p) = taken.first() {
                    errors.spanned(p, "a field cannot be both a `#[property]` and a `#[slot]`");
                }
                if !matches!(slot.meta, syn::Meta::Path(_)) {
                    errors.spanned(
                        &slot,
                        "`#[slot]` takes no options: the slot is named after its field",
                    );
                }
                if let Some(ident) = field.ident.clone() {
                    slots.push(FieldSlot {
                        name: unraw(&ident),
                        ident,
                        ty: field.ty.clone(),
                    });
                }
                continue;
            }
            let Some(attr) = single(errors, taken) else {
                continue;
            };
            let opts = PropertyOpts::parse(errors, &attr);
            let Some(ident) = field.ident.clone() else {
                continue;
            };
            let (name, name_span) = match &opts.name {
                Some(n) => (n.value.value(), n.value.span()),
                None => (unraw(&ident), ident.span()),
            };
            properties.push(FieldProperty {
                field: i,
                ident,
                ty: field.ty.clone(),
                name,
                name_span,
                doc: doc_expr(&field.attrs),
                opts,
            });
        }
        Self {
            item,
            opts,
            doc,
            properties,
            slots,
            events,
            streams,
        }
    }
}

impl ThingImpl {
    pub(crate) fn from_syn(errors: &Errors, mut item: ItemImpl, opts: &ThingOpts) -> Self {
        if let Some(t) = opts.title.as_ref().or(opts.description.as_ref()) {
            errors.spanned(
                &t.keyword,
                "`title` and `description` belong on the `#[thing]` struct, not the impl block",
            );
        }
        if let Some((_, path, _)) = &item.trait_ {
            errors.spanned(
                path,
                "`#[thing]` goes on an inherent impl block (`impl MyThing { .. }`), not a trait impl",
            );
        }
        if !item.generics.params.is_empty() {
            errors.spanned(&item.generics, "a `#[thing]` impl block cannot be generic");
        }
        let mut properties: Vec<MethodProperty> = Vec::new();
        let mut actions = Vec::new();
        let (mut on_start, mut on_stop) = (None, None);
        for impl_item in &mut item.items {
            let ImplItem::Fn(method) = impl_item else {
                continue;
            };
            for (name, slot) in [("on_start", &mut on_start), ("on_stop", &mut on_stop)] {
                if let Some(attr) = single(errors, take_attrs(&mut method.attrs, name))
                    && let Some(hook) = hook(errors, method, &attr, name)
                {
                    if slot.is_some() {
                        errors.spanned(&attr, format_args!("a Thing has one `#[{name}]` method"));
                    }
                    *slot = Some(hook);
                }
            }
            let property = single(errors, take_attrs(&mut method.attrs, "property"));
            let action_attr = single(errors, take_attrs(&mut method.attrs, "action"));
            match (property, action_attr) {
                (Some(p), Some(a)) => {
                    errors.spanned(
                        &a,
                        "a method cannot be both a `#[property]` and an `#[action]`",
                    );
                    let _ = p;
                }
                (Some(attr), None) => {
                    let opts = PropertyOpts::parse(errors, &attr);
                    if let Some((name, span, accessor, is_setter)) = accessor(errors, method, opts)
                    {
                        add_accessor(errors, &mut properties, name, span, accessor, is_setter);
                    }
                }
                (None, Some(attr)) => {
                    let opts = ActionOpts::parse(errors, &attr);
                    if let Some(a) = action(errors, method, opts) {
                        actions.push(a);
                    }
                }
                (None, None) => {}
            }
        }
        Self {
            item,
            properties,
            actions,
            on_start,
            on_stop,
        }
    }
}

/// A start or stop hook method.
fn hook(errors: &Errors, method: &ImplItemFn, attr: &Attribute, name: &str) -> Option<Hook> {
    if !matches!(attr.meta, syn::Meta::Path(_)) {
        errors.spanned(attr, format_args!("`#[{name}]` takes no options"));
    }
    check_not_generic(errors, method, name);
    let receiver_ok = check_receiver(errors, method, name);
    if !typed_params(method).is_empty() {
        errors.spanned(
            &method.sig.inputs,
            format_args!("a `#[{name}]` method takes only `&self`"),
        );
        return None;
    }
    receiver_ok.then(|| Hook {
        ident: method.sig.ident.clone(),
        is_async: method.sig.asyncness.is_some(),
        returns: returns(&method.sig.output),
    })
}

fn unraw(ident: &Ident) -> String {
    let s = ident.to_string();
    s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
}

/// Check the receiver is `&self`; `what` is `#[action]` or `#[property]`.
fn check_receiver(errors: &Errors, method: &ImplItemFn, what: &str) -> bool {
    match method.sig.receiver() {
        Some(r) if r.reference.is_some() && r.mutability.is_none() && r.colon_token.is_none() => {
            true
        }
        Some(r) if r.mutability.is_some() => {
            errors.spanned(
                r,
                format_args!(
                    "`{what}` methods must take `&self`, not `&mut self`\n= help: a Thing is shared by every client; keep mutable state in `#[property]` fields or behind a lock"
                ),
            );
            false
        }
        Some(r) => {
            errors.spanned(r, format_args!("`{what}` methods must take `&self`"));
            false
        }
        None => {
            errors.spanned(
                &method.sig.ident,
                format_args!(
                    "`{what}` methods must take `&self`\n= help: add `&self` as the first parameter"
                ),
            );
            false
        }
    }
}

fn check_not_generic(errors: &Errors, method: &ImplItemFn, what: &str) {
    if !method.sig.generics.params.is_empty() {
        errors.spanned(
            &method.sig.generics,
            format_args!("`{what}` methods cannot be generic"),
        );
    }
}

fn returns(output: &ReturnType) -> Returns {
    let ReturnType::Type(_, ty) = output else {
        return Returns::Unit;
    };
    match ungroup(ty) {
        Type::Tuple(t) if t.elems.is_empty() => Returns::Unit,
        other => Returns::Type(Box::new(other.clone())),
    }
}

/// A type without the invisible groups of `macro_rules!` expansions and without parentheses
/// (as PyO3 does): `(T)` is `T`.
pub(crate) fn ungroup(ty: &Type) -> &Type {
    match ty {
        Type::Group(g) => ungroup(&g.elem),
        Type::Paren(p) => ungroup(&p.elem),
        other => other,
    }
}

/// The typed, non-receiver parameters of a method, to strip their attributes.
fn typed_params_mut(method: &mut ImplItemFn) -> Vec<&mut syn::PatType> {
    method
        .sig
        .inputs
        .iter_mut()
        .filter_map(|a| match a {
            FnArg::Typed(t) => Some(t),
            FnArg::Receiver(_) => None,
        })
        .collect()
}

/// The typed, non-receiver parameters of a method.
fn typed_params(method: &ImplItemFn) -> Vec<&syn::PatType> {
    method
        .sig
        .inputs
        .iter()
        .filter_map(|a| match a {
            FnArg::Typed(t) => Some(t),
            FnArg::Receiver(_) => None,
        })
        .collect()
}

/// The context parameter of an action, if `ty` is one: `(by_ref, type)`.
///
/// The rule does not trust a bare last path segment: a shared reference `&T` is the context
/// (action arguments are owned values, deserialised from the input), and so is a by-value
/// `ActionContext` or `labthings::ActionContext`; a path such as `units::ActionContext` is an
/// ordinary argument. The generated code checks that the type is `labthings::ActionContext`,
/// with a message that says what to write otherwise.
fn context_type(ty: &Type) -> Option<(bool, Box<Type>)> {
    match ungroup(ty) {
        Type::Reference(r) if r.mutability.is_none() => Some((true, r.elem.clone())),
        Type::Path(p) if p.qself.is_none() && names_the_context(&p.path) => {
            Some((false, Box::new(ungroup(ty).clone())))
        }
        _ => None,
    }
}

fn names_the_context(path: &syn::Path) -> bool {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    matches!(
        segments.iter().map(String::as_str).collect::<Vec<_>>()[..],
        ["ActionContext"] | ["labthings", "ActionContext"]
    )
}

fn accessor(
    errors: &Errors,
    method: &ImplItemFn,
    opts: PropertyOpts,
) -> Option<(String, Span, Accessor, bool)> {
    let is_setter = opts.setter.is_some();
    check_not_generic(errors, method, "#[property]");
    let receiver_ok = check_receiver(errors, method, "#[property]");
    let params = typed_params(method);
    let ident = method.sig.ident.clone();
    let returns = returns(&method.sig.output);
    let ty = if is_setter {
        if params.len() != 1 {
            errors.spanned(
                &method.sig.inputs,
                "a `#[property(setter)]` method takes `&self` and the new value\n= help: e.g. `fn set_label(&self, value: String)`",
            );
            return None;
        }
        ungroup(&params[0].ty).clone()
    } else {
        if !params.is_empty() {
            errors.spanned(
                &method.sig.inputs,
                "a `#[property]` getter takes only `&self`\n= help: to make the property writable, add a `#[property(setter)] fn set_<name>(&self, value: T)` method",
            );
            return None;
        }
        match &returns {
            Returns::Unit => {
                errors.spanned(
                    &method.sig.ident,
                    "a `#[property]` getter must return the property's value",
                );
                return None;
            }
            Returns::Type(t) => (**t).clone(),
        }
    };
    if !receiver_ok {
        return None;
    }
    let (name, span) = match &opts.name {
        Some(n) => (n.value.value(), n.value.span()),
        None if is_setter => match unraw(&ident).strip_prefix("set_") {
            Some(stem) if !stem.is_empty() => (stem.to_owned(), ident.span()),
            _ => {
                errors.spanned(
                    &ident,
                    "the name of a `#[property(setter)]` method must start with `set_`\n= help: or give the property's name: `#[property(setter, name = \"...\")]`",
                );
                return None;
            }
        },
        None => (unraw(&ident), ident.span()),
    };
    let accessor = Accessor {
        ident,
        is_async: method.sig.asyncness.is_some(),
        returns,
        ty,
        opts,
        doc: doc_expr(&method.attrs),
    };
    Some((name, span, accessor, is_setter))
}

fn add_accessor(
    errors: &Errors,
    properties: &mut Vec<MethodProperty>,
    name: String,
    span: Span,
    accessor: Accessor,
    is_setter: bool,
) {
    let existing = properties.iter_mut().find(|p| p.name == name);
    let Some(property) = existing else {
        let (getter, setter) = if is_setter {
            (None, Some(accessor))
        } else {
            (Some(accessor), None)
        };
        properties.push(MethodProperty {
            name,
            name_span: span,
            getter,
            setter,
        });
        return;
    };
    let slot = if is_setter {
        &mut property.setter
    } else {
        &mut property.getter
    };
    if slot.is_some() {
        let what = if is_setter { "setter" } else { "getter" };
        errors.at(span, format_args!("property `{name}` already has a {what}"));
    } else {
        *slot = Some(accessor);
    }
}

fn action(errors: &Errors, method: &mut ImplItemFn, opts: ActionOpts) -> Option<Action> {
    check_not_generic(errors, method, "#[action]");
    let receiver_ok = check_receiver(errors, method, "#[action]");
    let mut params = Vec::new();
    let mut ok = receiver_ok;
    for p in typed_params_mut(method) {
        let arg = single(errors, take_attrs(&mut p.attrs, "arg"));
        if let Some((by_ref, ty)) = context_type(&p.ty) {
            if let Some(arg) = arg {
                errors.spanned(arg, "`#[arg]` describes an input argument, not the context");
            }
            params.push(Param::Context { by_ref, ty });
            continue;
        }
        let opts = arg.map(|a| ArgOpts::parse(errors, &a)).unwrap_or_default();
        match &*p.pat {
            Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                params.push(Param::Value {
                    ident: pi.ident.clone(),
                    ty: Box::new(ungroup(&p.ty).clone()),
                    opts: Box::new(opts),
                });
            }
            other => {
                errors.spanned(
                    other,
                    "`#[action]` arguments must be plain names: they become the fields of the action's input object",
                );
                ok = false;
            }
        }
    }
    if !ok {
        return None;
    }
    let ident = method.sig.ident.clone();
    let (name, name_span) = match &opts.name {
        Some(n) => (n.value.value(), n.value.span()),
        None => (unraw(&ident), ident.span()),
    };
    Some(Action {
        doc: doc_expr(&method.attrs),
        is_async: method.sig.asyncness.is_some(),
        returns: returns(&method.sig.output),
        ident,
        name,
        name_span,
        opts,
        params,
    })
}
