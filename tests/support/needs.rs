//! What the interoperability tests need from the machine: a Python with LabThings-FastAPI,
//! node packages, Chromium, Mosquitto, Prometheus.
//!
//! Those tests are compiled only with the `interop` feature, which `./test.sh` turns on once
//! it has set the parts up; a part that is missing then fails the test, naming what to
//! install. No test reports `ok` without having run.

use std::ffi::OsString;
use std::path::PathBuf;

/// Fail `test`, which cannot run here because it needs `needs`.
pub(crate) fn missing(test: &str, needs: &str) -> ! {
    panic!("{test} cannot run: it needs {needs} (`./test.sh` sets it up)")
}

/// The environment variable `var`; `test` fails without it (`what` says what it names).
pub(crate) fn var(test: &str, var: &str, what: &str) -> OsString {
    std::env::var_os(var).unwrap_or_else(|| missing(test, &format!("{var}, {what}")))
}

/// `LABTHINGS_PYTHON`: a Python with LabThings-FastAPI 0.3.0.
pub(crate) fn python(test: &str) -> OsString {
    var(
        test,
        "LABTHINGS_PYTHON",
        "a Python with labthings-fastapi==0.3.0",
    )
}

/// `LABTHINGS_NODE_MODULES`: a `node_modules` holding `packages`.
pub(crate) fn node_modules(test: &str, packages: &str) -> OsString {
    var(
        test,
        "LABTHINGS_NODE_MODULES",
        &format!("a node_modules with {packages}"),
    )
}

/// The `mosquitto` program.
pub(crate) fn mosquitto(test: &str) -> PathBuf {
    super::mosquitto::program().unwrap_or_else(|| missing(test, "Mosquitto (Debian `mosquitto`)"))
}

/// The `prometheus` program (Debian's `prometheus`).
pub(crate) fn prometheus(test: &str) -> PathBuf {
    ["/usr/bin/prometheus", "/usr/local/bin/prometheus"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| missing(test, "Prometheus (Debian `prometheus`)"))
}
