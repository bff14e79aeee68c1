//! Line-protocol devices: the transport against a simulated Sangaboard on a pseudo-terminal
//! (and an instrument over TCP), and the Sangaboard driver served over HTTP — moves, cancel,
//! unplug and replug, a silent board, record and replay.

#[path = "../examples/openflexure/sim.rs"]
#[allow(dead_code)]
mod sim;
#[path = "../examples/openflexure/stage.rs"]
#[allow(dead_code)]
mod stage;
mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use labthings::ThingServer;
use labthings::transport::{Endpoint, LineDevice, LineSettings, TransportError};
use serde_json::{Value, json};
use sim::SimBoard;
use stage::{Sangaboard, SangaboardArgs};
use support::ws::{self, next, send};

fn quick() -> LineSettings {
    LineSettings {
        timeout: Duration::from_millis(500),
        reconnect_min: Duration::from_millis(10),
        reconnect_max: Duration::from_millis(50),
        ..LineSettings::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_device_talks_to_the_board_one_exchange_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let board = SimBoard::start(&dir.path().join("ttyACM0")).unwrap();
    let device = Arc::new(
        LineDevice::open("stage", Endpoint::serial(board.path()), quick())
            .await
            .unwrap(),
    );
    assert!(device.is_connected());
    assert_eq!(device.query("version").await.unwrap(), sim::VERSION);
    assert_eq!(
        device.query_until("list_modules", "--END--").await.unwrap(),
        ["Illumination: default"]
    );
    // Concurrent queries are serialised: each gets its own reply.
    let mut queries = Vec::new();
    for i in 0..20 {
        let device = device.clone();
        queries.push(tokio::spawn(async move {
            if i % 2 == 0 {
                device.query("p?").await.unwrap() == "0 0 0"
            } else {
                device.query("led_cc?").await.unwrap() == "CC LED:0.32"
            }
        }));
    }
    for query in queries {
        assert!(query.await.unwrap());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_or_unplugged_board_is_a_clear_error_and_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut board = SimBoard::start(&dir.path().join("ttyACM0")).unwrap();
    let device = LineDevice::open("stage", Endpoint::serial(board.path()), quick())
        .await
        .unwrap();
    board.set_silent(true);
    let error = device.query("p?").await.unwrap_err();
    assert!(matches!(error, TransportError::Timeout { .. }), "{error}");
    assert_eq!(labthings::Problem::from(error.clone()).status, 504);
    assert_eq!(
        error.to_string(),
        "the device 'stage' did not answer `p?` within 500ms"
    );
    board.set_silent(false);
    assert_eq!(
        device.query("p?").await.unwrap(),
        "0 0 0",
        "a late reply is discarded"
    );

    let mut connected = device.watch_connected();
    board.unplug();
    let error = device.query("p?").await.unwrap_err();
    assert!(
        matches!(error, TransportError::Disconnected { .. }),
        "{error}"
    );
    assert_eq!(labthings::Problem::from(error).status, 503);
    connected.wait_for(|c| !c).await.unwrap();
    // While it is away, requests are refused at once.
    let refused = device.reconnect().await.unwrap_err();
    assert!(refused.to_string().contains("is disconnected"), "{refused}");
    board.plug().unwrap();
    device.reconnect().await.unwrap();
    assert!(device.is_connected());
    assert_eq!(device.query("version").await.unwrap(), sim::VERSION);
}

#[tokio::test]
async fn a_tcp_instrument_is_a_line_device_too() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let (stream, _) = listener.accept().await.unwrap();
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let reply = match line.as_str() {
                "*IDN?" => "LAB,PSU-1,0001,1.0\n",
                "VOLT?" => "+1.250E+00\n",
                _ => "-113,\"Undefined header\"\n",
            };
            write.write_all(reply.as_bytes()).await.unwrap();
        }
    });
    let device = LineDevice::connect(
        "psu",
        Endpoint::parse(&format!("tcp://{addr}")).unwrap(),
        quick(),
    );
    assert!(!device.is_connected(), "opened on the first request");
    assert_eq!(device.query("*IDN?").await.unwrap(), "LAB,PSU-1,0001,1.0");
    assert_eq!(device.query("VOLT?").await.unwrap(), "+1.250E+00");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transcript_replays_the_board() {
    let dir = tempfile::tempdir().unwrap();
    let board = SimBoard::start(&dir.path().join("ttyACM0")).unwrap();
    let transcript = dir.path().join("board.jsonl");
    let recording = LineDevice::open("stage", Endpoint::serial(board.path()), quick())
        .await
        .unwrap()
        .record(&transcript)
        .unwrap();
    let mut recorded = Vec::new();
    for command in ["version", "p?", "mr 10 0 0", "p?", "zero", "p?"] {
        recorded.push(recording.query(command).await.unwrap());
    }
    drop(recording);
    let replay = LineDevice::open(
        "stage",
        Endpoint::parse(&format!("replay:{}", transcript.display())).unwrap(),
        quick(),
    )
    .await
    .unwrap();
    let mut replayed = Vec::new();
    for command in ["version", "p?", "mr 10 0 0", "p?", "zero", "p?"] {
        replayed.push(replay.query(command).await.unwrap());
    }
    assert_eq!(replayed, recorded);
    let error = replay.query("release").await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "the transcript of 'stage' has no reply to `release`"
    );
}

