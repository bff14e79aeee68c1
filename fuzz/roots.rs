// The modules every fuzz target declares at its root (each target includes this file; the
// paths are relative to it): the example Things, the shared harness, and the macro crate's
// modules, compiled here without `proc_macro`.

#[path = "../examples/things/counter.rs"]
#[allow(dead_code, unreachable_pub)]
mod counter;
#[path = "../examples/things/microscope/mod.rs"]
mod microscope;
#[path = "harness.rs"]
#[allow(dead_code)]
mod harness;

#[path = "../labthings-macros/src/internals/mod.rs"]
mod internals;
#[path = "../labthings-macros/src/expand/mod.rs"]
mod expand;
#[path = "../labthings-macros/src/pipeline.rs"]
#[allow(dead_code)]
mod pipeline;
