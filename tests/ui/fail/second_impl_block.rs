use labthings::thing;

#[thing]
struct Stage {
    #[property]
    position: f64,
}

#[thing]
impl Stage {
    #[action]
    fn home(&self) {}
}

#[thing]
impl Stage {
    #[action]
    fn park(&self) {}
}

fn main() {}
