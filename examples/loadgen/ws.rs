//! WebSocket load: a burst to one observer, fan-out to many, and idle connections.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::stats::Latencies;

pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The server side of a WebSocket scenario.
#[derive(Clone, Copy)]
pub(crate) enum Target {
    /// The labthings counter: `/counter/ws`, subscribe with `addPropertyObservation`.
    Labthings(SocketAddr),
    /// The bare axum server: `/ws`, every socket receives every broadcast.
    Baseline(SocketAddr),
}

impl Target {
    fn addr(self) -> SocketAddr {
        match self {
            Self::Labthings(a) | Self::Baseline(a) => a,
        }
    }

    /// Connect without subscribing to anything.
    pub(crate) async fn connect(self) -> Socket {
        let path = match self {
            Self::Labthings(_) => "/counter/ws",
            Self::Baseline(_) => "/ws",
        };
        let url = format!("ws://{}{path}", self.addr());
        tokio_tungstenite::connect_async(url).await.unwrap().0
    }

    /// Connect and observe `property`; returns once the subscription is in place.
    pub(crate) async fn observe(self, property: &str) -> Socket {
        let mut socket = self.connect().await;
        if let Self::Labthings(_) = self {
            let subscribe = json!({"messageType": "addPropertyObservation",
                                   "data": {property: true, "-": true}});
            socket
                .send(Message::text(subscribe.to_string()))
                .await
                .unwrap();
            // The error for "-" arrives after `property` was subscribed.
            next_json(&mut socket).await;
        }
        socket
    }

    async fn http(self, method: reqwest::Method, path: &str, body: String) {
        let url = format!("http://{}{path}", self.addr());
        let response = reqwest::Client::new()
            .request(method, url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
    }

    /// Make the server change the observed `count` `n` times as fast as it can.
    async fn burst(self, n: u64) {
        match self {
            Self::Labthings(_) => {
                self.http(
                    reqwest::Method::POST,
                    "/counter/increment_many",
                    json!({"n": n}).to_string(),
                )
                .await
            }
            Self::Baseline(_) => {
                self.http(
                    reqwest::Method::POST,
                    &format!("/burst?n={n}"),
                    String::new(),
                )
                .await
            }
        }
    }

    /// Write the observed `step`.
    pub(crate) async fn write(self, value: i64) {
        match self {
            Self::Labthings(_) => {
                self.http(reqwest::Method::PUT, "/counter/step", value.to_string())
                    .await
            }
            Self::Baseline(_) => {
                self.http(reqwest::Method::POST, "/publish", value.to_string())
                    .await
            }
        }
    }
}

async fn next_json(socket: &mut Socket) -> Option<Value> {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => return serde_json::from_str(&text).ok(),
            Ok(Some(Ok(_))) => continue,
            _ => return None,
        }
    }
}

/// What a burst measured.
pub(crate) struct Burst {
    pub(crate) received: u64,
    pub(crate) per_second: f64,
    pub(crate) final_value: i64,
}

/// One observer of `count`; the server changes it `n` times.
pub(crate) async fn burst(target: Target, n: u64) -> Burst {
    let mut socket = target.observe("count").await;
    let start_value = match target {
        Target::Labthings(addr) => reqwest::get(format!("http://{addr}/counter/count"))
            .await
            .unwrap()
            .json::<i64>()
            .await
            .unwrap(),
        Target::Baseline(_) => 0,
    };
    let goal = start_value + n as i64;
    let t0 = Instant::now();
    let trigger = tokio::spawn(async move { target.burst(n).await });
    let mut received = 0;
    let mut last = i64::MIN;
    while last != goal {
        let Some(m) = next_json(&mut socket).await else {
            break;
        };
        if let Some(v) = m["data"]["count"].as_i64() {
            received += 1;
            last = v;
        }
    }
    let elapsed = t0.elapsed().as_secs_f64();
    trigger.await.unwrap();
    Burst {
        received,
        per_second: received as f64 / elapsed,
        final_value: last - start_value,
    }
}

/// What a fan-out measured.
pub(crate) struct FanOut {
    pub(crate) latencies: Latencies,
    pub(crate) missed: u64,
    pub(crate) all_saw_final: bool,
}

impl FanOut {
    /// The tally of what each subscriber `seen` (values with when they arrived), against
    /// when each value was written (`times[value]`), for values 1 to `writes`: a latency per
    /// first arrival of each value, what never arrived, whether all ended on the last.
    pub(crate) fn tally(
        seen: impl IntoIterator<Item = Vec<(i64, Instant)>>,
        times: &[Option<Instant>],
        writes: i64,
    ) -> Self {
        let mut latencies = Vec::new();
        let (mut expected, mut received) = (0u64, 0u64);
        let mut all_saw_final = true;
        for seen in seen {
            expected += writes as u64;
            all_saw_final &= seen.last().is_some_and(|(v, _)| *v == writes);
            let mut distinct = std::collections::HashSet::new();
            for (v, at) in seen {
                if let Some(Some(sent)) = times.get(v as usize)
                    && distinct.insert(v)
                {
                    latencies.push(at.saturating_duration_since(*sent));
                }
            }
            received += distinct.len() as u64;
        }
        Self {
            latencies: Latencies::new(latencies),
            missed: expected - received,
            all_saw_final,
        }
    }
}

/// `observers` observers of `step`; `writes` writes `gap` apart; latency from each write.
pub(crate) async fn fan_out(
    target: Target,
    observers: usize,
    writes: i64,
    gap: Duration,
) -> FanOut {
    let mut sockets = Vec::with_capacity(observers);
    for chunk in (0..observers).collect::<Vec<_>>().chunks(100) {
        let connecting: Vec<_> = chunk
            .iter()
            .map(|_| tokio::spawn(async move { target.observe("step").await }))
            .collect();
        for c in connecting {
            sockets.push(c.await.unwrap());
        }
    }
    let write_times: Arc<std::sync::Mutex<Vec<Option<Instant>>>> =
        Arc::new(std::sync::Mutex::new(vec![None; writes as usize + 1]));
    let readers: Vec<_> = sockets
        .into_iter()
        .map(|mut socket| {
            tokio::spawn(async move {
                let mut seen = Vec::new();
                loop {
                    let Some(m) = next_json(&mut socket).await else {
                        break;
                    };
                    if let Some(v) = m["data"]["step"].as_i64() {
                        seen.push((v, Instant::now()));
                        if v == writes {
                            break;
                        }
                    }
                }
                seen
            })
        })
        .collect();
    for value in 1..=writes {
        write_times.lock().unwrap()[value as usize] = Some(Instant::now());
        target.write(value).await;
        tokio::time::sleep(gap).await;
    }
    let times = write_times.lock().unwrap().clone();
    let mut seen = Vec::with_capacity(observers);
    for reader in readers {
        seen.push(reader.await.unwrap());
    }
    FanOut::tally(seen, &times, writes)
}

/// Open `n` idle WebSockets and keep them open until the returned sockets are dropped.
pub(crate) async fn idle(target: Target, n: usize) -> Vec<Socket> {
    let mut sockets = Vec::with_capacity(n);
    for chunk in (0..n).collect::<Vec<_>>().chunks(100) {
        let connecting: Vec<_> = chunk
            .iter()
            .map(|_| tokio::spawn(async move { target.connect().await }))
            .collect();
        for c in connecting {
            sockets.push(c.await.unwrap());
        }
    }
    sockets
}