/// A server publishing the Sangaboard driver at `stage`, on the board at `port`.
async fn serve(args: SangaboardArgs) -> (SocketAddr, Arc<Sangaboard>, labthings::ShutdownHandle) {
    let stage = Arc::new(Sangaboard::new(args).unwrap());
    let settings = tempfile::tempdir().unwrap().keep();
    let server = ThingServer::new()
        .settings_dir(settings)
        .shared_thing("stage", stage.clone());
    let (addr, shutdown) = support::start(server).await;
    (addr, stage, shutdown)
}

fn args(port: &Path) -> SangaboardArgs {
    SangaboardArgs {
        port: port.display().to_string(),
        record: None,
        replay: None,
    }
}

/// Invoke `action` with `input` over HTTP and follow it over the WebSocket to its end.
async fn invoke(addr: SocketAddr, action: &str, input: Value) -> Value {
    let mut socket = ws::connect(addr, "stage").await;
    send(
        &mut socket,
        json!({"messageType": "addActionObservation", "data": {action: true}}),
    )
    .await;
    ws::observe(&mut socket, &[]).await;
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/stage/{action}"))
        .json(&input)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    loop {
        let m = next(&mut socket).await;
        if m["data"]["id"] == id
            && matches!(
                m["data"]["status"].as_str(),
                Some("completed" | "error" | "cancelled")
            )
        {
            return m["data"].clone();
        }
    }
}

