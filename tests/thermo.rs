//! The thermo example: a Thing's background task (started after the start hook, cancelled
//! before the stop hook, a panic in it logged and emitted as `task_failed` while the server
//! goes on), a caller's mistake found in action code reported as a 4xx on every binding, a
//! cancellation that keeps its reason, and the program under `cli::App` stopped by SIGTERM.

mod support;
#[path = "../examples/things/thermo.rs"]
mod thermo;

use std::io::Read;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use labthings::ThingServer;
use serde_json::{Value, json};
use support::ws::{self, Socket, next, send, wtp};
use thermo::Thermo;

/// A server publishing `thermo` (settings in a temporary directory), serving until `stop`
/// fires.
struct Running {
    addr: SocketAddr,
    thermo: Arc<Thermo>,
    stop: tokio::sync::oneshot::Sender<()>,
    serving: tokio::task::JoinHandle<std::io::Result<()>>,
    _settings: tempfile::TempDir,
}

async fn run() -> Running {
    let settings = tempfile::tempdir().unwrap();
    let thermo = Arc::new(Thermo::new());
    let started = ThingServer::new()
        .settings_dir(settings.path())
        .shared_thing("thermo", thermo.clone())
        .start()
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(std::future::IntoFuture::into_future(
        started.serve(listener).with_graceful_shutdown(async move {
            let _ = stopped.await;
        }),
    ));
    Running {
        addr,
        thermo,
        stop,
        serving,
        _settings: settings,
    }
}

impl Running {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let response = reqwest::Client::new()
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{path}");
        response.json().await.unwrap()
    }

    async fn get(&self, path: &str) -> Value {
        reqwest::get(self.url(path))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// A LabThings-dialect socket observing `ramp_to`'s invocations.
    async fn observing_ramps(&self) -> Socket {
        let mut socket = ws::connect(self.addr, "thermo").await;
        let observe = json!({"messageType": "addActionObservation", "data": {"ramp_to": true}});
        send(&mut socket, observe).await;
        // A round trip that returns once the observation is in place.
        ws::observe(&mut socket, &[]).await;
        socket
    }

    async fn shut_down(self) -> Arc<Thermo> {
        self.stop.send(()).unwrap();
        self.serving.await.unwrap().unwrap();
        self.thermo
    }
}

/// The statuses of invocation `id` on `socket` until its final one, which is returned.
async fn final_status(socket: &mut Socket, id: &str) -> Value {
    loop {
        let m = next(socket).await;
        if m["messageType"] == "actionStatus"
            && m["data"]["id"] == id
            && matches!(
                m["data"]["status"].as_str(),
                Some("completed" | "error" | "cancelled")
            )
        {
            return m["data"].clone();
        }
    }
}

