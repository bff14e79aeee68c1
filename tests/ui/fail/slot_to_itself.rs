use labthings::{thing, Slot};

#[thing]
struct Thermo {
    #[property(observable)]
    temperature: f64,
    #[slot]
    this: Slot<Thermo>,
}

fn main() {}
