use labthings::thing;

#[thing]
struct Camera {
    #[property(observable, maximum = 10, observable)]
    gain: f64,
}

fn main() {}
