//! Fuzz target `ws_message`: see `harness::ws_message`.
#![no_main]

include!("../roots.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::ws_message(data));
