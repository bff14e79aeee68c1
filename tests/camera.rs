//! The simulated camera, MJPEG streams and blobs through real HTTP: frames that are JPEG
//! images, fifty viewers at once, a viewer that never reads, a capture downloaded as a blob,
//! an upload passed to an action.

#[path = "../examples/things/microscope/mod.rs"]
mod microscope;
mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use labthings::{MjpegStream, thing};
use microscope::camera::CameraArgs;
use microscope::{Autofocus, Camera, Stage};
use serde_json::{Value, json};
use support::mjpeg;

async fn microscope() -> (SocketAddr, tempfile::TempDir) {
    let settings = tempfile::tempdir().unwrap();
    let server = labthings::ThingServer::new()
        .settings_dir(settings.path())
        .thing("stage", Stage::new())
        .thing("camera", Camera::new(CameraArgs::default()))
        .thing("autofocus", Autofocus::new());
    (support::start(server).await.0, settings)
}

/// The pixels of a JPEG image, or a panic saying why it is not one.
fn decode(jpeg: &[u8]) -> (Vec<u8>, u16, u16) {
    let mut decoder = jpeg_decoder::Decoder::new(jpeg);
    let pixels = decoder.decode().expect("a valid JPEG");
    let info = decoder.info().unwrap();
    (pixels, info.width, info.height)
}

/// Wait for an invocation to end, on its own URL; returns its final JSON.
async fn finished(href: &str) -> Value {
    loop {
        let status: Value = reqwest::get(href).await.unwrap().json().await.unwrap();
        if !matches!(status["status"].as_str(), Some("pending" | "running")) {
            return status;
        }
    }
}

