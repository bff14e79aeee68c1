//! Bluesky plans driving the Rust server: `examples/bluesky` (ophyd-async Devices built from
//! the Thing Descriptions) runs its checks with the real `bluesky` and `ophyd-async`
//! packages against the built `microscope` example: a `scan` of the camera's sharpness over
//! the stage's z, a `count` of captures whose documents link the blobs, a move beyond the
//! limits failing with the server's reason, `stop()` cancelling a move on the server.
#![cfg(feature = "interop")]

mod support;

use std::process::Stdio;

#[tokio::test]
async fn bluesky_plans_drive_the_microscope() {
    let python = support::needs::python("the Bluesky test");
    let settings = tempfile::tempdir().unwrap();
    let (child, base) = support::program::listening(
        support::program::example("microscope")
            .args(["--port", "0", "--settings"])
            .arg(settings.path())
            .stderr(Stdio::null()),
    );
    let _served = support::program::Killed(Some(child));
    let script = format!("{}/examples/bluesky/check.py", env!("CARGO_MANIFEST_DIR"));
    let output = tokio::process::Command::new(python)
        .arg(&script)
        .arg(&base)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("all checks passed"),
        "{script}: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
