//! A simulated temperature controller with a background task that polls its sensor, served
//! by `cli::App` (`--port`, `--settings`, `td`, SIGTERM handled).
//!
//! Run with
//! ```sh
//! cargo run --example thermo                      # serve on http://127.0.0.1:5000/
//! ```
//!
//! Then, for example:
//! ```sh
//! curl http://127.0.0.1:5000/thermo/temperature
//! curl -X POST -H 'content-type: application/json' -d '{"target": 60, "rate": 5}' \
//!     http://127.0.0.1:5000/thermo/ramp_to
//! ```

#[path = "things/thermo.rs"]
mod thermo;

use std::sync::Arc;

fn main() -> std::process::ExitCode {
    // The program keeps the Thing too (to log its journal once the server has stopped).
    let thermo = Arc::new(thermo::Thermo::new());
    let code = labthings::cli::App::new("thermo")
        .shared_thing("thermo", thermo.clone())
        .run();
    for line in thermo.journal.lock().unwrap().iter() {
        eprintln!("journal: {line}");
    }
    code
}
