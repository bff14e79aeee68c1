use labthings::{Slot, thing};

/// Not a Thing: a plain struct.
pub struct Lamp;

/// A Thing whose slot names something that is not a Thing.
#[thing]
pub struct Switch {
    #[slot]
    lamp: Slot<Lamp>,
}

#[thing]
impl Switch {}

fn main() {}
