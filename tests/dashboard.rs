//! The dashboard in a real browser: headless Chromium driven through WebDriver (`chromedriver`)
//! opens the page of the example counter, sees `count`, invokes `increment` and sees `count`
//! change without a reload, is refused `step` 1000 with the server's explanation, starts `wait`
//! and cancels it; uploads a JPEG file for the camera's `analyse`; and, on a server that needs
//! tokens, is asked for one and then shows the Thing. Screenshots are saved under
//! `target/dashboard/`. It needs `chromium` and `chromedriver` (Debian's `chromium` and
//! `chromium-driver`, which `./test.sh` installs; `LABTHINGS_CHROMEDRIVER` and
//! `LABTHINGS_CHROMIUM` name others). Compiled only with the `interop` feature (`./test.sh`
//! sets the parts up and turns it on); without the part the test fails.

// Without `interop`, the helpers of the tests that need outside parts go unused.
#![cfg_attr(not(feature = "interop"), allow(dead_code, unused_imports))]

#[path = "../examples/things/counter.rs"]
#[allow(dead_code)]
mod counter;
#[path = "../examples/things/microscope/mod.rs"]
#[allow(unused_imports)]
mod microscope;
mod support;

use fantoccini::Locator;
use serde_json::json;
use support::browser::{Browser, PATIENCE, click, wait_text};

#[cfg(feature = "interop")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_drives_the_counter_in_a_browser() {
    let browser = Browser::start().await;
    let (addr, _shutdown) =
        support::start(labthings::ThingServer::new().thing("counter", counter::Counter::new()))
            .await;
    let page = &browser.client;
    page.goto(&format!("http://{addr}/")).await.unwrap();

    let count = r#"[data-thing="counter"][data-property="count"] .value"#;
    wait_text(page, count, |t| t == "0").await;
    wait_text(page, "#connection", |t| t == "connected").await;
    // A mark that a reload would erase.
    page.execute("window.notReloaded = true; return null;", vec![])
        .await
        .unwrap();

    click(
        page,
        r#"[data-thing="counter"][data-action="increment"] .invoke"#,
    )
    .await;
    wait_text(page, count, |t| t == "1").await;
    click(
        page,
        r#"[data-thing="counter"][data-action="increment"] .invoke"#,
    )
    .await;
    wait_text(page, count, |t| t == "2").await;
    let kept = page
        .execute("return window.notReloaded === true;", vec![])
        .await
        .unwrap();
    assert_eq!(kept, json!(true), "the page was reloaded");

    // A write out of range: refused, with the server's detail shown beside the property.
    let step = r#"[data-thing="counter"][data-property="step"]"#;
    let input = page
        .find(Locator::Css(&format!("{step} .input")))
        .await
        .unwrap();
    input.clear().await.unwrap();
    input.send_keys("1000").await.unwrap();
    click(page, &format!("{step} .write")).await;
    let refusal = wait_text(page, &format!("{step} .problem"), |t| !t.is_empty()).await;
    assert!(
        refusal.contains("100"),
        "the refusal says the limit: {refusal}"
    );
    wait_text(page, &format!("{step} .value"), |t| t == "1").await;
    browser.screenshot("counter-refused").await;

    // A long wait, cancelled from the page.
    let wait = r#"[data-thing="counter"][data-action="wait"]"#;
    let seconds = page
        .find(Locator::Css(&format!(r#"{wait} [data-field="seconds"]"#)))
        .await
        .unwrap();
    seconds.clear().await.unwrap();
    seconds.send_keys("600").await.unwrap();
    click(page, &format!("{wait} .invoke")).await;
    let status = format!("{wait} .invocation .status");
    wait_text(page, &status, |t| t == "running").await;
    click(page, &format!("{wait} .invocation .cancel")).await;
    wait_text(page, &status, |t| t == "cancelled").await;
    browser.screenshot("counter").await;

    // What the page did, the server did.
    let body = reqwest::get(format!("http://{addr}/counter/count"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "2");
    browser.close().await;
}

/// An action that takes binary data gets a file input: the file is uploaded, and its link
/// passed; the camera analyses it as it analyses the same JPEG passed by the Rust client.
#[cfg(feature = "interop")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_uploads_a_file_for_an_action_that_takes_one() {
    use labthings::client::TypedClient;
    use microscope::camera::{CameraArgs, CameraClient};
    use microscope::{Camera, Stage};
    let browser = Browser::start().await;
    let settings = tempfile::tempdir().unwrap();
    let server = labthings::ThingServer::new()
        .settings_dir(settings.path())
        .thing("stage", Stage::new())
        .thing("camera", Camera::new(CameraArgs::default()));
    let (addr, _shutdown) = support::start(server).await;
    // A JPEG on disk, and what the camera makes of it.
    let camera = CameraClient::connect(&format!("http://{addr}/camera/"))
        .await
        .unwrap();
    let image = camera.capture().await.unwrap();
    let jpeg = camera.thing().download(&image).await.unwrap();
    let file = settings.path().join("frame.jpg");
    std::fs::write(&file, jpeg.as_bytes().unwrap()).unwrap();
    let expected = serde_json::to_value(camera.analyse(image).await.unwrap()).unwrap();

    let page = &browser.client;
    page.goto(&format!("http://{addr}/")).await.unwrap();
    let analyse = r#"[data-thing="camera"][data-action="analyse"]"#;
    let input = page
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css(&format!(
            r#"{analyse} input[type="file"][data-field="image"]"#
        )))
        .await
        .expect("a file input for the image");
    assert_eq!(
        input.attr("accept").await.unwrap().as_deref(),
        Some("image/jpeg")
    );
    // Invoked without a file: said so, nothing sent.
    click(page, &format!("{analyse} .invoke")).await;
    wait_text(page, &format!("{analyse} > .problem"), |t| {
        t.contains("choose a file")
    })
    .await;
    input.send_keys(file.to_str().unwrap()).await.unwrap();
    click(page, &format!("{analyse} .invoke")).await;
    let status = format!("{analyse} .invocation .status");
    wait_text(page, &status, |t| t == "completed").await;
    let output = wait_text(page, &format!("{analyse} .invocation pre"), |t| {
        !t.is_empty()
    })
    .await;
    let shown: serde_json::Value = serde_json::from_str(&output).unwrap();
    assert_eq!(shown, expected);
    browser.screenshot("camera-upload").await;
    browser.close().await;
}

#[cfg(feature = "interop")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_asks_for_a_token_when_the_server_needs_one() {
    let browser = Browser::start().await;
    let server = labthings::ThingServer::new()
        .token(labthings::Scope::Operate, "dash/board+token=01234")
        .thing("counter", counter::Counter::new());
    let (addr, _shutdown) = support::start(server).await;
    let page = &browser.client;
    page.goto(&format!("http://{addr}/")).await.unwrap();

    let form = page
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css("#token-form:not([hidden]) #token-input"))
        .await
        .expect("the page asks for a token");
    form.send_keys("dash/board+token=01234").await.unwrap();
    click(page, "#token-form button").await;
    // The token works for HTTP (the TDs, the value) and for the WebSocket (its query).
    let count = r#"[data-thing="counter"][data-property="count"] .value"#;
    wait_text(page, count, |t| t == "0").await;
    wait_text(page, "#connection", |t| t == "connected").await;
    click(
        page,
        r#"[data-thing="counter"][data-action="increment"] .invoke"#,
    )
    .await;
    wait_text(page, count, |t| t == "1").await;
    browser.screenshot("token").await;
    browser.close().await;
}

