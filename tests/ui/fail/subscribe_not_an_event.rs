use labthings::thing;

/// A lamp.
#[thing]
pub struct Lamp {
    /// Whether it is on (not observable).
    #[property]
    on: bool,
}

fn main() {
    let lamp = Lamp { on: false.into() };
    // Only events (and observable properties) can be subscribed to.
    let _events = lamp.on.subscribe();
}
