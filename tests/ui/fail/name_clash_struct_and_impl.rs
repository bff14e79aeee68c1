use labthings::thing;

#[thing]
struct Stage {
    #[property]
    position: f64,
}

#[thing]
impl Stage {
    #[action(name = "position")]
    fn move_to(&self, target: f64) {
        let _ = target;
    }
}

fn main() {}
