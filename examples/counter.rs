//! A counter Thing: the example of the README.
//!
//! Run with
//! ```sh
//! cargo run --example counter            # serve on http://127.0.0.1:5000/counter/
//! cargo run --example counter -- td      # print {"counter": <TD>} and exit
//! ```

#[path = "things/counter.rs"]
mod counter;

fn main() -> std::process::ExitCode {
    labthings::cli::App::new("counter")
        .thing("counter", counter::Counter::new)
        .run()
}
