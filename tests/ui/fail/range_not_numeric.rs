use labthings::thing;

#[thing]
struct Bath {
    /// A label has no quality to judge.
    #[property(observable, warning = 1.0..=2.0)]
    label: String,
}

#[thing]
impl Bath {}

fn main() {}
