use labthings::{thing, Event};

/// A lamp.
#[thing]
pub struct Lamp {
    /// Emitted when the bulb burns out, with its hours of use.
    #[event]
    burnt_out: Event<u32>,
}

#[thing]
impl Lamp {
    /// Switch on.
    #[action]
    fn on(&self) {
        // The data of `burnt_out` is a number of hours, not a message.
        self.burnt_out.emit("it went dark");
    }
}

fn main() {}
