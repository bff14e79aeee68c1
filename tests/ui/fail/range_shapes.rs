use labthings::thing;

#[thing]
struct Bath {
    // Empty: it starts above its end.
    #[property(observable, warning = 35.0..=15.0)]
    inverted: f64,
    // Not a closed range of numbers.
    #[property(observable, alarm = 5.0..45.0)]
    open: f64,
    #[property(observable, alarm = low..=45.0)]
    named: f64,
    // The warning range reaches beyond the alarm range.
    #[property(observable, warning = 0.0..=50.0, alarm = 5.0..=45.0)]
    beyond: f64,
}

#[thing]
impl Bath {
    /// A getter cannot be judged: ranges go on fields.
    #[property(warning = 1.0..=2.0)]
    fn computed(&self) -> f64 {
        1.5
    }
}

fn main() {}
