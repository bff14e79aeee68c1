//! The OpenFlexure v3 server's fast autofocus: sweep the stage through ±dz/2 around where it
//! is, score the camera's image at each stop, and end where it is sharpest.

#![allow(unreachable_pub)]

use labthings::{ActionContext, Problem, Slot, thing};

use super::camera::Camera;
use super::microscope::autofocus::Focus;
use super::stage::{Position, Sangaboard};

/// The number of stops of a sweep.
const STOPS: i64 = 11;

/// Autofocus for the OpenFlexure microscope.
#[thing]
pub struct Autofocus {
    /// The stage it moves.
    #[slot]
    pub stage: Slot<Sangaboard>,
    /// The camera it scores.
    #[slot]
    pub camera: Slot<Camera>,
}

impl Default for Autofocus {
    fn default() -> Self {
        Self::new()
    }
}

impl Autofocus {
    /// With its slots to connect.
    pub fn new() -> Self {
        Self {
            stage: Slot::new(),
            camera: Slot::new(),
        }
    }
}

#[thing]
impl Autofocus {
    /// Sweep z over `dz` steps centred on the current position and move to the sharpest.
    #[action(exclusive)]
    async fn fast_autofocus(
        &self,
        #[arg(minimum = 2, unit = "steps")] dz: Option<i64>,
        start: Option<String>,
        sharpness_metric: Option<i64>,
        ctx: &ActionContext,
    ) -> Result<Focus, Problem> {
        let _ = sharpness_metric;
        if start.as_deref().is_some_and(|s| s != "centre") {
            return Err(Problem::invalid("`start` is \"centre\"", vec![]));
        }
        let dz = dz.unwrap_or(2000);
        let (stage, camera) = (self.stage.get(), self.camera.get());
        let centre = stage.position.get().z;
        let mut scores = Vec::new();
        let mut at = centre;
        for i in 0..STOPS {
            let z = centre - dz / 2 + dz * i / (STOPS - 1);
            stage
                .move_by(
                    Position {
                        x: 0,
                        y: 0,
                        z: z - at,
                    },
                    ctx,
                )
                .await?;
            at = stage.position.get().z;
            scores.push((at, camera.sharpness_at(at)));
            ctx.set_progress((100 * (i + 1) / (STOPS + 1)) as u32);
        }
        let best_z = scores
            .iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map_or(centre, |(z, _)| *z);
        stage
            .move_by(
                Position {
                    x: 0,
                    y: 0,
                    z: best_z - at,
                },
                ctx,
            )
            .await?;
        ctx.set_progress(100);
        Ok(Focus { best_z, scores })
    }
}
