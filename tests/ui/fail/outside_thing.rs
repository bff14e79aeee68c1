use labthings::{action, property};

struct Pump;

impl Pump {
    #[property]
    fn rate(&self) -> f64 {
        1.0
    }

    #[action]
    fn prime(&self) {}
}

fn main() {}
