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
    #[property(state, setting)]
    again: StageState,
    #[property(read_only, allowed_in(Idle))]
    position: f64,
    #[property(allowed_in())]
    speed: f64,
    #[property(allowed_in = "Idle")]
    limits: f64,
    #[property(allowed_in(Idle, Idle))]
    offset: f64,
}

#[thing]
impl Stage {
    #[property(state)]
    fn mode(&self) -> StageState {
        self.state.get()
    }

    #[property(allowed_in(Idle))]
    fn temperature(&self) -> f64 {
        20.0
    }
}

fn main() {}
