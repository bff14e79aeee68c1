//! Fuzz target `config`: see `harness::config`.
#![no_main]

include!("../roots.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::config(data));
