//! A Thing with states: actions and writes gated by them.

use labthings::thing;
use serde::{Deserialize, Serialize};

/// What the stage does.
#[derive(Clone, Copy, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
enum StageState {
    Idle,
    Moving,
    Fault,
}

#[thing]
struct Stage {
    #[property(state)]
    state: StageState,
    #[property(allowed_in(Idle, Fault))]
    limits: f64,
    gain: std::sync::Mutex<f64>,
}

#[thing]
impl Stage {
    #[action(exclusive = "queue", allowed_in(Idle))]
    fn home(&self) {
        self.state.set(StageState::Moving);
        self.state.set(StageState::Idle);
    }

    #[property(allowed_in(Idle))]
    fn gain(&self) -> f64 {
        *self.gain.lock().unwrap()
    }

    #[property(setter)]
    fn set_gain(&self, value: f64) {
        *self.gain.lock().unwrap() = value;
    }
}

fn main() {}
