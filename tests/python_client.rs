//! Wire compatibility: the LabThings-FastAPI 0.3.0 Python client drives a server publishing the
//! example counter (`tests/python/labthings_client.py`) and the simulated microscope
//! (`tests/python/microscope_client.py`). The Python interpreter (with `labthings-
//! fastapi==0.3.0` installed) is `LABTHINGS_PYTHON`; `./test.sh` creates one in a virtualenv.
//! Compiled only with the `interop` feature (`./test.sh` sets the parts up and turns it on);
//! without the part the test fails.

#![cfg(feature = "interop")]

#[path = "../examples/things/counter.rs"]
#[allow(dead_code)]
mod counter;
#[path = "../examples/things/microscope/mod.rs"]
mod microscope;
mod support;

use microscope::camera::CameraArgs;
use microscope::{Autofocus, Camera, Stage};

/// The interpreter (the test fails without it).
fn python() -> std::ffi::OsString {
    support::needs::python("the LabThings-FastAPI compatibility test")
}

/// Run `tests/python/{script}` against `url`; it prints "all checks passed" on success.
async fn run_script(python: std::ffi::OsString, script: &str, url: &str) {
    let script = format!("{}/tests/python/{script}", env!("CARGO_MANIFEST_DIR"));
    let output = tokio::process::Command::new(python)
        .arg(script)
        .arg(url)
        .output()
        .await
        .expect("the Python interpreter starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the Python client failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("all checks passed"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_labthings_fastapi_client_works_unchanged() {
    let python = python();
    let (addr, _shutdown) =
        support::start(labthings::ThingServer::new().thing("counter", counter::Counter::new()))
            .await;
    run_script(
        python,
        "labthings_client.py",
        &format!("http://{addr}/counter/"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_labthings_fastapi_client_drives_the_microscope() {
    let python = python();
    let settings = tempfile::tempdir().unwrap();
    let server = labthings::ThingServer::new()
        .settings_dir(settings.path())
        .thing("stage", Stage::new())
        .thing("camera", Camera::new(CameraArgs::default()))
        .thing("autofocus", Autofocus::new());
    let (addr, _shutdown) = support::start(server).await;
    run_script(python, "microscope_client.py", &format!("http://{addr}/")).await;
}
