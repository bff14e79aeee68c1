use labthings::thing;

#[thing]
struct Stage {
    #[property(allowed_in(Idle))]
    limits: f64,
}

#[thing]
impl Stage {
    #[action(allowed_in(Idle))]
    fn home(&self) {}
}

fn main() {}