/// The status of invocation `id` over the Web Thing Protocol.
async fn wtp_status(addr: SocketAddr, id: &str) -> Value {
    let mut socket = ws::connect_wtp(addr, "thermo").await;
    send(&mut socket, wtp("queryaction", json!({"actionID": id}))).await;
    next(&mut socket).await["status"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_poll_task_runs_between_the_start_and_stop_hooks() {
    let running = run().await;
    let mut temperature = running.thermo.temperature.subscribe();
    let response = reqwest::Client::new()
        .put(running.url("/thermo/setpoint"))
        .json(&json!(60.0))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    // The task alone moves the temperature toward the setpoint.
    loop {
        let t = temperature.changed().await.expect("the task publishes");
        if t > 30.0 {
            break;
        }
    }
    assert_eq!(running.get("/thermo/connected").await, true);
    let thermo = running.shut_down().await;
    assert_eq!(
        *thermo.journal.lock().unwrap(),
        ["connected", "poll starts", "poll stops", "disconnected"],
        "the task starts after the start hook and stops before the stop hook"
    );
    assert!(!thermo.connected.get());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_that_panics_is_logged_and_announced_and_the_server_goes_on() {
    support::logs::capture();
    let running = run().await;
    // The Thing has an event for it (in its TD), which a client subscribes to.
    let td = running.get("/thermo/").await;
    assert_eq!(
        td["events"]["task_failed"]["data"]["required"],
        json!(["task", "status", "detail"]),
        "{td}"
    );
    let mut failures = support::sse::Stream::open(&running.url("/thermo/task_failed"), None).await;
    let mut socket = ws::connect_wtp(running.addr, "thermo").await;
    send(
        &mut socket,
        wtp("subscribeevent", json!({"name": "task_failed"})),
    )
    .await;
    let subscribed = next(&mut socket).await;
    assert_eq!(subscribed["messageType"], "response", "{subscribed}");
    assert!(subscribed.get("error").is_none(), "{subscribed}");
    running.thermo.garbage_next.store(true, Ordering::SeqCst);
    support::logs::logged_soon(&["ERROR", "the task failed", "the sensor sent garbage"]).await;
    assert!(support::logs::logged(&["task=\"poll\"", "thing=thermo"]));
    let failure = failures.next().await.expect("the event of the failure");
    let failure: labthings::TaskFailure = serde_json::from_str(&failure.data).unwrap();
    assert_eq!((failure.task.as_str(), failure.status), ("poll", 500));
    assert!(
        failure.detail.contains("the sensor sent garbage"),
        "{failure:?}"
    );
    let notified = ws::next_matching(&mut socket, |m| m["messageType"] == "notification").await;
    assert_eq!(notified["name"], "task_failed", "{notified}");
    assert_eq!(notified["data"], serde_json::to_value(&failure).unwrap());
    // The server goes on: reads, writes and actions (this one may be done before its
    // answer is: its final status is awaited).
    assert!(running.get("/thermo/temperature").await.is_number());
    let mut ramps = running.observing_ramps().await;
    let invocation = running
        .post("/thermo/ramp_to", json!({"target": 22.0, "rate": 10.0}))
        .await;
    let id = invocation["id"].as_str().unwrap();
    assert_eq!(final_status(&mut ramps, id).await["status"], "completed");
    let thermo = running.shut_down().await;
    assert_eq!(
        thermo.journal.lock().unwrap().last().map(String::as_str),
        Some("disconnected")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callers_mistake_found_by_the_action_is_a_422_on_every_binding() {
    let running = run().await;
    let mut socket = running.observing_ramps().await;
    let invocation = running
        .post("/thermo/ramp_to", json!({"target": 120.0, "rate": 1.0}))
        .await;
    let id = invocation["id"].as_str().unwrap();
    let detail = "120 °C is above the controller's limit of 90 °C";
    let status = final_status(&mut socket, id).await;
    assert_eq!(status["status"], "error");
    assert_eq!(
        (
            status["error"]["status"].as_u64(),
            status["error"]["detail"].as_str()
        ),
        (Some(422), Some(detail))
    );
    let over_http = running.get(&format!("/action_invocations/{id}")).await;
    assert_eq!(over_http["error"]["status"], 422, "{over_http}");
    assert_eq!(over_http["error"]["detail"], detail);
    let over_wtp = wtp_status(running.addr, id).await;
    assert_eq!(over_wtp["state"], "failed", "{over_wtp}");
    assert_eq!(over_wtp["error"]["status"], 422, "{over_wtp}");
    assert_eq!(over_wtp["error"]["detail"], detail);
    running.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_action_keeps_its_reason() {
    let running = run().await;
    let mut socket = running.observing_ramps().await;
    let invocation = running
        .post("/thermo/ramp_to", json!({"target": 80.0, "rate": 0.5}))
        .await;
    let id = invocation["id"].as_str().unwrap();
    loop {
        let m = next(&mut socket).await;
        if m["data"]["id"] == id && m["data"]["status"] == "running" {
            break;
        }
    }
    let response = reqwest::Client::new()
        .delete(running.url(&format!("/action_invocations/{id}")))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let status = final_status(&mut socket, id).await;
    assert_eq!(status["status"], "cancelled", "{status}");
    let detail = status["error"]["detail"].as_str().unwrap().to_owned();
    assert!(detail.starts_with("cancelled at 21."), "{detail}");
    assert!(detail.ends_with(" °C"), "{detail}");
    // Still recognised as a cancellation by LabThings-FastAPI's clients.
    assert_eq!(status["error"]["title"], "InvocationCancelledError");
    let over_http = running.get(&format!("/action_invocations/{id}")).await;
    assert_eq!(over_http["error"]["detail"], detail.as_str());
    let over_wtp = wtp_status(running.addr, id).await;
    assert_eq!(over_wtp["state"], "cancelled", "{over_wtp}");
    assert_eq!(over_wtp["error"]["detail"], detail.as_str());
    running.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_program_stops_its_task_before_its_stop_hook_on_sigterm() {
    let settings = tempfile::tempdir().unwrap();
    let (mut child, base) = support::program::listening(
        support::program::example("thermo")
            .args([
                "--port",
                "0",
                "--settings",
                settings.path().to_str().unwrap(),
            ])
            .stderr(Stdio::piped()),
    );
    let connected: Value = reqwest::get(format!("{base}thermo/connected"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(connected, true);
    let mut stderr_pipe = child.stderr.take().unwrap();
    let exit = support::program::terminate(child);
    let mut stderr = String::new();
    stderr_pipe.read_to_string(&mut stderr).unwrap();
    assert!(
        exit.success(),
        "graceful shutdown exits 0, got {exit}: {stderr}"
    );
    let journal: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("journal: "))
        .collect();
    assert_eq!(
        journal,
        ["connected", "poll starts", "poll stops", "disconnected"],
        "{stderr}"
    );
}
