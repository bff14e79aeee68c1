//! A simulated camera that looks through the stage: its image is sharpest at one focus height.

use labthings::{Slot, thing};

use super::stage::Stage;

/// A simulated camera.
///
/// It looks at the sample on the stage; the image is sharpest when the stage's z is at the
/// camera's focus height.
#[thing]
pub struct Camera {
    /// The stage under the camera.
    #[slot]
    pub stage: Slot<Stage>,
    /// The exposure time.
    #[property(setting, observable, minimum = 0.01, maximum = 1000.0, unit = "ms")]
    pub exposure_ms: f64,
    focus: i64,
}

#[thing]
impl Camera {
    /// How sharp the image is: 1 in focus, falling off with the distance from focus.
    #[property]
    fn sharpness(&self) -> f64 {
        self.sharpness_at(self.stage.get().position.get().z)
    }
}

/// Construction arguments of a [`Camera`].
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CameraArgs {
    /// The z at which the image is sharpest.
    pub focus: i64,
}

impl Default for CameraArgs {
    fn default() -> Self {
        Self { focus: 1_234 }
    }
}

impl Camera {
    /// A camera in focus at `args.focus`.
    pub fn new(args: CameraArgs) -> Self {
        Self {
            stage: Slot::new(),
            exposure_ms: 10.0.into(),
            focus: args.focus,
        }
    }

    /// The sharpness of the image at height `z`.
    pub fn sharpness_at(&self, z: i64) -> f64 {
        let defocus = (z - self.focus) as f64 / 200.0;
        1.0 / (1.0 + defocus * defocus)
    }

    /// The focus height.
    pub fn focus(&self) -> i64 {
        self.focus
    }
}
