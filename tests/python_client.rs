//! Wire compatibility: the LabThings-FastAPI 0.3.0 Python client drives a server publishing
//! the example counter (`tests/python/labthings_client.py`).
//!
//! The Python interpreter (with `labthings-fastapi==0.3.0` installed) is `LABTHINGS_PYTHON`;
//! `.ci/run` creates one in a virtualenv. Without it the test says, in one line, that it did
//! not run; when `CI` is set it fails instead.

#[path = "../examples/things/counter.rs"]
#[allow(dead_code)]
mod counter;
mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_labthings_fastapi_client_works_unchanged() {
    let Some(python) = std::env::var_os("LABTHINGS_PYTHON") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "LABTHINGS_PYTHON is not set: the compatibility test cannot run"
        );
        eprintln!(
            "NOT RUN: the LabThings-FastAPI compatibility test needs LABTHINGS_PYTHON, a Python \
             with labthings-fastapi==0.3.0 (`bash .ci/run` sets one up; under CI this fails)"
        );
        return;
    };
    let (addr, _shutdown) =
        support::start(labthings::ThingServer::new().thing("counter", counter::Counter::new()))
            .await;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/labthings_client.py"
    );
    let url = format!("http://{addr}/counter/");
    let output = tokio::process::Command::new(python)
        .arg(script)
        .arg(&url)
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
