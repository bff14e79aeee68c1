//! Fuzz target `macro_attr`: see `harness::macro_attr`.
#![no_main]

include!("../roots.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::macro_attr(data));
