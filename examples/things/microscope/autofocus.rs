//! Autofocus: sweep the stage through z, score each image, go to the sharpest.

use labthings::{ActionContext, Slot, thing};
use serde::Serialize;

use super::camera::Camera;
use super::stage::{MoveError, Stage};

/// What an autofocus run found.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Focus {
    /// The z with the sharpest image, where the stage now is.
    pub best_z: i64,
    /// Each z visited and its sharpness.
    pub scores: Vec<(i64, f64)>,
}

/// An autofocus routine: it sweeps the stage through z and stops where the camera's image is
/// sharpest.
#[thing]
pub struct Autofocus {
    /// The stage it moves.
    #[slot]
    pub stage: Slot<Stage>,
    /// The camera it scores.
    #[slot]
    pub camera: Slot<Camera>,
    /// The range swept when a run does not say.
    #[property(setting, minimum = 1, unit = "steps")]
    pub default_range: i64,
}

#[thing]
impl Autofocus {
    /// Sweep z around the current position, over `range` in `steps` stops, and move to the
    /// sharpest.
    #[action(exclusive)]
    async fn run(
        &self,
        #[arg(
            minimum = 1,
            unit = "steps",
            description = "the z range swept (default: `default_range`)"
        )]
        range: Option<i64>,
        #[arg(
            minimum = 2,
            maximum = 1000,
            description = "the number of stops (default 21)"
        )]
        steps: Option<u32>,
        ctx: &ActionContext,
    ) -> Result<Focus, MoveError> {
        let range = range.unwrap_or_else(|| self.default_range.get());
        let steps = i64::from(steps.unwrap_or(21));
        let (stage, camera) = (self.stage.get(), self.camera.get());
        let start = stage.position.get();
        let mut scores = Vec::new();
        for i in 0..steps {
            let z = start.z - range / 2 + range * i / (steps - 1);
            stage.move_to(start.x, start.y, z, ctx).await?;
            scores.push((z, camera.sharpness_at(stage.position.get().z)));
            ctx.set_progress(100 * (i + 1) / (steps + 1));
        }
        let best_z = scores
            .iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map_or(start.z, |(z, _)| *z);
        stage.move_to(start.x, start.y, best_z, ctx).await?;
        ctx.set_progress(100);
        Ok(Focus { best_z, scores })
    }
}

impl Autofocus {
    /// An autofocus sweeping 2,000 steps by default.
    pub fn new() -> Self {
        Self {
            stage: Slot::new(),
            camera: Slot::new(),
            default_range: 2_000.into(),
        }
    }
}

impl Default for Autofocus {
    fn default() -> Self {
        Self::new()
    }
}
