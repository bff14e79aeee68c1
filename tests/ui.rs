//! Compile-time checks of the macros (trybuild).
//!
//! The `.stderr` files are the exact compiler output, which changes between compiler
//! versions: the test runs only on the stable compiler they were recorded with. After an
//! intended change of a message, regenerate them with
//! `TRYBUILD=overwrite cargo test --test ui` and review the diff.

#[rustversion::attr(
    not(stable(1.95)),
    ignore = "the .stderr files are recorded with rustc 1.95"
)]
#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