async fn get(addr: SocketAddr, path: &str) -> Value {
    reqwest::get(format!("http://{addr}{path}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_driver_moves_the_stage_like_labthings_sangaboard() {
    let dir = tempfile::tempdir().unwrap();
    let board = SimBoard::start(&dir.path().join("ttyACM0")).unwrap();
    let (addr, stage, _shutdown) = serve(args(board.path())).await;
    assert_eq!(get(addr, "/stage/connected").await, true);
    assert_eq!(get(addr, "/stage/axis_names").await, json!(["x", "y", "z"]));
    assert_eq!(get(addr, "/stage/firmware").await, sim::VERSION);
    let status = invoke(addr, "move_relative", json!({"x": 100, "z": -5})).await;
    assert_eq!(status["status"], "completed", "{status}");
    assert_eq!(
        get(addr, "/stage/position").await,
        json!({"x": 100, "y": 0, "z": -5})
    );
    let status = invoke(addr, "move_absolute", json!({"y": 50})).await;
    assert_eq!(status["status"], "completed", "{status}");
    assert_eq!(board.position(), [100, 50, -5]);
    let status = invoke(addr, "abort_move", json!({})).await;
    assert_eq!(
        (
            status["status"].as_str(),
            status["error"]["status"].as_u64()
        ),
        (Some("error"), Some(409))
    );
    let status = invoke(addr, "set_zero_position", json!({})).await;
    assert_eq!(status["status"], "completed");
    assert_eq!(stage.position.get(), stage::Position::default());
    let status = invoke(
        addr,
        "flash_led",
        json!({"number_of_flashes": 2, "dt": 0.01}),
    )
    .await;
    assert_eq!(status["status"], "completed", "{status}");
    assert!(board.received().ends_with(&[
        "led_cc?".into(),
        "led_cc 0".into(),
        "led_cc 0.32".into(),
        "led_cc 0".into(),
        "led_cc 0.32".into()
    ]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_move_stops_the_board() {
    let dir = tempfile::tempdir().unwrap();
    let board = SimBoard::start(&dir.path().join("ttyACM0")).unwrap();
    let (addr, _stage, _shutdown) = serve(args(board.path())).await;
    let mut socket = ws::connect(addr, "stage").await;
    send(
        &mut socket,
        json!({"messageType": "addActionObservation", "data": {"move_relative": true}}),
    )
    .await;
    ws::observe(&mut socket, &[]).await;
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/stage/move_relative"))
        .json(&json!({"x": 100000}))
        .send()
        .await
        .unwrap();
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    loop {
        let m = next(&mut socket).await;
        if m["data"]["id"] == id && m["data"]["status"] == "running" {
            break;
        }
    }
    // Cancelled once the board is under way: the move was sent, and the stage has left 0
    // (the simulated board moves 2000 steps a second and publishes nothing meanwhile, so
    // its position is read until it has).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while board.position()[0] == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "{:?}",
            board.received()
        );
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    let cancel = reqwest::Client::new()
        .delete(format!("http://{addr}/action_invocations/{id}"))
        .send()
        .await
        .unwrap();
    assert!(cancel.status().is_success());
    let status = loop {
        let m = next(&mut socket).await;
        if m["data"]["id"] == id && m["data"]["status"] == "cancelled" {
            break m["data"].clone();
        }
    };
    assert!(
        board.received().contains(&"stop".to_owned()),
        "{:?}",
        board.received()
    );
    let stopped_at = board.position();
    assert!(
        stopped_at[0] > 0 && stopped_at[0] < 100000,
        "{stopped_at:?}"
    );
    assert!(
        status["error"]["detail"]
            .as_str()
            .unwrap()
            .starts_with("stopped at "),
        "{status}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unplugged_board_is_reported_and_reconnected() {
    let dir = tempfile::tempdir().unwrap();
    let mut board = SimBoard::start(&dir.path().join("ttyACM0")).unwrap();
    let (addr, stage, _shutdown) = serve(args(board.path())).await;
    let mut connected = stage.connected.subscribe();
    while !stage.connected.get() {
        connected.changed().await;
    }
    board.unplug();
    let status = invoke(addr, "move_relative", json!({"x": 10})).await;
    assert_eq!(status["status"], "error");
    assert_eq!(status["error"]["status"], 503, "{status}");
    assert!(
        status["error"]["detail"]
            .as_str()
            .unwrap()
            .contains("is disconnected"),
        "{status}"
    );
    while connected.changed().await != Some(false) {}
    // The Thing stays served.
    assert_eq!(get(addr, "/stage/connected").await, false);
    assert!(get(addr, "/stage/position").await.is_object());
    board.plug().unwrap();
    while connected.changed().await != Some(true) {}
    let status = invoke(addr, "move_relative", json!({"x": 10})).await;
    assert_eq!(status["status"], "completed", "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_board_fails_the_move_and_the_server_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let board = SimBoard::start(&dir.path().join("ttyACM0")).unwrap();
    let (addr, _stage, _shutdown) = serve(args(board.path())).await;
    board.set_silent(true);
    let status = invoke(addr, "move_relative", json!({"x": 10})).await;
    assert_eq!(status["status"], "error");
    assert_eq!(status["error"]["status"], 504, "{status}");
    assert_eq!(get(addr, "/stage/connected").await, true);
    board.set_silent(false);
    let status = invoke(addr, "move_relative", json!({"x": 10})).await;
    assert_eq!(status["status"], "completed", "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_driver_runs_on_a_replayed_transcript() {
    let dir = tempfile::tempdir().unwrap();
    let board = SimBoard::start(&dir.path().join("ttyACM0")).unwrap();
    let transcript = dir.path().join("stage.jsonl");
    let mut recording = args(board.path());
    recording.record = Some(transcript.clone());
    let (addr, _stage, shutdown) = serve(recording).await;
    let moved = invoke(addr, "move_relative", json!({"x": 40, "y": -4})).await;
    assert_eq!(moved["status"], "completed");
    let recorded = get(addr, "/stage/position").await;
    shutdown.shutdown();
    drop(board);
    let replaying = SangaboardArgs {
        port: "/dev/null".into(),
        record: None,
        replay: Some(transcript),
    };
    let (addr, _stage, _shutdown) = serve(replaying).await;
    assert_eq!(get(addr, "/stage/firmware").await, sim::VERSION);
    let moved = invoke(addr, "move_relative", json!({"x": 40, "y": -4})).await;
    assert_eq!(moved["status"], "completed", "{moved}");
    assert_eq!(get(addr, "/stage/position").await, recorded);
}

/// The simulator is faithful: the real Python `sangaboard` 0.4.1 driver passes its handshake,
/// reads the position, moves (blocking and not), polls `moving?` and zeroes it.
#[cfg(feature = "interop")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sangaboard_driver_drives_the_simulated_board() {
    let python = support::needs::python("the sangaboard check");
    let dir = tempfile::tempdir().unwrap();
    let board = SimBoard::start(&dir.path().join("ttyACM0")).unwrap();
    support::program::python_checks(python, "sangaboard_check.py", &[board.path().as_ref()]).await;
    let received = board.received();
    for command in [
        "version",
        "list_modules",
        "board",
        "blocking_moves true",
        "mr 200 -100 50",
        "zero",
    ] {
        assert!(
            received.iter().any(|c| c == command),
            "{command} not in {received:?}"
        );
    }
}
