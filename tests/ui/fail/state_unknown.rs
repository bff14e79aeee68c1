use labthings::thing;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Serialize, Deserialize, schemars::JsonSchema)]
enum StageState {
    Idle,
    Moving,
}

#[thing]
struct Stage {
    #[property(state)]
    state: StageState,
    #[property(allowed_in(Idel))]
    limits: f64,
}

#[thing]
impl Stage {
    #[action(allowed_in(Idle, Mooving))]
    fn home(&self) {}
}

fn main() {}
