use labthings::{thing, TdOptions, Thing, ThingServer};

#[thing]
struct Sensor(f64);

fn main() {
    // One mistake, one error: the uses of `Sensor` as a Thing compile.
    let _ = Sensor::thing_description(&TdOptions::new("", "sensor"));
    let _ = ThingServer::new().thing("sensor", Sensor(1.0));
}
