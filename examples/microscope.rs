//! A simulated microscope: a stage, a camera and an autofocus routine that drives both.
//!
//! Run with
//! ```sh
//! cargo run --example microscope                       # serve on http://127.0.0.1:5000/
//! cargo run --example microscope -- --settings /tmp/s  # keep settings elsewhere
//! cargo run --example microscope -- --config examples/microscope.toml
//! ```
//!
//! Then, for example:
//! ```sh
//! curl -X POST -H 'content-type: application/json' -d '{"x": 100, "y": 0, "z": 1000}' \
//!     http://127.0.0.1:5000/stage/move_to
//! curl http://127.0.0.1:5000/camera/sharpness
//! curl -X POST -H 'content-type: application/json' -d '{"range": 3000}' \
//!     http://127.0.0.1:5000/autofocus/run
//! ```

#[path = "things/microscope/mod.rs"]
mod microscope;

use microscope::camera::CameraArgs;
use microscope::{Autofocus, Camera, Stage};

fn main() -> std::process::ExitCode {
    labthings::cli::App::new("microscope")
        .thing("stage", Stage::new)
        .thing("camera", || Camera::new(CameraArgs::default()))
        .thing("autofocus", Autofocus::new)
        .thing_type("Stage", |()| Ok::<_, String>(Stage::new()))
        .thing_type("Camera", |args: CameraArgs| {
            Ok::<_, String>(Camera::new(args))
        })
        .thing_type("Autofocus", |()| Ok::<_, String>(Autofocus::new()))
        .run()
}
