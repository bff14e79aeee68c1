use labthings::thing;

#[thing]
struct Stage {
    #[property]
    x: f64,
}

#[thing]
impl Stage {
    #[action(exclusive = "queued")]
    fn move_to(&self, x: f64) {
        self.x.set(x);
    }

    #[action(exclusive = "latest")]
    fn jog(&self) {}

    #[action(exclusive(queue))]
    fn home(&self) {}
}

fn main() {}