async fn invoke(addr: SocketAddr, path: &str, input: Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!("http://{addr}{path}"))
        .json(&input)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let invocation: Value = response.json().await.unwrap();
    finished(invocation["href"].as_str().unwrap()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_preview_is_a_stream_of_jpeg_images_that_follow_the_stage() {
    let (addr, _settings) = microscope().await;
    let mut stream = mjpeg::Stream::open(&format!("http://{addr}/camera/preview")).await;
    let mut last = 0;
    for _ in 0..10 {
        let part = stream.next().await.unwrap();
        assert!(part.number > last, "frames in order");
        last = part.number;
        let (pixels, width, height) = decode(&part.jpeg);
        assert_eq!((width, height), (640, 480));
        assert_eq!(pixels.len(), 640 * 480);
    }
    // Out of focus (z = 0, focus at 1234), the fine grating is gone: little contrast.
    let blurred = contrast(&stream.next().await.unwrap().jpeg);
    let moved = invoke(addr, "/stage/move_to", json!({"x": 0, "y": 0, "z": 1234})).await;
    assert_eq!(moved["status"], "completed");
    let focused = loop {
        let part = stream.next().await.unwrap();
        let c = contrast(&part.jpeg);
        if c > blurred * 1.5 {
            break c;
        }
    };
    assert!(focused > blurred, "{focused} > {blurred}");

    // The page and the latest frame.
    let page = reqwest::get(format!("http://{addr}/camera/preview/viewer"))
        .await
        .unwrap();
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("<img src=\"/camera/preview\"")
    );
    let frame = reqwest::get(format!("http://{addr}/camera/preview/frame"))
        .await
        .unwrap();
    assert_eq!(frame.headers()["content-type"], "image/jpeg");
    decode(&frame.bytes().await.unwrap());
    // In the TD, with its content type.
    let td: Value = reqwest::get(format!("http://{addr}/camera/"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        td["properties"]["preview"]["forms"][0]["contentType"],
        "multipart/x-mixed-replace; boundary=frame"
    );
    support::td::assert_valid("camera", &td);
}

/// The standard deviation of an image's pixels.
fn contrast(jpeg: &[u8]) -> f64 {
    let (pixels, ..) = decode(jpeg);
    let n = pixels.len() as f64;
    let mean = pixels.iter().map(|&p| f64::from(p)).sum::<f64>() / n;
    (pixels
        .iter()
        .map(|&p| (f64::from(p) - mean).powi(2))
        .sum::<f64>()
        / n)
        .sqrt()
}

/// A stream that the test feeds itself.
#[thing]
#[derive(Debug)]
pub struct Projector {
    /// What it shows.
    #[stream]
    pub picture: MjpegStream,
}

/// A JPEG-shaped frame of `size` bytes carrying `n`.
fn frame(n: u64, size: usize) -> Vec<u8> {
    let mut jpeg = vec![0xFF, 0xD8];
    jpeg.extend_from_slice(&n.to_be_bytes());
    jpeg.resize(size - 2, 0);
    jpeg.extend_from_slice(&[0xFF, 0xD9]);
    jpeg
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_viewers_see_every_frame_they_wait_for() {
    let projector = Arc::new(Projector {
        picture: MjpegStream::new(),
    });
    let server = labthings::ThingServer::new().shared_thing("projector", projector.clone());
    let (addr, _) = support::start(server).await;
    let url = format!("http://{addr}/projector/picture");
    let mut viewers = Vec::new();
    for _ in 0..50 {
        viewers.push(mjpeg::Stream::open(&url).await);
    }
    // Each frame is pushed once every viewer has the previous one: all of them keep up.
    for n in 1..=20u64 {
        projector.picture.push(frame(n, 1000)).unwrap();
        for viewer in &mut viewers {
            let part = viewer.next().await.unwrap();
            assert_eq!(part.number, n);
            assert_eq!(&part.jpeg[2..10], &n.to_be_bytes());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_that_never_reads_slows_neither_the_producer_nor_the_others() {
    let projector = Arc::new(Projector {
        picture: MjpegStream::new(),
    });
    let server = labthings::ThingServer::new().shared_thing("projector", projector.clone());
    let (addr, _) = support::start(server).await;
    let url = format!("http://{addr}/projector/picture");
    let _stalled = mjpeg::Stream::open(&url).await;
    let mut reader = mjpeg::Stream::open(&url).await;
    // 64 MB of frames: far more than the stalled viewer's socket holds. Pushing never waits.
    const FRAMES: u64 = 1000;
    for n in 1..=FRAMES {
        projector.picture.push(frame(n, 64 * 1024)).unwrap();
    }
    // The reader skips to the latest frame.
    let mut seen = Vec::new();
    loop {
        let part = reader.next().await.unwrap();
        seen.push(part.number);
        if part.number == FRAMES {
            break;
        }
    }
    assert!(
        seen.len() < FRAMES as usize,
        "it skipped what it could not take: {}",
        seen.len()
    );
    assert!(seen.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(projector.picture.viewers(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capture_is_a_blob_and_an_upload_is_an_argument() {
    let (addr, _settings) = microscope().await;
    let done = invoke(addr, "/camera/capture", json!({})).await;
    assert_eq!(done["status"], "completed", "{done}");
    let output = &done["output"];
    assert_eq!(output["media_type"], "image/jpeg");
    assert_eq!(output["rel"], "output");
    let href = output["href"].as_str().unwrap();
    assert!(href.starts_with(&format!("http://{addr}/blob/")), "{href}");
    let download = reqwest::get(href).await.unwrap();
    assert_eq!(download.headers()["content-type"], "image/jpeg");
    let length: usize = download.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let jpeg = download.bytes().await.unwrap();
    assert_eq!(jpeg.len(), length);
    let (_, width, height) = decode(&jpeg);
    assert_eq!((width, height), (1280, 960));
    // The output link of the invocation serves the same bytes.
    let output_url = format!("{}/output", done["href"].as_str().unwrap());
    let same = reqwest::get(output_url)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(same, jpeg);

    // Upload it, and pass it to an action.
    let upload = reqwest::Client::new()
        .post(format!("http://{addr}/blob"))
        .header("content-type", "image/jpeg")
        .body(jpeg.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), 201);
    let uploaded: Value = upload.json().await.unwrap();
    assert_eq!(uploaded["size"], jpeg.len());
    let stats = invoke(
        addr,
        "/camera/analyse",
        json!({"image": {"href": uploaded["href"]}}),
    )
    .await;
    assert_eq!(stats["status"], "completed", "{stats}");
    assert_eq!(stats["output"]["bytes"], jpeg.len());
    assert_eq!(stats["output"]["width"], 1280);
    let mean = stats["output"]["mean_brightness"].as_f64().unwrap();
    assert!((100.0..156.0).contains(&mean), "{mean}");

    // A link that names nothing, and media types that do not fit, fail with a reason.
    let missing = invoke(
        addr,
        "/camera/analyse",
        json!({"image": {"href": format!("http://{addr}/blob/6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f")}}),
    )
    .await;
    assert_eq!(missing["status"], "error");
    assert!(
        missing["error"]["detail"]
            .as_str()
            .unwrap()
            .contains("was not found"),
        "{missing}"
    );
    let text = reqwest::Client::new()
        .post(format!("http://{addr}/blob"))
        .header("content-type", "text/plain")
        .body("not an image")
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let wrong = invoke(
        addr,
        "/camera/analyse",
        json!({"image": {"href": text["href"]}}),
    )
    .await;
    assert!(
        wrong["error"]["detail"]
            .as_str()
            .unwrap()
            .contains("not 'image/jpeg'"),
        "{wrong}"
    );
}

#[tokio::test]
async fn uploads_are_bounded() {
    let server = labthings::ThingServer::new()
        .thing("stage", Stage::new())
        .limits(labthings::Limits {
            max_blob: 1000,
            ..Default::default()
        });
    let (addr, _) = support::start(server).await;
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/blob"))
        .header("content-type", "application/octet-stream")
        .body(vec![0u8; 5000])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let problem: Value = response.json().await.unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains("1000 bytes"),
        "{problem}"
    );
    let missing = reqwest::get(format!("http://{addr}/blob/nope"))
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}
