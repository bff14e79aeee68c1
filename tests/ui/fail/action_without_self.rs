use labthings::thing;

#[thing]
struct Pump {
    #[property(observable)]
    rate: f64,
}

#[thing]
impl Pump {
    #[action]
    fn prime() {}

    #[action]
    fn stop(&mut self) {}
}

fn main() {}
