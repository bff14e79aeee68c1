use labthings::thing;

#[thing]
struct Sensor {
    /// A label nobody observes.
    #[property]
    label: String,
}

fn watch(sensor: &Sensor) {
    let _changes = sensor.label.subscribe();
}

fn main() {}
