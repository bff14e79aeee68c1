//! Interoperability: the TDs the server publishes (the counter and the microscope's stage,
//! camera and autofocus, as clients fetch them, with the MQTT binding's forms) pass the
//! Thingweb Playground's validator — JSON Schema, JSON-LD against the TD contexts, and its
//! additional checks (`tests/node/playground_validate.js`). `LABTHINGS_NODE_MODULES` names a
//! `node_modules` with `@thing-description-playground/core` (`./test.sh` installs it from
//! `tests/node/package.json`). Compiled only with the `interop` feature (`./test.sh` sets the
//! parts up and turns it on); without the part the test fails.

#![cfg(feature = "interop")]

#[path = "../examples/things/counter.rs"]
#[allow(dead_code)]
mod counter;
#[path = "../examples/things/microscope/mod.rs"]
mod microscope;
mod support;

use microscope::camera::CameraArgs;
use microscope::{Autofocus, Camera, Stage};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_tds_pass_the_thingweb_playground() {
    let modules =
        support::needs::node_modules("the Playground test", "@thing-description-playground/core");
    let settings = tempfile::tempdir().unwrap();
    let server = labthings::ThingServer::new()
        .settings_dir(settings.path())
        .token(labthings::Scope::Operate, "playground-token-0123456789")
        // The forms are in the TDs whether or not a broker answers.
        .mqtt(labthings::Mqtt::new("mqtt://127.0.0.1:1").unwrap())
        .thing("counter", counter::Counter::new())
        .thing("stage", Stage::new())
        .thing("camera", Camera::new(CameraArgs::default()))
        .thing("autofocus", Autofocus::new());
    let (addr, _) = support::start(server).await;
    let tds = reqwest::Client::new()
        .get(format!("http://{addr}/thing_descriptions/"))
        .bearer_auth("playground-token-0123456789")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let file = settings.path().join("tds.json");
    std::fs::write(&file, tds).unwrap();
    let stdout = support::node(modules, "playground_validate.js", &file).await;
    assert!(stdout.contains("all checks passed"), "{stdout}");
}
