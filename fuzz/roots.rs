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

#[path = "../labthings-macros/src/ast.rs"]
mod ast;
#[path = "../labthings-macros/src/attr.rs"]
mod attr;
#[path = "../labthings-macros/src/check.rs"]
mod check;
#[path = "../labthings-macros/src/ctx.rs"]
mod ctx;
#[path = "../labthings-macros/src/doc.rs"]
mod doc;
#[path = "../labthings-macros/src/error.rs"]
mod error;
#[path = "../labthings-macros/src/expand_client.rs"]
mod expand_client;
#[path = "../labthings-macros/src/expand_impl.rs"]
mod expand_impl;
#[path = "../labthings-macros/src/expand_struct.rs"]
mod expand_struct;
#[path = "../labthings-macros/src/pipeline.rs"]
#[allow(dead_code)]
mod pipeline;
