use labthings::{thing, TaskContext};

#[thing]
struct Heater {
    #[property]
    on: bool,
}

#[thing]
impl Heater {
    #[task]
    async fn poll(&self, ctx: &TaskContext, period_ms: u64) {
        let _ = (ctx, period_ms);
    }

    #[task(period = 5)]
    fn tick(&mut self) {}
}

fn main() {}
