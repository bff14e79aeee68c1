use labthings::thing;

struct ActionContext;

#[thing]
struct Stage {
    #[property]
    position: f64,
}

#[thing]
impl Stage {
    #[action]
    fn nudge(&self, by: &f64) {
        let _ = by;
    }

    #[action]
    fn home(&self, ctx: ActionContext) {
        let _ = ctx;
    }
}

fn main() {}
