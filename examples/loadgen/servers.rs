//! The two servers under test, each run as a child process of the load generator: the
//! labthings counter, and a bare axum server (the ceiling of the stack).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::broadcast;

use crate::counter::Counter;

/// A server child process and the address it listens on.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) addr: SocketAddr,
}

impl Server {
    /// Start `loadgen serve-<kind>` and read the address it prints.
    pub(crate) fn spawn(kind: &str) -> Self {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .arg(format!("serve-{kind}"))
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("bad address {line:?}"));
        Self { child, addr }
    }

    /// Resident memory of the server process, in bytes.
    pub(crate) fn rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap();
        kb * 1024
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn listen_and_print(router: Router) {
    use axum::serve::ListenerExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("{}", listener.local_addr().unwrap());
    let listener = listener.tap_io(|stream| {
        let _ = stream.set_nodelay(true);
    });
    axum::serve(listener, router).await.unwrap();
}

/// `loadgen serve-labthings`: the counter, served as a program serves it.
pub(crate) async fn serve_labthings() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("{}", listener.local_addr().unwrap());
    labthings::ThingServer::new()
        .thing("counter", Counter::new())
        .serve(listener)
        .await
        .unwrap();
}

#[derive(Clone)]
struct Baseline {
    value: Arc<AtomicI64>,
    tx: broadcast::Sender<String>,
}

/// `loadgen serve-baseline`: a constant JSON route, a PUT that parses its body, and a
/// WebSocket route fed by a `tokio::sync::broadcast` channel.
pub(crate) async fn serve_baseline() {
    let (tx, _) = broadcast::channel(16_384);
    let state = Baseline {
        value: Arc::new(AtomicI64::new(5)),
        tx,
    };
    let router = Router::new()
        .route("/value", get(get_value).put(put_value))
        .route("/ws", get(ws))
        .route("/publish", post(publish))
        .route("/burst", post(burst))
        .with_state(state);
    listen_and_print(router).await;
}

async fn get_value(State(s): State<Baseline>) -> Response {
    let body = s.value.load(Ordering::Relaxed).to_string();
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn put_value(State(s): State<Baseline>, body: Bytes) -> Response {
    match serde_json::from_slice::<i64>(&body) {
        Ok(v) => {
            s.value.store(v, Ordering::Relaxed);
            (
                StatusCode::CREATED,
                [(header::CONTENT_TYPE, "application/json")],
                "null",
            )
                .into_response()
        }
        Err(_) => StatusCode::UNPROCESSABLE_ENTITY.into_response(),
    }
}

async fn publish(State(s): State<Baseline>, body: String) -> StatusCode {
    let v: i64 = body.trim().parse().unwrap_or_default();
    let _ = s.tx.send(format!(
        r#"{{"messageType":"propertyStatus","data":{{"step":{v}}}}}"#
    ));
    StatusCode::CREATED
}

#[derive(serde::Deserialize)]
struct BurstQuery {
    n: i64,
}

async fn burst(State(s): State<Baseline>, Query(q): Query<BurstQuery>) -> StatusCode {
    for i in 1..=q.n {
        let _ = s.tx.send(format!(
            r#"{{"messageType":"propertyStatus","data":{{"count":{i}}}}}"#
        ));
    }
    StatusCode::CREATED
}

async fn ws(State(s): State<Baseline>, upgrade: WebSocketUpgrade) -> Response {
    // Subscribed before the handshake completes, as labthings subscribes before answering.
    let rx = s.tx.subscribe();
    upgrade.on_upgrade(move |socket| relay(socket, rx))
}

async fn relay(mut socket: WebSocket, mut rx: broadcast::Receiver<String>) {
    loop {
        tokio::select! {
            message = rx.recv() => match message {
                Ok(text) => {
                    if socket.send(Message::text(text)).await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(_)) => {}
                _ => return,
            },
        }
    }
}
