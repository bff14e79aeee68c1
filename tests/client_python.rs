//! The Rust client drives a LabThings-FastAPI 0.3.0 server (`tests/python/counter_server.py`, a
//! Thing with the example counter's affordances): its TD has no WebSocket form, so actions are
//! polled and properties observed over its own WebSocket dialect. The Python interpreter (with
//! `labthings-fastapi==0.3.0` installed) is `LABTHINGS_PYTHON`; `./test.sh` creates one in a
//! virtualenv. Compiled only with the `interop` feature (`./test.sh` sets the parts up and
//! turns it on); without the part the test fails.

#![cfg(feature = "interop")]

#[path = "../examples/things/counter.rs"]
#[allow(dead_code)]
mod counter;
mod support;

use counter::CounterClient;
use futures_util::StreamExt;
use labthings::client::{Client, ClientError, TypedClient};
use serde_json::json;
use tokio::io::AsyncBufReadExt;

/// The LabThings-FastAPI server, killed when dropped.
struct PythonServer {
    _child: tokio::process::Child,
    url: String,
}

/// Start the Python server (the test fails without a Python that has LabThings-FastAPI).
async fn python_server() -> PythonServer {
    let python = support::needs::python("the client test against LabThings-FastAPI");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/counter_server.py"
    );
    let mut child = tokio::process::Command::new(python)
        .arg(script)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the Python interpreter starts");
    let stdout = child.stdout.take().unwrap();
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let line = lines
        .next_line()
        .await
        .unwrap()
        .expect("the server says where it listens");
    let port = line
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line}"));
    PythonServer {
        _child: child,
        url: format!("http://127.0.0.1:{port}/counter/"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_drives_a_labthings_fastapi_server() {
    let server = python_server().await;
    // The server answers once its lifespan has started.
    let thing = Client::new().thing(&server.url).await.unwrap();
    assert_eq!(thing.title(), Some("Counter"));
    assert!(
        thing.description()["properties"]["count"]["forms"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["href"].as_str().unwrap().starts_with('/')),
        "LabThings-FastAPI's TD has HTTP forms only"
    );

    assert_eq!(thing.read::<i64>("count").await.unwrap(), 0);
    assert_eq!(thing.read::<f64>("temperature").await.unwrap(), 21.5);
    thing.write("step", &5).await.unwrap();
    assert_eq!(thing.read::<i64>("step").await.unwrap(), 5);
    // FastAPI's validation error, as problem details.
    let error = thing.write("step", &500).await.unwrap_err();
    assert_eq!(error.status(), Some(422), "{error}");
    let detail = &error.problem().unwrap().detail;
    assert!(detail.contains("less than or equal to 100"), "{detail}");
    assert!(matches!(
        thing.write("count", &3).await,
        Err(ClientError::Unsupported(_))
    ));

    // Observed over LabThings-FastAPI's own WebSocket dialect; invoked and polled over HTTP.
    let mut counts = thing.observe::<i64>("count").await.unwrap();
    // Its dialect never acknowledges a subscription: wait until one change has come through.
    let mut count: i64 = thing.invoke("increment", &()).await.unwrap();
    assert_eq!(count, 5);
    for attempt in 0.. {
        assert!(attempt < 20, "no change was observed in 20 attempts");
        let _: i64 = thing.invoke("add", &json!({"n": 1})).await.unwrap();
        count += 1;
        let seen = tokio::time::timeout(std::time::Duration::from_millis(500), counts.next()).await;
        if let Ok(seen) = seen {
            assert!(seen.unwrap().unwrap() <= count);
            break;
        }
    }
    let expected: i64 = thing.invoke("increment", &()).await.unwrap();
    // Every change is delivered, in order: the stream reaches the final value.
    while counts.next().await.unwrap().unwrap() != expected {}

    // An action that fails: its exception, as LabThings-FastAPI's client reports it.
    let error = thing.invoke::<_, ()>("fail", &()).await.unwrap_err();
    let ClientError::ActionFailed(problem) = &error else {
        panic!("{error}");
    };
    assert!(problem.detail.contains("This never works!"), "{problem:?}");

    // Cancelled with DELETE on the invocation.
    let wait = thing
        .start::<_, ()>("wait", &json!({"seconds": 600}))
        .await
        .unwrap();
    wait.cancel().await.unwrap();
    let error = wait.wait().await.unwrap_err();
    assert!(matches!(error, ClientError::Cancelled(_)), "{error}");

    // The typed client of this crate's counter works against the Python Thing too.
    let typed = CounterClient::from_thing(thing.clone());
    let before = typed.count().read().await.unwrap();
    typed.step().write(2).await.unwrap();
    assert_eq!(typed.increment().await.unwrap(), before + 2);
    assert_eq!(typed.add(3).await.unwrap(), before + 5);
}
