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
    let script = "examples/bluesky/check.py";
    support::program::checks_at(python, script, &[base.as_ref()]).await;
}
