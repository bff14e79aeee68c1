use labthings::thing;

/// A stage.
#[thing]
pub struct Stage {}

#[thing]
impl Stage {}

/// A `#[slot]` whose field is not a slot.
#[thing]
pub struct Camera {
    #[slot]
    stage: std::sync::Arc<Stage>,
}

#[thing]
impl Camera {}

fn main() {}
