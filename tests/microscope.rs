//! The simulated microscope through real HTTP and WebSocket: a stage that moves one move at a
//! time and reports where it is, moves that can be cancelled, and an autofocus routine that
//! drives the stage and the camera through its slots.

#[path = "../examples/things/microscope/mod.rs"]
mod microscope;
mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use microscope::camera::CameraArgs;
use microscope::stage::Position;
use microscope::{Autofocus, Camera, Stage};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::ws::{Socket, next, next_matching, observe, send, wtp};

struct Microscope {
    addr: SocketAddr,
    stage: Arc<Stage>,
    _settings: tempfile::TempDir,
}

impl Microscope {
    async fn start() -> Self {
        let settings = tempfile::tempdir().unwrap();
        let stage = Arc::new(Stage::new());
        let server = labthings::ThingServer::new()
            .settings_dir(settings.path())
            .shared_thing("stage", stage.clone())
            .thing("camera", Camera::new(CameraArgs::default()))
            .thing("autofocus", Autofocus::new());
        let (addr, _) = support::start(server).await;
        Self {
            addr,
            stage,
            _settings: settings,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = reqwest::Client::new()
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap())
    }

    async fn put(&self, path: &str, body: Value) -> StatusCode {
        reqwest::Client::new()
            .put(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
            .status()
    }

    async fn get(&self, url: &str) -> Value {
        reqwest::get(url).await.unwrap().json().await.unwrap()
    }

    /// A LabThings socket on `thing` that observes `properties` and the status of `actions`.
    async fn watch(&self, thing: &str, properties: &[&str], actions: &[&str]) -> Socket {
        let mut ws = support::ws::connect(self.addr, thing).await;
        observe(&mut ws, properties).await;
        let mut data = serde_json::Map::new();
        for action in actions {
            data.insert((*action).to_owned(), true.into());
        }
        data.insert("-".to_owned(), true.into());
        send(
            &mut ws,
            json!({"messageType": "addActionObservation", "data": data}),
        )
        .await;
        let reply = next_matching(&mut ws, |m| m["messageType"] == "response").await;
        assert_eq!(reply["name"], "-", "{reply}");
        ws
    }
}

/// Read `ws` until invocation `id` ends; returns its final status and the property changes
/// seen on the way, in order.
async fn until_finished(ws: &mut Socket, id: &str) -> (String, Vec<(String, Value)>) {
    let mut changes = Vec::new();
    loop {
        let m = next(ws).await;
        match m["messageType"].as_str() {
            Some("propertyStatus") => {
                for (name, value) in m["data"].as_object().unwrap() {
                    changes.push((name.clone(), value.clone()));
                }
            }
            Some("actionStatus") if m["data"]["id"] == id => {
                let status = m["data"]["status"].as_str().unwrap();
                if matches!(status, "completed" | "error" | "cancelled") {
                    return (status.to_owned(), changes);
                }
            }
            _ => {}
        }
    }
}

#[tokio::test]
async fn the_position_is_published_along_a_move() {
    let m = Microscope::start().await;
    let mut ws = m
        .watch("stage", &["position", "moving"], &["move_to"])
        .await;
    let mut moved = m.stage.moved.subscribe();
    let (status, invocation) = m
        .post("/stage/move_to", json!({"x": 100, "y": -50, "z": 2000}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{invocation}");
    let (end, changes) = until_finished(&mut ws, invocation["id"].as_str().unwrap()).await;
    assert_eq!(end, "completed");

    let positions: Vec<&Value> = changes
        .iter()
        .filter(|(name, _)| name == "position")
        .map(|(_, v)| v)
        .collect();
    assert!(
        positions.len() >= 3,
        "the position was published along the way: {positions:?}"
    );
    let zs: Vec<i64> = positions.iter().map(|p| p["z"].as_i64().unwrap()).collect();
    assert!(zs.windows(2).all(|w| w[0] <= w[1]), "{zs:?}");
    assert_eq!(
        *positions.last().unwrap(),
        &json!({"x": 100, "y": -50, "z": 2000})
    );
    let moving: Vec<&Value> = changes
        .iter()
        .filter(|(name, _)| name == "moving")
        .map(|(_, v)| v)
        .collect();
    assert_eq!(moving, [&json!(true), &json!(false)]);

    let done = m.get(invocation["href"].as_str().unwrap()).await;
    assert_eq!(done["output"], json!({"x": 100, "y": -50, "z": 2000}));
    assert_eq!(done["progress"], 100, "{done}");
    assert_eq!(
        m.get(&m.url("/stage/position")).await,
        json!({"x": 100, "y": -50, "z": 2000})
    );
    // The `moved` event says where from and where to.
    let event = moved.next().await.unwrap();
    assert_eq!(
        (event.from, event.to),
        (
            Position::default(),
            Position {
                x: 100,
                y: -50,
                z: 2000
            }
        )
    );
    let td = m.get(&m.url("/stage/")).await;
    assert!(td["events"]["moved"]["data"]["properties"]["duration_ms"].is_object());
    // Its states, and what each affordance allows.
    let state = &td["properties"]["state"];
    assert_eq!(state["enum"], json!(["Idle", "Moving", "Fault"]), "{state}");
    assert_eq!(
        (&state["lt:state"], &state["readOnly"], &state["observable"]),
        (&json!(true), &json!(true), &json!(true))
    );
    let allowed = |kind: &str, name: &str| td[kind][name]["lt:allowedStates"].clone();
    assert_eq!(allowed("properties", "limits"), json!(["Idle", "Fault"]));
    assert_eq!(allowed("properties", "speed"), Value::Null);
    assert_eq!(allowed("actions", "home"), json!(["Idle", "Fault"]));
    let policies: Vec<_> = ["move_to", "move_relative", "jog", "home"]
        .iter()
        .map(|a| td["actions"][a]["lt:exclusive"].clone())
        .collect();
    assert_eq!(
        policies,
        [
            json!("queue"),
            json!("queue"),
            json!("preempt"),
            json!("reject")
        ]
    );
    support::td::assert_valid("stage", &td);
}

/// The output of invocation `id`, once `ws` saw it complete.
async fn output_of(m: &Microscope, ws: &mut Socket, id: &str) -> Value {
    let (end, _) = until_finished(ws, id).await;
    assert_eq!(end, "completed", "{id}");
    m.get(&m.url(&format!("/action_invocations/{id}/output")))
        .await
}

#[tokio::test]
async fn moves_queue_a_jog_preempts_and_the_state_gates_the_rest() {
    let m = Microscope::start().await;
    // Slow enough that the move is still under way whatever happens next.
    assert_eq!(
        m.put("/stage/speed", json!(1000.0)).await,
        StatusCode::CREATED
    );
    let mut ws = m
        .watch("stage", &["state"], &["move_to", "move_relative", "jog"])
        .await;
    let (status, first) = m
        .post("/stage/move_to", json!({"x": 0, "y": 0, "z": 90_000}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let first = first["id"].as_str().unwrap().to_owned();
    next_matching(&mut ws, |m| m["data"]["state"] == "Moving").await;

    // A second move waits its turn.
    let (status, queued) = m
        .post("/stage/move_relative", json!({"dx": 1, "dy": 0, "dz": 0}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{queued}");
    assert_eq!(queued["status"], "pending", "{queued}");
    assert_eq!(queued["position"], 1, "{queued}");
    let queued = queued["id"].as_str().unwrap().to_owned();

    // While it moves, `home` and a `limits` write are refused (over HTTP and the Web Thing
    // Protocol alike), naming the state; nothing is queued for them.
    let moving = "'stage' is Moving: ";
    let (status, problem) = m.post("/stage/home", json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    let home_refused = problem["detail"].as_str().unwrap().to_owned();
    assert_eq!(
        home_refused,
        format!("{moving}action 'home' may be invoked only while it is Idle or Fault")
    );
    let limits = m.get(&m.url("/stage/limits")).await;
    let response = reqwest::Client::new()
        .put(m.url("/stage/limits"))
        .json(&limits)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let problem: Value = response.json().await.unwrap();
    let limits_refused = problem["detail"].as_str().unwrap().to_owned();
    assert!(limits_refused.starts_with(moving), "{limits_refused}");
    let mut wtp_socket = support::ws::connect_wtp(m.addr, "stage").await;
    for (message, detail) in [
        (wtp("invokeaction", json!({"name": "home"})), &home_refused),
        (
            wtp("writeproperty", json!({"name": "limits", "value": limits})),
            &limits_refused,
        ),
    ] {
        send(&mut wtp_socket, message).await;
        let refused = next(&mut wtp_socket).await;
        assert_eq!(refused["error"]["status"], 409, "{refused}");
        assert_eq!(&refused["error"]["detail"], detail.as_str(), "{refused}");
    }

    // A jog preempts the move under way, and runs before the queued one.
    let (status, jog) = m
        .post("/stage/jog", json!({"dx": 0, "dy": 0, "dz": -5}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{jog}");
    let jog = jog["id"].as_str().unwrap().to_owned();
    let (end, _) = until_finished(&mut ws, &first).await;
    assert_eq!(end, "cancelled");
    let record = m.get(&m.url(&format!("/action_invocations/{first}"))).await;
    let reason = record["error"]["detail"].as_str().unwrap_or_default();
    assert!(reason.contains(&jog), "{record}");
    let jogged = output_of(&m, &mut ws, &jog).await;
    assert!(jogged["z"].as_i64().unwrap() < 90_000, "{jogged}");
    let moved = output_of(&m, &mut ws, &queued).await;
    assert_eq!(
        moved,
        json!({"x": jogged["x"].as_i64().unwrap() + 1, "y": jogged["y"], "z": jogged["z"]}),
        "the queued move started from where the jog ended"
    );
    assert_eq!(m.get(&m.url("/stage/state")).await, "Idle");
    assert!(!m.stage.moving.get());

    // At rest, the stage takes both again.
    let (status, _) = m.post("/stage/home", json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_move_outside_the_limits_fails_with_a_clear_message() {
    let m = Microscope::start().await;
    let mut ws = m.watch("stage", &[], &["move_to"]).await;
    let (status, invocation) = m
        .post("/stage/move_to", json!({"x": 0, "y": 0, "z": 200_000}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (end, _) = until_finished(&mut ws, invocation["id"].as_str().unwrap()).await;
    assert_eq!(end, "error");
    let failed = m.get(invocation["href"].as_str().unwrap()).await;
    let detail = failed["error"]["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("outside the stage's limits"), "{failed}");
    assert_eq!(m.stage.position.get().z, 0, "it did not move");

    // Arguments are checked before anything runs: the schema says what each is.
    let (status, problem) = m
        .post("/stage/move_to", json!({"x": 0, "y": 0, "z": "high"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(
        m.put("/stage/speed", json!(0.5)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "below the speed's minimum"
    );
}

#[tokio::test]
async fn autofocus_finds_the_focus_through_its_slots() {
    let m = Microscope::start().await;
    let mut ws = m.watch("autofocus", &[], &["run"]).await;
    let (status, invocation) = m
        .post("/autofocus/run", json!({"range": 3000, "steps": 31}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{invocation}");
    let (end, _) = until_finished(&mut ws, invocation["id"].as_str().unwrap()).await;
    assert_eq!(end, "completed");
    let done = m.get(invocation["href"].as_str().unwrap()).await;
    let output = &done["output"];
    let best_z = output["best_z"].as_i64().unwrap();
    let step = 3000 / 30;
    assert!((best_z - 1234).abs() <= step, "{output}");
    let scores = output["scores"].as_array().unwrap();
    assert_eq!(scores.len(), 31);
    assert_eq!(
        m.stage.position.get().z,
        best_z,
        "the stage was left in focus"
    );
    let sharpness = m.get(&m.url("/camera/sharpness")).await.as_f64().unwrap();
    let best_score = scores
        .iter()
        .map(|s| s[1].as_f64().unwrap())
        .fold(f64::MIN, f64::max);
    assert_eq!(sharpness, best_score);

    // The TD says what the arguments are.
    let td = m.get(&m.url("/autofocus/")).await;
    let input = &td["actions"]["run"]["input"]["properties"];
    assert_eq!(input["range"]["unit"], "steps", "{input}");
    assert_eq!(input["steps"]["minimum"], 2, "{input}");
    support::td::assert_valid("autofocus", &td);
}

#[tokio::test]
async fn the_camera_warms_into_alarm_with_a_long_exposure() {
    let m = Microscope::start().await;
    let response = reqwest::get(m.url("/camera/sensor_temperature"))
        .await
        .unwrap();
    assert_eq!(response.headers()["labthings-quality"], "valid");
    let mut socket = support::ws::connect_wtp(m.addr, "camera").await;
    let observe = json!({"name": "sensor_temperature"});
    send(&mut socket, wtp("observeproperty", observe)).await;
    next(&mut socket).await;
    assert_eq!(
        m.put("/camera/exposure_ms", json!(900.0)).await,
        StatusCode::CREATED
    );
    // The sensor settles within a tenth of a second: its notification says how it stands.
    let alarm = next_matching(&mut socket, |n| n["quality"] == "alarm").await;
    assert_eq!(alarm["value"], json!(47.0), "{alarm}");
    assert_eq!(
        m.put("/camera/exposure_ms", json!(600.0)).await,
        StatusCode::CREATED
    );
    let warning = next_matching(&mut socket, |n| n["quality"] == "warning").await;
    assert_eq!(warning["value"], json!(38.0), "{warning}");
    let td: Value = reqwest::get(m.url("/camera/"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let property = &td["properties"]["sensor_temperature"];
    assert_eq!(
        property["lt:alarm"],
        json!({"minimum": 5.0, "maximum": 45.0}),
        "{property}"
    );
}
