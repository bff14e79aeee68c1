use labthings::thing;

/// A bath.
#[thing]
struct Bath {
    /// Both ranges, integer and negative bounds.
    #[property(observable, warning = -5..=35, alarm = -10.0..=45.0)]
    temperature: f64,
    /// An alarm range alone, on an integer.
    #[property(alarm = 0..=100)]
    level: i64,
    /// A warning range alone, on an optional value.
    #[property(observable, warning = 1.0..=1.0)]
    flow: f32,
}

#[thing]
impl Bath {}

fn main() {}
