//! The dashboard's plots and structured values in headless Chromium: a numeric property's plot
//! is seeded from its value history and follows the values written over HTTP afterwards;
//! objects are shown and edited field by field (nested), arrays item by item, and what the
//! fields say is what the server stores. Screenshots are saved under `target/dashboard/`. Needs
//! `chromium` and `chromedriver` (see `tests/dashboard.rs`); compiled with `interop` only.

#![cfg_attr(not(feature = "interop"), allow(dead_code, unused_imports))]

#[path = "../examples/things/counter.rs"]
#[allow(dead_code)]
mod counter;
#[path = "../examples/things/microscope/mod.rs"]
#[allow(unused_imports)]
mod microscope;
mod support;

use std::net::SocketAddr;
use std::time::Instant;

use fantoccini::{Client, Locator};
use labthings::{ThingServer, thing};
use serde_json::{Value, json};
use support::browser::{Browser, PATIENCE, click, wait_text};

/// A Thing with an array property, for the array editor.
#[thing]
#[derive(Debug)]
pub struct Plan {
    /// The exposure times to take, in order.
    #[property(observable)]
    pub exposures: Vec<f64>,
}

#[thing]
impl Plan {}

async fn put(addr: SocketAddr, path: &str, value: Value) {
    let response = reqwest::Client::new()
        .put(format!("http://{addr}/{path}"))
        .json(&value)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{path}");
}

async fn get(addr: SocketAddr, path: &str) -> Value {
    let response = reqwest::get(format!("http://{addr}/{path}")).await.unwrap();
    response.json().await.unwrap()
}

/// Wait until `script`'s value satisfies `ok`; returns it. The page changes on its own.
async fn wait_js(page: &Client, script: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    let mut last = Value::Null;
    while started.elapsed() < PATIENCE {
        if let Ok(value) = page.execute(script, vec![]).await {
            if ok(&value) {
                return value;
            }
            last = value;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("`{script}` never gave what was expected; it gives {last}");
}

/// Consecutive repeats taken out: the value sent on subscription repeats the latest one.
fn changes(values: &Value) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for value in values.as_array().unwrap() {
        if out.last() != Some(value) {
            out.push(value.clone());
        }
    }
    out
}

#[cfg(feature = "interop")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plot_is_seeded_from_the_history_and_follows_the_values_written() {
    let browser = Browser::start().await;
    let server = ThingServer::new().thing("counter", counter::Counter::new());
    let (addr, _shutdown) = support::start(server).await;
    // Written before the page opens: only the history has them.
    for step in [5, 9, 3] {
        put(addr, "counter/step", json!(step)).await;
    }
    let page = &browser.client;
    page.goto(&format!("http://{addr}/")).await.unwrap();
    let plot = r#"[data-thing="counter"][data-property="step"] .plot"#;
    let data = format!("return document.querySelector('{plot}')?.uplot?.data ?? null;");
    let seeded = format!("return document.querySelector('{plot}')?.dataset.history ?? null;");
    wait_js(page, &seeded, |v| v == "seeded").await;
    wait_text(page, "#connection", |t| t == "connected").await;

    // The seeded points sit at the times the history gives them.
    let history = get(addr, "counter/step/history").await;
    let shown = wait_js(page, &data, |d| {
        d[1].as_array().is_some_and(|v| v.len() >= 4)
    })
    .await;
    for (i, sample) in history["samples"].as_array().unwrap().iter().enumerate() {
        let time = humantime::parse_rfc3339(sample["time"].as_str().unwrap()).unwrap();
        let seconds = time
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        let x = shown[0][i].as_f64().unwrap();
        assert!(
            (x - seconds).abs() < 1e-6,
            "point {i} at {x}, sample at {seconds}"
        );
        assert_eq!(shown[1][i], sample["value"], "point {i}");
    }

    // Then each value written over HTTP joins the plot, in order, live.
    for step in [42, 17, 64] {
        put(addr, "counter/step", json!(step)).await;
    }
    let expected = [1, 5, 9, 3, 42, 17, 64].map(|v| json!(v));
    let shown = wait_js(page, &data, |d| changes(&d[1]) == expected).await;
    let times = shown[0].as_array().unwrap();
    assert!(
        times.windows(2).all(|w| w[0].as_f64() <= w[1].as_f64()),
        "{shown}"
    );
    // The count, read-only, plots too.
    assert!(
        page.find(Locator::Css(
            r#"[data-thing="counter"][data-property="count"] .plot"#
        ))
        .await
        .is_ok()
    );
    // A string property gets no plot.
    assert!(
        page.find(Locator::Css(
            r#"[data-thing="counter"][data-property="label"] .plot"#
        ))
        .await
        .is_err()
    );
    browser.screenshot("plots").await;
    browser.close().await;
}

