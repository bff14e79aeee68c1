//! The microscope example as a program: settings that survive a restart and a `kill -9` at any
//! moment, and slot mistakes refused before the port opens. Runs the built `microscope`
//! example: `cargo test --workspace` builds it; to run this file alone, `cargo build
//! --examples` first.

use std::hash::{BuildHasher, RandomState};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

mod support;

fn microscope() -> Command {
    support::program::example("microscope")
}

/// The running program and the base URL it printed once listening.
fn spawn(args: &[&str]) -> (Child, String) {
    spawn_with(args, Stdio::null())
}

fn spawn_with(args: &[&str], stderr: Stdio) -> (Child, String) {
    support::program::listening(microscope().args(["--port", "0"]).args(args).stderr(stderr))
}

fn terminate(child: Child) {
    let exit = support::program::terminate(child);
    assert!(exit.success(), "graceful shutdown exits 0, got {exit}");
}

async fn get(url: String) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

async fn put(client: &reqwest::Client, url: String, value: Value) -> reqwest::StatusCode {
    client.put(url).json(&value).send().await.unwrap().status()
}

fn settings_of(dir: &Path, thing: &str) -> Value {
    let text = std::fs::read_to_string(dir.join(format!("{thing}.json"))).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{thing}.json: {e}: {text:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().to_str().unwrap();
    let client = reqwest::Client::new();
    let (child, base) = spawn(&["--settings", settings]);
    assert_eq!(get(format!("{base}stage/speed")).await, 20_000.0);
    assert!(
        !dir.path().join("stage.json").exists(),
        "nothing is written until a value changes"
    );
    let limits = json!({"min": {"x": -10, "y": -10, "z": -500},
                        "max": {"x": 10, "y": 10, "z": 500}});
    for (path, value) in [
        ("stage/speed", json!(5000.0)),
        ("stage/limits", limits.clone()),
        ("camera/exposure_ms", json!(2.5)),
        ("autofocus/default_range", json!(800)),
    ] {
        assert_eq!(put(&client, format!("{base}{path}"), value).await, 201);
    }
    terminate(child);
    assert_eq!(settings_of(dir.path(), "stage")["speed"], 5000.0);

    let (child, base) = spawn(&["--settings", settings]);
    assert_eq!(get(format!("{base}stage/speed")).await, 5000.0);
    assert_eq!(get(format!("{base}stage/limits")).await, limits);
    assert_eq!(get(format!("{base}camera/exposure_ms")).await, 2.5);
    assert_eq!(get(format!("{base}autofocus/default_range")).await, 800);
    // The limits that were read back are the ones that hold.
    let moved: Value = client
        .post(format!("{base}stage/move_to"))
        .json(&json!({"x": 0, "y": 0, "z": 600}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let href = moved["href"].as_str().unwrap().to_owned();
    let ended = loop {
        let status = get(href.clone()).await;
        if !matches!(status["status"].as_str(), Some("pending" | "running")) {
            break status;
        }
    };
    assert_eq!(ended["status"], "error", "{ended}");
    let detail = ended["error"]["detail"].as_str().unwrap();
    assert!(detail.contains("outside the stage's limits"), "{detail}");
    terminate(child);
}

/// A random number of milliseconds below `max`.
fn random_ms(max: u64) -> u64 {
    RandomState::new().hash_one(std::time::SystemTime::now()) % max
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_survive_kill_9_at_any_moment() {
    const KILLS: usize = 100;
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().to_str().unwrap();
    let client = reqwest::Client::new();
    let mut written: Vec<f64> = vec![20_000.0];
    let mut next = 1.0;
    let mut saved_runs = 0;
    let mut last_saved = None;
    for kill in 0..KILLS {
        let (mut child, base) = spawn(&["--settings", settings]);
        // What the last run left is what this one starts with.
        if dir.path().join("stage.json").exists() {
            let saved = settings_of(dir.path(), "stage")["speed"].as_f64().unwrap();
            assert_eq!(
                get(format!("{base}stage/speed")).await,
                saved,
                "run {kill} did not start from its file"
            );
        }
        let url = format!("{base}stage/speed");
        let writer = {
            let (client, url) = (client.clone(), url.clone());
            let first = next;
            tokio::spawn(async move {
                let mut value = first;
                loop {
                    // Errors are expected once the process is killed.
                    match client.put(&url).json(&value).send().await {
                        Ok(r) => assert_eq!(r.status(), 201, "{value} was refused"),
                        Err(_) => return value,
                    }
                    value += 1.0;
                }
            })
        };
        // Every other run first waits for a save of its own, so that kills land among saves
        // however slow the disk is today.
        if kill % 2 == 0 {
            let file = dir.path().join("stage.json");
            let saved = |file: &std::path::Path| {
                std::fs::read_to_string(file)
                    .ok()
                    .and_then(|text| serde_json::from_str::<Value>(&text).ok())
                    .and_then(|value| value["speed"].as_f64())
            };
            let start = saved(&file);
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            while saved(&file) == start {
                assert!(
                    std::time::Instant::now() < deadline,
                    "run {kill} never saved"
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        // Saving is coalesced every 100 ms: kill anywhere across a few saves.
        tokio::time::sleep(Duration::from_millis(random_ms(350))).await;
        child.kill().unwrap();
        child.wait().unwrap();
        // Every value the writer sent counts as written, including the one in flight.
        let last = writer.await.unwrap();
        while next <= last {
            written.push(next);
            next += 1.0;
        }

        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".json") {
                let text = std::fs::read_to_string(&path).unwrap();
                let value: Value = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("kill {kill}: {name} is cut: {e}: {text:?}"));
                if name == "stage.json" {
                    let speed = value["speed"].as_f64().unwrap();
                    assert!(
                        written.contains(&speed),
                        "kill {kill}: stage.json holds {speed}, never written"
                    );
                    if last_saved != Some(speed) {
                        saved_runs += 1;
                        last_saved = Some(speed);
                    }
                }
            }
        }
    }
    // Most runs lived past a save: the kills fell among saves, not before the first.
    assert!(
        saved_runs >= KILLS / 4,
        "only {saved_runs} of {KILLS} runs saved before they were killed"
    );
    eprintln!("{saved_runs} of {KILLS} runs saved before they were killed");
}

#[test]
fn slot_mistakes_are_listed_and_exit_2_before_listening() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "missing.toml",
            "[things.camera]\ntype = \"Camera\"\n",
            vec!["Thing 'camera', slot `stage`: no Thing of this server is a `Stage`"],
        ),
        (
            "ambiguous.toml",
            "[things.left]\ntype = \"Stage\"\n[things.right]\ntype = \"Stage\"\n[things.camera]\ntype = \"Camera\"\n",
            vec!["Thing 'camera', slot `stage`: 2 could fill it ('left', 'right')"],
        ),
        (
            "wrong-type.toml",
            "[things.stage]\ntype = \"Stage\"\n[things.camera]\ntype = \"Camera\"\nslots = { stage = \"af\" }\n[things.af]\ntype = \"Autofocus\"\nslots = { stage = \"camera\", camera = \"nowhere\" }\n",
            vec![
                "Thing 'camera', slot `stage`: the configuration names 'af', a `Autofocus`, but the slot holds a `Stage`",
                "Thing 'af', slot `stage`: the configuration names 'camera', a `Camera`, but the slot holds a `Stage`",
                "Thing 'af', slot `camera`: the configuration names 'nowhere', which is not a Thing of this server",
            ],
        ),
    ];
    for (name, text, problems) in cases {
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        let out = microscope()
            .args(["--port", "0", "--config", file.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(out.stdout.is_empty(), "{name}: it listened");
        let stderr = String::from_utf8_lossy(&out.stderr);
        for problem in problems {
            let line = format!("{}: {problem}", file.display());
            assert!(stderr.contains(&line), "{name}: no {line:?} in\n{stderr}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_camera_streams_end_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (child, base) = spawn_with(
        &["--settings", dir.path().to_str().unwrap()],
        Stdio::piped(),
    );
    let mut viewers = Vec::new();
    for _ in 0..3 {
        let mut response = reqwest::get(format!("{base}camera/preview")).await.unwrap();
        // Streaming: a first frame arrived.
        assert!(response.chunk().await.unwrap().is_some());
        viewers.push(response);
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // Each stream ends (cleanly, not cut off by the shutdown deadline).
    for mut viewer in viewers {
        while let Some(chunk) = viewer.chunk().await.expect("the stream ends cleanly") {
            drop(chunk);
        }
    }
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{:?}", output.status);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("deadline"), "{stderr}");
}
