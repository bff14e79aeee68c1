use std::rc::Rc;

use labthings::thing;

/// A Thing that could not be shared between threads (and so not be served, nor slotted).
#[thing]
pub struct Lamp {
    bulb: Rc<u8>,
}

#[thing]
impl Lamp {}

fn main() {}