#[cfg(feature = "interop")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_and_arrays_are_shown_and_edited_field_by_field() {
    use microscope::Stage;
    let browser = Browser::start().await;
    let settings = tempfile::tempdir().unwrap();
    let plan = Plan {
        exposures: vec![1.0, 2.5].into(),
    };
    let server = ThingServer::new()
        .settings_dir(settings.path())
        .thing("stage", Stage::new())
        .thing("plan", plan);
    let (addr, _shutdown) = support::start(server).await;
    let page = &browser.client;
    page.goto(&format!("http://{addr}/")).await.unwrap();
    wait_text(page, "#connection", |t| t == "connected").await;

    // A nested object, shown field by field.
    let limits = r#"[data-thing="stage"][data-property="limits"]"#;
    let max_x_view = format!(r#"{limits} .value dd[data-field="max"] dd[data-field="x"]"#);
    wait_text(page, &max_x_view, |t| t == "100000").await;
    let position = r#"[data-thing="stage"][data-property="position"] .value dd[data-field="z"]"#;
    wait_text(page, position, |t| t == "0").await;

    // Edited field by field: the other fields keep the values shown.
    let max_x = format!(r#"{limits} .editor [data-field="max"] input[data-field="x"]"#);
    let input = page.find(Locator::Css(&max_x)).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys("1.5").await.unwrap();
    click(page, &format!("{limits} .write")).await;
    let refusal = wait_text(page, &format!("{limits} .problem"), |t| !t.is_empty()).await;
    assert!(
        refusal.contains("max: x: 1.5 is not an integer"),
        "{refusal}"
    );
    input.clear().await.unwrap();
    input.send_keys("5000").await.unwrap();
    click(page, &format!("{limits} .write")).await;
    wait_text(page, &max_x_view, |t| t == "5000").await;
    let stored = get(addr, "stage/limits").await;
    let mut expected = stored.clone();
    expected["max"]["x"] = json!(5000);
    assert_eq!(stored, expected);
    assert_eq!(
        stored["min"],
        json!({"x": -100000, "y": -100000, "z": -100000})
    );
    assert_eq!(stored["max"]["y"], 100000);

    // An array, item by item: remove the first, add one, write.
    let exposures = r#"[data-thing="plan"][data-property="exposures"]"#;
    let items = format!("{exposures} .value li");
    wait_text(page, &items, |t| t == "1").await;
    click(page, &format!("{exposures} .editor .remove-item")).await;
    click(page, &format!("{exposures} .editor .add-item")).await;
    let new_item = format!("{exposures} .editor .item:nth-child(2) input");
    let input = page.find(Locator::Css(&new_item)).await.unwrap();
    input.send_keys("7").await.unwrap();
    click(page, &format!("{exposures} .write")).await;
    wait_text(page, &items, |t| t == "2.5").await;
    let texts = format!(
        "return [...document.querySelectorAll('{}')].map((li) => li.textContent);",
        items.replace('\'', "\\'")
    );
    wait_js(page, &texts, |v| v == &json!(["2.5", "7"])).await;
    assert_eq!(get(addr, "plan/exposures").await, json!([2.5, 7.0]));
    browser.screenshot("fields").await;
    browser.close().await;
}

/// The dashboard colours a value by its quality: the camera's sensor warms into warning and
/// alarm as its exposure grows, and its value's colour follows.
#[cfg(feature = "interop")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_are_coloured_by_their_quality() {
    use microscope::camera::CameraArgs;
    use microscope::{Camera, Stage};
    let browser = Browser::start().await;
    let settings = tempfile::tempdir().unwrap();
    let server = ThingServer::new()
        .settings_dir(settings.path())
        .thing("stage", Stage::new())
        .thing("camera", Camera::new(CameraArgs::default()));
    let (addr, _shutdown) = support::start(server).await;
    let page = &browser.client;
    page.goto(&format!("http://{addr}/")).await.unwrap();
    wait_text(page, "#connection", |t| t == "connected").await;
    let row = r#"[data-thing="camera"][data-property="sensor_temperature"]"#;
    let quality = format!("return document.querySelector('{row}')?.dataset.quality ?? null;");
    let colour = format!("return getComputedStyle(document.querySelector('{row} .value')).color;");
    wait_js(page, &quality, |q| q == "valid").await;
    let valid = page.execute(&colour, vec![]).await.unwrap();
    for (exposure, expected) in [(600.0, "warning"), (900.0, "alarm"), (10.0, "valid")] {
        put(addr, "camera/exposure_ms", json!(exposure)).await;
        wait_js(page, &quality, |q| q == expected).await;
        let shown = page.execute(&colour, vec![]).await.unwrap();
        assert_eq!(shown == valid, expected == "valid", "{expected}: {shown}");
    }
    browser.screenshot("quality").await;
    browser.close().await;
}
