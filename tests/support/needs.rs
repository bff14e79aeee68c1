//! What a test needs from the machine, and the one rule for when it is missing: under CI
//! (`CI` set) the test fails; elsewhere it says in one line that it did not run.

use std::ffi::OsString;

/// Report that `test` cannot run here because it needs `needs`: a failure under CI, a
/// `NOT RUN` line on stderr elsewhere. The caller then returns.
pub(crate) fn not_run(test: &str, needs: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "{test} cannot run: it needs {needs}"
    );
    eprintln!("NOT RUN: {test} needs {needs} (`bash .ci/run` sets it up; under CI this fails)");
}

/// The environment variable `var`, or `None` having reported that `test` needs it, as
/// `what`.
pub(crate) fn var(test: &str, var: &str, what: &str) -> Option<OsString> {
    let value = std::env::var_os(var);
    if value.is_none() {
        not_run(test, &format!("{var}, {what}"));
    }
    value
}

/// `LABTHINGS_PYTHON`: a Python with LabThings-FastAPI 0.3.0.
pub(crate) fn python(test: &str) -> Option<OsString> {
    var(
        test,
        "LABTHINGS_PYTHON",
        "a Python with labthings-fastapi==0.3.0",
    )
}

/// `LABTHINGS_NODE_MODULES`: a `node_modules` holding `packages`.
pub(crate) fn node_modules(test: &str, packages: &str) -> Option<OsString> {
    var(
        test,
        "LABTHINGS_NODE_MODULES",
        &format!("a node_modules with {packages}"),
    )
}

/// The `mosquitto` program.
pub(crate) fn mosquitto(test: &str) -> Option<std::path::PathBuf> {
    let program = super::mosquitto::program();
    if program.is_none() {
        not_run(test, "Mosquitto (Debian `mosquitto`)");
    }
    program
}
