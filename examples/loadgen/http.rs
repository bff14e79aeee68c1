//! HTTP load: a fixed number of keep-alive connections, each sending requests back to back
//! for a fixed time.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;

use crate::stats::Latencies;

/// What one load run measured.
pub(crate) struct HttpResult {
    pub(crate) requests: u64,
    pub(crate) errors: u64,
    pub(crate) per_second: f64,
    pub(crate) latencies: Latencies,
}

impl HttpResult {
    /// Several runs as one: their requests, errors and latencies, and the mean rate.
    pub(crate) fn merge(runs: Vec<HttpResult>) -> HttpResult {
        let n = runs.len().max(1) as f64;
        let per_second = runs.iter().map(|r| r.per_second).sum::<f64>() / n;
        let (mut requests, mut errors, mut all) = (0, 0, Vec::new());
        for run in runs {
            requests += run.requests;
            errors += run.errors;
            all.extend(run.latencies.into_samples());
        }
        HttpResult {
            requests,
            errors,
            per_second,
            latencies: Latencies::new(all),
        }
    }
}

/// How the load generator talks to a server: with a bearer token, over TLS.
#[derive(Clone, Default)]
pub(crate) struct Client {
    /// The `Authorization` header to send.
    pub(crate) token: Option<String>,
    /// TLS, trusting the server's certificate (for the name `localhost`).
    pub(crate) tls: Option<tokio_rustls::TlsConnector>,
}

/// Load `path` with `connections` plain connections for `duration`.
pub(crate) async fn load(
    addr: SocketAddr,
    method: Method,
    path: &'static str,
    body: &'static str,
    connections: usize,
    duration: Duration,
) -> HttpResult {
    Client::default()
        .load(addr, method, path, body, connections, duration)
        .await
}

impl Client {
    /// Load `path` with `connections` connections for `duration`.
    pub(crate) async fn load(
        &self,
        addr: SocketAddr,
        method: Method,
        path: &'static str,
        body: &'static str,
        connections: usize,
        duration: Duration,
    ) -> HttpResult {
        load_with(self, addr, method, path, body, connections, duration).await
    }
}

async fn load_with(
    client: &Client,
    addr: SocketAddr,
    method: Method,
    path: &'static str,
    body: &'static str,
    connections: usize,
    duration: Duration,
) -> HttpResult {
    let start = Instant::now();
    let deadline = start + duration;
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let method = method.clone();
            let client = client.clone();
            tokio::spawn(
                async move { connection(&client, addr, method, path, body, deadline).await },
            )
        })
        .collect();
    let mut all = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (latencies, e) = task.await.unwrap();
        all.extend(latencies);
        errors += e;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let requests = all.len() as u64 + errors;
    HttpResult {
        requests,
        errors,
        per_second: all.len() as f64 / elapsed,
        latencies: Latencies::new(all),
    }
}

/// A connection ready to send requests, over TLS when the client says so.
async fn open(
    client: &Client,
    addr: SocketAddr,
) -> hyper::client::conn::http1::SendRequest<Full<Bytes>> {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    match &client.tls {
        None => {
            let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .unwrap();
            tokio::spawn(conn);
            sender
        }
        Some(connector) => {
            let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
            let stream = connector.connect(name, stream).await.unwrap();
            let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .unwrap();
            tokio::spawn(conn);
            sender
        }
    }
}

async fn connection(
    client: &Client,
    addr: SocketAddr,
    method: Method,
    path: &'static str,
    body: &'static str,
    deadline: Instant,
) -> (Vec<Duration>, u64) {
    let mut sender = open(client, addr).await;
    let host = if client.tls.is_some() {
        format!("localhost:{}", addr.port())
    } else {
        addr.to_string()
    };
    let mut latencies = Vec::with_capacity(65_536);
    let mut errors = 0;
    while Instant::now() < deadline {
        let mut request = Request::builder()
            .method(method.clone())
            .uri(path)
            .header("host", &host);
        if !body.is_empty() {
            request = request.header("content-type", "application/json");
        }
        if let Some(token) = &client.token {
            request = request.header("authorization", token);
        }
        let request = request
            .body(Full::new(Bytes::from_static(body.as_bytes())))
            .unwrap();
        let sent = Instant::now();
        match sender.send_request(request).await {
            Ok(response) => {
                let ok = response.status().is_success();
                let collected = response.into_body().collect().await;
                if ok && collected.is_ok() {
                    latencies.push(sent.elapsed());
                } else {
                    errors += 1;
                }
            }
            Err(_) => {
                errors += 1;
                break;
            }
        }
    }
    (latencies, errors)
}
