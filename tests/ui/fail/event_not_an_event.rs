use labthings::thing;

/// A lamp.
#[thing]
pub struct Lamp {
    /// An `#[event]` must be an `Event<T>`.
    #[event]
    burnt_out: u32,
    /// Events and properties share one namespace.
    #[property]
    on: bool,
    /// …so this clashes.
    #[event(name = "on")]
    switched: labthings::Event<bool>,
}

fn main() {}
