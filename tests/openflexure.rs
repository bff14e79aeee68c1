//! The openflexure example as its real clients see it: the v3 API under `--prefix /api/v3`,
//! jogs that replace each other, the fast autofocus, captures; a copy of
//! `examples/openflexure.toml` with only its `port` changed serving a board; and (with the
//! `interop` feature) the unmodified OpenFlexure gamepad client and LabThings-FastAPI's
//! `ThingClient` driving it. Runs the built `openflexure` example (`cargo test --workspace`
//! builds it).

#[path = "../examples/openflexure/sim.rs"]
#[allow(dead_code)]
mod sim;
mod support;

use std::process::{Child, Stdio};

use serde_json::{Value, json};

/// The built example, serving on a free port with `args`; the child and its base URL.
fn serve(args: &[&str]) -> (Child, String) {
    let settings = tempfile::tempdir().unwrap().keep();
    support::program::listening(
        support::program::example("openflexure")
            .args(["--port", "0", "--prefix", "/api/v3", "--settings"])
            .arg(settings)
            .args(args)
            .stderr(Stdio::null()),
    )
}

struct Served {
    child: Child,
    base: String,
    http: reqwest::Client,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    /// The example serving with `args`; `base` is its URL with the prefix.
    fn start(args: &[&str]) -> Self {
        let (child, base) = serve(args);
        assert!(base.ends_with("/api/v3/"), "{base}");
        Self {
            child,
            base: base.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
        }
    }

    async fn get(&self, path: &str) -> Value {
        let url = format!("{}{path}", self.base);
        self.http
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// POST `input` to `action`: 201 and the invocation.
    async fn post(&self, action: &str, input: Value) -> Value {
        let url = format!("{}{action}", self.base);
        let response = self.http.post(url).json(&input).send().await.unwrap();
        assert_eq!(response.status(), 201, "{action}");
        response.json().await.unwrap()
    }

    /// Poll the invocation's absolute `href`, as the gamepad client does, until it ends.
    async fn wait(&self, invocation: &Value) -> Value {
        let href = invocation["href"].as_str().unwrap();
        assert!(href.starts_with("http://"), "an absolute href: {href}");
        loop {
            let status: Value = self
                .http
                .get(href)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if matches!(
                status["status"].as_str(),
                Some("completed" | "error" | "cancelled")
            ) {
                return status;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_v3_api_jogs_focuses_and_captures() {
    let served = Served::start(&[]);
    assert_eq!(served.get("/stage/connected").await, true);
    // The gamepad sends a jog every 50 ms while a button is held: none is refused.
    for _ in 0..10 {
        served
            .post("/stage/jog", json!({"x": 50, "y": 0, "z": 0}))
            .await;
    }
    let stop = served.post("/stage/jog", json!({"stop": true})).await;
    assert_eq!(served.wait(&stop).await["status"], "completed");
    assert_eq!(served.get("/stage/moving").await, false);
    let x = served.get("/stage/position").await["x"].as_i64().unwrap();
    assert!(x > 0, "the jogs moved the stage: x = {x}");

    let focus = served
        .post(
            "/autofocus/fast_autofocus",
            json!({"dz": 2000, "start": "centre", "sharpness_metric": 1}),
        )
        .await;
    let focused = served.wait(&focus).await;
    assert_eq!(focused["status"], "completed", "{focused}");
    let best = focused["output"]["best_z"].as_i64().unwrap();
    assert!((best - 300).abs() <= 100, "{focused}");
    assert_eq!(served.get("/stage/position").await["z"], best);

    let capture = served
        .post(
            "/camera/capture",
            json!({"capture_mode": "standard", "image_format": "jpeg", "retain_image": true}),
        )
        .await;
    let captured = served.wait(&capture).await;
    assert_eq!(captured["output"]["media_type"], "image/jpeg", "{captured}");
    let href = captured["output"]["href"].as_str().unwrap();
    let jpeg = served
        .http
        .get(href)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&jpeg[..2], b"\xff\xd8");
    for action in ["/camera/capture_jpeg", "/camera/grab_jpeg"] {
        let done = served.wait(&served.post(action, json!({})).await).await;
        assert_eq!(
            done["output"]["media_type"], "image/jpeg",
            "{action}: {done}"
        );
    }
    let lores = served
        .http
        .get(format!("{}/camera/lores_mjpeg_stream/frame", served.base))
        .send()
        .await
        .unwrap();
    assert!(
        lores.status().is_success() || lores.status() == 503,
        "{}",
        lores.status()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_config_file_serves_a_board_when_only_its_port_changes() {
    let dir = tempfile::tempdir().unwrap();
    let board = sim::SimBoard::start(&dir.path().join("ttyUSB7")).unwrap();
    let shipped = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/openflexure.toml"
    ))
    .unwrap();
    assert!(shipped.contains("port = \"/dev/ttyACM0\""));
    let mine = shipped.replace("/dev/ttyACM0", board.path().to_str().unwrap());
    let config = dir.path().join("my.toml");
    std::fs::write(&config, mine).unwrap();
    let served = Served::start(&["--config", config.to_str().unwrap()]);
    assert_eq!(served.get("/stage/connected").await, true);
    let moved = served
        .wait(&served.post("/stage/move_relative", json!({"x": 30})).await)
        .await;
    assert_eq!(moved["status"], "completed", "{moved}");
    assert_eq!(board.position(), [30, 0, 0]);
}

#[cfg(feature = "interop")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openflexure_clients_work_unchanged() {
    let python = support::needs::python("the OpenFlexure clients");
    let served = Served::start(&[]);
    support::program::python_checks(python, "openflexure_clients.py", &[served.base.as_ref()])
        .await;
}
