use labthings::thing;

#[thing]
struct Sensor {
    #[property(observable)]
    reading: f64,
}

fn watch(sensor: &Sensor) {
    let _changes = sensor.temperature.subscribe();
}

fn main() {}
