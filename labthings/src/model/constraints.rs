//! The types that value constraints apply to.
//!
//! `minimum`, `maximum`, `exclusive_minimum`, `exclusive_maximum` and `multiple_of` apply to
//! [`Numeric`] types, `min_length` and `max_length` to types with a [`HasLength`], and
//! `pattern` to [`Textual`] ones. A constraint on another type is a compile error on the
//! keyword. Implement these traits for value types of your own whose JSON is a number, a
//! string or an array (a newtype around `f64`, say).

/// Types whose JSON is a string or an array, so that length constraints apply.
#[diagnostic::on_unimplemented(
    message = "length constraints do not apply to `{Self}`",
    label = "`min_length` and `max_length` apply to strings and sequences",
    note = "use `minimum`/`maximum` for numbers, or implement `labthings::constraints::HasLength` for a string-like type"
)]
pub trait HasLength {}

/// Types whose JSON is a number, so that numeric constraints apply.
#[diagnostic::on_unimplemented(
    message = "numeric constraints do not apply to `{Self}`",
    label = "`minimum`, `maximum`, `exclusive_minimum`, `exclusive_maximum` and `multiple_of` apply to numbers",
    note = "use `min_length`/`max_length` for strings and sequences"
)]
pub trait Numeric {}

/// Types whose JSON is a number, so that `warning` and `alarm` ranges apply: the quality of
/// each value is judged by where it lies.
#[diagnostic::on_unimplemented(
    message = "warning and alarm ranges do not apply to `{Self}`",
    label = "`warning` and `alarm` apply to numeric properties",
    note = "a value's quality is judged by where its number lies; implement `labthings::constraints::Ranged` for a numeric type of your own"
)]
pub trait Ranged {}

/// Types whose JSON is a string, so that `pattern` applies.
#[diagnostic::on_unimplemented(
    message = "`pattern` does not apply to `{Self}`",
    label = "`pattern` applies to strings",
    note = "`pattern` constrains string values with a regular expression"
)]
pub trait Textual {}

macro_rules! impl_marker {
    ($trait:ident: $($ty:ty),*) => { $(impl $trait for $ty {})* };
}
impl_marker!(Numeric: i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64);
impl_marker!(Ranged: i8, i16, i32, i64, isize, u8, u16, u32, u64, usize, f32, f64);
impl_marker!(HasLength: String, str);
impl_marker!(Textual: String, str);
impl<T> HasLength for Vec<T> {}
impl<T> HasLength for [T] {}
impl<T, const N: usize> HasLength for [T; N] {}
impl<T: HasLength> HasLength for Option<T> {}
impl<T: Numeric> Numeric for Option<T> {}
impl<T: Textual> Textual for Option<T> {}
impl<T: HasLength + ?Sized> HasLength for Box<T> {}
impl<T: Textual + ?Sized> Textual for Box<T> {}
