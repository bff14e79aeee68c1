//! Time from invoking an action to learning that it completed, client by client: the Rust
//! client over the Web Thing Protocol WebSocket (a notification), the Rust client polling
//! (as against a server without a WebSocket form), and the LabThings-FastAPI 0.3.0 Python
//! client (which polls after 50 ms, then every 500 ms); against the labthings counter and,
//! for reference, a LabThings-FastAPI server with the same affordances.

use std::time::{Duration, Instant};

use labthings::client::Client;

use crate::servers::Server;
use crate::stats::Latencies;

/// Invoke `increment` `n` times in a row, timing each to its output.
async fn rust_client(url: &str, n: usize, websocket: bool) -> Latencies {
    let client = Client::builder()
        .actions_over_websocket(websocket)
        .build()
        .unwrap();
    let thing = client.thing(url).await.unwrap();
    // One call opens the WebSocket: not part of what is measured.
    let _: i64 = thing.invoke("increment", &()).await.unwrap();
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        let _: i64 = thing.invoke("increment", &()).await.unwrap();
        times.push(start.elapsed());
    }
    Latencies::new(times)
}

/// The Python client's times, from `tests/python/invoke_latency.py`.
fn python_client(python: &std::ffi::OsStr, url: &str, n: usize) -> Latencies {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/invoke_latency.py"
    );
    let output = std::process::Command::new(python)
        .args([script.as_ref(), url.as_ref(), n.to_string().as_ref()] as [&std::ffi::OsStr; 3])
        .output()
        .expect("the Python interpreter starts");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seconds: Vec<f64> = serde_json::from_slice(&output.stdout).expect("a JSON list");
    Latencies::new(seconds.into_iter().map(Duration::from_secs_f64).collect())
}

/// The LabThings-FastAPI server of `tests/python/counter_server.py`, killed when dropped.
struct PythonServer {
    child: std::process::Child,
    url: String,
}

impl PythonServer {
    fn start(python: &std::ffi::OsStr) -> Self {
        use std::io::BufRead;
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/python/counter_server.py"
        );
        let mut child = std::process::Command::new(python)
            .arg(script)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("the Python interpreter starts");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().strip_prefix("listening on ").expect("a port");
        Self {
            url: format!("http://127.0.0.1:{port}/counter/"),
            child,
        }
    }
}

impl Drop for PythonServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn row(client: &str, server: &str, latencies: &Latencies) {
    println!(
        "| {client} | {server} | {:.2} | {:.2} | {:.2} |",
        latencies.percentile_ms(50.0),
        latencies.percentile_ms(99.0),
        latencies.max_ms()
    );
}

/// Print the table; the Python rows need `python` (with labthings-fastapi 0.3.0).
pub(crate) async fn report(n: usize, python: Option<std::ffi::OsString>) {
    println!("\n## Invoke to completion: {n} invocations of `increment` in a row, per client\n");
    println!("| client | server | p50 ms | p99 ms | max ms |");
    println!("| --- | --- | ---: | ---: | ---: |");
    let mut server = Server::spawn("labthings", &[]);
    let url = format!("http://{}/counter/", server.addr);
    row(
        "Rust client, WebSocket notification",
        "labthings",
        &rust_client(&url, n, true).await,
    );
    row(
        "Rust client, polling (5 ms, doubling to 250 ms)",
        "labthings",
        &rust_client(&url, n, false).await,
    );
    let Some(python) = python else {
        println!("\n(the Python rows need --python, a Python with labthings-fastapi==0.3.0)");
        let _ = server.child.kill();
        return;
    };
    row(
        "LabThings-FastAPI Python client, polling (50 ms, then 500 ms)",
        "labthings",
        &python_client(&python, &url, n),
    );
    let _ = server.child.kill();
    let _ = server.child.wait();
    let fastapi = PythonServer::start(&python);
    row(
        "Rust client, polling (5 ms, doubling to 250 ms)",
        "LabThings-FastAPI",
        &rust_client(&fastapi.url, n, false).await,
    );
    row(
        "LabThings-FastAPI Python client, polling (50 ms, then 500 ms)",
        "LabThings-FastAPI",
        &python_client(&python, &fastapi.url, n),
    );
}
