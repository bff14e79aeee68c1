//! What getters and actions return, recognised by type rather than by name.
//!
//! A method may return a value `T` or a `Result<T, E>` whose `Err` fails the call. The macros
//! cannot tell the two apart from the tokens (a user's own type may be called `Result`, and
//! `anyhow::Result<T>` is a `Result` under another name), so the generated code asks the type
//! system: `(&&Returned::<R>::new()).kind()` is a [`ResultKind`] when `R` is
//! `core::result::Result<T, E>`, and a [`ValueKind`] otherwise (autoref specialisation on a
//! concrete type). [`Output`] then turns what the method returned into JSON and describes it.

use std::any::Any;
use std::error::Error;
use std::fmt::Display;
use std::marker::PhantomData;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;

use crate::model::table::Json;
use crate::problem::Problem;

/// The type a method returns, probed for its [`Output`] kind.
#[derive(Debug)]
pub struct Returned<R: ?Sized>(PhantomData<fn() -> PhantomData<R>>);

impl<R: ?Sized> Returned<R> {
    /// A probe for `R`.
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<R: ?Sized> Default for Returned<R> {
    fn default() -> Self {
        Self::new()
    }
}

/// `R` is `Result<T, E>`: `Ok(T)` is the value, `Err(E)` a failure.
#[derive(Debug)]
pub struct ResultKind<T, E>(PhantomData<fn() -> (T, E)>);

/// `R` is the value itself.
#[derive(Debug)]
pub struct ValueKind<T>(PhantomData<fn() -> T>);

/// Chosen for `Result<T, E>`.
pub trait ViaResult {
    /// [`ResultKind`].
    type Kind;
    /// The kind of the probed type.
    fn kind(&self) -> Self::Kind;
}

impl<T, E> ViaResult for &Returned<Result<T, E>> {
    type Kind = ResultKind<T, E>;
    fn kind(&self) -> Self::Kind {
        ResultKind(PhantomData)
    }
}

/// Chosen for every other type.
pub trait ViaValue {
    /// [`ValueKind`].
    type Kind;
    /// The kind of the probed type.
    fn kind(&self) -> Self::Kind;
}

impl<T> ViaValue for Returned<T> {
    type Kind = ValueKind<T>;
    fn kind(&self) -> Self::Kind {
        ValueKind(PhantomData)
    }
}

/// The value clients see of what a method returns. Serialising it and describing it are
/// separate traits, so that a value type missing `Serialize` or `JsonSchema` is reported
/// once for each.
pub trait Output {
    /// What the method returns.
    type Returned;
    /// The value clients see.
    type Value;
    /// The value, or the failure as a problem (a returned `Problem` keeps its status).
    fn into_value(returned: Self::Returned) -> Result<Self::Value, Problem>;
}

impl<T, E: Display + 'static> Output for ResultKind<T, E> {
    type Returned = Result<T, E>;
    type Value = T;
    fn into_value(returned: Result<T, E>) -> Result<T, Problem> {
        returned.map_err(failure)
    }
}

/// The problem a method's `Err` is. A [`Problem`] keeps its status and detail (a caller's
/// mistake found in device code stays a 4xx), also when boxed as a `dyn Error` (or the source
/// of one); any other error is a 500 with the error's message.
pub(crate) fn failure<E: Display + 'static>(error: E) -> Problem {
    let any: &dyn Any = &error;
    if let Some(problem) = any.downcast_ref::<Problem>() {
        return problem.clone();
    }
    let boxed: Option<&(dyn Error + 'static)> = any
        .downcast_ref::<Box<dyn Error + Send + Sync>>()
        .map(|b| &**b as &(dyn Error + 'static))
        .or_else(|| any.downcast_ref::<Box<dyn Error>>().map(|b| &**b));
    let mut cause = boxed;
    while let Some(error) = cause {
        if let Some(problem) = error.downcast_ref::<Problem>() {
            return problem.clone();
        }
        cause = error.source();
    }
    Problem::internal(error.to_string())
}

impl<T> Output for ValueKind<T> {
    type Returned = T;
    type Value = T;
    fn into_value(returned: T) -> Result<T, Problem> {
        Ok(returned)
    }
}

/// The JSON of what a getter or action returned: `output_json(kind)(returned)`.
pub fn output_json<K: Output>(_kind: K) -> fn(K::Returned) -> Result<Json, Problem>
where
    K::Value: Serialize,
{
    |returned| super::to_json(&K::into_value(returned)?)
}

/// The schema of what a getter or action returns.
pub fn output_schema<K: Output>(_kind: K, generator: &mut SchemaGenerator) -> Schema
where
    K::Value: JsonSchema,
{
    generator.subschema_for::<K::Value>()
}

/// Compile-time check that numeric constraints apply to what a getter returns.
pub fn assert_numeric_output<K: Output>(_kind: K)
where
    K::Value: super::Numeric,
{
}

/// Compile-time check that length constraints apply to what a getter returns.
pub fn assert_has_length_output<K: Output>(_kind: K)
where
    K::Value: super::HasLength,
{
}

/// Compile-time check that `pattern` applies to what a getter returns.
pub fn assert_textual_output<K: Output>(_kind: K)
where
    K::Value: super::Textual,
{
}

/// What a setter returns: nothing, or `Result<(), E>`.
#[diagnostic::on_unimplemented(
    message = "a `#[property(setter)]` method returns `()` or `Result<(), E>`, not `{Self}`",
    label = "setters return nothing, or a `Result` whose `Err` fails the write"
)]
pub trait SetterReturn {
    /// `Ok` or the failure as a problem (a returned [`Problem`] keeps its status).
    fn into_result(self) -> Result<(), Problem>;
}

impl SetterReturn for () {
    fn into_result(self) -> Result<(), Problem> {
        Ok(())
    }
}

impl<E: Display + 'static> SetterReturn for Result<(), E> {
    fn into_result(self) -> Result<(), Problem> {
        self.map_err(failure)
    }
}

/// What a start or stop hook returns: nothing, or `Result<(), E>`.
#[diagnostic::on_unimplemented(
    message = "an `#[on_start]` or `#[on_stop]` method returns `()` or `Result<(), E>`, not `{Self}`",
    label = "hooks return nothing, or a `Result` whose `Err` fails the start"
)]
pub trait HookReturn {
    /// `Ok` or the failure.
    fn into_result(self) -> Result<(), Problem>;
}

impl HookReturn for () {
    fn into_result(self) -> Result<(), Problem> {
        Ok(())
    }
}

impl<E: Display + 'static> HookReturn for Result<(), E> {
    fn into_result(self) -> Result<(), Problem> {
        self.map_err(failure)
    }
}
