use labthings::thing;

#[thing]
struct Stage {
    #[property]
    x: f64,
    #[property(name = "x")]
    x_target: f64,
}

#[thing]
impl Stage {
    #[action]
    fn home(&self) {}

    #[action(name = "home")]
    fn home_fast(&self) {}
}

fn main() {}
