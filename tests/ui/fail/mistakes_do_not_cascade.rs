use labthings::{thing, Thing, TdOptions};

#[thing]
struct Pump {
    #[property(observable, maximum = 5, flow_unit = "ml/min")]
    rate: f64,
}

#[thing]
impl Pump {
    #[action]
    fn double(&self) -> f64 {
        self.rate.update(|r| {
            *r *= 2.0;
            *r
        })
    }
}

fn main() {
    let pump = Pump { rate: 1.0.into() };
    let _ = pump.double();
    let _ = Pump::thing_description(&TdOptions::new("", "pump"));
}
