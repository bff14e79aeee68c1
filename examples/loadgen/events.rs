//! Event load: throughput of one event to one subscriber (Web Thing Protocol, Server-Sent
//! Events), and fan-out of each emission to many subscribers.
//!
//! The labthings counter emits `ticked` (`POST /counter/tick {"n": N}` emits 1..=N); the bare
//! axum ceiling broadcasts the same number of messages from a `tokio::sync::broadcast` channel
//! to its WebSocket (`/ws`) and SSE (`/sse`) clients.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::stats::Latencies;
use crate::ws::{Socket, Target};

/// Connect a small-buffered client (ten thousand of them must fit in memory), subscribed to
/// what the target emits.
async fn subscriber(target: Target) -> Socket {
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    match target {
        Target::Labthings(addr) => {
            let mut request = format!("ws://{addr}/counter/ws")
                .into_client_request()
                .unwrap();
            request.headers_mut().insert(
                "Sec-WebSocket-Protocol",
                "webthingprotocol".parse().unwrap(),
            );
            let mut socket =
                tokio_tungstenite::connect_async_with_config(request, Some(config), true)
                    .await
                    .unwrap()
                    .0;
            let subscribe = json!({"thingID": "counter", "messageID": "s", "messageType": "request",
                                   "operation": "subscribeevent", "name": "ticked"});
            socket
                .send(Message::text(subscribe.to_string()))
                .await
                .unwrap();
            // The response: the subscription is in place.
            next_text(&mut socket).await;
            socket
        }
        Target::Baseline(addr) => {
            tokio_tungstenite::connect_async_with_config(
                format!("ws://{addr}/ws"),
                Some(config),
                true,
            )
            .await
            .unwrap()
            .0
        }
    }
}

async fn next_text(socket: &mut Socket) -> Option<String> {
    loop {
        match tokio::time::timeout(Duration::from_secs(20), socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => return Some(text.to_string()),
            Ok(Some(Ok(_))) => continue,
            _ => return None,
        }
    }
}

/// Make the target emit `n` messages as fast as it can.
async fn emit(target: Target, n: u64) {
    let client = reqwest::Client::new();
    let request = match target {
        Target::Labthings(addr) => client
            .post(format!("http://{addr}/counter/tick"))
            .header("content-type", "application/json")
            .body(json!({"n": n}).to_string()),
        Target::Baseline(addr) => client.post(format!("http://{addr}/burst?n={n}")),
    };
    let response = request.send().await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
}

/// What a throughput run measured.
pub(crate) struct Throughput {
    pub(crate) received: u64,
    pub(crate) per_second: f64,
}

/// One Web Thing Protocol subscriber; the target emits `n` events.
pub(crate) async fn websocket(target: Target, n: u64) -> Throughput {
    let mut socket = subscriber(target).await;
    let t0 = Instant::now();
    let trigger = tokio::spawn(emit(target, n));
    let mut received = 0;
    while received < n {
        if next_text(&mut socket).await.is_none() {
            break;
        }
        received += 1;
    }
    let elapsed = t0.elapsed().as_secs_f64();
    trigger.await.unwrap();
    Throughput {
        received,
        per_second: received as f64 / elapsed,
    }
}

/// One Server-Sent Events subscriber; the target emits `n` events.
pub(crate) async fn sse(target: Target, n: u64) -> Throughput {
    let url = match target {
        Target::Labthings(addr) => format!("http://{addr}/counter/ticked"),
        Target::Baseline(addr) => format!("http://{addr}/sse"),
    };
    let mut response = reqwest::Client::new()
        .get(url)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let t0 = Instant::now();
    let trigger = tokio::spawn(emit(target, n));
    let mut received = 0;
    let mut pending = String::new();
    while received < n {
        let Ok(Ok(Some(chunk))) =
            tokio::time::timeout(Duration::from_secs(20), response.chunk()).await
        else {
            break;
        };
        pending.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = pending.find("\n\n") {
            if pending[..end].contains("data:") {
                received += 1;
            }
            pending.drain(..end + 2);
        }
    }
    let elapsed = t0.elapsed().as_secs_f64();
    trigger.await.unwrap();
    Throughput {
        received,
        per_second: received as f64 / elapsed,
    }
}

/// What a fan-out measured.
pub(crate) struct FanOut {
    pub(crate) latencies: Latencies,
    pub(crate) missed: u64,
}

/// `subscribers` subscribers; the target emits one event `emissions` times, `gap` apart;
/// latency from each emission's request to its arrival at each subscriber. Every subscriber
/// receives the emissions in order, so the k-th message is the k-th emission.
pub(crate) async fn fan_out(
    target: Target,
    subscribers: usize,
    emissions: usize,
    gap: Duration,
) -> FanOut {
    let mut sockets = Vec::with_capacity(subscribers);
    for chunk in (0..subscribers).collect::<Vec<_>>().chunks(200) {
        let connecting: Vec<_> = chunk
            .iter()
            .map(|_| tokio::spawn(subscriber(target)))
            .collect();
        for c in connecting {
            sockets.push(c.await.unwrap());
        }
    }
    let sent: Arc<Mutex<Vec<Instant>>> = Arc::new(Mutex::new(Vec::new()));
    let readers: Vec<_> = sockets
        .into_iter()
        .map(|mut socket| {
            tokio::spawn(async move {
                let mut arrivals = Vec::with_capacity(emissions);
                while arrivals.len() < emissions {
                    let Some(text) = next_text(&mut socket).await else {
                        break;
                    };
                    // Labthings: notifications only; the ceiling: everything it sends.
                    let notification = serde_json::from_str::<Value>(&text)
                        .is_ok_and(|m| m.get("messageType").is_none_or(|t| t != "response"));
                    if notification {
                        arrivals.push(Instant::now());
                    }
                }
                arrivals
            })
        })
        .collect();
    for _ in 0..emissions {
        sent.lock().unwrap().push(Instant::now());
        emit(target, 1).await;
        tokio::time::sleep(gap).await;
    }
    let sent = sent.lock().unwrap().clone();
    let mut latencies = Vec::new();
    let mut received = 0u64;
    for reader in readers {
        let arrivals = reader.await.unwrap();
        received += arrivals.len() as u64;
        for (k, at) in arrivals.into_iter().enumerate() {
            latencies.push(at.saturating_duration_since(sent[k]));
        }
    }
    FanOut {
        latencies: Latencies::new(latencies),
        missed: (subscribers * emissions) as u64 - received,
    }
}
