//! Fuzz target `settings`: see `harness::settings`.
#![no_main]

include!("../roots.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::settings(data));
