use labthings::thing;

#[thing]
struct Camera {
    #[property(observable, exposure_unit = "ms")]
    exposure: f64,
}

#[thing]
impl Camera {
    #[action(blocking)]
    fn snap(&self) {}
}

fn main() {}
