//! The typed model of a `#[thing]` item, built from syn while stripping the helper attributes.

//!
//! [`thing_struct`] reads a struct's fields, [`thing_impl`] an impl block's methods, with the
//! rules on method signatures in [`signature`].

mod signature;
mod thing_impl;
mod thing_struct;

use proc_macro2::{Span, TokenStream};
use syn::{Attribute, Ident, ItemImpl, ItemStruct, Type};

use crate::internals::attr::{ActionOpts, ArgOpts, EventOpts, PropertyOpts, ThingOpts};
use crate::internals::error::Errors;

pub(crate) use signature::ungroup;

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
    /// `#[task]` methods.
    pub(crate) tasks: Vec<Task>,
}

/// A `#[task]` method: `fn name(&self, ctx: &TaskContext)` (the context is optional), maybe
/// `async`, returning `()` or `Result<(), E>`.
pub(crate) struct Task {
    pub(crate) ident: Ident,
    pub(crate) is_async: bool,
    /// Whether it takes the context, and by reference.
    pub(crate) context: Option<bool>,
    pub(crate) returns: Returns,
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
pub(super) fn take_attrs(attrs: &mut Vec<Attribute>, name: &str) -> Vec<Attribute> {
    let (taken, kept) = std::mem::take(attrs)
        .into_iter()
        .partition(|a| a.path().is_ident(name));
    *attrs = kept;
    taken
}

/// The single attribute of `taken`, reporting any repeat.
pub(super) fn single(errors: &Errors, taken: Vec<Attribute>) -> Option<Attribute> {
    let mut iter = taken.into_iter();
    let first = iter.next()?;
    for extra in iter {
        errors.spanned(&extra, "this attribute is given more than once");
    }
    Some(first)
}

/// An identifier without its `r#`.
pub(super) fn unraw(ident: &Ident) -> String {
    let s = ident.to_string();
    s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
}
