//! The OpenFlexure microscope's v3 API, for its real clients (the gamepad client, the
//! LabThings-FastAPI client written for `labthings-sangaboard`): a Sangaboard `stage`, a
//! `camera` and an `autofocus`.
//!
//! Without `--config`, the stage is a simulated Sangaboard on a pseudo-terminal (the same
//! serial code path as a real board), so this runs on any machine; with
//! `examples/openflexure.toml`, on a real board (change its `port`).
//!
//! ```sh
//! cargo run --example openflexure -- --prefix /api/v3 --config examples/openflexure.toml  # a real board
//! cargo run --example openflexure -- --prefix /api/v3    # simulated: http://127.0.0.1:5000/api/v3/
//! ```
//!
//! Then, for example:
//! ```sh
//! curl http://127.0.0.1:5000/api/v3/stage/position
//! curl -X POST -H 'content-type: application/json' -d '{"x": 200, "y": 0, "z": 0}' \
//!     http://127.0.0.1:5000/api/v3/stage/jog
//! curl -X POST -H 'content-type: application/json' -d '{"dz": 2000, "start": "centre"}' \
//!     http://127.0.0.1:5000/api/v3/autofocus/fast_autofocus
//! ```

mod autofocus;
#[allow(dead_code)]
mod camera;
#[path = "../things/microscope/mod.rs"]
#[allow(unused_imports)]
mod microscope;
#[allow(dead_code)]
mod sim;
#[allow(dead_code)]
mod stage;

use std::path::PathBuf;
use std::sync::Mutex;

use autofocus::Autofocus;
use camera::Camera;
use sim::SimBoard;
use stage::{Sangaboard, SangaboardArgs};

/// Where the simulated camera is in focus.
const FOCUS: i64 = 300;

/// The simulated board, while the built-in stage uses it.
static SIMULATED: Mutex<Option<SimBoard>> = Mutex::new(None);

/// A simulated board on a fresh pseudo-terminal; the path of its port.
fn simulated_board() -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("labthings-openflexure-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let board =
        SimBoard::start(&dir.join("ttyACM0")).map_err(|e| format!("no pseudo-terminal: {e}"))?;
    let path = board.path().to_owned();
    *SIMULATED.lock().unwrap() = Some(board);
    Ok(path)
}

fn main() -> std::process::ExitCode {
    let code = labthings::cli::App::new("openflexure")
        .try_thing("stage", || {
            let port = simulated_board()?;
            Sangaboard::new(SangaboardArgs {
                port: port.display().to_string(),
                record: None,
                replay: None,
            })
        })
        .thing("camera", || Camera::new(FOCUS))
        .thing("autofocus", Autofocus::new)
        .thing_type("Sangaboard", Sangaboard::new)
        .thing_type("Camera", |args: CameraArgs| {
            Ok::<_, String>(Camera::new(args.focus))
        })
        .thing_type("Autofocus", |()| Ok::<_, String>(Autofocus::new()))
        .run();
    if let Some(board) = SIMULATED.lock().unwrap().take() {
        let dir = board.path().parent().map(PathBuf::from);
        drop(board);
        if let Some(dir) = dir {
            let _ = std::fs::remove_dir(dir);
        }
    }
    code
}

/// The camera's construction arguments.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
struct CameraArgs {
    /// The stage height at which the image is sharpest.
    focus: i64,
}

impl Default for CameraArgs {
    fn default() -> Self {
        Self { focus: FOCUS }
    }
}
