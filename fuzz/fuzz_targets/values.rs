//! Fuzz target `values`: see `harness::values`.
#![no_main]

include!("../roots.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::values(data));
