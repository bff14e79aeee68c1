//! A counter Thing: the example of the README.
//!
//! Run with
//! ```sh
//! cargo run --example counter            # serve on http://127.0.0.1:5000/counter/
//! cargo run --example counter -- td      # print {"counter": <TD>} and exit
//! cargo run --example counter -- --config lab.toml
//! ```
//!
//! where `lab.toml` creates counters by type:
//! ```toml
//! [things.counter]
//! type = "Counter"
//! args = { start = 10, step = 2 }
//! ```
//!
//! Then, for example:
//! ```sh
//! curl http://127.0.0.1:5000/counter/count
//! curl -X PUT -H 'content-type: application/json' -d 5 http://127.0.0.1:5000/counter/step
//! curl -X POST http://127.0.0.1:5000/counter/increment
//! ```

#[path = "things/counter.rs"]
mod counter;

fn main() -> std::process::ExitCode {
    labthings::cli::App::new("counter")
        .thing("counter", counter::Counter::new)
        .thing_type("Counter", counter::Counter::with)
        .run()
}