/// The page's files over plain HTTP: under a prefix, without a token (they hold no state),
/// with a policy that keeps the page to its own server; the Host check still applies.
#[tokio::test]
async fn the_dashboard_files_are_served_under_the_prefix_without_a_token() {
    let server = labthings::ThingServer::new()
        .prefix("/api")
        .token(labthings::Scope::Operate, "operator-token-0123456789")
        .thing("counter", counter::Counter::new());
    let (addr, _shutdown) = support::start(server).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |path: &str| client.get(format!("http://{addr}{path}")).send();

    // Its links are relative: the prefix itself is sent to its directory.
    let response = get("/api").await.unwrap();
    assert_eq!(response.status(), 308);
    assert_eq!(response.headers()["location"], "/api/");
    for (path, media_type) in [
        ("/api/", "text/html"),
        ("/api/dashboard.js", "text/javascript"),
        ("/api/dashboard.css", "text/css"),
    ] {
        let response = get(path).await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers();
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with(media_type),
            "{path}: {:?}",
            headers["content-type"]
        );
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert!(!response.text().await.unwrap().is_empty());
    }
    // Everything else still needs the token, and the files are not served outside the prefix.
    assert_eq!(get("/api/thing_descriptions/").await.unwrap().status(), 401);
    assert_eq!(get("/api/counter/count").await.unwrap().status(), 401);
    let outside = client
        .get(format!("http://{addr}/dashboard.js"))
        .header("authorization", "Bearer operator-token-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(outside.status(), 404);
    // A POST to the page is not a way around anything.
    let post = client
        .post(format!("http://{addr}/api/"))
        .header("authorization", "Bearer operator-token-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 405);
    // DNS rebinding: a foreign Host is refused, page included.
    let (status, _) = support::raw(
        addr,
        "GET /api/ HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status, 421);
}
