//! The trait that `#[thing]` implements.

use serde_json::Value;

use crate::model::table::ThingTable;
use crate::model::td::{self, TdOptions};

/// A type published as a W3C Web of Things Thing.
///
/// `#[thing]` implements it; it cannot be implemented by hand (its supertrait is sealed),
/// because the server relies on the tables the macro generates.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a Thing",
    label = "a Thing is needed here",
    note = "annotate the struct `{Self}` and its impl block with `#[thing]` to make it one"
)]
pub trait Thing: Sealed + Send + Sync + Sized + 'static {
    /// The affordance table of this Thing type (macro plumbing).
    #[doc(hidden)]
    fn table() -> &'static ThingTable<Self>;

    /// The W3C Thing Description of this Thing type published at `options`.
    ///
    /// Needs no instance and no server:
    /// ```
    /// # use labthings::{thing, TdOptions, Thing};
    /// /// A lamp.
    /// #[thing]
    /// struct Lamp {
    ///     /// Whether it is on.
    ///     #[property(observable)]
    ///     on: bool,
    /// }
    /// let td = Lamp::thing_description(&TdOptions::new("", "lamp"));
    /// assert_eq!(td["title"], "A lamp.");
    /// assert_eq!(td["properties"]["on"]["type"], "boolean");
    /// ```
    fn thing_description(options: &TdOptions) -> Value {
        td::thing_description(Self::table(), options)
    }
}

/// Implemented by `#[thing]` only: [`Thing`] cannot be implemented by hand.
#[doc(hidden)]
pub trait Sealed {}
